"""LessonSession: one learner walking through one lesson — everything the lesson screen shows, without a terminal.

    session = open_session("1", lessons_dir=None)    # reads the lessons from disk; None if there is no such lesson
    while not session.finished:
        step = session.step                         # schema.Step: narrative | predict | run | verdict
        if step.kind == "narrative":  show(step.text)
        if step.kind == "predict":    session.answer(key)                # the learner's choice, saved at once
        if step.kind == "change":     session.change(key)                # the value the learner picks for the
                                                                         # experiment's changed run (its plan)
        if step.kind == "run":        live = session.begin()             # the experiment loop, run by run:
                                      for name, config in live.pending(): live.add(name, <RunResult>)
                                      live.finish()                      # stores the results once all ran
                                      # (simulate: session.simulate(), or session.run_headless())
        if step.kind == "verdict":    v = session.verdict()              # Verdict, recorded in progress
        if step.kind == "race":       race = session.begin_race(runner)  # a Runner of step.race.config(), not
                                      runner.start()                     # started; then, while it runs:
                                      session.poll_race(); race.act(…)   # the learner's thread-control keys
        session.next()

What the screen draws comes from here too: `experiment_for(index)` (the experiment the right pane shows),
`markdown()` and `hint(busy)` (teach_sgd.lessons.pages), `reference(...)` (the "16 real cores" key).

Nothing the learner did is lost by leaving: every change is saved to the progress file at once (progress.save()),
answers when they are given, and each experiment's results beside it (lessons/progress.py, ResultsStore), so a
reopened lesson resumes at its step with its runs, predictions and verdicts, and the races the learner made
(`made`: race name → the outcome its numbers gave); only a run in flight, or a race half made, is lost. A run's
events (the timeline) are kept in memory while the app is open (`KeptRuns`), not saved.
`can_advance` says whether `next()` is allowed (a run step needs its results).
"""
from __future__ import annotations

from teach_sgd.engine.events import EventLog, KeptEvents
from teach_sgd.engine.result import RunResult
from teach_sgd.engine.sharing import SharingResult
from teach_sgd.lessons.checkpoints import Verdict, evaluate
from teach_sgd.lessons.experiments import (
    Budget, ExperimentResults, build_runs, export_results, run_experiment, simulate,
)
from teach_sgd.lessons.loader import find_lesson, load_lessons
from teach_sgd.lessons.progress import Progress, ResultsStore, exports_dir
from teach_sgd.lessons.races import GuidedRace
from teach_sgd.replay import find_reference
from teach_sgd.lessons.schema import Experiment, Lesson, Step


def open_session(lesson_id: str, lessons_dir=None, progress: Progress | None = None,
                 budget: Budget | None = None, kept: "KeptRuns | None" = None) -> "LessonSession | None":
    """The session of lesson `lesson_id` (id, number or unique prefix) read from the shipped lessons and
    `lessons_dir`, resumed from `progress` (the saved one if None); None if no such lesson loads. `kept`: the
    events of the runs made since the app started (the app's one KeptRuns)."""
    lessons, _errors = load_lessons(lessons_dir)
    lesson = find_lesson(lessons, lesson_id)
    if lesson is None:
        return None
    return LessonSession(lesson, progress if progress is not None else Progress.load(), budget=budget, kept=kept)


class KeptRuns:
    """The events of the lesson runs made while the app is open, so that a finished run the learner looks at
    again — another row of the experiment's table, or after leaving the lesson and coming back — shows its own
    timeline. Memory only: results are saved with the progress, events are not (a run of an earlier session
    shows its numbers, and its timeline says its events were not kept). Bounded: the newest EVENTS_PER_RUN
    events of each of the last RUNS runs, 3 MB a run and 48 MB in all at most (60 bytes an event)."""

    RUNS = 16
    EVENTS_PER_RUN = 50_000
    NOT_KEPT = f"events not kept (the app keeps its last {RUNS} lesson runs)"  # the timeline's title then

    def __init__(self) -> None:
        self._kept: dict[tuple, tuple[tuple, KeptEvents]] = {}

    @staticmethod
    def _identity(result: RunResult) -> tuple:
        # the same run, whether the RunResult is the one it returned or the one read back from the results file
        return result.config.algo, result.config.threads, result.config.seed, result.updates, round(result.wall_s, 6)

    def keep(self, key: tuple, result: RunResult, events: KeptEvents) -> None:
        self._kept.pop(key, None)  # newest last: the oldest run is the first to go
        self._kept[key] = (self._identity(result), events)
        while len(self._kept) > self.RUNS:
            del self._kept[next(iter(self._kept))]

    def get(self, key: tuple, result: RunResult) -> KeptEvents | None:
        """The events kept for this run under `key`, None if they were not kept (or belong to another run)."""
        entry = self._kept.get(key)
        return entry[1] if entry is not None and entry[0] == self._identity(result) else None


