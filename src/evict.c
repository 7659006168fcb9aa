/* evict.c -- key eviction under maxmemory and client eviction under maxmemory-clients.
 *
 * See evict.h for the policies and the split between choosing victims and acting on
 * them. How the pieces fit:
 *
 *   processCommand, end of a client read -> evictionClientMemoryChanged -> evictClients
 *   processCommand -> performEvictions -> evictionSelectVictims -> pool / random pick
 *                                     \-> evictVictim (delete, notify, propagate)
 *   eviction timer (when a call ran out of time), serverCron -> performEvictions
 *
 * The candidate pool keeps up to EVICTION_POOL_SIZE (db, key, score) entries sorted by
 * score, the best victim last. It stores key names, not object pointers: objects may be
 * freed or reallocated between calls, so an entry is looked up again when it is taken,
 * dropped when its key is gone, and put back with its current score when the key was
 * accessed since it was sampled (so a hot key seen just before its next read is spared).
 * Each slot owns a reusable sds buffer, so steady-state eviction allocates nothing for
 * the pool.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evict.h"
#include "tier/tier.h"
#include "ae.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "latency.h"
#include "monotonic.h"
#include "multi.h"
#include "networking.h"
#include "notify.h"
#include "server.h"
#include "zmalloc.h"

#define EVICTION_POOL_SIZE 16
/* Pool key buffers bigger than this are freed instead of kept for reuse. */
#define EVICTION_POOL_KEY_KEEP 255
#define EVICTION_SAMPLES_MIN 1
#define EVICTION_SAMPLES_MAX 64
#define EVICTION_SAMPLES_DEFAULT 5
/* Deleted keys between two checks of the clock (and of memory, with lazy eviction). */
#define EVICTION_CHECK_INTERVAL_KEYS 16
/* Populate-and-pick rounds without finding a victim before selection gives up. */
#define EVICTION_MAX_EMPTY_ROUNDS 16
/* Time budget of one performEvictions() call from maxmemory-eviction-tenacity: linear up to
 * the default, then growing 15% per step, unlimited at the maximum. */
#define EVICTION_TENACITY_DEFAULT 10
#define EVICTION_TENACITY_MAX 100
#define EVICTION_US_PER_TENACITY 50
#define EVICTION_TENACITY_GROWTH 1.15
/* How long to sleep between checks while waiting for the lazy-free thread. */
#define EVICTION_LAZYFREE_POLL_US 1000
#define LFU_COUNTER_MAX 255
#define LFU_LOG_FACTOR_DEFAULT 10
#define LFU_DECAY_TIME_DEFAULT 1
/* A smaller maxmemory-clients would leave no room to even talk to the server. */
#define CLIENT_EVICTION_MIN_LIMIT (128 * 1024)
#define MAXMEMORY_CLIENTS_MIN_PERCENT -100
#define NOT_COUNTED_PROCS_MAX 8

/* Provided by replication when it is linked in. */
int replicaIgnoresMaxmemory(void) __attribute__((weak));

/* ------------------------------------------------------------------------- */
/* Configuration                                                              */
/* ------------------------------------------------------------------------- */

static struct {
    int tenacity;
    long long maxmemory_clients; /* bytes, or minus a percentage of maxmemory */
} evict_conf;

static void startEvictionTimer(void);
static void trackExceededTime(int result);
static void refreshAllClientsMemory(void);

static int applyMaxmemory(const char **err) {
    (void)err;
    if (!server.maxmemory) {
        trackExceededTime(EVICT_OK); /* no limit, nothing exceeded */
        return 1;
    }
    size_t counted = zmalloc_used_memory();
    size_t not_counted = freeMemoryGetNotCountedMemory();
    counted = counted > not_counted ? counted - not_counted : 0;
    if (server.maxmemory < counted)
        serverLog(LL_WARNING,
                  "WARNING: the new maxmemory value set via CONFIG SET (%llu) is smaller than the current memory "
                  "usage (%zu). This will result in key eviction and/or the inability to accept new write "
                  "commands depending on the maxmemory-policy.",
                  server.maxmemory, counted);
    startEvictionTimer();
    return 1;
}

