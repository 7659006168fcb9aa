/* t_zset.c -- sorted sets: the two encodings (see t_zset.h), their conversions, and
 * every sorted-set command of Valkey 8: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK
 * ZREVRANK ZCOUNT ZLEXCOUNT, the ZRANGE family and ZRANGESTORE, ZREMRANGEBY*, ZUNION
 * ZINTER ZDIFF (and *STORE, ZINTERCARD), ZPOPMIN/ZPOPMAX, ZMPOP, their blocking forms,
 * ZRANDMEMBER and ZSCAN.
 *
 * How it is organised:
 *  - the listpack layer (zzl*): a flat listpack of member, score, member, score...
 *    ordered by (score, member). Scores are stored as d2string() text, exactly as Valkey
 *    writes them, so integral scores become listpack integers.
 *  - the skiplist layer: a `zset` pairs skiplist.h with a hashtable whose entries are
 *    the skiplist nodes themselves (the key is node->ele), so a member costs one node,
 *    its sds and a hashtable slot; ZSCORE is one hashtable lookup and ZRANK one more
 *    walk up the node's highest links.
 *  - the encoding-independent API of t_zset.h (zsetAdd, zsetDel, zsetRank...).
 *  - the commands. The ZRANGE family sends its results into a small "sink" that either
 *    replies (with the RESP2 flat / RESP3 nested WITHSCORES shapes) or, for
 *    ZRANGESTORE, fills the destination set. ZUNION & co read their inputs through a
 *    source abstraction that also accepts plain sets (each member scoring 1).
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server.h" /* first: networking.h uses its mstime_t */
#include "blocked.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "listpack.h"
#include "networking.h"
#include "notify.h"
#include "object.h"
#include "sds.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"
#include "zmalloc.h"

size_t zset_max_listpack_entries = 128;
size_t zset_max_listpack_value = 64;

/* Scores in a listpack are short texts; longer ones are cut when parsed (as Valkey). */
#define ZZL_SCORE_BUF 128
/* ZRANDMEMBER: a negative count is served in batches of this many listpack picks. */
#define ZRANDMEMBER_RANDOM_SAMPLE_LIMIT 1000
/* ZRANDMEMBER: when count * this exceeds the size, pick by shuffling rather than by
 * drawing until enough distinct members came up. */
#define ZRANDMEMBER_SUB_STRATEGY_MUL 3
/* ZSCAN of a skiplist-encoded set visits at most COUNT * this many buckets per call. */
#define ZSCAN_MAX_BUCKETS_PER_COUNT 10

#define ZSET_MIN 0
#define ZSET_MAX 1

/* ZADD's CH option, kept apart from the zsetAdd() flags. */
#define ZADD_IN_CH_LOCAL (1 << 8)

/* Propagation of the pops as plain ZPOPMIN/ZPOPMAX: shared names, made on first use
 * (registration runs before the server can create objects). */
static robj *zpop_cmd_names[2];

static robj *zpopCommandName(int where) {
    _Static_assert(ZSET_MIN == 0 && ZSET_MAX == 1, "indexes of zpop_cmd_names");
    if (!zpop_cmd_names[where])
        zpop_cmd_names[where] =
            makeObjectShared(createRawStringObject(where == ZSET_MIN ? "ZPOPMIN" : "ZPOPMAX", 7));
    return zpop_cmd_names[where];
}

/* ------------------------------------------------------------------------- */
/* The member -> node hashtable                                                */
/* ------------------------------------------------------------------------- */

static uint64_t zsetHashSds(const void *key) {
    return hashtableGenHashFunction((const char *)key, sdslen((const sds)key));
}

static const void *zsetNodeKey(const void *entry) {
    return ((const zskiplistNode *)entry)->ele;
}

static int zsetSdsCompare(const void *a, const void *b) {
    size_t la = sdslen((const sds)a), lb = sdslen((const sds)b);
    return la != lb || memcmp(a, b, la) != 0;
}

static hashtableType zsetHashtableType = {
    .hashFunction = zsetHashSds,
    .entryGetKey = zsetNodeKey,
    .keyCompare = zsetSdsCompare,
};

static zset *zsetCreateStruct(void) {
    zset *zs = zmalloc(sizeof(*zs));
    zs->ht = hashtableCreate(&zsetHashtableType);
    zs->zsl = zslCreate();
    return zs;
}

/* The hashtable holds node pointers only: release it first, then the nodes. */
static void zsetFreeStruct(zset *zs) {
    hashtableRelease(zs->ht);
    zslFree(zs->zsl);
    zfree(zs);
}

static zskiplistNode *zsetFindNode(zset *zs, sds ele) {
    void *found;
    return hashtableFind(zs->ht, ele, &found) ? found : NULL;
}

/* Range deletes call this for each node they unlink. */
static void zsetForgetNode(zskiplistNode *node, void *privdata) {
    hashtablePop(privdata, node->ele, NULL);
}

/* ------------------------------------------------------------------------- */
/* Listpack layer                                                              */
/* ------------------------------------------------------------------------- */

static double zzlStrtod(const unsigned char *s, size_t len) {
    char buf[ZZL_SCORE_BUF];
    if (len >= sizeof(buf)) len = sizeof(buf) - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return strtod(buf, NULL);
}

double zzlGetScore(unsigned char *sptr) {
    unsigned int len;
    long long ll;
    unsigned char *s = lpGetValue(sptr, &len, &ll);
    return s ? zzlStrtod(s, len) : (double)ll;
}

static unsigned long zzlLength(unsigned char *zl) {
    return lpLength(zl) / 2;
}

/* Member bytes at eptr: the string, or NULL with *ll for an integer. */
static inline const unsigned char *zzlMember(unsigned char *eptr, size_t *len, long long *ll) {
    unsigned int l;
    const unsigned char *s = lpGetValue(eptr, &l, ll);
    *len = l;
    return s;
}

static sds zzlMemberSds(unsigned char *eptr) {
    size_t len;
    long long ll;
    const unsigned char *s = zzlMember(eptr, &len, &ll);
    return s ? sdsnewlen(s, len) : sdsfromlonglong(ll);
}

/* memcmp order of the member at eptr against s; shorter prefix first. */
static int zzlCompareMember(unsigned char *eptr, const char *s, size_t len) {
    char buf[LP_INTBUF_SIZE];
    size_t elen;
    long long ll;
    const unsigned char *e = zzlMember(eptr, &elen, &ll);
    if (!e) {
        elen = (size_t)ll2string(buf, sizeof(buf), ll);
        e = (const unsigned char *)buf;
    }
    size_t minlen = elen < len ? elen : len;
    int cmp = minlen ? memcmp(e, s, minlen) : 0;
    if (cmp) return cmp;
    return (elen > len) - (elen < len);
}

/* Steps to the following / preceding pair. */
static inline void zzlNext(unsigned char *zl, unsigned char **eptr, unsigned char **sptr) {
    unsigned char *e = lpNext(zl, *sptr);
    *eptr = e;
    *sptr = e ? lpNext(zl, e) : NULL;
}

static inline void zzlPrev(unsigned char *zl, unsigned char **eptr, unsigned char **sptr) {
    unsigned char *s = lpPrev(zl, *eptr);
    *sptr = s;
    *eptr = s ? lpPrev(zl, s) : NULL;
}

/* The text a score is stored as. Valkey writes integral scores as listpack integers
 * directly, so -0 becomes 0 here (a skiplist keeps the sign). */
static int zzlScoreText(char *buf, size_t len, double score) {
    if (score == 0) score = 0.0;
    return d2string(buf, len, score);
}

/* Inserts the pair before eptr, or at the end when eptr is NULL. */
static unsigned char *zzlInsertAt(unsigned char *zl, unsigned char *eptr, const char *ele,
                                  size_t len, double score) {
    char sbuf[MAX_D2STRING_CHARS];
    int slen = zzlScoreText(sbuf, sizeof(sbuf), score);
    listpackEntry pair[2] = {
        {.sval = (unsigned char *)ele, .slen = (uint32_t)len},
        {.sval = (unsigned char *)sbuf, .slen = (uint32_t)slen},
    };
    if (eptr == NULL) return lpBatchAppend(zl, pair, 2);
    return lpBatchInsert(zl, eptr, LP_BEFORE, pair, 2, NULL);
}

unsigned char *zzlInsert(unsigned char *zl, const char *ele, size_t len, double score) {
    unsigned char *eptr = lpFirst(zl);
    while (eptr) {
        unsigned char *sptr = lpNext(zl, eptr);
        double s = zzlGetScore(sptr);
        if (s > score || (s == score && zzlCompareMember(eptr, ele, len) > 0)) break;
        eptr = lpNext(zl, sptr);
    }
    return zzlInsertAt(zl, eptr, ele, len, score);
}

static unsigned char *zzlDelete(unsigned char *zl, unsigned char *eptr) {
    return lpDeleteRangeWithEntry(zl, &eptr, 2);
}

/* Gives the member at eptr a new score. When its neighbours still bracket it the score
 * is rewritten in place, which leaves the same bytes as deleting and re-inserting. */
static unsigned char *zzlUpdateScore(unsigned char *zl, unsigned char *eptr, const char *ele, size_t len,
                                     double score) {
    unsigned char *sptr = lpNext(zl, eptr);
    unsigned char *prev_s = lpPrev(zl, eptr);
    unsigned char *next_e = lpNext(zl, sptr);
    int in_place = 1;
    if (prev_s) {
        double ps = zzlGetScore(prev_s);
        if (ps > score || (ps == score && zzlCompareMember(lpPrev(zl, prev_s), ele, len) > 0)) in_place = 0;
    }
    if (in_place && next_e) {
        double ns = zzlGetScore(lpNext(zl, next_e));
        if (ns < score || (ns == score && zzlCompareMember(next_e, ele, len) < 0)) in_place = 0;
    }
    if (in_place) {
        char sbuf[MAX_D2STRING_CHARS];
        int slen = zzlScoreText(sbuf, sizeof(sbuf), score);
        return lpReplace(zl, &sptr, (unsigned char *)sbuf, (uint32_t)slen);
    }
    zl = zzlDelete(zl, eptr);
    return zzlInsert(zl, ele, len, score);
}

static unsigned char *zzlFind(unsigned char *zl, const char *ele, size_t len, double *score) {
    unsigned char *eptr = lpFirst(zl);
    if (eptr) eptr = lpFind(zl, eptr, (unsigned char *)ele, (uint32_t)len, 1);
    if (eptr && score) *score = zzlGetScore(lpNext(zl, eptr));
    return eptr;
}

static int scoreRangeEmpty(const zrangespec *r) {
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}

static int lexRangeEmpty(const zlexrangespec *r) {
    int cmp = zslLexCompare(r->min, r->max);
    return cmp > 0 || (cmp == 0 && (r->minex || r->maxex));
}

static int zzlIsInRange(unsigned char *zl, const zrangespec *r) {
    if (scoreRangeEmpty(r)) return 0;
    unsigned char *p = lpSeek(zl, -1);
    if (p == NULL || !zslValueGteMin(zzlGetScore(p), r)) return 0;
    return zslValueLteMax(zzlGetScore(lpSeek(zl, 1)), r);
}

