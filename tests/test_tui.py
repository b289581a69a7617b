"""Pilot tests of the Textual app: live numbers equal the RunResult, pause pauses, Compare, divergence,
export, tiny terminals, quitting mid-run. Runs are short (synthetic data) because every Pilot.press waits
for the whole process to be idle, which busy worker threads delay."""
from __future__ import annotations

import asyncio
import json
import threading

import pytest
from rich.text import Text
from textual.widgets.input import Selection

from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.compare import CompareScreen
from teach_sgd.tui.screens.playground import PlaygroundScreen
from teach_sgd.tui.widgets.dashboard import Dashboard, RunStatus
from teach_sgd.columns import ALGO_COLUMNS, columns_for
from teach_sgd.format import fmt_count
from teach_sgd.tui.widgets.plots import VersionsPlot
from teach_sgd.tui.widgets.thread_table import ThreadTable
from teach_sgd.tui.widgets.too_small import TooSmall

from tui_helpers import SIZE, open_screen, screen_lines, sync, until
from waits import parked


def make_app(tmp_path) -> TeachSGDApp:
    return TeachSGDApp(lessons=[("demo", "A demo lesson", 5)], export_dir=tmp_path / "exports")


async def open_playground(app, pilot, **fields) -> PlaygroundScreen:
    screen = await open_screen(app, pilot, "p", PlaygroundScreen)
    values = {"dataset": "synthetic", "threads": "2", "budget": "300", "algo": "leashed"} | fields
    for wid, value in values.items():
        screen.query_one(f"#{wid}").value = value
    screen.dash.query_one(ThreadTable).focus()  # so single-letter keys reach the screen, not a field
    await pilot.pause()
    return screen


async def start_run(app, pilot, min_updates: int = 0, **fields) -> PlaygroundScreen:
    """Open the Playground with `fields`, press s, and wait until the run has published more than `min_updates`
    updates. Its budget is 60 s, so that it is still live when the test acts on it."""
    screen = await open_playground(app, pilot, **({"budget": "60s"} | fields))
    await pilot.press("s")
    await until(lambda: screen.runner is not None and screen.runner.snapshot().updates > min_updates)
    return screen


async def run_to_end(app, pilot, timeout: float = 30.0, **fields) -> PlaygroundScreen:
    """Open the Playground with `fields`, press s, and wait until the run has ended and its RunResult is shown."""
    screen = await open_playground(app, pilot, **fields)
    await pilot.press("s")
    await until(lambda: screen.dash.result is not None, timeout=timeout)
    return screen


@pytest.mark.parametrize("algo", ["leashed", "hogwild", "lock"])
@sync
async def test_per_thread_numbers_equal_run_result(tmp_path, algo):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to_end(app, pilot, algo=algo)
        await pilot.pause()
        result = screen.dash.result
        assert result.status == "finished"
        assert result.updates >= 300
        table = screen.dash.query_one(ThreadTable)
        assert table.row_count == result.config.threads == 2
        for t in result.threads:
            shown = table.numbers(t.thread)
            # this algorithm's columns, and only those (no step factors: no step rule)
            assert set(shown) == set(ALGO_COLUMNS[algo]) - {"steps"}
            for c in columns_for(algo):
                assert shown[c.key] == c.fmt(c.value((t,), result.params)), (t.thread, c.key)
            assert shown["updates"] == f"{t.updates:,}"
        status = str(screen.dash.query_one("#status").content)
        assert f"{result.updates:,} updates" in status
        assert "FINISHED" in status
        versions = screen.dash.query_one(VersionsPlot)
        legend = Text.from_markup(versions.border_subtitle).plain
        assert ("2m+1" in legend) == (algo == "leashed") and "m+1" in legend
        assert len(legend) <= versions.size.width - 4  # whole, not cut


def status_lines(dash) -> list[str]:
    """The status line(s) of a dashboard as shown, each checked to fit the widget (nothing cut off)."""
    status = dash.query_one(RunStatus)
    lines = str(status.content).split("\n")
    assert len(lines) == status.size.height
    for line in lines:
        assert Text(line).cell_len <= status.content_size.width, line
    return lines


