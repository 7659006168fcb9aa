/* test_flash_store.c - unit tests for the log-structured flash store (tier/flash_store.c):
 * round trips from 0 bytes to several MiB, packing of small values, checksum failures,
 * live/dead accounting, compaction with relocation (and keys that move on meanwhile),
 * out of space, write-buffer back-pressure, the fork guard, and the write amplification
 * of a mixed overwrite workload (printed).
 *
 * The store runs on the real io engine when tier/io_engine.c is linked; the weak
 * definitions below are a synchronous stand-in used when it is not (requests run at
 * ioEngineSubmit, callbacks at ioEngineProcessCompletions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tier/flash_store.h"
#include "../zmalloc.h"

/* ------------------------------------------------------------------ stand-in engine */

typedef struct standinReq {
    struct standinReq *next;
    int fd, is_write;
    void *buf;
    size_t len;
    off_t off;
    ioCompletionProc *done;
    void *privdata;
    ssize_t res;
} standinReq;

struct ioEngine {
    unsigned depth, queued, finished;
    standinReq *q_head, *q_tail, *d_head, *d_tail;
};

static void standinPush(standinReq **h, standinReq **t, standinReq *r) {
    r->next = NULL;
    if (*t) (*t)->next = r;
    else *h = r;
    *t = r;
}

__attribute__((weak)) ioEngine *ioEngineCreate(ioEngineKind kind, unsigned depth, const char **err) {
    (void)kind;
    (void)err;
    ioEngine *e = calloc(1, sizeof(*e));
    e->depth = depth ? depth : 64;
    return e;
}
__attribute__((weak)) void ioEngineRelease(ioEngine *e) {
    while (e->finished || e->queued) {
        ioEngineSubmit(e);
        while (e->d_head) {
            standinReq *r = e->d_head;
            e->d_head = r->next;
            free(r);
        }
        e->d_tail = NULL;
        e->finished = 0;
    }
    free(e);
}
__attribute__((weak)) const char *ioEngineName(const ioEngine *e) {
    (void)e;
    return "test-sync";
}
__attribute__((weak)) int ioEngineEventFd(const ioEngine *e) {
    (void)e;
    return -1;
}
static int standinQueue(ioEngine *e, int is_write, int fd, void *buf, size_t len, off_t off, ioCompletionProc *done,
                        void *privdata) {
    if (e->queued + e->finished >= e->depth) return -1;
    standinReq *r = calloc(1, sizeof(*r));
    *r = (standinReq){NULL, fd, is_write, buf, len, off, done, privdata, 0};
    standinPush(&e->q_head, &e->q_tail, r);
    e->queued++;
    return 0;
}
__attribute__((weak)) int ioEngineRead(ioEngine *e, int fd, void *buf, size_t len, off_t offset,
                                       ioCompletionProc *done, void *privdata) {
    return standinQueue(e, 0, fd, buf, len, offset, done, privdata);
}
__attribute__((weak)) int ioEngineWrite(ioEngine *e, int fd, const void *buf, size_t len, off_t offset,
                                        ioCompletionProc *done, void *privdata) {
    return standinQueue(e, 1, fd, (void *)buf, len, offset, done, privdata);
}
__attribute__((weak)) int ioEngineFsync(ioEngine *e, int fd, ioCompletionProc *done, void *privdata) {
    return standinQueue(e, 2, fd, NULL, 0, 0, done, privdata);
}
__attribute__((weak)) int ioEngineSubmit(ioEngine *e) {
    int n = 0;
    while (e->q_head) {
        standinReq *r = e->q_head;
        e->q_head = r->next;
        if (!e->q_head) e->q_tail = NULL;
        e->queued--;
        if (r->is_write == 1) {
            r->res = pwrite(r->fd, r->buf, r->len, r->off);
        } else if (r->is_write == 0) {
            r->res = pread(r->fd, r->buf, r->len, r->off);
        } else {
            r->res = fdatasync(r->fd);
        }
        if (r->res < 0) r->res = -errno;
        standinPush(&e->d_head, &e->d_tail, r);
        e->finished++;
        n++;
    }
    return n;
}
__attribute__((weak)) unsigned ioEngineProcessCompletions(ioEngine *e, unsigned max) {
    unsigned n = 0;
    standinReq *list = e->d_head;
    e->d_head = e->d_tail = NULL;
    while (list) {
        standinReq *r = list;
        list = r->next;
        e->finished--;
        r->done(r->privdata, r->res);
        free(r);
        n++;
    }
    (void)max; /* flash_store never limits a pass */
    return n;
}
__attribute__((weak)) void ioEngineDrain(ioEngine *e) {
    while (e->d_head) ioEngineProcessCompletions(e, 0);
}
__attribute__((weak)) unsigned ioEngineInFlight(const ioEngine *e) { return e->finished; }
__attribute__((weak)) unsigned ioEngineQueued(const ioEngine *e) { return e->queued; }
__attribute__((weak)) void *ioEngineAllocBuffer(size_t len) {
    void *p = NULL;
    if (posix_memalign(&p, IO_ENGINE_ALIGN, len ? len : IO_ENGINE_ALIGN)) abort();
    return p;
}
__attribute__((weak)) void ioEngineFreeBuffer(void *buf) { free(buf); }
__attribute__((weak)) int ioEngineRegisterBuffer(ioEngine *e, void *buf, size_t len) {
    (void)e, (void)buf, (void)len;
    return -1; /* the stand-in has nothing to register with */
}
__attribute__((weak)) void ioEngineUnregisterBuffer(ioEngine *e) { (void)e; }

/* ------------------------------------------------------------------ harness */

static ioEngine *io;
static char path[64];
static int log_warnings;

static void testLog(void *ctx, int level, const char *msg) {
    (void)ctx;
    if (level == FLASH_LOG_WARNING) log_warnings++;
    if (getenv("FLASH_TEST_VERBOSE")) fprintf(stderr, "    [flash] %s\n", msg);
}

