/* valkey-check-rdb.c -- the RDB checker: the server binary run as valkey-check-rdb (or
 * with --check-rdb) walks a file with the loader itself in check-only mode, so it
 * accepts exactly what the server accepts. It prints the AUX fields and what it
 * found (keys per type, expires), or where the file is corrupt: the offset, the
 * failure, and what the walker was doing (opcode, key, value type). Exit status 0
 * when the file is sound, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "rdb.h"
#include "rio.h"
#include "server.h"
#include "util.h"

typedef struct checkState {
    const char *doing;   /* the walker's current step */
    long long offset;    /* where that step started */
    sds key;             /* the key being read, if any */
    int rdbtype;         /* its value type, -1 if none */
    int checksum_state;  /* 0 not seen, 1 verified, 2 disabled in the file */
} checkState;

static const char *rdbTypeName(int type) {
    switch (type) {
    case RDB_TYPE_STRING: return "string";
    case RDB_TYPE_LIST: return "list-linked";
    case RDB_TYPE_SET: return "set-hashtable";
    case RDB_TYPE_ZSET: return "zset-v1";
    case RDB_TYPE_HASH: return "hash-hashtable";
    case RDB_TYPE_ZSET_2: return "zset-v2";
    case RDB_TYPE_MODULE_PRE_GA: return "module-pre-release";
    case RDB_TYPE_MODULE_2: return "module-value";
    case RDB_TYPE_HASH_ZIPMAP: return "hash-zipmap";
    case RDB_TYPE_LIST_ZIPLIST: return "list-ziplist";
    case RDB_TYPE_SET_INTSET: return "set-intset";
    case RDB_TYPE_ZSET_ZIPLIST: return "zset-ziplist";
    case RDB_TYPE_HASH_ZIPLIST: return "hash-ziplist";
    case RDB_TYPE_LIST_QUICKLIST: return "quicklist";
    case RDB_TYPE_STREAM_LISTPACKS: return "stream";
    case RDB_TYPE_HASH_LISTPACK: return "hash-listpack";
    case RDB_TYPE_ZSET_LISTPACK: return "zset-listpack";
    case RDB_TYPE_LIST_QUICKLIST_2: return "quicklist-v2";
    case RDB_TYPE_STREAM_LISTPACKS_2: return "stream-v2";
    case RDB_TYPE_SET_LISTPACK: return "set-listpack";
    case RDB_TYPE_STREAM_LISTPACKS_3: return "stream-v3";
    case RDB_TYPE_HASH_2: return "hash-with-field-expire";
    default: return "unknown";
    }
}

static void onAux(void *ud, sds key, sds val) {
    checkState *st = ud;
    printf("[offset %lld] AUX FIELD %s = '%s'\n", st->offset, key, val);
}

static void onStep(void *ud, const char *what, long long offset) {
    checkState *st = ud;
    st->doing = what;
    st->offset = offset;
    if (!strcmp(what, "read-type")) {
        sdsfree(st->key);
        st->key = NULL;
        st->rdbtype = -1;
    }
}

static void onKeyStart(void *ud, sds key, int rdbtype) {
    checkState *st = ud;
    sdsfree(st->key);
    st->key = sdsdup(key);
    st->rdbtype = rdbtype;
}

static void onChecksum(void *ud, uint64_t stored, uint64_t computed) {
    checkState *st = ud;
    st->checksum_state = stored == 0 ? 2 : (stored == computed ? 1 : 0);
}

static void printStats(const rdbLoadStats *stats) {
    printf("[info] %lld keys read\n", stats->keys_loaded + stats->keys_expired);
    printf("[info] %lld expires\n", stats->expires);
    printf("[info] %lld already expired\n", stats->keys_expired);
    printf("[info] keys by type: string %lld, list %lld, set %lld, zset %lld, hash %lld\n",
           stats->keys_by_type[OBJ_STRING], stats->keys_by_type[OBJ_LIST], stats->keys_by_type[OBJ_SET],
           stats->keys_by_type[OBJ_ZSET], stats->keys_by_type[OBJ_HASH]);
    if (stats->functions) printf("[info] %lld function libraries\n", stats->functions);
    if (stats->module_aux) printf("[info] %lld module AUX payloads skipped\n", stats->module_aux);
}

static int checkRdbFile(const char *filename) {
    FILE *fp = fopen(filename, "r");
    if (!fp) {
        printf("Cannot open RDB file %s: %s\n", filename, strerror(errno));
        return 1;
    }
    checkState st = {.doing = "start", .offset = 0, .key = NULL, .rdbtype = -1, .checksum_state = 0};
    rdbLoadObserver obs = {.on_aux = onAux, .on_step = onStep, .on_key_start = onKeyStart,
                           .on_checksum = onChecksum, .ud = &st};
    rdbLoadStats stats;
    rio r;
    rioInitWithFile(&r, fp);
    printf("[offset 0] Checking RDB file %s\n", filename);
    int rc = rdbLoadRio(&r, RDBFLAGS_CHECK_ONLY, &stats, &obs);
    long long end = (long long)r.processed_bytes;
    fclose(fp);
    if (rc == C_OK) {
        if (stats.rdbver >= 5) {
            if (st.checksum_state == 2)
                printf("[offset %lld] RDB file was saved with checksum disabled: no check performed.\n", end);
            else printf("[offset %lld] Checksum OK\n", end);
        }
        printf("[offset %lld] \\o/ RDB looks OK! \\o/\n", end);
        printStats(&stats);
        sdsfree(st.key);
        return 0;
    }
    printf("--- RDB ERROR DETECTED ---\n");
    printf("[offset %lld] %s\n", end, rdbLoadErrorMessage());
    printf("[additional info] While doing: %s (started at offset %lld)\n", st.doing, st.offset);
    if (st.key) printf("[additional info] Reading key '%s'\n", st.key);
    if (st.rdbtype != -1) printf("[additional info] Reading type %d (%s)\n", st.rdbtype, rdbTypeName(st.rdbtype));
    printStats(&stats);
    printf("--- RDB ERROR DETECTED ---\n");
    sdsfree(st.key);
    return 1;
}

/* Entered from main() before the server starts anything; config defaults are set. */
int valkeyCheckRdbMain(int argc, char **argv) {
    int first = argc > 1 && !strcmp(argv[1], "--check-rdb") ? 2 : 1;
    if (argc != first + 1) {
        fprintf(stderr, "Usage: %s %s<rdb-file-name>\n", argv[0], first == 2 ? "--check-rdb " : "");
        return 1;
    }
    server.verbosity = LL_WARNING;
    createSharedObjects();
    updateCachedTime(1);
    server.lruclock = getLRUClock();
    return checkRdbFile(argv[first]);
}
