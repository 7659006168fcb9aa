/* object.c -- value objects: creation, the compact layout with an embedded key, expire
 * and small string value, reference counting, string encodings (int / embstr / raw),
 * the shared objects, LRU/LFU bookkeeping and the OBJECT command.
 *
 * Layout (see object.h): an 8-byte header, then only the parts the flags announce:
 *
 *   [val pointer, unless hasembval][expire, if hasexpire][key, if haskey][value, if hasembval]
 *
 * An embedded string (key or value) is written as [hdrlen byte][sds header][bytes][NUL],
 * the sds header being the smallest type for the length (TYPE_5 up to 31 bytes), so a
 * 16-byte key with a 16-byte value takes 8 + 19 + 19 = 46 bytes: one 48-byte jemalloc bin.
 * Embedded sds strings are read-only: their capacity is exactly their length.
 *
 * Objects are built by describing their parts (objectParts) and letting one function
 * size and write them; every reshaping (attaching a key, adding or dropping an expire,
 * changing the encoding) goes through that description, so the layout rules live in one
 * place. Objects whose value is a pointer are reshaped in place with zrealloc; objects
 * with an embedded value are rebuilt (the value bytes would have to move anyway).
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "object.h"
#include "db.h"
#include "networking.h"
#include "server.h"
#include "util.h"
#include "zmalloc.h"

_Static_assert(sizeof(robj) == 8, "the object header must stay 8 bytes");
_Static_assert(sizeof(long) == sizeof(long long), "INT encoding stores a long long in a pointer");

/* What Valkey reports as the refcount of a shared object. */
#define OBJ_SHARED_REFCOUNT_REPORTED INT_MAX

struct sharedObjectsStruct shared;

static objectFreeProc freeProcs[OBJ_TYPE_MAX];
static objectDupProc dupProcs[OBJ_TYPE_MAX];
static objectSizeProc sizeProcs[OBJ_TYPE_MAX];

/* ------------------------------------------------------------------------- */
/* Layout                                                                      */
/* ------------------------------------------------------------------------- */

/* The optional parts of an object about to be written. */
typedef struct objectParts {
    int embed;           /* value is an embedded sds (val/vallen), else ptr */
    void *ptr;           /* value pointer, or the long long of INT encoding */
    const char *val;     /* embedded value bytes (may be NULL: zeroes, or SDS_NOINIT) */
    size_t vallen;
    const char *key;     /* NULL: no key */
    size_t keylen;
    long long expire;    /* -1: none */
} objectParts;

static size_t embeddedSdsSize(size_t len) {
    return 1 + sdsReqSize(len, sdsReqType(len));
}

static size_t packedColdSize(size_t keylen) {
    return sizeof(robj) + OBJ_PACKED_LOC_SIZE + sdsReqSize(keylen, SDS_TYPE_5);
}

static size_t objectPartsSize(const objectParts *p) {
    size_t size = sizeof(robj);
    if (!p->embed) size += OBJ_PART_PTR_SIZE;
    if (p->expire != -1) size += OBJ_PART_EXPIRE_SIZE;
    if (p->key) size += embeddedSdsSize(p->keylen);
    if (p->embed) size += embeddedSdsSize(p->vallen);
    return size;
}

static unsigned char *writeEmbeddedSds(unsigned char *dst, const char *s, size_t len) {
    char type = sdsReqType(len);
    size_t hdrlen = sdsHdrSize(type), total = sdsReqSize(len, type);
    dst[0] = (unsigned char)hdrlen;
    sdswrite((char *)dst + 1, total, type, s, len);
    return dst + 1 + total;
}

/* Writes flags and optional parts; the caller has sized the allocation with
 * objectPartsSize() and set type, encoding, lru and refcount. */
static void objectWriteParts(robj *o, const objectParts *p) {
    o->packed = 0;
    o->hasembval = p->embed != 0;
    o->hasexpire = p->expire != -1;
    o->haskey = p->key != NULL;
    unsigned char *dst = objectOptionalParts(o);
    if (!p->embed) {
        memcpy(dst, &p->ptr, OBJ_PART_PTR_SIZE);
        dst += OBJ_PART_PTR_SIZE;
    }
    if (p->expire != -1) {
        memcpy(dst, &p->expire, OBJ_PART_EXPIRE_SIZE);
        dst += OBJ_PART_EXPIRE_SIZE;
    }
    if (p->key) dst = writeEmbeddedSds(dst, p->key, p->keylen);
    if (p->embed) writeEmbeddedSds(dst, p->val, p->vallen);
}

