/* Unit tests of hashtable.c: correctness at scale, the two-phase operations, iterator
 * safety, the SCAN guarantee under resizes, random sampling and memory per entry. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../hashtable.h"
#include "../zmalloc.h"

#define BIG 1000000
#define MEDIUM 100000

/* Entries of the plain tests are pointers into this array; the entry is its own key and
 * keys compare by value. */
static uint64_t *values;
static size_t values_len;

static uint64_t hashU64(const void *key) { return hashtableGenHashFunction(key, sizeof(uint64_t)); }
static int compareU64(const void *a, const void *b) {
    return *(const uint64_t *)a != *(const uint64_t *)b;
}

static size_t destroyed;
static void countDestroyed(void *entry) {
    (void)entry;
    destroyed++;
}

static int veto_resize;
static int resizeVeto(size_t more_mem, double fill) {
    (void)more_mem;
    (void)fill;
    return !veto_resize;
}

static int rehash_started, rehash_completed;
static void onRehashStarted(hashtable *ht) {
    (void)ht;
    rehash_started++;
}
static void onRehashCompleted(hashtable *ht) {
    (void)ht;
    rehash_completed++;
}

static hashtableType u64_type = {
    .hashFunction = hashU64,
    .keyCompare = compareU64,
    .entryDestructor = countDestroyed,
    .resizeAllowed = resizeVeto,
    .rehashingStarted = onRehashStarted,
    .rehashingCompleted = onRehashCompleted,
};

static uint64_t *value(size_t i) {
    assert_true(i < values_len);
    return &values[i];
}

static int setup(void **state) {
    (void)state;
    uint8_t seed[16];
    for (int i = 0; i < 16; i++) seed[i] = (uint8_t)(i * 37 + 11);
    hashtableSetHashFunctionSeed(seed);
    values_len = 2 * BIG + 1000;
    values = malloc(values_len * sizeof(uint64_t));
    for (size_t i = 0; i < values_len; i++) values[i] = i;
    srandom(1234);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    free(values);
    return 0;
}

static void resetCounters(void) {
    destroyed = 0;
    veto_resize = 0;
    rehash_started = rehash_completed = 0;
}

static void finishRehashing(hashtable *ht) {
    while (hashtableIsRehashing(ht)) hashtableRehashMicroseconds(ht, 100000);
}

static double bytesPerEntry(hashtable *ht) {
    return (double)hashtableMemUsage(ht) / (double)hashtableSize(ht);
}

/* --- basic operations at scale -------------------------------------------------------- */

static void test_add_find_delete_at_scale(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    void *found;
    assert_int_equal(hashtableFind(ht, value(1), &found), 0);
    for (size_t i = 0; i < BIG; i++) assert_int_equal(hashtableAdd(ht, value(i)), 1);
    assert_int_equal(hashtableSize(ht), BIG);
    for (size_t i = 0; i < BIG; i++) {
        assert_int_equal(hashtableFind(ht, value(i), &found), 1);
        assert_ptr_equal(found, value(i));
    }
    uint64_t copy = 12345; /* another pointer, same key */
    assert_int_equal(hashtableFind(ht, &copy, &found), 1);
    assert_ptr_equal(found, value(12345));
    for (size_t i = BIG; i < BIG + 1000; i++) assert_int_equal(hashtableFind(ht, value(i), NULL), 0);
    assert_int_equal(hashtableAdd(ht, &copy), 0);
    assert_int_equal(hashtableAddOrFind(ht, &copy, &found), 0);
    assert_ptr_equal(found, value(12345));
    assert_int_equal(hashtableSize(ht), BIG);

    for (size_t i = 0; i < BIG; i += 2) assert_int_equal(hashtableDelete(ht, value(i)), 1);
    assert_int_equal(destroyed, BIG / 2);
    assert_int_equal(hashtableSize(ht), BIG / 2);
    assert_int_equal(hashtableDelete(ht, value(0)), 0);
    for (size_t i = 0; i < BIG; i++) assert_int_equal(hashtableFind(ht, value(i), NULL), (int)(i & 1));
    for (size_t i = 1; i < BIG; i += 2) {
        void *popped;
        assert_int_equal(hashtablePop(ht, value(i), &popped), 1);
        assert_ptr_equal(popped, value(i));
    }
    assert_int_equal(destroyed, BIG / 2); /* Pop does not destroy */
    assert_int_equal(hashtableSize(ht), 0);
    finishRehashing(ht);
    assert_true(hashtableBuckets(ht) <= 1);
    assert_int_equal(rehash_started, rehash_completed);
    hashtableRelease(ht);
}

