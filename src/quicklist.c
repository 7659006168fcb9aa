/* quicklist.c -- a doubly linked list of listpack nodes, with optional LZF compression
 * of the interior nodes.
 *
 * Node size. fill >= 0 caps the elements per node (0 behaves as 1) and, for safety, the
 * node's bytes at SIZE_SAFETY_LIMIT; fill -1..-5 caps the node's bytes at 4..64 KB. An
 * element that alone would break the cap (or reaches the packed threshold set for
 * tests) gets a PLAIN node of its own whose entry is the element's bytes.
 *
 * Compression. With depth d > 0 the first d and last d nodes are always raw; every
 * other node is LZF-compressed when that saves at least MIN_COMPRESS_IMPROVE bytes.
 * qlEnforceDepth(ql, node) restores that invariant after a structural change that may
 * have moved nodes across the zone boundaries (a node was linked or unlinked): it makes
 * the end zones raw and compresses the two nodes just inside the interior, plus the
 * node that changed. Reading or editing an interior node decompresses it "for use"
 * (recompress flag) and compresses it again when done; nodes only ever move away from
 * the ends while one is in use, so such a node never needs to stay raw.
 *
 * Head and tail are therefore always raw: pushes and pops never decompress.
 *
 * Insertion in the middle of a full node splits it, and the halves are merged with
 * their outer neighbours when the result fits the fill limit. Deletions never merge.
 */
#include "quicklist.h"

#include <limits.h>
#include <lzf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listpack.h"
#include "util.h"
#include "zmalloc.h"

/* Byte limits of fill -1..-5. The largest keeps a node's element count small. */
static const size_t ql_size_levels[] = {4096, 8192, 16384, 32768, 65536};
#define QL_SIZE_LEVELS (sizeof(ql_size_levels) / sizeof(ql_size_levels[0]))

/* Byte cap of a node bounded by element count. */
#define SIZE_SAFETY_LIMIT 8192
/* Per-element overhead (encoding + backlen) assumed when estimating a node's growth. */
#define SIZE_ESTIMATE_OVERHEAD 8
/* Nodes smaller than this are not worth compressing. */
#define MIN_COMPRESS_BYTES 48
/* Compression must save at least this much to be kept. */
#define MIN_COMPRESS_IMPROVE 8
/* Bytes of an empty listpack: what a merge saves. */
#define LP_EMPTY_BYTES 7

#define FILL_MAX 32767
#define FILL_MIN (-5)
#define COMPRESS_MAX 65535
/* The packed threshold may not approach the 4 GB a listpack can address. */
#define PACKED_THRESHOLD_MAX ((1ULL << 32) - (1 << 20))

/* 0 (the default): elements are "large" when they exceed what one node may hold (see
 * qlIsLarge). Any other value is a plain size cut-off, for tests. This is Valkey 8's
 * rule: unlike Redis 7.0, 0 is not "1 GB" and 1 GB is a cut-off like any other. */
static size_t packed_threshold = 0;

