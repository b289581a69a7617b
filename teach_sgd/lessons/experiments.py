"""From an Experiment to results: build the configs, run them (headless here, live in the TUI), collect.

Two halves, kept apart on purpose:

    plan = build_runs(experiment, budget)            # [(name, RunConfig), …] — what the dashboard runs live
    results = ExperimentResults.from_runs(experiment, {name: RunResult, …})   # what the TUI hands back
    results = run_experiment(experiment, budget)     # or: run everything headless (CLI, tests)

A "simulate" experiment has no RunConfigs: `simulate(experiment, budget)` runs the simulator's τ_max × α
sweep (teach_sgd.sim.sweep) and `ExperimentResults.from_sim(experiment, sweep_result)` wraps it. A "sharing"
experiment goes the same way: `simulate` runs the false-sharing measurement (engine/sharing.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from teach_sgd.engine.result import curves_csv, runs_json
from teach_sgd.engine.runner import Runner
from teach_sgd.engine.sharing import SharingConfig
from teach_sgd.engine.sharing import measure as measure_sharing
from teach_sgd.engine.warmup import warm_up
from teach_sgd.output import write_atomic
from teach_sgd.signals import NO_STOPS
from teach_sgd.lessons.schema import Experiment, repeat_run_name, sweep_run_name
from teach_sgd.sim.report import sweep_json
from teach_sgd.sim.sweep import sweep


@dataclass(frozen=True)
class Budget:
    """Override the lesson's budgets, for tests and quick previews.

    updates: every run gets exactly this many updates (seconds/epochs budgets are replaced); a sharing
             experiment 1,000 × this many increments per thread;
    scale:   multiply each run's own budget (updates, seconds or epochs), and the simulator's iterations per
             cell, by this factor;
    max_iters: cap the simulator's iterations per cell.
    """

    updates: int | None = None
    scale: float | None = None
    max_iters: int | None = None

    def apply(self, config):
        if self.updates is not None:
            return replace(config, updates=int(self.updates), seconds=None, epochs=None)
        if self.scale is not None:
            c = config.budget()
            if c.updates is not None:
                return replace(c, updates=max(1, int(round(c.updates * self.scale))))
            if c.seconds is not None:
                return replace(c, seconds=max(0.05, c.seconds * self.scale))
            if c.epochs is not None:
                return replace(c, epochs=max(1e-4, c.epochs * self.scale))
        return config



def build_runs(experiment: Experiment, budget: Budget | None = None,
               change: str | None = None) -> list[tuple[str, object]]:
    """The named RunConfigs of a run or sweep experiment, in the order they should run.

    Sweep run names are `group@value` (e.g. `hogwild@0.5`, `leashed@inf`). A simulate experiment has none.
    `change`: the choice key the learner picked for the experiment's `change` (None: its first value)."""
    # Seed by seed (every run on seed s, then every run on s + 1, …; repeat k named run#k): the runs a rule
    # compares seed by seed run one after another, so a change in the machine's load between seeds shifts
    # both sides of a comparison alike instead of one.
    out = []
    if experiment.kind == "run":
        by_run = []
        for spec in experiment.runs:
            config = spec.config
            if experiment.change is not None and spec.name == experiment.change.run:
                config = replace(config, **{experiment.change.setting: experiment.change.value(change)})
            by_run.append([(repeat_run_name(spec.name, k), c) for k, c in enumerate(config.repeats(experiment.repeat))])
        out = [runs[k] for k in range(experiment.repeat) for runs in by_run]
    elif experiment.kind == "sweep":
        for v in experiment.values:
            by_group = [[(repeat_run_name(sweep_run_name(g.name, v), k), c) for k, c in enumerate(
                replace(g.config, **{experiment.over: v}).repeats(experiment.repeat, "lesson"))] for g in experiment.runs]
            out += [runs[k] for k in range(experiment.repeat) for runs in by_group]
    if budget is not None:
        out = [(n, budget.apply(c)) for n, c in out]
    return [(n, c.budget()) for n, c in out]


def sim_config(experiment: Experiment, budget: Budget | None = None):
    cfg = experiment.sim
    if budget is not None and budget.max_iters is not None:
        cfg = replace(cfg, max_iters=min(cfg.max_iters, budget.max_iters))
    elif budget is not None and budget.scale is not None:
        cfg = replace(cfg, max_iters=max(1, int(round(cfg.max_iters * budget.scale))))
    return cfg


