/* listpack.h -- a compact list of strings and integers serialised in one allocation.
 *
 * The byte layout is Valkey's listpack, bit for bit, because RDB files and DUMP payloads
 * carry listpacks as raw blobs (see listpack.c for the format). A listpack is handled as
 * an `unsigned char *`; every call that may grow or shrink it returns the (possibly
 * moved) blob, and element pointers into it are invalidated by any such call.
 *
 * Ownership: the caller owns the blob (free with lpFree). Functions that write never
 * keep pointers to their string arguments; the string must not point into the same
 * listpack it is written to.
 *
 * Blobs from outside (RDB, RESTORE) must go through lpValidateIntegrity() first (deep or
 * shallow). The walking functions keep one cheap check per step: an element is handed out
 * only once its size is known to end before the terminator, and they abort on one that
 * does not rather than read outside the blob, so a shallow-validated blob is safe too.
 * Element pointers passed back in must come from the walking functions.
 */
#ifndef LISTPACK_H
#define LISTPACK_H

#include <stddef.h>
#include <stdint.h>

#define LP_INTBUF_SIZE 21 /* "-9223372036854775808" plus the NUL */

/* Where lpInsertString()/lpInsertInteger()/lpBatchInsert() write relative to p. */
#define LP_BEFORE 0
#define LP_AFTER 1
#define LP_REPLACE 2

/* Growth beyond this is refused by lpSafeToAdd(); callers convert to a bigger encoding. */
#define LISTPACK_MAX_SAFETY_SIZE (1 << 30)

/* An element as a value: a string (sval != NULL, slen bytes) or an integer (lval). */
typedef struct {
    unsigned char *sval;
    uint32_t slen;
    long long lval;
} listpackEntry;

/* Creation and size. */
unsigned char *lpNew(size_t capacity); /* capacity: bytes to preallocate (hint) */
void lpFree(unsigned char *lp);
void lpFreeVoid(void *lp);
unsigned char *lpShrinkToFit(unsigned char *lp);
unsigned char *lpDup(unsigned char *lp);
size_t lpBytes(unsigned char *lp);
/* Number of elements. When the header count saturated (65535) it counts by scanning,
 * and stores the result in the header again if it fits. */
unsigned long lpLength(unsigned char *lp);
/* Would adding add bytes keep the blob within LISTPACK_MAX_SAFETY_SIZE? lp may be NULL. */
int lpSafeToAdd(unsigned char *lp, size_t add);
/* Size of one integer element (encoding + backlen), and of a listpack holding rep of them. */
int lpEntrySizeInteger(long long lval);
size_t lpEstimateBytesRepeatedInteger(long long lval, unsigned long rep);

/* Writing. Strings that are canonical integers (string2ll) are stored as integers.
 * They return NULL only when the blob would exceed 4 GB (check lpSafeToAdd first).
 * newp, when not NULL, receives the address of the written element (for LP_REPLACE with
 * s == NULL, a deletion: the element that followed, or NULL at the end). */
unsigned char *lpInsertString(unsigned char *lp, unsigned char *s, uint32_t slen,
                              unsigned char *p, int where, unsigned char **newp);
unsigned char *lpInsertInteger(unsigned char *lp, long long lval, unsigned char *p, int where,
                               unsigned char **newp);
unsigned char *lpAppend(unsigned char *lp, unsigned char *s, uint32_t slen);
unsigned char *lpPrepend(unsigned char *lp, unsigned char *s, uint32_t slen);
unsigned char *lpAppendInteger(unsigned char *lp, long long lval);
unsigned char *lpPrependInteger(unsigned char *lp, long long lval);
/* *p is updated to the replacing element. */
unsigned char *lpReplace(unsigned char *lp, unsigned char **p, unsigned char *s, uint32_t slen);
unsigned char *lpReplaceInteger(unsigned char *lp, unsigned char **p, long long lval);
/* Inserts len elements at once (one reallocation); *newp: the first inserted element. */
unsigned char *lpBatchInsert(unsigned char *lp, unsigned char *p, int where,
                             listpackEntry *entries, unsigned int len, unsigned char **newp);
unsigned char *lpBatchAppend(unsigned char *lp, listpackEntry *entries, unsigned long len);

