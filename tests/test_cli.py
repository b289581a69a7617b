"""The CLI contract: options, the JSON keys, exit statuses (signals: test_signals.py)."""
import json
import os
import subprocess

import pytest

from teach_sgd.child import PACKAGE_HOME, module_argv
from teach_sgd.commands.main import main

JSON_KEYS = {"algo", "threads", "model", "dataset", "params", "lr", "batch", "persistence", "seed", "updates",
             "wall_s", "updates_per_s", "loss_initial", "loss_final", "accuracy_final", "diverged",
             "time_to_target_s", "staleness", "versions", "per_thread", "loss_curve"}
THREAD_KEYS = {"thread", "updates", "cas_success", "cas_fail", "dropped", "lock_wait_s", "staleness_mean",
               "staleness_max"}


@pytest.mark.parametrize("algo,threads", [("seq", 1), ("lock", 3), ("hogwild", 4), ("leashed", 4)])
def test_run_writes_every_json_key_with_consistent_numbers(tmp_path, capsys, algo, threads):
    out = tmp_path / "r.json"
    argv = ["run", "--algo", algo, "--threads", str(threads), "--dataset", "synthetic", "--updates", "300",
            "--persistence", "1", "--json", str(out), "--csv", str(tmp_path / "r.csv")]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    assert "updates/s" in stdout and "thread" in stdout
    r = json.loads(out.read_text())
    assert JSON_KEYS <= r.keys()
    assert {"mean", "max", "hist"} <= r["staleness"].keys()
    assert {"live_final", "peak", "bound", "allocated_total"} <= r["versions"].keys()
    assert r["algo"] == algo and r["threads"] == threads and len(r["per_thread"]) == threads
    for t in r["per_thread"]:
        assert THREAD_KEYS <= t.keys()
    per = r["per_thread"]
    assert sum(t["updates"] for t in per) == r["updates"] >= 300
    assert sum(r["staleness"]["hist"]) == r["updates"]
    assert max(t["staleness_max"] for t in per) == r["staleness"]["max"]
    assert r["persistence"] == 1
    assert r["params"] == 784 * 128 + 128 + 128 * 10 + 10
    assert r["loss_curve"][0][0] == 0.0 and r["loss_curve"][0][1] == pytest.approx(r["loss_initial"])
    assert r["updates_per_s"] == pytest.approx(r["updates"] / r["wall_s"])
    if algo == "leashed":
        assert sum(t["cas_success"] for t in per) == r["updates"]
        assert r["versions"]["live_final"] == 1 and r["versions"]["bound"] == 2 * threads + 1
    assert (tmp_path / "r.csv").read_text().startswith("algo,threads,persistence,seed,seconds,loss,accuracy")


