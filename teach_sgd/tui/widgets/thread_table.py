"""ThreadTable: one row per worker thread, the algorithm's own metrics as numbers and as bars.

Which columns an algorithm has comes from `columns.ALGO_COLUMNS` (the one table of them, shared with Compare):
no column of zeros for an algorithm that cannot have it. Each column is scaled to its own maximum over the
threads; the thread holding that maximum is drawn in the column's colour (the others dimmed), so the busiest
thread (updates) and the most-retrying thread (CAS failures) stand out at a glance. ↑/↓ or a click selects a
thread (for the staleness histogram).

Full mode: state + number + an eighth-resolution bar per metric; bars shrink to fit narrow terminals. Compact
mode (Compare screen): no state column, and the bar is the cell's background ("data bar").

Repainting is the UI's largest cost with many threads (64 rows of styled cells per tick), and the UI thread
shares the cores with the workers and whatever else the machine runs. So a live table repaints at most as
often as keeps its painting under PAINT_SHARE of the UI thread's time: a paint that took 20 ms is followed
by the next one 80 ms later at the earliest, snapshots in between are skipped (the next one is newer anyway).
A quiet machine paints every tick; a busy one paints less often and keys stay quick (benchmarks/bench_tui.py,
part 3). A final result (`force=True`) and a cursor move always paint. And only the rows in view are built:
the table is as tall as its rows unless its container caps it (the dashboard gives it at most 40% of its
height, so that the timeline and the plots stay in view at 64 threads); then it shows a window of rows that
follows the cursor (↑↓ scroll it; the title says which rows), and a paint costs those rows, not all 64.
"""
from __future__ import annotations

import time
from functools import lru_cache

from rich.style import Style
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from teach_sgd.columns import Column, columns_for
from teach_sgd.format import bar
from teach_sgd.tui.widgets.lines import LinesWidget

DARK = {"green": "dark_green", "cyan": "dark_cyan", "magenta": "dark_magenta", "red": "dark_red",
        "blue": "dark_blue", "yellow": "yellow4"}
STATE_W = 9
HEADER = Style(bold=True)
CURSOR = Style(bgcolor="grey23")
DIM = Style(dim=True)
HELD = Style(bold=True, color="black", bgcolor="yellow")


@lru_cache(maxsize=256)
def _style(**kw) -> Style:
    """One Style per look (a paint asks for the same few hundred times)."""
    return Style(**kw)


PAINT_SHARE = 0.25  # at most this share of the UI thread's time goes into repainting a live table
MORE_W = 5   # " +N…" after the last column that fits


