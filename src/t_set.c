/* t_set.c -- the set type: encodings and conversions, and the set commands SADD SREM
 * SCARD SISMEMBER SMISMEMBER SMEMBERS SRANDMEMBER SPOP SMOVE SINTER SINTERCARD
 * SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN.
 *
 * Encodings (see t_set.h): a set starts as an intset when its first member is an integer,
 * else as a listpack, and goes to a hashtable when it outgrows them. An intset that
 * receives a non-integer becomes a listpack when the result fits the listpack limits,
 * a hashtable otherwise. Encodings only grow, except for sets built from scratch by a
 * command (the *STORE commands, SPOP keeping few members), which start small again.
 *
 * Hashtable sets keep one sds per member and nothing else: the table slot points at the
 * sds, which is its own key. Lookups of bytes that are not an sds (a listpack string, a
 * printed integer) build a temporary sds on the stack (setProbe), so membership tests
 * allocate nothing.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server.h" /* first: networking.h uses its mstime_t */
#include "commands.h"
#include "config.h"
#include "db.h"
#include "hashtable.h"
#include "intset.h"
#include "listpack.h"
#include "networking.h"
#include "notify.h"
#include "object.h"
#include "sds.h"
#include "t_set.h"
#include "util.h"
#include "zmalloc.h"

/* An intset never grows past this many members whatever the config says: its header
 * and offsets are 32-bit. */
#define INTSET_ENTRIES_HARD_LIMIT (1UL << 30)
/* SPOP with a count: when fewer than count/5 members would remain, the remaining ones are
 * picked (and the set rebuilt) instead of the popped ones. */
#define SPOP_MOVE_STRATEGY_MUL 5
/* SRANDMEMBER with a positive count: above size/3 members, pick from a full copy. */
#define SRANDMEMBER_SUB_STRATEGY_MUL 3
/* SRANDMEMBER with a negative count on a listpack samples this many at a time. */
#define SRANDMEMBER_RANDOM_SAMPLE_LIMIT 1000
/* SPOP with a count propagates SREM commands of at most this many members. */
#define SPOP_PROPAGATION_BATCH 1024
/* SSCAN visits at most COUNT times this many buckets per call. */
#define SSCAN_MAX_BUCKETS_PER_COUNT 10
/* Bytes of stack used for temporary sds lookup keys before falling back to the heap. */
#define SET_PROBE_STACK_BYTES 128

setConfig set_config = {512, 128, 64};

/* ---------------------------------------------------------------------------
 * Hashtable type
 * ------------------------------------------------------------------------- */

static uint64_t setSdsHash(const void *key) {
    return hashtableGenHashFunction(key, sdslen((sds)key));
}

static int setSdsCompare(const void *a, const void *b) {
    size_t len = sdslen((sds)a);
    return len != sdslen((sds)b) || memcmp(a, b, len) != 0;
}

hashtableType setHashtableType = {
    .hashFunction = setSdsHash,
    .keyCompare = setSdsCompare,
    .entryDestructor = sdsfreeVoid,
};

/* Borrowed references to members of a set (no destructor), e.g. to deduplicate picks. */
static hashtableType memberRefSetType = {
    .hashFunction = setSdsHash,
    .keyCompare = setSdsCompare,
};

/* A temporary sds holding some bytes, for hashtable lookups: on the stack when small. */
typedef struct {
    char buf[SET_PROBE_STACK_BYTES];
    sds heap;
} setProbe;

static sds probeMake(setProbe *pr, const char *str, size_t len) {
    char type = sdsReqType(len);
    if (sdsReqSize(len, type) <= sizeof(pr->buf)) {
        pr->heap = NULL;
        return sdswrite(pr->buf, sizeof(pr->buf), type, str, len);
    }
    pr->heap = sdsnewlen(str, len);
    return pr->heap;
}

static void probeDone(setProbe *pr) {
    if (pr->heap) sdsfree(pr->heap);
}

/* A uniformly random integer in [0, n). */
static unsigned long randomBelow(unsigned long n) {
    uint64_t r = ((uint64_t)random() << 31) ^ (uint64_t)random();
    r = (r << 31) ^ (uint64_t)random();
    return (unsigned long)(r % n);
}

/* The member as bytes: integers (str == NULL) are printed into numbuf. */
static const char *memberBytes(const char *str, size_t *len, int64_t llval, char *numbuf) {
    if (str) return str;
    *len = (size_t)ll2string(numbuf, LONG_STR_SIZE, llval);
    return numbuf;
}

static int htHasMember(hashtable *ht, const char *str, size_t len, int str_is_sds) {
    void *found;
    if (str_is_sds) return hashtableFind(ht, str, &found);
    setProbe pr;
    int ret = hashtableFind(ht, probeMake(&pr, str, len), &found);
    probeDone(&pr);
    return ret;
}

static int htAddMember(hashtable *ht, const char *str, size_t len, int str_is_sds) {
    hashtablePosition pos;
    int absent;
    if (str_is_sds) {
        absent = hashtableFindPositionForInsert(ht, str, &pos, NULL);
    } else {
        setProbe pr;
        absent = hashtableFindPositionForInsert(ht, probeMake(&pr, str, len), &pos, NULL);
        probeDone(&pr);
    }
    if (!absent) return 0;
    hashtableInsertAtPosition(ht, sdsnewlen(str, len), &pos);
    return 1;
}

static int htRemoveMember(hashtable *ht, const char *str, size_t len, int str_is_sds) {
    if (str_is_sds) return hashtableDelete(ht, str);
    setProbe pr;
    int ret = hashtableDelete(ht, probeMake(&pr, str, len));
    probeDone(&pr);
    return ret;
}

/* ---------------------------------------------------------------------------
 * Creation, size, conversions
 * ------------------------------------------------------------------------- */

static robj *createSetWithEncoding(void *payload, int encoding) {
    robj *o = createObject(OBJ_SET, payload);
    o->encoding = encoding;
    return o;
}

robj *createSetObject(void) {
    return createSetWithEncoding(hashtableCreate(&setHashtableType), OBJ_ENCODING_HT);
}

robj *createIntsetObject(void) {
    return createSetWithEncoding(intsetNew(), OBJ_ENCODING_INTSET);
}

robj *createSetListpackObject(void) {
    return createSetWithEncoding(lpNew(0), OBJ_ENCODING_LISTPACK);
}

robj *setTypeCreateFromIntset(void *is) {
    return createSetWithEncoding(is, OBJ_ENCODING_INTSET);
}

robj *setTypeCreateFromListpack(unsigned char *lp) {
    return createSetWithEncoding(lp, OBJ_ENCODING_LISTPACK);
}

static size_t intsetMaxEntries(void) {
    size_t max = set_config.max_intset_entries;
    return max > INTSET_ENTRIES_HARD_LIMIT ? INTSET_ENTRIES_HARD_LIMIT : max;
}

static robj *setTypeCreateWith(int is_integer, size_t size_hint) {
    if (is_integer && size_hint <= set_config.max_intset_entries) return createIntsetObject();
    if (size_hint <= set_config.max_listpack_entries) return createSetListpackObject();
    robj *o = createSetObject();
    hashtableExpand(objectGetVal(o), size_hint);
    return o;
}

robj *setTypeCreate(const char *value, size_t len, size_t size_hint) {
    long long ll;
    return setTypeCreateWith(string2ll(value, len, &ll), size_hint);
}

/* The set SADD/SMOVE create for a member given as an argument object. */
static robj *setTypeCreateForArg(robj *member, size_t size_hint) {
    if (member->encoding == OBJ_ENCODING_INT) return setTypeCreateWith(1, size_hint);
    sds s = objectGetVal(member);
    return setTypeCreate(s, sdslen(s), size_hint);
}

