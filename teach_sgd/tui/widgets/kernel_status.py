"""KernelStatus: shows whether the numba kernels are ready, with a spinner while they compile or load; while one
compiles, the seconds so far beside how long its last compile on this machine took (engine/compile_times.py).
One line, its most telling part first (the kernel and its seconds); where the line is narrower than that, its
end is visibly cut with "…", never silently."""
from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class KernelStatus(Static):
    """Follows `app.kernel_state` ("checking", "compiling", "loading", "waiting", "ready", "failed"),
    `kernel_detail` and, while compiling, `kernel_clock` (since when, and the last compile's seconds or None)."""

    DEFAULT_CSS = """
    KernelStatus { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    KernelStatus.-busy { color: $warning; text-style: bold; }
    KernelStatus.-failed { color: $error; text-style: bold; }
    """

    def on_mount(self) -> None:
        self._frame = 0
        self._shown_len = 0
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
            content = Text("✓ kernels ready", style="green")
        elif state == "failed":
            content = Text(f"✗ kernels failed to compile: {detail}")
        elif state == "waiting":  # the warm-up waits for the runs to end (TeachSGDApp.prepare_kernels)
            content = Text(f"⏸ {detail} (a compile would slow the run)")
        elif state == "compiling":  # kernel_detail: "— 1/2 lock mlp"
            since, last = self.app.kernel_clock
            content = Text(f"{SPINNER[self._frame]} compiling {detail.removeprefix('— ')}: "
                           f"{time.monotonic() - since:.0f} s "
                           + (f"(last compile here: {last:.0f} s)" if last is not None
                              else "(the first compile on this machine)") + " — first run only")
        else:
            doing = "checking kernels…" if state == "checking" else "loading compiled kernels…"
            content = Text(f"{SPINNER[self._frame]} {doing} {detail}".rstrip())
        # a spinner frame lays nothing out again; a longer or shorter text must, or a `width: auto` line keeps
        # the width of the text before it (the Playground cut "compiling …" to the width of "checking kernels…")
        self.update(content, layout=content.cell_len != self._shown_len)
        self._shown_len = content.cell_len
