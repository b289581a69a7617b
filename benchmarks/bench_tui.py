"""TUI benchmarks: what the live dashboard costs a run, and how fast the app paints its first screen.

    python benchmarks/bench_tui.py            # about a minute on 2 cores (kernels already cached)

Prints:
  1. updates/s of the same run headless and inside the Playground with the dashboard sampling at 15 Hz
     (Textual's headless driver: every frame is composed and rendered, only the terminal write is skipped),
     alternated, and the ratio TUI / headless (target ≥ 0.90);
  2. seconds from launching `teach-sgd` (python -m teach_sgd.commands, in a pseudo-terminal) to its first
     painted screen (target ≤ 1.5 s once kernels are cached);
  3. with 64 worker threads on this machine's cores, with no outside load and with BENCH_TUI_LOAD (default 2)
     busy processes competing for the cores: the dashboard's repaint rate, on average and in the worst 2-s
     window (target ≥ 10 Hz), the latency from a key press (space: pause/resume) to its effect on the run,
     median, 95th percentile and max (target p95 ≤ 200 ms), the UI thread's CPU time per repaint, and the
     machine's 1-minute load average when the row ended (other programs make every number noisier). Each setting runs the app as it is and BENCH_TUI_VARIANTS of it with measures undone
     (VARIANTS below; default "now,before"), interleaved, BENCH_TUI_STARVED_REPEATS (default 3) rounds;
  4. what the workers' low priority (nice 19, engine/runner.py) costs in updates/s, headless, alternated
     with normal priority (expected: nothing, on an otherwise idle machine);
  5. seconds from quitting (q) mid-run to every worker thread ended, at 2 and 64 threads, median and max of
     QUIT_REPEATS (target ≤ 1 s: the app waits at most 1 s for its runs, tui/app.py);
  6. seconds from q, and from Ctrl-C, typed into a real `teach-sgd present` process (a pty) 2 s into a live run of
     64 threads, with BENCH_TUI_LOAD busy processes, to the process's exit, QUIT_REPEATS× each (target ≤ 1 s).
Targets are printed, never asserted: machines are noisy.
"""
from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

from busy import Busy

from teach_sgd.child import PACKAGE_HOME, module_argv
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.widgets.dashboard import SAMPLE_HZ

SECONDS = float(os.environ.get("BENCH_TUI_SECONDS", "5"))
REPEATS = int(os.environ.get("BENCH_TUI_REPEATS", "5"))
LOAD = int(os.environ.get("BENCH_TUI_LOAD", "2"))
STARVED_REPEATS = int(os.environ.get("BENCH_TUI_STARVED_REPEATS", "3"))
ONLY = os.environ.get("BENCH_TUI_ONLY", "")  # e.g. "3": run only that part
QUIT_REPEATS = int(os.environ.get("BENCH_TUI_QUIT_REPEATS", "5"))

TITLE = TeachSGDApp.SUB_TITLE.encode()  # in the header of the first frame


def headless(config) -> float:
    from teach_sgd.engine.runner import run

    return run(config).updates_per_s


def in_tui(config) -> tuple[float, float, float]:
    """(updates/s, dashboard ticks/s, UI thread CPU as a share of one core) of the run from the Playground."""
    from teach_sgd.tui.widgets.config_form import budget_text

    async def main():
        app = TeachSGDApp(lessons=[], export_dir=tempfile.mkdtemp())
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("p")
            screen = app.screen
            for wid, value in {"algo": config.algo, "threads": str(config.threads), "dataset": config.dataset,
                               "lr": f"{config.lr:g}", "batch": str(config.batch),
                               "budget": budget_text(config)}.items():
                screen.query_one(f"#{wid}").value = value
            await pilot.pause()
            assert screen.dash.hz == 15
            cpu0, wall0 = time.thread_time(), time.perf_counter()
            screen.action_start()
            while screen.dash.result is None:
                await asyncio.sleep(0.05)
            ui = (time.thread_time() - cpu0) / (time.perf_counter() - wall0)
            r = screen.dash.result
            return r.updates_per_s, screen.dash.ticks / r.wall_s, ui

    return asyncio.run(main())


