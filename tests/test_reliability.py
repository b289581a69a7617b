"""Nothing lost, ever: stops that always stop, atomic writes, memory checked before it is spent, any terminal,
any home. Real subprocesses, real signals, real files (issue: reliability).
"""
import gzip
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from teach_sgd.child import PACKAGE_HOME, module_argv
from tui_helpers import sync

PY = sys.executable
CLI = "teach_sgd.commands"


def _cli(*args, env=None, **kw):
    return subprocess.run(module_argv(CLI, *args), cwd=PACKAGE_HOME, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300, **kw)


def _default_stop_signals() -> None:
    # A test run started under nohup hands its children SIGHUP ignored; a signal that lands before main()
    # listens would then be lost by the launcher's choice, not the tool's.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _start(*args, env=None):
    return subprocess.Popen(module_argv(CLI, *args), cwd=PACKAGE_HOME, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
                            preexec_fn=_default_stop_signals)


def _clean(stderr: str) -> None:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


# ---- 1. every stop stops ---------------------------------------------------------------------------------
@pytest.mark.parametrize("delay", [0.0, 0.15, 0.4, 0.8, 1.5, 2.5])
def test_a_signal_at_any_moment_ends_the_run_with_its_status_and_no_traceback(tmp_path, delay):
    """SIGHUP at moments that fall, on this machine, in the import, the data and model set-up, the thread start of
    64 threads, or the run: every time the process ends with 129, prints no traceback (a handler that raised
    could surface in a finalizer as 'Exception ignored' and be lost), and a JSON, if written, is whole."""
    out = tmp_path / "r.json"
    p = _start("run", "--algo", "leashed", "--threads", "64", "--dataset", "synthetic", "--seconds", "30",
               "--json", str(out))
    time.sleep(delay)
    p.send_signal(signal.SIGHUP)
    stdout, stderr = p.communicate(timeout=60)  # (a guard against a hang, not a timing assertion)
    if p.returncode == -signal.SIGHUP:  # it came while Python itself was starting, before main() could listen:
        assert stderr == ""             # the default action ended it (a shell reports that as 129 too)
        return
    assert p.returncode == 129, stderr
    _clean(stderr)
    assert "stopped by SIGHUP" in stderr
    if out.exists():
        r = json.loads(out.read_text())
        assert r["status"] == "stopped" and r["threads"] == 64
    else:
        assert "before anything was measured" in stderr or "nothing was measured" in stderr


def test_a_signal_during_the_first_compile_ends_it_at_once(tmp_path):
    """A cold cache: the kernel compiles for many seconds inside LLVM; Ctrl-C then ends the process with 130 and
    one line (the compile runs in a helper thread, the main thread waits where the handler can run)."""
    p = _start("run", "--algo", "hogwild", "--threads", "2", "--dataset", "synthetic", "--updates", "50",
               env={"NUMBA_CACHE_DIR": str(tmp_path / "cold")})
    line = ""
    while "compiling" not in line:
        line = p.stderr.readline()
        assert line, "the run ended without compiling"
    time.sleep(1.0)  # well inside the compile
    p.send_signal(signal.SIGINT)
    _, stderr = p.communicate(timeout=60)
    assert p.returncode == 130, stderr
    _clean(stderr)
    assert "stopped by SIGINT before training started; nothing was measured" in stderr


STUBBORN = """
import os, signal, sys, time
from teach_sgd.signals import StopSignals
with StopSignals() as s:
    s.measuring()
    os.kill(os.getpid(), signal.SIGTERM)   # measuring: only recorded; the main loop raises
    time.sleep(0.05)
    try:
        s.check()
        print("check did not raise")
    except KeyboardInterrupt:
        print("raised in the main loop", flush=True)
    s.shield()                              # writing the results
    os.kill(os.getpid(), signal.SIGTERM)    # second: noted
    time.sleep(0.05)
    print("still writing", flush=True)
    os.kill(os.getpid(), signal.SIGTERM)    # third: exits at once
    time.sleep(5)
    print("not reached", flush=True)
"""


def test_the_handler_only_records_the_main_loop_raises_and_a_third_signal_exits():
    p = subprocess.run([PY, "-c", STUBBORN], cwd=PACKAGE_HOME, capture_output=True, text=True, timeout=60)
    assert p.returncode == 143
    assert p.stdout.splitlines() == ["raised in the main loop", "still writing"]
    assert p.stderr.count("noted") == 1 and "a third time: exiting now" in p.stderr


# ---- 2. any terminal -------------------------------------------------------------------------------------
ASCII_TERMINAL = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0",
                  "PYTHONIOENCODING": ""}
LATIN1_TERMINAL = {"PYTHONIOENCODING": "iso-8859-1", "PYTHONUTF8": "0"}


