"""`repeat = N` in a lesson experiment and the rule functions over repeats (fraction, count, median)."""
import pytest
from lesson_text import load_text

from teach_sgd.lessons.checkpoints import evaluate
from teach_sgd.lessons.experiments import Budget, build_runs, run_experiment
from teach_sgd.lessons.loader import LessonLoadError

LESSON = """+++
title = "repeats"
minutes = 1
[[experiments]]
id = "e"
repeat = 3
base = { dataset = "synthetic", updates = 40, seed = 7, batch = 8 }
runs.a = { algo = "seq" }
runs.b = { algo = "hogwild", threads = 2 }
[[checkpoints]]
question = "q"
choices = { yes = "y", no = "n" }
answer = "fraction(a.staleness_max == 0) == 1 and count(b.updates == 40) == 3 and median(b.updates) == 40"
explain = "{fraction(a.seed_is_never_a_metric)}"
+++
text
"""


def test_repeat_runs_every_seed_and_rules_see_each_repeat(tmp_path):
    lesson = load_text(tmp_path, LESSON.replace('explain = "{fraction(a.seed_is_never_a_metric)}"',
                                                'explain = "{count(a.updates > 0)} of 3"'))
    e = lesson.experiments[0]
    plan = build_runs(e)
    assert [(n, c.seed) for n, c in plan] == [("a", 7), ("b", 7), ("a#1", 8), ("b#1", 8), ("a#2", 9), ("b#2", 9)]  # seed by seed
    v = evaluate(lesson.checkpoints[0], run_experiment(e, Budget(updates=40)))
    assert v.correct_choice == "yes"
    assert "3 of 3" in v.explanation


def test_unknown_metric_inside_fraction_is_a_load_error(tmp_path):
    with pytest.raises(LessonLoadError, match="seed_is_never_a_metric"):  # the loader reports the file and line
        load_text(tmp_path, LESSON)


def test_repeat_is_checked_by_the_configuration_layer(tmp_path):
    with pytest.raises(LessonLoadError, match="repeat must be a whole number from 1 to 100"):
        load_text(tmp_path, LESSON.replace("repeat = 3", "repeat = 0"))


SWEEP = """+++
title = "sweep repeats"
minutes = 1
[[experiments]]
id = "e"
kind = "sweep"
over = "lr"
values = [0.05, 0.1]
repeat = 2
base = { dataset = "synthetic", updates = 30, seed = 3, batch = 8 }
runs.s = { algo = "seq" }
runs.t = { algo = "seq", batch = 4 }
[[checkpoints]]
question = "q"
choices = { yes = "y", no = "n" }
answer = "count(at(s, 0.1).updates == 30) == 2 and median(s.runs) == 2"
explain = "{count(at(s, 0.05).stable)} of 2 stable at 0.05; first seed {at(s, 0.1).loss_final:.3f}"
+++
text
"""


def test_a_sweep_repeats_every_value_on_every_seed_and_rules_see_each_repeat(tmp_path):
    lesson = load_text(tmp_path, SWEEP)
    e = lesson.experiments[0]
    plan = build_runs(e)
    assert [(n, c.seed, c.lr) for n, c in plan] == [("s@0.05", 3, 0.05), ("t@0.05", 3, 0.05), ("s@0.05#1", 4, 0.05),
                                                   ("t@0.05#1", 4, 0.05), ("s@0.1", 3, 0.1), ("t@0.1", 3, 0.1),
                                                   ("s@0.1#1", 4, 0.1), ("t@0.1#1", 4, 0.1)]  # value by value, seed by seed
    results = run_experiment(e, Budget(updates=30))
    assert set(results.runs) == set(e.run_names()) and results.complete
    v = evaluate(lesson.checkpoints[0], results)
    assert v.correct_choice == "yes" and "of 2 stable at 0.05" in v.explanation


def test_a_sweep_over_seeds_cannot_also_repeat(tmp_path):
    path = tmp_path / "s.md"
    path.write_text(SWEEP.replace('over = "lr"', 'over = "seed"').replace("values = [0.05, 0.1]", "values = [1, 2]")
                    .replace("at(s, 0.1)", "at(s, 1)").replace("at(s, 0.05)", "at(s, 2)"))
    from teach_sgd.lessons.loader import load_lessons

    _, errors = load_lessons(tmp_path)
    assert any("already runs every seed" in e.message for e in errors), errors
