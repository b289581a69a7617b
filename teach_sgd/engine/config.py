"""RunConfig: the one description of a training run.

The CLI, the Textual UI, the lessons and the tests all build a RunConfig and hand it to the Runner; nothing
downstream re-parses options. `RunConfig.from_mapping(data, source)` parses what a user wrote (text from the
command line or a form, TOML values from a lesson) and `validate()` checks a config built in code by the
same rules: one parser per kind of value (teach_sgd/values.py), one limit per setting (FIELDS below). A bad
value raises ConfigError with one sentence that says what to do.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace

from teach_sgd import values as v
from teach_sgd.errors import ConfigError

ALGOS = ("seq", "lock", "hogwild", "leashed", "sync")
ALGO_NAMES = {"seq": "SEQ", "lock": "LOCK", "hogwild": "HOGWILD!", "leashed": "Leashed-SGD", "sync": "SYNC"}  # as shown
ASYNC_ALGOS = ("lock", "hogwild", "leashed")  # the ones whose updates can be stale: step rules apply to them
WRITES = ("dense", "sparse")                   # hogwild's write modes (engine/hogwild.py)
STEPS = ("none", "inverse", "tail", "fleet")   # step-size rules (engine/stepsize.py RULES, same order)
MODELS = ("mlp", "cnn")
DATASETS = ("mnist", "synthetic")
INITS = ("paper", "he")
INF = None  # persistence bound Tp = ∞ is written as None (JSON null)

# Limits: what the engine can hold without overflow (int64 nanoseconds, update and batch counters), and what
# makes sense on a laptop. A value past them is a one-line error, never an overflow deep in a kernel.
MAX_THREADS = 256
MAX_UPDATES = 10**12
MAX_SECONDS = 7 * 24 * 3600.0
MAX_EPOCHS = 1e6
MAX_PERSISTENCE = 10**6  # more retries than this is ∞ in all but name: say inf
MAX_SEED = 2**32 - 1
MAX_REPEAT = 100  # runs of one config (compare --repeat, a lesson experiment's repeat)
MAX_STRETCH = 1000  # slow motion: 1000× turns a 0.1 ms gradient into 0.1 s, single events at human speed

# setting -> parser(value, label): the single declaration of what each setting accepts
FIELDS = {
    "algo": lambda x, at: v.choice(x, at, ALGOS),
    "threads": lambda x, at: v.integer(x, at, 1, MAX_THREADS),
    "model": lambda x, at: v.choice(x, at, MODELS),
    "hidden": lambda x, at: v.widths(x, at, high=4096, max_layers=8),
    "dataset": lambda x, at: v.choice(x, at, DATASETS),
    "data_dir": lambda x, at: str(x),
    "lr": lambda x, at: v.number(x, at, 0.0, 1e4),
    "batch": lambda x, at: v.integer(x, at, 1, 1024),
    "persistence": lambda x, at: v.bound_or_inf(x, at, MAX_PERSISTENCE),
    "updates": lambda x, at: v.integer(x, at, 1, MAX_UPDATES),
    "seconds": lambda x, at: v.number(x, at, 0.0, MAX_SECONDS),
    "epochs": lambda x, at: v.number(x, at, 0.0, MAX_EPOCHS),
    "target_loss": lambda x, at: _fraction(x, at),
    "seed": lambda x, at: v.integer(x, at, 0, MAX_SEED),
    "init": lambda x, at: v.choice(x, at, INITS),
    "telemetry": lambda x, at: v.flag(x, at),
    "audit": lambda x, at: v.flag(x, at),
    "eval_every_s": lambda x, at: v.number(x, at, 0.0, 3600.0),
    "eval_samples": lambda x, at: v.integer(x, at, 1, 100_000),
    "diverge_factor": lambda x, at: v.number(x, at, 1.0, 1e6),
    "writes": lambda x, at: v.choice(x, at, WRITES),
    "step": lambda x, at: v.choice(x, at, STEPS),
    "stretch": lambda x, at: v.integer(x, at, 1, MAX_STRETCH),
}
OPTIONAL = {"data_dir", "persistence", "updates", "seconds", "epochs", "target_loss", "init"}  # None allowed


def _fraction(x, at: str) -> float:
    f = v.number(x, at, 0.0, 1.0)
    if f >= 1.0:
        raise ConfigError(f"{at} is a fraction of the initial loss, between 0 and 1 (e.g. 0.25), got {f:g}",
                          at.lstrip("-").replace("-", "_"))
    return f


def repeat_count(x, at: str) -> int:
    """How many times to run each config, on seeds seed, seed + 1, … (compare --repeat, `repeat` in a lesson)."""
    return v.integer(x, at, 1, MAX_REPEAT)


def shared_settings(settings: Mapping[str, object], algo: str) -> dict:
    """One set of settings for several algorithms (compare, the app's form): each takes what applies to it.
    HOGWILD!'s write mode goes to hogwild only, a step-size rule to the asynchronous algorithms only, and seq
    always runs as the one-thread baseline."""
    out = {**settings, "algo": algo}
    if algo != "hogwild":
        out["writes"] = None
    if algo not in ASYNC_ALGOS:
        out["step"] = None
    if algo == "seq":
        out["threads"] = None
    return out


def label(key: str, source: str) -> str:
    """How a setting is named to the user: `--target-loss` on the command line, `target_loss` elsewhere."""
    return "--" + key.replace("_", "-") if source == "cli" else key


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
    stretch: int = 1  # slow motion: compute and publish windows last stretch × their time (engine/control.py)
    diverge_factor: float = 5.0  # loss above 5 × the initial (ln 10 ≈ 2.3 at init) is confidently wrong: diverged
    writes: str = "dense"  # hogwild: dense (every coordinate) or sparse (only non-zero gradient coordinates)
    step: str = "none"     # step-size rule for lock, hogwild, leashed: none, inverse, tail, fleet
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str = "cli") -> "RunConfig":
        """Parse settings as a user wrote them; None means "not given" (the default). `source` ("cli",
        "lesson", "ui") only changes how settings are named in messages. The pseudo-setting `budget`
        ("3000", "10s", "2ep") sets updates, seconds or epochs."""
        raw = {k: x for k, x in data.items() if x is not None}
        if "budget" in raw:
            raw.update(v.budget(raw.pop("budget"), label("budget", source)))
        kw = {}
        for key, x in raw.items():
            if key not in FIELDS:
                raise ConfigError(f"unknown setting {key!r}; the settings are {', '.join(FIELDS)}", key)
            kw[key] = FIELDS[key](x, label(key, source))
        if kw.get("algo") == "seq":
            kw.setdefault("threads", 1)
        return cls(**kw).budget().validate(source)

    def budget(self) -> "RunConfig":
        """The same config with the default budget (2,000 updates) filled in when none was given."""
        if self.updates is None and self.seconds is None and self.epochs is None:
            return replace(self, updates=2000)
        return self

    def validate(self, source: str = "cli") -> "RunConfig":
        """Check every setting against FIELDS, and the rules between settings; returns self."""
        for key, parse in FIELDS.items():
            x = getattr(self, key)
            if x is None and key in OPTIONAL:
                continue
            parsed = parse(x, label(key, source))
            given = tuple(x) if isinstance(x, list) else x
            if parsed != given or (isinstance(parsed, int) and not isinstance(given, int)):
                raise ConfigError(f"{label(key, source)} must be given as {parsed!r}, not {x!r}", key)
        if self.algo == "seq" and self.threads != 1:
            raise ConfigError(f"seq is sequential SGD and runs on exactly one thread: use "
                              f"{label('threads', source)} 1 (or another algorithm)", "threads")
        if self.algo == "sync" and self.batch < self.threads:
            raise ConfigError(f"sync splits each mini-batch among the threads: {label('batch', source)} must be "
                              f"at least {label('threads', source)} ({self.threads})", "batch")
        if self.writes != "dense" and self.algo != "hogwild":
            raise ConfigError(f"{label('writes', source)} {self.writes} is a HOGWILD! write mode: use it with "
                              f"hogwild (the other algorithms apply whole updates)", "writes")
        if self.step != "none" and self.algo not in ASYNC_ALGOS:
            raise ConfigError(f"{label('step', source)} {self.step} scales stale updates, and {self.algo}'s are "
                              f"never stale: use it with {', '.join(ASYNC_ALGOS)}", "step")
        if self.model == "cnn" and len(self.hidden) > 1:
            raise ConfigError(f"the CNN has one hidden FC layer: give {label('hidden', source)} one width, "
                              f"not {','.join(map(str, self.hidden))}", "hidden")
        return self

    def repeats(self, n: int, source: str = "cli") -> list["RunConfig"]:
        """This config n times, on seeds seed, seed + 1, …: the same run, other batch orders and initial models."""
        return [replace(self, seed=self.seed + i).validate(source) for i in range(n)]

    @property
    def persistence_label(self) -> str:
        return "inf" if self.persistence is None else str(self.persistence)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("extra")
        d["hidden"] = list(self.hidden)
        return d
