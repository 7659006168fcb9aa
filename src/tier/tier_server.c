/* tier_server.c -- tiering's place in the server: directives, start-up, the event-loop
 * hooks (submitting I/O, completions, compaction), INFO flash, OBJECT TIER and
 * FLASH.DEBUG.DEMOTE.
 *
 * Start-up: with flash-path set, tierInit() creates the I/O engine (io_uring, or the
 * thread pool where io_uring cannot be set up) and opens the store; a path that cannot
 * be used stops the server with a clear message. The file's contents never survive a
 * restart: the data comes back from the RDB/AOF and is demoted again as it loads.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tier.h"
#include "tier_internal.h"
#include "../ae.h"
#include "../blocked.h"
#include "../config.h"
#include "../db.h"
#include "../evict.h"
#include "../histogram.h"
#include "../info.h"
#include "../networking.h"
#include "../server.h"
#include "../zmalloc.h"

#define TIER_DEFAULT_CAPACITY (1024ULL * 1024 * 1024)
#define TIER_DEFAULT_MIN_VALUE 64
#define TIER_DEFAULT_IO_DEPTH 256
#define TIER_DEFAULT_SEGMENT (1024ULL * 1024)
#define TIER_DEFAULT_WATERMARK 90
#define TIER_DEFAULT_MAX_INFLIGHT (16ULL * 1024 * 1024)
#define TIER_DEFAULT_COMPACTION_RATE (64ULL * 1024 * 1024)
#define TIER_MIN_SEGMENT (64ULL * 1024)
#define TIER_MAX_SEGMENT (4ULL * 1024 * 1024)
#define TIER_DEFAULT_LIVE_RATIO 50
#define TIER_DEFAULT_FREE_RATIO 25
#define TIER_PERCENT 100.0
/* I/O completions handled per event-loop turn. A virtio or NVMe queue often completes a
 * whole batch of reads at once; handling all of them before the turn's replies go out
 * left the device idle until the last reply was written and the clients' next requests
 * were read. The rest wait one turn, and the replies of these go out first. Cold GETs
 * from 64 clients, where the disk does 91k 4 KiB reads/s: 48-50k/s with no limit, 67-68k/s
 * with 8 per turn, 64-76k/s with 12 or 16 (16 the better at 128 clients). */
#define TIER_COMPLETIONS_PER_TURN 16

static int tier_started; /* tierInit ran: restart-only directives are fixed from now on */

/* ------------------------------------------------------------------------- */
/* Directives                                                                  */
/* ------------------------------------------------------------------------- */

static int tierRestartOnly(const char **err) {
    if (!tier_started) return 1;
    *err = "this flash directive can only be set at startup: change it in valkey.conf and restart the server";
    return 0;
}
static int tierValidateRestartString(const char *val, const char **err) {
    (void)val;
    return tierRestartOnly(err);
}
static int tierValidateRestartNumber(long long val, const char **err) {
    (void)val;
    return tierRestartOnly(err);
}
static int tierValidateRestartEnum(int val, const char **err) {
    (void)val;
    return tierRestartOnly(err);
}
static int tierValidateSegment(long long val, const char **err) {
    if (!tierRestartOnly(err)) return 0;
    if (val & (val - 1)) {
        *err = "flash-segment-size must be a power of two between 64kb and 4mb";
        return 0;
    }
    return 1;
}

static const configEnum tier_io_engine_enum[] = {
    {"auto", IO_ENGINE_AUTO}, {"io_uring", IO_ENGINE_URING}, {"threads", IO_ENGINE_THREADS}, {NULL, 0}};

#define TIER_NUMERIC(nm, al, f, st, fmt, lo, hi, def, val)                                                            \
    {.name = nm,                                                                                                      \
     .alias = al,                                                                                                     \
     .type = CONFIG_TYPE_NUMERIC,                                                                                     \
     .field = f,                                                                                                      \
     .u.num = {.storage = st, .format = fmt, .min = lo, .max = hi, .dflt = def, .validate = val}}

