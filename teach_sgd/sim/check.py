"""The exhaustive checker: every interleaving of a protocol model, breadth first, with state hashing.

    result = check(make_model("leashed", threads=2, updates=2))
    result.states, result.violations, result.counterexample

Soundness. The models (`racy.py`, `versions_model.py`) take one step per atomic access of the real code, and
a step's effect depends only on the state, so the set of reachable states is exactly what every interleaving
of those accesses can produce. Two interleavings that reach the same state have the same futures, which is why
visiting each state once (state hashing) still covers every interleaving. No partial-order reduction is used:
every enabled thread is tried in every state.

Breadth first, the first time a property is found broken is at the smallest number of steps: that path,
rebuilt from each state's parent, is the shortest counterexample.

`violations` counts, per property, the reachable states that break it (for a step that breaks it, such as a
stale read, the steps that do). For the in-place protocols, whose every step advances one thread's program,
all paths to a state have the same length, so breadth-first order is a topological order and the number of
complete interleavings — and of those that lose an update — is counted along the way.
"""
from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field

from teach_sgd import values as v
from teach_sgd.errors import ConfigError
from teach_sgd.settings import INF, Bound, bound_text, check_fields, declared, parse_mapping, setting

from .protocol import DEADLOCK, LOST_UPDATE, Transition
from .racy import Racy
from .versions_model import VARIANTS, Leashed

PROTOCOLS = (*VARIANTS, "hogwild", "faa")
# Sizes are bounded so that a check finishes in minutes at most: the state space grows exponentially with
# threads × updates (benchmarks/bench_check.py).
MAX_THREADS = {"leashed": 3, "hogwild": 4, "faa": 4}
MAX_UPDATES = 3
MAX_WORK = {"leashed": 6, "hogwild": 9, "faa": 12}   # threads × updates: leashed 3 × 2 explores 5.7 M states
MAX_PERSISTENCE = 2


def family(protocol: str) -> str:
    """leashed (and its broken variants), hogwild or faa: what sets the limits."""
    return "leashed" if protocol in VARIANTS else protocol


def default_updates(protocol: str, threads: int) -> int:
    """The fewest gradients per thread at which each broken variant breaks: the use-after-free without the
    re-check of P and the ABA without the sequence tag both need a third gradient in flight — a thread's second
    at 2 threads, a third thread's first at 3 (0 violations at 2 threads × 1). HOGWILD! loses an update with
    one gradient each."""
    return 2 if family(protocol) == "leashed" and threads <= 2 else 1


@dataclass(frozen=True)
class CheckConfig:
    """One `teach-sgd check`: which protocol model, at what size."""

    protocol: str = setting("leashed", lambda x, at: v.choice(x, at, PROTOCOLS),
                            f"one of {', '.join(PROTOCOLS)}")
    threads: int = setting(2, lambda x, at: v.integer(x, at, 1, max(MAX_THREADS.values())),
                           f"threads m ({', '.join(f'{k} at most {n}' for k, n in MAX_THREADS.items())})",
                           metavar="M")
    updates: int | None = setting(
        None, lambda x, at: v.integer(x, at, 1, MAX_UPDATES),
        f"gradients per thread, 1 to {MAX_UPDATES} (default: the fewest at which the broken Leashed-SGD variants "
        "break, 2 at 1–2 threads and 1 at 3; 1 for hogwild and faa)", metavar="N", optional=True)
    persistence: Bound = setting(INF, lambda x, at: v.bound_or_inf(x, at, MAX_PERSISTENCE),
                                 f"Leashed-SGD's Tp: 0 to {MAX_PERSISTENCE} or inf", metavar="TP", text=bound_text,
                                 optional=True)
    source: InitVar[str] = "code"  # how settings are named in an error (teach_sgd/settings.py); not a setting

    def __post_init__(self, source: str) -> None:
        if self.updates is None:  # the size at which this protocol's famous bug shows (default_updates)
            object.__setattr__(self, "updates", default_updates(self.protocol, self.threads))
        check_fields(self, CHECK_SETTINGS, source)

        def name(key: str) -> str:
            return CHECK_SETTINGS[key].name(source)

        fam = family(self.protocol)
        if self.threads > MAX_THREADS[fam]:
            raise ConfigError(f"{name('threads')} must be at most {MAX_THREADS[fam]} for {self.protocol}, got "
                              f"{self.threads}", "threads")
        if self.threads * self.updates > MAX_WORK[fam]:
            raise ConfigError(f"{name('threads')} × {name('updates')} must be at most {MAX_WORK[fam]} for "
                              f"{self.protocol} (the number of interleavings grows exponentially), got "
                              f"{self.threads} × {self.updates}", "updates")
        if self.persistence is not None and fam != "leashed":
            raise ConfigError(f"{name('persistence')} is Leashed-SGD's retry bound; {self.protocol} has no retries",
                              "persistence")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str = "cli") -> "CheckConfig":
        return cls(**parse_mapping(CHECK_SETTINGS, data, source), source=source)

    def make_model(self):
        return make_model(self.protocol, self.threads, self.updates, self.persistence)