unsigned long setTypeSize(const robj *set) {
    switch (set->encoding) {
    case OBJ_ENCODING_HT: return hashtableSize(objectGetVal(set));
    case OBJ_ENCODING_INTSET: return intsetLen(objectGetVal(set));
    case OBJ_ENCODING_LISTPACK: return lpLength(objectGetVal(set));
    default: serverPanic("Unknown set encoding");
    }
}

/* Frees the payload of a set object (not the object). */
static void setFreePayload(robj *set) {
    void *p = objectGetVal(set);
    switch (set->encoding) {
    case OBJ_ENCODING_HT: hashtableRelease(p); break;
    case OBJ_ENCODING_INTSET: zfree(p); break;
    case OBJ_ENCODING_LISTPACK: lpFree(p); break;
    default: serverPanic("Unknown set encoding");
    }
}

static void setReplacePayload(robj *set, void *payload, int encoding) {
    setFreePayload(set);
    objectSetVal(set, payload);
    set->encoding = encoding;
}

void setTypeConvertAndExpand(robj *set, int encoding, size_t capacity) {
    serverAssert(set->type == OBJ_SET && set->encoding != encoding);
    setTypeIterator si;
    char *str;
    size_t len;
    int64_t llval;
    if (encoding == OBJ_ENCODING_HT) {
        hashtable *ht = hashtableCreate(&setHashtableType);
        if (capacity > setTypeSize(set)) hashtableExpand(ht, capacity);
        else hashtableExpand(ht, setTypeSize(set));
        setTypeInitIterator(&si, set);
        while (setTypeNext(&si, &str, &len, &llval) != -1) {
            sds member = str ? sdsnewlen(str, len) : sdsfromlonglong(llval);
            int added = hashtableAdd(ht, member);
            serverAssert(added);
        }
        setTypeResetIterator(&si);
        setReplacePayload(set, ht, OBJ_ENCODING_HT);
    } else if (encoding == OBJ_ENCODING_LISTPACK) {
        /* Only intsets become listpacks: integers are appended as integers. */
        serverAssert(set->encoding == OBJ_ENCODING_INTSET);
        intset *is = objectGetVal(set);
        uint32_t n = intsetLen(is);
        size_t estimate = n ? lpEstimateBytesRepeatedInteger(intsetMax(is), n) : 0;
        unsigned char *lp = lpNew(estimate);
        for (uint32_t i = 0; i < n; i++) {
            intsetGet(is, i, &llval);
            lp = lpAppendInteger(lp, llval);
        }
        setReplacePayload(set, lp, OBJ_ENCODING_LISTPACK);
    } else {
        serverPanic("Unsupported set conversion");
    }
}

void setTypeConvert(robj *set, int encoding) {
    setTypeConvertAndExpand(set, encoding, 0);
}

void setTypeMaybeConvert(robj *set, size_t size_hint) {
    if ((set->encoding == OBJ_ENCODING_LISTPACK && size_hint > set_config.max_listpack_entries) ||
        (set->encoding == OBJ_ENCODING_INTSET && size_hint > set_config.max_intset_entries)) {
        setTypeConvertAndExpand(set, OBJ_ENCODING_HT, size_hint);
    }
}

void setTypeMaybeConvertToIntset(robj *set) {
    if (set->encoding == OBJ_ENCODING_INTSET) return;
    if (setTypeSize(set) > intsetMaxEntries()) return;
    intset *is = intsetNew();
    setTypeIterator si;
    char *str;
    size_t len;
    int64_t llval;
    setTypeInitIterator(&si, set);
    while (setTypeNext(&si, &str, &len, &llval) != -1) {
        long long v = llval;
        if (str && !string2ll(str, len, &v)) {
            setTypeResetIterator(&si);
            zfree(is);
            return;
        }
        is = intsetAdd(is, v, NULL);
    }
    setTypeResetIterator(&si);
    setReplacePayload(set, is, OBJ_ENCODING_INTSET);
}

/* ---------------------------------------------------------------------------
 * Members
 * ------------------------------------------------------------------------- */

/* An intset receives a non-integer: it becomes a listpack when every member would fit
 * one (the printed length of the extreme integers bounds the others), else a hashtable. */
static void intsetConvertForString(robj *set, size_t len) {
    intset *is = objectGetVal(set);
    uint32_t n = intsetLen(is);
    size_t maxelelen = 0, totsize = 0;
    if (n) {
        int64_t min = intsetMin(is), max = intsetMax(is);
        size_t l1 = sdigits10(max), l2 = sdigits10(min);
        maxelelen = l1 > l2 ? l1 : l2;
        size_t s1 = lpEstimateBytesRepeatedInteger(max, n);
        size_t s2 = lpEstimateBytesRepeatedInteger(min, n);
        totsize = s1 > s2 ? s1 : s2;
    }
    if (n < set_config.max_listpack_entries && len <= set_config.max_listpack_value &&
        maxelelen <= set_config.max_listpack_value && lpSafeToAdd(NULL, totsize + len)) {
        setTypeConvertAndExpand(set, OBJ_ENCODING_LISTPACK, n + 1);
    } else {
        setTypeConvertAndExpand(set, OBJ_ENCODING_HT, n + 1);
    }
}

int setTypeAddAux(robj *set, const char *str, size_t len, int64_t llval, int str_is_sds) {
    char numbuf[LONG_STR_SIZE];
    int from_integer = str == NULL;

    if (set->encoding == OBJ_ENCODING_INTSET) {
        long long v = llval;
        if (from_integer || string2ll(str, len, &v)) {
            uint8_t added = 0;
            objectSetVal(set, intsetAdd(objectGetVal(set), v, &added));
            if (added && intsetLen(objectGetVal(set)) > intsetMaxEntries())
                setTypeConvert(set, OBJ_ENCODING_HT);
            return added;
        }
        /* A string into an intset: it cannot be present already. */
        intsetConvertForString(set, len);
        if (set->encoding == OBJ_ENCODING_LISTPACK) {
            unsigned char *lp = lpAppend(objectGetVal(set), (unsigned char *)str, (uint32_t)len);
            objectSetVal(set, lpShrinkToFit(lp));
        } else {
            hashtableAdd(objectGetVal(set), sdsnewlen(str, len));
        }
        return 1;
    }

    str = memberBytes(str, &len, llval, numbuf);
    if (from_integer) str_is_sds = 0;

    if (set->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = objectGetVal(set);
        unsigned char *first = lpFirst(lp);
        if (first && lpFind(lp, first, (unsigned char *)str, (uint32_t)len, 0)) return 0;
        if (lpLength(lp) < set_config.max_listpack_entries && len <= set_config.max_listpack_value &&
            lpSafeToAdd(lp, len)) {
            lp = from_integer ? lpAppendInteger(lp, llval) : lpAppend(lp, (unsigned char *)str, (uint32_t)len);
            objectSetVal(set, lp);
            return 1;
        }
        setTypeConvertAndExpand(set, OBJ_ENCODING_HT, lpLength(lp) + 1);
        hashtableAdd(objectGetVal(set), sdsnewlen(str, len));
        return 1;
    }

    serverAssert(set->encoding == OBJ_ENCODING_HT);
    return htAddMember(objectGetVal(set), str, len, str_is_sds);
}

int setTypeAdd(robj *set, const char *str, size_t len) {
    return setTypeAddAux(set, str, len, 0, 0);
}

int setTypeAddSds(robj *set, sds member) {
    if (set->encoding == OBJ_ENCODING_HT) {
        if (hashtableAdd(objectGetVal(set), member)) return 1;
        sdsfree(member);
        return 0;
    }
    int added = setTypeAddAux(set, member, sdslen(member), 0, 1);
    sdsfree(member);
    return added;
}

