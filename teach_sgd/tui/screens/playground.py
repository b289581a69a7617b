"""PlaygroundScreen: choose settings, press one key, watch one run live; pause, resume, stop, restart, export,
record (R)."""
from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Static

from teach_sgd.engine.config import RunConfig
from teach_sgd.tui.runs import build_runners, stop_runner
from teach_sgd.tui.screens.run_screen import RunScreen
from teach_sgd.tui.widgets.config_form import ConfigForm
from teach_sgd.tui.widgets.dashboard import Dashboard
from teach_sgd.tui.widgets.kernel_status import KernelStatus
from teach_sgd.tui.widgets.too_small import TooSmall

DEFAULT = RunConfig(seconds=20.0)


class PlaygroundScreen(RunScreen):
    AUTO_FOCUS = "#thread-table"  # single-letter keys work at once; Tab reaches the settings

    def __init__(self, config: RunConfig | None = None, **kwargs) -> None:
        super().__init__(config or DEFAULT, **kwargs)
        self.runner = None

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

    @property
    def active(self) -> bool:
        return self.dash.running

    @property
    def has_results(self) -> bool:
        return self.dash.result is not None

    def ended_runners(self) -> list:
        return [self.runner] if self.has_results else []

    # ---- actions --------------------------------------------------------------------------------------
    def _configs(self) -> list[RunConfig]:
        return [self.form.config()]

    def _launch(self, configs: list[RunConfig]) -> None:
        self._start(configs[0])

    @work(exclusive=True, group="start")
    async def _start(self, config: RunConfig) -> None:
        with self.starting():
            old = self.runner
            if old is not None and not old.done:
                stop_runner(old)
                await asyncio.to_thread(old.join, 2.0)
            self.say(f"loading data and preparing {config.algo} with {config.threads} threads…", "dim")
            runners = await build_runners(self.app, config, say=self.say)
            if runners is None:
                return
            [self.runner] = runners
            self.dash.start(self.runner)
            self.say("running — space pauses, x stops, s restarts with the settings above", "dim")

    def action_pause(self) -> None:
        paused = self.dash.toggle_pause()
        if paused is None:
            return
        if paused:
            self.say("paused — the threads are parked; space resumes", "yellow")
        else:
            self.say("resumed", "dim")
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
            self.say(f"{r.status}: {r.updates:,} updates in {r.wall_s:.2f} s — press e to export, R to record, "
                     "s to run again", "cyan")

    def action_export(self) -> None:
        result = self.dash.result
        if result is None:
            self.say("nothing to export yet: export works once a run has ended", "yellow")
            return
        c = result.config
        self.export([result], f"run-{c.algo}-m{c.threads}")
