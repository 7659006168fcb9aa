/* crc32c.h - CRC-32C (Castagnoli), used to checksum flash records.
 * Reflected, polynomial 0x82f63b78, initial ~0 and final xor ~0 (standard CRC-32C):
 * crc32c(0, "123456789", 9) == 0xe3069283. Pass the previous result as crc to continue a
 * checksum over several buffers. */
#ifndef CRC32C_H
#define CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* Same result, always through the portable tables (tests compare the two paths). */
uint32_t crc32cSoftware(uint32_t crc, const void *buf, size_t len);
/* Name of the implementation in use: "sse4.2" or "software" (for INFO). */
const char *crc32cImplementation(void);

#endif
