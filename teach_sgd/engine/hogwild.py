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
- lost updates: a sample of the coordinates is written with an atomic exchange instead of a plain store.
  The value written is the same racy `old − η·g` a plain store would write, but the exchange returns what it
  replaced: if that differs from the `old` this thread read, another thread's write landed in between and
  has just been overwritten — a lost update, counted exactly on the sampled coordinates. The sample is whole
  cache lines: θ is cut into lines of SAMPLE_LINE = 16 coordinates (64 bytes; θ starts on a line boundary),
  and the update with apply ticket t observes every k-th line (k = P_SAMPLE_STRIDE) starting at line
  t mod k, so consecutive updates observe different lines and every coordinate is observed in turn. Why
  lines and not every k-th coordinate: an exchange is a locked instruction, which waits until every store
  before it has its cache line and then fetches its own line exclusively — up to one cross-core round trip
  (60–330 ns here) each, where plain stores overlap theirs. One exchange per line pays that round trip per
  sampled coordinate; sixteen in a line pay it once per line (benchmarks/README.md, telemetry).
  At full speed the count is a lower bound: a plain store waits in the store buffer, often for a cross-core
  round trip, and another thread's write can land between its read and the moment it reaches memory; the
  exchange reads and writes in one instruction, so on the observed coordinates that window nearly closes.
  Two threads applying back to back lost 0.004–0.02% of all their writes, and the sample counted almost
  none (benchmarks/lost_sample.py, ground truth). With slow motion or a breakpoint at "writing" the read and the write
  are apart (two passes, below) and the exchange sees every write that lands in between;
- with audit on, each thread also sums what it applied in float64: Σ|θ0 + Σ applied − θ_final| looks at
  every coordinate, but nets out: losses of opposite sign on one coordinate cancel, so it is a lower bound
  on the lost mass (plus float rounding), not the mass itself.
Staleness τ = t1 − t0: updates applied between the start of this thread's read and the start of its write.
Memory: one shared θ plus one private copy per thread, m + 1 vectors.

Protocol points (engine/phase.py): start → read → computed → writing → counted. At "writing" the thread has
read the coordinates it updates and not yet written them: at full speed that window is a few nanoseconds per
coordinate, inside one fused loop. When slow motion is on, or a breakpoint waits at "writing", the update is
done in two passes instead — read every coordinate it writes into the private buffer (no longer needed once
g is computed), pass the point (stretched, or held), then write old − η·g — so the window in which another
update is lost is really open, as long as the learner wants.

