"""What flows back from a run: RunSnapshot (live, many per second) and RunResult (once, at the end).

Both hold plain copies: a reader can keep them as long as it likes while the threads run on.
`RunResult.to_json()` writes the keys the README documents for `--json` (scripts and graders rely on them: never rename).
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from teach_sgd.engine.config import RunConfig
from teach_sgd.models import DEFAULT_INIT
from teach_sgd.settings import bound_number
from teach_sgd.engine.layout import (
    C_ABANDONED, C_BARRIER_NS, C_CAS_FAIL, C_CAS_OK, C_COPY_NS, C_DELAYED, C_DROPPED, C_EVAL_NS, C_GRAD_NS, C_GRADS,
    C_HELD, C_LOCK_WAIT_NS, C_LOST, C_PUBLISH_NS, C_SAMPLED, C_STATE, C_TAU_MAX, C_TAU_MIN, C_TAU_SUM, C_TORN,
    C_UPDATES, C_WRITTEN, POINT_NAMES, STEP_BIN_WIDTH,
)
from teach_sgd.output import write_atomic

THREAD_STATES = ("idle", "gradient", "copy", "publish", "lock wait", "paused", "done", "barrier", "held")

# A run *collapsed* when it did not diverge yet ended knowing nothing: test accuracy at most chance (1/classes) +
# COLLAPSE_ACCURACY_MARGIN and the loss within COLLAPSE_LOSS_BAND (relative) of ln(classes), the loss of a model
# whose output does not depend on its input (dead ReLUs after too large a step; or no signal getting through,
# below). An untrained model sits there too, so a run needs COLLAPSE_MIN_UPDATES updates before it can be called
# collapsed (at lr 0.05 the MLP is at ~60% accuracy by then; at lr 5 it is at 10% and loss 2.33-2.47 for good).
COLLAPSE_ACCURACY_MARGIN = 0.05
COLLAPSE_LOSS_BAND = 0.15
COLLAPSE_MIN_UPDATES = 100
# Two ways to end there, told apart by the loss curve. A step too large knocks the loss off its start (more
# than STUCK_BAND at some evaluation) and the ReLUs die on the way back (MLP 784-128-10 at lr 2 and 5:
# evaluations up to 2.37 and 2.43 from 2.30; the CNN at lr 1 and 3: 2.30–2.45 from 2.38). From the paper's
# initial weights, N(0, 0.01²), an MLP of three hidden layers passes so little signal that its loss never moves
# at all (784-20-15-11-10, 784-64-64-64-10, 784-128-128-64-10: 2.3026 → 2.3030–2.3075 over 2,000–3,000
# updates, at lr 0.01, 0.05 and 0.2); with two hidden layers (784-128-128-10, 784-20-15-10), or init "he",
# they train. STUCK_BAND: every evaluation within 1% of the initial loss.
STUCK_BAND = 0.01
COLLAPSE_CAUSES = {
    "step": "a step size too large killed its ReLUs",
    "init": "it never moved more than 1% from where it started — from the paper's small initial weights, "
            "N(0, 0.01²), too little signal passes this many layers",
    "stuck": "it never moved more than 1% from where it started — the updates barely moved the model",
}


def is_collapsed(diverged: bool, updates: int, loss_final: float, accuracy_final: float, n_classes: int) -> bool:
    """The collapse rule above (the one place it is defined)."""
    if diverged or updates < COLLAPSE_MIN_UPDATES or not (math.isfinite(loss_final) and math.isfinite(accuracy_final)):
        return False
    chance_loss = math.log(n_classes)
    return (accuracy_final <= 1.0 / n_classes + COLLAPSE_ACCURACY_MARGIN
            and abs(loss_final - chance_loss) <= COLLAPSE_LOSS_BAND * chance_loss)


@dataclass(frozen=True)
class ThreadStats:
    """One worker thread's numbers, named as in the JSON's per_thread entries."""

    thread: int
    updates: int
    gradients: int
    cas_success: int
    cas_fail: int
    dropped: int
    abandoned: int
    lock_wait_s: float
    staleness_mean: float
    staleness_max: int
    torn_reads: int
    lost_updates_sampled: int
    sampled_writes: int
    grad_s: float
    copy_s: float
    publish_s: float
    eval_s: float
    state: str
    staleness_hist: tuple[int, ...]
    retry_hist: tuple[int, ...]
    barrier_wait_s: float = 0.0  # sync
    written: int = 0             # hogwild: coordinates written
    step_hist: tuple[int, ...] = ()  # updates per effective step, bins of STEP_BIN_WIDTH × η (engine/stepsize.py)
    staleness_min: int | None = None  # the smallest τ this thread published (None: it published nothing)
    held_at: str | None = None       # the protocol point where it is held now (engine/phase.py), None = not held
    delayed: int = 0                 # --delay: its updates held back until τ others had been published

    @staticmethod
    def from_rows(tid: int, c: np.ndarray, stale: np.ndarray, retry: np.ndarray, steps: np.ndarray) -> "ThreadStats":
        updates = int(c[C_UPDATES])
        return ThreadStats(
            thread=tid,
            updates=updates,
            gradients=int(c[C_GRADS]),
            cas_success=int(c[C_CAS_OK]),
            cas_fail=int(c[C_CAS_FAIL]),
            dropped=int(c[C_DROPPED]),
            abandoned=int(c[C_ABANDONED]),
            lock_wait_s=c[C_LOCK_WAIT_NS] * 1e-9,
            staleness_mean=(c[C_TAU_SUM] / updates) if updates else 0.0,
            staleness_max=int(c[C_TAU_MAX]),
            torn_reads=int(c[C_TORN]),
            lost_updates_sampled=int(c[C_LOST]),
            sampled_writes=int(c[C_SAMPLED]),
            grad_s=c[C_GRAD_NS] * 1e-9,
            copy_s=c[C_COPY_NS] * 1e-9,
            publish_s=c[C_PUBLISH_NS] * 1e-9,
            eval_s=c[C_EVAL_NS] * 1e-9,
            state=THREAD_STATES[int(c[C_STATE])] if 0 <= c[C_STATE] < len(THREAD_STATES) else "?",
            staleness_hist=tuple(stale.tolist()),
            retry_hist=tuple(retry.tolist()),
            barrier_wait_s=c[C_BARRIER_NS] * 1e-9,
            written=int(c[C_WRITTEN]),
            step_hist=tuple(steps.tolist()),
            staleness_min=int(c[C_TAU_MIN]) - 1 if c[C_TAU_MIN] > 0 else None,
            held_at=POINT_NAMES[int(c[C_HELD]) - 1] if 0 < c[C_HELD] <= len(POINT_NAMES) else None,
            delayed=int(c[C_DELAYED]),
        )

    def to_json(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["staleness_hist"] = list(self.staleness_hist)
        d["retry_hist"] = list(self.retry_hist)
        d["step_hist"] = list(self.step_hist)
        return d


@dataclass(frozen=True)
class Versions:
    """Parameter vectors in memory. Leashed: live versions in the slab; lock/hogwild: θ + m private copies."""

    live: int
    peak: int
    bound: int
    allocated_total: int


@dataclass(frozen=True)
class RunSnapshot:
    """The live state of a run, copied out at one moment (safe to take at 20 Hz)."""

    config: RunConfig
    params: int
    status: str  # "ready", "running", "paused", "stopping", "finished", "stopped", "diverged", "error"
    elapsed_s: float
    updates: int
    gradients: int
    threads: tuple[ThreadStats, ...]
    versions: Versions
    staleness_hist: tuple[int, ...]
    loss_curve: tuple[tuple[float, float, float], ...]  # (seconds, loss, accuracy)
    loss_initial: float
    time_to_target_s: float | None
    diverged: bool
    events_recorded: int = 0  # events drained from the ring so far (engine/events.py)
    events_missed: int = 0    # events the ring wrapped past before they were drained: shown, never hidden
    stretch: int = 1          # slow motion factor at that moment

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def loss(self) -> float:
        return self.loss_curve[-1][1] if self.loss_curve else self.loss_initial

    @property
    def staleness_mean(self) -> float:
        return staleness_mean(self.threads)


def staleness_mean(threads: tuple[ThreadStats, ...]) -> float:
    """Mean τ over all published updates, from the exact per-thread sums (the histogram caps τ at 64)."""
    updates = sum(t.updates for t in threads)
    return sum(t.staleness_mean * t.updates for t in threads) / updates if updates else 0.0


def _finite_or_none(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


@dataclass(frozen=True)
class RunResult:
    """Everything a finished (or stopped, diverged, collapsed) run measured. Status "collapsed" is a run that ran
    to its end and collapsed (`is_collapsed`); a stopped run keeps status "stopped", its `collapsed` says it."""

    config: RunConfig
    params: int
    status: str
    updates: int
    gradients: int
    wall_s: float
    loss_initial: float
    loss_final: float
    accuracy_final: float
    diverged: bool
    time_to_target_s: float | None
    threads: tuple[ThreadStats, ...]
    versions: Versions
    staleness_hist: tuple[int, ...]
    staleness_max: int
    loss_curve: tuple[tuple[float, float, float], ...]
    theta_final: np.ndarray = field(repr=False, compare=False)
    lost_update_mass: float | None = None  # audit runs: Σ|θ0 + Σ applied − θ_final|, over all coordinates
    collapsed: bool = False
    architecture: str = ""  # the model as built for the data, e.g. "mlp 784-128-10" (ModelSpec.architecture)
    events_recorded: int = 0
    events_missed: int = 0
    events_dropped: int = 0                  # the oldest events, not kept: the log is bounded (engine/events.py)
    events_kept_from_s: float | None = None  # run time of the first event kept, when some were dropped
    freeze: dict | None = None  # --freeze: {"thread", "point", "held_s", "updates_by_others_while_held"}
    # A stop ended the run without workers that had not seen it yet (Runner.end_stopped): the numbers are copies
    # taken while those were still inside their kernels, so the end-of-run invariants need not hold exactly.
    left_running: int = 0
    # the share of the workers' ready time they spent waiting for a core (engine/cores.py); None where the
    # system does not say
    core_wait: float | None = None

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def delay(self) -> dict | None:
        """--delay: {"thread", "tau", "held_updates"} (updates of that thread that had to wait)."""
        if self.config.delay is None:
            return None
        thread, tau = self.config.delay
        return {"thread": thread, "tau": tau, "held_updates": self.threads[thread].delayed}

    @property
    def staleness_mean(self) -> float:
        return staleness_mean(self.threads)

    @property
    def collapse_cause(self) -> str | None:
        """Why a collapsed run ended at chance, a key of COLLAPSE_CAUSES (None if it did not collapse)."""
        if not self.collapsed:
            return None
        losses = [loss for _, loss, _ in self.loss_curve] + [self.loss_final]
        if any(abs(loss - self.loss_initial) > STUCK_BAND * self.loss_initial for loss in losses):
            return "step"
        init = self.config.init or DEFAULT_INIT[self.config.model]
        deep = self.config.model == "mlp" and len(self.config.hidden) >= 3  # measured: two hidden layers train
        return "init" if init == "paper" and deep else "stuck"

    @property
    def lost_fraction_sampled(self) -> float | None:
        sampled = sum(t.sampled_writes for t in self.threads)
        return sum(t.lost_updates_sampled for t in self.threads) / sampled if sampled else None

    def to_json(self) -> dict:
        c = self.config
        return {
            "algo": c.algo,
            "threads": c.threads,
            "model": c.model,
            "hidden": list(c.hidden),
            "dataset": c.dataset,
            "params": self.params,
            "lr": c.lr,
            "batch": c.batch,
            "persistence": c.persistence,
            "writes": c.writes,
            "step": c.step,
            "seed": c.seed,
            "status": self.status,
            "updates": self.updates,
            "gradients": self.gradients,
            "wall_s": self.wall_s,
            "updates_per_s": self.updates_per_s,
            "loss_initial": _finite_or_none(self.loss_initial),
            "loss_final": _finite_or_none(self.loss_final),
            "accuracy_final": _finite_or_none(self.accuracy_final),
            "diverged": self.diverged,
            "collapsed": self.collapsed,
            "target_loss": c.target_loss,
            "time_to_target_s": self.time_to_target_s,
            "staleness": {
                "mean": self.staleness_mean,
                "max": self.staleness_max,
                "hist": list(self.staleness_hist),
            },
            "versions": {
                "live_final": self.versions.live,
                "peak": self.versions.peak,
                "bound": self.versions.bound,
                "allocated_total": self.versions.allocated_total,
            },
            "lost_updates": {
                "sampled_writes": sum(t.sampled_writes for t in self.threads),
                "lost_sampled": sum(t.lost_updates_sampled for t in self.threads),
                "fraction_sampled": self.lost_fraction_sampled,
                "mass": self.lost_update_mass,
                "coordinates_written": sum(t.written for t in self.threads),
            },
            "step_factors": {
                "bin_width": STEP_BIN_WIDTH,
                "hist": [int(v) for v in np.sum([t.step_hist for t in self.threads], axis=0)],
            },
            "events": {"recorded": self.events_recorded, "missed": self.events_missed,
                       "dropped": self.events_dropped, "kept_from_s": self.events_kept_from_s},
            "threads_left_running": self.left_running,
            "core_wait": self.core_wait,
            **({"delay": self.delay} if self.delay else {}),
            **({"freeze": self.freeze} if self.freeze else {}),
            "per_thread": [t.to_json() for t in self.threads],
            "loss_curve": [[t, _finite_or_none(loss)] for t, loss, _ in self.loss_curve],
            "accuracy_curve": [[t, _finite_or_none(acc)] for t, _, acc in self.loss_curve],
        }

    @classmethod
    def from_json(cls, d: dict, config: RunConfig, architecture: str = "") -> "RunResult":
        """The RunResult that `to_json` wrote (a recording's end; theta_final is not stored: empty)."""
        nan = float("nan")
        fields = set(ThreadStats.__dataclass_fields__)
        threads = tuple(ThreadStats(**{k: tuple(x) if isinstance(x, list) else x
                                       for k, x in t.items() if k in fields}) for t in d["per_thread"])
        v = d["versions"]
        lost = d.get("lost_updates", {})
        events = d.get("events", {})
        return cls(
            config=config, params=d["params"], status=d["status"], updates=d["updates"],
            gradients=d["gradients"], wall_s=d["wall_s"],
            loss_initial=nan if d["loss_initial"] is None else d["loss_initial"],
            loss_final=nan if d["loss_final"] is None else d["loss_final"],
            accuracy_final=nan if d["accuracy_final"] is None else d["accuracy_final"],
            diverged=d["diverged"], time_to_target_s=d["time_to_target_s"], threads=threads,
            versions=Versions(v["live_final"], v["peak"], v["bound"], v["allocated_total"]),
            staleness_hist=tuple(d["staleness"]["hist"]), staleness_max=d["staleness"]["max"],
            loss_curve=tuple((t, nan if loss is None else loss, nan if acc is None else acc)
                             for (t, loss), (_, acc) in zip(d["loss_curve"], d["accuracy_curve"])),
            theta_final=np.zeros(0, np.float32), lost_update_mass=lost.get("mass"),
            collapsed=d.get("collapsed", False), architecture=architecture,
            events_recorded=events.get("recorded", 0), events_missed=events.get("missed", 0),
            events_dropped=events.get("dropped", 0), events_kept_from_s=events.get("kept_from_s"),
            freeze=d.get("freeze"), left_running=d.get("threads_left_running", 0), core_wait=d.get("core_wait"))

    def json_text(self) -> str:
        """The run's JSON, as `teach-sgd run --json` writes it."""
        return json.dumps(self.to_json(), indent=2) + "\n"

    def write_json(self, path: str | Path) -> None:
        write_atomic(path, self.json_text())


def runs_json(results, names=None, **extra) -> str:
    """Several runs as JSON, one shape everywhere (compare, app exports, lesson exports):
    {**extra, "runs": [run, …]}, each run as `run --json` writes it, with its "name" first when named."""
    runs = [({"name": n} if n else {}) | r.to_json() for n, r in zip(names or [None] * len(results), results)]
    return json.dumps({**extra, "runs": runs}, indent=2) + "\n"


CSV_COLUMNS = ("algo", "threads", "persistence", "seed", "seconds", "loss", "accuracy")


def curves_csv(results: list[RunResult]) -> str:
    """Loss curves in long format, one row per sample, so runs stack and plot in any spreadsheet."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in results:
        for t, loss, acc in r.loss_curve:
            w.writerow([r.config.algo, r.config.threads, f"{bound_number(r.config.persistence):g}", r.config.seed,
                        f"{t:.6f}", f"{loss:.6g}", f"{acc:.6g}"])
    return out.getvalue()
