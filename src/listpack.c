/* listpack.c -- Valkey's listpack format: a list of strings and integers in one blob.
 *
 * Layout (all multi-byte numbers little endian):
 *
 *     <total-bytes:u32> <count:u16> <entry> ... <entry> <0xFF>
 *
 * total-bytes covers the whole blob, header and terminator included. count is the number
 * of entries, or 65535 when there are too many to say (then it is found by scanning).
 * An entry is <encoding+data> <backlen>. The first byte of the encoding says its kind:
 *
 *     0xxxxxxx                   integer 0..127 in the byte itself
 *     10xxxxxx <data>            string of up to 63 bytes
 *     110xxxxx yyyyyyyy          13-bit signed integer, high bits first
 *     1110xxxx yyyyyyyy <data>   string of up to 4095 bytes, length high bits first
 *     0xF0 <len:u32> <data>      longer string
 *     0xF1 / 0xF2 / 0xF3 / 0xF4  16, 24, 32, 64-bit signed integer (two's complement)
 *
 * backlen is the size of <encoding+data> in 1 to 5 bytes, 7 bits per byte, most
 * significant group at the lowest address; every byte but that first one has bit 7 set,
 * so reading backwards from the entry's last byte finds where the length ends, and
 * subtracting the length finds the entry's start: that is how the list is walked
 * backwards. The backlen width depends only on the length (thresholds in
 * lpBacklenBytes), which is also how a forward walk skips it.
 *
 * Writers pick the smallest encoding, and store strings that are canonical integers
 * (string2ll) as integers, exactly like Valkey, so blobs are byte-identical.
 *
 * Every edit goes through lpSplice(), which opens or closes a gap at one offset with a
 * single reallocation and memmove and fixes the header; the caller then fills the gap.
 *
 * Corruption: blobs from outside are checked once by lpValidateIntegrity(), deeply
 * (every entry, backlen included: lpEntryBounded) or shallowly (header and terminator)
 * per sanitize-dump-payload. The walking functions then stay cheap but still safe on a
 * shallow-checked blob: an element is only handed out (lpFirst, lpNext, lpPrev, lpFind)
 * after its size, decoded from its first bytes, was compared once against the distance
 * to the terminator (lpEntrySizeGuarded), so it lies wholly inside the blob and reading
 * or stepping over it needs no further check. Forward walks never read a backlen; lpPrev
 * does, and checks that it agrees with the size decoded forwards. An entry that fails
 * aborts the process rather than read outside the blob.
 */
#include "listpack.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "zmalloc.h"

#define LP_HDR_SIZE 6
#define LP_HDR_NUMELE_UNKNOWN UINT16_MAX
#define LP_EOF 0xFF

#define LP_MAX_INT_ENCODED 9 /* 0xF4 plus eight bytes */
#define LP_MAX_BACKLEN_BYTES 5
#define LP_BATCH_STACK_ENTRIES 8 /* lpBatchInsert() prepares up to this many without malloc */

/* First-byte patterns. They are ordered: all first bytes of one encoding lie below the
 * next pattern, so a chain of '<' compares classifies a byte (the hot paths do that). */
#define LP_ENC_7BIT_UINT_MASK 0x80
#define LP_ENC_6BIT_STR 0x80
#define LP_ENC_6BIT_STR_MASK 0xC0
#define LP_ENC_13BIT_INT 0xC0
#define LP_ENC_13BIT_INT_MASK 0xE0
#define LP_ENC_12BIT_STR 0xE0
#define LP_ENC_12BIT_STR_MASK 0xF0
#define LP_ENC_32BIT_STR 0xF0
#define LP_ENC_16BIT_INT 0xF1
#define LP_ENC_24BIT_INT 0xF2
#define LP_ENC_32BIT_INT 0xF3
#define LP_ENC_64BIT_INT 0xF4

/* Ranges of the compact encodings. */
#define LP_7BIT_UINT_MAX 127
#define LP_13BIT_INT_MIN (-4096)
#define LP_13BIT_INT_MAX 4095
#define LP_24BIT_INT_MIN (-8388608)
#define LP_24BIT_INT_MAX 8388607
#define LP_6BIT_STR_MAX 63
#define LP_12BIT_STR_MAX 4095

/* ------------------------------------------------------------------------------------
 * Low-level helpers
 * ---------------------------------------------------------------------------------- */

