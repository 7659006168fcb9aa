/* t_hash.c -- the hash type: HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HLEN, HSTRLEN,
 * HEXISTS, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD and HSCAN, plus the
 * encoding-independent API of t_hash.h.
 *
 * Encodings. A hash starts as a listpack holding field, value, field, value... Lookups
 * there are linear, which is cheap for the small hashes it is used for. It is converted
 * to a hashtable, never back, when it would get more than hash-max-listpack-entries
 * fields or a field or value longer than hash-max-listpack-value bytes (checked on the
 * command's arguments before writing, and again on each field set, as Valkey does).
 *
 * Hashtable entries. Hashes are where memory per element matters most, so an entry is
 * one allocation and the table slot points straight at it:
 *
 *     [field sds header][field bytes][NUL][h][value sds header][value bytes][NUL]
 *                       ^ the entry pointer
 *
 * The entry pointer is the field itself, a read-only embedded sds, so the table needs no
 * entryGetKey callback and compares fields directly. `h` is one byte holding the size
 * of the value's sds header, which locates the value without parsing anything. Short
 * strings get a 1-byte sds header, so a 10-byte field with a 10-byte value takes
 * 1+10+1+1+1+10+1 = 25 bytes (a 32-byte allocation) plus about 13 bytes of table slot.
 * Replacing a value reallocates the entry in place when the allocator can (HINCRBY on a
 * counter usually costs no allocation) and re-points the slot when it moves.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server.h" /* first: networking.h uses its mstime_t */
#include "commands.h"
#include "config.h"
#include "db.h"
#include "hashtable.h"
#include "listpack.h"
#include "networking.h"
#include "notify.h"
#include "object.h"
#include "sds.h"
#include "t_hash.h"
#include "util.h"
#include "zmalloc.h"

/* Defaults of Valkey 8 (CONFIG GET on a default server). */
#define HASH_MAX_LISTPACK_ENTRIES_DEFAULT 512
#define HASH_MAX_LISTPACK_VALUE_DEFAULT 64

/* HRANDFIELD: listpack picks are made this many at a time (bounds the scratch arrays);
 * for distinct picks from a hashtable, when count * this > size it is cheaper to shuffle
 * all entries than to draw random ones and drop repeats. */
#define HRANDFIELD_SAMPLE_BATCH 1000
#define HRANDFIELD_SHUFFLE_FACTOR 3

/* HSCAN: default COUNT, and the bound on buckets visited per requested element so a very
 * sparse table cannot stall the server. */
#define HSCAN_DEFAULT_COUNT 10
#define HSCAN_MAX_BUCKETS_PER_COUNT 10

/* A value is reallocated only when a fresh block would be at least this much smaller. */
#define ENTRY_SHRINK_SLACK 64

static size_t hash_max_listpack_entries = HASH_MAX_LISTPACK_ENTRIES_DEFAULT;
static size_t hash_max_listpack_value = HASH_MAX_LISTPACK_VALUE_DEFAULT;

size_t hashTypeMaxListpackEntries(void) {
    return hash_max_listpack_entries;
}

size_t hashTypeMaxListpackValue(void) {
    return hash_max_listpack_value;
}

/* ---------------------------------------------------------------------------
 * Hashtable entries
 * ------------------------------------------------------------------------- */

static inline sds entryValue(const void *entry) {
    sds field = (sds)entry;
    const unsigned char *h = (const unsigned char *)field + sdslen(field) + 1;
    return (sds)(h + 1 + h[0]);
}

/* Bytes from the start of the allocation up to and including the field's NUL. */
static inline size_t entryFieldPartSize(sds field) {
    return (size_t)(field - (char *)sdsAllocPtr(field)) + sdslen(field) + 1;
}

static inline size_t entryValuePartSize(size_t vlen) {
    return 1 + sdsReqSize(vlen, sdsReqType(vlen));
}

/* Writes [h][value sds] at p, which has room for entryValuePartSize(vlen) bytes. */
static void entryWriteValue(char *p, const char *v, size_t vlen) {
    char type = sdsReqType(vlen);
    p[0] = (char)sdsHdrSize(type);
    sdswrite(p + 1, sdsReqSize(vlen, type), type, v, vlen);
}

static void *entryCreate(const char *f, size_t flen, const char *v, size_t vlen) {
    char ftype = sdsReqType(flen);
    size_t fsize = sdsReqSize(flen, ftype);
    char *block = zmalloc(fsize + entryValuePartSize(vlen));
    sds field = sdswrite(block, fsize, ftype, f, flen);
    entryWriteValue(block + fsize, v, vlen);
    return field;
}

static void entryFree(void *entry) {
    zfree(sdsAllocPtr(entry));
}

static size_t entryAllocSize(const void *entry) {
    return zmalloc_usable_size(sdsAllocPtr((sds)entry));
}

