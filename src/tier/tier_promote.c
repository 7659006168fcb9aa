/* tier_promote.c -- bringing cold values back to RAM.
 *
 * Before a command runs, tierPrepareCommand() asks its key specs which keys it reads or
 * updates (overwrites and deletions need no value), and submits one read per cold
 * value not already being read. The client is blocked until every read has landed; its
 * command then runs again through processCommand, so pipelined commands keep their order
 * and the command sees the same keyspace any other command would. A value is swapped in
 * only if its key still points at the record read, so a key deleted, overwritten or
 * renamed meanwhile is simply left alone. The promoted value keeps its record as a clean
 * copy (tier.c), so demoting it again unchanged costs no write.
 *
 * tierLookupCold() is the safety net behind lookupKey(): whatever reaches a cold value
 * without having been prepared (keys a script did not declare, SORT BY patterns, DEBUG)
 * reads it synchronously with pread. Commands that need no value at all (TYPE, TTL,
 * EXPIRE, RENAME, OBJECT ENCODING...) get the cold object itself.
 *
 * Fork children and SAVE use tierSaveColdValue(), which copies the stored RDB encoding
 * into the output without decoding it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tier.h"
#include "tier_internal.h"
#include "../blocked.h"
#include "../commands.h"
#include "../db.h"
#include "../histogram.h"
#include "../multi.h"
#include "../networking.h"
#include "../rdb.h"
#include "../rio.h"
#include "../server.h"
#include "../util.h"
#include "../zmalloc.h"

/* Reads queued in one event-loop turn go to the device together when the turn ends;
 * past this many, they go at once, so a long turn (many clients) does not hold the
 * first ones back for its whole length. */
#define TIER_EARLY_SUBMIT_READS 16

/* Read-through admission (tierWantsReadThrough, tier_demote.c): a value read through is
 * swapped in for its one reader and goes back to cold, as a clean copy without a write,
 * in the next turn. */
#define TIER_TRANSIENT_INITIAL 64

/* The error of a command whose cold value cannot be read back (never wrong data). */
#define TIER_READ_ERROR_REPLY "the cold value of this key could not be read from flash (checksum or I/O error)"

/* ------------------------------------------------------------------------- */
/* Decoding a record                                                           */
/* ------------------------------------------------------------------------- */

/* The value of the cold object `cold`, decoded from its record (the RDB encoding of
 * the logical type and encoding the object still carries). NULL when corrupt. */
robj *tierDecodeRecord(robj *cold, const unsigned char *val, size_t vlen) {
    int rdbtype = rdbGetObjectType(cold);
    if (rdbtype == -1) return NULL;
    rio r;
    rioInitWithMemory(&r, val, vlen);
    rdbSetLoadVersion(RDB_VERSION);
    int error = 0;
    robj *v = rdbLoadObject(rdbtype, &r, objectGetKey(cold), 0, RDB_LOAD_TRUSTED, &error);
    if (v && r.io.mem.pos != vlen) { /* trailing bytes: not what was written */
        decrRefCount(v);
        return NULL;
    }
    return v;
}

/* Swaps the cold entry o of db for the hot value v; the record stays as a clean copy. */
static robj *tierSwapToHot(serverDb *db, robj *o, robj *v) {
    flashLocation loc = objectColdLocation(o);
    int record_encoding = o->encoding; /* loading may pick another encoding than the record's */
    robj *h = objectSetKeyAndExpire(v, objectGetKey(o), objectGetExpire(o));
    h->lru = o->lru;
    dbReplaceEntryObject(db, o, h);
    objectSetColdLocation(o, FLASH_LOC_NONE); /* the record now belongs to h */
    decrRefCount(o);
    tierObjEntry *e = zcalloc(sizeof(*e));
    e->obj = (uint64_t)(uintptr_t)h;
    e->db = db;
    e->kind = TIER_OBJ_CLEAN;
    e->loc = loc;
    e->encoding = record_encoding;
    e->born = tier.loop_iteration;
    hashtableAdd(tier.objects, e);
    h->tiered = 1;
    return h;
}

