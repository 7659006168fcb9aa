/* memory.h -- memory accounting shared by INFO memory and the MEMORY command family.
 *
 * getMemoryOverheadData() takes one snapshot of where the allocated memory goes: the
 * memory in use at start-up, client buffers, the keyspace tables, and what is left,
 * which is the dataset itself. It also reads the allocator's and the kernel's view
 * (allocated / active / resident, RSS) to derive the fragmentation ratios.
 */
#ifndef MEMORY_H
#define MEMORY_H

#include <stddef.h>
#include "sds.h"

/* Default SAMPLES of MEMORY USAGE: nested values are estimated from this many elements. */
#define OBJ_COMPUTE_SIZE_DEF_SAMPLES 5

typedef struct memoryDbOverhead {
    int dbid;
    size_t overhead_ht_main;    /* keys table plus the object headers of its keys */
    size_t overhead_ht_expires; /* expires table */
} memoryDbOverhead;

typedef struct serverMemOverhead {
    size_t peak_allocated;
    size_t total_allocated;
    size_t startup_allocated;
    size_t repl_backlog;
    size_t clients_replicas;
    size_t clients_normal;
    size_t cluster_links;
    size_t aof_buffer;
    size_t lua_caches;
    size_t functions_caches;
    size_t overhead_db_hashtable_lut;
    size_t overhead_db_hashtable_rehashing;
    unsigned long db_dict_rehashing_count;
    size_t overhead_total;
    size_t dataset;
    size_t total_keys;
    size_t bytes_per_key;
    float dataset_perc;
    float peak_perc;
    /* The allocator's and the kernel's view (allocated <= active <= resident <= rss). */
    size_t allocator_allocated;
    size_t allocator_active;
    size_t allocator_resident;
    size_t allocator_muzzy;
    size_t allocator_frag_smallbins;
    size_t process_rss;
    float allocator_frag; /* (allocated + free small-bin bytes) / allocated */
    long long allocator_frag_bytes;
    float allocator_rss; /* resident / active */
    long long allocator_rss_bytes;
    float rss_extra; /* rss / resident */
    long long rss_extra_bytes;
    float total_frag; /* rss / used memory */
    long long total_frag_bytes;
    size_t num_dbs; /* databases with keys, described in db[] */
    memoryDbOverhead *db;
} serverMemOverhead;

serverMemOverhead *getMemoryOverheadData(void);
void freeMemoryOverheadData(serverMemOverhead *mh);

/* Bytes of the client structures and buffers of every connected client. */
size_t memoryClientsUsage(void);

/* MEMORY DOCTOR's report (the caller frees it). */
sds getMemoryDoctorReport(void);

#endif
