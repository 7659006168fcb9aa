/* ae.c -- the event loop: an epoll reactor for file events plus a timer list.
 *
 * File events live in an array indexed by fd, so lookups are O(1) and a handler can see
 * at once whether an fd it was about to serve was deleted by an earlier handler in the
 * same batch (the registered mask is checked before each call).
 *
 * Time events live in one list sorted by due time. A deleted event is only marked; it
 * is unlinked, finalized and freed at the start of the next timer pass, and never while
 * its proc is running, so deleting any timer from inside any proc is safe. A pass first
 * stamps the events that are due, then runs them in due order; events created or
 * rescheduled during the pass are not stamped, so a proc returning 0 cannot spin.
 *
 * Busy polling. After a poll that returned events, the loop may poll without sleeping
 * for up to busy_poll_us before it blocks: on a virtual machine a sleeping vCPU halts,
 * and waking it for the next request costs more than the request itself. An idle loop
 * (its last poll found nothing) never spins, so the cost is bounded by busy_poll_us per
 * busy turn, and each empty poll yields the CPU to any other runnable task first, so the
 * spin only takes CPU time nobody else wants.
 *
 * Gathering. When every turn carries a cost that does not depend on how many requests it
 * serves (a write to each of many subscribers, whatever the number of PUBLISHes), fewer
 * and larger turns are cheaper. aeGatherNextPoll asks the next poll, once it has found
 * events, to keep polling for up to usec until AE_GATHER_PERCENT of the previous poll's
 * count is ready. It sleeps between re-polls rather than spinning: the wait is for
 * other processes' requests, so the CPU is better left to them (a waiting poll uses
 * about 30% of a CPU, the cost of one wake-up per step, where spinning used all). */
#include "ae.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "monotonic.h"
#include "zmalloc.h"

#define US_PER_MS 1000LL
/* A gathering poll waits for this share of the previous poll's events: most of the
 * requests of a closed loop of clients, without waiting for the slowest of them. */
#define AE_GATHER_PERCENT 80
/* A gathering poll sleeps this long between re-polls (less when its time is nearly up).
 * Coarser steps overshoot the target, which makes larger turns for many clients and
 * longer waits for few: PUBLISH to 10 subscribers did 53k/s from 50 clients with 10 us
 * steps, 57-60k with 25 us and 61-65k with 50 us, but from 5 clients 28-30k with 25 us
 * and 24-28k with 50 us (28k without gathering). */
#define AE_GATHER_STEP_US 25
/* Linux stretches a sleep by the thread's timer slack (50 us by default) to merge
 * wake-ups; a gathering thread sets this much instead, so its time bound holds. */
#define AE_GATHER_TIMER_SLACK_NS 1000
#define NS_PER_US 1000L
/* Delays are capped (about 30 years) so that adding them to the clock cannot overflow. */
#define MAX_DELAY_MS (1000LL * 1000 * 1000 * 1000)

typedef struct aeFileEvent {
    int mask; /* AE_READABLE | AE_WRITABLE | AE_BARRIER, or AE_NONE when free */
    aeFileProc *rfile_proc;
    aeFileProc *wfile_proc;
    void *client_data;
} aeFileEvent;

typedef struct aeFiredEvent {
    int fd;
    int mask;
} aeFiredEvent;

typedef struct aeTimeEvent {
    long long id;
    monotime when;
    aeTimeProc *proc;
    aeEventFinalizerProc *finalizer_proc;
    void *client_data;
    struct aeTimeEvent *prev, *next;
    int running;            /* nesting depth of calls to proc in progress */
    int deleted;            /* reap at the next pass once not running */
    unsigned long long pass; /* the timer pass that found this event due */
} aeTimeEvent;

struct aeEventLoop {
    int maxfd; /* highest registered fd, -1 if none */
    int setsize;
    int epfd;
    int stop;
    int dont_wait;
    long busy_poll_us;  /* 0: never spin before sleeping */
    int last_poll_busy; /* the last poll returned events */
    int last_poll_count; /* events of the last poll that found any */
    long gather_us;      /* for the next poll only: see aeGatherNextPoll */
    int gather_slack_set; /* this thread's timer slack is AE_GATHER_TIMER_SLACK_NS */
    long long next_time_id;
    unsigned long long timer_pass;
    aeFileEvent *events;             /* setsize entries, indexed by fd */
    aeFiredEvent *fired;             /* setsize entries, filled by one poll */
    struct epoll_event *poll_events; /* setsize entries, epoll_wait's buffer */
    aeTimeEvent *timers;             /* sorted by when */
    aeBeforeSleepProc *beforesleep;
    aeBeforeSleepProc *aftersleep;
};

