/* multi.c -- transactions (MULTI/EXEC/DISCARD) and optimistic locking (WATCH/UNWATCH).
 *
 * Queue. A client's transaction state (c->mstate, a multiState) is allocated the first
 * time the client queues a command or watches a key and lives until the client is freed.
 * Queuing moves the parsed argv array into the queue without copying; the client parses
 * its next command into a new array. A transaction already doomed (a queuing error, or a
 * watched key touched) answers +QUEUED but keeps nothing.
 *
 * EXEC puts each queued argv back into the client and runs it through call(), so stats,
 * slowlog and MONITOR see every command as if sent alone. A command's arguments are
 * released as soon as it has run: an argument stored in the keyspace (setKeyFromArgv) must
 * not keep a second reference to the keyspace object once the next command may move it.
 *
 * Watches. For every database a table maps a watched key to a keyWatchers entry holding a
 * doubly linked list of watch records, one per watching client; each client also chains
 * its own records (singly: they are only ever dropped all together). A record remembers
 * whether the key was already logically expired when WATCH ran: such a key going away
 * (lazily or actively deleted, or flushed) is not a change, while any key that expires
 * after WATCH fails the EXEC (checked at EXEC time, as nothing else may have touched it).
 *
 * Touching a key flags each watcher CLIENT_DIRTY_CAS and drops all its watches: a dirty
 * transaction needs no more bookkeeping until EXEC/DISCARD/UNWATCH.
 */
#include <string.h>

#include "multi.h"
#include "commands.h"
#include "db.h"
#include "hashtable.h"
#include "networking.h"
#include "object.h"
#include "server.h"
#include "util.h"
#include "zmalloc.h"

#define MULTI_QUEUE_INITIAL_SLOTS 4

void quitCommand(client *c);
void resetCommand(client *c);

typedef struct queuedCommand {
    serverCommand *cmd;
    robj **argv; /* owned: argc references in an array of argv_len slots */
    int argc;
    int argv_len;
    size_t argv_len_sum;
} queuedCommand;

typedef struct watchRecord watchRecord;

/* One watched key of one database: the entry of that database's watch table. */
typedef struct keyWatchers {
    robj *key;         /* owned; its sds is the table key */
    watchRecord *head; /* watchers, in no particular order */
    long count;
} keyWatchers;

/* One client watching one key. */
struct watchRecord {
    keyWatchers *kw;
    client *c;
    int dbid;
    int expired;                     /* the key was logically expired at WATCH time */
    watchRecord *key_prev, *key_next; /* in kw's list */
    watchRecord *client_next;         /* in the client's list */
};

typedef struct multiState {
    queuedCommand *commands;
    int count;
    int alloc;
    uint64_t cmd_flags;  /* OR of the queued commands' flags */
    uint64_t cmd_lacks;  /* the flags at least one queued command does not have */
    size_t argv_len_sums; /* CLIENT LIST multi-mem */
    watchRecord *watches;
    long watched_count;
} multiState;

/* Per-database watch tables, created with the first WATCH (server.dbnum is final by then). */
static hashtable **watch_tables = NULL;
static long long watching_clients = 0;
static long long total_watched_keys = 0;

/* ------------------------------------------------------------------------- */
/* State                                                                       */
/* ------------------------------------------------------------------------- */

static multiState *getMultiState(client *c) {
    if (c->mstate == NULL) c->mstate = zcalloc(sizeof(multiState));
    return c->mstate;
}

static void freeQueuedCommand(queuedCommand *q) {
    for (int j = 0; j < q->argc; j++) decrRefCount(q->argv[j]);
    zfree(q->argv);
    q->argv = NULL;
    q->argc = 0;
}

static void freeQueuedCommands(multiState *ms) {
    for (int j = 0; j < ms->count; j++) freeQueuedCommand(&ms->commands[j]);
    zfree(ms->commands);
    ms->commands = NULL;
    ms->count = ms->alloc = 0;
    ms->cmd_flags = 0;
    ms->cmd_lacks = 0;
    ms->argv_len_sums = 0;
}

