"""`teach-sgd serve`: the same app in a browser on localhost (textual-serve), for a classroom projector."""
from __future__ import annotations

import shlex
import sys


def serve(port: int = 8000, lessons_dir: str | None = None) -> int:
    from textual_serve.server import Server

    command = f"{shlex.quote(sys.executable)} -m teach_sgd.cli"
    if lessons_dir:
        command += f" --lessons {shlex.quote(lessons_dir)}"
    server = Server(command, host="localhost", port=port, title="teach-sgd")
    print(f"teach-sgd: serving on http://localhost:{port} (Ctrl+C stops)", file=sys.stderr)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    return 0
