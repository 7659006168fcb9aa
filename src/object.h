/* object.h -- the value object (robj): type, encoding, LRU/LFU clock, refcount and value.
 *
 * Layout. Every object starts with an 8-byte header. What follows depends on flags,
 * so small objects pay only for what they use:
 *
 *   [header 8][val pointer 8, unless the value is embedded][expire 8, if hasexpire]
 *   [key: sds, if haskey][value: sds, if hasembval]
 *
 * A keyspace entry *is* its value object with the key embedded (and the expire time,
 * when it has one), so a key of 16 bytes with a 16-byte string value is one 48-byte
 * allocation. Because an embedded value has no pointer, code never reads a pointer
 * field directly: it calls objectGetVal() and objectSetVal().
 *
 * A cold keyspace entry (tiering) whose location fits in 48 bits, with a key shorter
 * than 32 bytes and no expire, is packed: [header 8][location 6][key: sds type 5][NUL],
 * so a 16-byte key costs one 32-byte allocation. Only objectGetKey() and the cold
 * location accessors read a packed entry.
 *
 * Objects that hold a key are owned by the keyspace (refcount 1). Shared objects
 * (shared.* and the shared integers) have refcount OBJ_SHARED_REFCOUNT and are never
 * freed.
 */
#ifndef OBJECT_H
#define OBJECT_H

#include <stddef.h>
#include <stdint.h>
#include "sds.h"

/* Types: the numbering is the one RDB uses for the logical type. */
#define OBJ_STRING 0
#define OBJ_LIST 1
#define OBJ_SET 2
#define OBJ_ZSET 3
#define OBJ_HASH 4
#define OBJ_MODULE 5
#define OBJ_STREAM 6
#define OBJ_TYPE_MAX 7

/* Encodings: numbering follows Valkey's so OBJECT ENCODING and DEBUG OBJECT read alike. */
#define OBJ_ENCODING_RAW 0       /* sds pointer */
#define OBJ_ENCODING_INT 1       /* the long long value lives in the pointer slot */
#define OBJ_ENCODING_HT 2        /* hashtable */
#define OBJ_ENCODING_ZIPMAP 3    /* legacy, load only */
#define OBJ_ENCODING_LINKEDLIST 4 /* legacy, unused */
#define OBJ_ENCODING_ZIPLIST 5   /* legacy, load only */
#define OBJ_ENCODING_INTSET 6
#define OBJ_ENCODING_SKIPLIST 7
#define OBJ_ENCODING_EMBSTR 8    /* sds embedded in the object, read-only */
#define OBJ_ENCODING_QUICKLIST 9
#define OBJ_ENCODING_STREAM 10
#define OBJ_ENCODING_LISTPACK 11

#define LRU_BITS 24
#define LRU_CLOCK_MAX ((1 << LRU_BITS) - 1)
#define LRU_CLOCK_RESOLUTION 1000 /* ms */
#define OBJ_REFCOUNT_BITS 26
#define OBJ_SHARED_REFCOUNT ((1u << OBJ_REFCOUNT_BITS) - 1)
#define OBJ_REFCOUNT_MAX (OBJ_SHARED_REFCOUNT - 1)
#define OBJ_SHARED_INTEGERS 10000
#define OBJ_SHARED_BULKHDR_LEN 32
/* Strings up to this length are embedded in the object (EMBSTR), as in Valkey. */
#define OBJ_ENCODING_EMBSTR_SIZE_LIMIT 44

typedef struct serverObject {
    unsigned type : 4;
    unsigned encoding : 4;
    unsigned lru : LRU_BITS; /* LRU clock, or LFU data (16 bits time, 8 bits counter) */
    unsigned hasexpire : 1;
    unsigned haskey : 1;
    unsigned hasembval : 1;
    unsigned cold : 1;   /* the value lives on flash: the pointer slot holds its location */
    unsigned tiered : 1; /* tiering keeps state about this hot object (see objectNotifyChange) */
    unsigned packed : 1; /* a cold entry in the packed layout (see above) */
    unsigned refcount : OBJ_REFCOUNT_BITS;
    /* Optional parts follow, see the layout above. */
} robj;

