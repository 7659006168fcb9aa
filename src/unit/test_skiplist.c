/* test_skiplist.c - unit tests for skiplist.c. The core is a randomized comparison with a
 * sorted-array model (insert, delete, score updates) that after every step checks the
 * whole structure: order, backward links, every span on every level, heights, ranks both
 * ways and node pointer stability. Then score and lex ranges (exclusive bounds,
 * infinities, sentinels) against the model, range deletes with callbacks, the range
 * parsers against facts recorded from the reference server, and a 100k-element run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../sds.h"
#include "../skiplist.h"
#include "../zmalloc.h"

/* ---------------------------------------------------------------- model */

typedef struct {
    double score;
    sds ele;             /* the model's own copy */
    zskiplistNode *node; /* what zslInsert returned; must stay the same node */
} entry;

typedef struct {
    entry *items;
    size_t len, cap;
} model;

static int entryCmp(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->score < y->score) return -1;
    if (x->score > y->score) return 1;
    return sdscmp(x->ele, y->ele);
}

static void modelSort(model *m) {
    qsort(m->items, m->len, sizeof(entry), entryCmp);
}

static size_t modelFindEle(const model *m, sds ele) {
    for (size_t i = 0; i < m->len; i++)
        if (sdscmp(m->items[i].ele, ele) == 0) return i;
    return m->len;
}

static void modelAdd(model *m, double score, sds ele, zskiplistNode *node) {
    if (m->len == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->items = realloc(m->items, m->cap * sizeof(entry));
    }
    m->items[m->len++] = (entry){score, sdsdup(ele), node};
    modelSort(m);
}

static void modelRemoveAt(model *m, size_t i) {
    sdsfree(m->items[i].ele);
    memmove(m->items + i, m->items + i + 1, (m->len - i - 1) * sizeof(entry));
    m->len--;
}

static void modelFree(model *m) {
    for (size_t i = 0; i < m->len; i++) sdsfree(m->items[i].ele);
    free(m->items);
    memset(m, 0, sizeof(*m));
}

/* ---------------------------------------------------------------- structure check */

static void verify(zskiplist *zsl, const model *m) {
    size_t n = m->len;
    assert_int_equal(zsl->length, n);
    assert_true(zsl->level >= 1 && zsl->level <= ZSKIPLIST_MAXLEVEL);

    /* Level 0: order, backward links, tail, node identity. */
    zskiplistNode **nodes = malloc((n + 1) * sizeof(*nodes));
    zskiplistNode *x = zsl->header->level[0].forward, *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        assert_non_null(x);
        assert_true(x->score == m->items[i].score);
        assert_int_equal(sdscmp(x->ele, m->items[i].ele), 0);
        assert_ptr_equal(x, m->items[i].node);
        assert_ptr_equal(x->backward, prev);
        assert_true(x->height >= 1 && x->height <= zsl->level);
        nodes[i] = x;
        prev = x;
        x = x->level[0].forward;
    }
    assert_null(x);
    assert_ptr_equal(zsl->tail, prev);

    /* Every level: each span equals the rank difference, a NULL link's span is the
     * distance to the end, and exactly the nodes taller than the level are on it. */
    for (int lvl = 0; lvl < zsl->level; lvl++) {
        zskiplistNode *cur = zsl->header;
        unsigned long rank = 0;
        size_t on_level = 0;
        for (;;) {
            zskiplistNode *next = cur->level[lvl].forward;
            if (!next) {
                assert_int_equal(cur->level[lvl].span, n - rank);
                break;
            }
            rank += cur->level[lvl].span;
            assert_true(rank >= 1 && rank <= n);
            assert_ptr_equal(nodes[rank - 1], next);
            assert_true(next->height > lvl);
            on_level++;
            cur = next;
        }
        size_t taller = 0;
        for (size_t i = 0; i < n; i++) taller += nodes[i]->height > lvl;
        assert_int_equal(on_level, taller);
    }
    if (zsl->level > 1) assert_non_null(zsl->header->level[zsl->level - 1].forward);

    /* Ranks both ways. */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(zslGetRank(zsl, m->items[i].score, m->items[i].ele), i + 1);
        assert_int_equal(zslGetRankByNode(zsl, nodes[i]), i + 1);
        assert_ptr_equal(zslGetElementByRank(zsl, i + 1), nodes[i]);
    }
    assert_null(zslGetElementByRank(zsl, 0));
    assert_null(zslGetElementByRank(zsl, n + 1));
    free(nodes);
}

