"""Which lesson questions a class can be asked: the predict-then-observe checkpoints of the shipped lessons.

Only shipped lessons: the question travels as two ids (lesson, checkpoint), and every student's copy of
teach-sgd must find the same question and the same experiment under them. A lesson folder of the
instructor's own would not be on the students' machines.

    catalog = LessonCatalog()
    catalog.questions()                 # every askable Question, in lesson order
    catalog.question("03-hogwild", "lost")   # or Refused (404) naming what is unknown
    catalog.measure(question)           # run its experiment here; the choice this machine's run supports
"""
from __future__ import annotations

from dataclasses import dataclass

from teach_sgd.classroom.protocol import Refused
from teach_sgd.lessons import ExperimentResults, build_runs, evaluate, load_lessons, run_experiment


@dataclass(frozen=True)
class Question:
    lesson: str
    checkpoint: str
    title: str                 # the lesson's title
    text: str                  # the question
    choices: tuple[str, ...]   # choice keys, in the order shown
    labels: tuple[str, ...]    # their texts


class LessonCatalog:
    def __init__(self, lessons=None):
        self.lessons = {l.id: l for l in (lessons if lessons is not None else load_lessons(include_builtin=True)[0])}

    def questions(self) -> list[Question]:
        return [self._question(l, cp) for l in self.lessons.values() for cp in l.checkpoints if cp.ask == "before"]

    def question(self, lesson: str, checkpoint: str) -> Question:
        found = self.lessons.get(lesson) if isinstance(lesson, str) else None
        if found is None:
            raise Refused("unknown lesson", 404)
        for cp in found.checkpoints:
            if cp.id == checkpoint and cp.ask == "before":
                return self._question(found, cp)
        raise Refused(f"lesson {found.id} has no prediction question with that id", 404)

    @staticmethod
    def _question(lesson, cp) -> Question:
        return Question(lesson.id, cp.id, lesson.title, cp.question, cp.keys, tuple(t for _, t in cp.choices))

    def kernels(self, question: Question, budget=None) -> set[tuple[str, str]]:
        """The (algorithm, model) kernels the question's experiment runs (none for a simulator experiment)."""
        lesson = self.lessons[question.lesson]
        experiment = lesson.experiment(lesson.checkpoint(question.checkpoint).experiment)
        return {(c.algo, c.model) for _, c in build_runs(experiment, budget)}

    def measure(self, question: Question, budget=None, progress=None) -> tuple[str | None, ExperimentResults]:
        """Run the question's experiment on this machine (blocking: call it from a thread) → (the choice the
        measurement supports, or None if the run could not decide; the results)."""
        lesson = self.lessons[question.lesson]
        cp = lesson.checkpoint(question.checkpoint)
        results = run_experiment(lesson.experiment(cp.experiment), budget, progress)
        return evaluate(cp, results).correct_choice, results
