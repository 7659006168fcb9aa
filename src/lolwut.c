/* lolwut.c -- LOLWUT [VERSION <version>] [<width>]: a small piece of generative ASCII
 * art followed by the server version, the one line clients actually look for.
 *
 * The art is a field of waves: each cell's height is the sum of two sines of its
 * coordinates, quantised to a ramp of characters. The optional width (in columns,
 * 10 to 200, default 64) changes the picture; the version argument is accepted for
 * compatibility and only the version line depends on this server.
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "networking.h"
#include "object.h"
#include "server.h"
#include "version.h"

#define LOLWUT_ROWS 12
#define LOLWUT_DEFAULT_WIDTH 64
#define LOLWUT_MIN_WIDTH 10
#define LOLWUT_MAX_WIDTH 200

static sds lolwutDraw(sds out, long width) {
    static const char ramp[] = " .:-=+*#%@";
    const int levels = (int)sizeof(ramp) - 2;
    for (int y = 0; y < LOLWUT_ROWS; y++) {
        for (long x = 0; x < width; x++) {
            double v = sin(x * 0.21 + y * 0.35) + sin(x * 0.07 - y * 0.52);
            int level = (int)((v + 2) / 4 * levels + 0.5);
            if (level < 0) level = 0;
            if (level > levels) level = levels;
            out = sdscatlen(out, &ramp[level], 1);
        }
        out = sdscatlen(out, "\n", 1);
    }
    return out;
}

void lolwutCommand(client *c) {
    long width = LOLWUT_DEFAULT_WIDTH;
    int j = 1;
    if (c->argc >= 3 && !strcasecmp(objectGetVal(c->argv[1]), "version")) {
        long version;
        if (getLongFromObjectOrReply(c, c->argv[2], &version, NULL) != C_OK) return;
        j = 3;
    }
    if (j < c->argc &&
        getRangeLongFromObjectOrReply(c, c->argv[j], LOLWUT_MIN_WIDTH, LOLWUT_MAX_WIDTH, &width,
                                      "width must be between 10 and 200") != C_OK)
        return;
    sds out = lolwutDraw(sdsempty(), width);
    out = sdscat(out, "\nValkey ver. " VALKEY_VERSION "\n");
    addReplyVerbatim(c, out, sdslen(out), "txt");
    sdsfree(out);
}
