"""`teach-sgd`: the command line.

    teach-sgd                      open the app (the lesson menu) in this terminal
    teach-sgd lesson ID            open the app at one lesson
    teach-sgd lessons              list lessons
    teach-sgd run [OPTIONS]        one headless run: live progress on stderr, summary on stdout
    teach-sgd compare --algos A,B  the same options, one run per algorithm on the same seed and data
    teach-sgd simulate [OPTIONS]   the asynchrony simulator, headless
    teach-sgd serve                the app in a browser on localhost (classroom projector)

Options arrive as text and are parsed by the configurations themselves (RunConfig.from_mapping,
SweepConfig.from_mapping): argparse here only names them. Exit statuses are in teach_sgd/errors.py.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from teach_sgd.errors import EXIT_BROKEN_PIPE, EXIT_USAGE, Stopped, UsageError

FIRST_RUN_S = 18  # measured by benchmarks/bench_first_start.py on a quiet 2-core machine (README says the same)

EPILOG = """\
With no command, teach-sgd opens the app (lessons, playground, compare, simulator) in this terminal.

exit status: 0 done · 2 bad input (an option, a lesson file, a data folder, an output path) · 130 Ctrl-C ·
143 SIGTERM · 129 SIGHUP. A stopped run still prints its summary and writes --json/--csv."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of argparse's usage block
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# (flag, RunConfig key, help); every value is parsed by RunConfig.from_mapping
RUN_OPTIONS = (
    ("--threads", "threads", "worker threads m (default 2; seq always uses 1)"),
    ("--model", "model", "mlp or cnn (default mlp)"),
    ("--hidden", "hidden", "MLP hidden widths, e.g. 128,128 (default 128); the CNN's FC width"),
    ("--dataset", "dataset", "mnist (the bundled 5,000 digits) or synthetic (default mnist)"),
    ("--data-dir", "data_dir", "a folder with MNIST-format IDX files (full MNIST, Fashion-MNIST)"),
    ("--lr", "lr", "step size η (default 0.05)"),
    ("--batch", "batch", "mini-batch size (default 16)"),
    ("--persistence", "persistence", "Leashed-SGD's persistence bound Tp: 0, 1, 2, … or inf (default inf)"),
    ("--target-loss", "target_loss", "stop once loss ≤ FRACTION × initial loss; the time is recorded"),
    ("--seed", "seed", "seed for the initial model, the batch order and the synthetic data (default 0)"),
    ("--init", "init", "weight init: paper or he (default: the model's)"),
    ("--writes", "writes", "HOGWILD!'s writes: dense (every coordinate) or sparse (only non-zero gradient "
                           "coordinates, Niu et al.); compare applies it to hogwild only (default dense)"),
    ("--step", "step", "step-size rule for lock, hogwild, leashed: none, inverse, tail (TAIL-τ) or fleet; "
                       "compare applies it to those only (default none)"),
    ("--stretch", "stretch", "slow motion, 1 to 1000 (default 1): every compute and publish window sleeps "
                             "(stretch − 1) × its own time inside itself, so their ratio and the races stay"),
)
BUDGETS = (("--updates", "updates", "published updates (default 2000)"),
           ("--seconds", "seconds", "run time in seconds"),
           ("--epochs", "epochs", "passes over the training set"))


def _add_run_options(p: argparse.ArgumentParser, with_algo: bool) -> None:
    from teach_sgd.engine.config import ALGOS

    if with_algo:
        p.add_argument("--algo", help=f"one of {', '.join(ALGOS)} (default leashed)")
    for flag, key, text in RUN_OPTIONS:
        p.add_argument(flag, dest=key, help=text)
    budget = p.add_mutually_exclusive_group()
    for flag, key, text in BUDGETS:
        budget.add_argument(flag, dest=key, help=text)
    p.add_argument("--no-telemetry", action="store_true", help="count updates only (to measure telemetry cost)")
    p.add_argument("--json", default=None, metavar="PATH", help="write the result as JSON")
    p.add_argument("--csv", default=None, metavar="PATH", help="write the loss curve(s) as CSV")
    if not with_algo:
        return
    p.add_argument("--record", default=None, metavar="FILE",
                   help="record the run (config, every event, snapshots at 15 Hz, result) to FILE (.npz); "
                        "watch it with `teach-sgd replay FILE`")


