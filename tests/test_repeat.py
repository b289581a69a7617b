"""Repeats and the new run options on the command line: `compare --repeat N` runs each algorithm on seeds
seed, seed+1, …, prints medians and ranges, and writes every run (with its seed) into `runs`; `--writes` and
`--step` reach the engine and the JSON."""
import json

import pytest

from teach_sgd.commands.main import main
from teach_sgd.report import median_range


def test_compare_repeat_runs_every_seed_and_reports_medians(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["compare", "--algos", "sync,hogwild", "--repeat", "3", "--seed", "5", "--updates", "60",
                 "--writes", "sparse", "--step", "inverse", "--dataset", "synthetic", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "seeds 5–7" in table and "median [min–max]" in table
    assert "0 of 3" in table  # the diverged count, out of the runs
    runs = json.loads(out.read_text())["runs"]
    assert [(r["algo"], r["seed"]) for r in runs] == [("sync", 5), ("sync", 6), ("sync", 7),
                                                      ("hogwild", 5), ("hogwild", 6), ("hogwild", 7)]
    # each option went to the algorithms it applies to, and nowhere else
    assert {(r["algo"], r["writes"], r["step"]) for r in runs} == {("sync", "dense", "none"),
                                                                     ("hogwild", "sparse", "inverse")}
    assert all(r["updates"] == 60 for r in runs)
    hog = runs[3]
    assert sum(hog["step_factors"]["hist"]) == 60
    assert hog["lost_updates"]["coordinates_written"] < 60 * hog["params"]


@pytest.mark.parametrize("argv, words", [
    (["compare", "--repeat", "0"], "--repeat must be a whole number from 1 to 100"),
    (["compare", "--repeat", "many"], "--repeat"),
    (["run", "--algo", "lock", "--writes", "sparse"], "HOGWILD! write mode"),
    (["run", "--algo", "sync", "--step", "tail"], "never stale"),
    (["run", "--algo", "leashed", "--step", "exp"], "--step"),
    (["run", "--algo", "sync", "--threads", "4", "--batch", "2"], "at least --threads"),
    (["compare", "--seed", str(2**32 - 1), "--repeat", "2"], "--seed"),
])
def test_bad_repeat_and_options_exit_2_with_one_line(capsys, argv, words):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err


def test_median_range():
    assert median_range([3, 1, 2], ".0f") == "2 [1–3]"
    assert median_range([1.0, 2.0, 4.0, 3.0], ".1f") == "2.5 [1.0–4.0]"
    assert median_range([7, 7], ".0f") == "7"
