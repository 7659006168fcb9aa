/* test_intset.c - unit tests for intset.c: exact blob bytes, width upgrades at the
 * int16/int32/int64 boundaries, a randomized comparison with a sorted-array model,
 * random member selection, and integrity validation of malformed and fuzzed blobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../intset.h"
#include "../zmalloc.h"

/* ---------------------------------------------------------------- helpers */

static intset *fromValues(const int64_t *values, size_t n) {
    intset *is = intsetNew();
    for (size_t i = 0; i < n; i++) is = intsetAdd(is, values[i], NULL);
    return is;
}

static void assertBlob(const intset *is, const unsigned char *expected, size_t len) {
    assert_int_equal(intsetBlobLen(is), len);
    if (memcmp(is, expected, len) != 0) {
        for (size_t i = 0; i < len; i++) fprintf(stderr, "%02x ", ((const unsigned char *)is)[i]);
        fprintf(stderr, "\n");
        fail_msg("blob bytes differ");
    }
}

static void assertSortedEquals(intset *is, const int64_t *model, size_t n) {
    assert_int_equal(intsetLen(is), n);
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        assert_true(intsetGet(is, (uint32_t)i, &v));
        assert_true(v == model[i]);
    }
    int64_t untouched = 4242;
    assert_false(intsetGet(is, (uint32_t)n, &untouched));
    assert_true(untouched == 4242);
    assert_true(intsetValidateIntegrity((unsigned char *)is, intsetBlobLen(is), 1) || n == 0);
}

static uint32_t encodingOf(const intset *is) {
    uint32_t enc;
    memcpy(&enc, is, sizeof(enc)); /* little-endian host assumed by the byte tests */
    return enc;
}

/* ---------------------------------------------------------------- format */

static void test_blob_format(void **state) {
    (void)state;
    intset *is = intsetNew();
    static const unsigned char empty[] = {2, 0, 0, 0, 0, 0, 0, 0};
    assertBlob(is, empty, sizeof(empty));

    is = intsetAdd(is, 3, NULL);
    is = intsetAdd(is, 1, NULL);
    is = intsetAdd(is, 2, NULL);
    static const unsigned char one23[] = {0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
                                          0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00};
    assertBlob(is, one23, sizeof(one23));
    static const int64_t in_order[] = {1, 2, 3, 2, 1};
    intset *again = fromValues(in_order, 5);
    assertBlob(again, one23, sizeof(one23));
    zfree(again);

    /* -1 as int16, then the upgrade to int32 rewrites everything 4 bytes wide. */
    is = intsetAdd(is, -1, NULL);
    static const unsigned char with_neg[] = {2, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff,
                                             1, 0, 2, 0, 3, 0};
    assertBlob(is, with_neg, sizeof(with_neg));
    is = intsetAdd(is, 65536, NULL);
    static const unsigned char wide32[] = {4, 0, 0, 0, 5, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
                                           1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0,
                                           0, 0, 1, 0};
    assertBlob(is, wide32, sizeof(wide32));
    zfree(is);

    is = intsetNew();
    is = intsetAdd(is, 5, NULL);
    is = intsetAdd(is, INT64_MIN, NULL);
    static const unsigned char wide64[] = {8, 0, 0, 0, 2, 0, 0, 0,
                                           0, 0, 0, 0, 0, 0, 0, 0x80,
                                           5, 0, 0, 0, 0, 0, 0, 0};
    assertBlob(is, wide64, sizeof(wide64));
    zfree(is);
}

/* ---------------------------------------------------------------- upgrades */

