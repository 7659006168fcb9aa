/* dump.c -- DUMP and RESTORE: one value in its RDB encoding, sealed with a footer.
 *
 * Payload layout (Valkey's): the RDB type byte and the value exactly as rdbSaveObject()
 * writes it, then a 2-byte RDB version (little endian) and the CRC64 of everything
 * before it (8 bytes, little endian). RESTORE accepts versions up to ours (11) and
 * Valkey 9's 80; the versions in between belong to other forks' formats and are refused.
 * The checksum is checked unless DEBUG SET-SKIP-CHECKSUM-VALIDATION turned it off, and
 * the value is parsed with the same guards as a file (deep blob checks per
 * sanitize-dump-payload), so a bad payload is an error reply, never a crash.
 */
#include <string.h>
#include <strings.h>

#include "crc64.h"
#include "db.h"
#include "networking.h"
#include "notify.h"
#include "object.h"
#include "rdb.h"
#include "rio.h"
#include "server.h"

#define DUMP_FOOTER_LEN 10 /* version (2) + CRC64 (8) */

/* The DUMP payload of a value (a new sds), or NULL when the value has no RDB form. */
sds rdbCreateDumpPayload(robj *o, robj *key, int dbid) {
    rio r;
    rioInitWithBuffer(&r, sdsempty());
    if (rdbSaveObjectType(&r, o) == -1 || rdbSaveObject(&r, o, key, dbid) == -1) {
        sdsfree(rioBufferTake(&r));
        return NULL;
    }
    unsigned char footer[DUMP_FOOTER_LEN];
    footer[0] = RDB_VERSION & 0xff;
    footer[1] = (RDB_VERSION >> 8) & 0xff;
    sds payload = rioBufferTake(&r);
    payload = sdscatlen(payload, footer, 2);
    uint64_t crc = crc64(0, (unsigned char *)payload, sdslen(payload));
    for (int j = 0; j < 8; j++) footer[2 + j] = (unsigned char)(crc >> (8 * j));
    return sdscatlen(payload, footer + 2, 8);
}

/* C_OK when the footer's version is one we read and the checksum matches. *rdbver
 * receives the version. */
int rdbVerifyDumpPayload(const unsigned char *p, size_t len, int *rdbver) {
    if (len < DUMP_FOOTER_LEN) return C_ERR;
    const unsigned char *footer = p + len - DUMP_FOOTER_LEN;
    int ver = footer[0] | (footer[1] << 8);
    if (ver > RDB_VERSION && ver != RDB_VERSION_VALKEY9) return C_ERR;
    *rdbver = ver;
    if (rdbSkipChecksumValidation()) return C_OK;
    uint64_t crc = crc64(0, p, len - 8), stored = 0;
    for (int j = 0; j < 8; j++) stored |= (uint64_t)footer[2 + j] << (8 * j);
    return crc == stored ? C_OK : C_ERR;
}

/* Parses a verified payload into a value; NULL when it is not a valid one. */
robj *rdbLoadDumpPayload(const unsigned char *p, size_t len, int rdbver, sds key, int dbid, int flags) {
    rio r;
    rioInitWithMemory(&r, p, len - DUMP_FOOTER_LEN);
    rdbSetLoadVersion(rdbver);
    rdbClearLoadError();
    int type = rdbLoadObjectType(&r), error = 0;
    robj *o = type == -1 ? NULL : rdbLoadObject(type, &r, key, dbid, flags, &error);
    rdbSetLoadVersion(RDB_VERSION);
    return o;
}

void dumpCommand(client *c) {
    robj *o = lookupKeyRead(c->db, c->argv[1]);
    if (!o) {
        addReplyNull(c);
        return;
    }
    sds payload = rdbCreateDumpPayload(o, c->argv[1], c->db->id);
    if (!payload) {
        addReplyError(c, "The value of this key can't be serialized");
        return;
    }
    addReplyBulkSds(c, payload);
}

