/* tier_demote.c -- moving values from RAM to flash.
 *
 * A value is serialised with its RDB encoding (what DUMP and BGSAVE write) and appended
 * to the flash store; it stays in RAM, usable, while the write is in flight. When the
 * write lands, the keyspace entry is swapped for a cold object, unless the value was
 * changed, moved or released meanwhile (objectNotifyChange dropped our entry: the record
 * is then freed). A value promoted earlier and not changed since still has its record
 * (a CLEAN entry): demoting it again is a swap, without a write.
 *
 * Who demotes: tierEvict() (performEvictions, before commands under maxmemory) and
 * tierDemoteIfNeeded() (beforeSleep, so demotion goes on between commands), both above
 * the watermark; tierLoadingProgress() while loading a dataset bigger than maxmemory;
 * FLASH.DEBUG.DEMOTE for one key.
 */
#include <string.h>

#include "tier.h"
#include "tier_internal.h"
#include "../adlist.h"
#include "../blocked.h"
#include "../db.h"
#include "../evict.h"
#include "../networking.h"
#include "../rdb.h"
#include "../rio.h"
#include "../server.h"
#include "../zmalloc.h"

/* Victims picked per sampling round, and rounds per call before giving the loop back. */
#define TIER_DEMOTE_BATCH 16
#define TIER_DEMOTE_MAX_ROUNDS 64
/* After finding nothing to demote, how long deletion or OOM take over before looking again. */
#define TIER_EXHAUSTED_BACKOFF_MS 100
/* Flush-and-wait passes while loading before giving up on a write that does not land. */
#define TIER_LOAD_DRAIN_MAX_SPINS 1000

/* ------------------------------------------------------------------------- */
/* Which values may go                                                         */
/* ------------------------------------------------------------------------- */

static int tierTypeDemotable(const robj *o) {
    switch (o->type) {
    case OBJ_STRING: return o->encoding != OBJ_ENCODING_INT;
    case OBJ_LIST:
    case OBJ_SET:
    case OBJ_ZSET:
    case OBJ_HASH: return 1;
    default: return 0; /* streams and module values stay in RAM */
    }
}

/* Cheap checks before serialising: strings know their size; collections are checked
 * once serialised. */
static int tierDemotionCandidate(serverDb *db, robj *o, void *privdata) {
    (void)db;
    (void)privdata;
    if (o->cold || o->refcount != 1 || !tierTypeDemotable(o)) return 0;
    if (o->tiered) {
        tierObjEntry *e = tierObjLookup(o);
        if (e && e->kind == TIER_OBJ_DEMOTING) return 0;
        /* Promoted in this loop turn: the clients that waited for it have not run yet. */
        if (e && e->born == tier.loop_iteration) return 0;
        return 1; /* a clean copy: free to demote */
    }
    if (o->type == OBJ_STRING && stringObjectLen(o) < tier_conf.min_value_size) return 0;
    return 1;
}

/* ------------------------------------------------------------------------- */
/* Swapping an entry for its cold form                                         */
/* ------------------------------------------------------------------------- */

/* The cold object says which representation its record holds (record_encoding): the
 * value in RAM may have been converted since, the logical value being the same. */
static void tierSwapToCold(serverDb *db, robj *o, flashLocation loc, int record_encoding) {
    robj *c = objectCreateCold(o, loc);
    c->encoding = record_encoding;
    dbReplaceEntryObject(db, o, c);
    decrRefCount(o);
}

static void tierReplyToDemoteWaiters(list *waiters, int ok) {
    if (!waiters) return;
    listNode *ln;
    while ((ln = listFirst(waiters))) {
        client *c = lookupClientByID((uint64_t)(uintptr_t)listNodeValue(ln));
        listDelNode(waiters, ln);
        if (!c || !(c->flags & CLIENT_BLOCKED) || c->btype != BLOCKED_TIERING) continue;
        if (ok) addReply(c, shared.ok);
        else addReplyError(c, "demotion cancelled: the value changed or the write failed");
        unblockClient(c, 1);
    }
    listRelease(waiters);
}