__attribute__((noreturn, cold, noinline)) static void lpPanic(const char *what, const char *file,
                                                               int line) {
    fprintf(stderr, "listpack: %s (%s:%d)\n", what, file, line);
    abort();
}
#define lpAssert(cond)                                                                     \
    do {                                                                                   \
        if (__builtin_expect(!(cond), 0)) lpPanic("assertion failed: " #cond, __FILE__, __LINE__); \
    } while (0)

static inline uint32_t lpReadU32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void lpWriteU32(unsigned char *p, uint32_t v) {
    p[0] = v & 0xFF;
    p[1] = (v >> 8) & 0xFF;
    p[2] = (v >> 16) & 0xFF;
    p[3] = (v >> 24) & 0xFF;
}

static inline uint32_t lpTotalBytes(const unsigned char *lp) {
    return lpReadU32(lp);
}

static inline void lpSetTotalBytes(unsigned char *lp, uint32_t v) {
    lpWriteU32(lp, v);
}

static inline unsigned lpHeaderCount(const unsigned char *lp) {
    return (unsigned)lp[4] | (unsigned)lp[5] << 8;
}

static inline void lpSetHeaderCount(unsigned char *lp, unsigned v) {
    lp[4] = v & 0xFF;
    lp[5] = (v >> 8) & 0xFF;
}

static inline unsigned char *lpEofPtr(unsigned char *lp) {
    return lp + lpTotalBytes(lp) - 1;
}

/* Reads a little-endian two's complement integer of 'bytes' bytes (1..8). */
static int64_t lpReadIntLE(const unsigned char *p, int bytes) {
    uint64_t u = 0;
    for (int i = 0; i < bytes; i++) u |= (uint64_t)p[i] << (8 * i);
    if (bytes < 8) {
        uint64_t sign = 1ULL << (8 * bytes - 1);
        if (u & sign) u |= ~((sign << 1) - 1);
    }
    return (int64_t)u;
}

/* Bytes of backlen used for an entry whose encoding+data is l bytes long. */
static inline unsigned lpBacklenBytes(uint64_t l) {
    if (l <= 127) return 1;
    if (l < 16383) return 2;
    if (l < 2097151) return 3;
    if (l < 268435455) return 4;
    return 5;
}

static void lpWriteBacklen(unsigned char *buf, uint64_t l) {
    unsigned n = lpBacklenBytes(l);
    for (unsigned i = n; i-- > 0;) {
        buf[i] = (l & 127) | (i > 0 ? 128 : 0);
        l >>= 7;
    }
}

/* Decodes the backlen whose last byte is at 'last', looking at most 'limit' bytes back.
 * Returns the length and sets *used to the bytes it spans; UINT64_MAX when it does not
 * terminate within the limit. */
static uint64_t lpReadBacklen(const unsigned char *last, size_t limit, unsigned *used) {
    uint64_t v = 0;
    unsigned n = 0;
    if (limit > LP_MAX_BACKLEN_BYTES) limit = LP_MAX_BACKLEN_BYTES;
    while (n < limit) {
        unsigned char c = last[-(long)n];
        v |= (uint64_t)(c & 127) << (7 * n);
        n++;
        if (!(c & 128)) {
            *used = n;
            return v;
        }
    }
    return UINT64_MAX;
}

/* Bytes at the start of an entry needed to know its size: 1, 2 or 5; 0 when the byte is
 * the terminator or an unused encoding. */
static inline unsigned lpPrefixBytes(unsigned char b) {
    if ((b & LP_ENC_12BIT_STR_MASK) == LP_ENC_12BIT_STR) return 2;
    if (b == LP_ENC_32BIT_STR) return 5;
    if (b > LP_ENC_64BIT_INT) return 0;
    return 1;
}

/* Size of the encoding+data part of the entry at p (its prefix must be readable). */
static uint64_t lpEncodedSize(const unsigned char *p) {
    unsigned char b = p[0];
    if (!(b & LP_ENC_7BIT_UINT_MASK)) return 1;
    if ((b & LP_ENC_6BIT_STR_MASK) == LP_ENC_6BIT_STR) return 1 + (b & 0x3F);
    if ((b & LP_ENC_13BIT_INT_MASK) == LP_ENC_13BIT_INT) return 2;
    if ((b & LP_ENC_12BIT_STR_MASK) == LP_ENC_12BIT_STR) return 2 + (((uint64_t)(b & 0x0F) << 8) | p[1]);
    switch (b) {
    case LP_ENC_32BIT_STR: return 5 + (uint64_t)lpReadU32(p + 1);
    case LP_ENC_16BIT_INT: return 3;
    case LP_ENC_24BIT_INT: return 4;
    case LP_ENC_32BIT_INT: return 5;
    case LP_ENC_64BIT_INT: return 9;
    default: return 0;
    }
}

/* Whole size (encoding, data, backlen) of an entry whose first byte is below 0xF0: the
 * encodings that say their size in at most two bytes. Reads p[1] for a 12-bit string. */
static inline uint64_t lpSmallEntrySize(const unsigned char *p) {
    unsigned char b = p[0];
    if (b < LP_ENC_6BIT_STR) return 2;                        /* 0xxxxxxx */
    if (b < LP_ENC_13BIT_INT) return (uint64_t)(b & 0x3F) + 2; /* 10xxxxxx */
    if (b < LP_ENC_12BIT_STR) return 3;                       /* 110xxxxx */
    uint64_t enc = 2 + (((uint64_t)(b & 0x0F) << 8) | p[1]);  /* 1110xxxx */
    return enc + lpBacklenBytes(enc);
}

/* Whole size of an entry whose first byte is 0xF0 or above (for 0xF0 the four length
 * bytes must be readable); 0 for an unused encoding or the terminator. */
static inline uint64_t lpLargeEntrySize(const unsigned char *p) {
    switch (p[0]) {
    case LP_ENC_32BIT_STR: {
        uint64_t enc = 5 + (uint64_t)lpReadU32(p + 1);
        return enc + lpBacklenBytes(enc);
    }
    case LP_ENC_16BIT_INT: return 4;
    case LP_ENC_24BIT_INT: return 5;
    case LP_ENC_32BIT_INT: return 6;
    case LP_ENC_64BIT_INT: return 10;
    default: return 0;
    }
}

/* Whole size of an element the walking functions handed out (so already checked). */
static inline uint64_t lpEntrySize(const unsigned char *p) {
    if (__builtin_expect(p[0] < LP_ENC_32BIT_STR, 1)) return lpSmallEntrySize(p);
    return lpLargeEntrySize(p);
}

/* Size of the entry at p, which starts avail (>= 1) bytes before the terminator, after
 * checking that it ends at or before the terminator: the per-step check that keeps walks
 * of shallow-validated blobs in bounds. The backlen is not looked at. Aborts on failure. */
static inline uint64_t lpEntrySizeGuarded(const unsigned char *p, size_t avail) {
    uint64_t size;
    if (__builtin_expect(p[0] < LP_ENC_32BIT_STR, 1)) {
        size = lpSmallEntrySize(p); /* p[1] is at worst the terminator */
    } else {
        if (p[0] == LP_ENC_32BIT_STR && avail < 5) lpPanic("truncated entry", __FILE__, __LINE__);
        size = lpLargeEntrySize(p);
        if (size == 0) lpPanic("invalid encoding byte", __FILE__, __LINE__);
    }
    if (__builtin_expect(size > avail, 0)) lpPanic("entry runs past the end", __FILE__, __LINE__);
    return size;
}

/* Size of the entry at p if it lies wholly before 'end' (the terminator's address) and
 * its backlen is the canonical encoding of its length; 0 otherwise. Never reads at or
 * past 'end'. The full check of deep validation. */
static uint64_t lpEntryBounded(const unsigned char *p, const unsigned char *end) {
    if (p >= end) return 0;
    size_t avail = (size_t)(end - p);
    unsigned prefix = lpPrefixBytes(p[0]);
    if (prefix == 0 || prefix > avail) return 0;
    uint64_t enc = lpEncodedSize(p);
    unsigned blen = lpBacklenBytes(enc);
    if (enc > avail || blen > avail - enc) return 0;
    unsigned used;
    uint64_t back = lpReadBacklen(p + enc + blen - 1, blen, &used);
    if (back != enc || used != blen) return 0;
    return enc + blen;
}

/* Guarded size of an element position passed in by a caller: also checks that p is an
 * address inside lp's entries. */
static inline uint64_t lpCheckedEntrySize(unsigned char *lp, const unsigned char *p) {
    unsigned char *eof = lpEofPtr(lp);
    lpAssert(p >= lp + LP_HDR_SIZE && p < eof);
    return lpEntrySizeGuarded(p, (size_t)(eof - p));
}

static unsigned char *lpDecodeLarge(unsigned char *p, int64_t *ival, uint32_t *slen) {
    switch (p[0]) {
    case LP_ENC_32BIT_STR: *slen = lpReadU32(p + 1); return p + 5;
    case LP_ENC_16BIT_INT: *ival = lpReadIntLE(p + 1, 2); return NULL;
    case LP_ENC_24BIT_INT: *ival = lpReadIntLE(p + 1, 3); return NULL;
    case LP_ENC_32BIT_INT: *ival = lpReadIntLE(p + 1, 4); return NULL;
    case LP_ENC_64BIT_INT: *ival = lpReadIntLE(p + 1, 8); return NULL;
    default: lpPanic("invalid encoding byte", __FILE__, __LINE__);
    }
}

/* Decodes the entry at p: a string returns its bytes and length, an integer returns NULL
 * and its value. The compact encodings are tested first, in order of the first byte. */
static inline unsigned char *lpDecode(unsigned char *p, int64_t *ival, uint32_t *slen) {
    unsigned char b = p[0];
    if (b < LP_ENC_6BIT_STR) {
        *ival = b;
        return NULL;
    }
    if (b < LP_ENC_13BIT_INT) {
        *slen = b & 0x3F;
        return p + 1;
    }
    if (b < LP_ENC_12BIT_STR) {
        int64_t v = ((int64_t)(b & 0x1F) << 8) | p[1];
        if (v > LP_13BIT_INT_MAX) v -= 1 << 13;
        *ival = v;
        return NULL;
    }
    if (b < LP_ENC_32BIT_STR) {
        *slen = ((uint32_t)(b & 0x0F) << 8) | p[1];
        return p + 2;
    }
    return lpDecodeLarge(p, ival, slen);
}

/* ------------------------------------------------------------------------------------
 * Encoding new elements
 * ---------------------------------------------------------------------------------- */

/* An element ready to be written: encoding prefix (or whole integer) plus string bytes. */
typedef struct {
    unsigned char prefix[LP_MAX_INT_ENCODED];
    size_t prefix_len;
    const unsigned char *data; /* string bytes, not owned; NULL for integers */
    size_t data_len;
    size_t total; /* prefix + data + backlen */
} lpPending;

static size_t lpEncodeInt(int64_t v, unsigned char *buf) {
    if (v >= 0 && v <= LP_7BIT_UINT_MAX) {
        buf[0] = (unsigned char)v;
        return 1;
    }
    if (v >= LP_13BIT_INT_MIN && v <= LP_13BIT_INT_MAX) {
        uint64_t u = (uint64_t)v & 0x1FFF;
        buf[0] = LP_ENC_13BIT_INT | (unsigned char)(u >> 8);
        buf[1] = u & 0xFF;
        return 2;
    }
    int bytes;
    if (v >= INT16_MIN && v <= INT16_MAX) {
        buf[0] = LP_ENC_16BIT_INT;
        bytes = 2;
    } else if (v >= LP_24BIT_INT_MIN && v <= LP_24BIT_INT_MAX) {
        buf[0] = LP_ENC_24BIT_INT;
        bytes = 3;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        buf[0] = LP_ENC_32BIT_INT;
        bytes = 4;
    } else {
        buf[0] = LP_ENC_64BIT_INT;
        bytes = 8;
    }
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < bytes; i++) buf[1 + i] = (u >> (8 * i)) & 0xFF;
    return 1 + (size_t)bytes;
}

