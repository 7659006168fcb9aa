/* functions.c -- the library registry, the FUNCTION commands and FCALL/FCALL_RO.
 * See functions.h for the model and the payload format.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <lzf.h>

#include "functions.h"
#include "commands.h"
#include "crc64.h"
#include "db.h"
#include "hashtable.h"
#include "networking.h"
#include "script.h"
#include "server.h"
#include "util.h"
#include "zmalloc.h"

/* The RDB bits a function payload is made of (same values as rdb.h). */
#define FN_RDB_OPCODE_FUNCTION2 245
#define FN_RDB_OPCODE_FUNCTION_PRE_GA 246
#define FN_RDB_VERSION 11
#define FN_RDB_6BITLEN 0
#define FN_RDB_14BITLEN 1
#define FN_RDB_32BITLEN 0x80
#define FN_RDB_64BITLEN 0x81
#define FN_RDB_ENCVAL 3
#define FN_RDB_ENC_INT8 0
#define FN_RDB_ENC_INT16 1
#define FN_RDB_ENC_INT32 2
#define FN_RDB_ENC_LZF 3
/* Strings up to this length are never worth compressing. */
#define FN_LZF_MIN_LEN 20
#define DUMP_FOOTER_LEN 10 /* RDB version (2) + CRC64 (8) */


static hashtable *libraries; /* name -> functionLibInfo*, case-sensitive */
static hashtable *functions; /* name -> functionInfo*, case-insensitive */
static size_t functions_mem; /* library and function entries, code included */

/* ------------------------------------------------------------------------- */
/* Registry                                                                   */
/* ------------------------------------------------------------------------- */

static uint64_t libraryHash(const void *key) {
    return hashtableGenHashFunction(key, sdslen((sds)key));
}

static int libraryCompare(const void *a, const void *b) {
    return sdslen((sds)a) != sdslen((sds)b) || memcmp(a, b, sdslen((sds)a)) != 0;
}

static const void *libraryGetName(const void *entry) {
    return ((const functionLibInfo *)entry)->name;
}

static uint64_t functionHash(const void *key) {
    return hashtableGenCaseHashFunction(key, sdslen((sds)key));
}

static int functionCompare(const void *a, const void *b) {
    return sdslen((sds)a) != sdslen((sds)b) || strncasecmp(a, b, sdslen((sds)a)) != 0;
}

static const void *functionGetName(const void *entry) {
    return ((const functionInfo *)entry)->name;
}

static hashtableType librariesType = {
    .hashFunction = libraryHash,
    .entryGetKey = libraryGetName,
    .keyCompare = libraryCompare,
};

static hashtableType functionsType = {
    .hashFunction = functionHash,
    .entryGetKey = functionGetName,
    .keyCompare = functionCompare,
};

static void functionsInit(void) {
    if (libraries) return;
    libraries = hashtableCreate(&librariesType);
    functions = hashtableCreate(&functionsType);
    functionsLuaInit();
}

static size_t libraryMemory(functionLibInfo *li) {
    size_t mem = sizeof(*li) + sdsAllocSize(li->name) + sdsAllocSize(li->code) + sizeof(functionInfo *) * li->alloc;
    for (int j = 0; j < li->count; j++) {
        functionInfo *fi = li->functions[j];
        mem += sizeof(*fi) + sdsAllocSize(fi->name) + (fi->desc ? sdsAllocSize(fi->desc) : 0);
    }
    return mem;
}

static functionLibInfo *libraryCreate(sds name, sds code) {
    functionLibInfo *li = zcalloc(sizeof(*li));
    li->name = name;
    li->code = code;
    return li;
}

/* Frees a library that is not (or no longer) registered. release_refs: its callbacks
 * are dropped from the Lua state too (not when the state itself is being reset). */
