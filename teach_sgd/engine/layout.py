"""Where each shared number lives: the kernels' five arguments, and indices into their arrays.

Kernels and readers agree on these constants and nothing else. Module-level ints are compile-time
constants for numba, so using them costs nothing in the kernels.

Every kernel is `worker(shared, data, logs, model, me)`: five named tuples of arrays. numba passes a named
tuple as a plain struct of its fields (no boxing, no reference counting beyond the arrays' own), compiles
`me.counters` to the same load as a positional argument, and caches kernels that take them (a named
tuple's type is its class and its field types, both importable), so naming the arguments costs nothing:
benchmarks/bench_engine.py measured it against the 21–23 positional arguments it replaced.

`control` (int64) holds the few words every thread touches. Words that are written often (the batch
counter, the clock / version pointer) sit 8 words (64 bytes) apart so that they do not share a cache line
with the flags every loop polls: false sharing would slow every thread down for nothing.
"""
from typing import NamedTuple

import numpy as np


class Shared(NamedTuple):
    """The words every thread reads and writes, and the run's parameters."""
    control: np.ndarray   # int64[CONTROL_WORDS]: flags, counters, the clock / version pointer (atomics only)
    ip: np.ndarray        # int64[INT_PARAMS], read-only during a run
    fp: np.ndarray        # float64[FLOAT_PARAMS], read-only during a run


class Data(NamedTuple):
    """The model kind and shape, the training rows and the order they are taken in (read-only)."""
    kind: object          # models.MLP or models.CNN: a type to numba, so a kernel holds one model's code
    dims: np.ndarray
    X: np.ndarray
    y: np.ndarray
    perm: np.ndarray      # the batch order: a permutation of the rows, its first `batch` entries appended
    eval_rows: np.ndarray


class Logs(NamedTuple):
    """Logs every thread appends to."""
    events: np.ndarray    # int64 ring of EVENT_FIELDS-wide rows (engine/telemetry.py)
    losslog: np.ndarray   # float64 rows of LOSS_FIELDS
    window: np.ndarray    # step rule tail: the staleness histogram observed (engine/stepsize.py)


class Model(NamedTuple):
    """The parameters being trained. Each algorithm uses its own fields; the others are empty arrays, so
    every kernel has the same signature."""
    theta: np.ndarray     # float32[d]: the one shared model (seq, lock, hogwild, sync)
    slab: np.ndarray      # float32[2m + 1, d]: Leashed-SGD's versions (engine/versions.py)
    rc: np.ndarray        # int64[2m + 1]: their reference counts
    mutex: np.ndarray     # uint8[]: LOCK's pthread mutex
    grads: np.ndarray     # float32[m, d]: every thread's gradient buffer (SYNC sums them; Me.grad is a row)


class Me(NamedTuple):
    """One thread's own rows: only this thread writes them (except `hold`, written by the Runner)."""
    tid: int
    counters: np.ndarray  # int64[COUNTERS], C_*
    staleness: np.ndarray
    retries: np.ndarray
    steps: np.ndarray
    audit: np.ndarray     # float64[d] (or [0] without audit)
    grad: np.ndarray      # float32[d]: g
    support: np.ndarray   # int8[ModelSpec.support_rows]: which rows of g may be nonzero (engine/gradient.py)
    work: np.ndarray      # float32: the model's scratch space
    local: np.ndarray     # float32[d]: lock/hogwild's private copy of θ ([0] for the others)
    hold: np.ndarray      # int64[HOLD_WORDS]: breakpoints, freeze and step, from the Runner (engine/phase.py)


# control[] — shared words
STOP = 0            # 1 = every loop ends as soon as it sees it
PAUSE = 8           # 1 = threads park between iterations
BATCH = 16          # next mini-batch ticket (shared atomic batch counter, docs/papers.md §A)
CLOCK = 24          # lock/hogwild: updates published so far (t); leashed: the packed pointer P
DIVERGED = 32       # 1 = a non-finite or exploding loss was seen
NEXT_EVAL = 40      # time (ns) after which the next thread that passes evaluates the loss
LOSS_COUNT = 48     # rows taken in the loss log
EVENT_HEAD = 56     # events taken in the event ring
LIVE = 64           # leashed: live parameter versions (an upper bound at every instant, exact when quiet)
PEAK = 65           # leashed: the largest value LIVE ever had
ALLOCATED = 66      # leashed: slots ever claimed for a candidate (published or not)
TARGET_NS = 72      # time (ns since start) the loss first reached the target, 0 = not yet
APPLYING = 80       # hogwild: applies started (CLOCK counts the finished ones)
PAUSED_NS = 88      # time spent paused so far: deadlines and timestamps leave it out
TAIL_SEEN = 89      # step rule tail: staleness observations taken in the window (engine/stepsize.py)
BARRIER = 90        # sync: the barrier, (round << 16) | threads arrived in this round (engine/sync.py)
STRETCH = 96        # slow motion: every compute and publish window lasts STRETCH × its own time (1 = off)
CONTROL_WORDS = 104

