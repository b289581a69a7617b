"""The reference: a straightforward NumPy (BLAS) training step of the same MLP, for the speed comparison.

One step = forward (784 → 128 ReLU → 10, softmax cross-entropy) + backward + θ ← θ − η·g, at float32, on a
mini-batch of MNIST rows. This is what a NumPy programmer would write; NumPy's matmul calls the BLAS.
"""
import numpy as np


class NumpyMLP:
    def __init__(self, sizes=(784, 128, 10), seed=0):
        rng = np.random.default_rng(seed)
        self.W = [rng.normal(0, 0.01, (a, b)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(b, np.float32) for b in sizes[1:]]

    def step(self, X, y, lr):
        acts = [X]
        h = X
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            h = h @ W + b
            if i < len(self.W) - 1:
                h = np.maximum(h, 0)
            acts.append(h)
        z = acts[-1] - acts[-1].max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(len(y)), y]).mean()
        delta = p
        delta[np.arange(len(y)), y] -= 1
        delta /= len(y)
        for i in range(len(self.W) - 1, -1, -1):
            gW = acts[i].T @ delta
            gb = delta.sum(axis=0)
            if i > 0:
                delta = (delta @ self.W[i].T) * (acts[i] > 0)
            self.W[i] -= lr * gW
            self.b[i] -= lr * gb
        return loss


def flops_per_step(sizes, batch):
    """Multiply-adds of the dense step counted as 2 flops: forward, weight gradients, input gradients."""
    fwd = sum(2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    wgrad = fwd
    igrad = sum(2 * batch * a * b for a, b in zip(sizes[1:-1], sizes[2:]))
    return fwd + wgrad + igrad
