/* hyperloglog.c -- PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST.
 *
 * A HyperLogLog is an ordinary string value, so it travels unchanged through RDB files,
 * DUMP/RESTORE and replication to and from Valkey: the byte layout below is Valkey's.
 *
 *   [ "HYLL" ][enc 1][unused 3][cardinality cache 8, little endian][registers ...]
 *
 * There are 2^14 registers. Each holds the longest run of trailing zeros (plus one) seen
 * in the upper 50 bits of the 64-bit MurmurHash64A of an element whose low 14 bits
 * selected the register. The top bit of the last cache byte set means "cache stale".
 *
 * Two encodings:
 *  - dense (0): 16384 registers of 6 bits packed in little-endian bit order, register i
 *    in bits [6i, 6i+6) counting from bit 0 of the first register byte. 12304 bytes.
 *  - sparse (1): run-length opcodes, used while the HLL is small:
 *      00llllll          ZERO:  1..64 zero registers (l+1)
 *      01llllll llllllll XZERO: 1..16384 zero registers (l+1, 14 bits, big endian)
 *      1vvvvvll          VAL:   1..4 registers (l+1) all holding v+1 (1..32)
 *    A fresh HLL is one XZERO covering everything. A sparse HLL turns dense when a
 *    register needs a value above 32 or when growing it would pass hll-sparse-max-bytes.
 *
 * Updating a sparse HLL rewrites the one opcode holding the register (splitting it into
 * up to three) and then merges neighbouring VAL opcodes of equal value, exactly as
 * Valkey does, so the same insertions produce the same bytes on both servers.
 *
 * The cardinality comes from the register histogram with the estimator of Otmar Ertl,
 * "New cardinality estimation algorithms for HyperLogLog sketches" (arXiv:1702.01284),
 * the one Valkey uses.
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
#include "networking.h"
#include "notify.h"
#include "object.h"
#include "sds.h"
#include "util.h"
#include "zmalloc.h"

/* ---------------------------------------------------------------------------
 * Layout
 * ------------------------------------------------------------------------- */

#define HLL_P 14
#define HLL_Q (64 - HLL_P) /* hash bits left to count zeros in */
#define HLL_REGISTERS (1 << HLL_P)
#define HLL_P_MASK (HLL_REGISTERS - 1)
#define HLL_BITS 6
#define HLL_REGISTER_MAX ((1 << HLL_BITS) - 1)
#define HLL_HDR_SIZE 16
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) / 8)
#define HLL_DENSE 0
#define HLL_SPARSE 1
#define HLL_MAX_ENCODING 1
#define HLL_OFF_ENCODING 4
#define HLL_OFF_CARD 8
#define HLL_CARD_STALE 0x80 /* in the last cache byte */
#define HLL_HASH_SEED 0xadc83b19ULL

#define SPARSE_VAL_BIT 0x80
#define SPARSE_XZERO_BIT 0x40
#define SPARSE_ZERO_MAX 64
#define SPARSE_XZERO_MAX HLL_REGISTERS
#define SPARSE_VAL_MAX_VALUE 32
#define SPARSE_VAL_MAX_LEN 4
/* A split opcode becomes at most XZERO VAL XZERO: 5 bytes in place of 2. */
#define SPARSE_MAX_GROWTH 3
/* Spare room added at once when a sparse HLL grows: the current size while small, this
 * much at most, and never beyond hll-sparse-max-bytes. */
#define SPARSE_GROW_STEP 300

static const char *hll_wrongtype_err = "-WRONGTYPE Key is not a valid HyperLogLog string value.";
static const char *hll_corrupt_err = "-INVALIDOBJ Corrupted HLL object detected";

static size_t hll_sparse_max_bytes = 3000; /* hll-sparse-max-bytes */

static inline uint8_t *hllRegisters(sds s) {
    return (uint8_t *)s + HLL_HDR_SIZE;
}
static inline int hllEncoding(sds s) {
    return (uint8_t)s[HLL_OFF_ENCODING];
}
static inline void hllInvalidateCache(sds s) {
    s[HLL_OFF_CARD + 7] = (char)((uint8_t)s[HLL_OFF_CARD + 7] | HLL_CARD_STALE);
}
static inline int hllCacheValid(sds s) {
    return ((uint8_t)s[HLL_OFF_CARD + 7] & HLL_CARD_STALE) == 0;
}
static uint64_t hllCacheGet(sds s) {
    uint64_t card = 0;
    for (int i = 7; i >= 0; i--) card = (card << 8) | (uint8_t)s[HLL_OFF_CARD + i];
    return card;
}
static void hllCacheSet(sds s, uint64_t card) {
    for (int i = 0; i < 8; i++) s[HLL_OFF_CARD + i] = (char)((card >> (8 * i)) & 0xff);
}

