/* geohash.c -- interleaved geohash encoding, neighbours, search areas and distances
 * (see geohash.h). Every formula mirrors Valkey's so the stored scores, the boxes a
 * search visits and the distances it reports are the same to the last bit.
 */
#include "geohash.h"

#include <math.h>
#include <stddef.h>

#define EARTH_RADIUS_IN_METERS 6372797.560856
#define MERCATOR_MAX 20037726.37
#define D_R (M_PI / 180.0)

static inline double degRad(double ang) {
    return ang * D_R;
}

static inline double radDeg(double ang) {
    return ang / D_R;
}

/* ------------------------------------------------------------------------- */
/* Bit interleaving                                                            */
/* ------------------------------------------------------------------------- */

/* Spreading masks: each round doubles the gap between bit groups. */
static const uint64_t SPREAD_MASK[] = {0x5555555555555555ULL, 0x3333333333333333ULL, 0x0F0F0F0F0F0F0F0FULL,
                                       0x00FF00FF00FF00FFULL, 0x0000FFFF0000FFFFULL, 0x00000000FFFFFFFFULL};

/* Bit i of v goes to bit 2i. */
static inline uint64_t spreadBits(uint32_t v) {
    uint64_t x = v;
    for (int round = 4; round >= 0; round--) x = (x | (x << (1u << round))) & SPREAD_MASK[round];
    return x;
}

/* The inverse: the even bits of x, packed into the low 32 bits. */
static inline uint64_t packEvenBits(uint64_t x) {
    x &= SPREAD_MASK[0];
    for (int round = 0; round < 5; round++) x = (x | (x >> (1u << round))) & SPREAD_MASK[round + 1];
    return x;
}

/* Latitude bits at even positions, longitude at odd ones. */
static inline uint64_t interleave64(uint32_t lat, uint32_t lon) {
    return spreadBits(lat) | (spreadBits(lon) << 1);
}

/* Returns latitude in the low 32 bits, longitude in the high 32 bits. */
static inline uint64_t deinterleave64(uint64_t bits) {
    return packEvenBits(bits) | (packEvenBits(bits >> 1) << 32);
}

/* ------------------------------------------------------------------------- */
/* Encoding and decoding                                                       */
/* ------------------------------------------------------------------------- */

void geohashGetCoordRange(GeoHashRange *long_range, GeoHashRange *lat_range) {
    long_range->max = GEO_LONG_MAX;
    long_range->min = GEO_LONG_MIN;
    lat_range->max = GEO_LAT_MAX;
    lat_range->min = GEO_LAT_MIN;
}

static inline int rangeIsZero(const GeoHashRange *r) {
    return r->max == 0 && r->min == 0;
}

int geohashEncode(const GeoHashRange *long_range, const GeoHashRange *lat_range, double longitude,
                  double latitude, uint8_t step, GeoHashBits *hash) {
    if (hash == NULL || step > 32 || step == 0 || rangeIsZero(lat_range) || rangeIsZero(long_range)) return 0;
    if (longitude > GEO_LONG_MAX || longitude < GEO_LONG_MIN || latitude > GEO_LAT_MAX || latitude < GEO_LAT_MIN)
        return 0;
    hash->bits = 0;
    hash->step = step;
    if (latitude < lat_range->min || latitude > lat_range->max || longitude < long_range->min ||
        longitude > long_range->max)
        return 0;

    double lat_offset = (latitude - lat_range->min) / (lat_range->max - lat_range->min);
    double long_offset = (longitude - long_range->min) / (long_range->max - long_range->min);
    lat_offset *= (double)(1ULL << step);
    long_offset *= (double)(1ULL << step);
    hash->bits = interleave64((uint32_t)lat_offset, (uint32_t)long_offset);
    return 1;
}

int geohashEncodeWGS84(double longitude, double latitude, uint8_t step, GeoHashBits *hash) {
    GeoHashRange r[2];
    geohashGetCoordRange(&r[0], &r[1]);
    return geohashEncode(&r[0], &r[1], longitude, latitude, step, hash);
}

int geohashDecode(GeoHashRange long_range, GeoHashRange lat_range, GeoHashBits hash, GeoHashArea *area) {
    if (GEOHASH_IS_ZERO(hash) || area == NULL || rangeIsZero(&lat_range) || rangeIsZero(&long_range)) return 0;
    area->hash = hash;
    uint64_t sep = deinterleave64(hash.bits);
    double lat_scale = lat_range.max - lat_range.min;
    double long_scale = long_range.max - long_range.min;
    uint32_t ilat = (uint32_t)sep;
    uint32_t ilon = (uint32_t)(sep >> 32);
    double cells = (double)(1ULL << hash.step);
    area->latitude.min = lat_range.min + (ilat * 1.0 / cells) * lat_scale;
    area->latitude.max = lat_range.min + ((ilat + 1) * 1.0 / cells) * lat_scale;
    area->longitude.min = long_range.min + (ilon * 1.0 / cells) * long_scale;
    area->longitude.max = long_range.min + ((ilon + 1) * 1.0 / cells) * long_scale;
    return 1;
}