static unsigned char *zzlFirstInRange(unsigned char *zl, const zrangespec *r) {
    if (!zzlIsInRange(zl, r)) return NULL;
    unsigned char *eptr = lpFirst(zl), *sptr = lpNext(zl, eptr);
    while (eptr) {
        double s = zzlGetScore(sptr);
        if (zslValueGteMin(s, r)) return zslValueLteMax(s, r) ? eptr : NULL;
        zzlNext(zl, &eptr, &sptr);
    }
    return NULL;
}

static unsigned char *zzlLastInRange(unsigned char *zl, const zrangespec *r) {
    if (!zzlIsInRange(zl, r)) return NULL;
    unsigned char *eptr = lpSeek(zl, -2), *sptr = lpNext(zl, eptr);
    while (eptr) {
        double s = zzlGetScore(sptr);
        if (zslValueLteMax(s, r)) return zslValueGteMin(s, r) ? eptr : NULL;
        zzlPrev(zl, &eptr, &sptr);
    }
    return NULL;
}

static int zzlLexGteMin(unsigned char *eptr, const zlexrangespec *r) {
    if (r->min == zslLexMin) return 1;
    if (r->min == zslLexMax) return 0;
    int cmp = zzlCompareMember(eptr, r->min, sdslen(r->min));
    return r->minex ? cmp > 0 : cmp >= 0;
}

static int zzlLexLteMax(unsigned char *eptr, const zlexrangespec *r) {
    if (r->max == zslLexMax) return 1;
    if (r->max == zslLexMin) return 0;
    int cmp = zzlCompareMember(eptr, r->max, sdslen(r->max));
    return r->maxex ? cmp < 0 : cmp <= 0;
}

static int zzlIsInLexRange(unsigned char *zl, const zlexrangespec *r) {
    if (lexRangeEmpty(r)) return 0;
    unsigned char *p = lpSeek(zl, -2);
    if (p == NULL || !zzlLexGteMin(p, r)) return 0;
    return zzlLexLteMax(lpFirst(zl), r);
}

static unsigned char *zzlFirstInLexRange(unsigned char *zl, const zlexrangespec *r) {
    if (!zzlIsInLexRange(zl, r)) return NULL;
    unsigned char *eptr = lpFirst(zl), *sptr = lpNext(zl, eptr);
    while (eptr) {
        if (zzlLexGteMin(eptr, r)) return zzlLexLteMax(eptr, r) ? eptr : NULL;
        zzlNext(zl, &eptr, &sptr);
    }
    return NULL;
}

static unsigned char *zzlLastInLexRange(unsigned char *zl, const zlexrangespec *r) {
    if (!zzlIsInLexRange(zl, r)) return NULL;
    unsigned char *eptr = lpSeek(zl, -2), *sptr = lpNext(zl, eptr);
    while (eptr) {
        if (zzlLexLteMax(eptr, r)) return zzlLexGteMin(eptr, r) ? eptr : NULL;
        zzlPrev(zl, &eptr, &sptr);
    }
    return NULL;
}

/* Deletes the run of pairs starting at eptr for which inRange holds; one splice. */
static unsigned char *zzlDeleteRun(unsigned char *zl, unsigned char *eptr,
                                   int (*inRange)(unsigned char *eptr, unsigned char *sptr,
                                                  const void *range),
                                   const void *range, unsigned long *deleted) {
    unsigned long n = 0;
    unsigned char *e = eptr, *s = lpNext(zl, e);
    while (e && inRange(e, s, range)) {
        n++;
        zzlNext(zl, &e, &s);
    }
    *deleted = n;
    return n ? lpDeleteRangeWithEntry(zl, &eptr, 2 * n) : zl;
}

static int zzlPairLteMax(unsigned char *eptr, unsigned char *sptr, const void *range) {
    (void)eptr;
    return zslValueLteMax(zzlGetScore(sptr), range);
}

static int zzlPairLexLteMax(unsigned char *eptr, unsigned char *sptr, const void *range) {
    (void)sptr;
    return zzlLexLteMax(eptr, range);
}

/* Integrity check of a listpack from outside (RDB, RESTORE). */
typedef struct {
    unsigned long count;
    hashtable *members;
} zzlValidateState;

static uint64_t sdsHashPlain(const void *key) {
    return hashtableGenHashFunction((const char *)key, sdslen((const sds)key));
}

static void sdsFreeEntry(void *entry) {
    sdsfree(entry);
}

static hashtableType zzlValidateType = {
    .hashFunction = sdsHashPlain,
    .keyCompare = zsetSdsCompare,
    .entryDestructor = sdsFreeEntry,
};

static int zzlValidateEntry(unsigned char *p, unsigned int head_count, void *userdata) {
    zzlValidateState *st = userdata;
    if (st->members == NULL) {
        st->members = hashtableCreate(&zzlValidateType);
        hashtableExpand(st->members, head_count / 2);
    }
    if ((st->count & 1) == 0) {
        sds member = zzlMemberSds(p);
        if (!hashtableAdd(st->members, member)) {
            sdsfree(member);
            return 0; /* duplicate member */
        }
    }
    st->count++;
    return 1;
}

int zsetListpackValidateIntegrity(unsigned char *zl, size_t size, int deep) {
    if (!deep) return lpValidateIntegrity(zl, size, 0, NULL, NULL);
    zzlValidateState st = {0, NULL};
    int ok = lpValidateIntegrity(zl, size, 1, zzlValidateEntry, &st);
    if (st.count & 1) ok = 0; /* a member without its score */
    if (st.members) hashtableRelease(st.members);
    return ok;
}

/* ------------------------------------------------------------------------- */
/* Objects, conversions                                                        */
/* ------------------------------------------------------------------------- */

robj *createZsetObject(void) {
    robj *o = createObject(OBJ_ZSET, zsetCreateStruct());
    o->encoding = OBJ_ENCODING_SKIPLIST;
    return o;
}

robj *createZsetListpackObject(void) {
    robj *o = createObject(OBJ_ZSET, lpNew(0));
    o->encoding = OBJ_ENCODING_LISTPACK;
    return o;
}

robj *zsetTypeCreate(size_t size_hint, size_t value_len_hint) {
    if (size_hint <= zset_max_listpack_entries && value_len_hint <= zset_max_listpack_value)
        return createZsetListpackObject();
    robj *o = createZsetObject();
    if (size_hint) hashtableExpand(((zset *)objectGetVal(o))->ht, size_hint);
    return o;
}

unsigned long zsetLength(const robj *zobj) {
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) return zzlLength(objectGetVal(zobj));
    serverAssert(zobj->encoding == OBJ_ENCODING_SKIPLIST);
    return ((const zset *)objectGetVal(zobj))->zsl->length;
}

/* Converts, presizing the hashtable for `cap` members when going to a skiplist. */
static void zsetConvertAndExpand(robj *zobj, int encoding, unsigned long cap) {
    if (zobj->encoding == (unsigned)encoding) return;
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        serverAssert(encoding == OBJ_ENCODING_SKIPLIST);
        unsigned char *zl = objectGetVal(zobj);
        zset *zs = zsetCreateStruct();
        if (cap) hashtableExpand(zs->ht, cap);
        unsigned char *eptr = lpFirst(zl), *sptr = eptr ? lpNext(zl, eptr) : NULL;
        while (eptr) {
            zskiplistNode *node = zslInsert(zs->zsl, zzlGetScore(sptr), zzlMemberSds(eptr));
            hashtableAdd(zs->ht, node);
            zzlNext(zl, &eptr, &sptr);
        }
        lpFree(zl);
        objectSetVal(zobj, zs);
        zobj->encoding = OBJ_ENCODING_SKIPLIST;
    } else {
        serverAssert(zobj->encoding == OBJ_ENCODING_SKIPLIST && encoding == OBJ_ENCODING_LISTPACK);
        zset *zs = objectGetVal(zobj);
        unsigned char *zl = lpNew(0);
        for (zskiplistNode *n = zs->zsl->header->level[0].forward; n; n = n->level[0].forward)
            zl = zzlInsertAt(zl, NULL, n->ele, sdslen(n->ele), n->score);
        zsetFreeStruct(zs);
        objectSetVal(zobj, zl);
        zobj->encoding = OBJ_ENCODING_LISTPACK;
    }
}

void zsetConvert(robj *zobj, int encoding) {
    zsetConvertAndExpand(zobj, encoding, zsetLength(zobj));
}

void zsetTypeMaybeConvert(robj *zobj, size_t size_hint) {
    if (zobj->encoding == OBJ_ENCODING_LISTPACK && size_hint > zset_max_listpack_entries)
        zsetConvertAndExpand(zobj, OBJ_ENCODING_SKIPLIST, size_hint);
}

void zsetConvertToListpackIfNeeded(robj *zobj, size_t maxelelen, size_t totelelen) {
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) return;
    zset *zs = objectGetVal(zobj);
    if (zs->zsl->length <= zset_max_listpack_entries && maxelelen <= zset_max_listpack_value &&
        lpSafeToAdd(NULL, totelelen))
        zsetConvert(zobj, OBJ_ENCODING_LISTPACK);
}

robj *zsetDup(const robj *zobj) {
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        robj *o = createObject(OBJ_ZSET, lpDup(objectGetVal(zobj)));
        o->encoding = OBJ_ENCODING_LISTPACK;
        return o;
    }
    const zset *src = objectGetVal(zobj);
    robj *o = createZsetObject();
    zset *dst = objectGetVal(o);
    if (src->zsl->length) hashtableExpand(dst->ht, src->zsl->length);
    /* From the tail: every insert then lands at the head, the cheapest place. */
    for (zskiplistNode *n = src->zsl->tail; n; n = n->backward) {
        zskiplistNode *copy = zslInsert(dst->zsl, n->score, sdsdup(n->ele));
        hashtableAdd(dst->ht, copy);
    }
    return o;
}

static void zsetFreeValue(robj *o) {
    if (o->encoding == OBJ_ENCODING_LISTPACK)
        lpFree(objectGetVal(o));
    else
        zsetFreeStruct(objectGetVal(o));
}

size_t zsetAllocSize(const robj *zobj, size_t samples) {
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) return zmalloc_usable_size(objectGetVal(zobj));
    const zset *zs = objectGetVal(zobj);
    size_t size = zmalloc_usable_size((void *)zs) + zmalloc_usable_size(zs->zsl) +
                  zmalloc_usable_size(zs->zsl->header) + hashtableMemUsage(zs->ht);
    size_t seen = 0, nodes = 0;
    for (zskiplistNode *n = zs->zsl->header->level[0].forward; n && (samples == 0 || seen < samples);
         n = n->level[0].forward, seen++)
        nodes += zmalloc_usable_size(n) + sdsAllocSize(n->ele);
    if (seen) size += (size_t)((double)nodes / (double)seen * (double)zs->zsl->length);
    return size;
}

static size_t zsetFreeEffort(const robj *o) {
    if (o->encoding == OBJ_ENCODING_SKIPLIST) return ((const zset *)objectGetVal(o))->zsl->length;
    return 1;
}

