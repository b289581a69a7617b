"""A menu that shows saved progress (lessons ✓, challenges' best scores) refreshes when its screen returns."""
from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import OptionList
from textual.widgets.option_list import Option


def reload_options(menu: OptionList, options: Iterable[Option]) -> None:
    """Refill `menu`, keeping the highlighted row where it was."""
    highlighted = menu.highlighted
    menu.clear_options()
    menu.add_options(list(options))
    menu.highlighted = highlighted
