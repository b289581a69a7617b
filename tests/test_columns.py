"""The per-algorithm columns (teach_sgd/columns.py), shared by the thread table and Compare: each
algorithm shows exactly the numbers it can have, a hidden column is one that is 0 by construction on a real
run, and Compare says 0 or — for the other algorithm's columns. Plus the number formats and the versions
legend that must fit its panel."""
from __future__ import annotations

from dataclasses import replace

import pytest

from teach_sgd.engine.config import ALGOS, RunConfig
from teach_sgd.engine.runner import run
from teach_sgd.columns import (
    ALGO_COLUMNS, COLUMNS, columns_for, columns_of, lost_estimate, lost_estimate_shown, paired, spark, step_cell, step_factors, step_hist,
)
from teach_sgd.report import run_summary
from teach_sgd.format import fmt_count
from teach_sgd.tui.widgets.plots import legend


@pytest.fixture(scope="module")
def results():
    """One short real run per algorithm (2 threads, 1 for SEQ)."""
    return {algo: run(RunConfig(algo=algo, threads=1 if algo == "seq" else 2, dataset="synthetic", updates=400,
                                batch=8, seed=1)) for algo in ALGOS}


def test_each_algorithm_has_its_own_columns():
    keys = {algo: [c.key for c in columns_for(algo, stepped=True)] for algo in ALGOS}
    assert keys["seq"] == ["updates"]
    assert keys["lock"] == ["updates", "lock_wait", "wait_per_update", "tau_mean", "tau_max", "steps"]
    assert keys["hogwild"] == ["updates", "torn", "observed", "lost", "lost_est", "tau_mean", "tau_max", "written",
                               "steps"]
    assert keys["leashed"] == ["updates", "cas_ok", "cas_fail", "retries", "dropped", "tau_mean", "tau_max",
                               "steps"]
    assert keys["sync"] == ["updates", "barrier", "barrier_per_step"]
    for algo in ALGOS:
        assert set(keys[algo]) == set(ALGO_COLUMNS[algo])
    # side by side: each column once, in the one order
    assert [c.key for c in columns_for("hogwild", "leashed", stepped=True)] == [
        "updates", "torn", "observed", "lost", "lost_est", "cas_ok", "cas_fail", "retries", "dropped",
        "tau_mean", "tau_max", "written", "steps"]


@pytest.mark.parametrize("algo", ALGOS)
def test_a_hidden_column_is_zero_on_a_real_run(results, algo):
    """No column of zeros is shown, and none that could be non-zero is hidden."""
    r = results[algo]
    assert r.updates == 400
    for key, col in COLUMNS.items():
        if key not in ALGO_COLUMNS[algo]:
            value = col.value(r.threads, r.params)
            assert not any(value) if isinstance(value, tuple) else value == 0, (algo, key)


def test_hogwild_observes_its_writes(results):
    r = results["hogwild"]
    observed = COLUMNS["observed"].value(r.threads, r.params)
    assert observed >= r.updates  # every update writes at least one observed coordinate
    lost = COLUMNS["lost"].value(r.threads, r.params)
    assert 0 <= lost <= observed


def test_compare_cells_say_zero_where_it_is_zero_by_construction(results):
    hog, lea, lock, seq = (results[a] for a in ("hogwild", "leashed", "lock", "seq"))
    cell = lambda key, r: COLUMNS[key].cell(r.config.algo, r.threads, r.params)  # noqa: E731
    assert cell("lost", lea) == cell("lost_est", lea) == cell("torn", lea) == "0"
    assert cell("lost", lock) == "0"
    assert cell("observed", lea) == "—"  # Leashed-SGD observes no racy writes: there are none
    assert cell("cas_fail", hog) == cell("dropped", hog) == cell("lock_wait", hog) == "—"
    assert cell("tau_max", seq) == "0"
    assert cell("updates", hog) == fmt_count(hog.updates)
    assert cell("cas_fail", lea) == fmt_count(sum(t.cas_fail for t in lea.threads))
    assert cell("observed", hog) == fmt_count(sum(t.sampled_writes for t in hog.threads))


def test_lost_estimate_scales_the_observed_fraction_to_every_coordinate(results):
    t = results["hogwild"].threads[0]
    params = 100_000
    a = replace(t, updates=10, sampled_writes=1000, lost_updates_sampled=3, written=10 * params)
    b = replace(t, updates=30, sampled_writes=3000, lost_updates_sampled=1, written=30 * params)
    assert lost_estimate((a,), params) == pytest.approx(3 / 1000 * 10 * params)
    assert lost_estimate((a, b), params) == pytest.approx(4 / 4000 * 40 * params)  # pooled over threads
    sparse = replace(a, written=4 * params)  # sparse writes: only the coordinates written can be lost
    assert lost_estimate((sparse,), params) == pytest.approx(3 / 1000 * 4 * params)
    assert lost_estimate((replace(a, sampled_writes=0, lost_updates_sampled=0),), params) == 0


