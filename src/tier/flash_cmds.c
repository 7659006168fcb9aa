/* flash_cmds.c -- the FLASH.* commands of valkey-flash, on top of native tiering, so that
 * applications written for the valkey-flash module run unchanged on this server.
 *
 * DATA COMMANDS (FLASH.SET ... FLASH.ZRANGESTORE)
 * Every value here tiers, so a FLASH.* data command is its native twin under another
 * name: it runs the twin's own implementation on the same keyspace (TYPE says string,
 * hash..., GET reads what FLASH.SET wrote). The generated table gives each one its twin's
 * arity, flags and key specs, so tiering promotes their cold keys exactly as for the
 * twin. flashRunTwin() runs the twin's proc on the client's argv with c->cmd left as the
 * FLASH.* command (errors name it; INFO commandstats counts it, as realcmd). When the run
 * changed the dataset and the twin did not rewrite its argv itself, argv[0] then becomes
 * the twin's name (rewriteClientCommandArgument keeps the original for MONITOR and the
 * slowlog), so what goes to the AOF and to replicas is always a native command. Renaming
 * after the run, not before, keeps the value arguments unshared while the twin moves them
 * into the keyspace. A blocking twin that blocks keeps the FLASH.* argv, so it runs again
 * as FLASH.* when served; the twin rewrites its argv when it serves (BLPOP as LPOP,
 * BZPOPMIN as ZPOPMIN...), and BLMOVE, which looks at c->cmd for that, runs as itself.
 *
 * What valkey-flash adds or words differently is handled before the twin runs:
 *   - FLASH.SET takes EX|PX|EXAT|PXAT|NX|XX only, a later TTL option replaces an earlier
 *     one, NX with XX has its own error, TTL errors name FLASH.SET;
 *   - FLASH.HSET and the push commands take trailing EX|PX|EXAT|PXAT n|KEEPTTL applying
 *     to the key: the options are stripped, the twin runs, then the expire is set. Such a
 *     run propagates as the twin followed by PEXPIREAT (or DEL when the date is past),
 *     wrapped in MULTI/EXEC by the propagation unit, so it replays atomically.
 *
 * ADMIN COMMANDS
 * FLASH.DEBUG.STATE, FLASH.COMPACTION.TRIGGER/STATS, FLASH.CONVERT and FLASH.DRAIN act
 * on the tiering core (tier_internal.h); FLASH.DEBUG.DEMOTE lives in tier_server.c.
 * FLASH.CONVERT's key spec (RW ACCESS) has the value promoted before it runs; the proc
 * then drops the value's flash copy, so it is a plain hot value. FLASH.DRAIN promotes
 * synchronously (the values are wanted in RAM now) after a maxmemory guard.
 *
 * flashCompatInfo() appends valkey-flash's INFO field names to INFO flash.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tier.h"
#include "tier_internal.h"
#include "../commands.h"
#include "../db.h"
#include "../networking.h"
#include "../notify.h"
#include "../object.h"
#include "../propagate.h"
#include "../server.h"
#include "../util.h"
#include "../zmalloc.h"

/* valkey-flash reports free space in blocks of this size. */
#define FLASH_COMPAT_BLOCK 4096

/* ------------------------------------------------------------------------- */
/* Twins                                                                       */
/* ------------------------------------------------------------------------- */

/* The twin looks at c->cmd to decide how it propagates (BLMOVE as LMOVE): it must run
 * as itself. */
#define TWIN_NATIVE_CMD 1
/* The twin reads its own name (HSET and HMSET share a proc): argv[0] is renamed before
 * it runs rather than after. */
#define TWIN_RENAME_FIRST 2

typedef struct flashTwin {
    const char *flash_name; /* as valkey-flash names it in errors */
    const char *native;     /* the twin, as in the command table */
    int flags;
    serverCommand *cmd; /* resolved on first use */
    robj *name;         /* the twin's name as propagated ("SET"), shared */
} flashTwin;