/* The append of a demoted value completed. */
static void tierDemotionWritten(void *privdata, int status, flashLocation loc) {
    tierObjEntry *e = privdata;
    tier.demote_inflight--;
    tier.demote_inflight_bytes -= e->bytes;
    tier.demote_inflight_ram -= e->ram;
    if (e->orphan || status != FLASH_OK) {
        if (status == FLASH_OK) tierFreeLocation(loc);
        else if (status != FLASH_ERR_CLOSED) tier.stat_demotion_failures++;
        tierReplyToDemoteWaiters(e->waiters, 0);
        zfree(e);
        tierWakeMemoryWaiters();
        return;
    }
    robj *o = (robj *)(uintptr_t)e->obj;
    void *popped;
    hashtablePop(tier.objects, &e->obj, &popped);
    o->tiered = 0;
    if (dbFind(e->db, objectGetKey(o)) != o) { /* no longer this key's entry */
        tierFreeLocation(loc);
        tierReplyToDemoteWaiters(e->waiters, 0);
        zfree(e);
        return;
    }
    tierSwapToCold(e->db, o, loc, e->encoding);
    tier.stat_demotions++;
    tier.stat_demoted_bytes += e->bytes;
    tierReplyToDemoteWaiters(e->waiters, 1);
    zfree(e);
    tierWakeMemoryWaiters();
}

static int tierAppendStatus(int status) {
    if (status == FLASH_ERR_NOSPACE) {
        tier.flash_full = 1;
        return TIER_DEMOTE_NOSPACE;
    }
    if (status == FLASH_ERR_BUSY) return TIER_DEMOTE_BUSY;
    return TIER_DEMOTE_REFUSED; /* too big, or the device failed: keep it in RAM */
}

/* FLASH.DEBUG.DEMOTE: the client is answered when the demotion lands (by id: it may
 * disconnect meanwhile). */
static void tierAddDemoteWaiter(tierObjEntry *e, client *waiter) {
    if (!e->waiters) e->waiters = listCreate();
    listAddNodeTail(e->waiters, (void *)(uintptr_t)waiter->id);
}

/* Sampled collection elements when estimating the RAM a demotion gives back. */
#define TIER_SIZE_SAMPLES 5

/* RAM that swapping o for a cold object gives back: the value, less the pointer slot,
 * header, expire and key the cold object keeps (the key and header stay anyway). */
static size_t tierRamReleased(robj *o) {
    size_t total = objectComputeSize(NULL, o, TIER_SIZE_SAMPLES, 0);
    sds key = objectGetKey(o);
    size_t kept = sizeof(robj) + sizeof(void *) + (o->hasexpire ? sizeof(long long) : 0) + (key ? sdslen(key) + 4 : 0);
    return total > kept ? total - kept : 0;
}

/* Starts demoting o (a keyspace entry of db). A waiting client (FLASH.DEBUG.DEMOTE) is
 * answered when the value is cold. */
