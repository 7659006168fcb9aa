/* test_quicklist.c -- the quicklist: a property test of random pushes, pops, inserts,
 * replaces, range deletes, iterator deletes, rotations and index reads against an array
 * model across many fill and compress settings (checking node invariants: counts, sizes
 * within the fill limit, plain nodes only for large elements, end zones raw and interior
 * nodes compressed or tried); compression that really compresses; plain nodes; deleting
 * while iterating both ways; indexes; dup; adopting listpacks; bookmarks; merging after
 * range deletes; and that all memory is given back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <lzf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../listpack.h"
#include "../quicklist.h"
#include "../util.h"
#include "../zmalloc.h"

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* --- model ----------------------------------------------------------------------------- */

typedef struct {
    char *s;
    size_t len;
} item;

typedef struct {
    item *v;
    size_t n, cap;
} model;

static void modelInsert(model *m, size_t at, const char *s, size_t len) {
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->v = realloc(m->v, m->cap * sizeof(item));
    }
    memmove(&m->v[at + 1], &m->v[at], (m->n - at) * sizeof(item));
    m->v[at].s = malloc(len ? len : 1);
    memcpy(m->v[at].s, s, len);
    m->v[at].len = len;
    m->n++;
}

static void modelDelete(model *m, size_t at, size_t count) {
    for (size_t i = at; i < at + count; i++) free(m->v[i].s);
    memmove(&m->v[at], &m->v[at + count], (m->n - at - count) * sizeof(item));
    m->n -= count;
}

static void modelFree(model *m) {
    modelDelete(m, 0, m->n);
    free(m->v);
    memset(m, 0, sizeof(*m));
}

/* The entry as bytes (integers printed) into buf; returns the pointer and length. */
static const char *entryBytes(const quicklistEntry *e, char *buf, size_t *len) {
    if (e->value) {
        *len = e->sz;
        return (const char *)e->value;
    }
    *len = (size_t)ll2string(buf, LONG_STR_SIZE, e->longval);
    return buf;
}

static void assert_entry_is(const quicklistEntry *e, const item *it) {
    char buf[LONG_STR_SIZE];
    size_t len;
    const char *s = entryBytes(e, buf, &len);
    assert_int_equal(len, it->len);
    assert_memory_equal(s, it->s, len);
}

/* --- invariants ----------------------------------------------------------------------- */

/* The listpack of a packed node, decompressing a copy when needed (caller frees if
 * *copy). */
static unsigned char *nodeListpack(quicklistNode *node, int *copy) {
    *copy = 0;
    if (!quicklistNodeIsCompressed(node)) return node->entry;
    void *data;
    size_t clen = quicklistGetLzf(node, &data);
    unsigned char *raw = malloc(node->sz);
    assert_int_equal(lzf_decompress(data, (unsigned int)clen, raw, (unsigned int)node->sz), node->sz);
    *copy = 1;
    return raw;
}

static int isLargeFor(size_t sz, int fill) {
    size_t size_limit;
    unsigned int count_limit;
    quicklistNodeLimit(fill, &size_limit, &count_limit);
    return sz > (size_limit == SIZE_MAX ? 8192 : size_limit);
}

static void checkInvariants(quicklist *ql) {
    unsigned long len = 0, count = 0;
    quicklistNode *prev = NULL;
    for (quicklistNode *node = ql->head; node; prev = node, node = node->next) {
        assert_ptr_equal(node->prev, prev);
        assert_true(node->count > 0);
        assert_int_equal(node->recompress, 0);
        assert_int_equal(node->dont_compress, 0);
        if (QL_NODE_IS_PLAIN(node)) {
            assert_int_equal(node->count, 1);
            assert_true(isLargeFor(node->sz, ql->fill));
        } else {
            int copy;
            unsigned char *lp = nodeListpack(node, &copy);
            assert_int_equal(lpBytes(lp), node->sz);
            assert_true(lpValidateIntegrity(lp, node->sz, 1, NULL, NULL));
            assert_int_equal(lpLength(lp), node->count);
            if (copy) free(lp);
            if (node->count > 1) assert_false(quicklistNodeExceedsLimit(ql->fill, node->sz, node->count));
        }
        /* Compression zones. */
        unsigned long pos = len;
        int in_zone = ql->compress == 0 || pos < ql->compress ||
                      pos + ql->compress >= ql->len;
        if (in_zone)
            assert_false(quicklistNodeIsCompressed(node));
        else if (!quicklistNodeIsCompressed(node))
            assert_int_equal(node->attempted_compress, 1);
        len++;
        count += node->count;
    }
    assert_ptr_equal(ql->tail, prev);
    assert_int_equal(len, ql->len);
    assert_int_equal(count, ql->count);
    assert_int_equal(quicklistCount(ql), count);
}

