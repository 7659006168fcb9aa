/* util.c - number/string conversions, glob matching, clocks and randomness.
 *
 * Number parsing is strict on purpose: the server stores "12" as an integer but must
 * keep "012", "+12" or " 12" as strings, so string2ll() accepts exactly the canonical
 * form that ll2string() prints.
 *
 * Double printing follows Valkey 8: integral values within +-LLONG_MAX/2 print as
 * integers, everything else as the shortest digit string that reads back to the same
 * double, laid out with the fpconv rules (see d2string()).
 *
 * Glob matching runs without recursion: every pattern token other than '*' consumes
 * exactly one character, so it is enough to remember the most recent '*' and, on a
 * mismatch, let that star swallow one more character. Matching costs at most
 * O(pattern * string) steps and constant stack, whatever the number of stars (but
 * see GLOB_MAX_STAR_GROUPS for Valkey's limit, which we mirror).
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------
 * Glob matching
 * ---------------------------------------------------------------------------------- */

static int globFold(int c, int nocase) {
    return nocase ? tolower(c) : c;
}

/* Matches the character class starting at p[0] == '[' against c. Sets *toklen to the
 * number of pattern bytes the class spans. An unterminated class runs to the end of
 * the pattern. */
static int globClass(const unsigned char *p, int plen, int *toklen, int c, int nocase) {
    int i = 1, negate = 0, match = 0;
    if (i < plen && p[i] == '^') {
        negate = 1;
        i++;
    }
    while (i < plen) {
        if (p[i] == '\\' && plen - i >= 2) {
            if (p[i + 1] == c) match = 1;
            i += 2;
        } else if (p[i] == ']') {
            i++;
            break;
        } else if (plen - i >= 3 && p[i + 1] == '-') {
            int lo = p[i], hi = p[i + 2];
            if (lo > hi) {
                int tmp = lo;
                lo = hi;
                hi = tmp;
            }
            int x = globFold(c, nocase);
            if (x >= globFold(lo, nocase) && x <= globFold(hi, nocase)) match = 1;
            i += 3;
        } else {
            if (globFold(p[i], nocase) == globFold(c, nocase)) match = 1;
            i++;
        }
    }
    *toklen = i;
    return negate ? !match : match;
}

/* Matches the single-character token at p (not '*') against c. */
static int globToken(const unsigned char *p, int plen, int *toklen, int c, int nocase) {
    switch (p[0]) {
    case '?': *toklen = 1; return 1;
    case '[': return globClass(p, plen, toklen, c, nocase);
    case '\\':
        if (plen >= 2) {
            *toklen = 2;
            return globFold(p[1], nocase) == globFold(c, nocase);
        }
        break; /* a trailing backslash is literal */
    }
    *toklen = 1;
    return globFold(p[0], nocase) == globFold(c, nocase);
}

/* Valkey's recursive matcher gives up (no match) when a pattern has more than this many
 * '*' groups before its end; we return the same answer so KEYS and SCAN MATCH agree. */
#define GLOB_MAX_STAR_GROUPS 1000

/* Counts the '*' groups followed by more pattern ("a*b*" has one, "*a*b" two). */
static int globInnerStarGroups(const unsigned char *p, int plen) {
    int groups = 0, pi = 0, toklen;
    while (pi < plen) {
        if (p[pi] == '*') {
            while (pi < plen && p[pi] == '*') pi++;
            if (pi < plen) groups++;
            continue;
        }
        globToken(p + pi, plen - pi, &toklen, 0, 0);
        pi += toklen;
    }
    return groups;
}

