"""Best scores between uses of the app, beside the lessons' progress (same data folder, own file):

    $TEACH_SGD_DATA_DIR/challenges.json  (else $XDG_DATA_HOME/teach_sgd/…, see lessons/progress.py)
    {"version": 1, "challenges": {id: {"best": steps, "schedule": [...], "at": time}}}

A damaged file never stops the app: it is set aside as challenges.json.bad and scores start empty.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from teach_sgd.lessons.progress import data_dir

VERSION = 1


@dataclass
class Scores:
    path: Path
    challenges: dict = field(default_factory=dict)
    warning: str | None = None

    @classmethod
    def load(cls, path: str | Path | None = None) -> Scores:
        path = Path(path) if path is not None else data_dir() / "challenges.json"
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("challenges"), dict):
                raise ValueError("not a challenges file")
            return cls(path, dict(data["challenges"]))
        except (OSError, ValueError) as e:
            bad = path.with_suffix(".json.bad")
            try:
                path.replace(bad)
            except OSError:
                pass
            return cls(path, warning=f"scores file {path} was unreadable ({e}); it was moved to {bad.name}")

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"version": VERSION, "challenges": self.challenges}, indent=1, sort_keys=True)
                       + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def best(self, challenge_id: str) -> int | None:
        return self.challenges.get(challenge_id, {}).get("best")

    def record(self, challenge_id: str, schedule: list[int]) -> bool:
        """Keep a win if it took fewer steps than the best so far; True if it is a new best."""
        best = self.best(challenge_id)
        if best is not None and best <= len(schedule):
            return False
        self.challenges[challenge_id] = {"best": len(schedule), "schedule": list(schedule), "at": time.time()}
        return True
