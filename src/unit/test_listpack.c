/* test_listpack.c -- the listpack: exact bytes of every encoding at its boundaries,
 * walking both ways, seeking, inserting/replacing/deleting at head, middle and tail
 * against a simple array model, batch operations, merging, the saturated element count,
 * lpFind with skip, validation of corrupt blobs (including a mutation fuzz whose
 * accepted blobs must then be walkable without reading out of bounds), and the random
 * samplers. Also checks that every test gives its memory back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../listpack.h"
#include "../util.h"
#include "../zmalloc.h"

/* Deterministic generator for the tests' own choices. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* --- a model: an array of byte strings --------------------------------------------- */

typedef struct {
    char *s;
    size_t len;
} item;

typedef struct {
    item *v;
    size_t n, cap;
} model;

static void modelInsert(model *m, size_t at, const char *s, size_t len) {
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->v = realloc(m->v, m->cap * sizeof(item));
    }
    memmove(&m->v[at + 1], &m->v[at], (m->n - at) * sizeof(item));
    m->v[at].s = malloc(len ? len : 1);
    memcpy(m->v[at].s, s, len);
    m->v[at].len = len;
    m->n++;
}

static void modelDelete(model *m, size_t at, size_t count) {
    for (size_t i = at; i < at + count; i++) free(m->v[i].s);
    memmove(&m->v[at], &m->v[at + count], (m->n - at - count) * sizeof(item));
    m->n -= count;
}

static void modelFree(model *m) {
    modelDelete(m, 0, m->n);
    free(m->v);
    memset(m, 0, sizeof(*m));
}

/* The element at p as a string (integers printed), compared with an expected string. */
static void assert_entry(unsigned char *p, const char *s, size_t len) {
    unsigned char buf[LP_INTBUF_SIZE];
    int64_t n;
    assert_non_null(p);
    unsigned char *v = lpGet(p, &n, buf);
    assert_non_null(v);
    assert_int_equal((size_t)n, len);
    assert_memory_equal(v, s, len);
}

/* The listpack holds exactly the model, walking forward, backward and by seek. */
static void assert_matches(unsigned char *lp, const model *m) {
    assert_int_equal(lpLength(lp), m->n);
    assert_true(lpValidateIntegrity(lp, lpBytes(lp), 1, NULL, NULL));
    unsigned char *p = lpFirst(lp);
    for (size_t i = 0; i < m->n; i++) {
        assert_entry(p, m->v[i].s, m->v[i].len);
        p = lpNext(lp, p);
    }
    assert_null(p);
    p = lpLast(lp);
    for (size_t i = m->n; i-- > 0;) {
        assert_entry(p, m->v[i].s, m->v[i].len);
        p = lpPrev(lp, p);
    }
    assert_null(p);
    if (m->n) {
        size_t i = (size_t)rnd() % m->n;
        assert_entry(lpSeek(lp, (long)i), m->v[i].s, m->v[i].len);
        assert_entry(lpSeek(lp, (long)i - (long)m->n), m->v[i].s, m->v[i].len);
    }
    assert_null(lpSeek(lp, (long)m->n));
    assert_null(lpSeek(lp, -(long)m->n - 1));
}

/* A random value: integers of every width, short and long strings. */
static size_t randomValue(char *buf, size_t cap) {
    switch (rnd() % 6) {
    case 0: return (size_t)ll2string(buf, cap, (long long)(rnd() % 300) - 150);
    case 1: return (size_t)ll2string(buf, cap, (long long)(int32_t)rnd());
    case 2: return (size_t)ll2string(buf, cap, (long long)rnd());
    case 3: {
        size_t len = rnd() % 70;
        for (size_t i = 0; i < len; i++) buf[i] = 'a' + rnd() % 26;
        return len;
    }
    case 4: {
        size_t len = 60 + rnd() % 5000;
        if (len > cap) len = cap;
        for (size_t i = 0; i < len; i++) buf[i] = (char)rnd();
        return len;
    }
    default: return (size_t)snprintf(buf, cap, "0%u", (unsigned)(rnd() % 100)); /* non-canonical */
    }
}

/* --- encodings ------------------------------------------------------------------------ */

typedef struct {
    const char *value;
    unsigned char first_byte;
    size_t entry_size; /* encoding + data + backlen */
} enc_case;

