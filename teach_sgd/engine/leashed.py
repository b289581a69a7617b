"""Leashed-SGD (Bäckström, Walulya, Papatriantafilou, Tsigas, IPDPS 2021): lock-free *and* consistent.

Every update publishes a new, immutable parameter version by compare-and-swap on one shared pointer P.
Each worker thread runs `worker` (docs/papers.md §A, "Leashed-SGD, step by step"):

  1. acquire the latest version p, remember t0 = p.t, compute the gradient g on p.θ in place
     (published versions are immutable, so no copy is needed), release p;
  2. acquire the latest version p again (t1 = p.t), claim a free slot q, q.θ = p.θ − η·s(τ)·g,
     q.t = t1 + 1, release p. s(τ) is the step-size rule's factor for τ = t1 − t0 (engine/stepsize.py; 1
     without a rule): each attempt knows its own τ, so a retry on a newer version is scaled again;
  3. CAS(P, p, q). Success: p is replaced (P's reference to it is dropped, which frees it once its last
     reader leaves); record staleness τ = t1 − t0 and the number of failed attempts. Failure: free q,
     count a failed CAS, and retry step 2 with the *same* g on the newer version;
  4. after Tp failed retries, drop g (Tp = 0: one attempt only; Tp = ∞: retry until success).

Every computed gradient ends published, dropped (after Tp failed retries), or abandoned (the run ended —
stop, or the update budget used up — before it could be published), so
published + dropped + abandoned = gradients computed.
Memory reclamation and the ABA argument: engine/versions.py.
"""
from numba import njit

from teach_sgd.engine import atomics, gradient, stepsize
from teach_sgd.engine import control as ctl
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import (
    C_ABANDONED, C_CAS_FAIL, C_CAS_OK, C_COPY_NS, C_DROPPED, C_PUBLISH_NS, C_STATE, CLOCK, F_LR, OUTCOME_CAS_FAILED,
    OUTCOME_DROPPED,
    OUTCOME_ABANDONED, OUTCOME_PUBLISHED, P_PERSISTENCE, S_COPY, S_DONE, S_PUBLISH,
)
from teach_sgd.engine.versions import NONE, acquire, claim, publish, release, seq_of, slot_of

PUBLISHED = 0
CAS_FAILED = 1
STOPPED = 2


@njit(nogil=True, cache=True, inline="always")  # see gradient.compute
def compute_gradient(control, ip, fp, kind, dims, X, y, rows, eval_rows, slab, rc, g, work, mine, losslog):
    """Step 1. Returns (t0, finite): the version the gradient was computed on (NONE if the run stopped),
    and whether the loss was finite."""
    word = acquire(control, rc)
    if word == NONE:
        return NONE, False
    p = slot_of(word)
    finite = gradient.compute(control, ip, fp, kind, dims, slab[p], X, y, rows, eval_rows, g, work, mine, losslog)
    release(control, rc, p)
    return seq_of(word), finite


@njit(nogil=True, cache=True)
def try_publish(tid, control, ip, fp, window, t0, slab, rc, g, mine):
    """Steps 2–3, one attempt. Returns (outcome, t1, scale): t1 is the version the update was applied to,
    scale the step-size factor it was applied with."""
    t_copy = tel.now(ip)
    slow_from = ctl.window_start(control)
    tel.set_state(mine, C_STATE, S_COPY)
    word = acquire(control, rc)
    if word == NONE:
        return STOPPED, 0, 1.0
    p = slot_of(word)
    t1 = seq_of(word)
    if ctl.budget_reached(ip, t1):  # the last update of the budget has been published meanwhile
        release(control, rc, p)
        return STOPPED, t1, 1.0
    q = claim(control, rc, 2 * tid)
    if q == NONE:
        release(control, rc, p)
        return STOPPED, t1, 1.0
    scale = stepsize.factor(control, ip, fp, window, t1 - t0)
    step = fp[F_LR] * scale
    new = slab[q]
    old = slab[p]
    for i in range(new.shape[0]):
        new[i] = old[i] - step * g[i]
    release(control, rc, p)
    ctl.stretch_window(control, slow_from)  # slow motion: the publish window, up to the CAS (engine/control.py)
    t_publish = tel.now(ip)
    tel.bump(mine, C_COPY_NS, t_publish - t_copy)
    tel.set_state(mine, C_STATE, S_PUBLISH)
    # The CAS is sequentially consistent, so every write to q's parameters above is visible to any
    # thread that later reads P and finds q.
    if publish(control, word, t1 + 1, q):
        release(control, rc, p)  # P's own reference to the version it no longer points to
        outcome = PUBLISHED
    else:
        release(control, rc, q)  # never published: free the candidate
        outcome = CAS_FAILED
    tel.bump(mine, C_PUBLISH_NS, tel.now(ip) - t_publish)
    return outcome, t1, scale


