"""LessonPane: the right half of the lesson screen — the lesson's outline, a live experiment (its header, the
Dashboard and every run's numbers), or a simulation's table. It draws; the LessonSession decides what.

    pane.show(session, busy, live)      the outline, the experiment or the simulation the current step is about
    await pane.run(live)                a LiveExperiment's runs, one after another, on the dashboard
    await pane.simulate(session)        a simulate experiment, in a thread, its table once done
    await pane.race(session, controls)  the step's race on the dashboard: its threads started, held as the race
                                        says, polled until it is made (RaceMoved each time it moves on)
    pane.stop()                         ends the run in flight (leaving the lesson)
    pane.header(text) · pane.overlay(runs) · pane.show_run(name, result)
"""
from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Static

from teach_sgd.lessons.pages import describe_config
from teach_sgd.lessons.session import KeptRuns
from teach_sgd.runs.session import stop_runner
from teach_sgd.sim.report import format_table
from teach_sgd.tui.runs import build_runners
from teach_sgd.tui.widgets.dashboard import Dashboard, RunStatus
from teach_sgd.tui.widgets.kernel_status import KernelStatus
from teach_sgd.tui.widgets.lesson_outline import LessonOutline
from teach_sgd.tui.widgets.lesson_results import RunResultsTable
from teach_sgd.tui.widgets.plots import LossPlot

RACE_POLL_S = 0.1  # how often a race reads the engine's counters: often enough to feel immediate
NOTE_LINES = 3     # an experiment's note above its dashboard, at most: the threads table needs the rows below


