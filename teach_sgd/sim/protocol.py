"""Step-level models of the update protocols, for the exhaustive checker (`check.py`) and the challenges.

The step machine (`machine.py`) teaches *what asynchrony does to SGD*; these models teach *why a protocol is
correct*. Each model is a pure transition system over hashable state tuples:

    model.initial()                 the state before any step
    model.enabled(state)            the threads that can step (every unfinished thread, in these models)
    model.step(state, tid)          (next state, Transition): one shared-memory access of thread tid
    model.invariants(state)         the properties broken in this state, each {property: why}
    model.describe(state)           the state in a few words, for an explanation

Gradients are small integers: thread i's k-th gradient is 2^(i·updates + k) on every coordinate, η = 1 and
θ0 = 0, so θ = −Σ(applied gradients) exactly and a wrong θ names the gradients it lost (the missing bits).

Every step names the engine function that performs it (`Step.source`), that function's parameters and the
line of code that does it (`Step.code`): tests/test_protocol.py fails if the engine changes shape without the
model, and docs/protocol.md is generated from the same table.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

# properties a model can break, in the order reports list them
LOST_UPDATE = "lost_update"
STALE_READ = "stale_read"
LIVE_BOUND = "live_bound"
EXACTLY_ONCE = "exactly_once"
DEADLOCK = "deadlock"
PROPERTIES = (LOST_UPDATE, STALE_READ, LIVE_BOUND, EXACTLY_ONCE, DEADLOCK)
STEP_PROPERTIES = (STALE_READ,)  # broken by a step (the checker counts steps); the others by a state
PROPERTY_TEXT = {
    LOST_UPDATE: "θ equals θ0 minus exactly the published gradients",
    STALE_READ: "no thread reads a slot that was freed and reused while it held a reference",
    LIVE_BOUND: "live versions ≤ LIVE ≤ 2m + 1",
    EXACTLY_ONCE: "every gradient ends published or dropped exactly once (the models never stop a run, so "
                  "none is abandoned)",
    DEADLOCK: "an unfinished state always has a thread that can step",
}


@dataclass(frozen=True)
class Step:
    """One kind of atomic step, and where the real code takes it."""

    name: str
    source: str          # dotted path of the engine function, e.g. "teach_sgd.engine.versions.acquire"
    params: tuple        # that function's parameter names
    code: str            # the line (as it appears in the source) that performs the step

    def function(self):
        """The Python function behind `source` (numba dispatchers are unwrapped to their `.py_func`)."""
        path = self.source.split(".")
        for cut in range(len(path) - 1, 0, -1):  # the longest importable prefix is the module
            try:
                target = importlib.import_module(".".join(path[:cut]))
            except ModuleNotFoundError:
                continue
            for name in path[cut:]:
                target = getattr(target, name)
            return getattr(target, "py_func", target)
        raise ModuleNotFoundError(self.source)

    def line(self) -> int:
        """The line number of `code` in its source file (ValueError if the code is no longer there)."""
        lines, first = inspect.getsourcelines(self.function())
        for offset, text in enumerate(lines):
            if self.code in text:
                return first + offset
        raise ValueError(f"{self.source} no longer contains {self.code!r}")


@dataclass(frozen=True)
class Transition:
    """What one step did: the step kind, the thread, a sentence, and the properties it broke on the way."""

    step: Step
    thread: int
    text: str
    broken: tuple = ()   # ((property, why), …) found while taking the step

    def __str__(self) -> str:
        return f"thread {self.thread}: {self.text}"


def gradient(tid: int, k: int, updates: int) -> int:
    """Thread tid's k-th gradient: a distinct power of two, so sums of distinct gradients never collide."""
    return 1 << (tid * updates + k)


def missing(theta: int, published: int) -> str:
    """Why θ ≠ −Σ published: the gradients (as bit indices) that are missing from θ, or extra in it."""
    applied = -theta
    lost = published & ~applied
    extra = applied & ~published
    parts = []
    if lost:
        parts.append("lost " + ", ".join(f"g{b}" for b in _bits(lost)))
    if extra:
        parts.append("unpublished " + ", ".join(f"g{b}" for b in _bits(extra)))
    return "; ".join(parts) or f"θ = {theta} but the published gradients sum to {applied}"


def _bits(mask: int):
    return [b for b in range(mask.bit_length()) if mask >> b & 1]


def source_table(steps) -> str:
    """The Markdown table of docs/protocol.md: each model step, the function and the line that performs it.
    Regenerate with `python scripts/protocol_table.py`; tests/test_protocol.py fails while it is stale."""
    rows = ["| model step | engine function | line | code |", "| --- | --- | --- | --- |"]
    for step in steps:
        path = inspect.getsourcefile(step.function()).split("teach_sgd/", 1)[1]
        rows.append(f"| {step.name} | `{step.source}` | teach_sgd/{path}:{step.line()} | `{step.code}` |")
    return "\n".join(rows)