/* ------------------------------------------------------------------- epoll backend */

static int epollMask(int mask) {
    int ev = 0;
    if (mask & AE_READABLE) ev |= EPOLLIN;
    if (mask & AE_WRITABLE) ev |= EPOLLOUT;
    return ev;
}

/* Tells epoll the fd's interest set has changed from old_mask to new_mask. Only the
 * readable and writable bits matter to epoll; an fd with neither is not registered. */
static int apiUpdate(aeEventLoop *el, int fd, int old_mask, int new_mask) {
    int old_ev = epollMask(old_mask), new_ev = epollMask(new_mask);
    if (old_ev == new_ev) return AE_OK;
    struct epoll_event ee = {0};
    ee.events = new_ev;
    ee.data.fd = fd;
    int op;
    if (old_ev == 0)
        op = EPOLL_CTL_ADD;
    else if (new_ev == 0)
        op = EPOLL_CTL_DEL;
    else
        op = EPOLL_CTL_MOD;
    return epoll_ctl(el->epfd, op, fd, &ee) == -1 ? AE_ERR : AE_OK;
}

/* Sleeps usec, at most AE_GATHER_STEP_US. */
static void gatherSleep(aeEventLoop *el, long usec) {
    if (!el->gather_slack_set) {
        prctl(PR_SET_TIMERSLACK, AE_GATHER_TIMER_SLACK_NS);
        el->gather_slack_set = 1;
    }
    struct timespec ts = {0, usec * NS_PER_US};
    nanosleep(&ts, NULL);
}

/* Re-polls, sleeping first, until enough of the previous poll's count is ready or the
 * gathering time is up. Level-triggered epoll reports every ready fd on each call, so
 * the last successful result is complete by itself. Returns the count. */
static int gatherEvents(aeEventLoop *el, int n) {
    int want = (int)((long long)el->last_poll_count * AE_GATHER_PERCENT / 100);
    monotime start = getMonotonicUs();
    monotime elapsed = 0;
    while (n < want && elapsed < (monotime)el->gather_us) {
        long left = el->gather_us - (long)elapsed;
        gatherSleep(el, left < AE_GATHER_STEP_US ? left : AE_GATHER_STEP_US);
        elapsed = getMonotonicUs() - start;
        int m = epoll_wait(el->epfd, el->poll_events, el->setsize, 0);
        if (m <= 0) break; /* an error or nothing: the buffer still holds the n found */
        n = m;
    }
    return n;
}

/* Waits at most timeout_ms (-1: forever) and fills el->fired. Returns the count. */
static int apiPoll(aeEventLoop *el, int timeout_ms) {
    int n = 0;
    if (timeout_ms != 0 && el->busy_poll_us > 0 && el->last_poll_busy) {
        monotime start = getMonotonicUs();
        do {
            n = epoll_wait(el->epfd, el->poll_events, el->setsize, 0);
            /* Spin on idle CPU time only: another task runnable here goes first. */
            if (n == 0) sched_yield();
        } while (n == 0 && getMonotonicUs() - start < (monotime)el->busy_poll_us);
    }
    if (n == 0) n = epoll_wait(el->epfd, el->poll_events, el->setsize, timeout_ms);
    if (n > 0 && el->gather_us > 0) n = gatherEvents(el, n);
    el->gather_us = 0;
    el->last_poll_busy = n > 0;
    if (n > 0) el->last_poll_count = n;
    if (n == -1) {
        if (errno == EINTR) return 0;
        fprintf(stderr, "aeProcessEvents: epoll_wait failed: %s\n", strerror(errno));
        abort();
    }
    for (int j = 0; j < n; j++) {
        uint32_t ev = el->poll_events[j].events;
        int mask = 0;
        if (ev & EPOLLIN) mask |= AE_READABLE;
        if (ev & EPOLLOUT) mask |= AE_WRITABLE;
        /* Errors and hangups are reported to both handlers: whichever is registered
         * will find out what happened from its read or write call. */
        if (ev & (EPOLLERR | EPOLLHUP)) mask |= AE_READABLE | AE_WRITABLE;
        el->fired[j].fd = el->poll_events[j].data.fd;
        el->fired[j].mask = mask;
    }
    return n;
}

