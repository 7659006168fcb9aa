/* blocked.h -- clients blocked on keys (BLPOP, BZPOPMIN, BLMOVE...), and the generic
 * block/unblock/reprocess machinery that tiering will reuse for cold reads.
 *
 * A command that finds nothing to serve calls blockForKeys() and returns without a
 * reply. When a write makes one of those keys ready (signalKeyAsReady, called by the
 * keyspace when a list/zset key is created or pushed to), the blocked clients are
 * served in the order they blocked by re-executing their command through the normal
 * dispatch path: the command either succeeds, or finds nothing again and re-blocks
 * with its original deadline. Deadlines are checked before each sleep.
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

/* Blocks the client on keys. timeout is absolute unix ms, 0 for none. With
 * unblock_on_nokey, deleting the key (or changing its type) also wakes the client. */
void blockForKeys(struct client *c, int btype, robj **keys, int numkeys, mstime_t timeout, int unblock_on_nokey);

/* Marks a key as ready: blocked clients are served after the current command. */
void signalKeyAsReady(struct serverDb *db, robj *key, int type);
void signalDeletedKeyAsReady(struct serverDb *db, robj *key, int type);

/* Serves clients whose keys became ready; called after each command and before sleeping. */
void handleClientsBlockedOnKeys(void) __attribute__((weak)); /* weak until blocked.c lands */
/* Before sleeping: time out expired blocked clients. Returns ms until the nearest deadline, or -1. */
long long blockedBeforeSleep(void) __attribute__((weak));

/* Unblocking (CLIENT UNBLOCK, disconnect, timeouts). Declared in networking.h too. */
void unblockClient(struct client *c, int queue_for_reprocessing);
void unblockClientOnTimeout(struct client *c);
void unblockClientOnError(struct client *c, const char *err_str);
void replyToBlockedClientTimedOut(struct client *c);
void disconnectAllBlockedClients(void);
long long totalBlockingKeys(long long *on_nokey); /* INFO: total_blocking_keys(_on_nokey) */

#endif
