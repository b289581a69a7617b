"""The event stream, slow motion and recordings, on real threads.

Every assertion holds for every interleaving: event counts against the counters the kernels keep, byte-equal
JSON, snapshots equal to the samples they were built from, what slow motion stretches.
"""
import json
import time

import numpy as np
import pytest
from numba import njit

from teach_sgd.commands.main import main
from teach_sgd.engine import control as ctl, layout as L, native
from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.events import EVENT_DTYPE
from teach_sgd.engine.invariants import violations
from teach_sgd.engine.recording import load
from teach_sgd.engine.runner import Runner
from teach_sgd.errors import EXIT_USAGE, UsageError
from teach_sgd.replay import ReplayClock, ReplaySource
from teach_sgd.timeline import TimelineView, layout, story


def cfg(**kw):
    base = dict(dataset="synthetic", updates=400, batch=8, lr=0.05, eval_every_s=0.01, seed=3)
    base.update(kw)
    return RunConfig(**base)


def per_thread(events, outcome):
    return np.bincount(events["thread"][events["outcome"] == outcome], minlength=1)


@pytest.mark.parametrize("algo,threads,persistence", [("leashed", 4, None), ("leashed", 8, 0), ("lock", 4, None),
                                                      ("hogwild", 4, None)])
def test_timeline_events_equal_the_counters_per_thread(algo, threads, persistence):
    runner = Runner(cfg(algo=algo, threads=threads, persistence=persistence))
    result = runner.start().wait()
    events = runner.events.events()
    assert result.events_missed == 0
    for t in result.threads:
        mine = events[events["thread"] == t.thread]
        assert (mine["outcome"] == L.OUTCOME_PUBLISHED).sum() == t.updates
        assert (mine["outcome"] == L.OUTCOME_CAS_FAILED).sum() == t.cas_fail
        assert (mine["outcome"] == L.OUTCOME_DROPPED).sum() == t.dropped
        if algo == "hogwild":  # lost writes and torn reads of published updates (an abandoned one may add one)
            assert 0 <= t.lost_updates_sampled - mine["lost"].sum() <= 1
            assert 0 <= t.torn_reads - mine["torn"].sum() <= 1
        if algo == "lock":  # lock waits of published updates; an abandoned last one waited too
            assert mine["wait_ns"].sum() <= t.lock_wait_s * 1e9 + 1
    # each lane draws its own thread's events, and every published update as a bar or its mark (a thread's
    # next gradient reads a newer version, so nothing of its own covers a bar; a failed CAS and the drop that
    # follows it may share a column)
    view = TimelineView(algo)
    lo, hi = float(events["t_read"].min()), float(events["t_applied"].max() + 1)
    lanes = layout(events, view.axis, lo, hi, 10_000, threads)
    for thread, lane in enumerate(lanes):
        assert all(events[cell.event]["thread"] == thread for cell in lane.values())
    drawn = {cell.event for lane in lanes for cell in lane.values()}
    assert set(np.nonzero(events["outcome"] == L.OUTCOME_PUBLISHED)[0]) <= drawn


def test_64_threads_at_full_speed_miss_no_event():
    """64 threads on 2 cores: every event written is either in the stream or counted as missed — and with
    the ring sized for the drain period, none is missed."""
    runner = Runner(RunConfig(algo="leashed", threads=64, updates=20_000, dataset="synthetic", batch=4, seed=1))
    result = runner.start().wait()
    written = sum(t.updates + t.cas_fail + t.dropped + t.abandoned for t in result.threads)
    assert result.events_recorded + result.events_missed == written == runner.state.event_head()
    assert result.events_missed == 0
    assert result.to_json()["events"] == {"recorded": written, "missed": 0, "dropped": 0, "kept_from_s": None}