@pytest.mark.parametrize("terminal", [ASCII_TERMINAL, LATIN1_TERMINAL], ids=["C-locale", "ISO-8859-1"])
@pytest.mark.parametrize("argv", [
    ["run", "--dataset", "synthetic", "--updates", "100", "--threads", "1", "--json", "{tmp}/r.json"],
    ["lessons"], ["check", "--protocol", "leashed"], ["challenges"],
    ["simulate", "--tau-max", "0,1", "--alphas", "0.1,0.5", "--json", "{tmp}/s.json"],
], ids=["run", "lessons", "check", "challenges", "simulate"])
def test_a_terminal_that_is_not_utf8_gets_ascii_and_every_result(tmp_path, terminal, argv):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    p = subprocess.run(module_argv(CLI, *argv), cwd=PACKAGE_HOME, capture_output=True, timeout=300,
                       env={**os.environ, "TEACH_SGD_DATA_DIR": str(tmp_path), **terminal})
    stderr = p.stderr.decode("latin-1")
    assert p.returncode == 0, stderr
    _clean(stderr)
    out = p.stdout.decode("latin-1")
    assert out.strip() and "?" * 3 not in out
    if terminal is ASCII_TERMINAL:
        p.stdout.decode("ascii")  # every character is one the terminal can show
    for path in (a for a in argv if a.startswith(str(tmp_path))):
        assert json.loads(open(path, encoding="utf-8").read())


# ---- 3. atomic outputs -----------------------------------------------------------------------------------
WRITER = """
import sys
from teach_sgd.output import write_text
write_text(sys.argv[1], b"new" * (40 << 20), "--record")
"""


def test_a_sigkill_during_the_write_leaves_the_old_file_whole(tmp_path):
    """Kill -9 while 120 MB are being written over a result: the old result is still there, byte for byte (a
    write in place would leave it empty or cut), and no temporary file is mistaken for it."""
    target = tmp_path / "result.npz"
    old = b"old result " * 1000
    for attempt in range(3):
        target.write_bytes(old)
        p = subprocess.Popen([PY, "-c", WRITER, str(target)], cwd=PACKAGE_HOME)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and p.poll() is None:
            temps = list(tmp_path.glob(".teach-sgd-*.tmp"))
            if (temps and temps[0].stat().st_size > 1 << 20) or target.stat().st_size != len(old):
                break  # the write is under way
            time.sleep(0.005)
        p.send_signal(signal.SIGKILL)
        p.wait(30)
        assert target.read_bytes() == old, f"attempt {attempt}: the old file was damaged"


def test_outputs_replace_files_whole_and_keep_their_permissions(tmp_path):
    from teach_sgd.output import write_atomic

    target = tmp_path / "r.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    write_atomic(target, "new τ")
    assert target.read_text(encoding="utf-8") == "new τ"
    assert (target.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


# ---- 4. memory checked before it is spent ----------------------------------------------------------------
def test_a_run_that_cannot_fit_is_refused_before_anything_is_allocated(capsys):
    from teach_sgd.commands.main import main
    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.inputs import dataset_for, model_for
    from teach_sgd.engine.state import memory_needed
    from teach_sgd.memory import available_bytes

    argv = ["run", "--hidden", ",".join(["4096"] * 8), "--threads", "256", "--dataset", "synthetic"]
    c = RunConfig(hidden=(4096,) * 8, threads=256, dataset="synthetic")
    need = sum(memory_needed(c, model_for(c, dataset_for(c))).values())
    if available_bytes() is None or need < available_bytes():
        pytest.skip("this machine could hold that run")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "would need about" in err and "GiB" in err and "--threads" in err


def test_the_estimate_covers_what_the_run_allocates():
    """The estimate is computed without allocating; it must not undercount what RunState really allocates."""
    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.inputs import dataset_for, model_for
    from teach_sgd.engine.state import RunState, memory_needed

    for algo in ("leashed", "hogwild", "lock", "sync", "seq"):
        c = RunConfig(algo=algo, threads=1 if algo == "seq" else 4, batch=16, dataset="synthetic").budget()
        model = model_for(c, dataset_for(c))
        state = RunState(c, model, dataset_for(c))
        arrays = [v for v in vars(state).values() if isinstance(v, np.ndarray)]
        allocated = sum(a.nbytes for a in arrays) - sum(a.nbytes for a in (state.perm, state.eval_rows, state.test_rows))
        assert sum(memory_needed(c, model).values()) >= allocated * 0.95, algo


def test_the_snapshot_log_stays_bounded_at_256_threads():
    from teach_sgd.engine.recording import SAMPLE_LOG_BYTES, TELEMETRY_WIDTHS, Sample, SampleLog, sample_bytes
    from teach_sgd.engine.result import Versions
    from teach_sgd.engine.state import TELEMETRY_ARRAYS, TELEMETRY_INTS

    log = SampleLog()
    widths = TELEMETRY_WIDTHS
    for i in range(20_000):  # 22 minutes at 15 Hz
        tel = {name: np.zeros((256, widths[name]), np.int64) for name in TELEMETRY_ARRAYS}
        log.add(Sample(time=i / 15, status="running", updates=i, telemetry=tel, versions=Versions(1, 1, 1, 1),
                       curve_len=0, time_to_target_s=None, diverged=False, events_recorded=0, events_missed=0,
                       stretch=1))
    kept = log.copy()
    assert sum(sample_bytes(s) for s in kept) <= SAMPLE_LOG_BYTES
    assert kept[-1].time > 20_000 / 15 - 60  # the latest samples are there; older ones were decimated
    assert 256 * TELEMETRY_INTS * 8 < sample_bytes(kept[0])


def _gzip_zeros(path, header: bytes, n_bytes: int) -> None:
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header)
        chunk = b"\0" * (1 << 20)
        for _ in range(n_bytes >> 20):
            f.write(chunk)


