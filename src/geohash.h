/* geohash.h -- the interleaved geohash used by the GEO commands, bit-compatible with
 * Valkey's: a position is stored in a sorted set as a 52-bit integer score made of 26
 * latitude bits (even positions) and 26 longitude bits (odd positions), computed over
 * longitude [-180, 180] and latitude [-85.05112878, 85.05112878] (the Web Mercator
 * limits). Also here: neighbour boxes, the choice of the box size for a search radius,
 * and great-circle distances (haversine on Valkey's Earth radius).
 */
#ifndef GEOHASH_H
#define GEOHASH_H

#include <stdint.h>

#define GEO_STEP_MAX 26 /* 26 * 2 = 52 bits */
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN -180.0
#define GEO_LONG_MAX 180.0

typedef uint64_t GeoHashFix52Bits;

typedef struct {
    uint64_t bits;
    uint8_t step; /* bits per coordinate */
} GeoHashBits;

typedef struct {
    double min, max;
} GeoHashRange;

typedef struct {
    GeoHashBits hash;
    GeoHashRange longitude;
    GeoHashRange latitude;
} GeoHashArea;

typedef struct {
    GeoHashBits north, east, west, south;
    GeoHashBits north_east, south_east, north_west, south_west;
} GeoHashNeighbors;

/* A search: a circle (radius) or an axis-aligned box (width x height) around xy, with
 * the lengths in `conversion` meters per unit. */
#define GEO_SHAPE_CIRCLE 1
#define GEO_SHAPE_BOX 2
typedef struct {
    int type;
    double xy[2]; /* longitude, latitude of the centre */
    double conversion;
    double radius;        /* circle */
    double width, height; /* box */
} GeoShape;

/* The centre box of a search and its 8 neighbours (zeroed when not needed). */
typedef struct {
    GeoHashBits hash;
    GeoHashArea area;
    GeoHashNeighbors neighbors;
} GeoHashRadius;

#define GEOHASH_IS_ZERO(h) ((h).bits == 0 && (h).step == 0)

/* Encoding and decoding over explicit ranges; 1 on success, 0 for out-of-range input. */
int geohashEncode(const GeoHashRange *long_range, const GeoHashRange *lat_range, double longitude,
                  double latitude, uint8_t step, GeoHashBits *hash);
int geohashEncodeWGS84(double longitude, double latitude, uint8_t step, GeoHashBits *hash);
int geohashDecode(GeoHashRange long_range, GeoHashRange lat_range, GeoHashBits hash, GeoHashArea *area);
/* The centre of the box, clamped to the valid ranges: xy[0] longitude, xy[1] latitude. */
int geohashDecodeToLongLatWGS84(GeoHashBits hash, double *xy);
void geohashNeighbors(const GeoHashBits *hash, GeoHashNeighbors *neighbors);
GeoHashFix52Bits geohashAlign52Bits(GeoHashBits hash);
void geohashGetCoordRange(GeoHashRange *long_range, GeoHashRange *lat_range);

/* Searching. */
uint8_t geohashEstimateStepsByRadius(double range_meters, double lat);
GeoHashRadius geohashCalculateAreasByShapeWGS84(const GeoShape *shape);

/* Distances in meters. The "IfIn" forms return 0 when the point is outside the shape. */
double geohashGetDistance(double lon1d, double lat1d, double lon2d, double lat2d);
int geohashGetDistanceIfInRadiusWGS84(double x1, double y1, double x2, double y2, double radius,
                                      double *distance);
int geohashGetDistanceIfInRectangle(double width_m, double height_m, double x1, double y1, double x2,
                                    double y2, double *distance);

#endif
