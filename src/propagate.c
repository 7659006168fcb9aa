/* propagate.c -- the propagation of writes to the AOF and to replicas (see
 * propagate.h for the rules).
 *
 * Commands are turned into RESP bytes as soon as they are queued, not kept as argv
 * references: an argument object may become (or be moved into) the keyspace while the
 * unit goes on, and the bytes of that moment are what must be replayed. The unit's
 * commands live in one buffer, indexed by a small array of (database, target, range).
 *
 * Nothing is serialized when no consumer wants it (AOF off, no replicas), and nothing
 * while a dataset is being loaded (replayed commands are not written again).
 */
#include <string.h>
#include <strings.h>

#include "propagate.h"
#include "aof.h"
#include "commands.h"
#include "db.h"
#include "multi.h"
#include "networking.h"
#include "server.h"
#include "util.h"
#include "zmalloc.h"

/* The unit buffer is kept for reuse below this size, freed above it. */
#define PROPAGATE_BUFFER_REUSE_MAX (64 * 1024)
#define PROPAGATE_OPS_INITIAL 8

typedef struct pendingOp {
    int dbid;
    int target;
    size_t offset, len; /* in unit.bytes */
} pendingOp;

static struct {
    sds bytes;       /* the unit's commands, serialized */
    pendingOp *ops;
    int count, capacity;
    int forced;      /* forceCommandPropagation() bits of the innermost running command */
} unit;

static const char multi_bytes[] = "*1\r\n$5\r\nMULTI\r\n";
static const char exec_bytes[] = "*1\r\n$4\r\nEXEC\r\n";

/* ------------------------------------------------------------------------- */
/* Consumers                                                                   */
/* ------------------------------------------------------------------------- */

/* Replication replaces these with its own (strong) definitions. */
__attribute__((weak)) void replicationFeedPropagated(int dbid, const char *cmd, size_t len) {
    (void)dbid;
    (void)cmd;
    (void)len;
}

__attribute__((weak)) int replicationPropagationActive(void) {
    return 0;
}

__attribute__((weak)) void replicationCountUnstreamedWrite(void) {
}

/* Internal: a command for both targets while the AOF is on and nothing is streamed
 * still moves the replication offset (see replicationCountUnstreamedWrite). */
#define PROPAGATE_OFFSET_ONLY (1 << 2)

/* The targets of `target` that someone consumes right now. */
static int activeTargets(int target) {
    if (server.loading) return PROPAGATE_NONE;
    int active = PROPAGATE_NONE;
    if ((target & PROPAGATE_AOF) && aofIsAcceptingWrites()) active |= PROPAGATE_AOF;
    if ((target & PROPAGATE_REPL) && replicationPropagationActive())
        active |= PROPAGATE_REPL;
    else if ((target & PROPAGATE_REPL) && (target & PROPAGATE_AOF) && aofEnabled())
        active |= PROPAGATE_OFFSET_ONLY;
    return active;
}

static void feedConsumers(int dbid, const char *cmd, size_t len, int target) {
    if (target & PROPAGATE_AOF) aofFeedPropagated(dbid, cmd, len);
    if (target & PROPAGATE_REPL) replicationFeedPropagated(dbid, cmd, len);
    if (target & PROPAGATE_OFFSET_ONLY) replicationCountUnstreamedWrite();
}

/* ------------------------------------------------------------------------- */
/* Serialization                                                               */
/* ------------------------------------------------------------------------- */

static sds catCountLine(sds dst, char prefix, long long n) {
    char buf[LONG_STR_SIZE + 4];
    buf[0] = prefix;
    int len = 1 + ll2string(buf + 1, sizeof(buf) - 1, n);
    buf[len++] = '\r';
    buf[len++] = '\n';
    return sdscatlen(dst, buf, (size_t)len);
}

sds propagateCatCommand(sds dst, robj **argv, int argc) {
    dst = catCountLine(dst, '*', argc);
    for (int j = 0; j < argc; j++) {
        char numbuf[LONG_STR_SIZE];
        size_t len;
        const char *bytes = stringObjectBytes(argv[j], numbuf, &len);
        dst = catCountLine(dst, '$', (long long)len);
        dst = sdscatlen(dst, bytes, len);
        dst = sdscatlen(dst, "\r\n", 2);
    }
    return dst;
}

void propagateNow(int dbid, robj **argv, int argc, int target) {
    target = activeTargets(target);
    if (target == PROPAGATE_NONE) return;
    sds cmd = propagateCatCommand(sdsempty(), argv, argc);
    feedConsumers(dbid, cmd, sdslen(cmd), target);
    sdsfree(cmd);
}

/* ------------------------------------------------------------------------- */
/* The unit in progress                                                        */
/* ------------------------------------------------------------------------- */

