/* zmalloc.c -- allocation wrappers with exact used-memory accounting.
 *
 * Each wrapper asks the allocator for the block, then for how big the block really is,
 * and adds that to a relaxed atomic counter; frees subtract the same figure. Blocks come
 * from the portable malloc family (even with jemalloc) so that a sanitizer, which
 * intercepts exactly that family, sees every block. The size is malloc_usable_size(),
 * except that with jemalloc two of its calls save a pointer lookup each: nallocx() gives a
 * new block's size from the size asked for, and sdallocx() frees a block of known size.
 * The statistics helpers at the bottom read /proc and, with jemalloc, mallctl. */
#define _GNU_SOURCE
#include "zmalloc.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(USE_JEMALLOC)
/* jemalloc's non-standard API (Debian builds it without a symbol prefix). */
size_t nallocx(size_t size, int flags);
void sdallocx(void *ptr, size_t size, int flags);
#else
#include <malloc.h>
#endif

/* Field 24 of /proc/<pid>/stat is the resident set size in pages. */
#define PROC_STAT_RSS_FIELD 24
#define PROC_STAT_BUF_SIZE 4096
#define SMAPS_LINE_SIZE 1024
#define KILOBYTE 1024

static _Atomic size_t used_memory = 0;

static void defaultOomHandler(size_t size) {
    fprintf(stderr, "zmalloc: Out of memory trying to allocate %zu bytes\n", size);
    fflush(stderr);
    abort();
}

static void (*oom_handler)(size_t) = defaultOomHandler;

void zmalloc_set_oom_handler(void (*handler)(size_t)) {
    oom_handler = handler ? handler : defaultOomHandler;
}

static inline void accountAlloc(size_t n) {
    atomic_fetch_add_explicit(&used_memory, n, memory_order_relaxed);
}

static inline void accountFree(size_t n) {
    atomic_fetch_sub_explicit(&used_memory, n, memory_order_relaxed);
}

size_t zmalloc_usable_size(void *ptr) {
    return ptr ? malloc_usable_size(ptr) : 0;
}

size_t zmalloc_used_memory(void) {
    return atomic_load_explicit(&used_memory, memory_order_relaxed);
}

/* Accounts a fresh block and reports its usable size; NULL passes through. */
static void *trackNew(void *ptr, size_t *usable) {
    size_t n = 0;
    if (ptr) {
        n = malloc_usable_size(ptr);
        accountAlloc(n);
    }
    if (usable) *usable = n;
    return ptr;
}

/* The same for a block of `size` bytes just returned by malloc, calloc or realloc. */
static void *trackNewSized(void *ptr, size_t size, size_t *usable) {
#if defined(USE_JEMALLOC)
    size_t n = 0;
    if (ptr) {
        n = nallocx(size ? size : 1, 0); /* the size class malloc(size) took */
        accountAlloc(n);
    }
    if (usable) *usable = n;
    return ptr;
#else
    (void)size;
    return trackNew(ptr, usable);
#endif
}

static void *tryMallocUsable(size_t size, size_t *usable) {
    return trackNewSized(malloc(size), size, usable);
}

static void *tryCallocUsable(size_t size, size_t *usable) {
    return trackNewSized(calloc(1, size), size, usable);
}

/* realloc(ptr, 0) is given free() semantics here, so the result never depends on how
 * the C library treats a zero size. On failure ptr is left intact and accounted. */
static void *tryReallocUsable(void *ptr, size_t size, size_t *usable) {
    if (ptr == NULL) return tryMallocUsable(size, usable);
    if (size == 0) {
        zfree(ptr);
        if (usable) *usable = 0;
        return NULL;
    }
    size_t old = malloc_usable_size(ptr);
    void *np = realloc(ptr, size);
    if (np == NULL) {
        if (usable) *usable = 0;
        return NULL;
    }
    accountFree(old);
    return trackNewSized(np, size, usable);
}

static void *orDie(void *ptr, size_t size) {
    if (ptr == NULL) oom_handler(size);
    return ptr;
}

void *ztrymalloc(size_t size) { return tryMallocUsable(size, NULL); }
void *ztrycalloc(size_t size) { return tryCallocUsable(size, NULL); }
void *ztryrealloc(void *ptr, size_t size) { return tryReallocUsable(ptr, size, NULL); }

void *zmalloc(size_t size) { return orDie(tryMallocUsable(size, NULL), size); }
void *zcalloc(size_t size) { return orDie(tryCallocUsable(size, NULL), size); }

void *zmalloc_usable(size_t size, size_t *usable) {
    return orDie(tryMallocUsable(size, usable), size);
}

void *zcalloc_usable(size_t size, size_t *usable) {
    return orDie(tryCallocUsable(size, usable), size);
}

void *zrealloc_usable(void *ptr, size_t size, size_t *usable) {
    void *np = tryReallocUsable(ptr, size, usable);
    if (np == NULL && size != 0) oom_handler(size);
    return np;
}

void *zrealloc(void *ptr, size_t size) { return zrealloc_usable(ptr, size, NULL); }

void zfree_usable(void *ptr, size_t *usable) {
    size_t n = 0;
    if (ptr) {
        n = malloc_usable_size(ptr);
        accountFree(n);
#if defined(USE_JEMALLOC)
        sdallocx(ptr, n, 0);
#else
        free(ptr);
#endif
    }
    if (usable) *usable = n;
}

void zfree(void *ptr) { zfree_usable(ptr, NULL); }

void *zmalloc_aligned(size_t alignment, size_t size) {
    void *ptr = NULL;
    if (posix_memalign(&ptr, alignment, size) != 0) ptr = NULL;
    return orDie(trackNew(ptr, NULL), size);
}

