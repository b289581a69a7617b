"""Slow-motion fairness: does every thread publish when the machine is busy?

    python benchmarks/bench_slowmo.py            # about a minute on 2 cores (kernels already cached)

Runs Leashed-SGD with 4 threads at 1000× slow motion for 8 s (lesson 5's "slow" experiment), as the app
does (workers at nice 19; a slow-motion run's are not SCHED_IDLE, engine/runner.py), with BENCH_SLOWMO_LOAD
busy processes competing for the cores (default 2), and prints each run's updates per thread and the fairness ratio min/max of them (1 = every thread published
as often as the busiest). Alternates with no outside load. Then the wall time of one thread's 20 updates
(batch 128) at 1×, 10× and 100×, and the ratios 10×/1× and 100×/10× (≈ 10 each on a quiet machine: every
window lasts s × its CPU time; after a sleep caches are cold, so 10×/1× lands higher, 12–16× measured).
Printed, never asserted: machines are noisy.
"""
from __future__ import annotations

import os
import statistics
import sys

from busy import Busy

LOAD = int(os.environ.get("BENCH_SLOWMO_LOAD", "2"))
REPEATS = int(os.environ.get("BENCH_SLOWMO_REPEATS", "3"))
SECONDS = float(os.environ.get("BENCH_SLOWMO_SECONDS", "8"))


def one_run() -> tuple[int, ...]:
    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.runner import WORKER_NICE, Runner

    config = RunConfig(algo="leashed", threads=4, dataset="mnist", lr=0.05, batch=16, seconds=SECONDS, seed=0,
                       stretch=1000)
    result = Runner(config, nice=WORKER_NICE).start().wait()  # as the app runs it
    return tuple(t.updates for t in result.threads)


def timed(stretch: int) -> float:
    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.runner import Runner

    config = RunConfig(algo="leashed", threads=1, dataset="synthetic", updates=20, batch=128, lr=0.05, seed=3,
                       eval_every_s=1.0, stretch=stretch)
    return Runner(config, nice=0).start().wait().wall_s


def main() -> int:
    from teach_sgd.engine.warmup import warm_up

    warm_up([("leashed", "mlp")])
    print(f"Leashed-SGD, 4 threads, 1000× slow motion, {SECONDS:g} s, {os.cpu_count()} cores; "
          f"alternating {LOAD} busy processes / none, {REPEATS}× each")
    fair = {LOAD: [], 0: []}
    for _ in range(REPEATS):
        for load in (LOAD, 0):
            with Busy(load):
                ups = one_run()
            ratio = min(ups) / max(ups) if max(ups) else 0.0
            fair[load].append(ratio)
            print(f"   load {load}: updates per thread {' '.join(f'{u:3d}' for u in ups)}   min/max {ratio:.2f}")
    for load, ratios in fair.items():
        print(f"   load {load}: fairness min/max median {statistics.median(ratios):.2f}")
    walls = {s: min(timed(s) for _ in range(2)) for s in (1, 10, 100)}  # the faster of two: load only adds
    print(f"   one thread, 20 updates: {', '.join(f'{s}× {w:.2f} s' for s, w in walls.items())}; "
          f"10×/1× {walls[10] / walls[1]:.1f}, 100×/10× {walls[100] / walls[10]:.1f} (≈ 10 on a quiet machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
