"""The simulator session without a terminal: stepping, exact undo, the history and its divergence limit, the
sentence that explains a refused step, settings that keep or replace the machine, and save through the one
export writer (Machine.load replays it exactly)."""
from __future__ import annotations

import numpy as np
import pytest

from teach_sgd.sim import Machine, StepRefused
from teach_sgd.sim.config import MANUAL, SimConfig
from teach_sgd.sim.session import SimSession


def test_undo_is_exact_and_takes_the_history_and_the_scheduler_back():
    s = SimSession(SimConfig(scheduler="bounded-delay", threads=3, tau_max=1))
    for _ in range(30):
        assert s.scheduled_step() is None
    schedule, shared, iters = list(s.machine.schedule), s.machine.shared().copy(), list(s.iters)
    for _ in range(7):
        assert s.undo()
    for _ in range(7):   # the scheduler replays its own choices: the same 7 steps come back
        assert s.scheduled_step() is None
    assert s.machine.schedule == schedule and np.array_equal(s.machine.shared(), shared) and s.iters == iters
    while s.undo():
        pass
    assert s.machine.steps == 0 and s.iters == [0] and not s.undo()


def test_a_refused_step_is_explained_and_changes_nothing():
    s = SimSession(SimConfig(scheduler=MANUAL, threads=2, tau_max=0))
    s.step(0)
    with pytest.raises(StepRefused):
        s.step(1)
    assert s.machine.steps == 1
    assert s.refusal(1) == ("1 iterations are already in flight; starting one more would let the adversary delay "
                            "one of them past τ_max = 0")


def test_divergence_past_the_threshold_is_detected_and_said():
    c = SimConfig(scheduler="stale-read", threads=3, tau_max=2, alpha=1.0)   # 2/((τ+1)c) = 0.667 ≤ α
    s = SimSession(c)
    text, past = s.threshold_text()
    assert past and "α = 1 is not below" in text
    for _ in range(5000):
        if s.diverged:
            break
        assert s.scheduled_step() is None
    assert s.diverged and max(s.dist2) > s.limit
    assert "α = 1 ≥ 2/((τ+1)c) = 0.6667" in s.divergence_text()
    while s.diverged:   # undoing back below the limit clears it
        s.undo()
    assert all(d <= s.limit for d in s.dist2)


def test_a_new_scheduler_keeps_the_machine_other_settings_replace_it():
    c = SimConfig(scheduler="round-robin", threads=3, tau_max=2)
    s = SimSession(c)
    for _ in range(10):
        s.scheduled_step()
    machine = s.machine
    text, tone = s.apply(SimConfig(scheduler="random", threads=3, tau_max=2))
    assert s.machine is machine and s.machine.steps == 10 and "keeps its state" in text
    assert s.apply(SimConfig(scheduler="random", threads=3, tau_max=2)) is None   # nothing changed
    text, _ = s.apply(SimConfig(scheduler="random", threads=4, tau_max=2))
    assert s.machine is not machine and s.machine.threads == 4 and text.startswith("new machine")


def test_save_writes_a_new_file_each_time_and_it_replays_exactly(tmp_path):
    s = SimSession(SimConfig(mode="leashed", scheduler="bounded-delay", threads=3, tau_max=1))
    for _ in range(25):
        s.scheduled_step()
    first, second = s.save(tmp_path), s.save(tmp_path)
    assert first != second and first.exists() and second.exists()   # never overwritten
    again = Machine.load(first)
    assert again.schedule == s.machine.schedule and np.array_equal(again.shared(), s.machine.shared())