/* ------------------------------------------------------------------------- */
/* Which keys a command needs the values of                                   */
/* ------------------------------------------------------------------------- */

/* Commands that look at keys but never at values. */
static const char *const tier_novalue_commands[] = {
    "type",     "exists",    "ttl",        "pttl",        "expiretime",      "pexpiretime",     "expire",
    "pexpire",  "expireat",  "pexpireat",  "persist",     "del",             "unlink",          "rename",
    "renamenx", "move",      "touch",      "object|encoding", "object|freq", "object|idletime",
    "object|refcount", "object|tier", "flash.debug.demote", "memory|usage", NULL};
#define TIER_NOVALUE_MAX 32
static serverCommand *novalue_cmds[TIER_NOVALUE_MAX];
static int novalue_count = -1;

static int tierCommandNeedsNoValue(const serverCommand *cmd) {
    if (novalue_count < 0) {
        novalue_count = 0;
        for (int j = 0; tier_novalue_commands[j] && novalue_count < TIER_NOVALUE_MAX; j++) {
            serverCommand *found = lookupCommandByCString(tier_novalue_commands[j]);
            if (found) novalue_cmds[novalue_count++] = found;
        }
    }
    for (int j = 0; j < novalue_count; j++)
        if (novalue_cmds[j] == cmd) return 1;
    return 0;
}

void setCommand(struct client *c);      /* t_string.c */
void flashSetCommand(struct client *c); /* flash_cmds.c */

/* SET reads the old value only for GET and IFEQ: otherwise it overwrites. */
static int tierSetReadsValue(robj **argv, int argc) {
    for (int j = 3; j < argc; j++) {
        if (stringObjectEqualsIgnoreCase(argv[j], "get") || stringObjectEqualsIgnoreCase(argv[j], "ifeq")) return 1;
    }
    return 0;
}

static int tierKeyNeedsValue(const serverCommand *cmd, robj **argv, int argc, uint64_t flags) {
    if (cmd->proc == setCommand) return tierSetReadsValue(argv, argc);
    if (cmd->proc == flashSetCommand) return 0; /* no GET option: always an overwrite */
    if ((flags & (CMD_KEY_OW | CMD_KEY_RM)) && !(flags & CMD_KEY_ACCESS)) return 0;
    return 1;
}

/* ------------------------------------------------------------------------- */
/* Asynchronous promotion                                                      */
/* ------------------------------------------------------------------------- */

static tierClientWait *tierClientState(client *c) {
    if (!c->tier_wait) c->tier_wait = zcalloc(sizeof(tierClientWait));
    return c->tier_wait;
}

void tierFreeClient(client *c) {
    tierClientWait *w = c->tier_wait;
    if (!w) return;
    sdsfree(w->error);
    zfree(w);
    c->tier_wait = NULL;
}

/* Returns 1 when this was the client's last read (its command runs in this turn). */
static int tierWakeReader(const tierWaiter *wt, const char *error) {
    client *c = lookupClientByID(wt->client_id);
    if (!c || !(c->flags & CLIENT_BLOCKED) || c->btype != BLOCKED_TIERING) return 0;
    tierClientWait *w = c->tier_wait;
    if (!w || w->token != wt->token) return 0;
    if (error && !w->error) w->error = sdsnew(error);
    if (--w->pending) return 0;
    w->retried = 1;
    unblockClientAndRetry(c);
    return 1;
}


static void tierMarkTransient(robj *h) {
    tierObjEntry *e = tierObjLookup(h);
    if (!e) return;
    e->transient = 1;
    if (tier.transient_len == tier.transient_cap) {
        tier.transient_cap = tier.transient_cap ? tier.transient_cap * 2 : TIER_TRANSIENT_INITIAL;
        tier.transient = zrealloc(tier.transient, sizeof(transientValue) * tier.transient_cap);
    }
    tier.transient[tier.transient_len++] = (transientValue){.obj = h, .loc = e->loc};
    tier.stat_readthrough_promotions++;
}

