"""Stop signals: Ctrl-C (SIGINT), SIGTERM and SIGHUP all stop a command the same way, at any moment, within a
second, and none loses a result.

    with StopSignals() as signals:          # first thing in main(), before the heavy imports
        ...import, parse, load data, compile...   # a signal here ends the process at once: nothing to keep
        signals.measuring(on_stop=runner.signal_stop)
        runner.start()
        while not runner.join(0.2):
            signals.check()                 # raises errors.Stopped here, in the main loop, after a signal
        signals.shield()                    # writing results: a second signal is noted, a third exits at once
        return signals.exit_status or 0     # 130, 143 or 129 after a signal

Why the handler never raises: Python runs a handler in the main thread between any two bytecodes, including
those of a finalizer (`__del__` of a numba or cffi object) or of a compile. An exception raised there is
printed as "Exception ignored in …" and lost, and the stop with it. So the handler only records the signal
(and, while measuring, sets the kernels' lock-free stop word through `on_stop`); the main loop, which polls
`check()` at least every 0.2 s, raises. Before anything is measured there is nothing to keep, and the main
thread may sit for seconds inside one C call (an LLVM pass): the handler then ends the process itself with
os._exit, which runs no finalizer and leaves no half-torn interpreter behind (an interrupted compile once
ended in SIGSEGV). Files are written atomically (teach_sgd/output.py), so even that exit, or the third
signal's, leaves every output either as it was or whole.

Everything the handler prints goes through os.write: `print` in a handler can land inside the main thread's
own write to the same stream and fail as a reentrant call.

Platforms: SIGHUP does not exist on Windows (errors.EXIT_SIGNAL lists only the signals the platform has); a
closed console window there ends the process without a signal handler running.
"""
from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

from teach_sgd.errors import EXIT_SIGNAL, Stopped

SIGNALS = tuple(EXIT_SIGNAL)
SETUP, MEASURING, SHIELDED = "setup", "measuring", "shielded"

def _say(text: str) -> None:
    try:
        os.write(2, (text + "\n").encode("ascii", "replace"))
    except OSError:
        pass  # stderr closed: the exit status still tells


class StopSignals:
    def __init__(self) -> None:
        self.first: int | None = None
        self.count = 0
        self.mode = SETUP
        self.setup_note = "before anything was measured or written"  # a command may say more precisely
        self._on_stop: Callable[[int], None] | None = None
        self._raised = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignals:
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        # After a stop the process is on its way out with the stop's status: a late Ctrl-C must not turn that
        # into death by signal, so further signals are ignored rather than handed back to the defaults.
        for sig, handler in self._previous.items():
            signal.signal(sig, signal.SIG_IGN if self.first is not None else handler)

    # ---- the handler: runs between two bytecodes of whatever the main thread does -----------------------
    def _handle(self, signum, frame) -> None:
        self.count += 1
        if self.first is None:
            self.first = signum
        name = signal.Signals(signum).name
        if self.mode == SETUP:
            _say(f"teach-sgd: stopped by {name}" + (f" {self.setup_note}" if self.setup_note else ""))
            os._exit(EXIT_SIGNAL[self.first])
        if self.count >= 3:
            _say(f"teach-sgd: {name} a third time: exiting now; files already written are whole, the rest "
                 "were not written")
            os._exit(EXIT_SIGNAL[self.first])
        if self.count == 1 and self._on_stop is not None:
            self._on_stop(signum)
        if self.count >= 2 or self.mode == SHIELDED:
            _say(f"teach-sgd: {name} noted; finishing writing the results first (a third signal exits at once)")

    # ---- the main thread's side -------------------------------------------------------------------------
    def measuring(self, on_stop: Callable[[int], None] | None = None) -> None:
        """From here on a signal is recorded and raised by `check()`; `on_stop(signum)`, if given, is called
        from the handler itself, so it may only do what is safe there: set a flag, write a word, no locks."""
        self._on_stop = on_stop
        self.mode = MEASURING
        if self.first is not None and on_stop is not None:
            on_stop(self.first)

    def check(self) -> None:
        """Raise errors.Stopped once, in the caller, if a signal has arrived while measuring."""
        if self.first is not None and self.mode == MEASURING and not self._raised:
            self._raised = True
            raise Stopped(self.first)

    def shield(self) -> None:
        """From here on a signal is remembered (for the exit status), never raised; the third exits at once."""
        self.mode = SHIELDED

    def wait_for(self, work: Callable[[], object]) -> object:
        """Run `work` in a helper thread while the main thread waits where a signal can reach it. A compile spends
        seconds inside single C calls (LLVM), during which the main thread could not run a handler; waiting here,
        it runs one at once. Returns work's result, or raises its exception."""
        box: dict[str, object] = {}

        def target() -> None:
            try:
                box["result"] = work()
            except BaseException as e:  # handed to the main thread below
                box["error"] = e

        helper = threading.Thread(target=target, name="teach-sgd-work", daemon=True)
        helper.start()
        while helper.is_alive():
            helper.join(0.1)
            self.check()
        if "error" in box:
            raise box["error"]
        return box.get("result")

    @property
    def exit_status(self) -> int | None:
        return EXIT_SIGNAL[self.first] if self.first is not None else None


class NoStops:
    """StopSignals' main-thread side for code that a command may run under its stop signals but that also runs
    elsewhere (the app's lessons, tests, benchmarks): no signal is watched, so nothing is ever raised."""

    def wait_for(self, work: Callable[[], object]) -> object:
        return work()

    def measuring(self, on_stop: Callable[[int], None] | None = None) -> None:
        pass

    def check(self) -> None:
        pass


NO_STOPS = NoStops()
