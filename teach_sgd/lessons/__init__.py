"""Guided lessons: the loader, schema, rule language and checkpoint evaluation (content lives in ../lessons).

The lesson screen's API, in the order it is used:

    from teach_sgd.lessons import load_lessons, find_lesson, LessonSession, Progress

    lessons, errors = load_lessons(extra_dir)        # errors: [LessonError(file, line, message)]
    lesson = find_lesson(lessons, "1")               # id, number or unique prefix
    session = LessonSession(lesson, Progress.load())
    session.step / session.answer(key) / session.plan() / session.set_results({...}) / session.verdict()
    session.next()

See lessons/README.md for the lesson file format and the rule language.
"""
from teach_sgd.lessons.checkpoints import Verdict, evaluate
from teach_sgd.lessons.experiments import Budget, ExperimentResults, build_runs, run_experiment
from teach_sgd.lessons.loader import LessonLoadError, builtin_dirs, find_lesson, load_lesson, load_lessons
from teach_sgd.lessons.progress import Progress
from teach_sgd.lessons.schema import Checkpoint, Experiment, Lesson, LessonError, Step
from teach_sgd.lessons.session import LessonSession

__all__ = ["load_lessons", "load_lesson", "find_lesson", "builtin_dirs", "LessonLoadError", "LessonError",
           "Lesson", "Experiment", "Checkpoint", "Step", "Verdict", "evaluate", "Budget", "ExperimentResults",
           "build_runs", "run_experiment", "Progress", "LessonSession"]