/* Adds a client argument (an sds string object, or INT encoded). */
static int setTypeAddArg(robj *set, robj *arg) {
    if (arg->encoding == OBJ_ENCODING_INT) return setTypeAddAux(set, NULL, 0, (long)objectGetVal(arg), 0);
    sds s = objectGetVal(arg);
    return setTypeAddAux(set, s, sdslen(s), 0, 1);
}

int setTypeRemoveAux(robj *set, const char *str, size_t len, int64_t llval, int str_is_sds) {
    char numbuf[LONG_STR_SIZE];
    if (set->encoding == OBJ_ENCODING_INTSET) {
        long long v = llval;
        if (str && !string2ll(str, len, &v)) return 0;
        int removed = 0;
        objectSetVal(set, intsetRemove(objectGetVal(set), v, &removed));
        return removed;
    }
    if (!str) str_is_sds = 0;
    str = memberBytes(str, &len, llval, numbuf);
    if (set->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = objectGetVal(set);
        unsigned char *p = lpFirst(lp);
        if (p) p = lpFind(lp, p, (unsigned char *)str, (uint32_t)len, 0);
        if (!p) return 0;
        objectSetVal(set, lpDelete(lp, p, NULL));
        return 1;
    }
    serverAssert(set->encoding == OBJ_ENCODING_HT);
    return htRemoveMember(objectGetVal(set), str, len, str_is_sds);
}

int setTypeRemove(robj *set, const char *str, size_t len) {
    return setTypeRemoveAux(set, str, len, 0, 0);
}

static int setTypeRemoveArg(robj *set, robj *arg) {
    if (arg->encoding == OBJ_ENCODING_INT) return setTypeRemoveAux(set, NULL, 0, (long)objectGetVal(arg), 0);
    sds s = objectGetVal(arg);
    return setTypeRemoveAux(set, s, sdslen(s), 0, 1);
}

int setTypeIsMemberAux(robj *set, const char *str, size_t len, int64_t llval, int str_is_sds) {
    char numbuf[LONG_STR_SIZE];
    if (set->encoding == OBJ_ENCODING_INTSET) {
        long long v = llval;
        if (str && !string2ll(str, len, &v)) return 0;
        return intsetFind(objectGetVal(set), v);
    }
    if (!str) str_is_sds = 0;
    str = memberBytes(str, &len, llval, numbuf);
    if (set->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = objectGetVal(set);
        unsigned char *p = lpFirst(lp);
        return p && lpFind(lp, p, (unsigned char *)str, (uint32_t)len, 0) != NULL;
    }
    serverAssert(set->encoding == OBJ_ENCODING_HT);
    return htHasMember(objectGetVal(set), str, len, str_is_sds);
}

int setTypeIsMember(robj *set, const char *str, size_t len) {
    return setTypeIsMemberAux(set, str, len, 0, 0);
}

static int setTypeIsMemberArg(robj *set, robj *arg) {
    if (arg->encoding == OBJ_ENCODING_INT) return setTypeIsMemberAux(set, NULL, 0, (long)objectGetVal(arg), 0);
    sds s = objectGetVal(arg);
    return setTypeIsMemberAux(set, s, sdslen(s), 0, 1);
}

/* ---------------------------------------------------------------------------
 * Iteration and random members
 * ------------------------------------------------------------------------- */

void setTypeInitIterator(setTypeIterator *si, robj *set) {
    si->subject = set;
    si->encoding = set->encoding;
    si->ii = 0;
    si->lpi = NULL;
    if (si->encoding == OBJ_ENCODING_HT) hashtableInitIterator(&si->hi, objectGetVal(set));
    else if (si->encoding == OBJ_ENCODING_LISTPACK) si->lpi = lpFirst(objectGetVal(set));
    else if (si->encoding != OBJ_ENCODING_INTSET) serverPanic("Unknown set encoding");
}

int setTypeNext(setTypeIterator *si, char **str, size_t *len, int64_t *llval) {
    switch (si->encoding) {
    case OBJ_ENCODING_HT: {
        void *entry;
        if (!hashtableNext(&si->hi, &entry)) return -1;
        *str = entry;
        *len = sdslen((sds)entry);
        *llval = 0; /* unused: the member is the string */
        break;
    }
    case OBJ_ENCODING_INTSET:
        if (!intsetGet(objectGetVal(si->subject), si->ii++, llval)) return -1;
        *str = NULL;
        break;
    case OBJ_ENCODING_LISTPACK: {
        if (!si->lpi) return -1;
        unsigned int slen = 0;
        long long lv = 0;
        *str = (char *)lpGetValue(si->lpi, &slen, &lv);
        *len = slen;
        *llval = lv;
        si->lpi = lpNext(objectGetVal(si->subject), si->lpi);
        break;
    }
    default: serverPanic("Unknown set encoding");
    }
    return si->encoding;
}

sds setTypeNextObject(setTypeIterator *si) {
    char *str;
    size_t len;
    int64_t llval;
    if (setTypeNext(si, &str, &len, &llval) == -1) return NULL;
    return str ? sdsnewlen(str, len) : sdsfromlonglong(llval);
}

void setTypeResetIterator(setTypeIterator *si) {
    if (si->encoding == OBJ_ENCODING_HT) hashtableResetIterator(&si->hi);
}

int setTypeRandomElement(robj *set, char **str, size_t *len, int64_t *llval) {
    switch (set->encoding) {
    case OBJ_ENCODING_HT: {
        void *entry = NULL;
        hashtableFairRandomEntry(objectGetVal(set), &entry);
        *str = entry;
        *len = sdslen((sds)entry);
        *llval = 0;
        break;
    }
    case OBJ_ENCODING_INTSET:
        *llval = intsetRandom(objectGetVal(set));
        *str = NULL;
        break;
    case OBJ_ENCODING_LISTPACK: {
        unsigned char *lp = objectGetVal(set);
        unsigned char *p = lpSeek(lp, (long)randomBelow(lpLength(lp)));
        unsigned int slen = 0;
        long long lv = 0;
        *str = (char *)lpGetValue(p, &slen, &lv);
        *len = slen;
        *llval = lv;
        break;
    }
    default: serverPanic("Unknown set encoding");
    }
    return set->encoding;
}

/* Removes a random member and returns it as a string object. */
static robj *setTypePopRandom(robj *set) {
    if (set->encoding == OBJ_ENCODING_HT) {
        hashtable *ht = objectGetVal(set);
        void *entry = NULL, *popped = NULL;
        hashtableFairRandomEntry(ht, &entry);
        int ok = hashtablePop(ht, entry, &popped);
        serverAssert(ok);
        return createObjectFromSds(popped); /* the member's sds moves into the object */
    }
    if (set->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = objectGetVal(set);
        unsigned int index = 0;
        unsigned char *p = lpNextRandom(lp, lpFirst(lp), &index, 1, 0);
        unsigned int slen = 0;
        long long lv = 0;
        unsigned char *s = lpGetValue(p, &slen, &lv);
        robj *o = s ? createStringObject((char *)s, slen) : createStringObjectFromLongLong(lv);
        objectSetVal(set, lpDelete(lp, p, NULL));
        return o;
    }
    int64_t v = intsetRandom(objectGetVal(set));
    objectSetVal(set, intsetRemove(objectGetVal(set), v, NULL));
    return createStringObjectFromLongLong(v);
}

static void addReplySetMember(client *c, const char *str, size_t len, int64_t llval) {
    if (str) addReplyBulkCBuffer(c, str, len);
    else addReplyBulkLongLong(c, llval);
}

