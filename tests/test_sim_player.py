"""The simulator's keys without a terminal (SimPlayer): run and pause, ticks that stop at a divergence, the
manual scheduler's rules, a refused step, undo, the speed ladder's ends, leaving the screen, and new settings
that pause. Each key returns the sentence the screen shows and its tone."""
from __future__ import annotations

from teach_sgd.sim.config import MANUAL, SimConfig
from teach_sgd.sim.player import SPEEDS, TICK_HZ, TONES, SimPlayer
from teach_sgd.sim.session import SimSession


def player(**settings) -> SimPlayer:
    return SimPlayer(SimSession(SimConfig(**settings)))


def test_space_runs_and_pauses_and_ticks_step_at_the_speed():
    p = player(scheduler="random", threads=3)
    assert p.state == "paused"
    text, tone = p.toggle()
    assert p.running and p.state == "running" and f"{p.speed} steps/s" in text and tone in TONES
    p.speed = SPEEDS[-1]
    assert p.tick_hz() == TICK_HZ and p.steps_per_tick() == SPEEDS[-1] // TICK_HZ
    assert p.tick() is None and p.session.machine.steps == p.steps_per_tick()
    assert p.toggle()[0].startswith("paused") and not p.running
    steps = p.session.machine.steps
    assert p.tick() is None and p.session.machine.steps == steps   # a paused player's ticks step nothing


def test_a_tick_stops_at_the_divergence_and_a_diverged_run_does_not_restart():
    p = player(mode="faa", scheduler="stale-read", threads=2, tau_max=1, alpha=1.1, d=2, noise=0.0)
    p.speed = SPEEDS[-1]
    p.toggle()
    said = None
    for _ in range(100):
        said = p.tick()
        if said is not None:
            break
    assert said is not None and said[1] == "error" and "diverged" in said[0]
    assert not p.running and p.state == "diverged"
    text, tone = p.toggle()
    assert not p.running and "diverged" in text and tone == "error"


def test_the_manual_scheduler_takes_number_keys_only_and_a_refusal_is_explained():
    p = player(scheduler=MANUAL, threads=2, tau_max=0)
    assert p.state == "manual"
    assert p.toggle()[1] == "warn" and not p.running          # nothing to run: the learner schedules
    assert p.scheduled()[1] == "warn" and p.session.machine.steps == 0
    assert p.thread(0)[0].startswith("thread 0:") and p.session.machine.steps == 1
    text, tone = p.thread(1)
    assert tone == "error" and "thread 1 refused" in text and "τ_max = 0" in text and p.session.machine.steps == 1
    text, tone = p.thread(5)
    assert tone == "warn" and "only 2 threads" in text


def test_a_scheduler_decides_unless_manual_and_undo_goes_back_to_step_0():
    p = player(scheduler="round-robin", threads=3)
    assert "scheduler decides" in p.thread(0)[0] and p.session.machine.steps == 0
    p.toggle()
    text, _ = p.scheduled()                                  # . pauses and takes one step
    assert not p.running and p.session.machine.steps == 1 and "round-robin scheduler chose thread" in text
    assert p.undo() == ("undone: back to step 0", "info")
    assert p.undo() == ("nothing to undo: this is step 0", "warn")


def test_speed_stops_at_both_ends_of_the_ladder():
    p = player()
    for _ in range(len(SPEEDS) + 2):
        p.change_speed(+1)
    assert p.speed == SPEEDS[-1]
    for _ in range(len(SPEEDS) + 2):
        text, _ = p.change_speed(-1)
    assert p.speed == SPEEDS[0] and text == f"speed {SPEEDS[0]} steps/s"


def test_leaving_pauses_and_new_settings_that_replace_the_machine_pause():
    p = player(scheduler="random", threads=3)
    assert p.suspend() is None                                # not running: nothing to say
    p.toggle()
    assert "paused while you were away" in p.suspend()[0] and not p.running
    p.toggle()
    for _ in range(3):
        p.tick()
    p.apply(SimConfig(scheduler="round-robin", threads=3))    # the same machine, another scheduler: goes on
    assert p.running
    text, tone = p.apply(SimConfig(scheduler="round-robin", threads=4))
    assert not p.running and text.startswith("new machine") and tone == "info"
    text, _ = p.apply(SimConfig(scheduler="round-robin", threads=4), reset=True)
    assert text.startswith("reset to step 0") and p.session.machine.steps == 0
