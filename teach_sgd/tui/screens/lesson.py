"""LessonScreen: one guided lesson — the narrative on the left, the live experiment on the right.

    LessonScreen(lesson_id, lessons_dir=None, budget=None)     # pushed by app.open_lesson

It drives a `teach_sgd.lessons.LessonSession` step by step:

    narrative   the step's Markdown (right: the lesson's outline, or the last experiment's results)
    predict     the question and its numbered choices (↑↓ + Enter, or 1–9); the choice is the prediction
    run         r runs the experiment's RunConfigs one after another in the Dashboard (header "run 2 of 3: …",
                every run's numbers in the table below it); a simulate experiment runs the asynchrony
                simulator in a thread and shows its table
    verdict     ✓ / ✗ and the checkpoint's explanation, with the numbers this very run measured

n/→ next (once the step is done), p/← back, r run, space pause, x stop, R record the last run, c "see it on 16
real cores" (the reference recording of this experiment's many-thread run, teach_sgd/replay.py), h/Esc home.
Progress (step, answers,
verdicts, completion) is saved by the session at every change. `budget` (teach_sgd.lessons.Budget) shrinks every
run, for tests and quick previews; without it the app's `lesson_budget` attribute is used, if set.
"""
from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Header, Markdown, OptionList, Static

from teach_sgd.errors import UsageError
from teach_sgd.replay import find_reference, wants_reference
from teach_sgd.tui.runs import build_runners, stop_runner
from teach_sgd.tui.screens.run_screen import save_recordings
from teach_sgd.tui.widgets.dashboard import Dashboard, RunStatus
from teach_sgd.tui.widgets.kernel_status import KernelStatus
from teach_sgd.tui.widgets.lesson_outline import KIND_LABEL, Choices, LessonOutline
from teach_sgd.tui.widgets.lesson_results import RunResultsTable, describe_config
from teach_sgd.tui.widgets.plots import LossPlot
from teach_sgd.tui.widgets.too_small import TooSmall