/* Contents equal the model, forwards and backwards; then the invariants. */
static void assert_matches(quicklist *ql, const model *m) {
    assert_int_equal(quicklistCount(ql), m->n);
    quicklistEntry e;
    quicklistIter *it = quicklistGetIterator(ql, AL_START_HEAD);
    size_t i = 0;
    while (quicklistNext(it, &e)) {
        assert_true(i < m->n);
        assert_entry_is(&e, &m->v[i]);
        i++;
    }
    quicklistReleaseIterator(it);
    assert_int_equal(i, m->n);
    it = quicklistGetIterator(ql, AL_START_TAIL);
    while (quicklistNext(it, &e)) {
        assert_true(i > 0);
        i--;
        assert_entry_is(&e, &m->v[i]);
    }
    quicklistReleaseIterator(it);
    assert_int_equal(i, 0);
    checkInvariants(ql);
}

/* A random value: integers, short strings, compressible mid-size strings and, now and
 * then, one larger than any node (a plain node). */
static size_t randomValue(char *buf, size_t cap, int allow_huge) {
    uint64_t r = rnd() % 100;
    size_t len;
    if (r < 25) return (size_t)ll2string(buf, cap, (long long)(rnd() % 100000) - 50000);
    if (r < 30) return (size_t)ll2string(buf, cap, (long long)rnd());
    if (r < 75) {
        len = rnd() % 40;
        for (size_t i = 0; i < len; i++) buf[i] = 'a' + rnd() % 26;
        return len;
    }
    if (r < 97 || !allow_huge) {
        len = 50 + rnd() % 1500;
    } else {
        len = 9000 + rnd() % 60000;
    }
    if (len > cap) len = cap;
    char c = 'a' + rnd() % 26;
    for (size_t i = 0; i < len; i++) buf[i] = (i % 97 == 0) ? (char)('A' + rnd() % 26) : c;
    return len;
}

/* --- the property test ---------------------------------------------------------------- */

#define VALUE_CAP 70000

