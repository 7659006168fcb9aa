/* t_string.c -- the string commands: SET and its relatives (SETNX, SETEX, PSETEX,
 * GETSET, MSET, MSETNX), GET and its relatives (GETEX, GETDEL, MGET), counters (INCR,
 * DECR, INCRBY, DECRBY, INCRBYFLOAT), APPEND, STRLEN, SETRANGE, GETRANGE/SUBSTR, LCS.
 *
 * A string value is an object in one of three encodings: INT (a long kept in the value
 * slot), EMBSTR (a short read-only sds inside the object) or RAW (an sds of its own).
 * New values come straight from the client's arguments: tryObjectEncoding() picks the
 * encoding and the argument object itself moves into the keyspace, so storing a value
 * copies no bytes. The client's argv then refers to the stored object, which keeps
 * propagation and MONITOR correct. Commands that edit a value in place (APPEND,
 * SETRANGE) first unshare it with dbUnshareStringValue(), which always hands back a
 * RAW object whose sds we may grow. INCR on an INT value that nobody else references
 * rewrites the value slot in place: no allocation on the counter hot path.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "server.h" /* first: networking.h uses its mstime_t */
#include "commands.h"
#include "db.h"
#include "networking.h"
#include "notify.h"
#include "object.h"
#include "sds.h"
#include "util.h"
#include "zmalloc.h"

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

/* Refuses (with the reply) a string that would grow past proto-max-bulk-len. The
 * master and AOF loading are obeyed whatever the limit. */
static int checkStringLength(client *c, long long size, long long append) {
    if (mustObeyClient(c)) return C_OK;
    unsigned long long total = (unsigned long long)size + (unsigned long long)append;
    if (total > (unsigned long long)server.proto_max_bulk_len || total < (unsigned long long)size) {
        addReplyError(c, "string exceeds maximum allowed size (proto-max-bulk-len)");
        return C_ERR;
    }
    return C_OK;
}

/* Reads the string at argv[1] for GET-like commands: replies with the value or a null
 * and returns C_OK, or replies WRONGTYPE and returns C_ERR. */
static int replyWithStringValue(client *c) {
    robj *o = lookupKeyReadOrReply(c, c->argv[1], shared.null[c->resp]);
    if (o == NULL) return C_OK;
    if (checkType(c, o, OBJ_STRING)) return C_ERR;
    addReplyBulk(c, o);
    return C_OK;
}

/* A write deleted a key because the absolute expire time it was given is already in
 * the past: the key goes away as if it had expired, and replicas are told to delete it
 * explicitly, so they never see a write with a time in the past. */
static void deleteKeyOverwrittenAsExpired(client *c, robj *key) {
    if (!dbGenericDelete(c->db, key, server.lazyfree_lazy_expire, DB_FLAG_KEY_EXPIRED)) return;
    server.dirty++;
    rewriteClientCommandVector(c, 2, server.lazyfree_lazy_expire ? shared.unlink : shared.del, key);
    key = c->argv[1]; /* the old vector is gone; the key lives on in the new one */
    signalModifiedKey(c, c->db, key);
    notifyKeyspaceEvent(NOTIFY_EXPIRED, "expired", key, c->db->id);
    server.stat_expiredkeys++;
}

/* ---------------------------------------------------------------------------
 * SET / GETEX option parsing
 * ------------------------------------------------------------------------- */

#define OPT_NX (1 << 0)
#define OPT_XX (1 << 1)
#define OPT_IFEQ (1 << 2)
#define OPT_GET (1 << 3)
#define OPT_KEEPTTL (1 << 4)
#define OPT_PERSIST (1 << 5)
#define OPT_EX (1 << 6)
#define OPT_PX (1 << 7)
#define OPT_EXAT (1 << 8)
#define OPT_PXAT (1 << 9)
#define OPT_ANY_EXPIRE (OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT)
#define OPT_SECONDS (OPT_EX | OPT_EXAT)  /* the time argument is in seconds */
#define OPT_RELATIVE (OPT_EX | OPT_PX)   /* the time argument is a TTL, not a date */

#define FOR_SET 1
#define FOR_GETEX 2

typedef struct stringOption {
    const char *name;
    int flag;
    int takes_arg;
    int commands; /* FOR_SET and/or FOR_GETEX */
    int excludes; /* options that may not be combined with this one */
} stringOption;