const char *aeGetApiName(void) {
    return "epoll";
}

/* -------------------------------------------------------------------- loop lifecycle */

aeEventLoop *aeCreateEventLoop(int setsize) {
    if (setsize <= 0) return NULL;
    aeEventLoop *el = zcalloc(sizeof(*el));
    el->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (el->epfd == -1) {
        zfree(el);
        return NULL;
    }
    el->setsize = setsize;
    el->maxfd = -1;
    el->events = zcalloc(sizeof(aeFileEvent) * setsize); /* AE_NONE is 0 */
    el->fired = zcalloc(sizeof(aeFiredEvent) * setsize);
    el->poll_events = zcalloc(sizeof(struct epoll_event) * setsize);
    return el;
}

static void freeTimeEvent(aeEventLoop *el, aeTimeEvent *te) {
    if (te->finalizer_proc) te->finalizer_proc(el, te->client_data);
    zfree(te);
}

void aeDeleteEventLoop(aeEventLoop *el) {
    if (el == NULL) return;
    while (el->timers) {
        aeTimeEvent *te = el->timers;
        el->timers = te->next;
        if (el->timers) el->timers->prev = NULL;
        freeTimeEvent(el, te);
    }
    close(el->epfd);
    zfree(el->events);
    zfree(el->fired);
    zfree(el->poll_events);
    zfree(el);
}

void aeStop(aeEventLoop *el) {
    el->stop = 1;
}

int aeGetSetSize(aeEventLoop *el) {
    return el->setsize;
}

int aeResizeSetSize(aeEventLoop *el, int setsize) {
    if (setsize == el->setsize) return AE_OK;
    if (setsize <= 0 || el->maxfd >= setsize) return AE_ERR;
    el->events = zrealloc(el->events, sizeof(aeFileEvent) * setsize);
    el->fired = zrealloc(el->fired, sizeof(aeFiredEvent) * setsize);
    el->poll_events = zrealloc(el->poll_events, sizeof(struct epoll_event) * setsize);
    for (int fd = el->setsize; fd < setsize; fd++) {
        el->events[fd] = (aeFileEvent){0};
    }
    el->setsize = setsize;
    return AE_OK;
}

void aeSetDontWait(aeEventLoop *el, int noWait) {
    el->dont_wait = noWait != 0;
}

void aeSetBusyPoll(aeEventLoop *el, long usec) {
    el->busy_poll_us = usec > 0 ? usec : 0;
}

void aeGatherNextPoll(aeEventLoop *el, long usec) {
    el->gather_us = usec > 0 ? usec : 0;
}

void aeSetBeforeSleepProc(aeEventLoop *el, aeBeforeSleepProc *beforesleep) {
    el->beforesleep = beforesleep;
}

void aeSetAfterSleepProc(aeEventLoop *el, aeBeforeSleepProc *aftersleep) {
    el->aftersleep = aftersleep;
}

/* ----------------------------------------------------------------------- file events */

int aeCreateFileEvent(aeEventLoop *el, int fd, int mask, aeFileProc *proc, void *clientData) {
    if (fd < 0 || fd >= el->setsize) {
        errno = ERANGE;
        return AE_ERR;
    }
    aeFileEvent *fe = &el->events[fd];
    int new_mask = fe->mask | mask;
    if (apiUpdate(el, fd, fe->mask, new_mask) == AE_ERR) return AE_ERR;
    fe->mask = new_mask;
    if (mask & AE_READABLE) fe->rfile_proc = proc;
    if (mask & AE_WRITABLE) fe->wfile_proc = proc;
    fe->client_data = clientData;
    if (fd > el->maxfd) el->maxfd = fd;
    return AE_OK;
}

void aeDeleteFileEvent(aeEventLoop *el, int fd, int mask) {
    if (fd < 0 || fd >= el->setsize) return;
    aeFileEvent *fe = &el->events[fd];
    if (fe->mask == AE_NONE) return;
    /* The barrier only means something together with a writable handler. */
    if (mask & AE_WRITABLE) mask |= AE_BARRIER;
    int new_mask = fe->mask & ~mask;
    if (new_mask == fe->mask) return;
    /* A failure here means the fd was already closed, which removed it from epoll. */
    apiUpdate(el, fd, fe->mask, new_mask);
    fe->mask = new_mask;
    if (!(new_mask & AE_READABLE)) fe->rfile_proc = NULL;
    if (!(new_mask & AE_WRITABLE)) fe->wfile_proc = NULL;
    if (fd == el->maxfd && new_mask == AE_NONE) {
        int j = el->maxfd - 1;
        while (j >= 0 && el->events[j].mask == AE_NONE) j--;
        el->maxfd = j;
    }
}

