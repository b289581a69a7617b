"""Stop, pause, budgets and the shared batch counter: what every kernel loop checks.

All reads of shared words are atomic loads: LLVM may hoist a plain load of a flag out of a loop that does
not write it, and the loop would then never see the flag change.

Pause and resume are written by the Runner (Python) through `pause` / `resume` below, never by plain numpy
stores: resume adds the paused time to PAUSED_NS and then clears PAUSE with a release store, so a thread
that sees PAUSE = 0 (acquire) also sees the new PAUSED_NS — on ARM two plain stores may become visible in
either order, and a thread would time-stamp its next events with the pause still counted.
"""
from numba import njit

from teach_sgd.engine import atomics, native
from teach_sgd.engine.layout import (
    BATCH, C_PHASE_T0, C_STATE, C_T_START, CLOCK, P_BATCH, P_CLOCK_SHIFT, P_DEADLINE_NS, P_MAX_BATCHES, P_MAX_UPDATES,
    P_N_TRAIN, P_T0_NS, P_TELEMETRY, PAUSE, PAUSED_NS, S_PAUSED, STOP, STRETCH,
)

PAUSE_POLL_NS = 1_000_000  # a parked thread looks at the flags every millisecond
STRETCH_SLICE_NS = 1_000_000  # slow-motion sleeps come in 1 ms slices, so stop and pause still act at once


@njit(nogil=True, cache=True)
def stopped(control):
    return atomics.load(control, STOP) != 0


@njit(nogil=True, cache=True)
def request_stop(control):
    atomics.store(control, STOP, 1)


@njit(nogil=True, cache=True)
def wait_while_paused(control, counters_row):
    """Park between iterations while PAUSE is set; returns False if the run was stopped meanwhile."""
    if atomics.load(control, PAUSE) == 0:
        return not stopped(control)
    previous = atomics.load(counters_row, C_STATE)
    atomics.store(counters_row, C_STATE, S_PAUSED)
    parked = native.now_ns()
    while atomics.load(control, PAUSE) != 0 and not stopped(control):
        native.sleep_ns(PAUSE_POLL_NS)
    atomics.store(counters_row, C_STATE, previous)
    if counters_row[C_PHASE_T0] != 0:  # a pause is part of no phase (engine/phase.py): its timer skips it
        counters_row[C_PHASE_T0] += native.now_ns() - parked
    return not stopped(control)


@njit(nogil=True, cache=True)
def run_time_ns(control, ip):
    """Nanoseconds the run has been running: since its start, minus the time it spent paused."""
    return native.now_ns() - ip[P_T0_NS] - atomics.load(control, PAUSED_NS)


@njit(nogil=True, cache=True)
def past_deadline(control, ip):
    deadline = ip[P_DEADLINE_NS]  # run time allowed, -1 = none
    return deadline >= 0 and run_time_ns(control, ip) >= deadline


@njit(nogil=True, cache=True)
def budget_reached(ip, published):
    """True once `published` updates use up the --updates budget. Checked again right before an update is
    applied, so that m threads that all started an iteration at N − 1 cannot publish N + m − 1."""
    max_updates = ip[P_MAX_UPDATES]
    return max_updates >= 0 and published >= max_updates


@njit(nogil=True, cache=True)
def published(sh):
    """Updates published so far: CLOCK, or for Leashed-SGD the sequence number packed into P."""
    return atomics.load(sh.control, CLOCK) >> sh.ip[P_CLOCK_SHIFT]


@njit(nogil=True, cache=True)
def next_batch(sh, data, me, ticket):
    """The loop prologue every worker shares (engine/phase.py `begin`): the next mini-batch, or an empty
    slice if the thread must stop (stop flag, deadline, update budget reached, epoch budget spent). Parks
    here while the run is paused, and notes the run time the update's window begins at (its events' t_start).

    `ticket` < 0: take the next unused batch from the shared atomic batch counter, as in the paper (every
    thread takes the next unused one), and judge the budget on the updates published so far. SYNC passes its
    iteration number k instead: every thread counts it alike, and it is both its batch and the number of
    updates published before it (reading CLOCK there could let one thread start an iteration the others
    will not, and wait at its barrier for ever).
    """
    if not may_continue(sh, me, ticket if ticket >= 0 else published(sh)):
        return data.perm[0:0]
    if ticket < 0:
        ticket = atomics.fetch_add(sh.control, BATCH, 1)
    rows = batch_rows(sh.ip, ticket, data.perm)
    if sh.ip[P_TELEMETRY] != 0:
        me.counters[C_T_START] = run_time_ns(sh.control, sh.ip)
    return rows


