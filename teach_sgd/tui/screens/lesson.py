"""LessonScreen: one guided lesson — the narrative on the left, the live experiment on the right.

    LessonScreen(lesson_id, lessons_dir=None, budget=None)     # pushed by app.open_lesson

It draws a `teach_sgd.lessons.LessonSession` (which reads the lesson, keeps the learner's answers, runs and
position, and writes what each step says: lessons/pages.py) and lays out widgets around it:

    narrative   the step's Markdown (right: the lesson's outline, or the last experiment's results)
    predict     the question and its numbered choices (↑↓ + Enter, or 1–9); the choice is the prediction
    change      the setting the learner picks for one run of the next experiment, as numbered choices
    run         r runs the experiment's RunConfigs one after another in the Dashboard (session.begin()); a
                simulate or sharing experiment runs the simulator or the false-sharing measurement and shows its table
    verdict     ✓ / ✗ and the checkpoint's explanation, with the numbers this very run measured
    race        r starts the race's threads held where it begins (lessons/races.py); the thread keys make it,
                the text names each key as the race goes, and the race refuses one that would spoil it

Keys (help.py lists them): n/→ next, p/← back, r run, space pause, x stop, the thread keys (thread_keys.py), R
record, c 16 real cores, g challenges, K your class, h home, Esc from a panel to the text, then home (leaving
loses only a run in flight). `budget` (teach_sgd.lessons.Budget) shrinks every run, for tests and previews.
"""
from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Markdown, OptionList, Static

from teach_sgd.classroom.instructor import ClassView
from teach_sgd.engine.recording import load
from teach_sgd.errors import UsageError
from teach_sgd.lessons import pages
from teach_sgd.lessons.races import key_names
from teach_sgd.lessons.session import open_session
from teach_sgd.sim.challenges import BY_ID as CHALLENGES_BY_ID
from teach_sgd.tui.screens.challenge import ChallengeScreen
from teach_sgd.tui.screens.classroom import InstructorScreen
from teach_sgd.tui.screens.run_screen import save_recordings
from teach_sgd.tui.screens.thread_keys import THREAD_BINDINGS, ThreadKeysScreen
from teach_sgd.tui.widgets.lesson_outline import KIND_LABEL, Choices
from teach_sgd.tui.widgets.lesson_pane import LessonPane
from teach_sgd.tui.widgets.too_small import TooSmall

KEY = {b.action: b.key_display or b.key for b in THREAD_BINDINGS}
RACE_KEYS = key_names((KEY["thread(-1)"], KEY["thread(1)"]), KEY["breakpoint(False)"], KEY["freeze(False)"],
                      KEY["step_thread"], KEY["go_on"], KEY["clear_holds"])  # what a race's stages name
TONES = {"go": "bold green", "todo": "bold yellow", "info": "cyan", "dim": "dim", "pause": "bold yellow"}
BADGES = {"undecided": "bold black on yellow", "none": "bold black on grey70", "match": "bold white on dark_green",
          "mismatch": "bold white on red"}