static void test_upgrade_boundaries(void **state) {
    (void)state;
    static const struct {
        int64_t value;
        uint32_t enc;
    } cases[] = {
        {0, 2},
        {INT16_MAX, 2},
        {INT16_MIN, 2},
        {(int64_t)INT16_MAX + 1, 4},
        {(int64_t)INT16_MIN - 1, 4},
        {INT32_MAX, 4},
        {INT32_MIN, 4},
        {(int64_t)INT32_MAX + 1, 8},
        {(int64_t)INT32_MIN - 1, 8},
        {INT64_MAX, 8},
        {INT64_MIN, 8},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Alone in a fresh set: picks exactly the needed width. */
        intset *is = intsetNew();
        uint8_t ok = 0;
        is = intsetAdd(is, cases[i].value, &ok);
        assert_int_equal(ok, 1);
        assert_int_equal(encodingOf(is), cases[i].enc);
        assert_true(intsetFind(is, cases[i].value));
        zfree(is);
    }

    /* Grow one step at a time; existing members survive each upgrade, in order. */
    intset *is = intsetNew();
    int64_t model[] = {INT64_MIN,     (int64_t)INT32_MIN - 1, INT32_MIN, (int64_t)INT16_MIN - 1,
                       INT16_MIN,     -1, 0, 1, INT16_MAX, (int64_t)INT16_MAX + 1,
                       INT32_MAX,     (int64_t)INT32_MAX + 1, INT64_MAX};
    const int64_t order[] = {0, -1, 1, INT16_MIN, INT16_MAX, (int64_t)INT16_MAX + 1,
                             (int64_t)INT16_MIN - 1, INT32_MIN, INT32_MAX,
                             (int64_t)INT32_MAX + 1, INT64_MAX, (int64_t)INT32_MIN - 1,
                             INT64_MIN};
    for (size_t i = 0; i < 13; i++) is = intsetAdd(is, order[i], NULL);
    assertSortedEquals(is, model, 13);
    assert_int_equal(encodingOf(is), 8);
    assert_true(intsetMin(is) == INT64_MIN);
    assert_true(intsetMax(is) == INT64_MAX);

    /* Removing the wide members never narrows the encoding. */
    int removed = 0;
    is = intsetRemove(is, INT64_MIN, &removed);
    assert_int_equal(removed, 1);
    is = intsetRemove(is, INT64_MAX, &removed);
    assert_int_equal(removed, 1);
    assert_int_equal(encodingOf(is), 8);
    assertSortedEquals(is, model + 1, 11);
    zfree(is);

    /* A value wider than the set can never be a member. */
    is = intsetNew();
    is = intsetAdd(is, 7, NULL);
    assert_false(intsetFind(is, 65536 + 7));
    assert_false(intsetFind(is, (int64_t)1 << 40));
    is = intsetRemove(is, (int64_t)1 << 40, &removed);
    assert_int_equal(removed, 0);
    assert_int_equal(intsetLen(is), 1);
    assert_int_equal(encodingOf(is), 2);
    zfree(is);
}

static void test_duplicates_and_remove(void **state) {
    (void)state;
    intset *is = intsetNew();
    uint8_t added;
    int removed;
    is = intsetAdd(is, 10, &added);
    assert_int_equal(added, 1);
    is = intsetAdd(is, 10, &added);
    assert_int_equal(added, 0);
    assert_int_equal(intsetLen(is), 1);
    is = intsetAdd(is, 5, &added);
    is = intsetAdd(is, 15, &added);
    is = intsetAdd(is, 5, &added);
    assert_int_equal(added, 0);
    static const int64_t m1[] = {5, 10, 15};
    assertSortedEquals(is, m1, 3);

    is = intsetRemove(is, 11, &removed);
    assert_int_equal(removed, 0);
    is = intsetRemove(is, 10, &removed);
    assert_int_equal(removed, 1);
    is = intsetRemove(is, 10, &removed);
    assert_int_equal(removed, 0);
    static const int64_t m2[] = {5, 15};
    assertSortedEquals(is, m2, 2);
    is = intsetRemove(is, 15, NULL);
    is = intsetRemove(is, 5, NULL);
    assert_int_equal(intsetLen(is), 0);
    assert_int_equal(intsetBlobLen(is), 8);
    assert_false(intsetFind(is, 5));
    /* Reusable after becoming empty. */
    is = intsetAdd(is, -3, NULL);
    assert_true(intsetFind(is, -3));
    assert_true(intsetMin(is) == -3 && intsetMax(is) == -3);
    zfree(is);
}

/* ---------------------------------------------------------------- model test */

static int cmpI64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t randomValue(void) {
    /* Mostly small values (so duplicates happen), sometimes of each wider width. */
    switch (random() % 4) {
    case 0: return (int64_t)(random() % 64) - 32;
    case 1: return (int64_t)(random() % 65536) - 32768;
    case 2: return (int64_t)(int32_t)random() * ((random() & 1) ? 1 : -1);
    default:
        return (int64_t)(((uint64_t)random() << 33) ^ ((uint64_t)random() << 2) ^
                         (uint64_t)random());
    }
}

