/* skiplist.c - span-counting skiplist ordered by (score, member), see skiplist.h.
 *
 * Every node has a random height (levels 1..32, each further level with probability
 * 1/4) and one link per level. A link's span counts the level-0 steps it jumps, so the
 * rank of a node is the sum of spans on the way down to it. Invariant kept by every
 * update: a NULL link's span is (length - rank of its owner), i.e. the distance to the
 * end of the list; it lets zslGetRankByNode stop as soon as it reaches a NULL link.
 *
 * Updates first walk down from the header collecting, per level, the last node before
 * the position (update[]) and its rank (rank[]); linking and unlinking then only touch
 * those nodes.
 */
#include "skiplist.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zmalloc.h"

/* ---------------------------------------------------------------- sentinels */

/* Two static sds strings (sdshdr8 layout: len, alloc, flags, bytes, NUL) used only as
 * unique addresses for "-" and "+". */
static char lex_min_storage[] = {1, 1, SDS_TYPE_8, '-', '\0'};
static char lex_max_storage[] = {1, 1, SDS_TYPE_8, '+', '\0'};
const sds zslLexMin = lex_min_storage + offsetof(struct sdshdr8, buf);
const sds zslLexMax = lex_max_storage + offsetof(struct sdshdr8, buf);

/* ---------------------------------------------------------------- nodes */

/* One more level needs two random bits that are both zero: probability ZSKIPLIST_P. */
#define ZSL_BITS_PER_LEVEL 2
#define ZSL_LEVEL_MASK ((1u << ZSL_BITS_PER_LEVEL) - 1)

int zslRandomLevel(void) {
    /* random() yields 31 bits; two calls give the 62 needed for 31 extra levels. */
    uint64_t bits = ((uint64_t)random() << 31) | (uint64_t)random();
    int level = 1;
    while (level < ZSKIPLIST_MAXLEVEL && (bits & ZSL_LEVEL_MASK) == 0) {
        level++;
        bits >>= ZSL_BITS_PER_LEVEL;
    }
    return level;
}

static zskiplistNode *zslCreateNode(int height, double score, sds ele) {
    zskiplistNode *node =
        zmalloc(sizeof(zskiplistNode) + (size_t)height * sizeof(struct zskiplistLevel));
    node->ele = ele;
    node->score = score;
    node->backward = NULL;
    node->height = height;
    return node;
}

void zslFreeNode(zskiplistNode *node) {
    sdsfree(node->ele);
    zfree(node);
}

zskiplist *zslCreate(void) {
    zskiplist *zsl = zmalloc(sizeof(*zsl));
    zsl->header = zslCreateNode(ZSKIPLIST_MAXLEVEL, 0, NULL);
    for (int i = 0; i < ZSKIPLIST_MAXLEVEL; i++) {
        zsl->header->level[i].forward = NULL;
        zsl->header->level[i].span = 0;
    }
    zsl->tail = NULL;
    zsl->length = 0;
    zsl->level = 1;
    return zsl;
}

void zslFree(zskiplist *zsl) {
    zskiplistNode *node = zsl->header->level[0].forward;
    while (node) {
        zskiplistNode *next = node->level[0].forward;
        zslFreeNode(node);
        node = next;
    }
    zfree(zsl->header);
    zfree(zsl);
}

/* ---------------------------------------------------------------- ordering */

/* 1 when node sorts strictly before (score, ele). */
static inline int nodeBefore(const zskiplistNode *node, double score, sds ele) {
    return node->score < score || (node->score == score && sdscmp(node->ele, ele) < 0);
}

static inline int nodeIs(const zskiplistNode *node, double score, sds ele) {
    return node && node->score == score && sdscmp(node->ele, ele) == 0;
}

/* Fills update[i] with the last node before (score, ele) on level i, and rank[i] with
 * its rank (0 for the header), for every level in use. */
