/* test_sds.c - unit tests for sds: header types at every boundary, growth and
 * shrinking, editing, formatting, splitting, quoting and the embedding helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../sds.h"
#include "../zmalloc.h"

/* Asserts that s holds exactly the len bytes of expect (and is NUL-terminated). */
static void assertSds(sds s, const char *expect, size_t len) {
    assert_int_equal(sdslen(s), len);
    assert_memory_equal(s, expect, len);
    assert_int_equal(s[len], '\0');
    assert_true(sdsalloc(s) >= sdslen(s));
}
#define assertSdsStr(s, str) assertSds((s), (str), strlen(str))

static void test_new_basic(void **state) {
    (void)state;
    sds s = sdsnew("foo");
    assertSdsStr(s, "foo");
    assert_int_equal(sdsType(s), SDS_TYPE_8);
    sdsfree(s);

    s = sdsnewlen("foo", 2);
    assertSdsStr(s, "fo");
    sdsfree(s);

    s = sdsnewlen(NULL, 5);
    assertSds(s, "\0\0\0\0\0", 5);
    sdsfree(s);

    s = sdsempty();
    assertSdsStr(s, "");
    sdsfree(s);

    s = sdsnew(NULL);
    assertSdsStr(s, "");
    sdsfree(s);

    s = sdsnewlen("a\0b", 3);
    assertSds(s, "a\0b", 3);
    sds d = sdsdup(s);
    assertSds(d, "a\0b", 3);
    assert_ptr_not_equal(d, s);
    sdsfree(s);
    sdsfree(d);

    sdsfree(NULL);

    s = sdstrynewlen("xyz", 3);
    assert_non_null(s);
    assertSdsStr(s, "xyz");
    sdsfree(s);
}

/* The header type sdsnewlen picks at and around each limit. */
static void test_type_boundaries(void **state) {
    (void)state;
    static const struct {
        size_t len;
        int type;
    } cases[] = {
        {0, SDS_TYPE_8},      {31, SDS_TYPE_8},      {32, SDS_TYPE_8},
        {255, SDS_TYPE_8},    {256, SDS_TYPE_16},    {65535, SDS_TYPE_16},
        {65536, SDS_TYPE_32}, {1 << 20, SDS_TYPE_32},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].len;
        char *buf = malloc(len + 1);
        memset(buf, 'x', len);
        sds s = sdsnewlen(buf, len);
        assert_int_equal(sdsType(s), cases[i].type);
        assertSds(s, buf, len);
        assert_true(sdsAllocSize(s) >= sdsHdrSize(cases[i].type) + len + 1);
        assert_ptr_equal(sdsAllocPtr(s), s - sdsHdrSize(cases[i].type));
        /* Appending one byte across a boundary converts the header. */
        s = sdscatlen(s, "y", 1);
        assert_int_equal(sdslen(s), len + 1);
        assert_memory_equal(s, buf, len);
        assert_int_equal(s[len], 'y');
        assert_int_equal(s[len + 1], '\0');
        sdsfree(s);
        free(buf);
    }
}

static void test_req_type(void **state) {
    (void)state;
    assert_int_equal(sdsReqType(0), SDS_TYPE_5);
    assert_int_equal(sdsReqType(31), SDS_TYPE_5);
    assert_int_equal(sdsReqType(32), SDS_TYPE_8);
    assert_int_equal(sdsReqType(255), SDS_TYPE_8);
    assert_int_equal(sdsReqType(256), SDS_TYPE_16);
    assert_int_equal(sdsReqType(65535), SDS_TYPE_16);
    assert_int_equal(sdsReqType(65536), SDS_TYPE_32);
    assert_int_equal(sdsReqType(0xffffffffULL), SDS_TYPE_32);
    assert_int_equal(sdsReqType(0x100000000ULL), SDS_TYPE_64);
    assert_int_equal(sdsHdrSize(SDS_TYPE_5), 1);
    assert_int_equal(sdsHdrSize(SDS_TYPE_8), 3);
    assert_int_equal(sdsHdrSize(SDS_TYPE_16), 5);
    assert_int_equal(sdsHdrSize(SDS_TYPE_32), 9);
    assert_int_equal(sdsHdrSize(SDS_TYPE_64), 17);
    assert_int_equal(sdsReqSize(10, SDS_TYPE_5), 12);
    assert_int_equal(sdsReqSize(10, SDS_TYPE_8), 14);
}

