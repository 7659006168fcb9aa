/* networking.c -- client connections: listening and accepting, the client life cycle,
 * reading and parsing requests (inline and multibulk RESP), running them, writing the
 * replies, output buffer limits, CLIENT PAUSE, and the per-client cron work.
 *
 * Reading. A client with nothing pending reads into one query buffer shared by all
 * clients; when the read leaves an incomplete command behind, the client keeps that
 * buffer and the next reader gets a fresh one. An idle client therefore holds no query
 * buffer at all. A bulk argument of PROTO_MBULK_BIG_ARG bytes or more is read into a
 * buffer sized exactly for it, which then becomes the argument object without a copy.
 *
 * Running. Complete commands are handed to processCommand() one after another until the
 * buffer is exhausted or the client blocks (a blocking command, or a CLIENT PAUSE that
 * postpones it). A postponed client is resumed from handleClientsWithPendingWrites()
 * once the pause ends.
 *
 * Writing. Replies (replies.c) accumulate in the client's fixed buffer and reply list;
 * the client is queued on server.clients_pending_write and written before the event
 * loop sleeps. Only when the socket cannot take everything is a writable handler
 * installed.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ae.h"
#include "anet.h"
#include "commands.h"
#include "db.h"
#include "evict.h"
#include "hashtable.h"
#include "networking.h"
#include "tier/tier.h"
#include "aof.h"
#include "replication.h"
#include "server.h"
#include "util.h"
#include "zmalloc.h"

#define MAX_ACCEPTS_PER_CALL 1000
/* Bytes written to one client per event loop turn before giving others a chance. */
#define NET_MAX_WRITES_PER_EVENT (1024 * 64)
/* Reply blocks gathered into one writev(). */
#define NET_WRITEV_MAX_IOV 16
/* A multibulk count or bulk length above these requires an authenticated client. */
#define PROTO_UNAUTH_MAX_MULTIBULK 10
#define PROTO_UNAUTH_MAX_BULK 16384
#define PROTO_UNAUTH_MAX_QUERYBUF (1024 * 1024)
/* Argument arrays up to this many slots are kept between commands. */
#define ARGV_CACHE_MAX_SLOTS 128
#define ARGV_INITIAL_MAX_SLOTS 1024
/* Fixed reply buffer resizing by the cron. */
#define PROTO_REPLY_MIN_BYTES 1024
#define REPLY_BUFFER_PEAK_RESET_MS 100
/* An empty private query buffer idle this long goes back to the shared one. */
#define QUERYBUF_IDLE_FREE_SECONDS 2
#define CLIENTS_CRON_MIN_ITERATIONS 5
#define CLIENTS_PEAK_MEM_USAGE_SLOTS 8
/* Bytes of the query buffer quoted in the log on a protocol error. */
#define PROTO_DUMP_LEN 128

static const char *const max_clients_reply = "-ERR max number of clients reached\r\n";
static const char *const protected_mode_reply =
    "-DENIED Running in protected mode because protected mode is enabled and no password is set for the "
    "default user. In this mode connections are only accepted from the loopback interface. If you want to "
    "connect from external computers, you may adopt one of the following solutions: 1) Just disable "
    "protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by "
    "connecting from the same host the server is running, however MAKE SURE it's not publicly accessible "
    "from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can "
    "just disable the protected mode by editing the configuration file, and setting the protected mode "
    "option to 'no', and then restarting the server. 3) If you started the server manually just for "
    "testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for "
    "the default user. NOTE: You only need to do one of the above things in order for the server to start "
    "accepting connections from the outside.\r\n";

/* The query buffer lent to whichever client reads next (see the top comment). */
static sds shared_qb = NULL;
static client *shared_qb_user = NULL; /* who holds it now (reads nested in a command) */
/* Clients whose postponed command runs again now that the pause is over. */
static list *clients_to_resume = NULL;
static int processing_events_while_blocked = 0;
/* Biggest per-client input/output buffers, one slot per second, for INFO. */
static size_t peak_input_usage[CLIENTS_PEAK_MEM_USAGE_SLOTS];
static size_t peak_output_usage[CLIENTS_PEAK_MEM_USAGE_SLOTS];

static void readQueryFromClient(aeEventLoop *el, int fd, void *privdata, int mask);
static void sendReplyToClient(aeEventLoop *el, int fd, void *privdata, int mask);

/* ------------------------------------------------------------------------------------ */
/* The id index                                                                           */
/* ------------------------------------------------------------------------------------ */

static uint64_t clientIdHash(const void *key) {
    return hashtableGenHashFunction(key, sizeof(uint64_t));
}

static const void *clientIdGetKey(const void *entry) {
    return &((const client *)entry)->id;
}

static int clientIdCompare(const void *a, const void *b) {
    return *(const uint64_t *)a != *(const uint64_t *)b;
}

static hashtableType clientIdIndexType = {
    .hashFunction = clientIdHash,
    .entryGetKey = clientIdGetKey,
    .keyCompare = clientIdCompare,
};

