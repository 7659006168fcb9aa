/* db.c -- the keyspace: databases, lookups with lazy expiry, adding, overwriting and
 * deleting keys, and the generic key commands (DEL, EXISTS, RENAME, MOVE, COPY, SCAN...).
 *
 * Each database has two hashtables holding the same objects. `keys` holds every entry:
 * a value object with its key embedded (object.h), found by the key bytes. `expires`
 * holds the entries that carry an expire time, so the active expire cycle can sample
 * only volatile keys. Only `keys` owns the objects (its destructor is decrRefCount).
 *
 * Entries are objects, and an object may be reallocated when it changes shape (a key
 * attached, an expire added or removed, a string unshared). Whenever that happens the
 * slot in `keys` (and in `expires` when the object is there) is rewritten through
 * hashtableFindRef; the refs are taken while the old object is still readable, since
 * the table reads the key of the entry in a slot to find it. A keyspace object has
 * refcount 1, except briefly when the executing command's argv also refers to it (see
 * setKeyFromArgv); such argv slots are updated when the object moves.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "tier/tier.h"
#include "blocked.h"
#include "commands.h"
#include "hashtable.h"
#include "multi.h"
#include "networking.h"
#include "notify.h"
#include "replication.h"
#include "object.h"
#include "server.h"
#include "util.h"
#include "zmalloc.h"

/* Microseconds of incremental rehashing per databasesCron() call, all databases together. */
#define DB_CRON_REHASH_BUDGET_US 1000
/* RANDOMKEY gives up after this many picks of an expired key it is not allowed to delete
 * (clients paused), instead of spinning. */
#define RANDOMKEY_MAX_EXPIRED_TRIES 100
/* SCAN visits at most COUNT * this many buckets per call, so a sparse table still answers fast. */
#define SCAN_MAX_BUCKETS_PER_COUNT 10

/* ------------------------------------------------------------------------- */
/* Hashtable types                                                             */
/* ------------------------------------------------------------------------- */

static uint64_t keyspaceHash(const void *key) {
    return hashtableGenHashFunction(key, sdslen((sds)key));
}

static int keyspaceKeyCompare(const void *a, const void *b) {
    size_t len = sdslen((sds)a);
    return len != sdslen((sds)b) || memcmp(a, b, len) != 0;
}

static const void *keyspaceEntryGetKey(const void *entry) {
    return objectGetKey(entry);
}

static hashtableType keysHashtableType = {
    .hashFunction = keyspaceHash,
    .entryGetKey = keyspaceEntryGetKey,
    .keyCompare = keyspaceKeyCompare,
    .entryDestructor = decrRefCountVoid,
};

/* Same entries as `keys`, not owned. */
static hashtableType expiresHashtableType = {
    .hashFunction = keyspaceHash,
    .entryGetKey = keyspaceEntryGetKey,
    .keyCompare = keyspaceKeyCompare,
};

/* The key bytes of a key argument. Keys are always string arguments, never INT encoded. */
static inline sds keySds(robj *key) {
    serverAssert(sdsEncodedObject(key));
    return objectGetVal(key);
}

void initDatabases(void) {
    server.db = zcalloc(sizeof(serverDb) * server.dbnum);
    for (int j = 0; j < server.dbnum; j++) {
        server.db[j].keys = hashtableCreate(&keysHashtableType);
        server.db[j].expires = hashtableCreate(&expiresHashtableType);
        server.db[j].id = j;
        server.db[j].tier_id = j;
    }
}

/* ------------------------------------------------------------------------- */
/* Hooks                                                                       */
/* ------------------------------------------------------------------------- */

/* Every change to a key ends here: WATCH (touchWatchedKey); client-side caching
 * invalidation and tiering (dropping a stale flash copy) will hook in. */
void signalModifiedKey(client *c, serverDb *db, robj *key) {
    (void)c;
    touchWatchedKey(db, key);
}

/* A whole database (dbid -1: all of them) is about to be emptied (FLUSHDB/FLUSHALL):
 * WATCH hooks in here; tracking will. */
void signalFlushedDb(int dbid, int async) {
    (void)async;
    int start = dbid == -1 ? 0 : dbid, end = dbid == -1 ? server.dbnum - 1 : dbid;
    for (int j = start; j <= end; j++) touchAllWatchedKeysInDb(&server.db[j], NULL);
}

/* Propagation of implicit deletions (expired keys) to AOF and replicas. */
static void propagateDeletion(serverDb *db, robj *key, int lazy) {
    robj *argv[2] = {lazy ? shared.unlink : shared.del, key};
    alsoPropagate(db->id, argv, 2, CMD_CALL_PROPAGATE);
}

/* A keyspace object moved from `old` to `new`: argv slots of the clients running the
 * current command that still point at the old address are updated. */