/* sdswrite builds strings inside caller-owned memory, including TYPE_5 ones, and every
 * read-only function must understand them; growing one converts it. */
static void test_sdswrite_and_type5(void **state) {
    (void)state;
    char buf[64];
    memset(buf, 0x55, sizeof(buf));
    sds s = sdswrite(buf, sizeof(buf), SDS_TYPE_5, "hello", 5);
    assert_ptr_equal(s, buf + 1);
    assert_int_equal(sdsType(s), SDS_TYPE_5);
    assertSdsStr(s, "hello");
    assert_int_equal(sdsalloc(s), 5);
    assert_int_equal(sdsavail(s), 0);

    /* In-place edits that do not grow stay valid for TYPE_5. */
    sdstoupper(s);
    assertSdsStr(s, "HELLO");
    sdsrange(s, 1, -2);
    assertSdsStr(s, "ELL");
    sdsclear(s);
    assertSdsStr(s, "");

    /* 31 bytes: the largest TYPE_5. */
    char big[32];
    memset(big, 'q', 31);
    s = sdswrite(buf, sdsReqSize(31, SDS_TYPE_5), SDS_TYPE_5, big, 31);
    assertSds(s, big, 31);
    assert_int_equal(sdsReqSize(31, SDS_TYPE_5), 33);

    /* Growing a TYPE_5 that lives in its own zmalloc block converts it. */
    char *heapbuf = zmalloc(sdsReqSize(3, SDS_TYPE_5));
    sds h = sdswrite(heapbuf, sdsReqSize(3, SDS_TYPE_5), SDS_TYPE_5, "abc", 3);
    h = sdscat(h, "defghijklmnopqrstuvwxyz0123456789");
    assert_int_not_equal(sdsType(h), SDS_TYPE_5);
    assertSdsStr(h, "abcdefghijklmnopqrstuvwxyz0123456789");
    sdsfree(h);

    heapbuf = zmalloc(sdsReqSize(3, SDS_TYPE_5));
    h = sdswrite(heapbuf, sdsReqSize(3, SDS_TYPE_5), SDS_TYPE_5, "abc", 3);
    h = sdsMakeRoomFor(h, 0); /* nothing to add: stays as is */
    assert_int_equal(sdsType(h), SDS_TYPE_5);
    h = sdsMakeRoomFor(h, 1);
    assert_int_equal(sdsType(h), SDS_TYPE_8);
    assert_true(sdsavail(h) >= 1);
    assertSdsStr(h, "abc");
    sdsfree(h);

    heapbuf = zmalloc(sdsReqSize(3, SDS_TYPE_5));
    h = sdswrite(heapbuf, sdsReqSize(3, SDS_TYPE_5), SDS_TYPE_5, "abc", 3);
    h = sdsRemoveFreeSpace(h, 1);
    assert_int_not_equal(sdsType(h), SDS_TYPE_5);
    assertSdsStr(h, "abc");
    sdsfree(h);

    /* Other types written in place record alloc == len. */
    s = sdswrite(buf, sizeof(buf), SDS_TYPE_8, "xyz", 3);
    assert_ptr_equal(s, buf + 3);
    assert_int_equal(sdsalloc(s), 3);
    assertSdsStr(s, "xyz");
    s = sdswrite(buf, sizeof(buf), SDS_TYPE_16, "xyz", 3);
    assert_int_equal(sdsType(s), SDS_TYPE_16);
    assert_int_equal(sdsalloc(s), 3);
    assertSdsStr(s, "xyz");
    s = sdswrite(buf, sizeof(buf), SDS_TYPE_64, NULL, 4);
    assertSds(s, "\0\0\0\0", 4);
}

