"""The simulator's two configurations, and the one place their settings are parsed and checked.

    SimConfig     one machine the learner steps through (the simulator screen): one α, one τ_max
    SweepConfig   the τ_max × α sweep (`teach-sgd simulate`, lesson experiments of kind "simulate")

Each setting is declared once, as a field made with teach_sgd.settings.setting (parser with limits, default,
flag, help, form widget); the screen's form, `teach-sgd simulate`'s options and the lesson loader come from
SIM_SETTINGS and SWEEP_SETTINGS. Both configs are built with `from_mapping(data, source)` from what a user
wrote (command-line text, form text, TOML values) and check themselves once, when built. The limits keep
every sweep small enough to finish on a laptop and every number small enough not to overflow.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import InitVar, dataclass, fields

from teach_sgd import values as v
from teach_sgd.errors import ConfigError
from teach_sgd.settings import INF, Bound, bound_text, check_fields, declared, parse_mapping, setting

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

QUADRATIC_C = 1.0    # f(x) = (c/2)‖x‖²
LOGISTIC_C = 0.1     # the logistic regression's L2 weight
MODE_NAMES = {"faa": "FAA (PODC)", "hogwild": "HOGWILD!", "leashed": "Leashed"}  # as the simulator screen shows them
ALPHAS = "0.02:2.5:25"  # the sweep's default step sizes: 25 from well below to past every threshold 2/((τ+1)c)


def _mode(**form):
    return setting("faa", lambda x, at: v.choice(x, at, MODES),
                   "faa: every write an atomic fetch-and-add (the PODC 2018 model; no update is lost); hogwild: "
                   "each write a LOAD then a STORE, which erases writes made since its LOAD (a lost update); "
                   "leashed: build a new version and publish it with one CAS on the pointer P, which fails if "
                   "another thread published first", **form)


def _objective(**form):
    return setting("quadratic", lambda x, at: v.choice(x, at, OBJECTIVES),
                   "quadratic: f = (c/2)‖x‖²; logistic: L2-regularised logistic regression", **form)


def _seed(**form):
    return setting(0, lambda x, at: v.integer(x, at, 0, MAX_SEED),
                   "seed for gradient noise and random schedulers", **form)


def _noise(**form):
    return setting(0.0, lambda x, at: v.number(x, at, 0.0, 1e3, zero_ok=True),
                   "gradient noise σ of the quadratic (0: exact gradients)", **form)


def _persistence(**form):
    return setting(INF, lambda x, at: v.bound_or_inf(x, at, 10**6),
                   "Leashed mode's Tp: after Tp + 1 failed CAS a gradient is dropped (inf: retry forever)",
                   text=bound_text, optional=True, **form)


def _check_adversary(scheduler: str, tau_max: int | None, threads: int | None, name) -> None:
    if scheduler in ("bounded-delay", "stale-read") and tau_max is None:
        raise ConfigError(f"the {scheduler} adversary plays against a leash: set {name('tau_max')}", "tau_max")
    if scheduler == "stale-read" and threads is not None and threads < tau_max + 1:
        raise ConfigError(f"the stale-read adversary at τ_max = {tau_max} needs at least {tau_max + 1} threads: "
                          f"raise {name('threads')}", "threads")


@dataclass(frozen=True)
class SimConfig:
    """One machine on the simulator screen."""

    mode: str = _mode(label="mode", widget="select", width=14, choices=tuple((MODE_NAMES[m], m) for m in MODES))
    scheduler: str = setting(
        "round-robin", lambda x, at: v.choice(x, at, (MANUAL, *SCHEDULERS)),
        "manual (you pick every step), round-robin, random (seeded), bounded-delay (an adversary holding back the "
        "oldest iteration as long as τ_max allows) or stale-read (τ_max + 1 threads read the same x, then all write)",
        label="scheduler", widget="select", width=17, choices=tuple((s, s) for s in (MANUAL, *SCHEDULERS)))
    threads: int = setting(3, lambda x, at: v.integer(x, at, 1, MAX_SCREEN_THREADS),
                           f"virtual threads, 1 to {MAX_SCREEN_THREADS} (keys 1–{MAX_SCREEN_THREADS} step them)",
                           label="threads", widget="integer", width=4)
    tau_max: Bound = setting(2, lambda x, at: v.bound_or_inf(x, at, MAX_TAU),
                             "the leash: a step is refused if it would let some iteration's delay exceed τ_max "
                             "(inf: no leash); the adversaries need one", label="τ_max", width=7, text=bound_text,
                             optional=True)
    alpha: float = setting(0.1, lambda x, at: v.number(x, at, 0.0, MAX_ALPHA), "the step size α",
                           label="step α", widget="number", width=7)
    objective: str = _objective(label="objective", widget="select", width=13,
                                choices=tuple((o, o) for o in OBJECTIVES))
    d: int = setting(4, lambda x, at: v.integer(x, at, 1, MAX_SCREEN_DIM),
                     f"coordinates of the model, 1 to {MAX_SCREEN_DIM}", label="d", widget="integer", width=4)
    seed: int = _seed(label="seed", widget="integer", width=7)
    noise: float = _noise(label="noise", widget="number", width=7)
    persistence: Bound = _persistence(label="Tp", width=7)
    source: InitVar[str] = "code"  # how settings are named in an error (teach_sgd/settings.py); not a setting

    def __post_init__(self, source: str) -> None:
        check_fields(self, SIM_SETTINGS, source)
        _check_adversary(self.scheduler, self.tau_max, self.threads, lambda k: SIM_SETTINGS[k].name(source))

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str = "ui") -> "SimConfig":
        return cls(**parse_mapping(SIM_SETTINGS, data, source, "simulator setting"), source=source)

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
    iterations). `c`: the objective's own unless given (quadratic 1, logistic 0.1)."""

    scheduler: str = setting("stale-read", lambda x, at: v.choice(x, at, SCHEDULERS),
                             f"one of {', '.join(SCHEDULERS)}")
    mode: str = _mode()
    persistence: Bound = _persistence()
    threads: int | None = setting(None, lambda x, at: v.integer(x, at, 1, MAX_THREADS),
                                  "threads (default: τ_max + 1 for each τ_max)", metavar="N", optional=True)
    taus: tuple[int, ...] = setting((0, 1, 2, 4, 8), lambda x, at: v.integers(x, at, 0, MAX_TAU, MAX_TAUS),
                                    "comma-separated τ_max values", flag="--tau-max", metavar="T,T")
    alphas: tuple[float, ...] = setting(
        v.numbers(ALPHAS, "alphas", 0.0, MAX_ALPHA, MAX_SWEEP_POINTS),
        lambda x, at: v.numbers(x, at, 0.0, MAX_ALPHA, MAX_SWEEP_POINTS),
        f"step sizes: a comma-separated list, or LOW:HIGH:N for N (at most {MAX_SWEEP_POINTS}) values evenly "
        f"spaced on a log scale (default {ALPHAS})", metavar="A,A|LOW:HIGH:N", text=lambda _: ALPHAS,
        shown_default=False)
    objective: str = _objective()
    dim: int = setting(4, lambda x, at: v.integer(x, at, 1, MAX_DIM), "dimension d of the model")
    c: float = setting(QUADRATIC_C, lambda x, at: v.number(x, at, 0.0, 1e3),
                       f"strong convexity c: the quadratic's curvature (default {QUADRATIC_C:g}), the logistic "
                       f"regression's L2 weight (default {LOGISTIC_C:g})", shown_default=False)
    noise: float = _noise()
    eps: float = setting(1e-3, lambda x, at: v.number(x, at, 0.0, 1e6), "success when ‖x − x*‖² ≤ EPS")
    max_iters: int = setting(5000, lambda x, at: v.integer(x, at, 1, MAX_ITERS), "iteration budget per run")
    seed: int = _seed()
    source: InitVar[str] = "code"  # how settings are named in an error (teach_sgd/settings.py); not a setting

    def __post_init__(self, source: str) -> None:
        check_fields(self, SWEEP_SETTINGS, source)

        def name(key: str) -> str:
            return SWEEP_SETTINGS[key].name(source) if key in SWEEP_SETTINGS else key

        _check_adversary(self.scheduler, max(self.taus), self.threads, lambda k: name("taus" if k == "tau_max" else k))
        if self.objective == "logistic" and self.noise:
            raise ConfigError(f"{name('noise')} applies to the quadratic only; logistic regression's noise is its "
                              "sampling", "noise")
        work = len(self.taus) * len(self.alphas) * self.max_iters
        if work > MAX_WORK:
            raise ConfigError(f"this sweep is {len(self.taus)} τ_max × {len(self.alphas)} α × {self.max_iters:,} "
                              f"iterations = {work:,} iterations, over the limit of {MAX_WORK:,}: use fewer "
                              f"values or a smaller {name('max_iters')}", "max_iters")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str = "cli") -> "SweepConfig":
        kw = parse_mapping(SWEEP_SETTINGS, data, source, "simulator setting")
        kw.setdefault("c", QUADRATIC_C if kw.get("objective", "quadratic") == "quadratic" else LOGISTIC_C)
        return cls(**kw, source=source)

    def make_objective(self):
        if self.objective == "quadratic":
            return Quadratic(d=self.dim, c=self.c, noise=self.noise)
        return Logistic(d=self.dim, c=self.c)

    def threads_for(self, tau: int) -> int:
        return self.threads if self.threads is not None else tau + 1

    def exact(self) -> bool:
        """Whether 2/((τ+1)c) is this sweep's divergence threshold: stale-read on the noise-free quadratic."""
        return self.scheduler == "stale-read" and self.objective == "quadratic" and self.noise == 0


SIM_SETTINGS = declared(SimConfig)
SWEEP_SETTINGS = declared(SweepConfig)
