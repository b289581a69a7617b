"""Models: gradients against finite differences, an independent NumPy forward pass, init, training, and
the contract the engine relies on (theta read-only, grad overwritten, chunked evaluation, clear errors)."""
import math

import numpy as np
import pytest
from numba import njit

from teach_sgd.data import load_dataset
from teach_sgd.models import (CNN, EVAL_CHUNK, MLP, loss_and_accuracy, loss_and_grad, make_model, mlp)


@pytest.fixture(scope="module")
def synth():
    return load_dataset("synthetic", seed=0)


def small_models():
    return [make_model("mlp", hidden=(16, 12)), make_model("cnn", hidden=(16,))]


def with_random_biases(spec, theta, seed=1):
    """Biases away from 0, so that no ReLU input sits exactly on its kink (with the blank background of the
    images and zero biases, many sit at exactly 0, where finite differences are meaningless)."""
    rng = np.random.default_rng(seed)
    theta = theta.copy()
    for name, shape, offset in spec.layout():
        if len(shape) == 1:
            theta[offset:offset + shape[0]] = rng.uniform(-0.1, 0.1, shape[0])
    return theta


def grad_of(spec, theta, X, y, rows):
    grad = np.zeros_like(theta)
    work = np.zeros(spec.workspace_size(len(rows)), dtype=theta.dtype)
    loss = loss_and_grad(spec.kind, spec.dims, theta, X, y, rows, grad, work)
    return loss, grad


# --- shapes and layout --------------------------------------------------------------------------------

def test_make_model_shapes():
    mlp = make_model("mlp")
    assert (mlp.name, mlp.kind) == ("mlp", MLP)
    assert list(mlp.dims) == [784, 128, 10] and mlp.dims.dtype == np.int64
    assert mlp.n_params == 784 * 128 + 128 + 128 * 10 + 10
    deep = make_model("mlp", hidden=(128, 128, 64))
    assert list(deep.dims) == [784, 128, 128, 64, 10]
    cnn = make_model("cnn")
    assert (cnn.name, cnn.kind) == ("cnn", CNN)
    assert list(cnn.dims) == [28, 28, 4, 8, 128, 10]
    assert cnn.n_params == (4 * 9 + 4) + (8 * 4 * 9 + 8) + (200 * 128 + 128) + (128 * 10 + 10)
    for spec in (mlp, deep, cnn):
        layout = spec.layout()
        ends = [offset + int(np.prod(shape)) for _, shape, offset in layout]
        assert [offset for _, _, offset in layout] == [0] + ends[:-1]
        assert ends[-1] == spec.n_params


def test_bad_models_raise_value_error():
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        make_model("resnet")
    with pytest.raises(ValueError, match="positive"):
        make_model("mlp", hidden=(128, 0))
    with pytest.raises(ValueError, match="one hidden FC layer"):
        make_model("cnn", hidden=(128, 128))
    with pytest.raises(ValueError, match="too small"):
        make_model("cnn", input_shape=(8, 8))
    with pytest.raises(ValueError, match="n_classes"):
        make_model("mlp", n_classes=1)
    with pytest.raises(ValueError, match="init scheme"):
        make_model("mlp").init(0, "xavier")


# --- gradients ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", small_models(), ids=["mlp", "cnn"])
def test_gradient_matches_central_differences_float64(spec, synth):
    """The kernels compile for float64 too, where central differences are accurate to ~1e-9: every layer's
    weights and biases, 10 random coordinates each (all of a block when it is smaller)."""
    X = synth.X_train.astype(np.float64)
    y = synth.y_train
    rows = np.array([3, 17, 4, 1000, 1999, 250], dtype=np.int64)
    theta = with_random_biases(spec, spec.init(0, "he").astype(np.float64))
    _, grad = grad_of(spec, theta, X, y, rows)
    rng = np.random.default_rng(0)
    eps = 1e-6
    for name, shape, offset in spec.layout():
        size = int(np.prod(shape))
        for i in rng.choice(size, min(size, 10), replace=False):
            j = offset + i
            plus, minus = theta.copy(), theta.copy()
            plus[j] += eps
            minus[j] -= eps
            fd = (grad_of(spec, plus, X, y, rows)[0] - grad_of(spec, minus, X, y, rows)[0]) / (2 * eps)
            assert abs(fd - grad[j]) <= 1e-5 * max(abs(fd), 1e-2), (name, i, fd, grad[j])