class LessonScreen(Screen):
    AUTO_FOCUS = "#ls-scroll"
    BINDINGS = [
        Binding("n,right", "next", "Next", key_display="n/→"),
        Binding("p,left", "back", "Back", key_display="p/←"),
        Binding("r", "run", "Run"),
        Binding("space", "pause", "Pause/Resume"),
        Binding("x", "stop", "Stop"),
        Binding("R", "record", "Record"),
        Binding("c", "reference", "16 real cores"),
        Binding("h,escape", "home", "Home", key_display="h/Esc"),
        *[Binding(str(i), f"choose({i})", f"Choice {i}", show=False) for i in range(1, 10)],
    ]

    class SimProgress(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done, self.total = done, total

    class SimDone(Message):
        def __init__(self, experiment_id: str, error: str | None = None) -> None:
            super().__init__()
            self.experiment_id, self.error = experiment_id, error

    def __init__(self, lesson_id: str, lessons_dir: str | None = None, budget=None, progress=None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        from teach_sgd.lessons import Progress, find_lesson, load_lessons

        self.lesson_id = lesson_id
        self.lessons_dir = lessons_dir
        self._budget = budget
        lessons, self.errors = load_lessons(lessons_dir)
        self.lesson = find_lesson(lessons, lesson_id)
        self.progress = progress if progress is not None else Progress.load()
        self.status_before = self.progress.status(self.lesson.id) if self.lesson is not None else "new"
        self.session = None
        self.runner = None
        self._busy = False        # a live experiment or a simulation is in flight (not `_running`: MessagePump owns that)
        self._aborted = False
        self._waiting: asyncio.Future | None = None
        self._partial: dict = {}     # experiment id → {run name: RunResult} while it runs
        self._shown_experiment = None

    # ---- layout ---------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="ls-main"):
            with Vertical(id="ls-left"):
                yield Static("", id="ls-title")
                yield Static("", id="ls-pos")
                with VerticalScroll(id="ls-scroll"):
                    yield Static("", id="ls-badge")
                    yield Markdown("", id="ls-text", open_links=False)
                yield Choices(id="ls-choices")
                yield Static("", id="ls-hint")
            with ContentSwitcher(id="ls-right", initial="ls-outline"):
                with VerticalScroll(id="ls-outline"):
                    yield LessonOutline(id="ls-outline-text")
                with Vertical(id="ls-experiment"):
                    yield Static("", id="ls-exp-title")
                    yield Static("", id="ls-exp-note")
                    with Horizontal(id="ls-run-row"):
                        yield Static("", id="ls-run-header")
                        yield KernelStatus()
                    yield Dashboard(id="ls-dash")
                    yield RunResultsTable(id="ls-results")
                with Vertical(id="ls-simulation"):
                    yield Static("", id="ls-sim-title")
                    yield Static("", id="ls-sim-status")
                    with ScrollableContainer(id="ls-sim-scroll"):
                        yield Static("", id="ls-sim-table")
        yield Footer()
        yield TooSmall()

    async def on_mount(self) -> None:
        if self.lesson is None:
            self.app.notify(f"No lesson {self.lesson_id!r}.", severity="error")
            self.app.pop_screen()
            return
        from teach_sgd.lessons import LessonSession

        budget = self._budget if self._budget is not None else getattr(self.app, "lesson_budget", None)
        self.session = LessonSession(self.lesson, self.progress, budget=budget)
        if self.progress.warning:
            self.app.notify(self.progress.warning, severity="warning")
        q = self.query_one
        self.w_title, self.w_pos, self.w_badge = q("#ls-title", Static), q("#ls-pos", Static), q("#ls-badge", Static)
        self.w_scroll, self.w_text = q("#ls-scroll", VerticalScroll), q("#ls-text", Markdown)
        self.w_choices, self.w_hint = q("#ls-choices", Choices), q("#ls-hint", Static)
        self.w_right, self.w_outline = q("#ls-right", ContentSwitcher), q("#ls-outline-text", LessonOutline)
        self.w_exp_title, self.w_exp_note = q("#ls-exp-title", Static), q("#ls-exp-note", Static)
        self.w_run_header, self.dash = q("#ls-run-header", Static), q("#ls-dash", Dashboard)
        self.w_results = q("#ls-results", RunResultsTable)
        self.w_sim_title, self.w_sim_status = q("#ls-sim-title", Static), q("#ls-sim-status", Static)
        self.w_sim_table = q("#ls-sim-table", Static)
        self.w_title.update(Text.assemble((self.lesson.title, "bold"), (f"   {self.lesson.minutes} min", "dim")))
        self.w_results.border_title = "runs"
        self.watch(self.app, "kernel_state", lambda _: self.refresh_bindings(), init=False)
        await self.show_step()

    # ---- what the current step shows ------------------------------------------------------------------
    @property
    def step(self):
        return self.session.step

    def _experiment_for(self, index: int):
        """The experiment the right pane shows at step `index`: the step's own, or for a narrative step the
        last experiment before it that has results (None: show the outline)."""
        steps = self.session.steps
        step = steps[index]
        if step.kind == "run":
            return step.experiment
        if step.kind in ("predict", "verdict"):
            return self.lesson.experiment(step.checkpoint.experiment)
        for s in reversed(steps[:index]):
            if s.kind == "run" and s.experiment.id in self.session.results:
                return s.experiment
        return None

    async def show_step(self) -> None:
        s, step = self.session, self.session.step
        self.w_pos.update(Text.assemble(f"step {s.index + 1} / {len(s.steps)}", ("  ·  ", "dim"),
                                        (KIND_LABEL[step.kind], "bold")))
        self.w_badge.display = False
        self.w_choices.display = step.kind == "predict"
        self.set_class(step.kind == "predict", "-predict")
        if step.kind == "narrative":
            text = step.text
        elif step.kind == "predict":
            text = self._predict_text(step.checkpoint)
            self.w_choices.show(step.checkpoint, s.answers.get(step.checkpoint.id))
        elif step.kind == "run":
            text = self._run_text(step.experiment)
        else:
            text = self._verdict_text(step.checkpoint)
        await self.w_text.update(text)
        self.w_scroll.scroll_home(animate=False)
        self._show_right()
        self._update_hint()
        self.refresh_bindings()
        (self.w_choices if step.kind == "predict" else self.w_scroll).focus()

    def _predict_text(self, cp) -> str:
        e = self.lesson.experiment(cp.experiment)
        if cp.ask == "after":
            lead = (f"*A question about what you just watched* (experiment **{e.title}**): the numbers are on "
                    "the right.")
        else:
            lead = f"*Predict before you run* experiment **{e.title}**."
        return f"## Your prediction\n\n{lead}\n\n**{cp.question}**\n\nChoose one below."

    def _run_text(self, e) -> str:
        lines = [f"## Experiment: {e.title}", ""]
        if e.note:
            lines += [e.note, ""]
        if e.kind == "simulate":
            lines += ["This experiment runs the **asynchrony simulator** (no real threads): a sweep of step "
                      "sizes α against delay bounds τ_max. Its table appears on the right.", ""]
        else:
            plan = self.session.plan(e.id)
            lines += [f"{'These runs go' if len(plan) > 1 else 'This run goes'} one after another, "
                      "live on the right:", ""]
            lines += [f"{i}. **{name}** — {describe_config(cfg)}" for i, (name, cfg) in enumerate(plan, 1)]
            lines.append("")
        done = e.id in self.session.results
        lines.append("Press **r** to run it again." if done else "Press **r** to start the experiment.")
        return "\n".join(lines)

    def _verdict_text(self, cp) -> str:
        v = self.session.verdict(cp.id)
        if not v.decided:
            badge = Text(" ? UNDECIDED — the run did not measure what the question needs ", style="bold black on yellow")
        elif v.user_correct is None:
            badge = Text(" – no prediction was made ", style="bold black on grey70")
        elif v.user_correct:
            badge = Text(" ✓ your prediction matches the measurement ", style="bold white on dark_green")
        else:
            badge = Text(" ✗ the measurement says otherwise ", style="bold white on red")
        self.w_badge.update(badge)
        self.w_badge.display = True
        lines = ["## Check", "", f"**{cp.question}**", ""]
        lines.append(f"- you predicted: **{cp.choice_text(v.chosen) or '—'}**")
        if v.decided:
            lines.append(f"- this run measured: **{v.correct_text}**")
        elif v.missing:
            lines.append(f"- not measured: {v.missing}")
        lines += ["", v.explanation.strip()]
        return "\n".join(lines)

    def _show_right(self) -> None:
        e = self._experiment_for(self.session.index)
        if e is None:
            self.w_outline.show(self.lesson, self.session.index, self.status_before)
            self.w_right.current = "ls-outline"
            return
        if e.kind == "simulate":
            self._show_simulation(e)
            return
        self.w_right.current = "ls-experiment"
        self.w_exp_title.update(Text.assemble(("Experiment  ", "dim"), (e.title, "bold")))
        self.w_exp_note.update(e.note or "")
        self.w_exp_note.display = bool(e.note)
        if self._shown_experiment != e.id and not self._busy:
            self._shown_experiment = e.id
            res = self.session.results.get(e.id)
            self.w_results.show_plan(self.session.plan(e.id), res.runs if res else self._partial.get(e.id))
            if res is None:
                self.w_run_header.update(Text(f"{len(self.session.plan(e.id))} run(s), not run yet", style="dim"))
        if self.dash.runner is None and e.id not in self.session.results:
            idle = ("press r to start the experiment" if self.step.kind == "run"
                    else "the experiment runs at its step, after your predictions")
            self.dash.query_one(RunStatus).show_text(Text(idle, style="dim"))

    def _show_simulation(self, e) -> None:
        self.w_right.current = "ls-simulation"
        self.w_sim_title.update(Text.assemble(("Simulation  ", "dim"), (e.title, "bold")))
        res = self.session.results.get(e.id)
        if res is not None and res.sim is not None:
            from teach_sgd.sim.report import format_table

            self.w_sim_table.update(Text(format_table(res.sim), no_wrap=True))
            self.w_sim_status.update(Text("✓ simulated — the table below is what the checkpoints read",
                                          style="cyan"))
        elif not self._busy:
            self.w_sim_table.update("")
            self.w_sim_status.update(Text("press r to run the simulation" if self.step.kind == "run"
                                          else "the simulation runs at its step", style="dim"))

    def _update_hint(self) -> None:
        step, s = self.step, self.session
        last = s.index == len(s.steps) - 1
        nxt = "n → finish the lesson" if last else "n → next"
        if self._busy:
            hint = ("running… space pauses, x stops" if step.kind == "run" and step.experiment.kind != "simulate"
                    else "simulating…")
            style = "bold green"
        elif step.kind == "predict":
            chosen = s.answers.get(step.checkpoint.id)
            if chosen:
                hint, style = f"prediction saved: {step.checkpoint.choice_text(chosen)} — {nxt}", "cyan"
            else:
                n = len(step.checkpoint.choices)
                hint, style = f"choose: ↑↓ + Enter, or 1–{n}", "bold yellow"
        elif step.kind == "run":
            if s.can_advance:
                hint, style = f"done — {nxt} (the check), r runs it again", "cyan"
            else:
                hint, style = "r → run the experiment", "bold yellow"
        else:
            hint, style = nxt, "dim"
        self.w_hint.update(Text(hint, style=style))

    # ---- bindings -------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters) -> bool | None:
        if self.session is None:
            return action == "home"
        kind = self.step.kind
        if action == "next":
            return True if self.session.can_advance and not self._busy else None
        if action == "back":
            return True if self.session.index > 0 and not self._busy else None
        if action == "run":
            if kind != "run":
                return False
            return None if self._busy else True
        if action in ("pause", "stop"):
            return True if self._busy and self.runner is not None else False
        if action == "record":
            return True if self.dash.result is not None and not self._busy else False
        if action == "reference":
            return any(map(wants_reference, self._reference_configs()))
        if action == "choose":
            return kind == "predict" and parameters[0] <= len(self.step.checkpoint.choices)
        return True

    # ---- navigation -----------------------------------------------------------------------------------
    async def action_next(self) -> None:
        if self.session is None or self._busy or not self.session.can_advance:
            return
        if self.session.next() is None:  # the last step: the lesson is complete (and saved)
            good, answered = self.progress.score(self.lesson.id)
            score = f" — {good} of {answered} predictions matched the measurements" if answered else ""
            self.app.notify(f"{self.lesson.title}: lesson complete{score}.", title="✓ Lesson complete")
            self.app.pop_screen()
            return
        await self.show_step()

    async def action_back(self) -> None:
        if self.session is None or self._busy or self.session.index == 0:
            return
        self.session.back()
        await self.show_step()

    def action_home(self) -> None:
        self._stop_everything()
        self.app.pop_screen()

    def on_unmount(self) -> None:
        self._stop_everything()

    def _stop_everything(self) -> None:
        self._aborted = True
        stop_runner(self.runner)
        if self._waiting is not None and not self._waiting.done():
            self._waiting.cancel()

    # ---- predict ----------------------------------------------------------------------------------------
    def action_choose(self, number: int) -> None:
        if self.session is None or self.step.kind != "predict":
            return
        choices = self.step.checkpoint.choices
        if 1 <= number <= len(choices):
            self._answer(choices[number - 1][0])

    @on(OptionList.OptionSelected, "#ls-choices")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self._answer(event.option.id)

    def _answer(self, key: str) -> None:
        cp = self.step.checkpoint
        self.session.answer(key)
        self.w_choices.show(cp, key)
        self._update_hint()
        self.refresh_bindings()

    # ---- run ----------------------------------------------------------------------------------------------
    def action_run(self) -> None:
        if self.session is None or self._busy or self.step.kind != "run":
            return
        e = self.step.experiment
        self._busy = True
        self._aborted = False
        self._update_hint()
        self.refresh_bindings()
        if e.kind == "simulate":
            self.w_sim_table.update("")
            self.w_sim_status.update(Text("simulating…", style="bold green"))
            self._simulate(e)
        else:
            self._run_live(e, self.session.plan(e.id))

    def action_pause(self) -> None:
        paused = self.dash.toggle_pause()
        if paused:
            self.w_hint.update(Text("paused — the threads are parked; space resumes", style="bold yellow"))
        elif paused is not None:  # resumed
            self._update_hint()

    def action_stop(self) -> None:
        if self.runner is not None and not self.runner.done:
            self._aborted = True
            self.dash.stop_run()

    @work(exclusive=True, group="lesson-run")
    async def _run_live(self, e, plan) -> None:
        runs: dict = {}
        cancelled = False
        self._partial[e.id] = runs
        self.dash.query_one(LossPlot).border_title = "loss"
        self._shown_experiment = e.id
        self.w_results.show_plan(plan)
        try:
            for k, (name, config) in enumerate(plan, 1):  # (build_runners waits for the run's kernel)
                if self._aborted:
                    break
                self.w_run_header.update(Text.assemble((f"run {k} of {len(plan)}: ", "bold"),
                                                       (name, "bold cyan"), f" — {describe_config(config)}"))
                self.w_results.set_running(name)
                runners = await build_runners(self.app, config, say=self._say)
                if runners is None:
                    return
                [self.runner] = runners
                self._waiting = asyncio.get_running_loop().create_future()
                self.dash.start(self.runner)
                result = await self._waiting
                self._waiting = None
                self.w_results.set_result(name, result)
                if self._aborted or result.status == "stopped":
                    break
                runs[name] = result
            if len(runs) == len(plan):
                self.session.set_results(dict(runs))
                self._overlay_losses(runs)
                if len(plan) > 1:
                    self.w_run_header.update(Text.assemble(
                        (f"✓ {len(plan)} runs done", "cyan"), " — showing ", (plan[-1][0], "bold cyan"),
                        ("   (Tab ↑↓: another run)", "dim")))
                else:
                    self.w_run_header.update(Text("✓ done", style="cyan"))
            else:
                self.w_results.clear_state([n for n, _ in plan if n not in runs])
                self.w_run_header.update(Text("stopped — r runs the experiment again from the start",
                                              style="yellow"))
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            self.runner = None
            self._busy = False
            self._partial.pop(e.id, None)
            if not cancelled and self.is_mounted:
                if self.step.kind == "run" and self.step.experiment.id == e.id:
                    await self.w_text.update(self._run_text(e))
                self._update_hint()
                self.refresh_bindings()

    def on_dashboard_run_finished(self, event: Dashboard.RunFinished) -> None:
        if self._waiting is not None and not self._waiting.done() and event.result is not None:
            self._waiting.set_result(event.result)

    def _overlay_losses(self, runs: dict) -> None:
        """After the last run: every run's loss curve in one plot, to compare them."""
        if not 2 <= len(runs) <= len(LossPlot.COLOURS):
            return  # one curve is already shown; more than the plot has colours would be a tangle
        plot = self.dash.query_one(LossPlot)
        plot.show([(name, r.loss_curve) for name, r in runs.items()], force=True)
        plot.border_title = "loss — all runs"

    @on(RunResultsTable.RowHighlighted, "#ls-results")
    def _row_highlighted(self, event: RunResultsTable.RowHighlighted) -> None:
        """Once an experiment is done, the highlighted row's run is what the dashboard shows."""
        if self._busy or self._shown_experiment is None or event.row_key is None:
            return
        res = self.session.results.get(self._shown_experiment)
        name = event.row_key.value
        if res is None or name not in res.runs or self.dash.running:
            return
        self.dash.show_result(res.runs[name])
        self._overlay_losses(res.runs)
        self.w_run_header.update(Text.assemble(("showing run ", "dim"), (name, "bold cyan"),
                                               (f" — {describe_config(res.runs[name].config)}", ""),
                                               ("   (↑↓: another run)", "dim")))

    # ---- record, and the reference recording --------------------------------------------------------------
    @work(exclusive=True, group="record")
    async def action_record(self) -> None:
        if self.dash.result is None or self._busy:
            return
        c = self.dash.runner.config
        await save_recordings(self.app, [self.dash.runner], f"lesson-{self.lesson.id}-{c.algo}-m{c.threads}",
                              self._say)

    def _reference_configs(self) -> list:
        """The lesson's runs: the one on the dashboard first, then the experiment on the right's, then the rest."""
        if self.session is None:
            return []
        shown = self._experiment_for(self.session.index)
        experiments = sorted((e for e in self.lesson.experiments if e.kind != "simulate"), key=lambda e: e is not shown)
        return ([self.dash.result.config] if self.dash.result is not None else []) + [
            cfg for e in experiments for _, cfg in self.session.plan(e.id)]

    def action_reference(self) -> None:
        """The same kind of run on a machine with ≥ 16 cores, beside the learner's own, when one ships."""
        configs = [c for c in self._reference_configs() if wants_reference(c)]
        if not configs:
            return
        path = find_reference(configs, self.app.reference_dir)
        if path is None:
            c = configs[0]
            self.app.notify(f"No reference recording of {c.algo} × {c.threads} threads ships yet. On a machine with "
                            "≥ 16 cores, scripts/record_reference.sh makes them (into teach_sgd/data/recordings/).",
                            title="16 real cores", severity="warning", timeout=10)
            return
        from teach_sgd.engine.recording import load  # the engine: only once there is a recording to read

        try:
            recording = load(path)
        except UsageError as e:
            self.app.notify(str(e), title="16 real cores", severity="error")
            return
        self.app.open_replay(recording)

    def _say(self, text: str, style: str = "") -> None:
        self.w_run_header.update(Text(text, style=style))

    @work(thread=True, exclusive=True, group="lesson-sim")
    def _simulate(self, e) -> None:
        try:
            self.session.simulate(e.id, progress=lambda done, total: self.post_message(self.SimProgress(done, total)))
        except Exception as exc:
            self.post_message(self.SimDone(e.id, str(exc)))
            return
        self.post_message(self.SimDone(e.id))

    def on_lesson_screen_sim_progress(self, message: SimProgress) -> None:
        self.w_sim_status.update(Text(f"simulating… {message.done} / {message.total} cells", style="bold green"))

    async def on_lesson_screen_sim_done(self, message: SimDone) -> None:
        self._busy = False
        if message.error:
            self.w_sim_status.update(Text(f"✗ {message.error}", style="bold red"))
        self._shown_experiment = None
        self._show_right()
        if self.step.kind == "run":
            await self.w_text.update(self._run_text(self.step.experiment))
        self._update_hint()
        self.refresh_bindings()
