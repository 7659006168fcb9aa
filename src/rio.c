/* rio.c -- the stream targets behind rio.h (buffer, memory, file, fd), the chunked
 * read/write loop that feeds the checksum and progress hooks, and the read-ahead window
 * of file targets (rioSetReadBuffer; the fast path is inline in rio.h). */
#define _GNU_SOURCE /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rio.h"
#include "crc64.h"
#include "zmalloc.h"

static size_t fileRead(rio *r, void *buf, size_t len);

/* ------------------------------------------------------------------------- */
/* Chunked transfer                                                            */
/* ------------------------------------------------------------------------- */

size_t rioWrite(rio *r, const void *buf, size_t len) {
    if (r->flags & RIO_FLAG_WRITE_ERROR) return 0;
    const char *p = buf;
    while (len) {
        size_t chunk = r->max_processing_chunk && r->max_processing_chunk < len ? r->max_processing_chunk : len;
        if (r->update_cksum) r->update_cksum(r, p, chunk);
        if (!r->write(r, p, chunk)) {
            r->flags |= RIO_FLAG_WRITE_ERROR;
            return 0;
        }
        p += chunk;
        len -= chunk;
        r->processed_bytes += chunk;
        if (r->progress) r->progress(r, r->processed_bytes);
    }
    return 1;
}

/* Unbuffered reads: straight from the target, chunk by chunk. */
static size_t rioReadChunks(rio *r, void *buf, size_t len) {
    char *p = buf;
    while (len) {
        size_t chunk = r->max_processing_chunk && r->max_processing_chunk < len ? r->max_processing_chunk : len;
        if (!r->read(r, p, chunk)) {
            r->flags |= RIO_FLAG_READ_ERROR;
            return 0;
        }
        if (r->update_cksum) r->update_cksum(r, p, chunk);
        p += chunk;
        len -= chunk;
        r->processed_bytes += chunk;
        if (r->progress) r->progress(r, r->processed_bytes);
    }
    return 1;
}

/* Runs the hooks over what was consumed from the window since they last ran. */
static void rioSettleWindow(rio *r) {
    if (r->ckpos == r->rpos) return;
    while (r->ckpos < r->rpos) {
        size_t left = (size_t)(r->rpos - r->ckpos);
        size_t chunk = r->max_processing_chunk && r->max_processing_chunk < left ? r->max_processing_chunk : left;
        if (r->update_cksum) r->update_cksum(r, r->ckpos, chunk);
        r->ckpos += chunk;
    }
    rioReportProgress(r);
}

static void rioDropWindow(rio *r) {
    r->ckpos = r->rpos = r->rend = r->rbuf;
}

/* The next block of the file into the (consumed and settled) window. */
static int rioFillWindow(rio *r) {
    size_t n = fread(r->rbuf, 1, r->rbuf_size, r->io.file.fp);
    rioDropWindow(r);
    if (n == 0) return 0;
    r->io.file.pos += (off_t)n;
    r->rend = r->rbuf + n;
    return 1;
}

/* What the window does not hold: the rest of the window, then either a new block or,
 * for a read at least a block long, the file straight into the destination. */
static size_t rioReadWindowed(rio *r, unsigned char *p, size_t len) {
    for (;;) {
        size_t avail = (size_t)(r->rend - r->rpos);
        size_t n = avail < len ? avail : len;
        if (n) {
            memcpy(p, r->rpos, n);
            r->rpos += n;
            r->processed_bytes += n;
            p += n;
            len -= n;
        }
        if (len == 0) return 1;
        rioSettleWindow(r);
        if (len >= r->rbuf_size) {
            rioDropWindow(r);
            return rioReadChunks(r, p, len);
        }
        if (!rioFillWindow(r)) {
            r->flags |= RIO_FLAG_READ_ERROR;
            return 0;
        }
    }
}

size_t rioReadSlow(rio *r, void *buf, size_t len) {
    if (r->flags & RIO_FLAG_READ_ERROR) return 0;
    if (r->rbuf && len) return rioReadWindowed(r, buf, len);
    return rioReadChunks(r, buf, len);
}

