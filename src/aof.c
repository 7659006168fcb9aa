/* aof.c -- the append only file (see aof.h for the files and the life cycle).
 *
 * The file is organised as the life of an AOF goes:
 *   1. configuration and state;
 *   2. names, paths and the manifest (parsed strictly; written to a temp file, fsynced
 *      and renamed over the old one, then the directory is fsynced);
 *   3. the background I/O thread (fsync every second, closing and unlinking old files
 *      without stalling the event loop);
 *   4. appending: the consumer of propagate.c and the flush before sleeping, which also
 *      tracks the replication offset the file has fsynced (for WAITAOF);
 *   5. reading the RESP format, loading files, start-up;
 *   6. rewriting: the child that writes a base, what the parent does when it is done,
 *      CONFIG SET appendonly;
 *   7. commands, cron, shutdown, INFO and DEBUG.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aof.h"
#include "tier/tier.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "debug.h"
#include "hashtable.h"
#include "latency.h"
#include "listpack.h"
#include "multi.h"
#include "networking.h"
#include "object.h"
#include "propagate.h"
#include "quicklist.h"
#include "rdb.h"
#include "replication.h"
#include "rio.h"
#include "server.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"
#include "zmalloc.h"

#define AOF_DEFAULT_REWRITE_MIN_SIZE (64LL * 1024 * 1024)
#define AOF_AUTOSYNC_BYTES (4 * 1024 * 1024)    /* aof-rewrite-incremental-fsync, as Valkey */
#define AOF_REWRITE_ITEMS_PER_CMD 64            /* elements per RPUSH/SADD/... of a base */
#define AOF_MANIFEST_MAX_LINE 1024
#define AOF_ANNOTATION_MAX_LEN 1024
#define AOF_HEADER_LINE_MAX 64                  /* "*<count>" / "$<len>" lines */
#define AOF_BUF_REUSE_MAX 4000                  /* the append buffer is kept below this */
#define AOF_LOAD_EVENTS_EVERY 1024              /* commands between serving clients */
#define AOF_LOAD_EVENTS_BYTES (2 * 1024 * 1024) /* RDB base bytes between serving clients */
#define AOF_FLUSH_POSTPONE_MAX_MS 2000          /* everysec: wait this long for a busy fsync */
#define AOF_WRITE_ERROR_LOG_PERIOD 30           /* seconds between write error logs */
#define AOF_REWRITE_LIMIT_THRESHOLD 3           /* failures before rewrites are delayed */
#define AOF_REWRITE_LIMIT_MAX_MINUTES 60

/* loadFile() / loadAll() results. */
#define AOF_OK 0
#define AOF_NOT_EXIST 1
#define AOF_EMPTY 2
#define AOF_OPEN_ERR 3
#define AOF_FAILED 4
#define AOF_TRUNCATED 5

/* ------------------------------------------------------------------------- */
/* 1. Configuration and state                                                  */
/* ------------------------------------------------------------------------- */

static struct {
    int enabled;                /* appendonly */
    char *filename;             /* appendfilename */
    char *dirname;              /* appenddirname */
    int fsync_policy;           /* appendfsync */
    int no_fsync_on_rewrite;    /* no-appendfsync-on-rewrite */
    int rewrite_perc;           /* auto-aof-rewrite-percentage */
    long long rewrite_min_size; /* auto-aof-rewrite-min-size */
    int load_truncated;         /* aof-load-truncated */
    int use_rdb_preamble;       /* aof-use-rdb-preamble */
    int timestamp_enabled;      /* aof-timestamp-enabled */
    int incremental_fsync;      /* aof-rewrite-incremental-fsync */
    int disable_auto_gc;        /* aof-disable-auto-gc (tests keep history files) */
    char *rewrite_cpulist;      /* aof-rewrite-cpulist (accepted, not applied) */
} aof_conf;

static struct {
    int state;                  /* AOF_OFF / AOF_ON / AOF_WAIT_REWRITE */
    int fd;                     /* the incr file being appended, -1 when none */
    sds buf;                    /* appended, not yet written */
    int selected_db;            /* database of the last command written, -1: none yet */
    time_t cur_timestamp;       /* of the last #TS annotation */
    aofManifest *manifest;
    off_t current_size;         /* base + incr files */
    off_t rewrite_base_size;    /* current_size after the last rewrite */
    off_t last_incr_size;       /* of the incr file being appended */
    off_t last_incr_fsync_offset;
    mstime_t last_fsync;
    mstime_t flush_postponed_start;
    unsigned long delayed_fsync;
    int last_write_status;
    int last_write_errno;
    int rewrite_scheduled;
    time_t rewrite_time_start;  /* -1: no rewrite running */
    time_t rewrite_time_last;   /* duration of the last rewrite, -1 when none */
    int lastbgrewrite_status;
    long long rewrites;
    long long consecutive_failures;
    long long last_cow_size;
    int cow_pipe[2];            /* the rewrite child reports its copy-on-write size */
    int flush_sleep;            /* DEBUG AOF-FLUSH-SLEEP, microseconds */
    /* WAITAOF: replication offsets (replication.h) whose writes are in the file, and
     * fsynced (-1: nothing known fsynced in this AOF's life); fork_reploff is where the
     * first rewrite's base ends. */
    long long written_reploff;
    long long fsynced_reploff;
    long long fork_reploff;
    int in_child;
} aof = {.fd = -1,
         .selected_db = -1,
         .last_write_status = C_OK,
         .rewrite_time_start = -1,
         .rewrite_time_last = -1,
         .lastbgrewrite_status = C_OK,
         .cow_pipe = {-1, -1},
         .fsynced_reploff = -1};

static int applyAppendonly(const char **err);
static int applyAutoGc(const char **err);
static int applyAppendfsync(const char **err);

static int validateAofFilename(const char *val, const char **err) {
    if (!val || !val[0]) {
        *err = "appendfilename can't be empty";
        return 0;
    }
    if (strchr(val, '/') || strchr(val, '\\')) {
        *err = "appendfilename can't be a path, just a filename";
        return 0;
    }
    return 1;
}

static int validateAofDirname(const char *val, const char **err) {
    if (!val || !val[0]) {
        *err = "appenddirname can't be empty";
        return 0;
    }
    if (strchr(val, '/') || strchr(val, '\\')) {
        *err = "appenddirname can't be a path, just a dirname";
        return 0;
    }
    return 1;
}

static const configEnum appendfsync_enum[] = {
    {"everysec", AOF_FSYNC_EVERYSEC}, {"always", AOF_FSYNC_ALWAYS}, {"no", AOF_FSYNC_NO}, {NULL, 0}};

static const configDirective aof_configs[] = {
    {.name = "appendonly",
     .flags = CONFIG_FLAG_DENY_LOADING,
     .type = CONFIG_TYPE_BOOL,
     .field = &aof_conf.enabled,
     .u.b = {.dflt = 0},
     .apply = applyAppendonly},
    {.name = "appendfilename",
     .flags = CONFIG_FLAG_IMMUTABLE,
     .type = CONFIG_TYPE_STRING,
     .field = &aof_conf.filename,
     .u.str = {.dflt = "appendonly.aof", .validate = validateAofFilename}},
    {.name = "appenddirname",
     .flags = CONFIG_FLAG_IMMUTABLE,
     .type = CONFIG_TYPE_STRING,
     .field = &aof_conf.dirname,
     .u.str = {.dflt = "appendonlydir", .validate = validateAofDirname}},
    {.name = "appendfsync",
     .type = CONFIG_TYPE_ENUM,
     .field = &aof_conf.fsync_policy,
     .u.en = {.values = appendfsync_enum, .dflt = AOF_FSYNC_EVERYSEC},
     .apply = applyAppendfsync},
    {.name = "no-appendfsync-on-rewrite",
     .type = CONFIG_TYPE_BOOL,
     .field = &aof_conf.no_fsync_on_rewrite,
     .u.b = {.dflt = 0}},
    {.name = "auto-aof-rewrite-percentage",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &aof_conf.rewrite_perc,
     .u.num = {CONFIG_NUM_INT, CONFIG_FMT_INTEGER, 0, INT_MAX, 100, NULL}},
    {.name = "auto-aof-rewrite-min-size",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &aof_conf.rewrite_min_size,
     .u.num = {CONFIG_NUM_LONG_LONG, CONFIG_FMT_MEMORY, 0, LLONG_MAX, AOF_DEFAULT_REWRITE_MIN_SIZE, NULL}},
    {.name = "aof-load-truncated", .type = CONFIG_TYPE_BOOL, .field = &aof_conf.load_truncated, .u.b = {.dflt = 1}},
    {.name = "aof-use-rdb-preamble",
     .type = CONFIG_TYPE_BOOL,
     .field = &aof_conf.use_rdb_preamble,
     .u.b = {.dflt = 1}},
    {.name = "aof-timestamp-enabled",
     .type = CONFIG_TYPE_BOOL,
     .field = &aof_conf.timestamp_enabled,
     .u.b = {.dflt = 0}},
    {.name = "aof-rewrite-incremental-fsync",
     .type = CONFIG_TYPE_BOOL,
     .field = &aof_conf.incremental_fsync,
     .u.b = {.dflt = 1}},
    {.name = "aof-disable-auto-gc",
     .flags = CONFIG_FLAG_HIDDEN,
     .type = CONFIG_TYPE_BOOL,
     .field = &aof_conf.disable_auto_gc,
     .u.b = {.dflt = 0},
     .apply = applyAutoGc},
    {.name = "aof-rewrite-cpulist",
     .alias = "aof_rewrite_cpulist",
     .flags = CONFIG_FLAG_IMMUTABLE | CONFIG_STR_EMPTY_IS_NULL,
     .type = CONFIG_TYPE_STRING,
     .field = &aof_conf.rewrite_cpulist,
     .u.str = {.dflt = ""}},
};

void aofRegister(void) {
    configRegisterDirectives(aof_configs, (int)(sizeof(aof_configs) / sizeof(aof_configs[0])));
}

int aofEnabled(void) {
    return aof.state != AOF_OFF;
}

size_t aofBufferSize(void) {
    return aof.buf ? sdsalloc(aof.buf) : 0;
}

void aofSetFlushSleep(int usec) {
    aof.flush_sleep = usec;
}

static int aofRewriteInProgress(void) {
    return server.child_pid != -1 && server.child_type == CHILD_TYPE_AOF;
}

/* ------------------------------------------------------------------------- */
/* 2. Names, paths, manifest                                                   */
/* ------------------------------------------------------------------------- */

static sds aofPath(const char *name) {
    return sdscatprintf(sdsempty(), "%s/%s", aof_conf.dirname, name);
}

static int isBaseName(const char *name) {
    return strchr(name, '/') == NULL && strchr(name, '\\') == NULL;
}

static int fileExists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int dirExists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A file (not a directory) in the way is an error too: ENOTDIR, as Valkey reports it. */
static int makeDirIfMissing(const char *path) {
    if (mkdir(path, 0755) == 0) return 0;
    if (errno != EEXIST) return -1;
    if (dirExists(path)) return 0;
    errno = ENOTDIR;
    return -1;
}

/* A rename or a new file is durable once its directory is fsynced. */
static int fsyncDirOf(const char *path) {
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, sizeof(dir), ".");
    } else {
        size_t len = (size_t)(slash - path);
        if (len >= sizeof(dir)) len = sizeof(dir) - 1;
        memcpy(dir, path, len);
        dir[len] = '\0';
        if (len == 0) snprintf(dir, sizeof(dir), "/");
    }
    int fd = open(dir, O_RDONLY);
    if (fd == -1) return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

