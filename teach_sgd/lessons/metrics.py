"""The named numbers a checkpoint rule can use: `run.metric`, `group.metric` (sweeps), `tauN.metric` (simulator).

Every metric is computed from the run's own RunResult (or the simulator's SweepResult) and nothing else.
A metric that does not apply to a run (a lost fraction on a Leashed run, a time to target never reached)
is None, which the rule language calls `none`.
"""
from __future__ import annotations

import math
from typing import Callable
from teach_sgd.engine.layout import STEP_BIN_WIDTH, STEP_BINS
from teach_sgd.settings import bound_number

# A run counts as *stable* when it did not diverge and ended with loss ≤ STABLE_FRACTION × initial loss.
STABLE_FRACTION = 0.5


def _sum(r, field: str):
    return sum(getattr(t, field) for t in r.threads)


def _per(a, b):
    return a / b if b else None


def time_to_fraction(r, fraction: float) -> float | None:
    """Seconds until the measured loss first fell to ≤ fraction × initial loss (None if it never did)."""
    target = fraction * r.loss_initial
    for t, loss, _ in r.loss_curve:
        if loss is not None and math.isfinite(loss) and loss <= target:
            return float(t)
    return None


def loss_jitter(r) -> float | None:
    """Mean |change| of the sampled loss between successive samples over the run's second half, as a share of
    the mean loss there: how much the curve jumps around once the fast initial drop is over (None with fewer
    than 4 samples in that half)."""
    losses = [loss for _, loss, _ in r.loss_curve if loss is not None and math.isfinite(loss)]
    half = losses[len(losses) // 2:]
    if len(half) < 4 or sum(half) <= 0:
        return None
    steps = [abs(b - a) for a, b in zip(half, half[1:])]
    return (sum(steps) / len(steps)) / (sum(half) / len(half))


def _quantile(hist, q: float):
    total = sum(hist)
    if not total:
        return None
    need, acc = q * total, 0
    for tau, n in enumerate(hist):
        acc += n
        if acc >= need:
            return tau
    return len(hist) - 1


def _most_failures(r):
    """The thread that failed the most CAS, and the others; None when nobody failed (or not Leashed-SGD)."""
    if r.config.algo != "leashed" or not _sum(r, "cas_fail"):
        return None
    top = max(r.threads, key=lambda t: t.cas_fail)
    return top, [t for t in r.threads if t is not top]


def _gradient_us(threads) -> float | None:
    """Mean wall time of one gradient, µs, over these threads' gradients (telemetry's phase timers)."""
    n = sum(t.gradients for t in threads)
    return 1e6 * sum(t.grad_s for t in threads) / n if n and any(t.grad_s for t in threads) else None


def _most_failures_of(r, of):
    split = _most_failures(r)
    return None if split is None else of(*split)


def _stable(r) -> bool:
    return (not r.diverged) and math.isfinite(r.loss_final) and r.loss_final <= STABLE_FRACTION * r.loss_initial


def _lost_fraction(r):
    return r.lost_fraction_sampled if r.config.algo == "hogwild" else None


def _step_hist(r):
    return [sum(t.step_hist[i] for t in r.threads) for i in range(len(r.threads[0].step_hist))] \
        if r.threads and r.threads[0].step_hist else []


def _step_mean(r):
    h = _step_hist(r)
    return _per(sum(i * STEP_BIN_WIDTH * n for i, n in enumerate(h)), sum(h)) if sum(h) else None


def _step_share(r, lo: int, hi: int):
    h = _step_hist(r)
    return _per(sum(h[lo:hi + 1]), sum(h)) if sum(h) else None


def _freeze(r, key: str):
    return r.freeze[key] if r.freeze else None


def _freeze_rate(r):
    """Updates per second the other threads published while the frozen one was held."""
    if not r.freeze or not r.freeze["held_s"]:
        return None
    return r.freeze["updates_by_others_while_held"] / r.freeze["held_s"]


def _delayed_thread(r):
    return r.threads[r.config.delay[0]] if r.config.delay is not None and r.threads else None


def _finite(x):
    return float(x) if x is not None and math.isfinite(x) else None


RUN_METRICS: dict[str, tuple[str, Callable]] = {
    # what the run was
    "threads": ("worker threads m", lambda r: r.config.threads),
    "lr": ("step size η", lambda r: r.config.lr),
    "batch": ("mini-batch size", lambda r: r.config.batch),
    "persistence": ("Leashed-SGD persistence bound Tp (∞ = inf)",
                    lambda r: bound_number(r.config.persistence)),
    "params": ("number of model parameters", lambda r: r.params),
    # progress
    "updates": ("published updates", lambda r: r.updates),
    "gradients": ("gradients computed (published + dropped + unfinished)", lambda r: r.gradients),
    "wall_s": ("wall-clock seconds of the run", lambda r: r.wall_s),
    "eval_s": ("seconds the worker threads spent evaluating the loss during the run, summed over threads",
               lambda r: _sum(r, "eval_s")),
    "updates_per_s": ("throughput: published updates per second", lambda r: r.updates_per_s),
    "loss_initial": ("training loss before the first update", lambda r: _finite(r.loss_initial)),
    "loss_final": ("training loss at the end (inf if it blew up)",
                   lambda r: r.loss_final if not math.isnan(r.loss_final) else math.inf),
    "loss_ratio": ("loss_final / loss_initial",
                   lambda r: (r.loss_final / r.loss_initial) if math.isfinite(r.loss_final) else math.inf),
    "accuracy": ("test accuracy at the end, 0–1", lambda r: _finite(r.accuracy_final)),
    "loss_jitter": ("mean |change| of the sampled loss between successive samples in the run's second half, "
                    "as a share of the mean loss there (none with under 4 samples)", loss_jitter),
    "diverged": ("whether the engine flagged divergence (loss > 5 × initial, or not finite)",
                 lambda r: bool(r.diverged)),
    "stable": (f"not diverged and loss_final ≤ {STABLE_FRACTION:g} × loss_initial", _stable),
    "time_to_target_s": ("seconds until loss ≤ target_loss × initial (none if not reached)",
                         lambda r: r.time_to_target_s),
    "time_to_50": ("seconds until loss ≤ 50% of the initial loss (none if not reached)",
                   lambda r: time_to_fraction(r, 0.50)),
    "time_to_25": ("seconds until loss ≤ 25% of the initial loss (none if not reached)",
                   lambda r: time_to_fraction(r, 0.25)),
    "time_to_10": ("seconds until loss ≤ 10% of the initial loss (none if not reached)",
                   lambda r: time_to_fraction(r, 0.10)),
    # staleness
    "staleness_mean": ("mean τ over published updates", lambda r: r.staleness_mean),
    "staleness_max": ("largest τ seen", lambda r: r.staleness_max),
    "staleness_p50": ("median τ (from the histogram, capped at its last bin)",
                      lambda r: _quantile(r.staleness_hist, 0.5)),
    "staleness_p90": ("90th percentile of τ", lambda r: _quantile(r.staleness_hist, 0.9)),
    "staleness_zero_fraction": ("fraction of updates with τ = 0",
                                lambda r: _per(r.staleness_hist[0] if r.staleness_hist else 0, sum(r.staleness_hist))),
    # Leashed-SGD
    "cas_success": ("successful CAS on the version pointer", lambda r: _sum(r, "cas_success")),
    "cas_fail": ("failed CAS on the version pointer", lambda r: _sum(r, "cas_fail")),
    "cas_fail_per_update": ("failed CAS per published update",
                            lambda r: _per(_sum(r, "cas_fail"), r.updates) if r.config.algo == "leashed" else None),
    "cas_fail_top_thread": ("the thread that failed the most CAS (none if nobody failed)",
                            lambda r: _most_failures_of(r, lambda top, _: top.thread)),
    "cas_fail_top_share": ("the share of the failed CAS that thread took",
                           lambda r: _most_failures_of(r, lambda top, _: top.cas_fail / _sum(r, "cas_fail"))),
    "cas_fail_top_gradient_us": ("that thread's mean time per gradient, µs",
                                 lambda r: _most_failures_of(r, lambda top, _: _gradient_us([top]))),
    "cas_fail_others_gradient_us": ("the other threads' mean time per gradient, µs",
                                    lambda r: _most_failures_of(r, lambda _, others: _gradient_us(others))),
    "retried_updates": ("updates that landed only after ≥ 1 failed CAS",
                        lambda r: sum(sum(t.retry_hist[1:]) for t in r.threads)),
    "dropped": ("gradients dropped after Tp failed retries", lambda r: _sum(r, "dropped")),
    "dropped_fraction": ("dropped / gradients computed", lambda r: _per(_sum(r, "dropped"), r.gradients) or 0.0),
    # LOCK
    "freeze_held_s": ("freeze: seconds the frozen thread was held (none without freeze)",
                      lambda r: _freeze(r, "held_s")),
    "freeze_others_updates": ("freeze: updates the other threads published while it was held",
                              lambda r: _freeze(r, "updates_by_others_while_held")),
    "freeze_others_per_s": ("freeze: those updates per second of the hold", _freeze_rate),
    "delay_tau": ("delay: the τ its thread's updates were held back (none without delay)",
                  lambda r: r.config.delay[1] if r.config.delay else None),
    "delay_held_updates": ("delay: updates of the delayed thread that had to wait for τ others",
                           lambda r: r.delay["held_updates"] if r.delay else None),
    "delayed_staleness_min": ("delay: the smallest τ among the delayed thread's published updates",
                              lambda r: _delayed_thread(r).staleness_min if _delayed_thread(r) else None),
    "delayed_updates": ("delay: updates the delayed thread published",
                        lambda r: _delayed_thread(r).updates if _delayed_thread(r) else None),
    "lock_wait_s": ("seconds spent waiting for the lock, summed over threads", lambda r: _sum(r, "lock_wait_s")),
    "lock_wait_ms_per_update": ("lock wait per published update, in milliseconds",
                                lambda r: 1e3 * _sum(r, "lock_wait_s") / r.updates if r.updates else 0.0),
    "lock_wait_fraction": ("share of the threads' time spent waiting for the lock",
                           lambda r: _sum(r, "lock_wait_s") / (r.config.threads * r.wall_s) if r.wall_s else 0.0),
    # HOGWILD!
    "torn_reads": ("copies of θ during which another update was in flight (an upper bound on torn views)",
                   lambda r: _sum(r, "torn_reads")),
    "torn_fraction": ("torn_reads / gradients", lambda r: _per(_sum(r, "torn_reads"), r.gradients) or 0.0),
    "lost_sampled": ("sampled writes that overwrote another thread's write", lambda r: _sum(r, "lost_updates_sampled")),
    "sampled_writes": ("writes sampled for the lost-update count", lambda r: _sum(r, "sampled_writes")),
    "lost_fraction": ("fraction of sampled HOGWILD! writes that were lost (none for other algorithms)",
                      _lost_fraction),
    "lost_update_mass": ("Σ|θ0 + Σ applied − θ_final| (runs with audit = true)", lambda r: r.lost_update_mass),
    "written_fraction": ("HOGWILD!: coordinates written per update / parameters (dense 1; sparse: the non-zero "
                         "gradient's share)", lambda r: _per(_sum(r, "written"), r.updates * r.params)
                         if r.config.algo == "hogwild" else None),
    # SYNC
    "barrier_wait_s": ("SYNC: seconds spent waiting at the barrier, summed over threads",
                       lambda r: _sum(r, "barrier_wait_s")),
    "barrier_fraction": ("SYNC: share of the threads' time spent waiting at the barrier",
                         lambda r: _sum(r, "barrier_wait_s") / (r.config.threads * r.wall_s) if r.wall_s else 0.0),
    # the cost of sharing memory
    "grad_us_per_update": ("gradient time per gradient, µs", lambda r: 1e6 * _per(_sum(r, "grad_s"), r.gradients)
                           if r.gradients else None),
    "share_us_per_update": ("copy + publish time per published update, µs (reading and writing shared θ)",
                            lambda r: 1e6 * (_sum(r, "copy_s") + _sum(r, "publish_s")) / r.updates
                            if r.updates else None),
    "share_fraction": ("(copy + publish) / (copy + publish + gradient) time, summed over threads",
                       lambda r: _per(_sum(r, "copy_s") + _sum(r, "publish_s"),
                                      _sum(r, "copy_s") + _sum(r, "publish_s") + _sum(r, "grad_s"))),
    # step-size rules
    "step_mean": ("mean effective step as a multiple of η (lock, hogwild, leashed; 0.1 bins)",
                  lambda r: _step_mean(r)),
    "step_damped_fraction": ("share of updates applied with at most 0.5 × η", lambda r: _step_share(r, 0, 5)),
    "step_boosted_fraction": ("share of updates applied with 1.5 × η or more (TAIL-τ's fresh updates)",
                              lambda r: _step_share(r, 15, STEP_BINS - 1)),
    # memory
    "versions_peak": ("peak parameter vectors in memory (Leashed: live versions; others: m + 1)",
                      lambda r: r.versions.peak),
    "versions_bound": ("the bound on vectors (Leashed: 2m + 1; others: m + 1)", lambda r: r.versions.bound),
    "versions_live": ("vectors live at the end", lambda r: r.versions.live),
    "versions_allocated": ("versions ever allocated (Leashed: one per publish attempt)",
                           lambda r: r.versions.allocated_total),
    "memory_mb": ("peak parameter memory in MB (float32)", lambda r: r.versions.peak * r.params * 4 / 1e6),
}

GROUP_METRICS: dict[str, str] = {
    "first_unstable": "the smallest swept value whose run was not stable (none if all were)",
    "first_diverged": "the smallest swept value whose run diverged (none if none did)",
    "last_stable": "the largest swept value whose run was stable (none if none was)",
    "stable_count": "how many of the group's runs were stable",
    "unstable_count": "how many of the group's runs were not stable",
    "runs": "how many runs the group has",
    "best_loss": "the lowest loss_final in the group",
    "best_value": "the swept value with the lowest loss_final",
}

SHARING_METRICS: dict[str, str] = {  # one row of a kind = "sharing" experiment: alone, packed or padded
    "threads": "threads that incremented their own counters at once (alone: 1)",
    "ns_per_increment": "wall time per increment of one thread, in nanoseconds (the median round)",
    "increments_per_s": "all threads' increments per second of wall time (the median round)",
    "seconds": "wall seconds of the median round",
}

TAU_METRICS: dict[str, str] = {
    "tau_max": "the delay bound τ_max of this row",
    "threads": "simulated threads",
    "c": "strong convexity c of the objective",
    "max_delay": "the largest delay the schedule actually produced",
    "best_alpha": "the step size on the grid that reached ε in the fewest iterations (none if none did)",
    "best_iterations": "iterations to ε at best_alpha",
    "threshold_low": "the largest α on the grid below the divergence threshold that converged",
    "threshold_high": "the smallest α on the grid that diverged (none if none did)",
    "predicted": "the derived threshold 2/((τ+1)c) (stale-read adversary on the quadratic with noise = 0; none otherwise)",
    "matches": "whether the predicted threshold lies in (threshold_low, threshold_high]",
}


def run_metric(result, name: str):
    return RUN_METRICS[name][1](result)
