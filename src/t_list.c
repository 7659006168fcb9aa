/* t_list.c -- the list type: LPUSH/RPUSH(X), LINSERT, LLEN, LINDEX, LSET, LPOP/RPOP,
 * LRANGE, LTRIM, LPOS, LREM, LMOVE/RPOPLPUSH, LMPOP and the blocking BLPOP/BRPOP,
 * BLMOVE/BRPOPLPUSH, BLMPOP.
 *
 * Encodings. A list starts as one listpack. Before elements are added we check
 * whether the listpack would outgrow a quicklist node under list-max-listpack-size
 * (a count, or a byte size for -1..-5); if so it becomes a quicklist whose first
 * node is the old listpack. After elements are removed, a quicklist made of a single
 * packed node that is under half the node limit becomes a listpack again (the
 * hysteresis keeps a list near the limit from converting back and forth).
 *
 * The "listType" layer below hides the two encodings from the commands: push, pop,
 * an iterator with delete/insert at the current element, replace by index and range
 * deletion. Listpack writes may move the blob, so the object's value is re-stored
 * after each one.
 *
 * Blocking. A blocking pop that finds nothing calls blockForKeys() (blocked.c) and
 * returns without a reply. When a list is created at one of its keys, the command is
 * run again from the start and either pops or blocks again, so the blocking commands
 * here are written as if they ran for the first time every time.
 *
 * Propagation. Blocking and multi-key variants are rewritten into their plain
 * equivalent (LPOP/RPOP [count], LMOVE, RPOPLPUSH) once they pop, as replicas must
 * never block.
 */
#include <limits.h>
#include <stdint.h>
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
#include "quicklist.h"
#include "t_list.h"
#include "util.h"
#include "zmalloc.h"

/* Ends of a list as the commands name them (LEFT = head, RIGHT = tail). */
#define LIST_HEAD 0
#define LIST_TAIL 1

int list_max_listpack_size = -2;
int list_compress_depth = 0;

void blmoveCommand(client *c);
void brpoplpushCommand(client *c);

/* Command names for the propagation rewrites, created at registration. */
static robj *name_lpop, *name_rpop, *name_lmove, *name_rpoplpush;

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

/* The bytes of a string object; an INT-encoded one is printed into buf
 * (LONG_STR_SIZE bytes). */
static inline const char *objBytes(robj *o, char *buf, size_t *len) {
    if (o->encoding == OBJ_ENCODING_INT) {
        *len = (size_t)ll2string(buf, LONG_STR_SIZE, (long)objectGetVal(o));
        return buf;
    }
    sds s = objectGetVal(o);
    *len = sdslen(s);
    return s;
}

static inline int quicklistWhere(int where) {
    return where == LIST_HEAD ? QUICKLIST_HEAD : QUICKLIST_TAIL;
}

/* ---------------------------------------------------------------------------
 * Objects and conversions
 * ------------------------------------------------------------------------- */

robj *createListListpackObject(void) {
    robj *o = createObject(OBJ_LIST, lpNew(0));
    o->encoding = OBJ_ENCODING_LISTPACK;
    return o;
}

robj *createQuicklistObject(int fill, int compress) {
    robj *o = createObject(OBJ_LIST, quicklistNew(fill, compress));
    o->encoding = OBJ_ENCODING_QUICKLIST;
    return o;
}

unsigned long listTypeLength(const robj *o) {
    if (o->encoding == OBJ_ENCODING_QUICKLIST) return quicklistCount(objectGetVal(o));
    return lpLength(objectGetVal(o));
}

static void listpackToQuicklist(robj *o) {
    unsigned char *lp = objectGetVal(o);
    quicklist *ql = quicklistNew(list_max_listpack_size, list_compress_depth);
    quicklistAppendListpack(ql, lp); /* adopts lp (frees it when empty) */
    objectSetVal(o, ql);
    o->encoding = OBJ_ENCODING_QUICKLIST;
}

/* Would adding argv[start..end] make the listpack outgrow a quicklist node? Only
 * string-encoded arguments count their bytes, as their length is known for free. */
static void listTypeTryConvertListpack(robj *o, robj **argv, int start, int end) {
    unsigned char *lp = objectGetVal(o);
    size_t add_bytes = 0;
    unsigned long add_count = 0;
    if (argv) {
        for (int j = start; j <= end; j++)
            if (sdsEncodedObject(argv[j])) add_bytes += sdslen(objectGetVal(argv[j]));
        add_count = (unsigned long)(end - start + 1);
    }
    unsigned long count = lpLength(lp) + add_count;
    if (quicklistNodeExceedsLimit(list_max_listpack_size, lpBytes(lp) + add_bytes,
                                  count > UINT_MAX ? UINT_MAX : (unsigned int)count))
        listpackToQuicklist(o);
}

/* A quicklist of one packed node under the limit (half of it when shrinking) hands
 * that node's listpack over and goes away. */
