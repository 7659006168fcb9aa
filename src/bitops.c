/* bitops.c -- strings as bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD
 * and BITFIELD_RO.
 *
 * Bit numbering is big-endian within the string: bit 0 is the most significant bit of
 * the first byte. Reads treat a string as followed by infinitely many zero bits; writes
 * grow the value (zero-filled) up to the highest bit they touch, after unsharing it with
 * dbUnshareStringValue(). INT-encoded values are read through their decimal text, the
 * same bytes GET returns.
 *
 * Counting uses the CPU's popcount instruction when it has one, picked once at run
 * time; bit searches skip whole 64-bit words of uninteresting bits.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "server.h" /* first: networking.h uses its mstime_t */
#include "commands.h"
#include "db.h"
#include "networking.h"
#include "notify.h"
#include "object.h"
#include "sds.h"
#include "util.h"
#include "zmalloc.h"

/* ---------------------------------------------------------------------------
 * Low level bit operations
 * ------------------------------------------------------------------------- */

#define WORD_BYTES 8
#define BITS_PER_BYTE 8

static inline uint64_t loadWord(const unsigned char *p) {
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

static inline void storeWord(unsigned char *p, uint64_t w) {
    memcpy(p, &w, sizeof(w));
}

/* The same loop compiled twice: with and without the popcnt instruction. */
#define POPCOUNT_BODY                                                                  \
    long long bits = 0;                                                                \
    size_t i = 0;                                                                      \
    for (; i + 4 * WORD_BYTES <= n; i += 4 * WORD_BYTES) {                             \
        bits += __builtin_popcountll(loadWord(p + i)) +                                \
                __builtin_popcountll(loadWord(p + i + WORD_BYTES)) +                   \
                __builtin_popcountll(loadWord(p + i + 2 * WORD_BYTES)) +               \
                __builtin_popcountll(loadWord(p + i + 3 * WORD_BYTES));                \
    }                                                                                  \
    for (; i + WORD_BYTES <= n; i += WORD_BYTES) bits += __builtin_popcountll(loadWord(p + i)); \
    for (; i < n; i++) bits += __builtin_popcount(p[i]);                               \
    return bits;

static long long popcountPortable(const unsigned char *p, size_t n) {
    POPCOUNT_BODY
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("popcnt"))) static long long popcountHardware(const unsigned char *p, size_t n) {
    POPCOUNT_BODY
}
#endif

/* Number of bits set in the n bytes at p. */
static long long popcountBytes(const unsigned char *p, size_t n) {
#if defined(__x86_64__) || defined(__i386__)
    static int has_popcnt = -1;
    if (has_popcnt < 0) {
        __builtin_cpu_init();
        has_popcnt = __builtin_cpu_supports("popcnt") ? 1 : 0;
    }
    if (has_popcnt) return popcountHardware(p, n);
#endif
    return popcountPortable(p, n);
}

/* Position of the first bit equal to `bit` in the n bytes at p, or -1 when there is
 * none. */
static long long firstBitIn(const unsigned char *p, size_t n, int bit) {
    const unsigned char skip_byte = bit ? 0x00 : 0xff;
    const uint64_t skip_word = bit ? 0 : UINT64_MAX;
    size_t i = 0;

    while (i + WORD_BYTES <= n && loadWord(p + i) == skip_word) i += WORD_BYTES;
    while (i < n && p[i] == skip_byte) i++;
    if (i == n) return -1;
    unsigned char b = bit ? p[i] : (unsigned char)~p[i]; /* now looking for a 1 */
    return (long long)i * BITS_PER_BYTE + (__builtin_clz((unsigned)b) - (int)(sizeof(unsigned) * 8 - 8));
}

/* Reads `bits` bits (1..64) at bit `offset` as an unsigned number, most significant
 * first. Bits beyond `len` bytes read as zero. */
static uint64_t getBitsUnsigned(const unsigned char *p, size_t len, uint64_t offset, int bits) {
    uint64_t v = 0;
    for (int k = 0; k < bits; k++, offset++) {
        uint64_t byte = offset >> 3;
        int bitval = byte < len ? (p[byte] >> (7 - (offset & 7))) & 1 : 0;
        v = (v << 1) | (uint64_t)bitval;
    }
    return v;
}