/* ---------------------------------------------------------------- random inputs */

static const double score_pool[] = {-INFINITY, -2.5, -1, 0, 0, 1, 1, 1, 2, 3.25, 1e300,
                                    INFINITY};
#define SCORE_POOL_LEN (sizeof(score_pool) / sizeof(score_pool[0]))

static double randomScore(void) {
    if (random() % 4 == 0) return (double)(random() % 2001 - 1000) / 8;
    return score_pool[random() % SCORE_POOL_LEN];
}

/* Members drawn from a smallish space so deletes and updates hit; some binary. */
static sds randomMember(void) {
    static const char alphabet[] = {'a', 'b', 'c', '\0', (char)0xff};
    size_t len = (size_t)(random() % 4);
    char buf[4];
    for (size_t i = 0; i < len; i++) buf[i] = alphabet[random() % sizeof(alphabet)];
    return sdsnewlen(buf, len);
}

/* ---------------------------------------------------------------- tests */

static void test_model_random_ops(void **state) {
    (void)state;
    srandom(42);
    for (int round = 0; round < 10; round++) {
        zskiplist *zsl = zslCreate();
        model m = {0};
        verify(zsl, &m);
        for (int op = 0; op < 1500; op++) {
            sds ele = randomMember();
            size_t at = modelFindEle(&m, ele);
            int kind = (int)(random() % 10);
            if (at == m.len) {
                if (kind < 6) {
                    double score = randomScore();
                    zskiplistNode *node = zslInsert(zsl, score, sdsdup(ele));
                    assert_true(node->score == score);
                    modelAdd(&m, score, ele, node);
                } else {
                    /* Absent member: delete finds nothing, with any score. */
                    assert_int_equal(zslDelete(zsl, randomScore(), ele, NULL), 0);
                    assert_int_equal(zslGetRank(zsl, 0, ele), 0);
                }
            } else {
                entry e = m.items[at];
                if (kind < 3) {
                    /* Existing member under a wrong score is not found. */
                    assert_int_equal(zslDelete(zsl, e.score == 7 ? 8 : 7, ele, NULL), 0);
                    zskiplistNode *out = NULL;
                    int handed_back = random() & 1;
                    assert_int_equal(zslDelete(zsl, e.score, ele, handed_back ? &out : NULL), 1);
                    if (handed_back) {
                        assert_ptr_equal(out, e.node);
                        assert_int_equal(sdscmp(out->ele, ele), 0);
                        zslFreeNode(out);
                    }
                    modelRemoveAt(&m, at);
                } else {
                    /* Small moves often stay in place; large ones relink. */
                    double newscore = (random() & 1) ? randomScore() : e.score + 1e-9;
                    zskiplistNode *node = zslUpdateScore(zsl, e.score, ele, newscore);
                    assert_ptr_equal(node, e.node);
                    assert_true(node->score == newscore);
                    m.items[at].score = newscore;
                    modelSort(&m);
                }
            }
            sdsfree(ele);
            if (op % 7 == 0) verify(zsl, &m);
        }
        verify(zsl, &m);
        zslFree(zsl);
        modelFree(&m);
    }
}

/* Builds a skiplist and its model from (score, member) pairs. */
static zskiplist *build(model *m, const double *scores, const char **members, size_t n) {
    zskiplist *zsl = zslCreate();
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < n; i++) {
        sds ele = sdsnew(members[i]);
        zskiplistNode *node = zslInsert(zsl, scores[i], sdsdup(ele));
        modelAdd(m, scores[i], ele, node);
        sdsfree(ele);
    }
    verify(zsl, m);
    return zsl;
}

static void test_equal_scores_by_member(void **state) {
    (void)state;
    zskiplist *zsl = zslCreate();
    static const struct {
        const char *s;
        size_t len;
    } in[] = {{"b", 1}, {"a", 1}, {"ab", 2}, {"", 0}, {"\xff", 1}, {"\0", 1}, {"a\0", 2}};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        zslInsert(zsl, 5, sdsnewlen(in[i].s, in[i].len));
    zslInsert(zsl, 4, sdsnew("zzz"));
    zslInsert(zsl, 6, sdsnew(""));
    static const struct {
        double score;
        const char *s;
        size_t len;
    } want[] = {{4, "zzz", 3}, {5, "", 0},  {5, "\0", 1},   {5, "a", 1}, {5, "a\0", 2},
                {5, "ab", 2},  {5, "b", 1}, {5, "\xff", 1}, {6, "", 0}};
    zskiplistNode *x = zsl->header->level[0].forward;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++, x = x->level[0].forward) {
        assert_non_null(x);
        assert_true(x->score == want[i].score);
        assert_int_equal(sdslen(x->ele), want[i].len);
        assert_memory_equal(x->ele, want[i].s, want[i].len);
    }
    assert_null(x);
    zslFree(zsl);
}

