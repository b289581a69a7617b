"""A first run says what it compiles, n of N; a warm run says nothing about compiling (issue: the message was
printed even when the cache was warm). One real cold compile of the smallest kernel, in a fresh cache."""
import os
import subprocess

from teach_sgd.child import PACKAGE_HOME, module_argv


def test_compiling_is_announced_only_when_something_compiles(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    argv = module_argv("teach_sgd.commands", "run", "--algo", "seq", "--dataset", "synthetic", "--updates", "20")
    cold = subprocess.run(argv, cwd=PACKAGE_HOME, env=env, capture_output=True, text=True, timeout=600)
    assert cold.returncode == 0, cold.stderr
    said = [line for line in cold.stderr.splitlines() if line.startswith("compiling")]
    assert said == ["compiling the seq kernel for the MLP (1 of 1; first run only, about 18 s on 2 cores)…"]
    warm = subprocess.run(argv, cwd=PACKAGE_HOME, env=env, capture_output=True, text=True, timeout=120)
    assert warm.returncode == 0 and "compiling" not in warm.stderr
