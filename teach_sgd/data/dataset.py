"""The Dataset record every run trains on; the data layer raises errors.DataError."""
from dataclasses import dataclass, field

import numpy as np

from teach_sgd.errors import DataError  # noqa: F401  (re-exported: the data layer's one error type)


@dataclass
class Dataset:
    """Images as float32 rows in [0, 1] (C-contiguous, one flattened image per row) and int64 labels.

    The arrays have exactly the dtypes and layout the numba kernels are compiled for, so no copy or
    conversion happens once a run starts.
    """
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int] = (28, 28)
    n_classes: int = 10
    source: str = ""
    # What runs derive from these images once and reuse while the dataset is kept (engine/inputs.py): e.g. the
    # MLP's list of each image's nonzero pixels. Not part of the data: never compared, never shown.
    derived: dict = field(default_factory=dict, repr=False, compare=False)


def from_uint8(name, images_train, labels_train, images_test, labels_test, image_shape, source) -> Dataset:
    """Build a Dataset from uint8 pixels and labels, scaling pixels by 1/255."""
    def rows(images):
        x = np.ascontiguousarray(images.reshape(len(images), -1), dtype=np.float32)
        x /= np.float32(255.0)  # in place: a second float32 copy would double the peak (data/idx.py checks 5×)
        return x

    def labels(y):
        return np.ascontiguousarray(y, dtype=np.int64)

    return Dataset(name=name, X_train=rows(images_train), y_train=labels(labels_train),
                   X_test=rows(images_test), y_test=labels(labels_test),
                   image_shape=tuple(image_shape), n_classes=10, source=source)
