/* info.c -- INFO: the server's self-description, section by section.
 *
 * Each section has a renderer appending its "# Title" and "field:value\r\n" lines to
 * an sds. genValkeyInfoString() runs the renderers of the selected sections in their
 * fixed order with a blank line between sections, whatever order the request named
 * them in. Values come from the server's live counters where they exist; subsystems
 * not built yet (persistence, replication, scripting, modules, cluster) report the
 * values a freshly started Valkey 8 reports, so clients parsing INFO see every field.
 *
 * Other subsystems add their own sections with infoRegisterSection() (e.g. "flash"):
 * they are rendered after the keyspace and selected by name, by "everything", and by
 * "default" / "all" when registered with those flags.
 *
 * The memory figures come from one snapshot (memory.h) shared with MEMORY STATS.
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "info.h"
#include "tier/tier.h"
#include "ae.h"
#include "aof.h"
#include "blocked.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "evict.h"
#include "memory.h"
#include "migrate.h"
#include "monotonic.h"
#include "multi.h"
#include "networking.h"
#include "pubsub.h"
#include "rdb.h"
#include "replication.h"
#include "server.h"
#include "script.h"
#include "util.h"
#include "version.h"
#include "zmalloc.h"

/* Facts a fresh Valkey 8 reports for what does not exist here yet. */
#define INFO_REDIS_COMPAT_VERSION "7.2.4"
#define INFO_SUPERVISED_SYSTEMD 2
#define INFO_SUPERVISED_UPSTART 3
#define INFO_CHILD_TYPE_RDB 1
#define INFO_CHILD_TYPE_AOF 2

static size_t startup_memory;
static char replication_id[CONFIG_RUN_ID_SIZE + 1];

/* Event-loop counters fed by infoRecordEventLoopCycle(). */
static long long eventloop_cycles;
static long long eventloop_duration_sum;
static long long eventloop_duration_cmd_sum;
static long long eventloop_last_duration;

/* ------------------------------------------------------------------------- */
/* Generic statistics helpers (declared in server.h)                          */
/* ------------------------------------------------------------------------- */

/* One sample: the rate of `current_value` per `factor` units of `current_base`
 * since the previous call (e.g. base in ms and factor 1000 gives a per-second rate). */
void trackInstantaneousMetric(int metric, long long current_value, long long current_base, long long factor) {
    typeof(server.inst_metric[0]) *m = &server.inst_metric[metric];
    if (m->last_sample_base > 0) {
        long long elapsed = current_base - m->last_sample_base;
        long long delta = current_value - m->last_sample_value;
        m->samples[m->idx] = elapsed > 0 ? delta * factor / elapsed : 0;
        m->idx = (m->idx + 1) % STATS_METRIC_SAMPLES;
    }
    m->last_sample_base = current_base;
    m->last_sample_value = current_value;
}

/* The mean of the last STATS_METRIC_SAMPLES samples. */
long long getInstantaneousMetric(int metric) {
    long long sum = 0;
    for (int j = 0; j < STATS_METRIC_SAMPLES; j++) sum += server.inst_metric[metric].samples[j];
    return sum / STATS_METRIC_SAMPLES;
}

/* 1023 -> "1023B", 1024 -> "1.00K", then M, G, T, P with two decimals. */
void bytesToHuman(char *s, size_t size, unsigned long long n) {
    static const char units[] = "KMGTP";
    if (n < 1024) {
        snprintf(s, size, "%lluB", n);
        return;
    }
    double d = (double)n / 1024;
    int u = 0;
    while (d >= 1024 && units[u + 1] != '\0') {
        d /= 1024;
        u++;
    }
    if (d >= 1024) { /* beyond petabytes: plain bytes */
        snprintf(s, size, "%lluB", n);
        return;
    }
    snprintf(s, size, "%.2f%c", d, units[u]);
}

void infoRecordStartupMemory(void) {
    startup_memory = zmalloc_used_memory();
}

size_t infoStartupMemory(void) {
    return startup_memory;
}

