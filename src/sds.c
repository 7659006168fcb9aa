/* sds.c - dynamic, binary-safe strings (see sds.h for the memory layout).
 *
 * Allocation. Every sds made here is a single zmalloc block: header, bytes, NUL. The
 * capacity recorded in the header is whatever the allocator actually handed out (its
 * usable size), clamped to what the header type can express, so bytes the allocator
 * rounds up to are not wasted. sdsAllocSize() therefore equals the accounted size.
 *
 * Types. sdsnewlen() and every growing path pick the smallest of TYPE_8..64 able to hold
 * the length; TYPE_5 has no capacity field and cannot grow in place, so it only comes
 * from sdswrite() (strings embedded in someone else's allocation). Any function that
 * needs spare room converts a TYPE_5 to a larger type by copying it into a fresh block.
 */
#include "sds.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zmalloc.h"

const char *SDS_NOINIT = "SDS_NOINIT";

/* Initial room reserved by sdscatvprintf before the first formatting attempt. */
#define SDS_PRINTF_MIN_ROOM 32

static void sdsPanic(const char *what) {
    fprintf(stderr, "sds: %s\n", what);
    abort();
}
#define sdsCheck(cond, what)              \
    do {                                  \
        if (!(cond)) sdsPanic(what);      \
    } while (0)

size_t sdsHdrSize(char type) {
    switch (type & SDS_TYPE_MASK) {
    case SDS_TYPE_5: return sizeof(struct sdshdr5);
    case SDS_TYPE_8: return sizeof(struct sdshdr8);
    case SDS_TYPE_16: return sizeof(struct sdshdr16);
    case SDS_TYPE_32: return sizeof(struct sdshdr32);
    case SDS_TYPE_64: return sizeof(struct sdshdr64);
    }
    return 0;
}

/* Largest length (and capacity) a header type can record. */
static size_t sdsTypeMaxSize(char type) {
    switch (type) {
    case SDS_TYPE_5: return SDS_TYPE_5_MAXLEN;
    case SDS_TYPE_8: return UINT8_MAX;
    case SDS_TYPE_16: return UINT16_MAX;
#if SIZE_MAX > UINT32_MAX
    case SDS_TYPE_32: return UINT32_MAX;
#endif
    }
    return SIZE_MAX;
}

char sdsReqType(size_t string_size) {
    if (string_size <= SDS_TYPE_5_MAXLEN) return SDS_TYPE_5;
    if (string_size <= UINT8_MAX) return SDS_TYPE_8;
    if (string_size <= UINT16_MAX) return SDS_TYPE_16;
#if SIZE_MAX > UINT32_MAX
    if (string_size <= UINT32_MAX) return SDS_TYPE_32;
    return SDS_TYPE_64;
#else
    return SDS_TYPE_32;
#endif
}

/* Type for a string that may later grow: never TYPE_5. */
static char sdsGrowableType(size_t string_size) {
    char type = sdsReqType(string_size);
    return type == SDS_TYPE_5 ? SDS_TYPE_8 : type;
}

size_t sdsReqSize(size_t len, char type) {
    return sdsHdrSize(type) + len + 1;
}

void *sdsAllocPtr(const sds s) {
    return (void *)(s - sdsHdrSize(s[-1]));
}

size_t sdsAllocSize(const sds s) {
    return zmalloc_usable_size(sdsAllocPtr(s));
}

/* Capacity to record for a block of `usable` bytes holding a header of `type`. */
static size_t sdsCapacityFor(size_t usable, char type) {
    size_t cap = usable - sdsHdrSize(type) - 1;
    size_t max = sdsTypeMaxSize(type);
    return cap > max ? max : cap;
}

