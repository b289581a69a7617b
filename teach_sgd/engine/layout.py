"""Where each shared number lives: indices into the RunState arrays.

Kernels and readers agree on these constants and nothing else. Module-level ints are compile-time
constants for numba, so using them costs nothing in the kernels.

`control` (int64) holds the few words every thread touches. Words that are written often (the batch
counter, the clock / version pointer) sit 8 words (64 bytes) apart so that they do not share a cache line
with the flags every loop polls: false sharing would slow every thread down for nothing.
"""

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
P_SAMPLE_STRIDE = 12  # hogwild: every k-th coordinate is written with an observed exchange
P_STOP_AT_TARGET = 13
P_STEP = 14         # step-size rule: stepsize.NONE, INVERSE, TAIL, FLEET
P_SPARSE = 15       # hogwild: 1 = write only coordinates whose gradient is non-zero (Niu et al.)
P_TAIL_FROM = 16    # step rule tail: updates with ticket in [FROM, TO) are observed (the window)
P_TAIL_TO = 17
P_THREADS = 18      # m (sync: the barrier's party size and the batch split)
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
COUNTERS = 24       # 24 int64 = three whole cache lines per row: rows of different threads never share a line

# what a thread is doing (C_STATE), for the live per-thread view
S_IDLE = 0
S_GRADIENT = 1
S_COPY = 2
S_PUBLISH = 3
S_LOCK_WAIT = 4
S_PAUSED = 5
S_DONE = 6
S_BARRIER = 7       # sync: waiting at the barrier

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

# leashed: the shared pointer P packs (sequence number t, slot)
SLOT_BITS = 16
SLOT_MASK = (1 << SLOT_BITS) - 1