static void zslFindPath(zskiplist *zsl, double score, sds ele,
                        zskiplistNode **update, unsigned long *rank) {
    zskiplistNode *x = zsl->header;
    unsigned long traversed = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && nodeBefore(x->level[i].forward, score, ele)) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
        rank[i] = traversed;
    }
}

/* Links x right after update[0], using the path from zslFindPath. x->height may exceed
 * zsl->level: the missing path entries start at the header. */
static void zslLink(zskiplist *zsl, zskiplistNode *x, zskiplistNode **update,
                    unsigned long *rank) {
    if (x->height > zsl->level) {
        for (int i = zsl->level; i < x->height; i++) {
            update[i] = zsl->header;
            rank[i] = 0;
            zsl->header->level[i].forward = NULL;
            zsl->header->level[i].span = zsl->length;
        }
        zsl->level = x->height;
    }
    for (int i = 0; i < x->height; i++) {
        unsigned long before = rank[0] - rank[i]; /* steps from update[i] to update[0] */
        x->level[i].forward = update[i]->level[i].forward;
        x->level[i].span = update[i]->level[i].span - before;
        update[i]->level[i].forward = x;
        update[i]->level[i].span = before + 1;
    }
    for (int i = x->height; i < zsl->level; i++) update[i]->level[i].span++;

    x->backward = update[0] == zsl->header ? NULL : update[0];
    if (x->level[0].forward)
        x->level[0].forward->backward = x;
    else
        zsl->tail = x;
    zsl->length++;
}

/* Unlinks x, whose predecessors on each level are update[] (as from zslFindPath). */
static void zslUnlink(zskiplist *zsl, zskiplistNode *x, zskiplistNode **update) {
    for (int i = 0; i < zsl->level; i++) {
        if (update[i]->level[i].forward == x) {
            update[i]->level[i].span += x->level[i].span - 1;
            update[i]->level[i].forward = x->level[i].forward;
        } else {
            update[i]->level[i].span--;
        }
    }
    if (x->level[0].forward)
        x->level[0].forward->backward = x->backward;
    else
        zsl->tail = x->backward;
    while (zsl->level > 1 && zsl->header->level[zsl->level - 1].forward == NULL) zsl->level--;
    zsl->length--;
}

/* ---------------------------------------------------------------- updates */

zskiplistNode *zslInsert(zskiplist *zsl, double score, sds ele) {
    zskiplistNode *update[ZSKIPLIST_MAXLEVEL];
    unsigned long rank[ZSKIPLIST_MAXLEVEL];
    assert(!isnan(score));
    zslFindPath(zsl, score, ele, update, rank);
    zskiplistNode *x = zslCreateNode(zslRandomLevel(), score, ele);
    zslLink(zsl, x, update, rank);
    return x;
}

int zslDelete(zskiplist *zsl, double score, sds ele, zskiplistNode **node) {
    zskiplistNode *update[ZSKIPLIST_MAXLEVEL];
    unsigned long rank[ZSKIPLIST_MAXLEVEL];
    zslFindPath(zsl, score, ele, update, rank);
    zskiplistNode *x = update[0]->level[0].forward;
    if (!nodeIs(x, score, ele)) return 0;
    zslUnlink(zsl, x, update);
    if (node)
        *node = x;
    else
        zslFreeNode(x);
    return 1;
}

zskiplistNode *zslUpdateScore(zskiplist *zsl, double curscore, sds ele, double newscore) {
    zskiplistNode *update[ZSKIPLIST_MAXLEVEL];
    unsigned long rank[ZSKIPLIST_MAXLEVEL];
    assert(!isnan(newscore));
    zslFindPath(zsl, curscore, ele, update, rank);
    zskiplistNode *x = update[0]->level[0].forward;
    assert(nodeIs(x, curscore, ele));

    /* Neighbours still bracket the new position: no links change. */
    zskiplistNode *prev = x->backward, *next = x->level[0].forward;
    if ((prev == NULL || nodeBefore(prev, newscore, x->ele)) &&
        (next == NULL || !nodeBefore(next, newscore, x->ele))) {
        x->score = newscore;
        return x;
    }
    /* Move the same node, keeping its height, so pointers held elsewhere stay valid. */
    zslUnlink(zsl, x, update);
    x->score = newscore;
    zslFindPath(zsl, newscore, x->ele, update, rank);
    zslLink(zsl, x, update, rank);
    return x;
}