/* Reading and writing the value. These are offset computations from the flags, inline
 * because every command runs them. Each embedded sds (key, value) is preceded by one
 * byte holding the size of its sds header, so the string is found without parsing the
 * header: [hdrlen][sds header][bytes][NUL]. */
#define OBJ_PART_PTR_SIZE sizeof(void *)
#define OBJ_PART_EXPIRE_SIZE sizeof(long long)
#define OBJ_PACKED_LOC_SIZE 6 /* bytes of a packed cold entry's location */
#define OBJ_PACKED_LOC_LIMIT (1ULL << (8 * OBJ_PACKED_LOC_SIZE))

static inline unsigned char *objectOptionalParts(const robj *o) {
    return (unsigned char *)(o + 1);
}
static inline long long *objectExpireSlot(const robj *o) {
    return (long long *)(objectOptionalParts(o) + (o->hasembval ? 0 : OBJ_PART_PTR_SIZE));
}
/* Start of the embedded key (its header-size byte), or of the embedded value when there
 * is no key. */
static inline unsigned char *objectEmbeddedParts(const robj *o) {
    return (unsigned char *)objectExpireSlot(o) + (o->hasexpire ? OBJ_PART_EXPIRE_SIZE : 0);
}
static inline sds objectEmbeddedSdsAt(const unsigned char *p) {
    return (sds)(p + 1 + p[0]);
}
static inline sds objectGetKey(const robj *o) { /* NULL when the object holds no key */
    /* A packed entry's key has no header-size byte: its sds header is one byte (type 5). */
    if (o->packed) return (sds)(objectOptionalParts(o) + OBJ_PACKED_LOC_SIZE + 1);
    return o->haskey ? objectEmbeddedSdsAt(objectEmbeddedParts(o)) : NULL;
}
static inline void *objectGetVal(const robj *o) {
    if (!o->hasembval) return *(void *const *)objectOptionalParts(o);
    const unsigned char *p = objectEmbeddedParts(o);
    if (o->haskey) {
        sds key = objectEmbeddedSdsAt(p);
        p = (const unsigned char *)key + sdslen(key) + 1;
    }
    return objectEmbeddedSdsAt(p);
}
static inline void objectSetVal(robj *o, void *val) { /* not for embedded values */
    *(void **)objectOptionalParts(o) = val;
}
static inline long long objectGetExpire(const robj *o) { /* -1 when none */
    return o->hasexpire ? *objectExpireSlot(o) : -1;
}

/* Creation. */
robj *createObject(int type, void *ptr);
robj *createStringObject(const char *ptr, size_t len);
robj *createRawStringObject(const char *ptr, size_t len);
robj *createEmbeddedStringObject(const char *ptr, size_t len);
robj *tryCreateRawStringObject(const char *ptr, size_t len);
robj *createStringObjectFromLongLong(long long value);
robj *createStringObjectFromLongLongForValue(long long value); /* never shared: safe to store with LRU */
robj *createStringObjectFromLongDouble(long double value, int humanfriendly);
robj *createObjectFromSds(sds s); /* takes ownership of s */
robj *dupStringObject(const robj *o);
robj *tryObjectEncoding(robj *o); /* may return a different object; consumes o */
robj *getDecodedObject(robj *o);  /* new reference, RAW/EMBSTR encoded */

/* Attaching a key and expire turns a value into a keyspace entry. The object passed in
 * is consumed; the returned one may be a different allocation (reallocated or copied). */