static int applyMaxmemoryClients(const char **err) {
    (void)err;
    if (getClientEvictionLimit()) refreshAllClientsMemory();
    return 1;
}

static const configEnum maxmemory_policy_enum[] = {
    {"volatile-lru", MAXMEMORY_VOLATILE_LRU},
    {"volatile-lfu", MAXMEMORY_VOLATILE_LFU},
    {"volatile-random", MAXMEMORY_VOLATILE_RANDOM},
    {"volatile-ttl", MAXMEMORY_VOLATILE_TTL},
    {"allkeys-lru", MAXMEMORY_ALLKEYS_LRU},
    {"allkeys-lfu", MAXMEMORY_ALLKEYS_LFU},
    {"allkeys-random", MAXMEMORY_ALLKEYS_RANDOM},
    {"noeviction", MAXMEMORY_NO_EVICTION},
    {NULL, 0},
};

#define EVICT_INT_CONFIG(nm, f, lo, hi, def)                                                                       \
    {.name = nm,                                                                                                   \
     .type = CONFIG_TYPE_NUMERIC,                                                                                  \
     .field = f,                                                                                                   \
     .u.num = {.storage = CONFIG_NUM_INT, .format = CONFIG_FMT_INTEGER, .min = lo, .max = hi, .dflt = def}}

static const configDirective evict_configs[] = {
    {.name = "maxmemory",
     .alias = "flash.cache-size-bytes", /* valkey-flash's name for the RAM of the hot tier */
     .type = CONFIG_TYPE_NUMERIC,
     .field = &server.maxmemory,
     .u.num = {.storage = CONFIG_NUM_ULONG_LONG, .format = CONFIG_FMT_MEMORY, .min = 0, .max = LLONG_MAX, .dflt = 0},
     .apply = applyMaxmemory},
    {.name = "maxmemory-policy",
     .type = CONFIG_TYPE_ENUM,
     .field = &server.maxmemory_policy,
     .u.en = {.values = maxmemory_policy_enum, .dflt = MAXMEMORY_NO_EVICTION}},
    EVICT_INT_CONFIG("maxmemory-samples", &server.maxmemory_samples, EVICTION_SAMPLES_MIN, EVICTION_SAMPLES_MAX,
                     EVICTION_SAMPLES_DEFAULT),
    EVICT_INT_CONFIG("maxmemory-eviction-tenacity", &evict_conf.tenacity, 0, EVICTION_TENACITY_MAX,
                     EVICTION_TENACITY_DEFAULT),
    EVICT_INT_CONFIG("lfu-log-factor", &server.lfu_log_factor, 0, INT_MAX, LFU_LOG_FACTOR_DEFAULT),
    EVICT_INT_CONFIG("lfu-decay-time", &server.lfu_decay_time, 0, INT_MAX, LFU_DECAY_TIME_DEFAULT),
    {.name = "maxmemory-clients",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &evict_conf.maxmemory_clients,
     .u.num = {.storage = CONFIG_NUM_LONG_LONG,
               .format = CONFIG_FMT_PERCENT,
               .min = MAXMEMORY_CLIENTS_MIN_PERCENT,
               .max = LLONG_MAX,
               .dflt = 0},
     .apply = applyMaxmemoryClients},
};

void evictRegister(void) {
    configRegisterDirectives(evict_configs, sizeof(evict_configs) / sizeof(evict_configs[0]));
}

/* ------------------------------------------------------------------------- */
/* Memory state                                                               */
/* ------------------------------------------------------------------------- */

static evictionNotCountedProc not_counted_procs[NOT_COUNTED_PROCS_MAX];
static int not_counted_procs_num;

void evictionRegisterNotCountedMemoryProc(evictionNotCountedProc proc) {
    serverAssert(not_counted_procs_num < NOT_COUNTED_PROCS_MAX);
    not_counted_procs[not_counted_procs_num++] = proc;
}

size_t freeMemoryGetNotCountedMemory(void) {
    size_t total = 0;
    for (int j = 0; j < not_counted_procs_num; j++) total += not_counted_procs[j]();
    return total;
}