class ThreadTable(LinesWidget, can_focus=True):
    """Per-thread counters. Call `show(threads, algo, params, step)` with the ThreadStats of a snapshot or a
    result, the model's parameter count (for HOGWILD!'s estimate of all lost coordinate writes) and the run's
    step rule (the step-factor column shows only with one)."""

    BINDINGS = [
        Binding("up,k", "move(-1)", "Thread ↑", show=False),
        Binding("down,j", "move(1)", "Thread ↓", show=False),
    ]
    DEFAULT_CSS = """
    ThreadTable { height: auto; padding: 0 1; }
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
        self._params = 0
        self._step = "none"
        self._columns: tuple[Column, ...] = ()
        self.shown: tuple[str, ...] = ()
        self._cells: dict[tuple[int, str], str] = {}
        self._key = None
        self._next_paint = 0.0  # perf_counter time before which a live snapshot is not painted
        self._top = 0  # the first thread row in view

    def on_mount(self) -> None:
        self._paint()

    @property
    def row_count(self) -> int:
        return len(self._threads)

    def get_content_height(self, container, viewport, width: int) -> int:
        return 1 + len(self._threads)  # the header and every row; a capped height shows a window of them

    def rows_in_view(self) -> range:
        """The thread rows the table's height shows, with the cursor among them."""
        n = len(self._threads)
        fit = max(1, min(n, self.content_size.height - 1 if self.content_size.height > 1 else n))
        cursor = min(self.cursor, n - 1)
        self._top = max(0, min(self._top, cursor, n - fit))
        if cursor >= self._top + fit:
            self._top = cursor - fit + 1
        return range(self._top, min(n, self._top + fit))

    def clear_threads(self) -> None:
        self._threads, self._algo = (), None
        self._key = None
        self._paint()

    def show(self, threads, algo: str, params: int, step: str = "none", force: bool = False) -> None:
        """Show these threads' numbers; a live snapshot (`force` False) may be skipped to keep the UI quick."""
        threads = tuple(threads)
        key = (threads, algo, params, step, self.cursor, self.size.width)
        if key == self._key:
            return
        now = time.perf_counter()
        if not force and PAINT_SHARE and now < self._next_paint and (algo, len(threads)) == (
                self._algo, len(self._threads)):
            return
        self._key = key
        self._threads, self._algo, self._params, self._step = threads, algo, params, step
        self._paint()
        self._next_paint = now + (time.perf_counter() - now) / PAINT_SHARE if PAINT_SHARE else 0.0

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
        row = self._top + event.y - 1  # header line
        if 0 <= row < len(self._threads):
            self.cursor = row

    # ---- painting -------------------------------------------------------------------------------------
    def _bar_width(self, numbers: dict[str, int]) -> int:
        if self.compact or not numbers:
            return 0
        fixed = 3 + STATE_W + 1 + sum(w + 2 for w in numbers.values())
        free = max(0, self.size.width - fixed)
        return max(0, min(5, free // len(numbers)))

    def _fitting(self, columns, widths: dict) -> tuple[tuple, int]:
        """The leading columns that fit the panel whole, and how many did not (a column is shown whole or not at
        all, so that no number is cut into another; the header says '+N…' and a wider terminal shows them)."""
        width = self.size.width
        used = 2 + (0 if self.compact else 1 + STATE_W)
        if not width or used + sum(1 + widths[m.key] for m in columns) <= width:
            return tuple(columns), 0
        shown = []
        for m in columns:
            if used + 1 + widths[m.key] > width - MORE_W:
                break
            used += 1 + widths[m.key]
            shown.append(m)
        return tuple(shown), len(columns) - len(shown)

    def _paint(self) -> None:
        columns = columns_for(self._algo, stepped=self._step != "none") if self._algo else ()
        self._columns = columns
        threads = self._threads
        raw = {(t.thread, m.key): m.value((t,), self._params) for t in threads for m in columns}
        self._cells = {(t.thread, m.key): m.fmt(raw[(t.thread, m.key)]) for t in threads for m in columns}
        # bars and the bright maximum are for number columns; a histogram column (step ×η) draws itself
        values = {k: float(v) if isinstance(v, (int, float)) else 0.0 for k, v in raw.items()}
        # a number column is as wide as its header, its widest number and the column's minimum
        numbers = {m.key: max(m.width, len(m.label), *(len(self._cells[(t.thread, m.key)]) for t in threads))
                   for m in columns}
        bw = self._bar_width(numbers)
        widths = {m.key: numbers[m.key] + (0 if self.compact else 1 + bw) for m in columns}
        columns, hidden = self._fitting(columns, widths)
        self.shown = tuple(m.key for m in columns)   # the columns drawn (the others: "+N…")
        header = [("# ", HEADER)]
        if not self.compact:
            header.append((f" {'state':<{STATE_W}}", HEADER))
        for m in columns:
            header.append((" " + m.label.rjust(numbers[m.key]).ljust(widths[m.key]), HEADER))
        if hidden:
            header.append((f" +{hidden}…", DIM))
        lines = [header]
        maxima = {m.key: max((values[(t.thread, m.key)] for t in threads), default=0.0) for m in columns}
        rows = self.rows_in_view()
        title = "threads" if len(rows) == len(threads) else \
            f"threads {rows.start}–{rows.stop - 1} of {len(threads)} · ↑↓ scroll"
        if self.border_title != title:
            self.border_title = title
        for row in rows:
            t = threads[row]
            sel = row == self.cursor and len(threads) > 1
            extra = CURSOR if sel else None

            def st(style: Style | None) -> Style | None:
                return (style + extra) if (style is not None and extra is not None) else (style or extra)

            line = [(f"{t.thread:<2}", st(HELD if t.held_at and self.compact else HEADER))]
            if not self.compact:
                line.append(self._state_cell(t, st))
            for m in columns:
                value = values[(t.thread, m.key)]
                top = maxima[m.key]
                lead = value > 0 and value == top and len(threads) > 1
                text = self._cells[(t.thread, m.key)]
                line.append((" ", st(None)))
                if self.compact:
                    w = widths[m.key]
                    cell = text.rjust(w)
                    filled = round(w * value / top) if top > 0 else 0
                    bg = _style(color="black" if lead else "white", bgcolor=m.colour if lead else DARK[m.colour],
                                bold=lead)
                    line.append((cell[:filled], bg if extra is None else extra + bg))  # the bar over the cursor
                    line.append((cell[filled:], st(_style(bold=lead))))
                else:
                    line.append((text.rjust(numbers[m.key]), st(_style(bold=lead))))
                    if bw:
                        line.append((" ", st(None)))
                        line.append((bar(value, top, bw), st(_style(color=m.colour, dim=not lead))))
            lines.append(line)
        self.set_lines(lines)

    @staticmethod
    def _state_cell(t, st) -> tuple:
        """What the thread does; "@cas" while it is held at a protocol point (thread_keys.py: held at cas)."""
        if t.held_at:
            return f" @{t.held_at:<{STATE_W - 1}}"[: STATE_W + 1], st(HELD)
        return f" {t.state:<{STATE_W}}"[: STATE_W + 1], st(DIM if t.state in ("done", "idle") else None)

    def numbers(self, tid: int) -> dict[str, str]:
        """The numbers this table shows for one thread, as painted (for tests and exports)."""
        return {m.key: self._cells.get((tid, m.key), "") for m in self._columns}
