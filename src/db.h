/* db.h -- the keyspace: databases of keys, lookups with lazy expiry, adding,
 * overwriting and deleting keys, expire times, and the active expire cycle.
 *
 * Each database keeps two hashtables of the same objects: `keys` holds every
 * keyspace entry (a value object with its key embedded), `expires` holds those that
 * carry a TTL. The expire time lives in the object, so the second table costs one
 * slot per volatile key and nothing else.
 */
#ifndef DB_H
#define DB_H

#include "object.h"
#include "hashtable.h"

struct client;

typedef struct serverDb {
    hashtable *keys;
    hashtable *expires;
    int id;
    long long avg_ttl;
    unsigned long expires_cursor; /* active expire cycle position */
    unsigned long long cold_keys; /* entries whose value is on flash (tiering) */
    int tier_id; /* names this keyspace in flash records; SWAPDB carries it along */
} serverDb;

/* Lookup flags. */
#define LOOKUP_NONE 0
#define LOOKUP_NOTOUCH (1 << 0)   /* don't update LRU/LFU */
#define LOOKUP_NONOTIFY (1 << 1)  /* no keyspace miss notification */
#define LOOKUP_NOSTATS (1 << 2)   /* don't count hits/misses */
#define LOOKUP_WRITE (1 << 3)     /* a lookup for a write */
#define LOOKUP_NOEXPIRE (1 << 4)  /* don't delete an expired key (e.g. in a replica) */
#define LOOKUP_NOEFFECTS (LOOKUP_NONOTIFY | LOOKUP_NOSTATS | LOOKUP_NOTOUCH | LOOKUP_NOEXPIRE)

robj *lookupKey(serverDb *db, robj *key, int flags);
robj *lookupKeyRead(serverDb *db, robj *key);
robj *lookupKeyWrite(serverDb *db, robj *key);
robj *lookupKeyReadWithFlags(serverDb *db, robj *key, int flags);
robj *lookupKeyWriteWithFlags(serverDb *db, robj *key, int flags);
robj *lookupKeyReadOrReply(struct client *c, robj *key, robj *reply);
robj *lookupKeyWriteOrReply(struct client *c, robj *key, robj *reply);
/* Lookup without side effects (no expiry, no stats, no LRU): for introspection. */
robj *dbFind(serverDb *db, sds key);

/* Adding and replacing. The value reference passed in is consumed: the keyspace now
 * owns it. The object actually stored may be a different allocation (the key is
 * embedded into it), so callers use the returned pointer from then on. */
robj *dbAdd(serverDb *db, robj *key, robj *val);
/* RDB loading: on success (1) takes key and val; 0 if the key exists, nothing taken.
 * An expire set on val beforehand (objectSetExpire) is kept. */
int dbAddRDBLoad(serverDb *db, sds key, robj *val);
robj *dbReplaceValue(serverDb *db, robj *key, robj *val); /* keeps the expire; key must exist */
/* Tiering: the entry `old` becomes `replacement` (same key and expire; one of them
 * cold). Nothing is freed, signalled or notified: the value is logically the same. */
void dbReplaceEntryObject(serverDb *db, robj *old, robj *replacement);
#define SETKEY_KEEPTTL 1
#define SETKEY_NO_SIGNAL 2
#define SETKEY_ALREADY_EXIST 4
#define SETKEY_DOESNT_EXIST 8
/* High level set: add or overwrite, drop the TTL unless KEEPTTL, signal the key as
 * modified. *valref is consumed and updated to the stored object. */
void setKey(struct client *c, serverDb *db, robj *key, robj **valref, int flags);
/* Same, for a value that is argument `argidx` of the client's command: the argument
 * object is moved into the keyspace without a copy and argv[argidx] then refers to the
 * stored object, so propagation and MONITOR still see it. Returns the stored object. */
robj *setKeyFromArgv(struct client *c, serverDb *db, robj *key, int argidx, int flags);

