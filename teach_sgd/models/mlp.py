"""The multi-layer perceptron of the Leashed-SGD paper: 784 -> hidden... (ReLU) -> 10, softmax cross-entropy.

Everything here runs inside the engine's worker threads, so every function is nopython, nogil and cached,
allocates nothing, and only reads `theta`: in Leashed-SGD the vector a thread computes on is a published
version that other threads read at the same time.

Parameter layout in the flat float32 vector theta, for dims = [d0, d1, ..., dL] (d0 = 784, dL = 10), layer
by layer:

    W1 [d0, d1] row-major, b1 [d1], W2 [d1, d2], b2 [d2], ..., WL [d(L-1), dL], bL [dL]

W is stored input-major (row k holds all weights leaving input k) so that the hot loops run over contiguous
memory: the forward pass adds x[k] * W[k, :] to a row of outputs, and the weight gradient is a sum of
x[k] * delta[:] rows. About 80% of MNIST pixels are exactly 0, and both passes of the first layer skip
zero pixels, which skips the work and the memory traffic of their W1 rows. (So a NaN in a W1 row whose
pixel is 0 throughout the batch does not reach the loss, exactly as it has no effect on the output;
SGD itself never changes such a row, since its gradient is 0.)

Workspace (see workspace_floats): the batch's nonzero pixels indexed twice (by sample for the forward pass —
with Pixels, only where each image's list lies — and by input for the weight gradient), then every layer's
outputs, then scratch for the narrow layers (below). The backward pass overwrites each layer's outputs with
their gradients in place, so no second buffer is needed.

Support. Row k of W1's gradient is 0 when no image of the batch has pixel k (47% of the rows in MNIST batches
of 16). Given the gradient buffer's support flags (models.loss_and_grad), input_weight_grad leaves a row that is
0 already alone, and the engine's applies skip it: the weight gradient took 18.4 µs instead of 21.7–23.5, the
apply 6.3 instead of 8.7–10.1 (benchmarks/README.md, 2026-12-05).

Narrow layers. A dense layer above the first with fewer than NARROW outputs (the 10 classes) is computed with
its weights transposed into scratch: row by row, its outputs are vectors of 10, which a core's 8- or 16-wide
vector registers cover badly, and its input gradient is a dot product of length 10 per input and sample (2,048
of them for 784-128-10 at batch 16). Transposed, every multiply-add loop runs over the layer's inputs (128
there): in step_profile.py, that layer's forward pass took 2.0 µs instead of 3.9, its backward pass 3.6 instead
of 10.3, the passes of four and two in add_rows included (benchmarks/README.md, 2026-12-05).
"""
import math
from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import overload

# 'reassoc' lets LLVM vectorise the dot-product reductions. Deliberately no 'nnan'/'ninf': a diverged
# model must produce a NaN/inf loss that the engine can see, not whatever LLVM assumes instead.
FAST = {"reassoc", "contract", "nsz", "arcp"}


def n_params(dims) -> int:
    return int(sum(int(dims[i]) * int(dims[i + 1]) + int(dims[i + 1]) for i in range(len(dims) - 1)))


NARROW = 16  # a dense layer above the first with fewer outputs is computed transposed (module docstring)


@njit(nogil=True, cache=True)
def narrow_scratch(n_in, n_out):
    """The scratch a dense layer needs, as (floats, floats per sample of the block): for a narrow one, its
    weights and its weight gradient transposed ([n_out, n_in] each), the block's output gradients transposed
    (n_out per sample) and one row of input gradients, in that order (narrow_backward). Workspaces reserve the
    largest of each part over their layers, which keeps a workspace's size affine in the block's length
    (models.rows_that_fit relies on it)."""
    if n_out >= NARROW:
        return 0, 0
    return 2 * n_in * n_out + n_in, n_out


