"""`teach-sgd` with no command: the app (the lesson menu) in this terminal."""
from __future__ import annotations

from teach_sgd.tui.app import launch


def run(args, _signals=None) -> int:
    return launch(lessons_dir=args.lessons)
