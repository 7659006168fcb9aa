/* sort.c -- SORT and SORT_RO.
 *
 *   SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
 *        [STORE destination]
 *
 * The elements of the set, sorted set or list at `key` are loaded into a vector of
 * string objects, each given a sort weight: the element itself (numeric, or by bytes
 * with ALPHA), or the value found through the BY pattern, where the first '*' is
 * replaced by the element and "key->field" reads a hash field. A BY pattern without
 * '*' ("nosort") skips sorting: lists and sorted sets keep their order, sets too unless
 * the result is stored (then they are sorted ALPHA so replicas agree). GET patterns
 * ("#" is the element) pick what is returned; STORE writes the result as a list.
 *
 * Comparisons: numbers as doubles (strtod, ties broken by the element bytes so the
 * order is deterministic); ALPHA by strcoll(), or by bytes when storing.
 */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server.h" /* first: networking.h uses its mstime_t */
#include "commands.h"
#include "db.h"
#include "networking.h"
#include "notify.h"
#include "object.h"
#include "sds.h"
#include "t_hash.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"
#include "zmalloc.h"

/* The list side of SORT, provided by the list type (t_list.c). They are weak so SORT
 * builds before lists exist: until then no list value can exist, and STORE (which
 * writes a list) replies an error.
 *   sortListLength  number of elements of a list value;
 *   sortListLoad    count elements from index start as new string objects into out[]
 *                   (reverse: start counts from the tail and the walk goes backwards);
 *   sortListCreate  a new list object (refcount 1, no key) holding the elements in
 *                   order, in the encoding Valkey gives such a list; the references in
 *                   elements[] are not taken. */
unsigned long sortListLength(robj *list) __attribute__((weak));
void sortListLoad(robj *list, long start, long count, int reverse, robj **out) __attribute__((weak));
robj *sortListCreate(robj **elements, unsigned long count) __attribute__((weak));

typedef struct {
    robj *obj; /* the element, a string object owned by the vector */
    union {
        double score;  /* numeric sort */
        robj *cmpobj;  /* ALPHA with BY: the decoded BY value, or NULL when missing */
    } u;
} sortObject;

typedef struct {
    int desc, alpha, bypattern, store;
} sortOptions;

/* The value a pattern points to for an element, with a new reference, or NULL:
 *   "#"              the element itself;
 *   "pre*post"       the string at key pre<element>post;
 *   "pre*post->fld"  field fld of the hash at key pre<element>post.
 * A pattern without '*' names no per-element key: NULL. */
static robj *lookupKeyByPattern(serverDb *db, robj *pattern, robj *subst) {
    sds spat = objectGetVal(pattern);
    if (spat[0] == '#' && spat[1] == '\0') {
        incrRefCount(subst);
        return subst;
    }
    char *star = strchr(spat, '*');
    if (!star) return NULL;

    /* A "->" after the star (with something after it) names a hash field. */
    char *arrow = strstr(star + 1, "->");
    size_t fieldlen = 0;
    if (arrow && arrow[2] != '\0') fieldlen = sdslen(spat) - (size_t)(arrow - spat) - 2;

    robj *decoded = getDecodedObject(subst);
    sds ssub = objectGetVal(decoded);
    size_t prefixlen = (size_t)(star - spat);
    size_t sublen = sdslen(ssub);
    size_t postfixlen = sdslen(spat) - (prefixlen + 1) - (fieldlen ? fieldlen + 2 : 0);
    sds keyname = sdsnewlen(SDS_NOINIT, prefixlen + sublen + postfixlen);
    memcpy(keyname, spat, prefixlen);
    memcpy(keyname + prefixlen, ssub, sublen);
    memcpy(keyname + prefixlen + sublen, star + 1, postfixlen);
    decrRefCount(decoded);

    robj *keyobj = createObjectFromSds(keyname);
    robj *o = lookupKeyRead(db, keyobj);
    robj *val = NULL;
    if (o && fieldlen) {
        if (o->type == OBJ_HASH) {
            sds field = sdsnewlen(arrow + 2, fieldlen);
            val = hashTypeGetValueObject(o, field);
            sdsfree(field);
        }
    } else if (o && o->type == OBJ_STRING) {
        val = o;
        incrRefCount(val);
    }
    decrRefCount(keyobj);
    return val;
}

