/* migrate.c -- MIGRATE, and valkey-flash's FLASH.MIGRATE and FLASH.MIGRATE.PROBE, without
 * ever blocking the event loop on the target.
 *
 * Valkey's MIGRATE talks to the target with blocking socket calls, so the whole server
 * stops for up to `timeout` ms per I/O step. Here the command prepares everything at once
 * and then only its own client waits:
 *
 *   1. At command time the arguments are checked exactly as Valkey does (same errors, same
 *      order), the keys are looked up (+NOKEY when none exists), and the request body is
 *      built: one `RESTORE key ttl payload [REPLACE]` per key still alive, with the DUMP
 *      payload (rdbCreateDumpPayload) and the remaining TTL in ms (0: none).
 *   2. A connection is taken from a small cache (Valkey keeps one per target for 10 s, and
 *      skips SELECT when the target is known to be in the right database) or opened with a
 *      non-blocking connect. The client is blocked (BLOCKED_MIGRATE, blocked.h); the
 *      request, `[AUTH ...] [SELECT db] RESTORE...`, is written and the replies read as
 *      the socket allows, from ae file events. A timer enforces `timeout` as an idle
 *      timeout: the transfer fails only when no byte moved for that long (Valkey's
 *      documented meaning). Other clients are served meanwhile.
 *   3. When every reply is in, the keys the target accepted are deleted (without COPY),
 *      each deletion signalled, notified ("del") and propagated as one DEL; then the client
 *      gets Valkey's reply and is unblocked.
 *
 * Keys changed during the transfer. Since other clients run while the client waits, a key
 * may change between its dump and the target's reply. Deleting it then would lose the
 * change, so the keys are watched (a fake client WATCHes them, multi.c): when nothing
 * touched any of them, the accepted keys are deleted at once; otherwise each accepted key
 * is checked: a key whose value (re-dumped) and expire time are what was sent is deleted,
 * a key that is gone is left alone, and any other is kept on the source and named in the
 * error reply "ERR MIGRATE: key '<k>' was modified during the transfer and was kept on the
 * source". A cold key cannot be re-dumped without a disk read and is kept too. A MIGRATE
 * to this very server (detected from the socket's two ends) into the same database is
 * answered by the target (BUSYKEY, or OK with REPLACE) but deletes nothing: the keys are
 * where they were asked to go, and deleting them would lose them.
 *
 * Cold keys: the key specs of MIGRATE make tiering bring them back to RAM before the
 * command runs; one the specs miss (a key list holding a second KEYS word) is read
 * synchronously by the lookup.
 *
 * Inside MULTI/EXEC and scripts the client cannot wait: the same state machine is driven
 * synchronously with poll() (aeWait), blocking the server as Valkey's MIGRATE always does.
 *
 * Errors are Valkey's: "-IOERR error or timeout connecting to the client" (resolution,
 * connect timeout), "-IOERR error or timeout writing to target instance" (a refused
 * connection shows here, as in Valkey, whose blocking connect succeeds on a refused
 * socket), "-IOERR error or timeout reading to target instance", and "ERR Target instance
 * replied with error: <the first error the target sent>". As in Valkey, a socket error
 * before any reply was read is retried once on a fresh connection (a cached one may have
 * been closed by the target), and on a read error the keys already acknowledged are
 * deleted before the IOERR reply.
 *
 * FLASH.MIGRATE runs the same transfer after asking the target for its flash capacity:
 * the first round trip sends `[AUTH] FLASH.MIGRATE.PROBE`, and the transfer goes on on
 * that connection only when the target's free_bytes covers the DUMP payloads' total size.
 * FLASH.MIGRATE.PROBE host port is that round trip alone, its reply relayed.
 *
 * An operation (migrateOp) belongs to this file from the command until its reply. Its
 * client is the blocked one; if the client goes away (disconnection, CLIENT UNBLOCK), the
 * unblock hook cancels the operation: the socket is closed and no key is deleted (like an
 * IOERR, the keys may then be on both instances, never on neither).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h" /* first: networking.h uses its mstime_t */
#include "adlist.h"
#include "ae.h"
#include "anet.h"
#include "blocked.h"
#include "commands.h"
#include "db.h"
#include "migrate.h"
#include "monotonic.h"
#include "multi.h"
#include "networking.h"
#include "notify.h"
#include "object.h"
#include "propagate.h"
#include "rdb.h"
#include "sds.h"
#include "tier/tier.h"
#include "util.h"
#include "zmalloc.h"

#define MIGRATE_DEFAULT_TIMEOUT_MS 1000 /* Valkey's, for a timeout <= 0 */
#define MIGRATE_PROBE_TIMEOUT_MS 5000   /* valkey-flash's probe timeout */
#define MIGRATE_CACHE_MAX 64            /* cached connections, as Valkey */
#define MIGRATE_CACHE_TTL_MS 10000      /* idle cached connections are closed after this */
#define MIGRATE_CACHE_SWEEP_MS 1000
#define MIGRATE_READ_CHUNK (16 * 1024)
#define MIGRATE_MAX_REPLY_LINE (64 * 1024) /* a longer reply line is a protocol error */
#define MIGRATE_MAX_REPLY_BULK (1024 * 1024)
#define MIGRATE_MAX_REPLY_ELEMS 32
#define MIGRATE_ERRKEY_MAX 128 /* bytes of a key name quoted in an error */

typedef enum { OP_MIGRATE, OP_PROBE, OP_FLASH_MIGRATE } opKind;
typedef enum { ST_CONNECTING, ST_WRITING, ST_READING } opStage;
typedef enum { IO_CONNECT, IO_WRITE, IO_READ } ioPhase;

/* One key of the transfer. */
typedef struct migrateKey {
    robj *key;            /* owned */
    long long expire;     /* absolute unix ms at dump time, -1: none */
    size_t off, len;      /* its DUMP payload inside op->body */
    int accepted;         /* the target answered its RESTORE without an error */
} migrateKey;

/* What the target still owes, in the order its replies come. */
typedef struct pendingReplies {
    int auth, probe, select, restores;
} pendingReplies;