static size_t modelFind(const int64_t *model, size_t n, int64_t v) {
    for (size_t i = 0; i < n; i++)
        if (model[i] == v) return i;
    return n;
}

static void test_random_against_model(void **state) {
    (void)state;
    srandom(1234);
    for (int round = 0; round < 20; round++) {
        intset *is = intsetNew();
        int64_t model[600];
        size_t n = 0;
        for (int op = 0; op < 1500; op++) {
            int64_t v = (random() % 3 == 0 && n > 0) ? model[random() % n] : randomValue();
            size_t at = modelFind(model, n, v);
            if (random() % 3 != 0 && n < 600) {
                uint8_t added;
                is = intsetAdd(is, v, &added);
                assert_int_equal(added, at == n);
                if (at == n) {
                    model[n++] = v;
                    qsort(model, n, sizeof(model[0]), cmpI64);
                }
            } else {
                int removed;
                is = intsetRemove(is, v, &removed);
                assert_int_equal(removed, at != n);
                if (at != n) {
                    memmove(model + at, model + at + 1, (n - at - 1) * sizeof(model[0]));
                    n--;
                }
            }
            assert_int_equal(intsetFind(is, v), modelFind(model, n, v) != n);
        }
        assertSortedEquals(is, model, n);
        for (size_t i = 0; i < n; i++) assert_true(intsetFind(is, model[i]));
        if (n) {
            assert_true(intsetMin(is) == model[0]);
            assert_true(intsetMax(is) == model[n - 1]);
        }
        zfree(is);
    }
}

/* ---------------------------------------------------------------- randomness */

static void test_random_members(void **state) {
    (void)state;
    intset *is = intsetNew();
    for (int64_t v = 0; v < 10; v++) is = intsetAdd(is, v * 100000, NULL); /* int32 */
    int hits[10] = {0};
    for (int i = 0; i < 10000; i++) {
        int64_t v = intsetRandom(is);
        assert_true(intsetFind(is, v));
        hits[v / 100000]++;
    }
    for (int i = 0; i < 10; i++) assert_in_range(hits[i], 700, 1300);

    /* Distinct, ascending, uniform-ish subsets. */
    int64_t out[20];
    int picked[10] = {0};
    for (int round = 0; round < 5000; round++) {
        uint32_t got = intsetRandomMembers(is, 3, out);
        assert_int_equal(got, 3);
        for (uint32_t j = 0; j < got; j++) {
            assert_true(intsetFind(is, out[j]));
            if (j) assert_true(out[j - 1] < out[j]);
            picked[out[j] / 100000]++;
        }
    }
    for (int i = 0; i < 10; i++) assert_in_range(picked[i], 1200, 1800);
    assert_int_equal(intsetRandomMembers(is, 20, out), 10);
    for (int i = 0; i < 10; i++) assert_true(out[i] == i * 100000);
    assert_int_equal(intsetRandomMembers(is, 0, out), 0);
    zfree(is);
}

/* ---------------------------------------------------------------- validation */

static int validCopy(const unsigned char *blob, size_t size, int deep) {
    /* Exact-size heap copy so ASan flags any read past the end. */
    unsigned char *copy = malloc(size ? size : 1);
    memcpy(copy, blob, size);
    int ok = intsetValidateIntegrity(copy, size, deep);
    free(copy);
    return ok;
}