/* Bytes of the allocation actually used by the layout. */
static size_t objectUsedSize(const robj *o) {
    if (o->packed) return packedColdSize(sdslen(objectGetKey(o)));
    size_t size = (size_t)(objectEmbeddedParts(o) - (unsigned char *)o);
    if (o->haskey) size += embeddedSdsSize(sdslen(objectGetKey(o)));
    if (o->hasembval) size += embeddedSdsSize(sdslen(objectGetVal(o)));
    return size;
}

/* The parts describing o as it is now (pointing into o: use before freeing it). */
static objectParts objectCurrentParts(const robj *o) {
    objectParts p = {.expire = objectGetExpire(o)};
    if (o->hasembval) {
        p.embed = 1;
        p.val = objectGetVal(o);
        p.vallen = sdslen((sds)p.val);
    } else {
        p.ptr = o->packed ? (void *)(uintptr_t)objectColdLocation(o) : objectGetVal(o);
    }
    sds key = objectGetKey(o);
    if (key) {
        p.key = key;
        p.keylen = sdslen(key);
    }
    return p;
}

static unsigned int objectInitialLRU(void) {
    if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) return (LFUGetTimeInMinutes() << 8) | LFU_INIT_VAL;
    return LRU_CLOCK();
}

static robj *objectNew(int type, int encoding, unsigned int lru, const objectParts *p) {
    robj *o = zmalloc(objectPartsSize(p));
    o->type = type;
    o->encoding = encoding;
    o->lru = lru;
    o->refcount = 1;
    o->cold = 0;
    o->tiered = 0;
    objectWriteParts(o, p);
    return o;
}

static objectTierProc tier_cold_free_proc, tier_forget_proc;

void objectRegisterTierProcs(objectTierProc cold_free, objectTierProc forget) {
    tier_cold_free_proc = cold_free;
    tier_forget_proc = forget;
}

void objectNotifyChange(robj *o) {
    if (o->tiered && tier_forget_proc) tier_forget_proc(o);
    o->tiered = 0;
}

uint64_t objectColdLocation(const robj *o) {
    if (!o->packed) return (uint64_t)(uintptr_t)objectGetVal(o);
    const unsigned char *p = objectOptionalParts(o);
    uint64_t loc = 0;
    for (int i = 0; i < OBJ_PACKED_LOC_SIZE; i++) loc |= (uint64_t)p[i] << (8 * i);
    return loc;
}

void objectSetColdLocation(robj *o, uint64_t loc) {
    if (!o->packed) {
        objectSetVal(o, (void *)(uintptr_t)loc);
        return;
    }
    serverAssert(loc < OBJ_PACKED_LOC_LIMIT);
    unsigned char *p = objectOptionalParts(o);
    for (int i = 0; i < OBJ_PACKED_LOC_SIZE; i++) p[i] = (unsigned char)(loc >> (8 * i));
}

/* [header][location: 6 bytes][key: sds type 5][NUL]; the caller checked it applies. */
static robj *objectCreatePackedCold(const robj *o, uint64_t loc, sds key, size_t keylen) {
    robj *c = zmalloc(packedColdSize(keylen));
    c->type = o->type;
    c->encoding = o->encoding;
    c->lru = o->lru;
    c->refcount = 1;
    c->tiered = 0;
    c->hasexpire = 0;
    c->hasembval = 0;
    c->haskey = 1;
    c->cold = 1;
    c->packed = 1;
    objectSetColdLocation(c, loc);
    sdswrite((char *)objectOptionalParts(c) + OBJ_PACKED_LOC_SIZE, sdsReqSize(keylen, SDS_TYPE_5), SDS_TYPE_5,
             key, keylen);
    return c;
}

robj *objectCreateCold(const robj *o, uint64_t loc) {
    sds key = objectGetKey(o);
    if (key && sdslen(key) <= SDS_TYPE_5_MAXLEN && !o->hasexpire && loc < OBJ_PACKED_LOC_LIMIT)
        return objectCreatePackedCold(o, loc, key, sdslen(key));
    objectParts p = {.expire = objectGetExpire(o), .ptr = (void *)(uintptr_t)loc};
    if (key) {
        p.key = key;
        p.keylen = sdslen(key);
    }
    robj *c = objectNew(o->type, o->encoding, o->lru, &p);
    c->cold = 1;
    return c;
}

/* ------------------------------------------------------------------------- */
/* Creation                                                                    */
/* ------------------------------------------------------------------------- */