def test_compare_prints_one_table_and_writes_every_run(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["compare", "--algos", "seq,lock,hogwild,leashed", "--threads", "2", "--dataset", "synthetic",
                 "--updates", "200", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    for algo in ("seq", "lock", "hogwild", "leashed"):
        assert f"\n{algo}" in table or f" {algo}" in table
    # the app's Compare columns and its sentence: the contrast the tool exists to show, in the terminal too
    assert "obs writes" in table and "CAS fail" in table and "HOGWILD! lost " in table
    assert "observed coordinate writes; " in table  # the unit of what HOGWILD! loses, named
    assert "Leashed-SGD lost 0" in table and "LOCK lost 0" in table
    runs = json.loads(out.read_text())["runs"]
    assert [r["algo"] for r in runs] == ["seq", "lock", "hogwild", "leashed"]
    assert [r["threads"] for r in runs] == [1, 2, 2, 2]  # seq is the one-thread baseline
    assert len({r["loss_initial"] for r in runs}) == 1  # same seed, same data, same θ0


def test_compare_says_which_algorithms_took_step_and_writes(tmp_path, capsys):
    """One set of options for several algorithms: the output names who took --step and --writes (SYNC ran
    without the rule), and the HOGWILD! write % column shows what sparse writes wrote."""
    out = tmp_path / "c.json"
    assert main(["compare", "--algos", "sync,hogwild,leashed", "--step", "tail", "--writes", "sparse",
                 "--dataset", "synthetic", "--updates", "100", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "--step tail: taken by hogwild, leashed; sync ran without it" in table
    assert "--writes sparse: taken by hogwild; sync, leashed ran without it" in table
    runs = {r["algo"]: r for r in json.loads(out.read_text())["runs"]}
    assert runs["sync"]["step"] == "none" and runs["hogwild"]["step"] == "tail"
    header, _, *rows = table.split("\n\n")[1].splitlines()
    col = header.index("write %")
    hogwild_row = next(r for r in rows if r.lstrip().startswith("hogwild"))
    share = hogwild_row[col - 2: col + len("write %")].strip()  # right-aligned under its header
    assert share.endswith("%") and 0 < float(share[:-1]) < 100  # sparse: not every coordinate is written


@pytest.mark.parametrize("argv,words", [
    (["run", "--threads", "0"], "--threads"),
    (["run", "--threads", "many"], "--threads"),
    (["run", "--lr", "-1"], "--lr"),
    (["run", "--lr", "nan"], "--lr"),
    (["run", "--algo", "sgd"], "--algo"),
    (["run", "--persistence", "-2"], "--persistence"),
    (["run", "--persistence", "often"], "--persistence"),
    (["run", "--target-loss", "1.5"], "--target-loss"),
    (["run", "--hidden", "128,x"], "--hidden"),
    (["run", "--batch", "0"], "--batch"),
    (["run", "--updates", "10", "--seconds", "2"], "--seconds"),
    (["run", "--algo", "seq", "--threads", "4"], "one thread"),
    (["run", "--data-dir", "/nonexistent/mnist"], "/nonexistent/mnist"),
    (["run", "--json", "/nonexistent/dir/r.json"], "/nonexistent/dir"),
    (["compare", "--algos", "lock,fast"], "--algos"),
    (["fly"], "fly"),
])
def test_bad_values_exit_2_with_one_line(capsys, argv, words):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert words in err
    assert "Traceback" not in err


def _cli(*args):
    return module_argv("teach_sgd.commands", *args)


def test_console_entry_point_exits_2_without_traceback():
    p = subprocess.run(cwd=PACKAGE_HOME, args=_cli("run", "--threads", "-3"), capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_diverging_run_is_reported_and_still_written(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["run", "--algo", "hogwild", "--lr", "200", "--updates", "5000", "--json", str(out)]) == 0
    assert "diverged" in capsys.readouterr().out
    r = json.loads(out.read_text())
    assert r["diverged"] is True and r["updates"] < 5000


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"), reason="Fashion-MNIST not installed")
def test_data_dir_runs_on_fashion_mnist(capsys):
    assert main(["run", "--algo", "leashed", "--data-dir", "/usr/share/datasets/fashion-mnist",
                 "--updates", "200"]) == 0


def test_output_that_fails_after_training_is_rescued(tmp_path, monkeypatch, capsys):
    """A path that passed the check but fails at the end (the disk filled up meanwhile): the result goes to a
    rescue file in the current folder, and the one line says where."""
    from teach_sgd import output

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r.json"
    real_replace = output.os.replace

    def full_disk(src, dst, *a, **k):  # the atomic rename is the write's last step
        if str(dst) == str(out):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(output.os, "replace", full_disk)
    assert main(["run", "--dataset", "synthetic", "--updates", "100", "--json", str(out)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()[-1]
    assert "No space left on device" in err and "saved to" in err
    assert "updates/s" in captured.out  # the summary too
    rescued = list(tmp_path.glob("teach-sgd-rescued-*.json"))
    assert len(rescued) == 1 and '"updates": 100' in rescued[0].read_text()
