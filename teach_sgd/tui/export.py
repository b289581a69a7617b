"""What the app exports: a finished run's results, a run as a recording (R), and a recording's exports from the
replay screen. Written by teach_sgd.output's one writer (write_new / fresh_paths): every file name gets the
time, and a counter when two writes fall in the same second, so nothing is overwritten."""
from __future__ import annotations

from pathlib import Path

from teach_sgd.engine.result import curves_csv, runs_json
from teach_sgd.output import fresh_paths, write_new
from teach_sgd.replay import events_csv, timeline_svg


def export_results(app, results, directory: Path, stem: str) -> list[Path]:
    """Write <stem>.json (one object, or a list for several runs), <stem>.csv and <stem>.svg; returns paths."""
    json_text = results[0].json_text() if len(results) == 1 else runs_json(list(results))
    return write_new(directory, stem, {".json": json_text, ".csv": curves_csv(list(results)),
                                       ".svg": app.export_screenshot()})


def record_runs(runners, directory: Path, stem: str) -> list[Path]:
    """R: each ended run as a recording, <stem>.npz (several runs: <stem>-A.npz, <stem>-B.npz, …); returns the
    paths. Slow for a long run (its events are compressed): call it from a thread."""
    suffixes = [".npz"] if len(runners) == 1 else [f"-{chr(65 + i)}.npz" for i in range(len(runners))]
    paths = fresh_paths(directory, stem, suffixes)
    return [runner.save_recording(path, label="R") for runner, path in zip(runners, paths)]


def export_recording(recording, directory: Path, stem: str) -> list[Path]:
    """The replay screen's e: the recorded result as JSON (byte for byte the run's own), every event as CSV and
    the timeline as SVG, as `teach-sgd replay FILE --json/--csv/--svg` write them; returns the paths."""
    return write_new(directory, stem, {".json": recording.result_json, ".csv": events_csv(recording),
                                       ".svg": timeline_svg(recording)})