int stringmatchlen(const char *pattern, int patternLen, const char *string, int stringLen,
                   int nocase) {
    const unsigned char *p = (const unsigned char *)pattern;
    const unsigned char *s = (const unsigned char *)string;
    /* Each inner group takes at least two pattern bytes, so short patterns skip the scan. */
    if (patternLen > 2 * GLOB_MAX_STAR_GROUPS &&
        globInnerStarGroups(p, patternLen) > GLOB_MAX_STAR_GROUPS)
        return 0;
    int pi = 0, si = 0;
    int star_pi = -1, star_si = 0; /* where to resume after the latest '*' */
    while (si < stringLen) {
        if (pi < patternLen && p[pi] == '*') {
            while (pi < patternLen && p[pi] == '*') pi++;
            if (pi == patternLen) return 1;
            star_pi = pi;
            star_si = si;
            continue;
        }
        int toklen;
        if (pi < patternLen && globToken(p + pi, patternLen - pi, &toklen, s[si], nocase)) {
            pi += toklen;
            si++;
            continue;
        }
        if (star_pi < 0) return 0;
        pi = star_pi;
        si = ++star_si;
    }
    while (pi < patternLen && p[pi] == '*') pi++;
    return pi == patternLen;
}

int stringmatch(const char *pattern, const char *string, int nocase) {
    return stringmatchlen(pattern, (int)strlen(pattern), string, (int)strlen(string), nocase);
}

/* ------------------------------------------------------------------------------------
 * Integers
 * ---------------------------------------------------------------------------------- */

uint32_t digits10(uint64_t v) {
    uint32_t n = 1;
    while (v >= 10000) {
        v /= 10000;
        n += 4;
    }
    if (v >= 1000) return n + 3;
    if (v >= 100) return n + 2;
    if (v >= 10) return n + 1;
    return n;
}

uint32_t sdigits10(int64_t v) {
    if (v >= 0) return digits10((uint64_t)v);
    return digits10(0ULL - (uint64_t)v) + 1;
}

int ull2string(char *dst, size_t dstlen, unsigned long long value) {
    /* Two digits per division: pairs "00".."99" side by side. */
    static const char pairs[201] = "0001020304050607080910111213141516171819"
                                   "2021222324252627282930313233343536373839"
                                   "4041424344454647484950515253545556575859"
                                   "6061626364656667686970717273747576777879"
                                   "8081828384858687888990919293949596979899";
    uint32_t len = digits10(value);
    if (len >= dstlen) {
        if (dstlen) dst[0] = '\0';
        return 0;
    }
    dst[len] = '\0';
    char *p = dst + len;
    while (value >= 100) {
        unsigned idx = (unsigned)(value % 100) * 2;
        value /= 100;
        *--p = pairs[idx + 1];
        *--p = pairs[idx];
    }
    if (value >= 10) {
        *--p = pairs[value * 2 + 1];
        *--p = pairs[value * 2];
    } else {
        *--p = (char)('0' + value);
    }
    return (int)len;
}

int ll2string(char *dst, size_t dstlen, long long svalue) {
    if (svalue >= 0) return ull2string(dst, dstlen, (unsigned long long)svalue);
    if (dstlen < 2) {
        if (dstlen) dst[0] = '\0';
        return 0;
    }
    dst[0] = '-';
    int n = ull2string(dst + 1, dstlen - 1, 0ULL - (unsigned long long)svalue);
    if (n == 0) {
        dst[0] = '\0';
        return 0;
    }
    return n + 1;
}

