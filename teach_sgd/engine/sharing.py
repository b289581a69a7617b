"""False sharing, measured: per-thread counters packed into one cache line against counters a line apart.

Every thread increments only its *own* counter, so no thread ever reads another's value and nothing is
lost. Yet when the counters sit in the same cache line, the line is the unit the cores' caches keep
coherent: each increment needs the line in this core's cache in a writable (exclusive) state, which
invalidates the other cores' copies; their next increment has to fetch it back. The line ping-pongs between
the cores although the threads share no data — *false* sharing. Padded, each counter has a line of its own
and stays in its core's cache.

    config = SharingConfig(threads=2, increments=2_000_000, rounds=5)
    result = measure(config)            # SharingResult: seconds per layout, the median of its rounds
    result.ns_per_increment("packed")   # wall time per increment of one thread

Each increment is `counters[slot] += 1` as one atomic fetch-and-add (engine/atomics.py: `lock xadd` on x86,
`ldadd` or an ldxr/stxr loop on ARM), the way threads usually keep shared-memory counters. Why not a plain
load and store: that loop's speed rests on the CPU forwarding each store straight to the next load, a
shortcut some CPUs take only some of the time — on the 2-vCPU AMD EPYC VM this was built on, one thread
alone took 0.37 or 2.2 ns per increment from one second to the next (and two padded threads as often the
slow as the fast), so the packed/padded ratio swung between 2.5× and 15× with nothing changed. The atomic
add costs the same on every round there (5.4–5.6 ns alone), so the ratio measures the line, not the
shortcut. Threads are real OS threads running the nogil kernel at once, started together at a barrier.

Layouts: `alone` (one thread, its own line: the uncontended cost), `packed` (slot i at word i: with up to
8 threads all in one 64-byte line) and `padded` (slot i at word 16·i: 128 bytes apart, one line each even
where the hardware fetches lines in pairs, as some x86 prefetchers and Apple's 128-byte lines do).
"""
from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

from numba import njit

from teach_sgd import values
from teach_sgd.engine import atomics
from teach_sgd.engine.state import cache_aligned_zeros
from teach_sgd.settings import check_fields, declared, parse_mapping, setting

LAYOUTS = ("alone", "packed", "padded")
PACKED_STRIDE = 1     # int64 words between two threads' counters: 8 counters share one 64-byte line
PADDED_STRIDE = 16    # 128 bytes: a line (or an adjacent-line pair) of its own
MAX_THREADS = 8       # packed counters of up to 8 threads fit in one 64-byte line
@njit(nogil=True, cache=True)
def count(counters, slot, n):
    """n increments of counters[slot], each one atomic read-modify-write of memory."""
    for _ in range(n):
        atomics.fetch_add(counters, slot, 1)


@dataclass(frozen=True)
class SharingConfig:
    """The measurement's settings, each declared once (teach_sgd/settings.py); a config that exists is valid."""

    threads: int = setting(2, lambda x, at: values.integer(x, at, 1, MAX_THREADS),
                           "threads of the packed and padded layouts (alone: 1)", flag=None)
    increments: int = setting(2_000_000, lambda x, at: values.integer(x, at, 1_000, 100_000_000),
                              "increments per thread and round", flag=None)
    rounds: int = setting(5, lambda x, at: values.integer(x, at, 1, 50),
                          "rounds per layout, interleaved; the median is kept", flag=None)

    def __post_init__(self) -> None:
        check_fields(self, SETTINGS, "code")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str = "lesson") -> "SharingConfig":
        return cls(**parse_mapping(SETTINGS, data, source, what="sharing setting"))

    def budget(self, scale: float) -> "SharingConfig":
        """The same measurement with `scale` × the increments (for quick previews and tests)."""
        return replace(self, increments=max(1_000, int(self.increments * scale)))


SETTINGS = declared(SharingConfig)


