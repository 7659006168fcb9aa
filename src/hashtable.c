/* hashtable.c -- cache-line bucket hash table with incremental rehashing.
 *
 * Layout
 * ------
 * The table is an array of 2^exp buckets. A bucket is exactly one 64-byte cache line:
 *
 *     byte 0      meta: bits 0..6 say which of the 7 slots hold an entry,
 *                       bit 7 says the bucket is chained
 *     bytes 1..7  one "hash byte" per slot: the top 8 bits of the entry's hash
 *     bytes 8..63 seven 8-byte slots, each an entry pointer
 *
 * A lookup hashes the key once, picks the bucket from the low bits of the hash and
 * compares the key only in slots whose hash byte matches the top byte of the hash, so a
 * miss usually costs one cache line and no key comparison (a false match is 1 in 256).
 *
 * When every slot of a bucket is taken, the entry in its last slot moves to a newly
 * allocated child bucket and the last slot becomes the pointer to that child: the bucket
 * is "chained" and keeps 6 entries, the child takes 7 (or 6 and a further child). Chains
 * let the table run above 100% of its top-level slots, which is what makes it lean.
 *
 * Virtual positions. Inside one chain, slot j of the k-th bucket has position 6k + j.
 * Chaining moves the last slot (position 6k + 6) to slot 0 of the new child, which is
 * position 6(k+1) + 0: the same number. Iterators and scans walk a chain by position, so
 * an insert that grows a chain under an iterator never makes it see an entry twice.
 *
 * Fill factor
 * -----------
 * fill = entries / (buckets * 7). The table grows when an insert would take the fill above
 * MAX_FILL_PERCENT (120%) and shrinks when a delete leaves it below MIN_FILL_PERCENT (13%).
 * The new size is the smallest power of two that keeps the fill at or below 120%, so a
 * grow doubles the table and the fill oscillates between 60% and 120%.
 * Why 120: with hashed keys the number of entries per bucket is close to Poisson. Counting
 * the child buckets that this needs, the cost per entry (all buckets * 64 / entries) is:
 *
 *     max fill  bytes/entry: average  worst  just before a grow   cache lines per miss
 *       90%                   16.0     20.6    13.2                  1.11 avg, 1.30 max
 *      100%                   15.0     18.8    12.9                  1.16 avg, 1.41 max
 *      120%                   13.8     16.2    12.6                  1.29 avg, 1.65 max
 *      150%                   12.9     14.2    12.2                  1.51 avg, 2.00 max
 *
 * (averages over table sizes spread evenly on a log scale). 120% buys about 1.2 bytes per
 * entry over 100% for an extra 0.13 cache lines per miss, and puts one million entries in
 * 2^17 buckets (fill 109%) instead of 2^18 (55%): about 12.7 instead of 16.8 bytes/entry.
 * When the type's resizeAllowed() vetoes a resize (e.g. while a fork child shares the
 * pages), the table keeps going on chains up to 500% fill and then grows regardless; a
 * veto on shrinking holds until the fill falls under 3%.
 *
 * Deleting from a chain compacts it: when the entries of the last bucket fit in the holes
 * of the buckets before it, they move up and the last bucket is freed, so a chain is never
 * longer than its entries need. While rehashing is paused (iterators, scan callbacks,
 * two-phase operations) entries must not move, so compaction is deferred: the chain is
 * remembered and compacted when the pause ends.
 *
 * Incremental rehashing
 * ---------------------
 * A resize allocates a second table; rehash_idx is the next bucket of the old table to
 * move. Every lookup, insert and delete first moves one non-empty bucket (with its chain),
 * skipping at most a few empty ones, and the server cron can spend a time budget with
 * hashtableRehashMicroseconds(). New entries go to the new table; lookups search the old
 * table (only if the key's bucket has not moved yet) and then the new one. Moving to a
 * smaller table needs no hashing (new index = old index & new mask); moving to a larger
 * one recomputes each entry's hash. The hash byte is kept as is. An empty table is
 * replaced at once instead of being rehashed.
 *
 * SCAN guarantee
 * --------------
 * The cursor is a bucket index whose bits are incremented from the most significant end
 * of the mask downwards (reverse binary increment). With 2^k buckets, a bucket of a table
 * of 2^(k+d) buckets whose index has the same low k bits holds exactly the entries that
 * bucket i of the small table would hold, and in reverse order those indices are
 * consecutive. So: a call visits one bucket of the smaller table and all buckets of the
 * larger table that expand it, and returns the next cursor in the reverse order. Indices
 * already visited (at any table size) are a prefix in reverse order; if the table grows,
 * the expansions of visited buckets are still all before the cursor, and if it shrinks,
 * a small bucket before the cursor contains only large buckets before it (some buckets may
 * then be visited twice, never skipped). An entry present during the whole scan is
 * therefore seen at least once, whatever resizes happen between calls. Within one call,
 * rehashing is paused, and each visited bucket is handed over whole, chain included.
 *
 * Random entries
 * --------------
 * Fair: pick a bucket uniformly (in both tables) and a virtual position uniformly below
 * the capacity of the longest chain the tables have ever had; if an entry is there, it is
 * the answer, otherwise retry. Every entry occupies exactly one (bucket, position) pair,
 * so each is returned with the same probability. Sampling walks consecutive buckets from
 * a random one and takes what it finds: fast, distinct, but clustered.
 */
#include "hashtable.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "siphash.h"
#include "zmalloc.h"

/* ---------------------------------------------------------------------------------------
 * Constants and bucket layout
 * ------------------------------------------------------------------------------------- */

#define BUCKET_SLOTS 7
#define CHILD_SLOT (BUCKET_SLOTS - 1)           /* slot that turns into the child pointer */
#define PRESENCE_MASK ((1u << BUCKET_SLOTS) - 1)
#define CHAINED_FLAG 0x80u
#define NEED_CHILD BUCKET_SLOTS                 /* insert slot meaning "chain a new child" */

#define MAX_FILL_PERCENT 120      /* grow above this */
#define HARD_MAX_FILL_PERCENT 500 /* grow even against resizeAllowed() */
#define MIN_FILL_PERCENT 13       /* shrink below this */
#define HARD_MIN_FILL_PERCENT 3   /* shrink even against resizeAllowed() */
#define MAX_EXP 56                /* 2^56 buckets: far beyond any memory */

