/* latency.c -- the latency monitor and the LATENCY command family (see latency.h).
 *
 * Events live in server.latency_events, a hashtable of latencyEvent keyed by name
 * (case-insensitive). An event is created by its first sample and removed by LATENCY
 * RESET. Its samples form a ring of LATENCY_TS_LEN slots; a slot with time 0 is empty.
 *
 * LATENCY HISTOGRAM reads the per-command histograms (nanoseconds) and reports, per
 * command, a cumulative distribution over power-of-two buckets: the bucket of the
 * calls faster than 2^n ns (n >= 10; everything under 1024 ns is the first bucket)
 * counts every call up to there. Its key is the one Valkey reports: the largest
 * value, in microseconds, that an HDR histogram with two significant digits treats
 * as equal to 2^n ns, that is (2^n + 2^(n-7) - 1) / 1000: 1, 2, 4, 8, 16, 33, 66, 132...
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "latency.h"
#include "commands.h"
#include "hashtable.h"
#include "histogram.h"
#include "networking.h"
#include "server.h"
#include "zmalloc.h"

#define LATENCY_GRAPH_COLUMNS 80
#define LATENCY_GRAPH_ROWS 4
#define LATENCY_HISTOGRAM_FIRST_BUCKET_NS 1024
#define LATENCY_HISTOGRAM_PRECISION_BITS 7 /* two significant decimal digits */

typedef struct latencySample {
    int32_t time;     /* unix seconds; 0 marks an unused slot */
    uint32_t latency; /* milliseconds */
} latencySample;

typedef struct latencyEvent {
    char *name;
    uint32_t max; /* all-time maximum */
    int idx;      /* next slot to write */
    latencySample samples[LATENCY_TS_LEN];
} latencyEvent;

/* Statistics over the samples still in an event's ring, for the doctor. */
typedef struct latencyStats {
    int samples;
    uint32_t min, max, avg, mad; /* mad: mean absolute deviation from avg */
    time_t period;               /* seconds from the oldest sample to now */
} latencyStats;

/* ------------------------------------------------------------------------- */
/* Event table                                                                */
/* ------------------------------------------------------------------------- */

static uint64_t eventHash(const void *key) {
    const char *name = key;
    return hashtableGenCaseHashFunction(name, strlen(name));
}

static const void *eventGetName(const void *entry) {
    return ((const latencyEvent *)entry)->name;
}

static int eventNameCompare(const void *a, const void *b) {
    return strcasecmp(a, b);
}

static void eventFree(void *entry) {
    latencyEvent *e = entry;
    zfree(e->name);
    zfree(e);
}

static hashtableType latencyEventType = {
    .hashFunction = eventHash,
    .entryGetKey = eventGetName,
    .keyCompare = eventNameCompare,
    .entryDestructor = eventFree,
};

void latencyMonitorInit(void) {
    if (!server.latency_events) server.latency_events = hashtableCreate(&latencyEventType);
}

static latencyEvent *latencyFindEvent(const char *name) {
    void *found;
    latencyMonitorInit();
    return hashtableFind(server.latency_events, name, &found) ? found : NULL;
}

static int latencyLatestIndex(const latencyEvent *e) {
    return (e->idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
}

void latencyAddSample(const char *event, long long latency_ms) {
    latencyEvent *e = latencyFindEvent(event);
    if (!e) {
        e = zcalloc(sizeof(*e));
        e->name = zstrdup(event);
        hashtableAdd(server.latency_events, e);
    }
    uint32_t latency = latency_ms < 0 ? 0 : (latency_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)latency_ms);
    int32_t now = (int32_t)time(NULL);
    if (latency > e->max) e->max = latency;
    latencySample *last = &e->samples[latencyLatestIndex(e)];
    if (last->time == now) { /* one sample per second: keep the worst */
        if (latency > last->latency) last->latency = latency;
        return;
    }
    e->samples[e->idx].time = now;
    e->samples[e->idx].latency = latency;
    e->idx = (e->idx + 1) % LATENCY_TS_LEN;
}

