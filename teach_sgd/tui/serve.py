"""`teach-sgd serve`: the same app in a browser on localhost (textual-serve), for a classroom projector."""
from __future__ import annotations

import sys

from teach_sgd.child import module_shell_command


def serve(port: int = 8000, lessons_dir: str | None = None) -> int:
    from textual_serve.server import Server

    command = module_shell_command("teach_sgd.cli", *(["--lessons", lessons_dir] if lessons_dir else []))
    server = Server(command, host="localhost", port=port, title="teach-sgd")
    print(f"teach-sgd: serving on http://localhost:{port} (Ctrl+C stops)", file=sys.stderr)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    return 0
