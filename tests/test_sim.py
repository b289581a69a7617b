"""The step machine: semantics of each mode, events, undo, determinism, saved schedules."""
import json

import numpy as np
import pytest

from teach_sgd.sim.events import CasFailed, Completed, Dropped, LostUpdate
from teach_sgd.sim.machine import Machine, StepRefused
from teach_sgd.sim.objectives import Logistic, Quadratic
from teach_sgd.sim.program import Op
from teach_sgd.sim.schedulers import BoundedDelay, Random


def quad(d=1, c=1.0, noise=0.0):
    return Quadratic(d=d, c=c, noise=noise)


def run(machine, schedule):
    for tid in schedule:
        machine.step(tid)
    return machine


def state(machine):
    """Everything observable, as comparable bytes and values."""
    infos = [machine.thread_info(t) for t in range(machine.threads)]
    return (machine.shared().tobytes(), machine.steps, machine.completed, tuple(machine.schedule),
            tuple(machine.events), tuple(machine.delays), machine.in_flight_delays(),
            machine.lost_updates, machine.cas_failures, machine.dropped,
            tuple((i.pc, i.delay, i.completed, i.view.tobytes(), None if i.gradient is None else i.gradient.tobytes(),
                   i.cas_failures, i.version_read, i.version_base) for i in infos))


# ---- the paper's model: reads and fetch-and-add -------------------------------------------------------------

def test_faa_iteration_reads_coordinatewise_then_adds():
    m = Machine(quad(d=2), threads=2, alpha=0.25, x0=[1.0, 2.0])
    assert [i.op for i in m.program] == [Op.READ, Op.READ, Op.GRADIENT, Op.FETCH_ADD, Op.FETCH_ADD]
    m.step(0)                                   # thread 0 reads x[0] = 1
    assert np.isnan(m.thread_view(0)[1])
    run(m, [1, 1, 1, 1])                        # thread 1 runs a whole iteration, but its last add
    assert m.shared().tolist() == [0.75, 2.0]   # ... is still pending
    m.step(1)
    assert m.completed == 1 and m.shared().tolist() == [0.75, 1.5]
    m.step(0)                                   # thread 0 now reads the new x[1]: an inconsistent view
    assert m.thread_view(0).tolist() == [1.0, 1.5]
    events = run(m, [0, 0, 0]).events
    assert m.shared().tolist() == [0.75 - 0.25, 1.5 - 0.25 * 1.5]
    assert events[-1] == Completed(step=9, thread=0, iteration=2, delay=1, started=0)


def test_faa_never_loses_an_update():
    m = Machine(quad(), threads=2, alpha=0.1, mode="faa")
    run(m, [0, 0, 1, 1, 0, 1])                  # both read x = 1, then both add
    assert m.shared()[0] == pytest.approx(1 - 2 * 0.1)
    assert m.lost_updates == 0


# ---- HOGWILD!: a lost update, one instruction at a time -------------------------------------------------

def test_hogwild_lost_update_is_produced_and_detected():
    m = Machine(quad(), threads=2, alpha=0.1, mode="hogwild")
    assert [i.op for i in m.program] == [Op.READ, Op.GRADIENT, Op.LOAD, Op.STORE]
    run(m, [0, 0, 1, 1])                        # both read x = 1 and compute g = 1
    m.step(0)                                   # thread 0: r ← X[0] = 1
    m.step(1)                                   # thread 1: r ← X[0] = 1
    assert m.step(0) == [Completed(step=6, thread=0, iteration=1, delay=0, started=0)]  # X[0] ← 0.9
    assert m.thread_info(1).writes_since_load == 1 and m.thread_info(1).loaded == 1.0
    events = m.step(1)                          # X[0] ← 1 − 0.1: thread 0's write is gone
    lost = events[0]
    assert isinstance(lost, LostUpdate)
    assert (lost.thread, lost.coord, lost.erased, lost.by) == (1, 0, 1, 0)
    assert lost.amount == pytest.approx(-0.1)
    assert m.shared()[0] == pytest.approx(0.9)  # two iterations completed, one update visible
    assert m.completed == 2 and m.lost_updates == 1