def test_a_gzip_bomb_is_never_decompressed_beyond_what_its_header_promises(tmp_path):
    """A 200 MB stream of zeros (a few hundred KB compressed) behind a header that promises 5 images of 28×28:
    read_idx stops after the promised bytes and says the file is corrupt."""
    from teach_sgd.data.idx import read_idx
    from teach_sgd.errors import DataError

    path = tmp_path / "train-images-idx3-ubyte.gz"
    header = bytes([0, 0, 8, 3]) + (5).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    _gzip_zeros(path, header, 200 << 20)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(DataError, match="more than 3920"):
        read_idx(path)


def test_an_idx_file_bigger_than_memory_is_refused_before_it_is_read(tmp_path):
    """A (sparse) IDX file of 1000×1000 images as large as this machine's available memory: its float32 pixels
    would need five times that, so it is refused from its header, in one sentence, before a byte is read."""
    from teach_sgd.data.idx import read_idx
    from teach_sgd.errors import UsageError
    from teach_sgd.memory import available_bytes

    n = (available_bytes() or 1 << 34) // 1_000_000 + 1
    path = tmp_path / "train-images-idx3-ubyte"
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + n.to_bytes(4, "big") + (1000).to_bytes(4, "big") * 2)
        f.truncate(16 + n * 1_000_000)  # sparse: no disk space, no memory
    with pytest.raises(UsageError, match="would need about .* GiB of memory"):
        read_idx(path)


# ---- 5. damaged user files -------------------------------------------------------------------------------
@pytest.mark.parametrize("name,content,command", [
    ("progress.json", {"version": 1, "lessons": {"01-one-thread": 7}}, "lessons"),
    ("progress.json", {"version": 1, "lessons": {"01-one-thread": {"step": "4"}}}, "lessons"),
    ("challenges.json", {"version": 1, "challenges": {"lose-update": {"best": [3]}}}, "challenges"),
    ("challenges.json", {"version": 1, "challenges": []}, "challenges"),
])
def test_a_damaged_user_file_is_set_aside_with_one_line(tmp_path, name, content, command):
    (tmp_path / name).write_text(json.dumps(content))
    p = _cli(command, env={"TEACH_SGD_DATA_DIR": str(tmp_path)})
    assert p.returncode == 0, p.stderr
    _clean(p.stderr)
    assert [line for line in p.stderr.splitlines() if name in line] and f"moved to {name}.bad" in p.stderr and "unreadable" in p.stderr
    assert (tmp_path / f"{name}.bad").exists() and not (tmp_path / name).exists()
    again = _cli(command, env={"TEACH_SGD_DATA_DIR": str(tmp_path)})
    assert again.returncode == 0 and name not in again.stderr  # said once


# ---- 6. read-only home -----------------------------------------------------------------------------------
def test_a_read_only_home_caches_kernels_in_the_temporary_folder_and_never_in_site_packages(tmp_path):
    package = os.path.join(PACKAGE_HOME, "teach_sgd")

    def cached_beside_sources():
        return {os.path.join(d, f) for d, _, fs in os.walk(package) for f in fs if f.endswith((".nbi", ".nbc"))}

    before = cached_beside_sources()
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env["HOME"] = "/proc/read-only-home"  # not writable, even for root
    p = subprocess.run(module_argv(CLI, "run", "--algo", "seq", "--dataset", "synthetic", "--updates", "50",
                                   "--json", str(tmp_path / "r.json")),
                       cwd=PACKAGE_HOME, capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr
    _clean(p.stderr)
    assert p.stderr.count("cannot be written; compiled kernels are cached in") == 1
    assert cached_beside_sources() == before
    assert json.loads((tmp_path / "r.json").read_text())["updates"] == 50


# ---- 7. recordings are untrusted input -------------------------------------------------------------------
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "recording-leashed-4.npz")


