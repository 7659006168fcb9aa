/* replies.c -- building replies: the addReply* family, deferred lengths, error replies
 * and their statistics, and the argument parsers that reply on error.
 *
 * Every reply is appended by appendReply(): bytes go to the client's fixed buffer while
 * it has room and nothing is queued behind it, and to the tail block of the reply list
 * otherwise (a new block holds at least PROTO_REPLY_CHUNK_BYTES). A public function asks
 * prepareClientToWrite() once, which also queues the client for writing, and then
 * appends one or more pieces. A deferred length is a NULL node in the reply list that
 * setDeferred*Len() later replaces with the header bytes. Writing to the socket is in
 * networking.c.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "networking.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"
#include "zmalloc.h"

/* Bulk strings up to this size are assembled on the stack and appended in one go. */
#define SMALL_BULK_INLINE 128
/* Room for a RESP type byte, a 64-bit length and CRLF. */
#define RESP_HEADER_MAX 32
/* A deferred header is prepended to the next block only while moving it stays cheap. */
#define DEFERRED_PREPEND_MAX_MOVE (PROTO_REPLY_CHUNK_BYTES * 4)

/* ------------------------------------------------------------------------------------ */
/* Appending bytes                                                                        */
/* ------------------------------------------------------------------------------------ */

/* Copies what fits into the fixed buffer; returns the number of bytes taken. Nothing is
 * taken once the reply list is in use, or the order of the reply would break. */
static size_t appendToFixedBuffer(client *c, const char *s, size_t len) {
    if (listLength(c->reply)) return 0;
    size_t avail = c->buf_usable_size - (size_t)c->bufpos;
    if (len > avail) len = avail;
    memcpy(c->buf + c->bufpos, s, len);
    c->bufpos += (int)len;
    if ((size_t)c->bufpos > c->buf_peak) c->buf_peak = (size_t)c->bufpos;
    return len;
}

static clientReplyBlock *newReplyBlock(size_t min_size) {
    size_t usable;
    clientReplyBlock *b = zmalloc_usable(min_size + sizeof(clientReplyBlock), &usable);
    b->size = usable - sizeof(clientReplyBlock);
    b->used = 0;
    return b;
}

static void appendToReplyList(client *c, const char *s, size_t len) {
    listNode *ln = listLast(c->reply);
    clientReplyBlock *tail = ln ? listNodeValue(ln) : NULL;
    if (tail) {
        size_t avail = tail->size - tail->used;
        size_t n = len < avail ? len : avail;
        memcpy(tail->buf + tail->used, s, n);
        tail->used += n;
        s += n;
        len -= n;
    }
    if (len) {
        clientReplyBlock *b = newReplyBlock(len < PROTO_REPLY_CHUNK_BYTES ? PROTO_REPLY_CHUNK_BYTES : len);
        memcpy(b->buf, s, len);
        b->used = len;
        listAddNodeTail(c->reply, b);
        c->reply_bytes += b->size;
    }
    closeClientOnOutputBufferLimitReached(c, 1);
}

/* Push messages (pub/sub) addressed to the client whose command is running wait until
 * that command's whole reply is written, so that they never land inside it: a PUBLISH
 * to oneself inside MULTI, a keyspace event caused by one's own write in RESP3. The
 * (un)subscribe commands are the exception, pushes being their reply. The bytes wait
 * here until flushPendingPushMessages() (called once the command is done). */
static sds pending_pushes;
static client *pending_pushes_owner; /* only compared: it may have been freed since */

static int pushMustWait(client *c) {
    client *running = server.executing_client;
    if (c != server.current_client || !running || !running->cmd || pubsubCommandRepliesWithPush(running->cmd))
        return 0;
    /* A client served while another one's command is suspended (events processed during
     * a busy script) gets its pushes at once rather than mixed with the other's. */
    return !pending_pushes_owner || pending_pushes_owner == c;
}

void flushPendingPushMessages(client *c) {
    if (!pending_pushes_owner || (c && pending_pushes_owner != c)) return;
    /* Detached first: the buffer is empty and ownerless while the bytes are sent. */
    sds bytes = pending_pushes;
    pending_pushes = NULL;
    pending_pushes_owner = NULL;
    if (c) {
        uint64_t was_pushing = c->flags & CLIENT_PUSHING;
        c->flags |= CLIENT_PUSHING;
        addReplyProto(c, bytes, sdslen(bytes));
        if (!was_pushing) c->flags &= ~CLIENT_PUSHING;
    }
    if (!pending_pushes && sdsAllocSize(bytes) <= PROTO_REPLY_CHUNK_BYTES) {
        sdsclear(bytes); /* kept for the next time */
        pending_pushes = bytes;
    } else {
        sdsfree(bytes);
    }
}

