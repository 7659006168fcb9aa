/* test_ae.c -- the event loop: timer order and deletion from inside procs, file events on
 * pipes and socket pairs, the AE_BARRIER handler order, handlers that remove other fds
 * of the same batch, set-size limits, aeWait and aeMain/aeStop, and gathering polls
 * (their bound, their target and that they sleep). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../ae.h"
#include "../monotonic.h"
#include "../zmalloc.h"

#define SETSIZE 64
#define MAX_LOG 16
#define GIVE_UP_US (2 * 1000 * 1000) /* a test loop that runs longer than this failed */

/* What the procs saw, in order. */
static struct {
    int log[MAX_LOG];
    int n;
    int finalized;
} rec;

static void logEvent(int what) {
    if (rec.n < MAX_LOG) rec.log[rec.n] = what;
    rec.n++;
}

static int setupRec(void **state) {
    (void)state;
    memset(&rec, 0, sizeof(rec));
    return 0;
}

static void countFinalizer(aeEventLoop *el, void *data) {
    (void)el;
    (void)data;
    rec.finalized++;
}

/* Runs the loop until rec.n reaches want or the time limit passes. */
static void runUntil(aeEventLoop *el, int want) {
    monotime start = getMonotonicUs();
    while (rec.n < want && elapsedUs(start) < GIVE_UP_US) aeProcessEvents(el, AE_ALL_EVENTS);
}

/* ------------------------------------------------------------------------ timers */

static long long logOnce(aeEventLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    logEvent((int)(intptr_t)data);
    return AE_NOMORE;
}

static void test_timers_fire_in_due_order(void **state) {
    (void)state;
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    aeCreateTimeEvent(el, 30, logOnce, (void *)3, countFinalizer);
    aeCreateTimeEvent(el, 10, logOnce, (void *)1, countFinalizer);
    aeCreateTimeEvent(el, 20, logOnce, (void *)2, countFinalizer);
    monotime start = getMonotonicUs();
    runUntil(el, 3);
    assert_true(elapsedUs(start) >= 30 * 1000); /* never early */
    assert_int_equal(rec.n, 3);
    assert_int_equal(rec.log[0], 1);
    assert_int_equal(rec.log[1], 2);
    assert_int_equal(rec.log[2], 3);
    aeProcessEvents(el, AE_TIME_EVENTS | AE_DONT_WAIT); /* reaps the finished timers */
    assert_int_equal(rec.finalized, 3);
    aeDeleteEventLoop(el);
    assert_int_equal(rec.finalized, 3);
}

static void test_due_timers_in_one_pass_keep_order(void **state) {
    (void)state;
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    aeCreateTimeEvent(el, 2, logOnce, (void *)2, NULL);
    aeCreateTimeEvent(el, 1, logOnce, (void *)1, NULL);
    aeCreateTimeEvent(el, 3, logOnce, (void *)3, NULL);
    usleep(10 * 1000); /* all three are due before the loop looks */
    assert_int_equal(aeProcessEvents(el, AE_TIME_EVENTS | AE_DONT_WAIT), 3);
    assert_int_equal(rec.log[0], 1);
    assert_int_equal(rec.log[1], 2);
    assert_int_equal(rec.log[2], 3);
    aeDeleteEventLoop(el);
}

static long long deleteSelf(aeEventLoop *el, long long id, void *data) {
    (void)data;
    logEvent((int)id);
    assert_int_equal(aeDeleteTimeEvent(el, id), AE_OK);
    assert_int_equal(aeDeleteTimeEvent(el, id), AE_ERR); /* already gone */
    return 1; /* ignored: the event is deleted */
}

static void test_timer_deletes_itself(void **state) {
    (void)state;
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    aeCreateTimeEvent(el, 0, deleteSelf, NULL, countFinalizer);
    for (int i = 0; i < 5; i++) {
        aeProcessEvents(el, AE_TIME_EVENTS | AE_DONT_WAIT);
        usleep(2000);
    }
    assert_int_equal(rec.n, 1);
    assert_int_equal(rec.finalized, 1);
    aeDeleteEventLoop(el);
    assert_int_equal(rec.finalized, 1);
}

static long long victim_id;

static long long deleteVictim(aeEventLoop *el, long long id, void *data) {
    (void)id;
    (void)data;
    logEvent(1);
    assert_int_equal(aeDeleteTimeEvent(el, victim_id), AE_OK);
    return AE_NOMORE;
}

