"""The lesson screen's keys without a terminal (lessons/keys.py): which keys are on at each step, what a choice,
r, n and g do. The screen only binds these; test_tui_lesson.py drives the same through the app."""
from __future__ import annotations

import dataclasses

import pytest

from teach_sgd.engine.runner import run
from teach_sgd.errors import UsageError
from teach_sgd.lessons import Budget, LessonSession, Progress, find_lesson, load_lessons
from teach_sgd.lessons.keys import PAUSED, LessonKeys, ScreenFacts

SHIPPED, _ = load_lessons()
BUDGET = Budget(updates=150)


def keys_of(tmp_path, lesson_id: str) -> LessonKeys:
    return LessonKeys(LessonSession(find_lesson(SHIPPED, lesson_id), Progress.load(tmp_path / "progress.json"),
                                    budget=BUDGET), reference_dir=tmp_path)


def to(keys: LessonKeys, kind: str) -> None:
    """Walk on (choosing the first choice where asked) to the next step of `kind`."""
    while keys.step.kind != kind:
        if keys.choosing() is not None and not keys.session.can_advance:
            assert keys.choose(1)
        assert keys.next() == "moved"


def test_a_question_is_answered_by_its_number_and_n_waits_for_it(tmp_path):
    keys = keys_of(tmp_path, "1")
    assert keys.allowed("back") is None and keys.allowed("run") is False, "the first step: no back, nothing to run"
    to(keys, "predict")
    cp, chosen, mark = keys.choosing()
    assert chosen is None and mark == "your prediction"
    assert keys.allowed("next") is None and keys.next() is None, "n is dimmed until the learner chooses"
    assert keys.allowed("choose", (len(cp.choices),)) and not keys.allowed("choose", (len(cp.choices) + 1,))
    assert not keys.choose(len(cp.choices) + 1) and not keys.choose(0)
    assert keys.choose(2)
    assert keys.session.answers[cp.id] == cp.choices[1][0] and keys.choosing()[1] == cp.choices[1][0]
    assert keys.allowed("next") is True and keys.hint()[0].startswith("prediction saved: ")
    assert keys.hint(paused=True) == PAUSED


def test_r_runs_the_step_and_keys_wait_while_it_runs(tmp_path):
    keys = keys_of(tmp_path, "1")
    to(keys, "run")
    assert keys.allowed("run") is True and keys.allowed("pause") is False
    kind, live = keys.start_run()
    assert kind == "live" and live is keys.live and keys.busy
    assert keys.start_run() is None and keys.allowed("run") is None, "r is dimmed while the experiment runs"
    assert keys.allowed("next") is None and keys.allowed("back") is None and keys.back() is False
    assert keys.allowed("pause", (), ScreenFacts(running=True)) is True
    for _, name, config in live.pending():
        last = run(config)
        live.add(name, last)
        assert keys.allowed("record", (), ScreenFacts(result=last)) is False, "R waits for the pass to end"
    assert live.finish()
    keys.run_ended()
    assert not keys.busy and keys.live is None and keys.session.can_advance
    assert keys.allowed("next") is True and keys.allowed("record", (), ScreenFacts(result=last)) is True


def test_x_ends_the_pass_and_the_step_stays_to_be_run(tmp_path):
    keys = keys_of(tmp_path, "1")
    to(keys, "run")
    _, live = keys.start_run()
    keys.stop()
    assert list(live.pending()) == [] and not live.finish()
    keys.run_ended()
    assert not keys.session.can_advance and keys.allowed("run") is True


def test_n_on_the_last_step_says_the_lesson_is_complete_with_the_score(tmp_path):
    keys = keys_of(tmp_path, "1")
    s = keys.session
    while not s.last:
        if keys.choosing() is not None and not s.can_advance:
            keys.choose(1)
        elif s.step.kind == "run" and not s.can_advance:
            s.run_headless()
        elif s.step.kind == "verdict":
            s.verdict()
        assert keys.next() == "moved"
    done = keys.next()
    good, answered = s.progress.score(s.lesson.id)
    assert answered > 0 and s.finished
    assert done == f"{s.lesson.title}: lesson complete — {good} of {answered} predictions matched the measurements."


def test_g_opens_the_lessons_challenges_in_turn(tmp_path):
    keys = keys_of(tmp_path, "5")
    ids = keys.session.lesson.challenges
    assert len(ids) > 1 and keys.allowed("challenge") is True
    assert [keys.challenge() for _ in range(len(ids) + 1)] == [*ids, ids[0]]
    assert keys_of(tmp_path / "other", "1").challenge() is None and not keys_of(tmp_path / "o", "1").allowed("challenge")


def test_a_lesson_without_a_class_file_hides_K_and_a_missing_one_is_one_line(tmp_path):
    keys = keys_of(tmp_path, "1")
    assert keys.session.lesson.class_file is None and keys.allowed("your_class") is False
    keys.session.lesson = dataclasses.replace(keys.session.lesson, class_file=str(tmp_path / "gone.json"))
    assert keys.allowed("your_class") is True
    with pytest.raises(UsageError, match="cannot read class file"):
        keys.class_view()
    assert keys.allowed("reference") is False and keys.reference_recording() is None, "none installed: no c"
