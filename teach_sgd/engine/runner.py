"""The Runner: one RunConfig in, m native threads, RunSnapshots while it runs, one RunResult out.

    runner = Runner(config)        # loads data and model, preallocates RunState, computes the initial loss
    runner.start()                 # m threading.Threads, each inside a nogil numba kernel
    runner.snapshot()              # copies, safe from any thread at 20 Hz
    runner.pause() / resume() / stop()
    runner.holds.hold(0, "cas") / step(0) / freeze(1) / thaw(1) / continue_all() / held_at(0)   # breakpoints
    result = runner.wait()         # joins the threads, evaluates the final model
    runner.stop(); runner.end_stopped()   # a stop that ends the run within STOP_GRACE_S, starved workers or not

The Python threads only call the kernel: once inside, they hold no GIL and touch no Python object, so m
threads really run in parallel. Stop and pause go through the control array, which every kernel loop
reads with atomic loads, so they take effect within one iteration.

Start-up: every thread first lowers its own scheduling priority, then waits at a start barrier; the run's
clock starts when the last one arrives, and all enter their kernels together. Threads that are already
training while others are still being created would starve the creating thread (256 threads took 26 s to
start on 2 busy cores), and would be timed on a run that had not started.

Priority: a Runner built for a screen (`nice=WORKER_NICE`, as the app does) runs its workers at nice 19 (Linux,
per thread). With more workers than cores, the UI thread would otherwise get a core only 1/(m+1) of the time
and the screen would stall for seconds. A headless run (`nice=None`, the default) has no screen to paint, and
its workers keep normal priority at any thread count: nice workers next to the normal-priority helper threads
(the event drainer) lost their core to them and turned two-thread runs bimodal (benchmarks/bench_engine.py
reports the spread over repeats); and with other programs busy, nice-19 workers got a core so rarely that a stop
took 1–2 s to reach all 64 (benchmarks/bench_signals.py --busy 2: median 0.76 s, 3 of 10 over 1 s; at normal
priority median 0.25 s, max 0.45 s) — also to end the process, since every thread must run once to exit. The
main thread still answers Ctrl-C at once: it sleeps between its looks at the run, and a waking sleeper is
scheduled ahead of threads that have used up their share.

Stopping with starved workers (a screen's, or any on a machine busier than the run): a worker sees the stop flag
only when it gets a core, yet a stop must end the run within a second (issue 17). `end_stopped()` waits
STOP_GRACE_S for them and then ends the run without those still inside their kernels: its result is made from
copies (counters, events, θ through RunState.current_theta), so a worker that runs on changes nothing in it,
nor in any file written from it. Such a worker stops at its next look at the flag, or, in a command, when the
process exits after writing (commands/main.py), wherever it is: a kernel holds nothing the exit needs.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import replace

import numpy as np

from teach_sgd.engine import control as ctl
from teach_sgd.engine import layout as L
from teach_sgd.engine.config import SETTINGS, RunConfig
from teach_sgd.engine.cores import CoreWatch
from teach_sgd.engine import events as event_log
from teach_sgd.engine.events import DRAIN_PERIOD_S, EventLog
from teach_sgd.engine.holds import FreezeSchedule, Holds
from teach_sgd.engine.native import lib
from teach_sgd.engine.recording import SAMPLE_OVERHEAD, Sample, SampleLog, samples_that_fit, save, snapshot_of
from teach_sgd.engine.result import RunResult, RunSnapshot, is_collapsed
from teach_sgd.engine.inputs import KERNELS, dataset_for, model_for
from teach_sgd.engine.state import TELEMETRY_INTS, RunState, memory_needed
from teach_sgd.engine.warmup import is_warm, warm_up
from teach_sgd.memory import require
from teach_sgd.models import ModelSpec

WORKER_NICE = 19  # the lowest priority: a worker yields to any normal-priority thread that is ready to run
# A screen's workers (nice=WORKER_NICE given) are also put in Linux's SCHED_IDLE class, below every nice
# level: 64 nice-19 workers still weigh as much as one normal thread, enough to slow the UI's keys to seconds
# on a busy machine (benchmarks/bench_tui.py, part 3, measures both; it flips this to compare). Not a run that
# starts in slow motion: its workers mostly sleep and cost the UI nothing, while in SCHED_IDLE every wake-up
# waited for the machine's other work (4 threads at 1000× next to 2 busy processes published 8 updates in 4 s
# in all, benchmarks/bench_slowmo.py). A run slowed down later (the > key) keeps the class it started with.
SCREEN_WORKERS_IDLE = True
STOP_GRACE_S = 0.3  # how long end_stopped() waits for the workers to see a stop before it ends the run without them
# The algorithms whose θ can be copied whole while workers still run (RunState.current_theta). SYNC's θ is
# whole only between two barriers and SEQ has one worker at normal priority: their stops wait for the workers.
CAN_LEAVE = ("leashed", "hogwild", "lock")

def lower_priority(nice: int, idle: bool = False) -> None:
    """Give the calling thread (not the process) a nice value, and with `idle` the SCHED_IDLE class: Linux
    schedules threads as tasks with their own priority. Elsewhere (macOS, Windows, the BSDs) setpriority would
    lower the whole process, UI included, so the workers keep normal priority there: results are the same, but
    with more workers than cores the UI and the progress line get a core less often and may lag (README,
    Platforms)."""
    if nice and sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
            if idle:
                os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass  # a sandbox may forbid it; the run is still correct, only the UI may lag


def check_memory(config: RunConfig, model: ModelSpec) -> int:
    """Refuse, in one line and before anything is allocated, a run that would need more memory than the machine
    has available now (teach_sgd/memory.py); returns the bytes it will take. The data is already loaded (its
    reader checked it); counted here: every array RunState allocates, and the snapshot log at its bound."""
    one_sample = config.threads * TELEMETRY_INTS * 8 + SAMPLE_OVERHEAD
    parts = memory_needed(config, model) | {"snapshot log (bounded)": samples_that_fit(one_sample) * one_sample,
                                            "event log (bounded)": event_log.EVENT_LOG_BYTES * 3 // 2}
    advice = "use fewer --threads" + (", smaller --hidden" if config.model == "mlp" else "") + \
        (", a smaller --batch" if config.model == "cnn" else "") + " or another algorithm than leashed" * \
        (config.algo == "leashed") + ", or close other programs"
    return require(parts, f"{config.algo} × {config.threads} threads with {model.n_params:,} parameters", advice)


class StartClock:
    """The start barrier's action, run by the last thread to reach it, before any is released: the run's clock
    starts. An object of its own rather than a Runner method: a barrier holding a bound method of its Runner is a
    reference cycle, and every finished run's arrays (RunState, event log, samples: tens of MB at 64 threads)
    then waited for the cyclic garbage collector's rare full pass; the stress's memory grew by hundreds of MB
    between passes (benchmarks/stress.py). tests/test_engine.py checks that a finished Runner is freed by
    reference counting alone."""

    def __init__(self, state: RunState):
        self.state = state
        self.t0: float | None = None  # perf_counter() when the last thread was ready
        self.started = threading.Event()  # what start() waits for, looking for a stop meanwhile

    def __call__(self) -> None:
        self.t0 = time.perf_counter()
        self.state.start_clock(int(lib.ts_now_ns()))
        self.started.set()


class Runner:
    def __init__(self, config: RunConfig, nice: int | None = None):
        self.config = config.budget()
        data = dataset_for(self.config)
        self.model = model_for(self.config, data)
        check_memory(self.config, self.model)
        self.state = RunState(self.config, self.model, data)
        self.nice = nice or 0  # headless: normal priority (see the module's doc)
        self.idle = nice is not None and nice >= WORKER_NICE and self.config.stretch == 1
        self._start: threading.Barrier | None = None
        self._threads: list[threading.Thread] = []
        self._launched = False  # start() has created its threads (all, or those before a stop)
        self._errors: list[BaseException] = []
        self._clock = StartClock(self.state)  # the start barrier's action: the run's clock starts
        self._t_end: float | None = None
        self._curve: list[tuple[float, float, float]] = [(0.0, self.state.loss_initial, float("nan"))]
        self._curve_tuple = tuple(self._curve)
        self._curve_read = 0
        self._lock = threading.Lock()  # snapshot() may be called from several reader threads
        self._active = 0  # threads still inside their kernel
        self._paused_at: float | None = None
        self._stop_requested = False
        self._left = 0  # workers still inside their kernels when end_stopped() ended the run without them
        self._result: RunResult | None = None
        self.events = EventLog(self.state)  # every event of the run, drained while it goes
        self.samples = SampleLog()          # snapshots' raw data at the dashboard's rate, for recordings
        self._drainer: threading.Thread | None = None
        self.holds = Holds(self.state)      # breakpoints, freeze, step (engine/holds.py)
        self.cores = CoreWatch(self.config.threads)  # how much of their ready time the workers got a core
        self._freeze = FreezeSchedule(self.holds, self.config.freeze, self.state.published) \
            if self.config.freeze else None

    # ---- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "Runner":
        kernel = KERNELS[self.config.algo]
        if not is_warm(self.config.algo, self.config.model):  # compile before the clock starts
            warm_up([(self.config.algo, self.config.model)])
        m = self.config.threads
        self._start = threading.Barrier(m, action=self._clock)
        # A stop during start-up (signal_stop, from a signal handler; or a kernel error) ends it at the next look:
        # no more threads are created and those waiting at the barrier leave without entering their kernels.
        # Creating 64 threads and waiting for each to reach the barrier took over a second on 2 busy cores, and a
        # stop that waited for all of them did too (issue 17: every stop ends within a second).
        for tid in range(m):
            if self._stopping():
                break
            t = threading.Thread(target=self._work, args=(kernel, self.state.kernel_args(tid)),
                                 name=f"sgd-{self.config.algo}-{tid}", daemon=True)
            with self._lock:
                self._active += 1
            self._threads.append(t)
            t.start()
        while not self._clock.started.wait(0.05):
            if self._stopping():
                self._start.abort()  # no thread enters its kernel
                break
        self._launched = True  # (a run stopped before its first thread was created has none, and is done)
        self._drainer = threading.Thread(target=self._drain, name="sgd-drain", daemon=True)
        self._drainer.start()
        return self

    def _drain(self) -> None:
        """The drainer: copies new events out of the ring every DRAIN_PERIOD_S and takes a Sample when one is
        due, until the threads have ended; then one last drain, so no event written is left behind."""
        while True:
            finished = self.done
            if self._freeze is not None and self._freeze.phase != "done":
                self._freeze.tick(self.elapsed_s())
            if finished:
                self.events.finish()
            else:
                self.events.drain()
            if finished or self.samples.due(self.elapsed_s()):
                self.samples.add(self._sample())
            if finished:
                return
            time.sleep(DRAIN_PERIOD_S)

    def _work(self, kernel, args) -> None:
        tid = args[4].tid  # (the kernel's `me`, layout.Me)
        try:
            lower_priority(self.nice, idle=self.idle and SCREEN_WORKERS_IDLE)
            self.cores.started(tid)
            self._start.wait()
            kernel(*args)
        except threading.BrokenBarrierError:
            pass
        except BaseException as e:  # a kernel error must not leave the other threads running forever
            self._errors.append(e)
            self.state.control[L.STOP] = 1
        finally:
            self.cores.ended(tid)
            with self._lock:
                self._active -= 1
                if self._active == 0 and self._t_end is None:  # (a run ended by end_stopped keeps its end)
                    self._t_end = time.perf_counter()

    def pause(self) -> None:
        with self._lock:
            if self._paused_at is None:
                self._paused_at = time.perf_counter()
                ctl.pause(self.state.control)

    def resume(self) -> None:
        """Resume; the time spent paused is left out of the run's clock (deadline, rates, timestamps)."""
        with self._lock:
            if self._paused_at is not None:
                # PAUSED_NS before PAUSE = 0, with release: ordered on any CPU (engine/control.py)
                ctl.resume(self.state.control, int((time.perf_counter() - self._paused_at) * 1e9))
                self._paused_at = None

    def set_stretch(self, factor) -> int:
        """Slow motion, live: the kernels read the factor at every window (engine/control.py)."""
        factor = SETTINGS["stretch"].parse(factor, "stretch")
        self.state.control[L.STRETCH] = factor
        return factor

    @property
    def stretch(self) -> int:
        return int(self.state.control[L.STRETCH])

    def _stopping(self) -> bool:
        return self._stop_requested or bool(self.state.control[L.STOP])

    def signal_stop(self, signum: int | None = None) -> None:
        """Ask the kernels to stop with one store into the control array: no lock, no allocation, so it is safe
        from a signal handler (teach_sgd/signals.py) at any moment, even while start() creates the threads.
        stop() follows from the main loop."""
        self._stop_requested = True
        self.state.control[L.STOP] = 1

    def stop(self) -> None:
        self._stop_requested = True
        self.state.control[L.STOP] = 1
        if self._start is not None:
            self._start.abort()  # threads still waiting to start leave at once (harmless once all have started)

    def end_stopped(self, grace: float = STOP_GRACE_S) -> int:
        """After stop(): wait up to `grace` s for the workers, then end the run without those that have not seen
        the flag yet (starved of a core, see the module's doc), if the algorithm allows it (CAN_LEAVE; else wait
        for them all). Returns how many workers were left running; result() works at once either way."""
        if self.join(grace) or self.config.algo not in CAN_LEAVE:
            self.join()
            return 0
        with self._lock:
            left = self._active
            if left and self._t_end is None:
                self._t_end = time.perf_counter()
            self._left = left
        if not left:  # all left their kernels meanwhile: only the threads' last few bytecodes remain
            self.join()
        return left

    @property
    def left_running(self) -> int:
        """Workers end_stopped() left inside their kernels (0 when every one ended)."""
        return self._left

    @property
    def started(self) -> bool:
        return self._launched

    @property
    def done(self) -> bool:
        """The run has ended: every worker has left its kernel, or end_stopped() ended it without the rest."""
        return self.started and (self._left > 0 or all(not t.is_alive() for t in self._threads))

    @property
    def paused(self) -> bool:
        return bool(self.state.control[L.PAUSE])

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the threads; True if all have ended."""
        deadline = None if timeout is None else time.perf_counter() + timeout
        for t in self._threads:
            t.join(None if deadline is None else max(0.0, deadline - time.perf_counter()))
        return self.done

    def wait(self) -> RunResult:
        """Join the threads (Ctrl-C stops them first) and return the result."""
        try:
            while not self.join(0.1):
                pass
        except KeyboardInterrupt:
            self.stop()
            self.join()
            raise
        return self.result()

    # ---- reading --------------------------------------------------------------------------------
    def elapsed_s(self) -> float:
        """Seconds the run has been running, pauses left out."""
        t0 = self._clock.t0
        if t0 is None:
            return 0.0
        end = self._t_end if self._t_end is not None else time.perf_counter()
        paused_now = end - self._paused_at if self._paused_at is not None else 0.0
        return end - t0 - self.state.control[L.PAUSED_NS] * 1e-9 - paused_now

    def status(self) -> str:
        s = self.state
        if not self.started:
            return "ready"
        if self.done:
            if self._errors:
                return "error"
            if s.diverged:
                return "diverged"
            return "stopped" if self._stop_requested else "finished"
        if s.control[L.STOP]:
            return "stopping"
        return "paused" if self.paused else "running"

    def _loss_curve(self) -> tuple[tuple[float, float, float], ...]:
        with self._lock:
            new = self.state.loss_rows(self._curve_read)
            if new:
                self._curve_read += len(new)
                # A row's index is taken when its evaluation ends, so a slow evaluation that started
                # earlier can land after a quicker, later one: keep the curve in time order.
                in_order = new[0][0] >= self._curve[-1][0] and all(a[0] <= b[0] for a, b in zip(new, new[1:]))
                self._curve.extend(new)
                if not in_order:
                    self._curve.sort(key=lambda r: r[0])
                self._curve_tuple = tuple(self._curve)
            return self._curve_tuple

    def _sample(self) -> Sample:
        s = self.state
        return Sample(time=self.elapsed_s(), status=self.status(), updates=s.published(), telemetry=s.telemetry(),
                      versions=s.versions(), curve_len=len(self._loss_curve()),
                      time_to_target_s=s.time_to_target_s(), diverged=s.diverged,
                      events_recorded=self.events.recorded, events_missed=self.events.missed,
                      stretch=self.stretch)

    def snapshot(self) -> RunSnapshot:
        """The live state, built by the same `snapshot_of` a replay uses (engine/recording.py)."""
        sample = self._sample()
        return snapshot_of(sample, self.config, self.model.n_params, self.state.loss_initial, self._curve_tuple)

    def events_now(self):
        """Every event drained so far and kept (the timeline's input; a replay gives those recorded up to its
        time)."""
        return self.events.events()

    def events_kept_from_s(self) -> float | None:
        """The run time of the oldest event the bounded log still keeps; None while it keeps every event."""
        return self.events.kept_from_s

    def save_recording(self, path, label: str = "--record", **meta):
        """Write the ended run as a recording (engine/recording.py); returns the path written."""
        result = self.result()
        return save(path, result, self.events.events(), self.samples.copy(), self._curve_tuple, label, **meta)

    def result(self) -> RunResult:
        """The RunResult of a run whose threads have ended (computed once)."""
        if self._result is not None:
            return self._result
        if not self.done:
            raise RuntimeError("result() needs the run to have ended: call wait() or stop() and join() first")
        if self._errors:
            raise self._errors[0]
        if self._drainer is not None:
            self._drainer.join()  # its last drain takes the final events and sample
        s = self.state
        theta = s.current_theta()
        wall = self.elapsed_s()
        loss_final, _ = s.evaluate(theta)
        _, accuracy_final = s.evaluate(theta, test=True)
        diverged = s.diverged or not np.isfinite(loss_final) or \
            loss_final > self.config.diverge_factor * s.loss_initial
        curve = list(self._loss_curve())
        curve.append((wall, loss_final, float("nan")))
        ttt = s.time_to_target_s()
        if ttt is None and self.config.target_loss and loss_final <= self.config.target_loss * s.loss_initial:
            ttt = wall  # reached between the last in-run evaluation and the end
        mass = None
        if self.config.audit:
            expected = s.theta0.astype(np.float64) + s.audit.sum(axis=0)
            mass = float(np.abs(expected - theta).sum())
        threads = s.thread_stats()
        # Left workers may publish while these copies are taken: the count is then the threads' own, so that the
        # result adds up (it misses at most one update per left worker, published but not yet counted)
        updates = sum(t.updates for t in threads) if self._left else s.published()
        collapsed = is_collapsed(bool(diverged), updates, loss_final, accuracy_final, int(self.model.dims[-1]))
        status = self.status()
        self._result = RunResult(
            config=self.config,
            params=self.model.n_params,
            architecture=self.model.architecture,
            status="diverged" if diverged else "collapsed" if collapsed and status == "finished" else status,
            updates=updates,
            gradients=sum(t.gradients for t in threads),
            wall_s=wall,
            loss_initial=s.loss_initial,
            loss_final=loss_final,
            accuracy_final=accuracy_final,
            diverged=bool(diverged),
            time_to_target_s=ttt,
            threads=threads,
            versions=replace(s.versions(), live=s.live_slots()) if self.config.algo == "leashed" else s.versions(),
            staleness_hist=_summed(threads),
            staleness_max=max((t.staleness_max for t in threads), default=0),
            loss_curve=tuple(curve),
            theta_final=theta,
            lost_update_mass=mass,
            collapsed=collapsed,
            events_recorded=self.events.recorded,
            events_missed=self.events.missed,
            events_dropped=self.events.dropped,
            events_kept_from_s=self.events.kept_from_s,
            freeze=self._freeze.result() if self._freeze else None,
            left_running=self._left,
            core_wait=self.cores.waited(wall),
        )
        return self._result


def _summed(threads) -> tuple[int, ...]:
    """The all-threads staleness histogram, from the same copies as the per-thread ones."""
    return tuple(int(v) for v in np.sum([t.staleness_hist for t in threads], axis=0))


def run(config: RunConfig) -> RunResult:
    """Run to the end in the calling thread's process and return the result."""
    return Runner(config).start().wait()
