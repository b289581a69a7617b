"""What a loaded lesson is: plain, immutable dataclasses (the loader builds them; nothing here parses).

    Lesson ── narrative (Markdown) + experiments + checkpoints, and `steps`: the order a learner meets them
    Experiment ── kind "run" (named RunConfigs, compared side by side), "sweep" (the same runs over a list of
                  lr / threads / persistence / batch values), "simulate" (the asynchrony simulator's τ_max × α
                  sweep, teach_sgd.sim), or "sharing" (false sharing on real threads: per-thread counters packed
                  in one cache line against padded, teach_sgd.engine.sharing)
    Change ── a setting the learner picks before a run experiment runs (TF-Playground style: "change η and see"):
              one of its runs takes the picked value, and the checkpoints compare it with the others
    Checkpoint ── a predict-then-observe question: choices, a *rule* that computes the correct choice from the
                  run's measured numbers, and an explanation template that quotes those numbers

See lessons/README.md for the file format.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teach_sgd.engine.config import SETTINGS as RUN_SETTINGS
from teach_sgd.engine.sharing import LAYOUTS as SHARING_LAYOUTS
from teach_sgd.format import plain_markdown

EXPERIMENT_KINDS = ("run", "sweep", "simulate", "sharing")
HEADLESS_KINDS = ("simulate", "sharing")  # measured in one go, no live dashboard: a table of results instead
SWEEP_OVER = ("lr", "threads", "persistence", "batch", "seed")
ASK_WHEN = ("before", "after")
# The settings a learner can change before a run (`change`), and how a choice names each
CHANGE_SETTINGS = {"lr": "η", "threads": "threads", "persistence": "Tp", "stretch": "stretch", "batch": "batch",
                   "delay": "delay"}


@dataclass(frozen=True)
class LessonError:
    """One problem in one lesson file. `str()` gives `file:line: message` (`file: message` when the problem
    is the file or folder itself, line 0)."""

    file: str
    line: int
    message: str

    MAX_MESSAGE = 300  # a message quotes the author's text; a 10,000-character rule is not echoed whole

    def __str__(self) -> str:
        message = self.message if len(self.message) <= self.MAX_MESSAGE else self.message[:self.MAX_MESSAGE - 1] + "…"
        return f"{self.file}:{self.line}: {message}" if self.line else f"{self.file}: {message}"


@dataclass(frozen=True)
class RunSpec:
    """One named run of an experiment (for a sweep: one group, run once per swept value)."""

    name: str
    config: Any  # teach_sgd.engine.config.RunConfig (validated)
    line: int = 0


@dataclass(frozen=True)
class Change:
    """The learner's own change to one run of an experiment, picked at a "change" step before the run: run `run`
    gets `setting` = the picked value, every other run keeps its own. Headless runs (`lesson --run`, tests) use
    the first value."""

    run: str
    setting: str                    # a key of CHANGE_SETTINGS
    values: tuple                   # in the order offered (persistence: None = ∞)
    prompt: str                     # what the step asks, e.g. "Pick η for the run `after`"

    @property
    def choices(self) -> tuple[tuple[str, str], ...]:
        """(key, text) per value: ('0.5', 'η = 0.5'), ('inf', 'Tp = ∞')."""
        from_value = RUN_SETTINGS[self.setting].text
        return tuple((value_label(v), f"{CHANGE_SETTINGS[self.setting]} = {from_value(v) or 'off'}")
                     for v in self.values)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(value_label(v) for v in self.values)

    def value(self, key: str | None):
        """The value a choice key stands for; None (not picked yet) → the first value."""
        return self.values[self.keys.index(key)] if key in self.keys else self.values[0]

    def choice_text(self, key: str | None) -> str:
        return dict(self.choices)[value_label(self.value(key))]


@dataclass(frozen=True)
class Experiment:
    id: str
    kind: str                       # "run" | "sweep" | "simulate" | "sharing"
    title: str
    note: str                       # shown beside the live run (Markdown, may be empty)
    runs: tuple[RunSpec, ...] = ()  # kind run: the runs; kind sweep: the groups
    over: str | None = None         # kind sweep: the RunConfig field swept
    values: tuple = ()              # kind sweep: the values, in order (persistence: None = ∞)
    sim: Any = None                 # kind simulate: sim.sweep.SweepConfig; sharing: engine.sharing.SharingConfig
    export: bool = False            # write the results (JSON + CSV) after the run
    line: int = 0
    repeat: int = 1                 # each run (sweep: each group at each value) on seeds seed, seed+1, …
                                    # (rules: fraction(), count(), median())
    change: Change | None = None    # kind run: the setting the learner picks for one run, before it runs

    def names(self) -> tuple[str, ...]:
        """The names a checkpoint rule can use for this experiment's results."""
        if self.kind == "simulate":
            return tuple(f"tau{t}" for t in self.sim.taus)
        if self.kind == "sharing":
            return SHARING_LAYOUTS
        return tuple(r.name for r in self.runs)

    @property
    def headless(self) -> bool:
        """Measured in one go (the simulator, the false-sharing benchmark): a table, not a live dashboard."""
        return self.kind in HEADLESS_KINDS

    def run_names(self) -> tuple[str, ...]:
        """The keys of the results dict: run names; for a sweep `group@value` (see sweep_run_name)."""
        if self.kind == "run":
            return tuple(repeat_run_name(r.name, k) for r in self.runs for k in range(self.repeat))
        if self.kind == "sweep":
            return tuple(repeat_run_name(sweep_run_name(g.name, v), k)
                         for g in self.runs for v in self.values for k in range(self.repeat))
        return ()