void flagTransaction(client *c) {
    if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
}

int multiCommandRunsDirectly(serverCommand *cmd) {
    serverCommandProc *p = cmd->proc;
    return p == execCommand || p == discardCommand || p == multiCommand || p == watchCommand || p == quitCommand ||
           p == resetCommand;
}

void queueMultiCommand(client *c) {
    /* Nothing of a doomed transaction will run: keep no memory for it. */
    if (c->flags & (CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC)) return;
    multiState *ms = getMultiState(c);
    if (ms->count == ms->alloc) {
        ms->alloc = ms->alloc ? ms->alloc * 2 : MULTI_QUEUE_INITIAL_SLOTS;
        ms->commands = zrealloc(ms->commands, sizeof(queuedCommand) * (size_t)ms->alloc);
    }
    queuedCommand *q = &ms->commands[ms->count++];
    q->cmd = c->cmd;
    q->argv = c->argv;
    q->argc = c->argc;
    q->argv_len = c->argv_len;
    q->argv_len_sum = c->argv_len_sum;
    ms->cmd_flags |= c->cmd->flags;
    ms->cmd_lacks |= ~c->cmd->flags;
    ms->argv_len_sums += c->argv_len_sum + sizeof(robj *) * (size_t)c->argc;
    /* The arguments belong to the queue now (see freeClientArgv's contract). */
    c->argv = NULL;
    c->argc = 0;
    c->argv_len = 0;
    c->argv_len_sum = 0;
}

uint64_t multiQueuedCommandFlags(client *c) {
    multiState *ms = c->mstate;
    return ms ? ms->cmd_flags : 0;
}

int multiQueuedCommandLacks(client *c, uint64_t flag) {
    multiState *ms = c->mstate;
    return ms && (ms->cmd_lacks & flag) != 0;
}

/* Drops the queue and the watches, and leaves MULTI. Also RESET's hook. */
void discardTransaction(client *c) {
    multiState *ms = c->mstate;
    if (ms) freeQueuedCommands(ms);
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
    unwatchAllKeys(c);
}

/* On client free. */
void freeClientMultiState(client *c) {
    multiState *ms = c->mstate;
    if (ms == NULL) return;
    freeQueuedCommands(ms);
    unwatchAllKeys(c);
    zfree(ms);
    c->mstate = NULL;
}

void getClientMultiInfo(client *c, long *queued, long *watched_keys, size_t *mem) {
    multiState *ms = c->mstate;
    *queued = (c->flags & CLIENT_MULTI) ? (ms ? ms->count : 0) : -1;
    *watched_keys = ms ? ms->watched_count : 0;
    *mem = ms ? ms->argv_len_sums : 0;
}

/* ------------------------------------------------------------------------- */
/* Watch tables                                                                */
/* ------------------------------------------------------------------------- */

static uint64_t watchTableHash(const void *key) {
    return hashtableGenHashFunction(key, sdslen((sds)key));
}

static int watchTableKeyCompare(const void *a, const void *b) {
    size_t len = sdslen((sds)a);
    return len != sdslen((sds)b) || memcmp(a, b, len) != 0;
}

static const void *watchTableEntryGetKey(const void *entry) {
    return objectGetVal(((const keyWatchers *)entry)->key);
}

static hashtableType watchTableType = {
    .hashFunction = watchTableHash,
    .entryGetKey = watchTableEntryGetKey,
    .keyCompare = watchTableKeyCompare,
};

static hashtable *watchTable(int dbid, int create) {
    if (watch_tables == NULL) {
        if (!create) return NULL;
        watch_tables = zcalloc(sizeof(hashtable *) * (size_t)server.dbnum);
    }
    if (watch_tables[dbid] == NULL && create) watch_tables[dbid] = hashtableCreate(&watchTableType);
    return watch_tables[dbid];
}

static keyWatchers *findKeyWatchers(int dbid, sds key) {
    if (total_watched_keys == 0) return NULL;
    hashtable *t = watchTable(dbid, 0);
    void *found;
    if (t == NULL || !hashtableFind(t, key, &found)) return NULL;
    return found;
}