/* Writes header fields (type, len, alloc) at the start of `hdr`; returns the sds. */
static sds sdsInitHeader(void *hdr, char type, size_t len, size_t alloc) {
    sds s = (char *)hdr + sdsHdrSize(type);
    switch (type) {
    case SDS_TYPE_5:
        s[-1] = (char)(SDS_TYPE_5 | (len << SDS_TYPE_BITS));
        break;
    case SDS_TYPE_8: {
        SDS_HDR_VAR(8, s);
        sh->len = (uint8_t)len;
        sh->alloc = (uint8_t)alloc;
        sh->flags = type;
        break;
    }
    case SDS_TYPE_16: {
        SDS_HDR_VAR(16, s);
        sh->len = (uint16_t)len;
        sh->alloc = (uint16_t)alloc;
        sh->flags = type;
        break;
    }
    case SDS_TYPE_32: {
        SDS_HDR_VAR(32, s);
        sh->len = (uint32_t)len;
        sh->alloc = (uint32_t)alloc;
        sh->flags = type;
        break;
    }
    case SDS_TYPE_64: {
        SDS_HDR_VAR(64, s);
        sh->len = (uint64_t)len;
        sh->alloc = (uint64_t)alloc;
        sh->flags = type;
        break;
    }
    }
    return s;
}

static void sdsFillBytes(sds s, const void *init, size_t len) {
    if (init == SDS_NOINIT) {
        /* caller fills the bytes itself */
    } else if (init == NULL) {
        memset(s, 0, len);
    } else if (len) {
        memcpy(s, init, len);
    }
    s[len] = '\0';
}

static sds sdsNewCommon(const void *init, size_t initlen, int trying) {
    char type = sdsGrowableType(initlen);
    size_t hdrlen = sdsHdrSize(type);
    sdsCheck(initlen + hdrlen + 1 > initlen, "string size overflow");
    size_t want = hdrlen + initlen + 1;
    void *hdr;
    size_t usable;
    if (trying) {
        hdr = ztrymalloc(want);
        if (hdr == NULL) return NULL;
        usable = zmalloc_usable_size(hdr);
    } else {
        hdr = zmalloc_usable(want, &usable);
    }
    sds s = sdsInitHeader(hdr, type, initlen, sdsCapacityFor(usable, type));
    sdsFillBytes(s, init, initlen);
    return s;
}

sds sdsnewlen(const void *init, size_t initlen) {
    return sdsNewCommon(init, initlen, 0);
}

sds sdstrynewlen(const void *init, size_t initlen) {
    return sdsNewCommon(init, initlen, 1);
}

sds sdsnew(const char *init) {
    return sdsnewlen(init ? init : "", init ? strlen(init) : 0);
}

sds sdsempty(void) {
    return sdsnewlen("", 0);
}

sds sdsdup(const sds s) {
    return sdsnewlen(s, sdslen(s));
}

void sdsfree(sds s) {
    if (s == NULL) return;
    zfree(sdsAllocPtr(s));
}

void sdsfreeVoid(void *s) {
    sdsfree((sds)s);
}

sds sdswrite(char *buf, size_t bufsize, char type, const char *init, size_t len) {
    sdsCheck(len <= sdsTypeMaxSize(type), "sdswrite: length does not fit the type");
    sdsCheck(bufsize >= sdsReqSize(len, type), "sdswrite: buffer too small");
    sds s = sdsInitHeader(buf, type, len, len);
    sdsFillBytes(s, init, len);
    return s;
}

void sdsupdatelen(sds s) {
    sdssetlen(s, strlen(s));
}

void sdsclear(sds s) {
    sdssetlen(s, 0);
    s[0] = '\0';
}

/* Moves the string into a block whose header has type `type` and room for `cap` bytes.
 * Reallocates in place when the header does not change, otherwise copies. */
static sds sdsReshape(sds s, char type, size_t cap) {
    char oldtype = sdsType(s);
    size_t len = sdslen(s);
    size_t hdrlen = sdsHdrSize(type);
    sdsCheck(hdrlen + cap + 1 > cap, "string size overflow");
    if (len > cap) len = cap;
    size_t usable;
    void *hdr;
    if (oldtype == type && type != SDS_TYPE_5) {
        hdr = zrealloc_usable(sdsAllocPtr(s), hdrlen + cap + 1, &usable);
        s = (char *)hdr + hdrlen;
    } else {
        hdr = zmalloc_usable(hdrlen + cap + 1, &usable);
        sds fresh = sdsInitHeader(hdr, type, len, 0);
        memcpy(fresh, s, len);
        sdsfree(s);
        s = fresh;
    }
    sdssetlen(s, len);
    sdssetalloc(s, sdsCapacityFor(usable, type));
    s[len] = '\0';
    return s;
}