static const configDirective tier_configs[] = {
    {.name = "flash-path",
     .alias = "flash.path",
     .flags = CONFIG_STR_EMPTY_IS_NULL,
     .type = CONFIG_TYPE_STRING,
     .field = &tier_conf.path,
     .u.str = {.dflt = "", .validate = tierValidateRestartString}},
    TIER_NUMERIC("flash-capacity", "flash.capacity-bytes", &tier_conf.capacity, CONFIG_NUM_ULONG_LONG,
                 CONFIG_FMT_MEMORY, 0, LLONG_MAX, TIER_DEFAULT_CAPACITY, tierValidateRestartNumber),
    TIER_NUMERIC("flash-min-value-size", NULL, &tier_conf.min_value_size, CONFIG_NUM_ULONG_LONG, CONFIG_FMT_MEMORY, 0,
                 LLONG_MAX, TIER_DEFAULT_MIN_VALUE, NULL),
    TIER_NUMERIC("flash-io-depth", "flash.io-uring-entries", &tier_conf.io_depth, CONFIG_NUM_INT, CONFIG_FMT_INTEGER, 8,
                 32768, TIER_DEFAULT_IO_DEPTH, tierValidateRestartNumber),
    {.name = "flash-io-engine",
     .type = CONFIG_TYPE_ENUM,
     .field = &tier_conf.io_engine,
     .u.en = {.values = tier_io_engine_enum, .dflt = IO_ENGINE_AUTO, .validate = tierValidateRestartEnum}},
    TIER_NUMERIC("flash-segment-size", NULL, &tier_conf.segment_size, CONFIG_NUM_ULONG_LONG, CONFIG_FMT_MEMORY,
                 TIER_MIN_SEGMENT, TIER_MAX_SEGMENT, TIER_DEFAULT_SEGMENT, tierValidateSegment),
    TIER_NUMERIC("flash-demotion-watermark", NULL, &tier_conf.watermark, CONFIG_NUM_INT, CONFIG_FMT_INTEGER, 10, 100,
                 TIER_DEFAULT_WATERMARK, NULL),
    TIER_NUMERIC("flash-demotion-max-inflight", "flash.demotion-max-inflight", &tier_conf.max_inflight,
                 CONFIG_NUM_ULONG_LONG, CONFIG_FMT_MEMORY, 4096, LLONG_MAX, TIER_DEFAULT_MAX_INFLIGHT, NULL),
    {.name = "flash-compaction",
     .type = CONFIG_TYPE_BOOL,
     .field = &tier_conf.compaction,
     .u.b = {.dflt = 1}},
    TIER_NUMERIC("flash-compaction-rate", NULL, &tier_conf.compaction_rate, CONFIG_NUM_ULONG_LONG, CONFIG_FMT_MEMORY,
                 4096, LLONG_MAX, TIER_DEFAULT_COMPACTION_RATE, NULL),
    TIER_NUMERIC("flash-compaction-live-ratio", NULL, &tier_conf.compaction_live_ratio, CONFIG_NUM_INT,
                 CONFIG_FMT_INTEGER, 1, 99, TIER_DEFAULT_LIVE_RATIO, tierValidateRestartNumber),
    TIER_NUMERIC("flash-compaction-free-ratio", NULL, &tier_conf.compaction_free_ratio, CONFIG_NUM_INT,
                 CONFIG_FMT_INTEGER, 1, 99, TIER_DEFAULT_FREE_RATIO, tierValidateRestartNumber),
};

/* ------------------------------------------------------------------------- */
/* Store callbacks                                                             */
/* ------------------------------------------------------------------------- */

static int tierIsLive(void *ctx, int db, const char *key, size_t klen, uint64_t version, flashLocation loc) {
    (void)ctx;
    (void)version;
    tierObjEntry *clean;
    return tierFindOwner(db, key, klen, loc, &clean) != NULL;
}

static int tierRelocated(void *ctx, int db, const char *key, size_t klen, uint64_t version, flashLocation old_loc,
                         flashLocation new_loc) {
    (void)ctx;
    (void)version;
    tierObjEntry *clean;
    robj *o = tierFindOwner(db, key, klen, old_loc, &clean);
    if (!o) return 0;
    if (clean) clean->loc = new_loc;
    else objectSetColdLocation(o, new_loc);
    void *found;
    if (hashtableSize(tier.aliases) && hashtablePop(tier.aliases, &old_loc, &found)) {
        tierAlias *a = found;
        a->loc = new_loc;
        hashtableAdd(tier.aliases, a);
    }
    return 1;
}

static void tierLog(void *ctx, int level, const char *msg) {
    (void)ctx;
    serverLog(level == FLASH_LOG_WARNING ? LL_WARNING : LL_NOTICE, "Tiering: %s", msg);
}

