"""Evaluate a checkpoint on what an experiment measured → Verdict.

The correct choice is whatever the checkpoint's rule computes from *this* run's results; there is no
answer key. The explanation is the checkpoint's template with the measured numbers filled in.

    verdict = evaluate(checkpoint, results, chosen="leashed")
    verdict.correct_choice, verdict.user_correct, verdict.explanation

If the rule needs a number the run did not measure (`none`: e.g. no algorithm reached the target within
the budget), the verdict is *undecided*: correct_choice is None, user_correct is None, and the explanation
says what was missing instead of pretending.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

from teach_sgd.lessons import rules
from teach_sgd.lessons.metrics import (
    GROUP_METRICS, RUN_METRICS, SHARING_METRICS, STABLE_FRACTION, TAU_METRICS, run_metric,
)
from teach_sgd.lessons.rules import Measured, Obj, RuleError, Scope, Undecided
from teach_sgd.lessons.schema import Checkpoint, Experiment, repeat_run_name, sweep_run_name, value_label
from teach_sgd.settings import bound_number

TEMPLATE_NAMES = ("correct", "correct_text", "chosen", "chosen_text")


@dataclass(frozen=True)
class Verdict:
    checkpoint_id: str
    correct_choice: str | None     # the choice key the measurement supports; None if undecided
    correct_text: str | None
    chosen: str | None             # the learner's key (None if they did not answer)
    user_correct: bool | None      # None if undecided or not answered
    explanation: str               # Markdown, measured numbers filled in
    decided: bool
    missing: str | None = None     # what the rule needed and the run did not measure (undecided only)

    def to_dict(self) -> dict:
        return {"checkpoint": self.checkpoint_id, "correct": self.correct_choice, "chosen": self.chosen,
                "user_correct": self.user_correct, "decided": self.decided}


# ---- objects a rule sees ---------------------------------------------------------------------------------
def _unknown_metric(obj_name: str, kind: str, attr: str, known) -> RuleError:
    hint = rules._suggest(attr, known)
    more = "the metrics are listed in lessons/README.md" if hint else f"known: {', '.join(known)}"
    return RuleError(f"unknown metric {attr!r} for {kind} {obj_name!r}{hint}; {more}")


class RunObj(Obj):
    kind = "run"

    def __init__(self, name: str, result):
        self.name, self.result = name, result

    def metric(self, attr: str):
        if attr not in RUN_METRICS:
            if attr in GROUP_METRICS:
                raise RuleError(f"{attr!r} is a sweep-group metric, and {self.name!r} is a single run")
            raise _unknown_metric(self.name, "run", attr, RUN_METRICS)
        v = run_metric(self.result, attr)
        if isinstance(v, float) and math.isnan(v):
            v = None
        return Measured(v, self.name, attr)


class GroupObj(Obj):
    """One group of a sweep: the same run at every swept value."""

    kind = "group"

    def __init__(self, name: str, over: str, values, runs: dict):
        self.name, self.over, self.values = name, over, tuple(values)
        self.runs = runs  # value → RunResult-like (anything RunObj/metrics can read)

    def _run(self, value) -> RunObj:
        return RunObj(sweep_run_name(self.name, value), self.runs[value])

    def match(self, value):
        """The swept value `value` stands for (inf/'inf' → None for persistence); RuleError if not swept."""
        for v in self.values:
            if v is None and value in (None, math.inf, "inf"):
                return v
            if v is not None and value is not None and not isinstance(value, str) and v == value:
                return v
        raise RuleError(f"at({self.name}, {value_label(value)}): {self.over} = {value_label(value)} is not one of "
                        f"the swept values {', '.join(value_label(v) for v in self.values)}")

    def at(self, value):
        v = self.match(value)
        if v not in self.runs:
            raise Undecided(f"at({self.name}, {value_label(v)}) (that run has no result)")
        return self._run(v)

    def metric(self, attr: str):
        if attr not in GROUP_METRICS:
            if attr in RUN_METRICS:
                raise RuleError(f"{self.name!r} is a sweep group: use at({self.name}, VALUE).{attr} for one run, or "
                                f"a group metric ({', '.join(GROUP_METRICS)})")
            raise _unknown_metric(self.name, "sweep group", attr, GROUP_METRICS)
        stable = [(v, bool(run_metric(self.runs[v], "stable"))) for v in self.values]
        diverged = [(v, bool(self.runs[v].diverged)) for v in self.values]
        key = _order_key
        if attr == "first_unstable":
            vals = [v for v, s in stable if not s]
            val = min(vals, key=key) if vals else None
        elif attr == "first_diverged":
            vals = [v for v, d in diverged if d]
            val = min(vals, key=key) if vals else None
        elif attr == "last_stable":
            vals = [v for v, s in stable if s]
            val = max(vals, key=key) if vals else None
        elif attr == "stable_count":
            val = sum(s for _, s in stable)
        elif attr == "unstable_count":
            val = sum(not s for _, s in stable)
        elif attr == "runs":
            val = len(self.values)
        else:
            losses = [(v, run_metric(self.runs[v], "loss_final")) for v in self.values]
            best = min(losses, key=lambda p: p[1] if p[1] is not None and math.isfinite(p[1]) else math.inf)
            val = best[1] if attr == "best_loss" else best[0]
        if val is None and attr in ("first_unstable", "first_diverged", "last_stable"):
            return Measured(None, self.name, attr)
        if self.over == "persistence" and attr in ("first_unstable", "first_diverged", "last_stable", "best_value"):
            val = bound_number(val)
        return Measured(val, self.name, attr)


def _order_key(v):
    return bound_number(v)


class SharingObj(Obj):
    """One layout of a false-sharing measurement (engine/sharing.py): alone, packed or padded."""

    kind = "layout"

    def __init__(self, name: str, result):
        self.name, self.result = name, result

    def metric(self, attr: str):
        if attr not in SHARING_METRICS:
            raise _unknown_metric(self.name, "layout", attr, SHARING_METRICS)
        r = self.result
        val = {"threads": r.threads(self.name), "ns_per_increment": r.ns_per_increment(self.name),
               "increments_per_s": r.increments_per_s(self.name), "seconds": r.seconds[self.name]}[attr]
        return Measured(val, self.name, attr)


class TauObj(Obj):
    """One τ_max row of a simulator sweep (teach_sgd.sim.sweep.TauSummary)."""

    kind = "simulator row"

    def __init__(self, name: str, summary, c: float):
        self.name, self.summary, self.c = name, summary, c

    def metric(self, attr: str):
        if attr not in TAU_METRICS:
            raise _unknown_metric(self.name, "simulator row", attr, TAU_METRICS)
        s = self.summary
        val = {"tau_max": s.tau, "threads": s.threads, "c": self.c, "max_delay": s.max_delay,
               "best_alpha": s.best_alpha, "best_iterations": s.best_iterations,
               "threshold_low": s.threshold_low, "threshold_high": s.threshold_high,
               "predicted": s.predicted, "matches": s.matches}[attr]
        return Measured(val, self.name, attr)


class ResultScope(Scope):
    """Names → objects for one experiment's results (experiments.ExperimentResults)."""

    def __init__(self, experiment: Experiment, results, extra: dict | None = None):
        self.experiment, self.results = experiment, results
        self.extra = dict(extra or {})
        self._objs: dict[str, Obj] = {}
        e = experiment
        self._repeats: list[dict[str, Obj]] = [{} for _ in range(e.repeat)]
        if e.kind == "run":
            for spec in e.runs:
                for k, objs in enumerate(self._repeats):
                    if repeat_run_name(spec.name, k) in results.runs:
                        objs[spec.name] = RunObj(spec.name, results.runs[repeat_run_name(spec.name, k)])
            self._objs.update(self._repeats[0])  # a plain run name is the first repeat (the lesson's seed)
        elif e.kind == "sweep":
            for g in e.runs:
                for k, objs in enumerate(self._repeats):
                    names = {v: repeat_run_name(sweep_run_name(g.name, v), k) for v in e.values}
                    runs = {v: results.runs[n] for v, n in names.items() if n in results.runs}
                    objs[g.name] = GroupObj(g.name, e.over, [v for v in e.values if v in runs], runs)
            self._objs.update(self._repeats[0])
        elif e.kind == "sharing":
            self._objs.update({layout: SharingObj(layout, results.sim) for layout in e.names()})
        else:
            for s in results.sim.summaries():
                self._objs[f"tau{s.tau}"] = TauObj(f"tau{s.tau}", s, results.sim.config.c)

    def lookup(self, name: str):
        if name in self.extra:
            return self.extra[name]
        if name in self._objs:
            return self._objs[name]
        if name in self.experiment.names():
            raise Undecided(f"{name} (this run has no result for it)")
        raise RuleError(f"unknown name {name!r}{rules._suggest(name, self.names())}; "
                        f"this experiment has {', '.join(self.names())}")

    def names(self):
        return [*self.experiment.names(), *self.extra]

    def repeat_scopes(self):
        return [_RepeatScope(self, objs) for objs in self._repeats]


