"""Pilot test of a race step: lesson 5's failed CAS made through the lesson screen's own thread keys, on real
threads — the stage text advancing as the learner acts, a spoiling key refused and explained, the outcome quoted
from the engine's counters, kept when the lesson is left and reopened. Waits poll the app (no wall-time asserts)."""
import pytest
from tui_helpers import SIZE, sync, until

from teach_sgd.lessons import Progress
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.lesson import LessonScreen

RACE_PATIENCE_S = 120  # building the run loads MNIST and the kernel; a safety net, not a measurement


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(d))
    return d


def text(screen) -> str:
    return screen.w_step.w_text.source


async def open_race(app, pilot) -> LessonScreen:
    """Lesson 5 at its race step (the steps before it are other tests' business)."""
    await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
    screen = app.screen
    screen.session.index = next(i for i, step in enumerate(screen.session.steps) if step.kind == "race")
    await screen.show_step()
    return screen


@sync
async def test_a_failed_cas_made_with_the_lesson_screens_thread_keys(tmp_path, data_dir):
    app = TeachSGDApp(lesson_id="5", warm_kernels=False, export_dir=tmp_path / "exports")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_race(app, pilot)
        s = screen.session
        assert "Press **r** to start the threads" in text(screen)
        await pilot.press("r")
        await until(lambda: s.race is not None and s.race.waiting_for_action, timeout=RACE_PATIENCE_S)
        await until(lambda: "select thread 1 (**,** or **.**) and thaw it (**f**)" in text(screen))

        await pilot.press("o")                      # thread 0 is selected: stepping it now would spoil the race
        await until(lambda: "Not now: step thread 0" in text(screen))
        assert screen.runner.holds.held_at(0) == "cas" and screen.runner.state.thread_stats()[0].cas_fail == 0

        await pilot.press("full_stop", "f")         # select thread 1, thaw it: it publishes
        await until(lambda: "freeze thread 1 again (**f**)" in text(screen))
        await pilot.press("f")                      # … and freeze it again
        await until(lambda: "step it (**o**): its CAS runs" in text(screen))
        await pilot.press("comma")                  # back to thread 0
        for _ in range(3):                          # its CAS fails, it rebuilds, its retry publishes
            stage = s.race.index
            await pilot.press("o")
            await until(lambda: s.race.index > stage or s.race.failed, timeout=RACE_PATIENCE_S)
        await until(lambda: "✓ You made it." in text(screen))
        n = s.race.numbers
        t0 = screen.dash.runner.state.thread_stats()[0]
        assert (t0.cas_fail, t0.updates) == (1, 1) and n["attempts"] == 2 and n["landed_on"] == n["version"] >= 1
        assert f"P moved from version 0 to {n['version']:,}" in text(screen)
        await until(lambda: "made" in str(screen.w_step.w_hint.render()),  # the hint follows on its next refresh
                    why=lambda: str(screen.w_step.w_hint.render()))
        outcome = s.race.outcome

    saved = Progress.load(data_dir / "progress.json")
    assert saved.race("05-leashed", "failed-cas")["outcome"] == outcome
    app = TeachSGDApp(lesson_id="5", warm_kernels=False, export_dir=tmp_path / "exports")
    async with app.run_test(size=SIZE) as pilot:             # reopened
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        screen = app.screen
        assert screen.session.made == {"failed-cas": outcome}
        await open_race(app, pilot)
        assert "✓ You made it." in text(screen) and outcome in text(screen)
