"""The terminal the command line writes to: any encoding, or none at all.

    encode_for_terminal()     # stdout/stderr: a character the terminal cannot show becomes ASCII, never an error
    require_terminal()        # the app: UsageError (one line, exit 2) when there is no terminal to draw on

The tool prints τ, η, ×, →, ≤, ∞, box lines and bars. A terminal in ISO-8859-1 (or Python's stdout under
LC_ALL=C without UTF-8 mode) cannot encode them, and Python's default is to raise UnicodeEncodeError in the
middle of a summary, after the run, before the files were written. Here each such character is written in
ASCII instead (τ → tau, × → x, ─ → -), and anything else unknown as "?": the numbers always come through.
"""
from __future__ import annotations

import codecs
import io
import os
import sys

from teach_sgd.errors import UsageError

ASCII = {
    "τ": "tau", "η": "eta", "α": "alpha", "β": "beta", "θ": "theta", "∇": "grad", "Σ": "sum", "σ": "sigma",
    "×": "x", "·": "-", "→": "->", "←": "<-", "↑": "^", "↓": "v", "≤": "<=", "≥": ">=", "≈": "~", "≠": "!=",
    "∞": "inf", "…": "...", "—": "-", "–": "-", "−": "-", "‖": "||", "²": "^2", "±": "+/-", "✓": "ok", "✗": "x",
    "⊘": "0", "●": "*", "•": "*", "°": "deg", "ε": "eps", "↦": "->", "\u0304": "",  # the bar of τ̄ (a combining macron)
    "─": "-", "━": "-", "│": "|", "┃": "|", "┼": "+", "┌": "+", "┐": "+", "└": "+", "┘": "+", "├": "+",
    "┤": "+", "┬": "+", "┴": "+", "█": "#", "▌": "#", "▐": "#", "░": ".", "▒": ":", "▓": "#",
    "▁": "_", "▂": "_", "▃": "=", "▄": "=", "▅": "=", "▆": "#", "▇": "#",
}
HANDLER = "teach_sgd_ascii"


def _ascii(ch: str) -> str:
    if "\u2800" <= ch <= "\u28ff":  # braille cells: the dots plots draw their lines with
        return "."
    return ASCII.get(ch, "?")


def _to_ascii(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeEncodeError):
        raise err
    return "".join(map(_ascii, err.object[err.start:err.end])), err.end


codecs.register_error(HANDLER, _to_ascii)


def encode_for_terminal() -> None:
    """Make stdout and stderr write what their encoding cannot hold as ASCII instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        utf = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")
        if isinstance(stream, io.TextIOWrapper) and not utf:
            stream.reconfigure(errors=HANDLER)  # (under LC_ALL=C Python chose "surrogateescape", which fails too)


def require_terminal() -> None:
    """The app draws on a terminal and reads its keys: with stdin or stdout not a terminal (a pipe, a cron job,
    a CI step) it would paint escape codes into the pipe until killed. textual-serve's children have no
    terminal either: they draw through the web driver it names in TEXTUAL_DRIVER."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the app needs a terminal (stdin and stdout are not one here): run teach-sgd in a "
                         "terminal, or use a headless command such as `teach-sgd run` or `teach-sgd lessons`")