/* ---------------------------------------------------------------------------
 * Object procs: free, dup, size, lazy-free effort
 * ------------------------------------------------------------------------- */

static void setFreeObject(robj *o) {
    setFreePayload(o);
}

robj *setTypeDup(const robj *o) {
    serverAssert(o->type == OBJ_SET);
    void *p = objectGetVal(o);
    switch (o->encoding) {
    case OBJ_ENCODING_INTSET: {
        size_t bytes = intsetBlobLen(p);
        void *copy = zmalloc(bytes);
        memcpy(copy, p, bytes);
        return createSetWithEncoding(copy, OBJ_ENCODING_INTSET);
    }
    case OBJ_ENCODING_LISTPACK: return createSetWithEncoding(lpDup(p), OBJ_ENCODING_LISTPACK);
    case OBJ_ENCODING_HT: {
        hashtable *src = p;
        robj *copy = createSetObject();
        hashtable *dst = objectGetVal(copy);
        hashtableExpand(dst, hashtableSize(src));
        hashtableIterator it;
        void *entry;
        hashtableInitIterator(&it, src);
        while (hashtableNext(&it, &entry)) hashtableAdd(dst, sdsdup(entry));
        hashtableResetIterator(&it);
        return copy;
    }
    default: serverPanic("Unknown set encoding");
    }
}

/* MEMORY USAGE: the payload; for a hashtable the table plus sampled members scaled up. */
static size_t setObjectSize(const robj *o, size_t samples) {
    void *p = objectGetVal(o);
    if (o->encoding != OBJ_ENCODING_HT) return zmalloc_usable_size(p);
    hashtable *ht = p;
    size_t size = hashtableMemUsage(ht);
    size_t total = hashtableSize(ht);
    if (total == 0) return size;
    size_t seen = 0, bytes = 0;
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, ht);
    while ((samples == 0 || seen < samples) && hashtableNext(&it, &entry)) {
        bytes += sdsAllocSize(entry);
        seen++;
    }
    hashtableResetIterator(&it);
    if (seen) size += (size_t)((double)bytes / (double)seen * (double)total);
    return size;
}

static size_t setFreeEffort(const robj *o) {
    return o->encoding == OBJ_ENCODING_HT ? hashtableSize(objectGetVal(o)) : 1;
}

/* ---------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------- */

static const configDirective set_configs[] = {
    {.name = "set-max-intset-entries", .type = CONFIG_TYPE_NUMERIC, .field = &set_config.max_intset_entries,
     .u.num = {CONFIG_NUM_SIZE_T, CONFIG_FMT_INTEGER, 0, LONG_MAX, 512, NULL}},
    {.name = "set-max-listpack-entries", .type = CONFIG_TYPE_NUMERIC, .field = &set_config.max_listpack_entries,
     .u.num = {CONFIG_NUM_SIZE_T, CONFIG_FMT_INTEGER, 0, LONG_MAX, 128, NULL}},
    {.name = "set-max-listpack-value", .type = CONFIG_TYPE_NUMERIC, .field = &set_config.max_listpack_value,
     .u.num = {CONFIG_NUM_SIZE_T, CONFIG_FMT_INTEGER, 0, LONG_MAX, 64, NULL}},
};

void setTypeRegister(void) {
    configRegisterDirectives(set_configs, (int)(sizeof(set_configs) / sizeof(set_configs[0])));
    objectRegisterFreeProc(OBJ_SET, setFreeObject);
    objectRegisterDupProc(OBJ_SET, setTypeDup);
    objectRegisterSizeProc(OBJ_SET, setObjectSize);
    lazyfreeRegisterEffortProc(OBJ_SET, setFreeEffort);
}

/* ---------------------------------------------------------------------------
 * Small helpers for the commands
 * ------------------------------------------------------------------------- */

static robj *sremCommandName(void) {
    static robj *name = NULL;
    if (!name) name = makeObjectShared(createStringObject("SREM", 4));
    return name;
}

/* Replies with every member of a set, as a RESP3 set. */
static void addReplySetMembers(client *c, robj *set) {
    setTypeIterator si;
    char *str;
    size_t len = 0;
    int64_t llval = 0;
    addReplySetLen(c, (long)setTypeSize(set));
    setTypeInitIterator(&si, set);
    while (setTypeNext(&si, &str, &len, &llval) != -1) addReplySetMember(c, str, len, llval);
    setTypeResetIterator(&si);
}

/* SPOP with a count is propagated as SREM commands of up to SPOP_PROPAGATION_BATCH
 * members each (propagation itself arrives with AOF and replication: alsoPropagate is
 * a no-op until then). */
typedef struct {
    robj **argv;
    int argc;
    int dbid;
} sremBatch;

static void sremBatchInit(sremBatch *b, client *c, robj *key, unsigned long count) {
    unsigned long n = count > SPOP_PROPAGATION_BATCH ? SPOP_PROPAGATION_BATCH : count;
    b->argv = zmalloc(sizeof(robj *) * (2 + n));
    b->argv[0] = sremCommandName();
    b->argv[1] = key;
    b->argc = 2;
    b->dbid = c->db->id;
}

static void sremBatchFlush(sremBatch *b) {
    if (b->argc == 2) return;
    alsoPropagate(b->dbid, b->argv, b->argc, CMD_CALL_PROPAGATE);
    for (int j = 2; j < b->argc; j++) decrRefCount(b->argv[j]);
    b->argc = 2;
}

/* Takes the reference to member. */
static void sremBatchAdd(sremBatch *b, robj *member) {
    b->argv[b->argc++] = member;
    if (b->argc == 2 + SPOP_PROPAGATION_BATCH) sremBatchFlush(b);
}

static void sremBatchAddMember(sremBatch *b, const char *str, size_t len, int64_t llval) {
    sremBatchAdd(b, str ? createStringObject(str, len) : createStringObjectFromLongLong(llval));
}

static void sremBatchFinish(sremBatch *b) {
    sremBatchFlush(b);
    zfree(b->argv);
}

/* ---------------------------------------------------------------------------
 * SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SMOVE
 * ------------------------------------------------------------------------- */

void saddCommand(client *c) {
    robj *set = lookupKeyWrite(c->db, c->argv[1]);
    if (checkType(c, set, OBJ_SET)) return;
    size_t hint = (size_t)(c->argc - 2);
    if (set == NULL) set = dbAdd(c->db, c->argv[1], setTypeCreateForArg(c->argv[2], hint));
    else setTypeMaybeConvert(set, hint);

    long long added = 0;
    for (int j = 2; j < c->argc; j++) added += setTypeAddArg(set, c->argv[j]);
    if (added) {
        signalModifiedKey(c, c->db, c->argv[1]);
        notifyKeyspaceEvent(NOTIFY_SET, "sadd", c->argv[1], c->db->id);
    }
    server.dirty += added;
    addReplyLongLong(c, added);
}