/* Deleting. */
int dbDelete(serverDb *db, robj *key);
int dbSyncDelete(serverDb *db, robj *key);
int dbAsyncDelete(serverDb *db, robj *key);
int dbGenericDelete(serverDb *db, robj *key, int async, int flags);
#define DB_FLAG_KEY_NONE 0
#define DB_FLAG_KEY_DELETED (1 << 0)
#define DB_FLAG_KEY_EXPIRED (1 << 1)
#define DB_FLAG_KEY_EVICTED (1 << 2)
#define DB_FLAG_KEY_OVERWRITE (1 << 3)
/* Free a value that left the keyspace, on the lazy-free thread when it is big. */
void dbFreeValue(robj *val, int async);

/* Lazy free (lazyfree.c): a background thread frees what left the keyspace when it is
 * big. Each collection type registers the effort of freeing a value (about the number of
 * allocations behind it); strings count 1. */
typedef size_t (*lazyfreeEffortProc)(const robj *o);
void lazyfreeRegisterEffortProc(int type, lazyfreeEffortProc proc);
size_t lazyfreeFreeEffort(const robj *o);
int lazyfreeFreeObjectIfBig(robj *o); /* 1: queued (consumed); 0: caller frees it */
int lazyfreeFreeTablesIfBig(hashtable *keys, hashtable *expires); /* 1: queued */
size_t lazyfreeGetPendingObjectsCount(void); /* INFO lazyfree_pending_objects */
size_t lazyfreeGetFreedObjectsCount(void);   /* INFO lazyfreed_objects */
void lazyfreeResetStats(void);               /* CONFIG RESETSTAT */

/* A string value about to be modified in place (APPEND, SETRANGE, SETBIT): returns
 * the keyspace object, unshared and RAW encoded. */
robj *dbUnshareStringValue(serverDb *db, robj *key, robj *o);

/* Expiry. Times are absolute unix milliseconds, -1 for none. */
long long getExpire(serverDb *db, robj *key);
robj *setExpire(struct client *c, serverDb *db, robj *key, long long when); /* returns the (maybe moved) object */
int removeExpire(serverDb *db, robj *key);
int checkAlreadyExpired(long long when);
#define EXPIRE_FORCE_DELETE_EXPIRED 1
#define EXPIRE_AVOID_DELETE_EXPIRED 2
typedef enum { KEY_VALID = 0, KEY_EXPIRED, KEY_DELETED } keyStatus;
keyStatus expireIfNeeded(serverDb *db, robj *key, int flags);
int keyIsExpired(serverDb *db, robj *key);
void deleteExpiredKeyAndPropagate(serverDb *db, robj *keyobj);
/* Active expiry, from the cron (slow cycle) and before sleeping (fast cycle). */
#define ACTIVE_EXPIRE_CYCLE_SLOW 0
#define ACTIVE_EXPIRE_CYCLE_FAST 1
void activeExpireCycle(int type);
/* Running estimate of the share of expired keys still in memory, in percent: INFO's
 * expired_stale_perc (server.stat_expired_stale_perc holds it rounded to a whole percent). */
double activeExpireStalePercent(void);

/* Whole-database operations. */
#define EMPTYDB_NO_FLAGS 0
#define EMPTYDB_ASYNC (1 << 0)
#define EMPTYDB_NOFUNCTIONS (1 << 1)
long long emptyData(int dbnum, int flags, void(callback)(hashtable *));
int selectDb(struct client *c, int id);
long long dbTotalServerKeyCount(void);
void initDatabases(void);
void databasesCron(void); /* incremental rehash of the keyspace tables */
int dbSwapDatabases(int id1, int id2);

/* Modification hooks: WATCH, client tracking, and tiering listen here. */
void signalModifiedKey(struct client *c, serverDb *db, robj *key);
void signalFlushedDb(int dbid, int async);

/* Random key and key-name helpers. */
robj *dbRandomKey(serverDb *db); /* a new key object, NULL when empty */
int getFlushCommandFlags(struct client *c, int *flags);
/* SCAN cursor argument, shared with HSCAN/SSCAN/ZSCAN: replies "invalid cursor" on error. */
int parseScanCursorOrReply(struct client *c, robj *o, unsigned long long *cursor);

#endif
