"""SimulatorScreen: the step machine of teach_sgd.sim, one instruction at a time, on screen.

    settings row        mode · scheduler · n · τ_max · α · objective · d · seed · noise · Tp
    status line         RUNNING / PAUSED / MANUAL / DIVERGED, speed; a message for refusals, saves, errors
    shared memory       X (or the version P points to), x*, ‖X−x*‖², f(X)−f*, counters
    one panel a thread  program with the next instruction highlighted, local view, gradient, delay vs τ_max
    convergence         ‖X−x*‖² and f−f* against completed iterations (log y)
    event log           completions with their delay, lost writes, failed CAS, dropped gradients

It draws a `teach_sgd.sim.session.SimSession` (the machine, its scheduler, undo, the history, the sentences that
explain a refusal or a divergence, save), played by a `teach_sgd.sim.player.SimPlayer` (run/pause, speed, what
each key does and says), which it steps on a timer, several steps per tick at high speed; the panels redraw at
most 15 times a second while running and at once after a key.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from teach_sgd.errors import ConfigError
from teach_sgd.sim.config import SimConfig
from teach_sgd.sim.player import SimPlayer
from teach_sgd.sim.session import SimSession
from teach_sgd.tui.screens.base import QUIT_HELP
from teach_sgd.tui.widgets.sim_form import SimSettings
from teach_sgd.tui.widgets.sim_panels import EventLog, SharedPanel, ThreadPanel
from teach_sgd.tui.widgets.sim_plot import SimPlot
from teach_sgd.tui.widgets.too_small import TooSmall

STYLES = {"note": "dim", "info": "cyan", "warn": "yellow", "error": "bold red", "ok": "green"}  # SimPlayer's tones
STATES = {"diverged": "[b white on red] DIVERGED [/]", "manual": "[b magenta] MANUAL [/]",
          "running": "[b green] RUNNING [/]", "paused": "[b yellow] PAUSED [/]"}
DRAW_HZ = 15      # panel redraws per second while running


class SimulatorScreen(Screen):
    """The asynchronous shared-memory model of Alistarh, De Sa and Konstantinov, stepped by a scheduler or by you."""

    AUTO_FOCUS = "#sim-thread-list"   # single-letter keys work at once; Tab reaches the settings
    BINDINGS = [
        Binding("escape,h", "app.open('home')", "Home", key_display="h/Esc"),
        *QUIT_HELP,
        Binding("space", "run", "Run/Pause"),
        Binding("full_stop", "step", "Step", key_display="."),
        Binding("1", "thread(0)", "Step thread", key_display="1-9"),
        *[Binding(str(k), f"thread({k - 1})", f"Step thread {k - 1}", show=False) for k in range(2, 10)],
        Binding("u", "undo", "Undo"),
        Binding("r", "reset", "Reset"),
        Binding("w", "save", "Save"),
        Binding("plus,equals_sign", "speed(1)", "Faster", key_display="+"),
        Binding("minus", "speed(-1)", "Slower", key_display="-"),
    ]

    def __init__(self, config: SimConfig | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.initial = config or SimConfig()
        self.session = SimSession(self.initial)
        self.player = SimPlayer(self.session)
        self._dirty = False
        self._step_timer = None
        self._panels: list[ThreadPanel] = []

    @property
    def machine(self):
        return self.session.machine

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
        self.say(("space runs the scheduler · . one step · manual scheduler: 1–9 step a thread · u undo", "note"))

    def on_screen_suspend(self) -> None:
        """Home, another screen or the help: stop stepping (space runs again on return)."""
        self.show(self.player.suspend())

    # ---- settings -------------------------------------------------------------------------------------
    async def on_sim_settings_applied(self, _message: SimSettings.Applied) -> None:
        try:
            config = self.settings.config()
        except ConfigError as e:
            self.say((f"✗ {e}", "error"))
            return
        await self.apply(config)
        self._threads_box.focus()

    async def apply(self, config: SimConfig, reset: bool = False) -> None:
        """Use these settings (SimSession.apply says what that does to the machine) and say what happened."""
        before = self.machine
        said = self.player.apply(config, reset)
        if self.machine is not before:
            self._plot.clear_plot()
            await self._mount_panels()
        self.show(said)

    async def _mount_panels(self) -> None:
        if self.machine.threads != len(self._panels):
            await self._threads_box.remove_children()
            self._panels = [ThreadPanel(t, id=f"sim-thread-{t}") for t in range(self.machine.threads)]
            await self._threads_box.mount_all(self._panels)

    # ---- stepping -------------------------------------------------------------------------------------
    def _tick(self) -> None:
        said = self.player.tick()
        if said is not None:  # the player stopped: a refusal or a divergence
            self.say(said)
            self._follow_player()
        self._dirty = True

    def _follow_player(self) -> None:
        """The stepping timer runs while the player does, at its tick rate."""
        if self._step_timer is not None:
            self._step_timer.stop()
            self._step_timer = None
        if self.player.running:
            self._step_timer = self.set_interval(1 / self.player.tick_hz(), self._tick)

    def show(self, said) -> None:
        """After a key: what the player says (if anything), the timer, every panel."""
        if said is not None:
            self.say(said)
        self._follow_player()
        self.draw()

    # ---- actions --------------------------------------------------------------------------------------
    def action_run(self) -> None:
        self.show(self.player.toggle())

    def action_step(self) -> None:
        self.show(self.player.scheduled())

    def action_thread(self, tid: int) -> None:
        self.show(self.player.thread(tid))

    def action_undo(self) -> None:
        self.show(self.player.undo())

    async def action_reset(self) -> None:
        try:
            config = self.settings.config()
        except ConfigError as e:
            self.say((f"✗ {e} — reset keeps the machine as it was", "error"))
            return
        await self.apply(config, reset=True)

    def action_save(self) -> None:
        try:
            path = self.session.save(self.app.export_dir)
        except OSError as e:
            self.say((f"✗ could not save: {e}", "error"))
            return
        self.say((f"saved {self.machine.steps} steps: {path}", "ok"))
        self.app.notify(str(path), title="Schedule saved")

    def action_speed(self, direction: int) -> None:
        self.show(self.player.change_speed(direction))

    # ---- drawing --------------------------------------------------------------------------------------
    def say(self, said: tuple[str, str]) -> None:
        text, tone = said
        self._message.update(f"[{STYLES[tone]}]{escape(text)}[/]")

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
        self._plot.show(s.iters, s.dist2, s.gap, force=not self.player.running)
        head = STATES[self.player.state]
        self._status.update(f"{head} you are the scheduler ·" if s.manual else
                            f"{head} {s.config.scheduler} {self.player.speed} steps/s ·")
