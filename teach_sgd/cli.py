"""`teach-sgd`: the command line (DESIGN.md, "CLI contract").

    teach-sgd                      open the TUI at the lesson menu
    teach-sgd lesson ID            open the TUI at one lesson
    teach-sgd lessons              list lessons
    teach-sgd run [OPTIONS]        one headless run: live progress on stderr, summary on stdout
    teach-sgd compare --algos A,B  the same options, one run per algorithm on the same seed and data
    teach-sgd simulate [OPTIONS]   the asynchrony simulator, headless
    teach-sgd serve                the TUI in a browser on localhost (classroom projector)

Every bad value ends in one line on stderr and exit status 2; Ctrl-C stops the threads and still prints
and writes what was measured (exit status 130).
"""
from __future__ import annotations

import argparse
import math
import sys
import threading
import time

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of argparse's usage block
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# ---- option types ---------------------------------------------------------------------------------
def _int(low=None, high=None):
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if (low is not None and v < low) or (high is not None and v > high):
            rng = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {rng}, got {v}")
        return v
    return parse


def _positive_float():
    def parse(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not (math.isfinite(v) and v > 0):
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
        return v
    return parse


def _hidden(text):
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes comma-separated widths like 128,64, got {text!r}") from None
    return widths


def _persistence(text):
    from teach_sgd.engine.config import ConfigError, parse_persistence
    try:
        return parse_persistence(text)
    except ConfigError:
        raise argparse.ArgumentTypeError(f"must be 0, 1, 2, … or inf, got {text!r}") from None


def _fraction(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a fraction like 0.25, got {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(
            f"is a fraction of the initial loss between 0 and 1 (e.g. 0.25), got {text!r}")
    return v


def _add_run_options(p: argparse.ArgumentParser, with_algo: bool) -> None:
    from teach_sgd.engine.config import ALGOS, DATASETS, MAX_THREADS, MODELS

    if with_algo:
        p.add_argument("--algo", default="leashed", choices=ALGOS,
                       help="algorithm (default: leashed)")
    p.add_argument("--threads", type=_int(1, MAX_THREADS), default=None,
                   help="worker threads m (default: 2; seq always uses 1)")
    p.add_argument("--model", default="mlp", choices=MODELS)
    p.add_argument("--hidden", type=_hidden, default=(128,), help="MLP hidden widths, e.g. 128,128")
    p.add_argument("--dataset", default="mnist", choices=DATASETS)
    p.add_argument("--data-dir", default=None, help="folder with MNIST-format IDX files (full MNIST, Fashion-MNIST)")
    p.add_argument("--lr", type=_positive_float(), default=0.05, help="step size η (default 0.05)")
    p.add_argument("--batch", type=_int(1, 1024), default=16)
    p.add_argument("--persistence", type=_persistence, default=None,
                   help="Leashed-SGD persistence bound Tp: 0, 1, 2, … or inf (default inf)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--updates", type=_int(1), default=None, help="published updates (default 2000)")
    budget.add_argument("--seconds", type=_positive_float(), default=None)
    budget.add_argument("--epochs", type=_positive_float(), default=None)
    p.add_argument("--target-loss", type=_fraction, default=None, metavar="FRACTION",
                   help="stop once loss ≤ FRACTION × initial loss; the time is recorded")
    p.add_argument("--seed", type=_int(0), default=0)
    p.add_argument("--init", choices=["paper", "he"], default=None, help="weight init (default: the model's)")
    p.add_argument("--no-telemetry", action="store_true", help="count updates only (to measure telemetry cost)")
    p.add_argument("--json", default=None, metavar="PATH", help="write the result as JSON")
    p.add_argument("--csv", default=None, metavar="PATH", help="write the loss curve(s) as CSV")


def build_parser() -> argparse.ArgumentParser:
    from teach_sgd.sim import cli as sim_cli

    parser = _Parser(prog="teach-sgd", description="Watch real threads race through asynchronous SGD.")
    parser.add_argument("--lessons", default=None, metavar="DIR", help="load lessons from DIR too")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    p = sub.add_parser("run", help="one headless training run")
    _add_run_options(p, with_algo=True)
    p = sub.add_parser("compare", help="run several algorithms on the same seed and data")
    p.add_argument("--algos", default="lock,hogwild,leashed", help="comma-separated, e.g. lock,hogwild,leashed")
    _add_run_options(p, with_algo=False)
    p = sub.add_parser("simulate", help="the asynchrony simulator (Alistarh, De Sa, Konstantinov), headless")
    sim_cli.add_arguments(p)
    p = sub.add_parser("lessons", help="list the lessons")
    p = sub.add_parser("lesson", help="open the TUI at one lesson")
    p.add_argument("id")
    p = sub.add_parser("serve", help="serve the TUI to a browser on localhost")
    p.add_argument("--port", type=_int(1, 65535), default=8000)
    return parser


# ---- run / compare --------------------------------------------------------------------------------
def _config_from(args, algo: str):
    from teach_sgd.engine.config import RunConfig

    threads = args.threads
    if threads is None:
        threads = 1 if algo == "seq" else 2
    elif algo == "seq" and getattr(args, "command", "") == "compare":
        threads = 1  # compare runs seq as the one-thread baseline beside the parallel ones
    return RunConfig(
        algo=algo, threads=threads, model=args.model, hidden=tuple(args.hidden),
        dataset=args.dataset, data_dir=args.data_dir, lr=args.lr, batch=args.batch,
        persistence=args.persistence, updates=args.updates, seconds=args.seconds, epochs=args.epochs,
        target_loss=args.target_loss, seed=args.seed, init=args.init, telemetry=not args.no_telemetry,
    ).budget().validate()


def _warm_up(algos) -> None:
    """Compile kernels before the clock starts; say so if it takes a while (first run only)."""
    from teach_sgd.engine.runner import warm_up

    done = threading.Event()

    def announce():
        if not done.wait(0.5):
            print("compiling kernels (first run only, about 20–40 s)…", file=sys.stderr, flush=True)

    threading.Thread(target=announce, daemon=True).start()
    warm_up(tuple(algos))
    done.set()


def _progress_line(snap) -> str:
    c = snap.config
    budget = f"/{c.updates:,}" if c.updates else ""
    v = snap.versions
    fails = sum(t.cas_fail for t in snap.threads)
    line = (f"[{c.algo} ×{c.threads}] {snap.updates:,}{budget} updates  {snap.updates_per_s:,.0f}/s  "
            f"loss {snap.loss:.4f}  τ̄ {snap.staleness_mean:.2f}")
    if c.algo == "leashed":
        line += f"  cas-fail {fails:,}  versions {v.live}/{v.bound}"
    return line


def _watch(runner) -> bool:
    """Show live progress until the run ends; returns False if Ctrl-C stopped it."""
    tty = sys.stderr.isatty()
    last_line = -math.inf  # without a terminal: a line at once, then one every 5 s
    try:
        while not runner.join(0.2):
            now = time.perf_counter()
            if tty:
                print("\r" + _progress_line(runner.snapshot()).ljust(100), end="", file=sys.stderr, flush=True)
            elif now - last_line >= 5:
                print(_progress_line(runner.snapshot()), file=sys.stderr, flush=True)
                last_line = now
        interrupted = False
    except KeyboardInterrupt:
        runner.stop()
        runner.join()
        interrupted = True
    if tty:
        print("\r" + _progress_line(runner.snapshot()).ljust(100), file=sys.stderr, flush=True)
    return not interrupted


def _write_outputs(args, results) -> None:
    from teach_sgd.engine.result import write_curves_csv
    import json

    if args.json:
        if args.command == "run":
            results[0].write_json(args.json)
        else:
            with open(args.json, "w") as f:
                json.dump({"runs": [r.to_json() for r in results]}, f, indent=2)
                f.write("\n")
        print(f"wrote {args.json}", file=sys.stderr)
    if args.csv:
        write_curves_csv(results, args.csv)
        print(f"wrote {args.csv}", file=sys.stderr)


def _check_writable(args) -> None:
    """Fail before training, not after, if an output path cannot be written."""
    import os

    for path in (args.json, args.csv):
        if path:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise UsageError(f"cannot write {path}: folder {folder} does not exist")
            if not os.access(folder, os.W_OK):
                raise UsageError(f"cannot write {path}: folder {folder} is not writable")


def cmd_run(args, algos) -> int:
    from teach_sgd.engine.runner import Runner
    from teach_sgd import report

    configs = [_config_from(args, a) for a in algos]
    _check_writable(args)
    runners = [Runner(c) for c in configs]  # loads data and validates everything before any compile
    _warm_up(sorted(set(algos)))
    results = []
    completed = True
    for runner in runners:
        runner.start()
        completed = _watch(runner)
        results.append(runner.result())
        if not completed:
            break
    if args.command == "run":
        print(report.run_summary(results[0]))
    else:
        print(report.compare_table(results))
    _write_outputs(args, results)
    if not completed:
        print("interrupted: the threads were stopped; the numbers above are what was measured so far",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _algos(text: str) -> list[str]:
    from teach_sgd.engine.config import ALGOS

    algos = [a.strip() for a in text.split(",") if a.strip()]
    bad = [a for a in algos if a not in ALGOS]
    if not algos or bad:
        raise UsageError(f"--algos takes a comma-separated list of {', '.join(ALGOS)}, got {text!r}")
    return algos


def main(argv: list[str] | None = None) -> int:
    from teach_sgd.engine.config import ConfigError
    from teach_sgd.data import DataError
    from teach_sgd.sim.cli import UsageError as SimUsageError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "run":
            return cmd_run(args, [args.algo])
        if args.command == "compare":
            return cmd_run(args, _algos(args.algos))
        if args.command == "simulate":
            from teach_sgd.sim import cli as sim_cli
            return sim_cli.run(args)
        if args.command == "lessons":
            from teach_sgd.lessons.cli import list_lessons
            return list_lessons(args)
        if args.command in (None, "lesson"):
            from teach_sgd.tui.app import launch
            return launch(lessons_dir=args.lessons, lesson_id=getattr(args, "id", None))
        if args.command == "serve":
            from teach_sgd.tui.serve import serve
            return serve(port=args.port, lessons_dir=args.lessons)
    except (UsageError, ConfigError, DataError, SimUsageError) as e:
        print(f"teach-sgd: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("teach-sgd: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    # `python -m teach_sgd.cli`: run the imported module's main, so that errors raised as
    # teach_sgd.cli.UsageError (e.g. by teach_sgd.lessons.cli) are the class main() catches, not __main__'s copy
    from teach_sgd.cli import main as _main

    sys.exit(_main())
