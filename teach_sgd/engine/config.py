"""RunConfig: the one description of a training run, and the one declaration of each of its settings.

The CLI, the Textual UI, the lessons and the tests all build a RunConfig and hand it to the Runner; nothing
downstream re-parses options. Each field is declared once (teach_sgd/settings.py): its type, default, parser
with limits (teach_sgd/values.py), command-line flag, help and form widget; the CLI's options, the app's form
and help, the lesson loader and the README's option list come from SETTINGS. `RunConfig.from_mapping(data,
source)` parses what a user wrote (text from the command line or a form, TOML values from a lesson); a
RunConfig checks itself once, when built, so one that exists can run. A bad value raises ConfigError with one
sentence that says what to do.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import InitVar, asdict, dataclass, replace

from teach_sgd import values as v
from teach_sgd.engine.layout import POINT_NAMES
from teach_sgd.errors import ConfigError, shorten
from teach_sgd.settings import INF, Bound, Setting, bound_text, check_fields, declared, parse_mapping, setting

ALGOS = ("seq", "lock", "hogwild", "leashed", "sync")
ALGO_NAMES = {"seq": "SEQ", "lock": "LOCK", "hogwild": "HOGWILD!", "leashed": "Leashed-SGD", "sync": "SYNC"}  # as shown
ASYNC_ALGOS = ("lock", "hogwild", "leashed")  # the ones whose updates can be stale: step rules apply to them
WRITES = ("dense", "sparse")                   # hogwild's write modes (engine/hogwild.py)
STEPS = ("none", "inverse", "tail", "fleet")   # step-size rules (engine/stepsize.py RULES, same order)
MODELS = ("mlp", "cnn")
DATASETS = ("mnist", "synthetic")
INITS = ("paper", "he")
DEFAULT_UPDATES = 2000  # the budget when none of updates, seconds, epochs is given

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
BUDGET_KEYS = ("updates", "seconds", "epochs")  # at most one is given (one flag group, one form field)
MAX_DELAY = 10**6   # the delay adversary's τ: versions its thread's updates land behind the one they read

# The protocol points each algorithm's threads pass, in order (engine/phase.py, layout.PT_*): where a thread
# can be held by a breakpoint, a freeze (--freeze) or a step. LOCK holds its lock at "holding" (twice per
# update: before the copy and before the apply), at "copied" and at "applied".
POINTS = {
    "seq": ("start", "computed", "applied"),
    "lock": ("start", "holding", "copied", "read", "computed", "waiting", "applied"),
    "hogwild": ("start", "read", "computed", "writing", "counted"),
    "leashed": ("start", "read", "computed", "cas", "retry"),
    "sync": ("start", "computed", "barrier", "applied"),
}
assert all(p in POINT_NAMES for points in POINTS.values() for p in points)
# LOCK's points inside the lock (engine/lock.py): a thread held at one of them stops every other thread
LOCKED_POINTS = ("holding", "copied", "applied")


def _fraction(x, at: str) -> float:
    f = v.number(x, at, 0.0, 1.0)
    if f >= 1.0:
        raise ConfigError(f"{at} is a fraction of the initial loss, between 0 and 1 (e.g. 0.25), got {f:g}",
                          at.lstrip("-").replace("-", "_"))
    return f


def _parts(x, at: str, n: int, form: str) -> list:
    """'a:b:c' (or a sequence of n values) as n items; ConfigError naming the form otherwise."""
    parts = x.split(":") if isinstance(x, str) else list(x) if isinstance(x, (list, tuple)) else [x]
    if len(parts) != n:
        raise ConfigError(f"{at} takes {form}, got {shorten(x)}", at.lstrip("-").replace("-", "_"))
    return parts


def _delay(x, at: str) -> tuple[int, int] | None:
    """THREAD:TAU, e.g. 0:4 — thread 0's updates land 4 versions after the one they read; empty or "off": none
    (the form's empty field)."""
    if isinstance(x, str) and x.strip().lower() in ("", "off"):
        return None
    thread, tau = _parts(x, at, 2, "THREAD:TAU, e.g. 0:4")
    return v.integer(thread, f"{at}'s THREAD", 0, MAX_THREADS - 1), v.integer(tau, f"{at}'s TAU", 1, MAX_DELAY)


def delay_text(d: tuple[int, int] | None) -> str:
    """A delay as it is typed: "0:4", or "" for none (the form's empty field)."""
    return "" if d is None else f"{d[0]}:{d[1]}"


def _freeze(x, at: str) -> tuple[int, str, float, float]:
    """THREAD:POINT:START:SECONDS, e.g. 0:holding:1:2 — thread 0 held at "holding" for 2 s, from 1 s on."""
    thread, point, start, seconds = _parts(x, at, 4, "THREAD:POINT:START:SECONDS, e.g. 0:holding:1:2")
    return (v.integer(thread, f"{at}'s THREAD", 0, MAX_THREADS - 1),
            v.choice(str(point).strip().lower(), f"{at}'s POINT", POINT_NAMES),
            v.number(start, f"{at}'s START", 0.0, MAX_SECONDS, zero_ok=True),
            v.number(seconds, f"{at}'s SECONDS", 0.0, MAX_SECONDS))


def _freeze_point(x) -> str | None:
    """The POINT of a --freeze value, or None if it is malformed (then parsing it again reports that)."""
    try:
        return _freeze(x, "--freeze")[1]
    except ConfigError:
        return None


def repeat_count(x, at: str) -> int:
    """How many times to run each config, on seeds seed, seed + 1, … (compare --repeat, `repeat` in a lesson)."""
    return v.integer(x, at, 1, MAX_REPEAT)


def shared_settings(settings: Mapping[str, object], algo: str) -> dict:
    """One set of settings for several algorithms (compare, the app's form): each takes what applies to it.
    HOGWILD!'s write mode goes to hogwild only, a step-size rule and the delay adversary to the asynchronous
    algorithms only, a freeze to the algorithms that have its point, and seq always runs as the one-thread
    baseline."""
    out = {**settings, "algo": algo}
    if algo != "hogwild":
        out["writes"] = None
    if algo not in ASYNC_ALGOS:
        out["step"] = None
        out["delay"] = None
    if algo == "seq":
        out["threads"] = None
    if settings.get("freeze") is not None and _freeze_point(settings["freeze"]) not in POINTS[algo]:
        out["freeze"] = None  # a point this algorithm does not have
    return out


@dataclass(frozen=True)
class RunConfig:
    algo: str = setting(
        "leashed", lambda x, at: v.choice(x, at, ALGOS),
        "seq (one thread), lock (one global lock), hogwild (no lock, racy writes), leashed (lock-free, CAS on a "
        "version pointer) or sync (the threads share each mini-batch and meet at a barrier)",
        label="algorithm", widget="select", width=14, choices=tuple((ALGO_NAMES[a], a) for a in ALGOS))
    threads: int = setting(2, lambda x, at: v.integer(x, at, 1, MAX_THREADS),
                           f"worker threads m, each a real native thread, 1 to {MAX_THREADS}; seq always uses 1",
                           metavar="N", label="threads m", widget="integer", width=7)
    model: str = setting("mlp", lambda x, at: v.choice(x, at, MODELS), "the model: mlp or the small cnn",
                         label="model", widget="select", width=9, choices=tuple((m, m) for m in MODELS))
    hidden: tuple[int, ...] = setting((128,), lambda x, at: v.widths(x, at, high=4096, max_layers=8),
                                      "MLP hidden widths, e.g. 128,64; the CNN's FC width",
                                      metavar="W,W", label="hidden", width=9, restrict=r"[0-9,]*")
    dataset: str = setting("mnist", lambda x, at: v.choice(x, at, DATASETS),
                           "mnist (the bundled 5,000 digits) or synthetic", label="dataset", widget="select",
                           width=14, choices=tuple((d, d) for d in DATASETS))
    data_dir: str | None = setting(None, lambda x, at: str(x),
                                   "a folder with MNIST-format IDX files (full MNIST, Fashion-MNIST)",
                                   metavar="DIR", optional=True)
    lr: float = setting(0.05, lambda x, at: v.number(x, at, 0.0, 1e4),
                        "the step size η; too large and the loss explodes", metavar="X", label="step lr",
                        widget="number", width=9)
    batch: int = setting(16, lambda x, at: v.integer(x, at, 1, 1024), "mini-batch size per gradient",
                         metavar="B", label="batch", widget="integer", width=7)
    persistence: Bound = setting(
        INF, lambda x, at: v.bound_or_inf(x, at, MAX_PERSISTENCE),
        "Leashed-SGD's persistence bound Tp: failed CAS retries before a gradient is dropped, 0, 1, 2, … or "
        "inf (never drop)", metavar="TP", label="persist Tp", width=7, text=bound_text, optional=True,
        restrict=r"[0-9]*|i(nf?)?|∞")
    writes: str = setting(
        "dense", lambda x, at: v.choice(x, at, WRITES),
        "HOGWILD!'s writes: dense (every coordinate) or sparse (only non-zero gradient coordinates, Niu et "
        "al.); compare applies it to hogwild only", label="writes", widget="select", width=10,
        choices=tuple((w, w) for w in WRITES))
    step: str = setting(
        "none", lambda x, at: v.choice(x, at, STEPS),
        "step-size rule for lock, hogwild, leashed: none, inverse (η/(τ+1)), tail (TAIL-τ) or fleet "
        "(exp(−βτ)); compare applies it to those only", label="step rule", widget="select", width=11,
        choices=tuple((r, r) for r in STEPS))
    updates: int | None = setting(None, lambda x, at: v.integer(x, at, 1, MAX_UPDATES),
                                  f"published updates (default {DEFAULT_UPDATES:,})", metavar="N",
                                  optional=True, exclusive="budget")
    seconds: float | None = setting(None, lambda x, at: v.number(x, at, 0.0, MAX_SECONDS), "run time in seconds",
                                    metavar="S", optional=True, exclusive="budget")
    epochs: float | None = setting(None, lambda x, at: v.number(x, at, 0.0, MAX_EPOCHS),
                                   "passes over the training set", metavar="E", optional=True, exclusive="budget")
    target_loss: float | None = setting(None, lambda x, at: _fraction(x, at),
                                        "stop once loss ≤ FRACTION × initial loss; the time is recorded",
                                        metavar="FRACTION", optional=True)
    seed: int = setting(0, lambda x, at: v.integer(x, at, 0, MAX_SEED),
                        "seed for the initial model, the batch order and the synthetic data: the same seed gives "
                        "the same run", metavar="S", label="seed", widget="integer", width=7)
    init: str | None = setting(None, lambda x, at: v.choice(x, at, INITS),
                               "weight init: paper or he (default: the model's)", optional=True)
    telemetry: bool = setting(True, lambda x, at: v.flag(x, at), "per-thread telemetry (--no-telemetry: count "
                              "updates only, to measure telemetry cost)", flag=None)
    # also sum every applied update per thread in float64 (tests, lost-update mass)
    audit: bool = setting(False, lambda x, at: v.flag(x, at), "sum every applied update in float64", flag=None)
    eval_every_s: float = setting(0.05, lambda x, at: v.number(x, at, 0.0, 3600.0),
                                  "seconds between loss evaluations", flag=None)
    eval_samples: int = setting(256, lambda x, at: v.integer(x, at, 1, 100_000),
                                "samples per loss evaluation", flag=None)
    stretch: int = setting(
        1, lambda x, at: v.integer(x, at, 1, MAX_STRETCH),
        f"slow motion, 1 to {MAX_STRETCH}: every window that decides a race (compute, Leashed-SGD's candidate up "
        "to its CAS, HOGWILD!'s read-to-write of its coordinates, LOCK's locked copy and apply) sleeps "
        "(stretch − 1) × its own CPU time inside itself; races decided in nanoseconds are not kept "
        "(benchmarks/bench_slowmotion.py measures each)", metavar="S")
    delay: tuple[int, int] | None = setting(
        None, lambda x, at: _delay(x, at),
        "the delay adversary (lock, hogwild, leashed): each update of THREAD waits after its gradient until TAU "
        "updates have been published since the version it read, so it lands TAU versions stale (more only if "
        "another publishes in between); empty or off: none; compare applies it to those only",
        metavar="THREAD:TAU", optional=True, label="delay", width=7, text=delay_text, restrict=r"[0-9]*:?[0-9]*",
        shown_default=False)
    freeze: tuple[int, str, float, float] | None = setting(
        None, lambda x, at: _freeze(x, at),
        "hold THREAD at protocol POINT the first time it gets there after START s, for SECONDS s. Points: "
        + "; ".join(f"{a} {', '.join(p)}" for a, p in POINTS.items()),
        metavar="THREAD:POINT:START:SECONDS", optional=True)
    # loss above 5 × the initial (ln 10 ≈ 2.3 at init) is confidently wrong: diverged
    diverge_factor: float = setting(5.0, lambda x, at: v.number(x, at, 1.0, 1e6),
                                    "a loss above this × the initial loss is diverged", flag=None)
    source: InitVar[str] = "code"  # how settings are named in an error (teach_sgd/settings.py); not a setting

    def __post_init__(self, source: str) -> None:
        """The one check of a config: every field against its declaration, then the rules between settings."""
        check_fields(self, SETTINGS, source)

        def name(key: str) -> str:
            return SETTINGS[key].name(source)

        if self.algo == "seq" and self.threads != 1:
            raise ConfigError(f"seq is sequential SGD and runs on exactly one thread: use {name('threads')} 1 "
                              "(or another algorithm)", "threads")
        if self.algo == "sync" and self.batch < self.threads:
            raise ConfigError(f"sync splits each mini-batch among the threads: {name('batch')} must be at least "
                              f"{name('threads')} ({self.threads})", "batch")
        if self.writes != "dense" and self.algo != "hogwild":
            raise ConfigError(f"{name('writes')} {self.writes} is a HOGWILD! write mode: use it with hogwild (the "
                              "other algorithms apply whole updates)", "writes")
        if self.step != "none" and self.algo not in ASYNC_ALGOS:
            raise ConfigError(f"{name('step')} {self.step} scales stale updates, and {self.algo}'s are never "
                              f"stale: use it with {', '.join(ASYNC_ALGOS)}", "step")
        if self.delay is not None:
            thread, tau = self.delay
            if self.algo not in ASYNC_ALGOS:
                raise ConfigError(f"{name('delay')} {thread}:{tau} needs {', '.join(ASYNC_ALGOS[:-1])} or "
                                  f"{ASYNC_ALGOS[-1]}: {self.algo}'s updates are never stale", "delay")
            if not thread < self.threads or self.threads < 2:
                raise ConfigError(f"{name('delay')} {thread}:{tau} needs thread {thread} and another: use "
                                  f"{name('threads')} {max(2, thread + 1)} or more", "delay")
        if self.freeze is not None:
            thread, point = self.freeze[:2]
            if not thread < self.threads:
                raise ConfigError(f"{name('freeze')} names thread {thread}, but the threads are 0 to "
                                  f"{self.threads - 1}", "freeze")
            if point not in POINTS[self.algo]:
                raise ConfigError(f"{name('freeze')}: {self.algo}'s threads pass the points "
                                  f"{', '.join(POINTS[self.algo])}, not {point}", "freeze")
        if self.model == "cnn" and len(self.hidden) > 1:
            raise ConfigError(f"the CNN has one hidden FC layer: give {name('hidden')} one width, not "
                              f"{','.join(map(str, self.hidden))}", "hidden")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str = "cli") -> "RunConfig":
        """Parse settings as a user wrote them; None means "not given" (the default). `source` ("cli",
        "lesson", "ui") only changes how settings are named in messages. The pseudo-setting `budget`
        ("3000", "10s", "2ep") sets updates, seconds or epochs. The default budget is filled in."""
        raw = {k: x for k, x in data.items() if x is not None}
        if "budget" in raw:
            raw.update(v.budget(raw.pop("budget"), BUDGET.name(source)))
        kw = parse_mapping(SETTINGS, raw, source)
        if kw.get("algo") == "seq":
            kw.setdefault("threads", 1)
        if not any(k in kw for k in BUDGET_KEYS):
            kw["updates"] = DEFAULT_UPDATES  # filled in before the one check, not by a second config
        return cls(**kw, source=source)

    def budget(self) -> "RunConfig":
        """The same config with the default budget (DEFAULT_UPDATES) filled in when none was given."""
        if all(getattr(self, k) is None for k in BUDGET_KEYS):
            return replace(self, updates=DEFAULT_UPDATES)
        return self

    def repeats(self, n: int, source: str = "cli") -> list["RunConfig"]:
        """This config n times, on seeds seed, seed + 1, …: the same run, other batch orders and initial models."""
        return [replace(self, seed=self.seed + i, source=source) for i in range(n)]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d


SETTINGS: dict[str, Setting] = declared(RunConfig)
# The form's one budget field stands for updates, seconds and epochs: "3000", "10s" or "2ep".
BUDGET = Setting("budget", lambda x, at: v.budget(x, at),
                 "a number of updates (3000), of seconds (10s) or of epochs (2ep)",
                 default=str(DEFAULT_UPDATES), flag=None, label="budget", width=7,
                 # starts with a number: "s" or "e" typed over the whole text is Start or Export, not a budget
                 restrict=r"([0-9._]+(e[+-]?[0-9]*)?(s|ep?)?)?")
FORM = tuple(BUDGET if key == "updates" else s for key, s in SETTINGS.items() if s.label or key == "updates")


def budget_text(config: RunConfig) -> str:
    """A config's budget as the form's budget field writes it."""
    if config.seconds is not None:
        return f"{config.seconds:g}s"
    if config.epochs is not None:
        return f"{config.epochs:g}ep"
    return str(config.updates or DEFAULT_UPDATES)
