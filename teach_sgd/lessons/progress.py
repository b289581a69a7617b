"""Saved progress between uses of the app: one small JSON file in the user's data folder.

    $XDG_DATA_HOME/teach_sgd/progress.json   (default ~/.local/share/teach_sgd/progress.json)
    $TEACH_SGD_DATA_DIR/progress.json        (overrides the above: tests, classroom machines)

    progress = Progress.load()
    progress.start(lesson_id); progress.set_step(lesson_id, 4)
    progress.record(lesson_id, verdict)             # a checkpoint's Verdict (answer, correct, numbers)
    progress.complete(lesson_id); progress.save()   # written atomically

A damaged file never stops the app: it is set aside as progress.json.bad and progress starts empty
(teach_sgd/userdata.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from teach_sgd.userdata import data_dir, load_table, save_table

def default_path() -> Path:
    return data_dir() / "progress.json"


def exports_dir() -> Path:
    return data_dir() / "exports"


@dataclass
class Progress:
    path: Path
    lessons: dict = field(default_factory=dict)
    warning: str | None = None  # set when a damaged file was set aside

    # ---- file -------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> "Progress":
        path = Path(path) if path is not None else default_path()
        lessons, warning = load_table(path, "lessons")
        return cls(path, lessons, warning)

    def save(self) -> None:
        save_table(self.path, "lessons", self.lessons)

    # ---- updates ------------------------------------------------------------------------------------------
    def _entry(self, lesson_id: str) -> dict:
        e = self.lessons.setdefault(lesson_id, {})
        e.setdefault("started_at", time.time())
        e.setdefault("step", 0)
        e.setdefault("completed", False)
        e.setdefault("checkpoints", {})
        return e

    def start(self, lesson_id: str) -> None:
        self._entry(lesson_id)

    def set_step(self, lesson_id: str, step: int) -> None:
        self._entry(lesson_id)["step"] = int(step)

    def record(self, lesson_id: str, verdict, numbers: dict | None = None) -> None:
        """Keep a checkpoint's outcome: what was chosen, what the run said, whether they matched."""
        e = self._entry(lesson_id)
        e["checkpoints"][verdict.checkpoint_id] = {
            "chosen": verdict.chosen, "correct": verdict.correct_choice, "user_correct": verdict.user_correct,
            "decided": verdict.decided, "at": time.time(), **({"numbers": numbers} if numbers else {})}

    def complete(self, lesson_id: str) -> None:
        e = self._entry(lesson_id)
        e["completed"] = True
        e["completed_at"] = time.time()

    def reset(self, lesson_id: str | None = None) -> None:
        if lesson_id is None:
            self.lessons.clear()
        else:
            self.lessons.pop(lesson_id, None)

    # ---- reading ------------------------------------------------------------------------------------------
    def status(self, lesson_id: str) -> str:
        """'new', 'started' or 'done'."""
        e = self.lessons.get(lesson_id)
        if not e:
            return "new"
        return "done" if e.get("completed") else "started"

    def step(self, lesson_id: str) -> int:
        return int(self.lessons.get(lesson_id, {}).get("step", 0))

    def score(self, lesson_id: str) -> tuple[int, int]:
        """(predictions that matched the measurement, decided checkpoints answered)."""
        cps = self.lessons.get(lesson_id, {}).get("checkpoints", {})
        answered = [c for c in cps.values() if c.get("user_correct") is not None]
        return sum(bool(c["user_correct"]) for c in answered), len(answered)

    def answer(self, lesson_id: str, checkpoint_id: str) -> dict | None:
        return self.lessons.get(lesson_id, {}).get("checkpoints", {}).get(checkpoint_id)