static size_t lpEncodeStrPrefix(uint32_t len, unsigned char *buf) {
    if (len <= LP_6BIT_STR_MAX) {
        buf[0] = LP_ENC_6BIT_STR | (unsigned char)len;
        return 1;
    }
    if (len <= LP_12BIT_STR_MAX) {
        buf[0] = LP_ENC_12BIT_STR | (unsigned char)(len >> 8);
        buf[1] = len & 0xFF;
        return 2;
    }
    buf[0] = LP_ENC_32BIT_STR;
    lpWriteU32(buf + 1, len);
    return 5;
}

static void lpPendingFinish(lpPending *e) {
    size_t enc = e->prefix_len + e->data_len;
    e->total = enc + lpBacklenBytes(enc);
}

static void lpPrepareInt(lpPending *e, int64_t v) {
    e->prefix_len = lpEncodeInt(v, e->prefix);
    e->data = NULL;
    e->data_len = 0;
    lpPendingFinish(e);
}

static void lpPrepareString(lpPending *e, const unsigned char *s, uint32_t slen) {
    long long v;
    if (slen > 0 && string2ll((const char *)s, slen, &v)) {
        lpPrepareInt(e, v);
        return;
    }
    e->prefix_len = lpEncodeStrPrefix(slen, e->prefix);
    e->data = s;
    e->data_len = slen;
    lpPendingFinish(e);
}

