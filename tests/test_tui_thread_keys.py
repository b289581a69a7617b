"""The thread keys (tui/screens/thread_keys.py) in every screen that has them — Playground, Compare, a lesson's
live experiment, the presenter view — on real runs (synthetic data, 2 threads, long budgets that the tests stop):
each key from each focus the screen can have does what the footer says, a held thread shows where it is held
(thread table, timeline lane, status line with the others' measured rate and the guarantee), and the keys show
in the footer only while a run is live. Waits poll; no test asserts a wall time."""
from __future__ import annotations

import re

import pytest
from textual.widgets._footer import FooterKey

from teach_sgd.engine.config import POINTS
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.compare import CompareScreen
from teach_sgd.tui.screens.lesson import LessonScreen
from teach_sgd.tui.screens.playground import PlaygroundScreen
from teach_sgd.tui.screens.present import PresenterScreen
from teach_sgd.tui.widgets.thread_table import ThreadTable
from teach_sgd.tui.widgets.timeline import TimelinePanel
from teach_sgd.lessons import Budget

from test_tui import make_app, start_run
from tui_helpers import SIZE, open_screen, screen_lines, sync, until

KEYS = (",", ".", "b", "f", "o", "u", "B", "F", "U")


def message(screen) -> str:
    return str(screen.message.content)


def held(runner, tid):
    return runner.holds.held_at(tid)


async def thread_keys_work(app, pilot, screen, runner, focus) -> None:
    """Every thread key once, from `focus`, on a live 2-thread run of `runner` (thread 0 and 1 of run 0)."""
    focus.focus()
    await pilot.pause()
    points = POINTS[runner.config.algo]
    await pilot.press(".")                                # thread 1 selected: the table's cursor follows
    assert screen.controls.selected == (0, 1) and screen.dash.query_one(ThreadTable).cursor == 1
    await pilot.press(",")
    assert screen.controls.selected == (0, 0)
    await pilot.press("b", "b")                           # the second point of the algorithm
    await until(lambda: held(runner, 0) == points[1])
    await pilot.pause(0.3)
    assert f"held at {points[1]}" in screen.controls.doing(0, 0)
    await until(lambda: f"@{points[1]}" in "\n".join(screen_lines(app)))        # the table's state column
    await until(lambda: f"held at {points[1]}" in "\n".join(screen_lines(app)))  # the lane and the status line
    await pilot.press("o")                                # step: from there to the next point, stays frozen
    await until(lambda: screen.controls.doing(0, 0).startswith("frozen at"))
    await pilot.press("u")                                # continue: goes on (its breakpoint stays)
    await until(lambda: not screen.controls.doing(0, 0).startswith("frozen"))
    await pilot.press("U")                                # no breakpoint any more
    await until(lambda: screen.controls.doing(0, 0) == "running")
    await pilot.press("f")                                # freeze where it is
    await until(lambda: held(runner, 0) is not None)
    await pilot.press("f")                                # and thaw
    await until(lambda: screen.controls.doing(0, 0) == "running")
    await pilot.press("F")                                # every thread frozen
    await until(lambda: held(runner, 0) is not None and held(runner, 1) is not None)
    await pilot.press("U")                                # cleared: everyone runs
    await until(lambda: held(runner, 0) is None and held(runner, 1) is None and not screen.controls.anything_asked())
    await pilot.press("B")                                # a breakpoint at the first point on every thread
    await until(lambda: held(runner, 0) == points[0] and held(runner, 1) == points[0])
    await pilot.press("U")
    assert app.focused is focus, "the keys moved the focus"
    assert [a.what for a in screen.controls.log][-11:] == [
        "hold", "hold", "step", "continue", "clear", "freeze", "thaw", "freeze", "clear", "hold", "clear"]


