"""ThreadControls: the learner's hand on the real threads of the current runs — breakpoints, freeze, step,
continue — as a plain class tested without a terminal (tests/test_thread_controls.py). The screens bind the
keys (tui/screens/thread_keys.py) and draw what it says; a lesson script reads its log or observes it.

    controls = ThreadControls(lambda: session.runners)  # the current Runners (Compare: A then B), asked anew
                                                        # on every call, so a restart needs nothing here
    controls.move(+1)              # , and .: the selected lane walks A t0, A t1, …, B t0, … (wraps)
    controls.select(run, tid)      # the thread table's cursor (run: index into the runners)
    controls.selected              # (run, tid), or None when no run is current
    controls.cycle_breakpoint()    # b: the selected thread's breakpoint → the algorithm's next point (then none)
    controls.cycle_breakpoint(every=True)   # B: the same point on every thread of the selected run
    controls.hold("cas")           # set a named breakpoint (every=True: on all threads); ConfigError if the
                                   # algorithm has no such point (engine/config.py POINTS lists them)
    controls.toggle_freeze()       # f: freeze the selected thread where it is, or let it go if it is held
    controls.toggle_freeze(every=True)      # F: every thread of the selected run
    controls.step()                # o: the selected thread goes on to its next protocol point and stops there
    controls.continue_all()        # u: every held thread of every run goes on; breakpoints stay
    controls.clear()               # U: no breakpoint, no freeze, anywhere: every thread runs
    controls.doing(run, tid)       # "held at cas" | "frozen at read" | "running to cas" | "stepping" | "running"
    controls.marks(run)            # {tid: "cas"} where a thread of that run is held now (lanes, thread table)
    controls.last                  # one line: what the last action did (the status line)
    controls.log                   # [Action]: every action, its time and the runner's counters at that moment
    controls.observers.append(fn)  # fn(action) after every action (a lesson's guided step watches the learner)
    controls.guards.append(fn)     # fn(what, run, tid, point) before every action: None lets it happen, a line
                                   # refuses it (a lesson's race: a key that would spoil it is explained instead)
    controls.status(explain=False) # the status line: the selected thread, then each run's progress while held
                                   # (explain: and what its guarantee means, for a wide terminal)
    controls.progress(run)         # while a thread is held: the others' measured rate and the guarantee
    controls.forget()              # a new run replaced the old ones: no breakpoint of theirs applies any more

Every action acts on the live runs only (a run that has ended or not started is left alone) and returns the
Action it logged, or None when it did nothing (no live run). What a thread does now is the engine's own
(runner.holds.held_at reads the thread's C_HELD counter); what the learner asked (breakpoints, freezes) is
kept here per runner, since the engine's hold words hold it as bits only.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from teach_sgd.engine import layout as L
from teach_sgd.engine.config import ALGO_NAMES, LOCKED_POINTS, POINTS

# Each algorithm's progress guarantee (docs/papers.md §F, after Herlihy & Shavit ch. 3), as the status line
# says it beside the measured rate of the threads that are not held.
GUARANTEES = {
    "lock": ("blocking", "a thread held inside the lock stops every other thread"),
    "sync": ("blocking", "every thread waits at the barrier for the held one"),
    "leashed": ("lock-free", "a held thread stops no one; some thread always publishes"),
    "hogwild": ("wait-free", "trivially: it does not synchronise at all, which is why it loses writes"),
    "seq": ("sequential", "one thread, so holding it stops the run"),
}
MIN_WINDOW_S = 0.25  # a rate over less time than this says too little: "measuring…" until then


@dataclass(frozen=True)
class Action:
    """One thing the learner did: when (run time of that run, s), what (hold, unhold, freeze, thaw, step,
    continue, clear), to which run and thread (None: every thread), at which point, and the run's counters at
    that moment: updates published, and each thread's updates."""

    t: float
    what: str
    run: int | None
    tid: int | None
    point: str | None
    published: int
    per_thread: tuple[int, ...]
    line: str