static sds sdsMakeRoomForImpl(sds s, size_t addlen, int greedy) {
    /* A TYPE_5 cannot record spare room, so any real growth converts it. */
    if (sdsavail(s) >= addlen && (addlen == 0 || sdsType(s) != SDS_TYPE_5)) return s;
    size_t len = sdslen(s);
    size_t newlen = len + addlen;
    sdsCheck(newlen >= len, "string size overflow");
    if (greedy) {
        if (newlen < SDS_MAX_PREALLOC)
            newlen *= 2;
        else if (newlen + SDS_MAX_PREALLOC > newlen)
            newlen += SDS_MAX_PREALLOC;
    }
    /* Never trade a header for a smaller one while growing: that would cost a copy. */
    char type = sdsGrowableType(newlen);
    if (type < sdsType(s)) type = sdsType(s);
    return sdsReshape(s, type, newlen);
}

sds sdsMakeRoomFor(sds s, size_t addlen) {
    return sdsMakeRoomForImpl(s, addlen, 1);
}

sds sdsMakeRoomForNonGreedy(sds s, size_t addlen) {
    return sdsMakeRoomForImpl(s, addlen, 0);
}

sds sdsResize(sds s, size_t size, int would_regrow) {
    char oldtype = sdsType(s);
    char type = sdsGrowableType(size);
    (void)would_regrow; /* TYPE_5 is never produced here, so regrowth is always cheap */
    /* Between two large header types the few header bytes saved are not worth copying
     * the whole string: keep the header and only shrink the block. */
    if (type < oldtype && type > SDS_TYPE_8) type = oldtype;
    if (type == oldtype && sdsalloc(s) == size) return s;
    return sdsReshape(s, type, size);
}

sds sdsRemoveFreeSpace(sds s, int would_regrow) {
    return sdsResize(s, sdslen(s), would_regrow);
}

void sdsIncrLen(sds s, ssize_t incr) {
    size_t len = sdslen(s);
    if (incr >= 0)
        sdsCheck(sdsavail(s) >= (size_t)incr, "sdsIncrLen past capacity");
    else
        sdsCheck(len >= (size_t)(-(incr + 1)) + 1, "sdsIncrLen below zero");
    len += (size_t)incr; /* wraps correctly for negative incr */
    sdssetlen(s, len);
    s[len] = '\0';
}

sds sdsgrowzero(sds s, size_t len) {
    size_t curlen = sdslen(s);
    if (len <= curlen) return s;
    s = sdsMakeRoomFor(s, len - curlen);
    memset(s + curlen, 0, len - curlen + 1);
    sdssetlen(s, len);
    return s;
}

sds sdscatlen(sds s, const void *t, size_t len) {
    size_t curlen = sdslen(s);
    /* t may point into s itself (sdscatsds(s, s)); growing would free it, so keep
     * its offset and find it again in the new block. */
    uintptr_t from = (uintptr_t)t, base = (uintptr_t)s;
    int inside = from >= base && from <= base + curlen;
    s = sdsMakeRoomFor(s, len);
    if (inside) t = s + (from - base);
    if (len) memcpy(s + curlen, t, len);
    sdssetlen(s, curlen + len);
    s[curlen + len] = '\0';
    return s;
}

sds sdscat(sds s, const char *t) {
    return sdscatlen(s, t, strlen(t));
}

sds sdscatsds(sds s, const sds t) {
    return sdscatlen(s, t, sdslen(t));
}