const char *infoReplicationId(void) {
    if (replication_id[0] == '\0') {
        getRandomHexChars(replication_id, CONFIG_RUN_ID_SIZE);
        replication_id[CONFIG_RUN_ID_SIZE] = '\0';
    }
    return replication_id;
}

void infoRecordEventLoopCycle(long long duration_us, long long cmd_duration_us) {
    eventloop_cycles++;
    eventloop_duration_sum += duration_us;
    eventloop_duration_cmd_sum += cmd_duration_us;
    eventloop_last_duration = duration_us;
}

void resetServerStats(void) {
    server.stat_numcommands = 0;
    server.stat_numconnections = 0;
    server.stat_expiredkeys = 0;
    server.stat_expired_stale_perc = 0;
    server.stat_expired_time_cap_reached_count = 0;
    server.stat_expire_cycle_time_used = 0;
    server.stat_evictedkeys = 0;
    server.stat_evictedclients = 0;
    server.stat_total_eviction_exceeded_time = 0;
    server.stat_keyspace_hits = 0;
    server.stat_keyspace_misses = 0;
    server.stat_rejected_conn = 0;
    server.stat_sync_full = 0;
    server.stat_sync_partial_ok = 0;
    server.stat_sync_partial_err = 0;
    server.stat_total_error_replies = 0;
    server.stat_unexpected_error_replies = 0;
    server.stat_dump_payload_sanitizations = 0;
    server.stat_io_reads_processed = 0;
    server.stat_io_writes_processed = 0;
    server.stat_net_input_bytes = 0;
    server.stat_net_output_bytes = 0;
    server.stat_net_repl_input_bytes = 0;
    server.stat_net_repl_output_bytes = 0;
    server.stat_client_qbuf_limit_disconnections = 0;
    server.stat_client_outbuf_limit_disconnections = 0;
    server.stat_total_reads_processed = 0;
    server.stat_total_writes_processed = 0;
    server.stat_numconnections_rejected_maxclients = 0;
    memset(server.inst_metric, 0, sizeof(server.inst_metric));
    eventloop_cycles = eventloop_duration_sum = eventloop_duration_cmd_sum = eventloop_last_duration = 0;
    lazyfreeResetStats();
    rdbResetStats();
    /* Idempotent, so harmless when CONFIG RESETSTAT also calls them. */
    if (server.commands) resetCommandTableStats();
    if (server.errors) resetErrorTableStats();
}

/* ------------------------------------------------------------------------- */
/* Sections                                                                   */
/* ------------------------------------------------------------------------- */

/* 16 hex characters that identify this build (version and compile time). */
static const char *buildId(void) {
    static char id[17];
    if (id[0]) return id;
    const char *seed = VALKEY_VERSION " " __DATE__ " " __TIME__;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = seed; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    snprintf(id, sizeof(id), "%016llx", (unsigned long long)h);
    return id;
}

static const char *supervisedName(void) {
    if (!server.supervised) return "no";
    if (server.supervised_mode == INFO_SUPERVISED_SYSTEMD) return "systemd";
    if (server.supervised_mode == INFO_SUPERVISED_UPSTART) return "upstart";
    return "no";
}

/* A config value as CONFIG GET prints it, or `fallback` (a new sds either way). */
static sds configText(const char *name, const char *fallback) {
    sds v = configGetByName(name);
    return v ? v : sdsnew(fallback);
}

static sds infoListeners(sds info) {
    int n = 0;
    if (server.port) {
        info = sdscatprintf(info, "listener%d:name=tcp", n);
        if (server.bindaddr_count == 0) info = sdscat(info, ",bind=*,bind=-::*");
        for (int j = 0; j < server.bindaddr_count; j++) info = sdscatprintf(info, ",bind=%s", server.bindaddr[j]);
        info = sdscatprintf(info, ",port=%d\r\n", server.port);
    }
    n++;
    if (server.unixsocket && server.unixsocket[0]) info = sdscatprintf(info, "listener%d:name=unix,bind=%s\r\n", n, server.unixsocket);
    return info;
}

