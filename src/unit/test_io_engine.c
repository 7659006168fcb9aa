/* test_io_engine.c -- the flash tier's I/O engine on a temp file: both back-ends (io_uring
 * and threads), each on an O_DIRECT and a buffered descriptor. Data written through the
 * engine must read back through it and through pread; batches, the queue-full contract,
 * the eventfd, fsync, -errno results, release with requests in flight, the fallback and
 * the fork rules are checked for every combination. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tier/io_engine.h"
#include "../zmalloc.h"

#define BLOCK 4096
#define FILE_BLOCKS 1024 /* 4 MiB test file */
#define WAIT_MS 10000    /* generous: a loaded CI machine can be slow */

typedef struct {
    ioEngineKind kind;
    int direct;
} engineParams;

typedef struct {
    const engineParams *p;
    ioEngine *e;
    int fd;
    char path[64];
    int no_direct; /* the filesystem refused O_DIRECT: the test is skipped */
} fixture;

/* One request's outcome, filled by the callback. */
typedef struct {
    ssize_t result;
    int calls;
    pthread_t thread;
} outcome;

static int callbacks_run;

static void recordDone(void *privdata, ssize_t result) {
    outcome *o = privdata;
    o->result = result;
    o->calls++;
    o->thread = pthread_self();
    callbacks_run++;
}

/* ---------------------------------------------------------------- fixture */

static int openTestFile(fixture *f, unsigned depth) {
    strcpy(f->path, "/tmp/test_io_engine.XXXXXX");
    int tmp = mkstemp(f->path);
    if (tmp < 0) return -1;
    if (ftruncate(tmp, (off_t)FILE_BLOCKS * BLOCK) != 0) return -1;
    if (f->p->direct) {
        f->fd = open(f->path, O_RDWR | O_DIRECT | O_CLOEXEC);
        if (f->fd < 0) f->no_direct = 1;
        close(tmp);
    } else {
        f->fd = tmp;
    }
    const char *err = NULL;
    f->e = ioEngineCreate(f->p->kind, depth, &err);
    if (!f->e) fprintf(stderr, "ioEngineCreate: %s\n", err);
    return f->e ? 0 : -1;
}

static int setupDepth(void **state, unsigned depth) {
    fixture *f = calloc(1, sizeof(*f));
    f->p = *state;
    f->fd = -1;
    *state = f;
    callbacks_run = 0;
    return openTestFile(f, depth);
}

static int setup64(void **state) {
    return setupDepth(state, 64);
}
static int setup4(void **state) {
    return setupDepth(state, 4);
}
static int setup128(void **state) {
    return setupDepth(state, 128);
}

static int teardown(void **state) {
    fixture *f = *state;
    ioEngineRelease(f->e);
    if (f->fd >= 0) close(f->fd);
    unlink(f->path);
    free(f);
    return 0;
}

static fixture *begin(void **state) {
    fixture *f = *state;
    if (f->no_direct) skip();
    return f;
}

/* The event-loop pattern: sleep on the eventfd, then run the callbacks. */
static void waitAndProcess(ioEngine *e) {
    ioEngineSubmit(e);
    struct pollfd pfd = {.fd = ioEngineEventFd(e), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
    ioEngineProcessCompletions(e, 0);
}

static void waitIdle(ioEngine *e) {
    while (ioEngineQueued(e) + ioEngineInFlight(e) > 0) waitAndProcess(e);
}

static void fillBlock(unsigned char *p, unsigned block, unsigned seed) {
    uint32_t x = block * 2654435761u + seed * 40503u + 1;
    for (int i = 0; i < BLOCK; i += 4) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        memcpy(p + i, &x, 4);
    }
}

static void shuffle(unsigned *v, unsigned n, unsigned seed) {
    srand(seed);
    for (unsigned i = 0; i < n; i++) v[i] = i;
    for (unsigned i = n - 1; i > 0; i--) {
        unsigned j = (unsigned)rand() % (i + 1), t = v[i];
        v[i] = v[j], v[j] = t;
    }
}