class _RepeatScope(Scope):
    """One repeat's runs under the run names; everything else as in the experiment's scope."""

    def __init__(self, parent: ResultScope, objs: dict):
        self.parent, self.objs = parent, objs

    def lookup(self, name: str):
        if name in self.objs:
            return self.objs[name]
        if name in self.parent.experiment.names():
            raise Undecided(f"{name} (this repeat has no result for it)")
        return self.parent.lookup(name)

    def names(self):
        return self.parent.names()


# ---- validation without results: dummy worlds ------------------------------------------------------------
_BOOL_METRICS = {"diverged", "stable", "matches"}


class _DummyRun(Obj):
    kind = "run"

    KNOWN = {"run": RUN_METRICS, "simulator row": TAU_METRICS, "layout": SHARING_METRICS}

    def __init__(self, name, rng: random.Random, kind="run"):
        self.name, self.rng, self.kind = name, rng, kind

    def metric(self, attr):
        known = self.KNOWN[self.kind]
        if attr not in known:
            if self.kind == "run" and attr in GROUP_METRICS:
                raise RuleError(f"{attr!r} is a sweep-group metric, and {self.name!r} is a single run")
            raise _unknown_metric(self.name, self.kind, attr, known)
        return Measured(_dummy_value(attr, self.rng), self.name, attr)