static void test_integer_encodings(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    const enc_case cases[] = {
        {"0", 0x00, 2},
        {"127", 0x7F, 2},
        {"128", 0xC0, 3},
        {"-1", 0xDF, 3},
        {"4095", 0xCF, 3},
        {"-4096", 0xD0, 3},
        {"4096", 0xF1, 4},
        {"-4097", 0xF1, 4},
        {"32767", 0xF1, 4},
        {"-32768", 0xF1, 4},
        {"32768", 0xF2, 5},
        {"-32769", 0xF2, 5},
        {"8388607", 0xF2, 5},
        {"-8388608", 0xF2, 5},
        {"8388608", 0xF3, 6},
        {"-8388609", 0xF3, 6},
        {"2147483647", 0xF3, 6},
        {"-2147483648", 0xF3, 6},
        {"2147483648", 0xF4, 10},
        {"-2147483649", 0xF4, 10},
        {"9223372036854775807", 0xF4, 10},
        {"-9223372036854775808", 0xF4, 10},
        /* Not canonical integers: stored as strings. */
        {"-0", 0x82, 4},
        {"007", 0x83, 5},
        {"+1", 0x82, 4},
        {" 1", 0x82, 4},
        {"9223372036854775808", 0x93, 21},
        {"", 0x80, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const enc_case *c = &cases[i];
        unsigned char *lp = lpAppend(lpNew(0), (unsigned char *)c->value, strlen(c->value));
        assert_int_equal(lpBytes(lp), 7 + c->entry_size);
        assert_int_equal(lp[6], c->first_byte);
        assert_int_equal(lp[lpBytes(lp) - 1], 0xFF);
        assert_entry(lpFirst(lp), c->value, strlen(c->value));
        long long expect;
        unsigned int slen;
        long long lval;
        unsigned char *s = lpGetValue(lpFirst(lp), &slen, &lval);
        if (string2ll(c->value, strlen(c->value), &expect)) {
            assert_null(s);
            assert_int_equal(lval, expect);
            assert_int_equal(lpEntrySizeInteger(expect), c->entry_size);
            /* The integer API writes the same bytes. */
            unsigned char *lp2 = lpAppendInteger(lpNew(0), expect);
            assert_int_equal(lpBytes(lp2), lpBytes(lp));
            assert_memory_equal(lp2, lp, lpBytes(lp));
            lpFree(lp2);
        } else {
            assert_non_null(s);
            assert_int_equal(slen, strlen(c->value));
        }
        lpFree(lp);
    }
    assert_int_equal(zmalloc_used_memory(), base);
}

/* Exact little-endian payloads of the multi-byte integer encodings. */
static void test_integer_bytes(void **state) {
    (void)state;
    unsigned char *lp = lpNew(0);
    lp = lpAppendInteger(lp, -2);      /* 13-bit: 0x1FFE */
    lp = lpAppendInteger(lp, 0x1234);  /* 16-bit */
    lp = lpAppendInteger(lp, -0x12345); /* 24-bit */
    lp = lpAppendInteger(lp, 0x12345678);
    lp = lpAppendInteger(lp, -0x123456789ALL);
    const unsigned char expect[] = {
        0xDF, 0xFE, 0x02,                                           /* -2 */
        0xF1, 0x34, 0x12, 0x03,                                     /* 0x1234 */
        0xF2, 0xBB, 0xDC, 0xFE, 0x04,                               /* -0x12345 */
        0xF3, 0x78, 0x56, 0x34, 0x12, 0x05,                         /* 0x12345678 */
        0xF4, 0x66, 0x87, 0xA9, 0xCB, 0xED, 0xFF, 0xFF, 0xFF, 0x09, /* -0x123456789A */
        0xFF};
    assert_int_equal(lpBytes(lp), 6 + sizeof(expect));
    assert_memory_equal(lp + 6, expect, sizeof(expect));
    long long v;
    assert_true(lpGetIntegerValue(lpSeek(lp, 2), &v));
    assert_int_equal(v, -0x12345);
    assert_true(lpGetIntegerValue(lpSeek(lp, 4), &v));
    assert_int_equal(v, -0x123456789ALL);
    lpFree(lp);
}

/* A whole blob, byte for byte. */
static void test_golden_blob(void **state) {
    (void)state;
    unsigned char *lp = lpNew(0);
    lp = lpAppend(lp, (unsigned char *)"hello", 5);
    lp = lpAppend(lp, (unsigned char *)"1024", 4);
    lp = lpAppendInteger(lp, -1);
    lp = lpAppend(lp, (unsigned char *)"", 0);
    const unsigned char expect[] = {0x16, 0x00, 0x00, 0x00, 0x04, 0x00,           /* header */
                                    0x85, 'h',  'e',  'l',  'l',  'o',  0x06,     /* "hello" */
                                    0xC4, 0x00, 0x02,                             /* 1024 */
                                    0xDF, 0xFF, 0x02,                             /* -1 */
                                    0x80, 0x01,                                   /* "" */
                                    0xFF};
    assert_int_equal(lpBytes(lp), sizeof(expect));
    assert_memory_equal(lp, expect, sizeof(expect));
    lpFree(lp);
}

static void check_string_size(size_t len, unsigned char first, size_t entry_size) {
    char *s = malloc(len);
    for (size_t i = 0; i < len; i++) s[i] = 'a' + i % 26;
    unsigned char *lp = lpAppend(lpNew(0), (unsigned char *)s, (uint32_t)len);
    lp = lpAppendInteger(lp, 7);
    lp = lpPrepend(lp, (unsigned char *)"x", 1);
    assert_int_equal(lpBytes(lp), 7 + entry_size + 2 + 3);
    assert_int_equal(lp[6 + 3], first);
    /* Walk backwards across it. */
    unsigned char *p = lpLast(lp);
    assert_entry(p, "7", 1);
    p = lpPrev(lp, p);
    assert_entry(p, s, len);
    p = lpPrev(lp, p);
    assert_entry(p, "x", 1);
    assert_null(lpPrev(lp, p));
    assert_true(lpValidateIntegrity(lp, lpBytes(lp), 1, NULL, NULL));
    lpFree(lp);
    free(s);
}

static void test_string_encodings(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    check_string_size(0, 0x80, 2);
    check_string_size(63, 0xBF, 1 + 63 + 1);
    check_string_size(64, 0xE0, 2 + 64 + 1);
    check_string_size(125, 0xE0, 2 + 125 + 1);  /* encoding 127 bytes: 1-byte backlen */
    check_string_size(126, 0xE0, 2 + 126 + 2);  /* encoding 128 bytes: 2-byte backlen */
    check_string_size(4095, 0xEF, 2 + 4095 + 2);
    check_string_size(4096, 0xF0, 5 + 4096 + 2);
    check_string_size(16377, 0xF0, 5 + 16377 + 2); /* encoding 16382 */
    check_string_size(16378, 0xF0, 5 + 16378 + 3); /* encoding 16383: 3-byte backlen */
    check_string_size(2097145, 0xF0, 5 + 2097145 + 3); /* encoding 2097150 */
    check_string_size(2097146, 0xF0, 5 + 2097146 + 4); /* encoding 2097151 */
    assert_int_equal(zmalloc_used_memory(), base);
}

/* The 2-byte backlen bytes: most significant group first, continuation on the last. */
static void test_backlen_bytes(void **state) {
    (void)state;
    char s[200];
    memset(s, 'z', sizeof(s));
    unsigned char *lp = lpAppend(lpNew(0), (unsigned char *)s, 200);
    /* encoding+data = 202 = 1*128 + 74 */
    size_t end = lpBytes(lp) - 1;
    assert_int_equal(lp[end - 2], 1);
    assert_int_equal(lp[end - 1], 74 | 128);
    lpFree(lp);
}

/* --- walking and editing ------------------------------------------------------------ */

static void test_walk_and_seek(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    model m = {0};
    unsigned char *lp = lpNew(0);
    assert_null(lpFirst(lp));
    assert_null(lpLast(lp));
    assert_null(lpSeek(lp, 0));
    assert_null(lpSeek(lp, -1));
    char buf[6000];
    for (int i = 0; i < 300; i++) {
        size_t len = randomValue(buf, sizeof(buf));
        lp = lpAppend(lp, (unsigned char *)buf, (uint32_t)len);
        modelInsert(&m, m.n, buf, len);
    }
    assert_matches(lp, &m);
    for (size_t i = 0; i < m.n; i++) {
        assert_entry(lpSeek(lp, (long)i), m.v[i].s, m.v[i].len);
        assert_entry(lpSeek(lp, (long)i - (long)m.n), m.v[i].s, m.v[i].len);
    }
    lpFree(lp);
    modelFree(&m);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_insert_replace_delete(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    model m = {0};
    unsigned char *lp = lpNew(0);
    char buf[6000];
    for (int round = 0; round < 3000; round++) {
        size_t len = randomValue(buf, sizeof(buf));
        unsigned char *newp = NULL;
        size_t at = m.n ? (size_t)rnd() % m.n : 0;
        int where_kind = (int)(rnd() % 3); /* head, middle, tail */
        if (where_kind == 0) at = 0;
        if (where_kind == 2 && m.n) at = m.n - 1;
        switch (rnd() % 9) {
        case 0:
            lp = lpPrepend(lp, (unsigned char *)buf, (uint32_t)len);
            modelInsert(&m, 0, buf, len);
            break;
        case 1:
            lp = lpAppend(lp, (unsigned char *)buf, (uint32_t)len);
            modelInsert(&m, m.n, buf, len);
            break;
        case 2:
            if (!m.n) break;
            lp = lpInsertString(lp, (unsigned char *)buf, (uint32_t)len, lpSeek(lp, (long)at),
                                LP_BEFORE, &newp);
            modelInsert(&m, at, buf, len);
            assert_entry(newp, buf, len);
            break;
        case 3:
            if (!m.n) break;
            lp = lpInsertString(lp, (unsigned char *)buf, (uint32_t)len, lpSeek(lp, (long)at),
                                LP_AFTER, &newp);
            modelInsert(&m, at + 1, buf, len);
            assert_entry(newp, buf, len);
            break;
        case 4: {
            if (!m.n) break;
            unsigned char *p = lpSeek(lp, (long)at);
            lp = lpReplace(lp, &p, (unsigned char *)buf, (uint32_t)len);
            assert_entry(p, buf, len);
            modelDelete(&m, at, 1);
            modelInsert(&m, at, buf, len);
            break;
        }
        case 5: {
            if (!m.n) break;
            long long v = (long long)rnd() >> (rnd() % 64);
            unsigned char *p = lpSeek(lp, (long)at);
            lp = lpReplaceInteger(lp, &p, v);
            char num[LP_INTBUF_SIZE];
            int nl = ll2string(num, sizeof(num), v);
            assert_entry(p, num, (size_t)nl);
            modelDelete(&m, at, 1);
            modelInsert(&m, at, num, (size_t)nl);
            break;
        }
        case 6:
        case 7: {
            if (!m.n) break;
            lp = lpDelete(lp, lpSeek(lp, (long)at), &newp);
            modelDelete(&m, at, 1);
            if (at < m.n)
                assert_entry(newp, m.v[at].s, m.v[at].len);
            else
                assert_null(newp);
            break;
        }
        default: {
            if (!m.n) break;
            size_t num = 1 + (size_t)rnd() % 5;
            if (rnd() % 2) {
                lp = lpDeleteRange(lp, (long)at - (long)m.n, num); /* negative index */
            } else {
                unsigned char *p = lpSeek(lp, (long)at);
                lp = lpDeleteRangeWithEntry(lp, &p, num);
                if (at + num < m.n)
                    assert_entry(p, m.v[at + num].s, m.v[at + num].len);
                else
                    assert_null(p);
            }
            modelDelete(&m, at, at + num > m.n ? m.n - at : num);
        }
        }
        if (round % 97 == 0 || m.n < 4) assert_matches(lp, &m);
    }
    assert_matches(lp, &m);
    lpFree(lp);
    modelFree(&m);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_batch_operations(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    model m = {0};
    unsigned char *lp = lpNew(0);
    listpackEntry ents[4] = {
        {(unsigned char *)"alpha", 5, 0},
        {NULL, 0, 123456},
        {(unsigned char *)"42", 2, 0}, /* an integer in string form */
        {(unsigned char *)"", 0, 0},
    };
    lp = lpBatchAppend(lp, ents, 4);
    modelInsert(&m, 0, "alpha", 5);
    modelInsert(&m, 1, "123456", 6);
    modelInsert(&m, 2, "42", 2);
    modelInsert(&m, 3, "", 0);
    assert_matches(lp, &m);
    assert_int_equal(lpFirst(lp)[0] & 0xC0, 0x80);
    assert_int_equal(lpSeek(lp, 2)[0], 42); /* "42" became a 7-bit integer */

    unsigned char *newp;
    listpackEntry mid[2] = {{(unsigned char *)"m1", 2, 0}, {NULL, 0, -5}};
    lp = lpBatchInsert(lp, lpSeek(lp, 1), LP_AFTER, mid, 2, &newp);
    assert_entry(newp, "m1", 2);
    modelInsert(&m, 2, "m1", 2);
    modelInsert(&m, 3, "-5", 2);
    assert_matches(lp, &m);
    lp = lpBatchInsert(lp, lpFirst(lp), LP_BEFORE, mid, 1, &newp);
    modelInsert(&m, 0, "m1", 2);
    assert_matches(lp, &m);

    /* Batch delete of the 1st, 3rd and last elements. */
    unsigned char *ps[3] = {lpSeek(lp, 0), lpSeek(lp, 2), lpSeek(lp, -1)};
    lp = lpBatchDelete(lp, ps, 3);
    modelDelete(&m, m.n - 1, 1);
    modelDelete(&m, 2, 1);
    modelDelete(&m, 0, 1);
    assert_matches(lp, &m);
    /* Batch delete of everything. */
    unsigned char *all[16];
    size_t n = 0;
    for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p)) all[n++] = p;
    lp = lpBatchDelete(lp, all, n);
    modelDelete(&m, 0, m.n);
    assert_matches(lp, &m);
    assert_int_equal(lpBytes(lp), 7);
    lpFree(lp);
    modelFree(&m);
    assert_int_equal(zmalloc_used_memory(), base);
}

static unsigned char *buildList(model *m, const char *prefix, int n) {
    unsigned char *lp = lpNew(0);
    char buf[64];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf), "%s%d", prefix, i);
        lp = lpAppend(lp, (unsigned char *)buf, (uint32_t)len);
        modelInsert(m, m->n, buf, (size_t)len);
    }
    return lp;
}