/* Repeating an option is accepted (the last time argument wins); combining exclusive
 * ones is a syntax error. */
static const stringOption string_options[] = {
    {"NX", OPT_NX, 0, FOR_SET, OPT_XX | OPT_IFEQ},
    {"XX", OPT_XX, 0, FOR_SET, OPT_NX | OPT_IFEQ},
    {"IFEQ", OPT_IFEQ, 1, FOR_SET, OPT_NX | OPT_XX},
    {"GET", OPT_GET, 0, FOR_SET, 0},
    {"KEEPTTL", OPT_KEEPTTL, 0, FOR_SET, OPT_PERSIST | OPT_ANY_EXPIRE},
    {"PERSIST", OPT_PERSIST, 0, FOR_GETEX, OPT_KEEPTTL | OPT_ANY_EXPIRE},
    {"EX", OPT_EX, 1, FOR_SET | FOR_GETEX, OPT_KEEPTTL | OPT_PERSIST | (OPT_ANY_EXPIRE & ~OPT_EX)},
    {"PX", OPT_PX, 1, FOR_SET | FOR_GETEX, OPT_KEEPTTL | OPT_PERSIST | (OPT_ANY_EXPIRE & ~OPT_PX)},
    {"EXAT", OPT_EXAT, 1, FOR_SET | FOR_GETEX, OPT_KEEPTTL | OPT_PERSIST | (OPT_ANY_EXPIRE & ~OPT_EXAT)},
    {"PXAT", OPT_PXAT, 1, FOR_SET | FOR_GETEX, OPT_KEEPTTL | OPT_PERSIST | (OPT_ANY_EXPIRE & ~OPT_PXAT)},
};
#define STRING_OPTIONS_COUNT (sizeof(string_options) / sizeof(string_options[0]))

typedef struct setRequest {
    int flags;           /* OPT_* */
    robj *key;
    int validx;          /* argv index of the value */
    robj *expire_arg;    /* EX/PX/EXAT/PXAT argument, NULL if none */
    robj *compare;       /* IFEQ argument */
    robj *ok_reply;      /* reply when the value was written */
    robj *abort_reply;   /* reply when NX/XX/IFEQ prevented the write */
} setRequest;

/* Parses options from argv[first] on into req. Replies "syntax error" and returns C_ERR
 * on an unknown, misplaced or conflicting option, or a missing argument. */
static int parseStringOptions(client *c, int first, int command, setRequest *req) {
    for (int j = first; j < c->argc; j++) {
        const stringOption *opt = NULL;
        for (size_t k = 0; k < STRING_OPTIONS_COUNT; k++) {
            if (stringObjectEqualsIgnoreCase(c->argv[j], string_options[k].name)) {
                opt = &string_options[k];
                break;
            }
        }
        if (opt == NULL || !(opt->commands & command) || (req->flags & opt->excludes) ||
            (opt->takes_arg && j + 1 >= c->argc)) {
            addReplyErrorObject(c, shared.syntaxerr);
            return C_ERR;
        }
        req->flags |= opt->flag;
        if (opt->takes_arg) {
            j++;
            if (opt->flag == OPT_IFEQ)
                req->compare = c->argv[j];
            else
                req->expire_arg = c->argv[j];
        }
    }
    return C_OK;
}

/* Converts the EX/PX/EXAT/PXAT argument into an absolute unix time in milliseconds.
 * Replies and returns C_ERR when it is not a positive integer or would overflow. */
static int expireArgToUnixMs(client *c, robj *arg, int flags, long long *when) {
    long long v;
    if (getLongLongFromObjectOrReply(c, arg, &v, NULL) != C_OK) return C_ERR;
    if (v <= 0 || ((flags & OPT_SECONDS) && v > LLONG_MAX / 1000)) goto invalid;
    if (flags & OPT_SECONDS) v *= 1000;
    if (flags & OPT_RELATIVE) {
        long long now = commandTimeSnapshot();
        if (v > LLONG_MAX - now) goto invalid;
        v += now;
    }
    *when = v;
    return C_OK;
invalid:
    addReplyErrorExpireTime(c);
    return C_ERR;
}

/* ---------------------------------------------------------------------------
 * SET family
 * ------------------------------------------------------------------------- */

