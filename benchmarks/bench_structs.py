"""Named tuples, structref or jitclass for the kernels' state: which costs nothing (issue 14, "measure which").

    python benchmarks/bench_structs.py                 # 7 rounds, 1 and 2 threads, ~1 minute on 2 cores
    python benchmarks/bench_structs.py --rounds 15 --iters 4000000

Every kernel is `worker(shared, data, logs, model, me)`, five named tuples of arrays (engine/layout.py). This
times one kernel-like loop body passing the same arrays four ways, interleaved round by round:

  positional   the arrays as separate arguments (what the kernels took before: 21–23 of them)
  namedtuple   typing.NamedTuple of arrays (what the kernels take)
  structref    numba.experimental.structref: a reference-counted struct of the same fields
  jitclass     numba.experimental.jitclass: the same, as a class

The loop is what every kernel iteration does with its state, with little arithmetic around it, so that
passing and reading the state is what is measured: take a batch ticket with an atomic fetch-and-add on a shared
word, check it against a read-only int parameter, read the learning rate, update 64 coordinates of θ from the
thread's gradient, bump two of the thread's counters (one by release store). With 2 threads the shared
struct is read by both at once: a struct whose field reads touch a reference count would show it there.

It also says whether numba writes a kernel taking each kind to its disk cache (`cache=True`: the kernels must
load from the disk cache, or every start compiles them; loading in a fresh process is not checked here). Printed: ns per iteration (median of the rounds, and min–max), and each
kind / namedtuple. No test asserts any of this; figures are noisy on a shared machine (the load is printed).
"""
from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import warnings
from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.core.errors import NumbaWarning
from numba.experimental import jitclass, structref

from teach_sgd.engine import atomics

BATCH, BUDGET, LR, N_COORDS = 16, 0, 0, 64   # control word, ip index, fp index, coordinates per update


# ---- the four ways -----------------------------------------------------------------------------------------
class Shared(NamedTuple):
    control: np.ndarray
    ip: np.ndarray
    fp: np.ndarray


class Me(NamedTuple):
    counters: np.ndarray
    grad: np.ndarray


@structref.register
class SharedRefType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(t)) for name, t in fields)


@structref.register
class MeRefType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(t)) for name, t in fields)


class SharedRef(structref.StructRefProxy):
    pass


class MeRef(structref.StructRefProxy):
    pass


structref.define_proxy(SharedRef, SharedRefType, ["control", "ip", "fp"])
structref.define_proxy(MeRef, MeRefType, ["counters", "grad"])


@jitclass([("control", types.int64[:]), ("ip", types.int64[:]), ("fp", types.float64[:])])
class SharedClass:
    def __init__(self, control, ip, fp):
        self.control, self.ip, self.fp = control, ip, fp


@jitclass([("counters", types.int64[:]), ("grad", types.float32[:])])
class MeClass:
    def __init__(self, counters, grad):
        self.counters, self.grad = counters, grad


# ---- the loop, once for the three struct kinds (numba compiles one version per type) and once positional ------
def _loop(sh, me, theta):
    done = 0
    while True:
        ticket = atomics.fetch_add(sh.control, BATCH, 1)
        if ticket >= sh.ip[BUDGET]:
            break
        lr = sh.fp[LR]
        g = me.grad
        for i in range(N_COORDS):
            theta[i] -= np.float32(lr) * g[i]
        me.counters[0] += 1
        atomics.store(me.counters, 1, ticket)
        done += 1
    return done


def _loop_positional(control, ip, fp, counters, grad, theta):
    done = 0
    while True:
        ticket = atomics.fetch_add(control, BATCH, 1)
        if ticket >= ip[BUDGET]:
            break
        lr = fp[LR]
        for i in range(N_COORDS):
            theta[i] -= np.float32(lr) * grad[i]
        counters[0] += 1
        atomics.store(counters, 1, ticket)
        done += 1
    return done


