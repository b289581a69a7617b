"""The replay screen and R: a recording on the dashboard shows, at each time, the sample the live run took then,
and at the end the recorded RunResult; R writes a recording that replays."""
from __future__ import annotations

import json

import numpy as np
import pytest

from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.recording import load
from teach_sgd.engine.runner import Runner
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.lesson import LessonScreen
from teach_sgd.tui.screens.present import PresenterScreen
from teach_sgd.tui.screens.replay import ReplayScreen
from teach_sgd.tui.widgets.plots import VersionsPlot
from teach_sgd.tui.widgets.thread_table import ThreadTable
from teach_sgd.tui.widgets.timeline import TimelinePanel

from tui_helpers import SIZE, sync, until


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    runner = Runner(RunConfig(algo="leashed", threads=4, seconds=1.0, dataset="synthetic", batch=8, seed=2,
                              eval_every_s=0.05)).start()
    runner.wait()
    return load(runner.save_recording(tmp_path_factory.mktemp("rec") / "run.npz"))


def shown_threads(table: ThreadTable, threads) -> list:
    return [table.numbers(t.thread)["updates"] for t in threads]


def assert_shows_sample(screen, rec, i: int) -> None:
    """Every panel holds what the live dashboard showed at sample i: its snapshot, and the history up to it."""
    dash, snap = screen.dash, rec.snapshot_at(rec.times[i])
    assert dash.last_snapshot.elapsed_s == snap.elapsed_s == rec.times[i]
    assert dash.last_snapshot.updates == snap.updates
    assert shown_threads(dash.query_one(ThreadTable), snap.threads) == [f"{t.updates:,}" for t in snap.threads]
    assert dash.query_one(VersionsPlot)._ts == [float(x) for x in rec.times[:i + 1]]
    timeline = dash.query_one(TimelinePanel)
    assert np.array_equal(timeline.events, rec.events[:snap.events_recorded]) and 0 < snap.events_recorded


@sync
async def test_replay_screen_plays_steps_jumps_and_ends_on_the_run_result(tmp_path, recording):
    rec = recording
    app = TeachSGDApp(lessons=[], export_dir=tmp_path / "exports", warm_kernels=False, replay=rec)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        clock = screen.source.clock
        await until(lambda: clock.t > 0.2)  # it plays at 1×
        await pilot.press("space")
        assert not clock.playing
        await pilot.press("5")  # half way
        i = rec.index_at(rec.duration_s / 2)
        assert clock.t == pytest.approx(rec.duration_s / 2)
        assert_shows_sample(screen, rec, i)
        await pilot.press("full_stop", "full_stop")  # two samples on
        assert_shows_sample(screen, rec, rec.index_at(rec.duration_s / 2 + 2 / 15))
        await pilot.press("comma")
        assert_shows_sample(screen, rec, rec.index_at(clock.t))
        await pilot.press("1")  # back to 10 %: the history starts over
        assert_shows_sample(screen, rec, rec.index_at(rec.duration_s / 10))
        await pilot.press("greater_than_sign", "greater_than_sign")
        assert clock.speed == 5.0
        await pilot.press("end")
        await until(lambda: screen.dash.result is not None)
        result = screen.dash.result
        assert result.json_text() == rec.result_json  # the end is the recorded RunResult …
        table = screen.dash.query_one(ThreadTable)
        assert shown_threads(table, result.threads) == [f"{t.updates:,}" for t in result.threads]
        status = str(screen.dash.query_one("#status").content)
        assert f"{result.updates:,} updates" in status and "FINISHED" in status
        assert len(screen.dash.query_one(TimelinePanel).events) == result.events_recorded == len(rec.events)
        # … and a step back from the end shows the samples again
        await pilot.press("comma")
        await until(lambda: screen.dash.result is None and screen.dash.last_snapshot is not None)
        assert screen.dash.last_snapshot.elapsed_s < rec.duration_s
        await pilot.press("g")
        await pilot.press(*"0.5", "enter")
        assert clock.t == pytest.approx(0.5) and not screen.has_class("-goto")
        assert_shows_sample(screen, rec, rec.index_at(0.5))
        await pilot.press("e")
        await until(lambda: len(list((tmp_path / "exports").glob("replay-*"))) == 3)
        out = {p.suffix: p for p in (tmp_path / "exports").glob("replay-*")}
        assert out[".json"].read_text() == rec.result_json
        assert len(out[".csv"].read_text().splitlines()) == 1 + len(rec.events)
        assert out[".svg"].read_text().startswith("<svg")
        await pilot.press("escape")
        assert not isinstance(app.screen, ReplayScreen)


