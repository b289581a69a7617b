"""The convolutional network of the Leashed-SGD paper, for 28x28 grey images:

    conv 3x3, 1 -> C1 (valid, ReLU) -> maxpool 2 -> conv 3x3, C1 -> C2 (valid, ReLU) -> maxpool 2
    -> flatten -> FC F (ReLU) -> FC K -> softmax cross-entropy

dims = [H, W, C1, C2, F, K], [28, 28, 4, 8, 128, 10] in the paper: 28x28 -> 4x26x26 -> 4x13x13 -> 8x11x11
-> 8x5x5 = 200 -> 128 -> 10. Pooling floors odd sizes (11 -> 5): the last row and column are dropped, as in
the usual frameworks.

Parameter layout in the flat float32 vector theta:

    K1 [C1, 1, 3, 3], c1 [C1], K2 [C2, C1, 3, 3], c2 [C2], W3 [flat, F], b3 [F], W4 [F, K], b4 [K]

with flat = C2 * P2h * P2w in (channel, row, column) order, and W3, W4 input-major as in mlp.py, whose dense
layers and softmax the head reuses.

The same rules as mlp.py hold: nopython, nogil, cached, no allocation, theta read-only. Convolutions run
one sample at a time; the head runs on the whole block, so that each FC weight row is read once per block.

A convolution's output is stored at its *input's* row width: row y of a 26x26 output occupies 28 slots, the
last 2 unused. Then output position q and input position q + dy*W_in + dx line up for every q, so a 3x3
convolution is 9 multiply-adds of one long contiguous run per channel pair (hundreds of elements, which
vectorize) instead of many rows of 26 or 11. The unused slots are never read forward and hold exact zeros
in the backward pass, so they add nothing to any gradient.

Workspace per sample: the conv activations a1 [C1, H1*W], p1 [C1, P1h*P1w], a2 [C2, H2*P1w], then the
sample's rows of the head's [n, flat], [n, F], [n, K] blocks; after them the dense layers' scratch
(mlp.narrow_scratch), part fixed, part per sample. The backward pass turns every stored activation into its
gradient in place, as in mlp.py.
"""
import numpy as np
from numba import njit

from .mlp import FAST, dense_backward, dense_forward, dot, narrow_scratch, softmax_xent


@njit(nogil=True, cache=True)
def _sizes(dims):
    H, W, C1, C2, F, K = dims[0], dims[1], dims[2], dims[3], dims[4], dims[5]
    H1, W1 = H - 2, W - 2
    P1h, P1w = H1 // 2, W1 // 2
    H2, W2 = P1h - 2, P1w - 2
    P2h, P2w = H2 // 2, W2 // 2
    return H, W, C1, C2, F, K, H1, W1, P1h, P1w, H2, W2, P2h, P2w


def shapes(dims):
    """(H1, W1, P1h, P1w, H2, W2, P2h, P2w): sizes after conv1, pool1, conv2, pool2."""
    return tuple(int(v) for v in _sizes(np.asarray(dims, dtype=np.int64))[6:])


def n_params(dims) -> int:
    C1, C2, F, K = (int(d) for d in dims[2:6])
    *_, P2h, P2w = shapes(dims)
    return C1 * 9 + C1 + C2 * C1 * 9 + C2 + C2 * P2h * P2w * F + F + F * K + K


@njit(nogil=True, cache=True)
def workspace_floats(dims, n):
    """Every layer's outputs for a block of n samples, then the dense layers' scratch (mlp.narrow_scratch)."""
    H, W, C1, C2, F, K, H1, W1, P1h, P1w, H2, W2, P2h, P2w = _sizes(dims)
    f3, s3 = narrow_scratch(C2 * P2h * P2w, F)
    f4, s4 = narrow_scratch(F, K)
    return n * (C1 * H1 * W + C1 * P1h * P1w + C2 * H2 * P1w + C2 * P2h * P2w + F + K + max(s3, s4)) + max(f3, f4)


@njit(nogil=True, cache=True)
def support_rows(dims):
    """The CNN's gradient has no rows that are flagged: every coordinate of it is written."""
    return 0


@njit(nogil=True, cache=True)
def support_width(dims):
    """The CNN's gradient has no rows that are flagged (ModelSpec.support_rows is 0)."""
    return 0


