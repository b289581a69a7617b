"""Snapshot tests (pytest-textual-snapshot) of the screens that show no live numbers, and of a recording replayed."""
from __future__ import annotations

from pathlib import Path

from textual.app import App

from teach_sgd.engine.recording import load
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.widgets.timeline import TimelinePanel

LESSONS = [("01-races", "Races on shared memory", 10), ("02-leash", "Putting SGD on a leash", 15)]


def app() -> TeachSGDApp:
    return TeachSGDApp(lessons=LESSONS)


def test_home(snap_compare):
    assert snap_compare(app(), terminal_size=(100, 30))


def test_playground_idle(snap_compare):
    assert snap_compare(app(), press=["p"], terminal_size=(120, 40))


def test_help(snap_compare):
    assert snap_compare(app(), press=["question_mark"], terminal_size=(100, 40))


# a real run (Leashed-SGD, 4 threads, 0.3 s), recorded once: a replay is deterministic where a live run is not
RECORDING = Path(__file__).parent / "fixtures" / "recording-leashed-4.npz"


def test_replay_screen(snap_compare):
    async def paused_half_way(pilot):
        await pilot.press("space", "5")

    app = TeachSGDApp(lessons=LESSONS, warm_kernels=False, replay=load(RECORDING))
    assert snap_compare(app, run_before=paused_half_way, terminal_size=(120, 40))


class TimelineApp(App):
    def compose(self):
        yield TimelinePanel()

    def on_mount(self) -> None:
        rec = load(RECORDING)
        panel = self.query_one(TimelinePanel)
        panel.show(rec.events, rec.config.algo, rec.config.threads, 0)
        panel.focus()


def test_timeline_panel(snap_compare):
    async def select_an_event(pilot):
        await pilot.press("p", "left_square_bracket", "left_square_bracket")

    assert snap_compare(TimelineApp(), run_before=select_an_event, terminal_size=(110, 10))
