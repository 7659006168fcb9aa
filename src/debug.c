/* debug.c -- DEBUG subcommands, the dataset digest, and the crash report.
 *
 * Digest. DEBUG DIGEST summarises the whole dataset in 20 bytes so tests can compare
 * two servers (or one server before and after a reload). Every key contributes the
 * SHA1 of (database id, key, type, value, has-expire); the contributions are XORed
 * together, so the result does not depend on iteration order, and an empty dataset
 * digests to all zeros. DEBUG DIGEST-VALUE hashes only (type, value, has-expire) of
 * each named key. Strings are hashed by their bytes; other types contribute their
 * type only until their files provide element iteration.
 *
 * Crash report. The fatal-signal handler, _serverAssert() and _serverPanic() write a
 * report to the log: what happened, a stack trace (backtrace_symbols_fd straight to
 * the log file, which needs no allocation), then INFO and the client list. The
 * handlers are installed with SA_RESETHAND, so a second fault while reporting kills
 * the process with the default action, and after the report the signal is raised
 * again to die the way the kernel meant (core dump included).
 */
#define _GNU_SOURCE /* REG_RIP in ucontext */
#include <arpa/inet.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "debug.h"
#include "tier/tier.h"
#include "aof.h"
#include "db.h"
#include "hashtable.h"
#include "info.h"
#include "listpack.h"
#include "networking.h"
#include "object.h"
#include "quicklist.h"
#include "server.h"
#include "t_hash.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"
#include "version.h"
#include "zmalloc.h"

#define DEBUG_STACK_DEPTH 100
#define DEBUG_HTSTATS_BUF 4096

/* Provided by the persistence code once it exists (its RDB payload size). */
ssize_t rdbSavedObjectLen(robj *o, robj *key, int dbid) __attribute__((weak));
/* Persistence (rdb.c): DEBUG RELOAD and DEBUG SET-SKIP-CHECKSUM-VALIDATION. */
int rdbDebugReload(int save, int flush, int merge, const char **err) __attribute__((weak));
void rdbSetSkipChecksumValidation(int skip) __attribute__((weak));

/* ------------------------------------------------------------------------- */
/* Digest                                                                     */
/* ------------------------------------------------------------------------- */

static void digestBytes(EVP_MD_CTX *ctx, const void *p, size_t len) {
    EVP_DigestUpdate(ctx, p, len);
}

static void digestU32(EVP_MD_CTX *ctx, uint32_t v) {
    uint32_t be = htonl(v);
    digestBytes(ctx, &be, sizeof(be));
}

/* Length-prefixed, so ("ab","c") and ("a","bc") differ. */
static void digestString(EVP_MD_CTX *ctx, const char *p, size_t len) {
    digestU32(ctx, (uint32_t)(len >> 32));
    digestU32(ctx, (uint32_t)len);
    digestBytes(ctx, p, len);
}

/* A hash contributes the XOR of SHA1(field, value) over its pairs, so neither the order
 * of the pairs nor the encoding changes the digest. */
static void digestHash(EVP_MD_CTX *ctx, robj *o) {
    unsigned char acc[DIGEST_LEN] = {0}, one[DIGEST_LEN];
    EVP_MD_CTX *pair = EVP_MD_CTX_new();
    hashTypeIterator hi;
    hashTypeItem field, value;
    hashTypeInitIterator(o, &hi);
    while (hashTypeNext(&hi, &field, &value)) {
        unsigned int len = DIGEST_LEN;
        EVP_DigestInit_ex(pair, EVP_sha1(), NULL);
        digestString(pair, field.str, field.len);
        digestString(pair, value.str, value.len);
        EVP_DigestFinal_ex(pair, one, &len);
        for (int j = 0; j < DIGEST_LEN; j++) acc[j] ^= one[j];
    }
    hashTypeResetIterator(&hi);
    EVP_MD_CTX_free(pair);
    digestBytes(ctx, acc, DIGEST_LEN);
}

/* A set contributes the XOR of SHA1(member) over its members, integers as their text,
 * so neither the order nor the encoding changes the digest. */