/* The target's FLASH.MIGRATE.PROBE answer. */
typedef struct probeResult {
    sds state, path;
    unsigned long long capacity, free_bytes;
} probeResult;

typedef struct migrateOp {
    client *c;          /* the client waiting for the reply */
    opKind kind;
    int sync;           /* driven with poll() inside MULTI/EXEC or a script */
    int blocked;        /* c is blocked (BLOCKED_MIGRATE) */
    int failed;         /* the reply is an error (command stats) */
    listNode *node;     /* in active_ops while blocked */
    sds host;
    int port;
    sds name;           /* "host:port": the cache key and error texts */
    long timeout_ms;    /* idle timeout */
    /* The connection. */
    int fd;
    opStage stage;
    int retried, conn_replies, conn_authed, conn_db_known;
    int to_self;        /* the target is this very server */
    long conn_db;
    int round;          /* FLASH.MIGRATE: 1 the probe, 2 the transfer */
    sds head;           /* AUTH / SELECT / PROBE of the current round */
    int send_body;      /* the round also sends body */
    size_t out_pos;     /* bytes of head (then body) written */
    sds in;             /* bytes read, not parsed yet */
    pendingReplies pending;
    long long last_progress_ms;
    long long timer_id, resume_timer_id;
    int io_paused;      /* file events off while a script or load lets events run */
    /* The migration. */
    int copy, replace;
    sds username, password;
    long dest_db;
    int dbid;           /* source database */
    int numkeys, restores_read;
    migrateKey *keys;
    sds body;           /* the RESTORE commands */
    unsigned long long need; /* FLASH.MIGRATE: bytes of the DUMP payloads */
    client *watcher;    /* fake client WATCHing the keys, NULL when none */
    /* Outcome. */
    sds target_error;   /* the first error line from the target, without '-' */
    int auth_failed, select_failed;
    probeResult probe;
    sds probe_error;    /* FLASH.* : the error to reply after the probe */
} migrateOp;

static list *active_ops; /* blocked operations, for the unblock hook */
/* The synchronous driver runs one operation at a time (inside a command): cleared when
 * that operation is freed. */
static int sync_op_alive;

/* ------------------------------------------------------------------------- */
/* Small helpers                                                               */
/* ------------------------------------------------------------------------- */

static long long nowMs(void) {
    return (long long)(getMonotonicUs() / 1000);
}

static sds catArrayLen(sds s, long n) {
    return sdscatfmt(s, "*%I\r\n", (long long)n);
}

static sds catBulk(sds s, const char *p, size_t len) {
    s = sdscatfmt(s, "$%U\r\n", (unsigned long long)len);
    s = sdscatlen(s, p, len);
    return sdscatlen(s, "\r\n", 2);
}

static sds catBulkStr(sds s, const char *p) {
    return catBulk(s, p, strlen(p));
}

static sds catBulkLongLong(sds s, long long v) {
    char buf[LONG_STR_SIZE];
    int len = ll2string(buf, sizeof(buf), v);
    return catBulk(s, buf, (size_t)len);
}

/* valkey-flash parses the port as a 16-bit unsigned number. */
static int parsePort(const char *s, int *port) {
    if (*s == '+') s++;
    if (*s == '\0') return C_ERR;
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return C_ERR;
        v = v * 10 + (*s - '0');
        if (v > 65535) return C_ERR;
    }
    *port = (int)v;
    return C_OK;
}

static void replyError(migrateOp *op, const char *err) {
    op->failed = 1;
    addReplyError(op->c, err);
}

static void replyErrorFormat(migrateOp *op, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sds s = sdscatvprintf(sdsempty(), fmt, ap);
    va_end(ap);
    op->failed = 1;
    addReplyErrorSds(op->c, s);
}

/* ------------------------------------------------------------------------- */
/* Replies of the target (RESP2)                                               */
/* ------------------------------------------------------------------------- */

typedef struct respItem {
    char type; /* '+', '-', ':', '$' (len -1: null), '*' */
    const char *str;
    long long len;
} respItem;

typedef struct respValue {
    respItem top;
    int nelem;
    respItem elem[MIGRATE_MAX_REPLY_ELEMS];
} respValue;

/* One line at p: its length without CRLF in *linelen. Returns the bytes it takes with its
 * CRLF, 0 when incomplete, -1 when too long. */
static long respLine(const char *p, size_t len, size_t *linelen) {
    size_t scan = len < MIGRATE_MAX_REPLY_LINE ? len : MIGRATE_MAX_REPLY_LINE;
    const char *nl = memchr(p, '\n', scan);
    if (!nl) return len >= MIGRATE_MAX_REPLY_LINE ? -1 : 0;
    size_t n = (size_t)(nl - p);
    *linelen = (n > 0 && p[n - 1] == '\r') ? n - 1 : n;
    return (long)(n + 1);
}

/* One non-array item. Returns bytes used, 0 when incomplete, -1 on a protocol error. */
static long respParseItem(const char *p, size_t len, respItem *it) {
    size_t linelen;
    long used = respLine(p, len, &linelen);
    if (used <= 0) return used;
    if (linelen == 0) return -1;
    it->type = p[0];
    it->str = p + 1;
    it->len = (long long)linelen - 1;
    switch (it->type) {
    case '+':
    case '-':
    case ':': return used;
    case '$': {
        long long blen;
        if (!string2ll(p + 1, linelen - 1, &blen) || blen < -1 || blen > MIGRATE_MAX_REPLY_BULK) return -1;
        it->len = blen;
        if (blen == -1) return used;
        if (len < (size_t)used + (size_t)blen + 2) return 0;
        it->str = p + used;
        return used + (long)blen + 2;
    }
    default: return -1;
    }
}

