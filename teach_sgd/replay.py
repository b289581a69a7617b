"""Replaying a recording: its clock, a stand-in for the Runner that the dashboard reads, and the exports.

    clock = ReplayClock(duration_s)      # play/pause, speed, step, jump — driven by the wall clock it is given
    source = ReplaySource(recording)     # snapshot()/done/result()/events_now(): what the Dashboard reads
    events_csv(recording), timeline_svg(recording)   # what `teach-sgd replay FILE --csv/--svg` writes
    session = ReplaySession(recording)   # the replay screen's domain: the player's keys, its line, its export

The dashboard samples a ReplaySource exactly as it samples a live Runner; ReplaySource.snapshot() is the
recording's snapshot at the clock's time (Recording.snapshot_at), and at the end the recorded RunResult.
The replay screen (tui/screens/replay.py) only turns keys into ReplaySession calls and draws; `teach-sgd replay` is in
teach_sgd/commands/replay.py.
"""
from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from teach_sgd.engine.recording import Recording
from teach_sgd.output import write_new
from teach_sgd.timeline import svg

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 50.0)
STEP_S = 1 / 15  # one step = one sample at the dashboard's rate

# Reference recordings: HOGWILD! and Leashed-SGD at 8 and 16 threads made on a machine with ≥ 16 cores
# (scripts/record_reference.sh), shipped inside the package as <algo>-<threads>.npz so that a class on laptops
# sees what those threads do on real cores. Lessons offer them for runs of these algorithms with ≥ 8 threads.
REFERENCE_DIR = Path(__file__).parent / "data" / "recordings"
REFERENCE_ALGOS = ("hogwild", "leashed")
REFERENCE_THREADS = (16, 8)


def wants_reference(config) -> bool:
    return config.algo in REFERENCE_ALGOS and config.threads >= min(REFERENCE_THREADS)


def find_reference(configs, directory=None) -> Path | None:
    """The reference recording for the first of these runs that wants one: its algorithm at its own thread count,
    else at 16, else at 8 threads, in `directory` (default REFERENCE_DIR); None if none of those files exists."""
    for c in filter(wants_reference, configs):
        for m in dict.fromkeys((c.threads, *REFERENCE_THREADS)):
            path = Path(directory or REFERENCE_DIR) / f"{c.algo}-{m}.npz"
            if path.is_file():
                return path
    return None


class ReplayClock:
    """Run time t ∈ [0, duration] as a function of wall time: t advances at `speed` while playing.
    `now` is injectable so the clock is tested without sleeping."""

    def __init__(self, duration_s: float, now=time.perf_counter):
        self.duration = max(0.0, duration_s)
        self.speed = 1.0
        self.playing = True
        self._now = now
        self._t = 0.0                # run time at the last anchor
        self._anchor = now()         # wall time of the last anchor

    @property
    def t(self) -> float:
        if not self.playing:
            return self._t
        return min(self.duration, self._t + (self._now() - self._anchor) * self.speed)

    @property
    def at_end(self) -> bool:
        return self.t >= self.duration

    def _set(self, t: float) -> None:
        self._t = min(max(t, 0.0), self.duration)
        self._anchor = self._now()

    def toggle(self) -> bool:
        """Play/pause; playing at the end starts over. Returns playing."""
        self._set(0.0 if not self.playing and self.at_end else self.t)
        self.playing = not self.playing
        return self.playing

    def set_speed(self, step: int) -> float:
        """One speed up (step 1) or down (-1) in SPEEDS."""
        self._set(self.t)
        i = min(range(len(SPEEDS)), key=lambda k: abs(SPEEDS[k] - self.speed))
        self.speed = SPEEDS[min(max(i + step, 0), len(SPEEDS) - 1)]
        return self.speed

    def step(self, n: int = 1) -> float:
        """Pause and move n samples on (or back)."""
        self._set(self.t + n * STEP_S)
        self.playing = False
        return self._t

    def jump(self, t: float) -> float:
        self._set(t)
        return self._t