static int aofFdatasync(int fd) {
#ifdef __linux__
    return fdatasync(fd);
#else
    return fsync(fd);
#endif
}

aofManifest *aofManifestCreate(void) {
    return zcalloc(sizeof(aofManifest));
}

static void fileInfoClear(aofFileInfo *fi) {
    sdsfree(fi->name);
    fi->name = NULL;
}

void aofManifestFree(aofManifest *am) {
    if (!am) return;
    if (am->base) {
        fileInfoClear(am->base);
        zfree(am->base);
    }
    for (int j = 0; j < am->nhistory; j++) fileInfoClear(&am->history[j]);
    for (int j = 0; j < am->nincr; j++) fileInfoClear(&am->incr[j]);
    zfree(am->history);
    zfree(am->incr);
    zfree(am);
}

static aofFileInfo fileInfoDup(const aofFileInfo *fi) {
    return (aofFileInfo){sdsdup(fi->name), fi->seq, fi->type};
}

static aofManifest *manifestDup(const aofManifest *orig) {
    aofManifest *am = aofManifestCreate();
    if (orig->base) {
        am->base = zmalloc(sizeof(aofFileInfo));
        *am->base = fileInfoDup(orig->base);
    }
    am->nhistory = orig->nhistory;
    am->history = am->nhistory ? zmalloc(sizeof(aofFileInfo) * (size_t)am->nhistory) : NULL;
    for (int j = 0; j < am->nhistory; j++) am->history[j] = fileInfoDup(&orig->history[j]);
    am->nincr = orig->nincr;
    am->incr = am->nincr ? zmalloc(sizeof(aofFileInfo) * (size_t)am->nincr) : NULL;
    for (int j = 0; j < am->nincr; j++) am->incr[j] = fileInfoDup(&orig->incr[j]);
    am->curr_base_seq = orig->curr_base_seq;
    am->curr_incr_seq = orig->curr_incr_seq;
    am->dirty = orig->dirty;
    return am;
}

/* Takes fi (its name). History files go first: the newest at the head. */
static void manifestAddHistory(aofManifest *am, aofFileInfo fi) {
    fi.type = AOF_FILE_TYPE_HIST;
    am->history = zrealloc(am->history, sizeof(aofFileInfo) * (size_t)(am->nhistory + 1));
    memmove(am->history + 1, am->history, sizeof(aofFileInfo) * (size_t)am->nhistory);
    am->history[0] = fi;
    am->nhistory++;
}

static void manifestAddIncr(aofManifest *am, aofFileInfo fi) {
    am->incr = zrealloc(am->incr, sizeof(aofFileInfo) * (size_t)(am->nincr + 1));
    am->incr[am->nincr++] = fi;
}

static sds catFileInfo(sds s, const aofFileInfo *fi) {
    sds quoted = sdsneedsrepr(fi->name) ? sdscatrepr(sdsempty(), fi->name, sdslen(fi->name)) : NULL;
    s = sdscatprintf(s, "file %s seq %lld type %c\n", quoted ? quoted : fi->name, fi->seq, fi->type);
    sdsfree(quoted);
    return s;
}

/* Base first, then history, then the incr files in order. */
sds aofManifestToString(aofManifest *am) {
    sds s = sdsempty();
    if (am->base) s = catFileInfo(s, am->base);
    for (int j = 0; j < am->nhistory; j++) s = catFileInfo(s, &am->history[j]);
    for (int j = 0; j < am->nincr; j++) s = catFileInfo(s, &am->incr[j]);
    return s;
}

/* One "file <name> seq <n> type <t>" line (more key/value pairs are ignored, for
 * forward compatibility). Returns NULL when fine, else the error. */
static const char *parseManifestLine(sds line, aofFileInfo *fi) {
    int argc = 0;
    sds *argv = sdssplitargs(line, &argc);
    const char *err = NULL;
    if (!argv || argc < 6 || (argc % 2)) {
        err = "Invalid AOF manifest file format";
        goto done;
    }
    for (int j = 0; j < argc; j += 2) {
        if (!strcasecmp(argv[j], "file")) {
            sdsfree(fi->name);
            fi->name = sdsdup(argv[j + 1]);
            if (!isBaseName(fi->name)) {
                err = "File can't be a path, just a filename";
                goto done;
            }
        } else if (!strcasecmp(argv[j], "seq")) {
            long long seq;
            if (!string2ll(argv[j + 1], sdslen(argv[j + 1]), &seq) || seq <= 0) {
                err = "Invalid AOF manifest file format";
                goto done;
            }
            fi->seq = seq;
        } else if (!strcasecmp(argv[j], "type")) {
            fi->type = argv[j + 1][0];
        }
    }
    if (!fi->name || !sdslen(fi->name) || !fi->seq || !fi->type) err = "Invalid AOF manifest file format";
done:
    if (argv) sdsfreesplitres(argv, argc);
    return err;
}

aofManifest *aofManifestLoadFile(const char *path, const char **err, int *errline, sds *errtext) {
    *err = NULL;
    *errline = 0;
    *errtext = NULL;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        *err = "Can't open the AOF manifest file for reading";
        return NULL;
    }
    aofManifest *am = aofManifestCreate();
    char buf[AOF_MANIFEST_MAX_LINE + 1];
    long long maxseq = 0;
    int linenum = 0;
    while (fgets(buf, sizeof(buf), fp) != NULL) {
        linenum++;
        if (buf[0] == '#') continue;
        if (strchr(buf, '\n') == NULL && !feof(fp)) {
            *err = "The AOF manifest file contains too long line";
            goto fail;
        }
        sds line = sdstrim(sdsnew(buf), " \t\r\n");
        aofFileInfo fi = {0};
        const char *lerr = sdslen(line) ? parseManifestLine(line, &fi) : "Invalid AOF manifest file format";
        if (!lerr && fi.type == AOF_FILE_TYPE_BASE && am->base) lerr = "Found duplicate base file information";
        if (!lerr && fi.type == AOF_FILE_TYPE_INCR && fi.seq <= maxseq) lerr = "Found a non-monotonic sequence number";
        if (!lerr && fi.type != AOF_FILE_TYPE_BASE && fi.type != AOF_FILE_TYPE_HIST && fi.type != AOF_FILE_TYPE_INCR)
            lerr = "Unknown AOF file type";
        if (lerr) {
            fileInfoClear(&fi);
            *err = lerr;
            *errline = linenum;
            *errtext = line;
            goto fail;
        }
        sdsfree(line);
        if (fi.type == AOF_FILE_TYPE_BASE) {
            am->base = zmalloc(sizeof(aofFileInfo));
            *am->base = fi;
            am->curr_base_seq = fi.seq;
        } else if (fi.type == AOF_FILE_TYPE_HIST) {
            am->history = zrealloc(am->history, sizeof(aofFileInfo) * (size_t)(am->nhistory + 1));
            am->history[am->nhistory++] = fi;
        } else {
            manifestAddIncr(am, fi);
            am->curr_incr_seq = maxseq = fi.seq;
        }
    }
    if (ferror(fp)) {
        *err = "Read AOF manifest failed";
        goto fail;
    }
    if (linenum == 0) {
        *err = "Found an empty AOF manifest";
        goto fail;
    }
    fclose(fp);
    return am;
fail:
    fclose(fp);
    aofManifestFree(am);
    return NULL;
}

static sds manifestName(void) {
    return sdscatprintf(sdsempty(), "%s.manifest", aof_conf.filename);
}

/* The manifest of the server's AOF directory: read at start-up. */
static void loadManifestFromDisk(int fatal) {
    aofManifestFree(aof.manifest);
    aof.manifest = aofManifestCreate();
    if (!dirExists(aof_conf.dirname)) return;
    sds name = manifestName();
    sds path = aofPath(name);
    if (fileExists(path)) {
        const char *err;
        int errline;
        sds errtext;
        aofManifest *am = aofManifestLoadFile(path, &err, &errline, &errtext);
        if (am) {
            aofManifestFree(aof.manifest);
            aof.manifest = am;
        } else {
            serverLog(LL_WARNING, "*** FATAL AOF MANIFEST FILE ERROR ***");
            if (errtext) {
                serverLog(LL_WARNING, "Reading the manifest file %s, at line %d", path, errline);
                serverLog(LL_WARNING, ">>> '%s'", errtext);
            }
            serverLog(LL_WARNING, "%s (%s)", err, path);
            sdsfree(errtext);
            if (fatal) exit(1);
            serverLog(LL_WARNING, "appendonly is off: the manifest is ignored and will be replaced if the AOF is "
                                  "enabled");
        }
    }
    sdsfree(name);
    sdsfree(path);
}

/* Writes am to the manifest file atomically: temp file, fsync, rename, fsync dir. */
static int persistManifest(aofManifest *am) {
    if (!am->dirty) return C_OK;
    sds name = manifestName();
    sds path = aofPath(name);
    sds tmpname = sdscatprintf(sdsempty(), "temp-%s", name);
    sds tmppath = aofPath(tmpname);
    sds content = aofManifestToString(am);
    int rc = C_ERR;
    int fd = open(tmppath, O_WRONLY | O_TRUNC | O_CREAT, 0644);
    if (fd == -1) {
        serverLog(LL_WARNING, "Can't open the AOF manifest file %s: %s", tmpname, strerror(errno));
        goto done;
    }
    const char *p = content;
    size_t left = sdslen(content);
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            serverLog(LL_WARNING, "Error trying to write the temporary AOF manifest file %s: %s", tmpname,
                      strerror(errno));
            goto done;
        }
        p += n;
        left -= (size_t)n;
    }
    if (aofFdatasync(fd) == -1) {
        serverLog(LL_WARNING, "Fail to fsync the temp AOF file %s: %s.", tmpname, strerror(errno));
        goto done;
    }
    if (rename(tmppath, path) == -1) {
        serverLog(LL_WARNING, "Error trying to rename the temporary AOF manifest file %s into %s: %s", tmpname, name,
                  strerror(errno));
        goto done;
    }
    if (fsyncDirOf(path) == -1) {
        serverLog(LL_WARNING, "Fail to fsync AOF directory %s: %s.", path, strerror(errno));
        goto done;
    }
    am->dirty = 0;
    rc = C_OK;
done:
    if (fd != -1) close(fd);
    sdsfree(name);
    sdsfree(path);
    sdsfree(tmpname);
    sdsfree(tmppath);
    sdsfree(content);
    return rc;
}

/* The previous base (if any) becomes history; returns the new base's name. */
static sds manifestNewBase(aofManifest *am) {
    if (am->base) {
        manifestAddHistory(am, *am->base);
        zfree(am->base);
        am->base = NULL;
    }
    am->base = zmalloc(sizeof(aofFileInfo));
    am->base->seq = ++am->curr_base_seq;
    am->base->type = AOF_FILE_TYPE_BASE;
    am->base->name = sdscatprintf(sdsempty(), "%s.%lld.base.%s", aof_conf.filename, am->base->seq,
                                  aof_conf.use_rdb_preamble ? "rdb" : "aof");
    am->dirty = 1;
    return am->base->name;
}

static sds manifestNewIncr(aofManifest *am) {
    aofFileInfo fi;
    fi.seq = ++am->curr_incr_seq;
    fi.type = AOF_FILE_TYPE_INCR;
    fi.name = sdscatprintf(sdsempty(), "%s.%lld.incr.aof", aof_conf.filename, fi.seq);
    manifestAddIncr(am, fi);
    am->dirty = 1;
    return am->incr[am->nincr - 1].name;
}

static sds tempIncrName(void) {
    return sdscatprintf(sdsempty(), "temp-%s.incr", aof_conf.filename);
}

/* After a successful rewrite every incr file but the one being appended (when there is
 * one) was covered by the new base: they become history. */
