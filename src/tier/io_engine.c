/* io_engine.c -- asynchronous block I/O for the flash tier: io_uring or a thread pool.
 *
 * Every request lives in one of `depth` preallocated contexts (ioRequest), so accepting a
 * request never allocates and "queue full" simply means no context is free. A context
 * goes: free -> queued (accepted, not yet handed over) -> in flight (handed to the kernel
 * or the workers) -> callback -> free. The counters `queued` and `inflight` are touched by
 * the owning thread only.
 *
 * io_uring back-end: the SQE is prepared when the request is accepted and the whole batch
 * reaches the kernel through one io_uring_submit() in ioEngineSubmit(). The ring has at
 * least `depth` SQ entries and twice as many CQ entries, so neither can overflow. An
 * eventfd registered with the ring makes completions wake the event loop; reaping peeks
 * CQEs without blocking, advances the CQ before running any callback (so a callback may
 * queue new requests or even re-enter ioEngineProcessCompletions), and resubmits the
 * remainder of a short transfer, or the whole request after -EAGAIN/-EINTR, right away.
 *
 * Thread back-end: accepted requests wait on a list private to the owner; ioEngineSubmit()
 * moves the whole list onto the work queue under one lock. Up to 16 workers run
 * pread/pwrite/fdatasync with the same short-transfer and retry rules, append the context
 * to a finished list under a second lock and bump the same kind of eventfd. Workers touch
 * only the request and its buffer; the callbacks run on the owner thread.
 *
 * Results: a read or write completes with `len` or -errno. A read that reaches end of
 * file completes with the bytes read so far (possibly 0): callers for which a short read
 * is corruption (O_DIRECT flash records) must check result == len. A write that makes no
 * progress completes with -EIO.
 *
 * Requests that are invalid before any I/O (negative offset) complete with -EINVAL
 * through the same path, from ioEngineProcessCompletions(), never from the call that
 * queued them.
 *
 * Fork: the ring's memory is marked MADV_DONTFORK, so a fork child that touched it would
 * fault at once rather than corrupt the parent's queue; the workers do not exist in a
 * child. A child reads the file with pread() and may only call ioEngineRelease(), which
 * then frees memory without touching the ring or the threads. */
#define _GNU_SOURCE
#include "io_engine.h"

#include "../zmalloc.h"

#include <errno.h>
#include <limits.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define IO_MAX_DEPTH 32768          /* io_uring's limit on SQ entries */
#define IO_MAX_RETRIES 64           /* -EAGAIN/-EINTR resubmissions before giving up */
#define IO_MAX_CHUNK (1u << 30)     /* one SQE moves at most this much; the rest follows */
#define IO_REAP_BATCH 64            /* CQEs copied out of the ring per pass */
/* Workers of the thread back-end (fewer if depth is). Each one is a unit of device queue
 * depth: on a virtio disk at depth 32, 4 workers reach half the IOPS of io_uring and 16
 * match it. They sleep in the kernel, so more workers than CPUs cost nothing but stacks. */
#define IO_THREADS_MAX 16
#define IO_THREAD_STACK (256 * 1024) /* pread/pwrite need little; the default is 8 MiB */
#define IO_DRAIN_RETRY_MS 1         /* pause when submission itself is refused (-EBUSY) */
#define IO_REASON_LEN 128

typedef enum { IO_OP_READ, IO_OP_WRITE, IO_OP_FSYNC } ioOp;

typedef struct ioRequest {
    struct ioRequest *next; /* link in the free list or one of the request lists */
    ioCompletionProc *done;
    void *privdata;
    char *buf;
    size_t len;
    size_t transferred; /* bytes moved so far; a short transfer continues from here */
    off_t offset;
    ssize_t result; /* final result, set before the callback list is reached */
    int fd;
    uint8_t op;
    uint8_t retries;
} ioRequest;

typedef struct ioList {
    ioRequest *head, *tail;
} ioList;

struct ioEngine {
    ioEngineKind kind; /* IO_ENGINE_URING or IO_ENGINE_THREADS, never AUTO */
    unsigned depth;
    unsigned queued;   /* accepted, not handed over yet */
    unsigned inflight; /* handed over (or failed early), callback not run yet */
    int efd;
    pid_t owner_pid;
    ioRequest *slots; /* depth contexts, owned here */
    ioRequest *free_slots;
    ioList early; /* failed before any I/O: completed by ioEngineProcessCompletions */
    unsigned early_count;
    char fallback_reason[IO_REASON_LEN];