static void tierReadLanded(void *privdata, int status, const flashRecord *rec) {
    tierRead *rd = privdata;
    void *popped;
    hashtablePop(tier.reads, &rd->loc, &popped);
    histogramRecord(tier.read_latency, (uint64_t)(ustime() - rd->start_us));
    const char *error = NULL;
    robj *o = dbFind(rd->db, rd->key), *h = NULL;
    if (o && o->cold && objectColdLocation(o) == rd->loc) {
        robj *v = status == FLASH_OK ? tierDecodeRecord(o, rec->val, rec->vlen) : NULL;
        if (v) {
            h = tierSwapToHot(rd->db, o, v);
            tier.stat_promotions++;
        } else {
            tier.stat_read_failures++;
            serverLog(LL_WARNING, "Tiering: the cold value of key '%s' (db %d) could not be read from flash: %s",
                      rd->key, rd->db->id, status == FLASH_OK ? "corrupt record" : flashStoreStrError(status));
            error = "-ERR " TIER_READ_ERROR_REPLY;
        }
    }
    int woken = 0;
    for (int j = 0; j < rd->nwaiters; j++) woken += tierWakeReader(&rd->waiters[j], error);
    /* Only a value whose one reader runs now: a command still waiting for another read
     * must find this one in RAM when it runs. */
    if (h && rd->transient && rd->nwaiters == 1 && woken == 1) tierMarkTransient(h);
    sdsfree(rd->key);
    zfree(rd->waiters);
    zfree(rd);
}

/* Adds the client as a waiter of the read of o (starting it if needed); 0 on success. */
static int tierRequestRead(client *c, serverDb *db, robj *o, tierClientWait *w) {
    flashLocation loc = objectColdLocation(o);
    tierRead *rd = NULL;
    void *found;
    if (hashtableFind(tier.reads, &loc, &found)) rd = found;
    if (!rd) {
        rd = zcalloc(sizeof(*rd));
        rd->loc = loc;
        rd->db = db;
        rd->key = sdsdup(objectGetKey(o));
        rd->start_us = ustime();
        rd->transient = tierWantsReadThrough(o);
        if (flashStoreRead(tier.fs, loc, tierReadLanded, rd) != FLASH_OK) {
            sdsfree(rd->key);
            zfree(rd);
            return -1;
        }
        hashtableAdd(tier.reads, rd);
        if (ioEngineQueued(tier.io) >= TIER_EARLY_SUBMIT_READS) ioEngineSubmit(tier.io);
    }
    for (int j = 0; j < rd->nwaiters; j++)
        if (rd->waiters[j].client_id == c->id && rd->waiters[j].token == w->token) return 0;
    if (rd->nwaiters == rd->cap) {
        rd->cap = rd->cap ? rd->cap * 2 : 2;
        rd->waiters = zrealloc(rd->waiters, sizeof(tierWaiter) * rd->cap);
    }
    rd->waiters[rd->nwaiters++] = (tierWaiter){.client_id = c->id, .token = w->token};
    w->pending++;
    return 0;
}

typedef struct tierCollect {
    client *c;
    tierClientWait *w;
} tierCollect;

static void tierCollectKey(tierCollect *tc, serverDb *db, robj *key) {
    robj *o = dbFind(db, objectGetVal(key));
    if (!o || !o->cold) return;
    if (keyIsExpired(db, key)) return; /* the command's lookup deletes it: nothing to read */
    if (!tc->w) {
        tc->w = tierClientState(tc->c);
        tc->w->token = ++tier.next_token;
        tc->w->pending = 0;
    }
    tierRequestRead(tc->c, db, o, tc->w);
}

/* multiForEachQueuedKey: keys of the queued commands of a transaction. */
static void tierCollectQueuedKey(void *privdata, int dbid, robj *key) {
    tierCollectKey(privdata, &server.db[dbid], key);
}