static void runRandomOps(int fill, int depth, int ops) {
    quicklist *ql = quicklistNew(fill, depth);
    model m = {0};
    char *buf = malloc(VALUE_CAP);
    quicklistEntry e;
    int run = fill < 0 ? 40 * -fill : 20;
    for (int op = 0; op < ops; op++) {
        size_t len = randomValue(buf, VALUE_CAP, 1);
        size_t at = m.n ? (size_t)rnd() % m.n : 0;
        switch (rnd() % 16) {
        case 0:
        case 1:
            quicklistPushHead(ql, buf, len);
            modelInsert(&m, 0, buf, len);
            break;
        case 2:
        case 3:
        case 4:
            quicklistPush(ql, buf, len, QUICKLIST_TAIL);
            modelInsert(&m, m.n, buf, len);
            break;
        case 5: {
            int head = (int)(rnd() % 2);
            unsigned char *data;
            size_t sz;
            long long lv;
            int ok = quicklistPop(ql, head ? QUICKLIST_HEAD : QUICKLIST_TAIL, &data, &sz, &lv);
            assert_int_equal(ok, m.n > 0);
            if (!ok) break;
            item *it = &m.v[head ? 0 : m.n - 1];
            if (data) {
                assert_int_equal(sz, it->len);
                assert_memory_equal(data, it->s, sz);
                zfree(data);
            } else {
                char num[LONG_STR_SIZE];
                int nl = ll2string(num, sizeof(num), lv);
                assert_int_equal((size_t)nl, it->len);
                assert_memory_equal(num, it->s, it->len);
            }
            modelDelete(&m, head ? 0 : m.n - 1, 1);
            break;
        }
        case 6:
        case 7: {
            if (!m.n) break;
            long idx = (rnd() % 2) ? (long)at : (long)at - (long)m.n;
            quicklistIter *it = quicklistGetIteratorEntryAtIdx(ql, idx, &e);
            assert_non_null(it);
            assert_entry_is(&e, &m.v[at]);
            if (rnd() % 2) {
                quicklistInsertAfter(it, &e, buf, len);
                modelInsert(&m, at + 1, buf, len);
            } else {
                quicklistInsertBefore(it, &e, buf, len);
                modelInsert(&m, at, buf, len);
            }
            assert_int_equal(quicklistNext(it, &e), 0); /* the edit ended the iteration */
            quicklistReleaseIterator(it);
            break;
        }
        case 8: {
            int ok = quicklistReplaceAtIndex(ql, m.n ? (long)at : 0, buf, len);
            assert_int_equal(ok, m.n > 0);
            if (!ok) break;
            modelDelete(&m, at, 1);
            modelInsert(&m, at, buf, len);
            break;
        }
        case 9: {
            long count = 1 + (long)(rnd() % (rnd() % 4 ? 5 : 300));
            long start = (rnd() % 2) ? (long)at : (long)at - (long)m.n;
            int ok = quicklistDelRange(ql, start, count);
            assert_int_equal(ok, m.n > 0);
            if (!ok) break;
            size_t del = (size_t)count > m.n - at ? m.n - at : (size_t)count;
            modelDelete(&m, at, del);
            break;
        }
        case 10: {
            /* Delete the elements of a given length parity while iterating. */
            int forward = (int)(rnd() % 2);
            size_t parity = rnd() % 2;
            quicklistIter *it = quicklistGetIterator(ql, forward ? AL_START_HEAD : AL_START_TAIL);
            size_t i = forward ? 0 : m.n;
            while (quicklistNext(it, &e)) {
                if (!forward) i--;
                assert_entry_is(&e, &m.v[i]);
                if (m.v[i].len % 2 == parity && rnd() % 3 == 0) {
                    quicklistDelEntry(it, &e);
                    modelDelete(&m, i, 1);
                } else if (forward) {
                    i++;
                }
            }
            quicklistReleaseIterator(it);
            assert_int_equal(i, forward ? m.n : 0);
            break;
        }
        case 11:
            quicklistRotate(ql);
            if (m.n > 1) {
                item last = m.v[m.n - 1];
                memmove(&m.v[1], &m.v[0], (m.n - 1) * sizeof(item));
                m.v[0] = last;
            }
            break;
        case 12: {
            if (!m.n) {
                assert_null(quicklistGetIteratorAtIdx(ql, AL_START_HEAD, 0));
                break;
            }
            /* Read a stretch from a random index in a random direction. */
            int forward = (int)(rnd() % 2);
            quicklistIter *it =
                quicklistGetIteratorAtIdx(ql, forward ? AL_START_HEAD : AL_START_TAIL,
                                          (rnd() % 2) ? (long long)at : (long long)at - (long long)m.n);
            assert_non_null(it);
            size_t i = at;
            for (int k = 0; k < 20 && quicklistNext(it, &e); k++) {
                assert_entry_is(&e, &m.v[i]);
                assert_true(quicklistCompare(&e, (unsigned char *)m.v[i].s, m.v[i].len));
                if (forward)
                    i++;
                else if (i-- == 0)
                    break;
            }
            quicklistReleaseIterator(it);
            break;
        }
        default:
            /* Push a run, so nodes fill up and split; bigger nodes need longer runs. */
            for (int k = 0; k < run; k++) {
                len = randomValue(buf, 200, 0);
                quicklistPushTail(ql, buf, len);
                modelInsert(&m, m.n, buf, len);
            }
            break;
        }
        if (op % 50 == 0) {
            assert_null(quicklistGetIteratorAtIdx(ql, AL_START_HEAD, (long long)m.n));
            assert_null(quicklistGetIteratorAtIdx(ql, AL_START_TAIL, -(long long)m.n - 1));
            checkInvariants(ql);
        }
        if (op % 200 == 0) assert_matches(ql, &m);
    }
    assert_matches(ql, &m);
    quicklist *copy = quicklistDup(ql);
    assert_matches(copy, &m);
    quicklistRelease(copy);
    quicklistRelease(ql);
    modelFree(&m);
    free(buf);
}

static void test_property_vs_model(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    const int fills[] = {-5, -4, -3, -2, -1, 0, 1, 2, 3, 7, 64, 1000};
    const int depths[] = {0, 1, 2, 3};
    for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++)
        for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) runRandomOps(fills[f], depths[d], 1000);
    assert_int_equal(zmalloc_used_memory(), base);
}

/* --- compression ---------------------------------------------------------------------- */

static size_t compressibleValue(char *buf, int i) {
    int n = snprintf(buf, 32, "item:%06d:", i);
    for (int k = n; k < 1000; k++) buf[k] = "abcdefgh"[k % 8];
    return 1000;
}