/* ---------------------------------------------------------------------------
 * Hashing: MurmurHash64A (Austin Appleby's public-domain design), blocks read little
 * endian so every machine computes the same registers.
 * ------------------------------------------------------------------------- */

static uint64_t murmurHash64A(const unsigned char *data, size_t len, uint64_t seed) {
    const uint64_t mul = 0xc6a4a7935bd1e995ULL;
    const int shift = 47;
    uint64_t h = seed ^ ((uint64_t)len * mul);
    size_t blocks = len / 8;

    for (size_t b = 0; b < blocks; b++, data += 8) {
        uint64_t k = 0;
        for (int i = 7; i >= 0; i--) k = (k << 8) | data[i];
        k *= mul;
        k ^= k >> shift;
        k *= mul;
        h ^= k;
        h *= mul;
    }
    size_t tail = len & 7;
    if (tail) {
        for (size_t i = tail; i > 0; i--) h ^= (uint64_t)data[i - 1] << (8 * (i - 1));
        h *= mul;
    }
    h ^= h >> shift;
    h *= mul;
    h ^= h >> shift;
    return h;
}

/* The register an element falls into and the value it proposes for it: one more than
 * the number of trailing zeros of the hash bits above the index (at most Q + 1). */
static uint8_t hllElementRank(const unsigned char *ele, size_t len, long *index) {
    uint64_t hash = murmurHash64A(ele, len, HLL_HASH_SEED);
    *index = (long)(hash & HLL_P_MASK);
    hash >>= HLL_P;
    hash |= 1ULL << HLL_Q; /* bounds the count */
    return (uint8_t)(__builtin_ctzll(hash) + 1);
}

/* ---------------------------------------------------------------------------
 * Dense registers
 * ------------------------------------------------------------------------- */

static inline uint8_t denseGet(const uint8_t *regs, long i) {
    unsigned long bit = (unsigned long)i * HLL_BITS;
    unsigned long byte = bit >> 3, shift = bit & 7;
    unsigned v = regs[byte] >> shift;
    if (shift > 8 - HLL_BITS) v |= (unsigned)regs[byte + 1] << (8 - shift);
    return (uint8_t)(v & HLL_REGISTER_MAX);
}

static inline void denseSetRaw(uint8_t *regs, long i, uint8_t val) {
    unsigned long bit = (unsigned long)i * HLL_BITS;
    unsigned long byte = bit >> 3, shift = bit & 7;
    unsigned word = regs[byte];
    if (shift > 8 - HLL_BITS) word |= (unsigned)regs[byte + 1] << 8;
    word &= ~((unsigned)HLL_REGISTER_MAX << shift);
    word |= (unsigned)val << shift;
    regs[byte] = (uint8_t)word;
    if (shift > 8 - HLL_BITS) regs[byte + 1] = (uint8_t)(word >> 8);
}

/* Raises register i to val; 1 when it changed. */
static inline int denseSet(uint8_t *regs, long i, uint8_t val) {
    if (denseGet(regs, i) >= val) return 0;
    denseSetRaw(regs, i, val);
    return 1;
}

/* Four registers live in every three bytes: decodes them into out[0..3]. */
static inline void denseUnpack4(const uint8_t *b, uint8_t *out) {
    uint32_t w = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16);
    out[0] = w & HLL_REGISTER_MAX;
    out[1] = (w >> 6) & HLL_REGISTER_MAX;
    out[2] = (w >> 12) & HLL_REGISTER_MAX;
    out[3] = (w >> 18) & HLL_REGISTER_MAX;
}

static void denseHistogram(const uint8_t *regs, int *histo) {
    for (long i = 0; i < HLL_REGISTERS; i += 4, regs += 3) {
        if ((regs[0] | regs[1] | regs[2]) == 0) {
            histo[0] += 4;
            continue;
        }
        uint8_t v[4];
        denseUnpack4(regs, v);
        histo[v[0]]++;
        histo[v[1]]++;
        histo[v[2]]++;
        histo[v[3]]++;
    }
}

