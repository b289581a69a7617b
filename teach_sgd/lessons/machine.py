"""Lesson text that speaks about the machine it runs on.

A lesson file may write `{cores}` anywhere — narrative, titles, notes, questions, choices, explanations,
even rules — and it is replaced by the number of CPU cores this process may run on, when the lesson is
loaded (loader.parse_lesson calls `machine_text` on the whole file, before parsing). So "8 threads on
{cores} cores" reads "8 threads on 2 cores" on a 2-core laptop and "8 threads on 64 cores" on a server, and a
rule such as `'over' if m8.threads > {cores} else 'fits'` compares with the real count. lessons/README.md
documents it for lesson authors.
"""
from __future__ import annotations

import os

PLACEHOLDERS = ("{cores}",)


def cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def machine_text(text: str) -> str:
    """`text` with every `{cores}` replaced by cores()."""
    if "{cores}" not in text:
        return text
    return text.replace("{cores}", str(cores()))


__all__ = ["cores", "machine_text", "PLACEHOLDERS"]
