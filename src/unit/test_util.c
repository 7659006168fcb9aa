/* test_util.c - unit tests for util.c and siphash.c: strict integer parsing at the
 * limits, double parsing and Valkey-compatible printing, glob matching (including
 * patterns that would explode a naive backtracking matcher), memory units, clocks,
 * randomness and SipHash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util.h"

/* ---------------------------------------------------------------- integers */

static int parseLL(const char *s, long long *v) {
    return string2ll(s, strlen(s), v);
}

static void test_string2ll(void **state) {
    (void)state;
    static const struct {
        const char *in;
        long long out;
    } good[] = {
        {"0", 0},
        {"1", 1},
        {"-1", -1},
        {"99", 99},
        {"-99", -99},
        {"9223372036854775807", LLONG_MAX},
        {"-9223372036854775808", LLONG_MIN},
        {"-9223372036854775807", -LLONG_MAX},
        {"1234567890", 1234567890},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        long long v = 12345;
        assert_int_equal(parseLL(good[i].in, &v), 1);
        assert_int_equal(v, good[i].out);
    }
    static const char *bad[] = {
        "",      "-",    "+1",   " 1",  "1 ",   "01",  "-0",  "00",
        "-01",   "1a",   "a1",   "0x1", "1.0",  "1e3", "--1", "9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "99999999999999999999",
        "123456789012345678901",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long long v = 777;
        assert_int_equal(parseLL(bad[i], &v), 0);
        assert_int_equal(v, 777); /* untouched on failure */
    }
    /* Only slen bytes are looked at. */
    long long v;
    assert_int_equal(string2ll("123abc", 3, &v), 1);
    assert_int_equal(v, 123);
    assert_int_equal(string2ll("1\0002", 3, &v), 0);
    assert_int_equal(string2ll("5", 1, NULL), 1);
}

static void test_string2l_ull(void **state) {
    (void)state;
    long l;
    assert_int_equal(string2l("-42", 3, &l), 1);
    assert_int_equal(l, -42);
    assert_int_equal(string2l("01", 2, &l), 0);
    unsigned long long u;
    assert_int_equal(string2ull("18446744073709551615", 20, &u), 1);
    assert_true(u == ULLONG_MAX);
    assert_int_equal(string2ull("18446744073709551616", 20, &u), 0);
    assert_int_equal(string2ull("0", 1, &u), 1);
    assert_true(u == 0);
    assert_int_equal(string2ull("-1", 2, &u), 0);
    assert_int_equal(string2ull("+1", 2, &u), 0);
    assert_int_equal(string2ull("007", 3, &u), 0);
    assert_int_equal(string2ull("", 0, &u), 0);
}

static void test_ll2string(void **state) {
    (void)state;
    char buf[LONG_STR_SIZE];
    static const long long values[] = {0, 1, -1, 9, 10, 99, 100, -100, 12345, LLONG_MAX, LLONG_MIN,
                                       LLONG_MIN + 1, 1000000000000000000LL};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char expect[32];
        snprintf(expect, sizeof(expect), "%lld", values[i]);
        int n = ll2string(buf, sizeof(buf), values[i]);
        assert_int_equal(n, strlen(expect));
        assert_string_equal(buf, expect);
        /* Round trip through the strict parser. */
        long long back;
        assert_int_equal(string2ll(buf, (size_t)n, &back), 1);
        assert_true(back == values[i]);
    }
    /* Buffer exactly big enough, and one byte short. */
    assert_int_equal(ll2string(buf, 4, 123), 3);
    assert_string_equal(buf, "123");
    assert_int_equal(ll2string(buf, 3, 123), 0);
    assert_string_equal(buf, "");
    assert_int_equal(ll2string(buf, 4, -123), 0);
    assert_int_equal(ll2string(buf, 5, -123), 4);
    assert_int_equal(ll2string(buf, 1, -1), 0);

    assert_int_equal(ull2string(buf, sizeof(buf), ULLONG_MAX), 20);
    assert_string_equal(buf, "18446744073709551615");

    /* Exhaustive-ish sweep against printf. */
    for (long long v = -100000; v <= 100000; v += 7) {
        char expect[32];
        snprintf(expect, sizeof(expect), "%lld", v);
        ll2string(buf, sizeof(buf), v);
        assert_string_equal(buf, expect);
    }
}