void sremCommand(client *c) {
    robj *set = lookupKeyWriteOrReply(c, c->argv[1], shared.czero);
    if (set == NULL || checkType(c, set, OBJ_SET)) return;
    long long deleted = 0;
    int keyremoved = 0;
    for (int j = 2; j < c->argc; j++) {
        if (!setTypeRemoveArg(set, c->argv[j])) continue;
        deleted++;
        if (setTypeSize(set) == 0) {
            dbDelete(c->db, c->argv[1]);
            keyremoved = 1;
            break;
        }
    }
    if (deleted) {
        signalModifiedKey(c, c->db, c->argv[1]);
        notifyKeyspaceEvent(NOTIFY_SET, "srem", c->argv[1], c->db->id);
        if (keyremoved) notifyKeyspaceEvent(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
        server.dirty += deleted;
    }
    addReplyLongLong(c, deleted);
}

void scardCommand(client *c) {
    robj *set = lookupKeyReadOrReply(c, c->argv[1], shared.czero);
    if (set == NULL || checkType(c, set, OBJ_SET)) return;
    addReplyLongLong(c, (long long)setTypeSize(set));
}

void sismemberCommand(client *c) {
    robj *set = lookupKeyReadOrReply(c, c->argv[1], shared.czero);
    if (set == NULL || checkType(c, set, OBJ_SET)) return;
    addReply(c, setTypeIsMemberArg(set, c->argv[2]) ? shared.cone : shared.czero);
}

void smismemberCommand(client *c) {
    robj *set = lookupKeyRead(c->db, c->argv[1]);
    if (checkType(c, set, OBJ_SET)) return;
    addReplyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++)
        addReply(c, set && setTypeIsMemberArg(set, c->argv[j]) ? shared.cone : shared.czero);
}

void smembersCommand(client *c) {
    robj *set = lookupKeyRead(c->db, c->argv[1]);
    if (checkType(c, set, OBJ_SET)) return;
    if (!set) {
        addReply(c, shared.emptyset[c->resp]);
        return;
    }
    addReplySetMembers(c, set);
}

void smoveCommand(client *c) {
    robj *src = lookupKeyWrite(c->db, c->argv[1]);
    robj *dst = lookupKeyWrite(c->db, c->argv[2]);
    robj *ele = c->argv[3];
    if (src == NULL) {
        addReply(c, shared.czero);
        return;
    }
    if (checkType(c, src, OBJ_SET) || checkType(c, dst, OBJ_SET)) return;
    if (src == dst) { /* same key: nothing moves */
        addReply(c, setTypeIsMemberArg(src, ele) ? shared.cone : shared.czero);
        return;
    }
    if (!setTypeRemoveArg(src, ele)) {
        addReply(c, shared.czero);
        return;
    }
    notifyKeyspaceEvent(NOTIFY_SET, "srem", c->argv[1], c->db->id);
    if (setTypeSize(src) == 0) {
        dbDelete(c->db, c->argv[1]);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
    }
    if (!dst) dst = dbAdd(c->db, c->argv[2], setTypeCreateForArg(ele, 1));
    signalModifiedKey(c, c->db, c->argv[1]);
    server.dirty++;
    if (setTypeAddArg(dst, ele)) {
        server.dirty++;
        signalModifiedKey(c, c->db, c->argv[2]);
        notifyKeyspaceEvent(NOTIFY_SET, "sadd", c->argv[2], c->db->id);
    }
    addReply(c, shared.cone);
}

/* ---------------------------------------------------------------------------
 * SPOP
 * ------------------------------------------------------------------------- */

/* Intset: pops `count` members (0 < count < size) at random; the rest stay an intset.
 * A random subset of min(count, size - count) members is drawn, and it is either the
 * popped part or the kept part, whichever is smaller. */
static void spopIntset(client *c, robj *set, unsigned long count, sremBatch *batch) {
    intset *is = objectGetVal(set);
    uint32_t size = intsetLen(is);
    uint32_t remaining = size - (uint32_t)count;
    int pick_popped = count <= remaining;
    uint32_t want = pick_popped ? (uint32_t)count : remaining;
    int64_t *picks = zmalloc(sizeof(int64_t) * want);
    uint32_t got = intsetRandomMembers(is, want, picks);
    serverAssert(got == want);
    intset *kept = intsetNew();
    uint32_t k = 0;
    for (uint32_t i = 0; i < size; i++) {
        int64_t v;
        intsetGet(is, i, &v);
        int picked = k < want && picks[k] == v;
        if (picked) k++;
        if (picked == pick_popped) {
            addReplyBulkLongLong(c, v);
            sremBatchAddMember(batch, NULL, 0, v);
        } else {
            kept = intsetAdd(kept, v, NULL);
        }
    }
    zfree(picks);
    setReplacePayload(set, kept, OBJ_ENCODING_INTSET);
}

/* Listpack: the same idea in one pass; the popped members are deleted in one batch. */
static void spopListpack(client *c, robj *set, unsigned long count, sremBatch *batch) {
    unsigned char *lp = objectGetVal(set);
    unsigned long size = lpLength(lp);
    unsigned long remaining = size - count;
    int pick_popped = count <= remaining;
    unsigned long want = pick_popped ? count : remaining;
    unsigned char **popped = zmalloc(sizeof(unsigned char *) * count);
    unsigned long npopped = 0, left = want;
    unsigned int next_pick = 0;
    unsigned char *pick = left ? lpNextRandom(lp, lpFirst(lp), &next_pick, (unsigned int)left, 0) : NULL;
    unsigned int index = 0;
    for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p), index++) {
        int picked = p == pick;
        if (picked) {
            left--;
            next_pick = index + 1;
            pick = left ? lpNextRandom(lp, lpNext(lp, p), &next_pick, (unsigned int)left, 0) : NULL;
        }
        if (picked != pick_popped) continue;
        unsigned int slen = 0;
        long long lv = 0;
        unsigned char *s = lpGetValue(p, &slen, &lv);
        addReplySetMember(c, (char *)s, slen, lv);
        sremBatchAddMember(batch, (char *)s, slen, lv);
        popped[npopped++] = p;
    }
    serverAssert(npopped == count);
    objectSetVal(set, lpBatchDelete(lp, popped, npopped));
    zfree(popped);
}

/* Hashtable, many members popped: the few that stay move to a new, smaller set (a
 * listpack if they fit), which replaces the key's value; the rest are the reply. */
static void spopHashtableRebuild(client *c, robj *set, unsigned long remaining, sremBatch *batch) {
    hashtable *ht = objectGetVal(set);
    robj *newset = createSetListpackObject();
    while (remaining--) {
        void *entry = NULL, *popped = NULL;
        hashtableFairRandomEntry(ht, &entry);
        hashtablePop(ht, entry, &popped);
        setTypeAddAux(newset, popped, sdslen(popped), 0, 1);
        sdsfree(popped);
    }
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, ht);
    while (hashtableNext(&it, &entry)) {
        addReplyBulkCBuffer(c, entry, sdslen(entry));
        sremBatchAddMember(batch, entry, sdslen(entry), 0);
    }
    hashtableResetIterator(&it);
    dbReplaceValue(c->db, c->argv[1], newset);
}

static void spopWithCountCommand(client *c) {
    long l;
    if (getPositiveLongFromObjectOrReply(c, c->argv[2], &l, NULL) != C_OK) return;
    unsigned long count = (unsigned long)l;
    robj *set = lookupKeyWriteOrReply(c, c->argv[1], shared.emptyset[c->resp]);
    if (set == NULL || checkType(c, set, OBJ_SET)) return;
    if (count == 0) {
        addReply(c, shared.emptyset[c->resp]);
        return;
    }
    unsigned long size = setTypeSize(set);
    notifyKeyspaceEvent(NOTIFY_SET, "spop", c->argv[1], c->db->id);
    server.dirty += (long long)(count >= size ? size : count);

    if (count >= size) {
        /* Everything goes: reply with the set, delete the key, propagate a DEL. */
        addReplySetMembers(c, set);
        dbDelete(c->db, c->argv[1]);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
        rewriteClientCommandVector(c, 2, server.lazyfree_lazy_server_del ? shared.unlink : shared.del,
                                   c->argv[1]);
        signalModifiedKey(c, c->db, c->argv[1]);
        return;
    }

    sremBatch batch;
    sremBatchInit(&batch, c, c->argv[1], count);
    addReplySetLen(c, (long)count);
    unsigned long remaining = size - count;
    if (set->encoding == OBJ_ENCODING_INTSET) {
        spopIntset(c, set, count, &batch);
    } else if (set->encoding == OBJ_ENCODING_LISTPACK) {
        spopListpack(c, set, count, &batch);
    } else if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
        for (unsigned long i = 0; i < count; i++) {
            robj *member = setTypePopRandom(set);
            addReplyBulk(c, member);
            sremBatchAdd(&batch, member);
        }
    } else {
        spopHashtableRebuild(c, set, remaining, &batch);
    }
    sremBatchFinish(&batch);
    /* The SREMs above stand for this command in the replication stream. */
    preventCommandPropagation(c);
    signalModifiedKey(c, c->db, c->argv[1]);
}

