"""Lock-based AsyncSGD: consistency through one global lock (docs/papers.md §A, "LOCK").

Each worker thread:
  1. takes the lock, copies θ into its private buffer and notes t0 = t, releases the lock;
  2. computes the gradient on the private copy, outside the lock;
  3. takes the lock again, applies θ ← θ − η·s(τ)·g, notes t1 = t (the version it lands on), bumps t,
     releases. s(τ) is the step-size rule's factor (engine/stepsize.py; 1 without a rule): τ = t1 − t0 is
     known exactly here, under the lock, before the write.

Every read and every write sees a whole model, and no update is lost; the price is that threads queue for
the lock (lock wait is measured per thread). The lock is a real pthread mutex from the cffi C module, and
its lock/unlock order every access to θ and t on any CPU (a mutex acquires and releases).
Staleness τ = t1 − t0: the updates other threads published while this one computed.
Protocol points (engine/phase.py): start → holding → copied (the copy, under the lock) → read → computed →
waiting → holding → applied (the apply, under the lock). A thread held at "holding", "copied" or "applied" holds
the lock: every other thread waits for it — LOCK is blocking.
Memory: one shared θ plus one private copy per thread, m + 1 vectors.
"""
from numba import njit

from teach_sgd.engine import atomics, gradient, native, phase, seq, stepsize
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.control import budget_reached
from teach_sgd.engine.layout import (
    C_ABANDONED, C_STATE, CLOCK, F_LR, OUTCOME_PUBLISHED, PT_APPLIED, PT_COPIED, PT_HOLDING, PT_READ, PT_WAITING,
    S_COPY, S_DONE, S_GRADIENT, S_IDLE, S_LOCK_WAIT, S_PUBLISH,
)
from teach_sgd.models import support_width


@njit(nogil=True, cache=True)
def worker(sh, data, logs, model, me):
    theta, copy, mutex = model.theta, me.local, atomics.voidptr(model.mutex)
    width = support_width(data.kind, data.dims)
    while True:
        rows = phase.begin(sh, data, me, -1, S_LOCK_WAIT)
        if rows.shape[0] == 0:
            break

        # 1. a consistent private copy, taken under the lock
        native.mutex_lock(mutex)
        wait = phase.at(sh, me, PT_HOLDING, S_COPY)
        t0 = atomics.load(sh.control, CLOCK)
        seq.copy(copy, theta)
        phase.at(sh, me, PT_COPIED, S_COPY)  # slow motion stretches the locked copy here, before the unlock
        native.mutex_unlock(mutex)
        phase.at(sh, me, PT_READ, S_GRADIENT)

        # 2. the gradient, outside the lock
        if not gradient.compute(sh, data, logs, me, copy, rows, S_IDLE):
            break
        if not phase.delayed(sh, me, t0):  # the delay adversary holds only its own thread here
            tel.bump(me.counters, C_ABANDONED, 1)
            break

        # 3. apply under the lock; the release store of t happens before the unlock
        phase.at(sh, me, PT_WAITING, S_LOCK_WAIT)
        native.mutex_lock(mutex)
        wait += phase.at(sh, me, PT_HOLDING, S_PUBLISH)
        t1 = atomics.load(sh.control, CLOCK)
        if budget_reached(sh.ip, t1):  # the budget was used up while this gradient was computed
            native.mutex_unlock(mutex)
            tel.bump(me.counters, C_ABANDONED, 1)
            break
        scale = stepsize.factor(sh, logs, t1 - t0)
        seq.apply(theta, me.grad, sh.fp[F_LR] * scale, me.support, width)
        phase.at(sh, me, PT_APPLIED, S_IDLE)  # slow motion stretches the locked apply here
        atomics.store(sh.control, CLOCK, t1 + 1)
        # counted before the unlock (a release store, ordered by the mutex before the next holder's breakpoint
        # mark): whoever sees that mark, then reads the counts (the learner's freeze, whose "others: 0 updates/s"
        # window starts then), finds this update counted, not counted a moment later
        tel.record_update(sh, me, t1 - t0, 0)
        native.mutex_unlock(mutex)

        tel.record_event(sh, logs, me, OUTCOME_PUBLISHED, t_read=t0, t_applied=t1, wait_ns=wait)
        tel.audit_applied(sh, me, me.grad, sh.fp[F_LR] * scale)
        stepsize.applied(sh, logs, me, t1, t1 - t0, scale)
    tel.set_state(me.counters, C_STATE, S_DONE)
