/* replication.c -- primary/replica replication (see replication.h for the protocol).
 *
 * Sections, top to bottom:
 *   - configuration (repl-*, replica-*, primaryauth/primaryuser, replicaof, min-replicas-*)
 *     and the process state;
 *   - replication ids and the backlog: a circular buffer of repl-backlog-size bytes,
 *     allocated as it fills, holding the most recent part of the stream;
 *   - feeding the stream: propagate.c's consumer (SELECT added when the database
 *     changes), the primary link's applied bytes on a replica, PING and GETACK;
 *   - the primary side: SYNC/PSYNC, full resyncs through a background save of rdb.c
 *     (replicas arriving while it runs share it when they came before the fork, others
 *     wait for the next one), the RDB streamed from the file with non-blocking writes,
 *     partial resyncs from the backlog, REPLCONF;
 *   - the replica side: REPLICAOF, the connect/handshake state machine, the RDB
 *     transfer into a temp file and its load, the primary client;
 *   - the cron (pings, timeouts, ACKs, reconnects, backlog TTL), WAIT, ROLE, INFO.
 *
 * A replica's state on the primary (listening port, capabilities, ACKed offset, the
 * RDB being sent) hangs off client->repl_data. The primary link of a replica is an
 * ordinary client flagged CLIENT_PRIMARY; networking.c keeps the bytes of its commands
 * in the query buffer until replicationPrimaryApplied() has passed them on.
 *
 * Diskless sync (repl-diskless-sync yes, Valkey 8's default) is accepted and served
 * disk-based: the replica cannot tell the difference except for the framing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server.h" /* first: networking.h uses its mstime_t */
#include "replication.h"
#include "adlist.h"
#include "aof.h"
#include "ae.h"
#include "anet.h"
#include "blocked.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "evict.h"
#include "multi.h"
#include "networking.h"
#include "propagate.h"
#include "rdb.h"
#include "script.h"
#include "util.h"
#include "zmalloc.h"

#define REPL_ID_LEN CONFIG_RUN_ID_SIZE
#define REPL_EOF_MARK_SIZE 40
#define REPL_IO_CHUNK (64 * 1024)            /* RDB bytes per read()/write() */
#define REPL_BULK_WRITE_BUDGET (1024 * 1024) /* RDB bytes sent to one replica per event */
#define REPL_BACKLOG_MIN_ALLOC (16 * 1024)   /* the backlog's first allocation */
#define REPL_LINE_MAX 4096                   /* a handshake reply longer than this is garbage */
#define REPL_RECONNECT_MIN_MS 100            /* first retry after a failed attempt or lost link */
#define REPL_RECONNECT_MAX_MS 2000
#define REPL_CRON_PERIOD_MS 1000             /* pings, ACKs, timeouts, newlines */
#define REPL_DEFAULT_BACKLOG_SIZE (10LL * 1024 * 1024)
#define REPL_MAX_ANNOUNCE_IP_LEN NET_IP_STR_LEN
#define REPL_STREAM_CMD_MAX_ARGS 3           /* PING, REPLCONF GETACK * */

/* FAILOVER: writes are paused while a replica catches up, then this server turns into
 * a replica of it and asks it, with PSYNC ... FAILOVER, to become the primary. */
#define FAILOVER_NONE 0
#define FAILOVER_WAIT_FOR_SYNC 1
#define FAILOVER_IN_PROGRESS 2

/* A replica as the primary sees it (client->repl_data). */
#define REPLICA_STATE_NONE 0              /* sent REPLCONF, no SYNC yet */
#define REPLICA_STATE_WAIT_BGSAVE_START 1 /* needs a save that has not started */
#define REPLICA_STATE_WAIT_BGSAVE_END 2   /* its save runs; the stream accumulates */
#define REPLICA_STATE_SEND_BULK 3         /* the RDB is being sent */
#define REPLICA_STATE_ONLINE 4            /* streaming */

#define REPLICA_CAPA_EOF (1 << 0)
#define REPLICA_CAPA_PSYNC2 (1 << 1)

typedef struct replicaState {
    int state;
    int capa;
    int pre_psync;         /* came with SYNC: no +FULLRESYNC line */
    int listening_port;
    sds announced_ip;      /* REPLCONF ip-address, NULL when none */
    long long ack_off;     /* last REPLCONF ACK */
    long long aof_ack_off; /* last REPLCONF ACK ... FACK: fsynced to its AOF */
    time_t ack_time;
    int rdb_fd;            /* the RDB being sent, -1 */
    off_t rdb_off, rdb_size;
    sds preamble;          /* "$<len>\r\n" still to send before the RDB bytes */
    size_t preamble_sent;
    listNode *node;        /* in repl.replicas while a replica */
} replicaState;

/* The link to our primary, on a replica. */
#define REPL_STATE_NONE 0
#define REPL_STATE_CONNECT 1
#define REPL_STATE_CONNECTING 2
#define REPL_STATE_RECEIVE_PING_REPLY 3
#define REPL_STATE_RECEIVE_AUTH_REPLY 4
#define REPL_STATE_RECEIVE_PORT_REPLY 5
#define REPL_STATE_RECEIVE_IP_REPLY 6
#define REPL_STATE_RECEIVE_CAPA_REPLY 7
#define REPL_STATE_RECEIVE_PSYNC_REPLY 8
#define REPL_STATE_TRANSFER 9
#define REPL_STATE_CONNECTED 10

#define REPL_DISKLESS_LOAD_DISABLED 0
#define REPL_DISKLESS_LOAD_WHEN_DB_EMPTY 1
#define REPL_DISKLESS_LOAD_SWAPDB 2

typedef struct replBacklog {
    char *buf;
    long long size;    /* repl-backlog-size: the most it holds */
    long long alloc;   /* bytes allocated so far (grows to size before wrapping) */
    long long idx;     /* where the next byte goes */
    long long histlen; /* bytes held */
    long long offset;  /* replication offset of the oldest byte held */
} replBacklog;

static struct {
    char *primary_auth;
    char *primary_user;
    int ping_period;
    int timeout;
    long long backlog_size;
    int backlog_ttl;
    int disable_tcp_nodelay;
    int diskless_sync;
    int diskless_sync_delay;
    int diskless_sync_max_replicas;
    int diskless_load;
    int dual_channel;
    int serve_stale_data;
    int replica_ro;
    int ignore_maxmemory;
    int lazy_flush;
    int priority;
    int announced;
    char *announce_ip;
    int announce_port;
    int ignore_disk_write_errors;
    int min_replicas_to_write;
    int min_replicas_max_lag;
} repl_conf;

typedef struct waitingClient {
    client *c;
    long long offset;
    long numreplicas;
    int aof;       /* WAITAOF: replicas count by their fsynced offset */
    long numlocal; /* WAITAOF: 1 waits for this server's fsync too */
} waitingClient;

static struct {
    /* The history this server holds: its id, the previous one, the stream offset. */
    char replid[REPL_ID_LEN + 1];
    char replid2[REPL_ID_LEN + 1];
    long long offset;               /* master_repl_offset */
    long long second_replid_offset; /* replid2 is valid up to this offset, -1 */
    replBacklog *backlog;
    time_t no_replicas_since;       /* for repl-backlog-ttl */
    list *replicas;                 /* clients */
    int replicas_eldb;              /* database of the last SELECT in the stream, -1 */
    int good_replicas;              /* ACKed within min-replicas-max-lag */
    int save_for_replicas;          /* the running background save is ours */
    long long save_offset;          /* the stream offset when it forked */
    /* Replica side. */
    sds primary_host;               /* NULL: this server is a primary */
    int primary_port;
    int state;                      /* REPL_STATE_* */
    int fd;                         /* the socket during handshake and transfer, -1 */
    client *primary;                /* the primary link once connected */
    char cached_replid[REPL_ID_LEN + 1];
    long long cached_offset;        /* offset to resume from (PSYNC asks for the next) */
    int cached_db;                  /* the database the stream had selected there */
    int have_cached;
    char new_replid[REPL_ID_LEN + 1]; /* from +FULLRESYNC */
    long long new_offset;
    sds line;                       /* a handshake reply being read */
    time_t lastio;                  /* handshake/transfer progress, for repl-timeout */
    time_t down_since;              /* when the link went down, 0: never up */
    mstime_t next_connect_ms;
    int connect_failures;
    /* Transfer. */
    int transfer_fd;                /* the temp file, -1 */
    char transfer_tmpfile[64];
    long long transfer_size;        /* -1: header not read yet; 0 with a mark: unknown */
    long long transfer_read;
    int usemark;
    char eofmark[REPL_EOF_MARK_SIZE];
    char lastbytes[REPL_EOF_MARK_SIZE];
    /* FAILOVER (primary side). */
    int failover_state;             /* FAILOVER_* */
    sds failover_host;              /* the target, NULL: the first replica in sync */
    int failover_port;
    mstime_t failover_deadline;     /* 0: none */
    int failover_force;             /* at the deadline, fail over anyway */
    /* WAIT. */
    list *waiting;                  /* waitingClient */
    int get_ack;                    /* send GETACK before sleeping */
    int acks_changed;
    long long local_fsynced;        /* aofFsyncedReplOffset() when last looked at */
    int local_aof_enabled;          /* aofEnabled() then */
    long long fack_sent;            /* the FACK of the last ACK sent to our primary */
    mstime_t last_cron_ms;
    long long cron_seconds;
    robj *readonly_err, *masterdown_err, *noreplicas_err;
} repl = {.second_replid_offset = -1, .replicas_eldb = -1, .fd = -1, .transfer_fd = -1, .transfer_size = -1};

static void scheduleReconnect(void);
static void sendAck(void);
static void abortFailover(const char *why);
static void clearFailover(void);
static void unsetPrimary(void);
static int replicaAddress(client *c, char *ip, size_t len);

/* ------------------------------------------------------------------------- */
/* Configuration                                                               */
/* ------------------------------------------------------------------------- */

static int setReplicaof(sds *argv, int argc, const char **err) {
    if (argc == 0 || (argc == 2 && !strcasecmp(argv[0], "no") && !strcasecmp(argv[1], "one"))) {
        sdsfree(repl.primary_host);
        repl.primary_host = NULL;
        return 1;
    }
    if (argc != 2) {
        *err = "wrong number of arguments";
        return 0;
    }
    long long port;
    if (!string2ll(argv[1], sdslen(argv[1]), &port) || port < 0 || port > 65535) {
        *err = "Invalid master port";
        return 0;
    }
    sdsfree(repl.primary_host);
    repl.primary_host = sdsdup(argv[0]);
    repl.primary_port = (int)port;
    return 1;
}

static sds getReplicaof(void) {
    if (!repl.primary_host) return sdsempty();
    return sdscatprintf(sdsempty(), "%s %d", repl.primary_host, repl.primary_port);
}

static int applyBacklogSize(const char **err);

static const configEnum diskless_load_enum[] = {{"disabled", REPL_DISKLESS_LOAD_DISABLED},
                                                 {"on-empty-db", REPL_DISKLESS_LOAD_WHEN_DB_EMPTY},
                                                 {"swapdb", REPL_DISKLESS_LOAD_SWAPDB},
                                                 {NULL, 0}};

#define REPL_BOOL(n, a, f, d)                                                                                         \
    {.name = n, .alias = a, .type = CONFIG_TYPE_BOOL, .field = &repl_conf.f, .u.b = {.dflt = d}}
#define REPL_INT(n, a, f, lo, hi, d)                                                                                  \
    {.name = n, .alias = a, .type = CONFIG_TYPE_NUMERIC, .field = &repl_conf.f,                                       \
     .u.num = {CONFIG_NUM_INT, CONFIG_FMT_INTEGER, lo, hi, d, NULL}}