static void pump(flashStore *fs) {
    do {
        flashStoreFlush(fs, 1);
        ioEngineSubmit(io);
        ioEngineDrain(io);
    } while (flashStorePendingIo(fs));
}

static flashStore *openStore(uint64_t capacity, flashStoreOptions *o) {
    flashStoreOptions def = {0};
    if (!o) o = &def;
    if (!o->log) o->log = testLog;
    char *err = NULL;
    flashStore *fs = flashStoreOpen(path, capacity, o, io, &err);
    if (!fs) fprintf(stderr, "open failed: %s\n", err);
    assert_non_null(fs);
    return fs;
}

static int setupWith(ioEngineKind kind) {
    const char *err = NULL;
    io = ioEngineCreate(kind, 8, &err);
    assert_non_null(io);
    printf("    io engine: %s\n", ioEngineName(io));
    return 0;
}
/* Each test has its own file, so a failed one (its store left open and locked) does not
 * take the next ones down. */
static int testSetup(void **state) {
    static int seq;
    (void)state;
    snprintf(path, sizeof(path), "/tmp/flash-store-test-%d-%d.dat", (int)getpid(), ++seq);
    return 0;
}
static int testTeardown(void **state) {
    (void)state;
    unlink(path);
    return 0;
}
static int setupAuto(void **state) {
    (void)state;
    return setupWith(IO_ENGINE_AUTO);
}
static int setupThreads(void **state) {
    (void)state;
    return setupWith(IO_ENGINE_THREADS);
}
static int teardown(void **state) {
    (void)state;
    ioEngineRelease(io);
    return 0;
}

/* Deterministic value bytes for (id, version). */
static void fillValue(unsigned char *buf, size_t len, uint64_t id, uint64_t version) {
    uint64_t x = id * 0x9e3779b97f4a7c15ULL ^ (version + 1) * 0xbf58476d1ce4e5b9ULL;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
}

typedef struct appendRes {
    int done, status;
    flashLocation loc;
} appendRes;

static void appendDone(void *privdata, int status, flashLocation loc) {
    appendRes *r = privdata;
    r->done++;
    r->status = status;
    r->loc = loc;
}

typedef struct readRes {
    int done, status, db;
    unsigned char *val;
    size_t vlen;
    char key[64];
    uint64_t version;
} readRes;

static void readDone(void *privdata, int status, const flashRecord *rec) {
    readRes *r = privdata;
    r->done++;
    r->status = status;
    if (status != FLASH_OK) return;
    r->db = rec->db;
    r->version = rec->version;
    snprintf(r->key, sizeof(r->key), "%.*s", (int)rec->klen, rec->key);
    r->vlen = rec->vlen;
    r->val = malloc(rec->vlen ? rec->vlen : 1);
    memcpy(r->val, rec->val, rec->vlen);
}

/* Appends one record and waits until it is written. */
static flashLocation put(flashStore *fs, int db, const char *key, const unsigned char *val, size_t vlen,
                         uint64_t version) {
    appendRes r = {0};
    assert_int_equal(flashStoreAppend(fs, db, key, strlen(key), val, vlen, version, appendDone, &r), FLASH_OK);
    pump(fs);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.status, FLASH_OK);
    assert_true(r.loc != FLASH_LOC_NONE);
    return r.loc;
}

/* Reads asynchronously and checks identity and bytes. */
static void checkRead(flashStore *fs, flashLocation loc, int db, const char *key, const unsigned char *val,
                      size_t vlen, uint64_t version) {
    readRes r = {0};
    assert_int_equal(flashStoreRead(fs, loc, readDone, &r), FLASH_OK);
    pump(fs);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.status, FLASH_OK);
    assert_int_equal(r.db, db);
    assert_string_equal(r.key, key);
    assert_true(r.version == version);
    assert_int_equal(r.vlen, vlen);
    assert_memory_equal(r.val, val, vlen ? vlen : 0);
    free(r.val);

    flashRecord rec;
    assert_int_equal(flashStoreReadSync(fs, loc, &rec), FLASH_OK);
    assert_int_equal(rec.vlen, vlen);
    assert_int_equal(rec.klen, strlen(key));
    assert_true(rec.version == version);
    if (vlen) assert_memory_equal(rec.val, val, vlen);
}

/* ------------------------------------------------------------------ tests */

static void test_roundtrip_sizes(void **state) {
    (void)state;
    flashStore *fs = openStore(64ULL << 20, NULL);
    static const size_t sizes[] = {0,     1,      7,      100,    1000,        4000,       4072,
                                   4096,  5000,   65536,  300000, 1048000,     1048552,    1048553,
                                   1048576, 1500000, 3 * 1048576 + 5, 200, 17};
    size_t n = sizeof(sizes) / sizeof(sizes[0]);
    flashLocation locs[sizeof(sizes) / sizeof(sizes[0])];
    unsigned char *val = malloc(4 << 20);
    char key[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "key:%zu", i);
        fillValue(val, sizes[i], i, 7);
        locs[i] = put(fs, (int)(i % 16), key, val, sizes[i], 7 + i);
    }
    /* Read everything back after all the writes, in reverse. */
    for (size_t i = n; i-- > 0;) {
        snprintf(key, sizeof(key), "key:%zu", i);
        fillValue(val, sizes[i], i, 7);
        checkRead(fs, locs[i], (int)(i % 16), key, val, sizes[i], 7 + i);
        if (sizes[i] + 24 + strlen(key) > (1u << 20))
            assert_true(flashLocationLength(locs[i]) % 4096 == 0);
        else
            assert_int_equal(flashLocationLength(locs[i]), sizes[i] + 24 + strlen(key));
    }
    flashStoreStats st;
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.records_written, n);
    assert_int_equal(st.records_read, 2 * n);
    assert_int_equal(st.checksum_failures, 0);
    assert_true(st.live_bytes > 0 && st.live_bytes <= st.used_bytes);
    /* Freeing everything leaves only the open segment in use. */
    for (size_t i = 0; i < n; i++) flashStoreFree(fs, locs[i]);
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.live_bytes, 0);
    assert_int_equal(st.segments_used, 1);
    /* Bad arguments. */
    appendRes r = {0};
    assert_int_equal(flashStoreAppend(fs, -1, "k", 1, "v", 1, 1, appendDone, &r), FLASH_ERR_INVALID);
    assert_int_equal(flashStoreAppend(fs, 70000, "k", 1, "v", 1, 1, appendDone, &r), FLASH_ERR_INVALID);
    readRes rr = {0};
    assert_int_equal(flashStoreRead(fs, FLASH_LOC_NONE, readDone, &rr), FLASH_ERR_INVALID);
    assert_int_equal(flashStoreRead(fs, locs[n - 3], readDone, &rr), FLASH_ERR_INVALID); /* freed */
    free(val);
    flashStoreClose(fs);
}

