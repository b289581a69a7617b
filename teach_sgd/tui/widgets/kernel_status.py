"""KernelStatus: shows whether the numba kernels are ready, with a spinner while they compile or load; while one
compiles, the seconds so far beside how long its last compile on this machine took (engine/compile_times.py)."""
from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class KernelStatus(Static):
    """Follows `app.kernel_state` ("checking", "compiling", "loading", "ready", "failed"), `kernel_detail` and,
    while compiling, `kernel_clock` (since when, and the last compile's seconds or None)."""

    DEFAULT_CSS = """
    KernelStatus { height: 1; padding: 0 1; color: $text-muted; }
    KernelStatus.-busy { color: $warning; text-style: bold; }
    KernelStatus.-failed { color: $error; text-style: bold; }
    """

    def on_mount(self) -> None:
        self._frame = 0
        self._spin = self.set_interval(0.1, self._tick, pause=True)
        self.watch(self.app, "kernel_state", self._changed, init=True)
        self.watch(self.app, "kernel_detail", self._changed, init=False)

    def _changed(self, *_):
        state = self.app.kernel_state
        busy = state in ("checking", "compiling", "loading")
        self.set_class(busy, "-busy")
        self.set_class(state == "failed", "-failed")
        if busy:
            self._spin.resume()
        else:
            self._spin.pause()
        self._render_text()

    def _tick(self) -> None:
        self._frame = (self._frame + 1) % len(SPINNER)
        self._render_text()

    def _render_text(self) -> None:
        state, detail = self.app.kernel_state, self.app.kernel_detail
        if state == "ready":
            self.update(Text("✓ kernels ready", style="green"))
            return
        if state == "failed":
            self.update(Text(f"✗ kernels failed to compile: {detail}"))
            return
        label = {
            "checking": "checking kernels…",
            "compiling": "compiling kernels (first run only)…",
            "loading": "loading compiled kernels…",
        }[state]
        if state == "compiling":
            since, last = self.app.kernel_clock
            detail += f": {time.monotonic() - since:.0f} s" + (f" (last compile here: {last:.0f} s)" if last is not None
                                                               else " (the first compile on this machine)")
        self.update(layout=False, content=Text(f"{SPINNER[self._frame]} {label} {detail}".rstrip()))
