/* memory.c -- the MEMORY command family and the memory accounting INFO shares.
 *
 * The accounting splits zmalloc's used memory into overhead (the memory in use at
 * start-up, client structures and buffers, the keyspace tables and the key object
 * headers) and the dataset (everything else). The allocator's own statistics and the
 * process RSS give the fragmentation ratios: allocated -> active (allocator
 * fragmentation), active -> resident (allocator RSS overhead), resident -> RSS
 * (non-allocator RSS overhead), and used memory -> RSS overall.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "memory.h"
#include "db.h"
#include "info.h"
#include "networking.h"
#include "object.h"
#include "replication.h"
#include "server.h"
#include "zmalloc.h"

/* A keyspace hashtable bucket is one cache line (see hashtable.h). */
#define MEMORY_HT_BUCKET_BYTES 64
/* MEMORY DOCTOR thresholds. */
#define DOCTOR_MIN_USED_MEMORY (5 * 1024 * 1024)
#define DOCTOR_PEAK_RATIO 1.5
#define DOCTOR_FRAG_RATIO 1.4
#define DOCTOR_ALLOC_RATIO 1.1
#define DOCTOR_MIN_WASTE_BYTES (10 << 20)
#define DOCTOR_CLIENT_BYTES (200 * 1024)

size_t memoryClientsUsage(void) {
    size_t total = 0;
    if (!server.clients) return 0;
    listIter li;
    listNode *ln;
    listRewind(server.clients, &li);
    while ((ln = listNext(&li)) != NULL) {
        client *c = listNodeValue(ln);
        if (c->flags & CLIENT_REPLICA) continue;
        total += getClientMemoryUsage(c, NULL);
    }
    return total;
}

static float ratioOf(size_t num, size_t den) {
    return den ? (float)num / den : 0;
}

/* Reads the allocator's and the kernel's numbers into mh. With an allocator that
 * reports nothing (libc), each level falls back to the one it should be close to. */
static void readAllocatorStats(serverMemOverhead *mh, size_t used) {
    size_t allocated = 0, active = 0, resident = 0, retained = 0, muzzy = 0, frag_smallbins = 0;
    zmalloc_get_allocator_info(&allocated, &active, &resident, &retained, &muzzy, &frag_smallbins);
    size_t rss = zmalloc_get_rss();
    if (!allocated) allocated = used;
    if (!active) active = allocated;
    if (!resident) resident = rss ? rss : active;
    mh->allocator_allocated = allocated;
    mh->allocator_active = active;
    mh->allocator_resident = resident;
    mh->allocator_muzzy = muzzy;
    mh->allocator_frag_smallbins = frag_smallbins;
    mh->process_rss = rss;
    mh->allocator_frag = ratioOf(frag_smallbins, allocated) + 1;
    mh->allocator_frag_bytes = (long long)frag_smallbins;
    mh->allocator_rss = ratioOf(resident, active);
    mh->allocator_rss_bytes = (long long)resident - (long long)active;
    mh->rss_extra = ratioOf(rss, resident);
    mh->rss_extra_bytes = (long long)rss - (long long)resident;
    mh->total_frag = ratioOf(rss, used);
    mh->total_frag_bytes = (long long)rss - (long long)used;
}

static void addTableOverhead(serverMemOverhead *mh, hashtable *ht) {
    if (!ht) return;
    mh->overhead_db_hashtable_lut += hashtableMemUsage(ht);
    if (hashtableIsRehashing(ht)) {
        size_t from = 0, to = 0;
        hashtableRehashingInfo(ht, &from, &to);
        mh->overhead_db_hashtable_rehashing += from * MEMORY_HT_BUCKET_BYTES;
        mh->db_dict_rehashing_count++;
    }
}

serverMemOverhead *getMemoryOverheadData(void) {
    size_t used = zmalloc_used_memory();
    serverMemOverhead *mh = zcalloc(sizeof(*mh));
    if (used > server.stat_peak_memory) server.stat_peak_memory = used;

    mh->total_allocated = used;
    mh->startup_allocated = infoStartupMemory();
    mh->peak_allocated = server.stat_peak_memory;
    readAllocatorStats(mh, used);

    size_t total = mh->startup_allocated;
    mh->clients_normal = memoryClientsUsage();
    total += mh->clients_normal;
    mh->clients_replicas = replicationReplicaClientsMemory();
    mh->repl_backlog = replicationBacklogMemory();
    total += mh->clients_replicas + mh->repl_backlog;
    /* Cluster, AOF and scripting buffers are not counted here yet. */

    for (int j = 0; server.db && j < server.dbnum; j++) {
        serverDb *db = &server.db[j];
        size_t keys = db->keys ? hashtableSize(db->keys) : 0;
        if (keys == 0) continue;
        mh->db = zrealloc(mh->db, sizeof(mh->db[0]) * (mh->num_dbs + 1));
        memoryDbOverhead *d = &mh->db[mh->num_dbs++];
        d->dbid = j;
        d->overhead_ht_main = hashtableMemUsage(db->keys) + keys * sizeof(robj);
        d->overhead_ht_expires = db->expires ? hashtableMemUsage(db->expires) : 0;
        total += d->overhead_ht_main + d->overhead_ht_expires;
        mh->total_keys += keys;
        addTableOverhead(mh, db->keys);
        addTableOverhead(mh, db->expires);
    }

    mh->overhead_total = total;
    mh->dataset = used > total ? used - total : 0;
    mh->peak_perc = ratioOf(used, mh->peak_allocated) * 100;
    size_t net = used > mh->startup_allocated ? used - mh->startup_allocated : 1;
    mh->dataset_perc = (float)mh->dataset * 100 / net;
    mh->bytes_per_key = mh->total_keys ? mh->dataset / mh->total_keys : 0;
    return mh;
}

