"""`teach-sgd simulate`: the τ_max × α sweep, headless. The table goes to stdout, then the plot.

Options arrive as text; SweepConfig.from_mapping parses and checks them (sim/config.py), so a bad value is
one ConfigError sentence, which the top-level CLI prints with exit status 2.
"""
from __future__ import annotations

import json
import sys

from teach_sgd.output import check_writable, write_text

from teach_sgd.sim.config import MAX_SWEEP_POINTS, SweepConfig
from teach_sgd.sim.objectives import OBJECTIVES
from teach_sgd.sim.program import MODES
from teach_sgd.sim.report import format_plot, format_table, sweep_json
from teach_sgd.sim.schedulers import SCHEDULERS
from teach_sgd.sim.sweep import sweep

# (flag, SweepConfig key, help)
OPTIONS = (
    ("--scheduler", "scheduler", f"one of {', '.join(SCHEDULERS)} (default stale-read)"),
    ("--mode", "mode", f"one of {', '.join(MODES)}: fetch-and-add (the PODC 2018 model), racy load/store, or "
                       "Leashed-SGD's CAS publish (default faa)"),
    ("--persistence", "persistence", "Leashed-SGD's Tp: 0, 1, … or inf (default inf)"),
    ("--threads", "threads", "threads (default: τ_max + 1 for each τ_max)"),
    ("--tau-max", "taus", "comma-separated τ_max values (default 0,1,2,4,8)"),
    ("--alphas", "alphas", f"step sizes: a comma-separated list, or LOW:HIGH:N for N (at most {MAX_SWEEP_POINTS}) "
                           "values evenly spaced on a log scale (default 0.02:2.5:25)"),
    ("--objective", "objective", f"one of {', '.join(OBJECTIVES)} (default quadratic)"),
    ("--dim", "dim", "dimension d of the model (default 4)"),
    ("--c", "c", "strong convexity c: the quadratic's curvature (default 1), the logistic regression's L2 "
                 "weight (default 0.1)"),
    ("--noise", "noise", "gradient noise σ of the quadratic (default 0: exact gradients)"),
    ("--eps", "eps", "success when ‖x − x*‖² ≤ EPS (default 1e-3)"),
    ("--max-iters", "max_iters", "iteration budget per run (default 5000)"),
    ("--seed", "seed", "seed for gradient noise and random schedulers (default 0)"),
)
DEFAULTS = {"taus": "0,1,2,4,8", "alphas": "0.02:2.5:25"}


def add_parser(sub) -> None:
    parser = sub.add_parser("simulate", help="the asynchrony simulator (Alistarh, De Sa, Konstantinov), headless")
    parser.set_defaults(run=run)
    for flag, key, text in OPTIONS:
        parser.add_argument(flag, dest=key, help=text)
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--no-plot", action="store_true", help="print the table only")


def config_from_args(args) -> SweepConfig:
    settings = {key: getattr(args, key) for _, key, _ in OPTIONS}
    return SweepConfig.from_mapping({k: settings[k] if settings[k] is not None else DEFAULTS.get(k)
                                     for k in settings}, source="cli")


def run(args, _signals=None) -> int:
    cfg = config_from_args(args)
    if args.json:
        check_writable(args.json, "--json")
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