client *lookupClientByID(uint64_t id) {
    void *found;
    if (server.clients_index == NULL) return NULL;
    return hashtableFind(server.clients_index, &id, &found) ? found : NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Creating clients                                                                       */
/* ------------------------------------------------------------------------------------ */

static char default_user_name[] = "default";

static void linkClient(client *c) {
    listAddNodeTail(server.clients, c);
    c->client_list_node = listLast(server.clients);
    if (server.clients_index == NULL) server.clients_index = hashtableCreate(&clientIdIndexType);
    hashtableAdd(server.clients_index, c);
}

client *createClient(int fd) {
    client *c = zcalloc(sizeof(client));
    if (fd != -1) {
        anetNonBlock(NULL, fd);
        anetEnableTcpNoDelay(NULL, fd); /* fails harmlessly on unix sockets */
        if (server.tcpkeepalive) anetKeepAlive(NULL, fd, server.tcpkeepalive);
        if (aeCreateFileEvent(server.el, fd, AE_READABLE, readQueryFromClient, c) == AE_ERR) {
            zfree(c);
            return NULL;
        }
    }
    c->id = server.next_client_id++;
    c->fd = fd;
    c->resp = 2;
    c->db = server.db;
    c->bulklen = -1;
    c->slot = -1;
    c->btype = BLOCKED_NONE;
    c->buf = zmalloc_usable(PROTO_REPLY_CHUNK_BYTES, &c->buf_usable_size);
    c->buf_peak = c->buf_usable_size; /* no shrinking before a first measurement */
    c->reply = listCreate();
    listSetFreeMethod(c->reply, zfree);
    c->ctime = c->last_interaction = server.unixtime;
    c->buf_peak_last_reset_time = server.mstime;
    c->last_memory_type = CLIENT_TYPE_NORMAL;
    c->pending_write_lnode.value = c;
    if (fd != -1) {
        c->user_name = default_user_name;
        linkClient(c);
        clientSetDefaultAuth(c);
    } else {
        c->flags |= CLIENT_FAKE | CLIENT_AUTHENTICATED;
    }
    return c;
}

/* ------------------------------------------------------------------------------------ */
/* Freeing clients                                                                        */
/* ------------------------------------------------------------------------------------ */

void freeClientOriginalArgv(client *c) {
    if (!c->original_argv) return;
    for (int j = 0; j < c->original_argc; j++)
        if (c->original_argv[j]) decrRefCount(c->original_argv[j]);
    zfree(c->original_argv);
    c->original_argv = NULL;
    c->original_argc = 0;
}

/* Releases the arguments. A connected client keeps a small argv array for the next
 * command; whoever takes c->argv away sets argv, argv_len and argc to NULL/0. */
void freeClientArgv(client *c) {
    for (int j = 0; j < c->argc; j++)
        if (c->argv[j]) decrRefCount(c->argv[j]);
    c->argc = 0;
    c->cmd = NULL;
    c->argv_len_sum = 0;
    if (c->fd == -1 || c->argv_len > ARGV_CACHE_MAX_SLOTS) {
        zfree(c->argv);
        c->argv = NULL;
        c->argv_len = 0;
    }
}

static void removeFromPausedList(client *c) {
    if (c->paused_node) {
        listDelNode(server.paused_clients, c->paused_node);
        c->paused_node = NULL;
    }
}

static void removeFromResumeQueue(client *c) {
    if (c->resume_node) {
        listDelNode(clients_to_resume, c->resume_node);
        c->resume_node = NULL;
    }
    c->flags &= ~CLIENT_PENDING_RESUME;
}

/* Removes the client from every global structure and closes its socket. */
void unlinkClient(client *c) {
    if (server.current_client == c) server.current_client = NULL;
    if (c->fd != -1) {
        if (c->client_list_node) {
            hashtableDelete(server.clients_index, &c->id);
            listDelNode(server.clients, c->client_list_node);
            c->client_list_node = NULL;
        }
        aeDeleteFileEvent(server.el, c->fd, AE_READABLE | AE_WRITABLE);
        close(c->fd);
        c->fd = -1;
    }
    if (c->flags & CLIENT_PENDING_WRITE) {
        listUnlinkNode(server.clients_pending_write, &c->pending_write_lnode);
        c->pending_write_node = NULL;
        c->flags &= ~CLIENT_PENDING_WRITE;
    }
}

static void releaseQueryBuffer(client *c) {
    if (c->querybuf == NULL) return;
    if (c->querybuf == shared_qb) {
        sdsclear(shared_qb);
        shared_qb_user = NULL;
    } else {
        sdsfree(c->querybuf);
    }
    c->querybuf = NULL;
    c->qb_pos = 0;
    c->repl_applied = 0;
}

void freeClient(client *c) {
    /* Not while its command runs or while someone holds on to it. */
    if (c->flags & (CLIENT_PROTECTED | CLIENT_EXECUTING_COMMAND)) {
        freeClientAsync(c);
        return;
    }
    if (c->flags & CLIENT_CLOSE_ASAP) {
        listNode *ln = listSearchKey(server.clients_to_close, c);
        if (ln) listDelNode(server.clients_to_close, ln);
        c->flags &= ~CLIENT_CLOSE_ASAP;
    }
    if (c->repl_data || (c->flags & CLIENT_PRIMARY)) replicationFreeClient(c);
    releaseQueryBuffer(c);
    if (c->flags & CLIENT_BLOCKED) {
        if (c->btype == BLOCKED_POSTPONE) {
            removeFromPausedList(c);
            c->flags &= ~CLIENT_BLOCKED;
            c->btype = BLOCKED_NONE;
        } else {
            unblockClient(c, 0);
        }
    }
    if (c->flags & CLIENT_PENDING_RESUME) removeFromResumeQueue(c);
    tierFreeClient(c);
    freeClientPubSubData(c);
    freeClientMultiState(c);
    if (c->flags & CLIENT_TRACKING) disableTracking(c);
    if (c->flags & CLIENT_MONITOR) {
        listNode *ln = listSearchKey(server.monitors, c);
        if (ln) listDelNode(server.monitors, ln);
    }
    listRelease(c->reply);
    zfree(c->buf);
    freeClientArgv(c);
    zfree(c->argv);
    freeClientOriginalArgv(c);
    if (c->fd != -1) server.stat_clients_type_memory[c->last_memory_type] -= c->last_memory_usage;
    unlinkClient(c);
    if (c->name) decrRefCount(c->name);
    if (c->lib_name) decrRefCount(c->lib_name);
    if (c->lib_ver) decrRefCount(c->lib_ver);
    sdsfree(c->peerid);
    sdsfree(c->sockname);
    zfree(c);
}

/* Schedules the client to be freed from beforeSleep, for contexts where it must stay
 * valid until the current operation ends. */
void freeClientAsync(client *c) {
    if (c->flags & CLIENT_CLOSE_ASAP) return;
    if ((c->flags & CLIENT_SCRIPT) && c->fd == -1) return; /* the script engine owns it */
    c->flags |= CLIENT_CLOSE_ASAP;
    listAddNodeTail(server.clients_to_close, c);
}

int freeClientsInAsyncFreeQueue(void) {
    int freed = 0;
    listIter li;
    listNode *ln;
    listRewind(server.clients_to_close, &li);
    while ((ln = listNext(&li)) != NULL) {
        client *c = listNodeValue(ln);
        if (c->flags & (CLIENT_PROTECTED | CLIENT_EXECUTING_COMMAND)) continue;
        c->flags &= ~CLIENT_CLOSE_ASAP;
        listDelNode(server.clients_to_close, ln);
        freeClient(c);
        freed++;
    }
    return freed;
}

/* ------------------------------------------------------------------------------------ */
/* Parsing requests                                                                       */
/* ------------------------------------------------------------------------------------ */

static void setProtocolError(const char *errstr, client *c) {
    if (server.verbosity <= LL_VERBOSE) {
        sds info = catClientInfoString(sdsempty(), c);
        size_t left = sdslen(c->querybuf) - c->qb_pos;
        sds sample = sdscatrepr(sdsempty(), c->querybuf + c->qb_pos, left < PROTO_DUMP_LEN ? left : PROTO_DUMP_LEN);
        serverLog(LL_VERBOSE, "Protocol error (%s) from client: %s. Query buffer during protocol error: %s%s",
                  errstr, info, sample, left > PROTO_DUMP_LEN ? " (truncated)" : "");
        sdsfree(info);
        sdsfree(sample);
    }
    c->flags |= CLIENT_CLOSE_AFTER_REPLY | CLIENT_PROTOCOL_ERROR;
    c->qb_pos = sdslen(c->querybuf); /* the rest of the input is dropped */
}

static void protocolError(client *c, const char *msg) {
    addReplyErrorFormat(c, "Protocol error: %s", msg);
    setProtocolError(msg, c);
}

/* Makes sure argv has room for n arguments (argc is 0). */
static void ensureArgvSlots(client *c, int n) {
    if (c->argv_len >= n) return;
    zfree(c->argv);
    c->argv = zmalloc(sizeof(robj *) * (size_t)n);
    c->argv_len = n;
}

/* The client keeps the buffer it is using as its own from now on. */
static void detachSharedQueryBuffer(client *c) {
    if (c->querybuf == NULL || c->querybuf != shared_qb) return;
    shared_qb = NULL;
    shared_qb_user = NULL;
}

/* An inline request: one line, split like a shell would. C_OK when argv is ready. */
static int processInlineBuffer(client *c) {
    char *start = c->querybuf + c->qb_pos;
    size_t avail = sdslen(c->querybuf) - c->qb_pos;
    char *newline = memchr(start, '\n', avail);
    if (newline == NULL) {
        if (avail > PROTO_INLINE_MAX_SIZE) protocolError(c, "too big inline request");
        return C_ERR;
    }
    size_t linelen = (size_t)(newline - start);
    if (linelen && start[linelen - 1] == '\r') linelen--;
    sds line = sdsnewlen(start, linelen);
    int argc;
    sds *argv = sdssplitargs(line, &argc);
    sdsfree(line);
    if (argv == NULL) {
        protocolError(c, "unbalanced quotes in request");
        return C_ERR;
    }
    c->qb_pos += (size_t)(newline - start) + 1;
    if (argc) ensureArgvSlots(c, argc);
    c->argv_len_sum = 0;
    for (int j = 0; j < argc; j++) {
        c->argv[j] = createObjectFromSds(argv[j]);
        c->argv_len_sum += sdslen(argv[j]);
    }
    c->argc = argc;
    zfree(argv); /* the strings now belong to the argument objects */
    return C_OK;
}

/* Parses "<prefix><number>\r" at the current position. Returns 1 and sets *value and
 * *after (the position after CRLF) when the whole line is there, 0 when more input is
 * needed, -1 when the line is too long to be a number line. */
static int parseNumberLine(client *c, long long *value, int *ok, size_t *after) {
    char *start = c->querybuf + c->qb_pos;
    size_t avail = sdslen(c->querybuf) - c->qb_pos;
    /* Fast path, the usual case: a short canonical non-negative number. */
    const char *p = start + 1, *end = start + avail;
    const char *q = p;
    long long v = 0;
    while (q < end && q - p < 18 && *q >= '0' && *q <= '9') v = v * 10 + (*q++ - '0');
    if (q < end && *q == '\r' && q > p && (*p != '0' || q - p == 1)) {
        if (q + 1 >= end) return 0; /* the \n is not here yet */
        *value = v;
        *ok = 1;
        *after = c->qb_pos + (size_t)(q - start) + 2;
        return 1;
    }
    char *cr = memchr(start, '\r', avail);
    if (cr == NULL) return avail > PROTO_INLINE_MAX_SIZE ? -1 : 0;
    if ((size_t)(cr - start) + 2 > avail) return 0; /* the \n is not here yet */
    *ok = string2ll(start + 1, (size_t)(cr - start - 1), value);
    *after = c->qb_pos + (size_t)(cr - start) + 2;
    return 1;
}

/* Starts a bulk of a big argument at the beginning of a buffer sized for it, so the
 * buffer can become the argument object once it is complete. */
static void prepareBigArgBuffer(client *c, long long len) {
    size_t have = sdslen(c->querybuf) - c->qb_pos;
    if (have >= (size_t)len + 2) return;
    detachSharedQueryBuffer(c);
    if (c->qb_pos) {
        sdsrange(c->querybuf, (ssize_t)c->qb_pos, -1);
        c->qb_pos = 0;
    }
    c->querybuf = sdsMakeRoomForNonGreedy(c->querybuf, (size_t)len + 2 - sdslen(c->querybuf));
    if (c->querybuf_peak < (size_t)len + 2) c->querybuf_peak = (size_t)len + 2;
}

/* A multibulk request: *<count>\r\n then count times $<len>\r\n<bytes>\r\n. Returns
 * C_OK when argv holds a complete request, C_ERR when more input is needed or on a
 * protocol error (then CLIENT_CLOSE_AFTER_REPLY is set). */
static int processMultibulkBuffer(client *c) {
    long long ll;
    int ok;
    size_t after;
    if (c->multibulklen == 0) {
        int found = parseNumberLine(c, &ll, &ok, &after);
        if (found < 0) protocolError(c, "too big mbulk count string");
        if (found <= 0) return C_ERR;
        if (!ok || ll > INT_MAX) {
            protocolError(c, "invalid multibulk length");
            return C_ERR;
        }
        if (ll > PROTO_UNAUTH_MAX_MULTIBULK && !clientIsAuthenticated(c)) {
            protocolError(c, "unauthenticated multibulk length");
            return C_ERR;
        }
        c->qb_pos = after;
        if (ll <= 0) return C_OK; /* an empty request */
        c->multibulklen = (int)ll;
        ensureArgvSlots(c, ll < ARGV_INITIAL_MAX_SLOTS ? (int)ll : ARGV_INITIAL_MAX_SLOTS);
        c->argv_len_sum = 0;
    }
    while (c->multibulklen) {
        if (c->bulklen == -1) {
            int found = parseNumberLine(c, &ll, &ok, &after);
            if (found < 0) {
                protocolError(c, "too big bulk count string");
                return C_ERR;
            }
            if (found == 0) break;
            char type = c->querybuf[c->qb_pos];
            if (type != '$') {
                addReplyErrorFormat(c, "Protocol error: expected '$', got '%c'", type);
                setProtocolError("expected $ but got something else", c);
                return C_ERR;
            }
            if (!ok || ll < 0 || (!(c->flags & CLIENT_PRIMARY) && ll > server.proto_max_bulk_len)) {
                protocolError(c, "invalid bulk length");
                return C_ERR;
            }
            if (ll > PROTO_UNAUTH_MAX_BULK && !clientIsAuthenticated(c)) {
                protocolError(c, "unauthenticated bulk length");
                return C_ERR;
            }
            c->qb_pos = after;
            if (!(c->flags & CLIENT_PRIMARY) && ll >= PROTO_MBULK_BIG_ARG) prepareBigArgBuffer(c, ll);
            c->bulklen = (long)ll;
        }
        if (sdslen(c->querybuf) - c->qb_pos < (size_t)c->bulklen + 2) break;
        if (c->argc >= c->argv_len) {
            int grow = c->argv_len < INT_MAX / 2 ? c->argv_len * 2 : INT_MAX;
            int need = c->argc + c->multibulklen;
            c->argv_len = grow < need ? grow : need;
            c->argv = zrealloc(c->argv, sizeof(robj *) * (size_t)c->argv_len);
        }
        if (c->qb_pos == 0 && c->bulklen >= PROTO_MBULK_BIG_ARG && c->querybuf != shared_qb &&
            sdslen(c->querybuf) == (size_t)c->bulklen + 2 && !(c->flags & CLIENT_PRIMARY)) {
            /* The buffer is exactly this argument: it becomes the object. */
            sdsIncrLen(c->querybuf, -2);
            c->argv[c->argc++] = createObjectFromSds(c->querybuf);
            /* Not sized in advance: a next big argument gets an exact buffer when its
             * length is known, and holding a copy of this size meanwhile is wasteful. */
            c->querybuf = sdsempty();
        } else {
            c->argv[c->argc++] = createStringObject(c->querybuf + c->qb_pos, (size_t)c->bulklen);
            c->qb_pos += (size_t)c->bulklen + 2;
        }
        c->argv_len_sum += (size_t)c->bulklen;
        c->bulklen = -1;
        c->multibulklen--;
    }
    return c->multibulklen == 0 ? C_OK : C_ERR;
}

/* ------------------------------------------------------------------------------------ */
/* Running commands                                                                       */
/* ------------------------------------------------------------------------------------ */

void resetClient(client *c) {
    serverCommand *prevcmd = c->cmd;
    freeClientArgv(c);
    freeClientOriginalArgv(c);
    c->reqtype = 0;
    c->multibulklen = 0;
    c->bulklen = -1;
    c->slot = -1;
    c->duration = 0;
    c->net_input_bytes_curr_cmd = 0;
    c->net_output_bytes_curr_cmd = 0;
    /* ASKING lasts for one command (or a whole transaction). */
    if ((c->flags & CLIENT_ASKING) && !(c->flags & CLIENT_MULTI) &&
        !(prevcmd && !strcasecmp(prevcmd->declared_name, "asking")))
        c->flags &= ~CLIENT_ASKING;
    /* CLIENT REPLY SKIP silences the one command after it. */
    c->flags &= ~CLIENT_REPLY_SKIP;
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags |= CLIENT_REPLY_SKIP;
        c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
    }
}