void freeMemoryOverheadData(serverMemOverhead *mh) {
    zfree(mh->db);
    zfree(mh);
}

/* ------------------------------------------------------------------------- */
/* MEMORY DOCTOR                                                              */
/* ------------------------------------------------------------------------- */

sds getMemoryDoctorReport(void) {
    serverMemOverhead *mh = getMemoryOverheadData();
    sds s;
    if (mh->total_allocated < DOCTOR_MIN_USED_MEMORY) {
        s = sdsnew("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be "
                   "used in these conditions. Come back once it holds some data and I will have a look.\n");
        freeMemoryOverheadData(mh);
        return s;
    }
    sds issues = sdsempty();
    if ((float)mh->peak_allocated / mh->total_allocated > DOCTOR_PEAK_RATIO)
        issues = sdscat(issues, " * Peak memory: the peak usage is more than 150% of the memory used now. The "
                                "allocator rarely returns memory after a peak, so a high fragmentation ratio is "
                                "expected and harmless; the space will be reused as data grows. MEMORY PURGE may "
                                "reclaim some of it.\n\n");
    if (mh->total_frag > DOCTOR_FRAG_RATIO && mh->total_frag_bytes > DOCTOR_MIN_WASTE_BYTES)
        issues = sdscatprintf(issues,
                              " * High total RSS: the process RSS is more than 1.4 times the memory the server "
                              "allocated. Unless it follows a memory peak, the workload fragments memory a lot. "
                              "The allocator in use is \"%s\".\n\n",
                              ZMALLOC_LIB);
    if (mh->allocator_frag > DOCTOR_ALLOC_RATIO && mh->allocator_frag_bytes > DOCTOR_MIN_WASTE_BYTES)
        issues = sdscat(issues, " * High allocator fragmentation: the allocator's free space inside used pages "
                                "exceeds 10% of the allocations. Active defragmentation can help.\n\n");
    if (mh->allocator_rss > DOCTOR_ALLOC_RATIO && mh->allocator_rss_bytes > DOCTOR_MIN_WASTE_BYTES)
        issues = sdscat(issues, " * High allocator RSS overhead: the allocator keeps much more resident memory "
                                "than it has active, usually after a memory peak. MEMORY PURGE may reclaim it.\n\n");
    if (mh->rss_extra > DOCTOR_ALLOC_RATIO && mh->rss_extra_bytes > DOCTOR_MIN_WASTE_BYTES)
        issues = sdscat(issues, " * High process RSS overhead: the process holds much more resident memory than "
                                "the allocator does.\n\n");
    unsigned long clients = server.clients ? listLength(server.clients) : 0;
    if (clients && mh->clients_normal / clients > DOCTOR_CLIENT_BYTES)
        issues = sdscat(issues, " * Big client buffers: clients use more than 200K each on average, for example "
                                "slow Pub/Sub readers or large pipelines. CLIENT LIST shows which ones.\n\n");
    if (sdslen(issues) == 0) {
        s = sdsnew("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs "
                   "on this base.\n");
    } else {
        s = sdsnew("Sam, I detected a few issues in this Valkey instance memory implants:\n\n");
        s = sdscatsds(s, issues);
        s = sdscat(s, "I'm here to keep you safe, Sam. I want to help you.\n");
    }
    sdsfree(issues);
    freeMemoryOverheadData(mh);
    return s;
}

/* ------------------------------------------------------------------------- */
/* Commands                                                                   */
/* ------------------------------------------------------------------------- */