def test_hogwild_without_interleaving_loses_nothing():
    m = Machine(quad(), threads=2, alpha=0.1, mode="hogwild")
    run(m, [0, 0, 1, 1, 0, 0, 1, 1])            # the stores do not overlap a load-store pair
    assert m.lost_updates == 0 and m.shared()[0] == pytest.approx(0.8)


# ---- Leashed-SGD: a failed CAS, one instruction at a time ---------------------------------------------

LEASHED_RACE = [0, 0, 0, 0,        # thread 0: p ← P (v0), g, p ← P (v0), build q on v0
                1, 1, 1, 1, 1]     # thread 1: the same, and its CAS publishes v1


def test_leashed_cas_failure_is_produced_and_detected_and_retried():
    m = Machine(quad(), threads=2, alpha=0.1, mode="leashed")
    assert [i.op for i in m.program] == [Op.READ_POINTER, Op.GRADIENT, Op.READ_LATEST, Op.BUILD, Op.CAS]
    run(m, LEASHED_RACE)
    assert m.version == 1 and m.shared()[0] == pytest.approx(0.9)
    [failed] = m.step(0)                        # thread 0's CAS: P is not v0 any more
    assert failed == CasFailed(step=9, thread=0, expected=0, found=1)
    assert m.shared()[0] == pytest.approx(0.9)  # nothing was overwritten
    assert m.next_instr(0).op is Op.READ_LATEST and m.thread_info(0).cas_failures == 1
    run(m, [0, 0])                              # rebuild on v1 with the same gradient (computed on v0)
    [done] = m.step(0)
    assert done == Completed(step=12, thread=0, iteration=2, delay=1, started=0)
    assert m.shared()[0] == pytest.approx(0.9 - 0.1 * 1.0)
    assert m.cas_failures == 1 and m.lost_updates == 0


def test_leashed_persistence_zero_drops_the_gradient():
    m = Machine(quad(), threads=2, alpha=0.1, mode="leashed", persistence=0)
    run(m, LEASHED_RACE)
    events = m.step(0)
    assert [type(e) for e in events] == [CasFailed, Dropped]
    assert m.dropped == 1 and m.thread_info(0).in_flight is False
    assert m.completed == 1 and m.shared()[0] == pytest.approx(0.9)


def test_leashed_versions_are_consistent_views():
    m = Machine(quad(d=3), threads=2, alpha=0.1, mode="leashed")
    m.step(0)
    view = m.thread_view(0)
    run(m, [1, 1, 1, 1, 1])                     # thread 1 publishes meanwhile
    assert np.array_equal(m.thread_view(0), view) and np.array_equal(view, np.ones(3))


# ---- the leash --------------------------------------------------------------------------------------

def test_leash_refuses_a_start_beyond_tau_plus_one_in_flight():
    m = Machine(quad(), threads=2, alpha=0.1, tau_max=0)
    m.step(0)
    assert m.enabled_threads() == [0]
    with pytest.raises(StepRefused):
        m.step(1)
    assert m.steps == 1


def test_leash_refuses_a_completion_that_would_overrun_a_delay():
    m = Machine(quad(), threads=2, alpha=0.1, tau_max=1)
    run(m, [0, 1, 1, 1])                        # thread 0 in flight; thread 1 completes: delay(0) = 1
    assert m.in_flight_delays() == {0: 1}
    run(m, [1, 1])                              # thread 1 starts again and is ready to add
    assert m.next_instr(1).op is Op.FETCH_ADD and not m.is_enabled(1)
    with pytest.raises(StepRefused):
        m.step(1)
    run(m, [0, 0])                              # thread 0 completes with delay 1 = τ_max
    assert m.delays == [0, 1] and m.is_enabled(1)


