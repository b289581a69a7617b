"""Every error a user can cause, and the exit statuses the CLI answers them with.

All layers (engine, data, simulator, lessons, CLI, UI) raise these, and import nothing else to do so: the
CLI catches `UsageError` once and prints its message as one line. A message is one sentence that says what
to do.

Exit statuses (documented in `teach-sgd --help` and the README):
    0    the run finished (or was stopped at its target)
    1    `teach-sgd check` found a property broken (the counterexample is printed)
    2    bad input: an option, a lesson file, a data folder, an output path
    129  stopped by SIGHUP (the terminal closed): results written
    130  stopped by Ctrl-C (SIGINT): results written
    141  the output pipe was closed (`teach-sgd … | head`)
    143  stopped by SIGTERM: results written
"""
from __future__ import annotations

import signal

EXIT_VIOLATION = 1  # as diff and grep answer "found"
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE
# 128 + the signal's number, for the stop signals this platform has (Windows has no SIGHUP: teach_sgd/signals.py)
EXIT_SIGNAL = {getattr(signal, name): 128 + number for name, number in (("SIGHUP", 1), ("SIGINT", 2), ("SIGTERM", 15))
               if hasattr(signal, name)}


class UsageError(Exception):
    """Bad input from the user: printed as one line on stderr, exit status 2."""


class ConfigError(UsageError, ValueError):
    """A setting that cannot run. `key` names the setting (the lesson loader points at its line)."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


class DataError(UsageError):
    """A dataset that cannot be read, or does not fit the model."""


class OutputError(UsageError):
    """An output path that cannot be written."""


class Stopped(KeyboardInterrupt):
    """A stop signal (SIGINT, SIGTERM, SIGHUP) arrived: stop the threads, keep what was measured."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return EXIT_SIGNAL[self.signum]


def shorten(text: object, limit: int = 60) -> str:
    """A user's value as an error message quotes it: repr'd, and cut to `limit` characters."""
    r = repr(text)
    return r if len(r) <= limit else r[:limit - 1] + "…"
