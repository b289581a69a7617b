"""The Textual app: `teach-sgd` opens it, `teach-sgd serve` serves it to a browser.

    TeachSGDApp                    modes: home (default) · playground · compare · simulator; help is a modal
      ├ screens/home.py            menu + lessons; posts LessonChosen(id)
      ├ screens/playground.py      ConfigForm + Dashboard (one run)
      ├ screens/compare.py         ConfigForm + two compact Dashboards + overlaid loss + results table
      ├ screens/simulator.py       the teach_sgd.sim step machine: schedulers, manual stepping, undo
      ├ screens/replay.py          a recording on the dashboard, with play/pause, speed, step, jump (pushed)
      └ screens/help.py            every panel and key explained

Kernels: at start the app checks numba's cache; if the kernels may be uncached they are compiled in a
subprocess (the compile holds the GIL, which would freeze this UI) behind a "compiling 1/2 seq mlp: 12 s …
— first run only" status, then loaded in-process from a thread. Start is disabled until then.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from teach_sgd.child import PACKAGE_HOME, module_argv
from teach_sgd.engine import compile_times
from teach_sgd.errors import EXIT_SIGNAL
from teach_sgd.lessons.loader import load_lessons
from teach_sgd.lessons.session import KeptRuns
from teach_sgd.terminal import require_terminal
from teach_sgd.output import default_export_dir
from teach_sgd.tui import warm
from teach_sgd.tui.messages import KernelsReady, LessonChosen
from teach_sgd.tui.screens.compare import CompareScreen
from teach_sgd.tui.screens.help import HelpScreen
from teach_sgd.tui.screens.home import HomeScreen
from teach_sgd.tui.screens.lesson import LessonScreen
from teach_sgd.tui.screens.playground import PlaygroundScreen
from teach_sgd.tui.screens.replay import ReplayScreen
from teach_sgd.tui.screens.simulator import SimulatorScreen
from teach_sgd.tui.widgets.too_small import MIN_HEIGHT, MIN_WIDTH

LessonRow = tuple[str, str, "int | None"]
# After a stop signal the app quits as `q` does (its runs stopped, at most 1 s for their threads); a process still
# here this long after the signal is stuck, and ends itself (ExitWatchdog).
SIGNAL_EXIT_S = 3.0
RUNS_LIVE_POLL_S = 0.5  # how often a kernel waiting for the runs to end looks again (prepare_kernels)


class ExitWatchdog:
    """Ends the process SIGNAL_EXIT_S after a stop signal if the app's own quit has not. Seen: `tmux kill-session`
    during a run left the app alive for 44 minutes, its main thread blocked in Textual's shutdown, handing the
    last frame to an output thread that would never take it (the terminal was gone). Nothing is lost by ending
    then: every file the app writes is written whole or not at all (teach_sgd/output.py), and a run's numbers
    are only ever exported by a key. The thread waits on a pipe, because a signal handler may only do what is
    safe between any two bytecodes: os.write is."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        self.status = 0
        threading.Thread(target=self._wait, name="teach-sgd-exit-watchdog", daemon=True).start()

    def arm(self, signum: int) -> None:
        """From the signal handler: exit with this signal's status if still running SIGNAL_EXIT_S from now."""
        self.status = EXIT_SIGNAL.get(signum, 1)
        os.write(self._write, b"!")

    def _wait(self) -> None:
        os.read(self._read, 1)
        time.sleep(SIGNAL_EXIT_S)
        os._exit(self.status)


def discover_lessons(lessons_dir: str | None = None) -> list[LessonRow]:
    """(id, title, minutes) for every lesson that loads; a broken lesson file is the loader's business (it is
    listed by `teach-sgd lessons`, with its line)."""
    lessons, _errors = load_lessons(lessons_dir)
    return [(l.id, l.title, l.minutes) for l in lessons]