static const configDirective repl_configs[] = {
    {.name = "replicaof",
     .alias = "slaveof",
     .flags = CONFIG_FLAG_IMMUTABLE | CONFIG_FLAG_MULTI_ARG,
     .type = CONFIG_TYPE_SPECIAL,
     .u.sp = {.dflt = "", .set = setReplicaof, .get = getReplicaof}},
    {.name = "primaryauth",
     .alias = "masterauth",
     .flags = CONFIG_FLAG_SENSITIVE | CONFIG_STR_EMPTY_IS_NULL,
     .type = CONFIG_TYPE_STRING,
     .field = &repl_conf.primary_auth,
     .u.str = {.dflt = ""}},
    {.name = "primaryuser",
     .alias = "masteruser",
     .flags = CONFIG_STR_EMPTY_IS_NULL,
     .type = CONFIG_TYPE_STRING,
     .field = &repl_conf.primary_user,
     .u.str = {.dflt = ""}},
    {.name = "replica-announce-ip",
     .alias = "slave-announce-ip",
     .flags = CONFIG_STR_EMPTY_IS_NULL,
     .type = CONFIG_TYPE_STRING,
     .field = &repl_conf.announce_ip,
     .u.str = {.dflt = ""}},
    {.name = "repl-backlog-size",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &repl_conf.backlog_size,
     .u.num = {CONFIG_NUM_LONG_LONG, CONFIG_FMT_MEMORY, 1, LLONG_MAX, REPL_DEFAULT_BACKLOG_SIZE, NULL},
     .apply = applyBacklogSize},
    {.name = "repl-diskless-load",
     .type = CONFIG_TYPE_ENUM,
     .field = &repl_conf.diskless_load,
     .u.en = {.values = diskless_load_enum, .dflt = REPL_DISKLESS_LOAD_DISABLED}},
    REPL_INT("repl-ping-replica-period", "repl-ping-slave-period", ping_period, 1, INT_MAX, 10),
    REPL_INT("repl-timeout", NULL, timeout, 1, INT_MAX, 60),
    REPL_INT("repl-backlog-ttl", NULL, backlog_ttl, 0, INT_MAX, 3600),
    REPL_INT("repl-diskless-sync-delay", NULL, diskless_sync_delay, 0, INT_MAX, 5),
    REPL_INT("repl-diskless-sync-max-replicas", NULL, diskless_sync_max_replicas, 0, INT_MAX, 0),
    REPL_INT("replica-priority", "slave-priority", priority, 0, INT_MAX, 100),
    REPL_INT("replica-announce-port", "slave-announce-port", announce_port, 0, 65535, 0),
    REPL_INT("min-replicas-to-write", "min-slaves-to-write", min_replicas_to_write, 0, INT_MAX, 0),
    REPL_INT("min-replicas-max-lag", "min-slaves-max-lag", min_replicas_max_lag, 0, INT_MAX, 10),
    REPL_BOOL("repl-disable-tcp-nodelay", NULL, disable_tcp_nodelay, 0),
    REPL_BOOL("repl-diskless-sync", NULL, diskless_sync, 1),
    REPL_BOOL("dual-channel-replication-enabled", NULL, dual_channel, 0),
    REPL_BOOL("replica-serve-stale-data", "slave-serve-stale-data", serve_stale_data, 1),
    REPL_BOOL("replica-read-only", "slave-read-only", replica_ro, 1),
    REPL_BOOL("replica-ignore-maxmemory", "slave-ignore-maxmemory", ignore_maxmemory, 1),
    REPL_BOOL("replica-lazy-flush", "slave-lazy-flush", lazy_flush, 1),
    REPL_BOOL("replica-announced", NULL, announced, 1),
    REPL_BOOL("replica-ignore-disk-write-errors", NULL, ignore_disk_write_errors, 0),
};

void replicationRegister(void) {
    configRegisterDirectives(repl_configs, (int)(sizeof(repl_configs) / sizeof(repl_configs[0])));
}

int replicationIsReplica(void) {
    return repl.primary_host != NULL;
}

/* evict.c: a replica mirrors its primary's dataset, evictions included. */
int replicaIgnoresMaxmemory(void) {
    return repl.primary_host != NULL && repl_conf.ignore_maxmemory;
}

/* ------------------------------------------------------------------------- */
/* Replication ids and the backlog                                             */
/* ------------------------------------------------------------------------- */

static void newReplicationId(void) {
    getRandomHexChars(repl.replid, REPL_ID_LEN);
    repl.replid[REPL_ID_LEN] = '\0';
}

static void clearReplicationId2(void) {
    memset(repl.replid2, '0', REPL_ID_LEN);
    repl.replid2[REPL_ID_LEN] = '\0';
    repl.second_replid_offset = -1;
}

/* A new history starts here; the old one stays valid up to this point (replicas of
 * ours that followed it can still PSYNC). */
static void shiftReplicationId(void) {
    memcpy(repl.replid2, repl.replid, sizeof(repl.replid));
    repl.second_replid_offset = repl.offset + 1;
    newReplicationId();
    serverLog(LL_NOTICE, "Setting secondary replication ID to %s, valid up to offset: %lld. New replication ID is %s",
              repl.replid2, repl.second_replid_offset, repl.replid);
}

static void createBacklog(void) {
    replBacklog *b = zcalloc(sizeof(*b));
    b->size = repl_conf.backlog_size;
    b->offset = repl.offset + 1;
    repl.backlog = b;
    /* The stream restarts here: the next command carries its database. */
    repl.replicas_eldb = -1;
}

static void freeBacklog(void) {
    if (!repl.backlog) return;
    zfree(repl.backlog->buf);
    zfree(repl.backlog);
    repl.backlog = NULL;
}

/* Makes room for len more bytes. The buffer grows only until it reaches its size, and
 * it never wraps before: while growing, its bytes run from 0 to histlen. */
static void backlogGrow(replBacklog *b, long long len) {
    if (b->alloc >= b->size || b->histlen + len <= b->alloc) return;
    long long want = b->alloc ? b->alloc * 2 : REPL_BACKLOG_MIN_ALLOC;
    if (want < b->histlen + len) want = b->histlen + len;
    if (want > b->size) want = b->size;
    b->buf = zrealloc(b->buf, (size_t)want);
    b->alloc = want;
    b->idx = b->histlen;
}

static void backlogAppend(replBacklog *b, const char *p, size_t len) {
    backlogGrow(b, (long long)len);
    if ((long long)len > b->alloc) { /* only the tail fits */
        p += (long long)len - b->alloc;
        len = (size_t)b->alloc;
    }
    while (len) {
        size_t room = (size_t)(b->alloc - b->idx);
        size_t n = len < room ? len : room;
        memcpy(b->buf + b->idx, p, n);
        b->idx = (b->idx + (long long)n) % b->alloc;
        b->histlen += (long long)n;
        p += n;
        len -= n;
    }
    if (b->histlen > b->alloc) b->histlen = b->alloc;
}

/* Calls fn on the backlog's bytes from stream offset `from` to the end, in order. */
static void backlogForEachFrom(long long from, void (*fn)(void *ud, const char *p, size_t len), void *ud) {
    replBacklog *b = repl.backlog;
    long long skip = from - b->offset;
    long long len = b->histlen - skip;
    if (len <= 0) return;
    long long start = (b->idx - len + b->alloc) % b->alloc;
    long long first = len < b->alloc - start ? len : b->alloc - start;
    fn(ud, b->buf + start, (size_t)first);
    if (len > first) fn(ud, b->buf, (size_t)(len - first));
}

static void copyToBacklog(void *ud, const char *p, size_t len) {
    backlogAppend(ud, p, len);
}

/* CONFIG SET repl-backlog-size: the newest history that fits is kept. */
static int applyBacklogSize(const char **err) {
    (void)err;
    if (!repl.backlog || repl.backlog->size == repl_conf.backlog_size) return 1;
    replBacklog *nb = zcalloc(sizeof(*nb));
    nb->size = repl_conf.backlog_size;
    long long keep = repl.backlog->histlen < nb->size ? repl.backlog->histlen : nb->size;
    long long from = repl.offset - keep + 1;
    backlogForEachFrom(from, copyToBacklog, nb);
    nb->offset = repl.offset - nb->histlen + 1;
    int eldb = repl.replicas_eldb;
    freeBacklog();
    repl.backlog = nb;
    repl.replicas_eldb = eldb;
    return 1;
}

size_t replicationBacklogMemory(void) {
    return repl.backlog ? (size_t)repl.backlog->alloc + sizeof(replBacklog) : 0;
}

static size_t replicaBuffersMemory(int output_only) {
    size_t total = 0;
    if (!repl.replicas) return 0;
    listIter li;
    listNode *ln;
    listRewind(repl.replicas, &li);
    while ((ln = listNext(&li))) {
        client *r = listNodeValue(ln);
        total += output_only ? getClientOutputBufferMemoryUsage(r) : getClientMemoryUsage(r, NULL);
    }
    return total;
}

size_t replicationReplicaClientsMemory(void) {
    return replicaBuffersMemory(0);
}

/* Replicas' output buffers do not make keys go (evict.h). */
static size_t replicationNotCountedMemory(void) {
    return replicaBuffersMemory(1);
}

/* ------------------------------------------------------------------------- */
/* Feeding the stream                                                          */
/* ------------------------------------------------------------------------- */

static replicaState *replicaOf(client *c) {
    return c->repl_data;
}

/* Appends stream bytes to the backlog and to every replica that follows the stream. */
static void feedStream(const char *p, size_t len) {
    if (!repl.backlog || len == 0) return;
    backlogAppend(repl.backlog, p, len);
    repl.offset += (long long)len;
    repl.backlog->offset = repl.offset - repl.backlog->histlen + 1;
    listIter li;
    listNode *ln;
    listRewind(repl.replicas, &li);
    while ((ln = listNext(&li))) {
        client *r = listNodeValue(ln);
        if (replicaOf(r)->state == REPLICA_STATE_WAIT_BGSAVE_START) continue; /* a later RDB covers it */
        addReplyProto(r, p, len);
    }
}

static sds catSelect(sds s, int dbid) {
    char num[LONG_STR_SIZE];
    int numlen = ll2string(num, sizeof(num), dbid);
    return sdscatprintf(s, "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n", numlen, num);
}

/* propagate.c's consumer: the commands this server executed. A replica streams its
 * primary's bytes instead (replicationPrimaryApplied). */
int replicationPropagationActive(void) {
    return repl.backlog != NULL && repl.primary_host == NULL;
}

void replicationFeedPropagated(int dbid, const char *cmd, size_t len) {
    if (!replicationPropagationActive()) return;
    if (dbid != -1 && dbid != repl.replicas_eldb) {
        sds select = catSelect(sdsempty(), dbid);
        feedStream(select, sdslen(select));
        sdsfree(select);
        repl.replicas_eldb = dbid;
    }
    feedStream(cmd, len);
    /* WAIT waits for the replicas to have what this client wrote. */
    if (server.current_client) server.current_client->woff = repl.offset;
}

long long replicationOffset(void) {
    return repl.offset;
}

/* Without a backlog nothing is streamed, but WAITAOF still needs to tell writes apart:
 * the offset counts one per command written to the AOF only (as Valkey's does). */
void replicationCountUnstreamedWrite(void) {
    if (repl.backlog || repl.primary_host) return;
    repl.offset++;
    if (server.current_client) server.current_client->woff = repl.offset;
}

/* Commands of the primary's own (PING, GETACK) that are part of the stream. */
static void feedStreamCommand(int argc, const char **argv) {
    robj *objs[REPL_STREAM_CMD_MAX_ARGS];
    for (int j = 0; j < argc; j++) objs[j] = createStringObject(argv[j], strlen(argv[j]));
    sds bytes = propagateCatCommand(sdsempty(), objs, argc);
    feedStream(bytes, sdslen(bytes));
    sdsfree(bytes);
    for (int j = 0; j < argc; j++) decrRefCount(objs[j]);
}

void replicationPrimaryApplied(client *c) {
    if (c != repl.primary || !c->querybuf || (c->flags & CLIENT_PROTOCOL_ERROR)) return;
    if (c->qb_pos <= c->repl_applied) return;
    size_t len = c->qb_pos - c->repl_applied;
    const char *p = c->querybuf + c->repl_applied;
    c->repl_applied = c->qb_pos;
    if (repl.backlog) {
        feedStream(p, len);
    } else {
        repl.offset += (long long)len;
    }
}

/* ------------------------------------------------------------------------- */
/* Replicas on the primary side                                                */
/* ------------------------------------------------------------------------- */

static replicaState *replicaStateOf(client *c) {
    if (!c->repl_data) {
        replicaState *rs = zcalloc(sizeof(*rs));
        rs->rdb_fd = -1;
        c->repl_data = rs;
    }
    return c->repl_data;
}

/* "ip:port" as the replica announced itself, for the log. */
static sds replicaName(client *c) {
    replicaState *rs = c->repl_data;
    char ip[NET_IP_STR_LEN];
    const char *addr = rs && rs->announced_ip ? rs->announced_ip : NULL;
    int port = 0;
    if (!addr && c->fd != -1 && anetFdToString(c->fd, ip, sizeof(ip), &port, 1) != -1) addr = ip;
    if (!addr) addr = "?";
    if (rs && rs->listening_port) return sdscatprintf(sdsempty(), "%s:%d", addr, rs->listening_port);
    return sdscatprintf(sdsempty(), "%s:<unknown-replica-port>", addr);
}