/* Replaces the value; returns the entry, which may have moved (v must not point into it). */
static void *entrySetValue(void *entry, const char *v, size_t vlen) {
    sds field = entry;
    char *block = sdsAllocPtr(field);
    size_t field_part = entryFieldPartSize(field);
    size_t need = field_part + entryValuePartSize(vlen);
    size_t have = zmalloc_usable_size(block);
    if (need > have || have - need >= ENTRY_SHRINK_SLACK) {
        size_t offset = (size_t)(field - block);
        block = zrealloc(block, need);
        field = block + offset;
    }
    entryWriteValue(block + field_part, v, vlen);
    return field;
}

static void *entryDup(const void *entry) {
    sds field = (sds)entry, value = entryValue(entry);
    return entryCreate(field, sdslen(field), value, sdslen(value));
}

static uint64_t fieldHash(const void *key) {
    return hashtableGenHashFunction((const char *)key, sdslen((sds)key));
}

static int fieldCompare(const void *a, const void *b) {
    size_t len = sdslen((sds)a);
    return len != sdslen((sds)b) || memcmp(a, b, len) != 0;
}

static hashtableType hashHashtableType = {
    .hashFunction = fieldHash,
    .keyCompare = fieldCompare,
    .entryDestructor = entryFree,
};

/* ---------------------------------------------------------------------------
 * Listpack helpers
 * ------------------------------------------------------------------------- */

static unsigned char *lpFindField(unsigned char *lp, const char *f, size_t flen) {
    unsigned char *first = lpFirst(lp);
    if (!first) return NULL;
    return lpFind(lp, first, (unsigned char *)f, (uint32_t)flen, 1);
}

/* Reads the listpack element at p as an item. */
static void lpItem(unsigned char *p, hashTypeItem *item) {
    int64_t len;
    unsigned char *s = lpGet(p, &len, (unsigned char *)item->buf);
    item->str = (const char *)s;
    item->len = (size_t)len;
}

static void itemFromSds(sds s, hashTypeItem *item) {
    item->str = s;
    item->len = sdslen(s);
}

/* ---------------------------------------------------------------------------
 * Type API
 * ------------------------------------------------------------------------- */

robj *createHashObject(void) {
    robj *o = createObject(OBJ_HASH, lpNew(0));
    o->encoding = OBJ_ENCODING_LISTPACK;
    return o;
}

unsigned long hashTypeLength(const robj *o) {
    if (o->encoding == OBJ_ENCODING_LISTPACK) return lpLength(objectGetVal(o)) / 2;
    serverAssert(o->encoding == OBJ_ENCODING_HT);
    return hashtableSize(objectGetVal(o));
}

int hashTypeGetValue(robj *o, sds field, hashTypeItem *value) {
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = objectGetVal(o);
        unsigned char *p = lpFindField(lp, field, sdslen(field));
        if (!p) return 0;
        lpItem(lpNext(lp, p), value);
        return 1;
    }
    void *entry;
    if (!hashtableFind(objectGetVal(o), field, &entry)) return 0;
    itemFromSds(entryValue(entry), value);
    return 1;
}

robj *hashTypeGetValueObject(robj *o, sds field) {
    hashTypeItem v;
    if (!hashTypeGetValue(o, field, &v)) return NULL;
    return createStringObject(v.str, v.len);
}

int hashTypeExists(robj *o, sds field) {
    hashTypeItem v;
    return hashTypeGetValue(o, field, &v);
}

void hashTypeConvert(robj *o, int encoding) {
    serverAssert(o->type == OBJ_HASH);
    if (o->encoding == encoding) return;
    if (o->encoding != OBJ_ENCODING_LISTPACK || encoding != OBJ_ENCODING_HT)
        serverPanic("Unsupported hash conversion %d -> %d", o->encoding, encoding);
    unsigned char *lp = objectGetVal(o);
    hashtable *ht = hashtableCreate(&hashHashtableType);
    hashtableExpand(ht, lpLength(lp) / 2);
    for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p)) {
        hashTypeItem f, v;
        lpItem(p, &f);
        p = lpNext(lp, p);
        serverAssert(p);
        lpItem(p, &v);
        if (!hashtableAdd(ht, entryCreate(f.str, f.len, v.str, v.len)))
            serverPanic("Listpack corruption detected: duplicate hash field");
    }
    lpFree(lp);
    objectSetVal(o, ht);
    o->encoding = OBJ_ENCODING_HT;
}

static int overListpackValueLimit(size_t len) {
    return len > hash_max_listpack_value;
}

/* Before writing argv[start..end] (field/value pairs) into o: converts when the pairs
 * alone would exceed the entry limit (and presizes the table for them), or any argument
 * is longer than the value limit, or the listpack would get unsafely big. */
static void hashTypeTryConversion(robj *o, robj **argv, int start, int end) {
    if (o->encoding != OBJ_ENCODING_LISTPACK) return;
    size_t pairs = (size_t)(end - start + 1) / 2;
    if (pairs > hash_max_listpack_entries) {
        hashTypeConvert(o, OBJ_ENCODING_HT);
        hashtableExpand(objectGetVal(o), pairs);
        return;
    }
    size_t sum = 0;
    for (int i = start; i <= end; i++) {
        if (!sdsEncodedObject(argv[i])) continue;
        size_t len = sdslen(objectGetVal(argv[i]));
        if (overListpackValueLimit(len)) {
            hashTypeConvert(o, OBJ_ENCODING_HT);
            return;
        }
        sum += len;
    }
    if (!lpSafeToAdd(objectGetVal(o), sum)) hashTypeConvert(o, OBJ_ENCODING_HT);
}