/* Prints bytes per entry at a few sizes and asserts the 1M target. */
static void test_memory_per_entry(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    size_t checkpoints[] = {1000, 10000, 100000, 500000, BIG, 1500000, 2 * BIG};
    size_t next = 0, n = 0;
    for (size_t c = 0; c < sizeof(checkpoints) / sizeof(checkpoints[0]); c++) {
        for (; n < checkpoints[c]; n++) hashtableAdd(ht, value(n));
        finishRehashing(ht);
        printf("    %8zu entries: %6.2f bytes/entry, %zu buckets\n", n, bytesPerEntry(ht),
               hashtableBuckets(ht));
        if (n == BIG) {
            char stats[2048];
            hashtableGetStats(stats, sizeof(stats), ht, 1);
            printf("%s", stats);
            assert_true(bytesPerEntry(ht) < 16.0);
        }
        next++;
    }
    assert_int_equal(next, 7);
    hashtableRelease(ht);
}

/* hashtableMemUsage agrees with what the allocator counted. */
static void test_memory_usage_matches_allocator(void **state) {
    (void)state;
    resetCounters();
    size_t before = zmalloc_used_memory();
    hashtable *ht = hashtableCreate(&u64_type);
    for (size_t i = 0; i < MEDIUM; i++) hashtableAdd(ht, value(i));
    size_t counted = zmalloc_used_memory() - before, reported = hashtableMemUsage(ht);
    printf("    allocator %zu bytes, hashtableMemUsage %zu bytes\n", counted, reported);
    assert_true(counted >= reported);
    assert_true(counted <= reported + reported / 8 + 1024);

    /* Deleting everything with shrinking paused frees every child bucket. */
    hashtablePauseAutoShrink(ht);
    finishRehashing(ht);
    for (size_t i = 0; i < MEDIUM; i++) hashtableDelete(ht, value(i));
    assert_true(hashtableMemUsage(ht) - hashtableBuckets(ht) * 64 < 256);
    hashtableResumeAutoShrink(ht);
    finishRehashing(ht);
    assert_true(hashtableMemUsage(ht) < 512);
    hashtableRelease(ht);
    assert_int_equal(zmalloc_used_memory(), before);
}

/* --- two-phase operations ------------------------------------------------------------- */

static void test_two_phase_insert(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    hashtablePosition pos;
    void *existing = NULL;
    for (size_t i = 0; i < MEDIUM; i++) {
        assert_int_equal(hashtableFindPositionForInsert(ht, value(i), &pos, &existing), 1);
        assert_true(hashtableIsRehashingPaused(ht));
        hashtableInsertAtPosition(ht, value(i), &pos);
        assert_false(hashtableIsRehashingPaused(ht));
    }
    assert_int_equal(hashtableSize(ht), MEDIUM);
    for (size_t i = 0; i < MEDIUM; i++) {
        uint64_t key = i;
        assert_int_equal(hashtableFindPositionForInsert(ht, &key, &pos, &existing), 0);
        assert_ptr_equal(existing, value(i));
        assert_false(hashtableIsRehashingPaused(ht));
    }
    hashtableRelease(ht);
}

static void test_two_phase_pop(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    for (size_t i = 0; i < MEDIUM; i++) hashtableAdd(ht, value(i));
    hashtablePosition pos;
    uint64_t missing = MEDIUM + 5;
    assert_null(hashtableTwoPhasePopFindRef(ht, &missing, &pos));
    assert_false(hashtableIsRehashingPaused(ht));
    for (size_t i = 0; i < MEDIUM; i++) {
        void **ref = hashtableTwoPhasePopFindRef(ht, value(i), &pos);
        assert_non_null(ref);
        assert_ptr_equal(*ref, value(i));
        assert_true(hashtableIsRehashingPaused(ht));
        hashtableTwoPhasePopDelete(ht, &pos);
        assert_false(hashtableIsRehashingPaused(ht));
        assert_int_equal(hashtableFind(ht, value(i), NULL), 0);
        assert_int_equal(hashtableSize(ht), MEDIUM - i - 1);
    }
    assert_int_equal(destroyed, 0);
    hashtableRelease(ht);
}