static void fixArgvOf(client *c, robj *old, robj *new) {
    if (!c) return;
    for (int j = 0; j < c->argc; j++)
        if (c->argv[j] == old) c->argv[j] = new;
    if (c->original_argv)
        for (int j = 0; j < c->original_argc; j++)
            if (c->original_argv[j] == old) c->original_argv[j] = new;
}

static void fixArgvReferences(client *c, robj *old, robj *new) {
    if (old == new) return;
    fixArgvOf(c, old, new);
    if (server.current_client != c) fixArgvOf(server.current_client, old, new);
    if (server.executing_client != c && server.executing_client != server.current_client)
        fixArgvOf(server.executing_client, old, new);
}

/* ------------------------------------------------------------------------- */
/* Lookup                                                                      */
/* ------------------------------------------------------------------------- */

robj *dbFind(serverDb *db, sds key) {
    void *entry;
    return hashtableFind(db->keys, key, &entry) ? entry : NULL;
}

/* Expired according to the time of the current command (stable within a command). */
static int objectIsExpired(const robj *o) {
    if (!o->hasexpire || server.loading) return 0;
    return commandTimeSnapshot() > objectGetExpire(o);
}

void touchCommand(client *c);

static int lookupMayTouch(int flags) {
    if (flags & LOOKUP_NOTOUCH) return 0;
    if (server.child_pid > 0) return 0; /* don't dirty copy-on-write pages */
    client *c = server.current_client;
    if (c && (c->flags & CLIENT_NO_TOUCH) && !(c->cmd && c->cmd->proc == touchCommand)) return 0;
    return 1;
}

robj *lookupKey(serverDb *db, robj *key, int flags) {
    robj *val = dbFind(db, keySds(key));
    if (val && objectIsExpired(val)) {
        int expire_flags = 0;
        if (flags & LOOKUP_WRITE) expire_flags |= EXPIRE_FORCE_DELETE_EXPIRED;
        if (flags & LOOKUP_NOEXPIRE) expire_flags |= EXPIRE_AVOID_DELETE_EXPIRED;
        if (expireIfNeeded(db, key, expire_flags) != KEY_VALID) val = NULL;
    }
    /* A cold value is read back first (tiering prepared most commands' keys already),
     * and a value about to change drops its tier state. */
    if (val && val->cold) val = tierLookupCold(db, val);
    if (val && (flags & LOOKUP_WRITE)) objectNotifyChange(val);
    int count_stats = !(flags & (LOOKUP_NOSTATS | LOOKUP_WRITE));
    if (val) {
        if (lookupMayTouch(flags)) objectTouch(val);
        if (count_stats) server.stat_keyspace_hits++;
    } else {
        if (!(flags & (LOOKUP_NONOTIFY | LOOKUP_WRITE))) notifyKeyspaceEvent(NOTIFY_KEY_MISS, "keymiss", key, db->id);
        if (count_stats) server.stat_keyspace_misses++;
    }
    return val;
}

robj *lookupKeyReadWithFlags(serverDb *db, robj *key, int flags) {
    return lookupKey(db, key, flags & ~LOOKUP_WRITE);
}

robj *lookupKeyRead(serverDb *db, robj *key) {
    return lookupKey(db, key, LOOKUP_NONE);
}

robj *lookupKeyWriteWithFlags(serverDb *db, robj *key, int flags) {
    return lookupKey(db, key, flags | LOOKUP_WRITE);
}

robj *lookupKeyWrite(serverDb *db, robj *key) {
    return lookupKey(db, key, LOOKUP_WRITE);
}

static void addReplyObjectOrError(client *c, robj *reply) {
    sds s = objectGetVal(reply);
    if (s[0] == '-') addReplyErrorObject(c, reply);
    else addReply(c, reply);
}

robj *lookupKeyReadOrReply(client *c, robj *key, robj *reply) {
    robj *o = lookupKeyRead(c->db, key);
    if (!o) addReplyObjectOrError(c, reply);
    return o;
}

robj *lookupKeyWriteOrReply(client *c, robj *key, robj *reply) {
    robj *o = lookupKeyWrite(c->db, key);
    if (!o) addReplyObjectOrError(c, reply);
    return o;
}

/* ------------------------------------------------------------------------- */
/* Adding and replacing                                                        */
/* ------------------------------------------------------------------------- */

/* Inserts val under key (absent), with an expire time or -1; returns the stored object. */
static robj *dbInsert(serverDb *db, sds key, robj *val, long long expire) {
    hashtablePosition pos;
    int absent = hashtableFindPositionForInsert(db->keys, key, &pos, NULL);
    serverAssert(absent);
    robj *o = objectSetKeyAndExpire(val, key, expire);
    hashtableInsertAtPosition(db->keys, o, &pos);
    if (expire != -1) {
        int added = hashtableAdd(db->expires, o);
        serverAssert(added);
    }
    if (o->cold) { /* RENAME / MOVE of a cold key */
        db->cold_keys++;
        tierColdEntryInserted(db, o);
    }
    /* Clients blocked on this key (BLPOP, BZPOPMIN...) are served after the command. */
    signalKeyAsReadyByName(db, key, o->type);
    return o;
}