@njit(nogil=True, cache=True)
def workspace_floats(dims, n):
    """Workspace for a block of n samples: the two indexes of its nonzero pixels (by sample: n firsts and n
    ends, then pixel numbers and values, each up to n * d0 long, used when the images are scanned; by input:
    d0 + 1 starts, then sample numbers and values), then every layer's outputs, [n, d] per layer, then the
    scratch of the dense layers above the first (narrow_scratch)."""
    d0 = dims[0]
    fixed, per_sample = 0, 0
    for i in range(2, len(dims)):
        f, s = narrow_scratch(dims[i - 1], dims[i])
        fixed, per_sample = max(fixed, f), max(per_sample, s)
    return 2 * n + (d0 + 1) + n * (4 * d0 + output_floats(dims) + per_sample) + fixed


@njit(nogil=True, cache=True)
def output_floats(dims):
    """Floats per sample of every layer's outputs."""
    total = 0
    for i in range(1, len(dims)):
        total += dims[i]
    return total


@njit(nogil=True, cache=True)
def support_rows(dims):
    """How many rows a gradient's support flags (models.loss_and_grad): W1's, one per input."""
    return dims[0]


@njit(nogil=True, cache=True)
def support_width(dims):
    """Floats per row of the rows a gradient's support flags (models.loss_and_grad): W1's, one per input."""
    return dims[1]


@njit(nogil=True, cache=True)
def int32s(work, start, count):
    """count int32 slots in work[start:start + count]: the contract hands out one float scratch array (float32
    in the engine, float64 in the gradient tests, where the view holds twice as many: cut to count)."""
    return work[start:start + count].view(np.int32)[:count]


@njit(nogil=True, cache=True)
def split_workspace(dims, n, work):
    """(by_sample, by_input, outputs, scratch) as views into work: the room for the by-sample index (firsts,
    ends, ids, values: index_batch fills it), the by-input index (starts, ids, values: nonzeros_by_input)."""
    d0 = dims[0]
    m = n * d0
    base = 2 * n + d0 + 1
    by_sample = (int32s(work, 0, n), int32s(work, n, n), int32s(work, base, m), work[base + m:base + 2 * m])
    by_input = (int32s(work, 2 * n, d0 + 1), int32s(work, base + 2 * m, m), work[base + 3 * m:base + 4 * m])
    end = base + 4 * m + n * output_floats(dims)
    return by_sample, by_input, work[base + 4 * m:end], work[end:workspace_floats(dims, n)]


@njit(nogil=True, cache=True, fastmath=FAST)
def dense_forward(A, W, bias, out, relu, scratch):
    """out[b, :] = (relu)(A[b, :] @ W + bias) for a block of samples, W given as [n_in, n_out]; scratch is at
    least what narrow_scratch asks for."""
    n_in, n_out = W.shape
    if n_out < NARROW:
        # out[b, j] = W's column j · A[b]: dot products over the inputs, on W transposed
        WT = transposed(W, scratch)
        for b in range(out.shape[0]):
            for j in range(n_out):
                out[b, j] = dot(A[b], WT[j]) + bias[j]
    else:
        # Sample outermost, eight weight rows per pass (add_rows). No skipping of zero activations, unlike
        # the input layer: about half of the ReLU outputs are 0 in no predictable pattern, and the
        # mispredicted branches cost more than the rows they would skip.
        for b in range(out.shape[0]):
            o = out[b]
            for j in range(n_out):
                o[j] = bias[j]
            add_rows(o, W, None, A[b], 0, n_in)
    if relu:
        relu_inplace(out)


@njit(nogil=True, cache=True, fastmath=FAST, inline="always")
def dot(a, b):
    s = np.float32(0.0)
    for k in range(a.shape[0]):
        s += a[k] * b[k]
    return s


@njit(nogil=True, cache=True)
def transposed(M, scratch):
    """M [r, c] copied transposed into the start of scratch; returns that [c, r] view."""
    r, c = M.shape
    T = scratch[:r * c].reshape((c, r))
    for i in range(r):
        for j in range(c):
            T[j, i] = M[i, j]
    return T


