"""`teach-sgd serve`: the same app in a browser (textual-serve), for a classroom projector or a classroom network.

    teach-sgd serve                       this machine only: http://localhost:8000
    teach-sgd serve --host 0.0.0.0        every network this machine is on (said on start, with the address)

The page works with no internet: its font comes from textual-serve's own files (offline_templates). A port
that is busy is one line and exit status 2, said before anything claims to be serving (check_port).

The served app runs as a child process in another folder (children start in PACKAGE_HOME: teach_sgd/child.py),
so every path it gets is made absolute here, where the user typed it: the lessons folder, and the exports
folder, which is where the user started `teach-sgd serve` (./teach-sgd-exports), not the child's folder.
"""
from __future__ import annotations

import errno
import re
import shlex
import socket
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import textual_serve
from textual_serve.server import Server

from teach_sgd import values
from teach_sgd.child import module_shell_command
from teach_sgd.commands import classroom
from teach_sgd.errors import UsageError, shorten
from teach_sgd.output import EXPORT_DIR_ENV, default_export_dir, write_atomic


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
    p = sub.add_parser("serve", help="serve the app to a browser (this machine only, unless --host says otherwise)")
    p.add_argument("--port", default="8000", help="the port to listen on (default 8000)")
    p.add_argument("--host", default="localhost",
                   help="the address to listen on: localhost (default: this machine only), 0.0.0.0 (every network "
                        "this machine is on: a classroom's LAN) or one of this machine's addresses")
    classroom.add_join_arguments(p)
    p.set_defaults(run=lambda args, _signals: serve(port=args.port, lessons_dir=args.lessons, host=args.host,
                                                    join=classroom.join_settings(args)))


def lan_address() -> str:
    """This machine's address on its network (the one its default route uses), for the URL others open. A UDP
    socket's connect sends nothing; it only makes the system choose the outgoing interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere, never contacted
            return s.getsockname()[0]
        except OSError:
            return socket.gethostname()


def check_port(host: str, port: int) -> None:
    """Bind the port once before serving, so a busy port or an address this machine does not have is one line
    and exit status 2, said before anything claims to be serving."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise UsageError(f"--host {shorten(host)}: {e.strerror}; give localhost, 0.0.0.0 or an address of this "
                         "machine") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds: a just-closed port is free
        try:
            s.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise UsageError(f"port {port} is in use on {host} (another teach-sgd serve?): stop that one, or "
                                 f"choose another port, e.g. --port {port + 1 if port < 65535 else 8000}") from None
            raise UsageError(f"cannot listen on {host}:{port}: {e.strerror}; give another --host or --port") from None


GOOGLE_FONTS = re.compile(r'<link\s+rel="stylesheet"\s+href="https://fonts\.googleapis\.com/[^"]*"\s*/>')
LOCAL_FONT = ('<style>@font-face { font-family: "Roboto Mono"; '
              'src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf"); }</style>')
EXTERNAL = re.compile(r'(?:src|href)\s*=\s*"(?:https?:)?//')  # what a browser would fetch from elsewhere


def offline_templates() -> Path:
    """textual-serve's page asks fonts.googleapis.com for its font: with no internet (a classroom network, a
    projector laptop) the page hangs on it. This is its template with that request replaced by the same font
    from textual-serve's own static folder (which it serves), written once per textual-serve version into the
    temporary folder; the page then loads nothing from outside this machine."""
    original = Path(textual_serve.__file__).parent / "templates" / "app_index.html"
    page = GOOGLE_FONTS.sub(LOCAL_FONT, original.read_text(encoding="utf-8"))
    if EXTERNAL.search(page):
        raise UsageError("this textual-serve's page loads something from the internet that teach-sgd cannot serve "
                         "locally; install the textual-serve version pyproject.toml names")
    folder = Path(tempfile.gettempdir()) / f"teach_sgd-serve-{version('textual-serve')}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "app_index.html"
    if not target.is_file() or target.read_text(encoding="utf-8") != page:
        write_atomic(target, page)
    return folder


def serve(port: str | int = 8000, lessons_dir: str | None = None, host: str = "localhost", join=None) -> int:
    port = values.integer(port, "--port", 1, 65535)
    command = serve_command(lessons_dir, join)
    check_port(host, port)
    local = host in ("localhost", "127.0.0.1", "::1")
    shown = lan_address() if host in ("0.0.0.0", "::") else host
    server = _Server(command, host=host, port=port, title="teach-sgd", public_url=f"http://{shown}:{port}",
                     templates_path=offline_templates())
    server.announce = (f"teach-sgd: serving on http://{shown}:{port} "
                       + ("(this machine only)" if local else
                          "to the network: anyone who can reach this machine can open it and run the app; "
                          "serve without --host to keep it to this machine")
                       + f" · exports go to {default_export_dir().resolve()} · Ctrl+C stops")
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    except OSError as e:  # the port was taken between the check and the bind
        raise UsageError(f"cannot listen on {host}:{port}: {e.strerror}; choose another --port") from None
    return 0


class _Server(Server):
    """textual-serve's server, saying our one line once it is listening (instead of its banner)."""

    announce = ""

    async def on_startup(self, app) -> None:
        print(self.announce, file=sys.stderr, flush=True)
