"""SYNC: synchronous data-parallel SGD, the baseline of data-parallel training (docs/papers.md §D).

Every iteration k, each of the m worker threads:
  1. takes its share of mini-batch k (rows [i·B/m, (i+1)·B/m) of it) and computes the gradient of that share
     on θ itself — nobody writes θ during this phase, so no copy is needed;
  2. meets the others at a barrier: all m gradients are ready;
  3. sums its slice of the coordinates, [i·d/m, (i+1)·d/m), over the m gradients — each weighted by its
     share of the batch, n_j/B, so the sum is the gradient of the whole mini-batch — and applies it:
     θ[slice] −= η·Σ_j (n_j/B)·g_j[slice]. The sum is split by coordinate ("reduce-scatter"): every thread
     does 1/m of the summing and no two threads write the same coordinate; each coordinate is summed in
     thread order 0 … m−1, so a run is reproducible;
  4. meets the others at a second barrier: θ is whole again, and the next iteration reads it.

One step therefore equals one sequential step on the same B rows, up to the order of the float additions,
and its staleness is 0 by construction. The price is the barrier: every iteration waits for the slowest
thread (barrier wait is measured per thread). Memory: θ plus the m gradient buffers.

Every thread counts iterations itself (k): all see the same sequence, so they agree on the batch, the update
budget and the epoch budget without talking. Stop and the deadline can be seen by one thread before the
others; the others are then waiting at a barrier, which checks the stop flag and lets them go.
Protocol points (engine/phase.py): start → computed → barrier → applied (then the second barrier). A thread held anywhere
holds every other thread at the next barrier: SYNC is blocking.
"""
import numpy as np
from numba import njit

from teach_sgd.engine import atomics, gradient, native, phase
from teach_sgd.engine import control as ctl
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import (
    BARRIER, C_BARRIER_NS, C_STATE, CLOCK, F_LR, OUTCOME_PUBLISHED, P_BATCH, P_THREADS, PAUSE, PAUSED_NS,
    PT_APPLIED, PT_BARRIER, S_BARRIER, S_DONE, S_GRADIENT, S_PUBLISH,
)

SPIN_LOADS = 20_000  # ≈ 20–50 µs of atomic loads before a waiting thread starts to nap between looks
NAP_NS = 20_000      # with more threads than cores, a spinning waiter would take the core from the straggler
ROUND_SHIFT = 16     # the barrier word: (round << 16) | arrived, arrived ≤ m ≤ 256
ARRIVED_MASK = (1 << ROUND_SHIFT) - 1


@njit(nogil=True, cache=True)
def barrier(sh, me):
    """Wait until all m threads have arrived. False if the run was stopped meanwhile: then this thread has
    withdrawn, so the barrier cannot complete and nobody applies a half-summed update.

    One word holds (round << 16) | arrived. A thread arrives with fetch-and-add; the last one (it saw m − 1)
    starts the next round with the count at 0, which releases the others. A waiter spins on atomic loads
    (a plain load would be hoisted out of the loop) until the round changes — and only then: leaving when
    the count reads m (the last arrival's store still on its way) let a fast thread reach the *next*
    barrier and arrive there before that store, which then wiped its arrival out; the threads fell out
    of step and the run hung. To leave on stop a waiter withdraws by CAS(w, w − 1) on the exact word it
    saw, and only while the count is below m: that fails if anyone arrived meanwhile, so a withdrawal and
    the last arrival can never both succeed — either everyone goes on, or the round never completes.
    """
    control = sh.control
    m = sh.ip[P_THREADS]
    t_arrive = native.now_ns()
    paused_before = atomics.load(control, PAUSED_NS)
    seen = atomics.fetch_add(control, BARRIER, 1)
    round_now = seen >> ROUND_SHIFT
    if (seen & ARRIVED_MASK) == m - 1:
        atomics.store(control, BARRIER, (round_now + 1) << ROUND_SHIFT)
    else:
        spins = 0
        while True:
            w = atomics.load(control, BARRIER)
            if (w >> ROUND_SHIFT) != round_now:
                break
            if ctl.stopped(control):
                if (w & ARRIVED_MASK) < m and atomics.cas(control, BARRIER, w, w - 1) == w:
                    return False
            elif atomics.load(control, PAUSE) != 0:
                native.sleep_ns(ctl.PAUSE_POLL_NS)
            elif spins < SPIN_LOADS:
                spins += 1
            else:
                native.sleep_ns(NAP_NS)
    # a pause during the wait is not waiting for the others (resume adds it to PAUSED_NS before unpausing)
    waited = native.now_ns() - t_arrive - (atomics.load(control, PAUSED_NS) - paused_before)
    tel.bump(me.counters, C_BARRIER_NS, waited)
    return True


@njit(nogil=True, cache=True)
def share_weights(m, b):
    """n_j / B for every thread j: thread j's share of a batch of b rows is [j·b/m, (j+1)·b/m)."""
    w = np.empty(m, np.float64)
    for j in range(m):
        w[j] = ((j + 1) * b // m - j * b // m) / b
    return w


@njit(nogil=True, cache=True)
def sum_and_apply(theta, grad, weights, lr, lo, hi):
    """Step 3 on coordinates [lo, hi): θ[i] −= lr·Σ_j weights[j]·grad[j, i], summed in thread order."""
    for i in range(lo, hi):
        total = 0.0
        for j in range(grad.shape[0]):
            total += weights[j] * grad[j, i]
        theta[i] -= lr * total


@njit(nogil=True, cache=True)
def worker(sh, data, logs, model, me):
    # staleness is always 0, so no step-size rule applies
    theta, lr, m, b, tid = model.theta, sh.fp[F_LR], sh.ip[P_THREADS], sh.ip[P_BATCH], me.tid
    weights = share_weights(m, b)
    first, last = tid * b // m, (tid + 1) * b // m          # my rows of each batch (config: batch ≥ threads)
    d = theta.shape[0]
    lo, hi = tid * d // m, (tid + 1) * d // m               # my coordinates to sum and apply
    k = 0
    while True:
        rows = phase.begin(sh, data, me, k, S_GRADIENT)
        if rows.shape[0] == 0:
            break
        if not gradient.compute(sh, data, logs, me, theta, rows[first:last], S_BARRIER):
            break
        phase.at(sh, me, PT_BARRIER, S_BARRIER)
        if not barrier(sh, me):  # 1. all gradients ready
            break
        phase.enter(sh, me, S_PUBLISH)
        sum_and_apply(theta, model.grads, weights, lr, lo, hi)
        phase.at(sh, me, PT_APPLIED, S_BARRIER)
        tel.audit_applied(sh, me, me.grad, lr * weights[tid])
        if not barrier(sh, me):  # 2. θ whole again
            break
        if tid == 0:  # one update per iteration, counted once; its staleness is 0
            atomics.store(sh.control, CLOCK, k + 1)
            tel.record_update(sh, me, 0, 0)
            tel.record_event(sh, logs, me, OUTCOME_PUBLISHED, t_read=k, t_applied=k)
        k += 1
    tel.set_state(me.counters, C_STATE, S_DONE)
