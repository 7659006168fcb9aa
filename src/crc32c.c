/* crc32c.c - CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum of
 * flash records.
 *
 * Two implementations with identical results: the SSE4.2 crc32 instruction, chosen at
 * run time when the CPU has it, and portable slicing-by-8 tables (eight 256-entry
 * tables, table k giving a byte's contribution after k more bytes have gone through
 * the register, so eight bytes are folded with independent lookups). The choice and the
 * tables are set up once behind pthread_once.
 *
 * The public value is the standard one (register preset to all ones and inverted at the
 * end); inverting on entry as well lets a previous result be passed back in to extend a
 * checksum over more data.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define CRC32C_POLY 0x82f63b78U
#define CRC32C_SLICES 8

static uint32_t crc32c_table[CRC32C_SLICES][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;
static int crc32c_use_hw;

static void crc32cBuildTables(void) {
    for (int b = 0; b < 256; b++) {
        uint32_t c = (uint32_t)b;
        for (int bit = 0; bit < 8; bit++) c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        crc32c_table[0][b] = c;
    }
    for (int k = 1; k < CRC32C_SLICES; k++)
        for (int b = 0; b < 256; b++) {
            uint32_t prev = crc32c_table[k - 1][b];
            crc32c_table[k][b] = (prev >> 8) ^ crc32c_table[0][prev & 0xff];
        }
}

static void crc32cSetup(void) {
    crc32cBuildTables();
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc32c_use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

/* Raw register update (no inversions), software. */
static uint32_t crc32cSoft(uint32_t crc, const unsigned char *p, size_t len) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (len >= CRC32C_SLICES) {
        uint32_t lo;
        memcpy(&lo, p, sizeof(lo));
        lo ^= crc;
        crc = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
              crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
              crc32c_table[3][p[4]] ^ crc32c_table[2][p[5]] ^ crc32c_table[1][p[6]] ^
              crc32c_table[0][p[7]];
        p += CRC32C_SLICES;
        len -= CRC32C_SLICES;
    }
#endif
    while (len--) crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
/* Raw register update (no inversions), SSE4.2 crc32 instruction. */
__attribute__((target("sse4.2"))) static uint32_t crc32cHw(uint32_t crc, const unsigned char *p,
                                                          size_t len) {
    uint64_t c = crc;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof(w));
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t crc32c(uint32_t crc, const void *buf, size_t len) {
    pthread_once(&crc32c_once, crc32cSetup);
    const unsigned char *p = buf;
    crc = ~crc;
#if defined(__x86_64__)
    if (crc32c_use_hw) return ~crc32cHw(crc, p, len);
#endif
    return ~crc32cSoft(crc, p, len);
}

/* For tests and benchmarks: force the software path. */
uint32_t crc32cSoftware(uint32_t crc, const void *buf, size_t len) {
    pthread_once(&crc32c_once, crc32cSetup);
    return ~crc32cSoft(~crc, buf, len);
}

const char *crc32cImplementation(void) {
    pthread_once(&crc32c_once, crc32cSetup);
    return crc32c_use_hw ? "sse4.2" : "software";
}
