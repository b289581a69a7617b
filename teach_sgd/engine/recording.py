"""Recordings: a whole run in one compact, versioned .npz file, and the samples a live run keeps for it.

    log = SampleLog()                        # the Runner's drainer appends a Sample at SAMPLE_HZ
    save(path, result, events, log, curve)   # `teach-sgd run --record FILE`, `R` in the app
    rec = load(path)                         # UsageError (one line, exit 2) if it is not a readable recording
    rec.snapshot_at(2.5)                     # the RunSnapshot the live dashboard showed 2.5 s into the run

A Sample holds the raw copies a live snapshot is built from (RunState.telemetry() and a few words), and
`snapshot_of` is the one function that turns a Sample into a RunSnapshot, for the live Runner and for the
replay alike: that is what makes a replay at time t show what the live dashboard showed at t.

File format (docs/recording-format.md; FORMAT_VERSION goes up on any incompatible change):
    meta      JSON text: format, version, config, machine (cores, cpu), params, architecture, loss_initial …
    result    the run's JSON text, byte for byte what `teach-sgd run --json` wrote
    events    EVENT_DTYPE records (engine/events.py), every event drained, in order
    curve     float64 [L, 3]: (seconds, loss, accuracy) as the live run gathered them
    s_*       one row per sample: s_time, s_status, s_updates, s_versions [n, 4], s_curve_len, s_ttt,
              s_diverged, s_events [n, 2] (recorded, missed), s_stretch, and s_<array> [n, m, …] for each
              of RunState's TELEMETRY_ARRAYS
Stored with numpy's savez_compressed and read with allow_pickle=False: a recording holds no code.
"""
from __future__ import annotations

import datetime
import io
import json
import os
import platform
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.events import EVENT_DTYPE
from teach_sgd.engine.result import RunResult, RunSnapshot, Versions
from teach_sgd.engine.state import TELEMETRY_ARRAYS, thread_stats_of
from teach_sgd.errors import UsageError

FORMAT = "teach-sgd recording"
FORMAT_VERSION = 1
SAMPLE_HZ = 15.0       # the dashboard's rate (tui/widgets/dashboard.py SAMPLE_HZ)
MAX_SAMPLES = 9_000    # 10 minutes at 15 Hz; a longer run keeps every other sample from then on (see thin())
STATUSES = ("ready", "running", "paused", "stopping", "finished", "stopped", "diverged", "error")


@dataclass(frozen=True)
class Sample:
    time: float                    # seconds of run time (pauses left out)
    status: str
    updates: int
    telemetry: dict                # RunState.telemetry(): copies of the per-thread arrays
    versions: Versions
    curve_len: int                 # loss-curve points gathered by then
    time_to_target_s: float | None
    diverged: bool
    events_recorded: int
    events_missed: int
    stretch: int


def snapshot_of(sample: Sample, config: RunConfig, params: int, loss_initial: float,
                curve: tuple) -> RunSnapshot:
    """The RunSnapshot of a Sample; `curve` is the loss curve whose first sample.curve_len points it shows."""
    threads = thread_stats_of(sample.telemetry)
    return RunSnapshot(
        config=config, params=params, status=sample.status, elapsed_s=sample.time, updates=sample.updates,
        gradients=sum(t.gradients for t in threads), threads=threads, versions=sample.versions,
        staleness_hist=tuple(int(v) for v in np.sum([t.staleness_hist for t in threads], axis=0)),
        loss_curve=tuple(curve[:sample.curve_len]), loss_initial=loss_initial,
        time_to_target_s=sample.time_to_target_s, diverged=sample.diverged,
        events_recorded=sample.events_recorded, events_missed=sample.events_missed, stretch=sample.stretch)


class SampleLog:
    """The samples of one run, appended by the drainer thread, read by whoever saves the recording."""

    def __init__(self):
        self.samples: list[Sample] = []
        self.period = 1.0 / SAMPLE_HZ
        self._lock = threading.Lock()

    def due(self, t: float) -> bool:
        return not self.samples or t - self.samples[-1].time >= self.period

    def add(self, sample: Sample) -> None:
        with self._lock:
            self.samples.append(sample)
            if len(self.samples) > MAX_SAMPLES:
                self.thin()

    def thin(self) -> None:
        """Halve the rate: a long run's recording stays bounded (at 64 threads a sample is ~55 KB)."""
        self.samples = self.samples[::2]
        self.period *= 2

    def copy(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)