/* After a command ran. A blocked client keeps its arguments: the command runs again
 * (or replies) when it is unblocked. */
void commandProcessed(client *c) {
    if (c->flags & CLIENT_BLOCKED) return;
    resetClient(c);
    /* The primary's bytes of this command go on to our backlog and replicas. */
    if (c->flags & CLIENT_PRIMARY) replicationPrimaryApplied(c);
}

/* Runs the parsed command. C_ERR when the client was freed meanwhile. */
static int processCommandAndResetClient(client *c) {
    client *prev = server.current_client;
    server.current_client = c;
    processCommand(c);
    int alive = server.current_client == c;
    flushPendingPushMessages(alive ? c : NULL); /* pushes to c held back during its command */
    if (alive) commandProcessed(c);
    server.current_client = prev;
    return alive ? C_OK : C_ERR;
}

int processInputBuffer(client *c) {
    while (c->querybuf && c->qb_pos < sdslen(c->querybuf)) {
        if (c->flags & (CLIENT_BLOCKED | CLIENT_PENDING_COMMAND | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP))
            break;
        if (!c->reqtype) c->reqtype = c->querybuf[c->qb_pos] == '*' ? PROTO_REQ_MULTIBULK : PROTO_REQ_INLINE;
        int ready = c->reqtype == PROTO_REQ_INLINE ? processInlineBuffer(c) : processMultibulkBuffer(c);
        if (ready != C_OK) break;
        if (c->argc == 0) {
            resetClient(c); /* empty line or "*0" */
            continue;
        }
        if (processCommandAndResetClient(c) == C_ERR) return C_ERR;
    }
    /* A client told to close with nothing to send still needs the write path to close it. */
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) putClientInPendingWriteQueue(c);
    /* The primary link keeps the bytes of a command until it is applied (it may wait
     * for cold values): they are passed on to sub-replicas as they were received. */
    size_t consumed = (c->flags & CLIENT_PRIMARY) ? c->repl_applied : c->qb_pos;
    if (c->querybuf && consumed) {
        sdsrange(c->querybuf, (ssize_t)consumed, -1);
        c->qb_pos -= consumed;
        c->repl_applied = 0;
    }
    return C_OK;
}

