"""What a new user met in a tmux trial, checked at 80×24, 120×40 and 200×55 on what the terminal shows: every
footer keeps back (h/Esc), quit (q) and help (?) in view; the Playground opens on its settings and its idle line
says how to reach them; the compile status and the lesson outline are shown whole or cut with a visible "…",
and the outline shows no Markdown markers."""
from __future__ import annotations

import re
import time

import pytest

from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.recording import load
from teach_sgd.engine.runner import Runner
from teach_sgd.format import plain_markdown
from teach_sgd.lessons import Progress, find_lesson, load_lessons
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.compare import CompareScreen
from teach_sgd.tui.screens.lesson import LessonScreen
from teach_sgd.tui.screens.playground import PlaygroundScreen
from teach_sgd.tui.screens.present import PresenterScreen
from teach_sgd.tui.screens.replay import ReplayScreen
from teach_sgd.tui.screens.simulator import SimulatorScreen
from teach_sgd.tui.widgets.dashboard import LowerRow
from teach_sgd.tui.widgets.kernel_status import KernelStatus
from teach_sgd.tui.widgets.plots import LossPlot
from teach_sgd.tui.widgets.lesson_outline import KIND_ICON, LessonOutline, step_title
from teach_sgd.tui.widgets.thread_table import ThreadTable

from tui_helpers import SIZES, open_screen, screen_lines, sync, until

ESSENTIAL = ("h/Esc", "q Quit", "? Help")


def make_app(tmp_path, **kw) -> TeachSGDApp:
    return TeachSGDApp(lessons=[("demo", "A demo lesson", 5)], export_dir=tmp_path / "exports", warm_kernels=False,
                       **kw)


def footer(app) -> str:
    return screen_lines(app)[-1]


async def assert_essential_keys(app, where: str, live: bool = False) -> None:
    """The footer shows back, quit and help, once it has been painted (a screen just opened paints it next; a
    live run's footer, `live`, is the one with Pause in it)."""
    await until(lambda: all(k in footer(app) for k in ESSENTIAL + ("Pause",) * live), timeout=10,
                why=lambda: f"{where}: the footer hides {[k for k in ESSENTIAL if k not in footer(app)]}: {footer(app)!r}")


