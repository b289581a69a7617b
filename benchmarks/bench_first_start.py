"""A new user's first run: from an empty kernel cache to training, as `teach-sgd run` does it.

    python benchmarks/bench_first_start.py          # three runs, each with a fresh, empty numba cache

Each run starts `teach-sgd run --seconds 2` (leashed, MLP, the defaults) in a subprocess with NUMBA_CACHE_DIR
pointing at a new empty folder, and timestamps every line it writes to stderr. Printed per run:
  import + data      until the first "compiling …" line (Python, numba, the bundled digits)
  compile            each compile stage the CLI announced, with its own duration
  training starts    the first progress line: the threads are running
  total              the process's whole wall time
and a second, warm run on the same cache (nothing is compiled; no "compiling" line may appear).
Target: training starts ≤ 20 s after launch on a quiet 2-core machine. Printed, never asserted.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from teach_sgd.child import PACKAGE_HOME, module_argv

ARGS = ("run", "--seconds", "2")


def timed_run(cache: str) -> tuple[list[tuple[float, str]], float]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    t0 = time.perf_counter()
    p = subprocess.Popen(module_argv("teach_sgd.commands", *ARGS), cwd=PACKAGE_HOME, env=env, text=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines = [(time.perf_counter() - t0, line.rstrip()) for line in p.stderr]
    p.wait()
    if p.returncode != 0:
        raise RuntimeError(f"exit status {p.returncode}: {lines[-1:] }")
    return lines, time.perf_counter() - t0


def report(lines, total) -> float:
    compiles = [(t, s) for t, s in lines if s.startswith("compiling")]
    start = next(t for t, s in lines if "updates" in s and not s.startswith("compiling"))
    marks = [t for t, _ in compiles] + [start]
    if compiles:
        print(f"   import + data {compiles[0][0]:5.1f} s")
    for (t, s), end in zip(compiles, marks[1:]):
        print(f"   {end - t:5.1f} s  {s.split('(')[0].strip()}")
    print(f"   training starts at {start:.1f} s, process ends at {total:.1f} s")
    return start


def main() -> int:
    cold = []
    for i in range(3):
        with tempfile.TemporaryDirectory() as cache:
            print(f"{i + 1}. empty cache (cores: {os.cpu_count()})")
            cold.append(report(*timed_run(cache)))
            lines, total = timed_run(cache)
            warm_start = next(t for t, s in lines if "updates" in s)
            said = any(s.startswith("compiling") for _, s in lines)
            print(f"   warm cache: training starts at {warm_start:.1f} s"
                  f"{' — but it said compiling!' if said else ', nothing compiled, nothing announced'}")
    print(f"first run, training starts: median {statistics.median(cold):.1f} s "
          f"({', '.join(f'{c:.1f}' for c in cold)})   (target ≤ 20 s on a quiet 2-core machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