int processPendingCommandAndInputBuffer(client *c) {
    if (c->flags & CLIENT_PENDING_COMMAND) {
        c->flags &= ~CLIENT_PENDING_COMMAND;
        if (processCommandAndResetClient(c) == C_ERR) return C_ERR;
    }
    if (c->querybuf && sdslen(c->querybuf) > c->qb_pos) return processInputBuffer(c);
    return C_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Reading                                                                                */
/* ------------------------------------------------------------------------------------ */

static int querybufLimitReached(client *c) {
    if (c->flags & CLIENT_PRIMARY) return 0;
    size_t len = sdslen(c->querybuf);
    return len > server.client_max_querybuf_len || (len > PROTO_UNAUTH_MAX_QUERYBUF && !clientIsAuthenticated(c));
}

static void closeClientOnQuerybufLimit(client *c) {
    sds info = catClientInfoString(sdsempty(), c);
    sds bytes = sdscatrepr(sdsempty(), c->querybuf, sdslen(c->querybuf) < 64 ? sdslen(c->querybuf) : 64);
    serverLog(LL_WARNING, "Closing client that reached max query buffer length: %s (qbuf initial bytes: %s)", info,
              bytes);
    sdsfree(info);
    sdsfree(bytes);
    server.stat_client_qbuf_limit_disconnections++;
    releaseQueryBuffer(c);
    freeClientAsync(c);
}

/* Passes of handleClientsWithPendingWrites, numbering the turns: a subscriber, monitor
 * or replica written in a pass whose turn it sent nothing in is being fanned out to. */
static unsigned long long write_pass = 1;

static void readQueryFromClient(aeEventLoop *el, int fd, void *privdata, int mask) {
    (void)el;
    (void)mask;
    client *c = privdata;
    c->read_pass = write_pass;
    size_t readlen = PROTO_IOBUF_LEN;
    int big_arg = 0;
    if (c->reqtype == PROTO_REQ_MULTIBULK && c->multibulklen && c->bulklen >= PROTO_MBULK_BIG_ARG) {
        size_t have = c->querybuf ? sdslen(c->querybuf) - c->qb_pos : 0;
        big_arg = 1;
        if ((size_t)c->bulklen + 2 > have) readlen = (size_t)c->bulklen + 2 - have;
    }
    if (c->querybuf == NULL) {
        if (big_arg || shared_qb_user || (c->flags & CLIENT_PRIMARY)) {
            /* The shared one is taken by a client mid-command; the primary link keeps
             * unapplied bytes across reads. */
            c->querybuf = sdsempty();
        } else {
            if (shared_qb == NULL) {
                shared_qb = sdsnewlen(SDS_NOINIT, PROTO_IOBUF_LEN);
                sdsclear(shared_qb);
            }
            c->querybuf = shared_qb;
            shared_qb_user = c;
        }
    }
    size_t qblen = sdslen(c->querybuf);
    if (big_arg) {
        c->querybuf = sdsMakeRoomForNonGreedy(c->querybuf, readlen);
    } else {
        if (c->querybuf != shared_qb) c->querybuf = sdsMakeRoomFor(c->querybuf, readlen);
        readlen = sdsavail(c->querybuf); /* as much as fits, fewer read() calls */
    }
    ssize_t nread = read(fd, c->querybuf + qblen, readlen);
    if (nread == -1) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (c->querybuf == shared_qb && sdslen(shared_qb) == 0) releaseQueryBuffer(c);
            return;
        }
        serverLog(LL_VERBOSE, "Reading from client: %s", strerror(errno));
        freeClient(c);
        return;
    }
    if (nread == 0) {
        if (server.verbosity <= LL_VERBOSE) serverLog(LL_VERBOSE, "Client closed connection %s", getClientPeerId(c));
        freeClient(c);
        return;
    }
    sdsIncrLen(c->querybuf, nread);
    if (c->querybuf_peak < sdslen(c->querybuf)) c->querybuf_peak = sdslen(c->querybuf);
    c->last_interaction = server.unixtime;
    c->net_input_bytes += (unsigned long long)nread;
    if (c->flags & CLIENT_PRIMARY)
        server.stat_net_repl_input_bytes += nread;
    else
        server.stat_net_input_bytes += nread;
    if (querybufLimitReached(c)) {
        closeClientOnQuerybufLimit(c);
        return;
    }
    if (processInputBuffer(c) == C_ERR) return; /* freed; its query buffer was released */
    if (c->querybuf && c->querybuf == shared_qb) {
        if (sdslen(shared_qb) > c->qb_pos)
            detachSharedQueryBuffer(c); /* an incomplete command: keep the buffer */
        else
            releaseQueryBuffer(c);
    }    /* A big pending argument or unread replies may put clients over maxmemory-clients. */
    evictionClientMemoryChanged(c);
}

/* ------------------------------------------------------------------------------------ */
/* Writing                                                                                */
/* ------------------------------------------------------------------------------------ */

int clientHasPendingReplies(client *c) {
    return c->bufpos || listLength(c->reply);
}

void putClientInPendingWriteQueue(client *c) {
    if ((c->flags & CLIENT_PENDING_WRITE) || c->fd == -1) return;
    c->flags |= CLIENT_PENDING_WRITE;
    /* Newest first: a client queued by another's command (a subscriber getting a
     * PUBLISH) is written after the clients whose commands ran later, so the replies
     * the callers wait for go out before fan-out traffic. */
    listLinkNodeHead(server.clients_pending_write, &c->pending_write_lnode);
    c->pending_write_node = &c->pending_write_lnode;
}

int prepareClientToWrite(client *c) {
    /* Scripts and modules read the replies of their fake clients. */
    if (c->flags & (CLIENT_SCRIPT | CLIENT_MODULE)) return C_OK;
    if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY)) return C_ERR;
    if ((c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) && !(c->flags & CLIENT_PUSHING)) return C_ERR;
    if ((c->flags & CLIENT_PRIMARY) && !(c->flags & CLIENT_PUSHING)) return C_ERR;
    if (c->fd == -1) return C_ERR;
    /* A replica waiting for its RDB accumulates the stream; it is sent afterwards. */
    if ((c->flags & CLIENT_REPLICA) && !replicationClientMayWrite(c)) return C_OK;
    if (!clientHasPendingReplies(c)) putClientInPendingWriteQueue(c);
    return C_OK;
}

/* Drops emptied blocks at the head of the reply list. A NULL placeholder (a deferred
 * length not filled in yet) stays: nothing after it may be written before it. */
static void dropEmptyReplyHead(client *c) {
    listNode *ln;
    while ((ln = listFirst(c->reply)) != NULL) {
        clientReplyBlock *b = listNodeValue(ln);
        if (b == NULL || b->used > c->sentlen) break;
        c->reply_bytes -= b->size;
        listDelNode(c->reply, ln);
        c->sentlen = 0;
    }
}

/* Accounts n written bytes: first the fixed buffer, then the reply blocks. */
static void consumeWritten(client *c, size_t n) {
    if (c->bufpos) {
        size_t left = (size_t)c->bufpos - c->sentlen;
        size_t take = n < left ? n : left;
        c->sentlen += take;
        n -= take;
        if (c->sentlen == (size_t)c->bufpos) c->bufpos = 0, c->sentlen = 0;
        if (c->bufpos) return;
    }
    while (n) {
        listNode *ln = listFirst(c->reply);
        clientReplyBlock *b = listNodeValue(ln);
        size_t left = b->used - c->sentlen;
        if (n < left) {
            c->sentlen += n;
            return;
        }
        n -= left;
        c->sentlen = 0;
        c->reply_bytes -= b->size;
        listDelNode(c->reply, ln);
    }
    dropEmptyReplyHead(c);
}

/* One write() or writev(). Returns what the call returned (0 when nothing was left). */
static ssize_t writeSomeReplies(client *c) {
    if (c->bufpos == 0) dropEmptyReplyHead(c);
    if (listLength(c->reply) == 0 || (c->bufpos == 0 && listNodeValue(listFirst(c->reply)) == NULL)) {
        if (c->bufpos == 0) return 0;
        ssize_t n = write(c->fd, c->buf + c->sentlen, (size_t)c->bufpos - c->sentlen);
        if (n > 0) consumeWritten(c, (size_t)n);
        return n;
    }
    struct iovec iov[NET_WRITEV_MAX_IOV];
    int iovcnt = 0;
    size_t total = 0, offset = c->sentlen;
    if (c->bufpos) {
        iov[iovcnt].iov_base = c->buf + c->sentlen;
        iov[iovcnt].iov_len = (size_t)c->bufpos - c->sentlen;
        total += iov[iovcnt++].iov_len;
        offset = 0;
    }
    for (listNode *ln = listFirst(c->reply); ln && iovcnt < NET_WRITEV_MAX_IOV && total < NET_MAX_WRITES_PER_EVENT;
         ln = listNextNode(ln)) {
        clientReplyBlock *b = listNodeValue(ln);
        if (b == NULL) break; /* a deferred length still to come */
        if (b->used <= offset) {
            offset = 0;
            continue;
        }
        iov[iovcnt].iov_base = b->buf + offset;
        iov[iovcnt].iov_len = b->used - offset;
        total += iov[iovcnt++].iov_len;
        offset = 0;
    }
    ssize_t n = writev(c->fd, iov, iovcnt);
    if (n > 0) consumeWritten(c, (size_t)n);
    return n;
}

int writeToClient(client *c, int handler_installed) {
    ssize_t nwritten = 0, totwritten = 0;
    while (clientHasPendingReplies(c)) {
        nwritten = writeSomeReplies(c);
        if (nwritten <= 0) break;
        totwritten += nwritten;
        /* Give other clients a turn, unless memory is short or this is a replica. */
        if (totwritten > NET_MAX_WRITES_PER_EVENT && !(c->flags & CLIENT_REPLICA) &&
            (server.maxmemory == 0 || zmalloc_used_memory() < server.maxmemory))
            break;
    }
    if (totwritten > 0) {
        c->net_output_bytes += (unsigned long long)totwritten;
        if (c->flags & CLIENT_REPLICA)
            server.stat_net_repl_output_bytes += totwritten;
        else
            server.stat_net_output_bytes += totwritten;
        if (!(c->flags & CLIENT_PRIMARY)) c->last_interaction = server.unixtime;
    }
    if (nwritten == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        serverLog(LL_VERBOSE, "Error writing to client: %s", strerror(errno));
        freeClientAsync(c);
        return C_ERR;
    }
    if (!clientHasPendingReplies(c)) {
        c->sentlen = 0;
        if (handler_installed) aeDeleteFileEvent(server.el, c->fd, AE_WRITABLE);
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
            freeClientAsync(c);
            return C_ERR;
        }
    }
    return C_OK;
}