@pytest.mark.parametrize("algo", ["seq", "lock", "hogwild", "leashed", "sync"])
def test_slow_motion_keeps_every_invariant_and_every_event(algo):
    """At 10× and 100× (engine/phase.py; HOGWILD! writes in two passes) every invariant still holds, a budget
    of updates is published exactly and every event is in the stream. How long slow motion makes a run is a
    benchmark's business (benchmarks/bench_slowmo.py), not a test's: under other load a test of wall time is
    flaky. What a window's stretch is made of is tested below."""
    threads = 1 if algo == "seq" else 2
    for stretch in (10, 100):
        r = Runner(cfg(algo=algo, threads=threads, updates=20, stretch=stretch, audit=True, eval_every_s=1.0)
                   ).start().wait()
        assert violations(r) == []
        attempts = sum(t.cas_fail + t.dropped + t.abandoned for t in r.threads) if algo == "leashed" else 0
        assert r.updates == 20 and r.events_recorded == 20 + attempts and r.events_missed == 0
        if algo == "hogwild":
            assert sum(t.sampled_writes for t in r.threads) > 0  # the two-pass write still observes its writes


@njit(nogil=True)
def _window_with_a_wait(control, wait_ns, work):
    """A window in which this thread waits `wait_ns` off the CPU (as when descheduled) and works `work` steps."""
    start = ctl.window_start(control)
    native.sleep_ns(wait_ns)
    x = 0.0
    for i in range(work):
        x += np.sqrt(i + x)
    return ctl.stretch_ns(control, start), x


def test_slow_motion_stretches_the_work_of_a_window_not_the_time_it_waited_for_a_core():
    """A thread descheduled inside a window must not get a window s × as long as the wait (issue 16 item 10:
    at 1000× on a busy machine, one preemption made a window of seconds, and Leashed-SGD threads that kept
    losing their CAS in it published nothing while others published dozens). 50 ms off the CPU at 100× would
    be ~5 s of stretch if waiting counted; the work of the window is what is stretched."""
    control = np.zeros(L.CONTROL_WORDS, np.int64)
    control[L.STRETCH] = 100
    _window_with_a_wait(control, 0, 10)  # compile
    stretch, _ = _window_with_a_wait(control, 50_000_000, 200_000)
    assert 0 < stretch < 99 * 25_000_000  # far below 99 × the wait (≈ 4.95 s): the wait is not stretched
    control[L.STRETCH] = 1
    assert _window_with_a_wait(control, 1_000_000, 10)[0] == 0  # 1×: no stretch, no clock read


def test_slow_motion_stretches_lock_s_copy_inside_the_lock():
    """LOCK holds its lock for the copy of θ and for the apply; both are stretched (at "copied" and "applied",
    before each unlock), so in slow motion the lock is held the same share of the time as at 1×. The copy's
    phase time includes its stretch: at 100× it is tens of times the 1× copy (a bound far below 100×, so a
    preempted 1× copy cannot fail it)."""
    def copy_per_update(stretch):
        r = Runner(cfg(algo="lock", threads=1, updates=40, stretch=stretch)).start().wait()
        assert r.updates == 40 and violations(r) == []
        return sum(t.copy_s for t in r.threads) / r.updates
    assert copy_per_update(100) > 10 * copy_per_update(1)


def test_stretch_changes_live_and_cas_failures_show_one_by_one():
    runner = Runner(cfg(algo="leashed", threads=4, updates=None, seconds=1.5, stretch=1000)).start()
    time.sleep(0.7)
    slow = runner.snapshot().updates
    result = runner.wait()
    assert slow < 60  # 1000×: a handful of updates per thread and second, each one visible
    events = runner.events.events()
    assert result.updates == (events["outcome"] == L.OUTCOME_PUBLISHED).sum()
    assert sum(t.cas_fail for t in result.threads) == (events["outcome"] == L.OUTCOME_CAS_FAILED).sum()
    assert runner.set_stretch("10") == 10 and runner.stretch == 10
    with pytest.raises(UsageError):
        runner.set_stretch(0)


