/* flash_store.c -- log-structured store of cold values on one preallocated file.
 *
 * THE FILE
 * One file, preallocated to the capacity with fallocate and opened with O_DIRECT (a probe
 * read checks that the file system takes it; otherwise buffered I/O, with a warning
 * through the caller's log proc). Every request is 4 KiB aligned in offset, length and
 * memory. The contents are scratch: nothing is read back after a restart, because the
 * cold values come back from the RDB/AOF and are demoted again. So there is no fsync (a
 * record is "done" once written to the file) and no superblock. An exclusive flock keeps
 * two servers off one file.
 *
 * SEGMENTS
 * The file is cut into segments of segment_size bytes (a power of two, 64 KiB .. 4 MiB,
 * default 1 MiB). A segment is FREE, OPEN (the append point), SEALED (full), part of a
 * LARGE record, or in QUARANTINE (freed while a fork child may still read it). Each keeps
 * its fill (bytes appended) and its live bytes; freeing a record only subtracts, and a
 * sealed segment whose live count reaches zero is free again at once. Free segments are
 * a bitmap. reserve_segments of them are kept back from callers for compaction, so that
 * compaction can always make progress when the store is full.
 *
 * RECORDS (24-byte header, little-endian, then the key, then the value)
 *     0  crc32c  over bytes 4 .. end of the value
 *     4  magic   0xF1A5 (u16)
 *     6  db      (u16)
 *     8  klen    (u32)
 *    12  vlen    (u32)
 *    16  version (u64, the caller's generation)
 * Records start 8-byte aligned and are packed back to back, crossing 4 KiB block
 * boundaries freely: a 100-byte value costs ~130 bytes, not a block. One exception buys
 * cheaper reads: a record that fits in a block but would straddle two starts at the next
 * block when that wastes at most FS_MAX_PAD bytes, so most small values cost one 4 KiB
 * read. Gaps are zeros, so a walk over a segment (compaction) steps from record to record
 * and jumps to the next block when it meets a zero magic.
 *
 * LOCATIONS (64 bits, so the keyspace keeps one word per cold value)
 *     bits  0..40  offset / 8          (16 TiB of file)
 *     bits 41..62  length in bytes     (records up to 4 MiB - 1)
 *     bit  63      large: the length is in 4 KiB blocks and the record starts a segment
 * 0 is never valid. A record longer than a segment (or than the 22-bit length) is
 * "large": it takes a run of whole consecutive free segments of its own (an extent), is
 * written from its own buffer, and frees the whole run when freed; compaction never
 * moves it (it is all live or all dead). Values are limited to 4 GiB - 1 bytes.
 *
 * WRITES
 * The open segment has a segment-sized aligned buffer. An append copies the record into
 * it and returns; the callback runs once the blocks holding the record are written. The
 * buffer is written out (a) in whole blocks once FS_EAGER_FLUSH bytes wait, (b) when the
 * segment is sealed, (c) by flashStoreFlush(), which the owner calls once per event-loop
 * turn. A partial last block is written again later, when more records land in it; to
 * keep those rewrites rare, a flush writes it only once its records have already waited
 * one flush: under load the next turn's appends usually complete the block, and a
 * trickle rewrites it half as often. The delay costs nothing visible: a value stays in
 * RAM until its record is written. Rewrites are counted in bytes_written. Two writes of
 * one block must never be in flight at once (their order on the device is not defined),
 * so a write that starts in a block a pending write covers partially waits for it
 * (tail_busy) and goes out from its completion. Writes of a segment complete in any
 * order; the "durable" offset advances over the in-order prefix of completed writes, and
 * the appends behind it complete in append order. A failed write poisons its segment: its pending appends fail, it is
 * sealed, and it is freed when its (already acknowledged) records die.
 * Sealed segments keep their buffer until their writes are done; write_buffers bounds
 * the buffers (and so the bytes in flight): with none free, an append returns
 * FLASH_ERR_BUSY and the owner keeps the value in RAM for now.
 *
 * READS
 * A read fetches the aligned blocks covering the record into a buffer (8 KiB buffers are
 * pooled), checks magic, lengths and the CRC32C, and hands the callback pointers into
 * the buffer: a corrupt record is FLASH_ERR_CHECKSUM and counted, never data. The record
 * also carries db, key and version so the owner can check it got what it asked for.
 * A segment with reads in flight is not freed (nor reused) until they land, so freeing
 * a record while it is being read (a key deleted during its promotion) is safe.
 * flashStoreReadSync() does the same with pread into a scratch buffer: fork children
 * (RDB save) and rare synchronous reads use it; it never touches the io engine.
 *
 * COMPACTION (flashStoreCompactStep, driven by the owner's event loop)
 * Only while free segments are below compact_free_ratio of the store (lazy cleaning:
 * the longer a segment waits, the more of it is dead, the less is copied) and no fork is
 * running (during a fork freed victims would sit in quarantine while their copies ate
 * free segments). The victim is the sealed segment with the fewest live bytes, under
 * compact_live_ratio of a segment (FS_URGENT_LIVE_RATIO once free segments are down to
 * the reserve and one more, so dead space spread evenly still comes back), found in a
 * window of at most FS_SCAN_WINDOW segments per pick (greedy over the whole store when
 * it is small, bounded cost when it is big). A step reads at most `budget` bytes and
 * copies at most `budget` bytes: for each record of the victim it asks is_live(); live
 * ones are appended again (reserve segments allowed), and when the copy is written
 * relocated() repoints the key, or refuses if the key moved on meanwhile (the copy is
 * then freed). The store subtracts the old copy itself. Copies keep their key, so the
 * read buffer serves the next victim as soon as one is walked: a step walks the victim
 * read during the last turn and starts the next one's read, and up to FS_MAX_VICTIMS
 * wait for their copies. When all of a victim's copies are written its live count is
 * zero and it is freed; if not (a corrupt header, a failed read) it stays, flagged so it
 * is not picked again, and is freed when frees bring its live count to zero.
 *
 * FORKS
 * Between flashStoreForkBegin and End, segments that become free go to quarantine and are
 * freed at End: a child reading the file by locations of its snapshot never sees them
 * overwritten. Blocks rewritten in the open segment only ever get the same bytes for
 * records already acknowledged, so the child can read those too.
 *
 * I/O ENGINE
 * Requests go to the io engine; when its queue is full the store submits once and
 * retries, and otherwise keeps the request in its own backlog, retried at the next
 * flush/step. The store never submits from inside its completion callbacks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../crc32c.h"
#include "../zmalloc.h"
#include "flash_store.h"

#define FS_BLOCK 4096u
#define FS_HDR 24u
#define FS_MAGIC 0xF1A5u
#define FS_ALIGN 8u
#define FS_MAX_PAD 256u               /* most padding spent to keep a small record in a block */
#define FS_MAX_IO (1u << 20)          /* largest single request */
#define FS_EAGER_FLUSH (256u << 10)   /* whole blocks waiting before they go without a flush */
#define FS_READ_POOL_BUF (2 * FS_BLOCK) /* pooled read buffer: any record of one block */
#define FS_READ_POOL_MAX 256
/* Pooled read buffers carved from one region registered with the I/O engine (no page
 * pinning per read); reads beyond this many in flight get buffers of their own. */
#define FS_READ_ARENA_SLOTS 128
#define FS_SCAN_WINDOW 16384u
#define FS_MAX_VICTIMS 4 /* victims walked but still waiting for their copies */
#define FS_URGENT_LIVE_RATIO 0.85
#define FS_SCRATCH_KEEP (1u << 20)
#define FS_MIN_SEGMENT (64u << 10)
#define FS_MAX_SEGMENT (4u << 20)
#define FS_DEFAULT_SEGMENT (1u << 20)
#define FS_DEFAULT_WRITE_BUFFERS 4
#define FS_DEFAULT_RESERVE 2
#define FS_DEFAULT_LIVE_RATIO 0.5
#define FS_DEFAULT_FREE_RATIO 0.25

/* Locations come in two forms. The compact one (bit 63 clear) fits in 48 bits, so the
 * keyspace stores it in 6 bytes (object.h): offset/FS_ALIGN in the low 34 bits, the
 * record length in the next 14. It is used for small records when the whole file is
 * addressable that way (capacity <= 128gb), so a record moved by compaction keeps the
 * form its key was given. The wide form (bit 63 set) holds any record. */
