/* valkey-check-aof.c -- the AOF checker: the server binary run as valkey-check-aof (or
 * valkey-server --check-aof ...).
 *
 *   valkey-check-aof [--fix|--truncate-to-timestamp <unix-time>] <file.manifest|file.aof>
 *
 * Given a manifest it checks the base and every incr file it lists, in order; given a
 * single file it checks an old-style AOF (commands, optionally after an RDB preamble).
 * Commands are read by the server's own AOF reader (aof.c), RDB parts by the server's
 * RDB loader in check-only mode, so the checker accepts exactly what the server loads.
 * For each file it reports the offset and line up to which the file is sound.
 *
 * --fix truncates a damaged file to its last complete command (only the last file of a
 * manifest may be truncated). It asks for confirmation when stdin is a terminal; when
 * stdin is not a terminal (scripts, pipes) it proceeds without asking, but still reads
 * an answer if one is piped in ("n" aborts). --truncate-to-timestamp cuts the last file
 * at the first "#TS:" annotation later than the given time.
 *
 * Exit status: 0 when everything is valid (or was fixed), 1 otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aof.h"
#include "object.h"
#include "rdb.h"
#include "rio.h"
#include "server.h"
#include "util.h"
#include "version.h"

#define CHECK_OK 0
#define CHECK_EMPTY 1
#define CHECK_TRUNCATED 2
#define CHECK_TIMESTAMP_TRUNCATED 3

static struct {
    int fix;
    long long to_timestamp; /* 0: no --truncate-to-timestamp */
} opts;

static void die(void) {
    exit(1);
}

static FILE *openChecked(const char *path, const char *mode, off_t *size) {
    FILE *fp = fopen(path, mode);
    if (!fp) {
        printf("Cannot open file %s: %s, aborting...\n", path, strerror(errno));
        die();
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == -1) {
        printf("Cannot stat file: %s, aborting...\n", path);
        die();
    }
    *size = st.st_size;
    return fp;
}

/* An RDB at the head of the file: the whole base, or an old AOF's preamble. */
static void checkRdbPart(FILE *fp, const char *path) {
    rio r;
    rioInitWithFile(&r, fp);
    rdbLoadStats stats;
    printf("[offset 0] Checking RDB preamble of %s\n", path);
    if (rdbLoadRio(&r, RDBFLAGS_CHECK_ONLY, &stats, NULL) != C_OK) {
        printf("[offset %lld] %s\n", (long long)r.processed_bytes, rdbLoadErrorMessage());
        printf("RDB preamble of AOF file is not sane, aborting.\n");
        die();
    }
    printf("[offset %lld] %lld keys in the RDB part\n", (long long)r.processed_bytes,
           stats.keys_loaded + stats.keys_expired);
    printf("RDB preamble is OK, proceeding with AOF tail...\n");
}

/* A "#TS:<time>" annotation after the target time: the file is cut there. Returns 1
 * when it was (nothing more to check). */
static int handleTimestamp(FILE *fp, aofReader *rd, off_t at, const char *name, int last_file) {
    if (!opts.to_timestamp || strncmp(rd->annotation, "#TS:", 4) != 0) return 0;
    const char *digits = rd->annotation + 4;
    long long ts;
    if (!string2ll(digits, strlen(digits), &ts)) {
        printf("Invalid timestamp annotation\n");
        die();
    }
    if (ts <= opts.to_timestamp) return 0;
    if (at == 0) {
        printf("AOF %s has nothing before timestamp %lld, aborting...\n", name, opts.to_timestamp);
        die();
    }
    if (!last_file) {
        printf("Failed to truncate AOF %s to timestamp %lld to offset %lld because it is not the last file.\n", name,
               opts.to_timestamp, (long long)at);
        printf("If you insist, please delete all files after this file according to the manifest file and delete "
               "the corresponding records in manifest file manually. Then re-run valkey-check-aof.\n");
        die();
    }
    if (ftruncate(fileno(fp), at) == -1) {
        printf("Failed to truncate AOF %s to timestamp %lld\n", name, opts.to_timestamp);
        die();
    }
    return 1;
}

static int confirmFix(void) {
    char answer[16];
    printf("Continue? [y/N]: ");
    fflush(stdout);
    if (!isatty(STDIN_FILENO)) {
        /* Non-interactive: proceed, unless a "no" was piped in. */
        if (fgets(answer, sizeof(answer), stdin) != NULL && strncasecmp(answer, "n", 1) == 0) return 0;
        printf("y (stdin is not a terminal: no confirmation asked)\n");
        return 1;
    }
    return fgets(answer, sizeof(answer), stdin) != NULL && strncasecmp(answer, "y", 1) == 0;
}