static void sendReplyToClient(aeEventLoop *el, int fd, void *privdata, int mask) {
    (void)el;
    (void)fd;
    (void)mask;
    writeToClient(privdata, 1);
}

void flushClientOutputSync(client *c) {
    if (c->fd != -1 && clientHasPendingReplies(c)) writeToClient(c, 0);
}

static void processClientsToResume(void);

/* A turn that fanned out to this many clients makes the next poll gather
 * (fanout-gather-usec): below it, the saving is smaller than the wait. */
#define FANOUT_GATHER_MIN_WRITES 4

/* Clients fed by other clients' commands: each costs one write per turn that feeds it,
 * whatever the number of messages. A client resumed after a wait (a blocking pop, a cold
 * read) gets the one reply to its own command and is not counted. */
static int isFanoutWrite(client *c) {
    return (c->flags & (CLIENT_PUBSUB | CLIENT_MONITOR | CLIENT_REPLICA)) && c->read_pass != write_pass;
}

int handleClientsWithPendingWrites(void) {
    processClientsToResume();
    int processed = 0, fanout = 0;
    listIter li;
    listNode *ln;
    listRewind(server.clients_pending_write, &li);
    while ((ln = listNext(&li)) != NULL) {
        client *c = listNodeValue(ln);
        listUnlinkNode(server.clients_pending_write, ln);
        c->pending_write_node = NULL;
        c->flags &= ~CLIENT_PENDING_WRITE;
        processed++;
        if (c->flags & (CLIENT_PROTECTED | CLIENT_CLOSE_ASAP)) continue;
        if (isFanoutWrite(c)) fanout++;
        if (writeToClient(c, 0) == C_ERR) continue;
        /* With appendfsync always the barrier makes the write handler run after the read
         * handler's command was flushed to the AOF, never before, within one loop turn. */
        int mask = AE_WRITABLE | (aofWriteBarrierNeeded() ? AE_BARRIER : 0);
        if (clientHasPendingReplies(c) && aeCreateFileEvent(server.el, c->fd, mask, sendReplyToClient, c) == AE_ERR)
            freeClientAsync(c);
    }
    if (fanout >= FANOUT_GATHER_MIN_WRITES) aeGatherNextPoll(server.el, server.fanout_gather_usec);
    write_pass++;
    return processed;
}

/* ------------------------------------------------------------------------------------ */
/* Output buffer limits and memory                                                        */
/* ------------------------------------------------------------------------------------ */

size_t getClientOutputBufferMemoryUsage(client *c) {
    return c->reply_bytes + listLength(c->reply) * (sizeof(listNode) + sizeof(clientReplyBlock));
}

size_t getClientMemoryUsage(client *c, size_t *output_buffer_mem_usage) {
    size_t mem = getClientOutputBufferMemoryUsage(c);
    if (output_buffer_mem_usage) *output_buffer_mem_usage = mem;
    if (c->querybuf && c->querybuf != shared_qb) mem += sdsAllocSize(c->querybuf);
    mem += zmalloc_usable_size(c);
    mem += c->buf_usable_size;
    mem += c->argv_len_sum + sizeof(robj *) * (size_t)c->argc;
    long queued, watched;
    size_t multi_mem;
    getClientMultiInfo(c, &queued, &watched, &multi_mem);
    mem += multi_mem;
    if (c->peerid) mem += sdsAllocSize(c->peerid);
    if (c->sockname) mem += sdsAllocSize(c->sockname);
    return mem;
}

int getClientType(client *c) {
    if (c->flags & CLIENT_PRIMARY) return CLIENT_TYPE_PRIMARY;
    if ((c->flags & CLIENT_REPLICA) && !(c->flags & CLIENT_MONITOR)) return CLIENT_TYPE_REPLICA;
    if (c->flags & CLIENT_PUBSUB) return CLIENT_TYPE_PUBSUB;
    return CLIENT_TYPE_NORMAL;
}

int getClientTypeByName(const char *name) {
    if (!strcasecmp(name, "normal")) return CLIENT_TYPE_NORMAL;
    if (!strcasecmp(name, "slave") || !strcasecmp(name, "replica")) return CLIENT_TYPE_REPLICA;
    if (!strcasecmp(name, "pubsub")) return CLIENT_TYPE_PUBSUB;
    if (!strcasecmp(name, "master") || !strcasecmp(name, "primary")) return CLIENT_TYPE_PRIMARY;
    return -1;
}

const char *getClientTypeName(int class) {
    switch (class) {
    case CLIENT_TYPE_NORMAL: return "normal";
    case CLIENT_TYPE_REPLICA: return "slave";
    case CLIENT_TYPE_PUBSUB: return "pubsub";
    case CLIENT_TYPE_PRIMARY: return "master";
    default: return NULL;
    }
}

/* 1 when the client is over the hard limit of its class, or has been over the soft
 * limit for longer than allowed. */
int checkClientOutputBufferLimits(client *c) {
    int class = getClientType(c);
    if (class == CLIENT_TYPE_PRIMARY) class = CLIENT_TYPE_NORMAL; /* limited like normal clients */
    const clientBufferLimitsConfig *limit = &server.client_obuf_limits[class];
    unsigned long long used = getClientOutputBufferMemoryUsage(c);
    int hard = limit->hard_limit_bytes && used >= limit->hard_limit_bytes;
    int soft = limit->soft_limit_bytes && used >= limit->soft_limit_bytes;
    if (soft) {
        if (c->obuf_soft_limit_reached_time == 0) {
            c->obuf_soft_limit_reached_time = server.unixtime;
            soft = 0; /* the clock starts now */
        } else if (server.unixtime - c->obuf_soft_limit_reached_time <= limit->soft_limit_seconds) {
            soft = 0;
        }
    } else {
        c->obuf_soft_limit_reached_time = 0;
    }
    return soft || hard;
}

/* Closes (async: schedules closing) a client over its output buffer limit. Returns 1 if
 * the client was closed or scheduled. */
int closeClientOnOutputBufferLimitReached(client *c, int async) {
    if (c->fd == -1 || c->reply_bytes == 0 || (c->flags & CLIENT_CLOSE_ASAP)) return 0;
    if (!checkClientOutputBufferLimits(c)) return 0;
    sds info = catClientInfoString(sdsempty(), c);
    if (async) {
        freeClientAsync(c);
        serverLog(LL_WARNING, "Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", info);
    } else {
        freeClient(c);
        serverLog(LL_WARNING, "Client %s closed for overcoming of output buffer limits.", info);
    }
    sdsfree(info);
    server.stat_client_outbuf_limit_disconnections++;
    return 1;
}

/* ------------------------------------------------------------------------------------ */
/* Client information                                                                     */
/* ------------------------------------------------------------------------------------ */

static sds clientAddressString(client *c, int remote) {
    if (c->flags & CLIENT_UNIX_SOCKET) return sdscatfmt(sdsempty(), "%s:0", server.unixsocket ? server.unixsocket : "");
    if (c->fd == -1) return sdsempty();
    char ip[NET_IP_STR_LEN], addr[NET_ADDR_STR_LEN];
    int port;
    anetFdToString(c->fd, ip, sizeof(ip), &port, remote);
    anetFormatAddr(addr, sizeof(addr), ip, port);
    return sdsnew(addr);
}

char *getClientPeerId(client *c) {
    if (c->peerid == NULL) c->peerid = clientAddressString(c, 1);
    return c->peerid;
}

char *getClientSockname(client *c) {
    if (c->sockname == NULL) c->sockname = clientAddressString(c, 0);
    return c->sockname;
}

/* CLIENT LIST flag letters, in the order they are printed. */
static const struct {
    uint64_t flag;
    char letter;
} client_flag_letters[] = {
    {CLIENT_PRIMARY, 'M'},     {CLIENT_PUBSUB, 'P'},       {CLIENT_MULTI, 'x'},        {CLIENT_BLOCKED, 'b'},
    {CLIENT_TRACKING, 't'},    {CLIENT_DIRTY_CAS, 'd'},    {CLIENT_CLOSE_AFTER_REPLY, 'c'},
    {CLIENT_UNBLOCKED, 'u'},   {CLIENT_CLOSE_ASAP, 'A'},   {CLIENT_UNIX_SOCKET, 'U'},  {CLIENT_READONLY, 'r'},
    {CLIENT_NO_EVICT, 'e'},    {CLIENT_NO_TOUCH, 'T'},
};