/* ---------------------------------------------------------------- ranks */

unsigned long zslGetRank(zskiplist *zsl, double score, sds ele) {
    zskiplistNode *x = zsl->header;
    unsigned long rank = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && nodeBefore(x->level[i].forward, score, ele)) {
            rank += x->level[i].span;
            x = x->level[i].forward;
        }
        /* x is now the last node before (score, ele); check the next one. */
        zskiplistNode *next = x->level[i].forward;
        if (nodeIs(next, score, ele)) return rank + x->level[i].span;
    }
    return 0;
}

unsigned long zslGetRankByNode(zskiplist *zsl, zskiplistNode *node) {
    /* Run to the end along the highest links; the final NULL link's span completes the
     * distance from node to the end of the list. */
    unsigned long to_end = 0;
    zskiplistNode *x = node;
    for (;;) {
        struct zskiplistLevel *top = &x->level[x->height - 1];
        to_end += top->span;
        if (!top->forward) break;
        x = top->forward;
    }
    return zsl->length - to_end;
}

zskiplistNode *zslGetElementByRank(zskiplist *zsl, unsigned long rank) {
    if (rank == 0 || rank > zsl->length) return NULL;
    zskiplistNode *x = zsl->header;
    unsigned long traversed = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span <= rank) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        if (traversed == rank) return x;
    }
    return NULL;
}

unsigned long zslWalkByRank(zskiplist *zsl, unsigned long start, unsigned long end,
                            int reverse, zslNodeCallback cb, void *privdata) {
    if (start == 0) start = 1;
    if (end > zsl->length) end = zsl->length;
    if (start > end) return 0;
    unsigned long count = end - start + 1;
    zskiplistNode *x = zslGetElementByRank(zsl, reverse ? end : start);
    for (unsigned long n = 0; n < count; n++) {
        zskiplistNode *following = reverse ? x->backward : x->level[0].forward;
        cb(x, privdata);
        x = following;
    }
    return count;
}

/* ---------------------------------------------------------------- generic ranges
 *
 * Score and lex ranges differ only in how a node is compared with the bounds, so the
 * searches are written once against this small interface. */

typedef struct {
    int (*gteMin)(const zskiplistNode *node, const void *range);
    int (*lteMax)(const zskiplistNode *node, const void *range);
    int (*isEmpty)(const void *range); /* the interval itself contains nothing */
} rangeOps;

static int rangeMayMatch(zskiplist *zsl, const void *range, const rangeOps *ops) {
    if (ops->isEmpty(range)) return 0;
    zskiplistNode *first = zsl->header->level[0].forward;
    if (zsl->tail == NULL || !ops->gteMin(zsl->tail, range)) return 0;
    return ops->lteMax(first, range);
}

/* Last node (possibly the header) that is below the minimum, per level in update[]. */
static zskiplistNode *lastBelowMin(zskiplist *zsl, const void *range, const rangeOps *ops,
                                   zskiplistNode **update) {
    zskiplistNode *x = zsl->header;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && !ops->gteMin(x->level[i].forward, range))
            x = x->level[i].forward;
        if (update) update[i] = x;
    }
    return x;
}

static zskiplistNode *firstInRange(zskiplist *zsl, const void *range, const rangeOps *ops) {
    if (!rangeMayMatch(zsl, range, ops)) return NULL;
    /* The tail is >= min, so a next node exists. */
    zskiplistNode *x = lastBelowMin(zsl, range, ops, NULL)->level[0].forward;
    return ops->lteMax(x, range) ? x : NULL;
}