static size_t zsetAllocSizeProc(const robj *o, size_t samples) {
    return zsetAllocSize(o, samples);
}

/* ------------------------------------------------------------------------- */
/* Encoding-independent API                                                    */
/* ------------------------------------------------------------------------- */

int zsetAdd(robj *zobj, double score, sds ele, int in_flags, int *out_flags, double *newscore) {
    int incr = (in_flags & ZADD_IN_INCR) != 0;
    int nx = (in_flags & ZADD_IN_NX) != 0;
    int xx = (in_flags & ZADD_IN_XX) != 0;
    int gt = (in_flags & ZADD_IN_GT) != 0;
    int lt = (in_flags & ZADD_IN_LT) != 0;
    *out_flags = 0;
    if (isnan(score)) {
        *out_flags = ZADD_OUT_NAN;
        return 0;
    }

    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *zl = objectGetVal(zobj);
        double curscore;
        unsigned char *eptr = zzlFind(zl, ele, sdslen(ele), &curscore);
        if (eptr) {
            if (nx) {
                *out_flags |= ZADD_OUT_NOP;
                return 1;
            }
            if (incr) {
                score += curscore;
                if (isnan(score)) {
                    *out_flags |= ZADD_OUT_NAN;
                    return 0;
                }
            }
            if ((lt && score >= curscore) || (gt && score <= curscore)) {
                *out_flags |= ZADD_OUT_NOP;
                return 1;
            }
            if (newscore) *newscore = score;
            if (score != curscore) {
                objectSetVal(zobj, zzlUpdateScore(zl, eptr, ele, sdslen(ele), score));
                *out_flags |= ZADD_OUT_UPDATED;
            }
            return 1;
        }
        if (xx) {
            *out_flags |= ZADD_OUT_NOP;
            return 1;
        }
        if (zzlLength(zl) + 1 <= zset_max_listpack_entries && sdslen(ele) <= zset_max_listpack_value &&
            lpSafeToAdd(zl, sdslen(ele))) {
            objectSetVal(zobj, zzlInsert(zl, ele, sdslen(ele), score));
            if (newscore) *newscore = score;
            *out_flags |= ZADD_OUT_ADDED;
            return 1;
        }
        zsetConvertAndExpand(zobj, OBJ_ENCODING_SKIPLIST, zzlLength(zl) + 1);
        /* and add it below, to the skiplist */
    }

    serverAssert(zobj->encoding == OBJ_ENCODING_SKIPLIST);
    zset *zs = objectGetVal(zobj);
    zskiplistNode *node;
    if (xx) {
        node = zsetFindNode(zs, ele);
        if (node == NULL) {
            *out_flags |= ZADD_OUT_NOP;
            return 1;
        }
    } else {
        hashtablePosition pos;
        void *existing;
        if (hashtableFindPositionForInsert(zs->ht, ele, &pos, &existing)) {
            node = zslInsert(zs->zsl, score, sdsdup(ele));
            hashtableInsertAtPosition(zs->ht, node, &pos);
            if (newscore) *newscore = score;
            *out_flags |= ZADD_OUT_ADDED;
            return 1;
        }
        node = existing;
    }

    if (nx) {
        *out_flags |= ZADD_OUT_NOP;
        return 1;
    }
    double curscore = node->score;
    if (incr) {
        score += curscore;
        if (isnan(score)) {
            *out_flags |= ZADD_OUT_NAN;
            return 0;
        }
    }
    if ((lt && score >= curscore) || (gt && score <= curscore)) {
        *out_flags |= ZADD_OUT_NOP;
        return 1;
    }
    if (newscore) *newscore = score;
    if (score != curscore) {
        zslUpdateScore(zs->zsl, curscore, node->ele, score); /* same node, moved */
        *out_flags |= ZADD_OUT_UPDATED;
    }
    return 1;
}

int zsetDel(robj *zobj, sds ele) {
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *zl = objectGetVal(zobj);
        unsigned char *eptr = zzlFind(zl, ele, sdslen(ele), NULL);
        if (!eptr) return 0;
        objectSetVal(zobj, zzlDelete(zl, eptr));
        return 1;
    }
    zset *zs = objectGetVal(zobj);
    void *found;
    if (!hashtablePop(zs->ht, ele, &found)) return 0;
    zskiplistNode *node = found;
    serverAssert(zslDelete(zs->zsl, node->score, node->ele, NULL));
    return 1;
}

int zsetScore(robj *zobj, sds member, double *score) {
    if (zobj == NULL || member == NULL) return 0;
    if (zobj->encoding == OBJ_ENCODING_LISTPACK)
        return zzlFind(objectGetVal(zobj), member, sdslen(member), score) != NULL;
    zskiplistNode *node = zsetFindNode(objectGetVal(zobj), member);
    if (!node) return 0;
    if (score) *score = node->score;
    return 1;
}

long zsetRank(robj *zobj, sds ele, int reverse, double *score) {
    unsigned long llen = zsetLength(zobj);
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *zl = objectGetVal(zobj);
        unsigned char *eptr = lpFirst(zl), *sptr = eptr ? lpNext(zl, eptr) : NULL;
        unsigned long rank = 0;
        while (eptr) {
            if (zzlCompareMember(eptr, ele, sdslen(ele)) == 0) {
                if (score) *score = zzlGetScore(sptr);
                return (long)(reverse ? llen - 1 - rank : rank);
            }
            rank++;
            zzlNext(zl, &eptr, &sptr);
        }
        return -1;
    }
    zset *zs = objectGetVal(zobj);
    zskiplistNode *node = zsetFindNode(zs, ele);
    if (!node) return -1;
    unsigned long rank = zslGetRankByNode(zs->zsl, node); /* 1-based */
    if (score) *score = node->score;
    return (long)(reverse ? llen - rank : rank - 1);
}

void zsetIteratorInit(zsetIterator *it, robj *zobj, int reverse) {
    it->zobj = zobj;
    it->reverse = reverse;
    it->eptr = NULL;
    it->node = NULL;
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *zl = objectGetVal(zobj);
        it->eptr = reverse ? lpSeek(zl, -2) : lpFirst(zl);
    } else {
        zskiplist *zsl = ((zset *)objectGetVal(zobj))->zsl;
        it->node = reverse ? zsl->tail : zsl->header->level[0].forward;
    }
}

int zsetIteratorInitAtScore(zsetIterator *it, robj *zobj, const zrangespec *range) {
    zsetIteratorInit(it, zobj, 0);
    if (zobj->encoding == OBJ_ENCODING_LISTPACK)
        it->eptr = zzlFirstInRange(objectGetVal(zobj), range);
    else
        it->node = zslFirstInRange(((zset *)objectGetVal(zobj))->zsl, range);
    return it->eptr != NULL || it->node != NULL;
}

int zsetIteratorNext(zsetIterator *it, const unsigned char **str, size_t *len, long long *ll,
                     double *score) {
    if (it->zobj->encoding == OBJ_ENCODING_LISTPACK) {
        if (!it->eptr) return 0;
        unsigned char *zl = objectGetVal(it->zobj);
        unsigned char *eptr = it->eptr, *sptr = lpNext(zl, eptr);
        *str = zzlMember(eptr, len, ll);
        *score = zzlGetScore(sptr);
        if (it->reverse)
            zzlPrev(zl, &eptr, &sptr);
        else
            zzlNext(zl, &eptr, &sptr);
        it->eptr = eptr;
        return 1;
    }
    zskiplistNode *n = it->node;
    if (!n) return 0;
    *str = (const unsigned char *)n->ele;
    *len = sdslen(n->ele);
    *score = n->score;
    it->node = it->reverse ? n->backward : n->level[0].forward;
    return 1;
}

/* Deletes ranks start..end (0-based, inclusive, valid). */
static void zsetDeleteRankRange(robj *zobj, unsigned long start, unsigned long end) {
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        objectSetVal(zobj, lpDeleteRange(objectGetVal(zobj), (long)(2 * start), 2 * (end - start + 1)));
    } else {
        zset *zs = objectGetVal(zobj);
        zslDeleteRangeByRank(zs->zsl, start + 1, end + 1, zsetForgetNode, zs->ht);
    }
}

/* ------------------------------------------------------------------------- */
/* Argument helpers                                                            */
/* ------------------------------------------------------------------------- */

static inline sds argSds(client *c, int i) {
    return objectGetVal(c->argv[i]);
}

static inline int argIs(client *c, int i, const char *name) {
    return strcasecmp(argSds(c, i), name) == 0;
}

static int parseScoreRange(client *c, int minidx, int maxidx, zrangespec *range) {
    sds min = argSds(c, minidx), max = argSds(c, maxidx);
    if (zslParseRange(min, sdslen(min), max, sdslen(max), range) != ZSL_OK) {
        addReplyError(c, "min or max is not a float");
        return C_ERR;
    }
    return C_OK;
}

static int parseLexRange(client *c, int minidx, int maxidx, zlexrangespec *range) {
    sds min = argSds(c, minidx), max = argSds(c, maxidx);
    if (zslParseLexRange(min, sdslen(min), max, sdslen(max), range) != ZSL_OK) {
        addReplyError(c, "min or max not valid string range item");
        return C_ERR;
    }
    return C_OK;
}

static void addReplyMember(client *c, const unsigned char *str, size_t len, long long ll) {
    if (str)
        addReplyBulkCBuffer(c, str, len);
    else
        addReplyBulkLongLong(c, ll);
}

/* ------------------------------------------------------------------------- */
/* ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK                          */
/* ------------------------------------------------------------------------- */

