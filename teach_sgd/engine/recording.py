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
from teach_sgd.engine import layout as L
from teach_sgd.engine.state import TELEMETRY_ARRAYS, thread_stats_of
from teach_sgd.errors import ConfigError, UsageError, shorten
from teach_sgd.memory import array_bytes, require
from teach_sgd.output import write_text

FORMAT = "teach-sgd recording"
FORMAT_VERSION = 1
SAMPLE_HZ = 15.0       # the dashboard's rate (tui/widgets/dashboard.py SAMPLE_HZ)
MAX_SAMPLES = 9_000    # 10 minutes at 15 Hz; a longer run keeps every other sample from then on (see thin())
# …and never more samples than fit in SAMPLE_LOG_BYTES: a sample copies every thread's telemetry (~1 KiB per
# thread), so at 256 threads 9,000 samples would take 2.3 GiB. The log, and a recording's samples, stay under
# this at any length and any thread count (the memory check counts it: engine/runner.py).
SAMPLE_LOG_BYTES = 128 << 20
SAMPLE_OVERHEAD = 1024  # the Python objects around one sample's arrays (Sample, its dict, the array headers)
TELEMETRY_WIDTHS = {"counters": L.COUNTERS, "staleness": L.STALENESS_BINS, "retries": L.RETRY_BINS,
                    "steps": L.STEP_BINS}  # each per-thread array's row (engine/state.py TELEMETRY_ARRAYS)
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


def sample_bytes(sample: Sample) -> int:
    return sum(a.nbytes for a in sample.telemetry.values()) + SAMPLE_OVERHEAD


