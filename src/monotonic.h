/* monotonic.h -- a microsecond clock that never goes backwards.
 *
 * Timers and latency measurements use this clock instead of wall-clock time so that a
 * system clock adjustment neither fires nor delays them. Every command is timed, so
 * reading it must be cheap: on x86 CPUs with an invariant TSC (constant_tsc and
 * nonstop_tsc) it reads the TSC and scales it with a factor calibrated at start-up
 * against CLOCK_MONOTONIC; elsewhere it calls clock_gettime(CLOCK_MONOTONIC).
 */
#ifndef MONOTONIC_H
#define MONOTONIC_H

#include <stdint.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

typedef uint64_t monotime;

/* Non-zero once monotonicInit() chose the TSC: microseconds = ((tsc * factor) >> 32) +
 * offset, where the offset lines the TSC clock up with CLOCK_MONOTONIC. */
extern uint64_t monotonic_tsc_factor;
extern int64_t monotonic_tsc_offset;

/* Chooses and calibrates the clock source. Call once, early in main(). */
void monotonicInit(void);

/* A human readable description of the clock source, for INFO. */
const char *monotonicInfoString(void);

monotime getMonotonicUsClockGettime(void);

/* Microseconds since an arbitrary fixed point in the past. */
static inline monotime getMonotonicUs(void) {
#if defined(__x86_64__)
    if (monotonic_tsc_factor) return (monotime)((int64_t)(((unsigned __int128)__rdtsc() * monotonic_tsc_factor) >> 32) + monotonic_tsc_offset);
#endif
    return getMonotonicUsClockGettime();
}

static inline uint64_t elapsedUs(monotime start) {
    return getMonotonicUs() - start;
}

static inline uint64_t elapsedMs(monotime start) {
    return elapsedUs(start) / 1000;
}

#endif