static void lpPrepareEntry(lpPending *e, const listpackEntry *ent) {
    if (ent->sval)
        lpPrepareString(e, ent->sval, ent->slen);
    else
        lpPrepareInt(e, ent->lval);
}

static unsigned char *lpWritePending(unsigned char *dst, const lpPending *e) {
    memcpy(dst, e->prefix, e->prefix_len);
    dst += e->prefix_len;
    if (e->data_len) memcpy(dst, e->data, e->data_len);
    dst += e->data_len;
    lpWriteBacklen(dst, e->prefix_len + e->data_len);
    return dst + lpBacklenBytes(e->prefix_len + e->data_len);
}

/* ------------------------------------------------------------------------------------
 * Creation and size
 * ---------------------------------------------------------------------------------- */

unsigned char *lpNew(size_t capacity) {
    size_t alloc = capacity > LP_HDR_SIZE + 1 ? capacity : LP_HDR_SIZE + 1;
    unsigned char *lp = zmalloc(alloc);
    lpSetTotalBytes(lp, LP_HDR_SIZE + 1);
    lpSetHeaderCount(lp, 0);
    lp[LP_HDR_SIZE] = LP_EOF;
    return lp;
}

void lpFree(unsigned char *lp) {
    zfree(lp);
}

void lpFreeVoid(void *lp) {
    zfree(lp);
}

unsigned char *lpShrinkToFit(unsigned char *lp) {
    size_t bytes = lpBytes(lp);
    if (bytes < zmalloc_usable_size(lp)) return zrealloc(lp, bytes);
    return lp;
}

unsigned char *lpDup(unsigned char *lp) {
    size_t bytes = lpBytes(lp);
    unsigned char *copy = zmalloc(bytes);
    memcpy(copy, lp, bytes);
    return copy;
}

size_t lpBytes(unsigned char *lp) {
    return lpTotalBytes(lp);
}

unsigned long lpLength(unsigned char *lp) {
    unsigned n = lpHeaderCount(lp);
    if (n != LP_HDR_NUMELE_UNKNOWN) return n;
    unsigned long count = 0;
    for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p)) count++;
    if (count < LP_HDR_NUMELE_UNKNOWN) lpSetHeaderCount(lp, (unsigned)count);
    return count;
}

int lpSafeToAdd(unsigned char *lp, size_t add) {
    size_t len = lp ? lpBytes(lp) : 0;
    return len + add <= LISTPACK_MAX_SAFETY_SIZE;
}

int lpEntrySizeInteger(long long lval) {
    unsigned char buf[LP_MAX_INT_ENCODED];
    size_t enc = lpEncodeInt(lval, buf);
    return (int)(enc + lpBacklenBytes(enc));
}

size_t lpEstimateBytesRepeatedInteger(long long lval, unsigned long rep) {
    return LP_HDR_SIZE + (size_t)lpEntrySizeInteger(lval) * rep + 1;
}

/* ------------------------------------------------------------------------------------
 * Walking
 * ---------------------------------------------------------------------------------- */

/* Every element handed out by the walking functions has passed lpEntrySizeGuarded(), so
 * stepping over it needs no further check; only where it lands is checked. */
unsigned char *lpFirst(unsigned char *lp) {
    unsigned char *p = lp + LP_HDR_SIZE;
    unsigned char *eof = lpEofPtr(lp);
    if (p == eof) return NULL;
    lpAssert(p < eof);
    lpEntrySizeGuarded(p, (size_t)(eof - p));
    return p;
}

unsigned char *lpNext(unsigned char *lp, unsigned char *p) {
    lpAssert(p);
    unsigned char *eof = lpEofPtr(lp);
    p += lpEntrySize(p);
    if (__builtin_expect(p >= eof, 0)) {
        lpAssert(p == eof);
        return NULL;
    }
    lpEntrySizeGuarded(p, (size_t)(eof - p));
    return p;
}

unsigned char *lpPrev(unsigned char *lp, unsigned char *p) {
    lpAssert(p);
    unsigned char *first = lp + LP_HDR_SIZE;
    if (p <= first) return NULL;
    unsigned char *eof = lpEofPtr(lp);
    lpAssert(p <= eof);
    uint64_t enc;
    if (__builtin_expect(!(p[-1] & 128), 1)) {
        enc = p[-1]; /* one-byte backlen: entries up to 127 bytes */
    } else {
        unsigned used;
        enc = lpReadBacklen(p - 1, (size_t)(p - first), &used);
        lpAssert(enc != UINT64_MAX);
    }
    uint64_t size = enc + lpBacklenBytes(enc);
    lpAssert(size <= (uint64_t)(p - first));
    unsigned char *prev = p - size;
    /* The backlen must agree with the size read forwards: then prev ends exactly at p. */
    lpAssert(lpEntrySizeGuarded(prev, (size_t)(eof - prev)) == size);
    return prev;
}

unsigned char *lpLast(unsigned char *lp) {
    return lpPrev(lp, lpEofPtr(lp));
}

unsigned char *lpSeek(unsigned char *lp, long index) {
    unsigned long n = lpHeaderCount(lp);
    if (n == LP_HDR_NUMELE_UNKNOWN) {
        if (index >= 0) {
            unsigned char *p = lpFirst(lp);
            while (p && index-- > 0) p = lpNext(lp, p);
            return p;
        }
        n = lpLength(lp);
    }
    if (index < 0) index += (long)n;
    if (index < 0 || (unsigned long)index >= n) return NULL;
    unsigned char *p;
    if ((unsigned long)index <= n / 2) {
        p = lpFirst(lp);
        while (index-- > 0) p = lpNext(lp, p);
    } else {
        unsigned long back = n - 1 - (unsigned long)index;
        p = lpLast(lp);
        while (back-- > 0) p = lpPrev(lp, p);
    }
    return p;
}

