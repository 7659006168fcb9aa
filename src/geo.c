/* geo.c -- the GEO commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH,
 * GEOSEARCHSTORE and the legacy GEORADIUS[_RO] / GEORADIUSBYMEMBER[_RO].
 *
 * A geo set is a plain sorted set whose scores are 52-bit interleaved geohashes
 * (geohash.h), so every sorted-set command works on it too. GEOADD turns each
 * longitude/latitude pair into its score and runs ZADD. A search covers the shape with
 * the geohash box of a suitable size around its centre plus the 8 neighbouring boxes;
 * each box is one contiguous score range of the sorted set, and the members found there
 * are kept when their decoded position lies inside the circle or rectangle.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server.h" /* first: networking.h uses its mstime_t */
#include "db.h"
#include "geohash.h"
#include "networking.h"
#include "notify.h"
#include "object.h"
#include "sds.h"
#include "t_zset.h"
#include "util.h"
#include "zmalloc.h"

void zaddCommand(client *c); /* t_zset.c */

/* georadiusGeneric() flags. */
#define RADIUS_COORDS (1 << 0)  /* around a longitude/latitude (GEORADIUS) */
#define RADIUS_MEMBER (1 << 1)  /* around a member (GEORADIUSBYMEMBER) */
#define RADIUS_NOSTORE (1 << 2) /* the _RO variants: no STORE / STOREDIST */
#define GEOSEARCH (1 << 3)      /* GEOSEARCH syntax */
#define GEOSEARCHSTORE (1 << 4) /* GEOSEARCHSTORE: destination first, STOREDIST flag */

#define SORT_NONE 0
#define SORT_ASC 1
#define SORT_DESC 2

/* Distances are replied with this many decimals. */
#define GEO_DISTANCE_DECIMALS 4
#define GEO_DISTANCE_SCALE 10000ULL /* 10^GEO_DISTANCE_DECIMALS */
/* Standard geohash strings: 11 base-32 characters, over latitude [-90, 90]. */
#define GEOHASH_STRING_LEN 11
static const char geoalphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";

/* ------------------------------------------------------------------------- */
/* Result points                                                               */
/* ------------------------------------------------------------------------- */

typedef struct {
    double longitude, latitude;
    double dist;  /* meters until the reply converts it */
    double score; /* the geohash */
    sds member;   /* owned */
} geoPoint;

typedef struct {
    geoPoint *array;
    size_t used, cap;
} geoArray;

static geoPoint *geoArrayAppend(geoArray *ga) {
    if (ga->used == ga->cap) {
        ga->cap = ga->cap ? ga->cap * 2 : 8;
        ga->array = zrealloc(ga->array, sizeof(geoPoint) * ga->cap);
    }
    return &ga->array[ga->used++];
}

static void geoArrayFree(geoArray *ga) {
    for (size_t i = 0; i < ga->used; i++) sdsfree(ga->array[i].member);
    zfree(ga->array);
}

/* ------------------------------------------------------------------------- */
/* Argument helpers                                                            */
/* ------------------------------------------------------------------------- */

static inline sds argSds(client *c, int i) {
    return objectGetVal(c->argv[i]);
}

/* A sorted-set score to longitude/latitude. Scores outside 0..2^64 (not geo data) are
 * converted the way an x86-64 build of Valkey converts them. */
static int decodeGeohash(double bits, double *xy) {
    uint64_t raw;
    if (bits >= 0 && bits < 18446744073709551616.0)
        raw = (uint64_t)bits;
    else if (bits < 0 && bits >= -9223372036854775808.0)
        raw = (uint64_t)(int64_t)bits;
    else
        raw = 0x8000000000000000ULL;
    GeoHashBits hash = {.bits = raw, .step = GEO_STEP_MAX};
    return geohashDecodeToLongLatWGS84(hash, xy);
}

/* Reads "longitude latitude" at argv[0..1]; replies and returns C_ERR when invalid. */
static int extractLongLatOrReply(client *c, robj **argv, double *xy) {
    for (int i = 0; i < 2; i++)
        if (getDoubleFromObjectOrReply(c, argv[i], xy + i, NULL) != C_OK) return C_ERR;
    if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN || xy[1] > GEO_LAT_MAX) {
        addReplyErrorFormat(c, "-ERR invalid longitude,latitude pair %f,%f", xy[0], xy[1]);
        return C_ERR;
    }
    return C_OK;
}

