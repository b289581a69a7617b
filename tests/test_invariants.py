"""A few of benchmarks/stress.py's randomized runs (the full 1,000 are a benchmark): every invariant holds."""
import importlib.util
import random
from pathlib import Path

import pytest

from teach_sgd.engine.invariants import violations
from teach_sgd.engine.runner import run

_spec = importlib.util.spec_from_file_location("stress", Path(__file__).parent.parent / "benchmarks" / "stress.py")
stress = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stress)


@pytest.mark.parametrize("seed", range(12))
def test_randomized_runs_keep_every_invariant(seed):
    config = stress.random_config(random.Random(seed))
    assert violations(run(config)) == []


def test_a_broken_count_is_caught():
    """The checker can fail: a result whose threads miscount a published update is reported."""
    from dataclasses import replace

    r = run(stress.random_config(random.Random(3)))
    broken = replace(r, updates=r.updates + 1)
    assert any("published but the threads count" in v for v in violations(broken))
