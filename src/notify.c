/* notify.c -- keyspace notifications (notify-keyspace-events).
 *
 * Every command that changes a key calls notifyKeyspaceEvent() with an event class
 * (NOTIFY_*) and an event name. When the class is enabled, the event is published on
 *   __keyspace@<db>__:<key>    with the event name as message  (class K)
 *   __keyevent@<db>__:<event>  with the key name as message    (class E)
 *
 * Publishing goes through pubsubPublishMessage() (pubsub.c). When nobody is subscribed
 * to anything, the channel names are not even built.
 */
#include <string.h>

#include "notify.h"
#include "object.h"
#include "pubsub.h"
#include "sds.h"
#include "server.h"
#include "util.h"

/* Channel "<prefix><db>__:<suffix>". */
static robj *notifyChannel(const char *prefix, int dbid, const char *suffix, size_t suffixlen) {
    char buf[LONG_STR_SIZE];
    int len = ll2string(buf, sizeof(buf), dbid);
    sds chan = sdsnew(prefix);
    chan = sdscatlen(chan, buf, len);
    chan = sdscatlen(chan, "__:", 3);
    chan = sdscatlen(chan, suffix, suffixlen);
    return createObject(OBJ_STRING, chan);
}

void notifyKeyspaceEvent(int type, const char *event, robj *key, int dbid) {
    int flags = server.notify_keyspace_events;
    if (!(flags & type)) return;
    if (!pubsubHasSubscribers()) return; /* nobody can listen */

    robj *keyname = getDecodedObject(key);
    sds keybytes = objectGetVal(keyname);
    size_t eventlen = strlen(event);
    if (flags & NOTIFY_KEYSPACE) {
        robj *chan = notifyChannel("__keyspace@", dbid, keybytes, sdslen(keybytes));
        robj *msg = createStringObject(event, eventlen);
        pubsubPublishMessage(chan, msg, 0);
        decrRefCount(msg);
        decrRefCount(chan);
    }
    if (flags & NOTIFY_KEYEVENT) {
        robj *chan = notifyChannel("__keyevent@", dbid, event, eventlen);
        pubsubPublishMessage(chan, keyname, 0);
        decrRefCount(chan);
    }
    decrRefCount(keyname);
}

/* The class letters, in the order Valkey prints them. */
static const struct {
    char letter;
    int flag;
} eventClasses[] = {
    {'g', NOTIFY_GENERIC}, {'$', NOTIFY_STRING}, {'l', NOTIFY_LIST},    {'s', NOTIFY_SET},
    {'h', NOTIFY_HASH},    {'z', NOTIFY_ZSET},   {'x', NOTIFY_EXPIRED}, {'e', NOTIFY_EVICTED},
    {'t', NOTIFY_STREAM},  {'d', NOTIFY_MODULE}, {'n', NOTIFY_NEW},     {'K', NOTIFY_KEYSPACE},
    {'E', NOTIFY_KEYEVENT}, {'m', NOTIFY_KEY_MISS},
};
#define EVENT_CLASSES (sizeof(eventClasses) / sizeof(eventClasses[0]))

int keyspaceEventsStringToFlags(const char *classes) {
    int flags = 0;
    for (const char *p = classes; *p; p++) {
        if (*p == 'A') {
            flags |= NOTIFY_ALL;
            continue;
        }
        size_t j;
        for (j = 0; j < EVENT_CLASSES && eventClasses[j].letter != *p; j++);
        if (j == EVENT_CLASSES) return -1;
        flags |= eventClasses[j].flag;
    }
    return flags;
}

/* "A" stands for every class it covers; as in Valkey, 'n' is then not printed
 * (CONFIG SET notify-keyspace-events KEAn reads back as "AKE"). */
sds keyspaceEventsFlagsToString(int flags) {
    sds res = sdsempty();
    int all = (flags & NOTIFY_ALL) == NOTIFY_ALL;
    if (all) res = sdscatlen(res, "A", 1);
    for (size_t j = 0; j < EVENT_CLASSES; j++) {
        int flag = eventClasses[j].flag;
        int printed_by_a = flag != NOTIFY_KEYSPACE && flag != NOTIFY_KEYEVENT && flag != NOTIFY_KEY_MISS;
        if (all && printed_by_a) continue;
        if (flags & flag) res = sdscatlen(res, &eventClasses[j].letter, 1);
    }
    return res;
}
