/* commands.c -- the command table at run time: registration, lookup, key extraction
 * from key specs, per-command and per-error statistics, and the COMMAND command.
 *
 * The static table comes from commands_def.c (generated). At startup every entry whose
 * implementation is linked (non-NULL weak proc) is registered in server.commands, a
 * hashtable keyed case-insensitively by name; a container command (CLIENT, CONFIG...)
 * is registered when at least one of its subcommands is, and keeps its own hashtable
 * of subcommands.
 */
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "server.h"
#include "networking.h"
#include "hashtable.h"
#include "zmalloc.h"
#include "util.h"

extern serverCommand serverCommandTable[];

/* Error codes tracked by INFO errorstats are capped, as a client could otherwise
 * create unbounded entries with arbitrary error prefixes (e.g. from scripts). */
#define ERROR_STATS_MAX_CODES 128

/* ------------------------------------------------------------------------- */
/* Lookup tables                                                              */
/* ------------------------------------------------------------------------- */

static uint64_t commandNameHash(const void *key) {
    return hashtableGenCaseHashFunction(key, sdslen((sds)key));
}

static int commandNameCompare(const void *a, const void *b) {
    size_t la = sdslen((sds)a), lb = sdslen((sds)b);
    return la != lb || strncasecmp(a, b, la) != 0;
}

static const void *commandGetName(const void *entry) {
    return ((const serverCommand *)entry)->name;
}

static hashtableType commandTableType = {
    .hashFunction = commandNameHash,
    .entryGetKey = commandGetName,
    .keyCompare = commandNameCompare,
};

typedef struct errorStat {
    sds code;
    long long count;
} errorStat;

static const void *errorStatGetKey(const void *entry) {
    return ((const errorStat *)entry)->code;
}

static uint64_t errorCodeHash(const void *key) {
    return hashtableGenHashFunction(key, sdslen((sds)key));
}

static int errorCodeCompare(const void *a, const void *b) {
    return sdscmp((sds)a, (sds)b);
}

static void errorStatFree(void *entry) {
    errorStat *e = entry;
    sdsfree(e->code);
    zfree(e);
}

static hashtableType errorTableType = {
    .hashFunction = errorCodeHash,
    .entryGetKey = errorStatGetKey,
    .keyCompare = errorCodeCompare,
    .entryDestructor = errorStatFree,
};

static int next_command_id = 0;
static unsigned long registered_commands = 0;

static int commandIsImplemented(serverCommand *cmd) {
    if (cmd->proc) return 1;
    for (serverCommand *sub = cmd->subcommands; sub && sub->declared_name; sub++)
        if (sub->proc) return 1;
    return 0;
}

static void initCommand(serverCommand *cmd, serverCommand *parent) {
    cmd->name = sdsnew(cmd->declared_name);
    cmd->parent = parent;
    cmd->fullname = parent ? sdscatfmt(sdsempty(), "%s|%s", parent->declared_name, cmd->declared_name)
                           : sdsnew(cmd->declared_name);
    cmd->id = next_command_id++;
    cmd->latency_histogram = NULL;
}

static void registerCommand(hashtable *table, serverCommand *cmd, serverCommand *parent) {
    initCommand(cmd, parent);
    hashtableAdd(table, cmd);
    registered_commands++;
    if (!cmd->subcommands) return;
    cmd->subcommands_ht = hashtableCreate(&commandTableType);
    for (serverCommand *sub = cmd->subcommands; sub->declared_name; sub++) {
        if (sub->proc) registerCommand(cmd->subcommands_ht, sub, cmd);
    }
}

void populateCommandTable(void) {
    server.commands = hashtableCreate(&commandTableType);
    server.orig_commands = hashtableCreate(&commandTableType);
    for (serverCommand *cmd = serverCommandTable; cmd->declared_name; cmd++) {
        if (!commandIsImplemented(cmd)) continue;
        registerCommand(server.commands, cmd, NULL);
        hashtableAdd(server.orig_commands, cmd);
    }
    server.errors = hashtableCreate(&errorTableType);
    server.errors_enabled = 1;
}

