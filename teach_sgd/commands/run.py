"""`teach-sgd run` (one headless run) and `teach-sgd compare` (one run per algorithm on the same seed and data):
live progress on stderr, the summary or table on stdout, --json/--csv/--record files.

The options are RunConfig's declared settings (engine/config.py SETTINGS); they arrive as text and are parsed
by RunConfig.from_mapping: argparse here only names them.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time

from teach_sgd import report
from teach_sgd.engine.config import SETTINGS, RunConfig, repeat_count, shared_settings
from teach_sgd.engine.result import curves_csv, runs_json
from teach_sgd.engine.inputs import dataset_for, model_for
from teach_sgd.engine.runner import STOP_GRACE_S, Runner, check_memory
from teach_sgd.engine.warmup import warm_up
from teach_sgd.errors import EXIT_USAGE, OutputError, Stopped, UsageError
from teach_sgd.output import check_outputs, write_text
from teach_sgd.settings import add_options


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="one headless training run")
    _add_run_options(p, with_algo=True)
    p.set_defaults(run=run)
    p = sub.add_parser("compare", help="run several algorithms on the same seed and data")
    p.add_argument("--algos", default="lock,hogwild,leashed", help="comma-separated, e.g. lock,hogwild,leashed")
    p.add_argument("--repeat", default="1", help="run each algorithm N times, on seeds seed, seed+1, …; the "
                                                 "table shows medians and ranges (default 1)")
    _add_run_options(p, with_algo=False)
    p.set_defaults(run=run)


def _add_run_options(p: argparse.ArgumentParser, with_algo: bool) -> None:
    add_options(p, [s for s in SETTINGS.values() if with_algo or s.key != "algo"])
    p.add_argument("--no-telemetry", action="store_true", help="count updates only (to measure telemetry cost)")
    p.add_argument("--json", default=None, metavar="PATH", help="write the result as JSON")
    p.add_argument("--csv", default=None, metavar="PATH", help="write the loss curve(s) as CSV")
    if not with_algo:
        return
    p.add_argument("--record", default=None, metavar="FILE",
                   help="record the run (config, every event, snapshots at 15 Hz, result) to FILE (.npz); "
                        "watch it with `teach-sgd replay FILE`")


def _config_from(args, algo: str):
    settings = {s.key: getattr(args, s.key, None) for s in SETTINGS.values() if s.cli_flag}
    settings.update(algo=algo, telemetry=not args.no_telemetry)
    if args.command in ("compare", "present"):  # one set of options for several algorithms: each takes its own
        settings = shared_settings(settings, algo)
    elif algo == "seq" and args.threads is None:
        settings["threads"] = 1  # (`run --algo seq --threads 4` is a mistake to report, not to mend)
    return RunConfig.from_mapping(settings, source="cli")


def _algos(args) -> list[str]:
    if args.command == "run":
        return [SETTINGS["algo"].parse(args.algo or SETTINGS["algo"].default, "--algo")]
    algos = [a for a in (p.strip() for p in args.algos.split(",")) if a]
    if not algos:
        raise UsageError("--algos takes a comma-separated list of algorithms, e.g. lock,hogwild,leashed")
    return [SETTINGS["algo"].parse(a, "--algos") for a in algos]


class CompileProgress:
    """What a first run says while it compiles, on stderr: what, n of N, and the seconds so far beside the
    last compile of the same kernel on this machine (engine/compile_times.py) — a measurement, not a promise.
    On a terminal the seconds tick once a second on one line (the compile releases the GIL in LLVM often
    enough for this thread to print); elsewhere (a pipe, a log) one line when it starts and one when done."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr  # looked up now, not at import: stderr may have been replaced since
        self.live = self.stream.isatty()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self, i: int, n: int, what: str, expected_s: float | None) -> None:
        self.head = f"compiling {what} ({i} of {n}; first run only)"
        self.last = (f"; last compile on this machine: {expected_s:.0f} s" if expected_s is not None
                     else "; the first on this machine")
        self.t0 = time.perf_counter()
        if not self.live:
            print(f"{self.head}{self.last}…", file=self.stream, flush=True)
            return
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while True:
            print(f"\r{self.head}: {time.perf_counter() - self.t0:.0f} s{self.last}  ", end="", file=self.stream,
                  flush=True)
            if self._stop.wait(1.0):
                return

    def done(self, i: int, n: int, what: str, seconds: float) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None
            print(f"\r{self.head}: done in {seconds:.1f} s{' ' * len(self.last)}", file=self.stream, flush=True)
        else:
            print(f"compiled {what} in {seconds:.1f} s", file=self.stream, flush=True)