static void test_digits10(void **state) {
    (void)state;
    assert_int_equal(digits10(0), 1);
    assert_int_equal(digits10(9), 1);
    assert_int_equal(digits10(10), 2);
    assert_int_equal(digits10(99999), 5);
    assert_int_equal(digits10(100000), 6);
    assert_int_equal(digits10(UINT64_MAX), 20);
    uint64_t p = 1;
    for (int d = 1; d <= 19; d++, p *= 10) {
        assert_int_equal(digits10(p), d);
        assert_int_equal(digits10(p * 10 - 1), d);
    }
    assert_int_equal(sdigits10(0), 1);
    assert_int_equal(sdigits10(-1), 2);
    assert_int_equal(sdigits10(INT64_MIN), 20);
    assert_int_equal(sdigits10(INT64_MAX), 19);
}

/* ---------------------------------------------------------------- doubles */

static int parseD(const char *s, double *d) {
    return string2d(s, strlen(s), d);
}

static void test_string2d(void **state) {
    (void)state;
    double d;
    static const struct {
        const char *in;
        double out;
    } good[] = {
        {"1", 1}, {"-1.5", -1.5}, {"0.1", 0.1}, {".5", 0.5}, {"5.", 5}, {"1e3", 1000},
        {"1.0e3", 1000}, {"+2", 2}, {"0x10", 16}, {"-0", -0.0}, {"1e-320", 1e-320},
        {"1.7976931348623157e308", DBL_MAX},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(parseD(good[i].in, &d), 1);
        assert_true(d == good[i].out);
    }
    assert_int_equal(parseD("inf", &d), 1);
    assert_true(isinf(d) && d > 0);
    assert_int_equal(parseD("+inf", &d), 1);
    assert_true(isinf(d) && d > 0);
    assert_int_equal(parseD("-inf", &d), 1);
    assert_true(isinf(d) && d < 0);
    assert_int_equal(parseD("-0", &d), 1);
    assert_true(signbit(d));

    static const char *bad[] = {"", " 1", "1 ", "1e", "nan", "-nan", "NaN", "1e400", "-1e400",
                                "1e-400", "abc", "1.2.3", "\t1", "e5", "."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parseD(bad[i], &d), 0);
    /* Length-delimited: the bytes after slen are ignored. */
    assert_int_equal(string2d("2.5junk", 3, &d), 1);
    assert_true(d == 2.5);

    long double ld;
    assert_int_equal(string2ld("1.5", 3, &ld), 1);
    assert_true(ld == 1.5L);
    assert_int_equal(string2ld("1e4000", 6, &ld), 1); /* fits a long double */
    assert_int_equal(string2ld("1e99999", 7, &ld), 0);
    assert_int_equal(string2ld(" 1", 2, &ld), 0);
    assert_int_equal(string2ld("nan", 3, &ld), 0);
    assert_int_equal(string2ld("", 0, &ld), 0);
    assert_int_equal(string2ld("-inf", 4, &ld), 1);
    assert_true(isinf(ld) && ld < 0);
}

static void expectD2(double v, const char *expect) {
    char buf[MAX_D2STRING_CHARS];
    int n = d2string(buf, sizeof(buf), v);
    assert_string_equal(buf, expect);
    assert_int_equal(n, strlen(expect));
}

