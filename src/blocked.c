/* blocked.c -- clients blocked on keys and the generic block / unblock / re-run
 * machinery (see blocked.h for the contract).
 *
 * State. For every database id there is a table of the keys clients block on; each
 * entry (blockedKey) holds the FIFO list of clients waiting on that key. A blocked
 * client owns a blockingState (c->bstate) listing its keys together with its list
 * node in each, so unblocking costs O(keys), and its absolute deadline. Clients with
 * a deadline sit in a binary min-heap ordered by deadline.
 *
 * Serving. signalKeyAsReady() (called by the keyspace whenever a key is created)
 * queues the key's entry on ready_keys when clients of a matching kind wait on it.
 * handleClientsBlockedOnKeys() runs after every top-level command and before
 * sleeping: for each ready key it walks the clients that were waiting when it
 * started, in blocking order, and re-runs each one's command through
 * processCommand(). The command either pops and replies, or blocks again (at the
 * tail of the queue, keeping its original deadline). Keys that a re-run makes ready
 * (BLMOVE pushing to another list) are appended and served in the same pass.
 *
 * After unblocking. An unblocked client may have more commands in its query buffer.
 * They are not run on the spot (we may be inside another client's command); the
 * client's id goes on a queue that blockedBeforeSleep() drains. Ids rather than
 * pointers, because a client may be freed before its turn.
 *
 * Deadlines are checked before sleeping. A one-shot timer at the nearest deadline
 * makes the event loop wake up in time rather than at the next cron tick.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "server.h" /* first: networking.h uses its mstime_t */
#include "blocked.h"
#include "adlist.h"
#include "ae.h"
#include "commands.h"
#include "db.h"
#include "hashtable.h"
#include "networking.h"
#include "util.h"
#include "zmalloc.h"

#define HEAP_NONE SIZE_MAX
#define HEAP_INITIAL_CAPACITY 16

/* A key some clients block on, in one database. */
typedef struct blockedKey {
    sds key;
    int dbid;
    list *clients;       /* client pointers, in blocking order */
    unsigned long nokey; /* clients among them that also wake on deletion */
    int ready;           /* queued on ready_keys */
    int serving;         /* its clients are being served: keep the entry alive */
} blockedKey;

typedef struct blockingState {
    mstime_t timeout;    /* absolute unix ms, 0: none */
    size_t heap_index;   /* slot in the timeout heap, HEAP_NONE when not there */
    int unblock_on_nokey;
    int numkeys;
    struct {
        blockedKey *bk;
        listNode *node;  /* this client's node in bk->clients */
    } keys[];
} blockingState;

static hashtable **blocking_keys; /* [dbid]: key -> blockedKey, created on demand */
static list *ready_keys;          /* blockedKey pointers to serve */
static list *unblocked_clients;   /* ids of clients whose input is to be resumed */
static long long blocked_by_type[BLOCKED_NUM];
static long long total_keys, keys_on_nokey;
static void (*timeout_replies[BLOCKED_NUM])(client *c);
static void (*unblock_hooks[BLOCKED_NUM])(client *c);

static client **heap;
static size_t heap_len, heap_cap;

/* server.c, next to call(): counts a blocked command that ends without running again.
 * (Declared here until a header of server.c's command execution carries it.) */

/* While a command is re-run: the deadline it had, for blockForKeys to keep. */
static mstime_t rerun_timeout;

static long long wake_timer_id = -1;
static mstime_t wake_timer_at;

/* ---------------------------------------------------------------------------
 * Timeouts
 * ------------------------------------------------------------------------- */

int getTimeoutFromObjectOrReply(client *c, robj *object, mstime_t *timeout, int unit) {
    long long tval;
    if (unit == UNIT_SECONDS) {
        long double ftval;
        if (getLongDoubleFromObjectOrReply(c, object, &ftval, "timeout is not a float or out of range") != C_OK)
            return C_ERR;
        ftval *= 1000.0L;
        if (ftval > (long double)LLONG_MAX) {
            addReplyError(c, "timeout is out of range");
            return C_ERR;
        }
        /* Rounded up: a fraction of a millisecond still waits. -0.5 rounds to 0,
         * which means "forever", as in Valkey. */
        ftval = ceill(ftval);
        if (ftval < 0) {
            addReplyError(c, "timeout is negative");
            return C_ERR;
        }
        tval = (long long)ftval;
    } else {
        if (getLongLongFromObjectOrReply(c, object, &tval, "timeout is not an integer or out of range") != C_OK)
            return C_ERR;
    }
    if (tval < 0) {
        addReplyError(c, "timeout is negative");
        return C_ERR;
    }
    if (tval > 0) {
        mstime_t now = commandTimeSnapshot();
        if (tval > LLONG_MAX - now) {
            addReplyError(c, "timeout is out of range");
            return C_ERR;
        }
        tval += now;
    }
    *timeout = tval;
    return C_OK;
}

