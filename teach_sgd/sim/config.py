"""The simulator's two configurations, and the one place their settings are parsed and checked.

    SimConfig     one machine the learner steps through (the simulator screen): one α, one τ_max
    SweepConfig   the τ_max × α sweep (`teach-sgd simulate`, lesson experiments of kind "simulate")

Both are built with `from_mapping(data, source)` from what a user wrote (command-line text, form text, TOML
values) and checked by `validate()` against the limits below, with the parsers of teach_sgd/values.py. The
limits keep every sweep small enough to finish on a laptop and every number small enough not to overflow.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from teach_sgd import values as v
from teach_sgd.engine import config as run_config
from teach_sgd.errors import ConfigError

from .machine import Machine
from .objectives import OBJECTIVES, Logistic, Quadratic
from .program import MODES
from .schedulers import SCHEDULERS, make_scheduler

MANUAL = "manual"  # the learner is the scheduler (simulator screen only)

MAX_THREADS = 64            # a sweep's virtual threads
MAX_TAU = MAX_THREADS - 1   # the stale-read adversary needs τ_max + 1 threads
MAX_SCREEN_THREADS = 9      # the screen steps threads with keys 1–9
MAX_SCREEN_DIM = 6          # the screen shows every coordinate
MAX_DIM = 1000
MAX_ALPHA = 100.0           # far past every threshold 2/((τ+1)c): larger steps only overflow sooner
MAX_SWEEP_POINTS = 200      # α values in one sweep
MAX_TAUS = 16
MAX_ITERS = 10**6
MAX_WORK = 2 * 10**7        # cells × iteration budget: about ten minutes of simulation on one core
MAX_SEED = 2**32 - 1

# setting -> parser(value, label), shared by both configs where the setting means the same
FIELDS = {
    "mode": lambda x, at: v.choice(x, at, MODES),
    "objective": lambda x, at: v.choice(x, at, OBJECTIVES),
    "seed": lambda x, at: v.integer(x, at, 0, MAX_SEED),
    "noise": lambda x, at: v.number(x, at, 0.0, 1e3, zero_ok=True),
    "persistence": lambda x, at: v.bound_or_inf(x, at, 10**6),
    "c": lambda x, at: v.number(x, at, 0.0, 1e3),
    "eps": lambda x, at: v.number(x, at, 0.0, 1e6),
    "max_iters": lambda x, at: v.integer(x, at, 1, MAX_ITERS),
    "dim": lambda x, at: v.integer(x, at, 1, MAX_DIM),
    "taus": lambda x, at: v.integers(x, at, 0, MAX_TAU, MAX_TAUS),
    "alphas": lambda x, at: v.numbers(x, at, 0.0, MAX_ALPHA, MAX_SWEEP_POINTS),
    "alpha": lambda x, at: v.number(x, at, 0.0, MAX_ALPHA),
}
SWEEP_FIELDS = {**{k: FIELDS[k] for k in ("mode", "objective", "seed", "noise", "persistence", "c", "eps",
                                          "max_iters", "dim", "taus", "alphas")},
                "scheduler": lambda x, at: v.choice(x, at, SCHEDULERS),
                "threads": lambda x, at: v.integer(x, at, 1, MAX_THREADS)}
SCREEN_FIELDS = {**{k: FIELDS[k] for k in ("mode", "objective", "seed", "noise", "persistence", "alpha")},
                 "scheduler": lambda x, at: v.choice(x, at, (MANUAL, *SCHEDULERS)),
                 "threads": lambda x, at: v.integer(x, at, 1, MAX_SCREEN_THREADS),
                 "tau_max": lambda x, at: v.bound_or_inf(x, at, MAX_TAU),
                 "d": lambda x, at: v.integer(x, at, 1, MAX_SCREEN_DIM)}
CLI_FLAGS = {"taus": "--tau-max"}  # settings whose command-line flag is not just --key
SCREEN_NAMES = {"tau_max": "τ_max", "alpha": "α", "persistence": "Tp"}  # as the simulator screen labels them
QUADRATIC_C = 1.0    # f(x) = (c/2)‖x‖²
LOGISTIC_C = 0.1     # the logistic regression's L2 weight


def label(key: str, source: str) -> str:
    if source == "cli":
        return CLI_FLAGS.get(key) or run_config.label(key, source)
    return SCREEN_NAMES.get(key, key) if source == "ui" else key


def _parse(cls, table, data: Mapping[str, object], source: str, defaults: Mapping[str, object] = {}):
    kw = {}
    for key, x in data.items():
        if x is None:
            continue
        if key not in table:
            raise ConfigError(f"unknown simulator setting {key!r}; the settings are {', '.join(table)}", key)
        kw[key] = table[key](x, label(key, source))
    return cls(**{**defaults, **kw}).validate(source)


def _check(config, table, source: str) -> None:
    for key, parse in table.items():
        x = getattr(config, key)
        if x is not None:
            parse(x, label(key, source))


def _check_adversary(scheduler: str, tau_max: int | None, threads: int | None, source: str) -> None:
    if scheduler in ("bounded-delay", "stale-read") and tau_max is None:
        raise ConfigError(f"the {scheduler} adversary plays against a leash: set {label('tau_max', source)}",
                          "tau_max")
    if scheduler == "stale-read" and threads is not None and threads < tau_max + 1:
        raise ConfigError(f"the stale-read adversary at τ_max = {tau_max} needs at least {tau_max + 1} threads: "
                          f"raise {label('threads', source)}", "threads")


@dataclass(frozen=True)
class SimConfig:
    """One machine on the simulator screen."""

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

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str = "ui") -> "SimConfig":
        return _parse(cls, SCREEN_FIELDS, data, source)

    def validate(self, source: str = "ui") -> "SimConfig":
        _check(self, SCREEN_FIELDS, source)
        _check_adversary(self.scheduler, self.tau_max, self.threads, source)
        return self

    def machine_key(self) -> tuple:
        """Everything but the scheduler: two configs with the same key describe the same machine."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name != "scheduler")

    @property
    def c(self) -> float:
        return QUADRATIC_C if self.objective == "quadratic" else LOGISTIC_C

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
        if self.scheduler == MANUAL:
            return None
        return make_scheduler(self.scheduler, self.seed)