void latencyAddSampleIfNeeded(const char *event, long long latency_ms) {
    if (server.latency_monitor_threshold > 0 && latency_ms >= server.latency_monitor_threshold)
        latencyAddSample(event, latency_ms);
}

int latencyResetEvent(const char *event) {
    latencyMonitorInit();
    if (event) return hashtableDelete(server.latency_events, event);
    int removed = (int)hashtableSize(server.latency_events);
    hashtableEmpty(server.latency_events, NULL);
    return removed;
}

static void latencyAnalyze(const latencyEvent *e, latencyStats *ls) {
    memset(ls, 0, sizeof(*ls));
    uint64_t sum = 0;
    time_t oldest = 0;
    for (int j = 0; j < LATENCY_TS_LEN; j++) {
        const latencySample *s = &e->samples[j];
        if (s->time == 0) continue;
        if (ls->samples == 0 || s->latency < ls->min) ls->min = s->latency;
        if (ls->samples == 0 || s->latency > ls->max) ls->max = s->latency;
        if (oldest == 0 || s->time < oldest) oldest = s->time;
        sum += s->latency;
        ls->samples++;
    }
    if (!ls->samples) return;
    ls->avg = (uint32_t)(sum / ls->samples);
    ls->period = time(NULL) - oldest;
    if (ls->period <= 0) ls->period = 1;
    uint64_t dev = 0;
    for (int j = 0; j < LATENCY_TS_LEN; j++) {
        const latencySample *s = &e->samples[j];
        if (s->time == 0) continue;
        dev += s->latency > ls->avg ? s->latency - ls->avg : ls->avg - s->latency;
    }
    ls->mad = (uint32_t)(dev / ls->samples);
}

/* ------------------------------------------------------------------------- */
/* LATENCY LATEST / HISTORY / RESET                                           */
/* ------------------------------------------------------------------------- */

void latencyLatestCommand(client *c) {
    latencyMonitorInit();
    addReplyArrayLen(c, (long)hashtableSize(server.latency_events));
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, server.latency_events);
    while (hashtableNext(&it, &entry)) {
        latencyEvent *e = entry;
        latencySample *last = &e->samples[latencyLatestIndex(e)];
        addReplyArrayLen(c, 4);
        addReplyBulkCString(c, e->name);
        addReplyLongLong(c, last->time);
        addReplyLongLong(c, last->latency);
        addReplyLongLong(c, e->max);
    }
    hashtableResetIterator(&it);
}

void latencyHistoryCommand(client *c) {
    latencyEvent *e = latencyFindEvent(objectGetVal(c->argv[2]));
    if (!e) {
        addReplyArrayLen(c, 0);
        return;
    }
    void *len = addReplyDeferredLen(c);
    long n = 0;
    for (int j = 0; j < LATENCY_TS_LEN; j++) { /* oldest first */
        latencySample *s = &e->samples[(e->idx + j) % LATENCY_TS_LEN];
        if (s->time == 0) continue;
        addReplyArrayLen(c, 2);
        addReplyLongLong(c, s->time);
        addReplyLongLong(c, s->latency);
        n++;
    }
    setDeferredArrayLen(c, len, n);
}

void latencyResetCommand(client *c) {
    int removed = 0;
    if (c->argc == 2) {
        removed = latencyResetEvent(NULL);
    } else {
        for (int j = 2; j < c->argc; j++) removed += latencyResetEvent(objectGetVal(c->argv[j]));
    }
    addReplyLongLong(c, removed);
}

/* ------------------------------------------------------------------------- */
/* LATENCY GRAPH                                                              */
/* ------------------------------------------------------------------------- */

/* How long ago, compactly: "9s", "12m", "3h", "2d". */
static int formatAge(char *buf, size_t len, time_t age) {
    if (age < 60) return snprintf(buf, len, "%llds", (long long)age);
    if (age < 3600) return snprintf(buf, len, "%lldm", (long long)(age / 60));
    if (age < 86400) return snprintf(buf, len, "%lldh", (long long)(age / 3600));
    return snprintf(buf, len, "%lldd", (long long)(age / 86400));
}

