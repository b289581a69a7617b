"""Export a finished run: RunResult as JSON and CSV, plus an SVG screenshot of the screen."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from teach_sgd.engine.result import write_curves_csv


def default_export_dir() -> Path:
    return Path(os.environ.get("TEACH_SGD_EXPORT_DIR") or Path.cwd() / "teach-sgd-exports")


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
        json_path.write_text(json.dumps([r.to_json() for r in results], indent=2) + "\n")
    write_curves_csv(list(results), csv_path)
    app.save_screenshot(filename=svg_path.name, path=str(directory))
    return [json_path, csv_path, svg_path]
