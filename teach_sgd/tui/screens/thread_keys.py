"""ThreadKeysScreen: the keys for breakpoints on real threads, declared once for every screen with live runs —
the Playground, Compare, a lesson's live experiment and the presenter view — over a ThreadControls
(runs/controls.py), which does the work; this only binds keys, keeps the thread tables' cursors and the
selection together, and says what happened.

    , .   select the previous / next thread (lane; on Compare A's threads, then B's)
    b     breakpoint: the selected thread stops at its algorithm's next protocol point (each press moves it
          on; after the last point, no breakpoint) · B: the same on every thread of the run
    f     freeze the selected thread where it is, or let it go if it is held · F: every thread of the run
    o     step: the selected thread goes on to its next protocol point and stops there
    u     continue: every held thread goes on (breakpoints stay) · U: clear every breakpoint and freeze

None of them is a key another panel of these screens uses (the thread table's ↑↓ j k, the timeline's p ← →
+ - [ ] { } v, the lessons' n p r c g K 1–9, the run screens' s e x R P > <); the footer shows them only
while a run is live. The thread table, the timeline and the settings fields that cannot hold these keys pass
them on (a number field, a drop-down); a text field types them, and Enter there hands the keys to the
dashboard (run_screen.py).

A subclass provides:
    thread_dashboards()   the Dashboards showing its runs, in order (A, B): their runners are the ones the keys act
                          on, their thread tables' cursors follow the selection and set it
    thread_runners()      or, without dashboards (the presenter), the runners themselves
    say_threads(text)     where a line about the threads goes (default: self.say)
    check_screen_action   its own keys' checks (check_action answers the thread keys here)
"""
from __future__ import annotations

import time

from textual.binding import Binding

from teach_sgd.lessons.races import key_names
from teach_sgd.runs.controls import ThreadControls
from teach_sgd.tui.screens.base import SteadyFooterScreen
from teach_sgd.tui.widgets.thread_table import ThreadTable

LANES = Binding.Group("Thread", compact=True)
HOLDS = Binding.Group("Breakpoints", compact=True)  # b break · f freeze · o step · u go on (help.py)
THREAD_ACTIONS = ("thread", "breakpoint", "freeze", "step_thread", "go_on", "clear_holds")
STATUS_HZ = 4  # the status line's progress figures (the others' measured rate) refresh this often
SAID_S = 3.0   # what a key did stays on the status line this long, before the figures alone
THREAD_KEYS_HINT = "b f o u hold threads (?)"  # where a screen's status line names the thread keys
EXPLAIN_MIN_W = 160  # a terminal this wide has room on the status line for what the progress guarantee means


THREAD_BINDINGS = [
    Binding("comma", "thread(-1)", "Thread", key_display=",", group=LANES),
    Binding("full_stop", "thread(1)", "Thread", key_display=".", group=LANES),
    Binding("b", "breakpoint(False)", "Break", group=HOLDS),
    Binding("f", "freeze(False)", "Freeze", group=HOLDS),
    Binding("o", "step_thread", "Step", group=HOLDS),
    Binding("u", "go_on", "Go on", group=HOLDS),
    Binding("B", "breakpoint(True)", "Break all", show=False),
    Binding("F", "freeze(True)", "Freeze all", show=False),
    Binding("U", "clear_holds", "Clear holds", show=False),
]
KEY = {b.action: b.key_display or b.key for b in THREAD_BINDINGS}
RACE_KEYS = key_names((KEY["thread(-1)"], KEY["thread(1)"]), KEY["breakpoint(False)"], KEY["freeze(False)"],
                      KEY["step_thread"], KEY["go_on"], KEY["clear_holds"])  # what a lesson race's stages name


