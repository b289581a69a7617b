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
BATCH = 16          # next mini-batch ticket (shared atomic batch counter, PAPERS.md §A)
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
CONTROL_WORDS = 96

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
INT_PARAMS = 16

# fp[] — float parameters
F_LR = 0
F_LOSS0 = 1         # loss at θ0 on the evaluation rows
F_DIVERGE = 2       # diverged if loss > F_DIVERGE × F_LOSS0
F_TARGET = 3        # absolute target loss (fraction × F_LOSS0), 0 = none
FLOAT_PARAMS = 4

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
COUNTERS = 24       # 24 int64 = three whole cache lines per row: rows of different threads never share a line

# what a thread is doing (C_STATE), for the live per-thread view
S_IDLE = 0
S_GRADIENT = 1
S_COPY = 2
S_PUBLISH = 3
S_LOCK_WAIT = 4
S_PAUSED = 5
S_DONE = 6

STALENESS_BINS = 65  # τ = 0 … 63, the last bin collects τ ≥ 64
RETRY_BINS = 17      # failed CAS before a publish: 0 … 15, the last bin ≥ 16

EVENT_FIELDS = 8     # ready, thread, t_read, t_applied, attempts, time_ns, outcome, spare
E_READY, E_THREAD, E_T_READ, E_T_APPLIED, E_ATTEMPTS, E_TIME, E_OUTCOME = range(7)
OUTCOME_PUBLISHED = 0
OUTCOME_DROPPED = 1
OUTCOME_ABANDONED = 2

LOSS_FIELDS = 4      # seconds, loss, accuracy, ready

# leashed: the shared pointer P packs (sequence number t, slot)
SLOT_BITS = 16
SLOT_MASK = (1 << SLOT_BITS) - 1
