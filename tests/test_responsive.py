"""What keeps the app's keys quick with many workers on a busy machine (issue 16 item 18), as invariants: the
workers of a run on a screen are in the SCHED_IDLE class; the thread table skips live repaints that would
take more than its share of the UI thread, and never a final one; the footer is rebuilt only when its keys
change. How quick the keys are is measured in benchmarks/bench_tui.py (part 3), never asserted here."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import replace

import pytest
from textual.app import App

from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import WORKER_NICE, Runner, run
from teach_sgd.tui.screens.base import SteadyFooterScreen
from teach_sgd.tui.widgets.thread_table import ThreadTable
from tui_helpers import sync


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread scheduling classes are Linux's")
def test_a_screens_workers_are_idle_class_and_a_headless_or_slow_motion_runs_are_not():
    config = RunConfig(algo="leashed", threads=2, dataset="synthetic", seconds=1.0, batch=8)
    for nice, policy in ((WORKER_NICE, os.SCHED_IDLE), (None, os.SCHED_OTHER)):
        runner = Runner(config, nice=nice).start()
        deadline = time.monotonic() + 5
        while not all(t.native_id for t in runner._threads) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # each worker sets its own class before the start barrier
        seen = {os.sched_getscheduler(t.native_id) for t in runner._threads if t.is_alive()}
        runner.stop()
        runner.wait()
        assert seen == {policy}, (nice, seen)
    # slow motion: the workers mostly sleep, and in SCHED_IDLE each wake-up would wait for the machine's other work
    runner = Runner(replace(config, stretch=1000), nice=WORKER_NICE).start()
    time.sleep(0.3)
    seen = {os.sched_getscheduler(t.native_id) for t in runner._threads if t.is_alive()}
    runner.stop()
    runner.wait()
    assert seen == {os.SCHED_OTHER}


class TableApp(App):
    def compose(self):
        yield ThreadTable(id="t")


@sync
async def test_the_thread_table_skips_live_repaints_within_its_budget_but_never_a_forced_one():
    result = run(RunConfig(algo="leashed", threads=64, dataset="synthetic", updates=640, batch=4))
    later = tuple(replace(t, updates=t.updates + 1000) for t in result.threads)
    app = TableApp()
    async with app.run_test(size=(120, 80)):
        table = app.query_one(ThreadTable)
        table.show(result.threads, "leashed", result.params)
        first = table.numbers(0)["updates"]
        assert table._next_paint > 0  # the paint set its budget: no live paint before 4 × its own time …
        table._next_paint += 60  # … which a preempted test could outlive, so the skip is tested well inside it
        table.show(later, "leashed", result.params)
        assert table.numbers(0)["updates"] == first
        table.show(later, "leashed", result.params, force=True)  # a final result always paints
        assert table.numbers(0)["updates"] == f"{later[0].updates:,}"


class KeysScreen(SteadyFooterScreen):
    BINDINGS = [("a", "noop", "A key"), ("b", "other", "B key")]
    b_shown = False

    def check_action(self, action, parameters):
        return self.b_shown if action == "other" else True

    def action_noop(self):
        pass

    def action_other(self):
        pass


class FooterApp(App):
    def on_mount(self):
        self.push_screen(KeysScreen())


@sync
async def test_the_footer_is_rebuilt_only_when_its_keys_change():
    """Textual's Footer recomposes every key on each bindings refresh; the run screens refreshed on every
    pause and resume, changed or not."""
    app = FooterApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen
        published = []
        screen.bindings_updated_signal.subscribe(screen, lambda s: published.append(1), immediate=True)
        for _ in range(5):
            screen.refresh_bindings()  # nothing the footer shows changed: no rebuild
        assert published == []
        screen.b_shown = True
        screen.refresh_bindings()
        assert published == [1]
        assert "b" in screen.active_bindings


class CappedTableApp(App):
    CSS = "ThreadTable { max-height: 12; }"

    def compose(self):
        yield ThreadTable(id="t")


@sync
async def test_a_capped_thread_table_builds_only_the_rows_in_view_and_follows_the_cursor():
    """64 threads in a table capped at 12 rows (the dashboard caps it at 40% of its height, so the panels below
    stay in view): a repaint builds the header and the 11 rows in view, not 64; ↓ past the last row scrolls,
    the title says which rows are shown, and a click selects the row it lands on."""
    result = run(RunConfig(algo="leashed", threads=64, dataset="synthetic", updates=640, batch=4))
    app = CappedTableApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(ThreadTable)
        table.focus()
        table.show(result.threads, "leashed", result.params, force=True)
        await pilot.pause()
        table.show(result.threads, "leashed", result.params, force=True)
        assert table.size.height == 12 and len(table._strips) == 12  # header + the 11 rows in view
        assert list(table.rows_in_view()) == list(range(11)) and table.border_title == "threads 0–10 of 64 · ↑↓ scroll"
        for _ in range(15):
            await pilot.press("down")
        assert table.cursor == 15 and list(table.rows_in_view()) == list(range(5, 16))
        assert table.border_title == "threads 5–15 of 64 · ↑↓ scroll"
        assert table._strips[-1].text.split()[0] == "15"  # the last line in view is the cursor's thread
        await pilot.click(ThreadTable, offset=(3, 1))  # the first row in view
        assert table.cursor == 5
