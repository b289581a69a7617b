"""Lesson text that speaks about the machine it runs on.

A lesson file may write `{cores}` anywhere — narrative, titles, notes, questions, choices, explanations,
even rules — and it is replaced by the number of CPU cores this process may run on, when the lesson is
loaded (loader.parse_lesson calls `machine_text` on the whole file, before parsing). So "8 threads on
{cores} cores" reads "8 threads on 2 cores" on a 2-core laptop and "8 threads on 64 cores" on a server, and a
rule such as `'over' if m8.threads > {cores} else 'fits'` compares with the real count. `{cores*2}` is twice
the count: a number of threads that is more than the cores on every machine; `{cores*4}` four times it. lessons/README.md
documents it for lesson authors.
"""
from __future__ import annotations

import os

PLACEHOLDERS = ("{cores}", "{cores*2}", "{cores*4}")  # {cores*2}, {cores*4}: thread counts that oversubscribe
                                                      # every machine


def cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def machine_text(text: str) -> str:
    """`text` with every `{cores}` replaced by cores(), `{cores*2}` by twice that and `{cores*4}` by four times."""
    if "{cores" not in text:
        return text
    n = cores()
    return text.replace("{cores*4}", str(4 * n)).replace("{cores*2}", str(2 * n)).replace("{cores}", str(n))


__all__ = ["cores", "machine_text", "PLACEHOLDERS"]
