/* test_lzf_dec.c -- the LZF decompressor (lzf_dec.c): round trips of what liblzf's
 * lzf_compress produces (random, repetitive and mixed data, every length up to a few
 * KiB, output buffers of the exact size so ASan sees any overrun), hand-made streams that
 * exercise each copy path (overlapping references at every short distance, the longest
 * literal and reference, the ends of both buffers), corrupt and truncated input, and a
 * fuzz that compares random streams against a plain byte-at-a-time reference decoder
 * written from the format's definition: both must accept the same streams and produce
 * the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <lzf.h>
#include <stdlib.h>
#include <string.h>

#include "../lzf_dec.h"

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The reference: one byte at a time, every bound checked; 0 on any error. */
static size_t refDecompress(const unsigned char *in, size_t in_len, unsigned char *out, size_t out_len) {
    size_t ip = 0, op = 0;
    while (ip < in_len) {
        unsigned ctrl = in[ip++];
        if (ctrl < 32) {
            size_t run = ctrl + 1;
            if (ip + run > in_len || op + run > out_len) return 0;
            while (run--) out[op++] = in[ip++];
            continue;
        }
        size_t len = ctrl >> 5;
        if (len == 7) {
            if (ip >= in_len) return 0;
            len += in[ip++];
        }
        if (ip >= in_len) return 0;
        size_t dist = ((size_t)(ctrl & 31) << 8) + in[ip++] + 1;
        len += 2;
        if (dist > op || op + len > out_len) return 0;
        while (len--) {
            out[op] = out[op - dist];
            op++;
        }
    }
    return op;
}

/* Compresses src with liblzf (skipped when incompressible) and checks that an
 * exactly sized decompression gives src back, and one byte less of room fails. */
static void roundTrip(const unsigned char *src, size_t len) {
    unsigned char *c = malloc(len + len / 16 + 64);
    unsigned clen = lzf_compress(src, (unsigned)len, c, (unsigned)(len + len / 16 + 64));
    assert_true(clen > 0);
    unsigned char *out = malloc(len);
    assert_int_equal(lzfDecompress(c, clen, out, len), len);
    assert_memory_equal(out, src, len);
    free(out);
    if (len > 1) {
        unsigned char *small = malloc(len - 1);
        assert_int_equal(lzfDecompress(c, clen, small, len - 1), 0);
        free(small);
    }
    free(c);
}

static void fillRandom(unsigned char *p, size_t len) {
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)rnd();
}

static void fillText(unsigned char *p, size_t len, size_t alphabet) {
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)('a' + rnd() % alphabet);
}

/* Half random, half a repeated phrase: long literal runs, then long references. */
static void fillMixed(unsigned char *p, size_t len) {
    static const char phrase[] = "a repeated phrase of twenty-nine ";
    size_t half = len / 2;
    fillRandom(p, half);
    for (size_t i = half; i < len; i++) p[i] = (unsigned char)phrase[i % (sizeof(phrase) - 1)];
}

static void test_round_trips(void **state) {
    (void)state;
    unsigned char *buf = malloc(8192);
    for (size_t len = 1; len <= 2048; len++) {
        fillRandom(buf, len);
        roundTrip(buf, len);
        fillText(buf, len, 1 + len % 5);
        roundTrip(buf, len);
        fillMixed(buf, len);
        roundTrip(buf, len);
    }
    for (size_t len = 4096; len <= 8192; len += 1024) {
        memset(buf, 0, len);
        roundTrip(buf, len);
        fillText(buf, len, 26);
        roundTrip(buf, len);
    }
    free(buf);
}

/* A literal run of n bytes (1..32). */
static size_t putLiteral(unsigned char *s, const char *bytes, size_t n) {
    s[0] = (unsigned char)(n - 1);
    memcpy(s + 1, bytes, n);
    return n + 1;
}

/* A reference of len bytes (3..264) from dist back (1..8192). */
static size_t putReference(unsigned char *s, size_t len, size_t dist) {
    size_t l = len - 2, d = dist - 1, n = 0;
    if (l < 7) {
        s[n++] = (unsigned char)((l << 5) | (d >> 8));
    } else {
        s[n++] = (unsigned char)((7 << 5) | (d >> 8));
        s[n++] = (unsigned char)(l - 7);
    }
    s[n++] = (unsigned char)(d & 0xff);
    return n;
}

/* Decodes a hand-made stream into an exact buffer, with output to spare, and with the
 * reference; all three must agree. */
static void checkStream(const unsigned char *s, size_t n, size_t expect_len) {
    unsigned char *want = malloc(expect_len + 1), *got = malloc(expect_len), *roomy = malloc(expect_len + 300);
    assert_int_equal(refDecompress(s, n, want, expect_len), expect_len);
    assert_int_equal(lzfDecompress(s, n, got, expect_len), expect_len);
    assert_memory_equal(got, want, expect_len);
    assert_int_equal(lzfDecompress(s, n, roomy, expect_len + 300), expect_len);
    assert_memory_equal(roomy, want, expect_len);
    free(want);
    free(got);
    free(roomy);
}