def test_cnn_gradient_on_odd_non_square_images():
    """Odd sizes exercise the rows and columns that pooling drops and the unused slots of each plane."""
    spec = make_model("cnn", hidden=(6,), input_shape=(13, 15), n_classes=3)
    rng = np.random.default_rng(0)
    X = rng.random((20, 13 * 15))
    y = rng.integers(0, 3, 20)
    rows = np.arange(5, dtype=np.int64)
    theta = spec.init(0, "he").astype(np.float64) + rng.uniform(-0.1, 0.1, spec.n_params)
    _, grad = grad_of(spec, theta, X, y, rows)
    for j in range(spec.n_params):
        plus, minus = theta.copy(), theta.copy()
        plus[j] += 1e-6
        minus[j] -= 1e-6
        fd = (grad_of(spec, plus, X, y, rows)[0] - grad_of(spec, minus, X, y, rows)[0]) / 2e-6
        assert abs(fd - grad[j]) <= 1e-5 * max(abs(fd), 1e-2), (j, fd, grad[j])


@pytest.mark.parametrize("spec", [make_model("mlp"), make_model("cnn")], ids=["mlp", "cnn"])
def test_float32_gradient_agrees_with_float64(spec, synth):
    """The float32 code the engine runs (different vectorisation, fastmath) computes the same gradient."""
    rows = np.arange(16, dtype=np.int64) * 97
    theta = with_random_biases(spec, spec.init(2, "he"))
    loss32, g32 = grad_of(spec, theta, synth.X_train, synth.y_train, rows)
    loss64, g64 = grad_of(spec, theta.astype(np.float64), synth.X_train.astype(np.float64), synth.y_train, rows)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for name, shape, offset in spec.layout():
        block = slice(offset, offset + int(np.prod(shape)))
        scale = np.abs(g64[block]).max() + 1e-12
        assert np.abs(g32[block] - g64[block]).max() <= 1e-3 * scale, name


def test_float32_gradient_matches_central_differences(synth):
    """The same check in float32 with a step and tolerance that suit single precision."""
    spec = make_model("mlp", hidden=(32,))
    rows = np.arange(8, dtype=np.int64) * 11
    theta = with_random_biases(spec, spec.init(0, "he"))
    _, grad = grad_of(spec, theta, synth.X_train, synth.y_train, rows)
    rng = np.random.default_rng(1)
    for name, shape, offset in spec.layout():
        for i in rng.choice(int(np.prod(shape)), 5, replace=False):
            j = offset + i
            plus, minus = theta.copy(), theta.copy()
            plus[j] += np.float32(1e-3)
            minus[j] -= np.float32(1e-3)
            fd = (grad_of(spec, plus, synth.X_train, synth.y_train, rows)[0]
                  - grad_of(spec, minus, synth.X_train, synth.y_train, rows)[0]) / (float(plus[j]) - float(minus[j]))
            assert abs(fd - grad[j]) <= 0.05 * abs(fd) + 2e-3, (name, i, fd, grad[j])