void zlibc_free(void *ptr) { free(ptr); }

char *zstrdup(const char *s) {
    size_t len = strlen(s) + 1;
    char *copy = zmalloc(len);
    memcpy(copy, s, len);
    return copy;
}

/* ---------------------------------------------------------------- process statistics */

static size_t pageSize(void) {
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t)ps : 4096;
}

size_t zmalloc_get_rss(void) {
    char buf[PROC_STAT_BUF_SIZE];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd == -1) return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';

    /* The command name (field 2) is in parentheses and may contain spaces, so count the
     * fields from the last ')' which closes it; the next field is number 3. */
    char *p = strrchr(buf, ')');
    if (p == NULL) return 0;
    int field = 2;
    while (*p && field < PROC_STAT_RSS_FIELD) {
        if (*p == ' ') field++;
        p++;
    }
    if (field != PROC_STAT_RSS_FIELD) return 0;
    long long pages = strtoll(p, NULL, 10);
    return pages > 0 ? (size_t)pages * pageSize() : 0;
}

size_t zmalloc_get_smap_bytes_by_field(char *field, long pid) {
    char path[64];
    if (pid == -1)
        snprintf(path, sizeof(path), "/proc/self/smaps");
    else
        snprintf(path, sizeof(path), "/proc/%ld/smaps", pid);
    FILE *fp = fopen(path, "re");
    if (fp == NULL) return 0;

    size_t flen = strlen(field);
    size_t total = 0;
    char line[SMAPS_LINE_SIZE];
    while (fgets(line, sizeof(line), fp) != NULL) {
        if (strncmp(line, field, flen) != 0) continue;
        char *end = strchr(line, 'k'); /* values are printed as "<n> kB" */
        if (end == NULL) continue;
        *end = '\0';
        total += strtoull(line + flen, NULL, 10) * KILOBYTE;
    }
    fclose(fp);
    return total;
}

size_t zmalloc_get_private_dirty(long pid) {
    return zmalloc_get_smap_bytes_by_field("Private_Dirty:", pid);
}

size_t zmalloc_get_memory_size(void) {
    long pages = sysconf(_SC_PHYS_PAGES);
    if (pages <= 0) return 0;
    return (size_t)pages * pageSize();
}

/* -------------------------------------------------------------- allocator statistics */

#if defined(USE_JEMALLOC)

/* "arenas all" index used by jemalloc's mallctl names; stringified for the name. */
#define ARENAS_ALL_STR ZM_STRINGIFY(MALLCTL_ARENAS_ALL)

static size_t ctlSize(const char *name) {
    size_t v = 0, sz = sizeof(v);
    if (mallctl(name, &v, &sz, NULL, 0) != 0) return 0;
    return v;
}

static uint32_t ctlU32(const char *name) {
    uint32_t v = 0;
    size_t sz = sizeof(v);
    if (mallctl(name, &v, &sz, NULL, 0) != 0) return 0;
    return v;
}

/* Bytes sitting free inside small-bin slabs that are in use: slots that could hold an
 * allocation but do not. This is the fragmentation that defragmentation can recover. */
static size_t smallBinsFreeBytes(void) {
    unsigned nbins = 0;
    size_t sz = sizeof(nbins);
    if (mallctl("arenas.nbins", &nbins, &sz, NULL, 0) != 0) return 0;
    size_t total = 0;
    char name[128];
    for (unsigned i = 0; i < nbins; i++) {
        snprintf(name, sizeof(name), "arenas.bin.%u.size", i);
        size_t reg_size = ctlSize(name);
        snprintf(name, sizeof(name), "arenas.bin.%u.nregs", i);
        uint32_t nregs = ctlU32(name);
        snprintf(name, sizeof(name), "stats.arenas." ARENAS_ALL_STR ".bins.%u.curslabs", i);
        size_t curslabs = ctlSize(name);
        snprintf(name, sizeof(name), "stats.arenas." ARENAS_ALL_STR ".bins.%u.curregs", i);
        size_t curregs = ctlSize(name);
        size_t capacity = curslabs * nregs;
        if (capacity > curregs) total += (capacity - curregs) * reg_size;
    }
    return total;
}

int zmalloc_get_allocator_info(size_t *allocated, size_t *active, size_t *resident,
                               size_t *retained, size_t *muzzy, size_t *frag_smallbins_bytes) {
    /* Writing the epoch makes jemalloc refresh its cached statistics. */
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz);

    *allocated = ctlSize("stats.allocated");
    *active = ctlSize("stats.active");
    *resident = ctlSize("stats.resident");
    *retained = ctlSize("stats.retained");
    *muzzy = ctlSize("stats.arenas." ARENAS_ALL_STR ".pmuzzy") * pageSize();
    *frag_smallbins_bytes = smallBinsFreeBytes();
    return 1;
}

void set_jemalloc_bg_thread(int enable) {
    bool val = enable != 0;
    mallctl("background_thread", NULL, NULL, &val, sizeof(val));
}

int jemalloc_purge(void) {
    /* Return this thread's cached blocks to the arenas first, so they can be purged. */
    mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    if (mallctl("arena." ARENAS_ALL_STR ".purge", NULL, NULL, NULL, 0) == 0) return 0;
    return -1;
}

#else

int zmalloc_get_allocator_info(size_t *allocated, size_t *active, size_t *resident,
                               size_t *retained, size_t *muzzy, size_t *frag_smallbins_bytes) {
    *allocated = *active = *resident = *retained = *muzzy = *frag_smallbins_bytes = 0;
    return 0;
}

void set_jemalloc_bg_thread(int enable) {
    (void)enable;
}

int jemalloc_purge(void) {
    return 0;
}

#endif
