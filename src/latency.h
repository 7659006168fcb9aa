/* latency.h -- the latency monitor: per-event time series of latency spikes, and the
 * LATENCY command family (including LATENCY HISTOGRAM over the per-command latency
 * histograms that call() records).
 *
 * An event (e.g. "command", "fast-command", "expire-cycle") gets a sample whenever
 * something took at least latency-monitor-threshold milliseconds (0 disables the
 * monitor). Each event keeps the last LATENCY_TS_LEN samples at one-second
 * resolution (several spikes in the same second keep the worst) and its all-time max.
 */
#ifndef LATENCY_H
#define LATENCY_H

#define LATENCY_TS_LEN 160

struct client;

void latencyMonitorInit(void);
/* Records `latency_ms` for `event` if the monitor is on and it reaches the threshold. */
void latencyAddSampleIfNeeded(const char *event, long long latency_ms);
/* Records unconditionally. */
void latencyAddSample(const char *event, long long latency_ms);
/* Forgets one event (case-insensitive), or all of them when event is NULL.
 * Returns how many were removed. */
int latencyResetEvent(const char *event);

void latencyLatestCommand(struct client *c);
void latencyHistoryCommand(struct client *c);
void latencyResetCommand(struct client *c);
void latencyHistogramCommand(struct client *c);
void latencyDoctorCommand(struct client *c);
void latencyGraphCommand(struct client *c);
void latencyHelpCommand(struct client *c);

#endif
