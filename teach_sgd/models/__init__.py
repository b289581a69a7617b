"""The two models of the Leashed-SGD paper, as numba code on one flat float32 parameter vector.

    spec = make_model("mlp", hidden=(128,))          # or make_model("cnn")
    theta = spec.init(seed=0)
    grad = np.empty_like(theta); work = np.empty(spec.workspace_size(16), np.float32)
    loss = loss_and_grad(spec.kind, spec.dims, theta, X, y, rows, grad, work)   # inside @njit code too
    X_fast = spec.inputs(X)  # what the engine passes instead of X: the same results, the MLP's batches faster

A model is just (kind, dims, theta): kernels take those three, so one compiled kernel serves every size of a
model. `kind` (MLP or CNN) is a type to numba: each model gets its own compiled kernels.
mlp.py and cnn.py hold the whole forward and backward pass of each, and document the layout of theta.
"""
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit
from numba.core.errors import TypingError
from numba.extending import overload

from . import cnn, mlp

__all__ = ["MLP", "CNN", "ModelSpec", "make_model", "loss_and_grad", "loss_and_accuracy", "support_width", "EVAL_CHUNK"]


class Mlp(NamedTuple):
    """The model kind is a *type*, not a number. numba compiles a function once per argument types, so a
    kernel called with MLP contains only the MLP's code: an MLP run never waits for the CNN to compile (the
    CNN's code was over half of a first run's compile time), and each compiled kernel is cached per model."""
    id: int = 0


class Cnn(NamedTuple):
    id: int = 1


MLP = Mlp()
CNN = Cnn()


def _per_model(mlp_impl, cnn_impl):
    """`f(kind, *args)` for numba code: the model's own function, chosen while numba types the caller."""
    def by_kind(kind, *args):
        raise TypeError("call this from numba-compiled code")

    @overload(by_kind, jit_options={"nogil": True})
    def _typed(kind, *args):
        impl = {Mlp: mlp_impl, Cnn: cnn_impl}.get(getattr(kind, "instance_class", None))
        if impl is None:
            raise TypingError(f"the model kind must be MLP or CNN, got {kind}")
        return lambda kind, *args: impl(*args)

    return by_kind


_loss_and_grad = _per_model(mlp.loss_and_grad, cnn.loss_and_grad)
_forward = _per_model(mlp.forward, cnn.forward)
_workspace_floats = _per_model(mlp.workspace_floats, cnn.workspace_floats)
support_width = _per_model(mlp.support_width, cnn.support_width)
_support_rows = _per_model(mlp.support_rows, cnn.support_rows)

# Each model's init when a run names none (ModelSpec.default_init; make_model's docstring says why).
DEFAULT_INIT = {"mlp": "paper", "cnn": "he"}