int aeGetFileEvents(aeEventLoop *el, int fd) {
    if (fd < 0 || fd >= el->setsize) return AE_NONE;
    return el->events[fd].mask;
}

void *aeGetFileClientData(aeEventLoop *el, int fd) {
    if (fd < 0 || fd >= el->setsize) return NULL;
    return el->events[fd].client_data;
}

/* Runs the handlers of one fired fd. Every call re-reads el->events because a handler
 * may delete registrations or resize the loop. Returns how many handlers ran. */
static int serveFiredEvent(aeEventLoop *el, int fd, int fired_mask) {
    int ran = 0;
    int barrier = el->events[fd].mask & AE_BARRIER;
    aeFileProc *first_proc = NULL;

    if (!barrier && (el->events[fd].mask & fired_mask & AE_READABLE)) {
        first_proc = el->events[fd].rfile_proc;
        first_proc(el, fd, el->events[fd].client_data, fired_mask);
        ran++;
    }
    if (fd < el->setsize && (el->events[fd].mask & fired_mask & AE_WRITABLE)) {
        aeFileEvent *fe = &el->events[fd];
        /* One proc registered for both directions is called once, seeing both bits. */
        if (!ran || fe->wfile_proc != first_proc) {
            if (!ran) first_proc = fe->wfile_proc;
            fe->wfile_proc(el, fd, fe->client_data, fired_mask);
            ran++;
        }
    }
    if (barrier && fd < el->setsize && (el->events[fd].mask & fired_mask & AE_READABLE)) {
        aeFileEvent *fe = &el->events[fd];
        if (!ran || fe->rfile_proc != first_proc) {
            fe->rfile_proc(el, fd, fe->client_data, fired_mask);
            ran++;
        }
    }
    return ran;
}

/* ----------------------------------------------------------------------- time events */

/* Links te into the list, after every event due no later than it. */
static void insertTimeEvent(aeEventLoop *el, aeTimeEvent *te) {
    aeTimeEvent *prev = NULL, *cur = el->timers;
    while (cur && cur->when <= te->when) {
        prev = cur;
        cur = cur->next;
    }
    te->prev = prev;
    te->next = cur;
    if (cur) cur->prev = te;
    if (prev)
        prev->next = te;
    else
        el->timers = te;
}

static void unlinkTimeEvent(aeEventLoop *el, aeTimeEvent *te) {
    if (te->prev)
        te->prev->next = te->next;
    else
        el->timers = te->next;
    if (te->next) te->next->prev = te->prev;
    te->prev = te->next = NULL;
}

static monotime dueTime(long long milliseconds) {
    if (milliseconds < 0) milliseconds = 0;
    if (milliseconds > MAX_DELAY_MS) milliseconds = MAX_DELAY_MS;
    return getMonotonicUs() + (monotime)milliseconds * US_PER_MS;
}

long long aeCreateTimeEvent(aeEventLoop *el, long long milliseconds, aeTimeProc *proc,
                            void *clientData, aeEventFinalizerProc *finalizerProc) {
    aeTimeEvent *te = zcalloc(sizeof(*te));
    te->id = el->next_time_id++;
    te->when = dueTime(milliseconds);
    te->proc = proc;
    te->finalizer_proc = finalizerProc;
    te->client_data = clientData;
    insertTimeEvent(el, te);
    return te->id;
}

int aeDeleteTimeEvent(aeEventLoop *el, long long id) {
    for (aeTimeEvent *te = el->timers; te; te = te->next) {
        if (te->id == id && !te->deleted) {
            te->deleted = 1;
            return AE_OK;
        }
    }
    return AE_ERR;
}

/* Unlinks, finalizes and frees the deleted events nobody is running. A finalizer may
 * create or delete timers: creation only links new nodes and deletion only marks, so
 * the saved next pointer stays valid. */
static void reapTimeEvents(aeEventLoop *el) {
    aeTimeEvent *te = el->timers;
    while (te) {
        aeTimeEvent *next = te->next;
        if (te->deleted && te->running == 0) {
            unlinkTimeEvent(el, te);
            freeTimeEvent(el, te);
        }
        te = next;
    }
}