def _crafted(tmp_path, **changes):
    """The fixture recording with some arrays replaced (a value of None removes the array)."""
    with np.load(FIXTURE) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    for key, value in changes.items():
        if key.startswith("meta_"):
            meta[key[5:]] = value
        elif value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    arrays["meta"] = np.array(changes.get("meta", json.dumps(meta)))
    path = tmp_path / "crafted.npz"
    np.savez_compressed(path, **arrays)
    return path


def _events_with(**fields):
    with np.load(FIXTURE) as z:
        ev = z["events"].copy()
    for name, value in fields.items():
        ev[name][0] = value
    return ev


DEEP = "[" * 100_000 + "]" * 100_000
RECORDINGS = [
    ("meta as a list", {"meta": json.dumps([1, 2])}, "is a JSON list"),
    ("config as a string", {"meta_config": "leashed"}, "config is 'leashed'"),
    ("deep JSON", {"meta": DEEP}, "nested too deep"),
    ("version as text", {"meta_version": "1"}, "format version '1' is not a whole number"),
    ("a newer version", {"meta_version": 2}, "has format version 2"),
    ("outcome out of range", {"events": _events_with(outcome=9)}, "outcome out of range"),
    ("thread out of range", {"events": _events_with(thread=99)}, "thread out of range"),
    ("plain-int events", {"events": np.arange(10)}, "events are not teach-sgd events"),
    ("status out of range", {"s_status": np.full(1, 77, np.int8)}, "s_status"),
    ("a missing array", {"s_time": None}, "lacks s_time"),
    ("telemetry of another shape", {"s_counters": np.zeros((3, 2), np.int64)}, "s_counters"),
]


@pytest.mark.parametrize("changes,words", [r[1:] for r in RECORDINGS], ids=[r[0] for r in RECORDINGS])
@pytest.mark.parametrize("export", ["--json", "--csv", "--svg"])
def test_a_crafted_recording_is_one_line_and_status_2(tmp_path, capsys, changes, words, export):
    from teach_sgd.commands.main import main

    path = _crafted(tmp_path, **changes)
    assert main(["replay", str(path), export, str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_a_recording_whose_arrays_claim_more_than_they_hold_is_refused_unread(tmp_path, capsys):
    """A zip member whose .npy header promises 8 GB: refused from the header, before any decompression."""
    from teach_sgd.commands.main import main

    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("s_time.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (10 ** 9,)})
    assert main(["replay", str(path), "--json", str(tmp_path / "o.json")]) == 2
    assert "cut short" in capsys.readouterr().err


# ---- 8. no terminal, serve ---------------------------------------------------------------------------------
def test_the_app_without_a_terminal_is_one_line_not_escape_codes():
    p = _cli(stdin=subprocess.DEVNULL)
    assert p.returncode == 2
    assert p.stdout == "" and len(p.stderr.strip().splitlines()) == 1 and "needs a terminal" in p.stderr


def test_serve_on_a_busy_port_says_so_in_one_line_before_claiming_to_serve():
    import socket

    with socket.socket() as busy:
        busy.bind(("localhost", 0))
        busy.listen()
        port = busy.getsockname()[1]
        p = _cli("serve", "--port", str(port))
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [p.stderr.strip()] and f"port {port} is in use" in p.stderr
    assert "serving" not in p.stderr


def test_the_served_page_loads_nothing_from_the_internet():
    from teach_sgd.commands.serve import EXTERNAL, offline_templates

    page = (offline_templates() / "app_index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in page and not EXTERNAL.search(page)
    assert "fonts/RobotoMono-VariableFont_wght.ttf" in page


def test_the_dataset_cache_keeps_a_few():
    from teach_sgd.engine import inputs
    from teach_sgd.engine.config import RunConfig

    for seed in range(12):
        inputs.dataset_for(RunConfig(dataset="synthetic", seed=seed))
    assert len(inputs._datasets) == inputs.DATASETS_KEPT
    assert ("synthetic", None, 11) in inputs._datasets


@sync
async def test_the_app_starts_on_a_damaged_progress_file_and_says_where_it_went(tmp_path, monkeypatch):
    from teach_sgd.tui.app import TeachSGDApp

    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path))
    (tmp_path / "progress.json").write_text(json.dumps({"version": 1, "lessons": {"01-one-thread": 7}}))
    app = TeachSGDApp(lessons=[("01-one-thread", "SGD on one thread", 8)], export_dir=tmp_path / "exports",
                      warm_kernels=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "HomeScreen"
        said = [n.message for n in app._notifications]
        assert any("moved to progress.json.bad" in m for m in said), said
    assert (tmp_path / "progress.json.bad").exists()
