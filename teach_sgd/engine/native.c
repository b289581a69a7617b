/* The small C11 core of teach_sgd: what numba cannot express portably.
 *
 * - a monotonic clock and a sleep, so nogil kernels can time phases and idle while paused; the calling
 *   thread's CPU clock, so slow motion stretches the work a window did, not the time it waited for a core;
 * - the pthread mutex of lock-based AsyncSGD (it lives inside a numpy byte buffer);
 * - C11 <stdatomic.h> reference atomics. The kernels use LLVM atomics emitted by numba intrinsics
 *   (teach_sgd/engine/atomics.py); the tests hammer one counter with both and demand the exact count,
 *   so the two implementations check each other.
 *
 * Every function is exported with a ts_ prefix; numba kernels reach them through
 * numba.types.ExternalFunction after the built library is loaded (teach_sgd/engine/native.py), which keeps
 * the kernels cacheable.
 */
#include <stdint.h>
#include <stdatomic.h>
#include <pthread.h>
#include <time.h>

int64_t ts_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t ts_thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void ts_sleep_ns(int64_t ns) {
    struct timespec ts = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
    nanosleep(&ts, NULL);
}

int64_t ts_mutex_size(void) { return (int64_t)sizeof(pthread_mutex_t); }
int32_t ts_mutex_init(void *m) { return pthread_mutex_init((pthread_mutex_t *)m, NULL); }
int32_t ts_mutex_lock(void *m) { return pthread_mutex_lock((pthread_mutex_t *)m); }
int32_t ts_mutex_unlock(void *m) { return pthread_mutex_unlock((pthread_mutex_t *)m); }

/* Reference atomics: sequentially consistent, as the kernels' CAS and fetch-and-add are. */
int64_t ts_atomic_fetch_add(int64_t *p, int64_t v) {
    return atomic_fetch_add_explicit((_Atomic int64_t *)p, v, memory_order_seq_cst);
}

int64_t ts_atomic_cas(int64_t *p, int64_t expected, int64_t desired) {
    /* returns the value seen, like LLVM cmpxchg: success iff it equals `expected` */
    atomic_compare_exchange_strong_explicit((_Atomic int64_t *)p, &expected, desired,
                                            memory_order_seq_cst, memory_order_seq_cst);
    return expected;
}

/* A whole contended loop in C, for the cross-check: n increments by CAS retry, returns the failed CASes. */
int64_t ts_cas_increment_loop(int64_t *p, int64_t n) {
    int64_t failures = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t seen = atomic_load_explicit((_Atomic int64_t *)p, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit((_Atomic int64_t *)p, &seen, seen + 1,
                                                      memory_order_seq_cst, memory_order_relaxed))
            failures++;
    }
    return failures;
}
