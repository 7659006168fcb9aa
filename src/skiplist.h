/* skiplist.h - the ordered half of a sorted set.
 *
 * Elements are (score, member) pairs ordered by score, then by member bytes (memcmp order,
 * a shorter prefix first). Each level link carries a span (how many level-0 steps it
 * skips), which gives rank queries in O(log N). Level 0 is also linked backwards.
 *
 * Designed to sit next to a hashtable in t_zset.c: the hashtable can store the
 * zskiplistNode pointers themselves (key = node->ele, score = node->score). Node
 * pointers stay valid for the node's whole life: zslUpdateScore moves the node rather
 * than reallocating it. Deleting calls back for each removed node so the caller can
 * drop it from the hashtable first.
 *
 * Ownership: zslInsert takes ownership of the member sds; it is freed with the node
 * (zslFreeNode, zslDelete without a node out-pointer, the range deletes, zslFree).
 * Scores must not be NaN. Ranks are 1-based, as in Valkey.
 * Uses random() for node levels.
 */
#ifndef SKIPLIST_H
#define SKIPLIST_H

#include "sds.h"

#define ZSKIPLIST_MAXLEVEL 32 /* enough for 4^32 elements */
#define ZSKIPLIST_P 0.25      /* chance that a node also appears one level up */

/* Return values of the parsers (same values as C_OK / C_ERR). */
#define ZSL_OK 0
#define ZSL_ERR -1

typedef struct zskiplistNode {
    sds ele;     /* owned by the node; NULL only in the header */
    double score;
    struct zskiplistNode *backward; /* previous node at level 0; NULL for the first */
    int height;  /* number of entries in level[] */
    struct zskiplistLevel {
        struct zskiplistNode *forward;
        unsigned long span; /* level-0 steps from this node to forward */
    } level[];
} zskiplistNode;

typedef struct zskiplist {
    zskiplistNode *header; /* sentinel with ZSKIPLIST_MAXLEVEL levels, no element */
    zskiplistNode *tail;
    unsigned long length;
    int level; /* highest height of any node (at least 1) */
} zskiplist;

/* Score interval; minex/maxex set means that bound is exclusive. */
typedef struct {
    double min, max;
    int minex, maxex;
} zrangespec;

/* Member interval. min/max are owned sds strings or the sentinels zslLexMin ("-", below
 * everything) and zslLexMax ("+", above everything); free with zslFreeLexRange. */
typedef struct {
    sds min, max;
    int minex, maxex;
} zlexrangespec;

/* Static sentinels, compared by pointer only; never free them. */
extern const sds zslLexMin;
extern const sds zslLexMax;

/* Called for each node removed by a range delete, after it is unlinked and before it and
 * its member are freed. The callback must not free or keep them. */
typedef void (*zslNodeCallback)(zskiplistNode *node, void *privdata);

/* Life cycle */
zskiplist *zslCreate(void);
void zslFree(zskiplist *zsl);           /* frees every node and member */
void zslFreeNode(zskiplistNode *node);  /* frees a node handed back by zslDelete */
int zslRandomLevel(void);               /* 1..ZSKIPLIST_MAXLEVEL, P(>= k+1 | >= k) = 1/4 */

/* Updates. The caller guarantees the member is not already present (the hashtable says).
 * Returns the new node, which owns ele. */
zskiplistNode *zslInsert(zskiplist *zsl, double score, sds ele);
/* Removes (score, ele). Returns 1 when found. With node == NULL the node and its member
 * are freed; otherwise the unlinked node is stored in *node and the caller frees it with
 * zslFreeNode (useful when the member is still needed, e.g. to reinsert it). */
int zslDelete(zskiplist *zsl, double score, sds ele, zskiplistNode **node);
/* Changes the score of an existing (curscore, ele); returns its node, which is the same
 * node (pointer unchanged) moved if needed. The element must exist. */
zskiplistNode *zslUpdateScore(zskiplist *zsl, double curscore, sds ele, double newscore);

/* Ranks */
unsigned long zslGetRank(zskiplist *zsl, double score, sds ele); /* 0: not found */
unsigned long zslGetRankByNode(zskiplist *zsl, zskiplistNode *node); /* node must be in zsl */
zskiplistNode *zslGetElementByRank(zskiplist *zsl, unsigned long rank); /* NULL: out of range */
/* Visits the nodes of ranks start..end (1-based, inclusive, clamped to the length) in
 * order, or from end down to start when reverse is set. Returns how many were visited.
 * The callback must not modify the skiplist. */
unsigned long zslWalkByRank(zskiplist *zsl, unsigned long start, unsigned long end,
                            int reverse, zslNodeCallback cb, void *privdata);

/* Score ranges */
int zslValueGteMin(double value, const zrangespec *spec);
int zslValueLteMax(double value, const zrangespec *spec);
int zslIsInRange(zskiplist *zsl, const zrangespec *range); /* 1: some element may match */
zskiplistNode *zslFirstInRange(zskiplist *zsl, const zrangespec *range);
zskiplistNode *zslLastInRange(zskiplist *zsl, const zrangespec *range);
unsigned long zslDeleteRangeByScore(zskiplist *zsl, const zrangespec *range,
                                    zslNodeCallback cb, void *privdata);
/* Parses score bounds as ZRANGEBYSCORE/ZCOUNT do: "1.5", "(1.5" (exclusive), "-inf",
 * "+inf", "inf", and anything else strtod accepts whole (up to the first NUL byte).
 * NaN is an error. Returns ZSL_OK or ZSL_ERR ("min or max is not a float"). */
int zslParseRange(const char *min, size_t minlen, const char *max, size_t maxlen,
                  zrangespec *spec);

/* Lexicographic ranges (meaningful when all scores are equal) */
int zslLexValueGteMin(sds value, const zlexrangespec *spec);
int zslLexValueLteMax(sds value, const zlexrangespec *spec);
int zslIsInLexRange(zskiplist *zsl, const zlexrangespec *range);
zskiplistNode *zslFirstInLexRange(zskiplist *zsl, const zlexrangespec *range);
zskiplistNode *zslLastInLexRange(zskiplist *zsl, const zlexrangespec *range);
unsigned long zslDeleteRangeByLex(zskiplist *zsl, const zlexrangespec *range,
                                  zslNodeCallback cb, void *privdata);
/* Parses "[a" (inclusive), "(a" (exclusive), "-" and "+". On ZSL_ERR nothing needs to be
 * freed ("min or max not valid string range item"); on ZSL_OK call zslFreeLexRange. */
int zslParseLexRange(const char *min, size_t minlen, const char *max, size_t maxlen,
                     zlexrangespec *spec);
void zslFreeLexRange(zlexrangespec *spec);
/* Compares two members, either of which may be a sentinel; memcmp order otherwise. */
int zslLexCompare(sds a, sds b);

/* Rank range delete: ranks start..end, 1-based inclusive. */
unsigned long zslDeleteRangeByRank(zskiplist *zsl, unsigned long start, unsigned long end,
                                   zslNodeCallback cb, void *privdata);

#endif
