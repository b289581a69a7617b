"""Stop signals: Ctrl-C (SIGINT), SIGTERM and SIGHUP all stop a run the same way, and none loses a result.

    with StopSignals() as signals:
        try:
            ...train...              # a signal raises errors.Stopped here, in the main thread
        except Stopped as s:
            signals.shield()         # from now on signals are only remembered…
            ...stop the threads, write the results…   # …so a second Ctrl-C cannot cut a file in half
        return signals.exit_status or 0               # 130, 143 or 129 after a signal

Python runs signal handlers in the main thread between bytecodes; the worker threads sit inside nogil
kernels and are stopped through the control array, never by the signal itself.
"""
from __future__ import annotations

import signal
import sys

from teach_sgd.errors import EXIT_SIGNAL, Stopped

SIGNALS = tuple(EXIT_SIGNAL)


class StopSignals:
    def __init__(self) -> None:
        self.first: int | None = None
        self._shielded = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopSignals":
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        # After a stop the process is on its way out with the stop's status: a late Ctrl-C must not turn that
        # into death by signal, so further signals are ignored rather than handed back to the defaults.
        for sig, handler in self._previous.items():
            signal.signal(sig, signal.SIG_IGN if self.first is not None else handler)

    def _handle(self, signum, frame) -> None:
        if self.first is None:
            self.first = signum
            if not self._shielded:
                raise Stopped(signum)
        print(f"teach-sgd: {signal.Signals(signum).name} noted; finishing writing the results first",
              file=sys.stderr, flush=True)

    def shield(self) -> None:
        """From here on a signal is remembered (for the exit status), never raised."""
        self._shielded = True

    @property
    def exit_status(self) -> int | None:
        return EXIT_SIGNAL[self.first] if self.first is not None else None
