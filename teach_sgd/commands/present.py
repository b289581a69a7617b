"""`teach-sgd present [OPTIONS]`: the presenter view (tui/screens/present.py) on live runs — compare's options,
one run per algorithm (1 to 3), side by side — or on a recording with --replay FILE."""
from __future__ import annotations

from teach_sgd.commands.run import _add_run_options, _algos, _config_from, warm_up_saying
from teach_sgd.engine.config import ALGO_NAMES
from teach_sgd.engine.recording import load
from teach_sgd.engine.inputs import dataset_for, model_for
from teach_sgd.engine.runner import WORKER_NICE, Runner, check_memory
from teach_sgd.errors import UsageError
from teach_sgd.replay import ReplaySource
from teach_sgd.tui.app import launch
from teach_sgd.tui.screens.present import PresenterScreen, replay_sources


def add_parser(sub) -> None:
    p = sub.add_parser("present", help="the presenter view (projector): runs side by side, big numbers")
    p.add_argument("--algos", default="hogwild,leashed", help="comma-separated, 1 to 3 (default hogwild,leashed)")
    p.add_argument("--replay", default=None, metavar="FILE", help="present a recording instead of live runs")
    _add_run_options(p, with_algo=False)
    p.set_defaults(run=run)


def run(args, signals=None) -> int:
    if args.json or args.csv:
        raise UsageError("present writes no files: use `teach-sgd compare` with the same options and --json/--csv")
    if args.replay:
        source = ReplaySource(load(args.replay))
        source.clock.toggle()  # playing from the start
        return launch(lessons_dir=args.lessons, opening=lambda: PresenterScreen(replay_sources(source)),
                      signals=signals)
    configs = [_config_from(args, a) for a in _algos(args)]
    if not 1 <= len(configs) <= 3:
        raise UsageError("present shows 1 to 3 runs: give --algos with at most 3, e.g. hogwild,leashed")
    for c in configs:  # a data folder that cannot be read, or a run that cannot fit, fails before any compile
        check_memory(c, model_for(c, dataset_for(c)))
    warm_up_saying((c.algo, c.model) for c in configs)
    runners = [Runner(c, WORKER_NICE) for c in configs]  # a screen's workers: the UI thread comes first (runner.py)
    return launch(lessons_dir=args.lessons, opening=lambda: PresenterScreen(
        [(f"{ALGO_NAMES[r.config.algo]} ×{r.config.threads}", r) for r in runners], owns=True), signals=signals)