static void test_overlapping_references(void **state) {
    (void)state;
    const char *seed = "0123456789abcdefghijklmnopqrstuv";
    unsigned char s[64];
    for (size_t dist = 1; dist <= 32; dist++)
        for (size_t len = 3; len <= 264; len += (len < 40 ? 1 : 37)) {
            size_t n = putLiteral(s, seed, dist);
            n += putReference(s + n, len, dist);
            /* Followed by a short literal, so the reference is not always last. */
            n += putLiteral(s + n, "XY", 2);
            checkStream(s, n, dist + len + 2);
            /* And as the very last item, ending exactly at the end of the output. */
            n = putLiteral(s, seed, dist);
            n += putReference(s + n, len, dist);
            checkStream(s, n, dist + len);
        }
}

static void test_longest_items(void **state) {
    (void)state;
    unsigned char s[4096];
    char lit[32];
    size_t n = 0, total = 0;
    for (int k = 0; k < 40; k++) {
        for (int i = 0; i < 32; i++) lit[i] = (char)rnd();
        n += putLiteral(s + n, lit, 32);
        total += 32;
        n += putReference(s + n, 264, 1 + rnd() % total);
        total += 264;
    }
    checkStream(s, n, total);
    /* The farthest reference: 8192 bytes back. */
    unsigned char *big = malloc(9000);
    n = 0;
    total = 0;
    while (total < 8192) {
        for (int i = 0; i < 32; i++) lit[i] = (char)rnd();
        n += putLiteral(big + n, lit, 32);
        total += 32;
    }
    n += putReference(big + n, 100, 8192);
    checkStream(big, n, total + 100);
    free(big);
}

static void test_corrupt_input(void **state) {
    (void)state;
    unsigned char out[64];
    unsigned char s[16];
    /* A reference before anything was written, or farther back than the output. */
    size_t n = putReference(s, 3, 1);
    assert_int_equal(lzfDecompress(s, n, out, sizeof(out)), 0);
    n = putLiteral(s, "abc", 3);
    n += putReference(s + n, 3, 4);
    assert_int_equal(lzfDecompress(s, n, out, sizeof(out)), 0);
    /* A literal run longer than the input left. */
    n = putLiteral(s, "abcd", 4);
    assert_int_equal(lzfDecompress(s, n - 1, out, sizeof(out)), 0);
    /* A reference missing its distance byte, or its length byte. */
    n = putLiteral(s, "abc", 3);
    n += putReference(s + n, 3, 1);
    assert_int_equal(lzfDecompress(s, n - 1, out, sizeof(out)), 0);
    n = putLiteral(s, "abc", 3);
    size_t ref = putReference(s + n, 100, 1);
    assert_int_equal(ref, 3);
    assert_int_equal(lzfDecompress(s, n + 1, out, sizeof(out)), 0);
    assert_int_equal(lzfDecompress(s, n + 2, out, sizeof(out)), 0);
    /* Output too small for a literal or a reference. */
    n = putLiteral(s, "abcdef", 6);
    assert_int_equal(lzfDecompress(s, n, out, 5), 0);
    n += putReference(s + n, 10, 2);
    assert_int_equal(lzfDecompress(s, n, out, 15), 0);
    assert_int_equal(lzfDecompress(s, n, out, 16), 16);
    /* Nothing in, nothing out. */
    assert_int_equal(lzfDecompress(s, 0, out, sizeof(out)), 0);
}

/* Random streams (mostly valid-looking: literal runs and references mixed) decoded by
 * both decoders into exactly sized buffers and into roomy ones. */
static void test_fuzz_against_reference(void **state) {
    (void)state;
    unsigned char in[512];
    for (int iter = 0; iter < 200000; iter++) {
        size_t in_len = 1 + rnd() % sizeof(in);
        fillRandom(in, in_len);
        if (iter & 1) in[0] = (unsigned char)(rnd() % 32); /* starts with a literal */
        size_t out_len = rnd() % 2048;
        unsigned char *want = malloc(out_len + 1), *got = malloc(out_len + 1);
        size_t w = refDecompress(in, in_len, want, out_len);
        size_t g = lzfDecompress(in, in_len, got, out_len);
        assert_int_equal(g, w);
        if (w) assert_memory_equal(got, want, w);
        free(want);
        free(got);
    }
    /* Valid streams cut at every length: each prefix is either decoded like the
     * reference decodes it or refused by both. */
    unsigned char src[600], c[700];
    fillMixed(src, sizeof(src));
    unsigned clen = lzf_compress(src, sizeof(src), c, sizeof(c));
    assert_true(clen > 0);
    for (size_t cut = 0; cut <= clen; cut++) {
        unsigned char want[600], *got = malloc(sizeof(src));
        size_t w = refDecompress(c, cut, want, sizeof(src));
        assert_int_equal(lzfDecompress(c, cut, got, sizeof(src)), w);
        if (w) assert_memory_equal(got, want, w);
        free(got);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_overlapping_references),
        cmocka_unit_test(test_longest_items),
        cmocka_unit_test(test_corrupt_input),
        cmocka_unit_test(test_fuzz_against_reference),
    };
    return cmocka_run_group_tests_name("lzf_dec", tests, NULL, NULL);
}