def machine() -> dict:
    """The machine a recording was made on: a 2-core laptop and a 32-core server race differently."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "system": platform.system(), "python": platform.python_version()}


def encode(result: RunResult, events: np.ndarray, samples: list[Sample], curve: tuple, **meta) -> bytes:
    """The recording's bytes (`save` writes them; `meta` adds keys to the meta JSON, e.g. a note)."""
    c = result.config
    head = {"format": FORMAT, "version": FORMAT_VERSION, "config": c.to_dict(), "params": result.params,
            "architecture": result.architecture, "loss_initial": result.loss_initial, "machine": machine(),
            "created": datetime.datetime.now().isoformat(timespec="seconds"), **meta}
    n = len(samples)
    arrays = {
        "meta": np.array(json.dumps(head)),
        "result": np.array(result.json_text()),
        "events": np.asarray(events, EVENT_DTYPE),
        "curve": np.array(curve, np.float64).reshape(-1, 3),
        "s_time": np.array([s.time for s in samples], np.float64),
        "s_status": np.array([STATUSES.index(s.status) for s in samples], np.int8),
        "s_updates": np.array([s.updates for s in samples], np.int64),
        "s_versions": np.array([(s.versions.live, s.versions.peak, s.versions.bound, s.versions.allocated_total)
                                for s in samples], np.int64).reshape(n, 4),
        "s_curve_len": np.array([s.curve_len for s in samples], np.int64),
        "s_ttt": np.array([np.nan if s.time_to_target_s is None else s.time_to_target_s for s in samples]),
        "s_diverged": np.array([s.diverged for s in samples], bool),
        "s_events": np.array([(s.events_recorded, s.events_missed) for s in samples], np.int64).reshape(n, 2),
        "s_stretch": np.array([s.stretch for s in samples], np.int64),
    }
    for name in TELEMETRY_ARRAYS:
        arrays["s_" + name] = np.array([s.telemetry[name] for s in samples], np.int64)
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


class Recording:
    """A recording read back: its config, result, events and samples, and the snapshot at any time."""

    def __init__(self, path: str | os.PathLike, arrays: dict[str, np.ndarray]):
        self.path = Path(path)
        self.meta = json.loads(str(arrays["meta"]))
        self.result_json = str(arrays["result"])
        self.config = RunConfig.from_mapping(self.meta["config"], source="recording")
        self.events = arrays["events"]
        self.curve = tuple(tuple(float(x) for x in row) for row in arrays["curve"])
        self.params = int(self.meta["params"])
        self.loss_initial = float(self.meta["loss_initial"])
        self.times = arrays["s_time"]
        self._arrays = arrays
        self.result = RunResult.from_json(json.loads(self.result_json), self.config,
                                          self.meta.get("architecture", ""))

    @property
    def duration_s(self) -> float:
        return self.result.wall_s

    @property
    def machine(self) -> dict:
        return self.meta.get("machine", {})

    def sample(self, i: int) -> Sample:
        a = self._arrays
        ttt = float(a["s_ttt"][i])
        return Sample(time=float(a["s_time"][i]), status=STATUSES[int(a["s_status"][i])],
                      updates=int(a["s_updates"][i]),
                      telemetry={name: a["s_" + name][i] for name in TELEMETRY_ARRAYS},
                      versions=Versions(*(int(x) for x in a["s_versions"][i])),
                      curve_len=int(a["s_curve_len"][i]), time_to_target_s=None if np.isnan(ttt) else ttt,
                      diverged=bool(a["s_diverged"][i]), events_recorded=int(a["s_events"][i, 0]),
                      events_missed=int(a["s_events"][i, 1]), stretch=int(a["s_stretch"][i]))

    def index_at(self, t: float) -> int:
        """The last sample taken at or before t (the first one before it was taken)."""
        return max(0, int(np.searchsorted(self.times, t, side="right")) - 1)

    def snapshot_at(self, t: float) -> RunSnapshot:
        return snapshot_of(self.sample(self.index_at(t)), self.config, self.params, self.loss_initial, self.curve)


def save(path: str | os.PathLike, result: RunResult, events: np.ndarray, samples: list[Sample], curve: tuple,
         label: str = "--record", **meta) -> Path:
    from teach_sgd.output import write_text

    return write_text(path, encode(result, events, samples, curve, **meta), label)


REQUIRED = ("meta", "result", "events", "curve", "s_time", "s_status", "s_updates", "s_versions", "s_curve_len",
            "s_ttt", "s_diverged", "s_events", "s_stretch") + tuple("s_" + n for n in TELEMETRY_ARRAYS)


def load(path: str | os.PathLike) -> Recording:
    """Read a recording; anything else (missing, not a recording, a newer or damaged one) is one UsageError."""
    where = f"recording {path}"
    try:
        with np.load(Path(path).expanduser(), allow_pickle=False) as z:
            missing = [k for k in REQUIRED if k not in z.files]
            if "meta" in missing:
                raise UsageError(f"{where} is not a teach-sgd recording (no meta): record one with "
                                 "`teach-sgd run … --record FILE`")
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != FORMAT:
                raise UsageError(f"{where} is not a teach-sgd recording (format {meta.get('format')!r})")
            if meta.get("version") != FORMAT_VERSION:
                raise UsageError(f"{where} has format version {meta.get('version')}; this teach-sgd reads "
                                 f"version {FORMAT_VERSION}: replay it with the teach-sgd that made it")
            if missing:
                raise UsageError(f"{where} is damaged: it lacks {', '.join(missing)}")
            arrays = {k: z[k] for k in REQUIRED}
        return Recording(path, arrays)
    except FileNotFoundError:
        raise UsageError(f"{where} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{where} is a folder: give the .npz file") from None
    except UsageError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, zipfile.BadZipFile) as e:
        # numpy's own words can be misleading here (for a text file it suggests loading it "unsafely"): say
        # what the file is not, and keep numpy's reason short, at the end
        reason = str(e).splitlines()[0].split(". ")[0] if str(e) else "damaged"
        raise UsageError(f"{where} is not a teach-sgd recording (the .npz file `teach-sgd run … --record FILE` "
                         f"writes): {type(e).__name__}: {reason}") from None
