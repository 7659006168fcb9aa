/* sds.h - dynamic, binary-safe strings.
 *
 * An sds is a plain `char *` that points at the string bytes; a small header holding
 * the length, the allocated capacity and a type tag sits immediately before those bytes.
 * The bytes are always followed by a NUL, so an sds can be handed to any libc function
 * that takes a C string (as long as the content has no embedded NULs).
 *
 * Header sizes are picked from the length so short strings pay 3 bytes of overhead:
 *   SDS_TYPE_5   1 byte: type in the low 3 bits, length in the high 5 bits, no capacity
 *                field (capacity == length). Only created by sdswrite() for embedding;
 *                any operation that needs to grow it first converts it to a larger type.
 *   SDS_TYPE_8/16/32/64   len, alloc (capacity excluding header and NUL), flags byte.
 * The flags byte (the byte just before the string) carries the type in its low 3 bits.
 */
#ifndef SDS_H
#define SDS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Past this size sdsMakeRoomFor stops doubling and grows linearly. */
#define SDS_MAX_PREALLOC (1024 * 1024)

typedef char *sds;

/* Pass as `init` to sdsnewlen() to leave the bytes uninitialised (caller fills them). */
extern const char *SDS_NOINIT;

struct __attribute__((__packed__)) sdshdr5 {
    unsigned char flags; /* low 3 bits type, high 5 bits length */
    char buf[];
};
struct __attribute__((__packed__)) sdshdr8 {
    uint8_t len;
    uint8_t alloc;
    unsigned char flags;
    char buf[];
};
struct __attribute__((__packed__)) sdshdr16 {
    uint16_t len;
    uint16_t alloc;
    unsigned char flags;
    char buf[];
};
struct __attribute__((__packed__)) sdshdr32 {
    uint32_t len;
    uint32_t alloc;
    unsigned char flags;
    char buf[];
};
struct __attribute__((__packed__)) sdshdr64 {
    uint64_t len;
    uint64_t alloc;
    unsigned char flags;
    char buf[];
};

#define SDS_TYPE_5 0
#define SDS_TYPE_8 1
#define SDS_TYPE_16 2
#define SDS_TYPE_32 3
#define SDS_TYPE_64 4
#define SDS_TYPE_MASK 7
#define SDS_TYPE_BITS 3
#define SDS_TYPE_5_MAXLEN ((1 << (8 - SDS_TYPE_BITS)) - 1)

#define SDS_HDR_VAR(T, s) \
    struct sdshdr##T *sh = (struct sdshdr##T *)((s) - sizeof(struct sdshdr##T))
#define SDS_HDR(T, s) ((struct sdshdr##T *)((s) - sizeof(struct sdshdr##T)))
#define SDS_TYPE_5_LEN(f) ((unsigned char)(f) >> SDS_TYPE_BITS)

static inline unsigned char sdsType(const sds s) {
    return (unsigned char)s[-1] & SDS_TYPE_MASK;
}

static inline size_t sdslen(const sds s) {
    switch (sdsType(s)) {
    case SDS_TYPE_5: return SDS_TYPE_5_LEN(s[-1]);
    case SDS_TYPE_8: return SDS_HDR(8, s)->len;
    case SDS_TYPE_16: return SDS_HDR(16, s)->len;
    case SDS_TYPE_32: return SDS_HDR(32, s)->len;
    case SDS_TYPE_64: return SDS_HDR(64, s)->len;
    }
    return 0;
}

/* Capacity for string bytes, excluding header and the terminating NUL. */
static inline size_t sdsalloc(const sds s) {
    switch (sdsType(s)) {
    case SDS_TYPE_5: return SDS_TYPE_5_LEN(s[-1]);
    case SDS_TYPE_8: return SDS_HDR(8, s)->alloc;
    case SDS_TYPE_16: return SDS_HDR(16, s)->alloc;
    case SDS_TYPE_32: return SDS_HDR(32, s)->alloc;
    case SDS_TYPE_64: return SDS_HDR(64, s)->alloc;
    }
    return 0;
}

static inline size_t sdsavail(const sds s) {
    return sdsalloc(s) - sdslen(s);
}

/* Caller guarantees newlen <= sdsalloc(s); the NUL is not written here. */
static inline void sdssetlen(sds s, size_t newlen) {
    switch (sdsType(s)) {
    case SDS_TYPE_5:
        s[-1] = (char)(SDS_TYPE_5 | (newlen << SDS_TYPE_BITS));
        break;
    case SDS_TYPE_8: SDS_HDR(8, s)->len = (uint8_t)newlen; break;
    case SDS_TYPE_16: SDS_HDR(16, s)->len = (uint16_t)newlen; break;
    case SDS_TYPE_32: SDS_HDR(32, s)->len = (uint32_t)newlen; break;
    case SDS_TYPE_64: SDS_HDR(64, s)->len = (uint64_t)newlen; break;
    }
}