static void qlPanic(const char *what, const char *file, int line) {
    fprintf(stderr, "quicklist: %s (%s:%d)\n", what, file, line);
    abort();
}
#define qlAssert(cond)                                                                     \
    do {                                                                                   \
        if (!(cond)) qlPanic("assertion failed: " #cond, __FILE__, __LINE__);               \
    } while (0)

/* ------------------------------------------------------------------------------------
 * Limits
 * ---------------------------------------------------------------------------------- */

static size_t qlNegFillLimit(int fill) {
    size_t level = (size_t)(-(long)fill) - 1;
    if (level >= QL_SIZE_LEVELS) level = QL_SIZE_LEVELS - 1;
    return ql_size_levels[level];
}

void quicklistNodeLimit(int fill, size_t *size, unsigned int *count) {
    if (fill >= 0) {
        *size = SIZE_MAX;
        *count = fill == 0 ? 1 : (unsigned int)fill;
    } else {
        *size = qlNegFillLimit(fill);
        *count = UINT_MAX;
    }
}

int quicklistNodeExceedsLimit(int fill, size_t new_sz, unsigned int new_count) {
    size_t size_limit;
    unsigned int count_limit;
    quicklistNodeLimit(fill, &size_limit, &count_limit);
    if (size_limit != SIZE_MAX) return new_sz > size_limit;
    if (new_sz > SIZE_SAFETY_LIMIT) return 1;
    return new_count > count_limit;
}

int quicklistSetPackedThreshold(size_t sz) {
    if ((unsigned long long)sz > PACKED_THRESHOLD_MAX) return 0;
    packed_threshold = sz;
    return 1;
}

static int qlIsLarge(size_t sz, int fill) {
    if (packed_threshold != 0) return sz >= packed_threshold;
    if (fill >= 0) return sz > SIZE_SAFETY_LIMIT;
    return sz > qlNegFillLimit(fill);
}

static int qlNodeAllowInsert(const quicklistNode *node, int fill, size_t sz) {
    if (!node || QL_NODE_IS_PLAIN(node) || qlIsLarge(sz, fill)) return 0;
    return !quicklistNodeExceedsLimit(fill, node->sz + sz + SIZE_ESTIMATE_OVERHEAD,
                                      node->count + 1);
}

static int qlNodeAllowMerge(const quicklistNode *a, const quicklistNode *b, int fill) {
    if (!a || !b || QL_NODE_IS_PLAIN(a) || QL_NODE_IS_PLAIN(b)) return 0;
    return !quicklistNodeExceedsLimit(fill, a->sz + b->sz - LP_EMPTY_BYTES, a->count + b->count);
}

/* ------------------------------------------------------------------------------------
 * Nodes and compression
 * ---------------------------------------------------------------------------------- */

static quicklistNode *qlNodeNew(int container) {
    quicklistNode *node = zcalloc(sizeof(*node));
    node->encoding = QUICKLIST_NODE_ENCODING_RAW;
    node->container = container;
    return node;
}

static void qlNodeUpdateSz(quicklistNode *node) {
    if (!QL_NODE_IS_PLAIN(node)) node->sz = lpBytes(node->entry);
}

/* A new raw node holding just this element. */
static quicklistNode *qlNodeForValue(const quicklist *ql, const void *value, size_t sz) {
    quicklistNode *node;
    if (qlIsLarge(sz, ql->fill)) {
        node = qlNodeNew(QUICKLIST_NODE_CONTAINER_PLAIN);
        node->entry = zmalloc(sz);
        memcpy(node->entry, value, sz);
        node->sz = sz;
    } else {
        node = qlNodeNew(QUICKLIST_NODE_CONTAINER_PACKED);
        node->entry = lpAppend(lpNew(0), (unsigned char *)value, (uint32_t)sz);
        qlNodeUpdateSz(node);
    }
    node->count = 1;
    return node;
}

static void qlNodeFree(quicklistNode *node) {
    zfree(node->entry);
    zfree(node);
}

/* Compresses a raw node in place if that pays. Returns 1 when compressed. */
static int qlCompressNode(quicklistNode *node) {
    if (node->encoding != QUICKLIST_NODE_ENCODING_RAW || node->dont_compress) return 0;
    node->recompress = 0;
    node->attempted_compress = 1;
    if (node->sz < MIN_COMPRESS_BYTES || node->sz > UINT_MAX) return 0;
    quicklistLZF *lzf = zmalloc(sizeof(*lzf) + node->sz);
    unsigned int out = lzf_compress(node->entry, (unsigned int)node->sz, lzf->compressed,
                                    (unsigned int)node->sz);
    if (out == 0 || out + MIN_COMPRESS_IMPROVE >= node->sz) {
        zfree(lzf);
        return 0;
    }
    lzf->sz = out;
    lzf = zrealloc(lzf, sizeof(*lzf) + out);
    zfree(node->entry);
    node->entry = (unsigned char *)lzf;
    node->encoding = QUICKLIST_NODE_ENCODING_LZF;
    return 1;
}

static void qlDecompressNode(quicklistNode *node) {
    if (node->encoding != QUICKLIST_NODE_ENCODING_LZF) return;
    quicklistLZF *lzf = (quicklistLZF *)node->entry;
    unsigned char *raw = zmalloc(node->sz);
    unsigned int got = lzf_decompress(lzf->compressed, (unsigned int)lzf->sz, raw,
                                      (unsigned int)node->sz);
    if (got != node->sz) qlPanic("corrupt compressed node", __FILE__, __LINE__);
    zfree(lzf);
    node->entry = raw;
    node->encoding = QUICKLIST_NODE_ENCODING_RAW;
    node->attempted_compress = 0;
}

/* Decompresses an interior node for reading or editing; qlRecompressOnly() undoes it. */
static void qlDecompressForUse(quicklistNode *node) {
    if (node->encoding != QUICKLIST_NODE_ENCODING_LZF) return;
    qlDecompressNode(node);
    node->recompress = 1;
}

static void qlRecompressOnly(quicklistNode *node) {
    if (node->recompress) qlCompressNode(node);
}

/* See the file comment. touched: a node that changed (may be NULL). */
static void qlEnforceDepth(quicklist *ql, quicklistNode *touched) {
    if (ql->compress == 0 || ql->len == 0) return;
    quicklistNode *fwd = ql->head, *bwd = ql->tail;
    for (unsigned int d = 0; d < ql->compress; d++) {
        qlDecompressNode(fwd);
        qlDecompressNode(bwd);
        fwd->recompress = bwd->recompress = 0;
        if (fwd == touched || bwd == touched) touched = NULL;
        if (fwd == bwd || fwd->next == bwd) return; /* every node is in an end zone */
        fwd = fwd->next;
        bwd = bwd->prev;
    }
    qlCompressNode(fwd);
    qlCompressNode(bwd);
    if (touched) qlCompressNode(touched);
}

/* ------------------------------------------------------------------------------------
 * Linking
 * ---------------------------------------------------------------------------------- */

/* Links node next to 'at' (after or before it); at is NULL only for an empty list. */
static void qlLinkNode(quicklist *ql, quicklistNode *at, quicklistNode *node, int after) {
    if (!at) {
        qlAssert(ql->len == 0);
        node->prev = node->next = NULL;
        ql->head = ql->tail = node;
    } else if (after) {
        node->prev = at;
        node->next = at->next;
        if (at->next) at->next->prev = node;
        at->next = node;
        if (ql->tail == at) ql->tail = node;
    } else {
        node->next = at;
        node->prev = at->prev;
        if (at->prev) at->prev->next = node;
        at->prev = node;
        if (ql->head == at) ql->head = node;
    }
    ql->len++;
    ql->count += node->count;
}

static void qlBookmarkRemoveAt(quicklist *ql, unsigned int i);

static void qlUnlinkNode(quicklist *ql, quicklistNode *node) {
    for (unsigned int i = 0; i < ql->bookmark_count;) {
        if (ql->bookmarks[i].node != node) {
            i++;
        } else if (node->next) {
            ql->bookmarks[i++].node = node->next;
        } else {
            qlBookmarkRemoveAt(ql, i);
        }
    }
    if (node->prev) node->prev->next = node->next;
    if (node->next) node->next->prev = node->prev;
    if (ql->head == node) ql->head = node->next;
    if (ql->tail == node) ql->tail = node->prev;
    node->prev = node->next = NULL;
    ql->len--;
    ql->count -= node->count;
}

static void qlInsertNode(quicklist *ql, quicklistNode *at, quicklistNode *node, int after) {
    qlLinkNode(ql, at, node, after);
    qlEnforceDepth(ql, node);
}

static void qlDeleteNode(quicklist *ql, quicklistNode *node) {
    qlUnlinkNode(ql, node);
    qlNodeFree(node);
    qlEnforceDepth(ql, NULL);
}

/* Deletes the element at p of a raw node. Returns 1 when the node went with it. */
static int qlDelElement(quicklist *ql, quicklistNode *node, unsigned char *p) {
    if (QL_NODE_IS_PLAIN(node) || node->count == 1) {
        qlDeleteNode(ql, node);
        return 1;
    }
    node->entry = lpDelete(node->entry, p, NULL);
    node->count--;
    ql->count--;
    qlNodeUpdateSz(node);
    return 0;
}

/* Merges b (a's successor) into a when the result fits; returns a, or NULL if not. */
static quicklistNode *qlTryMerge(quicklist *ql, quicklistNode *a, quicklistNode *b) {
    if (!qlNodeAllowMerge(a, b, ql->fill)) return NULL;
    qlAssert(a->next == b);
    qlDecompressNode(a);
    qlDecompressNode(b);
    unsigned char *la = a->entry, *lb = b->entry;
    unsigned char *merged = lpMerge(&la, &lb);
    qlAssert(merged != NULL);
    a->entry = merged;
    b->entry = NULL;
    a->count += b->count;
    b->count = 0; /* its elements now belong to a */
    qlUnlinkNode(ql, b);
    qlNodeFree(b);
    a->recompress = 0;
    qlNodeUpdateSz(a);
    qlEnforceDepth(ql, a);
    return a;
}

/* Splits a raw packed node: it keeps elements [0, at) and the returned (unlinked) node
 * gets [at, count). */
static quicklistNode *qlSplitNode(quicklistNode *node, unsigned int at) {
    qlAssert(!QL_NODE_IS_PLAIN(node) && at > 0 && at < node->count);
    quicklistNode *right = qlNodeNew(QUICKLIST_NODE_CONTAINER_PACKED);
    right->entry = lpDeleteRange(lpDup(node->entry), 0, at);
    right->count = node->count - at;
    qlNodeUpdateSz(right);
    node->entry = lpDeleteRange(node->entry, at, node->count - at);
    node->count = at;
    qlNodeUpdateSz(node);
    return right;
}

/* ------------------------------------------------------------------------------------
 * Creation, options, release
 * ---------------------------------------------------------------------------------- */

quicklist *quicklistCreate(void) {
    quicklist *ql = zmalloc(sizeof(*ql));
    ql->head = ql->tail = NULL;
    ql->count = 0;
    ql->len = 0;
    ql->fill = -2;
    ql->compress = 0;
    ql->bookmark_count = 0;
    return ql;
}

void quicklistSetCompressDepth(quicklist *ql, int depth) {
    if (depth < 0) depth = 0;
    if (depth > COMPRESS_MAX) depth = COMPRESS_MAX;
    ql->compress = (unsigned int)depth;
}

void quicklistSetFill(quicklist *ql, int fill) {
    if (fill > FILL_MAX) fill = FILL_MAX;
    if (fill < FILL_MIN) fill = FILL_MIN;
    ql->fill = fill;
}

void quicklistSetOptions(quicklist *ql, int fill, int depth) {
    quicklistSetFill(ql, fill);
    quicklistSetCompressDepth(ql, depth);
}

quicklist *quicklistNew(int fill, int compress) {
    quicklist *ql = quicklistCreate();
    quicklistSetOptions(ql, fill, compress);
    return ql;
}

void quicklistRelease(quicklist *ql) {
    quicklistNode *node = ql->head;
    while (node) {
        quicklistNode *next = node->next;
        qlNodeFree(node);
        node = next;
    }
    quicklistBookmarksClear(ql);
    zfree(ql);
}

unsigned long quicklistCount(const quicklist *ql) {
    return ql->count;
}

quicklist *quicklistDup(quicklist *orig) {
    quicklist *copy = quicklistNew(orig->fill, (int)orig->compress);
    for (quicklistNode *node = orig->head; node; node = node->next) {
        quicklistNode *n = qlNodeNew(node->container);
        size_t bytes = node->sz;
        if (quicklistNodeIsCompressed(node))
            bytes = sizeof(quicklistLZF) + ((quicklistLZF *)node->entry)->sz;
        n->entry = zmalloc(bytes);
        memcpy(n->entry, node->entry, bytes);
        n->encoding = node->encoding;
        n->sz = node->sz;
        n->count = node->count;
        n->attempted_compress = node->attempted_compress;
        qlLinkNode(copy, copy->tail, n, 1);
    }
    return copy;
}

/* ------------------------------------------------------------------------------------
 * Push and adopt
 * ---------------------------------------------------------------------------------- */

int quicklistPushHead(quicklist *ql, void *value, size_t sz) {
    quicklistNode *orig = ql->head;
    if (qlNodeAllowInsert(ql->head, ql->fill, sz)) {
        qlAssert(!quicklistNodeIsCompressed(ql->head));
        ql->head->entry = lpPrepend(ql->head->entry, value, (uint32_t)sz);
        ql->head->count++;
        ql->count++;
        qlNodeUpdateSz(ql->head);
    } else {
        qlInsertNode(ql, ql->head, qlNodeForValue(ql, value, sz), 0);
    }
    return orig != ql->head;
}

int quicklistPushTail(quicklist *ql, void *value, size_t sz) {
    quicklistNode *orig = ql->tail;
    if (qlNodeAllowInsert(ql->tail, ql->fill, sz)) {
        qlAssert(!quicklistNodeIsCompressed(ql->tail));
        ql->tail->entry = lpAppend(ql->tail->entry, value, (uint32_t)sz);
        ql->tail->count++;
        ql->count++;
        qlNodeUpdateSz(ql->tail);
    } else {
        qlInsertNode(ql, ql->tail, qlNodeForValue(ql, value, sz), 1);
    }
    return orig != ql->tail;
}

void quicklistPush(quicklist *ql, void *value, size_t sz, int where) {
    if (where == QUICKLIST_HEAD)
        quicklistPushHead(ql, value, sz);
    else
        quicklistPushTail(ql, value, sz);
}

void quicklistAppendListpack(quicklist *ql, unsigned char *zl) {
    if (lpLength(zl) == 0) { /* an empty node would break every walk: drop it */
        lpFree(zl);
        return;
    }
    quicklistNode *node = qlNodeNew(QUICKLIST_NODE_CONTAINER_PACKED);
    node->entry = zl;
    node->count = (unsigned int)lpLength(zl);
    node->sz = lpBytes(zl);
    qlInsertNode(ql, ql->tail, node, 1);
}

void quicklistAppendPlainNode(quicklist *ql, unsigned char *data, size_t sz) {
    quicklistNode *node = qlNodeNew(QUICKLIST_NODE_CONTAINER_PLAIN);
    node->entry = data;
    node->sz = sz;
    node->count = 1;
    qlInsertNode(ql, ql->tail, node, 1);
}

/* ------------------------------------------------------------------------------------
 * Locating and iterating
 * ---------------------------------------------------------------------------------- */

/* Finds the node and in-node offset of element 'index' (negative: from the tail),
 * walking from the nearer end. Returns 0 when out of range. */
static int qlLocate(const quicklist *ql, long long index, quicklistNode **node_out,
                    unsigned long *offset_out) {
    unsigned long long n = ql->count;
    if (index < 0) {
        if ((unsigned long long)(-(index + 1)) >= n) return 0;
        index += (long long)n;
    }
    if ((unsigned long long)index >= n) return 0;
    unsigned long long idx = (unsigned long long)index;
    quicklistNode *node;
    if (idx < n / 2) {
        node = ql->head;
        while (idx >= node->count) {
            idx -= node->count;
            node = node->next;
        }
    } else {
        unsigned long long back = n - 1 - idx;
        node = ql->tail;
        while (back >= node->count) {
            back -= node->count;
            node = node->prev;
        }
        idx = node->count - 1 - back;
    }
    *node_out = node;
    *offset_out = (unsigned long)idx;
    return 1;
}

quicklistIter *quicklistGetIterator(quicklist *ql, int direction) {
    quicklistIter *iter = zmalloc(sizeof(*iter));
    iter->quicklist = ql;
    iter->direction = direction;
    iter->zi = NULL;
    if (direction == AL_START_HEAD) {
        iter->current = ql->head;
        iter->offset = 0;
    } else {
        iter->current = ql->tail;
        iter->offset = -1;
    }
    return iter;
}

quicklistIter *quicklistGetIteratorAtIdx(quicklist *ql, int direction, long long idx) {
    quicklistNode *node;
    unsigned long off;
    if (!qlLocate(ql, idx, &node, &off)) return NULL;
    quicklistIter *iter = quicklistGetIterator(ql, direction);
    iter->current = node;
    iter->offset = direction == AL_START_HEAD ? (long)off : (long)off - (long)node->count;
    return iter;
}

void quicklistSetDirection(quicklistIter *iter, int direction) {
    if (iter->current && direction != iter->direction) {
        long count = (long)iter->current->count;
        if (direction == AL_START_TAIL && iter->offset >= 0) iter->offset -= count;
        if (direction == AL_START_HEAD && iter->offset < 0) iter->offset += count;
    }
    iter->direction = direction;
}

static void qlEntryInit(quicklistEntry *entry, const quicklist *ql) {
    entry->quicklist = ql;
    entry->node = NULL;
    entry->zi = NULL;
    entry->value = NULL;
    entry->longval = 0;
    entry->sz = 0;
    entry->offset = 0;
}

static void qlEntryFill(quicklistEntry *entry, quicklistNode *node, unsigned char *zi, long offset) {
    entry->node = node;
    entry->zi = zi;
    entry->offset = (int)offset;
    if (QL_NODE_IS_PLAIN(node)) {
        entry->value = node->entry;
        entry->sz = node->sz;
        return;
    }
    unsigned int slen = 0;
    long long lval = 0;
    entry->value = lpGetValue(zi, &slen, &lval);
    if (entry->value) {
        entry->sz = slen;
    } else {
        entry->sz = 0;
        entry->longval = lval;
    }
}

int quicklistNext(quicklistIter *iter, quicklistEntry *entry) {
    if (!iter) return 0;
    qlEntryInit(entry, iter->quicklist);
    int forward = iter->direction == AL_START_HEAD;
    while (iter->current) {
        quicklistNode *node = iter->current;
        if (!iter->zi) {
            /* Entering the node, or resuming after a deletion: the element is at offset. */
            qlDecompressForUse(node);
            if (QL_NODE_IS_PLAIN(node))
                iter->zi = (iter->offset == 0 || iter->offset == -1) ? node->entry : NULL;
            else
                iter->zi = lpSeek(node->entry, iter->offset);
        } else if (QL_NODE_IS_PLAIN(node)) {
            iter->zi = NULL;
        } else {
            iter->zi = forward ? lpNext(node->entry, iter->zi) : lpPrev(node->entry, iter->zi);
            iter->offset += forward ? 1 : -1;
        }
        if (iter->zi) {
            qlEntryFill(entry, node, iter->zi, iter->offset);
            return 1;
        }
        qlRecompressOnly(node);
        iter->current = forward ? node->next : node->prev;
        iter->offset = forward ? 0 : -1;
    }
    return 0;
}

void quicklistReleaseIterator(quicklistIter *iter) {
    if (!iter) return;
    if (iter->current) qlRecompressOnly(iter->current);
    zfree(iter);
}

quicklistIter *quicklistGetIteratorEntryAtIdx(quicklist *ql, long long index,
                                              quicklistEntry *entry) {
    quicklistIter *iter =
        quicklistGetIteratorAtIdx(ql, index < 0 ? AL_START_TAIL : AL_START_HEAD, index);
    if (!iter) return NULL;
    qlAssert(quicklistNext(iter, entry));
    return iter;
}

/* Ends an iteration after an edit that moved things around. */
static void qlIterReset(quicklistIter *iter) {
    iter->current = NULL;
    iter->zi = NULL;
}

/* ------------------------------------------------------------------------------------
 * Inserting
 * ---------------------------------------------------------------------------------- */

/* Inserts value next to element 'off' of node (after or before it). node NULL: the
 * list is empty. Leaves every node it touched compressed as the depth wants. */
static void qlInsertAt(quicklist *ql, quicklistNode *node, unsigned long off, int after,
                       void *value, size_t sz) {
    if (!node) {
        qlInsertNode(ql, NULL, qlNodeForValue(ql, value, sz), 1);
        return;
    }
    int fill = ql->fill;
    int large = qlIsLarge(sz, fill);
    int at_tail = after && off == node->count - 1;
    int at_head = !after && off == 0;
    int linked = 0; /* a node was linked next to node, which may now be interior */
    qlDecompressForUse(node);
    node->dont_compress = 1;

    if (!large && qlNodeAllowInsert(node, fill, sz)) {
        unsigned char *p = lpSeek(node->entry, (long)off);
        node->entry = lpInsertString(node->entry, value, (uint32_t)sz, p, after ? LP_AFTER : LP_BEFORE,
                                     NULL);
        node->count++;
        ql->count++;
        qlNodeUpdateSz(node);
    } else if (!large && at_tail && qlNodeAllowInsert(node->next, fill, sz)) {
        quicklistNode *next = node->next;
        qlDecompressForUse(next);
        next->entry = lpPrepend(next->entry, value, (uint32_t)sz);
        next->count++;
        ql->count++;
        qlNodeUpdateSz(next);
        qlRecompressOnly(next);
    } else if (!large && at_head && qlNodeAllowInsert(node->prev, fill, sz)) {
        quicklistNode *prev = node->prev;
        qlDecompressForUse(prev);
        prev->entry = lpAppend(prev->entry, value, (uint32_t)sz);
        prev->count++;
        ql->count++;
        qlNodeUpdateSz(prev);
        qlRecompressOnly(prev);
    } else if (at_tail || at_head) {
        qlInsertNode(ql, node, qlNodeForValue(ql, value, sz), after);
        linked = 1;
    } else {
        /* In the middle of a node that cannot take it: split there. */
        quicklistNode *right = qlSplitNode(node, after ? (unsigned int)off + 1 : (unsigned int)off);
        right->dont_compress = 1;
        ql->count -= right->count; /* moved, not added: linking counts them again */
        /* Each link may push one node out of an end zone: enforce after each. */
        qlLinkNode(ql, node, right, 1);
        qlEnforceDepth(ql, NULL);
        if (!large && qlNodeAllowInsert(node, fill, sz)) {
            node->entry = lpAppend(node->entry, value, (uint32_t)sz);
            node->count++;
            ql->count++;
            qlNodeUpdateSz(node);
        } else if (!large && qlNodeAllowInsert(right, fill, sz)) {
            right->entry = lpPrepend(right->entry, value, (uint32_t)sz);
            right->count++;
            ql->count++;
            qlNodeUpdateSz(right);
        } else {
            qlInsertNode(ql, node, qlNodeForValue(ql, value, sz), 1);
        }
        node->dont_compress = right->dont_compress = 0;
        node->recompress = 0;
        qlEnforceDepth(ql, right);
        qlEnforceDepth(ql, node);
        /* The halves may now fit with their outer neighbours. */
        qlTryMerge(ql, right, right->next);
        qlTryMerge(ql, node->prev, node);
        return;
    }
    node->dont_compress = 0;
    if (linked)
        qlEnforceDepth(ql, node);
    else
        qlRecompressOnly(node);
}

/* The entry's offset from the node's head (iterators use negative offsets backwards). */
static unsigned long qlEntryOffset(const quicklistEntry *entry) {
    long off = entry->offset;
    if (off < 0) off += (long)entry->node->count;
    qlAssert(off >= 0 && (unsigned long)off < entry->node->count);
    return (unsigned long)off;
}

void quicklistInsertAfter(quicklistIter *iter, quicklistEntry *entry, void *value, size_t sz) {
    quicklist *ql = iter->quicklist;
    if (!entry->node)
        qlInsertAt(ql, NULL, 0, 1, value, sz);
    else
        qlInsertAt(ql, entry->node, qlEntryOffset(entry), 1, value, sz);
    qlIterReset(iter);
}

void quicklistInsertBefore(quicklistIter *iter, quicklistEntry *entry, void *value, size_t sz) {
    quicklist *ql = iter->quicklist;
    if (!entry->node)
        qlInsertAt(ql, NULL, 0, 0, value, sz);
    else
        qlInsertAt(ql, entry->node, qlEntryOffset(entry), 0, value, sz);
    qlIterReset(iter);
}

/* ------------------------------------------------------------------------------------
 * Deleting and replacing
 * ---------------------------------------------------------------------------------- */

void quicklistDelEntry(quicklistIter *iter, quicklistEntry *entry) {
    quicklistNode *node = entry->node, *prev = node->prev, *next = node->next;
    int node_gone = qlDelElement(iter->quicklist, node, entry->zi);
    /* The element that followed now sits at the same offset (in either direction's
     * numbering), so the next quicklistNext() seeks it there. */
    iter->zi = NULL;
    if (node_gone) {
        if (iter->direction == AL_START_HEAD) {
            iter->current = next;
            iter->offset = 0;
        } else {
            iter->current = prev;
            iter->offset = -1;
        }
    }
}

void quicklistReplaceEntry(quicklistIter *iter, quicklistEntry *entry, void *data, size_t sz) {
    quicklist *ql = iter->quicklist;
    quicklistNode *node = entry->node;
    int large = qlIsLarge(sz, ql->fill);
    qlIterReset(iter);

    if (!QL_NODE_IS_PLAIN(node) && !large) {
        int64_t unused;
        uint64_t old_size;
        lpGetWithSize(entry->zi, &unused, NULL, &old_size);
        size_t new_sz = node->sz - old_size + sz + SIZE_ESTIMATE_OVERHEAD;
        if (node->count == 1 || !quicklistNodeExceedsLimit(ql->fill, new_sz, node->count)) {
            node->entry = lpReplace(node->entry, &entry->zi, data, (uint32_t)sz);
            qlNodeUpdateSz(node);
            qlRecompressOnly(node);
            return;
        }
    } else if (QL_NODE_IS_PLAIN(node) && large) {
        unsigned char *copy = zmalloc(sz);
        memcpy(copy, data, sz);
        zfree(node->entry);
        node->entry = copy;
        node->sz = sz;
        qlRecompressOnly(node);
        return;
    }

    /* The new value needs another kind of node or room: delete, then insert there. */
    unsigned long off = qlEntryOffset(entry);
    quicklistNode *prev = node->prev, *next = node->next;
    if (!qlDelElement(ql, node, entry->zi)) {
        if (off < node->count)
            qlInsertAt(ql, node, off, 0, data, sz);
        else
            qlInsertAt(ql, node, off - 1, 1, data, sz);
    } else if (prev) {
        qlInsertAt(ql, prev, prev->count - 1, 1, data, sz);
    } else if (next) {
        qlInsertAt(ql, next, 0, 0, data, sz);
    } else {
        qlInsertAt(ql, NULL, 0, 1, data, sz);
    }
}

int quicklistReplaceAtIndex(quicklist *ql, long index, void *data, size_t sz) {
    quicklistEntry entry;
    quicklistIter *iter = quicklistGetIteratorEntryAtIdx(ql, index, &entry);
    if (!iter) return 0;
    quicklistReplaceEntry(iter, &entry, data, sz);
    quicklistReleaseIterator(iter);
    return 1;
}

int quicklistDelRange(quicklist *ql, const long start, const long count) {
    if (count <= 0) return 0;
    quicklistNode *node;
    unsigned long off;
    if (!qlLocate(ql, start, &node, &off)) return 0;
    unsigned long first_index =
        start >= 0 ? (unsigned long)start : ql->count - (0UL - (unsigned long)start);
    unsigned long extent = (unsigned long)count;
    if (extent > ql->count - first_index) extent = ql->count - first_index;

    /* The nodes left on either side are not merged (as in Valkey): how many nodes a
     * trimmed list keeps decides whether it can go back to a listpack encoding. */
    while (extent > 0) {
        quicklistNode *next = node->next;
        unsigned long del;
        if (off == 0 && extent >= node->count) {
            del = node->count;
            qlDeleteNode(ql, node);
        } else {
            del = node->count - off;
            if (del > extent) del = extent;
            qlDecompressForUse(node);
            node->entry = lpDeleteRange(node->entry, (long)off, del);
            node->count -= (unsigned int)del;
            ql->count -= del;
            qlNodeUpdateSz(node);
            qlRecompressOnly(node);
        }
        extent -= del;
        node = next;
        off = 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------------------
 * Pop and rotate
 * ---------------------------------------------------------------------------------- */

static void *qlSaver(unsigned char *data, size_t sz) {
    unsigned char *copy = zmalloc(sz ? sz : 1);
    if (sz) memcpy(copy, data, sz);
    return copy;
}

int quicklistPopCustom(quicklist *ql, int where, unsigned char **data, size_t *sz,
                       long long *sval, void *(*saver)(unsigned char *data, size_t sz)) {
    if (data) *data = NULL;
    if (sz) *sz = 0;
    if (sval) *sval = 0;
    if (ql->count == 0) return 0;
    quicklistNode *node = where == QUICKLIST_HEAD ? ql->head : ql->tail;
    qlAssert(!quicklistNodeIsCompressed(node));
    if (QL_NODE_IS_PLAIN(node)) {
        if (data) *data = saver(node->entry, node->sz);
        if (sz) *sz = node->sz;
        qlDeleteNode(ql, node);
        return 1;
    }
    unsigned char *p = lpSeek(node->entry, where == QUICKLIST_HEAD ? 0 : -1);
    unsigned int slen = 0;
    long long lval = 0;
    unsigned char *vstr = lpGetValue(p, &slen, &lval);
    if (vstr) {
        if (data) *data = saver(vstr, slen);
        if (sz) *sz = slen;
    } else if (sval) {
        *sval = lval;
    }
    qlDelElement(ql, node, p);
    return 1;
}

int quicklistPop(quicklist *ql, int where, unsigned char **data, size_t *sz, long long *slong) {
    return quicklistPopCustom(ql, where, data, sz, slong, qlSaver);
}

void quicklistRotate(quicklist *ql) {
    if (ql->count <= 1) return;
    quicklistNode *tail = ql->tail;
    if (QL_NODE_IS_PLAIN(tail)) {
        qlUnlinkNode(ql, tail);
        qlLinkNode(ql, ql->head, tail, 0);
        qlEnforceDepth(ql, NULL);
        return;
    }
    /* Copy the value out first: pushing may reallocate the listpack it lives in. */
    unsigned char *p = lpSeek(tail->entry, -1);
    unsigned int slen = 0;
    long long lval = 0;
    unsigned char *vstr = lpGetValue(p, &slen, &lval);
    char numbuf[LONG_STR_SIZE];
    unsigned char *copy = NULL;
    if (vstr) {
        copy = qlSaver(vstr, slen);
    } else {
        slen = (unsigned int)ll2string(numbuf, sizeof(numbuf), lval);
    }
    quicklistPushHead(ql, copy ? (void *)copy : (void *)numbuf, slen);
    zfree(copy);
    qlDelElement(ql, ql->tail, lpSeek(ql->tail->entry, -1));
}

/* ------------------------------------------------------------------------------------
 * Misc
 * ---------------------------------------------------------------------------------- */

int quicklistCompare(quicklistEntry *entry, unsigned char *p, const size_t p_len) {
    if (QL_NODE_IS_PLAIN(entry->node))
        return entry->sz == p_len && (p_len == 0 || memcmp(entry->value, p, p_len) == 0);
    if (p_len > UINT32_MAX) return 0;
    return lpCompare(entry->zi, p, (uint32_t)p_len) != 0;
}

size_t quicklistGetLzf(const quicklistNode *node, void **data) {
    quicklistLZF *lzf = (quicklistLZF *)node->entry;
    *data = lzf->compressed;
    return lzf->sz;
}

/* ------------------------------------------------------------------------------------
 * Bookmarks
 * ---------------------------------------------------------------------------------- */

static quicklistBookmark *qlBookmarkByName(quicklist *ql, const char *name) {
    for (unsigned int i = 0; i < ql->bookmark_count; i++)
        if (strcmp(ql->bookmarks[i].name, name) == 0) return &ql->bookmarks[i];
    return NULL;
}

static void qlBookmarkRemoveAt(quicklist *ql, unsigned int i) {
    zfree(ql->bookmarks[i].name);
    memmove(&ql->bookmarks[i], &ql->bookmarks[i + 1],
            sizeof(quicklistBookmark) * (ql->bookmark_count - i - 1));
    ql->bookmark_count--;
}

int quicklistBookmarkCreate(quicklist **ql_ref, const char *name, quicklistNode *node) {
    quicklist *ql = *ql_ref;
    quicklistBookmark *bm = qlBookmarkByName(ql, name);
    if (bm) {
        bm->node = node;
        return 1;
    }
    if (ql->bookmark_count >= QUICKLIST_MAX_BOOKMARKS) return 0;
    ql = zrealloc(ql, sizeof(*ql) + sizeof(quicklistBookmark) * (ql->bookmark_count + 1));
    *ql_ref = ql;
    ql->bookmarks[ql->bookmark_count].node = node;
    ql->bookmarks[ql->bookmark_count].name = zstrdup(name);
    ql->bookmark_count++;
    return 1;
}

int quicklistBookmarkDelete(quicklist *ql, const char *name) {
    quicklistBookmark *bm = qlBookmarkByName(ql, name);
    if (!bm) return 0;
    qlBookmarkRemoveAt(ql, (unsigned int)(bm - ql->bookmarks));
    return 1;
}

quicklistNode *quicklistBookmarkFind(quicklist *ql, const char *name) {
    quicklistBookmark *bm = qlBookmarkByName(ql, name);
    return bm ? bm->node : NULL;
}

void quicklistBookmarksClear(quicklist *ql) {
    while (ql->bookmark_count > 0) qlBookmarkRemoveAt(ql, ql->bookmark_count - 1);
}

/* ------------------------------------------------------------------------------------
 * Debugging
 * ---------------------------------------------------------------------------------- */

void quicklistRepr(quicklist *ql, int full) {
    printf("{count : %lu}\n", ql->count);
    printf("{len : %lu}\n", ql->len);
    printf("{fill : %d}\n", ql->fill);
    printf("{compress : %u}\n", ql->compress);
    printf("{bookmark_count : %u}\n", ql->bookmark_count);
    int i = 0;
    for (quicklistNode *node = ql->head; node; node = node->next, i++) {
        printf("{quicklist node(%d)\n", i);
        printf("{container : %s, encoding: %s, size: %zu, count: %u, recompress: %u, "
               "attempted_compress: %u}\n",
               QL_NODE_IS_PLAIN(node) ? "PLAIN" : "PACKED",
               quicklistNodeIsCompressed(node) ? "LZF" : "RAW", node->sz, node->count,
               node->recompress, node->attempted_compress);
        if (full && !QL_NODE_IS_PLAIN(node)) {
            qlDecompressForUse(node);
            lpRepr(node->entry);
            qlRecompressOnly(node);
        }
        printf("}\n");
    }
}
