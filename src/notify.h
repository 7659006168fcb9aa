/* notify.h -- keyspace notifications: the one function every command calls after
 * it changes a key. Event classes are the flags of notify-keyspace-events.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include "object.h"

#define NOTIFY_KEYSPACE (1 << 0) /* K */
#define NOTIFY_KEYEVENT (1 << 1) /* E */
#define NOTIFY_GENERIC (1 << 2)  /* g */
#define NOTIFY_STRING (1 << 3)   /* $ */
#define NOTIFY_LIST (1 << 4)     /* l */
#define NOTIFY_SET (1 << 5)      /* s */
#define NOTIFY_HASH (1 << 6)     /* h */
#define NOTIFY_ZSET (1 << 7)     /* z */
#define NOTIFY_EXPIRED (1 << 8)  /* x */
#define NOTIFY_EVICTED (1 << 9)  /* e */
#define NOTIFY_STREAM (1 << 10)  /* t */
#define NOTIFY_KEY_MISS (1 << 11) /* m */
#define NOTIFY_LOADED (1 << 12)  /* module only */
#define NOTIFY_MODULE (1 << 13)  /* d */
#define NOTIFY_NEW (1 << 14)     /* n */
#define NOTIFY_ALL (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET | \
                    NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE) /* A */

/* Emits __keyspace@<db>__:<key> <event> and/or __keyevent@<db>__:<event> <key>,
 * when `type` is enabled by notify-keyspace-events. */
void notifyKeyspaceEvent(int type, const char *event, robj *key, int dbid);
int keyspaceEventsStringToFlags(const char *classes); /* -1 on an unknown class */
sds keyspaceEventsFlagsToString(int flags);

#endif
