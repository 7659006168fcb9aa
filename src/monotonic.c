/* monotonic.c -- the monotonic clock, read through clock_gettime(CLOCK_MONOTONIC). */
#include "monotonic.h"

#include <time.h>

#define US_PER_SEC 1000000ULL
#define NS_PER_US 1000ULL

monotime getMonotonicUs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (monotime)ts.tv_sec * US_PER_SEC + (monotime)ts.tv_nsec / NS_PER_US;
}

const char *monotonicInfoString(void) {
    return "POSIX clock_gettime";
}
