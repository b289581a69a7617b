"""Guided races (teach_sgd/lessons/races.py) driven stage by stage on real threads, as a learner's keys would.

Each race must reach its outcome deterministically — the engine's own counters and events say so — and a
wrong key must be explained and not performed. Waits poll the run; their timeout only keeps a broken engine
from hanging the suite (no test asserts a wall time).
"""
import time

import pytest

from teach_sgd.engine import layout as L
from teach_sgd.engine.invariants import violations
from teach_sgd.engine.runner import Runner
from teach_sgd.lessons import pages
from teach_sgd.lessons.loader import LessonLoadError, parse_lesson
from teach_sgd.lessons.progress import Progress
from teach_sgd.lessons.races import RACES, Action, GuidedRace
from teach_sgd.lessons.session import LessonSession
from teach_sgd.runs.controls import ThreadControls
from waits import until

KEYS = {k: f" [{k}]" for k in ("select", "hold", "unhold", "freeze", "thaw", "step", "continue")}


def begin(name):
    spec = RACES[name]
    runner = Runner(spec.config())
    race = GuidedRace(spec, runner)
    race.setup()
    runner.start()
    return race, runner


def settle(race):
    """Poll until the race waits for the learner, is over, or failed."""
    until(lambda: (race.poll() or True) and (race.waiting_for_action or race.done or race.failed), "the stage")


def solve(race, stop_before=None):
    """Press each stage's expected key in turn, as the stage text asks."""
    settle(race)
    while not race.done and not race.failed and race.index != stop_before:
        assert race.act(race.stage.expect[0]).done
        settle(race)
    assert not race.failed, race.failed


def end(runner):
    runner.holds.clear()
    runner.stop()
    assert violations(runner.wait()) == []


def stats(runner, tid):
    return runner.state.thread_stats()[tid]


@pytest.fixture
def made():
    runners = []

    def make(name, stop_before=None):
        race, runner = begin(name)
        runners.append(runner)
        solve(race, stop_before)
        return race, runner
    yield make
    for r in runners:
        end(r)


def test_a_failed_cas_then_its_retry(made):
    race, runner = made("failed-cas")
    n = race.numbers
    t = stats(runner, 0)
    assert (t.cas_fail, t.updates, t.dropped) == (1, 1, 0)
    assert n["built_on"] == 0 and n["version"] == n["n"] >= 1 and n["landed_on"] == n["version"]
    assert n["attempts"] == 2
    assert f"P moved from version 0 to {n['version']:,}" in race.outcome
    assert "teach-sgd check --protocol leashed-untagged --show" in race.outcome


def test_a_drop_at_tp_0(made):
    race, runner = made("drop-tp0")
    t = stats(runner, 0)
    assert (t.cas_fail, t.dropped, t.updates) == (1, 1, 0)
    dropped = runner.events.events()
    assert ((dropped["thread"] == 0) & (dropped["outcome"] == L.OUTCOME_DROPPED)).sum() == 1
    assert "dropped = 1" in race.outcome


def test_a_hogwild_lost_write(made):
    race, runner = made("lost-write")
    t = stats(runner, 0)
    assert t.updates == 1 and t.lost_updates_sampled == race.numbers["lost"] >= 1
    assert stats(runner, 1).lost_updates_sampled == 0  # thread 1 wrote while nobody else did
    assert f"{race.numbers['lost']:,} of its {race.numbers['sampled']:,} sampled" in race.outcome


def test_the_lock_keeps_the_update_the_same_hold_loses_without_it(made):
    race, runner = made("lock-keeps")
    n = race.numbers
    assert n["read"] == 0 and n["landed_on"] >= 1  # applied on top of thread 1's updates, τ = their number
    assert stats(runner, 0).updates >= 1
    assert f"τ = {n['landed_on']:,}" in race.outcome


def test_a_frozen_lock_holder_stops_everyone(made):
    race, runner = made("lock-convoy")
    assert race.numbers["others"] == 0 and race.numbers["after"] > 0
    assert "published 0 updates" in race.outcome


def test_a_frozen_leashed_thread_stops_no_one(made):
    race, runner = made("leashed-frozen")
    assert race.numbers["others"] > 0
    assert "lock-free" in race.outcome


