"""The kernels' atomics (LLVM intrinsics) against C11 reference atomics (tests/c11_atomics.c, built by the tests).

m threads hammer one counter at the same time, half through each implementation, by fetch-and-add and by
CAS-retry loops. Every increment must be counted: the exact total is the invariant. A plain `+= 1` from
the same threads is the control: it may lose increments (the lesson), so it is not asserted on.
"""
import threading

import numpy as np
import pytest
from numba import njit

import c11_atomics as c11
from teach_sgd.engine import atomics

FETCH_ADD, C_FETCH_ADD, CAS, C_CAS = range(4)


@pytest.fixture(scope="module", autouse=True)
def c11_module(tmp_path_factory):
    """Compiled and loaded before any kernel below that calls it is compiled (or loaded from the disk cache)."""
    return c11.build(tmp_path_factory.mktemp("c11"))


@njit(nogil=True, cache=True)
def hammer(counter, n, mode):
    """n increments of counter[0]; returns the failed CAS attempts (CAS modes)."""
    failures = 0
    ptr = atomics.voidptr(counter)
    for _ in range(n):
        if mode == FETCH_ADD:
            atomics.fetch_add(counter, 0, 1)
        elif mode == C_FETCH_ADD:
            c11.fetch_add(ptr, 1)
        else:
            while True:
                seen = atomics.load(counter, 0)
                if mode == CAS:
                    won = atomics.cas(counter, 0, seen, seen + 1) == seen
                else:
                    won = c11.cas(ptr, seen, seen + 1) == seen
                if won:
                    break
                failures += 1
    return failures


def _race(modes, n):
    counter = np.zeros(1, np.int64)
    hammer(counter, 1, FETCH_ADD)  # compile before the race
    counter[0] = 0
    start = threading.Barrier(len(modes))
    failures = [0] * len(modes)

    def go(i, mode):
        start.wait()
        failures[i] = hammer(counter, n, mode)

    threads = [threading.Thread(target=go, args=(i, m)) for i, m in enumerate(modes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return int(counter[0]), sum(failures)


@pytest.mark.parametrize("modes", [
    (FETCH_ADD, C_FETCH_ADD),
    (CAS, C_CAS),
    (FETCH_ADD, C_FETCH_ADD, CAS, C_CAS),
    (CAS, C_CAS, CAS, C_CAS, CAS, C_CAS, CAS, C_CAS),
])
def test_kernel_and_c_atomics_count_every_increment(modes):
    n = 300_000
    total, _ = _race(modes, n)
    assert total == n * len(modes)


def test_c_cas_loop_runs_against_kernel_cas(c11_module):
    """The whole C11 CAS loop (c11_cas_increment_loop) beside the kernel's CAS loop: still exact."""
    counter = np.zeros(1, np.int64)
    hammer(counter, 1, CAS)
    counter[0] = 0
    n = 300_000
    t = threading.Thread(target=hammer, args=(counter, n, CAS))
    t.start()
    c11_module.lib.c11_cas_increment_loop(c11_module.ffi.from_buffer(counter), n)  # cffi releases the GIL meanwhile
    t.join()
    assert counter[0] == 2 * n


def test_cas_returns_the_value_seen():
    a = np.array([5], np.int64)

    @njit
    def two_cas(a):
        return atomics.cas(a, 0, 5, 7), atomics.cas(a, 0, 5, 9)

    assert two_cas(a) == (5, 7)
    assert a[0] == 7


def test_exchange_and_float_add():
    @njit
    def ops(f):
        old = atomics.exchange(f, 0, np.float32(2.5))
        atomics.fetch_fadd(f, 1, np.float32(1.5))
        return old

    f = np.array([1.0, 1.0], np.float32)
    assert ops(f) == 1.0
    assert f.tolist() == [2.5, 2.5]
