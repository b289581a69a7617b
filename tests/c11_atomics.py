"""The C11 reference atomics of tests/c11_atomics.c, compiled by the tests (the installed library carries only
what the engine uses), callable from Python through cffi and from nopython code as ExternalFunctions.

    c = build(folder)    # compiles into folder (a pytest temporary one) and loads it for LLVM too
    fetch_add(ptr, v) · cas(ptr, expected, desired)      # in @njit code, ptr = atomics.voidptr(array)
    c.lib.c11_cas_increment_loop(c.ffi.from_buffer(array), n)   # from Python (cffi releases the GIL meanwhile)

It needs a C compiler, as installing teach_sgd does (its own C module is compiled at install).
"""
import importlib.util
from pathlib import Path

from cffi import FFI
from llvmlite import binding as llvm
from numba import types

SOURCE = Path(__file__).with_name("c11_atomics.c")

fetch_add = types.ExternalFunction("c11_fetch_add", types.int64(types.voidptr, types.int64))
cas = types.ExternalFunction("c11_cas", types.int64(types.voidptr, types.int64, types.int64))


def build(folder: Path):
    """The compiled module (its `lib` and `ffi`), its symbols loaded into LLVM so that kernels declaring them link."""
    ffi = FFI()
    ffi.cdef("""
        int64_t c11_fetch_add(void *p, int64_t v);
        int64_t c11_cas(void *p, int64_t expected, int64_t desired);
        int64_t c11_cas_increment_loop(void *p, int64_t n);
    """)
    ffi.set_source("_c11_atomics", SOURCE.read_text(encoding="utf-8"), extra_compile_args=["-std=gnu11", "-O2"])
    path = ffi.compile(tmpdir=str(folder))
    llvm.load_library_permanently(path)
    spec = importlib.util.spec_from_file_location("_c11_atomics", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