unsigned long commandCount(void) {
    return hashtableSize(server.commands);
}

static serverCommand *findCommandIn(hashtable *table, sds name) {
    void *found;
    if (table && hashtableFind(table, name, &found)) return found;
    return NULL;
}

serverCommand *lookupCommand(robj **argv, int argc) {
    serverCommand *base = findCommandIn(server.commands, objectGetVal(argv[0]));
    if (!base || !base->subcommands_ht || argc < 2) return base;
    /* Containers that are also commands by themselves (COMMAND) accept any argument. */
    serverCommand *sub = findCommandIn(base->subcommands_ht, objectGetVal(argv[1]));
    if (!sub && base->proc) return base;
    return sub;
}

serverCommand *lookupCommandOrOriginal(robj **argv, int argc) {
    return lookupCommand(argv, argc);
}

serverCommand *lookupCommandBySds(sds s) {
    int count;
    sds *parts = sdssplitlen(s, sdslen(s), "|", 1, &count);
    serverCommand *cmd = NULL;
    if (parts && count >= 1 && count <= 2) {
        cmd = findCommandIn(server.commands, parts[0]);
        if (cmd && count == 2) cmd = findCommandIn(cmd->subcommands_ht, parts[1]);
        else if (cmd && count == 1 && !cmd->proc) cmd = cmd; /* a container by name */
    }
    sdsfreesplitres(parts, count);
    return cmd;
}

serverCommand *lookupCommandByCString(const char *s) {
    sds name = sdsnew(s);
    serverCommand *cmd = lookupCommandBySds(name);
    sdsfree(name);
    return cmd;
}

int isContainerCommandBySds(sds s) {
    serverCommand *cmd = findCommandIn(server.commands, s);
    return cmd && cmd->subcommands_ht != NULL;
}

/* ------------------------------------------------------------------------- */
/* Keys from key specs                                                        */
/* ------------------------------------------------------------------------- */

void initGetKeysResult(getKeysResult *r) {
    r->keys = r->keysbuf;
    r->numkeys = 0;
    r->size = sizeof(r->keysbuf) / sizeof(r->keysbuf[0]);
}

void getKeysFreeResult(getKeysResult *r) {
    if (r->keys != r->keysbuf) zfree(r->keys);
    initGetKeysResult(r);
}

static void getKeysAppend(getKeysResult *r, int pos, uint64_t flags) {
    if (r->numkeys == r->size) {
        int newsize = r->size * 2;
        keyReference *grown = zmalloc(sizeof(keyReference) * newsize);
        memcpy(grown, r->keys, sizeof(keyReference) * r->numkeys);
        if (r->keys != r->keysbuf) zfree(r->keys);
        r->keys = grown;
        r->size = newsize;
    }
    r->keys[r->numkeys].pos = pos;
    r->keys[r->numkeys].flags = flags;
    r->numkeys++;
}

/* Where the search for keys starts, or -1 if the spec finds nothing in this argv. */
static int keySpecBeginSearch(const keySpec *spec, robj **argv, int argc) {
    if (spec->begin_search_type == KSPEC_BS_INDEX) return spec->bs.index.pos < argc ? spec->bs.index.pos : -1;
    if (spec->begin_search_type != KSPEC_BS_KEYWORD) return -1;
    int start = spec->bs.keyword.startfrom;
    int step = start > 0 ? 1 : -1;
    int i = start > 0 ? start : argc + start;
    for (; i > 0 && i < argc; i += step) {
        if (!strcasecmp(objectGetVal(argv[i]), spec->bs.keyword.keyword)) return i + 1 < argc ? i + 1 : -1;
    }
    return -1;
}