class Clamped(Static):
    """Plain text wrapped to the width there is and cut to `lines` lines, the last ending in "…" when cut: a
    preview that never hides that it goes on (the whole text is the step's, on the left)."""
    _text = ""

    def __init__(self, lines: int, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.lines = lines

    def show(self, text: str) -> None:
        self._text = text
        self.refresh(layout=True)

    def render(self) -> Text:
        width = self.content_size.width
        if not width:
            return Text(self._text)
        wrapped = Text(self._text).wrap(self.app.console, width)
        if len(wrapped) <= self.lines:
            return Text(self._text)
        kept = wrapped[: self.lines]
        last = kept[-1]
        last.rstrip()
        if last.cell_len >= width:
            last.truncate(width - 1)
        last.append("…")
        return Text("\n").join(kept)

    def on_resize(self) -> None:
        self.refresh(layout=True)


def _heading(kind: str, line: str) -> ComposeResult:
    """An experiment's title bar and the line under it (a live experiment's note, a headless one's status)."""
    yield Static("", id=f"ls-{kind}-title")
    yield Clamped(NOTE_LINES, id=f"ls-{kind}-{line}") if line == "note" else Static("", id=f"ls-{kind}-{line}")


class LessonPane(ContentSwitcher):
    class RaceMoved(Message):
        """The race on the dashboard moved on (a stage happened, or it was made, or it failed)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="ls-outline"):
            yield LessonOutline(id="ls-outline-text")
        with Vertical(id="ls-experiment"):
            yield from _heading("exp", "note")
            with Horizontal(id="ls-run-row"):
                yield Static("", id="ls-run-header")
                yield KernelStatus()
            yield Dashboard(id="ls-dash")
            yield RunResultsTable(id="ls-results")
        with Vertical(id="ls-simulation"):
            yield from _heading("sim", "status")
            with ScrollableContainer(id="ls-sim-scroll"):
                yield Static("", id="ls-sim-table")

    def on_mount(self) -> None:
        q = self.query_one
        self.dash, self.results = q("#ls-dash", Dashboard), q("#ls-results", RunResultsTable)
        self.w_header, self.w_sim_status = q("#ls-run-header", Static), q("#ls-sim-status", Static)
        self.shown: str | None = None  # the experiment whose runs the table lists
        self.runner = None             # the run in flight
        self.shown_result = None       # a finished run shown from its result, not the dashboard's own run
        self.passing = False           # a LiveExperiment's pass is on (between its runs too)
        self._waiting: asyncio.Future | None = None

    def show(self, session, busy: bool, live=None) -> None:
        self.session = session
        e = session.experiment_for()
        here = session.step.kind == "run"
        if session.step.kind == "race":
            self.race_title(session.step.race, busy)
        elif e is None:
            self.query_one(LessonOutline).show(session.lesson, session.index, session.status_before)
            self.current = "ls-outline"
        elif e.headless:
            what = "simulation" if e.kind == "simulate" else "measurement"
            self.simulation(e, session.results.get(e.id), busy,
                            f"press r to run the {what}" if here else f"the {what} runs at its step")
        else:
            self.experiment(e, session, busy, live.runs if live else None, "press r to start the experiment" if here
                            else "the experiment runs at its step, after your predictions", here)

    def experiment(self, e, session, busy: bool, partial: dict | None, idle: str, here: bool) -> None:
        self.current = "ls-experiment"
        self._title("exp", "Experiment", e)
        note = self.query_one("#ls-exp-note", Clamped)
        note.show(e.note or "")  # plain text: "[ and ] select an event" is not markup
        # at the experiment's own step the note is the step's text on the left: its rows go to the threads here
        note.display = bool(e.note) and not here
        res = session.results.get(e.id)
        if self.shown != e.id and not busy:
            self.shown = e.id
            plan = session.plan(e.id)
            self.results.show_plan(plan, res.runs if res else partial)
            if res is None and e.id in session.outdated:
                # "run again" first: at 80 columns this line keeps about 25 characters
                self.header(Text(f"run again: the experiment changed since your last run · {len(plan)} run(s)",
                                 style="dim"))
            elif res is None:
                self.header(Text(f"{len(plan)} run(s), not run yet", style="dim"))
            else:  # results from an earlier visit: the last run on the dashboard, every loss curve beside it
                last = list(res.runs)[-1]
                self.results.move_cursor(row=self.results.get_row_index(last))  # its row highlighted, as it was
                self.show_run(last, res.runs[last])
                self.overlay(res.runs)
        if self.dash.runner is None and res is None:
            self.dash.query_one(RunStatus).show_text(Text(idle, style="dim"))

    def simulation(self, e, res, busy: bool, idle: str) -> None:
        """A headless experiment's table: the simulator's sweep, or the false-sharing measurement's."""
        self.current = "ls-simulation"
        self._title("sim", "Simulation" if e.kind == "simulate" else "Measurement", e)
        table = self.query_one("#ls-sim-table", Static)
        if res is not None and res.sim is not None:
            table.update(Text(format_table(res.sim) if e.kind == "simulate" else res.sim.table(), no_wrap=True))
            done = "simulated" if e.kind == "simulate" else "measured"
            self.sim_status(Text(f"✓ {done} — the table below is what the checkpoints read", style="cyan"))
        elif not busy:
            table.update("")
            self.sim_status(Text(idle, style="dim"))

    def _title(self, kind: str, what: str, e) -> None:
        self.query_one(f"#ls-{kind}-title", Static).update(Text.assemble((f"{what}  ", "dim"), (e.title, "bold")))

    def sim_status(self, text) -> None:
        self.w_sim_status.update(text)

    async def simulate(self, session) -> None:
        """A headless experiment in a thread — the simulator's sweep (pure Python, a few ms to seconds) or the
        false-sharing measurement (its own threads, seconds) — its progress on the status line."""
        e = session.step.experiment
        doing, unit = ("simulating", "cells") if e.kind == "simulate" else ("measuring", "rounds")
        self.simulation(e, None, False, "")
        self.sim_status(Text(f"{doing}…", style="bold green"))

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self.sim_status, Text(f"{doing}… {done} / {total} {unit}", style="bold green"))
        try:
            await asyncio.to_thread(session.simulate, e.id, progress)
        except Exception as exc:  # a lesson's bad simulation settings: said on screen, the lesson goes on
            self.sim_status(Text(f"✗ {exc}", style="bold red"))
            return
        self.simulation(e, session.results.get(e.id), False, "")

    def header(self, text: Text) -> None:
        self.w_header.update(text)

    def run_header(self, k: int, n: int, name: str, config) -> None:
        self.header(Text.assemble((f"run {k} of {n}: ", "bold"), (name, "bold cyan"), f" — {describe_config(config)}"))

    def show_run(self, name: str, result) -> None:
        """A finished run on the dashboard, its timeline from the events kept of it (lessons/session.KeptRuns)."""
        self.dash.show_result(result)
        self.dash.show_events(self.session.events_of(self.shown, name, result), result.config, KeptRuns.NOT_KEPT)
        self.shown_result = result
        self.header(Text.assemble(("showing run ", "dim"), (name, "bold cyan"),
                                  (f" — {describe_config(result.config)}", ""), ("   (↑↓: another run)", "dim")))

    def start_on_dashboard(self) -> None:
        """The run in flight (an experiment's, or a race's) on the dashboard, which then shows its own run."""
        self.dash.start(self.runner)
        self.shown_result = None

    @on(RunResultsTable.RowHighlighted, "#ls-results")
    def _row_highlighted(self, event: RunResultsTable.RowHighlighted) -> None:
        """Once an experiment is done, the highlighted row's run is what the dashboard shows."""
        res = self.session.results.get(self.shown) if self.shown else None
        name = event.row_key.value if event.row_key is not None else None
        if not self.passing and res is not None and name in res.runs and not self.dash.running:
            self.show_run(name, res.runs[name])
            self.overlay(res.runs)

    def overlay(self, runs: dict) -> None:
        """After the last run: every run's loss curve in one plot, to compare them."""
        if not 2 <= len(runs) <= len(LossPlot.COLOURS):
            return  # one curve is already shown; more than the plot has colours would be a tangle
        plot = self.dash.query_one(LossPlot)
        plot.show([(name, r.loss_curve) for name, r in runs.items()], force=True)
        plot.border_title = "loss — all runs"

    async def run(self, live) -> None:
        """The experiment loop on screen: each of the LiveExperiment's runs in the Dashboard (build_runners waits
        for the run's kernel), its numbers in the table, until all have ended or one was stopped."""
        self.shown = live.experiment.id
        self.results.show_plan(live.plan)
        self.passing = True
        try:
            with self.app.runs_wanted():  # the pass, gaps between its runs included: no background compile
                if not await self._pass(live):
                    return
        finally:
            self.runner, self._waiting, self.passing = None, None, False
        if live.finish():
            self.overlay(live.runs)
            self.header(Text("✓ done", style="cyan") if len(live.plan) == 1 else Text.assemble(
                (f"✓ {len(live.plan)} runs done", "cyan"), " — showing ", (live.plan[-1][0], "bold cyan"),
                ("   (Tab ↑↓: another run)", "dim")))
        else:
            self.results.clear_state([n for n, _ in live.plan if n not in live.runs])
            self.header(Text("stopped — r runs the experiment again from the start", style="yellow"))

    async def _pass(self, live) -> bool:
        """The runs of one pass, each built (waiting for its kernel), shown live, and its result kept. False if a
        run could not be built (build_runners said why)."""
        for k, name, config in live.pending():
            self.run_header(k, len(live.plan), name, config)
            self.results.set_running(name)
            runners = await build_runners(self.app, config, say=self.say)
            if runners is None:
                return False
            [self.runner] = runners
            self._waiting = asyncio.get_running_loop().create_future()
            self.start_on_dashboard()
            result = await self._waiting
            self.results.set_result(name, result)
            # result() has taken the last events: every event of the run is in its log now
            if not live.add(name, result, self.runner.events):
                break
        return True

    def race_title(self, spec, busy: bool) -> None:
        self.current = "ls-experiment"
        self.query_one("#ls-exp-title", Static).update(Text.assemble(("Race  ", "dim"), (spec.title, "bold")))
        self.query_one("#ls-exp-note", Static).display = False
        if not busy:
            self.shown = None
            self.results.show_plan([(spec.name, spec.config())])
            self.header(Text("r starts the threads; the steps on the left say which keys to press", style="dim"))

    async def race(self, session, controls=None) -> None:
        """The step's race: its Runner built, its setup holds set before the threads start, then on the dashboard,
        polled every RACE_POLL_S until it is made, fails, or the run ends (leaving the lesson stops it).
        `controls`: the screen's ThreadControls (runs/controls.py), whose keys the race guards and observes."""
        spec = session.step.race
        self.results.set_running(spec.name)
        runners = await build_runners(self.app, spec.config(), say=self.say)
        if runners is None:
            return
        [self.runner] = runners
        race = session.begin_race(self.runner)
        self.start_on_dashboard()
        self.header(Text.assemble(("race: ", "bold"), (spec.title, "bold cyan"), f" — {describe_config(spec.config())}"))
        if controls is not None:  # the learner's thread keys: the race refuses those that would spoil it
            controls.guards.append(race.guard)
            controls.observers.append(race.observed)
        seen = -1
        try:
            while True:
                session.poll_race()
                if race.revision != seen:
                    seen = race.revision
                    self.post_message(self.RaceMoved())
                if race.done or race.failed:
                    break
                await asyncio.sleep(RACE_POLL_S)
        finally:
            self.runner = None
            if controls is not None:
                controls.guards.remove(race.guard)
                controls.observers.remove(race.observed)

    def on_dashboard_run_finished(self, event: Dashboard.RunFinished) -> None:
        if event.result is not None and self.session.step.kind == "race":
            self.results.set_result(self.session.step.race.name, event.result)
        if self._waiting is not None and not self._waiting.done() and event.result is not None:
            self._waiting.set_result(event.result)

    def stop(self) -> None:
        stop_runner(self.runner)
        if self._waiting is not None and not self._waiting.done():
            self._waiting.cancel()

    def say(self, text: str, style: str = "") -> None:
        self.header(Text(text, style=style))
