/* aof.h -- the append only file: Valkey 7/8's multi-part AOF.
 *
 * Files, in `appenddirname` (inside `dir`), named after `appendfilename`:
 *   appendonly.aof.<seq>.base.rdb   the dataset at the last rewrite (RDB format, or
 *   appendonly.aof.<seq>.base.aof   RESP commands with aof-use-rdb-preamble no);
 *   appendonly.aof.<seq>.incr.aof   the writes since then, as RESP commands;
 *   appendonly.aof.manifest         which of them make the dataset, one line each:
 *                                   "file <name> seq <n> type <b|h|i>" (base, history,
 *                                   incr). It is replaced atomically (temp + rename).
 *
 * Writing. Propagated commands (propagate.h) are appended to a buffer that beforeSleep
 * writes before any reply leaves the server; appendfsync decides when it is fsynced:
 * `always` right after the write (so an acknowledged write is on disk), `everysec` by a
 * background thread once a second, `no` never explicitly.
 *
 * Rewriting (BGREWRITEAOF, automatic growth, CONFIG SET appendonly yes). The parent
 * opens a new INCR file and records it in the manifest, then forks; the child writes
 * the whole dataset as a new BASE (RDB preamble through rdb.h, or commands). When the
 * child succeeds, the new base and the incr files written since the fork become the
 * manifest; the files before are history and are deleted in the background. Writes
 * during the rewrite go to the new incr file, so none is lost whatever the outcome.
 *
 * Loading (start-up, DEBUG LOADAOF): manifest, then base, then the incr files in
 * order, every command replayed by a fake client (MULTI/EXEC included). A file that
 * ends in the middle of a command is truncated to its last complete command when it
 * is the last file and aof-load-truncated is yes; anything else that is not the AOF
 * format stops the server with the file name and offset in the log. A single-file AOF
 * of an older server (appendonly.aof in `dir`, no manifest) is moved into the
 * directory and becomes the base.
 */
#ifndef AOF_H
#define AOF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "object.h"
#include "sds.h"

struct client;

#define AOF_OFF 0
#define AOF_ON 1
#define AOF_WAIT_REWRITE 2 /* enabled at runtime: on once the first rewrite is done */

#define AOF_FSYNC_NO 0
#define AOF_FSYNC_ALWAYS 1
#define AOF_FSYNC_EVERYSEC 2

/* server.child_type of a rewrite child (rdb.h has CHILD_TYPE_NONE/RDB). */
#define CHILD_TYPE_AOF 2

/* The id of the client replaying an AOF: mustObeyClient() is true for it. */
#define CLIENT_ID_AOF UINT64_MAX

/* ---- Server integration ---- */
void aofRegister(void);   /* config directives; called from registerSubsystems() */
/* Start-up: reads the manifest and, with appendonly yes, loads the AOF (exiting on a
 * failure) and opens the incr file for appending. Returns 1 when the dataset came from
 * the AOF (the RDB must not be loaded then). */
int aofStartup(void);
void aofBeforeSleep(void); /* writes (and per appendfsync fsyncs) what was appended */
void aofCron(void);        /* reaps the rewrite child, automatic and scheduled rewrites */
/* SHUTDOWN: stops a rewrite, writes and fsyncs. C_ERR when it must not exit (the first
 * rewrite after CONFIG SET appendonly yes is still running and not forced). */
int aofPrepareForShutdown(int flags);
/* Replication's full sync replaces the dataset: the AOF (when on) is turned off before
 * the old data goes, and on again after the load, which rewrites it from the new data
 * (retried every second by aofCron when the rewrite cannot start). */
void aofStopForFullSync(void);
void aofRestartAfterFullSync(void);
/* With appendfsync always, a client's write handler must run before its read handler
 * in an event loop turn (AE_BARRIER): a reply must not leave before beforeSleep has
 * written and fsynced the AOF. */
int aofWriteBarrierNeeded(void);
/* Writes are refused (MISCONF) after an AOF write or fsync error. */
int aofWritesDeniedByError(void);
const char *aofWriteErrorString(void); /* strerror of the last write error */

/* ---- The propagation consumer (propagate.c) ---- */
int aofIsAcceptingWrites(void);
void aofFeedPropagated(int dbid, const char *cmd, size_t len);

/* ---- INFO / DEBUG ---- */
sds aofCatInfo(sds info);          /* aof_enabled ... aof_last_cow_size */
sds aofCatInfoWhenEnabled(sds info); /* aof_current_size ... aof_delayed_fsync, when on */
int aofEnabled(void);
/* WAITAOF: the replication offset (replication.h) up to which the AOF's writes are
 * fsynced; -1 while the AOF is not on (off, or waiting for its first rewrite). */
long long aofFsyncedReplOffset(void);
size_t aofBufferSize(void);
/* DEBUG LOADAOF: empties the dataset and loads the AOF again (exits on a failure, as
 * Valkey does). */
void aofDebugLoad(void);
void aofSetFlushSleep(int usec); /* DEBUG AOF-FLUSH-SLEEP */

/* ---- Commands ---- */
void bgrewriteaofCommand(struct client *c);

/* ---- Manifest (also used by valkey-check-aof) ---- */
#define AOF_FILE_TYPE_BASE 'b'
#define AOF_FILE_TYPE_HIST 'h'
#define AOF_FILE_TYPE_INCR 'i'

typedef struct aofFileInfo {
    sds name;
    long long seq;
    char type;
} aofFileInfo;

typedef struct aofManifest {
    aofFileInfo *base;      /* NULL when there is none */
    aofFileInfo *history;   /* array of nhistory */
    int nhistory;
    aofFileInfo *incr;      /* array of nincr, in replay order */
    int nincr;
    long long curr_base_seq, curr_incr_seq;
    int dirty;              /* differs from the file on disk */
} aofManifest;

aofManifest *aofManifestCreate(void);
void aofManifestFree(aofManifest *am);
/* Parses a manifest file. NULL on failure, with *err (static text), and *errline /
 * *errtext (the offending line, an sds or NULL) when a line is at fault. */
aofManifest *aofManifestLoadFile(const char *path, const char **err, int *errline, sds *errtext);
sds aofManifestToString(aofManifest *am);

/* ---- Reading the RESP format (loader and valkey-check-aof) ---- */
#define AOF_READ_COMMAND 1     /* *argv holds *argc arguments (the caller owns them) */
#define AOF_READ_ANNOTATION 2  /* a "#..." line, in r->annotation */
#define AOF_READ_EOF 0         /* clean end of file, at a command boundary */
#define AOF_READ_TRUNCATED -1  /* the file ends inside a command */
#define AOF_READ_BAD_FORMAT -2 /* not the AOF format (r->error says what) */
#define AOF_READ_IO_ERROR -3

typedef struct aofReader {
    FILE *fp;
    off_t size;         /* of the file when opened */
    off_t pos;          /* offset of the next byte */
    long long line;     /* 1 + lines consumed (valkey-check-aof's ok_up_to_line) */
    sds annotation;     /* the last annotation line, without CRLF */
    char error[256];    /* what was wrong, for AOF_READ_BAD_FORMAT */
} aofReader;

void aofReaderInit(aofReader *r, FILE *fp, off_t size, off_t pos);
void aofReaderFree(aofReader *r);
int aofReaderNext(aofReader *r, robj ***argv, int *argc);
void aofFreeArgv(robj **argv, int argc);

/* The checker (valkey-check-aof.c): run as valkey-check-aof or valkey-server --check-aof. */
int valkeyCheckAofMain(int argc, char **argv);

#endif
