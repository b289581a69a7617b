"""Engine benchmarks: every number is a ratio or a rate measured in this one run (machines are noisy).

    python benchmarks/bench_engine.py            # about 1–2 minutes on 2 cores

Prints:
  1. updates/s of each algorithm at 1 and 2 threads, and the ratio 2t/1t (MLP 784-128-10 and CNN, batch 16),
     next to the ceiling: the same ratio for bare loops that do only the memory work each algorithm must do
     (benchmarks/ceiling.py);
  1b. SYNC and HOGWILD!'s sparse writes beside dense HOGWILD! and Leashed-SGD, at 1 and 2 threads (MLP);
  2. telemetry on vs off (updates/s ratio, runs interleaved);
  3. one training step on one thread: the numba kernel (seq) against the NumPy/BLAS reference, with GFLOP/s;
  4. the wall time of a warm `teach-sgd run` of 2,000 updates;
  5. how long a stop request takes to end 64 threads on this machine;
  6. what `compare --repeat N` costs: wall time per run of `--repeat 3` against `--repeat 1`.
"""
from __future__ import annotations

import os

# The reference step is single-threaded like the kernel it is compared with: one BLAS thread.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import ceiling  # noqa: E402
from numpy_mlp import NumpyMLP, flops_per_step  # noqa: E402

from teach_sgd.child import PACKAGE_HOME, module_argv  # noqa: E402
from teach_sgd.data import load_dataset  # noqa: E402
from teach_sgd.engine.config import RunConfig  # noqa: E402
from teach_sgd.engine.runner import Runner, run  # noqa: E402
from teach_sgd.engine.warmup import warm_up  # noqa: E402
from teach_sgd.models import make_model  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "2.0"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))


def rate(config: RunConfig) -> float:
    """Median updates/s over REPEATS timed runs of SECONDS each."""
    return statistics.median(run(config).updates_per_s for _ in range(REPEATS))


def throughput_table() -> None:
    """2t/1t of the engine next to 2t/1t of the bare loop that does the same memory work (the ceiling).

    How much two cores gain on a dense shared model depends on where the host has placed this machine's
    two vCPUs, and that changes from minute to minute: the same bare loop measured 1.9× and 0.9× an hour
    apart here. So every repeat measures bare 1t, bare 2t, engine 1t, engine 2t back to back, and the
    medians are reported with engine ÷ ceiling, the number that says what the engine itself costs.
    """
    data = load_dataset("mnist")
    print(f"1. updates/s at batch 16 ({SECONDS:g} s engine runs; ceiling = bare loops measured between them; "
          f"medians of {REPEATS})")
    print(f"   {'model':<6}{'algo':<9}{'1 thread':>10}{'2 threads':>11}{'2t/1t':>7}{'ceiling':>9}{'÷ ceiling':>11}")
    bare_kind = {"lock": ceiling.HOGWILD, "hogwild": ceiling.HOGWILD, "leashed": ceiling.LEASHED}
    for model in ("mlp", "cnn"):
        spec = make_model(model)
        n = 3000 if model == "mlp" else 600
        seq = rate(RunConfig(algo="seq", threads=1, model=model, seconds=SECONDS))
        print(f"   {model:<6}{'seq':<9}{seq:>10,.0f}{'—':>11}{'—':>7}{'—':>9}{'—':>11}")
        for algo in ("lock", "hogwild", "leashed"):
            ones, twos, ratios, ceilings = [], [], [], []
            for _ in range(REPEATS):
                bare = ceiling.rate(bare_kind[algo], 2, spec, data, n=n) / ceiling.rate(bare_kind[algo], 1, spec, data, n=n)
                one = run(RunConfig(algo=algo, threads=1, model=model, seconds=SECONDS)).updates_per_s
                two = run(RunConfig(algo=algo, threads=2, model=model, seconds=SECONDS)).updates_per_s
                ones.append(one)
                twos.append(two)
                ratios.append(two / one)
                ceilings.append(bare)
            med = statistics.median
            print(f"   {model:<6}{algo:<9}{med(ones):>10,.0f}{med(twos):>11,.0f}{med(ratios):>7.2f}"
                  f"{med(ceilings):>9.2f}{med(r / c for r, c in zip(ratios, ceilings)):>11.2f}")


def telemetry_cost() -> None:
    print("2. telemetry on vs off, MLP, 2 threads: updates/s (on and off runs interleaved, medians)")
    for algo in ("hogwild", "leashed"):
        on, off = [], []
        for _ in range(REPEATS):
            on.append(run(RunConfig(algo=algo, threads=2, seconds=SECONDS)).updates_per_s)
            off.append(run(RunConfig(algo=algo, threads=2, seconds=SECONDS, telemetry=False)).updates_per_s)
        on_m, off_m = statistics.median(on), statistics.median(off)
        print(f"   {algo:<10} on {on_m:>9,.0f}   off {off_m:>9,.0f}   on/off {on_m / off_m:.3f}")


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
    cmd = module_argv("teach_sgd.commands", "run", "--algo", "leashed", "--threads", "2", "--updates", "2000")
    subprocess.run(cmd, cwd=PACKAGE_HOME, capture_output=True, check=True)  # make sure the cache is warm
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=PACKAGE_HOME, capture_output=True, check=True)
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


def variants_table() -> None:
    """SYNC and sparse HOGWILD! beside the algorithms they are compared with, each pair of rows interleaved."""
    print(f"1b. updates/s, MLP, batch 16 ({SECONDS:g} s runs, medians of {REPEATS}, interleaved)")
    variants = [("hogwild dense", dict(algo="hogwild", writes="dense")),
                ("hogwild sparse", dict(algo="hogwild", writes="sparse")),
                ("leashed", dict(algo="leashed")), ("sync", dict(algo="sync"))]
    rows = {name: {1: [], 2: []} for name, _ in variants}
    for _ in range(REPEATS):
        for threads in (1, 2):
            for name, kw in variants:
                rows[name][threads].append(run(RunConfig(threads=threads, seconds=SECONDS, **kw)).updates_per_s)
    for name, by in rows.items():
        one, two = statistics.median(by[1]), statistics.median(by[2])
        print(f"   {name:<16}{one:>10,.0f}{two:>11,.0f}{two / one:>7.2f}")


def repeat_cost() -> None:
    """`compare --repeat 3` runs three seeds; per run it should cost what one run costs (data and kernels are
    loaded once per process)."""
    def wall(*extra):
        t = time.perf_counter()
        subprocess.run(module_argv("teach_sgd.commands", "compare", "--algos", "leashed", "--updates", "2000", *extra),
                       cwd=PACKAGE_HOME, check=True, capture_output=True)
        return time.perf_counter() - t

    one = statistics.median(wall() for _ in range(3))
    three = statistics.median(wall("--repeat", "3") for _ in range(3))
    print(f"6. compare --repeat: 1 run {one:.2f} s, 3 runs {three:.2f} s; each extra repeat costs "
          f"{(three - one) / 2:.2f} s")


if __name__ == "__main__":
    print(f"compile/load kernels: {warm_up():.1f} s   (cores: {os.cpu_count()})")
    throughput_table()
    variants_table()
    telemetry_cost()
    single_step()
    warm_cli_run()
    stop_latency()
    repeat_cost()