/* --- entries with an embedded key ----------------------------------------------------- */

typedef struct {
    uint64_t key;
    char payload[24];
} item;

static const void *itemKey(const void *entry) { return &((const item *)entry)->key; }
static void itemFree(void *entry) { zfree(entry); }

static hashtableType item_type = {
    .hashFunction = hashU64,
    .entryGetKey = itemKey,
    .keyCompare = compareU64,
    .entryDestructor = itemFree,
};

static void test_replace_reallocated_entry_and_find_ref(void **state) {
    (void)state;
    hashtable *ht = hashtableCreate(&item_type);
    item **items = malloc(MEDIUM * sizeof(item *));
    for (size_t i = 0; i < MEDIUM; i++) {
        items[i] = zmalloc(sizeof(item));
        items[i]->key = i;
        snprintf(items[i]->payload, sizeof(items[i]->payload), "v%zu", i);
        assert_int_equal(hashtableAdd(ht, items[i]), 1);
    }
    for (size_t i = 0; i < MEDIUM; i += 3) {
        item *moved = zmalloc(sizeof(item));
        memcpy(moved, items[i], sizeof(item));
        zfree(items[i]); /* the old pointer is dangling from here on */
        assert_int_equal(hashtableReplaceReallocatedEntry(ht, items[i], moved), 1);
        items[i] = moved;
    }
    item stranger = {.key = 7};
    assert_int_equal(hashtableReplaceReallocatedEntry(ht, &stranger, &stranger), 0);
    for (size_t i = 1; i < MEDIUM; i += 3) {
        uint64_t key = i;
        void **ref = hashtableFindRef(ht, &key);
        assert_non_null(ref);
        assert_ptr_equal(*ref, items[i]);
        item *moved = zmalloc(sizeof(item));
        memcpy(moved, items[i], sizeof(item));
        zfree(items[i]);
        *ref = items[i] = moved;
    }
    for (size_t i = 0; i < MEDIUM; i++) {
        uint64_t key = i;
        void *found;
        assert_int_equal(hashtableFind(ht, &key, &found), 1);
        assert_ptr_equal(found, items[i]);
    }
    uint64_t absent = MEDIUM;
    assert_null(hashtableFindRef(ht, &absent));
    hashtableRelease(ht); /* frees the items */
    free(items);
}

/* --- iterators ------------------------------------------------------------------------ */

/* Adds entries until a rehash is under way (rehash steps are paused by the caller's
 * arrangement: none happen between the last Add and the return). */
static size_t fillUntilRehashing(hashtable *ht, size_t from) {
    size_t i = from;
    do {
        hashtableAdd(ht, value(i++));
    } while (!hashtableIsRehashing(ht));
    return i;
}

static void checkIterationDeletes(int mid_rehash) {
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    size_t n = MEDIUM;
    for (size_t i = 0; i < n; i++) hashtableAdd(ht, value(i));
    if (mid_rehash) n = fillUntilRehashing(ht, n);
    assert_int_equal(hashtableIsRehashing(ht), mid_rehash);
    unsigned char *seen = calloc(n, 1);
    hashtableIterator iter;
    hashtableInitSafeIterator(&iter, ht);
    void *entry;
    size_t returned = 0;
    while (hashtableNext(&iter, &entry)) {
        uint64_t k = *(uint64_t *)entry;
        assert_true(k < n);
        assert_int_equal(seen[k], 0); /* deleted ones are never returned */
        seen[k] = 1;
        returned++;
        /* Delete the current entry, and for multiples of 7 also a later-or-earlier one. */
        assert_int_equal(hashtableDelete(ht, entry), 1);
        if (k % 7 == 0 && k + 1 < n && hashtableDelete(ht, value(k + 1))) seen[k + 1] = 2;
    }
    hashtableResetIterator(&iter);
    for (size_t k = 0; k < n; k++) assert_true(seen[k] != 0);
    assert_int_equal(hashtableSize(ht), 0);
    assert_int_equal(destroyed, n);
    free(seen);
    finishRehashing(ht);
    assert_true(hashtableMemUsage(ht) < 512); /* chains compacted, table shrunk */
    hashtableRelease(ht);
}

