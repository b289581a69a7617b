"""A first run says what it compiles, n of N, and how long it took, beside this machine's last compile of the
same kernel — a measurement, not a promise (issue 16 item 17: "about 18 s on 2 cores" took 31 s on a loaded
machine); a warm run says nothing about compiling. One real cold compile of the smallest kernel, in a fresh
cache, with a compile time on record from "last time"."""
import json
import os
import subprocess

from teach_sgd.child import PACKAGE_HOME, module_argv


def test_compiling_is_announced_only_when_something_compiles_and_says_how_long(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), XDG_CACHE_HOME=str(tmp_path / "xdg"))
    times = tmp_path / "xdg" / "teach_sgd" / "compile_seconds.json"
    times.parent.mkdir(parents=True)
    times.write_text(json.dumps({"seq:mlp": 7.2}))
    argv = module_argv("teach_sgd.commands", "run", "--algo", "seq", "--dataset", "synthetic", "--updates", "20")
    cold = subprocess.run(argv, cwd=PACKAGE_HOME, env=env, capture_output=True, text=True, timeout=600)
    assert cold.returncode == 0, cold.stderr
    said = [line for line in cold.stderr.splitlines() if line.startswith("compil")]
    took = json.loads(times.read_text())["seq:mlp"]  # this compile's seconds, kept for the next first run
    assert took != 7.2 and took > 0
    assert said == ["compiling the seq kernel for the MLP (1 of 1; first run only); last compile on this machine: 7 s…",
                    f"compiled the seq kernel for the MLP in {took:.1f} s"]
    warm = subprocess.run(argv, cwd=PACKAGE_HOME, env=env, capture_output=True, text=True, timeout=120)
    assert warm.returncode == 0 and "compil" not in warm.stderr
