"""The multi-layer perceptron of the Leashed-SGD paper: 784 -> hidden... (ReLU) -> 10, softmax cross-entropy.

Everything here runs inside the engine's worker threads, so every function is nopython, nogil and cached,
allocates nothing, and only reads `theta`: in Leashed-SGD the vector a thread computes on is a published
version that other threads read at the same time.

Parameter layout in the flat float32 vector theta, for dims = [d0, d1, ..., dL] (d0 = 784, dL = 10), layer
by layer:

    W1 [d0, d1] row-major, b1 [d1], W2 [d1, d2], b2 [d2], ..., WL [d(L-1), dL], bL [dL]

W is stored input-major (row k holds all weights leaving input k) so that the hot loops run over contiguous
memory: the forward pass adds x[k] * W[k, :] to a row of outputs, and the weight gradient is a sum of
x[k] * delta[:] rows. About 80% of MNIST pixels are exactly 0, and both passes of the first layer skip
zero pixels, which skips the work and the memory traffic of their W1 rows. (So a NaN in a W1 row whose
pixel is 0 throughout the batch does not reach the loss, exactly as it has no effect on the output;
SGD itself never changes such a row, since its gradient is 0.)

Workspace (see workspace_floats): an index of the batch's nonzero pixels, then every layer's outputs. The
backward pass overwrites each layer's outputs with their gradients in place, so no second buffer is needed.
"""
import math

import numpy as np
from numba import njit

# 'reassoc' lets LLVM vectorise the dot-product reductions. Deliberately no 'nnan'/'ninf': a diverged
# model must produce a NaN/inf loss that the engine can see, not whatever LLVM assumes instead.
FAST = {"reassoc", "contract", "nsz", "arcp"}


def n_params(dims) -> int:
    return int(sum(int(dims[i]) * int(dims[i + 1]) + int(dims[i + 1]) for i in range(len(dims) - 1)))


@njit(nogil=True, cache=True)
def workspace_floats(dims, n):
    """Workspace for a block of n samples: the batch_nonzeros index (starts, then sample ids and values,
    each up to n * d0 long), then every layer's outputs, [n, d] per layer."""
    d0 = dims[0]
    outputs = 0
    for i in range(1, len(dims)):
        outputs += dims[i]
    return d0 + 1 + n * (2 * d0 + outputs)


@njit(nogil=True, cache=True)
def rows_that_fit(dims, length):
    return (length - workspace_floats(dims, 0)) // (workspace_floats(dims, 1) - workspace_floats(dims, 0))


@njit(nogil=True, cache=True)
def split_workspace(dims, n, work):
    d0 = dims[0]
    starts = work[0:d0 + 1].view(np.int32)  # int32 views: the contract hands out one float32 scratch array
    nz_b = work[d0 + 1:d0 + 1 + n * d0].view(np.int32)
    nz_x = work[d0 + 1 + n * d0:d0 + 1 + 2 * n * d0]
    outputs = work[d0 + 1 + 2 * n * d0:workspace_floats(dims, n)]
    return starts, nz_b, nz_x, outputs


@njit(nogil=True, cache=True, fastmath=FAST)
def dense_forward(A, W, bias, out, relu):
    """out[b, :] = (relu)(A[b, :] @ W + bias) for a block of samples, W given as [n_in, n_out]."""
    n, n_in = A.shape
    n_out = out.shape[1]
    for b in range(n):
        for j in range(n_out):
            out[b, j] = bias[j]
    # Weight row outermost, so each row is read once for the whole block. No skipping of zero activations,
    # unlike the input layer: about half of the ReLU outputs are 0 in no predictable pattern, and the
    # mispredicted branches cost more than the rows they would skip.
    for k in range(n_in):
        w = W[k]
        for b in range(n):
            a = A[b, k]
            o = out[b]
            for j in range(n_out):
                o[j] += a * w[j]
    if relu:
        relu_inplace(out)


@njit(nogil=True, cache=True)
def batch_nonzeros(X, rows, starts, nz_b, nz_x):
    """Index the nonzero pixels of the mini-batch by input: for input k, entries starts[k]..starts[k+1]-1
    of nz_b / nz_x are the samples b with X[rows[b], k] != 0 and those pixel values.

    With ~80% zero pixels, both the first layer's forward pass and its weight gradient then loop only
    over real work, and without a data-dependent branch in the inner loop (a mispredicted branch per pixel
    cost more than the arithmetic it saved)."""
    n = len(rows)
    count = 0
    for k in range(X.shape[1]):
        starts[k] = count
        for b in range(n):
            x = X[rows[b], k]
            # Written unconditionally and kept only if nonzero: branch-free.
            nz_b[count] = b
            nz_x[count] = x
            count += x != 0.0
    starts[X.shape[1]] = count


@njit(nogil=True, cache=True, fastmath=FAST)
def input_forward(starts, nz_b, nz_x, W, bias, out, relu):
    """dense_forward for the first layer, from the batch_nonzeros index of the mini-batch."""
    n, n_out = out.shape
    for b in range(n):
        for j in range(n_out):
            out[b, j] = bias[j]
    for k in range(W.shape[0]):
        w = W[k]
        for e in range(starts[k], starts[k + 1]):
            o = out[nz_b[e]]
            x = nz_x[e]
            for j in range(n_out):
                o[j] += x * w[j]
    if relu:
        relu_inplace(out)


