/* networking.h -- clients: connection lifecycle, RESP2/RESP3 parsing of requests,
 * building replies, output buffers and their limits, and the CLIENT/HELLO family.
 *
 * A client reads into its query buffer, parses complete commands into argv, and
 * hands each to processCommand() (commands.h). Replies are appended to a fixed
 * per-client buffer, spilling into a list of reply blocks, and written out before
 * the event loop sleeps (handleClientsWithPendingWrites), with a writable event as
 * the fallback when the socket cannot take everything.
 */
#ifndef NETWORKING_H
#define NETWORKING_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "sds.h"
#include "object.h"
#include "adlist.h"

struct serverDb;
struct serverCommand;
typedef long long mstime_t; /* same as server.h; C11 allows the repeat */

#define PROTO_IOBUF_LEN (1024 * 16)        /* read chunk */
#define PROTO_REPLY_CHUNK_BYTES (16 * 1024) /* static reply buffer / block size */
#define PROTO_INLINE_MAX_SIZE (1024 * 64)   /* max inline request */
#define PROTO_MBULK_BIG_ARG (1024 * 32)
#define PROTO_RESIZE_THRESHOLD (1024 * 32)
#define NET_IP_STR_LEN 46
#define NET_ADDR_STR_LEN (NET_IP_STR_LEN + 32)
#define CLIENT_NAME_MAX_LEN 512 /* informational */

/* Request types. */
#define PROTO_REQ_INLINE 1
#define PROTO_REQ_MULTIBULK 2

/* Client flags (64 bits). Bits other engineers may set are here too so they never clash. */
#define CLIENT_REPLICA (1ULL << 0)
#define CLIENT_PRIMARY (1ULL << 1)
#define CLIENT_MONITOR (1ULL << 2)
#define CLIENT_MULTI (1ULL << 3)
#define CLIENT_BLOCKED (1ULL << 4)
#define CLIENT_DIRTY_CAS (1ULL << 5)
#define CLIENT_CLOSE_AFTER_REPLY (1ULL << 6)
#define CLIENT_UNBLOCKED (1ULL << 7)
#define CLIENT_SCRIPT (1ULL << 8)
#define CLIENT_ASKING (1ULL << 9)
#define CLIENT_CLOSE_ASAP (1ULL << 10)
#define CLIENT_UNIX_SOCKET (1ULL << 11)
#define CLIENT_DIRTY_EXEC (1ULL << 12)
#define CLIENT_PENDING_WRITE (1ULL << 13)
#define CLIENT_REPLY_OFF (1ULL << 14)
#define CLIENT_REPLY_SKIP_NEXT (1ULL << 15)
#define CLIENT_REPLY_SKIP (1ULL << 16)
#define CLIENT_READONLY (1ULL << 17)
#define CLIENT_PUBSUB (1ULL << 18)
#define CLIENT_PREVENT_AOF_PROP (1ULL << 19)
#define CLIENT_PREVENT_REPL_PROP (1ULL << 20)
#define CLIENT_PENDING_COMMAND (1ULL << 21)
#define CLIENT_TRACKING (1ULL << 22)
#define CLIENT_PROTECTED (1ULL << 23)
#define CLIENT_EXECUTING_COMMAND (1ULL << 24)
#define CLIENT_AUTHENTICATED (1ULL << 25)
#define CLIENT_NO_EVICT (1ULL << 26)
#define CLIENT_NO_TOUCH (1ULL << 27)
#define CLIENT_DENY_BLOCKING (1ULL << 28)
#define CLIENT_REPL_RDBONLY (1ULL << 29)
#define CLIENT_IN_TO_TABLE (1ULL << 30)
#define CLIENT_PUSHING (1ULL << 31)
#define CLIENT_MODULE (1ULL << 32)
#define CLIENT_TIERING_WAIT (1ULL << 33) /* blocked until cold values are read back */
#define CLIENT_FAKE (1ULL << 34)          /* no connection: AOF loading, scripts */
#define CLIENT_REPROCESSING_COMMAND (1ULL << 35)
#define CLIENT_PAUSED (1ULL << 36)
#define CLIENT_CAPA_REDIRECT (1ULL << 37)   /* CLIENT CAPA redirect */
#define CLIENT_PENDING_RESUME (1ULL << 38)  /* queued to run its postponed command */
#define CLIENT_PROTOCOL_ERROR (1ULL << 39)  /* closing after a protocol error */