@sync
async def test_pause_really_pauses(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_run(app, pilot, min_updates=50)
        await pilot.press("space")
        assert screen.runner.paused
        await until(lambda: parked(screen.runner))  # an update already in flight lands before its thread parks
        u1 = screen.runner.snapshot().updates
        await asyncio.sleep(0.6)  # the table repaints meanwhile
        u2 = screen.runner.snapshot().updates
        assert u1 == u2, "updates kept rising while paused"
        assert "PAUSED" in str(screen.dash.query_one("#status").content)
        table = screen.dash.query_one(ThreadTable)
        shown = [table.numbers(t)["updates"] for t in range(2)]
        assert sum(int(n.replace(",", "")) for n in shown) == u2  # the screen shows the frozen count
        await pilot.press("space")
        assert not screen.runner.paused
        await until(lambda: screen.runner.snapshot().updates > u2, why=lambda: "updates did not resume")
        await pilot.press("x")
        await until(lambda: screen.dash.result is not None)
        assert screen.dash.result.status == "stopped"


@sync
async def test_restart_with_new_settings(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_run(app, pilot)
        first = screen.runner
        screen.query_one("#threads").value = "3"
        screen.query_one("#algo").value = "hogwild"
        screen.query_one("#budget").value = "200"
        await pilot.press("s")
        # the new run's own result: the first one's may reach the dashboard while the new run is being built
        await until(lambda: screen.runner is not first and screen.dash.runner is screen.runner
                    and screen.dash.result is not None)
        assert first.done
        assert screen.dash.result.config.algo == "hogwild"
        assert screen.dash.result.config.threads == 3
        assert screen.dash.query_one(ThreadTable).row_count == 3


@sync
async def test_compare_shows_both_runs_and_table(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, "c", CompareScreen)
        assert screen.query_one("#algo").value == "hogwild" and screen.query_one("#algo_b").value == "leashed"
        screen.query_one("#dataset").value = "synthetic"
        screen.query_one("#budget").value = "300"
        screen.query_one("#results").focus()
        await pilot.press("s")
        await until(lambda: screen.session.has_results)
        await pilot.pause()
        a, b = screen.session.results
        assert (a.config.algo, b.config.algo) == ("hogwild", "leashed")
        assert a.config.seed == b.config.seed
        for dash, r in zip(screen.query(Dashboard), screen.session.results):
            assert dash.result is r
            # A and B ran at once: each counts the other's 2 threads before calling the machine busy
            assert dash.sharing == 2
            shown = "\n".join(status_lines(dash))  # the final loss and accuracy are not cut off
            assert "FINISHED" in shown and f"test acc {100 * r.accuracy_final:.1f}%" in shown
            table = dash.query_one(ThreadTable)
            for t in r.threads:
                assert table.numbers(t.thread)["updates"] == fmt_count(t.updates)
        results = screen.query_one("#results")
        # at 120×40 the full run names would leave the metric names 11 cells: the columns are headed by the
        # letters the dashboards above carry with the full names
        assert [str(c.label) for c in results.columns.values()][1:] == ["A", "B"]
        shown = "\n".join(screen_lines(app))
        assert "A: HOGWILD! m=2" in shown and "B: Leashed-SGD m=2 Tp=∞" in shown
        assert results.get_row("updates")[1:] == [fmt_count(a.updates), fmt_count(b.updates)]
        # the contrast: HOGWILD! observed its writes and counted the lost ones; Leashed-SGD loses none
        observed = sum(t.sampled_writes for t in a.threads)
        lost = sum(t.lost_updates_sampled for t in a.threads)
        assert observed > 0 and observed >= a.updates
        assert results.get_row("observed")[1:] == [fmt_count(observed), "—"]
        assert results.get_row("lost")[1:] == [fmt_count(lost), "0"]
        assert results.get_row("torn")[2] == "0"
        assert results.get_row("cas_fail")[1] == "—"  # HOGWILD! has no CAS: not a column of zeros
        assert results.get_row("cas_fail")[2] == fmt_count(sum(t.cas_fail for t in b.threads))
        assert "lock_wait" not in results.rows  # neither run takes a lock
        message = str(screen.query_one("#message").content)
        assert f"HOGWILD! lost {fmt_count(lost)} of {fmt_count(observed)} observed coordinate writes; Leashed-SGD lost 0" \
            in message


@sync
async def test_diverging_run_shows_it_and_stops(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to_end(app, pilot, timeout=15, algo="hogwild", lr="10000", budget="30s")
        result = screen.dash.result
        assert result.diverged and result.status == "diverged"
        assert result.wall_s < 10  # stopped, not run to the 30 s budget
        assert screen.runner.done
        assert screen.dash.has_class("-diverged")
        assert "DIVERGED" in str(screen.dash.query_one("#status").content)


@sync
async def test_export_writes_json_csv_svg(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to_end(app, pilot)
        await pilot.press("e")
        files = sorted((tmp_path / "exports").iterdir())
        assert sorted(p.suffix for p in files) == [".csv", ".json", ".svg"]
        data = json.loads(next(p for p in files if p.suffix == ".json").read_text())
        assert data["updates"] == screen.dash.result.updates
        shown = str(screen.query_one("#message").content)
        for p in files:
            assert str(p) in shown  # the path is on screen


@sync
async def test_quit_during_run_stops_every_worker_thread(tmp_path):
    """q mid-run: once quit returns, every worker thread of the run has ended and the run says it was stopped
    (not finished). How long quitting takes is measured in benchmarks/bench_tui.py, part 5."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        before = set(threading.enumerate())
        screen = await start_run(app, pilot)
        runner = screen.runner
        workers = [t for t in set(threading.enumerate()) - before if t.name.startswith("sgd-leashed-")]
        assert len(workers) == runner.config.threads == 2
        await app.action_quit()
        assert await asyncio.to_thread(runner.join, 60)  # quit waits 1 s; a starved worker may take longer
        assert runner.done
        assert [t.name for t in workers if t.is_alive()] == []
        assert runner.status() == "stopped"


@sync
async def test_tiny_terminal_asks_for_a_bigger_one(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        notice = app.screen.query_one(TooSmall)
        assert notice.display and "80×24" in str(notice.content)
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert not app.screen.query_one(TooSmall).display


@sync
async def test_command_palette_has_every_screen(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for name in ("Home", "Playground", "Compare", "Help", "Lesson: A demo lesson"):
            assert name in titles


@sync
async def test_every_key_shown_works_after_a_run_starts_from_a_field(tmp_path):
    """Issue 16 point 3: type 4 in *threads m*, Enter: the run starts with 4 threads, and space, >, x, e, s — the
    keys the status line names — act at once (a plain Input swallowed them all)."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_playground(app, pilot, budget="60s")
        threads = screen.query_one("#threads")
        threads.focus()
        threads.value = ""
        await pilot.press("4", "enter")
        await until(lambda: screen.runner is not None and screen.runner.snapshot().updates > 0)
        assert screen.runner.config.threads == 4 and threads.value == "4"
        await pilot.press("space")
        await until(lambda: screen.runner.paused)
        await pilot.press("space", "greater_than_sign")
        await until(lambda: not screen.runner.paused and screen.runner.stretch > 1)
        await pilot.press("x")
        await until(lambda: screen.dash.result is not None)
        await pilot.press("e")
        await until(lambda: list((tmp_path / "exports").glob("*.json")))
        assert threads.value == "4", "none of those keys was typed into the field"


@sync
async def test_compare_keys_work_after_enter_in_a_field(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, "c", CompareScreen)
        screen.query_one("#dataset").value = "synthetic"
        screen.query_one("#budget").value = "60s"
        seed = screen.query_one("#seed")
        seed.focus()
        await pilot.press("enter")
        await until(lambda: len(screen.session.runners) == 2 and all(r.snapshot().updates > 0 for r in screen.session.runners))
        await pilot.press("space")
        await until(lambda: all(r.paused for r in screen.session.runners))
        await pilot.press("x")
        await until(lambda: screen.session.has_results)


@sync
async def test_s_in_a_number_field_starts_and_digits_still_type(tmp_path):
    """`s` cannot be part of a seed: in the seed field it starts the run; digits still land in the field."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_playground(app, pilot, budget="300")
        seed = screen.query_one("#seed")
        seed.focus()
        seed.value = ""
        await pilot.press("4", "2", "s")
        await until(lambda: screen.dash.result is not None)
        assert seed.value == "42" and screen.dash.result.config.seed == 42
        budget = screen.query_one("#budget")
        budget.focus()
        await pilot.pause()
        budget.value = "10"
        budget.cursor_position = 2
        await pilot.pause()
        assert "s" not in screen.active_bindings   # a budget may end in s (seconds): the footer leaves Start out
        await pilot.press("s")                     # ... and the field types it
        assert budget.value == "10s"
        await pilot.pause()
        assert screen.active_bindings["s"].binding.action == "start"   # "10ss" is no budget: s starts again
        budget.selection = Selection(0, len(budget.value))  # all of it selected: typing replaces it, and a budget
        await pilot.pause()                                 # starts with a number, so s is still Start
        assert screen.active_bindings["s"].binding.action == "start"
        seed.focus()
        await pilot.pause()
        assert screen.active_bindings["s"].binding.action == "start"


@sync
async def test_a_collapsed_run_is_named_on_screen(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        # lr 2, seed 1: evaluated after every update its loss stays under 2.7× the initial (tests/test_collapse.py),
        # so no evaluation, whenever a busy machine lets it land, can call it diverged (seed 0 at lr 5 passes
        # 11× at update 5 and was called diverged once under load)
        screen = await run_to_end(app, pilot, algo="hogwild", threads="1", lr="2", seed="1", budget="600")
        result = screen.dash.result
        assert result.collapsed and result.status == "collapsed" and not result.diverged
        assert screen.dash.has_class("-collapsed") and not screen.dash.has_class("-diverged")
        assert "COLLAPSED" in str(screen.dash.query_one("#banner").content)
        assert "killed its ReLUs. Try a smaller step size" in str(screen.dash.query_one("#banner").content)
        assert screen.dash.query_one("#banner").display
        await pilot.pause()  # a status line of a new height (a busy machine adds a part) is laid out on the next pass
        assert "COLLAPSED" in status_lines(screen.dash)[0]
        # a deep MLP from the paper's tiny weights collapses without its loss ever moving: the banner says so
        screen.query_one("#lr").value = "0.05"
        screen.query_one("#hidden").value = "64,64,64"
        await pilot.press("s")
        await until(lambda: screen.dash.result is not None and screen.dash.result.config.hidden == (64, 64, 64))
        assert screen.dash.result.collapse_cause == "init"
        banner = str(screen.dash.query_one("#banner").content)
        assert "too little signal passes this many layers. Try fewer hidden layers" in banner and "ReLU" not in banner
        screen.query_one("#hidden").value = "128"
        screen.query_one("#lr").value = "0.05"
        await pilot.press("s")  # a new run clears the banner
        await until(lambda: screen.dash.result is not None and not screen.dash.result.collapsed)
        assert not screen.dash.has_class("-collapsed")


@sync
async def test_a_message_beside_a_compiling_kernel_keeps_its_numbers_whole_at_80_columns(tmp_path):
    """A first compile's status takes 74 columns; the run's message beside it kept 5 at 80 columns and broke
    "79,059" over two lines. With a message said, the status ends in "…" and the message keeps its words."""
    import time

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(app, pilot)
        app.kernel_clock = (time.monotonic() - 12, 9.0)
        app.kernel_detail = "— 3/5 lock mlp"
        app.kernel_state = "compiling"
        screen.say("finished: 79,059 updates in 20.00 s")
        await pilot.pause()
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "79,059" in text and "compiling 3/5 lock" in text and "…" in text
        screen.say("")
        await pilot.pause()
        await pilot.pause()
        assert "first run only" in "\n".join(screen_lines(app)), "alone, the status has the whole row again"