static void manifestIncrsToHistory(aofManifest *am, int keep_last) {
    int keep = keep_last && am->nincr > 0 ? 1 : 0;
    int moving = am->nincr - keep;
    /* Added at the head one by one: the last first, so they end up in order. */
    for (int j = moving - 1; j >= 0; j--) manifestAddHistory(am, am->incr[j]);
    if (keep && moving) memmove(am->incr, am->incr + moving, sizeof(aofFileInfo) * (size_t)keep);
    am->nincr = keep;
    if (moving) am->dirty = 1;
}

static int manifestFileCount(const aofManifest *am) {
    return (am->base ? 1 : 0) + am->nincr;
}

/* ------------------------------------------------------------------------- */
/* 3. Background I/O                                                           */
/* ------------------------------------------------------------------------- */

/* One worker thread runs, in order: fsyncs of the incr file (everysec), closes of
 * incr files replaced by a rewrite (fsynced first), and the last close of deleted
 * history files (where the file system frees their blocks, which can take long). */
typedef enum { BGIO_FSYNC, BGIO_FSYNC_AND_CLOSE, BGIO_CLOSE } bgioKind;

typedef struct bgioJob {
    struct bgioJob *next;
    bgioKind kind;
    int fd;
    long long reploff; /* the replication offset the fsync makes durable */
} bgioJob;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wakeup;
    pthread_cond_t drained;
    bgioJob *head, *tail;
    int started;
    long queued;                /* jobs queued or running, under lock */
    _Atomic long pending_fsync; /* BGIO_FSYNC jobs queued or running */
    _Atomic int fsync_status;   /* C_ERR after a failed background fsync */
    _Atomic int fsync_errno;
    _Atomic long long fsynced_reploff; /* of the last successful job; -1: none */
} bgio = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .wakeup = PTHREAD_COND_INITIALIZER,
          .drained = PTHREAD_COND_INITIALIZER,
          .fsync_status = C_OK,
          .fsynced_reploff = -1};

static void bgioFsync(int fd, long long reploff) {
    if (aofFdatasync(fd) == -1 && errno != EBADF && errno != EINVAL) {
        int err = errno;
        bgio.fsync_errno = err;
        bgio.fsync_status = C_ERR;
        serverLog(LL_WARNING, "Fail to fsync the AOF file: %s", strerror(err));
    } else {
        bgio.fsync_status = C_OK;
        bgio.fsynced_reploff = reploff; /* jobs run in order: offsets only grow */
    }
}

static void bgioRun(bgioJob *job) {
    switch (job->kind) {
    case BGIO_FSYNC: bgioFsync(job->fd, job->reploff); break;
    case BGIO_FSYNC_AND_CLOSE:
        bgioFsync(job->fd, job->reploff);
        close(job->fd);
        break;
    case BGIO_CLOSE: close(job->fd); break;
    }
}

static void *bgioThreadMain(void *arg) {
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;) {
        pthread_mutex_lock(&bgio.lock);
        while (!bgio.head) pthread_cond_wait(&bgio.wakeup, &bgio.lock);
        bgioJob *job = bgio.head;
        bgio.head = job->next;
        if (!bgio.head) bgio.tail = NULL;
        pthread_mutex_unlock(&bgio.lock);

        bgioRun(job);
        if (job->kind == BGIO_FSYNC) bgio.pending_fsync--;
        zfree(job);

        pthread_mutex_lock(&bgio.lock);
        if (--bgio.queued == 0) pthread_cond_broadcast(&bgio.drained);
        pthread_mutex_unlock(&bgio.lock);
    }
    return NULL;
}

static void bgioSubmit(bgioKind kind, int fd) {
    bgioJob *job = zmalloc(sizeof(*job));
    *job = (bgioJob){NULL, kind, fd, aof.written_reploff};
    if (kind == BGIO_FSYNC) bgio.pending_fsync++;
    pthread_mutex_lock(&bgio.lock);
    if (!bgio.started) {
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        bgio.started = pthread_create(&tid, &attr, bgioThreadMain, NULL) == 0;
        pthread_attr_destroy(&attr);
        if (!bgio.started) {
            pthread_mutex_unlock(&bgio.lock);
            serverLog(LL_WARNING, "Can't start the AOF background thread: doing its work synchronously");
            bgioRun(job);
            if (kind == BGIO_FSYNC) bgio.pending_fsync--;
            zfree(job);
            return;
        }
    }
    bgio.queued++;
    if (bgio.tail) bgio.tail->next = job;
    else bgio.head = job;
    bgio.tail = job;
    pthread_cond_signal(&bgio.wakeup);
    pthread_mutex_unlock(&bgio.lock);
}

/* Waits until every queued job ran (before closing the fd they may use). */
static void bgioDrain(void) {
    pthread_mutex_lock(&bgio.lock);
    while (bgio.queued > 0) pthread_cond_wait(&bgio.drained, &bgio.lock);
    pthread_mutex_unlock(&bgio.lock);
}

static int aofFsyncInProgress(void) {
    return bgio.pending_fsync > 0;
}

/* The name goes at once (a file of the same name may be created right after); the
 * blocks are freed by the last close, in the background. Takes path. */
static void removeFileInBackground(sds path) {
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    unlink(path);
    if (fd != -1) bgioSubmit(BGIO_CLOSE, fd);
    sdsfree(path);
}

/* ------------------------------------------------------------------------- */
/* 4. Appending                                                                */
/* ------------------------------------------------------------------------- */

/* Valkey appends while on, and while waiting for the first rewrite once the child
 * that writes it exists (the temp incr file collects what the child will not see). */
int aofIsAcceptingWrites(void) {
    return aof.state == AOF_ON || (aof.state == AOF_WAIT_REWRITE && aofRewriteInProgress());
}

static void appendTimestampIfNeeded(int force) {
    time_t now = force ? time(NULL) : server.unixtime;
    if (!force && aof.cur_timestamp >= now) return;
    aof.cur_timestamp = now;
    aof.buf = sdscatprintf(aof.buf, "#TS:%lld\r\n", (long long)now);
}

void aofFeedPropagated(int dbid, const char *cmd, size_t len) {
    if (!aofIsAcceptingWrites()) return;
    if (!aof.buf) aof.buf = sdsempty();
    if (aof_conf.timestamp_enabled) appendTimestampIfNeeded(0);
    if (dbid != -1 && dbid != aof.selected_db) {
        char num[LONG_STR_SIZE];
        int numlen = ll2string(num, sizeof(num), dbid);
        aof.buf = sdscatprintf(aof.buf, "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n", numlen, num);
        aof.selected_db = dbid;
    }
    aof.buf = sdscatlen(aof.buf, cmd, len);
}

/* write(2) until done or an error: a short write is retried, it rarely means anything
 * but the disk filling up, which the next attempt reports. */
static ssize_t writeAll(int fd, const char *p, size_t len) {
    ssize_t total = 0;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return total ? total : -1;
        }
        p += n;
        len -= (size_t)n;
        total += n;
    }
    return total;
}

static void resetAppendBuffer(void) {
    if (aof.buf && sdsalloc(aof.buf) < AOF_BUF_REUSE_MAX) {
        sdsclear(aof.buf);
    } else {
        sdsfree(aof.buf);
        aof.buf = sdsempty();
    }
}

/* A failed or short write. With appendfsync always the reply of the write may already
 * be queued and the change cannot be undone: the only safe answer is to stop. */
