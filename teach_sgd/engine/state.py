"""RunState: every array a run shares between its worker threads and its readers, preallocated.

Built once from a RunConfig before any thread starts; kernels receive the arrays, grouped in the five named
tuples of layout.py, and readers copy them. Nothing here is resized or replaced while threads run.
"""
from __future__ import annotations

import math

import numpy as np

from teach_sgd.data import Dataset
from teach_sgd.engine import layout as L
from teach_sgd.engine import stepsize
from teach_sgd.engine.telemetry import read_events, read_loss
from teach_sgd.engine.config import STEPS, RunConfig
from teach_sgd.engine.inputs import model_inputs
from teach_sgd.engine.native import ffi, lib, new_mutex
from teach_sgd.engine.result import ThreadStats, Versions
from teach_sgd.engine.versions import copy_latest, pack
from teach_sgd.models import ModelSpec, loss_and_accuracy

LOSS_CAP = 20_000     # loss samples kept (at 20 Hz: over 16 minutes)
# Events the ring holds between two drains (engine/events.py drains every 10 ms). 64 threads on 2 cores write
# ~40,000 events/s at full speed; a UI redraw can hold the GIL (and so the drainer) for ~150 ms: 65,536 events
# (8 MB) leave more than a second of slack (tests/test_events.py, benchmarks/bench_events.py).
EVENT_RING = 1 << 16
# hogwild: observe every 797th line of 16 coordinates (layout.SAMPLE_LINE), a different set each update
# (engine/hogwild.py): 8 lines, 128 coordinate writes, per update of the 101,770-parameter MLP. The observing
# exchange is a locked instruction that waits for the stores before it and for its own line; one per line is
# the cost (every 1009th coordinate, 101 lines per update, cost HOGWILD! 2 threads 5.6% of its throughput with
# telemetry on; benchmarks/README.md). Prime, as the older coordinate stride was: no alignment with layer sizes.
SAMPLE_STRIDE = 797


# the per-thread telemetry arrays, in the order ThreadStats.from_rows takes their rows
TELEMETRY_ARRAYS = ("counters", "staleness", "retries", "steps")
TELEMETRY_INTS = L.COUNTERS + L.STALENESS_BINS + L.RETRY_BINS + L.STEP_BINS  # int64 per thread in those arrays


def thread_stats_of(telemetry: dict[str, np.ndarray]) -> tuple[ThreadStats, ...]:
    rows = [telemetry[name] for name in TELEMETRY_ARRAYS]
    return tuple(ThreadStats.from_rows(i, *(r[i] for r in rows)) for i in range(len(rows[0])))