static void test_merge(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    for (int bigger_first = 0; bigger_first <= 1; bigger_first++) {
        model m = {0};
        unsigned char *a = buildList(&m, "first-", bigger_first ? 50 : 3);
        unsigned char *b = buildList(&m, "second-", bigger_first ? 3 : 50);
        unsigned char *merged = lpMerge(&a, &b);
        assert_non_null(merged);
        if (bigger_first) {
            assert_ptr_equal(a, merged);
            assert_null(b);
        } else {
            assert_ptr_equal(b, merged);
            assert_null(a);
        }
        assert_matches(merged, &m);
        assert_null(lpMerge(&merged, &merged));
        lpFree(merged);
        modelFree(&m);
    }
    /* Empty listpacks merge too. */
    unsigned char *e1 = lpNew(0), *e2 = lpNew(0);
    unsigned char *e = lpMerge(&e1, &e2);
    assert_int_equal(lpLength(e), 0);
    assert_int_equal(lpBytes(e), 7);
    lpFree(e);
    assert_int_equal(zmalloc_used_memory(), base);
}

/* More than 65535 elements: the header count saturates and lpLength counts. */
static void test_count_saturation(void **state) {
    (void)state;
    unsigned char *lp = lpNew(0);
    /* In batches: one reallocation each (element-wise appends are slow under ASan). */
    listpackEntry batch[1000];
    for (int b = 0; b < 70; b++) {
        for (int i = 0; i < 1000; i++) {
            batch[i].sval = NULL;
            batch[i].lval = (b * 1000 + i) % 100;
        }
        lp = lpBatchAppend(lp, batch, 1000);
    }
    lp = lpAppendInteger(lp, 99);
    lp = lpDeleteRange(lp, -1, 1);
    assert_int_equal(lp[4], 0xFF);
    assert_int_equal(lp[5], 0xFF);
    assert_int_equal(lpLength(lp), 70000);
    assert_true(lpValidateIntegrity(lp, lpBytes(lp), 1, NULL, NULL));
    unsigned char *p = lpSeek(lp, -1);
    long long v;
    assert_true(lpGetIntegerValue(p, &v));
    assert_int_equal(v, 69999 % 100);
    assert_true(lpGetIntegerValue(lpSeek(lp, 65600), &v));
    assert_int_equal(v, 65600 % 100);
    /* Deleting below the limit: the next lpLength restores the header count. */
    lp = lpDeleteRange(lp, 0, 10000);
    assert_int_equal(lp[4], 0xFF);
    assert_int_equal(lpLength(lp), 60000);
    assert_int_equal(lp[4] | lp[5] << 8, 60000);
    lp = lpDeleteRange(lp, -10, 10);
    assert_int_equal(lpLength(lp), 59990);
    lpFree(lp);
}

