/* evict.h -- living within `maxmemory` and `maxmemory-clients`.
 *
 * Keys. When the memory counted for eviction (used memory minus what other subsystems
 * declare as not counted: replication and AOF buffers) is above `maxmemory`, keys are
 * removed according to `maxmemory-policy`, the way Valkey does it:
 *   - LRU / LFU / TTL policies sample `maxmemory-samples` entries of every database (all
 *     keys, or only the volatile ones), score them (idle time; 255 minus the LFU counter;
 *     nearness of the expire time) and keep the best candidates seen so far in a small
 *     pool that survives between calls, so each choice benefits from earlier samples;
 *   - random policies take a random key of the next non-empty database in turn;
 *   - noeviction removes nothing: commands flagged deny-oom then get the OOM error.
 *
 * Choosing and acting are separate steps, so tiering can reuse the choice:
 *   1. evictionSelectVictims() picks the best victims (database + keyspace entry) without
 *      changing anything. Options select another policy than the configured one and a
 *      filter that skips entries the caller cannot act on (e.g. values already on flash).
 *   2. performEvictions() calls it one victim at a time and deletes what it gets (on the
 *      lazy-free thread with lazyfree-lazy-eviction), until memory is under the limit or
 *      the time budget of `maxmemory-eviction-tenacity` is spent; the rest then continues
 *      from a timer on each event-loop turn, and commands are not refused meanwhile.
 *   Tiering will call evictionSelectVictims() with its own filter and demote the values
 *   to flash instead of deleting the keys; deletion stays the fall-back when flash is
 *   full.
 *
 * Clients. With `maxmemory-clients` (bytes, or a percentage of maxmemory), when normal and
 * pub/sub clients together use more than the limit, the biggest ones are disconnected
 * first, never those with CLIENT NO-EVICT. Each client's share is refreshed after its reads
 * and before its commands (only while the limit is set) and by the clients cron.
 */
#ifndef EVICT_H
#define EVICT_H

#include <stddef.h>
#include "object.h"

struct client;
struct serverDb;

/* Registers the directives: maxmemory, maxmemory-policy, maxmemory-samples,
 * maxmemory-eviction-tenacity, lfu-log-factor, lfu-decay-time, maxmemory-clients. */
void evictRegister(void);

/* ---- Memory state ---- */

/* Provided by replication when it is linked in (weak): 1 on a replica that mirrors its
 * primary and so evicts nothing itself (replica-ignore-maxmemory yes). */
int replicaIgnoresMaxmemory(void);

/* Other subsystems declare memory that must not make keys go (replication buffers beyond
 * the backlog, the AOF buffer): each proc returns its current byte count. */
typedef size_t (*evictionNotCountedProc)(void);
void evictionRegisterNotCountedMemoryProc(evictionNotCountedProc proc);
size_t freeMemoryGetNotCountedMemory(void); /* INFO mem_not_counted_for_evict */

/* C_OK when under maxmemory (or none is set), C_ERR when over. Any pointer may be NULL:
 * total = used memory; logical = the part counted for eviction; tofree = bytes over the
 * limit (0 when under); level = logical / maxmemory. */
int getMaxmemoryState(size_t *total, size_t *logical, size_t *tofree, float *level);

/* ---- Choosing victims ---- */

typedef struct evictionVictim {
    struct serverDb *db;
    robj *val; /* the keyspace entry; its key is objectGetKey(val). Valid until something
                * else changes the keyspace: act on the victims before running commands
                * (deleting one victim does not move the others). */
} evictionVictim;

/* Returns 1 to accept an entry as a candidate, 0 to skip it. */
typedef int (*evictionFilterProc)(struct serverDb *db, robj *val, void *privdata);

typedef struct evictionSelectOptions {
    int policy;                /* a MAXMEMORY_* policy; 0 for maxmemory-policy */
    evictionFilterProc filter; /* NULL: every entry of the policy's class */
    void *privdata;
} evictionSelectOptions;

/* Fills out[] with up to max distinct victims, best first; returns how many (0 under
 * noeviction, when no key qualifies, or the filter rejects what sampling finds). opts may
 * be NULL. Selecting has no side effect on the keyspace. */
int evictionSelectVictims(evictionVictim *out, int max, const evictionSelectOptions *opts);

/* ---- Acting ---- */

#define EVICT_OK 0      /* under the limit, or nothing may be evicted now (loading, pause) */
#define EVICT_RUNNING 1 /* still over, eviction goes on from a timer: commands may run */
#define EVICT_FAIL 2    /* over the limit and nothing can be freed: deny-oom commands fail */
#define EVICT_WAIT 3    /* over the limit, demotions to flash in flight: deny-oom commands wait */
int performEvictions(void);

/* 1 when the command must get the OOM error while performEvictions() says EVICT_FAIL:
 * deny-oom commands, and EXEC of a transaction that queued one. */
int evictionCommandDeniedOnOOM(struct client *c);

/* From serverCron: restarts eviction left over (e.g. after CONFIG SET maxmemory) and
 * re-arms the client eviction check. */
void evictionCron(void);

/* INFO stats: time spent over maxmemory, in microseconds (the current episode, and all
 * finished episodes plus the current one). */
long long evictionCurrentExceededTimeUs(void);
long long evictionTotalExceededTimeUs(void);

/* ---- Clients ---- */

/* Bytes allowed to normal and pub/sub clients together; 0 when unlimited. */
size_t getClientEvictionLimit(void);
/* 1 for clients that maxmemory-clients may disconnect. */
int clientEvictionAllowed(struct client *c);
/* Disconnects the biggest evictable clients while clients are over the limit. Clients are
 * closed asynchronously (CLIENT_CLOSE_ASAP), so this is safe in any context. Returns the
 * number evicted. */
int evictClients(void);
/* Refreshes c's memory share and evicts clients when over the limit. Cheap when
 * maxmemory-clients is not set. Called before each command and after each read. */
void evictionClientMemoryChanged(struct client *c);

#endif