static void test_update_score_in_place_and_moved(void **state) {
    (void)state;
    model m;
    const double scores[] = {1, 2, 3, 4};
    const char *members[] = {"a", "b", "c", "d"};
    zskiplist *zsl = build(&m, scores, members, 4);
    sds b = sdsnew("b");
    /* Between its neighbours: same node, same place. */
    zskiplistNode *node = zslUpdateScore(zsl, 2, b, 2.5);
    assert_ptr_equal(node, m.items[1].node);
    assert_int_equal(zslGetRank(zsl, 2.5, b), 2);
    /* Equal to a neighbour's score: member order decides ("b" < "c"). */
    node = zslUpdateScore(zsl, 2.5, b, 3);
    assert_int_equal(zslGetRank(zsl, 3, b), 2);
    /* Past the end, then to the front. */
    node = zslUpdateScore(zsl, 3, b, 100);
    assert_int_equal(zslGetRank(zsl, 100, b), 4);
    assert_ptr_equal(zsl->tail, node);
    node = zslUpdateScore(zsl, 100, b, -INFINITY);
    assert_int_equal(zslGetRankByNode(zsl, node), 1);
    assert_null(node->backward);
    assert_ptr_equal(node, m.items[1].node);
    m.items[1].score = -INFINITY;
    modelSort(&m);
    verify(zsl, &m);
    sdsfree(b);
    zslFree(zsl);
    modelFree(&m);
}

/* ---------------------------------------------------------------- score ranges */

static void checkScoreRange(zskiplist *zsl, const model *m, const zrangespec *r) {
    size_t first = m->len, last = m->len, count = 0;
    for (size_t i = 0; i < m->len; i++) {
        if (zslValueGteMin(m->items[i].score, r) && zslValueLteMax(m->items[i].score, r)) {
            if (first == m->len) first = i;
            last = i;
            count++;
        }
    }
    zskiplistNode *f = zslFirstInRange(zsl, r), *l = zslLastInRange(zsl, r);
    if (count == 0) {
        assert_null(f);
        assert_null(l);
    } else {
        assert_ptr_equal(f, m->items[first].node);
        assert_ptr_equal(l, m->items[last].node);
        assert_true(zslIsInRange(zsl, r));
    }
}

static void test_score_ranges(void **state) {
    (void)state;
    model m;
    const double scores[] = {-INFINITY, -1, 0, 1, 1, 1, 2, 3, INFINITY};
    const char *members[] = {"ninf", "m1", "z", "a", "b", "c", "two", "three", "pinf"};
    zskiplist *zsl = build(&m, scores, members, 9);

    /* Hand-picked cases. */
    zrangespec r = {1, 1, 0, 0};
    assert_string_equal(zslFirstInRange(zsl, &r)->ele, "a");
    assert_string_equal(zslLastInRange(zsl, &r)->ele, "c");
    r = (zrangespec){1, 1, 1, 0}; /* (1 1 is empty by definition */
    assert_false(zslIsInRange(zsl, &r));
    assert_null(zslFirstInRange(zsl, &r));
    r = (zrangespec){0, 2, 1, 1}; /* (0 (2 */
    assert_string_equal(zslFirstInRange(zsl, &r)->ele, "a");
    assert_string_equal(zslLastInRange(zsl, &r)->ele, "c");
    r = (zrangespec){-INFINITY, INFINITY, 0, 0};
    assert_string_equal(zslFirstInRange(zsl, &r)->ele, "ninf");
    assert_string_equal(zslLastInRange(zsl, &r)->ele, "pinf");
    r = (zrangespec){-INFINITY, INFINITY, 1, 1}; /* excludes the infinite scores */
    assert_string_equal(zslFirstInRange(zsl, &r)->ele, "m1");
    assert_string_equal(zslLastInRange(zsl, &r)->ele, "three");
    r = (zrangespec){3, 2, 0, 0}; /* min > max */
    assert_false(zslIsInRange(zsl, &r));
    r = (zrangespec){1.5, 1.9, 0, 0}; /* a gap: may match, but nothing does */
    assert_true(zslIsInRange(zsl, &r));
    assert_null(zslFirstInRange(zsl, &r));
    assert_null(zslLastInRange(zsl, &r));

    /* Every combination of bounds from the interesting values. */
    const double bounds[] = {-INFINITY, -2, -1, -0.5, 0, 1, 1.5, 2, 3, 4, INFINITY};
    const size_t nb = sizeof(bounds) / sizeof(bounds[0]);
    for (size_t a = 0; a < nb; a++)
        for (size_t b = 0; b < nb; b++)
            for (int ex = 0; ex < 4; ex++) {
                r = (zrangespec){bounds[a], bounds[b], ex & 1, ex >> 1};
                checkScoreRange(zsl, &m, &r);
            }

    zslFree(zsl);
    modelFree(&m);

    /* Empty skiplist. */
    zsl = zslCreate();
    r = (zrangespec){-INFINITY, INFINITY, 0, 0};
    assert_false(zslIsInRange(zsl, &r));
    assert_null(zslFirstInRange(zsl, &r));
    assert_null(zslLastInRange(zsl, &r));
    zslFree(zsl);
}