static void test_packing(void **state) {
    (void)state;
    flashStore *fs = openStore(64ULL << 20, NULL);
    appendRes res[1000];
    unsigned char val[100];
    char key[16];
    memset(res, 0, sizeof(res));
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "k%04d", i);
        fillValue(val, sizeof(val), i, 1);
        assert_int_equal(flashStoreAppend(fs, 0, key, strlen(key), val, sizeof(val), 1, appendDone, &res[i]),
                         FLASH_OK);
    }
    pump(fs); /* one flush for the lot, as at the end of an event-loop turn */
    flashStoreStats st;
    flashStoreGetStats(fs, &st);
    /* 1000 x (24 + 5 + 100) = 129000 bytes: 32 blocks, plus a little padding. */
    assert_true(st.used_bytes >= 129000 && st.used_bytes <= 34 * 4096);
    assert_true(st.bytes_written <= 34 * 4096);
    assert_int_equal(st.segments_used, 1);
    uint64_t blocks[1000];
    int distinct = 0;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(res[i].done, 1);
        assert_int_equal(res[i].status, FLASH_OK);
        uint64_t b = flashLocationOffset(res[i].loc) / 4096;
        if (!distinct || blocks[distinct - 1] != b) blocks[distinct++] = b;
        /* A small record never straddles two blocks (the padding rule). */
        uint64_t end = flashLocationOffset(res[i].loc) + flashLocationLength(res[i].loc) - 1;
        assert_true(end / 4096 == b);
    }
    assert_true(distinct <= 34);
    for (int i = 0; i < 1000; i += 97) {
        snprintf(key, sizeof(key), "k%04d", i);
        fillValue(val, sizeof(val), i, 1);
        checkRead(fs, res[i].loc, 0, key, val, sizeof(val), 1);
    }
    /* Appends complete in append order; a trickle of flushes rewrites the partial block. */
    appendRes a = {0}, b = {0};
    assert_int_equal(flashStoreAppend(fs, 0, "x", 1, val, 10, 2, appendDone, &a), FLASH_OK);
    pump(fs);
    assert_int_equal(flashStoreAppend(fs, 0, "y", 1, val, 10, 2, appendDone, &b), FLASH_OK);
    pump(fs);
    assert_true(a.done == 1 && b.done == 1);
    assert_true(flashLocationOffset(b.loc) / 4096 == flashLocationOffset(a.loc) / 4096);
    checkRead(fs, a.loc, 0, "x", val, 10, 2);
    checkRead(fs, b.loc, 0, "y", val, 10, 2);
    flashStoreClose(fs);
}

static void corruptByte(uint64_t off) {
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
    c ^= 0x40;
    assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
    fsync(fd);
    close(fd);
}

static void test_checksum_failure(void **state) {
    (void)state;
    flashStore *fs = openStore(64ULL << 20, NULL);
    unsigned char val[3000];
    fillValue(val, sizeof(val), 1, 1);
    flashLocation a = put(fs, 0, "alpha", val, sizeof(val), 1);
    flashLocation b = put(fs, 0, "beta", val, 300, 1);
    flashLocation c = put(fs, 3, "gamma", val, 50, 9);
    corruptByte(flashLocationOffset(a) + 24 + 5 + 1000); /* value byte */
    corruptByte(flashLocationOffset(b) + 4);              /* magic */

    readRes r = {0};
    assert_int_equal(flashStoreRead(fs, a, readDone, &r), FLASH_OK);
    pump(fs);
    assert_int_equal(r.status, FLASH_ERR_CHECKSUM);
    flashRecord rec;
    assert_int_equal(flashStoreReadSync(fs, a, &rec), FLASH_ERR_CHECKSUM);
    memset(&r, 0, sizeof(r));
    assert_int_equal(flashStoreRead(fs, b, readDone, &r), FLASH_OK);
    pump(fs);
    assert_int_equal(r.status, FLASH_ERR_CHECKSUM);
    checkRead(fs, c, 3, "gamma", val, 50, 9); /* its neighbours are untouched */

    flashStoreStats st;
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.checksum_failures, 3);
    flashStoreClose(fs);
}