/* Unlinks a record from its key's list, dropping the key entry when it was the last. */
static void detachWatchRecord(watchRecord *w) {
    keyWatchers *kw = w->kw;
    if (w->key_prev) w->key_prev->key_next = w->key_next;
    else kw->head = w->key_next;
    if (w->key_next) w->key_next->key_prev = w->key_prev;
    if (--kw->count == 0) {
        int deleted = hashtableDelete(watch_tables[w->dbid], objectGetVal(kw->key));
        serverAssert(deleted);
        decrRefCount(kw->key);
        zfree(kw);
        total_watched_keys--;
    }
}

void unwatchAllKeys(client *c) {
    multiState *ms = c->mstate;
    if (ms == NULL || ms->watches == NULL) return;
    watchRecord *w = ms->watches;
    while (w) {
        watchRecord *next = w->client_next;
        detachWatchRecord(w);
        zfree(w);
        w = next;
    }
    ms->watches = NULL;
    ms->watched_count = 0;
    watching_clients--;
}

static int clientWatchesKey(client *c, keyWatchers *kw) {
    multiState *ms = c->mstate;
    /* Walk the shorter of the two lists: a client with many keys, or a hot key with
     * many watchers. */
    if (ms->watched_count <= kw->count) {
        for (watchRecord *w = ms->watches; w; w = w->client_next)
            if (w->kw == kw) return 1;
    } else {
        for (watchRecord *w = kw->head; w; w = w->key_next)
            if (w->c == c) return 1;
    }
    return 0;
}

static void watchForKey(client *c, robj *key) {
    multiState *ms = getMultiState(c);
    int dbid = c->db->id;
    sds k = objectGetVal(key);
    keyWatchers *kw = findKeyWatchers(dbid, k);
    if (kw && clientWatchesKey(c, kw)) return;
    if (kw == NULL) {
        kw = zmalloc(sizeof(*kw));
        kw->key = createStringObject(k, sdslen(k));
        kw->head = NULL;
        kw->count = 0;
        hashtableAdd(watchTable(dbid, 1), kw);
        total_watched_keys++;
    }
    watchRecord *w = zmalloc(sizeof(*w));
    w->kw = kw;
    w->c = c;
    w->dbid = dbid;
    w->expired = keyIsExpired(c->db, kw->key);
    w->key_prev = NULL;
    w->key_next = kw->head;
    if (kw->head) kw->head->key_prev = w;
    kw->head = w;
    kw->count++;
    w->client_next = ms->watches;
    ms->watches = w;
    if (ms->watched_count++ == 0) watching_clients++;
}

/* True when a key watched while alive has expired since. Keys already expired at WATCH
 * time stay "unchanged" as long as they stay expired or get deleted. */
static int watchedKeyExpired(client *c) {
    multiState *ms = c->mstate;
    if (ms == NULL) return 0;
    for (watchRecord *w = ms->watches; w; w = w->client_next) {
        if (w->expired) continue;
        if (keyIsExpired(&server.db[w->dbid], w->kw->key)) return 1;
    }
    return 0;
}

static void markDirty(client *c) {
    c->flags |= CLIENT_DIRTY_CAS;
}

void touchWatchedKey(serverDb *db, robj *key) {
    if (total_watched_keys == 0 || !sdsEncodedObject(key)) return;
    keyWatchers *kw = findKeyWatchers(db->id, objectGetVal(key));
    if (kw == NULL) return;
    key = kw->key;
    /* Dirtying a client drops its record, and the entry with the last one: `next` is
     * taken first, and is NULL when kw may have gone. */
    watchRecord *next;
    for (watchRecord *w = kw->head; w; w = next) {
        next = w->key_next;
        if (w->expired) {
            robj *o = dbFind(db, objectGetVal(key));
            if (o == NULL) {
                /* The stale key was deleted: no logical change, and now simply absent. */
                w->expired = 0;
                continue;
            }
            if (keyIsExpired(db, key)) continue; /* still the same stale key */
        }
        markDirty(w->c);
        unwatchAllKeys(w->c);
    }
}