class LessonScreen(ThreadKeysScreen):
    AUTO_FOCUS = "#ls-scroll"
    BINDINGS = [
        Binding("n,right", "next", "Next", key_display="n/→"),
        Binding("p,left", "back", "Back", key_display="p/←"),
        Binding("r", "run", "Run"),
        Binding("space", "pause", "Pause/Resume"),
        Binding("x", "stop", "Stop"),
        *THREAD_BINDINGS,
        Binding("R", "record", "Record"),
        Binding("c", "reference", "16 real cores"),
        Binding("g", "challenge", "Challenge"),
        Binding("K", "your_class", "Your class"),
        Binding("escape", "leave", "Home", key_display="h/Esc"),
        Binding("h", "home", "Home", show=False),
        *[Binding(str(i), f"choose({i})", f"Choice {i}", show=False) for i in range(1, 10)],
    ]

    def __init__(self, lesson_id: str, lessons_dir: str | None = None, budget=None, progress=None, **kw) -> None:
        super().__init__(**kw)
        self.lesson_id, self.lessons_dir, self._budget, self._progress = lesson_id, lessons_dir, budget, progress
        self.session = None
        self.live = None          # the LiveExperiment in flight
        self._busy = False        # a live experiment or a simulation is in flight (not `_running`: MessagePump owns that)
        self._next_challenge = 0  # `g` opens the lesson's challenges in turn

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
            yield LessonPane(id="ls-right", initial="ls-outline")
        yield Footer()
        yield TooSmall()

    async def on_mount(self) -> None:
        self.session = open_session(self.lesson_id, self.lessons_dir, self._progress, self._budget)
        if self.session is None:
            self.app.notify(f"No lesson {self.lesson_id!r}.", severity="error")
            self.app.pop_screen()
            return
        self.lesson, self.progress = self.session.lesson, self.session.progress
        if self.progress.warning:
            self.app.notify(self.progress.warning, severity="warning")
        q = self.query_one
        self.w_title, self.w_pos, self.w_badge = q("#ls-title", Static), q("#ls-pos", Static), q("#ls-badge", Static)
        self.w_scroll, self.w_text = q("#ls-scroll", VerticalScroll), q("#ls-text", Markdown)
        self.w_choices, self.w_hint = q("#ls-choices", Choices), q("#ls-hint", Static)
        self.w_right = q(LessonPane)
        self.dash, self.w_results = self.w_right.dash, self.w_right.results
        self.w_title.update(Text.assemble((self.lesson.title, "bold"), (f"   {self.lesson.minutes} min", "dim")))
        self.watch(self.app, "kernel_state", lambda _: self.refresh_bindings(), init=False)
        await self.show_step()

    @property
    def step(self):
        return self.session.step

    @property
    def runner(self):
        return self.w_right.runner

    async def show_step(self) -> None:
        s, step = self.session, self.session.step
        self.w_pos.update(Text.assemble(f"step {s.index + 1} / {len(s.steps)}", ("  ·  ", "dim"),
                                        (KIND_LABEL[step.kind], "bold")))
        choosing = self._choices()
        self.w_choices.display = choosing is not None
        self.set_class(choosing is not None, "-predict")
        if choosing is not None:
            self.w_choices.show(*choosing)
        self.w_badge.display = step.kind == "verdict"
        if step.kind == "verdict":
            kind, words = pages.verdict_badge(s.verdict())
            self.w_badge.update(Text(words, style=BADGES[kind]))
        await self.w_text.update(pages.markdown(s, RACE_KEYS))
        self.w_scroll.scroll_home(animate=False)
        self.w_right.show(self.session, self._busy, self.live)
        self._update_hint()
        (self.w_choices if choosing is not None else self.w_scroll).focus()

    def _choices(self):
        """(choices, chosen key, mark) of a step that asks for a choice — a prediction or a change — else None."""
        step, s = self.step, self.session
        if step.kind == "predict":
            return step.checkpoint, s.answers.get(step.checkpoint.id), "your prediction"
        if step.kind == "change":
            return step.experiment.change, s.changes.get(step.experiment.id), "your value"
        return None

    def _update_hint(self, paused: bool = False) -> None:
        text, tone = (("paused — the threads are parked; space resumes", "pause") if paused
                      else pages.hint(self.session, self._busy))
        self.w_hint.update(Text(text, style=TONES[tone]))
        self.refresh_bindings()

    def thread_dashboards(self) -> list:
        return [self.dash] if hasattr(self, "dash") else []

    def say_threads(self, text: str) -> None:
        self.w_hint.update(Text(text, style="bold yellow"))

    def check_screen_action(self, action: str, parameters) -> bool | None:
        if self.session is None:
            return action in ("home", "leave")
        if action in ("next", "back"):
            ok = self.session.can_advance if action == "next" else self.session.index > 0
            return True if ok and not self._busy else None
        if action == "run":
            return (None if self._busy else True) if self.step.kind in ("run", "race") else False
        if action in ("pause", "stop"):
            return self._busy and self.runner is not None
        if action == "record":
            return self.dash.result is not None and not self._busy
        if action == "reference":  # shown only when a recording to open is there (none ships yet)
            return self._reference() is not None
        if action == "your_class":
            return self.lesson.class_file is not None
        if action == "choose":
            choosing = self._choices()
            return choosing is not None and parameters[0] <= len(choosing[0].choices)
        if action == "challenge":
            return bool(self.session.lesson.challenges) and not self._busy
        return True

    def action_challenge(self) -> None:
        """Play the lesson's scheduler challenges (its front matter's `challenges`), one per press, in turn.
        Esc on the challenge comes back here, at the same step."""
        challenges = self.session.lesson.challenges if self.session is not None else ()
        if not challenges or self._busy:
            return
        self.app.push_screen(ChallengeScreen(CHALLENGES_BY_ID[challenges[self._next_challenge % len(challenges)]]))
        self._next_challenge += 1

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
        if self.session is not None and not self._busy and self.session.index > 0:
            self.session.back()
            await self.show_step()

    def action_leave(self) -> None:
        """Esc: from a panel (the timeline, the runs table, …) back to the text; from the text, home."""
        home = self.w_choices if self.session is not None and self._choices() is not None else self.w_scroll
        if self.session is not None and self.focused is not None and self.focused is not home:
            home.focus()
            return
        self.action_home()

    def action_home(self) -> None:
        self._stop_everything()
        self.app.pop_screen()

    def on_unmount(self) -> None:
        self._stop_everything()

    def _stop_everything(self) -> None:
        if self.session is None:
            return
        if self.live is not None:
            self.live.stop()
        self.w_right.stop()

    # ---- predict ----------------------------------------------------------------------------------------
    def action_choose(self, number: int) -> None:
        choosing = self._choices() if self.session is not None else None
        if choosing is not None and number <= len(choosing[0].choices):
            self._answer(choosing[0].choices[number - 1][0])

    @on(OptionList.OptionSelected, "#ls-choices")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self._answer(event.option.id)

    def _answer(self, key: str) -> None:
        if self.step.kind == "change":
            self.session.change(key)
        else:
            self.session.answer(key)
        self.w_choices.show(*self._choices())
        self._update_hint()

    # ---- run ----------------------------------------------------------------------------------------------
    def action_run(self) -> None:
        if self.session is None or self._busy or self.step.kind not in ("run", "race"):
            return
        self._busy = True
        self._update_hint()
        self._run(None if self.step.kind == "race" or self.step.experiment.headless else self.session.begin())

    def action_pause(self) -> None:
        paused = self.dash.toggle_pause()
        if paused is not None:
            self._update_hint(paused)

    def action_stop(self) -> None:
        if self.runner is not None and not self.runner.done:
            if self.live is not None:
                self.live.stop()
            self.dash.stop_run()

    @work(exclusive=True, group="lesson-run")
    async def _run(self, live) -> None:
        """The step's experiment: live runs on the dashboard (a LiveExperiment), or a headless one — the
        simulator or the false-sharing measurement (live None); or the step's race."""
        self.live, cancelled = live, False
        pane = self.w_right
        try:
            await (pane.run(live) if live is not None else pane.simulate(self.session) if self.step.kind == "run"
                   else pane.race(self.session, self.controls))
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            self.live, self._busy = None, False
            if not cancelled and self.is_mounted:
                await self._redraw_text()

    async def _redraw_text(self) -> None:
        if self.step.kind in ("run", "race"):
            await self.w_text.update(pages.markdown(self.session, RACE_KEYS))
        self._update_hint()

    async def on_lesson_pane_race_moved(self) -> None:
        await self._redraw_text()

    # ---- record, and the reference recording --------------------------------------------------------------
    @work(exclusive=True, group="record")
    async def action_record(self) -> None:
        if self.dash.result is not None and not self._busy:
            c = self.dash.runner.config
            await save_recordings(self.app, [self.dash.runner], f"lesson-{self.lesson.id}-{c.algo}-m{c.threads}",
                                  self.w_right.say)

    def _reference(self):
        """The reference recording for this lesson's run, if one is installed."""
        return self.session.reference(self.dash.result and self.dash.result.config, self.app.reference_dir)

    def action_reference(self) -> None:
        """The same kind of run on a machine with ≥ 16 cores, beside the learner's own, when one ships."""
        path = self._reference()
        if path is not None:
            try:
                self.app.open_replay(load(path))
            except UsageError as e:
                self.app.notify(str(e), title="16 real cores", severity="error")

    def action_your_class(self) -> None:
        """The class file this lesson names: "your class, DATE: N machines, A–B cores" and its plots, over the
        lesson. The file is read now (an instructor may export it again between classes); one that is missing
        or damaged is one line here, and the lesson goes on."""
        try:
            view = ClassView.from_file(self.lesson.class_file)
        except UsageError as e:
            self.app.notify(str(e), title="Your class", severity="error")
            return
        self.app.push_screen(InstructorScreen(view=view, over=True))
