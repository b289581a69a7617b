/* The small C core of teach_sgd: what numba cannot express portably.
 *
 * - a monotonic clock and a sleep, so nogil kernels can time phases and idle while paused; the calling
 *   thread's CPU clock, so slow motion stretches the work a window did, not the time it waited for a core;
 * - the pthread mutex of lock-based AsyncSGD (it lives inside a numpy byte buffer).
 *
 * The atomics are not here: the kernels use LLVM atomics emitted by numba intrinsics
 * (teach_sgd/engine/atomics.py), which the tests check against C11 <stdatomic.h> (tests/c11_atomics.c).
 *
 * Every function is exported with a ts_ prefix; numba kernels reach them through
 * numba.types.ExternalFunction after the built library is loaded (teach_sgd/engine/native.py), which keeps
 * the kernels cacheable.
 */
#include <stdint.h>
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
