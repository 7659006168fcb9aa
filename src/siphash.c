/* siphash.c - SipHash (Aumasson and Bernstein), a keyed 64-bit PRF.
 *
 * Keys of the keyspace are hashed with SipHash-1-2 (one compression round per 8-byte
 * word, two finalization rounds): much faster than the standard 2-4 and still keyed,
 * so a client cannot craft colliding keys without knowing the random seed. The 2-4
 * variant is exported too for uses that want the full-strength function.
 *
 * Input words are read little-endian whatever the host byte order, so a given key and
 * input always give the same hash.
 */
#include "siphash.h"

#include <string.h>

#define SIP_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

/* The four state words, kept together so the round can be a function. */
typedef struct {
    uint64_t v0, v1, v2, v3;
} sipState;

static inline void sipRound(sipState *s) {
    s->v0 += s->v1;
    s->v1 = SIP_ROTL(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = SIP_ROTL(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = SIP_ROTL(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = SIP_ROTL(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = SIP_ROTL(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = SIP_ROTL(s->v2, 32);
}

static inline uint64_t sipLoad64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* ASCII-only lower-casing: locale-independent, so hashes never depend on setlocale. */
static inline uint8_t sipLower(uint8_t c) {
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

static inline uint64_t sipLoad64Lower(const uint8_t *p) {
    uint8_t tmp[8];
    for (int i = 0; i < 8; i++) tmp[i] = sipLower(p[i]);
    return sipLoad64(tmp);
}

static inline void sipAbsorb(sipState *s, uint64_t m, int crounds) {
    s->v3 ^= m;
    for (int i = 0; i < crounds; i++) sipRound(s);
    s->v0 ^= m;
}

/* One body for all variants; the constant arguments let the compiler specialise it. */
static inline __attribute__((always_inline)) uint64_t
sipHashGeneric(const uint8_t *in, size_t inlen, const uint8_t *k, int crounds, int drounds,
               int nocase) {
    uint64_t k0 = sipLoad64(k), k1 = sipLoad64(k + 8);
    /* Initialisation constants from the SipHash paper ("somepseudorandomlygeneratedbytes"). */
    sipState s = {
        k0 ^ 0x736f6d6570736575ULL,
        k1 ^ 0x646f72616e646f6dULL,
        k0 ^ 0x6c7967656e657261ULL,
        k1 ^ 0x7465646279746573ULL,
    };
    size_t whole = inlen & ~(size_t)7;
    for (size_t off = 0; off < whole; off += 8)
        sipAbsorb(&s, nocase ? sipLoad64Lower(in + off) : sipLoad64(in + off), crounds);

    /* Last word: remaining bytes, with the input length in the top byte. */
    uint64_t last = (uint64_t)inlen << 56;
    for (size_t i = 0; i < (inlen & 7); i++) {
        uint8_t c = in[whole + i];
        last |= (uint64_t)(nocase ? sipLower(c) : c) << (8 * i);
    }
    sipAbsorb(&s, last, crounds);

    s.v2 ^= 0xff;
    for (int i = 0; i < drounds; i++) sipRound(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash(const uint8_t *in, const size_t inlen, const uint8_t *k) {
    return sipHashGeneric(in, inlen, k, 1, 2, 0);
}

uint64_t siphash_nocase(const uint8_t *in, const size_t inlen, const uint8_t *k) {
    return sipHashGeneric(in, inlen, k, 1, 2, 1);
}

uint64_t siphash24(const uint8_t *in, const size_t inlen, const uint8_t *k) {
    return sipHashGeneric(in, inlen, k, 2, 4, 0);
}