def in_pty(*args: str, mark: bytes = TITLE):
    """Spawn `python -m teach_sgd.commands ARGS` in a 120×40 pty whose output a thread drains (so it never fills
    up); returns (process, pty master, time spawned, painted, stop): `painted` gets the time of the first output
    that holds `mark` (Textual writes a frame's text; escape codes come before it); stop.set() ends the drain."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = dict(os.environ, TERM="xterm-256color")
    t0 = time.time()
    proc = subprocess.Popen(module_argv("teach_sgd.commands", *args), cwd=PACKAGE_HOME, stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True, start_new_session=True)
    os.close(slave)
    stop = threading.Event()
    painted: list[float] = []

    def drain():
        seen = b""
        while not stop.is_set():
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen = (seen + chunk)[-4096:]
            if not painted and mark in seen:
                painted.append(time.time())

    threading.Thread(target=drain, daemon=True).start()
    return proc, master, t0, painted, stop


def first_paint() -> float:
    """Seconds from spawning `python -m teach_sgd.commands` in a 120×40 pty to the app's first painted frame."""
    proc, master, t0, painted, stop = in_pty()
    try:
        while not painted:
            if time.time() - t0 > 30:
                raise RuntimeError("no first paint within 30 s")
            time.sleep(0.005)
        return painted[0] - t0
    finally:
        os.write(master, b"\x11")  # ctrl+q
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stop.set()
        os.close(master)


async def leashed_run(app, pilot, threads: int, budget: str):
    """Open the Playground, start a leashed run with `threads` workers and this budget, and return its screen
    one second after the threads have started (past start-up)."""
    await pilot.press("p")
    screen = app.screen
    for wid, value in {"algo": "leashed", "threads": str(threads), "budget": budget}.items():
        screen.query_one(f"#{wid}").value = value
    await pilot.pause()
    screen.action_start()
    while screen.runner is None or not screen.runner.started:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    return screen


WINDOW_S = 2.0  # the repaint rate's worst window


def worst_window_hz(times: list[float], window: float = WINDOW_S) -> float:
    """The fewest repaints in any `window` s between the first and the last, per second."""
    if len(times) < 2 or times[-1] - times[0] < window:
        return len(times) / max(window, 1e-9)
    fewest, j = len(times), 0
    for i, t in enumerate(times):  # windows that start at a repaint
        if t + window > times[-1]:
            break
        while j < len(times) and times[j] < t + window:
            j += 1
        fewest = min(fewest, j - i)
    return fewest / window


def starved_ui(threads: int = 64, seconds: float = 12.0, presses: int = 20) -> tuple[float, list[float], float, float]:
    """(dashboard ticks/s, key → effect latencies in s, worst 2-s window ticks/s, UI thread CPU ms per tick)
    while `threads` workers train in the Playground.

    A key is posted as the terminal driver would post it, and the latency is taken when the run's pause flag
    changes: that is the moment the key took effect for the learner (the threads park within a millisecond)."""
    from textual import events


    async def main():
        app = TeachSGDApp(lessons=[], export_dir=tempfile.mkdtemp())
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await leashed_run(app, pilot, threads, f"{seconds:g}s")
            stamps: list[float] = []
            tick = screen.dash._tick

            def timed_tick():  # the time of each repaint the dashboard's timer makes (a key's own is not counted)
                stamps.append(time.perf_counter())
                tick()

            screen.dash._timer._callback = timed_tick
            ticks0, t0, cpu0 = screen.dash.ticks, time.perf_counter(), time.thread_time()
            seconds_left = seconds - 1.5
            latencies = []
            for _ in range(presses):
                runner = screen.runner
                before = runner.paused
                sent = time.perf_counter()
                app.post_message(events.Key("space", " "))
                while runner.paused == before and not runner.done:
                    await asyncio.sleep(0.002)
                if runner.done:  # the run ended: a key that found nothing to pause measures nothing
                    break
                latencies.append(time.perf_counter() - sent)
                if time.perf_counter() - t0 > seconds_left:
                    break
                await asyncio.sleep(0.15)
            hz = len(stamps) / (time.perf_counter() - t0)
            cpu_ms = 1000 * (time.thread_time() - cpu0) / max(screen.dash.ticks - ticks0, 1)  # keys' repaints too
            screen.runner.stop()
            return hz, latencies, worst_window_hz(stamps), cpu_ms

    return asyncio.run(main())


def p95(values: list[float]) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(0.95 * (len(v) - 1)))]