robj *dbAdd(serverDb *db, robj *key, robj *val) {
    robj *o = dbInsert(db, keySds(key), val, -1);
    notifyKeyspaceEvent(NOTIFY_NEW, "new", key, db->id);
    return o;
}

/* For the RDB loader: no notification, no expiry check. An expire already set on val
 * (objectSetExpire) is kept. On success the key sds is freed (the entry embeds a copy)
 * and val is consumed; when the key exists, 0 is returned and both stay the caller's. */
int dbAddRDBLoad(serverDb *db, sds key, robj *val) {
    hashtablePosition pos;
    if (!hashtableFindPositionForInsert(db->keys, key, &pos, NULL)) return 0;
    robj *o = objectSetKeyAndExpire(val, key, objectGetExpire(val));
    hashtableInsertAtPosition(db->keys, o, &pos);
    if (o->hasexpire) hashtableAdd(db->expires, o);
    sdsfree(key);
    return 1;
}

/* Replaces the value of an existing key, keeping its expire time or dropping it. */
static robj *dbSetValue(serverDb *db, robj *key, robj *val, int keep_expire) {
    sds k = keySds(key);
    void **ref = hashtableFindRef(db->keys, k);
    serverAssert(ref);
    robj *old = *ref;
    if (old == val) {
        if (!keep_expire) removeExpire(db, key);
        return *hashtableFindRef(db->keys, k);
    }
    long long expire = keep_expire ? objectGetExpire(old) : -1;
    /* `old` must stay readable until the tables no longer need its key. */
    if (old->hasexpire && expire == -1) hashtableDelete(db->expires, k);
    robj *o = objectSetKeyAndExpire(val, k, expire);
    o->lru = old->lru; /* an overwrite keeps the key's access history (LRU clock / LFU counter) */
    *ref = o;
    if (expire != -1) {
        void **eref = hashtableFindRef(db->expires, k);
        serverAssert(eref && *eref == old);
        *eref = o;
    }
    signalDeletedKeyAsReadyByName(db, k, old->type);
    if (old->cold) db->cold_keys--;
    objectNotifyChange(old); /* out of the keyspace, even if referenced elsewhere */
    if (old->refcount > 1) decrRefCount(old);
    else dbFreeValue(old, server.lazyfree_lazy_server_del);
    return o;
}

robj *dbReplaceValue(serverDb *db, robj *key, robj *val) {
    return dbSetValue(db, key, val, 1);
}

void dbReplaceEntryObject(serverDb *db, robj *old, robj *replacement) {
    sds k = objectGetKey(old);
    void **ref = hashtableFindRef(db->keys, k);
    serverAssert(ref && *ref == old);
    *ref = replacement;
    if (old->hasexpire) {
        void **eref = hashtableFindRef(db->expires, k);
        serverAssert(eref && *eref == old);
        *eref = replacement;
    }
    db->cold_keys += replacement->cold;
    db->cold_keys -= old->cold;
}

void setKey(client *c, serverDb *db, robj *key, robj **valref, int flags) {
    int exists;
    if (flags & SETKEY_ALREADY_EXIST) exists = 1;
    else if (flags & SETKEY_DOESNT_EXIST) exists = 0;
    else exists = lookupKeyWrite(db, key) != NULL;

    if (exists) *valref = dbSetValue(db, key, *valref, flags & SETKEY_KEEPTTL);
    else *valref = dbAdd(db, key, *valref);
    if (!(flags & SETKEY_NO_SIGNAL)) signalModifiedKey(c, db, key);
}

robj *setKeyFromArgv(client *c, serverDb *db, robj *key, int argidx, int flags) {
    robj *val = c->argv[argidx];
    c->argv[argidx] = NULL; /* the reference moves into the keyspace */
    setKey(c, db, key, &val, flags);
    incrRefCount(val);
    c->argv[argidx] = val;
    return val;
}

robj *dbUnshareStringValue(serverDb *db, robj *key, robj *o) {
    serverAssert(o->type == OBJ_STRING);
    objectNotifyChange(o); /* written in place next (e.g. PFCOUNT's cache on a read lookup) */
    if (o->refcount == 1 && o->encoding == OBJ_ENCODING_RAW) return o;
    sds k = keySds(key);
    void **ref = hashtableFindRef(db->keys, k);
    serverAssert(ref && *ref == o);
    void **eref = o->hasexpire ? hashtableFindRef(db->expires, k) : NULL;
    robj *n = objectUnshareStringValue(o);
    *ref = n;
    if (eref) *eref = n;
    return n;
}

/* ------------------------------------------------------------------------- */
/* Deleting                                                                    */
/* ------------------------------------------------------------------------- */