static int listpackSet(robj *o, sds f, const char *v, size_t vlen) {
    unsigned char *lp = objectGetVal(o);
    size_t flen = sdslen(f);
    unsigned char *p = lpFindField(lp, f, flen);
    int update = p != NULL;
    if (update) {
        p = lpNext(lp, p);
        lp = lpReplace(lp, &p, (unsigned char *)v, (uint32_t)vlen);
    } else {
        lp = lpAppend(lp, (unsigned char *)f, (uint32_t)flen);
        lp = lpAppend(lp, (unsigned char *)v, (uint32_t)vlen);
    }
    objectSetVal(o, lp);
    return update;
}

static int hashtableSet(robj *o, sds f, const char *v, size_t vlen) {
    hashtable *ht = objectGetVal(o);
    hashtablePosition pos;
    void *existing = NULL;
    if (hashtableFindPositionForInsert(ht, f, &pos, &existing)) {
        hashtableInsertAtPosition(ht, entryCreate(f, sdslen(f), v, vlen), &pos);
        return 0;
    }
    void *updated = entrySetValue(existing, v, vlen);
    if (updated != existing) serverAssert(hashtableReplaceReallocatedEntry(ht, existing, updated));
    return 1;
}

int hashTypeSet(robj *o, sds field, const char *value, size_t vlen) {
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
        if (overListpackValueLimit(sdslen(field)) || overListpackValueLimit(vlen) ||
            !lpSafeToAdd(objectGetVal(o), sdslen(field) + vlen)) {
            hashTypeConvert(o, OBJ_ENCODING_HT);
        } else {
            int update = listpackSet(o, field, value, vlen);
            if (hashTypeLength(o) > hash_max_listpack_entries) hashTypeConvert(o, OBJ_ENCODING_HT);
            return update;
        }
    }
    serverAssert(o->encoding == OBJ_ENCODING_HT);
    return hashtableSet(o, field, value, vlen);
}

int hashTypeDelete(robj *o, sds field) {
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = objectGetVal(o);
        unsigned char *p = lpFindField(lp, field, sdslen(field));
        if (!p) return 0;
        objectSetVal(o, lpDeleteRangeWithEntry(lp, &p, 2));
        return 1;
    }
    return hashtableDelete(objectGetVal(o), field);
}

void hashTypeReserve(robj *o, unsigned long fields) {
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
        if (hashTypeLength(o) + fields <= hash_max_listpack_entries) return;
        hashTypeConvert(o, OBJ_ENCODING_HT);
    }
    hashtable *ht = objectGetVal(o);
    hashtableExpand(ht, hashtableSize(ht) + fields);
}

void hashTypeConvertIfOverLimits(robj *o) {
    if (o->encoding != OBJ_ENCODING_LISTPACK) return;
    int over = hashTypeLength(o) > hash_max_listpack_entries;
    unsigned char *lp = objectGetVal(o);
    for (unsigned char *p = lpFirst(lp); p && !over; p = lpNext(lp, p)) {
        unsigned int slen;
        long long lval;
        if (lpGetValue(p, &slen, &lval)) over = overListpackValueLimit(slen);
    }
    if (over) hashTypeConvert(o, OBJ_ENCODING_HT);
}

robj *createHashObjectFromListpack(unsigned char *lp) {
    robj *o = createObject(OBJ_HASH, lp);
    o->encoding = OBJ_ENCODING_LISTPACK;
    hashTypeConvertIfOverLimits(o);
    return o;
}

/* ---------------------------------------------------------------------------
 * Iterator
 * ------------------------------------------------------------------------- */

void hashTypeInitIterator(robj *o, hashTypeIterator *hi) {
    hi->subject = o;
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
        hi->next = lpFirst(objectGetVal(o));
    } else {
        serverAssert(o->encoding == OBJ_ENCODING_HT);
        hi->next = NULL;
        hashtableInitIterator(&hi->ht_iter, objectGetVal(o));
    }
}

int hashTypeNext(hashTypeIterator *hi, hashTypeItem *field, hashTypeItem *value) {
    if (hi->subject->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = objectGetVal(hi->subject);
        if (!hi->next) return 0;
        unsigned char *vp = lpNext(lp, hi->next);
        serverAssert(vp);
        lpItem(hi->next, field);
        if (value) lpItem(vp, value);
        hi->next = lpNext(lp, vp);
        return 1;
    }
    void *entry;
    if (!hashtableNext(&hi->ht_iter, &entry)) return 0;
    itemFromSds(entry, field);
    if (value) itemFromSds(entryValue(entry), value);
    return 1;
}

