"""Breakpoints on real threads: the Runner's side of the phase hook's hold words (engine/phase.py).

    holds = runner.holds
    holds.hold(0, "cas")     # a breakpoint: thread 0 stops before its next CAS (tid None: every thread)
    holds.held_at(0)         # "cas" once it is there, None while it runs
    holds.step(0)            # let it go to its next protocol point, and hold it there
    holds.freeze(1)          # thread 1 stops at its next point, whichever it is
    holds.thaw(1)            # … and goes on (its breakpoints stay)
    holds.unhold(0, "cas")   # remove the breakpoint (a thread held at it goes on)
    holds.continue_all()     # every held thread goes on; breakpoints stay
    holds.clear()            # no breakpoint, no freeze: every thread runs

A held thread sleeps at its point and leaves it when let go or when the run ends (stop, Ctrl-C, deadline,
budget), so no hold outlives its run. Held threads never deadlock the run; but a held LOCK holder (at
"holding", "copied" or "applied") or a held SYNC thread stops every other thread until it is let go or the
run is stopped — that is the lesson: those two are blocking.

Each thread's hold word is written only here (under a lock, so two callers cannot interleave their
read-modify-writes), and through phase.hold_command, whose release store and add order it for the thread on
any CPU. FreezeSchedule runs `--freeze THREAD:POINT:START:SECONDS` from the Runner's drainer.
"""
from __future__ import annotations

import threading
import time

from teach_sgd.engine import layout as L
from teach_sgd.engine.config import POINTS
from teach_sgd.engine.phase import hold_command
from teach_sgd.errors import ConfigError


class Holds:
    def __init__(self, state):
        self.state = state
        self.algo = state.config.algo
        self.threads = state.config.threads
        self._words = [0] * self.threads
        self._lock = threading.Lock()

    def _bit(self, point: str) -> int:
        if point not in POINTS[self.algo]:
            raise ConfigError(f"{self.algo}'s threads pass the points {', '.join(POINTS[self.algo])}, not {point}",
                              "point")
        return 1 << L.POINT_NAMES.index(point)

    def _tids(self, tid: int | None) -> range:
        if tid is None:
            return range(self.threads)
        if not 0 <= tid < self.threads:
            raise ConfigError(f"there is no thread {tid}: the threads are 0 to {self.threads - 1}", "thread")
        return range(tid, tid + 1)

    def _set(self, tid: int | None, on: int = 0, off: int = 0, let_go: bool = False) -> None:
        with self._lock:
            for t in self._tids(tid):
                self._words[t] = (self._words[t] | on) & ~off
                hold_command(self.state.hold[t], self._words[t], let_go)

    def hold(self, tid: int | None, point: str) -> None:
        """A breakpoint: the thread (None: every thread) stops when it next reaches `point`."""
        self._set(tid, on=self._bit(point))

    def unhold(self, tid: int | None, point: str) -> None:
        """Remove a breakpoint; a thread held at it goes on."""
        self._set(tid, off=self._bit(point), let_go=True)

    def freeze(self, tid: int | None) -> None:
        """Stop at the next protocol point, whichever it is."""
        self._set(tid, on=L.FREEZE)

    def thaw(self, tid: int | None) -> None:
        """Go on from wherever it is held; its breakpoints stay."""
        self._set(tid, off=L.FREEZE, let_go=True)

    def step(self, tid: int | None) -> None:
        """Go on to the next protocol point and stop there."""
        self._set(tid, on=L.FREEZE, let_go=True)

    def continue_all(self) -> None:
        """Every held thread goes on; breakpoints stay (as a debugger's continue)."""
        self.thaw(None)

    def clear(self) -> None:
        """No breakpoints and no freeze on any thread: all run."""
        self._set(None, off=~0, let_go=True)

    def breakpoints(self, tid: int) -> tuple[str, ...]:
        """The points where thread `tid` has a breakpoint now (whoever set it: the learner, a lesson's race,
        --freeze)."""
        word = self._words[self._tids(tid)[0]]
        return tuple(p for i, p in enumerate(L.POINT_NAMES) if word & (1 << i))

    def stops_at(self, tid: int, point: str) -> bool:
        """Whether thread `tid` would be held at `point` if it got there now: a breakpoint there, or a freeze."""
        return bool(self._words[self._tids(tid)[0]] & (L.FREEZE | self._bit(point)))

    def held_at(self, tid: int) -> str | None:
        """The point where thread `tid` is held right now, or None. A thread let go from its point (clear,
        unhold, thaw) keeps its C_HELD mark until it next looks at its hold word (every 200 µs, later on a busy
        machine); while nothing would hold it there any more (stops_at), it is not held, whatever the mark says."""
        v = int(self.state.counters[self._tids(tid)[0], L.C_HELD])
        point = L.POINT_NAMES[v - 1] if v > 0 else None
        return point if point is not None and self.stops_at(tid, point) else None


class FreezeSchedule:
    """`--freeze THREAD:POINT:START:SECONDS`: a breakpoint set at START s of run time; once the thread is held
    there it stays SECONDS s, then the breakpoint is removed (it fires once). `tick(run_s)` is called by the
    drainer every few ms; held_s and the updates published meanwhile (all by other threads: a held thread
    publishes nothing) are measured from the tick that sees it held to the tick that lets it go."""

    def __init__(self, holds: Holds, spec, published):
        self.holds = holds
        self.thread, self.point, self.start, self.seconds = spec
        self.published = published  # () -> updates published so far
        self.phase = "waiting"
        self._held_from = 0.0
        self._updates_from = 0
        self.held_s = 0.0
        self.updates_by_others = 0

    def tick(self, run_s: float) -> None:
        if self.phase == "waiting" and run_s >= self.start:
            self.holds.hold(self.thread, self.point)
            self.phase = "armed"
        if self.phase == "armed" and self.holds.held_at(self.thread) == self.point:
            self._held_from, self._updates_from = time.perf_counter(), self.published()
            self.phase = "held"
        if self.phase == "held":
            self.held_s = time.perf_counter() - self._held_from
            self.updates_by_others = self.published() - self._updates_from
            if self.held_s >= self.seconds:
                self.holds.unhold(self.thread, self.point)
                self.phase = "done"

    def result(self) -> dict:
        return {"thread": self.thread, "point": self.point, "held_s": self.held_s,
                "updates_by_others_while_held": self.updates_by_others}