static void logReplica(int level, const char *what, client *c) {
    sds name = replicaName(c);
    serverLog(level, what, name);
    sdsfree(name);
}

/* Lines written straight to the socket, ahead of anything buffered (+FULLRESYNC,
 * +CONTINUE, the keep-alive newlines): the output buffer is for the stream. */
static int writeDirect(client *c, const char *s, size_t len) {
    ssize_t n = write(c->fd, s, len);
    if (n != (ssize_t)len) {
        freeClientAsync(c);
        return C_ERR;
    }
    server.stat_net_repl_output_bytes += n;
    return C_OK;
}

static void addReplica(client *c) {
    replicaState *rs = replicaStateOf(c);
    if (!repl.replicas) repl.replicas = listCreate();
    c->flags |= CLIENT_REPLICA;
    listAddNodeTail(repl.replicas, c);
    rs->node = listLast(repl.replicas);
    rs->ack_time = server.unixtime;
}

static void replicaPutOnline(client *c) {
    replicaState *rs = c->repl_data;
    rs->state = REPLICA_STATE_ONLINE;
    rs->ack_time = server.unixtime;
    if (clientHasPendingReplies(c)) putClientInPendingWriteQueue(c);
    logReplica(LL_NOTICE, "Synchronization with replica %s succeeded", c);
}

int replicationClientMayWrite(client *c) {
    replicaState *rs = c->repl_data;
    return !rs || rs->state == REPLICA_STATE_ONLINE || rs->state == REPLICA_STATE_NONE;
}

static void closeReplicaRdb(client *c) {
    replicaState *rs = c->repl_data;
    if (rs->rdb_fd != -1) close(rs->rdb_fd);
    rs->rdb_fd = -1;
    sdsfree(rs->preamble);
    rs->preamble = NULL;
}

void replicationFreeClient(client *c) {
    if (c == repl.primary) {
        repl.primary = NULL;
        if (repl.primary_host) {
            /* What was applied is what we hold: resume from there. */
            memcpy(repl.cached_replid, repl.replid, sizeof(repl.replid));
            repl.cached_offset = repl.offset;
            repl.cached_db = c->db ? c->db->id : 0;
            repl.have_cached = 1;
            repl.state = REPL_STATE_CONNECT;
            repl.down_since = server.unixtime;
            serverLog(LL_NOTICE, "Connection with primary lost.");
            serverLog(LL_NOTICE, "Caching the disconnected primary state.");
            scheduleReconnect();
        }
    }
    replicaState *rs = c->repl_data;
    if (!rs) return;
    if (rs->node) {
        listDelNode(repl.replicas, rs->node);
        if (listLength(repl.replicas) == 0) repl.no_replicas_since = server.unixtime;
        logReplica(LL_NOTICE, "Connection with replica %s lost.", c);
    }
    closeReplicaRdb(c);
    sdsfree(rs->announced_ip);
    zfree(rs);
    c->repl_data = NULL;
    c->flags &= ~CLIENT_REPLICA;
}

static void disconnectReplicas(void) {
    if (!repl.replicas) return;
    listIter li;
    listNode *ln;
    listRewind(repl.replicas, &li);
    /* freeClient() may only schedule the free (a client in the middle of a command). */
    while ((ln = listNext(&li))) freeClient(listNodeValue(ln));
}

/* +FULLRESYNC for a replica whose RDB starts at `offset` of the stream. */
static int setupFullResync(client *c, long long offset) {
    replicaState *rs = c->repl_data;
    rs->state = REPLICA_STATE_WAIT_BGSAVE_END;
    if (rs->pre_psync) return C_OK;
    char buf[128];
    int len = snprintf(buf, sizeof(buf), "+FULLRESYNC %s %lld\r\n", repl.replid, offset);
    return writeDirect(c, buf, (size_t)len);
}

/* Forks the save for the replicas waiting for one. */
static void startSaveForReplicas(void) {
    serverLog(LL_NOTICE, "Starting BGSAVE for SYNC with target: disk%s",
              repl_conf.diskless_sync ? " (repl-diskless-sync is served from disk)" : "");
    int ok = rdbSaveBackground(server.rdb_filename, RDBFLAGS_REPLICATION) == C_OK;
    listIter li;
    listNode *ln;
    listRewind(repl.replicas, &li);
    while ((ln = listNext(&li))) {
        client *r = listNodeValue(ln);
        if (replicaOf(r)->state != REPLICA_STATE_WAIT_BGSAVE_START) continue;
        if (!ok) {
            serverLog(LL_WARNING, "BGSAVE for replication failed");
            replicaOf(r)->state = REPLICA_STATE_NONE; /* so that the error goes out */
            addReplyError(r, "BGSAVE failed, replication can't continue");
            r->flags |= CLIENT_CLOSE_AFTER_REPLY;
            continue;
        }
        setupFullResync(r, repl.offset);
    }
    if (ok) {
        repl.save_for_replicas = 1;
        repl.save_offset = repl.offset;
        repl.replicas_eldb = -1; /* the stream after the fork names its database */
    }
}

static void startPendingSaves(void) {
    if (!repl.replicas || rdbHasActiveChild()) return;
    listIter li;
    listNode *ln;
    listRewind(repl.replicas, &li);
    while ((ln = listNext(&li))) {
        if (replicaOf(listNodeValue(ln))->state == REPLICA_STATE_WAIT_BGSAVE_START) {
            startSaveForReplicas();
            return;
        }
    }
}

/* A save for replicas is running: a replica that asks now can share it, with the
 * stream another waiting replica accumulated since the fork. */
static client *replicaSharingSave(void) {
    listIter li;
    listNode *ln;
    listRewind(repl.replicas, &li);
    while ((ln = listNext(&li))) {
        client *r = listNodeValue(ln);
        if (replicaOf(r)->state == REPLICA_STATE_WAIT_BGSAVE_END) return r;
    }
    return NULL;
}

static void copyReplyBuffer(client *dst, client *src) {
    if (src->bufpos) addReplyProto(dst, src->buf, (size_t)src->bufpos);
    listIter li;
    listNode *ln;
    listRewind(src->reply, &li);
    while ((ln = listNext(&li))) {
        clientReplyBlock *b = listNodeValue(ln);
        if (b && b->used) addReplyProto(dst, b->buf, b->used);
    }
}

static void fullResync(client *c) {
    replicaState *rs = c->repl_data;
    server.stat_sync_full++;
    rs->state = REPLICA_STATE_WAIT_BGSAVE_START;
    client *peer = repl.save_for_replicas ? replicaSharingSave() : NULL;
    if (peer) {
        /* Its buffer holds the stream since the fork, which this replica needs too. */
        copyReplyBuffer(c, peer);
        setupFullResync(c, repl.save_offset);
        logReplica(LL_NOTICE, "Waiting for end of BGSAVE for SYNC (replica %s shares the running one)", c);
        return;
    }
    if (!rdbHasActiveChild()) {
        startSaveForReplicas();
    } else {
        logReplica(LL_NOTICE, "Can't attach the replica %s to the running background save: waiting for the next one",
                   c);
    }
}

struct backlogSend {
    client *c;
};

static void sendBacklogChunk(void *ud, const char *p, size_t len) {
    addReplyProto(((struct backlogSend *)ud)->c, p, len);
}

/* +CONTINUE when the replica's history is ours and the bytes it misses are held. */
static int tryPartialResync(client *c, const char *replid, long long offset) {
    int same = !strcasecmp(replid, repl.replid);
    int previous = !same && !strcasecmp(replid, repl.replid2) && offset <= repl.second_replid_offset;
    if (!same && !previous) {
        if (strcmp(replid, "?")) {
            if (strcasecmp(replid, repl.replid2))
                serverLog(LL_NOTICE, "Partial resynchronization not accepted: Replication ID mismatch (Replica asked "
                                     "for '%s', my replication IDs are '%s' and '%s')",
                          replid, repl.replid, repl.replid2);
            else
                serverLog(LL_NOTICE, "Partial resynchronization not accepted: Requested offset for second ID was "
                                     "%lld, but I can reply up to %lld",
                          offset, repl.second_replid_offset);
        } else {
            logReplica(LL_NOTICE, "Full resync requested by replica %s", c);
        }
        return C_ERR;
    }
    replBacklog *b = repl.backlog;
    if (!b || offset < b->offset || offset > b->offset + b->histlen) {
        serverLog(LL_NOTICE, "Unable to partial resync with replica for lack of backlog (Replica request was: %lld).",
                  offset);
        return C_ERR;
    }
    addReplica(c);
    replicaState *rs = c->repl_data;
    rs->state = REPLICA_STATE_ONLINE;
    char buf[128];
    int len = (rs->capa & REPLICA_CAPA_PSYNC2) ? snprintf(buf, sizeof(buf), "+CONTINUE %s\r\n", repl.replid)
                                               : snprintf(buf, sizeof(buf), "+CONTINUE\r\n");
    if (writeDirect(c, buf, (size_t)len) != C_OK) return C_OK; /* closing: handled */
    struct backlogSend bs = {c};
    long long sent = b->offset + b->histlen - offset;
    backlogForEachFrom(offset, sendBacklogChunk, &bs);
    sds name = replicaName(c);
    serverLog(LL_NOTICE,
              "Partial resynchronization request from %s accepted. Sending %lld bytes of backlog starting from "
              "offset %lld.",
              name, sent, offset);
    sdsfree(name);
    return C_OK;
}

/* SYNC and PSYNC <replid> <offset>. */
/* PSYNC <replid> <offset> FAILOVER, from the primary of this replica handing over:
 * this server becomes the primary, then serves the PSYNC (a partial resync, the two
 * being in step). C_ERR: refused, with the error sent. */
static int acceptFailoverRequest(client *c) {
    const char *replid = objectGetVal(c->argv[1]);
    serverLog(LL_NOTICE, "Failover request received for replid %s.", replid);
    if (!repl.primary_host) {
        addReplyError(c, "PSYNC FAILOVER can't be sent to a master.");
        return C_ERR;
    }
    if (strcasecmp(replid, repl.replid) != 0) {
        addReplyError(c, "PSYNC FAILOVER replid must match my replid.");
        return C_ERR;
    }
    unsetPrimary();
    sds info = catClientInfoString(sdsempty(), c);
    serverLog(LL_NOTICE, "PRIMARY MODE enabled (failover request from '%s')", info);
    sdsfree(info);
    return C_OK;
}

void syncCommand(client *c) {
    if (c->flags & (CLIENT_REPLICA | CLIENT_PRIMARY)) return;
    if (c->argc > 3 && !strcasecmp(objectGetVal(c->argv[0]), "psync") &&
        !strcasecmp(objectGetVal(c->argv[3]), "failover") && acceptFailoverRequest(c) != C_OK)
        return;
    if (repl.failover_state != FAILOVER_NONE) {
        addReplyError(c, "-NOMASTERLINK Can't SYNC while failing over");
        return;
    }
    if (repl.primary_host && repl.state != REPL_STATE_CONNECTED) {
        addReplyError(c, "-NOMASTERLINK Can't SYNC while not connected with my master");
        return;
    }
    if (clientHasPendingReplies(c)) {
        addReplyError(c, "SYNC and PSYNC are invalid with pending output");
        return;
    }
    long long offset = -1;
    int psync = !strcasecmp(objectGetVal(c->argv[0]), "psync");
    if (psync && getLongLongFromObjectOrReply(c, c->argv[2], &offset, NULL) != C_OK) return;
    logReplica(LL_NOTICE, "Replica %s asks for synchronization", c);
    replicaState *rs = replicaStateOf(c);
    if (psync) {
        const char *replid = objectGetVal(c->argv[1]);
        if (tryPartialResync(c, replid, offset) == C_OK) {
            server.stat_sync_partial_ok++;
            return;
        }
        if (strcmp(replid, "?")) server.stat_sync_partial_err++;
    } else {
        rs->pre_psync = 1;
    }
    /* The first replica of a primary without a backlog starts a new history. */
    if (!repl.backlog && !repl.primary_host) {
        newReplicationId();
        clearReplicationId2();
    }
    if (!repl.backlog) createBacklog();
    addReplica(c);
    fullResync(c);
}

