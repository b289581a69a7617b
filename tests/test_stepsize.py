"""Step-size rules (engine/stepsize.py, docs/papers.md §D): each formula against hand-computed values, and
end to end: the histogram of effective steps is the one the rule implies for the staleness the run measured."""
import math

import numpy as np
import pytest

from teach_sgd.engine import layout as L
from teach_sgd.engine import stepsize
from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import Runner
from teach_sgd.errors import ConfigError


def arrays(rule, threads=4, seen=0, window=()):
    control = np.zeros(L.CONTROL_WORDS, np.int64)
    ip = np.zeros(L.INT_PARAMS, np.int64)
    fp = np.zeros(L.FLOAT_PARAMS, np.float64)
    ip[L.P_STEP] = rule
    ip[L.P_TELEMETRY] = 1
    ip[L.P_TAIL_FROM], ip[L.P_TAIL_TO] = 10 * threads, 15 * threads
    fp[L.F_FLEET_BETA] = stepsize.fleet_beta(threads)
    control[L.TAIL_SEEN] = seen
    hist = np.zeros(L.STALENESS_BINS, np.int64)
    hist[:len(window)] = window
    return L.Shared(control, ip, fp), L.Logs(np.zeros(0, np.int64), np.zeros(0), hist), hist


def thread_with(steps):
    """One thread's rows (layout.Me) with this step histogram; the rules touch nothing else."""
    i64, f32 = np.zeros(0, np.int64), np.zeros(0, np.float32)
    return L.Me(0, i64, i64, i64, steps, np.zeros(0), f32, np.zeros(0, np.int8), f32, f32, i64)


def factors(rule, taus, **kw):
    sh, logs, _ = arrays(rule, **kw)
    return [stepsize.factor(sh, logs, tau) for tau in taus]


def test_none_is_one():
    assert factors(stepsize.NONE, [0, 1, 7, 100]) == [1.0] * 4


def test_inverse_staleness():
    assert factors(stepsize.INVERSE, [0, 1, 3, 9]) == pytest.approx([1, 0.5, 0.25, 0.1])


def test_fleet_for_four_threads():
    # τ_thr = 5, β = (2/5)·ln 3.5 = 0.50110…; docs/papers.md §D lists 1, 0.61, 0.37, 0.22, 0.14, 0.08
    assert stepsize.fleet_beta(4) == pytest.approx(0.4 * math.log(3.5))
    assert stepsize.fleet_beta(4) == pytest.approx(0.501105, abs=1e-6)
    got = factors(stepsize.FLEET, range(6), threads=4)
    # exp(−β·τ) = 3.5^(−0.4·τ): at τ = τ_thr = 5 exactly 1/3.5² = 1/12.25
    assert got == pytest.approx([1, 0.605861, 0.367067, 0.222392, 0.134738, 1 / 12.25], abs=1e-6)
    assert [round(f, 2) for f in got] == [1, 0.61, 0.37, 0.22, 0.13, 0.08]


def test_tail_is_one_until_the_window_is_complete_then_follows_F():
    # window of 4 threads: tickets [40, 60), 20 observations: τ = 0 ×12, 1 ×6, 2 ×2
    window = (12, 6, 2)
    assert factors(stepsize.TAIL, [0, 1, 5], seen=19, window=window) == [1.0, 1.0, 1.0]
    # F(0) = 0, F(1) = 12/20, F(2) = 18/20, F(3) = 1: s = 1 + (1 − 2F) = 2, 0.8, 0.2, 0
    assert factors(stepsize.TAIL, [0, 1, 2, 3, 64, 1000], seen=20, window=window) == \
        pytest.approx([2.0, 0.8, 0.2, 0.0, 0.0, 0.0])


def test_applied_feeds_the_window_only_inside_it_and_bins_the_step():
    sh, logs, hist = arrays(stepsize.TAIL, threads=2)               # window: tickets [20, 30)
    steps = np.zeros(L.STEP_BINS, np.int64)
    me = thread_with(steps)
    for ticket, tau in [(19, 5), (20, 1), (29, 3), (30, 2)]:
        stepsize.applied(sh, logs, me, ticket, tau, 1.0)
    assert sh.control[L.TAIL_SEEN] == 2 and hist[1] == 1 and hist[3] == 1 and hist.sum() == 2
    assert steps[10] == 4
    for scale, expected_bin in [(0.0, 0), (0.25, 3), (0.61, 6), (2.0, 20), (5.0, 20)]:
        steps[:] = 0
        stepsize.applied(sh, logs, me, 0, 0, scale)
        assert steps[expected_bin] == 1


def implied(staleness_hist, rule, threads):
    """The step histogram a rule without a window gives for a staleness histogram."""
    sh, logs, _ = arrays(rule, threads=threads)
    out = np.zeros(L.STEP_BINS, np.int64)
    for tau, count in enumerate(staleness_hist):
        s = stepsize.factor(sh, logs, tau)
        out[min(int(s / L.STEP_BIN_WIDTH + 0.5), L.STEP_BINS - 1)] += count
    return out


@pytest.mark.parametrize("algo", ["lock", "hogwild", "leashed"])
@pytest.mark.parametrize("rule", ["inverse", "fleet"])
def test_effective_step_histogram_is_what_the_rule_implies(algo, rule):
    r = Runner(RunConfig(algo=algo, step=rule, threads=3, updates=400, batch=8, dataset="synthetic", seed=1)) \
        .start().wait()
    code = ("none", "inverse", "tail", "fleet").index(rule)
    for t in r.threads:
        assert sum(t.step_hist) == t.updates
        # τ ≥ 64 share one staleness bin; every rule here gives them a factor below 0.05 (bin 0) anyway
        assert list(t.step_hist) == list(implied(t.staleness_hist, code, 3))
    assert r.to_json()["step"] == rule
    assert sum(r.to_json()["step_factors"]["hist"]) == r.updates


@pytest.mark.parametrize("algo", ["lock", "hogwild", "leashed"])
def test_tail_steps_are_one_in_the_window_then_what_F_gives(algo):
    runner = Runner(RunConfig(algo=algo, step="tail", threads=2, updates=400, batch=8, dataset="synthetic",
                              seed=2))
    r = runner.start().wait()
    window = runner.state.window
    assert window.sum() == runner.state.control[L.TAIL_SEEN] == 10  # tickets [20, 30): each observed once
    seen = window.sum()
    allowed = {10}  # 1.0: the updates before the window was complete
    for tau in range(L.STALENESS_BINS):
        s = stepsize.tail_factor(window, seen, tau)
        allowed.add(min(int(s / L.STEP_BIN_WIDTH + 0.5), L.STEP_BINS - 1))
    hist = np.sum([t.step_hist for t in r.threads], axis=0)
    assert hist.sum() == r.updates
    assert set(np.flatnonzero(hist)) <= allowed
    assert hist[10] >= 30  # at least the 30 updates with tickets below the window's end saw factor 1


@pytest.mark.parametrize("algo", ["seq", "sync"])
def test_step_rules_are_for_algorithms_with_staleness(algo):
    with pytest.raises(ConfigError, match="never stale"):
        RunConfig.from_mapping({"algo": algo, "step": "inverse"})