# loss_and_accuracy evaluates in chunks of as many rows as the workspace holds; workspace_size(batch)
# always makes room for at least this many, so evaluation never runs one tiny chunk at a time.
EVAL_CHUNK = 64


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """Everything a kernel needs to know about a model besides theta.

    default_init and default_lr are what make_model measured to work with plain single-threaded SGD at
    batch 16 (loss down to ~25% of the initial within a few thousand updates on the bundled MNIST).
    """
    name: str
    kind: int
    dims: np.ndarray
    n_params: int
    default_init: str = "paper"
    default_lr: float = 0.05

    @property
    def architecture(self) -> str:
        """'mlp 784-128-10' (layer widths), 'cnn 28×28→10' (input and classes: the layers are fixed)."""
        d = [int(v) for v in self.dims]
        return f"mlp {'-'.join(map(str, d))}" if self.kind == MLP else f"cnn {d[0]}×{d[1]}→{d[-1]}"

    def workspace_size(self, batch: int) -> int:
        """float32 scratch elements for loss_and_grad on `batch` rows and for loss_and_accuracy on any
        number of rows (evaluated in chunks of at least max(batch, EVAL_CHUNK) rows)."""
        rows = max(int(batch), EVAL_CHUNK)
        if self.kind == MLP:
            return int(mlp.workspace_floats(self.dims, rows))
        return int(cnn.workspace_floats(self.dims, rows))

    @property
    def support_rows(self) -> int:
        """How many row flags a gradient's support has (loss_and_grad): the MLP's inputs, none for the CNN."""
        return int(mlp.support_rows(self.dims)) if self.kind == MLP else int(cnn.support_rows(self.dims))

    def inputs(self, X: np.ndarray):
        """The images as this model's kernels take them fastest: for the MLP, X with each image's nonzero
        pixels listed once (mlp.Pixels: a mini-batch's index then points into these lists, no scan); for the CNN, X.
        The kernels take plain X too (the tests do); the engine makes this once per dataset."""
        return mlp.index_pixels(X) if self.kind == MLP else X

    def layout(self) -> list[tuple[str, tuple[int, ...], int]]:
        """(name, shape, offset in theta) of every weight and bias block, in storage order."""
        d = [int(v) for v in self.dims]
        if self.kind == MLP:
            blocks = []
            for i in range(len(d) - 1):
                blocks += [(f"W{i + 1}", (d[i], d[i + 1])), (f"b{i + 1}", (d[i + 1],))]
        else:
            C1, C2, F, K = d[2:6]
            *_, P2h, P2w = cnn.shapes(self.dims)
            blocks = [("K1", (C1, 1, 3, 3)), ("c1", (C1,)), ("K2", (C2, C1, 3, 3)), ("c2", (C2,)),
                      ("W3", (C2 * P2h * P2w, F)), ("b3", (F,)), ("W4", (F, K)), ("b4", (K,))]
        out, offset = [], 0
        for name, shape in blocks:
            out.append((name, shape, offset))
            offset += int(np.prod(shape))
        return out

    def init(self, seed: int, scheme: str | None = None) -> np.ndarray:
        """A fresh float32 theta. scheme "paper": weights N(0, 0.01^2), biases 0, as in the paper.
        "he": weights N(0, 2 / fan_in) (He et al. 2015), biases 0. None: this model's default_init."""
        scheme = self.default_init if scheme is None else scheme
        if scheme not in ("paper", "he"):
            raise ValueError(f"unknown init scheme {scheme!r}; choose 'paper' or 'he'")
        rng = np.random.default_rng(seed)
        theta = np.zeros(self.n_params, dtype=np.float32)
        for name, shape, offset in self.layout():
            if len(shape) == 1:
                continue  # biases start at 0
            fan_in = int(np.prod(shape[1:])) if self.kind == CNN and name.startswith("K") else shape[0]
            std = 0.01 if scheme == "paper" else np.sqrt(2.0 / fan_in)
            size = int(np.prod(shape))
            theta[offset:offset + size] = rng.normal(0.0, std, size)
        return theta


