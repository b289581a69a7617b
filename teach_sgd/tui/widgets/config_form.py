"""ConfigForm: the run settings as a compact toolbar; `config()` turns them into a validated RunConfig.

Enter in any field asks the screen to start a run (the form posts `ConfigForm.Submitted`).
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Input, Select

from teach_sgd.engine.config import ALGO_NAMES, ALGOS, DATASETS, MODELS, STEPS, WRITES, RunConfig, shared_settings
from teach_sgd.tui.widgets.settings_row import FieldInput, SettingsRow



def budget_text(cfg: RunConfig) -> str:
    if cfg.seconds is not None:
        return f"{cfg.seconds:g}s"
    if cfg.epochs is not None:
        return f"{cfg.epochs:g}ep"
    return str(cfg.updates or 2000)


class ConfigForm(SettingsRow):
    """Algorithm(s), threads, model, hidden, dataset, lr, batch, persistence Tp, budget, seed."""

    DEFAULT_CSS = """
    ConfigForm Select { width: 17; }
    ConfigForm #model { width: 9; }
    ConfigForm #writes { width: 10; }
    ConfigForm #step { width: 11; }
    ConfigForm #dataset { width: 14; }
    ConfigForm Input { width: 7; }
    ConfigForm #hidden, ConfigForm #lr { width: 9; }
    """

    class Submitted(Message):
        """Enter was pressed in a field: start (or restart) with these settings."""

    def __init__(self, config: RunConfig, algos: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self._initial = config
        self.algos = algos
        self._b_algo = config.extra.get("algo_b", "leashed") if algos == 2 else None

    def compose(self) -> ComposeResult:
        c = self._initial
        algo_opts = [(ALGO_NAMES[a], a) for a in ALGOS]
        if self.algos == 2:
            yield self._field("run A", Select(algo_opts, value=c.algo, allow_blank=False, compact=True, id="algo"))
            yield self._field("run B", Select(algo_opts, value=self._b_algo, allow_blank=False, compact=True, id="algo_b"))
        else:
            yield self._field("algorithm", Select(algo_opts, value=c.algo, allow_blank=False, compact=True, id="algo"))
        yield self._field("threads m", FieldInput(str(c.threads), id="threads", compact=True, type="integer"))
        yield self._field("model", Select([(m, m) for m in MODELS], value=c.model, allow_blank=False, compact=True, id="model"))
        yield self._field("hidden", FieldInput(",".join(map(str, c.hidden)), id="hidden", compact=True))
        yield self._field("dataset", Select([(d, d) for d in DATASETS], value=c.dataset, allow_blank=False,
                                            compact=True, id="dataset"))
        yield self._field("step lr", FieldInput(f"{c.lr:g}", id="lr", compact=True, type="number"))
        yield self._field("batch", FieldInput(str(c.batch), id="batch", compact=True, type="integer"))
        yield self._field("persist Tp", FieldInput(c.persistence_label, id="persistence", compact=True))
        yield self._field("writes", Select([(w, w) for w in WRITES], value=c.writes, allow_blank=False, compact=True,
                                           id="writes"))
        yield self._field("step rule", Select([(r, r) for r in STEPS], value=c.step, allow_blank=False, compact=True,
                                              id="step"))
        yield self._field("budget", FieldInput(budget_text(c), id="budget", compact=True))
        yield self._field("seed", FieldInput(str(c.seed), id="seed", compact=True, type="integer"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted())

    def _settings(self, algo_field: str = "algo") -> dict[str, str]:
        """The form's text for `algo_field`'s algorithm; writes and step rule reach only the algorithms they fit."""
        keys = ("threads", "model", "hidden", "dataset", "lr", "batch", "persistence", "writes", "step", "budget",
                "seed")
        return shared_settings({k: self._value(k) for k in keys}, self._value(algo_field))

    def config(self) -> RunConfig:
        """The settings as a validated RunConfig; raises ConfigError with a sentence for the user."""
        return RunConfig.from_mapping(self._settings(), source="ui")

    def config_b(self) -> RunConfig:
        """Compare: the same settings and seed, with run B's algorithm."""
        return RunConfig.from_mapping(self._settings("algo_b"), source="ui")
