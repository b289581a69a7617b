"""The outside anchor: PyTorch's `mnist_hogwild` idiom on the same data, model and step, against teach_sgd.

    python benchmarks/peers/torch_hogwild.py             # needs torch; skipped (exit 0, one line) without it

PyTorch's example trains one model shared between processes (`model.share_memory()`, one
`torch.multiprocessing.Process` per worker, each with its own optimizer over the shared parameters: racy
HOGWILD! writes). Here the same idiom runs the MLP 784-128-10 on the bundled MNIST subset, batch 16, η 0.05,
plain SGD, with 1 and 2 processes, and teach_sgd's Leashed-SGD and HOGWILD! with 1 and 2 threads on the same
settings, interleaved in rounds. Reported: updates/s (all workers together) and seconds to 10% of the initial
loss, medians over the rounds, and the ratios teach_sgd / torch. torch is never a dependency of teach_sgd or
of its tests.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

try:
    import torch
    import torch.multiprocessing as mp
    import torch.nn.functional as F
except ImportError:
    print("torch is not installed: the PyTorch peer benchmark is skipped (pip install torch to run it)")
    sys.exit(0)

import numpy as np

from teach_sgd.data import load_dataset
from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import run

BATCH, LR, UPDATES = 16, 0.05, 3000


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def _train(model, X, y, updates, seed, counter, start, losses, target):
    """One worker process, as in PyTorch's mnist_hogwild: its own optimizer over the shared parameters."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    n = len(y)
    start.wait()
    t0 = last = time.perf_counter()
    for _ in range(updates):
        if losses[0] != 0.0 or (target.value > 0 and time.perf_counter() - t0 > 30.0):
            break  # another worker reached the target, or 30 s passed (as teach_sgd's --seconds 30)
        rows = torch.randint(0, n, (BATCH,))
        opt.zero_grad()
        loss = F.cross_entropy(model(X[rows]), y[rows])
        loss.backward()
        opt.step()
        with counter.get_lock():
            counter.value += 1
        if target.value > 0 and time.perf_counter() - last >= 0.01:  # evaluated every 10 ms, as teach_sgd's runs
            last = time.perf_counter()
            with torch.no_grad():
                full = F.cross_entropy(model(X[:256]), y[:256]).item()
            if full <= target.value:
                losses[0] = time.perf_counter() - t0


def torch_run(procs: int, X, y, target_loss: float) -> tuple[float, float]:
    """(updates/s of all processes, seconds to target_loss or inf); target_loss 0: no evaluation at all."""
    model = Net()
    model.share_memory()
    counter = mp.Value("l", 0)
    start = mp.Barrier(procs + 1)
    reached = mp.Array("d", [0.0])
    target = mp.Value("d", target_loss)
    workers = [mp.Process(target=_train, args=(model, X, y, (UPDATES if target_loss == 0 else 10**9) // procs, s, counter,
                                                  start, reached, target))
               for s in range(procs)]
    for w in workers:
        w.start()
    start.wait()
    t = time.perf_counter()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t
    return counter.value / wall, (reached[0] or float("inf"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    data = load_dataset("mnist")
    X = torch.from_numpy(np.ascontiguousarray(data.X_train.reshape(len(data.y_train), -1), dtype=np.float32))
    y = torch.from_numpy(data.y_train.astype(np.int64))
    with torch.no_grad():
        loss0 = F.cross_entropy(Net()(X[:256]), y[:256]).item()
    got = {}
    for _ in range(args.rounds):
        for m in (1, 2):
            rate, _ = torch_run(m, X, y, 0.0)
            _, ttt = torch_run(m, X, y, 0.1 * loss0)
            got.setdefault(("torch", m), []).append((rate, ttt))
            for algo in ("leashed", "hogwild"):
                r = run(RunConfig(algo=algo, threads=m, lr=LR, batch=BATCH, updates=UPDATES))
                t = run(RunConfig(algo=algo, threads=m, lr=LR, batch=BATCH, updates=None, seconds=30.0,
                                  target_loss=0.1, eval_every_s=0.01)).time_to_target_s
                got.setdefault((algo, m), []).append((r.updates_per_s, t if t is not None else float("inf")))
    med = lambda key, i: statistics.median(v[i] for v in got[key])  # noqa: E731
    print(f"updates/s and seconds to 10% of the initial loss (medians of {args.rounds} interleaved rounds; "
          f"{os.cpu_count()} cores; torch {torch.__version__})")
    for m in (1, 2):
        for who in ("torch", "leashed", "hogwild"):
            print(f"   {who:<9} m={m}  {med((who, m), 0):>9,.0f} updates/s   {med((who, m), 1):>7.2f} s to 10%")
        print(f"   leashed / torch at m={m}: updates/s {med(('leashed', m), 0) / med(('torch', m), 0):.2f}×, "
              f"time to 10% {med(('leashed', m), 1) / med(('torch', m), 1):.2f}×")


if __name__ == "__main__":
    mp.set_start_method("fork", force=True)
    main()