static int64_t getBitsSigned(const unsigned char *p, size_t len, uint64_t offset, int bits) {
    uint64_t v = getBitsUnsigned(p, len, offset, bits);
    if (bits < 64 && (v >> (bits - 1)) & 1) v |= UINT64_MAX << bits; /* sign-extend */
    return (int64_t)v;
}

/* Writes the low `bits` bits of v at bit `offset`; the caller made the string long
 * enough. */
static void setBits(unsigned char *p, uint64_t offset, int bits, uint64_t v) {
    for (int k = bits - 1; k >= 0; k--, offset++) {
        uint64_t byte = offset >> 3;
        unsigned char mask = (unsigned char)(1u << (7 - (offset & 7)));
        if ((v >> k) & 1)
            p[byte] |= mask;
        else
            p[byte] &= (unsigned char)~mask;
    }
}

/* ---------------------------------------------------------------------------
 * BITFIELD overflow arithmetic
 * ------------------------------------------------------------------------- */

#define BFOVERFLOW_WRAP 0
#define BFOVERFLOW_SAT 1
#define BFOVERFLOW_FAIL 2

/* value + incr for a `bits` wide unsigned field, where value is what is stored or the
 * SET argument (a negative SET argument arrives as a huge unsigned number). Returns 0
 * when it fits, 1 on overflow, -1 on underflow; then *result holds the wrapped or
 * saturated value according to owtype. */
static int unsignedFieldAdd(uint64_t value, int64_t incr, int bits, int owtype, uint64_t *result) {
    uint64_t max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    int dir = 0;
    if (value > max || (incr > 0 && (uint64_t)incr > max - value))
        dir = 1;
    else if (incr < 0 && (uint64_t)0 - (uint64_t)incr > value)
        dir = -1;
    if (dir == 0 || owtype == BFOVERFLOW_WRAP) {
        *result = (value + (uint64_t)incr) & max;
    } else {
        *result = dir > 0 ? max : 0;
    }
    return dir;
}

/* The signed counterpart: overflow when value + incr > max, underflow when < min.
 * For fields narrower than 64 bits the bounds on incr are computed with 64-bit
 * wrap-around, as Valkey does: a SET of a value near INT64_MIN into a narrow field
 * counts as an overflow, not an underflow. */
static int signedFieldAdd(int64_t value, int64_t incr, int bits, int owtype, int64_t *result) {
    int64_t max = bits == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
    int64_t min = -max - 1;
    int64_t room_up = (int64_t)((uint64_t)max - (uint64_t)value);   /* may wrap */
    int64_t room_down = (int64_t)((uint64_t)min - (uint64_t)value); /* may wrap */
    int dir = 0;

    if (bits < 64) {
        if (value > max || incr > room_up)
            dir = 1;
        else if (value < min || incr < room_down)
            dir = -1;
    } else {
        if (value >= 0 && incr > 0 && incr > room_up)
            dir = 1;
        else if (value < 0 && incr < 0 && incr < room_down)
            dir = -1;
    }
    if (dir != 0 && owtype != BFOVERFLOW_WRAP) {
        *result = dir > 0 ? max : min;
        return dir;
    }
    uint64_t sum = (uint64_t)value + (uint64_t)incr;
    if (bits < 64) {
        uint64_t high = UINT64_MAX << bits;
        sum = (sum >> (bits - 1)) & 1 ? sum | high : sum & ~high;
    }
    *result = (int64_t)sum;
    return dir;
}

/* ---------------------------------------------------------------------------
 * Argument parsing and key access
 * ------------------------------------------------------------------------- */

/* The read-only bytes of a string value (NULL and length 0 for a missing key). */
static const unsigned char *valueBytes(const robj *o, char *buf, size_t *len) {
    if (o == NULL) {
        *len = 0;
        return NULL;
    }
    return (const unsigned char *)stringObjectBytes(o, buf, len);
}

/* Parses a bit offset. With `field_bits` > 0 (BITFIELD), "#N" means N * field_bits.
 * The byte holding the bit must lie below proto-max-bulk-len. */
static int getBitOffsetOrReply(client *c, robj *arg, uint64_t *offset, int field_bits) {
    static const char *err = "bit offset is not an integer or out of range";
    char buf[LONG_STR_SIZE];
    size_t len;
    const char *p = stringObjectBytes(arg, buf, &len);
    int times_width = field_bits > 0 && len > 0 && p[0] == '#';
    long long v;

    if (!string2ll(p + times_width, len - times_width, &v)) goto bad;
    if (times_width) {
        if (__builtin_mul_overflow(v, (long long)field_bits, &v)) goto bad;
    }
    if (v < 0 || (!mustObeyClient(c) && (v >> 3) >= server.proto_max_bulk_len)) goto bad;
    *offset = (uint64_t)v;
    return C_OK;
bad:
    addReplyError(c, err);
    return C_ERR;
}