/* Flags the watchers of one key that an emptying or a swap changes logically. */
static void touchKeyWatchersOnReplace(keyWatchers *kw, serverDb *emptied, serverDb *replaced_with) {
    sds k = objectGetVal(kw->key);
    int exists_now = dbFind(emptied, k) != NULL;
    int exists_after = replaced_with && dbFind(replaced_with, k) != NULL;
    if (!exists_now && !exists_after) return;
    int expired_after = exists_after && keyIsExpired(replaced_with, kw->key);
    for (watchRecord *w = kw->head; w; w = w->key_next) {
        if (w->expired) {
            if (!exists_after) {
                w->expired = 0; /* a stale key went away: no change */
                continue;
            }
            if (expired_after) continue; /* stale before, stale after */
        } else if (!exists_now && expired_after) {
            /* Nothing before, a stale key after: logically still nothing. */
            w->expired = 1;
            continue;
        }
        /* Only flagged: dropping the watches here would free entries of the table being
         * walked. */
        markDirty(w->c);
    }
}

void touchAllWatchedKeysInDb(serverDb *emptied, serverDb *replaced_with) {
    hashtable *t = total_watched_keys ? watchTable(emptied->id, 0) : NULL;
    if (t == NULL || hashtableSize(t) == 0) return;
    hashtableIterator iter;
    hashtableInitIterator(&iter, t);
    void *entry;
    while (hashtableNext(&iter, &entry)) touchKeyWatchersOnReplace(entry, emptied, replaced_with);
    hashtableResetIterator(&iter);
}

long long multiWatchingClients(void) {
    return watching_clients;
}

long long multiTotalWatchedKeys(void) {
    return total_watched_keys;
}

/* ------------------------------------------------------------------------- */
/* Commands                                                                    */
/* ------------------------------------------------------------------------- */

/* Nested MULTI and WATCH inside MULTI never get here: both carry CMD_NO_MULTI and
 * processCommand refuses them first; the checks stay for callers that bypass it. */
