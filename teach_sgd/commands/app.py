"""`teach-sgd` with no command: the app (the lesson menu) in this terminal; with `--class HOST:PORT CODE`, the
app as a student of that class."""
from __future__ import annotations

from teach_sgd.commands import classroom
from teach_sgd.tui.app import launch


def run(args, signals=None) -> int:
    join = classroom.join_settings(args)
    return launch(lessons_dir=args.lessons, opening=join and classroom.student_opening(*join), signals=signals)