/* Parses a BITFIELD type: i1..i64 or u1..u63. */
static int getBitfieldTypeOrReply(client *c, robj *arg, int *is_signed, int *bits) {
    char buf[LONG_STR_SIZE];
    size_t len;
    const char *p = stringObjectBytes(arg, buf, &len);
    long long n;

    if (len >= 2 && (p[0] == 'i' || p[0] == 'u') && string2ll(p + 1, len - 1, &n)) { /* lower case only */
        int sign = p[0] == 'i';
        if (n >= 1 && n <= (sign ? 64 : 63)) {
            *is_signed = sign;
            *bits = (int)n;
            return C_OK;
        }
    }
    addReplyError(c, "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
    return C_ERR;
}

/* Looks up the string at argv[1] for a write reaching bit `maxbit`, creating it or
 * growing it (zero-filled) so that bit exists. *grown says whether a key was created
 * or lengthened. Returns NULL after replying WRONGTYPE. */
static robj *lookupStringForBitWrite(client *c, uint64_t maxbit, int *grown) {
    size_t need = (size_t)(maxbit >> 3) + 1;
    robj *key = c->argv[1];
    robj *o = lookupKeyWrite(c->db, key);

    if (o == NULL) {
        *grown = 1;
        return dbAdd(c->db, key, createObject(OBJ_STRING, sdsnewlen(NULL, need)));
    }
    if (checkType(c, o, OBJ_STRING)) return NULL;
    o = dbUnshareStringValue(c->db, key, o);
    sds s = objectGetVal(o);
    size_t before = sdslen(s);
    if (need > before) {
        s = sdsgrowzero(s, need);
        objectSetVal(o, s);
    }
    *grown = need > before;
    return o;
}

/* ---------------------------------------------------------------------------
 * SETBIT / GETBIT
 * ------------------------------------------------------------------------- */

/* SETBIT key offset value: replies the bit's previous value. */
void setbitCommand(client *c) {
    static const char *err = "bit is not an integer or out of range";
    uint64_t offset;
    long on;

    if (getBitOffsetOrReply(c, c->argv[2], &offset, 0) != C_OK) return;
    if (getLongFromObjectOrReply(c, c->argv[3], &on, err) != C_OK) return;
    if (on != 0 && on != 1) {
        addReplyError(c, err);
        return;
    }

    int grown;
    robj *o = lookupStringForBitWrite(c, offset, &grown);
    if (o == NULL) return;

    unsigned char *p = (unsigned char *)objectGetVal(o);
    size_t byte = offset >> 3;
    unsigned char mask = (unsigned char)(1u << (7 - (offset & 7)));
    int old = (p[byte] & mask) != 0;

    if (grown || old != on) {
        if (on)
            p[byte] |= mask;
        else
            p[byte] &= (unsigned char)~mask;
        signalModifiedKey(c, c->db, c->argv[1]);
        notifyKeyspaceEvent(NOTIFY_STRING, "setbit", c->argv[1], c->db->id);
        server.dirty++;
    }
    addReply(c, old ? shared.cone : shared.czero);
}

/* GETBIT key offset */
void getbitCommand(client *c) {
    uint64_t offset;
    if (getBitOffsetOrReply(c, c->argv[2], &offset, 0) != C_OK) return;
    robj *o = lookupKeyReadOrReply(c, c->argv[1], shared.czero);
    if (o == NULL || checkType(c, o, OBJ_STRING)) return;

    char buf[LONG_STR_SIZE];
    size_t len;
    const unsigned char *p = valueBytes(o, buf, &len);
    size_t byte = offset >> 3;
    int bit = byte < len && (p[byte] >> (7 - (offset & 7))) & 1;
    addReply(c, bit ? shared.cone : shared.czero);
}

/* ---------------------------------------------------------------------------
 * BITCOUNT / BITPOS
 * ------------------------------------------------------------------------- */

/* A [start, end] range of a BITCOUNT or BITPOS, normalised against the value. In BIT
 * units the range is turned into whole bytes plus masks of the bits to ignore in the
 * first and last byte (bits set in a mask are outside the range). */
typedef struct bitRange {
    long long start, end; /* bytes, inclusive; empty when start > end */
    unsigned char first_out, last_out;
} bitRange;

/* Parses [start [end [BYTE|BIT]]] from argv[first]. */
static int parseRangeArgs(client *c, int first, long long *start, long long *end, int *end_given, int *isbit) {
    int extra = c->argc - first;
    *end_given = 0;
    *isbit = 0;
    if (extra == 0) return C_OK;
    if (extra > 3) {
        addReplyErrorObject(c, shared.syntaxerr);
        return C_ERR;
    }
    if (getLongLongFromObjectOrReply(c, c->argv[first], start, NULL) != C_OK) return C_ERR;
    if (extra == 3) {
        if (stringObjectEqualsIgnoreCase(c->argv[first + 2], "BIT")) {
            *isbit = 1;
        } else if (!stringObjectEqualsIgnoreCase(c->argv[first + 2], "BYTE")) {
            addReplyErrorObject(c, shared.syntaxerr);
            return C_ERR;
        }
    }
    if (extra >= 2) {
        if (getLongLongFromObjectOrReply(c, c->argv[first + 1], end, NULL) != C_OK) return C_ERR;
        *end_given = 1;
    }
    return C_OK;
}

/* Normalises user indexes (negative ones count from the end) against a value of
 * `len` bytes. */
static void normaliseRange(long long start, long long end, int isbit, size_t len, bitRange *r) {
    long long total = (long long)len * (isbit ? BITS_PER_BYTE : 1);
    r->first_out = r->last_out = 0;
    if (start < 0) start += total;
    if (end < 0) end += total;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= total) end = total - 1;
    if (isbit && start <= end) {
        r->first_out = (unsigned char)(0xff00 >> (start & 7));   /* bits before start */
        r->last_out = (unsigned char)(0xff >> ((end & 7) + 1)); /* bits after end */
        start >>= 3;
        end >>= 3;
    }
    r->start = start;
    r->end = end;
}

