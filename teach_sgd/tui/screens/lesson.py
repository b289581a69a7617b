"""LessonScreen: one guided lesson — the narrative on the left, the live experiment on the right.

    LessonScreen(lesson_id, lessons_dir=None, budget=None)     # pushed by app.open_lesson

It draws a `teach_sgd.lessons.LessonSession` (which reads the lesson, keeps the learner's answers, runs and
position, and writes what each step says: lessons/pages.py) through its LessonKeys (lessons/keys.py: what each
key does and when it is on), and lays out widgets around it:

    narrative   the step's Markdown (right: the lesson's outline, or the last experiment's results)
    predict     the question and its numbered choices (↑↓ + Enter, or 1–9); the choice is the prediction
    change      the setting the learner picks for one run of the next experiment, as numbered choices
    run         r runs the experiment's RunConfigs one after another in the Dashboard (session.begin()); a
                simulate or sharing experiment runs the simulator or the false-sharing measurement and shows its table
    verdict     ✓ / ✗ and the checkpoint's explanation, with the numbers this very run measured
    race        r starts the race's threads held where it begins (lessons/races.py); the thread keys make it,
                the text names each key as the race goes, and the race refuses one that would spoil it

Keys: BINDINGS below (help.py says what each does); Esc goes from a panel to the text, then home (leaving loses
only a run in flight). `budget` (teach_sgd.lessons.Budget) shrinks every run, for tests and previews.
"""
from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, OptionList

from teach_sgd.errors import UsageError
from teach_sgd.lessons.keys import LessonKeys, ScreenFacts
from teach_sgd.lessons.session import open_session
from teach_sgd.sim.challenges import BY_ID as CHALLENGES_BY_ID
from teach_sgd.tui.screens.base import QUIT_HELP
from teach_sgd.tui.screens.challenge import ChallengeScreen
from teach_sgd.tui.screens.classroom import InstructorScreen
from teach_sgd.tui.screens.run_screen import save_recordings
from teach_sgd.tui.screens.thread_keys import RACE_KEYS, THREAD_BINDINGS, ThreadKeysScreen
from teach_sgd.tui.widgets.lesson_pane import LessonPane
from teach_sgd.tui.widgets.lesson_step import StepPane
from teach_sgd.tui.widgets.too_small import TooSmall


