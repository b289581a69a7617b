"""The τ_max × α sweep: the stale-read threshold 2/((τ+1)c), the measurement rules, and the CLI."""
import json

import pytest

from teach_sgd.commands.main import main
from teach_sgd.sim.machine import Machine
from teach_sgd.sim.objectives import Quadratic
from teach_sgd.sim.run import CONVERGED, DIVERGED, NOT_REACHED, run_until
from teach_sgd.sim.schedulers import StaleRead
from teach_sgd.sim.sweep import SweepConfig, predicted_threshold, sweep


@pytest.mark.parametrize("tau", [0, 1, 3, 7])
@pytest.mark.parametrize("c", [1.0, 2.5])
def test_stale_read_divergence_threshold_is_two_over_tau_plus_one_c(tau, c):
    exact = predicted_threshold(tau, c)
    # A grid with 2% resolution around the threshold, with neighbours on both sides of it.
    alphas = tuple(exact * f for f in (0.3, 0.6, 0.9, 0.98, 1.02, 1.1, 1.5))
    result = sweep(SweepConfig(taus=(tau,), alphas=alphas, c=c, dim=3, eps=1e-3, max_iters=20_000))
    summary = result.summary(tau)
    assert summary.threshold_low == alphas[3] and summary.threshold_high == alphas[4]
    assert summary.matches
    assert summary.max_delay == tau
    statuses = [result.cell(tau, a).outcome.status for a in alphas]
    assert statuses == [CONVERGED] * 4 + [DIVERGED] * 3


@pytest.mark.parametrize("mode", ["hogwild", "leashed"])
def test_threshold_is_the_same_for_racy_and_cas_writes_under_stale_reads(mode):
    tau = 3
    exact = predicted_threshold(tau, 1.0)
    result = sweep(SweepConfig(taus=(tau,), alphas=(exact * 0.98, exact * 1.02), mode=mode, dim=2,
                               max_iters=20_000))
    assert result.summary(tau).matches


def test_stale_read_costs_about_tau_plus_one_times_the_iterations_at_the_best_alpha():
    # With exact gradients the best α nearly zeroes x in one round of τ+1 iterations, and no fewer can do:
    # every update of the first round is computed on x0.
    alphas = tuple(0.02 * 1.05 ** k for k in range(80))
    result = sweep(SweepConfig(taus=(0, 1, 3, 7), alphas=alphas, dim=2, eps=1e-6, max_iters=5000))
    for tau in (0, 1, 3, 7):
        best = result.summary(tau).best_iterations
        assert tau + 1 <= best <= 3 * (tau + 1)


def test_exactly_at_the_threshold_it_neither_converges_nor_diverges():
    tau = 1
    m = Machine(Quadratic(d=2), threads=2, alpha=predicted_threshold(tau, 1.0), tau_max=tau)
    adversary = StaleRead()
    while m.completed == 0:
        m.step(adversary.choose(m))
    assert m.distance2() == 0.0                 # mid-round, X sweeps through x* = 0 ...
    outcome = run_until(m, adversary, eps=1e-3, max_iters=400)
    assert outcome.status == NOT_REACHED        # ... but each round maps x to −x: no convergence is counted


def test_converged_iterations_count_and_x0_inside_eps():
    m = Machine(Quadratic(d=1), threads=1, alpha=0.5, tau_max=0)
    outcome = run_until(m, StaleRead(), eps=0.25 ** 2 + 1e-12, max_iters=100)
    assert outcome.status == CONVERGED and outcome.iterations == 2      # 1 → 0.5 → 0.25
    m = Machine(Quadratic(d=1), threads=1, alpha=0.5, tau_max=0, x0=[0.0])
    assert run_until(m, StaleRead(), eps=1e-3, max_iters=100).iterations == 0


def test_sweep_is_deterministic_with_noise_and_random_schedules():
    cfg = SweepConfig(taus=(1, 2), alphas=(0.1, 0.3), scheduler="bounded-delay", mode="hogwild", noise=0.2,
                      eps=1e-2, max_iters=500, seed=3)
    assert sweep(cfg).cells == sweep(cfg).cells


# ---- the CLI ---------------------------------------------------------------------------------------

def simulate(*argv) -> int:
    return main(["simulate", *argv])


def test_cli_prints_table_and_plot_and_writes_json(tmp_path, capsys):
    path = tmp_path / "out.json"
    rc = simulate("--tau-max", "0,1,3", "--alphas", "0.1:2.5:12", "--dim", "2", "--max-iters", "3000",
                       "--json", str(path))
    out = capsys.readouterr().out
    assert rc == 0
    assert "2/((τ+1)c)" in out and "τ=3" in out and "div" in out
    assert "iterations to ε against τ_max" in out and "where it diverges" in out
    data = json.loads(path.read_text())
    assert data["config"]["tau_max"] == [0, 1, 3]
    assert len(data["cells"]) == 3 * 12
    assert [s["threshold_predicted"] for s in data["summary"]] == [2.0, 1.0, 0.5]
    assert all(s["respected"] for s in data["summary"])
    assert "delay" in data["rules"]


def test_cli_no_plot_and_other_schedulers(capsys):
    for scheduler in ("round-robin", "random", "bounded-delay"):
        assert simulate("--scheduler", scheduler, "--tau-max", "0,2", "--alphas", "0.1,0.5",
                             "--max-iters", "300", "--no-plot", "--mode", "leashed", "--persistence", "1") == 0
    out = capsys.readouterr().out
    assert "where it diverges" not in out and "2/((τ+1)c)" not in out


def test_cli_logistic(capsys):
    assert simulate("--objective", "logistic", "--scheduler", "bounded-delay", "--tau-max", "0,2",
                         "--alphas", "0.05,0.5", "--eps", "0.05", "--max-iters", "500", "--no-plot") == 0
    assert "logistic" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["--tau-max", "a"], ["--tau-max", "-1"], ["--tau-max", "1,1"], ["--tau-max", ""],
    ["--alphas", "0:1:5"], ["--alphas", "1:0.5:3"], ["--alphas", "0.1:1"], ["--alphas", "x"], ["--alphas", "-0.1"],
    ["--alphas", "0.1:1:0"], ["--scheduler", "fifo"], ["--mode", "locked"], ["--objective", "mnist"],
    ["--threads", "2", "--tau-max", "4"], ["--threads", "0", "--scheduler", "random"], ["--eps", "0"],
    ["--eps", "nan"], ["--max-iters", "0"], ["--persistence", "-1"], ["--dim", "0"], ["--c", "-1"],
    ["--noise", "-0.5"], ["--objective", "logistic", "--noise", "0.1"], ["--json", "/no/such/folder/out.json"],
])
def test_cli_bad_values_say_one_line_and_exit_2(argv, capsys):
    assert simulate(*argv) == 2
    message = capsys.readouterr().err
    assert message.startswith("teach-sgd: ") and message.count("\n") == 1 and "Traceback" not in message