static void test_free_accounting(void **state) {
    (void)state;
    flashStoreOptions o = {.segment_size = 64 << 10};
    flashStore *fs = openStore(8ULL << 20, &o);
    enum { N = 2000 };
    static appendRes res[N];
    memset(res, 0, sizeof(res));
    unsigned char val[200];
    char key[16];
    uint64_t total = 0;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "f%05d", i);
        fillValue(val, sizeof(val), i, 0);
        assert_int_equal(flashStoreAppend(fs, 0, key, strlen(key), val, sizeof(val), 0, appendDone, &res[i]),
                         FLASH_OK);
        total += 24 + strlen(key) + sizeof(val);
        if (i % 100 == 99) pump(fs);
    }
    pump(fs);
    flashStoreStats st;
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.live_bytes, total);
    uint64_t used_segments = st.segments_used;
    assert_true(used_segments >= 7); /* 462 KiB in 64 KiB segments */
    assert_int_equal(st.segments_free + st.segments_used, st.segments_total);
    /* Free the odd ones: live halves, nothing is released. */
    for (int i = 1; i < N; i += 2) flashStoreFree(fs, res[i].loc);
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.live_bytes, total / 2);
    assert_int_equal(st.dead_bytes, st.used_bytes - st.live_bytes);
    assert_int_equal(st.segments_used, used_segments);
    assert_int_equal(st.records_freed, N / 2);
    /* Free the even ones of the first segment: it becomes free at once. */
    uint64_t seg0 = flashLocationOffset(res[0].loc) >> 16;
    for (int i = 0; i < N; i += 2)
        if (flashLocationOffset(res[i].loc) >> 16 == seg0) flashStoreFree(fs, res[i].loc);
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_used, used_segments - 1);
    for (int i = 0; i < N; i += 2)
        if (flashLocationOffset(res[i].loc) >> 16 != seg0) flashStoreFree(fs, res[i].loc);
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.live_bytes, 0);
    assert_int_equal(st.segments_used, 1); /* the open one */
    flashStoreClose(fs);
}

/* A tiny keyspace for the compaction tests: key "c:<id>" points at loc. */
typedef struct modelKey {
    flashLocation loc;
    uint64_t version;
    size_t vlen;
    int present, inflight;
} modelKey;

static modelKey *model;
static int model_n, relocations, refused_relocations;
static int delete_on_relocate = -1; /* this key is deleted as its copy is written */

static int keyId(const char *key, size_t klen) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%.*s", (int)klen, key);
    return atoi(buf + 2);
}

static int modelIsLive(void *ctx, int db, const char *key, size_t klen, uint64_t version, flashLocation loc) {
    (void)ctx;
    (void)db;
    int id = keyId(key, klen);
    assert_true(id >= 0 && id < model_n);
    return model[id].present && model[id].loc == loc && model[id].version == version;
}

static int modelRelocated(flashStore *fs, int db, const char *key, size_t klen, uint64_t version,
                          flashLocation old_loc, flashLocation new_loc) {
    (void)db;
    (void)version;
    int id = keyId(key, klen);
    if (id == delete_on_relocate) { /* the key was deleted while its copy was written */
        model[id].present = 0;
        flashStoreFree(fs, model[id].loc);
        delete_on_relocate = -1;
    }
    if (!model[id].present || model[id].loc != old_loc) {
        refused_relocations++;
        return 0;
    }
    model[id].loc = new_loc;
    relocations++;
    return 1;
}

static void modelAppendDone(void *privdata, int status, flashLocation loc) {
    modelKey *k = privdata;
    k->inflight = 0;
    assert_int_equal(status, FLASH_OK);
    k->loc = loc;
    k->present = 1;
}

typedef struct batchRead {
    int id, done;
} batchRead;

static void batchReadDone(void *privdata, int status, const flashRecord *rec) {
    batchRead *b = privdata;
    modelKey *k = &model[b->id];
    char key[32];
    b->done = 1;
    assert_int_equal(status, FLASH_OK);
    snprintf(key, sizeof(key), "c:%d", b->id);
    assert_int_equal(rec->klen, strlen(key));
    assert_memory_equal(rec->key, key, rec->klen);
    assert_true(rec->version == k->version);
    assert_int_equal(rec->vlen, k->vlen);
    unsigned char *val = malloc(k->vlen ? k->vlen : 1);
    fillValue(val, k->vlen, b->id, k->version);
    assert_memory_equal(rec->val, val, k->vlen);
    free(val);
}

/* Checks the live-byte total over every key, and reads back every step-th key (batched
 * reads, as the tiering layer issues them). */
static void modelCheckAll(flashStore *fs, int step) {
    enum { BATCH = 64 };
    batchRead batch[BATCH];
    int nb = 0;
    uint64_t live = 0;
    for (int i = 0; i < model_n; i++) {
        if (!model[i].present) continue;
        live += flashLocationLength(model[i].loc);
        if (i % step) continue;
        batch[nb] = (batchRead){i, 0};
        assert_int_equal(flashStoreRead(fs, model[i].loc, batchReadDone, &batch[nb]), FLASH_OK);
        if (++nb == BATCH || i + step >= model_n) {
            pump(fs);
            for (int j = 0; j < nb; j++) assert_int_equal(batch[j].done, 1);
            nb = 0;
        }
    }
    pump(fs);
    for (int j = 0; j < nb; j++) assert_int_equal(batch[j].done, 1);
    flashStoreStats st;
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.live_bytes, live);
}

/* relocated() may free a record (a key deleted meanwhile): it reaches the store here. */
static flashStore *compact_fs;

static int modelRelocatedG(void *ctx, int db, const char *key, size_t klen, uint64_t version, flashLocation old_loc,
                           flashLocation new_loc) {
    (void)ctx;
    return modelRelocated(compact_fs, db, key, klen, version, old_loc, new_loc);
}