static void digestSet(EVP_MD_CTX *ctx, robj *o) {
    unsigned char acc[DIGEST_LEN] = {0}, one[DIGEST_LEN];
    char numbuf[LONG_STR_SIZE];
    EVP_MD_CTX *member = EVP_MD_CTX_new();
    setTypeIterator si;
    char *str;
    size_t len = 0;
    int64_t llval = 0;
    setTypeInitIterator(&si, o);
    while (setTypeNext(&si, &str, &len, &llval) != -1) {
        unsigned int dlen = DIGEST_LEN;
        if (!str) {
            len = (size_t)ll2string(numbuf, sizeof(numbuf), llval);
            str = numbuf;
        }
        EVP_DigestInit_ex(member, EVP_sha1(), NULL);
        digestString(member, str, len);
        EVP_DigestFinal_ex(member, one, &dlen);
        for (int j = 0; j < DIGEST_LEN; j++) acc[j] ^= one[j];
    }
    setTypeResetIterator(&si);
    EVP_MD_CTX_free(member);
    digestBytes(ctx, acc, DIGEST_LEN);
}

/* A list contributes its elements in order, integers as their text, so both encodings
 * digest alike. */
static void digestListElement(EVP_MD_CTX *ctx, const unsigned char *s, size_t len, long long ll) {
    char numbuf[LONG_STR_SIZE];
    if (!s) {
        len = (size_t)ll2string(numbuf, sizeof(numbuf), ll);
        s = (const unsigned char *)numbuf;
    }
    digestString(ctx, (const char *)s, len);
}

static void digestList(EVP_MD_CTX *ctx, robj *o) {
    if (o->encoding == OBJ_ENCODING_QUICKLIST) {
        quicklistIter *it = quicklistGetIterator(objectGetVal(o), AL_START_HEAD);
        quicklistEntry e;
        while (quicklistNext(it, &e)) digestListElement(ctx, e.value, e.sz, e.longval);
        quicklistReleaseIterator(it);
        return;
    }
    unsigned char *lp = objectGetVal(o);
    for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p)) {
        unsigned int slen = 0;
        long long ll = 0;
        unsigned char *s = lpGetValue(p, &slen, &ll);
        digestListElement(ctx, s, slen, ll);
    }
}

/* A sorted set: its (member, score) pairs in score order, the same in both encodings. */
static void digestZset(EVP_MD_CTX *ctx, robj *o) {
    zsetIterator it;
    const unsigned char *str;
    size_t len;
    long long ll;
    double score;
    char buf[MAX_D2STRING_CHARS];
    zsetIteratorInit(&it, o, 0);
    while (zsetIteratorNext(&it, &str, &len, &ll, &score)) {
        if (!str) {
            len = (size_t)ll2string(buf, sizeof(buf), ll);
            str = (const unsigned char *)buf;
        }
        digestString(ctx, (const char *)str, len);
        len = (size_t)d2string(buf, sizeof(buf), score);
        digestString(ctx, buf, len);
    }
}

static void digestValue(EVP_MD_CTX *ctx, robj *entry) {
    unsigned char type = (unsigned char)entry->type;
    digestBytes(ctx, &type, 1);
    /* A cold value is read back from flash (synchronously: DEBUG is for tests). */
    robj *o = entry->cold ? tierLoadColdValue(entry) : entry;
    if (!o) {
        digestString(ctx, "<unreadable cold value>", 23);
    } else if (o->type == OBJ_STRING) {
        robj *d = getDecodedObject(o);
        sds s = objectGetVal(d);
        digestString(ctx, s, sdslen(s));
        decrRefCount(d);
    } else if (o->type == OBJ_HASH) {
        digestHash(ctx, o);
    } else if (o->type == OBJ_SET) {
        digestSet(ctx, o);
    } else if (o->type == OBJ_LIST) {
        digestList(ctx, o);
    } else if (o->type == OBJ_ZSET) {
        digestZset(ctx, o);
    }
    if (o && o != entry) decrRefCount(o);
    unsigned char has_expire = objectGetExpire(entry) != -1;
    digestBytes(ctx, &has_expire, 1);
}

static void digestFinish(EVP_MD_CTX *ctx, unsigned char *out) {
    unsigned int len = DIGEST_LEN;
    EVP_DigestFinal_ex(ctx, out, &len);
}

static void xorInto(unsigned char *acc, const unsigned char *d) {
    for (int j = 0; j < DIGEST_LEN; j++) acc[j] ^= d[j];
}