static void test_find_with_skip(void **state) {
    (void)state;
    /* A field/value listpack where values look like other fields. */
    const char *kv[] = {"f1", "f2", "f2", "v2", "100", "f1", "f3", "100", "", "empty"};
    unsigned char *lp = lpNew(0);
    for (size_t i = 0; i < 10; i++) lp = lpAppend(lp, (unsigned char *)kv[i], strlen(kv[i]));
    unsigned char *first = lpFirst(lp);
    unsigned char *p = lpFind(lp, first, (unsigned char *)"f2", 2, 1);
    assert_ptr_equal(p, lpSeek(lp, 2)); /* the field at index 2, not the value at 1 */
    assert_entry(lpNext(lp, p), "v2", 2);
    p = lpFind(lp, first, (unsigned char *)"100", 3, 1);
    assert_ptr_equal(p, lpSeek(lp, 4));
    assert_null(lpFind(lp, first, (unsigned char *)"v2", 2, 1)); /* only a value */
    assert_ptr_equal(lpFind(lp, first, (unsigned char *)"v2", 2, 0), lpSeek(lp, 3));
    assert_ptr_equal(lpFind(lp, first, (unsigned char *)"", 0, 1), lpSeek(lp, 8));
    assert_ptr_equal(lpFind(lp, lpSeek(lp, 1), (unsigned char *)"f1", 2, 1), lpSeek(lp, 5));
    assert_null(lpFind(lp, first, (unsigned char *)"0100", 4, 0)); /* not the integer 100 */
    assert_null(lpFind(lp, first, (unsigned char *)"missing", 7, 1));
    assert_null(lpFind(lp, NULL, (unsigned char *)"f1", 2, 1));
    /* Skip 2 (triplets). */
    assert_ptr_equal(lpFind(lp, first, (unsigned char *)"f3", 2, 2), lpSeek(lp, 6));
    assert_null(lpFind(lp, first, (unsigned char *)"f2", 2, 2));

    assert_true(lpCompare(lpSeek(lp, 4), (unsigned char *)"100", 3));
    assert_false(lpCompare(lpSeek(lp, 4), (unsigned char *)"1000", 4));
    assert_false(lpCompare(lpSeek(lp, 4), (unsigned char *)"f1", 2));
    assert_true(lpCompare(lpSeek(lp, 0), (unsigned char *)"f1", 2));
    lpFree(lp);
}

/* lpFind/lpCompare against a brute-force scan of the printed elements, on elements that
 * differ from the needle in exactly one byte at every position and every length (the
 * equality test compares words from the tail first), and on random near-collisions. */
static int printedEquals(unsigned char *p, const unsigned char *s, size_t len) {
    unsigned char buf[LP_INTBUF_SIZE];
    int64_t n;
    unsigned char *v = lpGet(p, &n, buf);
    return (size_t)n == len && (len == 0 || memcmp(v, s, len) == 0);
}