/* Canonical unsigned decimal: "0", or a non-zero digit followed by digits, no overflow. */
static int parseCanonicalUnsigned(const char *p, size_t len, unsigned long long *out) {
    if (len == 0) return 0;
    if (len == 1 && p[0] == '0') {
        *out = 0;
        return 1;
    }
    if (p[0] < '1' || p[0] > '9') return 0;
    unsigned long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

int string2ll(const char *s, size_t slen, long long *value) {
    if (slen == 0 || slen >= LONG_STR_SIZE) return 0;
    int negative = s[0] == '-';
    unsigned long long mag;
    if (!parseCanonicalUnsigned(s + negative, slen - (size_t)negative, &mag)) return 0;
    if (negative) {
        if (mag == 0 || mag > (unsigned long long)LLONG_MAX + 1) return 0; /* "-0" too */
        if (value) *value = (long long)(0ULL - mag);
    } else {
        if (mag > (unsigned long long)LLONG_MAX) return 0;
        if (value) *value = (long long)mag;
    }
    return 1;
}

int string2ull(const char *s, size_t slen, unsigned long long *value) {
    unsigned long long v;
    if (slen >= LONG_STR_SIZE || !parseCanonicalUnsigned(s, slen, &v)) return 0;
    if (value) *value = v;
    return 1;
}

int string2l(const char *s, size_t slen, long *value) {
    long long ll;
    if (!string2ll(s, slen, &ll) || ll < LONG_MIN || ll > LONG_MAX) return 0;
    if (value) *value = (long)ll;
    return 1;
}

/* ------------------------------------------------------------------------------------
 * Floating point
 * ---------------------------------------------------------------------------------- */

/* Copies s into buf as a C string; 0 when it does not fit, is empty or starts with a
 * space (strtod would skip it, we must reject it). */
static int copyNumber(char *buf, size_t bufsize, const char *s, size_t slen) {
    if (slen == 0 || slen >= bufsize || isspace((unsigned char)s[0])) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    return 1;
}

int string2ld(const char *s, size_t slen, long double *dp) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *end;
    if (!copyNumber(buf, sizeof(buf), s, slen)) return 0;
    errno = 0;
    long double v = strtold(buf, &end);
    if ((size_t)(end - buf) != slen || isnan(v)) return 0;
    if (errno == ERANGE && (isinf(v) || v == 0)) return 0; /* overflow or underflow */
    if (errno == EINVAL) return 0;
    if (dp) *dp = v;
    return 1;
}

int string2d(const char *s, size_t slen, double *dp) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *end;
    if (!copyNumber(buf, sizeof(buf), s, slen)) return 0;
    errno = 0;
    double v = strtod(buf, &end);
    if ((size_t)(end - buf) != slen || isnan(v)) return 0;
    if (errno == ERANGE && (isinf(v) || v == 0)) return 0;
    if (errno == EINVAL) return 0;
    if (dp) *dp = v;
    return 1;
}

/* Integral doubles this small are exactly representable as long long. */
static int doubleToExactLongLong(double d, long long *out) {
    if (d < (double)(-LLONG_MAX / 2) || d > (double)(LLONG_MAX / 2)) return 0;
    long long ll = (long long)d;
    if ((double)ll != d) return 0;
    *out = ll;
    return 1;
}

/* Shortest decimal significand of v (> 0, finite) that reads back as v.
 * Writes the digits (no dot, no trailing zeros) and returns how many; *exp10 gets the
 * exponent of the first digit, i.e. v ~= d.ddd * 10^exp10. Any decimal of up to
 * DBL_DIG (15) significant digits survives a round trip through a normal double, so
 * when 15 digits work the correctly rounded 15-digit form with zeros stripped is
 * already the shortest; otherwise 16, then 17 (always enough). */
static int shortestDigits(double v, char *digits, int *exp10) {
    char tmp[40];
    /* Subnormals carry fewer significant bits, so their shortest form can be short. */
    int first = v < DBL_MIN ? 1 : DBL_DIG;
    for (int prec = first; prec <= DBL_DECIMAL_DIG; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
        if (prec == DBL_DECIMAL_DIG || strtod(tmp, NULL) == v) break;
    }
    int n = 0;
    const char *p = tmp;
    for (; *p != 'e'; p++)
        if (*p != '.') digits[n++] = *p;
    *exp10 = atoi(p + 1);
    while (n > 1 && digits[n - 1] == '0') n--;
    return n;
}

/* Fast path for values with few decimals (1.5, 0.001, 12345.67): finds the smallest
 * k such that some integer N < 2^50 satisfies N / 10^k == v in double arithmetic. The
 * division of two exact doubles is correctly rounded, so the check is exactly "the
 * decimal N * 10^-k reads back as v"; below 2^53 no other N can, so N is the shortest
 * form and the one fpconv would print. Keeping N < 2^50 bounds the product's error
 * well under 0.5, so rounding it finds N. Returns the digit count, 0 if no such k. */
