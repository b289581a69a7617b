"""PlaygroundScreen: choose settings, press one key, watch one run live; pause, resume, stop, restart, export."""
from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from teach_sgd.engine.config import ConfigError, RunConfig
from teach_sgd.tui.export import export_results
from teach_sgd.tui.widgets.config_form import ConfigForm
from teach_sgd.tui.widgets.dashboard import Dashboard
from teach_sgd.tui.widgets.kernel_status import KernelStatus
from teach_sgd.tui.widgets.too_small import TooSmall

DEFAULT = RunConfig(algo="leashed", threads=2, model="mlp", hidden=(128,), dataset="mnist", lr=0.05, batch=16,
                    persistence=None, seconds=20.0, seed=0)


class PlaygroundScreen(Screen):
    AUTO_FOCUS = "#thread-table"  # single-letter keys work at once; Tab reaches the settings
    BINDINGS = [
        Binding("s", "start", "Start/Restart"),
        Binding("space", "pause", "Pause/Resume"),
        Binding("x", "stop", "Stop"),
        Binding("e", "export", "Export"),
        Binding("escape,h", "app.open('home')", "Home"),
    ]

    def __init__(self, config: RunConfig | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.initial = config or DEFAULT
        self.runner = None
        self._starting = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield ConfigForm(self.initial, id="form")
        with Horizontal(id="info-row"):
            yield KernelStatus()
            yield Static("", id="message")
        yield Dashboard(id="dash")
        yield Footer()
        yield TooSmall()

    def on_mount(self) -> None:
        self.dash = self.query_one(Dashboard)
        self.form = self.query_one(ConfigForm)
        self.message = self.query_one("#message", Static)
        self.watch(self.app, "kernel_state", lambda _: self.refresh_bindings(), init=False)

    def check_action(self, action: str, parameters) -> bool | None:
        if not hasattr(self, "dash"):
            return True
        if action == "start":
            return True if self.app.kernel_state == "ready" and not self._starting else None
        if action in ("pause", "stop"):
            return True if self.dash.running else None
        if action == "export":
            return True if self.dash.result is not None else None
        return True

    def say(self, text: str, style: str = "") -> None:
        self.message.update(f"[{style}]{text}[/]" if style else text)

    # ---- actions --------------------------------------------------------------------------------------
    @on(ConfigForm.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    def action_start(self) -> None:
        if self.app.kernel_state != "ready":
            self.say("Kernels are still being prepared — Start is enabled when they are ready.", "yellow")
            return
        if self._starting:
            return
        try:
            config = self.form.config()
        except ConfigError as e:
            self.say(f"✗ {e}", "bold red")
            return
        self._start(config)

    @work(exclusive=True, group="start")
    async def _start(self, config: RunConfig) -> None:
        from teach_sgd.engine.runner import Runner

        self._starting = True
        self.refresh_bindings()
        try:
            old = self.runner
            if old is not None and not old.done:
                old.resume()
                old.stop()
                await asyncio.to_thread(old.join, 2.0)
            self.say(f"loading data and preparing {config.algo} with {config.threads} threads…", "dim")
            try:
                runner = await asyncio.to_thread(Runner, config)
            except Exception as e:  # data errors etc: one sentence, no traceback
                self.say(f"✗ {e}", "bold red")
                return
            self.runner = runner
            self.app.register_runner(runner)
            self.dash.start(runner)
            self.say("running — space pauses, x stops, s restarts with the settings above", "dim")
            self.dash.query_one("ThreadTable").focus()
        finally:
            self._starting = False
            self.refresh_bindings()

    def action_pause(self) -> None:
        r = self.runner
        if r is None or r.done:
            return
        if r.paused:
            self.dash.resume_run()
            self.say("resumed", "dim")
        else:
            self.dash.pause_run()
            self.say("paused — the threads are parked; space resumes", "yellow")
        self.refresh_bindings()

    def action_stop(self) -> None:
        self.dash.stop_run()
        self.say("stopping…", "dim")

    def on_dashboard_run_diverged(self, event: Dashboard.RunDiverged) -> None:
        self.say("✗ the run diverged and was stopped — lower the step size and press s", "bold red")

    def on_dashboard_run_finished(self, event: Dashboard.RunFinished) -> None:
        self.refresh_bindings()
        if not event.result.diverged:
            r = event.result
            self.say(f"{r.status}: {r.updates:,} updates in {r.wall_s:.2f} s — press e to export, s to run again",
                     "cyan")

    def action_export(self) -> None:
        result = self.dash.result
        if result is None:
            self.say("nothing to export yet: export works once a run has ended", "yellow")
            return
        c = result.config
        try:
            paths = export_results(self.app, [result], self.app.export_dir, f"run-{c.algo}-m{c.threads}")
        except OSError as e:
            self.say(f"✗ export failed: {e}", "bold red")
            return
        self.say("exported: " + "  ".join(str(p) for p in paths), "green")
        self.app.notify(f"Exported to {paths[0].parent}", title="Export")
