/* flash_store.h -- the log-structured store that keeps cold values on an NVMe file.
 *
 * It stores opaque value bytes (the RDB encoding of a value, made by the layer above)
 * under a (db, key, version) identity and hands back a 64-bit location that the keyspace
 * keeps in place of the value. It knows nothing of objects, clients or the server.
 *
 * Everything runs on the main thread. Appends and reads are asynchronous: they queue
 * requests on the io engine; the owner calls flashStoreFlush() then ioEngineSubmit() once
 * per event-loop turn, and the callbacks run from ioEngineProcessCompletions().
 * flashStoreReadSync() is the blocking path for fork children (RDB save) and rare reads.
 *
 * The file's contents do not survive a restart: cold values come back from the RDB/AOF
 * and are demoted again. See flash_store.c for the on-disk format and the policies.
 */
#ifndef FLASH_STORE_H
#define FLASH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "io_engine.h"

typedef struct flashStore flashStore;

/* A record's place in the file, packed in 64 bits; 0 is never a valid location. With a
 * capacity up to 128gb, records up to 16 KiB get locations below 2^48, which the keyspace
 * stores in 6 bytes (object.h); a record moved by compaction keeps that property. */
typedef uint64_t flashLocation;
#define FLASH_LOC_NONE ((flashLocation)0)

/* Status codes: FLASH_OK, or a negative error (flashStoreStrError names them). */
#define FLASH_OK 0
#define FLASH_ERR_NOSPACE (-1)  /* no free segment: demote nothing more (evict or OOM) */
#define FLASH_ERR_BUSY (-2)     /* every write buffer is in flight: retry next turn */
#define FLASH_ERR_TOOBIG (-3)   /* record larger than the store accepts */
#define FLASH_ERR_IO (-4)       /* the device failed the request */
#define FLASH_ERR_CHECKSUM (-5) /* the record read back is corrupt (counted) */
#define FLASH_ERR_INVALID (-6)  /* bad argument or a location that cannot be live */
#define FLASH_ERR_CLOSED (-7)   /* the store closed before the append was written */

/* A record as read back. Pointers are valid only during the callback (or until the next
 * flashStoreReadSync call): copy or decode them there. */
typedef struct flashRecord {
    int db;
    const char *key;
    size_t klen;
    const unsigned char *val;
    size_t vlen;
    uint64_t version;
} flashRecord;

/* Append completion: status FLASH_OK with the record's location once it is written to
 * the file, else an error and FLASH_LOC_NONE. */
typedef void flashAppendDone(void *privdata, int status, flashLocation loc);
/* Read completion: rec is NULL unless status is FLASH_OK. */
typedef void flashReadDone(void *privdata, int status, const flashRecord *rec);

/* Compaction asks the owner, for each record of a victim segment, whether the key still
 * points at loc (returns non-zero if so). Once the copy is written, relocated() must
 * repoint the key from old_loc to new_loc if it still points at old_loc, and return
 * non-zero; it returns 0 if the key moved on meanwhile (the store then drops the copy).
 * The owner never calls flashStoreFree() for a relocated old_loc: the store does. */
typedef int flashIsLiveProc(void *ctx, int db, const char *key, size_t klen, uint64_t version,
                            flashLocation loc);
typedef int flashRelocatedProc(void *ctx, int db, const char *key, size_t klen, uint64_t version,
                               flashLocation old_loc, flashLocation new_loc);

#define FLASH_LOG_NOTICE 1
#define FLASH_LOG_WARNING 2
typedef void flashLogProc(void *ctx, int level, const char *msg);

/* Zero fields take the defaults given here. */
typedef struct flashStoreOptions {
    uint32_t segment_size;     /* power of two, 64 KiB .. 4 MiB; default 1 MiB */
    unsigned write_buffers;    /* segment buffers open or being written; default 4 */
    unsigned reserve_segments; /* kept free for compaction; default 2 */
    double compact_live_ratio; /* a victim holds less live data than this; default 0.5 */
    double compact_free_ratio; /* compact only while free segments are below this; 0.25 */
    int buffered_io;           /* non-zero: never try O_DIRECT */
    flashIsLiveProc *is_live;  /* both needed for compaction */
    flashRelocatedProc *relocated;
    flashLogProc *log;
    void *ctx; /* passed to the three procs above */
} flashStoreOptions;

