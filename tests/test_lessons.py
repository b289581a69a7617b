"""Lessons: every shipped lesson loads, runs headless on a tiny budget and its checkpoints evaluate on the
results; malformed lessons give file + line + message and do not stop the others; the rule language is safe;
progress round-trips; a learner can walk lesson 1 from start to its checkpoints through LessonSession."""
from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from teach_sgd.lessons import LessonSession, Progress, find_lesson, load_lessons
from teach_sgd.lessons import rules
from teach_sgd.lessons.checkpoints import Verdict, evaluate
from teach_sgd.lessons.experiments import Budget, ExperimentResults, build_runs, export_results, run_experiment
from teach_sgd.lessons.loader import builtin_dirs, load_lesson, parse_lesson

TINY = Budget(updates=60, max_iters=300)  # every experiment at a tiny budget: the suite stays fast

FIXTURES = Path(__file__).parent / "fixtures" / "lessons"
SHIPPED, SHIPPED_ERRORS = load_lessons()
REQUIRED_TOPICS = 17  # lessons 1–17, numbered without gaps (issue 19: the concept list needs at least 17)


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Progress and exports go to a temporary folder, never the user's."""
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


# ---- shipped lessons ----------------------------------------------------------------------------------------
def test_shipped_lessons_all_load():
    assert builtin_dirs(), "the lessons/ folder was not found"
    assert SHIPPED_ERRORS == []
    assert len(SHIPPED) >= REQUIRED_TOPICS
    assert [l.number for l in SHIPPED[:REQUIRED_TOPICS]] == list(range(1, REQUIRED_TOPICS + 1))
    assert len({l.id for l in SHIPPED}) == len(SHIPPED)


@pytest.mark.parametrize("lesson", SHIPPED, ids=lambda l: l.id)
def test_shipped_lesson_shape(lesson):
    assert lesson.title and 1 <= lesson.minutes <= 30 and lesson.summary
    assert lesson.experiments and lesson.checkpoints
    kinds = [s.kind for s in lesson.steps]
    assert kinds[0] == "narrative"
    for cp in lesson.checkpoints:
        # every checkpoint is asked, and judged after its experiment ran
        run_at = kinds.index("run", [i for i, s in enumerate(lesson.steps) if s.experiment and
                                     s.experiment.id == cp.experiment][0])
        verdict_at = next(i for i, s in enumerate(lesson.steps) if s.kind == "verdict" and s.checkpoint is cp)
        predict_at = next(i for i, s in enumerate(lesson.steps) if s.kind == "predict" and s.checkpoint is cp)
        assert run_at < verdict_at and predict_at < verdict_at
        assert "{" in cp.explain, f"{cp.id}: the explanation must quote measured numbers"
    # long enough to watch, short enough to wait for: a few seconds a run (up to 10 in slow motion), or a budget
    # of updates that takes about as long
    for e in lesson.experiments:
        for _, c in build_runs(e):
            assert c.updates is not None and c.updates <= (1000 if c.model == "cnn" else 25000) or \
                (c.seconds is not None and 2 <= c.seconds <= (10 if c.stretch > 1 else 5)) or \
                (c.epochs is not None and c.epochs <= 2 and c.model == "mlp")  # 2 passes: about a second