/* Moves argv[idx] into the keyspace under `key`, with an optional expire time
 * (when >= 0). Afterwards argv[idx] refers to the stored object: setExpire() fixes up
 * the argv slots of the running client if adding the time moves the entry. */
static robj *storeArgument(client *c, robj *key, int idx, int setkey_flags, long long when) {
    robj *stored = setKeyFromArgv(c, c->db, key, idx, setkey_flags);
    if (when >= 0) stored = setExpire(c, c->db, key, when);
    return stored;
}

/* Propagates SET without its GET options: the old value is of no use to replicas. */
static void dropGetFromPropagatedSet(client *c, int first_option) {
    robj **argv = zmalloc(sizeof(robj *) * c->argc);
    int argc = 0;
    for (int j = 0; j < c->argc; j++) {
        if (j >= first_option && stringObjectEqualsIgnoreCase(c->argv[j], "GET")) continue;
        /* Skip over an option's own argument so an IFEQ value "GET" survives. */
        if (j >= first_option && (stringObjectEqualsIgnoreCase(c->argv[j], "IFEQ") || stringObjectEqualsIgnoreCase(c->argv[j], "EX") ||
                                  stringObjectEqualsIgnoreCase(c->argv[j], "PX") || stringObjectEqualsIgnoreCase(c->argv[j], "EXAT") ||
                                  stringObjectEqualsIgnoreCase(c->argv[j], "PXAT")) && j + 1 < c->argc) {
            argv[argc++] = c->argv[j];
            incrRefCount(c->argv[j]);
            j++;
        }
        argv[argc++] = c->argv[j];
        incrRefCount(c->argv[j]);
    }
    replaceClientCommandVector(c, argc, argv);
}

/* The common core of SET, SETNX, SETEX, PSETEX. */
static void setGeneric(client *c, setRequest *req) {
    long long when = -1;
    int getold = req->flags & OPT_GET;

    c->argv[req->validx] = tryObjectEncoding(c->argv[req->validx]);
    if (req->expire_arg && expireArgToUnixMs(c, req->expire_arg, req->flags, &when) != C_OK) return;
    if (getold && replyWithStringValue(c) != C_OK) return;

    /* Existence only matters for conditions and for a date already past; otherwise
     * setKey finds out by itself with a single lookup. */
    int found = -1;
    int already_expired = when >= 0 && !(req->flags & OPT_RELATIVE) && checkAlreadyExpired(when);
    if ((req->flags & (OPT_NX | OPT_XX | OPT_IFEQ)) || already_expired) {
        robj *existing = lookupKeyWrite(c->db, req->key);
        found = existing != NULL;
        int abort = (req->flags & OPT_NX && found) || (req->flags & OPT_XX && !found);
        if (req->flags & OPT_IFEQ) {
            if (!found) {
                abort = 1;
            } else {
                /* With GET the type was checked while reading the old value. */
                if (!getold && checkType(c, existing, OBJ_STRING)) return;
                abort = compareStringObjects(existing, req->compare) != 0;
            }
        }
        if (abort) {
            if (!getold) addReply(c, req->abort_reply);
            return;
        }
    }

    if (already_expired) {
        /* The value would be dead on arrival: don't store it, and drop the old one. */
        if (found) deleteKeyOverwrittenAsExpired(c, req->key);
        if (!getold) addReply(c, req->ok_reply);
        return;
    }

    int setkey_flags = (req->flags & OPT_KEEPTTL) || when >= 0 ? SETKEY_KEEPTTL : 0;
    if (found == 1) setkey_flags |= SETKEY_ALREADY_EXIST;
    if (found == 0) setkey_flags |= SETKEY_DOESNT_EXIST;
    robj *stored = storeArgument(c, req->key, req->validx, setkey_flags, when);

    server.dirty++;
    notifyKeyspaceEvent(NOTIFY_STRING, "set", req->key, c->db->id);
    if (when >= 0) notifyKeyspaceEvent(NOTIFY_GENERIC, "expire", req->key, c->db->id);
    if (!getold) addReply(c, req->ok_reply);

    /* Replicas get an absolute date, so a delayed replay cannot extend the TTL; they
     * have no use for the old value either. */
    if (when >= 0 && !(req->flags & OPT_PXAT)) {
        robj *ms = createStringObjectFromLongLong(when);
        rewriteClientCommandVector(c, 5, shared.set, req->key, stored, shared.pxat, ms);
        decrRefCount(ms);
    } else if (getold) {
        dropGetFromPropagatedSet(c, 3);
    }
}

