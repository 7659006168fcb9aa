/* rdb.c -- the RDB format and snapshotting (see rdb.h for the layers).
 *
 * Sections, top to bottom:
 *   - configuration (save points, dbfilename, rdbcompression...) and process state;
 *   - primitives: lengths, strings, doubles, times;
 *   - legacy blobs: ziplists and zipmaps (read only, converted to listpacks on load);
 *   - values: save and load of every type and encoding;
 *   - datasets: the file layout, loading with progress, synchronous save;
 *   - background save: the forked child, its report pipe, the cron that reaps it;
 *   - commands and server hooks (SAVE, BGSAVE, shutdown, FLUSHALL, DEBUG RELOAD).
 *
 * Corrupt input. Loaders never trust a length: a string longer than what the stream
 * can still deliver is refused before anything is allocated, blobs are validated
 * before they become objects, and a value that fails halfway is freed. The first
 * failure's description is kept (rdbLoadErrorMessage) so the file loader can log it
 * with the offset, RESTORE can map it to "Bad data format", and valkey-check-rdb can
 * print it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lzf.h>

#include "rdb.h"
#include "replication.h"
#include "tier/tier.h"
#include "config.h"
#include "crc64.h"
#include "db.h"
#include "debug.h"
#include "hashtable.h"
#include "intset.h"
#include "listpack.h"
#include "lzf_dec.h"
#include "networking.h"
#include "object.h"
#include "quicklist.h"
#include "server.h"
#include "skiplist.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"
#include "version.h"
#include "zmalloc.h"

#define RDB_AUTOSYNC_BYTES (1024 * 1024 * 4) /* rdb-save-incremental-fsync, as Valkey */
#define RDB_BGSAVE_RETRY_DELAY 5              /* seconds before retrying a failed save point */
#define RDB_LZF_MIN_LEN 20                    /* shorter strings are never compressed */
#define RDB_INT_ENCODING_MAX_LEN 11           /* "-2147483648" */
#define RDB_LZF_MAX_RATIO 128                 /* refuse claims of better compression */
#define RDB_CHILD_INFO_KEYS_STEP 1024         /* the child reports progress this often (keys) */
#define RDB_CHILD_INFO_MIN_INTERVAL_US 1000000
#define RDB_MODULE_NAME_LEN 9
#define RDB_MAX_MODULE_LOADERS 32
#define RDB_LOADING_DEFAULT_INTERVAL (2 * 1024 * 1024)

/* ------------------------------------------------------------------------- */
/* Configuration                                                               */
/* ------------------------------------------------------------------------- */

#define SANITIZE_DUMP_NO 0
#define SANITIZE_DUMP_YES 1
#define SANITIZE_DUMP_CLIENTS 2

typedef struct saveParam {
    time_t seconds;
    long long changes;
} saveParam;

static struct {
    saveParam *params;
    int nparams;
    int compression;            /* rdbcompression */
    int checksum;               /* rdbchecksum */
    int stop_writes_on_error;   /* stop-writes-on-bgsave-error */
    int del_sync_files;         /* rdb-del-sync-files */
    int incremental_fsync;      /* rdb-save-incremental-fsync */
    int key_save_delay;         /* rdb-key-save-delay, microseconds per key (debug) */
    int key_load_delay;         /* key-load-delay, microseconds per key (debug) */
    int loading_events_interval; /* loading-process-events-interval-bytes */
    int sanitize_dump_payload;  /* sanitize-dump-payload */
    int skip_checksum_validation; /* DEBUG SET-SKIP-CHECKSUM-VALIDATION */
} rdb_conf;

/* Process state: the background child, statistics and loading progress. */
static struct {
    long long dirty_before_bgsave;
    time_t save_time_start;    /* -1: no child */
    time_t save_time_last;     /* duration of the last background save, -1 if none */
    int bgsave_scheduled;
    int child_info_pipe[2];
    long long saves;
    long long last_cow_size;
    long long current_cow_size, current_cow_peak;
    monotime current_cow_updated;
    long long current_save_keys_processed, current_save_keys_total;
    long long total_forks;
    long long latest_fork_usec;
    long long last_load_keys_expired, last_load_keys_loaded;
    /* Loading. */
    time_t loading_start_time;
    size_t loading_total_bytes, loading_loaded_bytes, loading_rdb_used_mem;
    size_t loading_next_event_at;
    /* Function libraries read from a file, kept verbatim to be written again. */
    sds *functions;
    int nfunctions;
} rdb_state = {.save_time_start = -1, .save_time_last = -1, .child_info_pipe = {-1, -1}};

static void resetSaveParams(void) {
    zfree(rdb_conf.params);
    rdb_conf.params = NULL;
    rdb_conf.nparams = 0;
}

static void appendSaveParam(time_t seconds, long long changes) {
    rdb_conf.params = zrealloc(rdb_conf.params, sizeof(saveParam) * (rdb_conf.nparams + 1));
    rdb_conf.params[rdb_conf.nparams].seconds = seconds;
    rdb_conf.params[rdb_conf.nparams].changes = changes;
    rdb_conf.nparams++;
}

/* `save`: pairs of <seconds> <changes>; "" (no argument) disables. In the config file,
 * the first `save` line replaces the defaults and later lines add to it; CONFIG SET
 * replaces the whole list. The event loop does not exist yet while the file is read. */
static int setSaveParams(sds *argv, int argc, const char **err) {
    static int calls_before_start = 0;
    if (argc & 1) {
        *err = "Invalid save parameters";
        return 0;
    }
    for (int j = 0; j < argc; j++) {
        long long val;
        if (!string2ll(argv[j], sdslen(argv[j]), &val) || ((j & 1) == 0 && val < 1) || ((j & 1) == 1 && val < 0)) {
            *err = "Invalid save parameters";
            return 0;
        }
    }
    int from_file = server.el == NULL;
    /* Call 1 stores the default; call 2 is the first line of the file: it replaces. */
    if (!from_file || ++calls_before_start <= 2) resetSaveParams();
    for (int j = 0; j < argc; j += 2) {
        long long seconds, changes;
        string2ll(argv[j], sdslen(argv[j]), &seconds);
        string2ll(argv[j + 1], sdslen(argv[j + 1]), &changes);
        appendSaveParam((time_t)seconds, changes);
    }
    return 1;
}

static sds getSaveParams(void) {
    sds s = sdsempty();
    for (int j = 0; j < rdb_conf.nparams; j++) {
        if (j) s = sdscatlen(s, " ", 1);
        s = sdscatprintf(s, "%lld %lld", (long long)rdb_conf.params[j].seconds, rdb_conf.params[j].changes);
    }
    return s;
}

#define RDB_DEFAULT_SAVE "3600 1 300 100 60 10000"

static sds rewriteSaveParams(int all) {
    sds cur = getSaveParams();
    if (!all && !strcmp(cur, RDB_DEFAULT_SAVE)) {
        sdsfree(cur);
        return sdsempty();
    }
    sds line = sdslen(cur) ? sdscatprintf(sdsempty(), "save %s", cur) : sdsnew("save \"\"");
    sdsfree(cur);
    return line;
}

static int validateDbFilename(const char *val, const char **err) {
    if (strchr(val, '/') || strchr(val, '\\')) {
        *err = "dbfilename can't be a path, just a filename";
        return 0;
    }
    return 1;
}

static const configEnum sanitize_dump_enum[] = {
    {"no", SANITIZE_DUMP_NO}, {"yes", SANITIZE_DUMP_YES}, {"clients", SANITIZE_DUMP_CLIENTS}, {NULL, 0}};

static const configDirective rdb_configs[] = {
    {.name = "save",
     .flags = CONFIG_FLAG_MULTI_ARG,
     .type = CONFIG_TYPE_SPECIAL,
     .u.sp = {.dflt = RDB_DEFAULT_SAVE, .set = setSaveParams, .get = getSaveParams, .rewrite = rewriteSaveParams}},
    {.name = "dbfilename",
     .flags = CONFIG_FLAG_PROTECTED,
     .type = CONFIG_TYPE_STRING,
     .field = &server.rdb_filename,
     .u.str = {.dflt = "dump.rdb", .validate = validateDbFilename}},
    {.name = "rdbcompression", .type = CONFIG_TYPE_BOOL, .field = &rdb_conf.compression, .u.b = {.dflt = 1}},
    {.name = "rdbchecksum",
     .flags = CONFIG_FLAG_IMMUTABLE,
     .type = CONFIG_TYPE_BOOL,
     .field = &rdb_conf.checksum,
     .u.b = {.dflt = 1}},
    {.name = "stop-writes-on-bgsave-error",
     .type = CONFIG_TYPE_BOOL,
     .field = &rdb_conf.stop_writes_on_error,
     .u.b = {.dflt = 1}},
    {.name = "rdb-del-sync-files", .type = CONFIG_TYPE_BOOL, .field = &rdb_conf.del_sync_files, .u.b = {.dflt = 0}},
    {.name = "rdb-save-incremental-fsync",
     .type = CONFIG_TYPE_BOOL,
     .field = &rdb_conf.incremental_fsync,
     .u.b = {.dflt = 1}},
    {.name = "rdb-key-save-delay",
     .flags = CONFIG_FLAG_HIDDEN,
     .type = CONFIG_TYPE_NUMERIC,
     .field = &rdb_conf.key_save_delay,
     .u.num = {CONFIG_NUM_INT, CONFIG_FMT_INTEGER, INT_MIN, INT_MAX, 0, NULL}},
    {.name = "key-load-delay",
     .flags = CONFIG_FLAG_HIDDEN,
     .type = CONFIG_TYPE_NUMERIC,
     .field = &rdb_conf.key_load_delay,
     .u.num = {CONFIG_NUM_INT, CONFIG_FMT_INTEGER, INT_MIN, INT_MAX, 0, NULL}},
    {.name = "loading-process-events-interval-bytes",
     .flags = CONFIG_FLAG_HIDDEN,
     .type = CONFIG_TYPE_NUMERIC,
     .field = &rdb_conf.loading_events_interval,
     .u.num = {CONFIG_NUM_INT, CONFIG_FMT_INTEGER, 1024, INT_MAX, RDB_LOADING_DEFAULT_INTERVAL, NULL}},
    {.name = "sanitize-dump-payload",
     .type = CONFIG_TYPE_ENUM,
     .field = &rdb_conf.sanitize_dump_payload,
     .u.en = {.values = sanitize_dump_enum, .dflt = SANITIZE_DUMP_NO}},
};

void rdbRegister(void) {
    configRegisterDirectives(rdb_configs, (int)(sizeof(rdb_configs) / sizeof(rdb_configs[0])));
}

/* Deep sanitization of RESTORE payloads per sanitize-dump-payload: "clients" means
 * every RESTORE from a client (there is no ACL skip flag and no primary yet). */
int rdbRestoreSanitizeFlags(void) {
    if (rdb_conf.sanitize_dump_payload == SANITIZE_DUMP_YES) return RDB_LOAD_DEEP_SANITIZE;
    if (rdb_conf.sanitize_dump_payload == SANITIZE_DUMP_CLIENTS && !server.loading) return RDB_LOAD_DEEP_SANITIZE;
    return 0;
}

int rdbSkipChecksumValidation(void) {
    return rdb_conf.skip_checksum_validation;
}

void rdbSetSkipChecksumValidation(int skip) {
    rdb_conf.skip_checksum_validation = skip != 0;
}

/* ------------------------------------------------------------------------- */
/* Load errors                                                                 */
/* ------------------------------------------------------------------------- */

#define RDB_ERROR_MAX 256
static char load_error[RDB_ERROR_MAX];

