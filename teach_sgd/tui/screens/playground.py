"""PlaygroundScreen: choose settings, press one key, watch one run live; pause, resume, stop, restart, export,
record (R)."""
from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Static

from teach_sgd.engine.config import RunConfig
from teach_sgd.tui.runs import build_runners
from teach_sgd.tui.screens.run_screen import RunScreen
from teach_sgd.tui.screens.thread_keys import THREAD_KEYS_HINT
from teach_sgd.tui.widgets.config_form import ConfigForm
from teach_sgd.tui.widgets.dashboard import Dashboard
from teach_sgd.tui.widgets.kernel_status import KernelStatus
from teach_sgd.tui.widgets.too_small import TooSmall

DEFAULT = RunConfig(seconds=20.0)


class PlaygroundScreen(RunScreen):
    AUTO_FOCUS = "#algo"        # settings first: the algorithm, then Tab through the rest; s starts from there
    KEYS_AT = "#thread-table"   # where a start hands the keys (space, x, >, the thread keys)

    def __init__(self, config: RunConfig | None = None, **kwargs) -> None:
        super().__init__(config or DEFAULT, **kwargs)

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
    def runner(self):
        """The current run's Runner; None before the first and while a restart builds the next."""
        return self.session.runners[0] if self.session.runners else None

    def thread_dashboards(self) -> list:
        return [self.dash]

    # ---- actions --------------------------------------------------------------------------------------
    def _configs(self) -> list[RunConfig]:
        return [self.form.config()]

    def _launch(self, configs: list[RunConfig]) -> None:
        self._start(configs[0])

    @work(exclusive=True, group="start")
    async def _start(self, config: RunConfig) -> None:
        with self.starting():
            for old in self.session.replace():
                await asyncio.to_thread(old.join, 2.0)
            self.say(f"loading data and preparing {config.algo} with {config.threads} threads…", "dim")
            runners = await build_runners(self.app, config, say=self.say)
            if runners is None:
                return
            [runner] = self.session.begin(runners)
            self.dash.start(runner)
            self.say(f"running — space pauses, x stops, s restarts with the settings above; {THREAD_KEYS_HINT}",
                     "dim")

    def action_pause(self) -> None:
        paused = self.session.toggle_pause()
        if paused is None:
            return
        self.dash.show_now()
        if paused:
            self.say("paused — the threads are parked; space resumes", "yellow")
        else:
            self.say("resumed", "dim")
        self.refresh_bindings()

    def action_stop(self) -> None:
        self.session.stop()
        self.say("stopping…", "dim")

    def on_dashboard_run_diverged(self, event: Dashboard.RunDiverged) -> None:
        if event.runner not in self.session.runners:
            return  # a run the learner restarted away from: nothing to say of it
        self.say("✗ the run diverged and was stopped — lower the step size and press s", "bold red")

    def on_dashboard_run_finished(self, event: Dashboard.RunFinished) -> None:
        if event.runner not in self.session.runners:
            return  # a restart replaced it while it was stopping: the run now shown is another one
        self.session.ended(event.runner, event.result)
        self.refresh_bindings()
        if not event.result.diverged:
            r = event.result
            self.say(f"{r.status}: {r.updates:,} updates in {r.wall_s:.2f} s — press e to export, R to record, "
                     "s to run again", "cyan")

    def action_export(self) -> None:
        if not self.session.has_results:
            self.say("nothing to export yet: export works once a run has ended", "yellow")
            return
        self.export()
