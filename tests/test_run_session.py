"""The run/compare session without a terminal, on real Runners (tiny synthetic runs): which runs are current,
pause and resume, stop (a waiting run included), slow motion's steps, the sequential hand-over, late results of
replaced runs, and export and recording through the one writer."""
from __future__ import annotations

import json

import pytest

from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.recording import load
from teach_sgd.engine.runner import Runner
from teach_sgd.runs.session import STRETCHES, RunSession, next_stretch, record_runs

TINY = dict(dataset="synthetic", threads=2, batch=8, lr=0.05, seed=3)


def pair(**budget) -> list[Runner]:
    return [Runner(RunConfig(algo=algo, **TINY, **budget)) for algo in ("hogwild", "leashed")]


def end(session: RunSession, runners) -> None:
    for r in runners:
        assert session.ended(r, r.wait()) is None


def test_pause_resume_slow_motion_and_stop_act_on_every_live_run():
    s = RunSession()
    runners = pair(seconds=60.0)
    assert s.begin(runners) == runners  # side by side: both start now
    for r in runners:
        r.start()
    assert s.active and not s.has_results and s.live() == runners
    assert s.toggle_pause() is True and all(r.paused for r in runners)
    assert s.toggle_pause() is False and not any(r.paused for r in runners)
    assert s.step_stretch(+1) == 10 and [r.stretch for r in runners] == [10, 10]
    assert s.step_stretch(-1) == 1 and [r.stretch for r in runners] == [1, 1]
    assert s.stop() == []
    end(s, runners)
    assert s.has_results and not s.active and s.ended_runners() == runners
    assert [r.status for r in s.results] == ["stopped", "stopped"]
    assert s.toggle_pause() is None and s.step_stretch(1) is None  # nothing live: the keys do nothing


def test_sequential_hands_over_to_b_and_stop_ends_a_waiting_b_with_no_updates():
    s = RunSession()
    a, b = pair(updates=200)
    assert s.begin([a, b], sequential=True) == [a]
    a.start()
    assert s.ended(a, a.wait()) is b and not b.started and s.active and not s.has_results
    assert s.stop() == [b]  # B never started: the screen starts it stopped, so it ends at once
    b.start()
    end(s, [b])
    assert s.results[0].status == "finished" and s.results[0].updates >= 200
    assert s.results[1].status == "stopped" and s.results[1].updates == 0


def test_a_restart_stops_the_runs_before_and_ignores_their_late_results():
    s = RunSession()
    old = pair(seconds=60.0)
    s.begin(old)
    for r in old:
        r.start()
    stopped = s.replace()
    assert stopped == old and not s.active and s.runners == []
    for r in stopped:
        assert r.join(30.0) and r.status() == "stopped"
    new = pair(updates=100)
    s.begin(new)
    assert s.ended(old[0], old[0].result()) is None and s.results == [None, None]


def test_export_and_record_write_every_run_once_it_has_ended(tmp_path):
    s = RunSession()
    runners = pair(updates=200)
    s.begin(runners)
    with pytest.raises(ValueError):
        s.export(tmp_path, s.export_stem(), "<svg/>")
    for r in runners:
        r.start()
    end(s, runners)
    assert s.export_stem() == "compare-hogwild-vs-leashed"
    paths = s.export(tmp_path, s.export_stem(), "<svg/>")
    assert sorted(p.suffix for p in paths) == [".csv", ".json", ".svg"]
    shown = json.loads(next(p for p in paths if p.suffix == ".json").read_text())["runs"]
    assert [(run["algo"], run["updates"]) for run in shown] == [(r.config.algo, r.updates)
                                                                          for r in s.results]
    assert s.export(tmp_path, s.export_stem(), "<svg/>") != paths  # a second export overwrites nothing
    recorded = record_runs(s.ended_runners(), tmp_path, s.record_stem())
    assert [p.name.endswith(f"-{tag}.npz") for p, tag in zip(recorded, "AB")] == [True, True]
    assert s.record_stem() == "recording-hogwild-m2-vs-leashed-m2"
    assert [load(p).result.updates for p in recorded] == [r.updates for r in s.results]


def test_one_run_is_named_for_its_algorithm_and_threads():
    s = RunSession()
    s.begin([Runner(RunConfig(algo="lock", **TINY, updates=50))])
    assert s.export_stem() == "run-lock-m2" and s.record_stem() == "recording-lock-m2"


def test_slow_motion_steps_along_the_stretches_and_stays_within_them():
    assert [next_stretch(1, 1), next_stretch(10, 1), next_stretch(1000, 1)] == [10, 100, 1000]
    assert [next_stretch(100, -1), next_stretch(1, -1)] == [10, 1]
    assert next_stretch(300, 1) == 1000 and next_stretch(7, -1) == 1  # from the nearest step
    assert STRETCHES[0] == 1