static void handleWriteError(ssize_t written, size_t expected) {
    static time_t last_log = 0;
    int can_log = server.unixtime - last_log > AOF_WRITE_ERROR_LOG_PERIOD;
    if (can_log) last_log = server.unixtime;
    if (written == -1) {
        aof.last_write_errno = errno;
        if (can_log) serverLog(LL_WARNING, "Error writing to the AOF file: %s", strerror(errno));
    } else {
        if (can_log)
            serverLog(LL_WARNING, "Short write while writing to the AOF file: (nwritten=%lld, expected=%lld)",
                      (long long)written, (long long)expected);
        /* Take the partial command back out of the file if possible. */
        if (ftruncate(aof.fd, aof.last_incr_size) == -1) {
            if (can_log)
                serverLog(LL_WARNING,
                          "Could not remove short write from the append-only file. The server may refuse to load "
                          "the AOF the next time it starts. ftruncate: %s",
                          strerror(errno));
        } else {
            written = -1;
        }
        aof.last_write_errno = ENOSPC;
    }
    if (aof_conf.fsync_policy == AOF_FSYNC_ALWAYS) {
        serverLog(LL_WARNING,
                  "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
        exit(1);
    }
    aof.last_write_status = C_ERR;
    if (written > 0) {
        aof.current_size += written;
        aof.last_incr_size += written;
        sdsrange(aof.buf, written, -1);
    }
}

/* Everything written is fsynced: the offset may have moved with writes that never
 * reached the AOF (replicated only), which must not keep WAITAOF waiting. */
static void noteAllFsynced(void) {
    if (aof.state != AOF_ON || aofFsyncInProgress()) return;
    aof.written_reploff = replicationOffset();
    aof.fsynced_reploff = aof.written_reploff;
}

/* Writes the buffer, then fsyncs per appendfsync. force: write even when everysec would
 * rather wait for a background fsync still running. */
static void aofFlush(int force) {
    if (aof.fd == -1) return;
    int sync_in_progress = 0;
    int have_data = aof.buf && sdslen(aof.buf) > 0;
    if (!have_data) {
        /* Nothing new, but the data written earlier may still need its fsync. */
        int unsynced = aof.last_incr_fsync_offset != aof.last_incr_size;
        if (!unsynced) {
            noteAllFsynced();
            return;
        }
        if (aof_conf.fsync_policy == AOF_FSYNC_EVERYSEC) {
            if (server.mstime - aof.last_fsync < 1000 || aofFsyncInProgress()) return;
        } else if (aof_conf.fsync_policy != AOF_FSYNC_ALWAYS) {
            return;
        }
    } else {
        if (aof_conf.fsync_policy == AOF_FSYNC_EVERYSEC) sync_in_progress = aofFsyncInProgress();
        if (aof_conf.fsync_policy == AOF_FSYNC_EVERYSEC && !force && sync_in_progress) {
            /* write(2) would block behind the fsync anyway: wait up to two seconds. */
            if (aof.flush_postponed_start == 0) {
                aof.flush_postponed_start = server.mstime;
                return;
            }
            if (server.mstime - aof.flush_postponed_start < AOF_FLUSH_POSTPONE_MAX_MS) return;
            aof.delayed_fsync++;
            serverLog(LL_NOTICE, "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer "
                                 "without waiting for fsync to complete, this may slow down the server.");
        }
        if (aof.flush_sleep) usleep((useconds_t)aof.flush_sleep);
        long long start = mstime();
        size_t len = sdslen(aof.buf);
        ssize_t written = writeAll(aof.fd, aof.buf, len);
        long long took = mstime() - start;
        latencyAddSampleIfNeeded(sync_in_progress     ? "aof-write-pending-fsync"
                                 : server.child_pid != -1 ? "aof-write-active-child"
                                                          : "aof-write-alone",
                                 took);
        latencyAddSampleIfNeeded("aof-write", took);
        aof.flush_postponed_start = 0;
        if (written != (ssize_t)len) {
            handleWriteError(written, len);
            return;
        }
        if (aof.last_write_status == C_ERR) {
            serverLog(LL_NOTICE, "AOF write error looks solved. The server can write again.");
            aof.last_write_status = C_OK;
        }
        aof.current_size += written;
        aof.last_incr_size += written;
        aof.written_reploff = replicationOffset();
        resetAppendBuffer();
    }

    if (aof_conf.no_fsync_on_rewrite && server.child_pid != -1) return;
    if (aof_conf.fsync_policy == AOF_FSYNC_ALWAYS) {
        long long start = mstime();
        if (aofFdatasync(aof.fd) == -1) {
            serverLog(LL_WARNING,
                      "Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. Exiting...",
                      strerror(errno));
            exit(1);
        }
        latencyAddSampleIfNeeded("aof-fsync-always", mstime() - start);
        aof.last_incr_fsync_offset = aof.last_incr_size;
        aof.last_fsync = server.mstime;
        if (aof.state == AOF_ON) aof.fsynced_reploff = aof.written_reploff;
    } else if (aof_conf.fsync_policy == AOF_FSYNC_EVERYSEC && server.mstime - aof.last_fsync >= 1000) {
        if (!sync_in_progress) {
            bgioSubmit(BGIO_FSYNC, aof.fd);
            aof.last_incr_fsync_offset = aof.last_incr_size;
        }
        aof.last_fsync = server.mstime;
    }
}

void aofBeforeSleep(void) {
    if (aof.state == AOF_ON || aof.state == AOF_WAIT_REWRITE) aofFlush(0);
}

long long aofFsyncedReplOffset(void) {
    if (aof.state != AOF_ON) return -1;
    long long bg = bgio.fsynced_reploff;
    if (bg > aof.fsynced_reploff) aof.fsynced_reploff = bg;
    return aof.fsynced_reploff;
}

/* A new life of the AOF (turned off, or a full sync that may move the replication
 * offset backwards): nothing of the old one counts. The worker must be idle. */
static void resetFsyncedOffsets(void) {
    bgioDrain();
    aof.written_reploff = 0;
    aof.fsynced_reploff = -1;
    bgio.fsynced_reploff = -1;
}

int aofWriteBarrierNeeded(void) {
    return aof.state == AOF_ON && aof_conf.fsync_policy == AOF_FSYNC_ALWAYS;
}

int aofWritesDeniedByError(void) {
    if (aof.state == AOF_OFF) return 0;
    return aof.last_write_status == C_ERR || bgio.fsync_status == C_ERR;
}

const char *aofWriteErrorString(void) {
    return strerror(aof.last_write_status == C_ERR ? aof.last_write_errno : bgio.fsync_errno);
}

/* ------------------------------------------------------------------------- */
/* 5. Reading and loading                                                      */
/* ------------------------------------------------------------------------- */

void aofReaderInit(aofReader *r, FILE *fp, off_t size, off_t pos) {
    memset(r, 0, sizeof(*r));
    r->fp = fp;
    r->size = size;
    r->pos = pos;
    r->line = 1;
}

void aofReaderFree(aofReader *r) {
    sdsfree(r->annotation);
    r->annotation = NULL;
}

void aofFreeArgv(robj **argv, int argc) {
    for (int j = 0; j < argc; j++) decrRefCount(argv[j]);
    zfree(argv);
}

/* A line ending in CRLF, into buf without it. Returns 1, or AOF_READ_EOF when nothing
 * was left, AOF_READ_TRUNCATED when the file ends inside the line, AOF_READ_BAD_FORMAT
 * for a bare LF or a line longer than cap, AOF_READ_IO_ERROR. */
static int readLine(aofReader *r, char *buf, size_t cap, size_t *len) {
    size_t n = 0;
    off_t start = r->pos;
    for (;;) {
        int ch = getc_unlocked(r->fp);
        if (ch == EOF) {
            if (ferror(r->fp)) return AOF_READ_IO_ERROR;
            return n == 0 ? AOF_READ_EOF : AOF_READ_TRUNCATED;
        }
        r->pos++;
        if (ch == '\n') {
            if (n == 0 || buf[n - 1] != '\r') {
                snprintf(r->error, sizeof(r->error), "a line ends with \\n without \\r at offset %lld",
                         (long long)r->pos - 1);
                return AOF_READ_BAD_FORMAT;
            }
            buf[--n] = '\0';
            *len = n;
            r->line++;
            return 1;
        }
        if (n + 1 >= cap) {
            snprintf(r->error, sizeof(r->error), "a line longer than %zu bytes starts at offset %lld", cap - 1,
                     (long long)start);
            return AOF_READ_BAD_FORMAT;
        }
        buf[n++] = (char)ch;
    }
}

/* "<prefix><digits>": the value when it is in [min, max], else -1. */
static long long parseHeader(const char *line, size_t len, char prefix, long long min, long long max) {
    long long v;
    if (len < 2 || line[0] != prefix) return -1;
    for (size_t j = 1; j < len; j++)
        if (line[j] < '0' || line[j] > '9') return -1;
    if (!string2ll(line + 1, len - 1, &v) || v < min || v > max) return -1;
    return v;
}

static int readArgument(aofReader *r, robj **out) {
    char line[AOF_HEADER_LINE_MAX];
    size_t len;
    off_t at = r->pos;
    int rc = readLine(r, line, sizeof(line), &len);
    if (rc == AOF_READ_EOF) return AOF_READ_TRUNCATED;
    if (rc != 1) return rc;
    long long arglen = parseHeader(line, len, '$', 0, LLONG_MAX - 2);
    if (arglen < 0) {
        snprintf(r->error, sizeof(r->error), "expected a bulk length ($<n>) at offset %lld, got '%.*s'",
                 (long long)at, (int)(len > 32 ? 32 : len), line);
        return AOF_READ_BAD_FORMAT;
    }
    /* The argument cannot be there: the file ends first (checked before allocating). */
    if (r->size - r->pos < arglen + 2) return AOF_READ_TRUNCATED;
    sds s = sdsnewlen(SDS_NOINIT, (size_t)arglen);
    if (arglen && fread(s, (size_t)arglen, 1, r->fp) != 1) {
        sdsfree(s);
        return ferror(r->fp) ? AOF_READ_IO_ERROR : AOF_READ_TRUNCATED;
    }
    r->pos += arglen;
    char crlf[2];
    size_t got = fread(crlf, 1, 2, r->fp);
    r->pos += (off_t)got;
    if (got != 2) {
        sdsfree(s);
        return ferror(r->fp) ? AOF_READ_IO_ERROR : AOF_READ_TRUNCATED;
    }
    if (crlf[0] != '\r' || crlf[1] != '\n') {
        sdsfree(s);
        snprintf(r->error, sizeof(r->error),
                 "expected \\r\\n after an argument of %lld bytes at offset %lld, got %02x%02x", arglen,
                 (long long)r->pos - 2, (unsigned char)crlf[0], (unsigned char)crlf[1]);
        return AOF_READ_BAD_FORMAT;
    }
    r->line++;
    *out = createObject(OBJ_STRING, s);
    return 1;
}

int aofReaderNext(aofReader *r, robj ***argvp, int *argcp) {
    char line[AOF_ANNOTATION_MAX_LEN + 2];
    size_t len;
    r->error[0] = '\0';
    int first = getc_unlocked(r->fp);
    if (first == EOF) return ferror(r->fp) ? AOF_READ_IO_ERROR : AOF_READ_EOF;
    ungetc(first, r->fp);
    if (first == '#') {
        int rc = readLine(r, line, sizeof(line), &len);
        if (rc != 1) return rc == AOF_READ_EOF ? AOF_READ_TRUNCATED : rc;
        r->line--; /* annotations do not count as protocol lines */
        if (!r->annotation) r->annotation = sdsempty();
        r->annotation = sdscpylen(r->annotation, line, len);
        return AOF_READ_ANNOTATION;
    }
    if (first != '*') {
        snprintf(r->error, sizeof(r->error), "expected a command ('*') at offset %lld, got byte 0x%02x",
                 (long long)r->pos, (unsigned char)first);
        return AOF_READ_BAD_FORMAT;
    }
    off_t at = r->pos;
    int rc = readLine(r, line, AOF_HEADER_LINE_MAX, &len);
    if (rc != 1) return rc == AOF_READ_EOF ? AOF_READ_TRUNCATED : rc;
    long long argc = parseHeader(line, len, '*', 1, INT_MAX);
    if (argc < 0) {
        snprintf(r->error, sizeof(r->error), "invalid argument count '%.*s' at offset %lld",
                 (int)(len > 32 ? 32 : len), line, (long long)at);
        return AOF_READ_BAD_FORMAT;
    }
    /* Grown as arguments arrive: a damaged count cannot make us allocate much. */
    int cap = argc < 16 ? (int)argc : 16, n = 0;
    robj **argv = zmalloc(sizeof(robj *) * (size_t)cap);
    while (n < argc) {
        robj *arg;
        rc = readArgument(r, &arg);
        if (rc != 1) {
            aofFreeArgv(argv, n);
            return rc;
        }
        if (n == cap) {
            cap = cap * 2 > argc ? (int)argc : cap * 2;
            argv = zrealloc(argv, sizeof(robj *) * (size_t)cap);
        }
        argv[n++] = arg;
    }
    *argvp = argv;
    *argcp = n;
    return AOF_READ_COMMAND;
}

/* The client replaying a file: never blocks, its replies go nowhere. */
static client *createAofClient(void) {
    client *c = createClient(-1);
    c->id = CLIENT_ID_AOF;
    c->flags |= CLIENT_DENY_BLOCKING;
    return c;
}

/* While a big file loads, clients are answered (-LOADING) from time to time. */
static void serveClientsWhileLoading(void) {
    updateCachedTime(0);
    if (server.el) processEventsWhileBlocked();
}

static void rdbBaseProgress(rio *r, size_t processed) {
    size_t *next = r->privdata;
    if (processed < *next) return;
    *next = processed + AOF_LOAD_EVENTS_BYTES;
    serveClientsWhileLoading();
}

static int hasRdbSignature(FILE *fp) {
    char sig[6];
    size_t got = fread(sig, 1, sizeof(sig), fp);
    return (got >= 5 && !memcmp(sig, "REDIS", 5)) || (got == 6 && !memcmp(sig, "VALKEY", 6));
}

/* An RDB base, or the RDB preamble of an old single-file AOF (followed by commands). */
static int loadRdbPart(FILE *fp, const char *name, int old_style) {
    if (old_style) serverLog(LL_NOTICE, "Reading RDB preamble from AOF file...");
    else serverLog(LL_NOTICE, "Reading RDB base file on AOF loading...");
    rio r;
    rioInitWithFile(&r, fp);
    size_t next_events = AOF_LOAD_EVENTS_BYTES;
    r.progress = rdbBaseProgress;
    r.privdata = &next_events;
    if (rdbLoadRio(&r, RDBFLAGS_AOF_PREAMBLE, NULL, NULL) != C_OK) {
        if (old_style)
            serverLog(LL_WARNING, "Error reading the RDB preamble of the AOF file %s, AOF loading aborted", name);
        else
            serverLog(LL_WARNING, "Error reading the RDB base file %s, AOF loading aborted", name);
        return C_ERR;
    }
    if (old_style) serverLog(LL_NOTICE, "Reading the remaining AOF tail...");
    return C_OK;
}

/* Replays one file. last_file: a truncated tail may be cut off (aof-load-truncated). */
static int loadFile(const char *name, int last_file) {
    sds path = aofPath(name);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        int err = errno;
        struct stat st;
        int ret = (stat(path, &st) == 0 || err != ENOENT) ? AOF_OPEN_ERR : AOF_NOT_EXIST;
        if (ret == AOF_OPEN_ERR)
            serverLog(LL_WARNING, "Fatal error: can't open the append log file %s for reading: %s", name,
                      strerror(err));
        else
            serverLog(LL_WARNING, "The append log file %s doesn't exist: %s", name, strerror(err));
        sdsfree(path);
        return ret;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == -1 || st.st_size == 0) {
        fclose(fp);
        sdsfree(path);
        return AOF_EMPTY;
    }

    int ret = AOF_OK;
    client *prev_current = server.current_client, *prev_executing = server.executing_client;
    client *fake = createAofClient();
    server.current_client = server.executing_client = fake;
    aofReader r;
    aofReaderInit(&r, fp, st.st_size, 0);
    off_t valid_up_to = 0, valid_before_multi = 0;
    long long commands = 0;

    if (hasRdbSignature(fp)) {
        rewind(fp);
        if (loadRdbPart(fp, name, !strcmp(name, aof_conf.filename)) != C_OK) {
            ret = AOF_FAILED;
            goto cleanup;
        }
        valid_up_to = r.pos = ftello(fp);
    } else {
        rewind(fp);
    }

    for (;;) {
        if ((commands++ % AOF_LOAD_EVENTS_EVERY) == 0) serveClientsWhileLoading();
        robj **argv;
        int argc;
        off_t cmd_start = r.pos;
        int rc = aofReaderNext(&r, &argv, &argc);
        if (rc == AOF_READ_EOF) break;
        if (rc == AOF_READ_ANNOTATION) {
            if (!(fake->flags & CLIENT_MULTI)) valid_up_to = r.pos;
            continue;
        }
        if (rc == AOF_READ_TRUNCATED) goto truncated;
        if (rc == AOF_READ_IO_ERROR) {
            serverLog(LL_WARNING, "Unrecoverable error reading the append only file %s: %s", name, strerror(errno));
            ret = AOF_FAILED;
            goto cleanup;
        }
        if (rc == AOF_READ_BAD_FORMAT) {
            serverLog(LL_WARNING, "Corrupt append only file %s: %s (the last complete command ends at offset %lld)",
                      name, r.error, (long long)valid_up_to);
            serverLog(LL_WARNING,
                      "Bad file format reading the append only file %s: make a backup of your AOF file, then use "
                      "./valkey-check-aof --fix <filename.manifest>",
                      name);
            ret = AOF_FAILED;
            goto cleanup;
        }

        fake->argv = argv;
        fake->argc = argc;
        fake->argv_len = argc;
        fake->cmd = fake->lastcmd = fake->realcmd = lookupCommand(argv, argc);
        sds err = NULL;
        if (!commandCheckExistence(fake, &err) || !commandCheckArity(fake->cmd, argc, &err)) {
            serverLog(LL_WARNING, "Error reading the append only file %s at offset %lld: %s", name,
                      (long long)cmd_start, err);
            sdsfree(err);
            freeClientArgv(fake);
            ret = AOF_FAILED;
            goto cleanup;
        }
        if (fake->cmd->proc == multiCommand && !(fake->flags & CLIENT_MULTI)) valid_before_multi = valid_up_to;
        server.cmd_time_snapshot = server.mstime;
        if ((fake->flags & CLIENT_MULTI) && !multiCommandRunsDirectly(fake->cmd)) {
            queueMultiCommand(fake);
        } else {
            fake->cmd->proc(fake);
        }
        serverAssert(!(fake->flags & CLIENT_BLOCKED));
        freeClientArgv(fake);
        tierLoadingProgress(); /* a dataset bigger than maxmemory goes to flash as it loads */
        /* Inside a transaction nothing is final until its EXEC. */
        if (!(fake->flags & CLIENT_MULTI)) valid_up_to = r.pos;
    }

    if (fake->flags & CLIENT_MULTI) {
        serverLog(LL_WARNING, "Revert incomplete MULTI/EXEC transaction in AOF file %s", name);
        goto truncated;
    }
    goto cleanup;

truncated:
    /* The commands of an unfinished MULTI were only queued: they are dropped with the
     * client, and the file is cut before that MULTI. */
    if (fake->flags & CLIENT_MULTI) valid_up_to = valid_before_multi;
    serverLog(LL_WARNING, "The append only file %s ends in the middle of a command: %lld bytes, the last complete "
                          "command ends at offset %lld",
              name, (long long)st.st_size, (long long)valid_up_to);
    if (aof_conf.load_truncated && last_file) {
        serverLog(LL_WARNING, "!!! Warning: short read while loading the AOF file %s!!!", name);
        serverLog(LL_WARNING, "!!! Truncating the AOF %s at offset %llu !!!", name, (unsigned long long)valid_up_to);
        if (truncate(path, valid_up_to) == -1) {
            serverLog(LL_WARNING, "Error truncating the AOF file %s: %s", name, strerror(errno));
        } else {
            serverLog(LL_WARNING, "AOF %s loaded anyway because aof-load-truncated is enabled", name);
            ret = AOF_TRUNCATED;
            goto cleanup;
        }
    } else if (!last_file) {
        serverLog(LL_WARNING, "Fatal error: the truncated file is not the last file");
    }
    serverLog(LL_WARNING,
              "Unexpected end of file reading the append only file %s. You can: 1) Make a backup of your AOF file, "
              "then use ./valkey-check-aof --fix <filename.manifest>. 2) Alternatively you can set the "
              "'aof-load-truncated' configuration option to yes and restart the server.",
              name);
    ret = AOF_FAILED;

cleanup:
    aofReaderFree(&r);
    freeClient(fake);
    server.current_client = prev_current;
    server.executing_client = prev_executing;
    fclose(fp);
    sdsfree(path);
    return ret;
}