class ThreadKeysScreen(SteadyFooterScreen):
    """A subclass puts *THREAD_BINDINGS in its BINDINGS after its run keys (pause, stop, slow motion) and before
    the rest, so that a live run's footer shows them on a 120-column screen."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.controls = ThreadControls(self.thread_runners)
        self._said = ("", 0.0)   # what the last key did, and when (time.monotonic)
        self._thread_line: str | None = None  # the last line said about the threads, until taken back

    def thread_runners(self) -> list:
        """The current Runners, in order (None where a dashboard has none yet): the dashboards' by default."""
        return [d.runner for d in self.thread_dashboards()]

    def thread_dashboards(self) -> list:
        return []

    def say_threads(self, text: str) -> None:
        self.say(text, "bold yellow")

    def check_screen_action(self, action: str, parameters) -> bool | None:
        return True

    def check_action(self, action: str, parameters) -> bool | None:
        if action in THREAD_ACTIONS:  # (before on_mount the screen's widgets are not looked up yet: no run either)
            return self._mounted and self.controls.live  # False: not in the footer at all while no run is live
        return self.check_screen_action(action, parameters)

    _mounted = False
    _was_live = False

    def on_mount(self) -> None:
        """(After the subclass's on_mount, which looks up its dashboards.)"""
        self._mounted = True
        self.set_interval(1 / STATUS_HZ, self._threads_tick)

    def _threads_tick(self) -> None:
        """A run went live or ended since the last tick: the footer is asked again (it shows the thread keys only
        while a run is live, and a lesson's run starts in a worker, after the screen last asked), then the status
        line."""
        if self.controls.live != self._was_live:
            self._was_live = self.controls.live
            self.refresh_bindings()
        self._show_threads()

    def _show_threads(self, said: str | None = None) -> None:
        """The status line while a thread is held or a breakpoint is set: what a key did (kept SAID_S seconds)
        and the others' measured rate beside the guarantee, or what the selected thread does."""
        now = time.monotonic()
        if said is not None:
            self._said = (said, now)
        recent = self._said[0] if now - self._said[1] < SAID_S else None
        status = self.controls.status(explain=self.size.width >= EXPLAIN_MIN_W) if self.controls.live else None
        if status is not None or said is not None:
            self._thread_line = " · ".join(x for x in (recent, status) if x)
            self.say_threads(self._thread_line)
        elif recent is None and self._thread_line is not None:  # nothing held or asked any more: the last
            self.quiet_threads(self._thread_line)                # line about threads would go on saying so
            self._thread_line = None

    def quiet_threads(self, last: str) -> None:
        """Nothing is held or asked any more, and `last` was the line said about the threads: take it back where
        it is still shown (a subclass that says the threads somewhere of its own)."""

    def _do(self, act, *args) -> None:
        """A key's action on the controls; what it did (or why a lesson's guard refused it) is said."""
        before = len(self.controls.log), self.controls.last
        act(*args)
        if (len(self.controls.log), self.controls.last) != before:
            self._show_threads(self.controls.last)

    # ---- the keys -----------------------------------------------------------------------------------------
    def action_thread(self, step: int) -> None:
        sel = self.controls.move(step)
        dashes = self.thread_dashboards()
        if sel is not None and sel[0] < len(dashes):
            dashes[sel[0]].query_one(ThreadTable).cursor = sel[1]  # the table's rows are the threads in order
        if sel is not None:
            self._show_threads(self.controls.last)

    def on_thread_table_thread_selected(self, event: ThreadTable.ThreadSelected) -> None:
        """↑↓ or a click in a thread table selects that thread here too."""
        for run, dash in enumerate(self.thread_dashboards()):
            if event.table.parent is dash:
                self.controls.select(run, event.tid)

    def action_breakpoint(self, every: bool) -> None:
        self._do(self.controls.cycle_breakpoint, every)

    def action_freeze(self, every: bool) -> None:
        self._do(self.controls.toggle_freeze, every)

    def action_step_thread(self) -> None:
        self._do(self.controls.step)

    def action_go_on(self) -> None:
        self._do(self.controls.continue_all)

    def action_clear_holds(self) -> None:
        self._do(self.controls.clear)