int tierDemoteKey(serverDb *db, robj *o, client *waiter) {
    if (o->cold) return TIER_DEMOTE_ALREADY_COLD;
    tierObjEntry *e = tierObjLookup(o);
    if (e && e->kind == TIER_OBJ_CLEAN) {
        flashLocation loc = e->loc;
        int record_encoding = e->encoding;
        void *popped;
        hashtablePop(tier.objects, &e->obj, &popped);
        zfree(e);
        o->tiered = 0;
        tierSwapToCold(db, o, loc, record_encoding);
        tier.stat_demotions++;
        tier.stat_clean_demotions++;
        return TIER_DEMOTE_DONE;
    }
    if (e) { /* DEMOTING */
        if (waiter) tierAddDemoteWaiter(e, waiter);
        return TIER_DEMOTE_IN_FLIGHT;
    }
    if (o->refcount != 1 || !tierTypeDemotable(o)) return TIER_DEMOTE_REFUSED;

    rio r;
    rioInitWithBuffer(&r, sdsempty());
    if (rdbSaveObject(&r, o, NULL, db->id) == -1) {
        sdsfree(rioBufferTake(&r));
        return TIER_DEMOTE_REFUSED;
    }
    sds payload = rioBufferTake(&r);
    e = zcalloc(sizeof(*e));
    e->obj = (uint64_t)(uintptr_t)o;
    e->db = db;
    e->kind = TIER_OBJ_DEMOTING;
    e->encoding = o->encoding;
    e->bytes = sdslen(payload);
    e->ram = tierRamReleased(o);
    sds key = objectGetKey(o);
    int status = flashStoreAppend(tier.fs, db->tier_id, key, sdslen(key), payload, sdslen(payload),
                                  ++tier.next_version, tierDemotionWritten, e);
    sdsfree(payload);
    if (status != FLASH_OK) {
        zfree(e);
        return tierAppendStatus(status);
    }
    tier.flash_full = 0;
    hashtableAdd(tier.objects, e);
    o->tiered = 1;
    tier.demote_inflight++;
    tier.demote_inflight_bytes += e->bytes;
    tier.demote_inflight_ram += e->ram;
    if (waiter) tierAddDemoteWaiter(e, waiter);
    return TIER_DEMOTE_STARTED;
}

/* ------------------------------------------------------------------------- */
/* Demotion driven by memory                                                   */
/* ------------------------------------------------------------------------- */

size_t tierDemotionThreshold(void) {
    if (!tierEnabled() || !server.maxmemory) return 0;
    return (size_t)(server.maxmemory / 100 * (unsigned long long)tier_conf.watermark); /* every command: no FP */
}

static int tierDemotionPolicy(void) {
    if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) return MAXMEMORY_ALLKEYS_LFU;
    if (server.maxmemory_policy == MAXMEMORY_ALLKEYS_RANDOM) return MAXMEMORY_ALLKEYS_RANDOM;
    return MAXMEMORY_ALLKEYS_LRU;
}

/* Memory counted for eviction, less what the demotions in flight will release. */
static size_t tierProjectedMemory(void) {
    size_t logical = 0;
    getMaxmemoryState(NULL, &logical, NULL, NULL);
    return logical > tier.demote_inflight_ram ? logical - tier.demote_inflight_ram : 0;
}

/* ---- Finding victims when sampling finds none ----
 * With most keys cold, random samples rarely meet a hot value. Then a scan walks the
 * keyspaces with a cursor kept between calls, a bounded number of buckets at a time; only
 * a whole cycle over every database without a candidate means nothing is left to demote. */

/* Buckets visited per scan step (each holds a few entries). */
#define TIER_SCAN_BUCKETS_PER_STEP 1024

typedef struct tierScanCollect {
    serverDb *db;
    evictionVictim *out;
    int max, n;
} tierScanCollect;

static struct {
    int dbid;
    size_t cursor;
    int barren_dbs; /* databases scanned whole in a row without a candidate */
} tier_scan;

static void tierScanEntry(void *privdata, void *entry) {
    tierScanCollect *sc = privdata;
    robj *o = entry;
    if (sc->n >= sc->max || !tierDemotionCandidate(sc->db, o, NULL)) return;
    for (int j = 0; j < sc->n; j++)
        if (sc->out[j].val == o) return; /* a scan may return an entry twice */
    sc->out[sc->n++] = (evictionVictim){.db = sc->db, .val = o};
}

/* Fills out[] with up to max candidates; returns how many, or -1 after a full cycle over
 * every database found none. */