@sync
async def test_R_in_the_playground_writes_a_recording_that_replays(tmp_path):
    from test_tui import run_to_end

    app = TeachSGDApp(lessons=[], export_dir=tmp_path / "exports")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to_end(app, pilot, algo="seq", threads="1", budget="300")
        runner, result = screen.runner, screen.dash.result
        await pilot.press("R")
        await until(lambda: list((tmp_path / "exports").glob("recording-*.npz")))
        [path] = (tmp_path / "exports").glob("recording-seq-m1-*.npz")
        await until(lambda: str(path) in str(screen.message.content))
    rec = load(path)
    assert rec.result_json == result.json_text()
    assert np.array_equal(rec.events, runner.events_now())
    assert rec.snapshot_at(rec.duration_s).updates == result.updates == json.loads(rec.result_json)["updates"]


@sync
async def test_a_lesson_shows_c_only_when_a_reference_recording_is_there(tmp_path, recording):
    from teach_sgd.lessons import Budget

    app = TeachSGDApp(export_dir=tmp_path / "exports", warm_kernels=False, reference_dir=tmp_path / "refs")
    app.lesson_budget = Budget(updates=20)
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson("05-leashed")
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        # no reference recording: no "c 16 real cores" in the footer, and c does nothing (issue 16 item 16)
        await pilot.pause()
        assert "c" not in app.screen.active_bindings
        assert not any(k.key == "c" for k in app.screen.query("FooterKey"))
        await pilot.press("c")
        assert isinstance(app.screen, LessonScreen) and not app._notifications
        (tmp_path / "refs").mkdir()
        (tmp_path / "refs" / "leashed-16.npz").write_bytes(recording.path.read_bytes())
        app.screen.refresh_bindings()
        await pilot.pause()
        assert app.screen.active_bindings["c"].enabled
        assert any(k.key == "c" for k in app.screen.query("FooterKey"))
        await pilot.press("c")
        await until(lambda: isinstance(app.screen, ReplayScreen))
        assert app.screen.recording.config == recording.config
        await pilot.press("escape")
        assert isinstance(app.screen, LessonScreen)


@sync
async def test_slow_motion_keys_stretch_the_live_run(tmp_path):
    from test_tui import start_run

    app = TeachSGDApp(lessons=[], export_dir=tmp_path / "exports")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_run(app, pilot, algo="seq", threads="1")
        await pilot.press("greater_than_sign", "greater_than_sign")
        assert screen.runner.stretch == 100
        await until(lambda: "slow motion 100×" in str(screen.dash.query_one("#status").content))
        await pilot.press("less_than_sign", "less_than_sign", "less_than_sign")
        assert screen.runner.stretch == 1
        await pilot.press("x")
        await until(lambda: screen.dash.result is not None)


@sync
async def test_P_on_the_replay_screen_presents_the_recording_on_the_same_player(tmp_path, recording):
    """P presents the recording being replayed, from where the player stands: the presenter's panel shows the
    replay's numbers at that time; its space pauses the same clock, and h/Esc goes back to the replay, whose
    panels show the time the presenter left it at."""
    rec = recording
    app = TeachSGDApp(lessons=[], export_dir=tmp_path / "exports", warm_kernels=False, replay=rec)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: isinstance(app.screen, ReplayScreen))
        replay = app.screen
        clock = replay.source.clock
        await pilot.press("space", "5")  # paused, half way
        await pilot.press("P")
        presenter = app.screen
        assert isinstance(presenter, PresenterScreen)
        assert presenter.sources == [("Leashed-SGD ×4 (replay)", replay.source)]
        await until(lambda: presenter.ticks >= 2)
        snap = rec.snapshot_at(rec.duration_s / 2)
        assert f"{snap.elapsed_s:.1f} s" in str(presenter.title_bar.content)
        fails = sum(t.cas_fail for t in snap.threads)
        assert f"failed CAS {fails:,}" in str(presenter.panels[0].more.content)
        await pilot.press("space")  # plays the replay's own clock
        assert clock.playing
        await until(lambda: clock.t > rec.duration_s / 2 + 0.1)
        await pilot.press("space")
        assert not clock.playing
        await pilot.press("escape")
        assert app.screen is replay
        await pilot.pause()
        assert_shows_sample(replay, rec, rec.index_at(clock.t))