/* The one place where values leaving the keyspace are freed: big ones go to the
 * lazy-free thread when async is set (UNLINK, lazyfree-lazy-*). */
void dbFreeValue(robj *val, int async) {
    objectNotifyChange(val); /* tier state is dropped here, on the main thread */
    if (async && lazyfreeFreeObjectIfBig(val)) return;
    decrRefCount(val);
}

/* Removes the entry from both tables without freeing it; NULL when absent. */
static robj *dbUnlinkEntry(serverDb *db, sds key) {
    hashtablePosition pos;
    void **ref = hashtableTwoPhasePopFindRef(db->keys, key, &pos);
    if (!ref) return NULL;
    robj *o = *ref;
    if (o->hasexpire) hashtableDelete(db->expires, key);
    hashtableTwoPhasePopDelete(db->keys, &pos);
    if (o->cold) db->cold_keys--;
    signalDeletedKeyAsReadyByName(db, key, o->type);
    return o;
}

int dbGenericDelete(serverDb *db, robj *key, int async, int flags) {
    (void)flags; /* eviction / expiry specific hooks (module events) will use it */
    robj *o = dbUnlinkEntry(db, keySds(key));
    if (!o) return 0;
    dbFreeValue(o, async);
    return 1;
}

int dbSyncDelete(serverDb *db, robj *key) {
    return dbGenericDelete(db, key, 0, DB_FLAG_KEY_DELETED);
}

int dbAsyncDelete(serverDb *db, robj *key) {
    return dbGenericDelete(db, key, 1, DB_FLAG_KEY_DELETED);
}

int dbDelete(serverDb *db, robj *key) {
    return dbGenericDelete(db, key, server.lazyfree_lazy_server_del, DB_FLAG_KEY_DELETED);
}

/* ------------------------------------------------------------------------- */
/* Expire times (the commands are in expire.c)                                 */
/* ------------------------------------------------------------------------- */

long long getExpire(serverDb *db, robj *key) {
    robj *o = dbFind(db, keySds(key));
    return o ? objectGetExpire(o) : -1;
}

robj *setExpire(client *c, serverDb *db, robj *key, long long when) {
    if (when == -1) {
        removeExpire(db, key);
        return dbFind(db, keySds(key));
    }
    sds k = keySds(key);
    void **ref = hashtableFindRef(db->keys, k);
    serverAssert(ref);
    robj *old = *ref;
    void **eref = old->hasexpire ? hashtableFindRef(db->expires, k) : NULL;
    robj *o = objectSetExpire(old, when);
    *ref = o;
    if (eref) {
        *eref = o;
    } else {
        int added = hashtableAdd(db->expires, o);
        serverAssert(added);
    }
    fixArgvReferences(c, old, o);
    return o;
}

int removeExpire(serverDb *db, robj *key) {
    sds k = keySds(key);
    void **ref = hashtableFindRef(db->keys, k);
    if (!ref || !((robj *)*ref)->hasexpire) return 0;
    robj *old = *ref;
    int deleted = hashtableDelete(db->expires, k);
    serverAssert(deleted);
    robj *o = objectSetExpire(old, -1);
    *ref = o;
    fixArgvReferences(NULL, old, o);
    return 1;
}

int checkAlreadyExpired(long long when) {
    /* While loading, keys are kept: the expiry happens (and propagates) afterwards. */
    return when <= commandTimeSnapshot() && !server.loading;
}

int keyIsExpired(serverDb *db, robj *key) {
    robj *o = dbFind(db, keySds(key));
    return o && objectIsExpired(o);
}

/* Expiry is suspended while clients are paused, so the dataset does not change. */
static int expiryPaused(void) {
    return server.pause_type != CLIENT_PAUSE_OFF && checkClientPauseTimeoutAndReturnIfPaused();
}

keyStatus expireIfNeeded(serverDb *db, robj *key, int flags) {
    if (server.lazy_expire_disabled) return KEY_VALID;
    if (!keyIsExpired(db, key)) return KEY_VALID;
    /* A replica waits for its primary's DEL: the primary's commands still see the key,
     * other clients do not. */
    if (replicationIsReplica()) {
        if (server.current_client && (server.current_client->flags & CLIENT_PRIMARY)) return KEY_VALID;
        if (!(flags & EXPIRE_FORCE_DELETE_EXPIRED)) return KEY_EXPIRED;
    }
    /* Replicas will leave expired keys to their primary here (unless forced). */
    if (flags & EXPIRE_AVOID_DELETE_EXPIRED) return KEY_EXPIRED;
    if (expiryPaused()) return KEY_EXPIRED;
    deleteExpiredKeyAndPropagate(db, key);
    return KEY_DELETED;
}

