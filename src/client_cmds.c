/* client_cmds.c -- the connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH,
 * MONITOR and the CLIENT subcommands; authentication of the default user against
 * requirepass (until ACLs land); and the MONITOR feed.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "blocked.h"
#include "commands.h"
#include "db.h"
#include "networking.h"
#include "replication.h"
#include "server.h"
#include "util.h"
#include "version.h"

static char default_user[] = "default";

static const char *argStr(client *c, int i) {
    return objectGetVal(c->argv[i]);
}

/* ------------------------------------------------------------------------------------ */
/* Authentication                                                                         */
/* ------------------------------------------------------------------------------------ */

static int passwordRequired(void) {
    return server.requirepass != NULL && server.requirepass[0] != '\0';
}

/* Without a password every client is authenticated; with one, those that
 * authenticated, or that connected before it was set, are. */
int clientIsAuthenticated(client *c) {
    return (c->flags & CLIENT_AUTHENTICATED) || !passwordRequired();
}

void clientSetDefaultAuth(client *c) {
    c->user_name = default_user;
    if (passwordRequired())
        c->flags &= ~CLIENT_AUTHENTICATED;
    else
        c->flags |= CLIENT_AUTHENTICATED;
}

/* Compares without an early exit so the time taken does not reveal the match length. */
static int secretsEqual(const char *a, size_t alen, const char *b, size_t blen) {
    unsigned char diff = alen != blen;
    size_t n = alen > blen ? alen : blen;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < alen ? (unsigned char)a[i] : 0;
        unsigned char y = i < blen ? (unsigned char)b[i] : 0;
        diff |= x ^ y;
    }
    return diff == 0;
}

/* Authenticates c as `user` with `pass`; on failure replies WRONGPASS and returns C_ERR. */
static int authenticateClient(client *c, robj *user, robj *pass) {
    sds u = objectGetVal(user), p = objectGetVal(pass);
    int ok = sdslen(u) == strlen(default_user) && !memcmp(u, default_user, sdslen(u));
    if (ok && passwordRequired()) ok = secretsEqual(p, sdslen(p), server.requirepass, strlen(server.requirepass));
    if (!ok) {
        addReplyError(c, "-WRONGPASS invalid username-password pair or user is disabled.");
        return C_ERR;
    }
    c->flags |= CLIENT_AUTHENTICATED;
    c->user_name = default_user;
    return C_OK;
}

void authCommand(client *c) {
    if (c->argc > 3) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    redactClientCommandArgument(c, 1);
    robj *user, *pass;
    robj *default_name = NULL;
    if (c->argc == 2) {
        if (!passwordRequired()) {
            addReplyError(c, "AUTH <password> called without any password configured for the default user. "
                             "Are you sure your configuration is correct?");
            return;
        }
        default_name = createStringObject(default_user, strlen(default_user));
        user = default_name;
        pass = c->argv[1];
    } else {
        redactClientCommandArgument(c, 2);
        user = c->argv[1];
        pass = c->argv[2];
    }
    if (authenticateClient(c, user, pass) == C_OK) addReply(c, shared.ok);
    if (default_name) decrRefCount(default_name);
}

/* ------------------------------------------------------------------------------------ */
/* PING, ECHO, QUIT, RESET, HELLO                                                         */
/* ------------------------------------------------------------------------------------ */

void pingCommand(client *c) {
    if (c->argc > 2) {
        addReplyErrorArity(c);
        return;
    }
    if ((c->flags & CLIENT_PUBSUB) && c->resp == 2) {
        /* A subscribed RESP2 client can only take arrays. */
        addReplyArrayLen(c, 2);
        addReplyBulkCBuffer(c, "pong", 4);
        if (c->argc == 1)
            addReplyBulkCBuffer(c, "", 0);
        else
            addReplyBulk(c, c->argv[1]);
        return;
    }
    if (c->argc == 1)
        addReply(c, shared.pong);
    else
        addReplyBulk(c, c->argv[1]);
}

void echoCommand(client *c) {
    addReplyBulk(c, c->argv[1]);
}