void spopCommand(client *c) {
    if (c->argc == 3) {
        spopWithCountCommand(c);
        return;
    }
    if (c->argc > 3) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    robj *set = lookupKeyWriteOrReply(c, c->argv[1], shared.null[c->resp]);
    if (set == NULL || checkType(c, set, OBJ_SET)) return;
    robj *member = setTypePopRandom(set);
    notifyKeyspaceEvent(NOTIFY_SET, "spop", c->argv[1], c->db->id);
    /* Replicated as SREM key member (propagation arrives later). */
    rewriteClientCommandVector(c, 3, sremCommandName(), c->argv[1], member);
    addReplyBulk(c, member);
    decrRefCount(member);
    if (setTypeSize(set) == 0) {
        dbDelete(c->db, c->argv[1]);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
    }
    signalModifiedKey(c, c->db, c->argv[1]);
    server.dirty++;
}

/* ---------------------------------------------------------------------------
 * SRANDMEMBER
 * ------------------------------------------------------------------------- */

/* Negative count: count picks with repetition, in random order. */
static void srandmemberWithRepeats(client *c, robj *set, unsigned long count) {
    addReplyArrayLen(c, (long)count);
    char *str;
    size_t len = 0;
    int64_t llval = 0;
    if (set->encoding == OBJ_ENCODING_LISTPACK && count > 1) {
        unsigned long limit = count > SRANDMEMBER_RANDOM_SAMPLE_LIMIT ? SRANDMEMBER_RANDOM_SAMPLE_LIMIT : count;
        listpackEntry *entries = zmalloc(limit * sizeof(listpackEntry));
        while (count) {
            unsigned long n = count > limit ? limit : count;
            count -= n;
            lpRandomEntries(objectGetVal(set), (unsigned int)n, entries);
            for (unsigned long i = 0; i < n; i++)
                addReplySetMember(c, (char *)entries[i].sval, entries[i].slen, entries[i].lval);
            if (c->flags & CLIENT_CLOSE_ASAP) break;
        }
        zfree(entries);
        return;
    }
    while (count--) {
        setTypeRandomElement(set, &str, &len, &llval);
        addReplySetMember(c, str, len, llval);
        if (c->flags & CLIENT_CLOSE_ASAP) break;
    }
}

/* Positive count smaller than the set: count distinct members. */
static void srandmemberDistinct(client *c, robj *set, unsigned long count) {
    unsigned long size = setTypeSize(set);
    addReplyArrayLen(c, (long)count);
    if (set->encoding == OBJ_ENCODING_LISTPACK) {
        /* One pass, in listpack order. */
        unsigned char *lp = objectGetVal(set);
        unsigned char *p = lpFirst(lp);
        unsigned int index = 0;
        while (count) {
            p = lpNextRandom(lp, p, &index, (unsigned int)count--, 0);
            unsigned int slen = 0;
            long long lv = 0;
            unsigned char *s = lpGetValue(p, &slen, &lv);
            addReplySetMember(c, (char *)s, slen, lv);
            p = lpNext(lp, p);
            index++;
        }
        return;
    }
    if (set->encoding == OBJ_ENCODING_INTSET) {
        int64_t *picks = zmalloc(sizeof(int64_t) * count);
        uint32_t n = intsetRandomMembers(objectGetVal(set), (uint32_t)count, picks);
        for (uint32_t i = n; i > 1; i--) { /* shuffle: the picks come sorted */
            uint32_t j = (uint32_t)randomBelow(i);
            int64_t t = picks[i - 1];
            picks[i - 1] = picks[j];
            picks[j] = t;
        }
        for (uint32_t i = 0; i < n; i++) addReplyBulkLongLong(c, picks[i]);
        zfree(picks);
        return;
    }
    hashtable *ht = objectGetVal(set);
    sds *chosen = zmalloc(sizeof(sds) * (count * SRANDMEMBER_SUB_STRATEGY_MUL > size ? size : count));
    if (count * SRANDMEMBER_SUB_STRATEGY_MUL > size) {
        /* Many: take every member and keep a random prefix of a partial shuffle. */
        hashtableIterator it;
        void *entry;
        unsigned long n = 0;
        hashtableInitIterator(&it, ht);
        while (hashtableNext(&it, &entry)) chosen[n++] = entry;
        hashtableResetIterator(&it);
        for (unsigned long i = 0; i < count; i++) {
            unsigned long j = i + randomBelow(n - i);
            sds t = chosen[i];
            chosen[i] = chosen[j];
            chosen[j] = t;
        }
    } else {
        /* Few: draw at random until count distinct ones were seen. */
        hashtable *seen = hashtableCreate(&memberRefSetType);
        hashtableExpand(seen, count);
        unsigned long n = 0;
        while (n < count) {
            void *entry = NULL;
            hashtableFairRandomEntry(ht, &entry);
            if (hashtableAdd(seen, entry)) chosen[n++] = entry;
        }
        hashtableRelease(seen);
    }
    for (unsigned long i = 0; i < count; i++) addReplyBulkCBuffer(c, chosen[i], sdslen(chosen[i]));
    zfree(chosen);
}

static void srandmemberWithCountCommand(client *c) {
    long l;
    if (getRangeLongFromObjectOrReply(c, c->argv[2], -LONG_MAX, LONG_MAX, &l, NULL) != C_OK) return;
    int uniq = l >= 0;
    unsigned long count = uniq ? (unsigned long)l : (unsigned long)-l;
    robj *set = lookupKeyReadOrReply(c, c->argv[1], shared.emptyarray);
    if (set == NULL || checkType(c, set, OBJ_SET)) return;
    if (count == 0) {
        addReply(c, shared.emptyarray);
        return;
    }
    if (!uniq || count == 1) {
        srandmemberWithRepeats(c, set, count);
        return;
    }
    unsigned long size = setTypeSize(set);
    if (count >= size) {
        setTypeIterator si;
        char *str;
        size_t len = 0;
        int64_t llval = 0;
        addReplyArrayLen(c, (long)size);
        setTypeInitIterator(&si, set);
        while (setTypeNext(&si, &str, &len, &llval) != -1) addReplySetMember(c, str, len, llval);
        setTypeResetIterator(&si);
        return;
    }
    srandmemberDistinct(c, set, count);
}

void srandmemberCommand(client *c) {
    if (c->argc == 3) {
        srandmemberWithCountCommand(c);
        return;
    }
    if (c->argc > 3) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    robj *set = lookupKeyReadOrReply(c, c->argv[1], shared.null[c->resp]);
    if (set == NULL || checkType(c, set, OBJ_SET)) return;
    char *str;
    size_t len = 0;
    int64_t llval = 0;
    setTypeRandomElement(set, &str, &len, &llval);
    addReplySetMember(c, str, len, llval);
}

/* ---------------------------------------------------------------------------
 * SINTER SINTERCARD SINTERSTORE
 * ------------------------------------------------------------------------- */