static void libraryFree(functionLibInfo *li, int release_refs) {
    for (int j = 0; j < li->count; j++) {
        functionInfo *fi = li->functions[j];
        if (release_refs) functionsLuaReleaseFunction(fi);
        sdsfree(fi->name);
        sdsfree(fi->desc);
        zfree(fi);
    }
    zfree(li->functions);
    sdsfree(li->name);
    sdsfree(li->code);
    zfree(li);
}

static functionLibInfo *libraryLookup(sds name) {
    void *found;
    return hashtableFind(libraries, name, &found) ? found : NULL;
}

static functionInfo *functionLookup(sds name) {
    void *found;
    return hashtableFind(functions, name, &found) ? found : NULL;
}

static void libraryUnlink(functionLibInfo *li) {
    for (int j = 0; j < li->count; j++) hashtableDelete(functions, li->functions[j]->name);
    hashtableDelete(libraries, li->name);
    functions_mem -= libraryMemory(li);
}

static void libraryLink(functionLibInfo *li) {
    hashtableAdd(libraries, li);
    for (int j = 0; j < li->count; j++) hashtableAdd(functions, li->functions[j]);
    functions_mem += libraryMemory(li);
}

static int validName(const char *s, size_t len) {
    if (len == 0) return 0;
    for (size_t j = 0; j < len; j++)
        if (!isalnum((unsigned char)s[j]) && s[j] != '_') return 0;
    return 1;
}

int functionLibAddFunction(functionLibInfo *li, sds name, sds desc, int fn_ref, uint64_t flags, const char **err) {
    *err = NULL;
    if (!validName(name, sdslen(name))) {
        *err = "Function names can only contain letters, numbers, or underscores(_) and must be at least one "
               "character long";
    }
    for (int j = 0; !*err && j < li->count; j++)
        if (!strcasecmp(li->functions[j]->name, name)) *err = "Function already exists in the library";
    if (*err) {
        sdsfree(name);
        sdsfree(desc);
        return C_ERR;
    }
    functionInfo *fi = zcalloc(sizeof(*fi));
    fi->name = name;
    fi->desc = desc;
    fi->fn_ref = fn_ref;
    fi->flags = flags;
    fi->li = li;
    if (li->count == li->alloc) {
        li->alloc = li->alloc ? li->alloc * 2 : 4;
        li->functions = zrealloc(li->functions, sizeof(functionInfo *) * li->alloc);
    }
    li->functions[li->count++] = fi;
    return C_OK;
}

unsigned long functionsLibraryCount(void) {
    return libraries ? hashtableSize(libraries) : 0;
}

/* ------------------------------------------------------------------------- */
/* Loading                                                                    */
/* ------------------------------------------------------------------------- */

/* "#!<engine> name=<library>" on the first line: the engine and the name are returned,
 * and *body_offset is where the code to compile starts (the newline ending the shebang,
 * so line numbers stay those of the whole code). */
static int parseLibraryMetadata(sds code, sds *engine, sds *name, size_t *body_offset, sds *err) {
    *engine = *name = NULL;
    if (sdslen(code) < 2 || code[0] != '#' || code[1] != '!') {
        *err = sdsnew("Missing library metadata");
        return C_ERR;
    }
    const char *nl = memchr(code, '\n', sdslen(code));
    if (nl == NULL) {
        *err = sdsnew("Invalid library metadata");
        return C_ERR;
    }
    *body_offset = (size_t)(nl - code);
    sds line = sdsnewlen(code, *body_offset);
    int nparts;
    sds *parts = sdssplitargs(line, &nparts);
    sdsfree(line);
    if (parts == NULL || nparts == 0) {
        if (parts) sdsfreesplitres(parts, nparts);
        *err = sdsnew("Invalid library metadata");
        return C_ERR;
    }
    *engine = sdsnew(parts[0] + 2);
    for (int j = 1; j < nparts; j++) {
        if (strncasecmp(parts[j], "name=", 5) != 0) {
            *err = sdscatfmt(sdsempty(), "Invalid metadata value given: %s", parts[j]);
            break;
        }
        if (*name) {
            *err = sdsnew("Invalid metadata value, name argument was given multiple times");
            break;
        }
        *name = sdsnew(parts[j] + 5);
    }
    sdsfreesplitres(parts, nparts);
    if (!*err && !*name) *err = sdsnew("Library name was not given");
    if (*err) {
        sdsfree(*engine);
        sdsfree(*name);
        *engine = *name = NULL;
        return C_ERR;
    }
    return C_OK;
}