# ip[] — integer parameters (read-only during a run)
P_BATCH = 0
P_PERSISTENCE = 1   # Tp; -1 = ∞
P_MAX_UPDATES = 2   # -1 = no limit
P_MAX_BATCHES = 3   # -1 = no limit (epochs budget)
P_DEADLINE_NS = 4   # absolute monotonic time to stop at; -1 = none
P_T0_NS = 5         # monotonic time the run started
P_EVAL_NS = 6       # loss-evaluation interval
P_TELEMETRY = 7     # 0 = count updates only (for the telemetry-cost benchmark)
P_AUDIT = 8
P_N_TRAIN = 9
P_LOSS_CAP = 10     # rows in the loss log
P_RING = 11         # events in the ring
P_SAMPLE_STRIDE = 12  # hogwild: every k-th line of SAMPLE_LINE coordinates is written with observed exchanges
P_STOP_AT_TARGET = 13
P_STEP = 14         # step-size rule: stepsize.NONE, INVERSE, TAIL, FLEET
P_SPARSE = 15       # hogwild: 1 = write only coordinates whose gradient is non-zero (Niu et al.)
P_TAIL_FROM = 16    # step rule tail: updates with ticket in [FROM, TO) are observed (the window)
P_TAIL_TO = 17
P_THREADS = 18      # m (sync: the barrier's party size and the batch split)
P_CLOCK_SHIFT = 19  # published updates = CLOCK >> P_CLOCK_SHIFT (leashed: SLOT_BITS, the others: 0)
P_DELAY_THREAD = 20  # the delay adversary's thread, -1 = none (engine/phase.py)
P_DELAY_TAU = 21    # … whose every update lands τ = P_DELAY_TAU versions after the one it read
INT_PARAMS = 24

# fp[] — float parameters
F_LR = 0
F_LOSS0 = 1         # loss at θ0 on the evaluation rows
F_DIVERGE = 2       # diverged if loss > F_DIVERGE × F_LOSS0
F_TARGET = 3        # absolute target loss (fraction × F_LOSS0), 0 = none
F_FLEET_BETA = 4    # step rule fleet: β = (2/τ_thr)·ln(1 + τ_thr/2), τ_thr = m + 1
FLOAT_PARAMS = 8

# counters[thread, :] — per-thread telemetry, each row written only by its own thread
C_UPDATES = 0       # updates this thread published (applied)
C_CAS_OK = 1
C_CAS_FAIL = 2
C_DROPPED = 3       # leashed: gradients given up after Tp failed retries
C_GRADS = 4         # gradients computed
C_TAU_SUM = 5
C_TAU_MAX = 6
C_LOCK_WAIT_NS = 7
C_GRAD_NS = 8
C_COPY_NS = 9
C_PUBLISH_NS = 10
C_TORN = 11         # hogwild: reads during which another update was applied (possibly torn views)
C_LOST = 12         # hogwild: sampled writes that overwrote another thread's write (lost updates)
C_SAMPLED = 13      # hogwild: sampled writes
C_EVAL_NS = 14
C_STATE = 15        # what the thread does now: see S_* below
C_ABANDONED = 16    # gradients computed but never applied because the run ended first (stop, budget)
C_BARRIER_NS = 17   # sync: time spent waiting at the barrier for the other threads (pauses left out)
C_WRITTEN = 18      # hogwild: coordinates of θ written (dense: every one; sparse: the non-zero gradient's)
C_PHASE_T0 = 19     # the phase hook: when the current phase began (monotonic ns; 0 = not timed)
C_HELD = 20         # the protocol point (PT_*) where the thread is held right now, + 1; 0 = not held
C_TAU_MIN = 21      # the smallest staleness published, + 1; 0 = nothing published yet
C_DELAYED = 22      # delay adversary: updates held back until τ other updates had been published
C_T_START = 23      # run time (ns) the current update's compute window began: its events' t_start
C_SLOW_T0 = 24      # slow motion: this thread's CPU time when the current phase began (0 = not stretching)
COUNTERS = 32       # 32 int64 = four whole cache lines per row: rows of different threads never share a line