void deleteExpiredKeyAndPropagate(serverDb *db, robj *keyobj) {
    int lazy = server.lazyfree_lazy_expire;
    dbGenericDelete(db, keyobj, lazy, DB_FLAG_KEY_EXPIRED);
    notifyKeyspaceEvent(NOTIFY_EXPIRED, "expired", keyobj, db->id);
    signalModifiedKey(NULL, db, keyobj);
    propagateDeletion(db, keyobj, lazy);
    server.stat_expiredkeys++;
}

/* ------------------------------------------------------------------------- */
/* Whole databases                                                             */
/* ------------------------------------------------------------------------- */

long long emptyData(int dbnum, int flags, void(callback)(hashtable *)) {
    if (dbnum < -1 || dbnum >= server.dbnum) return -1;
    int start = dbnum == -1 ? 0 : dbnum, end = dbnum == -1 ? server.dbnum - 1 : dbnum;
    long long removed = 0;
    /* WATCHed keys must be signalled while the keys are still there. */
    signalFlushedDb(dbnum, flags & EMPTYDB_ASYNC);
    tierBeforeFlush(dbnum);
    for (int j = start; j <= end; j++) {
        serverDb *db = &server.db[j];
        removed += hashtableSize(db->keys);
        /* Cold values are released on the main thread (their flash space is ours). */
        int async = (flags & EMPTYDB_ASYNC) && db->cold_keys == 0;
        db->cold_keys = 0;
        if (async && lazyfreeFreeTablesIfBig(db->keys, db->expires)) {
            db->keys = hashtableCreate(&keysHashtableType);
            db->expires = hashtableCreate(&expiresHashtableType);
        } else {
            hashtableEmpty(db->expires, callback); /* not owning: empty it first */
            hashtableEmpty(db->keys, callback);
        }
        db->avg_ttl = 0;
        db->expires_cursor = 0;
        scanDatabaseForDeletedKeys(db);
    }
    return removed;
}

int selectDb(client *c, int id) {
    if (id < 0 || id >= server.dbnum) return C_ERR;
    c->db = &server.db[id];
    return C_OK;
}

long long dbTotalServerKeyCount(void) {
    long long total = 0;
    for (int j = 0; j < server.dbnum; j++) total += hashtableSize(server.db[j].keys);
    return total;
}

void databasesCron(void) {
    if (!server.activerehashing) return;
    long long deadline = ustime() + DB_CRON_REHASH_BUDGET_US;
    for (int j = 0; j < server.dbnum; j++) {
        hashtable *tables[2] = {server.db[j].keys, server.db[j].expires};
        for (int t = 0; t < 2; t++) {
            if (!hashtableIsRehashing(tables[t])) continue;
            long long left = deadline - ustime();
            if (left <= 0) return;
            hashtableRehashMicroseconds(tables[t], (uint64_t)left);
        }
    }
}

/* Exchanges the contents of two databases; clients keep their selected index and so see
 * the other data set. */
int dbSwapDatabases(int id1, int id2) {
    if (id1 < 0 || id1 >= server.dbnum || id2 < 0 || id2 >= server.dbnum) return C_ERR;
    if (id1 == id2) return C_OK;
    serverDb *a = &server.db[id1], *b = &server.db[id2];
    /* Watchers stay with their database index: a key whose logical state differs
     * between the two data sets is a change for them (before the swap, to compare). */
    touchAllWatchedKeysInDb(a, b);
    touchAllWatchedKeysInDb(b, a);
    serverDb tmp = *a;
    a->keys = b->keys;
    a->expires = b->expires;
    a->avg_ttl = b->avg_ttl;
    a->expires_cursor = b->expires_cursor;
    a->cold_keys = b->cold_keys;
    a->tier_id = b->tier_id;
    b->keys = tmp.keys;
    b->expires = tmp.expires;
    b->avg_ttl = tmp.avg_ttl;
    b->expires_cursor = tmp.expires_cursor;
    b->cold_keys = tmp.cold_keys;
    b->tier_id = tmp.tier_id;
    /* Clients blocked on keys stay with their database index, like watchers. */
    scanDatabaseForReadyKeys(a);
    scanDatabaseForReadyKeys(b);
    scanDatabaseForDeletedKeys(a);
    scanDatabaseForDeletedKeys(b);
    return C_OK;
}

robj *dbRandomKey(serverDb *db) {
    int expired_tries = 0;
    for (;;) {
        void *entry;
        if (!hashtableFairRandomEntry(db->keys, &entry)) return NULL;
        robj *o = entry;
        sds k = objectGetKey(o);
        robj *keyobj = createStringObject(k, sdslen(k));
        if (!objectIsExpired(o)) return keyobj;
        keyStatus status = expireIfNeeded(db, keyobj, 0);
        if (status == KEY_VALID) return keyobj;
        decrRefCount(keyobj);
        if (status == KEY_EXPIRED && ++expired_tries >= RANDOMKEY_MAX_EXPIRED_TRIES) return NULL;
    }
}