class LessonSession:
    def __init__(self, lesson: Lesson, progress: Progress | None = None, resume: bool = True,
                 budget: Budget | None = None, export_dir=None, kept: KeptRuns | None = None):
        self.lesson = lesson
        self.kept = kept if kept is not None else KeptRuns()
        self.progress = progress
        self.budget = budget
        self.export_dir = export_dir
        self.answers: dict[str, str] = {}
        self.changes: dict[str, str] = {}  # experiment id → the choice key the learner picked for its `change`
        self.results: dict[str, ExperimentResults] = {}
        self.verdicts: dict[str, Verdict] = {}
        self.exported: dict[str, list] = {}
        self.made: dict[str, str] = {}   # race name → its outcome, for the races made in this lesson
        # experiments the learner ran before, whose stored results were for other configs (the lesson file or
        # the budget changed since): not restored, but the pane says so instead of "not run yet"
        self.outdated: set[str] = set()
        self.race: GuidedRace | None = None  # the race being made now
        self.index = 0
        self.store = ResultsStore.beside(progress, lesson.id) if progress is not None else None
        self.status_before = progress.status(lesson.id) if progress is not None else "new"
        if progress is not None:
            progress.start(lesson.id)
            if resume:
                self._restore()
            self._save()

    def _restore(self) -> None:
        """Answers, results and position as the learner left them. Results are kept only if the experiment
        would still run the same configs (the lesson file or the budget may have changed since)."""
        lesson = self.lesson
        for cp in lesson.checkpoints:
            a = self.progress.answer(lesson.id, cp.id)
            if a and a.get("chosen") in cp.keys:
                self.answers[cp.id] = a["chosen"]
        for e in lesson.experiments:
            picked = self.progress.change(lesson.id, e.id) if e.change is not None else None
            if picked in (e.change.keys if e.change is not None else ()):
                self.changes[e.id] = picked
        for step in lesson.steps:
            made = self.progress.race(lesson.id, step.race.name) if step.kind == "race" else None
            if made and isinstance(made.get("outcome"), str):
                self.made[step.race.name] = made["outcome"]
        saved = self.store.load()
        for e in lesson.experiments:
            entry = saved.get(e.id)
            if not entry:
                continue
            if entry.get("plan") != self._fingerprint(e):
                self.outdated.add(e.id)
                continue
            if e.kind == "simulate":  # the simulator is seeded and takes milliseconds: recompute it
                self.results[e.id] = ExperimentResults.from_sim(e, simulate(e, self.budget))
            elif e.kind == "sharing":  # a measurement of this machine: restored as it was taken
                self.results[e.id] = ExperimentResults.from_sim(e, SharingResult.from_dict(entry["sharing"]))
            else:
                plan = dict(self.plan(e.id))
                # in the plan's order, as they ran (the results file's order is not theirs: it sorts its keys)
                runs = {name: RunResult.from_json(entry["runs"][name], config) for name, config in plan.items()
                        if name in entry["runs"]}
                if len(runs) == len(plan):
                    self.results[e.id] = ExperimentResults.from_runs(e, runs)
        # never resume past a run step whose results are gone
        saved_step = min(self.progress.step(lesson.id), len(lesson.steps) - 1)
        missing = next((i for i, s in enumerate(lesson.steps) if not self._step_done(s) and s.kind in ("run", "change")),
                       len(lesson.steps))
        self.index = max(0, min(saved_step, missing))

    def _fingerprint(self, e: Experiment) -> str:
        if e.headless:
            return repr((e.sim, self.budget))
        return repr(self.plan(e.id))

    # ---- where we are ---------------------------------------------------------------------------------
    @property
    def steps(self) -> tuple[Step, ...]:
        return self.lesson.steps

    @property
    def step(self) -> Step:
        return self.lesson.steps[self.index]

    @property
    def last(self) -> bool:
        return self.index == len(self.lesson.steps) - 1

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
        if step.kind == "change":
            return step.experiment.id in self.changes
        return True

    @property
    def can_advance(self) -> bool:
        return self._step_done(self.step)

    def next(self) -> Step | None:
        """Go to the next step (None at the end: the lesson is then marked complete)."""
        if not self.can_advance:
            raise RuntimeError(f"step {self.index} ({self.step.kind}) is not done yet")
        if self.last:
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

    def experiment_for(self, index: int | None = None) -> Experiment | None:
        """The experiment the right pane shows at step `index` (default: the current one): the step's own, or
        for a narrative step the last experiment before it that has results (None: show the outline)."""
        index = self.index if index is None else index
        step = self.steps[index]
        if step.kind in ("run", "change"):
            return step.experiment
        if step.kind in ("predict", "verdict"):
            return self.lesson.experiment(step.checkpoint.experiment)
        return next((s.experiment for s in reversed(self.steps[:index])
                     if s.kind == "run" and s.experiment.id in self.results), None)

    # ---- predict ----------------------------------------------------------------------------------------
    def answer(self, key: str, checkpoint_id: str | None = None) -> None:
        cp = self.lesson.checkpoint(checkpoint_id) if checkpoint_id else self.step.checkpoint
        if cp is None:
            raise RuntimeError("this step asks no question")
        if key not in cp.keys:
            raise ValueError(f"{key!r} is not a choice of {cp.id!r} ({', '.join(cp.keys)})")
        self.answers[cp.id] = key
        self.verdicts.pop(cp.id, None)
        if self.progress is not None:
            self.progress.set_answer(self.lesson.id, cp.id, key)
            self._save()

    # ---- change ---------------------------------------------------------------------------------------------
    def change(self, key: str, experiment_id: str | None = None) -> None:
        """The learner picks the value of the experiment's `change` (a choice key): its changed run will use it.
        Results measured with another value no longer answer the questions, so they are dropped."""
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        if e.change is None:
            raise RuntimeError(f"experiment {e.id!r} has nothing to change")
        if key not in e.change.keys:
            raise ValueError(f"{key!r} is not a value of {e.id!r}'s change ({', '.join(e.change.keys)})")
        if self.changes.get(e.id) != key:
            self.results.pop(e.id, None)
            for cp in self.lesson.checkpoints_for(e.id):
                self.verdicts.pop(cp.id, None)
        self.changes[e.id] = key
        if self.progress is not None:
            self.progress.set_change(self.lesson.id, e.id, key)
            self._save()

    # ---- run --------------------------------------------------------------------------------------------
    def plan(self, experiment_id: str | None = None) -> list[tuple[str, object]]:
        """The named RunConfigs to run live (empty for a simulate experiment), with the learner's change."""
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        return build_runs(e, self.budget, self.changes.get(e.id))

    def begin(self, experiment_id: str | None = None) -> "LiveExperiment":
        """The experiment loop of a live run: its configs one after another, results handed back as they end."""
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        return LiveExperiment(self, e)

    def events_of(self, experiment_id: str, name: str, result: RunResult) -> KeptEvents | None:
        """Run `name`'s events, if it was made since the app started (KeptRuns)."""
        return self.kept.get(self.kept_key(experiment_id, name), result)

    def kept_key(self, experiment_id: str, name: str) -> tuple:
        """Where KeptRuns keeps the events of this lesson's run `name` of experiment `experiment_id`."""
        return self.lesson.id, experiment_id, name

    def set_results(self, runs: dict, experiment_id: str | None = None) -> ExperimentResults:
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        res = ExperimentResults.from_runs(e, runs)
        return self._store(res)

    def set_sim_result(self, sweep_result, experiment_id: str | None = None) -> ExperimentResults:
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        return self._store(ExperimentResults.from_sim(e, sweep_result))

    def simulate(self, experiment_id: str | None = None, progress=None):
        """Run a headless experiment — the simulator's sweep (pure Python) or the false-sharing measurement
        (its own threads) — and store its result. Blocks: call it from a worker thread."""
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        return self.set_sim_result(simulate(e, self.budget, progress=progress), e.id)

    def run_headless(self, experiment_id: str | None = None, progress=None) -> ExperimentResults:
        e = self.lesson.experiment(experiment_id) if experiment_id else self.step.experiment
        return self._store(run_experiment(e, self.budget, progress=progress, change=self.changes.get(e.id)))

    def _store(self, res: ExperimentResults) -> ExperimentResults:
        e = res.experiment
        self.results[e.id] = res
        for cp in self.lesson.checkpoints_for(e.id):
            self.verdicts.pop(cp.id, None)
        if e.export:
            folder = self.export_dir if self.export_dir is not None else exports_dir()
            self.exported[e.id] = export_results(res, folder, f"{self.lesson.id}-{e.id}")
        if self.store is not None:
            runs = {name: r.to_json() for name, r in res.runs.items()}
            entry = {"plan": self._fingerprint(e), "runs": runs}
            if e.kind == "sharing":
                entry["sharing"] = res.sim.to_dict()
            try:
                self.store.save(e.id, entry)
            except OSError:
                pass  # a read-only home must not stop a lesson: the results stay for this visit
        return res

    def reference(self, shown=None, directory=None):
        """The "16 real cores" key's recording (teach_sgd/replay.py), None if none is installed: the first that
        exists for `shown` (the config on the dashboard), then the runs of the experiment on the right, then
        the rest of the lesson's."""
        current = self.experiment_for()
        experiments = sorted((e for e in self.lesson.experiments if not e.headless),
                             key=lambda e: e is not current)
        configs = ([shown] if shown is not None else []) + [cfg for e in experiments for _, cfg in self.plan(e.id)]
        return find_reference(configs, directory)

    # ---- race ---------------------------------------------------------------------------------------------
    def begin_race(self, runner, perform=None) -> GuidedRace:
        """The current step's race on `runner` (built from step.race.config(), not started yet): its setup holds
        are set; start the runner, then poll_race() while it runs and pass the learner's keys to race.act()."""
        self.race = GuidedRace(self.step.race, runner, perform)
        self.race.setup()
        return self.race

    def poll_race(self) -> bool:
        """Move the race on as the engine says; once made, its outcome is saved. True if anything changed."""
        race = self.race
        if race is None or not race.poll():
            return False
        if race.done and self.made.get(race.spec.name) != race.outcome:
            self.made[race.spec.name] = race.outcome
            if self.progress is not None:
                self.progress.race_made(self.lesson.id, race.spec.name, race.outcome)
                self._save()
        return True

    def end_race(self) -> None:
        self.race = None

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
            self.progress.set_step(self.lesson.id, self.index, len(self.steps))
            try:
                self.progress.save()
            except OSError:
                pass  # a read-only home must not stop a lesson