#define REHASH_EMPTY_VISITS 10      /* empty buckets one rehash step may skip */
#define REHASH_STEPS_PER_CLOCK 128  /* steps between two clock reads */
#define EMPTY_CALLBACK_BUCKETS 65536 /* hashtableEmpty calls back after this many buckets */
#define FAIR_RANDOM_TRIES 100
#define WEAK_RANDOM_SAMPLES 16
#define SAMPLE_STEPS_PER_ENTRY 10 /* sampling gives up after count * this buckets */

typedef struct bucket {
    uint8_t meta;
    uint8_t hash_bytes[BUCKET_SLOTS];
    void *slots[BUCKET_SLOTS];
} bucket;

static_assert(sizeof(bucket) == 64, "a bucket is one cache line");

struct hashtable {
    hashtableType *type;
    bucket *tables[2];       /* [1] only while rehashing */
    size_t used[2];          /* entries per table */
    size_t child_buckets[2]; /* chained buckets allocated per table */
    ssize_t rehash_idx;      /* next bucket of tables[0] to move; -1 when not rehashing */
    uint32_t max_chain[2];   /* longest chain (in buckets) each table has had */
    int8_t exp[2];           /* log2 of the bucket count; -1 when there is no table */
    int16_t pause_rehash;    /* > 0: entries must stay where they are */
    int16_t pause_shrink;
    int8_t removed_while_paused; /* a delete while rehashing was paused: shrink on resume */
    size_t *deferred;        /* chains to compact when rehashing resumes: table bit 63 | index */
    size_t deferred_len, deferred_cap;
    uint64_t metadata[];     /* type->getMetadataSize() bytes, zeroed */
};

#define DEFERRED_TABLE_BIT ((size_t)1 << 63)

/* Where an entry is (or goes): what hashtablePosition holds. */
typedef struct {
    bucket *b;
    size_t index; /* head bucket of the chain */
    uint8_t table;
    uint8_t slot;
    uint8_t hash_byte;
} location;

static_assert(sizeof(location) <= sizeof(hashtablePosition), "position too small");

typedef struct {
    hashtable *ht;
    size_t index;  /* head bucket in the current table */
    size_t vpos;   /* next virtual position in that chain */
    uint64_t fingerprint;
    int8_t table;
    uint8_t safe;
    uint8_t started;
} iteratorState;

static_assert(sizeof(iteratorState) <= sizeof(hashtableIterator), "iterator too small");

static uint8_t hash_seed[16];

/* ---------------------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------------------- */

static inline size_t numBuckets(int8_t exp) { return exp < 0 ? 0 : (size_t)1 << exp; }
static inline size_t bucketMask(int8_t exp) { return exp < 0 ? 0 : ((size_t)1 << exp) - 1; }
static inline uint8_t hashByte(uint64_t hash) { return (uint8_t)(hash >> 56); }
static inline int isChained(const bucket *b) { return (b->meta & CHAINED_FLAG) != 0; }
static inline unsigned presence(const bucket *b) { return b->meta & PRESENCE_MASK; }
static inline bucket *childOf(const bucket *b) { return (bucket *)b->slots[CHILD_SLOT]; }
static inline unsigned usableSlots(const bucket *b) {
    return isChained(b) ? PRESENCE_MASK & ~(1u << CHILD_SLOT) : PRESENCE_MASK;
}
static inline size_t chainCapacity(uint32_t buckets) { return (size_t)CHILD_SLOT * buckets + 1; }

static inline int isRehashing(const hashtable *ht) { return ht->rehash_idx != -1; }

static inline const void *entryKey(hashtable *ht, const void *entry) {
    return ht->type->entryGetKey ? ht->type->entryGetKey(entry) : entry;
}

static inline int keysEqual(hashtable *ht, const void *a, const void *b) {
    return ht->type->keyCompare ? ht->type->keyCompare(a, b) == 0 : a == b;
}

/* Finaliser of a 64-bit mix, for pointer keys and fingerprints. */
static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline uint64_t hashKey(hashtable *ht, const void *key) {
    if (ht->type->hashFunction) return ht->type->hashFunction(key);
    return mix64((uint64_t)(uintptr_t)key);
}

static uint64_t random64(void) {
    return ((uint64_t)random() << 33) ^ ((uint64_t)random() << 11) ^ (uint64_t)random();
}