int rioSetReadBuffer(rio *r, size_t size) {
    if (r->read != fileRead || r->rbuf || size == 0 || r->io.file.size < 0) return 0;
    r->rbuf = ztrymalloc(size);
    if (!r->rbuf) return 0;
    r->rbuf_size = size;
    rioDropWindow(r);
    return 1;
}

void rioReleaseReadBuffer(rio *r) {
    if (!r->rbuf) return;
    rioSettleWindow(r);
    off_t unread = (off_t)(r->rend - r->rpos);
    if (unread && fseeko(r->io.file.fp, -unread, SEEK_CUR) == 0) r->io.file.pos -= unread;
    zfree(r->rbuf);
    r->rbuf = r->ckpos = r->rpos = r->rend = NULL;
    r->rbuf_size = 0;
}

uint64_t rioGetChecksum(rio *r) {
    rioSettleWindow(r);
    return r->cksum;
}

void rioGenericUpdateChecksum(rio *r, const void *buf, size_t len) {
    r->cksum = crc64(r->cksum, buf, len);
}

static void rioInitCommon(rio *r) {
    memset(r, 0, sizeof(*r));
    r->max_processing_chunk = RIO_DEFAULT_CHUNK;
}

/* ------------------------------------------------------------------------- */
/* Buffer: an sds the rio owns                                                 */
/* ------------------------------------------------------------------------- */

static size_t bufferWrite(rio *r, const void *buf, size_t len) {
    r->io.buffer.ptr = sdscatlen(r->io.buffer.ptr, buf, len);
    r->io.buffer.pos += len;
    return 1;
}

static size_t bufferRead(rio *r, void *buf, size_t len) {
    if (sdslen(r->io.buffer.ptr) - (size_t)r->io.buffer.pos < len) return 0;
    memcpy(buf, r->io.buffer.ptr + r->io.buffer.pos, len);
    r->io.buffer.pos += len;
    return 1;
}

static off_t bufferTell(rio *r) {
    return r->io.buffer.pos;
}

static int bufferFlush(rio *r) {
    (void)r;
    return 1;
}

void rioInitWithBuffer(rio *r, sds s) {
    rioInitCommon(r);
    r->read = bufferRead;
    r->write = bufferWrite;
    r->tell = bufferTell;
    r->flush = bufferFlush;
    r->io.buffer.ptr = s ? s : sdsempty();
    r->io.buffer.pos = 0;
}

sds rioBufferTake(rio *r) {
    sds s = r->io.buffer.ptr;
    r->io.buffer.ptr = NULL;
    return s;
}

/* ------------------------------------------------------------------------- */
/* Memory: read-only bytes owned by the caller                                 */
/* ------------------------------------------------------------------------- */

static size_t memRead(rio *r, void *buf, size_t len) {
    if (r->io.mem.len - r->io.mem.pos < len) return 0;
    memcpy(buf, r->io.mem.p + r->io.mem.pos, len);
    r->io.mem.pos += len;
    return 1;
}

static size_t memWrite(rio *r, const void *buf, size_t len) {
    (void)r;
    (void)buf;
    (void)len;
    return 0;
}

static off_t memTell(rio *r) {
    return (off_t)r->io.mem.pos;
}

void rioInitWithMemory(rio *r, const void *p, size_t len) {
    rioInitCommon(r);
    r->read = memRead;
    r->write = memWrite;
    r->tell = memTell;
    r->flush = bufferFlush;
    r->io.mem.p = p;
    r->io.mem.len = len;
    r->io.mem.pos = 0;
}

/* ------------------------------------------------------------------------- */
/* File: a stdio stream, with periodic fsync on writes                         */
/* ------------------------------------------------------------------------- */

/* Incremental sync, pipelined: each chunk of `autosync` bytes is handed to the disk at
 * once (write-back started, not waited for), and the chunk before it is waited for. The
 * save goes on producing while the disk writes, and at most two chunks are ever dirty,
 * which is what the periodic sync is for (no burst of write-back at the end). */
