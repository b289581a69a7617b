#!/bin/sh
# Reference recordings for classes on laptops: HOGWILD! vs Leashed-SGD at 8 and 16 threads, made on a machine
# with at least 16 cores (each file stores the machine's core count and CPU). Keep them small (≤ 2 MB in all).
set -eu
out=${1:-$(dirname "$0")/../teach_sgd/data/recordings}  # where lessons look for them (teach_sgd/replay.py)
mkdir -p "$out"
cores=$(getconf _NPROCESSORS_ONLN)
[ "$cores" -ge 16 ] || echo "warning: this machine has $cores cores; reference recordings want ≥ 16" >&2
for algo in hogwild leashed; do
  for m in 8 16; do
    teach-sgd run --algo "$algo" --threads "$m" --seconds 3 --seed 0 --record "$out/$algo-$m.npz"
  done
done
ls -l "$out"