static sds infoServer(sds info) {
    static struct utsname name;
    static int have_name = 0;
    if (!have_name) {
        uname(&name);
        have_name = 1;
    }
    time_t uptime = time(NULL) - server.stat_starttime;
    sds zone = configText("availability-zone", "");
    info = sdscatprintf(info,
                        "# Server\r\n"
                        "redis_version:%s\r\n"
                        "server_name:valkey\r\n"
                        "valkey_version:%s\r\n"
                        "redis_git_sha1:00000000\r\n"
                        "redis_git_dirty:0\r\n"
                        "redis_build_id:%s\r\n"
                        "server_mode:%s\r\n"
                        "os:%s %s %s\r\n"
                        "arch_bits:%d\r\n"
                        "monotonic_clock:%s\r\n"
                        "multiplexing_api:%s\r\n"
                        "gcc_version:%d.%d.%d\r\n"
                        "process_id:%lld\r\n"
                        "process_supervised:%s\r\n"
                        "run_id:%s\r\n"
                        "tcp_port:%d\r\n"
                        "server_time_usec:%lld\r\n"
                        "uptime_in_seconds:%lld\r\n"
                        "uptime_in_days:%lld\r\n"
                        "hz:%d\r\n"
                        "configured_hz:%d\r\n"
                        "lru_clock:%u\r\n"
                        "executable:%s\r\n"
                        "config_file:%s\r\n"
                        "io_threads_active:0\r\n"
                        "availability_zone:%s\r\n",
                        INFO_REDIS_COMPAT_VERSION, VALKEY_VERSION, buildId(),
                        server.sentinel_mode ? "sentinel" : "standalone", name.sysname, name.release, name.machine,
                        (int)(sizeof(long) * 8), monotonicInfoString(), aeGetApiName(),
#ifdef __GNUC__
                        __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
                        0, 0, 0,
#endif
                        (long long)getpid(), supervisedName(), server.runid, server.port, ustime(),
                        (long long)uptime, (long long)(uptime / (3600 * 24)), server.hz, server.config_hz,
                        (unsigned)server.lruclock, server.executable ? server.executable : "",
                        server.configfile ? server.configfile : "", zone);
    sdsfree(zone);
    return infoListeners(info);
}

static sds infoClients(sds info) {
    unsigned long connected = 0, pubsub = 0;
    size_t max_in = 0, max_out = 0;
    if (server.clients) {
        listIter li;
        listNode *ln;
        listRewind(server.clients, &li);
        while ((ln = listNext(&li)) != NULL) {
            client *c = listNodeValue(ln);
            if (c->flags & CLIENT_REPLICA) continue;
            connected++;
            if (c->flags & CLIENT_PUBSUB) pubsub++;
            size_t in = c->querybuf ? sdsAllocSize(c->querybuf) : 0;
            size_t out = getClientOutputBufferMemoryUsage(c);
            if (in > max_in) max_in = in;
            if (out > max_out) max_out = out;
        }
    }
    long long blocking_keys_on_nokey;
    long long blocking_keys = totalBlockingKeys(&blocking_keys_on_nokey);
    return sdscatprintf(info,
                        "# Clients\r\n"
                        "connected_clients:%lu\r\n"
                        "cluster_connections:0\r\n"
                        "maxclients:%u\r\n"
                        "client_recent_max_input_buffer:%zu\r\n"
                        "client_recent_max_output_buffer:%zu\r\n"
                        "blocked_clients:%lld\r\n"
                        "tracking_clients:%d\r\n"
                        "pubsub_clients:%lu\r\n"
                        "watching_clients:%lld\r\n"
                        "clients_in_timeout_table:%lu\r\n"
                        "total_watched_keys:%lld\r\n"
                        "total_blocking_keys:%lld\r\n"
                        "total_blocking_keys_on_nokey:%lld\r\n",
                        connected, server.maxclients, max_in, max_out,
                        server.blocked_clients + (long long)listLength(server.paused_clients), /* paused: blocked too */
                        server.tracking_clients, pubsub, multiWatchingClients(), blockedClientsInTimeoutTable(),
                        multiTotalWatchedKeys(), blocking_keys, blocking_keys_on_nokey);
}