@njit(nogil=True, cache=True)
def nonzeros_by_sample(X, rows, index):
    """Index the mini-batch's nonzero pixels sample by sample: entries firsts[b]..ends[b]-1 of (ks, xs), with
    (firsts, ends, ks, xs) = index, are the inputs k with X[rows[b], k] != 0 and those pixel values.

    With ~80% zero pixels, the first layer's passes then loop only over real work, and without a
    data-dependent branch in the inner loop (a mispredicted branch per pixel cost more than the arithmetic
    it saved). Each image is read along its row: contiguous memory."""
    firsts, ends, ks, xs = index
    count = 0
    for b in range(len(rows)):
        firsts[b] = count
        x = X[rows[b]]
        for k in range(X.shape[1]):
            # Written unconditionally and kept only if nonzero: branch-free.
            ks[count] = k
            xs[count] = x[k]
            count += x[k] != 0.0
        ends[b] = count
    return index


class Pixels(NamedTuple):
    """A dataset's images with each image's nonzero pixels listed once, when the dataset is loaded: image r's
    are entries starts[r]..starts[r+1]-1 of (ks, xs), input numbers and values. A mini-batch's index then points
    into these lists: no scan of its pixels (which was 10 of a step's ~81 µs), and no copy of its lists either
    (which was 7 of ~71 µs; benchmarks/README.md, 2026-12-05)."""
    X: np.ndarray       # [n, d0], the images themselves
    starts: np.ndarray  # int64 [n + 1]
    ks: np.ndarray      # int32, input numbers
    xs: np.ndarray      # X's dtype, the pixel values


def index_pixels(X: np.ndarray) -> Pixels:
    nonzero = X != 0  # NaN counts as nonzero, as in nonzeros_by_sample: a NaN image must reach the loss
    starts = np.zeros(len(X) + 1, np.int64)
    np.cumsum(nonzero.sum(axis=1), out=starts[1:])
    if starts[-1] > np.iinfo(np.int32).max:  # a batch's index holds these offsets as int32 (split_workspace)
        raise ValueError(f"{starts[-1]:,} nonzero pixels are more than the pixel lists can index; use fewer images")
    images, ks = np.nonzero(nonzero)  # row by row, inputs in order within a row
    return Pixels(X, starts, ks.astype(np.int32), X[images, ks])


@njit(nogil=True, cache=True)
def nonzeros_of_pixels(P, rows, index):
    """nonzeros_by_sample from the dataset's Pixels: each sample's entries are its image's own list."""
    firsts, ends = index[0], index[1]
    for b in range(len(rows)):
        firsts[b] = P.starts[rows[b]]
        ends[b] = P.starts[rows[b] + 1]
    return firsts, ends, P.ks, P.xs


def index_batch(X, rows, index):
    """The mini-batch's by-sample index (firsts, ends, ks, xs), from the images (a scan into `index`, the
    workspace's room for it) or from their Pixels (their lists)."""
    raise TypeError("call this from numba-compiled code")


@overload(index_batch, jit_options={"nogil": True})
def _index_batch(X, rows, index):
    if isinstance(X, types.Array):
        return lambda X, rows, index: nonzeros_by_sample(X, rows, index)
    return lambda X, rows, index: nonzeros_of_pixels(X, rows, index)


def images(X):
    """The images as one 2-D array, given that array or Pixels."""
    raise TypeError("call this from numba-compiled code")


@overload(images, jit_options={"nogil": True})
def _images(X):
    if isinstance(X, types.Array):
        return lambda X: X
    return lambda X: X.X


@njit(nogil=True, cache=True)
def nonzeros_by_input(by_sample, index):
    """The same entries regrouped by input (a counting sort): entries starts[k]..starts[k+1]-1 of
    (starts, bs, xs) = index are the samples b whose pixel k is nonzero, in order of b, and those values.
    The weight gradient of input k's row sums over exactly these."""
    firsts, ends, ks, s_xs = by_sample
    starts, bs, xs = index
    n, d0 = len(firsts), len(starts) - 1  # split_workspace cuts both to their length
    for k in range(d0 + 1):
        starts[k] = 0
    for b in range(n):
        for e in range(firsts[b], ends[b]):
            starts[ks[e] + 1] += 1
    for k in range(d0):
        starts[k + 1] += starts[k]
    # starts[k] is now where input k's entries begin; each placement moves it on by one, so afterwards
    # starts[k] holds where input k's entries end, which is where input k + 1's begin: shift back by one.
    for b in range(n):
        for e in range(firsts[b], ends[b]):
            p = starts[ks[e]]
            bs[p] = b
            xs[p] = s_xs[e]
            starts[ks[e]] = p + 1
    for k in range(d0, 0, -1):
        starts[k] = starts[k - 1]
    starts[0] = 0