static off_t aofFileSize(const char *name, int *status) {
    sds path = aofPath(name);
    struct stat st;
    off_t size = 0;
    if (stat(path, &st) == -1) {
        *status = errno == ENOENT ? AOF_NOT_EXIST : AOF_OPEN_ERR;
        serverLog(LL_WARNING, "Unable to obtain the AOF file %s length. stat: %s", name, strerror(errno));
    } else {
        *status = AOF_OK;
        size = st.st_size;
    }
    sdsfree(path);
    return size;
}

/* An old single-file AOF (appendonly.aof in `dir`) becomes the base of a manifest. A
 * crash at any step leaves a state this function completes on the next start. */
static void upgradeOldAof(aofManifest *am) {
    if (makeDirIfMissing(aof_conf.dirname) == -1) {
        serverLog(LL_WARNING, "Can't open or create append-only dir %s: %s", aof_conf.dirname, strerror(errno));
        exit(1);
    }
    if (am->base) {
        fileInfoClear(am->base);
        zfree(am->base);
    }
    am->base = zmalloc(sizeof(aofFileInfo));
    *am->base = (aofFileInfo){sdsnew(aof_conf.filename), 1, AOF_FILE_TYPE_BASE};
    am->curr_base_seq = 1;
    am->dirty = 1;
    if (persistManifest(am) != C_OK) exit(1);
    sds dest = aofPath(aof_conf.filename);
    if (rename(aof_conf.filename, dest) == -1) {
        serverLog(LL_WARNING, "Error trying to move the old AOF file %s into dir %s: %s", aof_conf.filename,
                  aof_conf.dirname, strerror(errno));
        sdsfree(dest);
        exit(1);
    }
    sdsfree(dest);
    serverLog(LL_NOTICE, "Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).",
              aof_conf.filename, aof_conf.dirname);
}

static int oldAofNeedsUpgrade(aofManifest *am) {
    if (!fileExists(aof_conf.filename)) return 0;
    if (!dirExists(aof_conf.dirname)) return 1;
    if (!am->base && am->nincr == 0) return 1;
    if (am->base && am->nincr == 0 && !strcmp(am->base->name, aof_conf.filename)) {
        sds inside = aofPath(aof_conf.filename);
        int moved = fileExists(inside);
        sdsfree(inside);
        return !moved;
    }
    return 0;
}

/* Base, then incr files, in manifest order. */
static int loadAll(aofManifest *am) {
    if (oldAofNeedsUpgrade(am)) upgradeOldAof(am);
    if (!am->base && am->nincr == 0) return AOF_NOT_EXIST;

    int total = manifestFileCount(am), done = 0, status;
    off_t total_size = 0, base_size = 0;
    if (am->base) {
        total_size += base_size = aofFileSize(am->base->name, &status);
        if (status != AOF_OK) return AOF_FAILED;
    }
    for (int j = 0; j < am->nincr; j++) {
        total_size += aofFileSize(am->incr[j].name, &status);
        if (status != AOF_OK) return AOF_FAILED;
    }
    if (total_size == 0) return AOF_EMPTY;

    startLoading((size_t)total_size, 0);
    int ret = AOF_OK;
    for (int j = -1; j < am->nincr; j++) {
        aofFileInfo *fi = j == -1 ? am->base : &am->incr[j];
        if (!fi) continue;
        int last_file = ++done == total;
        long long start = ustime();
        ret = loadFile(fi->name, last_file);
        if (ret == AOF_EMPTY) ret = AOF_OK;
        if (ret == AOF_OK || ret == AOF_TRUNCATED)
            serverLog(LL_NOTICE, "DB loaded from %s file %s: %.3f seconds", j == -1 ? "base" : "incr", fi->name,
                      (double)(ustime() - start) / 1000000);
        if (ret == AOF_NOT_EXIST) ret = AOF_FAILED; /* listed but gone */
        if (ret == AOF_OPEN_ERR || ret == AOF_FAILED) break;
    }
    stopLoading(ret == AOF_OK || ret == AOF_TRUNCATED);
    if (ret == AOF_OK || ret == AOF_TRUNCATED) {
        aof.current_size = total_size;
        aof.rewrite_base_size = base_size;
    }
    return ret;
}

/* ------------------------------------------------------------------------- */
/* 6. Rewriting                                                                */
/* ------------------------------------------------------------------------- */

void functionsForEachLibraryCode(void (*proc)(void *privdata, sds code), void *privdata) __attribute__((weak));
void functionsFlushAll(void) __attribute__((weak));

/* --- A base in RESP form (aof-use-rdb-preamble no) --- */

static int rioCountLine(rio *r, char prefix, long long n) {
    char buf[LONG_STR_SIZE + 4];
    buf[0] = prefix;
    int len = 1 + ll2string(buf + 1, sizeof(buf) - 1, n);
    buf[len++] = '\r';
    buf[len++] = '\n';
    return rioWrite(r, buf, (size_t)len) != 0;
}

static int rioBulk(rio *r, const void *p, size_t len) {
    return rioCountLine(r, '$', (long long)len) && (len == 0 || rioWrite(r, p, len)) && rioWrite(r, "\r\n", 2);
}

static int rioBulkLongLong(rio *r, long long v) {
    char buf[LONG_STR_SIZE];
    int len = ll2string(buf, sizeof(buf), v);
    return rioBulk(r, buf, (size_t)len);
}

static int rioBulkDouble(rio *r, double d) {
    char buf[MAX_D2STRING_CHARS];
    int len = snprintf(buf, sizeof(buf), "%.17g", d);
    return rioBulk(r, buf, (size_t)len);
}

static int rioBulkString(rio *r, const char *s) {
    return rioBulk(r, s, strlen(s));
}

static int rioBulkObject(rio *r, robj *o) {
    char buf[LONG_STR_SIZE];
    size_t len;
    const char *p = stringObjectBytes(o, buf, &len);
    return rioBulk(r, p, len);
}

/* Variadic commands (RPUSH, SADD, ZADD, HMSET) of at most AOF_REWRITE_ITEMS_PER_CMD
 * elements each: the header of the next command is written before its first element. */
typedef struct batchWriter {
    rio *r;
    const char *cmd;
    sds key;
    long long remaining; /* elements not written yet */
    int in_batch;        /* elements written in the current command */
    int words_per_item;  /* 1 (member) or 2 (score + member, field + value) */
} batchWriter;