class _DummyGroup(Obj):
    kind = "group"

    def __init__(self, name, over, values, rng):
        self.name, self.over, self.values, self.rng = name, over, values, rng
        self._real = GroupObj(name, over, values, {})

    def at(self, value):
        self._real.match(value)  # raises for a value that is not swept
        return _DummyRun(sweep_run_name(self.name, value), self.rng)

    def metric(self, attr):
        if attr not in GROUP_METRICS:
            return self._real.metric(attr)  # raises the right error
        if attr in ("first_unstable", "first_diverged", "last_stable", "best_value"):
            return Measured(self.rng.choice([*self.values, None]) if attr != "best_value"
                            else self.rng.choice(self.values), self.name, attr)
        return Measured(self.rng.randint(0, len(self.values)), self.name, attr)


def _dummy_value(attr, rng: random.Random):
    if attr in _BOOL_METRICS:
        return rng.random() < 0.5
    if rng.random() < 0.1:
        return None
    return rng.choice([0, 1, rng.random(), rng.random() * 10, rng.random() * 1000])


class ValidationScope(Scope):
    """The names an experiment will have, with random numbers: used by the loader to check rules."""

    def __init__(self, experiment: Experiment, seed: int = 0, template: bool = False, keys=()):
        self.experiment = experiment
        self.rng = random.Random(seed)
        self.extra = {}
        if template:
            k = self.rng.choice(list(keys)) if keys else "a"
            self.extra = {"correct": k, "correct_text": "text", "chosen": k, "chosen_text": "text"}

    def lookup(self, name):
        e = self.experiment
        if name in self.extra:
            return self.extra[name]
        if name in TEMPLATE_NAMES:
            raise RuleError(f"{name!r} is known only in explanations, after the answer is computed")
        if name not in e.names():
            raise RuleError(f"unknown name {name!r}{rules._suggest(name, e.names())}; "
                            f"experiment {e.id!r} has {', '.join(e.names())}")
        if e.kind == "sweep":
            return _DummyGroup(name, e.over, e.values, self.rng)
        return _DummyRun(name, self.rng, kind={"simulate": "simulator row", "sharing": "layout"}.get(e.kind, "run"))

    def names(self):
        return list(self.experiment.names())