/* One reply: an item, or a flat array of items. */
static long respParse(const char *p, size_t len, respValue *v) {
    v->nelem = 0;
    if (len == 0) return 0;
    if (p[0] != '*') return respParseItem(p, len, &v->top);
    size_t linelen;
    long used = respLine(p, len, &linelen);
    if (used <= 0) return used;
    long long n;
    if (!string2ll(p + 1, linelen - 1, &n) || n < -1 || n > MIGRATE_MAX_REPLY_ELEMS) return -1;
    v->top.type = '*';
    v->top.str = NULL;
    v->top.len = n;
    for (long long j = 0; j < n; j++) {
        if ((size_t)used >= len) return 0;
        if (p[used] == '*') return -1; /* nested arrays: not a reply we ask for */
        long r = respParseItem(p + used, len - (size_t)used, &v->elem[j]);
        if (r <= 0) return r;
        used += r;
        v->nelem++;
    }
    return used;
}

/* ------------------------------------------------------------------------- */
/* The connection cache                                                        */
/* ------------------------------------------------------------------------- */

typedef struct cachedConn {
    sds name;
    int fd;
    int db_known;
    long db;
    long long last_use_ms;
} cachedConn;

static cachedConn conn_cache[MIGRATE_CACHE_MAX];
static int conn_cache_len;
static long long cache_timer_id = -1;

unsigned long migrateCachedSocketCount(void) {
    return (unsigned long)conn_cache_len;
}

static void cacheRemoveAt(int i) {
    sdsfree(conn_cache[i].name);
    conn_cache[i] = conn_cache[--conn_cache_len];
}

static long long cacheSweepProc(aeEventLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    (void)data;
    long long now = nowMs();
    for (int i = conn_cache_len - 1; i >= 0; i--) {
        if (now - conn_cache[i].last_use_ms <= MIGRATE_CACHE_TTL_MS) continue;
        close(conn_cache[i].fd);
        cacheRemoveAt(i);
    }
    if (conn_cache_len) return MIGRATE_CACHE_SWEEP_MS;
    cache_timer_id = -1;
    return AE_NOMORE;
}

/* A cached connection to name, taken out of the cache, or -1. One the target closed (or
 * that has unread bytes) is dropped: it would only fail. */
static int cacheCheckout(const char *name, int *db_known, long *db) {
    for (int i = 0; i < conn_cache_len; i++) {
        if (strcmp(conn_cache[i].name, name) != 0) continue;
        int fd = conn_cache[i].fd;
        *db_known = conn_cache[i].db_known;
        *db = conn_cache[i].db;
        cacheRemoveAt(i);
        if (aeWait(fd, AE_READABLE, 0) != 0) {
            close(fd);
            return -1;
        }
        return fd;
    }
    return -1;
}

static void cacheCheckin(const char *name, int fd, int db_known, long db) {
    for (int i = 0; i < conn_cache_len; i++) {
        if (strcmp(conn_cache[i].name, name) == 0) { /* another migration cached one */
            close(fd);
            return;
        }
    }
    if (conn_cache_len == MIGRATE_CACHE_MAX) { /* full: drop the least recently used */
        int oldest = 0;
        for (int i = 1; i < conn_cache_len; i++)
            if (conn_cache[i].last_use_ms < conn_cache[oldest].last_use_ms) oldest = i;
        close(conn_cache[oldest].fd);
        cacheRemoveAt(oldest);
    }
    cachedConn *cc = &conn_cache[conn_cache_len++];
    cc->name = sdsnew(name);
    cc->fd = fd;
    cc->db_known = db_known;
    cc->db = db;
    cc->last_use_ms = nowMs();
    if (cache_timer_id == -1 && server.el)
        cache_timer_id = aeCreateTimeEvent(server.el, MIGRATE_CACHE_SWEEP_MS, cacheSweepProc, NULL, NULL);
}

/* ------------------------------------------------------------------------- */
/* Operations: creation and release                                            */
/* ------------------------------------------------------------------------- */

static migrateOp *opCreate(client *c, opKind kind, const char *host, int port, long timeout_ms) {
    migrateOp *op = zcalloc(sizeof(*op));
    op->c = c;
    op->kind = kind;
    op->host = sdsnew(host);
    op->port = port;
    op->name = sdscatfmt(sdsempty(), "%s:%i", host, port);
    op->timeout_ms = timeout_ms;
    op->fd = -1;
    op->timer_id = op->resume_timer_id = -1;
    op->in = sdsempty();
    op->round = 1;
    op->dbid = c->db->id;
    return op;
}

static void opStopEvents(migrateOp *op) {
    if (op->fd != -1 && !op->sync) aeDeleteFileEvent(server.el, op->fd, AE_READABLE | AE_WRITABLE);
    if (op->timer_id != -1) aeDeleteTimeEvent(server.el, op->timer_id);
    if (op->resume_timer_id != -1) aeDeleteTimeEvent(server.el, op->resume_timer_id);
    op->timer_id = op->resume_timer_id = -1;
}

static void opCloseConn(migrateOp *op) {
    if (op->fd == -1) return;
    if (!op->sync) aeDeleteFileEvent(server.el, op->fd, AE_READABLE | AE_WRITABLE);
    close(op->fd);
    op->fd = -1;
}

static void opFree(migrateOp *op) {
    if (op->sync) sync_op_alive = 0;
    opStopEvents(op);
    opCloseConn(op);
    if (op->node) listDelNode(active_ops, op->node);
    for (int j = 0; j < op->numkeys; j++) decrRefCount(op->keys[j].key);
    zfree(op->keys);
    if (op->watcher) freeClient(op->watcher);
    sdsfree(op->host);
    sdsfree(op->name);
    sdsfree(op->head);
    sdsfree(op->in);
    sdsfree(op->body);
    sdsfree(op->username);
    sdsfree(op->password);
    sdsfree(op->target_error);
    sdsfree(op->probe.state);
    sdsfree(op->probe.path);
    sdsfree(op->probe_error);
    zfree(op);
}

/* The reply was added: hands a clean connection back to the cache, wakes the client. */
static void opEnd(migrateOp *op, int conn_clean) {
    opStopEvents(op);
    if (conn_clean && op->fd != -1 && sdslen(op->in) == 0) {
        cacheCheckin(op->name, op->fd, op->conn_db_known, op->conn_db);
        op->fd = -1;
    }
    if (op->node) {
        listDelNode(active_ops, op->node);
        op->node = NULL;
    }
    client *c = op->c;
    if (op->blocked) {
        updateStatsOnUnblock(c, op->failed);
        unblockClient(c, 1);
    }
    opFree(op);
}