/* Appends the keys one spec finds; returns -1 when argv is malformed for the spec. */
static int keySpecFindKeys(const keySpec *spec, int first, robj **argv, int argc, getKeysResult *r) {
    int last, step;
    if (spec->find_keys_type == KSPEC_FK_RANGE) {
        step = spec->fk.range.keystep;
        if (spec->fk.range.lastkey >= 0) {
            last = first + spec->fk.range.lastkey;
        } else if (spec->fk.range.limit <= 1) {
            last = argc + spec->fk.range.lastkey;
        } else {
            last = first + ((argc - first) / spec->fk.range.limit + spec->fk.range.lastkey);
        }
    } else if (spec->find_keys_type == KSPEC_FK_KEYNUM) {
        int numidx = first + spec->fk.keynum.keynumidx;
        long long numkeys;
        if (numidx >= argc) return -1;
        sds n = objectGetVal(argv[numidx]);
        if (!string2ll(n, sdslen(n), &numkeys) || numkeys < 0) return -1;
        /* More keys than arguments is an error anyway; the bound keeps the arithmetic
         * below in range (and in an int). */
        if (numkeys > argc) return -1;
        first += spec->fk.keynum.firstkey;
        step = spec->fk.keynum.keystep;
        last = first + (int)numkeys * step - 1;
        if (numkeys == 0) return 0;
    } else {
        return 0;
    }
    if (last >= argc || last < first - 1 || step <= 0) return -1;
    for (int i = first; i <= last; i += step) getKeysAppend(r, i, spec->flags);
    return 0;
}

int getKeysFromCommandWithSpecs(serverCommand *cmd, robj **argv, int argc, int search_flags, getKeysResult *result) {
    for (int j = 0; j < cmd->key_specs_num; j++) {
        const keySpec *spec = &cmd->key_specs[j];
        if ((spec->flags & CMD_KEY_NOT_KEY) && !(search_flags & GET_KEYSPEC_INCLUDE_NOT_KEYS)) continue;
        int first = keySpecBeginSearch(spec, argv, argc);
        if (first < 0) continue;
        if (keySpecFindKeys(spec, first, argv, argc, result) < 0) {
            if (spec->flags & CMD_KEY_INCOMPLETE) continue;
            result->numkeys = 0;
            return -1;
        }
    }
    return result->numkeys;
}

int getKeysFromCommand(serverCommand *cmd, robj **argv, int argc, getKeysResult *result) {
    return getKeysFromCommandWithSpecs(cmd, argv, argc, GET_KEYSPEC_DEFAULT, result);
}

/* ------------------------------------------------------------------------- */
/* Statistics                                                                 */
/* ------------------------------------------------------------------------- */

static void resetCommandStats(hashtable *table) {
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, table);
    while (hashtableNext(&it, &entry)) {
        serverCommand *cmd = entry;
        cmd->microseconds = cmd->calls = cmd->rejected_calls = cmd->failed_calls = 0;
        if (cmd->latency_histogram) histogramReset(cmd->latency_histogram);
        if (cmd->subcommands_ht) resetCommandStats(cmd->subcommands_ht);
    }
    hashtableResetIterator(&it);
}

void resetCommandTableStats(void) {
    resetCommandStats(server.commands);
}

void resetErrorTableStats(void) {
    hashtableEmpty(server.errors, NULL);
    server.errors_enabled = 1;
}

void incrementErrorCount(const char *fullerr, size_t namelen) {
    if (!server.errors_enabled) return;
    sds code = sdsnewlen(fullerr, namelen);
    void *found;
    if (hashtableFind(server.errors, code, &found)) {
        ((errorStat *)found)->count++;
        sdsfree(code);
        return;
    }
    if (hashtableSize(server.errors) >= ERROR_STATS_MAX_CODES) {
        serverLog(LL_WARNING, "Errorstats stopped adding new errors because the number of different errors "
                              "reached %d; all errors will be tracked as 'ERRORSTATS_DISABLED'",
                  ERROR_STATS_MAX_CODES);
        server.errors_enabled = 0;
        sdsfree(code);
        return;
    }
    errorStat *e = zmalloc(sizeof(*e));
    e->code = code;
    e->count = 1;
    hashtableAdd(server.errors, e);
}

