"""RunScreen: what the Playground and the Compare screen share — a ConfigForm whose Enter (or s) starts runs once
the kernels are ready, a #message line, pause / stop / export / record keys over a RunSession (runs/session.py:
the current runs, their results, what the keys do to them), and what is said about each.

A subclass composes a ConfigForm, looks up `self.form` and `self.message` in on_mount, names in KEYS_AT the
widget a start hands the keys to, and provides:

    _configs()          the RunConfig(s) the form describes (raises ConfigError with a sentence for the user)
    _launch(configs)    start the worker that runs them, inside `with self.starting():`
"""
from __future__ import annotations

import asyncio
from contextlib import contextmanager

from textual import on, work
from textual.binding import Binding

from teach_sgd.engine.config import ALGO_NAMES, RunConfig
from teach_sgd.errors import ConfigError, UsageError
from teach_sgd.runs.controls import slow_motion_label
from teach_sgd.runs.session import RunSession, record_runs
from teach_sgd.tui.screens.base import QUIT_HELP
from teach_sgd.tui.screens.present import PresenterScreen
from teach_sgd.tui.screens.thread_keys import THREAD_BINDINGS, THREAD_KEYS_HINT, ThreadKeysScreen
from teach_sgd.tui.widgets.config_form import ConfigForm


class RunScreen(ThreadKeysScreen):
    """The run keys below, and the thread keys (breakpoints) of ThreadKeysScreen."""

    BINDINGS = [
        Binding("escape,h", "app.open('home')", "Home", key_display="h/Esc"),
        *QUIT_HELP,
        Binding("s", "start", "Start"),
        Binding("space", "pause", "Pause"),
        Binding("x", "stop", "Stop"),
        Binding("e", "export", "Export"),
        Binding("R", "record", "Record"),
        Binding("greater_than_sign", "stretch(1)", "Slower", key_display=">"),
        Binding("less_than_sign", "stretch(-1)", "Faster", key_display="<", show=False),
        *THREAD_BINDINGS,
        Binding("P", "present", "Present"),
    ]

    def __init__(self, config: RunConfig, **kwargs) -> None:
        super().__init__(**kwargs)
        self.initial = config
        self.session = RunSession()
        self._starting = False

    # ---- what a subclass provides ---------------------------------------------------------------------
    def _configs(self) -> list[RunConfig]:
        raise NotImplementedError

    def _launch(self, configs: list[RunConfig]) -> None:
        raise NotImplementedError

    @property
    def active(self) -> bool:
        """A run is in flight: pause, stop and slow motion are enabled."""
        return self.session.active

    # ---- shared ---------------------------------------------------------------------------------------
    def check_screen_action(self, action: str, parameters) -> bool | None:
        if not hasattr(self, "message"):  # before on_mount has looked up the widgets there is nothing to ask
            return True
        if action == "start":
            # a run waits for its own kernel (build_runners), so Start is on unless compiling failed
            return True if self.app.kernel_state != "failed" and not self._starting else None
        if action in ("pause", "stop", "stretch"):
            return True if self.active else None
        if action == "present":  # hidden until there is a run to present: the idle footer keeps its room
            return bool(self.present_sources())
        if action in ("export", "record"):  # hidden while a run is live, which has nothing to save yet: the
            # footer's room goes to the keys of the live run (the thread keys, P) at 120 columns
            return True if self.session.has_results else False if self.active else None
        return True

    def say(self, text: str, style: str = "") -> None:
        self._message = text
        self.message.update(f"[{style}]{text}[/]" if style else text)
        self.set_class(bool(text), "-said")  # a message beside the kernel status gets room of its own (app.tcss)

    _message = ""

    def quiet_threads(self, last: str) -> None:
        if self._message == last:  # nothing said since (a run's end says so itself)
            self.say(f"no thread held, no breakpoint set — {THREAD_KEYS_HINT}", "dim")

    @on(ConfigForm.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    def action_start(self) -> None:
        """s, or Enter in a field: start the run and hand the keys from the form to the dashboard, so that every
        key the status line names (space, x, >, e, R, s) works at once, whatever the field could hold (space
        would open the algorithm's list); Tab goes back to the fields. A setting that does not parse keeps the
        focus in the form, to be fixed."""
        if self._starting:
            return
        try:
            configs = self._configs()
        except ConfigError as e:
            self.say(f"✗ {e}", "bold red")
            return
        self._launch(configs)
        if self.focused is None or self.form in self.focused.ancestors_with_self:
            self.query_one(self.KEYS_AT).focus()

    @contextmanager
    def starting(self):
        """Around a start worker's work (stopping the old runs, building the new ones): s is disabled meanwhile,
        so that a second start cannot race the first for the dashboards."""
        self._starting = True
        self.refresh_bindings()
        try:
            yield
        finally:
            self._starting = False
            self.refresh_bindings()

    def export(self) -> None:
        """Write the ended runs' results to the app's export folder and say where; a failure to write is said,
        not raised."""
        try:
            paths = self.session.export(self.app.export_dir, self.session.export_stem(), self.app.export_screenshot())
        except OSError as e:
            self.say(f"✗ export failed: {e}", "bold red")
            return
        self.say("exported: " + "  ".join(str(p) for p in paths), "green")
        self.app.notify(f"Exported to {paths[0].parent}", title="Export")

    def action_stretch(self, step: int) -> None:
        """Slow motion, live: every running run goes one step along STRETCHES (engine/control.py says where the
        time is added; bench_slowmotion.py measures which races keep their rate)."""
        factor = self.session.step_stretch(step)
        if factor is None:
            return
        many = slow_motion_label(max(r.config.threads for r in self.session.live()), factor)
        self.say("full speed" if factor == 1 else many or f"slow motion {factor}× — every compute and publish window "
                 f"lasts {factor}× its time; staleness stays near its full-speed value, but failed CAS and lost "
                 "writes come more often than at full speed (measured: README, Slow motion); < back to full speed",
                 "dim")

    def present_sources(self) -> list:
        """[(label, Runner)] of this screen's runs (running or ended), for the presenter view."""
        return [(f"{ALGO_NAMES[r.config.algo]} ×{r.config.threads}", r) for r in self.session.runners if r.started]

    def action_present(self) -> None:
        """P: the presenter view (screens/present.py) on this screen's runs: big numbers, high contrast."""
        sources = self.present_sources()
        if sources:
            self.app.push_screen(PresenterScreen(sources))

    @work(exclusive=True, group="record")
    async def action_record(self) -> None:
        """R: the ended run(s) as recordings in the export folder (`teach-sgd replay FILE` plays them)."""
        runners = self.session.ended_runners()
        if not runners:
            self.say("nothing to record yet: R records a run once it has ended", "yellow")
            return
        await save_recordings(self.app, runners, self.session.record_stem(), self.say)


async def save_recordings(app, runners, stem: str, say) -> None:
    """Write `runners` as recordings into the app's export folder in a thread (a long run's events take a moment
    to compress) and say where, or why not."""
    say("recording…", "dim")
    try:
        paths = await asyncio.to_thread(record_runs, runners, app.export_dir, stem)
    except (OSError, UsageError) as e:
        say(f"✗ recording failed: {e}", "bold red")
        return
    say("recorded: " + "  ".join(str(p) for p in paths) + " — replay: teach-sgd replay FILE", "green")
    app.notify(f"Recorded to {paths[0].parent}", title="Record")
