"""Schedulers: who takes the next step. Each has one method, `choose(machine) -> thread id`.

The adversaries (bounded-delay, stale-read) play against a leashed machine (`Machine(tau_max=τ)`): the machine
refuses any step that would make a delay > τ unavoidable (see `delay.py`), so their schedules respect τ_max by
construction, and the machine's delay accounting (`Machine.delays`) shows it. The manual mode needs no class:
the learner calls `machine.step(t)` for a t in `machine.enabled_threads()`, and `machine.undo()`.
"""
from __future__ import annotations

import numpy as np

from .program import gradient_pc

SCHEDULERS = ("round-robin", "random", "bounded-delay", "stale-read")


class RoundRobin:
    """Threads take turns, one instruction each: 0, 1, …, n−1, 0, … (skipping any the leash refuses).

    Promises, without a leash: fair (after any number of steps, two threads' step counts differ by at most
    one); and in modes faa and hogwild, where every iteration takes the same number L of steps, no delay
    exceeds n − 1: while one iteration runs, each other thread takes at most L steps, hence completes at
    most once.
    """

    name = "round-robin"

    def __init__(self):
        self._next = 0

    def choose(self, machine) -> int:
        for k in range(machine.threads):
            tid = (self._next + k) % machine.threads
            if machine.is_enabled(tid):
                self._next = (tid + 1) % machine.threads
                return tid
        raise AssertionError("a leashed machine always enables some thread (see delay.py)")


class Random:
    """Uniformly random among the enabled threads, from its own seeded generator.

    Without a leash it promises nothing about delay (a thread can be starved for arbitrarily long); on a
    leashed machine it is a random τ_max-bounded schedule.
    """

    name = "random"

    def __init__(self, seed: int = 0):
        self._rng = np.random.default_rng(seed)

    def choose(self, machine) -> int:
        enabled = machine.enabled_threads()
        return enabled[int(self._rng.integers(len(enabled)))]


class BoundedDelay:
    """A random adversary that holds back the oldest in-flight iteration for as long as the leash allows.

    Among the enabled threads it picks uniformly, but never the thread of the most-delayed in-flight
    iteration unless nothing else is enabled. That iteration therefore keeps collecting delay until the
    leash forces everyone else to wait for it: delays reach τ_max, and never pass it.
    """

    name = "bounded-delay"

    def __init__(self, seed: int = 0):
        self._rng = np.random.default_rng(seed)

    def choose(self, machine) -> int:
        if machine.tau_max is None:
            raise ValueError("the bounded-delay adversary needs a leashed machine (tau_max)")
        enabled = machine.enabled_threads()
        in_flight = machine.in_flight_delays()
        if in_flight:
            oldest = max(in_flight, key=lambda t: in_flight[t])
            held_back = [t for t in enabled if t != oldest]
            enabled = held_back or enabled
        return enabled[int(self._rng.integers(len(enabled)))]


class StaleRead:
    """The stale-read adversary (teach_sgd's own construction, docs/papers.md §B), for a machine leashed at τ.

    Rounds, forever: threads 0, 1, …, τ each read the whole model and compute a gradient, all on the same x;
    then each in turn applies its update to completion. Thread k completes after k others that started after
    it read, so the delays in a round are 0, 1, …, τ. On f = (c/2)‖x‖² with exact gradients a round maps
    x ↦ (1 − (τ+1)·α·c)·x, which diverges iff α ≥ 2/((τ+1)·c). In Leashed mode the updates are published one
    after another, each CAS succeeding, with the same effect. The schedule is oblivious: it must drive a
    machine from step 0.
    """

    name = "stale-read"

    def __init__(self):
        self._round: list[int] | None = None
        self._pos = 0

    def choose(self, machine) -> int:
        if self._round is None:
            self._round = self.round(machine)
        tid = self._round[self._pos]
        self._pos = (self._pos + 1) % len(self._round)
        return tid

    @staticmethod
    def round(machine) -> list[int]:
        """The thread ids of one round, step by step."""
        if machine.tau_max is None:
            raise ValueError("the stale-read adversary needs a leashed machine (tau_max)")
        group = range(machine.tau_max + 1)
        if machine.threads < len(group):
            raise ValueError(f"the stale-read adversary for τ_max = {machine.tau_max} needs at least "
                             f"{len(group)} threads")
        reading = gradient_pc(machine.program) + 1
        writing = len(machine.program) - reading
        return [t for t in group for _ in range(reading)] + [t for t in group for _ in range(writing)]


class Replay:
    """Plays back a recorded schedule (a list of thread ids), then stops with IndexError."""

    name = "replay"

    def __init__(self, schedule):
        self._schedule = list(schedule)
        self._pos = 0

    def choose(self, machine) -> int:
        if self._pos >= len(self._schedule):
            raise IndexError("the recorded schedule has ended")
        tid = self._schedule[self._pos]
        self._pos += 1
        return tid


def make_scheduler(name: str, seed: int = 0):
    if name == "round-robin":
        return RoundRobin()
    if name == "random":
        return Random(seed)
    if name == "bounded-delay":
        return BoundedDelay(seed)
    if name == "stale-read":
        return StaleRead()
    raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}, not {name!r}")


def leashed(name: str) -> bool:
    """Whether this scheduler is an adversary that plays on a machine leashed at τ_max."""
    return name in ("bounded-delay", "stale-read")
