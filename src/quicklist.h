/* quicklist.h -- the list type's big encoding: a doubly linked list of listpack nodes.
 *
 * fill (list-max-listpack-size) bounds each node: a positive value is a maximum number
 * of elements (the node's bytes are also capped at 8 KB), -1..-5 a maximum node size of
 * 4, 8, 16, 32 or 64 KB. An element too big for a node lives alone in a "plain" node
 * that holds its bytes directly. compress (list-compress-depth) > 0 keeps that many
 * nodes at each end raw and LZF-compresses the ones in between when that saves space;
 * a compressed node is decompressed while it is being used and compressed again after.
 *
 * The structs are public because the RDB code walks nodes (container, encoding, sz,
 * entry) and the list type adopts a lone node's listpack. Everything else should go
 * through the functions.
 *
 * Iterators: quicklistNext() fills a quicklistEntry. Its value pointer stays valid until
 * the iterator moves to another node or is released. quicklistDelEntry() keeps the
 * iterator usable (the next call returns the element after the deleted one);
 * quicklistInsertBefore/After() and quicklistReplaceEntry() end the iteration (the next
 * quicklistNext() returns 0). Do not modify the list in any other way while an iterator
 * is live.
 */
#ifndef QUICKLIST_H
#define QUICKLIST_H

#include <stddef.h>
#include <stdint.h>

/* Node encodings and containers (values as in Valkey; RDB stores the container). */
#define QUICKLIST_NODE_ENCODING_RAW 1
#define QUICKLIST_NODE_ENCODING_LZF 2
#define QUICKLIST_NODE_CONTAINER_PLAIN 1
#define QUICKLIST_NODE_CONTAINER_PACKED 2

/* 'where' of push and pop. */
#define QUICKLIST_HEAD 0
#define QUICKLIST_TAIL -1

/* Iterator directions (same values as adlist.h's). */
#ifndef AL_START_HEAD
#define AL_START_HEAD 0
#define AL_START_TAIL 1
#endif

#define QUICKLIST_MAX_BOOKMARKS 15

/* entry: a listpack (PACKED), the element's bytes (PLAIN), or, when encoding is LZF, a
 * quicklistLZF. sz is always the uncompressed size. count: elements in the node. */
typedef struct quicklistNode {
    struct quicklistNode *prev;
    struct quicklistNode *next;
    unsigned char *entry;
    size_t sz;
    unsigned int count;
    unsigned int encoding : 2;
    unsigned int container : 2;
    unsigned int recompress : 1;         /* decompressed for use; compress again after */
    unsigned int attempted_compress : 1; /* compression was tried and did not pay */
    unsigned int dont_compress : 1;      /* held by an operation in progress */
    unsigned int extra : 25;
} quicklistNode;

/* The compressed form of a node: sz bytes of LZF output. */
typedef struct quicklistLZF {
    size_t sz;
    char compressed[];
} quicklistLZF;

/* A named pointer to a node that survives the node's deletion (it moves to the next). */
typedef struct quicklistBookmark {
    quicklistNode *node;
    char *name;
} quicklistBookmark;

typedef struct quicklist {
    quicklistNode *head;
    quicklistNode *tail;
    unsigned long count; /* elements */
    unsigned long len;   /* nodes */
    int fill;
    unsigned int compress;
    unsigned int bookmark_count;
    quicklistBookmark bookmarks[];
} quicklist;

typedef struct quicklistIter {
    quicklist *quicklist;
    quicklistNode *current;
    unsigned char *zi; /* last returned element in current, NULL: next is at offset */
    long offset;       /* in current; negative (from the node's tail) when going backwards */
    int direction;
} quicklistIter;

/* An element: value/sz for a string (value NULL: the integer longval). offset is the
 * index inside node (negative from the node's tail when iterating backwards). */
typedef struct quicklistEntry {
    const quicklist *quicklist;
    quicklistNode *node;
    unsigned char *zi;
    unsigned char *value;
    long long longval;
    size_t sz;
    int offset;
} quicklistEntry;

#define quicklistNodeIsCompressed(node) ((node)->encoding == QUICKLIST_NODE_ENCODING_LZF)
#define QL_NODE_IS_PLAIN(node) ((node)->container == QUICKLIST_NODE_CONTAINER_PLAIN)

/* Creation and options. quicklistCreate(): fill -2, no compression. */
quicklist *quicklistCreate(void);
quicklist *quicklistNew(int fill, int compress);
void quicklistSetCompressDepth(quicklist *ql, int depth);
void quicklistSetFill(quicklist *ql, int fill);
void quicklistSetOptions(quicklist *ql, int fill, int depth);
void quicklistRelease(quicklist *ql);
quicklist *quicklistDup(quicklist *orig);
unsigned long quicklistCount(const quicklist *ql);