/* The store's buffers are tiering's working memory, not data: not counted for eviction
 * (like replication buffers), so a small maxmemory still leaves room for data. */
static size_t tierMemoryNotCounted(void) {
    if (!tier.fs) return 0;
    flashStoreStats st;
    flashStoreGetStats(tier.fs, &st);
    return st.memory_bytes;
}

/* ------------------------------------------------------------------------- */
/* Event loop                                                                  */
/* ------------------------------------------------------------------------- */

/* Handles this turn's share of I/O completions; the rest keep the eventfd readable and
 * wait for the next turn. */
static void tierProcessCompletions(void) {
    if (tier.turn_completions >= TIER_COMPLETIONS_PER_TURN) return;
    tier.turn_completions += ioEngineProcessCompletions(tier.io, TIER_COMPLETIONS_PER_TURN - tier.turn_completions);
}

static void tierIoReady(aeEventLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)fd;
    (void)data;
    (void)mask;
    /* Never in the middle of a command (a long script serving events): completions
     * change the keyspace. */
    if (isProcessingEventsWhileBlocked()) return;
    tierProcessCompletions();
}

void tierBeforeSleep(void) {
    if (!tierEnabled()) return;
    if (ioEngineCompletionsReady(tier.io)) tierProcessCompletions();
    tierDemoteTransient();
    tierDemoteIfNeeded();
    tierWakeMemoryWaiters();
}

void tierSubmitIo(void) {
    if (!tierEnabled()) return;
    /* Partial blocks wait one turn for more records (fewer rewrites under load); with the
     * device idle there is nothing to gain by waiting: demotions land now, not at the
     * next cron tick that wakes the loop. */
    flashStoreFlush(tier.fs, !ioEngineInFlight(tier.io));
    ioEngineSubmit(tier.io);
    tier.loop_iteration++;
    tier.turn_completions = 0;
}

void tierForkBegin(void) {
    if (!tierEnabled() || tier.fork_active) return;
    flashStoreForkBegin(tier.fs);
    tier.fork_active = 1;
}

static void tierCompactionStep(void) {
    if (!tier_conf.compaction || tier.fork_active) return;
    size_t budget = (size_t)(tier_conf.compaction_rate / (unsigned long long)(server.hz > 0 ? server.hz : 1));
    flashStoreStats before;
    flashStoreGetStats(tier.fs, &before);
    flashStoreCompactStep(tier.fs, budget);
    flashStoreStats after;
    flashStoreGetStats(tier.fs, &after);
    if (after.compact_segments != before.compact_segments) tier.stat_compaction_runs++;
}

void tierCron(void) {
    if (!tierEnabled()) return;
    if (tier.fork_active && server.child_pid == -1) {
        flashStoreForkEnd(tier.fs);
        tier.fork_active = 0;
    }
    tierCompactionStep();
}

/* ------------------------------------------------------------------------- */
/* Start-up and shutdown                                                       */
/* ------------------------------------------------------------------------- */

int tierEnabled(void) {
    return tier.state == TIER_STATE_READY;
}

static void tierFatal(const char *what, const char *why) {
    serverLog(LL_WARNING, "Tiering: %s: %s. Fix flash-path / flash-capacity in the configuration, or remove "
                          "flash-path to run without tiering.", what, why);
    fprintf(stderr, "Tiering: %s: %s\n", what, why);
    exit(1);
}

void tierInit(void) {
    tier_started = 1;
    if (!tier_conf.path || !tier_conf.path[0]) return;
    const char *err = NULL;
    tier.io = ioEngineCreate((ioEngineKind)tier_conf.io_engine, (unsigned)tier_conf.io_depth, &err);
    if (!tier.io) tierFatal("cannot set up the I/O engine", err ? err : "unknown error");
    if (ioEngineFallbackReason(tier.io))
        serverLog(LL_WARNING, "Tiering: io_uring is not available (%s): using the %s I/O engine",
                  ioEngineFallbackReason(tier.io), ioEngineName(tier.io));
    flashStoreOptions opts = {.segment_size = (uint32_t)tier_conf.segment_size,
                              .compact_live_ratio = tier_conf.compaction_live_ratio / TIER_PERCENT,
                              .compact_free_ratio = tier_conf.compaction_free_ratio / TIER_PERCENT,
                              .is_live = tierIsLive,
                              .relocated = tierRelocated,
                              .log = tierLog};
    char *open_err = NULL;
    tier.fs = flashStoreOpen(tier_conf.path, tier_conf.capacity, &opts, tier.io, &open_err);
    if (!tier.fs) {
        char what[PATH_MAX + 64];
        snprintf(what, sizeof(what), "cannot open the flash file '%s'", tier_conf.path);
        tierFatal(what, open_err ? open_err : "unknown error");
    }
    if (aeCreateFileEvent(server.el, ioEngineEventFd(tier.io), AE_READABLE, tierIoReady, NULL) == AE_ERR)
        tierFatal("cannot watch the I/O engine", strerror(errno));
    tier.read_latency = histogramCreate();
    tier.state = TIER_STATE_READY;
    evictionRegisterNotCountedMemoryProc(tierMemoryNotCounted);
    serverLog(LL_NOTICE, "Tiering: flash file %s, %llu bytes, I/O engine %s", tier_conf.path,
              (unsigned long long)tier_conf.capacity, ioEngineName(tier.io));
}

