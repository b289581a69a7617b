"""Pilot tests of the challenge screens: home → challenges → one challenge played key by key to its verdict
(with undo and a hint on the way), and a checker's counterexample stepped through to its violation."""
from __future__ import annotations

from textual.widgets import OptionList

from teach_sgd.sim.check import check, make_model
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.challenge import ChallengeMenu, ChallengeScreen, TraceScreen
from teach_sgd.sim.challenges import Scores

from tui_helpers import SIZE, sync

WIN = ["1", "1", "1", "2", "2", "2", "2", "1"]   # thread 0 LOADs, thread 1 runs its update, thread 0 STOREs


async def select(pilot, screen, menu_id: str, option_id: str) -> None:
    menu = screen.query_one(menu_id, OptionList)
    menu.focus()
    menu.highlighted = menu.get_option_index(option_id)
    await pilot.press("enter")


@sync
async def test_play_a_challenge_to_its_verdict(tmp_path, monkeypatch):
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path))
    app = TeachSGDApp(lessons=[], warm_kernels=False)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app.screen, "#menu", "challenges")
        assert isinstance(app.screen, ChallengeMenu)
        await select(pilot, app.screen, "#ch-menu", "lose-update")
        screen = app.screen
        assert isinstance(screen, ChallengeScreen) and "lost_updates >= 1" in screen.text

        await pilot.press("i")
        assert screen.challenge.hints[0] in screen.text
        await pilot.press(*WIN[:3], "2", "u")                 # a step taken back
        assert screen.attempt.steps == 3 and "undone" in screen.text
        await pilot.press(*WIN[3:])
        v = screen.attempt.verdict
        assert v is not None and v.won and v.steps == 8
        text = screen.text
        assert "WON in 8 steps" in text and "new best" in text and "the schedule, replayed:" in text
        assert "erased 1 write(s)" in text.splitlines()[-1]  # the replay ends on the lost update
        await pilot.press("1")
        assert "attempt is over" in screen.text and screen.attempt.steps == 8
        await pilot.press("escape")
        assert isinstance(app.screen, ChallengeMenu)
        assert "best 8" in str(app.screen.query_one("#ch-menu", OptionList).get_option("lose-update").prompt)
    assert Scores.load().best("lose-update") == 8


@sync
async def test_a_counterexample_steps_through_to_its_violation():
    model = make_model("leashed-untagged", 2, 2)
    result = check(model)
    app = TeachSGDApp(lessons=[], warm_kernels=False)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(TraceScreen(model, result.schedule, result.broken))
        await pilot.pause()
        screen = app.screen
        await pilot.press(*["n"] * len(result.schedule))
        assert "ABA" in screen.text and "✗ lost_update" in screen.text
        assert "teach_sgd.engine.versions.publish" in screen.text
        await pilot.press("b")
        assert "✗ lost_update" not in screen.text and len(screen.game.schedule) == len(result.schedule) - 1


@sync
async def test_step_numbers_hint_key_and_a_missing_thread_are_said_right(tmp_path, monkeypatch):
    """Issue 16 point 8: an event names the step of the log line it is on; running out of steps names the hint key
    (i, not ? which opens help); a key past the last thread says how many threads there are."""
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path))
    app = TeachSGDApp(lessons=[], warm_kernels=False)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app.screen, "#menu", "challenges")
        await select(pilot, app.screen, "#ch-menu", "lose-update")
        screen = app.screen
        await pilot.press("5")
        assert "there are only 2 threads" in screen.text and "thread 4" not in screen.text
        assert screen.attempt.steps == 0
        await pilot.press(*WIN)
        last = [line for line in screen.text.splitlines() if "erased 1 write(s)" in line][-1]
        number = int(last.split(".")[0])
        assert f"step {number}: " in last, last
        await pilot.press("escape")
        await select(pilot, app.screen, "#ch-menu", "lose-update")
        screen = app.screen
        for _ in range(screen.challenge.limit):   # thread 0 only: its own update is never lost
            await pilot.press("1")
            if screen.attempt.verdict is not None:
                break
        assert screen.attempt.verdict is not None and not screen.attempt.verdict.won
        assert "ask for a hint (i)" in screen.text and "(?)" not in screen.text
