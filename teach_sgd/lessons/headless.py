"""A lesson's experiments run headless, and what each question's measurement supports — no learner asked.

    report = run_lesson(lesson, budget)      # every experiment, then every checkpoint's verdict
    report.text()                            # per question: what was measured and which choice it supports
    report.to_dict()                         # the same as JSON (`teach-sgd lesson ID --run --json OUT`)

For instructors preparing a class (what will this machine show?), and for benchmarks/lesson_stability.py,
which runs every lesson many times and counts how often each question came out each way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from teach_sgd.errors import Stopped
from teach_sgd.lessons.checkpoints import Verdict, evaluate
from teach_sgd.lessons.experiments import Budget, ExperimentResults, run_experiment
from teach_sgd.lessons.machine import cores
from teach_sgd.lessons.metrics import RUN_METRICS, run_metric
from teach_sgd.lessons.schema import Lesson
from teach_sgd.signals import NO_STOPS


@dataclass
class LessonReport:
    lesson: Lesson
    budget: Budget | None
    results: dict[str, ExperimentResults] = field(default_factory=dict)   # experiment id → results
    verdicts: list[Verdict] = field(default_factory=list)                  # in the lesson's checkpoint order
    stopped: Stopped | None = None      # the stop signal that cut the lesson short, if one did
    stopped_in: str | None = None       # the experiment it cut short (its runs so far are not counted)

    def stop_line(self) -> str:
        """What a stopped report holds, in one line."""
        return (f"stopped by {self.stopped} during experiment {self.stopped_in}: {len(self.verdicts)} of "
                f"{len(self.lesson.checkpoints)} questions have their measurements ({len(self.results)} of "
                f"{len(self.lesson.experiments)} experiments); the runs of {self.stopped_in} so far are not counted")

    def outcomes(self) -> dict[str, str | None]:
        """Checkpoint id → the choice key its measurement supports (None: undecided)."""
        return {v.checkpoint_id: v.correct_choice for v in self.verdicts}

    def text(self) -> str:
        lines = [f"# {self.lesson.id}: {self.lesson.title}",
                 f"{cores()} cores" + (f" · budget {_budget_label(self.budget)}" if self.budget else "")]
        for v in self.verdicts:
            cp = self.lesson.checkpoint(v.checkpoint_id)
            lines += ["", f"? {cp.question}"]
            lines += [f"   {'→' if k == v.correct_choice else ' '} [{k}] {text}" for k, text in cp.choices]
            lines.append(f"supports: [{v.correct_choice}] {v.correct_text}" if v.decided
                         else f"undecided: the runs did not measure {v.missing}")
            lines += ["", v.explanation]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        questions = []
        for v in self.verdicts:
            cp = self.lesson.checkpoint(v.checkpoint_id)
            questions.append({"id": cp.id, "experiment": cp.experiment, "question": cp.question,
                              "choices": dict(cp.choices), "supports": v.correct_choice, "decided": v.decided,
                              "missing": v.missing, "explanation": v.explanation})
        experiments = {}
        for eid, res in self.results.items():
            if res.runs:
                experiments[eid] = {name: {m: run_metric(r, m) for m in RUN_METRICS} for name, r in res.runs.items()}
            elif res.experiment.kind == "sharing":
                experiments[eid] = res.sim.to_dict()
            else:
                experiments[eid] = {"simulation": [{"tau_max": s.tau, "threshold_low": s.threshold_low,
                                                    "threshold_high": s.threshold_high, "predicted": s.predicted}
                                                   for s in res.sim.summaries()]}
        return {"lesson": self.lesson.id, "title": self.lesson.title, "cores": cores(),
                "budget": _budget_label(self.budget) if self.budget else None,
                "stopped": self.stop_line() if self.stopped else None,
                "questions": questions, "experiments": experiments}


def _budget_label(b: Budget) -> str:
    parts = [f"{b.updates} updates a run" if b.updates is not None else "",
             f"×{b.scale:g} of each run's own" if b.scale is not None else "",
             f"≤ {b.max_iters} simulator iterations" if b.max_iters is not None else ""]
    return ", ".join(p for p in parts if p)


def run_lesson(lesson: Lesson, budget: Budget | None = None,
               progress: Callable[[str, str, int, int], None] | None = None, signals=NO_STOPS) -> LessonReport:
    """Run every experiment of `lesson` headless (its own budgets, or `budget`) and evaluate every checkpoint.

    progress(experiment_id, run_name, done, total) is called before each run. After a stop signal (`signals`, a
    command's teach_sgd.signals.StopSignals) the report holds what was measured: the experiments that ended and
    their checkpoints' verdicts; `stopped` says which signal and `stopped_in` which experiment it cut short."""
    report = LessonReport(lesson, budget)
    try:
        for e in lesson.experiments:
            report.stopped_in = e.id
            report.results[e.id] = run_experiment(
                e, budget, progress=None if progress is None else (lambda name, k, n, e=e: progress(e.id, name, k, n)),
                signals=signals)
        report.stopped_in = None
    except Stopped as s:
        report.stopped = s
    report.verdicts = [evaluate(cp, report.results[cp.experiment]) for cp in lesson.checkpoints
                       if cp.experiment in report.results]
    return report


__all__ = ["LessonReport", "run_lesson"]
