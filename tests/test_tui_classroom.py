"""The classroom's screens in the real app at 80×24: the presenter view on real runs, the instructor's screen
serving a real class on loopback while real clients join and predict, and a student joining from home."""
from __future__ import annotations

import re
import socket
import time
from dataclasses import replace

import pytest
from rich.text import Text
from textual.widgets import Digits, Input, OptionList
from tui_helpers import sync, until

from teach_sgd.classroom.client import ClassClient
from teach_sgd.classroom.instructor import ClassView, class_file
from teach_sgd.classroom.protocol import check_summary
from teach_sgd.classroom.questions import LessonCatalog
from teach_sgd.classroom.server import ClassServer
from teach_sgd.classroom.store import ClassStore
from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import Runner
from teach_sgd.lessons.loader import LessonLoadError, parse_lesson
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.classroom import InstructorScreen
from teach_sgd.tui.screens.lesson import LessonScreen
from teach_sgd.tui.screens.student import StudentScreen
from teach_sgd.tui.screens.present import CONTRAST, PresenterScreen, RacePanel

PROJECTOR = (80, 24)


def make_app(tmp_path, opening=None) -> TeachSGDApp:
    return TeachSGDApp(lessons=[], export_dir=tmp_path / "exports", warm_kernels=False, opening=opening)


def _text(widget) -> str:
    """What a Static shows, as plain text (a Text, or a Group of them)."""
    content = widget.content
    parts = content.renderables if hasattr(content, "renderables") else [content]
    return "\n".join(p.plain if isinstance(p, Text) else str(p) for p in parts)


@sync
async def test_presenter_shows_the_race_in_big_digits_at_80x24_in_high_contrast(tmp_path):
    base = RunConfig(algo="hogwild", threads=2, updates=400, seed=0)
    runners = [Runner(base).start(), Runner(replace(base, algo="leashed")).start()]
    results = [r.wait() for r in runners]
    app = make_app(tmp_path, opening=lambda: PresenterScreen([("HOGWILD! ×2", runners[0]),
                                                               ("Leashed-SGD ×2", runners[1])]))
    async with app.run_test(size=PROJECTOR) as pilot:
        await until(lambda: isinstance(app.screen, PresenterScreen) and app.screen.ticks >= 2)
        screen = app.screen
        assert app.theme == CONTRAST.name
        hog, lea = screen.query(RacePanel)
        lost = sum(t.lost_updates_sampled for t in results[0].threads)
        assert hog.query_one(Digits).value == f"{lost:,}"
        sampled = sum(t.sampled_writes for t in results[0].threads)
        assert _text(hog.unit) == f"lost writes of {sampled:,} observed"
        assert lea.query_one(Digits).value == "0"
        fails = sum(t.cas_fail for t in results[1].threads)
        assert f"failed CAS {fails:,}" in _text(lea.more) and "versions" in _text(lea.more)
        # every panel is on screen at the projector's size
        for widget in (hog, lea, screen.loss, *screen.timelines):
            assert widget.region.height > 0 and widget.region.right <= 80 and widget.region.bottom <= 24
        assert screen.timelines[0].get_content_height(None, None, 40) == 2 * 2 + 1  # lanes two rows tall
        before = app.theme
        await pilot.press("t")
        assert app.theme != CONTRAST.name
        await pilot.press("t")
        assert app.theme == before
        await pilot.press("escape")
        assert not isinstance(app.screen, PresenterScreen) and app.theme != CONTRAST.name


@sync
async def test_the_instructor_screen_serves_a_class_and_shows_the_live_distribution(tmp_path):
    server = ClassServer(ClassStore(tmp_path / "class.sqlite"), "127.0.0.1", 0, lessons=LessonCatalog())
    app = make_app(tmp_path, opening=lambda: InstructorScreen(server))
    async with app.run_test(size=PROJECTOR) as pilot:
        await until(lambda: isinstance(app.screen, InstructorScreen) and server.port != 0)
        screen = app.screen
        await until(lambda: f"join code: {server.code}" in _text(screen.head))
        clients = [ClassClient(server.address, server.code, n) for n in ("ada", "[b]bob[/b]")]
        for c in clients:
            await c.join()
        menu = screen.query_one("#questions", OptionList)
        menu.focus()
        menu.highlighted = menu.get_option_index("03-hogwild\tlost")
        await pilot.press("o")
        q = server.store.current_question()
        assert (q["lesson"], q["checkpoint"]) == ("03-hogwild", "lost")
        for c in clients:
            c.queue_prediction(q["seq"], "yes")
            await c.flush()
        await until(lambda: re.search(r"yes █+ +2 ", _text(screen.tally)) is not None)
        tally = _text(screen.tally)
        assert re.search(r"no +0 ", tally)  # a choice nobody picked: no bar, 0
        assert "bob" not in tally and "ada" not in tally  # counts only
        assert "2 joined · 2 predictions" in _text(screen.head)
        await pilot.press("r")
        assert (await clients[0].state())["revealed"] is True
        await until(lambda: "measured" in _text(screen.tally))  # the second column, empty until machines report
        await pilot.press("e")
        assert sorted(p.name.split(".", 1)[1] for p in (tmp_path / "exports").iterdir()) == \
            ["class.json", "csv", "json"]
        for c in clients:
            await c.close()


