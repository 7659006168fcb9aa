/* tier_probe.c -- the figures FLASH.MIGRATE.PROBE reports about the local flash tier
 * (src/migrate.c asks through tier.h): the state in valkey-flash's words, the capacity of
 * the flash file, the bytes a migration could still land on it and its path.
 *
 * Free bytes are those of free segments, as INFO's flash_free_bytes: dead records that
 * compaction has not reclaimed yet are not counted, so the figure errs on the low side.
 */
#include "tier.h"
#include "tier_internal.h"
#include "../server.h"

const char *tierProbeFigures(unsigned long long *capacity, unsigned long long *free_bytes, const char **path) {
    *capacity = 0;
    *free_bytes = 0;
    *path = "";
    if (tier_conf.path == NULL) return "disabled";
    *path = tier_conf.path;
    *capacity = tier_conf.capacity;
    if (tier.fs) {
        flashStoreStats st;
        flashStoreGetStats(tier.fs, &st);
        *capacity = st.capacity;
        *free_bytes = st.segments_free * st.segment_size;
    }
    if (server.loading) return "recovering";
    if (tier.state == TIER_STATE_ERROR || !tierEnabled()) return "error";
    return "ready";
}
