"""Lesson metrics (lessons/metrics.py) that read per-thread numbers, on real runs: the thread that failed the
most CAS, its share of the failures and its time per gradient against the others'."""
from __future__ import annotations

import pytest

from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import run
from teach_sgd.lessons.metrics import RUN_METRICS


def metric(name, result):
    return RUN_METRICS[name][1](result)


def test_the_thread_that_failed_most_its_share_and_the_gradient_times_come_from_the_threads_own_counts():
    r = run(RunConfig(algo="leashed", threads=3, dataset="synthetic", batch=8, lr=0.05, updates=3000, seed=1))
    fails = [t.cas_fail for t in r.threads]
    if sum(fails) == 0:  # a machine that ran the threads one at a time: nobody failed, nobody to name
        assert metric("cas_fail_top_thread", r) is None and metric("cas_fail_top_share", r) is None
        return
    top = metric("cas_fail_top_thread", r)
    assert fails[top] == max(fails)
    assert metric("cas_fail_top_share", r) == pytest.approx(max(fails) / sum(fails))
    me, others = r.threads[top], [t for t in r.threads if t.thread != top]
    assert metric("cas_fail_top_gradient_us", r) == pytest.approx(1e6 * me.grad_s / me.gradients)
    assert metric("cas_fail_others_gradient_us", r) == pytest.approx(
        1e6 * sum(t.grad_s for t in others) / sum(t.gradients for t in others))
    assert 0 < metric("cas_fail_top_gradient_us", r) < 1e6


def test_no_cas_no_thread_that_failed_most():
    r = run(RunConfig(algo="hogwild", threads=2, dataset="synthetic", batch=8, lr=0.05, updates=200, seed=1))
    assert all(metric(name, r) is None for name in ("cas_fail_top_thread", "cas_fail_top_share",
                                                     "cas_fail_top_gradient_us", "cas_fail_others_gradient_us"))