static void test_compaction_moves_live_records(void **state) {
    (void)state;
    flashStoreOptions o = {.segment_size = 64 << 10, .compact_free_ratio = 1.0, .compact_live_ratio = 0.5,
                           .is_live = modelIsLive, .relocated = modelRelocatedG};
    flashStore *fs = openStore(4ULL << 20, &o);
    compact_fs = fs;
    model_n = 3000;
    model = calloc(model_n, sizeof(*model));
    relocations = refused_relocations = 0;
    unsigned char val[1000];
    char key[32];
    for (int i = 0; i < model_n; i++) {
        model[i].version = 1 + i % 3;
        model[i].vlen = 200 + (i * 37) % 700;
        snprintf(key, sizeof(key), "c:%d", i);
        fillValue(val, model[i].vlen, i, model[i].version);
        assert_int_equal(flashStoreAppend(fs, 0, key, strlen(key), val, model[i].vlen, model[i].version,
                                          modelAppendDone, &model[i]),
                         FLASH_OK);
        if (i % 50 == 49) pump(fs);
    }
    pump(fs);
    flashStoreStats before, after;
    flashStoreGetStats(fs, &before);
    assert_true(before.segments_used >= 25);
    for (int i = 0; i < model_n; i++) {
        if (i % 4 == 0) continue;
        flashStoreFree(fs, model[i].loc);
        model[i].present = 0;
    }
    /* Key 0's copy is written while it gets deleted: the copy must be dropped. */
    delete_on_relocate = 0;
    int steps = 0;
    while (flashStoreCompactStep(fs, 16 << 10)) {
        flashStoreFlush(fs, 1);
        ioEngineSubmit(io);
        ioEngineDrain(io);
        if (steps == 3) { /* a delete between steps, of a key in the current victim */
            for (int i = 4; i < model_n; i += 4) {
                uint64_t victim = flashLocationOffset(model[4].loc) >> 16;
                if (model[i].present && flashLocationOffset(model[i].loc) >> 16 == victim) {
                    flashStoreFree(fs, model[i].loc);
                    model[i].present = 0;
                    break;
                }
            }
        }
        assert_true(++steps < 100000);
    }
    pump(fs);
    flashStoreGetStats(fs, &after);
    assert_true(after.compact_segments > 0);
    assert_true(relocations > 0);
    assert_int_equal(refused_relocations, 1);
    assert_int_equal(after.compact_records_moved, (uint64_t)relocations);
    assert_true(after.segments_used < before.segments_used / 2);
    assert_true(after.compact_bytes_read > 0);
    modelCheckAll(fs, 1);
    /* Everything still frees cleanly after relocation. */
    for (int i = 0; i < model_n; i++)
        if (model[i].present) flashStoreFree(fs, model[i].loc);
    flashStoreGetStats(fs, &after);
    assert_int_equal(after.live_bytes, 0);
    flashStoreClose(fs);
    free(model);
    model = NULL;
}

/* Dead space spread evenly (every segment two thirds live) is still won back when the
 * store is nearly full. */
static void test_compaction_urgent(void **state) {
    (void)state;
    flashStoreOptions o = {.segment_size = 64 << 10, .is_live = modelIsLive, .relocated = modelRelocatedG};
    flashStore *fs = openStore(2ULL << 20, &o); /* 32 segments */
    compact_fs = fs;
    model_n = 4000;
    model = calloc(model_n, sizeof(*model));
    unsigned char val[1000];
    char key[32];
    int n = 0;
    for (; n < model_n; n++) {
        model[n].version = 1;
        model[n].vlen = 1000;
        snprintf(key, sizeof(key), "c:%d", n);
        fillValue(val, 1000, n, 1);
        if (flashStoreAppend(fs, 0, key, strlen(key), val, 1000, 1, modelAppendDone, &model[n]) != FLASH_OK) break;
        if (n % 16 == 15) pump(fs);
    }
    pump(fs);
    for (int i = 0; i < n; i += 3) {
        flashStoreFree(fs, model[i].loc);
        model[i].present = 0;
    }
    /* Keep appending new keys; compaction must make room for about a third more. */
    int added = 0, stalls = 0;
    for (int i = n; i < model_n && stalls < 1000; i++) {
        model[i].version = 1;
        model[i].vlen = 1000;
        snprintf(key, sizeof(key), "c:%d", i);
        fillValue(val, 1000, i, 1);
        while (flashStoreAppend(fs, 0, key, strlen(key), val, 1000, 1, modelAppendDone, &model[i]) != FLASH_OK) {
            flashStoreCompactStep(fs, 64 << 10);
            pump(fs);
            if (++stalls >= 1000) break;
        }
        if (stalls < 1000) added++;
    }
    pump(fs);
    while (flashStoreCompactStep(fs, 64 << 10)) pump(fs);
    assert_true(added >= n / 4);
    flashStoreStats st;
    flashStoreGetStats(fs, &st);
    assert_true(st.compact_segments > 0);
    modelCheckAll(fs, 1);
    flashStoreClose(fs);
    free(model);
    model = NULL;
}

static void test_out_of_space(void **state) {
    (void)state;
    flashStoreOptions o = {.segment_size = 64 << 10, .reserve_segments = 2};
    flashStore *fs = openStore(1ULL << 20, &o); /* 16 segments */
    unsigned char val[1000];
    fillValue(val, sizeof(val), 5, 5);
    static appendRes res[2000];
    memset(res, 0, sizeof(res));
    int n = 0, status = FLASH_OK;
    while (n < 2000) {
        status = flashStoreAppend(fs, 0, "space", 5, val, sizeof(val), 1, appendDone, &res[n]);
        if (status != FLASH_OK) break;
        n++;
        if (n % 20 == 0) pump(fs);
    }
    assert_int_equal(status, FLASH_ERR_NOSPACE);
    pump(fs);
    flashStoreStats st;
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_free, 2); /* the reserve is left for compaction */
    assert_true(n > 14 * 60 && n < 16 * 64);
    /* Larger than the whole store: too big, not "full". */
    unsigned char *big = calloc(1, 2 << 20);
    appendRes r = {0};
    assert_int_equal(flashStoreAppend(fs, 0, "big", 3, big, 2 << 20, 1, appendDone, &r), FLASH_ERR_TOOBIG);
    free(big);
    /* Space comes back once records die. */
    for (int i = 0; i < n; i++) {
        assert_int_equal(res[i].status, FLASH_OK);
        flashStoreFree(fs, res[i].loc);
    }
    flashLocation loc = put(fs, 0, "again", val, sizeof(val), 2);
    checkRead(fs, loc, 0, "again", val, sizeof(val), 2);
    flashStoreClose(fs);
}