@njit(nogil=True, cache=True)
def publish_with_retries(tid, control, ip, fp, window, t0, slab, rc, g, mine, events, t_start):
    """Steps 2–4: publish g, retrying on a failed CAS at most Tp times; every failed attempt is an event.
    Returns (outcome, t1, failures, scale): CAS_FAILED here means the gradient is dropped."""
    persistence = ip[P_PERSISTENCE]  # -1 = ∞
    failures = 0
    while True:
        outcome, t1, scale = try_publish(tid, control, ip, fp, window, t0, slab, rc, g, mine)
        if outcome != CAS_FAILED:
            return outcome, t1, failures, scale
        failures += 1
        tel.bump(mine, C_CAS_FAIL, 1)
        tel.record_event(control, ip, events, tid, t0, t1, failures, OUTCOME_CAS_FAILED, t_start, 0, 0, 0)
        if persistence >= 0 and failures > persistence:
            return CAS_FAILED, t1, failures, scale


@njit(nogil=True, cache=True)
def worker(tid, control, ip, fp, kind, dims, X, y, perm, eval_rows,
           slab, rc, grad, work, counters, staleness, retries, events, losslog, audit, steps, window):
    lr = fp[F_LR]
    mine = counters[tid]
    g = grad[tid]
    while True:
        rows = ctl.next_batch(control, ip, mine, seq_of(atomics.load(control, CLOCK)), perm)
        if rows.shape[0] == 0:
            break
        t_start = tel.clock(control, ip)
        t0, finite = compute_gradient(control, ip, fp, kind, dims, X, y, rows, eval_rows, slab, rc, g,
                                      work[tid], mine, losslog)
        if t0 == NONE:
            break
        if finite:
            outcome, t1, failures, scale = publish_with_retries(tid, control, ip, fp, window, t0, slab, rc, g,
                                                                mine, events, t_start)
        else:  # a non-finite loss: the run is stopping as diverged
            outcome, t1, failures, scale = STOPPED, t0, 0, 1.0
        if outcome == PUBLISHED:
            tel.bump(mine, C_CAS_OK, 1)
            tel.record_update(ip, mine, staleness[tid], retries[tid], t1 - t0, failures)
            tel.record_event(control, ip, events, tid, t0, t1, failures + 1, OUTCOME_PUBLISHED, t_start, 0, 0, 0)
            tel.audit_applied(ip, audit[tid], g, lr * scale)
            stepsize.applied(control, ip, window, steps[tid], t1, t1 - t0, scale)
        elif outcome == CAS_FAILED:
            tel.bump(mine, C_DROPPED, 1)
            tel.record_event(control, ip, events, tid, t0, t1, failures, OUTCOME_DROPPED, t_start, 0, 0, 0)
        else:
            tel.bump(mine, C_ABANDONED, 1)
            tel.record_event(control, ip, events, tid, t0, t1, failures, OUTCOME_ABANDONED, t_start, 0, 0, 0)
    tel.set_state(mine, C_STATE, S_DONE)