/* Appends without asking prepareClientToWrite(): callers did. */
static inline void appendReply(client *c, const char *s, size_t len) {
    if ((c->flags & CLIENT_PUSHING) && pushMustWait(c)) {
        if (!pending_pushes) pending_pushes = sdsempty();
        pending_pushes = sdscatlen(pending_pushes, s, len);
        pending_pushes_owner = c;
        return;
    }
    size_t n = appendToFixedBuffer(c, s, len);
    if (n < len) appendToReplyList(c, s + n, len - n);
}

/* Writes "<prefix><n>\r\n" into buf (RESP_HEADER_MAX bytes) and returns its length. */
static size_t formatHeader(char *buf, char prefix, long long n) {
    buf[0] = prefix;
    size_t len = 1 + (size_t)ll2string(buf + 1, RESP_HEADER_MAX - 3, n);
    buf[len++] = '\r';
    buf[len++] = '\n';
    return len;
}

static void appendBulk(client *c, const char *p, size_t len) {
    char hdr[RESP_HEADER_MAX + SMALL_BULK_INLINE + 2];
    size_t hl = formatHeader(hdr, '$', (long long)len);
    if (len <= SMALL_BULK_INLINE) {
        memcpy(hdr + hl, p, len);
        hdr[hl + len] = '\r';
        hdr[hl + len + 1] = '\n';
        appendReply(c, hdr, hl + len + 2);
    } else {
        appendReply(c, hdr, hl);
        appendReply(c, p, len);
        appendReply(c, "\r\n", 2);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Plain replies                                                                          */
/* ------------------------------------------------------------------------------------ */

void addReplyProto(client *c, const char *s, size_t len) {
    if (prepareClientToWrite(c) != C_OK) return;
    appendReply(c, s, len);
}

void addReply(client *c, robj *obj) {
    if (prepareClientToWrite(c) != C_OK) return;
    if (sdsEncodedObject(obj)) {
        sds s = objectGetVal(obj);
        appendReply(c, s, sdslen(s));
    } else if (obj->encoding == OBJ_ENCODING_INT) {
        char buf[LONG_STR_SIZE];
        int len = ll2string(buf, sizeof(buf), (long)objectGetVal(obj));
        appendReply(c, buf, (size_t)len);
    }
}

void addReplySds(client *c, sds s) {
    if (prepareClientToWrite(c) == C_OK) appendReply(c, s, sdslen(s));
    sdsfree(s);
}

void addReplyBulkCBuffer(client *c, const void *p, size_t len) {
    if (prepareClientToWrite(c) != C_OK) return;
    appendBulk(c, p, len);
}

void addReplyBulk(client *c, robj *obj) {
    if (sdsEncodedObject(obj)) {
        sds s = objectGetVal(obj);
        addReplyBulkCBuffer(c, s, sdslen(s));
    } else {
        char buf[LONG_STR_SIZE];
        int len = ll2string(buf, sizeof(buf), (long)objectGetVal(obj));
        addReplyBulkCBuffer(c, buf, (size_t)len);
    }
}

void addReplyBulkCString(client *c, const char *s) {
    if (s == NULL)
        addReplyNull(c);
    else
        addReplyBulkCBuffer(c, s, strlen(s));
}

void addReplyBulkSds(client *c, sds s) {
    addReplyBulkCBuffer(c, s, sdslen(s));
    sdsfree(s);
}

void addReplyBulkLongLong(client *c, long long ll) {
    char buf[LONG_STR_SIZE];
    int len = ll2string(buf, sizeof(buf), ll);
    addReplyBulkCBuffer(c, buf, (size_t)len);
}

void addReplyLongLongWithPrefix(client *c, long long ll, char prefix) {
    if (prepareClientToWrite(c) != C_OK) return;
    char buf[RESP_HEADER_MAX];
    appendReply(c, buf, formatHeader(buf, prefix, ll));
}

void addReplyLongLong(client *c, long long ll) {
    addReplyLongLongWithPrefix(c, ll, ':');
}

void addReplyDouble(client *c, double d) {
    char buf[MAX_D2STRING_CHARS + 3];
    if (c->resp == 2) {
        int len = d2string(buf, sizeof(buf), d);
        addReplyBulkCBuffer(c, buf, (size_t)len);
        return;
    }
    buf[0] = ',';
    int len = 1 + d2string(buf + 1, sizeof(buf) - 3, d);
    buf[len++] = '\r';
    buf[len++] = '\n';
    addReplyProto(c, buf, (size_t)len);
}

void addReplyHumanLongDouble(client *c, long double d) {
    char buf[MAX_LONG_DOUBLE_CHARS + 3];
    if (c->resp == 2) {
        int len = ld2string(buf, sizeof(buf), d, LD_STR_HUMAN);
        addReplyBulkCBuffer(c, buf, (size_t)len);
        return;
    }
    buf[0] = ',';
    int len = 1 + ld2string(buf + 1, sizeof(buf) - 3, d, LD_STR_HUMAN);
    buf[len++] = '\r';
    buf[len++] = '\n';
    addReplyProto(c, buf, (size_t)len);
}

void addReplyBigNum(client *c, const char *num, size_t len) {
    if (c->resp == 2) {
        addReplyBulkCBuffer(c, num, len);
        return;
    }
    if (prepareClientToWrite(c) != C_OK) return;
    appendReply(c, "(", 1);
    appendReply(c, num, len);
    appendReply(c, "\r\n", 2);
}

void addReplyBool(client *c, int b) {
    if (c->resp == 2)
        addReplyProto(c, b ? ":1\r\n" : ":0\r\n", 4);
    else
        addReplyProto(c, b ? "#t\r\n" : "#f\r\n", 4);
}

/* RESP3 verbatim string "=<len>\r\n<ext>:<text>\r\n"; a plain bulk string in RESP2.
 * ext is the three-letter format, e.g. "txt". */
void addReplyVerbatim(client *c, const char *s, size_t len, const char *ext) {
    if (c->resp == 2) {
        addReplyBulkCBuffer(c, s, len);
        return;
    }
    if (prepareClientToWrite(c) != C_OK) return;
    char hdr[RESP_HEADER_MAX + 4];
    size_t hl = formatHeader(hdr, '=', (long long)len + 4);
    memcpy(hdr + hl, ext, 3);
    hdr[hl + 3] = ':';
    appendReply(c, hdr, hl + 4);
    appendReply(c, s, len);
    appendReply(c, "\r\n", 2);
}

void addReplyNull(client *c) {
    if (c->resp == 2)
        addReplyProto(c, "$-1\r\n", 5);
    else
        addReplyProto(c, "_\r\n", 3);
}

void addReplyNullArray(client *c) {
    if (c->resp == 2)
        addReplyProto(c, "*-1\r\n", 5);
    else
        addReplyProto(c, "_\r\n", 3);
}

/* "No result" for commands whose RESP2 answer is an empty array: null in RESP3. */
void addReplyIsNullOrEmpty(client *c) {
    if (c->resp == 2)
        addReplyEmptyArray(c);
    else
        addReplyNull(c);
}

void addReplyStatusLength(client *c, const char *s, size_t len) {
    if (prepareClientToWrite(c) != C_OK) return;
    appendReply(c, "+", 1);
    appendReply(c, s, len);
    appendReply(c, "\r\n", 2);
}

void addReplyStatus(client *c, const char *status) {
    addReplyStatusLength(c, status, strlen(status));
}

/* Newlines inside a status or error would end the line early: they become spaces,
 * after dropping any at the end. */
static sds sanitizeReplyLine(sds s) {
    s = sdstrim(s, "\r\n");
    return sdsmapchars(s, "\r\n", "  ", 2);
}

void addReplyStatusFormat(client *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sds s = sdscatvprintf(sdsempty(), fmt, ap);
    va_end(ap);
    s = sanitizeReplyLine(s);
    addReplyStatusLength(c, s, sdslen(s));
    sdsfree(s);
}

/* ------------------------------------------------------------------------------------ */
/* Aggregates and deferred lengths                                                        */
/* ------------------------------------------------------------------------------------ */

static void addReplyAggregateLen(client *c, long length, char prefix) {
    addReplyLongLongWithPrefix(c, length, prefix);
}

void addReplyArrayLen(client *c, long length) {
    addReplyAggregateLen(c, length, '*');
}

void addReplyMapLen(client *c, long length) {
    if (c->resp == 2)
        addReplyAggregateLen(c, length * 2, '*');
    else
        addReplyAggregateLen(c, length, '%');
}

void addReplySetLen(client *c, long length) {
    addReplyAggregateLen(c, length, c->resp == 2 ? '*' : '~');
}

/* Attributes do not exist in RESP2: nothing is sent there. */
void addReplyAttributeLen(client *c, long length) {
    if (c->resp >= 3) addReplyAggregateLen(c, length, '|');
}

void addReplyPushLen(client *c, long length) {
    addReplyAggregateLen(c, length, c->resp == 2 ? '*' : '>');
}

void addReplyEmptyArray(client *c) {
    addReplyProto(c, "*0\r\n", 4);
}

/* Returns a handle for setDeferred*(), or NULL when the client gets no replies. */
void *addReplyDeferredLen(client *c) {
    if (prepareClientToWrite(c) != C_OK) return NULL;
    listAddNodeTail(c->reply, NULL);
    return listLast(c->reply);
}

/* Puts len bytes where the placeholder node is: at the end of what precedes it or at
 * the start of what follows when there is room, else in a block of its own. */
static void setDeferredReply(client *c, void *node, const char *s, size_t len) {
    listNode *ln = node;
    listNode *prev = listPrevNode(ln), *next = listNextNode(ln);
    if (prev == NULL && c->buf_usable_size - (size_t)c->bufpos >= len) {
        memcpy(c->buf + c->bufpos, s, len);
        c->bufpos += (int)len;
        if ((size_t)c->bufpos > c->buf_peak) c->buf_peak = (size_t)c->bufpos;
        listDelNode(c->reply, ln);
        return;
    }
    clientReplyBlock *pb = prev ? listNodeValue(prev) : NULL;
    if (pb && pb->size - pb->used >= len) {
        memcpy(pb->buf + pb->used, s, len);
        pb->used += len;
        listDelNode(c->reply, ln);
        return;
    }
    clientReplyBlock *nb = next ? listNodeValue(next) : NULL;
    if (nb && nb->size - nb->used >= len && nb->used < DEFERRED_PREPEND_MAX_MOVE) {
        memmove(nb->buf + len, nb->buf, nb->used);
        memcpy(nb->buf, s, len);
        nb->used += len;
        listDelNode(c->reply, ln);
        return;
    }
    clientReplyBlock *b = newReplyBlock(len);
    memcpy(b->buf, s, len);
    b->used = len;
    ln->value = b;
    c->reply_bytes += b->size;
    closeClientOnOutputBufferLimitReached(c, 1);
}

static void setDeferredAggregateLen(client *c, void *node, long length, char prefix) {
    if (node == NULL) return;
    char buf[RESP_HEADER_MAX];
    setDeferredReply(c, node, buf, formatHeader(buf, prefix, length));
}

void setDeferredArrayLen(client *c, void *node, long length) {
    setDeferredAggregateLen(c, node, length, '*');
}

void setDeferredMapLen(client *c, void *node, long length) {
    if (c->resp == 2)
        setDeferredAggregateLen(c, node, length * 2, '*');
    else
        setDeferredAggregateLen(c, node, length, '%');
}

void setDeferredSetLen(client *c, void *node, long length) {
    setDeferredAggregateLen(c, node, length, c->resp == 2 ? '*' : '~');
}

void setDeferredAttributeLen(client *c, void *node, long length) {
    if (c->resp >= 3) setDeferredAggregateLen(c, node, length, '|');
}

void setDeferredReplyBulkSds(client *c, void *node, sds s) {
    if (node != NULL) {
        char hdr[RESP_HEADER_MAX];
        size_t hl = formatHeader(hdr, '$', (long long)sdslen(s));
        sds reply = sdsnewlen(hdr, hl);
        reply = sdscatsds(reply, s);
        reply = sdscatlen(reply, "\r\n", 2);
        setDeferredReply(c, node, reply, sdslen(reply));
        sdsfree(reply);
    }
    sdsfree(s);
}

/* ------------------------------------------------------------------------------------ */
/* Help, modules, pub/sub messages                                                        */
/* ------------------------------------------------------------------------------------ */

void addReplyHelp(client *c, const char **help) {
    long lines = 0;
    while (help[lines]) lines++;
    sds cmd = sdsnew(objectGetVal(c->argv[0]));
    sdstoupper(cmd);
    addReplyArrayLen(c, lines + 3); /* the heading, the lines, then HELP and its text */
    addReplyStatusFormat(c, "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", cmd);
    sdsfree(cmd);
    for (long i = 0; i < lines; i++) addReplyStatus(c, help[i]);
    addReplyStatus(c, "HELP");
    addReplyStatus(c, "    Print this help.");
}

void addReplySubcommandSyntaxError(client *c) {
    sds cmd = sdsnew(objectGetVal(c->argv[0]));
    sdstoupper(cmd);
    addReplyErrorFormat(c, "unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP.",
                        c->argc > 1 ? (char *)objectGetVal(c->argv[1]) : "", cmd);
    sdsfree(cmd);
}

/* No module system yet: always the empty list. */
void addReplyLoadedModules(client *c) {
    addReplyArrayLen(c, 0);
}

/* ------------------------------------------------------------------------------------ */
/* Errors                                                                                 */
/* ------------------------------------------------------------------------------------ */

/* Error codes that callers may write at the start of a message without a dash. Any
 * other first word (e.g. "CLIENT PAUSE mode must be ...") gets "ERR " in front. */
static const char *known_error_codes[] = {
    "ERR", "WRONGTYPE", "NOAUTH", "WRONGPASS", "NOPERM", "NOPROTO", "NOSCRIPT", "BUSY",
    "BUSYKEY", "BUSYGROUP", "NOGROUP", "LOADING", "OOM", "EXECABORT", "READONLY", "MISCONF",
    "MASTERDOWN", "NOREPLICAS", "NOTBUSY", "UNKILLABLE", "UNBLOCKED", "MOVED", "ASK",
    "TRYAGAIN", "CROSSSLOT", "CLUSTERDOWN", "DENIED", "NOTREADY", "NOMASTERLINK", NULL};

/* Length of the error code at the start of s when it is one of the known codes, else 0. */
static size_t knownErrorCodeLength(const char *s, size_t len) {
    size_t n = 0;
    while (n < len && s[n] >= 'A' && s[n] <= 'Z') n++;
    if (n == 0 || (n < len && s[n] != ' ')) return 0;
    for (int i = 0; known_error_codes[i]; i++) {
        if (strlen(known_error_codes[i]) == n && memcmp(known_error_codes[i], s, n) == 0) return n;
    }
    return 0;
}

static void countErrorReply(client *c, const char *code, size_t codelen, int flags) {
    if (flags & ERR_REPLY_FLAG_NO_STATS_UPDATE) {
        /* Not in the error stats, but the command still failed. */
        if (c && c->realcmd) c->realcmd->failed_calls++;
        return;
    }
    server.stat_total_error_replies++;
    incrementErrorCount(code, codelen);
}

/* s is an error line without CRLF: "-CODE message", or a message meaning "ERR". */
void afterErrorReply(client *c, const char *s, size_t len, int flags) {
    if (len == 0 || s[0] != '-') {
        countErrorReply(c, "ERR", 3, flags);
        return;
    }
    size_t scan = len < 32 ? len : 32;
    const char *space = memchr(s, ' ', scan);
    if (space)
        countErrorReply(c, s + 1, (size_t)(space - s - 1), flags);
    else
        countErrorReply(c, "ERR", 3, flags);
}

/* Sends "-<code> <text>\r\n": a leading '-' or a known code is kept, "ERR " is added
 * otherwise. The text must hold no CR or LF (callers sanitize). */
static void addReplyErrorText(client *c, const char *s, size_t len, int flags) {
    const char *code;
    size_t codelen;
    int has_dash = len > 0 && s[0] == '-';
    if (has_dash) {
        code = s + 1;
        const char *space = memchr(s, ' ', len);
        codelen = space ? (size_t)(space - code) : 0;
        if (codelen == 0) code = "ERR", codelen = 3;
    } else if ((codelen = knownErrorCodeLength(s, len)) != 0) {
        code = s;
    } else {
        code = "ERR";
        codelen = 3;
    }
    if (prepareClientToWrite(c) == C_OK) {
        if (has_dash) {
            appendReply(c, s, len);
        } else {
            appendReply(c, code == s ? "-" : "-ERR ", code == s ? 1 : 5);
            appendReply(c, s, len);
        }
        appendReply(c, "\r\n", 2);
    }
    countErrorReply(c, code, codelen, flags);
}

static int needsSanitizing(const char *s, size_t len) {
    return memchr(s, '\r', len) != NULL || memchr(s, '\n', len) != NULL;
}

static void addReplyErrorLengthEx(client *c, const char *s, size_t len, int flags) {
    if (!needsSanitizing(s, len)) {
        addReplyErrorText(c, s, len, flags);
        return;
    }
    sds copy = sanitizeReplyLine(sdsnewlen(s, len));
    addReplyErrorText(c, copy, sdslen(copy), flags);
    sdsfree(copy);
}

void addReplyErrorLength(client *c, const char *s, size_t len) {
    addReplyErrorLengthEx(c, s, len, 0);
}

void addReplyError(client *c, const char *err) {
    addReplyErrorLengthEx(c, err, strlen(err), 0);
}

void addReplyErrorSds(client *c, sds err) {
    addReplyErrorLengthEx(c, err, sdslen(err), 0);
    sdsfree(err);
}

/* err holds a complete error reply ("-ERR syntax error\r\n"), as the shared errors do. */
void addReplyErrorObject(client *c, robj *err) {
    addReply(c, err);
    sds s = objectGetVal(err);
    size_t len = sdslen(s);
    afterErrorReply(c, s, len >= 2 ? len - 2 : len, 0);
}

static void addReplyErrorFormatVa(client *c, int flags, const char *fmt, va_list ap) {
    sds s = sdscatvprintf(sdsempty(), fmt, ap);
    s = sanitizeReplyLine(s);
    addReplyErrorText(c, s, sdslen(s), flags);
    sdsfree(s);
}

void addReplyErrorFormat(client *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    addReplyErrorFormatVa(c, 0, fmt, ap);
    va_end(ap);
}

void addReplyErrorFormatEx(client *c, int flags, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    addReplyErrorFormatVa(c, flags, fmt, ap);
    va_end(ap);
}

void addReplyErrorArity(client *c) {
    const char *name = c->cmd ? c->cmd->fullname : (char *)objectGetVal(c->argv[0]);
    addReplyErrorFormat(c, "wrong number of arguments for '%s' command", name);
}

void addReplyErrorExpireTime(client *c) {
    const char *name = c->cmd ? c->cmd->fullname : (char *)objectGetVal(c->argv[0]);
    addReplyErrorFormat(c, "invalid expire time in '%s' command", name);
}

/* ------------------------------------------------------------------------------------ */
/* Argument parsing that replies on error                                                 */
/* ------------------------------------------------------------------------------------ */

int getLongLongFromObjectOrReply(client *c, robj *o, long long *target, const char *msg) {
    long long value;
    if (getLongLongFromObject(o, &value) != C_OK) {
        addReplyError(c, msg ? msg : "value is not an integer or out of range");
        return C_ERR;
    }
    *target = value;
    return C_OK;
}

int getLongFromObjectOrReply(client *c, robj *o, long *target, const char *msg) {
    long long value;
    if (getLongLongFromObjectOrReply(c, o, &value, msg) != C_OK) return C_ERR;
    if (value < LONG_MIN || value > LONG_MAX) {
        addReplyError(c, msg ? msg : "value is out of range");
        return C_ERR;
    }
    *target = (long)value;
    return C_OK;
}

int getRangeLongFromObjectOrReply(client *c, robj *o, long min, long max, long *target, const char *msg) {
    long value;
    if (getLongFromObjectOrReply(c, o, &value, msg) != C_OK) return C_ERR;
    if (value < min || value > max) {
        if (msg)
            addReplyError(c, msg);
        else
            addReplyErrorFormat(c, "value is out of range, value must between %ld and %ld", min, max);
        return C_ERR;
    }
    *target = value;
    return C_OK;
}

int getIntFromObjectOrReply(client *c, robj *o, int *target, const char *msg) {
    long value;
    if (getRangeLongFromObjectOrReply(c, o, INT_MIN, INT_MAX, &value, msg) != C_OK) return C_ERR;
    *target = (int)value;
    return C_OK;
}

int getPositiveLongFromObjectOrReply(client *c, robj *o, long *target, const char *msg) {
    return getRangeLongFromObjectOrReply(c, o, 0, LONG_MAX, target,
                                         msg ? msg : "value is out of range, must be positive");
}

int getDoubleFromObjectOrReply(client *c, robj *o, double *target, const char *msg) {
    double value;
    if (getDoubleFromObject(o, &value) != C_OK) {
        addReplyError(c, msg ? msg : "value is not a valid float");
        return C_ERR;
    }
    *target = value;
    return C_OK;
}

int getLongDoubleFromObjectOrReply(client *c, robj *o, long double *target, const char *msg) {
    long double value;
    if (getLongDoubleFromObject(o, &value) != C_OK) {
        addReplyError(c, msg ? msg : "value is not a valid float");
        return C_ERR;
    }
    *target = value;
    return C_OK;
}

int checkType(client *c, robj *o, int type) {
    if (o && o->type != (unsigned)type) {
        addReplyErrorObject(c, shared.wrongtypeerr);
        return 1;
    }
    return 0;
}
