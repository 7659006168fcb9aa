/* zmalloc.h -- the one allocation interface of the server.
 *
 * Every heap allocation made on behalf of the data set goes through these calls so that
 * zmalloc_used_memory() is exact: it is the sum of the allocator's usable sizes of all
 * live blocks. Built on jemalloc when USE_JEMALLOC is defined, otherwise on glibc malloc.
 * The counter is a relaxed atomic, so background threads may allocate and free too. */
#ifndef ZMALLOC_H
#define ZMALLOC_H

#include <stddef.h>

#define ZM_STRINGIFY_(x) #x
#define ZM_STRINGIFY(x) ZM_STRINGIFY_(x)

#if defined(USE_JEMALLOC)
#include <jemalloc/jemalloc.h>
#define ZMALLOC_LIB                                                                        \
    "jemalloc-" ZM_STRINGIFY(JEMALLOC_VERSION_MAJOR) "." ZM_STRINGIFY(                      \
        JEMALLOC_VERSION_MINOR) "." ZM_STRINGIFY(JEMALLOC_VERSION_BUGFIX)
#else
#define ZMALLOC_LIB "libc"
#endif

/* Aborting variants: on failure they call the OOM handler, which by default aborts. */
void *zmalloc(size_t size);
void *zcalloc(size_t size);
void *zrealloc(void *ptr, size_t size);
char *zstrdup(const char *s);

/* Trying variants: return NULL on failure instead of calling the OOM handler.
 * ztryrealloc leaves ptr untouched (still owned by the caller) when it fails. */
void *ztrymalloc(size_t size);
void *ztrycalloc(size_t size);
void *ztryrealloc(void *ptr, size_t size);

/* size bytes aligned to alignment (a power of two, multiple of sizeof(void *)), for
 * O_DIRECT buffers; counted like any block, freed with zfree. */
void *zmalloc_aligned(size_t alignment, size_t size);
/* Like zmalloc, also reporting the usable size of the block (may exceed size). */
void *zmalloc_usable(size_t size, size_t *usable);
void *zcalloc_usable(size_t size, size_t *usable);
void *zrealloc_usable(void *ptr, size_t size, size_t *usable);

void zfree(void *ptr); /* NULL is fine */
void zfree_usable(void *ptr, size_t *usable);

/* Frees memory that the C library allocated directly (e.g. backtrace_symbols()),
 * bypassing the accounting. */
void zlibc_free(void *ptr);

size_t zmalloc_usable_size(void *ptr);
size_t zmalloc_used_memory(void);
void zmalloc_set_oom_handler(void (*handler)(size_t));

/* Process and allocator statistics. */
size_t zmalloc_get_rss(void);
int zmalloc_get_allocator_info(size_t *allocated, size_t *active, size_t *resident,
                               size_t *retained, size_t *muzzy, size_t *frag_smallbins_bytes);
void set_jemalloc_bg_thread(int enable);
int jemalloc_purge(void);
size_t zmalloc_get_private_dirty(long pid);
size_t zmalloc_get_smap_bytes_by_field(char *field, long pid);
size_t zmalloc_get_memory_size(void);

#endif