static void test_timer_deletes_another_due_timer(void **state) {
    (void)state;
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    aeCreateTimeEvent(el, 0, deleteVictim, NULL, countFinalizer);
    victim_id = aeCreateTimeEvent(el, 0, logOnce, (void *)2, countFinalizer);
    usleep(1000);
    assert_int_equal(aeProcessEvents(el, AE_TIME_EVENTS | AE_DONT_WAIT), 1);
    assert_int_equal(rec.n, 1);
    assert_int_equal(rec.log[0], 1);
    aeProcessEvents(el, AE_TIME_EVENTS | AE_DONT_WAIT);
    assert_int_equal(rec.finalized, 2);
    assert_int_equal(aeDeleteTimeEvent(el, victim_id), AE_ERR);
    aeDeleteEventLoop(el);
}

static long long repeatThrice(aeEventLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    (void)data;
    logEvent(rec.n);
    return rec.n < 3 ? 0 : AE_NOMORE;
}

static void test_timer_repeats_without_spinning(void **state) {
    (void)state;
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    aeCreateTimeEvent(el, 0, repeatThrice, NULL, countFinalizer);
    /* A proc asking to run again in 0 ms runs at most once per iteration. */
    for (int i = 1; i <= 3; i++) {
        usleep(1000);
        assert_int_equal(aeProcessEvents(el, AE_TIME_EVENTS | AE_DONT_WAIT), 1);
        assert_int_equal(rec.n, i);
    }
    usleep(1000);
    assert_int_equal(aeProcessEvents(el, AE_TIME_EVENTS | AE_DONT_WAIT), 0);
    assert_int_equal(rec.finalized, 1);
    aeDeleteEventLoop(el);
}

static void test_delete_loop_finalizes_pending_timers(void **state) {
    (void)state;
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    long long a = aeCreateTimeEvent(el, 100000, logOnce, NULL, countFinalizer);
    aeCreateTimeEvent(el, 100000, logOnce, NULL, countFinalizer);
    assert_int_equal(aeDeleteTimeEvent(el, a), AE_OK);
    assert_int_equal(aeDeleteTimeEvent(el, 12345), AE_ERR);
    aeDeleteEventLoop(el);
    assert_int_equal(rec.finalized, 2);
    assert_int_equal(rec.n, 0);
}

/* -------------------------------------------------------------------- file events */

static void readAll(aeEventLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)data;
    assert_true(mask & AE_READABLE);
    char buf[64];
    ssize_t n = read(fd, buf, sizeof(buf));
    logEvent((int)n);
}

static void test_pipe_readable(void **state) {
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    assert_int_equal(aeCreateFileEvent(el, p[0], AE_READABLE, readAll, &rec), AE_OK);
    assert_int_equal(aeGetFileEvents(el, p[0]), AE_READABLE);
    assert_ptr_equal(aeGetFileClientData(el, p[0]), &rec);

    assert_int_equal(aeProcessEvents(el, AE_FILE_EVENTS | AE_DONT_WAIT), 0);
    assert_int_equal(write(p[1], "hello", 5), 5);
    assert_int_equal(aeProcessEvents(el, AE_FILE_EVENTS | AE_DONT_WAIT), 1);
    assert_int_equal(rec.n, 1);
    assert_int_equal(rec.log[0], 5);

    aeDeleteFileEvent(el, p[0], AE_READABLE);
    assert_int_equal(aeGetFileEvents(el, p[0]), AE_NONE);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(aeProcessEvents(el, AE_FILE_EVENTS | AE_DONT_WAIT), 0);
    assert_int_equal(rec.n, 1);

    aeDeleteEventLoop(el);
    close(p[0]);
    close(p[1]);
}

static void test_blocking_wait_wakes_for_fd(void **state) {
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    aeCreateFileEvent(el, p[0], AE_READABLE, readAll, NULL);
    /* A far timer bounds the wait; the write must wake the loop long before it. */
    aeCreateTimeEvent(el, 5000, logOnce, NULL, NULL);
    assert_int_equal(write(p[1], "abc", 3), 3);
    monotime start = getMonotonicUs();
    assert_int_equal(aeProcessEvents(el, AE_ALL_EVENTS), 1);
    assert_true(elapsedMs(start) < 1000);
    assert_int_equal(rec.log[0], 3);
    aeDeleteEventLoop(el);
    close(p[0]);
    close(p[1]);
}

