/* rdb.h -- the RDB format: encoding and decoding values and whole datasets, SAVE and
 * BGSAVE, save points, and loading at start-up.
 *
 * Three layers, each usable on its own over any rio (rio.h):
 *   1. primitives: lengths, strings (integer-encoded, LZF-compressed), doubles, times;
 *   2. values: rdbSaveObjectType() + rdbSaveObject() write one value in its RDB encoding,
 *      rdbLoadObjectType() + rdbLoadObject() read it back. DUMP/RESTORE (dump.c) and
 *      the flash records of tiering are exactly these bytes;
 *   3. datasets: rdbSaveRio() / rdbLoadRio() write and read a whole file (magic, AUX
 *      fields, databases, EOF, CRC64).
 *
 * File format written: RDB version 11, as Valkey 8 writes it. Loaded: "REDIS" magic
 * with versions 1..11, and Valkey 9's "VALKEY" magic with version 80 (the values it
 * shares with 11, plus hashes with field expiration: fields already expired are
 * dropped and the others loaded without their TTL, as this server has no field TTLs).
 *
 * Untrusted input (files, RESTORE payloads) never crashes the loader: every length is
 * bounded by what the stream can deliver, the structure of every listpack/ziplist entry
 * is checked before the blob becomes a value (duplicates too with
 * RDB_LOAD_DEEP_SANITIZE, which RESTORE asks for per sanitize-dump-payload), and what
 * fails is reported through rdbLoadErrorMessage(). This is stricter than Valkey, whose
 * default only checks blob headers and may abort on a corrupt value later.
 */
#ifndef RDB_H
#define RDB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "object.h"
#include "rio.h"
#include "sds.h"

#define RDB_VERSION 11
#define RDB_VERSION_VALKEY9 80 /* "VALKEY080": Valkey 9 */
#define RDB_REDIS_COMPAT_VERSION "7.2.4" /* the redis-ver AUX field Valkey 8 writes */

/* Length encoding: the two top bits of the first byte. */
#define RDB_6BITLEN 0
#define RDB_14BITLEN 1
#define RDB_32BITLEN 0x80
#define RDB_64BITLEN 0x81
#define RDB_ENCVAL 3
#define RDB_LENERR UINT64_MAX

/* Special string encodings (RDB_ENCVAL followed by six bits). */
#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3

/* Value types. */
#define RDB_TYPE_STRING 0
#define RDB_TYPE_LIST 1
#define RDB_TYPE_SET 2
#define RDB_TYPE_ZSET 3
#define RDB_TYPE_HASH 4
#define RDB_TYPE_ZSET_2 5
#define RDB_TYPE_MODULE_PRE_GA 6
#define RDB_TYPE_MODULE_2 7
#define RDB_TYPE_HASH_ZIPMAP 9
#define RDB_TYPE_LIST_ZIPLIST 10
#define RDB_TYPE_SET_INTSET 11
#define RDB_TYPE_ZSET_ZIPLIST 12
#define RDB_TYPE_HASH_ZIPLIST 13
#define RDB_TYPE_LIST_QUICKLIST 14
#define RDB_TYPE_STREAM_LISTPACKS 15
#define RDB_TYPE_HASH_LISTPACK 16
#define RDB_TYPE_ZSET_LISTPACK 17
#define RDB_TYPE_LIST_QUICKLIST_2 18
#define RDB_TYPE_STREAM_LISTPACKS_2 19
#define RDB_TYPE_SET_LISTPACK 20
#define RDB_TYPE_STREAM_LISTPACKS_3 21
#define RDB_TYPE_HASH_2 22 /* RDB 80 only: hash with per-field expire times */
int rdbIsObjectType(int type, int rdbver);

/* Opcodes, from 255 down. */
#define RDB_OPCODE_SLOT_IMPORT 243 /* RDB 80 */
#define RDB_OPCODE_SLOT_INFO 244
#define RDB_OPCODE_FUNCTION2 245
#define RDB_OPCODE_FUNCTION_PRE_GA 246
#define RDB_OPCODE_MODULE_AUX 247
#define RDB_OPCODE_IDLE 248
#define RDB_OPCODE_FREQ 249
#define RDB_OPCODE_AUX 250
#define RDB_OPCODE_RESIZEDB 251
#define RDB_OPCODE_EXPIRETIME_MS 252
#define RDB_OPCODE_EXPIRETIME 253
#define RDB_OPCODE_SELECTDB 254
#define RDB_OPCODE_EOF 255

