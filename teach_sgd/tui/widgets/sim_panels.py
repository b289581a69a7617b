"""The simulator's text panels: shared memory, one panel per virtual thread, and the event log.

Every panel is a pure function of the machine (plus which instruction ran last), so undo, reset and replay
need no bookkeeping: the screen just redraws them. They paint pre-built lines (LinesWidget), which keeps a
redraw well under a millisecond. `text` is the plain text shown, for tests.
"""
from __future__ import annotations

import math

from rich.style import Style

from teach_sgd.sim.events import CasFailed, Completed, Dropped, LostUpdate
from teach_sgd.sim.program import Instr, Op
from teach_sgd.format import bar
from teach_sgd.tui.widgets.lines import Line, LinesWidget

DIM = Style(dim=True)
LABEL = Style(color="grey62")
BOLD = Style(bold=True)
NEXT = Style(bold=True, color="black", bgcolor="yellow")
WRITTEN = Style(bold=True, color="yellow")
RED = Style(bold=True, color="red")
YELLOW = Style(color="yellow")
GREEN = Style(color="green")
CYAN = Style(color="cyan")
MAGENTA = Style(color="magenta")
COORD_W = 8
BAR_W = 16

_TOKEN = {Op.READ: "R{j}", Op.GRADIENT: "∇g", Op.FETCH_ADD: "F{j}", Op.LOAD: "L{j}", Op.STORE: "S{j}",
          Op.READ_POINTER: "P→t0", Op.READ_LATEST: "P→t1", Op.BUILD: "build", Op.CAS: "CAS"}


def token(ins: Instr) -> str:
    """A short name of one instruction for the program strip: R0 = READ x[0], F0 = FAA, L0/S0 = LOAD/STORE."""
    return _TOKEN[ins.op].format(j=ins.coord)


def fmt_coord(v: float) -> str:
    """A coordinate in COORD_W cells; NaN (not read yet) is '·'."""
    if math.isnan(v):
        return "·".rjust(COORD_W)
    if math.isinf(v):
        return ("+∞" if v > 0 else "−∞").rjust(COORD_W)
    a = abs(v)
    if a == 0 or 1e-3 <= a < 10:
        return f"{v:+.4f}".rjust(COORD_W)
    if 10 <= a < 1e4:
        return f"{v:+.2f}".rjust(COORD_W)
    text = f"{v:+.1e}"
    return (text if len(text) <= COORD_W else f"{v:+.0e}").rjust(COORD_W)