    /* io_uring back-end */
    struct io_uring ring;
    int ring_ready;
    char *fixed_buf;           /* registered as buffer 0, or NULL */
    size_t fixed_len;

    /* thread back-end */
    ioList pending; /* owner only: accepted, waiting for ioEngineSubmit */
    pthread_mutex_t work_lock;
    pthread_cond_t work_cond;
    ioList work;  /* under work_lock */
    int stopping; /* under work_lock */
    pthread_mutex_t done_lock;
    ioList finished; /* under done_lock */
    unsigned finished_count; /* under done_lock */
    pthread_t threads[IO_THREADS_MAX];
    int nthreads;
};

static char create_error[IO_REASON_LEN];

/* ---------------------------------------------------------------- lists, contexts */

static void listAppend(ioList *l, ioRequest *r) {
    r->next = NULL;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
}

static void listSplice(ioList *dst, ioList *src) {
    if (!src->head) return;
    if (dst->tail)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    src->head = src->tail = NULL;
}

/* Detaches the first `max` entries of l (all of them if it is shorter); *count says how
 * many. */
static ioList listTakeUpTo(ioList *l, unsigned max, unsigned *count) {
    ioList taken = {NULL, NULL};
    *count = 0;
    while (l->head && *count < max) {
        ioRequest *r = l->head;
        l->head = r->next;
        listAppend(&taken, r);
        (*count)++;
    }
    if (!l->head) l->tail = NULL;
    return taken;
}

static void signalEventFd(int efd) {
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(efd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
    /* EAGAIN means the counter is saturated: the fd is readable anyway. */
}

static void clearEventFd(int efd) {
    uint64_t count;
    ssize_t n;
    do {
        n = read(efd, &count, sizeof(count));
    } while (n < 0 && errno == EINTR);
}

/* Returns the context to the free list, then runs the callback, so the callback can
 * queue a new request at once. */
static void finishRequest(ioEngine *e, ioRequest *r) {
    ioCompletionProc *done = r->done;
    void *privdata = r->privdata;
    ssize_t result = r->result;
    r->next = e->free_slots;
    e->free_slots = r;
    e->inflight--;
    if (done) done(privdata, result);
}

/* Finishes every request of a list taken off the engine; returns how many. */
static unsigned finishList(ioEngine *e, ioList l) {
    unsigned ran = 0;
    ioRequest *next;
    for (ioRequest *r = l.head; r; r = next) {
        next = r->next;
        finishRequest(e, r);
        ran++;
    }
    return ran;
}

/* Applies one transfer outcome to r. Returns 1 when r must be issued again (remainder of
 * a short transfer, or a retry), 0 when r->result is final. */
static int advanceRequest(ioRequest *r, ssize_t res) {
    if (res == -EAGAIN || res == -EINTR) {
        if (r->retries++ < IO_MAX_RETRIES) return 1;
        r->result = res;
        return 0;
    }
    if (res < 0 || r->op == IO_OP_FSYNC) {
        r->result = res;
        return 0;
    }
    r->transferred += (size_t)res;
    if (r->transferred >= r->len) {
        r->result = (ssize_t)r->len;
        return 0;
    }
    if (res == 0) { /* no progress: end of file for a read, a stuck device for a write */
        r->result = r->op == IO_OP_READ ? (ssize_t)r->transferred : -EIO;
        return 0;
    }
    return 1;
}

static size_t chunkLen(const ioRequest *r) {
    size_t left = r->len - r->transferred;
    return left > IO_MAX_CHUNK ? IO_MAX_CHUNK : left;
}

/* ---------------------------------------------------------------- io_uring back-end */

static int uringSubmit(ioEngine *e) {
    if (e->queued == 0) return 0;
    int n;
    do {
        n = io_uring_submit(&e->ring);
    } while (n == -EINTR);
    /* -EAGAIN/-EBUSY: the kernel is short of resources; the SQEs stay in the ring and go
     * with the next call. */
    if (n <= 0) return 0;
    if ((unsigned)n > e->queued) n = (int)e->queued;
    e->queued -= (unsigned)n;
    e->inflight += (unsigned)n;
    return n;
}

static void uringPrepare(ioEngine *e, ioRequest *r) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);
    if (!sqe) {
        /* Cannot happen: the SQ has >= depth entries and at most depth are queued. */
        uringSubmit(e);
        sqe = io_uring_get_sqe(&e->ring);
        if (!sqe) {
            fprintf(stderr, "io_engine: io_uring submission queue unexpectedly full\n");
            abort();
        }
    }
    off_t off = r->offset + (off_t)r->transferred;
    char *buf = r->buf + r->transferred;
    unsigned len = (unsigned)chunkLen(r);
    int fixed = e->fixed_buf && buf >= e->fixed_buf && buf + len <= e->fixed_buf + e->fixed_len;
    if (r->op == IO_OP_FSYNC) {
        io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
    } else {
        int op = r->op == IO_OP_READ ? (fixed ? IORING_OP_READ_FIXED : IORING_OP_READ)
                                     : (fixed ? IORING_OP_WRITE_FIXED : IORING_OP_WRITE);
        io_uring_prep_rw(op, sqe, r->fd, buf, len, (__u64)off); /* buf_index 0: the one region */
    }
    io_uring_sqe_set_data(sqe, r);
    e->queued++;
}