/* ------------------------------------------------------------------ gathering */

#define GATHER_PIPES 4
#define LATE_WRITE_US (20 * 1000) /* the child's writes come this long after the first */

typedef struct {
    aeEventLoop *el;
    int p[GATHER_PIPES][2];
} gatherRig;

static void gatherRigInit(gatherRig *g) {
    g->el = aeCreateEventLoop(SETSIZE);
    for (int i = 0; i < GATHER_PIPES; i++) {
        assert_int_equal(pipe(g->p[i]), 0);
        assert_int_equal(aeCreateFileEvent(g->el, g->p[i][0], AE_READABLE, readAll, NULL), AE_OK);
    }
    /* A first poll that finds every pipe sets the count a gathering poll aims at. */
    for (int i = 0; i < GATHER_PIPES; i++) assert_int_equal(write(g->p[i][1], "x", 1), 1);
    assert_int_equal(aeProcessEvents(g->el, AE_FILE_EVENTS), GATHER_PIPES);
    rec.n = 0;
}

static void gatherRigFree(gatherRig *g) {
    aeDeleteEventLoop(g->el);
    for (int i = 0; i < GATHER_PIPES; i++) close(g->p[i][0]), close(g->p[i][1]);
}

/* Makes pipe 0 readable now and pipes 1 and 2 from a child LATE_WRITE_US later. */
static pid_t writeNowAndLater(gatherRig *g) {
    assert_int_equal(write(g->p[0][1], "x", 1), 1);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        usleep(LATE_WRITE_US);
        if (write(g->p[1][1], "y", 1) != 1 || write(g->p[2][1], "z", 1) != 1) _exit(1);
        _exit(0);
    }
    return pid;
}

static void reapWriter(pid_t pid) {
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_gather_waits_for_most_of_last_count(void **state) {
    (void)state;
    gatherRig g;
    gatherRigInit(&g);
    pid_t pid = writeNowAndLater(&g);
    aeGatherNextPoll(g.el, GIVE_UP_US);
    /* 80% of the previous 4 is 3: pipe 0 alone is not enough, the late two complete it. */
    assert_int_equal(aeProcessEvents(g.el, AE_FILE_EVENTS), 3);
    reapWriter(pid);
    gatherRigFree(&g);
}

static void test_no_gather_serves_what_is_ready(void **state) {
    (void)state;
    gatherRig g;
    gatherRigInit(&g);
    pid_t pid = writeNowAndLater(&g);
    assert_int_equal(aeProcessEvents(g.el, AE_FILE_EVENTS), 1);
    reapWriter(pid);
    assert_int_equal(aeProcessEvents(g.el, AE_FILE_EVENTS), 2);
    gatherRigFree(&g);
}

/* One pipe ready and nothing more to come: a gathering poll waits its whole time. */
static void readyOneAndGather(gatherRig *g) {
    gatherRigInit(g);
    assert_int_equal(write(g->p[0][1], "x", 1), 1);
    aeGatherNextPoll(g->el, LATE_WRITE_US);
}

static void test_gather_is_bounded_and_for_one_poll(void **state) {
    (void)state;
    gatherRig g;
    readyOneAndGather(&g);
    monotime start = getMonotonicUs();
    assert_int_equal(aeProcessEvents(g.el, AE_FILE_EVENTS), 1);
    assert_true(elapsedUs(start) >= LATE_WRITE_US);
    assert_true(elapsedUs(start) < GIVE_UP_US);
    /* The next poll does not gather: one ready pipe is served at once. */
    assert_int_equal(write(g.p[1][1], "x", 1), 1);
    start = getMonotonicUs();
    assert_int_equal(aeProcessEvents(g.el, AE_FILE_EVENTS), 1);
    assert_true(elapsedUs(start) < LATE_WRITE_US);
    gatherRigFree(&g);
}

static long long threadCpuUs(void) {
    struct timespec ts;
    assert_int_equal(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts), 0);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The wait is for other processes' requests: it must leave the CPU to them. */
static void test_gather_sleeps_rather_than_spins(void **state) {
    (void)state;
    gatherRig g;
    readyOneAndGather(&g);
    monotime start = getMonotonicUs();
    long long cpu_start = threadCpuUs();
    assert_int_equal(aeProcessEvents(g.el, AE_FILE_EVENTS), 1);
    long long wall = (long long)elapsedUs(start), cpu = threadCpuUs() - cpu_start;
    assert_true(wall >= LATE_WRITE_US);
    assert_true(cpu < wall / 2); /* about 30% here (the cost of a wake-up per step); spinning: all */
    gatherRigFree(&g);
}

/* Handlers of a socket pair end, which is readable and writable at once. */
static void onReadable(aeEventLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)data;
    (void)mask;
    char buf[16];
    if (read(fd, buf, sizeof(buf)) < 0) fail();
    logEvent(AE_READABLE);
}

