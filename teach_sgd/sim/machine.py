"""The step machine: shared memory X, n virtual threads as program counters, one instruction per step.

`Machine.step(t)` runs the next instruction of thread t (see `program.py` for the three programs). Who runs
next is never the machine's choice: a scheduler, a saved schedule or a learner decides. The machine only
refuses steps that would break its leash τ_max (see `delay.py`), if it has one.

The state after k steps is a pure function of the construction arguments and the first k thread ids of
`schedule`: every thread draws its gradient noise from its own generator, spawned from the seed, and nothing
reads a clock. That is what makes `undo` (replay the prefix) and saved schedules exact.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from teach_sgd.output import write_atomic

from .delay import keeps_bound
from .events import CasFailed, Completed, Dropped, Event, LostUpdate
from .objectives import make_objective
from .program import Instr, Op, program, retry_pc


class StepRefused(Exception):
    """The leash refuses the step: after it, some in-flight delay could no longer stay within τ_max."""


@dataclass
class _Thread:
    rng: np.random.Generator
    view: np.ndarray
    pc: int = 0
    grad: np.ndarray | None = None
    loaded: float = 0.0          # HOGWILD!: the value LOAD saw
    loaded_stamp: int = 0        # HOGWILD!: how many writes X[j] had seen at that LOAD
    t0: int | None = None        # Leashed: version the gradient was computed on
    t1: int | None = None        # Leashed: version the candidate is built on
    base: np.ndarray | None = None
    candidate: np.ndarray | None = None
    failures: int = 0            # Leashed: failed CAS in the current iteration
    delay: int = 0
    started_at: int | None = None
    completed: int = 0


@dataclass(frozen=True)
class ThreadInfo:
    """A copy of one thread's state, for display. `delay` is None when the thread is between iterations."""

    thread: int
    pc: int
    next: Instr
    in_flight: bool
    delay: int | None
    started_at: int | None
    completed: int
    view: np.ndarray
    gradient: np.ndarray | None
    cas_failures: int
    version_read: int | None
    version_base: int | None
    loaded: float | None = None
    writes_since_load: int | None = None