Memory ordering (argued for ARM, where loads may be satisfied out of order and stores become visible out of
order; x86 needs none of the fences but pays nothing for them):
- the torn-read check: t0 = CLOCK (acquire: the copy's loads come after it), the copy, an acquire fence
  (the copy's loads are done before the next load), APPLYING. An apply takes its ticket (APPLYING + 1) and
  then issues a release fence before writing θ, so a copy that read any of its writes is followed by a load
  of APPLYING that sees the ticket: the tear is counted;
- the apply: ticket, release fence, racy writes, CLOCK + 1 (sequentially consistent, so the writes are
  visible before CLOCK says the update is done).
"""
from numba import njit

from teach_sgd.engine import atomics, gradient, phase, seq, stepsize
from teach_sgd.engine import control as ctl
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import (
    APPLYING, C_ABANDONED, C_LOST, C_SAMPLED, C_STATE, C_TORN, C_WRITTEN, CLOCK, F_LR, H_WORD,
    OUTCOME_PUBLISHED, P_SAMPLE_STRIDE, P_SPARSE, P_TELEMETRY, PT_COUNTED, PT_READ,
    PT_WRITING, S_COPY, S_DONE, S_GRADIENT, S_IDLE, S_PUBLISH, SAMPLE_LINE,
)


@njit(nogil=True, cache=True)
def worker(sh, data, logs, model, me):
    theta, copy, g = model.theta, me.local, me.grad
    while True:
        rows = phase.begin(sh, data, me, -1, S_COPY)
        if rows.shape[0] == 0:
            break
        t0, torn = unsynchronised_copy(sh, me, theta, copy)                                # 1.
        phase.at(sh, me, PT_READ, S_GRADIENT)
        if not gradient.compute(sh, data, logs, me, copy, rows, S_PUBLISH):               # 2.
            break
        if not phase.delayed(sh, me, t0):  # the delay adversary holds only its own thread here
            tel.bump(me.counters, C_ABANDONED, 1)
            break
        # 3. racy writes, then count the update as applied. The apply ticket also keeps the update budget
        # exact: only tickets 0 … N − 1 may write.
        t1 = atomics.load(sh.control, CLOCK)
        ticket = atomics.fetch_add(sh.control, APPLYING, 1)
        if ctl.budget_reached(sh.ip, ticket):
            tel.bump(me.counters, C_ABANDONED, 1)
            break
        atomics.fence_release()  # the ticket is visible before any write below (the torn-read check)
        scale = stepsize.factor(sh, logs, t1 - t0)
        lost = racy_update(sh, me, theta, copy, g, sh.fp[F_LR] * scale, ticket)
        atomics.fetch_add(sh.control, CLOCK, 1)
        phase.at(sh, me, PT_COUNTED, S_IDLE)
        tel.record_update(sh, me, t1 - t0, 0)
        tel.record_event(sh, logs, me, OUTCOME_PUBLISHED, t_read=t0, t_applied=t1, lost=lost, torn=torn)
        tel.audit_applied(sh, me, g, sh.fp[F_LR] * scale)
        stepsize.applied(sh, logs, me, ticket, t1 - t0, scale)
    tel.set_state(me.counters, C_STATE, S_DONE)


@njit(nogil=True, cache=True)
def unsynchronised_copy(sh, me, theta, copy):
    """Step 1: copy θ with no lock. Returns (t0, torn): the updates applied before the copy began, and 1 if
    an apply overlapped the copy (the view may be torn; counted). Orderings: see the module doc."""
    t0 = atomics.load(sh.control, CLOCK)
    seq.copy(copy, theta)
    atomics.fence_acquire()
    torn = 1 if atomics.load(sh.control, APPLYING) > t0 else 0
    if torn:
        tel.bump(me.counters, C_TORN, 1)
    return t0, torn


@njit(nogil=True, cache=True)
def racy_update(sh, me, theta, buf, g, lr, ticket):
    """Step 3's writes, θ −= lr·g with no lock, passing the point "writing" between reading and writing the
    coordinates. Returns the lost writes seen on the sampled coordinates (the lines this ticket observes)."""
    sparse = sh.ip[P_SPARSE] != 0
    observed = sh.ip[P_TELEMETRY] != 0
    stride = sh.ip[P_SAMPLE_STRIDE]
    first = ticket % stride
    if not ctl.stretching(sh.control) and atomics.load(me.hold, H_WORD) == 0:
        phase.at(sh, me, PT_WRITING, S_PUBLISH)  # one fused loop: the read-to-write window is nanoseconds
        if observed:
            lost, sampled, written = racy_apply_observed(theta, g, lr, stride, first, sparse)
        else:
            lost, sampled, written = 0, 0, racy_apply(theta, g, lr, sparse)
    else:
        read_coordinates(theta, g, buf, sparse)
        phase.at(sh, me, PT_WRITING, S_PUBLISH)  # the window is open: stretched, or held here
        lost, sampled, written = write_coordinates(theta, g, buf, lr, stride if observed else 0, first, sparse)
    if observed:
        tel.bump(me.counters, C_LOST, lost)
        tel.bump(me.counters, C_SAMPLED, sampled)
    tel.bump(me.counters, C_WRITTEN, written)
    return lost


@njit(nogil=True, cache=True)
def racy_apply(theta, g, lr, sparse):
    """θ −= lr·g with plain stores; sparse: skip the coordinates whose gradient is exactly 0.
    Returns the number of coordinates written. (`sparse` is loop-invariant: LLVM unswitches the branch, so
    the dense loop stays vectorised.) In float32, like θ and g (stepsize.applied_step)."""
    step = stepsize.applied_step(lr)
    if not sparse:
        for i in range(theta.shape[0]):
            theta[i] -= step * g[i]
        return theta.shape[0]
    written = 0
    for i in range(theta.shape[0]):
        if g[i] != 0.0:
            theta[i] -= step * g[i]
            written += 1
    return written


@njit(nogil=True, cache=True)
def is_observed(i, stride, first):
    """Whether coordinate i's write is observed: it lies in line first, first + stride, first + 2·stride, …"""
    return stride > 0 and (i // SAMPLE_LINE) % stride == first


@njit(nogil=True, cache=True)
def racy_apply_observed(theta, g, lr, stride, first, sparse):
    """The same racy update, with the coordinates of every `stride`-th line from line `first` on written by
    exchange (sparse: those of them that are written at all); plain stores in between. Returns (lost,
    sampled, written)."""
    step = stepsize.applied_step(lr)
    lost = 0
    sampled = 0
    written = 0
    n = theta.shape[0]
    done = 0  # coordinates [0, done) are written
    for start in range(first * SAMPLE_LINE, n, stride * SAMPLE_LINE):
        written += racy_apply(theta[done:start], g[done:start], lr, sparse)
        done = min(start + SAMPLE_LINE, n)
        for i in range(start, done):
            if not sparse or g[i] != 0.0:
                old = theta[i]
                if atomics.exchange(theta, i, old - step * g[i]) != old:
                    lost += 1
                sampled += 1
                written += 1
    written += racy_apply(theta[done:], g[done:], lr, sparse)
    return lost, sampled, written


@njit(nogil=True, cache=True)
def read_coordinates(theta, g, buf, sparse):
    """The read pass of a two-pass update: buf[i] = θ[i] for every coordinate the update writes."""
    for i in range(theta.shape[0]):
        if not sparse or g[i] != 0.0:
            buf[i] = theta[i]


@njit(nogil=True, cache=True)
def write_coordinates(theta, g, buf, lr, stride, first, sparse):
    """The write pass: θ[i] = buf[i] − lr·g[i], the value read in the read pass minus the step. The observed
    coordinates (`is_observed`; stride 0: none) are written with an exchange; a value replaced that is not the
    one read means another thread wrote it in between: that write is now lost. Returns (lost, sampled,
    written)."""
    step = stepsize.applied_step(lr)
    lost = 0
    sampled = 0
    written = 0
    for i in range(theta.shape[0]):
        if sparse and g[i] == 0.0:
            continue
        new = buf[i] - step * g[i]
        if is_observed(i, stride, first):
            if atomics.exchange(theta, i, new) != buf[i]:
                lost += 1
            sampled += 1
        else:
            theta[i] = new
        written += 1
    return lost, sampled, written