#define LOC_WIDE (1ULL << 63)
#define LOC_LARGE (1ULL << 62)
#define LOC_OFF_BITS 41
#define LOC_LEN_BITS 21
#define LOC_OFF_MASK ((1ULL << LOC_OFF_BITS) - 1)
#define LOC_LEN_MAX ((1ULL << LOC_LEN_BITS) - 1)
#define LOC_COMPACT_OFF_BITS 34
#define LOC_COMPACT_LEN_BITS 14
#define LOC_COMPACT_OFF_MASK ((1ULL << LOC_COMPACT_OFF_BITS) - 1)
#define LOC_COMPACT_LEN_MAX ((1ULL << LOC_COMPACT_LEN_BITS) - 1)
#define LOC_COMPACT_MAX_CAPACITY ((1ULL << LOC_COMPACT_OFF_BITS) * FS_ALIGN)
#define FS_MAX_CAPACITY ((1ULL << LOC_OFF_BITS) * FS_ALIGN)

enum { SEG_FREE = 0, SEG_OPEN, SEG_SEALED, SEG_LARGE, SEG_LARGE_TAIL, SEG_QUARANTINE };
#define SEGF_BUFFERED 1   /* a write buffer is attached */
#define SEGF_COMPACTING 2 /* the current compaction victim */
#define SEGF_NOCOMPACT 4  /* compaction could not empty it: do not pick it again */

/* For a LARGE head, fill is the extent's segment count and live is 1 while live. */
typedef struct fsSegment {
    uint32_t live;
    uint32_t fill;
    uint8_t state;
    uint8_t flags;
    uint16_t reads; /* reads in flight: the segment is not reused under them */
} fsSegment;

typedef struct fsPending { /* an append waiting for its blocks to be written */
    uint32_t end, len;
    flashLocation loc;
    flashAppendDone *cb;
    void *privdata;
} fsPending;

typedef struct fsWriteBuf fsWriteBuf;

enum { FS_W_INFLIGHT = 0, FS_W_OK, FS_W_FAILED };
typedef struct fsWrite { /* one write of a segment buffer, in issue order */
    struct fsWrite *next;
    fsWriteBuf *wb;
    uint32_t data_end, len; /* record bytes it carries end at data_end */
    int state;
    int covers_tail; /* its last block is partial */
} fsWrite;

struct fsWriteBuf {
    flashStore *fs;
    unsigned char *data; /* segment_size bytes, owned, kept across reuse */
    uint32_t seg;
    int in_use, sealed, poisoned, tail_busy;
    int flush_wanted; /* 1: whole blocks, 2: with the partial block, when tail_busy clears */
    uint32_t submitted, durable;
    uint32_t tail_seen; /* fill at the last flush that left a partial block unwritten */
    fsPending *pend; /* appends in order, [pend_head, pend_len) waiting */
    size_t pend_head, pend_len, pend_cap;
    fsWrite *wr_head, *wr_tail;
};

typedef struct fsLargeWrite {
    flashStore *fs;
    unsigned char *buf;
    uint32_t head, nseg;
    unsigned chunks;
    int failed;
    uint64_t len, done_bytes;
    flashLocation loc;
    flashAppendDone *cb;
    void *privdata;
} fsLargeWrite;

typedef struct fsRead {
    flashStore *fs;
    struct fsRead *next_free;
    unsigned char *pool_buf; /* FS_READ_POOL_BUF bytes: an arena slot, or owned by the op */
    unsigned char *buf;      /* pool_buf, or a buffer of its own for bigger reads */
    uint64_t size, skip, done_bytes;
    uint32_t seg;
    unsigned chunks;
    int failed;
    flashLocation loc;
    flashReadDone *cb;
    void *privdata;
} fsRead;

typedef struct fsDeferred { /* a request the engine had no room for */
    struct fsDeferred *next;
    int is_write;
    void *buf;
    size_t len;
    off_t off;
    ioCompletionProc *done;
    void *privdata;
} fsDeferred;

typedef struct fsReloc { /* a live record being copied out of a victim */
    flashStore *fs;
    flashLocation old_loc;
    uint64_t version;
    uint32_t len;
    int db;
    unsigned slot; /* its victim */
    size_t klen;
    char key[]; /* a copy: the victim's buffer is reused before the copy is written */
} fsReloc;

/* A victim stays COMPACTING until it is walked and every copy out of it is written. */
typedef struct fsVictim {
    uint32_t seg;
    unsigned relocs; /* copies not yet written */
    int used, walked;
} fsVictim;

typedef struct fsCompaction {
    int active; /* a victim is being read and walked */
    unsigned slot;
    uint32_t seg, fill, cursor;
    uint32_t read_issued, read_done, read_len;
    int read_inflight, read_failed;
    unsigned char *buf; /* segment_size bytes, owned, kept */
    uint32_t scan_pos;
    fsVictim victims[FS_MAX_VICTIMS];
} fsCompaction;

struct flashStore {
    int fd, direct_io, closing, cb_depth;
    ioEngine *io;
    flashStoreOptions opt;
    uint64_t capacity;
    uint32_t segsize, nseg, small_max;
    unsigned seg_shift;
    int compact_locs; /* small records get 48-bit locations (see LOC_WIDE) */
    fsSegment *segs;
    uint64_t *freemap; /* bit set = FREE */
    uint32_t nfree, nquarantined, free_hint;
    unsigned fork_depth;
    fsWriteBuf *wbs;
    fsWriteBuf *open;
    fsRead *read_pool;
    unsigned read_pool_len;
    unsigned char *read_arena; /* FS_READ_ARENA_SLOTS pool buffers, registered */
    unsigned char *arena_free[FS_READ_ARENA_SLOTS];
    unsigned arena_free_len;
    fsDeferred *backlog_head, *backlog_tail;
    unsigned io_pending;
    uint64_t used_bytes, live_bytes, mem_bytes;
    fsCompaction cp;
    unsigned char *scratch; /* flashStoreReadSync's buffer */
    size_t scratch_cap;
    /* Read-ahead window of flashStoreReadSyncAhead: file bytes [ahead_start, ahead_end). */
    unsigned char *ahead;
    size_t ahead_cap;
    uint64_t ahead_start, ahead_end;
    flashStoreStats st; /* the counters; the rest is computed by flashStoreGetStats */
};

/* ---------------------------------------------------------------- small helpers */

static void fsLog(flashStore *fs, int level, const char *fmt, ...) {
    if (!fs->opt.log) return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fs->opt.log(fs->opt.ctx, level, msg);
}