class ReplaySource:
    """A recording as the dashboard sees a run: the same snapshots, at the replay clock's time."""

    def __init__(self, recording: Recording, now=time.perf_counter):
        self.recording = recording
        self.config = recording.config
        self.clock = ReplayClock(recording.duration_s, now)
        self.started = True

    @property
    def done(self) -> bool:
        return self.clock.at_end

    def snapshot(self):
        return self.recording.snapshot_at(self.clock.t)

    def samples_between(self, after: int, upto: int):
        """Samples after+1 … upto−1: those a replay passed over between two of its dashboard's ticks (the live
        dashboard had sampled them, so its history panels hold them)."""
        return [self.recording.sample(i) for i in range(max(after + 1, 0), upto)]

    def sample_index(self) -> int:
        """The sample the clock's time shows."""
        return self.recording.index_at(self.clock.t)

    def events_now(self):
        """The events the live timeline had drained when the sample the clock's time shows was taken (the stream is
        in index order, so they are its first events_recorded: a slice, even of a million), less the oldest ones
        the run's bounded log did not keep (the recording holds the newest events only)."""
        drained = self.recording.sample(self.sample_index()).events_recorded
        return self.recording.events[:max(0, drained - self.recording.result.events_dropped)]

    def events_kept_from_s(self) -> float | None:
        """The run time of the oldest event the recording holds, if the run's log dropped older ones."""
        return self.recording.result.events_kept_from_s

    def result(self):
        return self.recording.result


EVENT_CSV_COLUMNS = ("k", "thread", "outcome", "t_read", "t_applied", "attempts", "t_start_s", "t_end_s",
                     "wait_s", "lost", "torn")
OUTCOMES = ("published", "dropped", "abandoned", "cas_failed")


def events_csv(recording: Recording) -> str:
    """Every recorded event, one row each, times in seconds of run time."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(EVENT_CSV_COLUMNS)
    for e in recording.events:
        w.writerow([int(e["k"]), int(e["thread"]), OUTCOMES[int(e["outcome"])], int(e["t_read"]),
                    int(e["t_applied"]), int(e["attempts"]), f"{e['t_start'] * 1e-9:.9f}", f"{e['t_end'] * 1e-9:.9f}",
                    f"{e['wait_ns'] * 1e-9:.9f}", int(e["lost"]), int(e["torn"])])
    return out.getvalue()


def describe(recording: Recording) -> str:
    """'leashed × 8 threads, recorded on 16 cores (AMD EPYC 9654)': the run and the machine it raced on."""
    c, m = recording.config, recording.machine
    return (f"{c.algo} × {c.threads} threads, recorded on {m.get('cores', '?')} cores"
            + (f" ({m['cpu']})" if m.get("cpu") else ""))


def timeline_svg(recording: Recording) -> str:
    c = recording.config
    return svg(recording.events, c.algo, c.threads, title=describe(recording))


class ReplaySession:
    """What the replay screen holds of the domain, tested without a terminal (tests/test_replay_session.py): the
    source and its clock (play/pause, speed, step, jump, a typed time), the line the player shows after its
    state (a message), and the export. `now` is injectable, as the clock's."""

    def __init__(self, recording: Recording, now=time.perf_counter):
        self.recording = recording
        self.source = ReplaySource(recording, now)
        self.clock = self.source.clock
        self.message = ""

    @property
    def state(self) -> str:
        """"end", "playing" or "paused": what the player line says first."""
        if self.clock.at_end:
            return "end"
        return "playing" if self.clock.playing else "paused"

    def jump_fraction(self, fraction: float) -> float:
        """0–9, Home, End: to `fraction` of the recording's duration; returns the time."""
        return self.clock.jump(fraction * self.clock.duration)

    def goto(self, text: str) -> bool:
        """g: jump to a typed time in seconds ("2.5" or "2.5s"), kept within the recording. False, and the
        message says why, when `text` is not a time."""
        try:
            t = float(text.strip().removesuffix("s"))
        except ValueError:
            self.message = f"✗ {text!r} is not a time in seconds"
            return False
        self.clock.jump(t)
        self.message = f"jumped to {self.clock.t:.2f} s"
        return True

    def export_stem(self) -> str:
        c = self.recording.config
        return f"replay-{c.algo}-m{c.threads}"

    def export(self, directory: Path) -> list[Path]:
        """e: the recorded result as JSON (byte for byte the run's own), every event as CSV and the timeline as
        SVG, as `teach-sgd replay FILE --json/--csv/--svg` write them, through the one writer (nothing is
        overwritten); returns the paths. A long recording's events take a moment: call it from a thread."""
        r = self.recording
        return write_new(directory, self.export_stem(), {".json": r.result_json, ".csv": events_csv(r),
                                                          ".svg": timeline_svg(r)})
