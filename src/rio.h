/* rio.h -- a small stream abstraction for the RDB code: one read/write interface over
 * several targets, so the same serialiser writes a file, a DUMP payload, a socket or a
 * flash record, and the same parser reads them back.
 *
 * Targets:
 *   - buffer:  writes append to an sds the rio owns until rioBufferTake(); reads consume
 *              it from a position;
 *   - memory:  read-only view of caller-owned bytes (RESTORE payloads, flash records):
 *              no copy;
 *   - file:    a stdio FILE (the caller opens and closes it); on writes, optionally
 *              flushed and fsynced every `autosync` bytes so a big save does not pile
 *              up dirty pages and then stall in one huge fsync at the end;
 *   - fd:      a raw descriptor (pipes, sockets) written through an internal buffer.
 *
 * Every transfer is cut into chunks of at most max_processing_chunk bytes. After each
 * chunk the optional checksum hook sees the bytes (CRC64 of files and payloads) and the
 * optional progress hook sees the running byte count (loading serves clients from it).
 *
 * Read-ahead (file targets, opt-in with rioSetReadBuffer): loading an RDB reads millions
 * of fields of a few bytes each, and a stdio call per field (locking, bookkeeping), a
 * checksum call per field and the chunk loop cost more than the bytes themselves. With a
 * read buffer the file is read in big blocks; rioRead() is then an inline memcpy from the
 * window [rpos, rend) while enough bytes are there. The hooks run when the window moves
 * on: the checksum hook over everything consumed since it last ran (so it sees bigger
 * spans, in stream order), the progress hook once per block. rioGetChecksum() settles
 * the checksum first; rioReleaseReadBuffer() hands unconsumed bytes back to the FILE, so
 * whoever reads it next (the AOF tail after an RDB preamble) starts at the right byte.
 * Set the checksum hook before the first read.
 *
 * Errors are sticky: once a read or write fails, the rio keeps failing and
 * rioGetReadError / rioGetWriteError say so. Reads and writes are all-or-nothing from
 * the caller's point of view: rioRead returns 1 when `len` bytes were transferred, 0
 * otherwise.
 */
#ifndef RIO_H
#define RIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include "sds.h"

#define RIO_FLAG_READ_ERROR (1 << 0)
#define RIO_FLAG_WRITE_ERROR (1 << 1)

#define RIO_DEFAULT_CHUNK (64 * 1024)
#define RIO_FD_BUFFER_SIZE (16 * 1024)
#define RIO_READ_BUFFER_SIZE (256 * 1024) /* a good size for rioSetReadBuffer */

typedef struct rio rio;

struct rio {
    /* Target operations: return 1 on success, 0 on failure. */
    size_t (*read)(rio *r, void *buf, size_t len);
    size_t (*write)(rio *r, const void *buf, size_t len);
    off_t (*tell)(rio *r);
    int (*flush)(rio *r);
    /* Optional hooks, called after every chunk transferred. */
    void (*update_cksum)(rio *r, const void *buf, size_t len);
    void (*progress)(rio *r, size_t processed_bytes);
    void *privdata; /* for the hooks' owner */

    uint64_t cksum;
    int flags;
    size_t processed_bytes;      /* total read or written */
    size_t max_processing_chunk; /* hooks see at most this many bytes at a time */

    /* Read-ahead window (see above); all NULL without a read buffer. Bytes in
     * [rbuf, ckpos) went through the checksum hook, [ckpos, rpos) are consumed but not
     * yet checksummed, [rpos, rend) are read from the file but not consumed. */
    unsigned char *rbuf, *ckpos, *rpos, *rend;
    size_t rbuf_size;

    union {
        struct {
            sds ptr;
            off_t pos;
        } buffer;
        struct {
            const unsigned char *p;
            size_t len;
            size_t pos;
        } mem;
        struct {
            FILE *fp;
            off_t buffered; /* written since the last sync */
            off_t autosync; /* 0: no periodic sync */
            off_t flushing_start, flushing_len; /* the chunk whose write-back is under way */
            off_t size;     /* size of a regular file when opened, -1 otherwise */
            off_t pos;      /* offset, tracked without asking the kernel */
        } file;
        struct {
            int fd;
            off_t pos;
            sds buf;
        } fd;
    } io;
};

