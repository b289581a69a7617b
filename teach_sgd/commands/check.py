"""`teach-sgd check`: explore every interleaving of a protocol model and report what breaks.

    teach-sgd check --protocol leashed --threads 2 [--updates 2] [--persistence inf] [--json OUT] [--show]

Prints the states explored, the time, each property with the number of states that break it, then
"0 violations" or the shortest counterexample, step by step in words; --show then opens it in the app
(TraceScreen), one step per key. Bad values raise UsageError (one line,
exit status 2). Sizes are bounded so that a check finishes in minutes at most: the state space grows
exponentially with threads × updates (see benchmarks/bench_check.py).
"""
from __future__ import annotations

import json

from teach_sgd import values
from teach_sgd.errors import UsageError
from teach_sgd.output import check_writable, write_text
from teach_sgd.settings import bound_text

from teach_sgd.sim.check import PROTOCOLS, Result, check, make_model
from teach_sgd.sim.protocol import PROPERTY_TEXT
from teach_sgd.sim.versions_model import VARIANTS
from teach_sgd.tui.screens.challenge import run_trace

MAX_THREADS = {"leashed": 3, "hogwild": 4, "faa": 4}
MAX_UPDATES = 3
MAX_WORK = {"leashed": 6, "hogwild": 9, "faa": 12}   # threads × updates: leashed 3 × 2 explores 5.7 M states


def add_parser(sub) -> None:
    parser = sub.add_parser("check", help="check every interleaving of a lock-free protocol")
    parser.set_defaults(run=run)
    parser.add_argument("--protocol", required=True, help=f"one of {', '.join(PROTOCOLS)}")
    parser.add_argument("--threads", default="2", help="threads m (default 2)")
    parser.add_argument("--updates", default="1", help=f"gradients per thread, 1 to {MAX_UPDATES} (default 1)")
    parser.add_argument("--persistence", default="inf", help="Leashed-SGD's Tp: 0, 1, 2 or inf (default inf)")
    parser.add_argument("--json", default=None, metavar="OUT", help="also write the result as JSON to OUT")
    parser.add_argument("--show", action="store_true", help="then step through the counterexample in the app")


def model_from_args(args):
    protocol = values.choice(args.protocol, "--protocol", PROTOCOLS)
    family = "leashed" if protocol in VARIANTS else protocol
    threads = values.integer(args.threads, "--threads", 1, MAX_THREADS[family])
    updates = values.integer(args.updates, "--updates", 1, MAX_UPDATES)
    if threads * updates > MAX_WORK[family]:
        raise UsageError(f"--threads × --updates must be at most {MAX_WORK[family]} for {protocol} (the number of "
                         f"interleavings grows exponentially), got {threads} × {updates}")
    persistence = values.bound_or_inf(args.persistence, "--persistence", 2)
    if persistence is not None and family != "leashed":
        raise UsageError(f"--persistence is Leashed-SGD's retry bound; {protocol} has no retries")
    return make_model(protocol, threads, updates, persistence)


def run(args, _signals=None) -> int:
    model = model_from_args(args)
    if args.json:
        check_writable(args.json, "--json")
    result = check(model)
    print(format_result(result, model))
    if args.json:
        write_text(args.json, json.dumps(result.to_json(), indent=1) + "\n", "--json")
    if args.show and result.schedule:
        return run_trace(model, result)
    return 0


def format_result(result: Result, model) -> str:
    tp = bound_text(result.persistence)
    head = f"{result.protocol}: {result.threads} threads × {result.updates} updates"
    if hasattr(model, "slots"):
        head += f", Tp = {tp}, K = 2m + 1 = {model.slots} slots"
    lines = [head, f"explored {result.states:,} states in {result.seconds:.2f} s"]
    width = max(map(len, result.violations))
    for prop, count in result.violations.items():
        lines.append(f"  {prop:<{width}}  {count:>7,}  {PROPERTY_TEXT[prop]}")
    if result.interleavings is not None:
        lines.append(f"complete interleavings: {result.interleavings:,}, of which {result.losing:,} lose an update")
    if not result.broken:
        lines.append("0 violations")
        return "\n".join(lines)
    prop, why = result.broken
    lines += ["", f"shortest counterexample: {len(result.steps)} steps, breaking {prop}: {why}",
              f"(thread i's k-th gradient is g(i·{result.updates}+k) = 2^(i·{result.updates}+k); θ0 = 0, η = 1)"]
    lines += explain(result.steps)
    return "\n".join(lines)


def explain(steps) -> list[str]:
    """A counterexample step by step: number, thread, what it did, and the engine function that does it."""
    return [f"{i:>4}. thread {tr.thread}  {tr.text}   [{tr.step.source.rpartition('.')[2]}]"
            for i, tr in enumerate(steps, 1)]
