"""LinesWidget: a widget that paints pre-built lines of styled segments (Textual's line API).

The dashboard repaints its tables 15 times a second while worker threads compete for the same cores, so its
text panels skip rich/Content layout entirely: each update builds one Strip per line, and `render_line`
just hands them out.
"""
from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

Line = list[tuple[str, Style | None]]


class LinesWidget(Widget):
    DEFAULT_CSS = """
    LinesWidget { height: auto; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._strips: list[Strip] = []
        self._width = 0

    def set_lines(self, lines: list[Line]) -> None:
        strips = [Strip([Segment(text, style) for text, style in line]) for line in lines]
        width = max((s.cell_length for s in strips), default=0)
        relayout = len(strips) != len(self._strips) or width != self._width
        self._strips, self._width = strips, width
        self.refresh(layout=relayout and self.styles.height is not None and self.styles.height.is_auto)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self._strips))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max(1, self._width)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if 0 <= y < len(self._strips):
            return self._strips[y].crop_extend(0, width, None).apply_style(base)
        return Strip.blank(width, base)
