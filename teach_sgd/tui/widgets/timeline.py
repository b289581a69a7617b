"""TimelinePanel: a swimlane per thread from the run's real events; it only draws (teach_sgd/timeline.py decides).

Keys while focused: p follow/hold · ←/→ scroll · +/- zoom · [ ] select the previous/next event · { } jump to the
previous/next ✗ failed CAS, ! lost write or ⊘ dropped gradient anywhere in the run · v axis (versions or run
time). The selected event's story is the panel's last line. A thread held at a protocol point (a breakpoint,
freeze or step: tui/screens/thread_keys.py) ends its lane with "■ held at POINT". The panel is as tall as its lanes (up to MAX_LANES,
then "+N more" says how many threads are not drawn) and its story line, whatever the screen around it.
"""
from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget

from teach_sgd.engine.events import dropped_note, empty
from teach_sgd.timeline import TimelineView, axis_label, layout, story

MAX_LANES = 8  # more threads than this: the first 8 lanes (the thread table has every thread's numbers)
STYLES = {"bar": "cyan", "mark": "bold red", "selected": "bold black on yellow", "held": "bold black on yellow"}
LABEL_W = 4


def held_at(snapshot) -> dict[int, str]:
    """{thread: point} of a snapshot's threads held at a protocol point now."""
    return {t.thread: t.held_at for t in snapshot.threads if t.held_at}


class TimelinePanel(Widget, can_focus=True):
    DEFAULT_CSS = """
    TimelinePanel { height: auto; max-height: 12; border: round $primary 50%; border-title-color: $text; }
    TimelinePanel:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("p", "follow", "follow/hold"), Binding("left", "scroll_by(-0.5)", "back", show=False),
        Binding("right", "scroll_by(0.5)", "on", show=False), Binding("plus,equals", "zoom(-1)", "zoom in"),
        Binding("minus", "zoom(1)", "zoom out"), Binding("left_square_bracket", "select(-1)", "prev event"),
        Binding("right_square_bracket", "select(1)", "next event"), Binding("v", "axis", "axis"),
        Binding("left_curly_bracket", "jump(-1)", "prev ✗!⊘"), Binding("right_curly_bracket", "jump(1)", "next ✗!⊘"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "timeline · appears once a run starts"
        self.border_subtitle = "p follow · ←→ scroll · +- zoom · [ ] select · { } next ✗!⊘ · v axis"
        self.view = TimelineView("leashed")
        self.events = empty()
        self.threads = 1
        self.missed = 0
        self.kept_from_s: float | None = None
        self.bound: str | None = None  # the limit that dropped the events before kept_from_s (None: the log's)
        self.unkept = ""  # why a finished run's events are not shown (the title says it), "" when they are
        self.held: dict[int, str] = {}

    def show(self, events: np.ndarray, algo: str, threads: int, missed: int, kept_from_s: float | None = None,
             held: dict | None = None, bound: str | None = None, unkept: str = "") -> None:
        """The events so far (drained live, or recorded up to the replay's time); `kept_from_s`: the run time of
        the oldest event kept, when the run's bounded log (or `bound`) dropped older ones (engine/events.py);
        held: {thread: point} of the threads held now (held_at(snapshot)); unkept: why a finished run's events
        are not shown (the title says it)."""
        if algo != self.view.algo:
            self.view = TimelineView(algo)
        if threads != self.threads:   # never squeezed below its lanes and story line by the panels around it
            self.styles.min_height = min(threads, MAX_LANES) + 4   # lanes, span/story, border
        self.events, self.threads, self.missed, self.kept_from_s = events, threads, missed, kept_from_s
        self.held, self.bound, self.unkept = held or {}, bound, unkept
        self._redraw()

    def show_kept(self, kept, algo: str, threads: int, unkept: str) -> None:
        """A finished run's kept events (engine/events.KeptEvents), or None: its events are not in memory, and
        `unkept` says why."""
        self.view = TimelineView(algo)  # another run: nothing held, scrolled or selected in the last one applies
        if kept is None:
            self.show(empty(), algo, threads, 0, unkept=unkept)
        else:
            self.show(kept.events, algo, threads, kept.missed, kept.kept_from_s, bound=kept.bound)

    def _redraw(self) -> None:
        # Titles are set here, never in render(): setting a border title refreshes the widget, so setting it
        # while rendering would render again at the full frame rate (it cost ~15% of a core at 15 Hz).
        v = self.view
        if self.unkept:
            self.border_title = f"timeline · {self.unkept}"
            self.refresh()
            return
        self.border_title = (f"timeline · {axis_label(v.axis, v.algo)} · {'following' if v.follow else 'held'} · "
                             f"{len(self.events):,} events" + (f" · {self.missed:,} MISSED" if self.missed else "")
                             + (f" · {dropped_note(self.kept_from_s, self.bound)}" if self.kept_from_s is not None
                                else ""))
        self.refresh()

    def get_content_height(self, container, viewport, width: int) -> int:
        return min(self.threads, MAX_LANES) + 2

    def render(self) -> Text:
        v = self.view
        lo, hi = v.window(self.events)
        width = max(1, self.size.width - LABEL_W)
        lanes = layout(self.events, v.axis, lo, hi, width, min(self.threads, MAX_LANES), v.selected)
        out = Text(no_wrap=True, overflow="ellipsis")
        for t, lane in enumerate(lanes):
            out.append(f"t{t:<{LABEL_W - 1}}", style="dim")
            line = Text()
            # one span per run of equal style, not one per cell: every span becomes a segment the compositor
            # handles on each frame (per cell, the panel alone cost ~15% of a core at 15 Hz)
            run, run_style = [], ""
            for c in range(width):
                cell = lane.get(c)
                style = STYLES[cell.kind] if cell else ""
                if style != run_style and run:
                    line.append("".join(run), style=run_style)
                    run = []
                run_style = style
                run.append(cell.char if cell else " ")
            line.append("".join(run), style=run_style)
            if t in self.held:  # where the thread stands now: the lane's live end
                mark = f" ■ held at {self.held[t]} "
                line.truncate(max(0, width - len(mark)))
                line.append(mark[:width], style=STYLES["held"])
            out.append_text(line)
            out.append("\n")
        span = f"{lo:,.0f} … {hi:,.0f}" if v.axis == "versions" else f"{lo / 1e6:,.1f} … {hi / 1e6:,.1f} ms"
        if self.threads > MAX_LANES:
            span += f"  +{self.threads - MAX_LANES} more threads"
        out.append(f"{span}  ", style="dim")
        if v.selected is not None and v.selected < len(self.events):
            out.append(story(self.events, v.selected, v.algo))
        else:
            out.append("━ update (read → published)  ✗ CAS failed  ⊘ dropped  w lock wait  ! lost write", style="dim")
        return out

    def action_follow(self) -> None:
        self.view.toggle_follow(self.events)
        self._redraw()

    def action_scroll_by(self, fraction: float) -> None:
        self.view.scroll(self.events, fraction)
        self._redraw()

    def action_zoom(self, steps: int) -> None:
        self.view.zoom_by(steps)
        self.refresh()

    def action_select(self, step: int) -> None:
        self.view.select(self.events, step)
        self.refresh()

    def action_jump(self, step: int) -> None:
        if self.view.jump(self.events, step) is None:
            self.app.bell()
        self._redraw()

    def action_axis(self) -> None:
        self.view.toggle_axis(self.events)
        self._redraw()