static int sortCompare(const void *a, const void *b, void *arg) {
    const sortObject *x = a, *y = b;
    const sortOptions *opt = arg;
    int cmp;
    if (!opt->alpha) {
        if (x->u.score > y->u.score) cmp = 1;
        else if (x->u.score < y->u.score) cmp = -1;
        else cmp = compareStringObjects(x->obj, y->obj); /* deterministic ties */
    } else if (opt->bypattern) {
        if (!x->u.cmpobj || !y->u.cmpobj) {
            /* Missing BY values sort first. */
            cmp = x->u.cmpobj == y->u.cmpobj ? 0 : (x->u.cmpobj == NULL ? -1 : 1);
        } else if (opt->store) {
            cmp = compareStringObjects(x->u.cmpobj, y->u.cmpobj);
        } else {
            cmp = strcoll(objectGetVal(x->u.cmpobj), objectGetVal(y->u.cmpobj));
        }
    } else {
        cmp = opt->store ? compareStringObjects(x->obj, y->obj) : collateStringObjects(x->obj, y->obj);
    }
    return opt->desc ? -cmp : cmp;
}

static robj *elementObject(const char *str, size_t len, long long ll) {
    return str ? createStringObject(str, len) : createStringObjectFromLongLong(ll);
}

/* Loads every member of a set. */
static long loadSet(robj *set, sortObject *vector) {
    setTypeIterator si;
    char *str;
    size_t len = 0;
    int64_t llval = 0;
    long j = 0;
    setTypeInitIterator(&si, set);
    while (setTypeNext(&si, &str, &len, &llval) != -1) vector[j++].obj = elementObject(str, len, llval);
    setTypeResetIterator(&si);
    return j;
}

/* Loads `count` members of a sorted set in score order (reversed for desc), skipping
 * the first `skip`. */
static long loadZset(robj *zobj, sortObject *vector, long skip, long count, int desc) {
    zsetIterator it;
    const unsigned char *str;
    size_t len = 0;
    long long ll = 0;
    double score;
    long j = 0;
    zsetIteratorInit(&it, zobj, desc);
    while (j < count && zsetIteratorNext(&it, &str, &len, &ll, &score)) {
        if (skip > 0) {
            skip--;
            continue;
        }
        vector[j++].obj = elementObject((const char *)str, len, ll);
    }
    return j;
}

/* Loads `count` elements of a list from index `skip`, from the tail for desc. */
static long loadList(robj *list, sortObject *vector, long skip, long count, int desc) {
    if (count == 0) return 0;
    robj **out = zmalloc(sizeof(robj *) * (size_t)count);
    sortListLoad(list, skip, count, desc, out);
    for (long j = 0; j < count; j++) vector[j].obj = out[j];
    zfree(out);
    return count;
}

/* Computes the weights from the BY pattern or the elements. Returns 0 when a numeric
 * weight is not a number. */
static int loadWeights(client *c, sortObject *vector, long n, robj *sortby, int alpha) {
    int ok = 1;
    for (long j = 0; j < n; j++) {
        robj *byval = sortby ? lookupKeyByPattern(c->db, sortby, vector[j].obj) : vector[j].obj;
        if (!byval) continue;
        if (alpha) {
            if (sortby) vector[j].u.cmpobj = getDecodedObject(byval);
        } else if (sdsEncodedObject(byval)) {
            char *eptr;
            errno = 0;
            vector[j].u.score = strtod(objectGetVal(byval), &eptr);
            if (eptr[0] != '\0' || errno == ERANGE || isnan(vector[j].u.score)) ok = 0;
        } else {
            vector[j].u.score = (double)(long)objectGetVal(byval);
        }
        if (sortby) decrRefCount(byval);
    }
    return ok;
}