static inline blockingState *stateOf(client *c) {
    return c->bstate;
}

static inline mstime_t heapDeadline(size_t i) {
    return stateOf(heap[i])->timeout;
}

static void heapPlace(size_t i, client *c) {
    heap[i] = c;
    stateOf(c)->heap_index = i;
}

static void heapSiftUp(size_t i) {
    client *c = heap[i];
    mstime_t t = stateOf(c)->timeout;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heapDeadline(parent) <= t) break;
        heapPlace(i, heap[parent]);
        i = parent;
    }
    heapPlace(i, c);
}

static void heapSiftDown(size_t i) {
    client *c = heap[i];
    mstime_t t = stateOf(c)->timeout;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= heap_len) break;
        if (child + 1 < heap_len && heapDeadline(child + 1) < heapDeadline(child)) child++;
        if (heapDeadline(child) >= t) break;
        heapPlace(i, heap[child]);
        i = child;
    }
    heapPlace(i, c);
}

static void heapAdd(client *c) {
    if (heap_len == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : HEAP_INITIAL_CAPACITY;
        heap = zrealloc(heap, heap_cap * sizeof(*heap));
    }
    heapPlace(heap_len++, c);
    heapSiftUp(heap_len - 1);
}

static void heapRemove(client *c) {
    size_t i = stateOf(c)->heap_index;
    stateOf(c)->heap_index = HEAP_NONE;
    client *last = heap[--heap_len];
    if (i == heap_len) return;
    heapPlace(i, last);
    heapSiftDown(i);
    heapSiftUp(stateOf(last)->heap_index);
}

static long long wakeTimerProc(struct aeEventLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    (void)data;
    wake_timer_id = -1;
    return AE_NOMORE; /* its only job was to end the sleep: beforeSleep does the rest */
}

/* Makes sure the event loop wakes up once the nearest deadline has passed. Returns
 * the ms until then, or -1 when nobody waits with a deadline. */
static long long scheduleNextTimeout(void) {
    if (heap_len == 0) return -1;
    mstime_t deadline = heapDeadline(0);
    long long wait = deadline + 1 - mstime(); /* a client times out once now > deadline */
    if (wait < 0) wait = 0;
    if (server.el && (wake_timer_id == -1 || wake_timer_at > deadline)) {
        if (wake_timer_id != -1) aeDeleteTimeEvent(server.el, wake_timer_id);
        wake_timer_id = aeCreateTimeEvent(server.el, wait, wakeTimerProc, NULL, NULL);
        wake_timer_at = deadline;
    }
    return wait;
}

static void handleBlockedClientsTimeout(void) {
    if (heap_len == 0) return;
    mstime_t now = mstime();
    while (heap_len && heapDeadline(0) < now) unblockClientOnTimeout(heap[0]);
}

void blockedRegisterTimeoutReply(int btype, void (*reply)(client *c)) {
    serverAssert(btype >= 0 && btype < BLOCKED_NUM);
    timeout_replies[btype] = reply;
}

void blockedRegisterUnblockHook(int btype, void (*hook)(client *c)) {
    serverAssert(btype >= 0 && btype < BLOCKED_NUM);
    unblock_hooks[btype] = hook;
}

void replyToBlockedClientTimedOut(client *c) {
    if (c->btype >= 0 && c->btype < BLOCKED_NUM && timeout_replies[c->btype])
        timeout_replies[c->btype](c);
    else
        addReplyNullArray(c);
}

/* ---------------------------------------------------------------------------
 * The tables of blocked keys
 * ------------------------------------------------------------------------- */

static uint64_t blockedKeyHash(const void *key) {
    return hashtableGenHashFunction(key, sdslen((sds)key));
}

static int blockedKeyCompare(const void *a, const void *b) {
    size_t len = sdslen((sds)a);
    return len != sdslen((sds)b) || memcmp(a, b, len) != 0;
}

static const void *blockedKeyGetKey(const void *entry) {
    return ((const blockedKey *)entry)->key;
}

static hashtableType blockedKeysType = {
    .hashFunction = blockedKeyHash,
    .entryGetKey = blockedKeyGetKey,
    .keyCompare = blockedKeyCompare,
};