/* Builds a library from its code without registering it. NULL with *err set. */
static functionLibInfo *libraryBuild(sds code, sds *err) {
    sds engine, name;
    size_t body_offset;
    if (parseLibraryMetadata(code, &engine, &name, &body_offset, err) != C_OK) return NULL;
    if (strcasecmp(engine, "lua") != 0) {
        *err = sdscatfmt(sdsempty(), "Engine '%S' not found", engine);
        sdsfree(engine);
        sdsfree(name);
        return NULL;
    }
    sdsfree(engine);
    if (!validName(name, sdslen(name))) {
        *err = sdsnew("Library names can only contain letters, numbers, or underscores(_) and must be at least one "
                      "character long");
        sdsfree(name);
        return NULL;
    }
    functionLibInfo *li = libraryCreate(name, sdsdup(code));
    if (functionsLuaLoadLibrary(li, code + body_offset, sdslen(code) - body_offset, err) != C_OK) {
        libraryFree(li, 1);
        return NULL;
    }
    if (li->count == 0) {
        *err = sdsnew("No functions registered");
        libraryFree(li, 1);
        return NULL;
    }
    return li;
}

/* A function of li whose name another registered library (other than `replacing`) has. */
static functionInfo *libraryCollision(functionLibInfo *li, functionLibInfo *replacing) {
    for (int j = 0; j < li->count; j++) {
        functionInfo *other = functionLookup(li->functions[j]->name);
        if (other && other->li != replacing) return li->functions[j];
    }
    return NULL;
}

/* Registers li (built by libraryBuild), replacing a library of the same name when
 * replace. On refusal li is freed and *err set. */
static int libraryInstall(functionLibInfo *li, int replace, sds *err) {
    functionLibInfo *old = libraryLookup(li->name);
    if (old && !replace) {
        *err = sdscatfmt(sdsempty(), "Library '%S' already exists", li->name);
        libraryFree(li, 1);
        return C_ERR;
    }
    functionInfo *clash = libraryCollision(li, old);
    if (clash) {
        *err = sdscatfmt(sdsempty(), "Function %S already exists", clash->name);
        libraryFree(li, 1);
        return C_ERR;
    }
    if (old) {
        libraryUnlink(old);
        libraryFree(old, 1);
    }
    libraryLink(li);
    return C_OK;
}

/* Loads and registers a library; returns it, or NULL with *err set. */
static functionLibInfo *libraryLoad(sds code, int replace, sds *err) {
    functionsInit();
    functionLibInfo *li = libraryBuild(code, err);
    if (!li || libraryInstall(li, replace, err) != C_OK) return NULL;
    return li;
}

int functionsLoadLibraryCode(sds code, int replace, sds *err) {
    return libraryLoad(code, replace, err) ? C_OK : C_ERR;
}

/* Unregisters and frees every library. */
static void librariesClear(int release_refs) {
    size_t n = hashtableSize(libraries), i = 0;
    functionLibInfo **all = zmalloc(sizeof(*all) * (n ? n : 1));
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, libraries);
    while (hashtableNext(&it, &entry)) all[i++] = entry;
    hashtableResetIterator(&it);
    hashtableEmpty(functions, NULL);
    hashtableEmpty(libraries, NULL);
    for (i = 0; i < n; i++) libraryFree(all[i], release_refs);
    zfree(all);
    functions_mem = 0;
}

void functionsFlushAll(void) {
    if (!libraries) return;
    librariesClear(0);
    functionsLuaReset();
}

