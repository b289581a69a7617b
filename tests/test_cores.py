"""engine/cores.py: how much of their ready time a run's workers got a core, read from the system's scheduler
statistics, and when the tool says the machine is busy. The logic on given readings; then real runs: the
share is read for every worker, lands in the RunResult and its JSON, and rises when other processes take the
cores."""
import multiprocessing
import os
import sys
import threading
import time

import pytest

from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.cores import CoreWatch, busy_text, reading
from teach_sgd.engine.result import RunResult
from teach_sgd.engine.runner import Runner, run
from teach_sgd.report import run_summary


def test_busy_only_beyond_what_the_runs_own_threads_explain():
    assert busy_text(None, 2, 2) is None                  # not measured: nothing said
    assert busy_text(0.15, 2, 2) is None                  # a little waiting is the UI's, the drainer's
    assert busy_text(0.62, 2, 2) == "busy machine: threads had a core 38% of their ready time"
    assert busy_text(0.70, 8, 2) is None                  # 8 threads on 2 cores wait 75% on an idle machine
    assert busy_text(0.97, 8, 2) is not None
    assert busy_text(0.30, 4, 16) is not None             # fewer threads than cores: waiting is the machine's


def test_the_watch_sums_the_workers_and_keeps_an_ended_threads_last_reading():
    ms = 1_000_000
    now = {}  # native id → (ns ran, ns waited); the calling thread is id None
    watch = CoreWatch(2, read=lambda native=None: now.get(native))
    assert watch.totals() is None and watch.waited(1.0) is None
    me = threading.get_native_id()
    now[None] = now[me] = (100 * ms, 10 * ms)
    watch.started(0)
    now[me] = (400 * ms, 110 * ms)                          # ran 300 ms, waited 100 since it started
    assert watch.totals() == (300 * ms, 100 * ms) and watch.waited(1.0) == 0.25
    assert watch.waited(3.0) is None                        # ready 0.4 s of 3 s: too little to judge
    now[None] = (500 * ms, 110 * ms)
    watch.ended(0)                                          # its statistics go with it: the last reading stays
    del now[me]
    assert watch.totals() == (400 * ms, 100 * ms)


def test_the_live_share_is_over_the_last_window_and_needs_ready_time():
    ms = 1_000_000
    totals = {"t": (0, 0)}

    class Fake(CoreWatch):
        def totals(self):
            return totals["t"]

    watch = Fake(1)
    assert watch.recent(0.0) is None                        # the first window starts
    totals["t"] = (900 * ms, 100 * ms)
    assert watch.recent(0.5) is None                        # under a second: nothing measured yet
    assert watch.recent(1.0) == 0.1
    totals["t"] = (1_000 * ms, 1_000 * ms)                  # the last second: ran 100 ms, waited 900
    assert watch.recent(2.0) == 0.9
    assert watch.recent(2.5) == 0.9                         # kept until the next window is over
    totals["t"] = (1_001 * ms, 1_010 * ms)                  # held or paused: ready 11 ms in a second
    assert watch.recent(3.0) is None


linux = pytest.mark.skipif(not sys.platform.startswith("linux") or reading() is None,
                           reason="per-thread scheduler statistics are read on Linux only")


def _spin():
    while True:
        pass


@linux
def test_a_real_run_reports_its_workers_core_wait_and_a_busy_machine_raises_it():
    quiet = run(RunConfig(algo="leashed", threads=2, dataset="synthetic", updates=2_000, batch=8, seed=1))
    assert quiet.core_wait is not None and 0.0 <= quiet.core_wait < 1.0
    assert RunResult.from_json(quiet.to_json(), quiet.config).core_wait == quiet.core_wait

    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(2 * (os.cpu_count() or 1))]
    for p in spinners:
        p.start()
    try:
        time.sleep(0.2)
        busy = Runner(RunConfig(algo="leashed", threads=2, dataset="synthetic", updates=None, seconds=1.5,
                                batch=8, seed=1)).start().wait()
    finally:
        for p in spinners:
            p.terminate()
            p.join()
    # 2 workers among twice as many spinning processes as cores get about a third of their ready time
    assert busy.core_wait > 0.4
    line = busy_text(busy.core_wait, 2)
    assert line is not None and line in run_summary(busy)
