/* pubsub.c -- publish/subscribe: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, their UNSUBSCRIBE
 * counterparts, PUBLISH, SPUBLISH and the PUBSUB introspection subcommands.
 *
 * There are three kinds of subscription, each a namespace of its own: channels,
 * patterns and shard channels. For each kind a global table maps a name to a
 * pubsubChannel, which holds the set of subscribed clients; an entry exists only while
 * it has at least one subscriber. Each client keeps, per kind, a table of the entries it
 * is in (the very same pubsubChannel pointers), so subscribing and unsubscribing one name
 * are O(1) on both sides, and dropping a client walks only its own subscriptions.
 *
 * PUBLISH looks the channel up (one hash lookup), pushes the message to its subscribers,
 * then matches the channel against every distinct pattern with stringmatchlen. SPUBLISH
 * reaches shard subscribers only: shard channels have no patterns.
 *
 * Messages are "push" replies: '>' in RESP3, a plain array in RESP2. They are written
 * with CLIENT_PUSHING set, so that CLIENT REPLY OFF does not swallow them. A subscriber
 * that does not read fills its output buffer until client-output-buffer-limit pubsub
 * closes it (checked by the reply layer).
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "pubsub.h"
#include "commands.h"
#include "hashtable.h"
#include "networking.h"
#include "object.h"
#include "sds.h"
#include "server.h"
#include "util.h"
#include "zmalloc.h"

/* Subscription kinds; also the index of the per-kind tables. */
enum { KIND_CHANNEL = 0, KIND_PATTERN = 1, KIND_SHARD = 2, KIND_COUNT = 3 };

/* A channel (or pattern) that has subscribers. Owned by the global table of its kind;
 * clients' tables point at it without owning it. */
typedef struct pubsubChannel {
    sds name;
    hashtable *subscribers; /* client pointers */
} pubsubChannel;

/* A client's subscriptions, per kind. Owned by the client (c->pubsub_state). A table
 * is created on the first subscription of its kind. */
typedef struct pubsubClientState {
    hashtable *subs[KIND_COUNT];
} pubsubClientState;

static hashtable *channel_tables[KIND_COUNT];

/* Ready-made protocol bulks for the words of the replies, per kind. */
static robj *subscribe_bulk[KIND_COUNT];   /* "subscribe", "psubscribe", "ssubscribe" */
static robj *unsubscribe_bulk[KIND_COUNT]; /* "unsubscribe", "punsubscribe", "sunsubscribe" */
static robj *message_bulk[KIND_COUNT];     /* "message", "pmessage", "smessage" */

