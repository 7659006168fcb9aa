/* tier.c -- native tiering: demotion of cold values to flash and their promotion back.
 *
 * STATE
 * The keyspace holds the truth: a cold object (object.h) carries its record's location.
 * Three small tables hold what is in motion, each keyed by a 64-bit word:
 *   - objects: hot objects with tier state (robj->tiered), keyed by address: a demotion
 *     in flight (DEMOTING), or a clean copy on flash left by a promotion (CLEAN), which
 *     makes the next demotion of the unchanged value free. Any change to the value, a
 *     move of the object or its release calls objectNotifyChange(), which drops the entry
 *     (a demotion in flight is orphaned: its record is freed when the write lands);
 *   - reads: promotions in flight, keyed by location, with the clients waiting on each;
 *   - aliases: cold records whose key was renamed or moved since they were written
 *     (a record is live while its key points at it; compaction asks by key).
 *
 * DEMOTION (tierEvict, from performEvictions and beforeSleep)
 * Above flash-demotion-watermark % of maxmemory, the eviction sampler picks hot victims
 * (filter: not cold, not in flight, big enough, refcount 1); each value is serialised in
 * its RDB encoding and appended to the store. The value stays in RAM; when the write
 * lands and the entry is still there (nothing touched the value), the keyspace entry is
 * swapped for a cold object. Bytes in flight are bounded by flash-demotion-max-inflight.
 *
 * PROMOTION (tierPrepareCommand, from processCommand)
 * The key specs name the keys a command reads or updates; cold ones are read in one
 * batch and the client is blocked (BLOCKED_TIERING) until all have landed, then its
 * command runs again from processCommand. Reads of one record are shared by all the
 * clients waiting for it. A checksum failure fails that command with an error.
 * Paths that cannot wait (keys a script did not declare, DEBUG, SORT BY patterns) are
 * served by tierLookupCold() with a synchronous read, counted in INFO.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tier.h"
#include "tier_internal.h"
#include "../ae.h"
#include "../blocked.h"
#include "../commands.h"
#include "../db.h"
#include "../evict.h"
#include "../multi.h"
#include "../networking.h"
#include "../rdb.h"
#include "../rio.h"
#include "../server.h"
#include "../zmalloc.h"

tierConfig tier_conf;
tierRuntime tier;

/* ------------------------------------------------------------------------- */
/* Tables keyed by a 64-bit word at the start of each entry                    */
/* ------------------------------------------------------------------------- */

static uint64_t wordHash(const void *key) {
    uint64_t x = *(const uint64_t *)key;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}
static const void *wordEntryKey(const void *entry) {
    return entry; /* every entry type starts with its 64-bit key */
}
static int wordCompare(const void *a, const void *b) {
    return *(const uint64_t *)a != *(const uint64_t *)b;
}
static hashtableType wordTableType = {.hashFunction = wordHash, .entryGetKey = wordEntryKey, .keyCompare = wordCompare};

static void *wordTableFind(hashtable *ht, uint64_t key) {
    void *found;
    return hashtableFind(ht, &key, &found) ? found : NULL;
}

/* ------------------------------------------------------------------------- */
/* Databases: records name their database by a stable id that SWAPDB carries  */
/* ------------------------------------------------------------------------- */

