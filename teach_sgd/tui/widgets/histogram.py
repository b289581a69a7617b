"""StalenessHistogram: τ distribution over all threads and for the selected thread, as horizontal bars."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from teach_sgd.tui.widgets.format import bar


class StalenessHistogram(Static):
    """τ = versions published between the one a thread read and the one its update landed on."""

    DEFAULT_CSS = """
    StalenessHistogram { height: 1fr; width: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("[dim]τ per update, all threads and the selected one — appears once a run starts[/]",
                         **kwargs)
        self._key = None
        self._all: tuple[int, ...] = ()
        self._mine: tuple[int, ...] = ()
        self._tid = 0
        self.border_title = "staleness τ"

    def show(self, all_hist, thread_hist, tid: int) -> None:
        key = (tuple(all_hist), tuple(thread_hist), tid, self.size.height, self.size.width)
        if key == self._key:
            return
        self._key = key
        self._all, self._mine, self._tid = tuple(all_hist), tuple(thread_hist), tid
        self.update(self._table())

    def on_resize(self) -> None:
        if self._key is not None:
            self.update(self._table())

    def _table(self) -> Table:
        rows_fit = max(3, self.size.height - 3)
        a, b = list(self._all), list(self._mine)
        last = max((i for i, v in enumerate(a) if v), default=0)
        n = min(last + 1, rows_fit)
        if last + 1 > rows_fit:  # fold the tail into one "≥k" row
            a = a[: n - 1] + [sum(a[n - 1:])]
            b = b[: n - 1] + [sum(b[n - 1:])]
        labels = [str(i) for i in range(n)]
        if last + 1 > rows_fit:
            labels[-1] = f"≥{n - 1}"
        cap = len(self._all) - 1
        if n - 1 == cap and labels[-1] == str(cap):
            labels[-1] = f"≥{cap}"  # the engine's last bin holds every τ at or beyond it
        ta, tb = max(sum(a), 1), max(sum(b), 1)
        bw = max(4, (self.size.width - 20) // 2)
        table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
        table.add_column("τ", justify="right", style="bold", no_wrap=True)
        table.add_column("all", ratio=1, no_wrap=True)
        table.add_column(f"thread {self._tid}", ratio=1, no_wrap=True)
        for i in range(n):
            va = a[i] if i < len(a) else 0
            vb = b[i] if i < len(b) else 0
            table.add_row(
                labels[i],
                Text(bar(va, max(a[:n] or [1]), bw), style="yellow") + Text(f" {100 * va / ta:3.0f}%", style="dim"),
                Text(bar(vb, max(b[:n] or [1]), bw), style="cyan") + Text(f" {100 * vb / tb:3.0f}%", style="dim"),
            )
        return table