@pytest.mark.parametrize("lesson", SHIPPED, ids=lambda l: l.id)
def test_lesson_run_runs_every_experiment_headless_and_says_what_each_question_supports(lesson, data_dir, tmp_path,
                                                                                       capsys):
    """`teach-sgd lesson ID --run --scale 0.02 --json OUT` on every shipped lesson (a small budget: CI)."""
    from teach_sgd.commands.main import main

    out = tmp_path / "report.json"
    assert main(["lesson", lesson.id, "--run", "--scale", "0.02", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["lesson"] == lesson.id and [q["id"] for q in report["questions"]] == [c.id for c in lesson.checkpoints]
    assert set(report["experiments"]) == {e.id for e in lesson.experiments}
    for e in lesson.experiments:
        if e.kind == "sharing":
            assert set(report["experiments"][e.id]["layouts"]) == set(e.names())
        elif not e.headless:
            assert set(report["experiments"][e.id]) == set(e.run_names())
    for q, cp in zip(report["questions"], lesson.checkpoints):
        assert q["explanation"].strip() and "{" not in q["explanation"].replace("{{", "")
        if q["decided"]:
            assert q["supports"] in cp.keys and f"supports: [{q['supports']}]" in printed
        else:
            assert q["supports"] is None and q["missing"]
    assert printed.count("\n? ") == len(lesson.checkpoints)


@pytest.mark.parametrize("lesson", [l for l in SHIPPED if any(e.export for e in l.experiments)], ids=lambda l: l.id)
def test_exported_experiments_write_every_run(lesson, data_dir):
    for e in (e for e in lesson.experiments if e.export):
        paths = export_results(run_experiment(e, TINY), data_dir / "exports", f"{lesson.id}-{e.id}")
        payload = json.loads(paths[0].read_text())
        assert {r["name"] for r in payload["runs"]} == set(e.run_names())


def test_the_verdicts_of_a_lesson_run_are_the_sessions_verdicts(data_dir):
    """The headless report evaluates the same checkpoints on the same results as the lesson screen."""
    from teach_sgd.lessons.headless import run_lesson

    lesson = find_lesson(SHIPPED, "1")
    report = run_lesson(lesson, TINY)
    for cp in lesson.checkpoints:
        v = evaluate(cp, report.results[cp.experiment])
        assert report.outcomes()[cp.id] == v.correct_choice


@pytest.mark.parametrize("argv, message", [
    (["lesson", "1", "--json", "x.json"], "--json goes with --run"),
    (["lesson", "1", "--scale", "0.5"], "--scale goes with --run"),
    (["lesson", "1", "--run", "--scale", "zero"], "--scale must be a number"),
    (["lesson", "1", "--run", "--scale", "0"], "--scale must be a number"),
])
def test_lesson_run_bad_options_are_one_line_and_status_2(argv, message, capsys):
    from teach_sgd.commands.main import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_lesson_1_asks_and_checks_on_its_own_numbers():
    l1 = find_lesson(SHIPPED, "1")
    assert l1.id == "01-one-thread" and find_lesson(SHIPPED, "01-one-thread") is l1
    results = run_experiment(l1.experiment("baseline"), Budget(updates=200))
    cp = l1.checkpoint("step")
    v = evaluate(cp, results, chosen="seq")
    seq, small = results.runs["seq"].loss_final, results.runs["small"].loss_final
    expected = "same" if abs(seq - small) <= 0.1 * max(seq, small) else ("seq" if seq < small else "small")
    assert v.correct_choice == expected
    assert f"{seq:.4g}" in v.explanation and f"{small:.4g}" in v.explanation


def test_lesson_9_uses_the_simulator_and_hits_the_derived_threshold():
    l9 = find_lesson(SHIPPED, "9")
    e = l9.experiments[0]
    assert e.kind == "simulate"
    results = run_experiment(e)  # the simulator is fast: the full budget
    v = evaluate(l9.checkpoint("threshold"), results)
    assert v.correct_choice == "a05"  # 2/((3+1)·1) = 0.5
    assert "0.5" in v.explanation and "yes" in v.explanation
    text = l9.body
    assert "teach_sgd's own" in text and "not quoted from the paper" in text


def test_unverified_claims_are_presented_as_the_tools_reading():
    l6, l7 = find_lesson(SHIPPED, "6"), find_lesson(SHIPPED, "7")
    # lesson 6 says once that its Tp set is the tool's reading, not an excuse about what was not checked
    # (issue 16 item 15)
    assert l6.body.count("this tool reads the paper") == 1 and "could not be checked" not in l6.body
    assert "tool's own derivation" in l7.body and "unverified" in l7.body


def test_fixed_point_formats_never_print_a_false_zero():
    """'fell … to 0% of where it started' and a loss of '0.00' (issue 16 item 15): a template's fixed-point
    format keeps its decimals when they show the number, and gets two significant digits when they would
    print a non-zero value as zero."""
    assert rules.format_value(0.004, ".0%") == "0.40%"
    assert rules.format_value(0.55, ".0%") == "55%"
    assert rules.format_value(0.0012, ".2f") == "0.0012"
    assert rules.format_value(2.3026, ".3f") == "2.303"
    assert rules.format_value(0.0, ".2f") == "0.00"
    assert rules.format_value(1234.5, ",.0f") == "1,234"


def test_repeat_table_separates_thousands():
    """'390 [327–1160]' in compare --repeat's τ max (issue 16 item 15)."""
    from dataclasses import replace

    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.runner import run
    from teach_sgd.report import repeat_table

    r = run(RunConfig(algo="leashed", threads=2, dataset="synthetic", updates=50, batch=8))
    table = repeat_table([replace(r, staleness_max=v) for v in (327, 390, 1160)])
    assert "390 [327–1,160]" in table


# ---- malformed lessons ----------------------------------------------------------------------------------------
EXPECTED_ERRORS = {
    "no_front_matter.md": (1, "starts with TOML front matter"),
    "unclosed.md": (1, "never closed"),
    "bad_toml.md": (4, "TOML: Expected '='"),
    "unknown_metric.md": (15, "unknown metric 'cas_fails' for run 'eight' (did you mean cas_fail?)"),
    "unknown_setting.md": (8, "unknown run setting 'thread' (did you mean threads?)"),
    "bad_config.md": (9, "seq is sequential SGD and runs on exactly one thread"),
    "answer_not_choice.md": (14, "the answer rule gave 'lock', which is not a choice key (a, b)"),
    "unsafe_rule.md": (13, "only the rule language's functions can be called"),
    "bad_template.md": (14, "in explain, {seq.acuracy}: unknown metric 'acuracy'"),
    "bad_marker.md": (18, "the marker names experiment 'rase'"),
    "missing_minutes.md": (1, "minutes (the time the lesson takes) must be a whole number"),
    "unknown_experiment.md": (16, "unknown experiment 'racee' (did you mean race?)"),
    "bad_sweep.md": (9, "lr must be a number above 0 and at most 10,000, got 'fast'"),
}


def test_malformed_lessons_give_file_line_and_message_and_do_not_stop_the_others():
    lessons, errors = load_lessons(FIXTURES, include_builtin=False)
    assert [l.id for l in lessons] == ["90-good"]
    by_file = {}
    for e in errors:
        by_file.setdefault(Path(e.file).name, []).append(e)
    assert set(by_file) == set(EXPECTED_ERRORS)
    for name, (line, text) in EXPECTED_ERRORS.items():
        errs = by_file[name]
        assert len(errs) == 1, [str(e) for e in errs]  # one cause, one error: no follow-on noise
        assert errs[0].line == line and text in errs[0].message, str(errs[0])
        assert str(errs[0]).startswith(f"{errs[0].file}:{line}: ")


def test_extra_folder_adds_to_the_shipped_lessons():
    lessons, errors = load_lessons(FIXTURES)
    assert len(lessons) == len(SHIPPED) + 1 and lessons[-1].id == "90-good"
    assert len(errors) == len(EXPECTED_ERRORS)
    _, errors = load_lessons(FIXTURES / "does-not-exist")
    assert errors and errors[0].message == "lesson folder not found"


def test_a_lesson_in_the_extra_folder_replaces_a_shipped_one(tmp_path):
    src = find_lesson(SHIPPED, "1").path.read_text()
    (tmp_path / "mine.md").write_text(src.replace('title = "SGD on one thread"',
                                                  'id = "01-one-thread"\ntitle = "My own first lesson"'))
    lessons, errors = load_lessons(tmp_path)
    assert not errors
    assert find_lesson(lessons, "1").title == "My own first lesson" and len(lessons) == len(SHIPPED)


def test_good_fixture_runs_end_to_end():
    lesson = load_lesson(FIXTURES / "good.md")
    results = run_experiment(lesson.experiments[0], Budget(updates=50))
    v = evaluate(lesson.checkpoints[0], results, chosen="one")
    assert v.decided and v.correct_choice in ("two", "one", "same")
    assert "/s" in v.explanation and v.correct_text in v.explanation


def _lesson(front: str, body: str = "Body.\n") -> str:
    return f"+++\n{front.strip()}\n+++\n{body}"


BASE = """
title = "t"
minutes = 3
[[experiments]]
id = "race"
base = { dataset = "synthetic", updates = 50 }
runs.lock = { algo = "lock", threads = 2 }
runs.leashed = { algo = "leashed", threads = 2 }
[[checkpoints]]
question = "q"
choices = { lock = "LOCK", leashed = "Leashed", same = "same" }
"""


@pytest.mark.parametrize("answer, explain, line, message", [
    ("argmax(lock.cas_fail, leashed.cas_fail, tie='same')", "{lock.cas_fail}", None, None),
    ("argmax(lock.cas_fail, leashed.cas_fail, tie='sam')", "x", 12, "not a choice key"),
    ("lock.cas_fail[0]", "x", 12, "indexing"),
    ("(lambda: 1)()", "x", 12, "only the rule language's functions"),
    ("lock.__class__", "x", 12, "'__class__' is not a metric"),
    ("open('x')", "x", 12, "unknown function 'open'"),
    ("argmax(lock.cas_fail, leashed.cas_fail", "x", 12, "cannot read the rule"),
    ("argmax(lock.cas_fail, leashd.cas_fail)", "x", 12, "unknown name 'leashd' (did you mean leashed?)"),
    ("argmax(lock.cas_fail, leashed.cas_fail)", "{lock.cas_fail", 13, "without its '}'"),
    ("argmax(lock.cas_fail, leashed.cas_fail)", "{lock.cas_fail:.2q}", 13, "format"),
])
def test_rule_errors_at_load(tmp_path, answer, explain, line, message):
    text = _lesson(BASE + f'answer = "{answer}"\nexplain = "{explain}"\n')
    if message is None:
        assert parse_lesson(text, tmp_path / "x.md").checkpoints[0].answer == answer
        return
    from teach_sgd.lessons.loader import LessonLoadError
    with pytest.raises(LessonLoadError) as info:
        parse_lesson(text, tmp_path / "x.md")
    (err,) = info.value.errors
    assert err.line == line and message in err.message, str(err)


# ---- the rule language ------------------------------------------------------------------------------------------
class _Run(rules.Obj):
    kind = "run"

    def __init__(self, name, **metrics):
        self.name, self.metrics = name, metrics

    def metric(self, attr):
        return rules.Measured(self.metrics.get(attr), self.name, attr)


class _Scope(rules.Scope):
    def __init__(self, **objs):
        self.objs = objs

    def lookup(self, name):
        if name not in self.objs:
            raise rules.RuleError(f"unknown name {name!r}")
        return self.objs[name]


SCOPE = _Scope(a=_Run("a", x=3.0, t=None, b=True), b=_Run("b", x=5.0, t=2.0, b=False), c=_Run("c", x=5.2, t=1.0))


@pytest.mark.parametrize("rule, value", [
    ("argmax(a.x, b.x)", "b"),
    ("argmin(a.x, b.x, c.x)", "a"),
    ("argmax(a.x, b.x, c.x, tie='same', rtol=0.05)", "same"),
    ("argmax(a.x, b.x, c.x, tie='same')", "c"),
    ("argmin(b.x, c.x, tie='close', atol=0.5)", "close"),
    ("argmin(a.t, b.t, c.t)", "c"),          # none is skipped: a time never reached does not win
    ("'hi' if b.x > 4 else 'lo'", "hi"),
    ("1 < a.x <= 3", True),
    ("a.b and not b.b", True),
    ("b.x / 0", math.inf),
    ("known(a.t) or default(a.t, 7) == 7", True),
    ("nearest(a.x, one=1.0, four=4.0)", "four"),
    ("max(a.x, b.x) - min(a.x, b.x)", 2.0),
    ("ratio(b.x, a.x) > 1.6", True),
])
def test_rules_evaluate(rule, value):
    assert rules.evaluate(rule, SCOPE) == value


def test_unmeasured_values_make_a_rule_undecided():
    with pytest.raises(rules.Undecided):
        rules.evaluate("a.t < 1", SCOPE)
    assert rules.render("t = {a.t:.2f}, x = {b.x:.1f}", SCOPE) == "t = not measured, x = 5.0"


@pytest.mark.parametrize("rule", ["__import__('os')", "a.x.__class__", "[1][0]", "{1: 2}", "a.x if 1 else (lambda: 0)",
                                  "getattr(a, 'x')", "(1).real", "f'{a}'"])
def test_the_rule_language_runs_no_python(rule):
    with pytest.raises(rules.RuleError):
        rules.evaluate(rule, SCOPE)


def test_undecided_verdict_says_what_was_missing():
    lesson = find_lesson(SHIPPED, "1")
    # 5 updates give too few loss samples to measure a curve's jitter: the lesson says what it could not measure
    results = run_experiment(lesson.experiment("batch"), Budget(updates=5))
    v = evaluate(lesson.checkpoint("jitter"), results, chosen="b1")
    assert not v.decided and v.user_correct is None
    assert "loss_jitter" in v.missing and "cannot settle the question" in v.explanation
    assert "not measured" in v.explanation


def test_a_target_nobody_reaches_is_an_outcome_not_a_winner():
    capstone = find_lesson(SHIPPED, "11")
    # 5 updates cannot reach 10% of the initial loss: nobody wins, and the verdict says so
    v = evaluate(capstone.checkpoint("choice"), run_experiment(capstone.experiments[0], Budget(updates=5)),
                 chosen="leashed")
    assert v.correct_choice == "none" and v.user_correct is False
    assert "No algorithm got there within the budget in its median run (SEQ stopped after 5 updates in the first)" in v.explanation


# ---- progress and the session the lesson screen drives --------------------------------------------------------
def test_progress_round_trip(tmp_path):
    path = tmp_path / "p" / "progress.json"
    p = Progress.load(path)
    assert p.status("01-one-thread") == "new"
    p.start("01-one-thread")
    p.set_step("01-one-thread", 3)
    p.record("01-one-thread", Verdict("step", "seq", "η = 0.05", "small", False, "…", True))
    p.complete("02-lock")
    p.save()
    q = Progress.load(path)
    assert q.status("01-one-thread") == "started" and q.status("02-lock") == "done"
    assert q.step("01-one-thread") == 3
    assert q.answer("01-one-thread", "step")["chosen"] == "small"
    assert q.score("01-one-thread") == (0, 1)


def test_progress_default_path_honours_xdg(monkeypatch, tmp_path):
    from teach_sgd.lessons import progress

    monkeypatch.delenv("TEACH_SGD_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert progress.default_path() == tmp_path / "xdg" / "teach_sgd" / "progress.json"


def test_damaged_progress_is_set_aside(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text("{not json")
    p = Progress.load(path)
    assert p.lessons == {} and p.warning and (tmp_path / "progress.json.bad").exists()


def test_session_walks_lesson_1_to_its_checkpoints_and_saves(tmp_path):
    """What the lesson screen does (the Pilot test drives the same calls through the UI)."""
    from teach_sgd.engine.runner import run

    lesson = find_lesson(SHIPPED, "1")
    path = tmp_path / "progress.json"
    session = LessonSession(lesson, Progress.load(path), budget=Budget(updates=100))
    assert session.step.kind == "narrative" and session.can_advance
    session.next()
    assert session.step.kind == "predict"
    assert not session.can_advance
    session.answer("high")
    session.next()
    session.answer("seq")
    session.next()
    assert session.step.kind == "run" and not session.can_advance
    plan = session.plan()
    assert [n for n, _ in plan] == ["seq", "small"] and all(c.updates == 100 for _, c in plan)
    session.set_results({name: run(config) for name, config in plan})  # the dashboard runs them live
    session.next()
    v = session.verdict()
    assert session.step.kind == "verdict" and v.checkpoint_id == "accuracy" and v.decided
    assert v.user_correct == (v.correct_choice == "high")
    session.next()
    session.verdict()
    while session.next() is not None:  # the mini-batch experiment: predict, run (headless here), verdicts
        if session.step.kind == "predict":
            session.answer(session.step.checkpoint.keys[0])
        elif session.step.kind == "run":
            session.run_headless()
        elif session.step.kind == "verdict":
            assert session.verdict().explanation
    assert session.finished
    saved = Progress.load(path)
    assert saved.status(lesson.id) == "done"
    assert saved.answer(lesson.id, "accuracy")["chosen"] == "high"
    assert saved.answer(lesson.id, "step")["correct"] in ("seq", "small", "same")


def test_session_resumes_but_not_past_a_run_without_results(tmp_path):
    lesson = find_lesson(SHIPPED, "1")
    path = tmp_path / "progress.json"
    p = Progress.load(path)
    p.set_step(lesson.id, 5)  # a verdict step: its results are gone after a restart
    p.save()
    session = LessonSession(lesson, Progress.load(path))
    assert session.lesson.steps[session.index].kind in ("narrative", "predict", "run")
    assert session.index <= [s.kind for s in lesson.steps].index("run")


def test_session_rejects_an_unknown_choice():
    lesson = find_lesson(SHIPPED, "1")
    session = LessonSession(lesson, None)
    session.next()
    with pytest.raises(ValueError):
        session.answer("nope")


def test_results_from_the_ui_must_match_the_plan():
    lesson = find_lesson(SHIPPED, "1")
    with pytest.raises(KeyError):
        ExperimentResults.from_runs(lesson.experiments[0], {"other": object()})


# ---- the command line ----------------------------------------------------------------------------------------
def test_teach_sgd_lessons_lists_id_title_minutes(capsys):
    from teach_sgd.commands.main import main

    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    for l in SHIPPED:
        row = rows[l.id]
        assert row.split()[1] == str(l.minutes) and row.rstrip().endswith(l.title)


def test_teach_sgd_lessons_with_a_broken_folder(capsys):
    from teach_sgd.commands.lessons import list_lessons

    assert list_lessons(SimpleNamespace(lessons=str(FIXTURES))) == 2  # bad input, as every usage error
    out, err = capsys.readouterr()
    assert "90-good" in out and "01-one-thread" in out
    assert "unknown_metric.md:15: answer: unknown metric 'cas_fails'" in err
    assert list_lessons(SimpleNamespace(lessons=str(FIXTURES / "missing"))) == 2


def test_walk_prints_the_lesson_in_plain_text():
    from teach_sgd.commands.lessons import walk

    lines = []
    answers = iter(["bogus", "high", "seq", "b1", "b16"])
    verdicts = walk(find_lesson(SHIPPED, "1"), ask=lambda _: next(answers), out=lines.append,
                    budget=Budget(updates=80))
    text = "\n".join(lines)
    assert "choose one of" in text and len(verdicts) == 4
    assert "# SGD on one thread" in text


def test_the_readme_example_is_a_valid_lesson(tmp_path):
    readme = (Path(__file__).parent.parent / "lessons" / "README.md").read_text()
    block = readme.split("```markdown\n", 1)[1].split("\n```\n", 1)[0]
    (tmp_path / "12-cas-race.md").write_text(block + "\n")
    lessons, errors = load_lessons(tmp_path, include_builtin=False)
    assert not errors, [str(e) for e in errors]
    (lesson,) = lessons
    assert lesson.id == "12-cas-race" and [s.kind for s in lesson.steps] == \
        ["narrative", "predict", "run", "verdict", "narrative"]
    results = run_experiment(lesson.experiments[0], TINY)
    assert evaluate(lesson.checkpoints[0], results).decided


def test_resolve_finds_a_lesson_or_fails_as_a_usage_error():
    from teach_sgd.errors import UsageError
    from teach_sgd.lessons.loader import LessonNotFound, resolve

    assert resolve(None, "3").id == "03-hogwild"
    assert resolve(None, "hogwild").id == "03-hogwild"
    assert resolve(str(FIXTURES), "90-good").id == "90-good"
    with pytest.raises(LessonNotFound) as info:
        resolve(None, "99")
    assert isinstance(info.value, UsageError) and "teach-sgd lessons" in str(info.value)


# ---- {cores}: lesson text about the machine reads the machine ---------------------------------------------------
def test_cores_placeholder_is_the_machines_count(monkeypatch, tmp_path):
    import os

    from teach_sgd.lessons import machine

    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert machine.cores() == expected >= 1
    assert machine.machine_text("8 threads on {cores} cores") == f"8 threads on {expected} cores"
    assert machine.machine_text("no placeholder {x}") == "no placeholder {x}"
    assert machine.machine_text("{cores*2} and {cores*4} threads") == f"{2 * expected} and {4 * expected} threads"

    # replaced everywhere in a lesson file when it loads: narrative, question, choices, explanations, rules
    monkeypatch.setattr(machine, "cores", lambda: 64)
    src = tmp_path / "cores.md"
    src.write_text('''+++
title = "On {cores} cores"
minutes = 2
summary = "Eight threads on {cores} cores."

[[experiments]]
id = "race"
title = "SEQ on {cores} cores"
base = { algo = "seq", threads = 1, updates = 50, seed = 0 }
runs.seq = {}

[[checkpoints]]
id = "c"
question = "How many cores: {cores}?"
choices = { many = "more than 8 ({cores})", few = "8 or fewer" }
answer = "'many' if {cores} > 8 else 'few'"
explain = "This machine: {cores} cores, {seq.updates} updates, {min(4, {cores})} of 4 threads at once, {{cores} - 1} others."
+++

# Lesson

Only {cores} threads run at once.
''')
    lesson = load_lesson(src)
    assert lesson.title == "On 64 cores" and lesson.summary == "Eight threads on 64 cores."
    assert lesson.experiments[0].title == "SEQ on 64 cores"
    assert "Only 64 threads run at once." in lesson.steps[0].text
    cp = lesson.checkpoints[0]
    assert cp.question == "How many cores: 64?" and cp.choice_text("many") == "more than 8 (64)"
    results = run_experiment(lesson.experiments[0], Budget(updates=20))
    v = evaluate(cp, results)
    assert v.correct_choice == "many"
    assert "This machine: 64 cores" in v.explanation and "4 of 4 threads" in v.explanation and "63 others" in v.explanation


def test_shipped_lessons_never_write_a_core_count_or_cite_files_outside_the_project():
    import re

    for lesson in SHIPPED:
        raw = lesson.path.read_text(encoding="utf-8")
        # "{cores}" instead: a learner's machine is not the author's
        assert not re.search(r"\bon (2|two) cores\b|\b2-core machine\b|\bhas (2|two)( cores)?\b", raw), lesson.id
        outside = ("PAPERS" + ".md", "DESIGN" + ".md")  # the team's own notes, which users never get
        assert not any(name in raw for name in outside), lesson.id


# ---- every verdict's bands are the ones its choices state ---------------------------------------------------
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_BOUND_WORDS = r"(?:under|over|below|above|within|least|most|than|by over|by under)"


def _stated_bounds(text: str) -> set[tuple[float, str]]:
    """The numeric bounds a choice states, with their unit: '10–40%' → {(0.1, '%'), (0.4, '%')},
    'over 1.3×' → {(1.3, '×')}, 'within 20 ms' → {(0.02, 's')}, 'within 0.1' → {(0.1, '')}. (A plain whole
    number is a count, such as 'at most 9' versions, which a rule may take from a run rather than write.)"""
    import re

    found = set()
    scale = {"%": 0.01, "ms": 0.001, "s": 1.0, "×": 1.0, "": 1.0}
    for lo, hi, unit in re.findall(_NUMBER + r"\s*[–-]\s*" + _NUMBER + r"\s*(%|×)", text):
        found |= {(float(lo) * scale[unit], unit), (float(hi) * scale[unit], unit)}
    for num, unit in re.findall(_NUMBER + r"\s*(%|×|ms\b)", text):
        found.add((float(num) * scale[unit], "s" if unit == "ms" else unit))
    for num in re.findall(_BOUND_WORDS + r"\s+(\d+\.\d+)(?![.,]?\d|\s*[%×])", text):
        found.add((float(num), ""))
    return found


def _rule_numbers(rule: str) -> set[float]:
    import ast

    return {float(n.value) for n in ast.walk(rules.parse(rule)) if isinstance(n, ast.Constant)
            and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)}


@pytest.mark.parametrize("lesson", SHIPPED, ids=lambda l: l.id)
def test_every_bound_a_choice_states_is_a_bound_of_its_rule(lesson):
    """A choice that says 'under 10%' is judged by a rule that compares with 0.1 (a rule splitting at 12.5%
    while its choices say 10% would call a measured 11% 'under 10%')."""
    for cp in lesson.checkpoints:
        numbers = _rule_numbers(cp.answer)
        for key, text in cp.choices:
            for bound, unit in _stated_bounds(text):
                # a relative band may be written either way: 'within 20%' is also '> 1.2 × the other'
                ways = (bound, 1 + bound, 1 - bound) if unit == "%" else (bound,)
                assert any(math.isclose(w, n, rel_tol=1e-9) for w in ways for n in numbers), \
                    f"{lesson.id} {cp.id}: choice {key!r} states {bound:g}, the rule compares with {sorted(numbers)}"


def test_the_bound_check_catches_a_rule_that_splits_elsewhere():
    assert _stated_bounds("some (10–40%)") == {(0.1, "%"), (0.4, "%")}
    assert _stated_bounds("faster (over 1.3×)") == {(1.3, "×")}
    assert _stated_bounds("about the same (within 0.1)") == {(0.1, "")}
    assert _stated_bounds("within 20 ms") == {(0.02, "s")}
    assert not {0.1, 0.4} <= _rule_numbers("nearest(x, little=0.0, some=0.25, much=0.7)")


@pytest.mark.parametrize("lesson", SHIPPED, ids=lambda l: l.id)
def test_every_rule_names_only_its_own_choices(lesson):
    for cp in lesson.checkpoints:
        assert set(rules.outcomes(rules.parse(cp.answer))) <= set(cp.keys), cp.id


def test_a_rule_naming_an_outcome_the_choices_lack_is_a_load_error(tmp_path):
    path = tmp_path / "x.md"
    path.write_text('+++\ntitle = "x"\nminutes = 1\n[[experiments]]\nid = "e"\nbase = { algo = "seq" }\nruns.a = {}\n'
                    '[[checkpoints]]\nquestion = "q"\nchoices = { yes = "y", no = "n" }\n'
                    "answer = \"'yes' if a.updates > 1 else 'maybe'\"\nexplain = \"{a.updates}\"\n+++\ntext\n")
    _, errors = load_lessons(tmp_path)
    assert any("'maybe'" in e.message and "not a choice key" in e.message for e in errors), errors