static void test_find_every_length_and_position(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    unsigned char needle[300], other[300];
    size_t lens[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, 18, 23, 24, 25,
                     31, 32, 33, 63, 64, 65, 127, 128, 200, 300};
    for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
        size_t len = lens[li];
        for (size_t i = 0; i < len; i++) needle[i] = (unsigned char)('a' + i % 26);
        unsigned char *lp = lpNew(0);
        for (size_t pos = 0; pos < len; pos++) { /* one differing byte at each position */
            memcpy(other, needle, len);
            other[pos] ^= 0x20;
            lp = lpAppend(lp, other, (uint32_t)len);
        }
        if (len > 0) lp = lpAppend(lp, needle, (uint32_t)len - 1); /* a prefix of it */
        lp = lpAppend(lp, needle, (uint32_t)len);
        unsigned char *found = lpFind(lp, lpFirst(lp), needle, (uint32_t)len, 0);
        assert_ptr_equal(found, lpLast(lp));
        for (unsigned char *p = lpFirst(lp); p != found; p = lpNext(lp, p))
            assert_false(lpCompare(p, needle, (uint32_t)len));
        assert_true(lpCompare(found, needle, (uint32_t)len));
        lpFree(lp);
    }
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_find_random_against_scan(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    char buf[64];
    for (int iter = 0; iter < 300; iter++) {
        /* Elements from a tiny alphabet, so equal lengths and shared tails are common;
         * some are integers, some integer-looking but not canonical. */
        unsigned char *lp = lpNew(0);
        int n = 1 + (int)(rnd() % 60);
        for (int i = 0; i < n; i++) {
            size_t len;
            if (rnd() % 4 == 0) {
                len = (size_t)ll2string(buf, sizeof(buf), (long long)(rnd() % 40) - 10);
            } else {
                len = rnd() % 14;
                for (size_t k = 0; k < len; k++) buf[k] = "0ab7"[rnd() % 4];
            }
            lp = lpAppend(lp, (unsigned char *)buf, (uint32_t)len);
        }
        for (int q = 0; q < 40; q++) {
            size_t len;
            if (rnd() % 3 == 0) {
                len = (size_t)ll2string(buf, sizeof(buf), (long long)(rnd() % 40) - 10);
            } else {
                len = rnd() % 14;
                for (size_t k = 0; k < len; k++) buf[k] = "0ab7"[rnd() % 4];
            }
            unsigned int skip = (unsigned int)(rnd() % 3);
            unsigned char *expect = NULL;
            unsigned int idx = 0;
            for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p), idx++) {
                if (idx % (skip + 1)) continue;
                if (printedEquals(p, (unsigned char *)buf, len)) {
                    expect = p;
                    break;
                }
            }
            assert_ptr_equal(lpFind(lp, lpFirst(lp), (unsigned char *)buf, (uint32_t)len, skip),
                             expect);
        }
        lpFree(lp);
    }
    assert_int_equal(zmalloc_used_memory(), base);
}

/* lpGet prints every integer exactly like ll2string, through its small-value fast path
 * and the general one; short strings come back in place. */
static void test_get_fast_paths(void **state) {
    (void)state;
    unsigned char *lp = lpNew(0);
    for (long long v = -300; v <= 300; v++) lp = lpAppendInteger(lp, v);
    lp = lpAppend(lp, (unsigned char *)"short", 5);
    char expect[LP_INTBUF_SIZE];
    unsigned char buf[LP_INTBUF_SIZE];
    int64_t n;
    unsigned char *p = lpFirst(lp);
    for (long long v = -300; v <= 300; v++, p = lpNext(lp, p)) {
        int len = ll2string(expect, sizeof(expect), v);
        unsigned char *s = lpGet(p, &n, buf);
        assert_ptr_equal(s, buf);
        assert_int_equal(n, len);
        assert_string_equal((char *)buf, expect); /* NUL-terminated too */
        assert_null(lpGet(p, &n, NULL));
        assert_int_equal(n, v);
        unsigned int slen;
        long long lv;
        assert_null(lpGetValue(p, &slen, &lv));
        assert_int_equal(lv, v);
    }
    unsigned char *s = lpGet(p, &n, buf);
    assert_ptr_equal(s, p + 1);
    assert_int_equal(n, 5);
    assert_memory_equal(s, "short", 5);
    lpFree(lp);
}