@dataclass(frozen=True)
class Progress:
    """While threads of a run are held: which, since when, what the others published meanwhile."""

    algo: str
    held: tuple[int, ...]        # the held threads (tids)
    seconds: float               # since the set of held threads last changed
    others_updates: int          # updates published by the threads not held, in that time
    others: int                  # how many threads are not held
    points: tuple[str, ...] = ()  # where the held threads are held (() when not known)
    paused: bool = False          # the run is paused: nobody publishes, whatever its guarantee

    @property
    def rate(self) -> float | None:
        """The others' updates/s, None while the window is too short to say."""
        return self.others_updates / self.seconds if self.seconds >= MIN_WINDOW_S else None

    @property
    def guarantee(self) -> str:
        return GUARANTEES[self.algo][0]

    def line(self, explain: bool = False) -> str:
        """e.g. "others: 0 updates/s while thread 1 is held — LOCK is blocking", and with `explain` (a terminal
        wide enough for it) what that means (`why`): ": a thread held inside the lock stops every other thread"."""
        who = (f"thread {self.held[0]} is" if len(self.held) == 1
               else "threads " + ", ".join(map(str, self.held)) + " are")
        verdict = f"{ALGO_NAMES[self.algo]} is {self.guarantee}" + (f": {self.why}" if explain else "")
        if self.paused:  # the others are parked by the pause, not by the held thread: no rate says anything
            return f"run paused — nobody publishes until space resumes it; {who} held"
        if not self.others:
            return f"every thread is held: nobody can publish — {verdict}"
        rate = "measuring…" if self.rate is None else f"{self.rate:,.0f} updates/s"
        if self.algo == "lock" and self.points and not set(self.points) & set(LOCKED_POINTS):  # others go on
            return f"others: {rate} while {who} held outside the lock — LOCK blocks only from inside it"
        return f"others: {rate} while {who} held — {verdict}"

    @property
    def why(self) -> str:
        return GUARANTEES[self.algo][1]


@dataclass
class _Asked:
    """What the learner asked of one runner's threads: each thread's breakpoint, and the frozen ones."""

    breakpoints: dict[int, str] = field(default_factory=dict)
    frozen: set[int] = field(default_factory=set)
    window: tuple | None = None   # (held (tid, point)s, since (clock s), each thread's updates then, actions then,
    #                                paused then): a change of any but the clock and the updates starts a new one


def slow_motion_label(threads: int, stretch: int, cores: int | None = None) -> str | None:
    """"16 threads in slow motion on 2 cores: …" when a slowed-down run has more threads than the machine has
    cores; None otherwise. It says what holds by construction (each stretched window sleeps (S − 1)× the CPU
    time it took, so a thread computes about 1/S of its time) and that whether they then race as on so many
    real cores is not measured (benchmarks/bench_slowmotion.py part 2 compares them; no figure is quoted)."""
    cores = cores or os.cpu_count() or 1
    if stretch <= 1 or threads <= cores:
        return None
    return (f"{threads} threads in slow motion on {cores} cores: each computes about 1/{stretch} of its time, so "
            f"together they need about {threads / stretch:.2g} cores — whether they race as on {threads} real cores "
            "is not measured here")


