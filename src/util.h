/* util.h - small helpers shared by every layer: strict number parsing and printing,
 * glob matching, clocks, randomness and SipHash.
 *
 * All parsers take an explicit length (strings may not be NUL-terminated) and return
 * 1 on success, 0 on failure, leaving the output untouched on failure unless noted.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Buffer sizes that always fit the output of the printers below (with the NUL). */
#define LONG_STR_SIZE 21      /* "-9223372036854775808" */
#define MAX_LONG_DOUBLE_CHARS (5 * 1024)
#define MAX_D2STRING_CHARS 128
#define MAX_DOUBLE_CHARS 400

/* Modes of ld2string(). */
typedef enum {
    LD_STR_AUTO,  /* %.17Lg */
    LD_STR_HUMAN, /* %.17Lf with trailing zeros (and a bare '.') removed */
    LD_STR_HEX    /* %La */
} ld2string_mode;

/* Glob matching: * ? [abc] [^abc] [a-z] and backslash escapes. */
int stringmatchlen(const char *pattern, int patternLen, const char *string, int stringLen,
                   int nocase);
int stringmatch(const char *pattern, const char *string, int nocase);

/* Strict integer parsing: optional '-', no '+', no spaces, no leading zeros, in range. */
int string2ll(const char *s, size_t slen, long long *value);
int string2ull(const char *s, size_t slen, unsigned long long *value);
int string2l(const char *s, size_t slen, long *value);
/* Floating point parsing: whole string must be consumed, no spaces, no NaN. */
int string2ld(const char *s, size_t slen, long double *dp);
int string2d(const char *s, size_t slen, double *dp);

/* Printing. Each returns the number of characters written (excluding the NUL),
 * or 0 when the buffer is too small. */
int ll2string(char *dst, size_t dstlen, long long svalue);
int ull2string(char *dst, size_t dstlen, unsigned long long value);
int d2string(char *buf, size_t len, double value);
int ld2string(char *buf, size_t len, long double value, ld2string_mode mode);
int trimDoubleString(char *buf, size_t len);
uint32_t digits10(uint64_t v);
uint32_t sdigits10(int64_t v);

/* "1gb", "10mb", "5k": k/m/g are powers of 1000, kb/mb/gb powers of 1024 (case-insensitive).
 * *err (if not NULL) is set to 1 on malformed input or overflow, else 0. */
unsigned long long memtoull(const char *p, int *err);

/* Clocks (wall clock). The time types are also typedef'd in server.h; C11 allows the
 * identical repeat, so headers that only need the types can include this one. */
typedef long long mstime_t; /* milliseconds */
typedef long long ustime_t; /* microseconds */
long long ustime(void);
long long mstime(void);

/* Randomness: seeded from /dev/urandom once, then a fast keyed generator. Not for
 * cryptography. */
void getRandomBytes(unsigned char *p, size_t len);
void getRandomHexChars(char *p, size_t len);

/* SipHash lives in siphash.c; declared in siphash.h, re-exported here for convenience. */
#include "siphash.h"

#endif
