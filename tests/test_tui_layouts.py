"""Every screen at 80×24, 120×40 and 200×55 (issue 16 point 11): a snapshot of each, and a check that no number
on screen is cut into another — a number is shown whole, or its column is left out and the table says "+N…".

The snapshots are of deterministic screens: the idle ones, lesson 1's first step, the challenge menu, and the
recorded fixture run replayed to its middle. The number check also runs a real Compare at each size (its numbers
are whatever the run measured; the check is that each is on screen whole)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Input

from teach_sgd.engine.recording import load
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.challenge import ChallengeMenu
from teach_sgd.tui.screens.compare import CompareScreen
from teach_sgd.tui.widgets.thread_table import ThreadTable

from tui_helpers import SIZES, screen_lines, sync, until

RECORDING = Path(__file__).parent / "fixtures" / "recording-leashed-4.npz"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path / "data"))   # lesson 1 opens at its first step


async def _press(pilot, *keys):
    await pilot.press(*keys)
    await pilot.pause()


async def _lesson(pilot):
    pilot.app.open_lesson("1")
    await until(lambda: getattr(pilot.app.screen, "session", None) is not None)
    await pilot.pause()


async def _challenges(pilot):
    pilot.app.push_screen(ChallengeMenu())
    await pilot.pause()


SCREENS = {
    "home": lambda pilot: pilot.pause(),
    "playground": lambda pilot: _press(pilot, "p"),
    "compare": lambda pilot: _press(pilot, "c"),
    "simulator": lambda pilot: _press(pilot, "s"),
    "help": lambda pilot: _press(pilot, "question_mark"),
    "lesson": _lesson,
    "challenges": _challenges,
    "replay": lambda pilot: _press(pilot, "space", "5"),   # paused half-way through the recorded run
}


def make_app(name: str) -> TeachSGDApp:
    return TeachSGDApp(replay=load(RECORDING) if name == "replay" else None)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", SCREENS)
def test_every_screen_at_every_size(snap_compare, name, size):
    assert snap_compare(make_app(name), run_before=SCREENS[name], terminal_size=size)


def whole(number: str, text: str) -> bool:
    """`number` appears in `text` with no digit, point or separator glued to either side (not cut, not merged)."""
    return re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d.,])", text) is not None


def tables_cut(app) -> list[str]:
    """Every thread-table number not on screen whole (and a hidden column not announced)."""
    text = "\n".join(screen_lines(app))
    cut = []
    for table in app.screen.query(ThreadTable):
        for tid in range(table.row_count):
            cells = table.numbers(tid)
            cut += [f"{key} {cells[key]!r} of thread {tid}" for key in table.shown if not whole(cells[key], text)]
        if len(table.shown) < len(table.numbers(0)) and table.row_count:
            if f"+{len(table.numbers(0)) - len(table.shown)}…" not in text:
                cut.append("the hidden columns' count")
    return cut


async def none_cut(app, problems) -> None:
    """Wait until `problems()` finds nothing cut — the screen is painted a moment after the numbers change — and
    fail with what it found last, and the screen it was looking at."""
    await until(lambda: not problems(), timeout=10,
                why=lambda: f"not on screen whole: {problems()}\n" + "\n".join(screen_lines(app)))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_the_settings_and_the_replays_numbers_are_whole(size):
    for name in ("playground", "compare", "simulator"):
        app = make_app(name)
        async with app.run_test(size=size) as pilot:
            await SCREENS[name](pilot)
            text = "\n".join(screen_lines(app))
            for field in app.screen.query(".field"):
                label, widget = field.children
                assert str(label.content) in text, f"{name}: setting {label.content!r} is out of sight"
                if isinstance(widget, Input):
                    assert whole(widget.value, text), f"{name}: {label.content} = {widget.value!r} is not shown whole"
    app = make_app("replay")
    async with app.run_test(size=size) as pilot:
        await SCREENS["replay"](pilot)
        await none_cut(app, lambda: tables_cut(app))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_compare_results_are_whole_at_every_size(tmp_path, size):
    """The numbers the issue found cut at 120×40 (τ max "29" for 294; run B's column "1,", "10", "0."): after a
    real Compare, every thread-table number and every results-table cell is on screen whole."""
    app = TeachSGDApp(lessons=[], export_dir=tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        screen.query_one("#dataset").value = "synthetic"
        screen.query_one("#budget").value = "400"
        screen.query_one("#threads").value = "4"
        screen.query_one("#results").focus()
        await pilot.press("s")
        await until(lambda: screen.session.has_results, timeout=60)
        await none_cut(app, lambda: tables_cut(app))
        table = screen.table
        table.scroll_home(animate=False)

        def results_cut() -> list[str]:
            text = "\n".join(screen_lines(app))
            visible_rows = table.scrollable_content_region.height - 1   # the rows under the header
            cells = [(row, col, str(table.get_cell_at((row, col))))
                     for row in range(min(visible_rows, table.row_count)) for col in (1, 2)]
            return [f"results row {row} column {col}: {cell!r}" for row, col, cell in cells
                    if re.search(r"\d", cell) and not whole(cell, text)]
        await none_cut(app, results_cut)
        for other in SIZES:  # the terminal resized after the results: the table is fitted again
            await pilot.resize_terminal(*other)
            await pilot.pause()
            table.scroll_home(animate=False)
            await none_cut(app, results_cut)