static int batchNextItem(batchWriter *b) {
    if (b->in_batch == 0) {
        long long n = b->remaining > AOF_REWRITE_ITEMS_PER_CMD ? AOF_REWRITE_ITEMS_PER_CMD : b->remaining;
        if (!rioCountLine(b->r, '*', 2 + n * b->words_per_item) || !rioBulkString(b->r, b->cmd) ||
            !rioBulk(b->r, b->key, sdslen(b->key)))
            return 0;
    }
    if (++b->in_batch == AOF_REWRITE_ITEMS_PER_CMD) b->in_batch = 0;
    b->remaining--;
    return 1;
}

static int rioBulkElement(rio *r, const unsigned char *s, size_t len, long long ll) {
    return s ? rioBulk(r, s, len) : rioBulkLongLong(r, ll);
}

static int writeListCommands(rio *r, sds key, robj *o) {
    batchWriter b = {r, "RPUSH", key, (long long)listTypeLength(o), 0, 1};
    if (o->encoding == OBJ_ENCODING_QUICKLIST) {
        quicklistIter *it = quicklistGetIterator(objectGetVal(o), AL_START_HEAD);
        quicklistEntry e;
        int ok = 1;
        while (ok && quicklistNext(it, &e)) ok = batchNextItem(&b) && rioBulkElement(r, e.value, e.sz, e.longval);
        quicklistReleaseIterator(it);
        return ok;
    }
    unsigned char *lp = objectGetVal(o);
    for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p)) {
        unsigned int slen = 0;
        long long ll = 0;
        unsigned char *s = lpGetValue(p, &slen, &ll);
        if (!batchNextItem(&b) || !rioBulkElement(r, s, slen, ll)) return 0;
    }
    return 1;
}

static int writeSetCommands(rio *r, sds key, robj *o) {
    batchWriter b = {r, "SADD", key, (long long)setTypeSize(o), 0, 1};
    setTypeIterator si;
    char *str;
    size_t len = 0;
    int64_t llval = 0;
    int ok = 1;
    setTypeInitIterator(&si, o);
    while (ok && setTypeNext(&si, &str, &len, &llval) != -1)
        ok = batchNextItem(&b) && rioBulkElement(r, (unsigned char *)str, len, llval);
    setTypeResetIterator(&si);
    return ok;
}

static int writeZsetCommands(rio *r, sds key, robj *o) {
    batchWriter b = {r, "ZADD", key, (long long)zsetLength(o), 0, 2};
    zsetIterator it;
    const unsigned char *str;
    size_t len;
    long long ll;
    double score;
    zsetIteratorInit(&it, o, 0);
    while (zsetIteratorNext(&it, &str, &len, &ll, &score))
        if (!batchNextItem(&b) || !rioBulkDouble(r, score) || !rioBulkElement(r, str, len, ll)) return 0;
    return 1;
}

static int writeHashCommands(rio *r, sds key, robj *o) {
    batchWriter b = {r, "HMSET", key, (long long)hashTypeLength(o), 0, 2};
    hashTypeIterator hi;
    hashTypeItem field, value;
    int ok = 1;
    hashTypeInitIterator(o, &hi);
    while (ok && hashTypeNext(&hi, &field, &value))
        ok = batchNextItem(&b) && rioBulk(r, field.str, field.len) && rioBulk(r, value.str, value.len);
    hashTypeResetIterator(&hi);
    return ok;
}

/* Values of a type or encoding this file cannot walk (tiering's cold values, types
 * to come) are written as RESTORE of their DUMP payload, which this frees. */
static int writeRestoreCommand(rio *r, sds key, sds payload) {
    if (!payload) {
        serverLog(LL_WARNING, "AOF rewrite: the value of key '%s' has no serialized form", key);
        errno = EINVAL;
        return 0;
    }
    int ok = rioCountLine(r, '*', 4) && rioBulkString(r, "RESTORE") && rioBulk(r, key, sdslen(key)) &&
             rioBulkString(r, "0") && rioBulk(r, payload, sdslen(payload));
    sdsfree(payload);
    return ok;
}

static int walkableEncoding(const robj *o) {
    switch (o->type) {
    case OBJ_STRING:
        return o->encoding == OBJ_ENCODING_RAW || o->encoding == OBJ_ENCODING_EMBSTR ||
               o->encoding == OBJ_ENCODING_INT;
    case OBJ_LIST: return o->encoding == OBJ_ENCODING_LISTPACK || o->encoding == OBJ_ENCODING_QUICKLIST;
    case OBJ_SET:
        return o->encoding == OBJ_ENCODING_INTSET || o->encoding == OBJ_ENCODING_LISTPACK ||
               o->encoding == OBJ_ENCODING_HT;
    case OBJ_ZSET: return o->encoding == OBJ_ENCODING_LISTPACK || o->encoding == OBJ_ENCODING_SKIPLIST;
    case OBJ_HASH: return o->encoding == OBJ_ENCODING_LISTPACK || o->encoding == OBJ_ENCODING_HT;
    default: return 0;
    }
}

static int writeKeyCommands(rio *r, sds key, robj *o, int dbid) {
    int ok;
    if (o->cold || !walkableEncoding(o)) { /* a cold value: its stored RDB encoding */
        sds payload = rdbCreateDumpPayload(o, NULL, dbid);
        if (!payload && o->cold && tierColdValueCorrupt(o)) return 1; /* left out, as from an RDB snapshot */
        ok = writeRestoreCommand(r, key, payload);
    } else if (o->type == OBJ_STRING) {
        ok = rioCountLine(r, '*', 3) && rioBulkString(r, "SET") && rioBulk(r, key, sdslen(key)) &&
             rioBulkObject(r, o);
    } else if (o->type == OBJ_LIST) {
        ok = writeListCommands(r, key, o);
    } else if (o->type == OBJ_SET) {
        ok = writeSetCommands(r, key, o);
    } else if (o->type == OBJ_ZSET) {
        ok = writeZsetCommands(r, key, o);
    } else {
        ok = writeHashCommands(r, key, o);
    }
    long long expire = objectGetExpire(o);
    if (ok && expire != -1)
        ok = rioCountLine(r, '*', 3) && rioBulkString(r, "PEXPIREAT") && rioBulk(r, key, sdslen(key)) &&
             rioBulkLongLong(r, expire);
    return ok;
}

typedef struct rewriteDbState {
    rio *r;
    int dbid;
    int delay;
} rewriteDbState;

static int rewriteDbEntry(robj *o, void *privdata) {
    rewriteDbState *st = privdata;
    int ok = writeKeyCommands(st->r, objectGetKey(o), o, st->dbid);
    if (st->delay > 0) debugDelay(st->delay);
    return ok ? 0 : -1;
}

typedef struct functionWriteState {
    rio *r;
    int failed;
} functionWriteState;

static void writeFunctionLoad(void *privdata, sds code) {
    functionWriteState *st = privdata;
    if (st->failed) return;
    if (!rioCountLine(st->r, '*', 3) || !rioBulkString(st->r, "FUNCTION") || !rioBulkString(st->r, "LOAD") ||
        !rioBulk(st->r, code, sdslen(code)))
        st->failed = 1;
}

static int keySaveDelay(void) {
    sds v = configGetByName("rdb-key-save-delay");
    long long delay = 0;
    if (v) string2ll(v, sdslen(v), &delay);
    sdsfree(v);
    return (int)delay;
}

static int writeRespBase(rio *r) {
    if (aof_conf.timestamp_enabled) {
        char ts[64];
        int len = snprintf(ts, sizeof(ts), "#TS:%lld\r\n", (long long)time(NULL));
        if (!rioWrite(r, ts, (size_t)len)) return C_ERR;
    }
    if (functionsForEachLibraryCode) {
        functionWriteState st = {r, 0};
        functionsForEachLibraryCode(writeFunctionLoad, &st);
        if (st.failed) return C_ERR;
    }
    int delay = keySaveDelay();
    for (int j = 0; j < server.dbnum; j++) {
        serverDb *db = &server.db[j];
        if (hashtableSize(db->keys) == 0) continue;
        if (!rioCountLine(r, '*', 2) || !rioBulkString(r, "SELECT") || !rioBulkLongLong(r, j)) return C_ERR;
        rewriteDbState st = {r, j, delay};
        if (tierForEachEntryColdLast(db, rewriteDbEntry, &st) != 0) return C_ERR;
    }
    return C_OK;
}

/* Writes the whole dataset to filename (temp file + rename), as an RDB or commands. */
static int writeBaseFile(const char *filename) {
    char tmpfile[64];
    snprintf(tmpfile, sizeof(tmpfile), "temp-rewriteaof-%d.aof", (int)getpid());
    FILE *fp = fopen(tmpfile, "w");
    if (!fp) {
        serverLog(LL_WARNING, "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): %s", strerror(errno));
        return C_ERR;
    }
    rio r;
    rioInitWithFile(&r, fp);
    rioSetWriteBuffer(&r, RIO_WRITE_BUFFER_SIZE);
    if (aof_conf.incremental_fsync) rioSetAutoSync(&r, AOF_AUTOSYNC_BYTES);
    int error = 0;
    if (aof_conf.use_rdb_preamble) {
        if (rdbSaveRio(&r, RDBFLAGS_AOF_PREAMBLE, &error) == C_ERR) {
            errno = error;
            goto werr;
        }
    } else if (writeRespBase(&r) == C_ERR) {
        goto werr;
    }
    if (fflush(fp) != 0 || fsync(fileno(fp)) == -1) goto werr;
    if (fclose(fp) != 0) {
        fp = NULL;
        goto werr;
    }
    fp = NULL;
    if (rename(tmpfile, filename) == -1) {
        serverLog(LL_WARNING, "Error moving temp append only file on the final destination: %s", strerror(errno));
        unlink(tmpfile);
        return C_ERR;
    }
    return C_OK;
werr:
    serverLog(LL_WARNING, "Write error writing append only file on disk: %s", strerror(errno));
    if (fp) fclose(fp);
    unlink(tmpfile);
    return C_ERR;
}

/* --- The child --- */

static void removeRewriteTempFiles(pid_t childpid) {
    char tmpfile[64];
    snprintf(tmpfile, sizeof(tmpfile), "temp-rewriteaof-bg-%d.aof", (int)childpid);
    unlink(tmpfile);
    snprintf(tmpfile, sizeof(tmpfile), "temp-rewriteaof-%d.aof", (int)childpid);
    unlink(tmpfile);
}

static void closeCowPipe(void) {
    for (int j = 0; j < 2; j++) {
        if (aof.cow_pipe[j] != -1) close(aof.cow_pipe[j]);
        aof.cow_pipe[j] = -1;
    }
}

/* The child serves nothing: it lets go of the listening sockets (plain close(), the
 * epoll set is shared with the parent) and dies of the signals the parent uses. */
static void rewriteChildMain(void) {
    aof.in_child = 1;
    for (int j = 0; j < server.ipfd_count; j++) close(server.ipfd[j]);
    if (server.sofd >= 0) close(server.sofd);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    if (aof.cow_pipe[0] != -1) close(aof.cow_pipe[0]);
    char tmpfile[64];
    snprintf(tmpfile, sizeof(tmpfile), "temp-rewriteaof-bg-%d.aof", (int)getpid());
    if (writeBaseFile(tmpfile) != C_OK) _exit(1);
    serverLog(LL_NOTICE, "Successfully created the temporary AOF base file %s", tmpfile);
    long long cow = (long long)zmalloc_get_private_dirty(-1);
    if (cow) serverLog(LL_NOTICE, "Fork CoW for AOF rewrite: current %lld MB", cow >> 20);
    if (aof.cow_pipe[1] != -1) {
        ssize_t ignored = write(aof.cow_pipe[1], &cow, sizeof(cow));
        (void)ignored;
    }
    _exit(0);
}

