/* pubsub.h -- publish/subscribe: channels, patterns and shard channels.
 *
 * Three separate namespaces: plain channels (SUBSCRIBE / PUBLISH), patterns
 * (PSUBSCRIBE, matched against every PUBLISH), and shard channels (SSUBSCRIBE /
 * SPUBLISH; on a standalone server simply a namespace of their own). The commands are
 * the `*Command` functions of pubsub.c; the client hooks freeClientPubSubData and
 * getClientPubSubCounts are declared in networking.h.
 */
#ifndef PUBSUB_H
#define PUBSUB_H

#include <stddef.h>
#include "object.h"

struct client;
struct serverCommand;

/* Sends message to the subscribers of channel (and, unless sharded, to the clients
 * whose patterns match it). Returns the number of clients that received it. Used by
 * PUBLISH/SPUBLISH and by keyspace notifications. */
int pubsubPublishMessage(robj *channel, robj *message, int sharded);

/* 1 when at least one client is subscribed to anything (cheap: lets the keyspace
 * notifier skip building channel names nobody can hear). */
int pubsubHasSubscribers(void);

/* INFO stats. */
unsigned long pubsubChannelCount(void);      /* pubsub_channels */
unsigned long pubsubPatternCount(void);      /* pubsub_patterns (distinct patterns) */
unsigned long pubsubShardChannelCount(void); /* pubsubshard_channels */

/* Memory held for a client's subscriptions (its own tables, not the shared ones). */
size_t pubsubClientMemoryOverhead(struct client *c);

/* A RESP2 client with subscriptions may only run the (un)subscribe commands, PING,
 * QUIT and RESET. */
int pubsubCommandAllowedWhileSubscribed(struct serverCommand *cmd);

/* The (un)subscribe commands, whose replies are pushes: pushes to the client running
 * them are part of their reply, not held back until the reply is complete. */
int pubsubCommandRepliesWithPush(struct serverCommand *cmd);

/* Start-up (called by server.c before the configuration is read). */
void pubsubRegister(void);

#endif