robj *objectSetKeyAndExpire(robj *val, sds key, long long expire);
/* Changes the stored expire (-1 removes it). May reallocate: returns the new object. */
robj *objectSetExpire(robj *o, long long expire);
/* Unshares a string value so it can be modified in place (RAW encoding). May reallocate. */
robj *objectUnshareStringValue(robj *o);

/* Reference counting. */
void incrRefCount(robj *o);
void decrRefCount(robj *o);
void decrRefCountVoid(void *o);
robj *makeObjectShared(robj *o);

/* Strings. */
size_t stringObjectLen(const robj *o);
/* The bytes of a string object; INT-encoded values are printed into buf, which must
 * hold LONG_STR_SIZE (util.h) bytes. */
const char *stringObjectBytes(const robj *o, char *buf, size_t *len);
/* Case-insensitive equality with a C string: option parsing of command arguments. */
int stringObjectEqualsIgnoreCase(const robj *o, const char *s);
int sdsEncodedObject(const robj *o);
int equalStringObjects(robj *a, robj *b);
int compareStringObjects(const robj *a, const robj *b);
int collateStringObjects(const robj *a, const robj *b);
#define REDIS_COMPARE_BINARY (1 << 0)
#define REDIS_COMPARE_COLL (1 << 1)
int getLongLongFromObject(const robj *o, long long *target);   /* 0 ok, -1 err */
int getDoubleFromObject(const robj *o, double *target);
int getLongDoubleFromObject(const robj *o, long double *target);
int isSdsRepresentableAsLongLong(sds s, long long *llval);
int isObjectRepresentableAsLongLong(robj *o, long long *llval);
robj *trimStringObjectIfNeeded(robj *o, int trim_small_values);

/* Names and memory. */
const char *strEncoding(int encoding);
const char *typeName(int type);
size_t objectComputeSize(robj *key, robj *o, size_t samples, int dbid);
size_t objectAllocSize(const robj *o); /* bytes of the object allocation itself */

/* Freeing collection payloads is registered by the type files so object.c does not
 * depend on every type: each type sets its destructor at startup. The proc frees what
 * objectGetVal(o) points to, not the object itself. */
typedef void (*objectFreeProc)(robj *o);
void objectRegisterFreeProc(int type, objectFreeProc proc);
/* Duplicating a value (COPY, and storing a value that is referenced elsewhere): the proc
 * returns a new object (refcount 1, no key, no expire) holding a deep copy of the value.
 * Strings are handled by object.c itself. */
typedef robj *(*objectDupProc)(const robj *o);
void objectRegisterDupProc(int type, objectDupProc proc);
robj *objectDup(const robj *o); /* NULL when the type has no dup proc */
/* Memory of a collection payload for MEMORY USAGE: samples elements (0 = all). */
typedef size_t (*objectSizeProc)(const robj *o, size_t samples);
void objectRegisterSizeProc(int type, objectSizeProc proc);

/* Tiering. A cold object keeps its type, logical encoding, LRU/LFU, expire and key; its
 * pointer slot holds an opaque 64-bit flash location instead of the value, so nothing but
 * the tier may read its value. Hot objects flagged `tiered` have state in the tier (a
 * demotion in flight, or a clean copy on flash) that a change of the value, a move of
 * the object or its release must drop: object.c and db.c call objectNotifyChange() on
 * those paths. The tier registers the two procs at start-up. */
typedef void (*objectTierProc)(robj *o);
void objectRegisterTierProcs(objectTierProc cold_free, objectTierProc forget);
static inline int objectIsCold(const robj *o) {
    return o->cold;
}
uint64_t objectColdLocation(const robj *o);
/* A packed entry keeps its layout: loc must then be below OBJ_PACKED_LOC_LIMIT, as the
 * store guarantees for a record moved by compaction (tier/flash_store.h). */
void objectSetColdLocation(robj *o, uint64_t loc);
void objectNotifyChange(robj *o); /* the value, or the object's address, is about to change */
/* A new keyspace entry like o (type, encoding, LRU, expire, key) whose value is at loc on
 * flash, packed when it can be. o itself is left untouched (the caller frees it). */
