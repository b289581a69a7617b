"""Engine benchmarks: every number is a ratio, a rate or a spread measured in this one run (machines are noisy).

    python benchmarks/bench_engine.py                    # all sections, 5 rounds, ~6 minutes on 2 cores
    python benchmarks/bench_engine.py --against f4497c2  # also: this engine against an older commit, interleaved
    python benchmarks/bench_engine.py --only throughput,telemetry --rounds 9

The standard run (issue-tracker figures use it): MLP 784-128-10, batch 16, η 0.05, 3,000 updates, the bundled
MNIST subset. Each measurement is one timed run in a fresh child process (the same interpreter and package),
so this engine and an older one (`--against REF`, built from git into a cached venv under the temporary
folder) are measured the same way, one after the other, in every round.

Sections:
  throughput  updates/s min / median / max over the rounds for every algorithm at 1 and 2 threads (and at as
              many threads as cores), 2t/1t, and the spread: a run more than 20% below its median is a worker
              that lost its core (reported as "starved");
  against     the same runs of REF, interleaved round by round, and new / old per row;
  ceiling     2t/1t of bare loops doing each algorithm's memory work (benchmarks/ceiling.py), with its flips:
              how much 2 threads can gain on this machine at all, measured between the engine's runs, and
              what a new version costs when the last one was written on the other core (ceiling.pass_us);
  telemetry   telemetry on vs off on interleaved pairs (HOGWILD!'s lost-write sampling included);
  step        one training step on one thread: the seq kernel against the NumPy/BLAS loop of the same math,
              and the kernel's GFLOP/s against the 1-core float32 matmul peak that NumPy reaches here;
  target      time to 10% of the initial loss (evaluation every 10 ms), per algorithm at 2 threads;
  cli         the wall time of a warm `teach-sgd run` of 2,000 updates;
  stop        how long a stop request takes to end 2 and 64 threads;
  repeat      what `compare --repeat N` costs per extra run.
No test asserts any of these: speed lives here (benchmarks/README.md keeps the last figures).
"""
from __future__ import annotations

import os

# The reference step is single-threaded like the kernel it is compared with: one BLAS thread.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
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

STANDARD = dict(model="mlp", hidden=[128], batch=16, lr=0.05, updates=3000, dataset="mnist")
STARVED = 0.8  # a run below 80% of its row's median rate is a slow run; which kind, its CPU time says:
HOST_SHARE = 0.5  # its CPU time per update rose by ≥ half its slowdown: the cores ran slower ("host slower"),
# else its threads waited for a core ("starved"). Measured on a 2-vCPU VM: a 1-thread SEQ run that had its core
# for 100% of its wall time (CPU / wall 1.01, no steal in /proc/stat) ran at 69% of its row's median, each
# gradient 128 µs against 85: the host, not the engine (benchmarks/README.md, 2026-12-04 22:05–22:20).
REPO = Path(__file__).resolve().parent.parent

# One timed run in a child: works with this engine and with older ones (RunConfig and run() are old API).
CHILD = """
import json, resource, sys
from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import run
kw = json.loads(sys.argv[1])
kw["hidden"] = tuple(kw["hidden"])
try:
    config = RunConfig(**kw)
    config = config.validate() if hasattr(config, "validate") else config
except Exception as e:  # an older engine without this algorithm or setting: the row is left out for it
    print(json.dumps({"unsupported": str(e)}))
    raise SystemExit(0)
cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
run(RunConfig(**{**kw, "updates": 50}))  # data loaded, pages touched: the CPU time below is the run's
before = cpu()
r = run(config)
print(json.dumps({"updates_per_s": r.updates_per_s, "ttt": r.time_to_target_s, "updates": r.updates,
                  "cpu_per_update_us": (cpu() - before) / max(r.updates, 1) * 1e6}))
"""