robj *createObject(int type, void *ptr) {
    objectParts p = {.ptr = ptr, .expire = -1};
    return objectNew(type, OBJ_ENCODING_RAW, objectInitialLRU(), &p);
}

robj *createRawStringObject(const char *ptr, size_t len) {
    return createObject(OBJ_STRING, sdsnewlen(ptr, len));
}

robj *tryCreateRawStringObject(const char *ptr, size_t len) {
    sds s = sdstrynewlen(ptr, len);
    return s ? createObject(OBJ_STRING, s) : NULL;
}

robj *createEmbeddedStringObject(const char *ptr, size_t len) {
    objectParts p = {.embed = 1, .val = ptr, .vallen = len, .expire = -1};
    return objectNew(OBJ_STRING, OBJ_ENCODING_EMBSTR, objectInitialLRU(), &p);
}

robj *createStringObject(const char *ptr, size_t len) {
    if (len <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT) return createEmbeddedStringObject(ptr, len);
    return createRawStringObject(ptr, len);
}

robj *createObjectFromSds(sds s) {
    return createObject(OBJ_STRING, s);
}

static robj *createIntObject(long long value) {
    objectParts p = {.ptr = (void *)(long)value, .expire = -1};
    return objectNew(OBJ_STRING, OBJ_ENCODING_INT, objectInitialLRU(), &p);
}

robj *createStringObjectFromLongLong(long long value) {
    if (value >= 0 && value < OBJ_SHARED_INTEGERS) return shared.integers[value];
    return createIntObject(value);
}

robj *createStringObjectFromLongLongForValue(long long value) {
    return createIntObject(value);
}

robj *createStringObjectFromLongDouble(long double value, int humanfriendly) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    int len = ld2string(buf, sizeof(buf), value, humanfriendly ? LD_STR_HUMAN : LD_STR_AUTO);
    return createStringObject(buf, len);
}

robj *dupStringObject(const robj *o) {
    switch (o->encoding) {
    case OBJ_ENCODING_RAW: {
        sds s = objectGetVal(o);
        return createRawStringObject(s, sdslen(s));
    }
    case OBJ_ENCODING_EMBSTR: {
        sds s = objectGetVal(o);
        return createEmbeddedStringObject(s, sdslen(s));
    }
    case OBJ_ENCODING_INT: return createIntObject((long)objectGetVal(o));
    default: serverPanic("Wrong encoding for a string object");
    }
}

robj *objectDup(const robj *o) {
    if (o->type == OBJ_STRING) return dupStringObject(o);
    if (o->type >= OBJ_TYPE_MAX || !dupProcs[o->type]) return NULL;
    robj *copy = dupProcs[o->type](o);
    serverAssert(copy->refcount == 1 && !copy->haskey && !copy->hasexpire);
    return copy;
}

/* ------------------------------------------------------------------------- */
/* Keys and expire                                                             */
/* ------------------------------------------------------------------------- */

static int objectHasKey(const robj *o, const char *key, size_t keylen) {
    sds k = objectGetKey(o);
    return k && sdslen(k) == keylen && memcmp(k, key, keylen) == 0;
}

robj *objectSetKeyAndExpire(robj *val, sds key, long long expire) {
    size_t keylen = sdslen(key);
    if (val->haskey && (key == objectGetKey(val) || objectHasKey(val, key, keylen)))
        return objectSetExpire(val, expire);

    if (val->refcount == 1) {
        objectNotifyChange(val); /* the object moves */
        objectParts p = objectCurrentParts(val);
        p.key = key;
        p.keylen = keylen;
        p.expire = expire;
        if (!val->hasembval) {
            /* The value is a pointer: grow or shrink in place, then rewrite the parts. */
            val = zrealloc(val, objectPartsSize(&p));
            objectWriteParts(val, &p);
            return val;
        }
        /* Embedded value: its bytes sit after the key, so build the new object. */
        robj *o = objectNew(val->type, val->encoding, val->lru, &p);
        zfree(val);
        return o;
    }

    /* Shared, or referenced elsewhere: store a copy of the value. The copy is created
     * now, and so is its access time (a shared integer's clock is from startup). */
    robj *copy = objectDup(val);
    if (!copy) serverPanic("objectSetKeyAndExpire: no dup proc for type %d", val->type);
    decrRefCount(val);
    return objectSetKeyAndExpire(copy, key, expire);
}