typedef struct digestState {
    EVP_MD_CTX *ctx;
    int dbid;
    unsigned char *digest;
} digestState;

/* Entries are combined by XOR, so the order the tier layer visits them in is free. */
static int xorEntryDigest(robj *o, void *privdata) {
    digestState *st = privdata;
    sds key = objectGetKey(o);
    unsigned char one[DIGEST_LEN];
    EVP_DigestInit_ex(st->ctx, EVP_sha1(), NULL);
    digestU32(st->ctx, (uint32_t)st->dbid);
    digestString(st->ctx, key, sdslen(key));
    digestValue(st->ctx, o);
    digestFinish(st->ctx, one);
    xorInto(st->digest, one);
    return 0;
}

void computeDatasetDigest(unsigned char *digest) {
    memset(digest, 0, DIGEST_LEN);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    for (int j = 0; j < server.dbnum; j++) {
        serverDb *db = &server.db[j];
        digestState st = {ctx, j, digest};
        if (db->keys && hashtableSize(db->keys)) tierForEachEntryColdLast(db, xorEntryDigest, &st);
    }
    EVP_MD_CTX_free(ctx);
}

static void addReplyDigest(client *c, const unsigned char *digest) {
    char hex[DIGEST_LEN * 2 + 1];
    for (int j = 0; j < DIGEST_LEN; j++) snprintf(hex + j * 2, 3, "%02x", digest[j]);
    addReplyStatus(c, hex);
}

static void debugDigestValues(client *c) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    addReplyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        unsigned char digest[DIGEST_LEN] = {0};
        robj *o = dbFind(c->db, objectGetVal(c->argv[j])); /* no expiry: works on expired keys too */
        if (o) {
            EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
            digestValue(ctx, o);
            digestFinish(ctx, digest);
        }
        addReplyDigest(c, digest);
    }
    EVP_MD_CTX_free(ctx);
}

/* ------------------------------------------------------------------------- */
/* DEBUG subcommands                                                          */
/* ------------------------------------------------------------------------- */

void debugDelay(int usec) {
    struct timespec ts = {.tv_sec = usec / 1000000, .tv_nsec = (long)(usec % 1000000) * 1000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) continue;
}

static const char *debugArg(client *c, int j) {
    return objectGetVal(c->argv[j]);
}

