"""ThreadTable: one row per worker thread, every metric as a number and as a bar.

Each metric column is scaled to its own maximum over the threads; the thread holding that maximum is drawn in
the column's colour, the others dimmed, so the busiest thread (updates) and the most-retrying thread (CAS
failures) stand out at a glance. Moving the cursor selects a thread for the staleness histogram.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.text import Text
from textual.widgets import DataTable

from teach_sgd.tui.widgets.format import bar


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    fmt: Callable[[float], str]
    width: int  # characters for the number
    colour: str
    bar_width: int = 5


METRICS = (
    Metric("updates", "updates", lambda v: f"{int(v):d}", 7, "green"),
    Metric("cas_success", "CAS ok", lambda v: f"{int(v):d}", 7, "cyan"),
    Metric("cas_fail", "CAS fail", lambda v: f"{int(v):d}", 7, "magenta"),
    Metric("dropped", "dropped", lambda v: f"{int(v):d}", 6, "red"),
    Metric("staleness_mean", "τ mean", lambda v: f"{v:.2f}", 5, "yellow"),
    Metric("staleness_max", "τ max", lambda v: f"{int(v):d}", 3, "yellow"),
    Metric("lock_wait_s", "lock wait s", lambda v: f"{v:.3f}", 7, "blue"),
)
METRIC_KEYS = tuple(m.key for m in METRICS)
DARK = {"green": "dark_green", "cyan": "dark_cyan", "magenta": "dark_magenta", "red": "dark_red",
        "blue": "dark_blue", "yellow": "yellow4"}


def metrics_for(algo: str | None, compact: bool) -> tuple[Metric, ...]:
    """Compact tables keep only the columns that can be non-zero for the algorithm."""
    if not compact or algo is None:
        return METRICS
    skip = set()
    if algo != "leashed":
        skip |= {"cas_success", "cas_fail", "dropped"}
    if algo != "lock":
        skip.add("lock_wait_s")
    return tuple(m for m in METRICS if m.key not in skip)


class ThreadTable(DataTable):
    """Per-thread counters. Call `show(threads, algo)` with a tuple of ThreadStats (snapshot or result).

    Full: number + an eighth-resolution bar per metric. Compact (Compare screen): the bar is the cell's
    background ("data bar") and only the metrics that apply to the algorithm are shown.
    """

    DEFAULT_CSS = """
    ThreadTable { height: auto; max-height: 12; }
    """

    def __init__(self, compact: bool = False, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, cell_padding=1,
                         cursor_foreground_priority="renderable", **kwargs)
        self.compact = compact
        self._shown: dict[tuple[int, str], str] = {}
        self._n_rows = -1
        self._metrics: tuple[Metric, ...] = ()

    def on_mount(self) -> None:
        self._build_columns(None)

    def _build_columns(self, algo: str | None) -> None:
        metrics = metrics_for(algo, self.compact)
        if metrics == self._metrics and self.columns:
            return
        self.clear(columns=True)
        self._shown.clear()
        self._n_rows = -1
        self._metrics = metrics
        self.add_column("#", key="thread", width=2)
        if not self.compact:
            self.add_column("state", key="state", width=9)
        for m in metrics:
            width = max(m.width + 1, len(m.label)) if self.compact else m.width + 1 + m.bar_width
            self.add_column(m.label, key=m.key, width=width)

    def clear_threads(self) -> None:
        self.clear()
        self._shown.clear()
        self._n_rows = -1

    def show(self, threads, algo: str | None = None) -> None:
        if self.compact:
            self._build_columns(algo)
        metrics = self._metrics
        n_cols = (1 if self.compact else 2) + len(metrics)
        if len(threads) != self._n_rows:
            self.clear()
            self._shown.clear()
            for t in threads:
                self.add_row(*([""] * n_cols), key=str(t.thread))
            self._n_rows = len(threads)
        maxima = {m.key: max((float(getattr(t, m.key)) for t in threads), default=0.0) for m in metrics}
        for t in threads:
            row = str(t.thread)
            self._set(t.thread, row, "thread", Text(str(t.thread), style="bold"))
            if not self.compact:
                self._set(t.thread, row, "state",
                          Text(t.state, style="dim" if t.state in ("done", "idle") else ""))
            for m in metrics:
                value = float(getattr(t, m.key))
                top = maxima[m.key]
                lead = value > 0 and value == top and len(threads) > 1
                if self.compact:
                    width = max(m.width + 1, len(m.label))
                    cell = Text(m.fmt(value).rjust(width), style="bold" if lead else "")
                    filled = round(width * value / top) if top > 0 else 0
                    if filled:
                        bg = m.colour if lead else DARK[m.colour]
                        cell.stylize(f"{'black' if lead else 'white'} on {bg}", 0, filled)
                else:
                    cell = Text(m.fmt(value).rjust(m.width) + " ")
                    cell.append(bar(value, top, m.bar_width), style=m.colour if lead else f"{m.colour} dim")
                    if lead:
                        cell.stylize("bold", 0, m.width)
                self._set(t.thread, row, m.key, cell)

    def _set(self, tid: int, row: str, col: str, cell: Text) -> None:
        key = (tid, col)
        plain = cell.plain + str(cell.spans)
        if self._shown.get(key) != plain:
            self._shown[key] = plain
            self.update_cell(row, col, cell)

    def numbers(self, tid: int) -> dict[str, str]:
        """The numbers this table shows for one thread, read back from its cells (for tests and exports)."""
        out = {}
        for m in self._metrics:
            cell = self.get_cell(str(tid), m.key)
            text = cell.plain if isinstance(cell, Text) else str(cell)
            out[m.key] = text.split()[0] if text.strip() else ""
        return out
