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
Protocol points (engine/phase.py): start → read → computed → cas (→ retry → cas …).
Memory reclamation and the ABA argument: engine/versions.py.
"""
from numba import njit

from teach_sgd.engine import gradient, phase, seq, stepsize
from teach_sgd.engine import control as ctl
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import (
    C_ABANDONED, C_CAS_FAIL, C_CAS_OK, C_DROPPED, C_STATE, F_LR, OUTCOME_ABANDONED, OUTCOME_CAS_FAILED,
    OUTCOME_DROPPED, OUTCOME_PUBLISHED, P_PERSISTENCE, PT_CAS, PT_READ, PT_RETRY, S_COPY, S_DONE, S_GRADIENT,
    S_PUBLISH,
)
from teach_sgd.engine.versions import NONE, acquire, claim, publish, release, seq_of, slot_of
from teach_sgd.models import support_width

PUBLISHED = 0
CAS_FAILED = 1
STOPPED = 2


@njit(nogil=True, cache=True)
def worker(sh, data, logs, model, me):
    width = support_width(data.kind, data.dims)
    while True:
        rows = phase.begin(sh, data, me, -1, S_GRADIENT)
        if rows.shape[0] == 0:
            break
        t0, finite = compute_gradient(sh, data, logs, model, me, rows)                 # step 1
        if t0 == NONE:
            break
        if finite and phase.delayed(sh, me, t0):  # the delay adversary holds only its own thread here
            outcome, t1, failures, scale = publish_with_retries(sh, logs, model, me, t0, width)  # steps 2–4
        else:  # a non-finite loss (the run is stopping as diverged), or the run ended while delayed
            outcome, t1, failures, scale = STOPPED, t0, 0, 1.0
        if outcome == PUBLISHED:
            tel.bump(me.counters, C_CAS_OK, 1)
            tel.record_update(sh, me, t1 - t0, failures)
            tel.record_event(sh, logs, me, OUTCOME_PUBLISHED, t_read=t0, t_applied=t1, attempts=failures + 1)
            tel.audit_applied(sh, me, me.grad, sh.fp[F_LR] * scale)
            stepsize.applied(sh, logs, me, t1, t1 - t0, scale)
        elif outcome == CAS_FAILED:
            tel.bump(me.counters, C_DROPPED, 1)
            tel.record_event(sh, logs, me, OUTCOME_DROPPED, t_read=t0, t_applied=t1, attempts=failures)
        else:
            tel.bump(me.counters, C_ABANDONED, 1)
            tel.record_event(sh, logs, me, OUTCOME_ABANDONED, t_read=t0, t_applied=t1, attempts=failures)
    tel.set_state(me.counters, C_STATE, S_DONE)


@njit(nogil=True, cache=True, inline="always")  # see gradient.compute
def compute_gradient(sh, data, logs, model, me, rows):
    """Step 1. Returns (t0, finite): the version the gradient was computed on (NONE if the run stopped),
    and whether the loss was finite."""
    word = acquire(sh.control, model.rc)
    if word == NONE:
        return NONE, False
    p = slot_of(word)
    phase.at(sh, me, PT_READ, S_GRADIENT)
    finite = gradient.compute(sh, data, logs, me, model.slab[p], rows, S_COPY)
    release(sh.control, model.rc, p)
    return seq_of(word), finite


@njit(nogil=True, cache=True)
def publish_with_retries(sh, logs, model, me, t0, width):
    """Steps 2–4: publish g, retrying on a failed CAS at most Tp times; every failed attempt is an event.
    Returns (outcome, t1, failures, scale): CAS_FAILED here means the gradient is dropped."""
    persistence = sh.ip[P_PERSISTENCE]  # -1 = ∞
    failures = 0
    while True:
        outcome, t1, scale = try_publish(sh, logs, model, me, t0, width)
        if outcome != CAS_FAILED:
            return outcome, t1, failures, scale
        failures += 1
        tel.bump(me.counters, C_CAS_FAIL, 1)
        tel.record_event(sh, logs, me, OUTCOME_CAS_FAILED, t_read=t0, t_applied=t1, attempts=failures)
        if persistence >= 0 and failures > persistence:
            return CAS_FAILED, t1, failures, scale
        phase.at(sh, me, PT_RETRY, S_COPY)


@njit(nogil=True, cache=True)
def try_publish(sh, logs, model, me, t0, width):
    """Steps 2–3, one attempt. Returns (outcome, t1, scale): t1 is the version the update was applied to,
    scale the step-size factor it was applied with."""
    control, rc = sh.control, model.rc
    word = acquire(control, rc)
    if word == NONE:
        return STOPPED, 0, 1.0
    p = slot_of(word)
    t1 = seq_of(word)
    if ctl.budget_reached(sh.ip, t1):  # the last update of the budget has been published meanwhile
        release(control, rc, p)
        return STOPPED, t1, 1.0
    q = claim(control, rc, 2 * me.tid)
    if q == NONE:
        release(control, rc, p)
        return STOPPED, t1, 1.0
    scale = stepsize.factor(sh, logs, t1 - t0)
    step = stepsize.applied_step(sh.fp[F_LR] * scale)
    new_version(model.slab[q], model.slab[p], me.grad, step, me.support, width)
    release(control, rc, p)
    phase.at(sh, me, PT_CAS, S_PUBLISH)  # slow motion stretches the window from reading P to here
    # The CAS is sequentially consistent, so every write to q's parameters above is visible to any
    # thread that later reads P and finds q.
    if publish(control, word, t1 + 1, q):
        release(control, rc, p)  # P's own reference to the version it no longer points to
        return PUBLISHED, t1, scale
    release(control, rc, q)  # never published: free the candidate
    return CAS_FAILED, t1, scale


@njit(nogil=True, cache=True)
def new_version(new, old, g, step, support, width):
    """new ← old − step·g, the candidate version of step 2. The rows g's support flags 0 are copied: g is 0
    there (engine/gradient.py), and a copy reads two vectors' worth less than an apply."""
    k = 0
    while k < len(support):
        end = gradient.run_end(support, k)
        lo, hi = k * width, end * width
        if support[k]:
            subtracted(new[lo:hi], old[lo:hi], g[lo:hi], step)
        else:
            seq.copy(new[lo:hi], old[lo:hi])
        k = end
    rest = len(support) * width
    subtracted(new[rest:], old[rest:], g[rest:], step)


@njit(nogil=True, cache=True)
def subtracted(new, old, g, step):
    for i in range(new.shape[0]):
        new[i] = old[i] - step * g[i]