static void test_d2string_known(void **state) {
    (void)state;
    expectD2(0.1, "0.1");
    expectD2(3.0, "3");
    expectD2(-3.0, "-3");
    expectD2(1e300, "1e+300");
    expectD2(1.5e-10, "1.5e-10");
    expectD2(-1.5e-10, "-1.5e-10");
    expectD2(0.0, "0");
    expectD2(-0.0, "-0");
    expectD2(INFINITY, "inf");
    expectD2(-INFINITY, "-inf");
    expectD2(NAN, "nan");
    expectD2(1.5, "1.5");
    expectD2(-2.25, "-2.25");
    expectD2(3.14159, "3.14159");
    expectD2(0.1 + 0.2, "0.30000000000000004");
    expectD2(1234.5678, "1234.5678");
    expectD2(0.00001, "0.00001");
    expectD2(0.000001, "0.000001");
    expectD2(1e-7, "1e-7");
    expectD2(1.25e-7, "1.25e-7");
    expectD2(1e-320, "1e-320"); /* subnormal: still the shortest form */
    expectD2(5e-324, "5e-324");
    expectD2(DBL_MAX, "1.7976931348623157e+308");
    /* Integral values up to LLONG_MAX/2 print as integers. */
    expectD2(1e15, "1000000000000000");
    expectD2(1e17, "100000000000000000");
    expectD2(4e18, "4000000000000000000");
    expectD2(-4e18, "-4000000000000000000");
    /* Beyond that, fpconv's layout: plain while fewer than 8 trailing zeros. */
    expectD2(5e18, "5e+18");
    expectD2(1e19, "1e+19");
    expectD2(1.2345678901234567e23, "123456789012345670000000");
    expectD2(1.2345678901234567e24, "1.2345678901234568e+24");
    /* Fractions with a big integer part switch to exponent form at 10^4. */
    expectD2(1234.567890123456, "1234.567890123456");
    expectD2(12345.678901234567, "1.2345678901234567e+4");
    expectD2(123456.5, "123456.5");
    expectD2(3.1415926535897931, "3.141592653589793");

    char small[4];
    assert_int_equal(d2string(small, sizeof(small), 1.5), 3);
    assert_string_equal(small, "1.5");
    assert_int_equal(d2string(small, sizeof(small), 1.25), 0);
    assert_int_equal(d2string(small, sizeof(small), -INFINITY), 0);
}

/* Brute force: the fewest significant digits that read back as v. */
static int bruteShortest(double v) {
    char tmp[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) return prec;
    }
    return 17;
}

/* Significant digits in a d2string output (integers counted without trailing zeros). */
static int countDigits(const char *s) {
    const char *e = strchr(s, 'e');
    size_t end = e ? (size_t)(e - s) : strlen(s);
    int first = -1, last = -1;
    for (size_t i = 0; i < end; i++) {
        if (!isdigit((unsigned char)s[i])) continue;
        if (first < 0 && s[i] != '0') first = (int)i;
        if (s[i] != '0') last = (int)i;
    }
    if (first < 0) return 1;
    int n = 0;
    for (int i = first; i <= last; i++)
        if (isdigit((unsigned char)s[i])) n++;
    return n;
}

static void test_d2string_roundtrip(void **state) {
    (void)state;
    srand(12345);
    char buf[MAX_D2STRING_CHARS];
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = 0;
        for (int j = 0; j < 4; j++) bits = (bits << 16) ^ (uint64_t)(rand() & 0xffff);
        double v;
        if (i % 3 == 0) {
            memcpy(&v, &bits, sizeof(v)); /* any bit pattern */
        } else if (i % 3 == 1) {
            v = (double)(int64_t)(bits >> 20) / 1000.0; /* decimal-looking values */
        } else {
            v = ldexp((double)(bits >> 11), (int)(bits % 200) - 150);
        }
        if (isnan(v) || isinf(v)) continue;
        int n = d2string(buf, sizeof(buf), v);
        assert_true(n > 0);
        double back;
        assert_int_equal(string2d(buf, (size_t)n, &back), 1);
        assert_true(back == v);
        if (v != 0 && fabs(v) > (double)(LLONG_MAX / 2) + 1)
            assert_int_equal(countDigits(buf), bruteShortest(v));
        else if (v != floor(v))
            assert_int_equal(countDigits(buf), bruteShortest(v));
    }
}

static void expectLD(long double v, ld2string_mode mode, const char *expect) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    int n = ld2string(buf, sizeof(buf), v, mode);
    assert_string_equal(buf, expect);
    assert_int_equal(n, strlen(expect));
}