/* The commands whose replies say "subscribe"/"psubscribe"/... in errors. */
static const char *const subscribe_names[KIND_COUNT] = {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"};

/* ------------------------------------------------------------------------------------ */
/* Tables                                                                                 */
/* ------------------------------------------------------------------------------------ */

static uint64_t hashSdsName(const void *key) {
    return hashtableGenHashFunction((const char *)key, sdslen((sds)key));
}

static const void *channelGetName(const void *entry) {
    return ((const pubsubChannel *)entry)->name;
}

static int compareSdsNames(const void *a, const void *b) {
    size_t la = sdslen((sds)a), lb = sdslen((sds)b);
    return la != lb || memcmp(a, b, la) != 0;
}

static void freeChannel(void *entry) {
    pubsubChannel *ch = entry;
    hashtableRelease(ch->subscribers);
    sdsfree(ch->name);
    zfree(ch);
}

static uint64_t hashClientPointer(const void *key) {
    return hashtableGenHashFunction((const char *)&key, sizeof(key));
}

/* Global tables: own their pubsubChannel entries. */
static hashtableType channelTableType = {
    .hashFunction = hashSdsName,
    .entryGetKey = channelGetName,
    .keyCompare = compareSdsNames,
    .entryDestructor = freeChannel,
};

/* A client's tables: the same entries, not owned. */
static hashtableType clientSubsType = {
    .hashFunction = hashSdsName,
    .entryGetKey = channelGetName,
    .keyCompare = compareSdsNames,
};

/* Subscribers of a channel: client pointers compared by identity. */
static hashtableType subscribersType = {
    .hashFunction = hashClientPointer,
};

static robj *createBulkProto(const char *word) {
    sds s = sdscatprintf(sdsempty(), "$%zu\r\n%s\r\n", strlen(word), word);
    return makeObjectShared(createObjectFromSds(s));
}

static void pubsubInit(void) {
    static const char *const sub_words[KIND_COUNT] = {"subscribe", "psubscribe", "ssubscribe"};
    static const char *const unsub_words[KIND_COUNT] = {"unsubscribe", "punsubscribe", "sunsubscribe"};
    static const char *const msg_words[KIND_COUNT] = {"message", "pmessage", "smessage"};
    if (channel_tables[0]) return;
    for (int k = 0; k < KIND_COUNT; k++) {
        channel_tables[k] = hashtableCreate(&channelTableType);
        subscribe_bulk[k] = createBulkProto(sub_words[k]);
        unsubscribe_bulk[k] = createBulkProto(unsub_words[k]);
        message_bulk[k] = createBulkProto(msg_words[k]);
    }
}

void pubsubRegister(void) {
    pubsubInit();
}

static pubsubClientState *clientState(client *c) {
    return c->pubsub_state;
}

static unsigned long clientKindCount(client *c, int kind) {
    pubsubClientState *st = clientState(c);
    return st && st->subs[kind] ? hashtableSize(st->subs[kind]) : 0;
}

/* The count a (un)subscribe reply carries: shard subscriptions are counted apart from
 * channels and patterns, which are counted together. */
static unsigned long replyCount(client *c, int kind) {
    if (kind == KIND_SHARD) return clientKindCount(c, KIND_SHARD);
    return clientKindCount(c, KIND_CHANNEL) + clientKindCount(c, KIND_PATTERN);
}

static unsigned long clientTotalCount(client *c) {
    return clientKindCount(c, KIND_CHANNEL) + clientKindCount(c, KIND_PATTERN) + clientKindCount(c, KIND_SHARD);
}

/* ------------------------------------------------------------------------------------ */
/* Replies                                                                                */
/* ------------------------------------------------------------------------------------ */

/* Writes a push of `len` elements whose first element is `word`; the caller adds the
 * rest and then calls endPush with the returned saved flag. */
static uint64_t beginPush(client *c, long len, robj *word) {
    uint64_t was_pushing = c->flags & CLIENT_PUSHING;
    c->flags |= CLIENT_PUSHING;
    addReplyPushLen(c, len);
    addReply(c, word);
    return was_pushing;
}

static void endPush(client *c, uint64_t was_pushing) {
    if (!was_pushing) c->flags &= ~CLIENT_PUSHING;
}

/* [subscribe|psubscribe|ssubscribe, name, count] */
static void replySubscribed(client *c, int kind, const char *name, size_t len) {
    uint64_t saved = beginPush(c, 3, subscribe_bulk[kind]);
    addReplyBulkCBuffer(c, name, len);
    addReplyLongLong(c, (long long)replyCount(c, kind));
    endPush(c, saved);
}

/* [unsubscribe|..., name or null, count] */
static void replyUnsubscribed(client *c, int kind, const char *name, size_t len) {
    uint64_t saved = beginPush(c, 3, unsubscribe_bulk[kind]);
    if (name)
        addReplyBulkCBuffer(c, name, len);
    else
        addReplyNull(c);
    addReplyLongLong(c, (long long)replyCount(c, kind));
    endPush(c, saved);
}

/* ------------------------------------------------------------------------------------ */
/* Subscribing and unsubscribing                                                          */
/* ------------------------------------------------------------------------------------ */

static pubsubChannel *findOrCreateChannel(int kind, sds name) {
    void *found;
    if (hashtableFind(channel_tables[kind], name, &found)) return found;
    pubsubChannel *ch = zmalloc(sizeof(*ch));
    ch->name = sdsdup(name);
    ch->subscribers = hashtableCreate(&subscribersType);
    hashtableAdd(channel_tables[kind], ch);
    return ch;
}

/* Subscribes c to name (no-op when already subscribed) and replies. */
static void subscribeOne(client *c, int kind, robj *nameobj) {
    pubsubInit();
    pubsubClientState *st = clientState(c);
    if (!st) st = c->pubsub_state = zcalloc(sizeof(*st));
    if (!st->subs[kind]) st->subs[kind] = hashtableCreate(&clientSubsType);

    robj *decoded = getDecodedObject(nameobj);
    sds name = objectGetVal(decoded);
    if (!hashtableFind(st->subs[kind], name, NULL)) {
        pubsubChannel *ch = findOrCreateChannel(kind, name);
        hashtableAdd(ch->subscribers, c);
        hashtableAdd(st->subs[kind], ch);
    }
    replySubscribed(c, kind, name, sdslen(name));
    decrRefCount(decoded);
}

/* Drops c from ch (which c must be subscribed to). Frees ch when it was the last
 * subscriber: ch must not be used afterwards. */
static void dropSubscription(client *c, int kind, pubsubChannel *ch) {
    pubsubClientState *st = clientState(c);
    hashtableDelete(st->subs[kind], ch->name);
    hashtableDelete(ch->subscribers, c);
    if (hashtableSize(ch->subscribers) == 0) hashtableDelete(channel_tables[kind], ch->name);
}

/* Unsubscribes c from one name, subscribed or not, and replies. */
static void unsubscribeOne(client *c, int kind, robj *nameobj) {
    robj *decoded = getDecodedObject(nameobj);
    sds name = objectGetVal(decoded);
    pubsubClientState *st = clientState(c);
    void *found;
    if (st && st->subs[kind] && hashtableFind(st->subs[kind], name, &found)) dropSubscription(c, kind, found);
    replyUnsubscribed(c, kind, name, sdslen(name));
    decrRefCount(decoded);
}

/* Unsubscribes c from everything of one kind; with notify, replies once per name (or
 * once with a null name when there was nothing). */
static void unsubscribeAll(client *c, int kind, int notify) {
    pubsubClientState *st = clientState(c);
    hashtable *subs = st ? st->subs[kind] : NULL;
    if (!subs || hashtableSize(subs) == 0) {
        if (notify) replyUnsubscribed(c, kind, NULL, 0);
        return;
    }
    hashtableIterator iter;
    hashtableInitSafeIterator(&iter, subs);
    void *entry;
    while (hashtableNext(&iter, &entry)) {
        pubsubChannel *ch = entry;
        /* The name may be freed with ch: the reply (with the updated count) is built from
         * a copy taken before. */
        sds name = notify ? sdsdup(ch->name) : NULL;
        dropSubscription(c, kind, ch);
        if (notify) {
            replyUnsubscribed(c, kind, name, sdslen(name));
            sdsfree(name);
        }
    }
    hashtableResetIterator(&iter);
}

/* CLIENT_PUBSUB marks a client with any subscription (CLIENT LIST flag P, the pubsub
 * client class for output buffer limits, and the RESP2 command restriction). */
static void updatePubsubFlag(client *c) {
    if (clientTotalCount(c))
        c->flags |= CLIENT_PUBSUB;
    else
        c->flags &= ~CLIENT_PUBSUB;
}

/* Overrides the weak hook of networking.c: on RESET and when the client is freed. */
void freeClientPubSubData(client *c) {
    pubsubClientState *st = clientState(c);
    if (st) {
        for (int k = 0; k < KIND_COUNT; k++) {
            if (!st->subs[k]) continue;
            unsubscribeAll(c, k, 0);
            hashtableRelease(st->subs[k]);
        }
        zfree(st);
        c->pubsub_state = NULL;
    }
    c->flags &= ~CLIENT_PUBSUB;
}

void getClientPubSubCounts(client *c, long *channels, long *patterns, long *shard_channels) {
    *channels = (long)clientKindCount(c, KIND_CHANNEL);
    *patterns = (long)clientKindCount(c, KIND_PATTERN);
    *shard_channels = (long)clientKindCount(c, KIND_SHARD);
}

size_t pubsubClientMemoryOverhead(client *c) {
    pubsubClientState *st = clientState(c);
    if (!st) return 0;
    size_t mem = sizeof(*st);
    for (int k = 0; k < KIND_COUNT; k++)
        if (st->subs[k]) mem += hashtableMemUsage(st->subs[k]);
    return mem;
}

/* ------------------------------------------------------------------------------------ */
/* Publishing                                                                             */
/* ------------------------------------------------------------------------------------ */

/* A message's push reply is encoded once and copied whole to each subscriber: per-client
 * encoding was most of PUBLISH's user-space time with a few subscribers. RESP2 and RESP3
 * clients differ only in the first byte ('*' array or '>' push), set before each copy.
 * The scratch buffer belongs to this module; one grown over PUSH_SCRATCH_KEEP is freed. */
#define PUSH_SCRATCH_KEEP (64 * 1024)
static sds push_scratch;

static sds catBulkBytes(sds s, const char *p, size_t len) {
    char head[LONG_STR_SIZE + 3];
    head[0] = '$';
    int n = 1 + ll2string(head + 1, sizeof(head) - 1, (long long)len);
    head[n++] = '\r';
    head[n++] = '\n';
    s = sdscatlen(s, head, (size_t)n);
    s = sdscatlen(s, p, len);
    return sdscatlen(s, "\r\n", 2);
}

static sds catBulkObject(sds s, robj *o) {
    if (sdsEncodedObject(o)) return catBulkBytes(s, objectGetVal(o), sdslen(objectGetVal(o)));
    char buf[LONG_STR_SIZE];
    int len = ll2string(buf, sizeof(buf), (long)objectGetVal(o));
    return catBulkBytes(s, buf, (size_t)len);
}

/* [word, (pattern,) channel, message] into the scratch buffer; word is a ready-made bulk. */
static sds encodeMessage(robj *word, pubsubChannel *pattern, robj *channel, robj *msg) {
    sds s = push_scratch ? push_scratch : sdsempty();
    sdsclear(s);
    s = sdscatlen(s, pattern ? "*4\r\n" : "*3\r\n", 4);
    s = sdscatlen(s, objectGetVal(word), sdslen(objectGetVal(word)));
    if (pattern) s = catBulkBytes(s, pattern->name, sdslen(pattern->name));
    s = catBulkObject(s, channel);
    s = catBulkObject(s, msg);
    push_scratch = s;
    return s;
}

static void releaseEncodedMessage(void) {
    if (push_scratch && sdsalloc(push_scratch) > PUSH_SCRATCH_KEEP) {
        sdsfree(push_scratch);
        push_scratch = NULL;
    }
}

static int sendToSubscribers(hashtable *subscribers, sds push) {
    int receivers = 0;
    hashtableIterator iter;
    hashtableInitIterator(&iter, subscribers);
    void *entry;
    while (hashtableNext(&iter, &entry)) {
        client *c = entry;
        push[0] = c->resp == 2 ? '*' : '>';
        uint64_t saved = c->flags & CLIENT_PUSHING;
        c->flags |= CLIENT_PUSHING;
        addReplyProto(c, push, sdslen(push));
        endPush(c, saved);
        receivers++;
    }
    hashtableResetIterator(&iter);
    return receivers;
}

static int publishToPatterns(sds name, robj *channel, robj *msg) {
    int receivers = 0;
    hashtableIterator iter;
    hashtableInitIterator(&iter, channel_tables[KIND_PATTERN]);
    void *entry;
    while (hashtableNext(&iter, &entry)) {
        pubsubChannel *pat = entry;
        if (!stringmatchlen(pat->name, (int)sdslen(pat->name), name, (int)sdslen(name), 0)) continue;
        sds push = encodeMessage(message_bulk[KIND_PATTERN], pat, channel, msg);
        receivers += sendToSubscribers(pat->subscribers, push);
    }
    hashtableResetIterator(&iter);
    return receivers;
}

int pubsubPublishMessage(robj *channel, robj *message, int sharded) {
    int kind = sharded ? KIND_SHARD : KIND_CHANNEL;
    if (!channel_tables[kind]) return 0;
    int receivers = 0;
    robj *decoded = getDecodedObject(channel);
    sds name = objectGetVal(decoded);
    void *found;
    if (hashtableFind(channel_tables[kind], name, &found))
        receivers += sendToSubscribers(((pubsubChannel *)found)->subscribers,
                                       encodeMessage(message_bulk[kind], NULL, decoded, message));
    if (!sharded && hashtableSize(channel_tables[KIND_PATTERN]))
        receivers += publishToPatterns(name, decoded, message);
    decrRefCount(decoded);
    releaseEncodedMessage();
    return receivers;
}

int pubsubHasSubscribers(void) {
    if (!channel_tables[0]) return 0;
    for (int k = 0; k < KIND_COUNT; k++)
        if (hashtableSize(channel_tables[k])) return 1;
    return 0;
}

static unsigned long tableSize(int kind) {
    return channel_tables[kind] ? hashtableSize(channel_tables[kind]) : 0;
}

unsigned long pubsubChannelCount(void) {
    return tableSize(KIND_CHANNEL);
}

unsigned long pubsubPatternCount(void) {
    return tableSize(KIND_PATTERN);
}

unsigned long pubsubShardChannelCount(void) {
    return tableSize(KIND_SHARD);
}

/* ------------------------------------------------------------------------------------ */
/* Commands                                                                               */
/* ------------------------------------------------------------------------------------ */

/* A client that expects exactly one reply per command (a script, or a transaction
 * being executed) cannot enter the subscribed state. SUBSCRIBE and PSUBSCRIBE stay
 * allowed inside MULTI for backward compatibility; SSUBSCRIBE never is. */
static int subscribeDenied(client *c, int kind) {
    if (!(c->flags & CLIENT_DENY_BLOCKING)) return 0;
    if (kind != KIND_SHARD && (c->flags & CLIENT_MULTI)) return 0;
    addReplyErrorFormat(c, "%s isn't allowed for a DENY BLOCKING client", subscribe_names[kind]);
    return 1;
}

static void subscribeGeneric(client *c, int kind) {
    if (subscribeDenied(c, kind)) return;
    for (int j = 1; j < c->argc; j++) subscribeOne(c, kind, c->argv[j]);
    updatePubsubFlag(c);
}

static void unsubscribeGeneric(client *c, int kind) {
    if (c->argc == 1)
        unsubscribeAll(c, kind, 1);
    else
        for (int j = 1; j < c->argc; j++) unsubscribeOne(c, kind, c->argv[j]);
    updatePubsubFlag(c);
}

void subscribeCommand(client *c) {
    subscribeGeneric(c, KIND_CHANNEL);
}

void unsubscribeCommand(client *c) {
    unsubscribeGeneric(c, KIND_CHANNEL);
}

void psubscribeCommand(client *c) {
    subscribeGeneric(c, KIND_PATTERN);
}

void punsubscribeCommand(client *c) {
    unsubscribeGeneric(c, KIND_PATTERN);
}

void ssubscribeCommand(client *c) {
    subscribeGeneric(c, KIND_SHARD);
}

void sunsubscribeCommand(client *c) {
    unsubscribeGeneric(c, KIND_SHARD);
}

/* PUBLISH and SPUBLISH go to replicas (not to the AOF). */
void publishCommand(client *c) {
    int receivers = pubsubPublishMessage(c->argv[1], c->argv[2], 0);
    forceCommandPropagation(c, CMD_CALL_PROPAGATE_REPL);
    addReplyLongLong(c, receivers);
}

void spublishCommand(client *c) {
    int receivers = pubsubPublishMessage(c->argv[1], c->argv[2], 1);
    forceCommandPropagation(c, CMD_CALL_PROPAGATE_REPL);
    addReplyLongLong(c, receivers);
}

void pubsubHelpCommand(client *c) {
    const char *help[] = {
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        NULL,
    };
    addReplyHelp(c, help);
}

/* PUBSUB CHANNELS|SHARDCHANNELS [pattern] */
static void listChannels(client *c, int kind) {
    if (c->argc > 3) {
        addReplySubcommandSyntaxError(c);
        return;
    }
    sds pat = c->argc == 3 ? objectGetVal(c->argv[2]) : NULL;
    hashtable *table = channel_tables[kind];
    if (!table || hashtableSize(table) == 0) {
        addReplyArrayLen(c, 0);
        return;
    }
    void *lenptr = addReplyDeferredLen(c);
    long count = 0;
    hashtableIterator iter;
    hashtableInitIterator(&iter, table);
    void *entry;
    while (hashtableNext(&iter, &entry)) {
        pubsubChannel *ch = entry;
        if (pat && !stringmatchlen(pat, (int)sdslen(pat), ch->name, (int)sdslen(ch->name), 0)) continue;
        addReplyBulkCBuffer(c, ch->name, sdslen(ch->name));
        count++;
    }
    hashtableResetIterator(&iter);
    setDeferredArrayLen(c, lenptr, count);
}

/* PUBSUB NUMSUB|SHARDNUMSUB [name ...]: name, count, name, count... */
static void countSubscribers(client *c, int kind) {
    hashtable *table = channel_tables[kind];
    addReplyArrayLen(c, (long)(c->argc - 2) * 2);
    for (int j = 2; j < c->argc; j++) {
        robj *decoded = getDecodedObject(c->argv[j]);
        void *found = NULL;
        if (table) hashtableFind(table, objectGetVal(decoded), &found);
        addReplyBulk(c, c->argv[j]);
        addReplyLongLong(c, found ? (long long)hashtableSize(((pubsubChannel *)found)->subscribers) : 0);
        decrRefCount(decoded);
    }
}

void pubsubChannelsCommand(client *c) {
    listChannels(c, KIND_CHANNEL);
}

void pubsubShardchannelsCommand(client *c) {
    listChannels(c, KIND_SHARD);
}

void pubsubNumsubCommand(client *c) {
    countSubscribers(c, KIND_CHANNEL);
}

void pubsubShardnumsubCommand(client *c) {
    countSubscribers(c, KIND_SHARD);
}

/* Distinct patterns, whatever the number of clients subscribed to each. */
void pubsubNumpatCommand(client *c) {
    addReplyLongLong(c, (long long)pubsubPatternCount());
}

/* Defined in client_cmds.c. */
void pingCommand(client *c);
void quitCommand(client *c);
void resetCommand(client *c);

int pubsubCommandRepliesWithPush(struct serverCommand *cmd) {
    serverCommandProc *proc = cmd->proc;
    return proc == subscribeCommand || proc == ssubscribeCommand || proc == psubscribeCommand ||
           proc == unsubscribeCommand || proc == sunsubscribeCommand || proc == punsubscribeCommand;
}

int pubsubCommandAllowedWhileSubscribed(struct serverCommand *cmd) {
    serverCommandProc *proc = cmd->proc;
    return pubsubCommandRepliesWithPush(cmd) || proc == pingCommand || proc == quitCommand || proc == resetCommand;
}