def test_first_layer_indexes_and_gradient_on_empty_full_and_repeated_images():
    """The MLP skips zero pixels through two indexes of the batch (by sample, then regrouped by input with a
    counting sort). Edge rows: an image with no nonzero pixel, one with no zero pixel, the same image twice,
    and a batch size that is not a multiple of the eight rows the passes add at once. The indexes list
    exactly the nonzero pixels, and W1's gradient matches NumPy's (x.T @ the layer-1 delta)."""
    rng = np.random.default_rng(3)
    spec = make_model("mlp", hidden=(12,), input_shape=(5, 5), n_classes=3)
    X = np.where(rng.random((6, 25)) < 0.4, rng.random((6, 25)), 0.0).astype(np.float32)
    X[1] = 0.0
    X[2] = rng.random(25).astype(np.float32) + 0.5
    y = rng.integers(0, 3, 6).astype(np.int64)
    rows = np.array([0, 1, 2, 3, 3, 5, 4, 2, 0, 1, 5], np.int64)
    n = len(rows)
    work = np.zeros(spec.workspace_size(n), np.float32)
    theta = with_random_biases(spec, spec.init(0, "he"))
    grad = np.zeros_like(theta)
    loss_and_grad(spec.kind, spec.dims, theta, X, y, rows, grad, work)

    by_sample, by_input, _, _ = mlp.split_workspace(spec.dims, n, work)
    firsts, ends, ks, xs = by_sample
    for b, r in enumerate(rows):
        (expected,) = np.nonzero(X[r])
        assert list(ks[firsts[b]:ends[b]]) == list(expected)
        assert np.array_equal(xs[firsts[b]:ends[b]], X[r, expected])
    starts, bs, xs = by_input
    for k in range(25):
        (expected,) = np.nonzero(X[rows, k])
        assert list(bs[starts[k]:starts[k + 1]]) == list(expected)
        assert np.array_equal(xs[starts[k]:starts[k + 1]], X[rows[expected], k])

    # NumPy's first layer: the delta of its pre-activations from the layers above, then x.T @ delta
    blocks = {name: theta[o:o + int(np.prod(sh))].reshape(sh).astype(np.float64) for name, sh, o in spec.layout()}
    x = X[rows].astype(np.float64)
    pre = x @ blocks["W1"] + blocks["b1"]
    z = np.maximum(pre, 0) @ blocks["W2"] + blocks["b2"]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(n), y[rows]] -= 1.0
    delta = (p / n) @ blocks["W2"].T * (pre > 0)
    gW1 = grad[:25 * 12].reshape(25, 12)
    np.testing.assert_allclose(gW1, x.T @ delta, rtol=1e-4, atol=1e-6)
    assert not gW1[X[rows].sum(axis=0) == 0].any()  # a pixel zero in every image: its row's gradient is 0


def test_the_engines_pixel_lists_give_the_same_loss_and_gradient_as_the_images_bit_for_bit():
    """The engine passes the MLP its images with each one's nonzero pixels listed once (ModelSpec.inputs,
    mlp.Pixels); a batch's index points into these lists instead of scanning its pixels. Same entries, same order:
    the loss, the gradient and the evaluation are bit-for-bit those from the plain images, an all-zero image,
    a NaN pixel (which must still reach the loss) and a repeated row included."""
    rng = np.random.default_rng(5)
    spec = make_model("mlp", hidden=(12,), input_shape=(5, 5), n_classes=3)
    X = np.where(rng.random((8, 25)) < 0.4, rng.random((8, 25)), 0.0).astype(np.float32)
    X[1] = 0.0
    y = rng.integers(0, 3, 8).astype(np.int64)
    P = spec.inputs(X)
    assert isinstance(P, mlp.Pixels)
    for r in range(8):
        (expected,) = np.nonzero(X[r])
        assert list(P.ks[P.starts[r]:P.starts[r + 1]]) == list(expected)
        assert np.array_equal(P.xs[P.starts[r]:P.starts[r + 1]], X[r, expected])
    theta = with_random_biases(spec, spec.init(0, "he"))
    rows = np.array([0, 1, 2, 2, 7, 5, 3], np.int64)
    got = {}
    for name, images in (("images", X), ("pixels", P)):
        work = np.zeros(spec.workspace_size(len(rows)), np.float32)  # fresh: no index left from the other
        grad = np.zeros_like(theta)
        loss = loss_and_grad(spec.kind, spec.dims, theta, images, y, rows, grad, work)
        got[name] = (loss, grad, loss_and_accuracy(spec.kind, spec.dims, theta, images, y, rows, work))
    assert got["images"][0] == got["pixels"][0] and got["images"][2] == got["pixels"][2]
    assert np.array_equal(got["images"][1], got["pixels"][1])

    X[7, 3] = np.nan
    grad = np.zeros_like(theta)
    assert math.isnan(loss_and_grad(spec.kind, spec.dims, theta, spec.inputs(X), y, rows, grad, work))
    assert make_model("cnn").inputs(X) is X, "the CNN takes the images as they are"


# --- an independent forward pass ----------------------------------------------------------------------