/* A packed entry has no room for an expire: it is rebuilt in the general layout. */
static robj *objectUnpackWithExpire(robj *o, long long expire) {
    objectParts p = objectCurrentParts(o);
    p.expire = expire;
    robj *n = objectNew(o->type, o->encoding, o->lru, &p);
    n->cold = 1;
    zfree(o); /* not decrRefCount: the flash record now belongs to n */
    return n;
}

robj *objectSetExpire(robj *o, long long expire) {
    if (o->packed) return expire == -1 ? o : objectUnpackWithExpire(o, expire);
    if (o->hasexpire) {
        if (expire != -1) {
            *objectExpireSlot(o) = expire;
            return o;
        }
    } else if (expire == -1) {
        return o;
    }
    objectNotifyChange(o); /* reallocated below: the object moves */
    size_t used = objectUsedSize(o);
    size_t at = (size_t)((unsigned char *)objectExpireSlot(o) - (unsigned char *)o);
    if (expire != -1) {
        /* Open an 8-byte gap for the expire time; the embedded parts move up. */
        o = zrealloc(o, used + OBJ_PART_EXPIRE_SIZE);
        unsigned char *base = (unsigned char *)o;
        memmove(base + at + OBJ_PART_EXPIRE_SIZE, base + at, used - at);
        memcpy(base + at, &expire, OBJ_PART_EXPIRE_SIZE);
        o->hasexpire = 1;
    } else {
        unsigned char *base = (unsigned char *)o;
        memmove(base + at, base + at + OBJ_PART_EXPIRE_SIZE, used - at - OBJ_PART_EXPIRE_SIZE);
        o->hasexpire = 0;
        o = zrealloc(o, used - OBJ_PART_EXPIRE_SIZE);
    }
    return o;
}

robj *objectUnshareStringValue(robj *o) {
    serverAssert(o->type == OBJ_STRING);
    objectNotifyChange(o); /* about to be written to */
    if (o->refcount == 1 && o->encoding == OBJ_ENCODING_RAW) return o;
    sds s;
    if (o->encoding == OBJ_ENCODING_INT) {
        s = sdsfromlonglong((long)objectGetVal(o));
    } else {
        sds cur = objectGetVal(o);
        s = sdsnewlen(cur, sdslen(cur));
    }
    if (o->refcount == 1 && !o->hasembval) { /* INT: the pointer slot takes the sds */
        o->encoding = OBJ_ENCODING_RAW;
        objectSetVal(o, s);
        return o;
    }
    objectParts p = objectCurrentParts(o);
    p.embed = 0;
    p.ptr = s;
    robj *n = objectNew(OBJ_STRING, OBJ_ENCODING_RAW, o->lru, &p);
    decrRefCount(o);
    return n;
}

/* ------------------------------------------------------------------------- */
/* Reference counting                                                          */
/* ------------------------------------------------------------------------- */

void objectRegisterFreeProc(int type, objectFreeProc proc) {
    serverAssert(type >= 0 && type < OBJ_TYPE_MAX);
    freeProcs[type] = proc;
}

void objectRegisterDupProc(int type, objectDupProc proc) {
    serverAssert(type >= 0 && type < OBJ_TYPE_MAX);
    dupProcs[type] = proc;
}

void objectRegisterSizeProc(int type, objectSizeProc proc) {
    serverAssert(type >= 0 && type < OBJ_TYPE_MAX);
    sizeProcs[type] = proc;
}

static void objectFreeValue(robj *o) {
    if (o->cold) {
        if (tier_cold_free_proc) tier_cold_free_proc(o);
        return;
    }
    if (o->tiered) objectNotifyChange(o);
    if (o->type == OBJ_STRING) {
        if (o->encoding == OBJ_ENCODING_RAW) sdsfree(objectGetVal(o));
        return;
    }
    if (o->type < OBJ_TYPE_MAX && freeProcs[o->type]) {
        freeProcs[o->type](o);
        return;
    }
    serverPanic("Unknown object type %d", o->type);
}

void incrRefCount(robj *o) {
    if (o->refcount == OBJ_SHARED_REFCOUNT) return;
    serverAssert(o->refcount < OBJ_REFCOUNT_MAX);
    o->refcount++;
}

void decrRefCount(robj *o) {
    if (o->refcount == 1) {
        objectFreeValue(o);
        zfree(o);
    } else if (o->refcount == OBJ_SHARED_REFCOUNT) {
        return;
    } else {
        if (o->refcount == 0) serverPanic("decrRefCount against refcount <= 0");
        o->refcount--;
    }
}