static int fileSyncChunk(rio *r) {
    int fd = fileno(r->io.file.fp);
    off_t start = r->io.file.pos - r->io.file.buffered, len = r->io.file.buffered;
    if (fflush(r->io.file.fp) != 0) return 0;
    if (sync_file_range(fd, start, len, SYNC_FILE_RANGE_WRITE) == -1) return 0;
    if (r->io.file.flushing_len &&
        sync_file_range(fd, r->io.file.flushing_start, r->io.file.flushing_len,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) == -1)
        return 0;
    r->io.file.flushing_start = start;
    r->io.file.flushing_len = len;
    r->io.file.buffered = 0;
    return 1;
}

static size_t fileWrite(rio *r, const void *buf, size_t len) {
    if (fwrite(buf, len, 1, r->io.file.fp) != 1) return 0;
    r->io.file.buffered += len;
    r->io.file.pos += len;
    if (r->io.file.autosync && r->io.file.buffered >= r->io.file.autosync) return (size_t)fileSyncChunk(r);
    return 1;
}

static size_t fileRead(rio *r, void *buf, size_t len) {
    if (fread(buf, len, 1, r->io.file.fp) != 1) return 0;
    r->io.file.pos += len;
    return 1;
}

/* The logical offset: what the reader consumed, not what the window read ahead. */
static off_t fileTell(rio *r) {
    return r->io.file.pos - (off_t)(r->rend - r->rpos);
}

static int fileFlush(rio *r) {
    return fflush(r->io.file.fp) == 0;
}

void rioInitWithFile(rio *r, FILE *fp) {
    rioInitCommon(r);
    r->read = fileRead;
    r->write = fileWrite;
    r->tell = fileTell;
    r->flush = fileFlush;
    r->io.file.fp = fp;
    off_t pos = ftello(fp);
    r->io.file.pos = pos < 0 ? 0 : pos;
    struct stat st;
    r->io.file.size = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
}

void rioSetWriteBuffer(rio *r, size_t bytes) {
    /* stdio allocates and frees the buffer with the stream (NULL buffer). */
    if (r->write == fileWrite) setvbuf(r->io.file.fp, NULL, _IOFBF, bytes);
}

void rioSetAutoSync(rio *r, off_t bytes) {
    if (r->write == fileWrite) r->io.file.autosync = bytes;
}

/* ------------------------------------------------------------------------- */
/* Fd: buffered writes to a pipe or socket                                     */
/* ------------------------------------------------------------------------- */

static int fdDrain(rio *r) {
    const char *p = r->io.fd.buf;
    size_t left = sdslen(r->io.fd.buf);
    while (left) {
        ssize_t n = write(r->io.fd.fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        p += n;
        left -= (size_t)n;
    }
    sdsclear(r->io.fd.buf);
    return 1;
}

static size_t fdWrite(rio *r, const void *buf, size_t len) {
    r->io.fd.buf = sdscatlen(r->io.fd.buf, buf, len);
    r->io.fd.pos += len;
    if (sdslen(r->io.fd.buf) >= RIO_FD_BUFFER_SIZE) return fdDrain(r);
    return 1;
}

static size_t fdRead(rio *r, void *buf, size_t len) {
    (void)r;
    (void)buf;
    (void)len;
    return 0;
}

static off_t fdTell(rio *r) {
    return r->io.fd.pos;
}

static int fdFlush(rio *r) {
    return fdDrain(r);
}

void rioInitWithFd(rio *r, int fd) {
    rioInitCommon(r);
    r->read = fdRead;
    r->write = fdWrite;
    r->tell = fdTell;
    r->flush = fdFlush;
    r->io.fd.fd = fd;
    r->io.fd.buf = sdsempty();
}

void rioFreeFd(rio *r) {
    sdsfree(r->io.fd.buf);
    r->io.fd.buf = NULL;
}

/* ------------------------------------------------------------------------- */
/* Remaining bytes                                                             */
/* ------------------------------------------------------------------------- */

off_t rioRemaining(rio *r) {
    if (r->read == memRead) return (off_t)(r->io.mem.len - r->io.mem.pos);
    if (r->read == bufferRead) return (off_t)sdslen(r->io.buffer.ptr) - r->io.buffer.pos;
    if (r->read == fileRead && r->io.file.size >= 0) {
        off_t pos = fileTell(r);
        return pos > r->io.file.size ? 0 : r->io.file.size - pos;
    }
    return -1;
}
