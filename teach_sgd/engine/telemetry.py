"""Telemetry written by the worker threads: counters, histograms, the event ring and the loss log.

Rules that make it safe to read at 20 Hz from another thread without locks, on any CPU:
- each thread writes only its own counters row and histogram rows, with atomic (release) stores, so the
  compiler keeps every store inside the loop and readers see values that were really written;
- shared logs (events, loss) hand out rows with fetch-and-add, write the fields, and set a row's `ready`
  word last with a release store; their readers (`read_events`, `read_loss` below, called by the Runner)
  load `ready` with acquire before the fields, so a reader never takes a half-written row for a whole one.
  On x86 plain loads would do (it keeps stores in order, and loads in order); on ARM they would not, which
  is why the readers are compiled code with atomics rather than numpy slicing.
"""
import math

import numpy as np
from numba import njit

from teach_sgd.engine import atomics, native
from teach_sgd.engine import control as ctl
from teach_sgd.engine.control import request_stop
from teach_sgd.engine.layout import (
    C_EVAL_NS, C_PHASE_T0, C_SLOW_T0, C_T_START, C_TAU_MAX, C_TAU_MIN, C_TAU_SUM, C_UPDATES, DIVERGED, E_ATTEMPTS,
    E_LOST, E_OUTCOME, E_READY, E_T_APPLIED, E_T_READ, E_T_START, E_THREAD, E_TIME, E_TORN, E_WAIT_NS,
    EVENT_FIELDS, EVENT_HEAD, F_DIVERGE, F_LOSS0, F_TARGET, LOSS_COUNT, LOSS_FIELDS, NEXT_EVAL, P_AUDIT,
    P_EVAL_NS, P_LOSS_CAP, P_RING, P_STOP_AT_TARGET, P_T0_NS, P_TELEMETRY, PAUSED_NS, RETRY_BINS,
    STALENESS_BINS, TARGET_NS,
)
from teach_sgd.models import loss_and_accuracy


@njit(nogil=True, cache=True)
def bump(row, col, value):
    """row[col] += value, where only this thread writes `row` and others read it live."""
    atomics.store(row, col, row[col] + value)


@njit(nogil=True, cache=True)
def set_state(counters_row, col, value):
    atomics.store(counters_row, col, value)


@njit(nogil=True, cache=True)
def record_update(sh, me, tau, failures):
    """One published update: its staleness τ and how many CAS attempts failed before it landed."""
    c = me.counters
    bump(c, C_UPDATES, 1)
    if sh.ip[P_TELEMETRY] == 0:
        return
    bump(c, C_TAU_SUM, tau)
    if tau > c[C_TAU_MAX]:
        atomics.store(c, C_TAU_MAX, tau)
    if c[C_TAU_MIN] == 0 or tau + 1 < c[C_TAU_MIN]:
        atomics.store(c, C_TAU_MIN, tau + 1)
    bump(me.staleness, min(tau, STALENESS_BINS - 1), 1)
    bump(me.retries, min(failures, RETRY_BINS - 1), 1)


@njit(nogil=True, cache=True)
def record_event(sh, logs, me, outcome, t_read, t_applied, attempts=1, wait_ns=0, lost=0, torn=0):
    """Append one event (layout.E_*) to the ring: this thread's update or attempt with the given outcome
    (layout.OUTCOME_*), the version it read and the version it landed on (or tried to). Its window began at
    the time the loop prologue noted (C_T_START). The Runner's drainer copies it out before it is overwritten
    (engine/events.py), so the ring needs to hold only what is written between two drains."""
    ip = sh.ip
    if ip[P_TELEMETRY] == 0:
        return
    events = logs.events
    k = atomics.fetch_add(sh.control, EVENT_HEAD, 1)
    base = (k % ip[P_RING]) * EVENT_FIELDS
    # A seqlock row. `ready` is cleared first; the release fence after it keeps every field store below from
    # becoming visible before the clear (on ARM stores may pass each other; the exchange alone orders only
    # what comes before it). `ready` is set last by a release store, so no field store moves after it. A
    # reader keeps a row only if it saw ready == k + 1 both before and after copying the fields.
    atomics.exchange(events, base + E_READY, 0)
    atomics.fence_release()
    events[base + E_THREAD] = me.tid
    events[base + E_T_READ] = t_read
    events[base + E_T_APPLIED] = t_applied
    events[base + E_ATTEMPTS] = attempts
    events[base + E_TIME] = ctl.run_time_ns(sh.control, ip)
    events[base + E_OUTCOME] = outcome
    events[base + E_T_START] = me.counters[C_T_START]
    events[base + E_WAIT_NS] = wait_ns
    events[base + E_LOST] = lost
    events[base + E_TORN] = torn
    atomics.store(events, base + E_READY, k + 1)


