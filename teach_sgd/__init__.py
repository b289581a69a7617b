"""teach_sgd: watch real threads race through asynchronous SGD.

numba caches compiled kernels, by default next to their source. Two problems with that here:
an installed package may live in a read-only site-packages (then `cache=True` fails at import), and
numba checks only a kernel's own file for changes, not the modules it calls (a changed model would run
with a stale kernel). So, unless the user chose NUMBA_CACHE_DIR, the cache lives in the user's cache
directory, in a folder named after a fingerprint of the sources the kernels are compiled from
(the numba code in engine/ and models/: editing the UI, a lesson or the Runner must not throw the compiled
kernels away). Folders of
older fingerprints are left in place (another installed copy may still use them); deleting
~/.cache/teach_sgd is always safe. A read-only HOME falls back to the temporary folder (said once), and
numba is told to use that one folder only, so it never writes into site-packages.
"""
import functools
import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path

__version__ = "0.1.0"


_IMPORTS_NUMBA = re.compile(r"^(from|import) numba", re.M)


def source_fingerprint() -> str:
    package = Path(__file__).parent
    h = hashlib.sha1(__version__.encode())
    for path in sorted([*package.glob("engine/*.py"), *package.glob("models/*.py")]):
        # only what numba compiles: the kernels, the models, and layout.py, whose constants are compiled in
        if path.name != "layout.py" and not _IMPORTS_NUMBA.search(path.read_text(encoding="utf-8")):
            continue
        st = path.stat()
        h.update(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:12]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


@functools.cache
def user_cache_dir() -> Path:
    """~/.cache/teach_sgd (or under XDG_CACHE_HOME): compiled kernels and what their compiles took. When that
    cannot be written (a read-only HOME: a locked-down classroom machine, a container), a per-user folder in the
    temporary folder instead, said once on stderr."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"))
    if _writable(base / "teach_sgd"):
        return base / "teach_sgd"
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    temp = Path(tempfile.gettempdir()) / f"teach_sgd-{user}"
    print(f"teach-sgd: {base} cannot be written; compiled kernels are cached in {temp} instead (they are "
          "compiled again once that folder is cleared)", file=sys.stderr)
    return temp


if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = str(user_cache_dir() / "numba" / source_fingerprint())
    # Only that folder: numba's other locators would fall back to writing beside the sources, into
    # site-packages, when the folder cannot be used.
    os.environ["NUMBA_CACHE_LOCATOR_CLASSES"] = "UserProvidedCacheLocator"
    # numba reads its environment once, when it is imported. A program that imported numba before
    # teach_sgd would otherwise cache our kernels beside their sources, where a changed callee goes
    # unnoticed; its live config is what each cached kernel consults when it is defined.
    if "numba.core.config" in sys.modules:
        sys.modules["numba.core.config"].CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]
        sys.modules["numba.core.config"].CACHE_LOCATOR_CLASSES = "UserProvidedCacheLocator"