static void initSetRequest(client *c, setRequest *req, int validx) {
    memset(req, 0, sizeof(*req));
    req->key = c->argv[1];
    req->validx = validx;
    req->ok_reply = shared.ok;
    req->abort_reply = shared.null[c->resp];
}

/* SET key value [NX | XX | IFEQ comparison-value] [GET]
 *     [EX seconds | PX milliseconds | EXAT unix-seconds | PXAT unix-ms | KEEPTTL] */
void setCommand(client *c) {
    setRequest req;
    initSetRequest(c, &req, 2);
    if (parseStringOptions(c, 3, FOR_SET, &req) != C_OK) return;
    setGeneric(c, &req);
}

/* SETNX key value */
void setnxCommand(client *c) {
    setRequest req;
    initSetRequest(c, &req, 2);
    req.flags = OPT_NX;
    req.ok_reply = shared.cone;
    req.abort_reply = shared.czero;
    setGeneric(c, &req);
}

/* SETEX key seconds value, PSETEX key milliseconds value */
static void setexGeneric(client *c, int unit_flag) {
    setRequest req;
    initSetRequest(c, &req, 3);
    req.flags = unit_flag;
    req.expire_arg = c->argv[2];
    setGeneric(c, &req);
}

void setexCommand(client *c) {
    setexGeneric(c, OPT_EX);
}

void psetexCommand(client *c) {
    setexGeneric(c, OPT_PX);
}

/* GETSET key value: SET key value GET, propagated as a plain SET. */
void getsetCommand(client *c) {
    if (replyWithStringValue(c) != C_OK) return;
    c->argv[2] = tryObjectEncoding(c->argv[2]);
    setKeyFromArgv(c, c->db, c->argv[1], 2, 0);
    notifyKeyspaceEvent(NOTIFY_STRING, "set", c->argv[1], c->db->id);
    server.dirty++;
    rewriteClientCommandArgument(c, 0, shared.set);
}

/* MSET key value [key value ...], MSETNX key value [key value ...] */
static void msetGeneric(client *c, int nx) {
    if (c->argc % 2 == 0) {
        addReplyErrorArity(c);
        return;
    }
    if (nx) {
        for (int j = 1; j < c->argc; j += 2) {
            if (lookupKeyWrite(c->db, c->argv[j]) != NULL) {
                addReply(c, shared.czero);
                return;
            }
        }
    }
    for (int j = 1; j < c->argc; j += 2) {
        c->argv[j + 1] = tryObjectEncoding(c->argv[j + 1]);
        /* Only the first key is known to be absent: MSETNX may name a key twice. */
        int flags = (nx && j == 1) ? SETKEY_DOESNT_EXIST : 0;
        setKeyFromArgv(c, c->db, c->argv[j], j + 1, flags);
        notifyKeyspaceEvent(NOTIFY_STRING, "set", c->argv[j], c->db->id);
    }
    server.dirty += (c->argc - 1) / 2;
    addReply(c, nx ? shared.cone : shared.ok);
}

void msetCommand(client *c) {
    msetGeneric(c, 0);
}

void msetnxCommand(client *c) {
    msetGeneric(c, 1);
}

/* ---------------------------------------------------------------------------
 * GET family
 * ------------------------------------------------------------------------- */

/* GET key */
void getCommand(client *c) {
    replyWithStringValue(c);
}

/* MGET key [key ...]: missing keys and keys of other types read as nulls. */
void mgetCommand(client *c) {
    addReplyArrayLen(c, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        robj *o = lookupKeyRead(c->db, c->argv[j]);
        if (o == NULL || o->type != OBJ_STRING)
            addReplyNull(c);
        else
            addReplyBulk(c, o);
    }
}

/* GETEX key [EX seconds | PX milliseconds | EXAT unix-seconds | PXAT unix-ms | PERSIST]
 * Propagated as PEXPIREAT, PERSIST or DEL/UNLINK, never as itself. */
