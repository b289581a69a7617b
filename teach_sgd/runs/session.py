"""RunSession: what the Playground (one run) and the Compare screen (runs A and B) hold of the domain, as a plain
class tested without a terminal (tests/test_run_session.py). The screens lay out widgets, bind keys and draw.

    session = RunSession()
    for r in session.replace(): r.join(2.0)        # the runs before, stopped: the screen joins them in a thread
    show_now = session.begin(runners, sequential)  # the Runners the UI built (tui/runs.py compiles the kernels)
    session.toggle_pause(); session.stop(); session.step_stretch(+1)
    next_run = session.ended(runner, result)       # a run's RunResult; sequential: B's turn
    session.export(folder, session.export_stem(), svg)
    record_runs(session.ended_runners(), folder, session.record_stem())   # R, in a thread

A run's state (running, paused, its numbers) is the Runner's own: the session keeps which runs are current, their
results once ended, and what the keys do to them.
"""
from __future__ import annotations

from pathlib import Path

from teach_sgd.engine.result import curves_csv, runs_json
from teach_sgd.output import fresh_paths, write_new

STRETCHES = (1, 10, 100, 1000)  # slow motion's steps, as > and < walk them (live runs and the presenter view)


def next_stretch(now: int, step: int) -> int:
    """The stretch one step (1: slower, -1: faster) from the step nearest to `now`, kept within STRETCHES."""
    i = min(range(len(STRETCHES)), key=lambda k: abs(STRETCHES[k] - now)) + step
    return STRETCHES[min(max(i, 0), len(STRETCHES) - 1)]


def stop_runner(runner) -> None:
    """Ask `runner` to stop, if there is one and it has not ended. (Parked threads of a paused run see the
    stop flag within a millisecond; resuming first just closes the pause in the run's clock.)"""
    if runner is not None and not runner.done:
        runner.resume()
        runner.stop()


def record_runs(runners, directory: Path, stem: str) -> list[Path]:
    """R: each ended run as a recording, <stem>.npz (several runs: <stem>-A.npz, <stem>-B.npz, …); returns the
    paths. Slow for a long run (its events are compressed): call it from a thread."""
    suffixes = [".npz"] if len(runners) == 1 else [f"-{chr(65 + i)}.npz" for i in range(len(runners))]
    paths = fresh_paths(directory, stem, suffixes)
    return [runner.save_recording(path, label="R") for runner, path in zip(runners, paths)]


class RunSession:
    def __init__(self) -> None:
        self.runners: list = []   # the current runs, in the screen's order (A, B)
        self.results: list = []   # their RunResults, None until each has ended

    # ---- starting -------------------------------------------------------------------------------------
    def replace(self) -> list:
        """Stop the current runs before new ones start; returns those the caller should join (off the UI
        thread). Until begin() the session has no runs: nothing to pause, export or record."""
        old = [r for r in self.runners if r is not None and not r.done]
        for r in old:
            stop_runner(r)
        self.runners, self.results = [], []
        return old

    def begin(self, runners: list, sequential: bool = False) -> list:
        """Make `runners` (built, not started) the current runs; returns those to start and show now: all of
        them, or with `sequential` only the first (ended() hands over the next)."""
        self.runners = list(runners)
        self.results = [None] * len(self.runners)
        return self.runners[:1] if sequential else list(self.runners)

    def ended(self, runner, result):
        """`runner` has ended with `result`; returns the next run to start (sequential schedule), or None.
        A runner that is not current (an old run's late result) changes nothing."""
        if runner not in self.runners:
            return None
        i = self.runners.index(runner)
        self.results[i] = result
        later = [r for r in self.runners[i + 1:] if not r.started]
        return later[0] if later else None

    # ---- what the status line and the keys read -------------------------------------------------------
    @property
    def active(self) -> bool:
        """A run is current and not all have ended: pause, stop and slow motion act."""
        return bool(self.runners) and not self.has_results

    @property
    def has_results(self) -> bool:
        """Every current run has ended: export and record act."""
        return bool(self.results) and all(r is not None for r in self.results)

    def live(self) -> list:
        """The runs whose threads are running (or parked) now."""
        return [r for r in self.runners if r.started and not r.done]

    @property
    def paused(self) -> bool:
        return any(r.paused for r in self.live())

    def ended_runners(self) -> list:
        return list(self.runners) if self.has_results else []

    # ---- the keys -------------------------------------------------------------------------------------
    def toggle_pause(self) -> bool | None:
        """Space: pause every live run, or resume them all if one is paused. Returns whether they are paused
        now; None when no run is live and nothing was done."""
        live = self.live()
        if not live:
            return None
        pause = not any(r.paused for r in live)
        for r in live:
            if pause:
                r.pause()
            else:
                r.resume()
        return pause

    def stop(self) -> list:
        """x: stop every current run. Returns the runs that had not started (sequential, B still waiting):
        they are started stopped, so they end at once with 0 updates and the screen shows them ended."""
        waiting = [r for r in self.runners if not r.started]
        for r in self.runners:
            if r.started:
                stop_runner(r)
            else:
                r.stop()
        return waiting

    def step_stretch(self, step: int) -> int | None:
        """> and <: every live run one step along STRETCHES, from the first one's factor; returns the factor
        now, None when no run is live."""
        live = self.live()
        if not live:
            return None
        factor = next_stretch(live[0].stretch, step)
        for r in live:
            r.set_stretch(factor)
        return factor

    # ---- writing ----------------------------------------------------------------------------------------
    def export(self, directory: Path, stem: str, svg: str) -> list[Path]:
        """The ended runs' results as <stem>.json (one run's object, or {"runs": [...]} for several), <stem>.csv
        (the loss curves) and <stem>.svg (`svg`: the screen as the UI draws it); returns the paths."""
        if not self.has_results:
            raise ValueError("export works once every run has ended")
        results = list(self.results)
        json_text = results[0].json_text() if len(results) == 1 else runs_json(results)
        return write_new(directory, stem, {".json": json_text, ".csv": curves_csv(results), ".svg": svg})

    def export_stem(self) -> str:
        """The exported files' name: run-leashed-m4 for one run, compare-hogwild-vs-leashed for a pair."""
        configs = [r.config for r in self.runners]
        if len(configs) == 1:
            return f"run-{configs[0].algo}-m{configs[0].threads}"
        return "compare-" + "-vs-".join(c.algo for c in configs)

    def record_stem(self) -> str:
        """R's file name: recording-hogwild-m2-vs-leashed-m2 (record_runs adds -A, -B for a pair)."""
        return "recording-" + "-vs-".join(f"{r.config.algo}-m{r.config.threads}" for r in self.runners)