serverDb *tierDbById(int tier_id) {
    for (int j = 0; j < server.dbnum; j++)
        if (server.db[j].tier_id == tier_id) return &server.db[j];
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* Object state: DEMOTING and CLEAN entries                                   */
/* ------------------------------------------------------------------------- */

tierObjEntry *tierObjLookup(robj *o) {
    return o->tiered ? wordTableFind(tier.objects, (uint64_t)(uintptr_t)o) : NULL;
}

tierObjEntry *tierObjFind(const robj *o) {
    return wordTableFind(tier.objects, (uint64_t)(uintptr_t)o);
}

static void tierObjRemove(tierObjEntry *e) {
    void *popped;
    hashtablePop(tier.objects, &e->obj, &popped);
}

/* The flash copy of a record is dead: the store reclaims it, the alias goes. */
void tierFreeLocation(flashLocation loc) {
    if (loc == FLASH_LOC_NONE) return;
    flashStoreFree(tier.fs, loc);
    tierAliasDelete(loc);
}

/* objectNotifyChange(): the hot object changes, moves or goes away. */
static void tierForgetObject(robj *o) {
    if (!tier.objects) return;
    tierObjEntry *e = wordTableFind(tier.objects, (uint64_t)(uintptr_t)o);
    if (!e) return;
    tierObjRemove(e);
    if (e->kind == TIER_OBJ_DEMOTING) {
        e->orphan = 1; /* the append callback frees the record and the entry */
        tier.stat_demotions_cancelled++;
        return;
    }
    tierFreeLocation(e->loc);
    zfree(e);
}

/* A cold object is released (deleted, overwritten, expired, flushed). */
static void tierColdFree(robj *o) {
    flashLocation loc = objectColdLocation(o);
    if (loc == FLASH_LOC_NONE || !tier.fs) return;
    if (!pthread_equal(pthread_self(), tier.main_thread)) {
        /* Only the main thread may touch the store. Cold values are never handed to the
         * lazy-free thread (their free effort is 1, flushes of tiered databases are
         * synchronous), so this is a leak guard: the space comes back by compaction. */
        tier.stat_leaked_frees++;
        return;
    }
    tierFreeLocation(loc);
}

/* ------------------------------------------------------------------------- */
/* Aliases: renamed and moved cold records                                    */
/* ------------------------------------------------------------------------- */

void tierAliasDelete(flashLocation loc) {
    if (!hashtableSize(tier.aliases)) return;
    tierAlias *a;
    if (!hashtablePop(tier.aliases, &loc, (void **)&a)) return;
    sdsfree(a->key);
    zfree(a);
}

static void tierAliasSet(flashLocation loc, serverDb *db, sds key) {
    tierAlias *a = wordTableFind(tier.aliases, loc);
    if (!a) {
        a = zcalloc(sizeof(*a));
        a->loc = loc;
        hashtableAdd(tier.aliases, a);
    } else {
        sdsfree(a->key);
    }
    a->tier_id = db->tier_id;
    a->key = sdsdup(key);
}

void tierColdEntryInserted(serverDb *db, robj *o) {
    if (!tier.aliases) return;
    tierAliasSet(objectColdLocation(o), db, objectGetKey(o));
}

/* The keyspace entry that owns the record at loc (record key first, then an alias).
 * *clean is set when the owner is a hot object keeping a clean copy. */
robj *tierFindOwner(int tier_id, const char *key, size_t klen, flashLocation loc, tierObjEntry **clean) {
    *clean = NULL;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            tierAlias *a = wordTableFind(tier.aliases, loc);
            if (!a) return NULL;
            tier_id = a->tier_id;
            key = a->key;
            klen = sdslen(a->key);
        }
        serverDb *db = tierDbById(tier_id);
        if (!db) continue;
        sds name = sdsnewlen(key, klen);
        robj *o = dbFind(db, name);
        sdsfree(name);
        if (!o) continue;
        if (o->cold && objectColdLocation(o) == loc) return o;
        tierObjEntry *e = tierObjLookup(o);
        if (e && e->kind == TIER_OBJ_CLEAN && e->loc == loc) {
            *clean = e;
            return o;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* Flushes                                                                     */
/* ------------------------------------------------------------------------- */

/* Before emptyData() frees a database: drop the state of hot objects (whose release may
 * happen on the lazy-free thread, which must not touch our tables). All of it, not only
 * the flushed database's: SWAPDB moves objects between databases under our entries. */
void tierBeforeFlush(int dbnum) {
    (void)dbnum;
    if (!tier.objects || !hashtableSize(tier.objects)) return;
    hashtableIterator it;
    hashtableInitSafeIterator(&it, tier.objects);
    void *entry;
    while (hashtableNext(&it, &entry)) {
        tierObjEntry *e = entry;
        robj *o = (robj *)(uintptr_t)e->obj;
        tierForgetObject(o);
        o->tiered = 0;
    }
    hashtableResetIterator(&it);
}

/* ------------------------------------------------------------------------- */
/* Object hooks                                                                */
/* ------------------------------------------------------------------------- */

void tierInstallObjectHooks(void) {
    objectRegisterTierProcs(tierColdFree, tierForgetObject);
}

void tierCreateTables(void) {
    tier.objects = hashtableCreate(&wordTableType);
    tier.reads = hashtableCreate(&wordTableType);
    tier.aliases = hashtableCreate(&wordTableType);
    tier.main_thread = pthread_self();
}

unsigned long long tierColdKeys(void) {
    unsigned long long n = 0;
    for (int j = 0; j < server.dbnum; j++) n += server.db[j].cold_keys;
    return n;
}
