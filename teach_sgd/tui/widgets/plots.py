"""Plots drawn with plotext through textual-plotext: the loss curve and the live parameter versions.

Redrawing a plotext plot costs ~10–20 ms, so each plot redraws at most `max_hz` times a second and only when
its data changed; the numbers elsewhere on the dashboard still refresh at the full sampling rate.
"""
from __future__ import annotations

import math
import time

from rich.text import Text
from textual_plotext import PlotextPlot

MAX_POINTS = 200


def decimate(xs, ys, n: int = MAX_POINTS):
    if len(xs) <= n:
        return list(xs), list(ys)
    step = len(xs) / n
    idx = sorted({int(i * step) for i in range(n)} | {len(xs) - 1})
    return [xs[i] for i in idx], [ys[i] for i in idx]


# Below this, plotext draws its axes' tick labels into each other ("0.10.0 1.0 2.0") or leaves one row of plot:
# a plot that small shows its numbers as one line of text instead, whole.
MIN_PLOT = (24, 8)   # cells wide, rows high (inside the border)


class ThrottledPlot(PlotextPlot):
    max_hz = 2.0

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._last_draw = 0.0
        self._dirty = False
        self._data_key = None
        self.summary = ""   # the plot's numbers in a line, shown when the panel is too small to plot them

    def render(self):
        w, h = self.size
        if w < MIN_PLOT[0] or h < MIN_PLOT[1]:
            return Text(self.summary or "(enlarge the terminal to see this plot)", style="dim")
        return super().render()

    def draw_next(self) -> None:
        """Draw the next data at once, however soon after the last drawing (a replay that jumped)."""
        self._last_draw = 0.0

    def _due(self, key, force: bool) -> bool:
        if key == self._data_key and not force:
            return False
        now = time.monotonic()
        if not force and now - self._last_draw < 1.0 / self.max_hz:
            return False
        self._data_key = key
        self._last_draw = now
        return True


class LossPlot(ThrottledPlot):
    """Training loss over wall-clock seconds (log scale); several runs can share one plot."""

    COLOURS = ("green", "magenta", "cyan", "yellow")

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = "loss"
        self.clear_plot()

    def clear_plot(self) -> None:
        self._data_key = None
        plt = self.plt
        plt.clear_figure()
        plt.title("training loss (log scale) vs seconds")
        plt.xlabel("s")
        self.refresh()

    def show(self, series, force: bool = False) -> None:
        """series: [(label, ((seconds, loss, acc), ...)), ...]"""
        key = tuple((label, len(curve), curve[-1][1] if curve else None) for label, curve in series)
        if not self._due(key, force):
            return
        plt = self.plt
        plt.clear_figure()
        plt.title("training loss (log scale) vs seconds")
        plt.xlabel("s")
        lo, hi = math.inf, -math.inf
        for i, (label, curve) in enumerate(series):
            # log10 by hand: plotext's own log scale fails on some inputs
            pts = [(t, math.log10(loss)) for t, loss, _ in curve
                   if loss is not None and math.isfinite(loss) and loss > 0]
            if not pts:
                continue
            xs, ys = decimate([p[0] for p in pts], [p[1] for p in pts])
            lo, hi = min(lo, min(ys)), max(hi, max(ys))
            plt.plot(xs, ys, label=label, marker="braille", color=self.COLOURS[i % len(self.COLOURS)])
        self.summary = "  ".join(f"{label}: {_loss_text(curve)}" for label, curve in series)
        if lo <= hi:
            ticks = _log_ticks(lo, hi)
            plt.yticks(ticks, [_pow10_label(k) for k in ticks])
        self.refresh()