# what a thread is doing (C_STATE), for the live per-thread view
S_IDLE = 0
S_GRADIENT = 1
S_COPY = 2
S_PUBLISH = 3
S_LOCK_WAIT = 4
S_PAUSED = 5
S_DONE = 6
S_BARRIER = 7       # sync: waiting at the barrier
S_HELD = 8          # held at a protocol point (breakpoint, freeze, step): C_HELD says which

# Protocol points: the named places in each algorithm where the phase hook runs (engine/phase.py), so where a
# thread can be held. POINTS (engine/config.py) lists each algorithm's, in the order a thread passes them.
PT_START = 0        # top of an iteration, before taking a mini-batch
PT_READ = 1         # the parameters are read (leashed: P read and referenced; lock/hogwild: θ copied)
PT_COMPUTED = 2     # the gradient is computed
PT_CAS = 3          # leashed: the candidate is built, its CAS comes next
PT_WRITING = 4      # hogwild: the coordinates this update writes are read, not yet written
PT_COUNTED = 5      # hogwild: the update is written and counted
PT_WAITING = 6      # lock: about to wait for the lock to apply
PT_HOLDING = 7      # lock: holding the lock, about to apply
PT_BARRIER = 8      # sync: about to arrive at the barrier
PT_APPLIED = 9      # seq/lock/sync: the update is applied (lock: the lock is still held)
PT_RETRY = 10       # leashed: its CAS failed, it tries again on the newer version
PT_COPIED = 11      # lock: θ is copied, the lock is still held
POINT_NAMES = ("start", "read", "computed", "cas", "writing", "counted", "waiting", "holding", "barrier", "applied",
               "retry", "copied")
# the windows slow motion stretches, named by the point that ends them: each is a window in which another
# thread's action decides a race (a stale gradient, a failed CAS, a lost write, a lock wait), engine/phase.py
STRETCHED = (1 << PT_COMPUTED) | (1 << PT_CAS) | (1 << PT_WRITING) | (1 << PT_APPLIED) | (1 << PT_COPIED)

# hold[] — one thread's control words, written by the Runner and read by the thread at every point
H_WORD = 0          # bit PT_x: hold at point x (a breakpoint); bit FREEZE: hold at the next point, any
H_GO = 1            # bumped by the Runner to let a held thread go (thaw, step, continue, a removed breakpoint)
HOLD_WORDS = 8      # one cache line per thread
FREEZE = 1 << 62

STALENESS_BINS = 65  # τ = 0 … 63, the last bin collects τ ≥ 64
RETRY_BINS = 17      # failed CAS before a publish: 0 … 15, the last bin ≥ 16
STEP_BINS = 21       # effective step as a multiple of η, in bins of 0.1: 0.0, 0.1, … 2.0 (the last ≥ 1.95)
STEP_BIN_WIDTH = 0.1

# One event = 16 int64 = two whole cache lines, so events written by different threads never share a line.
# t_start and time are run time in ns (pauses left out): the compute window began at t_start, the event
# happened at time. wait: LOCK's ns waiting for the lock in this update; lost/torn: HOGWILD!'s sampled writes
# this update overwrote, and 1 if its read overlapped another apply.
EVENT_FIELDS = 16
(E_READY, E_THREAD, E_T_READ, E_T_APPLIED, E_ATTEMPTS, E_TIME, E_OUTCOME, E_T_START, E_WAIT_NS, E_LOST,
 E_TORN) = range(11)
OUTCOME_PUBLISHED = 0
OUTCOME_DROPPED = 1
OUTCOME_ABANDONED = 2
OUTCOME_CAS_FAILED = 3  # leashed: one failed attempt (t_applied = the version it tried to publish on)

LOSS_FIELDS = 4      # seconds, loss, accuracy, ready

# hogwild: the lost-write sample observes whole lines of θ, each one 64-byte cache line of float32 (θ starts on a
# line boundary); P_SAMPLE_STRIDE is counted in these lines (engine/hogwild.py)
SAMPLE_LINE = 16

# leashed: the shared pointer P packs (sequence number t, slot)
SLOT_BITS = 16
SLOT_MASK = (1 << SLOT_BITS) - 1