void psyncCommand(client *c) {
    syncCommand(c);
}

/* The RDB file, then the stream: writable events on the replica's socket. */
static void sendBulkToReplica(aeEventLoop *el, int fd, void *privdata, int mask) {
    (void)el;
    (void)mask;
    client *c = privdata;
    replicaState *rs = c->repl_data;
    if (rs->preamble) {
        size_t left = sdslen(rs->preamble) - rs->preamble_sent;
        ssize_t n = write(fd, rs->preamble + rs->preamble_sent, left);
        if (n <= 0) {
            if (n == -1 && (errno == EAGAIN || errno == EINTR)) return;
            goto fail;
        }
        server.stat_net_repl_output_bytes += n;
        rs->preamble_sent += (size_t)n;
        if ((size_t)n < left) return;
        sdsfree(rs->preamble);
        rs->preamble = NULL;
    }
    static char buf[REPL_IO_CHUNK];
    size_t budget = REPL_BULK_WRITE_BUDGET;
    while (rs->rdb_off < rs->rdb_size && budget) {
        ssize_t nread = pread(rs->rdb_fd, buf, sizeof(buf), rs->rdb_off);
        if (nread <= 0) {
            serverLog(LL_WARNING, "Read error sending DB to replica: %s", nread ? strerror(errno) : "unexpected EOF");
            goto fail;
        }
        ssize_t n = write(fd, buf, (size_t)nread);
        if (n <= 0) {
            if (n == -1 && (errno == EAGAIN || errno == EINTR)) return;
            serverLog(LL_VERBOSE, "Write error sending DB to replica: %s", strerror(errno));
            goto fail;
        }
        rs->rdb_off += n;
        c->net_output_bytes += (unsigned long long)n;
        server.stat_net_repl_output_bytes += n;
        budget = (size_t)n < budget ? budget - (size_t)n : 0;
        if (n < nread) return;
    }
    if (rs->rdb_off < rs->rdb_size) return;
    closeReplicaRdb(c);
    aeDeleteFileEvent(server.el, fd, AE_WRITABLE);
    replicaPutOnline(c);
    return;
fail:
    freeClient(c);
}

static void startSendingRdb(client *c) {
    replicaState *rs = c->repl_data;
    struct stat st;
    rs->rdb_fd = open(server.rdb_filename, O_RDONLY);
    if (rs->rdb_fd == -1 || fstat(rs->rdb_fd, &st) == -1) {
        serverLog(LL_WARNING, "SYNC failed. Can't open/stat DB after BGSAVE: %s", strerror(errno));
        freeClient(c);
        return;
    }
    rs->rdb_off = 0;
    rs->rdb_size = st.st_size;
    rs->preamble = sdscatprintf(sdsempty(), "$%lld\r\n", (long long)st.st_size);
    rs->preamble_sent = 0;
    rs->state = REPLICA_STATE_SEND_BULK;
    if (aeCreateFileEvent(server.el, c->fd, AE_WRITABLE, sendBulkToReplica, c) == AE_ERR) freeClient(c);
}

void replicationBackgroundSaveDone(int ok) {
    int ours = repl.save_for_replicas;
    repl.save_for_replicas = 0;
    if (ours && repl.replicas) {
        listIter li;
        listNode *ln;
        listRewind(repl.replicas, &li);
        while ((ln = listNext(&li))) {
            client *r = listNodeValue(ln);
            if (replicaOf(r)->state != REPLICA_STATE_WAIT_BGSAVE_END) continue;
            if (!ok) {
                logReplica(LL_WARNING, "SYNC failed. BGSAVE child returned an error (replica %s)", r);
                freeClientAsync(r);
                continue;
            }
            startSendingRdb(r);
        }
    }
    /* After a killed save (FLUSHALL, SHUTDOWN) the cron starts the next one. */
    if (ok) startPendingSaves();
}

/* REPLCONF <option> <value> ... */
void replconfCommand(client *c) {
    if ((c->argc % 2) == 0) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    for (int j = 1; j < c->argc; j += 2) {
        const char *opt = objectGetVal(c->argv[j]);
        robj *val = c->argv[j + 1];
        if (!strcasecmp(opt, "listening-port")) {
            long port;
            if (getLongFromObjectOrReply(c, val, &port, NULL) != C_OK) return;
            replicaStateOf(c)->listening_port = (int)port;
        } else if (!strcasecmp(opt, "ip-address")) {
            sds addr = objectGetVal(val);
            if (sdslen(addr) >= REPL_MAX_ANNOUNCE_IP_LEN) {
                addReplyErrorFormat(c, "REPLCONF ip-address provided by replica instance is too long: %zd bytes",
                                    sdslen(addr));
                return;
            }
            replicaState *rs = replicaStateOf(c);
            sdsfree(rs->announced_ip);
            rs->announced_ip = sdsdup(addr);
        } else if (!strcasecmp(opt, "capa")) {
            const char *capa = objectGetVal(val);
            if (!strcasecmp(capa, "eof")) replicaStateOf(c)->capa |= REPLICA_CAPA_EOF;
            else if (!strcasecmp(capa, "psync2")) replicaStateOf(c)->capa |= REPLICA_CAPA_PSYNC2;
        } else if (!strcasecmp(opt, "ack")) {
            /* From a replica: how much of the stream it processed, and optionally
             * (FACK) how much of it its AOF has fsynced. No reply. */
            long long offset, fsynced;
            if (!(c->flags & CLIENT_REPLICA) || getLongLongFromObject(val, &offset) != C_OK) return;
            replicaState *rs = c->repl_data;
            if (offset > rs->ack_off) rs->ack_off = offset;
            if (j + 3 < c->argc && !strcasecmp(objectGetVal(c->argv[j + 2]), "fack") &&
                getLongLongFromObject(c->argv[j + 3], &fsynced) == C_OK && fsynced > rs->aof_ack_off)
                rs->aof_ack_off = fsynced;
            rs->ack_time = server.unixtime;
            repl.acks_changed = 1;
            return;
        } else if (!strcasecmp(opt, "getack")) {
            /* From our primary: report the offset now. No reply. */
            if (c == repl.primary) sendAck();
            return;
        } else if (!strcasecmp(opt, "rdb-only") || !strcasecmp(opt, "rdb-filter-only") ||
                   !strcasecmp(opt, "version")) {
            /* Understood; nothing here depends on them. */
        } else {
            addReplyErrorFormat(c, "Unrecognized REPLCONF option: %s", opt);
            return;
        }
    }
    addReply(c, shared.ok);
}

/* ------------------------------------------------------------------------- */
/* The replica side: the link to our primary                                   */
/* ------------------------------------------------------------------------- */

/* REPLCONF ACK <offset>, with FACK <offset fsynced to the AOF> when the AOF is on. */
static void sendAck(void) {
    client *c = repl.primary;
    if (!c || (c->flags & CLIENT_CLOSE_ASAP)) return;
    long long fsynced = aofFsyncedReplOffset();
    robj *argv[5];
    int argc = 0;
    argv[argc++] = createStringObject("REPLCONF", 8);
    argv[argc++] = createStringObject("ACK", 3);
    argv[argc++] = createStringObjectFromLongLong(repl.offset);
    if (fsynced != -1) {
        argv[argc++] = createStringObject("FACK", 4);
        argv[argc++] = createStringObjectFromLongLong(fsynced);
        repl.fack_sent = fsynced;
    }
    sds ack = propagateCatCommand(sdsempty(), argv, argc);
    for (int j = 0; j < argc; j++) decrRefCount(argv[j]);
    c->flags |= CLIENT_PUSHING;
    addReplyProto(c, ack, sdslen(ack));
    c->flags &= ~CLIENT_PUSHING;
    sdsfree(ack);
}

static void scheduleReconnect(void) {
    long long delay = REPL_RECONNECT_MIN_MS << (repl.connect_failures < 8 ? repl.connect_failures : 8);
    if (delay > REPL_RECONNECT_MAX_MS) delay = REPL_RECONNECT_MAX_MS;
    repl.next_connect_ms = mstime() + delay;
}

static void removeTransferFile(void) {
    if (repl.transfer_fd != -1) close(repl.transfer_fd);
    repl.transfer_fd = -1;
    if (repl.transfer_tmpfile[0]) unlink(repl.transfer_tmpfile);
    repl.transfer_tmpfile[0] = '\0';
}

/* Drops a handshake or transfer in progress; the cron tries again. */
static void cancelHandshake(void) {
    if (repl.fd != -1) {
        aeDeleteFileEvent(server.el, repl.fd, AE_READABLE | AE_WRITABLE);
        close(repl.fd);
        repl.fd = -1;
    }
    removeTransferFile();
    sdsfree(repl.line);
    repl.line = NULL;
    if (repl.state != REPL_STATE_NONE && repl.state != REPL_STATE_CONNECTED) repl.state = REPL_STATE_CONNECT;
}

static void handshakeFailed(void) {
    cancelHandshake();
    if (repl.failover_state == FAILOVER_IN_PROGRESS) {
        abortFailover("Failover target could not be reached");
        return;
    }
    repl.connect_failures++;
    scheduleReconnect();
}

static int sendSyncCommand(int argc, const char **argv) {
    sds cmd = sdscatprintf(sdsempty(), "*%d\r\n", argc);
    for (int j = 0; j < argc; j++) cmd = sdscatprintf(cmd, "$%zu\r\n%s\r\n", strlen(argv[j]), argv[j]);
    size_t off = 0;
    int rc = C_OK;
    while (off < sdslen(cmd)) {
        ssize_t n = write(repl.fd, cmd + off, sdslen(cmd) - off);
        if (n > 0) {
            off += (size_t)n;
        } else if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
            if (aeWait(repl.fd, AE_WRITABLE, (long long)repl_conf.timeout * 1000) <= 0) {
                rc = C_ERR;
                break;
            }
        } else {
            rc = C_ERR;
            break;
        }
    }
    if (rc == C_ERR) serverLog(LL_WARNING, "Failed writing to the PRIMARY during the handshake: %s", strerror(errno));
    sdsfree(cmd);
    return rc;
}

/* One step of the handshake: the command goes out and the state waits for its reply, or
 * the handshake fails. */
static void sendHandshakeStep(int argc, const char **argv, int next_state) {
    if (sendSyncCommand(argc, argv) != C_OK) {
        handshakeFailed();
        return;
    }
    repl.state = next_state;
}

/* Reads what is available of one reply line, byte by byte so that nothing after it
 * (the RDB) is consumed. 1: repl.line holds the line (no CRLF); 0: more to come;
 * -1: the connection failed. */
static int readReplyLine(void) {
    if (!repl.line) repl.line = sdsempty();
    for (;;) {
        char ch;
        ssize_t n = read(repl.fd, &ch, 1);
        if (n == 0) {
            serverLog(LL_WARNING, "PRIMARY closed the connection during the handshake");
            return -1;
        }
        if (n == -1) {
            if (errno == EAGAIN || errno == EINTR) return 0;
            serverLog(LL_WARNING, "Error reading from the PRIMARY: %s", strerror(errno));
            return -1;
        }
        repl.lastio = server.unixtime;
        server.stat_net_repl_input_bytes++;
        if (ch == '\n') {
            size_t len = sdslen(repl.line);
            if (len && repl.line[len - 1] == '\r') sdsIncrLen(repl.line, -1);
            return 1;
        }
        if (sdslen(repl.line) >= REPL_LINE_MAX) {
            serverLog(LL_WARNING, "Protocol error: reply line from the PRIMARY too long");
            return -1;
        }
        repl.line = sdscatlen(repl.line, &ch, 1);
    }
}

static void sendPsync(void) {
    char offset[LONG_STR_SIZE];
    const char *argv[4] = {"PSYNC", "?", "-1", "FAILOVER"};
    if (repl.have_cached) {
        ll2string(offset, sizeof(offset), repl.cached_offset + 1);
        argv[1] = repl.cached_replid;
        argv[2] = offset;
        serverLog(LL_NOTICE, "Trying a partial resynchronization (request %s:%s).", argv[1], argv[2]);
    } else {
        serverLog(LL_NOTICE, "Partial resynchronization not possible (no cached primary)");
    }
    /* Handing over: the target becomes the primary when it accepts this PSYNC. */
    sendHandshakeStep(repl.failover_state == FAILOVER_IN_PROGRESS ? 4 : 3, argv, REPL_STATE_RECEIVE_PSYNC_REPLY);
}