static hashtable *blockingTable(int dbid, int create) {
    if (!blocking_keys) {
        if (!create) return NULL;
        blocking_keys = zcalloc(sizeof(*blocking_keys) * (size_t)server.dbnum);
    }
    if (!blocking_keys[dbid] && create) blocking_keys[dbid] = hashtableCreate(&blockedKeysType);
    return blocking_keys[dbid];
}

static blockedKey *blockedKeyGetOrCreate(int dbid, sds key) {
    hashtable *t = blockingTable(dbid, 1);
    void *found;
    if (hashtableFind(t, key, &found)) return found;
    blockedKey *bk = zmalloc(sizeof(*bk));
    bk->key = sdsdup(key);
    bk->dbid = dbid;
    bk->clients = listCreate();
    bk->nokey = 0;
    bk->ready = 0;
    bk->serving = 0;
    hashtableAdd(t, bk);
    total_keys++;
    return bk;
}

static void blockedKeyReleaseIfUnused(blockedKey *bk) {
    if (listLength(bk->clients) || bk->ready || bk->serving) return;
    void *popped;
    int found = hashtablePop(blocking_keys[bk->dbid], bk->key, &popped);
    serverAssert(found && popped == bk);
    total_keys--;
    listRelease(bk->clients);
    sdsfree(bk->key);
    zfree(bk);
}

static int btypeForObjectType(int type) {
    switch (type) {
    case OBJ_LIST: return BLOCKED_LIST;
    case OBJ_ZSET: return BLOCKED_ZSET;
    case OBJ_STREAM: return BLOCKED_STREAM;
    case OBJ_MODULE: return BLOCKED_MODULE;
    default: return BLOCKED_NONE;
    }
}

static void queueReadyKey(blockedKey *bk) {
    if (bk->ready) return;
    bk->ready = 1;
    if (!ready_keys) ready_keys = listCreate();
    listAddNodeTail(ready_keys, bk);
}

static void signalKeyReady(serverDb *db, sds key, int type, int deleted) {
    int btype = btypeForObjectType(type);
    if (btype == BLOCKED_NONE) return;
    /* The common case, nobody blocked on this kind of key, costs two loads. */
    if (!blocked_by_type[btype] && !blocked_by_type[BLOCKED_MODULE]) return;
    hashtable *t = blockingTable(db->id, 0);
    void *found;
    if (!t || !hashtableFind(t, key, &found)) return;
    blockedKey *bk = found;
    if (deleted && bk->nokey == 0) return;
    queueReadyKey(bk);
}

void signalKeyAsReadyByName(serverDb *db, sds key, int type) {
    signalKeyReady(db, key, type, 0);
}

void signalDeletedKeyAsReadyByName(serverDb *db, sds key, int type) {
    signalKeyReady(db, key, type, 1);
}

void signalKeyAsReady(serverDb *db, robj *key, int type) {
    serverAssert(sdsEncodedObject(key));
    signalKeyReady(db, objectGetVal(key), type, 0);
}

void signalDeletedKeyAsReady(serverDb *db, robj *key, int type) {
    serverAssert(sdsEncodedObject(key));
    signalKeyReady(db, objectGetVal(key), type, 1);
}

void scanDatabaseForReadyKeys(serverDb *db) {
    hashtable *t = blockingTable(db->id, 0);
    if (!t || hashtableSize(t) == 0) return;
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, t);
    while (hashtableNext(&it, &entry)) {
        blockedKey *bk = entry;
        robj *o = dbFind(db, bk->key);
        if (o) signalKeyReady(db, bk->key, o->type, 0);
    }
    hashtableResetIterator(&it);
}

void scanDatabaseForDeletedKeys(serverDb *db) {
    if (keys_on_nokey == 0) return;
    hashtable *t = blockingTable(db->id, 0);
    if (!t) return;
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, t);
    while (hashtableNext(&it, &entry)) {
        blockedKey *bk = entry;
        if (bk->nokey && !dbFind(db, bk->key)) queueReadyKey(bk);
    }
    hashtableResetIterator(&it);
}

unsigned long blockedClientsInTimeoutTable(void) {
    return (unsigned long)heap_len;
}

long long totalBlockingKeys(long long *on_nokey) {
    if (on_nokey) *on_nokey = keys_on_nokey;
    return total_keys;
}

/* ---------------------------------------------------------------------------
 * Blocking and unblocking
 * ------------------------------------------------------------------------- */

int clientDeniesBlocking(client *c) {
    return (c->flags & (CLIENT_DENY_BLOCKING | CLIENT_MULTI)) || server.in_exec || server.in_script;
}