static robj *absttlArgument(void) {
    static robj *absttl = NULL;
    if (!absttl) absttl = makeObjectShared(createStringObject("ABSTTL", 6));
    return absttl;
}

/* RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency] */
void restoreCommand(client *c) {
    long long ttl, lfu_freq = -1, lru_idle = -1, lru_clock = -1;
    int replace = 0, absttl = 0;
    for (int j = 4; j < c->argc; j++) {
        const char *opt = objectGetVal(c->argv[j]);
        int additional = c->argc - j - 1;
        if (!strcasecmp(opt, "replace")) {
            replace = 1;
        } else if (!strcasecmp(opt, "absttl")) {
            absttl = 1;
        } else if (!strcasecmp(opt, "idletime") && additional >= 1 && lfu_freq == -1) {
            if (getLongLongFromObjectOrReply(c, c->argv[j + 1], &lru_idle, NULL) != C_OK) return;
            if (lru_idle < 0) {
                addReplyError(c, "Invalid IDLETIME value, must be >= 0");
                return;
            }
            lru_clock = LRU_CLOCK();
            j++;
        } else if (!strcasecmp(opt, "freq") && additional >= 1 && lru_idle == -1) {
            if (getLongLongFromObjectOrReply(c, c->argv[j + 1], &lfu_freq, NULL) != C_OK) return;
            if (lfu_freq < 0 || lfu_freq > 255) {
                addReplyError(c, "Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            j++;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    robj *key = c->argv[1];
    if (!replace && lookupKeyWrite(c->db, key) != NULL) {
        addReplyErrorObject(c, shared.busykeyerr);
        return;
    }
    if (getLongLongFromObjectOrReply(c, c->argv[2], &ttl, NULL) != C_OK) return;
    if (ttl < 0) {
        addReplyError(c, "Invalid TTL value, must be >= 0");
        return;
    }
    sds payload = objectGetVal(c->argv[3]);
    int rdbver;
    if (rdbVerifyDumpPayload((unsigned char *)payload, sdslen(payload), &rdbver) == C_ERR) {
        addReplyError(c, "DUMP payload version or checksum are wrong");
        return;
    }
    robj *obj = rdbLoadDumpPayload((unsigned char *)payload, sdslen(payload), rdbver, objectGetVal(key), c->db->id,
                                   rdbRestoreSanitizeFlags());
    if (!obj) {
        addReplyError(c, "Bad data format");
        return;
    }

    int deleted = replace ? dbDelete(c->db, key) : 0;
    if (ttl && !absttl) ttl += commandTimeSnapshot();
    if (ttl && checkAlreadyExpired(ttl)) {
        /* Expired on arrival: the restore amounts to deleting the old key. */
        if (deleted) {
            rewriteClientCommandVector(c, 2, server.lazyfree_lazy_server_del ? shared.unlink : shared.del, key);
            signalModifiedKey(c, c->db, key);
            notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key, c->db->id);
            server.dirty++;
        }
        decrRefCount(obj);
        addReply(c, shared.ok);
        return;
    }
    obj = dbAdd(c->db, key, obj);
    if (ttl) {
        obj = setExpire(c, c->db, key, ttl);
        if (!absttl) {
            /* Replicas and the AOF get the absolute time. */
            robj *ttl_obj = createStringObjectFromLongLong(ttl);
            rewriteClientCommandArgument(c, 2, ttl_obj);
            decrRefCount(ttl_obj);
            rewriteClientCommandArgument(c, c->argc, absttlArgument());
        }
    }
    objectSetLRUOrLFU(obj, lfu_freq, lru_idle, lru_clock, 1000);
    signalModifiedKey(c, c->db, key);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "restore", key, c->db->id);
    addReply(c, shared.ok);
    server.dirty++;
}

/* The cluster's form of RESTORE (sent by MIGRATE with ASKING); the same here. */
void restoreAskingCommand(client *c) {
    restoreCommand(c);
}
