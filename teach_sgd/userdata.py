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

from teach_sgd.errors import shorten
from teach_sgd.output import write_atomic

VERSION = 1


def data_dir() -> Path:
    override = os.environ.get("TEACH_SGD_DATA_DIR")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "teach_sgd"


Schema = dict[str, object]  # field -> a type, a tuple of types, or a function that says whether a value is valid


def _valid(entry: object, schema: Schema) -> bool:
    """An entry is a JSON object whose known fields have the declared types (unknown fields are kept: a newer
    teach-sgd may have written them)."""
    if not isinstance(entry, dict):
        return False
    for name, rule in schema.items():
        if name not in entry:
            continue
        value = entry[name]
        ok = isinstance(value, rule) if isinstance(rule, (type, tuple)) else rule(value)
        if not ok:
            return False
    return True


def load_table(path: Path, key: str, schema: Schema | None = None) -> tuple[dict, str | None]:
    """(the file's KEY table, None), or ({}, one line saying where a damaged file was moved). Damaged means
    unreadable, not JSON, or (given a `schema` for the table's entries) any entry not matching it: the app never
    meets a wrong type later on. Without a schema the caller checks what it reads."""
    try:
        if not path.exists():
            return {}, None
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get(key, {}), dict):
            raise ValueError(f"not a {key} file")
        table = dict(data.get(key, {}))
        bad = next((k for k, entry in table.items() if not _valid(entry, schema)), None) if schema else None
        if bad is not None:
            raise ValueError(f"its entry {shorten(bad, 40)} is not what teach-sgd writes")
        return table, None
    except (OSError, ValueError, RecursionError) as e:  # RecursionError: JSON nested thousands deep
        aside = path.with_name(path.name + ".bad")
        try:
            path.replace(aside)
        except OSError:
            return {}, f"{path} is unreadable ({_reason(e)}); {key} start afresh without it"
        return {}, f"{path} was unreadable ({_reason(e)}); it was moved to {aside.name}, and {key} start afresh"


def _reason(e: BaseException) -> str:
    text = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return text.splitlines()[0][:80]


def save_table(path: Path, key: str, table: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"version": VERSION, key: table}, indent=1, sort_keys=True) + "\n")