void getexCommand(client *c) {
    setRequest req;
    memset(&req, 0, sizeof(req));
    if (parseStringOptions(c, 2, FOR_GETEX, &req) != C_OK) return;

    robj *o = lookupKeyReadOrReply(c, c->argv[1], shared.null[c->resp]);
    if (o == NULL || checkType(c, o, OBJ_STRING)) return;

    /* Valkey 8 validates the time only once the key is known to be a string. */
    long long when = -1;
    if (req.expire_arg && expireArgToUnixMs(c, req.expire_arg, req.flags, &when) != C_OK) return;

    addReplyBulk(c, o); /* before the key may go away */

    robj *key = c->argv[1];
    if (when >= 0 && !(req.flags & OPT_RELATIVE) && checkAlreadyExpired(when)) {
        deleteKeyOverwrittenAsExpired(c, key);
    } else if (when >= 0) {
        setExpire(c, c->db, key, when);
        robj *ms = createStringObjectFromLongLong(when);
        rewriteClientCommandVector(c, 3, shared.pexpireat, key, ms);
        decrRefCount(ms);
        key = c->argv[1];
        signalModifiedKey(c, c->db, key);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "expire", key, c->db->id);
        server.dirty++;
    } else if ((req.flags & OPT_PERSIST) && removeExpire(c->db, key)) {
        rewriteClientCommandVector(c, 2, shared.persist, key);
        key = c->argv[1];
        signalModifiedKey(c, c->db, key);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "persist", key, c->db->id);
        server.dirty++;
    }
}

/* GETDEL key */
void getdelCommand(client *c) {
    if (replyWithStringValue(c) != C_OK) return;
    if (!dbSyncDelete(c->db, c->argv[1])) return;
    rewriteClientCommandVector(c, 2, shared.del, c->argv[1]);
    signalModifiedKey(c, c->db, c->argv[1]);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
    server.dirty++;
}

/* STRLEN key */
void strlenCommand(client *c) {
    robj *o = lookupKeyReadOrReply(c, c->argv[1], shared.czero);
    if (o == NULL || checkType(c, o, OBJ_STRING)) return;
    addReplyLongLong(c, (long long)stringObjectLen(o));
}

/* GETRANGE key start end (inclusive, negative indexes count from the end) */
void getrangeCommand(client *c) {
    long long start, end;
    if (getLongLongFromObjectOrReply(c, c->argv[2], &start, NULL) != C_OK) return;
    if (getLongLongFromObjectOrReply(c, c->argv[3], &end, NULL) != C_OK) return;
    robj *o = lookupKeyReadOrReply(c, c->argv[1], shared.emptybulk);
    if (o == NULL || checkType(c, o, OBJ_STRING)) return;

    char buf[LONG_STR_SIZE];
    size_t slen;
    const char *s = stringObjectBytes(o, buf, &slen);
    long long len = (long long)slen;

    if (start < 0 && end < 0 && start > end) {
        addReply(c, shared.emptybulk);
        return;
    }
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= len) end = len - 1;
    if (len == 0 || start > end) {
        addReply(c, shared.emptybulk);
        return;
    }
    addReplyBulkCBuffer(c, s + start, (size_t)(end - start + 1));
}

/* SUBSTR key start end: the old name of GETRANGE. */
void substrCommand(client *c) {
    getrangeCommand(c);
}

/* ---------------------------------------------------------------------------
 * Counters
 * ------------------------------------------------------------------------- */

static void incrDecrBy(client *c, long long delta) {
    robj *key = c->argv[1];
    robj *o = lookupKeyWrite(c->db, key);
    long long cur = 0;

    if (o != NULL) {
        if (checkType(c, o, OBJ_STRING)) return;
        if (o->encoding == OBJ_ENCODING_INT)
            cur = (long)objectGetVal(o);
        else if (getLongLongFromObjectOrReply(c, o, &cur, NULL) != C_OK)
            return;
    }
    if ((delta > 0 && cur > LLONG_MAX - delta) || (delta < 0 && cur < LLONG_MIN - delta)) {
        addReplyError(c, "increment or decrement would overflow");
        return;
    }
    long long result = cur + delta;

    if (o != NULL && o->encoding == OBJ_ENCODING_INT && o->refcount == 1) {
        /* Only the keyspace sees this object: bump the counter where it lies. */
        objectSetVal(o, (void *)(long)result);
    } else {
        robj *val = createStringObjectFromLongLongForValue(result);
        if (o != NULL)
            dbReplaceValue(c->db, key, val);
        else
            dbAdd(c->db, key, val);
    }
    signalModifiedKey(c, c->db, key);
    notifyKeyspaceEvent(NOTIFY_STRING, "incrby", key, c->db->id);
    server.dirty++;
    addReplyLongLong(c, result);
}