/* ------------------------------------------------------------------------- */
/* Requests                                                                    */
/* ------------------------------------------------------------------------- */

static int opSendsTransfer(migrateOp *op) {
    return op->kind == OP_MIGRATE || (op->kind == OP_FLASH_MIGRATE && op->round == 2);
}

/* The request of the current round on the current connection. */
static void opBuildRequest(migrateOp *op) {
    sds s = sdsempty();
    memset(&op->pending, 0, sizeof(op->pending));
    if (op->password && !op->conn_authed) {
        s = catArrayLen(s, op->username ? 3 : 2);
        s = catBulkStr(s, "AUTH");
        if (op->username) s = catBulk(s, op->username, sdslen(op->username));
        s = catBulk(s, op->password, sdslen(op->password));
        op->pending.auth = 1;
        op->conn_authed = 1;
    }
    if (!opSendsTransfer(op)) {
        s = catArrayLen(s, 1);
        s = catBulkStr(s, "FLASH.MIGRATE.PROBE");
        op->pending.probe = 1;
        op->send_body = 0;
    } else {
        if (!op->conn_db_known || op->conn_db != op->dest_db) {
            s = catArrayLen(s, 2);
            s = catBulkStr(s, "SELECT");
            s = catBulkLongLong(s, op->dest_db);
            op->pending.select = 1;
        }
        op->pending.restores = op->numkeys;
        op->restores_read = 0;
        op->send_body = 1;
    }
    sdsfree(op->head);
    op->head = s;
    op->out_pos = 0;
}

static int pendingCount(const pendingReplies *p) {
    return p->auth + p->probe + p->select + p->restores;
}

/* ------------------------------------------------------------------------- */
/* Outcomes                                                                    */
/* ------------------------------------------------------------------------- */

/* The dirty path: is the live entry o exactly what was sent for k? */
static int keyUnchangedSinceDump(migrateOp *op, migrateKey *k, robj *o) {
    if (objectIsCold(o)) return 0; /* cannot compare without reading the disk: keep it */
    if (objectGetExpire(o) != k->expire) return 0;
    sds now = rdbCreateDumpPayload(o, k->key, (int)op->dest_db);
    int same = now && sdslen(now) == k->len && memcmp(now, op->body + k->off, k->len) == 0;
    sdsfree(now);
    return same;
}

/* Deletes the keys the target accepted (without COPY) and propagates one DEL. Keys
 * changed since their dump are kept: returns how many, the first in *first. */
static int opDeleteAccepted(migrateOp *op, robj **first) {
    *first = NULL;
    /* Migrated onto themselves (this server, same database, REPLACE): already there. */
    if (op->copy || (op->to_self && op->dest_db == op->dbid)) return 0;
    serverDb *db = &server.db[op->dbid];
    int dirty = op->watcher && (op->watcher->flags & CLIENT_DIRTY_CAS);
    robj **argv = zmalloc(sizeof(robj *) * (size_t)(op->numkeys + 1));
    int argc = 1, kept = 0;
    argv[0] = shared.del;
    for (int j = 0; j < op->numkeys; j++) {
        migrateKey *k = &op->keys[j];
        if (!k->accepted) continue;
        robj *o = dbFind(db, objectGetVal(k->key));
        if (!o || keyIsExpired(db, k->key)) continue; /* gone meanwhile: nothing to move */
        if (dirty && !keyUnchangedSinceDump(op, k, o)) {
            if (kept++ == 0) *first = k->key;
            continue;
        }
        if (!dbDelete(db, k->key)) continue;
        signalModifiedKey(op->c, db, k->key);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", k->key, op->dbid);
        server.dirty++;
        argv[argc++] = k->key;
    }
    if (argc > 1) alsoPropagate(op->dbid, argv, argc, PROPAGATE_AOF | PROPAGATE_REPL);
    zfree(argv);
    return kept;
}

static void replyKeptKeys(migrateOp *op, int kept, robj *first) {
    sds k = objectGetVal(first);
    size_t len = sdslen(k) > MIGRATE_ERRKEY_MAX ? MIGRATE_ERRKEY_MAX : sdslen(k);
    if (kept == 1)
        replyErrorFormat(op, "MIGRATE: key '%.*s' was modified during the transfer and was kept on the source",
                         (int)len, k);
    else
        replyErrorFormat(op,
                         "MIGRATE: %d keys (the first is '%.*s') were modified during the transfer and were "
                         "kept on the source",
                         kept, (int)len, k);
}

/* Every reply of the transfer is in. */
static void opFinishMigrate(migrateOp *op) {
    robj *first;
    int kept = opDeleteAccepted(op, &first);
    if (op->target_error)
        replyErrorFormat(op, "Target instance replied with error: %s", op->target_error);
    else if (kept)
        replyKeptKeys(op, kept, first);
    else
        addReply(op->c, shared.ok);
    opEnd(op, 1);
}

static void addReplyProbe(client *c, const char *state, unsigned long long capacity, unsigned long long free_bytes,
                          const char *path) {
    addReplyArrayLen(c, 8);
    addReplyBulkCString(c, "state");
    addReplyBulkCString(c, state);
    addReplyBulkCString(c, "capacity_bytes");
    addReplyBulkLongLong(c, (long long)capacity);
    addReplyBulkCString(c, "free_bytes");
    addReplyBulkLongLong(c, (long long)free_bytes);
    addReplyBulkCString(c, "path");
    addReplyBulkCString(c, path);
}

/* The probe round is over (FLASH.MIGRATE.PROBE host port, or FLASH.MIGRATE's first).
 * Returns 1 when the operation ended (replied and freed), 0 when its transfer follows. */