static void sendCapa(void) {
    const char *argv[5] = {"REPLCONF", "capa", "eof", "capa", "psync2"};
    sendHandshakeStep(5, argv, REPL_STATE_RECEIVE_CAPA_REPLY);
}

static void sendAnnounceIp(void) {
    if (!repl_conf.announce_ip) {
        sendCapa();
        return;
    }
    const char *argv[3] = {"REPLCONF", "ip-address", repl_conf.announce_ip};
    sendHandshakeStep(3, argv, REPL_STATE_RECEIVE_IP_REPLY);
}

static void sendListeningPort(void) {
    char port[LONG_STR_SIZE];
    ll2string(port, sizeof(port), repl_conf.announce_port ? repl_conf.announce_port : server.port);
    const char *argv[3] = {"REPLCONF", "listening-port", port};
    sendHandshakeStep(3, argv, REPL_STATE_RECEIVE_PORT_REPLY);
}

static void sendAuth(void) {
    if (!repl_conf.primary_auth) {
        sendListeningPort();
        return;
    }
    const char *argv[3] = {"AUTH", NULL, NULL};
    int argc = 2;
    if (repl_conf.primary_user) {
        argv[1] = repl_conf.primary_user;
        argv[2] = repl_conf.primary_auth;
        argc = 3;
    } else {
        argv[1] = repl_conf.primary_auth;
    }
    sendHandshakeStep(argc, argv, REPL_STATE_RECEIVE_AUTH_REPLY);
}

static void readTransfer(aeEventLoop *el, int fd, void *privdata, int mask);

/* +FULLRESYNC <replid> <offset>: the RDB follows. */
static void beginTransfer(const char *reply) {
    const char *id = reply + strlen("+FULLRESYNC");
    while (*id == ' ') id++;
    const char *sp = strchr(id, ' ');
    if (!sp || sp - id != REPL_ID_LEN) {
        serverLog(LL_WARNING, "PRIMARY replied with wrong +FULLRESYNC syntax.");
        memset(repl.new_replid, 0, sizeof(repl.new_replid));
        repl.new_offset = -1;
    } else {
        memcpy(repl.new_replid, id, REPL_ID_LEN);
        repl.new_replid[REPL_ID_LEN] = '\0';
        repl.new_offset = strtoll(sp + 1, NULL, 10);
        serverLog(LL_NOTICE, "Full resync from primary: %s:%lld", repl.new_replid, repl.new_offset);
    }
    repl.have_cached = 0;
    for (int tries = 0; tries < 5 && repl.transfer_fd == -1; tries++) {
        snprintf(repl.transfer_tmpfile, sizeof(repl.transfer_tmpfile), "temp-%d.%ld.rdb", (int)server.unixtime + tries,
                 (long)getpid());
        repl.transfer_fd = open(repl.transfer_tmpfile, O_CREAT | O_WRONLY | O_EXCL | O_TRUNC, 0644);
    }
    if (repl.transfer_fd == -1) {
        serverLog(LL_WARNING, "Opening the temp file needed for PRIMARY <-> REPLICA synchronization: %s",
                  strerror(errno));
        repl.transfer_tmpfile[0] = '\0';
        handshakeFailed();
        return;
    }
    repl.transfer_size = -1;
    repl.transfer_read = 0;
    repl.usemark = 0;
    repl.state = REPL_STATE_TRANSFER;
    aeDeleteFileEvent(server.el, repl.fd, AE_READABLE | AE_WRITABLE);
    if (aeCreateFileEvent(server.el, repl.fd, AE_READABLE, readTransfer, NULL) == AE_ERR) handshakeFailed();
}

static void createBacklogIfNeeded(void) {
    if (!repl.backlog) createBacklog();
}

/* The socket becomes the primary client, its stream in database dbid. */
static int attachPrimaryClient(int dbid) {
    int fd = repl.fd;
    aeDeleteFileEvent(server.el, fd, AE_READABLE | AE_WRITABLE);
    client *c = createClient(fd);
    if (!c) {
        serverLog(LL_WARNING, "Error creating the primary client: %s", strerror(errno));
        handshakeFailed();
        return C_ERR;
    }
    repl.fd = -1;
    c->flags |= CLIENT_PRIMARY | CLIENT_AUTHENTICATED;
    c->user_name = NULL; /* the primary's commands are obeyed: no user applies */
    c->repl_applied = 0;
    selectDb(c, dbid);
    repl.primary = c;
    repl.state = REPL_STATE_CONNECTED;
    repl.down_since = 0;
    repl.connect_failures = 0;
    sdsfree(repl.line);
    repl.line = NULL;
    if (repl_conf.disable_tcp_nodelay) anetDisableTcpNoDelay(NULL, fd);
    return C_OK;
}

/* +CONTINUE [<replid>]: the stream resumes after our cached offset. */
static void continuePartialResync(const char *reply) {
    const char *id = reply + strlen("+CONTINUE");
    while (*id == ' ') id++;
    serverLog(LL_NOTICE, "Successful partial resynchronization with primary.");
    repl.offset = repl.cached_offset;
    if (strlen(id) >= REPL_ID_LEN && strncmp(id, repl.cached_replid, REPL_ID_LEN)) {
        /* The primary's history got a new id (it was promoted): ours follows. */
        memcpy(repl.replid2, repl.cached_replid, sizeof(repl.cached_replid));
        repl.second_replid_offset = repl.offset + 1;
        memcpy(repl.replid, id, REPL_ID_LEN);
        repl.replid[REPL_ID_LEN] = '\0';
        serverLog(LL_NOTICE, "Primary replication ID changed to %s", repl.replid);
        disconnectReplicas(); /* they must learn the new id */
    } else {
        memcpy(repl.replid, repl.cached_replid, sizeof(repl.cached_replid));
    }
    repl.have_cached = 0;
    createBacklogIfNeeded();
    /* The stream goes on in the database it had selected. */
    if (attachPrimaryClient(repl.cached_db) == C_OK)
        serverLog(LL_NOTICE, "PRIMARY <-> REPLICA sync: Primary accepted a Partial Resynchronization.");
}

static void handlePsyncReply(const char *reply) {
    if (repl.failover_state == FAILOVER_IN_PROGRESS) {
        if (strncmp(reply, "+FULLRESYNC", 11) && strncmp(reply, "+CONTINUE", 9)) {
            serverLog(LL_WARNING, "The failover target refused PSYNC FAILOVER: %s", reply);
            cancelHandshake();
            abortFailover("Failover target rejected psync request");
            return;
        }
        serverLog(LL_NOTICE, "Failover to %s:%d completed: it is the primary now", repl.failover_host,
                  repl.failover_port);
        clearFailover();
    }
    if (!strncmp(reply, "+FULLRESYNC", 11)) {
        beginTransfer(reply);
    } else if (!strncmp(reply, "+CONTINUE", 9)) {
        continuePartialResync(reply);
    } else if (!strncmp(reply, "-NOMASTERLINK", 13) || !strncmp(reply, "-LOADING", 8)) {
        serverLog(LL_NOTICE, "Primary is currently unable to PSYNC but should be in the future: %s", reply);
        handshakeFailed();
    } else {
        serverLog(LL_WARNING, "Unexpected reply to PSYNC from primary: %s", reply);
        handshakeFailed();
    }
}

/* Events of the handshake: the connect, then one reply per state. */
static void handshakeHandler(aeEventLoop *el, int fd, void *privdata, int mask) {
    (void)el;
    (void)privdata;
    (void)mask;
    if (repl.state == REPL_STATE_CONNECTING) {
        int err = anetGetError(fd);
        if (err) {
            serverLog(LL_WARNING, "Error condition on socket for SYNC: %s", strerror(err));
            handshakeFailed();
            return;
        }
        serverLog(LL_NOTICE, "Non blocking connect for SYNC fired the event.");
        aeDeleteFileEvent(server.el, fd, AE_WRITABLE);
        repl.lastio = server.unixtime;
        const char *ping[1] = {"PING"};
        sendHandshakeStep(1, ping, REPL_STATE_RECEIVE_PING_REPLY);
        return;
    }
    int got = readReplyLine();
    if (got == -1) {
        handshakeFailed();
        return;
    }
    if (got == 0) return;
    sds reply = repl.line;
    repl.line = NULL;
    switch (repl.state) {
    case REPL_STATE_RECEIVE_PING_REPLY:
        /* Without AUTH the primary may refuse PING: AUTH comes next anyway. */
        if (reply[0] == '-' && strncmp(reply, "-NOAUTH", 7) && strncmp(reply, "-NOPERM", 7) &&
            strncmp(reply, "-ERR operation not permitted", 28)) {
            serverLog(LL_WARNING, "Error reply to PING from primary: '%s'", reply);
            handshakeFailed();
            break;
        }
        serverLog(LL_NOTICE, "Primary replied to PING, replication can continue...");
        sendAuth();
        break;
    case REPL_STATE_RECEIVE_AUTH_REPLY:
        if (reply[0] == '-') {
            serverLog(LL_WARNING, "Unable to AUTH to PRIMARY: %s", reply);
            handshakeFailed();
            break;
        }
        sendListeningPort();
        break;
    case REPL_STATE_RECEIVE_PORT_REPLY:
        if (reply[0] == '-')
            serverLog(LL_NOTICE, "(Non critical) Primary does not understand REPLCONF listening-port: %s", reply);
        sendAnnounceIp();
        break;
    case REPL_STATE_RECEIVE_IP_REPLY:
        if (reply[0] == '-')
            serverLog(LL_NOTICE, "(Non critical) Primary does not understand REPLCONF ip-address: %s", reply);
        sendCapa();
        break;
    case REPL_STATE_RECEIVE_CAPA_REPLY:
        if (reply[0] == '-')
            serverLog(LL_NOTICE, "(Non critical) Primary does not understand REPLCONF capa: %s", reply);
        sendPsync();
        break;
    case REPL_STATE_RECEIVE_PSYNC_REPLY:
        /* Newlines are the primary keeping the link alive before it answers. */
        if (reply[0] != '\0') handlePsyncReply(reply);
        break;
    default: break;
    }
    sdsfree(reply);
}

static void connectToPrimary(void) {
    char err[ANET_ERR_LEN];
    repl.fd = anetTcpNonBlockConnect(err, repl.primary_host, repl.primary_port);
    if (repl.fd == -1) {
        serverLog(LL_WARNING, "Unable to connect to PRIMARY: %s", err);
        handshakeFailed();
        return;
    }
    if (aeCreateFileEvent(server.el, repl.fd, AE_READABLE | AE_WRITABLE, handshakeHandler, NULL) == AE_ERR) {
        close(repl.fd);
        repl.fd = -1;
        repl.connect_failures++;
        scheduleReconnect();
        return;
    }
    repl.lastio = server.unixtime;
    repl.state = REPL_STATE_CONNECTING;
    serverLog(LL_NOTICE, "Connecting to PRIMARY %s:%d", repl.primary_host, repl.primary_port);
    serverLog(LL_NOTICE, "PRIMARY <-> REPLICA sync started");
}

/* ---- The RDB transfer ---- */

/* "$<len>" or "$EOF:<mark>"; newlines before it keep the link alive. 1 when read. */
static int readTransferHeader(void) {
    int got = readReplyLine();
    if (got <= 0) return got;
    sds line = repl.line;
    repl.line = NULL;
    int rc = 0;
    if (line[0] == '\0') {
        rc = 0;
    } else if (line[0] == '-') {
        serverLog(LL_WARNING, "PRIMARY aborted replication with an error: %s", line + 1);
        rc = -1;
    } else if (line[0] != '$') {
        serverLog(LL_WARNING,
                  "Bad protocol from PRIMARY, the first byte is not '$' (we received '%s'), are you sure the host "
                  "and port are right?",
                  line);
        rc = -1;
    } else if (!strncmp(line + 1, "EOF:", 4) && sdslen(line) >= 5 + REPL_EOF_MARK_SIZE) {
        repl.usemark = 1;
        memcpy(repl.eofmark, line + 5, REPL_EOF_MARK_SIZE);
        memset(repl.lastbytes, 0, sizeof(repl.lastbytes));
        repl.transfer_size = 0;
        serverLog(LL_NOTICE, "PRIMARY <-> REPLICA sync: receiving streamed RDB from primary with EOF to disk");
        rc = 1;
    } else {
        long long size;
        if (!string2ll(line + 1, sdslen(line) - 1, &size) || size < 0) {
            serverLog(LL_WARNING, "Bad bulk length from PRIMARY: %s", line);
            rc = -1;
        } else {
            repl.transfer_size = size;
            serverLog(LL_NOTICE, "PRIMARY <-> REPLICA sync: receiving %lld bytes from primary to disk", size);
            rc = 1;
        }
    }
    sdsfree(line);
    return rc;
}

