/* hashtable.h -- a generic, memory-lean hash table of pointers.
 *
 * The table stores opaque `void *` entries. An entry carries its own key; the type's
 * entryGetKey callback extracts it (NULL means the entry pointer itself is the key).
 * Used for the keyspace, the expires table, and later for hashes and sets.
 *
 * Buckets are one 64-byte cache line with 7 entry slots; a full bucket can chain to a
 * child bucket. Resizing is incremental (two tables while rehashing). SCAN uses a
 * reverse-binary cursor that survives resizes. See hashtable.c for the full design.
 *
 * Notes on the interface (differences from a plain "dict"):
 *  - hashtablePosition and hashtableIterator are opaque, fixed-size and stack-allocatable.
 *  - The two-phase operations pause incremental rehashing between their two phases:
 *      hashtableFindPositionForInsert() returning 1 MUST be followed by
 *      hashtableInsertAtPosition(); hashtableTwoPhasePopFindRef() returning non-NULL
 *      MUST be followed by hashtableTwoPhasePopDelete(). Do not touch the table in
 *      between (other than reading).
 *  - Iterators (safe and unsafe) pause incremental rehashing from the first
 *    hashtableNext() until hashtableResetIterator(). An unsafe iterator allows lookups
 *    but no insert or delete (checked by a fingerprint, abort on violation). A safe
 *    iterator allows deleting any entry, including the one just returned, and inserting
 *    (a new entry may or may not be returned).
 *  - The scan callback may delete entries (any entry, including the one passed to it),
 *    but must not insert.
 *  - hashtableSampleEntries() returns distinct entries taken from consecutive buckets at
 *    a random place: fast but biased towards runs of neighbouring buckets. It may return
 *    fewer than asked when the table holds fewer or is very sparse (it stops after about
 *    10 buckets per wanted entry once it has found one).
 *  - hashtableFindPositionForInsert() takes a const key.
 *  - Additions: hashtableRehashingInfo() (bucket counts of the two tables during a rehash,
 *    for memory-overhead reporting), hashtableIsRehashingPaused(),
 *    hashtableShrinkIfNeeded() and hashtableExpandIfNeeded() (for a resize cron).
 */
#ifndef HASHTABLE_H
#define HASHTABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct hashtable hashtable;

typedef struct {
    /* Hash of a key. Typically hashtableGenHashFunction() over the key's bytes. */
    uint64_t (*hashFunction)(const void *key);
    /* Returns the key stored in an entry. NULL: the entry is its own key. */
    const void *(*entryGetKey)(const void *entry);
    /* Returns 0 when the keys are equal. NULL: compare key pointers. */
    int (*keyCompare)(const void *key1, const void *key2);
    /* Frees an entry; called by Delete, Empty and Release (not by Pop). Optional. */
    void (*entryDestructor)(void *entry);
    /* Optional veto on a resize that would allocate more_mem bytes at the given fill
     * (entries per slot). Return 0 to refuse, e.g. while a fork child is alive. A refused
     * resize still happens when the fill reaches a hard limit. */
    int (*resizeAllowed)(size_t more_mem, double fill_factor);
    /* Optional notifications, e.g. to keep a list of tables to rehash from a cron. */
    void (*rehashingStarted)(hashtable *ht);
    void (*rehashingCompleted)(hashtable *ht);
    /* Optional: bytes of zero-initialised per-table metadata (see hashtableMetadata). */
    size_t (*getMetadataSize)(void);
} hashtableType;

/* Where an insert will go or which entry a two-phase pop will remove. Opaque. */
typedef struct {
    uint64_t opaque[3];
} hashtablePosition;

/* Iterator state; opaque but may live on the stack. */
typedef struct {
    uint64_t opaque[8];
} hashtableIterator;

typedef void (*hashtableScanFunction)(void *privdata, void *entry);

/* Life cycle */
hashtable *hashtableCreate(hashtableType *type);
void hashtableRelease(hashtable *ht);
/* Deletes every entry (destructor called). For a big table, callback (if not NULL) is
 * called every so many buckets, e.g. to keep serving events during a long flush. */
void hashtableEmpty(hashtable *ht, void (*callback)(hashtable *));
hashtableType *hashtableGetType(hashtable *ht);
void *hashtableMetadata(hashtable *ht);

