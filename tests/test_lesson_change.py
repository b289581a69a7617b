"""The learner changes a setting and the panels answer (issue 19, "The learner acts"): an experiment's `change`
gives one of its runs the value the learner picks at a "change" step, before the predictions and the run; the
verdict compares the two measured runs. Loader, session (without a terminal), the plain-text walk, and the
lesson screen (Pilot). Runs are real engine runs shrunk with Budget(updates=N)."""
from __future__ import annotations

import pytest

from teach_sgd.commands.lessons import walk
from teach_sgd.lessons import Budget, LessonSession, Progress, find_lesson, load_lessons
from teach_sgd.lessons import pages
from teach_sgd.lessons.headless import run_lesson
from teach_sgd.lessons.loader import LessonLoadError, parse_lesson
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.lesson import LessonScreen

from tui_helpers import SIZE, sync, until

BUDGET = Budget(updates=60)

LESSON = '''+++
title = "Change the threads"
minutes = 3
id = "92-change"

[[experiments]]
id = "live"
title = "HOGWILD! with 2 threads, then with the count you pick"
base = { algo = "hogwild", dataset = "synthetic", threads = 2, updates = 200, seed = 0 }
runs.before = { }
runs.after = { }
CHANGE

[[checkpoints]]
experiment = "live"
question = "Will after have a thread that no other thread can race?"
choices = { alone = "yes: one thread, nobody races it", racing = "no" }
answer = "'alone' if after.threads == 1 else 'racing'"
explain = "after ran {after.threads} thread(s), before {before.threads}."
+++

# Change it

<!-- experiment: live -->
'''
CHANGE = 'change = { run = "after", setting = "threads", values = [4, 1], prompt = "Pick the threads of after." }'


def write(folder, change: str = CHANGE):
    folder.mkdir(exist_ok=True)
    path = folder / "92-change.md"
    path.write_text(LESSON.replace("CHANGE", change))
    return path


@pytest.fixture
def lesson(tmp_path):
    lessons, errors = load_lessons(write(tmp_path / "mine").parent, include_builtin=False)
    assert not errors, errors
    return lessons[0]


def test_the_change_step_comes_before_the_predictions_and_the_run(lesson):
    kinds = [s.kind for s in lesson.steps]
    assert kinds == ["narrative", "change", "predict", "run", "verdict"]
    change = lesson.experiment("live").change
    assert change.choices == (("4", "threads = 4"), ("1", "threads = 1"))


@pytest.mark.parametrize("change, message", [
    ('change = { run = "nobody", setting = "threads", values = [4, 1], prompt = "p" }', "one of this experiment's runs"),
    ('change = { run = "after", setting = "algo", values = ["lock", "seq"], prompt = "p" }', "setting = one of"),
    ('change = { run = "after", setting = "threads", values = [4], prompt = "p" }', "at least two values"),
    ('change = { run = "after", setting = "threads", values = [4, 0], prompt = "p" }', "threads"),
    ('change = { run = "after", setting = "threads", values = [4, 4], prompt = "p" }', "must not repeat"),
    ('change = { run = "after", setting = "threads", values = [4, 1], prompt = "p", colour = 1 }', "unknown key 'colour'"),
])
def test_a_bad_change_is_a_load_error_naming_the_file(tmp_path, change, message):
    path = write(tmp_path / "bad", change)
    with pytest.raises(LessonLoadError) as err:
        parse_lesson(path.read_text(), path)
    text = str(err.value)
    assert "92-change.md:" in text and message in text


def test_the_picked_value_runs_and_the_verdict_compares_the_two_runs(tmp_path, lesson):
    path = tmp_path / "progress.json"
    s = LessonSession(lesson, Progress.load(path), budget=BUDGET)
    s.next()
    assert s.step.kind == "change" and not s.can_advance, "the learner must pick a value first"
    assert "Pick the threads of after." in pages.markdown(s)
    assert "pick a value" in pages.hint(s)[0]
    s.change("1")
    assert s.can_advance and "threads = 1 for run after" in pages.hint(s)[0]
    plan = dict(s.plan())
    assert (plan["before"].threads, plan["after"].threads) == (2, 1)
    s.next()
    s.answer("alone")
    s.next()
    s.run_headless()
    runs = s.results["live"].runs
    assert (runs["before"].config.threads, runs["after"].config.threads) == (2, 1)
    s.next()
    v = s.verdict()
    assert v.correct_choice == "alone" and v.user_correct and "after ran 1 thread(s), before 2" in v.explanation

    # reopened: the change and the results it measured are both back, no re-run asked
    again = LessonSession(lesson, Progress.load(path), budget=BUDGET)
    assert again.changes == {"live": "1"} and "live" in again.results

    # another value: the old results no longer answer the question
    again.change("4", "live")
    assert "live" not in again.results
    assert dict(again.plan("live"))["after"].threads == 4
    with pytest.raises(ValueError):
        again.change("3", "live")


