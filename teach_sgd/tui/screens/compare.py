"""CompareScreen: two configurations on the same seed and data, side by side and live, then a results table.

The results table has one column per run: the run's own rows (status, throughput, loss, accuracy), then every
per-algorithm column of either run (`columns.ALGO_COLUMNS`, totals over the run's threads), then memory and
failure. So the contrast the tool exists to show is on screen at the end: "HOGWILD! lost 1,234 of 98,000
observed writes; Leashed-SGD lost 0".
"""
from __future__ import annotations

import asyncio
import math

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Select, Static

from teach_sgd.columns import columns_of, lost_updates_story
from teach_sgd.engine.config import ALGO_NAMES, RunConfig
from teach_sgd.settings import bound_text
from teach_sgd.tui.runs import build_runners
from teach_sgd.tui.screens.run_screen import RunScreen
from teach_sgd.tui.widgets.config_form import ConfigForm
from teach_sgd.tui.widgets.dashboard import Dashboard
from teach_sgd.format import fmt_count, fmt_loss, fmt_rate
from teach_sgd.tui.widgets.kernel_status import KernelStatus
from teach_sgd.tui.widgets.plots import LossPlot
from teach_sgd.tui.widgets.too_small import TooSmall
from teach_sgd.tui.widgets.whole_table import WholeTable

DEFAULT = RunConfig(algo="hogwild", seconds=10.0)  # run A; run B is ALGO_B on the same settings
ALGO_B = "leashed"

def _acc(r) -> str:
    acc = r.accuracy_final
    return f"{100 * acc:.1f}" if acc is not None and math.isfinite(acc) else "—"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


# (row label, value of one RunResult as shown): the rows before and after the per-algorithm columns
RUN_ROWS = (
    ("status", lambda r: r.status),
    ("updates/s", lambda r: fmt_rate(r.updates_per_s)),
    ("wall s", lambda r: f"{r.wall_s:.2f}"),
    ("loss initial", lambda r: fmt_loss(r.loss_initial)),
    ("loss final", lambda r: fmt_loss(r.loss_final)),
    ("accuracy %", _acc),
)
END_ROWS = (
    ("peak versions", lambda r: f"{fmt_count(r.versions.peak)} (bound {fmt_count(r.versions.bound)})"),
    ("diverged", lambda r: _yes(r.diverged)),
    ("collapsed", lambda r: _yes(r.collapsed)),
)




