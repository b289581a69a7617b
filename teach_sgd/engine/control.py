"""Stop, pause, budgets and the shared batch counter: what every kernel loop checks.

All reads of shared words are atomic loads: LLVM may hoist a plain load of a flag out of a loop that does
not write it, and the loop would then never see the flag change.
"""
from numba import njit

from teach_sgd.engine import atomics, native
from teach_sgd.engine.layout import (
    BATCH, C_STATE, CLOCK, P_BATCH, P_DEADLINE_NS, P_MAX_BATCHES, P_MAX_UPDATES, P_N_TRAIN, P_T0_NS, PAUSE,
    PAUSED_NS, S_PAUSED, STOP, STRETCH,
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
    while atomics.load(control, PAUSE) != 0 and not stopped(control):
        native.sleep_ns(PAUSE_POLL_NS)
    atomics.store(counters_row, C_STATE, previous)
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
def next_batch(control, ip, counters_row, published, perm):
    """The top of every worker iteration: the next unused mini-batch, or an empty slice if the thread must
    stop (stop flag, deadline, update budget reached with `published` updates, epoch budget spent).
    Parks here while the run is paused.

    Batches come from one shared atomic counter, as in the paper: every thread takes the next unused one.
    `perm` is a fixed permutation of the training rows with its first `batch` entries appended, so every
    batch is one contiguous slice.
    """
    if not may_continue(control, ip, counters_row, published):
        return perm[0:0]
    return batch_rows(ip, atomics.fetch_add(control, BATCH, 1), perm)


@njit(nogil=True, cache=True)
def may_continue(control, ip, counters_row, published):
    """False if the thread must stop (stop flag, deadline, update budget reached); parks while paused."""
    if not wait_while_paused(control, counters_row):
        return False
    if past_deadline(control, ip):
        request_stop(control)
        return False
    return not budget_reached(ip, published)


@njit(nogil=True, cache=True)
def batch_rows(ip, ticket, perm):
    """The rows of mini-batch number `ticket`, or an empty slice once the epoch budget is spent."""
    max_batches = ip[P_MAX_BATCHES]
    if max_batches >= 0 and ticket >= max_batches:
        return perm[0:0]
    b = ip[P_BATCH]
    start = (ticket * b) % ip[P_N_TRAIN]
    return perm[start:start + b]


@njit(nogil=True, cache=True)
def clock(control):
    """Updates published so far (lock, hogwild)."""
    return atomics.load(control, CLOCK)


# ---- slow motion ---------------------------------------------------------------------------------------
# At stretch s every window that decides a race lasts s × its own time: the compute window (from the read of
# the parameters to the end of the gradient) and the publish window (from the read of the version an update
# lands on to its CAS, its locked apply or its racy writes). A window is stretched by sleeping (s − 1) × the
# time it really took, *inside* the window. Scaling both windows by the same factor keeps their ratio, and the
# chance that another thread publishes inside a thread's publish window depends on that ratio, not on
# absolute speed: CAS failures, lock waits and staleness stay what they are at full speed, only slower.
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
