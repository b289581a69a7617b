"""`teach-sgd replay FILE [--json OUT] [--csv OUT] [--svg OUT]`: headless exports when any is asked for; otherwise
the app opens on the recording (its clock and source are in teach_sgd/replay.py)."""
from __future__ import annotations

import sys

from teach_sgd.engine.recording import load
from teach_sgd.output import check_outputs, write_text
from teach_sgd.replay import events_csv, timeline_svg
from teach_sgd.tui.app import launch


def add_parser(sub) -> None:
    p = sub.add_parser("replay", help="replay a recording in the app, or export it headless")
    p.add_argument("file", metavar="FILE", help="a recording made with `run --record` or R in the app")
    p.add_argument("--json", default=None, metavar="PATH", help="write the recorded result (as run --json did)")
    p.add_argument("--csv", default=None, metavar="PATH", help="write every recorded event as CSV")
    p.add_argument("--svg", default=None, metavar="PATH", help="write the recording's timeline as SVG")
    p.set_defaults(run=run)


def run(args, signals=None) -> int:
    outputs = check_outputs([(args.json, "--json"), (args.csv, "--csv"), (args.svg, "--svg")],
                            inputs=[(args.file, "the recording FILE")])
    recording = load(args.file)
    if not outputs:
        return launch(lessons_dir=args.lessons, replay=recording, signals=signals)
    texts = {"--json": lambda: recording.result_json, "--csv": lambda: events_csv(recording),
             "--svg": lambda: timeline_svg(recording)}
    for path, label in outputs:
        print(f"wrote {write_text(path, texts[label](), label)}", file=sys.stderr)
    return 0
