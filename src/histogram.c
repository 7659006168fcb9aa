/* histogram.c -- log-linear latency histogram, see histogram.h.
 *
 * Bucket index: values below HISTOGRAM_SUB_BUCKETS map to themselves (magnitude 0);
 * larger values map to (magnitude, top HISTOGRAM_SUB_BUCKET_BITS bits below the leading
 * one). The reported value of a bucket is its upper bound, so percentiles never
 * under-report latency.
 */
#include <string.h>
#include "histogram.h"
#include "zmalloc.h"

static int bucketIndex(uint64_t v) {
    if (v < HISTOGRAM_SUB_BUCKETS) return (int)v;
    int msb = 63 - __builtin_clzll(v);                 /* >= HISTOGRAM_SUB_BUCKET_BITS */
    int magnitude = msb - HISTOGRAM_SUB_BUCKET_BITS + 1; /* >= 1 */
    int sub = (int)((v >> (msb - HISTOGRAM_SUB_BUCKET_BITS)) & (HISTOGRAM_SUB_BUCKETS - 1));
    /* The leading bit is implicit: sub-buckets of one magnitude cover [2^msb, 2^(msb+1)). */
    return magnitude * HISTOGRAM_SUB_BUCKETS + sub;
}

static uint64_t bucketUpperBound(int index) {
    int magnitude = index / HISTOGRAM_SUB_BUCKETS;
    uint64_t sub = index % HISTOGRAM_SUB_BUCKETS;
    if (magnitude == 0) return sub;
    int shift = magnitude - 1;
    uint64_t lower = (HISTOGRAM_SUB_BUCKETS + sub) << shift;
    return lower + ((1ULL << shift) - 1);
}

struct histogram *histogramCreate(void) {
    return zcalloc(sizeof(struct histogram));
}

void histogramFree(struct histogram *h) {
    zfree(h);
}

void histogramReset(struct histogram *h) {
    memset(h, 0, sizeof(*h));
}

void histogramRecord(struct histogram *h, uint64_t value) {
    if (value > HISTOGRAM_MAX_VALUE) value = HISTOGRAM_MAX_VALUE;
    if (value < 1) value = 1;
    int idx = bucketIndex(value);
    if (idx >= HISTOGRAM_BUCKETS) idx = HISTOGRAM_BUCKETS - 1;
    h->counts[idx]++;
    if (h->total_count == 0 || value < h->min) h->min = value;
    if (value > h->max) h->max = value;
    h->total_count++;
}

uint64_t histogramValueAtPercentile(const struct histogram *h, double percentile) {
    if (h->total_count == 0) return 0;
    if (percentile > 100) percentile = 100;
    uint64_t target = (uint64_t)((percentile / 100.0) * h->total_count + 0.5);
    if (target < 1) target = 1;
    uint64_t seen = 0;
    for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= target) {
            uint64_t ub = bucketUpperBound(i);
            return ub > h->max ? h->max : ub;
        }
    }
    return h->max;
}

void histogramIterInit(histogramIter *it, const struct histogram *h) {
    it->h = h;
    it->magnitude = 0;
}

/* Walks power-of-two ranges (1, 2, 4, 8 ... as upper bounds), skipping empty ones. */
int histogramIterNext(histogramIter *it, uint64_t *upper_bound, uint64_t *count_in_range) {
    while (it->magnitude <= HISTOGRAM_MAX_MAGNITUDE) {
        uint64_t low = it->magnitude == 0 ? 0 : (1ULL << (it->magnitude - 1)) + 1;
        uint64_t high = 1ULL << it->magnitude;
        it->magnitude++;
        uint64_t count = 0;
        for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
            uint64_t ub = bucketUpperBound(i);
            if (ub >= low && ub <= high) count += it->h->counts[i];
            else if (ub > high) break;
        }
        if (count) {
            *upper_bound = high;
            *count_in_range = count;
            return 1;
        }
    }
    return 0;
}
