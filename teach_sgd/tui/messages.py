"""Typed messages that cross screen boundaries (the dashboard's own messages live on Dashboard)."""
from __future__ import annotations

from textual.message import Message


class LessonChosen(Message):
    """The user picked a lesson (home screen, command palette, or `teach-sgd lesson ID`)."""

    def __init__(self, lesson_id: str) -> None:
        super().__init__()
        self.lesson_id = lesson_id


class KernelsReady(Message):
    """Every numba kernel is compiled and loaded in this process: runs may start."""