/* BITCOUNT key [start end [BYTE|BIT]] (Valkey 8 also takes a lone start) */
void bitcountCommand(client *c) {
    long long start = 0, end = 0;
    int end_given, isbit;
    if (parseRangeArgs(c, 2, &start, &end, &end_given, &isbit) != C_OK) return;

    robj *o = lookupKeyRead(c->db, c->argv[1]);
    if (o != NULL && checkType(c, o, OBJ_STRING)) return;
    char buf[LONG_STR_SIZE];
    size_t len;
    const unsigned char *p = valueBytes(o, buf, &len);
    if (o == NULL) {
        addReply(c, shared.czero);
        return;
    }

    bitRange r;
    if (c->argc == 2) {
        r.start = 0;
        r.end = (long long)len - 1;
        r.first_out = r.last_out = 0;
    } else {
        if (!end_given) end = (long long)len - 1;
        if (start < 0 && end < 0 && start > end) {
            addReply(c, shared.czero);
            return;
        }
        normaliseRange(start, end, isbit, len, &r);
    }
    if (r.start > r.end) {
        addReply(c, shared.czero);
        return;
    }
    long long count = popcountBytes(p + r.start, (size_t)(r.end - r.start + 1));
    count -= __builtin_popcount(p[r.start] & r.first_out);
    count -= __builtin_popcount(p[r.end] & r.last_out);
    addReplyLongLong(c, count);
}

