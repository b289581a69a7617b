"""The phase hook: the one call a worker makes at each named protocol point (layout.PT_*).

    phase.at(sh, me, PT_COMPUTED, S_PUBLISH)   # the gradient is computed; the thread now publishes

Everything that is not the algorithm happens here, so the kernels read as the paper's steps:

1. slow motion: if the window that ends at this point decides a race (layout.STRETCHED), it is stretched to
   `stretch` × its own CPU time (engine/control.py says why not wall time) by sleeping here, at its end, right before the action it decides (the CAS, the
   write pass, the unlock) — see "Slow motion" below;
2. the phase timer: the time since the previous point is added to the counter of the phase the thread was in
   (gradient, copy, publish, lock wait);
3. breakpoints: if the Runner asked, the thread is held here (a breakpoint at this point, a freeze, a step),
   showing S_HELD and the point (C_HELD) on screen, until it is let go or the run ends;
4. the state shown on screen (C_STATE) becomes what the thread does next, and the next window starts.

When nothing is asked (no slow motion, no breakpoint) a point costs two atomic loads (the stretch factor and
the thread's hold word), a store of its state and, with telemetry on, a clock read for the phase timer.

Slow motion. At stretch s every window that decides a race lasts s × its own time: the compute window (from
the read of the parameters to the gradient: what makes an update stale), Leashed-SGD's candidate window (P
read again → CAS: what makes a CAS fail), LOCK's locked copy and apply and SEQ's apply (what others wait for),
and HOGWILD!'s read-to-write window: the update's coordinates are read in one pass, the sleep comes, then they
are written in a second pass, so another update that lands in between is lost on the coordinates both write
(at 1× the two passes are one fused loop and the window of each coordinate is a few nanoseconds). Stretching
every window by the same factor keeps their ratios, and the chance that another thread acts inside a window
depends on those ratios, not on absolute speed. What it cannot keep: races decided in nanoseconds (two threads
on one cache line) — benchmarks/bench_slowmotion.py measures each rate at 1×, 10× and 100×, and a breakpoint
makes any single race happen on demand instead.

Holding. A held thread sleeps in 0.2 ms slices and leaves when the Runner lets it go (H_GO changes, or its
hold word no longer asks for this point) or the run ends (stop, deadline, budget: control.run_over), so a held
thread never outlives its run. The Runner writes H_WORD before bumping H_GO, with a release store and a
sequentially consistent add (hold_command below); the thread reads H_GO, then H_WORD, with acquire loads, so
a step (freeze on, then go) is never seen as a go without the freeze, even on ARM.
"""
from numba import njit

from teach_sgd.engine import atomics, native
from teach_sgd.engine import control as ctl
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import (
    C_COPY_NS, C_DELAYED, C_GRAD_NS, C_HELD, C_LOCK_WAIT_NS, C_PHASE_T0, C_PUBLISH_NS, C_SLOW_T0, C_STATE, FREEZE, H_GO,
    H_WORD, P_DELAY_TAU, P_DELAY_THREAD, P_TELEMETRY, PT_START, S_HELD, STRETCHED,
)

HOLD_POLL_NS = 200_000  # a held thread looks at its hold word and the run's end 5,000 times a second
DELAY_SPIN_LOADS = 20_000  # the delay adversary spins this long before napping: it acts within ~0.1 µs of the
DELAY_NAP_NS = 20_000      # τ-th publish when it has a core, and gives the core away when it has waited long
# the phase timer of each state (layout.S_*), -1 = not timed here (idle, paused, done, barrier, held)
TIMER = (-1, C_GRAD_NS, C_COPY_NS, C_PUBLISH_NS, C_LOCK_WAIT_NS, -1, -1, -1, -1)


@njit(nogil=True, cache=True, inline="always")  # one per point: inlined, the constant point folds the branches
def at(sh, me, point, state):
    """Pass protocol point `point` and go on to state `state` (layout.S_*). Returns the ns spent in the phase
    that ends here (0 when it is not timed), e.g. LOCK's wait for the lock."""
    c = me.counters
    if (STRETCHED >> point) & 1:
        ctl.stretch_window(sh.control, c[C_SLOW_T0])  # slow motion, inside the window it stretches
    started = c[C_PHASE_T0]
    spent = 0
    if started != 0:
        spent = native.now_ns() - started
        column = TIMER[c[C_STATE]]
        if column >= 0:
            tel.bump(c, column, spent)
    if atomics.load(me.hold, H_WORD) != 0:
        hold(sh, me, point)
    enter(sh, me, state)
    return spent


@njit(nogil=True, cache=True, inline="always")
def enter(sh, me, state):
    """Show state `state` and start its window (timed when telemetry is on or slow motion may stretch it)."""
    tel.set_state(me.counters, C_STATE, state)
    me.counters[C_PHASE_T0] = native.now_ns() if sh.ip[P_TELEMETRY] != 0 else 0
    me.counters[C_SLOW_T0] = ctl.window_start(sh.control)  # CPU time, or 0 at 1× (engine/control.py)


@njit(nogil=True, cache=True, inline="always")
def begin(sh, data, me, ticket, then):
    """The loop prologue every worker shares: point "start", then the next mini-batch (control.next_batch:
    empty if the thread must stop), then state `then`."""
    at(sh, me, PT_START, then)
    return ctl.next_batch(sh, data, me, ticket)


@njit(nogil=True, cache=True)
def hold(sh, me, point):
    """Hold here while the Runner asks for it (see the module doc)."""
    go = atomics.load(me.hold, H_GO)
    if (atomics.load(me.hold, H_WORD) & ((1 << point) | FREEZE)) == 0:
        return
    atomics.store(me.counters, C_HELD, point + 1)
    tel.set_state(me.counters, C_STATE, S_HELD)
    while not ctl.run_over(sh):
        if atomics.load(me.hold, H_GO) != go or (atomics.load(me.hold, H_WORD) & ((1 << point) | FREEZE)) == 0:
            break
        native.sleep_ns(HOLD_POLL_NS)
    atomics.store(me.counters, C_HELD, 0)


@njit(nogil=True, cache=True)
def delayed(sh, me, t0):
    """The delay adversary (PODC'18's model, `--delay THREAD:TAU`): if this is the delayed thread, wait until
    τ updates have been published since version t0, the one its gradient was computed on, so that its update
    lands τ versions stale (more only if another publishes between this wait and its own publish). False if
    the run ended meanwhile: the gradient is then abandoned."""
    if me.tid != sh.ip[P_DELAY_THREAD]:
        return True
    target = t0 + sh.ip[P_DELAY_TAU]
    if ctl.published(sh) >= target:
        return True
    tel.bump(me.counters, C_DELAYED, 1)
    spins = 0
    while ctl.published(sh) < target:
        if ctl.run_over(sh):
            return False
        if spins < DELAY_SPIN_LOADS:
            spins += 1
        else:
            native.sleep_ns(DELAY_NAP_NS)
    return True


@njit(nogil=True, cache=True)
def hold_command(hold_row, word, let_go):
    """The Runner's side: set the thread's hold word (release), then let a held thread go if asked."""
    atomics.store(hold_row, H_WORD, word)
    if let_go:
        atomics.fetch_add(hold_row, H_GO, 1)