/* max[i] = MAX(max[i], register i) over a dense HLL. */
static void denseMergeInto(const uint8_t *regs, uint8_t *max) {
    for (long i = 0; i < HLL_REGISTERS; i += 4, regs += 3) {
        if ((regs[0] | regs[1] | regs[2]) == 0) continue;
        uint8_t v[4];
        denseUnpack4(regs, v);
        for (int k = 0; k < 4; k++)
            if (v[k] > max[i + k]) max[i + k] = v[k];
    }
}

/* Packs one byte per register into the dense layout. */
static void densePack(uint8_t *regs, const uint8_t *raw) {
    for (long i = 0; i < HLL_REGISTERS; i += 4, regs += 3, raw += 4) {
        uint32_t w = (uint32_t)(raw[0] & HLL_REGISTER_MAX) | ((uint32_t)(raw[1] & HLL_REGISTER_MAX) << 6) |
                     ((uint32_t)(raw[2] & HLL_REGISTER_MAX) << 12) | ((uint32_t)(raw[3] & HLL_REGISTER_MAX) << 18);
        regs[0] = (uint8_t)w;
        regs[1] = (uint8_t)(w >> 8);
        regs[2] = (uint8_t)(w >> 16);
    }
}

/* ---------------------------------------------------------------------------
 * Sparse opcodes
 * ------------------------------------------------------------------------- */

typedef struct sparseOp {
    int is_val, is_xzero;
    int bytes;   /* opcode size: 1, or 2 for XZERO */
    long len;    /* registers covered */
    uint8_t val; /* register value (0 for the zero runs) */
} sparseOp;

/* Decodes the opcode at p. An XZERO cut short by `end` reads its missing second byte
 * as 0 (Valkey reads the string's NUL terminator there), so corrupt HLLs are judged the
 * same way on both servers; its `bytes` then reach one past `end`. */
static inline void sparseDecode(const uint8_t *p, const uint8_t *end, sparseOp *op) {
    uint8_t b = p[0];
    op->is_val = (b & SPARSE_VAL_BIT) != 0;
    op->is_xzero = !op->is_val && (b & SPARSE_XZERO_BIT);
    if (op->is_val) {
        op->bytes = 1;
        op->val = (uint8_t)(((b >> 2) & 0x1f) + 1);
        op->len = (b & 0x3) + 1;
    } else if (op->is_xzero) {
        op->bytes = 2;
        op->val = 0;
        op->len = ((long)(b & 0x3f) << 8 | (p + 1 < end ? p[1] : 0)) + 1;
    } else {
        op->bytes = 1;
        op->val = 0;
        op->len = (b & 0x3f) + 1;
    }
}

static inline uint8_t sparseValOpcode(int val, long len) {
    return (uint8_t)(SPARSE_VAL_BIT | ((val - 1) << 2) | (len - 1));
}

/* Writes the shortest opcode for a run of `len` zero registers. */
static inline uint8_t *sparseEmitZeros(uint8_t *out, long len) {
    if (len > SPARSE_ZERO_MAX) {
        out[0] = (uint8_t)(SPARSE_XZERO_BIT | ((len - 1) >> 8));
        out[1] = (uint8_t)((len - 1) & 0xff);
        return out + 2;
    }
    out[0] = (uint8_t)(len - 1);
    return out + 1;
}

/* Walks a sparse body calling back per run; C_ERR unless the runs cover exactly the
 * registers. `visit` may be NULL (validation only). */
typedef void (*sparseVisit)(long first, const sparseOp *op, void *ctx);
static int sparseWalk(const uint8_t *p, const uint8_t *end, sparseVisit visit, void *ctx) {
    long idx = 0;
    sparseOp op;
    while (p < end) {
        sparseDecode(p, end, &op);
        if (idx + op.len > HLL_REGISTERS) return C_ERR;
        if (visit) visit(idx, &op, ctx);
        idx += op.len;
        p += op.bytes;
    }
    return idx == HLL_REGISTERS ? C_OK : C_ERR;
}

static void visitHistogram(long first, const sparseOp *op, void *ctx) {
    (void)first;
    ((int *)ctx)[op->val] += (int)op->len;
}

static void visitMax(long first, const sparseOp *op, void *ctx) {
    if (!op->is_val) return;
    uint8_t *max = ctx;
    for (long i = first; i < first + op->len; i++)
        if (op->val > max[i]) max[i] = op->val;
}

static void visitDense(long first, const sparseOp *op, void *ctx) {
    if (!op->is_val) return;
    for (long i = first; i < first + op->len; i++) denseSetRaw(ctx, i, op->val);
}

