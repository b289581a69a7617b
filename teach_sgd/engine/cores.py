"""How much of the time a run's worker threads were ready to run they got a core: on a busy machine (a
classroom's laptop with a browser, a video call and a build) they wait, and every rate and race a run shows is
then the machine's as much as the algorithm's. The tool says so when it measured it.

    watch = CoreWatch(3)                     # a run of 3 worker threads
    watch.started(tid)                       # in each worker thread, before its kernel
    watch.ended(tid)                         # in the same thread, as it ends
    watch.waited(seconds)                    # share of the workers' ready time spent waiting for a core so far
    watch.recent(now)                        # the same over the last WINDOW_S seconds (None until one has passed)
    busy_text(share, threads, cores)         # "busy machine: …" when that is more than the run itself explains
    busy_parts(share, threads, cores)        # the same in short parts, for a status line

What is read: Linux's per-thread scheduler statistics, /proc/self/task/<tid>/schedstat — the nanoseconds the
thread ran on a core and the nanoseconds it waited on a run queue, ready to run. A sleeping thread (held at a
breakpoint, parked by a pause, stretched by slow motion) does neither, so only waiting for a core counts. Other
systems (macOS has no per-thread equivalent reachable from Python) read nothing, and nothing is said.
"""
from __future__ import annotations

import os
import threading

WINDOW_S = 1.0   # the live share is over at least this long: a scheduler tick is milliseconds, a share of one noise
MARGIN = 0.2     # "busy" when the workers waited this much more than their own number explains (busy_text)
# No share below this much ready time (s per s of window, all workers together): held, paused or slowed-down
# workers are ready only for their brief looks at the flags, and a share of those says nothing about the run.
MIN_READY = 0.2


def reading(native_id: int | None = None) -> tuple[int, int] | None:
    """(ns on a core, ns waiting for one) of a thread of this process (None: the calling thread), or None where
    the system does not say (not Linux, or the thread has ended)."""
    path = "/proc/thread-self/schedstat" if native_id is None else f"/proc/self/task/{native_id}/schedstat"
    try:
        with open(path) as f:
            ran, waited = f.read().split()[:2]
        return int(ran), int(waited)
    except (OSError, ValueError):
        return None


class CoreWatch:
    """The workers' core time, per thread: read live from the system while a thread runs, and its last reading
    kept once it has ended (its statistics go with it)."""

    def __init__(self, threads: int, read=reading):
        self._read = read
        self._ids: list[int | None] = [None] * threads
        self._first: list[tuple[int, int] | None] = [None] * threads
        self._last: list[tuple[int, int] | None] = [None] * threads
        self._window: tuple[float, int, int] | None = None  # (time, ran, waited) where the live window began
        self._recent: float | None = None

    def started(self, tid: int) -> None:
        """In worker `tid`'s own thread, before its kernel (the thread's time before is not the run's)."""
        self._ids[tid] = threading.get_native_id()
        self._first[tid] = self._read()

    def ended(self, tid: int) -> None:
        """In worker `tid`'s own thread, as it ends."""
        self._last[tid] = self._read()
        self._ids[tid] = None

    def totals(self) -> tuple[int, int] | None:
        """(ns on a core, ns waiting for one) of every worker since it started, summed; None if none was read."""
        ran = waited = 0
        seen = False
        for tid, first in enumerate(self._first):
            native = self._ids[tid]
            # a thread that ends between the two looks has its last reading kept by then
            now = (self._read(native) if native is not None else None) or self._last[tid]
            if first is None or now is None:
                continue
            seen = True
            ran += now[0] - first[0]
            waited += now[1] - first[1]
        return (ran, waited) if seen else None

    def waited(self, seconds: float) -> float | None:
        """The share of the workers' ready time (on a core or waiting for one) spent waiting over a run of
        `seconds` so far."""
        return share(self.totals(), seconds)

    def recent(self, now: float) -> float | None:
        """The same over the last WINDOW_S seconds or more (`now`: any clock in seconds, the same every call);
        None until a window has passed or where nothing is read. The system is read once a window."""
        if self._window is not None and now - self._window[0] < WINDOW_S:
            return self._recent
        totals = self.totals()
        if totals is None:
            return None
        if self._window is not None:
            self._recent = share((totals[0] - self._window[1], totals[1] - self._window[2]), now - self._window[0])
        self._window = (now, *totals)
        return self._recent


def share(totals: tuple[int, int] | None, seconds: float) -> float | None:
    """waited / (ran + waited), or None when the workers were ready for under MIN_READY of the `seconds`."""
    ready = totals[0] + totals[1] if totals is not None else 0
    if ready <= 0 or ready < MIN_READY * seconds * 1e9:
        return None
    return totals[1] / ready


def cores_here() -> int:
    """The cores this process may run on (a container or `taskset` can allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # (macOS has no affinity call)
        return os.cpu_count() or 1


def busy_parts(waited: float | None, threads: int, cores: int | None = None) -> tuple[str, ...] | None:
    """("busy machine:", "threads had a core 38%", "of their ready time") when the workers waited for a core more
    than their number explains, else None: short parts, which a narrow status line puts on lines of their own.
    With more threads than cores they take turns by construction: m threads on c cores wait 1 − c/m of their
    ready time even on an idle machine, so only waiting MARGIN beyond that is the machine's doing."""
    if waited is None:
        return None
    cores = cores or cores_here()
    if waited <= max(0.0, 1.0 - cores / threads) + MARGIN:
        return None
    return "busy machine:", f"threads had a core {1 - waited:.0%}", "of their ready time"


def busy_text(waited: float | None, threads: int, cores: int | None = None) -> str | None:
    """busy_parts as one line."""
    parts = busy_parts(waited, threads, cores)
    return " ".join(parts) if parts else None