/* ---------------------------------------------------------------- per-engine tests */

/* Half the file's blocks, written at random offsets then read back in another order. */
static void test_roundtrip(void **state) {
    fixture *f = begin(state);
    enum { N = FILE_BLOCKS / 2 };
    unsigned order[FILE_BLOCKS];
    shuffle(order, FILE_BLOCKS, 7);
    unsigned char *wbuf = ioEngineAllocBuffer((size_t)N * BLOCK);
    unsigned char *rbuf = ioEngineAllocBuffer((size_t)N * BLOCK);
    static outcome out[N];
    memset(out, 0, sizeof(out));

    for (unsigned i = 0; i < N; i++) {
        fillBlock(wbuf + (size_t)i * BLOCK, order[i], 1);
        while (ioEngineWrite(f->e, f->fd, wbuf + (size_t)i * BLOCK, BLOCK, (off_t)order[i] * BLOCK, recordDone,
                             &out[i]) != 0)
            waitAndProcess(f->e); /* queue full: submit and let completions free room */
    }
    waitIdle(f->e);
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(out[i].calls, 1);
        assert_int_equal(out[i].result, BLOCK);
    }

    /* Read back in reverse order of writing; slot i still holds block order[i]. */
    memset(out, 0, sizeof(out));
    memset(rbuf, 0, (size_t)N * BLOCK);
    for (unsigned k = N; k-- > 0;) {
        while (ioEngineRead(f->e, f->fd, rbuf + (size_t)k * BLOCK, BLOCK, (off_t)order[k] * BLOCK, recordDone,
                            &out[k]) != 0)
            waitAndProcess(f->e);
    }
    ioEngineDrain(f->e);
    assert_int_equal(ioEngineInFlight(f->e) + ioEngineQueued(f->e), 0);
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(out[i].calls, 1);
        assert_int_equal(out[i].result, BLOCK);
        assert_memory_equal(rbuf + (size_t)i * BLOCK, wbuf + (size_t)i * BLOCK, BLOCK);
    }

    /* The data really is in the file, at the right places. */
    unsigned char *check = ioEngineAllocBuffer(BLOCK);
    for (unsigned i = 0; i < N; i += 37) {
        assert_int_equal(pread(f->fd, check, BLOCK, (off_t)order[i] * BLOCK), BLOCK);
        assert_memory_equal(check, wbuf + (size_t)i * BLOCK, BLOCK);
    }
    /* A block never written reads back as zeros. */
    outcome hole = {0};
    memset(check, 0xff, BLOCK);
    assert_int_equal(ioEngineRead(f->e, f->fd, check, BLOCK, (off_t)order[N] * BLOCK, recordDone, &hole), 0);
    ioEngineDrain(f->e);
    assert_int_equal(hole.result, BLOCK);
    for (int i = 0; i < BLOCK; i++) assert_int_equal(check[i], 0);

    ioEngineFreeBuffer(check);
    ioEngineFreeBuffer(wbuf);
    ioEngineFreeBuffer(rbuf);
}

