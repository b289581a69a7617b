"""What the replay screen exports: a recording's results, events and timeline. Written by teach_sgd.output's one
writer (write_new): every file name gets the time, and a counter when two writes fall in the same second, so
nothing is overwritten. (A live run's exports and recordings: teach_sgd.runs.session.)"""
from __future__ import annotations

from pathlib import Path

from teach_sgd.output import write_new
from teach_sgd.replay import events_csv, timeline_svg


def export_recording(recording, directory: Path, stem: str) -> list[Path]:
    """The replay screen's e: the recorded result as JSON (byte for byte the run's own), every event as CSV and
    the timeline as SVG, as `teach-sgd replay FILE --json/--csv/--svg` write them; returns the paths."""
    return write_new(directory, stem, {".json": recording.result_json, ".csv": events_csv(recording),
                                       ".svg": timeline_svg(recording)})