def samples_that_fit(one_sample_bytes: int) -> int:
    """How many samples the log keeps before it thins: MAX_SAMPLES, or fewer when they would exceed
    SAMPLE_LOG_BYTES (at 256 threads: 500)."""
    return max(16, min(MAX_SAMPLES, SAMPLE_LOG_BYTES // one_sample_bytes))


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
        self.limit = MAX_SAMPLES  # set from the first sample's size
        self._lock = threading.Lock()

    def due(self, t: float) -> bool:
        return not self.samples or t - self.samples[-1].time >= self.period

    def add(self, sample: Sample) -> None:
        with self._lock:
            if not self.samples:
                self.limit = samples_that_fit(sample_bytes(sample))
            self.samples.append(sample)
            if len(self.samples) > self.limit:
                self.thin()

    def thin(self) -> None:
        """Keep every other sample and halve the rate from now on: the old samples are decimated, the log never
        holds more than `limit` (a long run at 64 threads: ~65 KiB a sample)."""
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
        return self.snapshot_of_sample(self.index_at(t))

    def snapshot_of_sample(self, i: int) -> RunSnapshot:
        return snapshot_of(self.sample(i), self.config, self.params, self.loss_initial, self.curve)


def save(path: str | os.PathLike, result: RunResult, events: np.ndarray, samples: list[Sample], curve: tuple,
         label: str = "--record", **meta) -> Path:
    return write_text(path, encode(result, events, samples, curve, **meta), label)


REQUIRED = ("meta", "result", "events", "curve", "s_time", "s_status", "s_updates", "s_versions", "s_curve_len",
            "s_ttt", "s_diverged", "s_events", "s_stretch") + tuple("s_" + n for n in TELEMETRY_ARRAYS)
TEXT_LIMIT = 16 << 20      # meta and result are a few KiB of JSON; more is not a recording
N_OUTCOMES = L.OUTCOME_CAS_FAILED + 1  # outcomes are layout.OUTCOME_PUBLISHED (0) … OUTCOME_CAS_FAILED


class Damaged(ValueError):
    """A recording field of the wrong type, shape or range (load turns it into one UsageError line)."""


def _headers(zf: zipfile.ZipFile) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Each array's shape and dtype from its .npy header, read without decompressing its data."""
    out = {}
    for info in zf.infolist():
        if not info.filename.endswith(".npy"):
            continue
        with zf.open(info) as f:
            major, _ = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)
        if dtype.hasobject:
            raise Damaged(f"{info.filename} holds Python objects (a recording holds numbers and text only)")
        declared = array_bytes(shape, dtype.itemsize)
        if declared > info.file_size:  # the header promises more than the member holds
            raise Damaged(f"{info.filename} is cut short")
        out[info.filename[:-4]] = (tuple(shape), dtype)
    return out


def _json(text: str, what: str) -> dict:
    try:
        value = json.loads(text)
    except RecursionError:
        raise Damaged(f"its {what} is JSON nested too deep") from None
    if not isinstance(value, dict):
        raise Damaged(f"its {what} is a JSON {type(value).__name__}, not an object")
    return value


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_meta(meta: dict, where: str) -> None:
    if meta.get("format") != FORMAT:
        raise UsageError(f"{where} is not a teach-sgd recording (format {shorten(meta.get('format'))})")
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise Damaged(f"its format version {shorten(version)} is not a whole number")
    if version != FORMAT_VERSION:
        raise UsageError(f"{where} has format version {version}; this teach-sgd reads version {FORMAT_VERSION}: "
                         "replay it with the teach-sgd that made it")
    for key, ok, want in (("config", lambda v: isinstance(v, dict), "an object"),
                          ("params", lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
                           "a positive whole number"),
                          ("loss_initial", _number, "a number"),
                          ("architecture", lambda v: isinstance(v, str), "text"),
                          ("machine", lambda v: isinstance(v, dict), "an object")):
        if key not in meta and key in ("architecture", "machine"):
            continue
        if not ok(meta.get(key)):
            raise Damaged(f"its meta {key} is {shorten(meta.get(key), 30)}, not {want}")


def _check_result(d: dict, threads: int) -> None:
    """The recorded result's JSON: every field the replay reads, of the type and size it reads."""
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise Damaged(f"its result {what}")

    for key in ("params", "updates", "gradients", "wall_s"):
        need(_number(d.get(key)) and d[key] >= 0, f"{key} is not a number ≥ 0")
    for key in ("loss_initial", "loss_final", "accuracy_final", "time_to_target_s"):
        need(d.get(key) is None or _number(d.get(key)), f"{key} is not a number")
    need(isinstance(d.get("diverged"), bool) and isinstance(d.get("status"), str), "lacks its status")
    ev = d.get("events", {})
    need(isinstance(ev, dict) and all(isinstance(ev.get(k, 0), int) and not isinstance(ev.get(k, 0), bool)
                                      and ev.get(k, 0) >= 0 for k in ("recorded", "missed", "dropped"))
         and (ev.get("kept_from_s") is None or _number(ev["kept_from_s"])), "events counts are damaged")
    left = d.get("threads_left_running", 0)  # (absent in recordings made before it existed)
    need(isinstance(left, int) and not isinstance(left, bool) and 0 <= left <= threads,
         "threads_left_running is not a thread count")
    per = d.get("per_thread")
    need(isinstance(per, list) and len(per) == threads and all(isinstance(t, dict) for t in per),
         f"per_thread is not {threads} threads")
    need(all(_number(x) or x is None or (isinstance(x, list) and all(_number(y) for y in x))
             for t in per for k, x in t.items() if k != "state"), "per_thread holds something other than numbers")
    v, st = d.get("versions"), d.get("staleness")
    need(isinstance(v, dict) and all(isinstance(v.get(k), int) for k in ("live_final", "peak", "bound",
                                                                        "allocated_total")), "versions are damaged")
    need(isinstance(st, dict) and isinstance(st.get("hist"), list) and all(isinstance(x, int) for x in st["hist"])
         and isinstance(st.get("max"), int), "staleness is damaged")
    curves = [d.get("loss_curve"), d.get("accuracy_curve")]
    need(all(isinstance(c, list) and all(isinstance(p, list) and len(p) == 2 and _number(p[0]) and
                                         (p[1] is None or _number(p[1])) for p in c) for c in curves),
         "curves are damaged")


def _check_arrays(a: dict[str, np.ndarray], threads: int) -> None:
    """Every array of the expected kind and shape, and every value the replay indexes with in range."""
    def need(ok, what: str) -> None:
        if not ok:
            raise Damaged(what)

    def kind(name: str, kinds: str, shape: tuple) -> None:
        x = a[name]
        need(x.dtype.kind in kinds and len(x.shape) == len(shape) and
             all(want is None or got == want for got, want in zip(x.shape, shape)),
             f"its {name} is {x.dtype} {x.shape}, not the {'×'.join('n' if w is None else str(w) for w in shape)} "
             "array a recording holds")

    need(a["events"].dtype == EVENT_DTYPE and a["events"].ndim == 1, "its events are not teach-sgd events")
    ev = a["events"]
    need(len(ev) == 0 or (0 <= ev["outcome"].min() and ev["outcome"].max() < N_OUTCOMES),
         "an event has an outcome out of range")
    need(len(ev) == 0 or (0 <= ev["thread"].min() and ev["thread"].max() < threads),
         f"an event names a thread out of range (the run had {threads})")
    kind("curve", "f", (None, 3))
    n = len(a["s_time"])
    kind("s_time", "f", (n,))
    need(bool(np.all(np.isfinite(a["s_time"]))) and bool(np.all(np.diff(a["s_time"]) >= 0)),
         "its sample times are not in order")
    for name, kinds, shape in (("s_status", "iu", (n,)), ("s_updates", "iu", (n,)), ("s_versions", "iu", (n, 4)),
                               ("s_curve_len", "iu", (n,)), ("s_ttt", "f", (n,)), ("s_diverged", "b", (n,)),
                               ("s_events", "iu", (n, 2)), ("s_stretch", "iu", (n,))):
        kind(name, kinds, shape)
    need(n == 0 or (a["s_status"].min() >= 0 and a["s_status"].max() < len(STATUSES)), "a sample's status is "
         "out of range")
    need(n == 0 or (a["s_curve_len"].min() >= 0 and a["s_curve_len"].max() <= len(a["curve"])),
         "a sample points past the loss curve")
    need(n == 0 or a["s_events"].min() >= 0, "a sample counts events below 0")
    for name, width in TELEMETRY_WIDTHS.items():
        kind("s_" + name, "iu", (n, threads, width))


def load(path: str | os.PathLike) -> Recording:
    """Read a recording, which is untrusted input: its size is checked against the memory available before
    anything is decompressed (a small zip "bomb" stays small), and every field's type, shape and range before
    any is used. Anything else (missing, not a recording, a newer or damaged one) is one UsageError."""
    where = f"recording {path}"
    p = Path(path).expanduser()
    try:
        if p.is_file() and not zipfile.is_zipfile(p):
            raise UsageError(f"{where} is not a teach-sgd recording (those are .npz files, made by `teach-sgd run "
                             "… --record FILE` or R in the app)")
        with zipfile.ZipFile(p) as zf:
            headers = _headers(zf)
        require({"its arrays": sum(array_bytes(shape, dt.itemsize) for shape, dt in headers.values())}, where,
                "replay it on a machine with more memory")
        for name in ("meta", "result"):
            if name in headers and array_bytes(headers[name][0], headers[name][1].itemsize) > TEXT_LIMIT:
                raise Damaged(f"its {name} is larger than any recording's")
        with np.load(p, allow_pickle=False) as z:
            missing = [k for k in REQUIRED if k not in z.files]
            if "meta" in missing:
                raise UsageError(f"{where} is not a teach-sgd recording (no meta): record one with "
                                 "`teach-sgd run … --record FILE`")
            meta = _json(str(z["meta"]), "meta")
            _check_meta(meta, where)
            if missing:
                raise UsageError(f"{where} is damaged: it lacks {', '.join(missing)}")
            arrays = {k: z[k] for k in REQUIRED}
        config = RunConfig.from_mapping(meta["config"], source="recording")
        _check_result(_json(str(arrays["result"]), "result"), config.threads)
        _check_arrays(arrays, config.threads)
        return Recording(path, arrays)
    except FileNotFoundError:
        raise UsageError(f"{where} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{where} is a folder: give the .npz file") from None
    except UsageError as e:
        if isinstance(e, ConfigError):
            raise UsageError(f"{where} is damaged: its config says {e}") from None
        raise
    except Damaged as e:
        raise UsageError(f"{where} is damaged: {e}") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, RecursionError,
            zipfile.BadZipFile) as e:
        # numpy's own words can be misleading here (for a text file it suggests loading it "unsafely"): say
        # what the file is not, and keep numpy's reason short, at the end
        reason = str(e).splitlines()[0].split(". ")[0][:80] if str(e) else "damaged"
        raise UsageError(f"{where} is not a readable teach-sgd recording (the .npz file `teach-sgd run … "
                         f"--record FILE` writes): {type(e).__name__}: {reason}") from None