static void test_compression(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    for (int depth = 1; depth <= 2; depth++) {
        quicklist *ql = quicklistNew(-2, depth);
        char buf[1000];
        int n = 0;
        while (ql->len < 100) {
            size_t len = compressibleValue(buf, n++);
            quicklistPushTail(ql, buf, len);
        }
        /* End zones raw, every interior node compressed, and much smaller. */
        size_t raw = 0, stored = 0;
        unsigned long pos = 0;
        for (quicklistNode *node = ql->head; node; node = node->next, pos++) {
            int interior = pos >= (unsigned long)depth && pos + depth < ql->len;
            assert_int_equal(quicklistNodeIsCompressed(node), interior);
            raw += node->sz;
            if (quicklistNodeIsCompressed(node)) {
                void *data;
                stored += quicklistGetLzf(node, &data);
            } else {
                stored += node->sz;
            }
        }
        assert_true(stored * 5 < raw);
        /* The RDB view of a compressed node: LZF bytes that inflate to a valid listpack. */
        quicklistNode *mid = ql->head->next->next->next;
        void *data;
        size_t clen = quicklistGetLzf(mid, &data);
        unsigned char *lp = malloc(mid->sz);
        assert_int_equal(lzf_decompress(data, (unsigned int)clen, lp, (unsigned int)mid->sz), mid->sz);
        assert_true(lpValidateIntegrity(lp, mid->sz, 1, NULL, NULL));
        assert_int_equal(lpLength(lp), mid->count);
        free(lp);

        /* Reading decompresses on the way and compresses again behind. */
        quicklistEntry e;
        quicklistIter *it = quicklistGetIterator(ql, AL_START_HEAD);
        int i = 0;
        while (quicklistNext(it, &e)) {
            size_t len = compressibleValue(buf, i++);
            assert_int_equal(e.sz, len);
            assert_memory_equal(e.value, buf, len);
            assert_false(quicklistNodeIsCompressed(e.node));
        }
        quicklistReleaseIterator(it);
        assert_int_equal(i, n);
        checkInvariants(ql);
        /* Index access into the middle, then an insert there. */
        it = quicklistGetIteratorEntryAtIdx(ql, n / 2, &e);
        assert_non_null(it);
        compressibleValue(buf, n / 2);
        assert_memory_equal(e.value, buf, 1000);
        quicklistInsertBefore(it, &e, "inserted", 8);
        quicklistReleaseIterator(it);
        checkInvariants(ql);
        it = quicklistGetIteratorEntryAtIdx(ql, n / 2, &e);
        assert_int_equal(e.sz, 8);
        assert_memory_equal(e.value, "inserted", 8);
        quicklistReleaseIterator(it);
        checkInvariants(ql);
        /* Shrinking to within the end zones leaves no node compressed. */
        /* (Range deletions do not merge: keep 2 head elements and the last one.) */
        quicklistDelRange(ql, 2, (long)quicklistCount(ql) - 3);
        assert_int_equal(ql->len, 2);
        checkInvariants(ql);
        for (quicklistNode *node = ql->head; node; node = node->next)
            assert_false(quicklistNodeIsCompressed(node));
        quicklistRelease(ql);
    }
    /* Incompressible data stays raw (but compression was tried). */
    quicklist *ql = quicklistNew(-1, 1);
    char buf[500];
    while (ql->len < 10) {
        for (size_t k = 0; k < sizeof(buf); k++) buf[k] = (char)rnd();
        quicklistPushTail(ql, buf, sizeof(buf));
    }
    quicklistNode *mid = ql->head->next->next;
    assert_false(quicklistNodeIsCompressed(mid));
    assert_int_equal(mid->attempted_compress, 1);
    checkInvariants(ql);
    quicklistRelease(ql);
    assert_int_equal(zmalloc_used_memory(), base);
}

/* --- plain nodes ---------------------------------------------------------------------- */