/* ---------------------------------------------------------------- lex ranges */

static sds lexBound(const char *spec) {
    if (strcmp(spec, "-") == 0) return zslLexMin;
    if (strcmp(spec, "+") == 0) return zslLexMax;
    return sdsnew(spec);
}

static void checkLexRange(zskiplist *zsl, const model *m, const zlexrangespec *r) {
    size_t first = m->len, last = m->len, count = 0;
    for (size_t i = 0; i < m->len; i++) {
        if (zslLexValueGteMin(m->items[i].ele, r) && zslLexValueLteMax(m->items[i].ele, r)) {
            if (first == m->len) first = i;
            last = i;
            count++;
        }
    }
    zskiplistNode *f = zslFirstInLexRange(zsl, r), *l = zslLastInLexRange(zsl, r);
    if (count == 0) {
        assert_null(f);
        assert_null(l);
    } else {
        assert_ptr_equal(f, m->items[first].node);
        assert_ptr_equal(l, m->items[last].node);
        assert_true(zslIsInLexRange(zsl, r));
    }
}

static void test_lex_ranges(void **state) {
    (void)state;
    model m;
    const double scores[] = {0, 0, 0, 0, 0, 0};
    const char *members[] = {"a", "b", "bb", "c", "d", ""};
    zskiplist *zsl = build(&m, scores, members, 6);

    /* The sentinels sort outside every member, including "". */
    sds empty = sdsempty();
    assert_true(zslLexCompare(zslLexMin, empty) < 0);
    assert_true(zslLexCompare(empty, zslLexMin) > 0);
    assert_true(zslLexCompare(zslLexMax, empty) > 0);
    assert_true(zslLexCompare(zslLexMin, zslLexMax) < 0);
    assert_int_equal(zslLexCompare(zslLexMax, zslLexMax), 0);
    sdsfree(empty);

    zlexrangespec r;
    assert_int_equal(zslParseLexRange("[b", 2, "(c", 2, &r), ZSL_OK);
    assert_string_equal(zslFirstInLexRange(zsl, &r)->ele, "b");
    assert_string_equal(zslLastInLexRange(zsl, &r)->ele, "bb");
    zslFreeLexRange(&r);
    assert_int_equal(zslParseLexRange("-", 1, "+", 1, &r), ZSL_OK);
    assert_ptr_equal(r.min, zslLexMin);
    assert_ptr_equal(r.max, zslLexMax);
    assert_string_equal(zslFirstInLexRange(zsl, &r)->ele, "");
    assert_string_equal(zslLastInLexRange(zsl, &r)->ele, "d");
    zslFreeLexRange(&r);
    assert_int_equal(zslParseLexRange("+", 1, "-", 1, &r), ZSL_OK);
    assert_false(zslIsInLexRange(zsl, &r));
    zslFreeLexRange(&r);

    const char *bounds[] = {"-", "+", "", "a", "b", "ba", "bb", "bc", "d", "e"};
    const size_t nb = sizeof(bounds) / sizeof(bounds[0]);
    for (size_t a = 0; a < nb; a++)
        for (size_t b = 0; b < nb; b++)
            for (int ex = 0; ex < 4; ex++) {
                int sentinel_min = strcmp(bounds[a], "-") == 0 || strcmp(bounds[a], "+") == 0;
                int sentinel_max = strcmp(bounds[b], "-") == 0 || strcmp(bounds[b], "+") == 0;
                r.min = lexBound(bounds[a]);
                r.max = lexBound(bounds[b]);
                r.minex = sentinel_min ? 1 : ex & 1;
                r.maxex = sentinel_max ? 1 : ex >> 1;
                checkLexRange(zsl, &m, &r);
                zslFreeLexRange(&r);
            }
    zslFree(zsl);
    modelFree(&m);
}

