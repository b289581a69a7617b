"""Staleness-adaptive step sizes: each update is applied with η·s(τ), τ being that update's staleness.

The rules (docs/papers.md §D), for LOCK, HOGWILD! and Leashed-SGD:

- none:     s = 1.
- inverse:  s = 1/(τ + 1) (inverse staleness).
- tail:     TAIL-τ (Bäckström, Papatriantafilou, Tsigas, ASAP.SGD, ICML 2022). The run first observes its
            own staleness distribution during a short window; until the window is complete s = 1. Then
            s = 1 + A·(1 − 2·F(τ)), F(τ) = the fraction of observed updates with staleness below τ, A = 1:
            the freshest updates get up to 2η, the stalest down to 0.
- fleet:    FLeet's exponential dampening (Damaskinos et al., Middleware 2020): s = exp(−β·τ),
            β = (2/τ_thr)·ln(1 + τ_thr/2), with τ_thr = m + 1 as in the Leashed-SGD authors' framework.

teach_sgd's own choice (not the papers'): TAIL-τ's window is the updates with ticket t in [10m, 15m) — t is
the update's place in the order of applied updates (LOCK and Leashed-SGD: the version it lands on; HOGWILD!:
its apply ticket), so each thread contributes on average its 10th to 15th update, as in the authors'
framework, and every ticket is observed exactly once, so the window always completes (5m observations),
even if one thread is starved.

Memory ordering: an observation is one fetch-and-add on its histogram bin, then one on TAIL_SEEN (both
sequentially consistent). A thread that loads TAIL_SEEN = 5m with acquire therefore sees every bin whole.
"""
import math

import numpy as np
from numba import njit

from teach_sgd.engine import atomics
from teach_sgd.engine import telemetry as tel
from teach_sgd.engine.layout import (
    F_FLEET_BETA, P_STEP, P_TAIL_FROM, P_TAIL_TO, P_TELEMETRY, STALENESS_BINS, STEP_BIN_WIDTH, STEP_BINS, TAIL_SEEN,
)

NONE, INVERSE, TAIL, FLEET = range(4)  # the index of the rule's name in config.STEPS
TAIL_AMPLITUDE = 1.0      # A in ASAP.SGD; 1 is the paper's default
TAIL_WINDOW = (10, 15)    # observe the updates with ticket in [10m, 15m) (teach_sgd's choice, see above)


@njit(nogil=True, cache=True, inline="always")
def applied_step(step):
    """The step η·s(τ) as every apply multiplies it, rounded once to float32 like θ and g. A float64 step made
    each coordinate's update a float64 multiply between two conversions: a dense apply of the MLP took 2.3× as
    long (25 µs against 11 µs here), a sixth of a SEQ step."""
    return np.float32(step)


@njit(cache=True)
def fleet_beta(threads):
    """β for τ_thr = m + 1."""
    tau_thr = threads + 1
    return (2.0 / tau_thr) * math.log(1.0 + tau_thr / 2.0)


@njit(cache=True)
def tail_factor(window, seen, tau):
    """1 + A·(1 − 2·F(τ)), F(τ) = (observed updates with staleness < τ) / seen."""
    below = 0
    for k in range(min(tau, STALENESS_BINS)):
        below += window[k]
    return 1.0 + TAIL_AMPLITUDE * (1.0 - 2.0 * below / seen)


@njit(nogil=True, cache=True)
def factor(sh, logs, tau):
    """s(τ) of the run's rule, for an update of staleness τ about to be applied."""
    rule = sh.ip[P_STEP]
    if rule == INVERSE:
        return 1.0 / (tau + 1.0)
    if rule == FLEET:
        return math.exp(-sh.fp[F_FLEET_BETA] * tau)
    if rule == TAIL:
        seen = atomics.load(sh.control, TAIL_SEEN)
        if seen < sh.ip[P_TAIL_TO] - sh.ip[P_TAIL_FROM]:
            return 1.0  # still observing
        return tail_factor(logs.window, seen, tau)
    return 1.0


@njit(nogil=True, cache=True)
def applied(sh, logs, me, ticket, tau, scale):
    """After an update with this ticket and staleness was applied with η·scale: feed TAIL-τ's window and
    count the step in this thread's histogram."""
    ip = sh.ip
    if ip[P_STEP] == TAIL and ip[P_TAIL_FROM] <= ticket < ip[P_TAIL_TO]:
        atomics.fetch_add(logs.window, min(tau, STALENESS_BINS - 1), 1)
        atomics.fetch_add(sh.control, TAIL_SEEN, 1)
    if ip[P_TELEMETRY] != 0:
        tel.bump(me.steps, min(int(scale / STEP_BIN_WIDTH + 0.5), STEP_BINS - 1), 1)