void hashTypeResetIterator(hashTypeIterator *hi) {
    if (hi->subject->encoding == OBJ_ENCODING_HT) hashtableResetIterator(&hi->ht_iter);
}

/* ---------------------------------------------------------------------------
 * Object procs: free, duplicate (COPY), size (MEMORY USAGE), lazy-free effort
 * ------------------------------------------------------------------------- */

static void hashFreeValue(robj *o) {
    if (o->encoding == OBJ_ENCODING_LISTPACK)
        lpFree(objectGetVal(o));
    else if (o->encoding == OBJ_ENCODING_HT)
        hashtableRelease(objectGetVal(o));
    else
        serverPanic("Unknown hash encoding %d", o->encoding);
}

static robj *hashDup(const robj *o) {
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
        robj *copy = createObject(OBJ_HASH, lpDup(objectGetVal(o)));
        copy->encoding = OBJ_ENCODING_LISTPACK;
        return copy;
    }
    hashtable *src = objectGetVal(o);
    hashtable *dst = hashtableCreate(&hashHashtableType);
    hashtableExpand(dst, hashtableSize(src));
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, src);
    while (hashtableNext(&it, &entry)) hashtableAdd(dst, entryDup(entry));
    hashtableResetIterator(&it);
    robj *copy = createObject(OBJ_HASH, dst);
    copy->encoding = OBJ_ENCODING_HT;
    return copy;
}

/* Payload bytes: the whole listpack, or the table plus the entries (averaged over the
 * first `samples` of them and scaled, or all of them when samples is 0). */
static size_t hashSize(const robj *o, size_t samples) {
    if (o->encoding == OBJ_ENCODING_LISTPACK) return zmalloc_usable_size(objectGetVal(o));
    hashtable *ht = objectGetVal(o);
    size_t size = hashtableMemUsage(ht), total = hashtableSize(ht);
    if (total == 0) return size;
    size_t seen = 0, bytes = 0;
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, ht);
    while ((samples == 0 || seen < samples) && hashtableNext(&it, &entry)) {
        bytes += entryAllocSize(entry);
        seen++;
    }
    hashtableResetIterator(&it);
    if (seen) size += (size_t)((double)bytes / (double)seen * (double)total);
    return size;
}

static size_t hashFreeEffort(const robj *o) {
    return o->encoding == OBJ_ENCODING_HT ? hashtableSize(objectGetVal(o)) : 1;
}

/* ---------------------------------------------------------------------------
 * Configuration and registration
 * ------------------------------------------------------------------------- */

static const configDirective hash_configs[] = {
    {.name = "hash-max-listpack-entries",
     .alias = "hash-max-ziplist-entries",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &hash_max_listpack_entries,
     .u.num = {CONFIG_NUM_SIZE_T, CONFIG_FMT_INTEGER, 0, LONG_MAX, HASH_MAX_LISTPACK_ENTRIES_DEFAULT, NULL}},
    {.name = "hash-max-listpack-value",
     .alias = "hash-max-ziplist-value",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &hash_max_listpack_value,
     .u.num = {CONFIG_NUM_SIZE_T, CONFIG_FMT_MEMORY, 0, LONG_MAX, HASH_MAX_LISTPACK_VALUE_DEFAULT, NULL}},
};

void hashTypeRegister(void) {
    configRegisterDirectives(hash_configs, (int)(sizeof(hash_configs) / sizeof(hash_configs[0])));
    objectRegisterFreeProc(OBJ_HASH, hashFreeValue);
    objectRegisterDupProc(OBJ_HASH, hashDup);
    objectRegisterSizeProc(OBJ_HASH, hashSize);
    lazyfreeRegisterEffortProc(OBJ_HASH, hashFreeEffort);
}

/* ---------------------------------------------------------------------------
 * Command helpers
 * ------------------------------------------------------------------------- */

/* Argument i as an sds. Arguments are normally sds already; an integer-encoded one is
 * replaced by its decoded form so the bytes can be used directly. */
static sds argSds(client *c, int i) {
    if (!sdsEncodedObject(c->argv[i])) {
        robj *decoded = getDecodedObject(c->argv[i]);
        decrRefCount(c->argv[i]);
        c->argv[i] = decoded;
    }
    return objectGetVal(c->argv[i]);
}

/* The hash at argv[1] for a write, created empty (and added to the keyspace) when
 * missing. NULL after replying WRONGTYPE. */
static robj *hashTypeLookupWriteOrCreate(client *c) {
    robj *key = c->argv[1];
    robj *o = lookupKeyWrite(c->db, key);
    if (checkType(c, o, OBJ_HASH)) return NULL;
    if (o == NULL) o = dbAdd(c->db, key, createHashObject());
    return o;
}

/* The hash at argv[1] for a read; replies `missing` when absent, WRONGTYPE when not a
 * hash, and returns NULL in both cases. */
static robj *hashLookupReadOrReply(client *c, robj *missing) {
    robj *o = lookupKeyReadOrReply(c, c->argv[1], missing);
    if (o == NULL || checkType(c, o, OBJ_HASH)) return NULL;
    return o;
}

