"""`teach-sgd simulate`: the τ_max × α sweep, headless. The table goes to stdout, then the plot.

Options arrive as text; SweepConfig.from_mapping parses and checks them (sim/config.py), so a bad value is
one ConfigError sentence, which the top-level CLI prints with exit status 2.
"""
from __future__ import annotations

import json
import sys

from teach_sgd.output import check_outputs, write_text
from teach_sgd.settings import add_options
from teach_sgd.sim.config import SWEEP_SETTINGS, SweepConfig
from teach_sgd.sim.report import format_plot, format_table, sweep_json
from teach_sgd.sim.sweep import sweep


def add_parser(sub) -> None:
    parser = sub.add_parser("simulate", help="the asynchrony simulator (Alistarh, De Sa, Konstantinov), headless")
    parser.set_defaults(run=run)
    add_options(parser, SWEEP_SETTINGS.values())
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--no-plot", action="store_true", help="print the table only")


def run(args, _signals=None) -> int:
    cfg = SweepConfig.from_mapping({key: getattr(args, key) for key in SWEEP_SETTINGS}, source="cli")
    check_outputs([(args.json, "--json")])
    result = sweep(cfg, progress=_progress if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    print(format_table(result))
    if not args.no_plot:
        print()
        print(format_plot(result, color=sys.stdout.isatty()))
    if args.json:
        write_text(args.json, json.dumps(sweep_json(result), indent=1) + "\n", "--json")
    return 0


def _progress(done: int, total: int) -> None:
    print(f"\rsimulating: {done}/{total} runs", end="", file=sys.stderr, flush=True)