static void clientFlagsString(client *c, char *out) {
    char *p = out;
    if (c->flags & CLIENT_MONITOR)
        *p++ = 'O';
    else if (c->flags & CLIENT_REPLICA)
        *p++ = 'S';
    for (size_t i = 0; i < sizeof(client_flag_letters) / sizeof(client_flag_letters[0]); i++)
        if (c->flags & client_flag_letters[i].flag) *p++ = client_flag_letters[i].letter;
    if (p == out) *p++ = 'N';
    *p = '\0';
}

sds catClientInfoString(sds s, client *c) {
    char flags[32], events[3], *e = events;
    clientFlagsString(c, flags);
    if (c->fd != -1) {
        int mask = aeGetFileEvents(server.el, c->fd);
        if (mask & AE_READABLE) *e++ = 'r';
        if (mask & AE_WRITABLE) *e++ = 'w';
    }
    *e = '\0';
    long sub, psub, ssub, queued, watched;
    size_t multi_mem, obuf_mem;
    getClientPubSubCounts(c, &sub, &psub, &ssub);
    getClientMultiInfo(c, &queued, &watched, &multi_mem);
    size_t total_mem = getClientMemoryUsage(c, &obuf_mem);
    int own_qb = c->querybuf && c->querybuf != shared_qb;
    return sdscatfmt(
        s,
        "id=%U addr=%s laddr=%s fd=%i name=%s age=%I idle=%I flags=%s db=%i sub=%i psub=%i ssub=%i multi=%i "
        "watch=%i qbuf=%U qbuf-free=%U argv-mem=%U multi-mem=%U rbs=%U rbp=%U obl=%U oll=%U omem=%U tot-mem=%U "
        "events=%s cmd=%s user=%s redir=%I resp=%i lib-name=%s lib-ver=%s tot-net-in=%U tot-net-out=%U "
        "tot-cmds=%U",
        (unsigned long long)c->id, getClientPeerId(c), getClientSockname(c), c->fd,
        c->name ? (char *)objectGetVal(c->name) : "", (long long)(server.unixtime - c->ctime),
        (long long)(server.unixtime - c->last_interaction), flags, c->db ? c->db->id : 0, (int)sub, (int)psub,
        (int)ssub, (int)queued, (int)watched, (unsigned long long)(own_qb ? sdslen(c->querybuf) : 0),
        (unsigned long long)(own_qb ? sdsavail(c->querybuf) : 0), (unsigned long long)c->argv_len_sum,
        (unsigned long long)multi_mem, (unsigned long long)c->buf_usable_size, (unsigned long long)c->buf_peak,
        (unsigned long long)c->bufpos, (unsigned long long)listLength(c->reply), (unsigned long long)obuf_mem,
        (unsigned long long)total_mem, events, c->lastcmd ? c->lastcmd->fullname : "NULL",
        c->user_name ? c->user_name : "(superuser)", (long long)-1, c->resp,
        c->lib_name ? (char *)objectGetVal(c->lib_name) : "", c->lib_ver ? (char *)objectGetVal(c->lib_ver) : "",
        c->net_input_bytes, c->net_output_bytes, c->commands_processed);
}

/* All connected clients of one class (-1: every class), one line each. */
sds getAllClientsInfoString(int type) {
    sds s = sdsempty();
    listIter li;
    listNode *ln;
    listRewind(server.clients, &li);
    while ((ln = listNext(&li)) != NULL) {
        client *c = listNodeValue(ln);
        if (type != -1 && getClientType(c) != type) continue;
        s = catClientInfoString(s, c);
        s = sdscatlen(s, "\n", 1);
    }
    return s;
}

void getExpansiveClientsInfo(size_t *in_usage, size_t *out_usage) {
    size_t in = 0, out = 0;
    for (int i = 0; i < CLIENTS_PEAK_MEM_USAGE_SLOTS; i++) {
        if (peak_input_usage[i] > in) in = peak_input_usage[i];
        if (peak_output_usage[i] > out) out = peak_output_usage[i];
    }
    *in_usage = in;
    *out_usage = out;
}

/* ------------------------------------------------------------------------------------ */
/* Rewriting the command vector                                                           */
/* ------------------------------------------------------------------------------------ */

/* Keeps the arguments as the client sent them, for MONITOR and the slowlog. */
static void retainOriginalCommandVector(client *c) {
    if (c->original_argv) return;
    c->original_argc = c->argc;
    c->original_argv = zmalloc(sizeof(robj *) * (size_t)(c->argc ? c->argc : 1));
    for (int j = 0; j < c->argc; j++) {
        c->original_argv[j] = c->argv[j];
        incrRefCount(c->argv[j]);
    }
}

static size_t argvLengthSum(robj **argv, int argc) {
    size_t sum = 0;
    for (int j = 0; j < argc; j++)
        if (argv[j]) sum += stringObjectLen(argv[j]);
    return sum;
}

/* Takes ownership of argv (an array of argc references). */
void replaceClientCommandVector(client *c, int argc, robj **argv) {
    retainOriginalCommandVector(c);
    for (int j = 0; j < c->argc; j++)
        if (c->argv[j]) decrRefCount(c->argv[j]);
    zfree(c->argv);
    c->argv = argv;
    c->argc = argc;
    c->argv_len = argc;
    c->argv_len_sum = argvLengthSum(argv, argc);
    c->cmd = lookupCommandOrOriginal(c->argv, c->argc);
}

void rewriteClientCommandVector(client *c, int argc, ...) {
    va_list ap;
    robj **argv = zmalloc(sizeof(robj *) * (size_t)argc);
    va_start(ap, argc);
    for (int j = 0; j < argc; j++) {
        argv[j] = va_arg(ap, robj *);
        incrRefCount(argv[j]);
    }
    va_end(ap);
    replaceClientCommandVector(c, argc, argv);
}

void rewriteClientCommandArgument(client *c, int i, robj *newval) {
    retainOriginalCommandVector(c);
    if (i >= c->argc) {
        if (i >= c->argv_len) {
            c->argv = zrealloc(c->argv, sizeof(robj *) * (size_t)(i + 1));
            c->argv_len = i + 1;
        }
        for (int j = c->argc; j <= i; j++) c->argv[j] = NULL;
        c->argc = i + 1;
    }
    robj *old = c->argv[i];
    if (old) {
        c->argv_len_sum -= stringObjectLen(old);
        decrRefCount(old);
    }
    c->argv[i] = newval;
    incrRefCount(newval);
    c->argv_len_sum += stringObjectLen(newval);
    if (i == 0) c->cmd = lookupCommandOrOriginal(c->argv, c->argc);
}

void redactClientCommandArgument(client *c, int argc) {
    static robj *redacted = NULL;
    if (redacted == NULL) redacted = makeObjectShared(createStringObject("(redacted)", 10));
    retainOriginalCommandVector(c);
    if (argc >= c->original_argc || c->original_argv[argc] == redacted) return;
    decrRefCount(c->original_argv[argc]);
    c->original_argv[argc] = redacted;
}

/* ------------------------------------------------------------------------------------ */
/* CLIENT PAUSE                                                                           */
/* ------------------------------------------------------------------------------------ */

/* Each purpose has its own pause; the one in force (server.pause_type) is the strictest
 * of those not ended, until the first of them ends (server.pause_end_time). */
static struct {
    int type;
    mstime_t end;
} pauses[PAUSE_PURPOSES];

static void resumePausedClients(void);

static void applyPauses(mstime_t now) {
    int type = CLIENT_PAUSE_OFF;
    mstime_t first_end = 0;
    for (int p = 0; p < PAUSE_PURPOSES; p++) {
        if (pauses[p].type == CLIENT_PAUSE_OFF || pauses[p].end < now) {
            pauses[p].type = CLIENT_PAUSE_OFF;
            pauses[p].end = 0;
            continue;
        }
        if (pauses[p].type > type) type = pauses[p].type;
        if (first_end == 0 || pauses[p].end < first_end) first_end = pauses[p].end;
    }
    int weaker = type < server.pause_type;
    server.pause_type = type;
    server.pause_end_time = first_end;
    /* Parked commands a weaker pause allows run now; the others park again. */
    if (weaker) resumePausedClients();
}

/* A newer pause of a purpose sets its type; its end time only ever moves later. */
void pauseActions(int purpose, int type, mstime_t end) {
    pauses[purpose].type = type;
    if (end > pauses[purpose].end) pauses[purpose].end = end;
    applyPauses(mstime());
}

