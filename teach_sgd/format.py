"""How numbers are shown, everywhere (the dashboard, the CLI's tables, the lesson pages): counts, rates, losses and
unicode bars. Below every layer that shows a number, so none of them reaches up to the app for it."""
from __future__ import annotations

import math
import re

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")
_UNDERLINE = re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)")

_EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(value: float, maximum: float, width: int) -> str:
    """A left-aligned bar of `width` cells, 1/8-cell resolution, scaled so that `maximum` fills it."""
    if maximum <= 0 or value <= 0 or not math.isfinite(value):
        return " " * width
    eighths = max(1, round(min(value / maximum, 1.0) * width * 8))
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text.ljust(width)


def fmt_count(n: int) -> str:
    """Counts everywhere on screen: with thousands separators (12,003), as the status line writes them."""
    return f"{n:,d}"


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def fmt_loss(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "∞" if x is not None and math.isinf(x) else "nan"
    return f"{x:.4g}"




def plain_markdown(text: str) -> str:
    """One line of Markdown as its words: **bold**, *italic*, _italic_ and `code` lose their markers, a link
    keeps its text ('[the paper](url)' → 'the paper'); an underscore inside a word (teach_sgd) stays."""
    text = _LINK.sub(r"\1", text)
    for _ in range(3):  # nested marks (***both***, **a `b`**) come off one layer at a time
        text = _UNDERLINE.sub(r"\1", _MARKS.sub(r"\2", text))
    return text