/* 128 requests queued, handed over by a single submit, all completed. */
static void test_batch_submit(void **state) {
    fixture *f = begin(state);
    enum { N = 128 };
    unsigned char *buf = ioEngineAllocBuffer((size_t)N * BLOCK);
    outcome out[N];
    memset(out, 0, sizeof(out));
    for (unsigned i = 0; i < N; i++) {
        fillBlock(buf + (size_t)i * BLOCK, i, 2);
        assert_int_equal(ioEngineWrite(f->e, f->fd, buf + (size_t)i * BLOCK, BLOCK, (off_t)i * BLOCK, recordDone,
                                       &out[i]),
                         0);
    }
    assert_int_equal(ioEngineQueued(f->e), N);
    assert_int_equal(ioEngineInFlight(f->e), 0);
    assert_int_equal(ioEngineSubmit(f->e), N);
    assert_int_equal(ioEngineQueued(f->e), 0);
    assert_int_equal(ioEngineInFlight(f->e), N);
    assert_int_equal(callbacks_run, 0); /* never from submit */
    assert_int_equal(ioEngineSubmit(f->e), 0);
    ioEngineDrain(f->e);
    assert_int_equal(callbacks_run, N);
    assert_int_equal(ioEngineInFlight(f->e), 0);
    for (unsigned i = 0; i < N; i++) assert_int_equal(out[i].result, BLOCK);

    /* And 128 reads of them in one batch. */
    memset(buf, 0, (size_t)N * BLOCK);
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(ioEngineRead(f->e, f->fd, buf + (size_t)i * BLOCK, BLOCK, (off_t)i * BLOCK, recordDone,
                                      &out[i]),
                         0);
    assert_int_equal(ioEngineSubmit(f->e), N);
    waitIdle(f->e);
    unsigned char expect[BLOCK];
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(out[i].result, BLOCK);
        fillBlock(expect, i, 2);
        assert_memory_equal(buf + (size_t)i * BLOCK, expect, BLOCK);
    }
    ioEngineFreeBuffer(buf);
}

/* depth 4: the fifth request is refused, queued or in flight alike, until a callback ran. */
static void test_queue_full(void **state) {
    fixture *f = begin(state);
    unsigned char *buf = ioEngineAllocBuffer(5 * BLOCK);
    outcome out[5];
    memset(out, 0, sizeof(out));
    for (int i = 0; i < 3; i++)
        assert_int_equal(ioEngineRead(f->e, f->fd, buf + i * BLOCK, BLOCK, (off_t)i * BLOCK, recordDone, &out[i]),
                         0);
    assert_int_equal(ioEngineFsync(f->e, f->fd, recordDone, &out[3]), 0); /* fsync counts too */
    assert_int_equal(ioEngineRead(f->e, f->fd, buf + 4 * BLOCK, BLOCK, 0, recordDone, &out[4]), -1);
    assert_int_equal(ioEngineWrite(f->e, f->fd, buf, BLOCK, 0, recordDone, &out[4]), -1);
    assert_int_equal(ioEngineFsync(f->e, f->fd, recordDone, &out[4]), -1);
    assert_int_equal(ioEngineQueued(f->e), 4);
    assert_int_equal(ioEngineSubmit(f->e), 4);
    /* Still full: in flight until the callbacks have run, even if the I/O is done. */
    assert_int_equal(ioEngineRead(f->e, f->fd, buf + 4 * BLOCK, BLOCK, 0, recordDone, &out[4]), -1);
    waitAndProcess(f->e);
    assert_true(callbacks_run >= 1);
    assert_int_equal(ioEngineRead(f->e, f->fd, buf + 4 * BLOCK, BLOCK, 0, recordDone, &out[4]), 0);
    ioEngineDrain(f->e);
    assert_int_equal(callbacks_run, 5);
    for (int i = 0; i < 5; i++) assert_int_equal(out[i].result, i == 3 ? 0 : BLOCK);
    ioEngineFreeBuffer(buf);
}

/* The eventfd wakes the loop; callbacks wait for ioEngineProcessCompletions, run on this
 * thread, and the eventfd is quiet afterwards. */
static void test_eventfd_and_thread(void **state) {
    fixture *f = begin(state);
    unsigned char *buf = ioEngineAllocBuffer(BLOCK);
    fillBlock(buf, 3, 3);
    outcome out = {0};
    int efd = ioEngineEventFd(f->e);
    struct pollfd pfd = {.fd = efd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 0), 0);
    assert_int_equal(ioEngineWrite(f->e, f->fd, buf, BLOCK, 3 * BLOCK, recordDone, &out), 0);
    assert_int_equal(poll(&pfd, 1, 0), 0); /* queued only: nothing happened yet */
    assert_int_equal(ioEngineSubmit(f->e), 1);
    assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
    assert_true(pfd.revents & POLLIN);
    usleep(1000);
    assert_int_equal(out.calls, 0); /* done, but not reported behind our back */
    assert_int_equal(ioEngineProcessCompletions(f->e, 0), 1);
    assert_int_equal(out.calls, 1);
    assert_int_equal(out.result, BLOCK);
    assert_true(pthread_equal(out.thread, pthread_self()));
    assert_int_equal(poll(&pfd, 1, 0), 0); /* cleared */
    assert_int_equal(ioEngineProcessCompletions(f->e, 0), 0);
    ioEngineFreeBuffer(buf);
}

