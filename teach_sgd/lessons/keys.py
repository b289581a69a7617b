"""LessonKeys: what the lesson screen's keys do and when each is on, over a LessonSession — without a terminal.

    keys = LessonKeys(session, reference_dir)
    keys.allowed("next")               True (on), None (shown, dimmed: not now) or False (hidden), as Textual's
                                       check_action wants; `facts` says what only the screen knows
    keys.choosing()                    (choices, chosen key, mark) while a step asks for a choice, else None
    keys.choose(3) · keys.answer(k)    the learner's choice: a prediction, or the value of a change
    kind, live = keys.start_run()      "live" (a LiveExperiment for the dashboard), "headless" (the simulator or
                                       the false-sharing measurement) or "race"; None if r is not on
    keys.run_ended()                   the run, simulation or race is over (the step can move on)
    keys.next()                        "moved", or the lesson-complete sentence once the last step is done
    keys.challenge()                   the id of the lesson's next scheduler challenge (g), in turn
    keys.hint(paused)                  the line under the text and its tone (lessons/pages.py)
    keys.class_view() · keys.reference_recording(shown)   what K and c open (UsageError: one line)

The screen (tui/screens/lesson.py) lays out the widgets, binds the keys to these and draws what they say.
"""
from __future__ import annotations

from dataclasses import dataclass

from teach_sgd.classroom.instructor import ClassView
from teach_sgd.engine.recording import load
from teach_sgd.lessons import pages
from teach_sgd.lessons.session import LessonSession, LiveExperiment

PAUSED = ("paused — the threads are parked; space resumes", "pause")


@dataclass(frozen=True)
class ScreenFacts:
    """What the screen knows that the session does not: a runner on the dashboard that is in flight, the finished
    RunResult of the dashboard's own run (what R records), and the one shown there (what c looks for a "16 real
    cores" recording of: another row of the experiment's table, picked by the learner, or the same)."""
    running: bool = False
    result: object = None
    shown: object = None


class LessonKeys:
    def __init__(self, session: LessonSession, reference_dir=None) -> None:
        self.session = session
        self.reference_dir = reference_dir  # where "16 real cores" recordings are installed (None: the default)
        self.busy = False                    # a live experiment, a simulation or a race is in flight
        self.live: LiveExperiment | None = None  # the live experiment in flight
        self._next_challenge = 0             # g opens the lesson's challenges in turn

    @property
    def step(self):
        return self.session.step

    def choosing(self):
        """(choices, chosen key, mark) of a step that asks for a choice — a prediction or a change — else None."""
        step, s = self.step, self.session
        if step.kind == "predict":
            return step.checkpoint, s.answers.get(step.checkpoint.id), "your prediction"
        if step.kind == "change":
            return step.experiment.change, s.changes.get(step.experiment.id), "your value"
        return None

    def allowed(self, action: str, parameters=(), facts: ScreenFacts = ScreenFacts()) -> bool | None:
        s = self.session
        if action in ("next", "back"):
            ok = s.can_advance if action == "next" else s.index > 0
            return True if ok and not self.busy else None
        if action == "run":
            return (None if self.busy else True) if self.step.kind in ("run", "race") else False
        if action in ("pause", "stop"):
            return self.busy and facts.running
        if action == "record":
            return facts.result is not None and not self.busy
        if action == "reference":  # shown only when a recording to open is there (none ships yet)
            return self.reference(facts.shown) is not None
        if action == "your_class":
            return s.lesson.class_file is not None
        if action == "choose":
            choosing = self.choosing()
            return choosing is not None and parameters[0] <= len(choosing[0].choices)
        if action == "challenge":
            return bool(s.lesson.challenges) and not self.busy
        return True

    # ---- choices ----------------------------------------------------------------------------------------
    def choose(self, number: int) -> bool:
        """Choice `number` (1…n) of the step's question or change; False if the step has no such choice."""
        choosing = self.choosing()
        if choosing is None or not 1 <= number <= len(choosing[0].choices):
            return False
        self.answer(choosing[0].choices[number - 1][0])
        return True

    def answer(self, key: str) -> None:
        if self.step.kind == "change":
            self.session.change(key)
        else:
            self.session.answer(key)

    # ---- moving -----------------------------------------------------------------------------------------
    def next(self) -> str | None:
        """Go on: "moved", or after the last step the sentence that the lesson is complete (it is then saved);
        None while next is not on (a run in flight, or the step not done)."""
        s = self.session
        if self.busy or not s.can_advance:
            return None
        if s.next() is not None:
            return "moved"
        good, answered = s.progress.score(s.lesson.id) if s.progress is not None else (0, 0)
        score = f" — {good} of {answered} predictions matched the measurements" if answered else ""
        return f"{s.lesson.title}: lesson complete{score}."

    def back(self) -> bool:
        if self.busy or self.session.index == 0:
            return False
        self.session.back()
        return True

    def challenge(self) -> str | None:
        """The id of the lesson's next scheduler challenge (its front matter's `challenges`), one per press."""
        challenges = self.session.lesson.challenges
        if not challenges or self.busy:
            return None
        self._next_challenge += 1
        return challenges[(self._next_challenge - 1) % len(challenges)]

    # ---- running ----------------------------------------------------------------------------------------
    def start_run(self) -> tuple[str, LiveExperiment | None] | None:
        """r: what to run — ("live", its LiveExperiment), ("headless", None) or ("race", None); None if r is not
        on now. Busy until run_ended()."""
        step = self.step
        if self.busy or step.kind not in ("run", "race"):
            return None
        self.busy = True
        if step.kind == "race":
            return "race", None
        if step.experiment.headless:
            return "headless", None
        self.live = self.session.begin()
        return "live", self.live

    def stop(self) -> None:
        """x, or leaving: the live experiment's pass ends with the run in flight."""
        if self.live is not None:
            self.live.stop()

    def run_ended(self) -> None:
        self.live, self.busy = None, False

    def hint(self, paused: bool = False) -> tuple[str, str]:
        return PAUSED if paused else pages.hint(self.session, self.busy)

    # ---- what c and K open --------------------------------------------------------------------------------
    def reference(self, shown=None):
        """The path of the "16 real cores" recording for `shown` (the dashboard's RunResult) or this lesson's runs,
        None if none is installed."""
        return self.session.reference(shown and shown.config, self.reference_dir)

    def reference_recording(self, shown=None):
        """The loaded "16 real cores" recording, None if none is installed; raises UsageError if it is damaged."""
        path = self.reference(shown)
        return load(path) if path is not None else None

    def class_view(self) -> ClassView:
        """The class file this lesson names, read now (an instructor may export it again between classes);
        raises UsageError with one line if it is missing or damaged."""
        return ClassView.from_file(self.session.lesson.class_file)
