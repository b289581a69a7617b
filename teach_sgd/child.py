"""Starting teach_sgd in a child process: the same interpreter and the same installed package.

`python -m teach_sgd…` puts the current folder first on sys.path. Started from inside a source checkout,
that would import the checkout's uncompiled sources instead of the installed package (no cffi module
there: an ImportError). So children run in PACKAGE_HOME, the folder that holds the package this very
process imported — the checkout itself for an editable install, site-packages otherwise.
"""
import shlex
import sys
from pathlib import Path

PACKAGE_HOME = str(Path(__file__).resolve().parent.parent)


def module_argv(module: str, *args: str) -> list[str]:
    """argv that runs `python -m module args…`; pass cwd=PACKAGE_HOME to the process call."""
    return [sys.executable, "-m", module, *args]


def module_shell_command(module: str, *args: str) -> str:
    """The same as one shell command (for tools that take a command line), changing into PACKAGE_HOME."""
    return f"cd {shlex.quote(PACKAGE_HOME)} && " + " ".join(shlex.quote(a) for a in module_argv(module, *args))