static void listTypeTryConvertQuicklist(robj *o, int shrinking) {
    quicklist *ql = objectGetVal(o);
    if (ql->len != 1 || ql->head->container != QUICKLIST_NODE_CONTAINER_PACKED) return;
    size_t sz_limit;
    unsigned int count_limit;
    quicklistNodeLimit(list_max_listpack_size, &sz_limit, &count_limit);
    if (shrinking) {
        sz_limit /= 2;
        count_limit /= 2;
    }
    if (ql->head->sz > sz_limit || ql->count > count_limit) return;
    /* The head node is never compressed: its entry is the raw listpack. */
    unsigned char *lp = ql->head->entry;
    ql->head->entry = NULL;
    quicklistRelease(ql);
    objectSetVal(o, lp);
    o->encoding = OBJ_ENCODING_LISTPACK;
}

void listTypeTryConversion(robj *o, int how) {
    if (o->encoding == OBJ_ENCODING_QUICKLIST) {
        if (how != LIST_CONV_GROWING) listTypeTryConvertQuicklist(o, how == LIST_CONV_SHRINKING);
    } else if (o->encoding == OBJ_ENCODING_LISTPACK) {
        if (how != LIST_CONV_SHRINKING) listTypeTryConvertListpack(o, NULL, 0, -1);
    }
}

/* Before adding argv[start..end]: converts a listpack that could not take them. */
static void listTypeTryConversionAppend(robj *o, robj **argv, int start, int end) {
    if (o->encoding == OBJ_ENCODING_LISTPACK) listTypeTryConvertListpack(o, argv, start, end);
}

/* ---------------------------------------------------------------------------
 * The listType layer: both encodings behind one interface
 * ------------------------------------------------------------------------- */

static void listTypePush(robj *o, robj *value, int where) {
    char buf[LONG_STR_SIZE];
    size_t len;
    const char *s = objBytes(value, buf, &len);
    if (o->encoding == OBJ_ENCODING_QUICKLIST) {
        quicklistPush(objectGetVal(o), (void *)s, len, quicklistWhere(where));
    } else {
        unsigned char *lp = objectGetVal(o);
        lp = where == LIST_HEAD ? lpPrepend(lp, (unsigned char *)s, (uint32_t)len)
                                : lpAppend(lp, (unsigned char *)s, (uint32_t)len);
        objectSetVal(o, lp);
    }
}

static void *popSaver(unsigned char *data, size_t sz) {
    return createStringObject((char *)data, sz);
}

/* Removes and returns (a new string object) the element at one end; NULL if empty. */
static robj *listTypePop(robj *o, int where) {
    if (o->encoding == OBJ_ENCODING_QUICKLIST) {
        unsigned char *saved = NULL;
        long long lval;
        if (!quicklistPopCustom(objectGetVal(o), quicklistWhere(where), &saved, NULL, &lval, popSaver))
            return NULL;
        return saved ? (robj *)(void *)saved : createStringObjectFromLongLong(lval);
    }
    unsigned char *lp = objectGetVal(o);
    unsigned char *p = where == LIST_HEAD ? lpFirst(lp) : lpLast(lp);
    if (!p) return NULL;
    unsigned int slen;
    long long lval;
    unsigned char *s = lpGetValue(p, &slen, &lval);
    robj *value = s ? createStringObject((char *)s, slen) : createStringObjectFromLongLong(lval);
    objectSetVal(o, lpDelete(lp, p, NULL));
    return value;
}

/* Deletes count elements from start (negative: from the tail). */
static void listTypeDelRange(robj *o, long start, long count) {
    if (count <= 0) return;
    if (o->encoding == OBJ_ENCODING_QUICKLIST)
        quicklistDelRange(objectGetVal(o), start, count);
    else
        objectSetVal(o, lpDeleteRange(objectGetVal(o), start, (unsigned long)count));
}

/* 1 when index exists and was replaced. */
static int listTypeReplaceAtIndex(robj *o, long index, robj *value) {
    char buf[LONG_STR_SIZE];
    size_t len;
    const char *s = objBytes(value, buf, &len);
    if (o->encoding == OBJ_ENCODING_QUICKLIST) return quicklistReplaceAtIndex(objectGetVal(o), index, (void *)s, len);
    unsigned char *lp = objectGetVal(o);
    unsigned char *p = lpSeek(lp, index);
    if (!p) return 0;
    objectSetVal(o, lpReplace(lp, &p, (unsigned char *)s, (uint32_t)len));
    return 1;
}

/* An iterator over either encoding. direction LIST_TAIL walks towards the tail. Lives
 * on the stack; only the quicklist variant allocates. */
typedef struct {
    robj *subject;
    int direction;
    unsigned char *lpi;   /* listpack: the element the next call returns */
    quicklistIter *iter;  /* quicklist */
} listTypeIterator;

typedef struct {
    unsigned char *lpe;   /* listpack: the current element */
    quicklistEntry entry; /* quicklist */
} listTypeEntry;

static void listTypeInitIterator(listTypeIterator *li, robj *subject, long index, int direction) {
    li->subject = subject;
    li->direction = direction;
    li->lpi = NULL;
    li->iter = NULL;
    if (subject->encoding == OBJ_ENCODING_QUICKLIST)
        li->iter = quicklistGetIteratorAtIdx(objectGetVal(subject),
                                             direction == LIST_TAIL ? AL_START_HEAD : AL_START_TAIL, index);
    else
        li->lpi = lpSeek(objectGetVal(subject), index);
}

static void listTypeReleaseIterator(listTypeIterator *li) {
    quicklistReleaseIterator(li->iter); /* NULL-safe */
    li->iter = NULL;
}