def _loss_text(curve) -> str:
    if not curve:
        return "no loss sample yet"
    first, last = (f"{x:.4g}" if x is not None else "—" for x in (curve[0][1], curve[-1][1]))
    return f"loss {first} → {last} in {curve[-1][0]:.2f} s"


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Whole decades inside [lo, hi] (log10 units), plus the ends when fewer than two decades fit."""
    decades = [float(k) for k in range(math.ceil(lo), math.floor(hi) + 1)]
    step = max(1, math.ceil(len(decades) / 6))
    ticks = decades[::step]
    if len(ticks) < 2:
        ticks = sorted(set(ticks) | {lo, hi})
    return ticks


def _pow10_label(k: float) -> str:
    v = 10 ** k
    if float(k).is_integer():
        e = int(k)
        return f"{v:g}" if -3 <= e <= 3 else f"1e{e}"
    return f"{v:.3g}"


# The legend of the versions plot's lines, on its bottom border: the longest that fits the panel, so a narrow one
# (a lesson's right pane) shows a short legend rather than a cut one. Leashed-SGD draws the bound 2m+1 (red) and
# the peak (orange); LOCK and HOGWILD! draw their constant m+1 (red).
LEGENDS = {
    "leashed": ((("── bound 2m+1", "red"), ("── peak", "#ff8700")),
                (("─ 2m+1", "red"), ("─ peak", "#ff8700")),
                (("─2m+1", "red"), ("─peak", "#ff8700")),
                (("─2m+1", "red"),)),
    "other": ((("── m+1: θ + a copy per thread", "red"),), (("── m+1", "red"),), (("─m+1", "red"),)),
}


def legend(algo: str | None, width: int) -> str:
    """The longest legend for `algo` that fits in `width` cells, as markup ('' if none does)."""
    for parts in LEGENDS["leashed" if algo == "leashed" else "other"]:
        if sum(len(text) for text, _ in parts) + 2 * (len(parts) - 1) <= width:
            return "  ".join(f"[{colour}]{text}[/]" for text, colour in parts)
    return ""


class VersionsPlot(ThrottledPlot):
    """Live parameter versions over time, with the bound (2m+1 for Leashed-SGD, else m+1) and the peak."""

    max_hz = 1.0

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = "live versions"
        self._algo: str | None = None
        self.clear_plot()
        self._ts: list[float] = []
        self._live: list[int] = []

    def on_resize(self) -> None:
        self._show_legend()

    def _show_legend(self) -> None:
        # the bottom border minus its corners and a cell of margin at each end
        self.border_subtitle = legend(self._algo, self.size.width - 4) if self._algo else ""

    def clear_plot(self) -> None:
        self._data_key = None
        self._ts, self._live = [], []
        self._algo = None
        self._show_legend()
        plt = self.plt
        plt.clear_figure()
        plt.title("live parameter versions")
        self.refresh()

    def push(self, t: float, versions, algo: str, threads: int, force: bool = False, draw: bool = True) -> None:
        """Add the live count at t s (a later t than the last only) and redraw when due; draw=False only adds
        (a replay catching up on the samples it passed over)."""
        if algo != self._algo:
            self._algo = algo
            self._show_legend()
        if not self._ts or t > self._ts[-1]:
            self._ts.append(t)
            self._live.append(versions.live)
        key = (len(self._ts), versions.live, versions.peak)
        if not draw or not self._due(key, force):
            return
        plt = self.plt
        plt.clear_figure()
        self.summary = f"live {versions.live} · peak {versions.peak} · bound {versions.bound}"
        if algo == "leashed":
            plt.title(f"now {versions.live} · peak {versions.peak} · bound 2m+1 = {versions.bound}")
        else:
            plt.title(f"{algo}: θ + {threads} private copies = {versions.live}")
        xs, ys = decimate(self._ts, self._live)
        plt.plot(xs, ys, marker="braille", color="cyan", label="live")
        plt.hline(versions.bound, "red")
        if algo == "leashed" and versions.peak != versions.bound:
            plt.hline(versions.peak, "orange")
        plt.ylim(0, versions.bound + 1)
        plt.xlabel("s")
        self.refresh()
