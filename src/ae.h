/* ae.h -- the single-threaded event loop: file events on an epoll reactor plus timers.
 *
 * A file event is a (fd, mask) registration with one handler for readability and one for
 * writability. A time event is a callback due at a point on the monotonic clock; its
 * return value says when to call it again, or AE_NOMORE to drop it. aeProcessEvents runs
 * one iteration: optional before-sleep hook, wait, optional after-sleep hook, fired file
 * handlers, then due timers. */
#ifndef AE_H
#define AE_H

#define AE_OK 0
#define AE_ERR -1

/* File event masks. */
#define AE_NONE 0
#define AE_READABLE 1
#define AE_WRITABLE 2
/* With AE_WRITABLE: when both are ready in one iteration, run the writable handler
 * before the readable one (the default order is readable first). */
#define AE_BARRIER 4

/* aeProcessEvents flags. */
#define AE_FILE_EVENTS (1 << 0)
#define AE_TIME_EVENTS (1 << 1)
#define AE_ALL_EVENTS (AE_FILE_EVENTS | AE_TIME_EVENTS)
#define AE_DONT_WAIT (1 << 2)
#define AE_CALL_BEFORE_SLEEP (1 << 3)
#define AE_CALL_AFTER_SLEEP (1 << 4)

/* A time event proc returns this to be removed. */
#define AE_NOMORE -1

struct aeEventLoop;
typedef struct aeEventLoop aeEventLoop;

typedef void aeFileProc(struct aeEventLoop *el, int fd, void *clientData, int mask);
typedef long long aeTimeProc(struct aeEventLoop *el, long long id, void *clientData);
typedef void aeEventFinalizerProc(struct aeEventLoop *el, void *clientData);
typedef void aeBeforeSleepProc(struct aeEventLoop *el);

/* setsize bounds the fd numbers that can be registered (fd < setsize). NULL on failure. */
aeEventLoop *aeCreateEventLoop(int setsize);
/* Frees the loop. Pending time events get their finalizer called first. */
void aeDeleteEventLoop(aeEventLoop *el);
void aeStop(aeEventLoop *el);
void aeMain(aeEventLoop *el);
int aeProcessEvents(aeEventLoop *el, int flags);

/* Returns AE_ERR (errno ERANGE) when fd >= setsize, or when epoll refuses the fd. */
int aeCreateFileEvent(aeEventLoop *el, int fd, int mask, aeFileProc *proc, void *clientData);
void aeDeleteFileEvent(aeEventLoop *el, int fd, int mask);
int aeGetFileEvents(aeEventLoop *el, int fd);
void *aeGetFileClientData(aeEventLoop *el, int fd);

/* Returns the new event id (>= 0). milliseconds < 0 is taken as 0. */
long long aeCreateTimeEvent(aeEventLoop *el, long long milliseconds, aeTimeProc *proc,
                            void *clientData, aeEventFinalizerProc *finalizerProc);
/* Safe from inside any time or file proc; AE_ERR when no live event has that id. */
int aeDeleteTimeEvent(aeEventLoop *el, long long id);

/* Waits up to milliseconds (-1: forever) for fd to match mask. Returns the ready mask,
 * 0 on timeout, -1 on error. */
int aeWait(int fd, int mask, long long milliseconds);

const char *aeGetApiName(void);
void aeSetBeforeSleepProc(aeEventLoop *el, aeBeforeSleepProc *beforesleep);
void aeSetAfterSleepProc(aeEventLoop *el, aeBeforeSleepProc *aftersleep);
int aeGetSetSize(aeEventLoop *el);
/* AE_ERR when a registered fd would not fit in the new size. */
int aeResizeSetSize(aeEventLoop *el, int setsize);
/* While set, every poll returns immediately instead of sleeping. */
void aeSetDontWait(aeEventLoop *el, int noWait);
/* After a poll that found events, poll again without sleeping for up to usec before
 * blocking (0: never). */
void aeSetBusyPoll(aeEventLoop *el, long usec);
/* For the next poll only: once it has found events, sleep and poll again for up to usec
 * until most as many are ready as the previous poll found (0: do not gather). Sets the
 * calling thread's timer slack to 1 us on first use, so that the bound holds. */
void aeGatherNextPoll(aeEventLoop *el, long usec);

#endif