enum {
    TW_SET, TW_GET, TW_DEL,
    TW_HSET, TW_HGET, TW_HGETALL, TW_HDEL, TW_HEXISTS, TW_HLEN,
    TW_LPUSH, TW_RPUSH, TW_LPUSHX, TW_RPUSHX, TW_LPOP, TW_RPOP, TW_LLEN, TW_LRANGE, TW_LINDEX,
    TW_LSET, TW_LINSERT, TW_LREM, TW_LTRIM, TW_LMOVE, TW_RPOPLPUSH, TW_BLPOP, TW_BRPOP, TW_BLMOVE,
    TW_ZADD, TW_ZREM, TW_ZINCRBY, TW_ZPOPMIN, TW_ZPOPMAX, TW_BZPOPMIN, TW_BZPOPMAX, TW_ZSCORE,
    TW_ZRANK, TW_ZREVRANK, TW_ZCARD, TW_ZCOUNT, TW_ZLEXCOUNT, TW_ZRANGE, TW_ZRANGEBYSCORE,
    TW_ZREVRANGEBYSCORE, TW_ZRANGEBYLEX, TW_ZREVRANGEBYLEX, TW_ZSCAN, TW_ZUNIONSTORE,
    TW_ZINTERSTORE, TW_ZDIFFSTORE, TW_ZRANGESTORE,
    TW_COUNT
};

static flashTwin flash_twins[TW_COUNT] = {
    [TW_SET] = {"FLASH.SET", "set", 0},
    [TW_GET] = {"FLASH.GET", "get", 0},
    [TW_DEL] = {"FLASH.DEL", "del", 0},
    [TW_HSET] = {"FLASH.HSET", "hset", TWIN_RENAME_FIRST},
    [TW_HGET] = {"FLASH.HGET", "hget", 0},
    [TW_HGETALL] = {"FLASH.HGETALL", "hgetall", 0},
    [TW_HDEL] = {"FLASH.HDEL", "hdel", 0},
    [TW_HEXISTS] = {"FLASH.HEXISTS", "hexists", 0},
    [TW_HLEN] = {"FLASH.HLEN", "hlen", 0},
    [TW_LPUSH] = {"FLASH.LPUSH", "lpush", 0},
    [TW_RPUSH] = {"FLASH.RPUSH", "rpush", 0},
    [TW_LPUSHX] = {"FLASH.LPUSHX", "lpushx", 0},
    [TW_RPUSHX] = {"FLASH.RPUSHX", "rpushx", 0},
    [TW_LPOP] = {"FLASH.LPOP", "lpop", 0},
    [TW_RPOP] = {"FLASH.RPOP", "rpop", 0},
    [TW_LLEN] = {"FLASH.LLEN", "llen", 0},
    [TW_LRANGE] = {"FLASH.LRANGE", "lrange", 0},
    [TW_LINDEX] = {"FLASH.LINDEX", "lindex", 0},
    [TW_LSET] = {"FLASH.LSET", "lset", 0},
    [TW_LINSERT] = {"FLASH.LINSERT", "linsert", 0},
    [TW_LREM] = {"FLASH.LREM", "lrem", 0},
    [TW_LTRIM] = {"FLASH.LTRIM", "ltrim", 0},
    [TW_LMOVE] = {"FLASH.LMOVE", "lmove", 0},
    [TW_RPOPLPUSH] = {"FLASH.RPOPLPUSH", "rpoplpush", 0},
    [TW_BLPOP] = {"FLASH.BLPOP", "blpop", 0},
    [TW_BRPOP] = {"FLASH.BRPOP", "brpop", 0},
    [TW_BLMOVE] = {"FLASH.BLMOVE", "blmove", TWIN_NATIVE_CMD},
    [TW_ZADD] = {"FLASH.ZADD", "zadd", 0},
    [TW_ZREM] = {"FLASH.ZREM", "zrem", 0},
    [TW_ZINCRBY] = {"FLASH.ZINCRBY", "zincrby", 0},
    [TW_ZPOPMIN] = {"FLASH.ZPOPMIN", "zpopmin", 0},
    [TW_ZPOPMAX] = {"FLASH.ZPOPMAX", "zpopmax", 0},
    [TW_BZPOPMIN] = {"FLASH.BZPOPMIN", "bzpopmin", 0},
    [TW_BZPOPMAX] = {"FLASH.BZPOPMAX", "bzpopmax", 0},
    [TW_ZSCORE] = {"FLASH.ZSCORE", "zscore", 0},
    [TW_ZRANK] = {"FLASH.ZRANK", "zrank", 0},
    [TW_ZREVRANK] = {"FLASH.ZREVRANK", "zrevrank", 0},
    [TW_ZCARD] = {"FLASH.ZCARD", "zcard", 0},
    [TW_ZCOUNT] = {"FLASH.ZCOUNT", "zcount", 0},
    [TW_ZLEXCOUNT] = {"FLASH.ZLEXCOUNT", "zlexcount", 0},
    [TW_ZRANGE] = {"FLASH.ZRANGE", "zrange", 0},
    [TW_ZRANGEBYSCORE] = {"FLASH.ZRANGEBYSCORE", "zrangebyscore", 0},
    [TW_ZREVRANGEBYSCORE] = {"FLASH.ZREVRANGEBYSCORE", "zrevrangebyscore", 0},
    [TW_ZRANGEBYLEX] = {"FLASH.ZRANGEBYLEX", "zrangebylex", 0},
    [TW_ZREVRANGEBYLEX] = {"FLASH.ZREVRANGEBYLEX", "zrevrangebylex", 0},
    [TW_ZSCAN] = {"FLASH.ZSCAN", "zscan", 0},
    [TW_ZUNIONSTORE] = {"FLASH.ZUNIONSTORE", "zunionstore", 0},
    [TW_ZINTERSTORE] = {"FLASH.ZINTERSTORE", "zinterstore", 0},
    [TW_ZDIFFSTORE] = {"FLASH.ZDIFFSTORE", "zdiffstore", 0},
    [TW_ZRANGESTORE] = {"FLASH.ZRANGESTORE", "zrangestore", 0},
};