@njit(nogil=True, cache=True)
def relu_inplace(out):
    for b in range(out.shape[0]):
        for j in range(out.shape[1]):
            # `< 0` and not `max(v, 0)`: NaN must pass through so divergence stays visible.
            if out[b, j] < 0.0:
                out[b, j] = 0.0


@njit(nogil=True, cache=True, fastmath=FAST)
def dense_backward(A, W, D, gW, gb):
    """Given D = dLoss/d(layer output) [n, n_out] and the layer input A [n, n_in], itself a ReLU output:
    write gW and gb, then overwrite A with dLoss/d(pre-activation of A)."""
    n, n_in = A.shape
    n_out = D.shape[1]
    for j in range(n_out):
        gb[j] = 0.0
    for b in range(n):
        for j in range(n_out):
            gb[j] += D[b, j]
    # Sample outermost: measured 2x faster than input-row outermost for the narrow output layer.
    for k in range(n_in):
        for j in range(n_out):
            gW[k, j] = 0.0
    for b in range(n):
        a = A[b]
        d = D[b]
        for k in range(n_in):
            g = gW[k]
            for j in range(n_out):
                g[j] += a[k] * d[j]
    for b in range(n):
        d = D[b]
        a = A[b]
        for k in range(n_in):
            w = W[k]
            s = np.float32(0.0)
            for j in range(n_out):
                s += d[j] * w[j]
            a[k] = s if a[k] > 0.0 else np.float32(0.0)


@njit(nogil=True, cache=True, fastmath=FAST)
def input_weight_grad(starts, nz_b, nz_x, D, gW, gb):
    """dense_backward for the first layer: gradients only, since nothing lies below the input."""
    n, n_out = D.shape
    for j in range(n_out):
        gb[j] = 0.0
    for b in range(n):
        for j in range(n_out):
            gb[j] += D[b, j]
    for k in range(gW.shape[0]):
        g = gW[k]
        for j in range(n_out):
            g[j] = 0.0
        for e in range(starts[k], starts[k + 1]):
            d = D[nz_b[e]]
            x = nz_x[e]
            for j in range(n_out):
                g[j] += x * d[j]


@njit(nogil=True, cache=True)
def softmax_xent(Z, y, rows, grad_scale):
    """Mean cross-entropy of the logits Z [n, K] against y[rows], and the number of correct argmax
    predictions. When grad_scale != 0, Z is overwritten with grad_scale * (softmax(Z) - onehot(y)), the
    gradient of (grad_scale * summed loss) with respect to the logits."""
    n, K = Z.shape
    total = 0.0
    correct = 0
    for b in range(n):
        z = Z[b]
        label = y[rows[b]]
        best = 0
        for c in range(1, K):
            # `not <=` so that a NaN logit is chosen: the NaN then reaches the loss.
            if not (z[c] <= z[best]):
                best = c
        m = np.float64(z[best])
        s = 0.0
        for c in range(K):
            s += math.exp(np.float64(z[c]) - m)
        total += math.log(s) + m - np.float64(z[label])
        if best == label:
            correct += 1
        if grad_scale != 0.0:
            for c in range(K):
                p = math.exp(np.float64(z[c]) - m) / s
                z[c] = np.float32(grad_scale * (p - (1.0 if c == label else 0.0)))
    return total / n, correct


@njit(nogil=True, cache=True)
def forward(dims, theta, X, rows, work):
    """Run the block X[rows] through the network; returns the logits [n, dL], a view into work."""
    n = len(rows)
    if X.shape[1] != dims[0]:
        raise ValueError("X has a different number of features than the model's input")
    starts, nz_b, nz_x, outputs = split_workspace(dims, n, work)
    batch_nonzeros(X, rows, starts, nz_b, nz_x)
    L = len(dims) - 1
    p = 0
    o = 0
    prev = outputs[0:0].reshape((0, 0))
    for i in range(L):
        d_in = dims[i]
        d_out = dims[i + 1]
        W = theta[p:p + d_in * d_out].reshape((d_in, d_out))
        bias = theta[p + d_in * d_out:p + d_in * d_out + d_out]
        p += d_in * d_out + d_out
        out = outputs[o:o + n * d_out].reshape((n, d_out))
        o += n * d_out
        if i == 0:
            input_forward(starts, nz_b, nz_x, W, bias, out, L > 1)
        else:
            dense_forward(prev, W, bias, out, i < L - 1)
        prev = out
    return prev


@njit(nogil=True, cache=True)
def loss_and_grad(dims, theta, X, y, rows, grad, work):
    n = len(rows)  # the arguments were checked by models.loss_and_grad
    Z = forward(dims, theta, X, rows, work)
    loss, _ = softmax_xent(Z, y, rows, 1.0 / n)

    # Back from the top layer: theta/grad offsets and layer outputs are counted down from their ends.
    starts, nz_b, nz_x, outputs = split_workspace(dims, n, work)
    p = len(theta)
    o = len(outputs)
    for i in range(len(dims) - 2, -1, -1):
        d_in = dims[i]
        d_out = dims[i + 1]
        p -= d_in * d_out + d_out
        W = theta[p:p + d_in * d_out].reshape((d_in, d_out))
        gW = grad[p:p + d_in * d_out].reshape((d_in, d_out))
        gb = grad[p + d_in * d_out:p + d_in * d_out + d_out]
        D = outputs[o - n * d_out:o].reshape((n, d_out))
        o -= n * d_out
        if i == 0:
            input_weight_grad(starts, nz_b, nz_x, D, gW, gb)
        else:
            A = outputs[o - n * d_in:o].reshape((n, d_in))
            dense_backward(A, W, D, gW, gb)
    return loss
