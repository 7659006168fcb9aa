/* tier.h -- native tiering: what the rest of the server sees of values on flash.
 *
 * With `flash-path` set, values of cold keys move to a flash file and the keyspace keeps
 * a cold object in their place (object.h: objectIsCold, the location in the pointer
 * slot). Everything about the file, the I/O and the bookkeeping stays in src/tier/; the
 * server calls only the functions below:
 *
 *   - is this value cold:   objectIsCold(o) (object.h), tierEnabled();
 *   - fetch it:             tierPrepareCommand() before a command runs (asynchronous: the
 *                           client is blocked until its cold keys are back in RAM), and
 *                           tierPromoteSync() / tierLoadColdValue() for the rare paths
 *                           that cannot wait (undeclared keys of scripts, fork children);
 *   - demote:               tierEvict() from performEvictions() under maxmemory.
 *
 * The rest are hooks the keyspace, persistence and the event loop call at fixed points.
 */
#ifndef TIER_H
#define TIER_H

#include <stddef.h>
#include "../object.h"

struct client;
struct serverDb;
struct rio;

/* Registers the flash-* directives, the INFO section and the object hooks (startup). */
void tierRegister(void);
/* After the configuration is read: opens the flash file when flash-path is set. Exits
 * with a clear message when it cannot be used. */
void tierInit(void);
void tierShutdown(void);
int tierEnabled(void); /* a flash store is open and serving */

/* ---- Command dispatch ---- */
#define TIER_PREPARE_RUN 0     /* nothing cold (or nothing to wait for): run the command */
#define TIER_PREPARE_BLOCKED 1 /* the client waits for its cold values */
#define TIER_PREPARE_ERROR 2   /* a cold value could not be read: *err is the reply */
int tierPrepareCommand(struct client *c, sds *err);
void tierFreeClient(struct client *c); /* freeClient: drop the client's wait state */
/* Commands a script runs cannot wait: their cold keys are read synchronously first (and
 * counted). C_ERR with *err (no "-ERR" prefix) when a value cannot be read. */
int tierPromoteCommandKeysSync(struct client *c, sds *err);

/* ---- Keyspace hooks (db.c) ---- */
/* lookupKey found a cold value: returns it promoted (read synchronously, counted), the
 * cold object itself when the running command needs no value (TYPE, TTL, RENAME...), or
 * NULL when the read failed (logged and counted). */
robj *tierLookupCold(struct serverDb *db, robj *o);
void tierColdEntryInserted(struct serverDb *db, robj *o); /* RENAME / MOVE of a cold key */
void tierBeforeFlush(int dbnum);                            /* -1: all databases */

/* ---- Eviction (evict.c) ---- */
#define TIER_EVICT_NONE 0    /* tiering cannot help: evict or refuse as usual */
#define TIER_EVICT_OK 1      /* under the limit */
#define TIER_EVICT_RUNNING 2 /* demotions in flight will bring memory under the limit */
#define TIER_EVICT_WAIT 3    /* over the limit by more than is in flight: writers wait */
int tierEvict(void);
size_t tierDemotionThreshold(void); /* used memory above which demotion starts; 0: never */
void tierBlockForMemory(struct client *c); /* TIER_EVICT_WAIT: retried after demotions */
/* 1 when the demotions in flight will bring memory under maxmemory (TIER_EVICT_RUNNING). */
int tierDemotionsCoverExcess(void);

/* ---- Persistence ---- */
/* A decoded copy of a cold value (refcount 1, no key), read with pread: for fork
 * children, SAVE, DEBUG DIGEST, AOF rewrite. NULL when the record cannot be read. */
robj *tierLoadColdValue(robj *o);
ssize_t tierSaveColdValue(struct rio *r, robj *o); /* the stored RDB encoding, copied */
/* 1 when o's record fails its checksum (logged, naming the key). A snapshot leaves such a
 * key out instead of failing whole: its value is lost already, and a snapshot failing on
 * every attempt would lose what is written meanwhile (and stop writes under
 * stop-writes-on-bgsave-error). Any other read error returns 0 and the save fails on it. */
int tierColdValueCorrupt(robj *o);
void tierForkBegin(void);                          /* before fork() of a child that saves */
/* A whole-database pass (a save, an AOF rewrite, a digest): calls fn on every entry of
 * db, the cold ones last, in the order of their place on flash and through one read-ahead
 * window, so their records are read sequentially instead of one random read each. Stops
 * at fn's first non-zero return and returns it; 0 when every entry was visited. */
typedef int tierEntryProc(robj *o, void *ctx);
int tierForEachEntryColdLast(struct serverDb *db, tierEntryProc *fn, void *ctx);
void tierLoadingProgress(void);                    /* RDB/AOF load: demote within budget */

/* ---- Event loop ---- */
void tierBeforeSleep(void); /* completions, demotion: before commands are served */
void tierSubmitIo(void);    /* last thing before sleeping: flush appends, submit I/O */
void tierCron(void);

/* ---- Introspection ---- */
unsigned long long tierColdKeys(void);
/* FLASH.MIGRATE.PROBE (tier_probe.c): returns the state ("ready", "recovering", "error",
 * or "disabled" without flash-path) and fills the file's capacity, its free bytes (free
 * segments) and its path ("" without tiering). */
const char *tierProbeFigures(unsigned long long *capacity, unsigned long long *free_bytes, const char **path);

#endif