/* A bar chart of the most recent samples, one column each, oldest on the left. Bars
 * are scaled between the lowest and highest sample; the labels under each column,
 * read top to bottom, say how long ago the sample was taken. */
static sds latencyGraph(sds out, const latencyEvent *e, uint32_t low, uint32_t high) {
    const latencySample *cols[LATENCY_GRAPH_COLUMNS];
    int ncols = 0;
    for (int j = LATENCY_TS_LEN - 1; j >= 0 && ncols < LATENCY_GRAPH_COLUMNS; j--) { /* newest first */
        const latencySample *s = &e->samples[(e->idx + j) % LATENCY_TS_LEN];
        if (s->time) cols[ncols++] = s;
    }
    int height[LATENCY_GRAPH_COLUMNS];
    char labels[LATENCY_GRAPH_COLUMNS][16];
    int label_rows = 0;
    time_t now = time(NULL);
    for (int i = 0; i < ncols; i++) {
        const latencySample *s = cols[ncols - 1 - i]; /* oldest first */
        height[i] = high == low ? LATENCY_GRAPH_ROWS
                                : 1 + (int)((uint64_t)(s->latency - low) * (LATENCY_GRAPH_ROWS - 1) / (high - low));
        int n = formatAge(labels[i], sizeof(labels[i]), now - s->time);
        if (n > label_rows) label_rows = n;
    }
    for (int row = LATENCY_GRAPH_ROWS; row >= 1; row--) {
        for (int i = 0; i < ncols; i++) out = sdscatlen(out, height[i] == row ? "#" : (height[i] > row ? "|" : " "), 1);
        out = sdscatlen(out, "\n", 1);
    }
    for (int row = 0; row < label_rows; row++) {
        for (int i = 0; i < ncols; i++) {
            char ch = row < (int)strlen(labels[i]) ? labels[i][row] : ' ';
            out = sdscatlen(out, &ch, 1);
        }
        out = sdscatlen(out, "\n", 1);
    }
    return out;
}

void latencyGraphCommand(client *c) {
    const char *name = objectGetVal(c->argv[2]);
    latencyEvent *e = latencyFindEvent(name);
    if (!e) {
        addReplyErrorFormat(c, "No samples available for event '%s'", name);
        return;
    }
    latencyStats ls;
    latencyAnalyze(e, &ls);
    sds out = sdscatprintf(sdsempty(), "%s - high %lu ms, low %lu ms (all time high %lu ms)\n", e->name,
                           (unsigned long)ls.max, (unsigned long)ls.min, (unsigned long)e->max);
    for (int j = 0; j < LATENCY_GRAPH_COLUMNS; j++) out = sdscatlen(out, "-", 1);
    out = sdscatlen(out, "\n", 1);
    out = latencyGraph(out, e, ls.min, ls.max);
    addReplyVerbatim(c, out, sdslen(out), "txt");
    sdsfree(out);
}

/* ------------------------------------------------------------------------- */
/* LATENCY DOCTOR                                                             */
/* ------------------------------------------------------------------------- */

enum {
    ADVICE_SLOWLOG_ENABLE,
    ADVICE_SLOWLOG_TUNE,
    ADVICE_SLOWLOG_INSPECT,
    ADVICE_BIG_OBJECTS,
    ADVICE_SCHEDULER,
    ADVICE_HZ,
    ADVICE_DISK,
    ADVICE_FORK,
    ADVICE_COUNT
};

