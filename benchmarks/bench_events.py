"""Event stream and recording benchmarks: what draining costs a run, what a recording weighs, and whether the replay
screen keeps up with a million events.

    python benchmarks/bench_events.py          # about two minutes on 2 cores (kernels already cached)

Prints:
  1. draining overhead: updates/s of the same run with the drainer copying every event out of the ring (as
     always) and with its copy switched off (the baseline: the drainer still wakes and samples), alternated,
     per pair and as the median ratio (target: drained ≥ 0.97 × baseline), for a typical run (MLP 128 on MNIST)
     and for the worst case (a 4-unit MLP, batches of 1: ~150,000 events/s);
  2. recording size and save time per million events (the worst-case run, ~1,000,000 events);
  3. that recording in the replay screen at 1× (Textual's headless driver: every frame composed and rendered):
     the dashboard's rate (target: its 15 Hz) and the key → effect latency of
     `.` (one step) and space (play/pause), taken when the replay clock changes (target ≤ 200 ms).
Targets are printed, never asserted: machines are noisy.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

REPEATS = int(os.environ.get("BENCH_EVENTS_REPEATS", "4"))
SECONDS = float(os.environ.get("BENCH_EVENTS_SECONDS", "3"))


def updates_per_s(config, drained: bool) -> tuple[float, int]:
    from teach_sgd.engine.runner import Runner

    runner = Runner(config)
    if not drained:
        runner.events.drain = lambda: 0  # the drainer thread keeps its rhythm and samples; it copies nothing
    result = runner.start().wait()
    return result.updates_per_s, result.events_recorded


def overhead(config, label: str) -> None:
    ratios = []
    for _ in range(REPEATS):
        base, _ = updates_per_s(config, drained=False)
        drained, events = updates_per_s(config, drained=True)
        ratios.append(drained / base)
        print(f"   {label}: baseline {base:10,.0f} upd/s   drained {drained:10,.0f} upd/s "
              f"({events / config.seconds:9,.0f} events/s)   ratio {drained / base:.3f}")
    print(f"   {label}: median ratio {statistics.median(ratios):.3f}   (target ≥ 0.97)")


def million_event_recording(path: Path):
    """A real run of about a million events (worst case: tiny model, batches of 1), saved; (recording, seconds to
    save, events)."""
    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.recording import load
    from teach_sgd.engine.runner import Runner

    runner = Runner(RunConfig(algo="leashed", threads=2, dataset="synthetic", hidden=(4,), batch=1,
                              updates=1_000_000, seed=0))
    result = runner.start().wait()
    t0 = time.perf_counter()
    runner.save_recording(path)
    saved = time.perf_counter() - t0
    return load(path), saved, result.events_recorded


def replay_ui(recording, seconds: float = 6.0, presses: int = 10) -> tuple[float, list[float], float]:
    """(dashboard ticks/s while playing at 1×, key → effect latencies in s, UI thread CPU share of a core)."""
    from textual import events

    from teach_sgd.tui.app import TeachSGDApp
    from teach_sgd.tui.screens.replay import ReplayScreen

    async def main():
        app = TeachSGDApp(lessons=[], export_dir=tempfile.mkdtemp(), warm_kernels=False, replay=recording)
        async with app.run_test(size=(120, 40)):
            while not isinstance(app.screen, ReplayScreen):
                await asyncio.sleep(0.05)
            screen = app.screen
            clock = screen.source.clock
            clock.jump(clock.duration / 3)  # from a third on: the timeline holds a third of a million events and more
            screen.dash.seek()
            ticks0, t0, cpu0 = screen.dash.ticks, time.perf_counter(), time.thread_time()
            # measure only while the replay plays (at its end it stops and no frame changes any more)
            await asyncio.sleep(min(seconds, 0.9 * (clock.duration - clock.t)))
            hz = (screen.dash.ticks - ticks0) / (time.perf_counter() - t0)
            ui = (time.thread_time() - cpu0) / (time.perf_counter() - t0)
            latencies = []
            clock.jump(clock.duration / 3)
            for k in range(presses):  # space pauses/plays, `.` steps: each changes the frame
                key = events.Key("full_stop", ".") if k % 2 else events.Key("space", " ")
                before = (clock.playing, clock.t)
                sent = time.perf_counter()
                app.post_message(key)
                give_up = sent + 2.0  # a key that never takes effect counts as 2 s, never as a hang
                while (clock.playing, clock.t) == before and time.perf_counter() < give_up:
                    await asyncio.sleep(0.001)
                # the effect the learner sees is the dashboard's next frame: wait for the tick it triggers
                ticks = screen.dash.ticks
                while screen.dash.ticks == ticks and time.perf_counter() < give_up:
                    await asyncio.sleep(0.001)
                latencies.append(time.perf_counter() - sent)
                await asyncio.sleep(0.2)
            return hz, latencies, ui

    return asyncio.run(main())


def main() -> int:
    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.warmup import warm_up

    warm_up()
    print(f"1. draining overhead, {SECONDS:g} s per run, alternated {REPEATS}×")
    overhead(RunConfig(algo="leashed", threads=2, dataset="mnist", seconds=SECONDS, seed=0), "MLP 128, MNIST   ")
    overhead(RunConfig(algo="leashed", threads=2, dataset="synthetic", hidden=(4,), batch=1, seconds=SECONDS,
                       seed=0), "MLP 4, batch 1   ")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "million.npz"
        recording, saved, n = million_event_recording(path)
        size = path.stat().st_size
        print(f"2. recording of {n:,} events ({recording.duration_s:.1f} s, {len(recording.times)} samples): "
              f"{size / 1e6:.1f} MB, {size / n:.1f} bytes/event = {size / n:.0f} MB per million events; "
              f"saved in {saved:.2f} s ({saved / n * 1e6:.2f} s per million)")
        hz, lat, ui = replay_ui(recording)
        print(f"3. replay screen on it, 1×: dashboard {hz:.1f} Hz (target 15), UI thread {100 * ui:.0f}% of a "
              f"core; key → effect median {1000 * statistics.median(lat):.0f} ms, worst {1000 * max(lat):.0f} ms "
              f"(target ≤ 200 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