/* ---------------------------------------------------------------------------
 * The HLL object
 * ------------------------------------------------------------------------- */

/* A new, empty, sparse HLL: XZERO opcodes covering every register, cache valid at 0. */
static robj *hllCreate(void) {
    long left = HLL_REGISTERS;
    size_t len = HLL_HDR_SIZE + 2 * ((HLL_REGISTERS + SPARSE_XZERO_MAX - 1) / SPARSE_XZERO_MAX);
    sds s = sdsnewlen(NULL, len);
    memcpy(s, "HYLL", 4);
    s[HLL_OFF_ENCODING] = HLL_SPARSE;
    uint8_t *p = hllRegisters(s);
    while (left > 0) {
        long run = left > SPARSE_XZERO_MAX ? SPARSE_XZERO_MAX : left;
        p = sparseEmitZeros(p, run);
        left -= run;
    }
    return createObject(OBJ_STRING, s);
}

/* Whether `o` is a string holding a well-formed HLL header; replies otherwise. */
static int hllCheckOrReply(client *c, robj *o) {
    if (checkType(c, o, OBJ_STRING)) return C_ERR;
    if (sdsEncodedObject(o)) {
        sds s = objectGetVal(o);
        size_t len = sdslen(s);
        if (len >= HLL_HDR_SIZE && memcmp(s, "HYLL", 4) == 0 && hllEncoding(s) <= HLL_MAX_ENCODING &&
            (hllEncoding(s) != HLL_DENSE || len == HLL_DENSE_SIZE))
            return C_OK;
    }
    addReplyError(c, hll_wrongtype_err);
    return C_ERR;
}

/* Rewrites a sparse HLL as dense, keeping the header (and its cache). C_ERR when the
 * sparse body is corrupt (the object is unchanged then). */
static int hllSparseToDense(robj *o) {
    sds s = objectGetVal(o);
    if (hllEncoding(s) == HLL_DENSE) return C_OK;
    sds dense = sdsnewlen(NULL, HLL_DENSE_SIZE);
    const uint8_t *body = hllRegisters(s);
    if (sparseWalk(body, (uint8_t *)s + sdslen(s), visitDense, hllRegisters(dense)) == C_ERR) {
        sdsfree(dense);
        return C_ERR;
    }
    memcpy(dense, s, HLL_HDR_SIZE);
    dense[HLL_OFF_ENCODING] = HLL_DENSE;
    sdsfree(s);
    objectSetVal(o, dense);
    return C_OK;
}

/* Makes sure a sparse HLL has room for the largest split, growing a bit ahead so small
 * HLLs don't reallocate on every insertion, but never reserving beyond the size at
 * which they turn dense. */
static sds hllSparseReserve(robj *o) {
    sds s = objectGetVal(o);
    if (sdsavail(s) >= SPARSE_MAX_GROWTH) return s;
    size_t need = sdslen(s) + SPARSE_MAX_GROWTH;
    size_t want = need + (need < SPARSE_GROW_STEP ? need : SPARSE_GROW_STEP);
    if (want > hll_sparse_max_bytes) want = hll_sparse_max_bytes;
    if (want < need) want = need;
    s = sdsResize(s, want, 1);
    objectSetVal(o, s);
    return s;
}

static int hllPromoteAndSet(robj *o, long index, uint8_t count) {
    if (hllSparseToDense(o) == C_ERR) return -1;
    return denseSet(hllRegisters(objectGetVal(o)), index, count);
}

/* After a change at `from`: folds adjacent VAL opcodes of equal value while they fit one
 * opcode, looking at the next few opcodes only. Returns the new end. */
#define SPARSE_MERGE_SCAN 5
static uint8_t *sparseMergeAround(sds s, uint8_t *p, uint8_t *end) {
    for (int budget = SPARSE_MERGE_SCAN; p < end && budget > 0; budget--) {
        if (!(p[0] & SPARSE_VAL_BIT)) {
            p += (p[0] & SPARSE_XZERO_BIT) ? 2 : 1;
            continue;
        }
        if (p + 1 < end && (p[1] & SPARSE_VAL_BIT)) {
            sparseOp a, b;
            sparseDecode(p, end, &a);
            sparseDecode(p + 1, end, &b);
            if (a.val == b.val && a.len + b.len <= SPARSE_VAL_MAX_LEN) {
                p[1] = sparseValOpcode(a.val, a.len + b.len);
                memmove(p, p + 1, (size_t)(end - p - 1));
                sdsIncrLen(s, -1);
                end--;
                continue; /* the merged opcode may merge with the next one too */
            }
        }
        p++;
    }
    return end;
}

