"""ThreadControls (runs/controls.py) without a terminal, on real Runners: the learner's breakpoints, freeze, step,
continue and clear on real threads; what each thread is doing; the action log and its observers; the others'
measured rate while a thread is held (LOCK blocking, Leashed-SGD lock-free); stop ends a run with held threads
and every invariant holds. Waits poll the run's state; their timeouts only keep a broken engine from hanging
the suite (no test asserts a wall time)."""
from __future__ import annotations

import time

import pytest

from teach_sgd.engine.config import POINTS, RunConfig
from teach_sgd.engine.invariants import violations
from teach_sgd.engine.runner import Runner
from teach_sgd.errors import ConfigError
from teach_sgd.runs.controls import GUARANTEES, Progress, ThreadControls, slow_motion_label
from waits import until

TINY = dict(dataset="synthetic", threads=2, batch=8, lr=0.05, seed=3, updates=None, seconds=120, eval_every_s=1.0)


def started(*algos, **kw) -> list[Runner]:
    return [Runner(RunConfig(algo=a, **{**TINY, **kw})).start() for a in algos]


def finish(runners) -> None:
    for r in runners:
        r.stop()
        result = r.wait()
        assert violations(result) == []


def test_hold_thread_0_at_cas_step_and_continue_on_real_leashed_threads():
    runners = started("leashed")
    seen = []
    c = ThreadControls(lambda: runners)
    c.observers.append(seen.append)
    try:
        assert c.selected == (0, 0)
        a = c.hold("cas")
        assert a.what == "hold" and a.point == "cas" and a.tid == 0 and len(a.per_thread) == 2
        assert "thread 0" in c.last and "cas" in c.last
        until(lambda: runners[0].holds.held_at(0) == "cas", "thread 0 at cas")
        assert c.doing(0, 0) == "held at cas" and c.marks(0) == {0: "cas"}
        assert c.doing(0, 1) == "running"
        # thread 1 keeps publishing while thread 0 is held: lock-free
        p = c.progress(0)
        assert p is not None and p.held == (0,) and p.guarantee == "lock-free"
        n1 = runners[0].state.thread_stats()[1].updates
        until(lambda: runners[0].state.thread_stats()[1].updates > n1 + 20, "thread 1 to publish")
        assert c.progress(0).others_updates > 0
        # step: leaves cas, goes to its next point and stops there (frozen)
        c.step()
        until(lambda: c.doing(0, 0).startswith("frozen at") and c.marks(0).get(0) != "cas"
              or c.doing(0, 0) == "frozen at cas", "thread 0 to reach its next point")
        assert c.doing(0, 0).startswith("frozen at")
        c.continue_all()
        until(lambda: c.doing(0, 0) in ("running to cas", "held at cas"), "thread 0 to go on")
        assert [x.what for x in seen] == ["hold", "step", "continue"] and seen == c.log
    finally:
        finish(runners)


def test_breakpoint_cycles_through_the_algorithms_points_then_none():
    runners = started("hogwild")
    c = ThreadControls(lambda: runners)
    try:
        got = [c.cycle_breakpoint().point for _ in POINTS["hogwild"]]
        assert got == list(POINTS["hogwild"])
        a = c.cycle_breakpoint()
        assert a.what == "unhold"
        # let go, the thread leaves its point when it next runs: not necessarily before the next line
        until(lambda: c.doing(0, 0) == "running", "thread 0 running again, with no breakpoint")
        with pytest.raises(ConfigError, match="points"):
            c.hold("cas")  # HOGWILD! has no CAS
        c.move(1)
        assert c.selected == (0, 1)
        c.hold("writing", every=True)
        until(lambda: c.marks(0) == {0: "writing", 1: "writing"}, "both threads at writing")
        p = c.progress(0)
        assert p.others == 0 and "every thread is held" in p.line()
    finally:
        finish(runners)


