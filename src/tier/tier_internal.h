/* tier_internal.h -- state shared by the files of src/tier/ (not for the rest of the
 * server: it sees tier.h only).
 *
 *   tier.c          tables, object hooks, aliases, flushes
 *   tier_demote.c   demotion (eviction, loading, FLASH.DEBUG.DEMOTE)
 *   tier_promote.c  promotion (commands, synchronous reads, persistence)
 *   tier_server.c   directives, start-up, event loop, compaction, INFO, commands
 */
#ifndef TIER_INTERNAL_H
#define TIER_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "flash_store.h"
#include "io_engine.h"
#include "../hashtable.h"
#include "../object.h"

struct serverDb;
struct client;
struct histogram;

typedef struct tierConfig {
    char *path;                       /* flash-path; NULL: tiering off */
    unsigned long long capacity;      /* flash-capacity */
    unsigned long long min_value_size; /* flash-min-value-size */
    int io_depth;                     /* flash-io-depth */
    int io_engine;                    /* flash-io-engine (ioEngineKind) */
    unsigned long long segment_size;  /* flash-segment-size */
    int watermark;                    /* flash-demotion-watermark, % of maxmemory */
    unsigned long long max_inflight;  /* flash-demotion-max-inflight, bytes */
    int compaction;                   /* flash-compaction yes/no */
    unsigned long long compaction_rate; /* flash-compaction-rate, bytes per second */
    int compaction_live_ratio;        /* flash-compaction-live-ratio, % */
    int compaction_free_ratio;        /* flash-compaction-free-ratio, % */
} tierConfig;
extern tierConfig tier_conf;

#define TIER_OBJ_DEMOTING 1
#define TIER_OBJ_CLEAN 2

/* A hot object with tier state. Keyed by the object's address. */
typedef struct tierObjEntry {
    uint64_t obj; /* robj *, the key */
    struct serverDb *db;
    int kind;
    int orphan;        /* DEMOTING whose object changed: drop the record when written */
    int encoding;      /* the object's encoding when its record was made: the record holds
                        * that representation, so a conversion since voids it */
    flashLocation loc; /* CLEAN: the copy on flash */
    size_t bytes;      /* DEMOTING: serialised size, counted in flight */
    size_t ram;        /* DEMOTING: RAM the swap will give back (estimate) */
    uint64_t born;     /* CLEAN: loop iteration of the promotion (its readers run then) */
    int transient;     /* CLEAN: read through, to go back to cold once its reader ran */
    struct list *waiters; /* DEMOTING: clients of FLASH.DEBUG.DEMOTE (ids), or NULL */
} tierObjEntry;

/* A promotion in flight. Keyed by location. */
typedef struct tierWaiter {
    uint64_t client_id;
    uint64_t token;
} tierWaiter;
typedef struct tierRead {
    uint64_t loc;
    struct serverDb *db;
    sds key;
    long long start_us;
    int transient; /* read through: the value goes back to cold after its one reader */
    int nwaiters, cap;
    tierWaiter *waiters;
} tierRead;

/* A renamed or moved cold record: where its key is now. Keyed by location. */
typedef struct tierAlias {
    uint64_t loc;
    int tier_id;
    sds key;
} tierAlias;

/* A client's wait (client->tier_wait). */
typedef struct tierClientWait {
    uint64_t token;   /* bumped at each wait: late completions of an old one are ignored */
    unsigned pending; /* reads not landed yet */
    sds error;        /* a read failed: the retried command fails with this */
    int retried;      /* the command runs again after its wait: do not wait twice */
} tierClientWait;

#define TIER_STATE_OFF 0
#define TIER_STATE_READY 1
#define TIER_STATE_ERROR 2

typedef struct tierRuntime {
    int state;
    char *error; /* why the state is ERROR */
    ioEngine *io;
    flashStore *fs;
    hashtable *objects, *reads, *aliases;
    pthread_t main_thread;
    uint64_t next_version, next_token;
    uint64_t loop_iteration; /* event-loop turns, counted at the end of beforeSleep */
    unsigned turn_completions; /* I/O completions handled in this event-loop turn */
    /* Read-through promotions (tier_promote.c): the idle time values have when eviction
     * demotes them (a running average, ms), when that last happened, and the values read
     * through that go back to cold in a later turn. */
    double victim_idle_ms;
    long long last_evict_demotion_ms;
    struct transientValue *transient;
    size_t transient_len, transient_cap;
    size_t demote_inflight_bytes; /* serialised bytes being written */
    size_t demote_inflight_ram;   /* RAM those writes will give back */
    unsigned long demote_inflight;
    int flash_full;          /* the last append found no space */
    long long demote_exhausted_until_ms; /* no victim found: back off until then */
    int fork_active;         /* flashStoreForkBegin without End yet */
    struct list *memory_waiters; /* client ids blocked by TIER_EVICT_WAIT */
    struct histogram *read_latency; /* microseconds */
    /* Statistics. */
    unsigned long long stat_demotions, stat_demotions_cancelled, stat_demotion_failures;
    unsigned long long stat_demoted_bytes, stat_clean_demotions;
    unsigned long long stat_promotions, stat_sync_promotions, stat_read_failures;
    unsigned long long stat_blocked_commands, stat_memory_waits, stat_leaked_frees;
    unsigned long long stat_compaction_runs, stat_readthrough_promotions;
} tierRuntime;
extern tierRuntime tier;

/* tier.c */
void tierCreateTables(void);
void tierInstallObjectHooks(void);
struct serverDb *tierDbById(int tier_id);
tierObjEntry *tierObjLookup(robj *o);
tierObjEntry *tierObjFind(const robj *o); /* by address only: o may be gone */
void tierFreeLocation(flashLocation loc);
void tierAliasDelete(flashLocation loc);
robj *tierFindOwner(int tier_id, const char *key, size_t klen, flashLocation loc, tierObjEntry **clean);

/* tier_demote.c */
int tierDemoteKey(struct serverDb *db, robj *o, struct client *waiter); /* TIER_DEMOTE_* */
#define TIER_DEMOTE_STARTED 0
#define TIER_DEMOTE_ALREADY_COLD 1
#define TIER_DEMOTE_DONE 2       /* a clean copy: cold at once */
#define TIER_DEMOTE_IN_FLIGHT 3  /* already being demoted (waiter added) */
#define TIER_DEMOTE_REFUSED (-1) /* type, size or sharing keeps it in RAM */
#define TIER_DEMOTE_NOSPACE (-2)
#define TIER_DEMOTE_BUSY (-3)
void tierDemoteIfNeeded(void);
void tierWakeMemoryWaiters(void);
int tierWantsReadThrough(robj *o); /* read-through admission of a cold value read now */

/* tier_promote.c */
typedef struct transientValue {
    robj *obj; /* compared, never dereferenced, until its CLEAN entry proves it alive */
    flashLocation loc;
} transientValue;
void tierDemoteTransient(void);
robj *tierDecodeRecord(robj *cold, const unsigned char *val, size_t vlen);
/* Reads the cold entry o of db with pread and swaps the value in (counted as a sync
 * promotion); returns the hot entry, or NULL when the record cannot be read (logged). */
robj *tierPromoteSync(struct serverDb *db, robj *o);

#endif