static void adviseForEvent(const char *name, int *advice) {
    if (!strcasecmp(name, "command")) {
        if (server.slowlog_log_slower_than < 0 || server.slowlog_max_len == 0)
            advice[ADVICE_SLOWLOG_ENABLE] = 1;
        else if (server.slowlog_log_slower_than / 1000 > server.latency_monitor_threshold)
            advice[ADVICE_SLOWLOG_TUNE] = 1;
        advice[ADVICE_SLOWLOG_INSPECT] = 1;
        advice[ADVICE_BIG_OBJECTS] = 1;
    } else if (!strcasecmp(name, "fast-command")) {
        advice[ADVICE_SCHEDULER] = 1;
    } else if (!strcasecmp(name, "expire-cycle")) {
        advice[ADVICE_HZ] = 1;
        advice[ADVICE_BIG_OBJECTS] = 1;
    } else if (!strcasecmp(name, "eviction-del") || !strcasecmp(name, "eviction-cycle")) {
        advice[ADVICE_BIG_OBJECTS] = 1;
    } else if (!strncasecmp(name, "aof-", 4) || !strncasecmp(name, "rdb-", 4)) {
        advice[ADVICE_DISK] = 1;
    } else if (!strcasecmp(name, "fork")) {
        advice[ADVICE_FORK] = 1;
    }
}

static sds latencyDoctorAdvice(sds report, const int *advice) {
    unsigned long long threshold_us = (unsigned long long)server.latency_monitor_threshold * 1000;
    if (advice[ADVICE_SLOWLOG_ENABLE])
        report = sdscatprintf(report, "- The slow log is off, so slow commands go unrecorded. Turn it on with "
                                      "'CONFIG SET slowlog-log-slower-than %llu'.\n", threshold_us);
    if (advice[ADVICE_SLOWLOG_TUNE])
        report = sdscatprintf(report, "- The slow log only records commands slower than the latency monitor "
                                      "threshold. Use 'CONFIG SET slowlog-log-slower-than %llu' to see them.\n",
                              threshold_us);
    if (advice[ADVICE_SLOWLOG_INSPECT])
        report = sdscat(report, "- SLOWLOG GET lists the commands that took longest; look for O(N) commands on "
                                "large values.\n");
    if (advice[ADVICE_BIG_OBJECTS])
        report = sdscat(report, "- Deleting, expiring or evicting very large values blocks the server; splitting "
                                "them into smaller keys, or freeing them lazily, avoids the pause.\n");
    if (advice[ADVICE_SCHEDULER])
        report = sdscat(report, "- Even O(1) commands were slow: the process was probably not scheduled, for "
                                "example on an overloaded host or a virtual machine with stolen CPU time.\n");
    if (advice[ADVICE_HZ])
        report = sdscat(report, "- The active expire cycle took long; a higher 'hz' spreads its work into "
                                "smaller steps.\n");
    if (advice[ADVICE_DISK])
        report = sdscat(report, "- Disk I/O is slow: prefer local SSDs and avoid other heavy writers on the "
                                "same disk.\n");
    if (advice[ADVICE_FORK])
        report = sdscat(report, "- fork() is slow on this host; smaller instances or a faster hypervisor make "
                                "snapshots cheaper.\n");
    return report;
}

static sds createLatencyReport(void) {
    latencyMonitorInit();
    if (hashtableSize(server.latency_events) == 0 && server.latency_monitor_threshold == 0)
        return sdsnew("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Valkey instance. "
                      "You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable "
                      "it.\n");
    if (hashtableSize(server.latency_events) == 0)
        return sdsnew("Dave, no latency spike was observed during the lifetime of this Valkey instance, not in "
                      "the slightest bit.\n");

    sds report = sdsnew("Dave, I have observed latency spikes in this Valkey instance. You don't mind talking "
                        "about it, do you Dave?\n\n");
    int advice[ADVICE_COUNT] = {0};
    int n = 0;
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, server.latency_events);
    while (hashtableNext(&it, &entry)) {
        latencyEvent *e = entry;
        latencyStats ls;
        latencyAnalyze(e, &ls);
        report = sdscatprintf(report,
                              "%d. %s: %d latency spikes (average %lums, mean deviation %lums, period %.2f sec). "
                              "Worst all time event %lums.\n",
                              ++n, e->name, ls.samples, (unsigned long)ls.avg, (unsigned long)ls.mad,
                              ls.samples ? (double)ls.period / ls.samples : 0.0, (unsigned long)e->max);
        adviseForEvent(e->name, advice);
    }
    hashtableResetIterator(&it);
    int any = 0;
    for (int j = 0; j < ADVICE_COUNT; j++) any |= advice[j];
    if (!any)
        return sdscat(report, "\nI have no specific advice for these events; the report above is what to share "
                              "when asking for help.\n");
    report = sdscat(report, "\nI have a few advices for you:\n\n");
    return latencyDoctorAdvice(report, advice);
}

