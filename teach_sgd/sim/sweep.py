"""The τ_max × α sweep: iterations to ε for every pair, the divergence region, and the exact threshold.

For each τ_max the run uses `threads` threads (default τ_max + 1, the fewest that can overlap τ_max + 1
iterations). The adversaries (bounded-delay, stale-read) play on a machine leashed at τ_max. Round-robin and
random are not adversaries and take no leash: for them τ_max only sets the default thread count, and the
observed maximum delay is what it is (round-robin's is at most threads − 1 in modes faa and hogwild; random's
is unbounded). Every cell starts from the same seed, so cells differ only in τ_max and α.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .config import SweepConfig
from .machine import Machine
from .run import DIVERGED, Outcome, run_until
from .schedulers import leashed, make_scheduler


def predicted_threshold(tau: int, c: float) -> float:
    """The stale-read adversary on f = (c/2)‖x‖² with exact gradients diverges iff α ≥ 2/((τ+1)·c)."""
    return 2.0 / ((tau + 1) * c)


@dataclass(frozen=True)
class Cell:
    tau: int
    alpha: float
    threads: int
    outcome: Outcome

    def to_dict(self) -> dict:
        return {"tau_max": self.tau, "alpha": self.alpha, "threads": self.threads, **self.outcome.to_dict()}


@dataclass(frozen=True)
class TauSummary:
    """One τ_max: the observed delays, the best α, and where divergence starts on the α grid.

    The measured threshold is bracketed on the α grid: `threshold_high` is the smallest α whose run diverged,
    `threshold_low` the largest α below it whose run converged. Between them lie only runs that did neither
    within the iteration budget (near the threshold both convergence and divergence are slow); with a budget
    large enough for the grid, they are neighbours and the bracket is the grid's resolution.
    """

    tau: int
    threads: int
    max_delay: int
    leashed: bool
    best_alpha: float | None
    best_iterations: int | None
    threshold_low: float | None
    threshold_high: float | None
    predicted: float | None

    @property
    def matches(self) -> bool | None:
        """Whether the predicted threshold lies in the measured interval (None without a prediction)."""
        if self.predicted is None:
            return None
        if self.threshold_high is None:
            return False
        low = self.threshold_low if self.threshold_low is not None else 0.0
        return low < self.predicted <= self.threshold_high

    def to_dict(self) -> dict:
        return {"tau_max": self.tau, "threads": self.threads, "max_delay": self.max_delay,
                "respected": self.max_delay <= self.tau, "leashed": self.leashed,
                "best_alpha": self.best_alpha, "best_iterations": self.best_iterations,
                "threshold_measured": [self.threshold_low, self.threshold_high]
                if self.threshold_high is not None else None,
                "threshold_predicted": self.predicted, "threshold_matches": self.matches}


@dataclass(frozen=True)
class SweepResult:
    config: SweepConfig
    cells: tuple[Cell, ...] = field(default_factory=tuple)

    def cell(self, tau: int, alpha: float) -> Cell:
        return next(c for c in self.cells if c.tau == tau and c.alpha == alpha)

    def summary(self, tau: int) -> TauSummary:
        row = sorted((c for c in self.cells if c.tau == tau), key=lambda c: c.alpha)
        converged = [c for c in row if c.outcome.iterations is not None]
        best = min(converged, key=lambda c: c.outcome.iterations, default=None)
        high = next((c.alpha for c in row if c.outcome.status == DIVERGED), None)
        low = max((c.alpha for c in converged if high is None or c.alpha < high), default=None)
        if high is None:
            low = None
        cfg = self.config
        return TauSummary(
            tau=tau, threads=cfg.threads_for(tau), max_delay=max(c.outcome.max_delay for c in row),
            leashed=leashed(cfg.scheduler),
            best_alpha=best.alpha if best else None, best_iterations=best.outcome.iterations if best else None,
            threshold_low=low, threshold_high=high,
            predicted=predicted_threshold(tau, cfg.c) if cfg.exact() else None)

    def summaries(self) -> list[TauSummary]:
        return [self.summary(tau) for tau in self.config.taus]


def run_cell(cfg: SweepConfig, tau: int, alpha: float, objective=None) -> Cell:
    objective = objective if objective is not None else cfg.make_objective()
    threads = cfg.threads_for(tau)
    machine = Machine(objective, threads=threads, alpha=alpha, mode=cfg.mode, seed=cfg.seed,
                      tau_max=tau if leashed(cfg.scheduler) else None, persistence=cfg.persistence)
    outcome = run_until(machine, make_scheduler(cfg.scheduler, cfg.seed), eps=cfg.eps, max_iters=cfg.max_iters)
    return Cell(tau, alpha, threads, outcome)


def sweep(cfg: SweepConfig, progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Run every (τ_max, α) cell; `progress(done, total)` is called after each."""
    objective = cfg.make_objective()
    pairs = [(tau, alpha) for tau in cfg.taus for alpha in sorted(cfg.alphas)]
    cells = []
    for k, (tau, alpha) in enumerate(pairs):
        # past the threshold the iterates overflow to inf on purpose (that is what "diverged" means): no warning
        with np.errstate(over="ignore", invalid="ignore"):
            cells.append(run_cell(cfg, tau, alpha, objective))
        if progress is not None:
            progress(k + 1, len(pairs))
    return SweepResult(cfg, tuple(cells))
