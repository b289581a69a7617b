"""Slow motion's steps, as > and < walk them on every screen that runs training (and on the presenter view)."""
from __future__ import annotations

STRETCHES = (1, 10, 100, 1000)


def next_stretch(now: int, step: int) -> int:
    """The stretch one step (1: slower, -1: faster) from the step nearest to `now`, kept within STRETCHES."""
    i = min(range(len(STRETCHES)), key=lambda k: abs(STRETCHES[k] - now)) + step
    return STRETCHES[min(max(i, 0), len(STRETCHES) - 1)]