void latencyDoctorCommand(client *c) {
    sds report = createLatencyReport();
    addReplyVerbatim(c, report, sdslen(report), "txt");
    sdsfree(report);
}

/* ------------------------------------------------------------------------- */
/* LATENCY HISTOGRAM                                                          */
/* ------------------------------------------------------------------------- */

static int hasSamples(const serverCommand *cmd) {
    return cmd->latency_histogram && cmd->latency_histogram->total_count > 0;
}

/* The reported key (us) of the bucket of calls faster than `upper` = 2^n ns. */
static long long histogramBucketKey(uint64_t upper) {
    if (upper <= LATENCY_HISTOGRAM_FIRST_BUCKET_NS) return 1;
    uint64_t step = upper >> LATENCY_HISTOGRAM_PRECISION_BITS;
    return (long long)((upper + step - 1) / 1000);
}

static void addReplyCommandHistogram(client *c, const serverCommand *cmd) {
    const struct histogram *h = cmd->latency_histogram;
    long long keys[HISTOGRAM_MAX_MAGNITUDE + 2];
    long long counts[HISTOGRAM_MAX_MAGNITUDE + 2];
    int n = 0;
    uint64_t upper, count, cumulative = 0;
    histogramIter it;
    histogramIterInit(&it, h);
    while (histogramIterNext(&it, &upper, &count) && n < HISTOGRAM_MAX_MAGNITUDE + 2) {
        cumulative += count;
        long long key = histogramBucketKey(upper);
        if (n > 0 && keys[n - 1] == key) {
            counts[n - 1] = (long long)cumulative;
        } else {
            keys[n] = key;
            counts[n++] = (long long)cumulative;
        }
    }
    addReplyBulkCBuffer(c, cmd->fullname, sdslen(cmd->fullname));
    addReplyMapLen(c, 2);
    addReplyBulkCString(c, "calls");
    addReplyLongLong(c, (long long)h->total_count);
    addReplyBulkCString(c, "histogram_usec");
    addReplyMapLen(c, n);
    for (int j = 0; j < n; j++) {
        addReplyLongLong(c, keys[j]);
        addReplyLongLong(c, counts[j]);
    }
}

/* Replies the histograms of every command in `table` (and their subcommands). */
static long addReplyTableHistograms(client *c, hashtable *table) {
    long n = 0;
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, table);
    while (hashtableNext(&it, &entry)) {
        serverCommand *cmd = entry;
        if (hasSamples(cmd)) {
            addReplyCommandHistogram(c, cmd);
            n++;
        }
        if (cmd->subcommands_ht) n += addReplyTableHistograms(c, cmd->subcommands_ht);
    }
    hashtableResetIterator(&it);
    return n;
}

void latencyHistogramCommand(client *c) {
    void *len = addReplyDeferredLen(c);
    long n = 0;
    if (c->argc == 2) {
        n = addReplyTableHistograms(c, server.commands);
    } else {
        for (int j = 2; j < c->argc; j++) {
            serverCommand *cmd = lookupCommandBySds(objectGetVal(c->argv[j]));
            if (!cmd) continue;
            if (hasSamples(cmd)) {
                addReplyCommandHistogram(c, cmd);
                n++;
            }
            if (cmd->subcommands_ht) n += addReplyTableHistograms(c, cmd->subcommands_ht);
        }
    }
    setDeferredMapLen(c, len, n);
}

void latencyHelpCommand(client *c) {
    static const char *help[] = {
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        NULL};
    addReplyHelp(c, help);
}
