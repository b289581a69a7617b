"""Nothing a learner did is lost by leaving a screen (issue 16, done-means-done; a new user's trial saw "no run
yet" after Esc → home → p): a Playground or Compare run started from a settings field, then Esc to home, is there
when the learner comes back — still running, or, if it ended meanwhile, ended with its results on screen."""
from __future__ import annotations

import pytest

from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.compare import CompareScreen
from teach_sgd.tui.screens.home import HomeScreen
from teach_sgd.tui.screens.playground import PlaygroundScreen

from tui_helpers import SIZE, screen_lines, sync, until


async def start_from_a_field(app, pilot, key: str, screen_type, budget: str):
    """Open the screen with `key`, set a short synthetic run, and start it as a learner does: Tab to the
    threads field (Compare: the seed field), type, Enter."""
    await pilot.press(key)
    screen = app.screen
    assert isinstance(screen, screen_type)
    screen.query_one("#dataset").value = "synthetic"
    screen.query_one("#budget").value = budget
    field = screen.query_one("#threads" if screen_type is PlaygroundScreen else "#seed")
    field.focus()
    await pilot.pause()
    await pilot.press("3", "enter")
    return screen


async def leave_and_come_back(app, pilot, key: str, wait_away=None):
    await pilot.press("escape")
    assert isinstance(app.screen, HomeScreen)
    if wait_away is not None:
        await until(wait_away)
    await pilot.press(key)
    return app.screen


@pytest.mark.parametrize("ended_while_away", [False, True])
@sync
async def test_a_playground_run_is_kept_across_home(tmp_path, ended_while_away):
    app = TeachSGDApp(lessons=[("demo", "A demo lesson", 5)], export_dir=tmp_path / "exports")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_a_field(app, pilot, "p", PlaygroundScreen, "2s")
        await until(lambda: screen.runner is not None and screen.runner.started)
        runner = screen.runner
        back = await leave_and_come_back(app, pilot, "p", (lambda: screen.dash.result is not None)
                                         if ended_while_away else None)
        assert back is screen and back.runner is runner and runner.config.threads == 3
        await until(lambda: back.dash.result is not None)
        final = ("FINISHED", f"{back.dash.result.updates:,} updates")  # painted a refresh after the result
        await until(lambda: all(w in "\n".join(screen_lines(app)) for w in final), why=lambda: screen_lines(app))
        assert "no run yet" not in "\n".join(screen_lines(app))
        await until(lambda: back.session.has_results)  # e and R act on it (the screen takes the result after the
        await pilot.press("e")                         # dashboard shows it: a message later)
        await until(lambda: list((tmp_path / "exports").glob("*.json")))


@sync
async def test_a_compare_pair_is_kept_across_home(tmp_path):
    app = TeachSGDApp(lessons=[("demo", "A demo lesson", 5)], export_dir=tmp_path / "exports")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_a_field(app, pilot, "c", CompareScreen, "2s")
        await until(lambda: len(screen.session.runners) == 2 and all(r.started for r in screen.session.runners))
        runners = list(screen.session.runners)
        back = await leave_and_come_back(app, pilot, "c")
        assert back is screen and back.session.runners == runners
        await until(lambda: back.session.has_results)
        assert all(r.updates > 0 and r.config.seed == 3 for r in back.session.results)


@sync
async def test_a_restart_is_not_ended_by_the_late_result_of_the_run_it_replaced(tmp_path):
    """s while a run goes: the old run's RunFinished can reach the screen after the new run is on the dashboard
    (a tmux trial under load: the screen then said "stopped: 112,178 updates…" beside a RUNNING run, and space and
    > did nothing, the new run counted as ended). The old run's result must change nothing."""
    app = TeachSGDApp(lessons=[], export_dir=tmp_path / "exports")
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_a_field(app, pilot, "p", PlaygroundScreen, "60s")
        await until(lambda: screen.runner is not None and screen.runner.started)
        old = screen.runner
        await pilot.press("s")
        await until(lambda: screen.runner is not old and screen.runner is not None and screen.runner.started)
        late = old.result()
        screen.dash.post_message(screen.dash.RunFinished(screen.dash, old, late))
        await pilot.pause()
        assert screen.session.active and not screen.session.has_results
        assert f"{late.updates:,} updates in" not in "\n".join(screen_lines(app))
        await pilot.press("space")
        await until(lambda: screen.runner.paused)
        await pilot.press("x")