static int opFinishProbe(migrateOp *op) {
    if (op->target_error && op->auth_failed) {
        replyErrorFormat(op, "Target instance replied with error: %s", op->target_error);
    } else if (op->probe_error) {
        replyError(op, op->probe_error);
    } else if (op->kind == OP_PROBE) {
        addReplyProbe(op->c, op->probe.state ? op->probe.state : "unknown", op->probe.capacity,
                      op->probe.free_bytes, op->probe.path ? op->probe.path : "");
    } else if (op->probe.free_bytes < op->need) {
        replyErrorFormat(op, "FLASH-MIGRATE target %s insufficient flash capacity (need %llu bytes free, has %llu)",
                         op->name, op->need, op->probe.free_bytes);
    } else {
        /* Enough room: the transfer goes on, on this connection. */
        op->round = 2;
        opBuildRequest(op);
        op->stage = ST_WRITING;
        return 0;
    }
    opEnd(op, 1);
    return 1;
}

/* ------------------------------------------------------------------------- */
/* Reply dispatch                                                              */
/* ------------------------------------------------------------------------- */

static void noteTargetError(migrateOp *op, const respItem *it) {
    op->conn_db_known = 0; /* as Valkey: after an error, SELECT again next time */
    if (!op->target_error) op->target_error = sdsnewlen(it->str, (size_t)it->len);
}

static sds itemString(const respItem *it) {
    if (it->type == '$' && it->len < 0) return sdsempty();
    return sdsnewlen(it->str, (size_t)it->len);
}

static void takeProbeReply(migrateOp *op, const respValue *v) {
    if (v->top.type == '-') {
        sds msg = sdsnewlen(v->top.str, (size_t)v->top.len);
        if (strstr(msg, "unknown command"))
            op->probe_error = sdscatfmt(sdsempty(), "FLASH-MIGRATE target %s does not have flash-module loaded",
                                        op->name);
        else
            op->probe_error = sdscatfmt(sdsempty(), "FLASH-MIGRATE target %s: %S", op->name, msg);
        sdsfree(msg);
        return;
    }
    if (v->top.type != '*' || v->top.len < 0) {
        op->probe_error = sdscatfmt(sdsempty(), "FLASH-MIGRATE target %s parse error: expected an array", op->name);
        return;
    }
    for (int j = 0; j + 1 < v->nelem; j += 2) {
        sds field = itemString(&v->elem[j]), value = itemString(&v->elem[j + 1]);
        unsigned long long n = 0;
        long long ll;
        if (string2ll(value, sdslen(value), &ll) && ll >= 0) n = (unsigned long long)ll;
        if (!strcmp(field, "state")) {
            sdsfree(op->probe.state);
            op->probe.state = value;
            value = NULL;
        } else if (!strcmp(field, "path")) {
            sdsfree(op->probe.path);
            op->probe.path = value;
            value = NULL;
        } else if (!strcmp(field, "capacity_bytes")) {
            op->probe.capacity = n;
        } else if (!strcmp(field, "free_bytes")) {
            op->probe.free_bytes = n;
        }
        sdsfree(field);
        sdsfree(value);
    }
}

/* One complete reply, in the order the requests went out. */
static void takeReply(migrateOp *op, const respValue *v) {
    int is_error = v->top.type == '-';
    op->conn_replies++;
    if (op->pending.auth) {
        op->pending.auth = 0;
        if (is_error) {
            op->auth_failed = 1;
            op->conn_authed = 0;
            noteTargetError(op, &v->top);
        }
    } else if (op->pending.probe) {
        op->pending.probe = 0;
        takeProbeReply(op, v);
    } else if (op->pending.select) {
        op->pending.select = 0;
        if (is_error) {
            op->select_failed = 1;
            noteTargetError(op, &v->top);
        } else {
            op->conn_db_known = 1;
            op->conn_db = op->dest_db;
        }
    } else if (op->pending.restores) {
        op->pending.restores--;
        migrateKey *k = &op->keys[op->restores_read++];
        if (is_error)
            noteTargetError(op, &v->top);
        else if (!op->auth_failed && !op->select_failed) /* Valkey's rule: those doom every key */
            k->accepted = 1;
    }
}

/* ------------------------------------------------------------------------- */
/* Failures                                                                    */
/* ------------------------------------------------------------------------- */

static int opConnect(migrateOp *op, int use_cache);
static int connIsSelf(int fd);

/* The socket failed (or stayed idle past the timeout) in phase. */
static void opIoFailed(migrateOp *op, ioPhase phase, int timed_out) {
    int err = errno;
    if (!timed_out && phase != IO_CONNECT && !op->retried && op->conn_replies == 0) {
        /* Nothing was answered yet: a cached connection the target closed, most likely.
         * One more try on a new connection, as Valkey does. */
        op->retried = 1;
        opCloseConn(op);
        sdsclear(op->in);
        if (opConnect(op, 0) == C_OK) return;
        phase = IO_CONNECT;
    }
    opCloseConn(op);
    if (op->kind == OP_PROBE || (op->kind == OP_FLASH_MIGRATE && op->round == 1)) {
        if (phase == IO_WRITE && !timed_out)
            replyErrorFormat(op, "FLASH-MIGRATE target %s write error: %s", op->name, strerror(err ? err : EPIPE));
        else
            replyErrorFormat(op, "FLASH-MIGRATE target %s did not respond within timeout", op->name);
        opEnd(op, 0);
        return;
    }
    if (phase == IO_CONNECT) {
        replyError(op, "-IOERR error or timeout connecting to the client");
    } else if (phase == IO_WRITE) {
        replyError(op, "-IOERR error or timeout writing to target instance");
    } else {
        robj *first;
        opDeleteAccepted(op, &first); /* the keys acknowledged before the failure moved */
        if (op->target_error)
            replyErrorFormat(op, "Target instance replied with error: %s", op->target_error);
        else
            replyError(op, "-IOERR error or timeout reading to target instance");
    }
    opEnd(op, 0);
}

static ioPhase phaseOf(migrateOp *op) {
    return op->stage == ST_CONNECTING ? IO_CONNECT : op->stage == ST_WRITING ? IO_WRITE : IO_READ;
}

/* ------------------------------------------------------------------------- */
/* I/O                                                                         */
/* ------------------------------------------------------------------------- */

static void opFileProc(aeEventLoop *el, int fd, void *data, int mask);