class LessonScreen(ThreadKeysScreen):
    AUTO_FOCUS = "#ls-scroll"
    BINDINGS = [
        Binding("escape", "leave", "Home", key_display="h/Esc"),
        Binding("h", "home", "Home", show=False),
        *QUIT_HELP,
        Binding("n,right", "next", "Next", key_display="n/→"),
        Binding("p,left", "back", "Back", key_display="p/←"),
        Binding("r", "run", "Run"),
        Binding("space", "pause", "Pause"),
        Binding("x", "stop", "Stop"),
        *THREAD_BINDINGS,
        Binding("R", "record", "Record"),
        Binding("c", "reference", "16 real cores"),
        Binding("g", "challenge", "Challenge"),
        Binding("K", "your_class", "Your class"),
        *[Binding(str(i), f"choose({i})", f"Choice {i}", show=False) for i in range(1, 10)],
    ]

    def __init__(self, lesson_id: str, lessons_dir: str | None = None, budget=None, progress=None, **kw) -> None:
        super().__init__(**kw)
        self.lesson_id, self.lessons_dir, self._budget, self._progress = lesson_id, lessons_dir, budget, progress
        self.session = None
        self.keys: LessonKeys | None = None  # what each key does and when it is on (lessons/keys.py)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="ls-main"):
            yield StepPane(id="ls-left")
            yield LessonPane(id="ls-right", initial="ls-outline")
        yield Footer()
        yield TooSmall()

    async def on_mount(self) -> None:
        self.session = open_session(self.lesson_id, self.lessons_dir, self._progress, self._budget,
                                    kept=self.app.kept_runs)
        if self.session is None:
            self.app.notify(f"No lesson {self.lesson_id!r}.", severity="error")
            self.app.pop_screen()
            return
        self.lesson, self.progress = self.session.lesson, self.session.progress
        if self.progress.warning:
            self.app.notify(self.progress.warning, severity="warning")
        self.w_step, self.w_right = self.query_one(StepPane), self.query_one(LessonPane)
        self.dash = self.w_right.dash
        self.w_step.title(self.lesson)
        self.keys = LessonKeys(self.session, self.app.reference_dir)
        self.watch(self.app, "kernel_state", lambda _: self.refresh_bindings(), init=False)
        await self.show_step()

    @property
    def runner(self):
        return self.w_right.runner

    @property
    def shown_run(self):
        """The RunResult on the dashboard: a row of the experiment's table the learner picked, else its own run's."""
        return self.w_right.shown_result or self.dash.result

    async def show_step(self) -> None:
        choosing = self.keys.choosing()
        self.set_class(choosing is not None, "-predict")
        await self.w_step.show(self.session, choosing, RACE_KEYS)
        self.w_right.show(self.session, self.keys.busy, self.keys.live)
        self._update_hint()
        self._text_home().focus()

    def _text_home(self):
        """Where the keys go on a step: its choices, if it asks for one, else its text."""
        return self.w_step.w_choices if self.keys.choosing() is not None else self.w_step.w_scroll

    _hint_threads: str | None = None  # the line about the threads the hint shows, until the step's hint is back

    def _update_hint(self, paused: bool = False) -> None:
        self._hint_threads = None
        self.w_step.hint(*self.keys.hint(paused))
        self.refresh_bindings()

    def thread_dashboards(self) -> list:
        return [self.dash] if hasattr(self, "dash") else []

    def say_threads(self, text: str) -> None:
        self._hint_threads = text
        self.w_step.hint(text, "todo")

    def quiet_threads(self, last: str) -> None:
        if self._hint_threads == last:  # the step's own hint (a race stage's included) was not redrawn since
            self._update_hint(self.runner is not None and not self.runner.done and self.runner.paused)

    def check_screen_action(self, action: str, parameters) -> bool | None:
        if self.keys is None:
            return action in ("home", "leave")
        return self.keys.allowed(action, parameters, ScreenFacts(self.runner is not None, self.dash.result,
                                                                     self.shown_run))

    # ---- navigation -----------------------------------------------------------------------------------
    async def action_next(self) -> None:
        moved = self.keys.next() if self.keys is not None else None
        if moved is None:
            return
        if moved != "moved":  # the last step: the lesson is complete (and saved)
            self.app.notify(moved, title="✓ Lesson complete")
            self.app.pop_screen()
            return
        await self.show_step()

    async def action_back(self) -> None:
        if self.keys is not None and self.keys.back():
            await self.show_step()

    def action_leave(self) -> None:
        """Esc: from a panel (the timeline, the runs table, …) back to the text; from the text, home."""
        home = self._text_home() if self.keys is not None else None
        if home is not None and self.focused is not None and self.focused is not home:
            home.focus()
            return
        self.action_home()

    def action_home(self) -> None:
        self._stop_everything()
        self.app.pop_screen()

    def on_unmount(self) -> None:
        self._stop_everything()

    def _stop_everything(self) -> None:
        if self.keys is not None:
            self.keys.stop()
            self.w_right.stop()

    def action_challenge(self) -> None:
        """Play the lesson's scheduler challenges, one per press, in turn; Esc there comes back to this step."""
        challenge = self.keys.challenge() if self.keys is not None else None
        if challenge is not None:
            self.app.push_screen(ChallengeScreen(CHALLENGES_BY_ID[challenge]))

    # ---- predict ----------------------------------------------------------------------------------------
    def action_choose(self, number: int) -> None:
        if self.keys is not None and self.keys.choose(number):
            self._show_choice()

    @on(OptionList.OptionSelected, "#ls-choices")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.keys.answer(event.option.id)
            self._show_choice()

    def _show_choice(self) -> None:
        self.w_step.w_choices.show(*self.keys.choosing())
        self._update_hint()

    # ---- run ----------------------------------------------------------------------------------------------
    def action_run(self) -> None:
        started = self.keys.start_run() if self.keys is not None else None
        if started is not None:
            self._update_hint()
            self._run(*started)

    def action_pause(self) -> None:
        paused = self.dash.toggle_pause()
        if paused is not None:
            self._update_hint(paused)

    def action_stop(self) -> None:
        if self.runner is not None and not self.runner.done:
            self.keys.stop()
            self.dash.stop_run()

    @work(exclusive=True, group="lesson-run")
    async def _run(self, kind: str, live) -> None:
        """The step's experiment: live runs on the dashboard (a LiveExperiment), or a headless one — the
        simulator or the false-sharing measurement; or the step's race."""
        cancelled, pane = False, self.w_right
        try:
            await (pane.run(live) if kind == "live" else pane.simulate(self.session) if kind == "headless"
                   else pane.race(self.session, self.controls))
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            self.keys.run_ended()
            if not cancelled and self.is_mounted:
                await self._redraw_text()

    async def _redraw_text(self) -> None:
        if self.session.step.kind in ("run", "race"):
            await self.w_step.redraw(self.session, RACE_KEYS)
        self._update_hint()

    async def on_lesson_pane_race_moved(self) -> None:
        await self._redraw_text()

    # ---- record, the reference recording, the class -------------------------------------------------------
    @work(exclusive=True, group="record")
    async def action_record(self) -> None:
        if self.dash.result is not None and not self.keys.busy:
            if self.shown_run is not self.dash.result:  # another row of the table is shown
                self.app.notify("R records only the run that ran last: select its row.", title="Record",
                                severity="warning")  # a toast: whole at any width, where the run's header is not
                return
            c = self.dash.runner.config
            await save_recordings(self.app, [self.dash.runner], f"lesson-{self.lesson.id}-{c.algo}-m{c.threads}",
                                  self.w_right.say)

    def action_reference(self) -> None:
        """The same kind of run on a machine with ≥ 16 cores, beside the learner's own, when one ships."""
        try:
            recording = self.keys.reference_recording(self.shown_run)
        except UsageError as e:
            self.app.notify(str(e), title="16 real cores", severity="error")
            return
        if recording is not None:
            self.app.open_replay(recording)

    def action_your_class(self) -> None:
        """The class file this lesson names ("your class, DATE: N machines, A–B cores" and its plots), over the
        lesson; one that is missing or damaged is one line here, and the lesson goes on."""
        try:
            view = self.keys.class_view()
        except UsageError as e:
            self.app.notify(str(e), title="Your class", severity="error")
            return
        self.app.push_screen(InstructorScreen(view=view, over=True))
