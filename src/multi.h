/* multi.h -- transactions (MULTI/EXEC/DISCARD) and optimistic locking (WATCH/UNWATCH).
 *
 * While a client is in MULTI, processCommand() hands every command other than the
 * transaction commands themselves to queueMultiCommand() instead of running it. EXEC
 * runs the queue through call(), each command replying into one array, unless a
 * queuing error flagged the transaction (EXECABORT) or a watched key changed since
 * WATCH (a null array).
 *
 * WATCH records (db, key) pairs. The keyspace reports every change through
 * signalModifiedKey() -> touchWatchedKey(), whole-database changes (FLUSHDB, FLUSHALL,
 * SWAPDB) through touchAllWatchedKeysInDb(); a watched key that expired since WATCH is
 * detected at EXEC time.
 */
#ifndef MULTI_H
#define MULTI_H

#include <stdint.h>
#include "object.h"
#include "commands.h"

struct client;
struct serverDb;

/* Commands. */
void multiCommand(struct client *c);
void execCommand(struct client *c);
void discardCommand(struct client *c);
void watchCommand(struct client *c);
void unwatchCommand(struct client *c);

/* Dispatch (server.c). */
/* 1 for the commands that run even inside MULTI: EXEC, DISCARD, MULTI, WATCH, QUIT, RESET. */
int multiCommandRunsDirectly(serverCommand *cmd);
/* Takes c's current argv/cmd into the queue; the client's argv is left empty. */
void queueMultiCommand(struct client *c);
/* A command was refused while queuing: the transaction will abort with EXECABORT. */
void flagTransaction(struct client *c);
/* EXEC itself was refused by processCommand: discards and replies
 * "-EXECABORT Transaction discarded because of: <err>". err may start with '-' and end
 * with CRLF (a shared error object's bytes); both are dropped. */
void execCommandAbort(struct client *c, const char *err, size_t len);
/* OR of the flags of the queued commands (EXEC counts as a write when one of them is). */
uint64_t multiQueuedCommandFlags(struct client *c);
/* Whether some queued command lacks `flag` (EXEC on a stale replica needs all STALE). */
int multiQueuedCommandLacks(struct client *c, uint64_t flag);

/* Keyspace hooks (db.c). */
void touchWatchedKey(struct serverDb *db, robj *key);
/* emptied's contents go away; with replaced_with (SWAPDB) they are replaced by that
 * database's. Watchers of keys whose logical state changes are flagged dirty. */
void touchAllWatchedKeysInDb(struct serverDb *emptied, struct serverDb *replaced_with);
void unwatchAllKeys(struct client *c);

/* INFO clients. */
long long multiWatchingClients(void); /* watching_clients */
long long multiTotalWatchedKeys(void); /* total_watched_keys: distinct (db, key) pairs */

/* Tiering hook: before EXEC runs, every key its queued commands will touch can be
 * listed (with the database each command will run in, following queued SELECTs) so
 * that cold values are brought back into memory first. Returns the number of keys
 * reported. Keys found by the commands' key specs, as getKeysFromCommand() does. */
typedef void multiQueuedKeyProc(void *privdata, int dbid, robj *key);
int multiForEachQueuedKey(struct client *c, multiQueuedKeyProc *proc, void *privdata);

#endif