def test_recording_replays_to_the_same_numbers(tmp_path):
    runner = Runner(cfg(algo="leashed", threads=4, updates=None, seconds=0.6, persistence=1)).start()
    result = runner.wait()
    path = runner.save_recording(tmp_path / "run.npz")
    rec = load(path)
    assert rec.result_json == result.json_text()
    assert json.loads(rec.result_json)["events"] == {"recorded": result.events_recorded, "missed": 0, "dropped": 0,
                                                     "kept_from_s": None}
    assert np.array_equal(rec.events, runner.events.events())
    assert rec.config == result.config and rec.machine["cores"] >= 1
    samples = runner.samples.copy()
    assert len(samples) >= 5  # 15 Hz over 0.6 s
    for s in samples[:: max(1, len(samples) // 5)]:  # the panel values at sampled times
        live = runner_snapshot = rec.snapshot_at(s.time)
        assert live.updates == s.updates and live.elapsed_s == s.time and live.status == s.status
        assert [t.cas_fail for t in runner_snapshot.threads] == [int(c[L.C_CAS_FAIL]) for c in s.telemetry["counters"]]
        assert live.staleness_hist == tuple(int(x) for x in s.telemetry["staleness"].sum(axis=0))
    end = rec.snapshot_at(rec.duration_s + 1)
    assert end.updates == result.updates and [t.updates for t in end.threads] == [t.updates for t in result.threads]
    back = rec.result
    assert back.updates == result.updates and back.threads == result.threads
    assert back.loss_final == result.loss_final and back.staleness_hist == result.staleness_hist


def test_replay_source_follows_its_clock(tmp_path):
    runner = Runner(cfg(algo="lock", threads=2, updates=600)).start()
    runner.wait()
    rec = load(runner.save_recording(tmp_path / "r.npz"))
    now = [0.0]
    src = ReplaySource(rec, now=lambda: now[0])
    assert src.snapshot().updates <= rec.snapshot_at(0).updates
    now[0] = rec.duration_s / 2
    half = src.snapshot()
    assert half.elapsed_s <= rec.duration_s / 2 and len(src.events_now()) <= len(rec.events)
    now[0] = rec.duration_s * 2
    assert src.done and src.result().updates == 600


def test_replay_clock():
    now = [100.0]
    c = ReplayClock(10.0, now=lambda: now[0])
    now[0] += 2
    assert c.t == 2.0
    c.set_speed(1)  # 2×
    now[0] += 1
    assert c.t == pytest.approx(4.0)
    c.toggle()
    now[0] += 5
    assert c.t == pytest.approx(4.0) and not c.playing
    assert c.step(3) == pytest.approx(4.2)
    assert c.jump(99) == 10.0 and c.at_end
    c.toggle()  # play at the end starts over
    assert c.t == 0.0 and c.playing


def test_story_tells_a_failed_cas():
    runner = Runner(cfg(algo="leashed", threads=8, updates=800)).start()
    runner.wait()
    events = runner.events.events()
    failed = np.nonzero(events["outcome"] == L.OUTCOME_CAS_FAILED)[0]
    if len(failed) == 0:
        pytest.skip("no CAS failed in this run")
    e = events[failed[0]]
    later = np.nonzero((events["thread"] == e["thread"]) & (events["t_start"] == e["t_start"])
                       & (events["outcome"] == L.OUTCOME_PUBLISHED))[0]
    text = story(events, int(later[0]) if len(later) else int(failed[0]), "leashed")
    assert f"thread {e['thread']} read v{e['t_read']}" in text
    assert f"tried to publish on v{e['t_applied']}: CAS failed — thread" in text
    if len(later):
        assert "published v" in text and "τ = " in text


def _events(*rows):
    """Events by hand: (thread, t_start, t_read, t_applied, attempts, outcome, lost), k in order."""
    out = np.zeros(len(rows), EVENT_DTYPE)
    for k, (th, start, read, applied, attempts, outcome, lost) in enumerate(rows):
        out[k] = (k, start, start + 1_000_000, read, applied, 0, attempts, lost, th, outcome, 0)
    return out


def test_stories_say_only_what_happened_at_each_persistence_bound():
    """Tp = 0: thread 0's one CAS fails and it drops its gradient — nothing is rebuilt, and '1 failed attempt'
    (issue 16 item 14). Tp = 1: a failure, a rebuild, a second failure, a drop — one rebuild only. Tp = ∞: two
    failures, each followed by a rebuild, then the publish."""
    P, F, D = L.OUTCOME_PUBLISHED, L.OUTCOME_CAS_FAILED, L.OUTCOME_DROPPED
    tp0 = _events((1, 0, 3, 5, 1, P, 0), (0, 10, 3, 5, 1, F, 0), (0, 10, 3, 5, 1, D, 0))
    text = story(tp0, 2, "leashed")
    assert "tried to publish on v5: CAS failed — thread 1 had published v6" in text
    assert "rebuilt" not in text
    assert text.endswith("dropped its gradient after 1 failed attempt (persistence bound Tp = 0: one attempt, "
                         "no retry)")
    tp1 = _events((1, 0, 3, 5, 1, P, 0), (2, 0, 4, 6, 1, P, 0), (0, 10, 3, 5, 1, F, 0), (0, 10, 3, 6, 2, F, 0),
                  (0, 10, 3, 6, 2, D, 0))
    text = story(tp1, 4, "leashed")
    assert text.count("rebuilt on a newer version") == 1
    assert text.endswith("after 2 failed attempts (persistence bound Tp = 1)")
    inf = _events((1, 0, 3, 5, 1, P, 0), (2, 0, 4, 6, 1, P, 0), (0, 10, 3, 5, 1, F, 0), (0, 10, 3, 6, 2, F, 0),
                  (0, 10, 3, 7, 3, P, 0))
    text = story(inf, 4, "leashed")
    assert text.count("rebuilt on a newer version") == 2 and "published v8" in text
    assert "rebuilt" not in story(inf, 2, "leashed")  # the failure itself, selected: what came next is later


def test_hogwild_stories_count_in_their_units():
    P = L.OUTCOME_PUBLISHED
    text = story(_events((0, 0, 1, 4, 0, P, 1)), 0, "hogwild")
    assert "after 1 update had been applied" in text
    assert "1 sampled coordinate write of it overwrote another thread's write (lost writes)" in text
    assert "after 2 updates had" in story(_events((0, 0, 2, 4, 0, P, 0)), 0, "hogwild")


@pytest.mark.parametrize("content", [None, b"not a zip", b"PK\x03\x04broken"])
def test_a_bad_recording_is_one_line_and_exit_2(tmp_path, capsys, content):
    path = tmp_path / "rec.npz"
    if content is not None:
        path.write_bytes(content)
    assert main(["replay", str(path), "--json", str(tmp_path / "out.json")]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("teach-sgd: recording") and "\n" not in err
    np.savez(path, something=np.zeros(3))
    assert main(["replay", str(path), "--json", str(tmp_path / "out.json")]) == EXIT_USAGE


def test_replay_json_is_the_runs_json(tmp_path):
    rec, out, ran = tmp_path / "r.npz", tmp_path / "replayed.json", tmp_path / "ran.json"
    assert main(["run", "--algo", "hogwild", "--threads", "2", "--updates", "300", "--dataset", "synthetic",
                 "--record", str(rec), "--json", str(ran)]) == 0
    assert main(["replay", str(rec), "--json", str(out), "--csv", str(tmp_path / "e.csv"),
                 "--svg", str(tmp_path / "t.svg")]) == 0
    assert out.read_bytes() == ran.read_bytes()
    lines = (tmp_path / "e.csv").read_text().splitlines()
    assert len(lines) == 1 + json.loads(ran.read_text())["events"]["recorded"]
    assert (tmp_path / "t.svg").read_text().startswith("<svg")


class _Ring:
    """A ring the test writes by hand: events_at/event_head as RunState gives them."""

    ring_size = 8

    def __init__(self):
        self.rows = np.zeros((self.ring_size, L.EVENT_FIELDS), np.int64)
        self.head = 0

    def write(self, k: int, ready: bool = True) -> None:
        self.rows[k % self.ring_size, L.E_THREAD] = k % 3
        self.rows[k % self.ring_size, L.E_READY] = k + 1 if ready else 0
        self.head = max(self.head, k + 1)

    def event_head(self) -> int:
        return self.head

    def events_at(self, ks):
        slots = ks % self.ring_size
        return self.rows[slots].copy(), self.rows[slots, L.E_READY].copy()


def test_an_event_still_being_written_holds_back_the_later_ones_and_no_view_changes():
    """Event 1's writer has not finished at the first drain: events 2 and 3 wait for it, so the stream only
    grows at its end, in index order, and a view handed out earlier never changes."""
    from teach_sgd.engine.events import EventLog

    ring = _Ring()
    log = EventLog(ring)
    ring.write(0)
    ring.write(1, ready=False)
    ring.write(2)
    ring.write(3)
    log.drain()
    first = log.events()
    assert list(first["k"]) == [0] and log.missed == 0
    ring.write(1)
    ring.write(4)
    log.drain()
    assert list(log.events()["k"]) == [0, 1, 2, 3, 4] and list(first["k"]) == [0]
    ring.write(5, ready=False)
    ring.write(6)
    log.finish()  # the writer of 5 never finished: it was overwritten, and 6 is still taken
    assert list(log.events()["k"]) == [0, 1, 2, 3, 4, 6] and log.missed == 1 and log.recorded == 6


def test_a_long_runs_event_log_stays_under_its_bound_and_says_what_it_dropped(tmp_path, monkeypatch):
    """Issue 17: the event log is bounded (EVENT_LOG_BYTES; here 600 events' worth, the same setting a real run
    reads). A run that writes ~30× that keeps its newest events, in order, under the bound; the result, the CLI
    summary, the recording and its replay, and the timeline say how many were dropped and from when on they
    are kept."""
    from teach_sgd import report
    from teach_sgd.engine import events
    from teach_sgd.tui.widgets.timeline import TimelinePanel

    bound = 600 * EVENT_DTYPE.itemsize
    monkeypatch.setattr(events, "EVENT_LOG_BYTES", bound)
    runner = Runner(cfg(algo="leashed", threads=2, updates=20_000, batch=2)).start()
    largest = 0
    while not runner.done:
        largest = max(largest, runner.events.nbytes)
        time.sleep(0.005)
    result = runner.wait()
    log = runner.events
    kept = log.events()
    assert max(largest, log.nbytes) <= bound and len(kept) <= 600
    assert log.dropped > 0 and log.recorded == log.dropped + len(kept) and log.recorded >= 20_000
    assert np.all(np.diff(kept["k"]) > 0) and kept["k"][-1] >= log.recorded - 1  # the newest, in order
    assert result.events_dropped == log.dropped and result.events_kept_from_s == kept["t_end"][0] * 1e-9
    note = f"events before t={result.events_kept_from_s:.2f} s not kept (log bound {bound / 2**20:g} MiB)"
    assert note in report.run_summary(result)
    assert json.loads(result.json_text())["events"]["dropped"] == log.dropped
    rec = load(runner.save_recording(tmp_path / "r.npz"))
    assert np.array_equal(rec.events, kept) and rec.result.events_dropped == log.dropped
    now = [0.0]
    src = ReplaySource(rec, now=lambda: now[0])
    now[0] = rec.duration_s * 2
    assert np.array_equal(src.events_now(), kept) and src.events_kept_from_s() == result.events_kept_from_s
    panel = TimelinePanel()
    panel.show(kept, "leashed", 2, 0, src.events_kept_from_s())
    assert note in str(panel.border_title)


def test_a_lesson_keeps_each_runs_newest_events_and_never_gives_another_runs():
    """EventLog.newest and KeptRuns (lessons/session.py): a finished run's events outlive its Runner, cut to the
    newest N with the cut said; KeptRuns holds at most RUNS runs, the oldest going first, and gives a run's events
    only for that run (a re-run under the same name, or its result read back from disk, must not get them)."""
    from teach_sgd.engine.events import dropped_note
    from teach_sgd.lessons.session import KeptRuns

    runner = Runner(cfg(algo="leashed", threads=2)).start()
    result = runner.wait()
    events = runner.events_now()
    whole = runner.events.newest(len(events))
    assert len(whole.events) == result.events_recorded and whole.kept_from_s is None
    tail = runner.events.newest(100)
    assert (tail.events == events[-100:]).all() and tail.kept_from_s == events[-100]["t_end"] * 1e-9
    assert dropped_note(tail.kept_from_s, tail.bound) == f"events before t={tail.kept_from_s:.2f} s not kept " \
                                                         f"(the newest 100 kept)"
    kept = KeptRuns()
    kept.keep(("1", "e", "a"), result, whole)
    assert kept.get(("1", "e", "a"), result) is whole
    other = Runner(cfg(algo="leashed", threads=2, seed=4)).start().wait()
    assert kept.get(("1", "e", "a"), other) is None, "another run under the same name"
    for k in range(KeptRuns.RUNS):
        kept.keep(("1", "e", str(k)), result, tail)
    assert kept.get(("1", "e", "a"), result) is None and kept.get(("1", "e", "0"), result) is tail
