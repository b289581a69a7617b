"""Dashboard: the live view of one Runner, reusable on the Playground, the Compare screen and in lessons.

    dash = Dashboard()                 # compose it anywhere
    dash.start(runner)                 # starts the runner (if not started) and samples it at SAMPLE_HZ
    on_dashboard_run_finished(msg)     # msg.result: the RunResult, posted once the threads have ended
    on_dashboard_run_diverged(msg)     # posted first when the loss exploded (the run is stopped for you)

The dashboard only ever *reads* the runner through `snapshot()` (plain copies) on a timer in the UI loop, so
the UI never blocks on the engine and the engine never waits for the UI. Computing the final RunResult
evaluates the model, so that runs in a thread worker, which touches no widget.
"""
from __future__ import annotations

import asyncio
import math
import os
import time
from collections import deque

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from teach_sgd.engine.cores import busy_parts
from teach_sgd.engine.result import COLLAPSE_CAUSES
from teach_sgd.settings import bound_text
from teach_sgd.runs.session import stop_runner
from teach_sgd.format import fmt_count, fmt_loss, fmt_rate
from teach_sgd.tui.widgets.histogram import StalenessHistogram
from teach_sgd.tui.widgets.plots import MIN_PLOT, LossPlot, VersionsPlot
from teach_sgd.tui.widgets.thread_table import ThreadTable
from teach_sgd.tui.widgets.timeline import TimelinePanel, held_at

CORES = os.cpu_count() or 1
SAMPLE_HZ = 15.0  # snapshots a second: every live number on the dashboard (help and README quote it)
# The thread table's height at most: beyond it the table shows a window of rows that follows the cursor, so the
# timeline and the plots stay in view at 64 threads, and a repaint builds only the rows in view (it built all 64,
# and the panels pushed out of view made Textual re-map the whole screen on every frame).
# benchmarks/bench_tui.py part 3 compares it with no cap (variant all-rows).
TABLE_MAX_HEIGHT = "40%"
STATUS_STYLE = {
    "ready": "dim", "starting": "yellow", "running": "bold green", "paused": "bold yellow",
    "stopping": "yellow", "finished": "bold cyan", "stopped": "bold yellow", "diverged": "bold white on red",
    "collapsed": "bold white on red",
}
BANNERS = {
    "diverged": "DIVERGED — the loss exploded, so the run was stopped. "
                "Try a smaller step size (lr), fewer threads, or a consistent algorithm.",
    "collapsed": "COLLAPSED — the model ended no better than chance and its loss is stuck near ln(classes): "
                 "{cause}. {advice}",
}
COLLAPSE_ADVICE = {"step": "Try a smaller step size (lr).", "stuck": "Try a larger step size (lr).",
                   "init": "Try fewer hidden layers (or, on the command line, --init he)."}


TABLE_SUBTITLE = "bars ∝ column max · bright = the max · ↑↓ select"


def table_subtitle(held: dict[int, str], delay: tuple[int, int] | None = None) -> str:
    """The thread table's subtitle: which thread the delay adversary holds back ("t0 delayed τ=4": each of its
    updates lands at least τ versions stale), and while threads are held, where and which ("held @cas: t0 t1 ·
    @read: t3", or how many where more than 4 are held at one point), so that it fits half of an 80-column
    screen; the key hint when there is neither."""
    parts = [f"t{delay[0]} delayed τ={delay[1]}"] if delay is not None else []
    if held:
        points = {p: [t for t, q in sorted(held.items()) if q == p] for p in dict.fromkeys(held.values())}
        parts.append("held " + " · ".join(f"@{p}: " + (" ".join(f"t{t}" for t in ts) if len(ts) <= 4
                                                         else f"{len(ts)} threads") for p, ts in points.items()))
    return " · ".join(parts) or TABLE_SUBTITLE


def busy_status(waited: float | None, threads: int, cores: int | None = None) -> list[Text]:
    """The status line's parts saying the machine is busy (engine/cores.py), or none."""
    return [Text(p, style="bold yellow") for p in busy_parts(waited, threads, cores) or ()]