void multiCommand(client *c) {
    if (c->flags & CLIENT_MULTI) {
        addReplyError(c, "MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    addReply(c, shared.ok);
}

void discardCommand(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        addReplyError(c, "DISCARD without MULTI");
        return;
    }
    discardTransaction(c);
    addReply(c, shared.ok);
}

void watchCommand(client *c) {
    if (c->flags & CLIENT_MULTI) {
        addReplyError(c, "WATCH inside MULTI is not allowed");
        return;
    }
    /* Already doomed: watching more changes nothing. */
    if (!(c->flags & CLIENT_DIRTY_CAS))
        for (int j = 1; j < c->argc; j++) watchForKey(c, c->argv[j]);
    addReply(c, shared.ok);
}

void unwatchCommand(client *c) {
    unwatchAllKeys(c);
    c->flags &= ~CLIENT_DIRTY_CAS;
    addReply(c, shared.ok);
}

void execCommandAbort(client *c, const char *err, size_t len) {
    if (len && err[0] == '-') {
        err++;
        len--;
    }
    while (len && (err[len - 1] == '\n' || err[len - 1] == '\r')) len--;
    discardTransaction(c);
    addReplyErrorFormat(c, "-EXECABORT Transaction discarded because of: %.*s", (int)len, err);
    /* call() never ran EXEC, but MONITOR shows it (the MULTI it closes was shown). */
    replicationFeedMonitors(c, server.monitors, c->db->id, c->argv, c->argc);
}

/* Runs a queued command in place of the client's current command, then releases its
 * arguments (see the file comment for why right away). */
static void execQueuedCommand(client *c, queuedCommand *q) {
    c->argv = q->argv;
    c->argc = q->argc;
    c->argv_len = q->argv_len;
    c->argv_len_sum = q->argv_len_sum;
    c->cmd = c->realcmd = q->cmd;
    q->argv = NULL;
    q->argc = 0;
    /* Propagation hook: with AOF and replication, the first write inside EXEC will
     * open a MULTI in the propagated stream, and EXEC's own call() close it. */
    call(c, CMD_CALL_FULL);
    serverAssert(!(c->flags & CLIENT_BLOCKED));
    /* The command may have replaced its argv (rewriteClientCommandVector): free what
     * the client holds now. MONITOR and the slowlog already saw it. */
    for (int j = 0; j < c->argc; j++)
        if (c->argv[j]) decrRefCount(c->argv[j]);
    zfree(c->argv);
    c->argv = NULL;
    c->argc = 0;
    c->argv_len = 0;
    c->argv_len_sum = 0;
    freeClientOriginalArgv(c);
}

void execCommand(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        addReplyError(c, "EXEC without MULTI");
        return;
    }
    if (!(c->flags & CLIENT_DIRTY_CAS) && watchedKeyExpired(c)) markDirty(c);
    if (c->flags & (CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC)) {
        if (c->flags & CLIENT_DIRTY_EXEC) addReplyErrorObject(c, shared.execaborterr);
        else addReplyNullArray(c);
        discardTransaction(c);
        return;
    }
    /* Tiering hook: this is where the cold values of every queued key
     * (multiForEachQueuedKey) get read back before anything runs, the client waiting
     * for them like any command touching a cold key. */
    unwatchAllKeys(c); /* nothing can dirty the transaction now */

    multiState *ms = c->mstate;
    int count = ms ? ms->count : 0;
    robj **exec_argv = c->argv;
    int exec_argc = c->argc, exec_argv_len = c->argv_len;
    size_t exec_argv_len_sum = c->argv_len_sum;
    serverCommand *exec_cmd = c->cmd, *exec_realcmd = c->realcmd;
    uint64_t deny_blocking_before = c->flags & CLIENT_DENY_BLOCKING;

    /* Blocking commands answer as if they timed out instead of blocking. */
    c->flags |= CLIENT_DENY_BLOCKING;
    server.in_exec = 1;
    addReplyArrayLen(c, count);
    for (int j = 0; j < count; j++) execQueuedCommand(c, &ms->commands[j]);
    server.in_exec = 0;
    if (!deny_blocking_before) c->flags &= ~CLIENT_DENY_BLOCKING;

    c->argv = exec_argv;
    c->argc = exec_argc;
    c->argv_len = exec_argv_len;
    c->argv_len_sum = exec_argv_len_sum;
    c->cmd = exec_cmd;
    c->realcmd = exec_realcmd;
    discardTransaction(c);
}

/* ------------------------------------------------------------------------- */
/* Tiering hook                                                                */
/* ------------------------------------------------------------------------- */

/* The database SELECT would switch to, or -1 when it will fail. */
static int queuedSelectTarget(queuedCommand *q) {
    long long id;
    if (q->argc != 2) return -1;
    robj *arg = q->argv[1];
    if (!sdsEncodedObject(arg)) return -1;
    sds s = objectGetVal(arg);
    if (!string2ll(s, sdslen(s), &id) || id < 0 || id >= server.dbnum) return -1;
    return (int)id;
}

int multiForEachQueuedKey(client *c, multiQueuedKeyProc *proc, void *privdata) {
    multiState *ms = c->mstate;
    if (ms == NULL) return 0;
    serverCommand *select_cmd = lookupCommandByCString("select");
    int dbid = c->db->id, reported = 0;
    for (int j = 0; j < ms->count; j++) {
        queuedCommand *q = &ms->commands[j];
        if (q->argv == NULL) continue;
        if (q->cmd == select_cmd) {
            int target = queuedSelectTarget(q);
            if (target != -1) dbid = target;
            continue;
        }
        getKeysResult result;
        initGetKeysResult(&result);
        int n = getKeysFromCommand(q->cmd, q->argv, q->argc, &result);
        for (int k = 0; k < n; k++) proc(privdata, dbid, q->argv[result.keys[k].pos]);
        reported += n;
        getKeysFreeResult(&result);
    }
    return reported;
}
