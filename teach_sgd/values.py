"""One parser per kind of value, for every setting of a run or a simulation.

Each parser takes what a user wrote — text from the command line or a form, or a TOML value from a lesson
file — checks it against its limits, and returns the typed value or raises ConfigError with one sentence
that names the setting (`label`: `--threads` on the command line, `threads` in a lesson) and quotes at most
a short piece of what was given. Typed values pass through the same checks, so a config built in code is
validated by the same rules.

RunConfig (engine/config.py) and the simulator's configs (sim/config.py) declare their fields with these;
nothing else parses a setting.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from teach_sgd.errors import ConfigError, shorten

INF_WORDS = ("inf", "infinity", "∞", "none", "", "-")


def _bad(label: str, what: str, value: object) -> ConfigError:
    return ConfigError(f"{label} must be {what}, got {shorten(value)}", label.lstrip("-").replace("-", "_"))


def _num(x: float) -> str:
    """1000000.0 → '1,000,000'; 0.05 → '0.05'."""
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


def _span(low, high) -> str:
    return f"from {_num(low)} to {_num(high)}"


def integer(value: object, label: str, low: int, high: int) -> int:
    """A whole number in [low, high]. '1e6' and 1e6 are accepted as 1,000,000; 2.5 is not."""
    what = f"a whole number {_span(low, high)}"
    if isinstance(value, bool):
        raise _bad(label, what, value)
    if isinstance(value, int):
        v = value
    else:
        text = str(value).strip().replace(",", "").replace("_", "")
        try:
            v = int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                raise _bad(label, what, value) from None
            if not (math.isfinite(f) and f.is_integer()):
                raise _bad(label, what, value) from None
            v = int(f)
    if not low <= v <= high:
        raise _bad(label, what, value)
    return v


def number(value: object, label: str, low: float, high: float, *, zero_ok: bool = False) -> float:
    """A finite number in (low, high] — or [0, high] with zero_ok."""
    what = f"a number {'from' if zero_ok else 'above'} {_num(low)} {'to' if zero_ok else 'and at most'} {_num(high)}"
    if isinstance(value, bool):
        raise _bad(label, what, value)
    try:
        v = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        raise _bad(label, what, value) from None
    if not math.isfinite(v) or v > high or v < low or (v == low and not zero_ok):
        raise _bad(label, what, value)
    return v


def choice(value: object, label: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise _bad(label, f"one of {', '.join(choices)}", value)
    return value.strip().lower()


def flag(value: object, label: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise _bad(label, "true or false", value)


def bound_or_inf(value: object, label: str, high: int) -> int | None:
    """A bound 0, 1, 2, … (at most `high`) or ∞ ('inf', None): Leashed-SGD's Tp, the simulator's τ_max."""
    if value is None or (isinstance(value, str) and value.strip().lower() in INF_WORDS):
        return None
    if isinstance(value, float) and math.isinf(value):
        return None
    try:
        return integer(value, label, 0, high)
    except ConfigError:
        raise _bad(label, f"0, 1, 2, … (at most {high:,}) or inf", value) from None


def widths(value: object, label: str, high: int, max_layers: int) -> tuple[int, ...]:
    """Layer widths: '128,64', [128, 64] or 128."""
    what = f"comma-separated layer widths from 1 to {high:,}, at most {max_layers} of them (e.g. 128,64)"
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, (list, tuple)) else [value]
    if not items or len(items) > max_layers:
        raise _bad(label, what, value)
    try:
        return tuple(integer(w, label, 1, high) for w in items)
    except ConfigError:
        raise _bad(label, what, value) from None


def integers(value: object, label: str, low: int, high: int, max_count: int) -> tuple[int, ...]:
    """Distinct whole numbers: '0,1,3' or [0, 1, 3]."""
    what = f"up to {max_count} distinct whole numbers {_span(low, high)}, comma-separated (e.g. 0,1,3)"
    items = _items(value)
    try:
        out = tuple(integer(v, label, low, high) for v in items)
    except ConfigError:
        raise _bad(label, what, value) from None
    if not out or len(out) > max_count or len(set(out)) != len(out):
        raise _bad(label, what, value)
    return out


def numbers(value: object, label: str, low: float, high: float, max_count: int) -> tuple[float, ...]:
    """Distinct positive numbers: '0.1,0.5', [0.1, 0.5], or 'LOW:HIGH:N' for N values evenly spaced on a log
    scale from LOW to HIGH."""
    what = (f"up to {max_count} distinct numbers above {_num(low)} and at most {_num(high)}: a comma-separated list, or "
            f"LOW:HIGH:N for N values spaced evenly on a log scale (N at most {max_count})")
    if isinstance(value, str) and ":" in value:
        parts = value.split(":")
        if len(parts) != 3:
            raise _bad(label, what, value)
        lo, hi = number(parts[0], label, low, high), number(parts[1], label, low, high)
        n = integer(parts[2], f"{label} N", 1, max_count)
        if n > 1 and not lo < hi:
            raise ConfigError(f"{label} LOW:HIGH:N needs LOW < HIGH, got {shorten(value)}", label.lstrip("-"))
        return tuple(lo * (hi / lo) ** (k / (n - 1)) for k in range(n)) if n > 1 else (lo,)
    try:
        out = tuple(number(v, label, low, high) for v in _items(value))
    except ConfigError:
        raise _bad(label, what, value) from None
    if not out or len(out) > max_count or len(set(out)) != len(out):
        raise _bad(label, what, value)
    return out


def _items(value: object) -> list:
    if isinstance(value, str):
        return [v for v in (p.strip() for p in value.split(",")) if v] if value.strip() else []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def budget(value: object, label: str) -> dict[str, str]:
    """The UI's one-field budget: '3000' → updates, '10s' → seconds, '2ep' → epochs (unparsed: the fields'
    own parsers check the numbers)."""
    text = str(value).strip().lower().replace(" ", "")
    if text.endswith("ep"):
        return {"epochs": text[:-2]}
    if text.endswith("s"):
        return {"seconds": text[:-1]}
    if not text:
        raise _bad(label, "updates (3000), seconds (10s) or epochs (2ep)", value)
    return {"updates": text}