static sds infoMemory(sds info) {
    char used_h[64], rss_h[64], peak_h[64], sysmem_h[64], maxmem_h[64];
    size_t used = zmalloc_used_memory();
    if (used > server.stat_peak_memory) {
        server.stat_peak_memory = used;
        server.stat_peak_memory_time = time(NULL);
    }
    serverMemOverhead *mh = getMemoryOverheadData();
    size_t sysmem = zmalloc_get_memory_size();
    bytesToHuman(used_h, sizeof(used_h), used);
    bytesToHuman(rss_h, sizeof(rss_h), mh->process_rss);
    bytesToHuman(peak_h, sizeof(peak_h), server.stat_peak_memory);
    bytesToHuman(sysmem_h, sizeof(sysmem_h), sysmem);
    bytesToHuman(maxmem_h, sizeof(maxmem_h), server.maxmemory);
    sds policy = configText("maxmemory-policy", "noeviction");
    info = sdscatprintf(info,
                        "# Memory\r\n"
                        "used_memory:%zu\r\n"
                        "used_memory_human:%s\r\n"
                        "used_memory_rss:%zu\r\n"
                        "used_memory_rss_human:%s\r\n"
                        "used_memory_peak:%zu\r\n"
                        "used_memory_peak_human:%s\r\n"
                        "used_memory_peak_perc:%.2f%%\r\n"
                        "used_memory_overhead:%zu\r\n"
                        "used_memory_startup:%zu\r\n"
                        "used_memory_dataset:%zu\r\n"
                        "used_memory_dataset_perc:%.2f%%\r\n"
                        "allocator_allocated:%zu\r\n"
                        "allocator_active:%zu\r\n"
                        "allocator_resident:%zu\r\n"
                        "allocator_muzzy:%zu\r\n"
                        "total_system_memory:%zu\r\n"
                        "total_system_memory_human:%s\r\n",
                        used, used_h, mh->process_rss, rss_h, server.stat_peak_memory, peak_h, mh->peak_perc,
                        mh->overhead_total, mh->startup_allocated, mh->dataset, mh->dataset_perc,
                        mh->allocator_allocated, mh->allocator_active, mh->allocator_resident, mh->allocator_muzzy,
                        sysmem, sysmem_h);
    info = scriptingGenMemoryInfo(info);
    info = sdscatprintf(info,
                        "maxmemory:%llu\r\n"
                        "maxmemory_human:%s\r\n"
                        "maxmemory_policy:%s\r\n"
                        "allocator_frag_ratio:%.2f\r\n"
                        "allocator_frag_bytes:%lld\r\n"
                        "allocator_rss_ratio:%.2f\r\n"
                        "allocator_rss_bytes:%lld\r\n"
                        "rss_overhead_ratio:%.2f\r\n"
                        "rss_overhead_bytes:%lld\r\n"
                        "mem_fragmentation_ratio:%.2f\r\n"
                        "mem_fragmentation_bytes:%lld\r\n"
                        "mem_not_counted_for_evict:%zu\r\n"
                        "mem_replication_backlog:%zu\r\n"
                        "mem_total_replication_buffers:%zu\r\n"
                        "mem_clients_slaves:%zu\r\n"
                        "mem_clients_normal:%zu\r\n"
                        "mem_cluster_links:%zu\r\n"
                        "mem_aof_buffer:%zu\r\n"
                        "mem_allocator:%s\r\n"
                        "mem_overhead_db_hashtable_rehashing:%zu\r\n"
                        "active_defrag_running:0\r\n"
                        "lazyfree_pending_objects:%zu\r\n"
                        "lazyfreed_objects:%zu\r\n",
                        server.maxmemory, maxmem_h, policy, mh->allocator_frag, mh->allocator_frag_bytes,
                        mh->allocator_rss, mh->allocator_rss_bytes, mh->rss_extra, mh->rss_extra_bytes,
                        mh->total_frag, mh->total_frag_bytes, freeMemoryGetNotCountedMemory(), mh->repl_backlog,
                        mh->repl_backlog + mh->clients_replicas, mh->clients_replicas, mh->clients_normal,
                        mh->cluster_links, mh->aof_buffer, ZMALLOC_LIB,
                        mh->overhead_db_hashtable_rehashing, lazyfreeGetPendingObjectsCount(),
                        lazyfreeGetFreedObjectsCount());
    sdsfree(policy);
    freeMemoryOverheadData(mh);
    return info;
}

