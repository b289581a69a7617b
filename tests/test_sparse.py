"""HOGWILD!'s write modes (engine/hogwild.py): sparse writes exactly the coordinates with a non-zero
gradient (Niu et al.); dense writes every one. The audit accounts lost updates in both."""
import numpy as np
import pytest

from teach_sgd.engine import hogwild
from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import Runner, run
from teach_sgd.engine.layout import SAMPLE_LINE
from teach_sgd.engine.state import SAMPLE_STRIDE
from teach_sgd.models import mlp


def test_racy_apply_sparse_leaves_zero_gradient_coordinates_alone():
    theta = np.arange(1, 3001, dtype=np.float32)
    g = np.zeros(3000, np.float32)
    g[::7] = 1.0
    g[5] = -2.0
    before = theta.copy()
    written = hogwild.racy_apply(theta, g, 0.5, True)
    assert written == np.count_nonzero(g)
    assert np.array_equal(theta[g == 0], before[g == 0])
    assert np.array_equal(theta[g != 0], (before - 0.5 * g)[g != 0])
    theta = before.copy()
    lost, sampled, written = hogwild.racy_apply_observed(theta, g, 0.5, 7, 3, True)
    assert (lost, written) == (0, np.count_nonzero(g))
    lines = np.arange(3000) // SAMPLE_LINE
    assert sampled == np.count_nonzero((lines % 7 == 3) & (g != 0))  # lines 3, 10, 17, …, where written
    assert np.array_equal(theta, np.where(g != 0, before - 0.5 * g, before))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("first", [0, 3, 6])
def test_one_pass_and_two_pass_writes_observe_the_same_coordinates(sparse, first):
    """At full speed the update is one fused loop, in slow motion a read pass and a write pass: both observe
    the lines first, first + stride, … (the last one cut short at the end of θ), and write the same θ."""
    n, stride = 3000, 7
    rng = np.random.default_rng(first)
    g = np.where(rng.random(n) < 0.5, rng.normal(size=n), 0).astype(np.float32)
    theta = rng.normal(size=n).astype(np.float32)
    one, two, buf = theta.copy(), theta.copy(), np.zeros(n, np.float32)
    observed = hogwild.racy_apply_observed(one, g, 0.05, stride, first, sparse)
    hogwild.read_coordinates(two, g, buf, sparse)
    assert hogwild.write_coordinates(two, g, buf, 0.05, stride, first, sparse) == observed
    assert np.array_equal(one, two)
    lines = np.arange(n) // SAMPLE_LINE
    mask = lines % stride == first
    assert observed[1] == np.count_nonzero(mask & (g != 0) if sparse else mask)


def test_sparse_hogwild_writes_exactly_the_nonzero_gradient_coordinates():
    """One thread (no races): replay the run's batches, count the non-zero gradient coordinates."""
    updates = 30
    config = RunConfig(algo="hogwild", threads=1, writes="sparse", updates=updates, batch=16, seed=5)
    runner = Runner(config)
    state = runner.state
    theta = state.theta0.copy()
    dims = runner.model.dims
    g = np.zeros_like(theta)
    work = np.zeros(runner.model.workspace_size(config.batch), np.float32)
    n = state.data.X_train.shape[0]
    expected = 0
    for k in range(updates):
        rows = state.perm[(k * 16) % n:(k * 16) % n + 16]
        mlp.loss_and_grad(dims, theta, state.data.X_train, state.data.y_train, rows, g, work)
        expected += int(np.count_nonzero(g))
        theta = theta - np.float32(config.lr) * g  # float32 throughout, as the engine applies (stepsize.applied_step)
    r = runner.start().wait()
    assert r.updates == updates
    assert sum(t.written for t in r.threads) == expected
    assert expected < 0.8 * updates * r.params        # W1's rows of absent pixels are skipped
    assert np.array_equal(r.theta_final, theta)        # the same model as writing every coordinate
    dense = run(RunConfig(algo="hogwild", threads=1, updates=updates, batch=16, seed=5))
    assert sum(t.written for t in dense.threads) == updates * dense.params
    assert np.array_equal(dense.theta_final, r.theta_final)


