/* propagate.h -- what the writes of the server send to the AOF and to replicas.
 *
 * Every command that changes the dataset is propagated: by default as it was called
 * (its argv after the run, so a command that rewrote its argv with
 * rewriteClientCommandVector() is propagated rewritten, e.g. SET EX as SET PXAT), not
 * at all after preventCommandPropagation(), and even without a change after
 * forceCommandPropagation(). Commands may add more with alsoPropagate() (SPOP with a
 * count as SREMs, lazily expired keys as DEL/UNLINK).
 *
 * Execution units. What runs from a top-level call() (a command, EXEC and its queued
 * commands, a script and the commands it calls) is collected and sent when the unit
 * ends: one command alone, two or more wrapped in MULTI ... EXEC so that they are
 * replayed atomically. alsoPropagate() outside any call() (active expiry, eviction)
 * sends at once, never wrapped.
 *
 * The stream goes through one sink, propagateNow(dbid, argv, argc, target), to two
 * consumers: the AOF (aof.c), and replication (a stub until replication exists). Each
 * consumer gets a command as RESP multibulk bytes with the database it runs in, and
 * issues SELECT itself when that database differs from the last one it wrote.
 */
#ifndef PROPAGATE_H
#define PROPAGATE_H

#include <stddef.h>
#include <stdint.h>
#include "object.h"
#include "sds.h"

struct client;

/* Targets: the same bits as CMD_CALL_PROPAGATE_AOF / CMD_CALL_PROPAGATE_REPL. */
#define PROPAGATE_NONE 0
#define PROPAGATE_AOF (1 << 0)
#define PROPAGATE_REPL (1 << 1)

/* The command API (alsoPropagate, preventCommandPropagation, forceCommandPropagation)
 * is declared in commands.h. */

/* ---- call() integration (server.c) ---- */
typedef struct propagateCallState {
    uint64_t saved_prevent_flags; /* the caller's CLIENT_PREVENT_* bits, restored after */
    int saved_forced;             /* the enclosing call's forceCommandPropagation() bits */
    long long dirty_before;       /* server.dirty when the command started */
} propagateCallState;

/* Before the command runs: clears the per-call flags, remembering the caller's. */
void propagateCallBegin(struct client *c, propagateCallState *st);
/* After it ran: queues its argv when it changed the dataset (or was forced), unless
 * prevented or not allowed by call_flags (CMD_CALL_PROPAGATE_*); restores the flags. */
void propagateCallEnd(struct client *c, int call_flags, propagateCallState *st);
/* The end of an execution unit (execution_nesting back to 0): sends what it queued. */
void propagatePendingCommands(void);

/* ---- The sink ---- */
/* Sends one command to the consumers now. dbid -1: no database (no SELECT). */
void propagateNow(int dbid, robj **argv, int argc, int target);
/* Appends argv as a RESP multibulk ("*<argc>\r\n$<len>\r\n<arg>\r\n..."). */
sds propagateCatCommand(sds dst, robj **argv, int argc);

/* Replication's consumer: a weak do-nothing definition until replication exists. */
void replicationFeedPropagated(int dbid, const char *cmd, size_t len);
/* A command went to the AOF but not to the stream (see replicationOffset()). */
void replicationCountUnstreamedWrite(void);

/* Bytes held for the unit in progress (INFO/MEMORY accounting). */
size_t propagatePendingBytes(void);

#endif