@sync
async def test_a_student_joins_from_the_home_screen(tmp_path, monkeypatch):
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path / "data"))
    server = ClassServer(ClassStore(":memory:"), "127.0.0.1", 0, lessons=LessonCatalog())
    await server.start()
    try:
        app = make_app(tmp_path)
        async with app.run_test(size=PROJECTOR) as pilot:
            menu = app.screen.query_one("#menu", OptionList)
            menu.highlighted = menu.get_option_index("join")
            menu.focus()
            await pilot.press("enter")
            for key, value in (("address", server.address), ("code", server.code.lower()), ("nickname", "ada")):
                app.screen.query_one(f"#join-{key}", Input).value = value
            app.screen.query_one("#join-nickname", Input).focus()
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, StudentScreen))
            await until(lambda: server.store.counts()["students"] == 1)
            server.open_question("03-hogwild", "lost")
            await until(lambda: app.screen.session.phase == "question", timeout=10)
            choices = app.screen.query_one("#choices", OptionList)
            choices.focus()
            choices.highlighted = 1  # yes · no
            await pilot.press("enter")
            await until(lambda: server.store.distribution(1) == {"no": 1})
    finally:
        await server.stop()


@sync
async def test_P_on_the_playground_presents_its_run_and_keys_drive_it(tmp_path):
    """P opens the presenter on the Playground's live run; > slows it down, space pauses it, Esc goes back."""
    app = TeachSGDApp(lessons=[], export_dir=tmp_path / "exports")
    async with app.run_test(size=PROJECTOR) as pilot:
        await pilot.press("p")
        screen = app.screen
        for wid, value in {"dataset": "synthetic", "threads": "2", "budget": "60s", "algo": "hogwild"}.items():
            screen.query_one(f"#{wid}").value = value
        screen.dash.query_one("#thread-table").focus()
        await pilot.press("s")
        await until(lambda: screen.runner is not None and screen.runner.snapshot().updates > 0)
        await pilot.press("P")
        presenter = app.screen
        assert isinstance(presenter, PresenterScreen)
        assert [label for label, _ in presenter.sources] == ["HOGWILD! ×2"]
        await pilot.press("greater_than_sign")
        assert screen.runner.stretch == 10
        await pilot.press("space")
        assert screen.runner.paused
        await pilot.press("space")
        assert not screen.runner.paused
        await pilot.press("escape")
        assert app.screen is screen
        screen.runner.stop()


@sync
async def test_a_saved_class_file_opens_read_only(tmp_path):

    summary = {"algo": "hogwild", "threads": 2, "model": "mlp", "dataset": "mnist", "status": "finished", "updates": 100, "wall_s": 1.0, "updates_per_s": 100.0,
               "diverged": False, "lost_sampled": 3, "sampled_writes": 1000}
    rows = [{"nickname": "ada", "experiment": "class", "question": None, "measured": None,
             "machine": {"cores": 8, "cpu": "x", "os": "y"}, "summary": check_summary(summary)}]
    path = tmp_path / "class.json"
    path.write_text(class_file(ClassView(rows=rows)))
    view = ClassView.from_file(path)
    app = make_app(tmp_path, opening=lambda: InstructorScreen(view=view))
    async with app.run_test(size=PROJECTOR) as pilot:
        await until(lambda: isinstance(app.screen, InstructorScreen) and app.screen.ticks >= 1)
        screen = app.screen
        assert "1 machine, 8 cores" in _text(screen.head) and "read-only" in _text(screen.head)
        assert screen.plot.border_subtitle.startswith("1 machine(s)")  # HOGWILD!'s 3 lost of 1,000, at 8 cores
        assert screen.check_action("open_question", ()) is None and screen.check_action("reveal", ()) is None
        await pilot.press("r")  # disabled: nothing happens, nothing breaks
        assert isinstance(app.screen, InstructorScreen)