sds sdscpylen(sds s, const char *t, size_t len) {
    if (sdsalloc(s) < len) s = sdsMakeRoomFor(s, len - sdslen(s));
    if (len) memmove(s, t, len);
    s[len] = '\0';
    sdssetlen(s, len);
    return s;
}

sds sdscpy(sds s, const char *t) {
    return sdscpylen(s, t, strlen(t));
}

sds sdscatvprintf(sds s, const char *fmt, va_list ap) {
    size_t curlen = sdslen(s);
    size_t room = strlen(fmt) * 2;
    if (room < SDS_PRINTF_MIN_ROOM) room = SDS_PRINTF_MIN_ROOM;
    s = sdsMakeRoomFor(s, room);
    for (;;) {
        va_list cpy;
        va_copy(cpy, ap);
        size_t avail = sdsavail(s);
        int n = vsnprintf(s + curlen, avail + 1, fmt, cpy);
        va_end(cpy);
        if (n < 0) {
            /* Formatting error: leave the string as it was. */
            s[curlen] = '\0';
            return s;
        }
        if ((size_t)n <= avail) {
            sdssetlen(s, curlen + (size_t)n);
            return s;
        }
        s = sdsMakeRoomFor(s, (size_t)n);
    }
}

sds sdscatprintf(sds s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    s = sdscatvprintf(s, fmt, ap);
    va_end(ap);
    return s;
}