static void test_safe_iterator_with_deletes(void **state) {
    (void)state;
    checkIterationDeletes(0);
    checkIterationDeletes(1);
}

static void test_safe_iterator_with_inserts(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    size_t n = MEDIUM;
    for (size_t i = 0; i < n; i++) hashtableAdd(ht, value(i));
    size_t next_new = n;
    unsigned char *seen = calloc(values_len, 1);
    hashtableIterator *iter = hashtableCreateSafeIterator(ht);
    void *entry;
    while (hashtableNext(iter, &entry)) {
        uint64_t k = *(uint64_t *)entry;
        assert_int_equal(seen[k], 0); /* nothing twice, not even entries that moved */
        seen[k] = 1;
        /* Insert enough to grow the table and to chain buckets under the iterator. */
        if (k < n && next_new < 2 * BIG) {
            hashtableAdd(ht, value(next_new++));
            hashtableAdd(ht, value(next_new++));
        }
    }
    hashtableReleaseIterator(iter);
    for (size_t k = 0; k < n; k++) assert_int_equal(seen[k], 1);
    assert_int_equal(hashtableSize(ht), next_new);
    for (size_t k = 0; k < next_new; k++) assert_int_equal(hashtableFind(ht, value(k), NULL), 1);
    free(seen);
    hashtableRelease(ht);
}

static void test_unsafe_iterator(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    size_t n = fillUntilRehashing(ht, 0);
    hashtableIterator iter;
    hashtableInitIterator(&iter, ht);
    void *entry;
    size_t count = 0;
    while (hashtableNext(&iter, &entry)) {
        count++;
        assert_int_equal(hashtableFind(ht, entry, NULL), 1); /* lookups are allowed */
    }
    hashtableResetIterator(&iter);
    assert_int_equal(count, n);

    /* Modifying the table during unsafe iteration aborts at reset. */
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL);
        if (!freopen("/dev/null", "w", stderr)) _exit(1);
        hashtableInitIterator(&iter, ht);
        hashtableNext(&iter, &entry);
        hashtableDelete(ht, entry);
        hashtableResetIterator(&iter); /* must abort */
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    hashtableRelease(ht);
}

/* --- scan ----------------------------------------------------------------------------- */

typedef struct {
    unsigned char *seen;
    size_t calls;
} scanState;

static void markSeen(void *privdata, void *entry) {
    scanState *s = privdata;
    unsigned char *count = &s->seen[*(uint64_t *)entry];
    if (*count < 255) (*count)++;
    s->calls++;
}

/* Keeps entries [0, stable) for the whole scan and, between calls, churns the others
 * through the pattern: grow, shrink, rehash partly, and mixtures. Every stable entry must
 * be reported. */
static void scanUnderChurn(size_t stable, int pattern) {
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    for (size_t i = 0; i < stable; i++) hashtableAdd(ht, value(i));
    size_t churn_lo = stable, churn_hi = stable; /* churn entries present: [lo, hi) */
    scanState s = {.seen = calloc(values_len, 1)};
    size_t cursor = 0, calls = 0;
    do {
        cursor = hashtableScan(ht, cursor, markSeen, &s);
        calls++;
        int phase = (int)(calls % 40);
        int grow = pattern == 0 || (pattern == 2 && phase < 20) || (pattern == 3 && (calls & 1));
        size_t burst = pattern == 3 ? 1 + (size_t)random() % 300 : 200;
        if (grow) {
            for (size_t j = 0; j < burst && churn_hi < values_len; j++)
                hashtableAdd(ht, value(churn_hi++));
        } else {
            for (size_t j = 0; j < burst && churn_lo < churn_hi; j++)
                hashtableDelete(ht, value(churn_lo++));
        }
        if (pattern == 1 && churn_lo == churn_hi) /* keep shrinking from a big table */
            for (size_t j = 0; j < 5000 && churn_hi < values_len; j++) hashtableAdd(ht, value(churn_hi++));
        if (calls % 13 == 0) hashtableRehashMicroseconds(ht, 5);
    } while (cursor != 0);
    for (size_t i = 0; i < stable; i++) assert_true(s.seen[i] >= 1);
    printf("    pattern %d: %zu calls, %zu entries reported for %zu stable ones\n", pattern, calls,
           s.calls, stable);
    free(s.seen);
    hashtableRelease(ht);
}

