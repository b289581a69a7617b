"""SEQ: plain sequential SGD on one thread, θ ← θ − η·g (docs/papers.md §A).

The baseline every parallel algorithm is measured against. The gradient is computed on θ itself, so one
vector exists; staleness is 0 by definition, so no step-size rule applies. With a fixed seed a run is
bit-for-bit reproducible: the batch order comes from the seeded permutation and nothing else varies.
Protocol points (engine/phase.py): start → computed → applied.
"""
from numba import njit

from teach_sgd.engine import atomics, gradient, phase, stepsize
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import C_STATE, CLOCK, F_LR, OUTCOME_PUBLISHED, PT_APPLIED, S_DONE, S_GRADIENT, S_IDLE, S_PUBLISH
from teach_sgd.models import support_width


@njit(nogil=True, cache=True)
def worker(sh, data, logs, model, me):
    theta, lr = model.theta, sh.fp[F_LR]
    width = support_width(data.kind, data.dims)
    while True:
        rows = phase.begin(sh, data, me, -1, S_GRADIENT)
        if rows.shape[0] == 0:
            break
        if not gradient.compute(sh, data, logs, me, theta, rows, S_PUBLISH):
            break
        t = atomics.load(sh.control, CLOCK)
        apply(theta, me.grad, lr, me.support, width)
        phase.at(sh, me, PT_APPLIED, S_IDLE)
        atomics.store(sh.control, CLOCK, t + 1)
        tel.record_update(sh, me, 0, 0)
        tel.record_event(sh, logs, me, OUTCOME_PUBLISHED, t_read=t, t_applied=t)
        tel.audit_applied(sh, me, me.grad, lr)
    tel.set_state(me.counters, C_STATE, S_DONE)


@njit(nogil=True, cache=True)
def apply(theta, g, lr, support, width):
    """θ ← θ − lr·g: a whole update, by the one thread allowed to write (SEQ, and LOCK under its lock).
    In float32, like θ and g (stepsize.applied_step). The rows g's support flags 0 are skipped: g is 0 there
    (gradient.py), and they were 47% of the MLP's W1 rows in MNIST batches of 16, the apply then 6.3 µs
    instead of 8.7–10.1 (benchmarks/README.md, 2026-12-05)."""
    step = stepsize.applied_step(lr)
    k = 0
    while k < len(support):
        end = gradient.run_end(support, k)
        if support[k]:
            subtract(theta[k * width:end * width], g[k * width:end * width], step)
        k = end
    rest = len(support) * width
    subtract(theta[rest:], g[rest:], step)


@njit(nogil=True, cache=True)
def subtract(theta, g, step):
    for i in range(theta.shape[0]):
        theta[i] -= step * g[i]


@njit(nogil=True, cache=True)
def copy(dst, src):
    """dst ← src (LOCK's and HOGWILD!'s private copy of θ). A plain loop: numba's `dst[:] = src` allows for
    overlapping arrays (it checks their ranges and picks each element's source at run time), and it took 27 µs
    for the MLP's θ against 10.4 µs for this loop (benchmarks/README.md, 2026-12-05)."""
    for i in range(dst.shape[0]):
        dst[i] = src[i]
