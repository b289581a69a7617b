"""Engine benchmarks: every number is a ratio or a rate measured in this one run (machines are noisy).

    python benchmarks/bench_engine.py            # about 1–2 minutes on 2 cores

Prints:
  1. updates/s of each algorithm at 1 and 2 threads, and the ratio 2t/1t (MLP 784-128-10, batch 16);
  2. telemetry on vs off (updates/s ratio);
  3. one training step on one thread: the numba kernel (seq) against the NumPy/BLAS reference, with GFLOP/s;
  4. the wall time of a warm `teach-sgd run` of 2,000 updates;
  5. how long a stop request takes to end 64 threads on this machine.
"""
from __future__ import annotations

import os

# The reference step is single-threaded like the kernel it is compared with: one BLAS thread.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from numpy_mlp import NumpyMLP, flops_per_step  # noqa: E402

from teach_sgd.data import load_dataset  # noqa: E402
from teach_sgd.engine.config import RunConfig  # noqa: E402
from teach_sgd.engine.runner import Runner, run, warm_up  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "2.0"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))


def rate(config: RunConfig) -> float:
    """Median updates/s over REPEATS timed runs of SECONDS each."""
    return statistics.median(run(config).updates_per_s for _ in range(REPEATS))


def throughput_table() -> None:
    print(f"1. updates/s, MLP 784-128-10, batch 16, {SECONDS:g} s runs, median of {REPEATS}")
    print(f"   {'algo':<10}{'1 thread':>12}{'2 threads':>12}{'2t/1t':>8}")
    for algo in ("seq", "lock", "hogwild", "leashed"):
        one = rate(RunConfig(algo=algo, threads=1, seconds=SECONDS))
        if algo == "seq":
            print(f"   {algo:<10}{one:>12,.0f}{'—':>12}{'—':>8}")
            continue
        two = rate(RunConfig(algo=algo, threads=2, seconds=SECONDS))
        print(f"   {algo:<10}{one:>12,.0f}{two:>12,.0f}{two / one:>8.2f}")


def telemetry_cost() -> None:
    print("2. telemetry on vs off (2 threads): updates/s")
    for algo in ("hogwild", "leashed"):
        on = rate(RunConfig(algo=algo, threads=2, seconds=SECONDS))
        off = rate(RunConfig(algo=algo, threads=2, seconds=SECONDS, telemetry=False))
        print(f"   {algo:<10} on {on:>9,.0f}   off {off:>9,.0f}   on/off {on / off:.3f}")


def single_step() -> None:
    data = load_dataset("mnist")
    sizes, batch, steps = (784, 128, 10), 16, 3000
    ref = NumpyMLP(sizes)
    rng = np.random.default_rng(0)
    batches = [rng.choice(len(data.y_train), batch) for _ in range(steps)]
    t = time.perf_counter()
    for rows in batches:
        ref.step(data.X_train[rows], data.y_train[rows], 0.05)
    numpy_rate = steps / (time.perf_counter() - t)
    numba_rate = rate(RunConfig(algo="seq", threads=1, seconds=SECONDS, telemetry=False))
    flops = flops_per_step(sizes, batch)
    print("3. one training step (gradient + update), MLP 784-128-10, batch 16, one thread")
    print(f"   numpy+BLAS reference {numpy_rate:>9,.0f} steps/s  {numpy_rate * flops / 1e9:6.1f} GFLOP/s (dense count)")
    print(f"   teach_sgd seq kernel {numba_rate:>9,.0f} steps/s  {numba_rate * flops / 1e9:6.1f} GFLOP/s "
          f"(same count; the kernel skips zero pixels, so it does fewer)")
    print(f"   kernel / numpy = {numba_rate / numpy_rate:.2f}")


def warm_cli_run() -> None:
    cmd = [sys.executable, "-m", "teach_sgd.cli", "run", "--algo", "leashed", "--threads", "2", "--updates", "2000"]
    subprocess.run(cmd, capture_output=True, check=True)  # make sure the cache is warm
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    print(f"4. warm `teach-sgd run --algo leashed --threads 2 --updates 2000`: {statistics.median(times):.2f} s "
          f"(median of {REPEATS}, whole process)")


def stop_latency() -> None:
    print("5. stop request → every thread ended")
    for algo in ("lock", "hogwild", "leashed"):
        for threads in (2, 64):
            runner = Runner(RunConfig(algo=algo, threads=threads, seconds=60)).start()
            time.sleep(0.5)
            t = time.perf_counter()
            runner.stop()
            runner.join()
            print(f"   {algo:<10}{threads:>3} threads: {1000 * (time.perf_counter() - t):6.1f} ms")


if __name__ == "__main__":
    print(f"compile/load kernels: {warm_up():.1f} s   (cores: {os.cpu_count()})")
    throughput_table()
    telemetry_cost()
    single_step()
    warm_cli_run()
    stop_latency()