/* Raises register `index` of a sparse HLL to `count`. Returns 1 when it changed, 0 when
 * not, -1 when the HLL is corrupt. May turn the HLL dense (see the file comment). */
static int hllSparseSet(robj *o, long index, uint8_t count) {
    if (count > SPARSE_VAL_MAX_VALUE) return hllPromoteAndSet(o, index, count);

    sds s = hllSparseReserve(o);
    uint8_t *body = hllRegisters(s), *end = (uint8_t *)s + sdslen(s);
    uint8_t *p = body, *prev = NULL;
    long first = 0;
    sparseOp op;
    int found = 0;
    while (p < end) {
        sparseDecode(p, end, &op);
        if (index < first + op.len) {
            found = 1;
            break;
        }
        prev = p;
        p += op.bytes;
        first += op.len;
    }
    if (!found) return -1;

    if (op.is_val && op.val >= count) return 0;
    if (op.len == 1 && !op.is_xzero) {
        /* A lone register: the opcode becomes a VAL in place. */
        p[0] = sparseValOpcode(count, 1);
    } else {
        uint8_t seq[5], *n = seq;
        long before = index - first, after = first + op.len - 1 - index;
        if (op.is_val) {
            if (before) *n++ = sparseValOpcode(op.val, before);
            *n++ = sparseValOpcode(count, 1);
            if (after) *n++ = sparseValOpcode(op.val, after);
        } else {
            if (before) n = sparseEmitZeros(n, before);
            *n++ = sparseValOpcode(count, 1);
            if (after) n = sparseEmitZeros(n, after);
        }
        long seqlen = n - seq;
        long delta = seqlen - op.bytes;
        if (delta > 0 && sdslen(s) + (size_t)delta > hll_sparse_max_bytes) return hllPromoteAndSet(o, index, count);
        serverAssert(delta <= 0 || sdsavail(s) >= (size_t)delta);
        uint8_t *next = p + op.bytes; /* past `end` for a truncated XZERO */
        if (delta && next < end) memmove(next + delta, next, (size_t)(end - next));
        sdsIncrLen(s, delta);
        memcpy(p, seq, (size_t)seqlen);
        s[sdslen(s)] = '\0'; /* a truncated XZERO's split may spill over the end */
        end += delta;
    }
    sparseMergeAround(s, prev ? prev : body, end);
    hllInvalidateCache(s);
    return 1;
}

/* Adds an element: 1 when a register changed, 0 when not, -1 on a corrupt HLL. */
static int hllAdd(robj *o, const unsigned char *ele, size_t len) {
    long index;
    uint8_t count = hllElementRank(ele, len, &index);
    sds s = objectGetVal(o);
    switch (hllEncoding(s)) {
    case HLL_DENSE: return denseSet(hllRegisters(s), index, count);
    case HLL_SPARSE: return hllSparseSet(o, index, count);
    default: return -1;
    }
}

/* max[i] = MAX(max[i], register i of the HLL in o). C_ERR on a corrupt sparse HLL. */
static int hllMergeInto(robj *o, uint8_t *max) {
    sds s = objectGetVal(o);
    if (hllEncoding(s) == HLL_DENSE) {
        denseMergeInto(hllRegisters(s), max);
        return C_OK;
    }
    return sparseWalk(hllRegisters(s), (uint8_t *)s + sdslen(s), visitMax, max);
}

/* ---------------------------------------------------------------------------
 * Estimating the cardinality
 * ------------------------------------------------------------------------- */

/* sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), summed until it stops changing. */
static double hllSigma(double x) {
    if (x == 1.0) return INFINITY;
    double sum = x, weight = 1.0, last;
    do {
        x *= x;
        last = sum;
        sum += x * weight;
        weight += weight;
    } while (sum != last);
    return sum;
}

/* tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3. */
static double hllTau(double x) {
    if (x == 0.0 || x == 1.0) return 0.0;
    double sum = 1.0 - x, weight = 1.0, last;
    do {
        x = sqrt(x);
        last = sum;
        weight *= 0.5;
        sum -= pow(1.0 - x, 2) * weight;
    } while (sum != last);
    return sum / 3.0;
}