class TeachSGDApp(App):
    """Watch real threads race through asynchronous SGD."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: a subclass elsewhere (check --show) finds it too
    # Home is a named mode: Textual 8 cannot switch_mode back to its unnamed "_default" mode
    DEFAULT_MODE = "home"
    TITLE = "teach-sgd"
    SUB_TITLE = "asynchronous SGD, live"
    BINDINGS = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("q", "quit", "Quit"),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
    ]

    kernel_state: reactive[str] = reactive("checking")
    kernel_detail: reactive[str] = reactive("")

    def __init__(self, lessons_dir: str | None = None, lesson_id: str | None = None,
                 lessons: list[LessonRow] | None = None, export_dir=None, warm_kernels: bool = True,
                 replay=None, reference_dir=None, opening=None, lesson_budget=None) -> None:
        super().__init__()
        self.opening = opening  # a callable → the Screen to open on (`class host --ui`, `--class`, `present`)
        self.kernel_clock: tuple[float, float | None] = (time.monotonic(), None)  # compiling since, last time
        self.lessons_dir = lessons_dir
        self.lesson_id = lesson_id
        self.replay = replay  # a Recording to open on (`teach-sgd replay FILE`)
        self.reference_dir = reference_dir  # where lessons look for reference recordings (None: the shipped ones)
        self.lessons = discover_lessons(lessons_dir) if lessons is None else list(lessons)
        self.lesson_budget = lesson_budget  # a lessons Budget that shrinks every lesson run (quick previews, tests)
        self.kept_runs = KeptRuns()  # the events of the lesson runs made since the app started (the timeline)
        self.export_dir = export_dir or default_export_dir()
        self.warm_kernels = warm_kernels
        self._runners: list = []
        self._runs_wanted = 0  # runs_wanted() blocks entered and not yet left
        self._join_deadline: float | None = None  # join_all_runs(): when the quit stops waiting for the runs
        self._warm_proc = None
        self._kernel_lock = asyncio.Lock()
        self._signal_loop: asyncio.AbstractEventLoop | None = None
        self._signal_pending = False
        if warm.kernels_loaded():
            self.set_reactive(TeachSGDApp.kernel_state, "ready")
        self.add_mode("home", lambda: HomeScreen(self.lessons))
        self.add_mode("playground", PlaygroundScreen)
        self.add_mode("compare", CompareScreen)
        self.add_mode("simulator", SimulatorScreen)

    def get_default_screen(self) -> Screen:
        return HomeScreen(self.lessons)

    def on_mount(self) -> None:
        self._signal_loop = asyncio.get_running_loop()
        if self._signal_pending:
            self.call_later(self.action_quit)
        self._check_size()
        if self.kernel_state != "ready" and self.warm_kernels:
            self.call_after_refresh(self.prepare_kernels)
        if self.lesson_id:
            self.post_message(LessonChosen(self.lesson_id))
        if self.replay is not None:
            self.open_replay(self.replay)
        if self.opening is not None:
            self.push_screen(self.opening())

    # ---- kernels --------------------------------------------------------------------------------------
    @work(exclusive=True, group="kernels")
    async def prepare_kernels(self) -> None:
        """The MLP's kernels, one at a time, Leashed-SGD's (every screen's default) first: a run waits only for
        its own kernel, never for the whole set (each ensure_kernels call holds the lock for one kernel).

        A kernel still to compile waits while a run is live (the one compiling goes on): a compile takes a core at
        normal priority from the run's workers, which yield to everything (engine/runner.py), and a lesson
        compares runs made one after another. Measured on 2 cores: Leashed-SGD with 2 threads made 46,699
        updates in 4 s beside a compile against 58,464–65,500 without, its threads waiting half their ready time."""
        for i, kernel in enumerate(warm.AT_START, 1):
            while self.runs_live() and not await asyncio.to_thread(warm.kernels_cached, [kernel]):
                left = len(warm.AT_START) - i + 1
                self.kernel_detail = f"{left} more kernel{'s' if left > 1 else ''} compile when no run is going"
                self.kernel_state = "waiting"
                await asyncio.sleep(RUNS_LIVE_POLL_S)
            if self.kernel_state == "waiting":
                self.kernel_state, self.kernel_detail = "checking", ""
            if not await self.ensure_kernels([kernel], f"{i}/{len(warm.AT_START)}"):
                return
        self._kernels_ready()

    def runs_live(self) -> bool:
        """Whether a run a screen started is still going (or paused, or held), or one is wanted (runs_wanted)."""
        return self._runs_wanted > 0 or any(r.started and not r.done for r in self._runners)

    @contextlib.contextmanager
    def runs_wanted(self):
        """While a screen builds its runs, or goes through a lesson experiment's runs one after another: counted
        as live by runs_live, so that no compile starts in the gaps between them."""
        self._runs_wanted += 1
        try:
            yield
        finally:
            self._runs_wanted -= 1

    async def ensure_kernels(self, kernels, step: str = "") -> bool:
        """Make these (algo, model) kernels runnable without freezing the UI: compile any that the cache lacks in
        a subprocess (the status line shows its progress), then load them here. False if compiling failed."""
        kernels = sorted(set(kernels))
        async with self._kernel_lock:
            if warm.kernels_loaded(kernels):
                return True
            before = self.kernel_state
            if not await asyncio.to_thread(warm.kernels_cached, kernels):
                self._compiling(kernels, 0, step)
                self.kernel_state = "compiling"
                self._warm_proc = await asyncio.create_subprocess_exec(
                    *module_argv("teach_sgd.tui.warm", *(f"{a}:{m}" for a, m in kernels)), cwd=PACKAGE_HOME,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
                assert self._warm_proc.stdout is not None
                done = 0
                while (await self._warm_proc.stdout.readline()).decode().strip():
                    done += 1  # the subprocess prints one line per kernel, in order
                    if done < len(kernels):
                        self._compiling(kernels, done, step)
                rc = await self._warm_proc.wait()
                err = (await self._warm_proc.stderr.read()).decode().strip().splitlines() if rc else []
                self._warm_proc = None
                if rc != 0:
                    self.kernel_state = "failed"
                    self.kernel_detail = err[-1] if err else f"exit status {rc}"
                    return False
            self.kernel_state = "loading"
            self.kernel_detail = ""
            try:
                await asyncio.to_thread(warm.warm_in_process, kernels)
            except Exception as e:  # pragma: no cover - shown on screen
                self.kernel_state = "failed"
                self.kernel_detail = str(e)
                return False
            self.kernel_state = "ready" if before in ("ready", "loading") else before
            return True

    def _compiling(self, kernels, i: int, step: str) -> None:
        """Kernel i of `kernels` is compiling now: what the status line names, and its clock. The status counts
        the seconds against this kernel's last compile on this machine, if one was measured — never a promise."""
        algo, model = kernels[i]
        of = f"{i + 1}/{len(kernels)} " if len(kernels) > 1 else ""
        self.kernel_clock = (time.monotonic(), compile_times.expected_s(algo, model))
        self.kernel_detail = f"— {f'{step} ' if step else of}{algo} {model}"

    def _kernels_ready(self) -> None:
        self.kernel_state = "ready"
        self.kernel_detail = ""
        self.post_message(KernelsReady())

    # ---- navigation -----------------------------------------------------------------------------------
    def action_open(self, name: str) -> None:
        mode = self.DEFAULT_MODE if name == "home" else name
        while len(self.screen_stack) > 1 and isinstance(self.screen, HelpScreen):
            self.pop_screen()
        self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def on_lesson_chosen(self, message: LessonChosen) -> None:
        self.open_lesson(message.lesson_id)

    def open_lesson(self, lesson_id: str) -> None:
        """The lesson screen, over home (one lesson at a time)."""
        self.switch_mode(self.DEFAULT_MODE)
        while len(self.screen_stack) > 1 and isinstance(self.screen, (LessonScreen, HelpScreen)):
            self.pop_screen()  # one lesson at a time (the palette can open a lesson from a lesson)
        self.push_screen(LessonScreen(lesson_id, lessons_dir=self.lessons_dir, budget=self.lesson_budget))

    def open_replay(self, recording) -> None:
        """The replay screen on a Recording, over the current screen (h/Esc goes back to it)."""
        self.push_screen(ReplayScreen(recording))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Home", "The menu: lessons, Playground, Compare", lambda: self.action_open("home"))
        yield SystemCommand("Playground", "One run, your settings, watched live", lambda: self.action_open("playground"))
        yield SystemCommand("Compare", "Two runs side by side on the same seed", lambda: self.action_open("compare"))
        yield SystemCommand("Simulator", "Step virtual threads one instruction at a time; be the scheduler",
                            lambda: self.action_open("simulator"))
        yield SystemCommand("Help", "What every panel shows and every key does", self.action_help)
        for lid, title, _ in self.lessons:
            yield SystemCommand(f"Lesson: {title}", f"Open lesson {lid}",
                                lambda lid=lid: self.post_message(LessonChosen(lid)))
        yield from super().get_system_commands(screen)

    # ---- terminal size --------------------------------------------------------------------------------
    def on_resize(self, event) -> None:
        self._check_size(event.size)

    def _check_size(self, size=None) -> None:
        w, h = size or self.size
        self.set_class(w < MIN_WIDTH or h < MIN_HEIGHT, "-too-small")

    # ---- runs and quitting ----------------------------------------------------------------------------
    def register_runner(self, runner) -> None:
        """Every Runner a screen starts: quitting stops them all."""
        self._runners = [r for r in self._runners if not r.done]
        self._runners.append(runner)

    def stop_all_runs(self) -> None:
        for r in self._runners:
            try:
                r.resume()
                r.stop()
            except Exception:
                pass
        if self._warm_proc is not None and self._warm_proc.returncode is None:
            self._warm_proc.kill()

    def join_all_runs(self, timeout: float = 1.0) -> bool:
        """Wait for every run's threads, at most `timeout` s counted from the first call: a quit calls this from the
        quit action and again in launch() once the app has ended, and a second full wait for workers that a busy
        machine starves of a core would double the time the app takes to exit."""
        if self._join_deadline is None:
            self._join_deadline = time.perf_counter() + timeout
        deadline = self._join_deadline
        ok = True
        for r in self._runners:
            ok &= r.join(max(0.0, deadline - time.perf_counter()))
        return ok

    def quit_on_signal(self, signum: int) -> None:
        """Called inside a signal handler: hands the quit to the event loop through asyncio's thread- and
        signal-safe wake-up (what asyncio's own signal handling does), and touches nothing else."""
        if self._signal_loop is None:
            self._signal_pending = True  # before the loop runs: on_mount quits
        else:
            self._signal_loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.action_quit()))

    async def action_quit(self) -> None:
        self.stop_all_runs()
        await asyncio.to_thread(self.join_all_runs, 1.0)
        self.exit()