class RunStatus(Static):
    """State, run, time, updates, updates/s, loss and accuracy, each a part that is never split: as many parts
    on a line as fit, the rest on the next (Compare's halves, a lesson's right pane), so that no number is parted
    from its unit and the final loss and accuracy are never cut off."""

    def __init__(self, *parts: Text, **kwargs) -> None:
        super().__init__(**kwargs)
        self._lines = 1
        self._parts = parts

    def show_text(self, *parts: Text) -> None:
        self._parts = parts
        self._lay_out()

    def on_resize(self) -> None:
        self._lay_out()   # (a finished run's line has no next tick to lay it out for the new width)

    def _lay_out(self) -> None:
        width = self.content_size.width or None   # None before the first layout: one line, as many as given
        lines: list[Text] = []
        for part in self._parts:
            if lines and (width is None or lines[-1].cell_len + 2 + part.cell_len <= width):
                lines[-1] = Text.assemble(lines[-1], "  ", part)
            else:
                lines.append(part)
        text = Text("\n").join(lines)
        n = max(1, len(lines))
        if width and any(line.cell_len > width for line in lines):  # only a part wider than the pane wraps:
            n = len(text.wrap(self.app.console, width))              # no wrap pass on every tick otherwise
        if n != self._lines:  # a new height needs a layout pass: only when it changes
            self._lines = n
            self.styles.height = n
        self.update(text, layout=False)


class LowerRow(Horizontal):
    """The staleness histogram, live versions, and the loss curve over the updates/s sparkline. Where the row is
    short (a lesson's runs table below it at 40 lines) the sparkline gives way, so the loss curve keeps rows to
    draw in: the status line above shows updates/s anyway."""

    RATE_ROWS = 4                     # the sparkline's box
    LOSS_MIN_ROWS = MIN_PLOT[1] + 2   # the smallest loss plot that draws a curve, in its box

    def on_resize(self, event) -> None:
        rate = self.query_one("#rate")
        show = event.size.height >= self.RATE_ROWS + self.LOSS_MIN_ROWS
        if rate.display != show:
            rate.display = show