void functionsForEachLibraryCode(void (*proc)(void *privdata, sds code), void *privdata) {
    if (!libraries) return;
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, libraries);
    while (hashtableNext(&it, &entry)) proc(privdata, ((functionLibInfo *)entry)->code);
    hashtableResetIterator(&it);
}

/* ------------------------------------------------------------------------- */
/* FCALL                                                                      */
/* ------------------------------------------------------------------------- */

int fcallGetCommandFunctionFlags(client *c, uint64_t *flags) {
    if (!libraries || c->argc < 2) return 0;
    functionInfo *fi = functionLookup(objectGetVal(c->argv[1]));
    if (!fi) return 0;
    *flags = fi->flags;
    return 1;
}

static void fcallGenericCommand(client *c, int ro) {
    /* MONITOR shows the FCALL before the commands it runs. */
    if (listLength(server.monitors)) replicationFeedMonitors(c, server.monitors, c->db->id, c->argv, c->argc);
    long long numkeys;
    if (scriptParseNumkeys(c, &numkeys, "Bad number of keys provided") != C_OK) return;
    functionsInit();
    functionInfo *fi = functionLookup(objectGetVal(c->argv[1]));
    if (!fi) {
        addReplyError(c, "Function not found");
        return;
    }
    scriptRunCtx rctx;
    if (scriptPrepareForRun(&rctx, functionsLuaClient(), c, fi->name, fi->flags, ro, 0) != C_OK) return;
    /* Tiering hook: the declared keys are known before the function runs. */
    getKeysResult keys;
    scriptGetDeclaredKeys(c, &keys);
    getKeysFreeResult(&keys);
    functionsLuaCall(&rctx, fi, c->argv + 3, (size_t)numkeys, c->argv + 3 + numkeys, (size_t)(c->argc - 3 - numkeys));
    scriptResetRun(&rctx);
}

void fcallCommand(client *c) {
    fcallGenericCommand(c, 0);
}

void fcallRoCommand(client *c) {
    fcallGenericCommand(c, 1);
}

/* ------------------------------------------------------------------------- */
/* FUNCTION LOAD / DELETE / FLUSH / KILL / HELP                               */
/* ------------------------------------------------------------------------- */

void functionLoadCommand(client *c) {
    int replace = 0, j;
    for (j = 2; j < c->argc - 1; j++) {
        if (!strcasecmp(objectGetVal(c->argv[j]), "replace")) {
            replace = 1;
            continue;
        }
        addReplyErrorFormat(c, "Unknown option given: %s", (char *)objectGetVal(c->argv[j]));
        return;
    }
    if (j >= c->argc) {
        addReplyError(c, "Function code is missing");
        return;
    }
    sds err = NULL;
    functionLibInfo *li = libraryLoad(objectGetVal(c->argv[j]), replace, &err);
    if (!li) {
        addReplyErrorSds(c, err);
        return;
    }
    addReplyBulkCBuffer(c, li->name, sdslen(li->name));
    server.dirty++;
}

void functionDeleteCommand(client *c) {
    functionsInit();
    functionLibInfo *li = libraryLookup(objectGetVal(c->argv[2]));
    if (!li) {
        addReplyError(c, "Library not found");
        return;
    }
    libraryUnlink(li);
    libraryFree(li, 1);
    server.dirty++;
    addReply(c, shared.ok);
}

