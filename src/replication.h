/* replication.h -- primary/replica replication, as Valkey 8 speaks it (PSYNC2).
 *
 * Primary side. A replica connects as a client and sends REPLCONF (listening-port,
 * ip-address, capa) then PSYNC <replid> <offset> (or the old SYNC). When the requested
 * history is still in the replication backlog it gets +CONTINUE and the missing bytes;
 * otherwise +FULLRESYNC <replid> <offset>, an RDB made by a forked child (the BGSAVE
 * machinery of rdb.c, written to `dbfilename` on disk and then streamed as
 * "$<len>\r\n<bytes>"), and from then on the replication stream: every command the
 * server propagates (propagate.h), with SELECT when the database changes, exactly as
 * the AOF receives it. The stream is appended to the backlog and to the output buffer
 * of each replica client, where `client-output-buffer-limit replica` applies.
 * `master_repl_offset` counts the stream's bytes (and, with no backlog and the AOF on,
 * one per command, as Valkey does, so that WAITAOF can tell writes apart).
 *
 * Replica side. REPLICAOF host port (or `replicaof` in the config file) starts a
 * non-blocking connect and a handshake driven by event-loop callbacks: PING, AUTH
 * (primaryauth/primaryuser), REPLCONF listening-port / ip-address / capa eof psync2,
 * PSYNC with the cached replication id and offset. A full resync receives the RDB
 * ($len or $EOF:<mark> framing) into a temp file, empties the dataset, loads the file
 * (blocking, as Valkey does) and turns the socket into the primary client (flag
 * CLIENT_PRIMARY): its commands run through processCommand()/call() with replies
 * suppressed, the bytes they consumed advance the offset and are fed unchanged to
 * this server's own backlog and replicas (chained replication), and an ACK with the
 * offset goes back every second, on REPLCONF GETACK and when the AOF fsynced more
 * (REPLCONF ACK <offset> FACK <offset fsynced to the AOF>, FACK when the AOF is on).
 * A dropped link is retried with a short backoff and resumed with PSYNC.
 *
 * WAIT counts the replicas whose ACK reached the client's last write (client->woff);
 * WAITAOF counts them by FACK, and itself by aofFsyncedReplOffset().
 *
 * FAILOVER [TO host port [FORCE]] [TIMEOUT ms]: the primary pauses writes (its own pause
 * purpose, so CLIENT UNPAUSE does not lift it; PINGs and GETACKs stop too), waits until a
 * replica (the named one, or the first) has ACKed the whole stream, turns into its replica
 * and sends PSYNC <replid> <offset> FAILOVER, on which that replica becomes the primary
 * and continues the old one's history. A refusal, an unreachable target, the deadline
 * without FORCE or FAILOVER ABORT make it a plain primary again.
 *
 * The rest of the server calls the hooks below at fixed points (server.c cron,
 * beforeSleep and processCommand; networking.c client life cycle; db.c/expire.c/
 * evict.c for the replica's expiry and eviction rules; info.c/memory.c for INFO).
 */
#ifndef REPLICATION_H
#define REPLICATION_H

#include <stddef.h>
#include "object.h"
#include "sds.h"

struct client;

/* Start-up: config directives (before the config is read), then the state (after the
 * event loop exists and the data is loaded; connects when `replicaof` was given). */
void replicationRegister(void);
void replicationInit(void);

/* Event loop. */
void replicationCron(void);        /* every serverCron tick */
void replicationBeforeSleep(void); /* WAIT wake-ups, GETACK requests */
/* beforeSleep, after the AOF's write and fsync: WAITAOF wake-ups; on a replica, an ACK
 * with the new fsynced offset (REPLCONF ACK <offset> FACK <offset>). */
void replicationAfterAofFlush(void);
/* master_repl_offset: the stream's bytes, plus one per write that only the AOF got
 * while there was no backlog (so that WAITAOF can tell writes apart). */
long long replicationOffset(void);

/* 1 while this server replicates from a primary (REPLICAOF host port in force). */
int replicationIsReplica(void);

/* processCommand(): the refusal (a shared error object: READONLY, MASTERDOWN,
 * NOREPLICAS) for a command this server may not run now, or NULL. */
robj *replicationCommandRefusal(struct client *c);
/* The same for a write command a script run by c calls (scripts that declare no writes
 * pass processCommand, and their writes are checked one by one), or NULL. */
robj *replicationWriteRefusal(struct client *c);

/* networking.c hooks. */
void replicationFreeClient(struct client *c);      /* freeClient of a replica or the primary */
int replicationClientMayWrite(struct client *c);   /* 0: a replica still waiting for its RDB */
void replicationPrimaryApplied(struct client *c);  /* after each command of the primary link */

/* INFO and MEMORY. */
sds replicationInfoSection(sds info); /* the whole "# Replication" section */
size_t replicationBacklogMemory(void);
size_t replicationReplicaClientsMemory(void);

/* rdb.c: the replication fields of an RDB being saved (0: no replication state). */
struct rdbReplInfo;
int replicationRdbSaveInfo(struct rdbReplInfo *ri);

/* rdb.c: a background save ended (ok: its file is complete). */
void replicationBackgroundSaveDone(int ok);

#endif