/* ---------------------------------------------------------------- parsers */

static void test_parse_score_range(void **state) {
    (void)state;
    /* Facts recorded from the reference server (ZCOUNT): what parses, to what. */
    static const struct {
        const char *in;
        double value;
        int ex;
    } good[] = {
        {"1.5", 1.5, 0},      {"(1.5", 1.5, 1},   {"-inf", -INFINITY, 0},
        {"+inf", INFINITY, 0}, {"inf", INFINITY, 0}, {"(-inf", -INFINITY, 1},
        {"infinity", INFINITY, 0}, {"-Infinity", -INFINITY, 0}, {"1e400", INFINITY, 0},
        {"0x10", 16, 0},      {" 1", 1, 0},       {"+1", 1, 0},
        {".5", 0.5, 0},       {"5.", 5, 0},       {"", 0, 0},
        {"(", 0, 1},          {"-0", 0, 0},       {"1.0e0", 1, 0},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        zrangespec r = {123, 456, 7, 7};
        assert_int_equal(zslParseRange(good[i].in, strlen(good[i].in), "(2", 2, &r), ZSL_OK);
        assert_true(r.min == good[i].value);
        assert_int_equal(r.minex, good[i].ex);
        assert_true(r.max == 2 && r.maxex == 1);
        assert_int_equal(zslParseRange("0", 1, good[i].in, strlen(good[i].in), &r), ZSL_OK);
        assert_true(r.max == good[i].value);
        assert_int_equal(r.maxex, good[i].ex);
        assert_true(r.min == 0 && r.minex == 0);
    }
    static const char *bad[] = {"nan", "(nan", "NaN", "-nan", "1 ", " ", "x", "1.5x",
                                "((1", "[1", "1,5", "--1", "inf x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        zrangespec r;
        assert_int_equal(zslParseRange(bad[i], strlen(bad[i]), "1", 1, &r), ZSL_ERR);
        assert_int_equal(zslParseRange("1", 1, bad[i], strlen(bad[i]), &r), ZSL_ERR);
    }
    /* Lengths are honoured: only the given bytes count, up to the first NUL. */
    zrangespec r;
    assert_int_equal(zslParseRange("12abc", 2, "3", 1, &r), ZSL_OK);
    assert_true(r.min == 12);
    assert_int_equal(zslParseRange("7\0junk", 6, "8", 1, &r), ZSL_OK);
    assert_true(r.min == 7);
    /* Long inputs go through the heap buffer. */
    char longnum[300];
    memset(longnum, '0', sizeof(longnum));
    longnum[0] = '(';
    longnum[sizeof(longnum) - 1] = '9';
    assert_int_equal(zslParseRange(longnum, sizeof(longnum), "+inf", 4, &r), ZSL_OK);
    assert_true(r.min == 9 && r.minex == 1);
    longnum[100] = 'x';
    assert_int_equal(zslParseRange(longnum, sizeof(longnum), "+inf", 4, &r), ZSL_ERR);
}

static void test_parse_lex_range(void **state) {
    (void)state;
    zlexrangespec r;
    assert_int_equal(zslParseLexRange("[a", 2, "(b\0c", 4, &r), ZSL_OK);
    assert_int_equal(r.minex, 0);
    assert_int_equal(r.maxex, 1);
    assert_int_equal(sdslen(r.min), 1);
    assert_memory_equal(r.min, "a", 1);
    assert_int_equal(sdslen(r.max), 3); /* binary safe */
    assert_memory_equal(r.max, "b\0c", 3);
    zslFreeLexRange(&r);

    assert_int_equal(zslParseLexRange("[", 1, "(", 1, &r), ZSL_OK);
    assert_int_equal(sdslen(r.min), 0);
    assert_int_equal(sdslen(r.max), 0);
    zslFreeLexRange(&r);

    assert_int_equal(zslParseLexRange("-", 1, "+", 1, &r), ZSL_OK);
    assert_ptr_equal(r.min, zslLexMin);
    assert_ptr_equal(r.max, zslLexMax);
    zslFreeLexRange(&r);
    assert_int_equal(zslParseLexRange("+", 1, "-", 1, &r), ZSL_OK);
    assert_ptr_equal(r.min, zslLexMax);
    assert_ptr_equal(r.max, zslLexMin);
    zslFreeLexRange(&r);

    /* Rejected items, on either side; a valid other side is freed (ASan checks leaks). */
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {{"", 0}, {"a", 1}, {"-x", 2}, {"++", 2}, {"+a", 2}, {"{a", 2}, {" [a", 3}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(zslParseLexRange(bad[i].s, bad[i].len, "[zz", 3, &r), ZSL_ERR);
        assert_null(r.min);
        assert_null(r.max);
        assert_int_equal(zslParseLexRange("[aa", 3, bad[i].s, bad[i].len, &r), ZSL_ERR);
        assert_null(r.min);
        assert_null(r.max);
    }
    /* "+" followed by a NUL byte counts as "+" (C-string view of the argument). */
    assert_int_equal(zslParseLexRange("-\0", 2, "+", 1, &r), ZSL_OK);
    assert_ptr_equal(r.min, zslLexMin);
    zslFreeLexRange(&r);
}