static int listTypeNext(listTypeIterator *li, listTypeEntry *e) {
    if (li->subject->encoding == OBJ_ENCODING_QUICKLIST) return quicklistNext(li->iter, &e->entry);
    if (!li->lpi) return 0;
    unsigned char *lp = objectGetVal(li->subject);
    e->lpe = li->lpi;
    li->lpi = li->direction == LIST_TAIL ? lpNext(lp, li->lpi) : lpPrev(lp, li->lpi);
    return 1;
}

static int listTypeEqual(listTypeIterator *li, listTypeEntry *e, const char *s, size_t len) {
    if (li->subject->encoding == OBJ_ENCODING_QUICKLIST) return quicklistCompare(&e->entry, (unsigned char *)s, len);
    return len <= UINT32_MAX && lpCompare(e->lpe, (unsigned char *)s, (uint32_t)len);
}

/* Deletes the current element; the iteration goes on with the next one. */
static void listTypeDelete(listTypeIterator *li, listTypeEntry *e) {
    if (li->subject->encoding == OBJ_ENCODING_QUICKLIST) {
        quicklistDelEntry(li->iter, &e->entry);
        return;
    }
    unsigned char *next;
    unsigned char *lp = lpDelete(objectGetVal(li->subject), e->lpe, &next);
    objectSetVal(li->subject, lp);
    /* next is what followed the deleted element towards the tail. */
    if (li->direction == LIST_TAIL)
        li->lpi = next;
    else
        li->lpi = next ? lpPrev(lp, next) : lpLast(lp);
}

/* Inserts next to the current element (towards the tail with LIST_TAIL). Ends the
 * iteration. */
static void listTypeInsert(listTypeIterator *li, listTypeEntry *e, robj *value, int where) {
    char buf[LONG_STR_SIZE];
    size_t len;
    const char *s = objBytes(value, buf, &len);
    if (li->subject->encoding == OBJ_ENCODING_QUICKLIST) {
        if (where == LIST_TAIL)
            quicklistInsertAfter(li->iter, &e->entry, (void *)s, len);
        else
            quicklistInsertBefore(li->iter, &e->entry, (void *)s, len);
        return;
    }
    unsigned char *lp = lpInsertString(objectGetVal(li->subject), (unsigned char *)s, (uint32_t)len, e->lpe,
                                       where == LIST_TAIL ? LP_AFTER : LP_BEFORE, NULL);
    objectSetVal(li->subject, lp);
    li->lpi = NULL;
}

/* ---------------------------------------------------------------------------
 * Replies
 * ------------------------------------------------------------------------- */

static void addReplyListpackElement(client *c, unsigned char *p) {
    unsigned int slen;
    long long lval;
    unsigned char *s = lpGetValue(p, &slen, &lval);
    if (s)
        addReplyBulkCBuffer(c, s, slen);
    else
        addReplyBulkLongLong(c, lval);
}

/* Replies with count elements starting at index from, walking backwards if reverse. */
static void addListRangeElements(client *c, robj *o, long from, long count, int reverse) {
    addReplyArrayLen(c, count);
    if (o->encoding == OBJ_ENCODING_QUICKLIST) {
        quicklistIter *iter = quicklistGetIteratorAtIdx(objectGetVal(o), reverse ? AL_START_TAIL : AL_START_HEAD, from);
        quicklistEntry entry;
        while (count-- > 0 && quicklistNext(iter, &entry)) {
            if (entry.value)
                addReplyBulkCBuffer(c, entry.value, entry.sz);
            else
                addReplyBulkLongLong(c, entry.longval);
        }
        quicklistReleaseIterator(iter);
        return;
    }
    unsigned char *lp = objectGetVal(o);
    unsigned char *p = lpSeek(lp, from);
    while (count-- > 0 && p) {
        addReplyListpackElement(c, p);
        p = reverse ? lpPrev(lp, p) : lpNext(lp, p);
    }
}

/* LRANGE-style reply of start..end (negative indexes from the tail, clamped). With
 * reverse the elements come from end down to start. */
static void addListRangeReply(client *c, robj *o, long start, long end, int reverse) {
    long llen = (long)listTypeLength(o);
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        addReply(c, shared.emptyarray);
        return;
    }
    if (end >= llen) end = llen - 1;
    addListRangeElements(c, o, reverse ? end : start, end - start + 1, reverse);
}

/* After elements left the list at argv key: events, deletion of an emptied list,
 * conversion back to a listpack, dirty. */
static void listElementsRemoved(client *c, robj *key, int where, robj *o, long count, int *deleted) {
    notifyKeyspaceEvent(NOTIFY_LIST, where == LIST_HEAD ? "lpop" : "rpop", key, c->db->id);
    if (listTypeLength(o) == 0) {
        if (deleted) *deleted = 1;
        dbDelete(c->db, key);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key, c->db->id);
    } else {
        if (deleted) *deleted = 0;
        listTypeTryConversion(o, LIST_CONV_SHRINKING);
    }
    signalModifiedKey(c, c->db, key);
    server.dirty += count;
}

