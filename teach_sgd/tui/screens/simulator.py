"""SimulatorScreen: the step machine of teach_sgd.sim, one instruction at a time, on screen.

    settings row        mode · scheduler · n · τ_max · α · objective · d · seed · noise · Tp
    status line         RUNNING / PAUSED / MANUAL / DIVERGED, speed; a message for refusals, saves, errors
    shared memory       X (or the version P points to), x*, ‖X−x*‖², f(X)−f*, counters
    one panel a thread  program with the next instruction highlighted, local view, gradient, delay vs τ_max
    convergence         ‖X−x*‖² and f−f* against completed iterations (log y)
    event log           completions with their delay, lost updates, failed CAS, dropped gradients

The machine is pure Python (a few µs a step), so it steps on the UI thread, in a timer callback, several
steps per tick at high speed; the panels redraw at most 15 times a second while running and at once after a
key. Every panel is a function of the machine, so undo (an exact replay of the schedule's prefix) needs no
bookkeeping beyond trimming the convergence history.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from teach_sgd.sim import StepRefused
from teach_sgd.sim.run import DIVERGENCE_FACTOR
from teach_sgd.sim.sweep import predicted_threshold
from teach_sgd.errors import ConfigError
from teach_sgd.sim.config import SimConfig
from teach_sgd.tui.widgets.sim_form import SimSettings
from teach_sgd.tui.widgets.sim_panels import EventLog, SharedPanel, ThreadPanel
from teach_sgd.tui.widgets.sim_plot import SimPlot
from teach_sgd.tui.widgets.too_small import TooSmall

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)   # steps per second
DEFAULT_SPEED = 20
TICK_HZ = 20      # stepping ticks per second at speeds above TICK_HZ
DRAW_HZ = 15      # panel redraws per second while running


class SimulatorScreen(Screen):
    """The asynchronous shared-memory model of Alistarh, De Sa and Konstantinov, stepped by a scheduler or by you."""

    AUTO_FOCUS = "#sim-thread-list"   # single-letter keys work at once; Tab reaches the settings
    BINDINGS = [
        Binding("space", "run", "Run/Pause"),
        Binding("full_stop", "step", "Step", key_display="."),
        Binding("1", "thread(0)", "Step thread", key_display="1-9"),
        *[Binding(str(k), f"thread({k - 1})", f"Step thread {k - 1}", show=False) for k in range(2, 10)],
        Binding("u", "undo", "Undo"),
        Binding("r", "reset", "Reset"),
        Binding("w", "save", "Save"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("minus", "slower", "Slower", key_display="-"),
        Binding("escape,h", "app.open('home')", "Home"),
    ]

    def __init__(self, config: SimConfig | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.initial = (config or SimConfig()).validate()
        self.config: SimConfig | None = None
        self.machine = None
        self.scheduler = None
        self._sched_from = 0           # the step at which the current scheduler took over
        self.running = False
        self.diverged = False
        self.speed = DEFAULT_SPEED
        self.last = None               # (thread, instruction) of the latest step, for highlighting
        self._iters: list[int] = []    # convergence history, one point per completed iteration
        self._dist2: list[float] = []
        self._gap: list[float] = []
        self._limit = math.inf
        self._f_star = 0.0
        self._dirty = False
        self._step_timer = None
        self._panels: list[ThreadPanel] = []

    # ---- layout ---------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield SimSettings(self.initial, id="sim-settings")
        with Horizontal(id="sim-info"):
            yield Static("", id="sim-status")
            yield Static("", id="sim-message")
        with Horizontal(id="sim-main"):
            with Vertical(id="sim-left"):
                yield SharedPanel(id="sim-shared")
                yield VerticalScroll(id="sim-thread-list")
            with Vertical(id="sim-right"):
                yield SimPlot(id="sim-plot")
                yield EventLog(id="sim-log")
        yield Footer()
        yield TooSmall()

    async def on_mount(self) -> None:
        # looked up once: a timer firing during shutdown must not query the DOM
        self.settings = self.query_one(SimSettings)
        self._status = self.query_one("#sim-status", Static)
        self._message = self.query_one("#sim-message", Static)
        self._shared = self.query_one(SharedPanel)
        self._threads_box = self.query_one("#sim-thread-list", VerticalScroll)
        self._plot = self.query_one(SimPlot)
        self._log = self.query_one(EventLog)
        await self.apply(self.initial, reset=True)
        self.set_interval(1 / DRAW_HZ, self._draw_if_dirty)
        self.say("space runs the scheduler · . one step · manual scheduler: 1–9 step a thread · u undo", "dim")

    def on_screen_suspend(self) -> None:
        """Home, another screen or the help: stop stepping (space runs again on return)."""
        if self.running:
            self.pause()
            self.say("paused while you were away — space runs again", "dim")
            self.draw()

    # ---- settings -------------------------------------------------------------------------------------
    async def on_sim_settings_applied(self, _message: SimSettings.Applied) -> None:
        try:
            config = self.settings.config()
        except ConfigError as e:
            self.say(f"✗ {e}", "bold red")
            return
        await self.apply(config)
        self._threads_box.focus()

    async def apply(self, config: SimConfig, reset: bool = False) -> None:
        """Use these settings: a new machine if anything but the scheduler changed (or `reset`), else keep the
        machine's state and hand it to the new scheduler (the stale-read adversary starts from step 0)."""
        old = self.config
        self.config = config
        if reset or old is None or config.machine_key() != old.machine_key():
            self.pause()
            self.machine = config.make_machine()
            self._new_run()
            if self.machine.threads != len(self._panels):
                await self._threads_box.remove_children()
                self._panels = [ThreadPanel(t, id=f"sim-thread-{t}") for t in range(self.machine.threads)]
                await self._threads_box.mount_all(self._panels)
            if old is not None:
                self.say("new machine: " + describe(config), "cyan")
        elif config.scheduler != old.scheduler:
            if config.scheduler == "stale-read" and self.machine.steps:
                self.pause()
                self.machine.reset()
                self._new_run()
                self.say("the stale-read adversary plays from step 0: the machine was reset", "yellow")
            else:
                self.say(f"scheduler now {config.scheduler}; the machine keeps its state", "cyan")
            self.scheduler = config.make_scheduler()
            self._sched_from = self.machine.steps
            if self.scheduler is None:
                self.pause()
        self.draw()

    def _new_run(self) -> None:
        m = self.machine
        self.scheduler = self.config.make_scheduler()
        self._sched_from = 0
        self.last = None
        self.diverged = False
        obj = m.objective
        self._f_star = obj.loss(obj.x_star)
        self._limit = DIVERGENCE_FACTOR * max(float(((m.x0 - obj.x_star) ** 2).sum()), 1e-12)
        self._iters, self._dist2, self._gap = [], [], []
        self._record()
        self._plot.clear_plot()

    def _record(self) -> None:
        m = self.machine
        d2 = m.distance2()
        self._iters.append(m.completed)
        self._dist2.append(d2)
        self._gap.append(m.loss() - self._f_star)
        if not d2 <= self._limit:
            self.diverged = True

    # ---- stepping -------------------------------------------------------------------------------------
    def _step(self, tid: int) -> list:
        """One step of thread tid (may raise StepRefused); keeps the convergence history."""
        m = self.machine
        ins = m.next_instr(tid)
        events = m.step(tid)
        self.last = (tid, ins)
        if m.completed != self._iters[-1]:
            self._record()
        return events

    def _scheduled_step(self) -> bool:
        """One step of the scheduler's choice; False (and paused, with the reason shown) if it cannot."""
        try:
            self._step(self.scheduler.choose(self.machine))
        except Exception as e:  # a scheduler that cannot go on: say why, never crash the app
            self.pause()
            self.say(f"✗ the {self.config.scheduler} scheduler stopped: {e}", "bold red")
            return False
        return True

    def _tick(self) -> None:
        if not self.running or self.scheduler is None:
            return
        for _ in range(max(1, self.speed // TICK_HZ)):
            if not self._scheduled_step():
                break
            if self.diverged:
                self.pause()
                self.say(self._divergence_text(), "bold red")
                break
        self._dirty = True

    def pause(self) -> None:
        self.running = False
        if self._step_timer is not None:
            self._step_timer.stop()
            self._step_timer = None

    def _start_timer(self) -> None:
        if self._step_timer is not None:
            self._step_timer.stop()
        self._step_timer = self.set_interval(1 / min(self.speed, TICK_HZ), self._tick)

    # ---- actions --------------------------------------------------------------------------------------
    def action_run(self) -> None:
        if self.running:
            self.pause()
            self.say("paused — . steps once, space runs again", "dim")
        elif self.scheduler is None:
            self.say("manual scheduler: you pick every step with 1–9 (or choose a scheduler in the settings)",
                     "yellow")
        elif self.diverged:
            self.say("the run has diverged — r resets, u undoes a step", "bold red")
        else:
            self.running = True
            self._start_timer()
            self.say(f"running {self.config.scheduler} at {self.speed} steps/s — space pauses, + / − change speed",
                     "dim")
        self.draw()

    def action_step(self) -> None:
        if self.scheduler is None:
            self.say("manual scheduler: press 1–9 to step a thread yourself", "yellow")
            return
        self.pause()
        if self._scheduled_step():
            tid, ins = self.last
            self.say(f"the {self.config.scheduler} scheduler chose thread {tid}: {ins}", "dim")
            if self.diverged:
                self.say(self._divergence_text(), "bold red")
        self.draw()

    def action_thread(self, tid: int) -> None:
        m = self.machine
        if self.scheduler is not None:
            self.say(f"the {self.config.scheduler} scheduler decides who steps: choose the manual scheduler to "
                     "pick threads yourself (. takes one scheduled step)", "yellow")
            return
        if tid >= m.threads:
            self.say(f"there are only {m.threads} threads: keys 1–{m.threads}", "yellow")
            return
        ins = m.next_instr(tid)
        try:
            events = self._step(tid)
        except StepRefused:
            self.say(f"✗ thread {tid} refused: {refusal_reason(m, tid)}", "bold red")
            self.draw()
            return
        text = f"thread {tid}: {ins}"
        style = "dim"
        if events:
            text += " → " + "; ".join(short(e) for e in events)
            style = "bold red" if any(e.kind != "completed" for e in events) else "green"
        if self.diverged:
            text, style = self._divergence_text(), "bold red"
        self.say(text, style)
        self.draw()

    def action_undo(self) -> None:
        m = self.machine
        if not m.steps:
            self.say("nothing to undo: this is step 0", "yellow")
            return
        self.pause()
        self.rebuild(m.schedule[:-1])
        self.say(f"undone: back to step {m.steps}", "cyan")
        self.draw()

    async def action_reset(self) -> None:
        try:
            config = self.settings.config()
        except ConfigError as e:
            self.say(f"✗ {e} — reset keeps the machine as it was", "bold red")
            return
        await self.apply(config, reset=True)
        self.say("reset to step 0 with the settings shown: " + describe(config), "cyan")

    def action_save(self) -> None:
        m = self.machine
        directory = self.app.export_dir if hasattr(self.app, "export_dir") else "."
        try:
            path = save_schedule(m, self.config, directory)
        except OSError as e:
            self.say(f"✗ could not save: {e}", "bold red")
            return
        self.say(f"saved {m.steps} steps: {path}", "green")
        self.app.notify(str(path), title="Schedule saved")

    def action_faster(self) -> None:
        self._set_speed(+1)

    def action_slower(self) -> None:
        self._set_speed(-1)

    def _set_speed(self, direction: int) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else SPEEDS.index(DEFAULT_SPEED)
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, i + direction))]
        if self.running:
            self._start_timer()
        self.say(f"speed {self.speed} steps/s", "dim")
        self.draw()

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
        while self._iters and self._iters[-1] > m.completed:
            self._iters.pop()
            self._dist2.pop()
            self._gap.pop()
        if not self._iters:
            self._record()
        self.diverged = any(not d <= self._limit for d in self._dist2)

    # ---- drawing --------------------------------------------------------------------------------------
    def say(self, text: str, style: str = "") -> None:
        self._message.update(f"[{style}]{escape(text)}[/]" if style else escape(text))

    def _draw_if_dirty(self) -> None:
        if self._dirty:
            self.draw()

    def draw(self) -> None:
        """Redraw every panel from the machine (well under a millisecond, plus the plot when it changed)."""
        self._dirty = False
        m = self.machine
        if m is None:
            return
        self._shared.show(m, self.last)
        self._shared.border_subtitle = self._threshold_text()
        enabled = set(m.enabled_threads())
        last_tid = self.last[0] if self.last else None
        for panel in self._panels:
            if panel.tid < m.threads:
                panel.show(m, enabled=panel.tid in enabled, last_tid=last_tid)
        self._log.show(m)
        self._plot.show(self._iters, self._dist2, self._gap, force=not self.running)
        self._status.update(self._status_text())

    def _status_text(self) -> str:
        c = self.config
        if self.diverged:
            head = "[b white on red] DIVERGED [/]"
        elif self.scheduler is None:
            head = "[b magenta] MANUAL [/]"
        elif self.running:
            head = "[b green] RUNNING [/]"
        else:
            head = "[b yellow] PAUSED [/]"
        if self.scheduler is None:
            return f"{head} you are the scheduler ·"
        return f"{head} {c.scheduler} {self.speed} steps/s ·"

    def _threshold_text(self) -> str:
        c = self.config
        tau = c.tau_max
        if c.objective != "quadratic" or tau is None:
            return ""
        thr = predicted_threshold(tau, c.c)
        text = f"stale-read diverges iff α ≥ 2/((τ+1)c) = {thr:.4g}"
        if c.alpha >= thr:
            return f"[b red]{text}: α = {c.alpha:g} is not below[/]"
        return f"{text} (α = {c.alpha:g})"

    def _divergence_text(self) -> str:
        text = f"✗ diverged (‖X−x*‖² > {DIVERGENCE_FACTOR:g}·‖x0−x*‖²)"
        c = self.config
        if c.objective == "quadratic" and c.tau_max is not None:
            thr = predicted_threshold(c.tau_max, c.c)
            if c.alpha >= thr:
                text += f": α = {c.alpha:g} ≥ 2/((τ+1)c) = {thr:.4g}"
        return text + " — r resets"

    # ---- for tests ------------------------------------------------------------------------------------
    @property
    def panels(self) -> list[ThreadPanel]:
        return list(self._panels)


