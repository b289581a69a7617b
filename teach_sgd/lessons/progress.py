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

NUMBER = (int, float)
# what each lesson's entry holds (userdata.load_table sets a file aside whose entries do not match)
ENTRY = {"started_at": NUMBER, "step": int, "completed": bool, "completed_at": NUMBER,
         "checkpoints": lambda cps: isinstance(cps, dict) and all(isinstance(c, dict) for c in cps.values()),
         "races": lambda races: isinstance(races, dict) and all(isinstance(r, dict) for r in races.values())}


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
        lessons, warning = load_table(path, "lessons", ENTRY)
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

    def set_step(self, lesson_id: str, step: int, steps: int | None = None) -> None:
        e = self._entry(lesson_id)
        e["step"] = int(step)
        if steps is not None:
            e["steps"] = int(steps)

    def set_answer(self, lesson_id: str, checkpoint_id: str, chosen: str) -> None:
        """The learner's prediction, kept as soon as it is made (its verdict comes later, or never)."""
        cps = self._entry(lesson_id)["checkpoints"]
        cps[checkpoint_id] = {"chosen": chosen, "at": time.time()}

    def record(self, lesson_id: str, verdict, numbers: dict | None = None) -> None:
        """Keep a checkpoint's outcome: what was chosen, what the run said, whether they matched."""
        e = self._entry(lesson_id)
        e["checkpoints"][verdict.checkpoint_id] = {
            "chosen": verdict.chosen, "correct": verdict.correct_choice, "user_correct": verdict.user_correct,
            "decided": verdict.decided, "at": time.time(), **({"numbers": numbers} if numbers else {})}

    def race_made(self, lesson_id: str, race: str, outcome: str) -> None:
        """A race the learner made on real threads (lessons/races.py), with what its numbers said."""
        self._entry(lesson_id).setdefault("races", {})[race] = {"outcome": outcome, "at": time.time()}

    def set_change(self, lesson_id: str, experiment_id: str, key: str) -> None:
        """The value the learner picked for an experiment's `change` (its choice key)."""
        self._entry(lesson_id).setdefault("changes", {})[experiment_id] = key

    def change(self, lesson_id: str, experiment_id: str) -> str | None:
        return self.lessons.get(lesson_id, {}).get("changes", {}).get(experiment_id)

    def race(self, lesson_id: str, race: str) -> dict | None:
        return self.lessons.get(lesson_id, {}).get("races", {}).get(race)

    def complete(self, lesson_id: str) -> None:
        e = self._entry(lesson_id)
        e["completed"] = True
        e["completed_at"] = time.time()

    def reset(self, lesson_id: str | None = None) -> None:
        for lid in list(self.lessons) if lesson_id is None else [lesson_id]:
            self.lessons.pop(lid, None)
            ResultsStore.beside(self, lid).clear()

    # ---- reading ------------------------------------------------------------------------------------------
    def status(self, lesson_id: str) -> str:
        """'new', 'started' or 'done'."""
        e = self.lessons.get(lesson_id)
        if not e:
            return "new"
        return "done" if e.get("completed") else "started"

    def status_text(self, lesson_id: str) -> str:
        """What the home screen says of a lesson: '' (new), '✓ done', or '… at step k / n' (where it reopens)."""
        status = self.status(lesson_id)
        if status != "started":
            return "✓ done" if status == "done" else ""
        steps = self.lessons[lesson_id].get("steps")
        return f"… at step {self.step(lesson_id) + 1}" + (f" / {steps}" if steps else "")

    def step(self, lesson_id: str) -> int:
        return int(self.lessons.get(lesson_id, {}).get("step", 0))

    def score(self, lesson_id: str) -> tuple[int, int]:
        """(predictions that matched the measurement, decided checkpoints answered)."""
        cps = self.lessons.get(lesson_id, {}).get("checkpoints", {})
        answered = [c for c in cps.values() if c.get("user_correct") is not None]
        return sum(bool(c["user_correct"]) for c in answered), len(answered)

    def answer(self, lesson_id: str, checkpoint_id: str) -> dict | None:
        return self.lessons.get(lesson_id, {}).get("checkpoints", {}).get(checkpoint_id)


@dataclass
class ResultsStore:
    """What a lesson's experiments measured, kept between visits beside the progress file:
    <progress folder>/lesson-results/<lesson id>.json = {"results": {experiment id: {"plan": …, "runs": …}}}.
    A file of its own per lesson, so that moving a step (which saves progress.json) never rewrites loss curves."""

    path: Path

    @classmethod
    def beside(cls, progress: Progress, lesson_id: str) -> "ResultsStore":
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in lesson_id)
        return cls(Path(progress.path).parent / "lesson-results" / f"{safe}.json")

    def load(self) -> dict:
        table, _warning = load_table(self.path, "results")  # a damaged file is set aside: the runs are re-run
        return table

    def save(self, experiment_id: str, entry: dict) -> None:
        table = self.load()
        table[experiment_id] = entry
        save_table(self.path, "results", table)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