# What part 3 compares, interleaved: the app as it is, and with one or all of its four measures against a
# starved UI undone — SCHED_IDLE workers (engine/runner.py), the thread table's paint budget
# (widgets/thread_table.py), the footer rebuilt only when its keys change (screens/base.py), the thread table's
# height cap, which paints only the rows in view (widgets/dashboard.py TABLE_MAX_HEIGHT).
VARIANTS = {
    "now": (),
    "nice19": ("idle",),
    "every-paint": ("paint",),
    "every-footer": ("footer",),
    "all-rows": ("rows",),
    "before": ("idle", "paint", "footer", "rows"),
}
CHOSEN = os.environ.get("BENCH_TUI_VARIANTS", "now,all-rows").split(",")


def undo(measures) -> None:
    """Undo these measures in this process (with (): the worker class and the paint budget as the app has them)."""
    from textual.screen import Screen

    from teach_sgd.engine import runner
    from teach_sgd.tui.screens.base import SteadyFooterScreen
    from teach_sgd.tui.widgets import dashboard, thread_table

    runner.SCREEN_WORKERS_IDLE = "idle" not in measures
    thread_table.PAINT_SHARE = 0.0 if "paint" in measures else 0.25
    dashboard.TABLE_MAX_HEIGHT = None if "rows" in measures else "40%"
    if "footer" in measures:  # (starved() puts the steady one back before each variant)
        SteadyFooterScreen.refresh_bindings = Screen.refresh_bindings


def starved() -> None:
    """Part 3: 64 workers, with LOAD busy processes and with none, each variant in turn, STARVED_REPEATS rounds
    (the machine's other load changes over minutes: variants back to back compare fairly)."""
    from teach_sgd.tui.screens.base import SteadyFooterScreen

    keep = SteadyFooterScreen.__dict__["refresh_bindings"]
    cores = os.cpu_count() or 1
    print(f"3. 64 leashed workers on {cores} cores, {STARVED_REPEATS} rounds, variants {', '.join(CHOSEN)}: "
          f"dashboard repaints/s by its {SAMPLE_HZ:g} Hz timer, average and worst {WINDOW_S:g}-s window (target ≥ 10), key → effect p50 / p95 / "
          f"max ms (target p95 ≤ 200), UI thread CPU per repaint, 1-min load average")
    rows: dict[tuple[int, str], list] = {}
    try:
        for _ in range(STARVED_REPEATS):
            for load in (LOAD, 0):
                for name in CHOSEN:
                    SteadyFooterScreen.refresh_bindings = keep
                    undo(VARIANTS[name])
                    with Busy(load):
                        hz, lat, worst, cpu_ms = starved_ui()
                    rows.setdefault((load, name), []).append((hz, lat, worst))
                    head = (f"   load {load}, {name:<13} {hz:5.1f} Hz (worst {WINDOW_S:g} s {worst:5.1f})   "
                            f"UI {cpu_ms:4.1f} ms CPU/repaint   loadavg {os.getloadavg()[0]:5.1f}")
                    if not lat:
                        print(f"{head}   no key measured: the run ended first")
                        continue
                    print(f"{head}   p50 {1000 * statistics.median(lat):6.0f} ms   p95 {1000 * p95(lat):6.0f} ms   "
                          f"max {1000 * max(lat):6.0f} ms   ({len(lat)} keys)", flush=True)
    finally:
        SteadyFooterScreen.refresh_bindings = keep
        undo(())
    for (load, name), runs in sorted(rows.items()):
        lat = [x for _, ls, _ in runs for x in ls]
        if not lat:
            continue
        print(f"   all rounds, load {load}, {name:<13} {statistics.median(h for h, _, _ in runs):5.1f} Hz (median), "
              f"worst {WINDOW_S:g} s {min(w for _, _, w in runs):5.1f} Hz   p50 {1000 * statistics.median(lat):6.0f} ms   "
              f"p95 {1000 * p95(lat):6.0f} ms   max {1000 * max(lat):6.0f} ms   ({len(lat)} keys)")


def nice_cost(threads: int = 4, repeats: int = 5) -> list[float]:
    """Headless updates/s ratios nice 19 / nice 0, alternated (each pair back to back on the same machine)."""
    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.runner import Runner

    config = RunConfig(algo="leashed", threads=threads, dataset="mnist", seconds=3.0)
    ratios = []
    for _ in range(repeats):
        low = Runner(config, nice=19).start().wait().updates_per_s
        normal = Runner(config, nice=0).start().wait().updates_per_s
        ratios.append(low / normal)
    return ratios


