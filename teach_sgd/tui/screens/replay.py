"""ReplayScreen: a recording on the same dashboard as a live run, with a player's keys.

    ReplayScreen(recording)        # `teach-sgd replay FILE`, a lesson's "see it on 16 real cores"

space play/pause (at the end: from the start) · , . one sample (1/15 s of run time) back/on · < > slower/faster (0.1× … 50×) ·
0–9 jump to 0 %, 10 %, … 90 % · home/end start/end · g jump to a typed time · e export · P the presenter view
(the projector's big panels, on the same player: it goes on from where it stands, and back here likewise) ·
h/Esc back.

The screen only turns keys into calls on a ReplaySession (teach_sgd/replay.py, a plain class: the clock, the
player's message, the export) and asks the ReplayDashboard to show the clock's time; the dashboard samples the
ReplaySource at the live rate, so every panel at time t shows what the live dashboard showed at t, and at the
end the recorded RunResult.
"""
from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from teach_sgd.replay import ReplaySession, describe
from teach_sgd.tui.screens.base import QUIT_HELP
from teach_sgd.tui.screens.present import PresenterScreen, replay_sources
from teach_sgd.tui.widgets.dashboard import SAMPLE_HZ, ReplayDashboard
from teach_sgd.tui.widgets.settings_row import FieldInput
from teach_sgd.tui.widgets.too_small import TooSmall

BAR_W = 30  # cells of the position bar
STATES = {"playing": ("▶ PLAYING", "bold green"), "paused": ("❚❚ PAUSED", "bold yellow"), "end": ("■ END", "bold cyan")}


STEPS = Binding.Group("Step", compact=True)   # , . — one footer entry each, so that 120 columns show P too
SPEED = Binding.Group("Speed", compact=True)  # < >


class ReplayScreen(Screen):
    AUTO_FOCUS = "#thread-table"
    BINDINGS = [
        Binding("escape,h", "close", "Back", key_display="h/Esc"),
        *QUIT_HELP,
        Binding("space", "play", "Play/Pause"),
        Binding("comma", "step(-1)", "Step back", key_display=",", group=STEPS),
        Binding("full_stop", "step(1)", "Step", key_display=".", group=STEPS),
        Binding("less_than_sign", "speed(-1)", "Slower", key_display="<", group=SPEED),
        Binding("greater_than_sign", "speed(1)", "Faster", key_display=">", group=SPEED),
        Binding("home", "jump(0)", "Start", show=False),
        Binding("end", "jump(1)", "End", show=False),  # as Home: the footer keeps room for P (help.py lists both)
        *[Binding(str(d), f"jump({d / 10})", f"{10 * d} %", show=False) for d in range(10)],
        Binding("g", "goto", "Go to time"),
        Binding("e", "export", "Export"),
        Binding("P", "present", "Present"),
    ]
    DEFAULT_CSS = """
    ReplayScreen #player { height: 1; padding: 0 1; }
    ReplayScreen #goto { display: none; width: 40; }
    ReplayScreen.-goto #goto { display: block; }
    """

    def __init__(self, recording, **kwargs) -> None:
        super().__init__(**kwargs)
        self.recording = recording
        self.session = ReplaySession(recording)
        self.source = self.session.source

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="player")
        yield FieldInput(placeholder=f"seconds, 0 – {self.recording.duration_s:.2f}, then Enter", id="goto", type="number")
        yield ReplayDashboard(id="dash")
        yield Footer()
        yield TooSmall()

    def on_mount(self) -> None:
        self.player = self.query_one("#player", Static)
        self.goto = self.query_one("#goto", Input)
        self.dash = self.query_one(ReplayDashboard)
        self.table = self.dash.query_one("#thread-table")
        self.sub_title = f"replay: {self.recording.path.name}"
        self.dash.start(self.source)
        self.set_interval(1 / SAMPLE_HZ, self._show_player)
        self._show_player()

    # ---- the player line --------------------------------------------------------------------------------
    def _show_player(self) -> None:
        c = self.session.clock
        t, d = c.t, max(c.duration, 1e-9)
        filled = round(BAR_W * t / d)
        state = STATES[self.session.state]
        line = Text.assemble((f" {state[0]} ", state[1]), f" {c.speed:g}×  ",
                             ("━" * filled, "cyan"), ("─" * (BAR_W - filled), "dim"),
                             f"  {t:6.2f} / {c.duration:.2f} s   ", (describe(self.recording), "dim"))
        if self.session.message:
            line.append(f"   {self.session.message}", style="green")
        self.player.update(line)

    def say(self, text: str) -> None:
        self.session.message = text
        self._show_player()

    def _moved(self) -> None:
        self.dash.seek()
        self._show_player()

    def on_screen_resume(self) -> None:
        """Back from the presenter, which played or paused the same clock: every panel shows its time now."""
        self._moved()

    # ---- keys ---------------------------------------------------------------------------------------------
    def action_present(self) -> None:
        self.app.push_screen(PresenterScreen(replay_sources(self.source)))

    def action_play(self) -> None:
        self.session.clock.toggle()
        self._moved()

    def action_step(self, n: int) -> None:
        self.session.clock.step(n)
        self._moved()

    def action_speed(self, step: int) -> None:
        self.session.clock.set_speed(step)
        self._show_player()

    def action_jump(self, fraction: float) -> None:
        self.session.jump_fraction(fraction)
        self._moved()

    def action_goto(self) -> None:
        self.add_class("-goto")
        self.goto.value = ""
        self.goto.focus()

    @on(Input.Submitted, "#goto")
    def _goto_submitted(self, event: Input.Submitted) -> None:
        if self.session.goto(event.value):
            self._close_goto()
            self._moved()
        else:
            self._show_player()

    def _close_goto(self) -> None:
        self.remove_class("-goto")
        self.table.focus()

    def action_close(self) -> None:
        if self.has_class("-goto"):
            self._close_goto()
        else:
            self.app.pop_screen()

    @work(exclusive=True, group="replay-export")
    async def action_export(self) -> None:
        self.say("exporting…")
        try:  # a long recording's events take a moment to write: not in the UI's thread
            paths = await asyncio.to_thread(self.session.export, self.app.export_dir)
        except OSError as e:
            self.say(f"✗ export failed: {e}")
            return
        self.say("exported: " + "  ".join(p.name for p in paths))
        self.app.notify(f"Exported to {paths[0].parent}", title="Export")

