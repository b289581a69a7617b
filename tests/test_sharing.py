"""False sharing on real threads (engine/sharing.py) and the lesson kind that shows it."""
from __future__ import annotations

import numpy as np
import pytest
from lesson_text import load_text

from teach_sgd.engine.sharing import LAYOUTS, PACKED_STRIDE, PADDED_STRIDE, SharingConfig, _round, count, measure
from teach_sgd.errors import ConfigError
from teach_sgd.lessons.checkpoints import evaluate
from teach_sgd.lessons.experiments import Budget, run_experiment
from teach_sgd.lessons.loader import load_lessons


def test_the_kernel_increments_its_own_slot_in_memory_and_nothing_else():
    counters = np.zeros(4, np.int64)
    count(counters, 2, 12_345)
    assert counters.tolist() == [0, 0, 12_345, 0]


@pytest.mark.parametrize("stride", [PACKED_STRIDE, PADDED_STRIDE])
def test_threads_at_once_never_lose_an_increment_of_their_own_counter(stride):
    """Each thread owns its slot: packed or padded, every counter ends exactly at its increments (the round
    checks it and raises otherwise), however the threads interleave."""
    assert _round(4, stride, 200_000) > 0


def test_measure_times_every_layout_and_reports_per_thread_rates():
    r = measure(SharingConfig(threads=2, increments=50_000, rounds=3))
    assert set(r.seconds) == set(LAYOUTS) and all(len(r.rounds[l]) == 3 for l in LAYOUTS)
    assert r.seconds["packed"] == sorted(r.rounds["packed"])[1]  # the median round, not the fastest
    assert r.threads("alone") == 1 and r.threads("packed") == 2
    assert r.increments_per_s("padded") == pytest.approx(2 * 50_000 / r.seconds["padded"])
    assert "ns/increment" in r.table() and set(r.to_dict()["layouts"]) == set(LAYOUTS)


@pytest.mark.parametrize("raw, message", [({"threads": 9}, "threads must be a whole number from 1 to 8"),
                                          ({"increments": "lots"}, "increments must be a whole number"),
                                          ({"thread": 2}, "unknown sharing setting 'thread'")])
def test_bad_settings_say_what_to_write(raw, message):
    with pytest.raises(ConfigError, match=message):
        SharingConfig.from_mapping(raw)


LESSON = """+++
title = "false sharing"
minutes = 2
[[experiments]]
id = "fs"
kind = "sharing"
sharing = { threads = 2, increments = 10000, rounds = 2 }
[[checkpoints]]
question = "slower packed?"
choices = { yes = "yes", no = "no" }
answer = "packed.ns_per_increment > padded.ns_per_increment"
explain = "{packed.ns_per_increment:.2f} against {padded.ns_per_increment:.2f} ns; alone {alone.threads} thread"
+++
text
"""


def test_a_sharing_experiment_in_a_lesson_runs_and_its_rules_read_the_layouts(tmp_path):
    lesson = load_text(tmp_path, LESSON)
    e = lesson.experiments[0]
    assert e.headless and e.names() == LAYOUTS and e.sim.increments == 10_000
    results = run_experiment(e, Budget(updates=20))   # 1,000 × 20 increments per thread
    assert results.complete and results.sim.config.increments == 20_000
    v = evaluate(lesson.checkpoints[0], results)
    assert v.decided and "alone 1 thread" in v.explanation


def test_a_sharing_experiment_with_a_bad_setting_or_a_run_table_is_a_load_error(tmp_path):
    (tmp_path / "a.md").write_text(LESSON.replace("rounds = 2", "rounds = 0"))
    (tmp_path / "b.md").write_text(LESSON.replace('kind = "sharing"', 'kind = "sharing"\nruns.x = { }'))
    (tmp_path / "c.md").write_text(LESSON.replace("packed.ns_per_increment >", "packed.cas_fail >"))
    _, errors = load_lessons(tmp_path)
    text = "\n".join(str(e) for e in errors)
    assert "rounds must be a whole number from 1 to 50" in text
    assert "'runs' belongs to run and sweep experiments; a sharing experiment has an [experiments.sharing]" in text
    assert "unknown metric 'cas_fail' for layout 'packed'" in text
