"""Memory checked before it is spent: how much this machine has available now, and a refusal in one line when a
run, a dataset or a recording would need more.

    available_bytes()          # read from the machine now; None where the platform does not tell
    require(parts, "this run", "lower --threads or --hidden")   # UsageError if sum(parts) does not fit

Where the number comes from:
    Linux    /proc/meminfo MemAvailable (what can be allocated without swapping), and, inside a container, the
             cgroup's limit less its usage (/sys/fs/cgroup/memory.max − memory.current), whichever is smaller
    Windows  GlobalMemoryStatusEx's available physical memory
    other    free physical pages where os.sysconf tells (SC_AVPHYS_PAGES); macOS does not: there the amount is
             unknown, nothing is refused and the operating system decides (it swaps or compresses memory)

A request is refused when it would take more than FRACTION of what is available: the rest of the process (the
interpreter, numba, the UI) and the machine's other programs need some too.
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path

from teach_sgd.errors import UsageError

FRACTION = 0.8


def _meminfo() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup() -> int | None:
    """A container's own limit (cgroup v2), less what the container already uses; None without a limit."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((root / "memory.current").read_text()))
    except (OSError, ValueError):
        return None


def _windows() -> int | None:
    import ctypes  # Windows only; the standard library's

    class Status(ctypes.Structure):
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                    ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                    ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                    ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                    ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]

    status = Status()
    status.dwLength = ctypes.sizeof(Status)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
        return None
    return int(status.ullAvailPhys)


def _sysconf() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def available_bytes() -> int | None:
    """Bytes this process can still allocate without swapping, read from the machine now (None: unknown)."""
    if sys.platform.startswith("linux"):
        found = [v for v in (_meminfo(), _cgroup()) if v is not None]
        return min(found) if found else _sysconf()
    if sys.platform == "win32":
        try:
            return _windows()
        except (OSError, AttributeError):
            return None
    return _sysconf()


def fmt_bytes(n: float) -> str:
    """'3.5 GiB', '260 KiB': binary units, named."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{int(n)} bytes"


def require(parts: dict[str, int], what: str, advice: str, available: int | None = None) -> int:
    """Refuse (UsageError, one line) if the parts together need more than FRACTION of the available memory;
    returns the total. `parts` name what takes the memory, e.g. {"parameter versions": …}."""
    total = int(sum(parts.values()))
    available = available_bytes() if available is None else available
    if available is None or total <= FRACTION * available:
        return total
    biggest = sorted(((v, k) for k, v in parts.items() if v), reverse=True)[:3]
    detail = ", ".join(f"{k} {fmt_bytes(v)}" for v, k in biggest)
    raise UsageError(f"{what} would need about {fmt_bytes(total)} of memory ({detail}), more than the "
                     f"{fmt_bytes(available)} this machine has available now: {advice}")


def array_bytes(shape, itemsize: int) -> int:
    """Bytes of an array of this shape (Python ints: a corrupt header cannot overflow the product)."""
    return math.prod(int(n) for n in shape) * int(itemsize)