static int stageMask(migrateOp *op) {
    return op->stage == ST_READING ? AE_READABLE : AE_WRITABLE;
}

/* Listens for what the current stage waits for. */
static int opArm(migrateOp *op) {
    if (op->sync || op->io_paused) return C_OK;
    aeDeleteFileEvent(server.el, op->fd, AE_READABLE | AE_WRITABLE);
    return aeCreateFileEvent(server.el, op->fd, stageMask(op), opFileProc, op) == AE_ERR ? C_ERR : C_OK;
}

static void opProgress(migrateOp *op) {
    op->last_progress_ms = nowMs();
}

/* Writes what the socket takes. */
static void opDoWrite(migrateOp *op) {
    size_t headlen = sdslen(op->head), bodylen = op->send_body ? sdslen(op->body) : 0;
    while (op->out_pos < headlen + bodylen) {
        const char *p;
        size_t len;
        if (op->out_pos < headlen) {
            p = op->head + op->out_pos;
            len = headlen - op->out_pos;
        } else {
            p = op->body + (op->out_pos - headlen);
            len = headlen + bodylen - op->out_pos;
        }
        ssize_t n = send(op->fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            opIoFailed(op, IO_WRITE, 0);
            return;
        }
        op->out_pos += (size_t)n;
        opProgress(op);
    }
    op->stage = ST_READING;
    opArm(op);
}

/* All replies of the round are in. */
static void opRoundDone(migrateOp *op) {
    if (!opSendsTransfer(op)) {
        if (!opFinishProbe(op)) opArm(op); /* FLASH.MIGRATE goes on with its transfer */
        return;
    }
    opFinishMigrate(op);
}

/* Reads and dispatches replies. */
static void opDoRead(migrateOp *op) {
    size_t old = sdslen(op->in);
    op->in = sdsMakeRoomFor(op->in, MIGRATE_READ_CHUNK);
    ssize_t n = read(op->fd, op->in + old, MIGRATE_READ_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
        if (n == 0) errno = ECONNRESET;
        opIoFailed(op, IO_READ, 0);
        return;
    }
    sdsIncrLen(op->in, n);
    opProgress(op);
    size_t pos = 0;
    while (pendingCount(&op->pending)) {
        respValue v;
        long used = respParse(op->in + pos, sdslen(op->in) - pos, &v);
        if (used == 0) break;
        if (used < 0) {
            sdsclear(op->in);
            op->conn_replies = 1; /* a garbled connection is not retried */
            opIoFailed(op, IO_READ, 0);
            return;
        }
        takeReply(op, &v);
        pos += (size_t)used;
    }
    sdsrange(op->in, (ssize_t)pos, -1);
    if (pendingCount(&op->pending) == 0) opRoundDone(op);
}

/* One step of the state machine: the socket is ready for what the stage waits for. */
static void opStep(migrateOp *op) {
    switch (op->stage) {
    case ST_CONNECTING: {
        int err = anetGetError(op->fd);
        if (err) {
            /* Valkey's blocking connect succeeds on a refused socket and the first write
             * fails: the same error here. valkey-flash's probe fails on connecting. */
            errno = err;
            opIoFailed(op, opSendsTransfer(op) ? IO_WRITE : IO_CONNECT, 0);
            return;
        }
        op->stage = ST_WRITING;
        op->to_self = connIsSelf(op->fd);
        opProgress(op);
        opDoWrite(op);
        return;
    }
    case ST_WRITING: opDoWrite(op); return;
    case ST_READING: opDoRead(op); return;
    }
}

/* 1 when fd is connected to this server's own listener (MIGRATE to itself). */
static int connIsSelf(int fd) {
    char local_ip[NET_IP_STR_LEN], peer_ip[NET_IP_STR_LEN];
    int local_port, peer_port;
    if (anetFdToString(fd, peer_ip, sizeof(peer_ip), &peer_port, 1) == -1 ||
        anetFdToString(fd, local_ip, sizeof(local_ip), &local_port, 0) == -1)
        return 0;
    return peer_port == server.port && strcmp(peer_ip, local_ip) == 0;
}

/* Opens (or takes from the cache) a connection and prepares the round's request. */
static int opConnect(migrateOp *op, int use_cache) {
    op->conn_replies = 0;
    op->conn_authed = 0;
    op->conn_db_known = 0;
    int fd = use_cache ? cacheCheckout(op->name, &op->conn_db_known, &op->conn_db) : -1;
    if (fd != -1) {
        op->stage = ST_WRITING;
        op->to_self = connIsSelf(fd);
    } else {
        op->conn_db_known = 0;
        fd = anetTcpNonBlockConnect(NULL, op->host, op->port);
        if (fd == ANET_ERR) return C_ERR;
        anetEnableTcpNoDelay(NULL, fd);
        op->stage = ST_CONNECTING;
    }
    op->fd = fd;
    opBuildRequest(op);
    opProgress(op);
    if (opArm(op) != C_OK) {
        opCloseConn(op);
        return C_ERR;
    }
    return C_OK;
}

/* ---- The event-loop driver ---- */

static long long opResumeProc(aeEventLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    migrateOp *op = data;
    op->resume_timer_id = -1;
    if (op->io_paused) {
        op->io_paused = 0;
        opArm(op);
    }
    return AE_NOMORE;
}

static void opFileProc(aeEventLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)fd;
    (void)mask;
    migrateOp *op = data;
    /* A busy script or a load lets the event loop run: the keyspace must not change under
     * it. The socket is left alone until the main loop runs again. */
    if (isProcessingEventsWhileBlocked()) {
        op->io_paused = 1;
        aeDeleteFileEvent(server.el, op->fd, AE_READABLE | AE_WRITABLE);
        if (op->resume_timer_id == -1)
            op->resume_timer_id = aeCreateTimeEvent(server.el, 0, opResumeProc, op, NULL);
        return;
    }
    opStep(op);
}