void incrCommand(client *c) {
    incrDecrBy(c, 1);
}

void decrCommand(client *c) {
    incrDecrBy(c, -1);
}

void incrbyCommand(client *c) {
    long long delta;
    if (getLongLongFromObjectOrReply(c, c->argv[2], &delta, NULL) != C_OK) return;
    incrDecrBy(c, delta);
}

void decrbyCommand(client *c) {
    long long delta;
    if (getLongLongFromObjectOrReply(c, c->argv[2], &delta, NULL) != C_OK) return;
    if (delta == LLONG_MIN) { /* its negation does not exist */
        addReplyError(c, "decrement would overflow");
        return;
    }
    incrDecrBy(c, -delta);
}

/* INCRBYFLOAT key increment. The result is stored as its human-readable text and
 * propagated as SET key <result> KEEPTTL, so replicas and the AOF never redo float
 * arithmetic that could round differently. */
void incrbyfloatCommand(client *c) {
    robj *key = c->argv[1];
    robj *o = lookupKeyWrite(c->db, key);
    long double cur = 0, incr;

    if (o != NULL) {
        if (checkType(c, o, OBJ_STRING)) return;
        if (getLongDoubleFromObjectOrReply(c, o, &cur, NULL) != C_OK) return;
    }
    if (getLongDoubleFromObjectOrReply(c, c->argv[2], &incr, NULL) != C_OK) return;
    cur += incr;
    if (isnan(cur) || isinf(cur)) {
        addReplyError(c, "increment would produce NaN or Infinity");
        return;
    }
    robj *val = createStringObjectFromLongDouble(cur, 1);
    robj *stored = o != NULL ? dbReplaceValue(c->db, key, val) : dbAdd(c->db, key, val);
    signalModifiedKey(c, c->db, key);
    notifyKeyspaceEvent(NOTIFY_STRING, "incrbyfloat", key, c->db->id);
    server.dirty++;
    addReplyBulk(c, stored);

    rewriteClientCommandArgument(c, 0, shared.set);
    rewriteClientCommandArgument(c, 2, stored);
    rewriteClientCommandArgument(c, 3, shared.keepttl);
}

/* ---------------------------------------------------------------------------
 * In-place edits
 * ------------------------------------------------------------------------- */

/* APPEND key value */
void appendCommand(client *c) {
    robj *key = c->argv[1];
    robj *o = lookupKeyWrite(c->db, key);
    size_t total;

    if (o == NULL) {
        /* A new key: the argument itself becomes the value. setKey signals it. */
        c->argv[2] = tryObjectEncoding(c->argv[2]);
        robj *stored = setKeyFromArgv(c, c->db, key, 2, SETKEY_DOESNT_EXIST);
        total = stringObjectLen(stored);
    } else {
        if (checkType(c, o, OBJ_STRING)) return;
        char buf[LONG_STR_SIZE];
        size_t addlen;
        const char *add = stringObjectBytes(c->argv[2], buf, &addlen);
        if (checkStringLength(c, (long long)stringObjectLen(o), (long long)addlen) != C_OK) return;
        o = dbUnshareStringValue(c->db, key, o);
        objectSetVal(o, sdscatlen(objectGetVal(o), add, addlen));
        total = sdslen(objectGetVal(o));
        signalModifiedKey(c, c->db, key);
    }
    notifyKeyspaceEvent(NOTIFY_STRING, "append", key, c->db->id);
    server.dirty++;
    addReplyLongLong(c, (long long)total);
}