static void zaddGenericCommand(client *c, int flags) {
    robj *key = c->argv[1];
    int scoreidx = 2;
    while (scoreidx < c->argc) {
        if (argIs(c, scoreidx, "nx"))
            flags |= ZADD_IN_NX;
        else if (argIs(c, scoreidx, "xx"))
            flags |= ZADD_IN_XX;
        else if (argIs(c, scoreidx, "ch"))
            flags |= ZADD_IN_CH_LOCAL;
        else if (argIs(c, scoreidx, "incr"))
            flags |= ZADD_IN_INCR;
        else if (argIs(c, scoreidx, "gt"))
            flags |= ZADD_IN_GT;
        else if (argIs(c, scoreidx, "lt"))
            flags |= ZADD_IN_LT;
        else
            break;
        scoreidx++;
    }
    int incr = (flags & ZADD_IN_INCR) != 0, nx = (flags & ZADD_IN_NX) != 0;
    int xx = (flags & ZADD_IN_XX) != 0, gt = (flags & ZADD_IN_GT) != 0;
    int lt = (flags & ZADD_IN_LT) != 0, ch = (flags & ZADD_IN_CH_LOCAL) != 0;
    flags &= ~ZADD_IN_CH_LOCAL;

    long elements = c->argc - scoreidx;
    if (elements % 2 || elements == 0) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    elements /= 2;
    if (nx && xx) {
        addReplyError(c, "XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        addReplyError(c, "GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        addReplyError(c, "INCR option supports a single increment-element pair");
        return;
    }

    double single_score;
    double *scores = elements == 1 ? &single_score : zmalloc(sizeof(double) * (size_t)elements);
    size_t maxelelen = 0;
    for (long j = 0; j < elements; j++) {
        if (getDoubleFromObjectOrReply(c, c->argv[scoreidx + j * 2], &scores[j], NULL) != C_OK) goto cleanup;
        size_t len = sdslen(argSds(c, scoreidx + 1 + (int)j * 2));
        if (len > maxelelen) maxelelen = len;
    }

    robj *zobj = lookupKeyWrite(c->db, key);
    if (checkType(c, zobj, OBJ_ZSET)) goto cleanup;
    long added = 0, updated = 0, processed = 0;
    double score = 0;
    if (zobj == NULL) {
        if (xx) goto reply;
        zobj = dbAdd(c->db, key, zsetTypeCreate((size_t)elements, maxelelen));
    } else {
        zsetTypeMaybeConvert(zobj, (size_t)elements);
    }

    for (long j = 0; j < elements; j++) {
        int out;
        double newscore = scores[j];
        if (!zsetAdd(zobj, scores[j], argSds(c, scoreidx + 1 + (int)j * 2), flags, &out, &newscore)) {
            addReplyError(c, "resulting score is not a number (NaN)");
            goto cleanup;
        }
        if (out & ZADD_OUT_ADDED) added++;
        if (out & ZADD_OUT_UPDATED) updated++;
        if (!(out & ZADD_OUT_NOP)) processed++;
        score = newscore;
    }
    server.dirty += added + updated;

reply:
    if (incr) {
        if (processed)
            addReplyDouble(c, score);
        else
            addReplyNull(c);
    } else {
        addReplyLongLong(c, ch ? added + updated : added);
    }
    if (added || updated) {
        signalModifiedKey(c, c->db, key);
        notifyKeyspaceEvent(NOTIFY_ZSET, incr ? "zincr" : "zadd", key, c->db->id);
    }
cleanup:
    if (scores != &single_score) zfree(scores);
}

void zaddCommand(client *c) {
    zaddGenericCommand(c, ZADD_IN_NONE);
}

void zincrbyCommand(client *c) {
    zaddGenericCommand(c, ZADD_IN_INCR);
}

void zremCommand(client *c) {
    robj *key = c->argv[1];
    robj *zobj = lookupKeyWriteOrReply(c, key, shared.czero);
    if (zobj == NULL || checkType(c, zobj, OBJ_ZSET)) return;
    long deleted = 0;
    int keyremoved = 0;
    for (int j = 2; j < c->argc; j++) {
        if (zsetDel(zobj, argSds(c, j))) deleted++;
        if (zsetLength(zobj) == 0) {
            dbDelete(c->db, key);
            keyremoved = 1;
            break;
        }
    }
    if (deleted) {
        notifyKeyspaceEvent(NOTIFY_ZSET, "zrem", key, c->db->id);
        if (keyremoved) notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key, c->db->id);
        signalModifiedKey(c, c->db, key);
        server.dirty += deleted;
    }
    addReplyLongLong(c, deleted);
}

void zcardCommand(client *c) {
    robj *zobj = lookupKeyReadOrReply(c, c->argv[1], shared.czero);
    if (zobj == NULL || checkType(c, zobj, OBJ_ZSET)) return;
    addReplyLongLong(c, (long long)zsetLength(zobj));
}

void zscoreCommand(client *c) {
    robj *zobj = lookupKeyReadOrReply(c, c->argv[1], shared.null[c->resp]);
    if (zobj == NULL || checkType(c, zobj, OBJ_ZSET)) return;
    double score;
    if (zsetScore(zobj, argSds(c, 2), &score))
        addReplyDouble(c, score);
    else
        addReplyNull(c);
}

void zmscoreCommand(client *c) {
    robj *zobj = lookupKeyRead(c->db, c->argv[1]);
    if (checkType(c, zobj, OBJ_ZSET)) return;
    addReplyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double score;
        if (zsetScore(zobj, argSds(c, j), &score))
            addReplyDouble(c, score);
        else
            addReplyNull(c);
    }
}

static void zrankGenericCommand(client *c, int reverse) {
    int withscore = 0;
    if (c->argc > 4) {
        addReplyErrorArity(c);
        return;
    }
    if (c->argc == 4) {
        if (!argIs(c, 3, "withscore")) {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
        withscore = 1;
    }
    robj *null = withscore ? shared.nullarray[c->resp] : shared.null[c->resp];
    robj *zobj = lookupKeyReadOrReply(c, c->argv[1], null);
    if (zobj == NULL || checkType(c, zobj, OBJ_ZSET)) return;
    double score;
    long rank = zsetRank(zobj, argSds(c, 2), reverse, &score);
    if (rank < 0) {
        addReply(c, null);
        return;
    }
    if (withscore) addReplyArrayLen(c, 2);
    addReplyLongLong(c, rank);
    if (withscore) addReplyDouble(c, score);
}

void zrankCommand(client *c) {
    zrankGenericCommand(c, 0);
}

void zrevrankCommand(client *c) {
    zrankGenericCommand(c, 1);
}

/* ------------------------------------------------------------------------- */
/* ZCOUNT, ZLEXCOUNT                                                           */
/* ------------------------------------------------------------------------- */

void zcountCommand(client *c) {
    zrangespec range;
    if (parseScoreRange(c, 2, 3, &range) != C_OK) return;
    robj *zobj = lookupKeyReadOrReply(c, c->argv[1], shared.czero);
    if (zobj == NULL || checkType(c, zobj, OBJ_ZSET)) return;
    unsigned long count = 0;
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *zl = objectGetVal(zobj);
        unsigned char *eptr = zzlFirstInRange(zl, &range), *sptr = eptr ? lpNext(zl, eptr) : NULL;
        while (eptr && zslValueLteMax(zzlGetScore(sptr), &range)) {
            count++;
            zzlNext(zl, &eptr, &sptr);
        }
    } else {
        zskiplist *zsl = ((zset *)objectGetVal(zobj))->zsl;
        zskiplistNode *first = zslFirstInRange(zsl, &range);
        if (first) {
            zskiplistNode *last = zslLastInRange(zsl, &range);
            count = zslGetRankByNode(zsl, last) - zslGetRankByNode(zsl, first) + 1;
        }
    }
    addReplyLongLong(c, (long long)count);
}

void zlexcountCommand(client *c) {
    zlexrangespec range;
    if (parseLexRange(c, 2, 3, &range) != C_OK) return;
    robj *zobj = lookupKeyReadOrReply(c, c->argv[1], shared.czero);
    if (zobj == NULL || checkType(c, zobj, OBJ_ZSET)) {
        zslFreeLexRange(&range);
        return;
    }
    unsigned long count = 0;
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *zl = objectGetVal(zobj);
        unsigned char *eptr = zzlFirstInLexRange(zl, &range), *sptr = eptr ? lpNext(zl, eptr) : NULL;
        while (eptr && zzlLexLteMax(eptr, &range)) {
            count++;
            zzlNext(zl, &eptr, &sptr);
        }
    } else {
        zskiplist *zsl = ((zset *)objectGetVal(zobj))->zsl;
        zskiplistNode *first = zslFirstInLexRange(zsl, &range);
        if (first) {
            zskiplistNode *last = zslLastInLexRange(zsl, &range);
            count = zslGetRankByNode(zsl, last) - zslGetRankByNode(zsl, first) + 1;
        }
    }
    zslFreeLexRange(&range);
    addReplyLongLong(c, (long long)count);
}

/* ------------------------------------------------------------------------- */
/* ZREMRANGEBYRANK / BYSCORE / BYLEX                                           */
/* ------------------------------------------------------------------------- */

typedef enum { ZRANGE_AUTO = 0, ZRANGE_RANK, ZRANGE_SCORE, ZRANGE_LEX } zrangeType;

static void zremrangeGenericCommand(client *c, zrangeType type) {
    robj *key = c->argv[1];
    long start = 0, end = 0;
    zrangespec range;
    zlexrangespec lexrange = {NULL, NULL, 0, 0};

    if (type == ZRANGE_RANK) {
        if (getLongFromObjectOrReply(c, c->argv[2], &start, NULL) != C_OK ||
            getLongFromObjectOrReply(c, c->argv[3], &end, NULL) != C_OK)
            return;
    } else if (type == ZRANGE_SCORE) {
        if (parseScoreRange(c, 2, 3, &range) != C_OK) return;
    } else {
        if (parseLexRange(c, 2, 3, &lexrange) != C_OK) return;
    }

    unsigned long deleted = 0;
    robj *zobj = lookupKeyWriteOrReply(c, key, shared.czero);
    if (zobj == NULL || checkType(c, zobj, OBJ_ZSET)) goto cleanup;

    if (type == ZRANGE_RANK) {
        long llen = (long)zsetLength(zobj);
        if (start < 0) start += llen;
        if (end < 0) end += llen;
        if (start < 0) start = 0;
        if (start > end || start >= llen) {
            addReply(c, shared.czero);
            goto cleanup;
        }
        if (end >= llen) end = llen - 1;
        zsetDeleteRankRange(zobj, (unsigned long)start, (unsigned long)end);
        deleted = (unsigned long)(end - start + 1);
    } else if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *zl = objectGetVal(zobj);
        if (type == ZRANGE_SCORE) {
            unsigned char *eptr = zzlFirstInRange(zl, &range);
            if (eptr) zl = zzlDeleteRun(zl, eptr, zzlPairLteMax, &range, &deleted);
        } else {
            unsigned char *eptr = zzlFirstInLexRange(zl, &lexrange);
            if (eptr) zl = zzlDeleteRun(zl, eptr, zzlPairLexLteMax, &lexrange, &deleted);
        }
        objectSetVal(zobj, zl);
    } else {
        zset *zs = objectGetVal(zobj);
        if (type == ZRANGE_SCORE)
            deleted = zslDeleteRangeByScore(zs->zsl, &range, zsetForgetNode, zs->ht);
        else
            deleted = zslDeleteRangeByLex(zs->zsl, &lexrange, zsetForgetNode, zs->ht);
    }

    int keyremoved = 0;
    if (zsetLength(zobj) == 0) {
        dbDelete(c->db, key);
        keyremoved = 1;
    }
    if (deleted) {
        static const char *events[] = {[ZRANGE_RANK] = "zremrangebyrank",
                                       [ZRANGE_SCORE] = "zremrangebyscore",
                                       [ZRANGE_LEX] = "zremrangebylex"};
        signalModifiedKey(c, c->db, key);
        notifyKeyspaceEvent(NOTIFY_ZSET, events[type], key, c->db->id);
        if (keyremoved) notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key, c->db->id);
    }
    server.dirty += (long long)deleted;
    addReplyLongLong(c, (long long)deleted);

cleanup:
    if (type == ZRANGE_LEX) zslFreeLexRange(&lexrange);
}

void zremrangebyrankCommand(client *c) {
    zremrangeGenericCommand(c, ZRANGE_RANK);
}

