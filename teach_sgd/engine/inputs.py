"""What a run is made of, before it runs: the kernel of each algorithm, the data and the model.

The Runner (runner.py) and the warm-up (warmup.py), which compiles a kernel by calling it on a tiny run before
any clock starts, both build runs from these, so neither needs the other's module to do it.
"""
from __future__ import annotations

from collections import OrderedDict

from teach_sgd.data import Dataset, load_dataset
from teach_sgd.engine import hogwild, leashed, lock, seq, sync
from teach_sgd.engine.config import RunConfig
from teach_sgd.errors import DataError
from teach_sgd.models import ModelSpec, make_model

KERNELS = {"seq": seq.worker, "lock": lock.worker, "hogwild": hogwild.worker, "leashed": leashed.worker,
           "sync": sync.worker}

# Datasets read or made this process, most recently used last. A few: compare and sweeps run many configs
# on the same data, and an app session switches between a handful; a seed's synthetic set is ~8 MB, and
# keeping every one made a 1,000-run stress grow to 6 GB.
DATASETS_KEPT = 4
_datasets: OrderedDict[tuple, Dataset] = OrderedDict()


def model_for(config: RunConfig, data: Dataset) -> ModelSpec:
    """The config's model, shaped for the data's images and classes; DataError if they cannot fit."""
    try:
        return make_model(config.model, config.hidden, data.image_shape, data.n_classes)
    except ValueError as e:
        raise DataError(f"the {config.model.upper()} cannot train on {data.name}'s {data.image_shape[0]}×"
                        f"{data.image_shape[1]} images with {data.n_classes} classes: {e}") from None


def dataset_for(config: RunConfig) -> Dataset:
    """The config's dataset, read or made once and kept among the DATASETS_KEPT most recently used."""
    key = (config.dataset, config.data_dir, config.seed if config.dataset == "synthetic" else 0)
    if key in _datasets:
        _datasets.move_to_end(key)
    else:
        _datasets[key] = load_dataset(config.dataset, data_dir=config.data_dir, seed=key[2])
        while len(_datasets) > DATASETS_KEPT:
            _datasets.popitem(last=False)
    return _datasets[key]


def model_inputs(model: ModelSpec, data: Dataset, split: str):
    """data's `split` images ("train" or "test") as the model's kernels take them (ModelSpec.inputs), made
    once per dataset and model kind and kept with the dataset."""
    key = (model.name, split)
    if key not in data.derived:
        data.derived[key] = model.inputs(data.X_train if split == "train" else data.X_test)
    return data.derived[key]
