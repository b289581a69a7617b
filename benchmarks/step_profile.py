"""Where one SEQ step's time goes: the MLP's stages timed one by one, in thread CPU time.

    python benchmarks/step_profile.py [--rounds 5]

MLP 784-128-10, batch 16, the bundled MNIST, one thread; each round runs 500 steps stage by stage (CPU-time
clock around each stage, so a preempted thread is not charged for the wait) and 500 whole steps
(loss_and_grad and the apply, as the seq kernel does them). The stages add up to the whole step, plus the
clock reads. Medians over the rounds, in µs per step.
"""
import argparse
import os
import statistics
import time

import numpy as np
from numba import njit

from teach_sgd.data import load_dataset
from teach_sgd.engine.native import thread_cpu_ns
from teach_sgd.engine.seq import apply
from teach_sgd.models import make_model, mlp

STAGES = ("index the batch (its images' pixel lists)", "layer 1 forward (sparse input)", "layer 2 forward",
          "softmax and its gradient", "layer 2 backward", "index them by input", "layer 1 weight gradient (sparse input)",
          "apply θ −= η·g")


@njit(nogil=True)
def _staged(dims, theta, X, y, batches, grad, work, support, spent):
    d0, d1, d2 = dims[0], dims[1], dims[2]
    p = d0 * d1 + d1
    W1, b1 = theta[:d0 * d1].reshape((d0, d1)), theta[d0 * d1:p]
    W2, b2 = theta[p:p + d1 * d2].reshape((d1, d2)), theta[p + d1 * d2:]
    gW1, gb1 = grad[:d0 * d1].reshape((d0, d1)), grad[d0 * d1:p]
    gW2, gb2 = grad[p:p + d1 * d2].reshape((d1, d2)), grad[p + d1 * d2:]
    for r in range(batches.shape[0]):
        rows = batches[r]
        n = len(rows)
        room, by_input, outputs, scratch = mlp.split_workspace(dims, n, work)
        H, Z = outputs[:n * d1].reshape((n, d1)), outputs[n * d1:n * (d1 + d2)].reshape((n, d2))
        t0 = thread_cpu_ns()
        by_sample = mlp.batch_index(dims, X, rows, room)
        t1 = thread_cpu_ns()
        mlp.input_forward(by_sample, W1, b1, H, True)
        t2 = thread_cpu_ns()
        mlp.dense_forward(H, W2, b2, Z, False, scratch)
        t3 = thread_cpu_ns()
        mlp.softmax_xent(Z, y, rows, 1.0 / n)
        t4 = thread_cpu_ns()
        mlp.dense_backward(H, W2, Z, gW2, gb2, scratch)
        t5 = thread_cpu_ns()
        mlp.nonzeros_by_input(by_sample, by_input)
        t6 = thread_cpu_ns()
        mlp.input_weight_grad(by_input, H, gW1, gb1, support)
        t7 = thread_cpu_ns()
        apply(theta, grad, 0.05, support, mlp.support_width(dims))
        t8 = thread_cpu_ns()
        marks = (t0, t1, t2, t3, t4, t5, t6, t7, t8)
        for i in range(len(marks) - 1):
            spent[i] += marks[i + 1] - marks[i]


@njit(nogil=True)
def _whole(dims, theta, X, y, batches, grad, work, support):
    for r in range(batches.shape[0]):
        mlp.loss_and_grad(dims, theta, X, y, batches[r], grad, work, support)
        apply(theta, grad, 0.05, support, mlp.support_width(dims))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    data, spec = load_dataset("mnist"), make_model("mlp", hidden=(128,))
    rng = np.random.default_rng(0)
    steps = 500
    batches = np.stack([rng.choice(len(data.y_train), 16) for _ in range(steps)]).astype(np.int64)
    theta, work = spec.init(0), np.zeros(spec.workspace_size(16), np.float32)
    grad, support = np.zeros_like(theta), np.ones(spec.support_rows, np.int8)
    spent = np.zeros(len(STAGES), np.int64)
    args_ = (spec.dims, theta, spec.inputs(data.X_train), data.y_train)  # as the engine passes them
    _staged(*args_, batches[:2], grad, work, support, spent)  # compile outside the clock
    _whole(*args_, batches[:2], grad, work, support)
    stages, whole = [[] for _ in STAGES], []
    for _ in range(args.rounds):
        spent[:] = 0
        _staged(*args_, batches, grad, work, support, spent)
        for i, ns in enumerate(spent):
            stages[i].append(ns / steps / 1000)
        t = time.thread_time_ns()
        _whole(*args_, batches, grad, work, support)
        whole.append((time.thread_time_ns() - t) / steps / 1000)
    print(f"one SEQ step, MLP 784-128-10, batch 16, one thread: µs of thread CPU time per step, median of "
          f"{args.rounds} rounds of {steps} steps")
    for name, values in zip(STAGES, stages):
        print(f"   {name:<40} {statistics.median(values):6.1f}")
    print(f"   {'the stages together':<40} {sum(statistics.median(v) for v in stages):6.1f}")
    print(f"   {'whole steps (loss_and_grad + apply)':<40} {statistics.median(whole):6.1f}")
    print(f"   load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