/* A registered region: writes from it and reads into it (anywhere inside) move the same
 * bytes as plain buffers do; the thread back-end declines, and works the same. */
static void test_registered_buffer(void **state) {
    fixture *f = begin(state);
    enum { REGION_BLOCKS = 4 };
    unsigned char *region = ioEngineAllocBuffer(REGION_BLOCKS * BLOCK);
    unsigned char *plain = ioEngineAllocBuffer(2 * BLOCK);
    int registered = ioEngineRegisterBuffer(f->e, region, REGION_BLOCKS * BLOCK) == 0;
    assert_int_equal(registered, f->p->kind == IO_ENGINE_URING);
    assert_int_equal(ioEngineRegisterBuffer(f->e, plain, BLOCK), -1); /* one region at most */
    for (int i = 0; i < 2; i++) fillBlock(region + i * BLOCK, 20 + (unsigned)i, 6);
    fillBlock(plain, 22, 6);
    outcome out[3] = {{0}};
    assert_int_equal(ioEngineWrite(f->e, f->fd, region, 2 * BLOCK, 20 * BLOCK, recordDone, &out[0]), 0);
    assert_int_equal(ioEngineWrite(f->e, f->fd, plain, BLOCK, 22 * BLOCK, recordDone, &out[1]), 0);
    waitIdle(f->e);
    memset(region + 2 * BLOCK, 0, 2 * BLOCK);
    memset(plain, 0, 2 * BLOCK);
    assert_int_equal(ioEngineRead(f->e, f->fd, region + 2 * BLOCK, 2 * BLOCK, 21 * BLOCK, recordDone, &out[2]), 0);
    assert_int_equal(ioEngineRead(f->e, f->fd, plain, 2 * BLOCK, 20 * BLOCK, recordDone, &out[0]), 0);
    waitIdle(f->e);
    unsigned char want[BLOCK];
    for (int i = 0; i < 3; i++) assert_true(out[i].result == (i == 1 ? BLOCK : 2 * BLOCK));
    fillBlock(want, 21, 6);
    assert_memory_equal(region + 2 * BLOCK, want, BLOCK);
    assert_memory_equal(plain + BLOCK, want, BLOCK);
    fillBlock(want, 22, 6);
    assert_memory_equal(region + 3 * BLOCK, want, BLOCK);
    fillBlock(want, 20, 6);
    assert_memory_equal(plain, want, BLOCK);
    ioEngineUnregisterBuffer(f->e);
    assert_int_equal(ioEngineRegisterBuffer(f->e, plain, 2 * BLOCK) == 0, registered);
    ioEngineUnregisterBuffer(f->e);
    ioEngineFreeBuffer(region);
    ioEngineFreeBuffer(plain);
}

/* A limited pass runs that many callbacks, oldest first; the eventfd stays readable while
 * completions wait, and is quiet once the last pass took them all. */
