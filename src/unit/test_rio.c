/* test_rio.c -- rio's read-ahead window (rioSetReadBuffer) against plain reads of the
 * same file: random read sizes (empty, small, across blocks, longer than a block), the
 * bytes, rioTell, rioRemaining and the checksum at every step; in-place reads; end of
 * file (and the error staying set); the progress hook; handing unconsumed bytes back to
 * the FILE; and the targets that have no window. rio.c is compiled in, as object.c is
 * in test_object.c, since it is not part of the data-structure layer. */
#define _GNU_SOURCE /* rio.c's sync_file_range, before any header */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../rio.c"

#define FILE_BYTES (300 * 1000)
#define SMALL_WINDOW 4096

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned char *content;
static char path[64];

static int setup(void **state) {
    (void)state;
    content = malloc(FILE_BYTES);
    for (size_t i = 0; i < FILE_BYTES; i++) content[i] = (unsigned char)rnd();
    snprintf(path, sizeof(path), "/tmp/rio-test-%d.dat", (int)getpid());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(content, 1, FILE_BYTES, fp), FILE_BYTES);
    fclose(fp);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    unlink(path);
    free(content);
    return 0;
}

static size_t last_progress;
static int progress_backwards;
static void recordProgress(rio *r, size_t processed) {
    (void)r;
    if (processed < last_progress) progress_backwards = 1;
    last_progress = processed;
}

static size_t randomReadSize(void) {
    switch (rnd() % 8) {
    case 0: return 0;
    case 1: return SMALL_WINDOW + rnd() % (3 * SMALL_WINDOW); /* longer than the window */
    case 2: return 1 + rnd() % SMALL_WINDOW;
    default: return 1 + rnd() % 16; /* the common case: a length byte, a short field */
    }
}

static void test_window_matches_file(void **state) {
    (void)state;
    FILE *fp = fopen(path, "r");
    rio r;
    rioInitWithFile(&r, fp);
    assert_true(rioSetReadBuffer(&r, SMALL_WINDOW));
    assert_false(rioSetReadBuffer(&r, SMALL_WINDOW)); /* once */
    r.update_cksum = rioGenericUpdateChecksum;
    r.progress = recordProgress;
    last_progress = 0;
    progress_backwards = 0;
    unsigned char *buf = malloc(4 * SMALL_WINDOW);
    size_t pos = 0;
    while (pos < FILE_BYTES) {
        size_t len = randomReadSize();
        if (len > FILE_BYTES - pos) len = FILE_BYTES - pos;
        if (rnd() % 4 == 0) {
            const unsigned char *p = rioReadInPlace(&r, len);
            if (p) {
                assert_memory_equal(p, content + pos, len);
                pos += len;
                continue;
            }
        }
        assert_int_equal(rioRead(&r, buf, len), 1);
        if (len) assert_memory_equal(buf, content + pos, len);
        pos += len;
        assert_int_equal(r.processed_bytes, pos);
        assert_int_equal(rioTell(&r), (off_t)pos);
        assert_int_equal(rioRemaining(&r), (off_t)(FILE_BYTES - pos));
        if (rnd() % 64 == 0) assert_true(rioGetChecksum(&r) == crc64(0, content, pos));
    }
    assert_true(rioGetChecksum(&r) == crc64(0, content, FILE_BYTES));
    assert_int_equal(last_progress, FILE_BYTES);
    assert_false(progress_backwards);
    /* End of file: the read fails, and so does every later one. */
    assert_int_equal(rioRead(&r, buf, 1), 0);
    assert_true(rioGetReadError(&r));
    assert_int_equal(rioRead(&r, buf, 0), 0);
    rioReleaseReadBuffer(&r);
    assert_null(r.rbuf);
    fclose(fp);
    free(buf);
}

static void test_short_file_and_in_place(void **state) {
    (void)state;
    FILE *fp = fopen(path, "r");
    rio r;
    rioInitWithFile(&r, fp);
    assert_true(rioSetReadBuffer(&r, RIO_READ_BUFFER_SIZE)); /* bigger than the file */
    unsigned char buf[16];
    /* Nothing in the window yet: in place is refused and consumes nothing. */
    assert_null(rioReadInPlace(&r, 10));
    assert_int_equal(rioTell(&r), 0);
    assert_int_equal(rioRead(&r, buf, 10), 1);
    assert_memory_equal(buf, content, 10);
    const unsigned char *p = rioReadInPlace(&r, 1000);
    assert_non_null(p);
    assert_memory_equal(p, content + 10, 1000);
    assert_null(rioReadInPlace(&r, 0));
    assert_null(rioReadInPlace(&r, FILE_BYTES)); /* more than is left */
    assert_int_equal(rioTell(&r), 1010);
    /* A read asking for more than the file holds fails. */
    unsigned char *rest = malloc(FILE_BYTES);
    assert_int_equal(rioRead(&r, rest, FILE_BYTES - 1010 + 1), 0);
    assert_true(rioGetReadError(&r));
    free(rest);
    rioReleaseReadBuffer(&r);
    fclose(fp);
}