static void debugHelp(client *c) {
    static const char *help[] = {
        "AOF-FLUSH-SLEEP <microsec>",
        "    Server will sleep before flushing the AOF, this is used for testing.",
        "ASSERT",
        "    Crash by assertion failed.",
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "ERROR <string>",
        "    Return a RESP protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate error replies.",
        "LOADAOF",
        "    Flush the AOF buffers on disk and reload the AOF in memory.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "HTSTATS <dbid> [full]",
        "    Return hash table statistics of the specified database.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "PANIC",
        "    Crash the server simulating a panic.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "SEGFAULT",
        "    Crash the server with sigsegv.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the behavior). Setting it to 1 reenables back the",
        "    default.",
        "RELOAD [MERGE] [NOFLUSH] [NOSAVE]",
        "    Save the RDB on disk and reload it back to memory. NOSAVE loads the existing",
        "    RDB file, NOFLUSH keeps the current dataset (with MERGE, keys of the file",
        "    replace conflicting ones).",
        "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
        "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
        "QUICKLIST-PACKED-THRESHOLD <size>",
        "    Sets the threshold for elements to be inserted as plain vs packed nodes",
        "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        NULL};
    addReplyHelp(c, help);
}

static unsigned long long idleMilliseconds(const robj *o) {
    unsigned long long now = LRU_CLOCK(), then = o->lru;
    unsigned long long ticks = now >= then ? now - then : now + (LRU_CLOCK_MAX - then);
    return ticks * LRU_CLOCK_RESOLUTION;
}

/* The RDB payload size when the persistence code is linked; until then the length
 * of a string value (what RDB spends on it, give or take its length header). */
static size_t serializedLength(client *c, robj *o) {
    if (rdbSavedObjectLen) return (size_t)rdbSavedObjectLen(o, c->argv[2], c->db->id);
    return o->type == OBJ_STRING ? stringObjectLen(o) : 0;
}

static void debugObject(client *c) {
    robj *o = dbFind(c->db, objectGetVal(c->argv[2]));
    if (!o) {
        addReplyErrorObject(c, shared.nokeyerr);
        return;
    }
    addReplyStatusFormat(c, "Value at:%p refcount:%d encoding:%s serializedlength:%zu lru:%d lru_seconds_idle:%llu",
                         (void *)o, (int)o->refcount, strEncoding(o->encoding), serializedLength(c, o),
                         (int)o->lru, idleMilliseconds(o) / 1000);
}

/* A string value "value:<n>", or exactly `size` bytes of it (zero padded) if size > 0. */
static robj *populateValue(long n, long size) {
    char buf[64];
    int len = snprintf(buf, sizeof(buf), "value:%ld", n);
    if (size == 0) return createStringObject(buf, len);
    sds s = sdsnewlen(NULL, size); /* zero filled */
    memcpy(s, buf, size < len ? (size_t)size : (size_t)len);
    if (size <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT) {
        robj *o = createStringObject(s, size);
        sdsfree(s);
        return o;
    }
    return createObjectFromSds(s);
}

static void debugPopulate(client *c) {
    long count, size = 0;
    if (getPositiveLongFromObjectOrReply(c, c->argv[2], &count, NULL) != C_OK) return;
    if (c->argc == 5 && getPositiveLongFromObjectOrReply(c, c->argv[4], &size, NULL) != C_OK) return;
    if (server.loading) {
        addReplyErrorObject(c, shared.loadingerr);
        return;
    }
    const char *prefix = c->argc >= 4 ? debugArg(c, 3) : "key";
    size_t wanted = hashtableSize(c->db->keys) + (size_t)count;
    hashtableExpand(c->db->keys, wanted);
    sds name = sdsempty();
    for (long j = 0; j < count; j++) {
        sdsclear(name);
        name = sdscatprintf(name, "%s:%ld", prefix, j);
        robj *key = createStringObject(name, sdslen(name));
        if (lookupKeyWrite(c->db, key) == NULL) {
            dbAdd(c->db, key, populateValue(j, size));
            signalModifiedKey(c, c->db, key);
        }
        decrRefCount(key);
    }
    sdsfree(name);
    addReply(c, shared.ok);
}

static void debugHtstats(client *c) {
    long dbid;
    if (getLongFromObjectOrReply(c, c->argv[2], &dbid, NULL) != C_OK) return;
    if (dbid < 0 || dbid >= server.dbnum) {
        addReplyError(c, "Out of range database");
        return;
    }
    int full = c->argc >= 4 && !strcasecmp(debugArg(c, 3), "full");
    serverDb *db = &server.db[dbid];
    char buf[DEBUG_HTSTATS_BUF];
    sds stats = sdsnew("[Dictionary HT]\n");
    hashtableGetStats(buf, sizeof(buf), db->keys, full);
    stats = sdscat(stats, buf);
    stats = sdscat(stats, "[Expires HT]\n");
    hashtableGetStats(buf, sizeof(buf), db->expires, full);
    stats = sdscat(stats, buf);
    addReplyVerbatim(c, stats, sdslen(stats), "txt");
    sdsfree(stats);
}

/* DEBUG PROTOCOL <type>: one reply of each RESP type, for client library tests. */
static void debugProtocol(client *c) {
    const char *name = debugArg(c, 2);
    if (!strcasecmp(name, "string")) {
        addReplyBulkCString(c, "Hello World");
    } else if (!strcasecmp(name, "integer")) {
        addReplyLongLong(c, 12345);
    } else if (!strcasecmp(name, "double")) {
        addReplyDouble(c, 3.141);
    } else if (!strcasecmp(name, "bignum")) {
        addReplyBigNum(c, "1234567999999999999999999999999999999", 37);
    } else if (!strcasecmp(name, "null")) {
        addReplyNull(c);
    } else if (!strcasecmp(name, "array")) {
        addReplyArrayLen(c, 3);
        for (int j = 0; j < 3; j++) addReplyLongLong(c, j);
    } else if (!strcasecmp(name, "set")) {
        addReplySetLen(c, 3);
        for (int j = 0; j < 3; j++) addReplyLongLong(c, j);
    } else if (!strcasecmp(name, "map")) {
        addReplyMapLen(c, 3);
        for (int j = 0; j < 3; j++) {
            addReplyLongLong(c, j);
            addReplyBool(c, j == 1);
        }
    } else if (!strcasecmp(name, "attrib")) {
        if (c->resp >= 3) {
            addReplyAttributeLen(c, 1);
            addReplyBulkCString(c, "key-popularity");
            addReplyArrayLen(c, 2);
            addReplyBulkCString(c, "key:123");
            addReplyLongLong(c, 90);
        }
        addReplyBulkCString(c, "Some real reply following the attribute");
    } else if (!strcasecmp(name, "push")) {
        if (c->resp < 3) {
            addReplyError(c, "RESP2 is not supported by this command");
            return;
        }
        uint64_t was_pushing = c->flags & CLIENT_PUSHING;
        c->flags |= CLIENT_PUSHING;
        addReplyPushLen(c, 2);
        addReplyBulkCString(c, "server-cpu-usage");
        addReplyLongLong(c, 42);
        if (!was_pushing) c->flags &= ~CLIENT_PUSHING;
        addReplyBulkCString(c, "Some real reply following the push reply");
    } else if (!strcasecmp(name, "true")) {
        addReplyBool(c, 1);
    } else if (!strcasecmp(name, "false")) {
        addReplyBool(c, 0);
    } else if (!strcasecmp(name, "verbatim")) {
        addReplyVerbatim(c, "This is a verbatim\nstring", 25, "txt");
    } else {
        addReplyError(c, "Wrong protocol type name. Please use one of the following: "
                         "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

/* DEBUG ERROR <string>: exactly "-<string>\r\n", newlines flattened. */
static void debugError(client *c) {
    sds err = sdsnew("-");
    err = sdscatsds(err, objectGetVal(c->argv[2]));
    err = sdsmapchars(err, "\r\n", "  ", 2);
    err = sdscatlen(err, "\r\n", 2);
    addReplyProto(c, err, sdslen(err));
    sdsfree(err);
}

static void debugQuicklistThreshold(client *c) {
    int err = 0;
    unsigned long long sz = memtoull(debugArg(c, 2), &err);
    if (err || !quicklistSetPackedThreshold((size_t)sz)) {
        addReplyError(c, "argument must be a memory value bigger than 1 and smaller than 4gb");
        return;
    }
    addReply(c, shared.ok);
}

/* DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]. */
static void debugReload(client *c) {
    int flush = 1, save = 1, merge = 0;
    for (int j = 2; j < c->argc; j++) {
        const char *opt = debugArg(c, j);
        if (!strcasecmp(opt, "merge")) merge = 1;
        else if (!strcasecmp(opt, "noflush")) flush = 0;
        else if (!strcasecmp(opt, "nosave")) save = 0;
        else {
            addReplyError(c, "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    const char *err = NULL;
    if (rdbDebugReload(save, flush, merge, &err) != C_OK) {
        if (!strcmp(err, "ERR")) addReplyErrorObject(c, shared.err);
        else addReplyError(c, err);
        return;
    }
    addReply(c, shared.ok);
}

static void debugSegfault(void) {
    /* Writing to a read-only mapping faults for sure, whatever the optimiser does. */
    volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *p = 'x';
}

void debugCommand(client *c) {
    const char *sub = debugArg(c, 1);
    int argc = c->argc;
    if (argc == 2 && !strcasecmp(sub, "help")) {
        debugHelp(c);
    } else if (!strcasecmp(sub, "segfault")) {
        debugSegfault();
    } else if (!strcasecmp(sub, "panic")) {
        serverPanic("DEBUG PANIC called at Unix time %lld", (long long)time(NULL));
    } else if (!strcasecmp(sub, "assert")) {
        volatile int one = 1;
        serverAssert(one == 2);
    } else if (!strcasecmp(sub, "log") && argc == 3) {
        serverLog(LL_WARNING, "DEBUG LOG: %s", debugArg(c, 2));
        addReply(c, shared.ok);
    } else if (!strcasecmp(sub, "sleep") && argc == 3) {
        double seconds = strtod(debugArg(c, 2), NULL);
        if (seconds > 0) debugDelay((int)(seconds * 1000000));
        addReply(c, shared.ok);
    } else if (!strcasecmp(sub, "set-active-expire") && argc == 3) {
        server.active_expire_enabled = atoi(debugArg(c, 2));
        addReply(c, shared.ok);
    } else if (!strcasecmp(sub, "object") && argc == 3) {
        debugObject(c);
    } else if (!strcasecmp(sub, "populate") && argc >= 3 && argc <= 5) {
        debugPopulate(c);
    } else if (!strcasecmp(sub, "digest") && argc == 2) {
        unsigned char digest[DIGEST_LEN];
        computeDatasetDigest(digest);
        addReplyDigest(c, digest);
    } else if (!strcasecmp(sub, "digest-value") && argc >= 2) {
        debugDigestValues(c);
    } else if (!strcasecmp(sub, "protocol") && argc == 3) {
        debugProtocol(c);
    } else if (!strcasecmp(sub, "htstats") && argc >= 3) {
        debugHtstats(c);
    } else if (!strcasecmp(sub, "error") && argc == 3) {
        debugError(c);
    } else if (!strcasecmp(sub, "quicklist-packed-threshold") && argc == 3) {
        debugQuicklistThreshold(c);
    } else if (!strcasecmp(sub, "reload") && rdbDebugReload) {
        debugReload(c);
    } else if (!strcasecmp(sub, "set-skip-checksum-validation") && argc == 3 && rdbSetSkipChecksumValidation) {
        rdbSetSkipChecksumValidation(atoi(debugArg(c, 2)));
        addReply(c, shared.ok);
    } else if (!strcasecmp(sub, "loadaof") && argc == 2) {
        aofDebugLoad();
        addReply(c, shared.ok);
    } else if (!strcasecmp(sub, "aof-flush-sleep") && argc == 3) {
        aofSetFlushSleep(atoi(debugArg(c, 2)));
        addReply(c, shared.ok);
    } else if (!strcasecmp(sub, "jmap") && argc == 2) {
        addReply(c, shared.ok); /* a relic of the Java days: nothing to do */
    } else {
        addReplySubcommandSyntaxError(c);
    }
}

/* ------------------------------------------------------------------------- */
/* Crash report                                                               */
/* ------------------------------------------------------------------------- */

static volatile sig_atomic_t bug_report_started = 0;

static void logRaw(const char *msg) {
    serverLogRaw(LL_WARNING | LL_RAW, msg);
}

/* Returns 1 when this call opened the report (0 if one is already in progress). */
static int bugReportStart(void) {
    if (bug_report_started) return 0;
    bug_report_started = 1;
    logRaw("\n\n=== VALKEY BUG REPORT START: Cut & paste starting from here ===\n");
    return 1;
}

/* The log's file descriptor for writes that must not allocate; -1 if none. */
static int openLogFd(int *must_close) {
    *must_close = 0;
    if (!server.logfile || server.logfile[0] == '\0') return STDOUT_FILENO;
    int fd = open(server.logfile, O_APPEND | O_CREAT | O_WRONLY, 0644);
    if (fd != -1) *must_close = 1;
    return fd;
}

static void writeFd(int fd, const char *s) {
    size_t len = strlen(s);
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n <= 0) return;
        s += n;
        len -= (size_t)n;
    }
}

static void logStackTrace(void *pc) {
    void *frames[DEBUG_STACK_DEPTH];
    int n = backtrace(frames, DEBUG_STACK_DEPTH);
    int must_close;
    int fd = openLogFd(&must_close);
    if (fd == -1) return;
    writeFd(fd, "\n------ STACK TRACE ------\n");
    if (pc) {
        char line[64];
        snprintf(line, sizeof(line), "EIP:\n");
        writeFd(fd, line);
        backtrace_symbols_fd(&pc, 1, fd);
    }
    writeFd(fd, "\nBacktrace:\n");
    backtrace_symbols_fd(frames, n, fd);
    writeFd(fd, "\n------ STACK TRACE DONE ------\n");
    if (must_close) close(fd);
}

static void logServerState(void) {
    logRaw("\n------ INFO OUTPUT ------\n");
    sds info = genValkeyInfoString(INFO_SECTIONS_EVERYTHING);
    logRaw(info);
    sdsfree(info);
    if (server.clients) {
        logRaw("\n------ CLIENT LIST OUTPUT ------\n");
        sds clients = getAllClientsInfoString(-1);
        logRaw(clients);
        sdsfree(clients);
    }
    client *cc = server.current_client ? server.current_client : server.executing_client;
    if (cc) {
        logRaw("\n------ CURRENT CLIENT INFO ------\n");
        sds s = catClientInfoString(sdsempty(), cc);
        s = sdscat(s, "\n");
        logRaw(s);
        sdsfree(s);
        for (int j = 0; cc->argv && j < cc->argc; j++) {
            robj *arg = getDecodedObject(cc->argv[j]);
            sds line = sdscatprintf(sdsempty(), "argv[%d]: '", j);
            line = sdscatrepr(line, objectGetVal(arg), sdslen(objectGetVal(arg)));
            line = sdscat(line, "'\n");
            logRaw(line);
            sdsfree(line);
            decrRefCount(arg);
        }
    }
}

static void bugReportEnd(void) {
    logRaw("\n=== VALKEY BUG REPORT END. Make sure to include from START to END. ===\n\n"
           "       Please report the crash, with the report above, to the maintainers of this server.\n");
}

static void *faultingInstruction(void *secret) {
    if (!secret) return NULL;
    ucontext_t *uc = secret;
#if defined(__x86_64__)
    return (void *)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (void *)uc->uc_mcontext.pc;
#else
    (void)uc;
    return NULL;
#endif
}

static void dieBySignal(int sig) {
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_handler = SIG_DFL;
    sigaction(sig, &act, NULL);
    kill(getpid(), sig);
}

static void crashHandler(int sig, siginfo_t *info, void *secret) {
    int first = bugReportStart();
    serverLog(LL_WARNING, "Valkey %s crashed by signal: %d, si_code: %d", VALKEY_VERSION, sig, info->si_code);
    if (sig == SIGSEGV || sig == SIGBUS) serverLog(LL_WARNING, "Accessing address: %p", info->si_addr);
    if (info->si_code == SI_USER && info->si_pid != -1)
        serverLog(LL_WARNING, "Killed by PID: %ld, UID: %d", (long)info->si_pid, (int)info->si_uid);
    if (first && server.crashlog_enabled) {
        void *pc = faultingInstruction(secret);
        if (pc) serverLog(LL_WARNING, "Crashed running the instruction at: %p", pc);
        logStackTrace(pc);
        logServerState();
    }
    bugReportEnd();
    dieBySignal(sig);
}

void setupSigSegvAction(void) {
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_flags = SA_NODEFER | SA_RESETHAND | SA_SIGINFO;
    act.sa_sigaction = crashHandler;
    int signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t j = 0; j < sizeof(signals) / sizeof(signals[0]); j++) sigaction(signals[j], &act, NULL);
}

void removeSigSegvHandlers(void) {
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_handler = SIG_DFL;
    int signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t j = 0; j < sizeof(signals) / sizeof(signals[0]); j++) sigaction(signals[j], &act, NULL);
}

static void abortAfterReport(void) {
    if (server.crashlog_enabled) {
        logStackTrace(NULL);
        logServerState();
    }
    bugReportEnd();
    removeSigSegvHandlers(); /* abort() must not produce a second report */
    abort();
}

void _serverAssert(const char *estr, const char *file, int line) {
    int first = bugReportStart();
    serverLog(LL_WARNING, "=== %sASSERTION FAILED ===", first ? "" : "RECURSIVE ");
    serverLog(LL_WARNING, "==> %s:%d '%s' is not true", file, line, estr);
    if (!first) abort();
    abortAfterReport();
}

void _serverPanic(const char *file, int line, const char *msg, ...) {
    char text[LOG_MAX_LEN];
    va_list ap;
    va_start(ap, msg);
    vsnprintf(text, sizeof(text), msg, ap);
    va_end(ap);
    int first = bugReportStart();
    serverLog(LL_WARNING, "------------------------------------------------");
    serverLog(LL_WARNING, "!!! Software Failure. Press left mouse button to continue");
    serverLog(LL_WARNING, "Guru Meditation: %s #%s:%d", text, file, line);
    if (!first) abort();
    abortAfterReport();
}
