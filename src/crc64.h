/* crc64.h - CRC-64/Jones, the checksum trailing RDB files and DUMP payloads.
 * Reflected, polynomial 0xad93d23594c935a9, initial value 0, no final xor. */
#ifndef CRC64_H
#define CRC64_H

#include <stddef.h>
#include <stdint.h>

void crc64_init(void); /* optional: tables are built on first use anyway */
uint64_t crc64(uint64_t crc, const unsigned char *s, uint64_t l);
/* The same with the portable tables only (tests compare the two). */
uint64_t crc64Software(uint64_t crc, const unsigned char *s, uint64_t l);
const char *crc64Implementation(void); /* "pclmul" or "software" */

#endif
