"""`teach-sgd simulate`: the τ_max × α sweep, headless. The table goes to stdout, then the plot.

Options arrive as text; SweepConfig.from_mapping parses and checks them (sim/config.py), so a bad value is
one ConfigError sentence, which the top-level CLI prints with exit status 2.
"""
from __future__ import annotations

import sys

from teach_sgd.commands.configured import add_configured, configured, write_json
from teach_sgd.sim.config import SWEEP_SETTINGS, SweepConfig
from teach_sgd.sim.report import format_plot, format_table, sweep_json
from teach_sgd.sim.sweep import sweep


def add_parser(sub) -> None:
    parser = add_configured(sub, "simulate", SWEEP_SETTINGS, run, "also write the results as JSON to PATH",
                            metavar="PATH",
                            help="the asynchrony simulator (Alistarh, De Sa, Konstantinov), headless")
    parser.add_argument("--no-plot", action="store_true", help="print the table only")


def run(args, _signals=None) -> int:
    cfg = configured(args, SweepConfig, SWEEP_SETTINGS)
    result = sweep(cfg, progress=_progress if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    print(format_table(result))
    if not args.no_plot:
        print()
        print(format_plot(result, color=sys.stdout.isatty()))
    write_json(args, sweep_json(result))
    return 0


def _progress(done: int, total: int) -> None:
    print(f"\rsimulating: {done}/{total} runs", end="", file=sys.stderr, flush=True)