@njit(nogil=True, cache=True)
def may_continue(sh, me, published):
    """False if the thread must stop (stop flag, deadline, update budget reached); parks while paused."""
    if not wait_while_paused(sh.control, me.counters):
        return False
    if past_deadline(sh.control, sh.ip):
        request_stop(sh.control)
        return False
    return not budget_reached(sh.ip, published)


@njit(nogil=True, cache=True)
def run_over(sh):
    """True once the run is ending for every thread: stopped, past its deadline, its update budget published
    or its epochs' batches all taken. A thread that waits for others (held at a breakpoint, delayed) leaves
    its wait on this, so no wait outlives the run."""
    if stopped(sh.control):
        return True
    if past_deadline(sh.control, sh.ip):
        request_stop(sh.control)
        return True
    max_batches = sh.ip[P_MAX_BATCHES]
    return budget_reached(sh.ip, published(sh)) or (max_batches >= 0 and atomics.load(sh.control, BATCH) >= max_batches)


@njit(nogil=True, cache=True)
def batch_rows(ip, ticket, perm):
    """The rows of mini-batch number `ticket`, or an empty slice once the epoch budget is spent.
    `perm` has its first `batch` entries appended, so every batch is one contiguous slice."""
    max_batches = ip[P_MAX_BATCHES]
    if max_batches >= 0 and ticket >= max_batches:
        return perm[0:0]
    b = ip[P_BATCH]
    start = (ticket * b) % ip[P_N_TRAIN]
    return perm[start:start + b]


@njit(nogil=True, cache=True)
def pause(control):
    atomics.store(control, PAUSE, 1)


@njit(nogil=True, cache=True)
def resume(control, paused_ns):
    """Leave a pause of `paused_ns`: PAUSED_NS first, then PAUSE = 0 with release (see the module doc)."""
    atomics.fetch_add(control, PAUSED_NS, paused_ns)
    atomics.store(control, PAUSE, 0)


# ---- slow motion ---------------------------------------------------------------------------------------
# The phase hook (engine/phase.py) decides which windows are stretched and where; this is the sleep.
# At stretch s every window that decides a race lasts s × its own time, by sleeping (s − 1) × the time it
# really took, *inside* the window. Scaling both windows by the same factor keeps their ratio, and the
# chance that another thread publishes inside a thread's publish window depends on that ratio, not on
# absolute speed. That is the design; measured (bench_slowmotion.py, README "Slow motion"), staleness stays
# near its full-speed value, while failed CAS, lost writes and the lock-wait share do not keep their rate.
# (Sleeping between iterations instead would shrink the windows relative to the run, and hide the races.)
# "The time it really took" is the thread's CPU time in the window, not the wall time: on a busy machine a
# thread is often descheduled inside a window, and stretching that wait s-fold made one 10 ms preemption a
# 10 s window at 1000×. Under Leashed-SGD such a thread then lost every CAS (others published inside its
# huge window), retried with another stretched copy, and published nothing for seconds while the others
# published dozens (benchmarks/bench_slowmo.py). Stretching the work only gives every thread the windows it
# would have on a core of its own, whatever else the machine runs.
# The factor is a control word read atomically in every window, so it can change while the run goes.

@njit(nogil=True, cache=True)
def window_start(control):
    """The start of a window to stretch: this thread's CPU time now, or 0 at 1× (then a window costs one load,
    no clock read)."""
    if atomics.load(control, STRETCH) > 1:
        return native.thread_cpu_ns()
    return 0


@njit(nogil=True, cache=True)
def stretching(control):
    return atomics.load(control, STRETCH) > 1


@njit(nogil=True, cache=True)
def stretch_ns(control, started_cpu_ns):
    """How long to sleep to end a window begun at `started_cpu_ns` (window_start): (stretch − 1) × the CPU
    time this thread has spent since; 0 at 1×."""
    factor = atomics.load(control, STRETCH)
    if factor <= 1 or started_cpu_ns == 0:
        return 0
    return (factor - 1) * max(0, native.thread_cpu_ns() - started_cpu_ns)


@njit(nogil=True, cache=True)
def stretch_window(control, started_cpu_ns):
    """Sleep for stretch_ns, in slices that stop at once on a stop; time spent paused meanwhile does not count.
    The end is a deadline on the clock, not a sum of the slices asked for: a sleep can wake late (by a
    scheduler tick on a busy machine), and summing requests would add every late wake-up to the window,
    stretching it by more than s."""
    extra = stretch_ns(control, started_cpu_ns)
    if extra == 0:
        return
    now = native.now_ns()
    end = now + extra
    while now < end and not stopped(control):
        if atomics.load(control, PAUSE) != 0:
            native.sleep_ns(PAUSE_POLL_NS)
            end += native.now_ns() - now  # a pause does not use up the window
        else:
            native.sleep_ns(min(end - now, STRETCH_SLICE_NS))
        now = native.now_ns()