def build_parser() -> argparse.ArgumentParser:
    from teach_sgd.sim import cli as sim_cli

    parser = _Parser(prog="teach-sgd", description="Watch real threads race through asynchronous SGD.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lessons", default=None, metavar="DIR", help="load lessons from DIR too")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    p = sub.add_parser("run", help="one headless training run")
    _add_run_options(p, with_algo=True)
    p = sub.add_parser("compare", help="run several algorithms on the same seed and data")
    p.add_argument("--algos", default="lock,hogwild,leashed", help="comma-separated, e.g. lock,hogwild,leashed")
    p.add_argument("--repeat", default="1", help="run each algorithm N times, on seeds seed, seed+1, …; the "
                                                 "table shows medians and ranges (default 1)")
    _add_run_options(p, with_algo=False)
    p = sub.add_parser("simulate", help="the asynchrony simulator (Alistarh, De Sa, Konstantinov), headless")
    sim_cli.add_arguments(p)
    p = sub.add_parser("replay", help="replay a recording in the app, or export it headless")
    p.add_argument("file", metavar="FILE", help="a recording made with `run --record` or R in the app")
    p.add_argument("--json", default=None, metavar="PATH", help="write the recorded result (as run --json did)")
    p.add_argument("--csv", default=None, metavar="PATH", help="write every recorded event as CSV")
    p.add_argument("--svg", default=None, metavar="PATH", help="write the recording's timeline as SVG")
    sub.add_parser("lessons", help="list the lessons")
    p = sub.add_parser("lesson", help="open the app at one lesson")
    p.add_argument("id")
    p = sub.add_parser("serve", help="serve the app to a browser on localhost")
    p.add_argument("--port", default="8000")
    from teach_sgd.sim import check_cli
    check_cli.add_arguments(sub.add_parser("check", help="check every interleaving of a lock-free protocol"))
    sub.add_parser("challenges", help="list the scheduler challenges and your best scores")
    return parser


# ---- run / compare --------------------------------------------------------------------------------
def _config_from(args, algo: str):
    from teach_sgd.engine.config import RunConfig, shared_settings

    settings = {key: getattr(args, key) for _, key, _ in RUN_OPTIONS + BUDGETS}
    settings.update(algo=algo, telemetry=not args.no_telemetry)
    if args.command == "compare":  # one set of options for several algorithms: each takes what applies to it
        settings = shared_settings(settings, algo)
    elif algo == "seq" and args.threads is None:
        settings["threads"] = 1  # (`run --algo seq --threads 4` is a mistake to report, not to mend)
    return RunConfig.from_mapping(settings, source="cli")


def _algos(args) -> list[str]:
    from teach_sgd.engine.config import FIELDS

    if args.command == "run":
        return [FIELDS["algo"](args.algo or "leashed", "--algo")]
    algos = [a for a in (p.strip() for p in args.algos.split(",")) if a]
    if not algos:
        raise UsageError("--algos takes a comma-separated list of algorithms, e.g. lock,hogwild,leashed")
    return [FIELDS["algo"](a, "--algos") for a in algos]


def _say_compiling(i: int, n: int, what: str) -> None:
    print(f"compiling {what} ({i} of {n}; first run only, about {FIRST_RUN_S} s on 2 cores)…",
          file=sys.stderr, flush=True)


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


def _watch(runner) -> None:
    """Show live progress until the run ends (a stop signal raises errors.Stopped out of here)."""
    tty = sys.stderr.isatty()
    last_line = -1e9  # without a terminal: a line at once, then one every 5 s
    while not runner.join(0.2):
        now = time.perf_counter()
        if tty:
            print("\r" + _progress_line(runner.snapshot()).ljust(100), end="", file=sys.stderr, flush=True)
        elif now - last_line >= 5:
            print(_progress_line(runner.snapshot()), file=sys.stderr, flush=True)
            last_line = now
    if tty:
        print("\r" + _progress_line(runner.snapshot()).ljust(100), file=sys.stderr, flush=True)