static void test_ld2string(void **state) {
    (void)state;
    expectLD(3.0L, LD_STR_HUMAN, "3");
    expectLD(10.5L + 0.1L, LD_STR_HUMAN, "10.6");
    expectLD(0.1L, LD_STR_HUMAN, "0.1");
    expectLD(1.5e-10L, LD_STR_HUMAN, "0.00000000015");
    expectLD(-1e-30L, LD_STR_HUMAN, "0");
    expectLD(-0.0L, LD_STR_HUMAN, "0");
    expectLD(-2.5L, LD_STR_HUMAN, "-2.5");
    expectLD(5200.0L, LD_STR_HUMAN, "5200");
    expectLD(1e20L, LD_STR_HUMAN, "100000000000000000000");
    expectLD(INFINITY, LD_STR_HUMAN, "inf");
    expectLD(-INFINITY, LD_STR_AUTO, "-inf");
    expectLD(0.1L, LD_STR_AUTO, "0.1");
    expectLD(1.0L / 3, LD_STR_AUTO, "0.33333333333333333");
    expectLD(1.0L / 3, LD_STR_HUMAN, "0.33333333333333333");
    expectLD(1.5L, LD_STR_AUTO, "1.5");
    expectLD(1e300L, LD_STR_AUTO, "1e+300");

    char buf[64];
    int n = ld2string(buf, sizeof(buf), 1.0L, LD_STR_HEX);
    assert_true(n > 2);
    assert_memory_equal(buf, "0x", 2);
    long double back;
    assert_int_equal(string2ld(buf, (size_t)n, &back), 1);
    assert_true(back == 1.0L);

    /* Output that would not fit. */
    char tiny[4];
    assert_int_equal(ld2string(tiny, sizeof(tiny), 12345.0L, LD_STR_HUMAN), 0);
    assert_int_equal(ld2string(tiny, sizeof(tiny), -INFINITY, LD_STR_HUMAN), 0);

    char t[32] = "1.500";
    assert_int_equal(trimDoubleString(t, 5), 3);
    assert_string_equal(t, "1.5");
    strcpy(t, "100");
    assert_int_equal(trimDoubleString(t, 3), 3);
    strcpy(t, "2.000");
    assert_int_equal(trimDoubleString(t, 5), 1);
    assert_string_equal(t, "2");
}

/* ---------------------------------------------------------------- glob */

static int m(const char *p, const char *s) {
    return stringmatch(p, s, 0);
}

static void test_stringmatch_basic(void **state) {
    (void)state;
    assert_true(m("", ""));
    assert_false(m("", "a"));
    assert_true(m("*", ""));
    assert_true(m("*", "anything"));
    assert_true(m("**", "x"));
    assert_true(m("a*", "a"));
    assert_false(m("?", ""));
    assert_true(m("?", "x"));
    assert_false(m("?", "xy"));
    assert_true(m("h?llo", "hello"));
    assert_true(m("h*llo", "hllo"));
    assert_true(m("h*llo", "heeeello"));
    assert_false(m("h*llo", "hell"));
    assert_true(m("h[ae]llo", "hallo"));
    assert_false(m("h[ae]llo", "hillo"));
    assert_true(m("h[^e]llo", "hallo"));
    assert_false(m("h[^e]llo", "hello"));
    assert_true(m("h[a-b]llo", "hbllo"));
    assert_false(m("h[a-b]llo", "hcllo"));
    assert_true(m("h[b-a]llo", "hallo")); /* reversed range */
    assert_true(m("[0-9][0-9]", "42"));
    assert_true(m("h\\*llo", "h*llo"));
    assert_false(m("h\\*llo", "hello"));
    assert_true(m("\\?", "?"));
    assert_false(m("\\?", "a"));
    assert_true(m("a\\", "a\\")); /* trailing backslash is literal */
    assert_false(m("[]", "a"));
    assert_true(m("[^]", "a"));
    assert_true(m("[abc", "b")); /* unterminated class runs to the end */
    assert_true(m("[\\]]", "]"));
    assert_true(m("[\\-]", "-"));
    assert_true(m("[a\\-z]", "-"));
    assert_false(m("[a\\-z]", "b"));
    /* "[a-]" is the (reversed) range ']'..'a', as in redis-server. */
    assert_true(m("[a-]", "]"));
    assert_true(m("[a-]", "a"));
    assert_true(m("[a-]", "_"));
    assert_false(m("[a-]", "-"));
    assert_true(m("[^a-b]", "-"));
    assert_false(m("[^a-b]", "b"));
    assert_true(m("*a*b*c*", "xaybzc"));
    assert_false(m("*a*b*c*", "xaybz"));
    assert_true(m("a*b", "ab"));
    assert_true(m("a*b", "acccb"));
    assert_false(m("a*b", "abc"));
    assert_true(m("*.txt", "file.name.txt"));
    assert_true(m("user:*:name", "user:1000:name"));
    assert_true(stringmatchlen("a\0b*", 4, "a\0bcd", 5, 0)); /* binary safe */
    assert_false(stringmatchlen("a\0b", 3, "a\0c", 3, 0));

    assert_true(stringmatch("HeLLo", "hello", 1));
    assert_false(stringmatch("HeLLo", "hello", 0));
    assert_true(stringmatch("[A-Z]", "q", 1));
    assert_false(stringmatch("[A-Z]", "q", 0));
    assert_true(stringmatch("[^A]", "b", 1));
    assert_false(stringmatch("[^A]", "a", 1));
    assert_true(stringmatch("H\\E*", "hello", 1));
}