int getFlushCommandFlags(client *c, int *flags) {
    if (c->argc == 1) {
        *flags = server.lazyfree_lazy_user_flush ? EMPTYDB_ASYNC : EMPTYDB_NO_FLAGS;
    } else if (c->argc == 2 && !strcasecmp(objectGetVal(c->argv[1]), "sync")) {
        *flags = EMPTYDB_NO_FLAGS;
    } else if (c->argc == 2 && !strcasecmp(objectGetVal(c->argv[1]), "async")) {
        *flags = EMPTYDB_ASYNC;
    } else {
        addReplyErrorObject(c, shared.syntaxerr);
        return C_ERR;
    }
    return C_OK;
}

/* ------------------------------------------------------------------------- */
/* Commands                                                                    */
/* ------------------------------------------------------------------------- */

static void delGenericCommand(client *c, int lazy) {
    long long deleted = 0;
    for (int j = 1; j < c->argc; j++) {
        if (expireIfNeeded(c->db, c->argv[j], 0) == KEY_DELETED) continue;
        if (!dbGenericDelete(c->db, c->argv[j], lazy, DB_FLAG_KEY_DELETED)) continue;
        signalModifiedKey(c, c->db, c->argv[j]);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", c->argv[j], c->db->id);
        server.dirty++;
        deleted++;
    }
    addReplyLongLong(c, deleted);
}

void delCommand(client *c) {
    delGenericCommand(c, server.lazyfree_lazy_user_del);
}

void unlinkCommand(client *c) {
    delGenericCommand(c, 1);
}

void existsCommand(client *c) {
    long long count = 0;
    for (int j = 1; j < c->argc; j++)
        if (lookupKeyReadWithFlags(c->db, c->argv[j], LOOKUP_NOTOUCH)) count++;
    addReplyLongLong(c, count);
}

void touchCommand(client *c) {
    long long touched = 0;
    for (int j = 1; j < c->argc; j++)
        if (lookupKeyRead(c->db, c->argv[j])) touched++;
    addReplyLongLong(c, touched);
}

void typeCommand(client *c) {
    robj *o = lookupKeyReadWithFlags(c->db, c->argv[1], LOOKUP_NOTOUCH);
    addReplyStatus(c, o ? typeName(o->type) : "none");
}

void dbsizeCommand(client *c) {
    addReplyLongLong(c, (long long)hashtableSize(c->db->keys));
}

void selectCommand(client *c) {
    int id;
    if (getIntFromObjectOrReply(c, c->argv[1], &id, NULL) != C_OK) return;
    if (selectDb(c, id) == C_ERR) addReplyError(c, "DB index is out of range");
    else addReply(c, shared.ok);
}

/* jemalloc keeps freed pages while the server is idle: after a big synchronous flush,
 * hand them back now (the flush was slow anyway). */
static void releaseFreedPages(int flags) {
    if (!(flags & EMPTYDB_ASYNC)) jemalloc_purge();
}

void flushdbCommand(client *c) {
    int flags;
    if (getFlushCommandFlags(c, &flags) == C_ERR) return;
    server.dirty += emptyData(c->db->id, flags | EMPTYDB_NOFUNCTIONS, NULL);
    /* Replicated even when the database was already empty. */
    forceCommandPropagation(c, CMD_CALL_PROPAGATE);
    addReply(c, shared.ok);
    releaseFreedPages(flags);
}

/* Persistence (rdb.c): stops a background save and writes the empty dataset when save
 * points are configured. */
void rdbFlushallHook(void) __attribute__((weak));

void flushallCommand(client *c) {
    int flags;
    if (getFlushCommandFlags(c, &flags) == C_ERR) return;
    server.dirty += emptyData(-1, flags | EMPTYDB_NOFUNCTIONS, NULL);
    if (rdbFlushallHook) rdbFlushallHook();
    /* The +1 makes even an empty FLUSHALL count as a change (after the save reset it). */
    server.dirty++;
    forceCommandPropagation(c, CMD_CALL_PROPAGATE);
    addReply(c, shared.ok);
    releaseFreedPages(flags);
}

void swapdbCommand(client *c) {
    int id1, id2;
    if (getIntFromObjectOrReply(c, c->argv[1], &id1, "invalid first DB index") != C_OK) return;
    if (getIntFromObjectOrReply(c, c->argv[2], &id2, "invalid second DB index") != C_OK) return;
    if (dbSwapDatabases(id1, id2) == C_ERR) {
        addReplyError(c, "DB index is out of range");
        return;
    }
    server.dirty++;
    addReply(c, shared.ok);
}

void randomkeyCommand(client *c) {
    robj *key = dbRandomKey(c->db);
    if (!key) {
        addReplyNull(c);
        return;
    }
    addReplyBulk(c, key);
    decrRefCount(key);
}