static void onWritable(aeEventLoop *el, int fd, void *data, int mask) {
    (void)data;
    (void)mask;
    logEvent(AE_WRITABLE);
    aeDeleteFileEvent(el, fd, AE_WRITABLE);
}

static void runBothDirections(int extra_mask) {
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    assert_int_equal(aeCreateFileEvent(el, sv[0], AE_READABLE, onReadable, NULL), AE_OK);
    assert_int_equal(
        aeCreateFileEvent(el, sv[0], AE_WRITABLE | extra_mask, onWritable, NULL), AE_OK);
    assert_int_equal(aeGetFileEvents(el, sv[0]), AE_READABLE | AE_WRITABLE | extra_mask);
    assert_int_equal(write(sv[1], "ping", 4), 4);
    assert_int_equal(aeProcessEvents(el, AE_FILE_EVENTS | AE_DONT_WAIT), 1);
    assert_int_equal(rec.n, 2);
    /* Deleting the writable side also drops the barrier. */
    assert_int_equal(aeGetFileEvents(el, sv[0]), AE_READABLE);
    aeDeleteEventLoop(el);
    close(sv[0]);
    close(sv[1]);
}

static void test_default_order_readable_first(void **state) {
    (void)state;
    runBothDirections(0);
    assert_int_equal(rec.log[0], AE_READABLE);
    assert_int_equal(rec.log[1], AE_WRITABLE);
}

static void test_barrier_order_writable_first(void **state) {
    (void)state;
    runBothDirections(AE_BARRIER);
    assert_int_equal(rec.log[0], AE_WRITABLE);
    assert_int_equal(rec.log[1], AE_READABLE);
}

static void onBoth(aeEventLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)fd;
    (void)data;
    logEvent(mask);
}

static void test_same_proc_both_directions_called_once(void **state) {
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    aeCreateFileEvent(el, sv[0], AE_READABLE | AE_WRITABLE, onBoth, NULL);
    assert_int_equal(write(sv[1], "x", 1), 1);
    aeProcessEvents(el, AE_FILE_EVENTS | AE_DONT_WAIT);
    assert_int_equal(rec.n, 1);
    assert_int_equal(rec.log[0], AE_READABLE | AE_WRITABLE);
    aeDeleteEventLoop(el);
    close(sv[0]);
    close(sv[1]);
}

/* Each pipe's handler closes the other pipe; whichever runs first, the other must not. */
static int pipes[2][2];

static void closeOther(aeEventLoop *el, int fd, void *data, int mask) {
    (void)fd;
    (void)mask;
    int other = (int)(intptr_t)data;
    logEvent(other);
    aeDeleteFileEvent(el, pipes[other][0], AE_READABLE);
    close(pipes[other][0]);
    close(pipes[other][1]);
    pipes[other][0] = pipes[other][1] = -1;
}

static void test_handler_removes_fd_of_same_batch(void **state) {
    (void)state;
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pipe(pipes[i]), 0);
        aeCreateFileEvent(el, pipes[i][0], AE_READABLE, closeOther, (void *)(intptr_t)(1 - i));
        assert_int_equal(write(pipes[i][1], "x", 1), 1);
    }
    aeProcessEvents(el, AE_FILE_EVENTS | AE_DONT_WAIT);
    assert_int_equal(rec.n, 1);
    for (int i = 0; i < 2; i++) {
        if (pipes[i][0] == -1) continue;
        aeDeleteFileEvent(el, pipes[i][0], AE_READABLE);
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
    aeDeleteEventLoop(el);
}