static int tierScanForVictims(evictionVictim *out, int max) {
    tierScanCollect sc = {.out = out, .max = max, .n = 0};
    for (int step = 0; step < TIER_SCAN_BUCKETS_PER_STEP && sc.n < max; step++) {
        if (tier_scan.dbid >= server.dbnum) tier_scan.dbid = 0;
        sc.db = &server.db[tier_scan.dbid];
        int found_before = sc.n;
        if (hashtableSize(sc.db->keys)) tier_scan.cursor = hashtableScan(sc.db->keys, tier_scan.cursor, tierScanEntry, &sc);
        else tier_scan.cursor = 0;
        if (sc.n > found_before) tier_scan.barren_dbs = 0;
        if (tier_scan.cursor == 0) { /* this database done: the next one */
            tier_scan.dbid++;
            if (sc.n == 0 && ++tier_scan.barren_dbs >= server.dbnum) {
                tier_scan.barren_dbs = 0;
                return -1;
            }
        }
    }
    return sc.n;
}

/* ---- Clean copies first when the keyspace is mostly cold ----
 * Then random samples of the keyspace mostly meet cold values, and the hot ones are
 * mostly values promoted and unchanged since: sampling those directly (their tier
 * entries) finds victims at once, and demoting them costs no write. */

/* Below this share of hot keys, clean copies are sampled before the keyspace. */
#define TIER_MOSTLY_COLD_HOT_SHARE 0.25
#define TIER_CLEAN_SAMPLES 16

static int tierKeyspaceMostlyCold(void) {
    unsigned long long keys = 0, cold = 0;
    for (int j = 0; j < server.dbnum; j++) {
        keys += hashtableSize(server.db[j].keys);
        cold += server.db[j].cold_keys;
    }
    return keys && (double)(keys - cold) < TIER_MOSTLY_COLD_HOT_SHARE * (double)keys;
}

/* Up to max clean victims, the most idle of a sample first. */
static int tierSampleCleanVictims(evictionVictim *out, int max) {
    if (!hashtableSize(tier.objects)) return 0;
    void *samples[TIER_CLEAN_SAMPLES];
    unsigned got = hashtableSampleEntries(tier.objects, samples, TIER_CLEAN_SAMPLES);
    int n = 0;
    for (unsigned j = 0; j < got && n < max; j++) {
        tierObjEntry *e = samples[j];
        robj *o = (robj *)(uintptr_t)e->obj;
        if (e->kind != TIER_OBJ_CLEAN || !tierDemotionCandidate(e->db, o, NULL)) continue;
        if (dbFind(e->db, objectGetKey(o)) != o) continue; /* SWAPDB moved it */
        int k = n++;
        while (k > 0 && estimateObjectIdleTime(out[k - 1].val) < estimateObjectIdleTime(o)) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = (evictionVictim){.db = e->db, .val = o};
    }
    return n;
}

/* How long values stay in RAM, as the idle time of eviction's victims: a running average
 * that read-through admission (tier_promote.c) compares a cold value's idle time with. */
#define TIER_VICTIM_IDLE_WEIGHT 0.05
static void tierNoteEvictionVictim(robj *o) {
    double idle = (double)estimateObjectIdleTime(o);
    if (tier.last_evict_demotion_ms == 0) tier.victim_idle_ms = idle;
    tier.victim_idle_ms += TIER_VICTIM_IDLE_WEIGHT * (idle - tier.victim_idle_ms);
    tier.last_evict_demotion_ms = server.mstime;
}

/* Read-through admission. Under LRU demotion, a cold value is kept in RAM after its read
 * only if it is likely to be read again before eviction would take it: its previous
 * access is more recent than the idle time eviction's victims have. Otherwise (a uniform
 * scan over data much bigger than RAM), keeping it would push out a value that will be
 * read again and cost a demotion later, so it is read through. Only while eviction
 * demotes (within this window); under LFU and random demotion every value is kept. */
#define TIER_READTHROUGH_WINDOW_MS 1000
int tierWantsReadThrough(robj *o) {
    if (tierDemotionPolicy() != MAXMEMORY_ALLKEYS_LRU) return 0;
    if (!tier.last_evict_demotion_ms || server.mstime - tier.last_evict_demotion_ms > TIER_READTHROUGH_WINDOW_MS)
        return 0;
    return (double)estimateObjectIdleTime(o) > tier.victim_idle_ms;
}