/* MEMORY USAGE key [SAMPLES count] */
void memoryUsageCommand(client *c) {
    long long samples = OBJ_COMPUTE_SIZE_DEF_SAMPLES;
    for (int j = 3; j < c->argc; j++) {
        if (!strcasecmp(objectGetVal(c->argv[j]), "samples") && j + 1 < c->argc) {
            if (getLongLongFromObjectOrReply(c, c->argv[j + 1], &samples, NULL) != C_OK) return;
            if (samples < 0) {
                addReplyErrorObject(c, shared.syntaxerr);
                return;
            }
            if (samples == 0) samples = LLONG_MAX;
            j++;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    robj *o = dbFind(c->db, objectGetVal(c->argv[2]));
    if (o == NULL) {
        addReplyNull(c);
        return;
    }
    size_t usage = objectComputeSize(c->argv[2], o, (size_t)samples, c->db->id);
    /* The entry's slot in the keys table; a key not embedded in its object is extra. */
    usage += sizeof(void *);
    if (objectGetKey(o) == NULL) usage += sdsReqSize(stringObjectLen(c->argv[2]), sdsReqType(stringObjectLen(c->argv[2])));
    addReplyLongLong(c, (long long)usage);
}

static void addReplyStatLong(client *c, const char *name, long long v) {
    addReplyBulkCString(c, name);
    addReplyLongLong(c, v);
}

static void addReplyStatDouble(client *c, const char *name, float v) {
    addReplyBulkCString(c, name);
    addReplyDouble(c, v);
}

void memoryStatsCommand(client *c) {
    serverMemOverhead *mh = getMemoryOverheadData();
    addReplyMapLen(c, 31 + (long)mh->num_dbs);
    addReplyStatLong(c, "peak.allocated", mh->peak_allocated);
    addReplyStatLong(c, "total.allocated", mh->total_allocated);
    addReplyStatLong(c, "startup.allocated", mh->startup_allocated);
    addReplyStatLong(c, "replication.backlog", mh->repl_backlog);
    addReplyStatLong(c, "clients.slaves", mh->clients_replicas);
    addReplyStatLong(c, "clients.normal", mh->clients_normal);
    addReplyStatLong(c, "cluster.links", mh->cluster_links);
    addReplyStatLong(c, "aof.buffer", mh->aof_buffer);
    addReplyStatLong(c, "lua.caches", mh->lua_caches);
    addReplyStatLong(c, "functions.caches", mh->functions_caches);
    for (size_t j = 0; j < mh->num_dbs; j++) {
        char name[32];
        snprintf(name, sizeof(name), "db.%d", mh->db[j].dbid);
        addReplyBulkCString(c, name);
        addReplyMapLen(c, 2);
        addReplyStatLong(c, "overhead.hashtable.main", mh->db[j].overhead_ht_main);
        addReplyStatLong(c, "overhead.hashtable.expires", mh->db[j].overhead_ht_expires);
    }
    addReplyStatLong(c, "overhead.db.hashtable.lut", mh->overhead_db_hashtable_lut);
    addReplyStatLong(c, "overhead.db.hashtable.rehashing", mh->overhead_db_hashtable_rehashing);
    addReplyStatLong(c, "overhead.total", mh->overhead_total);
    addReplyStatLong(c, "db.dict.rehashing.count", mh->db_dict_rehashing_count);
    addReplyStatLong(c, "keys.count", mh->total_keys);
    addReplyStatLong(c, "keys.bytes-per-key", mh->bytes_per_key);
    addReplyStatLong(c, "dataset.bytes", mh->dataset);
    addReplyStatDouble(c, "dataset.percentage", mh->dataset_perc);
    addReplyStatDouble(c, "peak.percentage", mh->peak_perc);
    addReplyStatLong(c, "allocator.allocated", mh->allocator_allocated);
    addReplyStatLong(c, "allocator.active", mh->allocator_active);
    addReplyStatLong(c, "allocator.resident", mh->allocator_resident);
    addReplyStatLong(c, "allocator.muzzy", mh->allocator_muzzy);
    addReplyStatDouble(c, "allocator-fragmentation.ratio", mh->allocator_frag);
    addReplyStatLong(c, "allocator-fragmentation.bytes", mh->allocator_frag_bytes);
    addReplyStatDouble(c, "allocator-rss.ratio", mh->allocator_rss);
    addReplyStatLong(c, "allocator-rss.bytes", mh->allocator_rss_bytes);
    addReplyStatDouble(c, "rss-overhead.ratio", mh->rss_extra);
    addReplyStatLong(c, "rss-overhead.bytes", mh->rss_extra_bytes);
    addReplyStatDouble(c, "fragmentation", mh->total_frag);
    addReplyStatLong(c, "fragmentation.bytes", mh->total_frag_bytes);
    freeMemoryOverheadData(mh);
}

void memoryDoctorCommand(client *c) {
    sds report = getMemoryDoctorReport();
    addReplyVerbatim(c, report, sdslen(report), "txt");
    sdsfree(report);
}

#if defined(USE_JEMALLOC)
static void appendToSds(void *opaque, const char *text) {
    sds *s = opaque;
    *s = sdscat(*s, text);
}
#endif

void memoryMallocStatsCommand(client *c) {
#if defined(USE_JEMALLOC)
    sds stats = sdsempty();
    malloc_stats_print(appendToSds, &stats, NULL);
    addReplyVerbatim(c, stats, sdslen(stats), "txt");
    sdsfree(stats);
#else
    addReplyBulkCString(c, "Stats not supported for the current allocator");
#endif
}

void memoryPurgeCommand(client *c) {
    if (jemalloc_purge() == 0)
        addReply(c, shared.ok);
    else
        addReplyError(c, "Error purging dirty pages");
}

void memoryHelpCommand(client *c) {
    static const char *help[] = {
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        NULL};
    addReplyHelp(c, help);
}
