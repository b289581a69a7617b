"""Randomized runs against the engine's invariants (teach_sgd/engine/invariants.py): prints violations, 0 expected.

    python benchmarks/stress.py            # 1,000 runs, a few minutes on 2 cores
    python benchmarks/stress.py 200 7      # 200 runs from seed 7
    python benchmarks/stress.py --help

Memory must stay flat over the runs (every cache bounded: inputs.DATASETS_KEPT datasets, the snapshot log; a
finished run freed as soon as it is dropped, tests/test_engine.py): every 50 runs it prints the resident memory
now and the peak so far, and at the end the peak (target: < 1 GiB for 1,000 runs) and, on glibc, the memory
left once malloc hands back what it kept for reuse, which tells a leak from the allocator's free lists.

Each run draws its algorithm, thread count (1–64, often more than the cores), Tp, model, batch, step size
and budget at random, with audit on, so every interleaving the machine happens to produce is checked. Every
fourth run also sets breakpoints, freezes and steps threads at random protocol points while it goes
(engine/holds.py), so interleavings the scheduler rarely produces are checked too. The test suite runs a few
of the same draws (tests/test_invariants.py, tests/test_breakpoints.py).
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import os
import random
import sys
import time

from teach_sgd.engine.config import ALGOS, ASYNC_ALGOS, POINTS, STEPS, WRITES, RunConfig
from teach_sgd.engine.invariants import violations
from teach_sgd.engine.runner import Runner, run

try:
    import resource  # POSIX only
except ImportError:
    resource = None

THREADS = (1, 2, 3, 4, 7, 8, 16, 33, 64)


def random_config(rng: random.Random) -> RunConfig:
    algo = rng.choice(ALGOS)
    model = "cnn" if rng.random() < 0.15 else "mlp"
    threads = 1 if algo == "seq" else rng.choice(THREADS)
    batch = rng.choice((1, 4, 16, 64))
    return RunConfig(
        algo=algo, threads=threads, model=model, hidden=(rng.choice((8, 32, 128)),), dataset="synthetic",
        batch=max(batch, threads) if algo == "sync" else batch,  # SYNC splits each batch among the threads
        lr=rng.choice((0.01, 0.05, 0.2)), persistence=rng.choice((0, 1, 2, None)),
        writes=rng.choice(WRITES) if algo == "hogwild" else "dense",
        step=rng.choice(STEPS) if algo in ASYNC_ALGOS else "none",
        updates=rng.choice((20, 100, 400)) if model == "mlp" else rng.choice((20, 60)),
        seed=rng.randrange(1000), audit=True, eval_every_s=0.01, eval_samples=64)


def run_with_breakpoints(config: RunConfig, rng: random.Random, actions: int = 6):
    """Run `config` while holding, freezing and stepping random threads at random protocol points, letting
    them go again after a few ms; then clear every hold and let the run end. Returns its RunResult."""
    runner = Runner(config).start()
    holds = runner.holds
    for _ in range(actions):
        tid, action = rng.randrange(config.threads), rng.choice(("hold", "freeze", "step"))
        if action == "hold":
            holds.hold(tid, rng.choice(POINTS[config.algo]))
        else:
            getattr(holds, action)(tid)
        time.sleep(rng.choice((0.001, 0.01)))
        holds.continue_all() if rng.random() < 0.5 else holds.clear()
    holds.clear()
    return runner.wait()


def rss_now() -> int | None:
    """Resident memory of this process now, in bytes (Linux: /proc/self/statm; None elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def rss_peak() -> int | None:
    """The most resident memory this process has had, in bytes (ru_maxrss: KiB on Linux, bytes on macOS)."""
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def returned_to_system() -> int | None:
    """Hand the memory malloc keeps for reuse back to the system (glibc's malloc_trim) and return the resident
    memory after it: what is left is what the process really holds. None where malloc is not glibc's."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is None:
        return None
    gc.collect()
    trim(0)
    return rss_now()


def _mib(n: int | None) -> str:
    return "unknown" if n is None else f"{n / (1 << 20):,.0f} MiB"


def main(runs: int = 1000, seed: int = 0) -> int:
    rng = random.Random(seed)
    bad = []
    t = time.perf_counter()
    for k in range(runs):
        config = random_config(rng)
        found = violations(run_with_breakpoints(config, rng) if k % 4 == 3 else run(config))
        bad += found
        for v in found:
            print(f"VIOLATION (run {k}): {v}", flush=True)
        if (k + 1) % 50 == 0:
            print(f"{k + 1:,} runs, {len(bad)} violations, {time.perf_counter() - t:.0f} s, memory now "
                  f"{_mib(rss_now())}, peak {_mib(rss_peak())}", flush=True)
    print(f"{runs:,} randomized runs: {len(bad)} violations; peak memory {_mib(rss_peak())} (target < 1,024 MiB)")
    now, kept = rss_now(), returned_to_system()
    if kept is not None:  # what grew since the first runs: memory held, or freed memory malloc kept for reuse?
        print(f"memory now {_mib(now)}; after malloc_trim hands freed memory back to the system: {_mib(kept)}")
    return 1 if bad else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog="Exit status 1 if any run violated "
                                 "an invariant.", formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="?", type=int, default=1000, help="randomized runs (default 1000)")
    ap.add_argument("seed", nargs="?", type=int, default=0, help="seed of the draws (default 0)")
    a = ap.parse_args()
    sys.exit(main(a.runs, a.seed))
