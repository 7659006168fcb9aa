/* cluster.c -- the cluster commands of a server without cluster mode.
 *
 * This server runs as Valkey does with `cluster-enabled no` (INFO shows cluster_enabled:0),
 * and there every CLUSTER subcommand, READONLY, READWRITE and ASKING answer with the same
 * refusal. Clients rely on that exact error to tell a standalone server from a cluster
 * (they fall back to one node for CLUSTER SLOTS, or ignore it after READONLY), so it is
 * given rather than "unknown command".
 */
#include "networking.h"

#define CLUSTER_DISABLED_ERR "This instance has cluster support disabled"

void clusterCommand(client *c) {
    addReplyError(c, CLUSTER_DISABLED_ERR);
}

void readonlyCommand(client *c) {
    addReplyError(c, CLUSTER_DISABLED_ERR);
}

void readwriteCommand(client *c) {
    addReplyError(c, CLUSTER_DISABLED_ERR);
}

void askingCommand(client *c) {
    addReplyError(c, CLUSTER_DISABLED_ERR);
}