typedef struct {
    robj *set;
    unsigned long size;
    int order; /* argument position: ties keep it, so the sort is deterministic */
} setRef;

static int setRefCompareBySize(const void *a, const void *b) {
    const setRef *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? -1 : 1;
    return x->order - y->order;
}

/* Deletes dstkey after a STORE with an empty result. */
static void storeEmptyResult(client *c, robj *dstkey) {
    if (dbDelete(c->db, dstkey)) {
        server.dirty++;
        signalModifiedKey(c, c->db, dstkey);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", dstkey, c->db->id);
    }
}

/* Stores a non-empty result (consumed) at dstkey and replies with its size. */
static void storeResult(client *c, robj *dstkey, robj *dstset, const char *event) {
    setKey(c, c->db, dstkey, &dstset, 0);
    addReplyLongLong(c, (long long)setTypeSize(dstset));
    notifyKeyspaceEvent(NOTIFY_SET, event, dstkey, c->db->id);
    server.dirty++;
}

/* Looks the set keys up; NULL entries for missing keys. Returns 0 after replying
 * WRONGTYPE. */
static int lookupSets(client *c, robj **keys, int n, setRef *refs) {
    for (int j = 0; j < n; j++) {
        robj *o = lookupKeyRead(c->db, keys[j]); /* sources are reads, even with a destination */
        if (checkType(c, o, OBJ_SET)) return 0;
        refs[j].set = o;
        refs[j].size = o ? setTypeSize(o) : 0;
        refs[j].order = j;
    }
    return 1;
}

static void sinterGenericCommand(client *c, robj **keys, int n, robj *dstkey, int cardinality_only,
                                 unsigned long limit) {
    setRef *refs = zmalloc(sizeof(setRef) * n);
    if (!lookupSets(c, keys, n, refs)) {
        zfree(refs);
        return;
    }
    for (int j = 0; j < n; j++) {
        if (refs[j].set) continue;
        /* A missing key is an empty set, and so is the intersection. */
        zfree(refs);
        if (dstkey) {
            storeEmptyResult(c, dstkey);
            addReply(c, shared.czero);
        } else if (cardinality_only) {
            addReply(c, shared.czero);
        } else {
            addReply(c, shared.emptyset[c->resp]);
        }
        return;
    }
    qsort(refs, n, sizeof(setRef), setRefCompareBySize);
    robj *first = refs[0].set;

    robj *dstset = NULL;
    void *replylen = NULL;
    if (dstkey) {
        /* Start small: an intset when the smallest set is one (the result is then all
         * integers, added in order), a listpack otherwise; it grows as needed. */
        if (first->encoding == OBJ_ENCODING_INTSET) dstset = createIntsetObject();
        else if (first->encoding == OBJ_ENCODING_LISTPACK)
            dstset = setTypeCreateFromListpack(lpNew(lpBytes(objectGetVal(first))));
        else dstset = createSetListpackObject();
    } else if (!cardinality_only) {
        replylen = addReplyDeferredLen(c);
    }

    unsigned long cardinality = 0;
    int only_integers = 1;
    setTypeIterator si;
    char *str;
    size_t len = 0;
    int64_t llval = 0;
    int encoding;
    setTypeInitIterator(&si, first);
    while ((encoding = setTypeNext(&si, &str, &len, &llval)) != -1) {
        int is_sds = encoding == OBJ_ENCODING_HT;
        int j;
        for (j = 1; j < n; j++) {
            if (refs[j].set == first) continue;
            if (!setTypeIsMemberAux(refs[j].set, str, len, llval, is_sds)) break;
        }
        if (j != n) continue;
        if (cardinality_only) {
            cardinality++;
            if (limit && cardinality >= limit) break;
        } else if (!dstkey) {
            addReplySetMember(c, str, len, llval);
            cardinality++;
        } else {
            if (str && only_integers) {
                long long v;
                if (is_sds && string2ll(str, len, &v)) {
                    /* A hashtable member that is an integer goes in as one. */
                    str = NULL;
                    llval = v;
                } else {
                    only_integers = 0;
                }
            }
            setTypeAddAux(dstset, str, len, llval, is_sds);
        }
    }
    setTypeResetIterator(&si);
    zfree(refs);

    if (cardinality_only) {
        addReplyLongLong(c, (long long)cardinality);
    } else if (dstkey) {
        if (setTypeSize(dstset) > 0) {
            if (only_integers) setTypeMaybeConvertToIntset(dstset);
            if (dstset->encoding == OBJ_ENCODING_LISTPACK) objectSetVal(dstset, lpShrinkToFit(objectGetVal(dstset)));
            storeResult(c, dstkey, dstset, "sinterstore");
        } else {
            decrRefCount(dstset);
            addReply(c, shared.czero);
            storeEmptyResult(c, dstkey);
        }
    } else {
        setDeferredSetLen(c, replylen, (long)cardinality);
    }
}

void sinterCommand(client *c) {
    sinterGenericCommand(c, c->argv + 1, c->argc - 1, NULL, 0, 0);
}

void sinterstoreCommand(client *c) {
    sinterGenericCommand(c, c->argv + 2, c->argc - 2, c->argv[1], 0, 0);
}

static int argIs(robj *arg, const char *name) {
    return sdsEncodedObject(arg) && !strcasecmp(objectGetVal(arg), name);
}