void decrRefCountVoid(void *o) {
    decrRefCount(o);
}

robj *makeObjectShared(robj *o) {
    serverAssert(o->refcount == 1);
    o->refcount = OBJ_SHARED_REFCOUNT;
    return o;
}

/* ------------------------------------------------------------------------- */
/* Strings                                                                     */
/* ------------------------------------------------------------------------- */

int sdsEncodedObject(const robj *o) {
    return o->encoding == OBJ_ENCODING_RAW || o->encoding == OBJ_ENCODING_EMBSTR;
}

size_t stringObjectLen(const robj *o) {
    serverAssert(o->type == OBJ_STRING);
    if (sdsEncodedObject(o)) return sdslen(objectGetVal(o));
    return sdigits10((long)objectGetVal(o));
}

const char *stringObjectBytes(const robj *o, char *buf, size_t *len) {
    if (o->encoding == OBJ_ENCODING_INT) {
        *len = (size_t)ll2string(buf, LONG_STR_SIZE, (long)objectGetVal(o));
        return buf;
    }
    sds s = objectGetVal(o);
    *len = sdslen(s);
    return s;
}

int stringObjectEqualsIgnoreCase(const robj *o, const char *s) {
    char buf[LONG_STR_SIZE];
    size_t len;
    const char *p = stringObjectBytes(o, buf, &len);
    return len == strlen(s) && strncasecmp(p, s, len) == 0;
}

int objectSharedIntegersAllowed(void) {
    return server.maxmemory == 0 || !(server.maxmemory_policy & MAXMEMORY_FLAG_NO_SHARED_INTEGERS);
}

/* Rebuilds o (refcount 1) with a new encoding of its value, keeping key and expire. */
static robj *objectReencode(robj *o, int encoding, const objectParts *value) {
    objectParts p = objectCurrentParts(o);
    p.embed = value->embed;
    p.ptr = value->ptr;
    p.val = value->val;
    p.vallen = value->vallen;
    robj *n = objectNew(o->type, encoding, o->lru, &p);
    decrRefCount(o);
    return n;
}

robj *tryObjectEncoding(robj *o) {
    if (o->type != OBJ_STRING || !sdsEncodedObject(o)) return o;
    /* Someone else holds it (a shared object, or argv kept by MULTI): leave it alone. */
    if (o->refcount > 1) return o;

    sds s = objectGetVal(o);
    size_t len = sdslen(s);
    long long value;
    if (len <= LONG_STR_SIZE - 1 && string2ll(s, len, &value)) {
        if (!o->haskey && value >= 0 && value < OBJ_SHARED_INTEGERS && objectSharedIntegersAllowed()) {
            decrRefCount(o);
            return shared.integers[value];
        }
        if (o->encoding == OBJ_ENCODING_RAW) {
            sdsfree(s);
            o->encoding = OBJ_ENCODING_INT;
            objectSetVal(o, (void *)(long)value);
            return o;
        }
        objectParts v = {.ptr = (void *)(long)value};
        return objectReencode(o, OBJ_ENCODING_INT, &v);
    }
    if (o->encoding == OBJ_ENCODING_EMBSTR) return o;
    if (len <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT) {
        objectParts v = {.embed = 1, .val = s, .vallen = len};
        return objectReencode(o, OBJ_ENCODING_EMBSTR, &v);
    }
    return trimStringObjectIfNeeded(o, 0);
}

robj *trimStringObjectIfNeeded(robj *o, int trim_small_values) {
    (void)trim_small_values; /* we always trim: slack in a stored string is pure waste */
    if (o->encoding != OBJ_ENCODING_RAW) return o;
    sds s = objectGetVal(o);
    if (sdsavail(s) > sdslen(s) / 10) objectSetVal(o, sdsRemoveFreeSpace(s, 0));
    return o;
}

robj *getDecodedObject(robj *o) {
    if (sdsEncodedObject(o)) {
        incrRefCount(o);
        return o;
    }
    serverAssert(o->type == OBJ_STRING && o->encoding == OBJ_ENCODING_INT);
    char buf[LONG_STR_SIZE];
    int len = ll2string(buf, sizeof(buf), (long)objectGetVal(o));
    return createStringObject(buf, len);
}

