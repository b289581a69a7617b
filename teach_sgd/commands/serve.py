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
from teach_sgd.errors import UsageError
from teach_sgd.tui.export import EXPORT_DIR_ENV, default_export_dir


def serve_command(lessons_dir: str | None = None) -> str:
    """The shell command textual-serve runs for each browser session."""
    args = []
    if lessons_dir is not None:
        folder = Path(lessons_dir).expanduser().resolve()
        if not folder.is_dir():
            raise UsageError(f"--lessons {lessons_dir}: no such folder; give a folder of lesson files")
        args = ["--lessons", str(folder)]
    exports = default_export_dir().resolve()
    return f"export {EXPORT_DIR_ENV}={shlex.quote(str(exports))}; " + module_shell_command("teach_sgd.commands", *args)


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="serve the app to a browser on localhost")
    p.add_argument("--port", default="8000")
    p.set_defaults(run=lambda args, _signals: serve(port=args.port, lessons_dir=args.lessons))


def serve(port: str | int = 8000, lessons_dir: str | None = None) -> int:
    port = values.integer(port, "--port", 1, 65535)
    server = Server(serve_command(lessons_dir), host="localhost", port=port, title="teach-sgd")
    print(f"teach-sgd: serving on http://localhost:{port} (Ctrl+C stops); exports go to "
          f"{default_export_dir().resolve()}", file=sys.stderr)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    return 0