/* Straightforward recursive matcher with the same semantics, for short inputs. */
static int refMatch(const char *p, int pl, const char *s, int sl, int nocase) {
    if (pl == 0) return sl == 0;
    if (p[0] == '*') {
        for (int k = 0; k <= sl; k++)
            if (refMatch(p + 1, pl - 1, s + k, sl - k, nocase)) return 1;
        return 0;
    }
    if (sl == 0) return 0;
    int c = (unsigned char)s[0];
    int fc = nocase ? tolower(c) : c;
    if (p[0] == '?') return refMatch(p + 1, pl - 1, s + 1, sl - 1, nocase);
    if (p[0] == '[') {
        int i = 1, neg = 0, hit = 0;
        if (i < pl && p[i] == '^') neg = 1, i++;
        while (i < pl) {
            if (p[i] == '\\' && pl - i >= 2) {
                hit |= (unsigned char)p[i + 1] == c;
                i += 2;
            } else if (p[i] == ']') {
                i++;
                break;
            } else if (pl - i >= 3 && p[i + 1] == '-') {
                int lo = (unsigned char)p[i], hi = (unsigned char)p[i + 2];
                if (lo > hi) {
                    int t = lo;
                    lo = hi;
                    hi = t;
                }
                if (nocase) lo = tolower(lo), hi = tolower(hi);
                hit |= fc >= lo && fc <= hi;
                i += 3;
            } else {
                int pc = (unsigned char)p[i];
                hit |= (nocase ? tolower(pc) : pc) == fc;
                i++;
            }
        }
        if (neg) hit = !hit;
        return hit && refMatch(p + i, pl - i, s + 1, sl - 1, nocase);
    }
    int adv = 1;
    int pc = (unsigned char)p[0];
    if (p[0] == '\\' && pl >= 2) pc = (unsigned char)p[1], adv = 2;
    if ((nocase ? tolower(pc) : pc) != fc) return 0;
    return refMatch(p + adv, pl - adv, s + 1, sl - 1, nocase);
}

static void test_stringmatch_fuzz(void **state) {
    (void)state;
    static const char palette[] = "ab*?[]^-\\A";
    srand(777);
    for (int iter = 0; iter < 300000; iter++) {
        char p[10], s[10];
        int pl = rand() % 9, sl = rand() % 9;
        for (int i = 0; i < pl; i++) p[i] = palette[rand() % (sizeof(palette) - 1)];
        for (int i = 0; i < sl; i++) s[i] = "abAB-]"[rand() % 6];
        int nocase = rand() & 1;
        assert_int_equal(stringmatchlen(p, pl, s, sl, nocase), refMatch(p, pl, s, sl, nocase));
    }
}

