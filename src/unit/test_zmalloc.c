/* test_zmalloc.c -- used_memory must move by exactly the usable size of each block,
 * through malloc, calloc, realloc and free, also with several threads at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../zmalloc.h"

/* Let the failing-allocation tests see NULL instead of an ASan report. */
const char *__asan_default_options(void) __attribute__((used));
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1";
}

#define HUGE_SIZE (SIZE_MAX / 2)

static void test_malloc_free_exact(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    void *p = zmalloc(100);
    assert_non_null(p);
    size_t usable = zmalloc_usable_size(p);
    assert_true(usable >= 100);
    assert_int_equal(zmalloc_used_memory() - base, usable);
    memset(p, 0xab, usable); /* the whole usable size is ours to use */
    zfree(p);
    assert_int_equal(zmalloc_used_memory(), base);
    zfree(NULL);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_many_sizes(void **state) {
    (void)state;
    enum { N = 300 };
    void *blocks[N];
    size_t base = zmalloc_used_memory(), sum = 0;
    for (int i = 0; i < N; i++) {
        blocks[i] = zmalloc((size_t)i * 37);
        sum += zmalloc_usable_size(blocks[i]);
        assert_int_equal(zmalloc_used_memory() - base, sum);
    }
    for (int i = 0; i < N; i++) zfree(blocks[i]);
    assert_int_equal(zmalloc_used_memory(), base);
}

/* The accounted size of a new block (with jemalloc, computed from the size asked for) is
 * its usable size, in the small, large and huge size classes alike, for every way a block
 * is made; frees give back exactly as much. */
static void test_large_sizes(void **state) {
    (void)state;
    enum { MIN_SHIFT = 12, MAX_SHIFT = 24, KINDS = 3 };
    void *blocks[(MAX_SHIFT - MIN_SHIFT) * KINDS];
    size_t base = zmalloc_used_memory(), sum = 0;
    int n = 0;
    for (int shift = MIN_SHIFT; shift < MAX_SHIFT; shift++) {
        size_t size = ((size_t)1 << shift) + (size_t)shift * 7;
        size_t usable[KINDS];
        blocks[n] = zmalloc_usable(size, &usable[0]);
        blocks[n + 1] = zcalloc_usable(size - 1, &usable[1]);
        blocks[n + 2] = zrealloc_usable(zmalloc(16), size + 1, &usable[2]);
        for (int k = 0; k < KINDS; k++) {
            assert_int_equal(usable[k], zmalloc_usable_size(blocks[n + k]));
            sum += usable[k];
        }
        n += KINDS;
        assert_int_equal(zmalloc_used_memory() - base, sum);
    }
    for (int i = 0; i < n; i++) zfree(blocks[i]);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_calloc_zeroed(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    unsigned char *p = zcalloc(4096);
    size_t usable = zmalloc_usable_size(p);
    assert_int_equal(zmalloc_used_memory() - base, usable);
    for (int i = 0; i < 4096; i++) assert_int_equal(p[i], 0);
    zfree(p);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_usable_variants(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    size_t usable = 0;
    void *p = zmalloc_usable(33, &usable);
    assert_int_equal(usable, zmalloc_usable_size(p));
    assert_int_equal(zmalloc_used_memory() - base, usable);
    p = zrealloc_usable(p, 5000, &usable);
    assert_int_equal(usable, zmalloc_usable_size(p));
    assert_int_equal(zmalloc_used_memory() - base, usable);
    size_t freed = 0;
    zfree_usable(p, &freed);
    assert_int_equal(freed, usable);
    assert_int_equal(zmalloc_used_memory(), base);
    p = zcalloc_usable(10, &usable);
    assert_int_equal(zmalloc_used_memory() - base, usable);
    zfree(p);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_zrealloc(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    char *p = zrealloc(NULL, 10); /* acts as zmalloc */
    assert_int_equal(zmalloc_used_memory() - base, zmalloc_usable_size(p));
    memcpy(p, "0123456789", 10);

    p = zrealloc(p, 100000);
    assert_memory_equal(p, "0123456789", 10);
    assert_int_equal(zmalloc_used_memory() - base, zmalloc_usable_size(p));

    p = zrealloc(p, 20);
    assert_memory_equal(p, "0123456789", 10);
    assert_int_equal(zmalloc_used_memory() - base, zmalloc_usable_size(p));

    p = zrealloc(p, 0); /* acts as zfree */
    assert_null(p);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_zstrdup(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    char *s = zstrdup("hello world");
    assert_string_equal(s, "hello world");
    assert_int_equal(zmalloc_used_memory() - base, zmalloc_usable_size(s));
    zfree(s);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_try_failures(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    assert_null(ztrymalloc(HUGE_SIZE));
    assert_null(ztrycalloc(HUGE_SIZE));
    assert_int_equal(zmalloc_used_memory(), base);

    char *p = ztrymalloc(16);
    assert_non_null(p);
    memcpy(p, "keep", 5);
    size_t before = zmalloc_used_memory();
    assert_null(ztryrealloc(p, HUGE_SIZE));
    /* A failed realloc leaves the block and its accounting untouched. */
    assert_int_equal(zmalloc_used_memory(), before);
    assert_string_equal(p, "keep");
    zfree(p);
    assert_int_equal(zmalloc_used_memory(), base);
}

static size_t oom_requested;
static void recordingOomHandler(size_t size) {
    oom_requested = size;
}

static void test_oom_handler(void **state) {
    (void)state;
    zmalloc_set_oom_handler(recordingOomHandler);
    oom_requested = 0;
    assert_null(zmalloc(HUGE_SIZE));
    assert_int_equal(oom_requested, HUGE_SIZE);
    oom_requested = 0;
    assert_null(zcalloc(HUGE_SIZE));
    assert_int_equal(oom_requested, HUGE_SIZE);
    zmalloc_set_oom_handler(NULL);
}

enum { THREAD_ROUNDS = 20000, THREADS = 4 };

static void *churn(void *arg) {
    (void)arg;
    void *keep[8] = {0};
    for (int i = 0; i < THREAD_ROUNDS; i++) {
        int slot = i % 8;
        zfree(keep[slot]);
        keep[slot] = zmalloc((size_t)(i % 500) + 1);
    }
    for (int i = 0; i < 8; i++) zfree(keep[i]);
    return NULL;
}

static void test_threads_balance(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, churn, NULL);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_process_stats(void **state) {
    (void)state;
    assert_true(zmalloc_get_rss() > 0);
    assert_true(zmalloc_get_memory_size() > 0);
    /* Touch memory so at least one page is privately dirty. */
    char *p = zmalloc(1 << 20);
    memset(p, 1, 1 << 20);
    assert_true(zmalloc_get_private_dirty(-1) > 0);
    assert_true(zmalloc_get_smap_bytes_by_field("Rss:", -1) > 0);
    assert_int_equal(zmalloc_get_smap_bytes_by_field("NoSuchField:", -1), 0);
    zfree(p);
}

static void test_allocator_info(void **state) {
    (void)state;
    size_t allocated, active, resident, retained, muzzy, frag;
    int have = zmalloc_get_allocator_info(&allocated, &active, &resident, &retained, &muzzy,
                                          &frag);
#if defined(USE_JEMALLOC)
    assert_int_equal(have, 1);
    assert_true(allocated > 0);
    assert_true(active >= allocated);
    assert_true(resident >= active);
    assert_int_equal(strncmp(ZMALLOC_LIB, "jemalloc-", 9), 0);
    assert_int_equal(jemalloc_purge(), 0);
    set_jemalloc_bg_thread(0);
#else
    assert_int_equal(have, 0);
    assert_int_equal(allocated + active + resident + retained + muzzy + frag, 0);
    assert_string_equal(ZMALLOC_LIB, "libc");
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malloc_free_exact), cmocka_unit_test(test_many_sizes), cmocka_unit_test(test_large_sizes),
        cmocka_unit_test(test_calloc_zeroed),     cmocka_unit_test(test_usable_variants),
        cmocka_unit_test(test_zrealloc),           cmocka_unit_test(test_zstrdup),
        cmocka_unit_test(test_try_failures),      cmocka_unit_test(test_oom_handler),
        cmocka_unit_test(test_threads_balance),   cmocka_unit_test(test_process_stats),
        cmocka_unit_test(test_allocator_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
