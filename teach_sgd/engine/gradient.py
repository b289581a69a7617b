"""The step every algorithm shares: g = ∇loss(θ; mini-batch), computed outside any lock.

It runs on whatever parameters the thread holds — θ itself (seq, sync), a private copy (lock, hogwild) or an
immutable published version (leashed) — and then passes the protocol point "computed" (engine/phase.py),
evaluates the loss if an evaluation is due (on those same parameters, so no extra reader exists) and checks
the mini-batch loss for divergence.

g comes with its support (me.support, models.loss_and_grad): one flag per row of g's first rows, 0 where that
row of g is all 0. The applies skip those rows (seq.apply) or copy them unchanged (leashed.new_version): the
same result as applying them, which adds −η·0.
"""
from numba import njit

from teach_sgd.engine import phase
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import C_GRADS, PT_COMPUTED
from teach_sgd.models import loss_and_grad


@njit(nogil=True, cache=True, inline="always")  # a thin wrapper: inlined, it is not compiled again at every level
def compute(sh, data, logs, me, theta, rows, then):
    """Overwrite g (me.grad) with the mini-batch gradient at theta, then go on to state `then`. False if the loss was
    not finite (the run is then marked diverged and stopping)."""
    loss = loss_and_grad(data.kind, data.dims, theta, data.X, data.y, rows, me.grad, me.work, me.support)
    tel.bump(me.counters, C_GRADS, 1)
    phase.at(sh, me, PT_COMPUTED, then)
    tel.maybe_evaluate(sh, data, logs, me, theta)
    return tel.note_gradient_loss(sh.control, loss)


@njit(nogil=True, cache=True)
def run_end(support, k):
    """The end of the run of rows from k on that share row k's flag (k < len(support)): the applies work on
    runs, not rows, so their loops are long."""
    end = k + 1
    while end < len(support) and support[end] == support[k]:
        end += 1
    return end