void tierShutdown(void) {
    if (!tierEnabled()) return;
    tier.state = TIER_STATE_OFF;
    flashStoreClose(tier.fs);
    tier.fs = NULL;
    zfree(tier.transient);
    tier.transient = NULL;
    tier.transient_len = tier.transient_cap = 0;
}

/* ------------------------------------------------------------------------- */
/* INFO flash                                                                  */
/* ------------------------------------------------------------------------- */

static unsigned long long tierHotKeys(void) {
    unsigned long long keys = 0;
    for (int j = 0; j < server.dbnum; j++) keys += hashtableSize(server.db[j].keys);
    return keys - tierColdKeys();
}

sds flashCompatInfo(sds info); /* flash_cmds.c */

/* The section exists only with tiering on, so INFO of a server without it is Valkey's. */
static sds infoFlash(sds info) {
    if (!tierEnabled()) return info;
    info = sdscat(info, "# Flash\r\n");
    flashStoreStats st;
    flashStoreGetStats(tier.fs, &st);
    uint64_t free_bytes = st.segments_free * st.segment_size;
    info = sdscatprintf(info,
                        "flash_enabled:1\r\n"
                        "flash_state:%s\r\n"
                        "flash_path:%s\r\n"
                        "flash_io_engine:%s\r\n"
                        "flash_direct_io:%d\r\n"
                        "flash_capacity_bytes:%llu\r\n"
                        "flash_used_bytes:%llu\r\n"
                        "flash_free_bytes:%llu\r\n"
                        "flash_live_bytes:%llu\r\n"
                        "flash_dead_bytes:%llu\r\n"
                        "flash_full:%d\r\n",
                        tier.flash_full ? "full" : "ready", tier_conf.path, ioEngineName(tier.io), st.direct_io,
                        (unsigned long long)st.capacity, (unsigned long long)st.used_bytes,
                        (unsigned long long)free_bytes, (unsigned long long)st.live_bytes,
                        (unsigned long long)st.dead_bytes, tier.flash_full);
    info = sdscatprintf(info,
                        "flash_cold_keys:%llu\r\n"
                        "flash_hot_keys:%llu\r\n"
                        "flash_cold_value_bytes:%llu\r\n"
                        "flash_demotions:%llu\r\n"
                        "flash_demotions_in_flight:%lu\r\n"
                        "flash_demotions_in_flight_bytes:%zu\r\n"
                        "flash_demotions_clean:%llu\r\n"
                        "flash_demotions_cancelled:%llu\r\n"
                        "flash_demotion_failures:%llu\r\n"
                        "flash_demoted_bytes:%llu\r\n"
                        "flash_promotions:%llu\r\n"
                        "flash_promotions_in_flight:%zu\r\n"
                        "flash_sync_promotions:%llu\r\n"
                        "flash_readthrough_promotions:%llu\r\n"
                        "flash_blocked_commands:%llu\r\n"
                        "flash_memory_waits:%llu\r\n",
                        tierColdKeys(), tierHotKeys(), (unsigned long long)st.live_bytes, tier.stat_demotions,
                        tier.demote_inflight, tier.demote_inflight_bytes, tier.stat_clean_demotions,
                        tier.stat_demotions_cancelled, tier.stat_demotion_failures, tier.stat_demoted_bytes,
                        tier.stat_promotions, hashtableSize(tier.reads), tier.stat_sync_promotions,
                        tier.stat_readthrough_promotions, tier.stat_blocked_commands, tier.stat_memory_waits);
    info = sdscatprintf(info,
                        "flash_bytes_written:%llu\r\n"
                        "flash_bytes_read:%llu\r\n"
                        "flash_user_bytes_written:%llu\r\n"
                        "flash_write_amplification:%.2f\r\n"
                        "flash_read_latency_p50_us:%llu\r\n"
                        "flash_read_latency_p99_us:%llu\r\n"
                        "flash_read_latency_p999_us:%llu\r\n"
                        "flash_compaction_runs:%llu\r\n"
                        "flash_compaction_segments:%llu\r\n"
                        "flash_compaction_bytes_moved:%llu\r\n"
                        "flash_compaction_bytes_reclaimed:%llu\r\n"
                        "flash_checksum_errors:%llu\r\n"
                        "flash_read_errors:%llu\r\n"
                        "flash_write_errors:%llu\r\n"
                        "flash_read_failures:%llu\r\n",
                        (unsigned long long)st.bytes_written, (unsigned long long)st.bytes_read,
                        (unsigned long long)st.user_bytes, st.write_amplification,
                        (unsigned long long)histogramValueAtPercentile(tier.read_latency, 50.0),
                        (unsigned long long)histogramValueAtPercentile(tier.read_latency, 99.0),
                        (unsigned long long)histogramValueAtPercentile(tier.read_latency, 99.9),
                        tier.stat_compaction_runs, (unsigned long long)st.compact_segments,
                        (unsigned long long)st.compact_bytes_moved,
                        (unsigned long long)(st.compact_segments * st.segment_size > st.compact_bytes_moved
                                                 ? st.compact_segments * st.segment_size - st.compact_bytes_moved
                                                 : 0),
                        (unsigned long long)st.checksum_failures, (unsigned long long)st.read_errors,
                        (unsigned long long)st.write_errors, tier.stat_read_failures);
    return flashCompatInfo(info); /* valkey-flash's field names (flash_cmds.c) */
}

