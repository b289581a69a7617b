"""The bad-input catalogue: every input that once ended in a traceback, an overflow or a lost result.

Each case is a command line, the exit status it must end with, and a piece of the one line it must print.
Exit status 2 means bad input (errors.py); nothing here may print a traceback, and none of these may start
training: every one is caught before the first kernel runs, in well under the time a run would take.
"""
import gzip
from pathlib import Path

import pytest

from teach_sgd.commands import run as commands_run
from teach_sgd.commands.main import main
from idx_files import idx_dir, images


@pytest.fixture
def data_dirs(tmp_path):
    dirs = {
        "empty": idx_dir(tmp_path / "empty", images(0, 28, 28)),
        "1x1": idx_dir(tmp_path / "1x1", images(50, 1, 1)),
    }
    overflow = idx_dir(tmp_path / "overflow", images(5, 28, 28))
    header = bytes([0, 0, 8, 3]) + (2**31).to_bytes(4, "big") * 2 + (4).to_bytes(4, "big")
    (overflow / "train-images-idx3-ubyte").write_bytes(header + b"\0" * 64)
    dirs["overflow"] = overflow
    corrupt = idx_dir(tmp_path / "corrupt", images(5, 28, 28))
    (corrupt / "train-images-idx3-ubyte").unlink()
    (corrupt / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\0\0\x08\x03" + b"x" * 100)[:30] + b"junk")
    dirs["corrupt"] = corrupt
    return dirs


FIXTURE = str(Path(__file__).parent / "fixtures" / "recording-leashed-4.npz")
README = str(Path(__file__).parent.parent / "README.md")

CATALOGUE = [
    # (argv, status, what the one line must say); {tmp}/{data:NAME} are filled in per test
    (["run", "--data-dir", "{data:empty}"], 2, "holds no images"),
    (["run", "--model", "cnn", "--data-dir", "{data:1x1}"], 2, "CNN cannot train"),
    (["run", "--data-dir", "{data:overflow}"], 2, "promises"),
    (["run", "--data-dir", "{data:corrupt}"], 2, "download the file again"),
    (["run", "--json", "{tmp}"], 2, "is a folder"),
    (["run", "--csv", "{tmp}"], 2, "is a folder"),
    (["run", "--json", "/proc/x.json"], 2, "cannot write --json /proc/x.json"),
    (["run", "--json", "/dev/full"], 2, "No space left on device"),
    (["run", "--csv", "/dev/full"], 2, "No space left on device"),
    (["compare", "--json", "/dev/full"], 2, "No space left on device"),
    (["simulate", "--json", "{tmp}"], 2, "is a folder"),
    (["run", "--updates", "9223372036854775808"], 2, "--updates must be a whole number from 1 to"),
    (["run", "--updates", "1e20"], 2, "--updates must be a whole number"),
    (["run", "--updates", "2.5"], 2, "--updates must be a whole number"),
    (["run", "--persistence", "99999999999999999999999"], 2, "--persistence must be 0, 1, 2"),
    (["run", "--epochs", "1e17"], 2, "--epochs must be a number"),
    (["run", "--seconds", "1e300"], 2, "--seconds must be a number"),
    (["run", "--seconds", "inf"], 2, "--seconds must be a number"),
    (["run", "--seed", "-1"], 2, "--seed must be a whole number"),
    (["run", "--threads", "100000"], 2, "--threads must be a whole number from 1 to 256"),
    (["run", "--hidden", "128," * 20], 2, "at most 8"),
    (["run", "--model", "cnn", "--hidden", "64,64"], 2, "one hidden FC layer"),
    (["simulate", "--alphas", "0.1:1:100000000"], 2, "--alphas N must be a whole number from 1 to 200"),
    (["simulate", "--alphas", "1e308"], 2, "--alphas must be"),
    (["simulate", "--tau-max", "1000000"], 2, "--tau-max must be"),
    (["simulate", "--threads", "1000000"], 2, "--threads must be a whole number from 1 to 64"),
    (["simulate", "--dim", "100000000"], 2, "--dim must be a whole number from 1 to 1,000"),
    (["simulate", "--alphas", "0.01:2:200", "--tau-max", "0,1,2,3,4,5,6,7", "--max-iters", "1000000"], 2,
     "over the limit"),
    (["serve", "--port", "99999"], 2, "--port must be a whole number from 1 to 65,535"),
    (["--lessons", "{tmp}/nowhere", "serve"], 2, "no such folder"),
    # outputs that would overwrite each other or the input, or name nothing (reliability)
    (["run", "--json", "{tmp}/x", "--record", "{tmp}/x"], 2, "--record {tmp}/x names the same file as --json"),
    (["run", "--json", "{tmp}/x", "--csv", "{tmp}/./x"], 2, "names the same file as --json"),
    (["compare", "--json", "{tmp}/x", "--csv", "{tmp}/x"], 2, "names the same file as --json"),
    (["run", "--json", ""], 2, "--json needs a file name"),
    (["run", "--csv", " "], 2, "--csv needs a file name"),
    (["simulate", "--json", ""], 2, "--json needs a file name"),
    (["check", "--protocol", "leashed", "--json", ""], 2, "--json needs a file name"),
    (["replay", "{fixture}", "--json", "{fixture}"], 2, "names the same file as the recording FILE"),
    (["run", "--json", "{tmp}/" + "n" * 300], 2, "File name too long"),
    (["run", "--record", "{tmp}/" + "n" * 300 + "/r.npz"], 2, "File name too long"),
    (["replay", "{readme}"], 2, "is not a teach-sgd recording"),
    (["replay", "{tmp}"], 2, "is a folder"),
    (["serve", "--host", "no-such-host.invalid"], 2, "--host"),
]


@pytest.mark.parametrize("argv,status,words", CATALOGUE, ids=[" ".join(c[0])[:60] for c in CATALOGUE])
def test_bad_input_is_one_line_and_a_documented_status(capsys, tmp_path, data_dirs, monkeypatch, argv, status,
                                                       words):
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{fixture}", FIXTURE).replace("{readme}", README)
            for a in argv]
    words = words.replace("{tmp}", str(tmp_path))
    argv = [str(data_dirs[a[6:-1]]) if a.startswith("{data:") else a for a in argv]

    def too_late(*args, **kwargs):
        raise AssertionError("caught only after compiling or training started")

    monkeypatch.setattr(commands_run, "warm_up", too_late)
    monkeypatch.setattr(commands_run, "Runner", too_late)
    assert main(argv) == status
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert words in err, err
    assert "Traceback" not in err


def test_a_broken_lesson_file_is_a_usage_error_and_a_long_rule_is_not_echoed_whole(tmp_path, capsys):
    (tmp_path / "99-broken.md").write_text(
        '+++\nid = "99-broken"\ntitle = "Broken"\nminutes = 1\n\n[[experiments]]\nid = "e"\n'
        'runs.a = { algo = "leashed" }\n\n[[checkpoints]]\nid = "c"\nexperiment = "e"\n'
        f'question = "?"\nchoices = {{ x = "x", y = "y" }}\nanswer = "{"a.updates + " * 2000}1"\n+++\ntext\n')
    assert main(["--lessons", str(tmp_path), "lessons"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "99-broken" in line]
    assert err and all(len(line) < 500 for line in err)


def test_serve_hands_the_served_app_absolute_paths(tmp_path, monkeypatch):
    from teach_sgd.commands.serve import serve_command

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    command = serve_command("mine")
    assert f"--lessons {tmp_path / 'mine'}" in command
    assert f"TEACH_SGD_EXPORT_DIR={tmp_path / 'teach-sgd-exports'}" in command
