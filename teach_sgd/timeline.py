"""The timeline of a run, from its real events (engine/events.py): lanes, marks and stories, with no terminal.

    view = TimelineView(algo)                  # what the panel shows: axis, window, follow/paused, selection
    lo, hi = view.window(latest)               # the visible range, in the axis' units
    lanes = layout(events, view.axis, lo, hi, width, threads)   # one row of cells per thread
    story(events, i, algo)                     # event i in words
    svg(events, algo, threads)                 # the whole run's timeline as an SVG document

Two axes. "versions": an update is a bar from the version its thread read to the one it published, so its
span is its staleness τ + 1; HOGWILD! reads no versions, so its lanes use the update clock (updates applied
before the read … the update's own number), and say so. "time": a bar from the read to the event, in run time.
Marks on a lane: ✗ a failed CAS, ⊘ a dropped gradient, · an abandoned one, w a lock wait, ! a lost write.
"""
from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np

from teach_sgd.engine.layout import OUTCOME_ABANDONED, OUTCOME_CAS_FAILED, OUTCOME_DROPPED, OUTCOME_PUBLISHED

AXES = ("versions", "time")
BAR, CAS_FAIL, DROP, ABANDON, WAIT, LOST = "━", "✗", "⊘", "·", "w", "!"
MARKS = {OUTCOME_CAS_FAILED: CAS_FAIL, OUTCOME_DROPPED: DROP, OUTCOME_ABANDONED: ABANDON}
LOCK_WAIT_MARK_NS = 10_000  # lock waits shorter than 10 µs are an uncontended lock, not worth a mark
SPANS = {"versions": (8, 16, 32, 64, 128, 256, 512, 1024, 4096),  # zoom steps: versions, or ns of run time
         "time": tuple(int(ms * 1e6) for ms in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000))}


def extent(events: np.ndarray, axis: str) -> tuple[np.ndarray, np.ndarray]:
    """Where each event's bar starts and ends on `axis`."""
    if axis == "versions":
        return events["t_read"], events["t_applied"] + 1
    return events["t_start"], events["t_end"]


def axis_label(axis: str, algo: str) -> str:
    if axis == "time":
        return "run time"
    return "update clock (HOGWILD! reads no versions)" if algo == "hogwild" else "versions"


@dataclass
class Cell:
    char: str
    kind: str        # "bar", "mark", "selected"
    event: int       # index into the events array


def layout(events: np.ndarray, axis: str, lo: float, hi: float, width: int, threads: int,
           selected: int | None = None) -> list[dict[int, Cell]]:
    """One dict column → Cell per thread: the events of [lo, hi) drawn into `width` columns. A bar covers the
    columns of its extent; a mark sits on the column where the event happened and wins over bars."""
    lanes: list[dict[int, Cell]] = [{} for _ in range(threads)]
    if width <= 0 or hi <= lo or len(events) == 0:
        return lanes
    start, end = extent(events, axis)
    visible = np.nonzero((end >= lo) & (start < hi))[0]
    scale = width / (hi - lo)
    for i in visible:
        e = events[i]
        lane = lanes[int(e["thread"])] if 0 <= e["thread"] < threads else None
        if lane is None:
            continue
        c0 = max(0, int((start[i] - lo) * scale))
        c1 = min(width - 1, max(c0, int((end[i] - lo) * scale) - (axis == "versions")))
        outcome = int(e["outcome"])
        if outcome == OUTCOME_PUBLISHED:
            for c in range(c0, c1 + 1):
                if c not in lane or lane[c].kind == "bar":
                    lane[c] = Cell(BAR, "bar", int(i))
            if e["lost"] > 0:
                lane[c1] = Cell(LOST, "mark", int(i))
            if e["wait_ns"] >= LOCK_WAIT_MARK_NS:
                lane[c0] = Cell(WAIT, "mark", int(i))
        else:
            lane[c1] = Cell(MARKS.get(outcome, "?"), "mark", int(i))
    if selected is not None:
        for lane in lanes:
            for c, cell in lane.items():
                if cell.event == selected:
                    lane[c] = Cell(cell.char, "selected", cell.event)
    return lanes


def _ms(ns: float) -> str:
    return f"{ns / 1e6:.2f} ms"