/* Batches larger than the stack buffer of lpBatchInsert take the heap path. */
static void test_batch_insert_large(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    model m = {0};
    unsigned char *lp = buildList(&m, "x", 3);
    listpackEntry ents[40];
    char strs[40][16];
    for (unsigned int count = 1; count <= 40; count += 13) {
        for (unsigned int i = 0; i < count; i++) {
            int len = snprintf(strs[i], sizeof(strs[i]), "b%u-%u", count, i);
            ents[i].sval = (unsigned char *)strs[i];
            ents[i].slen = (uint32_t)len;
            ents[i].lval = 0;
        }
        unsigned char *newp;
        lp = lpBatchInsert(lp, lpSeek(lp, 1), LP_BEFORE, ents, count, &newp);
        assert_entry(newp, strs[0], strlen(strs[0]));
        for (unsigned int i = 0; i < count; i++) modelInsert(&m, 1 + i, strs[i], strlen(strs[i]));
        assert_matches(lp, &m);
    }
    lpFree(lp);
    modelFree(&m);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_misc_api(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    unsigned char *lp = lpNew(1000);
    assert_int_equal(lpBytes(lp), 7);
    lp = lpShrinkToFit(lp);
    assert_true(zmalloc_usable_size(lp) < 1000);
    lp = lpAppend(lp, (unsigned char *)"abc", 3);
    unsigned char *copy = lpDup(lp);
    assert_memory_equal(copy, lp, lpBytes(lp));
    lpFreeVoid(copy);
    assert_true(lpSafeToAdd(lp, 1000));
    assert_false(lpSafeToAdd(lp, LISTPACK_MAX_SAFETY_SIZE));
    assert_true(lpSafeToAdd(NULL, LISTPACK_MAX_SAFETY_SIZE));
    assert_int_equal(lpEstimateBytesRepeatedInteger(5, 10), 7 + 2 * 10);
    assert_int_equal(lpEntrySizeInteger(1LL << 40), 10);
    long long v;
    assert_false(lpGetIntegerValue(lpFirst(lp), &v));
    int64_t n;
    uint64_t esize;
    unsigned char *s = lpGetWithSize(lpFirst(lp), &n, NULL, &esize);
    assert_memory_equal(s, "abc", 3);
    assert_int_equal(esize, 5);
    lp = lpAppendInteger(lp, -77);
    assert_null(lpGet(lpLast(lp), &n, NULL));
    assert_int_equal(n, -77);
    lp = lpPrependInteger(lp, 5);
    assert_int_equal(lpFirst(lp)[0], 5);
    lpFree(lp);
    assert_int_equal(zmalloc_used_memory(), base);
}

/* --- validation ----------------------------------------------------------------------- */

static int count_cb(unsigned char *p, unsigned int head_count, void *userdata) {
    (void)p;
    (void)head_count;
    (*(int *)userdata)++;
    return 1;
}

static int veto_cb(unsigned char *p, unsigned int head_count, void *userdata) {
    (void)head_count;
    (void)userdata;
    return !lpCompare(p, (unsigned char *)"bad", 3);
}

static unsigned char *buildMixed(int n, size_t maxlen) {
    unsigned char *lp = lpNew(0);
    char buf[6000];
    for (int i = 0; i < n; i++) {
        size_t len = randomValue(buf, maxlen < sizeof(buf) ? maxlen : sizeof(buf));
        lp = lpAppend(lp, (unsigned char *)buf, (uint32_t)len);
    }
    return lp;
}

static void test_validate_basics(void **state) {
    (void)state;
    unsigned char *lp = buildMixed(50, 300);
    size_t bytes = lpBytes(lp);
    assert_true(lpValidateIntegrity(lp, bytes, 0, NULL, NULL));
    assert_true(lpValidateIntegrity(lp, bytes, 1, NULL, NULL));
    int seen = 0;
    assert_true(lpValidateIntegrity(lp, bytes, 1, count_cb, &seen));
    assert_int_equal(seen, 50);
    /* Size disagreements and tiny blobs. */
    assert_false(lpValidateIntegrity(lp, bytes - 1, 0, NULL, NULL));
    assert_false(lpValidateIntegrity(lp, bytes + 1, 0, NULL, NULL));
    assert_false(lpValidateIntegrity(lp, 3, 1, NULL, NULL));
    /* Wrong header count. */
    lp[4]++;
    assert_true(lpValidateIntegrity(lp, bytes, 0, NULL, NULL));
    assert_false(lpValidateIntegrity(lp, bytes, 1, NULL, NULL));
    lp[4]--;
    /* Saturated count is accepted. */
    lp[4] = lp[5] = 0xFF;
    assert_true(lpValidateIntegrity(lp, bytes, 1, NULL, NULL));
    assert_int_equal(lpLength(lp), 50);
    /* A stray terminator in the middle. */
    unsigned char *second = lpSeek(lp, 1);
    unsigned char saved = second[0];
    second[0] = 0xFF;
    assert_false(lpValidateIntegrity(lp, bytes, 1, NULL, NULL));
    second[0] = 0xF7; /* unused encoding */
    assert_false(lpValidateIntegrity(lp, bytes, 1, NULL, NULL));
    second[0] = saved;
    /* Missing terminator. */
    lp[bytes - 1] = 0;
    assert_false(lpValidateIntegrity(lp, bytes, 0, NULL, NULL));
    lp[bytes - 1] = 0xFF;
    /* The callback can veto. */
    lp = lpAppend(lp, (unsigned char *)"bad", 3);
    assert_false(lpValidateIntegrity(lp, lpBytes(lp), 1, veto_cb, NULL));
    /* Step-wise validation walks to the end. */
    unsigned char *p = lpValidateFirst(lp);
    int steps = 0;
    while (p) {
        assert_true(lpValidateNext(lp, &p, lpBytes(lp)));
        steps++;
    }
    assert_int_equal(steps, 51 + 1); /* the last step consumes the terminator */
    /* A backlen that disagrees with its entry. */
    unsigned char *last = lpLast(lp);
    last[4]++; /* "bad": 0x83 b a d backlen */
    assert_false(lpValidateIntegrity(lp, lpBytes(lp), 1, NULL, NULL));
    last[4]--;
    /* A 32-bit string length pointing past the end. */
    unsigned char *big = lpAppend(lpNew(0), (unsigned char *)"x", 1);
    char s[5000];
    memset(s, 's', sizeof(s));
    big = lpAppend(big, (unsigned char *)s, sizeof(s));
    unsigned char *bp = lpLast(big);
    assert_int_equal(bp[0], 0xF0);
    bp[3] = 0x10; /* length 0x10xxxx */
    assert_false(lpValidateIntegrity(big, lpBytes(big), 1, NULL, NULL));
    lpFree(big);
    lpFree(lp);
}

/* Walks an accepted blob every way the server would. */
static void exercise(unsigned char *lp) {
    unsigned long n = lpLength(lp);
    unsigned long k = 0;
    unsigned char buf[LP_INTBUF_SIZE];
    int64_t len;
    for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p)) {
        lpGet(p, &len, buf);
        k++;
    }
    assert_int_equal(k, n);
    for (unsigned char *p = lpLast(lp); p; p = lpPrev(lp, p)) k--;
    assert_int_equal(k, 0);
    lpFind(lp, lpFirst(lp), (unsigned char *)"needle", 6, 1);
    lpFind(lp, lpFirst(lp), (unsigned char *)"12", 2, 0);
    if (n) lpSeek(lp, -(long)(n / 2) - 1);
}

static void test_validate_fuzz(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    int accepted = 0;
    for (int iter = 0; iter < 6000; iter++) {
        unsigned char *orig = buildMixed(1 + (int)(rnd() % 12), iter % 3 ? 80 : 5000);
        size_t size = lpBytes(orig);
        unsigned char *lp = zmalloc(size);
        memcpy(lp, orig, size);
        int mutations = 1 + (int)(rnd() % 3);
        for (int m = 0; m < mutations; m++) {
            size_t at = 6 + (size_t)rnd() % (size - 6);
            switch (rnd() % 4) {
            case 0: lp[at] ^= (unsigned char)(1u << (rnd() % 8)); break;
            case 1: lp[at] = (unsigned char)rnd(); break;
            case 2: lp[at] = (unsigned char)(0xF0 + rnd() % 16); break;
            default: {
                /* Truncate, fixing header and terminator so the shallow check passes. */
                size_t cut = 7 + (size_t)rnd() % (size - 6);
                if (cut < size) {
                    size = cut;
                    lp[size - 1] = 0xFF;
                    lp[0] = size & 0xFF;
                    lp[1] = (size >> 8) & 0xFF;
                    lp[2] = (size >> 16) & 0xFF;
                    lp[3] = 0;
                }
            }
            }
        }
        if (rnd() % 2) lp[4] = lp[5] = 0xFF; /* unknown count: skip the count check */
        if (lpValidateIntegrity(lp, size, 1, NULL, NULL)) {
            accepted++;
            exercise(lp);
        }
        zfree(lp);
        lpFree(orig);
    }
    /* Both outcomes must be common for the fuzz to mean anything. */
    assert_true(accepted > 500 && accepted < 5500);
    assert_int_equal(zmalloc_used_memory(), base);
}

/* Walks a blob that passed only the shallow check, in a child process: the walk must
 * either complete or abort on purpose (SIGABRT from the integrity checks), never read
 * out of bounds (which would be a SIGSEGV, or an ASan report with exit code 1). */
static int walkInChild(unsigned char *lp) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsigned char buf[LP_INTBUF_SIZE];
        int64_t len;
        for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p)) lpGet(p, &len, buf);
        for (unsigned char *p = lpLast(lp); p; p = lpPrev(lp, p)) lpGet(p, &len, buf);
        lpFind(lp, lpFirst(lp), (unsigned char *)"needle", 6, 1);
        lpSeek(lp, -2);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
        assert_int_equal(WTERMSIG(status), SIGABRT);
        return 1;
    }
    assert_int_equal(WEXITSTATUS(status), 0);
    return 0;
}

