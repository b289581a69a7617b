"""The complete event stream of a run: every event the kernels write to the ring, drained to memory.

The kernels append one event per published, dropped or abandoned gradient and per failed CAS attempt to a
ring in RunState (engine/telemetry.py, layout.E_*). The ring is small and is overwritten as it wraps, so the
Runner's drainer thread calls `EventLog.drain()` every DRAIN_PERIOD_S while the run goes, and once more after
the threads have ended: every event ends up here, in index order, unless the ring wrapped past it before it
was read. Those are counted in `missed`, never hidden (the dashboard, the CLI summary and the JSON show it).

The log is bounded: it keeps at most EVENT_LOG_BYTES of events (a minute at full speed with many threads writes
millions). When full it drops its older half and goes on, so a long run keeps its newest events; `dropped`
counts the events not kept and `kept_from_s` is the run time of the first one kept: the CLI summary, the JSON,
recordings and the timeline say "events before t=… s not kept (log bound 128 MiB)".

A drain is a few numpy operations on the new events only (a fancy-indexed copy of their rows, two checks of
their `ready` words), so it costs tens of microseconds whatever the ring's size (benchmarks/bench_events.py).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from teach_sgd.engine import layout as L

DRAIN_PERIOD_S = 0.01
# The events kept in memory (and so in a recording) at most: 2.2 million at 60 bytes each. Read when a log is
# made (a test sets a small bound here). Dropping the older half briefly holds the old buffer and the newer
# half together: 1.5 × this at most (engine/runner.py counts it in a run's memory check).
EVENT_LOG_BYTES = 128 << 20

# One event in memory and in recordings (docs/recording-format.md). Times are run time in ns, pauses left out.
EVENT_DTYPE = np.dtype([
    ("k", "<i8"),          # index in the run's event sequence (0, 1, 2, …; gaps = missed events)
    ("t_start", "<i8"),    # the compute window began (the thread read its parameters)
    ("t_end", "<i8"),      # the event happened (publish, failed CAS, drop, abandon)
    ("t_read", "<i8"),     # version read (lock, leashed) / updates applied before the read (hogwild)
    ("t_applied", "<i8"),  # version the update landed on (published v = t_applied + 1) or tried to
    ("wait_ns", "<i8"),    # lock: time spent waiting for the lock in this update
    ("attempts", "<i4"),   # leashed: CAS attempts so far (published: failures + 1)
    ("lost", "<i4"),       # hogwild: sampled writes of this update that overwrote another thread's write
    ("thread", "<i2"),
    ("outcome", "i1"),     # layout.OUTCOME_*
    ("torn", "i1"),        # hogwild: 1 if the read overlapped another thread's apply
])
_COLUMNS = (("t_start", L.E_T_START), ("t_end", L.E_TIME), ("t_read", L.E_T_READ), ("t_applied", L.E_T_APPLIED),
            ("wait_ns", L.E_WAIT_NS), ("attempts", L.E_ATTEMPTS), ("lost", L.E_LOST), ("thread", L.E_THREAD),
            ("outcome", L.E_OUTCOME), ("torn", L.E_TORN))


def to_events(ks: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Ring rows (int64, EVENT_FIELDS wide) as EVENT_DTYPE records."""
    out = np.empty(len(ks), EVENT_DTYPE)
    out["k"] = ks
    for name, col in _COLUMNS:
        out[name] = rows[:, col]
    return out


def empty() -> np.ndarray:
    return np.empty(0, EVENT_DTYPE)


