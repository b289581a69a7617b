"""Output files: checked before any work starts, and written so that nothing is ever lost or half-written.

    check_outputs([(args.json, "--json"), (args.csv, "--csv")], inputs=[(args.file, "FILE")])
                                        # before any work: each is a writable file, no two name one file
    write_text(path, text, "--json")    # after: atomically; on failure, saves the text elsewhere and says where
    write_atomic(path, data)            # the primitive every writer of the package uses (progress, exports…)
    write_new(folder, stem, {".json": text, ".csv": text2})   # the app's exports: new files, never overwriting

How a file is written: into a temporary file in the same folder, flushed and fsync'ed, then renamed over the
target (and the folder fsync'ed, so the rename itself survives a power cut). A rename within one folder is
atomic: a kill at any moment (Ctrl-C thrice, SIGKILL, the out-of-memory killer, a full disk) leaves the target
either as it was or whole and new, never empty or cut. A target that is not a regular file (/dev/stdout, a
pipe) is written directly: there is nothing to replace.

A path is checked by opening it for writing, the way the result will be written, because permission bits do
not tell (root may write anywhere but /proc, a read-only file system or a full device). The check writes
nothing: an existing file keeps its content until the result replaces it.
"""
from __future__ import annotations

import os
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from teach_sgd.errors import OutputError

_UMASK = os.umask(0)
os.umask(_UMASK)  # read once, at import, while no other thread can be creating files


def _show(path: str | os.PathLike, limit: int = 100) -> str:
    """A path as messages quote it: a 300-character one loses its middle (visibly, "…"), keeping the folder it
    starts in and the name it ends with, so the message stays one readable line."""
    text = str(path)
    half = (limit - 1) // 2
    return text if len(text) <= limit else text[:half] + "…" + text[-half:]


def check_writable(path: str | os.PathLike, label: str) -> Path:
    if not str(path).strip():
        raise OutputError(f"{label} needs a file name (it was given an empty one), e.g. {label} result"
                          f"{_suffix(label)}")
    p = Path(path).expanduser()
    try:
        if p.is_dir():
            raise OutputError(f"{label} {_show(path)} is a folder: give a file name, e.g. "
                              f"{_show(p / ('result' + _suffix(label)))}")
        existed = p.exists()
        fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b"")  # a full device (/dev/full) refuses even an empty write
        finally:
            os.close(fd)
        if not existed and p.is_file():
            p.unlink()  # the check leaves no empty file behind if the run never gets to write it
    except OSError as e:
        raise OutputError(f"cannot write {label} {_show(path)}: {e.strerror or e}; choose another path") from None
    return p


def _identity(path: str | os.PathLike) -> tuple:
    """What makes two paths one file: device and inode for a file that exists (hard links, symlinks, `./x` and
    `x` alike), the resolved path for one that does not yet."""
    p = Path(path).expanduser()
    try:
        st = p.stat()
        return ("inode", st.st_dev, st.st_ino)
    except OSError:
        return ("path", os.path.realpath(p))


def check_outputs(outputs: Iterable[tuple[str | os.PathLike | None, str]],
                  inputs: Iterable[tuple[str | os.PathLike | None, str]] = ()) -> list[tuple[Path, str]]:
    """Check a command's outputs before any work: each writable (check_writable), no two naming the same file,
    none naming one of the command's inputs. `None` means the option was not given; "" is refused."""
    given = [(path, label) for path, label in outputs if path is not None]
    seen: dict[tuple, tuple[str, str]] = {}
    for path, label in inputs:
        if path is not None:
            seen[_identity(path)] = (label, "the output would replace what the command reads")
    for path, label in given:
        if str(path).strip():
            key = _identity(path)
            if key in seen:
                other, why = seen[key]
                raise OutputError(f"{label} {_show(path)} names the same file as {other}: {why}; give each "
                                  "output a file of its own")
            seen[key] = (label, "one would overwrite the other")
    return [(check_writable(path, label), label) for path, label in given]


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Replace `path` by `data` (str: UTF-8) atomically; OSError if it cannot."""
    p = Path(path).expanduser()
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = p.stat().st_mode
        if not stat.S_ISREG(mode):  # /dev/stdout, a named pipe: not a file to replace
            with open(p, "wb") as f:
                f.write(raw)
            return
        mode = stat.S_IMODE(mode)
    except FileNotFoundError:
        mode = 0o666 & ~_UMASK
    folder = p.parent
    # a short temporary name: the target's own name may already be as long as a name can be
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".teach-sgd-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable. POSIX only: Windows cannot open a folder (NTFS journals the rename itself)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse to fsync a folder; the rename is still atomic
    finally:
        os.close(fd)


def write_text(path: str | os.PathLike, text: str | bytes, label: str) -> Path:
    """Write `text` (or bytes: a recording) to `path` atomically. If that fails (the disk filled up during a
    long run, say), it goes to a file in the current folder, or else the temporary folder, and OutputError
    says where."""
    try:
        write_atomic(path, text)
        return Path(path)
    except OSError as e:
        reason = e.strerror or str(e)
    stem = f"teach-sgd-rescued-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}{_suffix(label, path)}"
    for folder in (Path.cwd(), Path(tempfile.gettempdir())):
        try:
            write_atomic(folder / stem, text)
        except OSError:
            continue
        raise OutputError(f"cannot write {label} {_show(path)}: {reason}; the results were saved to "
                          f"{folder / stem}")
    raise OutputError(f"cannot write {label} {_show(path)}: {reason}, nor a rescue copy in the current or "
                      "temporary folder; the summary above is all that was kept")


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
        write_atomic(path, data)
    return paths


def _suffix(label: str, path: str | os.PathLike = "") -> str:
    suffix = Path(path).suffix[:8]
    return suffix if suffix else next((s for key, s in (("csv", ".csv"), ("record", ".npz"), ("svg", ".svg"))
                                       if key in label), ".json")