def warm_up_saying(kernels) -> None:
    """Compile (or load) these kernels before any run's clock starts, saying what compiles and for how long."""
    progress = CompileProgress()
    warm_up(sorted(set(kernels)), on_compile=progress.start, on_compiled=progress.done)


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


def _watch(runner, signals) -> None:
    """Show live progress until the run ends (after a stop signal, signals.check() raises errors.Stopped here)."""
    tty = sys.stderr.isatty()
    last_line = -1e9  # without a terminal: a line at once, then one every 5 s
    while not runner.join(0.2):
        signals.check()
        now = time.perf_counter()
        if tty:
            print("\r" + _progress_line(runner.snapshot()).ljust(100), end="", file=sys.stderr, flush=True)
        elif now - last_line >= 5:
            print(_progress_line(runner.snapshot()), file=sys.stderr, flush=True)
            last_line = now
    if tty:
        print("\r" + _progress_line(runner.snapshot()).ljust(100), file=sys.stderr, flush=True)
    signals.check()  # a signal that stopped the kernels (through signal_stop) before this loop looked


def _check_inputs(configs) -> None:
    """A data folder that cannot be read, a model that does not fit the data or the memory: all refused before
    any compile."""
    for c in configs:
        check_memory(c, model_for(c, dataset_for(c)))


def run(args, signals) -> int:
    configs = [_config_from(args, a) for a in _algos(args)]
    repeats = 1
    if args.command == "compare":
        repeats = repeat_count(args.repeat, "--repeat")
        configs = [c for config in configs for c in config.repeats(repeats)]
    record = getattr(args, "record", None)
    check_outputs([(args.json, "--json"), (args.csv, "--csv"), (record, "--record")])
    signals.setup_note = "before training started; nothing was measured"
    # The set-up runs in a helper thread while the main thread waits where a stop signal reaches it at once: the
    # data load, a kernel's cache load or compile and the Runner's first loss spend up to seconds inside single
    # C calls, and a signal that waited for one to return took 1.02 s to stop a run (bench_signals.py --busy 2)
    signals.wait_for(lambda: _check_inputs(configs))
    signals.wait_for(lambda: warm_up_saying((c.algo, c.model) for c in configs))

    results, stopped = [], None
    for config in configs:
        runner = None
        try:
            signals.check()  # a stop that came while the previous run was being finished
            runner = signals.wait_for(lambda: Runner(config))
            signals.measuring(on_stop=runner.signal_stop)  # from here on a stop keeps what was measured
            runner.start()
            _watch(runner, signals)
        except Stopped as s:
            signals.shield()
            stopped = s
            if runner is not None:
                runner.stop()
                left = runner.end_stopped()  # within a second, even if a busy machine starves the workers
                if left:
                    print(f"teach-sgd: {left} of {config.threads} threads had not seen the stop "
                          f"{STOP_GRACE_S:g} s later (the cores are busy): the run ended without them; what they "
                          "had not published is not counted", file=sys.stderr)
        if runner is not None and runner.started:
            results.append(runner.result())
        if stopped:
            break
    signals.shield()  # the files and the summary are written whole, whatever arrives now
    if not results:
        print("teach-sgd: stopped before training started; nothing was measured", file=sys.stderr)
        return signals.exit_status or EXIT_USAGE
    # the files first: they are what a script or a grader keeps, whatever happens to the terminal after. One that
    # cannot be written (a disk that filled up) is rescued elsewhere (output.write_text); the others and the
    # summary are still written, and its one line comes last
    writes = []
    if args.json:
        text = results[0].json_text() if args.command == "run" else runs_json(results)
        writes.append(lambda: write_text(args.json, text, "--json"))
    if args.csv:
        writes.append(lambda: write_text(args.csv, curves_csv(results), "--csv"))
    if record and runner is not None:
        writes.append(lambda: runner.save_recording(record))
    failed: list[OutputError] = []
    for write in writes:
        try:
            print(f"wrote {write()}", file=sys.stderr)
        except OutputError as e:
            failed.append(e)
    if args.command == "run":
        print(report.run_summary(results[0]))
    else:
        print(report.compare_table(results) if repeats == 1 else report.repeat_table(results))
    if stopped:
        print(f"teach-sgd: stopped by {stopped}: the threads were stopped; the numbers above are what was "
              "measured so far", file=sys.stderr)
    for e in failed[:-1]:
        print(f"teach-sgd: {e}", file=sys.stderr)
    if failed:
        raise failed[-1]
    return signals.exit_status or 0