void keysCommand(client *c) {
    sds pattern = objectGetVal(c->argv[1]);
    int plen = (int)sdslen(pattern), all = plen == 1 && pattern[0] == '*';
    void *replylen = addReplyDeferredLen(c);
    long numkeys = 0;
    hashtableIterator iter;
    hashtableInitIterator(&iter, c->db->keys);
    void *entry;
    while (hashtableNext(&iter, &entry)) {
        robj *o = entry;
        sds key = objectGetKey(o);
        if (!all && !stringmatchlen(pattern, plen, key, (int)sdslen(key), 0)) continue;
        if (objectIsExpired(o)) continue;
        addReplyBulkCBuffer(c, key, sdslen(key));
        numkeys++;
    }
    hashtableResetIterator(&iter);
    setDeferredArrayLen(c, replylen, numkeys);
}

/* Moves the entry of `key` in src to the same key in dst, keeping its expire time.
 * Fails (0) when the key is missing from src or present in dst. */
static void renameGenericCommand(client *c, int nx) {
    robj *src = c->argv[1], *dst = c->argv[2];
    int samekey = sdslen(keySds(src)) == sdslen(keySds(dst)) &&
                  memcmp(keySds(src), keySds(dst), sdslen(keySds(src))) == 0;
    if (!lookupKeyWriteOrReply(c, src, shared.nokeyerr)) return;
    if (samekey) {
        addReply(c, nx ? shared.czero : shared.ok);
        return;
    }
    if (lookupKeyWrite(c->db, dst)) {
        if (nx) {
            addReply(c, shared.czero);
            return;
        }
        dbDelete(c->db, dst);
    }
    /* The entry is re-keyed in place: the value is never copied. */
    robj *o = dbUnlinkEntry(c->db, keySds(src));
    long long expire = objectGetExpire(o);
    dbInsert(c->db, keySds(dst), o, expire);
    notifyKeyspaceEvent(NOTIFY_NEW, "new", dst, c->db->id);
    signalModifiedKey(c, c->db, src);
    signalModifiedKey(c, c->db, dst);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "rename_from", src, c->db->id);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "rename_to", dst, c->db->id);
    server.dirty++;
    addReply(c, nx ? shared.cone : shared.ok);
}

void renameCommand(client *c) {
    renameGenericCommand(c, 0);
}

void renamenxCommand(client *c) {
    renameGenericCommand(c, 1);
}

/* Parses a DB index argument: replies and returns NULL when it is not valid. */
static serverDb *parseDbIndexOrReply(client *c, robj *arg) {
    int id;
    if (getIntFromObjectOrReply(c, arg, &id, NULL) != C_OK) return NULL;
    if (id < 0 || id >= server.dbnum) {
        addReplyError(c, "DB index is out of range");
        return NULL;
    }
    return &server.db[id];
}

void moveCommand(client *c) {
    robj *key = c->argv[1];
    serverDb *src = c->db, *dst = parseDbIndexOrReply(c, c->argv[2]);
    if (!dst) return;
    if (src == dst) {
        addReplyErrorObject(c, shared.sameobjecterr);
        return;
    }
    if (!lookupKeyWrite(src, key) || lookupKeyWrite(dst, key)) {
        addReply(c, shared.czero);
        return;
    }
    robj *o = dbUnlinkEntry(src, keySds(key));
    dbInsert(dst, keySds(key), o, objectGetExpire(o));
    notifyKeyspaceEvent(NOTIFY_NEW, "new", key, dst->id);
    signalModifiedKey(c, src, key);
    signalModifiedKey(c, dst, key);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "move_from", key, src->id);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "move_to", key, dst->id);
    server.dirty++;
    addReply(c, shared.cone);
}

void copyCommand(client *c) {
    robj *key = c->argv[1], *newkey = c->argv[2];
    serverDb *src = c->db, *dst = c->db;
    int replace = 0;
    for (int j = 3; j < c->argc; j++) {
        const char *opt = objectGetVal(c->argv[j]);
        if (!strcasecmp(opt, "replace")) {
            replace = 1;
        } else if (!strcasecmp(opt, "db") && j + 1 < c->argc) {
            if (!(dst = parseDbIndexOrReply(c, c->argv[++j]))) return;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    if (src == dst && sdslen(keySds(key)) == sdslen(keySds(newkey)) &&
        memcmp(keySds(key), keySds(newkey), sdslen(keySds(key))) == 0) {
        addReplyErrorObject(c, shared.sameobjecterr);
        return;
    }
    robj *o = lookupKeyRead(src, key);
    if (!o) {
        addReply(c, shared.czero);
        return;
    }
    long long expire = objectGetExpire(o);
    int overwrite = 0;
    if (lookupKeyWrite(dst, newkey)) {
        if (!replace) {
            addReply(c, shared.czero);
            return;
        }
        overwrite = 1;
    }
    robj *copy = objectDup(o);
    if (!copy) {
        addReplyError(c, "unknown type object");
        return;
    }
    if (overwrite) dbDelete(dst, newkey);
    dbInsert(dst, keySds(newkey), copy, expire);
    notifyKeyspaceEvent(NOTIFY_NEW, "new", newkey, dst->id);
    signalModifiedKey(c, dst, newkey);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "copy_to", newkey, dst->id);
    server.dirty++;
    addReply(c, shared.cone);
}

/* ------------------------------------------------------------------------- */
/* SCAN                                                                        */
/* ------------------------------------------------------------------------- */

/* Cursor syntax accepted by Valkey: a canonical unsigned number, or anything strtoull
 * takes whole (leading zeros, '+'); negative numbers are refused. */
int parseScanCursorOrReply(client *c, robj *o, unsigned long long *cursor) {
    const char *s = objectGetVal(o);
    long long ll;
    if (string2ll(s, strlen(s), &ll)) {
        if (ll >= 0) {
            *cursor = (unsigned long long)ll;
            return C_OK;
        }
    } else if (*s != '\0' && *s != '-') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == 0 && *end == '\0') {
            *cursor = v;
            return C_OK;
        }
    }
    addReplyError(c, "invalid cursor");
    return C_ERR;
}