loop = njit(nogil=True)(_loop)
loop_positional = njit(nogil=True)(_loop_positional)
KINDS = ("positional", "namedtuple", "structref", "jitclass")


def make_state(kind: str, threads: int, iters: int):
    """(call(tid) -> iterations done, reset()) for `threads` threads sharing one state of this kind."""
    control = np.zeros(64, np.int64)
    ip = np.array([iters * threads], np.int64)
    fp = np.array([1e-9], np.float64)
    theta = np.zeros(N_COORDS, np.float32)
    rows = [(np.zeros(8, np.int64), np.ones(N_COORDS, np.float32)) for _ in range(threads)]
    if kind == "positional":
        calls = [lambda c=c, g=g: loop_positional(control, ip, fp, c, g, theta) for c, g in rows]
    else:
        make_sh, make_me = {"namedtuple": (Shared, Me), "structref": (SharedRef, MeRef),
                            "jitclass": (SharedClass, MeClass)}[kind]
        sh = make_sh(control, ip, fp)
        mes = [make_me(c, g) for c, g in rows]
        calls = [lambda me=me: loop(sh, me, theta) for me in mes]

    def reset():
        control[:] = 0
    return calls, reset


def time_once(kind: str, threads: int, iters: int) -> float:
    """ns per iteration per thread: the wall time of `threads` threads sharing `iters × threads` tickets."""
    calls, reset = make_state(kind, threads, iters)
    for call in calls:  # compiled (or found) before the clock starts
        call()
    reset()
    started = []  # the clock starts when the last thread is ready, none having begun
    start = threading.Barrier(threads, action=lambda: started.append(time.perf_counter()))
    done = [0] * threads

    def go(i):
        start.wait()
        done[i] = calls[i]()
    workers = [threading.Thread(target=go, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started[0]
    assert sum(done) == iters * threads, (kind, done)
    return wall * 1e9 / iters


def cacheable(kind: str) -> str:
    """Whether numba writes a kernel that takes this kind to its disk cache (it warns when it cannot)."""
    fn = njit(nogil=True, cache=True)(_loop_positional if kind == "positional" else _loop)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NumbaWarning)
        control, ip, fp = np.zeros(64, np.int64), np.array([1], np.int64), np.array([0.0])
        c, g, theta = np.zeros(8, np.int64), np.ones(N_COORDS, np.float32), np.zeros(N_COORDS, np.float32)
        if kind == "positional":
            fn(control, ip, fp, c, g, theta)
        else:
            make_sh, make_me = {"namedtuple": (Shared, Me), "structref": (SharedRef, MeRef),
                                "jitclass": (SharedClass, MeClass)}[kind]
            fn(make_sh(control, ip, fp), make_me(c, g), theta)
    refused = [str(w.message).splitlines()[0] for w in caught if "cache" in str(w.message).lower()]
    return "no: " + refused[0][:70] if refused else "yes"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    ap.add_argument("--iters", type=int, default=2_000_000, help="iterations per thread per measurement "
                    "(default 2,000,000)")
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {a.rounds} rounds of {a.iters:,} "
          f"iterations per thread, {N_COORDS} coordinates each")
    for kind in KINDS:
        print(f"  {kind:<11} written to the disk cache: {cacheable(kind)}")
    for threads in (1, 2):
        ns = {k: [] for k in KINDS}
        for _ in range(a.rounds):
            for kind in KINDS:
                ns[kind].append(time_once(kind, threads, a.iters))
        base = statistics.median(ns["namedtuple"])
        print(f"\n{threads} thread(s): ns per iteration, median (min–max), / namedtuple")
        for kind in KINDS:
            med = statistics.median(ns[kind])
            print(f"  {kind:<11} {med:7.1f} ({min(ns[kind]):.1f}–{max(ns[kind]):.1f})   {med / base:5.2f}×")


if __name__ == "__main__":
    main()