def numpy_logits(spec, theta, X):
    """The documented architecture and theta layout, written with NumPy only."""
    blocks = {name: theta[offset:offset + int(np.prod(shape))].reshape(shape).astype(np.float64)
              for name, shape, offset in spec.layout()}
    a = X.astype(np.float64)
    if spec.kind == MLP:
        n_layers = len(spec.dims) - 1
        for i in range(1, n_layers + 1):
            a = a @ blocks[f"W{i}"] + blocks[f"b{i}"]
            if i < n_layers:
                a = np.maximum(a, 0)
        return a

    def conv_relu(inp, kernels, bias):  # inp [n, C, H, W], valid 3x3
        n, _, H, W = inp.shape
        out = np.zeros((n, kernels.shape[0], H - 2, W - 2)) + bias[None, :, None, None]
        for dy in range(3):
            for dx in range(3):
                out += np.einsum("nchw,oc->nohw", inp[:, :, dy:dy + H - 2, dx:dx + W - 2], kernels[:, :, dy, dx])
        return np.maximum(out, 0)

    def pool(a):
        n, C, H, W = a.shape
        a = a[:, :, :H // 2 * 2, :W // 2 * 2]
        return a.reshape(n, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))

    h, w = int(spec.dims[0]), int(spec.dims[1])
    a = a.reshape(-1, 1, h, w)
    a = pool(conv_relu(a, blocks["K1"], blocks["c1"]))
    a = pool(conv_relu(a, blocks["K2"], blocks["c2"]))
    a = a.reshape(len(a), -1)
    a = np.maximum(a @ blocks["W3"] + blocks["b3"], 0)
    return a @ blocks["W4"] + blocks["b4"]


@pytest.mark.parametrize("spec", [make_model("mlp", hidden=(64, 32)), make_model("cnn")], ids=["mlp", "cnn"])
def test_loss_and_accuracy_match_numpy_reference(spec, synth):
    theta = with_random_biases(spec, spec.init(5, "he"))
    rows = np.arange(0, 2000, 7, dtype=np.int64)  # 286 rows: several evaluation chunks
    z = numpy_logits(spec, theta, synth.X_train[rows])
    zmax = z.max(axis=1, keepdims=True)
    log_p = z - zmax - np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
    y = synth.y_train[rows]
    want_loss = -log_p[np.arange(len(rows)), y].mean()
    want_acc = (z.argmax(axis=1) == y).mean()
    work = np.zeros(spec.workspace_size(16), np.float32)
    loss, acc = loss_and_accuracy(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows, work)
    assert loss == pytest.approx(want_loss, rel=1e-4)
    assert acc == pytest.approx(want_acc, abs=2 / len(rows))  # float32 may flip a near-tie
    loss16, _ = grad_of(spec, theta, synth.X_train, synth.y_train, rows[:16])
    assert loss16 == pytest.approx(-log_p[np.arange(16), y[:16]].mean(), rel=1e-4)


def test_evaluation_chunks_do_not_change_the_result(synth):
    spec = make_model("cnn")
    theta = spec.init(0)
    rows = np.arange(1000, dtype=np.int64)
    small = np.zeros(spec.workspace_size(1), np.float32)  # EVAL_CHUNK rows per chunk
    large = np.zeros(spec.workspace_size(1000), np.float32)  # one chunk
    a = loss_and_accuracy(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows, small)
    b = loss_and_accuracy(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows, large)
    assert a == pytest.approx(b, rel=1e-6)
    assert spec.workspace_size(1) == spec.workspace_size(EVAL_CHUNK) < spec.workspace_size(EVAL_CHUNK + 1)