static inline uint64_t roundUp(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
static inline uint32_t nextBlock(uint32_t off) { return (off | (FS_BLOCK - 1)) + 1; }

static void put16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t get64(const unsigned char *p) {
    return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

static flashLocation locSmall(const flashStore *fs, uint64_t off, uint64_t len) {
    if (fs->compact_locs && len <= LOC_COMPACT_LEN_MAX)
        return (off / FS_ALIGN) | (len << LOC_COMPACT_OFF_BITS);
    return (off / FS_ALIGN) | (len << LOC_OFF_BITS) | LOC_WIDE;
}
static flashLocation locLarge(uint64_t off, uint64_t blocks) {
    return (off / FS_ALIGN) | (blocks << LOC_OFF_BITS) | LOC_WIDE | LOC_LARGE;
}
static uint64_t locOffset(flashLocation loc) {
    uint64_t mask = (loc & LOC_WIDE) ? LOC_OFF_MASK : LOC_COMPACT_OFF_MASK;
    return (loc & mask) * FS_ALIGN;
}
uint64_t flashLocationOffset(flashLocation loc) { return locOffset(loc); }
static int locIsLarge(flashLocation loc) { return (loc & LOC_LARGE) != 0; }

uint64_t flashLocationLength(flashLocation loc) {
    if (!(loc & LOC_WIDE)) return (loc >> LOC_COMPACT_OFF_BITS) & LOC_COMPACT_LEN_MAX;
    uint64_t field = (loc >> LOC_OFF_BITS) & LOC_LEN_MAX;
    return locIsLarge(loc) ? field * FS_BLOCK : field;
}

const char *flashStoreStrError(int status) {
    switch (status) {
    case FLASH_OK: return "ok";
    case FLASH_ERR_NOSPACE: return "flash store full";
    case FLASH_ERR_BUSY: return "flash write buffers busy";
    case FLASH_ERR_TOOBIG: return "record too big for the flash store";
    case FLASH_ERR_IO: return "flash I/O error";
    case FLASH_ERR_CHECKSUM: return "flash record checksum mismatch";
    case FLASH_ERR_INVALID: return "invalid flash location or argument";
    case FLASH_ERR_CLOSED: return "flash store closed";
    default: return "unknown flash store error";
    }
}

/* ---------------------------------------------------------------- records */

static void fsEncode(unsigned char *p, int db, const char *key, size_t klen, const void *val,
                     size_t vlen, uint64_t version) {
    put16(p + 4, FS_MAGIC);
    put16(p + 6, (uint16_t)db);
    put32(p + 8, (uint32_t)klen);
    put32(p + 12, (uint32_t)vlen);
    put64(p + 16, version);
    if (klen) memcpy(p + FS_HDR, key, klen);
    if (vlen) memcpy(p + FS_HDR + klen, val, vlen);
    put32(p, crc32c(0, p + 4, FS_HDR - 4 + klen + vlen));
}

/* Checks the record at p (avail bytes readable) and points rec into it. */
static int fsDecode(const unsigned char *p, uint64_t avail, flashRecord *rec, uint64_t *total) {
    if (avail < FS_HDR || get16(p + 4) != FS_MAGIC) return FLASH_ERR_CHECKSUM;
    uint64_t klen = get32(p + 8), vlen = get32(p + 12);
    uint64_t len = FS_HDR + klen + vlen;
    if (len > avail) return FLASH_ERR_CHECKSUM;
    if (crc32c(0, p + 4, len - 4) != get32(p)) return FLASH_ERR_CHECKSUM;
    rec->db = get16(p + 6);
    rec->key = (const char *)p + FS_HDR;
    rec->klen = klen;
    rec->val = p + FS_HDR + klen;
    rec->vlen = vlen;
    rec->version = get64(p + 16);
    *total = len;
    return FLASH_OK;
}

/* Decodes the record a location names, from a buffer holding its bytes. */
static int fsDecodeAt(const unsigned char *p, flashLocation loc, flashRecord *rec) {
    uint64_t len = flashLocationLength(loc), total;
    if (fsDecode(p, len, rec, &total) != FLASH_OK) return FLASH_ERR_CHECKSUM;
    if (locIsLarge(loc) ? roundUp(total, FS_BLOCK) != len : total != len) return FLASH_ERR_CHECKSUM;
    return FLASH_OK;
}

/* ---------------------------------------------------------------- segments */

static inline uint64_t segBase(const flashStore *fs, uint32_t seg) { return (uint64_t)seg << fs->seg_shift; }

static void mapSet(flashStore *fs, uint32_t i) { fs->freemap[i / 64] |= 1ULL << (i % 64); }
static void mapClear(flashStore *fs, uint32_t i) { fs->freemap[i / 64] &= ~(1ULL << (i % 64)); }
static int mapTest(const flashStore *fs, uint32_t i) { return (fs->freemap[i / 64] >> (i % 64)) & 1; }

static void segTake(flashStore *fs, uint32_t i, uint8_t state) {
    mapClear(fs, i);
    fs->nfree--;
    fs->segs[i] = (fsSegment){.state = state};
}

/* Finds n consecutive free segments; reserve segments are for compaction only. */
static int64_t segAlloc(flashStore *fs, uint32_t n, int internal) {
    uint32_t keep = internal ? 0 : fs->opt.reserve_segments;
    if ((uint64_t)fs->nfree < (uint64_t)n + keep) return -1;
    uint32_t words = (fs->nseg + 63) / 64;
    if (n == 1) {
        for (uint32_t k = 0; k < words; k++) {
            uint32_t w = (fs->free_hint + k) % words;
            if (fs->freemap[w]) {
                fs->free_hint = w;
                return (int64_t)w * 64 + __builtin_ctzll(fs->freemap[w]);
            }
        }
        return -1;
    }
    uint32_t run = 0;
    for (uint32_t i = 0; i < fs->nseg; i++) {
        if (!mapTest(fs, i)) {
            run = 0;
            if (!fs->freemap[i / 64]) i = (i | 63); /* skip a full word */
            continue;
        }
        if (++run == n) return (int64_t)i + 1 - n;
    }
    return -1;
}

/* The segment holds nothing any more: free, or quarantined while a fork runs. */
static void segRelease(flashStore *fs, uint32_t i) {
    if (fs->fork_depth) {
        fs->segs[i] = (fsSegment){.state = SEG_QUARANTINE};
        fs->nquarantined++;
    } else {
        fs->segs[i] = (fsSegment){.state = SEG_FREE};
        mapSet(fs, i);
        fs->nfree++;
    }
}

static void segMaybeRelease(flashStore *fs, uint32_t i) {
    fsSegment *s = &fs->segs[i];
    if (s->state != SEG_SEALED || s->live || s->reads || (s->flags & (SEGF_BUFFERED | SEGF_COMPACTING))) return;
    fs->used_bytes -= fs->segsize;
    segRelease(fs, i);
}

/* A large record's extent goes once the record is dead and no read is on it. */
static void extentRelease(flashStore *fs, uint32_t head) {
    if (fs->segs[head].live || fs->segs[head].reads) return;
    uint32_t n = fs->segs[head].fill;
    fs->used_bytes -= (uint64_t)n * fs->segsize;
    for (uint32_t k = 0; k < n; k++) segRelease(fs, head + k);
}

/* Subtracts a dead small record from its segment. */
static void segSubLive(flashStore *fs, uint32_t seg, uint32_t len) {
    fsSegment *s = &fs->segs[seg];
    if (s->live < len) {
        fsLog(fs, FLASH_LOG_WARNING, "flash store: live bytes of segment %u would go negative", seg);
        len = s->live;
    }
    s->live -= len;
    fs->live_bytes -= len;
}

/* ---------------------------------------------------------------- requests */

static int engineTry(flashStore *fs, const fsDeferred *d) {
    if (d->is_write) return ioEngineWrite(fs->io, fs->fd, d->buf, d->len, d->off, d->done, d->privdata);
    return ioEngineRead(fs->io, fs->fd, d->buf, d->len, d->off, d->done, d->privdata);
}

/* Hands backlogged requests to the engine; submits to make room unless inside a
 * completion callback. */
static void backlogDrain(flashStore *fs) {
    int submitted = 0;
    while (fs->backlog_head) {
        fsDeferred *d = fs->backlog_head;
        if (engineTry(fs, d) != 0) {
            if (submitted || fs->cb_depth) return;
            ioEngineSubmit(fs->io);
            submitted = 1;
            continue;
        }
        fs->backlog_head = d->next;
        if (!fs->backlog_head) fs->backlog_tail = NULL;
        zfree(d);
    }
}

static void fsIssue(flashStore *fs, int is_write, void *buf, size_t len, uint64_t off, ioCompletionProc *done,
                    void *privdata) {
    fsDeferred d = {NULL, is_write, buf, len, (off_t)off, done, privdata};
    fs->io_pending++;
    if (!fs->backlog_head) {
        if (engineTry(fs, &d) == 0) return;
        if (!fs->cb_depth) {
            ioEngineSubmit(fs->io);
            if (engineTry(fs, &d) == 0) return;
        }
    }
    fsDeferred *copy = zmalloc(sizeof(*copy));
    *copy = d;
    if (fs->backlog_tail) fs->backlog_tail->next = copy;
    else fs->backlog_head = copy;
    fs->backlog_tail = copy;
}

/* ---------------------------------------------------------------- write buffers */

static void wbMaybeRelease(fsWriteBuf *wb);

static void pendPush(fsWriteBuf *wb, const fsPending *p) {
    if (wb->pend_len == wb->pend_cap) {
        if (wb->pend_head) { /* slide the waiting ones down before growing */
            memmove(wb->pend, wb->pend + wb->pend_head, (wb->pend_len - wb->pend_head) * sizeof(fsPending));
            wb->pend_len -= wb->pend_head;
            wb->pend_head = 0;
        }
        if (wb->pend_len == wb->pend_cap) {
            size_t cap = wb->pend_cap ? wb->pend_cap * 2 : 64;
            wb->pend = zrealloc(wb->pend, cap * sizeof(fsPending));
            wb->fs->mem_bytes += (cap - wb->pend_cap) * sizeof(fsPending);
            wb->pend_cap = cap;
        }
    }
    wb->pend[wb->pend_len++] = *p;
}

static void writeDone(void *privdata, ssize_t result);

/* Writes the buffered bytes not yet written: whole blocks, and with partial the last,
 * partial block too. */
static void wbFlush(fsWriteBuf *wb, int partial) {
    flashStore *fs = wb->fs;
    uint32_t fill = fs->segs[wb->seg].fill;
    if (wb->poisoned || fs->closing || fill == wb->submitted) return;
    if ((wb->submitted & (FS_BLOCK - 1)) && wb->tail_busy) {
        int want = partial ? 2 : 1;
        if (wb->flush_wanted < want) wb->flush_wanted = want;
        return;
    }
    uint32_t start = wb->submitted & ~(FS_BLOCK - 1);
    uint32_t end = partial ? (uint32_t)roundUp(fill, FS_BLOCK) : (fill & ~(FS_BLOCK - 1));
    if (end <= start) return;
    uint32_t data_end = fill < end ? fill : end;
    if (end > fill) memset(wb->data + fill, 0, end - fill);

    fsWrite *w = zmalloc(sizeof(*w));
    *w = (fsWrite){.wb = wb, .data_end = data_end, .len = end - start};
    w->covers_tail = (data_end & (FS_BLOCK - 1)) != 0;
    if (w->covers_tail) wb->tail_busy = 1;
    if (wb->wr_tail) wb->wr_tail->next = w;
    else wb->wr_head = w;
    wb->wr_tail = w;
    wb->submitted = data_end;
    fs->st.writes_in_flight++;
    fsIssue(fs, 1, wb->data + start, w->len, segBase(fs, wb->seg) + start, writeDone, w);
}

static void wbSeal(fsWriteBuf *wb) {
    flashStore *fs = wb->fs;
    fsSegment *s = &fs->segs[wb->seg];
    if (wb->sealed) return;
    wb->sealed = 1;
    s->state = SEG_SEALED;
    fs->used_bytes += fs->segsize - s->fill; /* the unused tail is dead space now */
    if (fs->open == wb) fs->open = NULL;
    wbFlush(wb, 1);
    wbMaybeRelease(wb);
}

static void wbPoison(fsWriteBuf *wb) {
    if (wb->poisoned) return;
    wb->poisoned = 1;
    fsLog(wb->fs, FLASH_LOG_WARNING, "flash store: write to segment %u failed; segment retired", wb->seg);
    wbSeal(wb);
}

/* Runs the callbacks of the appends whose bytes are all written (or failed). */
static void wbComplete(fsWriteBuf *wb) {
    flashStore *fs = wb->fs;
    fs->cb_depth++;
    while (wb->pend_head < wb->pend_len) {
        fsPending p = wb->pend[wb->pend_head];
        if (!wb->poisoned && p.end > wb->durable) break;
        wb->pend_head++;
        if (wb->poisoned) {
            segSubLive(fs, wb->seg, p.len);
            p.cb(p.privdata, FLASH_ERR_IO, FLASH_LOC_NONE);
        } else {
            fs->st.records_written++;
            p.cb(p.privdata, FLASH_OK, p.loc);
        }
    }
    if (wb->pend_head == wb->pend_len) wb->pend_head = wb->pend_len = 0;
    fs->cb_depth--;
}

static void writeDone(void *privdata, ssize_t result) {
    fsWrite *w = privdata;
    fsWriteBuf *wb = w->wb;
    flashStore *fs = wb->fs;
    fs->io_pending--;
    fs->st.writes_in_flight--;
    if (result == (ssize_t)w->len) {
        w->state = FS_W_OK;
        fs->st.bytes_written += w->len;
    } else {
        w->state = FS_W_FAILED;
        fs->st.write_errors++;
    }
    if (w->covers_tail) wb->tail_busy = 0;
    while (wb->wr_head && wb->wr_head->state != FS_W_INFLIGHT) {
        fsWrite *h = wb->wr_head;
        wb->wr_head = h->next;
        if (!wb->wr_head) wb->wr_tail = NULL;
        if (h->state == FS_W_FAILED) wbPoison(wb);
        else if (h->data_end > wb->durable) wb->durable = h->data_end;
        zfree(h);
    }
    wbComplete(wb);
    if (wb->flush_wanted && !wb->tail_busy) {
        int partial = wb->flush_wanted == 2;
        wb->flush_wanted = 0;
        fs->cb_depth++;
        wbFlush(wb, partial);
        fs->cb_depth--;
    }
    wbMaybeRelease(wb);
    fs->cb_depth++;
    backlogDrain(fs);
    fs->cb_depth--;
}

static void wbMaybeRelease(fsWriteBuf *wb) {
    flashStore *fs = wb->fs;
    if (!wb->in_use || !wb->sealed || wb->wr_head || wb->pend_head < wb->pend_len) return;
    if (!wb->poisoned && wb->submitted != fs->segs[wb->seg].fill) return;
    wb->in_use = 0;
    fs->segs[wb->seg].flags &= ~SEGF_BUFFERED;
    segMaybeRelease(fs, wb->seg);
}

static int segOpen(flashStore *fs, int internal, fsWriteBuf **out) {
    fsWriteBuf *wb = NULL;
    for (unsigned i = 0; i < fs->opt.write_buffers; i++) {
        if (!fs->wbs[i].in_use) {
            wb = &fs->wbs[i];
            break;
        }
    }
    if (!wb) return FLASH_ERR_BUSY;
    int64_t seg = segAlloc(fs, 1, internal);
    if (seg < 0) return FLASH_ERR_NOSPACE;
    if (!wb->data) {
        wb->data = ioEngineAllocBuffer(fs->segsize);
        fs->mem_bytes += fs->segsize;
    }
    segTake(fs, (uint32_t)seg, SEG_OPEN);
    fs->segs[seg].flags = SEGF_BUFFERED;
    wb->seg = (uint32_t)seg;
    wb->in_use = 1;
    wb->sealed = wb->poisoned = wb->tail_busy = wb->flush_wanted = 0;
    wb->submitted = wb->durable = wb->tail_seen = 0;
    wb->pend_head = wb->pend_len = 0;
    fs->open = wb;
    *out = wb;
    return FLASH_OK;
}

/* Where a record of len bytes goes in a segment filled to fill. */
static uint64_t recordPlace(uint32_t fill, uint64_t len) {
    uint64_t pos = roundUp(fill, FS_ALIGN);
    uint64_t in = pos & (FS_BLOCK - 1);
    if (in && len <= FS_BLOCK && in + len > FS_BLOCK && FS_BLOCK - in <= FS_MAX_PAD) pos += FS_BLOCK - in;
    return pos;
}

/* ---------------------------------------------------------------- appends */

static void largeWriteDone(void *privdata, ssize_t result) {
    fsLargeWrite *lw = privdata;
    flashStore *fs = lw->fs;
    fs->io_pending--;
    fs->st.writes_in_flight--;
    if (result < 0) lw->failed = 1;
    else lw->done_bytes += (uint64_t)result;
    if (--lw->chunks) return;
    fs->st.bytes_written += lw->done_bytes;
    ioEngineFreeBuffer(lw->buf);
    fs->mem_bytes -= lw->len;
    fs->cb_depth++;
    if (lw->failed || lw->done_bytes != lw->len) {
        fs->st.write_errors++;
        fs->segs[lw->head].live = 0; /* nobody has its location: no read can be on it */
        fs->live_bytes -= lw->len;
        extentRelease(fs, lw->head);
        lw->cb(lw->privdata, FLASH_ERR_IO, FLASH_LOC_NONE);
    } else {
        fs->st.records_written++;
        lw->cb(lw->privdata, FLASH_OK, lw->loc);
    }
    zfree(lw);
    backlogDrain(fs);
    fs->cb_depth--;
}

static int appendLarge(flashStore *fs, int internal, int db, const char *key, size_t klen, const void *val,
                       size_t vlen, uint64_t version, flashAppendDone *cb, void *privdata) {
    uint64_t len = FS_HDR + (uint64_t)klen + vlen;
    uint64_t rounded = roundUp(len, FS_BLOCK);
    if (rounded / FS_BLOCK > LOC_LEN_MAX) return FLASH_ERR_TOOBIG;
    uint64_t nseg = (rounded + fs->segsize - 1) >> fs->seg_shift;
    if (nseg > fs->nseg) return FLASH_ERR_TOOBIG;
    int64_t head = segAlloc(fs, (uint32_t)nseg, internal);
    if (head < 0) return FLASH_ERR_NOSPACE;
    for (uint32_t k = 0; k < nseg; k++) segTake(fs, (uint32_t)head + k, k ? SEG_LARGE_TAIL : SEG_LARGE);
    fs->segs[head].fill = (uint32_t)nseg;
    fs->segs[head].live = 1;
    fs->live_bytes += rounded;
    fs->used_bytes += nseg * fs->segsize;

    fsLargeWrite *lw = zmalloc(sizeof(*lw));
    *lw = (fsLargeWrite){.fs = fs, .head = (uint32_t)head, .nseg = (uint32_t)nseg, .len = rounded, .cb = cb,
                         .privdata = privdata};
    lw->buf = ioEngineAllocBuffer(rounded);
    fs->mem_bytes += rounded;
    fsEncode(lw->buf, db, key, klen, val, vlen, version);
    memset(lw->buf + len, 0, rounded - len);
    uint64_t off = segBase(fs, (uint32_t)head);
    lw->loc = locLarge(off, rounded / FS_BLOCK);
    lw->chunks = (unsigned)((rounded + FS_MAX_IO - 1) / FS_MAX_IO);
    fs->st.writes_in_flight += lw->chunks;
    for (uint64_t pos = 0; pos < rounded; pos += FS_MAX_IO) {
        uint64_t n = rounded - pos < FS_MAX_IO ? rounded - pos : FS_MAX_IO;
        fsIssue(fs, 1, lw->buf + pos, n, off + pos, largeWriteDone, lw);
    }
    return FLASH_OK;
}

static int fsAppend(flashStore *fs, int internal, int db, const char *key, size_t klen, const void *val,
                    size_t vlen, uint64_t version, flashAppendDone *cb, void *privdata) {
    if (fs->closing) return FLASH_ERR_CLOSED;
    if (db < 0 || db > 0xffff || !cb || (klen && !key) || (vlen && !val)) return FLASH_ERR_INVALID;
    if (klen > UINT32_MAX || vlen > UINT32_MAX) return FLASH_ERR_TOOBIG;
    uint64_t len = FS_HDR + (uint64_t)klen + vlen;
    int status;
    if (len > fs->small_max) {
        status = appendLarge(fs, internal, db, key, klen, val, vlen, version, cb, privdata);
    } else {
        fsWriteBuf *wb = fs->open;
        uint64_t pos = 0;
        if (wb) {
            pos = recordPlace(fs->segs[wb->seg].fill, len);
            if (pos + len > fs->segsize) {
                wbSeal(wb);
                wb = NULL;
            }
        }
        if (!wb) {
            if ((status = segOpen(fs, internal, &wb)) != FLASH_OK) return status;
            pos = 0;
        }
        fsSegment *s = &fs->segs[wb->seg];
        if (pos > s->fill) memset(wb->data + s->fill, 0, pos - s->fill);
        fsEncode(wb->data + pos, db, key, klen, val, vlen, version);
        fsPending p = {(uint32_t)(pos + len), (uint32_t)len, locSmall(fs, segBase(fs, wb->seg) + pos, len), cb,
                       privdata};
        fs->used_bytes += pos + len - s->fill;
        s->fill = (uint32_t)(pos + len);
        s->live += (uint32_t)len;
        fs->live_bytes += len;
        pendPush(wb, &p);
        if (fs->segsize - s->fill < FS_HDR + FS_ALIGN) wbSeal(wb);
        else if (s->fill - wb->submitted >= FS_EAGER_FLUSH) wbFlush(wb, 0);
        status = FLASH_OK;
    }
    if (status == FLASH_OK && !internal) fs->st.user_bytes += klen + vlen;
    return status;
}

int flashStoreAppend(flashStore *fs, int db, const char *key, size_t klen, const void *val, size_t vlen,
                     uint64_t version, flashAppendDone *cb, void *privdata) {
    return fsAppend(fs, 0, db, key, klen, val, vlen, version, cb, privdata);
}

void flashStoreFlush(flashStore *fs, int all) {
    fsWriteBuf *wb = fs->open;
    if (fs->closing) return;
    backlogDrain(fs);
    if (!wb) return;
    /* Records still unwritten since the last flush go now, with their partial block. */
    int partial = all || wb->tail_seen > wb->submitted;
    wbFlush(wb, partial);
    uint32_t fill = fs->segs[wb->seg].fill;
    wb->tail_seen = (fs->open == wb && wb->submitted < fill) ? fill : 0;
}

/* ---------------------------------------------------------------- reads and frees */

/* Validates a location against the segment table; gives the aligned span to read. */
static int locCheck(const flashStore *fs, flashLocation loc, uint64_t *start, uint64_t *size) {
    uint64_t off = locOffset(loc), len = flashLocationLength(loc);
    if (len < FS_HDR || off + len > fs->capacity) return FLASH_ERR_INVALID;
    uint32_t seg = (uint32_t)(off >> fs->seg_shift);
    uint64_t in = off & (fs->segsize - 1);
    const fsSegment *s = &fs->segs[seg];
    if (locIsLarge(loc)) {
        if (in || s->state != SEG_LARGE || !s->live || len > (uint64_t)s->fill * fs->segsize)
            return FLASH_ERR_INVALID;
    } else if ((s->state != SEG_OPEN && s->state != SEG_SEALED) || in + len > s->fill) {
        return FLASH_ERR_INVALID;
    }
    *start = off & ~(uint64_t)(FS_BLOCK - 1);
    *size = roundUp(off + len, FS_BLOCK) - *start;
    return FLASH_OK;
}

static int inArena(const flashStore *fs, const unsigned char *buf) {
    return fs->read_arena && buf >= fs->read_arena && buf < fs->read_arena + FS_READ_ARENA_SLOTS * FS_READ_POOL_BUF;
}

static unsigned char *poolBufGet(flashStore *fs) {
    if (fs->arena_free_len) return fs->arena_free[--fs->arena_free_len];
    fs->mem_bytes += FS_READ_POOL_BUF;
    return ioEngineAllocBuffer(FS_READ_POOL_BUF);
}

static void poolBufPut(flashStore *fs, unsigned char *buf) {
    if (inArena(fs, buf)) {
        fs->arena_free[fs->arena_free_len++] = buf;
        return;
    }
    fs->mem_bytes -= FS_READ_POOL_BUF;
    ioEngineFreeBuffer(buf);
}

static fsRead *readGet(flashStore *fs, uint64_t size) {
    fsRead *op = fs->read_pool;
    if (op) {
        fs->read_pool = op->next_free;
        fs->read_pool_len--;
    } else {
        op = zcalloc(sizeof(*op));
        op->fs = fs;
        op->pool_buf = poolBufGet(fs);
    }
    op->buf = op->pool_buf;
    if (size > FS_READ_POOL_BUF) {
        op->buf = ioEngineAllocBuffer(size);
        fs->mem_bytes += size;
    }
    op->size = size;
    op->done_bytes = 0;
    op->failed = 0;
    return op;
}

static void readPut(flashStore *fs, fsRead *op) {
    if (op->buf != op->pool_buf) {
        ioEngineFreeBuffer(op->buf);
        fs->mem_bytes -= op->size;
    }
    if (fs->read_pool_len >= FS_READ_POOL_MAX) {
        poolBufPut(fs, op->pool_buf);
        zfree(op);
        return;
    }
    op->next_free = fs->read_pool;
    fs->read_pool = op;
    fs->read_pool_len++;
}

static void readDone(void *privdata, ssize_t result) {
    fsRead *op = privdata;
    flashStore *fs = op->fs;
    fs->io_pending--;
    if (result < 0) op->failed = 1;
    else op->done_bytes += (uint64_t)result;
    if (--op->chunks) return;
    fs->st.reads_in_flight--;
    fs->st.bytes_read += op->done_bytes;
    flashRecord rec;
    fs->cb_depth++;
    if (op->failed || op->done_bytes != op->size) {
        fs->st.read_errors++;
        op->cb(op->privdata, FLASH_ERR_IO, NULL);
    } else if (fsDecodeAt(op->buf + op->skip, op->loc, &rec) != FLASH_OK) {
        fs->st.checksum_failures++;
        fsLog(fs, FLASH_LOG_WARNING, "flash store: checksum mismatch reading offset %llu",
              (unsigned long long)locOffset(op->loc));
        op->cb(op->privdata, FLASH_ERR_CHECKSUM, NULL);
    } else {
        fs->st.records_read++;
        op->cb(op->privdata, FLASH_OK, &rec);
    }
    uint32_t seg = op->seg;
    readPut(fs, op);
    if (--fs->segs[seg].reads == 0) { /* freed while read: its turn to go now */
        if (fs->segs[seg].state == SEG_LARGE) extentRelease(fs, seg);
        else segMaybeRelease(fs, seg);
    }
    backlogDrain(fs);
    fs->cb_depth--;
}

int flashStoreRead(flashStore *fs, flashLocation loc, flashReadDone *cb, void *privdata) {
    uint64_t start, size;
    if (fs->closing) return FLASH_ERR_CLOSED;
    if (!cb || locCheck(fs, loc, &start, &size) != FLASH_OK) return FLASH_ERR_INVALID;
    uint32_t seg = (uint32_t)(locOffset(loc) >> fs->seg_shift);
    if (fs->segs[seg].reads == UINT16_MAX) return FLASH_ERR_BUSY;
    fs->segs[seg].reads++;
    fsRead *op = readGet(fs, size);
    op->seg = seg;
    op->loc = loc;
    op->skip = locOffset(loc) - start;
    op->cb = cb;
    op->privdata = privdata;
    op->chunks = (unsigned)((size + FS_MAX_IO - 1) / FS_MAX_IO);
    fs->st.reads_in_flight++;
    for (uint64_t pos = 0; pos < size; pos += FS_MAX_IO) {
        uint64_t n = size - pos < FS_MAX_IO ? size - pos : FS_MAX_IO;
        fsIssue(fs, 0, op->buf + pos, n, start + pos, readDone, op);
    }
    return FLASH_OK;
}

/* Fills buf with size bytes of the file at start; 0 on success. */
static int fsPreadAll(flashStore *fs, unsigned char *buf, uint64_t size, uint64_t start) {
    uint64_t done = 0;
    while (done < size) {
        ssize_t n = pread(fs->fd, buf + done, size - done, (off_t)(start + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            fs->st.read_errors++;
            return -1;
        }
        done += (uint64_t)n;
    }
    fs->st.bytes_read += size;
    return 0;
}

int flashStoreReadSyncAhead(flashStore *fs, flashLocation loc, flashRecord *rec, size_t window) {
    uint64_t start, size;
    if (locCheck(fs, loc, &start, &size) != FLASH_OK) return FLASH_ERR_INVALID;
    if (start < fs->ahead_start || start + size > fs->ahead_end) {
        uint64_t want = roundUp(window > size ? window : size, FS_BLOCK);
        if (start + want > fs->capacity) want = fs->capacity - start;
        if (fs->ahead_cap < want) {
            if (fs->ahead) ioEngineFreeBuffer(fs->ahead);
            fs->mem_bytes -= fs->ahead_cap;
            fs->ahead = ioEngineAllocBuffer(want);
            fs->ahead_cap = want;
            fs->mem_bytes += fs->ahead_cap;
        }
        fs->ahead_start = fs->ahead_end = 0;
        if (fsPreadAll(fs, fs->ahead, want, start) != 0) return FLASH_ERR_IO;
        fs->ahead_start = start;
        fs->ahead_end = start + want;
    }
    if (fsDecodeAt(fs->ahead + (locOffset(loc) - fs->ahead_start), loc, rec) != FLASH_OK) {
        fs->st.checksum_failures++;
        return FLASH_ERR_CHECKSUM;
    }
    fs->st.records_read++;
    return FLASH_OK;
}

void flashStoreReadAheadReset(flashStore *fs) {
    if (fs->ahead) ioEngineFreeBuffer(fs->ahead);
    fs->mem_bytes -= fs->ahead_cap;
    fs->ahead = NULL;
    fs->ahead_cap = 0;
    fs->ahead_start = fs->ahead_end = 0;
}

int flashStoreReadSync(flashStore *fs, flashLocation loc, flashRecord *rec) {
    uint64_t start, size;
    if (locCheck(fs, loc, &start, &size) != FLASH_OK) return FLASH_ERR_INVALID;
    if (fs->scratch_cap < size || fs->scratch_cap > FS_SCRATCH_KEEP) {
        if (fs->scratch) ioEngineFreeBuffer(fs->scratch);
        fs->mem_bytes -= fs->scratch_cap;
        fs->scratch_cap = size > FS_READ_POOL_BUF ? size : FS_READ_POOL_BUF;
        fs->scratch = ioEngineAllocBuffer(fs->scratch_cap);
        fs->mem_bytes += fs->scratch_cap;
    }
    if (fsPreadAll(fs, fs->scratch, size, start) != 0) return FLASH_ERR_IO;
    if (fsDecodeAt(fs->scratch + (locOffset(loc) - start), loc, rec) != FLASH_OK) {
        fs->st.checksum_failures++;
        return FLASH_ERR_CHECKSUM;
    }
    fs->st.records_read++;
    return FLASH_OK;
}

static void fsFree(flashStore *fs, flashLocation loc) {
    uint64_t start, size;
    if (locCheck(fs, loc, &start, &size) != FLASH_OK) {
        fsLog(fs, FLASH_LOG_WARNING, "flash store: free of an invalid location %llx", (unsigned long long)loc);
        return;
    }
    uint32_t seg = (uint32_t)(locOffset(loc) >> fs->seg_shift);
    if (locIsLarge(loc)) {
        fs->segs[seg].live = 0;
        fs->live_bytes -= flashLocationLength(loc);
        extentRelease(fs, seg);
        return;
    }
    segSubLive(fs, seg, (uint32_t)flashLocationLength(loc));
    segMaybeRelease(fs, seg);
}

void flashStoreFree(flashStore *fs, flashLocation loc) {
    fs->st.records_freed++;
    fsFree(fs, loc);
}

/* ---------------------------------------------------------------- compaction */

static void victimMaybeFinish(flashStore *fs, unsigned slot) {
    fsVictim *v = &fs->cp.victims[slot];
    if (!v->used || !v->walked || v->relocs) return;
    fsSegment *s = &fs->segs[v->seg];
    s->flags &= ~SEGF_COMPACTING;
    v->used = 0;
    if (s->live == 0) {
        fs->st.compact_segments++;
        segMaybeRelease(fs, v->seg);
    } else {
        s->flags |= SEGF_NOCOMPACT;
        fsLog(fs, FLASH_LOG_WARNING, "flash store: segment %u keeps %u live bytes after compaction", v->seg,
              s->live);
    }
}

/* The walk is over once every record is seen (or the read failed): the buffer is free
 * for the next victim while this one waits for its copies. */
static void compactMaybeWalked(flashStore *fs) {
    fsCompaction *cp = &fs->cp;
    if (!cp->active || cp->read_inflight) return;
    if (!cp->read_failed && cp->cursor < cp->fill) return;
    cp->active = 0;
    cp->victims[cp->slot].walked = 1;
    victimMaybeFinish(fs, cp->slot);
}

static void relocDone(void *privdata, int status, flashLocation new_loc) {
    fsReloc *r = privdata;
    flashStore *fs = r->fs;
    if (status == FLASH_OK) {
        if (fs->opt.relocated(fs->opt.ctx, r->db, r->key, r->klen, r->version, r->old_loc, new_loc)) {
            segSubLive(fs, (uint32_t)(locOffset(r->old_loc) >> fs->seg_shift), r->len);
            fs->st.compact_records_moved++;
            fs->st.compact_bytes_moved += r->len;
        } else {
            fsFree(fs, new_loc); /* the key moved on while the copy was written */
        }
    }
    unsigned slot = r->slot;
    fs->cp.victims[slot].relocs--;
    zfree(r);
    victimMaybeFinish(fs, slot);
}

static void compactReadDone(void *privdata, ssize_t result) {
    flashStore *fs = privdata;
    fsCompaction *cp = &fs->cp;
    fs->io_pending--;
    cp->read_inflight = 0;
    if (result == (ssize_t)cp->read_len) {
        cp->read_done += cp->read_len;
        fs->st.bytes_read += cp->read_len;
        fs->st.compact_bytes_read += cp->read_len;
    } else {
        cp->read_failed = 1;
        fs->st.read_errors++;
    }
    compactMaybeWalked(fs);
}

static int compactPick(flashStore *fs) {
    fsCompaction *cp = &fs->cp;
    if (fs->fork_depth || (double)fs->nfree >= fs->opt.compact_free_ratio * fs->nseg) return 0;
    unsigned slot = 0;
    while (slot < FS_MAX_VICTIMS && cp->victims[slot].used) slot++;
    if (slot == FS_MAX_VICTIMS) return 0;
    /* Close to full, any victim that frees a good part of a segment beats failing appends. */
    int urgent = fs->nfree <= fs->opt.reserve_segments + 1;
    double ratio = urgent && fs->opt.compact_live_ratio < FS_URGENT_LIVE_RATIO ? FS_URGENT_LIVE_RATIO
                                                                             : fs->opt.compact_live_ratio;
    uint32_t best_live = (uint32_t)(ratio * fs->segsize);
    int64_t best = -1;
    uint32_t window = fs->nseg < FS_SCAN_WINDOW ? fs->nseg : FS_SCAN_WINDOW;
    for (uint32_t k = 0; k < window; k++) {
        uint32_t i = (cp->scan_pos + k) % fs->nseg;
        const fsSegment *s = &fs->segs[i];
        if (s->state != SEG_SEALED || s->flags) continue;
        if (s->live < best_live) {
            best_live = s->live;
            best = i;
        }
    }
    cp->scan_pos = (cp->scan_pos + window) % fs->nseg;
    if (best < 0) return 0;
    if (!cp->buf) {
        cp->buf = ioEngineAllocBuffer(fs->segsize);
        fs->mem_bytes += fs->segsize;
    }
    cp->victims[slot] = (fsVictim){.seg = (uint32_t)best, .used = 1};
    cp->active = 1;
    cp->slot = slot;
    cp->seg = (uint32_t)best;
    cp->fill = fs->segs[best].fill;
    cp->cursor = cp->read_issued = cp->read_done = 0;
    cp->read_inflight = cp->read_failed = 0;
    fs->segs[best].flags |= SEGF_COMPACTING;
    return 1;
}

static void compactRead(flashStore *fs, uint64_t *budget) {
    fsCompaction *cp = &fs->cp;
    uint32_t end = (uint32_t)roundUp(cp->fill, FS_BLOCK);
    if (cp->read_inflight || cp->read_failed || cp->read_issued >= end || *budget == 0) return;
    uint64_t chunk = roundUp(*budget < FS_MAX_IO ? *budget : FS_MAX_IO, FS_BLOCK);
    if (chunk > end - cp->read_issued) chunk = end - cp->read_issued;
    *budget = chunk < *budget ? *budget - chunk : 0;
    cp->read_len = (uint32_t)chunk;
    cp->read_inflight = 1;
    fsIssue(fs, 0, cp->buf + cp->read_issued, chunk, segBase(fs, cp->seg) + cp->read_issued, compactReadDone,
            fs);
    cp->read_issued += (uint32_t)chunk;
}

/* Copies a live record to the append point; FLASH_OK or why not now. */
static int compactCopy(flashStore *fs, const flashRecord *rec, flashLocation loc, uint32_t len) {
    fsReloc *r = zmalloc(sizeof(*r) + rec->klen);
    *r = (fsReloc){.fs = fs, .old_loc = loc, .version = rec->version, .len = len, .db = rec->db,
                   .slot = fs->cp.slot, .klen = rec->klen};
    memcpy(r->key, rec->key, rec->klen);
    int status = fsAppend(fs, 1, rec->db, rec->key, rec->klen, rec->val, rec->vlen, rec->version, relocDone, r);
    if (status != FLASH_OK) zfree(r);
    else fs->cp.victims[fs->cp.slot].relocs++;
    return status;
}

/* Walks the records read so far, copying the live ones (up to *budget bytes). */
static void compactWalk(flashStore *fs, uint64_t *budget) {
    fsCompaction *cp = &fs->cp;
    if (fs->segs[cp->seg].live == 0) cp->cursor = cp->fill; /* nothing left to save */
    while (cp->cursor < cp->fill && *budget && !cp->read_failed) {
        uint32_t c = cp->cursor;
        const unsigned char *p = cp->buf + c;
        if (c + FS_HDR > cp->fill) {
            cp->cursor = cp->fill;
            break;
        }
        if (c + FS_HDR > cp->read_done) break;
        if (get16(p + 4) != FS_MAGIC) {
            cp->cursor = nextBlock(c);
            continue;
        }
        uint64_t total = FS_HDR + (uint64_t)get32(p + 8) + get32(p + 12);
        if (c + total <= cp->fill && c + total > cp->read_done) break;
        flashRecord rec;
        if (c + total > cp->fill || fsDecode(p, total, &rec, &total) != FLASH_OK) {
            fs->st.checksum_failures++;
            fsLog(fs, FLASH_LOG_WARNING, "flash store: corrupt record in segment %u at %u", cp->seg, c);
            cp->cursor = nextBlock(c);
            continue;
        }
        flashLocation loc = locSmall(fs, segBase(fs, cp->seg) + c, total);
        if (fs->opt.is_live(fs->opt.ctx, rec.db, rec.key, rec.klen, rec.version, loc)) {
            if (compactCopy(fs, &rec, loc, (uint32_t)total) != FLASH_OK) break; /* retry next step */
            *budget = total < *budget ? *budget - total : 0;
        }
        cp->cursor = (uint32_t)roundUp(c + total, FS_ALIGN);
    }
    compactMaybeWalked(fs);
}

int flashStoreCompactStep(flashStore *fs, size_t budget) {
    fsCompaction *cp = &fs->cp;
    if (fs->closing || !fs->opt.is_live || !fs->opt.relocated) return 0;
    if (budget < FS_BLOCK) budget = FS_BLOCK;
    backlogDrain(fs);
    uint64_t read_budget = budget, move_budget = budget;
    int busy = 0;
    /* A victim whose read finished is walked; then the next one's read starts at once. */
    while (cp->active || (read_budget && compactPick(fs))) {
        busy = 1;
        compactRead(fs, &read_budget);
        compactWalk(fs, &move_budget);
        if (cp->active) break; /* waiting for its read, or out of budget */
    }
    for (unsigned i = 0; i < FS_MAX_VICTIMS && !busy; i++) busy = cp->victims[i].used;
    return busy;
}

/* ---------------------------------------------------------------- forks, stats */

void flashStoreForkBegin(flashStore *fs) { fs->fork_depth++; }

void flashStoreForkEnd(flashStore *fs) {
    if (!fs->fork_depth || --fs->fork_depth) return;
    for (uint32_t i = 0; i < fs->nseg && fs->nquarantined; i++) {
        if (fs->segs[i].state != SEG_QUARANTINE) continue;
        fs->segs[i].state = SEG_FREE;
        mapSet(fs, i);
        fs->nfree++;
        fs->nquarantined--;
    }
}

void flashStoreGetStats(const flashStore *fs, flashStoreStats *st) {
    *st = fs->st;
    st->capacity = fs->capacity;
    st->segment_size = fs->segsize;
    st->segments_total = fs->nseg;
    st->segments_free = fs->nfree;
    st->segments_quarantined = fs->nquarantined;
    st->segments_used = fs->nseg - fs->nfree - fs->nquarantined;
    st->used_bytes = fs->used_bytes;
    st->live_bytes = fs->live_bytes;
    st->dead_bytes = fs->used_bytes - fs->live_bytes;
    st->write_amplification = fs->st.user_bytes ? (double)fs->st.bytes_written / fs->st.user_bytes : 0;
    st->buffered_bytes = 0;
    for (unsigned i = 0; i < fs->opt.write_buffers; i++) {
        const fsWriteBuf *wb = &fs->wbs[i];
        if (wb->in_use) st->buffered_bytes += fs->segs[wb->seg].fill - wb->durable;
    }
    st->memory_bytes = fs->mem_bytes;
    st->direct_io = fs->direct_io;
}

unsigned flashStorePendingIo(const flashStore *fs) { return fs->io_pending; }

/* ---------------------------------------------------------------- open, close */

static flashStore *openFail(flashStore *fs, char **err, const char *fmt, ...) {
    if (err) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        *err = zstrdup(msg);
    }
    if (fs) {
        if (fs->fd >= 0) close(fs->fd);
        zfree(fs->segs);
        zfree(fs->freemap);
        zfree(fs->wbs);
        zfree(fs);
    }
    return NULL;
}

/* O_DIRECT is accepted by open() on some file systems that then fail the I/O. */
static int directProbe(int fd) {
    void *buf = ioEngineAllocBuffer(FS_BLOCK);
    ssize_t n = pread(fd, buf, FS_BLOCK, 0);
    ioEngineFreeBuffer(buf);
    return n == (ssize_t)FS_BLOCK;
}

static int openError(char **err, const char *fmt, const char *path) {
    if (err) {
        char msg[512];
        snprintf(msg, sizeof(msg), fmt, path, strerror(errno));
        *err = zstrdup(msg);
    }
    return -1;
}

/* Opens, locks and preallocates the file; O_DIRECT when the file system takes it. */
static int fileOpen(flashStore *fs, const char *path, char **err) {
    int flags = O_RDWR | O_CREAT | O_CLOEXEC;
    if (!fs->opt.buffered_io) {
        fs->fd = open(path, flags | O_DIRECT, 0600);
        if (fs->fd < 0 && errno != EINVAL) return openError(err, "can't open flash file %s: %s", path);
        fs->direct_io = fs->fd >= 0;
    }
    if (fs->fd < 0 && (fs->fd = open(path, flags, 0600)) < 0)
        return openError(err, "can't open flash file %s: %s", path);
    if (flock(fs->fd, LOCK_EX | LOCK_NB) == -1)
        return openError(err, "flash file %s is locked by another process (%s)", path);
    if (ftruncate(fs->fd, (off_t)fs->capacity) == -1) return openError(err, "can't size flash file %s: %s", path);
    if (fallocate(fs->fd, 0, 0, (off_t)fs->capacity) == -1) {
        if (errno != EOPNOTSUPP && errno != ENOSYS)
            return openError(err, "can't preallocate flash file %s: %s", path);
        fsLog(fs, FLASH_LOG_NOTICE, "flash store: %s can't be preallocated; the file is sparse", path);
    }
    if (fs->direct_io && !directProbe(fs->fd)) {
        close(fs->fd); /* drops the lock too */
        fs->direct_io = 0;
        if ((fs->fd = open(path, flags, 0600)) < 0 || flock(fs->fd, LOCK_EX | LOCK_NB) == -1)
            return openError(err, "can't reopen flash file %s: %s", path);
    }
    if (!fs->direct_io)
        fsLog(fs, FLASH_LOG_WARNING, "flash store: O_DIRECT not available for %s, using buffered I/O", path);
    return 0;
}

/* The pool's read buffers, registered with the engine where it can. */
static void readArenaInit(flashStore *fs) {
    size_t len = (size_t)FS_READ_ARENA_SLOTS * FS_READ_POOL_BUF;
    fs->read_arena = ioEngineAllocBuffer(len);
    for (unsigned i = FS_READ_ARENA_SLOTS; i-- > 0;)
        fs->arena_free[fs->arena_free_len++] = fs->read_arena + (size_t)i * FS_READ_POOL_BUF;
    fs->mem_bytes += len;
    if (ioEngineRegisterBuffer(fs->io, fs->read_arena, len) == -1 && !strcmp(ioEngineName(fs->io), "io_uring"))
        fsLog(fs, FLASH_LOG_NOTICE, "flash store: the read buffers could not be registered with io_uring "
                                    "(RLIMIT_MEMLOCK?); reads pin their pages one by one");
}

flashStore *flashStoreOpen(const char *path, uint64_t capacity, const flashStoreOptions *opts, ioEngine *io,
                           char **err) {
    flashStore *fs = zcalloc(sizeof(*fs));
    fs->fd = -1;
    if (opts) fs->opt = *opts;
    flashStoreOptions *o = &fs->opt;
    if (!o->segment_size) o->segment_size = FS_DEFAULT_SEGMENT;
    if (!o->write_buffers) o->write_buffers = FS_DEFAULT_WRITE_BUFFERS;
    if (!o->reserve_segments) o->reserve_segments = FS_DEFAULT_RESERVE;
    if (o->compact_live_ratio <= 0) o->compact_live_ratio = FS_DEFAULT_LIVE_RATIO;
    if (o->compact_free_ratio <= 0) o->compact_free_ratio = FS_DEFAULT_FREE_RATIO;
    uint32_t ss = o->segment_size;
    if (ss < FS_MIN_SEGMENT || ss > FS_MAX_SEGMENT || (ss & (ss - 1)))
        return openFail(fs, err, "flash segment size must be a power of two between 64kb and 4mb");
    if (o->compact_live_ratio > 1 || o->compact_free_ratio > 1)
        return openFail(fs, err, "flash compaction ratios must be between 0 and 1");
    if (!path || !*path || !io) return openFail(fs, err, "flash store needs a path and an io engine");
    fs->io = io;
    fs->segsize = ss;
    fs->seg_shift = (unsigned)__builtin_ctz(ss);
    fs->small_max = ss < LOC_LEN_MAX ? ss : (uint32_t)LOC_LEN_MAX;
    fs->capacity = capacity & ~(uint64_t)(ss - 1);
    if (fs->capacity > FS_MAX_CAPACITY) return openFail(fs, err, "flash capacity is limited to 16tb");
    fs->compact_locs = fs->capacity <= LOC_COMPACT_MAX_CAPACITY;
    if (fs->capacity / ss < (uint64_t)o->reserve_segments + 2)
        return openFail(fs, err, "flash capacity too small: at least %u segments of %u bytes needed",
                        o->reserve_segments + 2, ss);
    fs->nseg = (uint32_t)(fs->capacity / ss);
    if (fileOpen(fs, path, err) == -1) return openFail(fs, NULL, "");

    fs->segs = zcalloc(sizeof(fsSegment) * fs->nseg);
    size_t words = (fs->nseg + 63) / 64;
    fs->freemap = zcalloc(words * sizeof(uint64_t));
    for (uint32_t i = 0; i < fs->nseg; i++) mapSet(fs, i);
    fs->nfree = fs->nseg;
    fs->wbs = zcalloc(sizeof(fsWriteBuf) * o->write_buffers);
    for (unsigned i = 0; i < o->write_buffers; i++) fs->wbs[i].fs = fs;
    fs->mem_bytes = sizeof(*fs) + sizeof(fsSegment) * fs->nseg + words * 8 + sizeof(fsWriteBuf) * o->write_buffers;
    readArenaInit(fs);
    return fs;
}

/* Fails the appends whose bytes were never handed to the engine. */
static void wbCancelUnsubmitted(fsWriteBuf *wb) {
    flashStore *fs = wb->fs;
    while (wb->pend_len > wb->pend_head && wb->pend[wb->pend_len - 1].end > wb->submitted) {
        fsPending p = wb->pend[--wb->pend_len];
        segSubLive(fs, wb->seg, p.len);
        p.cb(p.privdata, FLASH_ERR_CLOSED, FLASH_LOC_NONE);
    }
}

void flashStoreClose(flashStore *fs) {
    if (!fs) return;
    fs->closing = 1;
    fs->cb_depth++;
    for (unsigned i = 0; i < fs->opt.write_buffers; i++)
        if (fs->wbs[i].in_use) wbCancelUnsubmitted(&fs->wbs[i]);
    fs->cb_depth--;
    while (fs->io_pending) {
        backlogDrain(fs);
        ioEngineSubmit(fs->io);
        ioEngineDrain(fs->io);
        if (fs->io_pending && !fs->backlog_head && !ioEngineInFlight(fs->io) && !ioEngineQueued(fs->io)) {
            fsLog(fs, FLASH_LOG_WARNING, "flash store: %u requests lost at close", fs->io_pending);
            break;
        }
    }
    for (unsigned i = 0; i < fs->opt.write_buffers; i++) {
        fsWriteBuf *wb = &fs->wbs[i];
        while (wb->wr_head) { /* only after lost requests */
            fsWrite *w = wb->wr_head;
            wb->wr_head = w->next;
            zfree(w);
        }
        if (wb->data) ioEngineFreeBuffer(wb->data);
        zfree(wb->pend);
    }
    while (fs->read_pool) {
        fsRead *op = fs->read_pool;
        fs->read_pool = op->next_free;
        poolBufPut(fs, op->pool_buf);
        zfree(op);
    }
    if (fs->cp.buf) ioEngineFreeBuffer(fs->cp.buf);
    if (fs->ahead) ioEngineFreeBuffer(fs->ahead);
    if (fs->scratch) ioEngineFreeBuffer(fs->scratch);
    ioEngineUnregisterBuffer(fs->io);
    if (fs->read_arena) ioEngineFreeBuffer(fs->read_arena);
    close(fs->fd);
    zfree(fs->segs);
    zfree(fs->freemap);
    zfree(fs->wbs);
    zfree(fs);
}