def widget_text(app, widget) -> str:
    """What the terminal shows in `widget`'s first content line."""
    r = widget.content_region
    return screen_lines(app)[r.y][r.x:r.right].rstrip()


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    runner = Runner(RunConfig(algo="leashed", threads=2, seconds=0.5, dataset="synthetic", batch=8)).start()
    runner.wait()
    return load(runner.save_recording(tmp_path_factory.mktemp("rec") / "run.npz"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_every_footer_keeps_back_quit_and_help_in_view(tmp_path, size, recording):
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await open_screen(app, pilot, "s", SimulatorScreen)
        await assert_essential_keys(app, "simulator")
        await pilot.press("escape")
        screen = await open_screen(app, pilot, "p", PlaygroundScreen)
        await assert_essential_keys(app, "Playground, idle")
        for wid, value in {"dataset": "synthetic", "threads": "2", "budget": "60s", "algo": "leashed"}.items():
            screen.query_one(f"#{wid}").value = value
        await pilot.press("s")
        await until(lambda: screen.runner is not None and screen.runner.snapshot().updates > 0)
        await until(lambda: screen.active)
        await pilot.pause()  # the footer now holds the live run's keys (the thread keys, P)
        await assert_essential_keys(app, "Playground, live", live=True)
        if size[0] >= 120:  # and, with room, every key of the live run: the thread keys and P
            assert "bfou Breakpoints" in footer(app) and "P Present" in footer(app), footer(app)
        await pilot.press("P")
        await until(lambda: isinstance(app.screen, PresenterScreen))
        await pilot.pause()
        await assert_essential_keys(app, "presenter, live")
        await pilot.press("escape")
        await until(lambda: app.screen is screen)
        await pilot.press("x")
        await until(lambda: screen.dash.result is not None)
        await pilot.press("escape")
        screen = await open_screen(app, pilot, "c", CompareScreen)
        idle = "no run yet: Tab to settings, s starts"
        await until(lambda: sum(line.count(idle) for line in screen_lines(app)) == 2)   # whole in both halves
        screen.query_one("#dataset").value = "synthetic"
        screen.query_one("#budget").value = "60s"
        await pilot.press("s")
        await until(lambda: len(screen.session.runners) == 2 and all(r.snapshot().updates > 0
                                                                      for r in screen.session.runners))
        await assert_essential_keys(app, "Compare, live", live=True)
        await pilot.press("x")
        await until(lambda: screen.session.has_results)
        await pilot.press("escape")
        await pilot.pause()
        app.push_screen(LessonScreen("1", progress=Progress.load(tmp_path / "progress.json")))
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.keys is not None)
        await pilot.pause()
        await assert_essential_keys(app, "lesson")
        app.pop_screen()
        app.open_replay(recording)
        await until(lambda: isinstance(app.screen, ReplayScreen))
        await pilot.pause()
        await assert_essential_keys(app, "replay")


@sync
async def test_the_playground_opens_on_its_settings_and_s_hands_the_keys_to_the_dashboard(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(app, pilot, "p", PlaygroundScreen)
        assert app.focused is screen.query_one("#algo"), "the algorithm field first"
        await until(lambda: any("no run yet: Tab to settings, s starts" in line for line in screen_lines(app)))
        await pilot.press("tab")
        assert app.focused is screen.query_one("#threads")
        screen.query_one("#dataset").value = "synthetic"
        screen.query_one("#budget").value = "60s"
        screen.query_one("#algo").focus()
        await pilot.press("s")  # from the algorithm's drop-down
        await until(lambda: screen.runner is not None and screen.runner.snapshot().updates > 0)
        assert isinstance(app.focused, ThreadTable), "the run keys reach the dashboard at once"
        await pilot.press("space")  # pauses: in the drop-down it would have opened the list
        await until(lambda: screen.runner.paused)
        await pilot.press("x")
        await until(lambda: screen.dash.result is not None)
        await pilot.press("shift+tab")
        assert screen.form in app.focused.ancestors, "Shift+Tab from the dashboard reaches the settings"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_the_compile_status_is_whole_or_visibly_cut(tmp_path, size):
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        for key, kind in (("p", PlaygroundScreen), ("c", CompareScreen)):
            screen = await open_screen(app, pilot, key, kind)
            app.kernel_clock = (time.monotonic() - 12.4, 25.0)
            app.kernel_detail = "— 2/5 leashed mlp"
            app.kernel_state = "compiling"
            line = re.compile(r"compiling 2/5 leashed mlp: 1\d s \(last compile here: 25 s\) — first run only$")
            status = screen.query_one(KernelStatus)

            def shown_well(shown: str) -> bool:  # whole, or cut with an ellipsis after the part that matters
                return bool(line.search(shown)) or (shown.endswith("…") and "compiling 2/5 leashed mlp: 1" in shown)
            await until(lambda: shown_well(widget_text(app, status)), timeout=10,  # painted on its next tick
                        why=lambda: widget_text(app, status))
            shown = widget_text(app, status)
            whole = line.search(shown)
            assert whole or size[0] < 120, f"{size}: room for the whole line, yet it was cut: {shown!r}"
            app.kernel_state = "ready"
            await pilot.press("escape")


def test_plain_markdown_takes_the_markers_off_and_keeps_words():
    assert plain_markdown("**Change it yourself.** Press **g** for *the* `teach_sgd` [paper](docs/papers.md)") \
        == "Change it yourself. Press g for the teach_sgd paper"
    assert plain_markdown("a_b and 2 * 3 * 4 stay; _this_ and ***both*** do not") == \
        "a_b and 2 * 3 * 4 stay; this and both do not"


OUTLINE_LINE = re.compile(r"^\s*[▶✓ ]\s+(\d+)\s\s(\S+) (.*?)\s*[▁▂▃▄▅▆▇█]*$")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_the_lesson_outline_shows_each_step_whole_or_elided_and_no_markdown(tmp_path, size):
    lesson = find_lesson(load_lessons()[0], "3")
    titles = [step_title(step) for step in lesson.steps]
    assert any("**" in step.text.split("\n\n", 1)[0] for step in lesson.steps if step.kind == "narrative")
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        app.push_screen(LessonScreen("3", progress=Progress.load(tmp_path / "progress.json")))
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.keys is not None)
        await pilot.pause(0.2)
        outline = app.screen.query_one(LessonOutline)
        r = outline.content_region
        seen = 0
        for line in screen_lines(app)[r.y:r.bottom]:
            m = OUTLINE_LINE.match(line[r.x:r.right])
            if m is None or m.group(2) not in KIND_ICON.values():
                continue
            number, shown = int(m.group(1)), m.group(3)
            full = titles[number - 1]
            assert "**" not in shown and "`" not in shown, shown
            assert shown == full or (shown.endswith("…") and full.startswith(shown[:-1].rstrip())), (shown, full)
            seen += 1
        assert seen >= 5, "the outline's steps are on screen"
        if size[0] >= 200:
            assert any("…" in line for line in screen_lines(app)[r.y:r.bottom]), "long titles are elided"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_the_loss_panel_keeps_the_rows_the_rate_sparkline_would_take_from_it(tmp_path, size):
    """Under a lesson's runs table (or at 80×24) the dashboard's lower row is short: the updates/s sparkline
    (its rate is on the status line too) gives way, so the loss panel's numbers stay on screen; where the row
    has room for both, both show."""
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = await open_screen(app, pilot, "p", PlaygroundScreen)
        await pilot.pause()
        lower = screen.query_one(LowerRow)
        rate, loss = lower.query_one("#rate"), lower.query_one(LossPlot)
        room = lower.size.height >= LowerRow.RATE_ROWS + LowerRow.LOSS_MIN_ROWS
        assert rate.display == room
        if not room:
            assert loss.outer_size.height == lower.size.height, "the loss panel takes the whole column"
        else:
            assert loss.outer_size.height >= LowerRow.LOSS_MIN_ROWS