class EventLog:
    """Events drained from one run's ring. `drain()` is called by one thread (the Runner's drainer); `events()`
    and the counts may be read from any thread."""

    def __init__(self, state):
        self.state = state
        self.ring = state.ring_size
        self.missed = 0
        self.recorded = 0
        self._next = 0                                # first index not looked at yet
        self._pending = np.empty(0, np.int64)         # indices whose writer had not finished at the last drain
        self._held = empty()                          # whole events after the oldest pending one: kept back
        self._buf = empty()                           # grows by doubling; [:recorded - dropped] is the stream
        self._lock = threading.Lock()
        self.limit = max(2, EVENT_LOG_BYTES // EVENT_DTYPE.itemsize)  # events kept at most
        self.dropped = 0                              # the oldest events, not kept (the log was full)
        self.kept_from_s: float | None = None         # run time of the first event kept, once some were dropped

    def drain(self) -> int:
        """Copy out the events written since the last drain; returns how many were taken."""
        head = self.state.event_head()
        ks = np.concatenate((self._pending, np.arange(self._next, head, dtype=np.int64)))
        self._next = head
        alive = ks >= head - self.ring
        gone = int(len(ks) - np.count_nonzero(alive))
        ks = ks[alive]
        rows, ready_after = self.state.events_at(ks)
        want = ks + 1
        whole = (rows[:, L.E_READY] == want) & (ready_after == want)
        # A row that is not whole is either still being written by its own writer (read it next time) or
        # already reused by a writer one lap later, i.e. the ring wrapped past it (missed). The head, read
        # again now, tells which: a later lap has claimed slot k only if head > k + ring.
        later = ~whole & (ks >= self.state.event_head() - self.ring)
        self._pending = ks[later]
        gone += int(np.count_nonzero(~whole & ~later))
        return self._release(to_events(ks[whole], rows[whole]), gone)

    def _release(self, taken: np.ndarray, gone: int) -> int:
        """Append, in index order, the events that no pending event precedes; hold the others back until it
        is read or known lost. The stream then only ever grows at its end (no re-sorting of what views
        already handed out show), and holding back costs a drain or two: a writer finishes in nanoseconds."""
        if len(self._held):
            taken = np.concatenate((self._held, taken))
            taken = taken[np.argsort(taken["k"], kind="stable")]
        if len(self._pending):
            cut = int(np.searchsorted(taken["k"], self._pending.min()))
            taken, self._held = taken[:cut], taken[cut:]
        else:
            self._held = empty()
        with self._lock:
            self.missed += gone
            if len(taken):
                self._append(taken)
        return len(taken)

    def finish(self) -> None:
        """The last drain, once no thread writes any more: whatever is still pending was overwritten."""
        self.drain()
        lost = len(self._pending)
        self._pending = self._pending[:0]
        self._release(empty(), lost)

    def _append(self, taken: np.ndarray) -> None:
        n = self.kept
        new = n + len(taken)
        buf = self._buf
        if new > self.limit:  # full: keep the newest half of the bound, in a new buffer (views stay as they were)
            keep = self.limit // 2
            drop = new - keep
            old = max(0, n - drop)  # events of the log that stay
            buf = np.empty(self.limit, EVENT_DTYPE)
            buf[:old] = self._buf[n - old:n]
            buf[old:keep] = taken[len(taken) - (keep - old):]
            self._buf, self.dropped = buf, self.dropped + drop
            self.recorded += len(taken)
            self.kept_from_s = float(buf[0]["t_end"]) * 1e-9 if keep else None
            return
        if new > len(buf):
            buf = np.empty(min(self.limit, max(new, 2 * len(buf), 4096)), EVENT_DTYPE)
            buf[:n] = self._buf[:n]
        buf[n:new] = taken
        self._buf = buf
        self.recorded += len(taken)

    @property
    def kept(self) -> int:
        """Events the log holds now: every one taken, less the oldest it dropped."""
        return self.recorded - self.dropped

    @property
    def nbytes(self) -> int:
        """The bytes the log's buffer holds now (at most EVENT_LOG_BYTES)."""
        return self._buf.nbytes

    def newest(self, limit: int) -> "KeptEvents":
        """The newest `limit` events kept so far, as a copy that outlives this log (a lesson's finished runs)."""
        events = self.events()
        if len(events) <= limit:
            return KeptEvents(events.copy(), self.missed, self.kept_from_s)
        tail = events[-limit:].copy()
        return KeptEvents(tail, self.missed, float(tail[0]["t_end"]) * 1e-9, f"the newest {limit:,} kept")

    def events(self) -> np.ndarray:
        """The events kept so far (all taken, unless the log dropped its oldest), in index order: a read-only view
        that never changes (later drains append beyond it or into a new buffer)."""
        with self._lock:
            view = self._buf[:self.kept]
        view.flags.writeable = False
        return view


def dropped_note(kept_from_s: float | None, bound: str | None = None) -> str:
    """What a view of a log that dropped its oldest events says of them ('' when it kept every event); `bound`
    names the limit that dropped them (the log's own by default)."""
    if kept_from_s is None:
        return ""
    return f"events before t={kept_from_s:.2f} s not kept ({bound or f'log bound {EVENT_LOG_BYTES / 2**20:g} MiB'})"


@dataclass(frozen=True)
class KeptEvents:
    """A finished run's newest events, kept after its Runner is gone (a lesson's runs, for the timeline): the
    events, the run's missed count, and where the kept ones begin (`kept_from_s`, None = from the start) and why
    (`bound`, for dropped_note)."""

    events: np.ndarray
    missed: int
    kept_from_s: float | None
    bound: str | None = None