@pytest.mark.parametrize("writes", ["dense", "sparse"])
@pytest.mark.parametrize("threads", [1, 2, 8])
def test_lost_update_mass_is_accounted_in_both_modes(writes, threads):
    r = run(RunConfig(algo="hogwild", writes=writes, threads=threads, updates=400, batch=8, seed=2,
                      dataset="synthetic", audit=True))
    assert r.updates == 400
    lost = sum(t.lost_updates_sampled for t in r.threads)
    sampled = sum(t.sampled_writes for t in r.threads)
    # the update with ticket t observes the lines t mod k, t mod k + k, … (k = SAMPLE_STRIDE)
    per_first = np.bincount(np.arange(r.params) // SAMPLE_LINE % SAMPLE_STRIDE, minlength=SAMPLE_STRIDE)
    every_observed = int(per_first[np.arange(r.updates) % SAMPLE_STRIDE].sum())
    assert 0 <= lost <= sampled <= every_observed
    if writes == "dense":
        assert sampled == every_observed
    assert r.lost_update_mass is not None and np.isfinite(r.lost_update_mass)
    if threads == 1:  # nothing can be lost: θ0 + Σ applied = θ_final up to float32 rounding
        assert r.lost_update_mass / r.params < 1e-5
    if lost:  # an observed overwrite leaves θ short of θ0 + Σ applied
        assert r.lost_update_mass > 0


def test_writes_is_a_hogwild_setting():
    from teach_sgd.errors import ConfigError
    with pytest.raises(ConfigError, match="HOGWILD"):
        RunConfig.from_mapping({"algo": "lock", "writes": "sparse"})
    with pytest.raises(ConfigError, match="dense, sparse|dense or sparse"):
        RunConfig.from_mapping({"algo": "hogwild", "writes": "some"})


# --- the gradient's support (models.loss_and_grad, engine/gradient.py) --------------------------------

def test_a_gradient_with_its_support_is_bit_for_bit_the_gradient_without_it_and_so_is_the_update():
    """The engine keeps one gradient buffer per thread with its support flags: loss_and_grad leaves W1 rows
    that are 0 already alone, seq.apply skips them and leashed.new_version copies them. Over real MNIST
    batches, some rows leaving the support from one batch to the next: the gradient, the flags, SEQ's apply and
    Leashed-SGD's new version are exactly what the dense computation gives."""
    from teach_sgd.data import load_dataset
    from teach_sgd.engine import leashed, seq
    from teach_sgd.models import loss_and_grad, make_model

    data = load_dataset("mnist")
    spec = make_model("mlp", hidden=(16,))
    X, d0, width = spec.inputs(data.X_train), int(spec.dims[0]), int(spec.dims[1])
    theta = spec.init(0, "he")
    work = np.zeros(spec.workspace_size(16), np.float32)
    grad = np.full_like(theta, 7.0)  # a new buffer's content is anything: its flags all say "may be nonzero"
    support = np.ones(spec.support_rows, np.int8)
    rng = np.random.default_rng(2)
    left = 0
    for _ in range(12):
        rows = rng.choice(len(data.y_train), 16).astype(np.int64)
        before = support.copy()
        loss = loss_and_grad(spec.kind, spec.dims, theta, X, data.y_train, rows, grad, work, support)
        dense = np.zeros_like(theta)
        assert loss == loss_and_grad(spec.kind, spec.dims, theta, X, data.y_train, rows, dense,
                                     np.zeros_like(work))
        assert np.array_equal(grad, dense)
        present = (data.X_train[rows] != 0).any(axis=0)
        assert np.array_equal(support.astype(bool), present)
        assert not dense[:d0 * width].reshape(d0, width)[~present].any()
        left += int((before.astype(bool) & ~present).sum())

        step = np.float32(0.05)
        applied, expected = theta.copy(), theta - step * dense
        seq.apply(applied, grad, 0.05, support, width)
        assert np.array_equal(applied, expected)
        new = np.full_like(theta, np.nan)
        leashed.new_version(new, theta, grad, step, support, width)
        assert np.array_equal(new, expected)
        theta = expected
    assert left > 12 * 16, "rows left the support between batches: the zeroing of such rows was exercised"


def test_the_cnn_has_no_support_rows_and_a_support_of_another_length_is_refused():
    from teach_sgd.data import load_dataset
    from teach_sgd.models import loss_and_grad, make_model

    data = load_dataset("synthetic", seed=0)
    cnn = make_model("cnn", hidden=(16,))
    assert cnn.support_rows == 0
    theta = cnn.init(0)
    rows = np.arange(16, dtype=np.int64)
    grad, work = np.zeros_like(theta), np.zeros(cnn.workspace_size(16), np.float32)
    dense = np.zeros_like(theta)
    assert loss_and_grad(cnn.kind, cnn.dims, theta, data.X_train, data.y_train, rows, grad, work,
                         np.ones(0, np.int8)) == loss_and_grad(cnn.kind, cnn.dims, theta, data.X_train,
                                                               data.y_train, rows, dense, work)
    assert np.array_equal(grad, dense)
    spec = make_model("mlp", hidden=(4,), input_shape=(3, 3), n_classes=2)
    for wrong in (100, 8, 0):  # too long, or too short: its flags would be written past its end
        with pytest.raises(ValueError, match="support"):
            loss_and_grad(spec.kind, spec.dims, spec.init(0), np.ones((2, 9), np.float32), np.zeros(2, np.int64),
                          np.arange(2, dtype=np.int64), np.zeros(spec.n_params, np.float32),
                          np.zeros(spec.workspace_size(2), np.float32), np.ones(wrong, np.int8))