/* Opcodes inside a module value (RDB_TYPE_MODULE_2) or MODULE_AUX payload. */
#define RDB_MODULE_OPCODE_EOF 0
#define RDB_MODULE_OPCODE_SINT 1
#define RDB_MODULE_OPCODE_UINT 2
#define RDB_MODULE_OPCODE_FLOAT 3
#define RDB_MODULE_OPCODE_DOUBLE 4
#define RDB_MODULE_OPCODE_STRING 5

/* rdbGenericLoadStringObject() result forms. */
#define RDB_LOAD_NONE 0        /* a RAW/EMBSTR string object */
#define RDB_LOAD_ENC (1 << 0)  /* an object, INT-encoded when stored as an integer */
#define RDB_LOAD_PLAIN (1 << 1) /* a zmalloc'ed buffer */
#define RDB_LOAD_SDS (1 << 2)  /* an sds */

/* rdbLoadObject() flags. */
#define RDB_LOAD_DEEP_SANITIZE (1 << 0) /* also duplicates in blobs (sanitize-dump-payload) */
#define RDB_LOAD_TRUSTED (1 << 1)       /* bytes this server wrote and checksummed: headers only */

/* rdbLoadObject() errors (*error when it returns NULL). */
#define RDB_LOAD_ERR_EMPTY_KEY 1    /* a valid but empty collection: skip the key */
#define RDB_LOAD_ERR_UNKNOWN_TYPE 2 /* a type this server cannot load */
#define RDB_LOAD_ERR_OTHER 3        /* corrupt or truncated data */

/* rdbLoad() results. */
#define RDB_OK 0
#define RDB_NOT_EXIST 1
#define RDB_FAILED 2

/* rdbSaveRio() / rdbLoadRio() flags. */
#define RDBFLAGS_NONE 0
#define RDBFLAGS_AOF_PREAMBLE (1 << 0)
#define RDBFLAGS_REPLICATION (1 << 1)
#define RDBFLAGS_ALLOW_DUP (1 << 2) /* loading: a duplicate key replaces the old one */
#define RDBFLAGS_KEEP_EXPIRED (1 << 3) /* loading: keep already expired keys (replicas) */
#define RDBFLAGS_CHECK_ONLY (1 << 4)   /* loading: valkey-check-rdb, nothing is kept */

#define CHILD_TYPE_NONE 0
#define CHILD_TYPE_RDB 1

/* ---- Primitives ---- */
int rdbSaveType(rio *r, unsigned char type);
int rdbLoadType(rio *r); /* -1 on error */
ssize_t rdbWriteRaw(rio *r, const void *p, size_t len);
int rdbSaveLen(rio *r, uint64_t len); /* bytes written, -1 on error */
int rdbLoadLenByRef(rio *r, int *isencoded, uint64_t *lenptr); /* 0 ok, -1 error */
uint64_t rdbLoadLen(rio *r, int *isencoded);                    /* RDB_LENERR on error */
ssize_t rdbSaveMillisecondTime(rio *r, long long t);
long long rdbLoadMillisecondTime(rio *r, int rdbver); /* check rioGetReadError() */
ssize_t rdbSaveRawString(rio *r, const unsigned char *s, size_t len);
ssize_t rdbSaveLongLongAsStringObject(rio *r, long long value);
ssize_t rdbSaveStringObject(rio *r, robj *o);
/* NULL on error. lenptr (may be NULL) receives the length for RDB_LOAD_PLAIN/SDS. */
void *rdbGenericLoadStringObject(rio *r, int flags, size_t *lenptr);
robj *rdbLoadStringObject(rio *r);
int rdbSaveBinaryDoubleValue(rio *r, double val); /* 0 ok, -1 error */
int rdbLoadBinaryDoubleValue(rio *r, double *val);
int rdbLoadBinaryFloatValue(rio *r, float *val);
int rdbLoadDoubleValue(rio *r, double *val); /* the old textual form */