static void test_validate_malformed(void **state) {
    (void)state;
    static const unsigned char good[] = {2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 3, 0};
    assert_true(validCopy(good, sizeof(good), 1));
    assert_true(validCopy(good, sizeof(good), 0));

    /* Too short for a header. */
    for (size_t n = 0; n < 8; n++) assert_false(validCopy(good, n, 0));
    /* Length not matching the size, either way. */
    assert_false(validCopy(good, sizeof(good) - 2, 0));
    assert_false(validCopy(good, sizeof(good) - 1, 0));
    unsigned char longer[16];
    memcpy(longer, good, sizeof(good));
    longer[14] = 4;
    longer[15] = 0;
    assert_false(validCopy(longer, sizeof(longer), 0));
    /* Unknown encodings. */
    static const uint32_t bad_enc[] = {0, 1, 3, 5, 6, 7, 16, 0x02000000, 0xffffffffu};
    for (size_t i = 0; i < sizeof(bad_enc) / sizeof(bad_enc[0]); i++) {
        unsigned char b[sizeof(good)];
        memcpy(b, good, sizeof(good));
        memcpy(b, &bad_enc[i], 4);
        assert_false(validCopy(b, sizeof(b), 0));
    }
    /* Encoding 4 with 3 elements would need 20 bytes. */
    unsigned char enc4[sizeof(good)];
    memcpy(enc4, good, sizeof(good));
    enc4[0] = 4;
    assert_false(validCopy(enc4, sizeof(enc4), 0));
    /* Huge length must not overflow the size check. */
    unsigned char huge[8] = {8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    assert_false(validCopy(huge, sizeof(huge), 0));
    /* Empty set. */
    static const unsigned char empty[] = {2, 0, 0, 0, 0, 0, 0, 0};
    assert_false(validCopy(empty, sizeof(empty), 1));
    /* Unsorted and duplicates: only the deep check sees them. */
    static const unsigned char unsorted[] = {2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 3, 0, 2, 0};
    static const unsigned char dup[] = {2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 2, 0};
    static const unsigned char neg_order[] = {2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0xff, 0xff};
    assert_true(validCopy(unsorted, sizeof(unsorted), 0));
    assert_false(validCopy(unsorted, sizeof(unsorted), 1));
    assert_true(validCopy(dup, sizeof(dup), 0));
    assert_false(validCopy(dup, sizeof(dup), 1));
    assert_false(validCopy(neg_order, sizeof(neg_order), 1));
    /* A wider than needed encoding is still valid (no minimality requirement). */
    static const unsigned char wide[] = {8, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    assert_true(validCopy(wide, sizeof(wide), 1));
}

/* Exercises every operation on a blob that passed deep validation. */
static void useValidatedBlob(const unsigned char *blob, size_t size) {
    intset *is = zmalloc(size);
    memcpy(is, blob, size);
    uint32_t n = intsetLen(is);
    int64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t v;
        assert_true(intsetGet(is, i, &v));
        if (i) assert_true(prev < v);
        assert_true(intsetFind(is, v));
        prev = v;
    }
    (void)intsetRandom(is);
    is = intsetAdd(is, 12345, NULL);
    is = intsetAdd(is, -7, NULL);
    is = intsetRemove(is, intsetMin(is), NULL);
    assert_true(intsetValidateIntegrity((unsigned char *)is, intsetBlobLen(is), 1));
    zfree(is);
}

static void test_validate_fuzz(void **state) {
    (void)state;
    srandom(99);
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        intset *is = intsetNew();
        int count = 1 + (int)(random() % 12);
        for (int i = 0; i < count; i++) is = intsetAdd(is, randomValue(), NULL);
        size_t size = intsetBlobLen(is);
        unsigned char buf[8 + 12 * 8 + 16];
        memcpy(buf, is, size);
        zfree(is);

        /* Mutate a few bytes, and sometimes the size. */
        int flips = 1 + (int)(random() % 3);
        for (int f = 0; f < flips; f++) {
            size_t at = (size_t)random() % size;
            buf[at] = (random() % 4 == 0) ? buf[at] ^ (unsigned char)(1u << (random() % 8))
                                          : (unsigned char)random();
        }
        if (random() % 5 == 0) {
            long delta = (long)(random() % 17) - 8;
            if ((long)size + delta >= 0) size = (size_t)((long)size + delta);
            if (size > sizeof(buf)) size = sizeof(buf);
        }

        int shallow = validCopy(buf, size, 0);
        int deep = validCopy(buf, size, 1);
        assert_true(!deep || shallow); /* deep implies shallow */
        if (deep) {
            accepted++;
            useValidatedBlob(buf, size);
        }
    }
    assert_true(accepted > 100); /* the fuzz did reach the deep path */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blob_format),
        cmocka_unit_test(test_upgrade_boundaries),
        cmocka_unit_test(test_duplicates_and_remove),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_random_members),
        cmocka_unit_test(test_validate_malformed),
        cmocka_unit_test(test_validate_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
