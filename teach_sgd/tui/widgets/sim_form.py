"""SimSettings: the simulator's settings row; `config()` turns it into a validated SimConfig.

Enter in a field, or a new choice in a drop-down, asks the screen to apply the settings (`SimSettings.Applied`).
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Input, Select

from teach_sgd.sim.config import MANUAL, SimConfig
from teach_sgd.sim.program import MODES
from teach_sgd.sim.schedulers import SCHEDULERS
from teach_sgd.sim.objectives import OBJECTIVES
from teach_sgd.tui.widgets.settings_row import FieldInput, SettingsRow

MODE_NAMES = {"faa": "FAA (PODC)", "hogwild": "HOGWILD!", "leashed": "Leashed"}


def _label(value: int | None, none_word: str) -> str:
    return none_word if value is None else str(value)


class SimSettings(SettingsRow):
    """mode · scheduler · threads · τ_max · α · objective · d · seed · noise · Tp."""

    DEFAULT_CSS = """
    SimSettings Select { width: 14; }
    SimSettings #sim-scheduler { width: 17; }
    SimSettings #sim-objective { width: 13; }
    SimSettings Input { width: 7; }
    SimSettings #sim-n, SimSettings #sim-d { width: 4; }
    """

    class Applied(Message):
        """Enter in a field or a new drop-down choice: apply the settings."""

    def __init__(self, config: SimConfig | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._initial = config or SimConfig()

    def compose(self) -> ComposeResult:
        c = self._initial
        yield self._field("mode", Select([(MODE_NAMES[m], m) for m in MODES], value=c.mode, allow_blank=False,
                                         compact=True, id="sim-mode"))
        yield self._field("scheduler", Select([(s, s) for s in (MANUAL, *SCHEDULERS)], value=c.scheduler, allow_blank=False,
                                              compact=True, id="sim-scheduler"))
        yield self._field("n", FieldInput(str(c.threads), id="sim-n", compact=True, type="integer"))
        yield self._field("τ_max", FieldInput(_label(c.tau_max, "none"), id="sim-tau", compact=True))
        yield self._field("step α", FieldInput(f"{c.alpha:g}", id="sim-alpha", compact=True, type="number"))
        yield self._field("objective", Select([(o, o) for o in OBJECTIVES], value=c.objective, allow_blank=False,
                                              compact=True, id="sim-objective"))
        yield self._field("d", FieldInput(str(c.d), id="sim-d", compact=True, type="integer"))
        yield self._field("seed", FieldInput(str(c.seed), id="sim-seed", compact=True, type="integer"))
        yield self._field("noise", FieldInput(f"{c.noise:g}", id="sim-noise", compact=True, type="number"))
        yield self._field("Tp", FieldInput(_label(c.persistence, "inf"), id="sim-tp", compact=True))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied())

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.Applied())

    def config(self) -> SimConfig:
        """The settings as a validated SimConfig; raises ConfigError with a sentence for the learner."""
        ids = {"mode": "sim-mode", "scheduler": "sim-scheduler", "threads": "sim-n", "tau_max": "sim-tau",
               "alpha": "sim-alpha", "objective": "sim-objective", "d": "sim-d", "seed": "sim-seed",
               "noise": "sim-noise", "persistence": "sim-tp"}
        return SimConfig.from_mapping({key: self._value(wid) for key, wid in ids.items()}, source="ui")


__all__ = ["SimSettings"]
