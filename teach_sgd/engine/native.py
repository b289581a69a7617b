"""The cffi C module, made callable from nopython kernels.

`teach_sgd.engine._native` is compiled at install time from native.c. Python code uses it through cffi
(`lib`, `ffi`). For numba we load the very same shared object into LLVM's symbol table and declare each
symbol as an ExternalFunction: calls then compile to plain C calls, and kernels that use them stay
cacheable (a cffi `lib.f` referenced from a kernel would make it uncacheable: "uses dynamic globals").
"""
import numpy as np
from llvmlite import binding as _llvm
from numba import types

from teach_sgd.engine._native import ffi, lib  # noqa: F401  (re-exported for Python callers)
from teach_sgd.engine import _native as _module

_llvm.load_library_permanently(_module.__file__)

now_ns = types.ExternalFunction("ts_now_ns", types.int64())
thread_cpu_ns = types.ExternalFunction("ts_thread_cpu_ns", types.int64())  # this thread's CPU time
sleep_ns = types.ExternalFunction("ts_sleep_ns", types.void(types.int64))
mutex_lock = types.ExternalFunction("ts_mutex_lock", types.int32(types.voidptr))
mutex_unlock = types.ExternalFunction("ts_mutex_unlock", types.int32(types.voidptr))

MUTEX_BYTES = int(lib.ts_mutex_size())


def new_mutex():
    """A pthread mutex inside a numpy byte buffer (kept alive by the caller, passed to kernels as an array)."""
    buf = np.zeros(MUTEX_BYTES, dtype=np.uint8)
    if lib.ts_mutex_init(ffi.from_buffer(buf)) != 0:
        raise OSError("pthread_mutex_init failed")
    return buf
