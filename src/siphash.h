/* siphash.h - SipHash-1-2 with a 128-bit key and 64-bit output, used to hash keys.
 * siphash_nocase hashes as if every ASCII letter of the input were lower-case, so
 * strings equal under strcasecmp hash alike. */
#ifndef SIPHASH_H
#define SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash(const uint8_t *in, const size_t inlen, const uint8_t *k);
uint64_t siphash_nocase(const uint8_t *in, const size_t inlen, const uint8_t *k);
/* The standard SipHash-2-4 (stronger, slower); used to derive random bytes. */
uint64_t siphash24(const uint8_t *in, const size_t inlen, const uint8_t *k);

#endif