def test_headless_runs_and_the_plain_walk_use_a_value_too(lesson):
    report = run_lesson(lesson, BUDGET)       # lesson --run and the stability benchmark: the first value
    assert report.results["live"].runs["after"].config.threads == 4
    assert report.outcomes() == {"checkpoint1": "racing"}
    answers = iter(["2", "1", "alone"])      # "2" is not a value: asked again
    out: list[str] = []
    [v] = walk(lesson, ask=lambda _: next(answers), out=out.append, budget=BUDGET)
    assert any("choose one of: 4, 1" in line for line in out)
    assert v.correct_choice == "alone"


def test_shipped_lessons_3_5_6_have_a_change_step_before_their_run():
    shipped, _ = load_lessons()
    for number in ("3", "5", "6"):
        lesson = find_lesson(shipped, number)
        [i] = [k for k, s in enumerate(lesson.steps) if s.kind == "change"]
        e = lesson.steps[i].experiment
        run_step = next(k for k, s in enumerate(lesson.steps) if s.kind == "run" and s.experiment is e)
        assert i < run_step
        assert any(cp.experiment == e.id for cp in lesson.checkpoints)


@sync
async def test_the_lesson_screen_asks_for_the_change_and_runs_the_picked_value(tmp_path, monkeypatch):
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path / "data"))
    folder = write(tmp_path / "mine").parent
    app = TeachSGDApp(export_dir=tmp_path / "exports", lessons_dir=str(folder), lesson_id="92")
    app.lesson_budget = BUDGET
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        screen = app.screen
        await pilot.press("n")
        assert screen.session.step.kind == "change" and screen.w_step.w_choices.display
        await pilot.press("n")
        assert screen.session.step.kind == "change", "next waits for a value"
        await pilot.press("2")                     # the second value: threads = 1
        assert screen.session.changes == {"live": "1"}
        for key in ("n", "1", "n", "r"):
            await pilot.press(key)
        await until(lambda: screen.session.can_advance and not screen.keys.busy)
        assert screen.session.results["live"].runs["after"].config.threads == 1
        await pilot.press("n")
        assert screen.session.verdict().correct_choice == "alone"


def test_lesson_17_lets_the_learner_set_the_delay_at_the_large_step(tmp_path):
    """Lesson 17's own step: the learner picks the delay (change setting delay), predicts, the picked delay runs,
    and the verdict quotes it. The session walked as the lesson screen drives it, runs shrunk to 60 updates."""
    shipped, errors = load_lessons()
    assert not errors
    lesson = find_lesson(shipped, "17")
    [i] = [k for k, s in enumerate(lesson.steps) if s.kind == "change"]
    e = lesson.steps[i].experiment
    assert e.change.setting == "delay" and [s.kind for s in lesson.steps[i + 1:i + 4]] == ["predict", "run", "verdict"]
    assert e.change.choices[1] == ("0:16", "delay = 0:16")
    s = LessonSession(lesson, Progress.load(tmp_path / "progress.json"), budget=BUDGET)
    while s.index < i:                       # the steps before it: predictions answered, the first experiment run
        if s.step.kind == "predict":
            s.answer(s.step.checkpoint.keys[0])
        elif s.step.kind == "run":
            s.run_headless()
        s.next()
    assert not s.can_advance and "delay = 0:16" in pages.markdown(s)
    assert "hogwild, 2 threads, η = 0.8" in pages.markdown(s)        # before, which runs as it is
    with pytest.raises(ValueError):
        s.change("0:5")                      # not one of the values offered
    s.change("0:16")
    plan = dict(s.plan())
    assert (plan["before"].delay, plan["after"].delay) == (None, (0, 16))
    assert plan["before"].lr == plan["after"].lr == 0.8
    s.next()
    s.answer("worse")
    s.next()
    runs = s.run_headless().runs
    assert runs["after"].delay == {"thread": 0, "tau": 16, "held_updates": runs["after"].threads[0].delayed}
    assert runs["after"].threads[0].updates == 0 or runs["after"].threads[0].staleness_min >= 16  # none: no update
    s.next()
    v = s.verdict()
    assert v.correct_choice in ("worse", "same", "better") and "τ = 16 versions back" in v.explanation