static int argIs(robj *arg, const char *name) {
    return sdsEncodedObject(arg) && !strcasecmp(objectGetVal(arg), name);
}

/* Replies with the elements start..end, or their GET values. */
static void replySorted(client *c, sortObject *vector, long start, long end, robj **gets, int getcount,
                        long outputlen) {
    addReplyArrayLen(c, outputlen);
    for (long j = start; j <= end; j++) {
        if (!getcount) addReplyBulk(c, vector[j].obj);
        for (int g = 0; g < getcount; g++) {
            robj *val = lookupKeyByPattern(c->db, gets[g], vector[j].obj);
            if (!val) {
                addReplyNull(c);
            } else {
                addReplyBulk(c, val);
                decrRefCount(val);
            }
        }
    }
}

/* Stores the elements start..end (or their GET values, missing ones as "") as a list. */
static void storeSorted(client *c, robj *storekey, sortObject *vector, long start, long end, robj **gets,
                        int getcount, long outputlen) {
    robj **elements = zmalloc(sizeof(robj *) * (size_t)(outputlen ? outputlen : 1));
    long n = 0;
    for (long j = start; j <= end; j++) {
        if (!getcount) {
            incrRefCount(vector[j].obj);
            elements[n++] = vector[j].obj;
        }
        for (int g = 0; g < getcount; g++) {
            robj *val = lookupKeyByPattern(c->db, gets[g], vector[j].obj);
            elements[n++] = val ? val : createStringObject("", 0);
        }
    }
    serverAssert(n == outputlen);
    if (outputlen) {
        robj *list = sortListCreate(elements, (unsigned long)outputlen);
        setKey(c, c->db, storekey, &list, 0);
        notifyKeyspaceEvent(NOTIFY_LIST, "sortstore", storekey, c->db->id);
        server.dirty += outputlen;
    } else {
        if (dbDelete(c->db, storekey)) {
            signalModifiedKey(c, c->db, storekey);
            notifyKeyspaceEvent(NOTIFY_GENERIC, "del", storekey, c->db->id);
            server.dirty++;
        }
    }
    for (long j = 0; j < n; j++) decrRefCount(elements[j]);
    zfree(elements);
    addReplyLongLong(c, outputlen);
}

