/* monotonic.h -- a microsecond clock that never goes backwards.
 *
 * Timers and latency measurements use this clock instead of wall-clock time so that a
 * system clock adjustment neither fires nor delays them. It reads CLOCK_MONOTONIC. */
#ifndef MONOTONIC_H
#define MONOTONIC_H

#include <stdint.h>

typedef uint64_t monotime;

/* Microseconds since an arbitrary fixed point in the past. */
monotime getMonotonicUs(void);

/* A human readable description of the clock source, for INFO. */
const char *monotonicInfoString(void);

static inline uint64_t elapsedUs(monotime start) {
    return getMonotonicUs() - start;
}

static inline uint64_t elapsedMs(monotime start) {
    return elapsedUs(start) / 1000;
}

#endif
