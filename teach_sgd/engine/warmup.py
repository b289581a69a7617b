"""Compiling the kernels before a run's clock starts, and saying so while it happens.

numba compiles a kernel on its first call, once per model (the model kind is a type: models/__init__.py), and
caches the machine code on disk. Compiling holds the GIL for seconds and must never happen inside a timed
run, so every front end warms the (algorithm, model) pairs it is about to run first:

    warm_up([("leashed", "mlp")], on_compile=start, on_compiled=done)   # seconds; cached code loads in ~1 s

What a compile costs: numba compiles every @njit function into a module of its own and links in, and
optimizes again, everything the function calls, so each level of calls above the model's code pays for the
model's code once more. The thin wrappers between a kernel and the model (gradient.compute,
leashed.compute_gradient, models.loss_and_grad) are therefore inlined (`inline="always"`), which took the
Leashed MLP kernel from about 19.5 s to 15.4 s on 2 cores, and the model kind is a type, so a kernel never
contains the other model (37.7 s → 24.8 s before that, under load).

`on_compile(i, n, what, expected_s)` is called only for a stage that really compiles (numba's "numba:compile"
event fires on compiles, not on cache loads), so "compiling…" is never shown when the cache is warm;
`expected_s` is how long the same kernel took to compile on this machine last time (engine/compile_times.py),
None if never. `on_compiled(i, n, what, seconds)` follows when that compile is done, and its seconds are kept
for the next time.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np
from numba.core import event

from teach_sgd.engine import compile_times, control, phase, telemetry, versions
from teach_sgd.engine import layout as L
from teach_sgd.engine.config import ALGOS, MODELS, RunConfig
from teach_sgd.engine.inputs import KERNELS, dataset_for, model_for
from teach_sgd.engine.state import RunState

_warm: set[tuple[str, str]] = set()  # (algo, model) pairs this process has compiled or loaded


def is_warm(algo: str, model: str) -> bool:
    return (algo, model) in _warm


def all_kernels() -> list[tuple[str, str]]:
    """Every (algo, model) pair, the MLP's first."""
    return [(algo, model) for model in MODELS for algo in ALGOS]


class _FirstCompile(event.Listener):
    """Calls `announce()` at the first real compile of a stage (and only then), and notes when that was."""

    def __init__(self, announce: Callable[[], None]):
        self.announce = announce
        self.since: float | None = None

    def on_start(self, ev) -> None:
        if self.since is None:
            self.since = time.perf_counter()
            self.announce()

    def on_end(self, ev) -> None:
        pass


def _warm_readers() -> None:
    """The compiled helpers the Runner calls from Python (the event and loss readers, pause and resume, the
    hold word, the copy of the latest version a stop takes), compiled or loaded once, so the first drain or pause of a run does not stall on them."""
    words = np.zeros(L.CONTROL_WORDS, np.int64)
    telemetry.read_events(np.zeros(L.EVENT_FIELDS, np.int64), np.zeros(1, np.int64), 1)
    telemetry.read_loss(np.zeros(L.LOSS_FIELDS, np.float64), 0, 1)
    control.pause(words)
    control.resume(words, 0)
    phase.hold_command(np.zeros(L.HOLD_WORDS, np.int64), 0, True)
    versions.copy_latest(words, np.zeros((1, 1), np.float32), np.zeros(1, np.float32))  # a stop's θ (Leashed)


def warm_up(kernels: Iterable[tuple[str, str]] | None = None,
            on_compile: Callable[[int, int, str, float | None], None] | None = None,
            on_compiled: Callable[[int, int, str, float], None] | None = None) -> float:
    """Compile (or load from the cache) the kernel of every (algo, model) pair; returns the seconds spent.

    Each kernel is called once on a tiny synthetic run with the stop flag already set: it returns at once,
    but numba must first compile its whole call graph for that model.
    """
    todo = [k for k in dict.fromkeys(all_kernels() if kernels is None else kernels) if k not in _warm]
    t = time.perf_counter()
    if todo and not _warm:
        _warm_readers()
    for i, (algo, model) in enumerate(todo, 1):
        what = f"the {algo} kernel for the {model.upper()}"
        expected = compile_times.expected_s(algo, model)
        listener = _FirstCompile(lambda: on_compile and on_compile(i, len(todo), what, expected))
        with event.install_listener("numba:compile", listener):
            config = RunConfig(algo=algo, model=model, threads=1, dataset="synthetic", updates=1, eval_samples=8)
            data = dataset_for(config)
            state = RunState(config, model_for(config, data), data)
            state.control[L.STOP] = 1
            KERNELS[algo](*state.kernel_args(0))
        _warm.add((algo, model))
        if listener.since is not None:  # it compiled (a cache load fires no compile event)
            seconds = time.perf_counter() - listener.since
            compile_times.remember(algo, model, seconds)
            if on_compiled:
                on_compiled(i, len(todo), what, seconds)
    return time.perf_counter() - t