/* Ertl's improved raw estimator from the histogram of register values (0..Q+1). */
static uint64_t hllEstimate(const int *histo) {
    const double m = HLL_REGISTERS;
    const double alpha_inf = 0.721347520444481703680; /* 1 / (2 ln 2) */
    double z = m * hllTau((m - histo[HLL_Q + 1]) / m);
    for (int k = HLL_Q; k >= 1; k--) {
        z += histo[k];
        z *= 0.5;
    }
    z += m * hllSigma(histo[0] / m);
    return (uint64_t)llroundl(alpha_inf * m * m / z);
}

/* The cardinality of the HLL in s; *invalid is set for a corrupt sparse body. */
static uint64_t hllCount(sds s, int *invalid) {
    int histo[HLL_REGISTER_MAX + 1] = {0};
    if (hllEncoding(s) == HLL_DENSE) {
        denseHistogram(hllRegisters(s), histo);
    } else if (sparseWalk(hllRegisters(s), (uint8_t *)s + sdslen(s), visitHistogram, histo) == C_ERR) {
        *invalid = 1;
        return 0;
    }
    return hllEstimate(histo);
}

static uint64_t rawCount(const uint8_t *raw) {
    int histo[256] = {0};
    for (long i = 0; i < HLL_REGISTERS; i++) histo[raw[i]]++;
    return hllEstimate(histo);
}

/* ---------------------------------------------------------------------------
 * Configuration
 * ------------------------------------------------------------------------- */

static const configDirective hll_configs[] = {
    {.name = "hll-sparse-max-bytes",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &hll_sparse_max_bytes,
     .u.num = {CONFIG_NUM_SIZE_T, CONFIG_FMT_MEMORY, 0, LONG_MAX, 3000, NULL}},
};

static int hll_registered;

void hllTypeRegister(void) {
    if (hll_registered) return;
    hll_registered = 1;
    configRegisterDirectives(hll_configs, sizeof(hll_configs) / sizeof(hll_configs[0]));
}

/* Until server.c calls hllTypeRegister() at start-up, the directive is added on first
 * use (config.c accepts late registrations). */
static inline void hllEnsureRegistered(void) {
    if (!hll_registered) hllTypeRegister();
}

/* ---------------------------------------------------------------------------
 * Commands
 * ------------------------------------------------------------------------- */

/* The bytes of an argument (integers are spelled out into buf). */
static const unsigned char *argBytes(robj *o, char *buf, size_t bufsize, size_t *len) {
    if (sdsEncodedObject(o)) {
        sds s = objectGetVal(o);
        *len = sdslen(s);
        return (const unsigned char *)s;
    }
    *len = (size_t)ll2string(buf, bufsize, (long)objectGetVal(o));
    return (const unsigned char *)buf;
}

/* PFADD key [element ...] */
void pfaddCommand(client *c) {
    hllEnsureRegistered();
    robj *key = c->argv[1];
    robj *o = lookupKeyWrite(c->db, key);
    long long updated = 0;

    if (o == NULL) {
        o = dbAdd(c->db, key, hllCreate());
        updated++;
    } else {
        if (hllCheckOrReply(c, o) != C_OK) return;
        o = dbUnshareStringValue(c->db, key, o);
    }
    for (int j = 2; j < c->argc; j++) {
        char buf[LONG_STR_SIZE];
        size_t len;
        const unsigned char *ele = argBytes(c->argv[j], buf, sizeof(buf), &len);
        int r = hllAdd(o, ele, len);
        if (r < 0) {
            addReplyError(c, hll_corrupt_err);
            return;
        }
        updated += r;
    }
    if (updated) {
        hllInvalidateCache(objectGetVal(o));
        signalModifiedKey(c, c->db, key);
        notifyKeyspaceEvent(NOTIFY_STRING, "pfadd", key, c->db->id);
        server.dirty += updated;
    }
    addReply(c, updated ? shared.cone : shared.czero);
}

/* PFCOUNT key [key ...]: one key answers from (and refreshes) its cache; several keys
 * are merged into a scratch register array, nothing written. */
