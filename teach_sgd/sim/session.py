"""SimSession: one learner at the simulator — the machine, whoever schedules it, its history — without a terminal.

    s = SimSession(SimConfig(...))
    s.apply(config)                 # new settings: a new machine, or the same machine under a new scheduler
    s.step(tid)                     # one step of thread tid (StepRefused: s.refusal(tid) says why, in a sentence)
    s.scheduled_step()              # one step of the scheduler's choice; None, or why the scheduler stopped
    s.undo()                        # exact: the schedule's prefix replayed from step 0, scheduler state included
    s.iters, s.dist2, s.gap         # convergence history, one point per completed iteration
    s.diverged                      # ‖X−x*‖² past DIVERGENCE_FACTOR × ‖x0−x*‖² (s.divergence_text() says so)
    s.save(directory)               # the machine and its schedule as JSON (Machine.load replays it), via output.py

The machine is pure Python (a few µs a step); the screen steps it on a timer and draws it.
"""
from __future__ import annotations

import json

from teach_sgd.output import write_new
from teach_sgd.settings import bound_text
from teach_sgd.sim.config import SimConfig
from teach_sgd.sim.run import DIVERGENCE_FACTOR
from teach_sgd.sim.sweep import predicted_threshold


class SimSession:
    def __init__(self, config: SimConfig):
        self.config = config
        self.machine = None
        self.apply(config, reset=True)

    # ---- settings -------------------------------------------------------------------------------------
    def apply(self, config: SimConfig, reset: bool = False) -> tuple[str, str] | None:
        """Use these settings: a new machine if anything but the scheduler changed (or `reset`), else keep the
        machine's state and hand it to the new scheduler (the stale-read adversary starts from step 0).
        Returns (what happened, its tone: "info" | "warn"), None if nothing changed."""
        old = self.config if self.machine is not None else None
        self.config = config
        if reset or old is None or config.machine_key() != old.machine_key():
            self.machine = config.make_machine()
            self._new_run()
            return "new machine: " + describe(config), "info"
        if config.scheduler == old.scheduler:
            return None
        said = (f"scheduler now {config.scheduler}; the machine keeps its state", "info")
        if config.scheduler == "stale-read" and self.machine.steps:
            self.machine.reset()
            self._new_run()
            said = ("the stale-read adversary plays from step 0: the machine was reset", "warn")
        self.scheduler = config.make_scheduler()
        self._sched_from = self.machine.steps
        return said

    def _new_run(self) -> None:
        m = self.machine
        self.scheduler = self.config.make_scheduler()
        self._sched_from = 0         # the step at which the current scheduler took over
        self.last = None             # (thread, instruction) of the latest step
        self.diverged = False
        obj = m.objective
        self.f_star = obj.loss(obj.x_star)
        self.limit = DIVERGENCE_FACTOR * max(float(((m.x0 - obj.x_star) ** 2).sum()), 1e-12)
        self.iters, self.dist2, self.gap = [], [], []
        self._record()

    def _record(self) -> None:
        m = self.machine
        d2 = m.distance2()
        self.iters.append(m.completed)
        self.dist2.append(d2)
        self.gap.append(m.loss() - self.f_star)
        if not d2 <= self.limit:
            self.diverged = True

    # ---- stepping -------------------------------------------------------------------------------------
    @property
    def manual(self) -> bool:
        return self.scheduler is None

    def step(self, tid: int) -> list:
        """One step of thread tid (may raise StepRefused); keeps the convergence history."""
        m = self.machine
        ins = m.next_instr(tid)
        events = m.step(tid)
        self.last = (tid, ins)
        if m.completed != self.iters[-1]:
            self._record()
        return events

    def scheduled_step(self) -> str | None:
        """One step of the scheduler's choice; None, or why the scheduler could not go on."""
        try:
            self.step(self.scheduler.choose(self.machine))
        except Exception as e:  # a scheduler that cannot go on: said, never a crash
            return f"the {self.config.scheduler} scheduler stopped: {e}"
        return None

    def undo(self) -> bool:
        """Back one step (False at step 0)."""
        if not self.machine.steps:
            return False
        self.rebuild(self.machine.schedule[:-1])
        return True

    def rebuild(self, schedule: list[int]) -> None:
        """Replay `schedule` from step 0 (exact), bringing the scheduler's own state along with it."""
        m = self.machine
        schedule = list(schedule)
        self._sched_from = min(self._sched_from, len(schedule))
        fresh = self.config.make_scheduler()
        m.reset()
        self.last = None
        for k, tid in enumerate(schedule):
            if fresh is not None and k >= self._sched_from:
                fresh.choose(m)  # the scheduler's choices are deterministic: this replays its state too
            self.last = (tid, m.next_instr(tid))
            m.step(tid)
        self.scheduler = fresh
        while self.iters and self.iters[-1] > m.completed:
            self.iters.pop()
            self.dist2.pop()
            self.gap.pop()
        if not self.iters:
            self._record()
        self.diverged = any(not d <= self.limit for d in self.dist2)

    # ---- what to say ----------------------------------------------------------------------------------
    def refusal(self, tid: int) -> str:
        """Why the leash refuses thread tid's next step, in one sentence (see teach_sgd.sim.delay)."""
        m = self.machine
        tau = m.tau_max
        in_flight = m.in_flight_delays()
        if tid not in in_flight:
            return (f"{len(in_flight)} iterations are already in flight; starting one more would let the adversary "
                    f"delay one of them past τ_max = {tau}")
        others = ", ".join(f"thread {t} (delay {d})" for t, d in sorted(in_flight.items()) if t != tid)
        return (f"completing its iteration now adds 1 to the delay of {others}: they could not all finish within "
                f"τ_max = {tau} — step another thread first")

    def threshold_text(self) -> tuple[str, bool]:
        """The stale-read threshold for these settings ('' where none applies), and whether α is at or past it."""
        c = self.config
        if c.objective != "quadratic" or c.tau_max is None:
            return "", False
        thr = predicted_threshold(c.tau_max, c.c)
        text = f"stale-read diverges iff α ≥ 2/((τ+1)c) = {thr:.4g}"
        if c.alpha >= thr:
            return f"{text}: α = {c.alpha:g} is not below", True
        return f"{text} (α = {c.alpha:g})", False

    def divergence_text(self) -> str:
        text = f"✗ diverged (‖X−x*‖² > {DIVERGENCE_FACTOR:g}·‖x0−x*‖²)"
        c = self.config
        if c.objective == "quadratic" and c.tau_max is not None:
            thr = predicted_threshold(c.tau_max, c.c)
            if c.alpha >= thr:
                text += f": α = {c.alpha:g} ≥ 2/((τ+1)c) = {thr:.4g}"
        return text + " — r resets"

    # ---- save -----------------------------------------------------------------------------------------
    def save(self, directory):
        """Write the machine and its schedule as JSON (`Machine.load(path)` replays it exactly); returns the path."""
        m, c = self.machine, self.config
        record = m.to_json() | {"scheduler": c.scheduler,
                                "replay": "teach_sgd.sim.Machine.load(path) rebuilds this state exactly"}
        [path] = write_new(directory, f"sim-{c.mode}-{c.scheduler}-n{m.threads}-{m.steps}steps",
                           {".json": json.dumps(record, indent=1) + "\n"})
        return path


def describe(c: SimConfig) -> str:
    return (f"{c.mode}, {c.scheduler}, n = {c.threads}, τ_max = {bound_text(c.tau_max)}, α = {c.alpha:g}, {c.objective} d = {c.d}, "
            f"seed {c.seed}")


def short(e) -> str:
    """One event in a few words, for the message line."""
    if e.kind == "lost_update":
        return f"LOST UPDATE: x[{e.coord}] lost {e.erased} write(s) by thread {e.by}"
    if e.kind == "cas_failed":
        return f"CAS FAILED (built on v{e.expected}, P at v{e.found})"
    if e.kind == "dropped":
        return f"gradient DROPPED after {e.failures} failed CAS"
    return f"iteration {e.iteration} completed with delay {e.delay}"
