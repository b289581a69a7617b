"""How long each kernel took to compile on this machine, last time: what a first run can expect, measured.

A compile's length depends on the machine and on what else it runs (15–19 s for the Leashed MLP kernel on a
quiet 2-core machine, 31 s seen on a loaded one), so the tool never promises a number: it counts the seconds
while it compiles, and beside them shows how long the same kernel took the last time it was compiled here
(after a change of the sources the kernels compile again, and the last time is the best guess there is).

    expected_s("leashed", "mlp")        # seconds, or None if this machine never compiled it
    remember("leashed", "mlp", 15.2)

The times live in ~/.cache/teach_sgd/compile_seconds.json (teach_sgd.user_cache_dir), beside the per-source
kernel caches, so they outlive a change of sources. A file that cannot be read or written is no time known.
"""
from __future__ import annotations

import json
from pathlib import Path

from teach_sgd import user_cache_dir
from teach_sgd.output import write_atomic


def _file() -> Path:
    return user_cache_dir() / "compile_seconds.json"


def _read() -> dict[str, float]:
    try:
        data = json.loads(_file().read_text())
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float))} if isinstance(data, dict) else {}


def expected_s(algo: str, model: str) -> float | None:
    """Seconds the last compile of this kernel took on this machine, or None if none was measured."""
    return _read().get(f"{algo}:{model}")


def remember(algo: str, model: str, seconds: float) -> None:
    """Keep this compile's seconds (written to a temporary file and renamed: never half a file)."""
    times = _read() | {f"{algo}:{model}": round(seconds, 1)}
    path = _file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(times, indent=1, sort_keys=True) + "\n")
    except OSError:
        pass  # a read-only cache: the next compile shows no expected time, nothing else changes