/* ---- Values ---- */
int rdbGetObjectType(const robj *o); /* the RDB type byte rdbSaveObject() writes after */
int rdbSaveObjectType(rio *r, const robj *o);
int rdbLoadObjectType(rio *r); /* -1 on error or when not a value type */
/* Returns the bytes written, -1 on error. key/dbid are informational (modules). */
ssize_t rdbSaveObject(rio *r, robj *o, robj *key, int dbid);
ssize_t rdbSavedObjectLen(robj *o, robj *key, int dbid);
/* Reads a value of type rdbtype. NULL on failure with *error set (and a message in
 * rdbLoadErrorMessage() for corruption). key is informational (messages). */
robj *rdbLoadObject(int rdbtype, rio *r, sds key, int dbid, int flags, int *error);
/* The RDB version of the bytes rdbLoadObject() reads next (a RESTORE payload's; file
 * loading sets it itself). Decides which value types are valid. */
void rdbSetLoadVersion(int rdbver);
/* RESTORE: RDB_LOAD_DEEP_SANITIZE when sanitize-dump-payload asks for it. */
int rdbRestoreSanitizeFlags(void);
/* DEBUG SET-SKIP-CHECKSUM-VALIDATION: files and DUMP payloads are taken unchecked. */
int rdbSkipChecksumValidation(void);
void rdbSetSkipChecksumValidation(int skip);
/* The last load failure: "<what failed>" (valid until the next failure). */
const char *rdbLoadErrorMessage(void);
/* For loaders outside this file (module types): records the failure, printf-style,
 * unless a more precise one was recorded first. */
