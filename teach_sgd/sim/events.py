"""What a step can reveal: the events the machine records, for a log, a timeline or a lesson checkpoint.

Every event carries the global step index at which it happened (`step`, from 0) and the thread that took that
step. Written for a person, steps count from 1, as the screens count them ("step 10" is the tenth step, the one
at index 9), so that a log line numbered 10 and its event say the same step.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Completed:
    """An iteration made its whole update visible. `iteration` counts completions machine-wide (1, 2, …);
    `started` is the step of its first instruction, so [started, step] is its span on a timeline."""

    step: int
    thread: int
    iteration: int
    delay: int
    started: int
    kind: str = "completed"

    def __str__(self) -> str:
        return f"step {self.step + 1}: thread {self.thread} completed iteration {self.iteration} with delay {self.delay}"


@dataclass(frozen=True)
class LostUpdate:
    """A HOGWILD! STORE overwrote `erased` writes to X[coord] made since the thread's LOAD.

    `amount` is what those writes had added to X[coord] and that is now gone; `by` wrote the last of them.
    """

    step: int
    thread: int
    coord: int
    erased: int
    by: int
    amount: float
    kind: str = "lost_update"

    def __str__(self) -> str:
        return (f"step {self.step + 1}: thread {self.thread}'s STORE to x[{self.coord}] erased {self.erased} "
                f"write(s), the last by thread {self.by} (lost {self.amount:+.4g})")


@dataclass(frozen=True)
class CasFailed:
    """A Leashed CAS found P at version `found`, not the `expected` one the thread built on."""

    step: int
    thread: int
    expected: int
    found: int
    kind: str = "cas_failed"

    def __str__(self) -> str:
        return (f"step {self.step + 1}: thread {self.thread}'s CAS failed: built on version {self.expected}, "
                f"P is at version {self.found}")


@dataclass(frozen=True)
class Dropped:
    """A Leashed thread gave up its gradient after `failures` failed CASes (more than its persistence)."""

    step: int
    thread: int
    failures: int
    kind: str = "dropped"

    def __str__(self) -> str:
        return f"step {self.step + 1}: thread {self.thread} dropped its gradient after {self.failures} failed CAS"


Event = Completed | LostUpdate | CasFailed | Dropped