/* BITPOS key bit [start [end [BYTE|BIT]]] */
void bitposCommand(client *c) {
    long bit;
    if (getLongFromObjectOrReply(c, c->argv[2], &bit, NULL) != C_OK) return;
    if (bit != 0 && bit != 1) {
        addReplyError(c, "The bit argument must be 1 or 0.");
        return;
    }
    long long start = 0, end = 0;
    int end_given, isbit;
    if (parseRangeArgs(c, 3, &start, &end, &end_given, &isbit) != C_OK) return;

    robj *o = lookupKeyRead(c->db, c->argv[1]);
    if (o != NULL && checkType(c, o, OBJ_STRING)) return;
    if (o == NULL) { /* an endless run of zeros */
        addReplyLongLong(c, bit ? -1 : 0);
        return;
    }
    char buf[LONG_STR_SIZE];
    size_t len;
    const unsigned char *p = valueBytes(o, buf, &len);

    bitRange r;
    if (c->argc == 3) {
        r.start = 0;
        r.end = (long long)len - 1;
        r.first_out = r.last_out = 0;
    } else {
        if (!end_given) end = (long long)len - 1;
        normaliseRange(start, end, isbit, len, &r);
    }
    if (r.start > r.end) {
        addReplyLongLong(c, -1);
        return;
    }

    /* Search the range with the out-of-range bits of its edge bytes forced to the
     * value we are not looking for. */
    long long pos = -1;
    long long nbytes = r.end - r.start + 1;
    const unsigned char *s = p + r.start;
    unsigned char edge_first = bit ? (unsigned char)(s[0] & ~r.first_out) : (unsigned char)(s[0] | r.first_out);
    if (nbytes == 1) {
        edge_first = bit ? (unsigned char)(edge_first & ~r.last_out) : (unsigned char)(edge_first | r.last_out);
        pos = firstBitIn(&edge_first, 1, bit);
    } else {
        pos = firstBitIn(&edge_first, 1, bit);
        if (pos < 0 && nbytes > 2) {
            long long mid = firstBitIn(s + 1, (size_t)nbytes - 2, bit);
            if (mid >= 0) pos = BITS_PER_BYTE + mid;
        }
        if (pos < 0) {
            unsigned char last = s[nbytes - 1];
            last = bit ? (unsigned char)(last & ~r.last_out) : (unsigned char)(last | r.last_out);
            long long tail = firstBitIn(&last, 1, bit);
            if (tail >= 0) pos = (nbytes - 1) * BITS_PER_BYTE + tail;
        }
    }

    if (pos >= 0) {
        addReplyLongLong(c, r.start * BITS_PER_BYTE + pos);
    } else if (bit == 0 && !end_given) {
        /* No explicit end: the string continues with zeros right after the range. */
        addReplyLongLong(c, (r.end + 1) * BITS_PER_BYTE);
    } else {
        addReplyLongLong(c, -1);
    }
}

/* ---------------------------------------------------------------------------
 * BITOP
 * ------------------------------------------------------------------------- */

#define BITOP_AND 0
#define BITOP_OR 1
#define BITOP_XOR 2
#define BITOP_NOT 3

/* Combines `nsrc` sources into res (maxlen bytes, zero-filled); sources shorter than
 * the result read as zero-padded. */
static void bitopCompute(int op, unsigned char *res, size_t maxlen, unsigned char **src, size_t *len, size_t nsrc) {
    if (op == BITOP_NOT) {
        size_t i = 0;
        for (; i + WORD_BYTES <= maxlen; i += WORD_BYTES) storeWord(res + i, ~loadWord(src[0] + i));
        for (; i < maxlen; i++) res[i] = (unsigned char)~src[0][i];
        return;
    }
    if (op == BITOP_AND) {
        size_t minlen = maxlen;
        for (size_t k = 0; k < nsrc; k++)
            if (len[k] < minlen) minlen = len[k];
        if (minlen == 0) return; /* all zeros */
        memcpy(res, src[0], minlen);
        for (size_t k = 1; k < nsrc; k++) {
            size_t i = 0;
            for (; i + WORD_BYTES <= minlen; i += WORD_BYTES)
                storeWord(res + i, loadWord(res + i) & loadWord(src[k] + i));
            for (; i < minlen; i++) res[i] &= src[k][i];
        }
        return;
    }
    for (size_t k = 0; k < nsrc; k++) {
        size_t n = len[k], i = 0;
        if (op == BITOP_OR) {
            for (; i + WORD_BYTES <= n; i += WORD_BYTES) storeWord(res + i, loadWord(res + i) | loadWord(src[k] + i));
            for (; i < n; i++) res[i] |= src[k][i];
        } else {
            for (; i + WORD_BYTES <= n; i += WORD_BYTES) storeWord(res + i, loadWord(res + i) ^ loadWord(src[k] + i));
            for (; i < n; i++) res[i] ^= src[k][i];
        }
    }
}

/* BITOP AND|OR|XOR|NOT destkey srckey [srckey ...]: replies the result's length; an
 * empty result deletes the destination. */