def cache_aligned_zeros(shape, dtype) -> np.ndarray:
    """A zeroed array whose data starts on a 64-byte cache-line boundary (numpy promises only 16 bytes).
    Per-thread rows padded to whole cache lines (layout.COUNTERS) then never share a line between threads:
    a shared line would bounce between the cores on every counter update (false sharing)."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    raw = np.zeros(count * dtype.itemsize + 64, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + count * dtype.itemsize].view(dtype).reshape(shape)


def memory_needed(config: RunConfig, model: ModelSpec) -> dict[str, int]:
    """The bytes RunState allocates for this run, by part, computed without allocating anything (the Runner
    refuses a run that does not fit before it builds the state: teach_sgd/memory.py). Mirrors __init__."""
    m, d = config.threads, model.n_params
    if config.algo == "leashed":
        versions = (2 * m + 1) * d * 4                     # the slab: K = 2m + 1 float32 vectors
    else:
        versions = d * 4 * (1 + (m if config.algo in ("lock", "hogwild") else 0))  # θ and private copies
    per_thread = m * (d * 4 + model.workspace_size(config.batch) * 4 + (d * 8 if config.audit else 0)
                      + (TELEMETRY_INTS + L.HOLD_WORDS) * 8)
    return {"parameter versions": versions + d * 4,  # + θ0
            "per-thread gradients and buffers": per_thread,
            "event ring and loss log": EVENT_RING * L.EVENT_FIELDS * 8 + LOSS_CAP * L.LOSS_FIELDS * 8}


class RunState:
    def __init__(self, config: RunConfig, model: ModelSpec, data: Dataset):
        self.config = config
        self.model = model
        self.data = data
        m = config.threads
        d = model.n_params
        rng = np.random.default_rng(config.seed)
        n = data.X_train.shape[0]

        self.theta0 = model.init(config.seed, config.init) if config.init else model.init(config.seed)
        order = rng.permutation(n).astype(np.int64)
        self.perm = np.concatenate([order, order[: config.batch]])
        self.eval_rows = np.sort(rng.choice(n, size=min(config.eval_samples, n), replace=False)).astype(np.int64)
        self.test_rows = np.arange(data.X_test.shape[0], dtype=np.int64)
        # the images as the model's kernels take them (for the MLP with each image's nonzero pixels listed)
        self.X_train, self.X_test = model_inputs(model, data, "train"), model_inputs(model, data, "test")

        self.control = cache_aligned_zeros(L.CONTROL_WORDS, np.int64)
        self.ip = np.zeros(L.INT_PARAMS, np.int64)
        self.fp = np.zeros(L.FLOAT_PARAMS, np.float64)
        self.counters = cache_aligned_zeros((m, L.COUNTERS), np.int64)
        self.staleness = np.zeros((m, L.STALENESS_BINS), np.int64)
        self.retries = np.zeros((m, L.RETRY_BINS), np.int64)
        self.steps = np.zeros((m, L.STEP_BINS), np.int64)      # effective step per update, multiples of η
        self.window = np.zeros(L.STALENESS_BINS, np.int64)     # step rule tail: the staleness observed
        self.events = cache_aligned_zeros(EVENT_RING * L.EVENT_FIELDS, np.int64)  # one event = one line
        self.losslog = np.zeros(LOSS_CAP * L.LOSS_FIELDS, np.float64)
        self.audit = np.zeros((m, d if config.audit else 0), np.float64)
        self.grad = np.zeros((m, d), np.float32)
        self.support = np.ones((m, model.support_rows), np.int8)  # all may be nonzero: the first gradient writes all
        self.hold = cache_aligned_zeros((m, L.HOLD_WORDS), np.int64)  # breakpoints (engine/phase.py)
        self.work = np.zeros((m, model.workspace_size(config.batch)), np.float32)

        # every algorithm gets every field of layout.Model; what it does not use is empty
        self.theta = np.zeros(0, np.float32)
        self.slab = np.zeros((0, d), np.float32)
        self.rc = np.zeros(0, np.int64)
        self.mutex = np.zeros(0, np.uint8)
        self.local = np.zeros((m, d if config.algo in ("lock", "hogwild") else 0), np.float32)
        if config.algo == "leashed":
            # K = 2m + 1 slots: the bound on live versions (engine/versions.py), so a claim always succeeds
            k = 2 * m + 1
            self.slab = np.zeros((k, d), np.float32)
            self.rc = np.zeros(k, np.int64)
            self.slab[0] = self.theta0
            self.rc[0] = 1  # P's reference
            self.control[L.CLOCK] = pack(0, 0)
            self.control[L.LIVE] = 1
            self.control[L.PEAK] = 1
        else:
            self.theta = cache_aligned_zeros(d, np.float32)  # line i of the lost-write sample is one cache line
            self.theta[:] = self.theta0
            if config.algo == "lock":
                self.mutex = new_mutex()

        ip, fp = self.ip, self.fp
        ip[L.P_BATCH] = config.batch
        ip[L.P_PERSISTENCE] = -1 if config.persistence is None else config.persistence
        ip[L.P_MAX_UPDATES] = config.updates if config.updates is not None else -1
        ip[L.P_MAX_BATCHES] = math.ceil(config.epochs * n / config.batch) if config.epochs else -1
        ip[L.P_DEADLINE_NS] = -1
        ip[L.P_EVAL_NS] = int(config.eval_every_s * 1e9)
        ip[L.P_TELEMETRY] = int(config.telemetry)
        ip[L.P_AUDIT] = int(config.audit)
        ip[L.P_N_TRAIN] = n
        ip[L.P_LOSS_CAP] = LOSS_CAP
        ip[L.P_RING] = EVENT_RING
        self.control[L.STRETCH] = config.stretch
        ip[L.P_SAMPLE_STRIDE] = SAMPLE_STRIDE
        ip[L.P_STOP_AT_TARGET] = int(config.target_loss is not None)
        ip[L.P_STEP] = STEPS.index(config.step)
        ip[L.P_SPARSE] = int(config.writes == "sparse")
        ip[L.P_TAIL_FROM], ip[L.P_TAIL_TO] = (w * m for w in stepsize.TAIL_WINDOW)
        ip[L.P_THREADS] = m
        ip[L.P_CLOCK_SHIFT] = L.SLOT_BITS if config.algo == "leashed" else 0
        ip[L.P_DELAY_THREAD], ip[L.P_DELAY_TAU] = config.delay if config.delay else (-1, 0)
        fp[L.F_FLEET_BETA] = stepsize.fleet_beta(m)
        fp[L.F_LR] = config.lr
        fp[L.F_DIVERGE] = config.diverge_factor

        self.loss_initial, _ = self.evaluate(self.theta0)
        fp[L.F_LOSS0] = self.loss_initial
        fp[L.F_TARGET] = config.target_loss * self.loss_initial if config.target_loss else 0.0

    # ---- what the kernels get -------------------------------------------------------------------
    def kernel_args(self, tid: int) -> tuple:
        """Thread `tid`'s arguments: every kernel is worker(shared, data, logs, model, me) (layout.py)."""
        data = L.Data(self.model.kind, self.model.dims, self.X_train, self.data.y_train, self.perm, self.eval_rows)
        me = L.Me(tid, self.counters[tid], self.staleness[tid], self.retries[tid], self.steps[tid], self.audit[tid],
                  self.grad[tid], self.support[tid], self.work[tid], self.local[tid], self.hold[tid])
        return (L.Shared(self.control, self.ip, self.fp), data, L.Logs(self.events, self.losslog, self.window),
                L.Model(self.theta, self.slab, self.rc, self.mutex, self.grad), me)

    def start_clock(self, t0_ns: int) -> None:
        self.ip[L.P_T0_NS] = t0_ns
        self.control[L.NEXT_EVAL] = t0_ns + self.ip[L.P_EVAL_NS]
        if self.config.seconds:
            self.ip[L.P_DEADLINE_NS] = int(self.config.seconds * 1e9)  # run time, pauses not counted

    # ---- reading --------------------------------------------------------------------------------
    def evaluate(self, theta: np.ndarray, test: bool = False) -> tuple[float, float]:
        X, y, rows = (self.X_test, self.data.y_test, self.test_rows) if test else \
            (self.X_train, self.data.y_train, self.eval_rows)
        work = np.zeros(self.model.workspace_size(self.config.batch), np.float32)
        loss, acc = loss_and_accuracy(self.model.kind, self.model.dims, theta, X, y, rows, work)
        return float(loss), float(acc)

    def current_theta(self) -> np.ndarray:
        """The model as it stands (leashed: the latest published version), whole even while workers that have
        not seen the stop yet still run (Runner.end_stopped, for the algorithms in CAN_LEAVE; SEQ and SYNC are
        called once their threads are done): Leashed-SGD's latest version is copied without a reference and
        kept only if no publish came in between (versions.copy_latest); LOCK's θ is copied under its own
        mutex; HOGWILD!'s θ is copied as any of its threads reads it, racing with the writes (that is the
        algorithm)."""
        if self.config.algo == "leashed":
            out = np.empty(self.slab.shape[1], np.float32)
            while not copy_latest(self.control, self.slab, out):
                pass  # a publish came in between: the next copy is of a newer version
            return out
        if self.config.algo == "lock":
            mutex = ffi.from_buffer(self.mutex)
            lib.ts_mutex_lock(mutex)  # a left worker may hold it: it releases it within one apply
            try:
                return self.theta.copy()
            finally:
                lib.ts_mutex_unlock(mutex)
        return self.theta.copy()

    def published(self) -> int:
        word = int(self.control[L.CLOCK])
        return word >> L.SLOT_BITS if self.config.algo == "leashed" else word

    def versions(self) -> Versions:
        m = self.config.threads
        if self.config.algo == "leashed":
            live = int(self.control[L.LIVE])
            return Versions(live=live, peak=int(self.control[L.PEAK]), bound=2 * m + 1,
                            allocated_total=int(self.control[L.ALLOCATED]) + 1)
        held = 1 if self.config.algo in ("seq", "sync") else m + 1  # sync reads θ itself: no private copies
        return Versions(live=held, peak=held, bound=held, allocated_total=held)

    def live_slots(self) -> int:
        """Slots with a reference right now, counted directly in the slab (leashed only)."""
        return int(np.count_nonzero(self.rc > 0)) if self.config.algo == "leashed" else self.versions().live

    def telemetry(self) -> dict[str, np.ndarray]:
        """Copies of the per-thread arrays (TELEMETRY_ARRAYS): all a snapshot's thread numbers come from, and
        what a recording stores per sample, so a replay rebuilds them with the same `thread_stats_of`."""
        return {name: getattr(self, name).copy() for name in TELEMETRY_ARRAYS}

    def thread_stats(self) -> tuple[ThreadStats, ...]:
        return thread_stats_of(self.telemetry())

    def loss_rows(self, start: int) -> list[tuple[float, float, float]]:
        """Loss samples from index `start` on that are completely written, in log order."""
        count = min(int(self.control[L.LOSS_COUNT]), LOSS_CAP)
        # read_loss stops at the first row still being written (it is read next time); acquire loads, ARM-safe
        return [(float(t), float(loss), float(acc)) for t, loss, acc in read_loss(self.losslog, start, count)]

    ring_size = EVENT_RING

    def event_head(self) -> int:
        """Events taken from the ring so far (some may still be being written)."""
        return int(self.control[L.EVENT_HEAD])

    def events_at(self, ks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the ring rows of events `ks`, and their `ready` words read again after the copy. Row i
        holds event ks[i] whole only if both say ks[i] + 1 (the seqlock of engine/telemetry.py, read with
        acquire loads and a fence by `read_events`); only the rows asked for are copied, so a drain costs
        what it reads, not the ring's size."""
        return read_events(self.events, np.ascontiguousarray(ks, np.int64), EVENT_RING)

    def time_to_target_s(self) -> float | None:
        ns = int(self.control[L.TARGET_NS])
        return ns * 1e-9 if ns > 0 else None

    @property
    def diverged(self) -> bool:
        return bool(self.control[L.DIVERGED])