static void test_plain_nodes(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    model m = {0};
    quicklist *ql = quicklistNew(-1, 1); /* 4 KB nodes */
    char big[5000], small[16];
    memset(big, 'B', sizeof(big));
    quicklistPushTail(ql, big, sizeof(big));
    modelInsert(&m, 0, big, sizeof(big));
    assert_true(QL_NODE_IS_PLAIN(ql->head));
    assert_int_equal(ql->head->sz, sizeof(big));
    for (int i = 0; i < 300; i++) {
        int len = snprintf(small, sizeof(small), "s%d", i);
        quicklistPushTail(ql, small, (size_t)len);
        modelInsert(&m, m.n, small, (size_t)len);
    }
    assert_matches(ql, &m);
    /* A big element inserted in the middle of a packed node splits it. */
    quicklistEntry e;
    quicklistIter *it = quicklistGetIteratorEntryAtIdx(ql, 150, &e);
    assert_false(QL_NODE_IS_PLAIN(e.node));
    unsigned long len_before = ql->len;
    memset(big, 'C', sizeof(big));
    quicklistInsertAfter(it, &e, big, sizeof(big));
    quicklistReleaseIterator(it);
    modelInsert(&m, 151, big, sizeof(big));
    assert_true(ql->len >= len_before + 1);
    assert_matches(ql, &m);
    /* Replace: packed -> plain, plain -> packed, plain -> plain. */
    memset(big, 'D', sizeof(big));
    assert_true(quicklistReplaceAtIndex(ql, 10, big, sizeof(big)));
    modelDelete(&m, 10, 1);
    modelInsert(&m, 10, big, sizeof(big));
    assert_true(quicklistReplaceAtIndex(ql, 151, "tiny", 4));
    modelDelete(&m, 151, 1);
    modelInsert(&m, 151, "tiny", 4);
    memset(big, 'E', 4500);
    assert_true(quicklistReplaceAtIndex(ql, 0, big, 4500));
    modelDelete(&m, 0, 1);
    modelInsert(&m, 0, big, 4500);
    assert_matches(ql, &m);
    /* Pop a plain node. */
    unsigned char *data;
    size_t sz;
    long long lv;
    assert_true(quicklistPop(ql, QUICKLIST_HEAD, &data, &sz, &lv));
    assert_int_equal(sz, 4500);
    assert_memory_equal(data, big, 4500);
    zfree(data);
    modelDelete(&m, 0, 1);
    assert_matches(ql, &m);
    quicklistRelease(ql);
    modelFree(&m);

    /* The packed threshold forces plain nodes for smaller elements. */
    assert_true(quicklistSetPackedThreshold(100));
    ql = quicklistNew(-2, 0);
    quicklistPushTail(ql, big, 99);
    quicklistPushTail(ql, big, 100);
    assert_false(QL_NODE_IS_PLAIN(ql->head));
    assert_true(QL_NODE_IS_PLAIN(ql->tail));
    quicklistRelease(ql);
    /* Any non-zero threshold is a plain cut-off, 1 GB included (Valkey 8; Redis 7.0 took
     * 0 and 1 GB as "the default"): a 9000-byte element then goes to a packed node of
     * its own even though a fill -2 node holds 8 KB. 0 brings back the fill rule. */
    static char over_node[9000];
    assert_true(quicklistSetPackedThreshold((size_t)1 << 30));
    ql = quicklistNew(-2, 0);
    quicklistPushTail(ql, big, 100);
    quicklistPushTail(ql, over_node, sizeof(over_node));
    assert_int_equal(ql->len, 2);
    assert_false(QL_NODE_IS_PLAIN(ql->tail));
    assert_int_equal(ql->tail->count, 1);
    quicklistRelease(ql);
    assert_true(quicklistSetPackedThreshold(0));
    ql = quicklistNew(-2, 0);
    quicklistPushTail(ql, over_node, sizeof(over_node));
    assert_true(QL_NODE_IS_PLAIN(ql->head));
    quicklistRelease(ql);
    assert_false(quicklistSetPackedThreshold((size_t)1 << 32));
    ql = quicklistNew(-2, 0);
    quicklistPushTail(ql, big, 100);
    assert_false(QL_NODE_IS_PLAIN(ql->head));
    quicklistRelease(ql);
    assert_int_equal(zmalloc_used_memory(), base);
}

/* --- iterators, indexes ----------------------------------------------------------------- */

static quicklist *numbers(int fill, int depth, int n) {
    quicklist *ql = quicklistNew(fill, depth);
    char buf[LONG_STR_SIZE];
    for (int i = 1; i <= n; i++) quicklistPushTail(ql, buf, (size_t)ll2string(buf, sizeof(buf), i));
    return ql;
}

static void assert_numbers(quicklist *ql, int (*keep)(long long), int n) {
    quicklistIter *it = quicklistGetIterator(ql, AL_START_HEAD);
    quicklistEntry e;
    long long expect = 1;
    unsigned long seen = 0;
    while (quicklistNext(it, &e)) {
        while (!keep(expect)) expect++;
        assert_null(e.value);
        assert_int_equal(e.longval, expect);
        expect++;
        seen++;
    }
    quicklistReleaseIterator(it);
    while (expect <= n && !keep(expect)) expect++;
    assert_true(expect > n);
    assert_int_equal(seen, quicklistCount(ql));
    checkInvariants(ql);
}