static void test_cat_and_cpy(void **state) {
    (void)state;
    sds s = sdsnew("foo");
    s = sdscat(s, "bar");
    assertSdsStr(s, "foobar");
    s = sdscatlen(s, "\0x", 2);
    assertSds(s, "foobar\0x", 8);
    sds t = sdsnew("!");
    s = sdscatsds(s, t);
    assertSds(s, "foobar\0x!", 9);
    sdsfree(t);

    s = sdscpy(s, "a");
    assertSdsStr(s, "a");
    s = sdscpy(s, "xyzxxxxxxxxxxyyyyyyyyyykkkkkkkkkk");
    assertSdsStr(s, "xyzxxxxxxxxxxyyyyyyyyyykkkkkkkkkk");
    s = sdscpylen(s, "hello", 2);
    assertSdsStr(s, "he");
    sdsfree(s);

    /* Appending a string to itself is a common idiom: the source moves with it. */
    s = sdsnew("ab");
    for (int i = 0; i < 10; i++) s = sdscatsds(s, s);
    assert_int_equal(sdslen(s), 2048);
    for (size_t i = 0; i < 2048; i += 2) assert_memory_equal(s + i, "ab", 2);
    sdsfree(s);
}

/* Largest capacity a header type can record: growth may be capped by it. */
static size_t typeMax(sds s) {
    switch (sdsType(s)) {
    case SDS_TYPE_8: return 255;
    case SDS_TYPE_16: return 65535;
    default: return SIZE_MAX;
    }
}

static void test_growth(void **state) {
    (void)state;
    sds s = sdsempty();
    size_t total = 0, reallocs = 0;
    for (int i = 0; i < 3000; i++) {
        size_t before_alloc = sdsalloc(s);
        s = sdscatlen(s, "0123456789abcdef0123456789abcdef", 32);
        total += 32;
        assert_int_equal(sdslen(s), total);
        if (sdsalloc(s) != before_alloc) {
            reallocs++;
            /* Greedy: reserves twice the needed size (below 1MB). */
            size_t want = total * 2 < typeMax(s) ? total * 2 : typeMax(s);
            assert_true(sdsalloc(s) >= want);
        }
    }
    assert_true(reallocs < 20);
    for (size_t i = 0; i < total; i += 32) assert_memory_equal(s + i, "0123456789abcdef", 16);
    sdsfree(s);
}

static void test_make_room(void **state) {
    (void)state;
    sds s = sdsnew("0");
    s = sdsMakeRoomFor(s, 100);
    assert_true(sdsavail(s) >= 100);
    assert_true(sdsalloc(s) >= 202); /* greedy: (1 + 100) * 2 */
    assertSdsStr(s, "0");

    sds n = sdsnew("0");
    n = sdsMakeRoomForNonGreedy(n, 100);
    assert_true(sdsavail(n) >= 100);
    assert_true(sdsalloc(n) < 202);
    sdsfree(n);

    /* Fill the room by hand then commit it with sdsIncrLen. */
    size_t oldlen = sdslen(s);
    memset(s + oldlen, 'z', 50);
    sdsIncrLen(s, 50);
    assert_int_equal(sdslen(s), 51);
    assert_int_equal(s[51], '\0');
    sdsIncrLen(s, -10);
    assert_int_equal(sdslen(s), 41);
    assert_int_equal(s[41], '\0');
    sdsfree(s);

    /* Above 1MB, growth adds 1MB instead of doubling. */
    s = sdsnewlen(NULL, 2 * SDS_MAX_PREALLOC);
    s = sdsMakeRoomFor(s, sdsavail(s) + 1);
    assert_true(sdsalloc(s) >= 3 * SDS_MAX_PREALLOC + 1);
    assert_true(sdsalloc(s) < 4 * SDS_MAX_PREALLOC);
    sdsfree(s);

    /* The greedy path keeps growth amortised across all header types. */
    s = sdsempty();
    for (int j = 0; j < 300; j++) {
        s = sdsMakeRoomFor(s, 1);
        s[sdslen(s)] = (char)('A' + j % 26);
        sdsIncrLen(s, 1);
    }
    assert_int_equal(sdslen(s), 300);
    assert_int_equal(sdsType(s), SDS_TYPE_16);
    for (int j = 0; j < 300; j++) assert_int_equal(s[j], 'A' + j % 26);
    sdsfree(s);
}