typedef struct {
    sds *keys;          /* copies: the entries may be deleted (expired) before the reply */
    unsigned char *expired;
    size_t count, cap;
    const char *pattern;
    int patlen;
    int type;           /* -1: any */
    int unknown_type;   /* TYPE named no type: nothing matches */
} scanData;

static void scanCollect(void *privdata, void *entry) {
    scanData *d = privdata;
    robj *o = entry;
    sds key = objectGetKey(o);
    if (d->unknown_type || (d->type != -1 && o->type != d->type)) return;
    if (d->pattern && !stringmatchlen(d->pattern, d->patlen, key, (int)sdslen(key), 0)) return;
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->keys = zrealloc(d->keys, d->cap * sizeof(sds));
        d->expired = zrealloc(d->expired, d->cap);
    }
    d->expired[d->count] = objectIsExpired(o);
    d->keys[d->count++] = sdsnewlen(key, sdslen(key));
}

void scanCommand(client *c) {
    unsigned long long cursor;
    if (parseScanCursorOrReply(c, c->argv[1], &cursor) != C_OK) return;
    long count = 10;
    scanData d = {.type = -1};
    for (int i = 2; i < c->argc;) {
        const char *opt = objectGetVal(c->argv[i]);
        int has_value = i + 1 < c->argc;
        if (!strcasecmp(opt, "count") && has_value) {
            if (getLongFromObjectOrReply(c, c->argv[i + 1], &count, NULL) != C_OK) return;
            if (count < 1) {
                addReplyErrorObject(c, shared.syntaxerr);
                return;
            }
            i += 2;
        } else if (!strcasecmp(opt, "match") && has_value) {
            sds pat = objectGetVal(c->argv[i + 1]);
            int all = sdslen(pat) == 1 && pat[0] == '*';
            d.pattern = all ? NULL : pat;
            d.patlen = (int)sdslen(pat);
            i += 2;
        } else if (!strcasecmp(opt, "type") && has_value) {
            /* Valkey 8 accepts an unknown type name and returns nothing for it. */
            d.type = objectTypeByName(objectGetVal(c->argv[i + 1]));
            d.unknown_type = d.type == -1;
            i += 2;
        } else if (!strcasecmp(opt, "novalues")) {
            addReplyError(c, "NOVALUES option can only be used in HSCAN");
            return;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }

    /* Bounded work per call even for a sparse table; a huge COUNT must not overflow. */
    long max_buckets = count > LONG_MAX / SCAN_MAX_BUCKETS_PER_COUNT ? LONG_MAX : count * SCAN_MAX_BUCKETS_PER_COUNT;
    do {
        cursor = hashtableScan(c->db->keys, (size_t)cursor, scanCollect, &d);
    } while (cursor && --max_buckets > 0 && d.count < (size_t)count);

    char buf[LONG_STR_SIZE];
    int len = ull2string(buf, sizeof(buf), cursor);
    addReplyArrayLen(c, 2);
    addReplyBulkCBuffer(c, buf, len);
    void *replylen = addReplyDeferredLen(c);
    long returned = 0;
    for (size_t j = 0; j < d.count; j++) {
        sds key = d.keys[j];
        int skip = 0;
        if (d.expired[j]) {
            robj *keyobj = createStringObject(key, sdslen(key));
            skip = expireIfNeeded(c->db, keyobj, 0) != KEY_VALID;
            decrRefCount(keyobj);
        }
        if (!skip) {
            addReplyBulkCBuffer(c, key, sdslen(key));
            returned++;
        }
        sdsfree(key);
    }
    setDeferredArrayLen(c, replylen, returned);
    zfree(d.keys);
    zfree(d.expired);
}
