"""`teach-sgd simulate`: the τ_max × α sweep, headless. The table goes to stdout, then the plot.

Bad values raise UsageError with one sentence; the top-level CLI turns that into exit status 2.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from .delay import DEFINITION
from .objectives import OBJECTIVES
from .program import MODES
from .report import format_plot, format_table
from .run import DIVERGENCE_RULE, MEASUREMENT_RULE
from .schedulers import SCHEDULERS
from .sweep import SweepConfig, sweep


class UsageError(Exception):
    """A bad command-line value; the message is one sentence for the user."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scheduler", default="stale-read", help=f"one of {', '.join(SCHEDULERS)} (default stale-read)")
    parser.add_argument("--mode", default="faa", help="faa (fetch-and-add, the PODC 2018 model), hogwild (racy "
                        "load/store) or leashed (CAS publish) (default faa)")
    parser.add_argument("--persistence", default="inf", help="Leashed-SGD's Tp: 0, 1, … or inf (default inf)")
    parser.add_argument("--threads", default=None, help="threads (default: τ_max + 1 for each τ_max)")
    parser.add_argument("--tau-max", default="0,1,2,4,8", help="comma-separated τ_max values (default 0,1,2,4,8)")
    parser.add_argument("--alphas", default="0.02:2.5:25", help="step sizes: a comma-separated list, or LOW:HIGH:N "
                        "for N values evenly spaced on a log scale (default 0.02:2.5:25)")
    parser.add_argument("--objective", default="quadratic", help=f"one of {', '.join(OBJECTIVES)} (default quadratic)")
    parser.add_argument("--dim", default="4", help="dimension d of the model (default 4)")
    parser.add_argument("--c", default=None, help="strong convexity c: the quadratic's curvature (default 1), the "
                        "logistic regression's L2 weight (default 0.1)")
    parser.add_argument("--noise", default="0", help="gradient noise σ of the quadratic (default 0: exact gradients)")
    parser.add_argument("--eps", default="1e-3", help="success when ‖x − x*‖² ≤ EPS (default 1e-3)")
    parser.add_argument("--max-iters", default="5000", help="iteration budget per run (default 5000)")
    parser.add_argument("--seed", default="0", help="seed for gradient noise and random schedulers (default 0)")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--no-plot", action="store_true", help="print the table only")


def config_from_args(args) -> SweepConfig:
    scheduler = _choice(args.scheduler, SCHEDULERS, "--scheduler")
    mode = _choice(args.mode, MODES, "--mode")
    objective = _choice(args.objective, OBJECTIVES, "--objective")
    taus = tuple(_int(v, "--tau-max", 0) for v in _items(args.tau_max, "--tau-max"))
    if len(set(taus)) != len(taus):
        raise UsageError("--tau-max must not repeat a value.")
    threads = None if args.threads is None else _int(args.threads, "--threads", 1)
    if scheduler == "stale-read" and threads is not None and threads < max(taus) + 1:
        raise UsageError(f"--threads must be at least {max(taus) + 1} for the stale-read adversary at "
                         f"τ_max = {max(taus)}.")
    persistence = None if str(args.persistence).lower() in ("inf", "∞") else _int(args.persistence, "--persistence", 0)
    c = _float(args.c, "--c") if args.c is not None else (1.0 if objective == "quadratic" else 0.1)
    noise = _float(args.noise, "--noise", allow_zero=True)
    if objective == "logistic" and noise:
        raise UsageError("--noise applies to the quadratic only; logistic regression's noise is its sampling.")
    return SweepConfig(
        taus=taus, alphas=_alphas(args.alphas), scheduler=scheduler, mode=mode, objective=objective,
        dim=_int(args.dim, "--dim", 1), c=c, noise=noise, eps=_float(args.eps, "--eps"),
        max_iters=_int(args.max_iters, "--max-iters", 1), seed=_int(args.seed, "--seed", 0),
        threads=threads, persistence=persistence)


def run(args) -> int:
    cfg = config_from_args(args)
    json_path = Path(args.json) if args.json else None
    if json_path is not None and not json_path.parent.is_dir():
        raise UsageError(f"--json: the folder {json_path.parent} does not exist.")
    result = sweep(cfg, progress=_progress if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    print(format_table(result))
    if not args.no_plot:
        print()
        print(format_plot(result, color=sys.stdout.isatty()))
    if json_path is not None:
        json_path.write_text(json.dumps(to_json(result), indent=1) + "\n")
    return 0


def _progress(done: int, total: int) -> None:
    print(f"\rsimulating: {done}/{total} runs", end="", file=sys.stderr, flush=True)


def to_json(result) -> dict:
    cfg = result.config
    return {
        "config": {"scheduler": cfg.scheduler, "mode": cfg.mode, "objective": cfg.objective, "dim": cfg.dim,
                   "c": cfg.c, "noise": cfg.noise, "eps": cfg.eps, "max_iters": cfg.max_iters, "seed": cfg.seed,
                   "threads": cfg.threads, "persistence": cfg.persistence, "tau_max": list(cfg.taus),
                   "alphas": sorted(cfg.alphas)},
        "rules": {"delay": DEFINITION, "iterations_to_eps": MEASUREMENT_RULE, "diverged": DIVERGENCE_RULE},
        "summary": [s.to_dict() for s in result.summaries()],
        "cells": [c.to_dict() for c in result.cells],
    }


def _choice(value: str, choices, flag: str) -> str:
    if value not in choices:
        raise UsageError(f"{flag} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def _items(text: str, flag: str) -> list[str]:
    items = [v.strip() for v in str(text).split(",")]
    if not all(items):
        raise UsageError(f"{flag} needs a comma-separated list of values, got {text!r}.")
    return items


def _int(text, flag: str, minimum: int) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise UsageError(f"{flag} must be a whole number, not {text!r}.") from None
    if value < minimum:
        raise UsageError(f"{flag} must be at least {minimum}, not {value}.")
    return value


def _float(text, flag: str, allow_zero: bool = False) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise UsageError(f"{flag} must be a number, not {text!r}.") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise UsageError(f"{flag} must be a {'non-negative' if allow_zero else 'positive'} number, not {text!r}.")
    return value


def _alphas(text: str) -> tuple[float, ...]:
    if ":" in str(text):
        parts = str(text).split(":")
        if len(parts) != 3:
            raise UsageError(f"--alphas range must be LOW:HIGH:N, not {text!r}.")
        low, high = _float(parts[0], "--alphas LOW"), _float(parts[1], "--alphas HIGH")
        n = _int(parts[2], "--alphas N", 1)
        if n > 1 and not low < high:
            raise UsageError("--alphas LOW must be smaller than HIGH.")
        values = np.geomspace(low, high, n) if n > 1 else np.array([low])
        return tuple(float(v) for v in values)
    values = tuple(_float(v, "--alphas") for v in _items(text, "--alphas"))
    if len(set(values)) != len(values):
        raise UsageError("--alphas must not repeat a value.")
    return values