class Machine:
    """n virtual threads running SGD on one shared model, one instruction per `step`.

    objective   an object from `objectives.py` (d, x_star, loss, gradient, default_x0, spec)
    threads     n ≥ 1
    alpha       the step size α
    mode        "faa" (the PODC 2018 model), "hogwild" (racy load/store) or "leashed" (CAS publish)
    seed        seeds every thread's gradient noise
    tau_max     the leash: refuse steps that would make a delay > tau_max unavoidable (None: no leash)
    persistence Leashed-SGD's Tp: drop a gradient after Tp + 1 failed CAS (None: retry forever)
    x0          start point (default: the objective's)
    """

    def __init__(self, objective, *, threads: int, alpha: float, mode: str = "faa", seed: int = 0,
                 tau_max: int | None = None, persistence: int | None = None, x0=None):
        if threads < 1:
            raise ValueError("the machine needs at least one thread")
        if not np.isfinite(alpha) or alpha <= 0:
            raise ValueError("the step size α must be a positive number")
        if tau_max is not None and tau_max < 0:
            raise ValueError("τ_max must be ≥ 0")
        if persistence is not None and persistence < 0:
            raise ValueError("the persistence bound must be ≥ 0")
        self.objective = objective
        self.threads = int(threads)
        self.alpha = float(alpha)
        self.mode = mode
        self.seed = int(seed)
        self.tau_max = None if tau_max is None else int(tau_max)
        self.persistence = None if persistence is None else int(persistence)
        self.program = program(mode, objective.d)
        self._retry_pc = retry_pc(self.program) if mode == "leashed" else None
        start = objective.default_x0() if x0 is None else np.asarray(x0, dtype=float)
        if start.shape != (objective.d,):
            raise ValueError(f"x0 must have {objective.d} coordinates")
        self.x0 = start.copy()
        self.reset()

    # ---- history -------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to step 0: X = x0, every thread before its first instruction, no history."""
        d = self.objective.d
        self._x = self.x0.copy()
        self._threads = [_Thread(rng=np.random.default_rng(s), view=np.full(d, np.nan))
                         for s in np.random.SeedSequence(self.seed).spawn(self.threads)]
        self._stamp = [0] * d
        self._last_writer = [-1] * d
        self.schedule: list[int] = []
        self.events: list[Event] = []
        self.delays: list[int] = []
        self.completed = 0
        self._in_flight = 0
        self._budget_epoch = 0
        self._leash_cache: dict[int, tuple[int, bool]] = {}
        self.lost_updates = 0
        self.cas_failures = 0
        self.dropped = 0

    def replay(self, schedule) -> None:
        """Reset, then take these steps (thread ids) in order."""
        self.reset()
        for tid in schedule:
            self.step(tid)

    def undo(self, steps: int = 1) -> int:
        """Take back the last `steps` steps (exactly: the prefix is replayed). Returns how many were undone."""
        steps = max(0, min(steps, len(self.schedule)))
        if steps:
            self.replay(self.schedule[:-steps])
        return steps

    # ---- stepping ------------------------------------------------------------------------------------

    def enabled_threads(self) -> list[int]:
        """The threads that may take the next step (all of them, unless the leash forbids some)."""
        if self.tau_max is None:
            return list(range(self.threads))
        return [t for t in range(self.threads) if self._within_leash(self._threads[t])]

    def is_enabled(self, tid: int) -> bool:
        return self.tau_max is None or self._within_leash(self._thread(tid))

    def step(self, tid: int) -> list[Event]:
        """Run thread tid's next instruction; return the events it caused (also appended to `events`)."""
        th = self._thread(tid)
        tid = int(tid)
        if self.tau_max is not None and not self._within_leash(th):
            raise StepRefused(f"thread {tid} may not step now: an in-flight delay would exceed "
                              f"τ_max = {self.tau_max}")
        at = len(self.schedule)
        self.schedule.append(tid)
        ins = self.program[th.pc]
        if th.pc == 0:
            self._start(th, at)
        events: list[Event] = []
        op, j = ins.op, ins.coord
        th.pc += 1
        if op is Op.READ:
            th.view[j] = self._x[j]
        elif op is Op.GRADIENT:
            th.grad = self.objective.gradient(th.view, th.rng)
        elif op is Op.FETCH_ADD:
            self._x[j] += -self.alpha * th.grad[j]
        elif op is Op.LOAD:
            th.loaded = self._x[j]
            th.loaded_stamp = self._stamp[j]
        elif op is Op.STORE:
            erased = self._stamp[j] - th.loaded_stamp
            if erased:
                self.lost_updates += erased
                events.append(LostUpdate(at, tid, j, erased, self._last_writer[j], float(self._x[j] - th.loaded)))
            self._x[j] = th.loaded - self.alpha * th.grad[j]
            self._stamp[j] += 1
            self._last_writer[j] = tid
        elif op is Op.READ_POINTER:
            # Published versions are never written again, so holding a reference is holding a snapshot.
            th.view, th.t0 = self._x, self.completed
        elif op is Op.READ_LATEST:
            th.base, th.t1 = self._x, self.completed
        elif op is Op.BUILD:
            th.candidate = th.base - self.alpha * th.grad
        elif op is Op.CAS:
            # Versions are numbered by the count of publishes, which only grows: equal numbers mean the same
            # version, so this comparison cannot be fooled by reuse (no ABA).
            if self.completed == th.t1:
                self._x = th.candidate
            else:
                self._cas_failed(th, tid, at, events)
        if th.pc == len(self.program):
            self._complete(th, tid, at, events)
        self.events.extend(events)
        return events

    def _thread(self, tid) -> _Thread:
        if not 0 <= tid < self.threads:
            raise ValueError(f"no thread {tid}: threads are 0..{self.threads - 1}")
        return self._threads[tid]

    def _start(self, th: _Thread, at: int) -> None:
        self._in_flight += 1
        self._budget_epoch += 1
        th.delay, th.started_at, th.failures = 0, at, 0
        th.grad = th.base = th.candidate = th.t0 = th.t1 = None
        if self.mode != "leashed":
            th.view = np.full(self.objective.d, np.nan)

    def _cas_failed(self, th: _Thread, tid: int, at: int, events: list) -> None:
        th.failures += 1
        self.cas_failures += 1
        events.append(CasFailed(at, tid, th.t1, self.completed))
        if self.persistence is not None and th.failures > self.persistence:
            self.dropped += 1
            events.append(Dropped(at, tid, th.failures))
            th.pc = 0
            self._in_flight -= 1
            self._budget_epoch += 1
        else:
            th.pc = self._retry_pc

    def _complete(self, th: _Thread, tid: int, at: int, events: list) -> None:
        for other in self._threads:
            if other is not th and other.pc != 0:
                other.delay += 1
        self.completed += 1
        self._in_flight -= 1
        self._budget_epoch += 1
        th.completed += 1
        th.pc = 0
        self.delays.append(th.delay)
        events.append(Completed(at, tid, self.completed, th.delay, th.started_at))

    def _would_complete(self, th: _Thread) -> bool:
        if th.pc != len(self.program) - 1:
            return False
        return self.program[th.pc].op is not Op.CAS or self.completed == th.t1

    def _within_leash(self, th: _Thread) -> bool:
        # A start adds the largest budget, τ_max, which sorts last: given the invariant (which every step
        # preserves), it holds afterwards iff at most τ_max + 1 iterations are then in flight.
        if th.pc == 0:
            return self._in_flight <= self.tau_max
        if not self._would_complete(th):
            return True
        # Budgets only change when an iteration starts, completes or is dropped; cache per such event.
        if self._leash_cache.get(id(th), (None,))[0] != self._budget_epoch:
            ok = keeps_bound(self.tau_max - o.delay - 1 for o in self._threads if o is not th and o.pc != 0)
            self._leash_cache[id(th)] = (self._budget_epoch, ok)
        return self._leash_cache[id(th)][1]

    # ---- what a UI shows -----------------------------------------------------------------------------

    @property
    def steps(self) -> int:
        return len(self.schedule)

    @property
    def d(self) -> int:
        return self.objective.d

    @property
    def version(self) -> int:
        """Leashed: the number t of the latest published version (every completion is one publish)."""
        return self.completed

    @property
    def max_delay(self) -> int:
        return max(self.delays, default=0)

    def shared(self) -> np.ndarray:
        """A copy of the shared model X (in Leashed mode: the latest published version)."""
        return self._x.copy()

    def thread_view(self, tid: int) -> np.ndarray:
        """A copy of thread tid's local view of the model; NaN marks coordinates not read yet."""
        return self._thread(tid).view.copy()

    def next_instr(self, tid: int) -> Instr:
        return self.program[self._thread(tid).pc]

    def in_flight_delays(self) -> dict[int, int]:
        """Current delay of every in-flight iteration, by thread (compare with tau_max)."""
        return {t: th.delay for t, th in enumerate(self._threads) if th.pc != 0}

    def thread_info(self, tid: int) -> ThreadInfo:
        th = self._thread(tid)
        in_flight = th.pc != 0
        ins = self.program[th.pc]
        # Between its LOAD and STORE a HOGWILD! thread holds a value that others' writes can make stale.
        holding = ins.op is Op.STORE
        return ThreadInfo(
            thread=tid, pc=th.pc, next=self.program[th.pc], in_flight=in_flight,
            delay=th.delay if in_flight else None, started_at=th.started_at if in_flight else None,
            completed=th.completed, view=th.view.copy(),
            gradient=None if th.grad is None else th.grad.copy(),
            cas_failures=th.failures, version_read=th.t0, version_base=th.t1,
            loaded=th.loaded if holding else None,
            writes_since_load=self._stamp[ins.coord] - th.loaded_stamp if holding else None)

    def loss(self) -> float:
        return self.objective.loss(self._x)

    def distance2(self) -> float:
        """‖X − x*‖²."""
        diff = self._x - self.objective.x_star
        return float(diff @ diff)

    # ---- saving and replaying ------------------------------------------------------------------------

    def spec(self) -> dict:
        """The construction arguments, as plain JSON values (floats round-trip exactly through json)."""
        return {"objective": self.objective.spec(), "threads": self.threads, "alpha": self.alpha,
                "mode": self.mode, "seed": self.seed, "tau_max": self.tau_max,
                "persistence": self.persistence, "x0": self.x0.tolist()}

    def to_json(self) -> dict:
        return {"machine": self.spec(), "schedule": list(self.schedule)}

    @classmethod
    def from_json(cls, record: dict) -> Machine:
        """Rebuild a machine from `to_json()` and replay its schedule: the same state, bit for bit."""
        spec = dict(record["machine"])
        objective = make_objective(spec.pop("objective"))
        machine = cls(objective, **spec)
        machine.replay(record.get("schedule", []))
        return machine

    def save(self, path) -> None:
        write_atomic(path, json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path) -> Machine:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