typedef struct flashStoreStats {
    uint64_t capacity, segment_size;
    uint64_t segments_total, segments_free, segments_used, segments_quarantined;
    uint64_t used_bytes; /* appended into segments not free (with padding) */
    uint64_t live_bytes; /* records not freed */
    uint64_t dead_bytes; /* used - live: what compaction can win back */
    uint64_t records_written, records_read, records_freed; /* written: with compaction copies */
    uint64_t user_bytes;    /* key + value bytes handed to flashStoreAppend */
    uint64_t bytes_written; /* to the device, every rewrite and compaction included */
    uint64_t bytes_read;
    double write_amplification; /* bytes_written / user_bytes */
    uint64_t checksum_failures, read_errors, write_errors;
    uint64_t compact_segments, compact_records_moved, compact_bytes_moved, compact_bytes_read;
    uint64_t reads_in_flight, writes_in_flight, buffered_bytes, memory_bytes;
    int direct_io;
} flashStoreStats;

flashStore *flashStoreOpen(const char *path, uint64_t capacity, const flashStoreOptions *opts,
                           ioEngine *io, char **err); /* *err: zmalloc'd, caller frees */
/* Cancels unwritten appends (FLASH_ERR_CLOSED), waits for in-flight I/O, frees all. */
void flashStoreClose(flashStore *fs);

/* Copies the record; cb runs once it is written. Returns FLASH_OK, or an error and cb
 * never runs. */
int flashStoreAppend(flashStore *fs, int db, const char *key, size_t klen, const void *val,
                     size_t vlen, uint64_t version, flashAppendDone *cb, void *privdata);
/* Queues buffered appends for writing; call once per event-loop turn. Whole blocks go at
 * once; a partial last block goes once its records have waited one flush (a trickle of
 * appends then rewrites that block half as often), or now if all is set. */
void flashStoreFlush(flashStore *fs, int all);
int flashStoreRead(flashStore *fs, flashLocation loc, flashReadDone *cb, void *privdata);
/* Blocking read with pread (no io engine). A fork child uses only this call (between the
 * parent's ForkBegin and ForkEnd) and never closes the store. rec points into a scratch
 * buffer valid until the next call. */
int flashStoreReadSync(flashStore *fs, flashLocation loc, flashRecord *rec);
/* Like flashStoreReadSync, for a walk in ascending location order (saving a dataset):
 * reads `window` bytes at a time and serves the next records from them. The window's
 * bytes are not re-read, so use it only while the records read cannot change (a fork
 * child, or the main thread in one synchronous pass), then call flashStoreReadAheadReset. */
int flashStoreReadSyncAhead(flashStore *fs, flashLocation loc, flashRecord *rec, size_t window);
void flashStoreReadAheadReset(flashStore *fs);
/* The record is dead: its bytes count as garbage for compaction. */
void flashStoreFree(flashStore *fs, flashLocation loc);

/* One bounded step of compaction (budget: bytes to read and rewrite). Returns 1 while
 * compaction has work under way, 0 when idle. */
int flashStoreCompactStep(flashStore *fs, size_t budget);

/* While a fork child may read the file, freed segments wait for reuse until End. */
void flashStoreForkBegin(flashStore *fs);
void flashStoreForkEnd(flashStore *fs);

void flashStoreGetStats(const flashStore *fs, flashStoreStats *st);
/* Requests of this store queued or in flight (including the store's own backlog). */
unsigned flashStorePendingIo(const flashStore *fs);
uint64_t flashLocationOffset(flashLocation loc); /* where the record starts in the file */
uint64_t flashLocationLength(flashLocation loc); /* bytes it occupies (large: whole blocks) */
const char *flashStoreStrError(int status);

#endif
