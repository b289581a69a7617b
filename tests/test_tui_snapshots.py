"""Snapshot tests (pytest-textual-snapshot) of the screens that show no live numbers."""
from __future__ import annotations

from teach_sgd.tui.app import TeachSGDApp

LESSONS = [("01-races", "Races on shared memory", 10), ("02-leash", "Putting SGD on a leash", 15)]


def app() -> TeachSGDApp:
    return TeachSGDApp(lessons=LESSONS)


def test_home(snap_compare):
    assert snap_compare(app(), terminal_size=(100, 30))


def test_playground_idle(snap_compare):
    assert snap_compare(app(), press=["p"], terminal_size=(120, 40))


def test_help(snap_compare):
    assert snap_compare(app(), press=["question_mark"], terminal_size=(100, 40))