static void addReplyItem(client *c, const hashTypeItem *item) {
    addReplyBulkCBuffer(c, item->str, item->len);
}

static void hashChanged(client *c, const char *event) {
    signalModifiedKey(c, c->db, c->argv[1]);
    notifyKeyspaceEvent(NOTIFY_HASH, event, c->argv[1], c->db->id);
}

/* ---------------------------------------------------------------------------
 * Writes
 * ------------------------------------------------------------------------- */

/* HSET key field value [field value ...] / HMSET (same, replies +OK). */
void hsetCommand(client *c) {
    if (c->argc % 2 == 1) {
        addReplyErrorArity(c);
        return;
    }
    robj *o = hashTypeLookupWriteOrCreate(c);
    if (!o) return;
    hashTypeTryConversion(o, c->argv, 2, c->argc - 1);
    long long created = 0;
    for (int i = 2; i < c->argc; i += 2) {
        sds f = argSds(c, i), v = argSds(c, i + 1);
        created += !hashTypeSet(o, f, v, sdslen(v));
    }
    const char *name = objectGetVal(c->argv[0]);
    if (name[1] == 's' || name[1] == 'S')
        addReplyLongLong(c, created);
    else
        addReply(c, shared.ok);
    hashChanged(c, "hset");
    server.dirty += (c->argc - 2) / 2;
}

void hmsetCommand(client *c) {
    hsetCommand(c);
}

/* HSETNX key field value */
void hsetnxCommand(client *c) {
    robj *o = hashTypeLookupWriteOrCreate(c);
    if (!o) return;
    sds f = argSds(c, 2), v = argSds(c, 3);
    if (hashTypeExists(o, f)) {
        addReply(c, shared.czero);
        return;
    }
    hashTypeTryConversion(o, c->argv, 2, 3);
    hashTypeSet(o, f, v, sdslen(v));
    addReply(c, shared.cone);
    hashChanged(c, "hset");
    server.dirty++;
}