def quit_time(threads: int) -> float:
    """Seconds from the app's quit action, taken one second into a Playground run, to all its threads ended."""

    async def main():
        app = TeachSGDApp(lessons=[], export_dir=tempfile.mkdtemp())
        async with app.run_test(size=(120, 40)) as pilot:
            runner = (await leashed_run(app, pilot, threads, "60s")).runner
            t0 = time.perf_counter()
            await app.action_quit()
            runner.join()
            return time.perf_counter() - t0

    return asyncio.run(main())


def process_quit_time(key: bytes, threads: int) -> float:
    """Seconds from `key` typed into a real `teach-sgd present` (a pty, its own process) two seconds into a live
    leashed run of `threads` workers to the process's exit: what a learner waits for after q or Ctrl-C."""
    proc, master, t0, painted, stop = in_pty("present", "--algos", "leashed", "--threads", str(threads),
                                             "--dataset", "synthetic", "--seconds", "60", mark=b"failed CAS")
    try:
        while not painted:
            if time.time() - t0 > 120:
                raise RuntimeError("no live run on the screen within 120 s")
            time.sleep(0.01)
        time.sleep(2.0)
        sent = time.perf_counter()
        os.write(master, key)
        proc.wait(60)
        return time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stop.set()
        os.close(master)


def process_quitting() -> None:
    print(f"6. `teach-sgd present` (a real process in a pty) quit with q and with Ctrl-C 2 s into a live run of 64 "
          f"threads, with {LOAD} busy processes: seconds from the key to the process's exit, {QUIT_REPEATS}× each "
          "(target ≤ 1 s)")
    with Busy(LOAD):
        for name, key in (("q", b"q"), ("Ctrl-C", b"\x03")):
            times = [process_quit_time(key, 64) for _ in range(QUIT_REPEATS)]
            print(f"   {name:6s}: median {statistics.median(times):.2f} s   max {max(times):.2f} s   "
                  f"({', '.join(f'{t:.2f}' for t in times)}); load average {os.getloadavg()[0]:.1f}", flush=True)


def quitting() -> None:
    print(f"5. quit mid-run → every worker thread ended, {QUIT_REPEATS}× (target ≤ 1 s)")
    for threads in (2, 64):
        times = [quit_time(threads) for _ in range(QUIT_REPEATS)]
        print(f"   {threads:3d} threads: median {1000 * statistics.median(times):6.0f} ms   "
              f"max {1000 * max(times):6.0f} ms")


def main() -> int:
    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.warmup import all_kernels, warm_up
    from teach_sgd.tui.warm import mark_cached

    warm_up()
    mark_cached(all_kernels())
    if ONLY == "3":
        starved()
        return 0
    if ONLY == "5":
        quitting()
        return 0
    if ONLY == "6":
        process_quitting()
        return 0
    config = RunConfig(algo="leashed", threads=2, model="mlp", dataset="mnist", seconds=SECONDS, seed=0)
    print(f"1. {config.algo}, m={config.threads}, {config.model}, {config.dataset}, {SECONDS:g} s per run, "
          f"alternated {REPEATS}×")
    ratios, uis = [], []
    for i in range(REPEATS):
        h = headless(config)
        t, hz, ui = in_tui(config)
        ratios.append(t / h)
        uis.append(ui)
        print(f"   headless {h:9,.0f} upd/s   TUI {t:9,.0f} upd/s   dashboard {hz:4.1f} Hz   "
              f"UI thread {100 * ui:4.1f}% of a core   ratio {t / h:.3f}")
    print(f"   ratio TUI/headless (median): {statistics.median(ratios):.3f}   (target ≥ 0.90)")
    cores = os.cpu_count() or 1
    busy = min(cores, config.threads)
    print(f"   UI thread (median) {100 * statistics.median(uis):.1f}% of a core; with {config.threads} workers on "
          f"{cores} cores an otherwise idle machine would keep ≈ "
          f"{max(0.0, 1 - max(0.0, statistics.median(uis) + busy - cores) / busy):.3f} of headless throughput "
          f"(other load on the machine makes the measured ratio noisy)")

    paints = [first_paint() for _ in range(3)]
    print(f"2. teach-sgd → first painted screen: median {statistics.median(paints):.2f} s "
          f"({', '.join(f'{p:.2f}' for p in paints)})   (target ≤ 1.5 s, kernels cached)")
    starved()
    ratios = nice_cost()
    print(f"4. workers at nice 19 vs nice 0, headless, 4 threads: updates/s ratio median "
          f"{statistics.median(ratios):.3f} ({', '.join(f'{r:.3f}' for r in ratios)})")
    quitting()
    process_quitting()
    return 0


if __name__ == "__main__":
    sys.exit(main())
