"""Breakpoints, freeze, step and the delay adversary on real threads (engine/phase.py, engine/holds.py).

Each race is made on purpose, deterministically: one thread is held at a protocol point, another is let go
until it has published, then the first is stepped. The engine's own counters and events must say what
happened. Waits poll the run's state; their timeouts only keep a broken engine from hanging the suite
(no test asserts a wall time).
"""
import importlib.util
import random
import time
from pathlib import Path

import pytest

from teach_sgd.engine import layout as L
from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.invariants import violations
from teach_sgd.engine.runner import Runner
from teach_sgd.errors import ConfigError
from waits import PATIENCE_S, until

_spec = importlib.util.spec_from_file_location("stress", Path(__file__).parent.parent / "benchmarks" / "stress.py")
stress = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stress)


def cfg(**kw):
    base = dict(algo="leashed", threads=2, updates=None, seconds=120, eval_every_s=1.0)
    return RunConfig(**{**base, **kw})


def thread(runner, tid):
    return runner.state.thread_stats()[tid]


def finish(runner):
    runner.holds.clear()
    runner.stop()
    result = runner.wait()
    assert violations(result) == []
    return result


def events_of(runner, tid, outcome, n=1):
    """Thread tid's events of this outcome, once the drainer has taken at least n of them."""
    def mine():
        e = runner.events.events()
        return e[(e["thread"] == tid) & (e["outcome"] == outcome)]
    until(lambda: len(mine()) >= n, "the event in the stream")
    return mine()


def a_held_at_b_free(algo, point, **kw):
    """Thread 0 stopped at `point` before anything was published; thread 1 frozen at its first point."""
    runner = Runner(cfg(algo=algo, **kw))
    runner.holds.hold(0, point)
    runner.holds.freeze(1)
    runner.start()
    until(lambda: runner.holds.held_at(0) == point and runner.holds.held_at(1) is not None, f"thread 0 at {point}")
    return runner


def let_b_publish(runner, n=1):
    """Let thread 1 run until it has published n updates, then freeze it again."""
    runner.holds.thaw(1)
    until(lambda: thread(runner, 1).updates >= n, "thread 1 to publish")
    runner.holds.freeze(1)
    until(lambda: runner.holds.held_at(1) is not None, "thread 1 to stop")


def test_a_failed_cas_made_on_purpose():
    runner = a_held_at_b_free("leashed", "cas")
    assert runner.state.published() == 0 and thread(runner, 0).cas_fail == 0
    let_b_publish(runner)                       # P moves on while thread 0 holds a candidate built on version 0
    runner.holds.step(0)                        # its CAS fails; it stops again at its next point: the retry
    until(lambda: runner.holds.held_at(0) == "retry", "thread 0 at its retry")
    assert thread(runner, 0).cas_fail == 1 and thread(runner, 0).updates == 0
    failed = events_of(runner, 0, L.OUTCOME_CAS_FAILED)
    assert len(failed) == 1 and failed["t_read"][0] == 0 and failed["t_applied"][0] == 0
    runner.holds.clear()                        # the retry builds on the newer version and publishes
    until(lambda: thread(runner, 0).updates >= 1, "thread 0's retry to publish")
    finish(runner)


def test_a_dropped_gradient_at_tp_0():
    runner = a_held_at_b_free("leashed", "cas", persistence=0)
    let_b_publish(runner)
    runner.holds.step(0)                        # Tp = 0: one attempt only, so the failed CAS drops g
    until(lambda: runner.holds.held_at(0) == "start", "thread 0 back at the start")
    t = thread(runner, 0)
    assert (t.cas_fail, t.dropped, t.updates) == (1, 1, 0)
    assert len(events_of(runner, 0, L.OUTCOME_DROPPED)) == 1
    finish(runner)


def test_a_hogwild_lost_write_made_on_purpose():
    runner = a_held_at_b_free("hogwild", "writing")
    let_b_publish(runner)                       # thread 1 writes every coordinate while thread 0 holds old values
    runner.holds.step(0)                        # thread 0 writes old − η·g over thread 1's writes
    until(lambda: runner.holds.held_at(0) == "counted", "thread 0's write")
    assert thread(runner, 0).lost_updates_sampled >= 1
    assert thread(runner, 1).lost_updates_sampled == 0  # nobody wrote during thread 1's update
    runner.holds.step(0)                        # its update and event are recorded after "counted"
    until(lambda: runner.holds.held_at(0) == "start", "thread 0's event")
    t = thread(runner, 0)
    assert t.updates == 1
    published = events_of(runner, 0, L.OUTCOME_PUBLISHED)
    assert len(published) == 1 and published["lost"][0] == t.lost_updates_sampled
    finish(runner)


def test_a_torn_read_made_on_purpose():
    runner = Runner(cfg(algo="hogwild"))
    runner.holds.hold(1, "writing")             # thread 1's update in flight: ticket taken, not yet counted
    runner.holds.freeze(0)
    runner.start()
    until(lambda: runner.holds.held_at(1) == "writing" and runner.holds.held_at(0) is not None, "the setup")
    assert thread(runner, 0).torn_reads == 0
    runner.holds.step(0)                        # thread 0 reads θ while that update is in flight
    until(lambda: runner.holds.held_at(0) == "read", "thread 0's read")
    assert thread(runner, 0).torn_reads == 1
    finish(runner)


