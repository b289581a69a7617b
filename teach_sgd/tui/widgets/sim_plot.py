"""SimPlot: ‖X − x*‖² and f(X) − f* against completed iterations, log scale (plotext via textual-plotext).

The simulator measures after every completed iteration (never mid-write), as `teach_sgd.sim.run` does.
"""
from __future__ import annotations

import math

from teach_sgd.tui.widgets.plots import ThrottledPlot, _log_ticks, _pow10_label, decimate

TITLE = "‖X−x*‖² and f−f* (log) vs iterations"


class SimPlot(ThrottledPlot):
    max_hz = 5.0

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = "convergence"
        self.border_subtitle = "[green]── ‖X−x*‖²[/]  [magenta]── f(X)−f*[/]"
        self.clear_plot()

    def clear_plot(self) -> None:
        self._data_key = None
        plt = self.plt
        plt.clear_figure()
        plt.title(TITLE)
        plt.xlabel("completed iterations")
        self.refresh()

    def show(self, iters: list[int], dist2: list[float], gap: list[float], force: bool = False) -> None:
        key = (len(iters), iters[-1] if iters else None, dist2[-1] if dist2 else None)
        if not self._due(key, force):
            return
        plt = self.plt
        plt.clear_figure()
        plt.title(TITLE)
        plt.xlabel("completed iterations")
        lo, hi = math.inf, -math.inf
        for ys, colour in ((gap, "magenta"), (dist2, "green")):   # the distance on top
            # log10 by hand: plotext's own log scale fails on some inputs
            pts = [(k, math.log10(v)) for k, v in zip(iters, ys) if math.isfinite(v) and v > 0]
            if not pts:
                continue
            xs, ls = decimate([p[0] for p in pts], [p[1] for p in pts])
            lo, hi = min(lo, min(ls)), max(hi, max(ls))
            plt.plot(xs, ls, marker="braille", color=colour)
        if lo <= hi:
            if hi - lo < 1e-9:
                lo, hi = lo - 0.5, hi + 0.5
            ticks = _log_ticks(lo, hi)
            plt.yticks(ticks, [_pow10_label(k) for k in ticks])
            plt.ylim(lo, hi)
        if iters and iters[-1] == 0:
            plt.xlim(0, 1)
        self.refresh()