static int compareStringObjectsWithFlags(const robj *a, const robj *b, int flags) {
    if (a == b) return 0;
    char bufa[LONG_STR_SIZE], bufb[LONG_STR_SIZE];
    size_t alen, blen;
    const char *astr = stringObjectBytes(a, bufa, &alen);
    const char *bstr = stringObjectBytes(b, bufb, &blen);
    if (flags & REDIS_COMPARE_COLL) return strcoll(astr, bstr);
    int cmp = memcmp(astr, bstr, alen < blen ? alen : blen);
    if (cmp) return cmp;
    return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

int compareStringObjects(const robj *a, const robj *b) {
    return compareStringObjectsWithFlags(a, b, REDIS_COMPARE_BINARY);
}

int collateStringObjects(const robj *a, const robj *b) {
    return compareStringObjectsWithFlags(a, b, REDIS_COMPARE_COLL);
}

int equalStringObjects(robj *a, robj *b) {
    if (a->encoding == OBJ_ENCODING_INT && b->encoding == OBJ_ENCODING_INT)
        return objectGetVal(a) == objectGetVal(b);
    return compareStringObjects(a, b) == 0;
}

int isSdsRepresentableAsLongLong(sds s, long long *llval) {
    return string2ll(s, sdslen(s), llval) ? 0 : -1;
}

int isObjectRepresentableAsLongLong(robj *o, long long *llval) {
    serverAssert(o->type == OBJ_STRING);
    if (o->encoding == OBJ_ENCODING_INT) {
        if (llval) *llval = (long)objectGetVal(o);
        return 0;
    }
    long long v;
    if (isSdsRepresentableAsLongLong(objectGetVal(o), &v) != 0) return -1;
    if (llval) *llval = v;
    return 0;
}

int getLongLongFromObject(const robj *o, long long *target) {
    long long value = 0;
    if (o) {
        serverAssert(o->type == OBJ_STRING);
        if (sdsEncodedObject(o)) {
            sds s = objectGetVal(o);
            if (!string2ll(s, sdslen(s), &value)) return -1;
        } else {
            value = (long)objectGetVal(o);
        }
    }
    if (target) *target = value;
    return 0;
}

int getDoubleFromObject(const robj *o, double *target) {
    double value = 0;
    if (o) {
        serverAssert(o->type == OBJ_STRING);
        if (sdsEncodedObject(o)) {
            sds s = objectGetVal(o);
            if (!string2d(s, sdslen(s), &value)) return -1;
        } else {
            value = (long)objectGetVal(o);
        }
    }
    *target = value;
    return 0;
}

int getLongDoubleFromObject(const robj *o, long double *target) {
    long double value = 0;
    if (o) {
        serverAssert(o->type == OBJ_STRING);
        if (sdsEncodedObject(o)) {
            sds s = objectGetVal(o);
            if (!string2ld(s, sdslen(s), &value)) return -1;
        } else {
            value = (long)objectGetVal(o);
        }
    }
    *target = value;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Names and memory                                                            */
/* ------------------------------------------------------------------------- */

const char *strEncoding(int encoding) {
    switch (encoding) {
    case OBJ_ENCODING_RAW: return "raw";
    case OBJ_ENCODING_INT: return "int";
    case OBJ_ENCODING_HT: return "hashtable";
    case OBJ_ENCODING_ZIPMAP: return "zipmap";
    case OBJ_ENCODING_LINKEDLIST: return "linkedlist";
    case OBJ_ENCODING_ZIPLIST: return "ziplist";
    case OBJ_ENCODING_INTSET: return "intset";
    case OBJ_ENCODING_SKIPLIST: return "skiplist";
    case OBJ_ENCODING_EMBSTR: return "embstr";
    case OBJ_ENCODING_QUICKLIST: return "quicklist";
    case OBJ_ENCODING_STREAM: return "stream";
    case OBJ_ENCODING_LISTPACK: return "listpack";
    default: return "unknown";
    }
}

static const char *const typeNames[OBJ_TYPE_MAX] = {
    [OBJ_STRING] = "string", [OBJ_LIST] = "list", [OBJ_SET] = "set", [OBJ_ZSET] = "zset",
    [OBJ_HASH] = "hash", [OBJ_MODULE] = "module", [OBJ_STREAM] = "stream",
};

const char *typeName(int type) {
    if (type < 0 || type >= OBJ_TYPE_MAX) return "none";
    return typeNames[type];
}

int objectTypeByName(const char *name) {
    for (int type = 0; type < OBJ_TYPE_MAX; type++)
        if (!strcasecmp(name, typeNames[type])) return type;
    return -1;
}

size_t objectAllocSize(const robj *o) {
    return zmalloc_usable_size((void *)o);
}

size_t objectComputeSize(robj *key, robj *o, size_t samples, int dbid) {
    (void)key;
    (void)dbid;
    size_t size = objectAllocSize(o);
    if (o->cold) return size; /* the value is on flash: only the entry is in RAM */
    if (o->type == OBJ_STRING) {
        if (o->encoding == OBJ_ENCODING_RAW) size += sdsAllocSize(objectGetVal(o));
    } else if (o->type < OBJ_TYPE_MAX && sizeProcs[o->type]) {
        size += sizeProcs[o->type](o, samples);
    }
    return size;
}

/* ------------------------------------------------------------------------- */
/* LRU / LFU                                                                   */
/* ------------------------------------------------------------------------- */

#define LFU_MINUTES_MASK 65535
#define LFU_COUNTER_MAX 255

unsigned long long estimateObjectIdleTime(const robj *o) {
    unsigned long long now = LRU_CLOCK();
    unsigned long long then = o->lru;
    unsigned long long ticks = now >= then ? now - then : now + (LRU_CLOCK_MAX - then);
    return ticks * LRU_CLOCK_RESOLUTION;
}

unsigned long LFUGetTimeInMinutes(void) {
    return (unsigned long)(server.unixtime / 60) & LFU_MINUTES_MASK;
}

static unsigned long LFUTimeElapsed(unsigned long since) {
    unsigned long now = LFUGetTimeInMinutes();
    return now >= since ? now - since : LFU_MINUTES_MASK - since + now;
}

/* The counter grows with probability 1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1),
 * so it is roughly logarithmic in the number of accesses. */
static unsigned long LFULogIncr(unsigned long counter) {
    if (counter >= LFU_COUNTER_MAX) return LFU_COUNTER_MAX;
    double base = counter > LFU_INIT_VAL ? (double)(counter - LFU_INIT_VAL) : 0;
    double p = 1.0 / (base * server.lfu_log_factor + 1);
    if ((double)random() / RAND_MAX < p) counter++;
    return counter;
}

unsigned long LFUDecrAndReturn(const robj *o) {
    unsigned long since = o->lru >> 8, counter = o->lru & LFU_COUNTER_MAX;
    unsigned long periods = server.lfu_decay_time ? LFUTimeElapsed(since) / server.lfu_decay_time : 0;
    return periods >= counter ? 0 : counter - periods;
}

void objectTouch(robj *o) {
    if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
        unsigned long counter = LFULogIncr(LFUDecrAndReturn(o));
        o->lru = (LFUGetTimeInMinutes() << 8) | counter;
    } else {
        o->lru = LRU_CLOCK();
    }
}

/* ------------------------------------------------------------------------- */
/* Shared objects                                                              */
/* ------------------------------------------------------------------------- */

static robj *sharedString(const char *s) {
    return makeObjectShared(createObject(OBJ_STRING, sdsnew(s)));
}

static robj *sharedFormat(const char *fmt, int n) {
    return makeObjectShared(createObject(OBJ_STRING, sdscatprintf(sdsempty(), fmt, n)));
}

void createSharedObjects(void) {
    shared.crlf = sharedString("\r\n");
    shared.ok = sharedString("+OK\r\n");
    shared.err = sharedString("-ERR\r\n");
    shared.emptybulk = sharedString("$0\r\n\r\n");
    shared.czero = sharedString(":0\r\n");
    shared.cone = sharedString(":1\r\n");
    shared.pong = sharedString("+PONG\r\n");
    shared.space = sharedString(" ");
    shared.queued = sharedString("+QUEUED\r\n");
    shared.emptyarray = sharedString("*0\r\n");
    shared.null[2] = sharedString("$-1\r\n");
    shared.null[3] = sharedString("_\r\n");
    shared.nullarray[2] = sharedString("*-1\r\n");
    shared.nullarray[3] = sharedString("_\r\n");
    shared.emptymap[2] = sharedString("*0\r\n");
    shared.emptymap[3] = sharedString("%0\r\n");
    shared.emptyset[2] = sharedString("*0\r\n");
    shared.emptyset[3] = sharedString("~0\r\n");
    shared.wrongtypeerr = sharedString("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    shared.nokeyerr = sharedString("-ERR no such key\r\n");
    shared.syntaxerr = sharedString("-ERR syntax error\r\n");
    shared.sameobjecterr = sharedString("-ERR source and destination objects are the same\r\n");
    shared.outofrangeerr = sharedString("-ERR index out of range\r\n");
    /* Valkey 8 dropped Redis's "Please use EVAL." from this error. */
    shared.noscripterr = sharedString("-NOSCRIPT No matching script.\r\n");
    shared.loadingerr = sharedString("-LOADING Valkey is loading the dataset in memory\r\n");
    shared.bgsaveerr = sharedString(
        "-MISCONF Valkey is configured to save RDB snapshots, but it's currently unable to persist "
        "to disk. Commands that may modify the data set are disabled, because this instance is "
        "configured to report errors during writes if RDB snapshotting fails "
        "(stop-writes-on-bgsave-error option). Please check the Valkey logs for details about the "
        "RDB error.\r\n");
    shared.execaborterr = sharedString("-EXECABORT Transaction discarded because of previous errors.\r\n");
    shared.noautherr = sharedString("-NOAUTH Authentication required.\r\n");
    shared.busykeyerr = sharedString("-BUSYKEY Target key name already exists.\r\n");
    shared.oomerr = sharedString("-OOM command not allowed when used memory > 'maxmemory'.\r\n");

    shared.del = sharedString("DEL");
    shared.unlink = sharedString("UNLINK");
    shared.set = sharedString("SET");
    shared.pexpireat = sharedString("PEXPIREAT");
    shared.persist = sharedString("PERSIST");
    shared.keepttl = sharedString("KEEPTTL");
    shared.pxat = sharedString("PXAT");

    for (int j = 0; j < OBJ_SHARED_INTEGERS; j++)
        shared.integers[j] = makeObjectShared(createIntObject(j));
    for (int j = 0; j < OBJ_SHARED_BULKHDR_LEN; j++) {
        shared.mbulkhdr[j] = sharedFormat("*%d\r\n", j);
        shared.bulkhdr[j] = sharedFormat("$%d\r\n", j);
        shared.maphdr[j] = sharedFormat("%%%d\r\n", j);
        shared.sethdr[j] = sharedFormat("~%d\r\n", j);
    }
}

/* ------------------------------------------------------------------------- */
/* OBJECT command                                                              */
/* ------------------------------------------------------------------------- */

/* OBJECT reads a key without touching its LRU and without a keyspace miss event. */
static robj *objectCommandLookupOrReply(client *c) {
    robj *o = lookupKeyReadWithFlags(c->db, c->argv[2], LOOKUP_NOTOUCH | LOOKUP_NONOTIFY);
    if (!o) addReplyNull(c);
    return o;
}

void objectEncodingCommand(client *c) {
    robj *o = objectCommandLookupOrReply(c);
    if (o) addReplyBulkCString(c, strEncoding(o->encoding));
}

/* Keyspace objects are never shared here (each holds its key), but Valkey 8 stores small
 * integers as the shared objects and reports their refcount as INT_MAX: so do we. */
void objectRefcountCommand(client *c) {
    robj *o = objectCommandLookupOrReply(c);
    if (!o) return;
    long long refcount = o->refcount;
    if (o->refcount == OBJ_SHARED_REFCOUNT) refcount = OBJ_SHARED_REFCOUNT_REPORTED;
    if (o->type == OBJ_STRING && o->encoding == OBJ_ENCODING_INT && objectSharedIntegersAllowed()) {
        long v = (long)objectGetVal(o);
        if (v >= 0 && v < OBJ_SHARED_INTEGERS) refcount = OBJ_SHARED_REFCOUNT_REPORTED;
    }
    addReplyLongLong(c, refcount);
}

void objectIdletimeCommand(client *c) {
    robj *o = objectCommandLookupOrReply(c);
    if (!o) return;
    if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
        addReplyError(c, "An LFU maxmemory policy is selected, idle time not tracked. Please note that "
                         "when switching between policies at runtime LRU and LFU data will take some "
                         "time to adjust.");
        return;
    }
    addReplyLongLong(c, (long long)(estimateObjectIdleTime(o) / 1000));
}

void objectFreqCommand(client *c) {
    robj *o = objectCommandLookupOrReply(c);
    if (!o) return;
    if (!(server.maxmemory_policy & MAXMEMORY_FLAG_LFU)) {
        addReplyError(c, "An LFU maxmemory policy is not selected, access frequency not tracked. Please "
                         "note that when switching between policies at runtime LRU and LFU data will "
                         "take some time to adjust.");
        return;
    }
    addReplyLongLong(c, (long long)LFUDecrAndReturn(o));
}

void objectHelpCommand(client *c) {
    static const char *help[] = {
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        NULL,
    };
    addReplyHelp(c, help);
}