static inline void sdsinclen(sds s, size_t inc) {
    sdssetlen(s, sdslen(s) + inc);
}

/* No-op for TYPE_5, which has no capacity field. */
static inline void sdssetalloc(sds s, size_t newalloc) {
    switch (sdsType(s)) {
    case SDS_TYPE_5: break;
    case SDS_TYPE_8: SDS_HDR(8, s)->alloc = (uint8_t)newalloc; break;
    case SDS_TYPE_16: SDS_HDR(16, s)->alloc = (uint16_t)newalloc; break;
    case SDS_TYPE_32: SDS_HDR(32, s)->alloc = (uint32_t)newalloc; break;
    case SDS_TYPE_64: SDS_HDR(64, s)->alloc = (uint64_t)newalloc; break;
    }
}

/* Creation and destruction. */
sds sdsnewlen(const void *init, size_t initlen); /* init NULL: zero-filled; panics on OOM */
sds sdstrynewlen(const void *init, size_t initlen); /* returns NULL on OOM */
sds sdsnew(const char *init);                       /* init NULL: empty string */
sds sdsempty(void);
sds sdsdup(const sds s);
void sdsfree(sds s); /* NULL is fine */
void sdsfreeVoid(void *s); /* sdsfree with a generic signature, for destructor callbacks */

/* Embedding: build an sds inside memory owned by someone else (e.g. an object).
 * Such a string may be read and edited in place (length can only shrink), but must
 * never be passed to sdsfree, sdsAllocSize or anything that may reallocate: those
 * assume the header starts its own zmalloc block. */
char sdsReqType(size_t string_size);          /* smallest type holding that length */
size_t sdsHdrSize(char type);                 /* bytes of header for a type */
size_t sdsReqSize(size_t len, char type);     /* header + len + NUL */
sds sdswrite(char *buf, size_t bufsize, char type, const char *init, size_t len);

/* Capacity management. */
sds sdsMakeRoomFor(sds s, size_t addlen);          /* greedy */
sds sdsMakeRoomForNonGreedy(sds s, size_t addlen); /* exactly addlen spare bytes */
void sdsIncrLen(sds s, ssize_t incr);               /* after writing into spare space */
/* Shrink (or set) the capacity; never produces TYPE_5, so would_regrow only exists for
 * API compatibility. sdsResize truncates when size < sdslen. The capacity recorded is
 * what the allocator gave, so it may exceed size by a few bytes. */
sds sdsRemoveFreeSpace(sds s, int would_regrow);
sds sdsResize(sds s, size_t size, int would_regrow);
size_t sdsAllocSize(const sds s); /* full allocation incl. header, from the allocator */
void *sdsAllocPtr(const sds s);   /* start of the allocation (the header) */

/* Appending, copying and formatting. All may reallocate: use the returned sds. */
sds sdsgrowzero(sds s, size_t len);
sds sdscatlen(sds s, const void *t, size_t len);
sds sdscat(sds s, const char *t);
sds sdscatsds(sds s, const sds t);
sds sdscpylen(sds s, const char *t, size_t len);
sds sdscpy(sds s, const char *t);
sds sdscatvprintf(sds s, const char *fmt, va_list ap);
sds sdscatprintf(sds s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* %s C string, %S sds, %i int, %I long long, %u unsigned, %U unsigned long long, %% */
sds sdscatfmt(sds s, char const *fmt, ...);
sds sdsfromlonglong(long long value);
sds sdscatrepr(sds s, const char *p, size_t len);
int sdsneedsrepr(const sds s);
sds sdsjoin(char **argv, int argc, char *sep);
sds sdsjoinsds(sds *argv, int argc, const char *sep, size_t seplen);

/* In-place editing. */
sds sdstrim(sds s, const char *cset);
void sdssubstr(sds s, size_t start, size_t len);
void sdsrange(sds s, ssize_t start, ssize_t end); /* inclusive, negatives from the end */
void sdsupdatelen(sds s);                          /* length := strlen */
void sdsclear(sds s);
void sdstolower(sds s);
void sdstoupper(sds s);
sds sdsmapchars(sds s, const char *from, const char *to, size_t setlen);

int sdscmp(const sds s1, const sds s2);

/* Splitting. Results are freed with sdsfreesplitres(). */
sds *sdssplitlen(const char *s, ssize_t len, const char *sep, int seplen, int *count);
void sdsfreesplitres(sds *tokens, int count);
sds *sdssplitargs(const char *line, int *argc); /* NULL on unbalanced quotes */

#endif
