"""Invariants of the four algorithms, on real threads, over seeds and thread counts 1–16 on 2 cores.

Thread interleavings are not reproducible, so nothing here depends on one: each test asserts something
that must hold for *every* interleaving (no update lost, the memory bound, conservation of gradients).
"""
import gc
import threading
import time
import weakref

import numpy as np
import pytest

from teach_sgd.engine import layout as L
from teach_sgd.engine.config import ALGOS, POINTS, RunConfig
from teach_sgd.engine.runner import Runner, run
from teach_sgd.engine.state import SAMPLE_STRIDE
from teach_sgd.engine.warmup import warm_up
from waits import parked, until

THREADS = [1, 2, 3, 8, 16]


def cfg(**kw):
    base = dict(dataset="synthetic", updates=300, batch=8, lr=0.05, eval_every_s=0.01)
    base.update(kw)
    return RunConfig(**base)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lock_loses_no_update(threads, seed):
    r = run(cfg(algo="lock", threads=threads, seed=seed, audit=True))
    assert r.updates == sum(t.updates for t in r.threads) == 300  # the budget is exact
    # θ_final = θ0 − Σ of every applied update, up to the float32 rounding of ~300 sequential steps
    assert r.lost_update_mass is not None
    assert r.lost_update_mass / r.params < 1e-5


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("persistence", [0, 1, None])
def test_leashed_publishes_every_version_once(threads, persistence):
    r = run(cfg(algo="leashed", threads=threads, persistence=persistence, seed=threads, audit=True))
    published = sum(t.updates for t in r.threads)
    # the version number of the final model counts every successful CAS exactly once, and the budget is exact
    assert r.updates == published == sum(t.cas_success for t in r.threads) == 300
    # every computed gradient was published, dropped after Tp retries, or abandoned when the budget ran out
    abandoned = sum(t.abandoned for t in r.threads)
    assert abandoned <= threads - 1
    assert published + sum(t.dropped for t in r.threads) + abandoned == r.gradients
    if persistence is None:
        assert sum(t.dropped for t in r.threads) == 0
    # consistent: θ_final is θ0 plus exactly the updates that were published (none lost, none doubled)
    assert r.lost_update_mass / r.params < 1e-5
    # exactly one version (the latest) is left once the threads are done
    assert r.versions.live == 1
    assert r.versions.peak <= r.versions.bound == 2 * threads + 1


@pytest.mark.parametrize("threads", [2, 8, 16])
def test_leashed_tp0_never_retries(threads):
    r = run(cfg(algo="leashed", threads=threads, persistence=0, seed=3))
    for t in r.threads:
        assert t.cas_fail == t.dropped  # each failed CAS is the gradient's only attempt
        assert sum(t.retry_hist[1:]) == 0  # no update landed after a retry


@pytest.mark.parametrize("threads", [1, 4, 16])
def test_leashed_live_versions_never_exceed_the_bound(threads):
    runner = Runner(cfg(algo="leashed", threads=threads, updates=None, seconds=0.5, seed=5))
    bound = 2 * threads + 1
    seen = {"live": 0, "scan": 0, "peak": 0, "samples": 0}
    state = runner.state

    def watch():
        while not runner.done:
            seen["live"] = max(seen["live"], int(state.control[L.LIVE]))
            seen["scan"] = max(seen["scan"], int(np.count_nonzero(state.rc > 0)))
            seen["samples"] += 1
            if seen["samples"] % 50 == 0:  # the full snapshot, as the UI takes it
                seen["peak"] = max(seen["peak"], runner.snapshot().versions.peak)

    runner.start()
    watcher = threading.Thread(target=watch)
    watcher.start()
    result = runner.wait()
    watcher.join()
    assert seen["samples"] > 100
    assert seen["live"] <= bound and seen["scan"] <= bound and seen["peak"] <= bound
    assert result.versions.live == 1 and int(state.control[L.LIVE]) == 1


def test_seq_is_bit_for_bit_reproducible():
    a = run(RunConfig(algo="seq", threads=1, updates=400, seed=11))
    b = run(RunConfig(algo="seq", threads=1, updates=400, seed=11))
    c = run(RunConfig(algo="seq", threads=1, updates=400, seed=12))
    assert a.updates == b.updates == 400
    assert np.array_equal(a.theta_final, b.theta_final)
    assert not np.array_equal(a.theta_final, c.theta_final)


@pytest.mark.parametrize("algo,threads", [("seq", 1), ("lock", 2), ("hogwild", 2), ("leashed", 2)])
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_every_algorithm_lowers_the_loss_on_mnist(algo, threads, model):
    r = run(RunConfig(algo=algo, threads=threads, model=model, updates=600, seed=0))
    assert not r.diverged
    assert r.loss_final < 0.6 * r.loss_initial
    assert r.accuracy_final > 0.5


