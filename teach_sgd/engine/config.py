"""RunConfig: the one description of a training run.

The CLI, the Textual UI, the lessons and the tests all build a RunConfig and hand it to the Runner; nothing
downstream re-parses options. `validate()` is where every bad value is caught, with a message that says
what to do (the CLI turns ConfigError into one line on stderr and exit status 2).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

ALGOS = ("seq", "lock", "hogwild", "leashed")
MODELS = ("mlp", "cnn")
DATASETS = ("mnist", "synthetic")
MAX_THREADS = 256
INF = None  # persistence bound Tp = ∞ is written as None (JSON null)


class ConfigError(ValueError):
    """A RunConfig value that cannot run. The message is one sentence for the user."""


@dataclass(frozen=True)
class RunConfig:
    algo: str = "leashed"
    threads: int = 2
    model: str = "mlp"
    hidden: tuple[int, ...] = (128,)
    dataset: str = "mnist"
    data_dir: str | None = None
    lr: float = 0.05
    batch: int = 16
    persistence: int | None = INF
    updates: int | None = None
    seconds: float | None = None
    epochs: float | None = None
    target_loss: float | None = None
    seed: int = 0
    init: str | None = None  # None: the model's documented default
    telemetry: bool = True
    audit: bool = False  # also sum every applied update per thread in float64 (tests, lost-update mass)
    eval_every_s: float = 0.05
    eval_samples: int = 256
    diverge_factor: float = 5.0  # loss above 5 × the initial (ln 10 ≈ 2.3 at init) is confidently wrong: diverged
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def budget(self) -> "RunConfig":
        """The same config with the default budget (2,000 updates) filled in when none was given."""
        if self.updates is None and self.seconds is None and self.epochs is None:
            return replace(self, updates=2000)
        return self

    def validate(self) -> "RunConfig":
        def bad(msg: str) -> None:
            raise ConfigError(msg)

        if self.algo not in ALGOS:
            bad(f"unknown algorithm {self.algo!r}: choose one of {', '.join(ALGOS)}")
        if self.model not in MODELS:
            bad(f"unknown model {self.model!r}: choose mlp or cnn")
        if self.dataset not in DATASETS:
            bad(f"unknown dataset {self.dataset!r}: choose mnist or synthetic (or --data-dir for IDX files)")
        if not isinstance(self.threads, int) or not 1 <= self.threads <= MAX_THREADS:
            bad(f"--threads must be an integer from 1 to {MAX_THREADS}, got {self.threads!r}")
        if self.algo == "seq" and self.threads != 1:
            bad("seq is sequential SGD and runs on exactly one thread: use --threads 1 (or another --algo)")
        if not self.hidden or any((not isinstance(h, int)) or h < 1 or h > 4096 for h in self.hidden):
            bad(f"--hidden must be comma-separated layer widths from 1 to 4096, got {self.hidden!r}")
        if len(self.hidden) > 8:
            bad("--hidden allows at most 8 hidden layers")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            bad(f"--lr must be a positive number, got {self.lr!r}")
        if not isinstance(self.batch, int) or not 1 <= self.batch <= 1024:
            bad(f"--batch must be an integer from 1 to 1024, got {self.batch!r}")
        if self.persistence is not None and (not isinstance(self.persistence, int) or self.persistence < 0):
            bad(f"--persistence must be 0, 1, 2, … or inf, got {self.persistence!r}")
        if self.updates is not None and (not isinstance(self.updates, int) or self.updates < 1):
            bad(f"--updates must be a positive integer, got {self.updates!r}")
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds > 0):
            bad(f"--seconds must be a positive number, got {self.seconds!r}")
        if self.epochs is not None and not (math.isfinite(self.epochs) and self.epochs > 0):
            bad(f"--epochs must be a positive number, got {self.epochs!r}")
        if self.target_loss is not None and not (0 < self.target_loss < 1):
            bad(f"--target-loss is a fraction of the initial loss, between 0 and 1 (e.g. 0.25), got {self.target_loss!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            bad(f"--seed must be a non-negative integer, got {self.seed!r}")
        if self.init not in (None, "paper", "he"):
            bad(f"--init must be paper or he, got {self.init!r}")
        if not self.eval_every_s > 0 or not isinstance(self.eval_samples, int) or self.eval_samples < 1:
            bad("eval_every_s and eval_samples must be positive")
        return self

    @property
    def persistence_label(self) -> str:
        return "inf" if self.persistence is None else str(self.persistence)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("extra")
        d["hidden"] = list(self.hidden)
        return d


def parse_persistence(text: str) -> int | None:
    """'inf' / '∞' → None (retry until success); '0', '1', … → that bound."""
    t = text.strip().lower()
    if t in ("inf", "infinity", "∞", "none"):
        return None
    try:
        value = int(t)
    except ValueError:
        raise ConfigError(f"--persistence must be 0, 1, 2, … or inf, got {text!r}") from None
    if value < 0:
        raise ConfigError(f"--persistence must be 0, 1, 2, … or inf, got {text!r}")
    return value