CHECK_SETTINGS = declared(CheckConfig)


def make_model(protocol: str, threads: int, updates: int, persistence: int | None = None):
    """The model of `protocol` (see PROTOCOLS); `persistence` is Leashed-SGD's Tp (None: ∞)."""
    if protocol in VARIANTS:
        return Leashed(threads, updates, persistence, variant=protocol)
    if protocol in ("hogwild", "faa"):
        return Racy(threads, updates, atomic=protocol == "faa")
    raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")


@dataclass
class Result:
    protocol: str
    threads: int
    updates: int
    persistence: int | None
    states: int
    seconds: float
    violations: dict                      # property → how many states (or steps) break it
    schedule: list = field(default_factory=list)      # the shortest counterexample, as thread ids
    steps: list = field(default_factory=list)         # … and as the Transitions it takes
    broken: tuple | None = None           # (property, why) at the end of the counterexample
    interleavings: int | None = None      # complete interleavings (in-place protocols only)
    losing: int | None = None             # … of which lose an update

    @property
    def counterexample(self) -> list[dict]:
        """The schedule as JSON: one record a step; the last one names the property it ends up breaking."""
        out = [{"thread": tr.thread, "step": tr.step.name, "source": tr.step.source, "text": tr.text}
               for tr in self.steps]
        if out:
            out[-1]["breaks"] = {"property": self.broken[0], "why": self.broken[1]}
        return out

    def to_json(self) -> dict:
        return {"protocol": self.protocol, "threads": self.threads, "states": self.states,
                "seconds": round(self.seconds, 4), "violations": dict(self.violations),
                "counterexample": self.counterexample}


def check(model) -> Result:
    """Explore every reachable state of `model` and report what it breaks (see the module docstring)."""
    start = time.perf_counter()
    init = model.initial()
    parent = {init: (None, None, 0)}      # state → (previous state, thread, depth): the breadth-first tree
    best = None                           # (path length, state, extra thread or None, property, why)
    violations: Counter = Counter()
    graded = isinstance(model, Racy)
    paths = Counter({init: 1}) if graded else None
    interleavings = losing = 0

    def found(length, state, tid, prop, why):
        nonlocal best
        violations[prop] += 1
        if best is None or length < best[0]:
            best = (length, state, tid, prop, why)

    def judge(state, length):
        for prop, why in model.invariants(state).items():
            found(length, state, None, prop, why)

    judge(init, 0)
    frontier = deque([init])
    while frontier:
        state = frontier.popleft()
        depth = parent[state][2]
        enabled = model.enabled(state)
        if not enabled:
            if not model.done(state):
                found(depth, state, None, DEADLOCK, "no thread can step, and some are unfinished")
            elif graded:
                interleavings += paths[state]
                losing += paths[state] if LOST_UPDATE in model.invariants(state) else 0
            continue
        for tid in enabled:
            nxt, tr = model.step(state, tid)
            for prop, why in tr.broken:
                found(depth + 1, state, tid, prop, why)
            if graded:
                paths[nxt] += paths[state]
            if nxt not in parent:
                parent[nxt] = (state, tid, depth + 1)
                judge(nxt, depth + 1)
                frontier.append(nxt)
    result = Result(model.name, model.threads, model.updates, getattr(model, "persistence", None),
                    len(parent), time.perf_counter() - start,
                    {p: violations[p] for p in (*model.properties, DEADLOCK)})
    if graded:
        result.interleavings, result.losing = interleavings, losing
    if best:
        _, state, tid, prop, why = best
        schedule = _path(parent, state) + ([] if tid is None else [tid])
        result.schedule, result.broken = schedule, (prop, why)
        result.steps = [tr for tr, _ in replay(model, schedule)]
    return result


def _path(parent, state) -> list[int]:
    schedule = []
    while parent[state][0] is not None:
        state, tid, _ = parent[state]
        schedule.append(tid)
    return schedule[::-1]


def replay(model, schedule) -> list[tuple[Transition, object]]:
    """Take these steps from the initial state: each Transition with the state after it."""
    state = model.initial()
    out = []
    for tid in schedule:
        if tid not in model.enabled(state):
            raise ValueError(f"thread {tid} cannot step after {len(out)} steps")
        state, tr = model.step(state, tid)
        out.append((tr, state))
    return out