static void queueClientToResume(client *c) {
    if (c->flags & CLIENT_PENDING_RESUME) return;
    if (clients_to_resume == NULL) clients_to_resume = listCreate();
    listAddNodeTail(clients_to_resume, c);
    c->resume_node = listLast(clients_to_resume);
    c->flags |= CLIENT_PENDING_RESUME;
}

void unpauseActions(int purpose) {
    pauses[purpose].type = CLIENT_PAUSE_OFF;
    pauses[purpose].end = 0;
    applyPauses(mstime());
}

static void resumePausedClients(void) {
    while (listLength(server.paused_clients)) {
        client *c = listNodeValue(listFirst(server.paused_clients));
        removeFromPausedList(c);
        c->flags &= ~CLIENT_BLOCKED;
        c->btype = BLOCKED_NONE;
        queueClientToResume(c);
    }
}

int checkClientPauseTimeoutAndReturnIfPaused(void) {
    if (server.pause_type == CLIENT_PAUSE_OFF) return 0;
    if (server.pause_end_time < mstime()) applyPauses(mstime());
    return server.pause_type != CLIENT_PAUSE_OFF;
}

int areClientsPaused(void) {
    return checkClientPauseTimeoutAndReturnIfPaused();
}

/* Parks a client whose command may not run during the pause; the command stays in argv
 * and runs when the pause ends. */
void blockPostponeClient(client *c) {
    c->flags |= CLIENT_BLOCKED | CLIENT_PENDING_COMMAND;
    c->btype = BLOCKED_POSTPONE;
    listAddNodeTail(server.paused_clients, c);
    c->paused_node = listLast(server.paused_clients);
}