@njit(nogil=True, cache=True, inline="always")
def row(M, ids, e):
    """Row ids[e] of M, or row e when ids is None (numba compiles each case without the other)."""
    if ids is None:
        return M[e]
    return M[ids[e]]


@njit(nogil=True, cache=True, fastmath=FAST, inline="always")
def add_rows(out, M, ids, xs, lo, hi):
    """out += Σ xs[e] · M[ids[e]] for e in lo..hi-1 (M[e] when ids is None).

    Eight rows per pass over out: a core loads two or three vectors per cycle but stores one or two, so a
    loop that stored out after every row was bound by its stores; adding eight rows before each store of
    out stores an eighth as often (benchmarks/README.md has what it gained)."""
    e = lo
    while e + 8 <= hi:
        m0, m1, m2, m3 = row(M, ids, e), row(M, ids, e + 1), row(M, ids, e + 2), row(M, ids, e + 3)
        m4, m5, m6, m7 = row(M, ids, e + 4), row(M, ids, e + 5), row(M, ids, e + 6), row(M, ids, e + 7)
        x0, x1, x2, x3 = xs[e], xs[e + 1], xs[e + 2], xs[e + 3]
        x4, x5, x6, x7 = xs[e + 4], xs[e + 5], xs[e + 6], xs[e + 7]
        for j in range(out.shape[0]):
            out[j] += ((x0 * m0[j] + x1 * m1[j] + x2 * m2[j] + x3 * m3[j])
                       + (x4 * m4[j] + x5 * m5[j] + x6 * m6[j] + x7 * m7[j]))
        e += 8
    # The rest (up to 7 rows) in passes of four, two and one: the weight gradient's rows each add only the few
    # samples that have that pixel (5.7 on average in MNIST batches of 16), so most of its rows are all rest.
    # Written as while loops on purpose: as ifs (each runs at most once), LLVM made the whole weight gradient
    # twice as slow (63 µs against 27, benchmarks/README.md 2026-12-05).
    while e + 4 <= hi:
        m0, m1, m2, m3 = row(M, ids, e), row(M, ids, e + 1), row(M, ids, e + 2), row(M, ids, e + 3)
        x0, x1, x2, x3 = xs[e], xs[e + 1], xs[e + 2], xs[e + 3]
        for j in range(out.shape[0]):
            out[j] += (x0 * m0[j] + x1 * m1[j]) + (x2 * m2[j] + x3 * m3[j])
        e += 4
    while e + 2 <= hi:
        m0, m1, x0, x1 = row(M, ids, e), row(M, ids, e + 1), xs[e], xs[e + 1]
        for j in range(out.shape[0]):
            out[j] += x0 * m0[j] + x1 * m1[j]
        e += 2
    while e < hi:
        m, x = row(M, ids, e), xs[e]
        for j in range(out.shape[0]):
            out[j] += x * m[j]
        e += 1


@njit(nogil=True, cache=True, fastmath=FAST)
def input_forward(by_sample, W, bias, out, relu):
    """dense_forward for the first layer, from the nonzeros_by_sample index of the mini-batch: each output
    row is the bias plus x·W[k] for the sample's nonzero pixels k."""
    firsts, ends, ks, xs = by_sample
    for b in range(out.shape[0]):
        o = out[b]
        for j in range(out.shape[1]):
            o[j] = bias[j]
        add_rows(o, W, ks, xs, firsts[b], ends[b])
    if relu:
        relu_inplace(out)