typedef struct {
    ioRequest *r;
    int res;
} uringCompletion;

static unsigned uringReap(ioEngine *e, unsigned max) {
    unsigned ran = 0;
    while (ran < max) {
        uringCompletion batch[IO_REAP_BATCH];
        struct io_uring_cqe *cqe;
        unsigned head, n = 0, want = max - ran < IO_REAP_BATCH ? max - ran : IO_REAP_BATCH;
        io_uring_for_each_cqe(&e->ring, head, cqe) {
            batch[n].r = io_uring_cqe_get_data(cqe);
            batch[n].res = cqe->res;
            if (++n == want) break;
        }
        if (n == 0) break;
        io_uring_cq_advance(&e->ring, n);

        int reissued = 0;
        for (unsigned i = 0; i < n; i++) {
            ioRequest *r = batch[i].r;
            if (advanceRequest(r, batch[i].res)) {
                e->inflight--;
                uringPrepare(e, r);
                reissued = 1;
            } else {
                finishRequest(e, r);
                ran++;
            }
        }
        if (reissued) uringSubmit(e);
    }
    return ran;
}

/* Sets up the ring; on failure fills `why` and returns -1. */
static int uringInit(ioEngine *e, char *why, size_t whylen) {
    const char *forced = getenv("VALKEY_IO_ENGINE");
    if (forced && !strcmp(forced, "threads")) {
        snprintf(why, whylen, "io_uring disabled by VALKEY_IO_ENGINE=threads");
        return -1;
    }
    /* The CQ gets twice the SQ's entries and at most depth requests are in flight, so
     * completions can never overflow it. */
    int rc = io_uring_queue_init(e->depth, &e->ring, 0);
    if (rc < 0) {
        snprintf(why, whylen, "io_uring_queue_init: %s", strerror(-rc));
        return -1;
    }
    e->ring_ready = 1;
    /* IORING_OP_READ/WRITE arrived in 5.6, with the probe itself. */
    struct io_uring_probe *probe = io_uring_get_probe_ring(&e->ring);
    int usable = probe && io_uring_opcode_supported(probe, IORING_OP_READ) &&
                 io_uring_opcode_supported(probe, IORING_OP_WRITE) &&
                 io_uring_opcode_supported(probe, IORING_OP_FSYNC);
    if (probe) io_uring_free_probe(probe);
    if (!usable) {
        snprintf(why, whylen, "io_uring lacks IORING_OP_READ/WRITE (kernel older than 5.6)");
        return -1;
    }
    if ((rc = io_uring_register_eventfd(&e->ring, e->efd)) < 0) {
        snprintf(why, whylen, "io_uring_register_eventfd: %s", strerror(-rc));
        return -1;
    }
    if ((rc = io_uring_ring_dontfork(&e->ring)) < 0) {
        snprintf(why, whylen, "io_uring_ring_dontfork: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

static void uringShutdown(ioEngine *e) {
    if (!e->ring_ready) return;
    /* Wait for what the kernel holds: it may still be writing into the caller's buffers.
     * Queued SQEs never reached the kernel and are simply dropped with the ring. */
    unsigned outstanding = e->inflight;
    for (ioRequest *r = e->early.head; r; r = r->next) outstanding--;
    while (outstanding > 0) {
        struct io_uring_cqe *cqe;
        int rc = io_uring_wait_cqe(&e->ring, &cqe);
        if (rc == -EINTR) continue;
        if (rc < 0) break;
        unsigned head, n = 0;
        io_uring_for_each_cqe(&e->ring, head, cqe) n++;
        io_uring_cq_advance(&e->ring, n);
        outstanding = n > outstanding ? 0 : outstanding - n;
    }
    io_uring_queue_exit(&e->ring);
    e->ring_ready = 0;
}

/* ---------------------------------------------------------------- thread back-end */

static void threadDoRequest(ioRequest *r) {
    for (;;) {
        ssize_t res;
        off_t off = r->offset + (off_t)r->transferred;
        switch (r->op) {
        case IO_OP_READ: res = pread(r->fd, r->buf + r->transferred, chunkLen(r), off); break;
        case IO_OP_WRITE: res = pwrite(r->fd, r->buf + r->transferred, chunkLen(r), off); break;
        default: res = fdatasync(r->fd); break;
        }
        if (res < 0) res = -errno;
        if (!advanceRequest(r, res)) return;
    }
}

static void *threadMain(void *arg) {
    ioEngine *e = arg;
    for (;;) {
        pthread_mutex_lock(&e->work_lock);
        while (!e->work.head && !e->stopping) pthread_cond_wait(&e->work_cond, &e->work_lock);
        ioRequest *r = e->work.head;
        if (!r) { /* stopping, and nothing left to do */
            pthread_mutex_unlock(&e->work_lock);
            return NULL;
        }
        e->work.head = r->next;
        if (!e->work.head) e->work.tail = NULL;
        pthread_mutex_unlock(&e->work_lock);

        threadDoRequest(r);

        pthread_mutex_lock(&e->done_lock);
        listAppend(&e->finished, r);
        e->finished_count++;
        pthread_mutex_unlock(&e->done_lock);
        signalEventFd(e->efd);
    }
}

static int threadsInit(ioEngine *e, char *why, size_t whylen) {
    pthread_mutex_init(&e->work_lock, NULL);
    pthread_mutex_init(&e->done_lock, NULL);
    pthread_cond_init(&e->work_cond, NULL);
    /* Workers never take signals: those belong to the main thread. */
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, IO_THREAD_STACK);
    int want = e->depth < IO_THREADS_MAX ? (int)e->depth : IO_THREADS_MAX, rc = 0;
    while (e->nthreads < want) {
        if ((rc = pthread_create(&e->threads[e->nthreads], &attr, threadMain, e)) != 0) break;
        pthread_setname_np(e->threads[e->nthreads], "io-engine");
        e->nthreads++;
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (e->nthreads == 0) {
        snprintf(why, whylen, "pthread_create: %s", strerror(rc));
        return -1;
    }
    return 0;
}

static int threadsSubmit(ioEngine *e) {
    if (e->queued == 0) return 0;
    int n = (int)e->queued;
    pthread_mutex_lock(&e->work_lock);
    listSplice(&e->work, &e->pending);
    if (n == 1)
        pthread_cond_signal(&e->work_cond);
    else
        pthread_cond_broadcast(&e->work_cond);
    pthread_mutex_unlock(&e->work_lock);
    e->inflight += e->queued;
    e->queued = 0;
    return n;
}

static unsigned threadsReap(ioEngine *e, unsigned max) {
    pthread_mutex_lock(&e->done_lock);
    unsigned n;
    ioList done = listTakeUpTo(&e->finished, max, &n);
    e->finished_count -= n;
    pthread_mutex_unlock(&e->done_lock);
    return finishList(e, done);
}

/* Lets the workers finish what was submitted (callbacks are not run), then joins them. */
static void threadsShutdown(ioEngine *e) {
    if (e->nthreads == 0) return;
    pthread_mutex_lock(&e->work_lock);
    e->stopping = 1;
    pthread_cond_broadcast(&e->work_cond);
    pthread_mutex_unlock(&e->work_lock);
    for (int i = 0; i < e->nthreads; i++) pthread_join(e->threads[i], NULL);
    e->nthreads = 0;
    pthread_mutex_destroy(&e->work_lock);
    pthread_mutex_destroy(&e->done_lock);
    pthread_cond_destroy(&e->work_cond);
}

/* ---------------------------------------------------------------- public interface */

static void freeEngine(ioEngine *e) {
    if (e->efd >= 0) close(e->efd);
    zfree(e->slots);
    zfree(e);
}

ioEngine *ioEngineCreate(ioEngineKind kind, unsigned depth, const char **err) {
    if (err) *err = NULL;
    if (depth == 0 || depth > IO_MAX_DEPTH) {
        snprintf(create_error, sizeof(create_error), "queue depth must be between 1 and %d",
                 IO_MAX_DEPTH);
        if (err) *err = create_error;
        return NULL;
    }
    ioEngine *e = zcalloc(sizeof(*e));
    e->depth = depth;
    e->owner_pid = getpid();
    e->slots = zcalloc(sizeof(ioRequest) * depth);
    for (unsigned i = depth; i-- > 0;) {
        e->slots[i].next = e->free_slots;
        e->free_slots = &e->slots[i];
    }
    e->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (e->efd < 0) {
        snprintf(create_error, sizeof(create_error), "eventfd: %s", strerror(errno));
        goto fail;
    }

    char why[IO_REASON_LEN] = "";
    if (kind != IO_ENGINE_THREADS) {
        if (uringInit(e, why, sizeof(why)) == 0) {
            e->kind = IO_ENGINE_URING;
            return e;
        }
        uringShutdown(e);
        if (kind == IO_ENGINE_URING) {
            memcpy(create_error, why, sizeof(create_error));
            goto fail;
        }
        memcpy(e->fallback_reason, why, sizeof(e->fallback_reason));
    }
    if (threadsInit(e, why, sizeof(why)) != 0) {
        memcpy(create_error, why, sizeof(create_error));
        goto fail;
    }
    e->kind = IO_ENGINE_THREADS;
    return e;

fail:
    if (err) *err = create_error;
    freeEngine(e);
    return NULL;
}

void ioEngineRelease(ioEngine *e) {
    if (!e) return;
    if (getpid() == e->owner_pid) {
        if (e->kind == IO_ENGINE_URING)
            uringShutdown(e);
        else
            threadsShutdown(e);
    } /* a fork child has no workers and must not touch the (unmapped) ring */
    freeEngine(e);
}

int ioEngineRegisterBuffer(ioEngine *e, void *buf, size_t len) {
    if (e->kind != IO_ENGINE_URING || !e->ring_ready || e->fixed_buf || !buf || !len) return -1;
    struct iovec region = {.iov_base = buf, .iov_len = len};
    if (io_uring_register_buffers(&e->ring, &region, 1) != 0) return -1;
    e->fixed_buf = buf;
    e->fixed_len = len;
    return 0;
}

void ioEngineUnregisterBuffer(ioEngine *e) {
    if (!e->fixed_buf || getpid() != e->owner_pid) return;
    io_uring_unregister_buffers(&e->ring);
    e->fixed_buf = NULL;
    e->fixed_len = 0;
}

const char *ioEngineName(const ioEngine *e) {
    return e->kind == IO_ENGINE_URING ? "io_uring" : "threads";
}

const char *ioEngineFallbackReason(const ioEngine *e) {
    return e->fallback_reason[0] ? e->fallback_reason : NULL;
}

int ioEngineEventFd(const ioEngine *e) {
    return e->efd;
}

static int queueRequest(ioEngine *e, ioOp op, int fd, void *buf, size_t len, off_t offset,
                        ioCompletionProc *done, void *privdata) {
    ioRequest *r = e->free_slots;
    if (!r) return -1;
    e->free_slots = r->next;
    r->op = (uint8_t)op;
    r->fd = fd;
    r->buf = buf;
    r->len = len;
    r->offset = offset;
    r->transferred = 0;
    r->retries = 0;
    r->result = 0;
    r->done = done;
    r->privdata = privdata;
    if (offset < 0) { /* io_uring would read -1 as "the file position": refuse it for both */
        r->result = -EINVAL;
        listAppend(&e->early, r);
        e->early_count++;
        e->inflight++;
        signalEventFd(e->efd);
        return 0;
    }
    if (e->kind == IO_ENGINE_URING) {
        uringPrepare(e, r);
    } else {
        listAppend(&e->pending, r);
        e->queued++;
    }
    return 0;
}

int ioEngineRead(ioEngine *e, int fd, void *buf, size_t len, off_t offset, ioCompletionProc *done, void *privdata) {
    return queueRequest(e, IO_OP_READ, fd, buf, len, offset, done, privdata);
}

int ioEngineWrite(ioEngine *e, int fd, const void *buf, size_t len, off_t offset, ioCompletionProc *done,
                  void *privdata) {
    /* The buffer is only read; the context keeps one pointer type for both directions. */
    return queueRequest(e, IO_OP_WRITE, fd, (void *)buf, len, offset, done, privdata);
}

int ioEngineFsync(ioEngine *e, int fd, ioCompletionProc *done, void *privdata) {
    return queueRequest(e, IO_OP_FSYNC, fd, NULL, 0, 0, done, privdata);
}

int ioEngineSubmit(ioEngine *e) {
    if (e->queued == 0) return 0;
    if (getpid() != e->owner_pid) {
        fprintf(stderr, "io_engine: submission from a fork child (use pread there)\n");
        abort();
    }
    return e->kind == IO_ENGINE_URING ? uringSubmit(e) : threadsSubmit(e);
}

unsigned ioEngineCompletionsReady(ioEngine *e) {
    unsigned ready = e->early_count;
    if (e->kind == IO_ENGINE_URING) {
        if (e->ring_ready) ready += io_uring_cq_ready(&e->ring);
    } else {
        pthread_mutex_lock(&e->done_lock);
        ready += e->finished_count;
        pthread_mutex_unlock(&e->done_lock);
    }
    return ready;
}

unsigned ioEngineProcessCompletions(ioEngine *e, unsigned max) {
    if (max == 0) max = UINT_MAX;
    /* Cleared before reaping when this call takes everything, so a completion landing
     * meanwhile signals again; when some must wait, the fd simply stays readable. */
    int drains = ioEngineCompletionsReady(e) <= max;
    if (drains) clearEventFd(e->efd);
    unsigned ran = 0;
    if (e->early.head) {
        unsigned n;
        ioList l = listTakeUpTo(&e->early, max, &n);
        e->early_count -= n;
        ran = finishList(e, l);
    }
    if (ran < max) ran += e->kind == IO_ENGINE_URING ? uringReap(e, max - ran) : threadsReap(e, max - ran);
    /* More landed between the count and the reap than this call may take. */
    if (drains && ran == max && ioEngineCompletionsReady(e)) signalEventFd(e->efd);
    return ran;
}

void ioEngineDrain(ioEngine *e) {
    for (;;) {
        ioEngineSubmit(e);
        ioEngineProcessCompletions(e, 0);
        if (e->queued == 0 && e->inflight == 0) return;
        /* Callbacks may have queued more: hand them over before sleeping. */
        if (e->queued > 0 && ioEngineSubmit(e) == 0 && e->inflight == 0) {
            poll(NULL, 0, IO_DRAIN_RETRY_MS); /* the kernel refused the batch: retry soon */
            continue;
        }
        struct pollfd pfd = {.fd = e->efd, .events = POLLIN};
        while (poll(&pfd, 1, -1) < 0 && errno == EINTR);
    }
}

unsigned ioEngineInFlight(const ioEngine *e) {
    return e->inflight;
}

unsigned ioEngineQueued(const ioEngine *e) {
    return e->queued;
}

/* zmalloc has no aligned allocator: over-allocate by IO_ENGINE_ALIGN and keep the block's
 * own address in the word just below the aligned pointer. A block from malloc is at least
 * 8-aligned, so rounding (block + 8) up stays within the first IO_ENGINE_ALIGN bytes. */
void *ioEngineAllocBuffer(size_t len) {
    if (len > SIZE_MAX - IO_ENGINE_ALIGN) return NULL;
    /* Whole blocks: the usable size is then the length asked for (what callers count). */
    return zmalloc_aligned(IO_ENGINE_ALIGN, (len + IO_ENGINE_ALIGN - 1) & ~(size_t)(IO_ENGINE_ALIGN - 1));
}

void ioEngineFreeBuffer(void *buf) {
    zfree(buf);
}