static void test_walk_corrupt_aborts_cleanly(void **state) {
    (void)state;
    int corrupt = 0, aborted = 0;
    /* Few iterations: forking is slow under ASan. */
    for (int iter = 0; iter < 2000 && corrupt < 30; iter++) {
        unsigned char *lp = buildMixed(2 + (int)(rnd() % 8), 300);
        size_t size = lpBytes(lp);
        size_t at = 6 + (size_t)rnd() % (size - 7);
        lp[at] = (unsigned char)rnd();
        if (!lpValidateIntegrity(lp, size, 1, NULL, NULL)) {
            assert_true(lpValidateIntegrity(lp, size, 0, NULL, NULL));
            /* Quiet the child's abort message. */
            fflush(stderr);
            int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 2);
            aborted += walkInChild(lp);
            dup2(saved, 2);
            close(saved);
            close(devnull);
            corrupt++;
        }
        lpFree(lp);
    }
    assert_int_equal(corrupt, 30);
    assert_true(aborted > 10); /* most corruptions are caught on the walk */
}

/* Copies a blob into an allocation of exactly its size, so that under ASan a read one
 * byte past the terminator is reported. */
static unsigned char *exactCopy(const unsigned char *lp, size_t size) {
    unsigned char *copy = zmalloc(size);
    memcpy(copy, lp, size);
    return copy;
}

/* Runs fn(lp) in a child: 0 when it completes, 1 when it aborts on purpose (SIGABRT);
 * any other outcome (a crash, an ASan report) fails the test. */
static int runInChild(void (*fn)(unsigned char *), unsigned char *lp) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY); /* quiet the abort message */
        dup2(devnull, 2);
        fn(lp);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
        assert_int_equal(WTERMSIG(status), SIGABRT);
        return 1;
    }
    assert_int_equal(WEXITSTATUS(status), 0);
    return 0;
}

/* Everything a server does to a blob it loaded with only the shallow check. */
static void walkEverything(unsigned char *lp) {
    unsigned char buf[LP_INTBUF_SIZE];
    int64_t len;
    unsigned long n = 0;
    for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p), n++) {
        lpGet(p, &len, buf);
        lpCompare(p, (unsigned char *)"needle", 6);
    }
    for (unsigned char *p = lpLast(lp); p; p = lpPrev(lp, p)) lpGet(p, &len, buf);
    lpFind(lp, lpFirst(lp), (unsigned char *)"needle", 6, 1);
    lpFind(lp, lpFirst(lp), (unsigned char *)"needle", 6, 0);
    lpFind(lp, lpFirst(lp), (unsigned char *)"12", 2, 0);
    lpFind(lp, lpFirst(lp), (unsigned char *)"field:0000000042", 16, 1);
    lpLength(lp);
    lpSeek(lp, -2);
    lpSeek(lp, (long)n / 2);
    unsigned char *p = lpFirst(lp);
    if (p) lp = lpDeleteRangeWithEntry(lp, &p, 3);
}

static void test_walk_corrupt_shallow_never_out_of_bounds(void **state) {
    (void)state;
    int corrupt = 0, aborted = 0;
    /* Few iterations: forking is slow under ASan. */
    for (int iter = 0; iter < 4000 && corrupt < 60; iter++) {
        unsigned char *orig = buildMixed(2 + (int)(rnd() % 8), iter % 2 ? 300 : 40);
        size_t size = lpBytes(orig);
        unsigned char *lp = exactCopy(orig, size);
        lpFree(orig);
        size_t at = 6 + (size_t)rnd() % (size - 7);
        switch (rnd() % 4) {
        case 0: lp[at] = (unsigned char)rnd(); break;
        case 1: lp[at] ^= (unsigned char)(1u << (rnd() % 8)); break;
        case 2: lp[at] = (unsigned char)(0xE0 + rnd() % 32); break; /* long lengths, bad bytes */
        default:
            /* Cut the blob short, fixing header and terminator for the shallow check. */
            size = at + 1;
            lp[size - 1] = 0xFF;
            lp[0] = size & 0xFF;
            lp[1] = (size >> 8) & 0xFF;
            lp[2] = lp[3] = 0;
        }
        if (rnd() % 2) lp[4] = lp[5] = 0xFF; /* count unknown: lpLength walks */
        assert_true(lpValidateIntegrity(lp, size, 0, NULL, NULL));
        if (!lpValidateIntegrity(lp, size, 1, NULL, NULL)) {
            aborted += runInChild(walkEverything, lp);
            corrupt++;
        }
        zfree(lp);
    }
    assert_int_equal(corrupt, 60);
    assert_true(aborted > 20); /* most corruptions are caught on the walk */
}

/* Entries whose size runs past the terminator are refused by the cheap per-step check,
 * whichever encoding says the size. */
static void firstOnly(unsigned char *lp) {
    unsigned char *p = lpFirst(lp);
    int64_t len;
    unsigned char buf[LP_INTBUF_SIZE];
    if (p) lpGet(p, &len, buf);
}

static void nextOnly(unsigned char *lp) {
    lpNext(lp, lp + 6); /* the first element is sound: step to the bad one */
}

static void findOnly(unsigned char *lp) {
    lpFind(lp, lp + 6, (unsigned char *)"zz", 2, 0);
}

static void test_walk_overlong_entries_abort(void **state) {
    (void)state;
    /* A valid one-element blob ("ab"), then the element's first byte rewritten. */
    const unsigned char tails[][6] = {
        {0x80 | 10, 'a', 'b', 3},        /* 6-bit string of 10 bytes in a 2-byte room */
        {0xE0, 0x40, 'b', 3},            /* 12-bit string */
        {0xF0, 'a', 'b', 3},             /* 32-bit string: its length is not even there */
        {0xF4, 'a', 'b', 3},             /* 64-bit integer */
        {0xF3, 'a', 'b', 3},             /* 32-bit integer */
        {0xF7, 'a', 'b', 3},             /* unused encoding */
    };
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        unsigned char blob[11] = {11, 0, 0, 0, 1, 0};
        memcpy(blob + 6, tails[i], 4);
        blob[10] = 0xFF;
        unsigned char *lp = exactCopy(blob, sizeof(blob));
        assert_true(lpValidateIntegrity(lp, sizeof(blob), 0, NULL, NULL));
        assert_false(lpValidateIntegrity(lp, sizeof(blob), 1, NULL, NULL));
        assert_int_equal(runInChild(firstOnly, lp), 1);
        assert_int_equal(runInChild(findOnly, lp), 1);
        zfree(lp);
        /* The same entry behind a sound one: lpNext must refuse to land on it. */
        unsigned char blob2[13] = {13, 0, 0, 0, 2, 0, 0x05, 0x01};
        memcpy(blob2 + 8, tails[i], 4);
        blob2[12] = 0xFF;
        lp = exactCopy(blob2, sizeof(blob2));
        assert_true(lpValidateIntegrity(lp, sizeof(blob2), 0, NULL, NULL));
        assert_int_equal(runInChild(nextOnly, lp), 1);
        assert_int_equal(runInChild(findOnly, lp), 1);
        zfree(lp);
    }
    /* A backlen that disagrees with the forward size makes lpPrev abort. */
    unsigned char blob3[11] = {11, 0, 0, 0, 1, 0, 0x82, 'a', 'b', 2, 0xFF};
    unsigned char *lp = exactCopy(blob3, sizeof(blob3));
    assert_int_equal(runInChild(firstOnly, lp), 0);
    lp[9] = 1; /* says the entry is 1 byte long */
    assert_true(lpValidateIntegrity(lp, sizeof(blob3), 0, NULL, NULL));
    assert_false(lpValidateIntegrity(lp, sizeof(blob3), 1, NULL, NULL));
    assert_int_equal(runInChild(firstOnly, lp), 0); /* forward walks do not read backlens */
    assert_int_equal(runInChild(walkEverything, lp), 1);
    zfree(lp);
}