int getMaxmemoryState(size_t *total, size_t *logical, size_t *tofree, float *level) {
    size_t used = zmalloc_used_memory();
    if (total) *total = used;
    if (tofree) *tofree = 0;
    if (!server.maxmemory) {
        if (logical) *logical = used;
        if (level) *level = 0;
        return C_OK;
    }
    /* The common case costs one atomic read. */
    if (used <= server.maxmemory && !logical && !level) return C_OK;
    size_t not_counted = freeMemoryGetNotCountedMemory();
    size_t counted = used > not_counted ? used - not_counted : 0;
    if (logical) *logical = counted;
    if (level) *level = (float)counted / (float)server.maxmemory;
    if (counted <= server.maxmemory) return C_OK;
    if (tofree) *tofree = counted - server.maxmemory;
    return C_ERR;
}

/* ------------------------------------------------------------------------- */
/* The candidate pool                                                         */
/* ------------------------------------------------------------------------- */

typedef struct poolEntry {
    unsigned long long score; /* higher is a better victim */
    int dbid;
    sds key; /* owned buffer; also kept by unused slots, for reuse */
} poolEntry;

static struct {
    poolEntry entries[EVICTION_POOL_SIZE]; /* [0, used) sorted by score, ascending */
    int used;
    /* What the scores were computed for: the pool is emptied when a caller asks for
     * another policy or filter. */
    int policy;
    evictionFilterProc filter;
    void *privdata;
} pool;

static void poolClear(void) {
    pool.used = 0;
}

static void poolPrepare(int policy, evictionFilterProc filter, void *privdata) {
    if (pool.policy == policy && pool.filter == filter && pool.privdata == privdata) return;
    poolClear();
    pool.policy = policy;
    pool.filter = filter;
    pool.privdata = privdata;
}

static void poolInsert(int dbid, sds key, unsigned long long score) {
    poolEntry *e = pool.entries;
    int used = pool.used;
    sds buf;
    if (used == EVICTION_POOL_SIZE) {
        if (score <= e[0].score) return; /* worse than everything kept */
        buf = e[0].key;
        memmove(e, e + 1, sizeof(*e) * (used - 1));
        used--;
    } else {
        buf = e[used].key;
    }
    int k = used;
    while (k > 0 && e[k - 1].score > score) k--;
    memmove(e + k + 1, e + k, sizeof(*e) * (used - k));
    e[k].score = score;
    e[k].dbid = dbid;
    e[k].key = buf ? sdscpylen(buf, key, sdslen(key)) : sdsnewlen(key, sdslen(key));
    pool.used = used + 1;
}

/* The score of an entry under a pool policy (LRU, LFU or volatile-ttl). */
static unsigned long long victimScore(int policy, const robj *o) {
    if (policy & MAXMEMORY_FLAG_LRU) return estimateObjectIdleTime(o);
    if (policy & MAXMEMORY_FLAG_LFU) return LFU_COUNTER_MAX - LFUDecrAndReturn(o);
    return ULLONG_MAX - (unsigned long long)objectGetExpire(o); /* the sooner, the better */
}

static void poolPopulate(serverDb *db, hashtable *ht) {
    void *samples[EVICTION_SAMPLES_MAX];
    int count = server.maxmemory_samples;
    if (count < EVICTION_SAMPLES_MIN) count = EVICTION_SAMPLES_MIN;
    if (count > EVICTION_SAMPLES_MAX) count = EVICTION_SAMPLES_MAX;
    unsigned got = hashtableSampleEntries(ht, samples, (unsigned)count);
    for (unsigned j = 0; j < got; j++) {
        robj *o = samples[j];
        if (pool.filter && !pool.filter(db, o, pool.privdata)) continue;
        poolInsert(db->id, objectGetKey(o), victimScore(pool.policy, o));
    }
}

static int victimTaken(const evictionVictim *taken, int n, const robj *o) {
    for (int j = 0; j < n; j++)
        if (taken[j].val == o) return 1;
    return 0;
}

