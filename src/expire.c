/* expire.c -- key expiry: the EXPIRE / TTL / PERSIST command family and the active
 * expire cycle.
 *
 * Keys are expired in two ways. Lazily: a lookup that finds an expired key deletes it
 * (db.c, expireIfNeeded). Actively: the cycle below walks the `expires` table of each
 * database with a scan cursor kept in the database, deleting what has expired, so keys
 * that are never read again do not linger.
 *
 * The active cycle adapts to how much work there is. Each round samples a batch of
 * volatile keys; when more than an acceptable share of the batch had expired, the
 * database probably holds many more, so it goes on with another batch, until the share
 * drops or the time budget runs out. The slow cycle runs from the cron with a budget of
 * a percentage of the CPU; when it ran out of time, the fast cycle (called before the
 * event loop sleeps) keeps going in short bursts. active-expire-effort (1..10) scales
 * the batch size, the budgets and the acceptable share of stale keys.
 */
#include <limits.h>
#include <strings.h>

#include "db.h"
#include "commands.h"
#include "hashtable.h"
#include "networking.h"
#include "notify.h"
#include "object.h"
#include "replication.h"
#include "server.h"
#include "util.h"

/* Tuning at the default effort (1); each effort step above adds a share (see below). */
#define ACTIVE_EXPIRE_KEYS_PER_ROUND 20      /* keys sampled per round and database */
#define ACTIVE_EXPIRE_FAST_DURATION_US 1000  /* budget of one fast cycle */
#define ACTIVE_EXPIRE_SLOW_TIME_PERC 25      /* CPU share of the slow cycle */
#define ACTIVE_EXPIRE_ACCEPTABLE_STALE 10    /* % of expired keys in a sample to stop at */
#define ACTIVE_EXPIRE_DBS_PER_CALL 16
/* Buckets visited per round at most, relative to the sample size: bounds the work on a
 * sparse table where most buckets are empty. */
#define ACTIVE_EXPIRE_BUCKETS_PER_KEY 20
/* The clock is read every so many rounds. */
#define ACTIVE_EXPIRE_ROUNDS_PER_TIME_CHECK 16
/* Weight of the last cycle in the running stale-keys estimate. */
#define ACTIVE_EXPIRE_STALE_SMOOTHING 0.05

static struct {
    unsigned int next_db;     /* round robin over databases across calls */
    int timelimit_exit;       /* the last cycle ran out of time */
    long long last_fast_start; /* us */
    double stale_ratio;       /* running estimate of expired / sampled, 0..1 */
    long long published_perc; /* what we last stored in server.stat_expired_stale_perc */
} expireState;

double activeExpireStalePercent(void) {
    return expireState.stale_ratio * 100;
}

typedef struct {
    serverDb *db;
    long long now; /* ms */
    unsigned long sampled, expired;
    long long ttl_sum, ttl_samples;
} expireRound;

static void expireRoundVisit(void *privdata, void *entry) {
    expireRound *r = privdata;
    robj *o = entry;
    long long when = objectGetExpire(o);
    r->sampled++;
    if (r->now > when) {
        sds k = objectGetKey(o);
        robj *keyobj = createStringObject(k, sdslen(k));
        deleteExpiredKeyAndPropagate(r->db, keyobj);
        decrRefCount(keyobj);
        r->expired++;
    } else {
        /* TTLs reach LLONG_MAX (PEXPIREAT 9223372036854775807): the sum saturates
         * instead of overflowing. */
        long long ttl = when - r->now;
        r->ttl_sum = ttl > LLONG_MAX - r->ttl_sum ? LLONG_MAX : r->ttl_sum + ttl;
        r->ttl_samples++;
    }
}

/* Samples about `keys` volatile keys of db from its saved cursor, expiring what is due. */
static void expireRoundRun(expireRound *r, unsigned long keys) {
    serverDb *db = r->db;
    unsigned long buckets = 0, max_buckets = keys * ACTIVE_EXPIRE_BUCKETS_PER_KEY;
    while (r->sampled < keys && buckets++ < max_buckets) {
        db->expires_cursor = hashtableScan(db->expires, db->expires_cursor, expireRoundVisit, r);
        if (db->expires_cursor == 0) break; /* a full pass: let the caller decide */
    }
    if (r->ttl_samples) {
        long long avg = r->ttl_sum / r->ttl_samples;
        /* A slow moving average: each round is a small sample. */
        db->avg_ttl = db->avg_ttl ? (db->avg_ttl / 50) * 49 + avg / 50 : avg;
    }
}

static int expiryPaused(void) {
    return server.pause_type != CLIENT_PAUSE_OFF && checkClientPauseTimeoutAndReturnIfPaused();
}