static zskiplistNode *lastInRange(zskiplist *zsl, const void *range, const rangeOps *ops) {
    if (!rangeMayMatch(zsl, range, ops)) return NULL;
    zskiplistNode *x = zsl->header;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && ops->lteMax(x->level[i].forward, range))
            x = x->level[i].forward;
    }
    /* The first node is <= max, so x is not the header. */
    return ops->gteMin(x, range) ? x : NULL;
}

static unsigned long deleteRange(zskiplist *zsl, const void *range, const rangeOps *ops,
                                 zslNodeCallback cb, void *privdata) {
    zskiplistNode *update[ZSKIPLIST_MAXLEVEL];
    zskiplistNode *x = lastBelowMin(zsl, range, ops, update)->level[0].forward;
    unsigned long removed = 0;
    while (x && ops->lteMax(x, range)) {
        zskiplistNode *next = x->level[0].forward;
        zslUnlink(zsl, x, update);
        if (cb) cb(x, privdata);
        zslFreeNode(x);
        removed++;
        x = next;
    }
    return removed;
}

/* ---------------------------------------------------------------- score ranges */

int zslValueGteMin(double value, const zrangespec *spec) {
    return spec->minex ? value > spec->min : value >= spec->min;
}

int zslValueLteMax(double value, const zrangespec *spec) {
    return spec->maxex ? value < spec->max : value <= spec->max;
}

static int scoreGteMin(const zskiplistNode *node, const void *range) {
    return zslValueGteMin(node->score, range);
}

static int scoreLteMax(const zskiplistNode *node, const void *range) {
    return zslValueLteMax(node->score, range);
}

static int scoreRangeEmpty(const void *r) {
    const zrangespec *range = r;
    return range->min > range->max ||
           (range->min == range->max && (range->minex || range->maxex));
}

static const rangeOps score_ops = {scoreGteMin, scoreLteMax, scoreRangeEmpty};

int zslIsInRange(zskiplist *zsl, const zrangespec *range) {
    return rangeMayMatch(zsl, range, &score_ops);
}

zskiplistNode *zslFirstInRange(zskiplist *zsl, const zrangespec *range) {
    return firstInRange(zsl, range, &score_ops);
}

zskiplistNode *zslLastInRange(zskiplist *zsl, const zrangespec *range) {
    return lastInRange(zsl, range, &score_ops);
}

unsigned long zslDeleteRangeByScore(zskiplist *zsl, const zrangespec *range,
                                    zslNodeCallback cb, void *privdata) {
    return deleteRange(zsl, range, &score_ops, cb, privdata);
}

/* Bytes kept on the stack when NUL-terminating a bound for strtod. */
#define ZSL_BOUND_STACK_BUF 128

/* Parses one score bound: optional '(' then a whole strtod number, read up to the first
 * NUL byte like a C string. */
static int parseScoreBound(const char *s, size_t len, double *value, int *exclusive) {
    *exclusive = len > 0 && s[0] == '(';
    if (*exclusive) {
        s++;
        len--;
    }
    char stack_buf[ZSL_BOUND_STACK_BUF];
    char *buf = len < sizeof(stack_buf) ? stack_buf : zmalloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = '\0';

    char *end;
    *value = strtod(buf, &end);
    int ok = *end == '\0' && !isnan(*value);
    if (buf != stack_buf) zfree(buf);
    return ok;
}

int zslParseRange(const char *min, size_t minlen, const char *max, size_t maxlen,
                  zrangespec *spec) {
    if (!parseScoreBound(min, minlen, &spec->min, &spec->minex)) return ZSL_ERR;
    if (!parseScoreBound(max, maxlen, &spec->max, &spec->maxex)) return ZSL_ERR;
    return ZSL_OK;
}

/* ---------------------------------------------------------------- lex ranges */

int zslLexCompare(sds a, sds b) {
    if (a == b) return 0;
    if (a == zslLexMin || b == zslLexMax) return -1;
    if (a == zslLexMax || b == zslLexMin) return 1;
    return sdscmp(a, b);
}