void pfcountCommand(client *c) {
    hllEnsureRegistered();
    if (c->argc > 2) {
        uint8_t max[HLL_REGISTERS];
        memset(max, 0, sizeof(max));
        for (int j = 1; j < c->argc; j++) {
            robj *o = lookupKeyRead(c->db, c->argv[j]);
            if (o == NULL) continue;
            if (hllCheckOrReply(c, o) != C_OK) return;
            if (hllMergeInto(o, max) == C_ERR) {
                addReplyError(c, hll_corrupt_err);
                return;
            }
        }
        addReplyLongLong(c, (long long)rawCount(max));
        return;
    }

    robj *o = lookupKeyRead(c->db, c->argv[1]);
    if (o == NULL) {
        addReply(c, shared.czero);
        return;
    }
    if (hllCheckOrReply(c, o) != C_OK) return;
    o = dbUnshareStringValue(c->db, c->argv[1], o);
    sds s = objectGetVal(o);
    uint64_t card;
    if (hllCacheValid(s)) {
        card = hllCacheGet(s);
    } else {
        int invalid = 0;
        card = hllCount(s, &invalid);
        if (invalid) {
            addReplyError(c, hll_corrupt_err);
            return;
        }
        /* Refreshing the cache changes the string: it must reach replicas and WATCH. */
        hllCacheSet(s, card);
        signalModifiedKey(c, c->db, c->argv[1]);
        server.dirty++;
    }
    addReplyLongLong(c, (long long)card);
}

/* PFMERGE destkey [sourcekey ...]: the destination takes part in the union. */
void pfmergeCommand(client *c) {
    hllEnsureRegistered();
    uint8_t max[HLL_REGISTERS];
    int use_dense = 0;
    memset(max, 0, sizeof(max));
    for (int j = 1; j < c->argc; j++) {
        robj *o = lookupKeyRead(c->db, c->argv[j]);
        if (o == NULL) continue;
        if (hllCheckOrReply(c, o) != C_OK) return;
        if (hllEncoding(objectGetVal(o)) == HLL_DENSE) use_dense = 1;
        if (hllMergeInto(o, max) == C_ERR) {
            addReplyError(c, hll_corrupt_err);
            return;
        }
    }

    robj *key = c->argv[1];
    robj *o = lookupKeyWrite(c->db, key);
    if (o == NULL)
        o = dbAdd(c->db, key, hllCreate());
    else
        o = dbUnshareStringValue(c->db, key, o); /* checked in the loop above */

    if (use_dense) {
        if (hllSparseToDense(o) == C_ERR) {
            addReplyError(c, hll_corrupt_err);
            return;
        }
        densePack(hllRegisters(objectGetVal(o)), max);
    } else {
        /* Register by register, so the sparse bytes are the ones Valkey produces. */
        for (long i = 0; i < HLL_REGISTERS; i++) {
            if (max[i] == 0) continue;
            sds s = objectGetVal(o);
            if (hllEncoding(s) == HLL_DENSE)
                denseSet(hllRegisters(s), i, max[i]);
            else
                hllSparseSet(o, i, max[i]);
        }
    }
    hllInvalidateCache(objectGetVal(o));
    signalModifiedKey(c, c->db, key);
    /* A merge is a bulk add: Valkey announces it as pfadd. */
    notifyKeyspaceEvent(NOTIFY_STRING, "pfadd", key, c->db->id);
    server.dirty++;
    addReply(c, shared.ok);
}

static void pfdebugDecode(client *c, sds s) {
    if (hllEncoding(s) != HLL_SPARSE) {
        addReplyError(c, "HLL encoding is not sparse");
        return;
    }
    const uint8_t *p = hllRegisters(s), *end = (uint8_t *)s + sdslen(s);
    sds out = sdsempty();
    sparseOp op;
    while (p < end) {
        sparseDecode(p, end, &op);
        if (op.is_val)
            out = sdscatprintf(out, "v:%d,%ld ", op.val, op.len);
        else
            out = sdscatprintf(out, "%c:%ld ", op.is_xzero ? 'Z' : 'z', op.len);
        p += op.bytes;
    }
    out = sdstrim(out, " ");
    addReplyBulkSds(c, out);
}