@pytest.mark.parametrize("focus", ["table", "timeline", "seed", "enter"])
@sync
async def test_playground_thread_keys_from_every_focus(tmp_path, focus):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, "p", PlaygroundScreen)
        assert not any(screen.check_action(a, ()) for a in ("breakpoint", "freeze", "step_thread", "go_on"))
        if focus == "enter":   # Enter in a settings field starts the run and hands the keys to the dashboard
            for wid, value in {"dataset": "synthetic", "threads": "2", "budget": "60s", "algo": "leashed"}.items():
                screen.query_one(f"#{wid}").value = value
            screen.query_one("#seed").focus()
            await pilot.press("enter")
            await until(lambda: screen.runner is not None and screen.runner.snapshot().updates > 20)
            target = app.focused
        else:
            screen = await start_run(app, pilot, min_updates=20, algo="leashed")
            # the seed field holds digits only: every thread key is the screen's (a text field would take them)
            target = (screen.query_one("#seed") if focus == "seed" else
                      screen.dash.query_one(ThreadTable if focus == "table" else TimelinePanel))
        assert screen.check_action("breakpoint", ()) and screen.check_action("step_thread", ())
        await thread_keys_work(app, pilot, screen, screen.runner, target)
        # cleared: once the last key's line has had its seconds, the status line no longer says a thread is held
        await until(lambda: "no thread held, no breakpoint set" in message(screen), timeout=20,
                    why=lambda: message(screen))
        await pilot.press("x")
        await until(lambda: screen.dash.result is not None)
        assert screen.check_action("breakpoint", ()) is False  # the footer drops them once the run has ended


@sync
async def test_a_frozen_lock_holder_shows_the_convoy_and_the_blocking_guarantee(tmp_path):
    """At 80×24, the app's smallest: the status line wraps rather than cutting its numbers."""
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_run(app, pilot, min_updates=20, algo="lock", threads="3")
        for _ in range(POINTS["lock"].index("holding") + 1):
            await pilot.press("b")
        runner = screen.runner
        await until(lambda: held(runner, 0) == "holding")
        table = screen.dash.query_one(ThreadTable)
        await until(lambda: "lock wait" in "\n".join(screen_lines(app)))
        await until(lambda: [s.state for s in runner.snapshot().threads[1:]] == ["lock wait", "lock wait"])
        await until(lambda: "others: 0 updates/s while thread 0 is held" in message(screen))
        assert "— LOCK is blocking" in message(screen) and table.row_count == 3
        await until(lambda: "others: 0 updates/s while thread 0 is held — LOCK is blocking"
                    in re.sub(r"\s+", " ", " ".join(screen_lines(app))))
        await pilot.press("U")
        await pilot.press("x")
        await until(lambda: screen.dash.result is not None)


@sync
async def test_compare_selects_across_a_and_b_and_freezes_b(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, "c", CompareScreen)
        for wid, value in {"dataset": "synthetic", "threads": "2", "budget": "60s"}.items():
            screen.query_one(f"#{wid}").value = value
        screen.query_one("#dash-a #thread-table").focus()
        await pilot.press("s")
        await until(lambda: len(screen.session.live()) == 2)
        a, b = screen.session.runners
        await pilot.press(".", ".")
        assert screen.controls.selected == (1, 0) and screen.dashes[1].query_one(ThreadTable).cursor == 0
        await pilot.press("F")                           # B's threads frozen, A's run on
        await until(lambda: held(b, 0) is not None and held(b, 1) is not None)
        assert held(a, 0) is None and held(a, 1) is None
        await until(lambda: "held @" in "\n".join(screen_lines(app)))      # B's table says where they are held
        await until(lambda: "B every thread is held: nobody can publish — Leashed-SGD is lock-free" in message(screen))
        await pilot.press("u")
        await until(lambda: held(b, 0) is None and held(b, 1) is None)
        await pilot.press("F")
        await until(lambda: held(b, 0) is not None and held(b, 1) is not None)
        await pilot.press("x")                           # stop ends both runs, B's threads held
        await until(lambda: screen.session.has_results)
        assert [r.status for r in screen.session.results] == ["stopped", "stopped"]