void zremrangebyscoreCommand(client *c) {
    zremrangeGenericCommand(c, ZRANGE_SCORE);
}

void zremrangebylexCommand(client *c) {
    zremrangeGenericCommand(c, ZRANGE_LEX);
}

/* ------------------------------------------------------------------------- */
/* The ZRANGE family                                                           */
/* ------------------------------------------------------------------------- */

/* Where range results go: the client, or (ZRANGESTORE) a new set. */
typedef struct {
    client *c;
    int withscores;
    robj *dstkey;  /* ZRANGESTORE destination, NULL when replying */
    robj *dst;     /* the set being built (owned until stored) */
    void *deferred; /* reply length sent at the end */
    unsigned long count;
} rangeSink;

static void sinkBegin(rangeSink *s, long length) {
    s->count = 0;
    s->deferred = NULL;
    if (s->dstkey) {
        s->dst = zsetTypeCreate(length > 0 ? (size_t)length : 0, 0);
        return;
    }
    if (length > 0) {
        /* RESP2 flattens (member, score) pairs; RESP3 nests each as a 2-element array. */
        addReplyArrayLen(s->c, s->withscores && s->c->resp == 2 ? length * 2 : length);
    } else {
        s->deferred = addReplyDeferredLen(s->c);
    }
}

static void sinkEmit(rangeSink *s, const unsigned char *str, size_t len, long long ll, double score) {
    s->count++;
    if (s->dstkey) {
        sds ele = str ? sdsnewlen(str, len) : sdsfromlonglong(ll);
        int out;
        serverAssert(zsetAdd(s->dst, score, ele, ZADD_IN_NONE, &out, NULL));
        sdsfree(ele);
        return;
    }
    if (s->withscores && s->c->resp > 2) addReplyArrayLen(s->c, 2);
    addReplyMember(s->c, str, len, ll);
    if (s->withscores) addReplyDouble(s->c, score);
}

static void sinkFinish(rangeSink *s) {
    client *c = s->c;
    if (s->dstkey) {
        if (s->count) {
            robj *dst = s->dst;
            setKey(c, c->db, s->dstkey, &dst, 0);
            addReplyLongLong(c, (long long)s->count);
            notifyKeyspaceEvent(NOTIFY_ZSET, "zrangestore", s->dstkey, c->db->id);
            server.dirty++;
        } else {
            addReply(c, shared.czero);
            if (dbDelete(c->db, s->dstkey)) {
                signalModifiedKey(c, c->db, s->dstkey);
                notifyKeyspaceEvent(NOTIFY_GENERIC, "del", s->dstkey, c->db->id);
                server.dirty++;
            }
            decrRefCount(s->dst);
        }
        s->dst = NULL;
        return;
    }
    if (s->deferred) {
        long n = (long)s->count;
        setDeferredArrayLen(c, s->deferred, s->withscores && c->resp == 2 ? n * 2 : n);
    }
}

static void rangeByRank(rangeSink *s, robj *zobj, long start, long end, int reverse) {
    long llen = (long)zsetLength(zobj);
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        sinkBegin(s, 0);
        sinkFinish(s);
        return;
    }
    if (end >= llen) end = llen - 1;
    long n = end - start + 1;
    sinkBegin(s, n);
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *zl = objectGetVal(zobj);
        unsigned char *eptr = lpSeek(zl, 2 * (reverse ? llen - 1 - start : start));
        unsigned char *sptr = lpNext(zl, eptr);
        while (n-- && eptr) {
            size_t len;
            long long ll;
            const unsigned char *str = zzlMember(eptr, &len, &ll);
            sinkEmit(s, str, len, ll, zzlGetScore(sptr));
            if (reverse)
                zzlPrev(zl, &eptr, &sptr);
            else
                zzlNext(zl, &eptr, &sptr);
        }
    } else {
        zskiplist *zsl = ((zset *)objectGetVal(zobj))->zsl;
        zskiplistNode *node = zslGetElementByRank(zsl, (unsigned long)(reverse ? llen - start : start + 1));
        while (n-- && node) {
            sinkEmit(s, (const unsigned char *)node->ele, sdslen(node->ele), 0, node->score);
            node = reverse ? node->backward : node->level[0].forward;
        }
    }
    sinkFinish(s);
}

/* Skips `offset` nodes from node in the walking direction, in O(log N). */
static zskiplistNode *zslSkip(zskiplist *zsl, zskiplistNode *node, long offset, int reverse) {
    if (!node || offset == 0) return node;
    if (offset < 0) return NULL; /* Valkey walks off the end: nothing is returned */
    unsigned long rank = zslGetRankByNode(zsl, node);
    if (reverse) return (unsigned long)offset >= rank ? NULL : zslGetElementByRank(zsl, rank - (unsigned long)offset);
    if ((unsigned long)offset > zsl->length - rank) return NULL;
    return zslGetElementByRank(zsl, rank + (unsigned long)offset);
}

/* Listpack counterpart of zslSkip. */
static void zzlSkip(unsigned char *zl, unsigned char **eptr, unsigned char **sptr, long offset, int reverse) {
    if (offset < 0) {
        *eptr = *sptr = NULL;
        return;
    }
    while (*eptr && offset--) {
        if (reverse)
            zzlPrev(zl, eptr, sptr);
        else
            zzlNext(zl, eptr, sptr);
    }
}

static void rangeByScore(rangeSink *s, robj *zobj, const zrangespec *range, long offset, long limit,
                         int reverse) {
    sinkBegin(s, -1);
    if (offset > 0 && offset >= (long)zsetLength(zobj)) {
        sinkFinish(s);
        return;
    }
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *zl = objectGetVal(zobj);
        unsigned char *eptr = reverse ? zzlLastInRange(zl, range) : zzlFirstInRange(zl, range);
        unsigned char *sptr = eptr ? lpNext(zl, eptr) : NULL;
        zzlSkip(zl, &eptr, &sptr, offset, reverse);
        while (eptr && limit--) {
            double score = zzlGetScore(sptr);
            if (reverse ? !zslValueGteMin(score, range) : !zslValueLteMax(score, range)) break;
            size_t len;
            long long ll;
            const unsigned char *str = zzlMember(eptr, &len, &ll);
            sinkEmit(s, str, len, ll, score);
            if (reverse)
                zzlPrev(zl, &eptr, &sptr);
            else
                zzlNext(zl, &eptr, &sptr);
        }
    } else {
        zskiplist *zsl = ((zset *)objectGetVal(zobj))->zsl;
        zskiplistNode *node = reverse ? zslLastInRange(zsl, range) : zslFirstInRange(zsl, range);
        node = zslSkip(zsl, node, offset, reverse);
        while (node && limit--) {
            if (reverse ? !zslValueGteMin(node->score, range) : !zslValueLteMax(node->score, range)) break;
            sinkEmit(s, (const unsigned char *)node->ele, sdslen(node->ele), 0, node->score);
            node = reverse ? node->backward : node->level[0].forward;
        }
    }
    sinkFinish(s);
}

static void rangeByLex(rangeSink *s, robj *zobj, const zlexrangespec *range, long offset, long limit,
                       int reverse) {
    sinkBegin(s, -1);
    if (offset > 0 && offset >= (long)zsetLength(zobj)) {
        sinkFinish(s);
        return;
    }
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *zl = objectGetVal(zobj);
        unsigned char *eptr = reverse ? zzlLastInLexRange(zl, range) : zzlFirstInLexRange(zl, range);
        unsigned char *sptr = eptr ? lpNext(zl, eptr) : NULL;
        zzlSkip(zl, &eptr, &sptr, offset, reverse);
        while (eptr && limit--) {
            if (reverse ? !zzlLexGteMin(eptr, range) : !zzlLexLteMax(eptr, range)) break;
            size_t len;
            long long ll;
            const unsigned char *str = zzlMember(eptr, &len, &ll);
            sinkEmit(s, str, len, ll, zzlGetScore(sptr));
            if (reverse)
                zzlPrev(zl, &eptr, &sptr);
            else
                zzlNext(zl, &eptr, &sptr);
        }
    } else {
        zskiplist *zsl = ((zset *)objectGetVal(zobj))->zsl;
        zskiplistNode *node = reverse ? zslLastInLexRange(zsl, range) : zslFirstInLexRange(zsl, range);
        node = zslSkip(zsl, node, offset, reverse);
        while (node && limit--) {
            if (reverse ? !zslLexValueGteMin(node->ele, range) : !zslLexValueLteMax(node->ele, range)) break;
            sinkEmit(s, (const unsigned char *)node->ele, sdslen(node->ele), 0, node->score);
            node = reverse ? node->backward : node->level[0].forward;
        }
    }
    sinkFinish(s);
}

typedef enum { ZRANGE_DIR_AUTO = 0, ZRANGE_DIR_FORWARD, ZRANGE_DIR_REVERSE } zrangeDirection;

/* Shared by ZRANGE, ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX and ZRANGESTORE.
 * argv[first] is the source key, then min and max; options follow. */
