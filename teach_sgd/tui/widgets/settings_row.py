"""SettingsRow: a one-line toolbar of labelled fields, the base of ConfigForm (runs) and SimSettings (simulator).

It holds the layout they share (a label above each field, side by side, scrolling sideways when the terminal is
narrow) and the reader of the fields' values; a subclass composes its fields with `_field` and hands the values,
as text, to its configuration's `from_mapping`, which parses and checks them.
"""
from __future__ import annotations

from textual import events
from textual.containers import HorizontalScroll, Vertical
from textual.widgets import Label


class SettingsRow(HorizontalScroll):
    DEFAULT_CSS = """
    SettingsRow { height: 3; scrollbar-size-horizontal: 1; }
    SettingsRow .field { width: auto; height: 2; margin-right: 1; }
    SettingsRow .field Label { color: $text-muted; }
    SettingsRow .field.-focused Label { color: $accent; text-style: bold; }
    """

    can_focus = False   # Tab goes straight to the fields (a focused row would be an invisible stop)

    def _field(self, label: str, widget) -> Vertical:
        return Vertical(Label(label), widget, classes="field")

    # The focused field's label lights up with it (set here: Textual 8.2.8 restyles `:focus-within` only once).
    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._mark_field(event.widget, True)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self._mark_field(event.widget, False)

    @staticmethod
    def _mark_field(widget, focused: bool) -> None:
        field = next((node for node in widget.ancestors if node.has_class("field")), None)
        if field is not None:
            field.set_class(focused, "-focused")

    def _value(self, wid: str) -> str:
        return str(self.query_one(f"#{wid}").value)
