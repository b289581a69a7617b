"""Delay: what τ_max bounds, and the rule that lets a scheduler keep the bound.

Definition used everywhere in teach_sgd.sim:

    An iteration starts with its thread's first instruction (READ x[0], or READ_POINTER) and completes with
    the instruction that makes its whole update visible (the last FAA or STORE, or a successful CAS).
    It is *in flight* in between. Its **delay** is the number of other iterations that completed while it
    was in flight. A schedule respects τ_max iff every iteration's delay is ≤ τ_max.

In Leashed mode this is exactly Leashed-SGD's staleness (docs/papers.md §A), τ = t1 − t0: every completion is one publish.
A dropped Leashed gradient ends its iteration without completing it, so it delays nobody.

The leash. A τ_max-bounded scheduler must refuse a step *before* a violation becomes unavoidable, not when it
happens: once two in-flight iterations both have delay τ_max, whichever completes first pushes the other past
τ_max. Give every in-flight iteration its remaining budget b = τ_max − delay. A completion costs every other
in-flight iteration one unit, so the in-flight iterations can all still complete within their budgets iff,
sorted ascending, the k-th smallest budget (k = 0, 1, …) is ≥ k: complete them least-budget first, and each
completion finds the rest still ≥ 0; conversely, among the k+1 least-budget ones, the last to complete pays
for the other k. Only two kinds of step change the budgets or the set they belong to:
    - starting an iteration adds a budget τ_max (the largest possible, so it sorts last);
    - completing one removes it and takes 1 from each other.
(A dropped Leashed gradient only removes a budget, which never breaks the invariant.)
`keeps_bound` is the invariant; a machine with a leash allows exactly the steps that preserve it. For a start
that is simply "at most τ_max + 1 iterations in flight afterwards", as the new budget sorts last. Some step is
always allowed: a step that neither starts nor completes, else a start if fewer than τ_max + 1 are in flight,
else (everyone in flight is about to complete) the least-budget completion, which preserves the invariant by
the argument above. So a leashed machine never deadlocks and never lets a delay exceed τ_max.
"""
from __future__ import annotations

from collections.abc import Iterable


def keeps_bound(budgets: Iterable[int]) -> bool:
    """True iff in-flight iterations with these remaining budgets can all complete within them."""
    return all(b >= k for k, b in enumerate(sorted(budgets)))


DEFINITION = ("An iteration is in flight from its thread's first instruction to the one that makes its whole update "
              "visible (last FAA or STORE, or successful CAS); its delay is the number of other iterations that "
              "completed while it was in flight. A schedule respects tau_max iff every delay is <= tau_max.")
