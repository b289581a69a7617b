"""SimSettings: the simulator's settings row; `config()` turns it into a validated SimConfig.

Enter in a field, or a new choice in a drop-down, asks the screen to apply the settings (`SimSettings.Applied`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Input, Select

from teach_sgd.sim import Logistic, Machine, Quadratic, make_scheduler
from teach_sgd.sim.program import MODES
from teach_sgd.tui.widgets.settings_row import SettingsRow

SCHEDULERS = ("manual", "round-robin", "random", "bounded-delay", "stale-read")
OBJECTIVES = ("quadratic", "logistic")
MODE_NAMES = {"faa": "FAA (PODC)", "hogwild": "HOGWILD!", "leashed": "Leashed"}
MAX_THREADS = 9      # keys 1..9
MAX_D = 6            # the panels show every coordinate
QUADRATIC_C = 1.0    # f(x) = (c/2)‖x‖²
LOGISTIC_C = 0.1


class SimConfigError(ValueError):
    """A setting the simulator cannot use; the message is one sentence for the learner."""


@dataclass(frozen=True)
class SimConfig:
    mode: str = "faa"
    scheduler: str = "round-robin"
    threads: int = 3
    tau_max: int | None = 2
    alpha: float = 0.1
    objective: str = "quadratic"
    d: int = 4
    seed: int = 0
    noise: float = 0.0
    persistence: int | None = None

    def validate(self) -> SimConfig:
        if self.mode not in MODES:
            raise SimConfigError(f"mode must be one of {', '.join(MODES)}")
        if self.scheduler not in SCHEDULERS:
            raise SimConfigError(f"scheduler must be one of {', '.join(SCHEDULERS)}")
        if self.objective not in OBJECTIVES:
            raise SimConfigError(f"objective must be one of {', '.join(OBJECTIVES)}")
        if not 1 <= self.threads <= MAX_THREADS:
            raise SimConfigError(f"threads must be 1 to {MAX_THREADS} (keys 1–{MAX_THREADS} step them)")
        if not 1 <= self.d <= MAX_D:
            raise SimConfigError(f"d must be 1 to {MAX_D}: the panels show every coordinate")
        if not (math.isfinite(self.alpha) and self.alpha > 0):
            raise SimConfigError("the step size α must be a positive number")
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise SimConfigError("noise must be a number ≥ 0")
        if self.tau_max is not None and self.tau_max < 0:
            raise SimConfigError("τ_max must be ≥ 0, or 'none' for no leash")
        if self.persistence is not None and self.persistence < 0:
            raise SimConfigError("Tp must be ≥ 0, or 'inf' to retry a failed CAS forever")
        if self.scheduler in ("bounded-delay", "stale-read") and self.tau_max is None:
            raise SimConfigError(f"the {self.scheduler} adversary plays against a leash: set τ_max")
        if self.scheduler == "stale-read" and self.threads < self.tau_max + 1:
            raise SimConfigError(f"the stale-read adversary for τ_max = {self.tau_max} needs at least "
                                 f"{self.tau_max + 1} threads")
        return self

    def machine_key(self) -> tuple:
        """Everything but the scheduler: two configs with the same key describe the same machine."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name != "scheduler")

    def make_objective(self):
        if self.objective == "quadratic":
            return Quadratic(self.d, c=QUADRATIC_C, noise=self.noise)
        return Logistic(self.d, c=LOGISTIC_C)

    def make_machine(self) -> Machine:
        return Machine(self.make_objective(), threads=self.threads, alpha=self.alpha, mode=self.mode,
                       seed=self.seed, tau_max=self.tau_max,
                       persistence=self.persistence if self.mode == "leashed" else None)

    def make_scheduler(self):
        """None in manual mode: the learner is the scheduler."""
        if self.scheduler == "manual":
            return None
        return make_scheduler(self.scheduler, self.seed)

    @property
    def c(self) -> float:
        return QUADRATIC_C if self.objective == "quadratic" else LOGISTIC_C


def _optional_int(text: str, name: str, none_words: tuple[str, ...]) -> int | None:
    t = text.strip().lower()
    if t in none_words:
        return None
    try:
        return int(t)
    except ValueError:
        raise SimConfigError(f"{name} must be a whole number or {none_words[0]!r}, got {text!r}") from None


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

    error = SimConfigError

    class Applied(Message):
        """Enter in a field or a new drop-down choice: apply the settings."""

    def __init__(self, config: SimConfig | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._initial = config or SimConfig()

    def compose(self) -> ComposeResult:
        c = self._initial
        yield self._field("mode", Select([(MODE_NAMES[m], m) for m in MODES], value=c.mode, allow_blank=False,
                                         compact=True, id="sim-mode"))
        yield self._field("scheduler", Select([(s, s) for s in SCHEDULERS], value=c.scheduler, allow_blank=False,
                                              compact=True, id="sim-scheduler"))
        yield self._field("n", Input(str(c.threads), id="sim-n", compact=True, type="integer"))
        yield self._field("τ_max", Input(_label(c.tau_max, "none"), id="sim-tau", compact=True))
        yield self._field("step α", Input(f"{c.alpha:g}", id="sim-alpha", compact=True, type="number"))
        yield self._field("objective", Select([(o, o) for o in OBJECTIVES], value=c.objective, allow_blank=False,
                                              compact=True, id="sim-objective"))
        yield self._field("d", Input(str(c.d), id="sim-d", compact=True, type="integer"))
        yield self._field("seed", Input(str(c.seed), id="sim-seed", compact=True, type="integer"))
        yield self._field("noise", Input(f"{c.noise:g}", id="sim-noise", compact=True, type="number"))
        yield self._field("Tp", Input(_label(c.persistence, "inf"), id="sim-tp", compact=True))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied())

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.Applied())

    def _float(self, wid: str, name: str) -> float:
        text = self._value(wid).strip()
        try:
            return float(text)
        except ValueError:
            raise SimConfigError(f"{name} must be a number, got {text!r}") from None

    def config(self) -> SimConfig:
        """The settings as a validated SimConfig; raises SimConfigError with a sentence for the learner."""
        return SimConfig(
            mode=self._value("sim-mode"), scheduler=self._value("sim-scheduler"),
            threads=self._int("sim-n", "threads n"),
            tau_max=_optional_int(self._value("sim-tau"), "τ_max", ("none", "", "-", "inf", "∞")),
            alpha=self._float("sim-alpha", "the step size α"), objective=self._value("sim-objective"),
            d=self._int("sim-d", "d"), seed=self._int("sim-seed", "seed"),
            noise=self._float("sim-noise", "noise"),
            persistence=_optional_int(self._value("sim-tp"), "Tp", ("inf", "", "-", "none", "∞")),
        ).validate()


__all__ = ["MAX_D", "MAX_THREADS", "OBJECTIVES", "SCHEDULERS", "SimConfig", "SimConfigError", "SimSettings"]