/* Takes the best entry that still exists and qualifies; NULL when the pool runs dry. */
static robj *poolTakeBest(int allkeys, serverDb **dbp, const evictionVictim *taken, int ntaken) {
    while (pool.used > 0) {
        poolEntry *e = &pool.entries[--pool.used];
        serverDb *db = &server.db[e->dbid];
        void *found;
        int present = hashtableFind(allkeys ? db->keys : db->expires, e->key, &found);
        if (sdsalloc(e->key) > EVICTION_POOL_KEY_KEEP) {
            sdsfree(e->key);
            e->key = NULL;
        }
        if (!present) continue; /* deleted (or made persistent) since it was sampled */
        robj *o = found;
        if (victimTaken(taken, ntaken, o)) continue;
        if (pool.filter && !pool.filter(db, o, pool.privdata)) continue;
        /* Accessed since it was sampled (a hot key caught just before its next read):
         * its place is taken by the entries now better than it, if any. */
        unsigned long long score = victimScore(pool.policy, o);
        if (score < e->score && pool.used > 0 && pool.entries[pool.used - 1].score > score) {
            poolInsert(db->id, objectGetKey(o), score);
            continue;
        }
        *dbp = db;
        return o;
    }
    return NULL;
}

static int selectFromPool(evictionVictim *out, int max) {
    int allkeys = (pool.policy & MAXMEMORY_FLAG_ALLKEYS) != 0;
    int n = 0, empty_rounds = 0;
    while (n < max && empty_rounds < EVICTION_MAX_EMPTY_ROUNDS) {
        size_t candidates = 0;
        for (int j = 0; j < server.dbnum; j++) {
            serverDb *db = &server.db[j];
            hashtable *ht = allkeys ? db->keys : db->expires;
            size_t size = hashtableSize(ht);
            if (size == 0) continue;
            poolPopulate(db, ht);
            candidates += size;
        }
        if (candidates == 0) break;
        serverDb *db;
        robj *o = poolTakeBest(allkeys, &db, out, n);
        if (!o) {
            empty_rounds++;
            continue;
        }
        out[n++] = (evictionVictim){.db = db, .val = o};
        empty_rounds = 0;
    }
    return n;
}

/* ------------------------------------------------------------------------- */
/* Choosing victims                                                           */
/* ------------------------------------------------------------------------- */

/* Random policies visit the databases in turn, one key each. */
static int selectRandom(int policy, evictionVictim *out, int max, evictionFilterProc filter, void *privdata) {
    static unsigned int next_db = 0;
    int allkeys = (policy & MAXMEMORY_FLAG_ALLKEYS) != 0;
    int n = 0;
    for (int tries = 0; n < max && tries < max + EVICTION_MAX_EMPTY_ROUNDS; tries++) {
        serverDb *db = NULL;
        for (int j = 0; j < server.dbnum && !db; j++) {
            serverDb *candidate = &server.db[next_db++ % (unsigned)server.dbnum];
            if (hashtableSize(allkeys ? candidate->keys : candidate->expires)) db = candidate;
        }
        if (!db) break; /* nothing left of this class */
        void *found;
        if (!hashtableFairRandomEntry(allkeys ? db->keys : db->expires, &found)) continue;
        robj *o = found;
        if (victimTaken(out, n, o)) continue;
        if (filter && !filter(db, o, privdata)) continue;
        out[n++] = (evictionVictim){.db = db, .val = o};
    }
    return n;
}

int evictionSelectVictims(evictionVictim *out, int max, const evictionSelectOptions *opts) {
    int policy = opts && opts->policy ? opts->policy : server.maxmemory_policy;
    evictionFilterProc filter = opts ? opts->filter : NULL;
    void *privdata = opts ? opts->privdata : NULL;
    if (max <= 0 || policy == MAXMEMORY_NO_EVICTION) return 0;
    if (policy == MAXMEMORY_ALLKEYS_RANDOM || policy == MAXMEMORY_VOLATILE_RANDOM)
        return selectRandom(policy, out, max, filter, privdata);
    poolPrepare(policy, filter, privdata);
    return selectFromPool(out, max);
}