void activeExpireCycle(int type) {
    /* A replica's keys expire through its primary's DELs. */
    if (!server.active_expire_enabled || expiryPaused() || replicationIsReplica()) return;
    unsigned long effort = server.active_expire_effort > 1 ? server.active_expire_effort - 1 : 0;
    unsigned long keys_per_round = ACTIVE_EXPIRE_KEYS_PER_ROUND + ACTIVE_EXPIRE_KEYS_PER_ROUND / 4 * effort;
    long long fast_duration = ACTIVE_EXPIRE_FAST_DURATION_US + ACTIVE_EXPIRE_FAST_DURATION_US / 4 * effort;
    long long slow_perc = ACTIVE_EXPIRE_SLOW_TIME_PERC + 2 * effort;
    double acceptable_stale = (ACTIVE_EXPIRE_ACCEPTABLE_STALE - (double)effort) / 100;

    long long start = ustime();
    long long timelimit;
    if (type == ACTIVE_EXPIRE_CYCLE_FAST) {
        /* Only when the slow cycle could not keep up, and not back to back. */
        if (!expireState.timelimit_exit && expireState.stale_ratio < acceptable_stale) return;
        if (start < expireState.last_fast_start + fast_duration * 2) return;
        expireState.last_fast_start = start;
        timelimit = fast_duration;
    } else {
        timelimit = slow_perc * 1000000 / server.hz / 100;
        if (timelimit <= 0) timelimit = 1;
    }

    /* After a timeout every database gets a turn, so none is starved. */
    int dbs = server.dbnum;
    if (dbs > ACTIVE_EXPIRE_DBS_PER_CALL && !expireState.timelimit_exit) dbs = ACTIVE_EXPIRE_DBS_PER_CALL;
    expireState.timelimit_exit = 0;

    unsigned long total_sampled = 0, total_expired = 0, rounds = 0;
    for (int j = 0; j < dbs && !expireState.timelimit_exit; j++) {
        serverDb *db = &server.db[expireState.next_db++ % server.dbnum];
        for (;;) {
            if (hashtableSize(db->expires) == 0) {
                db->avg_ttl = 0;
                break;
            }
            expireRound r = {.db = db, .now = mstime()};
            expireRoundRun(&r, keys_per_round);
            total_sampled += r.sampled;
            total_expired += r.expired;
            if (++rounds % ACTIVE_EXPIRE_ROUNDS_PER_TIME_CHECK == 0 && ustime() - start > timelimit) {
                expireState.timelimit_exit = 1;
                server.stat_expired_time_cap_reached_count++;
                break;
            }
            /* Empty buckets only: try again (bounded by the time checks). Otherwise go on
             * while the sample says many more keys have expired. */
            if (r.sampled && (double)r.expired / r.sampled <= acceptable_stale) break;
        }
    }

    server.stat_expire_cycle_time_used += ustime() - start;
    /* CONFIG RESETSTAT zeroes the published value: start the estimate over then. */
    if (server.stat_expired_stale_perc != expireState.published_perc)
        expireState.stale_ratio = (double)server.stat_expired_stale_perc / 100;
    double ratio = total_sampled ? (double)total_expired / total_sampled : 0;
    expireState.stale_ratio = ratio * ACTIVE_EXPIRE_STALE_SMOOTHING +
                              expireState.stale_ratio * (1 - ACTIVE_EXPIRE_STALE_SMOOTHING);
    /* server.h keeps it as a whole percentage; activeExpireStalePercent() is exact. */
    server.stat_expired_stale_perc = (long long)(expireState.stale_ratio * 100 + 0.5);
    expireState.published_perc = server.stat_expired_stale_perc;
}

/* ------------------------------------------------------------------------- */
/* Commands                                                                    */
/* ------------------------------------------------------------------------- */

#define EXPIRE_NX (1 << 0)
#define EXPIRE_XX (1 << 1)
#define EXPIRE_GT (1 << 2)
#define EXPIRE_LT (1 << 3)

