"""Which numbers each algorithm has: the one table of per-algorithm columns.

The app's thread table (one row per thread), Compare's results table (one row per column, one column per run,
the value taken over all the run's threads) and the CLI's run summary all read ALGO_COLUMNS, so no algorithm shows a column it cannot
have — no CAS columns for HOGWILD!, no lost writes for LOCK:

    SEQ      updates
    LOCK     updates · lock wait (s) · wait per update (µs) · τ mean · τ max · step ×η
    HOGWILD! updates · torn reads · coordinate writes observed (sampled) · of them lost · ≈ lost coordinate
             writes in all · coordinates written per update (%) · τ mean · τ max · step ×η
    Leashed  updates · CAS ok · CAS fail · failed CAS per published update · dropped · τ mean · τ max · step ×η

Units: an *update* is one thread's whole step −η·g, published once; a HOGWILD! update is `params` (dense) or
fewer (sparse) racy *coordinate writes*, and what HOGWILD! loses is single coordinate writes, never a whole
update, so its lost columns count coordinate writes and say so ("≈ lost coordinate writes in all 2,260,100"
next to "updates 31,488" compares two different units on purpose: about 72 of each update's 101,770
coordinates were overwritten on average, not 72 updates).
    SYNC     updates · barrier wait (s) · barrier wait per step (µs)

`step ×η` is the histogram of effective step sizes (engine/stepsize.py) as an 11-character sparkline over
0, 0.2, … 2 × η, followed by the smallest, median and largest factor ("▁▁   ▁    █ 0.0/2.0/2.0": most steps
were doubled). Only a run with a step rule has it: without one every step is 1 × η, a lone █ that says
nothing.

(the thread table adds each thread's state). Where Compare sets two algorithms side by side, a column only
one of them has reads "—" for the other, unless the other has it as 0 by construction (`zero_elsewhere`):
a consistent algorithm loses no write and tears no read, and SEQ's updates are never stale. That 0 is the
point of the comparison ("HOGWILD! lost 1,234 of 98,000 observed coordinate writes; Leashed-SGD lost 0").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from teach_sgd.engine.config import ALGO_NAMES
from teach_sgd.engine.layout import STEP_BIN_WIDTH
from teach_sgd.engine.result import ThreadStats, staleness_mean
from teach_sgd.format import fmt_count

Threads = Sequence[ThreadStats]


def _sum(field: str) -> Callable[[Threads, int], float]:
    return lambda ts, params: sum(getattr(t, field) for t in ts)


def _per(count: str, field: str, scale: float) -> Callable[[Threads, int], float]:
    def value(ts: Threads, params: int) -> float:
        n = sum(getattr(t, count) for t in ts)
        return scale * sum(getattr(t, field) for t in ts) / n if n else 0.0
    return value


def _per_update(field: str, scale: float = 1.0) -> Callable[[Threads, int], float]:
    return _per("updates", field, scale)


def _per_gradient(field: str, scale: float = 1.0) -> Callable[[Threads, int], float]:
    """Per step of SYNC: every thread computes one share's gradient per step (its `updates` are 0 but for
    thread 0, which counts the step)."""
    return _per("gradients", field, scale)


def lost_estimate(ts: Threads, params: int) -> float:
    """Lost coordinate writes over all coordinates: the lost fraction of the observed (sampled) writes × every
    coordinate written (dense: each update writes all `params` coordinates; sparse: those with a non-zero
    gradient)."""
    observed = sum(t.sampled_writes for t in ts)
    lost = sum(t.lost_updates_sampled for t in ts)
    return lost / observed * sum(t.written for t in ts) if observed else 0.0


def lost_estimate_shown(ts: Threads, params: int) -> float:
    """The estimate with only the digits its sample supports: from n lost writes seen, its relative error is
    about 1/√n (a count of rare events), so 1 significant digit below 10 seen, 2 below 100, else 3 — one lost
    write seen in half a million observed does not make "≈ 1,007" in all, only "≈ 1,000"."""
    estimate, seen = lost_estimate(ts, params), sum(t.lost_updates_sampled for t in ts)
    if estimate <= 0:
        return 0.0
    digits = 1 if seen < 10 else 2 if seen < 100 else 3
    return round(estimate, digits - 1 - math.floor(math.log10(estimate)))


def written_share(ts: Threads, params: int) -> float:
    """Coordinates written per update, as a percentage of the model (dense HOGWILD!: 100)."""
    updates = sum(t.updates for t in ts)
    return 100 * sum(t.written for t in ts) / (updates * params) if updates else 0.0


SPARK = " ▁▂▃▄▅▆▇█"


def step_hist(ts: Threads, params: int) -> tuple[int, ...]:
    """The effective-step histogram over the threads, in the engine's bins of STEP_BIN_WIDTH × η."""
    return tuple(sum(t.step_hist[i] for t in ts if t.step_hist) for i in range(len(ts[0].step_hist))) if ts else ()