def cmd_run(args, signals) -> int:
    from teach_sgd import report
    from teach_sgd.engine.result import curves_csv, runs_json
    from teach_sgd.engine.runner import Runner, dataset_for, model_for
    from teach_sgd.engine.warmup import warm_up
    from teach_sgd.output import check_writable, write_text

    configs = [_config_from(args, a) for a in _algos(args)]
    repeats = 1
    if args.command == "compare":
        from teach_sgd.engine.config import repeat_count
        repeats = repeat_count(args.repeat, "--repeat")
        configs = [c for config in configs for c in config.repeats(repeats)]
    record = getattr(args, "record", None)
    outputs = [(path, label) for path, label in ((args.json, "--json"), (args.csv, "--csv"),
                                                  (record, "--record")) if path]
    for path, label in outputs:
        check_writable(path, label)
    for c in configs:  # a data folder that cannot be read, or does not fit the model, fails before any compile
        model_for(c, dataset_for(c))
    warm_up(sorted({(c.algo, c.model) for c in configs}), on_compile=_say_compiling)

    results, stopped = [], None
    for config in configs:
        runner = None
        try:
            runner = Runner(config)
            runner.start()
            _watch(runner)
        except Stopped as s:
            signals.shield()
            stopped = s
            if runner is not None:
                runner.stop()
                runner.join()
        if runner is not None and runner.started:
            results.append(runner.result())
        if stopped:
            break
    signals.shield()  # the summary and the files are written whole, whatever arrives now
    if not results:
        print("teach-sgd: stopped before training started; nothing was measured", file=sys.stderr)
        return signals.exit_status or EXIT_USAGE
    if args.command == "run":
        print(report.run_summary(results[0]))
    else:
        print(report.compare_table(results) if repeats == 1 else report.repeat_table(results))
    if args.json:
        text = results[0].json_text() if args.command == "run" else runs_json(results)
        print(f"wrote {write_text(args.json, text, '--json')}", file=sys.stderr)
    if args.csv:
        print(f"wrote {write_text(args.csv, curves_csv(results), '--csv')}", file=sys.stderr)
    if record and runner is not None:
        print(f"wrote {runner.save_recording(record)}", file=sys.stderr)
    if stopped:
        print(f"teach-sgd: stopped by {stopped}: the threads were stopped; the numbers above are what was "
              "measured so far", file=sys.stderr)
    return signals.exit_status or 0


def main(argv: list[str] | None = None) -> int:
    from teach_sgd.signals import StopSignals

    with StopSignals() as signals:
        try:
            args = build_parser().parse_args(argv)
            if args.command in ("run", "compare"):
                return cmd_run(args, signals)
            if args.command == "replay":
                from teach_sgd.replay import cmd_replay
                return cmd_replay(args)
            if args.command == "simulate":
                from teach_sgd.sim import cli as sim_cli
                return sim_cli.run(args)
            if args.command == "challenges":
                from teach_sgd.sim.challenges.cli import list_challenges
                return list_challenges(args)
            if args.command == "check":
                from teach_sgd.sim import check_cli
                return check_cli.run(args)
            if args.command == "lessons":
                from teach_sgd.lessons.cli import list_lessons
                return list_lessons(args)
            if args.command in (None, "lesson"):
                from teach_sgd.tui.app import launch
                return launch(lessons_dir=args.lessons, lesson_id=getattr(args, "id", None))
            if args.command == "serve":
                from teach_sgd.tui.serve import serve
                return serve(port=args.port, lessons_dir=args.lessons)
        except UsageError as e:
            print(f"teach-sgd: {e}", file=sys.stderr)
            return EXIT_USAGE
        except Stopped as s:
            print(f"teach-sgd: stopped by {s}", file=sys.stderr)
            return s.exit_status
        except BrokenPipeError:  # `teach-sgd … | head` closed the pipe: stop quietly, as a shell tool does
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            return EXIT_BROKEN_PIPE
    return 0


if __name__ == "__main__":
    # `python -m teach_sgd.cli`: run the imported module's main, so that the module's names are the ones
    # the rest of the package imports, not __main__'s copies
    from teach_sgd.cli import main as _main

    sys.exit(_main())