/* ------------------------------------------------------------------------- */
/* Evicting keys                                                              */
/* ------------------------------------------------------------------------- */

static int eviction_timer_armed = 0;
static int exceeded = 0;          /* over maxmemory since exceeded_since */
static monotime exceeded_since;

/* Eviction is suspended while loading, while events are served from inside a long
 * operation, on replicas that mirror their primary, and while clients are paused (the
 * dataset must not change then). */
static int evictionAllowedNow(void) {
    if (server.loading || isProcessingEventsWhileBlocked()) return 0;
    if (replicaIgnoresMaxmemory && replicaIgnoresMaxmemory()) return 0;
    if (server.pause_type != CLIENT_PAUSE_OFF && checkClientPauseTimeoutAndReturnIfPaused()) return 0;
    return 1;
}

static uint64_t evictionTimeLimitUs(void) {
    int tenacity = evict_conf.tenacity;
    if (tenacity <= EVICTION_TENACITY_DEFAULT) return (uint64_t)EVICTION_US_PER_TENACITY * tenacity;
    if (tenacity < EVICTION_TENACITY_MAX)
        return (uint64_t)(EVICTION_US_PER_TENACITY * EVICTION_TENACITY_DEFAULT *
                          pow(EVICTION_TENACITY_GROWTH, tenacity - EVICTION_TENACITY_DEFAULT));
    return UINT64_MAX;
}

static void propagateEviction(serverDb *db, robj *key) {
    robj *argv[2] = {server.lazyfree_lazy_eviction ? shared.unlink : shared.del, key};
    alsoPropagate(db->id, argv, 2, CMD_CALL_PROPAGATE);
}

/* Deletes the victim's key; returns the bytes this released at once (a value handed to
 * the lazy-free thread is released later). */
static long long evictVictim(const evictionVictim *v) {
    serverDb *db = v->db;
    sds name = objectGetKey(v->val);
    robj *key = createStringObject(name, sdslen(name));
    long long before = (long long)zmalloc_used_memory();
    monotime start = getMonotonicUs();
    dbGenericDelete(db, key, server.lazyfree_lazy_eviction, DB_FLAG_KEY_EVICTED);
    latencyAddSampleIfNeeded("eviction-del", (long long)elapsedMs(start));
    long long freed = before - (long long)zmalloc_used_memory();
    server.stat_evictedkeys++;
    signalModifiedKey(NULL, db, key);
    notifyKeyspaceEvent(NOTIFY_EVICTED, "evicted", key, db->id);
    propagateEviction(db, key);
    decrRefCount(key);
    return freed;
}

/* Out of candidates: values queued on the lazy-free thread may still bring memory under
 * the limit, so wait for them a little, within the time budget. */
static int waitForLazyFree(monotime start, uint64_t budget) {
    monotime wait_start = getMonotonicUs();
    while (lazyfreeGetPendingObjectsCount() && elapsedUs(start) < budget) {
        if (getMaxmemoryState(NULL, NULL, NULL, NULL) == C_OK) break;
        usleep(budget < EVICTION_LAZYFREE_POLL_US ? (useconds_t)budget : EVICTION_LAZYFREE_POLL_US);
    }
    latencyAddSampleIfNeeded("eviction-lazyfree", (long long)elapsedMs(wait_start));
    return getMaxmemoryState(NULL, NULL, NULL, NULL) == C_OK ? EVICT_OK : EVICT_FAIL;
}

static int evictKeys(size_t tofree) {
    uint64_t budget = evictionTimeLimitUs();
    monotime start = getMonotonicUs();
    long long freed = 0;
    unsigned long evicted = 0;
    int result = EVICT_OK;
    while (freed < (long long)tofree) {
        evictionVictim victim;
        if (evictionSelectVictims(&victim, 1, NULL) == 0) {
            result = waitForLazyFree(start, budget);
            break;
        }
        freed += evictVictim(&victim);
        if (++evicted % EVICTION_CHECK_INTERVAL_KEYS) continue;
        /* The lazy-free thread releases memory the deltas above do not see. */
        if (server.lazyfree_lazy_eviction && getMaxmemoryState(NULL, NULL, NULL, NULL) == C_OK) break;
        if (elapsedUs(start) > budget) {
            startEvictionTimer();
            result = EVICT_RUNNING;
            break;
        }
    }
    latencyAddSampleIfNeeded("eviction-cycle", (long long)elapsedMs(start));
    return result;
}