@njit(nogil=True, cache=True)
def read_events(events, ks, ring):
    """The reader's half of the seqlock: copies of the ring rows of events `ks`, and their `ready` words
    read again after the copy. Row i holds event ks[i] whole only if its ready word said ks[i] + 1 before
    (the copy's first column) and after. The first load is an acquire, so the fields are read after it; the
    acquire fence before the second keeps the field loads before it (ARM may otherwise satisfy a field load
    late, after a writer of the next lap began, and the second check would not notice)."""
    rows = np.empty((ks.shape[0], EVENT_FIELDS), np.int64)
    after = np.empty(ks.shape[0], np.int64)
    for i in range(ks.shape[0]):
        base = (ks[i] % ring) * EVENT_FIELDS
        rows[i, E_READY] = atomics.load(events, base + E_READY)
        for f in range(1, EVENT_FIELDS):
            rows[i, f] = events[base + f]
        atomics.fence_acquire()
        after[i] = atomics.load(events, base + E_READY)
    return rows, after


@njit(nogil=True, cache=True)
def read_loss(losslog, start, count):
    """Loss rows [start, count) that are completely written, up to the first one still being written: its
    `ready` word is loaded with acquire before its fields (the writer set it last, with release)."""
    out = np.empty((max(count - start, 0), LOSS_FIELDS - 1), np.float64)
    n = 0
    for k in range(start, count):
        base = k * LOSS_FIELDS
        if atomics.load(losslog, base + LOSS_FIELDS - 1) != 1.0:
            break
        for f in range(LOSS_FIELDS - 1):
            out[n, f] = losslog[base + f]
        n += 1
    return out[:n]


@njit(nogil=True, cache=True)
def observe_loss(sh, logs, loss, accuracy, at_ns):
    """Log one loss sample, then judge it: diverged (stop the run) or target reached (record the time)."""
    control, ip, fp = sh.control, sh.ip, sh.fp
    elapsed = at_ns - ip[P_T0_NS] - atomics.load(control, PAUSED_NS)
    k = atomics.fetch_add(control, LOSS_COUNT, 1)
    if k < ip[P_LOSS_CAP]:
        base = k * LOSS_FIELDS
        losslog = logs.losslog
        losslog[base] = elapsed * 1e-9
        losslog[base + 1] = loss
        losslog[base + 2] = accuracy
        atomics.store(losslog, base + 3, 1.0)  # release: the three fields above are visible before it
    if not math.isfinite(loss) or loss > fp[F_DIVERGE] * fp[F_LOSS0]:
        atomics.store(control, DIVERGED, 1)
        request_stop(control)
    elif fp[F_TARGET] > 0 and loss <= fp[F_TARGET]:
        atomics.cas(control, TARGET_NS, 0, max(elapsed, 1))
        if ip[P_STOP_AT_TARGET] != 0:
            request_stop(control)


@njit(nogil=True, cache=True)
def maybe_evaluate(sh, data, logs, me, theta):
    """Evaluate the loss on the fixed evaluation rows if it is due, on the parameters this thread holds.

    Whichever thread first passes the due time claims the evaluation with one CAS, so the cost is spread
    over the threads and no extra reader exists: in Leashed-SGD the evaluating thread already holds a
    reference to the version it evaluates, so the 2m+1 bound on live versions is untouched. The evaluation
    has its own timer and is part of no protocol phase: the phase hook's clock is moved past it.
    """
    t = native.now_ns()
    due = atomics.load(sh.control, NEXT_EVAL)
    if t < due or atomics.cas(sh.control, NEXT_EVAL, due, t + sh.ip[P_EVAL_NS]) != due:
        return
    loss, accuracy = loss_and_accuracy(data.kind, data.dims, theta, data.X, data.y, data.eval_rows, me.work)
    observe_loss(sh, logs, loss, accuracy, t)
    spent = native.now_ns() - t
    bump(me.counters, C_EVAL_NS, spent)
    if me.counters[C_PHASE_T0] != 0:
        me.counters[C_PHASE_T0] += spent
    if me.counters[C_SLOW_T0] != 0:  # nor is it stretched by slow motion
        me.counters[C_SLOW_T0] += spent


@njit(nogil=True, cache=True)
def note_gradient_loss(control, loss):
    """A non-finite mini-batch loss means the run diverged: stop at once rather than at the next evaluation."""
    if not math.isfinite(loss):
        atomics.store(control, DIVERGED, 1)
        request_stop(control)
        return False
    return True


@njit(nogil=True, cache=True)
def audit_applied(sh, me, g, lr):
    """With audit on, sum in float64 every update this thread applied: θ0 + Σ applied is what θ would be
    if no update were ever lost (exact for lock and leashed, the lost mass for hogwild)."""
    if sh.ip[P_AUDIT] != 0:
        acc = me.audit
        step = np.float64(np.float32(lr))  # the step as applied (stepsize.applied_step): its products are exact here
        for i in range(acc.shape[0]):
            acc[i] -= step * g[i]
