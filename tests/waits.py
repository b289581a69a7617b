"""Waiting on real threads from a plain (non-async) test: poll a condition the run's state answers, with a
patience that only keeps a broken engine from hanging the suite (no test asserts a wall time). The async twin
for tests that drive the app is tui_helpers.until. Imported as `from waits import ...` (tests/ is on sys.path)."""
from __future__ import annotations

import time

PATIENCE_S = 60


def until(condition, what: str, poll: float = 0.002) -> None:
    """Return once `condition()` is true; fail saying `what` was awaited after PATIENCE_S seconds."""
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(poll)


def parked(runner) -> bool:
    """Every thread of a paused run has parked (or ended): each counts its last update before it parks
    (engine/control.py wait_while_paused), so the run's update count no longer moves."""
    return all(t.state in ("paused", "done") for t in runner.snapshot().threads)
