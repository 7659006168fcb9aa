/* slowlog.c -- the slow log (see slowlog.h).
 *
 * server.slowlog is a list of slowlogEntry, newest first; the oldest entries fall off
 * the tail once there are more than slowlog-max-len. Entry ids grow by one from the
 * start of the process and are not reset by SLOWLOG RESET, so a client polling the
 * log can tell which entries it has already seen.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "slowlog.h"
#include "commands.h"
#include "networking.h"
#include "server.h"
#include "util.h"
#include "zmalloc.h"

#define SLOWLOG_DEFAULT_GET_COUNT 10

typedef struct slowlogEntry {
    long long id;
    time_t time;
    long long duration; /* microseconds */
    int argc;
    sds *argv;   /* bounded copy of the command line */
    sds peerid;  /* "ip:port" of the client */
    sds cname;   /* client name, "" if unset */
} slowlogEntry;

static void slowlogFreeEntry(void *ptr) {
    slowlogEntry *e = ptr;
    for (int j = 0; j < e->argc; j++) sdsfree(e->argv[j]);
    zfree(e->argv);
    sdsfree(e->peerid);
    sdsfree(e->cname);
    zfree(e);
}

void slowlogInit(void) {
    if (server.slowlog) return;
    server.slowlog = listCreate();
    listSetFreeMethod(server.slowlog, slowlogFreeEntry);
}

void slowlogReset(void) {
    slowlogInit();
    listEmpty(server.slowlog);
}

/* The argument as the slow log keeps it: at most SLOWLOG_ENTRY_MAX_STRING bytes,
 * followed by a note of how many were left out. */
static sds slowlogArgument(robj *o) {
    if (!sdsEncodedObject(o)) {
        long long v = 0;
        getLongLongFromObject(o, &v);
        return sdsfromlonglong(v);
    }
    sds s = objectGetVal(o);
    size_t len = sdslen(s);
    if (len <= SLOWLOG_ENTRY_MAX_STRING) return sdsnewlen(s, len);
    sds t = sdsnewlen(s, SLOWLOG_ENTRY_MAX_STRING);
    return sdscatprintf(t, "... (%lu more bytes)", (unsigned long)(len - SLOWLOG_ENTRY_MAX_STRING));
}

static slowlogEntry *slowlogCreateEntry(client *c, robj **argv, int argc, long long duration) {
    slowlogEntry *e = zmalloc(sizeof(*e));
    int kept = argc > SLOWLOG_ENTRY_MAX_ARGC ? SLOWLOG_ENTRY_MAX_ARGC : argc;
    e->argc = kept;
    e->argv = zmalloc(sizeof(sds) * (kept ? kept : 1));
    for (int j = 0; j < kept; j++) {
        if (kept != argc && j == kept - 1)
            e->argv[j] = sdscatprintf(sdsempty(), "... (%d more arguments)", argc - kept + 1);
        else
            e->argv[j] = slowlogArgument(argv[j]);
    }
    e->time = time(NULL);
    e->duration = duration;
    e->id = server.slowlog_entry_id++;
    const char *peer = c->fd != -1 ? getClientPeerId(c) : NULL;
    e->peerid = sdsnew(peer ? peer : "");
    e->cname = c->name ? sdsnew(objectGetVal(c->name)) : sdsempty();
    return e;
}

void slowlogPushCurrentCommand(client *c, serverCommand *cmd, long long duration) {
    if (server.slowlog_log_slower_than < 0 || duration < server.slowlog_log_slower_than) return;
    if (cmd && (cmd->flags & CMD_SKIP_SLOWLOG)) return;
    slowlogInit();
    robj **argv = c->original_argv ? c->original_argv : c->argv;
    int argc = c->original_argv ? c->original_argc : c->argc;
    listAddNodeHead(server.slowlog, slowlogCreateEntry(c, argv, argc, duration));
    while (listLength(server.slowlog) > server.slowlog_max_len) listDelNode(server.slowlog, listLast(server.slowlog));
}

/* SLOWLOG GET [count] */
void slowlogGetCommand(client *c) {
    long count = SLOWLOG_DEFAULT_GET_COUNT;
    slowlogInit();
    if (c->argc > 3) {
        addReplySubcommandSyntaxError(c);
        return;
    }
    if (c->argc == 3) {
        if (getRangeLongFromObjectOrReply(c, c->argv[2], -1, LONG_MAX, &count,
                                          "count should be greater than or equal to -1") != C_OK)
            return;
        if (count == -1) count = (long)listLength(server.slowlog);
    }
    if ((unsigned long)count > listLength(server.slowlog)) count = (long)listLength(server.slowlog);
    addReplyArrayLen(c, count);
    listIter li;
    listNode *ln;
    listRewind(server.slowlog, &li);
    while (count-- > 0 && (ln = listNext(&li)) != NULL) {
        slowlogEntry *e = listNodeValue(ln);
        addReplyArrayLen(c, 6);
        addReplyLongLong(c, e->id);
        addReplyLongLong(c, (long long)e->time);
        addReplyLongLong(c, e->duration);
        addReplyArrayLen(c, e->argc);
        for (int j = 0; j < e->argc; j++) addReplyBulkCBuffer(c, e->argv[j], sdslen(e->argv[j]));
        addReplyBulkCBuffer(c, e->peerid, sdslen(e->peerid));
        addReplyBulkCBuffer(c, e->cname, sdslen(e->cname));
    }
}

void slowlogLenCommand(client *c) {
    addReplyLongLong(c, server.slowlog ? (long long)listLength(server.slowlog) : 0);
}

void slowlogResetCommand(client *c) {
    slowlogReset();
    addReply(c, shared.ok);
}

void slowlogHelpCommand(client *c) {
    static const char *help[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL};
    addReplyHelp(c, help);
}