/* ---------------------------------------------------------------- range deletes */

typedef struct {
    sds seen[64];
    size_t count;
    zskiplist *zsl;
} collected;

static void collect(zskiplistNode *node, void *privdata) {
    collected *c = privdata;
    /* The node is already unlinked: the list no longer reaches it. */
    assert_int_equal(zslGetRank(c->zsl, node->score, node->ele), 0);
    c->seen[c->count++] = sdsdup(node->ele);
}

static void expectCollected(collected *c, const char **want, size_t n) {
    assert_int_equal(c->count, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(c->seen[i], want[i]);
        sdsfree(c->seen[i]);
    }
    c->count = 0;
}

/* Drops model entries whose member is in names[]. */
static void modelDrop(model *m, const char **names, size_t n) {
    for (size_t i = 0; i < n; i++) {
        sds s = sdsnew(names[i]);
        modelRemoveAt(m, modelFindEle(m, s));
        sdsfree(s);
    }
}

static void test_delete_ranges(void **state) {
    (void)state;
    model m;
    const double scores[] = {1, 2, 2, 3, 4, 5, 6, 7, 8, 9};
    const char *members[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    zskiplist *zsl = build(&m, scores, members, 10);
    collected c = {.count = 0, .zsl = zsl};

    zrangespec r = {2, 4, 1, 0}; /* (2 4 */
    assert_int_equal(zslDeleteRangeByScore(zsl, &r, collect, &c), 2);
    const char *gone1[] = {"d", "e"};
    expectCollected(&c, gone1, 2);
    modelDrop(&m, gone1, 2);
    verify(zsl, &m);

    r = (zrangespec){100, INFINITY, 0, 0};
    assert_int_equal(zslDeleteRangeByScore(zsl, &r, collect, &c), 0);
    assert_int_equal(c.count, 0);

    /* Ranks 2..3 of a b c f g h i j. */
    assert_int_equal(zslDeleteRangeByRank(zsl, 2, 3, collect, &c), 2);
    const char *gone2[] = {"b", "c"};
    expectCollected(&c, gone2, 2);
    modelDrop(&m, gone2, 2);
    verify(zsl, &m);

    /* Ranks past the end are clamped; a start past the end removes nothing. */
    assert_int_equal(zslDeleteRangeByRank(zsl, 5, 100, collect, &c), 2);
    const char *gone3[] = {"i", "j"};
    expectCollected(&c, gone3, 2);
    modelDrop(&m, gone3, 2);
    verify(zsl, &m);
    assert_int_equal(zslDeleteRangeByRank(zsl, 10, 20, collect, &c), 0);

    /* Everything, without a callback. */
    r = (zrangespec){-INFINITY, INFINITY, 0, 0};
    assert_int_equal(zslDeleteRangeByScore(zsl, &r, NULL, NULL), 4);
    modelFree(&m);
    verify(zsl, &m);
    zslFree(zsl);

    /* Lex deletes. */
    const double zeros[] = {0, 0, 0, 0, 0, 0};
    const char *words[] = {"alpha", "beta", "bravo", "charlie", "delta", "echo"};
    zsl = build(&m, zeros, words, 6);
    c.zsl = zsl;
    zlexrangespec lr;
    assert_int_equal(zslParseLexRange("[b", 2, "(c", 2, &lr), ZSL_OK);
    assert_int_equal(zslDeleteRangeByLex(zsl, &lr, collect, &c), 2);
    zslFreeLexRange(&lr);
    const char *gone4[] = {"beta", "bravo"};
    expectCollected(&c, gone4, 2);
    modelDrop(&m, gone4, 2);
    verify(zsl, &m);
    assert_int_equal(zslParseLexRange("(delta", 6, "+", 1, &lr), ZSL_OK);
    assert_int_equal(zslDeleteRangeByLex(zsl, &lr, collect, &c), 1);
    zslFreeLexRange(&lr);
    const char *gone5[] = {"echo"};
    expectCollected(&c, gone5, 1);
    modelDrop(&m, gone5, 1);
    verify(zsl, &m);
    zslFree(zsl);
    modelFree(&m);
}

/* Random range deletes against the model, on bigger lists. */
static void test_delete_ranges_random(void **state) {
    (void)state;
    srandom(7);
    for (int round = 0; round < 60; round++) {
        zskiplist *zsl = zslCreate();
        model m = {0};
        for (int i = 0; i < 200; i++) {
            sds ele = sdscatprintf(sdsempty(), "m%03d", (int)(random() % 400));
            if (modelFindEle(&m, ele) == m.len) {
                double score = (double)(random() % 20);
                modelAdd(&m, score, ele, zslInsert(zsl, score, sdsdup(ele)));
            }
            sdsfree(ele);
        }
        size_t before = m.len;
        unsigned long removed = 0;
        int kind = round % 3;
        if (kind == 0) {
            zrangespec r = {(double)(random() % 20), (double)(random() % 20), (int)(random() & 1),
                            (int)(random() & 1)};
            removed = zslDeleteRangeByScore(zsl, &r, NULL, NULL);
            for (size_t i = m.len; i-- > 0;)
                if (zslValueGteMin(m.items[i].score, &r) && zslValueLteMax(m.items[i].score, &r))
                    modelRemoveAt(&m, i);
        } else if (kind == 1) {
            unsigned long a = 1 + (unsigned long)random() % (m.len + 5);
            unsigned long b = a + (unsigned long)random() % 80;
            removed = zslDeleteRangeByRank(zsl, a, b, NULL, NULL);
            for (size_t i = m.len; i-- > 0;)
                if (i + 1 >= a && i + 1 <= b) modelRemoveAt(&m, i);
        } else {
            /* Lex ranges need equal scores: rebuild the same members all at score 0. */
            char lo[8], hi[8];
            snprintf(lo, sizeof(lo), "[m%03d", (int)(random() % 400));
            snprintf(hi, sizeof(hi), "(m%03d", (int)(random() % 400));
            for (size_t i = 0; i < m.len; i++) m.items[i].score = 0;
            modelSort(&m);
            zslFree(zsl);
            zsl = zslCreate();
            for (size_t i = 0; i < m.len; i++)
                m.items[i].node = zslInsert(zsl, 0, sdsdup(m.items[i].ele));
            verify(zsl, &m);
            zlexrangespec lr;
            assert_int_equal(zslParseLexRange(lo, 5, hi, 5, &lr), ZSL_OK);
            removed = zslDeleteRangeByLex(zsl, &lr, NULL, NULL);
            for (size_t i = m.len; i-- > 0;)
                if (zslLexValueGteMin(m.items[i].ele, &lr) &&
                    zslLexValueLteMax(m.items[i].ele, &lr))
                    modelRemoveAt(&m, i);
            zslFreeLexRange(&lr);
        }
        assert_int_equal(removed, before - m.len);
        verify(zsl, &m);
        zslFree(zsl);
        modelFree(&m);
    }
}

/* ---------------------------------------------------------------- walks */

typedef struct {
    zskiplistNode *visited[32];
    size_t count;
} walk;

static void record(zskiplistNode *node, void *privdata) {
    walk *w = privdata;
    w->visited[w->count++] = node;
}

static void test_walk_by_rank(void **state) {
    (void)state;
    model m;
    const double scores[] = {1, 2, 3, 4, 5};
    const char *members[] = {"a", "b", "c", "d", "e"};
    zskiplist *zsl = build(&m, scores, members, 5);
    walk w = {.count = 0};
    assert_int_equal(zslWalkByRank(zsl, 2, 4, 0, record, &w), 3);
    assert_ptr_equal(w.visited[0], m.items[1].node);
    assert_ptr_equal(w.visited[2], m.items[3].node);
    w.count = 0;
    assert_int_equal(zslWalkByRank(zsl, 2, 4, 1, record, &w), 3);
    assert_ptr_equal(w.visited[0], m.items[3].node);
    assert_ptr_equal(w.visited[2], m.items[1].node);
    w.count = 0;
    assert_int_equal(zslWalkByRank(zsl, 0, 99, 1, record, &w), 5); /* clamped */
    assert_ptr_equal(w.visited[0], m.items[4].node);
    assert_ptr_equal(w.visited[4], m.items[0].node);
    w.count = 0;
    assert_int_equal(zslWalkByRank(zsl, 4, 3, 0, record, &w), 0);
    assert_int_equal(zslWalkByRank(zsl, 6, 9, 0, record, &w), 0);
    assert_int_equal(w.count, 0);
    zslFree(zsl);
    modelFree(&m);
}

/* ---------------------------------------------------------------- scale */

static void test_random_level_distribution(void **state) {
    (void)state;
    srandom(5);
    const int draws = 400000;
    int at_least[ZSKIPLIST_MAXLEVEL + 2] = {0};
    for (int i = 0; i < draws; i++) {
        int lvl = zslRandomLevel();
        assert_true(lvl >= 1 && lvl <= ZSKIPLIST_MAXLEVEL);
        for (int k = 1; k <= lvl; k++) at_least[k]++;
    }
    assert_int_equal(at_least[1], draws);
    /* P(level >= k) = 4^-(k-1): 25%, 6.25%, 1.56%. */
    assert_in_range(at_least[2], draws / 4 - 2000, draws / 4 + 2000);
    assert_in_range(at_least[3], draws / 16 - 800, draws / 16 + 800);
    assert_in_range(at_least[4], draws / 64 - 400, draws / 64 + 400);
}

static void test_100k_elements(void **state) {
    (void)state;
    srandom(11);
    const unsigned long n = 100000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    zskiplist *zsl = zslCreate();
    zskiplistNode **nodes = malloc(n * sizeof(*nodes));
    for (unsigned long i = 0; i < n; i++) {
        sds ele = sdscatprintf(sdsempty(), "member:%lu", i);
        nodes[i] = zslInsert(zsl, (double)(random() % 1000), ele);
    }
    assert_int_equal(zsl->length, n);
    /* Level-0 order is sorted; ranks agree for a sample; element-by-rank round trips. */
    zskiplistNode *x = zsl->header->level[0].forward;
    for (unsigned long i = 1; i < n; i++, x = x->level[0].forward)
        assert_true(x->score < x->level[0].forward->score ||
                    (x->score == x->level[0].forward->score &&
                     sdscmp(x->ele, x->level[0].forward->ele) < 0));
    for (unsigned long i = 0; i < n; i += 97) {
        unsigned long rank = zslGetRank(zsl, nodes[i]->score, nodes[i]->ele);
        assert_true(rank >= 1);
        assert_int_equal(zslGetRankByNode(zsl, nodes[i]), rank);
        assert_ptr_equal(zslGetElementByRank(zsl, rank), nodes[i]);
    }
    /* Score updates and deletes at scale. */
    for (unsigned long i = 0; i < n; i += 3)
        nodes[i] = zslUpdateScore(zsl, nodes[i]->score, nodes[i]->ele, (double)(random() % 1000));
    for (unsigned long i = 0; i < n; i += 2)
        assert_int_equal(zslDelete(zsl, nodes[i]->score, nodes[i]->ele, NULL), 1);
    assert_int_equal(zsl->length, n / 2);
    zrangespec r = {100, 200, 0, 1};
    zskiplistNode *first = zslFirstInRange(zsl, &r), *last = zslLastInRange(zsl, &r);
    assert_true(first->score == 100 && last->score == 199);
    unsigned long span = zslGetRankByNode(zsl, last) - zslGetRankByNode(zsl, first) + 1;
    assert_int_equal(zslDeleteRangeByScore(zsl, &r, NULL, NULL), span);
    assert_int_equal(zsl->length, n / 2 - span);
    zslFree(zsl);
    free(nodes);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* Generous bound that still catches an accidental O(N) step (minutes at 100k). */
    assert_true(secs < 10.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_random_ops),
        cmocka_unit_test(test_equal_scores_by_member),
        cmocka_unit_test(test_update_score_in_place_and_moved),
        cmocka_unit_test(test_score_ranges),
        cmocka_unit_test(test_lex_ranges),
        cmocka_unit_test(test_parse_score_range),
        cmocka_unit_test(test_parse_lex_range),
        cmocka_unit_test(test_delete_ranges),
        cmocka_unit_test(test_delete_ranges_random),
        cmocka_unit_test(test_walk_by_rank),
        cmocka_unit_test(test_random_level_distribution),
        cmocka_unit_test(test_100k_elements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
