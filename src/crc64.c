/* crc64.c - CRC-64/Jones (reflected polynomial 0xad93d23594c935a9, initial value 0, no
 * final xor), the checksum at the end of RDB files and DUMP payloads.
 *
 * Slicing-by-8: eight 256-entry tables let the main loop fold in eight input bytes with
 * eight independent lookups instead of eight dependent ones. Table k maps a byte to its
 * contribution after k further zero bytes have been shifted through the register. The
 * tables (16 KiB) are built once, on first use, behind pthread_once.
 */
#include "crc64.h"

#include <pthread.h>
#include <string.h>

#define CRC64_POLY 0xad93d23594c935a9ULL
#define CRC64_SLICES 8

static uint64_t crc64_table[CRC64_SLICES][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

/* The reflected algorithm shifts right, so it needs the polynomial bit-reversed. */
static uint64_t reverseBits64(uint64_t v) {
    uint64_t r = 0;
    for (int i = 0; i < 64; i++) {
        r = (r << 1) | (v & 1);
        v >>= 1;
    }
    return r;
}

static void crc64BuildTables(void) {
    uint64_t poly = reverseBits64(CRC64_POLY);
    for (int b = 0; b < 256; b++) {
        uint64_t c = (uint64_t)b;
        for (int bit = 0; bit < 8; bit++) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        crc64_table[0][b] = c;
    }
    for (int k = 1; k < CRC64_SLICES; k++)
        for (int b = 0; b < 256; b++) {
            uint64_t prev = crc64_table[k - 1][b];
            crc64_table[k][b] = (prev >> 8) ^ crc64_table[0][prev & 0xff];
        }
}

void crc64_init(void) {
    pthread_once(&crc64_once, crc64BuildTables);
}

static inline uint64_t crc64Byte(uint64_t crc, unsigned char b) {
    return crc64_table[0][(crc ^ b) & 0xff] ^ (crc >> 8);
}

uint64_t crc64(uint64_t crc, const unsigned char *s, uint64_t l) {
    crc64_init();
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (l >= CRC64_SLICES) {
        uint64_t w;
        memcpy(&w, s, sizeof(w));
        crc ^= w;
        crc = crc64_table[7][crc & 0xff] ^ crc64_table[6][(crc >> 8) & 0xff] ^
              crc64_table[5][(crc >> 16) & 0xff] ^ crc64_table[4][(crc >> 24) & 0xff] ^
              crc64_table[3][(crc >> 32) & 0xff] ^ crc64_table[2][(crc >> 40) & 0xff] ^
              crc64_table[1][(crc >> 48) & 0xff] ^ crc64_table[0][crc >> 56];
        s += CRC64_SLICES;
        l -= CRC64_SLICES;
    }
#endif
    while (l--) crc = crc64Byte(crc, *s++);
    return crc;
}
