"""The protocol models against the engine: every model step names an engine function that exists with the
parameters the model assumes and still contains the line that performs the step, and a model run with no
interleaving ends exactly where the real engine functions, called in the same order, end."""
import inspect

import numpy as np
import pytest

from teach_sgd.engine import layout as L
from teach_sgd.engine.versions import acquire, claim, pack, publish, release, seq_of, slot_of
from teach_sgd.sim.check import PROTOCOLS, make_model
from teach_sgd.sim.protocol import LIVE_BOUND, LOST_UPDATE
from teach_sgd.sim.versions_model import STEPS, Leashed


def all_steps():
    seen = {}
    for protocol in PROTOCOLS:
        for step in make_model(protocol, 2, 1).steps:
            seen[(step.name, step.source)] = step
    return list(seen.values())


@pytest.mark.parametrize("step", all_steps(), ids=lambda s: s.name)
def test_every_step_names_an_engine_function_of_the_expected_shape(step):
    fn = step.function()
    assert tuple(inspect.signature(fn).parameters) == step.params, step.source
    path, first = inspect.getsourcefile(fn), step.line()
    assert step.code in open(path).read().splitlines()[first - 1]


def test_the_leashed_steps_cover_acquire_release_claim_and_publish():
    sources = {s.source.rpartition(".")[2] for s in STEPS}
    assert {"acquire", "_retain_live", "release", "claim", "publish", "compute_gradient", "try_publish"} <= sources


def run_alone(model, tid_order):
    """Run the model's threads one after another (no interleaving) to the end."""
    state = model.initial()
    for tid in tid_order:
        while tid in model.enabled(state):
            state, _ = model.step(state, tid)
    return state


def engine_alone(threads, updates, tid_order, k):
    """The same run on the real functions, in leashed.worker's order of calls (gradient g = 2^(i·U+j))."""
    control = np.zeros(L.CONTROL_WORDS, np.int64)
    rc = np.zeros(k, np.int64)
    rc[0], control[L.CLOCK], control[L.LIVE] = 1, pack(0, 0), 1
    theta = np.zeros(k, np.int64)
    for tid in tid_order:
        for j in range(updates):
            g = 1 << (tid * updates + j)
            word = acquire(control, rc)          # compute_gradient
            release(control, rc, slot_of(word))
            word = acquire(control, rc)          # try_publish
            q = claim(control, rc, 2 * tid)
            theta[q] = theta[slot_of(word)] - g
            release(control, rc, slot_of(word))
            assert publish(control, word, seq_of(word) + 1, q)
            release(control, rc, slot_of(word))
    return control, rc, theta


@pytest.mark.parametrize("order", [(0, 1), (1, 0), (2, 0, 1)])
def test_a_model_run_without_interleaving_ends_where_the_engine_ends(order):
    threads, updates = max(order) + 1, 2
    model = Leashed(threads, updates)
    (t, slot), live, rc, theta, _, published, _, _ = run_alone(model, order)
    control, rc_real, theta_real = engine_alone(threads, updates, order, model.slots)
    assert (t, slot) == (seq_of(control[L.CLOCK]), slot_of(control[L.CLOCK]))
    assert list(rc) == rc_real.tolist() and live == control[L.LIVE]
    assert theta[slot] == theta_real[slot] == -published


def test_the_invariants_notice_a_lost_update_and_an_overfull_slab():
    model = Leashed(2, 1)
    (p, live, rc, theta, label, published, dropped, threads) = model.initial()
    lost = (p, live, rc, theta, label, 0b11, dropped, threads)      # two published gradients, θ still θ0
    assert "lost g0, g1" in model.invariants(lost)[LOST_UPDATE]
    overfull = (p, model.slots + 1, rc, theta, label, published, dropped, threads)
    assert LIVE_BOUND in model.invariants(overfull)


def test_the_docs_table_is_the_models_table():
    from pathlib import Path

    from teach_sgd.sim.protocol import source_table
    from teach_sgd.sim.racy import FAA, LOAD, STORE

    doc = (Path(__file__).parent.parent / "docs" / "protocol.md").read_text()
    assert source_table((*STEPS, LOAD, STORE, FAA)) in doc, "regenerate: python scripts/protocol_table.py"