static blockingState *newBlockingState(int numkeys, mstime_t timeout) {
    blockingState *bs = zmalloc(sizeof(*bs) + sizeof(bs->keys[0]) * (size_t)numkeys);
    bs->timeout = timeout;
    bs->heap_index = HEAP_NONE;
    bs->unblock_on_nokey = 0;
    bs->numkeys = 0;
    return bs;
}

static void blockClientWithState(client *c, int btype, blockingState *bs) {
    serverAssert(!(c->flags & CLIENT_BLOCKED) && btype > BLOCKED_NONE && btype < BLOCKED_NUM);
    c->bstate = bs;
    c->btype = btype;
    c->flags |= CLIENT_BLOCKED;
    server.blocked_clients++;
    blocked_by_type[btype]++;
    if (bs->timeout) heapAdd(c);
}

void blockForKeys(client *c, int btype, robj **keys, int numkeys, mstime_t timeout, int unblock_on_nokey) {
    if (c->flags & CLIENT_REPROCESSING_COMMAND) timeout = rerun_timeout;
    blockingState *bs = newBlockingState(numkeys, timeout);
    bs->unblock_on_nokey = unblock_on_nokey;
    for (int j = 0; j < numkeys; j++) {
        serverAssert(sdsEncodedObject(keys[j]));
        blockedKey *bk = blockedKeyGetOrCreate(c->db->id, objectGetVal(keys[j]));
        /* A key named twice: this client was just appended to it. */
        if (listLength(bk->clients) && listNodeValue(listLast(bk->clients)) == c) continue;
        listAddNodeTail(bk->clients, c);
        bs->keys[bs->numkeys].bk = bk;
        bs->keys[bs->numkeys].node = listLast(bk->clients);
        bs->numkeys++;
        if (unblock_on_nokey && bk->nokey++ == 0) keys_on_nokey++;
    }
    c->flags |= CLIENT_PENDING_COMMAND; /* run again once a key is ready */
    blockClientWithState(c, btype, bs);
}

void blockClient(client *c, int btype, mstime_t timeout, int retry_command) {
    if (retry_command) c->flags |= CLIENT_PENDING_COMMAND;
    blockClientWithState(c, btype, newBlockingState(0, timeout));
}

static void releaseBlockingState(client *c) {
    blockingState *bs = c->bstate;
    if (!bs) return;
    for (int j = 0; j < bs->numkeys; j++) {
        blockedKey *bk = bs->keys[j].bk;
        listDelNode(bk->clients, bs->keys[j].node);
        if (bs->unblock_on_nokey && --bk->nokey == 0) keys_on_nokey--;
        blockedKeyReleaseIfUnused(bk);
    }
    if (bs->heap_index != HEAP_NONE) heapRemove(c);
    zfree(bs);
    c->bstate = NULL;
}

/* The rest of the client's query buffer (and its pending command, if any) runs from
 * blockedBeforeSleep(). */
static void queueUnblockedClient(client *c) {
    if (c->flags & CLIENT_UNBLOCKED) return;
    c->flags |= CLIENT_UNBLOCKED;
    if (!unblocked_clients) unblocked_clients = listCreate();
    listAddNodeTail(unblocked_clients, (void *)(uintptr_t)c->id);
}

void unblockClient(client *c, int queue_for_reprocessing) {
    /* Clients postponed by CLIENT PAUSE belong to networking.c. */
    if (!(c->flags & CLIENT_BLOCKED) || c->btype == BLOCKED_POSTPONE) return;
    if (unblock_hooks[c->btype]) unblock_hooks[c->btype](c);
    releaseBlockingState(c);
    /* A command that will not run again is over: ready for the next one. */
    if (!(c->flags & CLIENT_PENDING_COMMAND)) resetClient(c);
    server.blocked_clients--;
    blocked_by_type[c->btype]--;
    c->flags &= ~CLIENT_BLOCKED;
    c->btype = BLOCKED_NONE;
    if (queue_for_reprocessing) queueUnblockedClient(c);
}

void unblockClientAndRetry(client *c) {
    unblockClient(c, 1); /* still pending: processPendingCommandAndInputBuffer runs it */
}

int blockedClientMayTimeout(client *c) {
    if (!(c->flags & CLIENT_BLOCKED)) return 0;
    return c->btype != BLOCKED_POSTPONE && c->btype != BLOCKED_SHUTDOWN && c->btype != BLOCKED_TIERING;
}

void unblockClientOnTimeout(client *c) {
    if (!(c->flags & CLIENT_BLOCKED) || c->btype == BLOCKED_POSTPONE) return;
    replyToBlockedClientTimedOut(c);
    updateStatsOnUnblock(c, 0); /* before unblockClient resets the command */
    c->flags &= ~CLIENT_PENDING_COMMAND;
    unblockClient(c, 1);
}

