"""The lesson session without a terminal: what a learner did survives leaving and reopening (issue 16 point 4),
the experiment loop the screen drives (LiveExperiment), and what the screen writes for each step (pages).

Runs are real engine runs shrunk with Budget(updates=N)."""
from __future__ import annotations

import dataclasses
import json

import pytest

from teach_sgd.engine.runner import run
from teach_sgd.lessons import Budget, LessonSession, Progress, find_lesson, load_lessons
from teach_sgd.lessons import pages
from teach_sgd.lessons.progress import ResultsStore
from teach_sgd.lessons.session import open_session

SHIPPED, _ = load_lessons()
BUDGET = Budget(updates=150)


@pytest.fixture
def lesson1():
    return find_lesson(SHIPPED, "1")


def walk_to_the_end(session: LessonSession) -> None:
    """Read the whole lesson as a learner would: answer every question (first choice), run every experiment,
    read every check — up to the last step, without finishing."""
    while True:
        step = session.step
        if step.kind == "predict" and step.checkpoint.id not in session.answers:
            session.answer(step.checkpoint.choices[0][0])
        elif step.kind == "run" and step.experiment.id not in session.results:
            session.run_headless()
        elif step.kind == "verdict":
            session.verdict()
        if session.last:
            return
        session.next()


def test_a_lesson_read_to_its_last_step_reopens_there_with_its_runs_and_verdicts(tmp_path, lesson1):
    path = tmp_path / "progress.json"
    first = LessonSession(lesson1, Progress.load(path), budget=BUDGET)
    walk_to_the_end(first)
    n = len(lesson1.steps)
    assert first.index == n - 1

    again = LessonSession(lesson1, Progress.load(path), budget=BUDGET)   # the app was restarted
    assert again.index == n - 1, "reopens where the learner left, not at the first run step"
    assert again.can_advance, "no re-run demanded"
    assert set(again.results) == set(first.results)
    for cp in lesson1.checkpoints:
        before, after = first.verdict(cp.id), again.verdict(cp.id)
        assert (after.chosen, after.correct_choice, after.user_correct) == \
            (before.chosen, before.correct_choice, before.user_correct)
    for eid, res in first.results.items():
        for name, r in res.runs.items():
            back = again.results[eid].runs[name]
            assert (back.updates, back.loss_final, back.staleness_hist) == (r.updates, r.loss_final, r.staleness_hist)
    assert Progress.load(path).status_text(lesson1.id) == f"… at step {n} / {n}"


def test_runs_come_back_in_the_order_they_ran(tmp_path):
    """The results file sorts its keys; a reopened lesson's runs are in the plan's order all the same (the screen
    shows the last run that ran, and lists them as they ran)."""
    path = tmp_path / "progress.json"
    memory = find_lesson(SHIPPED, "7")
    s = LessonSession(memory, Progress.load(path), budget=BUDGET)
    while s.step.kind != "run":
        if s.step.kind == "predict":
            s.answer(s.step.checkpoint.choices[0][0])
        s.next()
    eid = s.step.experiment.id
    order = [name for name, _ in s.plan(eid)]
    assert order != sorted(order), "a plan whose order the sorted file would lose"
    s.run_headless()
    assert list(s.results[eid].runs) == order
    again = LessonSession(memory, Progress.load(path), budget=BUDGET)
    assert list(again.results[eid].runs) == order


def test_a_prediction_survives_leaving_before_its_check_and_a_rerun(tmp_path, lesson1):
    path = tmp_path / "progress.json"
    s = LessonSession(lesson1, Progress.load(path), budget=BUDGET)
    s.next()
    cp = s.step.checkpoint
    assert s.step.kind == "predict"
    s.answer("high")
    assert pages.hint(s)[0].startswith("prediction saved: ")
    # leave right away (no verdict yet), reopen: the prediction is there
    s = LessonSession(lesson1, Progress.load(path), budget=BUDGET)
    assert s.answers[cp.id] == "high" and s.index == 1
    while s.step.kind != "run":
        if s.step.kind == "predict" and not s.can_advance:
            s.answer(s.step.checkpoint.choices[0][0])
        s.next()
    s.run_headless()
    first = s.verdict(cp.id)
    s.run_headless()                     # r again: a re-run
    after = s.verdict(cp.id)
    assert first.chosen == after.chosen == "high"
    assert pages.verdict_badge(after)[0] != "none", "a re-run must not forget the prediction"


def test_results_of_other_configs_are_not_restored(tmp_path, lesson1):
    """A changed budget (or lesson file) runs other configs: their old numbers must not answer the checks."""
    path = tmp_path / "progress.json"
    walk_to_the_end(LessonSession(lesson1, Progress.load(path), budget=BUDGET))
    other = LessonSession(lesson1, Progress.load(path), budget=Budget(updates=160))
    assert other.results == {}
    ran = {e.id for e in lesson1.experiments}
    assert ran and other.outdated == ran, "the pane says the earlier results were for another version"
    first_run = [s.kind for s in lesson1.steps].index("run")
    assert other.index == first_run and not other.can_advance