def answer_key(value, checkpoint: Checkpoint) -> str:
    """Map what a rule returned to a choice key (true/false → 'yes'/'no'); RuleError if it is not a choice."""
    keys = checkpoint.keys
    if isinstance(value, bool):
        k = "yes" if value else "no"
        if k in keys:
            return k
        raise RuleError(f"the answer rule gave {str(value).lower()}, but the choices have no {k!r} key: "
                        f"use choices yes/no, or make the rule return one of {', '.join(keys)}")
    if isinstance(value, str) and value in keys:
        return value
    raise RuleError(f"the answer rule gave {value!r}, which is not a choice key ({', '.join(keys)})")


def check(checkpoint: Checkpoint, experiment: Experiment, worlds: int = 24) -> None:
    """Raise RuleError if the rule or a template can never work: bad form, unknown names or metrics,
    or an answer that is not a choice key in some plausible world."""
    tree = rules.parse(checkpoint.answer)
    outcomes = rules.outcomes(tree)
    foreign = [o for o in outcomes if o not in checkpoint.keys]
    if foreign:
        raise RuleError(f"the answer rule can give {', '.join(map(repr, foreign))}, which "
                        f"{'is not a choice key' if len(foreign) == 1 else 'are not choice keys'} "
                        f"({', '.join(checkpoint.keys)})")
    for w in range(worlds):
        try:
            value = rules.evaluate(tree, ValidationScope(experiment, seed=w))
        except Undecided:
            continue
        except (ArithmeticError, TypeError):
            continue
        answer_key(value, checkpoint)
    for label, text in _templates(checkpoint):
        try:
            exprs = rules.template_exprs(text)
        except RuleError as e:
            raise RuleError(f"in {label}: {e}") from None
        for expr, spec in exprs:
            try:
                t = rules.parse(expr)
            except RuleError as e:
                raise RuleError(f"in {label}: {e}") from None
            for w in range(4):
                try:
                    v = rules.evaluate_measured(t, ValidationScope(experiment, seed=w, template=True,
                                                                   keys=checkpoint.keys))
                    if spec and rules.unwrap(v) is not None and not isinstance(rules.unwrap(v), bool):
                        rules.format_value(v, spec)
                except Undecided:
                    continue
                except (ArithmeticError, TypeError):
                    continue
                except RuleError as e:
                    raise RuleError(f"in {label}, {{{expr}}}: {e}") from None


def _templates(cp: Checkpoint):
    yield "explain", cp.explain
    for k, t in cp.explain_when.items():
        yield f"explain_when.{k}", t
    if cp.undecided:
        yield "undecided", cp.undecided


# ---- evaluation ------------------------------------------------------------------------------------------
def evaluate(checkpoint: Checkpoint, results, chosen: str | None = None) -> Verdict:
    """The verdict of `checkpoint` on `results` (experiments.ExperimentResults of its experiment)."""
    experiment = results.experiment
    scope = ResultScope(experiment, results)
    try:
        correct = answer_key(rules.evaluate(checkpoint.answer, scope), checkpoint)
        missing = None
    except Undecided as u:
        correct, missing = None, u.what
    names = {"correct": correct, "correct_text": checkpoint.choice_text(correct),
             "chosen": chosen, "chosen_text": checkpoint.choice_text(chosen)}
    tscope = ResultScope(experiment, results, extra=names)
    parts = []
    if correct is None:
        parts.append(rules.render(checkpoint.undecided, tscope) if checkpoint.undecided else
                     f"This run cannot settle the question: it did not measure {missing}. "
                     "Run the experiment again with a larger budget.")
        parts.append(rules.render(checkpoint.explain, tscope))
    else:
        parts.append(rules.render(checkpoint.explain, tscope))
        if correct in checkpoint.explain_when:
            parts.append(rules.render(checkpoint.explain_when[correct], tscope))
    return Verdict(
        checkpoint_id=checkpoint.id, correct_choice=correct, correct_text=checkpoint.choice_text(correct),
        chosen=chosen, user_correct=None if (correct is None or chosen is None) else chosen == correct,
        explanation="\n\n".join(p.strip() for p in parts if p.strip()), decided=correct is not None,
        missing=missing)


__all__ = ["Verdict", "evaluate", "check", "answer_key", "ResultScope", "ValidationScope", "STABLE_FRACTION"]
