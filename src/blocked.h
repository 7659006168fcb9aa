/* blocked.h -- clients blocked on keys (BLPOP, BZPOPMIN, BLMOVE...), and the generic
 * block/unblock/reprocess machinery that tiering will reuse for cold reads.
 *
 * A command that finds nothing to serve calls blockForKeys() and returns without a
 * reply. When a write makes one of those keys ready (signalKeyAsReady, called by the
 * keyspace when a list/zset key is created or pushed to), the blocked clients are
 * served in the order they blocked by re-executing their command through the normal
 * dispatch path: the command either succeeds, or finds nothing again and re-blocks
 * with its original deadline. Deadlines are checked before each sleep.
 *
 * Writing a blocking command: parse the timeout with getTimeoutFromObjectOrReply()
 * first, serve if there is something to serve, otherwise reply as on a timeout when
 * clientDeniesBlocking() (MULTI, scripts) and call blockForKeys() when not. The
 * command may run several times for one request, so it must not keep state between
 * runs.
 */
#ifndef BLOCKED_H
#define BLOCKED_H

#include "object.h"
#include "server.h"

struct client;
struct serverDb;

#define UNIT_SECONDS 0
#define UNIT_MILLISECONDS 1

/* Parses a timeout argument (seconds as a double for BLPOP & co, or ms); 0 = forever.
 * Errors: "timeout is not a float or out of range", "timeout is negative",
 * "timeout is out of range". Returns C_OK/C_ERR (replied). */
int getTimeoutFromObjectOrReply(struct client *c, robj *object, mstime_t *timeout, int unit);

/* 1 when the client must not block (inside MULTI/EXEC, a script, or flagged
 * CLIENT_DENY_BLOCKING): its blocking command replies as if it timed out at once. */
int clientDeniesBlocking(struct client *c);

/* Blocks the client on keys. timeout is absolute unix ms, 0 for none. With
 * unblock_on_nokey, deleting the key (or changing its type) also wakes the client.
 * Duplicate keys are ignored. The command stays pending and runs again when a key
 * is ready; when it blocks again during that re-run, the original timeout is kept. */
void blockForKeys(struct client *c, int btype, robj **keys, int numkeys, mstime_t timeout, int unblock_on_nokey);

/* Marks a key as ready: blocked clients are served after the current command. The
 * keyspace calls these (db.c): on every key creation, and on deletion/overwrite. */
void signalKeyAsReady(struct serverDb *db, robj *key, int type);
void signalDeletedKeyAsReady(struct serverDb *db, robj *key, int type);
void signalKeyAsReadyByName(struct serverDb *db, sds key, int type);
void signalDeletedKeyAsReadyByName(struct serverDb *db, sds key, int type);
/* After SWAPDB: keys that now exist become ready; after a flush or a swap, keys
 * gone from under unblock_on_nokey clients wake them. */
void scanDatabaseForReadyKeys(struct serverDb *db);
void scanDatabaseForDeletedKeys(struct serverDb *db);

/* Serves clients whose keys became ready; called after each command and before sleeping.
 * Declared weak so that server.c links (and skips the calls) in builds without blocked.c. */
void handleClientsBlockedOnKeys(void) __attribute__((weak));
/* Before sleeping: time out expired blocked clients, and run what unblocked clients
 * have left in their query buffers. Returns ms until the nearest deadline, or -1. */
long long blockedBeforeSleep(void) __attribute__((weak));

/* Blocking without keys (tiering's cold reads, WAIT-like waits). With retry_command
 * the command stays pending and unblockClientAndRetry() runs it again from the start;
 * without it, whoever unblocks the client replies. */
void blockClient(struct client *c, int btype, mstime_t timeout, int retry_command);
void unblockClientAndRetry(struct client *c);
/* The reply a client blocked with btype gets on timeout (and CLIENT UNBLOCK ... TIMEOUT).
 * Default: a null array, as BLPOP, BZPOPMIN, XREAD answer. */
void blockedRegisterTimeoutReply(int btype, void (*reply)(struct client *c));
/* Called when a client blocked with btype is unblocked by anyone (its own completion,
 * CLIENT UNBLOCK, a timeout, disconnection), before its blocking state goes away: the
 * owner of that kind of wait drops what it keeps for the client. */
void blockedRegisterUnblockHook(int btype, void (*hook)(struct client *c));

/* Unblocking (CLIENT UNBLOCK, disconnect, timeouts). Declared in networking.h too.
 * unblockClient(c, 0) is what freeClient uses: no reply, nothing queued. */
void unblockClient(struct client *c, int queue_for_reprocessing);
void unblockClientOnTimeout(struct client *c);
void unblockClientOnError(struct client *c, const char *err_str);
void replyToBlockedClientTimedOut(struct client *c);
/* 0 for clients whose wait must not be cut short (pause postponement, tiering). */
int blockedClientMayTimeout(struct client *c);
void disconnectAllBlockedClients(void);
long long totalBlockingKeys(long long *on_nokey); /* INFO: total_blocking_keys(_on_nokey) */
unsigned long blockedClientsInTimeoutTable(void); /* INFO: clients_in_timeout_table */

#endif