static void test_setsize_and_resize(void **state) {
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    int fd = p[0];
    aeEventLoop *el = aeCreateEventLoop(fd); /* fd itself is one past the last slot */
    assert_int_equal(aeGetSetSize(el), fd);
    errno = 0;
    assert_int_equal(aeCreateFileEvent(el, fd, AE_READABLE, readAll, NULL), AE_ERR);
    assert_int_equal(errno, ERANGE);
    assert_int_equal(aeGetFileEvents(el, fd), AE_NONE);

    assert_int_equal(aeResizeSetSize(el, fd + 8), AE_OK);
    assert_int_equal(aeGetSetSize(el), fd + 8);
    assert_int_equal(aeCreateFileEvent(el, fd, AE_READABLE, readAll, NULL), AE_OK);
    /* Shrinking below a registered fd is refused; down to just above it is fine. */
    assert_int_equal(aeResizeSetSize(el, fd), AE_ERR);
    assert_int_equal(aeResizeSetSize(el, fd + 1), AE_OK);
    assert_int_equal(aeGetSetSize(el), fd + 1);

    assert_int_equal(write(p[1], "ab", 2), 2);
    assert_int_equal(aeProcessEvents(el, AE_FILE_EVENTS | AE_DONT_WAIT), 1);
    assert_int_equal(rec.log[0], 2);

    aeDeleteFileEvent(el, fd, AE_READABLE);
    assert_int_equal(aeResizeSetSize(el, 1), AE_OK);
    aeDeleteEventLoop(el);
    close(p[0]);
    close(p[1]);
}

static void test_ae_wait(void **state) {
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(aeWait(p[0], AE_READABLE, 10), 0);
    assert_int_equal(aeWait(p[1], AE_WRITABLE, 10), AE_WRITABLE);
    assert_int_equal(write(p[1], "z", 1), 1);
    assert_int_equal(aeWait(p[0], AE_READABLE, 1000), AE_READABLE);
    close(p[0]);
    close(p[1]);
}

/* ----------------------------------------------------------------- aeMain, hooks */

static int before_calls, after_calls;

static void beforeSleep(aeEventLoop *el) {
    (void)el;
    before_calls++;
}

static void afterSleep(aeEventLoop *el) {
    (void)el;
    after_calls++;
}

static long long stopAfterThree(aeEventLoop *el, long long id, void *data) {
    (void)id;
    (void)data;
    logEvent(rec.n);
    if (rec.n == 3) {
        aeStop(el);
        return AE_NOMORE;
    }
    return 1;
}

static void test_main_runs_until_stop(void **state) {
    (void)state;
    before_calls = after_calls = 0;
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    aeSetBeforeSleepProc(el, beforeSleep);
    aeSetAfterSleepProc(el, afterSleep);
    aeCreateTimeEvent(el, 1, stopAfterThree, NULL, countFinalizer);
    aeMain(el);
    assert_int_equal(rec.n, 3);
    assert_true(before_calls >= 3);
    assert_int_equal(before_calls, after_calls);
    /* Hooks run only when asked for. */
    int before = before_calls;
    aeSetDontWait(el, 1);
    aeProcessEvents(el, AE_ALL_EVENTS);
    assert_int_equal(before_calls, before);
    aeDeleteEventLoop(el);
    assert_int_equal(rec.finalized, 1);
}

static void test_api_name(void **state) {
    (void)state;
    assert_string_equal(aeGetApiName(), "epoll");
}

static void test_no_leak(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    aeEventLoop *el = aeCreateEventLoop(SETSIZE);
    aeCreateTimeEvent(el, 1000, logOnce, NULL, NULL);
    aeResizeSetSize(el, SETSIZE * 4);
    aeDeleteEventLoop(el);
    assert_int_equal(zmalloc_used_memory(), base);
}

#define T(f) cmocka_unit_test_setup(f, setupRec)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_timers_fire_in_due_order),
        T(test_due_timers_in_one_pass_keep_order),
        T(test_timer_deletes_itself),
        T(test_timer_deletes_another_due_timer),
        T(test_timer_repeats_without_spinning),
        T(test_delete_loop_finalizes_pending_timers),
        T(test_pipe_readable),
        T(test_blocking_wait_wakes_for_fd),
        T(test_gather_waits_for_most_of_last_count),
        T(test_no_gather_serves_what_is_ready),
        T(test_gather_is_bounded_and_for_one_poll),
        T(test_gather_sleeps_rather_than_spins),
        T(test_default_order_readable_first),
        T(test_barrier_order_writable_first),
        T(test_same_proc_both_directions_called_once),
        T(test_handler_removes_fd_of_same_batch),
        T(test_setsize_and_resize),
        T(test_ae_wait),
        T(test_main_runs_until_stop),
        T(test_api_name),
        T(test_no_leak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
