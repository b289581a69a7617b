"""Kernel warm-up for the UI: compile in a subprocess (first run), then load from numba's cache in-process.

Compiling a numba kernel holds the GIL for tens of seconds, which would freeze the Textual event loop. So the
app asks `kernels_cached()`; if the answer is no it runs `python -m teach_sgd.tui.warm` as a subprocess (which
prints one progress line per kernel) behind a visible "compiling kernels (first run only)" status, and only
then calls `warm_up()` in-process, where it merely loads the cached machine code (~1 s).

A marker file in NUMBA_CACHE_DIR records a fingerprint of the engine/model sources the cache was built from.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import teach_sgd  # (importing it sets NUMBA_CACHE_DIR)

def _fingerprint() -> str:
    """The compiled sources (teach_sgd's cache fingerprint) and the Python that compiled them."""
    return hashlib.sha1(f"{sys.version}:{teach_sgd.source_fingerprint()}".encode()).hexdigest()[:16]


def _marker() -> Path:
    return Path(os.environ["NUMBA_CACHE_DIR"]) / "teach_sgd_tui_warm.ok"


def kernels_loaded() -> bool:
    """True if this process has already compiled or loaded every kernel (e.g. the test suite warmed them)."""
    warmup = sys.modules.get("teach_sgd.engine.warmup")
    return warmup is not None and all(warmup.is_warm(*k) for k in warmup.all_kernels())


def kernels_cached() -> bool:
    """True if a previous warm-up left machine code for these exact sources in numba's cache."""
    try:
        return _marker().read_text().strip() == _fingerprint()
    except OSError:
        return False


def mark_cached() -> None:
    try:
        _marker().parent.mkdir(parents=True, exist_ok=True)
        _marker().write_text(_fingerprint() + "\n")
    except OSError:
        pass


def warm_in_process() -> float:
    """Load (or compile) every kernel in this process; returns seconds. Call from a thread, not the UI loop."""
    from teach_sgd.engine.warmup import warm_up

    t = warm_up()
    mark_cached()
    return t


def main() -> int:
    from teach_sgd.engine.warmup import all_kernels, warm_up

    t0 = time.perf_counter()
    kernels = all_kernels()
    for i, kernel in enumerate(kernels, 1):
        warm_up([kernel])
        print(f"{i}/{len(kernels)} {' '.join(kernel)} {time.perf_counter() - t0:.1f}s", flush=True)
    mark_cached()
    return 0


if __name__ == "__main__":
    sys.exit(main())