#define FAST_DIGITS_LIMIT 1125899906842624.0 /* 2^50 */
#define FAST_DIGITS_MAX_K 15
static int shortDecimalDigits(double v, char *digits, int *k_out) {
    static const double pow10[FAST_DIGITS_MAX_K + 1] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    for (int k = 1; k <= FAST_DIGITS_MAX_K; k++) {
        double t = v * pow10[k];
        if (t >= FAST_DIGITS_LIMIT) return 0;
        double n = floor(t + 0.5);
        if (n / pow10[k] == v) {
            *k_out = k;
            return ull2string(digits, DBL_DECIMAL_DIG + 1, (unsigned long long)n);
        }
    }
    return 0;
}

/* Lays out digits d (n of them) times 10^k the way Valkey's fpconv does: plain
 * integers while there are fewer than 8 trailing zeros, plain decimals when the
 * exponent is small, otherwise d.ddde+X with an unpadded exponent. */
static int layoutDigits(char *out, const char *d, int n, int k) {
    int sci = k + n - 1;
    int mag = sci < 0 ? -sci : sci;
    int pos = 0;
    if (k >= 0 && mag < n + 7) {
        memcpy(out, d, (size_t)n);
        memset(out + n, '0', (size_t)k);
        return n + k;
    }
    if (k < 0 && (k > -7 || mag < 4)) {
        int intdigits = n + k;
        if (intdigits <= 0) {
            out[pos++] = '0';
            out[pos++] = '.';
            memset(out + pos, '0', (size_t)-intdigits);
            pos += -intdigits;
            memcpy(out + pos, d, (size_t)n);
            return pos + n;
        }
        memcpy(out, d, (size_t)intdigits);
        out[intdigits] = '.';
        memcpy(out + intdigits + 1, d + intdigits, (size_t)(n - intdigits));
        return n + 1;
    }
    out[pos++] = d[0];
    if (n > 1) {
        out[pos++] = '.';
        memcpy(out + pos, d + 1, (size_t)(n - 1));
        pos += n - 1;
    }
    pos += sprintf(out + pos, "e%c%d", sci < 0 ? '-' : '+', mag);
    return pos;
}

/* Copies a formatted number of n bytes into buf when it fits. */
static int emitNumber(char *buf, size_t len, const char *text, int n) {
    if ((size_t)n >= len) {
        if (len) buf[0] = '\0';
        return 0;
    }
    memcpy(buf, text, (size_t)n);
    buf[n] = '\0';
    return n;
}

static int emitText(char *buf, size_t len, const char *text) {
    return emitNumber(buf, len, text, (int)strlen(text));
}

int d2string(char *buf, size_t len, double value) {
    char tmp[64];
    long long ll;
    if (isnan(value)) return emitText(buf, len, "nan");
    if (isinf(value)) return emitText(buf, len, value > 0 ? "inf" : "-inf");
    if (value == 0) return emitText(buf, len, signbit(value) ? "-0" : "0");
    if (doubleToExactLongLong(value, &ll)) return ll2string(buf, len, ll);

    char digits[DBL_DECIMAL_DIG + 1];
    int exp10, k, n = 0;
    if (value < 0) tmp[n++] = '-';
    int nd = shortDecimalDigits(fabs(value), digits, &k);
    if (nd > 0) {
        n += layoutDigits(tmp + n, digits, nd, -k);
    } else {
        nd = shortestDigits(fabs(value), digits, &exp10);
        n += layoutDigits(tmp + n, digits, nd, exp10 - (nd - 1));
    }
    return emitNumber(buf, len, tmp, n);
}

int trimDoubleString(char *buf, size_t len) {
    if (memchr(buf, '.', len) == NULL) return (int)len;
    while (len > 0 && buf[len - 1] == '0') len--;
    if (len > 0 && buf[len - 1] == '.') len--;
    buf[len] = '\0';
    return (int)len;
}