static void trackExceededTime(int result) {
    if (result == EVICT_OK) {
        if (exceeded) server.stat_total_eviction_exceeded_time += (long long)elapsedUs(exceeded_since);
        exceeded = 0;
    } else if (!exceeded) {
        exceeded = 1;
        exceeded_since = getMonotonicUs();
    }
}

/* With tiering, values move to flash from a watermark below maxmemory; keys are deleted
 * (or commands refused) only when flash cannot take more. */
static int tierEvictionResult(int *result) {
    switch (tierEvict()) {
    case TIER_EVICT_OK: *result = EVICT_OK; return 1;
    case TIER_EVICT_RUNNING: *result = EVICT_RUNNING; return 1;
    case TIER_EVICT_WAIT: *result = EVICT_WAIT; return 1;
    default: return 0;
    }
}

int performEvictions(void) {
    /* Every command comes here when maxmemory is set: the usual answer costs one read. */
    size_t trigger = server.maxmemory;
    size_t demote_at = tierDemotionThreshold();
    if (demote_at) trigger = demote_at;
    if (!exceeded && (!server.maxmemory || zmalloc_used_memory() <= trigger)) return EVICT_OK;
    if (!evictionAllowedNow()) return EVICT_OK; /* not measured: as if nothing was asked */
    size_t tofree;
    int result;
    if (demote_at && tierEvictionResult(&result)) {
        trackExceededTime(result == EVICT_OK ? EVICT_OK : EVICT_RUNNING);
        return result;
    }
    if (getMaxmemoryState(NULL, NULL, &tofree, NULL) == C_OK)
        result = EVICT_OK;
    else if (server.maxmemory_policy == MAXMEMORY_NO_EVICTION)
        result = EVICT_FAIL;
    else
        result = evictKeys(tofree);
    trackExceededTime(result);
    return result;
}

static long long evictionTimerProc(struct aeEventLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    (void)data;
    if (performEvictions() == EVICT_RUNNING) return 0; /* again on the next loop turn */
    eviction_timer_armed = 0;
    return AE_NOMORE;
}

static void startEvictionTimer(void) {
    if (eviction_timer_armed || !server.el) return;
    if (aeCreateTimeEvent(server.el, 0, evictionTimerProc, NULL, NULL) != AE_ERR) eviction_timer_armed = 1;
}

int evictionCommandDeniedOnOOM(client *c) {
    if (c->cmd->flags & CMD_DENYOOM) return 1;
    if (!(c->flags & CLIENT_MULTI) || c->cmd->proc != execCommand) return 0;
    return (multiQueuedCommandFlags(c) & CMD_DENYOOM) != 0;
}

long long evictionCurrentExceededTimeUs(void) {
    return exceeded ? (long long)elapsedUs(exceeded_since) : 0;
}

long long evictionTotalExceededTimeUs(void) {
    return server.stat_total_eviction_exceeded_time + evictionCurrentExceededTimeUs();
}

/* ------------------------------------------------------------------------- */
/* Evicting clients                                                           */
/* ------------------------------------------------------------------------- */

/* While only unevictable clients keep the total over the limit, scanning again cannot
 * help: the total seen at the last such scan is remembered, and scans resume when the
 * total grows beyond it or the cron clears it. */
static size_t fruitless_scan_total = 0;

size_t getClientEvictionLimit(void) {
    long long conf = evict_conf.maxmemory_clients;
    unsigned long long limit;
    if (conf > 0)
        limit = (unsigned long long)conf;
    else if (conf < 0 && server.maxmemory)
        limit = (unsigned long long)((double)server.maxmemory * (double)-conf / 100);
    else
        return 0;
    if (limit < CLIENT_EVICTION_MIN_LIMIT) limit = CLIENT_EVICTION_MIN_LIMIT;
    return limit > SIZE_MAX ? SIZE_MAX : (size_t)limit;
}