robj *objectCreateCold(const robj *o, uint64_t loc);

/* Eviction policy bits of server.maxmemory_policy, numbered as in Valkey. LRU/LFU data in
 * robj->lru depends on them, and shared integers are not stored with LRU/LFU policies. */
#ifndef MAXMEMORY_FLAG_LRU
#define MAXMEMORY_FLAG_LRU (1 << 0)
#define MAXMEMORY_FLAG_LFU (1 << 1)
#define MAXMEMORY_FLAG_ALLKEYS (1 << 2)
#define MAXMEMORY_FLAG_NO_SHARED_INTEGERS (MAXMEMORY_FLAG_LRU | MAXMEMORY_FLAG_LFU)
#define MAXMEMORY_VOLATILE_LRU ((0 << 8) | MAXMEMORY_FLAG_LRU)
#define MAXMEMORY_VOLATILE_LFU ((1 << 8) | MAXMEMORY_FLAG_LFU)
#define MAXMEMORY_VOLATILE_TTL (2 << 8)
#define MAXMEMORY_VOLATILE_RANDOM (3 << 8)
#define MAXMEMORY_ALLKEYS_LRU ((4 << 8) | MAXMEMORY_FLAG_LRU | MAXMEMORY_FLAG_ALLKEYS)
#define MAXMEMORY_ALLKEYS_LFU ((5 << 8) | MAXMEMORY_FLAG_LFU | MAXMEMORY_FLAG_ALLKEYS)
#define MAXMEMORY_ALLKEYS_RANDOM ((6 << 8) | MAXMEMORY_FLAG_ALLKEYS)
#define MAXMEMORY_NO_EVICTION (7 << 8)
#endif

/* LRU / LFU. With an LFU policy robj->lru holds 16 bits of minutes (last decrement time)
 * and an 8-bit logarithmic access counter; otherwise the LRU clock of the last access. */
#define LFU_INIT_VAL 5
unsigned long long estimateObjectIdleTime(const robj *o); /* milliseconds */
unsigned long LFUGetTimeInMinutes(void);
unsigned long LFUDecrAndReturn(const robj *o);
void objectTouch(robj *o); /* records an access: LRU clock or LFU counter */
int objectSharedIntegersAllowed(void); /* no maxmemory, or a policy without LRU/LFU */
int objectTypeByName(const char *name); /* -1 when unknown */

/* Shared objects: replies used often, and integers 0..OBJ_SHARED_INTEGERS-1. */
struct sharedObjectsStruct {
    /* Replies. RESP-dependent nulls are indexed by protocol version (2 or 3). */
    robj *crlf, *ok, *err, *emptybulk, *czero, *cone, *pong, *space, *queued, *null[4], *nullarray[4],
        *emptymap[4], *emptyset[4], *emptyarray, *wrongtypeerr, *nokeyerr, *syntaxerr, *sameobjecterr,
        *outofrangeerr, *noscripterr, *loadingerr, *bgsaveerr, *execaborterr, *noautherr, *busykeyerr, *oomerr;
    /* Command names used when rewriting commands for propagation. */
    robj *del, *unlink, *set, *pexpireat, *persist, *keepttl, *pxat;
    robj *integers[OBJ_SHARED_INTEGERS];
    robj *mbulkhdr[OBJ_SHARED_BULKHDR_LEN]; /* "*<n>\r\n" */
    robj *bulkhdr[OBJ_SHARED_BULKHDR_LEN];  /* "$<n>\r\n" */
    robj *maphdr[OBJ_SHARED_BULKHDR_LEN];   /* "%<n>\r\n" */
    robj *sethdr[OBJ_SHARED_BULKHDR_LEN];   /* "~<n>\r\n" */
};
extern struct sharedObjectsStruct shared;
void createSharedObjects(void);

#endif
