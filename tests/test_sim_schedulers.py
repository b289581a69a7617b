"""Each scheduler keeps its promise; the delay accounting agrees with the definition; the leash is exact."""
import itertools
from collections import Counter

import pytest

from teach_sgd.sim.delay import keeps_bound
from teach_sgd.sim.events import Completed
from teach_sgd.sim.machine import Machine
from teach_sgd.sim.objectives import Quadratic
from teach_sgd.sim.schedulers import BoundedDelay, Random, Replay, RoundRobin, StaleRead, make_scheduler

MODES = ["faa", "hogwild", "leashed"]


def drive(machine, scheduler, steps):
    for _ in range(steps):
        assert machine.enabled_threads(), "a leashed machine must never deadlock"
        machine.step(scheduler.choose(machine))
    return machine


def delays_from_events(machine):
    """The delay of every completed iteration, recomputed from the definition: other iterations that
    completed strictly between its first instruction and its completing one."""
    done = [e for e in machine.events if isinstance(e, Completed)]
    return [sum(1 for o in done if o.thread != e.thread and e.started < o.step < e.step) for e in done]


def test_keeps_bound_is_exactly_some_completion_order_fits():
    # The k-th iteration to complete has paid for k others: it needs a budget of at least k.
    for n in range(6):
        for budgets in itertools.product(range(-1, 5), repeat=n):
            fits = any(all(budgets[i] >= k for k, i in enumerate(order))
                       for order in itertools.permutations(range(n)))
            assert keeps_bound(budgets) == fits, budgets


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tau", [0, 1, 2, 4])
def test_leashed_schedules_never_exceed_tau_max(mode, tau):
    for seed in range(12):
        threads = tau + 1 + seed % 3           # also more threads than can overlap
        for scheduler in (BoundedDelay(seed), Random(seed)):
            m = Machine(Quadratic(d=2, noise=0.1), threads=threads, alpha=0.05, mode=mode, seed=seed,
                        tau_max=tau, persistence=seed % 2 if mode == "leashed" else None)
            drive(m, scheduler, 600)
            assert m.completed > 0
            assert m.max_delay <= tau
            assert all(d <= tau for d in m.in_flight_delays().values())
            assert m.delays == delays_from_events(m)


@pytest.mark.parametrize("mode", MODES)
def test_bounded_delay_adversary_reaches_its_bound(mode):
    for tau in (1, 2, 4):
        m = Machine(Quadratic(d=2), threads=tau + 1, alpha=0.05, mode=mode, tau_max=tau)
        drive(m, BoundedDelay(seed=tau), 3000)
        assert m.max_delay == tau


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tau", [0, 1, 3, 7])
def test_stale_read_rounds_have_delays_zero_to_tau(mode, tau):
    m = Machine(Quadratic(d=3), threads=tau + 1, alpha=0.01, mode=mode, tau_max=tau)
    drive(m, StaleRead(), 5 * len(StaleRead.round(m)))
    assert m.delays == list(range(tau + 1)) * 5
    assert m.delays == delays_from_events(m)
    assert m.cas_failures == 0 and m.lost_updates == 0


def test_stale_read_needs_enough_threads_and_a_leash():
    with pytest.raises(ValueError):
        StaleRead().choose(Machine(Quadratic(), threads=2, alpha=0.1, tau_max=2))
    with pytest.raises(ValueError):
        StaleRead().choose(Machine(Quadratic(), threads=2, alpha=0.1))
    with pytest.raises(ValueError):
        BoundedDelay().choose(Machine(Quadratic(), threads=2, alpha=0.1))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("threads", [1, 2, 3, 5])
def test_round_robin_is_fair(mode, threads):
    m = Machine(Quadratic(d=2), threads=threads, alpha=0.05, mode=mode)
    sched = RoundRobin()
    counts = Counter()
    for _ in range(500):
        tid = sched.choose(m)
        m.step(tid)
        counts[tid] += 1
        assert max(counts.values()) - min(counts[t] for t in range(threads)) <= 1
    if mode != "leashed":                       # fixed-length iterations: delay ≤ n − 1
        assert m.max_delay == threads - 1
        assert m.delays == delays_from_events(m)


def test_round_robin_skips_threads_the_leash_refuses():
    m = Machine(Quadratic(), threads=3, alpha=0.05, tau_max=0)
    drive(m, RoundRobin(), 300)
    assert m.max_delay == 0 and m.completed == 300 // len(m.program)


def test_random_scheduler_is_seeded():
    def picks(seed):
        m = Machine(Quadratic(), threads=4, alpha=0.05)
        return drive(m, Random(seed), 200).schedule

    assert picks(3) == picks(3) and picks(3) != picks(4)


def test_replay_scheduler_plays_back_then_stops():
    m = Machine(Quadratic(), threads=2, alpha=0.1)
    sched = Replay([1, 0, 1])
    drive(m, sched, 3)
    assert m.schedule == [1, 0, 1]
    with pytest.raises(IndexError):
        sched.choose(m)


def test_make_scheduler_names():
    for name in ("round-robin", "random", "bounded-delay", "stale-read"):
        assert make_scheduler(name, 0).name == name
    with pytest.raises(ValueError):
        make_scheduler("fifo")