# --- the contract with the engine ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_theta_is_read_only_and_grad_is_overwritten(name, synth):
    spec = make_model(name)
    theta = spec.init(0)
    theta.setflags(write=False)  # numba refuses to compile a store into a read-only array
    before = theta.copy()
    rows = np.arange(16, dtype=np.int64)
    work = np.full(spec.workspace_size(16), np.nan, np.float32)  # stale scratch must not matter
    grad_a = np.full(spec.n_params, 1e30, np.float32)
    grad_b = np.zeros(spec.n_params, np.float32)
    la = loss_and_grad(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows, grad_a, work)
    lb = loss_and_grad(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows, grad_b, work)
    loss_and_accuracy(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows, work)
    assert np.array_equal(theta, before)
    assert la == lb and np.array_equal(grad_a, grad_b)
    assert np.isfinite(grad_a).all()


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_paper_init_starts_at_ln10(name, synth):
    spec = make_model(name)
    theta = spec.init(0, "paper")
    assert theta.dtype == np.float32 and theta.shape == (spec.n_params,)
    weights = np.concatenate([theta[o:o + int(np.prod(s))] for _, s, o in spec.layout() if len(s) > 1])
    biases = np.concatenate([theta[o:o + s[0]] for _, s, o in spec.layout() if len(s) == 1])
    assert weights.std() == pytest.approx(0.01, rel=0.05) and not biases.any()
    work = np.zeros(spec.workspace_size(16), np.float32)
    loss, _ = loss_and_accuracy(spec.kind, spec.dims, theta, synth.X_train, synth.y_train,
                                np.arange(500, dtype=np.int64), work)
    assert loss == pytest.approx(math.log(10), abs=0.02)
    assert np.array_equal(spec.init(0, "paper"), theta) and not np.array_equal(spec.init(1, "paper"), theta)


def test_he_init_scales_with_fan_in():
    spec = make_model("cnn")
    theta = spec.init(0, "he")
    blocks = {name: theta[o:o + int(np.prod(s))] for name, s, o in spec.layout()}
    assert blocks["K2"].std() == pytest.approx(math.sqrt(2 / 36), rel=0.15)
    assert blocks["W3"].std() == pytest.approx(math.sqrt(2 / 200), rel=0.05)
    assert spec.default_init == "he"
    assert make_model("mlp").default_init == "paper"


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_non_finite_theta_gives_non_finite_loss(name, synth):
    spec = make_model(name)
    rows = np.arange(16, dtype=np.int64)
    grad = np.zeros(spec.n_params, np.float32)
    work = np.zeros(spec.workspace_size(16), np.float32)
    for value in (np.nan, np.inf):
        for block in (0, 1, -1):  # first weights, first biases, last biases
            theta = spec.init(0)
            _, shape, offset = spec.layout()[block]
            theta[offset:offset + int(np.prod(shape))] = value
            loss = loss_and_grad(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows, grad, work)
            assert not math.isfinite(loss), (value, block)
            loss, _ = loss_and_accuracy(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows, work)
            assert not math.isfinite(loss), (value, block)


def test_errors_for_bad_buffers(synth):
    spec = make_model("mlp")
    theta = spec.init(0)
    rows = np.arange(16, dtype=np.int64)
    with pytest.raises(ValueError, match="workspace too small"):
        loss_and_grad(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows,
                      np.zeros_like(theta), np.zeros(100, np.float32))
    with pytest.raises(ValueError, match="grad"):
        loss_and_grad(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows,
                      np.zeros(10, np.float32), np.zeros(spec.workspace_size(16), np.float32))


# --- training -----------------------------------------------------------------------------------------

@njit(nogil=True, cache=True)
def sgd(kind, dims, theta, X, y, steps, batch, lr, seed, grad, work):
    """Plain SGD from nopython code, as an engine kernel would run it."""
    np.random.seed(seed)
    rows = np.empty(batch, np.int64)
    for _ in range(steps):
        for i in range(batch):
            rows[i] = np.random.randint(0, len(y))
        loss_and_grad(kind, dims, theta, X, y, rows, grad, work)
        for i in range(len(theta)):
            theta[i] -= lr * grad[i]


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_a_few_hundred_sgd_steps_lower_the_loss(name, synth):
    spec = make_model(name)
    theta = spec.init(0)
    work = np.zeros(spec.workspace_size(16), np.float32)
    rows = np.arange(len(synth.y_train), dtype=np.int64)
    before, _ = loss_and_accuracy(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows, work)
    sgd(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, 600, 16, np.float32(spec.default_lr), 0,
        np.empty_like(theta), work)
    after, acc = loss_and_accuracy(spec.kind, spec.dims, theta, synth.X_train, synth.y_train, rows, work)
    assert after < 0.5 * before
    assert acc > 0.6  # chance is 0.1