static void test_completion_limit(void **state) {
    fixture *f = begin(state);
    enum { REQUESTS = 5, PER_PASS = 2 };
    unsigned char *buf = ioEngineAllocBuffer(REQUESTS * BLOCK);
    outcome out[REQUESTS] = {{0}};
    for (int i = 0; i < REQUESTS; i++) fillBlock(buf + i * BLOCK, (unsigned)i, 5);
    for (int i = 0; i < REQUESTS; i++)
        assert_int_equal(ioEngineWrite(f->e, f->fd, buf + i * BLOCK, BLOCK, i * BLOCK, recordDone, &out[i]), 0);
    assert_int_equal(ioEngineCompletionsReady(f->e), 0);
    assert_int_equal(ioEngineSubmit(f->e), REQUESTS);
    for (int waited = 0; ioEngineCompletionsReady(f->e) < REQUESTS; waited++) {
        assert_true(waited < WAIT_MS);
        usleep(1000);
    }
    struct pollfd pfd = {.fd = ioEngineEventFd(f->e), .events = POLLIN};
    unsigned left = REQUESTS;
    while (left > 0) {
        unsigned want = left < PER_PASS ? left : PER_PASS;
        assert_int_equal(ioEngineProcessCompletions(f->e, PER_PASS), want);
        left -= want;
        assert_int_equal(ioEngineCompletionsReady(f->e), left);
        assert_int_equal(poll(&pfd, 1, 0), left > 0 ? 1 : 0);
    }
    for (int i = 0; i < REQUESTS; i++) {
        assert_int_equal(out[i].calls, 1);
        assert_int_equal(out[i].result, BLOCK);
    }
    assert_int_equal(ioEngineInFlight(f->e), 0);
    ioEngineFreeBuffer(buf);
}

static void test_fsync(void **state) {
    fixture *f = begin(state);
    unsigned char *buf = ioEngineAllocBuffer(BLOCK);
    fillBlock(buf, 9, 4);
    outcome w = {0}, s = {0}, bad = {0};
    assert_int_equal(ioEngineWrite(f->e, f->fd, buf, BLOCK, 9 * BLOCK, recordDone, &w), 0);
    ioEngineDrain(f->e);
    assert_int_equal(ioEngineFsync(f->e, f->fd, recordDone, &s), 0);
    int closed = dup(f->fd);
    close(closed);
    assert_int_equal(ioEngineFsync(f->e, closed, recordDone, &bad), 0);
    ioEngineDrain(f->e);
    assert_int_equal(w.result, BLOCK);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.result, 0);
    assert_int_equal(bad.result, -EBADF);
    ioEngineFreeBuffer(buf);
}

static void test_errors(void **state) {
    fixture *f = begin(state);
    unsigned char *buf = ioEngineAllocBuffer(2 * BLOCK);
    int rdonly = open(f->path, O_RDONLY | O_CLOEXEC);
    assert_true(rdonly >= 0);
    int closed = dup(f->fd); /* a number that is surely not open */
    close(closed);
    outcome badfd = {0}, ro = {0}, neg = {0}, eof = {0}, tail = {0}, unaligned = {0}, misoff = {0};
    assert_int_equal(ioEngineRead(f->e, closed, buf, BLOCK, 0, recordDone, &badfd), 0);
    assert_int_equal(ioEngineWrite(f->e, rdonly, buf, BLOCK, 0, recordDone, &ro), 0);
    assert_int_equal(ioEngineRead(f->e, f->fd, buf, BLOCK, -BLOCK, recordDone, &neg), 0);
    assert_int_equal(callbacks_run, 0); /* even an early failure waits for the callbacks */
    assert_int_equal(ioEngineRead(f->e, f->fd, buf, BLOCK, (off_t)FILE_BLOCKS * BLOCK, recordDone, &eof), 0);
    /* Straddling the end of file: the short count of a read that hit EOF. */
    assert_int_equal(ioEngineRead(f->e, f->fd, buf, 2 * BLOCK, (off_t)(FILE_BLOCKS - 1) * BLOCK, recordDone, &tail),
                     0);
    if (f->p->direct) {
        /* Only mapped blocks are checked for alignment (a hole just reads zeros). */
        memset(buf, 1, 2 * BLOCK);
        assert_int_equal(pwrite(f->fd, buf, 2 * BLOCK, 0), 2 * BLOCK);
        assert_int_equal(ioEngineRead(f->e, f->fd, buf + 1, BLOCK, 0, recordDone, &unaligned), 0);
        assert_int_equal(ioEngineRead(f->e, f->fd, buf, BLOCK, 1, recordDone, &misoff), 0);
    }
    ioEngineDrain(f->e);
    assert_int_equal(badfd.result, -EBADF);
    assert_int_equal(ro.result, -EBADF);
    assert_int_equal(neg.result, -EINVAL);
    assert_int_equal(eof.result, 0);
    assert_int_equal(tail.result, BLOCK);
    if (f->p->direct) {
        assert_int_equal(unaligned.result, -EINVAL);
        assert_int_equal(misoff.result, -EINVAL);
    }
    close(rdonly);
    ioEngineFreeBuffer(buf);
}

