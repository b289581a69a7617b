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

from teach_sgd.memory import require

from .dataset import DataError

_UBYTE = 0x08
DEFLATE_MAX_RATIO = 1032  # deflate never expands a stored byte into more than 1032 (zlib's technical notes)


def read_idx(path: str | Path) -> np.ndarray:
    """Return the uint8 array stored in the IDX file at `path` (plain or gzip), with its stored shape.

    The header is read first and the data only if it fits: a file that promises more than the machine has
    available (teach_sgd/memory.py) is refused before anything is decompressed, and no more bytes are ever read
    or decompressed than the header promises (a small gzip "bomb" cannot grow into gigabytes)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
            magic = f.read(4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
                raise DataError(f"{path} is not an IDX file (bad magic number {magic.hex() or 'empty'}); "
                                "give the MNIST-format files, e.g. train-images-idx3-ubyte.gz.")
            if magic[2] != _UBYTE:
                raise DataError(f"{path} stores IDX type 0x{magic[2]:02x}, but only unsigned-byte (0x08) images "
                                "and labels are supported; give the MNIST-format files.")
            ndim = magic[3]
            dims = f.read(4 * ndim)
            if ndim == 0 or len(dims) < 4 * ndim:
                raise DataError(f"{path} has a truncated IDX header; download the file again.")
            shape = tuple(int.from_bytes(dims[4 * i:4 * i + 4], "big") for i in range(ndim))
            expected = math.prod(shape)  # Python ints: a corrupt header cannot overflow the check
            stored = path.stat().st_size - 4 - 4 * ndim
            if gz and expected > DEFLATE_MAX_RATIO * path.stat().st_size:
                raise DataError(f"{path}'s header {shape} promises {expected:,} bytes, more than any gzip file of "
                                f"its size can hold; the file is truncated or corrupt, download the file again.")
            if not gz:
                if stored != expected:
                    raise DataError(f"{path} holds {stored} data bytes but its header {shape} promises "
                                    f"{expected}; the file is truncated or corrupt, download it again.")
            # the bytes, then the float32 pixels training reads (data/dataset.py from_uint8): 5 bytes a value
            require({"the file's bytes": expected, "its float32 pixels": 4 * expected},
                    f"{path.name} ({'×'.join(f'{n:,}' for n in shape)} values)",
                    "use a smaller dataset (fewer or smaller images)")
            raw = f.read(expected + 1)  # one byte more than promised tells a file with trailing data
    except FileNotFoundError:
        raise DataError(f"IDX file {path} does not exist; check the --data-dir folder.") from None
    except (OSError, EOFError, zlib.error) as e:  # zlib.error, BadGzipFile (an OSError): a corrupt gzip stream
        raise DataError(f"Could not read {path} ({e}); download the file again.") from None
    if len(raw) != expected:
        raise DataError(f"{path} holds {len(raw) if len(raw) <= expected else 'more than ' + str(expected)} data "
                        f"bytes but its header {shape} promises {expected}; the file is truncated or corrupt, "
                        "download it again.")
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)
