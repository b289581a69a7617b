"""`teach-sgd serve`: the same app in a browser on localhost (textual-serve), for a classroom projector.

The served app runs as a child process in another folder (children start in PACKAGE_HOME: teach_sgd/child.py),
so every path it gets is made absolute here, where the user typed it: the lessons folder, and the exports
folder, which is where the user started `teach-sgd serve` (./teach-sgd-exports), not the child's folder.
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from textual_serve.server import Server

from teach_sgd import values
from teach_sgd.child import module_shell_command
from teach_sgd.commands import classroom
from teach_sgd.errors import UsageError
from teach_sgd.output import EXPORT_DIR_ENV, default_export_dir


def serve_command(lessons_dir: str | None = None, join: tuple[str, str, str] | None = None) -> str:
    """The shell command textual-serve runs for each browser session (`join`: (address, code, nickname) of a
    class to join, checked by classroom.join_settings)."""
    args = []
    if lessons_dir is not None:
        folder = Path(lessons_dir).expanduser().resolve()
        if not folder.is_dir():
            raise UsageError(f"--lessons {lessons_dir}: no such folder; give a folder of lesson files")
        args = ["--lessons", str(folder)]
    if join is not None:
        address, code, nickname = join
        args += ["--class", address, code, "--nickname", nickname]
    exports = default_export_dir().resolve()
    return f"export {EXPORT_DIR_ENV}={shlex.quote(str(exports))}; " + module_shell_command("teach_sgd.commands", *args)


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="serve the app to a browser on localhost")
    p.add_argument("--port", default="8000")
    classroom.add_join_arguments(p)
    p.set_defaults(run=lambda args, _signals: serve(port=args.port, lessons_dir=args.lessons,
                                                    join=classroom.join_settings(args)))


def serve(port: str | int = 8000, lessons_dir: str | None = None, join=None) -> int:
    port = values.integer(port, "--port", 1, 65535)
    server = Server(serve_command(lessons_dir, join), host="localhost", port=port, title="teach-sgd")
    print(f"teach-sgd: serving on http://localhost:{port} (Ctrl+C stops); exports go to "
          f"{default_export_dir().resolve()}", file=sys.stderr)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    return 0
