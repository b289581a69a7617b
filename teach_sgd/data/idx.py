"""Reader for the IDX files that MNIST and Fashion-MNIST are distributed in.

An IDX file is: two zero bytes, a type byte (0x08 = unsigned byte, the only one these datasets use), a byte
with the number of dimensions, then each dimension as a big-endian uint32, then the data in row-major order.
Files may be gzip-compressed; the gzip magic (1f 8b) is recognised whatever the file is called.
"""
import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from .dataset import DataError

_UBYTE = 0x08


def read_idx(path: str | Path) -> np.ndarray:
    """Return the uint8 array stored in the IDX file at `path` (plain or gzip), with its stored shape."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataError(f"IDX file {path} does not exist; check the --data-dir folder.") from None
    except (OSError, EOFError, zlib.error) as e:  # zlib.error: a corrupt gzip stream
        raise DataError(f"Could not read {path} ({e}); download the file again.") from None

    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'}); "
                        "give the MNIST-format files, e.g. train-images-idx3-ubyte.gz.")
    if raw[2] != _UBYTE:
        raise DataError(f"{path} stores IDX type 0x{raw[2]:02x}, but only unsigned-byte (0x08) images and "
                        "labels are supported; give the MNIST-format files.")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path} has a truncated IDX header; download the file again.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(shape)  # Python ints: a corrupt header cannot overflow the check
    if len(raw) - header != expected:
        raise DataError(f"{path} holds {len(raw) - header} data bytes but its header {shape} promises {expected}; "
                        "the file is truncated or corrupt, download it again.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