/* SETRANGE key offset value: overwrite from `offset`, zero-padding as needed. */
void setrangeCommand(client *c) {
    robj *key = c->argv[1];
    long offset;
    if (getLongFromObjectOrReply(c, c->argv[2], &offset, NULL) != C_OK) return;
    if (offset < 0) {
        addReplyError(c, "offset is out of range");
        return;
    }
    char buf[LONG_STR_SIZE];
    size_t vlen;
    const char *value = stringObjectBytes(c->argv[3], buf, &vlen);

    robj *o = lookupKeyWrite(c->db, key);
    if (o == NULL) {
        if (vlen == 0) { /* nothing to write, and no key to create */
            addReply(c, shared.czero);
            return;
        }
        if (checkStringLength(c, offset, (long long)vlen) != C_OK) return;
        sds s = sdsnewlen(NULL, (size_t)offset + vlen);
        memcpy(s + offset, value, vlen);
        dbAdd(c->db, key, createObject(OBJ_STRING, s));
        signalModifiedKey(c, c->db, key);
        notifyKeyspaceEvent(NOTIFY_STRING, "setrange", key, c->db->id);
        server.dirty++;
        addReplyLongLong(c, (long long)((size_t)offset + vlen));
        return;
    }

    if (checkType(c, o, OBJ_STRING)) return;
    size_t olen = stringObjectLen(o);
    if (vlen == 0) { /* leaves the value, and its encoding, alone */
        addReplyLongLong(c, (long long)olen);
        return;
    }
    if (checkStringLength(c, offset, (long long)vlen) != C_OK) return;
    o = dbUnshareStringValue(c->db, key, o);
    sds s = sdsgrowzero(objectGetVal(o), (size_t)offset + vlen);
    memcpy(s + offset, value, vlen);
    objectSetVal(o, s);
    signalModifiedKey(c, c->db, key);
    notifyKeyspaceEvent(NOTIFY_STRING, "setrange", key, c->db->id);
    server.dirty++;
    addReplyLongLong(c, (long long)sdslen(s));
}

/* ---------------------------------------------------------------------------
 * LCS
 * ------------------------------------------------------------------------- */

/* The classic dynamic-programming table: cell (i, j) holds the length of the LCS of
 * the first i bytes of a and the first j bytes of b. */
typedef struct lcsTable {
    uint32_t *cells;
    uint32_t cols; /* blen + 1 */
} lcsTable;

static inline uint32_t lcsAt(const lcsTable *t, uint32_t i, uint32_t j) {
    return t->cells[(size_t)i * t->cols + j];
}

static void lcsFill(lcsTable *t, const char *a, uint32_t alen, const char *b, uint32_t blen) {
    uint32_t *row = t->cells;
    memset(row, 0, sizeof(uint32_t) * t->cols); /* row 0: an empty prefix of a */
    for (uint32_t i = 1; i <= alen; i++) {
        uint32_t *prev = row;
        row += t->cols;
        row[0] = 0;
        char ca = a[i - 1];
        for (uint32_t j = 1; j <= blen; j++) {
            if (ca == b[j - 1])
                row[j] = prev[j - 1] + 1;
            else
                row[j] = prev[j] > row[j - 1] ? prev[j] : row[j - 1];
        }
    }
}

/* One run of consecutive matching bytes, as reported by IDX. */
typedef struct lcsRun {
    uint32_t a_start, a_end, b_start, b_end;
} lcsRun;

static void lcsReplyRun(client *c, const lcsRun *r, int withmatchlen) {
    addReplyArrayLen(c, withmatchlen ? 3 : 2);
    addReplyArrayLen(c, 2);
    addReplyLongLong(c, r->a_start);
    addReplyLongLong(c, r->a_end);
    addReplyArrayLen(c, 2);
    addReplyLongLong(c, r->b_start);
    addReplyLongLong(c, r->b_end);
    if (withmatchlen) addReplyLongLong(c, r->a_end - r->a_start + 1);
}

/* Walks the table back from the bottom-right corner, writing the common subsequence
 * into `out` (if not NULL) and, when replying IDX, emitting each run of consecutive
 * matches as it closes, last run first. On a mismatch the walk moves up when that
 * cell is strictly larger, else left. Returns the number of runs emitted. */