@sync
async def test_presenter_view_has_the_same_keys(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_run(app, pilot, min_updates=20, algo="leashed")
        runner = screen.runner
        await pilot.press("P")
        assert isinstance(app.screen, PresenterScreen)
        present = app.screen
        await pilot.press(".", "f")
        await until(lambda: held(runner, 1) is not None)
        await until(lambda: "held at" in "\n".join(screen_lines(app)))
        await until(lambda: "while thread 1 is held — Leashed-SGD is lock-free" in str(present.holds_line.content))
        await pilot.press("U")
        await until(lambda: held(runner, 1) is None)
        await pilot.press("escape")
        await pilot.press("x")
        await until(lambda: screen.dash.result is not None)


@sync
async def test_lesson_live_experiment_has_the_same_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path / "data"))
    app = TeachSGDApp(export_dir=tmp_path / "exports", lesson_id="1")
    app.lesson_budget = Budget(updates=10_000_000)    # far too long: the test stops it
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        screen = app.screen
        for key in ("n", "1", "n", "1", "n"):
            await pilot.press(key)
        assert not screen.check_action("freeze", ())
        await pilot.press("r")
        await until(lambda: screen.runner is not None and screen.dash.running and screen.runner.started)
        runner = screen.runner
        await pilot.press("b")                           # a breakpoint at SEQ's first point
        await until(lambda: held(runner, 0) == "start")
        await pilot.press("U")
        await until(lambda: held(runner, 0) is None)
        await pilot.press("f")
        await until(lambda: held(runner, 0) is not None)
        expect = ("every thread is held: nobody can publish" if runner.config.threads == 1
                  else "while thread 0 is held")
        await until(lambda: expect in str(screen.w_step.w_hint.content))
        screen.query_one(TimelinePanel).focus()
        await pilot.press("o")
        await until(lambda: screen.controls.log[-1].what == "step")
        await pilot.press("u")
        await until(lambda: held(runner, 0) is None)
        # nothing held or asked any more: once the key's line has had its seconds, the step's own hint is back
        await until(lambda: "held" not in str(screen.w_step.w_hint.content), timeout=20,
                    why=lambda: str(screen.w_step.w_hint.content))
        assert str(screen.w_step.w_hint.content) == screen.keys.hint()[0]
        await pilot.press("h")
        await until(lambda: runner.done)


# ---- every key the footer shows works from every focus (issue 18) --------------------------------------------
KEY_NAMES = {",": "comma", ".": "full_stop"}   # a binding's key name where it is not the character


def footer_actions(screen) -> set[str]:
    """The actions the footer shows keys for now (its FooterKey widgets; one per action, whatever its keys)."""
    return {k.action for k in screen.query(FooterKey)}


def shown_actions(screen) -> set[str]:
    """The actions the footer should show: the screen's active bindings that are shown."""
    return {b.binding.action for b in screen.active_bindings.values() if b.binding.show}


async def every_key_from_every_focus(app, pilot, screen) -> dict[str, list[str]]:
    """Each thread key from each widget Tab reaches (screen.focus_chain) while a run is live. A key the footer
    shows (B, F and U are never shown: a key the screen would take) must act — the controls say what it did —
    and leave the focused field's text as it was; a key it does not show is not pressed. Returns, per widget,
    the keys the footer left out while it had focus (a field that types them)."""
    hidden: dict[str, list[str]] = {}
    # Paused: what is tried here is where each key goes from each focus (thread_keys_work tries what the keys do
    # to running threads); a paused run is still live, and its idle workers leave the UI thread a core.
    await pilot.press("space")
    await until(lambda: all(r.paused for r in screen.thread_runners() if r is not None))
    targets = list(screen.focus_chain)
    assert len(targets) >= 3
    for target in targets:
        assert screen.controls.live, "the run ended before the keys were tried (a long budget that the test stops)"
        target.focus()
        await pilot.pause()
        # the footer is rebuilt after a focus change: it must come to show what the screen's bindings say
        await until(lambda: footer_actions(screen) - {"command_palette"} == shown_actions(screen))  # (^p: its own)
        for key in KEYS:
            binding = screen.active_bindings.get(KEY_NAMES.get(key, key))
            if binding is None or (binding.binding.show and binding.binding.action not in footer_actions(screen)):
                hidden.setdefault(str(target.id or type(target).__name__), []).append(key)
                continue
            value = getattr(target, "value", None)
            screen.controls.last = ""
            await pilot.press(key)
            assert screen.controls.last, f"{key} shown in the footer did nothing with {target} focused"
            assert getattr(target, "value", None) == value, f"{key} was typed into {target}"
            assert app.focused is target
        screen.controls.clear()
    return hidden