/* Whoever reads the FILE after the rio (the AOF tail after an RDB preamble) starts at
 * the first byte the rio did not consume. */
static void test_release_gives_bytes_back(void **state) {
    (void)state;
    FILE *fp = fopen(path, "r");
    rio r;
    rioInitWithFile(&r, fp);
    assert_true(rioSetReadBuffer(&r, SMALL_WINDOW));
    unsigned char buf[100];
    assert_int_equal(rioRead(&r, buf, 100), 1);
    rioReleaseReadBuffer(&r);
    rioReleaseReadBuffer(&r); /* harmless twice */
    assert_int_equal(ftello(fp), 100);
    assert_int_equal(fread(buf, 1, 10, fp), 10);
    assert_memory_equal(buf, content + 100, 10);
    /* Without the window the rio reads on from where the FILE is. */
    assert_int_equal(rioRead(&r, buf, 5), 1);
    assert_memory_equal(buf, content + 110, 5);
    fclose(fp);
}

static void test_targets_without_window(void **state) {
    (void)state;
    unsigned char buf[16];
    rio r;
    rioInitWithMemory(&r, content, 20);
    assert_false(rioSetReadBuffer(&r, SMALL_WINDOW));
    assert_null(rioReadInPlace(&r, 4));
    assert_int_equal(rioRead(&r, buf, 8), 1);
    assert_memory_equal(buf, content, 8);
    assert_int_equal(rioRead(&r, buf, 0), 1);
    assert_int_equal(rioRemaining(&r), 12);
    assert_int_equal(rioRead(&r, buf, 13), 0);

    rioInitWithBuffer(&r, NULL);
    assert_false(rioSetReadBuffer(&r, SMALL_WINDOW));
    assert_int_equal(rioWrite(&r, "abcdef", 6), 1);
    sdsfree(rioBufferTake(&r));

    /* A pipe is not a regular file: no read-ahead (its bytes could not be given back). */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    FILE *fp = fdopen(fds[0], "r");
    rioInitWithFile(&r, fp);
    assert_false(rioSetReadBuffer(&r, SMALL_WINDOW));
    fclose(fp);
    close(fds[1]);
}

/* Writes through a file target with a write buffer and a small incremental sync: the
 * chunks handed to the disk one after the other leave exactly the bytes written, and
 * rioTell counts them all. */
static void test_write_buffer_and_autosync(void **state) {
    (void)state;
    char wpath[80];
    snprintf(wpath, sizeof(wpath), "/tmp/rio-test-w-%d.dat", (int)getpid());
    FILE *fp = fopen(wpath, "w");
    assert_non_null(fp);
    rio r;
    rioInitWithFile(&r, fp);
    rioSetWriteBuffer(&r, RIO_WRITE_BUFFER_SIZE);
    rioSetAutoSync(&r, SMALL_WINDOW * 3);
    size_t off = 0;
    while (off < FILE_BYTES) {
        size_t n = 1 + rnd() % (2 * SMALL_WINDOW);
        if (n > FILE_BYTES - off) n = FILE_BYTES - off;
        assert_int_equal(rioWrite(&r, content + off, n), 1);
        off += n;
    }
    assert_int_equal(rioTell(&r), FILE_BYTES);
    assert_int_equal(fflush(fp), 0);
    fclose(fp);
    fp = fopen(wpath, "r");
    assert_non_null(fp);
    unsigned char *back = malloc(FILE_BYTES + 1);
    assert_int_equal(fread(back, 1, FILE_BYTES + 1, fp), FILE_BYTES);
    assert_memory_equal(back, content, FILE_BYTES);
    free(back);
    fclose(fp);
    unlink(wpath);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_matches_file),
        cmocka_unit_test(test_short_file_and_in_place),
        cmocka_unit_test(test_release_gives_bytes_back),
        cmocka_unit_test(test_targets_without_window),
        cmocka_unit_test(test_write_buffer_and_autosync),
    };
    return cmocka_run_group_tests_name("rio", tests, setup, teardown);
}
