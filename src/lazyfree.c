/* lazyfree.c -- freeing big values and whole databases on a background thread.
 *
 * UNLINK, FLUSHALL ASYNC and the lazyfree-lazy-* options must not stall the event loop
 * for as long as it takes to free millions of allocations. Memory that has left the
 * keyspace (nothing in the main thread can reach it any more) is handed to one worker
 * thread through a queue; the thread frees it. The allocator and its used-memory counter
 * are thread safe, and the free procs of the types touch nothing but the value.
 *
 * Only work that is big enough goes to the thread: a value whose free effort (about the
 * number of allocations behind it) is above LAZYFREE_THRESHOLD, a database with more
 * keys than that. Smaller things are freed at once, which is cheaper than a hand-off.
 * The thread is started on first use.
 */
#include <pthread.h>
#include <signal.h>

#include "db.h"
#include "hashtable.h"
#include "object.h"
#include "server.h"
#include "zmalloc.h"

#define LAZYFREE_THRESHOLD 64

typedef enum { LAZYFREE_OBJECT, LAZYFREE_TABLES } lazyfreeKind;

typedef struct lazyfreeJob {
    struct lazyfreeJob *next;
    lazyfreeKind kind;
    void *first, *second; /* the object; or the keys and expires tables */
    size_t objects;       /* counted in lazyfree_pending_objects until freed */
} lazyfreeJob;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wakeup;
    lazyfreeJob *head, *tail;
    int started;
    _Atomic size_t pending_objects;
    _Atomic size_t freed_objects;
} lazyfree = {.lock = PTHREAD_MUTEX_INITIALIZER, .wakeup = PTHREAD_COND_INITIALIZER};

static lazyfreeEffortProc effortProcs[OBJ_TYPE_MAX];

void lazyfreeRegisterEffortProc(int type, lazyfreeEffortProc proc) {
    serverAssert(type >= 0 && type < OBJ_TYPE_MAX);
    effortProcs[type] = proc;
}

size_t lazyfreeFreeEffort(const robj *o) {
    if (o->cold) return 1; /* its flash space is released on the main thread */
    if (o->type < OBJ_TYPE_MAX && effortProcs[o->type]) return effortProcs[o->type](o);
    return 1; /* a string is at most two allocations */
}

static void lazyfreeRun(lazyfreeJob *job) {
    if (job->kind == LAZYFREE_OBJECT) {
        decrRefCount(job->first);
    } else {
        hashtableRelease(job->second); /* expires first: it does not own the entries */
        hashtableRelease(job->first);
    }
}

static void *lazyfreeThreadMain(void *arg) {
    (void)arg;
    /* Signals are for the main thread. */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;) {
        pthread_mutex_lock(&lazyfree.lock);
        while (!lazyfree.head) pthread_cond_wait(&lazyfree.wakeup, &lazyfree.lock);
        lazyfreeJob *job = lazyfree.head;
        lazyfree.head = job->next;
        if (!lazyfree.head) lazyfree.tail = NULL;
        pthread_mutex_unlock(&lazyfree.lock);

        lazyfreeRun(job);
        lazyfree.pending_objects -= job->objects;
        lazyfree.freed_objects += job->objects;
        zfree(job);
    }
    return NULL;
}

/* Queues a job; frees synchronously if the thread cannot be started. */
static void lazyfreeSubmit(lazyfreeKind kind, void *first, void *second, size_t objects) {
    lazyfreeJob *job = zmalloc(sizeof(*job));
    *job = (lazyfreeJob){.kind = kind, .first = first, .second = second, .objects = objects};
    pthread_mutex_lock(&lazyfree.lock);
    if (!lazyfree.started) {
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        lazyfree.started = pthread_create(&tid, &attr, lazyfreeThreadMain, NULL) == 0;
        pthread_attr_destroy(&attr);
        if (!lazyfree.started) {
            pthread_mutex_unlock(&lazyfree.lock);
            serverLog(LL_WARNING, "Can't start the lazy free thread: freeing synchronously");
            lazyfreeRun(job);
            lazyfree.freed_objects += objects;
            zfree(job);
            return;
        }
    }
    lazyfree.pending_objects += objects;
    if (lazyfree.tail) lazyfree.tail->next = job;
    else lazyfree.head = job;
    lazyfree.tail = job;
    pthread_cond_signal(&lazyfree.wakeup);
    pthread_mutex_unlock(&lazyfree.lock);
}

int lazyfreeFreeObjectIfBig(robj *o) {
    if (o->refcount != 1) return 0; /* still referenced: decrRefCount only drops a count */
    size_t effort = lazyfreeFreeEffort(o);
    if (effort <= LAZYFREE_THRESHOLD) return 0;
    lazyfreeSubmit(LAZYFREE_OBJECT, o, NULL, 1);
    return 1;
}

int lazyfreeFreeTablesIfBig(hashtable *keys, hashtable *expires) {
    size_t size = hashtableSize(keys);
    if (size <= LAZYFREE_THRESHOLD) return 0;
    lazyfreeSubmit(LAZYFREE_TABLES, keys, expires, size);
    return 1;
}

size_t lazyfreeGetPendingObjectsCount(void) {
    return lazyfree.pending_objects;
}

size_t lazyfreeGetFreedObjectsCount(void) {
    return lazyfree.freed_objects;
}

void lazyfreeResetStats(void) {
    lazyfree.freed_objects = 0;
}
