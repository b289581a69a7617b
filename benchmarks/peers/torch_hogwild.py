"""The outside anchor: PyTorch's `mnist_hogwild` idiom on the same data, model and step, against teach_sgd.

    python benchmarks/peers/torch_hogwild.py             # needs torch; skipped (exit 0, one line) without it

PyTorch's example trains one model shared between processes (`model.share_memory()`, one
`torch.multiprocessing.Process` per worker, each with its own optimizer over the shared parameters: racy
HOGWILD! writes). Here the same idiom runs the MLP 784-128-10 on the bundled MNIST subset, batch 16, η 0.05,
plain SGD, from teach_sgd's initial θ (seed 0), with 1 and 2 processes, and teach_sgd's Leashed-SGD and HOGWILD! with 1 and 2 threads on the same
settings, interleaved in rounds. Reported: updates/s (all workers together) and seconds to 10% of the initial
loss, medians over the rounds, and the ratios teach_sgd / torch. torch is never a dependency of teach_sgd or
of its tests.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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
from teach_sgd.models import make_model

BATCH, LR, UPDATES = 16, 0.05, 3000
EVAL_S = 0.01  # as teach_sgd's runs below (eval_every_s)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))

    def start_as_teach_sgd(self, seed: int = 0) -> "Net":
        """The same initial θ as a teach_sgd run of this seed (the paper's N(0, 0.01²) weights, zero biases):
        with torch's own default init this MLP reaches 10% of its initial loss in about a quarter of the
        updates, which would compare two inits, not two engines."""
        theta = make_model("mlp").init(seed)
        blocks = {name: theta[off:off + int(np.prod(shape))].reshape(shape)
                  for name, shape, off in make_model("mlp").layout()}
        with torch.no_grad():
            self.fc1.weight.copy_(torch.from_numpy(blocks["W1"].T.copy()))
            self.fc1.bias.copy_(torch.from_numpy(blocks["b1"]))
            self.fc2.weight.copy_(torch.from_numpy(blocks["W2"].T.copy()))
            self.fc2.bias.copy_(torch.from_numpy(blocks["b2"]))
        return self


# teach_sgd runs in a child process of its own, as bench_engine measures it: not beside torch's libraries and
# the worker processes this one forks.
CHILD = """
import json, sys
from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import run
r = run(RunConfig(**json.loads(sys.argv[1])))
print(json.dumps([r.updates_per_s, r.time_to_target_s]))
"""


def teach_sgd_run(**settings) -> tuple[float, float | None]:
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(settings)], capture_output=True, text=True, check=True)
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


def eval_rows(n: int, seed: int = 0, samples: int = 256) -> torch.Tensor:
    """The rows a teach_sgd run of this seed evaluates its loss on (engine/state.py draws them so: a permutation
    first, then 256 rows without replacement). The bundled subset is sorted by label, so the first 256 rows are
    all zeros: a loss on them says how well the model predicts '0', not how well it has learnt."""
    rng = np.random.default_rng(seed)
    rng.permutation(n)
    return torch.from_numpy(np.sort(rng.choice(n, size=min(samples, n), replace=False)).astype(np.int64))


def _train(model, X, y, updates, seed, counter, start, losses, target, due):
    """One worker process, as in PyTorch's mnist_hogwild: its own optimizer over the shared parameters. The loss
    is evaluated every 10 ms of the run by whichever worker first finds an evaluation due (`due`, shared), as a
    teach_sgd run evaluates: an evaluation every 10 ms per worker would time two workers' runs twice as finely."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    n = len(y)
    rows_eval = eval_rows(n)
    start.wait()
    t0 = time.perf_counter()
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
        if target.value > 0 and time.perf_counter() - t0 >= due.value and claim(due, time.perf_counter() - t0):
            with torch.no_grad():
                full = F.cross_entropy(model(X[rows_eval]), y[rows_eval]).item()
            if full <= target.value:
                losses[0] = time.perf_counter() - t0


def claim(due, now: float) -> bool:
    """Take the evaluation that is due, if no other worker took it first; the next is due EVAL_S later."""
    with due.get_lock():
        if now < due.value:
            return False
        due.value = now + EVAL_S
        return True


def torch_run(procs: int, X, y, target_loss: float) -> tuple[float, float]:
    """(updates/s of all processes, seconds to target_loss or inf); target_loss 0: no evaluation at all."""
    model = Net().start_as_teach_sgd()
    model.share_memory()
    counter = mp.Value("l", 0)
    start = mp.Barrier(procs + 1)
    reached = mp.Array("d", [0.0])
    target = mp.Value("d", target_loss)
    due = mp.Value("d", EVAL_S)  # run time of the next evaluation
    workers = [mp.Process(target=_train, args=(model, X, y, (UPDATES if target_loss == 0 else 10**9) // procs, s, counter,
                                                  start, reached, target, due))
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
        rows = eval_rows(len(y))
        loss0 = F.cross_entropy(Net().start_as_teach_sgd()(X[rows]), y[rows]).item()
    got = {}
    for _ in range(args.rounds):
        for m in (1, 2):
            rate, _ = torch_run(m, X, y, 0.0)
            _, ttt = torch_run(m, X, y, 0.1 * loss0)
            got.setdefault(("torch", m), []).append((rate, ttt))
            for algo in ("leashed", "hogwild"):
                rate, _ = teach_sgd_run(algo=algo, threads=m, lr=LR, batch=BATCH, updates=UPDATES)
                _, t = teach_sgd_run(algo=algo, threads=m, lr=LR, batch=BATCH, updates=None, seconds=30.0,
                                     target_loss=0.1, eval_every_s=EVAL_S)
                got.setdefault((algo, m), []).append((rate, t if t is not None else float("inf")))
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