static int parseExpireOptionsOrReply(client *c, int *flags) {
    *flags = 0;
    for (int j = 3; j < c->argc; j++) {
        const char *opt = objectGetVal(c->argv[j]);
        if (!strcasecmp(opt, "nx")) *flags |= EXPIRE_NX;
        else if (!strcasecmp(opt, "xx")) *flags |= EXPIRE_XX;
        else if (!strcasecmp(opt, "gt")) *flags |= EXPIRE_GT;
        else if (!strcasecmp(opt, "lt")) *flags |= EXPIRE_LT;
        else {
            addReplyErrorFormat(c, "Unsupported option %s", opt);
            return C_ERR;
        }
    }
    if ((*flags & EXPIRE_NX) && (*flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        addReplyError(c, "NX and XX, GT or LT options at the same time are not compatible");
        return C_ERR;
    }
    if ((*flags & EXPIRE_GT) && (*flags & EXPIRE_LT)) {
        addReplyError(c, "GT and LT options at the same time are not compatible");
        return C_ERR;
    }
    return C_OK;
}

/* A key without TTL counts as an infinite TTL for GT and LT. */
static int expireConditionHolds(int flags, long long current, long long when) {
    if ((flags & EXPIRE_NX) && current != -1) return 0;
    if ((flags & EXPIRE_XX) && current == -1) return 0;
    if ((flags & EXPIRE_GT) && (current == -1 || when <= current)) return 0;
    if ((flags & EXPIRE_LT) && current != -1 && when >= current) return 0;
    return 1;
}

/* EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: `basetime` is added to the argument (0 for the
 * absolute forms), `seconds` says the argument is in seconds. */
static void expireGenericCommand(client *c, long long basetime, int seconds) {
    robj *key = c->argv[1];
    int flags;
    long long when;
    if (parseExpireOptionsOrReply(c, &flags) != C_OK) return;
    if (getLongLongFromObjectOrReply(c, c->argv[2], &when, NULL) != C_OK) return;
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            addReplyErrorExpireTime(c);
            return;
        }
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) {
        addReplyErrorExpireTime(c);
        return;
    }
    when += basetime;

    if (!lookupKeyWrite(c->db, key)) {
        addReply(c, shared.czero);
        return;
    }
    if (flags && !expireConditionHolds(flags, getExpire(c->db, key), when)) {
        addReply(c, shared.czero);
        return;
    }

    if (checkAlreadyExpired(when)) {
        int lazy = server.lazyfree_lazy_expire;
        dbGenericDelete(c->db, key, lazy, DB_FLAG_KEY_EXPIRED);
        rewriteClientCommandVector(c, 2, lazy ? shared.unlink : shared.del, key);
        signalModifiedKey(c, c->db, key);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key, c->db->id);
    } else {
        setExpire(c, c->db, key, when);
        /* Replicas and the AOF get the absolute time in ms, without options. */
        robj *when_obj = createStringObjectFromLongLong(when);
        rewriteClientCommandVector(c, 3, shared.pexpireat, key, when_obj);
        decrRefCount(when_obj);
        signalModifiedKey(c, c->db, key);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "expire", key, c->db->id);
    }
    server.dirty++;
    addReply(c, shared.cone);
}

void expireCommand(client *c) {
    expireGenericCommand(c, commandTimeSnapshot(), 1);
}

void pexpireCommand(client *c) {
    expireGenericCommand(c, commandTimeSnapshot(), 0);
}

void expireatCommand(client *c) {
    expireGenericCommand(c, 0, 1);
}

void pexpireatCommand(client *c) {
    expireGenericCommand(c, 0, 0);
}

/* TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 without expire. */
static void ttlGenericCommand(client *c, int milliseconds, int absolute) {
    if (!lookupKeyReadWithFlags(c->db, c->argv[1], LOOKUP_NOTOUCH)) {
        addReplyLongLong(c, -2);
        return;
    }
    long long expire = getExpire(c->db, c->argv[1]);
    if (expire == -1) {
        addReplyLongLong(c, -1);
        return;
    }
    long long ttl = absolute ? expire : expire - commandTimeSnapshot();
    if (ttl < 0) ttl = 0;
    /* Rounded to the nearest second without overflowing at LLONG_MAX (PEXPIREAT
     * 9223372036854775807 gives an EXPIRETIME of 9223372036854776, as in Valkey). */
    addReplyLongLong(c, milliseconds ? ttl : ttl / 1000 + (ttl % 1000 + 500) / 1000);
}

void ttlCommand(client *c) {
    ttlGenericCommand(c, 0, 0);
}

void pttlCommand(client *c) {
    ttlGenericCommand(c, 1, 0);
}

void expiretimeCommand(client *c) {
    ttlGenericCommand(c, 0, 1);
}

void pexpiretimeCommand(client *c) {
    ttlGenericCommand(c, 1, 1);
}

void persistCommand(client *c) {
    if (lookupKeyWrite(c->db, c->argv[1]) && removeExpire(c->db, c->argv[1])) {
        signalModifiedKey(c, c->db, c->argv[1]);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "persist", c->argv[1], c->db->id);
        server.dirty++;
        addReply(c, shared.cone);
    } else {
        addReply(c, shared.czero);
    }
}
