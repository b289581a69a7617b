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