int geohashDecodeToLongLatWGS84(GeoHashBits hash, double *xy) {
    GeoHashRange r[2];
    GeoHashArea area = {{0}};
    geohashGetCoordRange(&r[0], &r[1]);
    if (xy == NULL || !geohashDecode(r[0], r[1], hash, &area)) return 0;
    xy[0] = (area.longitude.min + area.longitude.max) / 2;
    if (xy[0] > GEO_LONG_MAX) xy[0] = GEO_LONG_MAX;
    if (xy[0] < GEO_LONG_MIN) xy[0] = GEO_LONG_MIN;
    xy[1] = (area.latitude.min + area.latitude.max) / 2;
    if (xy[1] > GEO_LAT_MAX) xy[1] = GEO_LAT_MAX;
    if (xy[1] < GEO_LAT_MIN) xy[1] = GEO_LAT_MIN;
    return 1;
}

GeoHashFix52Bits geohashAlign52Bits(GeoHashBits hash) {
    return hash.bits << (52 - hash.step * 2);
}

/* ------------------------------------------------------------------------- */
/* Neighbours                                                                  */
/* ------------------------------------------------------------------------- */

#define LON_BITS 0xaaaaaaaaaaaaaaaaULL
#define LAT_BITS 0x5555555555555555ULL

/* Moves one box east (d > 0) or west (d < 0), wrapping around. */
static void moveX(GeoHashBits *hash, int d) {
    if (d == 0) return;
    uint64_t x = hash->bits & LON_BITS;
    uint64_t y = hash->bits & LAT_BITS;
    uint64_t zz = LAT_BITS >> (64 - hash->step * 2);
    if (d > 0) {
        x = x + (zz + 1);
    } else {
        x = x | zz;
        x = x - (zz + 1);
    }
    x &= (LON_BITS >> (64 - hash->step * 2));
    hash->bits = x | y;
}

/* Moves one box north (d > 0) or south (d < 0). */
static void moveY(GeoHashBits *hash, int d) {
    if (d == 0) return;
    uint64_t x = hash->bits & LON_BITS;
    uint64_t y = hash->bits & LAT_BITS;
    uint64_t zz = LON_BITS >> (64 - hash->step * 2);
    if (d > 0) {
        y = y + (zz + 1);
    } else {
        y = y | zz;
        y = y - (zz + 1);
    }
    y &= (LAT_BITS >> (64 - hash->step * 2));
    hash->bits = x | y;
}

static GeoHashBits moved(const GeoHashBits *hash, int dx, int dy) {
    GeoHashBits h = *hash;
    moveX(&h, dx);
    moveY(&h, dy);
    return h;
}

void geohashNeighbors(const GeoHashBits *hash, GeoHashNeighbors *n) {
    n->east = moved(hash, 1, 0);
    n->west = moved(hash, -1, 0);
    n->south = moved(hash, 0, -1);
    n->north = moved(hash, 0, 1);
    n->north_west = moved(hash, -1, 1);
    n->south_west = moved(hash, -1, -1);
    n->north_east = moved(hash, 1, 1);
    n->south_east = moved(hash, 1, -1);
}

/* ------------------------------------------------------------------------- */
/* Search areas                                                                */
/* ------------------------------------------------------------------------- */

uint8_t geohashEstimateStepsByRadius(double range_meters, double lat) {
    if (range_meters == 0) return 26;
    int step = 1;
    while (range_meters < MERCATOR_MAX) {
        range_meters *= 2;
        step++;
    }
    step -= 2; /* so that the range fits in most cases */
    /* Boxes get narrower towards the poles. */
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) step--;
    }
    if (step < 1) step = 1;
    if (step > 26) step = 26;
    return (uint8_t)step;
}

/* bounds: min longitude, min latitude, max longitude, max latitude of the shape. */
static void boundingBox(const GeoShape *shape, double *bounds) {
    double longitude = shape->xy[0];
    double latitude = shape->xy[1];
    int circle = shape->type == GEO_SHAPE_CIRCLE;
    double height = shape->conversion * (circle ? shape->radius : shape->height / 2);
    double width = shape->conversion * (circle ? shape->radius : shape->width / 2);

    const double lat_delta = radDeg(height / EARTH_RADIUS_IN_METERS);
    const double long_delta_top = radDeg(width / EARTH_RADIUS_IN_METERS / cos(degRad(latitude + lat_delta)));
    const double long_delta_bottom = radDeg(width / EARTH_RADIUS_IN_METERS / cos(degRad(latitude - lat_delta)));
    /* The wider edge is the one nearer the equator. */
    int southern = latitude < 0;
    bounds[0] = southern ? longitude - long_delta_bottom : longitude - long_delta_top;
    bounds[2] = southern ? longitude + long_delta_bottom : longitude + long_delta_top;
    bounds[1] = latitude - lat_delta;
    bounds[3] = latitude + lat_delta;
}