static void test_resize(void **state) {
    (void)state;
    sds s = sdsnewlen(NULL, 10);
    s = sdsMakeRoomFor(s, 1000);
    assert_true(sdsalloc(s) >= 1010);
    s = sdsRemoveFreeSpace(s, 0);
    assert_int_equal(sdslen(s), 10);
    assert_true(sdsalloc(s) < 32);
    assert_int_equal(sdsType(s), SDS_TYPE_8);
    assert_true(sdsAllocSize(s) == zmalloc_usable_size(sdsAllocPtr(s)));
    sdsfree(s);

    /* Shrinking a large string truncates it. */
    s = sdsnewlen(NULL, 70000);
    memset(s, 'a', 70000);
    assert_int_equal(sdsType(s), SDS_TYPE_32);
    s = sdsResize(s, 200, 1);
    assert_int_equal(sdslen(s), 200);
    assert_int_equal(sdsType(s), SDS_TYPE_8);
    assert_int_equal(s[200], '\0');
    assert_true(sdsalloc(s) >= 200);
    s = sdsResize(s, 50000, 1);
    assert_int_equal(sdslen(s), 200);
    assert_true(sdsalloc(s) >= 50000);
    assert_int_equal(sdsType(s), SDS_TYPE_16);
    for (int i = 0; i < 200; i++) assert_int_equal(s[i], 'a');
    /* Resizing to the current capacity is a no-op. */
    sds same = sdsResize(s, sdsalloc(s), 0);
    assert_ptr_equal(same, s);
    sdsfree(s);

    /* Shrinking between large header types keeps the header. */
    s = sdsnewlen(NULL, 70000);
    s = sdsResize(s, 60000, 0);
    assert_int_equal(sdsType(s), SDS_TYPE_32);
    assert_int_equal(sdslen(s), 60000);
    sdsfree(s);
}

static void test_growzero(void **state) {
    (void)state;
    sds s = sdsnew("ab");
    s = sdsgrowzero(s, 1);
    assertSdsStr(s, "ab");
    s = sdsgrowzero(s, 300);
    assert_int_equal(sdslen(s), 300);
    assert_memory_equal(s, "ab", 2);
    for (int i = 2; i <= 300; i++) assert_int_equal(s[i], 0);
    sdsfree(s);
}

static void test_printf(void **state) {
    (void)state;
    sds s = sdscatprintf(sdsempty(), "%d", 123);
    assertSdsStr(s, "123");
    sdsfree(s);

    s = sdscatprintf(sdsnew("x="), "%s|%05.1f|%c", "abc", 3.14159, 'Z');
    assertSdsStr(s, "x=abc|003.1|Z");
    sdsfree(s);

    /* Output far longer than the format. */
    char big[5000];
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    s = sdscatprintf(sdsnew("<"), "%s>", big);
    assert_int_equal(sdslen(s), 5001);
    assert_int_equal(s[0], '<');
    assert_int_equal(s[5000], '>');
    sdsfree(s);

    s = sdscatprintf(sdsempty(), "a%cb", 0);
    assertSds(s, "a\0b", 3);
    sdsfree(s);
}