/* Pops up to count elements from one end replying [key, [elements...]] (LMPOP). */
static void listPopRangeAndReplyWithKey(client *c, robj *o, robj *key, int where, long count) {
    long llen = (long)listTypeLength(o);
    long rangelen = count > llen ? llen : count;
    long start = where == LIST_HEAD ? 0 : -rangelen;
    addReplyArrayLen(c, 2);
    addReplyBulk(c, key);
    addListRangeElements(c, o, where == LIST_HEAD ? 0 : -1, rangelen, where == LIST_TAIL);
    listTypeDelRange(o, start, rangelen);
    listElementsRemoved(c, key, where, o, rangelen, NULL);
}

/* ---------------------------------------------------------------------------
 * Argument parsing
 * ------------------------------------------------------------------------- */

static int argEquals(robj *arg, const char *word) {
    return sdsEncodedObject(arg) && !strcasecmp(objectGetVal(arg), word);
}

/* LEFT / RIGHT. */
static int getListPositionFromObjectOrReply(client *c, robj *arg, int *where) {
    if (argEquals(arg, "right")) {
        *where = LIST_TAIL;
    } else if (argEquals(arg, "left")) {
        *where = LIST_HEAD;
    } else {
        addReplyErrorObject(c, shared.syntaxerr);
        return C_ERR;
    }
    return C_OK;
}

/* ---------------------------------------------------------------------------
 * Push
 * ------------------------------------------------------------------------- */

static void pushGenericCommand(client *c, int where, int xx) {
    robj *lobj = lookupKeyWrite(c->db, c->argv[1]);
    if (checkType(c, lobj, OBJ_LIST)) return;
    if (!lobj) {
        if (xx) {
            addReply(c, shared.czero);
            return;
        }
        lobj = dbAdd(c->db, c->argv[1], createListListpackObject());
    }
    listTypeTryConversionAppend(lobj, c->argv, 2, c->argc - 1);
    for (int j = 2; j < c->argc; j++) listTypePush(lobj, c->argv[j], where);
    server.dirty += c->argc - 2;
    addReplyLongLong(c, (long long)listTypeLength(lobj));
    signalModifiedKey(c, c->db, c->argv[1]);
    notifyKeyspaceEvent(NOTIFY_LIST, where == LIST_HEAD ? "lpush" : "rpush", c->argv[1], c->db->id);
}

void lpushCommand(client *c) {
    pushGenericCommand(c, LIST_HEAD, 0);
}

void rpushCommand(client *c) {
    pushGenericCommand(c, LIST_TAIL, 0);
}

void lpushxCommand(client *c) {
    pushGenericCommand(c, LIST_HEAD, 1);
}

void rpushxCommand(client *c) {
    pushGenericCommand(c, LIST_TAIL, 1);
}