static void updateLastBytes(const char *p, size_t n) {
    if (n >= REPL_EOF_MARK_SIZE) {
        memcpy(repl.lastbytes, p + n - REPL_EOF_MARK_SIZE, REPL_EOF_MARK_SIZE);
    } else {
        memmove(repl.lastbytes, repl.lastbytes + n, REPL_EOF_MARK_SIZE - n);
        memcpy(repl.lastbytes + REPL_EOF_MARK_SIZE - n, p, n);
    }
}

static int writeAll(int fd, const char *p, size_t len) {
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) {
            if (n == -1 && errno == EINTR) continue;
            return C_ERR;
        }
        p += n;
        len -= (size_t)n;
    }
    return C_OK;
}

void functionsFlushAll(void) __attribute__((weak));

/* The whole RDB is in the temp file: it replaces the dataset. */
static void loadTransferredRdb(void) {
    if (repl.usemark && ftruncate(repl.transfer_fd, repl.transfer_read - REPL_EOF_MARK_SIZE) == -1) {
        serverLog(LL_WARNING, "Error truncating the RDB file received from the primary: %s", strerror(errno));
        handshakeFailed();
        return;
    }
    close(repl.transfer_fd);
    repl.transfer_fd = -1;
    aeDeleteFileEvent(server.el, repl.fd, AE_READABLE | AE_WRITABLE);
    /* Our replicas followed the old dataset: they start over. */
    disconnectReplicas();
    freeBacklog();
    /* The AOF describes the old dataset: off now, rewritten from the new one after. */
    aofStopForFullSync();
    serverLog(LL_NOTICE, "PRIMARY <-> REPLICA sync: Flushing old data");
    emptyData(-1, repl_conf.lazy_flush ? EMPTYDB_ASYNC : EMPTYDB_NO_FLAGS, NULL);
    if (functionsFlushAll) functionsFlushAll();
    if (rename(repl.transfer_tmpfile, server.rdb_filename) == -1) {
        serverLog(LL_WARNING, "Failed trying to rename the temp DB into %s in PRIMARY <-> REPLICA synchronization: %s",
                  server.rdb_filename, strerror(errno));
        handshakeFailed();
        return;
    }
    repl.transfer_tmpfile[0] = '\0';
    serverLog(LL_NOTICE, "PRIMARY <-> REPLICA sync: Loading DB in memory");
    if (rdbLoad(server.rdb_filename, RDBFLAGS_REPLICATION | RDBFLAGS_KEEP_EXPIRED) != RDB_OK) {
        serverLog(LL_WARNING, "Failed trying to load the PRIMARY synchronization DB from disk, check server logs.");
        emptyData(-1, EMPTYDB_NO_FLAGS, NULL);
        aofRestartAfterFullSync();
        handshakeFailed();
        return;
    }
    aofRestartAfterFullSync();
    memcpy(repl.replid, repl.new_replid, sizeof(repl.replid));
    repl.offset = repl.new_offset;
    clearReplicationId2();
    createBacklog();
    /* A chained primary forwards its own primary's stream as it is: the RDB says which
     * database that stream had selected when the data was taken. */
    const rdbReplInfo *ri = rdbLoadedReplInfo();
    int stream_db = ri->valid && ri->stream_db < server.dbnum ? ri->stream_db : 0;
    if (attachPrimaryClient(stream_db) != C_OK) return;
    serverLog(LL_NOTICE, "PRIMARY <-> REPLICA sync: Finished with success");
    sendAck(); /* a primary that sent $EOF: waits for it before streaming */
}

static void readTransfer(aeEventLoop *el, int fd, void *privdata, int mask) {
    (void)el;
    (void)privdata;
    (void)mask;
    if (repl.transfer_size == -1) {
        int got = readTransferHeader();
        if (got == -1) handshakeFailed();
        return;
    }
    static char buf[REPL_IO_CHUNK];
    size_t want = sizeof(buf);
    if (!repl.usemark && (long long)want > repl.transfer_size - repl.transfer_read)
        want = (size_t)(repl.transfer_size - repl.transfer_read);
    ssize_t n = want ? read(fd, buf, want) : 0;
    if (want && n <= 0) {
        if (n == -1 && (errno == EAGAIN || errno == EINTR)) return;
        serverLog(LL_WARNING, "I/O error trying to sync with PRIMARY: %s",
                  n == 0 ? "connection lost" : strerror(errno));
        handshakeFailed();
        return;
    }
    if (n > 0) {
        server.stat_net_repl_input_bytes += n;
        repl.lastio = server.unixtime;
        if (repl.usemark) updateLastBytes(buf, (size_t)n);
        if (writeAll(repl.transfer_fd, buf, (size_t)n) != C_OK) {
            serverLog(LL_WARNING,
                      "Write error or short write writing to the DB dump file needed for PRIMARY <-> REPLICA "
                      "synchronization: %s",
                      strerror(errno));
            handshakeFailed();
            return;
        }
        repl.transfer_read += n;
    }
    int done = repl.usemark ? repl.transfer_read >= REPL_EOF_MARK_SIZE &&
                                  !memcmp(repl.lastbytes, repl.eofmark, REPL_EOF_MARK_SIZE)
                            : repl.transfer_read == repl.transfer_size;
    if (done) loadTransferredRdb();
}

/* ---- REPLICAOF ---- */

static void dropPrimaryLink(void) {
    if (repl.primary) {
        client *c = repl.primary;
        replicationFreeClient(c); /* caches it (when a primary is still set) */
        freeClient(c);
    }
    cancelHandshake();
}

static void setPrimary(const char *host, int port) {
    int was_primary = repl.primary_host == NULL;
    if (was_primary) {
        /* Clients blocked on keys would wait for writes that now come from elsewhere. */
        disconnectAllBlockedClients();
        /* Our own history, to resume from if the new primary continues it. */
        memcpy(repl.cached_replid, repl.replid, sizeof(repl.replid));
        repl.cached_offset = repl.offset;
        repl.cached_db = repl.replicas_eldb == -1 ? 0 : repl.replicas_eldb;
        repl.have_cached = 1;
        serverLog(LL_NOTICE, "Before turning into a replica, using my own primary parameters to synthesize a cached "
                             "primary: I may be able to synchronize with the new primary with just a partial "
                             "transfer.");
    }
    sdsfree(repl.primary_host);
    repl.primary_host = sdsnew(host);
    repl.primary_port = port;
    dropPrimaryLink();
    repl.state = REPL_STATE_CONNECT;
    repl.connect_failures = 0;
    connectToPrimary();
}

static void unsetPrimary(void) {
    sdsfree(repl.primary_host);
    repl.primary_host = NULL;
    dropPrimaryLink();
    repl.have_cached = 0;
    shiftReplicationId();
    /* Our history goes on, our next write names its database. */
    if (!repl.backlog) createBacklog();
    /* Our replicas reconnect and learn the new id with a partial resync. */
    disconnectReplicas();
    repl.replicas_eldb = -1;
    repl.state = REPL_STATE_NONE;
    repl.down_since = 0;
    repl.no_replicas_since = server.unixtime;
}

void replicaofCommand(client *c) {
    if (repl.failover_state != FAILOVER_NONE) {
        addReplyError(c, "REPLICAOF not allowed while failing over.");
        return;
    }
    const char *host = objectGetVal(c->argv[1]);
    if (!strcasecmp(host, "no") && !strcasecmp(objectGetVal(c->argv[2]), "one")) {
        if (repl.primary_host) {
            unsetPrimary();
            sds info = catClientInfoString(sdsempty(), c);
            serverLog(LL_NOTICE, "PRIMARY MODE enabled (user request from '%s')", info);
            sdsfree(info);
        }
        addReply(c, shared.ok);
        return;
    }
    if (c->flags & CLIENT_REPLICA) {
        addReplyError(c, "Command is not valid when client is a replica.");
        return;
    }
    long port;
    if (getRangeLongFromObjectOrReply(c, c->argv[2], 0, 65535, &port, "Invalid master port") != C_OK) return;
    if (repl.primary_host && !strcasecmp(repl.primary_host, host) && repl.primary_port == port) {
        serverLog(LL_NOTICE, "REPLICAOF would result into synchronization with the primary we are already connected "
                             "with. No operation performed.");
        addReplyStatus(c, "OK Already connected to specified master");
        return;
    }
    setPrimary(host, (int)port);
    sds info = catClientInfoString(sdsempty(), c);
    serverLog(LL_NOTICE, "REPLICAOF %s:%d enabled (user request from '%s')", repl.primary_host, repl.primary_port,
              info);
    sdsfree(info);
    addReply(c, shared.ok);
}

void slaveofCommand(client *c) {
    replicaofCommand(c);
}

/* ------------------------------------------------------------------------- */
/* Commands refused by the replication state                                   */
/* ------------------------------------------------------------------------- */

/* Writes refused whatever the command: on a read-only replica, or on a primary short
 * of good replicas (min-replicas-to-write). */
static int minReplicasEnforced(void) {
    return repl_conf.min_replicas_to_write && repl_conf.min_replicas_max_lag;
}

static robj *replicationWritesRefusal(void) {
    if (repl.primary_host) return repl_conf.replica_ro ? repl.readonly_err : NULL;
    if (minReplicasEnforced() && repl.good_replicas < repl_conf.min_replicas_to_write) return repl.noreplicas_err;
    return NULL;
}

robj *replicationWriteRefusal(client *c) {
    return mustObeyClient(c) ? NULL : replicationWritesRefusal();
}