def test_a_torn_read_count(made):
    race, runner = made("torn-read")
    assert stats(runner, 0).torn_reads == 1 and race.numbers["torn"] == 1
    assert "upper bound" in race.outcome


def test_a_wrong_key_is_explained_not_performed(made):
    race, runner = made("failed-cas", stop_before=0)
    reply = race.act(Action("step", 0))          # would CAS before anyone published: no race
    assert not reply.done and "would succeed" in reply.text and "thaw thread 1" in reply.text
    time.sleep(0.05)
    assert runner.holds.held_at(0) == "cas" and stats(runner, 0).cas_fail == 0
    assert any("Not now: step thread 0" in line for line in race.lines(KEYS))
    solve(race)                                  # the right keys still make the race
    assert stats(runner, 0).cas_fail == 1 and race.wrong == ""


def test_every_stage_names_its_key():
    for spec in RACES.values():
        for s in spec.stages:
            assert not s.expect or any("{" + a.kind + "}" in s.do for a in s.expect), (spec.name, s.do)


def test_a_race_made_in_a_lesson_survives_leaving_and_reopening(tmp_path):
    path = tmp_path / "progress.json"
    lesson = parse_lesson('+++\ntitle = "CAS"\nminutes = 1\n+++\n\nRead this.\n\n<!-- race: failed-cas -->\n\nDone.\n',
                          tmp_path / "cas.md")
    assert [step.kind for step in lesson.steps] == ["narrative", "race", "narrative"]
    s = LessonSession(lesson, Progress.load(path))
    s.next()
    assert s.can_advance and "Press **r**" in pages.markdown(s)  # a race can be skipped; r starts it
    runner = Runner(s.step.race.config())
    race = s.begin_race(runner)
    runner.start()
    try:
        until(lambda: (s.poll_race() or True) and race.waiting_for_action, "the first stage")
        assert "→ Let thread 1 publish: select thread 1 [select] and thaw it [thaw]." in pages.markdown(s, KEYS)
        while not race.done:
            assert race.act(race.stage.expect[0]).done
            until(lambda: (s.poll_race() or True) and (race.waiting_for_action or race.done), "the next stage")
    finally:
        end(runner)
    assert "✓ You made it." in pages.markdown(s) and race.outcome in pages.markdown(s)
    again = LessonSession(lesson, Progress.load(path))                 # leave, reopen
    again.index = s.index
    assert again.made == {"failed-cas": race.outcome} and again.race is None
    assert race.outcome in pages.markdown(again) and "made" in pages.hint(again)[0]


def test_a_lesson_names_only_races_that_exist(tmp_path):
    text = '+++\ntitle = "t"\nminutes = 1\n+++\n\nText.\n\n<!-- race: failed-kas -->\n'
    with pytest.raises(LessonLoadError, match="x.md:8: no race 'failed-kas' .*did you mean failed-cas"):
        parse_lesson(text, tmp_path / "x.md")
    twice = '+++\ntitle = "t"\nminutes = 1\n+++\n\n<!-- race: torn-read -->\n<!-- race: torn-read -->\n'
    with pytest.raises(LessonLoadError, match="placed twice"):
        parse_lesson(twice, tmp_path / "x.md")


def test_the_race_watches_the_learners_keys_through_thread_controls():
    """The lesson screen's keys go through ThreadControls (runs/controls.py): the race is its guard (a key that
    would spoil it is refused, with the reason as the status line) and its observer (the stage's move)."""
    race, runner = begin("failed-cas")
    controls = ThreadControls(lambda: [runner])
    controls.guards.append(race.guard)
    controls.observers.append(race.observed)
    try:
        settle(race)
        controls.select(0, 0)
        assert controls.step() is None and "would succeed" in controls.last   # refused, not performed
        assert runner.holds.held_at(0) == "cas" and stats(runner, 0).cas_fail == 0
        controls.select(0, 1)
        assert controls.toggle_freeze().what == "thaw"                       # the stage's move
        settle(race)
        assert controls.toggle_freeze().what == "freeze"
        settle(race)
        controls.select(0, 0)
        for _ in range(3):
            assert controls.step() is not None
            settle(race)
        assert race.done and stats(runner, 0).cas_fail == 1 and race.numbers["attempts"] == 2
    finally:
        end(runner)
