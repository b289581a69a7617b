"""teach_sgd: watch real threads race through asynchronous SGD.

numba caches compiled kernels, by default next to their source. Two problems with that here:
an installed package may live in a read-only site-packages (then `cache=True` fails at import), and
numba checks only a kernel's own file for changes, not the modules it calls (a changed model would run
with a stale kernel). So, unless the user chose NUMBA_CACHE_DIR, the cache lives in the user's cache
directory, in a folder named after a fingerprint of the sources the kernels are compiled from
(the numba code in engine/ and models/: editing the UI, a lesson or the Runner must not throw the compiled
kernels away). Folders of
older fingerprints are left in place (another installed copy may still use them); deleting
~/.cache/teach_sgd is always safe.
"""
import hashlib
import os
import re
import sys
from pathlib import Path

__version__ = "0.1.0"


_IMPORTS_NUMBA = re.compile(r"^(from|import) numba", re.M)


def source_fingerprint() -> str:
    package = Path(__file__).parent
    h = hashlib.sha1(__version__.encode())
    for path in sorted([*package.glob("engine/*.py"), *package.glob("models/*.py")]):
        # only what numba compiles: the kernels, the models, and layout.py, whose constants are compiled in
        if path.name != "layout.py" and not _IMPORTS_NUMBA.search(path.read_text()):
            continue
        st = path.stat()
        h.update(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:12]


def user_cache_dir() -> Path:
    """~/.cache/teach_sgd (or under XDG_CACHE_HOME): compiled kernels and what their compiles took."""
    return Path(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")) / "teach_sgd"


if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = str(user_cache_dir() / "numba" / source_fingerprint())
    # numba reads its environment once, when it is imported. A program that imported numba before
    # teach_sgd would otherwise cache our kernels beside their sources, where a changed callee goes
    # unnoticed; its live config is what each cached kernel consults when it is defined.
    if "numba.core.config" in sys.modules:
        sys.modules["numba.core.config"].CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]
