"""SettingsRow: a toolbar of labelled fields, the base of ConfigForm (runs) and SimSettings (simulator).

It holds the layout they share (a label above each field, side by side, wrapping onto more lines when the terminal
is too narrow for one, so that no setting is ever out of sight) and the reader of the fields' values; a subclass composes its fields (FieldInput) with `_field` and hands
the values, as text, to its configuration's `from_mapping`, which parses and checks them.
"""
from __future__ import annotations

import re

from textual import events
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label
# the rule Input itself applies to a typed character (Textual 8.2.8 keeps it private): one rule, not a copy
from textual.widgets._input import _RESTRICT_TYPES

NEVER_TYPED = " <>"   # no setting's value holds these: they are always the screen's keys (space, slow motion)


class FieldInput(Input):
    """A settings field that takes only the characters its value can hold (its type, and its setting's
    `restrict`). Any other key — s, e, x, space, > in a number field, b or f in hidden — goes on to the screen, so
    every key the footer shows works while a field has focus (a plain Input swallows every printable key, and
    Textual then also hides those keys from the footer: Screen._binding_chain drops a binding whose key the
    focused widget's check_consume_key takes)."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return super().check_consume_key(key, character) and character not in NEVER_TYPED and self._takes(character)

    def _takes(self, character: str) -> bool:
        start, end = sorted(self.selection)
        value = self.value[:start] + character + self.value[end:]
        pattern = _RESTRICT_TYPES.get(self.type)
        return (not self.max_length or len(value) <= self.max_length) and \
            (not self.restrict or re.fullmatch(self.restrict, value) is not None) and \
            (pattern is None or re.fullmatch(pattern, value) is not None)

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable and not self.check_consume_key(event.key, event.character):
            event.prevent_default()   # not typed here; the key bubbles on to the screen's bindings

    # Which keys the field takes depends on its text and selection ("." fits "005" but not "0.05", and fits "0.05"
    # all selected): the footer, which leaves out the keys the focused field takes, is asked again when they
    # change (a SteadyFooterScreen redraws it only if that changes what it shows).
    def watch_value(self) -> None:
        self._keys_may_have_changed()

    def watch_selection(self) -> None:
        self._keys_may_have_changed()

    def _keys_may_have_changed(self) -> None:
        if self.has_focus:
            self.screen.refresh_bindings()


class SettingsRow(Widget):
    DEFAULT_CSS = """
    SettingsRow { layout: grid; grid-columns: auto; grid-rows: 2; grid-gutter: 0 1; height: 3; padding-bottom: 1; }
    SettingsRow .field { width: auto; height: 2; }
    SettingsRow .field Label { color: $text-muted; }
    SettingsRow .field.-focused Label { color: $accent; text-style: bold; }
    """

    can_focus = False   # Tab goes straight to the fields (a focused row would be an invisible stop)

    def _field(self, label: str, widget) -> Vertical:
        return Vertical(Label(label), widget, classes="field")

    def on_resize(self, event: events.Resize) -> None:
        """As many fields a line as fit the width (columns as wide as their widest field), the rest below."""
        fields = list(self.query(".field"))
        widths = [self._natural_width(f) for f in fields]
        if not widths:
            return
        for field, width in zip(fields, widths):   # a label is never cut to its widget's width
            field.styles.width = width
        columns = next(k for k in range(len(widths), 0, -1)
                       if k == 1 or sum(max(widths[c::k]) for c in range(k)) + k - 1 <= event.size.width)
        lines = -(-len(widths) // columns)
        if (self.styles.grid_size_columns, self.styles.height.value) != (columns, 2 * lines + 1):
            self.styles.grid_size_columns = columns
            self.styles.height = 2 * lines + 1

    @staticmethod
    def _natural_width(field) -> int:
        """A field's width: its label or its widget (CSS width), whichever is wider."""
        label, widget = field.children
        width = widget.styles.width
        cells = int(width.value) if width is not None and width.is_cells else 8
        return max(len(str(label.content)), cells)

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