/* Initialisers. */
void rioInitWithBuffer(rio *r, sds s);                        /* takes s (may be NULL: a new empty one) */
void rioInitWithMemory(rio *r, const void *p, size_t len);    /* read-only, no copy */
void rioInitWithFile(rio *r, FILE *fp);
void rioInitWithFd(rio *r, int fd);                           /* write-only */
void rioFreeFd(rio *r);                                        /* frees the fd target's buffer */
sds rioBufferTake(rio *r); /* the buffer target's sds, now the caller's */

/* Writes and syncs every `bytes` bytes (0 disables). File targets only. */
void rioSetAutoSync(rio *r, off_t bytes);
/* Writes of a file target go out in chunks of this size (stdio's default is one 4 KiB
 * block: on ext4's large folios each small write into a fresh folio zeroes the rest of
 * it first). Call before the first write. */
#define RIO_WRITE_BUFFER_SIZE (256 * 1024)
void rioSetWriteBuffer(rio *r, size_t bytes);

/* The CRC64 checksum hook: `cksum` accumulates over everything read or written. */
void rioGenericUpdateChecksum(rio *r, const void *buf, size_t len);

static inline int rioGetReadError(const rio *r) {
    return (r->flags & RIO_FLAG_READ_ERROR) != 0;
}
static inline int rioGetWriteError(const rio *r) {
    return (r->flags & RIO_FLAG_WRITE_ERROR) != 0;
}
static inline void rioClearErrors(rio *r) {
    r->flags &= ~(RIO_FLAG_READ_ERROR | RIO_FLAG_WRITE_ERROR);
}

size_t rioWrite(rio *r, const void *buf, size_t len);
size_t rioReadSlow(rio *r, void *buf, size_t len);

/* The fast path: the bytes are all in the read-ahead window. (len - 1 wraps for 0, which
 * takes the slow path, so memcpy never sees the NULL window of an unbuffered rio.) */
static inline size_t rioRead(rio *r, void *buf, size_t len) {
    if (len - 1 < (size_t)(r->rend - r->rpos)) {
        memcpy(buf, r->rpos, len);
        r->rpos += len;
        r->processed_bytes += len;
        return 1;
    }
    return rioReadSlow(r, buf, len);
}

/* The next len bytes without copying them, when the read-ahead window holds them all:
 * the pointer is valid until the next call on r. NULL (and nothing consumed) otherwise;
 * the caller then reads them with rioRead. */
static inline const unsigned char *rioReadInPlace(rio *r, size_t len) {
    if (len - 1 >= (size_t)(r->rend - r->rpos)) return NULL;
    const unsigned char *p = r->rpos;
    r->rpos += len;
    r->processed_bytes += len;
    return p;
}

/* Runs the progress hook at the reader's position. With read-ahead the hooks otherwise
 * run once per block, too seldom for a loader that serves clients every few kilobytes;
 * a loader calls this once per item (the hook checks its own interval). */
static inline void rioReportProgress(rio *r) {
    if (r->progress) r->progress(r, r->processed_bytes);
}

/* Read-ahead for a file target opened for reading (see above). 0 when not possible (not
 * a regular file, whose unconsumed bytes could be given back, or no memory): reads then
 * go to stdio one by one, as before. */
int rioSetReadBuffer(rio *r, size_t size);
/* Settles the hooks, gives unconsumed bytes back to the FILE (seeking back) and frees
 * the buffer. A no-op without one. */
void rioReleaseReadBuffer(rio *r);
/* The checksum of everything read or written so far. */
uint64_t rioGetChecksum(rio *r);
static inline off_t rioTell(rio *r) {
    return r->tell(r);
}
static inline int rioFlush(rio *r) {
    return r->flush(r);
}
/* Bytes a reader can still get, -1 when unknown (pipes, sockets). Loaders use it to
 * refuse lengths that cannot be right before allocating anything. */
off_t rioRemaining(rio *r);

#endif