def test_the_lost_estimate_shows_only_the_digits_its_sample_supports(results):
    """One lost write seen in 515,302 observed extrapolates to 1,007 in all; the table says ≈1,000, as a count
    of 1 supports one digit (relative error ~1/√n), while 1,234 seen support three."""
    t = results["hogwild"].threads[0]
    params = 101_770
    one = replace(t, updates=5_102, sampled_writes=515_302, lost_updates_sampled=1, written=5_102 * params)
    assert lost_estimate((one,), params) == pytest.approx(1007.6, abs=0.1)
    assert lost_estimate_shown((one,), params) == 1000
    many = replace(one, lost_updates_sampled=1_234)
    assert lost_estimate_shown((many,), params) == pytest.approx(round(lost_estimate((many,), params), -4))
    assert COLUMNS["lost_est"].cell("hogwild", (one,), params) == "1,000"
    assert lost_estimate_shown((replace(one, lost_updates_sampled=0),), params) == 0


def test_sync_shows_its_barrier_wait_and_hogwild_its_writes(results):
    sync, hog = results["sync"], results["hogwild"]
    assert COLUMNS["barrier"].value(sync.threads, sync.params) == pytest.approx(
        sum(t.barrier_wait_s for t in sync.threads))
    per_step = COLUMNS["barrier_per_step"].value(sync.threads, sync.params)
    assert per_step == pytest.approx(1e6 * sum(t.barrier_wait_s for t in sync.threads) / (2 * 400))
    assert COLUMNS["written"].value(hog.threads, hog.params) == pytest.approx(100)  # dense: every coordinate
    # without a step rule every update is applied with 1 × η: one full bar in the middle of the sparkline
    assert COLUMNS["steps"].cell("hogwild", hog.threads, hog.params) == "     █      1.0/1.0/1.0"


def test_step_factors_show_only_with_a_rule_and_say_their_scale():
    """Without a step rule the column was a lone █ in every run; with one its bars had no scale (issue 16
    item 13). Now it shows only with a rule, and after the sparkline the min/median/max factor × η."""
    for algo in ("lock", "hogwild", "leashed"):
        assert "steps" not in [c.key for c in columns_of(RunConfig(algo=algo))]
        assert "steps" in [c.key for c in columns_of(RunConfig(algo=algo, step="tail"))]
    hist = (1,) + (0,) * 9 + (1,) + (0,) * 9 + (8,)  # one step at 0, one at 1 × η, eight doubled
    assert step_cell(hist) == "▁    ▁    █ 0.0/2.0/2.0"
    r = run(RunConfig(algo="leashed", threads=2, dataset="synthetic", updates=300, batch=8, seed=1, step="tail"))
    lo, med, hi = step_factors(step_hist(r.threads, r.params))
    assert 0 <= lo <= med <= hi <= 2.0
    table = run_summary(r)
    assert "step ×η 0…2 min/med/max" in table and f"{lo:.1f}/{med:.1f}/{hi:.1f}" in table.splitlines()[-1]


def test_lost_writes_name_their_unit():
    """'≈ lost updates in all 2,260,100' next to 'updates 31,488' mixed two units (issue 16 item 12): what
    HOGWILD! loses is coordinate writes, and every place that counts them says so."""
    for key in ("observed", "lost", "lost_est"):
        assert "coordinate writes" in COLUMNS[key].name and "update" not in COLUMNS[key].name
        assert "wr" in COLUMNS[key].label
    assert "retries" not in COLUMNS["retries"].name  # at Tp = 0 nothing is retried: failed CAS per update
    assert COLUMNS["retries"].name == "failed CAS per published update"


def test_step_sparkline_pairs_the_engine_bins():
    t = replace(run(RunConfig(algo="lock", threads=1, dataset="synthetic", updates=5)).threads[0],
                step_hist=(4,) + (0,) * 4 + (1, 1) + (0,) * 12 + (0, 8))
    assert paired(step_hist((t,), 1)) == (4, 0, 0, 2, 0, 0, 0, 0, 0, 0, 8)
    assert spark((4, 0, 0, 2, 0, 0, 0, 0, 0, 0, 8)) == "▄  ▂      █"
    assert spark(()) == "·" * 11


def test_counts_have_thousands_separators():
    assert fmt_count(12003) == "12,003"
    assert fmt_count(999) == "999"
    assert COLUMNS["updates"].fmt(2000.0) == "2,000"
    assert COLUMNS["retries"].fmt(0.25) == "0.25"
    assert COLUMNS["wait_per_update"].fmt(1234.5) == "1,234.5"


@pytest.mark.parametrize("width", range(0, 40))
def test_versions_legend_fits_its_panel(width):
    for algo in ("leashed", "hogwild", "lock"):
        text = legend(algo, width)
        plain = text.replace("[red]", "").replace("[#ff8700]", "").replace("[/]", "")
        assert len(plain) <= width
        if algo != "leashed":
            assert "2m+1" not in plain  # LOCK and HOGWILD! hold m + 1 vectors: their red line is m+1
    assert "bound 2m+1" in legend("leashed", 22) and "peak" in legend("leashed", 22)
    assert "2m+1" in legend("leashed", 6)


def test_the_summary_calls_versions_only_what_leashed_sgd_publishes(results):
    """`teach-sgd run --algo hogwild` said "parameter versions: peak 3 (bound 3)": for HOGWILD! and LOCK those are
    θ and each thread's private copy, held for the whole run, not versions that are published and freed."""
    for algo, r in results.items():
        line = next(x for x in run_summary(r).splitlines() if x.startswith("staleness"))
        if algo == "leashed":
            assert f"parameter versions: peak {r.versions.peak} (bound 5)" in line
        elif algo in ("lock", "hogwild"):
            assert "versions" not in line and "parameter vectors: θ and 2 private copies (3)" in line
        else:
            assert "versions" not in line and "parameter vectors: θ alone (1)" in line