/* Keeps the first (innermost, most precise) description of a failure. */
static void rdbCorrupt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void rdbCorrupt(const char *fmt, ...) {
    if (load_error[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(load_error, sizeof(load_error), fmt, ap);
    va_end(ap);
}

void rdbReportCorruption(const char *fmt, ...) {
    if (load_error[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(load_error, sizeof(load_error), fmt, ap);
    va_end(ap);
}

const char *rdbLoadErrorMessage(void) {
    return load_error[0] ? load_error : "unknown error";
}

void rdbClearLoadError(void) {
    load_error[0] = '\0';
}

/* Called when a read fails: the stream ended early. */
static void rdbShortRead(void) {
    rdbCorrupt("Unexpected EOF reading RDB file");
}

/* ------------------------------------------------------------------------- */
/* Primitives                                                                  */
/* ------------------------------------------------------------------------- */

ssize_t rdbWriteRaw(rio *r, const void *p, size_t len) {
    if (len && rioWrite(r, p, len) == 0) return -1;
    return (ssize_t)len;
}

static int rdbReadRaw(rio *r, void *p, size_t len) {
    if (len && rioRead(r, p, len) == 0) {
        rdbShortRead();
        return -1;
    }
    return 0;
}

/* A length claimed by the stream must fit in what the stream can still deliver
 * (when that is known), so corrupt data never triggers a huge allocation. */
static int rdbLengthPlausible(rio *r, uint64_t len) {
    off_t left = rioRemaining(r);
    if (left >= 0 && len > (uint64_t)left) {
        rdbCorrupt("Length %" PRIu64 " exceeds the remaining %lld bytes", len, (long long)left);
        return 0;
    }
    return 1;
}

int rdbSaveType(rio *r, unsigned char type) {
    return (int)rdbWriteRaw(r, &type, 1);
}

int rdbLoadType(rio *r) {
    unsigned char type;
    if (rdbReadRaw(r, &type, 1) == -1) return -1;
    return type;
}

int rdbSaveLen(rio *r, uint64_t len) {
    unsigned char buf[9];
    int n;
    if (len < (1 << 6)) {
        buf[0] = (unsigned char)((len & 0xFF) | (RDB_6BITLEN << 6));
        n = 1;
    } else if (len < (1 << 14)) {
        buf[0] = (unsigned char)(((len >> 8) & 0xFF) | (RDB_14BITLEN << 6));
        buf[1] = (unsigned char)(len & 0xFF);
        n = 2;
    } else if (len <= UINT32_MAX) {
        uint32_t be = htonl((uint32_t)len);
        buf[0] = RDB_32BITLEN;
        memcpy(buf + 1, &be, 4);
        n = 5;
    } else {
        uint64_t be = htobe64(len);
        buf[0] = RDB_64BITLEN;
        memcpy(buf + 1, &be, 8);
        n = 9;
    }
    return rdbWriteRaw(r, buf, n) == -1 ? -1 : n;
}

int rdbLoadLenByRef(rio *r, int *isencoded, uint64_t *lenptr) {
    unsigned char buf[2];
    if (isencoded) *isencoded = 0;
    if (rdbReadRaw(r, buf, 1) == -1) return -1;
    int type = (buf[0] & 0xC0) >> 6;
    if (type == RDB_ENCVAL) {
        if (isencoded) *isencoded = 1;
        *lenptr = buf[0] & 0x3F;
    } else if (type == RDB_6BITLEN) {
        *lenptr = buf[0] & 0x3F;
    } else if (type == RDB_14BITLEN) {
        if (rdbReadRaw(r, buf + 1, 1) == -1) return -1;
        *lenptr = ((uint64_t)(buf[0] & 0x3F) << 8) | buf[1];
    } else if (buf[0] == RDB_32BITLEN) {
        uint32_t be;
        if (rdbReadRaw(r, &be, 4) == -1) return -1;
        *lenptr = ntohl(be);
    } else if (buf[0] == RDB_64BITLEN) {
        uint64_t be;
        if (rdbReadRaw(r, &be, 8) == -1) return -1;
        *lenptr = be64toh(be);
    } else {
        rdbCorrupt("Unknown length encoding %d in rdbLoadLen()", buf[0]);
        return -1;
    }
    return 0;
}

uint64_t rdbLoadLen(rio *r, int *isencoded) {
    uint64_t len;
    if (rdbLoadLenByRef(r, isencoded, &len) == -1) return RDB_LENERR;
    return len;
}

ssize_t rdbSaveMillisecondTime(rio *r, long long t) {
    int64_t le = (int64_t)htole64((uint64_t)t);
    return rdbWriteRaw(r, &le, 8);
}

long long rdbLoadMillisecondTime(rio *r, int rdbver) {
    (void)rdbver; /* before version 9 the host order was used: little endian here too */
    int64_t le;
    if (rdbReadRaw(r, &le, 8) == -1) return LLONG_MAX;
    return (long long)le64toh((uint64_t)le);
}

/* The old EXPIRETIME opcode: seconds as a 32-bit integer. */
static long long rdbLoadTimeSeconds(rio *r) {
    int32_t t;
    if (rdbReadRaw(r, &t, 4) == -1) return LLONG_MAX;
    return (long long)(int32_t)le32toh((uint32_t)t);
}

/* Integers that fit 8, 16 or 32 bits are stored as RDB_ENCVAL + width + bytes. */
static int rdbEncodeInteger(long long value, unsigned char *enc) {
    if (value >= INT8_MIN && value <= INT8_MAX) {
        enc[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT8;
        enc[1] = (unsigned char)(value & 0xFF);
        return 2;
    } else if (value >= INT16_MIN && value <= INT16_MAX) {
        enc[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT16;
        enc[1] = (unsigned char)(value & 0xFF);
        enc[2] = (unsigned char)((value >> 8) & 0xFF);
        return 3;
    } else if (value >= INT32_MIN && value <= INT32_MAX) {
        enc[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT32;
        for (int j = 0; j < 4; j++) enc[1 + j] = (unsigned char)((value >> (8 * j)) & 0xFF);
        return 5;
    }
    return 0;
}

/* A short string that is the canonical text of an integer is stored as that integer. */
static int rdbTryIntegerEncoding(const unsigned char *s, size_t len, unsigned char *enc) {
    long long value;
    char buf[LONG_STR_SIZE];
    if (!string2ll((const char *)s, len, &value)) return 0;
    int n = ll2string(buf, sizeof(buf), value);
    if ((size_t)n != len || memcmp(buf, s, len)) return 0;
    return rdbEncodeInteger(value, enc);
}

static ssize_t rdbSaveLzfBlob(rio *r, const void *data, size_t compress_len, size_t original_len) {
    ssize_t total = 0, n;
    if ((n = rdbSaveType(r, (RDB_ENCVAL << 6) | RDB_ENC_LZF)) == -1) return -1;
    total += n;
    if ((n = rdbSaveLen(r, compress_len)) == -1) return -1;
    total += n;
    if ((n = rdbSaveLen(r, original_len)) == -1) return -1;
    total += n;
    if ((n = rdbWriteRaw(r, data, compress_len)) == -1) return -1;
    return total + n;
}

/* 0 when compression does not pay (the caller writes the string plainly). */
static ssize_t rdbSaveLzfStringObject(rio *r, const unsigned char *s, size_t len) {
    if (len <= 4 || len > UINT32_MAX) return 0;
    size_t outlen = len - 4;
    void *out = ztrymalloc(outlen + 1);
    if (!out) return 0;
    unsigned int comprlen = lzf_compress(s, (unsigned int)len, out, (unsigned int)outlen);
    if (comprlen == 0) {
        zfree(out);
        return 0;
    }
    ssize_t n = rdbSaveLzfBlob(r, out, comprlen, len);
    zfree(out);
    return n;
}

ssize_t rdbSaveRawString(rio *r, const unsigned char *s, size_t len) {
    if (len <= RDB_INT_ENCODING_MAX_LEN) {
        unsigned char enc[5];
        int enclen = rdbTryIntegerEncoding(s, len, enc);
        if (enclen > 0) return rdbWriteRaw(r, enc, enclen);
    }
    if (rdb_conf.compression && len > RDB_LZF_MIN_LEN) {
        ssize_t n = rdbSaveLzfStringObject(r, s, len);
        if (n == -1) return -1;
        if (n > 0) return n;
    }
    int n = rdbSaveLen(r, len);
    if (n == -1) return -1;
    if (len && rdbWriteRaw(r, s, len) == -1) return -1;
    return n + (ssize_t)len;
}

ssize_t rdbSaveLongLongAsStringObject(rio *r, long long value) {
    unsigned char buf[32];
    int enclen = rdbEncodeInteger(value, buf);
    if (enclen > 0) return rdbWriteRaw(r, buf, enclen);
    char str[LONG_STR_SIZE];
    int len = ll2string(str, sizeof(str), value);
    int n = rdbSaveLen(r, (uint64_t)len);
    if (n == -1 || rdbWriteRaw(r, str, len) == -1) return -1;
    return n + len;
}

ssize_t rdbSaveStringObject(rio *r, robj *o) {
    if (o->encoding == OBJ_ENCODING_INT) return rdbSaveLongLongAsStringObject(r, (long long)(intptr_t)objectGetVal(o));
    sds s = objectGetVal(o);
    return rdbSaveRawString(r, (const unsigned char *)s, sdslen(s));
}

/* Builds the requested result form from bytes. */
static void *rdbStringResult(const char *p, size_t len, int flags, size_t *lenptr) {
    if (lenptr) *lenptr = len;
    if (flags & RDB_LOAD_PLAIN) {
        void *buf = zmalloc(len ? len : 1);
        if (len) memcpy(buf, p, len);
        return buf;
    }
    if (flags & RDB_LOAD_SDS) return sdsnewlen(p, len);
    return createStringObject(p, len);
}

static void *rdbLoadIntegerString(rio *r, int enctype, int flags, size_t *lenptr) {
    unsigned char enc[4];
    long long val;
    if (enctype == RDB_ENC_INT8) {
        if (rdbReadRaw(r, enc, 1) == -1) return NULL;
        val = (int8_t)enc[0];
    } else if (enctype == RDB_ENC_INT16) {
        if (rdbReadRaw(r, enc, 2) == -1) return NULL;
        val = (int16_t)(enc[0] | (enc[1] << 8));
    } else {
        if (rdbReadRaw(r, enc, 4) == -1) return NULL;
        val = (int32_t)((uint32_t)enc[0] | ((uint32_t)enc[1] << 8) | ((uint32_t)enc[2] << 16) |
                        ((uint32_t)enc[3] << 24));
    }
    if (flags & RDB_LOAD_ENC) {
        if (lenptr) *lenptr = (size_t)sdigits10(val);
        return createStringObjectFromLongLongForValue(val);
    }
    char buf[LONG_STR_SIZE];
    int len = ll2string(buf, sizeof(buf), val);
    return rdbStringResult(buf, (size_t)len, flags, lenptr);
}

static void *rdbLoadLzfString(rio *r, int flags, size_t *lenptr) {
    uint64_t clen, len;
    if ((clen = rdbLoadLen(r, NULL)) == RDB_LENERR) return NULL;
    if ((len = rdbLoadLen(r, NULL)) == RDB_LENERR) return NULL;
    if (clen == 0 || len == 0 || len > UINT32_MAX || clen > UINT32_MAX || len / RDB_LZF_MAX_RATIO > clen) {
        rdbCorrupt("Invalid LZF lengths: compressed %" PRIu64 ", original %" PRIu64, clen, len);
        return NULL;
    }
    if (!rdbLengthPlausible(r, clen)) return NULL;
    /* Decompressed straight from the read-ahead window when it holds the whole input. */
    unsigned char *c = NULL;
    const unsigned char *in = rioReadInPlace(r, clen);
    if (!in) {
        if ((c = ztrymalloc(clen)) == NULL) {
            rdbCorrupt("Out of memory loading a compressed string of %" PRIu64 " bytes", clen);
            return NULL;
        }
        if (rdbReadRaw(r, c, clen) == -1) {
            zfree(c);
            return NULL;
        }
        in = c;
    }
    void *result = NULL;
    char *out;
    sds s = NULL;
    if (flags & RDB_LOAD_PLAIN) {
        out = ztrymalloc(len);
    } else {
        s = sdsnewlen(SDS_NOINIT, len);
        out = s;
    }
    if (!out) {
        rdbCorrupt("Out of memory loading a string of %" PRIu64 " bytes", len);
        zfree(c);
        return NULL;
    }
    if (lzfDecompress(in, clen, out, len) != len) {
        rdbCorrupt("Invalid LZF compressed string");
        if (s) sdsfree(s);
        else zfree(out);
        zfree(c);
        return NULL;
    }
    zfree(c);
    if (lenptr) *lenptr = len;
    if (flags & RDB_LOAD_PLAIN) result = out;
    else if (flags & RDB_LOAD_SDS) result = s;
    else result = createObjectFromSds(s);
    return result;
}

void *rdbGenericLoadStringObject(rio *r, int flags, size_t *lenptr) {
    int isencoded;
    uint64_t len;
    if (rdbLoadLenByRef(r, &isencoded, &len) == -1) return NULL;
    if (isencoded) {
        switch (len) {
        case RDB_ENC_INT8:
        case RDB_ENC_INT16:
        case RDB_ENC_INT32: return rdbLoadIntegerString(r, (int)len, flags, lenptr);
        case RDB_ENC_LZF: return rdbLoadLzfString(r, flags, lenptr);
        default: rdbCorrupt("Unknown RDB string encoding type %d", (int)len); return NULL;
        }
    }
    if (!rdbLengthPlausible(r, len)) return NULL;
    if (lenptr) *lenptr = len;
    if (flags & RDB_LOAD_PLAIN) {
        void *buf = ztrymalloc(len ? len : 1);
        if (!buf) {
            rdbCorrupt("Out of memory loading a string of %" PRIu64 " bytes", len);
            return NULL;
        }
        if (rdbReadRaw(r, buf, len) == -1) {
            zfree(buf);
            return NULL;
        }
        return buf;
    }
    if (!(flags & RDB_LOAD_SDS) && len <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT) {
        const unsigned char *in_place = rioReadInPlace(r, len);
        if (in_place) return createStringObject((const char *)in_place, len);
        char buf[OBJ_ENCODING_EMBSTR_SIZE_LIMIT];
        if (rdbReadRaw(r, buf, len) == -1) return NULL;
        return createStringObject(buf, len);
    }
    sds s = sdsnewlen(SDS_NOINIT, len);
    if (rdbReadRaw(r, s, len) == -1) {
        sdsfree(s);
        return NULL;
    }
    if (flags & RDB_LOAD_SDS) return s;
    return createObjectFromSds(s);
}

robj *rdbLoadStringObject(rio *r) {
    return rdbGenericLoadStringObject(r, RDB_LOAD_NONE, NULL);
}

static robj *rdbLoadEncodedStringObject(rio *r) {
    return rdbGenericLoadStringObject(r, RDB_LOAD_ENC, NULL);
}

int rdbSaveBinaryDoubleValue(rio *r, double val) {
    uint64_t bits;
    memcpy(&bits, &val, 8);
    bits = htole64(bits);
    return rdbWriteRaw(r, &bits, 8) == -1 ? -1 : 0;
}

int rdbLoadBinaryDoubleValue(rio *r, double *val) {
    uint64_t bits;
    if (rdbReadRaw(r, &bits, 8) == -1) return -1;
    bits = le64toh(bits);
    memcpy(val, &bits, 8);
    return 0;
}

int rdbLoadBinaryFloatValue(rio *r, float *val) {
    uint32_t bits;
    if (rdbReadRaw(r, &bits, 4) == -1) return -1;
    bits = le32toh(bits);
    memcpy(val, &bits, 4);
    return 0;
}

/* The textual double of old files: a length byte (253 nan, 254 +inf, 255 -inf) and
 * the digits. */
int rdbLoadDoubleValue(rio *r, double *val) {
    unsigned char len;
    char buf[256];
    if (rdbReadRaw(r, &len, 1) == -1) return -1;
    switch (len) {
    case 255: *val = -INFINITY; return 0;
    case 254: *val = INFINITY; return 0;
    case 253: *val = NAN; return 0;
    default:
        if (rdbReadRaw(r, buf, len) == -1) return -1;
        buf[len] = '\0';
        char *end;
        errno = 0;
        *val = strtod(buf, &end);
        if (len == 0 || *end != '\0' || errno == ERANGE) {
            rdbCorrupt("Invalid double value '%s'", buf);
            return -1;
        }
        return 0;
    }
}

/* ------------------------------------------------------------------------- */
/* Legacy blobs: ziplists and zipmaps                                          */
/* ------------------------------------------------------------------------- */

/* Old files store small lists, hashes and sorted sets as ziplists, and very old ones
 * small hashes as zipmaps. Both are only read: each is walked once, checking every
 * byte against the blob's bounds, and its elements handed to a callback (which
 * builds a listpack or a quicklist). A string element has s != NULL; an integer
 * element has s == NULL and its value in v. */
typedef int (*legacyEntryFn)(void *ud, const unsigned char *s, size_t slen, long long v);

#define ZIPLIST_HEADER_SIZE 10
#define ZIPLIST_END 0xFF
#define ZIPLIST_BIG_PREVLEN 254
#define ZIPMAP_BIGLEN 254
#define ZIPMAP_END 255

static uint32_t readLe32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint16_t readLe16(const unsigned char *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* Decodes the encoding at zl[pos] (the end of the blob is `end`, exclusive): the
 * header size, and either a string length or an integer. 0 when malformed. */
static int ziplistDecodeEntry(const unsigned char *zl, size_t pos, size_t end, size_t *hdr, size_t *slen,
                              int *is_int, long long *v) {
    unsigned char enc = zl[pos];
    *is_int = 0;
    if ((enc & 0xC0) == 0x00) {
        *hdr = 1;
        *slen = enc & 0x3F;
    } else if ((enc & 0xC0) == 0x40) {
        if (pos + 2 > end) return 0;
        *hdr = 2;
        *slen = ((size_t)(enc & 0x3F) << 8) | zl[pos + 1];
    } else if (enc == 0x80) {
        if (pos + 5 > end) return 0;
        *hdr = 5;
        *slen = ((size_t)zl[pos + 1] << 24) | ((size_t)zl[pos + 2] << 16) | ((size_t)zl[pos + 3] << 8) | zl[pos + 4];
    } else {
        *is_int = 1;
        *hdr = 1;
        const unsigned char *d = zl + pos + 1;
        size_t need;
        switch (enc) {
        case 0xC0: need = 2; break; /* int16 */
        case 0xD0: need = 4; break; /* int32 */
        case 0xE0: need = 8; break; /* int64 */
        case 0xF0: need = 3; break; /* int24 */
        case 0xFE: need = 1; break; /* int8 */
        default:
            if (enc >= 0xF1 && enc <= 0xFD) { /* 4-bit immediate, 0..12 */
                *slen = 0;
                *v = (enc & 0x0F) - 1;
                return 1;
            }
            return 0;
        }
        if (pos + 1 + need > end) return 0;
        *slen = need;
        if (need == 1) *v = (int8_t)d[0];
        else if (need == 2) *v = (int16_t)readLe16(d);
        else if (need == 3) *v = ((int32_t)((uint32_t)d[0] << 8 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 24)) >> 8;
        else if (need == 4) *v = (int32_t)readLe32(d);
        else *v = (int64_t)((uint64_t)readLe32(d) | ((uint64_t)readLe32(d + 4) << 32));
    }
    return 1;
}

static int ziplistWalk(const unsigned char *zl, size_t size, legacyEntryFn fn, void *ud) {
    if (size < ZIPLIST_HEADER_SIZE + 1 || readLe32(zl) != size || zl[size - 1] != ZIPLIST_END) return 0;
    size_t tail = readLe32(zl + 4), declared = readLe16(zl + 8);
    size_t end = size - 1, pos = ZIPLIST_HEADER_SIZE, prev_len = 0, last = ZIPLIST_HEADER_SIZE, count = 0;
    while (pos < end && zl[pos] != ZIPLIST_END) {
        size_t start = pos, prevlen;
        if (zl[pos] < ZIPLIST_BIG_PREVLEN) {
            prevlen = zl[pos];
            pos += 1;
        } else {
            if (pos + 5 > end) return 0;
            prevlen = readLe32(zl + pos + 1);
            pos += 5;
        }
        if (prevlen != prev_len || pos >= end) return 0;
        size_t hdr, slen;
        int is_int;
        long long v = 0;
        if (!ziplistDecodeEntry(zl, pos, end, &hdr, &slen, &is_int, &v)) return 0;
        pos += hdr;
        if (slen > end - pos) return 0;
        if (fn && !fn(ud, is_int ? NULL : zl + pos, is_int ? 0 : slen, v)) return 0;
        pos += slen;
        prev_len = pos - start;
        last = start;
        count++;
    }
    if (pos != end || tail != last) return 0;
    if (declared != UINT16_MAX && declared != count) return 0;
    return 1;
}

/* A zipmap length: one byte, or ZIPMAP_BIGLEN and four bytes. */
static int zipmapDecodeLen(const unsigned char *zm, size_t *pos, size_t end, size_t *len) {
    if (*pos >= end) return 0;
    if (zm[*pos] < ZIPMAP_BIGLEN) {
        *len = zm[(*pos)++];
        return 1;
    }
    if (zm[*pos] != ZIPMAP_BIGLEN || *pos + 5 > end) return 0;
    *len = readLe32(zm + *pos + 1);
    *pos += 5;
    return 1;
}

static int zipmapWalk(const unsigned char *zm, size_t size, legacyEntryFn fn, void *ud) {
    if (size < 2 || zm[size - 1] != ZIPMAP_END) return 0;
    size_t declared = zm[0], end = size - 1, pos = 1, count = 0;
    while (pos < end && zm[pos] != ZIPMAP_END) {
        size_t klen, vlen;
        if (!zipmapDecodeLen(zm, &pos, end, &klen) || klen > end - pos) return 0;
        if (!fn(ud, zm + pos, klen, 0)) return 0;
        pos += klen;
        if (!zipmapDecodeLen(zm, &pos, end, &vlen) || pos >= end) return 0;
        size_t free_bytes = zm[pos++];
        if (vlen > end - pos || free_bytes > end - pos - vlen) return 0;
        if (!fn(ud, zm + pos, vlen, 0)) return 0;
        pos += vlen + free_bytes;
        count++;
    }
    if (pos != end) return 0;
    if (declared < ZIPMAP_BIGLEN && declared != count) return 0;
    return 1;
}

/* Callback building a listpack from legacy elements. */
static int legacyToListpack(void *ud, const unsigned char *s, size_t slen, long long v) {
    unsigned char **lp = ud;
    if (s) {
        if (!lpSafeToAdd(*lp, slen)) return 0;
        *lp = lpAppend(*lp, (unsigned char *)s, (uint32_t)slen);
    } else {
        *lp = lpAppendInteger(*lp, v);
    }
    return *lp != NULL;
}

/* ------------------------------------------------------------------------- */
/* Listpack checks beyond lpValidateIntegrity                                  */
/* ------------------------------------------------------------------------- */

typedef struct lpDupsState {
    hashtable *seen;
    long count;
    int pairs; /* only even elements (fields) must be unique */
} lpDupsState;

static int lpDupsEntry(unsigned char *p, unsigned int head_count, void *userdata) {
    (void)head_count;
    lpDupsState *st = userdata;
    long idx = st->count++;
    if (st->pairs && (idx & 1)) return 1;
    unsigned int slen;
    long long lval;
    unsigned char *s = lpGetValue(p, &slen, &lval);
    sds member = s ? sdsnewlen(s, slen) : sdsfromlonglong(lval);
    if (!hashtableAdd(st->seen, member)) {
        sdsfree(member);
        return 0;
    }
    return 1;
}

/* Deep: every element, no duplicate members (fields when pairs), an even count when
 * pairs. Shallow: the header and terminator only. */
static int lpValidateIntegrityAndDups(unsigned char *lp, size_t size, int deep, int pairs) {
    if (!deep) return lpValidateIntegrity(lp, size, 0, NULL, NULL);
    lpDupsState st = {hashtableCreate(&setHashtableType), 0, pairs};
    int ok = lpValidateIntegrity(lp, size, 1, lpDupsEntry, &st);
    if (pairs && (st.count & 1)) ok = 0;
    hashtableRelease(st.seen);
    return ok;
}

/* The header's element count; a saturated count needs a walk, which is only safe on a
 * deeply validated blob. */
#define LP_HDR_NUMELE_UNKNOWN UINT16_MAX
static int lpHeaderCountKnown(const unsigned char *lp) {
    return readLe16(lp + 4) != LP_HDR_NUMELE_UNKNOWN;
}

/* How deeply a listpack blob is checked, per the load flags:
 *  - RDB_LOAD_DEEP_SANITIZE (sanitize-dump-payload): every entry, and no duplicates;
 *  - RDB_LOAD_TRUSTED (bytes this server wrote and checksummed, e.g. flash records):
 *    the header and terminator only;
 *  - otherwise: the structure of every entry. It is one cheap pass, and it is what
 *    guarantees that no later read of the value can run off the blob, so a corrupt
 *    file or RESTORE payload is refused instead of aborting the server later.
 * pairs: field/value listpacks must hold an even number of entries. */
static int lpValidateBlob(unsigned char *lp, size_t size, int flags, int pairs) {
    if (size < 7) return 0; /* header (6) + terminator */
    if (flags & RDB_LOAD_DEEP_SANITIZE) {
        server.stat_dump_payload_sanitizations++;
        return lpValidateIntegrityAndDups(lp, size, 1, pairs);
    }
    int deep = !(flags & RDB_LOAD_TRUSTED) || !lpHeaderCountKnown(lp);
    if (!lpValidateIntegrity(lp, size, deep, NULL, NULL)) return 0;
    return !pairs || (lpLength(lp) & 1) == 0;
}

/* ------------------------------------------------------------------------- */
/* Values: saving                                                              */
/* ------------------------------------------------------------------------- */

int rdbIsObjectType(int type, int rdbver) {
    if (type == RDB_TYPE_HASH_2) return rdbver >= RDB_VERSION_VALKEY9;
    return (type >= RDB_TYPE_STRING && type <= RDB_TYPE_MODULE_2) ||
           (type >= RDB_TYPE_HASH_ZIPMAP && type <= RDB_TYPE_STREAM_LISTPACKS_3);
}

/* Encodings serialised by another subsystem (tiering's cold values). */
static const rdbValueCodec *value_codecs[1 << 4];

void rdbSetValueCodec(int encoding, const rdbValueCodec *codec) {
    serverAssert(encoding >= 0 && encoding < (int)(sizeof(value_codecs) / sizeof(value_codecs[0])));
    value_codecs[encoding] = codec;
}

int rdbGetObjectType(const robj *o) {
    /* A cold value keeps its logical encoding: the mapping below holds for it too. */
    if (!o->cold && value_codecs[o->encoding]) return value_codecs[o->encoding]->object_type(o);
    switch (o->type) {
    case OBJ_STRING: return RDB_TYPE_STRING;
    case OBJ_LIST:
        if (o->encoding == OBJ_ENCODING_QUICKLIST || o->encoding == OBJ_ENCODING_LISTPACK)
            return RDB_TYPE_LIST_QUICKLIST_2;
        break;
    case OBJ_SET:
        if (o->encoding == OBJ_ENCODING_INTSET) return RDB_TYPE_SET_INTSET;
        if (o->encoding == OBJ_ENCODING_LISTPACK) return RDB_TYPE_SET_LISTPACK;
        if (o->encoding == OBJ_ENCODING_HT) return RDB_TYPE_SET;
        break;
    case OBJ_ZSET:
        if (o->encoding == OBJ_ENCODING_LISTPACK) return RDB_TYPE_ZSET_LISTPACK;
        if (o->encoding == OBJ_ENCODING_SKIPLIST) return RDB_TYPE_ZSET_2;
        break;
    case OBJ_HASH:
        if (o->encoding == OBJ_ENCODING_LISTPACK) return RDB_TYPE_HASH_LISTPACK;
        if (o->encoding == OBJ_ENCODING_HT) return RDB_TYPE_HASH;
        break;
    default: break;
    }
    return -1;
}

int rdbSaveObjectType(rio *r, const robj *o) {
    int type = rdbGetObjectType(o);
    if (type == -1) return -1;
    return rdbSaveType(r, (unsigned char)type);
}

/* Adds n to *total, or reports the error. */
#define RDB_ADD(total, expr)                                                                                           \
    do {                                                                                                               \
        ssize_t n_ = (expr);                                                                                           \
        if (n_ == -1) return -1;                                                                                       \
        (total) += n_;                                                                                                 \
    } while (0)

static ssize_t rdbSaveQuicklist(rio *r, quicklist *ql) {
    ssize_t total = 0;
    RDB_ADD(total, rdbSaveLen(r, ql->len));
    for (quicklistNode *node = ql->head; node; node = node->next) {
        RDB_ADD(total, rdbSaveLen(r, node->container));
        if (quicklistNodeIsCompressed(node)) {
            void *data;
            size_t compress_len = quicklistGetLzf(node, &data);
            RDB_ADD(total, rdbSaveLzfBlob(r, data, compress_len, node->sz));
        } else {
            RDB_ADD(total, rdbSaveRawString(r, node->entry, node->sz));
        }
    }
    return total;
}

static ssize_t rdbSaveList(rio *r, robj *o) {
    if (o->encoding == OBJ_ENCODING_QUICKLIST) return rdbSaveQuicklist(r, objectGetVal(o));
    /* A listpack list is written as a quicklist of one packed node. */
    unsigned char *lp = objectGetVal(o);
    ssize_t total = 0;
    RDB_ADD(total, rdbSaveLen(r, 1));
    RDB_ADD(total, rdbSaveLen(r, QUICKLIST_NODE_CONTAINER_PACKED));
    RDB_ADD(total, rdbSaveRawString(r, lp, lpBytes(lp)));
    return total;
}

static ssize_t rdbSaveSet(rio *r, robj *o) {
    if (o->encoding == OBJ_ENCODING_INTSET) {
        intset *is = objectGetVal(o);
        return rdbSaveRawString(r, (unsigned char *)is, intsetBlobLen(is));
    }
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = objectGetVal(o);
        return rdbSaveRawString(r, lp, lpBytes(lp));
    }
    hashtable *ht = objectGetVal(o);
    ssize_t total = 0;
    RDB_ADD(total, rdbSaveLen(r, hashtableSize(ht)));
    hashtableIterator it;
    hashtableInitIterator(&it, ht);
    void *entry;
    while (hashtableNext(&it, &entry)) {
        sds member = entry;
        ssize_t n = rdbSaveRawString(r, (unsigned char *)member, sdslen(member));
        if (n == -1) {
            hashtableResetIterator(&it);
            return -1;
        }
        total += n;
    }
    hashtableResetIterator(&it);
    return total;
}

static ssize_t rdbSaveZset(rio *r, robj *o) {
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = objectGetVal(o);
        return rdbSaveRawString(r, lp, lpBytes(lp));
    }
    /* From the highest score down: loading then always inserts at the head of the
     * skiplist, the cheapest place. */
    zset *zs = objectGetVal(o);
    ssize_t total = 0;
    RDB_ADD(total, rdbSaveLen(r, zs->zsl->length));
    for (zskiplistNode *node = zs->zsl->tail; node; node = node->backward) {
        RDB_ADD(total, rdbSaveRawString(r, (unsigned char *)node->ele, sdslen(node->ele)));
        if (rdbSaveBinaryDoubleValue(r, node->score) == -1) return -1;
        total += 8;
    }
    return total;
}

static ssize_t rdbSaveHash(rio *r, robj *o) {
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = objectGetVal(o);
        return rdbSaveRawString(r, lp, lpBytes(lp));
    }
    ssize_t total = 0;
    RDB_ADD(total, rdbSaveLen(r, hashTypeLength(o)));
    hashTypeIterator hi;
    hashTypeItem field, value;
    hashTypeInitIterator(o, &hi);
    while (hashTypeNext(&hi, &field, &value)) {
        ssize_t n1 = rdbSaveRawString(r, (const unsigned char *)field.str, field.len);
        ssize_t n2 = n1 == -1 ? -1 : rdbSaveRawString(r, (const unsigned char *)value.str, value.len);
        if (n2 == -1) {
            hashTypeResetIterator(&hi);
            return -1;
        }
        total += n1 + n2;
    }
    hashTypeResetIterator(&hi);
    return total;
}

ssize_t rdbSaveObject(rio *r, robj *o, robj *key, int dbid) {
    (void)key;
    (void)dbid;
    if (o->cold) return tierSaveColdValue(r, o); /* the record holds this very encoding */
    if (value_codecs[o->encoding]) return value_codecs[o->encoding]->save(r, o);
    switch (o->type) {
    case OBJ_STRING: return rdbSaveStringObject(r, o);
    case OBJ_LIST: return rdbSaveList(r, o);
    case OBJ_SET: return rdbSaveSet(r, o);
    case OBJ_ZSET: return rdbSaveZset(r, o);
    case OBJ_HASH: return rdbSaveHash(r, o);
    default: return -1;
    }
}

/* Counts the bytes of the encoding by writing it to a rio that only counts. */
static size_t countingWrite(rio *r, const void *buf, size_t len) {
    (void)r;
    (void)buf;
    (void)len;
    return 1;
}

static off_t countingTell(rio *r) {
    return (off_t)r->processed_bytes;
}

static int countingFlush(rio *r) {
    (void)r;
    return 1;
}

ssize_t rdbSavedObjectLen(robj *o, robj *key, int dbid) {
    rio r;
    memset(&r, 0, sizeof(r));
    r.write = countingWrite;
    r.tell = countingTell;
    r.flush = countingFlush;
    ssize_t len = rdbSaveObject(&r, o, key, dbid);
    return len;
}

/* ------------------------------------------------------------------------- */
/* Values: loading                                                             */
/* ------------------------------------------------------------------------- */

/* The RDB version of what is being read: the file's, or a RESTORE payload's. */
static int load_rdbver = RDB_VERSION;

void rdbSetLoadVersion(int rdbver) {
    load_rdbver = rdbver;
}

/* Loaders of module types, by name. */
static struct {
    char name[RDB_MODULE_NAME_LEN + 1];
    rdbModuleTypeLoadProc proc;
} module_loaders[RDB_MAX_MODULE_LOADERS];
static int module_loaders_count;

static const char module_name_charset[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void rdbModuleTypeNameByID(char *name, uint64_t moduleid) {
    name[RDB_MODULE_NAME_LEN] = '\0';
    moduleid >>= 10; /* the low 10 bits are the encoding version */
    for (int j = RDB_MODULE_NAME_LEN - 1; j >= 0; j--) {
        name[j] = module_name_charset[moduleid & 63];
        moduleid >>= 6;
    }
}

int rdbRegisterModuleTypeLoader(const char *name, rdbModuleTypeLoadProc proc) {
    if (strlen(name) != RDB_MODULE_NAME_LEN || module_loaders_count == RDB_MAX_MODULE_LOADERS) return -1;
    for (int j = 0; j < module_loaders_count; j++)
        if (!strcmp(module_loaders[j].name, name)) return -1;
    memcpy(module_loaders[module_loaders_count].name, name, RDB_MODULE_NAME_LEN + 1);
    module_loaders[module_loaders_count].proc = proc;
    module_loaders_count++;
    return 0;
}

static rdbModuleTypeLoadProc findModuleLoader(const char *name) {
    for (int j = 0; j < module_loaders_count; j++)
        if (!strcmp(module_loaders[j].name, name)) return module_loaders[j].proc;
    return NULL;
}

/* Walks (and drops) a module value written with annotations (RDB_TYPE_MODULE_2 and
 * MODULE_AUX payloads) up to its EOF opcode. 0 ok, -1 error. */
static int rdbSkipModuleValue(rio *r, const char *modname) {
    uint64_t opcode;
    while ((opcode = rdbLoadLen(r, NULL)) != RDB_MODULE_OPCODE_EOF) {
        if (opcode == RDB_LENERR) return -1;
        if (opcode == RDB_MODULE_OPCODE_SINT || opcode == RDB_MODULE_OPCODE_UINT) {
            if (rdbLoadLen(r, NULL) == RDB_LENERR) return -1;
        } else if (opcode == RDB_MODULE_OPCODE_STRING) {
            void *s = rdbGenericLoadStringObject(r, RDB_LOAD_PLAIN, NULL);
            if (!s) return -1;
            zfree(s);
        } else if (opcode == RDB_MODULE_OPCODE_FLOAT) {
            float f;
            if (rdbLoadBinaryFloatValue(r, &f) == -1) return -1;
        } else if (opcode == RDB_MODULE_OPCODE_DOUBLE) {
            double d;
            if (rdbLoadBinaryDoubleValue(r, &d) == -1) return -1;
        } else {
            rdbCorrupt("Unknown module opcode %" PRIu64 " in the value of module '%s'", opcode, modname);
            return -1;
        }
    }
    return 0;
}

/* A loaded quicklist becomes a list object, converted to a listpack when it fits one
 * (what Valkey does after loading). Takes ql. */
static robj *listObjectFromQuicklist(quicklist *ql) {
    robj *o = createObject(OBJ_LIST, ql);
    o->encoding = OBJ_ENCODING_QUICKLIST;
    listTypeTryConversion(o, LIST_CONV_AUTO);
    return o;
}

static quicklist *newLoadQuicklist(void) {
    return quicklistNew(list_max_listpack_size, list_compress_depth);
}

static int legacyToQuicklist(void *ud, const unsigned char *s, size_t slen, long long v) {
    quicklist *ql = ud;
    char buf[LONG_STR_SIZE];
    if (!s) {
        slen = (size_t)ll2string(buf, sizeof(buf), v);
        s = (const unsigned char *)buf;
    }
    quicklistPushTail(ql, (void *)s, slen);
    return 1;
}

#define LOAD_FAIL(code)                                                                                                \
    do {                                                                                                               \
        *error = (code);                                                                                               \
        goto fail;                                                                                                     \
    } while (0)

/* Checks a collection length read from the stream: every element takes at least
 * min_bytes, so a count the stream cannot hold is corrupt. */
static int rdbLoadCount(rio *r, uint64_t *len, uint64_t min_bytes) {
    if ((*len = rdbLoadLen(r, NULL)) == RDB_LENERR) return -1;
    if (*len > UINT64_MAX / min_bytes) {
        rdbCorrupt("Impossible element count %" PRIu64, *len);
        return -1;
    }
    return rdbLengthPlausible(r, *len * min_bytes) ? 0 : -1;
}

static robj *rdbLoadListValue(int rdbtype, rio *r, int flags, int *error) {
    uint64_t len;
    quicklist *ql = NULL;
    unsigned char *data = NULL;
    robj *ele = NULL;
    if (rdbLoadCount(r, &len, 1) == -1) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
    if (len == 0) LOAD_FAIL(RDB_LOAD_ERR_EMPTY_KEY);
    ql = newLoadQuicklist();
    if (rdbtype == RDB_TYPE_LIST) {
        while (len--) {
            if ((ele = rdbLoadEncodedStringObject(r)) == NULL) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
            char buf[LONG_STR_SIZE];
            size_t elen;
            const char *p = stringObjectBytes(ele, buf, &elen);
            quicklistPushTail(ql, (void *)p, elen);
            decrRefCount(ele);
            ele = NULL;
        }
        return listObjectFromQuicklist(ql);
    }
    while (len--) {
        uint64_t container = QUICKLIST_NODE_CONTAINER_PACKED;
        size_t encoded_len;
        if (rdbtype == RDB_TYPE_LIST_QUICKLIST_2) {
            if ((container = rdbLoadLen(r, NULL)) == RDB_LENERR) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
            if (container != QUICKLIST_NODE_CONTAINER_PACKED && container != QUICKLIST_NODE_CONTAINER_PLAIN) {
                rdbCorrupt("Quicklist integrity check failed.");
                LOAD_FAIL(RDB_LOAD_ERR_OTHER);
            }
        }
        if ((data = rdbGenericLoadStringObject(r, RDB_LOAD_PLAIN, &encoded_len)) == NULL)
            LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        if (encoded_len == 0) {
            rdbCorrupt("Quicklist node of zero length");
            LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        }
        if (container == QUICKLIST_NODE_CONTAINER_PLAIN) {
            quicklistAppendPlainNode(ql, data, encoded_len);
            data = NULL;
            continue;
        }
        unsigned char *lp;
        if (rdbtype == RDB_TYPE_LIST_QUICKLIST_2) {
            if (!lpValidateBlob(data, encoded_len, flags, 0)) {
                rdbCorrupt("Listpack integrity check failed.");
                LOAD_FAIL(RDB_LOAD_ERR_OTHER);
            }
            lp = data;
        } else {
            lp = lpNew(encoded_len);
            if (!ziplistWalk(data, encoded_len, legacyToListpack, &lp)) {
                lpFree(lp);
                rdbCorrupt("Ziplist integrity check failed.");
                LOAD_FAIL(RDB_LOAD_ERR_OTHER);
            }
            zfree(data);
            lp = lpShrinkToFit(lp);
        }
        data = NULL;
        quicklistAppendListpack(ql, lp); /* drops an empty node */
    }
    if (quicklistCount(ql) == 0) LOAD_FAIL(RDB_LOAD_ERR_EMPTY_KEY);
    return listObjectFromQuicklist(ql);
fail:
    if (ele) decrRefCount(ele);
    zfree(data);
    if (ql) quicklistRelease(ql);
    return NULL;
}

static robj *rdbLoadListZiplist(rio *r, int *error) {
    size_t encoded_len;
    unsigned char *data = rdbGenericLoadStringObject(r, RDB_LOAD_PLAIN, &encoded_len);
    if (!data) {
        *error = RDB_LOAD_ERR_OTHER;
        return NULL;
    }
    quicklist *ql = newLoadQuicklist();
    int ok = ziplistWalk(data, encoded_len, legacyToQuicklist, ql);
    zfree(data);
    if (!ok) {
        quicklistRelease(ql);
        rdbCorrupt("List ziplist integrity check failed.");
        *error = RDB_LOAD_ERR_OTHER;
        return NULL;
    }
    if (quicklistCount(ql) == 0) {
        quicklistRelease(ql);
        *error = RDB_LOAD_ERR_EMPTY_KEY;
        return NULL;
    }
    return listObjectFromQuicklist(ql);
}

static robj *rdbLoadSetValue(rio *r, int *error) {
    uint64_t len;
    robj *o = NULL;
    if (rdbLoadCount(r, &len, 1) == -1) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
    if (len == 0) LOAD_FAIL(RDB_LOAD_ERR_EMPTY_KEY);
    for (uint64_t i = 0; i < len; i++) {
        sds ele = rdbGenericLoadStringObject(r, RDB_LOAD_SDS, NULL);
        if (!ele) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        if (!o) o = setTypeCreate(ele, sdslen(ele), len);
        if (!setTypeAddSds(o, ele)) {
            rdbCorrupt("Duplicate set members detected");
            LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        }
    }
    return o;
fail:
    if (o) decrRefCount(o);
    return NULL;
}

static robj *rdbLoadZsetValue(int rdbtype, rio *r, int *error) {
    uint64_t len;
    robj *o = NULL;
    sds ele = NULL;
    size_t maxelelen = 0, totelelen = 0;
    if (rdbLoadCount(r, &len, 2) == -1) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
    if (len == 0) LOAD_FAIL(RDB_LOAD_ERR_EMPTY_KEY);
    o = createZsetObject();
    hashtable *members = ((zset *)objectGetVal(o))->ht;
    hashtableExpand(members, len);
    /* Kept at its final size: the first insert would otherwise shrink it back. */
    hashtablePauseAutoShrink(members);
    while (len--) {
        double score;
        if ((ele = rdbGenericLoadStringObject(r, RDB_LOAD_SDS, NULL)) == NULL) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        int rc = rdbtype == RDB_TYPE_ZSET_2 ? rdbLoadBinaryDoubleValue(r, &score) : rdbLoadDoubleValue(r, &score);
        if (rc == -1) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        if (isnan(score)) {
            rdbCorrupt("Zset with NAN score detected");
            LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        }
        if (sdslen(ele) > maxelelen) maxelelen = sdslen(ele);
        totelelen += sdslen(ele);
        int out = 0;
        zsetAdd(o, score, ele, ZADD_IN_NX, &out, NULL);
        if (!(out & ZADD_OUT_ADDED)) {
            rdbCorrupt("Duplicate zset fields detected");
            LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        }
        sdsfree(ele);
        ele = NULL;
    }
    hashtableResumeAutoShrink(members);
    zsetConvertToListpackIfNeeded(o, maxelelen, totelelen);
    return o;
fail:
    sdsfree(ele);
    if (o) decrRefCount(o); /* a paused table is freed all the same */
    return NULL;
}

/* Plain hashes; with_expire: Valkey 9's HASH_2, each field followed by its expire
 * time (-1 for none). Fields already expired are dropped; the others lose their TTL. */
static robj *rdbLoadHashValue(rio *r, int with_expire, int *error) {
    uint64_t len;
    robj *o = NULL;
    sds field = NULL, value = NULL;
    long long now = mstime();
    if (rdbLoadCount(r, &len, 2) == -1) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
    if (len == 0) LOAD_FAIL(RDB_LOAD_ERR_EMPTY_KEY);
    o = createHashObject();
    hashTypeReserve(o, len);
    /* A pre-sized table keeps its size: the first insert would otherwise shrink it back. */
    hashtable *fields = o->encoding == OBJ_ENCODING_HT ? objectGetVal(o) : NULL;
    if (fields) hashtablePauseAutoShrink(fields);
    while (len--) {
        if ((field = rdbGenericLoadStringObject(r, RDB_LOAD_SDS, NULL)) == NULL) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        if ((value = rdbGenericLoadStringObject(r, RDB_LOAD_SDS, NULL)) == NULL) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        long long expire = -1;
        if (with_expire) {
            expire = rdbLoadMillisecondTime(r, load_rdbver);
            if (rioGetReadError(r)) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        }
        /* One lookup: hashTypeSet says when the field was there already (the value it
         * then overwrote goes away with the whole object). */
        if ((expire == -1 || expire > now) && hashTypeSet(o, field, value, sdslen(value))) {
            rdbCorrupt("Duplicate hash fields detected");
            LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        }
        sdsfree(field);
        sdsfree(value);
        field = value = NULL;
    }
    if (fields) hashtableResumeAutoShrink(fields);
    if (hashTypeLength(o) == 0) LOAD_FAIL(RDB_LOAD_ERR_EMPTY_KEY);
    return o;
fail:
    sdsfree(field);
    sdsfree(value);
    if (o) decrRefCount(o);
    return NULL;
}

/* Values stored as one blob: intsets, listpacks, ziplists, zipmaps. */
static robj *rdbLoadBlobValue(int rdbtype, rio *r, int flags, int *error) {
    size_t encoded_len;
    int deep = flags & RDB_LOAD_DEEP_SANITIZE;
    unsigned char *blob = rdbGenericLoadStringObject(r, RDB_LOAD_PLAIN, &encoded_len);
    unsigned char *lp = NULL;
    robj *o = NULL;
    if (!blob) LOAD_FAIL(RDB_LOAD_ERR_OTHER);
    switch (rdbtype) {
    case RDB_TYPE_SET_INTSET:
        if (deep) server.stat_dump_payload_sanitizations++;
        if (!intsetValidateIntegrity(blob, encoded_len, deep)) {
            rdbCorrupt("Intset integrity check failed.");
            LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        }
        o = setTypeCreateFromIntset(blob);
        blob = NULL;
        if (intsetLen(objectGetVal(o)) > set_config.max_intset_entries) setTypeConvert(o, OBJ_ENCODING_HT);
        return o;
    case RDB_TYPE_SET_LISTPACK:
        if (!lpValidateBlob(blob, encoded_len, flags, 0)) {
            rdbCorrupt("Set listpack integrity check failed.");
            LOAD_FAIL(RDB_LOAD_ERR_OTHER);
        }
        if (lpLength(blob) == 0) LOAD_FAIL(RDB_LOAD_ERR_EMPTY_KEY);
        o = setTypeCreateFromListpack(blob);
        blob = NULL;
        if (setTypeSize(o) > set_config.max_listpack_entries) setTypeConvert(o, OBJ_ENCODING_HT);
        return o;
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK:
        if (rdbtype == RDB_TYPE_ZSET_ZIPLIST) {
            lp = lpNew(encoded_len);
            if (!ziplistWalk(blob, encoded_len, legacyToListpack, &lp) ||
                !zsetListpackValidateIntegrity(lp, lpBytes(lp), 1)) {
                rdbCorrupt("Zset ziplist integrity check failed.");
                LOAD_FAIL(RDB_LOAD_ERR_OTHER);
            }
            zfree(blob);
        } else {
            int valid;
            if (deep) {
                server.stat_dump_payload_sanitizations++;
                valid = encoded_len >= 7 && zsetListpackValidateIntegrity(blob, encoded_len, 1);
            } else {
                valid = lpValidateBlob(blob, encoded_len, flags, 1);
            }
            if (!valid) {
                rdbCorrupt("Zset listpack integrity check failed.");
                LOAD_FAIL(RDB_LOAD_ERR_OTHER);
            }
            lp = blob;
        }
        blob = NULL;
        if (lpLength(lp) == 0) LOAD_FAIL(RDB_LOAD_ERR_EMPTY_KEY);
        o = createObject(OBJ_ZSET, lp);
        o->encoding = OBJ_ENCODING_LISTPACK;
        lp = NULL;
        if (zsetLength(o) > zset_max_listpack_entries) zsetConvert(o, OBJ_ENCODING_SKIPLIST);
        else objectSetVal(o, lpShrinkToFit(objectGetVal(o)));
        return o;
    case RDB_TYPE_HASH_ZIPMAP:
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_HASH_LISTPACK:
        if (rdbtype == RDB_TYPE_HASH_LISTPACK) {
            if (!lpValidateBlob(blob, encoded_len, flags, 1)) {
                rdbCorrupt("Hash listpack integrity check failed.");
                LOAD_FAIL(RDB_LOAD_ERR_OTHER);
            }
            lp = blob;
        } else {
            lp = lpNew(encoded_len);
            int walked = rdbtype == RDB_TYPE_HASH_ZIPMAP ? zipmapWalk(blob, encoded_len, legacyToListpack, &lp)
                                                          : ziplistWalk(blob, encoded_len, legacyToListpack, &lp);
            if (!walked || !lpValidateIntegrityAndDups(lp, lpBytes(lp), 1, 1)) {
                rdbCorrupt(rdbtype == RDB_TYPE_HASH_ZIPMAP ? "Zipmap integrity check failed."
                                                           : "Hash ziplist integrity check failed.");
                LOAD_FAIL(RDB_LOAD_ERR_OTHER);
            }
            zfree(blob);
        }
        blob = NULL;
        if (lpLength(lp) == 0) LOAD_FAIL(RDB_LOAD_ERR_EMPTY_KEY);
        o = createHashObjectFromListpack(lp);
        return o;
    default: break;
    }
    rdbCorrupt("Unknown RDB encoding type %d", rdbtype);
    *error = RDB_LOAD_ERR_UNKNOWN_TYPE;
fail:
    zfree(blob);
    if (lp) lpFree(lp);
    return NULL;
}

static robj *rdbLoadModuleValue(int rdbtype, rio *r, sds key, int *error) {
    uint64_t moduleid = rdbLoadLen(r, NULL);
    if (moduleid == RDB_LENERR) {
        *error = RDB_LOAD_ERR_OTHER;
        return NULL;
    }
    char name[RDB_MODULE_NAME_LEN + 1];
    rdbModuleTypeNameByID(name, moduleid);
    rdbModuleTypeLoadProc proc = findModuleLoader(name);
    if (!proc || rdbtype == RDB_TYPE_MODULE_PRE_GA) {
        rdbCorrupt("The RDB file contains module data I can't load: no matching module type '%s'", name);
        *error = RDB_LOAD_ERR_UNKNOWN_TYPE;
        return NULL;
    }
    robj *o = proc(r, (int)(moduleid & 1023), key, error);
    if (!o) {
        /* A valid empty value is skipped like a native one; it still ends with its EOF. */
        if (*error == RDB_LOAD_ERR_EMPTY_KEY && rdbLoadLen(r, NULL) == RDB_MODULE_OPCODE_EOF) return NULL;
        if (!*error || *error == RDB_LOAD_ERR_EMPTY_KEY) *error = RDB_LOAD_ERR_OTHER;
        rdbCorrupt("Module type '%s' failed to load a value", name);
        return NULL;
    }
    uint64_t eof = rdbLoadLen(r, NULL);
    if (eof != RDB_MODULE_OPCODE_EOF) {
        rdbCorrupt("The RDB file contains module data for the module type '%s', that the responsible module "
                   "did not consume entirely",
                   name);
        decrRefCount(o);
        *error = RDB_LOAD_ERR_OTHER;
        return NULL;
    }
    return o;
}

robj *rdbLoadObject(int rdbtype, rio *r, sds key, int dbid, int flags, int *error) {
    (void)dbid;
    int dummy;
    if (!error) error = &dummy;
    *error = 0;
    robj *o = NULL;
    switch (rdbtype) {
    case RDB_TYPE_STRING:
        o = rdbLoadEncodedStringObject(r);
        if (!o) *error = RDB_LOAD_ERR_OTHER;
        else o = tryObjectEncoding(o);
        return o;
    case RDB_TYPE_LIST:
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2: return rdbLoadListValue(rdbtype, r, flags, error);
    case RDB_TYPE_LIST_ZIPLIST: return rdbLoadListZiplist(r, error);
    case RDB_TYPE_SET: return rdbLoadSetValue(r, error);
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2: return rdbLoadZsetValue(rdbtype, r, error);
    case RDB_TYPE_HASH: return rdbLoadHashValue(r, 0, error);
    case RDB_TYPE_HASH_2:
        if (load_rdbver >= RDB_VERSION_VALKEY9) return rdbLoadHashValue(r, 1, error);
        break;
    case RDB_TYPE_SET_INTSET:
    case RDB_TYPE_SET_LISTPACK:
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK:
    case RDB_TYPE_HASH_ZIPMAP:
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_HASH_LISTPACK: return rdbLoadBlobValue(rdbtype, r, flags, error);
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
    case RDB_TYPE_STREAM_LISTPACKS_3:
        rdbCorrupt("Can't load streams yet");
        *error = RDB_LOAD_ERR_UNKNOWN_TYPE;
        return NULL;
    case RDB_TYPE_MODULE_PRE_GA:
    case RDB_TYPE_MODULE_2: return rdbLoadModuleValue(rdbtype, r, key, error);
    default: break;
    }
    rdbCorrupt("Unknown RDB encoding type %d", rdbtype);
    *error = RDB_LOAD_ERR_UNKNOWN_TYPE;
    return NULL;
}

int rdbLoadObjectType(rio *r) {
    int type = rdbLoadType(r);
    if (type == -1) return -1;
    if (!rdbIsObjectType(type, load_rdbver)) {
        rdbCorrupt("Unknown RDB encoding type %d", type);
        return -1;
    }
    return type;
}

int objectSetLRUOrLFU(robj *val, long long lfu_freq, long long lru_idle, long long lru_clock, int lru_multiplier) {
    if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
        if (lfu_freq >= 0) {
            if (lfu_freq > 255) lfu_freq = 255;
            val->lru = (unsigned)((LFUGetTimeInMinutes() << 8) | (unsigned long)lfu_freq);
            return 1;
        }
    } else if (lru_idle >= 0) {
        lru_idle = (long long)((__int128)lru_idle * lru_multiplier / LRU_CLOCK_RESOLUTION);
        long long lru_abs = lru_clock - lru_idle % (LRU_CLOCK_MAX + 1);
        /* The LRU clock wraps: an access before the wrap is near the top. */
        if (lru_abs < 0) lru_abs += LRU_CLOCK_MAX;
        val->lru = (unsigned)(lru_abs & LRU_CLOCK_MAX);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Datasets: saving                                                            */
/* ------------------------------------------------------------------------- */

static int in_child = 0; /* this process is a background save child */
static void childReportProgress(long long keys, int final);

static ssize_t rdbSaveAuxField(rio *r, const char *key, const char *val, size_t vlen) {
    ssize_t total = 0;
    RDB_ADD(total, rdbSaveType(r, RDB_OPCODE_AUX));
    RDB_ADD(total, rdbSaveRawString(r, (const unsigned char *)key, strlen(key)));
    RDB_ADD(total, rdbSaveRawString(r, (const unsigned char *)val, vlen));
    return total;
}

static ssize_t rdbSaveAuxFieldStrStr(rio *r, const char *key, const char *val) {
    return rdbSaveAuxField(r, key, val, strlen(val));
}

static ssize_t rdbSaveAuxFieldStrInt(rio *r, const char *key, long long val) {
    char buf[LONG_STR_SIZE];
    int len = ll2string(buf, sizeof(buf), val);
    return rdbSaveAuxField(r, key, buf, (size_t)len);
}

static int rdbSaveInfoAuxFields(rio *r, int rdbflags) {
    int bits = (int)(sizeof(void *) * 8);
    int aof_base = (rdbflags & RDBFLAGS_AOF_PREAMBLE) != 0;
    if (rdbSaveAuxFieldStrStr(r, "valkey-ver", VALKEY_VERSION) == -1) return -1;
    if (rdbSaveAuxFieldStrStr(r, "redis-ver", RDB_REDIS_COMPAT_VERSION) == -1) return -1;
    if (rdbSaveAuxFieldStrInt(r, "redis-bits", bits) == -1) return -1;
    if (rdbSaveAuxFieldStrInt(r, "ctime", (long long)time(NULL)) == -1) return -1;
    if (rdbSaveAuxFieldStrInt(r, "used-mem", (long long)zmalloc_used_memory()) == -1) return -1;
    if (rdbSaveAuxFieldStrInt(r, "aof-base", aof_base) == -1) return -1;
    rdbReplInfo ri;
    if (replicationRdbSaveInfo(&ri)) {
        if (rdbSaveAuxFieldStrInt(r, "repl-stream-db", ri.stream_db) == -1) return -1;
        if (rdbSaveAuxFieldStrStr(r, "repl-id", ri.replid) == -1) return -1;
        if (rdbSaveAuxFieldStrInt(r, "repl-offset", ri.offset) == -1) return -1;
    }
    return 0;
}

/* Function libraries (functions.c) when it is linked. Without it, the FUNCTION2
 * payloads read from a file are kept verbatim and written back. */
void functionsForEachLibraryCode(void (*proc)(void *privdata, sds code), void *privdata) __attribute__((weak));
int functionsLoadLibraryCode(sds code, int replace, sds *err) __attribute__((weak));
void functionsFlushAll(void) __attribute__((weak));

typedef struct functionSaveState {
    rio *r;
    int failed;
} functionSaveState;

static void rdbSaveOneFunction(void *privdata, sds code) {
    functionSaveState *st = privdata;
    if (st->failed) return;
    if (rdbSaveType(st->r, RDB_OPCODE_FUNCTION2) == -1 ||
        rdbSaveRawString(st->r, (unsigned char *)code, sdslen(code)) == -1)
        st->failed = 1;
}

static int rdbSaveFunctions(rio *r) {
    functionSaveState st = {r, 0};
    if (functionsForEachLibraryCode) {
        functionsForEachLibraryCode(rdbSaveOneFunction, &st);
    } else {
        for (int j = 0; j < rdb_state.nfunctions; j++) rdbSaveOneFunction(&st, rdb_state.functions[j]);
    }
    return st.failed ? -1 : 0;
}

static void clearPreservedFunctions(void) {
    for (int j = 0; j < rdb_state.nfunctions; j++) sdsfree(rdb_state.functions[j]);
    zfree(rdb_state.functions);
    rdb_state.functions = NULL;
    rdb_state.nfunctions = 0;
}

/* rdb-key-save-delay / key-load-delay (tests): microseconds per key; a negative value
 * -N sleeps one microsecond for one key in N on average, for delays below a sleep's
 * own cost. */
static void rdbKeyDelay(int usec) {
    if (usec < 0) usec = (rand() % -usec) == 0 ? 1 : 0;
    if (usec) debugDelay(usec);
}

/* Expire, LRU/LFU hint (when the eviction policy uses them), type, key, value. */
static int rdbSaveKeyValuePair(rio *r, sds key, robj *val, long long expire, int dbid) {
    if (expire != -1) {
        if (rdbSaveType(r, RDB_OPCODE_EXPIRETIME_MS) == -1) return -1;
        if (rdbSaveMillisecondTime(r, expire) == -1) return -1;
    }
    if (server.maxmemory_policy & MAXMEMORY_FLAG_LRU) {
        uint64_t idle_seconds = estimateObjectIdleTime(val) / 1000;
        if (rdbSaveType(r, RDB_OPCODE_IDLE) == -1) return -1;
        if (rdbSaveLen(r, idle_seconds) == -1) return -1;
    }
    if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
        unsigned char freq = (unsigned char)LFUDecrAndReturn(val);
        if (rdbSaveType(r, RDB_OPCODE_FREQ) == -1) return -1;
        if (rdbWriteRaw(r, &freq, 1) == -1) return -1;
    }
    if (rdbSaveObjectType(r, val) == -1) return -1;
    if (rdbSaveRawString(r, (unsigned char *)key, sdslen(key)) == -1) return -1;
    if (rdbSaveObject(r, val, NULL, dbid) == -1) return -1;
    if (rdb_conf.key_save_delay) rdbKeyDelay(rdb_conf.key_save_delay);
    return 1;
}

typedef struct rdbSaveDbState {
    rio *r;
    int dbid;
    long long *keys_saved;
} rdbSaveDbState;

static int rdbSaveDbEntry(robj *o, void *privdata) {
    rdbSaveDbState *st = privdata;
    if (o->cold && tierColdValueCorrupt(o)) return 0; /* left out: see tierColdValueCorrupt */
    if (rdbSaveKeyValuePair(st->r, objectGetKey(o), o, objectGetExpire(o), st->dbid) == -1) return -1;
    (*st->keys_saved)++;
    if (in_child && (*st->keys_saved % RDB_CHILD_INFO_KEYS_STEP) == 0) childReportProgress(*st->keys_saved, 0);
    return 0;
}

static int rdbSaveDb(rio *r, int dbid, long long *keys_saved) {
    serverDb *db = &server.db[dbid];
    if (hashtableSize(db->keys) == 0) return 0;
    if (rdbSaveType(r, RDB_OPCODE_SELECTDB) == -1 || rdbSaveLen(r, (uint64_t)dbid) == -1) return -1;
    if (rdbSaveType(r, RDB_OPCODE_RESIZEDB) == -1 || rdbSaveLen(r, hashtableSize(db->keys)) == -1 ||
        rdbSaveLen(r, hashtableSize(db->expires)) == -1)
        return -1;
    rdbSaveDbState st = {r, dbid, keys_saved};
    return tierForEachEntryColdLast(db, rdbSaveDbEntry, &st);
}

int rdbSaveRio(rio *r, int rdbflags, int *error) {
    char magic[16];
    long long keys_saved = 0;
    if (rdb_conf.checksum) r->update_cksum = rioGenericUpdateChecksum;
    snprintf(magic, sizeof(magic), "REDIS%04d", RDB_VERSION);
    if (rdbWriteRaw(r, magic, 9) == -1) goto werr;
    if (rdbSaveInfoAuxFields(r, rdbflags) == -1) goto werr;
    if (rdbSaveFunctions(r) == -1) goto werr;
    for (int j = 0; j < server.dbnum; j++)
        if (rdbSaveDb(r, j, &keys_saved) == -1) goto werr;
    if (rdbSaveType(r, RDB_OPCODE_EOF) == -1) goto werr;
    /* The checksum covers everything before it; 0 when checksums are disabled. */
    uint64_t cksum = htole64(r->cksum);
    if (rdbWriteRaw(r, &cksum, 8) == -1) goto werr;
    if (in_child) childReportProgress(keys_saved, 0);
    return C_OK;
werr:
    if (error) *error = errno;
    return C_ERR;
}

/* Makes a rename durable: the directory entry is synced too. */
static void fsyncFileDir(const char *filename) {
    char *copy = zstrdup(filename);
    char *slash = strrchr(copy, '/');
    const char *dir = ".";
    if (slash) {
        *slash = '\0';
        dir = copy[0] ? copy : "/";
    }
    int fd = open(dir, O_RDONLY);
    if (fd != -1) {
        if (fsync(fd) == -1) serverLog(LL_WARNING, "Failed to fsync the directory %s: %s", dir, strerror(errno));
        close(fd);
    }
    zfree(copy);
}

static void cwdForLog(char *buf, size_t len) {
    if (!getcwd(buf, len)) snprintf(buf, len, "unknown");
}

/* Writes the dataset to temp-<pid>.rdb and renames it over filename. */
static int rdbSaveToFile(const char *filename, int rdbflags) {
    char tmpfile[64], cwd[PATH_MAX];
    snprintf(tmpfile, sizeof(tmpfile), "temp-%d.rdb", (int)getpid());
    FILE *fp = fopen(tmpfile, "w");
    if (!fp) {
        cwdForLog(cwd, sizeof(cwd));
        serverLog(LL_WARNING, "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmpfile,
                  cwd, strerror(errno));
        return C_ERR;
    }
    rio r;
    rioInitWithFile(&r, fp);
    rioSetWriteBuffer(&r, RIO_WRITE_BUFFER_SIZE);
    if (rdb_conf.incremental_fsync) rioSetAutoSync(&r, RDB_AUTOSYNC_BYTES);
    int error = 0;
    if (rdbSaveRio(&r, rdbflags, &error) == C_ERR) {
        errno = error;
        goto werr;
    }
    if (fflush(fp) != 0 || fsync(fileno(fp)) == -1) goto werr;
    if (fclose(fp) != 0) {
        fp = NULL;
        goto werr;
    }
    fp = NULL;
    if (rename(tmpfile, filename) == -1) {
        int err = errno;
        cwdForLog(cwd, sizeof(cwd));
        serverLog(LL_WARNING, "Error moving temp DB file %s on the final destination %s (in server root dir %s): %s",
                  tmpfile, filename, cwd, strerror(err));
        unlink(tmpfile);
        return C_ERR;
    }
    fsyncFileDir(filename);
    return C_OK;
werr:
    serverLog(LL_WARNING, "Write error saving DB on disk: %s", strerror(errno));
    if (fp) fclose(fp);
    unlink(tmpfile);
    return C_ERR;
}

int rdbSave(const char *filename, int rdbflags) {
    if (rdbSaveToFile(filename, rdbflags) != C_OK) return C_ERR;
    serverLog(LL_NOTICE, "DB saved on disk");
    server.dirty = 0;
    server.lastsave = time(NULL);
    server.lastbgsave_status = C_OK;
    return C_OK;
}

/* ------------------------------------------------------------------------- */
/* Datasets: loading                                                           */
/* ------------------------------------------------------------------------- */

void startLoading(size_t size, int async) {
    (void)async;
    server.loading = 1;
    rdb_state.loading_start_time = time(NULL);
    rdb_state.loading_total_bytes = size;
    rdb_state.loading_loaded_bytes = 0;
    rdb_state.loading_rdb_used_mem = 0;
    rdb_state.loading_next_event_at = (size_t)rdb_conf.loading_events_interval;
}

void stopLoading(int success) {
    (void)success;
    server.loading = 0;
}

/* While a file loads, clients are served every loading-process-events-interval-bytes
 * (they get -LOADING for most commands; INFO shows the progress). */
static void rdbLoadProgress(rio *r, size_t processed) {
    (void)r;
    rdb_state.loading_loaded_bytes = processed;
    if (processed < rdb_state.loading_next_event_at || !server.el) return;
    rdb_state.loading_next_event_at = processed + (size_t)rdb_conf.loading_events_interval;
    updateCachedTime(0);
    processEventsWhileBlocked();
}

/* The replication fields of the file being loaded, and which of the three it had. */
#define REPL_AUX_ID 1
#define REPL_AUX_OFFSET 2
#define REPL_AUX_DB 4
#define REPL_AUX_ALL (REPL_AUX_ID | REPL_AUX_OFFSET | REPL_AUX_DB)
static rdbReplInfo loaded_repl;
static int loaded_repl_seen;

const rdbReplInfo *rdbLoadedReplInfo(void) {
    return &loaded_repl;
}

static void rdbLoadReplAuxField(sds key, sds val) {
    long long v;
    if (!strcasecmp(key, "repl-id")) {
        if (sdslen(val) != RDB_REPL_ID_LEN) return;
        memcpy(loaded_repl.replid, val, RDB_REPL_ID_LEN + 1);
        loaded_repl_seen |= REPL_AUX_ID;
    } else if (!strcasecmp(key, "repl-offset")) {
        if (!string2ll(val, sdslen(val), &v)) return;
        loaded_repl.offset = v;
        loaded_repl_seen |= REPL_AUX_OFFSET;
    } else {
        if (!string2ll(val, sdslen(val), &v) || v < 0 || v > INT_MAX) return;
        loaded_repl.stream_db = (int)v;
        loaded_repl_seen |= REPL_AUX_DB;
    }
    loaded_repl.valid = loaded_repl_seen == REPL_AUX_ALL;
}

/* Logs what the file says about itself. The producer is logged once: Valkey writes
 * valkey-ver first and redis-ver (its compatibility version) after it. */
static void rdbLoadAuxField(sds key, sds val, int check_only, int *producer_logged) {
    if (!strcasecmp(key, "redis-ver") || !strcasecmp(key, "valkey-ver")) {
        if (!check_only && !*producer_logged)
            serverLog(LL_NOTICE, "Loading RDB produced by %s version %s", key[0] == 'v' ? "valkey" : "redis", val);
        *producer_logged = 1;
    } else if (!strcasecmp(key, "ctime")) {
        long long ctime;
        if (string2ll(val, sdslen(val), &ctime) && !check_only) {
            long long age = (long long)time(NULL) - ctime;
            if (age < 0) age = 0;
            serverLog(LL_NOTICE, "RDB age %lld seconds", age);
        }
    } else if (!strcasecmp(key, "used-mem")) {
        long long used;
        if (string2ll(val, sdslen(val), &used)) {
            rdb_state.loading_rdb_used_mem = (size_t)used;
            if (!check_only)
                serverLog(LL_NOTICE, "RDB memory usage when created %.2f Mb", (double)used / (1024 * 1024));
        }
    } else if (!strcasecmp(key, "repl-id") || !strcasecmp(key, "repl-offset") || !strcasecmp(key, "repl-stream-db")) {
        if (!check_only) rdbLoadReplAuxField(key, val);
    } else if (!strcasecmp(key, "aof-preamble") || !strcasecmp(key, "aof-base") || !strcasecmp(key, "redis-bits") ||
               !strcasecmp(key, "lua")) {
        /* Known and of no use here (old script caches). */
    } else if (!check_only) {
        serverLog(LL_DEBUG, "Unrecognized RDB AUX field: '%s'", key);
    }
}

/* "REDIS" + four digits (versions 1..11), or "VALKEY" + three (80). */
static int rdbCheckMagic(const char *buf, int *rdbver) {
    char digits[5];
    if (!memcmp(buf, "REDIS", 5)) {
        memcpy(digits, buf + 5, 4);
        digits[4] = '\0';
    } else if (!memcmp(buf, "VALKEY", 6)) {
        memcpy(digits, buf + 6, 3);
        digits[3] = '\0';
    } else {
        rdbCorrupt("Wrong signature trying to load DB from file");
        return -1;
    }
    long long v = 0;
    for (const char *d = digits; *d; d++) v = *d >= '0' && *d <= '9' && v >= 0 ? v * 10 + (*d - '0') : -1;
    *rdbver = (int)v;
    int redis_magic = buf[0] == 'R';
    if ((redis_magic && (v < 1 || v > RDB_VERSION)) || (!redis_magic && v != RDB_VERSION_VALKEY9)) {
        rdbCorrupt("Can't handle RDB format version %lld", v);
        return -1;
    }
    return 0;
}

/* The state of one file walk. Opcodes before a key (expire, LRU/LFU hints) apply to
 * that key only. */
typedef struct loadCtx {
    rio *r;
    int rdbflags;
    int check_only;
    rdbLoadStats *stats;
    const rdbLoadObserver *obs;
    int rdbver;
    int dbid;
    int producer_logged;
    long long expire, lfu_freq, lru_idle;
    long long empty_keys_skipped;
    long long now, lru_clock;
} loadCtx;

static void observeStep(loadCtx *ctx, const char *what) {
    if (ctx->obs && ctx->obs->on_step) ctx->obs->on_step(ctx->obs->ud, what, (long long)ctx->r->processed_bytes);
}

static int loadSelectDb(loadCtx *ctx) {
    observeStep(ctx, "read-db-number");
    uint64_t id = rdbLoadLen(ctx->r, NULL);
    if (id == RDB_LENERR) return -1;
    if (!ctx->check_only && id >= (uint64_t)server.dbnum) {
        rdbCorrupt("FATAL: Data file was created with a Valkey server configured to handle more than %d "
                   "databases. Exiting",
                   server.dbnum);
        return -1;
    }
    if (id > INT_MAX) {
        rdbCorrupt("Invalid database number %" PRIu64, id);
        return -1;
    }
    ctx->dbid = (int)id;
    ctx->stats->dbs++;
    return 0;
}

/* A sizing hint: never more than the stream could hold (3 bytes a key at least). */
static int loadResizeDb(loadCtx *ctx) {
    observeStep(ctx, "read-resize-db");
    uint64_t db_size, expires_size;
    if ((db_size = rdbLoadLen(ctx->r, NULL)) == RDB_LENERR) return -1;
    if ((expires_size = rdbLoadLen(ctx->r, NULL)) == RDB_LENERR) return -1;
    if (ctx->check_only) return 0;
    off_t left = rioRemaining(ctx->r);
    if (left >= 0 && db_size > (uint64_t)left / 3) db_size = (uint64_t)left / 3;
    if (expires_size > db_size) expires_size = db_size;
    hashtableTryExpand(server.db[ctx->dbid].keys, db_size);
    hashtableTryExpand(server.db[ctx->dbid].expires, expires_size);
    return 0;
}

static int loadAux(loadCtx *ctx) {
    observeStep(ctx, "read-aux");
    robj *auxkey = rdbLoadStringObject(ctx->r), *auxval = auxkey ? rdbLoadStringObject(ctx->r) : NULL;
    if (!auxval) {
        if (auxkey) decrRefCount(auxkey);
        return -1;
    }
    rdbLoadAuxField(objectGetVal(auxkey), objectGetVal(auxval), ctx->check_only, &ctx->producer_logged);
    if (ctx->obs && ctx->obs->on_aux) ctx->obs->on_aux(ctx->obs->ud, objectGetVal(auxkey), objectGetVal(auxval));
    ctx->stats->aux_fields++;
    decrRefCount(auxkey);
    decrRefCount(auxval);
    return 0;
}

/* AUX data of a module: no module system here, so it is walked over (the module
 * opcodes say how long each item is) and dropped with a warning. */
static int loadModuleAux(loadCtx *ctx) {
    observeStep(ctx, "read-module-aux");
    uint64_t moduleid, when_opcode, when;
    if ((moduleid = rdbLoadLen(ctx->r, NULL)) == RDB_LENERR) return -1;
    if ((when_opcode = rdbLoadLen(ctx->r, NULL)) == RDB_LENERR) return -1;
    if ((when = rdbLoadLen(ctx->r, NULL)) == RDB_LENERR) return -1;
    (void)when;
    char name[RDB_MODULE_NAME_LEN + 1];
    rdbModuleTypeNameByID(name, moduleid);
    if (when_opcode != RDB_MODULE_OPCODE_UINT) {
        rdbCorrupt("bad when_opcode in the module aux data of '%s'", name);
        return -1;
    }
    if (rdbSkipModuleValue(ctx->r, name) == -1) return -1;
    if (!ctx->check_only) serverLog(LL_WARNING, "Skipped the AUX data of module '%s': no such module here", name);
    ctx->stats->module_aux++;
    return 0;
}

static int loadFunction(loadCtx *ctx) {
    observeStep(ctx, "read-functions");
    sds code = rdbGenericLoadStringObject(ctx->r, RDB_LOAD_SDS, NULL);
    if (!code) return -1;
    ctx->stats->functions++;
    if (ctx->check_only) {
        sdsfree(code);
    } else if (functionsLoadLibraryCode) {
        sds err = NULL;
        int rc = functionsLoadLibraryCode(code, (ctx->rdbflags & RDBFLAGS_ALLOW_DUP) != 0, &err);
        sdsfree(code);
        if (rc != C_OK) {
            rdbCorrupt("Failed loading library, %s", err ? err : "unknown error");
            sdsfree(err);
            return -1;
        }
    } else {
        rdb_state.functions = zrealloc(rdb_state.functions, sizeof(sds) * (rdb_state.nfunctions + 1));
        rdb_state.functions[rdb_state.nfunctions++] = code;
    }
    return 0;
}

/* Puts a loaded value in its database (or drops it when already expired). Takes key
 * and val. */
static int loadStoreKey(loadCtx *ctx, sds key, robj *val) {
    rdbLoadStats *stats = ctx->stats;
    if (val->type < OBJ_TYPE_MAX) stats->keys_by_type[val->type]++;
    if (ctx->expire != -1) stats->expires++;
    int expired = ctx->expire != -1 && ctx->expire < ctx->now;
    if (ctx->check_only || (expired && !(ctx->rdbflags & (RDBFLAGS_KEEP_EXPIRED | RDBFLAGS_AOF_PREAMBLE)))) {
        /* Already expired keys are dropped by a primary (a replica waits for the DEL). */
        if (expired) stats->keys_expired++;
        else stats->keys_loaded++;
        decrRefCount(val);
        sdsfree(key);
        return 0;
    }
    serverDb *db = &server.db[ctx->dbid];
    if (val->refcount != 1) { /* a shared integer (a small number stored as text) */
        robj *own = objectDup(val);
        decrRefCount(val);
        val = own;
    }
    if (ctx->expire != -1) val = objectSetExpire(val, ctx->expire);
    objectSetLRUOrLFU(val, ctx->lfu_freq, ctx->lru_idle, ctx->lru_clock, 1000);
    if (!dbAddRDBLoad(db, key, val)) {
        if (!(ctx->rdbflags & RDBFLAGS_ALLOW_DUP)) {
            rdbCorrupt("Duplicate key '%s' found in RDB file", key);
            decrRefCount(val);
            sdsfree(key);
            return -1;
        }
        robj *keyobj = createStringObject(key, sdslen(key));
        dbSyncDelete(db, keyobj);
        decrRefCount(keyobj);
        dbAddRDBLoad(db, key, val);
    }
    stats->keys_loaded++;
    tierLoadingProgress(); /* a dataset bigger than maxmemory goes to flash as it loads */
    return 0;
}

static int loadKeyValue(loadCtx *ctx, int type) {
    if (!rdbIsObjectType(type, ctx->rdbver)) {
        rdbCorrupt("Unknown RDB encoding type %d", type);
        return -1;
    }
    observeStep(ctx, "read-key");
    sds key = rdbGenericLoadStringObject(ctx->r, RDB_LOAD_SDS, NULL);
    if (!key) return -1;
    if (ctx->obs && ctx->obs->on_key_start) ctx->obs->on_key_start(ctx->obs->ud, key, type);
    observeStep(ctx, "read-object-value");
    int error = 0;
    robj *val = rdbLoadObject(type, ctx->r, key, ctx->dbid, 0, &error);
    if (!val) {
        if (error == RDB_LOAD_ERR_EMPTY_KEY) {
            ctx->empty_keys_skipped++;
            sdsfree(key);
            return 0;
        }
        rdbCorrupt("Error loading the value of key '%s'", key);
        sdsfree(key);
        return -1;
    }
    /* A module type loader may carry the expire in the value (valkey-flash's ttl). */
    if (ctx->expire == -1) ctx->expire = objectGetExpire(val);
    if (ctx->obs && ctx->obs->on_key) ctx->obs->on_key(ctx->obs->ud, ctx->dbid, key, type, val, ctx->expire);
    if (loadStoreKey(ctx, key, val) == -1) return -1;
    if (rdb_conf.key_load_delay) rdbKeyDelay(rdb_conf.key_load_delay);
    rioReportProgress(ctx->r);
    return 0;
}

/* The CRC64 trailer (from version 5 on). A zero checksum means it was not computed. */
static int loadChecksum(loadCtx *ctx) {
    if (ctx->rdbver < 5) return 0;
    observeStep(ctx, "check-checksum");
    uint64_t expected = rioGetChecksum(ctx->r), stored;
    if (rdbReadRaw(ctx->r, &stored, 8) == -1) return -1;
    stored = le64toh(stored);
    if (ctx->obs && ctx->obs->on_checksum) ctx->obs->on_checksum(ctx->obs->ud, stored, expected);
    if (!rdb_conf.checksum || rdb_conf.skip_checksum_validation) return 0;
    if (stored == 0) {
        if (!ctx->check_only) serverLog(LL_NOTICE, "RDB file was saved with checksum disabled: no check performed.");
    } else if (stored != expected) {
        rdbCorrupt("Wrong RDB checksum expected: (%llx) got: (%llx). Aborting now.", (unsigned long long)stored,
                   (unsigned long long)expected);
        return -1;
    }
    return 0;
}

/* One opcode or key. Returns 1 at the EOF opcode, 0 to go on, -1 on error. */
static int loadNextItem(loadCtx *ctx) {
    rio *r = ctx->r;
    observeStep(ctx, "read-type");
    int type = rdbLoadType(r);
    switch (type) {
    case -1: return -1;
    case RDB_OPCODE_EOF: return 1;
    case RDB_OPCODE_EXPIRETIME:
        observeStep(ctx, "read-expire");
        ctx->expire = rdbLoadTimeSeconds(r);
        if (rioGetReadError(r)) return -1;
        ctx->expire *= 1000;
        return 0;
    case RDB_OPCODE_EXPIRETIME_MS:
        observeStep(ctx, "read-expire");
        ctx->expire = rdbLoadMillisecondTime(r, ctx->rdbver);
        return rioGetReadError(r) ? -1 : 0;
    case RDB_OPCODE_FREQ: {
        unsigned char byte;
        if (rdbReadRaw(r, &byte, 1) == -1) return -1;
        ctx->lfu_freq = byte;
        return 0;
    }
    case RDB_OPCODE_IDLE: {
        uint64_t idle = rdbLoadLen(r, NULL);
        if (idle == RDB_LENERR) return -1;
        ctx->lru_idle = idle > LLONG_MAX / 1000 ? LLONG_MAX / 1000 : (long long)idle;
        return 0;
    }
    case RDB_OPCODE_SELECTDB: return loadSelectDb(ctx);
    case RDB_OPCODE_RESIZEDB: return loadResizeDb(ctx);
    case RDB_OPCODE_SLOT_INFO:
        observeStep(ctx, "read-slot-info");
        for (int j = 0; j < 3; j++)
            if (rdbLoadLen(r, NULL) == RDB_LENERR) return -1;
        return 0;
    case RDB_OPCODE_AUX: return loadAux(ctx);
    case RDB_OPCODE_MODULE_AUX: return loadModuleAux(ctx);
    case RDB_OPCODE_FUNCTION2: return loadFunction(ctx);
    case RDB_OPCODE_FUNCTION_PRE_GA: rdbCorrupt("Pre-release function format not supported."); return -1;
    case RDB_OPCODE_SLOT_IMPORT: rdbCorrupt("Can't load the slot import state of a Valkey 9 cluster"); return -1;
    default: break;
    }
    int rc = loadKeyValue(ctx, type);
    ctx->expire = ctx->lfu_freq = ctx->lru_idle = -1;
    return rc;
}

/* The keyspace tables keep the size RESIZEDB gave them while a file loads: otherwise
 * the first insert into a freshly pre-sized (so nearly empty) table would shrink it back,
 * and it would then regrow, with a full rehash, at every doubling. Returns the tables
 * paused, for resumeKeyspaceShrink (which finds them again only if still in place). */
static hashtable **pauseKeyspaceShrink(void) {
    hashtable **paused = zmalloc(sizeof(*paused) * 2 * (size_t)server.dbnum);
    for (int j = 0; j < server.dbnum; j++) {
        paused[2 * j] = server.db[j].keys;
        paused[2 * j + 1] = server.db[j].expires;
        hashtablePauseAutoShrink(paused[2 * j]);
        hashtablePauseAutoShrink(paused[2 * j + 1]);
    }
    return paused;
}

static void resumeKeyspaceShrink(hashtable **paused) {
    for (int j = 0; j < server.dbnum; j++) {
        if (server.db[j].keys == paused[2 * j]) hashtableResumeAutoShrink(paused[2 * j]);
        if (server.db[j].expires == paused[2 * j + 1]) hashtableResumeAutoShrink(paused[2 * j + 1]);
    }
    zfree(paused);
}

static int rdbLoadRioItems(rio *r, int rdbflags, rdbLoadStats *stats, const rdbLoadObserver *obs);

int rdbLoadRio(rio *r, int rdbflags, rdbLoadStats *stats, const rdbLoadObserver *obs) {
    if (rdbflags & RDBFLAGS_CHECK_ONLY) return rdbLoadRioItems(r, rdbflags, stats, obs);
    memset(&loaded_repl, 0, sizeof(loaded_repl));
    loaded_repl_seen = 0;
    hashtable **paused = pauseKeyspaceShrink();
    int rc = rdbLoadRioItems(r, rdbflags, stats, obs);
    resumeKeyspaceShrink(paused);
    /* An AOF's base says where the stream stood at the rewrite, not at the AOF's end. */
    if (rc != C_OK || (rdbflags & RDBFLAGS_AOF_PREAMBLE)) loaded_repl.valid = 0;
    return rc;
}

static int rdbLoadRioItems(rio *r, int rdbflags, rdbLoadStats *stats, const rdbLoadObserver *obs) {
    rdbLoadStats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof(*stats));
    loadCtx ctx = {.r = r,
                   .rdbflags = rdbflags,
                   .check_only = (rdbflags & RDBFLAGS_CHECK_ONLY) != 0,
                   .stats = stats,
                   .obs = obs,
                   .expire = -1,
                   .lfu_freq = -1,
                   .lru_idle = -1,
                   .now = mstime(),
                   .lru_clock = LRU_CLOCK()};
    char magic[10];
    int rc;
    rdbClearLoadError();
    r->update_cksum = rioGenericUpdateChecksum;
    observeStep(&ctx, "check-magic");
    if (rdbReadRaw(r, magic, 9) == -1 || rdbCheckMagic(magic, &ctx.rdbver) == -1) goto err;
    stats->rdbver = ctx.rdbver;
    load_rdbver = ctx.rdbver;
    while ((rc = loadNextItem(&ctx)) == 0) {
    }
    if (rc == -1 || loadChecksum(&ctx) == -1) goto err;
    load_rdbver = RDB_VERSION;
    if (ctx.check_only) return C_OK;
    if (ctx.empty_keys_skipped)
        serverLog(LL_NOTICE, "Done loading RDB, keys loaded: %lld, keys expired: %lld, empty keys skipped: %lld.",
                  stats->keys_loaded, stats->keys_expired, ctx.empty_keys_skipped);
    else
        serverLog(LL_NOTICE, "Done loading RDB, keys loaded: %lld, keys expired: %lld.", stats->keys_loaded,
                  stats->keys_expired);
    return C_OK;

err:
    load_rdbver = RDB_VERSION;
    if (!ctx.check_only)
        serverLog(LL_WARNING, "Internal error in RDB reading offset %llu -> %s", (unsigned long long)r->processed_bytes,
                  rdbLoadErrorMessage());
    return C_ERR;
}

int rdbLoad(const char *filename, int rdbflags) {
    FILE *fp = fopen(filename, "r");
    if (!fp) {
        if (errno == ENOENT) return RDB_NOT_EXIST;
        serverLog(LL_WARNING, "Fatal error: can't open the RDB file %s for reading: %s", filename, strerror(errno));
        return RDB_FAILED;
    }
    struct stat st;
    size_t size = fstat(fileno(fp), &st) == 0 ? (size_t)st.st_size : 0;
    rio r;
    rioInitWithFile(&r, fp);
    rioSetReadBuffer(&r, RIO_READ_BUFFER_SIZE); /* without memory for it, unbuffered */
    startLoading(size, 0);
    r.progress = rdbLoadProgress;
    rdbLoadStats stats;
    int rc = rdbLoadRio(&r, rdbflags, &stats, NULL);
    rioReleaseReadBuffer(&r);
    fclose(fp);
    stopLoading(rc == C_OK);
    rdb_state.last_load_keys_loaded = stats.keys_loaded;
    rdb_state.last_load_keys_expired = stats.keys_expired;
    return rc == C_OK ? RDB_OK : RDB_FAILED;
}

void loadDataFromDisk(void) {
    long long start = ustime();
    int rc = rdbLoad(server.rdb_filename, RDBFLAGS_NONE);
    if (rc == RDB_OK) {
        serverLog(LL_NOTICE, "DB loaded from disk: %.3f seconds", (double)(ustime() - start) / 1000000);
    } else if (rc == RDB_FAILED) {
        serverLog(LL_WARNING, "Fatal error loading the DB, check server logs. Exiting.");
        exit(1);
    }
}

/* ------------------------------------------------------------------------- */
/* Background save                                                             */
/* ------------------------------------------------------------------------- */

/* The child reports over a pipe: keys written so far and its copy-on-write size
 * (private dirty memory), at most once a second and once at the end. */
#define CHILD_INFO_PROGRESS 1
#define CHILD_INFO_FINAL 2

typedef struct childInfoMsg {
    int type;
    long long keys;
    long long cow;
} childInfoMsg;

static struct {
    monotime last_report;
    long long peak_cow, sum_cow, reports;
} child_report;

static void childSendInfo(int type, long long keys, long long cow) {
    if (rdb_state.child_info_pipe[1] == -1) return;
    childInfoMsg msg = {type, keys, cow};
    ssize_t ignored = write(rdb_state.child_info_pipe[1], &msg, sizeof(msg)); /* atomic: < PIPE_BUF */
    (void)ignored;
}

static void childReportProgress(long long keys, int final) {
    monotime now = getMonotonicUs();
    if (!final && child_report.reports && now - child_report.last_report < RDB_CHILD_INFO_MIN_INTERVAL_US) {
        childSendInfo(CHILD_INFO_PROGRESS, keys, -1);
        return;
    }
    long long cow = (long long)zmalloc_get_private_dirty(-1);
    child_report.last_report = now;
    child_report.reports++;
    child_report.sum_cow += cow;
    if (cow > child_report.peak_cow) child_report.peak_cow = cow;
    if (final) {
        serverLog(LL_NOTICE, "Fork CoW for RDB: current %lld MB, peak %lld MB, average %lld MB", cow >> 20,
                  child_report.peak_cow >> 20, (child_report.sum_cow / child_report.reports) >> 20);
    }
    childSendInfo(final ? CHILD_INFO_FINAL : CHILD_INFO_PROGRESS, keys, cow);
}

static void closeChildInfoPipe(void) {
    for (int j = 0; j < 2; j++) {
        if (rdb_state.child_info_pipe[j] != -1) close(rdb_state.child_info_pipe[j]);
        rdb_state.child_info_pipe[j] = -1;
    }
}

static void openChildInfoPipe(void) {
    if (pipe(rdb_state.child_info_pipe) == -1) {
        rdb_state.child_info_pipe[0] = rdb_state.child_info_pipe[1] = -1;
        return;
    }
    int flags = fcntl(rdb_state.child_info_pipe[0], F_GETFL);
    fcntl(rdb_state.child_info_pipe[0], F_SETFL, flags | O_NONBLOCK);
}

/* Parent: takes in whatever the child reported. */
static void receiveChildInfo(void) {
    if (rdb_state.child_info_pipe[0] == -1) return;
    childInfoMsg msg;
    while (read(rdb_state.child_info_pipe[0], &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
        rdb_state.current_save_keys_processed = msg.keys;
        if (msg.cow >= 0) {
            rdb_state.current_cow_size = msg.cow;
            if (msg.cow > rdb_state.current_cow_peak) rdb_state.current_cow_peak = msg.cow;
            rdb_state.current_cow_updated = getMonotonicUs();
        }
        if (msg.type == CHILD_INFO_FINAL) rdb_state.last_cow_size = msg.cow;
    }
}

int rdbHasActiveChild(void) {
    return server.child_pid != -1;
}

void rdbRemoveTempFile(pid_t childpid) {
    char tmpfile[64];
    snprintf(tmpfile, sizeof(tmpfile), "temp-%d.rdb", (int)childpid);
    unlink(tmpfile);
}

static void resetChildState(void) {
    server.child_pid = -1;
    server.child_type = CHILD_TYPE_NONE;
    rdb_state.save_time_start = -1;
    rdb_state.current_cow_size = rdb_state.current_cow_peak = 0;
    rdb_state.current_cow_updated = 0;
    rdb_state.current_save_keys_processed = rdb_state.current_save_keys_total = 0;
    closeChildInfoPipe();
}

/* The child: a process of its own that must not serve anything of the parent's. The
 * listening sockets are closed so that the port is free once the parent exits, but
 * only closed: the epoll instance is shared with the parent, and unregistering them
 * there would stop the parent from accepting connections. */
static void prepareChild(void) {
    in_child = 1;
    for (int j = 0; j < server.ipfd_count; j++) close(server.ipfd[j]);
    if (server.sofd >= 0) close(server.sofd);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    if (rdb_state.child_info_pipe[0] != -1) close(rdb_state.child_info_pipe[0]);
    rdb_state.child_info_pipe[0] = -1;
    memset(&child_report, 0, sizeof(child_report));
}

int rdbSaveBackground(const char *filename, int rdbflags) {
    if (rdbHasActiveChild()) return C_ERR;
    rdb_state.saves++;
    rdb_state.dirty_before_bgsave = server.dirty;
    server.lastbgsave_try = time(NULL);
    openChildInfoPipe();
    long long keys_total = dbTotalServerKeyCount();
    long long start = ustime();
    tierForkBegin(); /* freed flash space is not reused while the child may read it */
    pid_t pid = fork();
    if (pid == 0) {
        prepareChild();
        int rc = rdbSaveToFile(filename, rdbflags);
        if (rc == C_OK) {
            serverLog(LL_NOTICE, "DB saved on disk");
            childReportProgress(keys_total, 1);
        }
        _exit(rc == C_OK ? 0 : 1);
    }
    if (pid == -1) {
        closeChildInfoPipe();
        server.lastbgsave_status = C_ERR;
        serverLog(LL_WARNING, "Can't save in background: fork: %s", strerror(errno));
        return C_ERR;
    }
    /* The parent keeps only the read end. */
    close(rdb_state.child_info_pipe[1]);
    rdb_state.child_info_pipe[1] = -1;
    rdb_state.latest_fork_usec = ustime() - start;
    rdb_state.total_forks++;
    serverLog(LL_NOTICE, "Background saving started by pid %ld", (long)pid);
    rdb_state.save_time_start = time(NULL);
    rdb_state.current_save_keys_total = keys_total;
    rdb_state.current_save_keys_processed = 0;
    server.child_pid = pid;
    server.child_type = CHILD_TYPE_RDB;
    return C_OK;
}

static void backgroundSaveDone(int exitcode, int bysignal) {
    if (!bysignal && exitcode == 0) {
        serverLog(LL_NOTICE, "Background saving terminated with success");
        server.dirty -= rdb_state.dirty_before_bgsave;
        server.lastsave = time(NULL);
        server.lastbgsave_status = C_OK;
    } else if (!bysignal) {
        serverLog(LL_WARNING, "Background saving error");
        server.lastbgsave_status = C_ERR;
    } else {
        serverLog(LL_WARNING, "Background saving terminated by signal %d", bysignal);
        rdbRemoveTempFile(server.child_pid);
        /* SIGUSR1 is how the server itself stops a child: not an error. */
        if (bysignal != SIGUSR1) server.lastbgsave_status = C_ERR;
    }
    rdb_state.save_time_last = time(NULL) - rdb_state.save_time_start;
}

/* Stops a running child without counting it as a failure (FLUSHALL, SHUTDOWN). */
void rdbKillChild(void) {
    if (server.child_pid == -1 || server.child_type != CHILD_TYPE_RDB) return;
    pid_t pid = server.child_pid;
    kill(pid, SIGUSR1);
    int status;
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
    }
    rdbRemoveTempFile(pid);
    rdb_state.save_time_last = time(NULL) - rdb_state.save_time_start;
    resetChildState();
    replicationBackgroundSaveDone(0);
}

static void checkChildDone(void) {
    int status;
    pid_t pid = waitpid(server.child_pid, &status, WNOHANG);
    if (pid == 0) return;
    if (pid == -1) {
        serverLog(LL_WARNING, "waitpid() returned an error: %s. child_type: RDB, child_pid = %d", strerror(errno),
                  (int)server.child_pid);
        resetChildState();
        replicationBackgroundSaveDone(0);
        return;
    }
    int exitcode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    int bysignal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    receiveChildInfo();
    backgroundSaveDone(exitcode, bysignal);
    resetChildState();
    replicationBackgroundSaveDone(!bysignal && exitcode == 0); /* replicas waiting for this file */
}

void rdbCron(void) {
    if (server.child_pid != -1) {
        /* One child at a time; another kind (AOF rewrite) is reaped by its owner. */
        if (server.child_type == CHILD_TYPE_RDB) {
            receiveChildInfo();
            checkChildDone();
        }
        return;
    }
    int retry_ok = server.unixtime - server.lastbgsave_try > RDB_BGSAVE_RETRY_DELAY || server.lastbgsave_status == C_OK;
    for (int j = 0; j < rdb_conf.nparams; j++) {
        saveParam *sp = &rdb_conf.params[j];
        if (server.dirty >= sp->changes && server.unixtime - server.lastsave > sp->seconds && retry_ok) {
            serverLog(LL_NOTICE, "%lld changes in %d seconds. Saving...", sp->changes, (int)sp->seconds);
            rdbSaveBackground(server.rdb_filename, RDBFLAGS_NONE);
            return;
        }
    }
    if (rdb_state.bgsave_scheduled && retry_ok) {
        if (rdbSaveBackground(server.rdb_filename, RDBFLAGS_NONE) == C_OK) rdb_state.bgsave_scheduled = 0;
    }
}

/* ------------------------------------------------------------------------- */
/* Commands and server hooks                                                   */
/* ------------------------------------------------------------------------- */

void saveCommand(client *c) {
    if (server.child_type == CHILD_TYPE_RDB) {
        addReplyError(c, "Background save already in progress");
        return;
    }
    rdb_state.saves++;
    if (rdbSave(server.rdb_filename, RDBFLAGS_NONE) == C_OK) addReply(c, shared.ok);
    else addReplyErrorObject(c, shared.err);
}

void bgsaveCommand(client *c) {
    int schedule = 0;
    if (c->argc > 1) {
        if (c->argc == 2 && !strcasecmp(objectGetVal(c->argv[1]), "schedule")) {
            schedule = 1;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    if (server.child_type == CHILD_TYPE_RDB) {
        addReplyError(c, "Background save already in progress");
    } else if (rdbHasActiveChild() || server.in_exec) {
        if (schedule || server.in_exec) {
            rdb_state.bgsave_scheduled = 1;
            addReplyStatus(c, "Background saving scheduled");
        } else {
            addReplyError(c, "Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE "
                             "in order to schedule a BGSAVE whenever possible.");
        }
    } else if (rdbSaveBackground(server.rdb_filename, RDBFLAGS_NONE) == C_OK) {
        addReplyStatus(c, "Background saving started");
    } else {
        addReplyErrorObject(c, shared.err);
    }
}

int rdbWritesDeniedByBgsaveError(void) {
    return rdb_conf.stop_writes_on_error && rdb_conf.nparams > 0 && server.lastbgsave_status == C_ERR;
}

int rdbPrepareForShutdown(int flags) {
    if (server.child_type == CHILD_TYPE_RDB) {
        serverLog(LL_WARNING, "There is a child saving an .rdb. Killing it!");
        rdbKillChild();
    }
    int nosave = flags & SHUTDOWN_NOSAVE, save = flags & SHUTDOWN_SAVE, force = flags & SHUTDOWN_FORCE;
    if ((rdb_conf.nparams > 0 && !nosave) || save) {
        serverLog(LL_NOTICE, "Saving the final RDB snapshot before exiting.");
        if (rdbSave(server.rdb_filename, RDBFLAGS_NONE) != C_OK) {
            if (!force) {
                serverLog(LL_WARNING, "Error trying to save the DB, can't exit.");
                return C_ERR;
            }
            serverLog(LL_WARNING, "Error trying to save the DB. Exit anyway.");
        }
    }
    return C_OK;
}

void rdbFlushallHook(void) {
    if (server.child_type == CHILD_TYPE_RDB) rdbKillChild();
    if (rdb_conf.nparams > 0) rdbSave(server.rdb_filename, RDBFLAGS_NONE);
}

int rdbDebugReload(int save, int flush, int merge, const char **err) {
    if (save && rdbSave(server.rdb_filename, RDBFLAGS_NONE) != C_OK) {
        *err = "ERR";
        return C_ERR;
    }
    if (flush) {
        emptyData(-1, EMPTYDB_NO_FLAGS, NULL);
        if (functionsFlushAll) functionsFlushAll();
        clearPreservedFunctions();
    }
    /* Clients are served while the file loads: the caller must not read its next
     * command (or be freed) meanwhile. */
    client *caller = server.executing_client;
    if (caller) protectClient(caller);
    int rc = rdbLoad(server.rdb_filename, merge ? RDBFLAGS_ALLOW_DUP : RDBFLAGS_NONE);
    if (caller) unprotectClient(caller);
    if (rc != RDB_OK) {
        *err = "Error trying to load the RDB dump, check server logs.";
        return C_ERR;
    }
    serverLog(LL_NOTICE, "DB reloaded by DEBUG RELOAD");
    return C_OK;
}

void rdbGetInfo(rdbInfo *ri) {
    memset(ri, 0, sizeof(*ri));
    int child = server.child_type == CHILD_TYPE_RDB;
    ri->loading = server.loading != 0;
    ri->current_cow_peak = rdb_state.current_cow_peak;
    ri->current_cow_size = rdb_state.current_cow_size;
    ri->current_cow_size_age =
        rdb_state.current_cow_updated ? (long long)((getMonotonicUs() - rdb_state.current_cow_updated) / 1000000) : 0;
    ri->current_save_keys_processed = rdb_state.current_save_keys_processed;
    ri->current_save_keys_total = rdb_state.current_save_keys_total;
    if (child && rdb_state.current_save_keys_total)
        ri->current_fork_perc =
            (double)rdb_state.current_save_keys_processed / (double)rdb_state.current_save_keys_total * 100;
    ri->bgsave_in_progress = child;
    ri->last_bgsave_time_sec = rdb_state.save_time_last;
    ri->current_bgsave_time_sec = child ? (long long)(time(NULL) - rdb_state.save_time_start) : -1;
    ri->saves = rdb_state.saves;
    ri->last_cow_size = rdb_state.last_cow_size;
    ri->last_load_keys_expired = rdb_state.last_load_keys_expired;
    ri->last_load_keys_loaded = rdb_state.last_load_keys_loaded;
    ri->total_forks = rdb_state.total_forks;
    ri->latest_fork_usec = rdb_state.latest_fork_usec;
    if (server.loading) {
        double perc = 0;
        long long remaining = 1;
        size_t loaded = rdb_state.loading_loaded_bytes;
        if (rdb_state.loading_total_bytes) {
            perc = (double)loaded / (double)rdb_state.loading_total_bytes * 100;
            remaining = (long long)rdb_state.loading_total_bytes - (long long)loaded;
        } else if (rdb_state.loading_rdb_used_mem) {
            perc = (double)loaded / (double)rdb_state.loading_rdb_used_mem * 100;
            if (perc > 99.99) perc = 99.99;
            remaining = (long long)rdb_state.loading_rdb_used_mem - (long long)loaded;
            if (remaining < 1) remaining = 1;
        }
        long long elapsed = (long long)(time(NULL) - rdb_state.loading_start_time);
        ri->loading_start_time = rdb_state.loading_start_time;
        ri->loading_total_bytes = (long long)rdb_state.loading_total_bytes;
        ri->loading_rdb_used_mem = (long long)rdb_state.loading_rdb_used_mem;
        ri->loading_loaded_bytes = (long long)loaded;
        ri->loading_loaded_perc = perc;
        ri->loading_eta_seconds = elapsed == 0 ? 1 : elapsed * remaining / ((long long)loaded + 1);
    }
}

void rdbResetStats(void) {
    rdb_state.saves = 0;
    rdb_state.last_cow_size = 0;
    rdb_state.total_forks = 0;
    rdb_state.latest_fork_usec = 0;
}