def launch(lessons_dir: str | None = None, lesson_id: str | None = None, replay=None, opening=None,
           signals=None) -> int:
    """`teach-sgd`, `teach-sgd lesson ID` and `teach-sgd replay FILE` (replay: the loaded Recording): run the app
    in this terminal; returns the exit status. `lesson_id` is a lesson's id (teach_sgd.lessons.loader.resolve).
    `opening`: a callable that makes the screen to open on (`class host --ui`, `--class`, `present`).
    With `signals` (teach_sgd/signals.py), SIGTERM and SIGHUP (a closed terminal) quit the app as `q` does, its
    runs stopped, and the status says which signal; in the terminal Ctrl-C is a key, not a signal.
    No terminal (a pipe, a cron job): one line, exit status 2, nothing painted (teach_sgd/terminal.py)."""
    require_terminal()
    app = TeachSGDApp(lessons_dir=lessons_dir, lesson_id=lesson_id, replay=replay, opening=opening)
    if signals is not None:
        watchdog = ExitWatchdog()

        def on_signal(signum: int) -> None:  # in the signal handler: two signal-safe steps
            watchdog.arm(signum)
            app.quit_on_signal(signum)

        signals.measuring(on_stop=on_signal)
    try:
        app.run()
    finally:
        app.stop_all_runs()
        app.join_all_runs(1.0)
    return app.return_code or (signals.exit_status if signals is not None else None) or 0

