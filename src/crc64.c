/* crc64.c - CRC-64/Jones (reflected polynomial 0xad93d23594c935a9, initial value 0, no
 * final xor), the checksum at the end of RDB files and DUMP payloads.
 *
 * Slicing-by-8: eight 256-entry tables let the main loop fold in eight input bytes with
 * eight independent lookups instead of eight dependent ones. Table k maps a byte to its
 * contribution after k further zero bytes have been shifted through the register. The
 * tables (16 KiB) are built once, on first use, behind pthread_once.
 *
 * Carry-less multiplication (x86-64 with PCLMULQDQ, chosen at run time): long inputs are
 * folded 64 bytes per step into four independent 128-bit remainders, several times
 * faster than the tables. The arithmetic, in the reflected representation (bit i of a
 * 64-bit word is the coefficient of x^(63-i), so the first byte of a 16-byte load holds
 * the highest powers): a 128-bit accumulator V = H*x^64 + L (H the low quadword) that is
 * followed by D more message bits contributes V*x^D = H*x^(D+64) + L*x^D, which is
 * congruent (mod the polynomial P) to H*(x^(D+64) mod P) + L*(x^D mod P), a value of at
 * most 128 bits again. A reflected carry-less product of two 64-bit words is x*A*B, so
 * the constants are x^(D+63) mod P and x^(D-1) mod P. The register of a running CRC is
 * XORed into the first 8 message bytes (which is what feeding it through the tables
 * does). What is left at the end, the 16 bytes of the accumulator and the input's last
 * few bytes, is a message with the same CRC, which the tables finish from register 0.
 * The constants are computed with the table's own shift-and-reduce step at set-up.
 */
#include "crc64.h"

#include <pthread.h>
#include <string.h>

#define CRC64_POLY 0xad93d23594c935a9ULL
#define CRC64_SLICES 8

static uint64_t crc64_table[CRC64_SLICES][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;
static int crc64_use_clmul;

#define CLMUL_LANES 4
#define CLMUL_BLOCK 16 /* bytes in one 128-bit accumulator */
#define CLMUL_STRIDE (CLMUL_LANES * CLMUL_BLOCK)
#define CLMUL_MIN_LEN 128 /* below this the tables are as fast */
#define BITS_PER_BYTE 8
#define QWORD_BITS 64

/* Fold constants: {x^(D+63) mod P, x^(D-1) mod P} for D = 128 (one block) and for
 * D = 512 (the four lanes). */
static uint64_t fold_one[2], fold_lanes[2];

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

/* x^n mod P, reflected: multiplying by x is the tables' shift-and-reduce step. */
static uint64_t xPowModP(unsigned n, uint64_t poly_reflected) {
    uint64_t r = 1ULL << 63; /* x^0 */
    while (n--) r = (r & 1) ? (r >> 1) ^ poly_reflected : r >> 1;
    return r;
}

static void crc64Setup(void) {
    crc64BuildTables();
    uint64_t poly = reverseBits64(CRC64_POLY);
    const unsigned one = CLMUL_BLOCK * BITS_PER_BYTE, lanes = CLMUL_STRIDE * BITS_PER_BYTE;
    fold_one[0] = xPowModP(one + QWORD_BITS - 1, poly);
    fold_one[1] = xPowModP(one - 1, poly);
    fold_lanes[0] = xPowModP(lanes + QWORD_BITS - 1, poly);
    fold_lanes[1] = xPowModP(lanes - 1, poly);
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc64_use_clmul = __builtin_cpu_supports("pclmul");
#endif
}

void crc64_init(void) {
    pthread_once(&crc64_once, crc64Setup);
}

static inline uint64_t crc64Byte(uint64_t crc, unsigned char b) {
    return crc64_table[0][(crc ^ b) & 0xff] ^ (crc >> 8);
}

static uint64_t crc64Tables(uint64_t crc, const unsigned char *s, uint64_t l) {
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

#if defined(__x86_64__)
#include <immintrin.h>

#define CLMUL_TARGET __attribute__((target("pclmul")))

/* v * x^D reduced to 128 bits, k holding the two constants for D. */
CLMUL_TARGET static inline __m128i fold(__m128i v, __m128i k) {
    return _mm_xor_si128(_mm_clmulepi64_si128(v, k, 0x00), _mm_clmulepi64_si128(v, k, 0x11));
}

CLMUL_TARGET static inline __m128i load(const unsigned char *p) {
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* l >= CLMUL_STRIDE. */
CLMUL_TARGET static uint64_t crc64Clmul(uint64_t crc, const unsigned char *s, uint64_t l) {
    __m128i k_lanes = _mm_set_epi64x((long long)fold_lanes[1], (long long)fold_lanes[0]);
    __m128i k_one = _mm_set_epi64x((long long)fold_one[1], (long long)fold_one[0]);
    __m128i v[CLMUL_LANES];
    for (int i = 0; i < CLMUL_LANES; i++) v[i] = load(s + i * CLMUL_BLOCK);
    v[0] = _mm_xor_si128(v[0], _mm_cvtsi64_si128((long long)crc));
    s += CLMUL_STRIDE;
    l -= CLMUL_STRIDE;
    while (l >= CLMUL_STRIDE) {
        for (int i = 0; i < CLMUL_LANES; i++) v[i] = _mm_xor_si128(fold(v[i], k_lanes), load(s + i * CLMUL_BLOCK));
        s += CLMUL_STRIDE;
        l -= CLMUL_STRIDE;
    }
    __m128i acc = v[0];
    for (int i = 1; i < CLMUL_LANES; i++) acc = _mm_xor_si128(fold(acc, k_one), v[i]);
    while (l >= CLMUL_BLOCK) {
        acc = _mm_xor_si128(fold(acc, k_one), load(s));
        s += CLMUL_BLOCK;
        l -= CLMUL_BLOCK;
    }
    unsigned char rest[CLMUL_BLOCK];
    _mm_storeu_si128((__m128i *)(void *)rest, acc);
    return crc64Tables(crc64Tables(0, rest, sizeof(rest)), s, l);
}
#endif

uint64_t crc64(uint64_t crc, const unsigned char *s, uint64_t l) {
    crc64_init();
#if defined(__x86_64__)
    if (crc64_use_clmul && l >= CLMUL_MIN_LEN) return crc64Clmul(crc, s, l);
#endif
    return crc64Tables(crc, s, l);
}

uint64_t crc64Software(uint64_t crc, const unsigned char *s, uint64_t l) {
    crc64_init();
    return crc64Tables(crc, s, l);
}

const char *crc64Implementation(void) {
    crc64_init();
    return crc64_use_clmul ? "pclmul" : "software";
}