/* ------------------------------------------------------------------------- */
/* Commands                                                                    */
/* ------------------------------------------------------------------------- */

/* OBJECT TIER key: "hot" or "cold" (a value being demoted is still hot). */
void objectTierCommand(client *c) {
    robj *o = lookupKeyReadWithFlags(c->db, c->argv[2], LOOKUP_NOTOUCH | LOOKUP_NONOTIFY);
    if (!o) {
        addReplyNull(c);
        return;
    }
    addReplyBulkCString(c, o->cold ? "cold" : "hot");
}

/* FLASH.DEBUG.DEMOTE key: replies once the value is on flash. */
void flashDebugDemoteCommand(client *c) {
    if (!tierEnabled()) {
        addReplyError(c, "flash tiering is not enabled (set flash-path)");
        return;
    }
    robj *o = lookupKeyReadWithFlags(c->db, c->argv[1], LOOKUP_NOTOUCH | LOOKUP_NONOTIFY);
    if (!o) {
        addReplyError(c, "key does not exist");
        return;
    }
    int rc = tierDemoteKey(c->db, o, clientDeniesBlocking(c) ? NULL : c);
    switch (rc) {
    case TIER_DEMOTE_ALREADY_COLD: addReplyStatus(c, "ALREADY_COLD"); return;
    case TIER_DEMOTE_DONE: addReply(c, shared.ok); return;
    case TIER_DEMOTE_STARTED:
    case TIER_DEMOTE_IN_FLIGHT:
        if (clientDeniesBlocking(c)) addReply(c, shared.ok); /* started; lands after the script */
        else blockClient(c, BLOCKED_TIERING, 0, 0);
        return;
    case TIER_DEMOTE_NOSPACE: addReplyError(c, "flash is full"); return;
    case TIER_DEMOTE_BUSY: addReplyError(c, "flash write buffers are busy, try again"); return;
    default: addReplyError(c, "this value cannot be demoted (type not tiered, or the value is shared)"); return;
    }
}

/* ------------------------------------------------------------------------- */
/* Registration                                                                */
/* ------------------------------------------------------------------------- */

void tierRegister(void) {
    configRegisterDirectives(tier_configs, sizeof(tier_configs) / sizeof(tier_configs[0]));
    infoRegisterSection("flash", infoFlash, INFO_IN_DEFAULT | INFO_IN_ALL);
    tierCreateTables();
    tierInstallObjectHooks();
}