class ThreadControls:
    def __init__(self, runners, clock=time.monotonic) -> None:
        """runners: () -> the current Runners (None entries and unstarted runs allowed); clock: seconds, for
        the progress window (tests inject one)."""
        self._runners = runners
        self._clock = clock
        self._asked: dict[int, _Asked] = {}   # id(runner) → what was asked of it
        self._sel = (0, 0)
        self.last = ""
        self.log: list[Action] = []
        self.observers: list = []
        self.guards: list = []

    # ---- which runs and threads -------------------------------------------------------------------------
    def runners(self) -> list:
        """The current runs, in order; None where a screen has none yet (Compare's B before it starts)."""
        return list(self._runners())

    def _live(self, run: int):
        rs = self.runners()
        r = rs[run] if 0 <= run < len(rs) else None
        return r if r is not None and r.started and not r.done else None

    def _asked_of(self, runner) -> _Asked:
        known = {id(r) for r in self.runners() if r is not None}
        for k in [k for k in self._asked if k not in known]:   # runs replaced since: forget them
            del self._asked[k]
        return self._asked.setdefault(id(runner), _Asked())

    def forget(self) -> None:
        self._asked.clear()
        self._sel = (0, 0)

    @property
    def live(self) -> bool:
        """A run is live: the keys act."""
        return any(self._live(i) is not None for i in range(len(self.runners())))

    def lanes(self) -> list[tuple[int, int]]:
        return [(i, t) for i, r in enumerate(self.runners()) if r is not None for t in range(r.config.threads)]

    @property
    def selected(self) -> tuple[int, int] | None:
        lanes = self.lanes()
        if not lanes:
            return None
        return self._sel if self._sel in lanes else lanes[0]

    def select(self, run: int, tid: int) -> None:
        if (run, tid) in self.lanes():
            self._sel = (run, tid)

    def move(self, step: int) -> tuple[int, int] | None:
        """, and .: the previous or next lane, across the runs (wraps around)."""
        lanes = self.lanes()
        if not lanes:
            return None
        here = self.selected
        self._sel = lanes[(lanes.index(here) + step) % len(lanes)]
        self.last = f"selected {self._name(*self._sel)}"
        return self._sel

    def _name(self, run: int, tid: int | None) -> str:
        tag = f"{'AB'[run]}: " if len(self.runners()) > 1 and run < 2 else ""
        return f"{tag}thread {tid}" if tid is not None else f"{tag}every thread"

    # ---- the actions ------------------------------------------------------------------------------------
    def _record(self, runner, run: int | None, what: str, tid: int | None, point: str | None, line: str) -> Action:
        counters = runner.state.counters if runner is not None else None
        per = tuple(int(x) for x in counters[:, L.C_UPDATES]) if counters is not None else ()
        action = Action(t=runner.elapsed_s() if runner is not None else 0.0, what=what, run=run, tid=tid,
                        point=point, published=int(runner.state.published()) if runner is not None else 0,
                        per_thread=per, line=line)
        self.log.append(action)
        self.last = line
        for fn in self.observers:
            fn(action)
        return action

    def _refused(self, what: str, run: int | None, tid: int | None, point: str | None) -> bool:
        """A guard refuses the action: it is not performed, and `last` says why."""
        for guard in self.guards:
            why = guard(what, run, tid, point)
            if why:
                self.last = why
                return True
        return False

    def _target(self):
        """(run, runner, tid) of the selected lane if its run is live, else None."""
        sel = self.selected
        if sel is None:
            return None
        runner = self._live(sel[0])
        return (sel[0], runner, sel[1]) if runner is not None else None

    def hold(self, point: str, every: bool = False) -> Action | None:
        """A breakpoint at `point` on the selected thread (every: on all threads of its run), replacing the one
        it had. ConfigError when the run's algorithm has no such point."""
        target = self._target()
        if target is None:
            return None
        run, runner, tid = target
        if self._refused("hold", run, None if every else tid, point):
            return None
        asked = self._asked_of(runner)
        tids = range(runner.config.threads) if every else (tid,)
        for t in tids:
            old = asked.breakpoints.get(t)
            if old is not None and old != point:
                runner.holds.unhold(t, old)
        runner.holds.hold(None if every else tid, point)
        for t in tids:
            asked.breakpoints[t] = point
        who = self._name(run, None if every else tid)
        return self._record(runner, run, "hold", None if every else tid, point,
                            f"breakpoint: {who} stops at “{point}” the next time it gets there")

    def unhold(self, every: bool = False) -> Action | None:
        """Remove the selected thread's breakpoint (every: all of its run's); a thread held at it goes on."""
        target = self._target()
        if target is None:
            return None
        run, runner, tid = target
        asked = self._asked_of(runner)
        if self._refused("unhold", run, None if every else tid, None if every else asked.breakpoints.get(tid)):
            return None
        for t in (range(runner.config.threads) if every else (tid,)):
            point = asked.breakpoints.pop(t, None)
            if point is not None:
                runner.holds.unhold(t, point)
        return self._record(runner, run, "unhold", None if every else tid, None,
                            f"no breakpoint on {self._name(run, None if every else tid)}")

    def cycle_breakpoint(self, every: bool = False) -> Action | None:
        """b (B: every thread): the selected thread's breakpoint moves to the algorithm's next protocol point,
        in the order a thread passes them; after the last one, no breakpoint."""
        target = self._target()
        if target is None:
            return None
        run, runner, tid = target
        points = POINTS[runner.config.algo]
        now = self._asked_of(runner).breakpoints.get(tid)
        nxt = points[0] if now is None else (points[points.index(now) + 1] if now != points[-1] else None)
        return self.hold(nxt, every) if nxt is not None else self.unhold(every)

    def toggle_freeze(self, every: bool = False) -> Action | None:
        """f: the selected thread, if held or frozen, is let go (thawed; its breakpoint stays), else frozen at its
        next protocol point, whichever it is. F: every thread of its run — let go if all are held or frozen,
        else all frozen."""
        target = self._target()
        if target is None:
            return None
        run, runner, tid = target
        asked = self._asked_of(runner)
        tids = list(range(runner.config.threads)) if every else [tid]
        # one thread: let it go if it is stopped; every thread: let them go once all are stopped, else stop them all
        stopped = all(t in asked.frozen or runner.holds.held_at(t) is not None for t in tids)
        if self._refused("thaw" if stopped else "freeze", run, None if every else tid, None):
            return None
        who = self._name(run, None if every else tid)
        if stopped:
            runner.holds.thaw(None if every else tid)
            asked.frozen.difference_update(tids)
            return self._record(runner, run, "thaw", None if every else tid, None, self._thawed(who, runner, tids))
        runner.holds.freeze(None if every else tid)
        asked.frozen.update(tids)
        return self._record(runner, run, "freeze", None if every else tid, None,
                            f"frozen: {who} stops at its next protocol point")

    @staticmethod
    def _thawed(who: str, runner, tids: list[int]) -> str:
        """What f does next, said before it happens: a thread with a breakpoint (the learner's, or a lesson
        race's) is held there again the next time it gets there (often a moment later), which can read as if f
        did nothing."""
        points = [runner.holds.breakpoints(t) for t in tids]
        if not any(points):
            return f"thawed: {who} goes on"
        if not all(points):
            return f"thawed: {who} goes on; a thread with a breakpoint stops there again (U clears breakpoints)"
        at = " and ".join(f"“{p}”" for p in sorted({p for these in points for p in these}))
        return f"thawed: {who} runs on to its breakpoint {at} (U clears breakpoints)"

    def step(self) -> Action | None:
        """o: the selected thread goes on to its next protocol point and stops there (it stays frozen)."""
        target = self._target()
        if target is None:
            return None
        run, runner, tid = target
        was = runner.holds.held_at(tid)
        if self._refused("step", run, tid, was):
            return None
        runner.holds.step(tid)
        self._asked_of(runner).frozen.add(tid)
        where = f"from “{was}” " if was else ""
        return self._record(runner, run, "step", tid, was,
                            f"step: {self._name(run, tid)} goes {where}to its next protocol point and stops")

    def _each_live(self, what: str, line: str, act) -> Action | None:
        """act(runner, asked) on every live run; one Action for them all (None when no run is live, or a guard
        refused it)."""
        if not self.live or self._refused(what, None, None, None):
            return None
        acted = None
        for i in range(len(self.runners())):
            runner = self._live(i)
            if runner is not None:
                act(runner, self._asked_of(runner))
                acted = runner
        return self._record(acted, None, what, None, None, line) if acted is not None else None

    def continue_all(self) -> Action | None:
        """u: every held or frozen thread of every live run goes on; breakpoints stay (a debugger's continue)."""
        def go(runner, asked):
            runner.holds.continue_all()
            asked.frozen.clear()
        return self._each_live("continue", "continue: every held thread goes on (breakpoints stay; U clears them)",
                               go)

    def clear(self) -> Action | None:
        """U: no breakpoint and no freeze on any thread of any live run: every thread runs."""
        def clear(runner, asked):
            runner.holds.clear()
            asked.breakpoints.clear()
            asked.frozen.clear()
        return self._each_live("clear", "cleared: no breakpoints, nothing frozen", clear)

    # ---- what the threads do now --------------------------------------------------------------------------
    def marks(self, run: int) -> dict[int, str]:
        """{tid: point} for the threads of run `run` held right now (its lanes and table rows show them)."""
        runner = self._live(run)
        if runner is None:
            return {}
        return {t: p for t in range(runner.config.threads) if (p := runner.holds.held_at(t)) is not None}

    def doing(self, run: int, tid: int) -> str:
        """What thread `tid` of run `run` is doing, as far as breakpoints go."""
        runner = self._live(run)
        if runner is None:
            return "not running"
        asked = self._asked_of(runner)
        at = runner.holds.held_at(tid)
        if at is not None:
            return f"{'frozen' if tid in asked.frozen else 'held'} at {at}"
        if tid in asked.frozen:
            return "stepping"  # let go to its next point (or frozen, not yet at one)
        bp = asked.breakpoints.get(tid)
        return f"running to {bp}" if bp else "running"

    def anything_asked(self) -> bool:
        """Some breakpoint or freeze is set on a live run (the screens show the progress line then)."""
        return any((a := self._asked.get(id(r))) is not None and (a.breakpoints or a.frozen)
                   for i, r in enumerate(self.runners()) if r is not None and self._live(i) is not None)

    def status(self, explain: bool = False) -> str | None:
        """The status line while something is asked or held: what the selected thread does ("thread 0 frozen at
        read", left out while it just runs), then each run's progress while threads of it are held (`explain`:
        with what the guarantee means, Progress.line); None when nothing is asked or held."""
        if not self.anything_asked() and not any(self.marks(i) for i in range(len(self.runners()))):
            return None
        two = len(self.runners()) > 1
        parts = [("AB"[i] + " " if two and i < 2 else "") + p.line(explain)
                 for i in range(len(self.runners())) if (p := self.progress(i)) is not None]
        sel = self.selected
        doing = self.doing(*sel) if sel is not None else None
        if sel is not None and (parts == [] or doing != "running"):
            parts.insert(0, f"{self._name(*sel)} {doing}")
        return " · ".join(parts)

    def progress(self, run: int) -> Progress | None:
        """While threads of run `run` are held: the others' updates since who is held where last changed, or the
        learner last acted (each thread's own C_UPDATES counter), over the time since then; None when none is
        held. Call it on every repaint: each call takes a reading, and such a change starts a new window."""
        runner = self._live(run)
        if runner is None:
            return None
        where = tuple(sorted(self.marks(run).items()))
        held = tuple(t for t, _ in where)
        asked = self._asked_of(runner)
        if not held:
            asked.window = None
            return None
        updates = runner.state.counters[:, L.C_UPDATES]
        now = self._clock()
        paused = runner.paused
        if asked.window is None or (asked.window[0], asked.window[3], asked.window[4]) != (where, len(self.log), paused):
            asked.window = (where, now, tuple(int(x) for x in updates), len(self.log), paused)
        _, since, then, _, _ = asked.window
        others = [t for t in range(runner.config.threads) if t not in held]
        return Progress(algo=runner.config.algo, held=held, seconds=now - since,
                        others_updates=sum(int(updates[t]) - then[t] for t in others), others=len(others),
                        points=tuple(p for _, p in where), paused=paused)