static void test_scan_guarantee_under_resizes(void **state) {
    (void)state;
    scanUnderChurn(5000, 0); /* grows several times */
    scanUnderChurn(500, 1);  /* shrinks repeatedly */
    scanUnderChurn(20000, 2); /* alternates */
    scanUnderChurn(3000, 3);  /* random bursts */
}

static void test_scan_without_changes_reports_each_once(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    size_t n = fillUntilRehashing(ht, 0);
    scanState s = {.seen = calloc(values_len, 1)};
    size_t cursor = 0;
    do {
        cursor = hashtableScan(ht, cursor, markSeen, &s);
    } while (cursor);
    for (size_t i = 0; i < n; i++) assert_int_equal(s.seen[i], 1);
    assert_int_equal(s.calls, n);
    free(s.seen);
    hashtableRelease(ht);
}

typedef struct {
    hashtable *ht;
    size_t calls;
} deleteState;

static void deleteScanned(void *privdata, void *entry) {
    deleteState *d = privdata;
    d->calls++;
    assert_int_equal(hashtableDelete(d->ht, entry), 1);
}

static void test_scan_callback_deletes(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    for (size_t i = 0; i < MEDIUM; i++) hashtableAdd(ht, value(i));
    deleteState d = {.ht = ht};
    size_t cursor = 0;
    do {
        cursor = hashtableScan(ht, cursor, deleteScanned, &d);
    } while (cursor);
    assert_int_equal(d.calls, MEDIUM);
    assert_int_equal(hashtableSize(ht), 0);
    assert_int_equal(destroyed, MEDIUM);
    hashtableRelease(ht);
}

/* --- random --------------------------------------------------------------------------- */

static int isOurEntry(void *entry) {
    uint64_t *p = entry;
    return p >= values && p < values + values_len && *p == (uint64_t)(p - values);
}

static void test_sample_entries(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    void *dst[64];
    assert_int_equal(hashtableSampleEntries(ht, dst, 10), 0);
    for (size_t i = 0; i < 5; i++) hashtableAdd(ht, value(i));
    assert_int_equal(hashtableSampleEntries(ht, dst, 64), 5);
    for (size_t i = 5; i < 10000; i++) hashtableAdd(ht, value(i));
    size_t n = fillUntilRehashing(ht, 10000); /* sample across both tables */
    unsigned char *seen = calloc(n, 1);
    for (int round = 0; round < 1000; round++) {
        unsigned got = hashtableSampleEntries(ht, dst, 20);
        assert_int_equal(got, 20);
        for (unsigned i = 0; i < got; i++) {
            assert_true(isOurEntry(dst[i]));
            uint64_t k = *(uint64_t *)dst[i];
            assert_true(k < n);
            assert_int_equal(hashtableFind(ht, dst[i], NULL), 1);
            for (unsigned j = 0; j < i; j++) assert_ptr_not_equal(dst[i], dst[j]);
            seen[k] = 1;
        }
    }
    size_t covered = 0;
    for (size_t k = 0; k < n; k++) covered += seen[k];
    printf("    sampling covered %zu of %zu entries in 1000 rounds of 20\n", covered, n);
    free(seen);
    hashtableRelease(ht);
}

static void test_random_entry_tiny_tables(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    void *found;
    assert_int_equal(hashtableFairRandomEntry(ht, &found), 0);
    assert_int_equal(hashtableRandomEntry(ht, &found), 0);
    hashtableAdd(ht, value(42));
    for (int i = 0; i < 100; i++) {
        assert_int_equal(hashtableFairRandomEntry(ht, &found), 1);
        assert_ptr_equal(found, value(42));
        assert_int_equal(hashtableRandomEntry(ht, &found), 1);
        assert_ptr_equal(found, value(42));
    }
    hashtableAdd(ht, value(43));
    int hits[2] = {0, 0};
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(hashtableFairRandomEntry(ht, &found), 1);
        hits[*(uint64_t *)found - 42]++;
    }
    assert_true(hits[0] > 800 && hits[1] > 800);
    /* A huge, sparse table (shrinking paused) still answers. */
    hashtablePauseAutoShrink(ht);
    for (size_t i = 100; i < 100 + MEDIUM; i++) hashtableAdd(ht, value(i));
    for (size_t i = 100; i < 100 + MEDIUM; i++) hashtableDelete(ht, value(i));
    for (int i = 0; i < 20; i++) {
        assert_int_equal(hashtableFairRandomEntry(ht, &found), 1);
        assert_true(found == value(42) || found == value(43));
    }
    hashtableResumeAutoShrink(ht);
    hashtableRelease(ht);
}