static const GeoHashBits GEOHASH_ZERO = {0, 0};

GeoHashRadius geohashCalculateAreasByShapeWGS84(const GeoShape *shape) {
    GeoHashRange long_range, lat_range;
    GeoHashRadius result;
    GeoHashBits hash;
    GeoHashNeighbors neighbors;
    GeoHashArea area;
    double bounds[4];

    boundingBox(shape, bounds);
    double min_lon = bounds[0], min_lat = bounds[1], max_lon = bounds[2], max_lat = bounds[3];
    double longitude = shape->xy[0], latitude = shape->xy[1];
    /* A box is covered through the circle around its corners. */
    double radius_meters = shape->type == GEO_SHAPE_CIRCLE
                               ? shape->radius
                               : sqrt((shape->width / 2) * (shape->width / 2) + (shape->height / 2) * (shape->height / 2));
    radius_meters *= shape->conversion;

    int steps = geohashEstimateStepsByRadius(radius_meters, latitude);
    geohashGetCoordRange(&long_range, &lat_range);
    geohashEncode(&long_range, &lat_range, longitude, latitude, (uint8_t)steps, &hash);
    geohashNeighbors(&hash, &neighbors);
    geohashDecode(long_range, lat_range, hash, &area);

    /* Near the edge of the centre box one neighbour may not reach far enough: then
     * use boxes twice as large. */
    GeoHashArea north, south, east, west;
    geohashDecode(long_range, lat_range, neighbors.north, &north);
    geohashDecode(long_range, lat_range, neighbors.south, &south);
    geohashDecode(long_range, lat_range, neighbors.east, &east);
    geohashDecode(long_range, lat_range, neighbors.west, &west);
    int decrease_step = north.latitude.max < max_lat || south.latitude.min > min_lat ||
                        east.longitude.max < max_lon || west.longitude.min > min_lon;
    if (steps > 1 && decrease_step) {
        steps--;
        geohashEncode(&long_range, &lat_range, longitude, latitude, (uint8_t)steps, &hash);
        geohashNeighbors(&hash, &neighbors);
        geohashDecode(long_range, lat_range, hash, &area);
    }

    /* Drop the neighbours the shape cannot reach. */
    if (steps >= 2) {
        if (area.latitude.min < min_lat) {
            neighbors.south = neighbors.south_west = neighbors.south_east = GEOHASH_ZERO;
        }
        if (area.latitude.max > max_lat) {
            neighbors.north = neighbors.north_east = neighbors.north_west = GEOHASH_ZERO;
        }
        if (area.longitude.min < min_lon) {
            neighbors.west = neighbors.south_west = neighbors.north_west = GEOHASH_ZERO;
        }
        if (area.longitude.max > max_lon) {
            neighbors.east = neighbors.south_east = neighbors.north_east = GEOHASH_ZERO;
        }
    }
    result.hash = hash;
    result.neighbors = neighbors;
    result.area = area;
    return result;
}

/* ------------------------------------------------------------------------- */
/* Distances                                                                   */
/* ------------------------------------------------------------------------- */

static double latDistance(double lat1d, double lat2d) {
    return EARTH_RADIUS_IN_METERS * fabs(degRad(lat2d) - degRad(lat1d));
}

double geohashGetDistance(double lon1d, double lat1d, double lon2d, double lat2d) {
    double lon1r = degRad(lon1d), lon2r = degRad(lon2d);
    double v = sin((lon2r - lon1r) / 2);
    /* Same meridian: the plain latitude difference, without the trigonometry. */
    if (v == 0.0) return latDistance(lat1d, lat2d);
    double lat1r = degRad(lat1d), lat2r = degRad(lat2d);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * EARTH_RADIUS_IN_METERS * asin(sqrt(a));
}

int geohashGetDistanceIfInRadiusWGS84(double x1, double y1, double x2, double y2, double radius,
                                      double *distance) {
    *distance = geohashGetDistance(x1, y1, x2, y2);
    return *distance <= radius;
}

/* (x1, y1) is the centre of the box, (x2, y2) the point. */
int geohashGetDistanceIfInRectangle(double width_m, double height_m, double x1, double y1, double x2,
                                    double y2, double *distance) {
    /* The latitude test is the cheaper one: first. */
    if (latDistance(y2, y1) > height_m / 2) return 0;
    if (geohashGetDistance(x2, y2, x1, y2) > width_m / 2) return 0;
    *distance = geohashGetDistance(x1, y1, x2, y2);
    return 1;
}