static void sortGenericCommand(client *c, int readonly) {
    sortOptions opt = {0};
    long limit_start = 0, limit_count = -1;
    int dontsort = 0;
    robj *sortby = NULL, *storekey = NULL;
    robj **gets = zmalloc(sizeof(robj *) * (size_t)c->argc);
    int getcount = 0;

    for (int j = 2; j < c->argc; j++) {
        int leftargs = c->argc - j - 1;
        robj *arg = c->argv[j];
        if (argIs(arg, "asc")) {
            opt.desc = 0;
        } else if (argIs(arg, "desc")) {
            opt.desc = 1;
        } else if (argIs(arg, "alpha")) {
            opt.alpha = 1;
        } else if (argIs(arg, "limit") && leftargs >= 2) {
            if (getLongFromObjectOrReply(c, c->argv[j + 1], &limit_start, NULL) != C_OK ||
                getLongFromObjectOrReply(c, c->argv[j + 2], &limit_count, NULL) != C_OK) {
                zfree(gets);
                return;
            }
            j += 2;
        } else if (!readonly && argIs(arg, "store") && leftargs >= 1) {
            storekey = c->argv[++j];
        } else if (argIs(arg, "by") && leftargs >= 1) {
            sortby = c->argv[++j];
            /* Without '*' every element maps to the same key: nothing to sort by. */
            if (!sdsEncodedObject(sortby) || strchr(objectGetVal(sortby), '*') == NULL) dontsort = 1;
        } else if (argIs(arg, "get") && leftargs >= 1) {
            gets[getcount++] = c->argv[++j];
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            zfree(gets);
            return;
        }
    }

    robj *sortval = lookupKeyRead(c->db, c->argv[1]);
    if (sortval && sortval->type != OBJ_SET && sortval->type != OBJ_LIST && sortval->type != OBJ_ZSET) {
        addReplyErrorObject(c, shared.wrongtypeerr);
        zfree(gets);
        return;
    }
    /* Held until the end: STORE may replace the key being sorted. */
    if (sortval) incrRefCount(sortval);

    /* Stored or scripted results must not depend on a set's internal order. */
    if (dontsort && sortval && sortval->type == OBJ_SET && (storekey || (c->flags & CLIENT_SCRIPT))) {
        dontsort = 0;
        opt.alpha = 1;
        sortby = NULL;
    }
    /* As in Valkey, SORT leaves a sorted set in the skiplist encoding. */
    if (sortval && sortval->type == OBJ_ZSET && sortval->encoding == OBJ_ENCODING_LISTPACK) {
        objectNotifyChange(sortval); /* changed in place by a read */
        zsetConvert(sortval, OBJ_ENCODING_SKIPLIST);
    }

    long vectorlen = 0;
    if (sortval) {
        if (sortval->type == OBJ_SET) vectorlen = (long)setTypeSize(sortval);
        else if (sortval->type == OBJ_ZSET) vectorlen = (long)zsetLength(sortval);
        else vectorlen = (long)sortListLength(sortval);
    }

    /* Clamp LIMIT to the number of elements. */
    long start = limit_start < 0 ? 0 : (limit_start > vectorlen ? vectorlen : limit_start);
    if (limit_count < -1) limit_count = -1;
    if (limit_count > vectorlen) limit_count = vectorlen;
    long end = limit_count < 0 ? vectorlen - 1 : start + limit_count - 1;
    if (start >= vectorlen) {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if (end >= vectorlen) end = vectorlen - 1;

    /* Ordered types with nothing to sort load only the requested range. */
    int ranged = sortval && sortval->type != OBJ_SET && dontsort;
    long loadlen = vectorlen;
    if (ranged) loadlen = end >= start ? end - start + 1 : 0;

    sortObject *vector = zcalloc(sizeof(sortObject) * (size_t)(loadlen ? loadlen : 1));
    long loaded = 0;
    if (sortval && sortval->type == OBJ_SET) {
        loaded = loadSet(sortval, vector);
    } else if (sortval && sortval->type == OBJ_ZSET) {
        loaded = ranged ? loadZset(sortval, vector, start, loadlen, opt.desc) : loadZset(sortval, vector, 0, loadlen, 0);
    } else if (sortval && sortval->type == OBJ_LIST) {
        loaded = ranged ? loadList(sortval, vector, start, loadlen, opt.desc) : loadList(sortval, vector, 0, loadlen, 0);
    }
    serverAssert(loaded == loadlen);
    if (ranged && loadlen) {
        end -= start;
        start = 0;
    }

    int numbers_ok = 1;
    if (!dontsort) {
        opt.bypattern = sortby != NULL;
        opt.store = storekey != NULL;
        numbers_ok = loadWeights(c, vector, loadlen, sortby, opt.alpha);
        qsort_r(vector, (size_t)loadlen, sizeof(sortObject), sortCompare, &opt);
    }

    long outputlen = getcount ? getcount * (end - start + 1) : end - start + 1;
    if (!numbers_ok) {
        addReplyError(c, "One or more scores can't be converted into double");
    } else if (storekey && !sortListCreate) {
        addReplyError(c, "SORT STORE needs the list type, which this build lacks");
    } else if (!storekey) {
        replySorted(c, vector, start, end, gets, getcount, outputlen);
    } else {
        storeSorted(c, storekey, vector, start, end, gets, getcount, outputlen);
    }

    for (long j = 0; j < loadlen; j++) {
        decrRefCount(vector[j].obj);
        if (opt.alpha && opt.bypattern && vector[j].u.cmpobj) decrRefCount(vector[j].u.cmpobj);
    }
    zfree(vector);
    zfree(gets);
    if (sortval) decrRefCount(sortval);
}

void sortCommand(client *c) {
    sortGenericCommand(c, 0);
}

void sortRoCommand(client *c) {
    sortGenericCommand(c, 1);
}