void linsertCommand(client *c) {
    int where;
    if (argEquals(c->argv[2], "after")) {
        where = LIST_TAIL;
    } else if (argEquals(c->argv[2], "before")) {
        where = LIST_HEAD;
    } else {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    robj *subject = lookupKeyWriteOrReply(c, c->argv[1], shared.czero);
    if (!subject || checkType(c, subject, OBJ_LIST)) return;

    /* Converting inside the iteration is not possible, so convert up front as if the
     * insertion will happen (even when the pivot turns out to be missing). */
    listTypeTryConversionAppend(subject, c->argv, 4, 4);
    char buf[LONG_STR_SIZE];
    size_t plen;
    const char *pivot = objBytes(c->argv[3], buf, &plen);
    listTypeIterator li;
    listTypeEntry e;
    int inserted = 0;
    listTypeInitIterator(&li, subject, 0, LIST_TAIL);
    while (listTypeNext(&li, &e)) {
        if (listTypeEqual(&li, &e, pivot, plen)) {
            listTypeInsert(&li, &e, c->argv[4], where);
            inserted = 1;
            break;
        }
    }
    listTypeReleaseIterator(&li);
    if (!inserted) {
        addReplyLongLong(c, -1);
        return;
    }
    signalModifiedKey(c, c->db, c->argv[1]);
    notifyKeyspaceEvent(NOTIFY_LIST, "linsert", c->argv[1], c->db->id);
    server.dirty++;
    addReplyLongLong(c, (long long)listTypeLength(subject));
}

/* ---------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------- */

void llenCommand(client *c) {
    robj *o = lookupKeyReadOrReply(c, c->argv[1], shared.czero);
    if (!o || checkType(c, o, OBJ_LIST)) return;
    addReplyLongLong(c, (long long)listTypeLength(o));
}

void lindexCommand(client *c) {
    robj *o = lookupKeyReadOrReply(c, c->argv[1], shared.null[c->resp]);
    if (!o || checkType(c, o, OBJ_LIST)) return;
    long index;
    if (getLongFromObjectOrReply(c, c->argv[2], &index, NULL) != C_OK) return;
    if (o->encoding == OBJ_ENCODING_QUICKLIST) {
        quicklistEntry entry;
        quicklistIter *iter = quicklistGetIteratorEntryAtIdx(objectGetVal(o), index, &entry);
        if (!iter) {
            addReplyNull(c);
            return;
        }
        if (entry.value)
            addReplyBulkCBuffer(c, entry.value, entry.sz);
        else
            addReplyBulkLongLong(c, entry.longval);
        quicklistReleaseIterator(iter);
    } else {
        unsigned char *p = lpSeek(objectGetVal(o), index);
        if (p)
            addReplyListpackElement(c, p);
        else
            addReplyNull(c);
    }
}

void lrangeCommand(client *c) {
    long start, end;
    if (getLongFromObjectOrReply(c, c->argv[2], &start, NULL) != C_OK ||
        getLongFromObjectOrReply(c, c->argv[3], &end, NULL) != C_OK)
        return;
    robj *o = lookupKeyReadOrReply(c, c->argv[1], shared.emptyarray);
    if (!o || checkType(c, o, OBJ_LIST)) return;
    addListRangeReply(c, o, start, end, 0);
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
void lposCommand(client *c) {
    long rank = 1, count = -1, maxlen = 0; /* count -1: no COUNT option */
    int direction = LIST_TAIL;
    for (int j = 3; j < c->argc; j++) {
        int moreargs = j + 1 < c->argc;
        if (argEquals(c->argv[j], "rank") && moreargs) {
            j++;
            if (getRangeLongFromObjectOrReply(c, c->argv[j], -LONG_MAX, LONG_MAX, &rank, NULL) != C_OK) return;
            if (rank == 0) {
                addReplyError(c, "RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                                 "or use negative to start from the end of the list");
                return;
            }
        } else if (argEquals(c->argv[j], "count") && moreargs) {
            j++;
            if (getPositiveLongFromObjectOrReply(c, c->argv[j], &count, "COUNT can't be negative") != C_OK) return;
        } else if (argEquals(c->argv[j], "maxlen") && moreargs) {
            j++;
            if (getPositiveLongFromObjectOrReply(c, c->argv[j], &maxlen, "MAXLEN can't be negative") != C_OK)
                return;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    if (rank < 0) {
        rank = -rank;
        direction = LIST_HEAD;
    }

    robj *o = lookupKeyRead(c->db, c->argv[1]);
    if (!o) {
        addReply(c, count != -1 ? shared.emptyarray : shared.null[c->resp]);
        return;
    }
    if (checkType(c, o, OBJ_LIST)) return;

    char buf[LONG_STR_SIZE];
    size_t elen;
    const char *ele = objBytes(c->argv[2], buf, &elen);
    void *lenptr = count != -1 ? addReplyDeferredLen(c) : NULL;
    long llen = (long)listTypeLength(o);
    long index = 0, matches = 0, found = -1, replied = 0;
    listTypeIterator li;
    listTypeEntry e;
    listTypeInitIterator(&li, o, direction == LIST_HEAD ? -1 : 0, direction);
    while ((maxlen == 0 || index < maxlen) && listTypeNext(&li, &e)) {
        if (listTypeEqual(&li, &e, ele, elen) && ++matches >= rank) {
            long pos = direction == LIST_TAIL ? index : llen - index - 1;
            if (!lenptr) {
                found = pos;
                break;
            }
            addReplyLongLong(c, pos);
            replied++;
            if (count && replied >= count) break;
        }
        index++;
    }
    listTypeReleaseIterator(&li);
    if (lenptr)
        setDeferredArrayLen(c, lenptr, replied);
    else if (found != -1)
        addReplyLongLong(c, found);
    else
        addReplyNull(c);
}

/* ---------------------------------------------------------------------------
 * Writing in place
 * ------------------------------------------------------------------------- */

void lsetCommand(client *c) {
    robj *o = lookupKeyWriteOrReply(c, c->argv[1], shared.nokeyerr);
    if (!o || checkType(c, o, OBJ_LIST)) return;
    long index;
    if (getLongFromObjectOrReply(c, c->argv[2], &index, NULL) != C_OK) return;
    listTypeTryConversionAppend(o, c->argv, 3, 3);
    if (!listTypeReplaceAtIndex(o, index, c->argv[3])) {
        addReplyErrorObject(c, shared.outofrangeerr);
        return;
    }
    addReply(c, shared.ok);
    signalModifiedKey(c, c->db, c->argv[1]);
    notifyKeyspaceEvent(NOTIFY_LIST, "lset", c->argv[1], c->db->id);
    server.dirty++;
    /* A big element may have been replaced by a small one. */
    listTypeTryConversion(o, LIST_CONV_SHRINKING);
}

void ltrimCommand(client *c) {
    long start, end;
    if (getLongFromObjectOrReply(c, c->argv[2], &start, NULL) != C_OK ||
        getLongFromObjectOrReply(c, c->argv[3], &end, NULL) != C_OK)
        return;
    robj *o = lookupKeyWriteOrReply(c, c->argv[1], shared.ok);
    if (!o || checkType(c, o, OBJ_LIST)) return;
    long llen = (long)listTypeLength(o), ltrim, rtrim;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        ltrim = llen; /* empty range: everything goes */
        rtrim = 0;
    } else {
        if (end >= llen) end = llen - 1;
        ltrim = start;
        rtrim = llen - end - 1;
    }
    listTypeDelRange(o, 0, ltrim);
    listTypeDelRange(o, -rtrim, rtrim);
    notifyKeyspaceEvent(NOTIFY_LIST, "ltrim", c->argv[1], c->db->id);
    if (listTypeLength(o) == 0) {
        dbDelete(c->db, c->argv[1]);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
    } else {
        listTypeTryConversion(o, LIST_CONV_SHRINKING);
    }
    signalModifiedKey(c, c->db, c->argv[1]);
    server.dirty += ltrim + rtrim;
    addReply(c, shared.ok);
}

void lremCommand(client *c) {
    long toremove;
    /* Valkey refuses LONG_MIN, whose magnitude does not fit a long. */
    if (getRangeLongFromObjectOrReply(c, c->argv[2], -LONG_MAX, LONG_MAX, &toremove, NULL) != C_OK) return;
    robj *o = lookupKeyWriteOrReply(c, c->argv[1], shared.czero);
    if (!o || checkType(c, o, OBJ_LIST)) return;

    char buf[LONG_STR_SIZE];
    size_t elen;
    const char *ele = objBytes(c->argv[3], buf, &elen);
    /* Negative counts remove from the tail. */
    unsigned long limit = toremove < 0 ? (unsigned long)-toremove : (unsigned long)toremove;
    unsigned long removed = 0;
    listTypeIterator li;
    listTypeEntry e;
    if (toremove < 0)
        listTypeInitIterator(&li, o, -1, LIST_HEAD);
    else
        listTypeInitIterator(&li, o, 0, LIST_TAIL);
    while (listTypeNext(&li, &e)) {
        if (!listTypeEqual(&li, &e, ele, elen)) continue;
        listTypeDelete(&li, &e);
        removed++;
        if (limit && removed == limit) break;
    }
    listTypeReleaseIterator(&li);
    server.dirty += (long long)removed;

    if (removed) notifyKeyspaceEvent(NOTIFY_LIST, "lrem", c->argv[1], c->db->id);
    if (listTypeLength(o) == 0) {
        dbDelete(c->db, c->argv[1]);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
    } else if (removed) {
        listTypeTryConversion(o, LIST_CONV_SHRINKING);
    }
    if (removed) signalModifiedKey(c, c->db, c->argv[1]);
    addReplyLongLong(c, (long long)removed);
}

/* ---------------------------------------------------------------------------
 * Pop
 * ------------------------------------------------------------------------- */

/* LPOP/RPOP key [count] */
static void popGenericCommand(client *c, int where) {
    int hascount = c->argc == 3;
    long count = 0;
    if (c->argc > 3) {
        addReplyErrorArity(c);
        return;
    }
    if (hascount && getPositiveLongFromObjectOrReply(c, c->argv[2], &count, NULL) != C_OK) return;

    robj *o = lookupKeyWriteOrReply(c, c->argv[1], hascount ? shared.nullarray[c->resp] : shared.null[c->resp]);
    if (!o || checkType(c, o, OBJ_LIST)) return;
    if (hascount && count == 0) {
        addReply(c, shared.emptyarray);
        return;
    }
    if (!hascount) {
        robj *value = listTypePop(o, where);
        serverAssert(value != NULL);
        addReplyBulk(c, value);
        decrRefCount(value);
        listElementsRemoved(c, c->argv[1], where, o, 1, NULL);
        return;
    }
    long llen = (long)listTypeLength(o);
    long rangelen = count > llen ? llen : count;
    addListRangeElements(c, o, where == LIST_HEAD ? 0 : -1, rangelen, where == LIST_TAIL);
    listTypeDelRange(o, where == LIST_HEAD ? 0 : -rangelen, rangelen);
    listElementsRemoved(c, c->argv[1], where, o, rangelen, NULL);
}

void lpopCommand(client *c) {
    popGenericCommand(c, LIST_HEAD);
}

void rpopCommand(client *c) {
    popGenericCommand(c, LIST_TAIL);
}

/* Pops from the first non-empty list of keys (LMPOP, and BLPOP & co when there is
 * something to pop). count -1: a single element, replied [key, element] (BLPOP);
 * otherwise [key, [elements]]. Returns 1 when it replied (popped or WRONGTYPE). */
static int popFromFirstNonEmpty(client *c, robj **keys, int numkeys, int where, long count) {
    for (int j = 0; j < numkeys; j++) {
        robj *key = keys[j];
        robj *o = lookupKeyWrite(c->db, key);
        if (!o) continue;
        if (checkType(c, o, OBJ_LIST)) return 1;
        long llen = (long)listTypeLength(o);
        if (llen == 0) continue;
        robj *popname = where == LIST_HEAD ? name_lpop : name_rpop;
        if (count != -1) {
            listPopRangeAndReplyWithKey(c, o, key, where, count);
            robj *count_obj = createStringObjectFromLongLong(count > llen ? llen : count);
            rewriteClientCommandVector(c, 3, popname, key, count_obj);
            decrRefCount(count_obj);
            return 1;
        }
        robj *value = listTypePop(o, where);
        addReplyArrayLen(c, 2);
        addReplyBulk(c, key);
        addReplyBulk(c, value);
        decrRefCount(value);
        listElementsRemoved(c, key, where, o, 1, NULL);
        rewriteClientCommandVector(c, 2, popname, key);
        return 1;
    }
    return 0;
}

/* BLPOP/BRPOP/BLMPOP once the arguments are parsed. */
static void blockingPopGenericCommand(client *c, robj **keys, int numkeys, int where, int timeout_idx, long count) {
    mstime_t timeout;
    if (getTimeoutFromObjectOrReply(c, c->argv[timeout_idx], &timeout, UNIT_SECONDS) != C_OK) return;
    if (popFromFirstNonEmpty(c, keys, numkeys, where, count)) return;
    /* Where blocking is not allowed (MULTI, scripts) the command times out at once. */
    if (clientDeniesBlocking(c)) {
        addReplyNullArray(c);
        return;
    }
    blockForKeys(c, BLOCKED_LIST, keys, numkeys, timeout, 0);
}

void blpopCommand(client *c) {
    blockingPopGenericCommand(c, c->argv + 1, c->argc - 2, LIST_HEAD, c->argc - 1, -1);
}

void brpopCommand(client *c) {
    blockingPopGenericCommand(c, c->argv + 1, c->argc - 2, LIST_TAIL, c->argc - 1, -1);
}

/* LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]; BLMPOP timeout numkeys ... */
static void lmpopGenericCommand(client *c, int numkeys_idx, int blocking) {
    long numkeys, count = -1;
    int where;
    if (getRangeLongFromObjectOrReply(c, c->argv[numkeys_idx], 1, LONG_MAX, &numkeys,
                                      "numkeys should be greater than 0") != C_OK)
        return;
    if (numkeys >= c->argc - numkeys_idx - 1) { /* no room left for LEFT|RIGHT */
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    int where_idx = numkeys_idx + (int)numkeys + 1;
    if (getListPositionFromObjectOrReply(c, c->argv[where_idx], &where) != C_OK) return;
    for (int j = where_idx + 1; j < c->argc; j++) {
        if (count == -1 && argEquals(c->argv[j], "count") && j + 1 < c->argc) {
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
        blockingPopGenericCommand(c, keys, (int)numkeys, where, 1, count);
    } else if (!popFromFirstNonEmpty(c, keys, (int)numkeys, where, count)) {
        addReplyNullArray(c);
    }
}

void lmpopCommand(client *c) {
    lmpopGenericCommand(c, 1, 0);
}

void blmpopCommand(client *c) {
    lmpopGenericCommand(c, 2, 1);
}

/* ---------------------------------------------------------------------------
 * Move
 * ------------------------------------------------------------------------- */

static void lmoveHandlePush(client *c, robj *dstkey, robj *dstobj, robj *value, int where) {
    if (!dstobj) dstobj = dbAdd(c->db, dstkey, createListListpackObject());
    listTypeTryConversionAppend(dstobj, &value, 0, 0);
    listTypePush(dstobj, value, where);
    signalModifiedKey(c, c->db, dstkey);
    notifyKeyspaceEvent(NOTIFY_LIST, where == LIST_HEAD ? "lpush" : "rpush", dstkey, c->db->id);
    addReplyBulk(c, value);
}

static void lmoveGenericCommand(client *c, int wherefrom, int whereto) {
    robj *sobj = lookupKeyWriteOrReply(c, c->argv[1], shared.null[c->resp]);
    if (!sobj || checkType(c, sobj, OBJ_LIST)) return;
    if (listTypeLength(sobj) == 0) { /* only from very old RDB files */
        addReplyNull(c);
        return;
    }
    robj *dobj = lookupKeyWrite(c->db, c->argv[2]);
    if (checkType(c, dobj, OBJ_LIST)) return;
    robj *value = listTypePop(sobj, wherefrom);
    /* With source == destination, dobj is sobj: the element goes back before the
     * emptiness check, so a one-element list rotates instead of being deleted. */
    lmoveHandlePush(c, c->argv[2], dobj, value, whereto);
    listElementsRemoved(c, c->argv[1], wherefrom, sobj, 1, NULL);
    decrRefCount(value);
    if (c->cmd->proc == blmoveCommand)
        rewriteClientCommandVector(c, 5, name_lmove, c->argv[1], c->argv[2], c->argv[3], c->argv[4]);
    else if (c->cmd->proc == brpoplpushCommand)
        rewriteClientCommandVector(c, 3, name_rpoplpush, c->argv[1], c->argv[2]);
}

void lmoveCommand(client *c) {
    int wherefrom, whereto;
    if (getListPositionFromObjectOrReply(c, c->argv[3], &wherefrom) != C_OK) return;
    if (getListPositionFromObjectOrReply(c, c->argv[4], &whereto) != C_OK) return;
    lmoveGenericCommand(c, wherefrom, whereto);
}

void rpoplpushCommand(client *c) {
    lmoveGenericCommand(c, LIST_TAIL, LIST_HEAD);
}

static void blmoveGenericCommand(client *c, int wherefrom, int whereto, mstime_t timeout) {
    robj *src = lookupKeyWrite(c->db, c->argv[1]);
    if (checkType(c, src, OBJ_LIST)) return;
    if (src) {
        lmoveGenericCommand(c, wherefrom, whereto);
        return;
    }
    if (clientDeniesBlocking(c)) {
        addReplyNull(c); /* not the null array of a timeout: as LMOVE would answer */
        return;
    }
    blockForKeys(c, BLOCKED_LIST, c->argv + 1, 1, timeout, 0);
}

void blmoveCommand(client *c) {
    int wherefrom, whereto;
    mstime_t timeout;
    if (getListPositionFromObjectOrReply(c, c->argv[3], &wherefrom) != C_OK) return;
    if (getListPositionFromObjectOrReply(c, c->argv[4], &whereto) != C_OK) return;
    if (getTimeoutFromObjectOrReply(c, c->argv[5], &timeout, UNIT_SECONDS) != C_OK) return;
    blmoveGenericCommand(c, wherefrom, whereto, timeout);
}

void brpoplpushCommand(client *c) {
    mstime_t timeout;
    if (getTimeoutFromObjectOrReply(c, c->argv[3], &timeout, UNIT_SECONDS) != C_OK) return;
    blmoveGenericCommand(c, LIST_TAIL, LIST_HEAD, timeout);
}

/* ---------------------------------------------------------------------------
 * SORT's access to lists (sort.c declares these weak)
 * ------------------------------------------------------------------------- */

unsigned long sortListLength(robj *list) {
    return listTypeLength(list);
}

/* count elements from index start (from the tail, walking backwards, if reverse) as
 * new string objects. */
void sortListLoad(robj *list, long start, long count, int reverse, robj **out) {
    listTypeIterator li;
    listTypeEntry e;
    long n = 0;
    listTypeInitIterator(&li, list, reverse ? -start - 1 : start, reverse ? LIST_HEAD : LIST_TAIL);
    while (n < count && listTypeNext(&li, &e)) {
        if (list->encoding == OBJ_ENCODING_QUICKLIST) {
            out[n++] = e.entry.value ? createStringObject((char *)e.entry.value, e.entry.sz)
                                     : createStringObjectFromLongLong(e.entry.longval);
        } else {
            unsigned int slen;
            long long lval;
            unsigned char *str = lpGetValue(e.lpe, &slen, &lval);
            out[n++] = str ? createStringObject((char *)str, slen) : createStringObjectFromLongLong(lval);
        }
    }
    listTypeReleaseIterator(&li);
    serverAssert(n == count);
}

/* SORT ... STORE: the size is unknown up front, so the list is built as a quicklist
 * and converted when it turns out to fit a listpack (at the full limit). */
robj *sortListCreate(robj **elements, unsigned long count) {
    robj *o = createQuicklistObject(list_max_listpack_size, list_compress_depth);
    for (unsigned long j = 0; j < count; j++) listTypePush(o, elements[j], LIST_TAIL);
    listTypeTryConversion(o, LIST_CONV_AUTO);
    return o;
}

/* ---------------------------------------------------------------------------
 * Object procs and registration
 * ------------------------------------------------------------------------- */

static void listFreeValue(robj *o) {
    if (o->encoding == OBJ_ENCODING_QUICKLIST)
        quicklistRelease(objectGetVal(o));
    else
        lpFree(objectGetVal(o));
}

static robj *listDupValue(const robj *o) {
    if (o->encoding == OBJ_ENCODING_QUICKLIST) {
        robj *d = createObject(OBJ_LIST, quicklistDup(objectGetVal(o)));
        d->encoding = OBJ_ENCODING_QUICKLIST;
        return d;
    }
    robj *d = createObject(OBJ_LIST, lpDup(objectGetVal(o)));
    d->encoding = OBJ_ENCODING_LISTPACK;
    return d;
}

/* MEMORY USAGE: a quicklist samples its first nodes and extrapolates to all. */
static size_t listValueSize(const robj *o, size_t samples) {
    if (o->encoding != OBJ_ENCODING_QUICKLIST) return zmalloc_usable_size(objectGetVal(o));
    quicklist *ql = objectGetVal(o);
    size_t size = zmalloc_usable_size(ql), nodes_size = 0, seen = 0;
    for (quicklistNode *node = ql->head; node && (samples == 0 || seen < samples); node = node->next) {
        nodes_size += sizeof(quicklistNode) + zmalloc_usable_size(node->entry);
        seen++;
    }
    if (seen) size += (size_t)((double)nodes_size / (double)seen * (double)ql->len);
    return size;
}

/* Freeing a quicklist costs about one free per node. */
static size_t listFreeEffort(const robj *o) {
    if (o->encoding == OBJ_ENCODING_QUICKLIST) return ((quicklist *)objectGetVal(o))->len;
    return 1;
}

static const configDirective list_configs[] = {
    {.name = "list-max-listpack-size",
     .alias = "list-max-ziplist-size",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &list_max_listpack_size,
     .u.num = {CONFIG_NUM_INT, CONFIG_FMT_INTEGER, INT_MIN, INT_MAX, -2, NULL}},
    {.name = "list-compress-depth",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &list_compress_depth,
     .u.num = {CONFIG_NUM_INT, CONFIG_FMT_INTEGER, 0, INT_MAX, 0, NULL}},
};

void listTypeRegister(void) {
    configRegisterDirectives(list_configs, (int)(sizeof(list_configs) / sizeof(list_configs[0])));
    objectRegisterFreeProc(OBJ_LIST, listFreeValue);
    objectRegisterDupProc(OBJ_LIST, listDupValue);
    objectRegisterSizeProc(OBJ_LIST, listValueSize);
    lazyfreeRegisterEffortProc(OBJ_LIST, listFreeEffort);
    name_lpop = makeObjectShared(createStringObject("LPOP", 4));
    name_rpop = makeObjectShared(createStringObject("RPOP", 4));
    name_lmove = makeObjectShared(createStringObject("LMOVE", 5));
    name_rpoplpush = makeObjectShared(createStringObject("RPOPLPUSH", 9));
}
