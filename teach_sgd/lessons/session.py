"""LessonSession: one learner walking through one lesson — the API the TUI lesson screen drives.

    session = LessonSession(lesson, progress)       # resumes at the saved step
    while not session.finished:
        step = session.step                         # schema.Step: narrative | predict | run | verdict
        if step.kind == "narrative":  show(step.text)
        if step.kind == "predict":    session.answer(key)                # the learner's choice
        if step.kind == "run":        plan = session.plan()              # [(name, RunConfig)] → dashboard
                                      session.set_results({name: RunResult, …})
                                      # (simulate: session.set_sim_result(sweep_result), or session.run_headless())
        if step.kind == "verdict":    v = session.verdict()              # Verdict, recorded in progress
        session.next()

Every change is saved to the progress file at once (progress.save()), so quitting mid-lesson loses nothing
but a run in flight. `can_advance` says whether `next()` is allowed (a run step needs its results).
"""
from __future__ import annotations

from teach_sgd.lessons.checkpoints import Verdict, evaluate
from teach_sgd.lessons.experiments import (
    Budget, ExperimentResults, build_runs, export_results, run_experiment, simulate,
)
from teach_sgd.lessons.progress import Progress, exports_dir
from teach_sgd.lessons.schema import Lesson, Step


class LessonSession:
    def __init__(self, lesson: Lesson, progress: Progress | None = None, resume: bool = True,
                 budget: Budget | None = None, export_dir=None):
        self.lesson = lesson
        self.progress = progress
        self.budget = budget
        self.export_dir = export_dir
        self.answers: dict[str, str] = {}
        self.results: dict[str, ExperimentResults] = {}
        self.verdicts: dict[str, Verdict] = {}
        self.exported: dict[str, list] = {}
        self.index = 0
        if progress is not None:
            progress.start(lesson.id)
            if resume:
                # never resume past a run step whose results are gone (they are not saved)
                saved = min(progress.step(lesson.id), len(lesson.steps) - 1)
                first_run = next((i for i, s in enumerate(lesson.steps) if s.kind == "run"), len(lesson.steps))
                self.index = max(0, min(saved, first_run))
                for cp in lesson.checkpoints:
                    a = progress.answer(lesson.id, cp.id)
                    if a and a.get("chosen"):
                        self.answers[cp.id] = a["chosen"]
            self._save()

    # ---- where we are ---------------------------------------------------------------------------------
    @property
    def steps(self) -> tuple[Step, ...]:
        return self.lesson.steps

    @property
    def step(self) -> Step:
        return self.lesson.steps[self.index]

    @property
    def finished(self) -> bool:
        """True once next() has been called on the last step (the lesson is then marked complete)."""
        return self._completed

    _completed = False

    def _step_done(self, step: Step) -> bool:
        if step.kind == "run":
            return step.experiment.id in self.results
        if step.kind == "predict":
            return step.checkpoint.id in self.answers
        return True

    @property
    def can_advance(self) -> bool:
        return self._step_done(self.step)

    def next(self) -> Step | None:
        """Go to the next step (None at the end: the lesson is then marked complete)."""
        if not self.can_advance:
            raise RuntimeError(f"step {self.index} ({self.step.kind}) is not done yet")
        if self.index >= len(self.lesson.steps) - 1:
            self._completed = True
            if self.progress is not None:
                self.progress.complete(self.lesson.id)
            self._save()
            return None
        self.index += 1
        self._save()
        return self.step

    def back(self) -> Step:
        self.index = max(0, self.index - 1)
        self._save()
        return self.step

    # ---- predict ----------------------------------------------------------------------------------------
    def answer(self, key: str, checkpoint_id: str | None = None) -> None:
        cp = self.lesson.checkpoint(checkpoint_id) if checkpoint_id else self.step.checkpoint
        if cp is None:
            raise RuntimeError("this step asks no question")
        if key not in cp.keys:
            raise ValueError(f"{key!r} is not a choice of {cp.id!r} ({', '.join(cp.keys)})")
        self.answers[cp.id] = key
        self.verdicts.pop(cp.id, None)

    # ---- run --------------------------------------------------------------------------------------------
    def plan(self, experiment_id: str | None = None) -> list[tuple[str, object]]:
        """The named RunConfigs to run live (empty for a simulate experiment)."""
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        return build_runs(e, self.budget)

    def set_results(self, runs: dict, experiment_id: str | None = None) -> ExperimentResults:
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        res = ExperimentResults.from_runs(e, runs)
        return self._store(res)

    def set_sim_result(self, sweep_result, experiment_id: str | None = None) -> ExperimentResults:
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        return self._store(ExperimentResults.from_sim(e, sweep_result))

    def simulate(self, experiment_id: str | None = None, progress=None):
        """Run a simulate experiment (fast, pure Python: fine in a worker thread) and store its result."""
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        return self.set_sim_result(simulate(e, self.budget, progress=progress), e.id)

    def run_headless(self, experiment_id: str | None = None, progress=None) -> ExperimentResults:
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        return self._store(run_experiment(e, self.budget, progress=progress))

    def _store(self, res: ExperimentResults) -> ExperimentResults:
        e = res.experiment
        self.results[e.id] = res
        for cp in self.lesson.checkpoints_for(e.id):
            self.verdicts.pop(cp.id, None)
        if e.export:
            folder = self.export_dir if self.export_dir is not None else exports_dir()
            self.exported[e.id] = export_results(res, folder, f"{self.lesson.id}-{e.id}")
        return res

    # ---- verdict ----------------------------------------------------------------------------------------
    def verdict(self, checkpoint_id: str | None = None) -> Verdict:
        cp = self.lesson.checkpoint(checkpoint_id) if checkpoint_id else self.step.checkpoint
        if cp.id in self.verdicts:
            return self.verdicts[cp.id]
        res = self.results.get(cp.experiment)
        if res is None:
            raise RuntimeError(f"checkpoint {cp.id!r} needs the results of experiment {cp.experiment!r} first")
        v = evaluate(cp, res, chosen=self.answers.get(cp.id))
        self.verdicts[cp.id] = v
        if self.progress is not None:
            self.progress.record(self.lesson.id, v)
            self._save()
        return v

    def _save(self) -> None:
        if self.progress is not None:
            self.progress.set_step(self.lesson.id, self.index)
            try:
                self.progress.save()
            except OSError:
                pass  # a read-only home must not stop a lesson
