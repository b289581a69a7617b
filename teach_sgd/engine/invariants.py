"""What every run must satisfy, whatever the interleaving: the algorithms' invariants as one checkable list.

    violations(result)   # [] for a correct engine; each entry says which invariant broke and by how much

Thread interleavings are never reproducible, so the tests and benchmarks/stress.py check these on many
randomized runs instead of expecting any particular number. Each invariant follows from the algorithm:
- conservation: every published update is counted once per thread, once in the staleness histogram and
  once in the retry histogram; an --updates budget is met exactly;
- Leashed-SGD: each published update is one successful CAS; every gradient ends published, dropped (after
  Tp failed retries) or abandoned (the run ended); Tp = ∞ never drops, Tp = 0 never retries; a candidate
  version is claimed once per attempt, so versions ever built = θ0 + successful + failed CAS; at most 2m + 1
  versions were ever live, and exactly one (the latest) is left at the end;
- consistency (LOCK, Leashed-SGD, SEQ, with audit on): θ_final = θ0 + the sum of the published updates, up
  to float32 rounding — no update is lost;
- HOGWILD!: an observed write can be lost at most once, so lost ≤ observed.
"""
from __future__ import annotations

from teach_sgd.engine.result import RunResult
from teach_sgd.settings import bound_text

AUDIT_TOLERANCE = 1e-5  # mean |θ_final − (θ0 + Σ updates)| per parameter: float32 rounding of the sequential sums


def violations(r: RunResult) -> list[str]:
    """Every invariant `r` breaks. A run a stop ended without its starved workers (r.left_running) is a snapshot
    of a run in motion, not an ended one: it has none to check."""
    c = r.config
    out: list[str] = []
    if r.left_running:
        return out

    def check(ok: bool, what: str) -> None:
        if not ok:
            out.append(f"{c.algo} ×{c.threads} (Tp={bound_text(c.persistence)}, seed {c.seed}): {what}")

    threads = r.threads
    published = sum(t.updates for t in threads)
    check(len(threads) == c.threads, f"{len(threads)} thread rows for {c.threads} threads")
    check(r.updates == published, f"{r.updates} published but the threads count {published}")
    check(sum(r.staleness_hist) == published, f"staleness histogram holds {sum(r.staleness_hist)} of {published}")
    for t in threads:
        check(sum(t.retry_hist) == t.updates, f"thread {t.thread}: retry histogram {sum(t.retry_hist)} ≠ {t.updates}")
        check(t.updates <= t.gradients, f"thread {t.thread}: {t.updates} updates from {t.gradients} gradients")
    check(r.staleness_max == max((t.staleness_max for t in threads), default=0), "staleness max ≠ the threads' max")
    if c.updates is not None and r.status in ("finished", "collapsed"):
        check(r.updates == c.updates, f"budget {c.updates} but {r.updates} published")
    check(r.diverged or r.loss_final == r.loss_final, "a finite run ended with a NaN loss")

    if c.algo == "leashed":
        fails = sum(t.cas_fail for t in threads)
        dropped = sum(t.dropped for t in threads)
        abandoned = sum(t.abandoned for t in threads)
        check(sum(t.cas_success for t in threads) == published, "successful CAS ≠ published updates")
        check(published + dropped + abandoned == r.gradients,
              f"{published} published + {dropped} dropped + {abandoned} abandoned ≠ {r.gradients} gradients")
        if c.persistence is None:
            check(dropped == 0, f"Tp = ∞ dropped {dropped}")
        if c.persistence == 0:
            check(all(t.cas_fail == t.dropped for t in threads), "Tp = 0 retried a failed CAS")
        check(r.versions.allocated_total == published + fails + 1,
              f"{r.versions.allocated_total} versions built, not θ0 + {published} + {fails} failed")
        check(r.versions.peak <= r.versions.bound == 2 * c.threads + 1,
              f"peak {r.versions.peak} live versions, bound {r.versions.bound}")
        check(r.versions.live == 1, f"{r.versions.live} versions left at the end, not 1")
    else:
        check(all(t.cas_success == t.cas_fail == t.dropped == 0 for t in threads), "CAS counts outside Leashed-SGD")
    if c.algo == "hogwild":
        for t in threads:
            check(t.lost_updates_sampled <= t.sampled_writes,
                  f"thread {t.thread}: {t.lost_updates_sampled} lost of {t.sampled_writes} observed")
    elif r.lost_update_mass is not None and not r.diverged:
        per_param = r.lost_update_mass / r.params
        check(per_param < AUDIT_TOLERANCE, f"lost-update mass {per_param:.2e} per parameter in a consistent algorithm")
    return out