static void processClientsToResume(void) {
    /* Never inside another client's command (events served while a script or a load
     * runs): the resumed commands wait for the next regular turn. */
    if (server.execution_nesting || processing_events_while_blocked) return;
    while (clients_to_resume && listLength(clients_to_resume)) {
        client *c = listNodeValue(listFirst(clients_to_resume));
        removeFromResumeQueue(c);
        if (c->flags & CLIENT_BLOCKED) continue;
        processPendingCommandAndInputBuffer(c);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Cron                                                                                   */
/* ------------------------------------------------------------------------------------ */

static int clientsCronHandleTimeout(client *c, mstime_t now_ms) {
    if (!server.maxidletime) return 0;
    if (c->flags & (CLIENT_REPLICA | CLIENT_PRIMARY | CLIENT_BLOCKED | CLIENT_PUBSUB | CLIENT_MONITOR)) return 0;
    if (now_ms / 1000 - c->last_interaction <= server.maxidletime) return 0;
    serverLog(LL_VERBOSE, "Closing idle client");
    freeClient(c);
    return 1;
}

static void clientsCronResizeQueryBuffer(client *c) {
    if (c->querybuf == NULL || c->querybuf == shared_qb) return;
    size_t len = sdslen(c->querybuf);
    int big_arg_pending = c->bulklen >= PROTO_MBULK_BIG_ARG;
    if (len == 0 && !big_arg_pending) {
        if (server.unixtime - c->last_interaction >= QUERYBUF_IDLE_FREE_SECONDS) releaseQueryBuffer(c);
        return;
    }
    size_t alloc = sdsalloc(c->querybuf);
    size_t keep = len > c->querybuf_peak ? len : c->querybuf_peak;
    if (big_arg_pending && (size_t)c->bulklen + 2 > keep) keep = (size_t)c->bulklen + 2;
    if (alloc > PROTO_RESIZE_THRESHOLD && keep < alloc / 2) c->querybuf = sdsResize(c->querybuf, keep, 1);
    c->querybuf_peak = len;
    if (big_arg_pending && (size_t)c->bulklen + 2 > c->querybuf_peak) c->querybuf_peak = (size_t)c->bulklen + 2;
}

/* Shrinks the fixed reply buffer of clients with small replies, grows it back for
 * clients that fill it. */
static void clientsCronResizeOutputBuffer(client *c, mstime_t now_ms) {
    size_t new_size = 0, size = c->buf_usable_size;
    if (size / 2 >= PROTO_REPLY_MIN_BYTES && c->buf_peak < size / 2) {
        new_size = c->buf_peak + 1 > PROTO_REPLY_MIN_BYTES ? c->buf_peak + 1 : PROTO_REPLY_MIN_BYTES;
    } else if (size * 2 < PROTO_REPLY_CHUNK_BYTES * 2 && c->buf_peak == size) {
        new_size = size * 2 < PROTO_REPLY_CHUNK_BYTES ? size * 2 : PROTO_REPLY_CHUNK_BYTES;
    }
    if (now_ms - c->buf_peak_last_reset_time >= REPLY_BUFFER_PEAK_RESET_MS) {
        c->buf_peak = (size_t)c->bufpos;
        c->buf_peak_last_reset_time = now_ms;
    }
    if (new_size && new_size >= (size_t)c->bufpos) {
        char *old = c->buf;
        c->buf = zmalloc_usable(new_size, &c->buf_usable_size);
        memcpy(c->buf, old, (size_t)c->bufpos);
        zfree(old);
    }
}

static void clientsCronTrackExpansiveClients(client *c, int slot) {
    size_t in = c->argv_len_sum;
    if (c->querybuf && c->querybuf != shared_qb) in += sdsAllocSize(c->querybuf);
    if (c->argc && c->argv) in += zmalloc_usable_size(c->argv);
    size_t out = getClientOutputBufferMemoryUsage(c);
    if (in > peak_input_usage[slot]) peak_input_usage[slot] = in;
    if (out > peak_output_usage[slot]) peak_output_usage[slot] = out;
}

void updateClientMemUsage(client *c) {
    size_t mem = getClientMemoryUsage(c, NULL);
    int type = getClientType(c);
    server.stat_clients_type_memory[c->last_memory_type] -= c->last_memory_usage;
    server.stat_clients_type_memory[type] += mem;
    c->last_memory_usage = mem;
    c->last_memory_type = type;
}

/* Visits a slice of the clients each call so every client is seen about once a second. */
void clientsCron(void) {
    int numclients = (int)listLength(server.clients);
    int iterations = server.hz > 0 ? numclients / server.hz : numclients;
    mstime_t now = mstime();
    int slot = (int)(server.unixtime % CLIENTS_PEAK_MEM_USAGE_SLOTS);
    int next = (slot + 1) % CLIENTS_PEAK_MEM_USAGE_SLOTS;
    peak_input_usage[next] = 0;
    peak_output_usage[next] = 0;
    if (iterations < CLIENTS_CRON_MIN_ITERATIONS)
        iterations = numclients < CLIENTS_CRON_MIN_ITERATIONS ? numclients : CLIENTS_CRON_MIN_ITERATIONS;
    while (listLength(server.clients) && iterations--) {
        listRotateTailToHead(server.clients);
        client *c = listNodeValue(listFirst(server.clients));
        if (clientsCronHandleTimeout(c, now)) continue;
        clientsCronResizeQueryBuffer(c);
        clientsCronResizeOutputBuffer(c, now);
        clientsCronTrackExpansiveClients(c, slot);
        updateClientMemUsage(c);
        if (closeClientOnOutputBufferLimitReached(c, 0)) continue;
    }
    checkClientPauseTimeoutAndReturnIfPaused();
}

/* ------------------------------------------------------------------------------------ */
/* Serving events while busy (loading, long scripts)                                      */
/* ------------------------------------------------------------------------------------ */

void processEventsWhileBlocked(void) {
    processing_events_while_blocked++;
    for (int i = 0; i < 4; i++) {
        int events = aeProcessEvents(server.el, AE_FILE_EVENTS | AE_DONT_WAIT | AE_CALL_BEFORE_SLEEP |
                                                    AE_CALL_AFTER_SLEEP);
        if (events == 0) break;
    }
    processing_events_while_blocked--;
}

int isProcessingEventsWhileBlocked(void) {
    return processing_events_while_blocked > 0;
}

/* While a long script lets the event loop run, the client that sent it must neither
 * read (its next command would run in the middle of the script) nor write (its reply is
 * still being built), nor be freed. */
void protectClient(client *c) {
    c->flags |= CLIENT_PROTECTED;
    if (c->fd != -1) aeDeleteFileEvent(server.el, c->fd, AE_READABLE | AE_WRITABLE);
}

void unprotectClient(client *c) {
    if (!(c->flags & CLIENT_PROTECTED)) return;
    c->flags &= ~CLIENT_PROTECTED;
    if (c->fd == -1) return;
    if (aeCreateFileEvent(server.el, c->fd, AE_READABLE, readQueryFromClient, c) == AE_ERR) {
        freeClientAsync(c);
        return;
    }
    if (clientHasPendingReplies(c)) putClientInPendingWriteQueue(c);
}

/* ------------------------------------------------------------------------------------ */
/* Listening and accepting                                                                */
/* ------------------------------------------------------------------------------------ */

static int isLoopbackAddress(const char *ip) {
    return !strncmp(ip, "127.", 4) || !strcmp(ip, "::1") || !strncmp(ip, "::ffff:127.", 11);
}

static int defaultUserHasNoPassword(void) {
    return server.requirepass == NULL || server.requirepass[0] == '\0';
}

static void acceptCommonHandler(int fd, uint64_t flags, const char *ip) {
    if (listLength(server.clients) >= server.maxclients) {
        /* Best effort: the client may not even read it. */
        if (write(fd, max_clients_reply, strlen(max_clients_reply)) == -1) {
        }
        server.stat_rejected_conn++;
        close(fd);
        return;
    }
    client *c = createClient(fd);
    if (c == NULL) {
        serverLog(LL_WARNING, "Error registering fd event for the new client: %s (fd=%d)", strerror(errno), fd);
        close(fd);
        return;
    }
    c->flags |= flags;
    if (server.protected_mode && defaultUserHasNoPassword() && !(flags & CLIENT_UNIX_SOCKET) &&
        !isLoopbackAddress(ip)) {
        if (write(fd, protected_mode_reply, strlen(protected_mode_reply)) == -1) {
        }
        server.stat_rejected_conn++;
        freeClient(c);
        return;
    }
    server.stat_numconnections++;
}

static void acceptTcpHandler(aeEventLoop *el, int fd, void *privdata, int mask) {
    (void)el;
    (void)privdata;
    (void)mask;
    char err[ANET_ERR_LEN], ip[NET_IP_STR_LEN];
    int port;
    for (int max = MAX_ACCEPTS_PER_CALL; max > 0; max--) {
        int cfd = anetTcpAccept(err, fd, ip, sizeof(ip), &port);
        if (cfd == ANET_ERR) {
            if (errno != EWOULDBLOCK && errno != EAGAIN) serverLog(LL_WARNING, "Accepting client connection: %s", err);
            return;
        }
        serverLog(LL_VERBOSE, "Accepted %s:%d", ip, port);
        acceptCommonHandler(cfd, 0, ip);
    }
}

static void acceptUnixHandler(aeEventLoop *el, int fd, void *privdata, int mask) {
    (void)el;
    (void)privdata;
    (void)mask;
    char err[ANET_ERR_LEN];
    for (int max = MAX_ACCEPTS_PER_CALL; max > 0; max--) {
        int cfd = anetUnixAccept(err, fd);
        if (cfd == ANET_ERR) {
            if (errno != EWOULDBLOCK && errno != EAGAIN) serverLog(LL_WARNING, "Accepting client connection: %s", err);
            return;
        }
        serverLog(LL_VERBOSE, "Accepted connection to %s", server.unixsocket);
        acceptCommonHandler(cfd, CLIENT_UNIX_SOCKET, "");
    }
}

static int isOptionalBindError(int err) {
    return err == EADDRNOTAVAIL || err == ENOPROTOOPT || err == EPROTONOSUPPORT || err == ESOCKTNOSUPPORT ||
           err == EPFNOSUPPORT || err == EAFNOSUPPORT;
}

/* Binds every configured address on port; an address written with a leading '-' may
 * fail to bind because it is unavailable (e.g. no IPv6) without failing the whole. */
int listenToPort(int port, int *fds, int *count) {
    static char *default_bind[] = {"*", "-::*"};
    char **addrs = server.bindaddr_count ? server.bindaddr : default_bind;
    int naddrs = server.bindaddr_count ? server.bindaddr_count : 2;
    char err[ANET_ERR_LEN];
    *count = 0;
    for (int j = 0; j < naddrs; j++) {
        char *addr = addrs[j];
        int optional = addr[0] == '-';
        if (optional) addr++;
        int fd = strchr(addr, ':') ? anetTcp6Server(err, port, addr, server.tcp_backlog)
                                   : anetTcpServer(err, port, addr, server.tcp_backlog);
        if (fd == ANET_ERR) {
            int saved = errno;
            if (optional && isOptionalBindError(saved)) continue;
            serverLog(LL_WARNING, "Warning: Could not create server TCP listening socket %s:%d: %s", addr, port, err);
            for (int k = 0; k < *count; k++) close(fds[k]);
            *count = 0;
            errno = saved;
            return C_ERR;
        }
        anetNonBlock(NULL, fd);
        fds[(*count)++] = fd;
    }
    return C_OK;
}

int initListeners(void) {
    server.ipfd_count = 0;
    server.sofd = -1;
    if (server.port != 0 && listenToPort(server.port, server.ipfd, &server.ipfd_count) == C_ERR) {
        serverLog(LL_WARNING, "Failed listening on port %u (tcp), aborting.", server.port);
        return C_ERR;
    }
    if (server.unixsocket != NULL && server.unixsocket[0]) {
        char err[ANET_ERR_LEN];
        unlink(server.unixsocket); /* a stale file from a previous run */
        server.sofd = anetUnixServer(err, server.unixsocket, (mode_t)server.unixsocketperm, server.tcp_backlog);
        if (server.sofd == ANET_ERR) {
            serverLog(LL_WARNING, "Failed opening Unix socket: %s", err);
            server.sofd = -1;
            return C_ERR;
        }
        anetNonBlock(NULL, server.sofd);
    }
    if (server.ipfd_count == 0 && server.sofd < 0) {
        serverLog(LL_WARNING, "Configured to not listen anywhere, exiting.");
        return C_ERR;
    }
    for (int j = 0; j < server.ipfd_count; j++) {
        if (aeCreateFileEvent(server.el, server.ipfd[j], AE_READABLE, acceptTcpHandler, NULL) == AE_ERR) {
            serverLog(LL_WARNING, "Unrecoverable error creating TCP socket accept handler.");
            return C_ERR;
        }
    }
    if (server.sofd >= 0 && aeCreateFileEvent(server.el, server.sofd, AE_READABLE, acceptUnixHandler, NULL) == AE_ERR) {
        serverLog(LL_WARNING, "Unrecoverable error creating Unix socket accept handler.");
        return C_ERR;
    }
    return C_OK;
}

void closeListeningSockets(int unlink_unix_socket) {
    for (int j = 0; j < server.ipfd_count; j++) {
        aeDeleteFileEvent(server.el, server.ipfd[j], AE_READABLE);
        close(server.ipfd[j]);
    }
    server.ipfd_count = 0;
    if (server.sofd >= 0) {
        aeDeleteFileEvent(server.el, server.sofd, AE_READABLE);
        close(server.sofd);
        server.sofd = -1;
    }
    if (unlink_unix_socket && server.unixsocket && server.unixsocket[0]) {
        serverLog(LL_NOTICE, "Removing the unix socket file.");
        if (unlink(server.unixsocket) != 0)
            serverLog(LL_WARNING, "Error removing the unix socket file: %s", strerror(errno));
    }
}

/* ------------------------------------------------------------------------------------ */
/* Default hooks (see networking.h); the owning subsystems override them                  */
/* ------------------------------------------------------------------------------------ */

__attribute__((weak)) void unblockClient(client *c, int queue_for_reprocessing) {
    c->flags &= ~CLIENT_BLOCKED;
    c->btype = BLOCKED_NONE;
    if (queue_for_reprocessing) queueClientToResume(c);
}

__attribute__((weak)) void unblockClientOnTimeout(client *c) {
    addReplyNullArray(c);
    c->flags &= ~CLIENT_PENDING_COMMAND;
    unblockClient(c, 1);
}

__attribute__((weak)) void unblockClientOnError(client *c, const char *err_str) {
    addReplyError(c, err_str);
    c->flags &= ~CLIENT_PENDING_COMMAND;
    unblockClient(c, 1);
}

__attribute__((weak)) void freeClientMultiState(client *c) {
    (void)c;
}

__attribute__((weak)) void discardTransaction(client *c) {
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
}

__attribute__((weak)) void getClientMultiInfo(client *c, long *queued, long *watched_keys, size_t *mem) {
    (void)c;
    *queued = -1;
    *watched_keys = 0;
    *mem = 0;
}

__attribute__((weak)) void freeClientPubSubData(client *c) {
    c->flags &= ~CLIENT_PUBSUB;
}

__attribute__((weak)) void getClientPubSubCounts(client *c, long *channels, long *patterns, long *shard_channels) {
    (void)c;
    *channels = *patterns = *shard_channels = 0;
}

__attribute__((weak)) void disableTracking(client *c) {
    c->flags &= ~CLIENT_TRACKING;
}