/* The idle timeout. */
static long long opTimerProc(aeEventLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    migrateOp *op = data;
    long long idle = nowMs() - op->last_progress_ms;
    if (idle < op->timeout_ms) return op->timeout_ms - idle;
    /* Bytes may be waiting (the loop was busy elsewhere): let the file event take them. */
    if (!op->io_paused && aeWait(op->fd, stageMask(op), 0) > 0) return 1;
    op->timer_id = -1; /* ends with this call */
    opIoFailed(op, phaseOf(op), 1);
    return AE_NOMORE;
}

/* ---- The synchronous driver (MULTI/EXEC, scripts) ---- */

static void opRunSync(migrateOp *op) {
    sync_op_alive = 1;
    while (sync_op_alive) {
        long long left = op->timeout_ms - (nowMs() - op->last_progress_ms);
        int ready = left > 0 ? aeWait(op->fd, stageMask(op), left) : 0;
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0 && nowMs() - op->last_progress_ms < op->timeout_ms) continue;
        if (ready == 0) {
            opIoFailed(op, phaseOf(op), 1);
            return;
        }
        opStep(op);
    }
}

/* ------------------------------------------------------------------------- */
/* Blocking the client                                                         */
/* ------------------------------------------------------------------------- */

static migrateOp *opOfClient(client *c) {
    if (!active_ops) return NULL;
    listIter li;
    listNode *ln;
    listRewind(active_ops, &li);
    while ((ln = listNext(&li))) {
        migrateOp *op = listNodeValue(ln);
        if (op->c == c) return op;
    }
    return NULL;
}

/* CLIENT UNBLOCK ... TIMEOUT: the reply a timeout at this point would give. */
static void migrateTimeoutReply(client *c) {
    migrateOp *op = opOfClient(c);
    if (!op) {
        addReplyNullArray(c);
        return;
    }
    if (!opSendsTransfer(op)) {
        addReplyErrorFormat(c, "FLASH-MIGRATE target %s did not respond within timeout", op->name);
        return;
    }
    ioPhase phase = phaseOf(op);
    if (phase == IO_CONNECT) addReplyError(c, "-IOERR error or timeout connecting to the client");
    else if (phase == IO_WRITE) addReplyError(c, "-IOERR error or timeout writing to target instance");
    else addReplyError(c, "-IOERR error or timeout reading to target instance");
}

/* The client was unblocked by someone else (CLIENT UNBLOCK, disconnection): the
 * operation is abandoned, no key is deleted. */
static void migrateUnblockHook(client *c) {
    migrateOp *op = opOfClient(c);
    if (!op) return;
    op->blocked = 0;
    opFree(op);
}

static void migrateRegisterHooks(void) {
    static int done = 0;
    if (done) return;
    done = 1;
    active_ops = listCreate();
    blockedRegisterTimeoutReply(BLOCKED_MIGRATE, migrateTimeoutReply);
    blockedRegisterUnblockHook(BLOCKED_MIGRATE, migrateUnblockHook);
}

/* Starts the transfer: the client waits (or, when it cannot, the server does). */
static void opLaunch(migrateOp *op) {
    migrateRegisterHooks();
    op->sync = clientDeniesBlocking(op->c);
    if (opConnect(op, 1) != C_OK) {
        if (op->kind == OP_MIGRATE)
            replyError(op, "-IOERR error or timeout connecting to the client");
        else
            replyErrorFormat(op, "FLASH-MIGRATE target %s did not respond within timeout", op->name);
        opFree(op);
        return;
    }
    if (op->sync) {
        opRunSync(op);
        return;
    }
    op->node = (listAddNodeTail(active_ops, op), listLast(active_ops));
    op->timer_id = aeCreateTimeEvent(server.el, op->timeout_ms, opTimerProc, op, NULL);
    op->blocked = 1;
    blockClient(op->c, BLOCKED_MIGRATE, 0, 0);
}

/* ------------------------------------------------------------------------- */
/* MIGRATE                                                                     */
/* ------------------------------------------------------------------------- */

typedef struct migrateArgs {
    int copy, replace;
    const char *username, *password;
    int first_key, num_keys;
    long timeout, dbid;
} migrateArgs;

/* Valkey's parse, in its order: options, then timeout, then the database. */
static int parseMigrateArgs(client *c, migrateArgs *a, sds *username, sds *password) {
    memset(a, 0, sizeof(*a));
    a->first_key = 3;
    a->num_keys = 1;
    for (int j = 6; j < c->argc; j++) {
        const char *opt = objectGetVal(c->argv[j]);
        int moreargs = c->argc - 1 - j;
        if (!strcasecmp(opt, "copy")) {
            a->copy = 1;
        } else if (!strcasecmp(opt, "replace")) {
            a->replace = 1;
        } else if (!strcasecmp(opt, "auth")) {
            if (!moreargs) goto syntax;
            j++;
            sdsfree(*password);
            *password = sdsdup(objectGetVal(c->argv[j]));
            redactClientCommandArgument(c, j);
        } else if (!strcasecmp(opt, "auth2")) {
            if (moreargs < 2) goto syntax;
            sdsfree(*username);
            sdsfree(*password);
            *username = sdsdup(objectGetVal(c->argv[++j]));
            redactClientCommandArgument(c, j);
            *password = sdsdup(objectGetVal(c->argv[++j]));
            redactClientCommandArgument(c, j);
        } else if (!strcasecmp(opt, "keys")) {
            if (sdslen(objectGetVal(c->argv[3])) != 0) {
                addReplyError(c, "When using MIGRATE KEYS option, the key argument must be set to the empty string");
                return C_ERR;
            }
            a->first_key = j + 1;
            a->num_keys = c->argc - j - 1;
            break;
        } else {
            goto syntax;
        }
    }
    if (getLongFromObjectOrReply(c, c->argv[5], &a->timeout, NULL) != C_OK ||
        getLongFromObjectOrReply(c, c->argv[4], &a->dbid, NULL) != C_OK)
        return C_ERR;
    if (a->timeout <= 0) a->timeout = MIGRATE_DEFAULT_TIMEOUT_MS;
    return C_OK;
syntax:
    addReplyErrorObject(c, shared.syntaxerr);
    return C_ERR;
}