void bitopCommand(client *c) {
    int op;
    if (stringObjectEqualsIgnoreCase(c->argv[1], "AND"))
        op = BITOP_AND;
    else if (stringObjectEqualsIgnoreCase(c->argv[1], "OR"))
        op = BITOP_OR;
    else if (stringObjectEqualsIgnoreCase(c->argv[1], "XOR"))
        op = BITOP_XOR;
    else if (stringObjectEqualsIgnoreCase(c->argv[1], "NOT"))
        op = BITOP_NOT;
    else {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    if (op == BITOP_NOT && c->argc != 4) {
        addReplyError(c, "-ERR BITOP NOT must be called with a single source key.");
        return;
    }

    size_t nsrc = (size_t)c->argc - 3;
    robj **objs = zcalloc(sizeof(robj *) * nsrc);
    unsigned char **src = zmalloc(sizeof(unsigned char *) * nsrc);
    size_t *len = zmalloc(sizeof(size_t) * nsrc);
    size_t maxlen = 0;
    static unsigned char nothing[1];

    for (size_t k = 0; k < nsrc; k++) {
        robj *o = lookupKeyRead(c->db, c->argv[k + 3]);
        if (o == NULL) { /* a missing key is an empty string */
            src[k] = nothing;
            len[k] = 0;
            continue;
        }
        if (checkType(c, o, OBJ_STRING)) {
            for (size_t m = 0; m < k; m++)
                if (objs[m]) decrRefCount(objs[m]);
            zfree(objs);
            zfree(src);
            zfree(len);
            return;
        }
        objs[k] = getDecodedObject(o); /* keeps the bytes alive until we are done */
        src[k] = (unsigned char *)objectGetVal(objs[k]);
        len[k] = sdslen(objectGetVal(objs[k]));
        if (len[k] > maxlen) maxlen = len[k];
    }

    sds res = NULL;
    if (maxlen > 0) {
        res = sdsnewlen(NULL, maxlen);
        bitopCompute(op, (unsigned char *)res, maxlen, src, len, nsrc);
    }
    for (size_t k = 0; k < nsrc; k++)
        if (objs[k]) decrRefCount(objs[k]);
    zfree(objs);
    zfree(src);
    zfree(len);

    robj *target = c->argv[2];
    if (res != NULL) {
        robj *val = createObject(OBJ_STRING, res);
        setKey(c, c->db, target, &val, 0);
        notifyKeyspaceEvent(NOTIFY_STRING, "set", target, c->db->id);
        server.dirty++;
    } else if (dbDelete(c->db, target)) {
        signalModifiedKey(c, c->db, target);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", target, c->db->id);
        server.dirty++;
    }
    addReplyLongLong(c, (long long)maxlen);
}

/* ---------------------------------------------------------------------------
 * BITFIELD / BITFIELD_RO
 * ------------------------------------------------------------------------- */

#define BFOP_GET 0
#define BFOP_SET 1
#define BFOP_INCRBY 2

typedef struct bitfieldOp {
    uint64_t offset;
    int64_t arg; /* SET value or INCRBY increment */
    int opcode;
    int owtype;  /* OVERFLOW mode in force when the op was given */
    int bits;
    int is_signed;
} bitfieldOp;

/* Runs one SET or INCRBY on the (long enough) string at p and replies its result. */
static int bitfieldWrite(client *c, unsigned char *p, size_t len, const bitfieldOp *op, int grown) {
    int overflow;
    uint64_t oldbits, newbits;
    long long reply;

    if (op->is_signed) {
        int64_t oldval = getBitsSigned(p, len, op->offset, op->bits), newval;
        if (op->opcode == BFOP_INCRBY) {
            overflow = signedFieldAdd(oldval, op->arg, op->bits, op->owtype, &newval);
            reply = newval;
        } else {
            overflow = signedFieldAdd(op->arg, 0, op->bits, op->owtype, &newval);
            reply = oldval;
        }
        oldbits = (uint64_t)oldval;
        newbits = (uint64_t)newval;
    } else {
        uint64_t oldval = getBitsUnsigned(p, len, op->offset, op->bits), newval;
        if (op->opcode == BFOP_INCRBY) {
            overflow = unsignedFieldAdd(oldval, op->arg, op->bits, op->owtype, &newval);
            reply = (long long)newval;
        } else {
            overflow = unsignedFieldAdd((uint64_t)op->arg, 0, op->bits, op->owtype, &newval);
            reply = (long long)oldval;
        }
        oldbits = oldval;
        newbits = newval;
    }

    if (overflow && op->owtype == BFOVERFLOW_FAIL) {
        addReplyNull(c);
        return 0;
    }
    addReplyLongLong(c, reply);
    setBits(p, op->offset, op->bits, newbits);
    return grown || oldbits != newbits;
}

static void bitfieldGeneric(client *c, int readonly_command) {
    bitfieldOp *ops = NULL;
    int numops = 0, owtype = BFOVERFLOW_WRAP, writes = 0;
    uint64_t maxbit = 0;

    for (int j = 2; j < c->argc; j++) {
        int remaining = c->argc - j - 1;
        int opcode;
        if (stringObjectEqualsIgnoreCase(c->argv[j], "GET") && remaining >= 2) {
            opcode = BFOP_GET;
        } else if (stringObjectEqualsIgnoreCase(c->argv[j], "SET") && remaining >= 3) {
            opcode = BFOP_SET;
        } else if (stringObjectEqualsIgnoreCase(c->argv[j], "INCRBY") && remaining >= 3) {
            opcode = BFOP_INCRBY;
        } else if (stringObjectEqualsIgnoreCase(c->argv[j], "OVERFLOW") && remaining >= 1) {
            robj *mode = c->argv[++j];
            if (stringObjectEqualsIgnoreCase(mode, "WRAP"))
                owtype = BFOVERFLOW_WRAP;
            else if (stringObjectEqualsIgnoreCase(mode, "SAT"))
                owtype = BFOVERFLOW_SAT;
            else if (stringObjectEqualsIgnoreCase(mode, "FAIL"))
                owtype = BFOVERFLOW_FAIL;
            else {
                addReplyError(c, "Invalid OVERFLOW type specified");
                goto done;
            }
            continue;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            goto done;
        }

        bitfieldOp op = {0, 0, opcode, owtype, 0, 0};
        if (getBitfieldTypeOrReply(c, c->argv[j + 1], &op.is_signed, &op.bits) != C_OK) goto done;
        if (getBitOffsetOrReply(c, c->argv[j + 2], &op.offset, op.bits) != C_OK) goto done;
        if (opcode != BFOP_GET) {
            long long v;
            if (getLongLongFromObjectOrReply(c, c->argv[j + 3], &v, NULL) != C_OK) goto done;
            op.arg = v;
            writes = 1;
            if (op.offset + (uint64_t)op.bits - 1 > maxbit) maxbit = op.offset + (uint64_t)op.bits - 1;
        }
        ops = zrealloc(ops, sizeof(*ops) * (numops + 1));
        ops[numops++] = op;
        j += opcode == BFOP_GET ? 2 : 3;
    }

    robj *o;
    int grown = 0;
    if (!writes) {
        o = lookupKeyRead(c->db, c->argv[1]);
        if (o != NULL && checkType(c, o, OBJ_STRING)) goto done;
    } else {
        if (readonly_command) {
            addReplyError(c, "-ERR BITFIELD_RO only supports the GET subcommand");
            goto done;
        }
        o = lookupStringForBitWrite(c, maxbit, &grown);
        if (o == NULL) goto done;
    }

    addReplyArrayLen(c, numops);
    long long changes = 0;
    for (int k = 0; k < numops; k++) {
        const bitfieldOp *op = &ops[k];
        if (op->opcode == BFOP_GET) {
            /* Reads go through the current bytes, which earlier SETs may have changed. */
            char buf[LONG_STR_SIZE];
            size_t len;
            const unsigned char *p = valueBytes(o, buf, &len);
            if (op->is_signed)
                addReplyLongLong(c, getBitsSigned(p, len, op->offset, op->bits));
            else
                addReplyLongLong(c, (long long)getBitsUnsigned(p, len, op->offset, op->bits));
        } else {
            sds s = objectGetVal(o);
            changes += bitfieldWrite(c, (unsigned char *)s, sdslen(s), op, grown);
        }
    }
    if (changes) {
        signalModifiedKey(c, c->db, c->argv[1]);
        notifyKeyspaceEvent(NOTIFY_STRING, "setbit", c->argv[1], c->db->id);
        server.dirty += changes;
    }
done:
    zfree(ops);
}

/* BITFIELD key [GET type offset | SET type offset value | INCRBY type offset increment
 *              | OVERFLOW WRAP|SAT|FAIL] ... */
void bitfieldCommand(client *c) {
    bitfieldGeneric(c, 0);
}

/* BITFIELD_RO key [GET type offset] ... */
void bitfieldRoCommand(client *c) {
    bitfieldGeneric(c, 1);
}