static void unitAppend(int dbid, robj **argv, int argc, int target) {
    if (unit.count == unit.capacity) {
        unit.capacity = unit.capacity ? unit.capacity * 2 : PROPAGATE_OPS_INITIAL;
        unit.ops = zrealloc(unit.ops, sizeof(pendingOp) * (size_t)unit.capacity);
    }
    if (!unit.bytes) unit.bytes = sdsempty();
    size_t start = sdslen(unit.bytes);
    unit.bytes = propagateCatCommand(unit.bytes, argv, argc);
    unit.ops[unit.count++] = (pendingOp){dbid, target, start, sdslen(unit.bytes) - start};
}

static void unitReset(void) {
    unit.count = 0;
    if (unit.bytes && sdsalloc(unit.bytes) > PROPAGATE_BUFFER_REUSE_MAX) {
        sdsfree(unit.bytes);
        unit.bytes = NULL;
    } else if (unit.bytes) {
        sdsclear(unit.bytes);
    }
}

size_t propagatePendingBytes(void) {
    return unit.bytes ? sdsalloc(unit.bytes) : 0;
}

/* A command that may touch arbitrary keys, run directly, is not wrapped (its effects
 * are independent deletions, like active expiry's). */
static int unitNeedsTransaction(void) {
    if (unit.count < 2) return 0;
    client *c = server.current_client;
    if (c && c->cmd && (c->cmd->flags & CMD_TOUCHES_ARBITRARY_KEYS)) return 0;
    return 1;
}

void propagatePendingCommands(void) {
    if (unit.count == 0) return;
    int transaction = unitNeedsTransaction();
    int all_targets = PROPAGATE_NONE;
    for (int j = 0; j < unit.count; j++) all_targets |= unit.ops[j].target;
    /* MULTI and EXEC carry no database: the first command inside selects it. */
    if (transaction) feedConsumers(-1, multi_bytes, sizeof(multi_bytes) - 1, all_targets);
    for (int j = 0; j < unit.count; j++) {
        pendingOp *op = &unit.ops[j];
        feedConsumers(op->dbid, unit.bytes + op->offset, op->len, op->target);
    }
    if (transaction) feedConsumers(-1, exec_bytes, sizeof(exec_bytes) - 1, all_targets);
    unitReset();
}

/* ------------------------------------------------------------------------- */
/* Command API                                                                 */
/* ------------------------------------------------------------------------- */

void alsoPropagate(int dbid, robj **argv, int argc, int target) {
    target = activeTargets(target);
    if (target == PROPAGATE_NONE) return;
    if (server.execution_nesting == 0) {
        /* Outside any command (active expiry, eviction): a unit of its own. */
        sds cmd = propagateCatCommand(sdsempty(), argv, argc);
        feedConsumers(dbid, cmd, sdslen(cmd), target);
        sdsfree(cmd);
        return;
    }
    unitAppend(dbid, argv, argc, target);
}

void preventCommandPropagation(client *c) {
    c->flags |= CLIENT_PREVENT_AOF_PROP | CLIENT_PREVENT_REPL_PROP;
}

void forceCommandPropagation(client *c, int flags) {
    (void)c;
    unit.forced |= flags & (PROPAGATE_AOF | PROPAGATE_REPL);
}

/* ------------------------------------------------------------------------- */
/* call() integration                                                          */
/* ------------------------------------------------------------------------- */

#define PREVENT_FLAGS (CLIENT_PREVENT_AOF_PROP | CLIENT_PREVENT_REPL_PROP)

void propagateCallBegin(client *c, propagateCallState *st) {
    st->saved_prevent_flags = c->flags & PREVENT_FLAGS;
    st->saved_forced = unit.forced;
    st->dirty_before = server.dirty;
    c->flags &= ~PREVENT_FLAGS;
    unit.forced = 0;
}

void propagateCallEnd(client *c, int call_flags, propagateCallState *st) {
    serverCommand *cmd = c->cmd;
    if ((call_flags & CMD_CALL_PROPAGATE) && cmd && cmd->proc != execCommand && !(cmd->flags & CMD_MODULE) &&
        !(c->flags & CLIENT_BLOCKED)) {
        int target = server.dirty > st->dirty_before ? (PROPAGATE_AOF | PROPAGATE_REPL) : PROPAGATE_NONE;
        target |= unit.forced;
        if ((c->flags & CLIENT_PREVENT_REPL_PROP) || !(call_flags & CMD_CALL_PROPAGATE_REPL)) target &= ~PROPAGATE_REPL;
        if ((c->flags & CLIENT_PREVENT_AOF_PROP) || !(call_flags & CMD_CALL_PROPAGATE_AOF)) target &= ~PROPAGATE_AOF;
        /* Queued even at nesting 0: it follows what the command itself queued (lazily
         * expired keys), and call() ends the unit right after. */
        target = activeTargets(target);
        if (target != PROPAGATE_NONE && c->argc > 0) unitAppend(c->db->id, c->argv, c->argc, target);
    }
    c->flags = (c->flags & ~PREVENT_FLAGS) | st->saved_prevent_flags;
    unit.forced = st->saved_forced;
}