def make_model(name: str, hidden: tuple[int, ...] = (128,), input_shape=(28, 28), n_classes=10) -> ModelSpec:
    """The paper's MLP (input -> hidden... ReLU -> n_classes) or CNN (hidden[0], if given, is the width of
    its FC layer; 128 in the paper).

    Default init and step size, measured with plain single-threaded SGD at batch 16 on the bundled MNIST
    subset (updates until the training loss is 25% / 10% of its initial value):

    - MLP 784-128-10: "paper" init, lr 0.05: 400 / 1,400 updates (lr 0.01: 1,600 / >3,000; He init trains
      as well). It keeps the paper's N(0, 0.01^2). Single-threaded it still learns at lr 1.0 and collapses to
      chance (dead ReLUs, loss ~2.33) from lr 2.0.
    - CNN: "he" init, lr 0.05: 200 / 300 updates (lr 0.01: 300 / 1,200). From the paper's N(0, 0.01^2) it
      does not learn at all: 4,000-6,000 updates at lr 0.01 to 0.5 left the loss at ln 10. Through four
      layers of 0.01-sized weights the logits vary ~1e-5 as much as from He init and the weight gradients
      are ~1e-4 of theirs, so SGD sits on the plateau. Its default is therefore He init; "paper" stays
      available to show exactly that. From He init it collapses from lr 0.5.
    """
    hidden = tuple(int(h) for h in hidden)
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 2 or min(input_shape) < 1:
        raise ValueError(f"input_shape must be (rows, columns) of positive sizes, got {input_shape}")
    if int(n_classes) < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    if any(h < 1 for h in hidden):
        raise ValueError(f"hidden layer widths must be positive, got {hidden}")
    if name == "mlp":
        dims = np.array([input_shape[0] * input_shape[1], *hidden, n_classes], dtype=np.int64)
        return ModelSpec("mlp", MLP, dims, mlp.n_params(dims), default_init=DEFAULT_INIT["mlp"], default_lr=0.05)
    if name == "cnn":
        if len(hidden) > 1:
            raise ValueError(f"the CNN has one hidden FC layer; give one width, not {hidden}")
        dims = np.array([*input_shape, 4, 8, hidden[0] if hidden else 128, n_classes], dtype=np.int64)
        if min(cnn.shapes(dims)) < 1:
            raise ValueError(f"input_shape {input_shape} is too small for the CNN (needs at least 10x10)")
        return ModelSpec("cnn", CNN, dims, cnn.n_params(dims), default_init=DEFAULT_INIT["cnn"], default_lr=0.05)
    raise ValueError(f"unknown model {name!r}; choose 'mlp' or 'cnn'")


@njit(nogil=True, cache=True, inline="always")  # see engine/warmup.py: compile time
def loss_and_grad(kind, dims, theta, X, y, rows, grad, work, support=None):
    """Mean cross-entropy over X[rows] (float64), and grad overwritten with its gradient. theta is only
    read. work needs at least workspace_size(len(rows)) elements.

    support: None, or grad's row flags (int8[ModelSpec.support_rows]), which let this call and whoever applies
    the gradient skip rows that are 0. The first support_rows · support_width(kind, dims) coordinates of grad
    are rows of support_width; flag k is 0 only if row k of grad is all 0. On entry the flags describe grad as
    it is (a new buffer: all 1, so any content is fine), on return the new gradient; rows flagged 0 on both
    were not written. The MLP's rows are W1's: an input absent from the whole batch (47% of MNIST's pixels in
    a batch of 16) gives its row a gradient of 0. Without support every coordinate is written."""
    n = len(rows)
    if n == 0:
        raise ValueError("empty mini-batch")
    if len(work) < _workspace_floats(kind, dims, n):
        raise ValueError("workspace too small for this batch; size it with ModelSpec.workspace_size(batch)")
    if len(grad) != len(theta):
        raise ValueError("grad must have as many elements as theta")
    if support is not None and len(support) != _support_rows(kind, dims):
        raise ValueError("support must have one flag per row; size it with ModelSpec.support_rows")
    return _loss_and_grad(kind, dims, theta, X, y, rows, grad, work, support)


@njit(nogil=True, cache=True)
def rows_that_fit(kind, dims, length):
    """How many samples a workspace of `length` floats holds: each model's workspace is affine in the block's
    length (mlp.workspace_floats, cnn.workspace_floats)."""
    empty = _workspace_floats(kind, dims, 0)
    return (length - empty) // (_workspace_floats(kind, dims, 1) - empty)


@njit(nogil=True, cache=True)
def loss_and_accuracy(kind, dims, theta, X, y, rows, work):
    """(mean cross-entropy, accuracy) over X[rows], any number of rows, in chunks of as many rows as work
    holds (at least max(batch, EVAL_CHUNK) when work has workspace_size(batch) elements)."""
    chunk = rows_that_fit(kind, dims, len(work))
    if chunk < 1:
        raise ValueError("workspace too small; size it with ModelSpec.workspace_size(batch)")
    total = 0.0
    correct = 0
    for start in range(0, len(rows), chunk):
        block = rows[start:start + chunk]
        logits = _forward(kind, dims, theta, X, block, work)
        loss, c = mlp.softmax_xent(logits, y, block, 0.0)
        total += loss * len(block)
        correct += c
    n = max(len(rows), 1)
    return total / n, correct / n
