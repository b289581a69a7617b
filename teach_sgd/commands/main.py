"""`teach-sgd`: the command line.

    teach-sgd                      open the app (the lesson menu) in this terminal
    teach-sgd lesson ID            open the app at one lesson
    teach-sgd lessons              list lessons
    teach-sgd run [OPTIONS]        one headless run: live progress on stderr, summary on stdout
    teach-sgd compare --algos A,B  the same options, one run per algorithm on the same seed and data
    teach-sgd simulate [OPTIONS]   the asynchrony simulator, headless
    teach-sgd check --protocol P   every interleaving of a protocol model
    teach-sgd replay FILE          a recording, in the app or exported headless
    teach-sgd serve                the app in a browser on localhost (classroom projector)
    teach-sgd challenges           the scheduler challenges and your best scores
    teach-sgd present [OPTIONS]    the presenter view (projector): compare's options, big numbers, high contrast
    teach-sgd class host|send|export|show   a class session
    teach-sgd --class HOST:PORT CODE        join a class as a student

Each command lives in its own module of this package (commands() below). Exit statuses are in teach_sgd/errors.py.

Stop signals are caught from the first moment: main() installs them (teach_sgd/signals.py) before it imports
the command modules, which bring in numba, the engine and the app (one to two seconds), so a Ctrl-C, SIGTERM or
SIGHUP during that import ends as cleanly as one during a run. Output is encoded for the terminal, whatever its
encoding (teach_sgd/terminal.py).
"""
from __future__ import annotations

import argparse
import os
import sys

from teach_sgd.errors import EXIT_BROKEN_PIPE, EXIT_USAGE, Stopped, UsageError
from teach_sgd.signals import StopSignals
from teach_sgd.terminal import encode_for_terminal

EPILOG = """\
With no command, teach-sgd opens the app (lessons, playground, compare, simulator) in this terminal.

exit status: 0 done · 1 check found a property broken · 2 bad input (an option, a lesson file, a data folder,
an output path) · 130 Ctrl-C · 143 SIGTERM · 129 SIGHUP. A stopped run still writes --json/--csv and prints its
summary; a second signal while it does so is noted, a third exits at once (files are replaced whole, never cut)."""


def commands() -> tuple:
    """The command modules, in the order --help lists them, and the app (no command). Imported here, not at the
    top of this module, so that main() has its stop signals in place first (see above)."""
    from . import app, challenges, check, classroom, lessons, present, replay, run, serve, simulate

    return (run, simulate, replay, lessons, serve, present, classroom, check, challenges), app, classroom


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of argparse's usage block
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="teach-sgd", description="Watch real threads race through asynchronous SGD.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lessons", default=None, metavar="DIR", help="load lessons from DIR too")
    listed, app, classroom = commands()
    classroom.add_join_arguments(parser)
    parser.set_defaults(run=app.run)  # no command: the app
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for command in listed:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    encode_for_terminal()
    with StopSignals() as signals:
        try:
            args = build_parser().parse_args(argv)
            return args.run(args, signals)
        except UsageError as e:
            print(f"teach-sgd: {e}", file=sys.stderr)
            return EXIT_USAGE
        except Stopped as s:
            print(f"teach-sgd: stopped by {s}", file=sys.stderr)
            return s.exit_status
        except BrokenPipeError:  # `teach-sgd … | head` closed the pipe: stop quietly, as a shell tool does
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            return EXIT_BROKEN_PIPE


def entry() -> None:
    """The `teach-sgd` program (and `python -m teach_sgd.commands`): main(), then exit without tearing the
    interpreter down. Everything the command produced is written (files atomically, before this) and flushed
    here; what a normal exit would add is only the teardown of numba's and LLVM's modules, which took 0.7–1.6 s
    on a loaded 2-core machine and so made a stopped run end seconds after its signal."""
    status = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            pass
    os._exit(status or 0)