class CompareScreen(RunScreen):
    AUTO_FOCUS = "#algo"                # settings first: run A's algorithm, then Tab through the rest
    KEYS_AT = "#dash-a #thread-table"   # where a start hands the keys (space, x, >, the thread keys)

    def __init__(self, config: RunConfig | None = None, **kwargs) -> None:
        super().__init__(config or DEFAULT, **kwargs)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ConfigForm(self.initial, algo_b=ALGO_B, id="form")
        with Horizontal(id="schedule-row"):
            yield KernelStatus()
            yield Select([("side by side (simultaneous)", "together"), ("one after the other", "sequential")],
                         value="together", allow_blank=False, id="schedule", compact=True)
        yield Static("", id="message")
        with Horizontal(id="pair"):
            with Vertical(classes="side"):
                yield Static("A", id="title-a", classes="side-title")
                yield Dashboard(compact=True, id="dash-a")
            with Vertical(classes="side"):
                yield Static("B", id="title-b", classes="side-title")
                yield Dashboard(compact=True, id="dash-b")
        with Horizontal(id="bottom"):
            yield LossPlot(id="compare-loss")
            yield WholeTable(id="results", cursor_type="none", zebra_stripes=True)
        yield Footer()
        yield TooSmall()

    def on_mount(self) -> None:
        self.form = self.query_one(ConfigForm)
        self.dashes = [self.query_one("#dash-a", Dashboard), self.query_one("#dash-b", Dashboard)]
        self.titles = [self.query_one("#title-a", Static), self.query_one("#title-b", Static)]
        self.loss = self.query_one(LossPlot)
        self.table = self.query_one("#results", WholeTable)
        self.table.border_title = "results"
        self.message = self.query_one("#message", Static)
        self.schedule = self.query_one("#schedule", Select)
        self.watch(self.app, "kernel_state", lambda _: self.refresh_bindings(), init=False)
        self._plot_timer = self.set_interval(0.25, self._plot, pause=True)

    @property
    def active(self) -> bool:
        return self.session.active or self._starting

    @staticmethod
    def label(cfg: RunConfig) -> str:
        tp = f" Tp={bound_text(cfg.persistence)}" if cfg.algo == "leashed" else ""
        return f"{ALGO_NAMES[cfg.algo]} m={cfg.threads}{tp}"

    def thread_dashboards(self) -> list:
        return self.dashes

    # ---- runs -----------------------------------------------------------------------------------------
    def _configs(self) -> list[RunConfig]:
        return [self.form.config(), self.form.config_b()]

    def _launch(self, configs: list[RunConfig]) -> None:
        self._run_pair(configs, self.schedule.value)

    @work(exclusive=True, group="compare")
    async def _run_pair(self, configs: list[RunConfig], schedule: str) -> None:
        with self.starting():
            await asyncio.gather(*(asyncio.to_thread(r.join, 2.0) for r in self.session.replace()))
            self.table.clear(columns=True)
            self.loss.clear_plot()
            for dash, title, cfg, tag in zip(self.dashes, self.titles, configs, "AB"):
                dash.reset()
                title.update(f"[b]{tag}[/b]: {self.label(cfg)}  (seed {cfg.seed})")
            self.say("preparing both runs (same seed, same data)…", "dim")
            runners = await build_runners(self.app, *configs, say=self.say)
            if runners is None:
                return
            self._plot_timer.resume()
            if schedule == "sequential":
                self.say("running A, then B (one after the other: each gets the whole machine)", "dim")
            else:
                self.say("running A and B at the same time (they share the cores equally)", "dim")
            for dash, cfg in zip(self.dashes, configs):  # A and B at once: each waits for the other's threads
                dash.sharing = 0 if schedule == "sequential" else sum(c.threads for c in configs) - cfg.threads
            for dash, r in zip(self.dashes, self.session.begin(runners, sequential=schedule == "sequential")):
                dash.start(r)

    def on_dashboard_run_finished(self, event: Dashboard.RunFinished) -> None:
        event.stop()
        after = self.session.ended(event.runner, event.result)
        if after is not None:  # sequential schedule: B's turn
            self.dashes[self.session.runners.index(after)].start(after)
        if self.session.has_results:
            self._finished()
        self.refresh_bindings()

    def on_dashboard_run_diverged(self, event: Dashboard.RunDiverged) -> None:
        event.stop()

    def _finished(self) -> None:
        self._plot_timer.pause()
        self._plot(force=True)
        self._show_results()
        a, b = results = self.session.results
        summary = []
        if a.updates_per_s > 0 and b.updates_per_s > 0:
            summary.append(f"B/A throughput {b.updates_per_s / a.updates_per_s:.2f}×")
        summary.append(lost_updates_story(results)
                       or f"final loss A {fmt_loss(a.loss_final)} vs B {fmt_loss(b.loss_final)}")
        self.say("done — " + " · ".join(summary), "cyan")  # the footer shows e (export) and s (again)

    def on_resize(self) -> None:
        if self.session.has_results:  # fitted to the table's width: fit it again once the new layout is done
            self.call_after_refresh(self._show_results)

    def _show_results(self) -> None:
        results = self.session.results
        rows = [(label, [value(r) for r in results], label) for label, value in RUN_ROWS]
        rows += [(col.name, [col.cell(r.config.algo, r.threads, r.params) for r in results], col.key)
                 for col in columns_of(*(r.config for r in results))]
        rows += [(label, [value(r) for r in results], label) for label, value in END_ROWS]
        heads = [f"{tag}: {self.label(r.config)}" for tag, r in zip("AB", results)]
        labels, heads = fit_table([label for label, _, _ in rows], heads, [cells for _, cells, _ in rows],
                                  self.table.size.width)
        self.table.clear(columns=True)
        self.table.add_column("", key="metric")
        for tag, head in zip("AB", heads):
            self.table.add_column(head, key=tag)
        for shown, (_, cells, key) in zip(labels, rows):
            self.table.add_row(shown, *cells, key=key)

    def _plot(self, force: bool = False) -> None:
        series = []
        for tag, dash in zip("AB", self.dashes):
            src = dash.result or dash.last_snapshot
            if src is not None:
                series.append((f"{tag} {src.config.algo}", src.loss_curve))
        self.loss.show(series, force=force)

    def action_pause(self) -> None:
        paused = self.session.toggle_pause()
        if paused is None:
            return
        for d in self.dashes:
            d.show_now()
        self.say("paused — space resumes" if paused else "resumed", "yellow" if paused else "dim")

    def action_stop(self) -> None:
        for r in self.session.stop():  # sequential, B still waiting: it ends at once, 0 updates
            self.dashes[self.session.runners.index(r)].start(r)
        self.say("stopping…", "dim")

    def action_export(self) -> None:
        if not self.session.has_results:
            self.say("export works once both runs have ended", "yellow")
            return
        self.export()


MIN_LABEL = 16   # a metric name elided below this says too little: the runs' columns are headed A and B instead


def fit_table(labels: list[str], heads: list[str], rows: list[list], width: int) -> tuple[list[str], list[str]]:
    """The results table fitted to `width`: every value column whole (numbers are never cut), headed by the run's
    full name while the metric names keep MIN_LABEL cells, else by its letter (the dashboards above say which run
    is which); the metric names elided with … to what is left."""
    cell_w = [max(len(str(row[i])) for row in rows) for i in range(len(heads))]

    def room(heads) -> int:   # the metric column's cells: the table's width less the value columns and padding
        return width - sum(max(w, len(h)) + 2 for w, h in zip(cell_w, heads)) - 3

    if not width:
        return labels, heads
    if room(heads) < min(MIN_LABEL, max(map(len, labels))):
        heads = [h.split(":")[0] for h in heads]
    r = room(heads)
    return [label if len(label) <= r else label[:max(1, r - 1)] + "…" for label in labels], heads