void unblockClientOnError(client *c, const char *err_str) {
    if (!(c->flags & CLIENT_BLOCKED) || c->btype == BLOCKED_POSTPONE) return;
    addReplyError(c, err_str);
    updateStatsOnUnblock(c, 1);
    c->flags &= ~CLIENT_PENDING_COMMAND;
    unblockClient(c, 1);
}

void disconnectAllBlockedClients(void) {
    listIter li;
    listNode *ln;
    listRewind(server.clients, &li);
    while ((ln = listNext(&li))) {
        client *c = listNodeValue(ln);
        if (!blockedClientMayTimeout(c)) continue;
        unblockClientOnError(c, "-UNBLOCKED force unblock from blocking operation, "
                                "instance state changed (master -> replica?)");
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    }
}

/* ---------------------------------------------------------------------------
 * Serving ready keys
 * ------------------------------------------------------------------------- */

/* Runs the blocked command again, as the current client. */
static void rerunBlockedCommand(client *c, mstime_t timeout) {
    client *prev = server.current_client;
    mstime_t prev_timeout = rerun_timeout;
    /* Pushes held back for the client whose command just ran go to it now, before
     * another client's command runs (they are held per running command). */
    flushPendingPushMessages(prev);
    server.current_client = c;
    rerun_timeout = timeout;
    c->flags |= CLIENT_REPROCESSING_COMMAND;
    processCommand(c);
    c->flags &= ~CLIENT_REPROCESSING_COMMAND;
    rerun_timeout = prev_timeout;
    int alive = server.current_client == c;
    flushPendingPushMessages(alive ? c : NULL);
    if (alive) {
        commandProcessed(c); /* resets it unless it blocked again */
        if (!(c->flags & CLIENT_BLOCKED)) queueUnblockedClient(c);
    }
    server.current_client = prev;
}

static void unblockClientOnKey(client *c) {
    mstime_t timeout = stateOf(c)->timeout;
    unblockClient(c, 0);
    if (!(c->flags & CLIENT_PENDING_COMMAND)) return;
    c->flags &= ~CLIENT_PENDING_COMMAND;
    rerunBlockedCommand(c, timeout);
}

static void serveClientsBlockedOnKey(blockedKey *bk) {
    serverDb *db = &server.db[bk->dbid];
    bk->serving = 1;
    /* Only the clients waiting now: those that block again go to the tail. */
    unsigned long count = listLength(bk->clients);
    listIter li;
    listNode *ln;
    listRewind(bk->clients, &li);
    while (count-- > 0 && (ln = listNext(&li))) {
        client *c = listNodeValue(ln);
        robj *o = dbFind(db, bk->key);
        int btype = o ? btypeForObjectType(o->type) : BLOCKED_NONE;
        /* A key of another kind does not serve this client (a BLPOP ignores a
         * string created at its key) unless it waits for any change. */
        if ((o && (c->btype == btype || c->btype == BLOCKED_MODULE)) || stateOf(c)->unblock_on_nokey)
            unblockClientOnKey(c);
    }
    bk->serving = 0;
    blockedKeyReleaseIfUnused(bk);
}

void handleClientsBlockedOnKeys(void) {
    static int in_progress = 0;
    if (in_progress || !ready_keys || listLength(ready_keys) == 0) return;
    /* Never inside a command (a script, events served while one runs). */
    if (server.execution_nesting) return;
    in_progress = 1;
    while (listLength(ready_keys)) {
        listNode *ln = listFirst(ready_keys);
        blockedKey *bk = listNodeValue(ln);
        listDelNode(ready_keys, ln);
        bk->ready = 0;
        serveClientsBlockedOnKey(bk);
    }
    in_progress = 0;
}

static void processUnblockedClients(void) {
    while (unblocked_clients && listLength(unblocked_clients)) {
        listNode *ln = listFirst(unblocked_clients);
        uint64_t id = (uint64_t)(uintptr_t)listNodeValue(ln);
        listDelNode(unblocked_clients, ln);
        client *c = lookupClientByID(id);
        if (!c) continue;
        c->flags &= ~CLIENT_UNBLOCKED;
        if (c->flags & CLIENT_BLOCKED) continue;
        processPendingCommandAndInputBuffer(c);
    }
}

long long blockedBeforeSleep(void) {
    handleBlockedClientsTimeout();
    if (!server.execution_nesting && !isProcessingEventsWhileBlocked()) processUnblockedClients();
    return scheduleNextTimeout();
}