static void test_catfmt(void **state) {
    (void)state;
    sds t = sdsnew("sds");
    sds s = sdscatfmt(sdsempty(), "%s-%S-%i-%I-%u-%U-%%-%x", "str", t, -42, LLONG_MIN, 4000000000u,
                      ULLONG_MAX);
    assertSdsStr(s, "str-sds--42--9223372036854775808-4000000000-18446744073709551615-%-x");
    sdsfree(s);

    s = sdscatfmt(sdsnew("--"), "Hello %s World %I,%I--", "Hi!", LLONG_MIN, LLONG_MAX);
    assertSdsStr(s, "--Hello Hi! World -9223372036854775808,9223372036854775807--");
    sdsfree(s);

    s = sdscatfmt(sdsempty(), "%u,%U--", UINT_MAX, ULLONG_MAX);
    assertSdsStr(s, "4294967295,18446744073709551615--");
    sdsfree(s);

    s = sdscatfmt(sdsempty(), "%i %i %I trailing%", 0, INT_MIN, 0LL);
    assertSdsStr(s, "0 -2147483648 0 trailing%");
    sdsfree(s);

    s = sdscatfmt(sdsempty(), "");
    assertSdsStr(s, "");
    sdsfree(s);
    sdsfree(t);
}

static void test_fromlonglong(void **state) {
    (void)state;
    static const struct {
        long long v;
        const char *str;
    } cases[] = {{0, "0"}, {-1, "-1"}, {123456, "123456"}, {LLONG_MAX, "9223372036854775807"},
                 {LLONG_MIN, "-9223372036854775808"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sds s = sdsfromlonglong(cases[i].v);
        assertSdsStr(s, cases[i].str);
        sdsfree(s);
    }
}

static void test_trim(void **state) {
    (void)state;
    sds s = sdsnew("xxciaoyyy");
    sdstrim(s, "xy");
    assertSdsStr(s, "ciao");
    sdsfree(s);

    s = sdsnew("AA...AA.a.aa.aHelloWorld     :::");
    s = sdstrim(s, "Aa. :");
    assertSdsStr(s, "HelloWorld");
    sdsfree(s);

    s = sdsnew("xxxx");
    s = sdstrim(s, "x");
    assertSdsStr(s, "");
    sdsfree(s);

    s = sdsnew(" x ");
    s = sdstrim(s, "");
    assertSdsStr(s, " x ");
    sdsfree(s);

    /* An embedded NUL is not part of the C-string set. */
    s = sdsnewlen("\0ab\0", 4);
    s = sdstrim(s, "a");
    assertSds(s, "\0ab\0", 4);
    sdsfree(s);
}

static void test_range(void **state) {
    (void)state;
    static const struct {
        ssize_t start, end;
        const char *expect;
    } cases[] = {
        {1, 1, "i"},     {1, -1, "iao"},   {-2, -1, "ao"},  {2, 1, ""},    {1, 100, "iao"},
        {100, 100, ""},  {0, 0, "c"},      {-100, -1, "ciao"}, {-1, -2, ""}, {-4, 3, "ciao"},
        {0, -100, "c"},  {4, -1, ""},      {3, 3, "o"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sds s = sdsnew("ciao");
        sdsrange(s, cases[i].start, cases[i].end);
        assertSdsStr(s, cases[i].expect);
        sdsfree(s);
    }
    sds s = sdsempty();
    sdsrange(s, 0, -1);
    assertSdsStr(s, "");
    sdsfree(s);
}

static void test_substr(void **state) {
    (void)state;
    static const struct {
        size_t start, len;
        const char *expect;
    } cases[] = {
        {0, 4, "ciao"}, {1, 2, "ia"}, {1, 100, "iao"}, {4, 1, ""}, {10, 1, ""}, {0, 0, ""},
        {3, SIZE_MAX, "o"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sds s = sdsnew("ciao");
        sdssubstr(s, cases[i].start, cases[i].len);
        assertSdsStr(s, cases[i].expect);
        sdsfree(s);
    }
}

static void test_cmp(void **state) {
    (void)state;
    sds a = sdsnew("foo"), b = sdsnew("foa"), c = sdsnew("bar");
    assert_true(sdscmp(a, b) > 0);
    assert_true(sdscmp(b, a) < 0);
    sdsfree(c);
    c = sdsnew("foo");
    assert_int_equal(sdscmp(a, c), 0);
    sds e = sdsnew("fo");
    assert_true(sdscmp(a, e) > 0);
    assert_true(sdscmp(e, a) < 0);
    sds x = sdsnewlen("a\0b", 3), y = sdsnewlen("a\0c", 3);
    assert_true(sdscmp(x, y) < 0);
    sds hi = sdsnew("\xff"), lo = sdsnew("\x01");
    assert_true(sdscmp(hi, lo) > 0); /* bytes compare unsigned */
    sdsfree(a);
    sdsfree(b);
    sdsfree(c);
    sdsfree(e);
    sdsfree(x);
    sdsfree(y);
    sdsfree(hi);
    sdsfree(lo);
}

static void test_case_and_map(void **state) {
    (void)state;
    sds s = sdsnew("Hello World 123 \xc3\xa9");
    sdstolower(s);
    assertSdsStr(s, "hello world 123 \xc3\xa9");
    sdstoupper(s);
    assertSdsStr(s, "HELLO WORLD 123 \xc3\xa9");
    sdsfree(s);

    s = sdsnew("hello");
    s = sdsmapchars(s, "ho", "01", 2);
    assertSdsStr(s, "0ell1");
    sdsfree(s);

    s = sdsnew("abc");
    sdsclear(s);
    assertSdsStr(s, "");
    assert_true(sdsavail(s) >= 3);
    sdsfree(s);

    s = sdsnew("abcdef");
    s[2] = '\0';
    sdsupdatelen(s);
    assertSdsStr(s, "ab");
    sdsfree(s);
}

static void test_splitlen(void **state) {
    (void)state;
    int count;
    sds *t = sdssplitlen("a,b,,c", 6, ",", 1, &count);
    assert_int_equal(count, 4);
    assertSdsStr(t[0], "a");
    assertSdsStr(t[1], "b");
    assertSdsStr(t[2], "");
    assertSdsStr(t[3], "c");
    sdsfreesplitres(t, count);

    t = sdssplitlen("foo_-_bar_-_", 12, "_-_", 3, &count);
    assert_int_equal(count, 3);
    assertSdsStr(t[0], "foo");
    assertSdsStr(t[1], "bar");
    assertSdsStr(t[2], "");
    sdsfreesplitres(t, count);

    t = sdssplitlen("nosep", 5, ",", 1, &count);
    assert_int_equal(count, 1);
    assertSdsStr(t[0], "nosep");
    sdsfreesplitres(t, count);

    t = sdssplitlen("", 0, ",", 1, &count);
    assert_non_null(t);
    assert_int_equal(count, 0);
    sdsfreesplitres(t, count);

    t = sdssplitlen("abc", 3, "", 0, &count);
    assert_null(t);
    assert_int_equal(count, 0);
    t = sdssplitlen("abc", -1, ",", 1, &count);
    assert_null(t);

    /* A separator that overlaps itself. */
    t = sdssplitlen("aaa", 3, "aa", 2, &count);
    assert_int_equal(count, 2);
    assertSdsStr(t[0], "");
    assertSdsStr(t[1], "a");
    sdsfreesplitres(t, count);

    /* Binary data and many tokens. */
    char buf[2000];
    for (int i = 0; i < 1000; i++) {
        buf[2 * i] = (char)('a' + i % 26);
        buf[2 * i + 1] = '\0';
    }
    t = sdssplitlen(buf, 2000, "\0", 1, &count);
    assert_int_equal(count, 1001);
    for (int i = 0; i < 1000; i++) assert_int_equal(t[i][0], 'a' + i % 26);
    assert_int_equal(sdslen(t[1000]), 0);
    sdsfreesplitres(t, count);

    sdsfreesplitres(NULL, 0);
}

static void test_catrepr(void **state) {
    (void)state;
    sds s = sdscatrepr(sdsempty(), "\a\n\0foo\r\t\b\"\\\x01\x7f\xff ok", 17);
    assertSdsStr(s, "\"\\a\\n\\x00foo\\r\\t\\b\\\"\\\\\\x01\\x7f\\xff ok\"");
    sdsfree(s);

    s = sdscatrepr(sdsnew("pre:"), "", 0);
    assertSdsStr(s, "pre:\"\"");
    sdsfree(s);

    s = sdsnew("plain");
    assert_int_equal(sdsneedsrepr(s), 0);
    sdsfree(s);
    static const char *needs[] = {"a b", "a\"b", "a\\b", "a\nb", "\x01", "\xff", "\t"};
    for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
        s = sdsnew(needs[i]);
        assert_int_equal(sdsneedsrepr(s), 1);
        sdsfree(s);
    }
    s = sdsnewlen("a\0", 2);
    assert_int_equal(sdsneedsrepr(s), 1);
    sdsfree(s);
}

/* Checks sdssplitargs(line) gives exactly the n expected arguments. */
static void expectArgs(const char *line, int n, ...) {
    int argc = -1;
    sds *argv = sdssplitargs(line, &argc);
    if (n < 0) {
        assert_null(argv);
        return;
    }
    assert_non_null(argv);
    assert_int_equal(argc, n);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *arg = va_arg(ap, const char *);
        size_t len = va_arg(ap, size_t);
        assertSds(argv[i], arg, len);
    }
    va_end(ap);
    sdsfreesplitres(argv, argc);
}
#define A(str) (str), (sizeof(str) - 1)

static void test_splitargs(void **state) {
    (void)state;
    expectArgs("set foo bar", 3, A("set"), A("foo"), A("bar"));
    expectArgs("  set   foo\tbar \r\n", 3, A("set"), A("foo"), A("bar"));
    expectArgs("", 0);
    expectArgs("   \t\n ", 0);
    expectArgs("\"hello world\" x", 2, A("hello world"), A("x"));
    expectArgs("\"\\x41\\x4a\\x4B\\xzz\"", 1, A("AJKxzz"));
    expectArgs("\"a\\nb\\rc\\td\\be\\af\\\"g\\\\h\\q\"", 1, A("a\nb\rc\td\be\af\"g\\hq"));
    expectArgs("\"\\x00\"", 1, A("\0"));
    expectArgs("'it\\'s' 'no \\n escape'", 2, A("it's"), A("no \\n escape"));
    expectArgs("'a\"b' \"c'd\"", 2, A("a\"b"), A("c'd"));
    expectArgs("\"\" ''", 2, A(""), A(""));
    expectArgs("foo\"bar\"", 1, A("foobar"));
    expectArgs("a'b c' d", 2, A("ab c"), A("d"));
    expectArgs("a'b c'd", -1); /* closing quote glued to the next char */
    expectArgs("\"end\"", 1, A("end"));
    expectArgs("x \"end\"\n", 2, A("x"), A("end"));

    static const char *bad[] = {"\"unbalanced", "'unbalanced", "\"closed\"x", "'closed'x",
                                "\"a\" \"b", "\"trailing backslash\\"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int argc = 99;
        assert_null(sdssplitargs(bad[i], &argc));
        assert_int_equal(argc, 0);
    }
}

static void test_join(void **state) {
    (void)state;
    char *argv[] = {"a", "bb", "ccc"};
    sds s = sdsjoin(argv, 3, ", ");
    assertSdsStr(s, "a, bb, ccc");
    sdsfree(s);
    s = sdsjoin(argv, 0, ",");
    assertSdsStr(s, "");
    sdsfree(s);

    sds parts[3] = {sdsnew("x"), sdsnewlen("\0", 1), sdsnew("z")};
    s = sdsjoinsds(parts, 3, "|\0", 2);
    assertSds(s, "x|\0\0|\0z", 7);
    sdsfree(s);
    for (int i = 0; i < 3; i++) sdsfree(parts[i]);
}

static void test_alloc_size(void **state) {
    (void)state;
    for (size_t len = 0; len < 600; len += 7) {
        sds s = sdsnewlen(NULL, len);
        size_t usable = zmalloc_usable_size(sdsAllocPtr(s));
        assert_int_equal(sdsAllocSize(s), usable);
        /* The whole usable block is made available as capacity (up to the type max). */
        size_t cap = usable - sdsHdrSize(sdsType(s)) - 1;
        if (sdsType(s) == SDS_TYPE_8 && cap > 255) cap = 255;
        assert_int_equal(sdsalloc(s), cap);
        sdsfree(s);
    }
}

/* Random operation sequences checked against a plain byte-array model. */
static void test_random_ops(void **state) {
    (void)state;
    enum { MODEL_MAX = 200000 };
    char *model = malloc(MODEL_MAX);
    char *chunk = malloc(MODEL_MAX);
    size_t mlen = 0;
    sds s = sdsempty();
    srand(99);
    for (int step = 0; step < 20000; step++) {
        int op = rand() % 8;
        size_t n = (size_t)(rand() % (rand() % 8 == 0 ? 70000 : 300));
        if (mlen + n >= MODEL_MAX) op = 2; /* shrink instead */
        for (size_t i = 0; i < n; i++) chunk[i] = (char)(rand() & 0xff);
        switch (op) {
        case 0:
        case 1:
            s = sdscatlen(s, chunk, n);
            memcpy(model + mlen, chunk, n);
            mlen += n;
            break;
        case 2: {
            ssize_t a = (ssize_t)(rand() % (int)(mlen + 1)) - (ssize_t)(mlen / 2);
            ssize_t b = (ssize_t)(rand() % (int)(mlen + 1)) - (ssize_t)(mlen / 4);
            sdsrange(s, a, b);
            if (mlen) {
                ssize_t len = (ssize_t)mlen;
                ssize_t st = a < 0 ? (len + a < 0 ? 0 : len + a) : a;
                ssize_t en = b < 0 ? (len + b < 0 ? 0 : len + b) : b;
                if (en >= len) en = len - 1;
                if (st >= len || st > en) {
                    mlen = 0;
                } else {
                    memmove(model, model + st, (size_t)(en - st + 1));
                    mlen = (size_t)(en - st + 1);
                }
            }
            break;
        }
        case 3:
            s = sdscpylen(s, chunk, n);
            memcpy(model, chunk, n);
            mlen = n;
            break;
        case 4:
            s = sdsgrowzero(s, mlen + n);
            memset(model + mlen, 0, n);
            mlen += n;
            break;
        case 5:
            s = sdsRemoveFreeSpace(s, rand() & 1);
            break;
        case 6:
            s = sdsMakeRoomFor(s, n);
            assert_true(sdsavail(s) >= n);
            memcpy(s + mlen, chunk, n);
            sdsIncrLen(s, (ssize_t)n);
            memcpy(model + mlen, chunk, n);
            mlen += n;
            break;
        case 7:
            if (mlen > 0) {
                size_t cut = (size_t)rand() % mlen;
                sdsIncrLen(s, -(ssize_t)cut);
                mlen -= cut;
            }
            break;
        }
        assert_int_equal(sdslen(s), mlen);
        assert_true(sdsalloc(s) >= mlen);
        assert_int_equal(s[mlen], '\0');
        if (mlen) assert_memory_equal(s, model, mlen);
        assert_int_not_equal(sdsType(s), SDS_TYPE_5); /* heap strings never use TYPE_5 */
    }
    sdsfree(s);
    free(model);
    free(chunk);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_basic),
        cmocka_unit_test(test_type_boundaries),
        cmocka_unit_test(test_req_type),
        cmocka_unit_test(test_sdswrite_and_type5),
        cmocka_unit_test(test_cat_and_cpy),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_make_room),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_growzero),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_catfmt),
        cmocka_unit_test(test_fromlonglong),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_substr),
        cmocka_unit_test(test_cmp),
        cmocka_unit_test(test_case_and_map),
        cmocka_unit_test(test_splitlen),
        cmocka_unit_test(test_catrepr),
        cmocka_unit_test(test_splitargs),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_alloc_size),
        cmocka_unit_test(test_random_ops),
    };
    return cmocka_run_group_tests_name("sds", tests, NULL, NULL);
}