def value_label(v) -> str:
    """A value as a choice key: 0.05, inf (persistence None), 0:4 (a delay)."""
    if v is None:
        return "inf"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, tuple):
        return ":".join(map(str, v))
    return str(v)


def repeat_run_name(run: str, k: int) -> str:
    """Repeat k of a run: the run's own name for the first (its seed), `run#k` for seed + k."""
    return run if k == 0 else f"{run}#{k}"


def sweep_run_name(group: str, value) -> str:
    return f"{group}@{value_label(value)}"


@dataclass(frozen=True)
class Checkpoint:
    id: str
    experiment: str
    question: str
    choices: tuple[tuple[str, str], ...]   # (key, text), in the order shown
    answer: str                            # the rule (see rules.py)
    explain: str                           # template: {metric expressions} are filled from the run
    explain_when: dict = field(default_factory=dict)  # choice key → extra template shown when it is correct
    undecided: str = ""                    # template shown when the run did not measure what the rule needs
    ask: str = "before"                    # "before" the run (a prediction) or "after" (reading the dashboard)
    line: int = 0

    def choice_text(self, key: str | None) -> str | None:
        return dict(self.choices).get(key) if key is not None else None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.choices)


@dataclass(frozen=True)
class Step:
    """One screen of a lesson, in order.

    kind "narrative": show `text` (Markdown).
    kind "predict":   ask `checkpoint.question` with `checkpoint.choices`; record the learner's key.
    kind "run":       run `experiment` (live in the dashboard, or headless), then hand over its results.
    kind "verdict":   evaluate `checkpoint` on the results and show the Verdict.
    kind "race":      the learner makes `race` (lessons/races.py, a RaceSpec) on real threads, stage by stage.
    kind "change":    the learner picks the value of `experiment.change` for its run (before the run step).
    """

    kind: str
    text: str = ""
    experiment: Experiment | None = None
    checkpoint: Checkpoint | None = None
    race: Any = None


    @property
    def label(self) -> str:
        """The step in one line of plain text, whole (a narrative's first paragraph or heading, its Markdown
        markers taken off): the outline elides it to the width it has."""
        if self.kind == "narrative":
            first = self.text.strip().split("\n\n", 1)[0].splitlines()
            words = first[:1] if first and first[0].startswith("#") else first
            return plain_markdown(" ".join(ln.strip("# ").strip() for ln in words))
        if self.kind == "run":
            return f"Experiment: {plain_markdown(self.experiment.title)}"
        if self.kind == "race":
            return f"Race: {plain_markdown(self.race.title)}"
        if self.kind == "change":
            return f"Change: {plain_markdown(self.experiment.change.prompt)}"
        return f"{'Predict' if self.kind == 'predict' else 'Check'}: {plain_markdown(self.checkpoint.question)}"


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    minutes: int
    summary: str
    path: Path
    order: float
    body: str                               # the Markdown narrative, experiment markers removed
    experiments: tuple[Experiment, ...]
    checkpoints: tuple[Checkpoint, ...]
    steps: tuple[Step, ...]
    papers: tuple[str, ...] = ()            # which sections of docs/papers.md it draws on, e.g. ("A", "C")
    challenges: tuple[str, ...] = ()        # scheduler challenges (teach_sgd.sim.challenges) the lesson offers
    class_file: Path | None = None          # a saved class (teach_sgd/classroom/instructor.py, class_file()) the
                                            # lesson screen opens with K: read when asked, as it may change

    def experiment(self, experiment_id: str) -> Experiment:
        return next(e for e in self.experiments if e.id == experiment_id)

    def checkpoint(self, checkpoint_id: str) -> Checkpoint:
        return next(c for c in self.checkpoints if c.id == checkpoint_id)

    def checkpoints_for(self, experiment_id: str) -> tuple[Checkpoint, ...]:
        return tuple(c for c in self.checkpoints if c.experiment == experiment_id)

    @property
    def number(self) -> int | None:
        """The leading number of the id ('03-hogwild' → 3), used by `teach-sgd lesson 3`."""
        head = self.id.split("-", 1)[0]
        return int(head) if head.isdigit() else None
