"""Best scores between uses of the app, beside the lessons' progress (same data folder, own file):

    $TEACH_SGD_DATA_DIR/challenges.json  (else $XDG_DATA_HOME/teach_sgd/…: teach_sgd/userdata.py)
    {"version": 1, "challenges": {id: {"best": steps, "schedule": [...], "at": time}}}

A damaged file never stops the app: it is set aside as challenges.json.bad and scores start empty.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from teach_sgd.userdata import data_dir, load_table, save_table


# a challenge's entry (userdata.load_table sets a file aside whose entries do not match)
ENTRY = {"best": int, "schedule": lambda s: isinstance(s, list) and all(isinstance(t, int) for t in s),
         "at": (int, float)}


@dataclass
class Scores:
    path: Path
    challenges: dict = field(default_factory=dict)
    warning: str | None = None

    @classmethod
    def load(cls, path: str | Path | None = None) -> Scores:
        path = Path(path) if path is not None else data_dir() / "challenges.json"
        challenges, warning = load_table(path, "challenges", ENTRY)
        return cls(path, challenges, warning)

    def save(self) -> None:
        save_table(self.path, "challenges", self.challenges)

    def best(self, challenge_id: str) -> int | None:
        return self.challenges.get(challenge_id, {}).get("best")

    def record(self, challenge_id: str, schedule: list[int]) -> bool:
        """Keep a win if it took fewer steps than the best so far; True if it is a new best."""
        best = self.best(challenge_id)
        if best is not None and best <= len(schedule):
            return False
        self.challenges[challenge_id] = {"best": len(schedule), "schedule": list(schedule), "at": time.time()}
        return True
