"""Export a finished run: RunResult as JSON and CSV, plus an SVG screenshot of the screen."""
from __future__ import annotations

import os
import time
from pathlib import Path

from teach_sgd.engine.result import curves_csv, runs_json


EXPORT_DIR_ENV = "TEACH_SGD_EXPORT_DIR"


def default_export_dir() -> Path:
    return Path(os.environ.get(EXPORT_DIR_ENV) or Path.cwd() / "teach-sgd-exports")


def export_results(app, results, directory: Path, stem: str) -> list[Path]:
    """Write <stem>.json (one object, or a list for several runs), <stem>.csv and <stem>.svg; returns paths."""
    directory = Path(directory).expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    json_path, csv_path, svg_path = (directory / f"{stem}.{ext}" for ext in ("json", "csv", "svg"))
    n = 1
    while json_path.exists():  # two exports in the same second
        n += 1
        json_path, csv_path, svg_path = (directory / f"{stem}-{n}.{ext}" for ext in ("json", "csv", "svg"))
    if len(results) == 1:
        results[0].write_json(json_path)
    else:
        json_path.write_text(runs_json(list(results)))
    csv_path.write_text(curves_csv(list(results)))
    app.save_screenshot(filename=svg_path.name, path=str(directory))
    return [json_path, csv_path, svg_path]
