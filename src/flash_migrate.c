/* flash_migrate.c -- RDB loaders for the module types of valkey-flash, so that an RDB
 * saved by Valkey with that module loads here as native values (one restart moves an
 * operator over; see "Migrating from valkey-flash" in TIERING.md).
 *
 * The four types are flashstr1, flashhsh1, flashlst1 and flashzst1, module encoding
 * version 1. A value is an RDB_TYPE_MODULE_2 whose payload is a run of module items,
 * each an opcode (RDB_MODULE_OPCODE_*) then its value; rdb.c reads the module id
 * before and the EOF opcode after. The items, as valkey-flash 1.x writes them:
 *   UINT   encoding version (1)
 *   UINT   shape tag: 1 string, 2 hash, 3 list, 4 zset
 *   UINT   ttl: an int64 in two's complement (the module API saves signed numbers as
 *          unsigned ones; a SINT opcode is accepted too): -1 for none, otherwise the
 *          absolute expire time in Unix milliseconds (the module derives it from
 *          EX/PX/EXAT/PXAT and replays it as PXAT / PEXPIREAT in its AOF rewrite)
 *   string STRING value
 *   hash   STRING blob [u32 n]([u32 flen][field][u32 vlen][value])*, little-endian
 *   list   UINT count, then count STRING elements; early builds wrote one STRING
 *          blob [u32 n]([u32 len][element])* instead, and both are read
 *   zset   UINT count, then count (DOUBLE score, STRING member); early builds wrote
 *          one STRING blob [u32 n]([f64 score][u32 len][member])*, read too
 *
 * The values are built through the type layer (t_hash / t_list / t_zset), so each
 * gets the encoding its size calls for under the *-max-listpack-* settings, exactly
 * as a native value loaded from an RDB. The ttl becomes the key's expire by being set
 * on the returned object; when the file also has an expire opcode before the key
 * (Valkey writes one, as the module sets the native TTL too), that one wins, since a
 * native EXPIRE may have changed it after the module stored its copy. (A native
 * PERSIST leaves no opcode and a stale ttl, which is then applied: the two cannot be
 * told apart from a file that only has the ttl.) A key whose expire has passed is
 * dropped by rdb.c like any expired key.
 *
 * An empty collection (the module writes one when it cannot read a cold value back)
 * is skipped like an empty native one. Anything else malformed fails the load with a
 * message naming the type, the key and the fault.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "flash_migrate.h"
#include "hashtable.h"
#include "object.h"
#include "quicklist.h"
#include "rdb.h"
#include "rio.h"
#include "sds.h"
#include "server.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_zset.h"
#include "zmalloc.h"

#define FLASH_ENCODING_VERSION 1
#define FLASH_TTL_NONE (-1LL)
#define FLASH_SHAPE_STRING 1
#define FLASH_SHAPE_HASH 2
#define FLASH_SHAPE_LIST 3
#define FLASH_SHAPE_ZSET 4

/* The smallest stream footprint of one list element (opcode + empty string) and one
 * zset pair (opcode + 8-byte double + opcode + empty string): counts are checked
 * against what the stream can still hold. */
#define FLASH_MIN_LIST_ITEM_BYTES 2
#define FLASH_MIN_ZSET_ITEM_BYTES 11
/* In the blobs: [u32 n] header, [u32 len] per string, [f64] per score. */
#define FLASH_BLOB_U32 4
#define FLASH_BLOB_F64 8

/* One value being loaded: where from, and what for the messages. */
typedef struct flashLoad {
    rio *r;
    const char *type;
    sds key;
} flashLoad;

static void flashCorrupt(const flashLoad *fl, const char *fault) {
    rdbReportCorruption("Bad %s value (valkey-flash) of key '%s': %s", fl->type, fl->key, fault);
}

/* ---- Module items ---- */

static int readOpcode(flashLoad *fl, uint64_t *opcode) {
    return (*opcode = rdbLoadLen(fl->r, NULL)) == RDB_LENERR ? -1 : 0;
}