static void test_write_buffers_busy(void **state) {
    (void)state;
    flashStoreOptions o = {.segment_size = 64 << 10, .write_buffers = 1};
    flashStore *fs = openStore(4ULL << 20, &o);
    unsigned char val[1000];
    fillValue(val, sizeof(val), 1, 1);
    static appendRes res[200];
    memset(res, 0, sizeof(res));
    int n = 0, status;
    /* No pumping: the sealed segment's write is still queued when a second one is needed. */
    while ((status = flashStoreAppend(fs, 0, "busy", 4, val, sizeof(val), 1, appendDone, &res[n])) == FLASH_OK)
        n++;
    assert_int_equal(status, FLASH_ERR_BUSY);
    assert_true(n >= 60 && n < 70);
    pump(fs);
    for (int i = 0; i < n; i++) assert_int_equal(res[i].status, FLASH_OK);
    flashLocation loc = put(fs, 0, "after", val, sizeof(val), 1);
    checkRead(fs, loc, 0, "after", val, sizeof(val), 1);
    checkRead(fs, res[n - 1].loc, 0, "busy", val, sizeof(val), 1);
    flashStoreClose(fs);
}

static void test_fork_guard(void **state) {
    (void)state;
    flashStoreOptions o = {.segment_size = 64 << 10};
    flashStore *fs = openStore(2ULL << 20, &o); /* 32 segments */
    unsigned char val[4000];
    fillValue(val, sizeof(val), 3, 3);
    static appendRes res[64];
    memset(res, 0, sizeof(res));
    for (int i = 0; i < 48; i++) { /* 16 records of ~4 KiB per segment: 3 segments */
        assert_int_equal(flashStoreAppend(fs, 0, "fork", 4, val, sizeof(val), i, appendDone, &res[i]), FLASH_OK);
        pump(fs);
    }
    uint64_t seg0 = flashLocationOffset(res[0].loc) >> 16;
    flashStoreStats st0, st;
    flashStoreGetStats(fs, &st0);
    flashStoreForkBegin(fs);
    for (int i = 0; i < 48; i++)
        if (flashLocationOffset(res[i].loc) >> 16 == seg0) flashStoreFree(fs, res[i].loc);
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_quarantined, 1);
    assert_int_equal(st.segments_free, st0.segments_free);
    /* What a child would read stays readable: the bytes of seg0 are not reused. */
    flashRecord rec;
    assert_int_equal(flashStoreReadSync(fs, res[48 - 1].loc, &rec), FLASH_OK);
    /* New appends go elsewhere while the fork runs. */
    int n = 0;
    appendRes more[600];
    memset(more, 0, sizeof(more));
    while (n < 600 && flashStoreAppend(fs, 0, "more", 4, val, sizeof(val), 1, appendDone, &more[n]) == FLASH_OK) {
        n++;
        pump(fs);
    }
    for (int i = 0; i < n; i++) assert_true(flashLocationOffset(more[i].loc) >> 16 != seg0);
    /* The file is full now except for the quarantined segment and the reserve. */
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_free, 2);
    flashStoreForkEnd(fs);
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_quarantined, 0);
    assert_int_equal(st.segments_free, 3);
    flashLocation loc = put(fs, 0, "reuse", val, sizeof(val), 9);
    checkRead(fs, loc, 0, "reuse", val, sizeof(val), 9);
    /* Nested forks: freed while two run, released by the last End. */
    flashStoreForkBegin(fs);
    flashStoreForkBegin(fs);
    for (int i = 0; i < n; i++) flashStoreFree(fs, more[i].loc);
    flashStoreForkEnd(fs);
    flashStoreGetStats(fs, &st);
    assert_true(st.segments_quarantined > 0);
    flashStoreForkEnd(fs);
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_quarantined, 0);
    flashStoreClose(fs);
}

/* A real fork: the child reads its snapshot's records with pread while the parent frees
 * them and fills the rest of the store. */
static void test_fork_child_reads(void **state) {
    (void)state;
    flashStoreOptions o = {.segment_size = 64 << 10};
    flashStore *fs = openStore(2ULL << 20, &o);
    enum { N = 64 };
    static flashLocation locs[N];
    unsigned char val[3000];
    char key[16];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "fk%d", i);
        fillValue(val, sizeof(val), i, 1);
        locs[i] = put(fs, 0, key, val, sizeof(val), 1);
    }
    int go[2];
    assert_int_equal(pipe(go), 0);
    flashStoreForkBegin(fs);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* child: wait for the parent's writes, then read everything */
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1) _exit(2);
        for (int i = 0; i < N; i++) {
            flashRecord rec;
            snprintf(key, sizeof(key), "fk%d", i);
            fillValue(val, sizeof(val), i, 1);
            if (flashStoreReadSync(fs, locs[i], &rec) != FLASH_OK) _exit(3);
            if (rec.klen != strlen(key) || memcmp(rec.key, key, rec.klen)) _exit(4);
            if (rec.vlen != sizeof(val) || memcmp(rec.val, val, sizeof(val))) _exit(5);
        }
        _exit(0);
    }
    close(go[0]);
    for (int i = 0; i < N; i++) flashStoreFree(fs, locs[i]);
    memset(val, 0xee, sizeof(val));
    appendRes r = {0};
    int n = 0;
    while (flashStoreAppend(fs, 0, "overwrite", 9, val, sizeof(val), 2, appendDone, &r) == FLASH_OK) {
        pump(fs);
        n++;
    }
    assert_true(n > 300); /* the store is full of new data, outside the quarantine */
    assert_int_equal(write(go[1], "g", 1), 1);
    close(go[1]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    flashStoreForkEnd(fs);
    flashStoreStats st;
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_quarantined, 0);
    assert_true(st.segments_free > 2);
    flashStoreClose(fs);
}