/* Release while the kernel or the workers hold requests: it waits, runs no callback, and
 * drops what was never submitted. ASan checks nothing leaks or is touched after. */
static void test_release_inflight(void **state) {
    fixture *f = begin(state);
    enum { N = 96, SUBMITTED = 64 };
    unsigned char *buf = ioEngineAllocBuffer((size_t)N * BLOCK);
    outcome out[N];
    memset(out, 0, sizeof(out));
    for (unsigned i = 0; i < N; i++) {
        fillBlock(buf + (size_t)i * BLOCK, i, 5);
        if (i == SUBMITTED) assert_int_equal(ioEngineSubmit(f->e), SUBMITTED);
        assert_int_equal(ioEngineWrite(f->e, f->fd, buf + (size_t)i * BLOCK, BLOCK, (off_t)i * BLOCK, recordDone,
                                       &out[i]),
                         0);
    }
    int closed = dup(f->fd);
    close(closed);
    assert_int_equal(ioEngineRead(f->e, closed, buf, BLOCK, -1, recordDone, &out[0]), 0); /* early failure */
    ioEngineRelease(f->e);
    f->e = NULL;
    assert_int_equal(callbacks_run, 0);
    /* What was submitted did reach the file. */
    unsigned char *check = ioEngineAllocBuffer(BLOCK);
    assert_int_equal(pread(f->fd, check, BLOCK, 5 * BLOCK), BLOCK);
    assert_memory_equal(check, buf + 5 * BLOCK, BLOCK);
    ioEngineFreeBuffer(check);
    ioEngineFreeBuffer(buf);
}

/* Callbacks that queue the next request: Drain follows the chain to its end. */
typedef struct {
    ioEngine *e;
    int fd;
    unsigned char *buf;
    int left, errors;
} chain;

static void chainStep(void *privdata, ssize_t result) {
    chain *c = privdata;
    if (result != BLOCK) c->errors++;
    if (--c->left > 0) {
        off_t off = (off_t)(c->left % FILE_BLOCKS) * BLOCK;
        if (ioEngineRead(c->e, c->fd, c->buf, BLOCK, off, chainStep, c) != 0) c->errors++;
    }
}

static void test_callback_chain(void **state) {
    fixture *f = begin(state);
    chain c = {f->e, f->fd, ioEngineAllocBuffer(BLOCK), 50, 0};
    assert_int_equal(ioEngineRead(f->e, f->fd, c.buf, BLOCK, 0, chainStep, &c), 0);
    ioEngineDrain(f->e);
    assert_int_equal(c.left, 0);
    assert_int_equal(c.errors, 0);
    assert_int_equal(ioEngineInFlight(f->e) + ioEngineQueued(f->e), 0);
    ioEngineFreeBuffer(c.buf);
}

/* A NULL callback is allowed (fire and forget) and still frees its context. */
static void test_null_callback(void **state) {
    fixture *f = begin(state);
    unsigned char *buf = ioEngineAllocBuffer(4 * BLOCK);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4; i++)
            assert_int_equal(ioEngineRead(f->e, f->fd, buf + i * BLOCK, BLOCK, 0, NULL, NULL), 0);
        ioEngineDrain(f->e);
    }
    ioEngineFreeBuffer(buf);
}

/* ---------------------------------------------------------------- engine-wide tests */