static int odd(long long v) {
    return v % 2 == 1;
}
static int odd_not3(long long v) {
    return v % 2 == 1 && v % 3 != 0;
}

static void test_iterator_delete(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    const int fills[] = {1, 4, -1, -2};
    for (size_t f = 0; f < 4; f++) {
        quicklist *ql = numbers(fills[f], 1, 1000);
        quicklistIter *it = quicklistGetIterator(ql, AL_START_HEAD);
        quicklistEntry e;
        while (quicklistNext(it, &e))
            if (e.longval % 2 == 0) quicklistDelEntry(it, &e);
        quicklistReleaseIterator(it);
        assert_numbers(ql, odd, 1000);

        it = quicklistGetIterator(ql, AL_START_TAIL);
        while (quicklistNext(it, &e))
            if (e.longval % 3 == 0) quicklistDelEntry(it, &e);
        quicklistReleaseIterator(it);
        assert_numbers(ql, odd_not3, 1000);

        /* Delete everything, backwards. */
        it = quicklistGetIterator(ql, AL_START_TAIL);
        while (quicklistNext(it, &e)) quicklistDelEntry(it, &e);
        quicklistReleaseIterator(it);
        assert_int_equal(quicklistCount(ql), 0);
        assert_int_equal(ql->len, 0);
        assert_null(ql->head);
        quicklistRelease(ql);
    }
    /* Turning around mid-way. */
    quicklist *ql = numbers(3, 0, 10);
    quicklistIter *it = quicklistGetIteratorAtIdx(ql, AL_START_HEAD, 4);
    quicklistEntry e;
    assert_true(quicklistNext(it, &e));
    assert_int_equal(e.longval, 5);
    quicklistSetDirection(it, AL_START_TAIL);
    quicklistDelEntry(it, &e);
    assert_true(quicklistNext(it, &e));
    assert_int_equal(e.longval, 4);
    quicklistReleaseIterator(it);
    quicklistRelease(ql);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_index_and_ranges(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    quicklist *ql = numbers(5, 1, 100);
    quicklistEntry e;
    for (long i = -100; i < 100; i++) {
        quicklistIter *it = quicklistGetIteratorEntryAtIdx(ql, i, &e);
        assert_non_null(it);
        assert_int_equal(e.longval, i < 0 ? 101 + i : i + 1);
        quicklistReleaseIterator(it);
    }
    assert_null(quicklistGetIteratorEntryAtIdx(ql, 100, &e));
    assert_null(quicklistGetIteratorEntryAtIdx(ql, -101, &e));
    assert_null(quicklistGetIteratorEntryAtIdx(ql, LLONG_MIN, &e));
    assert_false(quicklistReplaceAtIndex(ql, 100, "x", 1));
    assert_false(quicklistDelRange(ql, 100, 1));
    assert_false(quicklistDelRange(ql, 0, 0));
    assert_true(quicklistReplaceAtIndex(ql, -1, "last", 4));
    quicklistIter *it = quicklistGetIteratorEntryAtIdx(ql, 99, &e);
    assert_true(quicklistCompare(&e, (unsigned char *)"last", 4));
    assert_false(quicklistCompare(&e, (unsigned char *)"las", 3));
    quicklistReleaseIterator(it);
    it = quicklistGetIteratorEntryAtIdx(ql, 0, &e);
    assert_true(quicklistCompare(&e, (unsigned char *)"1", 1));
    quicklistReleaseIterator(it);
    /* Range deletes with a negative start, and past the end. */
    assert_true(quicklistDelRange(ql, -10, 100));
    assert_int_equal(quicklistCount(ql), 90);
    assert_true(quicklistDelRange(ql, 0, 5));
    it = quicklistGetIteratorEntryAtIdx(ql, 0, &e);
    assert_int_equal(e.longval, 6);
    quicklistReleaseIterator(it);
    checkInvariants(ql);
    quicklistRelease(ql);

    /* Range deletions never merge what is left (Valkey does not): the two halves stay
     * two nodes, which keeps a trimmed list from turning back into a listpack. */
    ql = numbers(100, 0, 1000);
    assert_int_equal(ql->len, 10);
    assert_true(quicklistDelRange(ql, 50, 900));
    assert_int_equal(ql->len, 2);
    assert_int_equal(ql->head->count, 50);
    assert_int_equal(ql->tail->count, 50);
    checkInvariants(ql);
    quicklistRelease(ql);
    /* LTRIM 3 4 of a..j with fill 4: [abcd][efgh][ij] -> [d][e]. */
    ql = numbers(4, 0, 10);
    assert_int_equal(ql->len, 3);
    assert_true(quicklistDelRange(ql, 0, 3));
    assert_true(quicklistDelRange(ql, -5, 5));
    assert_int_equal(ql->len, 2);
    assert_int_equal(quicklistCount(ql), 2);
    quicklistEntry first, second;
    quicklistReleaseIterator(quicklistGetIteratorEntryAtIdx(ql, 0, &first));
    quicklistReleaseIterator(quicklistGetIteratorEntryAtIdx(ql, 1, &second));
    assert_int_equal(first.longval, 4);
    assert_int_equal(second.longval, 5);
    checkInvariants(ql);
    quicklistRelease(ql);
    assert_int_equal(zmalloc_used_memory(), base);
}

/* --- the rest of the API ---------------------------------------------------------------- */

static void *countingSaver(unsigned char *data, size_t sz) {
    char *s = zmalloc(sz + 1);
    memcpy(s, data, sz);
    s[sz] = '\0';
    return s;
}

static void test_pop_rotate_dup(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    quicklist *ql = quicklistCreate();
    assert_int_equal(ql->fill, -2);
    assert_int_equal(ql->compress, 0);
    unsigned char *data;
    size_t sz;
    long long lv;
    assert_false(quicklistPop(ql, QUICKLIST_HEAD, &data, &sz, &lv));
    assert_int_equal(quicklistPushHead(ql, "b", 1), 1); /* new head node */
    assert_int_equal(quicklistPushHead(ql, "a", 1), 0);
    quicklistPushTail(ql, "42", 2);
    assert_true(quicklistPopCustom(ql, QUICKLIST_HEAD, &data, &sz, &lv, countingSaver));
    assert_string_equal((char *)data, "a");
    zfree(data);
    assert_true(quicklistPopCustom(ql, QUICKLIST_TAIL, &data, &sz, &lv, countingSaver));
    assert_null(data);
    assert_int_equal(lv, 42);
    assert_true(quicklistPopCustom(ql, QUICKLIST_TAIL, NULL, NULL, NULL, countingSaver));
    assert_int_equal(quicklistCount(ql), 0);
    quicklistRelease(ql);

    /* Rotate moves the tail to the head, also across nodes and for plain tails. */
    ql = numbers(2, 0, 5);
    quicklistRotate(ql);
    quicklistEntry e;
    quicklistIter *it = quicklistGetIteratorEntryAtIdx(ql, 0, &e);
    assert_int_equal(e.longval, 5);
    quicklistReleaseIterator(it);
    char big[9000];
    memset(big, 'p', sizeof(big));
    quicklistPushTail(ql, big, sizeof(big));
    quicklistRotate(ql);
    assert_true(QL_NODE_IS_PLAIN(ql->head));
    it = quicklistGetIteratorEntryAtIdx(ql, -1, &e);
    assert_int_equal(e.longval, 4);
    quicklistReleaseIterator(it);
    checkInvariants(ql);

    /* Dup is deep. */
    quicklist *copy = quicklistDup(ql);
    quicklistReplaceAtIndex(copy, 1, "changed", 7);
    it = quicklistGetIteratorEntryAtIdx(ql, 1, &e);
    assert_int_equal(e.longval, 5);
    quicklistReleaseIterator(it);
    quicklistRelease(copy);
    quicklistRelease(ql);

    /* A one-element list rotates to itself. */
    ql = numbers(-2, 0, 1);
    quicklistRotate(ql);
    assert_int_equal(quicklistCount(ql), 1);
    quicklistRelease(ql);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_adopt_nodes(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    quicklist *ql = quicklistNew(-2, 1);
    for (int n = 0; n < 5; n++) {
        unsigned char *lp = lpNew(0);
        for (int i = 0; i < 3; i++) lp = lpAppendInteger(lp, n * 3 + i + 1);
        quicklistAppendListpack(ql, lp);
    }
    quicklistAppendListpack(ql, lpNew(0)); /* empty: dropped */
    unsigned char *plain = zmalloc(3);
    memcpy(plain, "xyz", 3);
    quicklistAppendPlainNode(ql, plain, 3);
    assert_int_equal(ql->len, 6);
    assert_int_equal(quicklistCount(ql), 16);
    assert_true(QL_NODE_IS_PLAIN(ql->tail));
    quicklistEntry e;
    quicklistIter *it = quicklistGetIteratorEntryAtIdx(ql, 14, &e);
    assert_int_equal(e.longval, 15);
    quicklistReleaseIterator(it);
    it = quicklistGetIteratorEntryAtIdx(ql, 15, &e);
    assert_int_equal(e.sz, 3);
    assert_memory_equal(e.value, "xyz", 3);
    quicklistReleaseIterator(it);
    /* Pushing onto an adopted tail that is plain creates a new node. */
    quicklistPushTail(ql, "after", 5);
    assert_int_equal(ql->len, 7);
    quicklistRelease(ql);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_bookmarks(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    quicklist *ql = numbers(1, 0, 20); /* one element per node */
    quicklistNode *second = ql->head->next, *third = second->next;
    assert_true(quicklistBookmarkCreate(&ql, "b", second));
    assert_true(quicklistBookmarkCreate(&ql, "t", ql->tail));
    assert_ptr_equal(quicklistBookmarkFind(ql, "b"), second);
    assert_null(quicklistBookmarkFind(ql, "none"));
    assert_true(quicklistDelRange(ql, 1, 1)); /* deleting the node moves the bookmark on */
    assert_ptr_equal(quicklistBookmarkFind(ql, "b"), third);
    quicklistPop(ql, QUICKLIST_TAIL, NULL, NULL, NULL); /* the last node: bookmark gone */
    assert_null(quicklistBookmarkFind(ql, "t"));
    assert_true(quicklistBookmarkCreate(&ql, "b", ql->head)); /* update in place */
    assert_ptr_equal(quicklistBookmarkFind(ql, "b"), ql->head);
    char name[16];
    for (int i = 1; i < QUICKLIST_MAX_BOOKMARKS; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        assert_true(quicklistBookmarkCreate(&ql, name, ql->head));
    }
    assert_false(quicklistBookmarkCreate(&ql, "overflow", ql->head));
    assert_true(quicklistBookmarkDelete(ql, "n3"));
    assert_false(quicklistBookmarkDelete(ql, "n3"));
    assert_ptr_equal(quicklistBookmarkFind(ql, "n4"), ql->head);
    quicklistBookmarksClear(ql);
    assert_int_equal(ql->bookmark_count, 0);
    quicklistRelease(ql);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_limits(void **state) {
    (void)state;
    size_t size;
    unsigned int count;
    quicklistNodeLimit(-2, &size, &count);
    assert_int_equal(size, 8192);
    assert_int_equal(count, UINT_MAX);
    quicklistNodeLimit(-5, &size, &count);
    assert_int_equal(size, 65536);
    quicklistNodeLimit(5, &size, &count);
    assert_true(size == SIZE_MAX);
    assert_int_equal(count, 5);
    quicklistNodeLimit(0, &size, &count);
    assert_int_equal(count, 1);
    assert_true(quicklistNodeExceedsLimit(-2, 8193, 1));
    assert_false(quicklistNodeExceedsLimit(-2, 8192, 100000));
    assert_true(quicklistNodeExceedsLimit(5, 100, 6));
    assert_false(quicklistNodeExceedsLimit(5, 100, 5));
    assert_true(quicklistNodeExceedsLimit(5, 9000, 2)); /* the safety cap */
    quicklist *ql = quicklistNew(100000, 100000);
    assert_int_equal(ql->fill, 32767);
    assert_int_equal(ql->compress, 65535);
    quicklistSetOptions(ql, -10, -1);
    assert_int_equal(ql->fill, -5);
    assert_int_equal(ql->compress, 0);
    quicklistRelease(ql);
    /* Count-limited nodes also stop at 8 KB. */
    ql = quicklistNew(1000, 0);
    char v[100];
    memset(v, 'v', sizeof(v));
    for (int i = 0; i < 200; i++) quicklistPushTail(ql, v, sizeof(v));
    assert_true(ql->len >= 3);
    assert_true(ql->head->sz <= 8192);
    quicklistRelease(ql);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_pop_rotate_dup),
        cmocka_unit_test(test_adopt_nodes),
        cmocka_unit_test(test_bookmarks),
        cmocka_unit_test(test_index_and_ranges),
        cmocka_unit_test(test_iterator_delete),
        cmocka_unit_test(test_plain_nodes),
        cmocka_unit_test(test_compression),
        cmocka_unit_test(test_property_vs_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
