/* histogram.h -- a small log-linear latency histogram (HDR-style buckets) for
 * per-command latency percentiles (INFO latencystats, LATENCY HISTOGRAM).
 *
 * Values are recorded in nanoseconds or microseconds (the caller decides) between 1 and
 * HISTOGRAM_MAX_VALUE. Each power of two is split into HISTOGRAM_SUB_BUCKETS linear
 * sub-buckets, so any reported percentile is within 1/HISTOGRAM_SUB_BUCKETS of the truth.
 */
#ifndef HISTOGRAM_H
#define HISTOGRAM_H

#include <stdint.h>
#include <stddef.h>

#define HISTOGRAM_SUB_BUCKET_BITS 5
#define HISTOGRAM_SUB_BUCKETS (1 << HISTOGRAM_SUB_BUCKET_BITS)
#define HISTOGRAM_MAX_MAGNITUDE 40 /* values up to 2^40 */
#define HISTOGRAM_BUCKETS (HISTOGRAM_MAX_MAGNITUDE * HISTOGRAM_SUB_BUCKETS)
#define HISTOGRAM_MAX_VALUE ((1ULL << HISTOGRAM_MAX_MAGNITUDE) - 1)

struct histogram {
    uint64_t total_count;
    uint64_t min, max;
    uint64_t counts[HISTOGRAM_BUCKETS];
};

struct histogram *histogramCreate(void);
void histogramFree(struct histogram *h);
void histogramReset(struct histogram *h);
void histogramRecord(struct histogram *h, uint64_t value);
/* Value at or below which `percentile` percent of the recorded values fall. */
uint64_t histogramValueAtPercentile(const struct histogram *h, double percentile);
/* Iterates over the non-empty power-of-two ranges: returns 0 when done. */
typedef struct { const struct histogram *h; int magnitude; } histogramIter;
void histogramIterInit(histogramIter *it, const struct histogram *h);
int histogramIterNext(histogramIter *it, uint64_t *upper_bound, uint64_t *count_in_range);

#endif
