/* monotonic.c -- the monotonic clock: an invariant TSC when the CPU has one, calibrated
 * against CLOCK_MONOTONIC, otherwise clock_gettime(CLOCK_MONOTONIC). See monotonic.h. */
#include "monotonic.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define US_PER_SEC 1000000ULL
#define NS_PER_US 1000ULL
/* Calibration window: long enough for a 0.1% error with microsecond clock reads,
 * short enough not to slow start-up noticeably. */
#define TSC_CALIBRATION_US 2000
#define CPUINFO_LINE_MAX 4096

uint64_t monotonic_tsc_factor = 0;
int64_t monotonic_tsc_offset = 0;
static const char *clock_description = "POSIX clock_gettime";
static char tsc_description[64];

monotime getMonotonicUsClockGettime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (monotime)ts.tv_sec * US_PER_SEC + (monotime)ts.tv_nsec / NS_PER_US;
}

#if defined(__x86_64__)
/* The TSC is only a clock when it ticks at a constant rate and keeps ticking in deep
 * sleep states; the kernel reports both as CPU flags. */
static int cpuHasInvariantTsc(void) {
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp) return 0;
    char line[CPUINFO_LINE_MAX];
    int found = 0;
    while (fgets(line, sizeof(line), fp)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        found = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
        break;
    }
    fclose(fp);
    return found;
}

static void calibrateTsc(void) {
    monotime start_us = getMonotonicUsClockGettime();
    uint64_t start_tsc = __rdtsc();
    monotime now_us;
    while ((now_us = getMonotonicUsClockGettime()) - start_us < TSC_CALIBRATION_US);
    uint64_t ticks = __rdtsc() - start_tsc;
    uint64_t us = now_us - start_us;
    if (ticks < us) return; /* a TSC slower than 1 MHz is not believable */
    uint64_t factor = (uint64_t)(((unsigned __int128)us << 32) / ticks);
    uint64_t tsc_now = __rdtsc();
    monotime mono_now = getMonotonicUsClockGettime();
    monotonic_tsc_offset = (int64_t)mono_now - (int64_t)(((unsigned __int128)tsc_now * factor) >> 32);
    monotonic_tsc_factor = factor;
    snprintf(tsc_description, sizeof(tsc_description), "X86 TSC @ %llu ticks/us",
             (unsigned long long)((ticks + us / 2) / us));
    clock_description = tsc_description;
}
#endif

void monotonicInit(void) {
#if defined(__x86_64__)
    if (!monotonic_tsc_factor && cpuHasInvariantTsc()) calibrateTsc();
#endif
}

const char *monotonicInfoString(void) {
    return clock_description;
}