/* The first event stamped by this pass that is still live and not already running. */
static aeTimeEvent *nextStampedEvent(aeEventLoop *el, unsigned long long pass) {
    for (aeTimeEvent *te = el->timers; te; te = te->next) {
        if (te->pass == pass && !te->deleted && te->running == 0) return te;
    }
    return NULL;
}

static int processTimeEvents(aeEventLoop *el) {
    reapTimeEvents(el);
    unsigned long long pass = ++el->timer_pass;
    monotime now = getMonotonicUs();
    for (aeTimeEvent *te = el->timers; te && te->when <= now; te = te->next) {
        te->pass = pass;
    }

    int processed = 0;
    aeTimeEvent *te;
    while ((te = nextStampedEvent(el, pass)) != NULL) {
        te->pass = 0;
        te->running++;
        long long ret = te->proc(el, te->id, te->client_data);
        te->running--;
        processed++;
        if (ret == AE_NOMORE) te->deleted = 1;
        if (te->deleted) continue;
        unlinkTimeEvent(el, te);
        te->when = dueTime(ret);
        insertTimeEvent(el, te);
    }
    return processed;
}

/* Milliseconds until the earliest live timer, rounded up so the loop never wakes before
 * the timer is due; -1 when there is no timer. */
static int msUntilNextTimer(aeEventLoop *el) {
    aeTimeEvent *te = el->timers;
    while (te && te->deleted) te = te->next;
    if (te == NULL) return -1;
    monotime now = getMonotonicUs();
    if (te->when <= now) return 0;
    unsigned long long ms = (te->when - now + US_PER_MS - 1) / US_PER_MS;
    return ms > (unsigned long long)__INT_MAX__ ? __INT_MAX__ : (int)ms;
}

/* ------------------------------------------------------------------------- main loop */

int aeProcessEvents(aeEventLoop *el, int flags) {
    if (!(flags & AE_ALL_EVENTS)) return 0;
    int processed = 0;

    /* Poll when there are fds to watch, or to sleep until the next timer is due. */
    if (el->maxfd != -1 || ((flags & AE_TIME_EVENTS) && !(flags & AE_DONT_WAIT))) {
        if (el->beforesleep && (flags & AE_CALL_BEFORE_SLEEP)) el->beforesleep(el);

        /* Computed after beforesleep, which may add timers or ask not to wait. */
        int timeout_ms = -1;
        if ((flags & AE_DONT_WAIT) || el->dont_wait)
            timeout_ms = 0;
        else if (flags & AE_TIME_EVENTS)
            timeout_ms = msUntilNextTimer(el);

        int numevents = apiPoll(el, timeout_ms);

        if (el->aftersleep && (flags & AE_CALL_AFTER_SLEEP)) el->aftersleep(el);

        for (int j = 0; j < numevents && j < el->setsize; j++) {
            int fd = el->fired[j].fd;
            int mask = el->fired[j].mask;
            if (!(flags & AE_FILE_EVENTS) || fd >= el->setsize) continue;
            serveFiredEvent(el, fd, mask);
            processed++;
        }
    }

    if (flags & AE_TIME_EVENTS) processed += processTimeEvents(el);
    return processed;
}

void aeMain(aeEventLoop *el) {
    el->stop = 0;
    while (!el->stop) {
        aeProcessEvents(el, AE_ALL_EVENTS | AE_CALL_BEFORE_SLEEP | AE_CALL_AFTER_SLEEP);
    }
}

int aeWait(int fd, int mask, long long milliseconds) {
    struct pollfd pfd = {.fd = fd};
    if (mask & AE_READABLE) pfd.events |= POLLIN;
    if (mask & AE_WRITABLE) pfd.events |= POLLOUT;
    int timeout = milliseconds < 0 ? -1
                  : milliseconds > __INT_MAX__ ? __INT_MAX__
                                               : (int)milliseconds;
    int rv = poll(&pfd, 1, timeout);
    if (rv <= 0) return rv;
    int ready = 0;
    if (pfd.revents & POLLIN) ready |= AE_READABLE;
    if (pfd.revents & POLLOUT) ready |= AE_WRITABLE;
    /* Report a broken fd as whatever was asked, so the caller's next I/O call fails
     * with the real reason instead of waiting again. */
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) ready |= mask & (AE_READABLE | AE_WRITABLE);
    return ready;
}
