"""PresenterScreen: the race for a projector — few, large panels that read from the back of a room at 80×24.

    PresenterScreen(sources)       # [(label, source)]: live Runners (P on Playground/Compare, `teach-sgd present`)
                                   # or a ReplaySource (P on the replay screen, `teach-sgd present --replay FILE`)

One panel per run with the race in big digits — lost writes (HOGWILD! loses some, Leashed-SGD and LOCK lose
none by construction), failed CAS, mean staleness — each with its unit named; the loss curves together; the
timeline with lanes twice as tall; and a high-contrast theme (t toggles it back). Keys: space pause/play,
> < slow motion (a live run's stretch; a replay's speed), h/Esc back, and on live runs the thread keys of every
run screen (thread_keys.py: , . select a thread, b breakpoint, f freeze, o step, u go on): a held thread's lane
says where it is held, and the line under the title what the selected thread does and the others' rate.

The screen reads its sources only through `snapshot()` and `events_now()` on a timer, like the dashboard, and
acts on them only through `_Controls` and ThreadControls.
"""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.theme import Theme
from textual.widgets import Digits, Footer, Static

from teach_sgd.engine.config import ALGO_NAMES
from teach_sgd.runs.session import next_stretch
from teach_sgd.tui.screens.base import QUIT_HELP
from teach_sgd.tui.screens.thread_keys import THREAD_BINDINGS, ThreadKeysScreen
from teach_sgd.tui.widgets.dashboard import CORES, SAMPLE_HZ
from teach_sgd.tui.widgets.plots import LossPlot
from teach_sgd.tui.widgets.timeline import TimelinePanel, held_at
from teach_sgd.tui.widgets.too_small import TooSmall

CONTRAST = Theme(name="teach-sgd-contrast", primary="#ffff00", secondary="#00ffff", accent="#ff00ff",
                 foreground="#ffffff", background="#000000", surface="#000000", panel="#000000",
                 success="#00ff00", warning="#ffff00", error="#ff3030", dark=True)


def race_figures(snap) -> dict:
    """The numbers a presenter panel shows for one snapshot (or RunResult), each with its unit in words, short
    enough for half of an 80-column screen: {big, big_unit, lines: [str, str]}. The big number is lost writes:
    HOGWILD!'s of its observed coordinate writes; 0 for the others, with the reason. Then failed CAS (Leashed-SGD) and the
    mean staleness τ — in versions, or for HOGWILD! (which reads no versions) in updates applied meanwhile."""
    c = snap.config
    threads = snap.threads
    updates = snap.updates
    lines = []
    if c.algo == "hogwild":
        big = sum(t.lost_updates_sampled for t in threads)
        unit = f"lost writes of {sum(t.sampled_writes for t in threads):,} observed"
        lines.append(f"{updates:,} updates, racy writes")
    else:
        why = {"leashed": "one CAS each", "lock": "one lock", "seq": "one thread", "sync": "one barrier"}[c.algo]
        big, unit = 0, f"lost writes ({why})"
        if c.algo == "leashed":
            fails = sum(t.cas_fail for t in threads)
            lines.append(f"failed CAS {fails:,}" + (f" = {fails / updates:.2f}/update" if updates else ""))
        else:
            lines.append(f"{updates:,} updates")
    if c.algo != "seq":
        lines.append(f"staleness τ̄ {snap.staleness_mean:.2f} {'updates' if c.algo == 'hogwild' else 'versions'}")
    return {"big": big, "big_unit": unit, "lines": lines}


def replay_sources(source) -> list:
    """The presenter's sources for one ReplaySource: its label says it is a replay. The clock is the source's own,
    so P on the replay screen presents from where the player stands, and h/Esc goes back to it there."""
    return [(f"{ALGO_NAMES[source.config.algo]} ×{source.config.threads} (replay)", source)]