static int longLatFromMember(robj *zobj, sds member, double *xy) {
    double score;
    if (!zsetScore(zobj, member, &score)) return C_ERR;
    return decodeGeohash(score, xy) ? C_OK : C_ERR;
}

/* Meters per unit, or -1 (replied) for an unknown unit. */
static double extractUnitOrReply(client *c, robj *unit) {
    const char *u = objectGetVal(unit);
    if (!strcasecmp(u, "m")) return 1;
    if (!strcasecmp(u, "km")) return 1000;
    if (!strcasecmp(u, "ft")) return 0.3048;
    if (!strcasecmp(u, "mi")) return 1609.34;
    addReplyError(c, "unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

/* "radius unit" at argv[0..1]. */
static int extractDistanceOrReply(client *c, robj **argv, double *conversion, double *radius) {
    double distance;
    if (getDoubleFromObjectOrReply(c, argv[0], &distance, "need numeric radius") != C_OK) return C_ERR;
    if (distance < 0) {
        addReplyError(c, "radius cannot be negative");
        return C_ERR;
    }
    *radius = distance;
    double to_meters = extractUnitOrReply(c, argv[1]);
    if (to_meters < 0) return C_ERR;
    *conversion = to_meters;
    return C_OK;
}

/* "width height unit" at argv[0..2]. */
static int extractBoxOrReply(client *c, robj **argv, double *conversion, double *width, double *height) {
    double w, h;
    if (getDoubleFromObjectOrReply(c, argv[0], &w, "need numeric width") != C_OK ||
        getDoubleFromObjectOrReply(c, argv[1], &h, "need numeric height") != C_OK)
        return C_ERR;
    if (h < 0 || w < 0) {
        addReplyError(c, "height or width cannot be negative");
        return C_ERR;
    }
    *width = w;
    *height = h;
    double to_meters = extractUnitOrReply(c, argv[2]);
    if (to_meters < 0) return C_ERR;
    *conversion = to_meters;
    return C_OK;
}

/* Distances with 4 decimals, always as a bulk string (RESP3 too), rounded as Valkey
 * does: the value times 10^4 to the nearest integer (ties to even). */
static void addReplyDoubleDistance(client *c, double d) {
    char buf[LONG_STR_SIZE + 2];
    long long scaled = d == 0 ? 0 : llrint(d * GEO_DISTANCE_SCALE);
    unsigned long long mag = scaled < 0 ? 0ULL - (unsigned long long)scaled : (unsigned long long)scaled;
    int len = 0;
    if (scaled < 0) buf[len++] = '-';
    len += ull2string(buf + len, sizeof(buf) - (size_t)len, mag / GEO_DISTANCE_SCALE);
    buf[len++] = '.';
    unsigned long long frac = mag % GEO_DISTANCE_SCALE;
    for (int i = GEO_DISTANCE_DECIMALS - 1; i >= 0; i--) {
        buf[len + i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    len += GEO_DISTANCE_DECIMALS;
    addReplyBulkCBuffer(c, buf, (size_t)len);
}

/* ------------------------------------------------------------------------- */
/* Searching                                                                   */
/* ------------------------------------------------------------------------- */

/* Keeps the member when its position is inside the shape; takes member either way. */
static void geoAppendIfWithinShape(geoArray *ga, const GeoShape *shape, double score, sds member) {
    double distance = 0, xy[2];
    int inside = decodeGeohash(score, xy);
    if (inside && shape->type == GEO_SHAPE_CIRCLE)
        inside = geohashGetDistanceIfInRadiusWGS84(shape->xy[0], shape->xy[1], xy[0], xy[1],
                                                   shape->radius * shape->conversion, &distance);
    else if (inside)
        inside = geohashGetDistanceIfInRectangle(shape->width * shape->conversion, shape->height * shape->conversion,
                                                 shape->xy[0], shape->xy[1], xy[0], xy[1], &distance);
    if (!inside) {
        sdsfree(member);
        return;
    }
    geoPoint *gp = geoArrayAppend(ga);
    gp->longitude = xy[0];
    gp->latitude = xy[1];
    gp->dist = distance;
    gp->member = member;
    gp->score = score;
}

/* Members with min <= score < max; stops once ga holds limit points (0: no limit). */
static void geoGetPointsInRange(robj *zobj, double min, double max, const GeoShape *shape, geoArray *ga,
                                unsigned long limit) {
    zrangespec range = {.min = min, .max = max, .minex = 0, .maxex = 1};
    zsetIterator it;
    if (!zsetIteratorInitAtScore(&it, zobj, &range)) return;
    const unsigned char *str;
    size_t len;
    long long ll;
    double score;
    while (zsetIteratorNext(&it, &str, &len, &ll, &score)) {
        if (!zslValueLteMax(score, &range)) break;
        geoAppendIfWithinShape(ga, shape, score, str ? sdsnewlen(str, len) : sdsfromlonglong(ll));
        if (ga->used && limit && ga->used >= limit) break;
    }
}

/* The centre box first, then N, S, E, W, NE, NW, SE, SW, skipping zeroed boxes and a
 * box equal to the previous one (huge radii make neighbours coincide). */
static void membersOfAllNeighbors(robj *zobj, const GeoHashRadius *n, const GeoShape *shape, geoArray *ga,
                                  unsigned long limit) {
    GeoHashBits boxes[9] = {n->hash,
                            n->neighbors.north,
                            n->neighbors.south,
                            n->neighbors.east,
                            n->neighbors.west,
                            n->neighbors.north_east,
                            n->neighbors.north_west,
                            n->neighbors.south_east,
                            n->neighbors.south_west};
    unsigned int last = 0;
    for (unsigned int i = 0; i < 9; i++) {
        if (GEOHASH_IS_ZERO(boxes[i])) continue;
        if (last && boxes[i].bits == boxes[last].bits && boxes[i].step == boxes[last].step) continue;
        if (ga->used && limit && ga->used >= limit) break;
        GeoHashBits next = boxes[i];
        next.bits++;
        geoGetPointsInRange(zobj, (double)geohashAlign52Bits(boxes[i]), (double)geohashAlign52Bits(next), shape, ga,
                            limit);
        last = i;
    }
}

static int sortByDistAsc(const void *a, const void *b) {
    double da = ((const geoPoint *)a)->dist, db = ((const geoPoint *)b)->dist;
    return (da > db) - (da < db);
}

static int sortByDistDesc(const void *a, const void *b) {
    return sortByDistAsc(b, a);
}

/* ------------------------------------------------------------------------- */
/* GEOADD                                                                      */
/* ------------------------------------------------------------------------- */

/* GEOADD key [NX|XX] [CH] longitude latitude member [...]: rewritten into ZADD. */
void geoaddCommand(client *c) {
    int xx = 0, nx = 0, longidx = 2;
    while (longidx < c->argc) {
        const char *opt = argSds(c, longidx);
        if (!strcasecmp(opt, "nx"))
            nx = 1;
        else if (!strcasecmp(opt, "xx"))
            xx = 1;
        else if (strcasecmp(opt, "ch"))
            break; /* CH is passed on to ZADD */
        longidx++;
    }
    if ((c->argc - longidx) % 3 || (xx && nx)) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }

    int elements = (c->argc - longidx) / 3;
    int argc = longidx + elements * 2; /* ZADD key [options] score member ... */
    robj **argv = zcalloc(sizeof(robj *) * (size_t)argc);
    argv[0] = createRawStringObject("zadd", 4);
    for (int i = 1; i < longidx; i++) {
        argv[i] = c->argv[i];
        incrRefCount(argv[i]);
    }
    for (int i = 0; i < elements; i++) {
        double xy[2];
        if (extractLongLatOrReply(c, c->argv + longidx + i * 3, xy) == C_ERR) {
            for (int j = 0; j < argc; j++)
                if (argv[j]) decrRefCount(argv[j]);
            zfree(argv);
            return;
        }
        GeoHashBits hash;
        geohashEncodeWGS84(xy[0], xy[1], GEO_STEP_MAX, &hash);
        char buf[LONG_STR_SIZE];
        int len = ll2string(buf, sizeof(buf), (long long)geohashAlign52Bits(hash));
        argv[longidx + i * 2] = createRawStringObject(buf, (size_t)len);
        argv[longidx + 1 + i * 2] = c->argv[longidx + i * 3 + 2];
        incrRefCount(argv[longidx + 1 + i * 2]);
    }
    /* The client now runs (and propagates) the equivalent ZADD. */
    replaceClientCommandVector(c, argc, argv);
    zaddCommand(c);
}

/* ------------------------------------------------------------------------- */
/* GEORADIUS, GEORADIUSBYMEMBER, GEOSEARCH, GEOSEARCHSTORE                     */
/* ------------------------------------------------------------------------- */

/* Replies (or stores) the first `returned` points, with distances in the shape's unit. */
static void georadiusReply(client *c, geoArray *ga, long returned, const GeoShape *shape, int withdist,
                           int withhash, int withcoords) {
    int option_length = withdist + withhash + withcoords;
    addReplyArrayLen(c, returned);
    for (long i = 0; i < returned; i++) {
        geoPoint *gp = ga->array + i;
        gp->dist /= shape->conversion;
        if (option_length) addReplyArrayLen(c, option_length + 1);
        addReplyBulkCBuffer(c, gp->member, sdslen(gp->member));
        if (withdist) addReplyDoubleDistance(c, gp->dist);
        if (withhash) addReplyLongLong(c, (long long)gp->score);
        if (withcoords) {
            addReplyArrayLen(c, 2);
            addReplyHumanLongDouble(c, gp->longitude);
            addReplyHumanLongDouble(c, gp->latitude);
        }
    }
}

static void georadiusStore(client *c, robj *storekey, geoArray *ga, long returned, const GeoShape *shape,
                           int storedist, int flags) {
    if (returned) {
        robj *zobj = createZsetObject();
        size_t maxelelen = 0, totelelen = 0;
        for (long i = 0; i < returned; i++) {
            geoPoint *gp = ga->array + i;
            gp->dist /= shape->conversion;
            size_t len = sdslen(gp->member);
            if (len > maxelelen) maxelelen = len;
            totelelen += len;
            int out;
            zsetAdd(zobj, storedist ? gp->dist : gp->score, gp->member, ZADD_IN_NONE, &out, NULL);
        }
        zsetConvertToListpackIfNeeded(zobj, maxelelen, totelelen);
        setKey(c, c->db, storekey, &zobj, 0);
        notifyKeyspaceEvent(NOTIFY_ZSET, (flags & GEOSEARCH) ? "geosearchstore" : "georadiusstore", storekey,
                            c->db->id);
        server.dirty += returned;
    } else if (dbDelete(c->db, storekey)) {
        signalModifiedKey(c, c->db, storekey);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", storekey, c->db->id);
        server.dirty++;
    }
    addReplyLongLong(c, returned);
}

static void georadiusGeneric(client *c, int srcKeyIndex, int flags) {
    robj *storekey = NULL;
    int storedist = 0;
    robj *zobj = lookupKeyRead(c->db, c->argv[srcKeyIndex]);
    if (checkType(c, zobj, OBJ_ZSET)) return;

    int base_args;
    GeoShape shape = {0};
    if (flags & RADIUS_COORDS) {
        base_args = 6;
        shape.type = GEO_SHAPE_CIRCLE;
        if (extractLongLatOrReply(c, c->argv + 2, shape.xy) == C_ERR) return;
        if (extractDistanceOrReply(c, c->argv + base_args - 2, &shape.conversion, &shape.radius) != C_OK) return;
    } else if (flags & RADIUS_MEMBER) {
        base_args = 5;
        /* Without the source key the arguments are still parsed, for the right reply. */
        if (zobj) {
            shape.type = GEO_SHAPE_CIRCLE;
            if (longLatFromMember(zobj, argSds(c, 2), shape.xy) == C_ERR) {
                addReplyError(c, "could not decode requested zset member");
                return;
            }
            if (extractDistanceOrReply(c, c->argv + base_args - 2, &shape.conversion, &shape.radius) != C_OK)
                return;
        }
    } else {
        base_args = 2;
        if (flags & GEOSEARCHSTORE) {
            base_args = 3;
            storekey = c->argv[1];
        }
    }

    int withdist = 0, withhash = 0, withcoords = 0;
    int frommember = 0, fromloc = 0, byradius = 0, bybox = 0;
    int sort = SORT_NONE, any = 0;
    long long count = 0;
    int remaining = c->argc - base_args;
    for (int i = 0; i < remaining; i++) {
        int at = base_args + i;
        const char *arg = argSds(c, at);
        if (!strcasecmp(arg, "withdist")) {
            withdist = 1;
        } else if (!strcasecmp(arg, "withhash")) {
            withhash = 1;
        } else if (!strcasecmp(arg, "withcoord")) {
            withcoords = 1;
        } else if (!strcasecmp(arg, "any")) {
            any = 1;
        } else if (!strcasecmp(arg, "asc")) {
            sort = SORT_ASC;
        } else if (!strcasecmp(arg, "desc")) {
            sort = SORT_DESC;
        } else if (!strcasecmp(arg, "count") && i + 1 < remaining) {
            if (getLongLongFromObjectOrReply(c, c->argv[at + 1], &count, NULL) != C_OK) return;
            if (count <= 0) {
                addReplyError(c, "COUNT must be > 0");
                return;
            }
            i++;
        } else if (!strcasecmp(arg, "store") && i + 1 < remaining && !(flags & RADIUS_NOSTORE) &&
                   !(flags & GEOSEARCH)) {
            storekey = c->argv[at + 1];
            storedist = 0;
            i++;
        } else if (!strcasecmp(arg, "storedist") && i + 1 < remaining && !(flags & RADIUS_NOSTORE) &&
                   !(flags & GEOSEARCH)) {
            storekey = c->argv[at + 1];
            storedist = 1;
            i++;
        } else if (!strcasecmp(arg, "storedist") && (flags & GEOSEARCH) && (flags & GEOSEARCHSTORE)) {
            storedist = 1;
        } else if (!strcasecmp(arg, "frommember") && i + 1 < remaining && (flags & GEOSEARCH) && !fromloc) {
            if (zobj && longLatFromMember(zobj, argSds(c, at + 1), shape.xy) == C_ERR) {
                addReplyError(c, "could not decode requested zset member");
                return;
            }
            frommember = 1;
            i++;
        } else if (!strcasecmp(arg, "fromlonlat") && i + 2 < remaining && (flags & GEOSEARCH) && !frommember) {
            if (extractLongLatOrReply(c, c->argv + at + 1, shape.xy) == C_ERR) return;
            fromloc = 1;
            i += 2;
        } else if (!strcasecmp(arg, "byradius") && i + 2 < remaining && (flags & GEOSEARCH) && !bybox) {
            if (extractDistanceOrReply(c, c->argv + at + 1, &shape.conversion, &shape.radius) != C_OK) return;
            shape.type = GEO_SHAPE_CIRCLE;
            byradius = 1;
            i += 2;
        } else if (!strcasecmp(arg, "bybox") && i + 3 < remaining && (flags & GEOSEARCH) && !byradius) {
            if (extractBoxOrReply(c, c->argv + at + 1, &shape.conversion, &shape.width, &shape.height) != C_OK)
                return;
            shape.type = GEO_SHAPE_BOX;
            bybox = 1;
            i += 3;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }

    if (storekey && (withdist || withhash || withcoords)) {
        addReplyErrorFormat(c, "%s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                            (flags & GEOSEARCHSTORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return;
    }
    if ((flags & GEOSEARCH) && !(frommember || fromloc)) {
        addReplyErrorFormat(c, "exactly one of FROMMEMBER or FROMLONLAT can be specified for %s", argSds(c, 0));
        return;
    }
    if ((flags & GEOSEARCH) && !(byradius || bybox)) {
        addReplyErrorFormat(c, "exactly one of BYRADIUS and BYBOX can be specified for %s", argSds(c, 0));
        return;
    }
    if (any && !count) {
        addReplyError(c, "the ANY argument requires COUNT argument");
        return;
    }

    if (zobj == NULL) {
        if (storekey) {
            if (dbDelete(c->db, storekey)) {
                signalModifiedKey(c, c->db, storekey);
                notifyKeyspaceEvent(NOTIFY_GENERIC, "del", storekey, c->db->id);
                server.dirty++;
            }
            addReply(c, shared.czero);
        } else {
            addReply(c, shared.emptyarray);
        }
        return;
    }

    /* The N closest need sorting; ANY takes the first N found. */
    if (count != 0 && sort == SORT_NONE && !any) sort = SORT_ASC;

    GeoHashRadius area = geohashCalculateAreasByShapeWGS84(&shape);
    geoArray ga = {0};
    membersOfAllNeighbors(zobj, &area, &shape, &ga, any ? (unsigned long)count : 0);

    if (ga.used == 0 && storekey == NULL) {
        addReply(c, shared.emptyarray);
        geoArrayFree(&ga);
        return;
    }
    long result_length = (long)ga.used;
    long returned = (count == 0 || result_length < count) ? result_length : (long)count;
    if (sort != SORT_NONE && ga.used > 1) /* (an empty array may be NULL: not for qsort) */
        qsort(ga.array, ga.used, sizeof(geoPoint), sort == SORT_ASC ? sortByDistAsc : sortByDistDesc);

    if (storekey == NULL)
        georadiusReply(c, &ga, returned, &shape, withdist, withhash, withcoords);
    else
        georadiusStore(c, storekey, &ga, returned, &shape, storedist, flags);
    geoArrayFree(&ga);
}

void georadiusCommand(client *c) {
    georadiusGeneric(c, 1, RADIUS_COORDS);
}

void georadiusbymemberCommand(client *c) {
    georadiusGeneric(c, 1, RADIUS_MEMBER);
}

void georadiusRoCommand(client *c) {
    georadiusGeneric(c, 1, RADIUS_COORDS | RADIUS_NOSTORE);
}

void georadiusbymemberRoCommand(client *c) {
    georadiusGeneric(c, 1, RADIUS_MEMBER | RADIUS_NOSTORE);
}

void geosearchCommand(client *c) {
    georadiusGeneric(c, 1, GEOSEARCH);
}

void geosearchstoreCommand(client *c) {
    georadiusGeneric(c, 2, GEOSEARCH | GEOSEARCHSTORE);
}

/* ------------------------------------------------------------------------- */
/* GEOHASH, GEOPOS, GEODIST                                                    */
/* ------------------------------------------------------------------------- */

void geohashCommand(client *c) {
    robj *zobj = lookupKeyRead(c->db, c->argv[1]);
    if (checkType(c, zobj, OBJ_ZSET)) return;
    addReplyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double score, xy[2];
        if (!zobj || !zsetScore(zobj, argSds(c, j), &score) || !decodeGeohash(score, xy)) {
            addReplyNull(c);
            continue;
        }
        /* Our boxes span latitudes +-85.05; standard geohashes span +-90: re-encode. */
        GeoHashRange r[2] = {{.min = -180, .max = 180}, {.min = -90, .max = 90}};
        GeoHashBits hash;
        geohashEncode(&r[0], &r[1], xy[0], xy[1], GEO_STEP_MAX, &hash);
        char buf[GEOHASH_STRING_LEN + 1];
        for (int i = 0; i < GEOHASH_STRING_LEN; i++) {
            /* 52 bits give 10 characters and 2 bits; the 11th is zero-padded. */
            int idx = i == GEOHASH_STRING_LEN - 1 ? 0 : (int)((hash.bits >> (52 - ((i + 1) * 5))) & 0x1f);
            buf[i] = geoalphabet[idx];
        }
        buf[GEOHASH_STRING_LEN] = '\0';
        addReplyBulkCBuffer(c, buf, GEOHASH_STRING_LEN);
    }
}

void geoposCommand(client *c) {
    robj *zobj = lookupKeyRead(c->db, c->argv[1]);
    if (checkType(c, zobj, OBJ_ZSET)) return;
    addReplyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double score, xy[2];
        if (!zobj || !zsetScore(zobj, argSds(c, j), &score) || !decodeGeohash(score, xy)) {
            addReplyNullArray(c);
            continue;
        }
        addReplyArrayLen(c, 2);
        addReplyHumanLongDouble(c, xy[0]);
        addReplyHumanLongDouble(c, xy[1]);
    }
}

void geodistCommand(client *c) {
    double to_meter = 1;
    if (c->argc == 5) {
        to_meter = extractUnitOrReply(c, c->argv[4]);
        if (to_meter < 0) return;
    } else if (c->argc > 5) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    robj *zobj = lookupKeyReadOrReply(c, c->argv[1], shared.null[c->resp]);
    if (zobj == NULL || checkType(c, zobj, OBJ_ZSET)) return;
    double score1, score2, xyxy[4];
    if (!zsetScore(zobj, argSds(c, 2), &score1) || !zsetScore(zobj, argSds(c, 3), &score2) ||
        !decodeGeohash(score1, xyxy) || !decodeGeohash(score2, xyxy + 2)) {
        addReplyNull(c);
        return;
    }
    addReplyDoubleDistance(c, geohashGetDistance(xyxy[0], xyxy[1], xyxy[2], xyxy[3]) / to_meter);
}