/* The first word of a command, to follow MULTI/EXEC. */
static int commandIs(robj **argv, int argc, const char *name) {
    return argc > 0 && stringObjectEqualsIgnoreCase(argv[0], name);
}

static int checkSingleFile(const char *name, const char *path, int last_file, int preamble) {
    off_t size;
    FILE *fp = openChecked(path, opts.fix || opts.to_timestamp ? "r+" : "r", &size);
    if (size == 0) {
        fclose(fp);
        return CHECK_EMPTY;
    }
    if (preamble) checkRdbPart(fp, path);

    aofReader rd;
    aofReaderInit(&rd, fp, size, ftello(fp));
    off_t ok_up_to = rd.pos; /* start of the first command not known to be complete */
    int in_multi = 0;
    char error[512] = "";
    for (;;) {
        off_t at = rd.pos;
        if (!in_multi) ok_up_to = at;
        robj **argv;
        int argc;
        int rc = aofReaderNext(&rd, &argv, &argc);
        if (rc == AOF_READ_EOF) break;
        if (rc == AOF_READ_ANNOTATION) {
            if (handleTimestamp(fp, &rd, at, name, last_file)) {
                aofReaderFree(&rd);
                fclose(fp);
                return CHECK_TIMESTAMP_TRUNCATED;
            }
            continue;
        }
        if (rc == AOF_READ_TRUNCATED) {
            snprintf(error, sizeof(error), "0x%16llx: Unexpected end of file in the command starting at offset %lld",
                     (long long)rd.pos, (long long)at);
            break;
        }
        if (rc == AOF_READ_BAD_FORMAT) {
            snprintf(error, sizeof(error), "0x%16llx: %s", (long long)at, rd.error);
            if (rd.error[0] && strstr(rd.error, "expected a command")) printf("AOF %s format error\n", name);
            break;
        }
        if (rc == AOF_READ_IO_ERROR) {
            printf("Failed to read from AOF %s, aborting...\n", name);
            die();
        }
        int bad = 0;
        if (commandIs(argv, argc, "multi")) {
            if (in_multi) {
                snprintf(error, sizeof(error), "0x%16llx: Unexpected MULTI in AOF %s", (long long)at, path);
                bad = 1;
            }
            in_multi = 1;
        } else if (commandIs(argv, argc, "exec")) {
            if (!in_multi) {
                snprintf(error, sizeof(error), "0x%16llx: Unexpected EXEC in AOF %s", (long long)at, path);
                bad = 1;
            }
            in_multi = 0;
        }
        aofFreeArgv(argv, argc);
        if (bad) break;
    }
    if (!error[0] && in_multi)
        snprintf(error, sizeof(error), "0x%16llx: Reached EOF before reading EXEC for MULTI", (long long)rd.pos);
    if (!error[0]) ok_up_to = size;
    if (error[0]) printf("%s\n", error);

    off_t diff = size - ok_up_to;
    long long line = rd.line;
    aofReaderFree(&rd);
    if (diff == 0 && opts.to_timestamp) {
        printf("Truncate nothing in AOF %s to timestamp %lld\n", name, opts.to_timestamp);
        fclose(fp);
        return CHECK_OK;
    }
    printf("AOF analyzed: filename=%s, size=%lld, ok_up_to=%lld, ok_up_to_line=%lld, diff=%lld\n", name,
           (long long)size, (long long)ok_up_to, line, (long long)diff);
    if (diff == 0) {
        fclose(fp);
        return CHECK_OK;
    }
    if (!opts.fix) {
        printf("AOF %s is not valid. Use the --fix option to try fixing it.\n", name);
        die();
    }
    if (!last_file) {
        printf("Failed to truncate AOF %s because it is not the last file\n", name);
        die();
    }
    printf("This will shrink the AOF %s from %lld bytes, with %lld bytes, to %lld bytes\n", name, (long long)size,
           (long long)diff, (long long)ok_up_to);
    if (!confirmFix()) {
        printf("Aborting...\n");
        die();
    }
    if (ftruncate(fileno(fp), ok_up_to) == -1) {
        printf("Failed to truncate AOF %s\n", name);
        die();
    }
    fclose(fp);
    return CHECK_TRUNCATED;
}