/* PFDEBUG GETREG|DECODE|ENCODING|TODENSE key */
void pfdebugCommand(client *c) {
    hllEnsureRegistered();
    const char *sub = objectGetVal(c->argv[1]);
    robj *key = c->argv[2];
    robj *o = lookupKeyWrite(c->db, key);
    if (o == NULL) {
        addReplyError(c, "The specified key does not exist");
        return;
    }
    if (hllCheckOrReply(c, o) != C_OK) return;
    o = dbUnshareStringValue(c->db, key, o);
    sds s = objectGetVal(o);

    if (!strcasecmp(sub, "getreg") || !strcasecmp(sub, "todense")) {
        int converted = 0;
        if (hllEncoding(s) == HLL_SPARSE) {
            if (hllSparseToDense(o) == C_ERR) {
                addReplyError(c, hll_corrupt_err);
                return;
            }
            converted = 1;
            server.dirty++; /* the new encoding must reach replicas */
        }
        if (!strcasecmp(sub, "todense")) {
            addReply(c, converted ? shared.cone : shared.czero);
            return;
        }
        const uint8_t *regs = hllRegisters(objectGetVal(o));
        addReplyArrayLen(c, HLL_REGISTERS);
        for (long i = 0; i < HLL_REGISTERS; i++) addReplyLongLong(c, denseGet(regs, i));
    } else if (!strcasecmp(sub, "decode")) {
        pfdebugDecode(c, s);
    } else if (!strcasecmp(sub, "encoding")) {
        addReplyStatus(c, hllEncoding(s) == HLL_DENSE ? "dense" : "sparse");
    } else {
        addReplyErrorFormat(c, "Unknown PFDEBUG subcommand '%s'", sub);
    }
}

/* ---------------------------------------------------------------------------
 * PFSELFTEST
 * ------------------------------------------------------------------------- */

#define SELFTEST_REGISTER_ROUNDS 100
#define SELFTEST_MAX_ELEMENTS 1000000

/* Random values written to every dense register read back unchanged. */
static int selftestRegisters(client *c) {
    uint8_t *regs = zcalloc(HLL_DENSE_SIZE - HLL_HDR_SIZE + 1);
    uint8_t *shadow = zmalloc(HLL_REGISTERS);
    int ok = 1;
    for (int round = 0; round < SELFTEST_REGISTER_ROUNDS && ok; round++) {
        for (long i = 0; i < HLL_REGISTERS; i++) {
            shadow[i] = (uint8_t)(random() & HLL_REGISTER_MAX);
            denseSetRaw(regs, i, shadow[i]);
        }
        for (long i = 0; i < HLL_REGISTERS && ok; i++) {
            uint8_t got = denseGet(regs, i);
            if (got != shadow[i]) {
                addReplyErrorFormat(c, "TESTFAILED Register %ld should be %d but is %d", i, shadow[i], got);
                ok = 0;
            }
        }
    }
    zfree(regs);
    zfree(shadow);
    return ok;
}

/* Unique elements go to a dense and a sparse HLL side by side; at each power of ten the
 * two agree, the sparse one is still sparse while small, and the error stays within six
 * standard errors. */
static int selftestEstimates(client *c) {
    sds dense = sdsnewlen(NULL, HLL_DENSE_SIZE);
    memcpy(dense, "HYLL", 4);
    robj *sparse = hllCreate();
    uint64_t seed = ((uint64_t)random() << 32) ^ (uint64_t)random();
    double relerr = 1.04 / sqrt(HLL_REGISTERS);
    long long checkpoint = 1;
    int ok = 1;
    for (long long j = 1; j <= SELFTEST_MAX_ELEMENTS && ok; j++) {
        unsigned char ele[8];
        uint64_t v = (uint64_t)j ^ seed;
        memcpy(ele, &v, sizeof(v));
        long index;
        uint8_t count = hllElementRank(ele, sizeof(ele), &index);
        denseSet(hllRegisters(dense), index, count);
        hllAdd(sparse, ele, sizeof(ele));
        if (j != checkpoint) continue;

        int invalid = 0;
        sds ss = objectGetVal(sparse);
        uint64_t est = hllCount(dense, &invalid);
        if ((size_t)j < hll_sparse_max_bytes / 2 && hllEncoding(ss) != HLL_SPARSE) {
            addReplyError(c, "TESTFAILED sparse encoding not used");
            ok = 0;
        } else if (hllCount(ss, &invalid) != est || invalid) {
            addReplyError(c, "TESTFAILED dense/sparse disagree");
            ok = 0;
        } else {
            long long err = llabs(checkpoint - (long long)est);
            long long maxerr = (long long)ceil(relerr * 6 * (double)checkpoint);
            if (j == 10) maxerr = 1; /* collisions are likely enough at ten */
            if (err > maxerr) {
                addReplyErrorFormat(c, "TESTFAILED Too big error. card:%lld abserr:%lld", checkpoint, err);
                ok = 0;
            }
        }
        checkpoint *= 10;
    }
    sdsfree(dense);
    decrRefCount(sparse);
    return ok;
}

void pfselftestCommand(client *c) {
    hllEnsureRegistered();
    if (selftestRegisters(c) && selftestEstimates(c)) addReply(c, shared.ok);
}
