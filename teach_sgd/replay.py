"""Replaying a recording: its clock, a stand-in for the Runner that the dashboard reads, and the headless exports.

    clock = ReplayClock(duration_s)      # play/pause, speed, step, jump — driven by the wall clock it is given
    source = ReplaySource(recording)     # snapshot()/done/result()/pause()/resume(): what the Dashboard reads
    cmd_replay(args)                     # `teach-sgd replay FILE [--json OUT] [--csv OUT] [--svg OUT]`

The dashboard samples a ReplaySource exactly as it samples a live Runner; ReplaySource.snapshot() is the
recording's snapshot at the clock's time (Recording.snapshot_at), and at the end the recorded RunResult.
"""
from __future__ import annotations

import csv
import io
import sys
import time

from teach_sgd.engine.recording import Recording, load

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 50.0)
STEP_S = 1 / 15  # one step = one sample at the dashboard's rate


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

    @property
    def paused(self) -> bool:
        return not self.clock.playing

    def snapshot(self):
        return self.recording.snapshot_at(self.clock.t)

    def events_until(self, t: float):
        """The recorded events that had happened by run time t (what the live timeline had drained)."""
        ev = self.recording.events
        return ev[ev["t_end"] <= t * 1e9]

    def result(self):
        return self.recording.result

    def pause(self) -> None:
        if self.clock.playing:
            self.clock.toggle()

    def resume(self) -> None:
        if not self.clock.playing:
            self.clock.toggle()

    def stop(self) -> None:
        self.clock.jump(self.clock.duration)

    def join(self, timeout: float | None = None) -> bool:
        return True


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


def cmd_replay(args) -> int:
    """Headless exports when any is asked for; otherwise the app opens on the recording."""
    from teach_sgd.output import check_writable, write_text
    from teach_sgd.timeline import svg

    outputs = [(p, label) for p, label in ((args.json, "--json"), (args.csv, "--csv"), (args.svg, "--svg")) if p]
    for path, label in outputs:
        check_writable(path, label)
    recording = load(args.file)
    if not outputs:
        from teach_sgd.tui.app import launch
        return launch(lessons_dir=args.lessons, replay=recording)
    c = recording.config
    texts = {"--json": lambda: recording.result_json, "--csv": lambda: events_csv(recording),
             "--svg": lambda: svg(recording.events, c.algo, c.threads,
                                  title=f"{c.algo} × {c.threads} threads, recorded on {recording.machine.get('cores', '?')} cores")}
    for path, label in outputs:
        print(f"wrote {write_text(path, texts[label](), label)}", file=sys.stderr)
    return 0
