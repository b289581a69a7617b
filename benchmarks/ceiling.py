"""What 2 threads can gain on this machine at all, measured with bare loops (no engine, no atomics).

Each loop does only the memory work one algorithm's update must do, plus the same gradient (the engine's
gradient, apply and version build, which skip or copy the rows the gradient's support says are 0):
  private   — gradient and update on the thread's own θ: nothing shared, the compute-bound ceiling;
  hogwild   — copy the shared θ, gradient on the copy, write θ in place: θ's cache lines bounce between
              the cores on every update;
  leashed   — gradient on the latest version, copy it with the update into the thread's own slot, publish
              the slot: every new version must travel to the other core before it can be used there.
  lock      — copy θ under one pthread mutex, gradient outside it, apply under it (LOCK's two critical
              sections): the copy and the apply of 2 threads cannot overlap, and θ still bounces;
  sparse    — as hogwild, but write only the coordinates whose gradient is not 0 (HOGWILD!'s sparse writes).
The engine's 2t/1t ratio is to be read against these, not against 2.0.

pass_us() times the memory work alone of one Leashed-SGD publish pass (a new version built from the latest),
when the latest was written on the same core and when it was written on the other: the price of a version
crossing cores, which an update pays whenever the other thread published the latest version (never at 1 thread).
"""
import threading
import time

import numpy as np
from numba import njit

from teach_sgd.engine import atomics, native
from teach_sgd.engine.leashed import new_version
from teach_sgd.engine.seq import apply, copy
from teach_sgd.models import loss_and_grad, support_width

PRIVATE, HOGWILD, LEASHED, LOCK, SPARSE = range(5)
STEP = np.float32(0.01)  # float32, as the engine's applies (engine/stepsize.py applied_step)


@njit(nogil=True)
def _loop(kind, n, model, dims, batch, theta, slab, ptr, slots, local, g, support, work, X, y, perm, mutex_buf):
    n_rows = perm.shape[0] - batch
    mutex = atomics.voidptr(mutex_buf)
    width = support_width(model, dims)
    for it in range(n):
        s = (it * batch) % n_rows
        rows = perm[s:s + batch]
        if kind == PRIVATE:
            loss_and_grad(model, dims, theta, X, y, rows, g, work, support)
            apply(theta, g, STEP, support, width)
        elif kind == HOGWILD or kind == SPARSE:
            copy(local, theta)
            loss_and_grad(model, dims, local, X, y, rows, g, work, support)
            for i in range(theta.shape[0]):
                if kind == HOGWILD or g[i] != 0.0:
                    theta[i] -= STEP * g[i]
        elif kind == LOCK:
            native.mutex_lock(mutex)
            copy(local, theta)
            native.mutex_unlock(mutex)
            loss_and_grad(model, dims, local, X, y, rows, g, work, support)
            native.mutex_lock(mutex)
            apply(theta, g, STEP, support, width)
            native.mutex_unlock(mutex)
        else:
            loss_and_grad(model, dims, slab[ptr[0]], X, y, rows, g, work, support)
            q = slots[it % 2]
            new_version(slab[q], slab[ptr[0]], g, STEP, support, width)
            ptr[0] = q
    return 0


@njit(nogil=True)
def _passes(me, players, n, slab, turn, spent):
    """On its turn (turn[0] mod players), a thread builds a new version from the latest one, as a Leashed-SGD
    publish pass does, and hands the turn on: with 2 players every latest version was written on the other
    core, with 1 on its own."""
    for _ in range(n):
        while atomics.load(turn, 0) % players != me:
            pass
        k = atomics.load(turn, 0)
        src, dst = slab[k % 3], slab[(k + 1) % 3]
        t0 = native.now_ns()
        for i in range(dst.shape[0]):
            dst[i] = src[i] - STEP * src[i]
        spent[me] += native.now_ns() - t0
        atomics.store(turn, 0, k + 1)
    return 0


def pass_us(threads: int, d: int, n: int = 2000) -> float:
    """µs per publish pass over d floats, `threads` (1 or 2) taking turns."""
    slab = np.ones((3, d), np.float32)
    turn = np.zeros(1, np.int64)
    spent = np.zeros(2, np.int64)
    _passes(0, 1, 2, slab, turn, spent)  # compile
    turn[0], spent[:] = 0, 0
    workers = [threading.Thread(target=_passes, args=(t, threads, n // threads, slab, turn, spent))
               for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return float(spent.sum()) / (n // threads * threads) / 1e3


def rate(kind: int, threads: int, spec, data, batch: int = 16, n: int = 3000) -> float:
    """Updates/s of `threads` bare loops of one kind (all threads share θ / the slab)."""
    theta = spec.init(0)
    slab = np.tile(theta, (2 * threads + 1, 1))
    ptr = np.zeros(1, np.int64)
    perm = np.random.default_rng(0).permutation(len(data.y_train)).astype(np.int64)
    mutex = native.new_mutex()
    X = spec.inputs(data.X_train)  # the images as the engine's kernels take them

    def args(tid):
        own = theta.copy() if kind == PRIVATE else theta
        return (kind, n, spec.kind, spec.dims, batch, own, slab, ptr, np.array([2 * tid + 1, 2 * tid + 2]),
                np.zeros_like(theta), np.zeros_like(theta), np.ones(spec.support_rows, np.int8),
                np.zeros(spec.workspace_size(batch), np.float32),
                X, data.y_train, perm, mutex)

    _loop(*args(0)[:1], 2, *args(0)[2:])  # compile
    workers = [threading.Thread(target=_loop, args=args(t)) for t in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return threads * n / (time.perf_counter() - t0)