def test_a_damaged_results_file_costs_only_a_rerun(tmp_path, lesson1):
    path = tmp_path / "progress.json"
    walk_to_the_end(LessonSession(lesson1, Progress.load(path), budget=BUDGET))
    store = ResultsStore.beside(Progress.load(path), lesson1.id)
    store.path.write_text("{broken")
    s = LessonSession(lesson1, Progress.load(path), budget=BUDGET)
    assert s.results == {} and s.step.kind == "run"
    assert set(s.answers) == {cp.id for cp in lesson1.checkpoints}, "the answers live in progress.json"


def test_live_experiment_stores_only_a_complete_pass(tmp_path, lesson1):
    s = LessonSession(lesson1, Progress.load(tmp_path / "progress.json"), budget=BUDGET)
    e = next(x for x in lesson1.experiments if len(s.plan(x.id)) > 1)
    live = s.begin(e.id)
    k, name, config = next(live.pending())
    result = run(config)
    assert live.add(name, dataclasses.replace(result, status="stopped")) is False   # x pressed
    assert list(live.pending()) == [] and live.finish() is False and e.id not in s.results

    live = s.begin(e.id)
    for k, name, config in live.pending():
        assert live.add(name, run(config))
    assert live.finish() and s.results[e.id].complete
    saved = json.loads(ResultsStore.beside(s.progress, lesson1.id).path.read_text())
    assert set(saved["results"][e.id]["runs"]) == {n for n, _ in s.plan(e.id)}


def test_pages_say_what_the_step_is(tmp_path, lesson1):
    s = LessonSession(lesson1, Progress.load(tmp_path / "progress.json"), budget=BUDGET)
    assert pages.markdown(s) == lesson1.steps[0].text
    while s.step.kind != "run":
        if s.step.kind == "predict":
            assert "## Your prediction" in pages.markdown(s) and pages.hint(s)[1] == "todo"
            s.answer(s.step.checkpoint.choices[0][0])
        s.next()
    text = pages.markdown(s)
    assert "Press **r** to start" in text and all(f"**{n}**" in text for n, _ in s.plan())
    assert pages.hint(s, busy=True) == ("running… space pauses, x stops", "go")
    assert s.experiment_for() is s.step.experiment


def test_open_session_reads_the_lessons_and_says_none_for_an_unknown_id(tmp_path):
    assert open_session("no-such-lesson", progress=Progress.load(tmp_path / "p.json")) is None
    s = open_session("1", progress=Progress.load(tmp_path / "p.json"))
    assert s.lesson.id == "01-one-thread" and s.index == 0


def at_its_first_check(lesson, tmp_path) -> LessonSession:
    """A session of `lesson` walked to its first check: the first choice of each prediction, each run made."""
    s = LessonSession(lesson, Progress.load(tmp_path / "progress.json"), budget=BUDGET)
    while s.step.kind != "verdict":
        if s.step.kind == "predict":
            s.answer(s.step.checkpoint.choices[0][0])
        elif s.step.kind == "run":
            s.run_headless()
        s.next()
    return s


def test_a_check_on_runs_a_busy_machine_starved_says_so(tmp_path, lesson1):
    """A verdict read from runs whose threads waited for a core more than their number explains (engine/cores.py)
    says so under the check, with the share of their ready time they had a core; on a quiet machine it says
    nothing. The waits are given (tests/test_cores.py measures real ones)."""
    s = at_its_first_check(lesson1, tmp_path)
    eid = s.step.checkpoint.experiment
    runs = s.results[eid].runs
    quiet = {name: dataclasses.replace(r, core_wait=0.05) for name, r in runs.items()}
    s.results[eid] = dataclasses.replace(s.results[eid], runs=quiet)
    assert "Busy machine" not in pages.markdown(s)
    first = next(iter(runs))
    s.results[eid] = dataclasses.replace(s.results[eid], runs=quiet | {first: dataclasses.replace(runs[first],
                                                                                                 core_wait=0.9)})
    text = pages.markdown(s)
    assert f"**Busy machine.** In 1 of its {len(runs)} runs the threads had a core only 10% of the time" in text
    second = list(runs)[1]
    s.results[eid] = dataclasses.replace(s.results[eid], runs=quiet | {
        first: dataclasses.replace(runs[first], core_wait=0.9), second: dataclasses.replace(runs[second], core_wait=0.99)})
    assert f"In 2 of its {len(runs)} runs the threads had a core only 1–10% of the time" in pages.markdown(s)


def test_a_busy_note_on_more_threads_than_cores_says_what_taking_turns_explains(tmp_path, monkeypatch):
    """8 threads on 2 cores have a core 25% of the time on an idle machine: the note says so, so that the busy
    machine is not blamed for the turns the run's own threads take."""
    import teach_sgd.lessons.pages as pages_module

    monkeypatch.setattr(pages_module, "cores_here", lambda: 2)
    memory = find_lesson(SHIPPED, "7")
    s = at_its_first_check(memory, tmp_path)
    eid = s.step.checkpoint.experiment
    runs = s.results[eid].runs
    assert {r.config.threads for r in runs.values()} == {8}
    starved = {name: dataclasses.replace(r, core_wait=0.97) for name, r in runs.items()}
    s.results[eid] = dataclasses.replace(s.results[eid], runs=starved)
    text = pages.markdown(s)
    assert "In 3 of its 3 runs the threads had a core only 3% of the time they were ready to run (8 threads on 2 " \
           "cores take turns: on an idle machine each would have a core 25% of the time)" in text