void rdbReportCorruption(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rdbClearLoadError(void);

/* Values whose encoding this file does not know (tiering's cold values, whose flash
 * record already holds the RDB encoding): object_type returns the RDB type byte, save
 * writes the encoded value (bytes written, -1 on error). Registered per encoding at
 * start-up; used by saving, DUMP and rdbSavedObjectLen alike. */
typedef struct rdbValueCodec {
    int (*object_type)(const robj *o);
    ssize_t (*save)(rio *r, robj *o);
} rdbValueCodec;
void rdbSetValueCodec(int encoding, const rdbValueCodec *codec);

/* LRU/LFU data restored from a file or RESTORE: frequency (0..255) under an LFU
 * policy, otherwise an idle time in seconds (scaled by lru_multiplier / 1000) counted
 * back from lru_clock. Returns 1 when something was set. */
int objectSetLRUOrLFU(robj *val, long long lfu_freq, long long lru_idle, long long lru_clock, int lru_multiplier);

/* Values of module types: loaders are registered by name (the 9-character module
 * type name encoded in the module id). The loader reads the value proper; the
 * trailing RDB_MODULE_OPCODE_EOF of RDB_TYPE_MODULE_2 is read by rdb.c. NULL with
 * *error set on failure. */
typedef robj *(*rdbModuleTypeLoadProc)(rio *r, int encver, sds key, int *error);
int rdbRegisterModuleTypeLoader(const char *name, rdbModuleTypeLoadProc proc); /* 0 ok, -1 taken/bad */
/* The 9-character name and encoding version packed in a module id. */
void rdbModuleTypeNameByID(char *name, uint64_t moduleid); /* name: 10 bytes */

/* ---- DUMP payloads (dump.c) ---- */
sds rdbCreateDumpPayload(robj *o, robj *key, int dbid); /* NULL: no RDB form */
/* C_OK when the footer's RDB version is readable here and the CRC64 matches. */
int rdbVerifyDumpPayload(const unsigned char *p, size_t len, int *rdbver);
/* The value of a verified payload, NULL when it is not a valid one. */
robj *rdbLoadDumpPayload(const unsigned char *p, size_t len, int rdbver, sds key, int dbid, int flags);

/* ---- Datasets ---- */
typedef struct rdbLoadStats {
    long long keys_loaded;
    long long keys_expired;
    long long keys_by_type[OBJ_TYPE_MAX];
    long long expires;
    long long aux_fields;
    long long module_aux;
    long long functions;
    int rdbver;
    int dbs;
} rdbLoadStats;

/* Checks the per-key hook for valkey-check-rdb: each step of the walk (opcode, key,
 * value) can be reported. NULL for normal loading. */
typedef struct rdbLoadObserver {
    void (*on_aux)(void *ud, sds key, sds val);
    void (*on_key)(void *ud, int dbid, sds key, int rdbtype, robj *val, long long expire);
    void (*on_step)(void *ud, const char *what, long long offset); /* what the walker is reading */
    void (*on_key_start)(void *ud, sds key, int rdbtype);            /* before the value is read */
    void (*on_checksum)(void *ud, uint64_t stored, uint64_t computed);
    void *ud;
} rdbLoadObserver;

int rdbSaveRio(rio *r, int rdbflags, int *error);
/* 0 ok, -1 error. The message is logged at warning level with the offset. */
int rdbLoadRio(rio *r, int rdbflags, rdbLoadStats *stats, const rdbLoadObserver *obs);
int rdbSave(const char *filename, int rdbflags); /* synchronous, temp file + rename; C_OK/C_ERR */
int rdbSaveBackground(const char *filename, int rdbflags); /* C_OK when the child started */
int rdbLoad(const char *filename, int rdbflags);           /* RDB_OK / RDB_NOT_EXIST / RDB_FAILED */

/* Replication state an RDB carries (aux fields repl-stream-db, repl-id, repl-offset):
 * where the primary's stream stood when the data was taken, so that a replica loading it
 * follows the stream in the right database, and a restarted server can resume with a
 * partial resync. Saved when replication.c reports a state (replicationRdbSaveInfo). */
#define RDB_REPL_ID_LEN 40
typedef struct rdbReplInfo {
    int valid; /* all three fields were read */
    int stream_db;
    char replid[RDB_REPL_ID_LEN + 1];
    long long offset;
} rdbReplInfo;
/* What the last load found (valid is 0 when the fields were absent). */
const rdbReplInfo *rdbLoadedReplInfo(void);

/* ---- Server integration ---- */
void rdbRegister(void);       /* config directives; called from registerSubsystems() */
void loadDataFromDisk(void);  /* start-up: loads dbfilename from dir, exits on failure */
void rdbCron(void);           /* serverCron: reaps the child, runs save points */
int rdbPrepareForShutdown(int flags); /* SHUTDOWN: saves per flags/save points; C_OK/C_ERR */
void rdbFlushallHook(void);   /* FLUSHALL: kills a child, saves an empty RDB with save points */
int rdbWritesDeniedByBgsaveError(void); /* stop-writes-on-bgsave-error in effect */
int rdbHasActiveChild(void);
void rdbKillChild(void);
/* DEBUG RELOAD: saves (unless nosave), empties (unless noflush), loads (merge: allow
 * duplicates). Returns C_OK, or C_ERR with *err set. */
int rdbDebugReload(int save, int flush, int merge, const char **err);
void rdbRemoveTempFile(pid_t childpid);

/* Loading progress: processes events while loading every so many bytes. */
void startLoading(size_t size, int async);
void stopLoading(int success);

/* INFO persistence / stats. */
typedef struct rdbInfo {
    int loading;
    long long current_cow_peak, current_cow_size, current_cow_size_age;
    double current_fork_perc;
    long long current_save_keys_processed, current_save_keys_total;
    int bgsave_in_progress;
    long long last_bgsave_time_sec, current_bgsave_time_sec;
    long long saves;
    long long last_cow_size;
    long long last_load_keys_expired, last_load_keys_loaded;
    long long total_forks, latest_fork_usec;
    /* loading_* fields, valid when loading */
    long long loading_start_time, loading_total_bytes, loading_rdb_used_mem, loading_loaded_bytes;
    double loading_loaded_perc;
    long long loading_eta_seconds;
} rdbInfo;
void rdbGetInfo(rdbInfo *ri);
void rdbResetStats(void);

/* Commands. */
struct client;
void saveCommand(struct client *c);
void bgsaveCommand(struct client *c);

#endif