/* Commands are listed in a stable order (by id, i.e. table order) so INFO reads alike. */
static int collectCommands(hashtable *table, serverCommand **out, int n) {
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, table);
    while (hashtableNext(&it, &entry)) {
        serverCommand *cmd = entry;
        out[n++] = cmd;
        if (cmd->subcommands_ht) n = collectCommands(cmd->subcommands_ht, out, n);
    }
    hashtableResetIterator(&it);
    return n;
}

static int compareCommandIds(const void *a, const void *b) {
    return (*(serverCommand *const *)a)->id - (*(serverCommand *const *)b)->id;
}

static serverCommand **sortedCommands(int *count) {
    serverCommand **all = zmalloc(sizeof(serverCommand *) * (registered_commands + 1));
    *count = collectCommands(server.commands, all, 0);
    qsort(all, *count, sizeof(*all), compareCommandIds);
    return all;
}

sds genCommandStatsInfoString(sds info) {
    int n;
    serverCommand **all = sortedCommands(&n);
    for (int i = 0; i < n; i++) {
        serverCommand *c = all[i];
        if (!c->calls && !c->failed_calls && !c->rejected_calls) continue;
        info = sdscatprintf(info,
                            "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,failed_calls=%lld\r\n",
                            c->fullname, c->calls, c->microseconds,
                            c->calls == 0 ? 0 : ((float)c->microseconds / c->calls), c->rejected_calls,
                            c->failed_calls);
    }
    zfree(all);
    return info;
}

sds genErrorStatsInfoString(sds info) {
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, server.errors);
    while (hashtableNext(&it, &entry)) {
        errorStat *e = entry;
        info = sdscatprintf(info, "errorstat_%s:count=%lld\r\n", e->code, e->count);
    }
    hashtableResetIterator(&it);
    return info;
}

sds genLatencyStatsInfoString(sds info) {
    int n;
    serverCommand **all = sortedCommands(&n);
    for (int i = 0; i < n; i++) {
        serverCommand *c = all[i];
        if (!c->latency_histogram || c->latency_histogram->total_count == 0) continue;
        info = sdscatprintf(info, "latency_percentiles_usec_%s:", c->fullname);
        for (int j = 0; j < server.latency_tracking_info_percentiles_len; j++) {
            double p = server.latency_tracking_info_percentiles[j];
            char pbuf[128];
            d2string(pbuf, sizeof(pbuf), p);
            uint64_t ns = histogramValueAtPercentile(c->latency_histogram, p);
            info = sdscatprintf(info, "p%s=%.3f%s", pbuf, ns / 1000.0f,
                                j == server.latency_tracking_info_percentiles_len - 1 ? "" : ",");
        }
        info = sdscat(info, "\r\n");
    }
    zfree(all);
    return info;
}

/* ------------------------------------------------------------------------- */
/* COMMAND                                                                    */
/* ------------------------------------------------------------------------- */

/* CMD_PROTECTED is enforced but, as in Valkey, not listed by COMMAND INFO. */
static const struct {
    uint64_t flag;
    const char *name;
} command_flag_names[] = {
    {CMD_WRITE, "write"}, {CMD_READONLY, "readonly"}, {CMD_DENYOOM, "denyoom"}, {CMD_MODULE, "module"},
    {CMD_ADMIN, "admin"}, {CMD_PUBSUB, "pubsub"}, {CMD_NOSCRIPT, "noscript"}, {CMD_BLOCKING, "blocking"},
    {CMD_LOADING, "loading"}, {CMD_STALE, "stale"}, {CMD_SKIP_MONITOR, "skip_monitor"},
    {CMD_SKIP_SLOWLOG, "skip_slowlog"}, {CMD_ASKING, "asking"}, {CMD_FAST, "fast"}, {CMD_NO_AUTH, "no_auth"},
    {CMD_MAY_REPLICATE, "may_replicate"}, {CMD_SENTINEL, "sentinel"}, {CMD_ONLY_SENTINEL, "only_sentinel"},
    {CMD_NO_MANDATORY_KEYS, "no_mandatory_keys"},
    {CMD_MODULE_GETKEYS, "module_getkeys"}, {CMD_MODULE_NO_CLUSTER, "module_no_cluster"},
    {CMD_NO_ASYNC_LOADING, "no_async_loading"}, {CMD_NO_MULTI, "no_multi"}, {CMD_MOVABLE_KEYS, "movablekeys"},
    {CMD_ALLOW_BUSY, "allow_busy"}, {0, NULL}};