static void tierCollectCommandKeys(tierCollect *tc, serverCommand *cmd, robj **argv, int argc) {
    if (tierCommandNeedsNoValue(cmd)) return;
    getKeysResult result;
    initGetKeysResult(&result);
    int n = getKeysFromCommandWithSpecs(cmd, argv, argc, GET_KEYSPEC_DEFAULT, &result);
    for (int j = 0; j < n; j++) {
        if (!tierKeyNeedsValue(cmd, argv, argc, result.keys[j].flags)) continue;
        tierCollectKey(tc, tc->c->db, argv[result.keys[j].pos]);
    }
    getKeysFreeResult(&result);
}

int tierPrepareCommand(client *c, sds *err) {
    if (!tierEnabled()) return TIER_PREPARE_RUN;
    tierClientWait *w = c->tier_wait;
    if (w && w->retried) {
        /* Second run after a wait: never wait twice (a value demoted again meanwhile is
         * read synchronously by tierLookupCold). */
        w->retried = 0;
        if (w->error) {
            *err = w->error;
            w->error = NULL;
            return TIER_PREPARE_ERROR;
        }
        return TIER_PREPARE_RUN;
    }
    tierCollect tc = {.c = c, .w = NULL};
    if (c->cmd->proc == execCommand && (c->flags & CLIENT_MULTI)) multiForEachQueuedKey(c, tierCollectQueuedKey, &tc);
    else if (c->db->cold_keys) tierCollectCommandKeys(&tc, c->cmd, c->argv, c->argc);
    if (!tc.w || tc.w->pending == 0) return TIER_PREPARE_RUN;
    tier.stat_blocked_commands++;
    blockClient(c, BLOCKED_TIERING, 0, 1);
    return TIER_PREPARE_BLOCKED;
}

/* ------------------------------------------------------------------------- */
/* Synchronous paths                                                           */
/* ------------------------------------------------------------------------- */

int tierPromoteCommandKeysSync(client *c, sds *err) {
    if (!tierEnabled() || !c->db->cold_keys || tierCommandNeedsNoValue(c->cmd)) return C_OK;
    getKeysResult result;
    initGetKeysResult(&result);
    int n = getKeysFromCommandWithSpecs(c->cmd, c->argv, c->argc, GET_KEYSPEC_DEFAULT, &result);
    int rc = C_OK;
    for (int j = 0; j < n && rc == C_OK; j++) {
        if (!tierKeyNeedsValue(c->cmd, c->argv, c->argc, result.keys[j].flags)) continue;
        robj *key = c->argv[result.keys[j].pos];
        robj *o = dbFind(c->db, objectGetVal(key));
        if (!o || !o->cold || keyIsExpired(c->db, key)) continue;
        if (!tierPromoteSync(c->db, o)) {
            *err = sdsnew(TIER_READ_ERROR_REPLY);
            rc = C_ERR;
        }
    }
    getKeysFreeResult(&result);
    return rc;
}

/* Bytes read at once while reading cold values in location order (a whole-dataset save
 * or digest). */
#define TIER_BULK_READAHEAD (1024 * 1024)
static int tier_bulk_read;

static int tierColdLocationCompare(const void *a, const void *b) {
    flashLocation la = flashLocationOffset(objectColdLocation(*(robj *const *)a));
    flashLocation lb = flashLocationOffset(objectColdLocation(*(robj *const *)b));
    return la < lb ? -1 : la > lb;
}

static void tierSortColdEntries(robj **entries, size_t n) {
    qsort(entries, n, sizeof(robj *), tierColdLocationCompare);
}

static void tierBulkReadBegin(void) {
    tier_bulk_read = tier.fs != NULL;
}

static void tierBulkReadEnd(void) {
    if (tier_bulk_read) flashStoreReadAheadReset(tier.fs);
    tier_bulk_read = 0;
}

