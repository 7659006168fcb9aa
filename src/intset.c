/* intset.c - sorted integer set stored as one flat, RDB-compatible blob.
 *
 * Layout and guarantees are described in intset.h. Elements are read and written through
 * memcpy plus a byte swap on big-endian hosts, so the blob is always little-endian and no
 * access depends on alignment. Insertion and removal shift the tail with memmove and
 * reallocate to the exact size: the set is meant to stay small (set-max-intset-entries),
 * so O(N) updates are cheaper than any pointer structure.
 */
#include "intset.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "zmalloc.h"

/* ---------------------------------------------------------------- byte order */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
static inline uint16_t leSwap16(uint16_t v) { return __builtin_bswap16(v); }
static inline uint32_t leSwap32(uint32_t v) { return __builtin_bswap32(v); }
static inline uint64_t leSwap64(uint64_t v) { return __builtin_bswap64(v); }
#else
static inline uint16_t leSwap16(uint16_t v) { return v; }
static inline uint32_t leSwap32(uint32_t v) { return v; }
static inline uint64_t leSwap64(uint64_t v) { return v; }
#endif

static inline uint32_t readHeader32(const void *field) {
    uint32_t v;
    memcpy(&v, field, sizeof(v));
    return leSwap32(v);
}

static inline void writeHeader32(void *field, uint32_t v) {
    v = leSwap32(v);
    memcpy(field, &v, sizeof(v));
}

static inline uint32_t isEncoding(const intset *is) {
    return readHeader32(&is->encoding);
}

static inline void isSetEncoding(intset *is, uint32_t enc) {
    writeHeader32(&is->encoding, enc);
}

static inline void isSetLength(intset *is, uint32_t len) {
    writeHeader32(&is->length, len);
}

/* ---------------------------------------------------------------- elements */

/* Reads element pos of a contents array holding elements of `enc` bytes. */
static int64_t readElement(const int8_t *contents, uint32_t pos, uint32_t enc) {
    const int8_t *p = contents + (size_t)pos * enc;
    if (enc == INTSET_ENC_INT64) {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return (int64_t)leSwap64(v);
    } else if (enc == INTSET_ENC_INT32) {
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return (int32_t)leSwap32(v);
    } else {
        uint16_t v;
        memcpy(&v, p, sizeof(v));
        return (int16_t)leSwap16(v);
    }
}

/* Writes element pos with `enc` bytes; the value must fit that width. */
static void writeElement(int8_t *contents, uint32_t pos, uint32_t enc, int64_t value) {
    int8_t *p = contents + (size_t)pos * enc;
    if (enc == INTSET_ENC_INT64) {
        uint64_t v = leSwap64((uint64_t)value);
        memcpy(p, &v, sizeof(v));
    } else if (enc == INTSET_ENC_INT32) {
        uint32_t v = leSwap32((uint32_t)(int32_t)value);
        memcpy(p, &v, sizeof(v));
    } else {
        uint16_t v = leSwap16((uint16_t)(int16_t)value);
        memcpy(p, &v, sizeof(v));
    }
}

static inline int64_t isGet(const intset *is, uint32_t pos) {
    return readElement(is->contents, pos, isEncoding(is));
}

/* Narrowest width that holds value. */
static uint32_t encodingFor(int64_t value) {
    if (value < INT32_MIN || value > INT32_MAX) return INTSET_ENC_INT64;
    if (value < INT16_MIN || value > INT16_MAX) return INTSET_ENC_INT32;
    return INTSET_ENC_INT16;
}

/* Reallocates to exactly len elements of the current width. */
static intset *isResize(intset *is, uint32_t len) {
    size_t size = sizeof(intset) + (size_t)len * isEncoding(is);
    return zrealloc(is, size);
}

/* Binary search. Returns 1 and the position when found; otherwise 0 and the position
 * where value would be inserted to keep the order. */