static int checkOpcode(flashLoad *fl, uint64_t opcode, uint64_t want, const char *what) {
    if (opcode == want || (want == RDB_MODULE_OPCODE_UINT && opcode == RDB_MODULE_OPCODE_SINT)) return 0;
    char fault[96];
    snprintf(fault, sizeof(fault), "module opcode %llu where %s was expected", (unsigned long long)opcode, what);
    flashCorrupt(fl, fault);
    return -1;
}

static int expectOpcode(flashLoad *fl, uint64_t want, const char *what) {
    uint64_t opcode;
    if (readOpcode(fl, &opcode) == -1) return -1;
    return checkOpcode(fl, opcode, want, what);
}

/* The value of a UINT item whose opcode was already read. Read by reference: the
 * two's complement of -1 is the value rdbLoadLen() uses for errors. */
static int readUnsignedValue(flashLoad *fl, uint64_t *value) {
    int encoded = 0;
    if (rdbLoadLenByRef(fl->r, &encoded, value) == -1) return -1;
    if (encoded) {
        flashCorrupt(fl, "string encoding where a number was expected");
        return -1;
    }
    return 0;
}

static int readUnsigned(flashLoad *fl, uint64_t *value, const char *what) {
    if (expectOpcode(fl, RDB_MODULE_OPCODE_UINT, what) == -1) return -1;
    return readUnsignedValue(fl, value);
}

/* A STRING item as a zmalloc'ed buffer (the caller frees it), NULL on error. */
static unsigned char *readBuffer(flashLoad *fl, size_t *len, const char *what) {
    if (expectOpcode(fl, RDB_MODULE_OPCODE_STRING, what) == -1) return NULL;
    return rdbGenericLoadStringObject(fl->r, RDB_LOAD_PLAIN, len);
}

/* Encoding version, shape tag and ttl, common to the four types. */
static int readHeader(flashLoad *fl, int encver, uint64_t shape, long long *ttl) {
    uint64_t version, tag, raw_ttl;
    char fault[96];
    if (encver != FLASH_ENCODING_VERSION) {
        snprintf(fault, sizeof(fault), "unsupported module encoding version %d", encver);
        flashCorrupt(fl, fault);
        return -1;
    }
    if (readUnsigned(fl, &version, "the encoding version") == -1 || readUnsigned(fl, &tag, "the shape tag") == -1 ||
        readUnsigned(fl, &raw_ttl, "the ttl") == -1)
        return -1;
    if (version > FLASH_ENCODING_VERSION) {
        snprintf(fault, sizeof(fault), "unsupported encoding version %llu", (unsigned long long)version);
        flashCorrupt(fl, fault);
        return -1;
    }
    if (tag != shape) {
        snprintf(fault, sizeof(fault), "shape tag %llu, expected %llu", (unsigned long long)tag,
                 (unsigned long long)shape);
        flashCorrupt(fl, fault);
        return -1;
    }
    int64_t signed_ttl;
    memcpy(&signed_ttl, &raw_ttl, sizeof(signed_ttl));
    if (signed_ttl < FLASH_TTL_NONE) {
        flashCorrupt(fl, "negative ttl");
        return -1;
    }
    *ttl = signed_ttl;
    return 0;
}

/* A count read from the stream must fit in what is left of it. */
static int countPlausible(flashLoad *fl, uint64_t count, uint64_t min_item_bytes) {
    off_t left = rioRemaining(fl->r);
    if (left < 0 || count <= (uint64_t)left / min_item_bytes) return 1;
    flashCorrupt(fl, "element count larger than the file");
    return 0;
}

/* The ttl becomes the object's expire; rdb.c keeps it (or drops the key if past). */
static robj *withTtl(robj *o, long long ttl) {
    if (ttl == FLASH_TTL_NONE) return o;
    if (o->refcount != 1) { /* a shared integer: the expire needs an object of its own */
        robj *copy = objectDup(o);
        decrRefCount(o);
        o = copy;
    }
    return objectSetExpire(o, ttl);
}