static double secondsSince(struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_stringmatch_pathological(void **state) {
    (void)state;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    /* "a*a*a*...a*b" against a long run of 'a': exponential for naive backtracking. */
    char pat[2 * 60 + 2];
    int pl = 0;
    for (int i = 0; i < 60; i++) {
        pat[pl++] = 'a';
        pat[pl++] = '*';
    }
    pat[pl++] = 'b';
    pat[pl] = '\0';
    char str[5001];
    memset(str, 'a', 5000);
    str[5000] = '\0';
    assert_false(stringmatch(pat, str, 0));
    str[4999] = 'b';
    assert_true(stringmatch(pat, str, 0));

    /* A huge run of consecutive stars is one group and must not use stack. */
    size_t nstars = 200000;
    char *stars = malloc(nstars + 2);
    memset(stars, '*', nstars);
    stars[nstars] = 'z';
    stars[nstars + 1] = '\0';
    assert_true(stringmatch(stars, "xyz", 0));
    assert_false(stringmatch(stars, "xyzw", 0));
    free(stars);

    /* Like Valkey: at most 1000 '*' groups before the end of the pattern, else no match. */
    char many[2 * 1001 + 2];
    for (int groups = 999; groups <= 1001; groups++) {
        int n = 0;
        for (int i = 0; i < groups; i++) {
            many[n++] = '*';
            many[n++] = 'a';
        }
        many[n] = '\0';
        assert_int_equal(stringmatchlen(many, n, str, 4998, 0), groups <= 1000);
        many[n++] = '*'; /* a trailing star is not an inner group */
        many[n] = '\0';
        assert_int_equal(stringmatchlen(many, n, str, 4998, 0), groups <= 1000);
    }
    /* Stars inside a class or escaped do not count. */
    char lit[3 * 1500 + 1];
    for (int i = 0; i < 1500; i++) memcpy(lit + 3 * i, "[*]", 3);
    char target[1501];
    memset(target, '*', 1500);
    assert_true(stringmatchlen(lit, 4500, target, 1500, 0));

    /* Many alternating stars and classes against a near-miss. */
    char *p2 = malloc(4 * 2000 + 2);
    int n2 = 0;
    for (int i = 0; i < 2000; i++) {
        memcpy(p2 + n2, "*[a]", 4);
        n2 += 4;
    }
    p2[n2++] = 'b';
    p2[n2] = '\0';
    assert_false(stringmatchlen(p2, n2, str, 4999, 0));
    free(p2);

    assert_true(secondsSince(&t0) < 5.0);
}

/* ---------------------------------------------------------------- memtoull */

static void test_memtoull(void **state) {
    (void)state;
    static const struct {
        const char *in;
        unsigned long long out;
    } good[] = {
        {"100", 100},
        {"100b", 100},
        {"5k", 5000},
        {"5kb", 5120},
        {"5KB", 5120},
        {"10m", 10000000},
        {"10mb", 10485760},
        {"10M", 10000000},
        {"1g", 1000000000ULL},
        {"1gb", 1073741824ULL},
        {"1GB", 1073741824ULL},
        {"0", 0},
        {"", 0},
        {"gb", 0},
        {"18446744073709551615", ULLONG_MAX},
        {"17179869183gb", 17179869183ULL * 1073741824ULL},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int err = 42;
        assert_true(memtoull(good[i].in, &err) == good[i].out);
        assert_int_equal(err, 0);
    }
    static const char *bad[] = {"-1", " 1", "1 ", "1.5gb", "1tb", "abc", "1kbb", "k1",
                                "18446744073709551616", "20000000000gb"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = 0;
        memtoull(bad[i], &err);
        assert_int_equal(err, 1);
    }
    assert_true(memtoull("7", NULL) == 7);
}

/* ---------------------------------------------------------------- time, random */

static void test_time(void **state) {
    (void)state;
    long long us = ustime(), ms = mstime();
    long long now = (long long)time(NULL);
    assert_true(us / 1000000 >= now - 1 && us / 1000000 <= now + 1);
    assert_true(ms / 1000 >= now - 1 && ms / 1000 <= now + 1);
    assert_true(ustime() >= us);
}

static void test_random(void **state) {
    (void)state;
    unsigned char a[64], b[64];
    getRandomBytes(a, sizeof(a));
    getRandomBytes(b, sizeof(b));
    assert_memory_not_equal(a, b, sizeof(a));

    /* Roughly uniform bytes. */
    static unsigned counts[256];
    unsigned char big[256 * 400];
    getRandomBytes(big, sizeof(big));
    for (size_t i = 0; i < sizeof(big); i++) counts[big[i]]++;
    for (int i = 0; i < 256; i++) assert_true(counts[i] > 250 && counts[i] < 550);

    /* Odd lengths fill exactly the requested bytes. */
    unsigned char guard[20];
    memset(guard, 0xAA, sizeof(guard));
    getRandomBytes(guard, 13);
    for (int i = 13; i < 20; i++) assert_int_equal(guard[i], 0xAA);

    char hex[41];
    getRandomHexChars(hex, 40);
    hex[40] = '\0';
    for (int i = 0; i < 40; i++) assert_non_null(strchr("0123456789abcdef", hex[i]));
    char hex2[41];
    getRandomHexChars(hex2, 40);
    hex2[40] = '\0';
    assert_string_not_equal(hex, hex2);
}

/* ---------------------------------------------------------------- siphash */

static void test_siphash24_vectors(void **state) {
    (void)state;
    /* Reference vectors of the SipHash paper: key 00..0f, message 00..n-1. */
    static const uint64_t expect[] = {
        0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
        0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
        0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
    };
    uint8_t key[16], msg[16];
    for (int i = 0; i < 16; i++) key[i] = (uint8_t)i, msg[i] = (uint8_t)i;
    for (size_t n = 0; n < sizeof(expect) / sizeof(expect[0]); n++)
        assert_true(siphash24(msg, n, key) == expect[n]);
}

static void test_siphash12(void **state) {
    (void)state;
    uint8_t key[16];
    for (int i = 0; i < 16; i++) key[i] = (uint8_t)(i * 7 + 1);
    const char *a = "Hello, World! This is a key name";
    /* Deterministic, length-sensitive, key-sensitive. */
    uint64_t h = siphash((const uint8_t *)a, strlen(a), key);
    assert_true(h == siphash((const uint8_t *)a, strlen(a), key));
    assert_true(h != siphash((const uint8_t *)a, strlen(a) - 1, key));
    uint8_t key2[16];
    memcpy(key2, key, 16);
    key2[15] ^= 1;
    assert_true(h != siphash((const uint8_t *)a, strlen(a), key2));
    assert_true(h != siphash24((const uint8_t *)a, strlen(a), key));

    /* nocase: equal to hashing the lower-cased input, for every tail length. */
    for (size_t len = 0; len <= strlen(a); len++) {
        char lower[64];
        for (size_t i = 0; i < len; i++) lower[i] = (char)tolower((unsigned char)a[i]);
        assert_true(siphash_nocase((const uint8_t *)a, len, key) ==
                    siphash((const uint8_t *)lower, len, key));
    }
    assert_true(siphash_nocase((const uint8_t *)"FOO", 3, key) ==
                siphash_nocase((const uint8_t *)"foo", 3, key));
    assert_true(siphash((const uint8_t *)"FOO", 3, key) != siphash((const uint8_t *)"foo", 3, key));
    /* Non-ASCII bytes are not folded. */
    assert_true(siphash_nocase((const uint8_t *)"\xc9", 1, key) ==
                siphash((const uint8_t *)"\xc9", 1, key));

    /* Unaligned input gives the same result. */
    char buf[80];
    memcpy(buf + 3, a, strlen(a));
    assert_true(siphash((const uint8_t *)buf + 3, strlen(a), key) == h);

    /* Single-bit changes flip about half of the output bits. */
    int total = 0;
    for (int bit = 0; bit < 64; bit++) {
        uint8_t m[8] = {0};
        m[bit / 8] ^= (uint8_t)(1 << (bit % 8));
        uint64_t d = siphash(m, 8, key) ^ siphash((const uint8_t *)"\0\0\0\0\0\0\0\0", 8, key);
        total += __builtin_popcountll(d);
    }
    assert_true(total > 64 * 24 && total < 64 * 40);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string2ll),
        cmocka_unit_test(test_string2l_ull),
        cmocka_unit_test(test_ll2string),
        cmocka_unit_test(test_digits10),
        cmocka_unit_test(test_string2d),
        cmocka_unit_test(test_d2string_known),
        cmocka_unit_test(test_d2string_roundtrip),
        cmocka_unit_test(test_ld2string),
        cmocka_unit_test(test_stringmatch_basic),
        cmocka_unit_test(test_stringmatch_fuzz),
        cmocka_unit_test(test_stringmatch_pathological),
        cmocka_unit_test(test_memtoull),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_siphash24_vectors),
        cmocka_unit_test(test_siphash12),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