robj *replicationCommandRefusal(client *c) {
    /* A primary without min-replicas refuses nothing: no per-command work then. */
    if ((!repl.primary_host && !minReplicasEnforced()) || mustObeyClient(c)) return NULL;
    if (commandMayWrite(c)) {
        robj *refusal = replicationWritesRefusal();
        if (refusal) return refusal;
    }
    if (repl.primary_host && repl.state != REPL_STATE_CONNECTED && !repl_conf.serve_stale_data &&
        (!(c->cmd->flags & CMD_STALE) ||
         (c->cmd->proc == execCommand && (c->flags & CLIENT_MULTI) && multiQueuedCommandLacks(c, CMD_STALE))))
        return repl.masterdown_err;
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* Cron                                                                        */
/* ------------------------------------------------------------------------- */

static void updateGoodReplicas(void) {
    int good = 0;
    if (repl.replicas) {
        listIter li;
        listNode *ln;
        listRewind(repl.replicas, &li);
        while ((ln = listNext(&li))) {
            replicaState *rs = replicaOf(listNodeValue(ln));
            if (rs->state == REPLICA_STATE_ONLINE && server.unixtime - rs->ack_time <= repl_conf.min_replicas_max_lag)
                good++;
        }
    }
    repl.good_replicas = good;
}

/* Replicas waiting for their RDB get a newline now and then, so that they do not time
 * out meanwhile; streaming replicas that stopped ACKing are dropped. */
static void primaryCronSecond(void) {
    if (!repl.replicas) return;
    listIter li;
    listNode *ln;
    listRewind(repl.replicas, &li);
    while ((ln = listNext(&li))) {
        client *r = listNodeValue(ln);
        replicaState *rs = replicaOf(r);
        if (rs->state == REPLICA_STATE_WAIT_BGSAVE_START || rs->state == REPLICA_STATE_WAIT_BGSAVE_END) {
            writeDirect(r, "\n", 1);
        } else if (rs->state == REPLICA_STATE_ONLINE && !rs->pre_psync &&
                   server.unixtime - rs->ack_time > repl_conf.timeout) {
            logReplica(LL_WARNING, "Disconnecting timedout replica (streaming sync): %s", r);
            freeClientAsync(r);
        }
    }
    /* A pause of writes stops the stream too (a failover waits for it to be still). */
    if (!repl.primary_host && listLength(repl.replicas) && !areClientsPaused() &&
        (repl.cron_seconds % repl_conf.ping_period) == 0) {
        const char *ping[1] = {"PING"};
        feedStreamCommand(1, ping);
    }
}

static void replicaCronSecond(void) {
    if (repl.state == REPL_STATE_CONNECTED && repl.primary) {
        if (server.unixtime - repl.primary->last_interaction > repl_conf.timeout) {
            serverLog(LL_WARNING, "PRIMARY timeout: no data nor PING received...");
            freeClient(repl.primary);
            return;
        }
        sendAck();
        return;
    }
    if (repl.state >= REPL_STATE_CONNECTING && repl.state <= REPL_STATE_TRANSFER &&
        server.unixtime - repl.lastio > repl_conf.timeout) {
        serverLog(LL_WARNING,
                  repl.state == REPL_STATE_TRANSFER
                      ? "Timeout receiving bulk data from PRIMARY... If the problem persists try to set the "
                        "'repl-timeout' parameter in valkey.conf to a larger value."
                      : "Timeout connecting to the PRIMARY...");
        handshakeFailed();
    }
}

static void backlogTtlCron(void) {
    if (!repl.backlog || repl.primary_host || !repl_conf.backlog_ttl) return;
    if (repl.replicas && listLength(repl.replicas)) return;
    if (server.unixtime - repl.no_replicas_since <= repl_conf.backlog_ttl) return;
    /* Replicas coming back now would find a history we no longer hold. */
    newReplicationId();
    clearReplicationId2();
    freeBacklog();
    serverLog(LL_NOTICE, "Replication backlog freed after %d seconds without connected replicas.",
              repl_conf.backlog_ttl);
}

void replicationCron(void) {
    if (repl.primary_host && repl.state == REPL_STATE_CONNECT && mstime() >= repl.next_connect_ms)
        connectToPrimary();
    mstime_t now = mstime();
    if (now - repl.last_cron_ms < REPL_CRON_PERIOD_MS) return;
    repl.last_cron_ms = now;
    repl.cron_seconds++;
    if (repl.primary_host) replicaCronSecond();
    primaryCronSecond();
    backlogTtlCron();
    updateGoodReplicas();
    startPendingSaves();
}

/* ------------------------------------------------------------------------- */
/* FAILOVER                                                                    */
/* ------------------------------------------------------------------------- */

static const char *failoverStateName(void) {
    switch (repl.failover_state) {
    case FAILOVER_WAIT_FOR_SYNC: return "waiting-for-sync";
    case FAILOVER_IN_PROGRESS: return "failover-in-progress";
    default: return "no-failover";
    }
}

/* The replica known by host:port (its announced or peer address, its listening port). */
static client *findReplicaByAddress(const char *host, long port) {
    listIter li;
    listNode *ln;
    listRewind(repl.replicas, &li);
    while ((ln = listNext(&li))) {
        client *r = listNodeValue(ln);
        char ip[NET_IP_STR_LEN];
        if (replicaAddress(r, ip, sizeof(ip)) != C_OK) continue;
        if (!strcasecmp(ip, host) && replicaOf(r)->listening_port == port) return r;
    }
    return NULL;
}

/* Streaming and has acknowledged the whole stream. */
static int replicaInSync(client *r) {
    replicaState *rs = replicaOf(r);
    return rs->state == REPLICA_STATE_ONLINE && rs->ack_off == repl.offset;
}

static client *firstReplicaInSync(void) {
    listIter li;
    listNode *ln;
    listRewind(repl.replicas, &li);
    while ((ln = listNext(&li)))
        if (replicaInSync(listNodeValue(ln))) return listNodeValue(ln);
    return NULL;
}

static void clearFailover(void) {
    sdsfree(repl.failover_host);
    repl.failover_host = NULL;
    repl.failover_port = 0;
    repl.failover_deadline = 0;
    repl.failover_force = 0;
    repl.failover_state = FAILOVER_NONE;
    unpauseActions(PAUSE_DURING_FAILOVER);
}

/* Back to a plain primary, writes resumed. */
static void abortFailover(const char *why) {
    if (repl.failover_state == FAILOVER_NONE) return;
    if (repl.failover_host)
        serverLog(LL_NOTICE, "FAILOVER to %s:%d aborted: %s", repl.failover_host, repl.failover_port, why);
    else
        serverLog(LL_NOTICE, "FAILOVER to any replica aborted: %s", why);
    if (repl.failover_state == FAILOVER_IN_PROGRESS) unsetPrimary();
    clearFailover();
}

static void handOverTo(const char *host, int port) {
    repl.failover_state = FAILOVER_IN_PROGRESS;
    setPrimary(host, port);
}

/* While waiting for sync: the target (or, without one, the first replica) has
 * acknowledged the whole stream, or the deadline came. */
static void updateFailover(void) {
    if (repl.failover_state != FAILOVER_WAIT_FOR_SYNC) return;
    if (repl.failover_deadline && mstime() >= repl.failover_deadline) {
        if (!repl.failover_force) {
            abortFailover("Replica never caught up before timeout");
            return;
        }
        serverLog(LL_NOTICE, "FAILOVER to %s:%d time out exceeded, failing over.", repl.failover_host,
                  repl.failover_port);
        handOverTo(repl.failover_host, repl.failover_port);
        return;
    }
    client *target = repl.failover_host ? findReplicaByAddress(repl.failover_host, repl.failover_port)
                                        : firstReplicaInSync();
    if (!target || !replicaInSync(target)) return;
    if (!repl.failover_host) {
        char ip[NET_IP_STR_LEN];
        if (replicaAddress(target, ip, sizeof(ip)) != C_OK) return;
        repl.failover_host = sdsnew(ip);
        repl.failover_port = replicaOf(target)->listening_port;
    }
    serverLog(LL_NOTICE, "Failover target %s:%d is synced, failing over.", repl.failover_host, repl.failover_port);
    handOverTo(repl.failover_host, repl.failover_port);
}

/* FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT */
void failoverCommand(client *c) {
    if (c->argc == 2 && !strcasecmp(objectGetVal(c->argv[1]), "abort")) {
        if (repl.failover_state == FAILOVER_NONE) {
            addReplyError(c, "No failover in progress.");
            return;
        }
        abortFailover("Failover manually aborted");
        addReply(c, shared.ok);
        return;
    }
    long timeout_ms = 0, port = 0;
    int force = 0;
    const char *host = NULL;
    for (int j = 1; j < c->argc; j++) {
        const char *opt = objectGetVal(c->argv[j]);
        if (!strcasecmp(opt, "timeout") && j + 1 < c->argc && timeout_ms == 0) {
            if (getLongFromObjectOrReply(c, c->argv[++j], &timeout_ms, NULL) != C_OK) return;
            if (timeout_ms <= 0) {
                addReplyError(c, "FAILOVER timeout must be greater than 0");
                return;
            }
        } else if (!strcasecmp(opt, "to") && j + 2 < c->argc && !host) {
            if (getLongFromObjectOrReply(c, c->argv[j + 2], &port, NULL) != C_OK) return;
            host = objectGetVal(c->argv[j + 1]);
            j += 2;
        } else if (!strcasecmp(opt, "force") && !force) {
            force = 1;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    if (repl.failover_state != FAILOVER_NONE) {
        addReplyError(c, "FAILOVER already in progress.");
        return;
    }
    if (repl.primary_host) {
        addReplyError(c, "FAILOVER is not valid when server is a replica.");
        return;
    }
    if (!repl.replicas || listLength(repl.replicas) == 0) {
        addReplyError(c, "FAILOVER requires connected replicas.");
        return;
    }
    if (force && (!timeout_ms || !host)) {
        addReplyError(c, "FAILOVER with force option requires both a timeout and target HOST and IP.");
        return;
    }
    if (host) {
        client *target = findReplicaByAddress(host, port);
        if (!target) {
            addReplyError(c, "FAILOVER target HOST and PORT is not a replica.");
            return;
        }
        if (replicaOf(target)->state != REPLICA_STATE_ONLINE) {
            addReplyError(c, "FAILOVER target replica is not online.");
            return;
        }
        repl.failover_host = sdsnew(host);
        repl.failover_port = (int)port;
        serverLog(LL_NOTICE, "FAILOVER requested to %s:%ld.", host, port);
    } else {
        serverLog(LL_NOTICE, "FAILOVER requested to any replica.");
    }
    repl.failover_deadline = timeout_ms ? mstime() + timeout_ms : 0;
    repl.failover_force = force;
    repl.failover_state = FAILOVER_WAIT_FOR_SYNC;
    /* No new writes, so the stream stops and a replica can acknowledge all of it. */
    pauseActions(PAUSE_DURING_FAILOVER, CLIENT_PAUSE_WRITE, PAUSE_FOREVER);
    addReply(c, shared.ok);
}

/* ------------------------------------------------------------------------- */
/* WAIT                                                                        */
/* ------------------------------------------------------------------------- */

/* Online replicas that acknowledged offset: as received, or (aof) as fsynced. */
static long countAcks(long long offset, int aof) {
    long n = 0;
    if (!repl.replicas) return 0;
    listIter li;
    listNode *ln;
    listRewind(repl.replicas, &li);
    while ((ln = listNext(&li))) {
        replicaState *rs = replicaOf(listNodeValue(ln));
        if (rs->state == REPLICA_STATE_ONLINE && (aof ? rs->aof_ack_off : rs->ack_off) >= offset) n++;
    }
    return n;
}

static long localFsynced(long long offset) {
    return aofFsyncedReplOffset() >= offset ? 1 : 0;
}

static void addReplyWaitaof(client *c, long local, long acked) {
    addReplyArrayLen(c, 2);
    addReplyLongLong(c, local);
    addReplyLongLong(c, acked);
}

static void addReplyWaitResult(client *c, waitingClient *w) {
    if (w->aof)
        addReplyWaitaof(c, localFsynced(w->offset), countAcks(w->offset, 1));
    else
        addReplyLongLong(c, countAcks(w->offset, 0));
}

#define WAITAOF_NO_AOF_ERR "WAITAOF cannot be used when numlocal is set but appendonly is disabled."

/* Blocks c until its writes (c->woff) are acknowledged as w asks, or the timeout. */
static void blockWaiting(client *c, mstime_t timeout, waitingClient tmpl) {
    waitingClient *w = zmalloc(sizeof(*w));
    *w = tmpl;
    w->c = c;
    w->offset = c->woff;
    if (!repl.waiting) repl.waiting = listCreate();
    listAddNodeTail(repl.waiting, w);
    blockClient(c, BLOCKED_WAIT, timeout, 0);
    if (w->numreplicas > 0) repl.get_ack = 1;
}

static listNode *findWaiting(client *c) {
    if (!repl.waiting) return NULL;
    listIter li;
    listNode *ln;
    listRewind(repl.waiting, &li);
    while ((ln = listNext(&li)))
        if (((waitingClient *)listNodeValue(ln))->c == c) return ln;
    return NULL;
}

static void waitTimeoutReply(client *c) {
    listNode *ln = findWaiting(c);
    if (ln) addReplyWaitResult(c, listNodeValue(ln));
    else addReplyLongLong(c, 0);
}

static void waitingClientUnblocked(client *c) {
    listNode *ln = findWaiting(c);
    if (!ln) return;
    zfree(listNodeValue(ln));
    listDelNode(repl.waiting, ln);
}

void waitCommand(client *c) {
    if (repl.primary_host) {
        addReplyError(c, "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a "
                         "replica is configured to be writable (which is not the default) writes to replicas are "
                         "just local and are not propagated.");
        return;
    }
    long numreplicas;
    mstime_t timeout;
    if (getLongFromObjectOrReply(c, c->argv[1], &numreplicas, NULL) != C_OK) return;
    if (getTimeoutFromObjectOrReply(c, c->argv[2], &timeout, UNIT_MILLISECONDS) != C_OK) return;
    long acked = countAcks(c->woff, 0);
    if (acked >= numreplicas || clientDeniesBlocking(c)) {
        addReplyLongLong(c, acked);
        return;
    }
    blockWaiting(c, timeout, (waitingClient){.numreplicas = numreplicas});
}

void waitaofCommand(client *c) {
    if (repl.primary_host) {
        addReplyError(c, "WAITAOF cannot be used with replica instances. Please also note that writes to replicas "
                         "are just local and are not propagated.");
        return;
    }
    long numlocal, numreplicas;
    mstime_t timeout;
    if (getRangeLongFromObjectOrReply(c, c->argv[1], 0, 1, &numlocal, NULL) != C_OK) return;
    if (getPositiveLongFromObjectOrReply(c, c->argv[2], &numreplicas, NULL) != C_OK) return;
    if (getTimeoutFromObjectOrReply(c, c->argv[3], &timeout, UNIT_MILLISECONDS) != C_OK) return;
    if (numlocal && !aofEnabled()) {
        addReplyError(c, WAITAOF_NO_AOF_ERR);
        return;
    }
    long local = localFsynced(c->woff), acked = countAcks(c->woff, 1);
    if ((local >= numlocal && acked >= numreplicas) || clientDeniesBlocking(c)) {
        addReplyWaitaof(c, local, acked);
        return;
    }
    blockWaiting(c, timeout, (waitingClient){.numreplicas = numreplicas, .aof = 1, .numlocal = numlocal});
}

static int waitSatisfied(waitingClient *w) {
    if (w->aof && localFsynced(w->offset) < w->numlocal) return 0;
    return countAcks(w->offset, w->aof) >= w->numreplicas;
}

static void processWaitingClients(void) {
    if (!repl.waiting || !listLength(repl.waiting)) return;
    listIter li;
    listNode *ln;
    listRewind(repl.waiting, &li);
    while ((ln = listNext(&li))) {
        waitingClient *w = listNodeValue(ln);
        client *c = w->c;
        if (w->aof && w->numlocal && !aofEnabled()) {
            unblockClientOnError(c, "-ERR " WAITAOF_NO_AOF_ERR); /* the unblock hook frees w */
            continue;
        }
        if (!waitSatisfied(w)) continue;
        addReplyWaitResult(c, w);
        updateStatsOnUnblock(c, 0);
        unblockClient(c, 1); /* the unblock hook frees w */
    }
}

/* After the AOF's write and fsync of this turn: WAITAOF waiters whose local fsync came
 * (or whose AOF was turned off), and on a replica an ACK when its fsynced offset moved. */
void replicationAfterAofFlush(void) {
    long long fsynced = aofFsyncedReplOffset();
    int aof_enabled = aofEnabled();
    if (fsynced == repl.local_fsynced && aof_enabled == repl.local_aof_enabled) return;
    repl.local_fsynced = fsynced;
    repl.local_aof_enabled = aof_enabled;
    if (repl.primary_host) {
        if (fsynced != -1 && fsynced != repl.fack_sent && repl.state == REPL_STATE_CONNECTED) sendAck();
    } else {
        processWaitingClients();
    }
}

void replicationBeforeSleep(void) {
    if (repl.acks_changed) {
        repl.acks_changed = 0;
        processWaitingClients();
    }
    updateFailover();
    if (repl.get_ack && repl.backlog && !repl.primary_host && !areClientsPaused()) {
        const char *getack[3] = {"REPLCONF", "GETACK", "*"};
        feedStreamCommand(3, getack);
    }
    repl.get_ack = 0;
}

/* ------------------------------------------------------------------------- */
/* ROLE and INFO                                                               */
/* ------------------------------------------------------------------------- */

static const char *linkStateName(void) {
    switch (repl.state) {
    case REPL_STATE_NONE: return "none";
    case REPL_STATE_CONNECT: return "connect";
    case REPL_STATE_CONNECTING: return "connecting";
    case REPL_STATE_TRANSFER: return "sync";
    case REPL_STATE_CONNECTED: return "connected";
    default: return "handshake";
    }
}

static const char *replicaStateName(int state) {
    switch (state) {
    case REPLICA_STATE_WAIT_BGSAVE_START:
    case REPLICA_STATE_WAIT_BGSAVE_END: return "wait_bgsave";
    case REPLICA_STATE_SEND_BULK: return "send_bulk";
    case REPLICA_STATE_ONLINE: return "online";
    default: return "";
    }
}

/* The address a replica is known by: what it announced, else its peer address. */
static int replicaAddress(client *c, char *ip, size_t len) {
    replicaState *rs = c->repl_data;
    if (rs->announced_ip) {
        snprintf(ip, len, "%s", rs->announced_ip);
        return C_OK;
    }
    int port;
    return anetFdToString(c->fd, ip, len, &port, 1) == -1 ? C_ERR : C_OK;
}

void roleCommand(client *c) {
    if (repl.primary_host) {
        addReplyArrayLen(c, 5);
        addReplyBulkCString(c, "slave");
        addReplyBulkCString(c, repl.primary_host);
        addReplyLongLong(c, repl.primary_port);
        addReplyBulkCString(c, linkStateName());
        addReplyLongLong(c, repl.primary ? repl.offset : -1);
        return;
    }
    addReplyArrayLen(c, 3);
    addReplyBulkCString(c, "master");
    addReplyLongLong(c, repl.offset);
    void *len = addReplyDeferredLen(c);
    long n = 0;
    if (repl.replicas) {
        listIter li;
        listNode *ln;
        listRewind(repl.replicas, &li);
        while ((ln = listNext(&li))) {
            client *r = listNodeValue(ln);
            replicaState *rs = replicaOf(r);
            char ip[NET_IP_STR_LEN];
            if (rs->state != REPLICA_STATE_ONLINE || replicaAddress(r, ip, sizeof(ip)) != C_OK) continue;
            addReplyArrayLen(c, 3);
            addReplyBulkCString(c, ip);
            addReplyBulkLongLong(c, rs->listening_port);
            addReplyBulkLongLong(c, rs->ack_off);
            n++;
        }
    }
    setDeferredArrayLen(c, len, n);
}

static sds infoReplicaFields(sds info) {
    long long applied = 1, read = 1;
    if (repl.primary) {
        applied = repl.offset;
        read = applied + (repl.primary->querybuf ? (long long)(sdslen(repl.primary->querybuf) -
                                                               repl.primary->repl_applied)
                                                 : 0);
    } else if (repl.have_cached) {
        applied = read = repl.cached_offset;
    }
    info = sdscatprintf(info,
                        "master_host:%s\r\n"
                        "master_port:%d\r\n"
                        "master_link_status:%s\r\n"
                        "master_last_io_seconds_ago:%d\r\n"
                        "master_sync_in_progress:%d\r\n"
                        "slave_read_repl_offset:%lld\r\n"
                        "slave_repl_offset:%lld\r\n"
                        "replicas_repl_buffer_size:0\r\n"
                        "replicas_repl_buffer_peak:0\r\n",
                        repl.primary_host, repl.primary_port, repl.state == REPL_STATE_CONNECTED ? "up" : "down",
                        repl.primary ? (int)(server.unixtime - repl.primary->last_interaction) : -1,
                        repl.state == REPL_STATE_TRANSFER, read, applied);
    if (repl.state == REPL_STATE_TRANSFER) {
        long long total = repl.usemark ? -1 : repl.transfer_size;
        double perc = total > 0 ? (double)repl.transfer_read / (double)total * 100 : 0;
        info = sdscatprintf(info,
                            "master_sync_total_bytes:%lld\r\n"
                            "master_sync_read_bytes:%lld\r\n"
                            "master_sync_left_bytes:%lld\r\n"
                            "master_sync_perc:%.2f\r\n"
                            "master_sync_last_io_seconds_ago:%d\r\n",
                            total, repl.transfer_read, total - repl.transfer_read, perc,
                            (int)(server.unixtime - repl.lastio));
    }
    if (repl.state != REPL_STATE_CONNECTED)
        info = sdscatprintf(info, "master_link_down_since_seconds:%lld\r\n",
                            repl.down_since ? (long long)(server.unixtime - repl.down_since) : -1LL);
    return sdscatprintf(info,
                        "slave_priority:%d\r\n"
                        "slave_read_only:%d\r\n"
                        "replica_announced:%d\r\n",
                        repl_conf.priority, repl_conf.replica_ro, repl_conf.announced);
}

static sds infoReplicaLines(sds info) {
    if (!repl.replicas) return info;
    int id = 0;
    listIter li;
    listNode *ln;
    listRewind(repl.replicas, &li);
    while ((ln = listNext(&li))) {
        client *r = listNodeValue(ln);
        replicaState *rs = replicaOf(r);
        char ip[NET_IP_STR_LEN];
        const char *state = replicaStateName(rs->state);
        if (!state[0] || replicaAddress(r, ip, sizeof(ip)) != C_OK) continue;
        long lag = rs->state == REPLICA_STATE_ONLINE ? (long)(time(NULL) - rs->ack_time) : 0;
        info = sdscatprintf(info, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=%ld\r\n", id++, ip,
                            rs->listening_port, state, rs->ack_off, lag);
    }
    return info;
}

sds replicationInfoSection(sds info) {
    info = sdscatprintf(info, "# Replication\r\nrole:%s\r\n", repl.primary_host ? "slave" : "master");
    if (repl.primary_host) info = infoReplicaFields(info);
    info = sdscatprintf(info, "connected_slaves:%lu\r\n", repl.replicas ? listLength(repl.replicas) : 0UL);
    if (minReplicasEnforced())
        info = sdscatprintf(info, "min_slaves_good_slaves:%d\r\n", repl.good_replicas);
    info = infoReplicaLines(info);
    replBacklog *b = repl.backlog;
    return sdscatprintf(info,
                        "replicas_waiting_psync:0\r\n"
                        "master_failover_state:%s\r\n"
                        "master_replid:%s\r\n"
                        "master_replid2:%s\r\n"
                        "master_repl_offset:%lld\r\n"
                        "second_repl_offset:%lld\r\n"
                        "repl_backlog_active:%d\r\n"
                        "repl_backlog_size:%lld\r\n"
                        "repl_backlog_first_byte_offset:%lld\r\n"
                        "repl_backlog_histlen:%lld\r\n",
                        failoverStateName(), repl.replid, repl.replid2, repl.offset, repl.second_replid_offset,
                        b != NULL,
                        repl_conf.backlog_size, b ? b->offset : 0, b ? b->histlen : 0);
}

/* ------------------------------------------------------------------------- */
/* Start-up                                                                    */
/* ------------------------------------------------------------------------- */

static robj *sharedError(const char *text) {
    return makeObjectShared(createObject(OBJ_STRING, sdsnew(text)));
}

int replicationRdbSaveInfo(rdbReplInfo *ri) {
    memset(ri, 0, sizeof(*ri));
    if (repl.primary_host) {
        if (repl.primary) {
            ri->stream_db = repl.primary->db->id;
        } else if (repl.have_cached) {
            ri->stream_db = repl.cached_db;
        } else {
            return 0;
        }
    } else {
        if (!repl.backlog) return 0;
        ri->stream_db = repl.replicas_eldb == -1 ? 0 : repl.replicas_eldb;
    }
    memcpy(ri->replid, repl.replid, sizeof(ri->replid));
    ri->offset = repl.offset;
    ri->valid = 1;
    return 1;
}

/* The RDB loaded at start-up may say where a replication stream stood: a replica offers
 * it to its primary for a partial resync, a primary takes the history back (with an
 * empty backlog at that offset) so that its replicas can resume after its restart. */
static void restoreReplicationFromRdb(void) {
    const rdbReplInfo *ri = rdbLoadedReplInfo();
    if (!ri->valid || ri->stream_db >= server.dbnum) return;
    if (repl.primary_host) {
        memcpy(repl.cached_replid, ri->replid, sizeof(repl.cached_replid));
        repl.cached_offset = ri->offset;
        repl.cached_db = ri->stream_db;
        repl.have_cached = 1;
        memcpy(repl.replid, ri->replid, sizeof(repl.replid));
        repl.offset = ri->offset;
        serverLog(LL_NOTICE, "Using the replication ID %s and offset %lld of the RDB file for a partial resync",
                  ri->replid, ri->offset);
    } else {
        memcpy(repl.replid, ri->replid, sizeof(repl.replid));
        repl.offset = ri->offset;
        createBacklog();
        serverLog(LL_NOTICE, "Replication ID %s and offset %lld restored from the RDB file", ri->replid,
                  ri->offset);
    }
}

void replicationInit(void) {
    newReplicationId();
    clearReplicationId2();
    restoreReplicationFromRdb();
    repl.replicas = listCreate();
    repl.no_replicas_since = server.unixtime;
    repl.readonly_err = sharedError("-READONLY You can't write against a read only replica.\r\n");
    repl.masterdown_err =
        sharedError("-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n");
    repl.noreplicas_err = sharedError("-NOREPLICAS Not enough good replicas to write.\r\n");
    blockedRegisterTimeoutReply(BLOCKED_WAIT, waitTimeoutReply);
    blockedRegisterUnblockHook(BLOCKED_WAIT, waitingClientUnblocked);
    evictionRegisterNotCountedMemoryProc(replicationNotCountedMemory);
    if (repl.primary_host) {
        /* replicaof in the config: the cron connects. */
        repl.state = REPL_STATE_CONNECT;
        repl.next_connect_ms = 0;
    }
}
