"""teach_sgd: watch real threads race through asynchronous SGD.

numba caches compiled kernels next to their source by default; an installed package may live in a
read-only site-packages, and then `cache=True` fails at import. Point the cache at the user's cache
directory unless the user chose one.
"""
import os

if "NUMBA_CACHE_DIR" not in os.environ:
    _base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(_base, "teach_sgd", "numba")

__version__ = "0.1.0"