/* Blocking reasons (blocked.c later). */
#define BLOCKED_NONE 0
#define BLOCKED_LIST 1
#define BLOCKED_WAIT 2
#define BLOCKED_MODULE 3
#define BLOCKED_STREAM 4
#define BLOCKED_ZSET 5
#define BLOCKED_POSTPONE 6
#define BLOCKED_SHUTDOWN 7
#define BLOCKED_TIERING 8
#define BLOCKED_MIGRATE 9 /* MIGRATE & co waiting for the target (migrate.c) */
#define BLOCKED_NUM 10

/* Reply blocks after the static buffer is full. */
typedef struct clientReplyBlock {
    size_t size, used;
    char buf[];
} clientReplyBlock;

typedef struct client {
    uint64_t id;
    int fd;                        /* -1 for fake clients */
    int resp;                      /* 2 or 3 */
    uint64_t flags;
    struct serverDb *db;
    robj *name;                    /* CLIENT SETNAME, NULL if unset */
    robj *lib_name;                /* CLIENT SETINFO LIB-NAME */
    robj *lib_ver;                 /* CLIENT SETINFO LIB-VER */
    char *user_name;               /* "default" until ACL lands */
    sds querybuf;
    size_t qb_pos;                 /* parsed up to here */
    size_t querybuf_peak;
    int argc;
    int argv_len;                  /* allocated slots in argv */
    robj **argv;
    size_t argv_len_sum;           /* bytes of argv, for memory accounting */
    robj **original_argv;          /* before a rewrite for propagation */
    int original_argc;
    struct serverCommand *cmd, *lastcmd, *realcmd;
    int reqtype;
    int multibulklen;              /* remaining args of the current request */
    long bulklen;                  /* length of the current bulk, -1 if unknown */
    list *reply;                   /* clientReplyBlock list */
    unsigned long long reply_bytes; /* total bytes in the reply list */
    size_t sentlen;                /* sent bytes of the current buffer/block */
    time_t ctime;                  /* creation, seconds */
    long duration;                 /* current command's time, us */
    int slot;
    time_t last_interaction;       /* seconds, for "timeout" */
    time_t obuf_soft_limit_reached_time;
    int bufpos;
    size_t buf_usable_size;
    char *buf;                     /* static reply buffer */
    size_t buf_peak;
    mstime_t buf_peak_last_reset_time;
    listNode *client_list_node;    /* in server.clients, for O(1) unlink */
    listNode *pending_write_node;
    int btype;                     /* BLOCKED_* when CLIENT_BLOCKED */
    void *bstate;                  /* blocking state, owned by the blocking subsystem */
    void *mstate;                  /* MULTI state, owned by multi.c */
    void *pubsub_state;            /* subscriptions, owned by pubsub.c */
    void *tier_wait;               /* tiering: pending cold reads, owned by src/tier */
    void *repl_data;               /* replication: a replica's state, owned by replication.c */
    size_t repl_applied;           /* primary link: querybuf bytes applied and passed on */
    char *peerid;                  /* "ip:port" cached, NULL until asked */
    char *sockname;
    long long woff;
    unsigned long long commands_processed;
    unsigned long long net_input_bytes;
    unsigned long long net_output_bytes;
    unsigned long long read_pass; /* the write pass during whose turn it last sent data */
    unsigned long long net_input_bytes_curr_cmd;
    unsigned long long net_output_bytes_curr_cmd;
    size_t last_memory_usage;
    int last_memory_type;
    listNode *mem_usage_bucket_node;
    void *mem_usage_bucket;
    /* Owned by networking.c: list links embedded in the client so that queueing it for
     * a write or a resume costs no allocation. */
    listNode pending_write_lnode;  /* pending_write_node points here while queued */
    listNode *paused_node;         /* in server.paused_clients while postponed */
    listNode *resume_node;         /* in the resume queue after an unpause */
} client;

/* ---- Client lifecycle ---- */
client *createClient(int fd);     /* fd -1: a fake client with no connection */
void freeClient(client *c);
void freeClientAsync(client *c);
int freeClientsInAsyncFreeQueue(void);
void resetClient(client *c);      /* ready for the next command */
void freeClientArgv(client *c);
void unlinkClient(client *c);
client *lookupClientByID(uint64_t id);
int clientHasPendingReplies(client *c);
int getClientType(client *c);
int getClientTypeByName(const char *name);
const char *getClientTypeName(int class);
char *getClientPeerId(client *c);
char *getClientSockname(client *c);
sds catClientInfoString(sds s, client *c);
sds getAllClientsInfoString(int type);
size_t getClientOutputBufferMemoryUsage(client *c);
size_t getClientMemoryUsage(client *c, size_t *output_buffer_mem_usage);
/* Refreshes c's share of server.stat_clients_type_memory (maxmemory-clients, INFO). */
void updateClientMemUsage(client *c);
int checkClientOutputBufferLimits(client *c);
int closeClientOnOutputBufferLimitReached(client *c, int async);
void clientsCron(void);           /* called by serverCron: timeouts, buffer resizes */
void rewriteClientCommandVector(client *c, int argc, ...);
void rewriteClientCommandArgument(client *c, int i, robj *newval);
void replaceClientCommandVector(client *c, int argc, robj **argv);
void commandProcessed(client *c);
int processInputBuffer(client *c);  /* C_ERR if the client was freed */
/* Runs a command left pending (postponed by a pause, or unblocked) and then whatever is
 * left in the query buffer. C_ERR if the client was freed. */
