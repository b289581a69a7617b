"""SimPlayer: the simulator screen's keys as a state machine over a SimSession, without a terminal.

    p = SimPlayer(SimSession(config))
    p.toggle()             # space: run the scheduler / pause; what to say
    p.tick()               # one timer tick while running: steps_per_tick() scheduled steps, stopping at a refusal
                           # or a divergence; what to say then (None while all is well)
    p.scheduled()          # .: one step of the scheduler's choice
    p.thread(tid)          # 1–9: one step of thread tid (manual scheduler only)
    p.undo() · p.change_speed(±1) · p.suspend() · p.apply(config, reset)   # reset: r, a new machine at step 0
    p.running, p.speed, p.state      # state: "diverged" · "manual" · "running" · "paused"

Every key returns (sentence, tone): tone is one of TONES, which the screen maps to a colour. The screen owns the
timer (it starts one at tick_hz() ticks a second while p.running) and draws the machine.
"""
from __future__ import annotations

from teach_sgd.sim import StepRefused
from teach_sgd.sim.config import SimConfig
from teach_sgd.sim.session import SimSession, describe, short

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)   # steps per second
DEFAULT_SPEED = 20
TICK_HZ = 20      # stepping ticks per second at speeds above TICK_HZ
TONES = ("note", "info", "warn", "error", "ok")
Said = tuple[str, str]   # (sentence, tone)


class SimPlayer:
    def __init__(self, session: SimSession):
        self.session = session
        self.running = False
        self.speed = DEFAULT_SPEED

    @property
    def state(self) -> str:
        s = self.session
        return "diverged" if s.diverged else "manual" if s.manual else "running" if self.running else "paused"

    def tick_hz(self) -> int:
        return min(self.speed, TICK_HZ)

    def steps_per_tick(self) -> int:
        return max(1, self.speed // TICK_HZ)

    # ---- settings -------------------------------------------------------------------------------------
    def apply(self, config: SimConfig, reset: bool = False) -> Said | None:
        """New settings (SimSession.apply), or with `reset` a new machine at step 0 (r); a new machine, a machine
        at step 0 or the manual scheduler pauses."""
        s = self.session
        before = s.machine
        said = s.apply(config, reset)
        if s.machine is not before or s.machine.steps == 0 or s.manual:
            self.running = False
        return ("reset to step 0 with the settings shown: " + describe(config), "info") if reset else said

    # ---- keys -----------------------------------------------------------------------------------------
    def toggle(self) -> Said:
        s = self.session
        if self.running:
            self.running = False
            return "paused — . steps once, space runs again", "note"
        if s.manual:
            return "manual scheduler: you pick every step with 1–9 (or choose a scheduler in the settings)", "warn"
        if s.diverged:
            return "the run has diverged — r resets, u undoes a step", "error"
        self.running = True
        return (f"running {s.config.scheduler} at {self.speed} steps/s — space pauses, + / − change speed",
                "note")

    def _scheduled_step(self) -> Said | None:
        """One step of the scheduler's choice; what to say (and paused) if it cannot, or if the run diverged."""
        why = self.session.scheduled_step()
        if why is not None:
            self.running = False
            return f"✗ {why}", "error"
        if self.session.diverged:
            self.running = False
            return self.session.divergence_text(), "error"
        return None

    def tick(self) -> Said | None:
        if not self.running or self.session.manual:
            return None
        for _ in range(self.steps_per_tick()):
            said = self._scheduled_step()
            if said is not None:
                return said
        return None

    def scheduled(self) -> Said:
        s = self.session
        if s.manual:
            return "manual scheduler: press 1–9 to step a thread yourself", "warn"
        self.running = False
        said = self._scheduled_step()
        if said is not None:
            return said
        tid, ins = s.last
        return f"the {s.config.scheduler} scheduler chose thread {tid}: {ins}", "note"

    def thread(self, tid: int) -> Said:
        s, m = self.session, self.session.machine
        if not s.manual:
            return (f"the {s.config.scheduler} scheduler decides who steps: choose the manual scheduler to pick "
                    "threads yourself (. takes one scheduled step)", "warn")
        if tid >= m.threads:
            return f"there are only {m.threads} threads: keys 1–{m.threads}", "warn"
        ins = m.next_instr(tid)
        try:
            events = s.step(tid)
        except StepRefused:
            return f"✗ thread {tid} refused: {s.refusal(tid)}", "error"
        if s.diverged:
            return s.divergence_text(), "error"
        if not events:
            return f"thread {tid}: {ins}", "note"
        lost = any(e.kind != "completed" for e in events)
        return f"thread {tid}: {ins} → " + "; ".join(short(e) for e in events), "error" if lost else "ok"

    def undo(self) -> Said:
        self.running = False
        if self.session.undo():
            return f"undone: back to step {self.session.machine.steps}", "info"
        return "nothing to undo: this is step 0", "warn"

    def change_speed(self, direction: int) -> Said:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else SPEEDS.index(DEFAULT_SPEED)
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, i + direction))]
        return f"speed {self.speed} steps/s", "note"

    def suspend(self) -> Said | None:
        """The screen was left (home, another screen, the help): stepping stops; space runs again on return."""
        if not self.running:
            return None
        self.running = False
        return "paused while you were away — space runs again", "note"
