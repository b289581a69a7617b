"""SimulatorScreen: the step machine of teach_sgd.sim, one instruction at a time, on screen.

    settings row        mode · scheduler · n · τ_max · α · objective · d · seed · noise · Tp
    status line         RUNNING / PAUSED / MANUAL / DIVERGED, speed; a message for refusals, saves, errors
    shared memory       X (or the version P points to), x*, ‖X−x*‖², f(X)−f*, counters
    one panel a thread  program with the next instruction highlighted, local view, gradient, delay vs τ_max
    convergence         ‖X−x*‖² and f−f* against completed iterations (log y)
    event log           completions with their delay, lost writes, failed CAS, dropped gradients

It draws a `teach_sgd.sim.session.SimSession` (the machine, its scheduler, undo, the history, the sentences that
explain a refusal or a divergence, save) and steps it on a timer, several steps per tick at high speed; the
panels redraw at most 15 times a second while running and at once after a key.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from teach_sgd.errors import ConfigError
from teach_sgd.sim import StepRefused
from teach_sgd.sim.config import SimConfig
from teach_sgd.sim.session import SimSession, describe, short
from teach_sgd.tui.widgets.sim_form import SimSettings
from teach_sgd.tui.widgets.sim_panels import EventLog, SharedPanel, ThreadPanel
from teach_sgd.tui.widgets.sim_plot import SimPlot
from teach_sgd.tui.widgets.too_small import TooSmall

TONES = {"info": "cyan", "warn": "yellow"}
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
        Binding("plus,equals_sign", "speed(1)", "Faster", key_display="+"),
        Binding("minus", "speed(-1)", "Slower", key_display="-"),
        Binding("escape,h", "app.open('home')", "Home"),
    ]

    def __init__(self, config: SimConfig | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.initial = config or SimConfig()
        self.session = SimSession(self.initial)
        self.running = False
        self.speed = DEFAULT_SPEED
        self._dirty = False
        self._step_timer = None
        self._panels: list[ThreadPanel] = []

    @property
    def machine(self):
        return self.session.machine

    @property
    def diverged(self) -> bool:
        return self.session.diverged

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
        await self._mount_panels()
        self.draw()
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
        """Use these settings (SimSession.apply says what that does to the machine) and say what happened."""
        before = self.machine
        said = self.session.apply(config, reset)
        if self.machine is not before or self.machine.steps == 0 or self.session.manual:
            self.pause()
        if self.machine is not before:
            self._plot.clear_plot()
            await self._mount_panels()
        if said is not None:
            self.say(said[0], TONES[said[1]])
        self.draw()

    async def _mount_panels(self) -> None:
        if self.machine.threads != len(self._panels):
            await self._threads_box.remove_children()
            self._panels = [ThreadPanel(t, id=f"sim-thread-{t}") for t in range(self.machine.threads)]
            await self._threads_box.mount_all(self._panels)

    # ---- stepping -------------------------------------------------------------------------------------
    def _scheduled_step(self) -> bool:
        """One step of the scheduler's choice; False (and paused, with the reason shown) if it cannot."""
        why = self.session.scheduled_step()
        if why is not None:
            self.pause()
            self.say(f"✗ {why}", "bold red")
        return why is None

    def _tick(self) -> None:
        if not self.running or self.session.manual:
            return
        for _ in range(max(1, self.speed // TICK_HZ)):
            if not self._scheduled_step():
                break
            if self.diverged:
                self.pause()
                self.say(self.session.divergence_text(), "bold red")
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
        elif self.session.manual:
            self.say("manual scheduler: you pick every step with 1–9 (or choose a scheduler in the settings)",
                     "yellow")
        elif self.diverged:
            self.say("the run has diverged — r resets, u undoes a step", "bold red")
        else:
            self.running = True
            self._start_timer()
            self.say(f"running {self.session.config.scheduler} at {self.speed} steps/s — space pauses, + / − change "
                     "speed", "dim")
        self.draw()

    def action_step(self) -> None:
        if self.session.manual:
            self.say("manual scheduler: press 1–9 to step a thread yourself", "yellow")
            return
        self.pause()
        if self._scheduled_step():
            tid, ins = self.session.last
            self.say(f"the {self.session.config.scheduler} scheduler chose thread {tid}: {ins}", "dim")
            if self.diverged:
                self.say(self.session.divergence_text(), "bold red")
        self.draw()

    def action_thread(self, tid: int) -> None:
        m = self.machine
        if not self.session.manual:
            self.say(f"the {self.session.config.scheduler} scheduler decides who steps: choose the manual scheduler "
                     "to pick threads yourself (. takes one scheduled step)", "yellow")
            return
        if tid >= m.threads:
            self.say(f"there are only {m.threads} threads: keys 1–{m.threads}", "yellow")
            return
        ins = m.next_instr(tid)
        try:
            events = self.session.step(tid)
        except StepRefused:
            self.say(f"✗ thread {tid} refused: {self.session.refusal(tid)}", "bold red")
            self.draw()
            return
        text, style = f"thread {tid}: {ins}", "dim"
        if events:
            text += " → " + "; ".join(short(e) for e in events)
            style = "bold red" if any(e.kind != "completed" for e in events) else "green"
        if self.diverged:
            text, style = self.session.divergence_text(), "bold red"
        self.say(text, style)
        self.draw()

    def action_undo(self) -> None:
        self.pause()
        if self.session.undo():
            self.say(f"undone: back to step {self.machine.steps}", "cyan")
        else:
            self.say("nothing to undo: this is step 0", "yellow")
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
        try:
            path = self.session.save(self.app.export_dir)
        except OSError as e:
            self.say(f"✗ could not save: {e}", "bold red")
            return
        self.say(f"saved {self.machine.steps} steps: {path}", "green")
        self.app.notify(str(path), title="Schedule saved")

    def action_speed(self, direction: int) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else SPEEDS.index(DEFAULT_SPEED)
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, i + direction))]
        if self.running:
            self._start_timer()
        self.say(f"speed {self.speed} steps/s", "dim")
        self.draw()

    # ---- drawing --------------------------------------------------------------------------------------
    def say(self, text: str, style: str = "") -> None:
        self._message.update(f"[{style}]{escape(text)}[/]" if style else escape(text))

    def _draw_if_dirty(self) -> None:
        if self._dirty:
            self.draw()

    def draw(self) -> None:
        """Redraw every panel from the machine (well under a millisecond, plus the plot when it changed)."""
        self._dirty = False
        m, s = self.machine, self.session
        self._shared.show(m, s.last)
        text, past = s.threshold_text()
        self._shared.border_subtitle = f"[b red]{text}[/]" if past else text
        enabled = set(m.enabled_threads())
        last_tid = s.last[0] if s.last else None
        for panel in self._panels:
            if panel.tid < m.threads:
                panel.show(m, enabled=panel.tid in enabled, last_tid=last_tid)
        self._log.show(m)
        self._plot.show(s.iters, s.dist2, s.gap, force=not self.running)
        self._status.update(self._status_text())

    def _status_text(self) -> str:
        if self.diverged:
            head = "[b white on red] DIVERGED [/]"
        elif self.session.manual:
            head = "[b magenta] MANUAL [/]"
        elif self.running:
            head = "[b green] RUNNING [/]"
        else:
            head = "[b yellow] PAUSED [/]"
        if self.session.manual:
            return f"{head} you are the scheduler ·"
        return f"{head} {self.session.config.scheduler} {self.speed} steps/s ·"

    # ---- for tests ------------------------------------------------------------------------------------
    @property
    def panels(self) -> list[ThreadPanel]:
        return list(self._panels)