static long lcsBacktrack(client *c, const lcsTable *t, const char *a, const char *b, uint32_t alen,
                         uint32_t blen, char *out, int emit, long long minmatchlen, int withmatchlen) {
    uint32_t i = alen, j = blen, k = lcsAt(t, alen, blen);
    long emitted = 0;
    int open = 0;
    lcsRun run = {0, 0, 0, 0};

    while (i > 0 && j > 0) {
        int close = 0;
        if (a[i - 1] == b[j - 1]) {
            if (out) out[k - 1] = a[i - 1];
            k--;
            i--;
            j--;
            if (!open) {
                run.a_end = i;
                run.b_end = j;
                open = 1;
            }
            run.a_start = i;
            run.b_start = j;
            if (i == 0 || j == 0) close = 1; /* the walk ends here */
        } else {
            if (lcsAt(t, i - 1, j) > lcsAt(t, i, j - 1))
                i--;
            else
                j--;
            close = open;
        }
        if (close) {
            long long runlen = (long long)run.a_end - run.a_start + 1;
            if (emit && (minmatchlen == 0 || runlen >= minmatchlen)) {
                lcsReplyRun(c, &run, withmatchlen);
                emitted++;
            }
            open = 0;
        }
    }
    return emitted;
}

/* LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] */
void lcsCommand(client *c) {
    robj *oa = lookupKeyRead(c->db, c->argv[1]);
    robj *ob = lookupKeyRead(c->db, c->argv[2]);
    if ((oa && oa->type != OBJ_STRING) || (ob && ob->type != OBJ_STRING)) {
        addReplyError(c, "The specified keys must contain string values");
        return;
    }

    int getlen = 0, getidx = 0, withmatchlen = 0;
    long long minmatchlen = 0;
    for (int j = 3; j < c->argc; j++) {
        if (stringObjectEqualsIgnoreCase(c->argv[j], "IDX")) {
            getidx = 1;
        } else if (stringObjectEqualsIgnoreCase(c->argv[j], "LEN")) {
            getlen = 1;
        } else if (stringObjectEqualsIgnoreCase(c->argv[j], "WITHMATCHLEN")) {
            withmatchlen = 1;
        } else if (stringObjectEqualsIgnoreCase(c->argv[j], "MINMATCHLEN") && j + 1 < c->argc) {
            if (getLongLongFromObjectOrReply(c, c->argv[j + 1], &minmatchlen, NULL) != C_OK) return;
            if (minmatchlen < 0) minmatchlen = 0;
            j++;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    if (getlen && getidx) {
        addReplyError(c, "If you want both the length and indexes, please just use IDX.");
        return;
    }

    char abuf[LONG_STR_SIZE], bbuf[LONG_STR_SIZE];
    size_t alen = 0, blen = 0;
    const char *a = oa ? stringObjectBytes(oa, abuf, &alen) : "";
    const char *b = ob ? stringObjectBytes(ob, bbuf, &blen) : "";
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1) {
        addReplyError(c, "String too long for LCS");
        return;
    }

    /* The table is transient but can be huge: it may not exceed proto-max-bulk-len. */
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    unsigned long long bytes = cells * sizeof(uint32_t);
    lcsTable t = {NULL, (uint32_t)blen + 1};
    if (bytes / sizeof(uint32_t) == cells && bytes < SIZE_MAX) {
        if (bytes > (unsigned long long)server.proto_max_bulk_len) {
            addReplyError(c, "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
            return;
        }
        t.cells = ztrymalloc((size_t)bytes);
    }
    if (t.cells == NULL) {
        addReplyError(c, "Insufficient memory, failed allocating transient memory for LCS");
        return;
    }
    lcsFill(&t, a, (uint32_t)alen, b, (uint32_t)blen);
    uint32_t total = lcsAt(&t, (uint32_t)alen, (uint32_t)blen);

    if (getidx) {
        addReplyMapLen(c, 2);
        addReplyBulkCString(c, "matches");
        void *lenptr = addReplyDeferredLen(c);
        long runs = lcsBacktrack(c, &t, a, b, (uint32_t)alen, (uint32_t)blen, NULL, 1, minmatchlen, withmatchlen);
        setDeferredArrayLen(c, lenptr, runs);
        addReplyBulkCString(c, "len");
        addReplyLongLong(c, total);
    } else if (getlen) {
        addReplyLongLong(c, total);
    } else {
        sds out = sdsnewlen(SDS_NOINIT, total);
        lcsBacktrack(c, &t, a, b, (uint32_t)alen, (uint32_t)blen, out, 0, 0, 0);
        addReplyBulkSds(c, out);
    }
    zfree(t.cells);
}