static sds infoPersistence(sds info) {
    rdbInfo ri;
    rdbGetInfo(&ri);
    info = sdscatprintf(info,
                        "# Persistence\r\n"
                        "loading:%d\r\n"
                        "async_loading:0\r\n"
                        "current_cow_peak:%lld\r\n"
                        "current_cow_size:%lld\r\n"
                        "current_cow_size_age:%lld\r\n"
                        "current_fork_perc:%.2f\r\n"
                        "current_save_keys_processed:%lld\r\n"
                        "current_save_keys_total:%lld\r\n"
                        "rdb_changes_since_last_save:%lld\r\n"
                        "rdb_bgsave_in_progress:%d\r\n"
                        "rdb_last_save_time:%lld\r\n"
                        "rdb_last_bgsave_status:%s\r\n"
                        "rdb_last_bgsave_time_sec:%lld\r\n"
                        "rdb_current_bgsave_time_sec:%lld\r\n"
                        "rdb_saves:%lld\r\n"
                        "rdb_last_cow_size:%lld\r\n"
                        "rdb_last_load_keys_expired:%lld\r\n"
                        "rdb_last_load_keys_loaded:%lld\r\n",
                        ri.loading, ri.current_cow_peak, ri.current_cow_size, ri.current_cow_size_age,
                        ri.current_fork_perc, ri.current_save_keys_processed, ri.current_save_keys_total,
                        server.dirty, ri.bgsave_in_progress, (long long)server.lastsave,
                        server.lastbgsave_status == C_OK ? "ok" : "err", ri.last_bgsave_time_sec,
                        ri.current_bgsave_time_sec, ri.saves, ri.last_cow_size, ri.last_load_keys_expired,
                        ri.last_load_keys_loaded);
    info = aofCatInfo(info);
    info = sdscat(info, "module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n");
    info = aofCatInfoWhenEnabled(info);
    if (ri.loading)
        info = sdscatprintf(info,
                            "loading_start_time:%lld\r\n"
                            "loading_total_bytes:%lld\r\n"
                            "loading_rdb_used_mem:%lld\r\n"
                            "loading_loaded_bytes:%lld\r\n"
                            "loading_loaded_perc:%.2f\r\n"
                            "loading_eta_seconds:%lld\r\n",
                            ri.loading_start_time, ri.loading_total_bytes, ri.loading_rdb_used_mem,
                            ri.loading_loaded_bytes, ri.loading_loaded_perc, ri.loading_eta_seconds);
    return info;
}