/* HDEL key field [field ...] */
void hdelCommand(client *c) {
    robj *o = lookupKeyWriteOrReply(c, c->argv[1], shared.czero);
    if (o == NULL || checkType(c, o, OBJ_HASH)) return;
    long long deleted = 0;
    int key_removed = 0;
    for (int i = 2; i < c->argc; i++) {
        sds f = argSds(c, i);
        if (!hashTypeDelete(o, f)) continue;
        deleted++;
        if (hashTypeLength(o) == 0) {
            dbDelete(c->db, c->argv[1]);
            key_removed = 1;
            break;
        }
    }
    if (deleted) {
        hashChanged(c, "hdel");
        if (key_removed) notifyKeyspaceEvent(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
        server.dirty += deleted;
    }
    addReplyLongLong(c, deleted);
}

/* HINCRBY key field increment */
void hincrbyCommand(client *c) {
    long long incr, value = 0;
    if (getLongLongFromObjectOrReply(c, c->argv[3], &incr, NULL) != C_OK) return;
    robj *o = hashTypeLookupWriteOrCreate(c);
    if (!o) return;
    sds f = argSds(c, 2);
    hashTypeItem cur;
    if (hashTypeGetValue(o, f, &cur) && !string2ll(cur.str, cur.len, &value)) {
        addReplyError(c, "hash value is not an integer");
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        addReplyError(c, "increment or decrement would overflow");
        return;
    }
    value += incr;
    char buf[LONG_STR_SIZE];
    int len = ll2string(buf, sizeof(buf), value);
    hashTypeSet(o, f, buf, (size_t)len);
    addReplyLongLong(c, value);
    hashChanged(c, "hincrby");
    server.dirty++;
}

/* HINCRBYFLOAT key field increment. Propagated as HSET key field <result>, so replicas
 * and the AOF never redo the float arithmetic. */
void hincrbyfloatCommand(client *c) {
    static robj *hset_name = NULL;
    long double incr, value = 0;
    if (getLongDoubleFromObjectOrReply(c, c->argv[3], &incr, NULL) != C_OK) return;
    if (isnan(incr) || isinf(incr)) {
        addReplyError(c, "value is NaN or Infinity");
        return;
    }
    robj *o = hashTypeLookupWriteOrCreate(c);
    if (!o) return;
    sds f = argSds(c, 2);
    hashTypeItem cur;
    if (hashTypeGetValue(o, f, &cur) && !string2ld(cur.str, cur.len, &value)) {
        addReplyError(c, "hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        addReplyError(c, "increment would produce NaN or Infinity");
        return;
    }
    char buf[MAX_LONG_DOUBLE_CHARS];
    int len = ld2string(buf, sizeof(buf), value, LD_STR_HUMAN);
    hashTypeSet(o, f, buf, (size_t)len);
    addReplyBulkCBuffer(c, buf, (size_t)len);
    hashChanged(c, "hincrbyfloat");
    server.dirty++;

    if (!hset_name) hset_name = makeObjectShared(createStringObject("HSET", 4));
    robj *result = createRawStringObject(buf, (size_t)len);
    rewriteClientCommandArgument(c, 0, hset_name);
    rewriteClientCommandArgument(c, 3, result);
    decrRefCount(result);
}

/* ---------------------------------------------------------------------------
 * Reads
 * ------------------------------------------------------------------------- */

static void addHashFieldValueOrNull(client *c, robj *o, sds f) {
    hashTypeItem v;
    if (o && hashTypeGetValue(o, f, &v))
        addReplyItem(c, &v);
    else
        addReplyNull(c);
}

/* HGET key field */
void hgetCommand(client *c) {
    robj *o = hashLookupReadOrReply(c, shared.null[c->resp]);
    if (!o) return;
    addHashFieldValueOrNull(c, o, argSds(c, 2));
}

/* HMGET key field [field ...]: a missing key reads as an empty hash. */
void hmgetCommand(client *c) {
    robj *o = lookupKeyRead(c->db, c->argv[1]);
    if (checkType(c, o, OBJ_HASH)) return;
    addReplyArrayLen(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) addHashFieldValueOrNull(c, o, argSds(c, i));
}

/* HLEN key */
void hlenCommand(client *c) {
    robj *o = hashLookupReadOrReply(c, shared.czero);
    if (!o) return;
    addReplyLongLong(c, (long long)hashTypeLength(o));
}

/* HSTRLEN key field */
void hstrlenCommand(client *c) {
    robj *o = hashLookupReadOrReply(c, shared.czero);
    if (!o) return;
    sds f = argSds(c, 2);
    hashTypeItem v;
    addReplyLongLong(c, hashTypeGetValue(o, f, &v) ? (long long)v.len : 0);
}

/* HEXISTS key field */
void hexistsCommand(client *c) {
    robj *o = hashLookupReadOrReply(c, shared.czero);
    if (!o) return;
    sds f = argSds(c, 2);
    addReply(c, hashTypeExists(o, f) ? shared.cone : shared.czero);
}

#define HASH_REPLY_FIELDS (1 << 0)
#define HASH_REPLY_VALUES (1 << 1)

/* HKEYS, HVALS and HGETALL (a map in RESP3). */
static void hashGetAll(client *c, int what) {
    int both = what == (HASH_REPLY_FIELDS | HASH_REPLY_VALUES);
    robj *o = hashLookupReadOrReply(c, both ? shared.emptymap[c->resp] : shared.emptyarray);
    if (!o) return;
    long len = (long)hashTypeLength(o);
    if (both)
        addReplyMapLen(c, len);
    else
        addReplyArrayLen(c, len);
    hashTypeIterator hi;
    hashTypeItem f, v;
    hashTypeInitIterator(o, &hi);
    while (hashTypeNext(&hi, &f, (what & HASH_REPLY_VALUES) ? &v : NULL)) {
        if (what & HASH_REPLY_FIELDS) addReplyItem(c, &f);
        if (what & HASH_REPLY_VALUES) addReplyItem(c, &v);
    }
    hashTypeResetIterator(&hi);
}

void hkeysCommand(client *c) {
    hashGetAll(c, HASH_REPLY_FIELDS);
}

void hvalsCommand(client *c) {
    hashGetAll(c, HASH_REPLY_VALUES);
}

void hgetallCommand(client *c) {
    hashGetAll(c, HASH_REPLY_FIELDS | HASH_REPLY_VALUES);
}

/* ---------------------------------------------------------------------------
 * HRANDFIELD
 * ------------------------------------------------------------------------- */

static uint64_t random64(void) {
    return ((uint64_t)random() << 62) ^ ((uint64_t)random() << 31) ^ (uint64_t)random();
}

static void addReplyListpackEntry(client *c, const listpackEntry *e) {
    if (e->sval)
        addReplyBulkCBuffer(c, e->sval, e->slen);
    else
        addReplyBulkLongLong(c, e->lval);
}

/* One pair (or field) of a HRANDFIELD reply: RESP3 nests each pair in its own array. */
static void addRandomPairFromListpack(client *c, const listpackEntry *f, const listpackEntry *v) {
    if (v && c->resp > 2) addReplyArrayLen(c, 2);
    addReplyListpackEntry(c, f);
    if (v) addReplyListpackEntry(c, v);
}

static void addRandomPairFromEntry(client *c, void *entry, int withvalues) {
    sds f = entry;
    if (withvalues && c->resp > 2) addReplyArrayLen(c, 2);
    addReplyBulkCBuffer(c, f, sdslen(f));
    if (withvalues) {
        sds v = entryValue(entry);
        addReplyBulkCBuffer(c, v, sdslen(v));
    }
}

static void addRandomReplyLen(client *c, unsigned long count, int withvalues) {
    addReplyArrayLen(c, (long)((withvalues && c->resp == 2) ? count * 2 : count));
}

/* count picks that may repeat, in random order. */
static void hrandfieldWithRepeats(client *c, robj *o, unsigned long count, int withvalues) {
    addRandomReplyLen(c, count, withvalues);
    if (o->encoding == OBJ_ENCODING_HT) {
        hashtable *ht = objectGetVal(o);
        while (count--) {
            void *entry;
            hashtableFairRandomEntry(ht, &entry);
            addRandomPairFromEntry(c, entry, withvalues);
            if (c->flags & CLIENT_CLOSE_ASAP) break;
        }
        return;
    }
    unsigned long batch = count < HRANDFIELD_SAMPLE_BATCH ? count : HRANDFIELD_SAMPLE_BATCH;
    listpackEntry *fields = zmalloc(sizeof(listpackEntry) * batch);
    listpackEntry *values = withvalues ? zmalloc(sizeof(listpackEntry) * batch) : NULL;
    while (count) {
        unsigned long n = count < batch ? count : batch;
        count -= n;
        lpRandomPairs(objectGetVal(o), (unsigned int)n, fields, values);
        for (unsigned long i = 0; i < n; i++) addRandomPairFromListpack(c, &fields[i], values ? &values[i] : NULL);
        if (c->flags & CLIENT_CLOSE_ASAP) break;
    }
    zfree(fields);
    zfree(values);
}

static uint64_t pointerHash(const void *key) {
    return hashtableGenHashFunction((const char *)&key, sizeof(key));
}

static hashtableType pointerSetType = {.hashFunction = pointerHash};

/* count distinct entries of a hashtable hash (count < size). */
static void hrandfieldDistinctFromHashtable(client *c, hashtable *ht, unsigned long count, int withvalues) {
    unsigned long size = hashtableSize(ht);
    if (count * HRANDFIELD_SHUFFLE_FACTOR > size) {
        /* Most of the hash is wanted: shuffle the first count slots of all entries. */
        void **all = zmalloc(sizeof(void *) * size);
        unsigned long n = 0;
        hashtableIterator it;
        hashtableInitIterator(&it, ht);
        while (n < size && hashtableNext(&it, &all[n])) n++;
        hashtableResetIterator(&it);
        for (unsigned long i = 0; i < count; i++) {
            unsigned long j = i + (unsigned long)(random64() % (n - i));
            void *tmp = all[i];
            all[i] = all[j];
            all[j] = tmp;
            addRandomPairFromEntry(c, all[i], withvalues);
        }
        zfree(all);
        return;
    }
    /* A small part is wanted: draw until count distinct entries came up. */
    hashtable *picked = hashtableCreate(&pointerSetType);
    hashtableExpand(picked, count);
    unsigned long added = 0;
    while (added < count) {
        void *entry;
        hashtableFairRandomEntry(ht, &entry);
        if (!hashtableAdd(picked, entry)) continue;
        addRandomPairFromEntry(c, entry, withvalues);
        added++;
    }
    hashtableRelease(picked);
}

static void hrandfieldWithCount(client *c, long l, int withvalues) {
    robj *o = hashLookupReadOrReply(c, shared.emptyarray);
    if (!o) return;
    unsigned long size = hashTypeLength(o);
    int distinct = l >= 0;
    unsigned long count = distinct ? (unsigned long)l : (unsigned long)-l;
    if (count == 0) {
        addReply(c, shared.emptyarray);
        return;
    }
    if (!distinct || count == 1) {
        hrandfieldWithRepeats(c, o, count, withvalues);
        return;
    }
    unsigned long n = count < size ? count : size;
    addRandomReplyLen(c, n, withvalues);
    if (count >= size) { /* the whole hash */
        hashTypeIterator hi;
        hashTypeItem f, v;
        hashTypeInitIterator(o, &hi);
        while (hashTypeNext(&hi, &f, withvalues ? &v : NULL)) {
            if (withvalues && c->resp > 2) addReplyArrayLen(c, 2);
            addReplyItem(c, &f);
            if (withvalues) addReplyItem(c, &v);
        }
        hashTypeResetIterator(&hi);
        return;
    }
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
        listpackEntry *fields = zmalloc(sizeof(listpackEntry) * count);
        listpackEntry *values = withvalues ? zmalloc(sizeof(listpackEntry) * count) : NULL;
        unsigned int got = lpRandomPairsUnique(objectGetVal(o), (unsigned int)count, fields, values);
        serverAssert(got == count);
        for (unsigned long i = 0; i < count; i++) addRandomPairFromListpack(c, &fields[i], values ? &values[i] : NULL);
        zfree(fields);
        zfree(values);
        return;
    }
    hrandfieldDistinctFromHashtable(c, objectGetVal(o), count, withvalues);
}

/* HRANDFIELD key [count [WITHVALUES]] */
void hrandfieldCommand(client *c) {
    if (c->argc >= 3) {
        long l;
        if (getRangeLongFromObjectOrReply(c, c->argv[2], -LONG_MAX, LONG_MAX, &l, NULL) != C_OK) return;
        int withvalues = c->argc == 4 && !strcasecmp(argSds(c, 3), "withvalues");
        if (c->argc > 4 || (c->argc == 4 && !withvalues)) {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
        /* Pairs double the reply length: keep it within a long. */
        if (withvalues && (l < -LONG_MAX / 2 || l > LONG_MAX / 2)) {
            addReplyError(c, "value is out of range");
            return;
        }
        hrandfieldWithCount(c, l, withvalues);
        return;
    }
    robj *o = hashLookupReadOrReply(c, shared.null[c->resp]);
    if (!o) return;
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
        listpackEntry f;
        lpRandomPair(objectGetVal(o), hashTypeLength(o), &f, NULL);
        addReplyListpackEntry(c, &f);
    } else {
        void *entry;
        hashtableFairRandomEntry(objectGetVal(o), &entry);
        addReplyBulkCBuffer(c, entry, sdslen((sds)entry));
    }
}

/* ---------------------------------------------------------------------------
 * HSCAN
 * ------------------------------------------------------------------------- */

typedef struct {
    void **entries; /* matching entries; they stay in place until the reply is built */
    size_t count, cap;
    unsigned long sampled;
    const char *pattern; /* NULL: everything matches */
    int patlen;
} hscanData;

static int hscanMatches(const hscanData *d, const char *s, size_t len) {
    return !d->pattern || stringmatchlen(d->pattern, d->patlen, s, (int)len, 0);
}

static void hscanCollect(void *privdata, void *entry) {
    hscanData *d = privdata;
    d->sampled++;
    if (!hscanMatches(d, entry, sdslen((sds)entry))) return;
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->entries = zrealloc(d->entries, d->cap * sizeof(void *));
    }
    d->entries[d->count++] = entry;
}

