"""The user's data folder and the small JSON files kept there between uses of the app.

    $XDG_DATA_HOME/teach_sgd/   (default ~/.local/share/teach_sgd/)
    $TEACH_SGD_DATA_DIR/        (overrides the above: tests, classroom machines)

Each file is {"version": 1, KEY: {…}} — lessons/progress.py keeps "lessons" in progress.json,
sim/challenges/progress.py keeps "challenges" in challenges.json. Files are written atomically, and a
damaged one never stops the app: it is set aside as NAME.json.bad and its table starts empty.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

VERSION = 1


def data_dir() -> Path:
    override = os.environ.get("TEACH_SGD_DATA_DIR")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "teach_sgd"


def load_table(path: Path, key: str) -> tuple[dict, str | None]:
    """(the file's KEY table, None), or ({}, a warning saying where a damaged file was moved)."""
    if not path.exists():
        return {}, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get(key, {}), dict):
            raise ValueError(f"not a {key} file")
        return dict(data.get(key, {})), None
    except (OSError, ValueError) as e:
        bad = path.with_suffix(".json.bad")
        try:
            path.replace(bad)
        except OSError:
            pass
        return {}, f"{key} file {path} was unreadable ({e}); it was moved to {bad.name}"


def save_table(path: Path, key: str, table: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"version": VERSION, key: table}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