/* ------------------------------------------------------------------------------------
 * Reading
 * ---------------------------------------------------------------------------------- */

/* Prints a 7-bit element value (0..127) into buf; returns the length. */
static inline int lpSmallUintToString(unsigned char *buf, unsigned v) {
    int n = 0;
    if (v >= 100) buf[n++] = (unsigned char)('0' + v / 100);
    if (v >= 10) buf[n++] = (unsigned char)('0' + v / 10 % 10);
    buf[n++] = (unsigned char)('0' + v % 10);
    buf[n] = '\0';
    return n;
}

unsigned char *lpGet(unsigned char *p, int64_t *count, unsigned char *intbuf) {
    unsigned char b = p[0];
    if (b >= LP_ENC_6BIT_STR && b < LP_ENC_13BIT_INT) { /* short string */
        *count = b & 0x3F;
        return p + 1;
    }
    if (b < LP_ENC_6BIT_STR && intbuf) { /* small integer */
        *count = lpSmallUintToString(intbuf, b);
        return intbuf;
    }
    int64_t v;
    uint32_t len;
    unsigned char *s = lpDecode(p, &v, &len);
    if (s) {
        *count = len;
        return s;
    }
    if (intbuf) {
        *count = ll2string((char *)intbuf, LP_INTBUF_SIZE, v);
        return intbuf;
    }
    *count = v;
    return NULL;
}

unsigned char *lpGetWithSize(unsigned char *p, int64_t *count, unsigned char *intbuf,
                             uint64_t *entry_size) {
    if (entry_size) *entry_size = lpEntrySize(p);
    return lpGet(p, count, intbuf);
}

unsigned char *lpGetValue(unsigned char *p, unsigned int *slen, long long *lval) {
    int64_t v;
    uint32_t len;
    unsigned char *s = lpDecode(p, &v, &len);
    if (s)
        *slen = len;
    else
        *lval = v;
    return s;
}

int lpGetIntegerValue(unsigned char *p, long long *lval) {
    int64_t v;
    uint32_t len;
    unsigned char *s = lpDecode(p, &v, &len);
    if (!s) {
        *lval = v;
        return 1;
    }
    return string2ll((const char *)s, len, lval);
}

/* The string searched for by lpCompare()/lpFind(), with its integer value parsed lazily:
 * only an integer element needs it, and most searches never meet one. */
typedef struct {
    const unsigned char *s;
    uint32_t slen;
    int int_state; /* -1 not parsed yet, 0 not an integer, 1 integer in ival */
    long long ival;
} lpNeedle;

static inline void lpNeedleInit(lpNeedle *n, const unsigned char *s, uint32_t slen) {
    n->s = s;
    n->slen = slen;
    n->int_state = -1;
    n->ival = 0;
}

