/* test_crc.c - unit tests for CRC-64/Jones (crc64.c) and CRC-32C (crc32c.c): published
 * check values, real DUMP payloads, and the table-driven/hardware paths against a plain
 * bit-at-a-time reference over many lengths and alignments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../crc32c.h"
#include "../crc64.h"

/* Bit-at-a-time references, written straight from the definitions. */
static uint64_t refCrc64(uint64_t crc, const unsigned char *p, size_t len) {
    const uint64_t poly_reflected = 0x95ac9329ac4bc9b5ULL; /* 0xad93d23594c935a9 reversed */
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ ((crc & 1) ? poly_reflected : 0);
    }
    return crc;
}

static uint32_t refCrc32c(uint32_t crc, const unsigned char *p, size_t len) {
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78U : 0);
    }
    return ~crc;
}

static void test_crc64_check_value(void **state) {
    (void)state;
    assert_true(crc64(0, (const unsigned char *)"123456789", 9) == 0xe9c6d914c4b8d9caULL);
    assert_true(refCrc64(0, (const unsigned char *)"123456789", 9) == 0xe9c6d914c4b8d9caULL);
    assert_true(crc64(0, (const unsigned char *)"", 0) == 0);
    crc64_init(); /* harmless to call again */
}

/* Parses a hex string into bytes; returns the length. */
static size_t unhex(const char *hex, unsigned char *out) {
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n;
}

/* DUMP payloads produced by redis-server 7.0: the last 8 bytes are the little-endian
 * CRC-64 of everything before them. */
static void test_crc64_dump_payloads(void **state) {
    (void)state;
    static const char *payloads[] = {
        "000b68656c6c6f20776f726c640a000bfc49b9a6c7a034",
        "12010216160000000600816102816202816302010102010301ff0a0092f8c1523a0e16df",
    };
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        unsigned char buf[128];
        size_t n = unhex(payloads[i], buf);
        uint64_t stored = 0;
        for (int b = 7; b >= 0; b--) stored = (stored << 8) | buf[n - 8 + (size_t)b];
        assert_true(crc64(0, buf, n - 8) == stored);
        /* The CRC of a message followed by its own little-endian CRC is zero. */
        assert_true(crc64(0, buf, n) == 0);
    }
}

static void test_crc64_matches_reference(void **state) {
    (void)state;
    unsigned char *buf = malloc(4096 + 16);
    srand(42);
    for (size_t i = 0; i < 4096 + 16; i++) buf[i] = (unsigned char)rand();
    for (size_t len = 0; len <= 300; len++)
        for (size_t align = 0; align < 8; align++)
            assert_true(crc64(0, buf + align, len) == refCrc64(0, buf + align, len));
    /* Incremental: crc of a||b == crc64(crc64(a), b), at every split point. */
    uint64_t whole = crc64(0, buf, 4096);
    assert_true(whole == refCrc64(0, buf, 4096));
    for (size_t split = 0; split <= 4096; split += 37)
        assert_true(crc64(crc64(0, buf, split), buf + split, 4096 - split) == whole);
    free(buf);
}

/* The carry-less multiplication path (long inputs, when the CPU has it) against the
 * tables: every length around the lane and block boundaries, odd alignments, a running
 * register passed in. */
static void test_crc64_clmul_matches_tables(void **state) {
    (void)state;
    const char *impl = crc64Implementation();
    assert_true(strcmp(impl, "pclmul") == 0 || strcmp(impl, "software") == 0);
    size_t size = 70000;
    unsigned char *buf = malloc(size + 16);
    srand(7);
    for (size_t i = 0; i < size + 16; i++) buf[i] = (unsigned char)rand();
    for (size_t len = 100; len <= 1200; len++)
        for (size_t align = 0; align < 16; align += 5) {
            uint64_t seed = (uint64_t)len * 0x9e3779b97f4a7c15ULL;
            assert_true(crc64(seed, buf + align, len) == crc64Software(seed, buf + align, len));
        }
    assert_true(crc64(0, buf, size) == refCrc64(0, buf, size));
    assert_true(crc64(0, buf + 3, size - 3) == crc64Software(0, buf + 3, size - 3));
    free(buf);
}

static void test_crc32c_check_values(void **state) {
    (void)state;
    assert_true(crc32c(0, "123456789", 9) == 0xe3069283U);
    assert_true(crc32cSoftware(0, "123456789", 9) == 0xe3069283U);
    assert_true(crc32c(0, "", 0) == 0);

    /* iSCSI test patterns (RFC 3720, B.4). */
    unsigned char buf[32];
    memset(buf, 0, sizeof(buf));
    assert_true(crc32c(0, buf, 32) == 0x8a9136aaU);
    memset(buf, 0xff, sizeof(buf));
    assert_true(crc32c(0, buf, 32) == 0x62a8ab43U);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)i;
    assert_true(crc32c(0, buf, 32) == 0x46dd794eU);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)(31 - i);
    assert_true(crc32c(0, buf, 32) == 0x113fdb5cU);

    const char *impl = crc32cImplementation();
    assert_true(strcmp(impl, "sse4.2") == 0 || strcmp(impl, "software") == 0);
}

static void test_crc32c_matches_reference(void **state) {
    (void)state;
    unsigned char *buf = malloc(8192 + 16);
    srand(4242);
    for (size_t i = 0; i < 8192 + 16; i++) buf[i] = (unsigned char)rand();
    for (size_t len = 0; len <= 300; len++)
        for (size_t align = 0; align < 8; align++) {
            uint32_t ref = refCrc32c(0, buf + align, len);
            assert_true(crc32c(0, buf + align, len) == ref);
            assert_true(crc32cSoftware(0, buf + align, len) == ref);
        }
    uint32_t whole = crc32c(0, buf, 8192);
    assert_true(whole == refCrc32c(0, buf, 8192));
    for (size_t split = 0; split <= 8192; split += 61) {
        assert_true(crc32c(crc32c(0, buf, split), buf + split, 8192 - split) == whole);
        assert_true(crc32cSoftware(crc32c(0, buf, split), buf + split, 8192 - split) == whole);
    }
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc64_check_value),
        cmocka_unit_test(test_crc64_dump_payloads),
        cmocka_unit_test(test_crc64_matches_reference),
        cmocka_unit_test(test_crc64_clmul_matches_tables),
        cmocka_unit_test(test_crc32c_check_values),
        cmocka_unit_test(test_crc32c_matches_reference),
    };
    return cmocka_run_group_tests_name("crc", tests, NULL, NULL);
}