static void zrangeGenericCommand(client *c, int first, int store, zrangeType type, zrangeDirection dir) {
    int minidx = first + 1, maxidx = first + 2;
    long offset = 0, limit = -1;
    int withscores = 0;

    for (int j = first + 3; j < c->argc; j++) {
        int left = c->argc - j - 1;
        if (!store && argIs(c, j, "withscores")) {
            withscores = 1;
        } else if (argIs(c, j, "limit") && left >= 2) {
            if (getLongFromObjectOrReply(c, c->argv[j + 1], &offset, NULL) != C_OK ||
                getLongFromObjectOrReply(c, c->argv[j + 2], &limit, NULL) != C_OK)
                return;
            j += 2;
        } else if (dir == ZRANGE_DIR_AUTO && argIs(c, j, "rev")) {
            dir = ZRANGE_DIR_REVERSE;
        } else if (type == ZRANGE_AUTO && argIs(c, j, "bylex")) {
            type = ZRANGE_LEX;
        } else if (type == ZRANGE_AUTO && argIs(c, j, "byscore")) {
            type = ZRANGE_SCORE;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    if (dir == ZRANGE_DIR_AUTO) dir = ZRANGE_DIR_FORWARD;
    if (type == ZRANGE_AUTO) type = ZRANGE_RANK;
    int reverse = dir == ZRANGE_DIR_REVERSE;

    if (limit != -1 && type == ZRANGE_RANK) {
        addReplyError(c, "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return;
    }
    if (withscores && type == ZRANGE_LEX) {
        addReplyError(c, "syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    /* Reversed score and lex ranges are given as max, min. */
    if (reverse && type != ZRANGE_RANK) {
        int tmp = minidx;
        minidx = maxidx;
        maxidx = tmp;
    }

    long start = 0, end = 0;
    zrangespec range;
    zlexrangespec lexrange;
    if (type == ZRANGE_RANK) {
        if (getLongFromObjectOrReply(c, c->argv[minidx], &start, NULL) != C_OK ||
            getLongFromObjectOrReply(c, c->argv[maxidx], &end, NULL) != C_OK)
            return;
    } else if (type == ZRANGE_SCORE) {
        if (parseScoreRange(c, minidx, maxidx, &range) != C_OK) return;
    } else {
        if (parseLexRange(c, minidx, maxidx, &lexrange) != C_OK) return;
    }

    rangeSink sink = {.c = c, .withscores = withscores, .dstkey = store ? c->argv[1] : NULL};
    robj *zobj = lookupKeyRead(c->db, c->argv[first]);
    if (zobj == NULL) {
        if (store) {
            sinkBegin(&sink, -1);
            sinkFinish(&sink);
        } else {
            addReply(c, shared.emptyarray);
        }
    } else if (!checkType(c, zobj, OBJ_ZSET)) {
        if (type == ZRANGE_RANK)
            rangeByRank(&sink, zobj, start, end, reverse);
        else if (type == ZRANGE_SCORE)
            rangeByScore(&sink, zobj, &range, offset, limit, reverse);
        else
            rangeByLex(&sink, zobj, &lexrange, offset, limit, reverse);
    }
    if (type == ZRANGE_LEX) zslFreeLexRange(&lexrange);
}

void zrangeCommand(client *c) {
    zrangeGenericCommand(c, 1, 0, ZRANGE_AUTO, ZRANGE_DIR_AUTO);
}

void zrevrangeCommand(client *c) {
    zrangeGenericCommand(c, 1, 0, ZRANGE_RANK, ZRANGE_DIR_REVERSE);
}

void zrangebyscoreCommand(client *c) {
    zrangeGenericCommand(c, 1, 0, ZRANGE_SCORE, ZRANGE_DIR_FORWARD);
}

void zrevrangebyscoreCommand(client *c) {
    zrangeGenericCommand(c, 1, 0, ZRANGE_SCORE, ZRANGE_DIR_REVERSE);
}

void zrangebylexCommand(client *c) {
    zrangeGenericCommand(c, 1, 0, ZRANGE_LEX, ZRANGE_DIR_FORWARD);
}

void zrevrangebylexCommand(client *c) {
    zrangeGenericCommand(c, 1, 0, ZRANGE_LEX, ZRANGE_DIR_REVERSE);
}

void zrangestoreCommand(client *c) {
    zrangeGenericCommand(c, 2, 1, ZRANGE_AUTO, ZRANGE_DIR_AUTO);
}

/* ------------------------------------------------------------------------- */
/* ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD                        */
/* ------------------------------------------------------------------------- */

/* One input: a sorted set, or a plain set whose members all score 1. */
typedef struct {
    robj *subject; /* NULL: missing key, an empty input */
    double weight;
    zsetIterator zit;
    setTypeIterator sit;
} opSource;

/* The current element of an input. */
typedef struct {
    const unsigned char *str; /* NULL: integer in ll */
    size_t len;
    long long ll;
    double score;
} opValue;

static unsigned long opLength(opSource *src) {
    if (!src->subject) return 0;
    if (src->subject->type == OBJ_ZSET) return zsetLength(src->subject);
    return setTypeSize(src->subject);
}

static void opInit(opSource *src) {
    if (src->subject->type == OBJ_ZSET)
        zsetIteratorInit(&src->zit, src->subject, 0);
    else
        setTypeInitIterator(&src->sit, src->subject);
}

static int opNext(opSource *src, opValue *v) {
    if (src->subject->type == OBJ_ZSET) return zsetIteratorNext(&src->zit, &v->str, &v->len, &v->ll, &v->score);
    char *str;
    int64_t ll;
    v->score = 1.0;
    if (setTypeNext(&src->sit, &str, &v->len, &ll) == -1) return 0;
    v->str = (const unsigned char *)str;
    v->ll = ll;
    return 1;
}

static void opClear(opSource *src) {
    if (src->subject->type != OBJ_ZSET) setTypeResetIterator(&src->sit);
}

/* The element as an sds in *scratch (reused between calls: no allocation per element). */
static sds opValueSds(const opValue *v, sds *scratch) {
    sdsclear(*scratch);
    if (v->str) {
        *scratch = sdscatlen(*scratch, v->str, v->len);
    } else {
        char buf[LONG_STR_SIZE];
        *scratch = sdscatlen(*scratch, buf, (size_t)ll2string(buf, sizeof(buf), v->ll));
    }
    return *scratch;
}

static int opFind(opSource *src, sds ele, double *score) {
    if (!src->subject) return 0;
    if (src->subject->type == OBJ_ZSET) return zsetScore(src->subject, ele, score);
    if (!setTypeIsMemberAux(src->subject, ele, sdslen(ele), 0, 1)) return 0;
    *score = 1.0;
    return 1;
}

static int compareSourcesByLength(const void *a, const void *b) {
    unsigned long la = opLength((opSource *)a), lb = opLength((opSource *)b);
    return (la > lb) - (la < lb);
}

#define AGGR_SUM 0
#define AGGR_MIN 1
#define AGGR_MAX 2

static inline void aggregate(double *target, double val, int how) {
    if (how == AGGR_SUM) {
        *target += val;
        if (isnan(*target)) *target = 0.0; /* inf + -inf */
    } else if (how == AGGR_MIN) {
        if (val < *target) *target = val;
    } else if (val > *target) {
        *target = val;
    }
}

typedef enum { SETOP_UNION, SETOP_INTER, SETOP_DIFF } setOp;

/* Adds a member known to be absent to the result; tracks sizes for the final encoding. */
static void opResultInsert(zset *dst, sds ele, double score, size_t *maxelelen, size_t *totelelen) {
    zskiplistNode *node = zslInsert(dst->zsl, score, sdsdup(ele));
    hashtableAdd(dst->ht, node);
    if (sdslen(ele) > *maxelelen) *maxelelen = sdslen(ele);
    *totelelen += sdslen(ele);
}

static void zsetOpGenericCommand(client *c, robj *dstkey, int numkeys_idx, setOp op, int cardinality_only) {
    long setnum;
    if (getLongFromObjectOrReply(c, c->argv[numkeys_idx], &setnum, NULL) != C_OK) return;
    if (setnum < 1) {
        addReplyErrorFormat(c, "at least 1 input key is needed for '%s' command", c->cmd->fullname);
        return;
    }
    if (setnum > c->argc - (numkeys_idx + 1)) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }

    opSource *src = zcalloc(sizeof(opSource) * (size_t)setnum);
    int j = numkeys_idx + 1;
    for (long i = 0; i < setnum; i++, j++) {
        robj *obj = lookupKeyRead(c->db, c->argv[j]);
        if (obj && obj->type != OBJ_ZSET && obj->type != OBJ_SET) {
            zfree(src);
            addReplyErrorObject(c, shared.wrongtypeerr);
            return;
        }
        src[i].subject = obj;
        src[i].weight = 1.0;
    }

    int how = AGGR_SUM, withscores = 0;
    long limit = 0;
    while (j < c->argc) {
        int remaining = c->argc - j;
        if (op != SETOP_DIFF && !cardinality_only && remaining >= setnum + 1 && argIs(c, j, "weights")) {
            j++;
            for (long i = 0; i < setnum; i++, j++) {
                if (getDoubleFromObjectOrReply(c, c->argv[j], &src[i].weight, "weight value is not a float") != C_OK) {
                    zfree(src);
                    return;
                }
            }
        } else if (op != SETOP_DIFF && !cardinality_only && remaining >= 2 && argIs(c, j, "aggregate")) {
            j++;
            if (argIs(c, j, "sum")) {
                how = AGGR_SUM;
            } else if (argIs(c, j, "min")) {
                how = AGGR_MIN;
            } else if (argIs(c, j, "max")) {
                how = AGGR_MAX;
            } else {
                zfree(src);
                addReplyErrorObject(c, shared.syntaxerr);
                return;
            }
            j++;
        } else if (!dstkey && !cardinality_only && argIs(c, j, "withscores")) {
            j++;
            withscores = 1;
        } else if (cardinality_only && remaining >= 2 && argIs(c, j, "limit")) {
            j++;
            if (getPositiveLongFromObjectOrReply(c, c->argv[j], &limit, "LIMIT can't be negative") != C_OK) {
                zfree(src);
                return;
            }
            j++;
        } else {
            zfree(src);
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }

    /* Smallest inputs first: fewer lookups for ZINTER, an early exit when one is empty. */
    if (op != SETOP_DIFF) qsort(src, (size_t)setnum, sizeof(opSource), compareSourcesByLength);

    robj *dstobj = cardinality_only ? NULL : createZsetObject();
    zset *dst = dstobj ? objectGetVal(dstobj) : NULL;
    size_t maxelelen = 0, totelelen = 0;
    unsigned long cardinality = 0;
    sds scratch = sdsempty();
    opValue v;

    if (op == SETOP_INTER) {
        if (opLength(&src[0]) > 0) {
            opInit(&src[0]);
            while (opNext(&src[0], &v)) {
                sds ele = opValueSds(&v, &scratch);
                double score = src[0].weight * v.score;
                if (isnan(score)) score = 0;
                long i;
                for (i = 1; i < setnum; i++) {
                    double other;
                    if (!opFind(&src[i], ele, &other)) break;
                    aggregate(&score, other * src[i].weight, how);
                }
                if (i < setnum) continue;
                if (cardinality_only) {
                    cardinality++;
                    if (limit && cardinality >= (unsigned long)limit) break;
                } else {
                    opResultInsert(dst, ele, score, &maxelelen, &totelelen);
                }
            }
            opClear(&src[0]);
        }
    } else if (op == SETOP_UNION) {
        unsigned long largest = opLength(&src[setnum - 1]);
        if (largest) hashtableExpand(dst->ht, largest);
        for (long i = 0; i < setnum; i++) {
            if (opLength(&src[i]) == 0) continue;
            opInit(&src[i]);
            while (opNext(&src[i], &v)) {
                sds ele = opValueSds(&v, &scratch);
                double score = src[i].weight * v.score;
                if (isnan(score)) score = 0;
                zskiplistNode *node = zsetFindNode(dst, ele);
                if (node == NULL) {
                    opResultInsert(dst, ele, score, &maxelelen, &totelelen);
                } else {
                    double updated = node->score;
                    aggregate(&updated, score, how);
                    if (updated != node->score) zslUpdateScore(dst->zsl, node->score, node->ele, updated);
                }
            }
            opClear(&src[i]);
        }
    } else {
        /* Members of the first input found in none of the others, with their own score. */
        if (opLength(&src[0]) > 0) {
            opInit(&src[0]);
            while (opNext(&src[0], &v)) {
                sds ele = opValueSds(&v, &scratch);
                long i;
                for (i = 1; i < setnum; i++) {
                    double ignored;
                    if (opFind(&src[i], ele, &ignored)) break;
                }
                if (i == setnum) opResultInsert(dst, ele, v.score, &maxelelen, &totelelen);
            }
            opClear(&src[0]);
        }
    }
    sdsfree(scratch);

    if (dstkey) {
        if (dst->zsl->length) {
            zsetConvertToListpackIfNeeded(dstobj, maxelelen, totelelen);
            long long len = (long long)zsetLength(dstobj);
            setKey(c, c->db, dstkey, &dstobj, 0);
            addReplyLongLong(c, len);
            notifyKeyspaceEvent(NOTIFY_ZSET,
                                op == SETOP_UNION ? "zunionstore" : (op == SETOP_INTER ? "zinterstore" : "zdiffstore"),
                                dstkey, c->db->id);
            server.dirty++;
        } else {
            addReply(c, shared.czero);
            if (dbDelete(c->db, dstkey)) {
                signalModifiedKey(c, c->db, dstkey);
                notifyKeyspaceEvent(NOTIFY_GENERIC, "del", dstkey, c->db->id);
                server.dirty++;
            }
            decrRefCount(dstobj);
        }
    } else if (cardinality_only) {
        addReplyLongLong(c, (long long)cardinality);
    } else {
        unsigned long length = dst->zsl->length;
        addReplyArrayLen(c, (long)(withscores && c->resp == 2 ? length * 2 : length));
        for (zskiplistNode *n = dst->zsl->header->level[0].forward; n; n = n->level[0].forward) {
            if (withscores && c->resp > 2) addReplyArrayLen(c, 2);
            addReplyBulkCBuffer(c, n->ele, sdslen(n->ele));
            if (withscores) addReplyDouble(c, n->score);
        }
        if (!lazyfreeFreeObjectIfBig(dstobj)) decrRefCount(dstobj);
    }
    zfree(src);
}

void zunionstoreCommand(client *c) {
    zsetOpGenericCommand(c, c->argv[1], 2, SETOP_UNION, 0);
}

void zinterstoreCommand(client *c) {
    zsetOpGenericCommand(c, c->argv[1], 2, SETOP_INTER, 0);
}

void zdiffstoreCommand(client *c) {
    zsetOpGenericCommand(c, c->argv[1], 2, SETOP_DIFF, 0);
}

void zunionCommand(client *c) {
    zsetOpGenericCommand(c, NULL, 1, SETOP_UNION, 0);
}

void zinterCommand(client *c) {
    zsetOpGenericCommand(c, NULL, 1, SETOP_INTER, 0);
}

void zdiffCommand(client *c) {
    zsetOpGenericCommand(c, NULL, 1, SETOP_DIFF, 0);
}

void zintercardCommand(client *c) {
    zsetOpGenericCommand(c, NULL, 1, SETOP_INTER, 1);
}

/* ------------------------------------------------------------------------- */
/* ZPOPMIN, ZPOPMAX, ZMPOP and the blocking forms                              */
/* ------------------------------------------------------------------------- */

/* Pops from the first non-empty key among keyv (count -1: a single pop without COUNT).
 *  emitkey:      the reply names the key (BZPOP*, ZMPOP)
 *  nested:       pairs as 2-element arrays (ZMPOP, RESP3 ZPOP* with a count)
 *  nil_if_empty: null array rather than an empty one when there is nothing (ZMPOP)
 * Returns 1 when something was popped from keyv[*popped_idx]. */
static int genericZpop(client *c, robj **keyv, int keyc, int where, int emitkey, long count, int nested,
                       int nil_if_empty, int *popped_idx) {
    robj *key = NULL, *zobj = NULL;
    int idx;
    for (idx = 0; idx < keyc; idx++) {
        key = keyv[idx];
        zobj = lookupKeyWrite(c->db, key);
        if (!zobj) continue;
        if (checkType(c, zobj, OBJ_ZSET)) return 0;
        break;
    }
    if (!zobj) {
        if (nil_if_empty)
            addReplyNullArray(c);
        else
            addReply(c, shared.emptyarray);
        return 0;
    }
    if (count == 0) {
        addReply(c, shared.emptyarray);
        return 0;
    }
    if (count == -1) count = 1;

    long llen = (long)zsetLength(zobj);
    long n = count > llen ? llen : count;
    if (!nested && !emitkey) {
        addReplyArrayLen(c, n * 2);
    } else if (nested && !emitkey) {
        addReplyArrayLen(c, n);
    } else if (!nested) {
        addReplyArrayLen(c, n * 2 + 1);
        addReplyBulk(c, key);
    } else {
        addReplyArrayLen(c, 2);
        addReplyBulk(c, key);
        addReplyArrayLen(c, n);
    }

    /* Reply from the end being popped, then cut that end off in one operation. */
    zsetIterator it;
    zsetIteratorInit(&it, zobj, where == ZSET_MAX);
    for (long i = 0; i < n; i++) {
        const unsigned char *str;
        size_t len;
        long long ll;
        double score;
        serverAssert(zsetIteratorNext(&it, &str, &len, &ll, &score));
        if (nested) addReplyArrayLen(c, 2);
        addReplyMember(c, str, len, ll);
        addReplyDouble(c, score);
    }
    if (where == ZSET_MIN)
        zsetDeleteRankRange(zobj, 0, (unsigned long)(n - 1));
    else
        zsetDeleteRankRange(zobj, (unsigned long)(llen - n), (unsigned long)(llen - 1));
    server.dirty += n;
    notifyKeyspaceEvent(NOTIFY_ZSET, where == ZSET_MIN ? "zpopmin" : "zpopmax", key, c->db->id);
    if (llen == n) {
        dbDelete(c->db, key);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key, c->db->id);
    }
    signalModifiedKey(c, c->db, key);
    if (popped_idx) *popped_idx = idx;
    return 1;
}

/* Replicas and the AOF see a plain ZPOPMIN/ZPOPMAX key [count]. */
static void rewriteAsZpop(client *c, robj *key, int where, long count) {
    if (count == -1) {
        rewriteClientCommandVector(c, 2, zpopCommandName(where), key);
        return;
    }
    robj *count_obj = createStringObjectFromLongLong(count > 0 ? count : 1);
    rewriteClientCommandVector(c, 3, zpopCommandName(where), key, count_obj);
    decrRefCount(count_obj);
}

static void zpopMinMaxCommand(client *c, int where) {
    if (c->argc > 3) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    long count = -1;
    if (c->argc == 3 && getPositiveLongFromObjectOrReply(c, c->argv[2], &count, NULL) != C_OK) return;
    /* RESP3 with an explicit count nests the pairs; otherwise a flat array. */
    int nested = c->resp > 2 && count != -1;
    genericZpop(c, &c->argv[1], 1, where, 0, count, nested, 0, NULL);
}

void zpopminCommand(client *c) {
    zpopMinMaxCommand(c, ZSET_MIN);
}

void zpopmaxCommand(client *c) {
    zpopMinMaxCommand(c, ZSET_MAX);
}

static void blockingGenericZpop(client *c, robj **keys, int numkeys, int where, int timeout_idx, long count,
                                int nested, int nil_if_empty) {
    mstime_t timeout;
    if (getTimeoutFromObjectOrReply(c, c->argv[timeout_idx], &timeout, UNIT_SECONDS) != C_OK) return;

    for (int j = 0; j < numkeys; j++) {
        robj *key = keys[j];
        robj *o = lookupKeyWrite(c->db, key);
        if (o == NULL) continue;
        if (checkType(c, o, OBJ_ZSET)) return;
        if (zsetLength(o) == 0) continue;
        incrRefCount(key); /* the rewrite below frees the old argv */
        genericZpop(c, &key, 1, where, 1, count, nested, nil_if_empty, NULL);
        rewriteAsZpop(c, key, where, count);
        decrRefCount(key);
        return;
    }

    /* Not allowed to block (MULTI, scripts): same as an immediate timeout. */
    if (c->flags & CLIENT_DENY_BLOCKING) {
        addReplyNullArray(c);
        return;
    }
    blockForKeys(c, BLOCKED_ZSET, keys, numkeys, timeout, 0);
}

void bzpopminCommand(client *c) {
    blockingGenericZpop(c, c->argv + 1, c->argc - 2, ZSET_MIN, c->argc - 1, -1, 0, 0);
}

void bzpopmaxCommand(client *c) {
    blockingGenericZpop(c, c->argv + 1, c->argc - 2, ZSET_MAX, c->argc - 1, -1, 0, 0);
}

/* ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]; BZMPOP has the timeout first. */
static void zmpopGenericCommand(client *c, int numkeys_idx, int blocking) {
    long numkeys;
    if (getRangeLongFromObjectOrReply(c, c->argv[numkeys_idx], 1, LONG_MAX, &numkeys,
                                      "numkeys should be greater than 0") != C_OK)
        return;
    if (numkeys > c->argc - numkeys_idx - 1) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    int where_idx = numkeys_idx + (int)numkeys + 1;
    if (where_idx >= c->argc) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    int where;
    if (argIs(c, where_idx, "min")) {
        where = ZSET_MIN;
    } else if (argIs(c, where_idx, "max")) {
        where = ZSET_MAX;
    } else {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    long count = -1;
    for (int j = where_idx + 1; j < c->argc; j++) {
        int moreargs = c->argc - 1 - j;
        if (count == -1 && argIs(c, j, "count") && moreargs) {
            j++;
            if (getRangeLongFromObjectOrReply(c, c->argv[j], 1, LONG_MAX, &count, "count should be greater than 0") !=
                C_OK)
                return;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    if (count == -1) count = 1;

    robj **keys = c->argv + numkeys_idx + 1;
    if (blocking) {
        blockingGenericZpop(c, keys, (int)numkeys, where, 1, count, 1, 1);
        return;
    }
    int idx;
    if (genericZpop(c, keys, (int)numkeys, where, 1, count, 1, 1, &idx)) {
        robj *key = keys[idx];
        incrRefCount(key);
        rewriteAsZpop(c, key, where, count);
        decrRefCount(key);
    }
}

void zmpopCommand(client *c) {
    zmpopGenericCommand(c, 1, 0);
}

void bzmpopCommand(client *c) {
    zmpopGenericCommand(c, 2, 1);
}

/* ------------------------------------------------------------------------- */
/* ZRANDMEMBER                                                                 */
/* ------------------------------------------------------------------------- */

static void addReplyListpackScore(client *c, const listpackEntry *v) {
    addReplyDouble(c, v->sval ? zzlStrtod(v->sval, v->slen) : (double)v->lval);
}

static void replyListpackPicks(client *c, unsigned long n, listpackEntry *keys, listpackEntry *vals) {
    for (unsigned long i = 0; i < n; i++) {
        if (vals && c->resp > 2) addReplyArrayLen(c, 2);
        addReplyMember(c, keys[i].sval, keys[i].slen, keys[i].lval);
        if (vals) addReplyListpackScore(c, &vals[i]);
    }
}

static void replyNode(client *c, zskiplistNode *n, int withscores) {
    if (withscores && c->resp > 2) addReplyArrayLen(c, 2);
    addReplyBulkCBuffer(c, n->ele, sdslen(n->ele));
    if (withscores) addReplyDouble(c, n->score);
}

/* Identity hashtable of node pointers, to draw distinct members. */
static uint64_t ptrHash(const void *key) {
    uintptr_t p = (uintptr_t)key;
    return hashtableGenHashFunction((const char *)&p, sizeof(p));
}

static hashtableType ptrSetType = {.hashFunction = ptrHash};

static void zrandmemberWithCountCommand(client *c, long l, int withscores) {
    robj *zobj = lookupKeyReadOrReply(c, c->argv[1], shared.emptyarray);
    if (zobj == NULL || checkType(c, zobj, OBJ_ZSET)) return;
    unsigned long size = zsetLength(zobj);
    int uniq = l >= 0;
    unsigned long count = uniq ? (unsigned long)l : (unsigned long)(-l);
    if (count == 0) {
        addReply(c, shared.emptyarray);
        return;
    }

    /* Repetitions allowed (negative count), or a single member: independent draws. */
    if (!uniq || count == 1) {
        addReplyArrayLen(c, (long)(withscores && c->resp == 2 ? count * 2 : count));
        if (zobj->encoding == OBJ_ENCODING_SKIPLIST) {
            zset *zs = objectGetVal(zobj);
            while (count--) {
                void *node;
                hashtableFairRandomEntry(zs->ht, &node);
                replyNode(c, node, withscores);
                if (c->flags & CLIENT_CLOSE_ASAP) break;
            }
        } else {
            unsigned long batch = count > ZRANDMEMBER_RANDOM_SAMPLE_LIMIT ? ZRANDMEMBER_RANDOM_SAMPLE_LIMIT : count;
            listpackEntry *keys = zmalloc(sizeof(listpackEntry) * batch);
            listpackEntry *vals = withscores ? zmalloc(sizeof(listpackEntry) * batch) : NULL;
            while (count) {
                unsigned long n = count > batch ? batch : count;
                count -= n;
                lpRandomPairs(objectGetVal(zobj), (unsigned int)n, keys, vals);
                replyListpackPicks(c, n, keys, vals);
                if (c->flags & CLIENT_CLOSE_ASAP) break;
            }
            zfree(keys);
            zfree(vals);
        }
        return;
    }

    unsigned long reply_size = count < size ? count : size;
    addReplyArrayLen(c, (long)(withscores && c->resp == 2 ? reply_size * 2 : reply_size));

    /* The whole set, from the highest score down (the order Valkey walks it in). */
    if (count >= size) {
        zsetIterator it;
        zsetIteratorInit(&it, zobj, 1);
        const unsigned char *str;
        size_t len;
        long long ll;
        double score;
        while (zsetIteratorNext(&it, &str, &len, &ll, &score)) {
            if (withscores && c->resp > 2) addReplyArrayLen(c, 2);
            addReplyMember(c, str, len, ll);
            if (withscores) addReplyDouble(c, score);
        }
        return;
    }

    /* A small set: distinct pairs sampled in one pass (in listpack order). */
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        listpackEntry *keys = zmalloc(sizeof(listpackEntry) * count);
        listpackEntry *vals = withscores ? zmalloc(sizeof(listpackEntry) * count) : NULL;
        unsigned int got = lpRandomPairsUnique(objectGetVal(zobj), (unsigned int)count, keys, vals);
        serverAssert(got == count);
        replyListpackPicks(c, count, keys, vals);
        zfree(keys);
        zfree(vals);
        return;
    }

    zset *zs = objectGetVal(zobj);
    if (count * ZRANDMEMBER_SUB_STRATEGY_MUL > size) {
        /* Most of the set: a partial Fisher-Yates shuffle of all the nodes. */
        zskiplistNode **nodes = zmalloc(sizeof(*nodes) * size);
        unsigned long i = 0;
        for (zskiplistNode *n = zs->zsl->header->level[0].forward; n; n = n->level[0].forward) nodes[i++] = n;
        for (i = 0; i < count; i++) {
            unsigned long k = i + (unsigned long)random() % (size - i);
            zskiplistNode *tmp = nodes[i];
            nodes[i] = nodes[k];
            nodes[k] = tmp;
            replyNode(c, nodes[i], withscores);
        }
        zfree(nodes);
        return;
    }

    /* Few members of a big set: draw until enough distinct ones came up. */
    hashtable *picked = hashtableCreate(&ptrSetType);
    hashtableExpand(picked, count);
    while (hashtableSize(picked) < count) {
        void *node;
        hashtableFairRandomEntry(zs->ht, &node);
        if (hashtableAdd(picked, node)) replyNode(c, node, withscores);
    }
    hashtableRelease(picked);
}

void zrandmemberCommand(client *c) {
    if (c->argc >= 3) {
        long l;
        if (getRangeLongFromObjectOrReply(c, c->argv[2], -LONG_MAX, LONG_MAX, &l, NULL) != C_OK) return;
        int withscores = 0;
        if (c->argc > 4 || (c->argc == 4 && !argIs(c, 3, "withscores"))) {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
        if (c->argc == 4) {
            withscores = 1;
            if (l < -LONG_MAX / 2 || l > LONG_MAX / 2) {
                addReplyError(c, "value is out of range");
                return;
            }
        }
        zrandmemberWithCountCommand(c, l, withscores);
        return;
    }

    robj *zobj = lookupKeyReadOrReply(c, c->argv[1], shared.null[c->resp]);
    if (zobj == NULL || checkType(c, zobj, OBJ_ZSET)) return;
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        listpackEntry key;
        lpRandomPair(objectGetVal(zobj), zsetLength(zobj), &key, NULL);
        addReplyMember(c, key.sval, key.slen, key.lval);
    } else {
        void *node;
        hashtableFairRandomEntry(((zset *)objectGetVal(zobj))->ht, &node);
        replyNode(c, node, 0);
    }
}

/* ------------------------------------------------------------------------- */
/* ZSCAN                                                                       */
/* ------------------------------------------------------------------------- */

typedef struct {
    zskiplistNode **nodes;
    size_t count, cap;
    const char *pattern;
    int patlen;
} zscanData;

static void zscanCollect(void *privdata, void *entry) {
    zscanData *d = privdata;
    zskiplistNode *n = entry;
    if (d->pattern && !stringmatchlen(d->pattern, d->patlen, n->ele, (int)sdslen(n->ele), 0)) return;
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->nodes = zrealloc(d->nodes, d->cap * sizeof(*d->nodes));
    }
    d->nodes[d->count++] = n;
}

void zscanCommand(client *c) {
    unsigned long long cursor;
    if (parseScanCursorOrReply(c, c->argv[2], &cursor) != C_OK) return;
    robj *zobj = lookupKeyRead(c->db, c->argv[1]);
    if (zobj == NULL) {
        addReplyArrayLen(c, 2);
        addReplyBulkCBuffer(c, "0", 1);
        addReplyArrayLen(c, 0);
        return;
    }
    if (checkType(c, zobj, OBJ_ZSET)) return;

    long count = 10;
    const char *pattern = NULL;
    int patlen = 0;
    for (int i = 3; i < c->argc;) {
        int has_value = i + 1 < c->argc;
        if (argIs(c, i, "count") && has_value) {
            if (getLongFromObjectOrReply(c, c->argv[i + 1], &count, NULL) != C_OK) return;
            if (count < 1) {
                addReplyErrorObject(c, shared.syntaxerr);
                return;
            }
            i += 2;
        } else if (argIs(c, i, "match") && has_value) {
            sds pat = argSds(c, i + 1);
            int all = sdslen(pat) == 1 && pat[0] == '*';
            pattern = all ? NULL : pat;
            patlen = (int)sdslen(pat);
            i += 2;
        } else if (argIs(c, i, "novalues")) {
            addReplyError(c, "NOVALUES option can only be used in HSCAN");
            return;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }

    char buf[MAX_D2STRING_CHARS];
    if (zobj->encoding == OBJ_ENCODING_LISTPACK) {
        /* Small: everything in one call, cursor 0. */
        unsigned char *zl = objectGetVal(zobj);
        addReplyArrayLen(c, 2);
        addReplyBulkCBuffer(c, "0", 1);
        void *replylen = addReplyDeferredLen(c);
        long n = 0;
        unsigned char *eptr = lpFirst(zl), *sptr = eptr ? lpNext(zl, eptr) : NULL;
        while (eptr) {
            size_t len;
            long long ll;
            const unsigned char *str = zzlMember(eptr, &len, &ll);
            const char *m = (const char *)str;
            if (!str) {
                len = (size_t)ll2string(buf, sizeof(buf), ll);
                m = buf;
            }
            if (!pattern || stringmatchlen(pattern, patlen, m, (int)len, 0)) {
                addReplyBulkCBuffer(c, m, len);
                unsigned int slen;
                long long sll;
                unsigned char *s = lpGetValue(sptr, &slen, &sll);
                if (s)
                    addReplyBulkCBuffer(c, s, slen);
                else
                    addReplyBulkLongLong(c, sll);
                n += 2;
            }
            zzlNext(zl, &eptr, &sptr);
        }
        setDeferredArrayLen(c, replylen, n);
        return;
    }

    zset *zs = objectGetVal(zobj);
    zscanData d = {.pattern = pattern, .patlen = patlen};
    long max_buckets =
        count > LONG_MAX / ZSCAN_MAX_BUCKETS_PER_COUNT ? LONG_MAX : count * ZSCAN_MAX_BUCKETS_PER_COUNT;
    do {
        cursor = hashtableScan(zs->ht, (size_t)cursor, zscanCollect, &d);
    } while (cursor && --max_buckets > 0 && d.count < (size_t)count);

    char cbuf[LONG_STR_SIZE];
    int clen = ull2string(cbuf, sizeof(cbuf), cursor);
    addReplyArrayLen(c, 2);
    addReplyBulkCBuffer(c, cbuf, (size_t)clen);
    addReplyArrayLen(c, (long)d.count * 2);
    for (size_t j = 0; j < d.count; j++) {
        zskiplistNode *n = d.nodes[j];
        addReplyBulkCBuffer(c, n->ele, sdslen(n->ele));
        int len = d2string(buf, sizeof(buf), n->score);
        addReplyBulkCBuffer(c, buf, (size_t)len);
    }
    zfree(d.nodes);
}

/* ------------------------------------------------------------------------- */
/* Registration                                                                */
/* ------------------------------------------------------------------------- */

static const configDirective zset_configs[] = {
    {.name = "zset-max-listpack-entries",
     .alias = "zset-max-ziplist-entries",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &zset_max_listpack_entries,
     .u.num = {CONFIG_NUM_SIZE_T, CONFIG_FMT_INTEGER, 0, LONG_MAX, 128, NULL}},
    {.name = "zset-max-listpack-value",
     .alias = "zset-max-ziplist-value",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &zset_max_listpack_value,
     .u.num = {CONFIG_NUM_SIZE_T, CONFIG_FMT_MEMORY, 0, LONG_MAX, 64, NULL}},
};

void zsetTypeRegister(void) {
    configRegisterDirectives(zset_configs, (int)(sizeof(zset_configs) / sizeof(zset_configs[0])));
    objectRegisterFreeProc(OBJ_ZSET, zsetFreeValue);
    objectRegisterDupProc(OBJ_ZSET, zsetDup);
    objectRegisterSizeProc(OBJ_ZSET, zsetAllocSizeProc);
    lazyfreeRegisterEffortProc(OBJ_ZSET, zsetFreeEffort);
}
