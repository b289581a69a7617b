"""SEQ: plain sequential SGD on one thread, θ ← θ − η·g (docs/papers.md §A).

The baseline every parallel algorithm is measured against. The gradient is computed on θ itself, so one
vector exists; staleness is 0 by definition, so no step-size rule applies (`steps` and `window` are only
part of the signature every kernel shares). With a fixed seed a run is bit-for-bit reproducible: the batch
order comes from the seeded permutation and nothing else varies.
"""
from numba import njit

from teach_sgd.engine import atomics, gradient
from teach_sgd.engine import control as ctl
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import C_PUBLISH_NS, C_STATE, CLOCK, F_LR, OUTCOME_PUBLISHED, S_DONE, S_PUBLISH


@njit(nogil=True, cache=True)
def worker(tid, control, ip, fp, kind, dims, X, y, perm, eval_rows,
           theta, grad, work, counters, staleness, retries, events, losslog, audit, steps, window):
    lr = fp[F_LR]
    mine = counters[tid]
    g = grad[tid]
    while True:
        rows = ctl.next_batch(control, ip, mine, ctl.clock(control), perm)
        if rows.shape[0] == 0:
            break
        t_start = tel.clock(control, ip)
        if not gradient.compute(control, ip, fp, kind, dims, theta, X, y, rows, eval_rows, g, work[tid], mine,
                                losslog):
            break
        t_apply = tel.now(ip)
        slow_from = ctl.window_start(control)
        tel.set_state(mine, C_STATE, S_PUBLISH)
        t = atomics.load(control, CLOCK)
        for i in range(theta.shape[0]):
            theta[i] -= lr * g[i]
        ctl.stretch_window(control, slow_from)  # slow motion: the publish window (engine/control.py)
        atomics.store(control, CLOCK, t + 1)
        tel.bump(mine, C_PUBLISH_NS, tel.now(ip) - t_apply)
        tel.record_update(ip, mine, staleness[tid], retries[tid], 0, 0)
        tel.record_event(control, ip, events, tid, t, t, 1, OUTCOME_PUBLISHED, t_start, 0, 0, 0)
        tel.audit_applied(ip, audit[tid], g, lr)
    tel.set_state(mine, C_STATE, S_DONE)