@sync
async def test_a_student_who_starts_before_the_host_joins_once_it_is_up(tmp_path, monkeypatch):

    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path / "data"))
    with socket.socket() as s:  # a free loopback port, nobody listening yet
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = ClassStore(":memory:")
    app = make_app(tmp_path, opening=lambda: StudentScreen(f"127.0.0.1:{port}", store.code, "ada"))
    async with app.run_test(size=PROJECTOR):
        await until(lambda: isinstance(app.screen, StudentScreen) and "trying again" in _text(app.screen.line))
        server = ClassServer(store, "127.0.0.1", port, lessons=LessonCatalog())
        await server.start()
        try:
            await until(lambda: store.counts()["students"] == 1)
            await until(lambda: "waiting for the instructor" in _text(app.screen.line))
        finally:
            await server.stop()


def _class_rows(cores_by_nickname: dict) -> list[dict]:
    """Stored class-experiment results (SEQ ×1, HOGWILD! ×2, Leashed-SGD ×2) from machines of these core counts."""

    rows = []
    for nick, cores in cores_by_nickname.items():
        for algo, threads, per_s in (("seq", 1, 1000.0), ("hogwild", 2, 1000.0 * min(cores, 2)), ("leashed", 2, 1500.0)):
            summary = {"algo": algo, "threads": threads, "model": "mlp", "dataset": "mnist", "status": "finished",
                       "updates": 3000, "wall_s": 3.0, "updates_per_s": per_s, "diverged": False,
                       "lost_sampled": 4 if algo == "hogwild" else 0, "sampled_writes": 1000,
                       "cas_fail": 30 if algo == "leashed" else 0, "staleness_mean": 0.5}
            rows.append({"nickname": nick, "experiment": "class", "question": None, "measured": None,
                         "machine": {"cores": cores, "cpu": "x", "os": "y"}, "summary": check_summary(summary)})
    return rows


LESSON_WITH_CLASS = """+++
title = "What our class measured"
minutes = 5
id = "91-our-class"
class_file = "{file}"
+++

# What our class measured

Press K to see your class's machines.
"""


@sync
async def test_a_lesson_shows_the_class_file_it_names_and_a_damaged_one_in_one_line(tmp_path):
    """K on a lesson whose front matter names a class file opens that class read-only over the lesson: the line
    "your class, DATE: N machines, A–B cores" and one point per machine; h/Esc goes back to the lesson. When the
    file is damaged, K says so in one line and the lesson stays."""

    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "our.class.json").write_text(class_file(ClassView(rows=_class_rows({"ada": 2, "bo": 4, "cy": 16}),
                                                                created=1796284800.0)))  # 2026-12-03
    (folder / "91-our-class.md").write_text(LESSON_WITH_CLASS.format(file="our.class.json"))
    app = TeachSGDApp(lessons_dir=str(folder), lesson_id="91", export_dir=tmp_path / "exports", warm_kernels=False)
    async with app.run_test(size=PROJECTOR) as pilot:
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        lesson = app.screen
        assert lesson.check_action("your_class", ()) is True
        await pilot.press("K")
        await until(lambda: isinstance(app.screen, InstructorScreen) and app.screen.ticks >= 1)
        shown = app.screen
        day = time.strftime("%Y-%m-%d", time.localtime(1796284800.0))
        assert f"your class, {day}: 3 machines, 2–16 cores" in _text(shown.head)
        assert [(pt["nickname"], pt["cores"], pt["speedup"]) for pt in shown.board.points] == [
            ("ada", 2, 2.0), ("bo", 4, 2.0), ("cy", 16, 2.0)]
        assert shown.plot.border_subtitle.startswith("3 machine(s)")
        await pilot.press("escape")
        assert app.screen is lesson

        (folder / "our.class.json").write_text('{"kind": "teach-sgd class", "results": [{"nickname": 3}]}')
        await pilot.press("K")
        await pilot.pause()
        assert app.screen is lesson
        [note] = list(app._notifications)
        assert "a result in it is damaged" in note.message and "\n" not in note.message
        (folder / "our.class.json").unlink()
        await pilot.press("K")
        await pilot.pause()
        assert app.screen is lesson and "cannot read class file" in list(app._notifications)[-1].message


def test_a_lesson_without_a_class_file_has_no_K_and_a_bad_one_is_a_load_error(tmp_path):

    plain = parse_lesson(LESSON_WITH_CLASS.replace('class_file = "{file}"\n', ""), tmp_path / "x.md")
    assert plain.class_file is None
    named = parse_lesson(LESSON_WITH_CLASS.format(file="c/our.class.json"), tmp_path / "x.md")
    assert named.class_file == tmp_path / "c" / "our.class.json"
    with pytest.raises(LessonLoadError) as info:
        parse_lesson(LESSON_WITH_CLASS.replace('"{file}"', "3"), tmp_path / "x.md")
    [err] = info.value.errors
    assert err.line == 5 and "class_file must be a file name" in err.message