static robj *loadFailed(robj *o, int *error, int code) {
    if (o) decrRefCount(o);
    *error = code;
    return NULL;
}

/* ---- Blobs: little-endian fields in a buffer ---- */

typedef struct blobCursor {
    const unsigned char *p, *end;
} blobCursor;

static int blobU32(blobCursor *c, uint32_t *v) {
    if (c->end - c->p < FLASH_BLOB_U32) return 0;
    *v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[3] << 24;
    c->p += FLASH_BLOB_U32;
    return 1;
}

static int blobF64(blobCursor *c, double *d) {
    if (c->end - c->p < FLASH_BLOB_F64) return 0;
    uint64_t bits = 0;
    for (int j = FLASH_BLOB_F64 - 1; j >= 0; j--) bits = bits << 8 | c->p[j];
    memcpy(d, &bits, sizeof(*d));
    c->p += FLASH_BLOB_F64;
    return 1;
}

/* A [u32 len][bytes] string. */
static int blobString(blobCursor *c, const unsigned char **s, uint32_t *len) {
    if (!blobU32(c, len) || (size_t)(c->end - c->p) < *len) return 0;
    *s = c->p;
    c->p += *len;
    return 1;
}

/* The [u32 n] header, n checked against the smallest size of n items. */
static int blobCount(flashLoad *fl, blobCursor *c, uint32_t *n, size_t min_item_bytes) {
    if (!blobU32(c, n)) {
        flashCorrupt(fl, "blob shorter than its header");
        return 0;
    }
    if (*n > (size_t)(c->end - c->p) / min_item_bytes) {
        flashCorrupt(fl, "blob too short for its element count");
        return 0;
    }
    return 1;
}

static int blobEnd(flashLoad *fl, blobCursor *c) {
    if (c->p == c->end) return 1;
    flashCorrupt(fl, "trailing bytes after the last element of the blob");
    return 0;
}

/* ---- Strings ---- */

static robj *loadFlashString(rio *r, int encver, sds key, int *error) {
    flashLoad fl = {r, "flashstr1", key};
    long long ttl;
    if (readHeader(&fl, encver, FLASH_SHAPE_STRING, &ttl) == -1 ||
        expectOpcode(&fl, RDB_MODULE_OPCODE_STRING, "the string value") == -1)
        return loadFailed(NULL, error, RDB_LOAD_ERR_OTHER);
    robj *o = rdbGenericLoadStringObject(r, RDB_LOAD_ENC, NULL);
    if (!o) return loadFailed(NULL, error, RDB_LOAD_ERR_OTHER);
    return withTtl(tryObjectEncoding(o), ttl);
}

/* ---- Hashes ---- */

static robj *hashFromBlob(flashLoad *fl, const unsigned char *blob, size_t len, int *error) {
    blobCursor c = {blob, blob + len};
    uint32_t n;
    if (!blobCount(fl, &c, &n, 2 * FLASH_BLOB_U32)) return loadFailed(NULL, error, RDB_LOAD_ERR_OTHER);
    if (n == 0) return blobEnd(fl, &c) ? loadFailed(NULL, error, RDB_LOAD_ERR_EMPTY_KEY)
                                       : loadFailed(NULL, error, RDB_LOAD_ERR_OTHER);
    robj *o = createHashObject();
    hashTypeReserve(o, n);
    sds field = sdsempty(); /* reused: hashTypeSet copies the field */
    const char *fault = NULL;
    for (uint32_t i = 0; i < n && !fault; i++) {
        const unsigned char *f, *v;
        uint32_t flen, vlen;
        if (!blobString(&c, &f, &flen) || !blobString(&c, &v, &vlen)) {
            fault = "hash blob truncated";
            break;
        }
        field = sdscpylen(field, (const char *)f, flen);
        if (hashTypeSet(o, field, (const char *)v, vlen)) fault = "duplicate hash field";
    }
    sdsfree(field);
    if (fault) flashCorrupt(fl, fault);
    if (fault || !blobEnd(fl, &c)) return loadFailed(o, error, RDB_LOAD_ERR_OTHER);
    return o;
}