/* Starts demoting the victims; returns how many started, or -1 when flash is full, or
 * -2 when the write buffers are busy (try again on the next turn). */
static int tierDemoteVictims(evictionVictim *victims, int n) {
    int started = 0;
    for (int j = 0; j < n; j++) {
        tierNoteEvictionVictim(victims[j].val);
        int rc = tierDemoteKey(victims[j].db, victims[j].val, NULL);
        if (rc == TIER_DEMOTE_NOSPACE) return -1;
        if (rc == TIER_DEMOTE_BUSY) return -2;
        if (rc >= 0) started++;
    }
    return started;
}

/* Starts demotions until the projection is under the watermark, the in-flight budget is
 * spent, or nothing more can go now. Returns 1 when flash is full or no victim is left. */
static int tierDemoteToWatermark(int max_rounds) {
    size_t threshold = tierDemotionThreshold();
    evictionSelectOptions opts = {.policy = tierDemotionPolicy(), .filter = tierDemotionCandidate};
    int scan_done = 0; /* a round in this call had to scan, and the scan found nothing */
    for (int round = 0; round < max_rounds; round++) {
        if (tierProjectedMemory() <= threshold) return 0;
        if (tier.demote_inflight_bytes >= tier_conf.max_inflight) return 0;
        evictionVictim victims[TIER_DEMOTE_BATCH];
        int n = 0;
        if (tierKeyspaceMostlyCold()) n = tierSampleCleanVictims(victims, TIER_DEMOTE_BATCH / 2);
        if (n == 0) n = evictionSelectVictims(victims, TIER_DEMOTE_BATCH, &opts);
        int started = tierDemoteVictims(victims, n);
        if (started == 0) { /* sampling met only cold or unfit values: scan */
            n = tierScanForVictims(victims, TIER_DEMOTE_BATCH);
            if (n < 0) return 1;
            started = tierDemoteVictims(victims, n);
            scan_done = started == 0;
        }
        if (started == -1) return 1;
        if (started == -2) return 0;
    }
    return max_rounds == 1 && scan_done;
}

static int tierMayDemoteNow(void) {
    if (!tierEnabled() || !server.maxmemory) return 0;
    if (isProcessingEventsWhileBlocked()) return 0;
    if (server.pause_type != CLIENT_PAUSE_OFF && checkClientPauseTimeoutAndReturnIfPaused()) return 0;
    return 1;
}

int tierEvict(void) {
    if (!tierMayDemoteNow()) return TIER_EVICT_NONE;
    /* Nothing was left to demote a moment ago: look briefly (one round), not at length,
     * since values promoted meanwhile may be demotable again. */
    int rounds = tier.demote_exhausted_until_ms > server.mstime ? 1 : TIER_DEMOTE_MAX_ROUNDS;
    int exhausted = tierDemoteToWatermark(rounds);
    if (exhausted) tier.demote_exhausted_until_ms = server.mstime + TIER_EXHAUSTED_BACKOFF_MS;
    size_t logical = 0;
    getMaxmemoryState(NULL, &logical, NULL, NULL);
    if (logical <= server.maxmemory) return TIER_EVICT_OK;
    if (tier.demote_inflight == 0) return exhausted ? TIER_EVICT_NONE : TIER_EVICT_RUNNING;
    return tierProjectedMemory() <= server.maxmemory ? TIER_EVICT_RUNNING : TIER_EVICT_WAIT;
}