/* Elements at least this big go to plain nodes regardless of fill; 0 (the default)
 * means "bigger than a node may be". Refuses (returns 0) values near 4 GB. This is
 * DEBUG QUICKLIST-PACKED-THRESHOLD's knob. */
int quicklistSetPackedThreshold(size_t sz);
#define quicklistisSetPackedThreshold quicklistSetPackedThreshold

/* The node limits a fill value implies (SIZE_MAX / UINT_MAX when unbounded), and
 * whether a node of new_sz bytes and new_count elements would exceed them. */
void quicklistNodeLimit(int fill, size_t *size, unsigned int *count);
int quicklistNodeExceedsLimit(int fill, size_t new_sz, unsigned int new_count);

/* Push: returns 1 when a new node was created. value is copied. */
int quicklistPushHead(quicklist *ql, void *value, size_t sz);
int quicklistPushTail(quicklist *ql, void *value, size_t sz);
void quicklistPush(quicklist *ql, void *value, size_t sz, int where);
/* Adopt a whole node (RDB load): the listpack or plain buffer becomes the list's (an
 * empty listpack is freed instead: nodes are never empty). */
void quicklistAppendListpack(quicklist *ql, unsigned char *zl);
void quicklistAppendPlainNode(quicklist *ql, unsigned char *data, size_t sz);

/* Iteration. GetIteratorAtIdx returns NULL when idx is out of range (negative: from the
 * tail). GetIteratorEntryAtIdx also fetches the element into *entry. */
quicklistIter *quicklistGetIterator(quicklist *ql, int direction);
quicklistIter *quicklistGetIteratorAtIdx(quicklist *ql, int direction, long long idx);
quicklistIter *quicklistGetIteratorEntryAtIdx(quicklist *ql, long long index,
                                              quicklistEntry *entry);
int quicklistNext(quicklistIter *iter, quicklistEntry *entry);
void quicklistSetDirection(quicklistIter *iter, int direction);
void quicklistReleaseIterator(quicklistIter *iter);

/* Editing at an iterator's element. */
void quicklistInsertAfter(quicklistIter *iter, quicklistEntry *entry, void *value, size_t sz);
void quicklistInsertBefore(quicklistIter *iter, quicklistEntry *entry, void *value, size_t sz);
void quicklistDelEntry(quicklistIter *iter, quicklistEntry *entry);
void quicklistReplaceEntry(quicklistIter *iter, quicklistEntry *entry, void *data, size_t sz);

/* Editing by index. Return 1 on success, 0 when out of range / nothing deleted.
 * quicklistDelRange deletes count elements from start (negative: from the tail). */
int quicklistReplaceAtIndex(quicklist *ql, long index, void *data, size_t sz);
int quicklistDelRange(quicklist *ql, const long start, const long count);
/* Moves the tail element to the head. */
void quicklistRotate(quicklist *ql);

/* Pop: returns 0 when empty. A string element is returned through saver(bytes, len)
 * into *data with *sz (data may be NULL to discard it), an integer into *sval (then
 * *data is NULL). quicklistPop's saver returns a zmalloc'ed copy the caller frees. */
int quicklistPopCustom(quicklist *ql, int where, unsigned char **data, size_t *sz,
                       long long *sval, void *(*saver)(unsigned char *data, size_t sz));
int quicklistPop(quicklist *ql, int where, unsigned char **data, size_t *sz, long long *slong);

/* 1 when the entry equals p (bytes; integer elements compare by value). */
int quicklistCompare(quicklistEntry *entry, unsigned char *p, const size_t p_len);

/* RDB save of a compressed node: *data = the LZF bytes, returns their length. */
size_t quicklistGetLzf(const quicklistNode *node, void **data);

/* Bookmarks (for incremental walks such as defrag): at most QUICKLIST_MAX_BOOKMARKS.
 * Create may move the quicklist (hence ql_ref); returns 0 when full. */
int quicklistBookmarkCreate(quicklist **ql_ref, const char *name, quicklistNode *node);
int quicklistBookmarkDelete(quicklist *ql, const char *name);
quicklistNode *quicklistBookmarkFind(quicklist *ql, const char *name);
void quicklistBookmarksClear(quicklist *ql);

/* Prints the nodes (and with full, their listpacks) to stdout. */
void quicklistRepr(quicklist *ql, int full);

#endif