class Engine:
    """A teach_sgd to measure: this checkout's interpreter, or REF's in its own venv."""

    def __init__(self, name: str, python: str, cwd: str):
        self.name, self.python, self.cwd = name, python, cwd

    def measure(self, **settings) -> dict | None:
        """One timed run; None when this engine has no such algorithm or setting (an older commit)."""
        out = subprocess.run([self.python, "-c", CHILD, json.dumps({**STANDARD, **settings})], cwd=self.cwd,
                             capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        if out.returncode != 0:
            raise SystemExit(f"bench_engine: a run of {self.name} failed:\n{out.stderr[-2000:]}")
        got = json.loads(out.stdout.strip().splitlines()[-1])
        return None if "unsupported" in got else got


def build_ref(ref: str) -> Engine:
    """REF's package in a venv of its own (built once; kept under the temporary folder, keyed by the commit)."""
    sha = subprocess.run(["git", "rev-parse", ref], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    home = Path(tempfile.gettempdir()) / f"teach-sgd-ref-{sha[:12]}"
    python = home / "venv" / "bin" / "python"
    if not python.exists():
        print(f"building {ref} ({sha[:12]}) in {home} …", flush=True)
        subprocess.run(["git", "worktree", "add", "--detach", "-f", str(home / "src"), sha], cwd=REPO, check=True,
                       capture_output=True)
        subprocess.run([sys.executable, "-m", "venv", str(home / "venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", str(home / "src")], check=True)
    # An empty folder as cwd: the child must import the installed package, not a checkout's sources.
    (home / "run").mkdir(exist_ok=True)
    return Engine(f"{ref} ({sha[:8]})", str(python), str(home / "run"))


def spread(runs: list[dict]) -> str:
    """min / median / max updates/s, then how many runs were slow and of which kind (STARVED, HOST_SHARE)."""
    rates = [r["updates_per_s"] for r in runs]
    lo, med, hi = min(rates), statistics.median(rates), max(rates)
    cpu = statistics.median(r["cpu_per_update_us"] for r in runs)
    kinds = ["host slower" if r["cpu_per_update_us"] / cpu - 1 >= HOST_SHARE * (med / r["updates_per_s"] - 1)
             else "starved" for r in runs if r["updates_per_s"] < STARVED * med]
    return f"{lo:>8,.0f}{med:>9,.0f}{hi:>9,.0f}" + "".join(f"  {k} {kinds.count(k)}" for k in sorted(set(kinds)))


def rows_to_measure() -> list[tuple[str, int, dict]]:
    cores = os.cpu_count() or 1
    rows = [("seq", 1, {})]
    for algo in ("lock", "hogwild", "leashed", "sync"):
        for threads in sorted({1, 2, cores}):
            rows.append((algo, threads, {}))
    rows += [("hogwild sparse", 1, {"writes": "sparse"}), ("hogwild sparse", 2, {"writes": "sparse"})]
    return rows


def throughput(engines: list[Engine], rounds: int) -> None:
    rows = rows_to_measure()
    # compile or load every kernel outside the clock; learn which rows an older engine cannot run
    missing = {(e.name, name, threads) for e in engines for name, threads, extra in rows
               if e.measure(algo=name.split()[0], threads=threads, updates=50, **extra) is None}
    got = {(e.name, name, threads): [] for e in engines for name, threads, _ in rows}
    for _ in range(rounds):
        for name, threads, extra in rows:
            for e in engines:
                if (e.name, name, threads) in missing:
                    continue
                got[(e.name, name, threads)].append(e.measure(algo=name.split()[0], threads=threads, **extra))
    print(f"throughput: updates/s over {rounds} rounds ({', '.join(e.name for e in engines)} interleaved; "
          f"{os.cpu_count()} cores). A run below {STARVED:.0%} of its median is 'host slower' when its CPU time "
          f"per update rose by at least {HOST_SHARE:.0%} of its slowdown (the cores ran slower), else 'starved' "
          "(a thread waited for a core)")
    print(f"   {'algo':<16}{'m':>3}  {'engine':<22}{'min':>8}{'median':>9}{'max':>9}")
    for name, threads, _ in rows:
        for e in engines:
            values = got[(e.name, name, threads)]
            print(f"   {name:<16}{threads:>3}  {e.name:<22}" + (spread(values) if values else f"{'(not in this engine)':>26}"))
        if len(engines) == 2 and all(got[(e.name, name, threads)] for e in engines):
            new, old = (median_rate(got[(e.name, name, threads)]) for e in engines)
            print(f"   {'':<16}{'':>3}  {'new / old':<22}{new / old:>17.2f}")
    print("   2t/1t (medians):", ", ".join(
        f"{name} {median_rate(got[(engines[0].name, name, 2)]) / median_rate(got[(engines[0].name, name, 1)]):.2f}"
        for name in ("lock", "hogwild", "leashed", "hogwild sparse", "sync")))


def median_rate(runs: list[dict]) -> float:
    return statistics.median(r["updates_per_s"] for r in runs)


def bare_gain(kind: int, spec, data) -> float:
    """2t/1t of one kind of bare loop, the 2-thread run between two 1-thread runs (this host's cores change
    speed from one run to the next; the mean of the 1-thread runs on either side cancels a steady drift)."""
    before = ceiling.rate(kind, 1, spec, data)
    two = ceiling.rate(kind, 2, spec, data)
    return two / ((before + ceiling.rate(kind, 1, spec, data)) / 2)


def ceiling_flips(rounds: int) -> None:
    """Bare-loop 2t/1t per round: how much two cores can gain here, and how often the host flips it."""
    data, spec = load_dataset("mnist"), make_model("mlp")
    print("ceiling: bare-loop 2t/1t per round (MLP), beside the engine's 2t/1t in the same round")
    private = [bare_gain(ceiling.PRIVATE, spec, data) for _ in range(rounds)]
    print(f"   {'private θ':<15} bare {' '.join(f'{b:.2f}' for b in private)}   (nothing shared: the cores' own "
          f"ceiling), median {statistics.median(private):.2f}")
    for kind, algo, extra in ((ceiling.HOGWILD, "hogwild", {}), (ceiling.LEASHED, "leashed", {}),
                              (ceiling.LOCK, "lock", {}), (ceiling.SPARSE, "hogwild", {"writes": "sparse"})):
        bare, engine = [], []
        for _ in range(rounds):
            bare.append(bare_gain(kind, spec, data))
            engine.append(run(RunConfig(algo=algo, threads=2, updates=3000, **extra)).updates_per_s
                          / run(RunConfig(algo=algo, threads=1, updates=3000, **extra)).updates_per_s)
        algo = algo + (" sparse" if extra else "")
        ratio = [e / b for e, b in zip(engine, bare)]
        print(f"   {algo:<15} bare {' '.join(f'{b:.2f}' for b in bare)}   engine {' '.join(f'{e:.2f}' for e in engine)}"
              f"   medians: bare {statistics.median(bare):.2f}, engine {statistics.median(engine):.2f}, "
              f"engine ÷ bare {statistics.median(ratio):.2f}")
    one = [ceiling.pass_us(1, spec.n_params) for _ in range(rounds)]
    two = [ceiling.pass_us(2, spec.n_params) for _ in range(rounds)]
    print(f"   a publish pass alone ({spec.n_params:,} floats, a new version from the latest): "
          f"{statistics.median(one):.1f} µs when this core wrote the latest, {statistics.median(two):.1f} µs when "
          f"the other did (medians of {rounds})")


def telemetry_cost(rounds: int) -> None:
    pairs = max(rounds, 9)
    print(f"telemetry on / off, MLP, 2 threads, {pairs} interleaved pairs (median of the pair ratios, range)")
    for algo in ("lock", "hogwild", "leashed"):
        ratios = []
        for _ in range(pairs):
            on = run(RunConfig(algo=algo, threads=2, updates=3000)).updates_per_s
            off = run(RunConfig(algo=algo, threads=2, updates=3000, telemetry=False)).updates_per_s
            ratios.append(on / off)
        print(f"   {algo:<10} on/off {statistics.median(ratios):.3f}  [{min(ratios):.3f}–{max(ratios):.3f}]")


def matmul_peak() -> float:
    """GFLOP/s of one-thread float32 matmuls through NumPy's BLAS (512×512 by 512×512, best of 5): the
    1-core peak this machine reaches, the roofline the kernel's arithmetic is read against."""
    a = np.random.default_rng(0).random((512, 512), np.float32)
    b = np.random.default_rng(1).random((512, 512), np.float32)
    best = 0.0
    for _ in range(5):
        n, t = 0, time.perf_counter()
        while time.perf_counter() - t < 0.3:
            a @ b
            n += 1
        best = max(best, n * 2 * 512 ** 3 / (time.perf_counter() - t) / 1e9)
    return best


def step_matmuls_rate(sizes, batch: int) -> float:
    """GFLOP/s of NumPy's BLAS doing only the matmuls of one training step at the step's own shapes (forward
    x·W, weight gradients xᵀ·δ, input gradients δ·Wᵀ; best of 5, one thread): the roofline for *this* step.
    A 16-row batch cannot use a BLAS the way 512×512 blocks do, so this, not the square-matrix peak, is
    what the kernel's arithmetic can be asked to reach."""
    rng = np.random.default_rng(0)
    layers = [(rng.random((batch, a), np.float32), rng.random((a, b), np.float32), rng.random((batch, b), np.float32))
              for a, b in zip(sizes[:-1], sizes[1:])]
    best = 0.0
    for _ in range(5):
        n, t = 0, time.perf_counter()
        while time.perf_counter() - t < 0.3:
            for i, (x, w, d) in enumerate(layers):
                x @ w
                x.T @ d
                if i > 0:
                    d @ w.T
            n += 1
        best = max(best, n * flops_per_step(sizes, batch) / (time.perf_counter() - t) / 1e9)
    return best


def single_step(rounds: int) -> None:
    data = load_dataset("mnist")
    sizes, batch, steps = (784, 128, 10), 16, 3000
    rng = np.random.default_rng(0)
    batches = [rng.choice(len(data.y_train), batch) for _ in range(steps)]
    ratios, kernel = [], []
    for _ in range(rounds):
        ref = NumpyMLP(sizes)
        t = time.perf_counter()
        for rows in batches:
            ref.step(data.X_train[rows], data.y_train[rows], 0.05)
        numpy_rate = steps / (time.perf_counter() - t)
        numba_rate = run(RunConfig(algo="seq", threads=1, updates=3000, telemetry=False)).updates_per_s
        ratios.append(numba_rate / numpy_rate)
        kernel.append(numba_rate)
    flops = flops_per_step(sizes, batch)
    peak = matmul_peak()
    shaped = step_matmuls_rate(sizes, batch)
    k = statistics.median(kernel)
    print("step: one training step (gradient + update), MLP 784-128-10, batch 16, one thread")
    print(f"   seq kernel / NumPy loop: median {statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}]")
    print(f"   seq kernel {k:,.0f} steps/s = {k * flops / 1e9:.1f} GFLOP/s by the dense count (the kernel skips zero "
          f"pixels, so it does fewer); 1-core float32 matmul peak here {peak:.1f} GFLOP/s → "
          f"{k * flops / 1e9 / peak:.0%} of it")
    print(f"   the step's own matmuls alone (16-row shapes) through NumPy's BLAS: {shaped:.1f} GFLOP/s = "
          f"{shaped / peak:.0%} of that peak; the whole seq step (its matmuls, ReLU, softmax, update) reaches "
          f"{k * flops / 1e9 / shaped:.0%} of the matmuls-only rate")


def time_to_target(rounds: int) -> None:
    print("target: seconds to 10% of the initial loss, 2 threads, evaluation every 10 ms (median [range])")
    for algo in ("lock", "hogwild", "leashed", "sync"):
        times = []
        for _ in range(rounds):
            r = run(RunConfig(algo=algo, threads=2, updates=None, seconds=30.0, target_loss=0.1, eval_every_s=0.01))
            times.append(r.time_to_target_s if r.time_to_target_s is not None else float("inf"))
        print(f"   {algo:<10}{statistics.median(times):>7.2f} s  [{min(times):.2f}–{max(times):.2f}]")


def warm_cli_run(rounds: int) -> None:
    cmd = module_argv("teach_sgd.commands", "run", "--algo", "leashed", "--threads", "2", "--updates", "2000")
    subprocess.run(cmd, cwd=PACKAGE_HOME, capture_output=True, check=True)  # make sure the cache is warm
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=PACKAGE_HOME, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    print(f"cli: warm `teach-sgd run --algo leashed --threads 2 --updates 2000`: {statistics.median(times):.2f} s "
          f"(median of {rounds}, whole process)")


def stop_latency(_rounds: int) -> None:
    print("stop: stop request → every thread ended")
    for algo in ("lock", "hogwild", "leashed"):
        for threads in (2, 64):
            runner = Runner(RunConfig(algo=algo, threads=threads, seconds=60)).start()
            time.sleep(0.5)
            t = time.perf_counter()
            runner.stop()
            runner.join()
            print(f"   {algo:<10}{threads:>3} threads: {1000 * (time.perf_counter() - t):6.1f} ms")


def repeat_cost(_rounds: int) -> None:
    """`compare --repeat 3` runs three seeds; per run it should cost what one run costs (data and kernels are
    loaded once per process)."""
    def wall(*extra):
        t = time.perf_counter()
        subprocess.run(module_argv("teach_sgd.commands", "compare", "--algos", "leashed", "--updates", "2000", *extra),
                       cwd=PACKAGE_HOME, check=True, capture_output=True)
        return time.perf_counter() - t

    one = statistics.median(wall() for _ in range(3))
    three = statistics.median(wall("--repeat", "3") for _ in range(3))
    print(f"repeat: compare --repeat: 1 run {one:.2f} s, 3 runs {three:.2f} s; each extra repeat costs "
          f"{(three - one) / 2:.2f} s")


SECTIONS = {"ceiling": ceiling_flips, "telemetry": telemetry_cost, "step": single_step, "target": time_to_target,
            "cli": warm_cli_run, "stop": stop_latency, "repeat": repeat_cost}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--rounds", type=int, default=5, help="rounds (repeats) per measurement (default 5)")
    p.add_argument("--against", metavar="REF", help="also measure the engine of git commit REF, interleaved")
    p.add_argument("--only", default="", help="comma-separated sections: throughput," + ",".join(SECTIONS))
    args = p.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - {"throughput", *SECTIONS}
    if unknown:
        p.error(f"unknown section(s) {', '.join(sorted(unknown))}")
    print(f"compile/load kernels: {warm_up():.1f} s   (cores: {os.cpu_count()}; "
          f"load average now {os.getloadavg()[0]:.1f}; {time.strftime('%Y-%m-%d %H:%M')})", flush=True)
    if not only or "throughput" in only:
        engines = [Engine("this checkout", sys.executable, PACKAGE_HOME)]
        if args.against:
            engines.append(build_ref(args.against))
        throughput(engines, args.rounds)
    for name, section in SECTIONS.items():
        if not only or name in only:
            section(args.rounds)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