/* Deleting. *newp / *p: the element that followed the deleted ones, or NULL at the end. */
unsigned char *lpDelete(unsigned char *lp, unsigned char *p, unsigned char **newp);
unsigned char *lpDeleteRangeWithEntry(unsigned char *lp, unsigned char **p, unsigned long num);
unsigned char *lpDeleteRange(unsigned char *lp, long index, unsigned long num);
/* ps: count distinct element pointers in ascending address order. */
unsigned char *lpBatchDelete(unsigned char *lp, unsigned char **ps, unsigned long count);
/* Appends *second to *first in whichever of the two is larger; the other is freed and its
 * pointer set to NULL, the survivor's pointer updated. Returns the merged listpack, or
 * NULL (nothing done) when either is NULL or both are the same blob. */
unsigned char *lpMerge(unsigned char **first, unsigned char **second);

/* Walking. All return NULL past either end. lpSeek: negative index counts from the tail. */
unsigned char *lpFirst(unsigned char *lp);
unsigned char *lpLast(unsigned char *lp);
unsigned char *lpNext(unsigned char *lp, unsigned char *p);
unsigned char *lpPrev(unsigned char *lp, unsigned char *p);
unsigned char *lpSeek(unsigned char *lp, long index);

/* Reading. lpGet: a string element returns its bytes with *count = length. An integer
 * element is printed into intbuf (LP_INTBUF_SIZE bytes) and returned with its length,
 * or, when intbuf is NULL, NULL is returned with *count = the value. */
unsigned char *lpGet(unsigned char *p, int64_t *count, unsigned char *intbuf);
/* Like lpGet; *entry_size receives the whole element size (encoding, data, backlen). */
unsigned char *lpGetWithSize(unsigned char *p, int64_t *count, unsigned char *intbuf,
                             uint64_t *entry_size);
/* String: returns the bytes and sets *slen. Integer: returns NULL and sets *lval. */
unsigned char *lpGetValue(unsigned char *p, unsigned int *slen, long long *lval);
/* 1 with *lval when the element is an integer or a string that parses as one. */
int lpGetIntegerValue(unsigned char *p, long long *lval);
/* 1 when the element equals s (as bytes; integers compare by value). */
unsigned int lpCompare(unsigned char *p, unsigned char *s, uint32_t slen);
/* First element equal to s, starting at p and comparing every (skip+1)-th element
 * (skip 1 over a field/value listpack compares fields only). NULL if none. */
unsigned char *lpFind(unsigned char *lp, unsigned char *p, unsigned char *s, uint32_t slen,
                      unsigned int skip);

/* Validation of untrusted blobs. Shallow (deep == 0): header and terminator against size.
 * Deep: every entry lies within the blob and its backlen agrees, the terminator is where
 * the header says, and the element count matches the header (unless saturated). The
 * callback, when given, sees every element and can veto (return 0). 1 = valid. */
typedef int (*listpackValidateEntryCB)(unsigned char *p, unsigned int head_count, void *userdata);
int lpValidateIntegrity(unsigned char *lp, size_t size, int deep, listpackValidateEntryCB entry_cb,
                        void *cb_userdata);
/* Step-wise validation (lp must have passed the shallow check): lpValidateFirst() gives the
 * first element or NULL; lpValidateNext() checks the element at *pp and advances it (to
 * NULL at the terminator); 0 = invalid. */
unsigned char *lpValidateFirst(unsigned char *lp);
int lpValidateNext(unsigned char *lp, unsigned char **pp, size_t lpbytes);

/* Randomness (uses rand()). Pairs are (even, odd) elements of a field/value listpack;
 * total_count is the number of pairs. Returned strings point into lp. vals may be NULL. */
void lpRandomPair(unsigned char *lp, unsigned long total_count, listpackEntry *key,
                  listpackEntry *val);
/* count picks with repetition, in random order. */
void lpRandomPairs(unsigned char *lp, unsigned int count, listpackEntry *keys, listpackEntry *vals);
/* Up to count distinct pairs, in listpack order; returns how many were picked. */
unsigned int lpRandomPairsUnique(unsigned char *lp, unsigned int count, listpackEntry *keys,
                                 listpackEntry *vals);
/* count single elements with repetition, in random order. */
void lpRandomEntries(unsigned char *lp, unsigned int count, listpackEntry *entries);
/* One step of a single-pass distinct sample: from p (at index *index, inclusive), returns
 * the next picked element and sets *index to it, given that remaining elements are still
 * to be picked among the rest; even_only restricts picks to even indexes. The caller
 * moves past the returned element (lpNext, index++) before the next call. */
unsigned char *lpNextRandom(unsigned char *lp, unsigned char *p, unsigned int *index,
                            unsigned int remaining, int even_only);

/* Prints the blob's layout to stdout (DEBUG LISTPACK). */
void lpRepr(unsigned char *lp);

#endif