@njit(nogil=True, cache=True)
def relu_inplace(out):
    for b in range(out.shape[0]):
        for j in range(out.shape[1]):
            # `< 0` and not `max(v, 0)`: NaN must pass through so divergence stays visible.
            if out[b, j] < 0.0:
                out[b, j] = 0.0


@njit(nogil=True, cache=True, fastmath=FAST)
def dense_backward(A, W, D, gW, gb, scratch):
    """Given D = dLoss/d(layer output) [n, n_out] and the layer input A [n, n_in], itself a ReLU output:
    write gW and gb, then overwrite A with dLoss/d(pre-activation of A). scratch as for dense_forward."""
    n, n_in = A.shape
    n_out = D.shape[1]
    for j in range(n_out):
        gb[j] = 0.0
    for b in range(n):
        for j in range(n_out):
            gb[j] += D[b, j]
    if n_out < NARROW:
        narrow_backward(A, W, D, gW, scratch)
        return
    # gW[k] = Σ_b A[b, k] · D[b]: the block's rows of D, eight per pass (add_rows)
    for k in range(n_in):
        g = gW[k]
        for j in range(n_out):
            g[j] = 0.0
        add_rows(g, D, None, A[:, k], 0, n)
    for b in range(n):
        a = A[b]
        for k in range(n_in):
            s = dot(D[b], W[k])
            a[k] = s if a[k] > 0.0 else np.float32(0.0)


@njit(nogil=True, cache=True, fastmath=FAST)
def narrow_backward(A, W, D, gW, scratch):
    """dense_backward's gW and input gradient for a narrow layer, each a sum of rows of length n_in."""
    n, n_in = A.shape
    n_out = D.shape[1]
    # W is transposed again, not taken from dense_forward's scratch: the narrow layers share one scratch, so a
    # later layer's forward pass has overwritten it (1,280 floats to move for the 10 classes)
    WT = transposed(W, scratch)
    rest = scratch[n_in * n_out:]
    GT = rest[:n_out * n_in].reshape((n_out, n_in))
    DT = transposed(D, rest[n_out * n_in:])
    row_grad = rest[n_out * (n_in + n):n_out * (n_in + n) + n_in]
    # gW's column j = Σ_b D[b, j] · A[b]
    for j in range(n_out):
        g = GT[j]
        for k in range(n_in):
            g[k] = 0.0
        add_rows(g, A, None, DT[j], 0, n)
    for k in range(n_in):
        for j in range(n_out):
            gW[k, j] = GT[j, k]
    # the input gradient of sample b = Σ_j D[b, j] · W's column j, through A's ReLU
    for b in range(n):
        for k in range(n_in):
            row_grad[k] = 0.0
        add_rows(row_grad, WT, None, D[b], 0, n_out)
        a = A[b]
        for k in range(n_in):
            a[k] = row_grad[k] if a[k] > 0.0 else np.float32(0.0)


@njit(nogil=True, cache=True, fastmath=FAST)
def input_weight_grad(by_input, D, gW, gb, support):
    """dense_backward for the first layer, from the nonzeros_by_input index: gradients only, since nothing
    lies below the input. Row k of gW is Σ x·D[b] over the samples b whose pixel k is nonzero, and 0 when no
    sample has pixel k. With `support` (loss_and_grad), a row that is 0 already is left alone."""
    n, n_out = D.shape
    for j in range(n_out):
        gb[j] = 0.0
    for b in range(n):
        for j in range(n_out):
            gb[j] += D[b, j]
    starts = by_input[0]
    for k in range(gW.shape[0]):
        lo, hi = starts[k], starts[k + 1]
        if lo < hi or support is None or support[k]:
            g = gW[k]
            for j in range(n_out):
                g[j] = 0.0
            add_rows(g, D, by_input[1], by_input[2], lo, hi)
    # flagged apart from the loop above: storing a flag in it made LLVM compile the loop 40% slower
    if support is not None:
        for k in range(gW.shape[0]):
            support[k] = starts[k] < starts[k + 1]


