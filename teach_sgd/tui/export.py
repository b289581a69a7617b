"""Writing from the app into its export folder: a finished run's results, a run as a recording (R), and a
recording's exports from the replay screen. Every file name gets the time, and a counter when two writes
fall in the same second, so nothing is overwritten."""
from __future__ import annotations

import os
import time
from pathlib import Path

from teach_sgd.engine.result import curves_csv, runs_json


EXPORT_DIR_ENV = "TEACH_SGD_EXPORT_DIR"


def default_export_dir() -> Path:
    return Path(os.environ.get(EXPORT_DIR_ENV) or Path.cwd() / "teach-sgd-exports")


def fresh_paths(directory, stem: str, suffixes) -> list[Path]:
    """<directory>/<stem>-<time><suffix> for each suffix (the folder is made), none of which exists yet."""
    directory = Path(directory).expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    n = 1
    while True:
        paths = [directory / f"{stem}{'' if n == 1 else f'-{n}'}{s}" for s in suffixes]
        if not any(p.exists() for p in paths):
            return paths
        n += 1


def export_results(app, results, directory: Path, stem: str) -> list[Path]:
    """Write <stem>.json (one object, or a list for several runs), <stem>.csv and <stem>.svg; returns paths."""
    json_path, csv_path, svg_path = fresh_paths(directory, stem, (".json", ".csv", ".svg"))
    if len(results) == 1:
        results[0].write_json(json_path)
    else:
        json_path.write_text(runs_json(list(results)))
    csv_path.write_text(curves_csv(list(results)))
    app.save_screenshot(filename=svg_path.name, path=str(json_path.parent))
    return [json_path, csv_path, svg_path]


def record_runs(runners, directory: Path, stem: str) -> list[Path]:
    """R: each ended run as a recording, <stem>.npz (several runs: <stem>-A.npz, <stem>-B.npz, …); returns the
    paths. Slow for a long run (its events are compressed): call it from a thread."""
    suffixes = [".npz"] if len(runners) == 1 else [f"-{chr(65 + i)}.npz" for i in range(len(runners))]
    paths = fresh_paths(directory, stem, suffixes)
    return [runner.save_recording(path, label="R") for runner, path in zip(runners, paths)]


def export_recording(recording, directory: Path, stem: str) -> list[Path]:
    """The replay screen's e: the recorded result as JSON (byte for byte the run's own), every event as CSV and
    the timeline as SVG, as `teach-sgd replay FILE --json/--csv/--svg` write them; returns the paths."""
    from teach_sgd.replay import events_csv, timeline_svg

    json_path, csv_path, svg_path = fresh_paths(directory, stem, (".json", ".csv", ".svg"))
    json_path.write_text(recording.result_json)
    csv_path.write_text(events_csv(recording))
    svg_path.write_text(timeline_svg(recording))
    return [json_path, csv_path, svg_path]
