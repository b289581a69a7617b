"""The exhaustive checker's speed: states per second, and the largest configuration it finishes in 60 s.

    python benchmarks/bench_check.py [--budget 60]

For each protocol, configurations grow (threads × updates) until one takes longer than the budget; that one
is reported as not finished. Checks run in a child process with a hard time limit, so a configuration that
would take minutes costs at most the budget. Prints ratios and counts only; nothing here gates a build.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp

CONFIGS = {
    "leashed": [(2, 1), (2, 2), (3, 1), (2, 3), (3, 2)],
    "leashed-untagged": [(2, 2), (3, 1), (2, 3)],
    "hogwild": [(2, 2), (3, 2), (3, 3), (4, 2)],
}


def _run(protocol, threads, updates, out):
    from teach_sgd.sim.check import check, make_model

    r = check(make_model(protocol, threads, updates))
    out.put((r.states, r.seconds, sum(r.violations.values())))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per configuration (default 60)")
    args = ap.parse_args()
    print(f"{'protocol':<18} {'m × U':>6} {'states':>12} {'seconds':>8} {'states/s':>10} {'violations':>10}")
    for protocol, configs in CONFIGS.items():
        largest = None
        for threads, updates in configs:
            out = mp.Queue()
            child = mp.Process(target=_run, args=(protocol, threads, updates, out))
            child.start()
            child.join(args.budget)
            if child.is_alive():
                child.kill()
                child.join()
                print(f"{protocol:<18} {threads:>2} × {updates:<2} {'—':>12} {'>' + str(int(args.budget)):>8}")
                break
            states, seconds, violations = out.get()
            largest = (threads, updates, states, seconds)
            print(f"{protocol:<18} {threads:>2} × {updates:<2} {states:>12,} {seconds:>8.2f} "
                  f"{states / max(seconds, 1e-9):>10,.0f} {violations:>10,}")
        if largest:
            t, u, states, seconds = largest
            print(f"  largest finished within {args.budget:g} s: {t} threads × {u} updates, {states:,} states "
                  f"in {seconds:.1f} s")


if __name__ == "__main__":
    main()