/* Sizes */
size_t hashtableSize(const hashtable *ht);
size_t hashtableBuckets(hashtable *ht);      /* top-level buckets in both tables */
size_t hashtableMemUsage(hashtable *ht);     /* bytes allocated by the table itself */
void hashtableRehashingInfo(hashtable *ht, size_t *from_buckets, size_t *to_buckets);

/* Resizing */
void hashtablePauseAutoShrink(hashtable *ht);
void hashtableResumeAutoShrink(hashtable *ht); /* may shrink right away */
int hashtableIsRehashing(hashtable *ht);
int hashtableIsRehashingPaused(hashtable *ht);
void hashtableRehashMicroseconds(hashtable *ht, uint64_t us);
/* For a cron: start a resize the fill calls for (after resizeAllowed() vetoes, or when
 * deletes happened while rehashing was paused). 1 if one started. */
int hashtableShrinkIfNeeded(hashtable *ht);
int hashtableExpandIfNeeded(hashtable *ht);
int hashtableExpand(hashtable *ht, size_t size);    /* 1 ok, 0 not needed or refused */
int hashtableTryExpand(hashtable *ht, size_t size); /* like Expand; 0 on OOM too */

/* Lookup */
int hashtableFind(hashtable *ht, const void *key, void **found); /* 1 if found */
/* Pointer to the slot holding the entry, or NULL. The caller may store a reallocated
 * entry with the same key there. Valid until the next modification of the table. */
void **hashtableFindRef(hashtable *ht, const void *key);

/* Insert */
int hashtableAdd(hashtable *ht, void *entry); /* 0 if the key exists (nothing done) */
/* 1: added. 0: the key exists, *existing (if not NULL) set to that entry. */
int hashtableAddOrFind(hashtable *ht, void *entry, void **existing);
/* 1: the key is absent, position filled (then call hashtableInsertAtPosition with an
 * entry having this key). 0: present, *existing (if not NULL) set. */
int hashtableFindPositionForInsert(hashtable *ht, const void *key, hashtablePosition *position,
                                   void **existing);
void hashtableInsertAtPosition(hashtable *ht, void *entry, hashtablePosition *position);

/* Delete */
int hashtableDelete(hashtable *ht, const void *key); /* destructor called; 1 if deleted */
int hashtablePop(hashtable *ht, const void *key, void **popped); /* no destructor */
/* Returns the slot of the entry (or NULL) and remembers it in position. */
void **hashtableTwoPhasePopFindRef(hashtable *ht, const void *key, hashtablePosition *position);
/* Removes that entry without calling the destructor. */
void hashtableTwoPhasePopDelete(hashtable *ht, hashtablePosition *position);
/* Finds old_entry (by its key, then by pointer) and puts new_entry in its slot.
 * 1 if replaced. new_entry must have the same key. */
int hashtableReplaceReallocatedEntry(hashtable *ht, const void *old_entry, void *new_entry);

/* Scan: start with cursor 0, continue with the returned cursor until it is 0. Every entry
 * present during the whole scan is returned at least once; some may be returned twice. */
size_t hashtableScan(hashtable *ht, size_t cursor, hashtableScanFunction fn, void *privdata);

/* Random */
int hashtableFairRandomEntry(hashtable *ht, void **found); /* 0 if empty */
int hashtableRandomEntry(hashtable *ht, void **found);     /* cheaper, less fair */
unsigned hashtableSampleEntries(hashtable *ht, void **dst, unsigned count);

/* Iteration */
void hashtableInitIterator(hashtableIterator *iter, hashtable *ht);
void hashtableInitSafeIterator(hashtableIterator *iter, hashtable *ht);
int hashtableNext(hashtableIterator *iter, void **elemptr); /* 0 at the end */
void hashtableResetIterator(hashtableIterator *iter);
hashtableIterator *hashtableCreateIterator(hashtable *ht);
hashtableIterator *hashtableCreateSafeIterator(hashtable *ht);
void hashtableReleaseIterator(hashtableIterator *iter);

/* Statistics: human-readable text for DEBUG HTSTATS. full adds a chain-length histogram. */
void hashtableGetStats(char *buf, size_t len, hashtable *ht, int full);

/* Process-wide hash seed (16 bytes) and the seeded SipHash helpers. */
void hashtableSetHashFunctionSeed(const uint8_t *seed);
uint8_t *hashtableGetHashFunctionSeed(void);
uint64_t hashtableGenHashFunction(const char *buf, size_t len);
uint64_t hashtableGenCaseHashFunction(const char *buf, size_t len); /* ASCII case-folded */

#endif