static const struct {
    uint64_t flag;
    const char *name;
} acl_category_names[] = {
    {ACL_CATEGORY_KEYSPACE, "keyspace"}, {ACL_CATEGORY_READ, "read"}, {ACL_CATEGORY_WRITE, "write"},
    {ACL_CATEGORY_SET, "set"}, {ACL_CATEGORY_SORTEDSET, "sortedset"}, {ACL_CATEGORY_LIST, "list"},
    {ACL_CATEGORY_HASH, "hash"}, {ACL_CATEGORY_STRING, "string"}, {ACL_CATEGORY_BITMAP, "bitmap"},
    {ACL_CATEGORY_HYPERLOGLOG, "hyperloglog"}, {ACL_CATEGORY_GEO, "geo"}, {ACL_CATEGORY_STREAM, "stream"},
    {ACL_CATEGORY_PUBSUB, "pubsub"}, {ACL_CATEGORY_ADMIN, "admin"}, {ACL_CATEGORY_FAST, "fast"},
    {ACL_CATEGORY_SLOW, "slow"}, {ACL_CATEGORY_BLOCKING, "blocking"}, {ACL_CATEGORY_DANGEROUS, "dangerous"},
    {ACL_CATEGORY_CONNECTION, "connection"}, {ACL_CATEGORY_TRANSACTION, "transaction"},
    {ACL_CATEGORY_SCRIPTING, "scripting"}, {ACL_CATEGORY_FLASH, "flash"}, {0, NULL}};

static const char *key_spec_flag_names[] = {"RO",     "RW",     "OW",     "RM",      "access",        "update",
                                            "insert", "delete", "not_key", "incomplete", "variable_flags"};

const char *commandFlagName(uint64_t flag) {
    for (int i = 0; command_flag_names[i].name; i++)
        if (command_flag_names[i].flag == flag) return command_flag_names[i].name;
    return NULL;
}

static void addReplyFlagSet(client *c, uint64_t flags) {
    int n = 0;
    for (int i = 0; command_flag_names[i].name; i++) n += (flags & command_flag_names[i].flag) != 0;
    addReplySetLen(c, n);
    for (int i = 0; command_flag_names[i].name; i++)
        if (flags & command_flag_names[i].flag) addReplyStatus(c, command_flag_names[i].name);
}

static void addReplyAclCategories(client *c, uint64_t cats) {
    int n = 0;
    for (int i = 0; acl_category_names[i].name; i++) n += (cats & acl_category_names[i].flag) != 0;
    addReplySetLen(c, n);
    for (int i = 0; acl_category_names[i].name; i++) {
        if (!(cats & acl_category_names[i].flag)) continue;
        addReplyStatusFormat(c, "@%s", acl_category_names[i].name);
    }
}

static void addReplyKeySpecFlags(client *c, uint64_t flags) {
    int count = sizeof(key_spec_flag_names) / sizeof(key_spec_flag_names[0]);
    int n = 0;
    for (int i = 0; i < count; i++) n += (flags & (1ULL << i)) != 0;
    addReplySetLen(c, n);
    for (int i = 0; i < count; i++)
        if (flags & (1ULL << i)) addReplyStatus(c, key_spec_flag_names[i]);
}

