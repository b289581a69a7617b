"""Lock-based AsyncSGD: consistency through one global lock (docs/papers.md §A, "LOCK").

Each worker thread:
  1. takes the lock, copies θ into its private buffer and notes t0 = t, releases the lock;
  2. computes the gradient on the private copy, outside the lock;
  3. takes the lock again, applies θ ← θ − η·s(τ)·g, notes t1 = t (the version it lands on), bumps t,
     releases. s(τ) is the step-size rule's factor (engine/stepsize.py; 1 without a rule): τ = t1 − t0 is
     known exactly here, under the lock, before the write.

Every read and every write sees a whole model, and no update is lost; the price is that threads queue for
the lock (lock wait is measured per thread). The lock is a real pthread mutex from the cffi C module.
Staleness τ = t1 − t0: the updates other threads published while this one computed.
Memory: one shared θ plus one private copy per thread, m + 1 vectors.
"""
from numba import njit

from teach_sgd.engine import atomics, gradient, native, stepsize
from teach_sgd.engine import control as ctl
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import (
    C_ABANDONED, C_COPY_NS, C_LOCK_WAIT_NS, C_PUBLISH_NS, C_STATE, CLOCK, F_LR, OUTCOME_PUBLISHED, S_COPY,
    S_DONE, S_LOCK_WAIT, S_PUBLISH,
)


@njit(nogil=True, cache=True)
def take_lock(mutex, mine):
    """Lock the global mutex and account the time spent waiting for it (always: lock wait is the point of
    this algorithm's telemetry, and two clock reads cost nothing beside a wait)."""
    tel.set_state(mine, C_STATE, S_LOCK_WAIT)
    waited_from = native.now_ns()
    native.mutex_lock(atomics.voidptr(mutex))
    waited = native.now_ns() - waited_from
    tel.bump(mine, C_LOCK_WAIT_NS, waited)
    return waited


@njit(nogil=True, cache=True)
def worker(tid, control, ip, fp, kind, dims, X, y, perm, eval_rows,
           theta, mutex, local, grad, work, counters, staleness, retries, events, losslog, audit, steps, window):
    lr = fp[F_LR]
    mine = counters[tid]
    copy = local[tid]
    g = grad[tid]
    while True:
        rows = ctl.next_batch(control, ip, mine, ctl.clock(control), perm)
        if rows.shape[0] == 0:
            break

        # 1. a consistent private copy, taken under the lock
        wait = take_lock(mutex, mine)
        t_start = tel.clock(control, ip)
        t_copy = tel.now(ip)
        tel.set_state(mine, C_STATE, S_COPY)
        t0 = atomics.load(control, CLOCK)
        copy[:] = theta
        native.mutex_unlock(atomics.voidptr(mutex))

        tel.bump(mine, C_COPY_NS, tel.now(ip) - t_copy)

        # 2. the gradient, outside the lock
        if not gradient.compute(control, ip, fp, kind, dims, copy, X, y, rows, eval_rows, g, work[tid], mine,
                                losslog):
            break

        # 3. apply under the lock; the release store of t happens before the unlock
        wait += take_lock(mutex, mine)
        t_apply = tel.now(ip)
        slow_from = ctl.window_start(control)
        tel.set_state(mine, C_STATE, S_PUBLISH)
        t1 = atomics.load(control, CLOCK)
        if ctl.budget_reached(ip, t1):  # the budget was used up while this gradient was computed
            native.mutex_unlock(atomics.voidptr(mutex))
            tel.bump(mine, C_ABANDONED, 1)
            break
        scale = stepsize.factor(control, ip, fp, window, t1 - t0)
        step = lr * scale
        for i in range(theta.shape[0]):
            theta[i] -= step * g[i]
        ctl.stretch_window(control, slow_from)  # slow motion: the publish window, inside the lock (control.py)
        atomics.store(control, CLOCK, t1 + 1)
        native.mutex_unlock(atomics.voidptr(mutex))
        tel.bump(mine, C_PUBLISH_NS, tel.now(ip) - t_apply)

        tel.record_update(ip, mine, staleness[tid], retries[tid], t1 - t0, 0)
        tel.record_event(control, ip, events, tid, t0, t1, 1, OUTCOME_PUBLISHED, t_start, wait, 0, 0)
        tel.audit_applied(ip, audit[tid], g, step)
        stepsize.applied(control, ip, window, steps[tid], t1, t1 - t0, scale)
    tel.set_state(mine, C_STATE, S_DONE)