void functionFlushCommand(client *c) {
    if (c->argc > 3 ||
        (c->argc == 3 && strcasecmp(objectGetVal(c->argv[2]), "sync") && strcasecmp(objectGetVal(c->argv[2]), "async"))) {
        addReplyError(c, "FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    functionsFlushAll();
    server.dirty++;
    addReply(c, shared.ok);
}

void functionKillCommand(client *c) {
    scriptKill(c, 0);
}

void functionHelpCommand(client *c) {
    const char *help[] = {
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION "
        "RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        NULL,
    };
    addReplyHelp(c, help);
}

/* ------------------------------------------------------------------------- */
/* FUNCTION LIST / STATS                                                      */
/* ------------------------------------------------------------------------- */

static void replyFunction(client *c, functionInfo *fi) {
    addReplyMapLen(c, 3);
    addReplyBulkCString(c, "name");
    addReplyBulkCBuffer(c, fi->name, sdslen(fi->name));
    addReplyBulkCString(c, "description");
    if (fi->desc) addReplyBulkCBuffer(c, fi->desc, sdslen(fi->desc));
    else addReplyNull(c);
    addReplyBulkCString(c, "flags");
    int n = 0;
    for (const scriptFlag *sf = scripts_flags_def; sf->str; sf++)
        if (fi->flags & sf->flag) n++;
    addReplySetLen(c, n);
    for (const scriptFlag *sf = scripts_flags_def; sf->str; sf++)
        if (fi->flags & sf->flag) addReplyStatus(c, sf->str);
}

static void replyLibrary(client *c, functionLibInfo *li, int with_code) {
    addReplyMapLen(c, with_code ? 4 : 3);
    addReplyBulkCString(c, "library_name");
    addReplyBulkCBuffer(c, li->name, sdslen(li->name));
    addReplyBulkCString(c, "engine");
    addReplyBulkCString(c, "LUA");
    addReplyBulkCString(c, "functions");
    addReplyArrayLen(c, li->count);
    for (int j = 0; j < li->count; j++) replyFunction(c, li->functions[j]);
    if (with_code) {
        addReplyBulkCString(c, "library_code");
        addReplyBulkCBuffer(c, li->code, sdslen(li->code));
    }
}

void functionListCommand(client *c) {
    int with_code = 0;
    sds pattern = NULL;
    for (int j = 2; j < c->argc; j++) {
        sds arg = objectGetVal(c->argv[j]);
        if (!with_code && !strcasecmp(arg, "withcode")) {
            with_code = 1;
            continue;
        }
        if (!pattern && !strcasecmp(arg, "libraryname")) {
            if (j >= c->argc - 1) {
                addReplyError(c, "library name argument was not given");
                return;
            }
            pattern = objectGetVal(c->argv[++j]);
            continue;
        }
        addReplyErrorFormat(c, "Unknown argument %s", arg);
        return;
    }
    functionsInit();
    void *len = addReplyDeferredLen(c);
    long count = 0;
    hashtableIterator it;
    void *entry;
    hashtableInitIterator(&it, libraries);
    while (hashtableNext(&it, &entry)) {
        functionLibInfo *li = entry;
        if (pattern && !stringmatchlen(pattern, (int)sdslen(pattern), li->name, (int)sdslen(li->name), 1)) continue;
        replyLibrary(c, li, with_code);
        count++;
    }
    hashtableResetIterator(&it);
    setDeferredArrayLen(c, len, count);
}

void functionStatsCommand(client *c) {
    functionsInit();
    addReplyMapLen(c, 2);
    addReplyBulkCString(c, "running_script");
    if (!scriptIsRunning()) {
        addReplyNull(c);
    } else {
        client *caller = scriptGetCaller();
        addReplyMapLen(c, 3);
        addReplyBulkCString(c, "name");
        addReplyBulkCString(c, scriptCurrFunction());
        addReplyBulkCString(c, "command");
        addReplyArrayLen(c, caller->argc);
        for (int j = 0; j < caller->argc; j++) addReplyBulk(c, caller->argv[j]);
        addReplyBulkCString(c, "duration_ms");
        addReplyLongLong(c, scriptRunDuration());
    }
    addReplyBulkCString(c, "engines");
    addReplyMapLen(c, 1);
    addReplyBulkCString(c, "LUA");
    addReplyMapLen(c, 2);
    addReplyBulkCString(c, "libraries_count");
    addReplyLongLong(c, (long long)hashtableSize(libraries));
    addReplyBulkCString(c, "functions_count");
    addReplyLongLong(c, (long long)hashtableSize(functions));
}

/* ------------------------------------------------------------------------- */
/* FUNCTION DUMP / RESTORE                                                    */
/* ------------------------------------------------------------------------- */

static sds payloadAppendLength(sds p, uint64_t len) {
    unsigned char buf[9];
    size_t n;
    if (len < (1 << 6)) {
        buf[0] = (unsigned char)((FN_RDB_6BITLEN << 6) | len);
        n = 1;
    } else if (len < (1 << 14)) {
        buf[0] = (unsigned char)((FN_RDB_14BITLEN << 6) | (len >> 8));
        buf[1] = (unsigned char)(len & 0xff);
        n = 2;
    } else if (len <= UINT32_MAX) {
        buf[0] = FN_RDB_32BITLEN;
        for (int j = 0; j < 4; j++) buf[1 + j] = (unsigned char)(len >> (24 - 8 * j));
        n = 5;
    } else {
        buf[0] = FN_RDB_64BITLEN;
        for (int j = 0; j < 8; j++) buf[1 + j] = (unsigned char)(len >> (56 - 8 * j));
        n = 9;
    }
    return sdscatlen(p, buf, n);
}

/* An RDB string: LZF-compressed when that makes it at least 4 bytes smaller. */
static sds payloadAppendString(sds p, const char *s, size_t len) {
    if (len > FN_LZF_MIN_LEN) {
        size_t out_max = len - 4;
        char *out = zmalloc(out_max + 1);
        unsigned int clen = lzf_compress(s, (unsigned int)len, out, (unsigned int)out_max);
        if (clen > 0) {
            unsigned char enc = (FN_RDB_ENCVAL << 6) | FN_RDB_ENC_LZF;
            p = sdscatlen(p, &enc, 1);
            p = payloadAppendLength(p, clen);
            p = payloadAppendLength(p, len);
            p = sdscatlen(p, out, clen);
            zfree(out);
            return p;
        }
        zfree(out);
    }
    p = payloadAppendLength(p, len);
    return sdscatlen(p, s, len);
}

static void dumpLibrary(void *privdata, sds code) {
    sds *p = privdata;
    unsigned char opcode = FN_RDB_OPCODE_FUNCTION2;
    *p = sdscatlen(*p, &opcode, 1);
    *p = payloadAppendString(*p, code, sdslen(code));
}

static sds payloadAppendFooter(sds p) {
    unsigned char ver[2] = {FN_RDB_VERSION & 0xff, (FN_RDB_VERSION >> 8) & 0xff};
    p = sdscatlen(p, ver, 2);
    uint64_t crc = crc64(0, (unsigned char *)p, sdslen(p));
    unsigned char crcbuf[8];
    for (int j = 0; j < 8; j++) crcbuf[j] = (unsigned char)(crc >> (8 * j));
    return sdscatlen(p, crcbuf, 8);
}

void functionDumpCommand(client *c) {
    functionsInit();
    sds payload = sdsempty();
    functionsForEachLibraryCode(dumpLibrary, &payload);
    payload = payloadAppendFooter(payload);
    addReplyBulkSds(c, payload);
}

static int payloadVerify(const unsigned char *p, size_t len) {
    if (len < DUMP_FOOTER_LEN) return 0;
    const unsigned char *footer = p + len - DUMP_FOOTER_LEN;
    unsigned int rdbver = footer[0] | (footer[1] << 8);
    if (rdbver > FN_RDB_VERSION) return 0;
    uint64_t crc = crc64(0, p, len - 8), stored = 0;
    for (int j = 0; j < 8; j++) stored |= (uint64_t)footer[2 + j] << (8 * j);
    return crc == stored;
}

typedef struct payloadReader {
    const unsigned char *p, *end;
} payloadReader;

static int payloadReadLength(payloadReader *r, uint64_t *len, int *encoded) {
    *encoded = 0;
    if (r->p >= r->end) return 0;
    unsigned char b = *r->p++;
    int type = (b & 0xc0) >> 6;
    if (type == FN_RDB_ENCVAL) {
        *encoded = 1;
        *len = b & 0x3f;
    } else if (type == FN_RDB_6BITLEN) {
        *len = b & 0x3f;
    } else if (type == FN_RDB_14BITLEN) {
        if (r->p >= r->end) return 0;
        *len = ((uint64_t)(b & 0x3f) << 8) | *r->p++;
    } else {
        int n = b == FN_RDB_32BITLEN ? 4 : b == FN_RDB_64BITLEN ? 8 : 0;
        if (n == 0 || r->end - r->p < n) return 0;
        *len = 0;
        for (int j = 0; j < n; j++) *len = (*len << 8) | *r->p++;
    }
    return 1;
}

/* Reads an RDB string (plain, integer or LZF); NULL on malformed input. */
static sds payloadReadString(payloadReader *r) {
    uint64_t len;
    int encoded;
    if (!payloadReadLength(r, &len, &encoded)) return NULL;
    if (!encoded) {
        if ((uint64_t)(r->end - r->p) < len) return NULL;
        sds s = sdsnewlen(r->p, len);
        r->p += len;
        return s;
    }
    if (len == FN_RDB_ENC_LZF) {
        uint64_t clen, ulen;
        int e1, e2;
        if (!payloadReadLength(r, &clen, &e1) || !payloadReadLength(r, &ulen, &e2) || e1 || e2) return NULL;
        if ((uint64_t)(r->end - r->p) < clen || ulen == 0 || ulen > UINT32_MAX) return NULL;
        sds s = sdsnewlen(SDS_NOINIT, ulen);
        if (lzf_decompress(r->p, (unsigned int)clen, s, (unsigned int)ulen) != ulen) {
            sdsfree(s);
            return NULL;
        }
        r->p += clen;
        return s;
    }
    int width = len == FN_RDB_ENC_INT8 ? 1 : len == FN_RDB_ENC_INT16 ? 2 : len == FN_RDB_ENC_INT32 ? 4 : 0;
    if (width == 0 || r->end - r->p < width) return NULL;
    int64_t v = 0;
    for (int j = 0; j < width; j++) v |= (int64_t)r->p[j] << (8 * j);
    if (width == 1) v = (int8_t)v;
    else if (width == 2) v = (int16_t)v;
    else v = (int32_t)v;
    r->p += width;
    return sdsfromlonglong(v);
}

typedef enum { RESTORE_APPEND, RESTORE_REPLACE, RESTORE_FLUSH } restorePolicy;

static void freeLibraries(functionLibInfo **libs, int n) {
    for (int j = 0; j < n; j++) libraryFree(libs[j], 1);
    zfree(libs);
}

/* Builds every library of the payload; NULL with *err set when one fails, or when the
 * payload holds the same library or function twice. */
static functionLibInfo **restoreBuild(const unsigned char *p, size_t len, int *count, sds *err) {
    payloadReader r = {p, p + len - DUMP_FOOTER_LEN};
    functionLibInfo **libs = NULL;
    int n = 0;
    while (r.p < r.end) {
        unsigned char type = *r.p++;
        if (type != FN_RDB_OPCODE_FUNCTION2) {
            *err = sdsnew(type == FN_RDB_OPCODE_FUNCTION_PRE_GA ? "Pre-GA function format not supported"
                                                                  : "given type is not a function");
            break;
        }
        sds code = payloadReadString(&r);
        if (!code) {
            *err = sdsnew("Failed loading library payload");
            break;
        }
        functionLibInfo *li = libraryBuild(code, err);
        sdsfree(code);
        if (!li) break;
        libs = zrealloc(libs, sizeof(*libs) * (n + 1));
        libs[n++] = li;
        for (int j = 0; j < n - 1 && !*err; j++) {
            if (!strcmp(libs[j]->name, li->name)) *err = sdscatfmt(sdsempty(), "Library '%S' already exists", li->name);
            for (int a = 0; a < libs[j]->count && !*err; a++)
                for (int b = 0; b < li->count && !*err; b++)
                    if (!strcasecmp(libs[j]->functions[a]->name, li->functions[b]->name))
                        *err = sdscatfmt(sdsempty(), "Function %S already exists", li->functions[b]->name);
        }
        if (*err) break;
    }
    if (*err) {
        freeLibraries(libs, n);
        return NULL;
    }
    *count = n;
    return libs ? libs : zmalloc(sizeof(*libs)); /* an empty payload restores nothing */
}

/* Checks that libs can join the registry under the policy (not FLUSH). */
static int restoreCheck(functionLibInfo **libs, int n, restorePolicy policy, sds *err) {
    for (int j = 0; j < n; j++) {
        functionLibInfo *old = libraryLookup(libs[j]->name);
        if (old && policy == RESTORE_APPEND) {
            *err = sdscatfmt(sdsempty(), "Library %S already exists", libs[j]->name);
            return C_ERR;
        }
        for (int k = 0; k < libs[j]->count; k++) {
            functionInfo *other = functionLookup(libs[j]->functions[k]->name);
            if (!other || other->li == old) continue;
            /* Replaced by a library of the payload under the same name: no collision. */
            int replaced = 0;
            for (int m = 0; m < n && policy == RESTORE_REPLACE; m++)
                if (!strcmp(libs[m]->name, other->li->name)) replaced = 1;
            if (!replaced) {
                *err = sdscatfmt(sdsempty(), "Function %S already exists", libs[j]->functions[k]->name);
                return C_ERR;
            }
        }
    }
    return C_OK;
}

void functionRestoreCommand(client *c) {
    restorePolicy policy = RESTORE_APPEND;
    for (int j = 3; j < c->argc; j++) {
        const char *arg = objectGetVal(c->argv[j]);
        if (!strcasecmp(arg, "flush")) policy = RESTORE_FLUSH;
        else if (!strcasecmp(arg, "append")) policy = RESTORE_APPEND;
        else if (!strcasecmp(arg, "replace")) policy = RESTORE_REPLACE;
        else {
            addReplyError(c, "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
            return;
        }
    }
    sds payload = objectGetVal(c->argv[2]);
    size_t len = sdslen(payload);
    if (!payloadVerify((unsigned char *)payload, len)) {
        addReplyError(c, "DUMP payload version or checksum are wrong");
        return;
    }
    functionsInit();
    sds err = NULL;
    int n;
    functionLibInfo **libs = restoreBuild((unsigned char *)payload, len, &n, &err);
    if (!libs || (policy != RESTORE_FLUSH && restoreCheck(libs, n, policy, &err) != C_OK)) {
        if (libs) freeLibraries(libs, n);
        addReplyErrorSds(c, err);
        return;
    }
    if (policy == RESTORE_FLUSH) librariesClear(1);
    for (int j = 0; j < n; j++) {
        functionLibInfo *old = libraryLookup(libs[j]->name);
        if (old) {
            libraryUnlink(old);
            libraryFree(old, 1);
        }
    }
    for (int j = 0; j < n; j++) libraryLink(libs[j]);
    zfree(libs);
    server.dirty++;
    addReply(c, shared.ok);
}

/* ------------------------------------------------------------------------- */
/* INFO                                                                       */
/* ------------------------------------------------------------------------- */

void functionsGetMemStats(size_t *vm, size_t *overhead, size_t *nfunctions, size_t *nlibraries) {
    *vm = functionsLuaMemory();
    *overhead = functions_mem + (libraries ? hashtableMemUsage(libraries) + hashtableMemUsage(functions) : 0);
    *nfunctions = functions ? hashtableSize(functions) : 0;
    *nlibraries = libraries ? hashtableSize(libraries) : 0;
}