static void printResult(int ret, const char *name, const char *kind) {
    if (ret == CHECK_OK) printf("%s %s is valid\n", kind, name);
    else if (ret == CHECK_EMPTY) printf("%s %s is empty\n", kind, name);
    else if (ret == CHECK_TIMESTAMP_TRUNCATED)
        printf("Successfully truncated AOF %s to timestamp %lld\n", name, opts.to_timestamp);
    else if (ret == CHECK_TRUNCATED) printf("Successfully truncated AOF %s\n", name);
}

static int startsWithRdbSignature(const char *path) {
    off_t size;
    FILE *fp = openChecked(path, "r", &size);
    char sig[6];
    size_t got = size >= 8 ? fread(sig, 1, sizeof(sig), fp) : 0;
    fclose(fp);
    return (got >= 5 && !memcmp(sig, "REDIS", 5)) || (got == 6 && !memcmp(sig, "VALKEY", 6));
}

/* A manifest: its first line that is not a comment starts with "file". */
static int looksLikeManifest(const char *path) {
    off_t size;
    FILE *fp = openChecked(path, "r", &size);
    char buf[1025];
    int manifest = 0;
    while (fgets(buf, sizeof(buf), fp) != NULL) {
        if (buf[0] == '#') continue;
        manifest = !strncmp(buf, "file", 4);
        break;
    }
    fclose(fp);
    return manifest;
}

static void checkMultiPart(const char *dir, const char *manifest_path) {
    printf("Start checking Multi Part AOF\n");
    const char *err;
    int errline;
    sds errtext;
    aofManifest *am = aofManifestLoadFile(manifest_path, &err, &errline, &errtext);
    if (!am) {
        printf("*** FATAL AOF MANIFEST FILE ERROR ***\n");
        if (errtext) printf("Reading the manifest file, at line %d\n>>> '%s'\n", errline, errtext);
        printf("%s\n", err);
        sdsfree(errtext);
        die();
    }
    int total = (am->base ? 1 : 0) + am->nincr, done = 0;
    if (am->base) {
        sds path = sdscatprintf(sdsempty(), "%s/%s", dir, am->base->name);
        int rdb = startsWithRdbSignature(path);
        printf("Start to check BASE AOF (%s format).\n", rdb ? "RDB" : "RESP");
        int ret = checkSingleFile(am->base->name, path, ++done == total, rdb);
        printResult(ret, am->base->name, "BASE AOF");
        sdsfree(path);
    }
    if (am->nincr) printf("Start to check INCR files.\n");
    for (int j = 0; j < am->nincr; j++) {
        sds path = sdscatprintf(sdsempty(), "%s/%s", dir, am->incr[j].name);
        int ret = checkSingleFile(am->incr[j].name, path, ++done == total, 0);
        printResult(ret, am->incr[j].name, "INCR AOF");
        sdsfree(path);
    }
    aofManifestFree(am);
    printf("All AOF files and manifest are valid\n");
}

static void usage(const char *prog) {
    printf("Usage: %s [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>\n", prog);
    exit(1);
}

int valkeyCheckAofMain(int argc, char **argv) {
    const char *prog = argv[0];
    if (argc > 1 && !strcmp(argv[1], "--check-aof")) {
        argv++;
        argc--;
    }
    const char *filepath = NULL;
    if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        printf("valkey-check-aof %s\n", VALKEY_VERSION);
        exit(0);
    } else if (argc == 2) {
        filepath = argv[1];
    } else if (argc == 3 && !strcmp(argv[1], "--fix")) {
        opts.fix = 1;
        filepath = argv[2];
    } else if (argc == 4 && !strcmp(argv[1], "--truncate-to-timestamp")) {
        if (!string2ll(argv[2], strlen(argv[2]), &opts.to_timestamp)) {
            printf("Invalid timestamp, aborting...\n");
            exit(1);
        }
        filepath = argv[3];
    } else {
        usage(prog);
    }
    if (strlen(filepath) > PATH_MAX) {
        printf("Error: filepath is too long (exceeds PATH_MAX)\n");
        usage(prog);
    }

    server.verbosity = LL_WARNING;
    createSharedObjects();
    updateCachedTime(1);
    server.lruclock = getLRUClock();

    char dirbuf[PATH_MAX + 1];
    snprintf(dirbuf, sizeof(dirbuf), "%s", filepath);
    const char *dir = dirname(dirbuf);
    if (looksLikeManifest(filepath)) {
        checkMultiPart(dir, filepath);
    } else {
        int preamble = startsWithRdbSignature(filepath);
        printf("Start checking Old-Style AOF\n");
        int ret = checkSingleFile(filepath, filepath, 1, preamble);
        printResult(ret, filepath, "AOF");
    }
    exit(0);
}
