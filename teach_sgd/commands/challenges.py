"""`teach-sgd challenges`: the challenges with their step limits and your best scores."""
from __future__ import annotations

import sys

from teach_sgd.sim.challenges.catalog import CHALLENGES
from teach_sgd.sim.challenges.progress import Scores


def add_parser(sub) -> None:
    sub.add_parser("challenges", help="list the scheduler challenges and your best scores").set_defaults(
        run=list_challenges)


def list_challenges(_args=None, _signals=None) -> int:
    scores = Scores.load()
    if scores.warning:
        print(f"teach-sgd: {scores.warning}", file=sys.stderr)
    width = max(len(c.id) for c in CHALLENGES)
    print(f"{'id':<{width}}  {'title':<40}  {'limit':>5}  best")
    for c in CHALLENGES:
        best = scores.best(c.id)
        print(f"{c.id:<{width}}  {c.title:<40}  {c.limit:>5}  {'—' if best is None else best}")
    print("\nopen them from the app's home screen (teach-sgd, then Challenges)")
    return 0