@pytest.mark.parametrize("threads", [2, 8])
def test_hogwild_lost_updates_are_measured(threads):
    r = run(cfg(algo="hogwild", threads=threads, updates=600, audit=True, seed=4))
    assert r.updates == sum(t.updates for t in r.threads) == 600
    sampled = sum(t.sampled_writes for t in r.threads)
    lost = sum(t.lost_updates_sampled for t in r.threads)
    # every applied update writes each sampled coordinate once (D / SAMPLE_STRIDE of them, rounded up)
    assert sampled == r.updates * -(-r.params // SAMPLE_STRIDE)
    assert 0 <= lost <= sampled
    # lost updates leave θ short of θ0 + Σ applied; without any, the audit closes (as for lock)
    if lost:
        assert r.lost_update_mass > 0


def test_stop_ends_every_thread_quickly():
    runner = Runner(cfg(algo="leashed", threads=32, updates=None, seconds=60)).start()
    threading.Event().wait(0.2)
    runner.stop()
    assert runner.join(timeout=2.0)
    r = runner.result()
    assert r.status == "stopped" and r.updates > 0
    # Tp = ∞ drops nothing; gradients caught by the stop between computing and publishing are abandoned
    assert sum(t.dropped for t in r.threads) == 0
    assert r.updates + sum(t.abandoned for t in r.threads) == r.gradients
    assert r.versions.live == 1


def test_pause_holds_the_update_count():
    runner = Runner(cfg(algo="leashed", threads=4, updates=None, seconds=30)).start()
    threading.Event().wait(0.2)
    runner.pause()
    until(lambda: parked(runner), "every thread to park")  # each finishes the iteration it is in
    before = runner.snapshot().updates
    threading.Event().wait(0.3)
    assert runner.snapshot().updates == before
    assert runner.snapshot().status == "paused"
    runner.resume()
    until(lambda: runner.snapshot().updates > before, "updates again after resume")
    runner.stop()
    runner.join()


def test_divergence_is_detected_and_reported():
    r = run(RunConfig(algo="hogwild", threads=2, lr=200.0, updates=3000, seed=0))
    assert r.diverged and r.status == "diverged"
    assert r.updates < 3000  # the run stopped early
    assert r.to_json()["diverged"] is True


def test_target_loss_records_time_and_stops():
    r = run(RunConfig(algo="leashed", threads=2, updates=20000, target_loss=0.5, seed=0))
    assert r.time_to_target_s is not None and 0 < r.time_to_target_s <= r.wall_s
    assert r.updates < 20000
    assert r.loss_final <= 0.6 * r.loss_initial


@pytest.mark.parametrize("algo,threads,persistence", [("lock", 4, None), ("hogwild", 4, None),
                                                      ("leashed", 8, None), ("leashed", 8, 0)])
def test_event_stream_records_every_update_with_its_staleness(algo, threads, persistence):
    runner = Runner(cfg(algo=algo, threads=threads, persistence=persistence, updates=600, seed=6))
    result = runner.start().wait()
    events = runner.events.events()
    assert runner.events.missed == 0 and result.events_recorded == len(events)
    published = events[events["outcome"] == L.OUTCOME_PUBLISHED]
    dropped = events[events["outcome"] == L.OUTCOME_DROPPED]
    failed = events[events["outcome"] == L.OUTCOME_CAS_FAILED]
    assert len(published) == result.updates == 600
    assert len(dropped) == sum(t.dropped for t in result.threads)
    taus = published["t_applied"] - published["t_read"]
    assert taus.max() == result.staleness_max
    assert taus.sum() == pytest.approx(result.staleness_mean * result.updates)
    for t in result.threads:
        assert (published["thread"] == t.thread).sum() == t.updates
        # every failed CAS is an event of its own, numbered by its attempt, and a published gradient's
        # attempts count them plus the one that succeeded
        mine = failed[failed["thread"] == t.thread]
        assert len(mine) == t.cas_fail
        assert (published[published["thread"] == t.thread]["attempts"] - 1).sum() <= t.cas_fail
    if algo == "leashed":
        # every version number 0 … updates−1 was the base of exactly one publish: none lost, none doubled
        assert sorted(published["t_applied"]) == list(range(result.updates))
    assert np.all(events["k"][1:] > events["k"][:-1])  # in order, none twice
    seconds = events["t_end"] * 1e-9
    assert seconds.min() >= 0 and seconds.max() <= result.wall_s
    assert np.all(events["t_start"] <= events["t_end"])


def test_paused_time_is_not_run_time():
    """A pause neither uses up a --seconds budget nor counts in wall_s, rates or timestamps."""
    runner = Runner(cfg(algo="leashed", threads=2, updates=None, seconds=0.6))
    started = time.perf_counter()
    runner.start()
    threading.Event().wait(0.2)
    runner.pause()
    threading.Event().wait(0.6)
    runner.resume()
    r = runner.wait()
    real = time.perf_counter() - started
    assert r.status == "finished" and r.updates > 0
    assert real >= 0.6 + 0.6 - 0.05  # the deadline moved by the pause
    assert 0.55 <= r.wall_s <= real - 0.5  # …and the run's own clock left the pause out
    assert max(t for t, _, _ in r.loss_curve) <= r.wall_s + 1e-6


@pytest.mark.parametrize("algo", ALGOS)
def test_a_finished_runner_is_freed_by_reference_counting_alone(algo):
    """A run's arrays go when its last reference does: with the cyclic collector off, a finished Runner (held at
    a breakpoint and frozen while it ran, read after) is gone once dropped. A reference cycle through it kept
    every run's RunState and event log until the collector's rare full pass: the 1,000-run stress
    (benchmarks/stress.py) climbed by hundreds of MB between passes. The kernel is compiled first: numba's
    compiler leaves a cycle through the frames that called it (a caught exception's traceback), which holds the
    run whose start compiled, once per kernel and process, until the collector's next pass."""
    warm_up([(algo, "mlp")])
    gc.collect()
    gc.disable()
    try:
        runner = Runner(cfg(algo=algo, threads=1 if algo == "seq" else 2, updates=50)).start()
        runner.holds.hold(0, POINTS[algo][0])
        threading.Event().wait(0.01)
        runner.holds.freeze(0)
        runner.holds.clear()
        assert runner.wait().updates == 50
        runner.snapshot()
        gone = weakref.ref(runner)
        del runner
        assert gone() is None
    finally:
        gc.enable()
