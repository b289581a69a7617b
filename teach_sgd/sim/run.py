"""Run a machine under a scheduler until it reaches ‖x − x*‖² ≤ ε, diverges, or runs out of iterations.

Measurement rule: the shared model is checked after every completed iteration (never mid-write).
"Iterations to ε" is the first k such that ‖X − x*‖² ≤ ε after completion k and stays so for the next
`hold` − 1 completions (hold = the number of threads unless given; k = 0 is x0). The hold is needed because
overlapping updates can sweep X *through* x* mid-round: against the stale-read adversary with α just above
2/((τ+1)c), X passes near 0 halfway through every round while the round as a whole grows by
|1 − (τ+1)αc| > 1. Any n consecutive completions of an n-thread stale-read run contain a round's end, so a
held stretch is real progress, not a fly-by.

Divergence rule: the run has diverged once, after a completed iteration, ‖X − x*‖² > DIVERGENCE_FACTOR ·
‖x0 − x*‖² (‖X − x*‖ grew a hundredfold) or X is not finite. Below the stale-read threshold with exact
gradients no coordinate ever moves further from x* than where its round started, and above it the distance
grows geometrically, so the rule separates the two regions sharply; within the iteration budget it can only
miss growth rates barely above 1.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

DIVERGENCE_FACTOR = 1e4
MEASUREMENT_RULE = ("iterations to eps: the first k such that ||x - x*||^2 <= eps after completed iteration k "
                    "(k = 0: x0) and after each of the next hold - 1 completions (hold = threads)")
DIVERGENCE_RULE = (f"diverged: ||x - x*||^2 > {DIVERGENCE_FACTOR:g} * ||x0 - x*||^2, or x not finite, "
                   "after a completed iteration")
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


def run_until(machine, scheduler, *, eps: float, max_iters: int, hold: int | None = None,
              max_steps: int | None = None) -> Outcome:
    """Step `machine` with `scheduler` from its current state until ε is reached and held, divergence, or
    max_iters completed iterations.

    max_steps (default: 100 × max_iters × program length × threads) only guards against schedules that
    stop completing iterations, such as Leashed threads failing their CAS forever.
    """
    hold = machine.threads if hold is None else hold
    if max_steps is None:
        max_steps = 100 * max_iters * len(machine.program) * machine.threads
    limit = DIVERGENCE_FACTOR * float(np.sum((machine.x0 - machine.objective.x_star) ** 2))

    def outcome(status, iterations=None):
        return Outcome(status, iterations, machine.completed, machine.steps, machine.max_delay,
                       machine.distance2(), machine.lost_updates, machine.cas_failures, machine.dropped)

    below_since = None
    while True:
        done = machine.completed
        dist2 = machine.distance2()
        if dist2 <= eps:
            below_since = done if below_since is None else below_since
            if done - below_since + 1 >= hold:
                return outcome(CONVERGED, below_since)
        else:
            below_since = None
            if not dist2 <= limit:
                return outcome(DIVERGED)
        if done >= max_iters:
            return outcome(NOT_REACHED)
        while machine.completed == done:
            if machine.steps >= max_steps:
                return outcome(NOT_REACHED)
            machine.step(scheduler.choose(machine))