int processPendingCommandAndInputBuffer(client *c);
void processEventsWhileBlocked(void);
int isProcessingEventsWhileBlocked(void);
/* A protected client is neither read, written nor freed (freeClient defers it) until
 * unprotected: the caller of a script that lets the event loop run meanwhile. */
void protectClient(client *c);
void unprotectClient(client *c);
void freeClientOriginalArgv(client *c);
/* Replaces argument i with "(redacted)" for MONITOR and the slowlog (AUTH passwords). */
void redactClientCommandArgument(client *c, int argc);
int prepareClientToWrite(client *c); /* C_OK if replies to c should be buffered */
/* Authentication against the default user (requirepass) until ACLs land. */
int clientIsAuthenticated(client *c);
void clientSetDefaultAuth(client *c);
/* INFO clients: the biggest input/output buffers seen over the last few seconds. */
void getExpansiveClientsInfo(size_t *in_usage, size_t *out_usage);
/* Clients whose output is (or will be) written by handleClientsWithPendingWrites. */
void putClientInPendingWriteQueue(client *c);

/* Listening sockets and connection accept. */
int listenToPort(int port, int *fds, int *count);
int initListeners(void);
void closeListeningSockets(int unlink_unix_socket);

/* Output. */
int handleClientsWithPendingWrites(void);
int writeToClient(client *c, int handler_installed);
void flushClientOutputSync(client *c); /* before closing on a protocol error */

/* CLIENT PAUSE, and the pause of a FAILOVER: each purpose pauses (CLIENT_PAUSE_WRITE
 * or _ALL) until its end time or its unpause; the strictest pause in force applies. */
#define PAUSE_BY_CLIENT_COMMAND 0
#define PAUSE_DURING_FAILOVER 1
#define PAUSE_PURPOSES 2
#define PAUSE_FOREVER LLONG_MAX
void pauseActions(int purpose, int type, mstime_t end);
void unpauseActions(int purpose);
int areClientsPaused(void);
int checkClientPauseTimeoutAndReturnIfPaused(void);
void blockPostponeClient(client *c);

