"""SimSettings: the simulator's settings row; `config()` turns it into a SimConfig.

Its fields are SimConfig's declared settings (sim/config.py SIM_SETTINGS), each with the id `sim-KEY`. Enter
in a field, or a new choice in a drop-down, asks the screen to apply the settings (`SimSettings.Applied`).
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Input, Select

from teach_sgd.sim.config import SIM_SETTINGS, SimConfig
from teach_sgd.tui.widgets.config_form import field_widget
from teach_sgd.tui.widgets.settings_row import SettingsRow


class SimSettings(SettingsRow):
    """mode · scheduler · threads · τ_max · α · objective · d · seed · noise · Tp (SimConfig's order)."""

    DEFAULT_CSS = "\n".join(f"SimSettings #sim-{s.key} {{ width: {s.width}; }}" for s in SIM_SETTINGS.values())

    class Applied(Message):
        """Enter in a field or a new drop-down choice: apply the settings."""

    def __init__(self, config: SimConfig | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._initial = config or SimConfig()

    def compose(self) -> ComposeResult:
        for s in SIM_SETTINGS.values():
            yield self._field(s.label, field_widget(s, s.text(getattr(self._initial, s.key)), f"sim-{s.key}"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied())

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.Applied())

    def config(self) -> SimConfig:
        """The settings as a SimConfig; raises ConfigError with a sentence for the learner."""
        return SimConfig.from_mapping({key: self._value(f"sim-{key}") for key in SIM_SETTINGS}, source="ui")


__all__ = ["SimSettings"]