/* --- randomness ----------------------------------------------------------------------- */

/* A hash-like listpack: field i -> value i*10. */
static unsigned char *buildPairs(int pairs) {
    unsigned char *lp = lpNew(0);
    char buf[32];
    for (int i = 0; i < pairs; i++) {
        int len = snprintf(buf, sizeof(buf), "field:%d", i);
        lp = lpAppend(lp, (unsigned char *)buf, (uint32_t)len);
        lp = lpAppendInteger(lp, i * 10);
    }
    return lp;
}

static int pairIndex(const listpackEntry *key, const listpackEntry *val) {
    assert_non_null(key->sval);
    int i;
    assert_int_equal(sscanf((const char *)key->sval, "field:%d", &i), 1);
    if (val) {
        assert_null(val->sval);
        assert_int_equal(val->lval, i * 10);
    }
    return i;
}

static void test_random_pairs(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    srand(1234);
    const int pairs = 20;
    unsigned char *lp = buildPairs(pairs);
    int seen[20] = {0};
    listpackEntry key, val;
    for (int i = 0; i < 400; i++) {
        lpRandomPair(lp, pairs, &key, &val);
        seen[pairIndex(&key, &val)]++;
    }
    for (int i = 0; i < pairs; i++) assert_true(seen[i] > 0);
    lpRandomPair(lp, pairs, &key, NULL);
    pairIndex(&key, NULL);

    /* With repetition: every pick is a real pair, and order is not sorted. */
    listpackEntry keys[500], vals[500];
    lpRandomPairs(lp, 500, keys, vals);
    int sorted = 1, prev = -1;
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < 500; i++) {
        int k = pairIndex(&keys[i], &vals[i]);
        if (k < prev) sorted = 0;
        prev = k;
        seen[k]++;
    }
    assert_false(sorted);
    for (int i = 0; i < pairs; i++) assert_true(seen[i] > 0);
    lpRandomPairs(lp, 5, keys, NULL);

    /* Without repetition. */
    for (unsigned int want = 0; want <= 25; want += 5) {
        unsigned int got = lpRandomPairsUnique(lp, want, keys, vals);
        assert_int_equal(got, want < (unsigned)pairs ? want : (unsigned)pairs);
        prev = -1;
        for (unsigned int i = 0; i < got; i++) {
            int k = pairIndex(&keys[i], &vals[i]);
            assert_true(k > prev); /* distinct, in listpack order */
            prev = k;
        }
    }

    /* Single entries with repetition. */
    listpackEntry ents[100];
    lpRandomEntries(lp, 100, ents);
    for (int i = 0; i < 100; i++) assert_true(ents[i].sval != NULL || ents[i].lval % 10 == 0);

    /* The single-pass distinct sampler, over all elements and over even ones. */
    for (int even_only = 0; even_only <= 1; even_only++) {
        unsigned long total = lpLength(lp);
        unsigned int remaining = even_only ? 7 : 11;
        unsigned int index = 0, picked = 0, last = 0;
        unsigned char *p = lpFirst(lp);
        int first = 1;
        while (remaining > 0) {
            p = lpNextRandom(lp, p, &index, remaining--, even_only);
            assert_non_null(p);
            assert_ptr_equal(p, lpSeek(lp, index));
            if (even_only) assert_int_equal(index % 2, 0);
            if (!first) assert_true(index > last);
            first = 0;
            last = index;
            picked++;
            p = lpNext(lp, p);
            index++;
        }
        assert_int_equal(picked, even_only ? 7 : 11);
        assert_true(last < total);
        /* Asking for all remaining elements takes every one of them. */
        index = 0;
        p = lpFirst(lp);
        unsigned int all = (unsigned int)(even_only ? total / 2 : total), n = 0;
        remaining = all;
        while (remaining > 0) {
            p = lpNextRandom(lp, p, &index, remaining--, even_only);
            assert_int_equal(index, even_only ? 2 * n : n);
            n++;
            p = lpNext(lp, p);
            index++;
        }
        assert_int_equal(n, all);
    }
    lpFree(lp);
    assert_int_equal(zmalloc_used_memory(), base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_encodings),
        cmocka_unit_test(test_integer_bytes),
        cmocka_unit_test(test_golden_blob),
        cmocka_unit_test(test_string_encodings),
        cmocka_unit_test(test_backlen_bytes),
        cmocka_unit_test(test_walk_and_seek),
        cmocka_unit_test(test_insert_replace_delete),
        cmocka_unit_test(test_batch_operations),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_count_saturation),
        cmocka_unit_test(test_find_with_skip),
        cmocka_unit_test(test_find_every_length_and_position),
        cmocka_unit_test(test_find_random_against_scan),
        cmocka_unit_test(test_get_fast_paths),
        cmocka_unit_test(test_batch_insert_large),
        cmocka_unit_test(test_misc_api),
        cmocka_unit_test(test_validate_basics),
        cmocka_unit_test(test_validate_fuzz),
        cmocka_unit_test(test_walk_corrupt_aborts_cleanly),
        cmocka_unit_test(test_walk_corrupt_shallow_never_out_of_bounds),
        cmocka_unit_test(test_walk_overlong_entries_abort),
        cmocka_unit_test(test_random_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