static void test_alloc_buffer(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    size_t sizes[] = {0, 1, 512, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK, 1 << 20};
    void *bufs[8];
    size_t want = 0;
    for (int i = 0; i < 8; i++) {
        bufs[i] = ioEngineAllocBuffer(sizes[i]);
        assert_non_null(bufs[i]);
        assert_int_equal((uintptr_t)bufs[i] % IO_ENGINE_ALIGN, 0);
        memset(bufs[i], 0x5a, sizes[i]); /* all of it is ours (ASan would say otherwise) */
        want += sizes[i];
    }
    size_t used = zmalloc_used_memory() - base;
    assert_true(used >= want);
    assert_true(used <= want + 8 * (2 * IO_ENGINE_ALIGN) + want / 4); /* allocator rounding */
    for (int i = 0; i < 8; i++) ioEngineFreeBuffer(bufs[i]);
    ioEngineFreeBuffer(NULL);
    assert_int_equal(zmalloc_used_memory(), base);
}

static int uringAvailable(void) {
    const char *err;
    ioEngine *e = ioEngineCreate(IO_ENGINE_URING, 4, &err);
    ioEngineRelease(e);
    return e != NULL;
}

static void test_create_and_fallback(void **state) {
    (void)state;
    const char *err = NULL;
    assert_null(ioEngineCreate(IO_ENGINE_AUTO, 0, &err));
    assert_non_null(err);
    assert_null(ioEngineCreate(IO_ENGINE_THREADS, 40000, &err));

    ioEngine *e = ioEngineCreate(IO_ENGINE_THREADS, 16, &err);
    assert_non_null(e);
    assert_string_equal(ioEngineName(e), "threads");
    assert_null(ioEngineFallbackReason(e)); /* asked for, not a fallback */
    ioEngineRelease(e);
    ioEngineRelease(NULL);

    /* io_uring made unavailable, as a seccomp filter would. */
    setenv("VALKEY_IO_ENGINE", "threads", 1);
    e = ioEngineCreate(IO_ENGINE_AUTO, 16, &err);
    assert_non_null(e);
    assert_null(err);
    assert_string_equal(ioEngineName(e), "threads");
    assert_non_null(ioEngineFallbackReason(e));
    assert_non_null(strstr(ioEngineFallbackReason(e), "VALKEY_IO_ENGINE"));
    ioEngineRelease(e);
    assert_null(ioEngineCreate(IO_ENGINE_URING, 16, &err));
    assert_non_null(err);
    unsetenv("VALKEY_IO_ENGINE");

    if (!uringAvailable()) skip(); /* this kernel has no io_uring: AUTO falls back for real */
    e = ioEngineCreate(IO_ENGINE_AUTO, 16, &err);
    assert_string_equal(ioEngineName(e), "io_uring");
    assert_null(ioEngineFallbackReason(e));
    ioEngineRelease(e);
}

/* The real thing: a seccomp filter (as in a default container profile) makes
 * io_uring_setup fail with ENOSYS; AUTO must come up on the threads and work. Runs in a
 * child, since a filter cannot be removed. */
static int blockIoUringSetup(void) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

static void test_fallback_under_seccomp(void **state) {
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (blockIoUringSetup() != 0) _exit(77);
        const char *err;
        ioEngine *e = ioEngineCreate(IO_ENGINE_AUTO, 8, &err);
        if (!e || strcmp(ioEngineName(e), "threads") != 0) _exit(1);
        const char *why = ioEngineFallbackReason(e);
        if (!why || !strstr(why, strerror(ENOSYS))) _exit(2);
        if (ioEngineCreate(IO_ENGINE_URING, 8, &err) != NULL) _exit(3);
        int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        char buf[100];
        outcome out = {0};
        memset(buf, 1, sizeof(buf));
        if (ioEngineRead(e, fd, buf, sizeof(buf), 0, recordDone, &out) != 0) _exit(4);
        ioEngineDrain(e);
        if (out.result != sizeof(buf) || buf[0] != 0) _exit(5);
        ioEngineRelease(e);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) skip(); /* no seccomp here */
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void segvExit(int sig) {
    (void)sig;
    _exit(42);
}