static inline uint64_t lpLoad64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint32_t lpLoad32(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* a and b, both len bytes long, are equal. Elements often share a prefix ("field:17",
 * "field:42"), so the tail is compared first, a word at a time: most mismatches are
 * rejected without a call to memcmp. */
static inline int lpBytesEqual(const unsigned char *a, const unsigned char *b, uint32_t len) {
    if (len >= 8) {
        if (lpLoad64(a + len - 8) != lpLoad64(b + len - 8)) return 0;
        return len == 8 || memcmp(a, b, len - 8) == 0;
    }
    if (len >= 4) /* two overlapping words cover 4..7 bytes */
        return lpLoad32(a + len - 4) == lpLoad32(b + len - 4) && lpLoad32(a) == lpLoad32(b);
    for (uint32_t i = 0; i < len; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static inline int lpNeedleBytesEqual(const lpNeedle *n, const unsigned char *str, uint32_t len) {
    return len == n->slen && lpBytesEqual(str, n->s, len);
}

static inline int lpNeedleIntEqual(lpNeedle *n, int64_t v) {
    if (n->int_state < 0) n->int_state = string2ll((const char *)n->s, n->slen, &n->ival);
    return n->int_state && v == n->ival;
}

/* Compares the (checked) entry at p with the needle. */
static inline int lpEntryEquals(unsigned char *p, lpNeedle *n) {
    unsigned char b = p[0];
    if (b >= LP_ENC_6BIT_STR && b < LP_ENC_13BIT_INT) return lpNeedleBytesEqual(n, p + 1, b & 0x3F);
    if (b < LP_ENC_6BIT_STR) return lpNeedleIntEqual(n, b);
    int64_t v;
    uint32_t len;
    unsigned char *str = lpDecode(p, &v, &len);
    if (str) return lpNeedleBytesEqual(n, str, len);
    return lpNeedleIntEqual(n, v);
}

unsigned int lpCompare(unsigned char *p, unsigned char *s, uint32_t slen) {
    lpNeedle n;
    lpNeedleInit(&n, s, slen);
    return (unsigned)lpEntryEquals(p, &n);
}

/* One decode and one bounds compare per element: the size is checked before the entry's
 * bytes are compared, so this is safe on a shallow-validated blob too. */
unsigned char *lpFind(unsigned char *lp, unsigned char *p, unsigned char *s, uint32_t slen,
                      unsigned int skip) {
    if (!p) return NULL;
    unsigned char *eof = lpEofPtr(lp);
    lpAssert(p >= lp + LP_HDR_SIZE && p <= eof);
    lpNeedle n;
    lpNeedleInit(&n, s, slen);
    unsigned int skipcnt = 0;
    while (p != eof) {
        uint64_t size = lpEntrySizeGuarded(p, (size_t)(eof - p));
        if (skipcnt == 0) {
            if (lpEntryEquals(p, &n)) return p;
            skipcnt = skip;
        } else {
            skipcnt--;
        }
        p += size;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------
 * Editing
 * ---------------------------------------------------------------------------------- */

/* Replaces the oldlen bytes at offset off with a gap of newlen bytes (contents
 * undefined), moving the rest of the blob, and adjusts the header: total bytes, and the
 * element count by delta (saturating at "unknown"). Returns the possibly moved blob, or
 * NULL, with lp untouched, when the result would not fit the 32-bit size. */
static unsigned char *lpSplice(unsigned char *lp, size_t off, size_t oldlen, size_t newlen,
                               long delta) {
    size_t total = lpTotalBytes(lp);
    uint64_t newtotal = (uint64_t)total - oldlen + newlen;
    if (newtotal > UINT32_MAX) return NULL;
    size_t tail = total - off - oldlen; /* bytes after the replaced range, terminator included */
    if (newlen > oldlen) {
        if (newtotal > zmalloc_usable_size(lp)) lp = zrealloc(lp, newtotal);
        memmove(lp + off + newlen, lp + off + oldlen, tail);
    } else if (newlen < oldlen) {
        memmove(lp + off + newlen, lp + off + oldlen, tail);
        lp = zrealloc(lp, newtotal);
    }
    lpSetTotalBytes(lp, (uint32_t)newtotal);
    unsigned n = lpHeaderCount(lp);
    if (n != LP_HDR_NUMELE_UNKNOWN && delta != 0) {
        long updated = (long)n + delta;
        lpAssert(updated >= 0);
        lpSetHeaderCount(lp, updated >= LP_HDR_NUMELE_UNKNOWN ? LP_HDR_NUMELE_UNKNOWN
                                                              : (unsigned)updated);
    }
    return lp;
}

/* Writes e (or deletes when e is NULL and where is LP_REPLACE) at p. */
static unsigned char *lpInsertPending(unsigned char *lp, const lpPending *e, unsigned char *p,
                                      int where, unsigned char **newp) {
    lpAssert(p);
    if (where == LP_AFTER) {
        p += lpCheckedEntrySize(lp, p);
        where = LP_BEFORE;
    }
    size_t off = (size_t)(p - lp);
    size_t oldlen = 0;
    long delta = 1;
    if (where == LP_REPLACE) {
        oldlen = lpCheckedEntrySize(lp, p);
        delta = e ? 0 : -1;
    } else {
        lpAssert(e);
    }
    lp = lpSplice(lp, off, oldlen, e ? e->total : 0, delta);
    if (!lp) return NULL;
    if (e) lpWritePending(lp + off, e);
    if (newp) *newp = (!e && lp + off == lpEofPtr(lp)) ? NULL : lp + off;
    return lp;
}

unsigned char *lpInsertString(unsigned char *lp, unsigned char *s, uint32_t slen,
                              unsigned char *p, int where, unsigned char **newp) {
    if (s == NULL && where == LP_REPLACE) return lpInsertPending(lp, NULL, p, where, newp);
    lpPending e;
    lpPrepareString(&e, s, slen);
    return lpInsertPending(lp, &e, p, where, newp);
}

unsigned char *lpInsertInteger(unsigned char *lp, long long lval, unsigned char *p, int where,
                               unsigned char **newp) {
    lpPending e;
    lpPrepareInt(&e, lval);
    return lpInsertPending(lp, &e, p, where, newp);
}

/* Where a prepend writes: before the first element, or at the terminator when empty. */
static unsigned char *lpHeadPos(unsigned char *lp) {
    return lp + LP_HDR_SIZE;
}

unsigned char *lpAppend(unsigned char *lp, unsigned char *s, uint32_t slen) {
    return lpInsertString(lp, s, slen, lpEofPtr(lp), LP_BEFORE, NULL);
}

unsigned char *lpPrepend(unsigned char *lp, unsigned char *s, uint32_t slen) {
    return lpInsertString(lp, s, slen, lpHeadPos(lp), LP_BEFORE, NULL);
}

unsigned char *lpAppendInteger(unsigned char *lp, long long lval) {
    return lpInsertInteger(lp, lval, lpEofPtr(lp), LP_BEFORE, NULL);
}

unsigned char *lpPrependInteger(unsigned char *lp, long long lval) {
    return lpInsertInteger(lp, lval, lpHeadPos(lp), LP_BEFORE, NULL);
}

unsigned char *lpReplace(unsigned char *lp, unsigned char **p, unsigned char *s, uint32_t slen) {
    return lpInsertString(lp, s, slen, *p, LP_REPLACE, p);
}

unsigned char *lpReplaceInteger(unsigned char *lp, unsigned char **p, long long lval) {
    return lpInsertInteger(lp, lval, *p, LP_REPLACE, p);
}

unsigned char *lpDelete(unsigned char *lp, unsigned char *p, unsigned char **newp) {
    return lpInsertPending(lp, NULL, p, LP_REPLACE, newp);
}

unsigned char *lpBatchInsert(unsigned char *lp, unsigned char *p, int where,
                             listpackEntry *entries, unsigned int len, unsigned char **newp) {
    lpAssert(p && where != LP_REPLACE);
    if (where == LP_AFTER) p += lpCheckedEntrySize(lp, p);
    size_t off = (size_t)(p - lp);
    if (len == 0) {
        if (newp) *newp = p;
        return lp;
    }
    /* Small batches (a sorted set's member and score) are prepared on the stack. */
    lpPending stackbuf[LP_BATCH_STACK_ENTRIES];
    lpPending *pend = len <= LP_BATCH_STACK_ENTRIES ? stackbuf : zmalloc(sizeof(*pend) * len);
    uint64_t add = 0;
    for (unsigned int i = 0; i < len; i++) {
        lpPrepareEntry(&pend[i], &entries[i]);
        add += pend[i].total;
    }
    unsigned char *res = NULL;
    if (add <= UINT32_MAX) res = lpSplice(lp, off, 0, (size_t)add, (long)len);
    if (res) {
        unsigned char *dst = res + off;
        for (unsigned int i = 0; i < len; i++) dst = lpWritePending(dst, &pend[i]);
        if (newp) *newp = res + off;
    }
    if (pend != stackbuf) zfree(pend);
    return res;
}

unsigned char *lpBatchAppend(unsigned char *lp, listpackEntry *entries, unsigned long len) {
    lpAssert(len <= UINT_MAX);
    return lpBatchInsert(lp, lpEofPtr(lp), LP_BEFORE, entries, (unsigned int)len, NULL);
}

unsigned char *lpDeleteRangeWithEntry(unsigned char *lp, unsigned char **p, unsigned long num) {
    unsigned char *start = *p;
    if (num == 0 || start == NULL) return lp;
    unsigned char *q = start, *eof = lpEofPtr(lp);
    lpAssert(start >= lp + LP_HDR_SIZE && start <= eof);
    unsigned long deleted = 0;
    while (deleted < num && q != eof) {
        q += lpEntrySizeGuarded(q, (size_t)(eof - q));
        deleted++;
    }
    size_t off = (size_t)(start - lp);
    lp = lpSplice(lp, off, (size_t)(q - start), 0, -(long)deleted);
    *p = lp + off == lpEofPtr(lp) ? NULL : lp + off;
    return lp;
}

unsigned char *lpDeleteRange(unsigned char *lp, long index, unsigned long num) {
    unsigned char *p = lpSeek(lp, index);
    if (!p) return lp;
    return lpDeleteRangeWithEntry(lp, &p, num);
}

unsigned char *lpBatchDelete(unsigned char *lp, unsigned char **ps, unsigned long count) {
    if (count == 0) return lp;
    unsigned char *end = lp + lpTotalBytes(lp); /* one past the terminator */
    unsigned char *dst = ps[0];
    for (unsigned long i = 0; i < count; i++) {
        unsigned char *cur = ps[i];
        lpAssert(cur >= dst);
        unsigned char *keep = cur + lpCheckedEntrySize(lp, cur);
        unsigned char *keep_end = i + 1 < count ? ps[i + 1] : end;
        lpAssert(keep_end >= keep);
        size_t n = (size_t)(keep_end - keep);
        memmove(dst, keep, n);
        dst += n;
    }
    size_t newtotal = (size_t)(dst - lp);
    lpSetTotalBytes(lp, (uint32_t)newtotal);
    unsigned hc = lpHeaderCount(lp);
    if (hc != LP_HDR_NUMELE_UNKNOWN) {
        lpAssert(hc >= count);
        lpSetHeaderCount(lp, hc - (unsigned)count);
    }
    return zrealloc(lp, newtotal);
}

unsigned char *lpMerge(unsigned char **first, unsigned char **second) {
    if (!first || !second || !*first || !*second || *first == *second) return NULL;
    unsigned char *a = *first, *b = *second;
    size_t abytes = lpBytes(a), bbytes = lpBytes(b);
    size_t abody = abytes - LP_HDR_SIZE - 1, bbody = bbytes - LP_HDR_SIZE - 1;
    unsigned long count = lpLength(a) + lpLength(b);
    uint64_t total = (uint64_t)abytes + bbody;
    if (total > UINT32_MAX) return NULL;
    unsigned char *merged;
    if (abytes >= bbytes) {
        /* Grow the first and copy the second's entries after its own. */
        merged = zrealloc(a, total);
        memcpy(merged + LP_HDR_SIZE + abody, b + LP_HDR_SIZE, bbody);
        zfree(b);
    } else {
        /* Grow the second, shift its entries up and copy the first's in front. */
        merged = zrealloc(b, total);
        memmove(merged + LP_HDR_SIZE + abody, merged + LP_HDR_SIZE, bbody);
        memcpy(merged + LP_HDR_SIZE, a + LP_HDR_SIZE, abody);
        zfree(a);
    }
    merged[total - 1] = LP_EOF;
    lpSetTotalBytes(merged, (uint32_t)total);
    lpSetHeaderCount(merged, count < LP_HDR_NUMELE_UNKNOWN ? (unsigned)count
                                                           : LP_HDR_NUMELE_UNKNOWN);
    if (abytes >= bbytes) {
        *first = merged;
        *second = NULL;
    } else {
        *first = NULL;
        *second = merged;
    }
    return merged;
}

/* ------------------------------------------------------------------------------------
 * Validation
 * ---------------------------------------------------------------------------------- */

unsigned char *lpValidateFirst(unsigned char *lp) {
    unsigned char *p = lp + LP_HDR_SIZE;
    return p == lpEofPtr(lp) ? NULL : p;
}

int lpValidateNext(unsigned char *lp, unsigned char **pp, size_t lpbytes) {
    unsigned char *p = *pp;
    if (!p || lpbytes < LP_HDR_SIZE + 1) return 0;
    if (p < lp + LP_HDR_SIZE || p >= lp + lpbytes) return 0;
    if (p == lp + lpbytes - 1) {
        if (p[0] != LP_EOF) return 0;
        *pp = NULL;
        return 1;
    }
    uint64_t size = lpEntryBounded(p, lp + lpbytes - 1);
    if (size == 0) return 0;
    *pp = p + size;
    return 1;
}

int lpValidateIntegrity(unsigned char *lp, size_t size, int deep, listpackValidateEntryCB entry_cb,
                        void *cb_userdata) {
    if (size < LP_HDR_SIZE + 1) return 0;
    if (lpTotalBytes(lp) != size) return 0;
    if (lp[size - 1] != LP_EOF) return 0;
    if (!deep) return 1;

    unsigned head_count = lpHeaderCount(lp);
    unsigned long count = 0;
    unsigned char *p = lp + LP_HDR_SIZE;
    unsigned char *eof = lp + size - 1;
    while (p != eof) {
        unsigned char *entry = p;
        uint64_t esize = lpEntryBounded(p, eof);
        if (esize == 0) return 0; /* also catches a stray 0xFF before the real end */
        if (entry_cb && !entry_cb(entry, head_count, cb_userdata)) return 0;
        p += esize;
        count++;
    }
    if (head_count != LP_HDR_NUMELE_UNKNOWN && head_count != count) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------
 * Randomness
 * ---------------------------------------------------------------------------------- */

static void lpStoreEntry(unsigned char *p, listpackEntry *out) {
    out->sval = lpGetValue(p, &out->slen, &out->lval);
}

/* A pick of a random sampler: listpack index, and the output slot it goes to. */
typedef struct {
    unsigned long index;
    unsigned int order;
} lpPick;

static int lpPickCompare(const void *a, const void *b) {
    const lpPick *x = a, *y = b;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return 0;
}

/* Fills the picks (sorted by index as a side effect) by one forward walk: out1 gets the
 * element at each index, out2 (when not NULL) the one after it. */
static void lpFillPicks(unsigned char *lp, lpPick *picks, unsigned int count,
                        listpackEntry *out1, listpackEntry *out2) {
    qsort(picks, count, sizeof(*picks), lpPickCompare);
    unsigned char *p = lpFirst(lp);
    unsigned long pos = 0;
    for (unsigned int i = 0; i < count; i++) {
        while (pos < picks[i].index) {
            p = lpNext(lp, p);
            pos++;
        }
        lpAssert(p);
        lpStoreEntry(p, &out1[picks[i].order]);
        if (out2) {
            unsigned char *v = lpNext(lp, p);
            lpAssert(v);
            lpStoreEntry(v, &out2[picks[i].order]);
        }
    }
}

void lpRandomPair(unsigned char *lp, unsigned long total_count, listpackEntry *key,
                  listpackEntry *val) {
    lpAssert(total_count > 0);
    long index = (long)((unsigned long)rand() % total_count) * 2;
    unsigned char *p = lpSeek(lp, index);
    lpAssert(p);
    lpStoreEntry(p, key);
    if (!val) return;
    p = lpNext(lp, p);
    lpAssert(p);
    lpStoreEntry(p, val);
}

void lpRandomPairs(unsigned char *lp, unsigned int count, listpackEntry *keys, listpackEntry *vals) {
    if (count == 0) return;
    unsigned long pairs = lpLength(lp) / 2;
    lpAssert(pairs > 0);
    lpPick *picks = zmalloc(sizeof(*picks) * count);
    for (unsigned int i = 0; i < count; i++) {
        picks[i].index = ((unsigned long)rand() % pairs) * 2;
        picks[i].order = i;
    }
    lpFillPicks(lp, picks, count, keys, vals);
    zfree(picks);
}

void lpRandomEntries(unsigned char *lp, unsigned int count, listpackEntry *entries) {
    if (count == 0) return;
    unsigned long total = lpLength(lp);
    lpAssert(total > 0);
    lpPick *picks = zmalloc(sizeof(*picks) * count);
    for (unsigned int i = 0; i < count; i++) {
        picks[i].index = (unsigned long)rand() % total;
        picks[i].order = i;
    }
    lpFillPicks(lp, picks, count, entries, NULL);
    zfree(picks);
}

unsigned int lpRandomPairsUnique(unsigned char *lp, unsigned int count, listpackEntry *keys,
                                 listpackEntry *vals) {
    unsigned long pairs = lpLength(lp) / 2;
    if (count > pairs) count = (unsigned int)pairs;
    unsigned int picked = 0;
    unsigned char *p = lpFirst(lp);
    /* Selection sampling: pair i is taken with probability wanted / left. */
    for (unsigned long i = 0; i < pairs && picked < count; i++) {
        unsigned char *v = lpNext(lp, p);
        lpAssert(v);
        unsigned long left = pairs - i;
        if ((unsigned long)rand() % left < (unsigned long)(count - picked)) {
            lpStoreEntry(p, &keys[picked]);
            if (vals) lpStoreEntry(v, &vals[picked]);
            picked++;
        }
        p = lpNext(lp, v);
    }
    return picked;
}

unsigned char *lpNextRandom(unsigned char *lp, unsigned char *p, unsigned int *index,
                            unsigned int remaining, int even_only) {
    unsigned long i = *index;
    unsigned long total = lpLength(lp);
    while (p && i < total) {
        if (even_only && (i & 1)) {
            p = lpNext(lp, p);
            i++;
            continue;
        }
        unsigned long available = even_only ? (total - i + 1) / 2 : total - i;
        if ((unsigned long)rand() % available < remaining) {
            *index = (unsigned int)i;
            return p;
        }
        p = lpNext(lp, p);
        i++;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------
 * Debugging
 * ---------------------------------------------------------------------------------- */

#define LP_REPR_MAX_PAYLOAD 40

void lpRepr(unsigned char *lp) {
    printf("{total bytes %zu} {num entries %lu}\n", lpBytes(lp), lpLength(lp));
    unsigned long index = 0;
    for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p), index++) {
        uint64_t enc = lpEncodedSize(p);
        printf("{\n\taddr: %p,\n\tindex: %2lu,\n\toffset: %1lu,\n\thdr+entrylen: %2llu,\n"
               "\tbacklen: %2u,\n\tpayload: ",
               (void *)p, index, (unsigned long)(p - lp), (unsigned long long)enc,
               lpBacklenBytes(enc));
        int64_t v;
        uint32_t len;
        unsigned char *s = lpDecode(p, &v, &len);
        if (s) {
            fwrite(s, 1, len > LP_REPR_MAX_PAYLOAD ? LP_REPR_MAX_PAYLOAD : len, stdout);
            if (len > LP_REPR_MAX_PAYLOAD) printf("...");
        } else {
            printf("%lld", (long long)v);
        }
        printf("\n}\n");
    }
    printf("{end}\n\n");
}