void quitCommand(client *c) {
    addReply(c, shared.ok);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

/* Printable ASCII without space: '!' to '~'. */
static int isValidClientAttr(robj *o) {
    sds s = objectGetVal(o);
    for (size_t i = 0; i < sdslen(s); i++)
        if (s[i] < '!' || s[i] > '~') return 0;
    return 1;
}

static void replaceClientAttr(robj **slot, robj *value) {
    if (*slot) decrRefCount(*slot);
    *slot = NULL;
    if (sdslen(objectGetVal(value)) == 0) return; /* empty clears it */
    *slot = value;
    incrRefCount(value);
}

static const char *invalid_name_error = "Client names cannot contain spaces, newlines or special characters.";

/* Back to the state of a new connection: RESP2, db 0, no name, default user, no
 * transaction, subscriptions, tracking or per-connection modes. */
static void clearClientConnectionState(client *c) {
    if (c->flags & CLIENT_TRACKING) disableTracking(c);
    selectDb(c, 0);
    c->resp = 2;
    clientSetDefaultAuth(c);
    discardTransaction(c);
    freeClientPubSubData(c);
    if (c->name) {
        decrRefCount(c->name);
        c->name = NULL;
    }
    /* lib-name and lib-ver describe the library behind the connection: they stay. */
    c->flags &= ~(CLIENT_ASKING | CLIENT_READONLY | CLIENT_PUBSUB | CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT |
                  CLIENT_NO_TOUCH | CLIENT_NO_EVICT);
}

void resetCommand(client *c) {
    if (c->flags & CLIENT_MONITOR) {
        listNode *ln = listSearchKey(server.monitors, c);
        if (ln) listDelNode(server.monitors, ln);
        c->flags &= ~CLIENT_MONITOR;
    }
    if (c->flags & (CLIENT_REPLICA | CLIENT_PRIMARY | CLIENT_MODULE)) {
        addReplyError(c, "can only reset normal client connections");
        return;
    }
    clearClientConnectionState(c);
    addReplyStatus(c, "RESET");
}

void helloCommand(client *c) {
    long long ver = 0;
    int next = 1;
    if (c->argc >= 2) {
        if (getLongLongFromObjectOrReply(c, c->argv[1], &ver, "Protocol version is not an integer or out of range") !=
            C_OK)
            return;
        next = 2;
        if (ver < 2 || ver > 3) {
            addReplyError(c, "-NOPROTO unsupported protocol version");
            return;
        }
    }
    robj *user = NULL, *pass = NULL, *name = NULL;
    for (int j = next; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        const char *opt = argStr(c, j);
        if (!strcasecmp(opt, "AUTH") && more >= 2) {
            redactClientCommandArgument(c, j + 1);
            redactClientCommandArgument(c, j + 2);
            user = c->argv[j + 1];
            pass = c->argv[j + 2];
            j += 2;
        } else if (!strcasecmp(opt, "SETNAME") && more) {
            name = c->argv[j + 1];
            if (!isValidClientAttr(name)) {
                addReplyError(c, invalid_name_error);
                return;
            }
            j++;
        } else {
            addReplyErrorFormat(c, "Syntax error in HELLO option '%s'", opt);
            return;
        }
    }
    if (user && authenticateClient(c, user, pass) != C_OK) return;
    if (!clientIsAuthenticated(c)) {
        addReplyError(c, "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
                         "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
                         "protocol version at the same time");
        return;
    }
    if (name) replaceClientAttr(&c->name, name);
    if (ver) c->resp = (int)ver;
    addReplyMapLen(c, 7);
    addReplyBulkCString(c, "server");
    addReplyBulkCString(c, "valkey");
    addReplyBulkCString(c, "version");
    addReplyBulkCString(c, VALKEY_VERSION);
    addReplyBulkCString(c, "proto");
    addReplyLongLong(c, c->resp);
    addReplyBulkCString(c, "id");
    addReplyLongLong(c, (long long)c->id);
    addReplyBulkCString(c, "mode");
    addReplyBulkCString(c, "standalone");
    addReplyBulkCString(c, "role");
    addReplyBulkCString(c, replicationIsReplica() ? "replica" : "master");
    addReplyBulkCString(c, "modules");
    addReplyLoadedModules(c);
}

/* ------------------------------------------------------------------------------------ */
/* MONITOR                                                                                */
/* ------------------------------------------------------------------------------------ */

void monitorCommand(client *c) {
    if (c->flags & CLIENT_DENY_BLOCKING) {
        /* Such a client expects exactly one reply per command. */
        addReplyError(c, "MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (c->flags & (CLIENT_REPLICA | CLIENT_MONITOR)) return; /* already streaming */
    c->flags |= CLIENT_MONITOR;
    listAddNodeTail(server.monitors, c);
    addReply(c, shared.ok);
}

/* Sends `+<sec>.<usec> [<db> <origin>] "arg" ...` to every monitor. */
void replicationFeedMonitors(client *c, list *monitors, int dictid, robj **argv, int argc) {
    if (!listLength(monitors) || server.loading) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    sds line = sdscatprintf(sdsempty(), "+%ld.%06ld ", (long)tv.tv_sec, (long)tv.tv_usec);
    if (c->flags & CLIENT_SCRIPT)
        line = sdscatprintf(line, "[%d lua] ", dictid);
    else if (c->flags & CLIENT_UNIX_SOCKET)
        line = sdscatprintf(line, "[%d unix:%s] ", dictid, server.unixsocket);
    else
        line = sdscatprintf(line, "[%d %s] ", dictid, getClientPeerId(c));
    for (int j = 0; j < argc; j++) {
        if (j) line = sdscatlen(line, " ", 1);
        if (argv[j]->encoding == OBJ_ENCODING_INT) {
            line = sdscatprintf(line, "\"%ld\"", (long)objectGetVal(argv[j]));
        } else {
            sds arg = objectGetVal(argv[j]);
            line = sdscatrepr(line, arg, sdslen(arg));
        }
    }
    line = sdscatlen(line, "\r\n", 2);
    robj *msg = createObject(OBJ_STRING, line);
    listIter li;
    listNode *ln;
    listRewind(monitors, &li);
    while ((ln = listNext(&li)) != NULL) addReply(listNodeValue(ln), msg);
    decrRefCount(msg);
}

/* ------------------------------------------------------------------------------------ */
/* CLIENT                                                                                 */
/* ------------------------------------------------------------------------------------ */

void clientHelpCommand(client *c) {
    static const char *help[] = {
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "CAPA <option> [options...]",
        "    The client claims its some capability options. Options are:",
        "    * REDIRECT",
        "      The client can handle redirection during primary and replica failover in standalone mode.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * ID <client-id>",
        "      Kill connections by client id.",
        "    * MAXAGE <maxage>",
        "      Kill connections older than the specified age.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
        NULL};
    addReplyHelp(c, help);
}

void clientIdCommand(client *c) {
    addReplyLongLong(c, (long long)c->id);
}

void clientGetnameCommand(client *c) {
    if (c->name)
        addReplyBulk(c, c->name);
    else
        addReplyNull(c);
}

void clientSetnameCommand(client *c) {
    if (!isValidClientAttr(c->argv[2])) {
        addReplyError(c, invalid_name_error);
        return;
    }
    replaceClientAttr(&c->name, c->argv[2]);
    addReply(c, shared.ok);
}

void clientSetinfoCommand(client *c) {
    const char *attr = argStr(c, 2);
    robj **slot;
    if (!strcasecmp(attr, "lib-name"))
        slot = &c->lib_name;
    else if (!strcasecmp(attr, "lib-ver"))
        slot = &c->lib_ver;
    else {
        addReplyErrorFormat(c, "Unrecognized option '%s'", attr);
        return;
    }
    if (!isValidClientAttr(c->argv[3])) {
        addReplyErrorFormat(c, "%s cannot contain spaces, newlines or special characters.", attr);
        return;
    }
    replaceClientAttr(slot, c->argv[3]);
    addReply(c, shared.ok);
}

void clientInfoCommand(client *c) {
    sds info = catClientInfoString(sdsempty(), c);
    info = sdscatlen(info, "\n", 1);
    addReplyVerbatim(c, info, sdslen(info), "txt");
    sdsfree(info);
}

void clientListCommand(client *c) {
    sds out;
    if (c->argc == 4 && !strcasecmp(argStr(c, 2), "type")) {
        int type = getClientTypeByName(argStr(c, 3));
        if (type == -1) {
            addReplyErrorFormat(c, "Unknown client type '%s'", argStr(c, 3));
            return;
        }
        out = getAllClientsInfoString(type);
    } else if (c->argc > 3 && !strcasecmp(argStr(c, 2), "id")) {
        out = sdsempty();
        for (int j = 3; j < c->argc; j++) {
            long id;
            if (getRangeLongFromObjectOrReply(c, c->argv[j], 0, LONG_MAX, &id, "Invalid client ID") != C_OK) {
                sdsfree(out);
                return;
            }
            client *target = lookupClientByID((uint64_t)id);
            if (target) {
                out = catClientInfoString(out, target);
                out = sdscatlen(out, "\n", 1);
            }
        }
    } else if (c->argc == 2) {
        out = getAllClientsInfoString(-1);
    } else {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    addReplyVerbatim(c, out, sdslen(out), "txt");
    sdsfree(out);
}

/* Closes target: the calling client after its reply, any other one right away. */
static void killClient(client *c, client *target) {
    if (target == c)
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    else
        freeClient(target);
}

typedef struct {
    int has_id;
    uint64_t id;
    int type; /* -1: any */
    const char *addr, *laddr, *user;
    int skipme;
    long long max_age; /* 0: any */
} clientKillFilter;

/* Parses "CLIENT KILL <filter> <value> ...". Replies and returns C_ERR on error. */
static int parseClientKillFilter(client *c, clientKillFilter *f) {
    for (int i = 2; i < c->argc; i += 2) {
        const char *opt = argStr(c, i);
        if (i + 1 >= c->argc) {
            addReplyErrorObject(c, shared.syntaxerr);
            return C_ERR;
        }
        const char *val = argStr(c, i + 1);
        if (!strcasecmp(opt, "id")) {
            long id;
            if (getRangeLongFromObjectOrReply(c, c->argv[i + 1], 1, LONG_MAX, &id,
                                              "client-id should be greater than 0") != C_OK)
                return C_ERR;
            f->has_id = 1;
            f->id = (uint64_t)id;
        } else if (!strcasecmp(opt, "type")) {
            f->type = getClientTypeByName(val);
            if (f->type == -1) {
                addReplyErrorFormat(c, "Unknown client type '%s'", val);
                return C_ERR;
            }
        } else if (!strcasecmp(opt, "addr")) {
            f->addr = val;
        } else if (!strcasecmp(opt, "laddr")) {
            f->laddr = val;
        } else if (!strcasecmp(opt, "user")) {
            if (strcmp(val, default_user) != 0) {
                addReplyErrorFormat(c, "No such user '%s'", val);
                return C_ERR;
            }
            f->user = val;
        } else if (!strcasecmp(opt, "skipme")) {
            if (!strcasecmp(val, "yes"))
                f->skipme = 1;
            else if (!strcasecmp(val, "no"))
                f->skipme = 0;
            else {
                addReplyErrorObject(c, shared.syntaxerr);
                return C_ERR;
            }
        } else if (!strcasecmp(opt, "maxage")) {
            if (getLongLongFromObjectOrReply(c, c->argv[i + 1], &f->max_age, NULL) != C_OK) return C_ERR;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return C_ERR;
        }
    }
    return C_OK;
}

static int clientMatchesKillFilter(client *c, client *target, const clientKillFilter *f) {
    if (f->skipme && target == c) return 0;
    if (f->has_id && target->id != f->id) return 0;
    if (f->type != -1 && getClientType(target) != f->type) return 0;
    if (f->addr && strcmp(getClientPeerId(target), f->addr) != 0) return 0;
    if (f->laddr && strcmp(getClientSockname(target), f->laddr) != 0) return 0;
    if (f->user && (target->user_name == NULL || strcmp(target->user_name, f->user) != 0)) return 0;
    if (f->max_age && (long long)(server.unixtime - target->ctime) <= f->max_age) return 0;
    return 1;
}

void clientKillCommand(client *c) {
    if (c->argc == 3) {
        /* The old form: an address, +OK or an error, and it may name the caller. */
        const char *addr = argStr(c, 2);
        client *target = NULL;
        listIter li;
        listNode *ln;
        listRewind(server.clients, &li);
        while ((ln = listNext(&li)) != NULL) {
            client *cl = listNodeValue(ln);
            if (!strcmp(getClientPeerId(cl), addr)) {
                target = cl;
                break;
            }
        }
        if (target == NULL) {
            addReplyError(c, "No such client");
            return;
        }
        addReply(c, shared.ok);
        killClient(c, target);
        return;
    }
    clientKillFilter f = {.type = -1, .skipme = 1};
    if (parseClientKillFilter(c, &f) != C_OK) return;
    long long killed = 0;
    int kill_self = 0;
    listIter li;
    listNode *ln;
    listRewind(server.clients, &li);
    while ((ln = listNext(&li)) != NULL) {
        client *target = listNodeValue(ln);
        if (!clientMatchesKillFilter(c, target, &f)) continue;
        if (target == c)
            kill_self = 1;
        else
            freeClient(target);
        killed++;
    }
    addReplyLongLong(c, killed);
    if (kill_self) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static int parseOnOff(client *c, int *on) {
    const char *v = argStr(c, 2);
    if (!strcasecmp(v, "on"))
        *on = 1;
    else if (!strcasecmp(v, "off"))
        *on = 0;
    else {
        addReplyErrorObject(c, shared.syntaxerr);
        return C_ERR;
    }
    return C_OK;
}

void clientNoEvictCommand(client *c) {
    int on;
    if (parseOnOff(c, &on) != C_OK) return;
    if (on)
        c->flags |= CLIENT_NO_EVICT;
    else
        c->flags &= ~CLIENT_NO_EVICT;
    addReply(c, shared.ok);
}

void clientNoTouchCommand(client *c) {
    int on;
    if (parseOnOff(c, &on) != C_OK) return;
    if (on)
        c->flags |= CLIENT_NO_TOUCH;
    else
        c->flags &= ~CLIENT_NO_TOUCH;
    addReply(c, shared.ok);
}

void clientReplyCommand(client *c) {
    const char *mode = argStr(c, 2);
    if (!strcasecmp(mode, "on")) {
        c->flags &= ~(CLIENT_REPLY_SKIP | CLIENT_REPLY_OFF);
        addReply(c, shared.ok);
    } else if (!strcasecmp(mode, "off")) {
        c->flags |= CLIENT_REPLY_OFF;
    } else if (!strcasecmp(mode, "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF)) c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        addReplyErrorObject(c, shared.syntaxerr);
    }
}

/* A millisecond timeout turned into an absolute time (0 stays 0). */
static int getPauseEndOrReply(client *c, robj *o, mstime_t *end) {
    long long ms;
    if (getLongLongFromObjectOrReply(c, o, &ms, "timeout is not an integer or out of range") != C_OK) return C_ERR;
    if (ms < 0) {
        addReplyError(c, "timeout is negative");
        return C_ERR;
    }
    if (ms > 0) {
        long long now = commandTimeSnapshot();
        if (ms > LLONG_MAX - now) {
            addReplyError(c, "timeout is out of range");
            return C_ERR;
        }
        ms += now;
    }
    *end = ms;
    return C_OK;
}

void clientPauseCommand(client *c) {
    if (c->argc > 4) {
        addReplySubcommandSyntaxError(c);
        return;
    }
    int type = CLIENT_PAUSE_ALL;
    if (c->argc == 4) {
        const char *mode = argStr(c, 3);
        if (!strcasecmp(mode, "write")) {
            type = CLIENT_PAUSE_WRITE;
        } else if (strcasecmp(mode, "all") != 0) {
            addReplyError(c, "CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    mstime_t end;
    if (getPauseEndOrReply(c, c->argv[2], &end) != C_OK) return;
    pauseActions(PAUSE_BY_CLIENT_COMMAND, type, end);
    addReply(c, shared.ok);
}

void clientUnpauseCommand(client *c) {
    unpauseActions(PAUSE_BY_CLIENT_COMMAND);
    addReply(c, shared.ok);
}

void clientUnblockCommand(client *c) {
    if (c->argc > 4) {
        addReplySubcommandSyntaxError(c);
        return;
    }
    long long id;
    if (getLongLongFromObjectOrReply(c, c->argv[2], &id, NULL) != C_OK) return;
    int with_error = 0;
    if (c->argc == 4) {
        const char *how = argStr(c, 3);
        if (!strcasecmp(how, "error")) {
            with_error = 1;
        } else if (strcasecmp(how, "timeout") != 0) {
            addReplyError(c, "CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    client *target = lookupClientByID((uint64_t)id);
    /* Only a wait that could time out may be cut short: clients parked by CLIENT PAUSE
     * or waiting for tiering's reads stay (as in Valkey, the reply is then 0). */
    if (target == NULL || !blockedClientMayTimeout(target)) {
        addReply(c, shared.czero);
        return;
    }
    if (with_error)
        unblockClientOnError(target, "-UNBLOCKED client unblocked via CLIENT UNBLOCK");
    else
        unblockClientOnTimeout(target);
    addReply(c, shared.cone);
}

void clientCapaCommand(client *c) {
    for (int j = 2; j < c->argc; j++)
        if (!strcasecmp(argStr(c, j), "redirect")) c->flags |= CLIENT_CAPA_REDIRECT;
    addReply(c, shared.ok); /* unknown capabilities are ignored */
}