static int isSearch(const intset *is, int64_t value, uint32_t *pos) {
    uint32_t len = intsetLen(is);
    if (len == 0) {
        *pos = 0;
        return 0;
    }
    /* Appends and prepends are common (e.g. sequential ids): skip the search for them. */
    if (value > isGet(is, len - 1)) {
        *pos = len;
        return 0;
    }
    if (value < isGet(is, 0)) {
        *pos = 0;
        return 0;
    }
    uint32_t lo = 0, hi = len; /* the answer lies in [lo, hi) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t cur = isGet(is, mid);
        if (cur == value) {
            *pos = mid;
            return 1;
        }
        if (cur < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return 0;
}

/* Moves elements [from, len) to start at index `to` (same width). */
static void isMoveTail(intset *is, uint32_t from, uint32_t to) {
    uint32_t enc = isEncoding(is);
    uint32_t count = intsetLen(is) - from;
    memmove(is->contents + (size_t)to * enc, is->contents + (size_t)from * enc,
            (size_t)count * enc);
}

/* value needs a wider encoding than the set has, so it is either smaller than every
 * element (negative) or larger than every element (positive): it lands at one end. */
static intset *isUpgradeAndAdd(intset *is, int64_t value) {
    uint32_t old_enc = isEncoding(is);
    uint32_t new_enc = encodingFor(value);
    uint32_t len = intsetLen(is);
    int at_head = value < 0;

    isSetEncoding(is, new_enc);
    is = isResize(is, len + 1);
    /* Widen from the back: each wider write only covers old bytes already read. */
    for (uint32_t i = len; i-- > 0;)
        writeElement(is->contents, i + (uint32_t)at_head, new_enc,
                     readElement(is->contents, i, old_enc));
    writeElement(is->contents, at_head ? 0 : len, new_enc, value);
    isSetLength(is, len + 1);
    return is;
}

/* ---------------------------------------------------------------- API */

intset *intsetNew(void) {
    intset *is = zmalloc(sizeof(intset));
    isSetEncoding(is, INTSET_ENC_INT16);
    isSetLength(is, 0);
    return is;
}

intset *intsetAdd(intset *is, int64_t value, uint8_t *success) {
    if (success) *success = 1;
    if (encodingFor(value) > isEncoding(is)) return isUpgradeAndAdd(is, value);

    uint32_t pos;
    if (isSearch(is, value, &pos)) {
        if (success) *success = 0;
        return is;
    }
    uint32_t len = intsetLen(is);
    is = isResize(is, len + 1);
    if (pos < len) isMoveTail(is, pos, pos + 1);
    writeElement(is->contents, pos, isEncoding(is), value);
    isSetLength(is, len + 1);
    return is;
}

intset *intsetRemove(intset *is, int64_t value, int *success) {
    uint32_t pos;
    if (success) *success = 0;
    if (encodingFor(value) > isEncoding(is) || !isSearch(is, value, &pos)) return is;

    uint32_t len = intsetLen(is);
    if (pos < len - 1) isMoveTail(is, pos + 1, pos);
    is = isResize(is, len - 1);
    isSetLength(is, len - 1);
    if (success) *success = 1;
    return is;
}

uint8_t intsetFind(intset *is, int64_t value) {
    uint32_t pos;
    return encodingFor(value) <= isEncoding(is) && isSearch(is, value, &pos);
}

uint8_t intsetGet(intset *is, uint32_t pos, int64_t *value) {
    if (pos >= intsetLen(is)) return 0;
    *value = isGet(is, pos);
    return 1;
}

uint32_t intsetLen(const intset *is) {
    return readHeader32(&is->length);
}

size_t intsetBlobLen(const intset *is) {
    return sizeof(intset) + (size_t)intsetLen(is) * isEncoding(is);
}

/* 62 random bits from two random() calls (each gives 31). */
static uint64_t random62(void) {
    return ((uint64_t)random() << 31) | (uint64_t)random();
}

int64_t intsetRandom(intset *is) {
    uint32_t len = intsetLen(is);
    assert(len > 0);
    return isGet(is, (uint32_t)(random62() % len));
}

int64_t intsetMin(intset *is) {
    assert(intsetLen(is) > 0);
    return isGet(is, 0);
}

int64_t intsetMax(intset *is) {
    uint32_t len = intsetLen(is);
    assert(len > 0);
    return isGet(is, len - 1);
}

/* Selection sampling: walk the elements once and keep each with probability
 * (still needed) / (still available), which yields a uniform subset of exactly `want`. */
uint32_t intsetRandomMembers(intset *is, uint32_t count, int64_t *out) {
    uint32_t len = intsetLen(is);
    uint32_t want = count < len ? count : len;
    uint32_t taken = 0;
    for (uint32_t i = 0; i < len && taken < want; i++) {
        uint64_t available = len - i;
        if (random62() % available < (uint64_t)(want - taken)) out[taken++] = isGet(is, i);
    }
    return taken;
}

int intsetValidateIntegrity(const unsigned char *p, size_t size, int deep) {
    const intset *is = (const intset *)p;
    if (size < sizeof(intset)) return 0;

    uint32_t enc = readHeader32(p + offsetof(intset, encoding));
    if (enc != INTSET_ENC_INT16 && enc != INTSET_ENC_INT32 && enc != INTSET_ENC_INT64)
        return 0;

    uint32_t len = readHeader32(p + offsetof(intset, length));
    if ((uint64_t)len * enc != size - sizeof(intset)) return 0;
    if (len == 0) return 0; /* an empty set is never stored */
    if (!deep) return 1;

    int64_t prev = readElement(is->contents, 0, enc);
    for (uint32_t i = 1; i < len; i++) {
        int64_t cur = readElement(is->contents, i, enc);
        if (cur <= prev) return 0;
        prev = cur;
    }
    return 1;
}