static void addReplyScanCursor(client *c, unsigned long long cursor) {
    char buf[LONG_STR_SIZE];
    int len = ull2string(buf, sizeof(buf), cursor);
    addReplyArrayLen(c, 2);
    addReplyBulkCBuffer(c, buf, (size_t)len);
}

/* A listpack hash is returned whole, whatever the cursor, with cursor 0. */
static void hscanListpack(client *c, robj *o, hscanData *d, int novalues) {
    unsigned char *lp = objectGetVal(o);
    addReplyScanCursor(c, 0);
    void *len_node = addReplyDeferredLen(c);
    long n = 0;
    for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p)) {
        hashTypeItem f;
        lpItem(p, &f);
        p = lpNext(lp, p);
        if (!hscanMatches(d, f.str, f.len)) continue;
        addReplyItem(c, &f);
        n++;
        if (!novalues) {
            hashTypeItem v;
            lpItem(p, &v);
            addReplyItem(c, &v);
            n++;
        }
    }
    setDeferredArrayLen(c, len_node, n);
}

static void hscanHashtable(client *c, robj *o, unsigned long long cursor, long count, hscanData *d,
                           int novalues) {
    hashtable *ht = objectGetVal(o);
    long max_buckets = count > LONG_MAX / HSCAN_MAX_BUCKETS_PER_COUNT ? LONG_MAX : count * HSCAN_MAX_BUCKETS_PER_COUNT;
    do {
        cursor = hashtableScan(ht, (size_t)cursor, hscanCollect, d);
    } while (cursor && --max_buckets > 0 && d->sampled < (unsigned long)count);
    addReplyScanCursor(c, cursor);
    addReplyArrayLen(c, (long)(novalues ? d->count : d->count * 2));
    for (size_t i = 0; i < d->count; i++) {
        sds f = d->entries[i];
        addReplyBulkCBuffer(c, f, sdslen(f));
        if (!novalues) {
            sds v = entryValue(f);
            addReplyBulkCBuffer(c, v, sdslen(v));
        }
    }
}

/* HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES] */
void hscanCommand(client *c) {
    unsigned long long cursor;
    if (parseScanCursorOrReply(c, c->argv[2], &cursor) != C_OK) return;
    robj *o = lookupKeyRead(c->db, c->argv[1]);
    if (checkType(c, o, OBJ_HASH)) return;
    if (!o) {
        addReplyScanCursor(c, 0);
        addReplyArrayLen(c, 0);
        return;
    }
    long count = HSCAN_DEFAULT_COUNT;
    int novalues = 0;
    hscanData d = {0};
    for (int i = 3; i < c->argc;) {
        const char *opt = argSds(c, i);
        int has_value = i + 1 < c->argc;
        if (!strcasecmp(opt, "count") && has_value) {
            if (getLongFromObjectOrReply(c, c->argv[i + 1], &count, NULL) != C_OK) return;
            if (count < 1) {
                addReplyErrorObject(c, shared.syntaxerr);
                return;
            }
            i += 2;
        } else if (!strcasecmp(opt, "match") && has_value) {
            sds pat = argSds(c, i + 1);
            int all = sdslen(pat) == 1 && pat[0] == '*';
            d.pattern = all ? NULL : pat;
            d.patlen = (int)sdslen(pat);
            i += 2;
        } else if (!strcasecmp(opt, "novalues")) {
            novalues = 1;
            i++;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    if (o->encoding == OBJ_ENCODING_LISTPACK)
        hscanListpack(c, o, &d, novalues);
    else
        hscanHashtable(c, o, cursor, count, &d, novalues);
    zfree(d.entries);
}