static void addReplyKeySpec(client *c, const keySpec *spec) {
    addReplyMapLen(c, 3);
    addReplyBulkCString(c, "flags");
    addReplyKeySpecFlags(c, spec->flags);

    addReplyBulkCString(c, "begin_search");
    addReplyMapLen(c, 2);
    addReplyBulkCString(c, "type");
    if (spec->begin_search_type == KSPEC_BS_INDEX) {
        addReplyBulkCString(c, "index");
        addReplyBulkCString(c, "spec");
        addReplyMapLen(c, 1);
        addReplyBulkCString(c, "index");
        addReplyLongLong(c, spec->bs.index.pos);
    } else if (spec->begin_search_type == KSPEC_BS_KEYWORD) {
        addReplyBulkCString(c, "keyword");
        addReplyBulkCString(c, "spec");
        addReplyMapLen(c, 2);
        addReplyBulkCString(c, "keyword");
        addReplyBulkCString(c, spec->bs.keyword.keyword);
        addReplyBulkCString(c, "startfrom");
        addReplyLongLong(c, spec->bs.keyword.startfrom);
    } else {
        addReplyBulkCString(c, "unknown");
        addReplyBulkCString(c, "spec");
        addReplyMapLen(c, 0);
    }

    addReplyBulkCString(c, "find_keys");
    addReplyMapLen(c, 2);
    addReplyBulkCString(c, "type");
    if (spec->find_keys_type == KSPEC_FK_RANGE) {
        addReplyBulkCString(c, "range");
        addReplyBulkCString(c, "spec");
        addReplyMapLen(c, 3);
        addReplyBulkCString(c, "lastkey");
        addReplyLongLong(c, spec->fk.range.lastkey);
        addReplyBulkCString(c, "keystep");
        addReplyLongLong(c, spec->fk.range.keystep);
        addReplyBulkCString(c, "limit");
        addReplyLongLong(c, spec->fk.range.limit);
    } else if (spec->find_keys_type == KSPEC_FK_KEYNUM) {
        addReplyBulkCString(c, "keynum");
        addReplyBulkCString(c, "spec");
        addReplyMapLen(c, 3);
        addReplyBulkCString(c, "keynumidx");
        addReplyLongLong(c, spec->fk.keynum.keynumidx);
        addReplyBulkCString(c, "firstkey");
        addReplyLongLong(c, spec->fk.keynum.firstkey);
        addReplyBulkCString(c, "keystep");
        addReplyLongLong(c, spec->fk.keynum.keystep);
    } else {
        addReplyBulkCString(c, "unknown");
        addReplyBulkCString(c, "spec");
        addReplyMapLen(c, 0);
    }
}

static int registeredSubcommandCount(serverCommand *cmd) {
    return cmd->subcommands_ht ? (int)hashtableSize(cmd->subcommands_ht) : 0;
}

/* Subcommands are replied in table order so the output is stable. */
static void forEachRegisteredSubcommand(serverCommand *cmd, void (*fn)(client *, serverCommand *), client *c) {
    if (!cmd->subcommands) return;
    for (serverCommand *sub = cmd->subcommands; sub->declared_name; sub++)
        if (sub->proc) fn(c, sub);
}

static void addReplyCommandInfo(client *c, serverCommand *cmd) {
    if (!cmd) {
        addReplyNull(c);
        return;
    }
    int tips = 0;
    while (cmd->tips && cmd->tips[tips]) tips++;
    addReplyArrayLen(c, 10);
    addReplyBulkCBuffer(c, cmd->fullname, sdslen(cmd->fullname));
    addReplyLongLong(c, cmd->arity);
    addReplyFlagSet(c, cmd->flags);
    addReplyLongLong(c, cmd->legacy_first);
    addReplyLongLong(c, cmd->legacy_last);
    addReplyLongLong(c, cmd->legacy_step);
    addReplyAclCategories(c, cmd->acl_categories);
    addReplySetLen(c, tips);
    for (int i = 0; i < tips; i++) addReplyBulkCString(c, cmd->tips[i]);
    addReplyArrayLen(c, cmd->key_specs_num);
    for (int i = 0; i < cmd->key_specs_num; i++) addReplyKeySpec(c, &cmd->key_specs[i]);
    addReplyArrayLen(c, registeredSubcommandCount(cmd));
    forEachRegisteredSubcommand(cmd, addReplyCommandInfo, c);
}