class Dashboard(Widget):
    """Per-thread table + staleness histogram + live versions + loss curve + updates/s of one run."""

    DEFAULT_CSS = """
    Dashboard { height: 1fr; layout: vertical; }
    Dashboard RunStatus { height: 1; padding: 0 1; }
    Dashboard #banner { display: none; height: auto; padding: 0 1; background: $error; color: $text; text-style: bold; }
    Dashboard.-diverged #banner, Dashboard.-collapsed #banner { display: block; }
    Dashboard ThreadTable { border: round $primary 50%; border-title-color: $text; }
    Dashboard #lower { height: 1fr; }
    Dashboard StalenessHistogram { width: 1fr; min-width: 28; border: round $primary 50%; }
    Dashboard VersionsPlot { width: 1fr; border: round $primary 50%; }
    Dashboard #loss-col { width: 2fr; }
    Dashboard LossPlot { height: 1fr; border: round $primary 50%; }
    Dashboard #rate { height: 4; border: round $primary 50%; }
    Dashboard #rate Sparkline { height: 2; }
    Dashboard.-compact #lower { display: none; }
    """

    class RunFinished(Message):
        """The run's threads have ended; `result` is its RunResult (status finished, stopped, diverged or
        collapsed), `runner` the run it came from: by the time a screen reads the message the dashboard may show
        a newer run already (a restart while this one was stopping)."""

        def __init__(self, dashboard: "Dashboard", runner, result) -> None:
            super().__init__()
            self.dashboard = dashboard
            self.runner = runner
            self.result = result

        @property
        def control(self) -> "Dashboard":
            return self.dashboard

    class RunDiverged(RunFinished):
        """The loss exploded: the dashboard stopped the run; posted just before RunFinished."""

    selected_thread: reactive[int] = reactive(0, init=False)
    live = True  # a live run: one that diverges is stopped (a replay shows what happened next instead)

    def __init__(self, hz: float = SAMPLE_HZ, compact: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hz = hz
        self.compact = compact
        if compact:
            self.add_class("-compact")
        self.runner = None
        self.result = None
        self.last_snapshot = None
        self._finishing = False
        self._rates: deque[float] = deque(maxlen=120)
        self._prev: tuple[float, int] | None = None
        self.ticks = 0

    def compose(self) -> ComposeResult:
        yield RunStatus(Text("no run yet: Tab to settings, s starts", style="dim"), id="status")
        yield Static("", id="banner")
        yield ThreadTable(compact=self.compact, id="thread-table")
        if not self.compact:
            yield TimelinePanel(id="timeline")
        with LowerRow(id="lower"):
            yield StalenessHistogram(id="hist")
            yield VersionsPlot(id="versions")
            with Vertical(id="loss-col"):
                yield LossPlot(id="loss")
                with Vertical(id="rate"):
                    yield Sparkline([], id="rate-line")

    def on_mount(self) -> None:
        # looked up once: a timer firing during shutdown must not query the DOM
        self._status = self.query_one(RunStatus)
        self._banner = self.query_one("#banner", Static)
        self._table = self.query_one(ThreadTable)
        self._table.border_title = "threads"
        if TABLE_MAX_HEIGHT and not self.compact:  # (compact: the table and the status are all there is)
            self._table.styles.max_height = TABLE_MAX_HEIGHT
        self._table.border_subtitle = TABLE_SUBTITLE
        self._hist = self.query_one(StalenessHistogram)
        self._timeline = None if self.compact else self.query_one(TimelinePanel)
        self._versions = self.query_one(VersionsPlot)
        self._loss = self.query_one(LossPlot)
        self._rate_box = self.query_one("#rate", Vertical)
        self._rate_box.border_title = "updates/s"
        self._rate_line = self.query_one("#rate-line", Sparkline)
        self._timer = self.set_interval(1.0 / self.hz, self._tick, pause=True)

    # ---- control ------------------------------------------------------------------------------------
    def start(self, runner) -> None:
        """Show `runner` (starting it if needed) and begin sampling it."""
        self.reset()
        self.runner = runner
        if not runner.started:
            runner.start()
        self._timer.resume()
        self._tick()

    def reset(self) -> None:
        """Forget the current run (it must already have ended or been handed to someone else)."""
        self._timer.pause()
        self.runner = None
        self.result = None
        self.last_snapshot = None
        self._finishing = False
        self.remove_class("-diverged", "-collapsed")
        self._table.clear_threads()
        self._forget_history()
        self._loss.clear_plot()
        self._banner.update("")

    def _forget_history(self) -> None:
        """Empty the panels that gather a history tick by tick: live versions over time and updates/s."""
        self._prev = None
        self._rates.clear()
        self._versions.clear_plot()
        self._rate_line.data = []

    def show_now(self) -> None:
        """Draw the run as it is now, not at the next sample: a key's effect (pause, resume) shows at once."""
        self._tick()

    def pause_run(self) -> None:
        if self.runner is not None and not self.runner.done:
            self.runner.pause()
            self._tick()

    def resume_run(self) -> None:
        if self.runner is not None and not self.runner.done:
            self.runner.resume()
            self._tick()

    def toggle_pause(self) -> bool | None:
        """Space on a screen with one run: pause the run, or resume it if it is paused. Returns whether it is
        paused now; None when there is no live run and nothing was done."""
        r = self.runner
        if r is None or r.done:
            return None
        if r.paused:
            self.resume_run()
            return False
        self.pause_run()
        return True

    def stop_run(self) -> None:
        stop_runner(self.runner)

    @property
    def running(self) -> bool:
        return self.runner is not None and self.result is None

    # ---- sampling -----------------------------------------------------------------------------------
    def _tick(self) -> None:
        runner = self.runner
        if runner is None:
            return
        self.ticks += 1
        snap = self._snapshot(runner)
        self.last_snapshot = snap
        if snap.diverged and snap.status != "stopping" and self.live:
            stop_runner(runner)  # a diverged run has nothing left to teach: stop it cleanly
        self._show_snapshot(snap)
        if runner.done and not self._finishing:
            self._finishing = True
            self._timer.pause()
            self.run_worker(self._finish(runner), group="finish", exclusive=False)

    def _snapshot(self, runner):
        return runner.snapshot()

    async def _finish(self, runner) -> None:
        result = await asyncio.to_thread(runner.result)
        if runner is not self.runner or not self._finishing:  # another run, or a replay that went back meanwhile
            return
        self.result = result
        self.show_result(result)
        if self._timeline is not None:  # result() waited for the drainer's last drain: every event is in
            self._timeline.show(runner.events_now(), result.config.algo, result.config.threads,
                                result.events_missed, runner.events_kept_from_s())
        if result.diverged:
            self.post_message(self.RunDiverged(self, runner, result))
        self.post_message(self.RunFinished(self, runner, result))

    def _rate(self, now: float, updates: int, status: str) -> float | None:
        """Take in the run's progress at `now` s; updates/s over at least 0.2 s (the sparkline's history), None
        until the first 0.2 s have passed (the run's mean rate is shown then, never a 0 it did not measure)."""
        if self._prev is not None and now > self._prev[0] + 1e-6:
            dt = now - self._prev[0]
            if dt >= 0.2 or status != "running":
                rate = (updates - self._prev[1]) / dt
                self._prev = (now, updates)
                self._rates.append(rate)
                self._rate_line.data = list(self._rates)
        elif self._prev is None:
            self._prev = (now, updates)
        return self._rates[-1] if self._rates else None

    def _show_snapshot(self, snap) -> None:
        cfg = snap.config
        rate = self._rate(snap.elapsed_s, snap.updates, snap.status)
        # a live running run may skip a table repaint to keep keys quick (thread_table.py); a replay, a paused
        # or an ending run shows every snapshot it is given
        self._table.show(snap.threads, cfg.algo, snap.params, cfg.step,
                         force=not self.live or snap.status != "running")
        if self.ticks % 3 == 1:  # the histogram changes slowly: ~5 Hz is plenty
            self._show_hist(snap.staleness_hist, snap.threads)
        label = self._label(cfg)
        self._loss.show([(label, snap.loss_curve)])
        self._versions.push(snap.elapsed_s, snap.versions, cfg.algo, cfg.threads)
        held = held_at(snap)
        if self._timeline is not None:
            self._timeline.show(self.runner.events_now(), cfg.algo, cfg.threads, snap.events_missed,
                                self.runner.events_kept_from_s(), held)
        if self._table.border_subtitle != (sub := table_subtitle(held, cfg.delay)):
            self._table.border_subtitle = sub
        acc = next((a for _, _, a in reversed(snap.loss_curve) if math.isfinite(a)), float("nan"))
        parts = self._status_line(snap.status if not snap.diverged else "diverged", snap.elapsed_s, snap.updates,
                                  rate, snap.updates_per_s, snap.loss, snap.loss_initial, acc, cfg)
        if snap.stretch > 1:
            slow = Text(f"slow motion {snap.stretch}×", style="bold magenta")
            if cfg.threads > CORES:  # the message line says what this does and does not mean (runs/controls.py)
                slow.append(f" · {cfg.threads} threads on {CORES} cores", style="magenta")
            parts.insert(5, slow)
        if self.live:  # measured over the last second (engine/cores.py)
            parts += busy_status(self.runner.cores.recent(time.monotonic()), cfg.threads + self.sharing)
        self._status.show_text(*parts)
        now = f"now {fmt_rate(rate)} · " if rate is not None else ""
        self._rate_box.border_title = f"updates/s  {now}mean {fmt_rate(snap.updates_per_s)}"
        if snap.diverged:
            self._show_failed("diverged")

    def show_result(self, result) -> None:
        """Final view: every number is the RunResult's own (the counters no longer move)."""
        cfg = result.config
        self._table.show(result.threads, cfg.algo, result.params, cfg.step, force=True)
        self._show_hist(result.staleness_hist, result.threads)
        self._loss.show([(self._label(cfg), result.loss_curve)], force=True)
        self._versions.push(result.wall_s, result.versions, cfg.algo, cfg.threads, force=True)
        parts = self._status_line(result.status, result.wall_s, result.updates, None, result.updates_per_s,
                                  result.loss_final, result.loss_initial, result.accuracy_final, cfg,
                                  acc_label="test acc")
        # over the whole run, against the cores of the machine it ran on
        self._status.show_text(*parts, *busy_status(result.core_wait, cfg.threads + self.sharing,
                                                     self.cores_of_run()))
        self._rate_box.border_title = f"updates/s  mean {fmt_rate(result.updates_per_s)}"
        self._table.border_subtitle = table_subtitle({}, cfg.delay)
        if result.diverged or result.collapsed:
            self._show_failed("diverged" if result.diverged else "collapsed", result.collapse_cause)

    def show_events(self, kept, cfg, unkept: str) -> None:
        """The timeline of a finished run shown from its result: its kept events (engine/events.KeptEvents), or
        None when they are not in memory (`unkept` says why)."""
        if self._timeline is not None:
            self._timeline.show_kept(kept, cfg.algo, cfg.threads, unkept)

    def _show_failed(self, how: str, cause: str | None = None) -> None:
        """The banner under the status line: the run diverged or collapsed (and why), and what to try instead."""
        if not self.has_class(f"-{how}"):
            self.add_class(f"-{how}")
            self._banner.update(BANNERS[how].format(cause=cause and COLLAPSE_CAUSES[cause],
                                                    advice=cause and COLLAPSE_ADVICE[cause]))

    def _show_hist(self, hist, threads) -> None:
        tid = min(self.selected_thread, len(threads) - 1) if threads else 0
        mine = threads[tid].staleness_hist if threads else ()
        self._hist.show(hist, mine, tid)

    # worker threads of other runs sharing the cores with this one (Compare's A and B at the same time): waiting
    # for them is the screen's doing, not a busy machine's
    sharing = 0

    def cores_of_run(self) -> int | None:
        """The cores the run had (None: this machine's, engine/cores.py)."""
        return None

    @staticmethod
    def _label(cfg) -> str:
        return f"{cfg.algo} m={cfg.threads}" + (f" Tp={bound_text(cfg.persistence)}" if cfg.algo == "leashed" else "")

    def _status_line(self, status, elapsed, updates, rate, mean_rate, loss, loss0, acc, cfg,
                     acc_label: str = "train acc") -> list[Text]:
        """State, run, time, updates, rate, loss and accuracy, each a part RunStatus keeps whole; compact leaves
        out the run, named above it."""
        parts = [Text(f" {status.upper()} ", style=STATUS_STYLE.get(status, "bold"))]
        if not self.compact:
            parts.append(Text(Dashboard._label(cfg), style="bold"))
        parts += [Text(f"{elapsed:6.2f} s"), Text(f"{fmt_count(updates)} updates", style="green"),
                  # which window the rate is over, as the updates/s panel's title says: a held thread's
                  # "others: N updates/s" line averages over the whole hold and can differ from the last 0.2 s
                  Text(f"now {fmt_rate(rate)}/s" if rate is not None else f"mean {fmt_rate(mean_rate)}/s"),
                  Text.assemble((f"loss {fmt_loss(loss0)} → ", "dim"), (fmt_loss(loss), "bold"))]
        if acc is not None and math.isfinite(acc):
            parts.append(Text(f"{acc_label} {100 * acc:.1f}%"))
        return parts

    # ---- thread selection ---------------------------------------------------------------------------
    @on(ThreadTable.ThreadSelected)
    def _thread_selected(self, event: ThreadTable.ThreadSelected) -> None:
        self.selected_thread = event.tid

    def watch_selected_thread(self) -> None:
        snap = self.result or self.last_snapshot
        if snap is not None:
            self._show_hist(snap.staleness_hist, snap.threads)


class ReplayDashboard(Dashboard):
    """The Dashboard on a ReplaySource (teach_sgd/replay.py). Before each tick it takes into its history every
    recorded sample the replay passed over since the last one, and starts the history over when the replay went
    back: so live versions over time and updates/s hold what the live dashboard had gathered by the replay's
    time, at any speed and after any jump, and every other panel is the snapshot at that time."""

    live = False

    def cores_of_run(self) -> int | None:
        return self.runner.recording.machine.get("cores") if self.runner is not None else None

    def reset(self) -> None:
        super().reset()
        self._seen = -1  # the last sample taken into the history

    def seek(self) -> None:
        """The replay's clock moved (play, step, jump): show its time now, every panel, also after the end was
        shown (the plots and the histogram otherwise redraw at their own slower rates)."""
        self._loss.draw_next()
        self._versions.draw_next()
        if self._finishing:
            self.start(self.runner)  # the final view gives way to the samples again
        else:
            self._tick()
        if self.result is None and self.last_snapshot is not None:
            self._show_hist(self.last_snapshot.staleness_hist, self.last_snapshot.threads)

    def _tick(self) -> None:
        source = self.runner
        if source is not None:
            now = source.sample_index()
            if now < self._seen:
                self._forget_history()
                self._seen = -1
            cfg = source.config
            for sample in source.samples_between(self._seen, now):
                self._rate(sample.time, sample.updates, sample.status)
                self._versions.push(sample.time, sample.versions, cfg.algo, cfg.threads, draw=False)
            self._seen = now
        super()._tick()

    def _snapshot(self, source):
        # The sample the history was caught up to, not the clock read again: under load the clock can move on a
        # sample between the two reads, and the history would then skip the one in between.
        return source.recording.snapshot_of_sample(self._seen) if self._seen >= 0 else source.snapshot()