/* --- The parent --- */

/* Before forking: writes go to a new incr file from now on. With the AOF on it is a
 * real incr file, in the manifest at once; while waiting for the first rewrite it is
 * the temp incr file, which becomes real only if that rewrite succeeds. */
static int openNewIncrForRewrite(void) {
    if (aof.state == AOF_OFF) return C_OK;
    aofManifest *am = NULL;
    sds name;
    if (aof.state == AOF_WAIT_REWRITE) {
        name = tempIncrName();
    } else {
        am = manifestDup(aof.manifest);
        name = sdsdup(manifestNewIncr(am));
    }
    sds path = aofPath(name);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0644);
    sdsfree(path);
    if (fd == -1) {
        serverLog(LL_WARNING, "Can't open the append-only file %s: %s", name, strerror(errno));
        goto fail;
    }
    if (am && persistManifest(am) == C_ERR) goto fail;
    serverLog(LL_NOTICE, "Creating AOF incr file %s on background rewrite", name);
    sdsfree(name);
    /* The old file was written; with everysec its last fsync may still be due. */
    if (aof.fd != -1) bgioSubmit(BGIO_FSYNC_AND_CLOSE, aof.fd);
    aof.fd = fd;
    aof.last_incr_size = 0;
    aof.last_incr_fsync_offset = 0;
    aof.last_fsync = server.mstime;
    if (am) {
        aofManifestFree(aof.manifest);
        aof.manifest = am;
    }
    return C_OK;
fail:
    if (fd != -1) close(fd);
    sdsfree(name);
    aofManifestFree(am);
    return C_ERR;
}

static int startRewrite(void) {
    if (server.child_pid != -1) return C_ERR;
    if (makeDirIfMissing(aof_conf.dirname) == -1) {
        serverLog(LL_WARNING, "Can't open or create append-only dir %s: %s", aof_conf.dirname, strerror(errno));
        aof.lastbgrewrite_status = C_ERR;
        return C_ERR;
    }
    /* The new incr file starts with a SELECT. */
    aof.selected_db = -1;
    aofFlush(1);
    if (openNewIncrForRewrite() != C_OK) {
        aof.lastbgrewrite_status = C_ERR;
        return C_ERR;
    }
    aof.rewrites++;
    aof.fork_reploff = replicationOffset(); /* the child's base holds everything before */
    if (pipe(aof.cow_pipe) == -1) aof.cow_pipe[0] = aof.cow_pipe[1] = -1;
    if (aof.cow_pipe[0] != -1) fcntl(aof.cow_pipe[0], F_SETFL, O_NONBLOCK);
    fflush(NULL); /* nothing buffered twice */
    tierForkBegin(); /* freed flash space is not reused while the child may read it */
    pid_t pid = fork();
    if (pid == 0) rewriteChildMain();
    if (pid == -1) {
        closeCowPipe();
        aof.lastbgrewrite_status = C_ERR;
        serverLog(LL_WARNING, "Can't rewrite append only file in background: fork: %s", strerror(errno));
        return C_ERR;
    }
    close(aof.cow_pipe[1]);
    aof.cow_pipe[1] = -1;
    serverLog(LL_NOTICE, "Background append only file rewriting started by pid %ld", (long)pid);
    server.child_pid = pid;
    server.child_type = CHILD_TYPE_AOF;
    aof.rewrite_scheduled = 0;
    aof.rewrite_time_start = time(NULL);
    return C_OK;
}

static void resetRewriteChild(void) {
    server.child_pid = -1;
    server.child_type = CHILD_TYPE_NONE;
    closeCowPipe();
}

/* Stops a running rewrite (CONFIG SET appendonly no, SHUTDOWN): not a failure. */
static void killRewriteChild(void) {
    if (!aofRewriteInProgress()) return;
    pid_t pid = server.child_pid;
    serverLog(LL_NOTICE, "Killing running AOF rewrite child: %ld", (long)pid);
    if (kill(pid, SIGUSR1) != -1) {
        int status;
        while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
        }
    }
    removeRewriteTempFiles(pid);
    resetRewriteChild();
    aof.rewrite_time_start = -1;
}

/* Deletes the history files (unless aof-disable-auto-gc) and records it. */
static int deleteHistoryFiles(void) {
    aofManifest *am = aof.manifest;
    if (!am || aof_conf.disable_auto_gc || am->nhistory == 0) return C_OK;
    for (int j = 0; j < am->nhistory; j++) {
        serverLog(LL_NOTICE, "Removing the history file %s in the background", am->history[j].name);
        removeFileInBackground(aofPath(am->history[j].name));
        fileInfoClear(&am->history[j]);
    }
    zfree(am->history);
    am->history = NULL;
    am->nhistory = 0;
    am->dirty = 1;
    return persistManifest(am);
}

static void rewriteFailed(void) {
    aof.lastbgrewrite_status = C_ERR;
    aof.consecutive_failures++;
}

/* The child wrote temp-rewriteaof-bg-<pid>.aof: it becomes the new base. */
static void rewriteSucceeded(pid_t pid) {
    char tmpfile[64];
    snprintf(tmpfile, sizeof(tmpfile), "temp-rewriteaof-bg-%d.aof", (int)pid);
    serverLog(LL_NOTICE, "Background AOF rewrite terminated with success");
    aofManifest *am = manifestDup(aof.manifest);
    sds base_name = sdsdup(manifestNewBase(am));
    sds base_path = aofPath(base_name);
    sds incr_path = NULL;
    long long start = mstime();
    if (rename(tmpfile, base_path) == -1) {
        serverLog(LL_WARNING, "Error trying to rename the temporary AOF base file %s into %s: %s", tmpfile,
                  base_path, strerror(errno));
        goto fail;
    }
    latencyAddSampleIfNeeded("aof-rename", mstime() - start);
    serverLog(LL_NOTICE, "Successfully renamed the temporary AOF base file %s into %s", tmpfile, base_name);
    if (aof.state == AOF_WAIT_REWRITE) {
        /* What was written since the fork becomes the first real incr file. */
        sds temp_name = tempIncrName();
        sds temp_path = aofPath(temp_name);
        sds incr_name = manifestNewIncr(am);
        incr_path = aofPath(incr_name);
        if (rename(temp_path, incr_path) == -1) {
            serverLog(LL_WARNING, "Error trying to rename the temporary AOF incr file %s into %s: %s", temp_path,
                      incr_path, strerror(errno));
            sdsfree(temp_name);
            sdsfree(temp_path);
            unlink(base_path);
            goto fail;
        }
        serverLog(LL_NOTICE, "Successfully renamed the temporary AOF incr file %s into %s", temp_name, incr_name);
        sdsfree(temp_name);
        sdsfree(temp_path);
    }
    manifestIncrsToHistory(am, aof.fd != -1);
    if (persistManifest(am) == C_ERR) {
        unlink(base_path);
        if (incr_path) unlink(incr_path);
        goto fail;
    }
    aofManifestFree(aof.manifest);
    aof.manifest = am;
    if (aof.state != AOF_OFF) {
        int status;
        aof.current_size = aofFileSize(base_name, &status) + aof.last_incr_size;
        aof.rewrite_base_size = aof.current_size;
    }
    deleteHistoryFiles();
    aof.lastbgrewrite_status = C_OK;
    aof.consecutive_failures = 0;
    serverLog(LL_NOTICE, "Background AOF rewrite finished successfully");
    if (aof.state == AOF_WAIT_REWRITE) {
        aof.state = AOF_ON;
        aof.fsynced_reploff = aof.fork_reploff; /* the base is fsynced by the child */
    }
    sdsfree(base_name);
    sdsfree(base_path);
    sdsfree(incr_path);
    return;
fail:
    aofManifestFree(am);
    sdsfree(base_name);
    sdsfree(base_path);
    sdsfree(incr_path);
    rewriteFailed();
}

static void readChildCow(void) {
    long long cow;
    if (aof.cow_pipe[0] != -1 && read(aof.cow_pipe[0], &cow, sizeof(cow)) == (ssize_t)sizeof(cow))
        aof.last_cow_size = cow;
}

static void rewriteDone(pid_t pid, int exitcode, int bysignal) {
    if (!bysignal && exitcode == 0) {
        readChildCow();
        rewriteSucceeded(pid);
    } else if (!bysignal) {
        rewriteFailed();
        serverLog(LL_WARNING, "Background AOF rewrite terminated with error");
    } else {
        /* SIGUSR1 is how the server stops a child itself: not an error. */
        if (bysignal != SIGUSR1) rewriteFailed();
        serverLog(LL_WARNING, "Background AOF rewrite terminated by signal %d", bysignal);
    }
    removeRewriteTempFiles(pid);
    if (aof.state == AOF_WAIT_REWRITE) {
        /* Still waiting: what the temp incr file holds is useless without its base. */
        sdsclear(aof.buf ? aof.buf : (aof.buf = sdsempty()));
        if (aof.fd != -1) {
            bgioDrain();
            close(aof.fd);
            aof.fd = -1;
        }
        sds temp_name = tempIncrName();
        serverLog(LL_NOTICE, "Removing the temp incr aof file %s in the background", temp_name);
        removeFileInBackground(aofPath(temp_name));
        sdsfree(temp_name);
        aof.rewrite_scheduled = 1;
    }
    aof.rewrite_time_last = time(NULL) - aof.rewrite_time_start;
    aof.rewrite_time_start = -1;
}

/* After repeated failures automatic rewrites wait 1, 2, 4 ... 60 minutes (BGREWRITEAOF
 * still runs at once), so that a failing disk does not fill up with tiny incr files. */
static int rewriteLimited(void) {
    static int next_delay_minutes = 0;
    static time_t next_rewrite_time = 0;
    if (aof.consecutive_failures < AOF_REWRITE_LIMIT_THRESHOLD) {
        next_delay_minutes = 0;
        next_rewrite_time = 0;
        return 0;
    }
    if (next_rewrite_time != 0) {
        if (server.unixtime < next_rewrite_time) return 1;
        next_rewrite_time = 0;
        return 0;
    }
    next_delay_minutes = next_delay_minutes == 0 ? 1 : next_delay_minutes * 2;
    if (next_delay_minutes > AOF_REWRITE_LIMIT_MAX_MINUTES) next_delay_minutes = AOF_REWRITE_LIMIT_MAX_MINUTES;
    next_rewrite_time = server.unixtime + next_delay_minutes * 60;
    serverLog(LL_WARNING,
              "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in %d minutes",
              next_delay_minutes);
    return 1;
}

/* --- Turning the AOF on and off at runtime --- */