@dataclass
class SharingResult:
    config: SharingConfig
    seconds: dict = field(default_factory=dict)   # layout → the median round's wall seconds
    rounds: dict = field(default_factory=dict)    # layout → every round's wall seconds

    def threads(self, layout: str) -> int:
        return 1 if layout == "alone" else self.config.threads

    def ns_per_increment(self, layout: str) -> float:
        """Wall time per increment of one thread (the threads increment at the same time)."""
        return 1e9 * self.seconds[layout] / self.config.increments

    def increments_per_s(self, layout: str) -> float:
        """All threads' increments per second of wall time."""
        return self.threads(layout) * self.config.increments / self.seconds[layout]

    def table(self) -> str:
        # the spread of the rounds, not each round: ten of them would not fit a lesson pane at 120 columns
        rows = [f"{'layout':<8} {'threads':>7} {'ns/increment':>13} {'increments/s':>14}  rounds ms: min/med/max"]
        for layout in LAYOUTS:
            if layout in self.seconds:
                ms = [1e3 * s for s in self.rounds[layout]]
                rounds = f"{min(ms):.1f}/{statistics.median(ms):.1f}/{max(ms):.1f}"
                rows.append(f"{layout:<8} {self.threads(layout):>7} {self.ns_per_increment(layout):>13.2f} "
                            f"{self.increments_per_s(layout):>14,.0f}  {rounds}")
        return "\n".join(rows)

    @classmethod
    def from_dict(cls, d: dict) -> "SharingResult":
        """The inverse of to_dict (a lesson's saved measurement, restored when the learner comes back)."""
        config = SharingConfig(int(d["threads"]), int(d["increments"]), int(d["rounds"]))
        layouts = d["layouts"]
        return cls(config, seconds={l: float(v["seconds"]) for l, v in layouts.items()},
                   rounds={l: [float(x) for x in v["rounds_s"]] for l, v in layouts.items()})

    def to_dict(self) -> dict:
        return {"threads": self.config.threads, "increments": self.config.increments, "rounds": self.config.rounds,
                "layouts": {l: {"threads": self.threads(l), "seconds": self.seconds[l],
                                "ns_per_increment": self.ns_per_increment(l),
                                "increments_per_s": self.increments_per_s(l), "rounds_s": self.rounds[l]}
                            for l in self.seconds}}


def _round(threads: int, stride: int, increments: int) -> float:
    """One round: `threads` real threads increment their own counters at once; the wall seconds from the
    barrier's release to the last thread's end."""
    counters = cache_aligned_zeros(max(threads * stride, 1) + PADDED_STRIDE, "int64")
    start = threading.Barrier(threads + 1)
    ends = [0.0] * threads

    def work(i: int) -> None:
        start.wait()
        count(counters, i * stride, increments)
        ends[i] = time.perf_counter()

    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    for w in workers:
        w.start()
    t0 = time.perf_counter()
    start.wait()
    for w in workers:
        w.join()
    if any(int(counters[i * stride]) != increments for i in range(threads)):  # never: each owns its slot
        raise RuntimeError("a per-thread counter lost an increment")
    return max(ends) - t0


def measure(config: SharingConfig, progress: Callable[[int, int], None] | None = None) -> SharingResult:
    """Every layout `rounds` times, interleaved (so a burst of load elsewhere hits all layouts alike). The
    median round of each layout is kept, not the fastest: other programs slow some rounds down (a thread that
    loses its core waits), but they can also speed a packed round up — when the two threads take turns on
    one core instead of running together, the line stops moving between cores — so the fastest packed round
    would be the least contended one and understate the effect."""
    count(cache_aligned_zeros(1, "int64"), 0, 1)  # compile (or load from the cache) before timing
    plan = {"alone": (1, PADDED_STRIDE), "packed": (config.threads, PACKED_STRIDE),
            "padded": (config.threads, PADDED_STRIDE)}
    result = SharingResult(config, rounds={l: [] for l in LAYOUTS})
    total = config.rounds * len(LAYOUTS)
    for r in range(config.rounds):
        for k, (layout, (threads, stride)) in enumerate(plan.items()):
            if progress is not None:
                progress(r * len(LAYOUTS) + k, total)
            result.rounds[layout].append(_round(threads, stride, config.increments))
    result.seconds = {l: statistics.median(s) for l, s in result.rounds.items()}
    return result


__all__ = ["SharingConfig", "SharingResult", "measure", "count", "LAYOUTS", "SETTINGS"]
