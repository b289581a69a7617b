"""How well HOGWILD!'s lost-write sample sees the lost writes of plain stores, against ground truth.

Two threads run the engine's observed racy apply (engine/hogwild.py racy_apply_observed) back to back on
one shared θ of the MLP's size, every write adding exactly 1.0 (g = −1, η = 1, θ₀ = 0, small integers are
exact in float32): afterwards θ[i] is the number of writes to coordinate i that survived, so every lost
write is counted, observed or not. Each apply takes a ticket from a shared counter and observes the lines
the engine's update with that ticket observes.

    python benchmarks/lost_sample.py [--applies 3000] [--rounds 3]

It prints, per round, the sample's count (lost of observed writes, and that share) against the true share
of all writes lost. Two threads only race while both have a core: on a loaded machine both shrink.
"""
import argparse
import os
import threading

import numpy as np
from numba import njit

from teach_sgd.engine import atomics
from teach_sgd.engine.hogwild import racy_apply_observed
from teach_sgd.engine.layout import SAMPLE_LINE
from teach_sgd.engine.state import SAMPLE_STRIDE, cache_aligned_zeros
from teach_sgd.models import make_model


@njit(nogil=True)
def _applies(theta, g, applies, tickets, out):
    for _ in range(applies):
        ticket = atomics.fetch_add(tickets, 0, 1)
        lost, sampled, _written = racy_apply_observed(theta, g, 1.0, SAMPLE_STRIDE, ticket % SAMPLE_STRIDE, False)
        out[0] += lost
        out[1] += sampled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applies", type=int, default=3000, help="applies per thread per round (default 3000)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = make_model("mlp").n_params
    g = -np.ones(n, np.float32)
    _applies(np.zeros(n, np.float32), g, 1, np.zeros(1, np.int64), np.zeros(2, np.int64))  # compile first
    print(f"2 threads × {args.applies:,} dense applies of {n:,} coordinates, every {SAMPLE_STRIDE}th line of "
          f"{SAMPLE_LINE} observed, a different set each apply")
    for r in range(args.rounds):
        theta = cache_aligned_zeros(n, np.float32)
        outs, tickets = [np.zeros(2, np.int64) for _ in range(2)], np.zeros(1, np.int64)
        threads = [threading.Thread(target=_applies, args=(theta, g, args.applies, tickets, o)) for o in outs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        writes = 2 * args.applies * n
        true_lost = writes - theta.astype(np.float64).sum()
        counted = sum(int(o[0]) for o in outs)
        sampled = sum(int(o[1]) for o in outs)
        print(f"   round {r + 1}: the sample counted {counted:,} lost of {sampled:,} observed writes "
              f"({counted / sampled:.4%}); true: {true_lost:,.0f} of all {writes:,} writes lost ({true_lost / writes:.4%})")
    print(f"   load average {os.getloadavg()[0]:.1f} (2 threads race only while both have a core)")


if __name__ == "__main__":
    main()