/* ---- Replies ---- */
void addReply(client *c, robj *obj);             /* protocol bytes held by a string object */
void addReplySds(client *c, sds s);              /* takes ownership of s */
void addReplyProto(client *c, const char *s, size_t len);
void addReplyBulk(client *c, robj *obj);
void addReplyBulkCString(client *c, const char *s); /* NULL -> null */
void addReplyBulkCBuffer(client *c, const void *p, size_t len);
void addReplyBulkSds(client *c, sds s);          /* takes ownership of s */
void addReplyBulkLongLong(client *c, long long ll);
void addReplyLongLong(client *c, long long ll);
void addReplyLongLongWithPrefix(client *c, long long ll, char prefix);
void addReplyDouble(client *c, double d);        /* RESP3 ,d ; RESP2 bulk string */
void addReplyHumanLongDouble(client *c, long double d); /* bulk string, INCRBYFLOAT style */
void addReplyBigNum(client *c, const char *num, size_t len);
void addReplyBool(client *c, int b);             /* RESP3 #t/#f ; RESP2 :1/:0 */
void addReplyVerbatim(client *c, const char *s, size_t len, const char *ext);
void addReplyNull(client *c);                    /* RESP3 _ ; RESP2 $-1 */
void addReplyNullArray(client *c);               /* RESP3 _ ; RESP2 *-1 */
void addReplyStatus(client *c, const char *status);     /* +status */
void addReplyStatusLength(client *c, const char *s, size_t len);
void addReplyStatusFormat(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void addReplyArrayLen(client *c, long length);
void addReplyMapLen(client *c, long length);     /* RESP3 % ; RESP2 *2n */
void addReplySetLen(client *c, long length);     /* RESP3 ~ ; RESP2 * */
void addReplyAttributeLen(client *c, long length);
void addReplyPushLen(client *c, long length);    /* RESP3 > ; RESP2 * */
void addReplyEmptyArray(client *c);              /* "*0" */
void *addReplyDeferredLen(client *c);
void setDeferredArrayLen(client *c, void *node, long length);
void setDeferredMapLen(client *c, void *node, long length);
void setDeferredSetLen(client *c, void *node, long length);
void setDeferredAttributeLen(client *c, void *node, long length);
void setDeferredReplyBulkSds(client *c, void *node, sds s);
void addReplyHelp(client *c, const char **help);  /* NULL-terminated lines, after "<CMD> <subcommand> ..." */
void addReplySubcommandSyntaxError(client *c);
void addReplyLoadedModules(client *c);
void addReplyIsNullOrEmpty(client *c);            /* RESP2 "*0", RESP3 null */
/* Errors. The message is the text after the '-'. When it starts with '-' (e.g.
 * "-NOSCRIPT ...") or with one of the known error codes listed in replies.c (e.g.
 * "WRONGTYPE ...", "NOAUTH ..."), it is sent as is; otherwise "ERR " is prepended, so
 * "CLIENT PAUSE mode must be ..." becomes "-ERR CLIENT PAUSE mode must be ...". CR and LF
 * inside the message become spaces. Every error reply is counted in INFO errorstats
 * (incrementErrorCount) unless ERR_REPLY_FLAG_NO_STATS_UPDATE is given. */
void addReplyError(client *c, const char *err);
void addReplyErrorLength(client *c, const char *s, size_t len);
void addReplyErrorSds(client *c, sds err);       /* takes ownership */
void addReplyErrorObject(client *c, robj *err);  /* a shared error like shared.syntaxerr */
void addReplyErrorFormat(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void addReplyErrorArity(client *c);
void addReplyErrorExpireTime(client *c);
void addReplyErrorFormatEx(client *c, int flags, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define ERR_REPLY_FLAG_NO_STATS_UPDATE (1ULL << 0)
void afterErrorReply(client *c, const char *s, size_t len, int flags);
/* Replies to a client other than the current one (pub/sub pushes, MONITOR). */
/* Sends c the pushes held back for it while its own command ran (nothing when they are
 * another client's). NULL drops whatever is held (its client was freed meanwhile). */
void flushPendingPushMessages(client *c);

/* Argument parsing that replies on error (returns C_OK/C_ERR). */
int getLongLongFromObjectOrReply(client *c, robj *o, long long *target, const char *msg);
int getLongFromObjectOrReply(client *c, robj *o, long *target, const char *msg);
int getIntFromObjectOrReply(client *c, robj *o, int *target, const char *msg);
int getRangeLongFromObjectOrReply(client *c, robj *o, long min, long max, long *target, const char *msg);
int getPositiveLongFromObjectOrReply(client *c, robj *o, long *target, const char *msg);
int getDoubleFromObjectOrReply(client *c, robj *o, double *target, const char *msg);
int getLongDoubleFromObjectOrReply(client *c, robj *o, long double *target, const char *msg);
int checkType(client *c, robj *o, int type);     /* replies WRONGTYPE and returns 1 on mismatch */

/* MONITOR feed. */
void replicationFeedMonitors(client *c, list *monitors, int dictid, robj **argv, int argc);

/* ---- Hooks into subsystems that arrive later ----
 * networking.c holds weak, do-nothing (or minimal) definitions; the owning subsystem
 * overrides them with a strong definition of the same signature.
 *   blocked.c:  unblockClient (free/unblock a client blocked on keys, WAIT, ...),
 *               unblockClientOnTimeout / unblockClientOnError (CLIENT UNBLOCK).
 *   multi.c:    freeClientMultiState (queued commands + watched keys, on free),
 *               discardTransaction (RESET), getClientMultiInfo (CLIENT LIST multi/watch).
 *   pubsub.c:   freeClientPubSubData (unsubscribe everything, no notification),
 *               getClientPubSubCounts (CLIENT LIST sub/psub/ssub).
 *   tracking.c: disableTracking. */
void unblockClient(client *c, int queue_for_reprocessing);
void unblockClientOnTimeout(client *c);
void unblockClientOnError(client *c, const char *err_str);
void freeClientMultiState(client *c);
void discardTransaction(client *c);
void getClientMultiInfo(client *c, long *queued, long *watched_keys, size_t *mem);
void freeClientPubSubData(client *c);
void getClientPubSubCounts(client *c, long *channels, long *patterns, long *shard_channels);
void disableTracking(client *c);

#endif