def paired(hist) -> tuple[int, ...]:
    """The engine's 0.1 × η bins in 11 bins of 0.2 × η for the sparkline (the first bin, 0 × η, stays alone)."""
    return tuple([hist[0]] + [sum(hist[i:i + 2]) for i in range(1, len(hist), 2)]) if hist else ()


def step_factors(hist) -> tuple[float, float, float]:
    """The smallest, median and largest step factor (× η) of a histogram in the engine's bins."""
    filled = [i for i, v in enumerate(hist) if v]
    half, seen = sum(hist) / 2, 0
    for i, v in enumerate(hist):
        seen += v
        if seen >= half:
            break
    return filled[0] * STEP_BIN_WIDTH, i * STEP_BIN_WIDTH, filled[-1] * STEP_BIN_WIDTH


def step_cell(hist) -> str:
    """'▁▁   ▁    █ 0.0/2.0/2.0': the sparkline over 0 … 2 × η, then min/median/max × η."""
    if not any(hist):
        return "·" * 11
    return f"{spark(paired(hist))} " + "/".join(f"{f:.1f}" for f in step_factors(hist))


def spark(hist) -> str:
    """A histogram as one character per bin; any non-zero bin shows at least ▁."""
    if not hist or not any(hist):
        return "·" * 11
    top = max(hist)
    return "".join(SPARK[0] if v == 0 else SPARK[max(1, round(8 * v / top))] for v in hist)


@dataclass(frozen=True)
class Column:
    key: str
    label: str   # thread-table header
    name: str    # Compare's row label
    value: Callable[[Threads, int], float]  # over a group of threads (one thread, or all), given the model's size
    fmt: Callable[[float], str]
    width: int   # characters for the number in the thread table
    colour: str
    zero_elsewhere: bool = False  # an algorithm without this column has it as 0 by construction

    def cell(self, algo: str, threads: Threads, params: int) -> str:
        """This column's value for a run of `algo` (its threads), as Compare shows it."""
        if self.key in ALGO_COLUMNS[algo]:
            return self.fmt(self.value(threads, params))
        return self.fmt(0) if self.zero_elsewhere else "—"


def _count(v: float) -> str:
    return fmt_count(int(v))