/* Writes the decimal digits of v backwards ending just before `end`; returns the start. */
static char *sdsFormatUnsigned(char *end, unsigned long long v) {
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* Decimal text of a signed value into buf (>= 21 bytes); returns the length. */
static size_t sdsFormatSigned(char *buf, long long v) {
    char tmp[24];
    char *end = tmp + sizeof(tmp);
    unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char *p = sdsFormatUnsigned(end, mag);
    if (v < 0) *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(buf, p, n);
    return n;
}

sds sdsfromlonglong(long long value) {
    char buf[24];
    size_t n = sdsFormatSigned(buf, value);
    return sdsnewlen(buf, n);
}

sds sdscatfmt(sds s, char const *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    for (const char *f = fmt; *f; f++) {
        if (*f != '%' || f[1] == '\0') {
            /* Copy the literal run up to the next '%' in one go. */
            const char *stop = strchr(f + 1, '%');
            size_t n = stop ? (size_t)(stop - f) : strlen(f);
            s = sdscatlen(s, f, n);
            f += n - 1;
            continue;
        }
        f++;
        char num[24];
        switch (*f) {
        case 's': {
            const char *str = va_arg(ap, const char *);
            s = sdscatlen(s, str, strlen(str));
            break;
        }
        case 'S': {
            sds str = va_arg(ap, sds);
            s = sdscatlen(s, str, sdslen(str));
            break;
        }
        case 'i':
            s = sdscatlen(s, num, sdsFormatSigned(num, va_arg(ap, int)));
            break;
        case 'I':
            s = sdscatlen(s, num, sdsFormatSigned(num, va_arg(ap, long long)));
            break;
        case 'u':
        case 'U': {
            unsigned long long v = (*f == 'u') ? va_arg(ap, unsigned int)
                                               : va_arg(ap, unsigned long long);
            char *end = num + sizeof(num);
            char *p = sdsFormatUnsigned(end, v);
            s = sdscatlen(s, p, (size_t)(end - p));
            break;
        }
        default: /* "%%" and unknown verbs: emit the character after '%' */
            s = sdscatlen(s, f, 1);
            break;
        }
    }
    va_end(ap);
    return s;
}

sds sdstrim(sds s, const char *cset) {
    size_t setlen = strlen(cset);
    size_t len = sdslen(s);
    size_t start = 0, end = len;
    while (start < end && memchr(cset, (unsigned char)s[start], setlen)) start++;
    while (end > start && memchr(cset, (unsigned char)s[end - 1], setlen)) end--;
    size_t newlen = end - start;
    if (start && newlen) memmove(s, s + start, newlen);
    s[newlen] = '\0';
    sdssetlen(s, newlen);
    return s;
}

void sdssubstr(sds s, size_t start, size_t len) {
    size_t oldlen = sdslen(s);
    if (start >= oldlen) start = len = 0;
    if (len > oldlen - start) len = oldlen - start;
    if (start && len) memmove(s, s + start, len);
    s[len] = '\0';
    sdssetlen(s, len);
}

void sdsrange(sds s, ssize_t start, ssize_t end) {
    ssize_t len = (ssize_t)sdslen(s);
    if (len == 0) return;
    if (start < 0) start = len + start < 0 ? 0 : len + start;
    if (end < 0) end = len + end < 0 ? 0 : len + end;
    size_t newlen = start > end ? 0 : (size_t)(end - start) + 1;
    sdssubstr(s, (size_t)start, newlen);
}

void sdstolower(sds s) {
    size_t len = sdslen(s);
    for (size_t j = 0; j < len; j++) s[j] = (char)tolower((unsigned char)s[j]);
}

void sdstoupper(sds s) {
    size_t len = sdslen(s);
    for (size_t j = 0; j < len; j++) s[j] = (char)toupper((unsigned char)s[j]);
}

int sdscmp(const sds s1, const sds s2) {
    size_t l1 = sdslen(s1), l2 = sdslen(s2);
    int cmp = memcmp(s1, s2, l1 < l2 ? l1 : l2);
    if (cmp != 0) return cmp;
    return (l1 > l2) - (l1 < l2);
}

/* Growable array of tokens used by the splitters. */
typedef struct {
    sds *items;
    int count;
    int cap;
} sdsTokens;

static void sdsTokensPush(sdsTokens *t, sds item) {
    if (t->count == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->items = zrealloc(t->items, sizeof(sds) * (size_t)t->cap);
    }
    t->items[t->count++] = item;
}

/* Result for zero tokens: a valid, freeable, non-NULL array. */
static sds *sdsTokensFinish(sdsTokens *t, int *count) {
    if (t->items == NULL) t->items = zmalloc(sizeof(sds));
    *count = t->count;
    return t->items;
}

sds *sdssplitlen(const char *s, ssize_t len, const char *sep, int seplen, int *count) {
    *count = 0;
    if (seplen < 1 || len < 0) return NULL;
    sdsTokens t = {0};
    if (len == 0) return sdsTokensFinish(&t, count);
    ssize_t start = 0;
    for (ssize_t j = 0; j + seplen <= len; j++) {
        if (s[j] == sep[0] && memcmp(s + j, sep, (size_t)seplen) == 0) {
            sdsTokensPush(&t, sdsnewlen(s + start, (size_t)(j - start)));
            start = j + seplen;
            j = start - 1;
        }
    }
    sdsTokensPush(&t, sdsnewlen(s + start, (size_t)(len - start)));
    return sdsTokensFinish(&t, count);
}

void sdsfreesplitres(sds *tokens, int count) {
    if (tokens == NULL) return;
    for (int j = 0; j < count; j++) sdsfree(tokens[j]);
    zfree(tokens);
}

/* Escape letter for a control character with a short form, or 0. */
static char sdsShortEscape(unsigned char c) {
    switch (c) {
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    case '\a': return 'a';
    case '\b': return 'b';
    }
    return 0;
}

sds sdscatrepr(sds s, const char *p, size_t len) {
    static const char hex[] = "0123456789abcdef";
    s = sdsMakeRoomFor(s, len + 2);
    s = sdscatlen(s, "\"", 1);
    for (size_t j = 0; j < len; j++) {
        unsigned char c = (unsigned char)p[j];
        char esc = sdsShortEscape(c);
        if (c == '\\' || c == '"') {
            char two[2] = {'\\', (char)c};
            s = sdscatlen(s, two, 2);
        } else if (esc) {
            char two[2] = {'\\', esc};
            s = sdscatlen(s, two, 2);
        } else if (isprint(c)) {
            s = sdscatlen(s, &p[j], 1);
        } else {
            char four[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            s = sdscatlen(s, four, 4);
        }
    }
    return sdscatlen(s, "\"", 1);
}

int sdsneedsrepr(const sds s) {
    size_t len = sdslen(s);
    for (size_t j = 0; j < len; j++) {
        unsigned char c = (unsigned char)s[j];
        if (c == '\\' || c == '"' || !isprint(c) || isspace(c)) return 1;
    }
    return 0;
}

static int sdsHexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* After a closing quote the token must end: end of line or whitespace. */
static int sdsQuoteClosedProperly(const char *after) {
    return *after == '\0' || isspace((unsigned char)*after);
}

/* Parses one token starting at *pp (not whitespace, not end). Returns the token and
 * advances *pp past it, or returns NULL on a quoting error. */
static sds sdsParseArg(const char **pp) {
    const char *p = *pp;
    sds cur = sdsempty();
    enum { BARE, DOUBLE, SINGLE } mode = BARE;
    for (;;) {
        char c = *p;
        if (mode == DOUBLE) {
            if (c == '\0') goto err;
            if (c == '\\' && p[1] == 'x' && sdsHexValue(p[2]) >= 0 && sdsHexValue(p[3]) >= 0) {
                char byte = (char)(sdsHexValue(p[2]) * 16 + sdsHexValue(p[3]));
                cur = sdscatlen(cur, &byte, 1);
                p += 4;
            } else if (c == '\\' && p[1]) {
                char e = p[1];
                switch (e) {
                case 'n': e = '\n'; break;
                case 'r': e = '\r'; break;
                case 't': e = '\t'; break;
                case 'b': e = '\b'; break;
                case 'a': e = '\a'; break;
                }
                cur = sdscatlen(cur, &e, 1);
                p += 2;
            } else if (c == '"') {
                if (!sdsQuoteClosedProperly(p + 1)) goto err;
                p++;
                break;
            } else {
                cur = sdscatlen(cur, p, 1);
                p++;
            }
        } else if (mode == SINGLE) {
            if (c == '\0') goto err;
            if (c == '\\' && p[1] == '\'') {
                cur = sdscatlen(cur, "'", 1);
                p += 2;
            } else if (c == '\'') {
                if (!sdsQuoteClosedProperly(p + 1)) goto err;
                p++;
                break;
            } else {
                cur = sdscatlen(cur, p, 1);
                p++;
            }
        } else {
            if (c == '\0' || c == ' ' || c == '\n' || c == '\r' || c == '\t') break;
            if (c == '"')
                mode = DOUBLE;
            else if (c == '\'')
                mode = SINGLE;
            else
                cur = sdscatlen(cur, p, 1);
            p++;
        }
    }
    *pp = p;
    return cur;
err:
    sdsfree(cur);
    return NULL;
}

sds *sdssplitargs(const char *line, int *argc) {
    const char *p = line;
    sdsTokens t = {0};
    *argc = 0;
    for (;;) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (*p == '\0') return sdsTokensFinish(&t, argc);
        sds arg = sdsParseArg(&p);
        if (arg == NULL) {
            sdsfreesplitres(t.items, t.count);
            *argc = 0;
            return NULL;
        }
        sdsTokensPush(&t, arg);
    }
}

sds sdsmapchars(sds s, const char *from, const char *to, size_t setlen) {
    size_t len = sdslen(s);
    for (size_t j = 0; j < len; j++) {
        for (size_t i = 0; i < setlen; i++) {
            if (s[j] == from[i]) {
                s[j] = to[i];
                break;
            }
        }
    }
    return s;
}

sds sdsjoin(char **argv, int argc, char *sep) {
    sds join = sdsempty();
    for (int j = 0; j < argc; j++) {
        if (j) join = sdscat(join, sep);
        join = sdscat(join, argv[j]);
    }
    return join;
}

sds sdsjoinsds(sds *argv, int argc, const char *sep, size_t seplen) {
    sds join = sdsempty();
    for (int j = 0; j < argc; j++) {
        if (j) join = sdscatlen(join, sep, seplen);
        join = sdscatsds(join, argv[j]);
    }
    return join;
}