/* A fork child must not use the engine: touching the ring faults (MADV_DONTFORK),
 * submitting to the threads aborts; releasing only frees memory; pread works. */
static void test_fork_child(void **state) {
    (void)state;
    int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    char buf[64];
    for (int kind = IO_ENGINE_URING; kind <= IO_ENGINE_THREADS; kind++) {
        ioEngine *e = ioEngineCreate((ioEngineKind)kind, 8, NULL);
        if (!e) continue; /* no io_uring on this kernel */

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (pread(fd, buf, sizeof(buf), 0) != sizeof(buf)) _exit(1);
            ioEngineRelease(e); /* must neither hang on joins nor touch the ring */
            _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            signal(SIGSEGV, segvExit);
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, STDERR_FILENO); /* the abort message is expected */
            ioEngineRead(e, fd, buf, sizeof(buf), 0, NULL, NULL);
            ioEngineSubmit(e);
            _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (kind == IO_ENGINE_URING)
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 42);
        else
            assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);

        /* The parent's engine is intact. */
        outcome out = {0};
        assert_int_equal(ioEngineRead(e, fd, buf, sizeof(buf), 0, recordDone, &out), 0);
        ioEngineDrain(e);
        assert_int_equal(out.result, sizeof(buf));
        ioEngineRelease(e);
    }
    close(fd);
}

/* ---------------------------------------------------------------- registration */

static const engineParams uring_direct = {IO_ENGINE_URING, 1}, uring_buffered = {IO_ENGINE_URING, 0},
                          threads_direct = {IO_ENGINE_THREADS, 1}, threads_buffered = {IO_ENGINE_THREADS, 0};

#define ENGINE_TESTS(p)                                                                                         \
    cmocka_unit_test_prestate_setup_teardown(test_roundtrip, setup64, teardown, (void *)&p),                    \
        cmocka_unit_test_prestate_setup_teardown(test_batch_submit, setup128, teardown, (void *)&p),            \
        cmocka_unit_test_prestate_setup_teardown(test_queue_full, setup4, teardown, (void *)&p),                \
        cmocka_unit_test_prestate_setup_teardown(test_eventfd_and_thread, setup4, teardown, (void *)&p),        \
        cmocka_unit_test_prestate_setup_teardown(test_completion_limit, setup64, teardown, (void *)&p),         \
        cmocka_unit_test_prestate_setup_teardown(test_registered_buffer, setup64, teardown, (void *)&p),        \
        cmocka_unit_test_prestate_setup_teardown(test_fsync, setup4, teardown, (void *)&p),                     \
        cmocka_unit_test_prestate_setup_teardown(test_errors, setup64, teardown, (void *)&p),                   \
        cmocka_unit_test_prestate_setup_teardown(test_release_inflight, setup128, teardown, (void *)&p),        \
        cmocka_unit_test_prestate_setup_teardown(test_callback_chain, setup4, teardown, (void *)&p),            \
        cmocka_unit_test_prestate_setup_teardown(test_null_callback, setup4, teardown, (void *)&p)

int main(void) {
    const struct CMUnitTest common[] = {
        cmocka_unit_test(test_alloc_buffer),
        cmocka_unit_test(test_create_and_fallback),
        cmocka_unit_test(test_fallback_under_seccomp),
        cmocka_unit_test(test_fork_child),
    };
    const struct CMUnitTest threads[] = {ENGINE_TESTS(threads_direct), ENGINE_TESTS(threads_buffered)};
    const struct CMUnitTest uring[] = {ENGINE_TESTS(uring_direct), ENGINE_TESTS(uring_buffered)};
    int failed = cmocka_run_group_tests_name("io_engine", common, NULL, NULL);
    failed += cmocka_run_group_tests_name("io_engine threads", threads, NULL, NULL);
    if (uringAvailable())
        failed += cmocka_run_group_tests_name("io_engine io_uring", uring, NULL, NULL);
    else
        printf("io_uring unavailable on this kernel: its tests are skipped\n");
    return failed;
}
