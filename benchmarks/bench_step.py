"""One training step of each model in thread CPU time, this checkout against an older commit, alternated.

    python benchmarks/bench_step.py [--against REF] [--rounds 5]

The step is `loss_and_grad` on a mini-batch of 16 plus θ −= 0.01·g (the same plain loop for both engines, so
only the models' kernels differ): MLP 784-128-10 (1,000 steps a round) and the CNN (300). Each round runs
each engine in a child process of its own (REF built as by bench_engine.py --against), one after the other;
thread CPU time, so a preempted child is not charged for the wait. Prints µs per step, median [min–max].
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_engine import Engine, build_ref  # noqa: E402

CHILD = """
import json, sys
import numpy as np
from numba import njit
from teach_sgd.data import load_dataset
from teach_sgd.engine.native import thread_cpu_ns
from teach_sgd.models import make_model, loss_and_grad

@njit(nogil=True)
def steps(kind, dims, theta, X, y, batches, grad, work):
    t0 = thread_cpu_ns()
    for r in range(batches.shape[0]):
        loss_and_grad(kind, dims, theta, X, y, batches[r], grad, work)
        for i in range(theta.shape[0]):
            theta[i] -= np.float32(0.01) * grad[i]
    return (thread_cpu_ns() - t0) / batches.shape[0] / 1000.0

data = load_dataset("mnist")
rng = np.random.default_rng(0)
got = {}
for name, n in (("mlp", 1000), ("cnn", 300)):
    spec = make_model(name, hidden=(128,))
    batches = np.stack([rng.choice(len(data.y_train), 16) for _ in range(n)]).astype(np.int64)
    theta = spec.init(0)
    grad, work = np.zeros_like(theta), np.zeros(spec.workspace_size(16), np.float32)
    X = spec.inputs(data.X_train) if hasattr(spec, "inputs") else data.X_train  # as that engine passes them
    args = (spec.kind, spec.dims, theta, X, data.y_train)
    steps(*args, batches[:3], grad, work)  # compile or load outside the clock
    got[name] = steps(*args, batches, grad, work)
print(json.dumps(got))
"""


def measure(engine: Engine) -> dict:
    out = subprocess.run([engine.python, "-c", CHILD], cwd=engine.cwd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench_step: {engine.name} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--against", metavar="REF", help="also measure git commit REF's kernels, alternated")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    repo = Path(__file__).resolve().parent.parent
    engines = [Engine("this checkout", sys.executable, str(repo))]
    if args.against:
        engines.append(build_ref(args.against))
    got = {e.name: {"mlp": [], "cnn": []} for e in engines}
    for _ in range(args.rounds):
        for e in engines:
            for model, us in measure(e).items():
                got[e.name][model].append(us)
    print(f"one step (loss_and_grad + update, batch 16), µs of thread CPU time over {args.rounds} rounds")
    for model in ("mlp", "cnn"):
        for e in engines:
            v = got[e.name][model]
            print(f"   {model}  {e.name:<24}{statistics.median(v):8.1f}  [{min(v):.1f}–{max(v):.1f}]")
        if len(engines) == 2:
            new, old = (statistics.median(got[e.name][model]) for e in engines)
            print(f"   {model}  {'new / old':<24}{new / old:8.2f}")


if __name__ == "__main__":
    main()
