"""Run a machine under a scheduler until ‖x − x*‖² ≤ ε, divergence, or an iteration budget.

Measurement rule: the shared model is checked after every completed iteration (not mid-write), so
"iterations to ε" is the number k of completed iterations after which ‖X − x*‖² ≤ ε first held (0 if x0 is
already there).

Divergence rule: the run has diverged once, after a completed iteration, ‖X − x*‖² > DIVERGENCE_FACTOR ·
‖x0 − x*‖² (the distance grew a thousandfold) or X is not finite. Below the stale-read threshold with exact
gradients the distance never grows at all, and above it grows geometrically, so the rule separates the two
regions sharply; within the iteration budget it can only miss rates barely above 1.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

DIVERGENCE_FACTOR = 1e6
CONVERGED, DIVERGED, NOT_REACHED = "converged", "diverged", "not reached"


@dataclass(frozen=True)
class Outcome:
    status: str                 # CONVERGED, DIVERGED or NOT_REACHED
    iterations: int | None      # iterations to ε (None unless converged)
    completed: int              # iterations completed when the run stopped
    steps: int
    max_delay: int
    final_distance2: float
    lost_updates: int
    cas_failures: int
    dropped: int

    def to_dict(self) -> dict:
        out = asdict(self)
        if not np.isfinite(self.final_distance2):
            out["final_distance2"] = None
        return out


def run_until(machine, scheduler, *, eps: float, max_iters: int, max_steps: int | None = None) -> Outcome:
    """Step `machine` with `scheduler` from its current state; stop at ε, divergence or max_iters completions.

    max_steps (default: 100 × max_iters × program length × threads) only guards against schedules that
    stop completing iterations, such as Leashed threads failing their CAS forever.
    """
    if max_steps is None:
        max_steps = 100 * max_iters * len(machine.program) * machine.threads
    start2 = float(np.sum((machine.x0 - machine.objective.x_star) ** 2))
    limit = DIVERGENCE_FACTOR * start2

    def outcome(status, iterations=None):
        return Outcome(status, iterations, machine.completed, machine.steps, machine.max_delay,
                       machine.distance2(), machine.lost_updates, machine.cas_failures, machine.dropped)

    if machine.distance2() <= eps:
        return outcome(CONVERGED, machine.completed)
    done = machine.completed
    while machine.completed < max_iters and machine.steps < max_steps:
        machine.step(scheduler.choose(machine))
        if machine.completed == done:
            continue
        done = machine.completed
        dist2 = machine.distance2()
        if dist2 <= eps:
            return outcome(CONVERGED, done)
        if not dist2 <= limit:
            return outcome(DIVERGED)
    return outcome(NOT_REACHED)
