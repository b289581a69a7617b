"""ThreadTable: one row per worker thread, every metric as a number and as a bar.

Each metric column is scaled to its own maximum over the threads; the thread holding that maximum is drawn in
the column's colour (the others dimmed), so the busiest thread (updates) and the most-retrying thread (CAS
failures) stand out at a glance. ↑/↓ or a click selects a thread (for the staleness histogram).

Full mode: number + an eighth-resolution bar per metric; bars shrink to fit narrow terminals. Compact mode
(Compare screen): the bar is the cell's background ("data bar") and only the metrics that can be non-zero
for the algorithm are shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.style import Style
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from teach_sgd.tui.widgets.format import bar
from teach_sgd.tui.widgets.lines import LinesWidget


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
    Metric("staleness_mean", "τ mean", lambda v: f"{v:.2f}", 6, "yellow"),
    Metric("staleness_max", "τ max", lambda v: f"{int(v):d}", 5, "yellow"),
    Metric("lock_wait_s", "lock wait s", lambda v: f"{v:.3f}", 7, "blue"),
)
METRIC_KEYS = tuple(m.key for m in METRICS)
DARK = {"green": "dark_green", "cyan": "dark_cyan", "magenta": "dark_magenta", "red": "dark_red",
        "blue": "dark_blue", "yellow": "yellow4"}
STATE_W = 9
HEADER = Style(bold=True)
CURSOR = Style(bgcolor="grey23")
DIM = Style(dim=True)


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


class ThreadTable(LinesWidget, can_focus=True):
    """Per-thread counters. Call `show(threads, algo)` with a tuple of ThreadStats (snapshot or result)."""

    BINDINGS = [
        Binding("up,k", "move(-1)", "Thread ↑", show=False),
        Binding("down,j", "move(1)", "Thread ↓", show=False),
    ]
    DEFAULT_CSS = """
    ThreadTable { height: auto; padding: 0 1; }
    ThreadTable:focus { border: round $accent; }
    """

    class ThreadSelected(Message):
        def __init__(self, table: "ThreadTable", tid: int) -> None:
            super().__init__()
            self.table = table
            self.tid = tid

        @property
        def control(self) -> "ThreadTable":
            return self.table

    cursor: reactive[int] = reactive(0, init=False)

    def __init__(self, compact: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.compact = compact
        self._threads: tuple = ()
        self._algo: str | None = None
        self._metrics = metrics_for(None, compact)
        self._cells: dict[tuple[int, str], str] = {}
        self._key = None

    def on_mount(self) -> None:
        self._paint()

    @property
    def row_count(self) -> int:
        return len(self._threads)

    def clear_threads(self) -> None:
        self._threads = ()
        self._cells.clear()
        self._key = None
        self._paint()

    def show(self, threads, algo: str | None = None) -> None:
        key = (tuple((t.thread, t.state, *(getattr(t, k) for k in METRIC_KEYS)) for t in threads), algo,
               self.cursor, self.size.width)
        if key == self._key:
            return
        self._key = key
        self._threads, self._algo = tuple(threads), algo
        self._paint()

    def on_resize(self) -> None:
        self._key = None
        self._paint()

    def watch_cursor(self) -> None:
        self._key = None
        self._paint()
        if self._threads:
            self.post_message(self.ThreadSelected(self, self._threads[self.cursor].thread))

    def action_move(self, delta: int) -> None:
        if self._threads:
            self.cursor = max(0, min(len(self._threads) - 1, self.cursor + delta))

    def on_click(self, event) -> None:
        row = event.y - 1  # header line
        if 0 <= row < len(self._threads):
            self.cursor = row

    # ---- painting -------------------------------------------------------------------------------------
    def _bar_width(self, metrics) -> int:
        if self.compact:
            return 0
        fixed = 3 + STATE_W + 1 + sum(m.width + 2 for m in metrics)
        free = max(0, self.size.width - fixed)
        return max(0, min(5, free // len(metrics)))

    def _paint(self) -> None:
        metrics = metrics_for(self._algo, self.compact)
        self._metrics = metrics
        bw = self._bar_width(metrics)
        widths = {m.key: (max(m.width, len(m.label)) if self.compact else m.width + 1 + bw) for m in metrics}
        header = [("# ", HEADER)]
        if not self.compact:
            header.append((f" {'state':<{STATE_W}}", HEADER))
        for m in metrics:
            header.append((" " + m.label[: widths[m.key]].rjust(m.width).ljust(widths[m.key]), HEADER))
        lines = [header]
        threads = self._threads
        maxima = {m.key: max((float(getattr(t, m.key)) for t in threads), default=0.0) for m in metrics}
        self._cells.clear()
        for row, t in enumerate(threads):
            sel = row == self.cursor and len(threads) > 1
            extra = CURSOR if sel else None

            def st(style: Style | None) -> Style | None:
                return (style + extra) if (style is not None and extra is not None) else (style or extra)

            line = [(f"{t.thread:<2}", st(HEADER))]
            if not self.compact:
                line.append((f" {t.state:<{STATE_W}}"[: STATE_W + 1], st(DIM if t.state in ("done", "idle") else None)))
            for m in metrics:
                value = float(getattr(t, m.key))
                top = maxima[m.key]
                lead = value > 0 and value == top and len(threads) > 1
                text = m.fmt(value)
                self._cells[(t.thread, m.key)] = text
                line.append((" ", st(None)))
                if self.compact:
                    w = widths[m.key]
                    cell = text.rjust(w)
                    filled = round(w * value / top) if top > 0 else 0
                    bg = Style(color="black" if lead else "white", bgcolor=m.colour if lead else DARK[m.colour],
                               bold=lead)
                    line.append((cell[:filled], st(bg) if filled else None))
                    line.append((cell[filled:], st(Style(bold=lead))))
                else:
                    line.append((text.rjust(m.width), st(Style(bold=lead))))
                    if bw:
                        line.append((" ", st(None)))
                        line.append((bar(value, top, bw), st(Style(color=m.colour, dim=not lead))))
            lines.append(line)
        self.set_lines(lines)

    def numbers(self, tid: int) -> dict[str, str]:
        """The numbers this table shows for one thread, as painted (for tests and exports)."""
        return {m.key: self._cells.get((tid, m.key), "") for m in self._metrics}