/* Freeing records while reads of them are in flight: the segment waits for the reads. */
static void test_free_during_read(void **state) {
    (void)state;
    flashStoreOptions o = {.segment_size = 64 << 10};
    flashStore *fs = openStore(2ULL << 20, &o);
    unsigned char *val = malloc(100000);
    fillValue(val, 100000, 4, 4);
    flashLocation small = put(fs, 0, "small", val, 40000, 1);
    flashLocation filler = put(fs, 0, "filler", val, 40000, 1); /* seals the first segment */
    flashLocation large = put(fs, 0, "large", val, 100000, 1);
    flashStoreStats st0, st;
    flashStoreGetStats(fs, &st0);
    readRes r1 = {0}, r2 = {0};
    assert_int_equal(flashStoreRead(fs, small, readDone, &r1), FLASH_OK);
    assert_int_equal(flashStoreRead(fs, large, readDone, &r2), FLASH_OK);
    flashStoreFree(fs, small);
    flashStoreFree(fs, large);
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_used, st0.segments_used); /* pinned by the reads */
    pump(fs);
    assert_int_equal(r1.status, FLASH_OK);
    assert_int_equal(r2.status, FLASH_OK);
    assert_memory_equal(r1.val, val, 40000);
    assert_memory_equal(r2.val, val, 100000);
    free(r1.val);
    free(r2.val);
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_used, st0.segments_used - 3); /* the first one and the 2-segment extent */
    flashStoreFree(fs, filler);
    free(val);
    flashStoreClose(fs);
}

static void test_large_records(void **state) {
    (void)state;
    flashStoreOptions o = {.segment_size = 64 << 10};
    flashStore *fs = openStore(4ULL << 20, &o);
    size_t len = 200000; /* four segments */
    unsigned char *val = malloc(len);
    fillValue(val, len, 8, 8);
    flashStoreStats st0, st;
    flashStoreGetStats(fs, &st0);
    flashLocation loc = put(fs, 1, "large", val, len, 8);
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_used, st0.segments_used + 4);
    checkRead(fs, loc, 1, "large", val, len, 8);
    corruptByte(flashLocationOffset(loc) + 150000);
    readRes r = {0};
    assert_int_equal(flashStoreRead(fs, loc, readDone, &r), FLASH_OK);
    pump(fs);
    assert_int_equal(r.status, FLASH_ERR_CHECKSUM);
    flashStoreFree(fs, loc);
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_used, st0.segments_used);
    assert_int_equal(st.live_bytes, 0);
    free(val);
    flashStoreClose(fs);
}

/* A real write failure: RLIMIT_FSIZE makes writes past it fail (EFBIG, or a short
 * write for one that crosses it), whichever engine runs them. */
static void test_write_error(void **state) {
    (void)state;
    flashStoreOptions o = {.segment_size = 64 << 10};
    flashStore *fs = openStore(4ULL << 20, &o);
    unsigned char *val = malloc(10000);
    fillValue(val, 10000, 2, 2);
    flashLocation ok = put(fs, 0, "before", val, 500, 1);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = flashLocationOffset(ok) + 8192; /* inside the block range the next write covers */
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    appendRes a = {0}, b = {0};
    assert_int_equal(flashStoreAppend(fs, 0, "lost1", 5, val, 10000, 1, appendDone, &a), FLASH_OK);
    assert_int_equal(flashStoreAppend(fs, 0, "lost2", 5, val, 500, 1, appendDone, &b), FLASH_OK);
    pump(fs);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(a.status, FLASH_ERR_IO);
    assert_int_equal(b.status, FLASH_ERR_IO);
    flashStoreStats st;
    flashStoreGetStats(fs, &st);
    assert_true(st.write_errors >= 1);
    assert_int_equal(st.live_bytes, flashLocationLength(ok));
    assert_true(log_warnings > 0);
    checkRead(fs, ok, 0, "before", val, 500, 1); /* acknowledged data survives */
    flashLocation loc = put(fs, 0, "after", val, 500, 1); /* the failed segment is retired */
    assert_true(flashLocationOffset(loc) >> 16 != flashLocationOffset(ok) >> 16);
    checkRead(fs, loc, 0, "after", val, 500, 1);
    flashStoreFree(fs, ok); /* the retired segment is freed with its last record */
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.segments_used, 1);
    free(val);
    flashStoreClose(fs);
}

static void test_open_errors_and_close(void **state) {
    (void)state;
    char *err = NULL;
    flashStoreOptions o = {.segment_size = 100000, .log = testLog};
    assert_null(flashStoreOpen(path, 64ULL << 20, &o, io, &err));
    assert_non_null(strstr(err, "power of two"));
    zfree(err);
    o.segment_size = 0;
    assert_null(flashStoreOpen(path, 3ULL << 20, &o, io, &err));
    assert_non_null(strstr(err, "too small"));
    zfree(err);
    assert_null(flashStoreOpen("/nonexistent-dir/x/flash.dat", 64ULL << 20, &o, io, &err));
    assert_non_null(strstr(err, "can't open"));
    zfree(err);
    flashStore *fs = openStore(8ULL << 20, NULL);
    assert_null(flashStoreOpen(path, 8ULL << 20, &o, io, &err));
    assert_non_null(strstr(err, "locked"));
    zfree(err);
    flashStoreStats st;
    flashStoreGetStats(fs, &st);
    assert_int_equal(st.capacity, 8ULL << 20);
    assert_int_equal(st.segments_total, 8);
    if (getenv("FLASH_TEST_VERBOSE")) fprintf(stderr, "    direct_io=%d engine=%s\n", st.direct_io, ioEngineName(io));
    /* Close with appends buffered: they fail with FLASH_ERR_CLOSED, nothing leaks. */
    appendRes a = {0}, b = {0};
    assert_int_equal(flashStoreAppend(fs, 0, "a", 1, "v", 1, 1, appendDone, &a), FLASH_OK);
    readRes r = {0};
    flashLocation loc = put(fs, 0, "b", (const unsigned char *)"w", 1, 1);
    assert_int_equal(flashStoreAppend(fs, 0, "c", 1, "v", 1, 1, appendDone, &b), FLASH_OK);
    assert_int_equal(flashStoreRead(fs, loc, readDone, &r), FLASH_OK); /* in flight at close */
    flashStoreClose(fs);
    assert_int_equal(b.status, FLASH_ERR_CLOSED);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.status, FLASH_OK);
    free(r.val);
    /* The lock went with the close. */
    fs = openStore(8ULL << 20, NULL);
    flashStoreClose(fs);
}