def fmt_sci(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "∞"
    return f"{v:.3e}"


def coords(values, highlight: int | None = None, style: Style | None = None) -> Line:
    out: Line = []
    for j, v in enumerate(values):
        out.append((" " + fmt_coord(float(v)), WRITTEN if j == highlight else style))
    return out


def plain(lines: list[Line]) -> str:
    return "\n".join("".join(text for text, _ in line) for line in lines)


class TextPanel(LinesWidget):
    """A LinesWidget that remembers its plain text (for tests and screen readers of the SVG)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.text = ""

    def set_lines(self, lines: list[Line]) -> None:
        self.text = plain(lines)
        super().set_lines([_no_leading_spaces(line) for line in lines])


def _no_leading_spaces(line: Line) -> Line:
    # SVG screenshots (docs, snapshots) draw each run of equally styled cells as one text element, and
    # rsvg-convert drops the leading spaces of one, shifting its text left. Move a segment's leading spaces to
    # the end of the segment before it (invisible there), or, after a background, into a style of their own.
    out: Line = []
    for text, style in line:
        body = text.lstrip(" ")
        pad = text[:len(text) - len(body)]
        if not pad:
            out.append((text, style))
            continue
        if out and (out[-1][1] is None or out[-1][1].bgcolor is None):
            out[-1] = (out[-1][0] + pad, out[-1][1])
        else:
            out.append((pad, _PAD))
        if body:
            out.append((body, style))
    return out


_PAD = Style(dim=False)   # equal to no other style used here, so never merged with the text after it


class SharedPanel(TextPanel):
    """Shared memory: X (or, in Leashed mode, the version P points to), x*, distances and counters."""

    def show(self, m, last: tuple[int, Instr] | None) -> None:
        leashed = m.mode == "leashed"
        written = None
        if last is not None and last[1].op in (Op.FETCH_ADD, Op.STORE):
            written = last[1].coord
        x = m.shared()
        label = f"P→v{m.version}".ljust(7) if leashed else "X      "
        lines: list[Line] = [
            [(label, BOLD)] + coords(x, written, BOLD),
            [("x*     ", LABEL)] + coords(m.objective.x_star, style=DIM),
            [("‖X−x*‖² ", LABEL), (fmt_sci(m.distance2()), BOLD),
             ("   f(X)−f* ", LABEL), (fmt_sci(m.loss() - m.objective.loss(m.objective.x_star)), BOLD)],
            [("max delay ", LABEL), (str(m.max_delay), BOLD),
             (" · lost writes ", LABEL), (str(m.lost_updates), RED if m.lost_updates else BOLD),
             (" · failed CAS ", LABEL), (str(m.cas_failures), YELLOW if m.cas_failures else BOLD),
             (" · dropped ", LABEL), (str(m.dropped), MAGENTA if m.dropped else BOLD)],
        ]
        self.set_lines(lines)
        what = "shared memory: P → the latest version" if leashed else "shared memory X"
        self.border_title = f"{what} · step {m.steps} · completed {m.completed}"


class ThreadPanel(TextPanel):
    """One virtual thread: its program (next instruction highlighted), next step, local view, gradient, and
    the delay of its in-flight iteration against τ_max."""

    def __init__(self, tid: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.tid = tid

    def show(self, m, *, enabled: bool, last_tid: int | None) -> None:
        t = self.tid
        info = m.thread_info(t)
        prog = m.program
        strip: Line = [("     ", LABEL)]
        for i, ins in enumerate(prog):
            style = NEXT if i == info.pc else (DIM if i < info.pc else None)
            strip.append((token(ins), style))
            strip.append((" ", None))
        nxt: Line = [("next ", LABEL), ("▶ " + str(info.next), BOLD)]
        if not info.in_flight:
            nxt.append(("  (starts an iteration)", DIM))
        nxt += self._hint(m, info)
        view_label = f"v{info.version_read}".ljust(5) if m.mode == "leashed" and info.version_read is not None \
            else "view "
        view: Line = [(view_label, LABEL)] + coords(info.view)
        grad: Line = [("g    ", LABEL)]
        grad += coords(info.gradient) if info.gradient is not None else [(" " + "·".rjust(COORD_W), None)] * m.d
        lines = [strip, nxt, view, grad, self._delay(m, info)]
        self.set_lines(lines)
        state = "in flight" if info.in_flight else "between iterations"
        title = f"thread {t} · key {t + 1} · {state}"
        if not enabled:
            title += " · [b red]✗ refused by the leash[/]"
        self.border_title = title
        self.border_subtitle = f"iterations done {info.completed}"
        self.set_class(not enabled, "-refused")
        self.set_class(last_tid == t, "-last")

    @staticmethod
    def _hint(m, info) -> Line:
        op = info.next.op
        if op is Op.STORE:
            j = info.next.coord
            k = info.writes_since_load or 0
            if k:
                return [(f"  ⚠ erases {k} write(s) made since LOAD", RED)]
            return [(f"  r = {info.loaded:+.4f} (x[{j}] unchanged)", DIM)]
        if op is Op.CAS:
            if m.version != info.version_base:
                return [(f"  ⚠ P moved on to v{m.version}: CAS fails", RED)]
            return [(f"  P still at v{info.version_base}: CAS succeeds", GREEN)]
        if op is Op.READ_LATEST and info.cas_failures:
            return [(f"  retry after {info.cas_failures} failed CAS", YELLOW)]
        return []

    @staticmethod
    def _delay(m, info) -> Line:
        if not info.in_flight:
            return [("delay ", LABEL), ("— no iteration in flight", DIM)]
        tau = m.tau_max
        delay = info.delay
        if tau is None:
            scale = max(m.threads - 1, delay, 1)
            return [("delay ", LABEL)] + _bar(delay, scale, CYAN) + [
                (f" {delay}", BOLD), ("  (no leash)", DIM), (f"  started at step {info.started_at + 1}", DIM)]
        style = RED if delay > tau else (YELLOW if delay == tau else GREEN)
        return [("delay ", LABEL)] + _bar(delay, tau, style) + [
            (f" {delay}/τ_max {tau}", BOLD), (f"  started at step {info.started_at + 1}", DIM)]


def _bar(value: int, maximum: int, style: Style) -> Line:
    """A BAR_W-cell bar: the filled part in `style`, the rest a dim rule."""
    if maximum <= 0:
        filled = "█" * BAR_W if value > 0 else ""
    else:
        filled = bar(value, maximum, BAR_W).rstrip()
    return [(filled, style), ("─" * (BAR_W - len(filled)), DIM)]


def event_line(e) -> Line:
    """One event in at most ~46 cells: step, thread, what happened."""
    head = (f"{e.step + 1:>4} t{e.thread} ", LABEL)   # the 1-based step, as the title counts
    if isinstance(e, LostUpdate):
        if e.erased == 1 and e.by >= 0:
            return [head, (f"✗ LOST UPDATE x[{e.coord}]: erased t{e.by}'s write", RED)]
        return [head, (f"✗ LOST UPDATE x[{e.coord}]: erased {e.erased} writes", RED)]
    if isinstance(e, CasFailed):
        return [head, (f"✗ CAS failed: built on v{e.expected}, P at v{e.found}", YELLOW)]
    if isinstance(e, Dropped):
        return [head, (f"✗ gradient dropped after {e.failures} failed CAS", MAGENTA)]
    if isinstance(e, Completed):
        return [head, (f"✓ iteration {e.iteration} done, delay {e.delay}", GREEN if e.delay == 0 else CYAN)]
    return [head, (str(e), None)]


class EventLog(TextPanel):
    """The latest events, newest at the bottom: completions (with delay), lost writes, failed CAS, drops."""

    DEFAULT_CSS = """
    EventLog { height: 1fr; }
    """
    def show(self, m) -> None:
        # only what fits (building lines is most of a redraw): the log's height, or 40 before the first layout
        events = m.events[-max(self.size.height, 40):]
        lines = [event_line(e) for e in events] or [[("no events yet: step a thread", DIM)]]
        self.set_lines(lines)
        self.border_title = "event log"
        self.border_subtitle = f"lost writes {m.lost_updates} · failed CAS {m.cas_failures} · drops {m.dropped}"

    def render_line(self, y: int):
        # the newest lines at the bottom: show the tail that fits
        skip = max(0, len(self._strips) - self.size.height)
        return super().render_line(y + skip)
