"""Telemetry written by the worker threads: counters, histograms, the event ring and the loss log.

Rules that make it safe to read at 20 Hz from another thread without locks:
- each thread writes only its own counters row and histogram rows, with atomic (release) stores, so the
  compiler keeps every store inside the loop and readers see values that were really written;
- shared logs (events, loss) hand out rows with fetch-and-add and set a row's `ready` field last, with a
  release store, so a reader never takes a half-written row for a whole one.
"""
import math

from numba import njit

from teach_sgd.engine import atomics, native
from teach_sgd.engine import control as ctl
from teach_sgd.engine.control import request_stop
from teach_sgd.engine.layout import (
    C_EVAL_NS, C_TAU_MAX, C_TAU_SUM, C_UPDATES, DIVERGED, E_ATTEMPTS, E_OUTCOME, E_READY, E_T_APPLIED,
    E_LOST, E_T_READ, E_T_START, E_THREAD, E_TIME, E_TORN, E_WAIT_NS, EVENT_FIELDS, EVENT_HEAD, F_DIVERGE,
    F_LOSS0, F_TARGET, LOSS_COUNT,
    LOSS_FIELDS, NEXT_EVAL, P_AUDIT, P_EVAL_NS, P_LOSS_CAP, P_RING, P_STOP_AT_TARGET, P_T0_NS, P_TELEMETRY,
    PAUSED_NS,
    RETRY_BINS, STALENESS_BINS, TARGET_NS,
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
def now(ip):
    """Monotonic ns when telemetry is on, 0 otherwise (so timing costs nothing when it is off)."""
    if ip[P_TELEMETRY] != 0:
        return native.now_ns()
    return 0


@njit(nogil=True, cache=True)
def record_update(ip, counters_row, staleness_row, retry_row, tau, failures):
    """One published update: its staleness τ and how many CAS attempts failed before it landed."""
    bump(counters_row, C_UPDATES, 1)
    if ip[P_TELEMETRY] == 0:
        return
    bump(counters_row, C_TAU_SUM, tau)
    if tau > counters_row[C_TAU_MAX]:
        atomics.store(counters_row, C_TAU_MAX, tau)
    bump(staleness_row, min(tau, STALENESS_BINS - 1), 1)
    bump(retry_row, min(failures, RETRY_BINS - 1), 1)


@njit(nogil=True, cache=True)
def clock(control, ip):
    """Run time in ns (pauses left out) when telemetry is on, 0 otherwise: the start of an event's window."""
    if ip[P_TELEMETRY] != 0:
        return ctl.run_time_ns(control, ip)
    return 0


@njit(nogil=True, cache=True)
def record_event(control, ip, events, thread, t_read, t_applied, attempts, outcome, t_start, wait_ns, lost, torn):
    """Append one event (layout.E_*) to the ring; the Runner's drainer copies it out before it is overwritten
    (engine/events.py), so the ring needs to hold only what is written between two drains."""
    if ip[P_TELEMETRY] == 0:
        return
    k = atomics.fetch_add(control, EVENT_HEAD, 1)
    base = (k % ip[P_RING]) * EVENT_FIELDS
    # A seqlock-style row: `ready` is cleared by a read-modify-write (acquire + release), so none of the
    # field stores below can be moved before it, and set last by a release store, so none can move after
    # it. A reader keeps a row only if it saw ready == k + 1 both before and after copying the fields.
    atomics.exchange(events, base + E_READY, 0)
    events[base + E_THREAD] = thread
    events[base + E_T_READ] = t_read
    events[base + E_T_APPLIED] = t_applied
    events[base + E_ATTEMPTS] = attempts
    events[base + E_TIME] = ctl.run_time_ns(control, ip)
    events[base + E_OUTCOME] = outcome
    events[base + E_T_START] = t_start
    events[base + E_WAIT_NS] = wait_ns
    events[base + E_LOST] = lost
    events[base + E_TORN] = torn
    atomics.store(events, base + E_READY, k + 1)


@njit(nogil=True, cache=True)
def observe_loss(control, ip, fp, loss, accuracy, at_ns, losslog):
    """Log one loss sample, then judge it: diverged (stop the run) or target reached (record the time)."""
    elapsed = at_ns - ip[P_T0_NS] - atomics.load(control, PAUSED_NS)
    k = atomics.fetch_add(control, LOSS_COUNT, 1)
    if k < ip[P_LOSS_CAP]:
        base = k * LOSS_FIELDS
        losslog[base] = elapsed * 1e-9
        losslog[base + 1] = loss
        losslog[base + 2] = accuracy
        atomics.store(losslog, base + 3, 1.0)
    if not math.isfinite(loss) or loss > fp[F_DIVERGE] * fp[F_LOSS0]:
        atomics.store(control, DIVERGED, 1)
        request_stop(control)
    elif fp[F_TARGET] > 0 and loss <= fp[F_TARGET]:
        atomics.cas(control, TARGET_NS, 0, max(elapsed, 1))
        if ip[P_STOP_AT_TARGET] != 0:
            request_stop(control)


@njit(nogil=True, cache=True)
def maybe_evaluate(control, ip, fp, kind, dims, theta, X, y, eval_rows, work, losslog, counters_row):
    """Evaluate the loss on the fixed evaluation rows if it is due, on the parameters this thread holds.

    Whichever thread first passes the due time claims the evaluation with one CAS, so the cost is spread
    over the threads and no extra reader exists: in Leashed-SGD the evaluating thread already holds a
    reference to the version it evaluates, so the 2m+1 bound on live versions is untouched.
    """
    t = native.now_ns()
    due = atomics.load(control, NEXT_EVAL)
    if t < due or atomics.cas(control, NEXT_EVAL, due, t + ip[P_EVAL_NS]) != due:
        return
    loss, accuracy = loss_and_accuracy(kind, dims, theta, X, y, eval_rows, work)
    observe_loss(control, ip, fp, loss, accuracy, t, losslog)
    bump(counters_row, C_EVAL_NS, native.now_ns() - t)


@njit(nogil=True, cache=True)
def note_gradient_loss(control, loss):
    """A non-finite mini-batch loss means the run diverged: stop at once rather than at the next evaluation."""
    if not math.isfinite(loss):
        atomics.store(control, DIVERGED, 1)
        request_stop(control)
        return False
    return True


@njit(nogil=True, cache=True)
def audit_applied(ip, acc, g, lr):
    """With audit on, sum in float64 every update this thread applied: θ0 + Σ applied is what θ would be
    if no update were ever lost (exact for lock and leashed, the lost mass for hogwild)."""
    if ip[P_AUDIT] != 0:
        for i in range(acc.shape[0]):
            acc[i] -= lr * g[i]
