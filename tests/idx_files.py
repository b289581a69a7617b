"""MNIST-format (IDX) files for tests, encoded by hand, independently of teach_sgd.data.idx (which only reads)."""
import struct
from pathlib import Path

import numpy as np


def idx_bytes(array: np.ndarray, magic_type=0x08) -> bytes:
    header = struct.pack(">BBBB", 0, 0, magic_type, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def idx_dir(folder: Path, train_images, test_images=None) -> Path:
    """A folder of the four MNIST-format files, with the given image arrays (labels 0…9 cycling)."""
    folder.mkdir()
    test_images = train_images if test_images is None else test_images
    for stem, imgs in (("train", train_images), ("t10k", test_images)):
        (folder / f"{stem}-images-idx3-ubyte").write_bytes(idx_bytes(imgs))
        (folder / f"{stem}-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(len(imgs)) % 10))
    return folder


def images(n: int, rows: int, cols: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
