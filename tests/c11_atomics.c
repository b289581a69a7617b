/* C11 <stdatomic.h> reference atomics, built by the tests only (tests/c11_atomics.py): the engine's kernels use
 * LLVM atomics emitted by numba intrinsics (teach_sgd/engine/atomics.py); tests/test_atomics.py hammers one
 * counter with both from real threads at once and demands the exact count, so the two implementations check
 * each other. Sequentially consistent, as the kernels' CAS and fetch-and-add are. */
#include <stdint.h>
#include <stdatomic.h>

int64_t c11_fetch_add(void *p, int64_t v) {
    return atomic_fetch_add_explicit((_Atomic int64_t *)p, v, memory_order_seq_cst);
}

int64_t c11_cas(void *p, int64_t expected, int64_t desired) {
    /* returns the value seen, like LLVM cmpxchg: success iff it equals `expected` */
    atomic_compare_exchange_strong_explicit((_Atomic int64_t *)p, &expected, desired,
                                            memory_order_seq_cst, memory_order_seq_cst);
    return expected;
}

/* A whole contended loop in C: n increments by CAS retry, returns the failed CASes. */
int64_t c11_cas_increment_loop(void *p, int64_t n) {
    int64_t failures = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t seen = atomic_load_explicit((_Atomic int64_t *)p, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit((_Atomic int64_t *)p, &seen, seen + 1,
                                                      memory_order_seq_cst, memory_order_relaxed))
            failures++;
    }
    return failures;
}