def describe(c: SimConfig) -> str:
    tau = "none" if c.tau_max is None else c.tau_max
    return (f"{c.mode}, {c.scheduler}, n = {c.threads}, τ_max = {tau}, α = {c.alpha:g}, {c.objective} d = {c.d}, "
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


def refusal_reason(m, tid: int) -> str:
    """Why the leash refuses thread tid's next step, in one sentence (see teach_sgd.sim.delay)."""
    tau = m.tau_max
    in_flight = m.in_flight_delays()
    if tid not in in_flight:
        return (f"{len(in_flight)} iterations are already in flight; starting one more would let the adversary "
                f"delay one of them past τ_max = {tau}")
    others = ", ".join(f"thread {t} (delay {d})" for t, d in sorted(in_flight.items()) if t != tid)
    return (f"completing its iteration now adds 1 to the delay of {others}: they could not all finish within "
            f"τ_max = {tau} — step another thread first")


def save_schedule(m, config: SimConfig, directory) -> Path:
    """Write the machine and its schedule as JSON (`Machine.load(path)` replays it exactly); returns the path."""
    directory = Path(directory).expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"sim-{config.mode}-{config.scheduler}-n{m.threads}-{m.steps}steps-{time.strftime('%Y%m%d-%H%M%S')}"
    path = directory / f"{stem}.json"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"{stem}-{n}.json"
    record = m.to_json() | {"scheduler": config.scheduler,
                            "replay": "teach_sgd.sim.Machine.load(path) rebuilds this state exactly"}
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path
