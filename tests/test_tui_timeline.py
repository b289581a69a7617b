"""The timeline panel in a terminal: it draws the run's lanes, follows, holds, zooms and tells a story."""
from textual.app import App
from tui_helpers import sync

from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import Runner
from teach_sgd.tui.widgets.timeline import TimelinePanel


class TimelineApp(App):
    def compose(self):
        yield TimelinePanel()


@sync
async def test_timeline_panel_draws_selects_and_tells_a_story():
    runner = Runner(RunConfig(algo="leashed", threads=4, updates=400, dataset="synthetic", batch=8)).start()
    result = runner.wait()
    app = TimelineApp()
    async with app.run_test(size=(100, 12)) as pilot:
        panel = app.query_one(TimelinePanel)
        panel.show(runner.events_now(), "leashed", 4, result.events_missed)
        panel.focus()
        await pilot.pause()
        text = panel.render().plain
        assert text.count("\n") == 4 and "━" in text and "following" in panel.border_title
        assert f"{result.events_recorded:,} events" in panel.border_title
        await pilot.press("p")
        assert not panel.view.follow
        await pilot.press("right_square_bracket")
        assert panel.view.selected is not None
        assert "thread" in panel.render().plain and "read v" in panel.render().plain
        span = panel.view.span
        await pilot.press("minus")
        assert panel.view.span > span
        await pilot.press("v")
        assert panel.view.axis == "time" and "run time" in panel.border_title


# ---- issue 16 point 5: every lane and the story line in sight, and a jump to the next ✗ / ! / ⊘ ----------------
import numpy as np

from teach_sgd.engine.layout import OUTCOME_PUBLISHED
from teach_sgd.lessons import Budget
from teach_sgd.timeline import TimelineView
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.lesson import LessonScreen

from tui_helpers import screen_lines, until


def notable(events) -> np.ndarray:
    return (events["outcome"] != OUTCOME_PUBLISHED) | (events["lost"] > 0)


def test_jump_finds_every_notable_event_in_order_and_back():
    # 8 Leashed-SGD threads on this machine's cores: failed CAS are certain (the lesson 5 run)
    runner = Runner(RunConfig(algo="leashed", threads=8, updates=1500, dataset="synthetic", batch=8)).start()
    runner.wait()
    events = runner.events_now()
    view = TimelineView("leashed")
    first = view.jump(events, -1)   # following: the last notable event in the window, then back to the first
    assert first is not None and notable(events[first:first + 1])[0]
    while view.jump(events, -1) is not None:
        pass
    seen = [view.selected]
    while (i := view.jump(events, 1)) is not None:
        seen.append(i)
    assert len(seen) == int(notable(events).sum()) > 0, "every ✗ ! ⊘ of the run, each once"
    assert all(notable(events[seen]))
    lo, hi = view.window(events)
    assert lo <= events["t_applied"][seen[-1]] + 1 <= hi, "the window moved to the event"
    back = []
    while (i := view.jump(events, -1)) is not None:
        back.append(i)
    assert back == seen[-2::-1]


@sync
async def test_lesson_5_step_8_shows_all_four_lanes_and_the_story_at_200x55(tmp_path, monkeypatch):
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path / "data"))
    app = TeachSGDApp(lesson_id="5", export_dir=tmp_path, lesson_budget=Budget(updates=60))
    async with app.run_test(size=(200, 55)) as pilot:
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        screen = app.screen
        # the slow-motion run (4 threads), wherever the lesson puts it
        screen.session.index = next(i for i, st in enumerate(screen.session.lesson.steps)
                                    if st.kind == "run" and st.experiment is not None and st.experiment.id == "slow")
        await screen.show_step()
        await pilot.press("r")
        await until(lambda: screen.session.can_advance and not screen.keys.busy, timeout=60)
        await pilot.pause()
        timeline = screen.query_one(TimelinePanel)
        timeline.focus()
        await pilot.press("right_curly_bracket")
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        for t in range(4):
            assert f"│t{t} " in text, f"lane t{t} is out of sight"
        selected = timeline.view.selected
        if selected is not None:   # a run with no ✗ ! ⊘ has nothing to jump to (the bell says so)
            assert notable(timeline.events[selected:selected + 1])[0]
        assert "update (read → published)" in text or "thread" in text.split("│t3 ")[1], "no story line"