static uint64_t monotonicMicros(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void fatal(const char *msg) {
    fprintf(stderr, "hashtable: %s\n", msg);
    abort();
}

/* 1 if n entries fit in table t's top-level slots at the given percentage. */
static int fitsAtPercent(size_t n, int8_t exp, unsigned percent) {
    if (exp < 0) return n == 0;
    size_t slots = numBuckets(exp) * BUCKET_SLOTS;
    return (unsigned __int128)n * 100 <= (unsigned __int128)slots * percent;
}

/* Smallest exponent whose table holds n entries at no more than MAX_FILL_PERCENT;
 * -1 if no sane table does. */
static int8_t expForEntries(size_t n) {
    for (int8_t e = 0; e <= MAX_EXP; e++)
        if (fitsAtPercent(n, e, MAX_FILL_PERCENT)) return e;
    return -1;
}

/* Virtual position vpos of the chain at head: its bucket and slot. 0 past the end. */
static int chainSlot(bucket *head, size_t vpos, bucket **b_out, unsigned *slot_out) {
    bucket *b = head;
    while (vpos >= CHILD_SLOT && isChained(b)) {
        vpos -= CHILD_SLOT;
        b = childOf(b);
    }
    if (vpos >= BUCKET_SLOTS) return 0;
    *b_out = b;
    *slot_out = (unsigned)vpos;
    return 1;
}

static uint32_t chainLength(const bucket *head) {
    uint32_t n = 1;
    for (const bucket *b = head; isChained(b); b = childOf(b)) n++;
    return n;
}

/* ---------------------------------------------------------------------------------------
 * Placing, finding and removing entries
 * ------------------------------------------------------------------------------------- */

/* First free slot in the chain of table t at idx; NEED_CHILD on the last bucket if full. */
static void findFreeSlot(hashtable *ht, int t, size_t idx, bucket **b_out, unsigned *slot_out) {
    bucket *b = &ht->tables[t][idx];
    for (;;) {
        unsigned free_bits = usableSlots(b) & ~presence(b);
        if (free_bits) {
            *b_out = b;
            *slot_out = (unsigned)__builtin_ctz(free_bits);
            return;
        }
        if (!isChained(b)) {
            *b_out = b;
            *slot_out = NEED_CHILD;
            return;
        }
        b = childOf(b);
    }
}

/* Chains a new child to the full last bucket b of table t's chain at idx: b's last entry
 * moves to the child's slot 0. Returns the child, whose slot 1 is free. */
static bucket *attachChild(hashtable *ht, int t, size_t idx, bucket *b) {
    bucket *child = zcalloc(sizeof(bucket));
    child->slots[0] = b->slots[CHILD_SLOT];
    child->hash_bytes[0] = b->hash_bytes[CHILD_SLOT];
    child->meta = 1u;
    b->slots[CHILD_SLOT] = child;
    b->hash_bytes[CHILD_SLOT] = 0;
    b->meta = (uint8_t)((b->meta & ~(1u << CHILD_SLOT)) | CHAINED_FLAG);
    ht->child_buckets[t]++;
    uint32_t len = chainLength(&ht->tables[t][idx]);
    if (len > ht->max_chain[t]) ht->max_chain[t] = len;
    return child;
}

static void fillSlot(hashtable *ht, int t, bucket *b, unsigned slot, uint8_t hb, void *entry) {
    b->slots[slot] = entry;
    b->hash_bytes[slot] = hb;
    b->meta |= (uint8_t)(1u << slot);
    ht->used[t]++;
}

/* Stores a new entry (whose key is known to be absent) in table t's chain at idx. */
static void placeEntry(hashtable *ht, int t, size_t idx, uint8_t hb, void *entry) {
    bucket *b;
    unsigned slot;
    findFreeSlot(ht, t, idx, &b, &slot);
    if (slot == NEED_CHILD) {
        b = attachChild(ht, t, idx, b);
        slot = 1;
    }
    fillSlot(ht, t, b, slot, hb, entry);
}

/* Searches both tables for key. Fills loc and returns 1 when found. */
static int locate(hashtable *ht, const void *key, uint64_t hash, location *loc) {
    uint8_t hb = hashByte(hash);
    for (int t = 0; t <= 1; t++) {
        if (ht->exp[t] < 0) continue;
        size_t idx = hash & bucketMask(ht->exp[t]);
        if (t == 0 && isRehashing(ht) && idx < (size_t)ht->rehash_idx) continue;
        for (bucket *b = &ht->tables[t][idx]; b; b = isChained(b) ? childOf(b) : NULL) {
            unsigned bits = presence(b);
            while (bits) {
                unsigned i = (unsigned)__builtin_ctz(bits);
                bits &= bits - 1;
                if (b->hash_bytes[i] != hb) continue;
                if (!keysEqual(ht, key, entryKey(ht, b->slots[i]))) continue;
                loc->b = b;
                loc->index = idx;
                loc->table = (uint8_t)t;
                loc->slot = (uint8_t)i;
                loc->hash_byte = hb;
                return 1;
            }
        }
    }
    return 0;
}

/* Moves entries of the last bucket of the chain into holes of the buckets before it, and
 * frees it, for as long as they fit. */
static void compactChain(hashtable *ht, int t, size_t idx) {
    bucket *head = &ht->tables[t][idx];
    while (isChained(head)) {
        bucket *parent = head;
        unsigned holes = (unsigned)__builtin_popcount(usableSlots(parent) & ~presence(parent));
        while (isChained(childOf(parent))) {
            parent = childOf(parent);
            holes += (unsigned)__builtin_popcount(usableSlots(parent) & ~presence(parent));
        }
        bucket *last = childOf(parent);
        /* Unchaining the parent frees one more slot: its child pointer. */
        if ((unsigned)__builtin_popcount(presence(last)) > holes + 1) return;
        parent->meta &= (uint8_t)~CHAINED_FLAG;
        parent->slots[CHILD_SLOT] = NULL;
        bucket *dst = head;
        unsigned bits = presence(last);
        while (bits) {
            unsigned i = (unsigned)__builtin_ctz(bits);
            bits &= bits - 1;
            unsigned free_bits;
            while (!(free_bits = usableSlots(dst) & ~presence(dst))) dst = childOf(dst);
            unsigned j = (unsigned)__builtin_ctz(free_bits);
            dst->slots[j] = last->slots[i];
            dst->hash_bytes[j] = last->hash_bytes[i];
            dst->meta |= (uint8_t)(1u << j);
        }
        zfree(last);
        ht->child_buckets[t]--;
    }
}

static void deferCompaction(hashtable *ht, int t, size_t idx) {
    size_t item = idx | (t ? DEFERRED_TABLE_BIT : 0);
    if (ht->deferred_len && ht->deferred[ht->deferred_len - 1] == item) return;
    if (ht->deferred_len == ht->deferred_cap) {
        ht->deferred_cap = ht->deferred_cap ? ht->deferred_cap * 2 : 8;
        ht->deferred = zrealloc(ht->deferred, ht->deferred_cap * sizeof(size_t));
    }
    ht->deferred[ht->deferred_len++] = item;
}

static void runDeferredCompactions(hashtable *ht) {
    for (size_t i = 0; i < ht->deferred_len; i++) {
        size_t item = ht->deferred[i];
        compactChain(ht, (item & DEFERRED_TABLE_BIT) ? 1 : 0, item & ~DEFERRED_TABLE_BIT);
    }
    zfree(ht->deferred);
    ht->deferred = NULL;
    ht->deferred_len = ht->deferred_cap = 0;
}

static void shrinkIfNeeded(hashtable *ht);

/* Takes the entry at loc out of the table (no destructor). */
static void removeAt(hashtable *ht, const location *loc) {
    loc->b->meta &= (uint8_t)~(1u << loc->slot);
    loc->b->slots[loc->slot] = NULL;
    ht->used[loc->table]--;
    if (ht->pause_rehash) ht->removed_while_paused = 1;
    if (isChained(&ht->tables[loc->table][loc->index])) {
        if (ht->pause_rehash)
            deferCompaction(ht, loc->table, loc->index);
        else
            compactChain(ht, loc->table, loc->index);
    }
    shrinkIfNeeded(ht);
}

/* ---------------------------------------------------------------------------------------
 * Resizing and rehashing
 * ------------------------------------------------------------------------------------- */

static void freeChains(hashtable *ht, int t, void (*destructor)(void *)) {
    size_t n = numBuckets(ht->exp[t]);
    for (size_t idx = 0; idx < n && (ht->used[t] || ht->child_buckets[t]); idx++) {
        bucket *b = &ht->tables[t][idx];
        while (b) {
            bucket *next = isChained(b) ? childOf(b) : NULL;
            unsigned bits = presence(b);
            while (bits && destructor) {
                unsigned i = (unsigned)__builtin_ctz(bits);
                bits &= bits - 1;
                destructor(b->slots[i]);
            }
            ht->used[t] -= (size_t)__builtin_popcount(presence(b));
            if (b != &ht->tables[t][idx]) {
                zfree(b);
                ht->child_buckets[t]--;
            }
            b = next;
        }
    }
}

static void resetTable(hashtable *ht, int t) {
    ht->tables[t] = NULL;
    ht->exp[t] = -1;
    ht->used[t] = 0;
    ht->child_buckets[t] = 0;
    ht->max_chain[t] = 0;
}

static void completeRehash(hashtable *ht) {
    assert(ht->used[0] == 0 && ht->child_buckets[0] == 0);
    zfree(ht->tables[0]);
    ht->tables[0] = ht->tables[1];
    ht->exp[0] = ht->exp[1];
    ht->used[0] = ht->used[1];
    ht->child_buckets[0] = ht->child_buckets[1];
    ht->max_chain[0] = ht->max_chain[1];
    resetTable(ht, 1);
    ht->rehash_idx = -1;
    if (ht->type->rehashingCompleted) ht->type->rehashingCompleted(ht);
}

/* Moves the chain at rehash_idx of the old table into the new table. */
static void moveBucket(hashtable *ht, size_t idx) {
    bucket *head = &ht->tables[0][idx];
    int need_hash = ht->exp[1] > ht->exp[0];
    size_t mask = bucketMask(ht->exp[1]);
    bucket *b = head;
    while (b) {
        bucket *next = isChained(b) ? childOf(b) : NULL;
        unsigned bits = presence(b);
        while (bits) {
            unsigned i = (unsigned)__builtin_ctz(bits);
            bits &= bits - 1;
            void *entry = b->slots[i];
            size_t dst = need_hash ? hashKey(ht, entryKey(ht, entry)) & mask : idx & mask;
            placeEntry(ht, 1, dst, b->hash_bytes[i], entry);
            ht->used[0]--;
        }
        if (b != head) {
            zfree(b);
            ht->child_buckets[0]--;
        }
        b = next;
    }
    memset(head, 0, sizeof(*head));
}

static void rehashStep(hashtable *ht) {
    size_t n = numBuckets(ht->exp[0]);
    int empty_budget = REHASH_EMPTY_VISITS;
    while ((size_t)ht->rehash_idx < n && ht->used[0] > 0) {
        size_t idx = (size_t)ht->rehash_idx++;
        if (ht->tables[0][idx].meta != 0) {
            moveBucket(ht, idx);
            break;
        }
        if (--empty_budget == 0) break;
    }
    if ((size_t)ht->rehash_idx >= n || ht->used[0] == 0) completeRehash(ht);
}


/* One step of an ongoing rehash. A table that ends up sparse (deletes during the move)
 * starts shrinking right away. */
static inline void rehashStepIfAllowed(hashtable *ht) {
    if (!isRehashing(ht) || ht->pause_rehash) return;
    rehashStep(ht);
    if (!isRehashing(ht)) shrinkIfNeeded(ht);
}

static void finishRehash(hashtable *ht) {
    while (isRehashing(ht)) rehashStep(ht);
}

static int resizeAllowed(hashtable *ht, int8_t new_exp) {
    if (!ht->type->resizeAllowed) return 1;
    size_t slots = numBuckets(ht->exp[0]) * BUCKET_SLOTS;
    double fill = slots ? (double)hashtableSize(ht) / (double)slots : 0.0;
    return ht->type->resizeAllowed(numBuckets(new_exp) * sizeof(bucket), fill);
}

/* Starts moving to a table of 2^new_exp buckets (or switches to it at once when there is
 * nothing to move). Must not be rehashing. 0 if the allocation failed (try_only). */
static int resizeTo(hashtable *ht, int8_t new_exp, int try_only) {
    assert(!isRehashing(ht));
    size_t bytes = numBuckets(new_exp) * sizeof(bucket);
    bucket *table = try_only ? ztrycalloc(bytes) : zcalloc(bytes);
    if (!table) return 0;
    if (ht->exp[0] < 0 || (ht->used[0] == 0 && ht->pause_rehash == 0)) {
        freeChains(ht, 0, NULL);
        zfree(ht->tables[0]);
        resetTable(ht, 0);
        ht->tables[0] = table;
        ht->exp[0] = new_exp;
        ht->max_chain[0] = 1;
        return 1;
    }
    ht->tables[1] = table;
    ht->exp[1] = new_exp;
    ht->used[1] = 0;
    ht->child_buckets[1] = 0;
    ht->max_chain[1] = 1;
    ht->rehash_idx = 0;
    if (ht->type->rehashingStarted) ht->type->rehashingStarted(ht);
    return 1;
}

/* Makes room for one more entry. */
static void growIfNeeded(hashtable *ht) {
    size_t want = hashtableSize(ht) + 1;
    if (isRehashing(ht)) {
        /* New entries go to the new table; only when that one is full too (inserts
         * outrunning a rehash into a small table) finish the move and grow again. */
        if (fitsAtPercent(want, ht->exp[1], MAX_FILL_PERCENT) || ht->pause_rehash) return;
        finishRehash(ht);
    }
    if (fitsAtPercent(want, ht->exp[0], MAX_FILL_PERCENT)) return;
    int8_t e = expForEntries(want);
    if (e < 0) return; /* absurd size: keep chaining */
    if (ht->exp[0] >= 0 && fitsAtPercent(want, ht->exp[0], HARD_MAX_FILL_PERCENT) &&
        !resizeAllowed(ht, e))
        return;
    resizeTo(ht, e, 0);
}

static void shrinkIfNeeded(hashtable *ht) {
    if (ht->pause_shrink || ht->pause_rehash || isRehashing(ht) || ht->exp[0] <= 0) return;
    size_t n = hashtableSize(ht);
    size_t slots = numBuckets(ht->exp[0]) * BUCKET_SLOTS;
    if ((unsigned __int128)n * 100 >= (unsigned __int128)slots * MIN_FILL_PERCENT) return;
    int8_t e = expForEntries(n);
    if (e < 0 || e >= ht->exp[0]) return;
    if ((unsigned __int128)n * 100 >= (unsigned __int128)slots * HARD_MIN_FILL_PERCENT &&
        !resizeAllowed(ht, e))
        return;
    resizeTo(ht, e, 1);
}

static void pauseRehashing(hashtable *ht) { ht->pause_rehash++; }

/* Only deletes call for a shrink: a pause around an insert (two-phase insert) must not
 * shrink a table sized ahead with hashtableExpand(). */
static void afterRehashingResumed(hashtable *ht) {
    if (ht->deferred_len) runDeferredCompactions(ht);
    if (!ht->removed_while_paused) return;
    ht->removed_while_paused = 0;
    shrinkIfNeeded(ht);
}

static void resumeRehashing(hashtable *ht) {
    assert(ht->pause_rehash > 0);
    if (--ht->pause_rehash == 0) afterRehashingResumed(ht);
}

/* ---------------------------------------------------------------------------------------
 * Life cycle and sizes
 * ------------------------------------------------------------------------------------- */

hashtable *hashtableCreate(hashtableType *type) {
    size_t meta = type->getMetadataSize ? type->getMetadataSize() : 0;
    hashtable *ht = zcalloc(sizeof(*ht) + meta);
    ht->type = type;
    resetTable(ht, 0);
    resetTable(ht, 1);
    ht->rehash_idx = -1;
    return ht;
}

void hashtableEmpty(hashtable *ht, void (*callback)(hashtable *)) {
    int was_rehashing = isRehashing(ht);
    for (int t = 0; t <= 1; t++) {
        size_t n = numBuckets(ht->exp[t]);
        for (size_t idx = 0; idx < n; idx++) {
            if (callback && idx && idx % EMPTY_CALLBACK_BUCKETS == 0) callback(ht);
            bucket *b = &ht->tables[t][idx];
            while (b) {
                bucket *next = isChained(b) ? childOf(b) : NULL;
                unsigned bits = presence(b);
                while (bits && ht->type->entryDestructor) {
                    unsigned i = (unsigned)__builtin_ctz(bits);
                    bits &= bits - 1;
                    ht->type->entryDestructor(b->slots[i]);
                }
                if (b != &ht->tables[t][idx]) zfree(b);
                b = next;
            }
        }
        zfree(ht->tables[t]);
        resetTable(ht, t);
    }
    ht->rehash_idx = -1;
    zfree(ht->deferred);
    ht->deferred = NULL;
    ht->deferred_len = ht->deferred_cap = 0;
    if (was_rehashing && ht->type->rehashingCompleted) ht->type->rehashingCompleted(ht);
}

void hashtableRelease(hashtable *ht) {
    hashtableEmpty(ht, NULL);
    zfree(ht);
}

hashtableType *hashtableGetType(hashtable *ht) { return ht->type; }
void *hashtableMetadata(hashtable *ht) { return ht->metadata; }
size_t hashtableSize(const hashtable *ht) { return ht->used[0] + ht->used[1]; }

size_t hashtableBuckets(hashtable *ht) {
    return numBuckets(ht->exp[0]) + numBuckets(ht->exp[1]);
}

size_t hashtableMemUsage(hashtable *ht) {
    size_t meta = ht->type->getMetadataSize ? ht->type->getMetadataSize() : 0;
    size_t buckets = hashtableBuckets(ht) + ht->child_buckets[0] + ht->child_buckets[1];
    return sizeof(*ht) + meta + buckets * sizeof(bucket) + ht->deferred_cap * sizeof(size_t);
}

void hashtableRehashingInfo(hashtable *ht, size_t *from_buckets, size_t *to_buckets) {
    *from_buckets = numBuckets(ht->exp[0]);
    *to_buckets = numBuckets(ht->exp[1]);
}

void hashtablePauseAutoShrink(hashtable *ht) { ht->pause_shrink++; }

void hashtableResumeAutoShrink(hashtable *ht) {
    assert(ht->pause_shrink > 0);
    if (--ht->pause_shrink == 0) shrinkIfNeeded(ht);
}

int hashtableIsRehashing(hashtable *ht) { return isRehashing(ht); }
int hashtableIsRehashingPaused(hashtable *ht) { return ht->pause_rehash > 0; }

void hashtableRehashMicroseconds(hashtable *ht, uint64_t us) {
    if (ht->pause_rehash) return;
    uint64_t start = monotonicMicros();
    while (isRehashing(ht)) {
        for (int i = 0; i < REHASH_STEPS_PER_CLOCK && isRehashing(ht); i++) rehashStep(ht);
        if (!isRehashing(ht)) shrinkIfNeeded(ht);
        if (monotonicMicros() - start >= us) break;
    }
}

int hashtableShrinkIfNeeded(hashtable *ht) {
    size_t before = hashtableBuckets(ht);
    shrinkIfNeeded(ht);
    return hashtableBuckets(ht) != before;
}

int hashtableExpandIfNeeded(hashtable *ht) {
    if (isRehashing(ht) || fitsAtPercent(hashtableSize(ht), ht->exp[0], MAX_FILL_PERCENT)) return 0;
    int8_t e = expForEntries(hashtableSize(ht));
    if (e < 0 || !resizeAllowed(ht, e)) return 0;
    return resizeTo(ht, e, 1);
}

static int expandTo(hashtable *ht, size_t size, int try_only) {
    if (isRehashing(ht)) return 0;
    int8_t e = expForEntries(size);
    if (e < 0 || e <= ht->exp[0]) return 0;
    return resizeTo(ht, e, try_only);
}

int hashtableExpand(hashtable *ht, size_t size) { return expandTo(ht, size, 0); }
int hashtableTryExpand(hashtable *ht, size_t size) { return expandTo(ht, size, 1); }

/* ---------------------------------------------------------------------------------------
 * Lookup, insert, delete
 * ------------------------------------------------------------------------------------- */

int hashtableFind(hashtable *ht, const void *key, void **found) {
    if (hashtableSize(ht) == 0) return 0;
    rehashStepIfAllowed(ht);
    location loc;
    if (!locate(ht, key, hashKey(ht, key), &loc)) return 0;
    if (found) *found = loc.b->slots[loc.slot];
    return 1;
}

void **hashtableFindRef(hashtable *ht, const void *key) {
    if (hashtableSize(ht) == 0) return NULL;
    rehashStepIfAllowed(ht);
    location loc;
    if (!locate(ht, key, hashKey(ht, key), &loc)) return NULL;
    return &loc.b->slots[loc.slot];
}

int hashtableAddOrFind(hashtable *ht, void *entry, void **existing) {
    rehashStepIfAllowed(ht);
    growIfNeeded(ht);
    const void *key = entryKey(ht, entry);
    uint64_t hash = hashKey(ht, key);
    location loc;
    if (locate(ht, key, hash, &loc)) {
        if (existing) *existing = loc.b->slots[loc.slot];
        return 0;
    }
    int t = isRehashing(ht) ? 1 : 0;
    placeEntry(ht, t, hash & bucketMask(ht->exp[t]), hashByte(hash), entry);
    return 1;
}

int hashtableAdd(hashtable *ht, void *entry) { return hashtableAddOrFind(ht, entry, NULL); }

int hashtableFindPositionForInsert(hashtable *ht, const void *key, hashtablePosition *position,
                                   void **existing) {
    rehashStepIfAllowed(ht);
    growIfNeeded(ht);
    uint64_t hash = hashKey(ht, key);
    location loc;
    if (locate(ht, key, hash, &loc)) {
        if (existing) *existing = loc.b->slots[loc.slot];
        return 0;
    }
    int t = isRehashing(ht) ? 1 : 0;
    loc.table = (uint8_t)t;
    loc.index = hash & bucketMask(ht->exp[t]);
    loc.hash_byte = hashByte(hash);
    unsigned slot;
    findFreeSlot(ht, t, loc.index, &loc.b, &slot);
    loc.slot = (uint8_t)slot;
    memcpy(position, &loc, sizeof(loc));
    pauseRehashing(ht);
    return 1;
}

void hashtableInsertAtPosition(hashtable *ht, void *entry, hashtablePosition *position) {
    location loc;
    memcpy(&loc, position, sizeof(loc));
    bucket *b = loc.b;
    unsigned slot = loc.slot;
    if (slot == NEED_CHILD) {
        b = attachChild(ht, loc.table, loc.index, b);
        slot = 1;
    }
    assert(!(presence(b) & (1u << slot)));
    fillSlot(ht, loc.table, b, slot, loc.hash_byte, entry);
    resumeRehashing(ht);
}

int hashtablePop(hashtable *ht, const void *key, void **popped) {
    if (hashtableSize(ht) == 0) return 0;
    rehashStepIfAllowed(ht);
    location loc;
    if (!locate(ht, key, hashKey(ht, key), &loc)) return 0;
    void *entry = loc.b->slots[loc.slot];
    removeAt(ht, &loc);
    if (popped) *popped = entry;
    return 1;
}

int hashtableDelete(hashtable *ht, const void *key) {
    void *entry;
    if (!hashtablePop(ht, key, &entry)) return 0;
    if (ht->type->entryDestructor) ht->type->entryDestructor(entry);
    return 1;
}

void **hashtableTwoPhasePopFindRef(hashtable *ht, const void *key, hashtablePosition *position) {
    if (hashtableSize(ht) == 0) return NULL;
    rehashStepIfAllowed(ht);
    location loc;
    if (!locate(ht, key, hashKey(ht, key), &loc)) return NULL;
    memcpy(position, &loc, sizeof(loc));
    pauseRehashing(ht);
    return &loc.b->slots[loc.slot];
}

void hashtableTwoPhasePopDelete(hashtable *ht, hashtablePosition *position) {
    location loc;
    memcpy(&loc, position, sizeof(loc));
    assert(presence(loc.b) & (1u << loc.slot));
    /* Resume first so that the chain is compacted right away rather than deferred. */
    assert(ht->pause_rehash > 0);
    ht->pause_rehash--;
    removeAt(ht, &loc);
    if (ht->pause_rehash == 0) afterRehashingResumed(ht);
}

int hashtableReplaceReallocatedEntry(hashtable *ht, const void *old_entry, void *new_entry) {
    uint64_t hash = hashKey(ht, entryKey(ht, new_entry));
    for (int t = 0; t <= 1; t++) {
        if (ht->exp[t] < 0) continue;
        size_t idx = hash & bucketMask(ht->exp[t]);
        if (t == 0 && isRehashing(ht) && idx < (size_t)ht->rehash_idx) continue;
        for (bucket *b = &ht->tables[t][idx]; b; b = isChained(b) ? childOf(b) : NULL) {
            unsigned bits = presence(b);
            while (bits) {
                unsigned i = (unsigned)__builtin_ctz(bits);
                bits &= bits - 1;
                if (b->slots[i] == old_entry) {
                    b->slots[i] = new_entry;
                    return 1;
                }
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Scan
 * ------------------------------------------------------------------------------------- */

/* Reverses the bit order of a 64-bit word (swap halves, then ever smaller groups). */
static inline uint64_t reverseBits(uint64_t v) {
    v = __builtin_bswap64(v);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((v & 0x0f0f0f0f0f0f0f0fULL) << 4);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    return v;
}

/* The cursor after v for a table with this mask: increment the masked bits, counting
 * from the top bit of the mask down. Bits above the mask come back cleared. */
static inline size_t nextCursor(size_t v, size_t mask) {
    v |= ~mask;
    v = reverseBits(v);
    v++;
    return reverseBits(v);
}

/* Hands every entry of one chain to fn. fn may delete entries: rehashing and compaction
 * are paused by the caller, so nothing moves meanwhile. */
static void scanChain(bucket *head, hashtableScanFunction fn, void *privdata) {
    bucket *b;
    unsigned slot;
    for (size_t vpos = 0; chainSlot(head, vpos, &b, &slot); vpos++)
        if (presence(b) & (1u << slot)) fn(privdata, b->slots[slot]);
}

size_t hashtableScan(hashtable *ht, size_t cursor, hashtableScanFunction fn, void *privdata) {
    if (hashtableSize(ht) == 0) return 0;
    pauseRehashing(ht);
    if (!isRehashing(ht)) {
        size_t mask = bucketMask(ht->exp[0]);
        scanChain(&ht->tables[0][cursor & mask], fn, privdata);
        cursor = nextCursor(cursor, mask);
    } else {
        /* Visit the bucket of the smaller table, then its expansions in the larger. Moved
         * buckets of the old table are empty, so visiting them is harmless. */
        int small = ht->exp[0] <= ht->exp[1] ? 0 : 1;
        int large = 1 - small;
        bucket *small_table = ht->tables[small], *large_table = ht->tables[large];
        size_t small_mask = bucketMask(ht->exp[small]);
        size_t large_mask = bucketMask(ht->exp[large]);
        scanChain(&small_table[cursor & small_mask], fn, privdata);
        do {
            scanChain(&large_table[cursor & large_mask], fn, privdata);
            cursor = nextCursor(cursor, large_mask);
        } while (cursor & (small_mask ^ large_mask));
    }
    resumeRehashing(ht);
    return cursor;
}

/* ---------------------------------------------------------------------------------------
 * Random entries
 * ------------------------------------------------------------------------------------- */

/* Copies up to max entries of a chain into dst; returns how many. */
/* Entries of one chain looked at when sampling (chains are short: the rest is skipped). */
#define SAMPLE_CHAIN_MAX 64

/* Takes up to max entries of a chain, from a random place in it. Slots fill lowest
 * first and chains grow at the tail, so older entries come first in a walk: taking the
 * first ones would favour old entries over recent ones. */
static unsigned collectChain(bucket *head, void **dst, unsigned max) {
    void *all[SAMPLE_CHAIN_MAX];
    unsigned n = 0;
    for (bucket *b = head; b && n < SAMPLE_CHAIN_MAX; b = isChained(b) ? childOf(b) : NULL) {
        unsigned bits = presence(b);
        while (bits && n < SAMPLE_CHAIN_MAX) {
            unsigned i = (unsigned)__builtin_ctz(bits);
            bits &= bits - 1;
            all[n++] = b->slots[i];
        }
    }
    if (n <= max) {
        memcpy(dst, all, n * sizeof(void *));
        return n;
    }
    unsigned from = (unsigned)(random64() % n);
    for (unsigned k = 0; k < max; k++) dst[k] = all[(from + k) % n];
    return max;
}

unsigned hashtableSampleEntries(hashtable *ht, void **dst, unsigned count) {
    if (count == 0 || hashtableSize(ht) == 0) return 0;
    rehashStepIfAllowed(ht);
    size_t n[2] = {numBuckets(ht->exp[0]), numBuckets(ht->exp[1])};
    size_t span = n[0] > n[1] ? n[0] : n[1];
    size_t start = (size_t)random64();
    size_t give_up = (size_t)count * SAMPLE_STEPS_PER_ENTRY;
    unsigned got = 0;
    for (size_t step = 0; step < span && got < count; step++) {
        if (step >= give_up && got > 0) break;
        for (int t = 0; t <= 1 && got < count; t++) {
            if (step >= n[t]) continue; /* each bucket at most once: entries are distinct */
            size_t idx = (start + step) & (n[t] - 1);
            if (t == 0 && isRehashing(ht) && idx < (size_t)ht->rehash_idx) continue;
            got += collectChain(&ht->tables[t][idx], dst + got, count - got);
        }
    }
    return got;
}

int hashtableRandomEntry(hashtable *ht, void **found) {
    void *samples[WEAK_RANDOM_SAMPLES];
    unsigned got = hashtableSampleEntries(ht, samples, WEAK_RANDOM_SAMPLES);
    if (got == 0) return 0;
    *found = samples[random64() % got];
    return 1;
}

int hashtableFairRandomEntry(hashtable *ht, void **found) {
    if (hashtableSize(ht) == 0) return 0;
    rehashStepIfAllowed(ht);
    size_t skip0 = isRehashing(ht) ? (size_t)ht->rehash_idx : 0;
    size_t n0 = numBuckets(ht->exp[0]) - skip0, n1 = numBuckets(ht->exp[1]);
    uint32_t longest = ht->max_chain[0] > ht->max_chain[1] ? ht->max_chain[0] : ht->max_chain[1];
    size_t positions = chainCapacity(longest);
    for (int tries = 0; tries < FAIR_RANDOM_TRIES; tries++) {
        size_t r = (size_t)(random64() % (n0 + n1));
        bucket *head = r < n0 ? &ht->tables[0][skip0 + r] : &ht->tables[1][r - n0];
        bucket *b;
        unsigned slot;
        if (chainSlot(head, (size_t)(random64() % positions), &b, &slot) &&
            (presence(b) & (1u << slot))) {
            *found = b->slots[slot];
            return 1;
        }
    }
    /* A very sparse table (shrinking paused): settle for the cheaper method. */
    return hashtableRandomEntry(ht, found);
}

/* ---------------------------------------------------------------------------------------
 * Iterators
 * ------------------------------------------------------------------------------------- */

static uint64_t fingerprint(const hashtable *ht) {
    uint64_t parts[6] = {(uint64_t)(uintptr_t)ht->tables[0], (uint64_t)(uintptr_t)ht->tables[1],
                         (uint64_t)ht->exp[0], (uint64_t)ht->exp[1], ht->used[0], ht->used[1]};
    uint64_t h = 0;
    for (int i = 0; i < 6; i++) h = mix64(h ^ parts[i]);
    return h;
}

static void initIterator(hashtableIterator *iter, hashtable *ht, int safe) {
    iteratorState *it = (iteratorState *)iter->opaque;
    memset(it, 0, sizeof(*it));
    it->ht = ht;
    it->safe = (uint8_t)safe;
}

void hashtableInitIterator(hashtableIterator *iter, hashtable *ht) { initIterator(iter, ht, 0); }
void hashtableInitSafeIterator(hashtableIterator *iter, hashtable *ht) { initIterator(iter, ht, 1); }

int hashtableNext(hashtableIterator *iter, void **elemptr) {
    iteratorState *it = (iteratorState *)iter->opaque;
    hashtable *ht = it->ht;
    if (!it->started) {
        it->started = 1;
        it->table = 0;
        it->index = 0;
        it->vpos = 0;
        pauseRehashing(ht);
        if (!it->safe) it->fingerprint = fingerprint(ht);
    }
    for (;;) {
        if (it->index >= numBuckets(ht->exp[it->table])) {
            if (it->table == 0 && isRehashing(ht)) {
                it->table = 1;
                it->index = 0;
                it->vpos = 0;
                continue;
            }
            return 0;
        }
        bucket *head = &ht->tables[it->table][it->index];
        bucket *b;
        unsigned slot;
        while (chainSlot(head, it->vpos, &b, &slot)) {
            it->vpos++;
            if (presence(b) & (1u << slot)) {
                *elemptr = b->slots[slot];
                return 1;
            }
        }
        it->index++;
        it->vpos = 0;
    }
}

void hashtableResetIterator(hashtableIterator *iter) {
    iteratorState *it = (iteratorState *)iter->opaque;
    if (!it->started) return;
    if (!it->safe && fingerprint(it->ht) != it->fingerprint)
        fatal("table modified during unsafe iteration");
    it->started = 0;
    resumeRehashing(it->ht);
}

hashtableIterator *hashtableCreateIterator(hashtable *ht) {
    hashtableIterator *iter = zmalloc(sizeof(*iter));
    hashtableInitIterator(iter, ht);
    return iter;
}

hashtableIterator *hashtableCreateSafeIterator(hashtable *ht) {
    hashtableIterator *iter = zmalloc(sizeof(*iter));
    hashtableInitSafeIterator(iter, ht);
    return iter;
}

void hashtableReleaseIterator(hashtableIterator *iter) {
    hashtableResetIterator(iter);
    zfree(iter);
}

/* ---------------------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------------------- */

#define STATS_CHAIN_BINS 16

static size_t appendf(char *buf, size_t len, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t appendf(char *buf, size_t len, size_t pos, const char *fmt, ...) {
    if (pos >= len) return pos;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + pos, len - pos, fmt, ap);
    va_end(ap);
    if (n < 0) return pos;
    return pos + (size_t)n < len ? pos + (size_t)n : len - 1;
}

static size_t tableStats(char *buf, size_t len, size_t pos, hashtable *ht, int t, int full) {
    size_t n = numBuckets(ht->exp[t]);
    pos = appendf(buf, len, pos, "Hash table %d stats (%s):\n", t,
                  t == 0 ? "main hash table" : "rehashing target");
    if (ht->used[t] == 0 && t == 0 && !isRehashing(ht))
        return appendf(buf, len, pos, "No stats available for empty hash tables\n");
    size_t slots = n * BUCKET_SLOTS;
    pos = appendf(buf, len, pos,
                  " table size: %zu\n number of entries: %zu\n top-level buckets: %zu\n"
                  " child buckets: %zu\n fill: %zu%%\n",
                  slots, ht->used[t], n, ht->child_buckets[t],
                  slots ? ht->used[t] * 100 / slots : 0);
    if (!full) return pos;
    size_t bins[STATS_CHAIN_BINS] = {0};
    size_t longest = 0, chained = 0, total_len = 0;
    for (size_t idx = 0; idx < n; idx++) {
        size_t chain = chainLength(&ht->tables[t][idx]);
        if (chain > longest) longest = chain;
        if (chain > 1) chained++;
        total_len += chain;
        bins[chain < STATS_CHAIN_BINS ? chain : STATS_CHAIN_BINS - 1]++;
    }
    pos = appendf(buf, len, pos, " chained buckets: %zu\n max chain length: %zu\n", chained,
                  longest);
    pos = appendf(buf, len, pos, " avg chain length: %.02f\n chain length distribution:\n",
                  n ? (double)total_len / (double)n : 0.0);
    for (size_t i = 1; i < STATS_CHAIN_BINS; i++) {
        if (bins[i] == 0) continue;
        pos = appendf(buf, len, pos, "   %s%zu: %zu (%.02f%%)\n",
                      i == STATS_CHAIN_BINS - 1 ? ">=" : "", i, bins[i],
                      (double)bins[i] * 100.0 / (double)n);
    }
    return pos;
}

void hashtableGetStats(char *buf, size_t len, hashtable *ht, int full) {
    if (len == 0) return;
    buf[0] = '\0';
    size_t pos = tableStats(buf, len, 0, ht, 0, full);
    if (isRehashing(ht)) tableStats(buf, len, pos, ht, 1, full);
}

/* ---------------------------------------------------------------------------------------
 * Hash functions
 * ------------------------------------------------------------------------------------- */

void hashtableSetHashFunctionSeed(const uint8_t *seed) { memcpy(hash_seed, seed, sizeof(hash_seed)); }
uint8_t *hashtableGetHashFunctionSeed(void) { return hash_seed; }

uint64_t hashtableGenHashFunction(const char *buf, size_t len) {
    return siphash((const uint8_t *)buf, len, hash_seed);
}

uint64_t hashtableGenCaseHashFunction(const char *buf, size_t len) {
    return siphash_nocase((const uint8_t *)buf, len, hash_seed);
}