static int startAppendOnly(void) {
    aof.state = AOF_WAIT_REWRITE;
    if (server.child_pid != -1 && server.child_type != CHILD_TYPE_AOF) {
        aof.rewrite_scheduled = 1;
        serverLog(LL_NOTICE, "AOF was enabled but there is already another background operation. An AOF background "
                             "was scheduled to start when possible.");
    } else if (server.in_exec) {
        aof.rewrite_scheduled = 1;
        serverLog(LL_NOTICE,
                  "AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
    } else {
        if (aofRewriteInProgress()) {
            serverLog(LL_NOTICE, "AOF was enabled but there is already an AOF rewriting in background. Stopping "
                                 "background AOF and starting a rewrite now.");
            killRewriteChild();
        }
        if (startRewrite() == C_ERR) {
            aof.state = AOF_OFF;
            serverLog(LL_WARNING, "The server needs to enable the AOF but can't trigger a background AOF rewrite "
                                  "operation. Check the above logs for more info about the error.");
            return C_ERR;
        }
    }
    aof.last_fsync = server.mstime;
    if (bgio.fsync_status == C_ERR) {
        serverLog(LL_WARNING, "AOF reopen, just ignore the AOF fsync error in bio job");
        bgio.fsync_status = C_OK;
    }
    if (aof.last_write_status == C_ERR) {
        serverLog(LL_WARNING, "AOF reopen, just ignore the last error.");
        aof.last_write_status = C_OK;
    }
    return C_OK;
}

static void stopAppendOnly(void) {
    aofFlush(1);
    if (aof.fd != -1) {
        bgioDrain();
        if (aofFdatasync(aof.fd) == -1)
            serverLog(LL_WARNING, "Fail to fsync the AOF file: %s", strerror(errno));
        else
            aof.last_fsync = server.mstime;
        close(aof.fd);
    }
    aof.fd = -1;
    aof.selected_db = -1;
    aof.state = AOF_OFF;
    aof.rewrite_scheduled = 0;
    aof.last_incr_size = 0;
    aof.last_incr_fsync_offset = 0;
    killRewriteChild();
    sdsfree(aof.buf);
    aof.buf = sdsempty();
    resetFsyncedOffsets();
}

static int aof_restart_after_sync; /* off for a full sync, to be turned on again */

void aofStopForFullSync(void) {
    if (aof.state == AOF_OFF) return;
    stopAppendOnly();
    aof_restart_after_sync = 1;
}

void aofRestartAfterFullSync(void) {
    if (!aof_restart_after_sync || !aof_conf.enabled || aof.state != AOF_OFF) {
        aof_restart_after_sync = 0;
        return;
    }
    if (startAppendOnly() == C_OK) {
        aof_restart_after_sync = 0;
        return;
    }
    serverLog(LL_WARNING, "Failed enabling the AOF after successful primary synchronization! Trying it again in "
                          "one second.");
}

static int applyAppendonly(const char **err) {
    if (!aof_conf.enabled && aof.state != AOF_OFF) {
        stopAppendOnly();
    } else if (aof_conf.enabled && aof.state == AOF_OFF) {
        if (startAppendOnly() == C_ERR) {
            *err = "Unable to turn on AOF. Check server logs.";
            return 0;
        }
    }
    return 1;
}

/* Switching to always: whatever a background fsync was doing must be done first. */
static int applyAppendfsync(const char **err) {
    (void)err;
    if (aof_conf.fsync_policy == AOF_FSYNC_ALWAYS) bgioDrain();
    return 1;
}

/* --- Start-up --- */

/* With the AOF on, the incr file to append to is opened (a new one when the manifest
 * has none), and a base is written first when there is nothing at all. */
static void openAtStartup(void) {
    if (makeDirIfMissing(aof_conf.dirname) == -1) {
        serverLog(LL_WARNING, "Can't open or create append-only dir %s: %s", aof_conf.dirname, strerror(errno));
        exit(1);
    }
    aofManifest *am = aof.manifest;
    int had_incr = am->nincr > 0;
    if (!am->base && !had_incr) {
        sds base_name = manifestNewBase(am);
        sds base_path = aofPath(base_name);
        if (writeBaseFile(base_path) != C_OK) exit(1);
        sdsfree(base_path);
        serverLog(LL_NOTICE, "Creating AOF base file %s on server start", base_name);
        int status;
        aof.rewrite_base_size = aof.current_size = aofFileSize(base_name, &status);
    }
    sds name = had_incr ? am->incr[am->nincr - 1].name : manifestNewIncr(am);
    sds path = aofPath(name);
    aof.fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    sdsfree(path);
    if (aof.fd == -1) {
        serverLog(LL_WARNING, "Can't open the append-only file %s: %s", name, strerror(errno));
        exit(1);
    }
    if (persistManifest(am) != C_OK) exit(1);
    struct stat st;
    aof.last_incr_size = fstat(aof.fd, &st) == 0 ? st.st_size : 0;
    aof.last_incr_fsync_offset = aof.last_incr_size;
    serverLog(LL_NOTICE, "%s AOF incr file %s on server start", had_incr ? "Opening" : "Creating", name);
}

int aofStartup(void) {
    aof.state = aof_conf.enabled ? AOF_ON : AOF_OFF;
    if (!aof.buf) aof.buf = sdsempty();
    aof.last_fsync = server.mstime;
    loadManifestFromDisk(aof.state == AOF_ON);
    if (aof.state == AOF_ON) {
        long long start = ustime();
        int ret = loadAll(aof.manifest);
        if (ret == AOF_FAILED || ret == AOF_OPEN_ERR) {
            serverLog(LL_WARNING, "Fatal error loading the DB from the append only file, check server logs. Exiting.");
            exit(1);
        }
        if (ret != AOF_NOT_EXIST)
            serverLog(LL_NOTICE, "DB loaded from append only file: %.3f seconds", (double)(ustime() - start) / 1000000);
        openAtStartup();
    }
    deleteHistoryFiles();
    return aof.state == AOF_ON;
}

/* ------------------------------------------------------------------------- */
/* 7. Commands, cron, shutdown, INFO, DEBUG                                    */
/* ------------------------------------------------------------------------- */

void bgrewriteaofCommand(client *c) {
    if (aofRewriteInProgress()) {
        addReplyError(c, "Background append only file rewriting already in progress");
    } else if (server.child_pid != -1 || server.in_exec) {
        aof.rewrite_scheduled = 1;
        /* Asked for explicitly: the failure limit does not apply. */
        aof.consecutive_failures = 0;
        addReplyStatus(c, "Background append only file rewriting scheduled");
    } else if (startRewrite() == C_OK) {
        addReplyStatus(c, "Background append only file rewriting started");
    } else {
        addReplyError(c, "Can't execute an AOF background rewriting. Please check the server logs for more "
                         "information.");
    }
}

static void reapRewriteChild(void) {
    int status;
    pid_t pid = waitpid(server.child_pid, &status, WNOHANG);
    if (pid == 0) return;
    if (pid == -1) {
        serverLog(LL_WARNING, "waitpid() returned an error: %s. child_type: AOF, child_pid = %d", strerror(errno),
                  (int)server.child_pid);
        removeRewriteTempFiles(server.child_pid);
        resetRewriteChild();
        aof.rewrite_time_start = -1;
        return;
    }
    int exitcode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    int bysignal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    rewriteDone(pid, exitcode, bysignal);
    resetRewriteChild();
}

static int autoRewriteDue(void) {
    if (aof.state != AOF_ON || !aof_conf.rewrite_perc || aof.current_size <= aof_conf.rewrite_min_size) return 0;
    long long base = aof.rewrite_base_size ? (long long)aof.rewrite_base_size : 1;
    long long growth = (long long)aof.current_size * 100 / base - 100;
    if (growth < aof_conf.rewrite_perc) return 0;
    if (rewriteLimited()) return 0;
    serverLog(LL_NOTICE, "Starting automatic rewriting of AOF on %lld%% growth", growth);
    return 1;
}

void aofCron(void) {
    static time_t last_error_retry = 0;
    if (aofRewriteInProgress()) reapRewriteChild();
    static time_t last_restart_retry = 0;
    if (aof_restart_after_sync && server.unixtime != last_restart_retry) {
        last_restart_retry = server.unixtime;
        aofRestartAfterFullSync();
    }
    if (server.child_pid == -1 && aof.rewrite_scheduled && !rewriteLimited()) startRewrite();
    if (server.child_pid == -1 && autoRewriteDue()) startRewrite();
    if (aof.state == AOF_ON && aof.flush_postponed_start) aofFlush(0);
    /* After a write error, try again once a second even without new writes. */
    if (aof.state == AOF_ON && aof.last_write_status == C_ERR && server.unixtime != last_error_retry) {
        last_error_retry = server.unixtime;
        aofFlush(0);
    }
}

int aofPrepareForShutdown(int flags) {
    if (aofRewriteInProgress()) {
        if (aof.state == AOF_WAIT_REWRITE) {
            if (!(flags & SHUTDOWN_FORCE)) {
                serverLog(LL_WARNING, "Writing initial AOF, can't exit.");
                return C_ERR;
            }
            serverLog(LL_WARNING, "Writing initial AOF. Exit anyway.");
        }
        serverLog(LL_WARNING, "There is a child rewriting the AOF. Killing it!");
        killRewriteChild();
    }
    if (aof.state != AOF_OFF && aof.fd != -1) {
        serverLog(LL_NOTICE, "Calling fsync() on the AOF file.");
        aofFlush(1);
        bgioDrain();
        if (aofFdatasync(aof.fd) == -1) serverLog(LL_WARNING, "Fail to fsync the AOF file: %s.", strerror(errno));
    }
    return C_OK;
}

sds aofCatInfo(sds info) {
    int in_progress = aofRewriteInProgress();
    return sdscatprintf(info,
                        "aof_enabled:%d\r\n"
                        "aof_rewrite_in_progress:%d\r\n"
                        "aof_rewrite_scheduled:%d\r\n"
                        "aof_last_rewrite_time_sec:%lld\r\n"
                        "aof_current_rewrite_time_sec:%lld\r\n"
                        "aof_last_bgrewrite_status:%s\r\n"
                        "aof_rewrites:%lld\r\n"
                        "aof_rewrites_consecutive_failures:%lld\r\n"
                        "aof_last_write_status:%s\r\n"
                        "aof_last_cow_size:%lld\r\n",
                        aof.state != AOF_OFF, in_progress, aof.rewrite_scheduled, (long long)aof.rewrite_time_last,
                        in_progress ? (long long)(time(NULL) - aof.rewrite_time_start) : -1LL,
                        aof.lastbgrewrite_status == C_OK ? "ok" : "err", aof.rewrites, aof.consecutive_failures,
                        aof.last_write_status == C_OK && bgio.fsync_status == C_OK ? "ok" : "err",
                        aof.last_cow_size);
}

sds aofCatInfoWhenEnabled(sds info) {
    if (!aof_conf.enabled) return info;
    return sdscatprintf(info,
                        "aof_current_size:%lld\r\n"
                        "aof_base_size:%lld\r\n"
                        "aof_pending_rewrite:%d\r\n"
                        "aof_buffer_length:%zu\r\n"
                        "aof_pending_bio_fsync:%ld\r\n"
                        "aof_delayed_fsync:%lu\r\n",
                        (long long)aof.current_size, (long long)aof.rewrite_base_size, aof.rewrite_scheduled,
                        aof.buf ? sdslen(aof.buf) : 0, (long)bgio.pending_fsync, aof.delayed_fsync);
}

void aofDebugLoad(void) {
    if (aof.state == AOF_ON) aofFlush(1);
    emptyData(-1, EMPTYDB_NO_FLAGS, NULL);
    if (functionsFlushAll) functionsFlushAll();
    loadManifestFromDisk(1);
    deleteHistoryFiles();
    /* Clients are served while the files load: the caller must wait for its reply. */
    client *caller = server.executing_client;
    if (caller) protectClient(caller);
    int ret = loadAll(aof.manifest);
    if (caller) unprotectClient(caller);
    if (ret != AOF_OK && ret != AOF_EMPTY && ret != AOF_NOT_EXIST && ret != AOF_TRUNCATED) {
        serverLog(LL_WARNING, "DEBUG LOADAOF failed to load the append only file. Exiting.");
        exit(1);
    }
    server.dirty = 0; /* nothing of this is propagated */
    serverLog(LL_NOTICE, "Append Only File loaded by DEBUG LOADAOF");
}

static int applyAutoGc(const char **err) {
    (void)err;
    deleteHistoryFiles();
    return 1;
}
