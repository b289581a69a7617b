"""ConfigForm: the run settings as a compact toolbar; `config()` turns them into a RunConfig.

Its fields are RunConfig's declared form settings (engine/config.py FORM: label, widget, width, choices,
and how a value is shown); Compare's form has a second algorithm field, run B's. Enter in any field asks the
screen to start a run (the form posts `ConfigForm.Submitted`).
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Input, Select

from teach_sgd.engine.config import BUDGET, FORM, RunConfig, budget_text, shared_settings
from teach_sgd.settings import Setting
from teach_sgd.tui.widgets.settings_row import FieldInput, SettingsRow

INPUT_TYPES = {"integer": "integer", "number": "number", "input": "text"}


def field_widget(s: Setting, value: str, wid: str):
    """The form field of one declared setting, showing `value`."""
    if s.widget == "select":
        return Select(s.choices, value=value, allow_blank=False, compact=True, id=wid)
    return FieldInput(value, id=wid, compact=True, type=INPUT_TYPES[s.widget], restrict=s.restrict)


class ConfigForm(SettingsRow):
    """Algorithm(s) and the other form settings of RunConfig, in their declared order."""

    DEFAULT_CSS = "\n".join(f"ConfigForm #{s.key} {{ width: {s.width}; }}" for s in FORM if s.width) + \
        "\nConfigForm #algo_b { width: %d; }" % FORM[0].width

    class Submitted(Message):
        """Enter was pressed in a field: start (or restart) with these settings."""

    def __init__(self, config: RunConfig, algo_b: str | None = None, **kwargs) -> None:
        """`algo_b`: Compare's second algorithm (run B), which takes every other setting from the form."""
        super().__init__(**kwargs)
        self._initial = config
        self.algo_b = algo_b

    def compose(self) -> ComposeResult:
        c = self._initial
        for s in FORM:
            value = budget_text(c) if s is BUDGET else s.text(getattr(c, s.key))
            if s.key == "algo" and self.algo_b is not None:
                yield self._field("run A", field_widget(s, value, "algo"))
                yield self._field("run B", field_widget(s, self.algo_b, "algo_b"))
            else:
                yield self._field(s.label, field_widget(s, value, s.key))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted())

    def _settings(self, algo_field: str = "algo") -> dict[str, str | None]:
        """The form's text for `algo_field`'s algorithm. Compare's two algorithms share one form, so writes, step
        rule and delay reach only the algorithms they fit (shared_settings); the Playground's one algorithm takes
        every setting as written, so one that does not fit it (a delay for seq) is an error to show, not a
        setting to drop unsaid. seq runs on one thread whatever threads says (its help says so)."""
        settings = {s.key: self._value(s.key) for s in FORM if s.key != "algo"}
        algo = self._value(algo_field)
        if self.algo_b is not None:
            return shared_settings(settings, algo)
        return {**settings, "algo": algo, "threads": None if algo == "seq" else settings["threads"]}

    def config(self) -> RunConfig:
        """The settings as a RunConfig; raises ConfigError with a sentence for the user."""
        return RunConfig.from_mapping(self._settings(), source="ui")

    def config_b(self) -> RunConfig:
        """Compare: the same settings and seed, with run B's algorithm."""
        return RunConfig.from_mapping(self._settings("algo_b"), source="ui")