/* With resizing vetoed the table runs on long chains; fair sampling stays uniform. */
static void test_fair_random_is_fair_with_chains(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    hashtableAdd(ht, value(0));
    veto_resize = 1;
    enum { N = 200, DRAWS = 200000 };
    for (size_t i = 1; i < N; i++) hashtableAdd(ht, value(i));
    char stats[2048];
    hashtableGetStats(stats, sizeof(stats), ht, 1);
    printf("%s", stats);
    assert_true(hashtableMemUsage(ht) > hashtableBuckets(ht) * 64 * 2); /* chains exist */
    int counts[N] = {0};
    for (int i = 0; i < DRAWS; i++) {
        void *found;
        assert_int_equal(hashtableFairRandomEntry(ht, &found), 1);
        counts[*(uint64_t *)found]++;
    }
    int lo = DRAWS, hi = 0;
    for (int i = 0; i < N; i++) {
        if (counts[i] < lo) lo = counts[i];
        if (counts[i] > hi) hi = counts[i];
    }
    printf("    fair random over %d chained entries: min %d max %d (expected %d)\n", N, lo, hi,
           DRAWS / N);
    assert_true(lo > DRAWS / N * 7 / 10 && hi < DRAWS / N * 13 / 10);
    /* The cheap one returns real entries. */
    for (int i = 0; i < 1000; i++) {
        void *found;
        assert_int_equal(hashtableRandomEntry(ht, &found), 1);
        assert_true(isOurEntry(found) && *(uint64_t *)found < N);
    }
    veto_resize = 0;
    hashtableRelease(ht);
}

static void test_random_entry_huge_table(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    for (size_t i = 0; i < BIG; i++) hashtableAdd(ht, value(i));
    size_t upper_half = 0;
    for (int i = 0; i < 10000; i++) {
        void *found;
        assert_int_equal(hashtableFairRandomEntry(ht, &found), 1);
        assert_true(isOurEntry(found) && *(uint64_t *)found < BIG);
        upper_half += *(uint64_t *)found >= BIG / 2;
    }
    assert_true(upper_half > 4500 && upper_half < 5500);
    hashtableRelease(ht);
}

/* --- resizing, emptying, metadata, hashing -------------------------------------------- */

static size_t empty_callbacks;
static void onEmptyProgress(hashtable *ht) {
    (void)ht;
    empty_callbacks++;
}

static void test_empty_with_callback(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    for (size_t i = 0; i < BIG; i++) hashtableAdd(ht, value(i));
    empty_callbacks = 0;
    hashtableEmpty(ht, onEmptyProgress);
    assert_true(empty_callbacks > 0);
    assert_int_equal(destroyed, BIG);
    assert_int_equal(hashtableSize(ht), 0);
    assert_int_equal(hashtableBuckets(ht), 0);
    assert_int_equal(rehash_started, rehash_completed);
    /* Still usable afterwards. */
    assert_int_equal(hashtableAdd(ht, value(1)), 1);
    assert_int_equal(hashtableFind(ht, value(1), NULL), 1);
    hashtableRelease(ht);
}