int zslLexValueGteMin(sds value, const zlexrangespec *spec) {
    int cmp = zslLexCompare(value, spec->min);
    return spec->minex ? cmp > 0 : cmp >= 0;
}

int zslLexValueLteMax(sds value, const zlexrangespec *spec) {
    int cmp = zslLexCompare(value, spec->max);
    return spec->maxex ? cmp < 0 : cmp <= 0;
}

static int lexGteMin(const zskiplistNode *node, const void *range) {
    return zslLexValueGteMin(node->ele, range);
}

static int lexLteMax(const zskiplistNode *node, const void *range) {
    return zslLexValueLteMax(node->ele, range);
}

static int lexRangeEmpty(const void *r) {
    const zlexrangespec *range = r;
    int cmp = zslLexCompare(range->min, range->max);
    return cmp > 0 || (cmp == 0 && (range->minex || range->maxex));
}

static const rangeOps lex_ops = {lexGteMin, lexLteMax, lexRangeEmpty};

int zslIsInLexRange(zskiplist *zsl, const zlexrangespec *range) {
    return rangeMayMatch(zsl, range, &lex_ops);
}

zskiplistNode *zslFirstInLexRange(zskiplist *zsl, const zlexrangespec *range) {
    return firstInRange(zsl, range, &lex_ops);
}

zskiplistNode *zslLastInLexRange(zskiplist *zsl, const zlexrangespec *range) {
    return lastInRange(zsl, range, &lex_ops);
}

unsigned long zslDeleteRangeByLex(zskiplist *zsl, const zlexrangespec *range,
                                  zslNodeCallback cb, void *privdata) {
    return deleteRange(zsl, range, &lex_ops, cb, privdata);
}

/* One lex bound. "+" and "-" must be alone (a NUL right after counts as the end, as for
 * a C string). The sentinels are marked exclusive, which makes "- -" and "+ +" empty. */
static int parseLexBound(const char *s, size_t len, sds *dest, int *exclusive) {
    if (len == 0) return 0;
    switch (s[0]) {
    case '+':
    case '-':
        if (len > 1 && s[1] != '\0') return 0;
        *dest = s[0] == '+' ? zslLexMax : zslLexMin;
        *exclusive = 1;
        return 1;
    case '(':
    case '[':
        *dest = sdsnewlen(s + 1, len - 1);
        *exclusive = s[0] == '(';
        return 1;
    default: return 0;
    }
}

int zslParseLexRange(const char *min, size_t minlen, const char *max, size_t maxlen,
                     zlexrangespec *spec) {
    spec->min = spec->max = NULL;
    if (!parseLexBound(min, minlen, &spec->min, &spec->minex) ||
        !parseLexBound(max, maxlen, &spec->max, &spec->maxex)) {
        zslFreeLexRange(spec);
        return ZSL_ERR;
    }
    return ZSL_OK;
}

void zslFreeLexRange(zlexrangespec *spec) {
    if (spec->min != zslLexMin && spec->min != zslLexMax) sdsfree(spec->min);
    if (spec->max != zslLexMin && spec->max != zslLexMax) sdsfree(spec->max);
    spec->min = spec->max = NULL;
}

/* ---------------------------------------------------------------- rank ranges */

unsigned long zslDeleteRangeByRank(zskiplist *zsl, unsigned long start, unsigned long end,
                                   zslNodeCallback cb, void *privdata) {
    zskiplistNode *update[ZSKIPLIST_MAXLEVEL];
    zskiplistNode *x = zsl->header;
    unsigned long traversed = 0;
    if (start == 0) start = 1;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span < start) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    unsigned long removed = 0;
    x = x->level[0].forward;
    for (unsigned long rank = traversed + 1; x && rank <= end; rank++) {
        zskiplistNode *next = x->level[0].forward;
        zslUnlink(zsl, x, update);
        if (cb) cb(x, privdata);
        zslFreeNode(x);
        removed++;
        x = next;
    }
    return removed;
}