def _n(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 failed attempt', '2 failed attempts', with thousands separators."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


def story(events: np.ndarray, i: int, algo: str) -> str:
    """Event i of a run in words: what its thread read, what happened to its update, and its staleness."""
    e = events[i]
    th, read, on, out = int(e["thread"]), int(e["t_read"]), int(e["t_applied"]), int(e["outcome"])
    took = _ms(e["t_end"] - e["t_start"])
    if algo == "hogwild":
        text = (f"thread {th} copied θ after {_n(read, 'update had', 'updates had')} been applied"
                + (" — possibly torn: another thread's update was in flight during the copy" if e["torn"] else "")
                + f"; {took} later ")
        if out != OUTCOME_PUBLISHED:
            return text + "the run ended before it could write"
        text += f"it wrote its update as number {on + 1:,} on the update clock, τ = {on - read}"
        if e["lost"]:
            text += (f"; {_n(int(e['lost']), 'sampled coordinate write')} of it overwrote another thread's write"
                     " (lost writes)")
        return text
    text = f"thread {th} read v{read}"
    if algo == "lock" and e["wait_ns"] > 0:
        text += f", waited {_ms(e['wait_ns'])} in all for the lock"
    same = np.nonzero((events["thread"] == th) & (events["t_start"] == e["t_start"])
                      & (events["outcome"] == OUTCOME_CAS_FAILED) & (events["k"] <= e["k"]))[0]
    for n, j in enumerate(same):
        tried = int(events[j]["t_applied"])
        winner = _publisher(events, tried)
        text += (f"; tried to publish on v{tried}: CAS failed — "
                 + (f"thread {winner} had published v{tried + 1}" if winner is not None
                    else f"v{tried + 1} had been published"))
        # a failure is followed by a rebuild only if another attempt came: not after the last one before a
        # drop (Tp = 0 drops at the first failure) or before the run ended, nor for the failure shown itself
        if j != i and (n < len(same) - 1 or out == OUTCOME_PUBLISHED):
            text += "; rebuilt on a newer version"
    if out == OUTCOME_PUBLISHED:
        return text + f"; published v{on + 1} {took} after its read, τ = {on - read}"
    if out == OUTCOME_DROPPED:
        failed = int(e["attempts"])  # the drop comes at the (Tp + 1)-th failure
        bound = f"Tp = {failed - 1:,}" + (": one attempt, no retry" if failed == 1 else "")
        return text + f"; dropped its gradient after {_n(failed, 'failed attempt')} (persistence bound {bound})"
    if out == OUTCOME_ABANDONED:
        return text + "; the run ended before it could publish"
    return text


def _publisher(events: np.ndarray, version: int) -> int | None:
    """The thread whose update landed on `version` (so published version + 1)."""
    hit = np.nonzero((events["outcome"] == OUTCOME_PUBLISHED) & (events["t_applied"] == version))[0]
    return int(events[hit[0]]["thread"]) if len(hit) else None


class TimelineView:
    """What the timeline panel shows; a plain state machine the widget draws and its keys drive.
    Following, the window ends at the latest event; paused (or scrolled), it stays where it is."""

    def __init__(self, algo: str, axis: str = "versions"):
        self.algo = algo
        self.axis = axis
        self.zoom = {"versions": 2, "time": 5}     # index into SPANS: 32 versions, 50 ms
        self.follow = True
        self.end: float = 0.0                      # the window's right edge when not following
        self.selected: int | None = None

    @property
    def span(self) -> float:
        return SPANS[self.axis][self.zoom[self.axis]]

    def latest(self, events: np.ndarray) -> float:
        return float(extent(events, self.axis)[1].max()) if len(events) else 0.0

    def window(self, events: np.ndarray) -> tuple[float, float]:
        hi = self.latest(events) if self.follow else self.end
        return hi - self.span, hi

    def toggle_axis(self, events: np.ndarray) -> None:
        self.axis = AXES[(AXES.index(self.axis) + 1) % len(AXES)]
        if not self.follow and self.selected is not None and self.selected < len(events):
            self.end = float(extent(events[self.selected:self.selected + 1], self.axis)[1][0]) + self.span / 2
        elif not self.follow:
            self.end = self.latest(events)

    def toggle_follow(self, events: np.ndarray) -> bool:
        if self.follow:
            self.end = self.latest(events)
        self.follow = not self.follow
        return self.follow

    def zoom_by(self, steps: int) -> None:
        self.zoom[self.axis] = min(max(self.zoom[self.axis] + steps, 0), len(SPANS[self.axis]) - 1)

    def scroll(self, events: np.ndarray, fraction: float) -> None:
        """Move the window by a fraction of its span (negative: back in time); scrolling stops following."""
        if self.follow:
            self.end = self.latest(events)
            self.follow = False
        self.end = min(self.end + fraction * self.span, max(self.latest(events), self.span))

    def select(self, events: np.ndarray, step: int) -> int | None:
        """Select the next (step 1) or previous (-1) event in the window, by where it ends; stops following."""
        lo, hi = self.window(events)
        if self.follow:
            self.end, self.follow = hi, False
        _, end = extent(events, self.axis)
        inside = np.nonzero((end >= lo) & (end <= hi))[0]
        if len(inside) == 0:
            self.selected = None
            return None
        order = inside[np.argsort(end[inside], kind="stable")]
        if self.selected is None or self.selected not in order:
            self.selected = int(order[-1] if step < 0 else order[0])
        else:
            pos = int(np.nonzero(order == self.selected)[0][0]) + step
            if 0 <= pos < len(order):
                self.selected = int(order[pos])
            else:  # past the edge: move the window on by half a span and keep going
                self.end += np.sign(step) * self.span / 2
        return self.selected


    def jump(self, events: np.ndarray, step: int) -> int | None:
        """Select the next (step 1) or previous (-1) notable event — a failed CAS ✗, a lost write !, a dropped ⊘
        or abandoned gradient — after (before) the selected one (or the window's edge), anywhere in the run, and
        centre the window on it; None (nothing changes) if there is none that way."""
        _, end = extent(events, self.axis)
        notable = np.nonzero((events["outcome"] != OUTCOME_PUBLISHED) | (events["lost"] > 0))[0]
        if len(notable) == 0:
            return None
        order = notable[np.argsort(end[notable], kind="stable")]
        ends = end[order]
        if self.selected is not None and self.selected < len(events):
            here = end[self.selected]
            same = np.nonzero(order == self.selected)[0]
            pos = int(same[0]) + step if len(same) else int(np.searchsorted(ends, here, "right" if step > 0 else "left")) - (step < 0)
        else:
            lo, hi = self.window(events)
            pos = int(np.searchsorted(ends, lo, "left")) if step > 0 else int(np.searchsorted(ends, hi, "right")) - 1
        if not 0 <= pos < len(order):
            return None
        self.selected = int(order[pos])
        self.follow = False
        self.end = float(end[self.selected]) + self.span / 2
        return self.selected


def svg(events: np.ndarray, algo: str, threads: int, axis: str = "versions", width: int = 1200,
        lane_h: int = 18, title: str = "") -> str:
    """The whole run's timeline as a standalone SVG: one lane per thread, bars and marks as in the panel."""
    lo, hi = (0.0, 1.0) if len(events) == 0 else (float(extent(events, axis)[0].min()),
                                                  float(extent(events, axis)[1].max()))
    hi = max(hi, lo + 1)
    left, top = 70, 40
    plot_w = width - left - 10
    height = top + threads * lane_h + 30
    x = (lambda v: left + (v - lo) / (hi - lo) * plot_w)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" '
           f'font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{left}" y="16">{escape(title or algo)} — {escape(axis_label(axis, algo))}, '
           f'{len(events):,} events</text>']
    colors = {OUTCOME_CAS_FAILED: "#d62728", OUTCOME_DROPPED: "#9467bd", OUTCOME_ABANDONED: "#7f7f7f"}
    start, end = extent(events, axis)
    for t in range(threads):
        y = top + t * lane_h
        out.append(f'<text x="4" y="{y + lane_h - 5}">thread {t}</text>')
        mine = np.nonzero(events["thread"] == t)[0]
        for i in mine:
            e = events[i]
            outcome = int(e["outcome"])
            if outcome == OUTCOME_PUBLISHED:
                color = "#ff7f0e" if e["lost"] > 0 else "#1f77b4"
                out.append(f'<rect x="{x(start[i]):.2f}" y="{y + 3}" width="{max(x(end[i]) - x(start[i]), 0.5):.2f}" '
                           f'height="{lane_h - 6}" fill="{color}" fill-opacity="0.5"/>')
            else:
                out.append(f'<text x="{x(end[i]):.2f}" y="{y + lane_h - 5}" fill="{colors[outcome]}">'
                           f'{MARKS[outcome]}</text>')
    out.append(f'<text x="{left}" y="{height - 8}">{lo:,.0f}</text>')
    out.append(f'<text x="{width - 10}" y="{height - 8}" text-anchor="end">{hi:,.0f}'
               f'{" ns" if axis == "time" else ""}</text>')
    out.append("</svg>\n")
    return "\n".join(out)