static void test_expand_and_rehash(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    assert_int_equal(hashtableExpand(ht, BIG), 1);
    assert_false(hashtableIsRehashing(ht)); /* nothing to move */
    size_t buckets = hashtableBuckets(ht);
    assert_true(buckets * 7 * 12 / 10 >= BIG && buckets * 7 * 12 / 10 < 2 * BIG);
    assert_int_equal(hashtableExpand(ht, 10), 0); /* not needed */
    for (size_t i = 0; i < BIG; i++) hashtableAdd(ht, value(i));
    assert_int_equal(hashtableBuckets(ht), buckets); /* no resize on the way */
    assert_int_equal(hashtableTryExpand(ht, SIZE_MAX / 2), 0);
    assert_int_equal(hashtableExpand(ht, 2 * BIG), 1);
    assert_true(hashtableIsRehashing(ht));
    size_t from, to;
    hashtableRehashingInfo(ht, &from, &to);
    assert_int_equal(from, buckets);
    assert_int_equal(to, 2 * buckets);
    hashtableRehashMicroseconds(ht, 1000);
    assert_int_equal(hashtableSize(ht), BIG);
    finishRehashing(ht);
    assert_int_equal(hashtableBuckets(ht), 2 * buckets);
    assert_int_equal(rehash_started, 1);
    assert_int_equal(rehash_completed, 1);
    for (size_t i = 0; i < BIG; i += 97) assert_int_equal(hashtableFind(ht, value(i), NULL), 1);

    /* A two-phase insert into a table sized ahead keeps the size (only deletes shrink). */
    hashtable *pre = hashtableCreate(&u64_type);
    assert_int_equal(hashtableExpand(pre, BIG), 1);
    size_t pre_buckets = hashtableBuckets(pre);
    hashtablePosition pos;
    assert_int_equal(hashtableFindPositionForInsert(pre, value(7), &pos, NULL), 1);
    hashtableInsertAtPosition(pre, value(7), &pos);
    assert_int_equal(hashtableBuckets(pre), pre_buckets);
    assert_false(hashtableIsRehashing(pre));
    /* ... while a delete during a pause still shrinks on resume. */
    hashtableIterator it;
    hashtableInitSafeIterator(&it, pre);
    void *found;
    assert_int_equal(hashtableNext(&it, &found), 1); /* pauses rehashing */
    hashtableDelete(pre, value(7));
    hashtableResetIterator(&it); /* resumes it */
    finishRehashing(pre);
    assert_true(hashtableBuckets(pre) < pre_buckets);
    hashtableRelease(pre);

    /* Shrinking: paused, then resumed. */
    hashtablePauseAutoShrink(ht);
    for (size_t i = 100; i < BIG; i++) hashtableDelete(ht, value(i));
    assert_int_equal(hashtableBuckets(ht), 2 * buckets);
    hashtableResumeAutoShrink(ht);
    finishRehashing(ht);
    assert_true(hashtableBuckets(ht) <= 16);
    for (size_t i = 0; i < 100; i++) assert_int_equal(hashtableFind(ht, value(i), NULL), 1);
    hashtableRelease(ht);
}

static void test_resize_veto(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    hashtableAdd(ht, value(0));
    veto_resize = 1;
    size_t buckets = hashtableBuckets(ht);
    size_t i = 1;
    for (; i < 7 * buckets * 5; i++) hashtableAdd(ht, value(i)); /* up to the hard limit */
    assert_int_equal(hashtableBuckets(ht), buckets);
    hashtableAdd(ht, value(i++)); /* beyond it: grows anyway */
    assert_true(hashtableBuckets(ht) > buckets);
    for (size_t k = 0; k < i; k++) assert_int_equal(hashtableFind(ht, value(k), NULL), 1);
    finishRehashing(ht);

    /* Vetoed growth is caught up by the cron helper once allowed. */
    for (; i < 200; i++) hashtableAdd(ht, value(i));
    finishRehashing(ht);
    buckets = hashtableBuckets(ht);
    assert_true(hashtableSize(ht) > buckets * 7 * 2); /* way over the normal fill */
    assert_int_equal(hashtableExpandIfNeeded(ht), 0);
    veto_resize = 0;
    assert_int_equal(hashtableExpandIfNeeded(ht), 1);
    finishRehashing(ht);
    assert_true(hashtableBuckets(ht) > buckets);
    assert_int_equal(hashtableExpandIfNeeded(ht), 0);

    /* Same for vetoed shrinking (above the hard minimum fill). */
    buckets = hashtableBuckets(ht);
    veto_resize = 1;
    for (size_t k = 20; k < i; k++) hashtableDelete(ht, value(k));
    assert_int_equal(hashtableBuckets(ht), buckets);
    assert_int_equal(hashtableShrinkIfNeeded(ht), 0);
    veto_resize = 0;
    assert_int_equal(hashtableShrinkIfNeeded(ht), 1);
    finishRehashing(ht);
    assert_true(hashtableBuckets(ht) < buckets);
    for (size_t k = 0; k < 20; k++) assert_int_equal(hashtableFind(ht, value(k), NULL), 1);
    assert_int_equal(rehash_started, rehash_completed);
    hashtableRelease(ht);
}

static size_t metadataSize(void) { return 40; }