void sintercardCommand(client *c) {
    long numkeys = 0, limit = 0;
    if (getRangeLongFromObjectOrReply(c, c->argv[1], 1, LONG_MAX, &numkeys, "numkeys should be greater than 0") !=
        C_OK)
        return;
    if (numkeys > c->argc - 2) {
        addReplyError(c, "Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j++) {
        int moreargs = c->argc - 1 - j;
        if (argIs(c->argv[j], "limit") && moreargs) {
            j++;
            if (getPositiveLongFromObjectOrReply(c, c->argv[j], &limit, "LIMIT can't be negative") != C_OK) return;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    sinterGenericCommand(c, c->argv + 2, (int)numkeys, NULL, 1, (unsigned long)limit);
}

/* ---------------------------------------------------------------------------
 * SUNION SUNIONSTORE SDIFF SDIFFSTORE
 * ------------------------------------------------------------------------- */

#define SET_OP_UNION 0
#define SET_OP_DIFF 1

static int setRefCompareBySizeDesc(const void *a, const void *b) {
    const setRef *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return x->order - y->order;
}

/* Adds every member of src to dst; returns how many were new. */
static unsigned long addAllMembers(robj *dst, robj *src) {
    setTypeIterator si;
    char *str;
    size_t len = 0;
    int64_t llval = 0;
    int encoding;
    unsigned long added = 0;
    setTypeInitIterator(&si, src);
    while ((encoding = setTypeNext(&si, &str, &len, &llval)) != -1)
        added += setTypeAddAux(dst, str, len, llval, encoding == OBJ_ENCODING_HT);
    setTypeResetIterator(&si);
    return added;
}

/* DIFF by testing each member of the first set against the others (sorted by
 * decreasing size so a match tends to come early). */
static unsigned long diffByLookup(robj *dst, setRef *refs, int n) {
    if (n > 1) qsort(refs + 1, n - 1, sizeof(setRef), setRefCompareBySizeDesc);
    robj *first = refs[0].set;
    setTypeIterator si;
    char *str;
    size_t len = 0;
    int64_t llval = 0;
    int encoding;
    unsigned long cardinality = 0;
    setTypeInitIterator(&si, first);
    while ((encoding = setTypeNext(&si, &str, &len, &llval)) != -1) {
        int is_sds = encoding == OBJ_ENCODING_HT;
        int j;
        for (j = 1; j < n; j++) {
            if (!refs[j].set) continue;
            if (refs[j].set == first) break;
            if (setTypeIsMemberAux(refs[j].set, str, len, llval, is_sds)) break;
        }
        if (j == n) cardinality += setTypeAddAux(dst, str, len, llval, is_sds);
    }
    setTypeResetIterator(&si);
    return cardinality;
}

/* DIFF by copying the first set and removing the members of the others. */
static unsigned long diffByRemoval(robj *dst, setRef *refs, int n) {
    unsigned long cardinality = addAllMembers(dst, refs[0].set);
    for (int j = 1; j < n && cardinality; j++) {
        if (!refs[j].set) continue;
        setTypeIterator si;
        char *str;
        size_t len = 0;
        int64_t llval = 0;
        int encoding;
        setTypeInitIterator(&si, refs[j].set);
        while ((encoding = setTypeNext(&si, &str, &len, &llval)) != -1)
            cardinality -= setTypeRemoveAux(dst, str, len, llval, encoding == OBJ_ENCODING_HT);
        setTypeResetIterator(&si);
    }
    return cardinality;
}

static void sunionDiffGenericCommand(client *c, robj **keys, int n, robj *dstkey, int op) {
    setRef *refs = zmalloc(sizeof(setRef) * n);
    if (!lookupSets(c, keys, n, refs)) {
        zfree(refs);
        return;
    }
    /* Without a destination, a result built from anything but intsets is a hashtable
     * (cheap lookups while building); a STORE result starts as an intset and grows. */
    int dst_encoding = OBJ_ENCODING_INTSET;
    int sameset = 0;
    for (int j = 0; j < n; j++) {
        robj *o = refs[j].set;
        if (!dstkey && o && o->encoding != OBJ_ENCODING_INTSET) dst_encoding = OBJ_ENCODING_HT;
        if (j > 0 && o == refs[0].set) sameset = 1;
    }
    robj *dstset = dst_encoding == OBJ_ENCODING_INTSET ? createIntsetObject() : createSetObject();

    if (op == SET_OP_UNION) {
        for (int j = 0; j < n; j++)
            if (refs[j].set) addAllMembers(dstset, refs[j].set);
    } else if (refs[0].set && !sameset) {
        /* Pick the cheaper algorithm: lookups cost about half of copying + removing. */
        unsigned long long lookup_work = 0, removal_work = 0;
        for (int j = 0; j < n; j++) {
            if (!refs[j].set) continue;
            lookup_work += refs[0].size;
            removal_work += refs[j].size;
        }
        lookup_work /= 2;
        if (lookup_work <= removal_work) diffByLookup(dstset, refs, n);
        else diffByRemoval(dstset, refs, n);
    }
    zfree(refs);

    if (!dstkey) {
        addReplySetMembers(c, dstset);
        if (!(server.lazyfree_lazy_server_del && lazyfreeFreeObjectIfBig(dstset))) decrRefCount(dstset);
    } else if (setTypeSize(dstset) > 0) {
        storeResult(c, dstkey, dstset, op == SET_OP_UNION ? "sunionstore" : "sdiffstore");
    } else {
        decrRefCount(dstset);
        addReply(c, shared.czero);
        storeEmptyResult(c, dstkey);
    }
}

void sunionCommand(client *c) {
    sunionDiffGenericCommand(c, c->argv + 1, c->argc - 1, NULL, SET_OP_UNION);
}

void sunionstoreCommand(client *c) {
    sunionDiffGenericCommand(c, c->argv + 2, c->argc - 2, c->argv[1], SET_OP_UNION);
}

void sdiffCommand(client *c) {
    sunionDiffGenericCommand(c, c->argv + 1, c->argc - 1, NULL, SET_OP_DIFF);
}

void sdiffstoreCommand(client *c) {
    sunionDiffGenericCommand(c, c->argv + 2, c->argc - 2, c->argv[1], SET_OP_DIFF);
}

/* ---------------------------------------------------------------------------
 * SSCAN
 * ------------------------------------------------------------------------- */

typedef struct {
    sds *members; /* point into the set: nothing modifies it before the reply is built */
    size_t count, cap;
    const char *pattern; /* NULL: everything matches */
    int patlen;
} sscanData;

static void sscanCollect(void *privdata, void *entry) {
    sscanData *d = privdata;
    sds member = entry;
    if (d->pattern && !stringmatchlen(d->pattern, d->patlen, member, (int)sdslen(member), 0)) return;
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->members = zrealloc(d->members, d->cap * sizeof(sds));
    }
    d->members[d->count++] = member;
}

static void addReplyScanCursor(client *c, unsigned long long cursor) {
    char buf[LONG_STR_SIZE];
    int len = ull2string(buf, sizeof(buf), cursor);
    addReplyArrayLen(c, 2);
    addReplyBulkCBuffer(c, buf, (size_t)len);
}

void sscanCommand(client *c) {
    unsigned long long cursor;
    if (parseScanCursorOrReply(c, c->argv[2], &cursor) != C_OK) return;
    robj *set = lookupKeyRead(c->db, c->argv[1]);
    if (checkType(c, set, OBJ_SET)) return;
    if (!set) {
        addReplyScanCursor(c, 0);
        addReplyArrayLen(c, 0);
        return;
    }
    long count = 10;
    sscanData d = {0};
    for (int i = 3; i < c->argc;) {
        int has_value = i + 1 < c->argc;
        if (argIs(c->argv[i], "count") && has_value) {
            if (getLongFromObjectOrReply(c, c->argv[i + 1], &count, NULL) != C_OK) return;
            if (count < 1) {
                addReplyErrorObject(c, shared.syntaxerr);
                return;
            }
            i += 2;
        } else if (argIs(c->argv[i], "match") && has_value) {
            robj *p = c->argv[i + 1];
            if (sdsEncodedObject(p)) {
                sds pat = objectGetVal(p);
                d.pattern = sdslen(pat) == 1 && pat[0] == '*' ? NULL : pat;
                d.patlen = (int)sdslen(pat);
            }
            i += 2;
        } else if (argIs(c->argv[i], "novalues")) {
            addReplyError(c, "NOVALUES option can only be used in HSCAN");
            return;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }

    if (set->encoding != OBJ_ENCODING_HT) {
        /* Small encodings are returned whole, in one call. */
        setTypeIterator si;
        char *str;
        size_t len = 0;
        int64_t llval = 0;
        char numbuf[LONG_STR_SIZE];
        addReplyScanCursor(c, 0);
        void *replylen = addReplyDeferredLen(c);
        long returned = 0;
        setTypeInitIterator(&si, set);
        while (setTypeNext(&si, &str, &len, &llval) != -1) {
            const char *bytes = memberBytes(str, &len, llval, numbuf);
            if (d.pattern && !stringmatchlen(d.pattern, d.patlen, bytes, (int)len, 0)) continue;
            addReplyBulkCBuffer(c, bytes, len);
            returned++;
        }
        setTypeResetIterator(&si);
        setDeferredArrayLen(c, replylen, returned);
        return;
    }

    hashtable *ht = objectGetVal(set);
    long max_buckets = count > LONG_MAX / SSCAN_MAX_BUCKETS_PER_COUNT ? LONG_MAX : count * SSCAN_MAX_BUCKETS_PER_COUNT;
    do {
        cursor = hashtableScan(ht, (size_t)cursor, sscanCollect, &d);
    } while (cursor && --max_buckets > 0 && d.count < (size_t)count);
    addReplyScanCursor(c, cursor);
    addReplyArrayLen(c, (long)d.count);
    for (size_t j = 0; j < d.count; j++) addReplyBulkCBuffer(c, d.members[j], sdslen(d.members[j]));
    zfree(d.members);
}