def sharing_config(experiment: Experiment, budget: Budget | None = None) -> SharingConfig:
    cfg = experiment.sim
    if budget is not None and budget.updates is not None:
        return replace(cfg, increments=max(1_000, 1_000 * budget.updates))
    if budget is not None and budget.scale is not None:
        return cfg.budget(budget.scale)
    return cfg


def simulate(experiment: Experiment, budget: Budget | None = None, progress: Callable | None = None):
    """Run a headless experiment: the simulator's sweep (teach_sgd.sim.sweep.sweep) → SweepResult, or the
    false-sharing measurement (engine/sharing.py) → SharingResult. progress(done, total)."""
    if experiment.kind == "sharing":
        return measure_sharing(sharing_config(experiment, budget), progress=progress)

    return sweep(sim_config(experiment, budget), progress=progress)


@dataclass
class ExperimentResults:
    """What one experiment measured: RunResults by run name, or the simulator's SweepResult."""

    experiment: Experiment
    runs: dict = field(default_factory=dict)   # name → RunResult
    sim: object = None                         # simulate: sim.sweep.SweepResult; sharing: engine.sharing.SharingResult

    @classmethod
    def from_runs(cls, experiment: Experiment, runs: dict) -> "ExperimentResults":
        expected = set(experiment.run_names())
        unknown = set(runs) - expected
        if unknown:
            raise KeyError(f"results for runs this experiment does not have: {', '.join(sorted(unknown))}")
        return cls(experiment, dict(runs))

    @classmethod
    def from_sim(cls, experiment: Experiment, sweep_result) -> "ExperimentResults":
        return cls(experiment, sim=sweep_result)

    @property
    def complete(self) -> bool:
        if self.experiment.headless:
            return self.sim is not None
        return set(self.runs) == set(self.experiment.run_names())

    def json_text(self) -> str:
        """The experiment's results as JSON: its runs in the shape of `teach-sgd compare --json` (each
        named), or the simulator's sweep as `teach-sgd simulate --json` writes it."""
        e = self.experiment
        if e.kind == "sharing":
            return json.dumps({"experiment": e.id, "kind": e.kind, "sharing": self.sim.to_dict()}, indent=2) + "\n"
        if e.kind == "simulate":
            return json.dumps({"experiment": e.id, "kind": e.kind, "simulation": sweep_json(self.sim)}, indent=2) + "\n"
        return runs_json(list(self.runs.values()), names=list(self.runs), experiment=e.id, kind=e.kind, over=e.over)


def run_experiment(experiment: Experiment, budget: Budget | None = None,
                   progress: Callable[[str, int, int], None] | None = None,
                   change: str | None = None, signals=NO_STOPS) -> ExperimentResults:
    """Run every config of the experiment headless, one after another (same process, kernels warmed first).

    progress(name, done, total) is called before each run. Under a command's stop signals (`signals`, a
    teach_sgd.signals.StopSignals) a stop raises errors.Stopped here within a second, the run under way stopped
    and not counted: the main thread waits where a signal reaches it (signals.wait_for: a compile or a simulation
    spends seconds in C calls) and looks every 0.2 s."""
    if experiment.headless:
        return ExperimentResults.from_sim(experiment, signals.wait_for(lambda: simulate(experiment, budget)))

    plan = build_runs(experiment, budget, change)
    signals.wait_for(lambda: warm_up(sorted({(c.algo, c.model) for _, c in plan})))
    runs = {}
    for k, (name, config) in enumerate(plan):
        if progress is not None:
            progress(name, k, len(plan))
        runner = signals.wait_for(lambda: Runner(config))
        signals.measuring(on_stop=runner.signal_stop)
        runner.start()
        try:
            while not runner.join(0.2):
                signals.check()
            runs[name] = runner.result()
        except BaseException:  # a stop (Stopped, KeyboardInterrupt) or an error: no worker keeps training
            runner.stop()
            runner.end_stopped()  # within a second, even if a busy machine starves the workers
            raise
    return ExperimentResults.from_runs(experiment, runs)


def export_results(results: ExperimentResults, folder: str | Path, stem: str) -> list[Path]:
    """Write `stem.json` (every run's RunResult JSON, or the simulator's) and, for engine runs,
    `stem.csv` (loss curves in long format). Returns the paths written."""

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.json"]
    write_atomic(paths[0], results.json_text())
    if results.runs:
        csv_path = folder / f"{stem}.csv"
        write_atomic(csv_path, curves_csv(list(results.runs.values())))
        paths.append(csv_path)
    return paths