# ---- undo, determinism, replay ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["faa", "hogwild", "leashed"])
def test_undo_returns_exactly_to_the_previous_state(mode):
    m = Machine(quad(d=3, noise=0.5), threads=3, alpha=0.2, mode=mode, seed=7, tau_max=2)
    sched = BoundedDelay(seed=3)
    history = []
    for _ in range(60):
        history.append(state(m))
        m.step(sched.choose(m))
    after = state(m)
    last = m.schedule[-1]
    for k in range(5):
        m.undo()
        assert state(m) == history[-1 - k]
    m.undo(55)
    assert state(m) == history[0] and m.steps == 0
    assert m.undo() == 0
    m.replay(after[3][:-1])
    m.step(last)                                # the same step again draws the same noise
    assert state(m) == after


@pytest.mark.parametrize("mode", ["faa", "hogwild", "leashed"])
@pytest.mark.parametrize("objective", [quad(d=4, noise=0.3), Logistic(d=3)])
def test_same_seed_and_schedule_give_a_bit_identical_trajectory(mode, objective):
    def trajectory(seed):
        m = Machine(objective, threads=3, alpha=0.1, mode=mode, seed=seed)
        sched = Random(seed=11)
        out = []
        for _ in range(400):
            m.step(sched.choose(m))
            out.append(m.shared().tobytes())
        return out, m

    a, ma = trajectory(5)
    b, mb = trajectory(5)
    assert a == b and ma.events == mb.events
    c, _ = trajectory(6)
    assert c != a                               # the seed does matter


def test_saved_schedule_replays_exactly(tmp_path):
    m = Machine(quad(d=3, noise=0.2), threads=4, alpha=0.15, mode="hogwild", seed=2, tau_max=3)
    sched = BoundedDelay(seed=9)
    for _ in range(300):
        m.step(sched.choose(m))
    path = tmp_path / "schedule.json"
    m.save(path)
    record = json.loads(path.read_text())
    assert record["schedule"] == m.schedule and all(type(t) is int for t in record["schedule"])
    back = Machine.load(path)
    assert state(back) == state(m)
    assert back.spec() == m.spec()


def test_replayed_schedule_on_a_fresh_machine_matches_the_scheduled_run():
    objective = Logistic(d=3)
    m = Machine(objective, threads=3, alpha=0.3, mode="leashed", seed=4, persistence=1)
    sched = Random(seed=1)
    for _ in range(200):
        m.step(sched.choose(m))
    fresh = Machine(objective, threads=3, alpha=0.3, mode="leashed", seed=4, persistence=1)
    fresh.replay(m.schedule)
    assert state(fresh) == state(m)


# ---- small contracts --------------------------------------------------------------------------------

def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        Machine(quad(), threads=0, alpha=0.1)
    with pytest.raises(ValueError):
        Machine(quad(), threads=1, alpha=0.0)
    with pytest.raises(ValueError):
        Machine(quad(), threads=1, alpha=0.1, mode="locked")
    with pytest.raises(ValueError):
        Machine(quad(d=2), threads=1, alpha=0.1, x0=[1.0])
    with pytest.raises(ValueError):
        Machine(quad(), threads=2, alpha=0.1).step(2)


def test_logistic_minimiser_is_stationary():
    f = Logistic(d=5, c=0.1)
    rng = np.random.default_rng(0)
    full = np.mean([f.gradient(f.x_star, np.random.default_rng(i)) for i in range(2000)], axis=0)
    assert np.linalg.norm(full) < 0.2           # a sampled mean; the exact check is next
    for direction in rng.standard_normal((5, 5)):
        step = 1e-4 * direction
        assert f.loss(f.x_star + step) > f.loss(f.x_star) and f.loss(f.x_star - step) > f.loss(f.x_star)


def test_event_texts_name_what_happened():
    m = Machine(quad(), threads=2, alpha=0.1, mode="hogwild")
    run(m, [0, 0, 1, 1, 0, 1, 0, 1])
    texts = [str(e) for e in m.events]
    assert any("erased 1 write" in t and "thread 0" in t for t in texts)
    assert str(m.program[2]) == "r ← X[0]"