@sync
async def test_playground_delay_field_and_every_key_from_every_focus(tmp_path):
    """The delay adversary from the Playground's form: a bad one is one line; a good one runs, and the thread
    table says which thread it holds back. Then every thread key from every widget Tab reaches."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, "p", PlaygroundScreen)
        fields = {"dataset": "synthetic", "threads": "1", "budget": "3600s", "algo": "hogwild", "delay": "0:4"}
        for wid, value in fields.items():
            screen.query_one(f"#{wid}").value = value
        screen.query_one("#delay").focus()
        await pilot.press("enter")
        assert message(screen) == "[bold red]✗ delay 0:4 needs thread 0 and another: use threads m 2 or more[/]"
        assert screen.runner is None and app.focused is screen.query_one("#delay")   # kept there, to be fixed
        screen.query_one("#algo").value = "seq"
        await pilot.press("enter")
        assert message(screen) == "[bold red]✗ delay 0:4 needs lock, hogwild or leashed: seq's updates are never stale[/]"
        screen.query_one("#algo").value = "hogwild"
        screen.query_one("#threads").value = "2"
        await pilot.press("enter")
        await until(lambda: screen.runner is not None and screen.runner.snapshot().updates > 20)
        runner = screen.runner
        assert runner.config.delay == (0, 4)
        await until(lambda: "t0 delayed τ=4" in "\n".join(screen_lines(app)))
        await until(lambda: runner.snapshot().threads[0].delayed > 0)
        hidden = await every_key_from_every_focus(app, pilot, screen)
        # only a field whose text can hold the key hides it: "," in hidden (128,64), "." in lr and budget
        assert hidden == {"hidden": [","], "lr": ["."], "budget": ["."]}, hidden
        assert runner.snapshot().threads[0].delayed > 0 and not runner.done
        await pilot.press("x")
        await until(lambda: screen.dash.result is not None)
        assert screen.dash.result.delay["tau"] == 4
        assert "t0 delayed τ=4" in "\n".join(screen_lines(app))   # true of the run shown, after it too


@sync
async def test_compare_every_key_from_every_focus_with_a_delay(tmp_path):
    """Compare's form gives the delay to both runs (HOGWILD! and Leashed-SGD take it); each table says so."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, "c", CompareScreen)
        for wid, value in {"dataset": "synthetic", "threads": "2", "budget": "3600s", "delay": "1:3"}.items():
            screen.query_one(f"#{wid}").value = value
        screen.query_one("#dash-a #thread-table").focus()
        await pilot.press("s")
        await until(lambda: len(screen.session.live()) == 2)
        assert [r.config.delay for r in screen.session.runners] == [(1, 3), (1, 3)]
        await until(lambda: "\n".join(screen_lines(app)).count("t1 delayed τ=3") == 2)
        hidden = await every_key_from_every_focus(app, pilot, screen)
        assert hidden == {"hidden": [","], "lr": ["."], "budget": ["."]}, hidden
        await pilot.press("x")
        await until(lambda: screen.session.has_results)


DELAY_LESSON = '''+++
title = "Pick the delay"
minutes = 3
id = "93-delay"

[[experiments]]
id = "live"
title = "HOGWILD! with 2 threads, then with the delay you pick"
base = { algo = "hogwild", dataset = "synthetic", threads = 2, lr = 0.5, seconds = 3600, seed = 0 }
runs.after = { }
change = { run = "after", setting = "delay", values = ["0:4", "1:16"], prompt = "Pick the delay of after." }

[[checkpoints]]
experiment = "live"
question = "How far back will thread 0's updates land?"
choices = { four = "4 versions or more", less = "less" }
answer = "'four' if after.delayed_staleness_min >= 4 else 'less'"
explain = "τ = {after.delay_tau}."
+++

# Pick it

<!-- experiment: live -->
'''


@sync
async def test_lesson_change_sets_the_delay_and_every_key_works_from_every_focus(tmp_path, monkeypatch):
    """A lesson's change step picks the delay (2: "1:16"); the live run has it, and the thread keys work from
    every widget Tab reaches on the lesson screen while it runs."""
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "93-delay.md").write_text(DELAY_LESSON)
    app = TeachSGDApp(export_dir=tmp_path / "exports", lessons_dir=str(tmp_path / "mine"), lesson_id="93")
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        screen = app.screen
        for key in ("n", "2", "n", "1", "n", "r"):
            await pilot.press(key)
        assert screen.session.changes == {"live": "1:16"}
        await until(lambda: screen.runner is not None and screen.dash.running and screen.runner.started)
        runner = screen.runner
        assert runner.config.delay == (1, 16)
        await until(lambda: "t1 delayed τ=16" in "\n".join(screen_lines(app)))
        hidden = await every_key_from_every_focus(app, pilot, screen)
        assert hidden == {}, hidden
        await pilot.press("x")
        await until(lambda: runner.done)