static robj *loadFlashHash(rio *r, int encver, sds key, int *error) {
    flashLoad fl = {r, "flashhsh1", key};
    long long ttl;
    size_t len;
    unsigned char *blob;
    if (readHeader(&fl, encver, FLASH_SHAPE_HASH, &ttl) == -1 || !(blob = readBuffer(&fl, &len, "the hash blob")))
        return loadFailed(NULL, error, RDB_LOAD_ERR_OTHER);
    robj *o = hashFromBlob(&fl, blob, len, error);
    zfree(blob);
    return o ? withTtl(o, ttl) : NULL;
}

/* ---- Lists ---- */

static int listItemsFromStream(flashLoad *fl, quicklist *ql) {
    uint64_t count;
    if (readUnsignedValue(fl, &count) == -1 || !countPlausible(fl, count, FLASH_MIN_LIST_ITEM_BYTES)) return -1;
    while (count--) {
        size_t len;
        unsigned char *ele = readBuffer(fl, &len, "a list element");
        if (!ele) return -1;
        quicklistPushTail(ql, ele, len);
        zfree(ele);
    }
    return 0;
}

static int listItemsFromBlob(flashLoad *fl, quicklist *ql) {
    size_t len;
    unsigned char *blob = rdbGenericLoadStringObject(fl->r, RDB_LOAD_PLAIN, &len);
    if (!blob) return -1;
    blobCursor c = {blob, blob + len};
    uint32_t n;
    int ok = blobCount(fl, &c, &n, FLASH_BLOB_U32);
    for (uint32_t i = 0; ok && i < n; i++) {
        const unsigned char *ele;
        uint32_t elen;
        if (!blobString(&c, &ele, &elen)) {
            flashCorrupt(fl, "list blob truncated");
            ok = 0;
        } else {
            quicklistPushTail(ql, (void *)ele, elen);
        }
    }
    ok = ok && blobEnd(fl, &c);
    zfree(blob);
    return ok ? 0 : -1;
}

static robj *loadFlashList(rio *r, int encver, sds key, int *error) {
    flashLoad fl = {r, "flashlst1", key};
    long long ttl;
    uint64_t opcode;
    if (readHeader(&fl, encver, FLASH_SHAPE_LIST, &ttl) == -1 || readOpcode(&fl, &opcode) == -1)
        return loadFailed(NULL, error, RDB_LOAD_ERR_OTHER);
    robj *o = createQuicklistObject(list_max_listpack_size, list_compress_depth);
    int rc;
    if (opcode == RDB_MODULE_OPCODE_STRING) rc = listItemsFromBlob(&fl, objectGetVal(o));
    else if ((rc = checkOpcode(&fl, opcode, RDB_MODULE_OPCODE_UINT, "the element count")) == 0)
        rc = listItemsFromStream(&fl, objectGetVal(o));
    if (rc == -1) return loadFailed(o, error, RDB_LOAD_ERR_OTHER);
    if (listTypeLength(o) == 0) return loadFailed(o, error, RDB_LOAD_ERR_EMPTY_KEY);
    listTypeTryConversion(o, LIST_CONV_AUTO);
    return withTtl(o, ttl);
}

/* ---- Sorted sets ---- */

typedef struct zsetBuild {
    robj *o;
    size_t maxelelen, totelelen;
} zsetBuild;

static int zsetBuildAdd(flashLoad *fl, zsetBuild *zb, double score, sds ele) {
    if (isnan(score)) {
        flashCorrupt(fl, "NaN score");
        return -1;
    }
    int out = 0;
    zsetAdd(zb->o, score, ele, ZADD_IN_NX, &out, NULL);
    if (!(out & ZADD_OUT_ADDED)) {
        flashCorrupt(fl, "duplicate zset member");
        return -1;
    }
    if (sdslen(ele) > zb->maxelelen) zb->maxelelen = sdslen(ele);
    zb->totelelen += sdslen(ele);
    return 0;
}