static void test_metadata(void **state) {
    (void)state;
    hashtableType type = {.hashFunction = hashU64, .keyCompare = compareU64,
                          .getMetadataSize = metadataSize};
    hashtable *ht = hashtableCreate(&type);
    unsigned char *meta = hashtableMetadata(ht);
    for (int i = 0; i < 40; i++) assert_int_equal(meta[i], 0);
    memset(meta, 0xab, 40);
    assert_ptr_equal(hashtableGetType(ht), &type);
    for (size_t i = 0; i < 1000; i++) hashtableAdd(ht, value(i));
    assert_int_equal(meta[39], 0xab);
    hashtableRelease(ht);
}

static void test_pointer_keys_default_callbacks(void **state) {
    (void)state;
    hashtableType type = {0}; /* pointer hashing and pointer equality */
    hashtable *ht = hashtableCreate(&type);
    for (size_t i = 0; i < MEDIUM; i++) assert_int_equal(hashtableAdd(ht, value(i)), 1);
    uint64_t copy = 5;
    assert_int_equal(hashtableFind(ht, &copy, NULL), 0); /* other pointer */
    assert_int_equal(hashtableFind(ht, value(5), NULL), 1);
    hashtableRelease(ht);
}

static void test_hash_functions(void **state) {
    (void)state;
    assert_int_equal(hashtableGenHashFunction("hello", 5), hashtableGenHashFunction("hello", 5));
    assert_int_not_equal(hashtableGenHashFunction("hello", 5), hashtableGenHashFunction("hellp", 5));
    assert_int_equal(hashtableGenCaseHashFunction("HeLLo", 5),
                     hashtableGenCaseHashFunction("hello", 5));
    uint8_t saved[16], other[16] = {1};
    memcpy(saved, hashtableGetHashFunctionSeed(), 16);
    uint64_t h = hashtableGenHashFunction("hello", 5);
    hashtableSetHashFunctionSeed(other);
    assert_int_not_equal(h, hashtableGenHashFunction("hello", 5));
    hashtableSetHashFunctionSeed(saved);
    assert_int_equal(h, hashtableGenHashFunction("hello", 5));
}

static void test_stats_text(void **state) {
    (void)state;
    resetCounters();
    hashtable *ht = hashtableCreate(&u64_type);
    char buf[4096];
    hashtableGetStats(buf, sizeof(buf), ht, 0);
    assert_non_null(strstr(buf, "No stats available"));
    size_t n = fillUntilRehashing(ht, 0);
    hashtableGetStats(buf, sizeof(buf), ht, 1);
    assert_non_null(strstr(buf, "Hash table 1 stats"));
    char expect[64];
    snprintf(expect, sizeof(expect), "number of entries: %zu", n - 1);
    assert_non_null(strstr(buf, expect)); /* the last one went to the new table */
    char tiny[16];
    hashtableGetStats(tiny, sizeof(tiny), ht, 1); /* truncates safely */
    assert_true(strlen(tiny) < sizeof(tiny));
    hashtableRelease(ht);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_find_delete_at_scale),
        cmocka_unit_test(test_memory_per_entry),
        cmocka_unit_test(test_memory_usage_matches_allocator),
        cmocka_unit_test(test_two_phase_insert),
        cmocka_unit_test(test_two_phase_pop),
        cmocka_unit_test(test_replace_reallocated_entry_and_find_ref),
        cmocka_unit_test(test_safe_iterator_with_deletes),
        cmocka_unit_test(test_safe_iterator_with_inserts),
        cmocka_unit_test(test_unsafe_iterator),
        cmocka_unit_test(test_scan_guarantee_under_resizes),
        cmocka_unit_test(test_scan_without_changes_reports_each_once),
        cmocka_unit_test(test_scan_callback_deletes),
        cmocka_unit_test(test_sample_entries),
        cmocka_unit_test(test_random_entry_tiny_tables),
        cmocka_unit_test(test_fair_random_is_fair_with_chains),
        cmocka_unit_test(test_random_entry_huge_table),
        cmocka_unit_test(test_empty_with_callback),
        cmocka_unit_test(test_expand_and_rehash),
        cmocka_unit_test(test_resize_veto),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_pointer_keys_default_callbacks),
        cmocka_unit_test(test_hash_functions),
        cmocka_unit_test(test_stats_text),
    };
    return cmocka_run_group_tests_name("hashtable", tests, setup, teardown);
}