/* A mixed overwrite workload at ~55% fill with compaction on: prints write amplification
 * (device bytes / key+value bytes appended by the "keyspace"). */
static void runMixed(const char *name, uint64_t capacity, uint32_t segsize, int nkeys, int ops, int small_only,
                     int flush_all) {
    flashStoreOptions o = {.segment_size = segsize, .is_live = modelIsLive, .relocated = modelRelocatedG};
    if (getenv("FLASH_TEST_FREE_RATIO")) o.compact_free_ratio = atof(getenv("FLASH_TEST_FREE_RATIO"));
    flashStore *fs = openStore(capacity, &o);
    compact_fs = fs;
    model_n = nkeys;
    model = calloc(model_n, sizeof(*model));
    relocations = refused_relocations = 0;
    unsigned char *val = malloc(512 << 10);
    char key[32];
    uint64_t rnd = 42;
    int nospace = 0, busy = 0;
    for (int op = 0; op < ops; op++) {
        rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
        int id = (int)((rnd >> 33) % (uint64_t)model_n);
        modelKey *k = &model[id];
        if (k->inflight) continue;
        unsigned pick = (unsigned)((rnd >> 20) % 100);
        size_t vlen;
        if (small_only || pick < 70) vlen = 50 + (rnd >> 40) % 450;
        else if (pick < 95) vlen = 1024 + (rnd >> 40) % (15 * 1024);
        else vlen = (64 << 10) + (rnd >> 40) % (448 << 10);
        if (k->present) { /* an overwrite: the keyspace frees the old record */
            flashStoreFree(fs, k->loc);
            k->present = 0;
        }
        k->version++;
        k->vlen = vlen;
        snprintf(key, sizeof(key), "c:%d", id);
        fillValue(val, vlen, id, k->version);
        k->inflight = 1;
        int status = flashStoreAppend(fs, 0, key, strlen(key), val, vlen, k->version, modelAppendDone, k);
        if (status != FLASH_OK) {
            k->inflight = 0;
            if (status == FLASH_ERR_NOSPACE) nospace++;
            else busy++;
        }
        if (op % 32 == 31) { /* one event-loop turn */
            flashStoreCompactStep(fs, 1 << 20);
            flashStoreFlush(fs, flush_all);
            ioEngineSubmit(io);
            ioEngineDrain(io);
        }
    }
    while (flashStoreCompactStep(fs, 1 << 20) || flashStorePendingIo(fs)) pump(fs);
    pump(fs);
    modelCheckAll(fs, nkeys / 1000 + 1);
    flashStoreStats st;
    flashStoreGetStats(fs, &st);
    printf("    %s%s: WA %.2f (device %llu KiB / user %llu KiB), compaction moved %llu KiB in %llu segments, "
           "live %llu KiB used %llu KiB, nospace %d busy %d\n",
           name, flush_all ? " (flush all)" : "", st.write_amplification, (unsigned long long)st.bytes_written >> 10,
           (unsigned long long)st.user_bytes >> 10, (unsigned long long)st.compact_bytes_moved >> 10,
           (unsigned long long)st.compact_segments, (unsigned long long)st.live_bytes >> 10,
           (unsigned long long)st.used_bytes >> 10, nospace, busy);
    assert_true(st.write_amplification > 1.0 && st.write_amplification < 3.0);
    assert_true(nospace < ops / 100); /* compaction keeps up with the budget above */
    assert_int_equal(st.checksum_failures, 0);
    assert_true(st.compact_segments > 0);
    flashStoreClose(fs);
    free(val);
    free(model);
    model = NULL;
}

static void test_mixed_workload_write_amplification(void **state) {
    (void)state;
    /* FLASH_TEST_SCALE=n runs n times more operations (for measurements). */
    int scale = getenv("FLASH_TEST_SCALE") ? atoi(getenv("FLASH_TEST_SCALE")) : 1;
    if (scale < 1) scale = 1;
    runMixed("mixed 50B-512KB", 64ULL << 20, 1 << 20, 2000, 4000 * scale, 0, 0);
    runMixed("small 50-500B", 16ULL << 20, 256 << 10, 30000, 120000 * scale, 1, 0);
    if (scale > 1) runMixed("small 50-500B", 16ULL << 20, 256 << 10, 30000, 120000 * scale, 1, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_sizes, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_packing, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_checksum_failure, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_free_accounting, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_compaction_moves_live_records, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_compaction_urgent, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_out_of_space, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_write_buffers_busy, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_fork_guard, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_fork_child_reads, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_free_during_read, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_large_records, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_write_error, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_open_errors_and_close, testSetup, testTeardown),
        cmocka_unit_test_setup_teardown(test_mixed_workload_write_amplification, testSetup, testTeardown),
    };
    /* Once on the default engine (io_uring where it works), once on the thread pool. */
    int failed = cmocka_run_group_tests_name("flash store, auto engine", tests, setupAuto, teardown);
    failed += cmocka_run_group_tests_name("flash store, thread engine", tests, setupThreads, teardown);
    return failed;
}