static flashTwin *flashTwinGet(int idx) {
    flashTwin *t = &flash_twins[idx];
    if (!t->cmd) {
        t->cmd = lookupCommandByCString(t->native);
        char upper[32];
        size_t len = strlen(t->native);
        for (size_t j = 0; j < len && j < sizeof(upper); j++) upper[j] = (char)(t->native[j] & ~0x20);
        t->name = makeObjectShared(createStringObject(upper, len));
    }
    return t;
}

static int flashIsFlashName(robj *arg) {
    char buf[LONG_STR_SIZE];
    size_t len;
    const char *s = stringObjectBytes(arg, buf, &len);
    return len > 6 && !strncasecmp(s, "flash.", 6);
}

/* Runs the twin on the client's current arguments (see the file comment). */
static void flashRunTwin(client *c, flashTwin *t) {
    serverCommand *self = c->cmd;
    long long dirty = server.dirty;
    if (!t->cmd) { /* a build without the twin: the FLASH.* name is not served either */
        addReplyErrorFormat(c, "unknown command '%s'", t->flash_name);
        return;
    }
    if ((t->flags & TWIN_RENAME_FIRST) && flashIsFlashName(c->argv[0])) {
        rewriteClientCommandArgument(c, 0, t->name);
        c->cmd = self;
    }
    if (t->flags & TWIN_NATIVE_CMD) c->cmd = t->cmd;
    t->cmd->proc(c);
    if (c->flags & CLIENT_BLOCKED) {
        c->cmd = self;
        return;
    }
    if (server.dirty != dirty && c->argc > 0 && flashIsFlashName(c->argv[0]))
        rewriteClientCommandArgument(c, 0, t->name);
}

#define FLASH_TWIN_COMMAND(fn, idx)                                                                                    \
    void fn(client *c) {                                                                                               \
        flashRunTwin(c, flashTwinGet(idx));                                                                            \
    }

