"""RunResultsTable: the runs of one lesson experiment, one row each — pending, running, then the measured numbers.

    table.show_plan(plan, results)     # plan: [(name, RunConfig)]; results: {name: RunResult} (may be partial)
    table.set_running(name)
    table.set_result(name, result)

The Dashboard shows one run at a time; this table keeps every run of the experiment side by side, so the
learner can compare them (and read the numbers the verdict quotes).
"""
from __future__ import annotations

import math

from rich.text import Text

from teach_sgd.format import fmt_count, fmt_loss
from teach_sgd.tui.widgets.whole_table import WholeTable

COLUMNS = (("run", "run"), ("state", ""), ("algo", "algo"), ("m", "m"), ("lr", "η"), ("updates", "updates"),
           ("time", "time s"), ("loss", "loss"), ("acc", "test acc"))
SETTINGS = {"algo": lambda cfg: cfg.algo, "m": lambda cfg: str(cfg.threads), "lr": lambda cfg: f"{cfg.lr:g}"}
TITLE = {"algo": "{}", "m": "m={}", "lr": "η {}"}


class RunResultsTable(WholeTable):
    """A setting every run of the plan shares (the algorithm, m, η) moves from its column to the border title,
    so the table fits a lesson pane at 120 columns without scrolling; the state sits next to the run's name."""

    DEFAULT_CSS = """
    RunResultsTable { height: auto; max-height: 12; }
    """

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True

    def show_plan(self, plan, results: dict | None = None) -> None:
        varying = {k for k, of in SETTINGS.items() if len({of(cfg) for _, cfg in plan}) > 1}
        shared = [TITLE[k].format(of(plan[0][1])) for k, of in SETTINGS.items() if plan and k not in varying]
        self.border_title = " · ".join(["runs", *shared])
        self.clear(columns=True)
        for key, label in COLUMNS:
            if key not in SETTINGS or key in varying:
                self.add_column(label, key=key)
        for name, cfg in plan:
            settings = [of(cfg) for k, of in SETTINGS.items() if k in varying]
            self.add_row(name, Text("waiting", style="dim"), *settings, "", "", "", "", key=name)
            if results and name in results:
                self.set_result(name, results[name])

    def _has(self, name: str) -> bool:
        return name in self.rows

    def set_running(self, name: str) -> None:
        if self._has(name):
            self.update_cell(name, "state", Text("running…", style="bold green"), update_width=True)
            self.move_cursor(row=self.get_row_index(name))

    def set_result(self, name: str, r) -> None:
        if not self._has(name):
            return
        acc = r.accuracy_final
        state = {"finished": ("done", "cyan"), "stopped": ("stopped", "yellow"),
                 "diverged": ("DIVERGED", "bold red"), "collapsed": ("COLLAPSED", "bold red"),
                 }.get("diverged" if r.diverged else r.status, (r.status, ""))
        # update_width: a column is as wide as its header until a value widens it — "0.03987" in a "loss"
        # column would otherwise show as "0.03"
        for column, value in (("updates", fmt_count(r.updates)), ("time", f"{r.wall_s:.2f}"),
                              ("loss", fmt_loss(r.loss_final)),
                              ("acc", f"{100 * acc:.1f}%" if acc is not None and math.isfinite(acc) else "—"),
                              ("state", Text(state[0], style=state[1]))):
            self.update_cell(name, column, value, update_width=True)

    def clear_state(self, names) -> None:
        for name in names:
            if self._has(name):
                self.update_cell(name, "state", Text("waiting", style="dim"), update_width=True)