static int zsetItemsFromStream(flashLoad *fl, zsetBuild *zb) {
    uint64_t count;
    if (readUnsignedValue(fl, &count) == -1 || !countPlausible(fl, count, FLASH_MIN_ZSET_ITEM_BYTES)) return -1;
    if (count) hashtableExpand(((zset *)objectGetVal(zb->o))->ht, count);
    while (count--) {
        double score;
        if (expectOpcode(fl, RDB_MODULE_OPCODE_DOUBLE, "a score") == -1 ||
            rdbLoadBinaryDoubleValue(fl->r, &score) == -1 ||
            expectOpcode(fl, RDB_MODULE_OPCODE_STRING, "a member") == -1)
            return -1;
        sds ele = rdbGenericLoadStringObject(fl->r, RDB_LOAD_SDS, NULL);
        if (!ele) return -1;
        int rc = zsetBuildAdd(fl, zb, score, ele);
        sdsfree(ele);
        if (rc == -1) return -1;
    }
    return 0;
}

static int zsetItemsFromBlob(flashLoad *fl, zsetBuild *zb) {
    size_t len;
    unsigned char *blob = rdbGenericLoadStringObject(fl->r, RDB_LOAD_PLAIN, &len);
    if (!blob) return -1;
    blobCursor c = {blob, blob + len};
    uint32_t n;
    int ok = blobCount(fl, &c, &n, FLASH_BLOB_F64 + FLASH_BLOB_U32);
    sds ele = sdsempty(); /* reused: zsetAdd copies the member */
    for (uint32_t i = 0; ok && i < n; i++) {
        double score;
        const unsigned char *m;
        uint32_t mlen;
        if (!blobF64(&c, &score) || !blobString(&c, &m, &mlen)) {
            flashCorrupt(fl, "zset blob truncated");
            ok = 0;
        } else {
            ele = sdscpylen(ele, (const char *)m, mlen);
            ok = zsetBuildAdd(fl, zb, score, ele) == 0;
        }
    }
    sdsfree(ele);
    ok = ok && blobEnd(fl, &c);
    zfree(blob);
    return ok ? 0 : -1;
}

static robj *loadFlashZset(rio *r, int encver, sds key, int *error) {
    flashLoad fl = {r, "flashzst1", key};
    long long ttl;
    uint64_t opcode;
    if (readHeader(&fl, encver, FLASH_SHAPE_ZSET, &ttl) == -1 || readOpcode(&fl, &opcode) == -1)
        return loadFailed(NULL, error, RDB_LOAD_ERR_OTHER);
    zsetBuild zb = {createZsetObject(), 0, 0};
    int rc;
    if (opcode == RDB_MODULE_OPCODE_STRING) rc = zsetItemsFromBlob(&fl, &zb);
    else if ((rc = checkOpcode(&fl, opcode, RDB_MODULE_OPCODE_UINT, "the member count")) == 0)
        rc = zsetItemsFromStream(&fl, &zb);
    if (rc == -1) return loadFailed(zb.o, error, RDB_LOAD_ERR_OTHER);
    if (zsetLength(zb.o) == 0) return loadFailed(zb.o, error, RDB_LOAD_ERR_EMPTY_KEY);
    zsetConvertToListpackIfNeeded(zb.o, zb.maxelelen, zb.totelelen);
    return withTtl(zb.o, ttl);
}

void flashMigrateRegister(void) {
    rdbRegisterModuleTypeLoader("flashstr1", loadFlashString);
    rdbRegisterModuleTypeLoader("flashhsh1", loadFlashHash);
    rdbRegisterModuleTypeLoader("flashlst1", loadFlashList);
    rdbRegisterModuleTypeLoader("flashzst1", loadFlashZset);
}