int ld2string(char *buf, size_t len, long double value, ld2string_mode mode) {
    int n;
    if (isinf(value)) return emitText(buf, len, value > 0 ? "inf" : "-inf");
    switch (mode) {
    case LD_STR_AUTO: n = snprintf(buf, len, "%.17Lg", value); break;
    case LD_STR_HEX: n = snprintf(buf, len, "%La", value); break;
    case LD_STR_HUMAN: n = snprintf(buf, len, "%.17Lf", value); break;
    default: n = -1; break;
    }
    if (n < 0 || (size_t)n >= len) {
        if (len) buf[0] = '\0';
        return 0;
    }
    if (mode == LD_STR_HUMAN) {
        n = trimDoubleString(buf, (size_t)n);
        /* A tiny negative value rounds to "-0": print it as plain zero. */
        if (n == 2 && buf[0] == '-' && buf[1] == '0') {
            buf[0] = '0';
            buf[1] = '\0';
            n = 1;
        }
    }
    return n;
}

/* ------------------------------------------------------------------------------------
 * Memory sizes
 * ---------------------------------------------------------------------------------- */

unsigned long long memtoull(const char *p, int *err) {
    static const struct {
        const char *name;
        unsigned long long mul;
    } units[] = {
        {"", 1}, {"b", 1},
        {"k", 1000ULL}, {"kb", 1024ULL},
        {"m", 1000ULL * 1000}, {"mb", 1024ULL * 1024},
        {"g", 1000ULL * 1000 * 1000}, {"gb", 1024ULL * 1024 * 1024},
    };
    if (err) *err = 1;
    const char *u = p;
    while (*u >= '0' && *u <= '9') u++;
    unsigned long long mul = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(u, units[i].name) == 0) {
            mul = units[i].mul;
            break;
        }
    }
    if (mul == 0) return 0;
    /* No digits at all ("" or "gb") reads as zero, as Valkey does. */
    unsigned long long val = 0;
    for (const char *d = p; d < u; d++) {
        unsigned digit = (unsigned)(*d - '0');
        if (val > (ULLONG_MAX - digit) / 10) return 0;
        val = val * 10 + digit;
    }
    if (val > ULLONG_MAX / mul) return 0;
    if (err) *err = 0;
    return val * mul;
}

/* ------------------------------------------------------------------------------------
 * Clocks
 * ---------------------------------------------------------------------------------- */

long long ustime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long mstime(void) {
    return ustime() / 1000;
}

/* ------------------------------------------------------------------------------------
 * Randomness
 *
 * Each thread keys a SipHash-2-4 PRF with 16 bytes from /dev/urandom on first use and
 * then hashes an incrementing counter: fast, unpredictable without the key, and no
 * locking. If /dev/urandom cannot be read the key falls back to time, pid and
 * addresses, which is weak but still unique per process.
 * ---------------------------------------------------------------------------------- */

static __thread int rand_seeded;
static __thread uint8_t rand_key[16];
static __thread uint64_t rand_counter;

static void randomSeed(void) {
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    if (fd >= 0) {
        while (got < sizeof(rand_key)) {
            ssize_t n = read(fd, rand_key + got, sizeof(rand_key) - got);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                break;
            }
            got += (size_t)n;
        }
        close(fd);
    }
    if (got < sizeof(rand_key)) {
        uint64_t a = (uint64_t)ustime() ^ ((uint64_t)getpid() << 32);
        uint64_t b = (uint64_t)(uintptr_t)&rand_key ^ (uint64_t)clock();
        memcpy(rand_key, &a, 8);
        memcpy(rand_key + 8, &b, 8);
    }
    rand_counter = 0;
    rand_seeded = 1;
}

void getRandomBytes(unsigned char *p, size_t len) {
    if (!rand_seeded) randomSeed();
    while (len) {
        uint64_t block = siphash24((const uint8_t *)&rand_counter, sizeof(rand_counter), rand_key);
        rand_counter++;
        size_t n = len < sizeof(block) ? len : sizeof(block);
        memcpy(p, &block, n);
        p += n;
        len -= n;
    }
}

void getRandomHexChars(char *p, size_t len) {
    static const char hex[] = "0123456789abcdef";
    getRandomBytes((unsigned char *)p, len);
    for (size_t j = 0; j < len; j++) p[j] = hex[(unsigned char)p[j] & 0x0f];
}
