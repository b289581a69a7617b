"""The step every algorithm shares: g = ∇loss(θ; mini-batch), computed outside any lock.

It runs on whatever parameters the thread holds — θ itself (seq), a private copy (lock, hogwild) or an
immutable published version (leashed) — and also evaluates the loss if an evaluation is due (on those
same parameters, so no extra reader exists) and checks the mini-batch loss for divergence.
"""
from numba import njit

from teach_sgd.engine import control as ctl
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import C_GRAD_NS, C_GRADS, C_STATE, S_GRADIENT
from teach_sgd.models import loss_and_grad


@njit(nogil=True, cache=True, inline="always")  # a thin wrapper: inlined, it is not compiled again at every level
def compute(control, ip, fp, kind, dims, theta, X, y, rows, eval_rows, g, work, mine, losslog):
    """Overwrite g with the mini-batch gradient at theta. False if the loss was not finite (the run is
    then marked diverged and stopping)."""
    t_start = tel.now(ip)
    tel.set_state(mine, C_STATE, S_GRADIENT)
    slow_from = ctl.window_start(control)
    loss = loss_and_grad(kind, dims, theta, X, y, rows, g, work)
    ctl.stretch_window(control, slow_from)  # slow motion: the compute window, stretched (engine/control.py)
    tel.bump(mine, C_GRADS, 1)
    tel.bump(mine, C_GRAD_NS, tel.now(ip) - t_start)
    tel.maybe_evaluate(control, ip, fp, kind, dims, theta, X, y, eval_rows, work, losslog, mine)  # own timer
    return tel.note_gradient_loss(control, loss)
