"""HOGWILD! (Niu, Recht, Ré, Wright, NIPS 2011): no locks at all (docs/papers.md §A and §C).

Each worker thread:
  1. copies θ into its private buffer component by component, with no lock: if another thread is writing
     meanwhile, the copy is *torn* (part old, part new);
  2. computes the gradient on that copy;
  3. applies θ[i] −= η·s(τ)·g[i] with plain, racy read-modify-writes: when two threads write one coordinate
     at once, one write overwrites the other and that update is *lost*. s(τ) is the step-size rule's factor
     (engine/stepsize.py; 1 without a rule).

Two write modes (docs/papers.md §C, §E):
- dense (the Leashed-SGD authors' implementation, the default): every coordinate is written, even where
  g[i] = 0 — which writes back the value read, and so can still overwrite (lose) another thread's update;
- sparse (Niu et al.): only coordinates with g[i] ≠ 0 are written. For the MLP these are W1's rows of the
  pixels present in the batch, the biases and the later layers; the rows of absent pixels are left alone.
  The copy in step 1 stays dense (the gradient needs the whole θ).

Making the races visible, with minimal perturbation:
- torn reads: a thread notes how many applies had *finished* before its copy (CLOCK) and how many had
  *started* by the end of it (APPLYING); if more had started, some update was in flight during the copy and
  the view may be torn (counted per thread). Every torn copy is counted, not every counted copy is torn
  (the update in flight may have been writing elsewhere, or, in slow motion, sleeping): an upper bound;
- lost updates: every k-th coordinate (k = P_SAMPLE_STRIDE) is written with an atomic exchange instead of a
  plain store. The value written is the same racy `old − η·g` a plain store would write, but the exchange
  returns what it replaced: if that differs from the `old` this thread read, another thread's write landed
  in between and has just been overwritten — a lost update, counted exactly on the sampled coordinates.
- with audit on, each thread also sums what it applied in float64: Σ|θ0 + Σ applied − θ_final| looks at
  every coordinate, but nets out: losses of opposite sign on one coordinate cancel, so it is a lower bound
  on the lost mass (plus float rounding), not the mass itself.
Staleness τ = t1 − t0: updates applied between the start of this thread's read and the start of its write.
Memory: one shared θ plus one private copy per thread, m + 1 vectors.
"""
from numba import njit

from teach_sgd.engine import atomics, gradient, stepsize
from teach_sgd.engine import control as ctl
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import (
    APPLYING, C_ABANDONED, C_COPY_NS, C_LOST, C_PUBLISH_NS, C_SAMPLED, C_STATE, C_TORN, C_WRITTEN, CLOCK, F_LR,
    OUTCOME_PUBLISHED, P_SAMPLE_STRIDE, P_SPARSE, P_TELEMETRY, S_COPY, S_DONE, S_PUBLISH,
)


@njit(nogil=True, cache=True)
def racy_apply(theta, g, lr, sparse):
    """θ −= lr·g with plain stores; sparse: skip the coordinates whose gradient is exactly 0.
    Returns the number of coordinates written. (`sparse` is loop-invariant: LLVM unswitches the branch, so
    the dense loop stays vectorised.)"""
    if not sparse:
        for i in range(theta.shape[0]):
            theta[i] -= lr * g[i]
        return theta.shape[0]
    written = 0
    for i in range(theta.shape[0]):
        if g[i] != 0.0:
            theta[i] -= lr * g[i]
            written += 1
    return written


@njit(nogil=True, cache=True)
def racy_apply_observed(theta, g, lr, stride, sparse):
    """The same racy update, with every `stride`-th coordinate's write observed (sparse: when that
    coordinate is written at all). Returns (lost, sampled, written)."""
    lost = 0
    sampled = 0
    written = 0
    n = theta.shape[0]
    for start in range(0, n, stride):
        if not sparse or g[start] != 0.0:
            old = theta[start]
            new = old - lr * g[start]
            if atomics.exchange(theta, start, new) != old:
                lost += 1
            sampled += 1
            written += 1
        end = min(start + stride, n)
        written += racy_apply(theta[start + 1:end], g[start + 1:end], lr, sparse)
    return lost, sampled, written


@njit(nogil=True, cache=True)
def worker(tid, control, ip, fp, kind, dims, X, y, perm, eval_rows,
           theta, local, grad, work, counters, staleness, retries, events, losslog, audit, steps, window):
    lr = fp[F_LR]
    sparse = ip[P_SPARSE] != 0
    mine = counters[tid]
    copy = local[tid]
    g = grad[tid]
    while True:
        rows = ctl.next_batch(control, ip, mine, ctl.clock(control), perm)
        if rows.shape[0] == 0:
            break

        # 1. an unsynchronised copy
        t_start = tel.clock(control, ip)
        t_copy = tel.now(ip)
        tel.set_state(mine, C_STATE, S_COPY)
        t0 = atomics.load(control, CLOCK)
        copy[:] = theta
        torn = 1 if atomics.load(control, APPLYING) > t0 else 0
        if torn:
            tel.bump(mine, C_TORN, 1)

        tel.bump(mine, C_COPY_NS, tel.now(ip) - t_copy)

        # 2. the gradient on whatever was read
        if not gradient.compute(control, ip, fp, kind, dims, copy, X, y, rows, eval_rows, g, work[tid], mine,
                                losslog):
            break
        t_apply = tel.now(ip)
        slow_from = ctl.window_start(control)
        lost = 0

        # 3. racy in-place writes, then count the update as applied. The apply ticket also keeps the
        # update budget exact: only tickets 0 … N − 1 may write.
        tel.set_state(mine, C_STATE, S_PUBLISH)
        t1 = atomics.load(control, CLOCK)
        ticket = atomics.fetch_add(control, APPLYING, 1)
        if ctl.budget_reached(ip, ticket):
            tel.bump(mine, C_ABANDONED, 1)
            break
        scale = stepsize.factor(control, ip, fp, window, t1 - t0)
        if ip[P_TELEMETRY] != 0:
            lost, sampled, written = racy_apply_observed(theta, g, lr * scale, ip[P_SAMPLE_STRIDE], sparse)
            tel.bump(mine, C_LOST, lost)
            tel.bump(mine, C_SAMPLED, sampled)
        else:
            written = racy_apply(theta, g, lr * scale, sparse)
        # slow motion: the publish window, stretched while the update is in flight (APPLYING counts it, CLOCK
        # not yet), which is what a concurrent read sees as a possibly torn view (engine/control.py)
        ctl.stretch_window(control, slow_from)
        atomics.fetch_add(control, CLOCK, 1)
        tel.bump(mine, C_PUBLISH_NS, tel.now(ip) - t_apply)
        tel.bump(mine, C_WRITTEN, written)

        tel.record_update(ip, mine, staleness[tid], retries[tid], t1 - t0, 0)
        tel.record_event(control, ip, events, tid, t0, t1, 1, OUTCOME_PUBLISHED, t_start, 0, lost, torn)
        tel.audit_applied(ip, audit[tid], g, lr * scale)
        stepsize.applied(control, ip, window, steps[tid], ticket, t1 - t0, scale)
    tel.set_state(mine, C_STATE, S_DONE)