FLASH_TWIN_COMMAND(flashGetCommand, TW_GET)
FLASH_TWIN_COMMAND(flashDelCommand, TW_DEL)
FLASH_TWIN_COMMAND(flashHgetCommand, TW_HGET)
FLASH_TWIN_COMMAND(flashHgetallCommand, TW_HGETALL)
FLASH_TWIN_COMMAND(flashHdelCommand, TW_HDEL)
FLASH_TWIN_COMMAND(flashHexistsCommand, TW_HEXISTS)
FLASH_TWIN_COMMAND(flashHlenCommand, TW_HLEN)
FLASH_TWIN_COMMAND(flashLpopCommand, TW_LPOP)
FLASH_TWIN_COMMAND(flashRpopCommand, TW_RPOP)
FLASH_TWIN_COMMAND(flashLlenCommand, TW_LLEN)
FLASH_TWIN_COMMAND(flashLrangeCommand, TW_LRANGE)
FLASH_TWIN_COMMAND(flashLindexCommand, TW_LINDEX)
FLASH_TWIN_COMMAND(flashLsetCommand, TW_LSET)
FLASH_TWIN_COMMAND(flashLinsertCommand, TW_LINSERT)
FLASH_TWIN_COMMAND(flashLremCommand, TW_LREM)
FLASH_TWIN_COMMAND(flashLtrimCommand, TW_LTRIM)
FLASH_TWIN_COMMAND(flashLmoveCommand, TW_LMOVE)
FLASH_TWIN_COMMAND(flashRpoplpushCommand, TW_RPOPLPUSH)
FLASH_TWIN_COMMAND(flashBlpopCommand, TW_BLPOP)
FLASH_TWIN_COMMAND(flashBrpopCommand, TW_BRPOP)
FLASH_TWIN_COMMAND(flashBlmoveCommand, TW_BLMOVE)
FLASH_TWIN_COMMAND(flashZaddCommand, TW_ZADD)
FLASH_TWIN_COMMAND(flashZremCommand, TW_ZREM)
FLASH_TWIN_COMMAND(flashZincrbyCommand, TW_ZINCRBY)
FLASH_TWIN_COMMAND(flashZpopminCommand, TW_ZPOPMIN)
FLASH_TWIN_COMMAND(flashZpopmaxCommand, TW_ZPOPMAX)
FLASH_TWIN_COMMAND(flashBzpopminCommand, TW_BZPOPMIN)
FLASH_TWIN_COMMAND(flashBzpopmaxCommand, TW_BZPOPMAX)
FLASH_TWIN_COMMAND(flashZscoreCommand, TW_ZSCORE)
FLASH_TWIN_COMMAND(flashZrankCommand, TW_ZRANK)
FLASH_TWIN_COMMAND(flashZrevrankCommand, TW_ZREVRANK)
FLASH_TWIN_COMMAND(flashZcardCommand, TW_ZCARD)
FLASH_TWIN_COMMAND(flashZcountCommand, TW_ZCOUNT)
FLASH_TWIN_COMMAND(flashZlexcountCommand, TW_ZLEXCOUNT)
FLASH_TWIN_COMMAND(flashZrangeCommand, TW_ZRANGE)
FLASH_TWIN_COMMAND(flashZrangebyscoreCommand, TW_ZRANGEBYSCORE)
FLASH_TWIN_COMMAND(flashZrevrangebyscoreCommand, TW_ZREVRANGEBYSCORE)
FLASH_TWIN_COMMAND(flashZrangebylexCommand, TW_ZRANGEBYLEX)
FLASH_TWIN_COMMAND(flashZrevrangebylexCommand, TW_ZREVRANGEBYLEX)
FLASH_TWIN_COMMAND(flashZscanCommand, TW_ZSCAN)
FLASH_TWIN_COMMAND(flashZunionstoreCommand, TW_ZUNIONSTORE)
FLASH_TWIN_COMMAND(flashZinterstoreCommand, TW_ZINTERSTORE)
FLASH_TWIN_COMMAND(flashZdiffstoreCommand, TW_ZDIFFSTORE)
FLASH_TWIN_COMMAND(flashZrangestoreCommand, TW_ZRANGESTORE)

/* The client's command becomes argv[0..keep) without the arguments in [from, to) (the
 * FLASH.* extras), named as the twin; c->cmd stays the FLASH.* command. */
static void flashStripArguments(client *c, flashTwin *t, int from, int to) {
    serverCommand *self = c->cmd;
    int argc = c->argc - (to - from);
    robj **argv = zmalloc(sizeof(robj *) * (size_t)argc);
    int n = 0;
    argv[n++] = t->name;
    for (int j = 1; j < c->argc; j++) {
        if (j >= from && j < to) continue;
        argv[n++] = c->argv[j];
        incrRefCount(c->argv[j]);
    }
    replaceClientCommandVector(c, argc, argv);
    c->cmd = self;
}

/* ------------------------------------------------------------------------- */
/* TTL options                                                                 */
/* ------------------------------------------------------------------------- */

#define TTL_NONE 0
#define TTL_EX 1
#define TTL_PX 2
#define TTL_EXAT 3
#define TTL_PXAT 4
#define TTL_KEEPTTL 5

static int flashTtlKeyword(robj *arg) {
    static const char *const names[] = {NULL, "EX", "PX", "EXAT", "PXAT", "KEEPTTL"};
    for (int k = TTL_EX; k <= TTL_KEEPTTL; k++)
        if (stringObjectEqualsIgnoreCase(arg, names[k])) return k;
    return TTL_NONE;
}

/* Parses the time argument of a TTL option as valkey-flash does: a positive integer, in
 * seconds for EX/EXAT. Sets *when to the absolute unix time in ms. Replies on error. */