/* The documentation group of a command, derived from its ACL categories. */
static const char *commandGroup(serverCommand *cmd) {
    static const struct {
        uint64_t cat;
        const char *group;
    } groups[] = {{ACL_CATEGORY_BITMAP, "bitmap"},          {ACL_CATEGORY_STRING, "string"},
                  {ACL_CATEGORY_LIST, "list"},              {ACL_CATEGORY_HASH, "hash"},
                  {ACL_CATEGORY_SORTEDSET, "sorted-set"},  {ACL_CATEGORY_SET, "set"},
                  {ACL_CATEGORY_HYPERLOGLOG, "hyperloglog"}, {ACL_CATEGORY_GEO, "geo"},
                  {ACL_CATEGORY_STREAM, "stream"},         {ACL_CATEGORY_PUBSUB, "pubsub"},
                  {ACL_CATEGORY_SCRIPTING, "scripting"},   {ACL_CATEGORY_TRANSACTION, "transactions"},
                  {ACL_CATEGORY_CONNECTION, "connection"}, {ACL_CATEGORY_KEYSPACE, "generic"},
                  {0, NULL}};
    serverCommand *top = cmd->parent ? cmd->parent : cmd;
    for (int i = 0; groups[i].group; i++)
        if (top->acl_categories & groups[i].cat) return groups[i].group;
    return "server";
}

/* We carry no documentation text, so COMMAND DOCS reports what the table knows:
 * the group and the subcommands. Clients treat missing fields as unknown. */
static void addReplyCommandDocs(client *c, serverCommand *cmd) {
    int subs = registeredSubcommandCount(cmd);
    addReplyMapLen(c, subs ? 2 : 1);
    addReplyBulkCString(c, "group");
    addReplyBulkCString(c, commandGroup(cmd));
    if (!subs) return;
    addReplyBulkCString(c, "subcommands");
    addReplyMapLen(c, subs);
    for (serverCommand *sub = cmd->subcommands; sub->declared_name; sub++) {
        if (!sub->proc) continue;
        addReplyBulkCBuffer(c, sub->fullname, sdslen(sub->fullname));
        addReplyCommandDocs(c, sub);
    }
}

static void addReplyAllCommands(client *c, void (*fn)(client *, serverCommand *), int with_names) {
    int n = 0;
    for (serverCommand *cmd = serverCommandTable; cmd->declared_name; cmd++) n += cmd->name != NULL;
    if (with_names) addReplyMapLen(c, n);
    else addReplyArrayLen(c, n);
    for (serverCommand *cmd = serverCommandTable; cmd->declared_name; cmd++) {
        if (!cmd->name) continue;
        if (with_names) addReplyBulkCBuffer(c, cmd->fullname, sdslen(cmd->fullname));
        fn(c, cmd);
    }
}

void commandCommand(client *c) {
    addReplyAllCommands(c, addReplyCommandInfo, 0);
}

void commandCountCommand(client *c) {
    addReplyLongLong(c, commandCount());
}

void commandInfoCommand(client *c) {
    if (c->argc == 2) {
        addReplyAllCommands(c, addReplyCommandInfo, 0);
        return;
    }
    addReplyArrayLen(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) addReplyCommandInfo(c, lookupCommandBySds(objectGetVal(c->argv[i])));
}

void commandDocsCommand(client *c) {
    if (c->argc == 2) {
        addReplyAllCommands(c, addReplyCommandDocs, 1);
        return;
    }
    void *deferred = addReplyDeferredLen(c);
    long found = 0;
    for (int i = 2; i < c->argc; i++) {
        serverCommand *cmd = lookupCommandBySds(objectGetVal(c->argv[i]));
        if (!cmd) continue;
        addReplyBulkCBuffer(c, cmd->fullname, sdslen(cmd->fullname));
        addReplyCommandDocs(c, cmd);
        found++;
    }
    setDeferredMapLen(c, deferred, found);
}

typedef struct {
    int type; /* 0 none, 1 aclcat, 2 pattern, 3 module */
    uint64_t aclcat;
    sds pattern;
} commandListFilter;

static int commandMatchesFilter(serverCommand *cmd, commandListFilter *f) {
    if (f->type == 1) return (cmd->acl_categories & f->aclcat) != 0;
    if (f->type == 2) return stringmatchlen(f->pattern, sdslen(f->pattern), cmd->fullname, sdslen(cmd->fullname), 1);
    if (f->type == 3) return 0; /* no modules */
    return 1;
}

