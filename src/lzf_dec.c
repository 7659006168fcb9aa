/* lzf_dec.c -- LZF decompression with wide copies (see lzf_dec.h for the format).
 *
 * A byte-at-a-time decoder spends most of its time moving single bytes: literal runs are
 * up to 32 bytes and references up to 264. Here, when the buffers have room past the
 * current positions, a literal run is moved as two 16-byte copies and a reference as
 * 16-byte (or 8-byte) chunks, whatever its exact length: the bytes written past the end
 * of the run are inside the output buffer and are overwritten by what comes next. A
 * chunk copy is right only when the distance is at least the chunk size, since each chunk
 * must read bytes that are already final; shorter distances (runs of one repeated byte,
 * short patterns) take a memset or a byte loop. Near the ends of the buffers everything
 * is copied exactly. Every run and reference is checked against both buffers first.
 */
#include "lzf_dec.h"

#include <stdint.h>
#include <string.h>

#define LZF_LITERAL_LIMIT 32 /* control bytes below this start a literal run */
#define LZF_MAX_LITERAL 32   /* the longest literal run */
#define LZF_LEN_SHIFT 5      /* a reference's length is in the top 3 bits */
#define LZF_LEN_EXTENDED 7   /* ...and this value says a length byte follows */
#define LZF_DIST_HIGH_MASK 0x1f
#define LZF_MIN_MATCH 2 /* added to the stored length */
#define WIDE 16         /* bytes of one wide copy */
#define NARROW 8        /* bytes of one narrow copy */

static inline void copyWide(unsigned char *d, const unsigned char *s) {
    memcpy(d, s, WIDE);
}

static inline void copyNarrow(unsigned char *d, const unsigned char *s) {
    memcpy(d, s, NARROW);
}

/* A reference of len bytes from dist back, when the output has room for the widest
 * rounding of len (so chunks may overshoot) and dist is already checked. */
static inline void copyReferenceWide(unsigned char *op, size_t dist, size_t len) {
    const unsigned char *ref = op - dist;
    if (dist >= WIDE) {
        for (size_t i = 0; i < len; i += WIDE) copyWide(op + i, ref + i);
    } else if (dist >= NARROW) {
        for (size_t i = 0; i < len; i += NARROW) copyNarrow(op + i, ref + i);
    } else if (dist == 1) {
        memset(op, *ref, len);
    } else {
        for (size_t i = 0; i < len; i++) op[i] = ref[i];
    }
}

/* The same near the end of the output: no byte written past op + len. */
static inline void copyReferenceExact(unsigned char *op, size_t dist, size_t len) {
    const unsigned char *ref = op - dist;
    if (dist >= len) {
        memcpy(op, ref, len);
    } else if (dist == 1) {
        memset(op, *ref, len);
    } else {
        for (size_t i = 0; i < len; i++) op[i] = ref[i];
    }
}

/* Input left that lets a step skip the input checks: the longest literal run with its
 * control byte (so also any reference's two or three bytes). */
#define IN_SLACK (1 + LZF_MAX_LITERAL)

size_t lzfDecompress(const void *in, size_t in_len, void *out, size_t out_len) {
    const unsigned char *ip = in;
    const unsigned char *const in_end = ip + in_len;
    unsigned char *const out_start = out;
    unsigned char *op = out_start;
    unsigned char *const out_end = out_start + out_len;

    /* Far from the end of the input: wide copies wherever the output has room. */
    while ((size_t)(in_end - ip) >= IN_SLACK) {
        unsigned ctrl = *ip++;
        size_t out_left = (size_t)(out_end - op);
        if (ctrl < LZF_LITERAL_LIMIT) {
            size_t run = ctrl + 1;
            if (out_left >= LZF_MAX_LITERAL) {
                copyWide(op, ip);
                copyWide(op + WIDE, ip + WIDE);
            } else {
                if (run > out_left) return 0;
                memcpy(op, ip, run);
            }
            op += run;
            ip += run;
            continue;
        }
        size_t len = ctrl >> LZF_LEN_SHIFT;
        if (len == LZF_LEN_EXTENDED) len += *ip++;
        len += LZF_MIN_MATCH;
        size_t dist = (((size_t)ctrl & LZF_DIST_HIGH_MASK) << 8) + *ip++ + 1;
        if (dist > (size_t)(op - out_start) || len > out_left) return 0;
        if (out_left - len >= WIDE) copyReferenceWide(op, dist, len);
        else copyReferenceExact(op, dist, len);
        op += len;
    }

    /* The tail: everything checked, copied exactly. */
    while (ip < in_end) {
        unsigned ctrl = *ip++;
        size_t in_left = (size_t)(in_end - ip), out_left = (size_t)(out_end - op);
        if (ctrl < LZF_LITERAL_LIMIT) {
            size_t run = ctrl + 1;
            if (run > in_left || run > out_left) return 0;
            memcpy(op, ip, run);
            op += run;
            ip += run;
            continue;
        }
        size_t len = ctrl >> LZF_LEN_SHIFT;
        size_t need = len == LZF_LEN_EXTENDED ? 2 : 1;
        if (need > in_left) return 0;
        if (len == LZF_LEN_EXTENDED) len += *ip++;
        len += LZF_MIN_MATCH;
        size_t dist = (((size_t)ctrl & LZF_DIST_HIGH_MASK) << 8) + *ip++ + 1;
        if (dist > (size_t)(op - out_start) || len > out_left) return 0;
        copyReferenceExact(op, dist, len);
        op += len;
    }
    return (size_t)(op - out_start);
}