static int flashParseTtlValue(client *c, const flashTwin *t, int kind, robj *arg, long long *when) {
    long long v;
    if (getLongLongFromObject(arg, &v) != 0) {
        addReplyError(c, "value is not an integer or out of range");
        return C_ERR;
    }
    int seconds = kind == TTL_EX || kind == TTL_EXAT;
    int relative = kind == TTL_EX || kind == TTL_PX;
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) goto invalid;
    if (seconds) v *= 1000;
    if (relative) {
        long long now = commandTimeSnapshot();
        if (v > LLONG_MAX - now) goto invalid;
        v += now;
    }
    *when = v;
    return C_OK;
invalid:
    addReplyErrorFormat(c, "invalid expire time in %s", t->flash_name);
    return C_ERR;
}

/* Trailing options from argv[first] on: EX|PX|EXAT|PXAT n and KEEPTTL, any number of
 * times (the last time wins), KEEPTTL not with a time. *when is -1 without a time. */
static int flashParseTrailingTtl(client *c, const flashTwin *t, int first, long long *when) {
    int keepttl = 0;
    *when = -1;
    for (int j = first; j < c->argc; j++) {
        int kind = flashTtlKeyword(c->argv[j]);
        if (kind == TTL_NONE) {
            addReplyErrorObject(c, shared.syntaxerr);
            return C_ERR;
        }
        if (kind == TTL_KEEPTTL) {
            keepttl = 1;
            continue;
        }
        if (j + 1 >= c->argc) {
            addReplyErrorObject(c, shared.syntaxerr);
            return C_ERR;
        }
        if (flashParseTtlValue(c, t, kind, c->argv[++j], when) != C_OK) return C_ERR;
    }
    if (keepttl && *when != -1) {
        addReplyError(c, "KEEPTTL option is not compatible with EX, PX, EXAT, or PXAT");
        return C_ERR;
    }
    return C_OK;
}

static void flashPropagate(client *c, int argc, robj **argv) {
    alsoPropagate(c->db->id, argv, argc, PROPAGATE_AOF | PROPAGATE_REPL);
}

/* After the twin wrote key: gives it the expire time `when`, as PEXPIREAT would (a date
 * already past deletes the key), and propagates the twin then that, in this order. */
static void flashApplyTtl(client *c, long long when) {
    robj *key = c->argv[1];
    incrRefCount(key);
    preventCommandPropagation(c);
    flashPropagate(c, c->argc, c->argv);
    if (!lookupKeyWrite(c->db, key)) {
        decrRefCount(key);
        return;
    }
    if (checkAlreadyExpired(when)) {
        int lazy = server.lazyfree_lazy_expire;
        dbGenericDelete(c->db, key, lazy, DB_FLAG_KEY_EXPIRED);
        robj *argv[2] = {lazy ? shared.unlink : shared.del, key};
        flashPropagate(c, 2, argv);
        signalModifiedKey(c, c->db, key);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key, c->db->id);
    } else {
        setExpire(c, c->db, key, when);
        robj *when_obj = createStringObjectFromLongLong(when);
        robj *argv[3] = {shared.pexpireat, key, when_obj};
        flashPropagate(c, 3, argv);
        decrRefCount(when_obj);
        signalModifiedKey(c, c->db, key);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "expire", key, c->db->id);
    }
    server.dirty++;
    decrRefCount(key);
}

/* Runs the twin on argv without [opt_start, argc) and then applies the TTL options. */
static void flashRunTwinWithTtl(client *c, flashTwin *t, int opt_start) {
    long long when = -1;
    if (opt_start < c->argc) {
        if (flashParseTrailingTtl(c, t, opt_start, &when) != C_OK) return;
        flashStripArguments(c, t, opt_start, c->argc);
    }
    long long dirty = server.dirty;
    flashRunTwin(c, t);
    if (when != -1 && server.dirty != dirty) flashApplyTtl(c, when);
}

/* ------------------------------------------------------------------------- */
/* FLASH.SET, FLASH.HSET, pushes                                               */
/* ------------------------------------------------------------------------- */