class LiveExperiment:
    """One pass of an experiment's runs on the dashboard: `pending()` yields (name, config) while the pass goes
    on; `add(name, result, log)` keeps a run that ended (False for a stopped run, which ends the pass); `finish()`
    stores the results once every run has ended (True) — a stopped pass stores nothing and the step stays
    to be run. `runs` holds the results so far (the screen's table shows them while the pass goes on)."""

    def __init__(self, session: LessonSession, experiment: Experiment):
        self.session = session
        self.experiment = experiment
        self.plan = session.plan(experiment.id)
        self.runs: dict = {}
        self.events: dict = {}  # name → KeptEvents, kept with the results by finish()
        self.stopped = False

    def pending(self):
        for k, (name, config) in enumerate(self.plan, 1):
            if self.stopped:
                return
            yield k, name, config

    def add(self, name: str, result, log: EventLog | None = None) -> bool:
        """Keep a run that ended, and the newest of its events if its log is given (into the session's KeptRuns
        at finish())."""
        if self.stopped or result.status == "stopped":
            self.stopped = True
            return False
        self.runs[name] = result
        if log is not None:
            self.events[name] = log.newest(KeptRuns.EVENTS_PER_RUN)
        return True

    def stop(self) -> None:
        self.stopped = True

    @property
    def complete(self) -> bool:
        return len(self.runs) == len(self.plan)

    def finish(self) -> bool:
        """Store the pass's results and keep its runs' events, once every run ended (a stopped pass stores
        nothing: the experiment's earlier results, and their events, stay)."""
        if self.complete and not self.stopped:
            self.session.set_results(dict(self.runs), self.experiment.id)
            for name, events in self.events.items():
                self.session.kept.keep(self.session.kept_key(self.experiment.id, name), self.runs[name], events)
            return True
        return False
