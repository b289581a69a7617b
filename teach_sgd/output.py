"""Output files: checked before any work starts, and written so that a failure never loses a result.

    check_writable(path, "--json")      # before training: really opens the path for writing
    write_text(path, text, "--json")    # after: on failure, saves the text elsewhere and says where
    write_new(folder, stem, {".json": text, ".csv": text2})   # the app's exports: new files, never overwriting

A path is checked by opening it for writing, the way the result will be written, because permission bits
do not tell (root may write anywhere but /proc, a read-only file system or a full device). The check
writes nothing: an existing file keeps its content until the result replaces it.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from teach_sgd.errors import OutputError


def check_writable(path: str | os.PathLike, label: str) -> Path:
    p = Path(path).expanduser()
    if p.is_dir():
        raise OutputError(f"{label} {path} is a folder: give a file name, e.g. {p / ('result' + _suffix(label))}")
    existed = p.exists()
    try:
        fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b"")  # a full device (/dev/full) refuses even an empty write
        finally:
            os.close(fd)
    except OSError as e:
        raise OutputError(f"cannot write {label} {path}: {e.strerror}; choose another path") from None
    if not existed and p.is_file():
        p.unlink()  # the check leaves no empty file behind if the run never gets to write it
    return p


def write_text(path: str | os.PathLike, text: str | bytes, label: str) -> Path:
    """Write `text` (or bytes: a recording) to `path`. If that fails (the disk filled up during a long run,
    say), it goes to a file in the current folder, or else the temporary folder, and OutputError says where."""
    try:
        _write(Path(path).expanduser(), text)
        return Path(path)
    except OSError as e:
        reason = e.strerror or str(e)
    stem = f"teach-sgd-rescued-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}{_suffix(label, path)}"
    for folder in (Path.cwd(), Path(tempfile.gettempdir())):
        try:
            _write(folder / stem, text)
        except OSError:
            continue
        raise OutputError(f"cannot write {label} {path}: {reason}; the results were saved to {folder / stem}")
    raise OutputError(f"cannot write {label} {path}: {reason}, nor a rescue copy in the current or temporary "
                      "folder; the summary above is all that was kept")


EXPORT_DIR_ENV = "TEACH_SGD_EXPORT_DIR"


def default_export_dir() -> Path:
    """Where the app writes (exports, recordings, saved schedules): $TEACH_SGD_EXPORT_DIR, else ./teach-sgd-exports."""
    return Path(os.environ.get(EXPORT_DIR_ENV) or Path.cwd() / "teach-sgd-exports")


def fresh_paths(directory, stem: str, suffixes) -> list[Path]:
    """<directory>/<stem>-<time><suffix> for each suffix (the folder is made), none of which exists yet: the time,
    and a counter when two writes fall in the same second, so that nothing is overwritten."""
    directory = Path(directory).expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    n = 1
    while True:
        paths = [directory / f"{stem}{'' if n == 1 else f'-{n}'}{s}" for s in suffixes]
        if not any(p.exists() for p in paths):
            return paths
        n += 1


def write_new(directory, stem: str, contents: dict) -> list[Path]:
    """The one writer of the app's exports: each suffix's text (or bytes) into a fresh file (fresh_paths); the
    paths, in the order given. An OSError (a full disk, a read-only folder) is the caller's to say."""
    paths = fresh_paths(directory, stem, list(contents))
    for path, data in zip(paths, contents.values()):
        _write(path, data)
    return paths


def _write(p: Path, data: str | bytes) -> None:
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data)


def _suffix(label: str, path: str | os.PathLike = "") -> str:
    suffix = Path(path).suffix
    return suffix if suffix else next((s for key, s in (("csv", ".csv"), ("record", ".npz"), ("svg", ".svg"))
                                       if key in label), ".json")