/* Values read through (tier_promote.c) go back to cold once their reader ran. */
void tierDemoteTransient(void) {
    if (!tier.transient_len || !tierMayDemoteNow()) return;
    size_t keep = 0;
    for (size_t j = 0; j < tier.transient_len; j++) {
        transientValue t = tier.transient[j];
        tierObjEntry *e = tierObjFind(t.obj);
        /* Gone, changed (objectNotifyChange dropped the entry) or already demoted. */
        if (!e || e->kind != TIER_OBJ_CLEAN || !e->transient || e->loc != t.loc) continue;
        if (e->born == tier.loop_iteration) { /* its reader runs later in this turn */
            tier.transient[keep++] = t;
            continue;
        }
        robj *o = t.obj; /* alive: its entry is */
        if (o->refcount == 1 && dbFind(e->db, objectGetKey(o)) == o) tierDemoteKey(e->db, o, NULL);
    }
    tier.transient_len = keep;
}

int tierDemotionsCoverExcess(void) {
    return tierEnabled() && tier.demote_inflight && tierProjectedMemory() <= server.maxmemory;
}

void tierDemoteIfNeeded(void) {
    if (!tierMayDemoteNow() || server.loading) return;
    if (tier.demote_exhausted_until_ms > server.mstime) return;
    size_t logical = 0;
    getMaxmemoryState(NULL, &logical, NULL, NULL);
    if (logical > tierDemotionThreshold()) tierDemoteToWatermark(TIER_DEMOTE_MAX_ROUNDS);
}

/* ------------------------------------------------------------------------- */
/* Writers waiting for memory                                                  */
/* ------------------------------------------------------------------------- */

void tierBlockForMemory(client *c) {
    if (!tier.memory_waiters) tier.memory_waiters = listCreate();
    listAddNodeTail(tier.memory_waiters, (void *)(uintptr_t)c->id);
    tier.stat_memory_waits++;
    blockClient(c, BLOCKED_TIERING, 0, 1);
}

/* After demotions land: the waiting writers run again (and wait again, or get the OOM
 * error, if memory is still over the limit). */
void tierWakeMemoryWaiters(void) {
    if (!tier.memory_waiters || !listLength(tier.memory_waiters)) return;
    if (tier.demote_inflight && tierProjectedMemory() > server.maxmemory) return;
    listNode *ln;
    while ((ln = listFirst(tier.memory_waiters))) {
        client *c = lookupClientByID((uint64_t)(uintptr_t)listNodeValue(ln));
        listDelNode(tier.memory_waiters, ln);
        if (c && (c->flags & CLIENT_BLOCKED) && c->btype == BLOCKED_TIERING) unblockClientAndRetry(c);
    }
}

/* ------------------------------------------------------------------------- */
/* Loading                                                                     */
/* ------------------------------------------------------------------------- */

/* Called after each key loaded from an RDB or AOF: a dataset bigger than maxmemory is
 * demoted as it loads. The event loop is not running, so we wait for the writes here. */
void tierLoadingProgress(void) {
    if (!tierEnabled() || !server.maxmemory) return;
    size_t logical = 0;
    getMaxmemoryState(NULL, &logical, NULL, NULL);
    if (logical <= tierDemotionThreshold()) return;
    evictionSelectOptions opts = {.policy = tierDemotionPolicy(), .filter = tierDemotionCandidate};
    evictionVictim victims[TIER_DEMOTE_BATCH];
    int n = evictionSelectVictims(victims, TIER_DEMOTE_BATCH, &opts);
    for (int j = 0; j < n; j++) {
        if (tierDemoteKey(victims[j].db, victims[j].val, NULL) == TIER_DEMOTE_NOSPACE) break;
    }
    flashStoreFlush(tier.fs, 1);
    ioEngineSubmit(tier.io);
    if (tier.demote_inflight_bytes >= tier_conf.max_inflight / 2 || logical > server.maxmemory) {
        for (int spins = 0; tier.demote_inflight && spins < TIER_LOAD_DRAIN_MAX_SPINS; spins++) {
            flashStoreFlush(tier.fs, 1);
            ioEngineSubmit(tier.io);
            ioEngineDrain(tier.io);
        }
    }
}
