/* intset.h - a sorted set of signed integers in one flat allocation.
 *
 * Byte format (identical to Valkey's, because RDB stores intset-encoded sets as this raw
 * blob):
 *
 *   uint32 encoding   bytes per element: 2, 4 or 8 (little-endian)
 *   uint32 length     number of elements (little-endian)
 *   elements          `length` signed little-endian integers of `encoding` bytes each,
 *                     strictly increasing
 *
 * The element width grows when a value does not fit (int16 -> int32 -> int64) and never
 * shrinks. Lookups are binary searches. Every call that may reallocate returns the intset
 * to use from then on; the old pointer is invalid afterwards.
 */
#ifndef INTSET_H
#define INTSET_H

#include <stddef.h>
#include <stdint.h>

/* Element widths, in bytes, as stored in the encoding field. */
#define INTSET_ENC_INT16 ((uint32_t)sizeof(int16_t))
#define INTSET_ENC_INT32 ((uint32_t)sizeof(int32_t))
#define INTSET_ENC_INT64 ((uint32_t)sizeof(int64_t))

/* Header fields are little-endian; read them through the functions below. */
typedef struct intset {
    uint32_t encoding;
    uint32_t length;
    int8_t contents[];
} intset;

intset *intsetNew(void); /* empty, int16 encoded; free with zfree() */

/* *success (if not NULL) is set to 1 when the value was added, 0 when already present. */
intset *intsetAdd(intset *is, int64_t value, uint8_t *success);
/* *success (if not NULL) is set to 1 when the value was removed, 0 when absent. */
intset *intsetRemove(intset *is, int64_t value, int *success);

uint8_t intsetFind(intset *is, int64_t value);
/* Value at a 0-based position; returns 0 (value untouched) when pos is out of range. */
uint8_t intsetGet(intset *is, uint32_t pos, int64_t *value);
uint32_t intsetLen(const intset *is);
size_t intsetBlobLen(const intset *is); /* header + elements: the bytes RDB writes */

/* The set must not be empty for these three. intsetRandom uses random(). */
int64_t intsetRandom(intset *is);
int64_t intsetMin(intset *is);
int64_t intsetMax(intset *is);

/* Fills out[] with min(count, length) distinct members chosen uniformly at random, in
 * ascending order (shuffle them if the order matters). Returns how many were written.
 * O(length): meant for SPOP/SRANDMEMBER with a count. */
uint32_t intsetRandomMembers(intset *is, uint32_t count, int64_t *out);

/* Checks an untrusted blob (e.g. from RDB or RESTORE) of `size` bytes before it is used as
 * an intset: known encoding, size == header + length * encoding, not empty. With deep set,
 * also that the elements are strictly increasing (sorted, no duplicates). Never reads
 * outside [is, is + size). Returns 1 when valid. */
int intsetValidateIntegrity(const unsigned char *is, size_t size, int deep);

#endif