@njit(nogil=True, cache=True)
def split_theta(dims, theta):
    H, W, C1, C2, F, K, H1, W1, P1h, P1w, H2, W2, P2h, P2w = _sizes(dims)
    flat = C2 * P2h * P2w
    p = 0
    K1 = theta[p:p + C1 * 9].reshape((C1, 1, 3, 3))
    p += C1 * 9
    c1 = theta[p:p + C1]
    p += C1
    K2 = theta[p:p + C2 * C1 * 9].reshape((C2, C1, 3, 3))
    p += C2 * C1 * 9
    c2 = theta[p:p + C2]
    p += C2
    W3 = theta[p:p + flat * F].reshape((flat, F))
    p += flat * F
    b3 = theta[p:p + F]
    p += F
    W4 = theta[p:p + F * K].reshape((F, K))
    p += F * K
    b4 = theta[p:p + K]
    return K1, c1, K2, c2, W3, b3, W4, b4


@njit(nogil=True, cache=True)
def split_workspace(dims, n, work):
    H, W, C1, C2, F, K, H1, W1, P1h, P1w, H2, W2, P2h, P2w = _sizes(dims)
    flat = C2 * P2h * P2w
    o = 0
    a1 = work[o:o + n * C1 * H1 * W].reshape((n, C1, H1 * W))
    o += n * C1 * H1 * W
    p1 = work[o:o + n * C1 * P1h * P1w].reshape((n, C1, P1h * P1w))
    o += n * C1 * P1h * P1w
    a2 = work[o:o + n * C2 * H2 * P1w].reshape((n, C2, H2 * P1w))
    o += n * C2 * H2 * P1w
    fl = work[o:o + n * flat].reshape((n, flat))
    o += n * flat
    h = work[o:o + n * F].reshape((n, F))
    o += n * F
    z = work[o:o + n * K].reshape((n, K))
    o += n * K
    return a1, p1, a2, fl, h, z, work[o:workspace_floats(dims, n)]


@njit(nogil=True, cache=True, fastmath=FAST)
def conv3x3_forward(inp, w_in, kernels, bias, out, h_out):
    """out[o] = ReLU(bias[o] + sum_c inp[c] (*) kernels[o, c]): valid 3x3 cross-correlation of one sample.
    inp [C_in, rows * w_in] and out [C_out, h_out * w_in] are planes of row width w_in."""
    span = (h_out - 1) * w_in + w_in - 2  # up to the last valid output position
    for o in range(out.shape[0]):
        dst = out[o, :span]
        for q in range(span):
            dst[q] = bias[o]
        for c in range(inp.shape[0]):
            for dy in range(3):
                for dx in range(3):
                    w = kernels[o, c, dy, dx]
                    # A shifted slice rather than src[q + off]: numba would otherwise check every index
                    # for negative wrap-around, and that check alone made the loop 3x slower.
                    src = inp[c, dy * w_in + dx:dy * w_in + dx + span]
                    for q in range(span):
                        dst[q] += w * src[q]
        for q in range(span):
            if dst[q] < 0.0:  # NaN passes, see mlp.relu_inplace
                dst[q] = 0.0


@njit(nogil=True, cache=True)
def window_argmax(plane, w, i, j):
    """Index in plane (row width w) of the largest value of the 2x2 window at pooled position (i, j). The
    first maximum wins ties, and a NaN wins over numbers so that divergence reaches the loss. Forward and
    backward both use this, so each gradient goes exactly where its forward value came from."""
    best = 2 * i * w + 2 * j
    for q in (best + 1, best + w, best + w + 1):
        if not (plane[q] <= plane[best]):
            best = q
    return best


@njit(nogil=True, cache=True)
def maxpool_forward(a, w, out, ph, pw):
    """out[c, i*pw + j] = max of the 2x2 window (i, j) of plane a[c] (row width w)."""
    for c in range(out.shape[0]):
        for i in range(ph):
            for j in range(pw):
                out[c, i * pw + j] = a[c, window_argmax(a[c], w, i, j)]


@njit(nogil=True, cache=True)
def maxpool_backward(a, w, d_out, ph, pw, mask_relu):
    """Overwrite a (a pooled ReLU output, row width w) with its gradient: each window's d_out goes to its
    argmax and every other slot, pooled away or unused, gets an exact 0. With mask_relu, a window whose
    maximum the ReLU clipped to 0 passes nothing."""
    for c in range(a.shape[0]):
        plane = a[c]
        for i in range(ph):
            for j in range(pw):
                best = window_argmax(plane, w, i, j)
                g = d_out[c, i * pw + j]
                if mask_relu and not (plane[best] > 0.0):
                    g = 0.0
                q = 2 * i * w + 2 * j
                plane[q] = 0.0
                plane[q + 1] = 0.0
                plane[q + w] = 0.0
                plane[q + w + 1] = 0.0
                plane[best] = g
            for x in range(2 * pw, w):  # the right-hand columns that pooling dropped, in both rows
                plane[2 * i * w + x] = 0.0
                plane[(2 * i + 1) * w + x] = 0.0
        for q in range(2 * ph * w, len(plane)):
            plane[q] = 0.0


