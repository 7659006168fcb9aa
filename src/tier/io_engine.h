/* io_engine.h -- asynchronous block I/O for the flash tier.
 *
 * The main thread owns one engine. Requests are queued with ioEngineRead/ioEngineWrite
 * and handed to the kernel in one batch by ioEngineSubmit() (the server calls it once
 * per event-loop turn). Completions are signalled through an eventfd that the event
 * loop watches; ioEngineProcessCompletions() then runs each request's callback on the
 * main thread, so callbacks may touch the keyspace without locks.
 *
 * Two back-ends sit behind this interface: io_uring (liburing), and, where io_uring
 * cannot be set up (old kernel, seccomp), a small pool of threads doing pread/pwrite.
 * ioEngineName() says which one runs, for the log and INFO.
 *
 * Buffers and offsets must be aligned to IO_ENGINE_ALIGN when the file was opened with
 * O_DIRECT; ioEngineAllocBuffer() returns suitably aligned memory.
 *
 * Results: a read or write completes with exactly `len`, or -errno. Short transfers are
 * continued internally, -EAGAIN/-EINTR retried. The one exception: a read that reaches
 * end of file completes with the bytes read so far (0..len-1), so a caller for which a
 * short read is corruption (O_DIRECT flash records) must check result == len. A negative
 * offset completes with -EINVAL (through the callback, like every other error).
 *
 * Threading: every call is made by the thread that created the engine (the main
 * thread); callbacks run only inside ioEngineProcessCompletions()/ioEngineDrain() on
 * that thread. A callback may queue new requests; it must not release the engine.
 *
 * Fork: a fork child never uses the engine (the ring is MADV_DONTFORK, the workers do not
 * exist there); it reads the file with pread(). It may call ioEngineRelease(), which then
 * only frees memory. ioEngineSubmit() in a child aborts.
 *
 * Environment (test hook): VALKEY_IO_ENGINE=threads makes io_uring look unavailable, so
 * AUTO falls back to the threads exactly as under a seccomp filter, and URING fails.
 */
#ifndef IO_ENGINE_H
#define IO_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IO_ENGINE_ALIGN 4096

typedef struct ioEngine ioEngine;

/* Called on the main thread when a request finishes: result is the byte count
 * transferred, or -errno. */
typedef void ioCompletionProc(void *privdata, ssize_t result);

typedef enum { IO_ENGINE_AUTO = 0, IO_ENGINE_URING, IO_ENGINE_THREADS } ioEngineKind;

/* depth (1..32768) bounds the requests queued + in flight. Returns NULL with *err set on
 * failure (a static message, valid until the next call). AUTO tries io_uring, then the
 * threads. */
ioEngine *ioEngineCreate(ioEngineKind kind, unsigned depth, const char **err);
/* Waits for submitted requests (the kernel may still be using their buffers) without
 * running callbacks; queued requests that were never submitted are dropped. */
void ioEngineRelease(ioEngine *e);
const char *ioEngineName(const ioEngine *e); /* "io_uring" or "threads" */
/* Why AUTO did not get io_uring (for the log), or NULL if it did / was not asked to. */
const char *ioEngineFallbackReason(const ioEngine *e);

/* Registers with the kernel one buffer region (from ioEngineAllocBuffer) that most
 * transfers use, so requests inside it skip pinning its pages one by one. 0 on success;
 * -1 for the thread back-end, under a low RLIMIT_MEMLOCK, or if a region is already
 * registered, and requests behave the same either way. Unregister before freeing it.
 * (Files are not registered: a ring torn down after a crash would keep the flash file,
 * and its lock, open for a while after the process is gone.) */
int ioEngineRegisterBuffer(ioEngine *e, void *buf, size_t len);
void ioEngineUnregisterBuffer(ioEngine *e);

/* The fd that becomes readable when completions are ready (register it with ae; its
 * handler calls ioEngineProcessCompletions, which also clears it). */
int ioEngineEventFd(const ioEngine *e);

/* Queue a request; 0 on success, -1 when depth requests are already queued or in flight
 * (ioEngineSubmit, then retry after completions). Never allocates. */
int ioEngineRead(ioEngine *e, int fd, void *buf, size_t len, off_t offset, ioCompletionProc *done, void *privdata);
int ioEngineWrite(ioEngine *e, int fd, const void *buf, size_t len, off_t offset, ioCompletionProc *done,
                  void *privdata);
/* Flushes file data to stable storage (fdatasync semantics), asynchronously. */
int ioEngineFsync(ioEngine *e, int fd, ioCompletionProc *done, void *privdata);

/* Hands queued requests to the kernel (or the threads). Returns how many. */
int ioEngineSubmit(ioEngine *e);
/* Runs the callbacks of at most `max` finished requests (0: no limit); returns how many
 * ran. Non-blocking. Completions left for later keep the eventfd readable, so an event
 * loop comes back for them without sleeping. */
unsigned ioEngineProcessCompletions(ioEngine *e, unsigned max);
/* How many finished requests wait for ioEngineProcessCompletions (no system call). */
unsigned ioEngineCompletionsReady(ioEngine *e);
/* Blocks until every in-flight request has completed and its callback has run. */
void ioEngineDrain(ioEngine *e);

unsigned ioEngineInFlight(const ioEngine *e);
unsigned ioEngineQueued(const ioEngine *e);

/* IO_ENGINE_ALIGN-aligned memory counted in used_memory, rounded up to whole blocks.
 * Free only with ioEngineFreeBuffer (NULL is fine). */
void *ioEngineAllocBuffer(size_t len);
void ioEngineFreeBuffer(void *buf);

#endif