/* Appends one RESTORE to the body. C_ERR when the value has no DUMP form. */
static int addRestore(migrateOp *op, robj *keyobj, robj *o, long long ttl) {
    sds payload = rdbCreateDumpPayload(o, keyobj, (int)op->dest_db);
    if (!payload) return C_ERR;
    sds key = objectGetVal(keyobj);
    migrateKey *k = &op->keys[op->numkeys++];
    k->key = createStringObject(key, sdslen(key));
    k->expire = objectGetExpire(o);
    k->accepted = 0;
    op->body = catArrayLen(op->body, op->replace ? 5 : 4);
    op->body = catBulkStr(op->body, "RESTORE");
    op->body = catBulk(op->body, key, sdslen(key));
    op->body = catBulkLongLong(op->body, ttl);
    op->body = sdscatfmt(op->body, "$%U\r\n", (unsigned long long)sdslen(payload));
    k->off = sdslen(op->body);
    k->len = sdslen(payload);
    op->body = sdscatlen(op->body, payload, sdslen(payload));
    op->body = sdscatlen(op->body, "\r\n", 2);
    if (op->replace) op->body = catBulkStr(op->body, "REPLACE");
    op->need += sdslen(payload);
    sdsfree(payload);
    return C_OK;
}

/* Dumps the keys that exist. Returns how many, or -1 (replied) on an error. */
static int collectKeys(client *c, migrateOp *op, const migrateArgs *a) {
    robj **values = zmalloc(sizeof(robj *) * (size_t)a->num_keys);
    robj **names = zmalloc(sizeof(robj *) * (size_t)a->num_keys);
    int found = 0;
    for (int j = 0; j < a->num_keys; j++) {
        robj *key = c->argv[a->first_key + j];
        robj *o = lookupKeyRead(c->db, key);
        if (!o) continue;
        values[found] = o;
        names[found++] = key;
    }
    int rc = found;
    if (found) {
        op->keys = zcalloc(sizeof(migrateKey) * (size_t)found);
        op->body = sdsempty();
        for (int j = 0; j < found; j++) {
            long long ttl = 0, expire = objectGetExpire(values[j]);
            if (expire != -1) {
                ttl = expire - commandTimeSnapshot();
                if (ttl < 0) continue; /* expired since the lookup */
                if (ttl < 1) ttl = 1;
            }
            if (addRestore(op, names[j], values[j], ttl) != C_OK) {
                addReplyError(c, "The value of this key can't be serialized");
                rc = -1;
                break;
            }
        }
    }
    zfree(values);
    zfree(names);
    return rc;
}

/* A fake client WATCHes the keys: any change to one of them flags it dirty. */
static void watchKeys(migrateOp *op) {
    client *w = createClient(-1);
    w->db = &server.db[op->dbid];
    robj **argv = zmalloc(sizeof(robj *) * (size_t)(op->numkeys + 1));
    argv[0] = op->keys[0].key; /* the command name slot: WATCH does not read it */
    for (int j = 0; j < op->numkeys; j++) argv[j + 1] = op->keys[j].key;
    w->argv = argv;
    w->argc = op->numkeys + 1;
    watchCommand(w); /* its +OK goes nowhere: the client has no connection */
    w->argv = NULL;
    w->argc = 0;
    zfree(argv);
    op->watcher = w;
}

/* MIGRATE and FLASH.MIGRATE after their own checks. */
static void startMigration(client *c, opKind kind, int port) {
    /* The deletions propagate as DEL (alsoPropagate), never the command itself. */
    preventCommandPropagation(c);
    migrateArgs a;
    sds username = NULL, password = NULL;
    if (parseMigrateArgs(c, &a, &username, &password) != C_OK) {
        sdsfree(username);
        sdsfree(password);
        return;
    }
    migrateOp *op = opCreate(c, kind, objectGetVal(c->argv[1]), port, a.timeout);
    op->copy = a.copy;
    op->replace = a.replace;
    op->username = username;
    op->password = password;
    op->dest_db = a.dbid;
    int found = collectKeys(c, op, &a);
    if (found <= 0) {
        if (found == 0) addReplyStatus(c, "NOKEY");
        opFree(op);
        return;
    }
    if (op->numkeys == 0) { /* every key expired while being dumped */
        addReply(c, shared.ok);
        opFree(op);
        return;
    }
    if (kind == OP_MIGRATE) op->round = 2;
    if (!op->copy && !clientDeniesBlocking(c)) watchKeys(op);
    opLaunch(op);
}

void migrateCommand(client *c) {
    /* Valkey connects to atoi(port): a bad port fails as a refused connection. */
    startMigration(c, OP_MIGRATE, atoi(objectGetVal(c->argv[2])));
}

/* ------------------------------------------------------------------------- */
/* FLASH.MIGRATE, FLASH.MIGRATE.PROBE                                          */
/* ------------------------------------------------------------------------- */

static int parsePortOrReply(client *c, robj *arg, int *port) {
    if (parsePort(objectGetVal(arg), port) == C_OK) return C_OK;
    addReplyErrorFormat(c, "invalid port: %s", (char *)objectGetVal(arg));
    return C_ERR;
}

/* FLASH.MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw]
 * [KEYS key ...] */
void flashMigrateCommand(client *c) {
    int port;
    if (parsePortOrReply(c, c->argv[2], &port) != C_OK) return;
    startMigration(c, OP_FLASH_MIGRATE, port);
}

/* FLASH.MIGRATE.PROBE [host port] */
void flashMigrateProbeCommand(client *c) {
    if (c->argc != 1 && c->argc != 3) {
        addReplyErrorArity(c);
        return;
    }
    if (c->argc == 1) {
        unsigned long long capacity, free_bytes;
        const char *path;
        const char *state = tierProbeFigures(&capacity, &free_bytes, &path);
        addReplyProbe(c, state, capacity, free_bytes, path);
        return;
    }
    int port;
    if (parsePortOrReply(c, c->argv[2], &port) != C_OK) return;
    migrateOp *op = opCreate(c, OP_PROBE, objectGetVal(c->argv[1]), port, MIGRATE_PROBE_TIMEOUT_MS);
    opLaunch(op);
}