@njit(nogil=True, cache=True, fastmath=FAST)
def conv3x3_backward(inp, w_in, kernels, d_out, h_out, g_kernels, g_bias, d_inp):
    """Accumulate one sample's kernel and bias gradients; when d_inp has channels, overwrite it with
    dLoss/d(inp). d_inp may be inp itself: inp is no longer read once the kernel gradients are done.
    The unused slots of d_out must be 0 (maxpool_backward leaves them so)."""
    span = (h_out - 1) * w_in + w_in - 2
    for o in range(d_out.shape[0]):
        d = d_out[o, :span]
        s = np.float32(0.0)
        for q in range(span):
            s += d[q]
        g_bias[o] += s
        for c in range(inp.shape[0]):
            for dy in range(3):
                for dx in range(3):
                    g_kernels[o, c, dy, dx] += dot(d, inp[c, dy * w_in + dx:dy * w_in + dx + span])
    if d_inp.shape[0] == 0:
        return
    d_inp[:] = 0.0
    for o in range(d_out.shape[0]):
        d = d_out[o, :span]
        for c in range(d_inp.shape[0]):
            for dy in range(3):
                for dx in range(3):
                    w = kernels[o, c, dy, dx]
                    dst = d_inp[c, dy * w_in + dx:dy * w_in + dx + span]
                    for q in range(span):
                        dst[q] += w * d[q]


@njit(nogil=True, cache=True)
def forward(dims, theta, X, rows, work):
    """Run the block X[rows] through the network; returns the logits [n, K], a view into work."""
    n = len(rows)
    if X.shape[1] != dims[0] * dims[1]:
        raise ValueError("X has a different number of pixels than the model's input")
    H, W, C1, C2, F, K, H1, W1, P1h, P1w, H2, W2, P2h, P2w = _sizes(dims)
    K1, c1, K2, c2, W3, b3, W4, b4 = split_theta(dims, theta)
    a1, p1, a2, fl, h, z, scratch = split_workspace(dims, n, work)
    for b in range(n):
        img = X[rows[b]].reshape((1, H * W))
        conv3x3_forward(img, W, K1, c1, a1[b], H1)
        maxpool_forward(a1[b], W, p1[b], P1h, P1w)
        conv3x3_forward(p1[b], P1w, K2, c2, a2[b], H2)
        maxpool_forward(a2[b], P1w, fl[b].reshape((C2, P2h * P2w)), P2h, P2w)
    dense_forward(fl, W3, b3, h, True, scratch)
    dense_forward(h, W4, b4, z, False, scratch)
    return z


@njit(nogil=True, cache=True)
def loss_and_grad(dims, theta, X, y, rows, grad, work, support=None):
    # support has no rows (ModelSpec.support_rows): every coordinate of the CNN's gradient is written
    n = len(rows)  # the arguments were checked by models.loss_and_grad
    H, W, C1, C2, F, K, H1, W1, P1h, P1w, H2, W2, P2h, P2w = _sizes(dims)
    z = forward(dims, theta, X, rows, work)
    loss, _ = softmax_xent(z, y, rows, 1.0 / n)

    K1, c1, K2, c2, W3, b3, W4, b4 = split_theta(dims, theta)
    gK1, gc1, gK2, gc2, gW3, gb3, gW4, gb4 = split_theta(dims, grad)
    a1, p1, a2, fl, h, _, scratch = split_workspace(dims, n, work)
    dense_backward(h, W4, z, gW4, gb4, scratch)
    # fl is a max-pool of ReLU outputs, which equals a ReLU of the pooled pre-activations, so the ReLU
    # mask dense_backward applies to its input is the right one for the conv2 pre-activations. Then per
    # sample, top down, each activation buffer is overwritten with its gradient.
    dense_backward(fl, W3, h, gW3, gb3, scratch)
    gK1[:] = 0.0
    gc1[:] = 0.0
    gK2[:] = 0.0
    gc2[:] = 0.0
    no_grad = a1[0, 0:0]  # conv1 needs no gradient for the image
    for b in range(n):
        maxpool_backward(a2[b], P1w, fl[b].reshape((C2, P2h * P2w)), P2h, P2w, False)
        conv3x3_backward(p1[b], P1w, K2, a2[b], H2, gK2, gc2, p1[b])
        maxpool_backward(a1[b], W, p1[b], P1h, P1w, True)
        img = X[rows[b]].reshape((1, H * W))
        conv3x3_backward(img, W, K1, a1[b], H1, gK1, gc1, no_grad)
    return loss