static void commandListWithFilter(client *c, serverCommand *cmd, commandListFilter *f, long *count) {
    if (commandMatchesFilter(cmd, f)) {
        addReplyBulkCBuffer(c, cmd->fullname, sdslen(cmd->fullname));
        (*count)++;
    }
    if (!cmd->subcommands) return;
    for (serverCommand *sub = cmd->subcommands; sub->declared_name; sub++)
        if (sub->proc) commandListWithFilter(c, sub, f, count);
}

void commandListCommand(client *c) {
    commandListFilter filter = {0};
    if (c->argc == 5 && !strcasecmp(objectGetVal(c->argv[2]), "filterby")) {
        const char *kind = objectGetVal(c->argv[3]);
        sds arg = objectGetVal(c->argv[4]);
        if (!strcasecmp(kind, "aclcat")) {
            filter.type = 1;
            for (int i = 0; acl_category_names[i].name; i++)
                if (!strcasecmp(arg, acl_category_names[i].name)) filter.aclcat = acl_category_names[i].flag;
        } else if (!strcasecmp(kind, "pattern")) {
            filter.type = 2;
            filter.pattern = arg;
        } else if (!strcasecmp(kind, "module")) {
            filter.type = 3;
        } else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    } else if (c->argc != 2) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    void *deferred = addReplyDeferredLen(c);
    long count = 0;
    for (serverCommand *cmd = serverCommandTable; cmd->declared_name; cmd++)
        if (cmd->name) commandListWithFilter(c, cmd, &filter, &count);
    setDeferredArrayLen(c, deferred, count);
}

int commandCheckArity(serverCommand *cmd, int argc, sds *err) {
    if ((cmd->arity > 0 && cmd->arity != argc) || (argc < -cmd->arity)) {
        if (err) *err = sdscatprintf(sdsempty(), "wrong number of arguments for '%s' command", cmd->fullname);
        return 0;
    }
    return 1;
}

static void getKeysSubcommand(client *c, int with_flags) {
    serverCommand *cmd = lookupCommand(c->argv + 2, c->argc - 2);
    getKeysResult result;
    initGetKeysResult(&result);
    if (!cmd) {
        addReplyError(c, "Invalid command specified");
        return;
    }
    int has_keys = 0;
    for (int j = 0; j < cmd->key_specs_num; j++) {
        if (!(cmd->key_specs[j].flags & CMD_KEY_NOT_KEY)) has_keys = 1;
    }
    if (!has_keys) {
        addReplyError(c, "The command has no key arguments");
        return;
    }
    if (!commandCheckArity(cmd, c->argc - 2, NULL)) {
        addReplyError(c, "Invalid number of arguments specified for command");
        return;
    }
    if (getKeysFromCommandWithSpecs(cmd, c->argv + 2, c->argc - 2, GET_KEYSPEC_DEFAULT, &result) <= 0) {
        if (cmd->flags & CMD_NO_MANDATORY_KEYS) addReplyEmptyArray(c);
        else addReplyError(c, "Invalid arguments specified for command");
        getKeysFreeResult(&result);
        return;
    }
    addReplyArrayLen(c, result.numkeys);
    for (int j = 0; j < result.numkeys; j++) {
        robj *key = c->argv[2 + result.keys[j].pos];
        if (!with_flags) {
            addReplyBulk(c, key);
            continue;
        }
        addReplyArrayLen(c, 2);
        addReplyBulk(c, key);
        addReplyKeySpecFlags(c, result.keys[j].flags);
    }
    getKeysFreeResult(&result);
}

void commandGetkeysCommand(client *c) {
    getKeysSubcommand(c, 0);
}

void commandGetkeysandflagsCommand(client *c) {
    getKeysSubcommand(c, 1);
}

void commandHelpCommand(client *c) {
    const char *help[] = {
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands in this server.",
        "LIST",
        "    Return a list of all commands in this server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full command.",
        NULL};
    addReplyHelp(c, help);
}
