/* t_zset.h -- sorted sets (OBJ_ZSET): the small API other subsystems use (SORT, geo,
 * RDB/AOF, DEBUG DIGEST) to create, fill, query, convert and walk a sorted set without
 * knowing its encoding.
 *
 * Two encodings, as in Valkey:
 *  - OBJ_ENCODING_LISTPACK: one listpack of (member, score) pairs ordered by score, then
 *    by member bytes. Scores are written as d2string() text (so integral scores end up
 *    as listpack integers), which keeps the blob byte-identical to Valkey's.
 *  - OBJ_ENCODING_SKIPLIST: a `zset`: a skiplist ordered by (score, member) plus a
 *    hashtable whose entries are the skiplist nodes themselves (key: node->ele), so a
 *    member costs one node, its sds and one hashtable slot.
 * A set converts to a skiplist when it grows past zset-max-listpack-entries members or
 * gets a member longer than zset-max-listpack-value bytes; it only goes back to a
 * listpack where Valkey does (results of the *STORE commands, loading).
 */
#ifndef T_ZSET_H
#define T_ZSET_H

#include <stddef.h>
#include "hashtable.h"
#include "object.h"
#include "sds.h"
#include "skiplist.h"

/* Directives zset-max-listpack-entries / zset-max-listpack-value. */
extern size_t zset_max_listpack_entries;
extern size_t zset_max_listpack_value;

typedef struct zset {
    hashtable *ht;  /* member -> zskiplistNode (the node is the entry; no own allocation) */
    zskiplist *zsl; /* owns the nodes and their member sds */
} zset;

/* zsetAdd() input flags. */
#define ZADD_IN_NONE 0
#define ZADD_IN_INCR (1 << 0) /* add the score to the current one */
#define ZADD_IN_NX (1 << 1)   /* only add new members */
#define ZADD_IN_XX (1 << 2)   /* only update existing members */
#define ZADD_IN_GT (1 << 3)   /* only update when the new score is greater */
#define ZADD_IN_LT (1 << 4)   /* only update when the new score is lower */
/* zsetAdd() output flags. */
#define ZADD_OUT_NOP (1 << 0)     /* nothing done because of NX/XX/GT/LT */
#define ZADD_OUT_NAN (1 << 1)     /* the resulting score would be NaN: nothing done */
#define ZADD_OUT_ADDED (1 << 2)   /* a new member */
#define ZADD_OUT_UPDATED (1 << 3) /* an existing member got a different score */

/* Creation. Objects have refcount 1 and no key. */
robj *createZsetObject(void);         /* empty, skiplist encoding */
robj *createZsetListpackObject(void); /* empty, listpack encoding */
/* The encoding a set of size_hint members, the longest value_len_hint bytes, needs. */
robj *zsetTypeCreate(size_t size_hint, size_t value_len_hint);
/* Converts a listpack set to a skiplist when it is about to receive more members than
 * a listpack may hold (ZADD does this with its pair count before adding, as Valkey). */
void zsetTypeMaybeConvert(robj *zobj, size_t size_hint);
void zsetConvert(robj *zobj, int encoding);
/* Back to a listpack when the set fits (used by the *STORE commands and loading):
 * maxelelen is the longest member, totelelen the sum of the member lengths. */
void zsetConvertToListpackIfNeeded(robj *zobj, size_t maxelelen, size_t totelelen);
robj *zsetDup(const robj *zobj); /* deep copy, same encoding */

/* Queries and updates. ele is never taken over (it is copied when stored). */
unsigned long zsetLength(const robj *zobj);
/* Returns 1 on success (see out_flags), 0 when the score is or would become NaN
 * (out_flags has ZADD_OUT_NAN). newscore, if not NULL, receives the resulting score
 * when a member was added or updated (or is unchanged). */
int zsetAdd(robj *zobj, double score, sds ele, int in_flags, int *out_flags, double *newscore);
int zsetDel(robj *zobj, sds ele);                    /* 1 if it was there */
int zsetScore(robj *zobj, sds member, double *score); /* 1 found, 0 absent */
/* 0-based rank (counted from the highest score when reverse), or -1 when absent.
 * score, if not NULL, receives the member's score. */
long zsetRank(robj *zobj, sds ele, int reverse, double *score);

/* Walking in score order (or reverse). Elements are valid until the set is modified.
 * A member is returned as bytes (str != NULL, len) or, for listpack integers, as
 * str == NULL and the value in *ll. */
typedef struct {
    robj *zobj;
    int reverse;
    unsigned char *eptr; /* listpack: current member */
    zskiplistNode *node; /* skiplist: current node */
} zsetIterator;
void zsetIteratorInit(zsetIterator *it, robj *zobj, int reverse);
int zsetIteratorNext(zsetIterator *it, const unsigned char **str, size_t *len, long long *ll,
                     double *score);
/* Forward iteration from the first element whose score is in range; 0 (and an iterator
 * at its end) when no element is. The caller stops at the range's upper bound. */
int zsetIteratorInitAtScore(zsetIterator *it, robj *zobj, const zrangespec *range);

/* Listpack layer, for loaders and converters working on raw blobs. */
double zzlGetScore(unsigned char *sptr);
unsigned char *zzlInsert(unsigned char *zl, const char *ele, size_t len, double score);
/* Check of an untrusted zset listpack (RDB, RESTORE): the listpack structure, and when
 * deep also an even element count and no duplicate member. Ordering and score syntax
 * are not checked (as in Valkey). */
int zsetListpackValidateIntegrity(unsigned char *zl, size_t size, int deep);

/* Sizes for MEMORY USAGE / lazy free. */
size_t zsetAllocSize(const robj *zobj, size_t samples);

#endif