static sds infoStats(sds info) {
    info = sdscatprintf(info,
                        "# Stats\r\n"
                        "total_connections_received:%lld\r\n"
                        "total_commands_processed:%lld\r\n"
                        "instantaneous_ops_per_sec:%lld\r\n"
                        "total_net_input_bytes:%lld\r\n"
                        "total_net_output_bytes:%lld\r\n"
                        "total_net_repl_input_bytes:%lld\r\n"
                        "total_net_repl_output_bytes:%lld\r\n"
                        "instantaneous_input_kbps:%.2f\r\n"
                        "instantaneous_output_kbps:%.2f\r\n"
                        "instantaneous_input_repl_kbps:0.00\r\n"
                        "instantaneous_output_repl_kbps:0.00\r\n"
                        "rejected_connections:%lld\r\n"
                        "sync_full:%lld\r\n"
                        "sync_partial_ok:%lld\r\n"
                        "sync_partial_err:%lld\r\n"
                        "expired_keys:%lld\r\n"
                        "expired_stale_perc:%.2f\r\n"
                        "expired_time_cap_reached_count:%lld\r\n"
                        "expire_cycle_cpu_milliseconds:%lld\r\n"
                        "evicted_keys:%lld\r\n"
                        "evicted_clients:%lld\r\n"
                        "evicted_scripts:%lld\r\n"
                        "total_eviction_exceeded_time:%lld\r\n"
                        "current_eviction_exceeded_time:%lld\r\n"
                        "keyspace_hits:%lld\r\n"
                        "keyspace_misses:%lld\r\n",
                        server.stat_numconnections, server.stat_numcommands,
                        getInstantaneousMetric(STATS_METRIC_COMMAND), (long long)server.stat_net_input_bytes,
                        (long long)server.stat_net_output_bytes, server.stat_net_repl_input_bytes,
                        server.stat_net_repl_output_bytes,
                        (double)getInstantaneousMetric(STATS_METRIC_NET_INPUT) / 1024,
                        (double)getInstantaneousMetric(STATS_METRIC_NET_OUTPUT) / 1024, server.stat_rejected_conn,
                        server.stat_sync_full, server.stat_sync_partial_ok, server.stat_sync_partial_err,
                        server.stat_expiredkeys, (double)server.stat_expired_stale_perc,
                        server.stat_expired_time_cap_reached_count, server.stat_expire_cycle_time_used / 1000,
                        server.stat_evictedkeys, server.stat_evictedclients, evalEvictedScripts(),
                        evictionTotalExceededTimeUs() / 1000, evictionCurrentExceededTimeUs() / 1000,
                        server.stat_keyspace_hits, server.stat_keyspace_misses);
    rdbInfo fork_info;
    rdbGetInfo(&fork_info);
    long long cycles_per_sec = 0;
    if (eventloop_cycles) {
        time_t up = time(NULL) - server.stat_starttime;
        cycles_per_sec = up > 0 ? eventloop_cycles / up : eventloop_cycles;
    }
    info = sdscatprintf(info,
                        "pubsub_channels:%lu\r\n"
                        "pubsub_patterns:%lu\r\n"
                        "pubsubshard_channels:%lu\r\n"
                        "latest_fork_usec:%lld\r\n"
                        "total_forks:%lld\r\n"
                        "migrate_cached_sockets:%lu\r\n"
                        "slave_expires_tracked_keys:0\r\n"
                        "active_defrag_hits:0\r\n"
                        "active_defrag_misses:0\r\n"
                        "active_defrag_key_hits:0\r\n"
                        "active_defrag_key_misses:0\r\n"
                        "total_active_defrag_time:0\r\n"
                        "current_active_defrag_time:0\r\n"
                        "tracking_total_keys:0\r\n"
                        "tracking_total_items:0\r\n"
                        "tracking_total_prefixes:0\r\n"
                        "unexpected_error_replies:%lld\r\n"
                        "total_error_replies:%lld\r\n"
                        "dump_payload_sanitizations:%lld\r\n"
                        "total_reads_processed:%lld\r\n"
                        "total_writes_processed:%lld\r\n"
                        "io_threaded_reads_processed:%lld\r\n"
                        "io_threaded_writes_processed:%lld\r\n"
                        "io_threaded_freed_objects:0\r\n"
                        "io_threaded_poll_processed:0\r\n"
                        "io_threaded_total_prefetch_batches:0\r\n"
                        "io_threaded_total_prefetch_entries:0\r\n"
                        "client_query_buffer_limit_disconnections:%lld\r\n"
                        "client_output_buffer_limit_disconnections:%lld\r\n"
                        "reply_buffer_shrinks:0\r\n"
                        "reply_buffer_expands:0\r\n"
                        "eventloop_cycles:%lld\r\n"
                        "eventloop_duration_sum:%lld\r\n"
                        "eventloop_duration_cmd_sum:%lld\r\n"
                        "instantaneous_eventloop_cycles_per_sec:%lld\r\n"
                        "instantaneous_eventloop_duration_usec:%lld\r\n"
                        "acl_access_denied_auth:0\r\n"
                        "acl_access_denied_cmd:0\r\n"
                        "acl_access_denied_key:0\r\n"
                        "acl_access_denied_channel:0\r\n",
                        pubsubChannelCount(), pubsubPatternCount(), pubsubShardChannelCount(),
                        fork_info.latest_fork_usec, fork_info.total_forks, migrateCachedSocketCount(),
                        server.stat_unexpected_error_replies, server.stat_total_error_replies,
                        server.stat_dump_payload_sanitizations, server.stat_total_reads_processed,
                        server.stat_total_writes_processed, server.stat_io_reads_processed,
                        server.stat_io_writes_processed, server.stat_client_qbuf_limit_disconnections,
                        server.stat_client_outbuf_limit_disconnections, eventloop_cycles, eventloop_duration_sum,
                        eventloop_duration_cmd_sum, cycles_per_sec, eventloop_last_duration);
    return info;
}

