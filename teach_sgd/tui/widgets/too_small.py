"""TooSmall: a centred notice shown instead of a garbled layout when the terminal is under 80×24."""
from __future__ import annotations

from textual.widgets import Static

MIN_WIDTH, MIN_HEIGHT = 80, 24


class TooSmall(Static):
    DEFAULT_CSS = """
    TooSmall {
        display: none; width: 100%; height: 100%;
        content-align: center middle; text-align: center; background: $background; color: $warning;
        text-style: bold;
    }
    """

    def __init__(self) -> None:
        super().__init__(f"The terminal is too small.\n\nMake it at least {MIN_WIDTH}×{MIN_HEIGHT} "
                         f"(columns × rows), or press q to quit.", id="too-small")