@njit(nogil=True, cache=True)
def softmax_xent(Z, y, rows, grad_scale):
    """Mean cross-entropy of the logits Z [n, K] against y[rows], and the number of correct argmax
    predictions. When grad_scale != 0, Z is overwritten with grad_scale * (softmax(Z) - onehot(y)), the
    gradient of (grad_scale * summed loss) with respect to the logits."""
    n, K = Z.shape
    total = 0.0
    correct = 0
    for b in range(n):
        z = Z[b]
        label = y[rows[b]]
        best = 0
        for c in range(1, K):
            # `not <=` so that a NaN logit is chosen: the NaN then reaches the loss.
            if not (z[c] <= z[best]):
                best = c
        m = np.float64(z[best])
        total += m - np.float64(z[label])
        if best == label:
            correct += 1
        # each exponential once (they are most of this function's time), kept in z until the sum is known
        s = 0.0
        for c in range(K):
            e = math.exp(np.float64(z[c]) - m)
            s += e
            if grad_scale != 0.0:
                z[c] = e
        total += math.log(s)
        if grad_scale != 0.0:
            for c in range(K):
                z[c] = grad_scale * (z[c] / s - (1.0 if c == label else 0.0))
    return total / n, correct


@njit(nogil=True, cache=True)
def forward(dims, theta, X, rows, work):
    """Run the block X[rows] through the network; returns the logits [n, dL], a view into work."""
    room, _, outputs, scratch = split_workspace(dims, len(rows), work)
    return layers_forward(dims, theta, batch_index(dims, X, rows, room), outputs, scratch)


@njit(nogil=True, cache=True)
def batch_index(dims, X, rows, room):
    """index_batch, once X is known to fit the model."""
    if images(X).shape[1] != dims[0]:
        raise ValueError("X has a different number of features than the model's input")
    return index_batch(X, rows, room)


@njit(nogil=True, cache=True)
def layers_forward(dims, theta, by_sample, outputs, scratch):
    """The forward pass of the block that by_sample indexes; returns the logits [n, dL], a view into outputs."""
    n = len(by_sample[0])
    L = len(dims) - 1
    p = 0
    o = 0
    prev = outputs[0:0].reshape((0, 0))
    for i in range(L):
        d_in = dims[i]
        d_out = dims[i + 1]
        W = theta[p:p + d_in * d_out].reshape((d_in, d_out))
        bias = theta[p + d_in * d_out:p + d_in * d_out + d_out]
        p += d_in * d_out + d_out
        out = outputs[o:o + n * d_out].reshape((n, d_out))
        o += n * d_out
        if i == 0:
            input_forward(by_sample, W, bias, out, L > 1)
        else:
            dense_forward(prev, W, bias, out, i < L - 1, scratch)
        prev = out
    return prev


@njit(nogil=True, cache=True)
def loss_and_grad(dims, theta, X, y, rows, grad, work, support=None):
    n = len(rows)  # the arguments were checked by models.loss_and_grad
    room, by_input, outputs, scratch = split_workspace(dims, n, work)
    by_sample = batch_index(dims, X, rows, room)
    Z = layers_forward(dims, theta, by_sample, outputs, scratch)
    loss, _ = softmax_xent(Z, y, rows, 1.0 / n)

    # Back from the top layer: theta/grad offsets and layer outputs are counted down from their ends.
    nonzeros_by_input(by_sample, by_input)
    p = len(theta)
    o = len(outputs)
    for i in range(len(dims) - 2, -1, -1):
        d_in = dims[i]
        d_out = dims[i + 1]
        p -= d_in * d_out + d_out
        W = theta[p:p + d_in * d_out].reshape((d_in, d_out))
        gW = grad[p:p + d_in * d_out].reshape((d_in, d_out))
        gb = grad[p + d_in * d_out:p + d_in * d_out + d_out]
        D = outputs[o - n * d_out:o].reshape((n, d_out))
        o -= n * d_out
        if i == 0:
            input_weight_grad(by_input, D, gW, gb, support)
        else:
            A = outputs[o - n * d_in:o].reshape((n, d_in))
            dense_backward(A, W, D, gW, gb, scratch)
    return loss
