"""Kernel warm-up for the UI: compile in a subprocess, then load from numba's cache in-process.

Compiling a numba kernel holds the GIL for seconds, which would freeze the Textual event loop. So the app
compiles in a subprocess, `python -m teach_sgd.tui.warm ALGO:MODEL …`, which prints one progress line per
kernel, behind a visible "compiling 1/2 seq mlp: 12 s … — first run only" status; then it calls `warm_up()` in-process,
where it merely loads the cached machine code (~1 s).

Each model has its own kernels (models/__init__.py), so the app warms the MLP's four at start-up, which
every screen opens with, and a CNN kernel only when a run first asks for it (`TeachSGDApp.ensure_kernels`).

A marker file in NUMBA_CACHE_DIR lists the kernels a previous warm-up compiled for these exact sources, so a
warm cache skips the subprocess.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import teach_sgd  # (importing it sets NUMBA_CACHE_DIR)
from teach_sgd.engine.config import ALGOS
from teach_sgd.engine.warmup import warm_up
from teach_sgd.output import write_atomic

# Leashed-SGD first: the Playground, Compare and most lessons open with it
AT_START = tuple((algo, "mlp") for algo in sorted(ALGOS, key=lambda a: a != "leashed"))


def _fingerprint() -> str:
    """The compiled sources (teach_sgd's cache fingerprint) and the Python that compiled them."""
    return hashlib.sha1(f"{sys.version}:{teach_sgd.source_fingerprint()}".encode()).hexdigest()[:16]


def _marker() -> Path:
    return Path(os.environ["NUMBA_CACHE_DIR"]) / "teach_sgd_tui_warm.ok"


def _marked() -> set[str]:
    try:
        lines = _marker().read_text(encoding="utf-8").split()
    except OSError:
        return set()
    return set(lines[1:]) if lines and lines[0] == _fingerprint() else set()


def kernels_loaded(kernels=AT_START) -> bool:
    """True if this process has already compiled or loaded these kernels (e.g. the test suite warmed them)."""
    warmup = sys.modules.get("teach_sgd.engine.warmup")
    return warmup is not None and all(warmup.is_warm(*k) for k in kernels)


def kernels_cached(kernels=AT_START) -> bool:
    """True if a previous warm-up left machine code for these kernels of these exact sources in the cache."""
    return {f"{a}:{m}" for a, m in kernels} <= _marked()


def mark_cached(kernels) -> None:
    try:
        _marker().parent.mkdir(parents=True, exist_ok=True)
        names = sorted(_marked() | {f"{a}:{m}" for a, m in kernels})
        write_atomic(_marker(), "\n".join([_fingerprint(), *names]) + "\n")
    except OSError:
        pass


def warm_in_process(kernels=AT_START) -> float:
    """Load (or compile) these kernels in this process; returns seconds. Call from a thread, not the UI loop."""

    t = warm_up(kernels)
    mark_cached(kernels)
    return t


def main(argv: list[str]) -> int:
    """Compile the kernels named ALGO:MODEL (default: the MLP's), printing `i/n algo model seconds` after each."""

    kernels = [tuple(a.split(":", 1)) for a in argv] or list(AT_START)
    t0 = time.perf_counter()
    for i, kernel in enumerate(kernels, 1):
        warm_up([kernel])
        print(f"{i}/{len(kernels)} {' '.join(kernel)} {time.perf_counter() - t0:.1f}s", flush=True)
    mark_cached(kernels)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
