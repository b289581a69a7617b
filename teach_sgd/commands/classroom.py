"""`teach-sgd class …` and `teach-sgd --class HOST:PORT CODE`: the classroom's commands (teach_sgd/classroom/).

    teach-sgd class host [--host H] [--port P] [--store FILE] [--ui]   serve a class (Ctrl-C stops; the store keeps it)
    teach-sgd class send ADDRESS CODE RESULT.json [--nickname N]   send a `run`/`compare --json` result
    teach-sgd class export ADDRESS CODE [--json OUT] [--csv OUT] [--class FILE]
    teach-sgd class show FILE                                      a saved class's plots, in the app
    teach-sgd --class HOST:PORT CODE [--nickname N]                join a class as a student, in the app

Exit status: 0 done · 2 refused or unreachable (one line says why) or bad input · 130 Ctrl-C.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import ipaddress
import json
import sqlite3
import sys
from pathlib import Path

from teach_sgd import userdata, values
from teach_sgd.classroom import protocol
from teach_sgd.classroom.client import ClassClient, ClassError, join_details
from teach_sgd.classroom.instructor import ClassView, class_csv, class_file, class_json
from teach_sgd.classroom.machine import machine_info
from teach_sgd.classroom.questions import LessonCatalog
from teach_sgd.classroom.server import DEFAULT_PORT, ClassServer, serve_forever
from teach_sgd.classroom.store import ClassStore
from teach_sgd.errors import UsageError
from teach_sgd.output import check_writable, write_text
from teach_sgd.tui.app import launch
from teach_sgd.tui.screens.classroom import InstructorScreen
from teach_sgd.tui.screens.student import StudentScreen

LOOPBACK = "127.0.0.1"


def add_parser(sub) -> None:
    """The `class` command and its subcommands."""
    p = sub.add_parser("class", help="a class session: host one, send results to one, export it")
    p.set_defaults(run=run)
    cls = p.add_subparsers(dest="class_command", metavar="ACTION", required=True)
    h = cls.add_parser("host", help="serve a class: prints the join code and the address")
    h.add_argument("--host", default=None, help=f"address to listen on (default {LOOPBACK}: this machine only; "
                                                "give this machine's LAN address, or 0.0.0.0, for a classroom)")
    h.add_argument("--port", default=str(DEFAULT_PORT), help=f"port (default {DEFAULT_PORT}; 0: any free port)")
    h.add_argument("--store", default=None, metavar="FILE",
                   help="the class's SQLite file; the same file resumes the same class (default: "
                        "class.sqlite in the user data folder)")
    h.add_argument("--ui", action="store_true", help="host from the instructor's screen in the app")
    s = cls.add_parser("send", help="send one result (`run --json` or `compare --json`) to a class")
    s.add_argument("address", metavar="ADDRESS", help="HOST:PORT, as `class host` printed it")
    s.add_argument("code", metavar="CODE", help="the join code")
    s.add_argument("result", metavar="RESULT.json")
    s.add_argument("--nickname", default="student", help="the name the class sees (default student)")
    e = cls.add_parser("export", help="write every result stored in a class")
    e.add_argument("address", metavar="ADDRESS")
    e.add_argument("code", metavar="CODE")
    e.add_argument("--json", default=None, metavar="OUT", help='write {"results": [...]} as JSON')
    e.add_argument("--csv", default=None, metavar="OUT", help="write one row per result as CSV")
    e.add_argument("--class", dest="class_file", default=None, metavar="FILE",
                   help="write a class file (`teach-sgd class show FILE` opens it later)")
    w = cls.add_parser("show", help="open a saved class file's plots in the app")
    w.add_argument("file", metavar="FILE")


def default_store() -> Path:
    return userdata.data_dir() / "class.sqlite"


def run(args, signals=None) -> int:
    if args.class_command == "host":
        return cmd_host(args, signals)
    return {"send": cmd_send, "export": cmd_export, "show": cmd_show}[args.class_command](args)


# ---- host ---------------------------------------------------------------------------------------------------
def host_settings(args) -> tuple[str, int, Path]:
    host = args.host or LOOPBACK
    port = values.integer(args.port, "--port", 0, 65535)
    store = Path(args.store).expanduser() if args.store else default_store()
    if store.is_dir():
        raise UsageError(f"--store {args.store} is a folder: give a file name, e.g. {store / 'class.sqlite'}")
    store.parent.mkdir(parents=True, exist_ok=True)
    return host, port, store


def open_class(host: str, port: int, store_path: Path):
    """The store (new or resumed) and its server, not started yet."""
    try:
        store = ClassStore(store_path)
    except sqlite3.DatabaseError as e:
        raise UsageError(f"--store {store_path} is not a class store ({e}); give another file") from None
    return ClassServer(store, host, port, lessons=LessonCatalog())


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def start_lines(server) -> list[str]:
    """What `class host` prints when it is listening (the instructor's screen shows the same)."""
    counts = server.store.counts()
    kept = (f"resumed: {counts['students']} students, {counts['predictions']} predictions, "
            f"{counts['results']} results kept" if any(counts.values()) else "a new class")
    reach = ("this machine only (give --host with this machine's LAN address for a classroom)"
             if is_loopback(server.host) else "LAN: anyone on this network who has the join code can join")
    address = server.address
    if server.host in ("0.0.0.0", "::"):  # every interface: students need one of this machine's addresses
        address += f" (every interface: students use this machine's LAN address, port {server.port})"
    return [f"join code: {server.code}", f"address: {address}", f"reachable from: {reach}",
            f"store: {server.store.path} ({kept})",
            f"students: teach-sgd --class {server.address} {server.code} --nickname NAME"]


def cmd_host(args, signals=None) -> int:
    host, port, store_path = host_settings(args)
    server = open_class(host, port, store_path)
    if args.ui:
        try:
            return launch(opening=lambda: InstructorScreen(server), signals=signals)
        finally:
            server.store.close()

    def ready(s) -> None:
        print("\n".join(start_lines(s)), flush=True)
        print("Ctrl-C stops the class; the same command resumes it.", file=sys.stderr, flush=True)

    if signals is not None:
        # a stop signal ends the process at once (teach_sgd/signals.py): every answer the store accepted is
        # already committed to its SQLite file (WAL), which a process exit cannot undo
        signals.setup_note = f"(the class stopped; everything is kept in {store_path}, the same command resumes it)"
    try:
        asyncio.run(serve_forever(server, ready))
    except OSError as e:
        raise UsageError(f"cannot listen on {server.address}: {e.strerror or e}; choose another --port or --host")
    finally:
        server.store.close()
    return 0


# ---- send / export ------------------------------------------------------------------------------------------
def read_runs(path: str) -> list[dict]:
    """The runs in a `run --json` (one object) or `compare --json` ({"runs": […]}) file."""
    try:
        data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    except ValueError:
        raise UsageError(f"{path} is not JSON: give a file written by `teach-sgd run --json`") from None
    runs = data.get("runs") if isinstance(data, dict) and "runs" in data else [data]
    if not isinstance(runs, list) or not runs:
        raise UsageError(f"{path} holds no runs: give a file written by `teach-sgd run --json`")
    return runs


def record_id(code: str, nickname: str, summary: dict) -> str:
    """The same file sent twice by the same nickname is one record (a retry, not a second run)."""
    text = json.dumps([code, nickname, summary], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cmd_send(args) -> int:
    try:
        summaries = [protocol.summary(r) for r in read_runs(args.result)]
    except protocol.Refused as e:
        raise UsageError(f"{args.result}: {e}") from None
    machine = machine_info()

    async def send():
        async with ClassClient(args.address, args.code, args.nickname) as client:
            name = await client.join()
            for s in summaries:
                client.queue_result("class", s, machine, record_id=record_id(client.code, name, s))
            return await client.flush()

    report = asyncio.run(send())
    if report.refused:
        raise ClassError(f"the class host refused: {report.refused[0]}")
    if report.pending:
        raise ClassError(f"the class host is busy: {report.pending} of {len(summaries)} result(s) not sent; "
                         "try again")
    again = f" ({report.already} already stored before: sent again, kept once)" if report.already else ""
    print(f"stored {report.sent} result(s) in the class at {args.address}{again}", file=sys.stderr)
    return 0


def cmd_export(args) -> int:
    outputs = [(path, label) for path, label in ((args.json, "--json"), (args.csv, "--csv"),
                                                  (args.class_file, "--class")) if path]
    if not outputs:
        raise UsageError("say what to write: --json OUT, --csv OUT or --class FILE")
    for path, label in outputs:
        check_writable(path, label)

    async def fetch() -> list[dict]:
        async with ClassClient(args.address, args.code) as client:
            return await client.export()

    view = ClassView(rows=asyncio.run(fetch()))
    for path, label in outputs:
        text = {"--json": class_json, "--csv": class_csv, "--class": class_file}[label](view)
        print(f"wrote {write_text(path, text, label)} ({len(view.rows())} results)", file=sys.stderr)
    return 0


def cmd_show(args) -> int:
    view = ClassView.from_file(args.file)
    return launch(opening=lambda: InstructorScreen(view=view))


# ---- the student's and the presenter's way into the app ------------------------------------------------------
def add_join_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--class", dest="join", nargs=2, default=None, metavar=("HOST:PORT", "CODE"),
                        help="join a class as a student (the instructor's `class host` prints both)")
    parser.add_argument("--nickname", default=None, help="with --class: the name the class sees")


def join_settings(args) -> tuple[str, str, str] | None:
    """(address, code, nickname) from `--class HOST:PORT CODE [--nickname N]`, checked; None without --class."""
    if args.join is None:
        if args.nickname is not None:
            raise UsageError("--nickname goes with --class HOST:PORT CODE")
        return None
    address, code = args.join
    return join_details(address, code, args.nickname, "--nickname")


def student_opening(address: str, code: str, name: str):
    """The screen `teach-sgd --class HOST:PORT CODE` opens on."""
    return lambda: StudentScreen(address, code, name)
