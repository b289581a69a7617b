"""`teach-sgd check`: explore every interleaving of a protocol model and report what breaks.

    teach-sgd check --protocol leashed-untagged [--threads 2] [--updates N] [--persistence inf] [--json OUT] [--show]

Prints the states explored, the time, each property with the number of states (or steps) that break it, then
"0 violations" or the shortest counterexample, step by step in words; --show then opens it in the app
(TraceScreen), one step per key. The options are CheckConfig's declared settings (sim/check.py); the default
size is the one at which each broken variant breaks. Exit status: 0 nothing broken, 1 a property broken
(EXIT_VIOLATION), 2 bad input.
"""
from __future__ import annotations

import sys

from teach_sgd.commands.configured import add_configured, configured, write_json
from teach_sgd.errors import EXIT_VIOLATION
from teach_sgd.settings import bound_text
from teach_sgd.sim.check import CHECK_SETTINGS, CheckConfig, Result, check
from teach_sgd.sim.protocol import PROPERTY_TEXT, STEP_PROPERTIES
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.challenge import TraceScreen


def add_parser(sub) -> None:
    parser = add_configured(sub, "check", CHECK_SETTINGS, run, "also write the result as JSON to OUT",
                            help="check every interleaving of a lock-free protocol",
                            epilog="exit status: 0 no property broken · 1 a property broken (the counterexample "
                                   "is printed) · 2 bad input")
    parser.add_argument("--show", action="store_true", help="then step through the counterexample in the app")


def run(args, _signals=None) -> int:
    model = configured(args, CheckConfig, CHECK_SETTINGS).make_model()
    result = check(model)
    print(format_result(result, model))
    write_json(args, result.to_json())
    if args.show:
        if result.schedule:
            trace_app(model, result).run()
        else:
            print("teach-sgd: --show has nothing to show: no property is broken, so there is no counterexample",
                  file=sys.stderr)
    return EXIT_VIOLATION if result.broken else 0


def trace_app(model, result: Result) -> TeachSGDApp:
    """The app at the counterexample (`--show`), one step per key; Escape leaves it at home."""

    class TraceApp(TeachSGDApp):
        def on_mount(self) -> None:
            super().on_mount()
            self.push_screen(TraceScreen(model, result.schedule, result.broken))

    return TraceApp(lessons=[], warm_kernels=False)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def format_result(result: Result, model) -> str:
    head = (f"{result.protocol}: {plural(result.threads, 'thread')} × "
            f"{plural(result.updates, 'gradient')} each")
    if hasattr(model, "slots"):
        head += f", Tp = {bound_text(result.persistence)}, K = 2m + 1 = {plural(model.slots, 'slot')}"
    lines = [head, f"explored {plural(result.states, 'state')} in {result.seconds:.2f} s"]
    width = max(map(len, result.violations))
    digits = max(len(f"{count:,}") for count in result.violations.values())
    for prop, count in result.violations.items():
        unit = "step" if prop in STEP_PROPERTIES else "state"
        lines.append(f"  {prop:<{width}}  broken in {count:>{digits},} {unit + ('' if count == 1 else 's'):<6}  "
                     f"{PROPERTY_TEXT[prop]}")
    if result.interleavings is not None:
        lines.append(f"{plural(result.interleavings, 'complete interleaving')}, of which {result.losing:,} "
                     f"lose{'s' if result.losing == 1 else ''} an update")
    if not result.broken:
        lines.append("0 violations")
        return "\n".join(lines)
    prop, why = result.broken
    lines += ["", f"shortest counterexample: {plural(len(result.steps), 'step')}, breaking {prop}: {why}",
              f"(thread i's k-th gradient is g(i·{result.updates}+k) = 2^(i·{result.updates}+k); θ0 = 0, η = 1)"]
    lines += explain(result.steps)
    return "\n".join(lines)


def explain(steps) -> list[str]:
    """A counterexample step by step: number, thread, what it did, and the engine function that does it."""
    return [f"{i:>4}. thread {tr.thread}  {tr.text}   [{tr.step.source.rpartition('.')[2]}]"
            for i, tr in enumerate(steps, 1)]