int clientEvictionAllowed(client *c) {
    if (c->fd == -1 || (c->flags & (CLIENT_NO_EVICT | CLIENT_FAKE))) return 0;
    int type = getClientType(c);
    return type == CLIENT_TYPE_NORMAL || type == CLIENT_TYPE_PUBSUB;
}

static size_t clientsTrackedMemory(void) {
    return server.stat_clients_type_memory[CLIENT_TYPE_NORMAL] + server.stat_clients_type_memory[CLIENT_TYPE_PUBSUB];
}

/* A client on its way out stops counting at once, so the check above sees the total
 * that will remain; freeClient() then subtracts nothing more. */
static void forgetClientMemory(client *c) {
    server.stat_clients_type_memory[c->last_memory_type] -= c->last_memory_usage;
    c->last_memory_usage = 0;
}

static void refreshAllClientsMemory(void) {
    listIter li;
    listNode *ln;
    listRewind(server.clients, &li);
    while ((ln = listNext(&li)) != NULL) {
        client *c = listNodeValue(ln);
        if (c->fd == -1) continue;
        if (c->flags & CLIENT_CLOSE_ASAP)
            forgetClientMemory(c);
        else
            updateClientMemUsage(c);
    }
}

static int compareClientsByMemoryDesc(const void *a, const void *b) {
    size_t ma = (*(client *const *)a)->last_memory_usage, mb = (*(client *const *)b)->last_memory_usage;
    return ma < mb ? 1 : (ma > mb ? -1 : 0);
}

static void evictClient(client *c) {
    sds info = catClientInfoString(sdsempty(), c);
    serverLog(LL_NOTICE, "Evicting client: %s", info);
    sdsfree(info);
    forgetClientMemory(c);
    freeClientAsync(c);
    server.stat_evictedclients++;
}

/* Fresh numbers for every client, then the biggest evictable ones go first. */
static int evictClientsOverLimit(size_t limit) {
    refreshAllClientsMemory();
    if (clientsTrackedMemory() < limit) return 0;
    client **candidates = zmalloc(sizeof(client *) * (listLength(server.clients) + 1));
    size_t count = 0;
    listIter li;
    listNode *ln;
    listRewind(server.clients, &li);
    while ((ln = listNext(&li)) != NULL) {
        client *c = listNodeValue(ln);
        if (!(c->flags & CLIENT_CLOSE_ASAP) && clientEvictionAllowed(c)) candidates[count++] = c;
    }
    qsort(candidates, count, sizeof(client *), compareClientsByMemoryDesc);
    int evicted = 0;
    for (size_t j = 0; j < count && clientsTrackedMemory() >= limit; j++) {
        evictClient(candidates[j]);
        evicted++;
    }
    zfree(candidates);
    if (clientsTrackedMemory() >= limit) {
        serverLog(LL_WARNING, "Over client maxmemory after evicting all evictable clients");
        fruitless_scan_total = clientsTrackedMemory();
    } else {
        fruitless_scan_total = 0;
    }
    return evicted;
}

int evictClients(void) {
    size_t limit = getClientEvictionLimit();
    if (!limit) return 0;
    size_t total = clientsTrackedMemory();
    if (total < limit || (fruitless_scan_total && total <= fruitless_scan_total)) return 0;
    return evictClientsOverLimit(limit);
}

void evictionClientMemoryChanged(client *c) {
    if (!evict_conf.maxmemory_clients) return;
    if (c->fd != -1 && !(c->flags & CLIENT_CLOSE_ASAP)) updateClientMemUsage(c);
    evictClients();
}

/* ------------------------------------------------------------------------- */
/* Cron                                                                       */
/* ------------------------------------------------------------------------- */

void evictionCron(void) {
    fruitless_scan_total = 0;
    evictClients();
    /* Memory also grows without commands (buffers, a lazy free that lags behind): catch
     * up here, unless the timer is already at it. */
    if (!eviction_timer_armed) performEvictions();
}
