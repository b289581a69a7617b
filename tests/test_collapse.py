"""Collapse: a run that ends no better than chance, its loss stuck near ln(classes) (dead ReLUs after too large a
step) is named, as divergence is — in the RunResult, its JSON, and the CLI summary. Real runs on the bundled
MNIST subset: at lr 2 the MLP collapses within a few hundred updates (at 2.32–2.36 after 1,000 updates; at lr 5
too, but its dead network's loss still swings to 2.4–3.3, so a run stopped there can sit outside the collapse
band). One thread, so that the seed decides the run: with two threads on a busy machine one run in a few dozen
ended at 18% accuracy, not yet collapsed, and what is tested here is the naming, not the interleaving."""
from __future__ import annotations

import math
import time
from dataclasses import replace

import pytest

from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.result import COLLAPSE_MIN_UPDATES, is_collapsed
from teach_sgd.engine.runner import Runner, run
from teach_sgd.report import run_summary


def mlp(**kw) -> RunConfig:
    return RunConfig(**({"threads": 1, "dataset": "mnist", "updates": 1000, "seed": 0} | kw))


@pytest.mark.parametrize("algo", ["hogwild", "leashed"])
def test_a_collapsed_run_is_named_collapsed(algo):
    r = run(mlp(algo=algo, lr=2.0))
    # what collapse is, measured independently of the rule: chance accuracy, the loss of a constant output
    assert r.accuracy_final == pytest.approx(0.1, abs=0.02)
    assert abs(r.loss_final - math.log(10)) < 0.25
    assert not r.diverged
    assert r.collapsed and r.status == "collapsed"
    data = r.to_json()
    assert data["collapsed"] is True and data["status"] == "collapsed" and data["diverged"] is False
    summary = run_summary(r)
    assert summary.startswith(f"{algo}") and "\ncollapsed: 1,000 updates" in summary
    assert "no better than chance" in summary and "smaller lr" in summary
    assert r.collapse_cause == "step"  # its loss left ln 10 before it came back: the step is named


@pytest.mark.parametrize("init, cause", [(None, "init"), ("he", None)])
def test_a_deep_mlp_from_the_papers_tiny_weights_is_stuck_and_the_summary_says_why(init, cause):
    """Three hidden layers from N(0, 0.01²): the signal vanishes, the loss never leaves ln 10 at any lr; the
    summary must not blame the step size. From He's init the same network learns."""
    r = run(mlp(algo="seq", hidden=(64, 64, 64), updates=2000, init=init))
    assert r.collapse_cause == cause
    summary = run_summary(r)
    if cause is None:
        assert r.accuracy_final > 0.5 and "collapsed" not in summary
    else:
        losses = [loss for _, loss, _ in r.loss_curve]
        assert max(abs(loss - r.loss_initial) for loss in losses) < 0.01 * r.loss_initial  # it never moved
        assert "too little signal passes this many layers; try --init he" in summary
        assert "ReLU" not in summary and "smaller lr" not in summary


def test_a_run_that_learns_is_not_collapsed():
    r = run(mlp(algo="hogwild", lr=0.05))
    assert r.accuracy_final > 0.5
    assert not r.collapsed and r.status == "finished"
    assert r.to_json()["collapsed"] is False
    assert "collapsed" not in run_summary(r)


@pytest.mark.parametrize("config", [
    mlp(algo="hogwild", lr=2.0),  # the runs above
    mlp(algo="leashed", lr=2.0),
    RunConfig(algo="hogwild", threads=1, lr=2.0, seed=1, dataset="synthetic", updates=600),  # tests/test_tui.py's
])
def test_the_collapse_tests_do_not_depend_on_when_evaluations_land(config):
    """An evaluation lands on whichever update is running when it is due, so on a busy machine it can land on any.
    Evaluated after every update, these runs' loss stays under the divergence line (5 × the initial loss), so
    no timing can call them diverged; at lr 5, seed 0, the synthetic run passes 11 × at update 5."""
    r = run(replace(config, eval_every_s=1e-9))
    losses = [loss for _, loss, _ in r.loss_curve]
    assert len(losses) > config.updates  # one per update, and the final one
    assert max(losses) < config.diverge_factor * r.loss_initial
    assert r.collapsed and r.status == "collapsed"
    spiky = run(replace(config, dataset="synthetic", lr=5.0, seed=0, updates=600, eval_every_s=1e-9))
    assert spiky.diverged  # the same check catches a run that would depend on it


def test_a_stopped_collapsed_run_stays_stopped():
    runner = Runner(mlp(algo="hogwild", lr=2.0, updates=None, seconds=30.0)).start()
    t0 = time.monotonic()
    while runner.snapshot().updates < 10 * COLLAPSE_MIN_UPDATES:
        assert time.monotonic() - t0 < 20, "the run made no progress"
        time.sleep(0.02)
    runner.stop()
    r = runner.wait()
    assert r.status == "stopped"  # the lessons treat a stopped run as aborted: collapse must not hide that
    assert r.collapsed


@pytest.mark.parametrize("diverged, updates, loss, acc, expected", [
    (False, 1000, 2.36, 0.10, True),                    # the HOGWILD! --lr 5 run of the issue
    (False, 1000, 2.30, 0.149, True),                   # up to chance + 5 points
    (False, 1000, 2.30, 0.16, False),                   # above that it learned something
    (False, 1000, 0.59, 0.10, False),                   # a low loss is no collapse
    (False, 1000, 2.7, 0.10, False),                    # far above ln 10 the loss is not a constant output's
    (True, 1000, 2.36, 0.10, False),                    # diverged is named diverged, not collapsed
    (False, COLLAPSE_MIN_UPDATES - 1, 2.30, 0.10, False),  # an untrained model is at chance too
    (False, 1000, float("nan"), 0.10, False),
])
def test_collapse_rule(diverged, updates, loss, acc, expected):
    assert is_collapsed(diverged, updates, loss, acc, 10) is expected


def test_collapse_rule_scales_with_the_classes():
    assert is_collapsed(False, 1000, math.log(2), 0.52, 2)
    assert not is_collapsed(False, 1000, math.log(10), 0.10, 2)

