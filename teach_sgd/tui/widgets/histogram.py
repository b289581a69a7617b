"""StalenessHistogram: τ distribution over all threads and for the selected thread, as horizontal bars."""
from __future__ import annotations

from rich.style import Style

from teach_sgd.format import bar
from teach_sgd.tui.widgets.lines import LinesWidget

BOLD, DIM = Style(bold=True), Style(dim=True)
ALL, MINE = Style(color="yellow"), Style(color="cyan")


class StalenessHistogram(LinesWidget):
    """τ = versions published between the one a thread read and the one its update landed on."""

    DEFAULT_CSS = """
    StalenessHistogram { height: 1fr; width: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._key = None
        self._all: tuple[int, ...] = ()
        self._mine: tuple[int, ...] = ()
        self._tid = 0
        self.border_title = "staleness τ"

    def on_mount(self) -> None:
        self.set_lines([[(text, DIM)] for text in ("τ of every update:", "all threads, and the",
                                                   "selected thread.", "Appears once a run", "starts.")])

    def show(self, all_hist, thread_hist, tid: int) -> None:
        key = (tuple(all_hist), tuple(thread_hist), tid, self.size.height, self.size.width)
        if key == self._key:
            return
        self._key = key
        self._all, self._mine, self._tid = key[0], key[1], tid
        self._paint()

    def on_resize(self) -> None:
        if self._key is not None:
            self._paint()

    def _paint(self) -> None:
        rows_fit = max(3, self.size.height - 1)
        a, b = list(self._all), list(self._mine)
        last = max((i for i, v in enumerate(a) if v), default=0)
        n = min(last + 1, rows_fit)
        folded = last + 1 > rows_fit
        if folded:  # fold the tail into one "≥k" row
            a = a[: n - 1] + [sum(a[n - 1:])]
            b = b[: n - 1] + [sum(b[n - 1:])]
        labels = [str(i) for i in range(n)]
        if folded or (n == len(self._all) and n > 0):
            labels[-1] = f"≥{n - 1}"  # the engine's last bin also holds every τ beyond it
        ta, tb = max(sum(a), 1), max(sum(b), 1)
        bw = max(3, (self.size.width - 4 - 2 * 5 - 1) // 2)
        ma, mb = max(a[:n] or [1]), max(b[:n] or [1])
        all_label = "all threads" if bw + 5 >= 12 else "all"
        lines = [[(f"{'τ':>3} ", BOLD), (f"{all_label:<{bw + 5}}", BOLD), (f" thread {self._tid}", BOLD)]]
        for i in range(n):
            va = a[i] if i < len(a) else 0
            vb = b[i] if i < len(b) else 0
            lines.append([(f"{labels[i]:>3} ", BOLD), (bar(va, ma, bw), ALL), (f"{100 * va / ta:4.0f}%", DIM),
                          (" ", None), (bar(vb, mb, bw), MINE), (f"{100 * vb / tb:4.0f}%", DIM)])
        self.set_lines(lines)