def test_freezing_the_lock_holder_stops_everyone_and_the_others_queue_at_waiting():
    runners = started("lock", threads=3)
    t = [0.0]
    c = ThreadControls(lambda: runners, clock=lambda: t[0])
    try:
        c.hold("holding")   # thread 0 stops holding the lock
        until(lambda: c.marks(0) == {0: "holding"}, "thread 0 inside the lock")
        p0 = c.progress(0)
        until(lambda: all(s.state == "lock wait" for s in runners[0].state.thread_stats()[1:]),
              "the others to queue for the lock")
        published = runners[0].state.published()
        time.sleep(0.3)     # the others would publish hundreds of updates in this time if they could
        t[0] = 1.0
        p = c.progress(0)
        assert runners[0].state.published() == published
        assert p.seconds == 1.0 and p.others_updates == 0 and p.rate == 0.0 and p0.held == (0,)
        assert p.line() == "others: 0 updates/s while thread 0 is held — LOCK is blocking"
        assert c.status() == "thread 0 held at holding · " + p.line() and "stops every other thread" in p.why
        assert c.toggle_freeze().what == "thaw"  # held at a breakpoint: f lets it go (the breakpoint stays) …
        # … and says so, since it stops there again at once, which read as if f had done nothing
        assert c.last == "thawed: thread 0 runs on to its breakpoint “holding” (U clears breakpoints)"
        assert c.doing(0, 0) in ("running to holding", "held at holding")  # … so it may stop at its next holding
        c.unhold()  # (the copy's holding and the apply's are one point: only without it do the others go on)
        until(lambda: runners[0].state.published() > published, "updates again")
    finally:
        finish(runners)


def test_freeze_toggles_and_clear_lets_everyone_go_and_stop_ends_runs_with_held_threads():
    runners = started("hogwild", "leashed")  # Compare: A and B
    c = ThreadControls(lambda: runners)
    try:
        assert c.lanes() == [(0, 0), (0, 1), (1, 0), (1, 1)]
        c.move(-1)
        assert c.selected == (1, 1)
        assert "B: thread 1" in c.last
        c.toggle_freeze(every=True)
        until(lambda: c.marks(1).keys() == {0, 1}, "B's threads frozen")
        c.toggle_freeze(every=True)
        assert c.last == "thawed: B: every thread goes on"  # no breakpoint: nothing stops them again
        until(lambda: c.marks(1) == {}, "B's threads to run")
        c.toggle_freeze(every=True)
        until(lambda: c.marks(1).keys() == {0, 1}, "B's threads frozen again")
        assert c.doing(1, 1).startswith("frozen at") and c.marks(0) == {}
        assert c.anything_asked()
        c.clear()
        until(lambda: c.marks(1) == {}, "B's threads to run")
        assert not c.anything_asked()
        c.hold("computed", every=True)
        c.move(-2)   # A: thread 1
        c.hold("read", every=True)
        until(lambda: len(c.marks(0)) == 2 and len(c.marks(1)) == 2, "every thread held")
    finally:
        finish(runners)  # stop with every thread held: the runs end, invariants hold
    assert all(r.done for r in runners) and not c.live
    assert c.hold("read") is None and c.continue_all() is None  # nothing live: nothing done, nothing logged


def test_a_new_run_forgets_the_old_runs_breakpoints():
    current = started("leashed")
    c = ThreadControls(lambda: current)
    try:
        c.hold("cas")
        assert c.doing(0, 0) in ("running to cas", "held at cas")
    finally:
        finish(current)
    current[:] = started("leashed")
    try:
        assert c.doing(0, 0) == "running" and not c.anything_asked()
    finally:
        finish(current)


def test_progress_line_names_the_guarantee_of_each_algorithm():
    for algo, (name, _) in GUARANTEES.items():
        p = Progress(algo=algo, held=(1,), seconds=2.0, others_updates=400, others=3)
        assert p.rate == 200.0 and name in p.line()
    assert Progress("leashed", (1,), 0.1, 5, 1).rate is None  # too short a window to say
    assert "trivially" in Progress("hogwild", (0, 2), 1.0, 0, 2).why
    assert "threads 0, 2 are held" in Progress("hogwild", (0, 2), 1.0, 0, 2).line()