int tierForEachEntryColdLast(serverDb *db, tierEntryProc *fn, void *ctx) {
    robj **cold = db->cold_keys ? zmalloc(sizeof(robj *) * db->cold_keys) : NULL;
    size_t ncold = 0;
    hashtableIterator it;
    hashtableInitIterator(&it, db->keys);
    void *entry;
    int rc = 0;
    while (rc == 0 && hashtableNext(&it, &entry)) {
        robj *o = entry;
        if (o->cold && ncold < db->cold_keys)
            cold[ncold++] = o;
        else
            rc = fn(o, ctx);
    }
    hashtableResetIterator(&it);
    if (rc == 0 && ncold) {
        tierSortColdEntries(cold, ncold);
        tierBulkReadBegin();
        for (size_t j = 0; j < ncold && rc == 0; j++) rc = fn(cold[j], ctx);
        tierBulkReadEnd();
    }
    zfree(cold);
    return rc;
}

/* In a bulk read the read-ahead window serves a record checked just before it is saved. */
static int tierReadColdRecordSync(robj *o, flashRecord *rec) {
    flashLocation loc = objectColdLocation(o);
    return tier_bulk_read ? flashStoreReadSyncAhead(tier.fs, loc, rec, TIER_BULK_READAHEAD)
                          : flashStoreReadSync(tier.fs, loc, rec);
}

robj *tierLoadColdValue(robj *o) {
    if (!tier.fs) return NULL;
    flashRecord rec;
    if (tierReadColdRecordSync(o, &rec) != FLASH_OK) return NULL;
    return tierDecodeRecord(o, rec.val, rec.vlen);
}

/* Whether the running command reads the value of the cold entry o: not for commands
 * that only look at keys, nor when every place o's key takes among the command's keys
 * is an overwrite or a deletion (SET over a cold key, a STORE destination). A key the
 * key specs do not name (a script's undeclared key, SORT BY) is read. */
static int tierRunningCommandReads(robj *o) {
    client *c = server.executing_client;
    if (!c || !c->cmd) return 1;
    if (tierCommandNeedsNoValue(c->cmd)) return 0;
    sds name = objectGetKey(o);
    getKeysResult result;
    initGetKeysResult(&result);
    int n = getKeysFromCommandWithSpecs(c->cmd, c->argv, c->argc, GET_KEYSPEC_DEFAULT, &result);
    int named = 0, reads = 0;
    for (int j = 0; j < n && !reads; j++) {
        robj *arg = c->argv[result.keys[j].pos];
        if (!sdsEncodedObject(arg) || sdscmp(objectGetVal(arg), name) != 0) continue;
        named = 1;
        reads = tierKeyNeedsValue(c->cmd, c->argv, c->argc, result.keys[j].flags);
    }
    getKeysFreeResult(&result);
    return !named || reads;
}

robj *tierLookupCold(serverDb *db, robj *o) {
    if (!tierRunningCommandReads(o)) return o;
    return tierPromoteSync(db, o);
}

robj *tierPromoteSync(serverDb *db, robj *o) {
    robj *v = tierLoadColdValue(o);
    if (!v) {
        tier.stat_read_failures++;
        serverLog(LL_WARNING, "Tiering: the cold value of key '%s' (db %d) could not be read from flash",
                  objectGetKey(o), db->id);
        return NULL;
    }
    tier.stat_sync_promotions++;
    return tierSwapToHot(db, o, v);
}

int tierColdValueCorrupt(robj *o) {
    flashRecord rec;
    if (!tier.fs || tierReadColdRecordSync(o, &rec) != FLASH_ERR_CHECKSUM) return 0;
    serverLog(LL_WARNING,
              "Tiering: the cold value of key '%s' is corrupt on flash (checksum mismatch); the key is left out of "
              "this snapshot",
              objectGetKey(o));
    return 1;
}

ssize_t tierSaveColdValue(rio *r, robj *o) {
    if (!tier.fs) return -1;
    flashRecord rec;
    int status = tierReadColdRecordSync(o, &rec);
    if (status != FLASH_OK) {
        /* A checksum mismatch is the snapshot's to report: it leaves the key out and
         * says so (tierColdValueCorrupt), one line per key. */
        if (status != FLASH_ERR_CHECKSUM)
            serverLog(LL_WARNING, "Tiering: the cold value of key '%s' could not be read from flash while saving",
                      objectGetKey(o));
        return -1;
    }
    return rdbWriteRaw(r, rec.val, rec.vlen);
}