/* FLASH.SET key value [EX s | PX ms | EXAT s | PXAT ms] [NX | XX] */
void flashSetCommand(client *c) {
    flashTwin *t = flashTwinGet(TW_SET);
    int nx = 0, xx = 0, ttl_options = 0, ttl_at = 0;
    for (int j = 3; j < c->argc; j++) {
        int kind = flashTtlKeyword(c->argv[j]);
        if (kind != TTL_NONE && kind != TTL_KEEPTTL) {
            long long when;
            if (j + 1 >= c->argc) {
                addReplyErrorObject(c, shared.syntaxerr);
                return;
            }
            if (flashParseTtlValue(c, t, kind, c->argv[j + 1], &when) != C_OK) return;
            ttl_options++;
            ttl_at = j++;
        } else if (stringObjectEqualsIgnoreCase(c->argv[j], "NX")) {
            nx = 1;
        } else if (stringObjectEqualsIgnoreCase(c->argv[j], "XX")) {
            xx = 1;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    if (nx && xx) {
        addReplyError(c, "XX and NX options at the same time are not compatible");
        return;
    }
    if (ttl_options > 1) {
        /* SET refuses two different TTL options; valkey-flash keeps the last one. */
        int argc = 3 + 2 + (nx || xx);
        robj **argv = zmalloc(sizeof(robj *) * (size_t)argc);
        argv[0] = t->name;
        argv[1] = c->argv[1];
        argv[2] = c->argv[2];
        argv[3] = c->argv[ttl_at];
        argv[4] = c->argv[ttl_at + 1];
        if (nx || xx) argv[5] = nx ? createStringObject("NX", 2) : createStringObject("XX", 2);
        for (int j = 1; j < 5; j++) incrRefCount(argv[j]);
        serverCommand *self = c->cmd;
        replaceClientCommandVector(c, argc, argv);
        c->cmd = self;
    }
    flashRunTwin(c, t);
}

/* FLASH.HSET key field value [field value ...] [EX|PX|EXAT|PXAT n | KEEPTTL]. The options
 * start at the first field position holding one of their keywords. */
void flashHsetCommand(client *c) {
    flashTwin *t = flashTwinGet(TW_HSET);
    int opt_start = c->argc;
    for (int j = 2; j < c->argc; j += 2) {
        if (flashTtlKeyword(c->argv[j]) != TTL_NONE) {
            opt_start = j;
            break;
        }
    }
    int pairs_args = opt_start - 2;
    if (pairs_args < 2 || pairs_args % 2) {
        addReplyErrorArity(c);
        return;
    }
    flashRunTwinWithTtl(c, t, opt_start);
}

/* FLASH.LPUSH|RPUSH|LPUSHX|RPUSHX key element [element ...] [EX|PX|EXAT|PXAT n | KEEPTTL]:
 * as in valkey-flash, the first argument spelling an option keyword ends the elements. */
static void flashPushCommand(client *c, int idx) {
    flashTwin *t = flashTwinGet(idx);
    int opt_start = c->argc;
    for (int j = 2; j < c->argc; j++) {
        if (flashTtlKeyword(c->argv[j]) != TTL_NONE) {
            opt_start = j;
            break;
        }
    }
    if (opt_start == 2) {
        addReplyErrorArity(c);
        return;
    }
    flashRunTwinWithTtl(c, t, opt_start);
}

void flashLpushCommand(client *c) {
    flashPushCommand(c, TW_LPUSH);
}

void flashRpushCommand(client *c) {
    flashPushCommand(c, TW_RPUSH);
}

void flashLpushxCommand(client *c) {
    flashPushCommand(c, TW_LPUSHX);
}

void flashRpushxCommand(client *c) {
    flashPushCommand(c, TW_RPUSHX);
}

/* ------------------------------------------------------------------------- */
/* Admin commands                                                              */
/* ------------------------------------------------------------------------- */

/* Converted/drained totals and the last drain, for INFO flash. */
static struct {
    unsigned long long convert_total;
    unsigned long long last_converted, last_skipped, last_errors, last_scanned;
} flash_drain_stats;

/* recovering while a dataset loads, error when the tier failed; a server running without
 * tiering serves every FLASH.* data command, so it is ready too. */
static const char *flashModuleState(void) {
    if (server.loading) return "recovering";
    if (tier.state == TIER_STATE_ERROR) return "error";
    return "ready";
}

/* FLASH.DEBUG.STATE */
void flashDebugStateCommand(client *c) {
    addReplyStatus(c, flashModuleState());
}

static unsigned long long flashBytesReclaimed(const flashStoreStats *st) {
    uint64_t freed = st->compact_segments * st->segment_size;
    return freed > st->compact_bytes_moved ? freed - st->compact_bytes_moved : 0;
}

/* FLASH.COMPACTION.TRIGGER: one step of compaction now, with a second's worth of
 * flash-compaction-rate (the reads and copies it starts complete on the event loop). */
void flashCompactionTriggerCommand(client *c) {
    if (tierEnabled() && !tier.fork_active) {
        flashStoreStats before, after;
        flashStoreGetStats(tier.fs, &before);
        flashStoreCompactStep(tier.fs, (size_t)tier_conf.compaction_rate);
        flashStoreGetStats(tier.fs, &after);
        if (after.compact_segments != before.compact_segments) tier.stat_compaction_runs++;
    }
    addReply(c, shared.ok);
}

/* FLASH.COMPACTION.STATS: compaction_runs:N, bytes_reclaimed:N, free_blocks:N (free
 * space in 4 KiB blocks). Zeros without tiering. */
void flashCompactionStatsCommand(client *c) {
    flashStoreStats st;
    memset(&st, 0, sizeof(st));
    if (tierEnabled()) flashStoreGetStats(tier.fs, &st);
    unsigned long long runs = tierEnabled() ? tier.stat_compaction_runs : 0;
    addReplyArrayLen(c, 3);
    char buf[64];
    snprintf(buf, sizeof(buf), "compaction_runs:%llu", runs);
    addReplyBulkCString(c, buf);
    snprintf(buf, sizeof(buf), "bytes_reclaimed:%llu", flashBytesReclaimed(&st));
    addReplyBulkCString(c, buf);
    snprintf(buf, sizeof(buf), "free_blocks:%llu",
             (unsigned long long)(st.segments_free * st.segment_size / FLASH_COMPAT_BLOCK));
    addReplyBulkCString(c, buf);
}

/* FLASH.CONVERT key: :1 once the value is in RAM with no flash copy left, :0 when the key
 * does not exist. The key spec had the value promoted already; a write lookup drops the
 * value's tier state (its clean copy, or a demotion in flight). */
void flashConvertCommand(client *c) {
    robj *o = lookupKeyWrite(c->db, c->argv[1]);
    if (!o) {
        addReply(c, shared.czero);
        return;
    }
    flash_drain_stats.convert_total++;
    addReply(c, shared.cone);
}

typedef struct flashDrainPlan {
    sds *keys; /* cold keys to promote */
    size_t count, cap;
    unsigned long long projected; /* their bytes on flash */
    unsigned long long skipped, scanned;
} flashDrainPlan;

/* Walks the database for keys matching pattern (NULL: all), up to limit cold ones
 * (-1: no limit). Keys already in RAM are skipped, and lose any flash copy they keep. */
static void flashDrainCollect(serverDb *db, sds pattern, long long limit, flashDrainPlan *plan) {
    long long now = commandTimeSnapshot();
    hashtableIterator it;
    hashtableInitIterator(&it, db->keys);
    void *entry;
    while (hashtableNext(&it, &entry)) {
        robj *o = entry;
        sds key = objectGetKey(o);
        if (pattern && !stringmatchlen(pattern, (int)sdslen(pattern), key, (int)sdslen(key), 0)) continue;
        if (limit >= 0 && (long long)plan->count >= limit) break;
        plan->scanned++;
        long long expire = objectGetExpire(o);
        if (!o->cold || (expire != -1 && expire < now)) {
            plan->skipped++;
            if (!o->cold) objectNotifyChange(o);
            continue;
        }
        if (plan->count == plan->cap) {
            plan->cap = plan->cap ? plan->cap * 2 : 16;
            plan->keys = zrealloc(plan->keys, sizeof(sds) * plan->cap);
        }
        plan->keys[plan->count++] = sdsdup(key);
        plan->projected += flashLocationLength(objectColdLocation(o));
    }
    hashtableResetIterator(&it);
}

static void flashDrainFree(flashDrainPlan *plan) {
    for (size_t j = 0; j < plan->count; j++) sdsfree(plan->keys[j]);
    zfree(plan->keys);
}

/* FLASH.DRAIN [MATCH pattern] [COUNT n] [FORCE]: brings the cold values of the current
 * database back to RAM for good. Replies [converted, skipped, errors, scanned]. */
void flashDrainCommand(client *c) {
    sds pattern = NULL;
    long long limit = -1;
    int force = 0;
    for (int j = 1; j < c->argc; j++) {
        if (stringObjectEqualsIgnoreCase(c->argv[j], "MATCH") || stringObjectEqualsIgnoreCase(c->argv[j], "COUNT")) {
            if (j + 1 >= c->argc) {
                addReplyErrorArity(c);
                return;
            }
            if (stringObjectEqualsIgnoreCase(c->argv[j], "MATCH")) {
                pattern = objectGetVal(c->argv[++j]);
            } else if (getLongLongFromObject(c->argv[++j], &limit) != 0 || limit < 0) {
                addReplyError(c, "FLASH.DRAIN: COUNT must be a non-negative integer");
                return;
            }
        } else if (stringObjectEqualsIgnoreCase(c->argv[j], "FORCE")) {
            force = 1;
        } else {
            addReplyError(c, "FLASH.DRAIN: unknown option");
            return;
        }
    }
    flashDrainPlan plan = {0};
    flashDrainCollect(c->db, pattern, limit, &plan);
    size_t used = zmalloc_used_memory();
    if (!force && server.maxmemory && used + plan.projected > server.maxmemory) {
        addReplyErrorFormat(c,
                            "FLASH.DRAIN would exceed maxmemory (used_memory=%zu + projected_cold=%llu > "
                            "maxmemory=%llu); pass FORCE to override",
                            used, plan.projected, server.maxmemory);
        flashDrainFree(&plan);
        return;
    }
    unsigned long long converted = 0, errors = 0;
    for (size_t j = 0; j < plan.count; j++) {
        robj *o = dbFind(c->db, plan.keys[j]);
        if (!o || !o->cold) { /* a synchronous promotion cannot race, but be safe */
            plan.skipped++;
            continue;
        }
        robj *h = tierPromoteSync(c->db, o);
        if (!h) {
            errors++;
            continue;
        }
        objectNotifyChange(h);
        converted++;
    }
    flashDrainFree(&plan);
    flash_drain_stats.convert_total += converted;
    flash_drain_stats.last_converted = converted;
    flash_drain_stats.last_skipped = plan.skipped;
    flash_drain_stats.last_errors = errors;
    flash_drain_stats.last_scanned = plan.scanned;
    addReplyArrayLen(c, 4);
    addReplyLongLong(c, (long long)converted);
    addReplyLongLong(c, (long long)plan.skipped);
    addReplyLongLong(c, (long long)errors);
    addReplyLongLong(c, (long long)plan.scanned);
}

/* ------------------------------------------------------------------------- */
/* INFO flash: valkey-flash's field names                                      */
/* ------------------------------------------------------------------------- */

/* Called at the end of infoFlash() (tiering on). Cache hits are keyspace hits served
 * from RAM, misses are promotions (values read back from flash). */
sds flashCompatInfo(sds info) {
    flashStoreStats st;
    flashStoreGetStats(tier.fs, &st);
    unsigned long long misses = tier.stat_promotions + tier.stat_sync_promotions;
    unsigned long long keyspace_hits = (unsigned long long)server.stat_keyspace_hits;
    unsigned long long hits = keyspace_hits > misses ? keyspace_hits - misses : 0;
    double ratio = hits + misses ? (double)hits / (double)(hits + misses) : 0.0;
    info = sdscatprintf(info,
                        "flash_cache_hits:%llu\r\n"
                        "flash_cache_misses:%llu\r\n"
                        "flash_cache_hit_ratio:%.4f\r\n"
                        "flash_cache_size_bytes:%zu\r\n"
                        "flash_cache_capacity_bytes:%llu\r\n"
                        "flash_eviction_count:%llu\r\n"
                        "flash_storage_used_bytes:%llu\r\n"
                        "flash_storage_free_bytes:%llu\r\n"
                        "flash_storage_capacity_bytes:%llu\r\n"
                        "flash_tiered_keys:%llu\r\n"
                        "flash_auto_demotions_total:%llu\r\n"
                        "flash_auto_demotions_inflight:%lu\r\n"
                        "flash_module_state:%s\r\n"
                        "flash_convert_total:%llu\r\n"
                        "flash_drain_in_progress:no\r\n"
                        "flash_drain_last_converted:%llu\r\n"
                        "flash_drain_last_skipped:%llu\r\n"
                        "flash_drain_last_errors:%llu\r\n"
                        "flash_drain_last_scanned:%llu\r\n",
                        hits, misses, ratio, zmalloc_used_memory(), server.maxmemory, tier.stat_demotions,
                        (unsigned long long)st.used_bytes, (unsigned long long)(st.segments_free * st.segment_size),
                        (unsigned long long)st.capacity, tierColdKeys(), tier.stat_demotions, tier.demote_inflight,
                        flashModuleState(), flash_drain_stats.convert_total, flash_drain_stats.last_converted,
                        flash_drain_stats.last_skipped, flash_drain_stats.last_errors, flash_drain_stats.last_scanned);
    return info;
}