COLUMNS = {c.key: c for c in (
    Column("updates", "updates", "updates", _sum("updates"), _count, 7, "green"),
    Column("lock_wait", "lock wait s", "lock wait s", _sum("lock_wait_s"), lambda v: f"{v:.3f}", 7, "blue"),
    Column("wait_per_update", "µs/upd", "lock wait µs per update", _per_update("lock_wait_s", 1e6),
           lambda v: f"{v:,.1f}", 7, "blue"),
    Column("torn", "torn", "torn reads", _sum("torn_reads"), _count, 7, "red", zero_elsewhere=True),
    Column("observed", "obs writes", "coordinate writes observed (sampled)", _sum("sampled_writes"), _count, 8,
           "cyan"),
    Column("lost", "lost wr", "of them lost (coordinate writes)", _sum("lost_updates_sampled"), _count, 6,
           "magenta", zero_elsewhere=True),
    Column("lost_est", "≈lost wr all", "≈ lost coordinate writes in all", lost_estimate_shown, _count, 9, "magenta",
           zero_elsewhere=True),
    Column("cas_ok", "CAS ok", "CAS ok", _sum("cas_success"), _count, 7, "cyan"),
    Column("cas_fail", "CAS fail", "CAS fail", _sum("cas_fail"), _count, 7, "magenta"),
    # failed CAS per published update, the paper's retry measure; at Tp = 0 no failure is retried (each one
    # drops a gradient), so the column must not be called "retries"
    Column("retries", "fail/upd", "failed CAS per published update", _per_update("cas_fail"),
           lambda v: f"{v:.2f}", 6, "magenta"),
    Column("dropped", "dropped", "dropped gradients", _sum("dropped"), _count, 6, "red"),
    Column("tau_mean", "τ mean", "τ mean", lambda ts, params: staleness_mean(tuple(ts)), lambda v: f"{v:.2f}", 6,
           "yellow", zero_elsewhere=True),
    Column("tau_max", "τ max", "τ max", lambda ts, params: max((t.staleness_max for t in ts), default=0), _count,
           5, "yellow", zero_elsewhere=True),
    Column("written", "write %", "coordinates written per update (%)", written_share, lambda v: f"{v:.0f}%", 7,
           "cyan"),
    Column("barrier", "barrier s", "barrier wait s", _sum("barrier_wait_s"), lambda v: f"{v:.3f}", 9, "blue"),
    Column("barrier_per_step", "µs/step", "barrier wait µs per step", _per_gradient("barrier_wait_s", 1e6),
           lambda v: f"{v:,.1f}", 7, "blue"),
    Column("steps", "step ×η 0…2 min/med/max", "effective step ×η: histogram 0 … 2, min/median/max", step_hist,
           step_cell, 23, "green"),
)}

ALGO_COLUMNS: dict[str, tuple[str, ...]] = {
    "seq": ("updates",),
    "lock": ("updates", "lock_wait", "wait_per_update", "tau_mean", "tau_max", "steps"),
    "hogwild": ("updates", "torn", "observed", "lost", "lost_est", "written", "tau_mean", "tau_max", "steps"),
    "leashed": ("updates", "cas_ok", "cas_fail", "retries", "dropped", "tau_mean", "tau_max", "steps"),
    "sync": ("updates", "barrier", "barrier_per_step"),
}


def columns_for(*algos: str, stepped: bool = False) -> tuple[Column, ...]:
    """The columns of one algorithm, or of several side by side (in COLUMNS' order, each once); the step
    factors only if `stepped` (a step rule is on)."""
    keys = {k for a in algos for k in ALGO_COLUMNS[a]} - (set() if stepped else {"steps"})
    return tuple(c for k, c in COLUMNS.items() if k in keys)


def columns_of(*configs) -> tuple[Column, ...]:
    """The columns of these runs (RunConfigs), side by side."""
    return columns_for(*(c.algo for c in configs), stepped=any(c.step != "none" for c in configs))


def lost_updates_story(results) -> str | None:
    """'HOGWILD! lost 1,234 of 98,000 observed coordinate writes; Leashed-SGD lost 0' (None when no run is
    HOGWILD!)."""
    if not any(r.config.algo == "hogwild" for r in results):
        return None
    lost, observed = COLUMNS["lost"], COLUMNS["observed"]
    parts = []
    for r in results:
        algo = r.config.algo
        part = f"{ALGO_NAMES[algo]} lost {lost.cell(algo, r.threads, r.params)}"
        if algo == "hogwild":
            part += f" of {observed.cell(algo, r.threads, r.params)} observed coordinate writes"
        parts.append(part)
    return "; ".join(parts)