class RacePanel(Vertical):
    DEFAULT_CSS = """
    RacePanel { border: heavy $primary; height: 8; padding: 0 1; }
    RacePanel Digits { width: auto; color: $warning; text-style: bold; }
    RacePanel.-lost Digits { color: $error; }
    RacePanel .unit { height: 1; text-style: bold; }
    RacePanel .more { height: 2; }
    """

    def __init__(self, label: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = label

    def compose(self) -> ComposeResult:
        yield Digits("0")
        yield Static("", classes="unit")
        yield Static("", classes="more")

    def on_mount(self) -> None:
        self.digits = self.query_one(Digits)
        self.unit, self.more = self.query(Static)[0], self.query(Static)[1]

    def show(self, figures: dict, status: str) -> None:
        self.digits.update(f"{figures['big']:,}")
        self.set_class(figures["big"] > 0, "-lost")
        self.unit.update(Text(figures["big_unit"]))
        self.more.update(Text("\n".join(figures["lines"])))
        self.border_subtitle = status


class BigTimeline(TimelinePanel, can_focus=False):
    """The timeline with every lane drawn two rows tall, so bars and marks read from across a room. It takes no
    focus: the footer shows the presenter's own keys, which must fit in 80 columns."""

    DEFAULT_CSS = "BigTimeline { max-height: 20; border: heavy $primary; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_subtitle = ""  # the panel's own keys (scroll, zoom) need focus, which it does not take here

    def get_content_height(self, container, viewport, width: int) -> int:
        return 2 * (super().get_content_height(container, viewport, width) - 2) + 1

    def render(self) -> Text:
        lines = super().render().split("\n")
        lanes, tail = lines[:-1], lines[-1:]  # the lanes; then the span and the legend (or the selected event)
        return Text("\n").join([line for lane in lanes for line in (lane, lane)] + tail)


class _Controls:
    """What the presenter's keys do to its sources: live Runners (pause, stretch) or a ReplaySource (play,
    speed). Plain, so the screen stays a view; the title and the panels show the effect."""

    def __init__(self, sources):
        self.sources = [s for _, s in sources]
        self.replay = [s for s in self.sources if hasattr(s, "clock")]

    def _live(self) -> list:
        return [s for s in self.sources if s.started and not s.done]

    def toggle(self) -> None:
        for s in self.replay:
            s.clock.toggle()
        live = [] if self.replay else self._live()
        paused = any(s.paused for s in live)
        for s in live:
            if paused:
                s.resume()
            else:
                s.pause()

    def slower(self, step: int) -> None:
        """step 1: slower (more slow motion, or a slower replay); -1: faster."""
        for s in self.replay:
            s.clock.set_speed(-step)
        live = [] if self.replay else self._live()
        if live:
            factor = next_stretch(live[0].stretch, step)
            for s in live:
                s.set_stretch(factor)


class PresenterScreen(ThreadKeysScreen):
    BINDINGS = [
        Binding("escape,h", "close", "Back", key_display="h/Esc"),
        *QUIT_HELP,
        Binding("space", "toggle", "Pause/Play"),
        Binding("greater_than_sign", "slower(1)", "Slower", key_display=">"),
        Binding("less_than_sign", "slower(-1)", "Faster", key_display="<"),
        *THREAD_BINDINGS,
        Binding("t", "theme", "Contrast"),
    ]
    DEFAULT_CSS = """
    PresenterScreen #title { height: 1; padding: 0 1; text-style: bold; background: $primary; color: $background; }
    PresenterScreen #holds { height: auto; padding: 0 1; text-style: bold; color: $warning; display: none; }
    PresenterScreen #races { height: 8; }
    PresenterScreen BigTimeline { height: 1fr; }
    PresenterScreen #lower { height: 1fr; }
    PresenterScreen LossPlot { width: 2fr; border: heavy $primary; }
    PresenterScreen #timelines { width: 3fr; }
    """

    def __init__(self, sources, owns: bool = False, **kwargs) -> None:
        """sources: [(label, Runner or ReplaySource)]; owns: stop the runs when this screen closes
        (`teach-sgd present` started them for it)."""
        super().__init__(**kwargs)
        self.sources = list(sources)
        self.player = _Controls(self.sources)
        self.owns = owns
        self._theme_before: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="title")
        yield Static("", id="holds")
        with Horizontal(id="races"):
            for i, (label, _) in enumerate(self.sources):
                yield RacePanel(label, id=f"race-{i}")
        with Horizontal(id="lower"):
            yield LossPlot()
            with Vertical(id="timelines"):
                for i, _ in enumerate(self.sources):
                    yield BigTimeline(id=f"timeline-{i}")
        yield Footer()
        yield TooSmall()

    def on_mount(self) -> None:
        self.title_bar = self.query_one("#title", Static)
        self.holds_line = self.query_one("#holds", Static)
        self.panels = [self.query_one(f"#race-{i}", RacePanel) for i in range(len(self.sources))]
        self.timelines = [self.query_one(f"#timeline-{i}", BigTimeline) for i in range(len(self.sources))]
        self.loss = self.query_one(LossPlot)
        self.ticks = 0
        for _, source in self.sources:  # `teach-sgd present` hands over built, not started, runs
            if not source.started:
                self.app.register_runner(source)
                source.start()
        self.action_theme()
        self.set_interval(1 / SAMPLE_HZ, self._tick)
        self._tick()

    def _tick(self) -> None:
        self.ticks += 1
        series, states = [], []
        for (label, source), panel, timeline in zip(self.sources, self.panels, self.timelines):
            snap = source.snapshot()
            panel.show(race_figures(snap), f"{snap.status} · {snap.elapsed_s:.1f} s")
            timeline.show(source.events_now(), snap.config.algo, snap.config.threads, snap.events_missed,
                          source.events_kept_from_s(), held_at(snap))
            series.append((label, snap.loss_curve))
            states.append(snap)
        self.loss.show(series)
        first = states[0]
        speed = (f"replay {self.player.replay[0].clock.speed:g}×" if self.player.replay else
                 "full speed" if first.stretch == 1 else f"slow motion {first.stretch}×")
        many = max(s.config.threads for s in states)
        if not self.player.replay and first.stretch > 1 and many > CORES:  # what it means: README, slow motion
            speed += f" · {many} threads on {CORES} cores"
        vs = " vs ".join(f"{ALGO_NAMES[s.config.algo]} ×{s.config.threads}" for s in states)
        self.title_bar.update(Text(f"{vs} · {speed} · {first.status} · {first.elapsed_s:.1f} s"))

    def thread_runners(self) -> list:
        """The live runs' Runners (a replay's threads are recorded: nothing to hold)."""
        return [s for _, s in self.sources if hasattr(s, "holds")]

    def say_threads(self, text: str) -> None:
        self.holds_line.update(Text(text))
        self.holds_line.display = True

    def quiet_threads(self, last: str) -> None:
        self.holds_line.display = False  # the line is the threads' own: nothing held, nothing to say

    def action_toggle(self) -> None:
        self.player.toggle()

    def action_slower(self, step: int) -> None:
        self.player.slower(step)

    def action_theme(self) -> None:
        """High contrast on (as the screen opens) or back to the theme before."""
        if self._theme_before is None:
            if CONTRAST.name not in self.app.available_themes:
                self.app.register_theme(CONTRAST)
            self._theme_before = self.app.theme
            self.app.theme = CONTRAST.name
        else:
            self.app.theme, self._theme_before = self._theme_before, None

    def action_close(self) -> None:
        self.app.pop_screen()

    def on_unmount(self) -> None:
        if self._theme_before is not None:
            self.app.theme = self._theme_before
        if self.owns:
            for _, source in self.sources:
                if hasattr(source, "stop") and not source.done:
                    source.resume()
                    source.stop()