def test_a_frozen_lock_holder_stops_everyone():
    runner = Runner(cfg(algo="lock", threads=3))
    runner.holds.hold(0, "applied")             # holding the lock, the update applied, not yet released
    runner.start()
    until(lambda: runner.holds.held_at(0) == "applied", "thread 0 to hold the lock")
    others = lambda: thread(runner, 1).updates + thread(runner, 2).updates  # noqa: E731
    before = others()
    until(lambda: all(thread(runner, t).state == "lock wait" for t in (1, 2)), "the others to queue")
    time.sleep(0.2)
    assert others() == before                   # blocking: nobody publishes while the holder is frozen
    runner.holds.unhold(0, "applied")
    until(lambda: others() > before, "the others to go on")
    finish(runner)


def test_a_frozen_leashed_thread_stops_no_one():
    runner = Runner(cfg(algo="leashed", threads=3))
    runner.holds.hold(0, "cas")
    runner.start()
    until(lambda: runner.holds.held_at(0) == "cas", "thread 0 to stop")
    before = runner.state.published()
    until(lambda: runner.state.published() >= before + 20, "the others to keep publishing")  # lock-free
    assert runner.holds.held_at(0) == "cas"
    finish(runner)


@pytest.mark.parametrize("algo, point, blocked", [("lock", "holding", True), ("lock", "copied", True),
                                                  ("leashed", "computed", False),
                                                  ("hogwild", "writing", False)])
def test_freeze_option_reports_what_others_did_meanwhile(algo, point, blocked):
    # a time budget, so that the others cannot run out of updates while thread 0 is held
    r = Runner(cfg(algo=algo, threads=2, seconds=3.0, freeze=(0, point, 0.1, 0.3))).start().wait()
    assert violations(r) == []
    f = r.to_json()["freeze"]
    assert f["thread"] == 0 and f["point"] == point and f["held_s"] > 0
    assert (f["updates_by_others_while_held"] == 0) == blocked


@pytest.mark.parametrize("algo", ["leashed", "lock", "hogwild"])
def test_the_delay_adversary_publishes_exactly_tau_stale(algo):
    r = Runner(cfg(algo=algo, threads=2, seconds=None, updates=300, delay=(0, 3))).start().wait()
    assert violations(r) == []
    slow = r.threads[0]
    assert slow.updates > 0 and slow.staleness_min == 3 and sum(slow.staleness_hist[:3]) == 0
    d = r.to_json()["delay"]
    assert d["thread"] == 0 and d["tau"] == 3 and 0 < d["held_updates"] <= slow.gradients
    assert all("staleness_min" in t for t in r.to_json()["per_thread"])


def test_stop_ends_a_run_whose_threads_are_all_held():
    runner = Runner(cfg(algo="sync", threads=2))
    runner.holds.hold(None, "barrier")
    runner.start()
    until(lambda: all(runner.holds.held_at(t) == "barrier" for t in (0, 1)), "both threads held")
    runner.stop()
    assert runner.join(PATIENCE_S) and runner.result().status == "stopped"


def test_the_deadline_ends_a_run_held_in_a_lock():
    r = Runner(cfg(algo="lock", seconds=0.3, freeze=(0, "holding", 0.0, 3600.0))).start()
    assert r.join(PATIENCE_S) and violations(r.result()) == []


def test_the_budget_ends_a_run_with_a_thread_held_for_ever():
    runner = Runner(cfg(algo="leashed", threads=3, seconds=None, updates=100))
    runner.holds.hold(0, "cas")
    runner.start()
    assert runner.join(PATIENCE_S)  # the others publish the budget; the held thread leaves with the run
    r = runner.result()
    assert r.updates == 100 and r.threads[0].updates == 0 and violations(r) == []


@pytest.mark.parametrize("seed", range(4))
def test_invariants_hold_with_breakpoints_at_random_points(seed):
    """benchmarks/stress.py's breakpoint runs: random holds, freezes and steps while threads run."""
    rng = random.Random(seed)
    config = cfg(algo=rng.choice(["lock", "hogwild", "leashed", "sync"]), threads=3, seconds=None, updates=300,
                 persistence=rng.choice([0, 1, None]), audit=True, seed=seed)
    assert violations(stress.run_with_breakpoints(config, rng)) == []


def test_bad_breakpoints_say_what_to_do():
    runner = Runner(cfg(algo="lock"))
    with pytest.raises(ConfigError, match="waiting"):
        runner.holds.hold(0, "cas")
    with pytest.raises(ConfigError, match="0 to 1"):
        runner.holds.freeze(5)
    for bad, words in [(dict(delay=(2, 1)), "threads 3 or more"), (dict(algo="sync", delay=(0, 1)), "never stale"),
                       (dict(freeze=(0, "cas", 0, 1), algo="lock"), "holding"),
                       (dict(freeze=(3, "cas", 0, 1)), "0 to 1")]:
        with pytest.raises(ConfigError, match=words):
            cfg(**bad)
