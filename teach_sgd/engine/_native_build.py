"""cffi builder for teach_sgd.engine._native (run by setup.py at install time).

The C source is native.c beside this file; the declarations below are what Python (and, through
teach_sgd.engine.native, the numba kernels) may call.
"""
from pathlib import Path

from cffi import FFI

ffibuilder = FFI()
ffibuilder.cdef(
    """
    int64_t ts_now_ns(void);
    int64_t ts_thread_cpu_ns(void);
    void ts_sleep_ns(int64_t ns);
    int64_t ts_mutex_size(void);
    int32_t ts_mutex_init(void *m);
    int32_t ts_mutex_lock(void *m);
    int32_t ts_mutex_unlock(void *m);
    """
)
ffibuilder.set_source(
    "teach_sgd.engine._native",
    (Path(__file__).with_name("native.c")).read_text(encoding="utf-8"),
    extra_compile_args=["-std=gnu11", "-O2"],
    libraries=["pthread"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