static sds infoReplication(sds info) {
    return replicationInfoSection(info);
}

static sds infoCpu(sds info) {
    struct rusage self, children, thread;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    getrusage(RUSAGE_THREAD, &thread);
    return sdscatprintf(info,
                        "# CPU\r\n"
                        "used_cpu_sys:%ld.%06ld\r\n"
                        "used_cpu_user:%ld.%06ld\r\n"
                        "used_cpu_sys_children:%ld.%06ld\r\n"
                        "used_cpu_user_children:%ld.%06ld\r\n"
                        "used_cpu_sys_main_thread:%ld.%06ld\r\n"
                        "used_cpu_user_main_thread:%ld.%06ld\r\n",
                        (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec,
                        (long)self.ru_utime.tv_usec, (long)children.ru_stime.tv_sec,
                        (long)children.ru_stime.tv_usec, (long)children.ru_utime.tv_sec,
                        (long)children.ru_utime.tv_usec, (long)thread.ru_stime.tv_sec,
                        (long)thread.ru_stime.tv_usec, (long)thread.ru_utime.tv_sec, (long)thread.ru_utime.tv_usec);
}

static sds infoModules(sds info) {
    return sdscat(info, "# Modules\r\n"); /* no module can be loaded yet */
}

static sds infoCommandstats(sds info) {
    info = sdscat(info, "# Commandstats\r\n");
    return server.commands ? genCommandStatsInfoString(info) : info;
}

static sds infoErrorstats(sds info) {
    info = sdscat(info, "# Errorstats\r\n");
    return server.errors ? genErrorStatsInfoString(info) : info;
}

static sds infoLatencystats(sds info) {
    info = sdscat(info, "# Latencystats\r\n");
    return server.commands ? genLatencyStatsInfoString(info) : info;
}

static sds infoCluster(sds info) {
    return sdscat(info, "# Cluster\r\ncluster_enabled:0\r\n");
}

static sds infoKeyspace(sds info) {
    info = sdscat(info, "# Keyspace\r\n");
    for (int j = 0; server.db && j < server.dbnum; j++) {
        serverDb *db = &server.db[j];
        long long keys = db->keys ? (long long)hashtableSize(db->keys) : 0;
        long long vkeys = db->expires ? (long long)hashtableSize(db->expires) : 0;
        if (!keys && !vkeys) continue;
        info = sdscatprintf(info, "db%d:keys=%lld,expires=%lld,avg_ttl=%lld", j, keys, vkeys, db->avg_ttl);
        /* With tiering on, the line also counts the keys whose value is on flash. */
        if (tierEnabled()) info = sdscatprintf(info, ",cold=%llu", db->cold_keys);
        info = sdscat(info, "\r\n");
    }
    return info;
}

typedef struct infoSection {
    const char *name;
    infoSectionRenderer render;
    int flags; /* INFO_IN_* */
} infoSection;

#define INFO_DEFAULT_AND_ALL (INFO_IN_DEFAULT | INFO_IN_ALL)

static infoSection infoSections[INFO_MAX_SECTIONS] = {
    {"server", infoServer, INFO_DEFAULT_AND_ALL},
    {"clients", infoClients, INFO_DEFAULT_AND_ALL},
    {"memory", infoMemory, INFO_DEFAULT_AND_ALL},
    {"persistence", infoPersistence, INFO_DEFAULT_AND_ALL},
    {"stats", infoStats, INFO_DEFAULT_AND_ALL},
    {"replication", infoReplication, INFO_DEFAULT_AND_ALL},
    {"cpu", infoCpu, INFO_DEFAULT_AND_ALL},
    {"modules", infoModules, INFO_DEFAULT_AND_ALL},
    {"commandstats", infoCommandstats, INFO_IN_ALL},
    {"errorstats", infoErrorstats, INFO_DEFAULT_AND_ALL},
    {"latencystats", infoLatencystats, INFO_IN_ALL},
    {"cluster", infoCluster, INFO_DEFAULT_AND_ALL},
    {"keyspace", infoKeyspace, INFO_DEFAULT_AND_ALL},
};
static int infoSectionCount = 13;

unsigned int infoRegisterSection(const char *name, infoSectionRenderer render, int flags) {
    if (infoSectionCount == INFO_MAX_SECTIONS) return 0;
    for (int j = 0; j < infoSectionCount; j++)
        if (!strcasecmp(infoSections[j].name, name)) return 0;
    infoSections[infoSectionCount] = (infoSection){name, render, flags};
    return 1u << infoSectionCount++;
}

static unsigned int sectionsWithFlag(int flag) {
    unsigned int mask = 0;
    for (int j = 0; j < infoSectionCount; j++)
        if (infoSections[j].flags & flag) mask |= 1u << j;
    return mask;
}

sds genValkeyInfoString(unsigned int sections) {
    sds info = sdsempty();
    int rendered = 0;
    for (int j = 0; j < infoSectionCount; j++) {
        if (!(sections & (1u << j))) continue;
        size_t before = sdslen(info);
        if (rendered) info = sdscat(info, "\r\n");
        size_t mark = sdslen(info);
        info = infoSections[j].render(info);
        /* A registered section may have nothing to say (e.g. flash with tiering off). */
        if (sdslen(info) == mark) sdssetlen(info, before), info[before] = '\0';
        else rendered++;
    }
    return info;
}

unsigned int infoSectionsFromArgs(robj **argv, int argc) {
    if (argc < 2) return sectionsWithFlag(INFO_IN_DEFAULT);
    unsigned int mask = 0;
    for (int i = 1; i < argc; i++) {
        if (!sdsEncodedObject(argv[i])) continue; /* an integer names no section */
        const char *name = objectGetVal(argv[i]);
        if (!strcasecmp(name, "default")) {
            mask |= sectionsWithFlag(INFO_IN_DEFAULT);
        } else if (!strcasecmp(name, "all")) {
            mask |= sectionsWithFlag(INFO_IN_ALL);
        } else if (!strcasecmp(name, "everything")) {
            mask |= INFO_SECTIONS_EVERYTHING;
        } else {
            for (int j = 0; j < infoSectionCount; j++)
                if (!strcasecmp(name, infoSections[j].name)) mask |= 1u << j;
        }
    }
    return mask;
}

void infoCommand(client *c) {
    sds info = genValkeyInfoString(infoSectionsFromArgs(c->argv, c->argc));
    addReplyVerbatim(c, info, sdslen(info), "txt");
    sdsfree(info);
}

/* ------------------------------------------------------------------------- */
/* TIME and LASTSAVE                                                          */
/* ------------------------------------------------------------------------- */

void timeCommand(client *c) {
    long long now = ustime();
    addReplyArrayLen(c, 2);
    addReplyBulkLongLong(c, now / 1000000);
    addReplyBulkLongLong(c, now % 1000000);
}

void lastsaveCommand(client *c) {
    addReplyLongLong(c, (long long)server.lastsave);
}