@dataclass(frozen=True)
class SweepConfig:
    """The τ_max × α sweep. `threads` None: τ_max + 1 for each τ_max (the fewest that overlap τ_max + 1
    iterations). `c` None: the objective's default (quadratic 1, logistic 0.1)."""

    taus: tuple[int, ...] = (0, 1, 2, 4, 8)
    alphas: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0)
    scheduler: str = "stale-read"
    mode: str = "faa"
    objective: str = "quadratic"
    dim: int = 4
    c: float = 1.0
    noise: float = 0.0
    eps: float = 1e-3
    max_iters: int = 5000
    seed: int = 0
    threads: int | None = None
    persistence: int | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str = "cli") -> "SweepConfig":
        objective = data.get("objective") or "quadratic"
        c_default = QUADRATIC_C if str(objective).strip().lower() == "quadratic" else LOGISTIC_C
        return _parse(cls, SWEEP_FIELDS, data, source, defaults={"c": c_default})

    def validate(self, source: str = "cli") -> "SweepConfig":
        _check(self, SWEEP_FIELDS, source)
        _check_adversary(self.scheduler, max(self.taus), self.threads, source)
        if self.objective == "logistic" and self.noise:
            raise ConfigError(f"{label('noise', source)} applies to the quadratic only; logistic regression's "
                              "noise is its sampling", "noise")
        work = len(self.taus) * len(self.alphas) * self.max_iters
        if work > MAX_WORK:
            raise ConfigError(f"this sweep is {len(self.taus)} τ_max × {len(self.alphas)} α × {self.max_iters:,} "
                              f"iterations = {work:,} iterations, over the limit of {MAX_WORK:,}: use fewer "
                              f"values or a smaller {label('max_iters', source)}", "max_iters")
        return self

    def make_objective(self):
        if self.objective == "quadratic":
            return Quadratic(d=self.dim, c=self.c, noise=self.noise)
        return Logistic(d=self.dim, c=self.c)

    def threads_for(self, tau: int) -> int:
        return self.threads if self.threads is not None else tau + 1

    def exact(self) -> bool:
        """Whether 2/((τ+1)c) is this sweep's divergence threshold: stale-read on the noise-free quadratic."""
        return self.scheduler == "stale-read" and self.objective == "quadratic" and self.noise == 0
