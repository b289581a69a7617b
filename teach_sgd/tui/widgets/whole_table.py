"""WholeTable: a DataTable whose cells are never shown cut to a column's old width.

Textual's DataTable measures new and changed cells when the table is next idle (`_update_dimensions`). A paint
that comes before that idle — on a busy machine it can — renders those cells at the columns' old widths and
caches the strips under an update count that measuring does not bump, so every later paint reuses them:
"12,345" stays "1". (Seen in a fresh-clone CI run under load: the Compare results table, every column one cell
wide; tests/test_tables.py replays that order of events.) After a measure that changed a column's width, this bumps
the count the caches are keyed on and repaints. Textual 8's internals; pyproject pins textual < 9.
"""
from __future__ import annotations

from textual.widgets import DataTable


class WholeTable(DataTable):
    _measured_widths: tuple[int, ...] = ()

    def _update_dimensions(self, new_rows) -> None:
        super()._update_dimensions(new_rows)
        widths = tuple(column.get_render_width(self) for column in self.ordered_columns)
        if widths != self._measured_widths:
            self._measured_widths = widths
            self._update_count += 1   # drops the strips painted at the old widths (every render cache's key)
            self.refresh()