def test_while_paused_the_status_line_claims_no_rate_and_resuming_measures_afresh():
    """Paused, the others are parked by the pause: "others: 1,104 updates/s … lock-free" (the rate decaying over
    a window that began before the pause) was what the Playground said; found trying space on a held run."""
    runners = started("leashed")
    c = ThreadControls(lambda: runners)
    try:
        c.hold("start")
        until(lambda: runners[0].holds.held_at(0) == "start", "thread 0 at start")
        runners[0].pause()
        status = c.status()
        assert status.endswith("run paused — nobody publishes until space resumes it; thread 0 is held")
        assert "updates/s" not in status and "lock-free" not in status
        runners[0].resume()
        p = c.progress(0)
        assert not p.paused and p.seconds < 0.5 and "updates/s" not in p.line()  # a new window: "measuring…"
        n1 = runners[0].state.thread_stats()[1].updates
        until(lambda: runners[0].state.thread_stats()[1].updates > n1 + 20, "thread 1 to publish again")
        assert "lock-free" in c.status()
    finally:
        finish(runners)


def test_a_wide_status_line_says_what_the_guarantee_means():
    p = Progress("lock", (0,), 2.0, 0, 2)
    assert p.line() == "others: 0 updates/s while thread 0 is held — LOCK is blocking"
    assert p.line(explain=True) == p.line() + ": a thread held inside the lock stops every other thread"


def test_a_lock_thread_held_outside_the_lock_is_not_said_to_block_anyone():
    for point in POINTS["lock"]:
        line = Progress("lock", (0,), 2.0, 4000, 1, points=(point,)).line()
        inside = point in ("holding", "copied", "applied")
        assert line == ("others: 2,000 updates/s while thread 0 is held — LOCK is blocking" if inside else
                        "others: 2,000 updates/s while thread 0 is held outside the lock — LOCK blocks only from "
                        "inside it"), point
    both = Progress("lock", (0, 1), 2.0, 0, 1, points=("start", "copied")).line()
    assert both.endswith("— LOCK is blocking")  # one of them holds the lock


def test_slow_motion_label_only_with_more_threads_than_cores_and_claims_no_measurement():
    assert slow_motion_label(16, 1, cores=2) is None      # full speed: they take turns on the cores
    assert slow_motion_label(2, 100, cores=2) is None     # a core each already
    text = slow_motion_label(16, 100, cores=2)
    assert text.startswith("16 threads in slow motion on 2 cores") and "about 1/100" in text
    assert "0.16 cores" in text and "not measured" in text


def test_right_after_U_no_thread_is_shown_held():
    """After U the status line said "thread 0 held at start" until the thread woke to find its hold gone (it looks
    every 200 µs, later on a busy machine, and the screen repaints in between): nothing holds it any more."""
    runners = started("leashed")
    c = ThreadControls(lambda: runners)
    try:
        c.hold("start", every=True)
        until(lambda: c.marks(0) == {0: "start", 1: "start"}, "both threads held at start")
        c.clear()
        assert c.marks(0) == {} and c.status() is None and c.doing(0, 0) == "running"
        until(lambda: all(runners[0].holds.held_at(t) is None for t in (0, 1)), "both threads awake")
        c.hold("start")  # held again at the point U let it go from: shown again
        until(lambda: c.marks(0) == {0: "start"}, "thread 0 held at start again")
        assert c.doing(0, 0) == "held at start"
    finally:
        finish(runners)


def test_f_on_a_thread_a_lesson_race_holds_says_so_and_shows_it_held_again():
    """A lesson race sets its breakpoints on the engine directly (lessons/races.py), not through these controls:
    f there runs the thread on to that breakpoint, where it is shown held again — not hidden as let go."""
    runners = started("leashed")
    c = ThreadControls(lambda: runners)
    try:
        runners[0].holds.hold(0, "cas")
        until(lambda: c.marks(0) == {0: "cas"}, "thread 0 held at cas")
        # counted before the thaw: read after it, a thread that published at once and stopped at cas again on its
        # next update would never be seen to go on (failed once in a fresh-clone CI run)
        t = runners[0].state.thread_stats()[0]
        c.toggle_freeze()
        assert c.last == "thawed: thread 0 runs on to its breakpoint “cas” (U clears breakpoints)"
        # it went on: published, or (thread 1 having published meanwhile, as it always has after a hold) its CAS
        # failed, and with Tp = ∞ it retries — and stops at cas again before that CAS
        until(lambda: (lambda u: u.updates + u.cas_fail > t.updates + t.cas_fail)(runners[0].state.thread_stats()[0]),
              "thread 0 to go on from cas")
        until(lambda: c.doing(0, 0) == "held at cas", "thread 0 shown held at cas again")
    finally:
        finish(runners)
