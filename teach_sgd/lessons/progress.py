"""Saved progress between uses of the app: one small JSON file in the user's data folder.

    $XDG_DATA_HOME/teach_sgd/progress.json   (default ~/.local/share/teach_sgd/progress.json)
    $TEACH_SGD_DATA_DIR/progress.json        (overrides the above: tests, classroom machines)

    progress = Progress.load()
    progress.start(lesson_id); progress.set_step(lesson_id, 4)
    progress.record(lesson_id, verdict)             # a checkpoint's Verdict (answer, correct, numbers)
    progress.complete(lesson_id); progress.save()   # written atomically

A damaged file never stops the app: it is set aside as progress.json.bad and progress starts empty.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

VERSION = 1


def data_dir() -> Path:
    override = os.environ.get("TEACH_SGD_DATA_DIR")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "teach_sgd"


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
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("lessons", {}), dict):
                raise ValueError("not a progress file")
            return cls(path, dict(data.get("lessons", {})))
        except (OSError, ValueError) as e:
            bad = path.with_suffix(".json.bad")
            try:
                path.replace(bad)
            except OSError:
                pass
            return cls(path, warning=f"progress file {path} was unreadable ({e}); it was moved to {bad.name}")

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"version": VERSION, "lessons": self.lessons}, indent=1, sort_keys=True) + "\n",
                       encoding="utf-8")
        os.replace(tmp, self.path)

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
