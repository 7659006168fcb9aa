/* eval.c -- EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD|EXISTS|FLUSH|KILL|SHOW|HELP.
 *
 * The script cache maps the lowercase hex SHA1 of a script's body to its compiled Lua
 * function (a reference in the eval Lua state's registry), its body and the flags of its
 * shebang line ("#!lua flags=no-writes,allow-oom"; no shebang is the compatibility mode).
 * A script first seen through EVAL lives in an LRU list of at most EVAL_SCRIPTS_LRU_MAX
 * entries: when it is full, the least recently used one is dropped (INFO evicted_scripts),
 * so that clients generating endless distinct scripts cannot fill the memory. SCRIPT LOAD
 * takes a script out of the list for good: loaded scripts stay until SCRIPT FLUSH, which
 * throws away the whole Lua state and starts a fresh one.
 *
 * One run: numkeys is checked, the script found (or compiled), its declared keys listed
 * (scriptGetDeclaredKeys, the tiering hook), the run prepared (script.c), the function
 * called with KEYS and ARGV as globals (script_lua.c), and the run reset.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>

#include "adlist.h"
#include "commands.h"
#include "db.h"
#include "hashtable.h"
#include "networking.h"
#include "script.h"
#include "script_lua.h"
#include "server.h"
#include "zmalloc.h"

#define SHA1_HEX_LEN 40
/* Scripts only ever seen through EVAL are kept up to this many. */
#define EVAL_SCRIPTS_LRU_MAX 500

typedef struct evalScript {
    char sha[SHA1_HEX_LEN + 1];
    sds body;            /* owned */
    int fn_ref;          /* the compiled function in the Lua registry */
    uint64_t flags;      /* SCRIPT_FLAG_* from the shebang */
    listNode *lru_node;  /* in eval_lru while only ever run through EVAL */
} evalScript;

void evalshaCommand(client *c);
void evalshaRoCommand(client *c);

static struct {
    lua_State *lua;
    client *client;      /* runs the scripts' commands */
    hashtable *scripts;  /* sha -> evalScript */
    list *lru;           /* evalScript*, least recently used first */
    size_t scripts_mem;  /* bodies and entries, INFO used_memory_scripts_eval */
    long long evicted;   /* INFO evicted_scripts */
} ev;

/* ------------------------------------------------------------------------- */
/* The cache                                                                  */
/* ------------------------------------------------------------------------- */

static uint64_t scriptShaHash(const void *key) {
    return hashtableGenHashFunction(key, SHA1_HEX_LEN);
}

static const void *scriptGetSha(const void *entry) {
    return ((const evalScript *)entry)->sha;
}

static int scriptShaCompare(const void *a, const void *b) {
    return memcmp(a, b, SHA1_HEX_LEN) != 0;
}

static size_t scriptMemory(evalScript *es) {
    return sizeof(*es) + sdsAllocSize(es->body) + (es->lru_node ? sizeof(listNode) : 0);
}

/* The Lua reference goes with the state (SCRIPT FLUSH closes it), so it is not touched. */
static void freeScript(void *entry) {
    evalScript *es = entry;
    ev.scripts_mem -= scriptMemory(es);
    sdsfree(es->body);
    zfree(es);
}

static hashtableType scriptsTableType = {
    .hashFunction = scriptShaHash,
    .entryGetKey = scriptGetSha,
    .keyCompare = scriptShaCompare,
    .entryDestructor = freeScript,
};

static void evalInit(void) {
    if (ev.lua) return;
    ev.lua = luaCreateScriptingState(LUA_API_EVAL);
    if (!ev.client) ev.client = scriptCreateClient();
    if (!ev.scripts) ev.scripts = hashtableCreate(&scriptsTableType);
    if (!ev.lru) ev.lru = listCreate();
}

/* SCRIPT FLUSH: a new Lua state, an empty cache. */
static void evalReset(void) {
    evalInit();
    listEmpty(ev.lru);
    hashtableEmpty(ev.scripts, NULL);
    luaCloseScriptingState(ev.lua);
    ev.lua = luaCreateScriptingState(LUA_API_EVAL);
}

static void sha1hex(char *out, const char *s, size_t len) {
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(s, len, md, &mdlen, EVP_sha1(), NULL);
    for (int j = 0; j < 20; j++) {
        out[j * 2] = digits[md[j] >> 4];
        out[j * 2 + 1] = digits[md[j] & 0xf];
    }
    out[SHA1_HEX_LEN] = '\0';
}

/* A SHA1 given by a client, lowercased; 0 when it cannot be one. */
static int normalizeSha(char *out, robj *arg) {
    sds s = objectGetVal(arg);
    if (!sdsEncodedObject(arg) || sdslen(s) != SHA1_HEX_LEN) return 0;
    for (int j = 0; j < SHA1_HEX_LEN; j++) out[j] = (char)tolower((unsigned char)s[j]);
    out[SHA1_HEX_LEN] = '\0';
    return 1;
}

static evalScript *lookupScript(const char *sha) {
    void *found;
    return hashtableFind(ev.scripts, sha, &found) ? found : NULL;
}

static void lruRemove(evalScript *es) {
    if (!es->lru_node) return;
    ev.scripts_mem -= sizeof(listNode);
    listDelNode(ev.lru, es->lru_node);
    es->lru_node = NULL;
}

static void lruTouch(evalScript *es) {
    if (!es->lru_node || es->lru_node == listLast(ev.lru)) return;
    listUnlinkNode(ev.lru, es->lru_node);
    listLinkNodeTail(ev.lru, es->lru_node);
}

static void lruEvictOldest(void) {
    evalScript *oldest = listNodeValue(listFirst(ev.lru));
    lruRemove(oldest);
    luaL_unref(ev.lua, LUA_REGISTRYINDEX, oldest->fn_ref);
    hashtableDelete(ev.scripts, oldest->sha);
    ev.evicted++;
}

/* ------------------------------------------------------------------------- */
/* Shebang                                                                    */
/* ------------------------------------------------------------------------- */

/* "#!lua [flags=f1,f2,...]" on the first line. Without it: compatibility mode and
 * shebang_len 0. shebang_len excludes the newline, so compiling from there keeps the
 * script's line numbers. */
static int evalExtractShebangFlags(const char *body, size_t len, uint64_t *flags, size_t *shebang_len,
                                   sds *err) {
    *flags = SCRIPT_FLAG_EVAL_COMPAT_MODE;
    *shebang_len = 0;
    if (len < 2 || body[0] != '#' || body[1] != '!') return C_OK;
    const char *nl = memchr(body, '\n', len);
    if (nl == NULL) {
        *err = sdsnew("Invalid script shebang");
        return C_ERR;
    }
    *shebang_len = (size_t)(nl - body);
    sds line = sdsnewlen(body, *shebang_len);
    int nparts;
    sds *parts = sdssplitargs(line, &nparts);
    sdsfree(line);
    int ret = C_OK;
    if (parts == NULL || nparts == 0) {
        *err = sdsnew("Invalid engine in script shebang");
        ret = C_ERR;
    } else if (strcmp(parts[0], "#!lua") != 0) {
        *err = sdscatfmt(sdsempty(), "Unexpected engine in script shebang: %s", parts[0]);
        ret = C_ERR;
    }
    uint64_t parsed = 0;
    for (int j = 1; ret == C_OK && j < nparts; j++) {
        if (strncmp(parts[j], "flags=", 6) != 0) {
            *err = sdscatfmt(sdsempty(), "Unknown lua shebang option: %s", parts[j]);
            ret = C_ERR;
            break;
        }
        int nflags;
        sds *names = sdssplitlen(parts[j] + 6, (ssize_t)sdslen(parts[j]) - 6, ",", 1, &nflags);
        for (int k = 0; k < nflags; k++) {
            const scriptFlag *sf = scripts_flags_def;
            while (sf->str && strcmp(names[k], sf->str) != 0) sf++;
            if (!sf->str) {
                *err = sdscatfmt(sdsempty(), "Unexpected flag in script shebang: %s", names[k]);
                ret = C_ERR;
                break;
            }
            parsed |= sf->flag;
        }
        sdsfreesplitres(names, nflags);
    }
    if (parts) sdsfreesplitres(parts, nparts);
    if (ret == C_OK) *flags = parsed;
    return ret;
}

/* Compiles body and caches it under sha. from_eval: goes into the LRU list. On error,
 * replies it to c and returns NULL. */
static evalScript *evalCreateScript(client *c, const char *sha, robj *body_obj, int from_eval) {
    sds body = objectGetVal(body_obj);
    size_t len = sdslen(body);
    uint64_t flags;
    size_t shebang_len;
    sds err = NULL;
    if (evalExtractShebangFlags(body, len, &flags, &shebang_len, &err) != C_OK) {
        addReplyErrorSds(c, err);
        return NULL;
    }
    if (luaCompileChunk(ev.lua, body + shebang_len, len - shebang_len, "@user_script", &err) != C_OK) {
        addReplyErrorFormat(c, "Error compiling script (new function): %s", err);
        sdsfree(err);
        return NULL;
    }
    evalScript *es = zcalloc(sizeof(*es));
    memcpy(es->sha, sha, SHA1_HEX_LEN + 1);
    es->fn_ref = luaL_ref(ev.lua, LUA_REGISTRYINDEX);
    es->body = sdsnewlen(body, len);
    es->flags = flags;
    if (from_eval) {
        if (listLength(ev.lru) >= EVAL_SCRIPTS_LRU_MAX) lruEvictOldest();
        listAddNodeTail(ev.lru, es);
        es->lru_node = listLast(ev.lru);
    }
    hashtableAdd(ev.scripts, es);
    ev.scripts_mem += scriptMemory(es);
    return es;
}

/* ------------------------------------------------------------------------- */
/* EVAL                                                                       */
/* ------------------------------------------------------------------------- */

int evalGetCommandScriptFlags(client *c, uint64_t *flags) {
    char sha[SHA1_HEX_LEN + 1];
    int evalsha = c->cmd->proc == evalshaCommand || c->cmd->proc == evalshaRoCommand;
    if (c->argc < 2) return 0;
    evalInit();
    if (evalsha) {
        if (!normalizeSha(sha, c->argv[1])) return 0;
    } else {
        sds body = objectGetVal(c->argv[1]);
        sha1hex(sha, body, sdslen(body));
    }
    evalScript *es = lookupScript(sha);
    if (es) {
        *flags = es->flags;
        return 1;
    }
    if (evalsha) return 0;
    sds body = objectGetVal(c->argv[1]), err = NULL;
    size_t shebang_len;
    if (evalExtractShebangFlags(body, sdslen(body), flags, &shebang_len, &err) != C_OK) {
        sdsfree(err);
        return 0;
    }
    return 1;
}

/* Checks numkeys; C_ERR after replying the error. */
int scriptParseNumkeys(client *c, long long *numkeys, const char *msg) {
    if (getLongLongFromObjectOrReply(c, c->argv[2], numkeys, msg) != C_OK) return C_ERR;
    if (*numkeys > c->argc - 3) {
        addReplyError(c, "Number of keys can't be greater than number of args");
        return C_ERR;
    }
    if (*numkeys < 0) {
        addReplyError(c, "Number of keys can't be negative");
        return C_ERR;
    }
    return C_OK;
}

static void evalGenericCommand(client *c, int evalsha, int ro) {
    /* MONITOR shows the EVAL before the commands it runs (the command skips call()'s feed). */
    if (listLength(server.monitors)) replicationFeedMonitors(c, server.monitors, c->db->id, c->argv, c->argc);
    long long numkeys;
    if (scriptParseNumkeys(c, &numkeys, NULL) != C_OK) return;
    evalInit();
    char sha[SHA1_HEX_LEN + 1];
    evalScript *es;
    if (evalsha) {
        if (!normalizeSha(sha, c->argv[1]) || (es = lookupScript(sha)) == NULL) {
            addReplyError(c, "-NOSCRIPT No matching script.");
            return;
        }
    } else {
        sds body = objectGetVal(c->argv[1]);
        sha1hex(sha, body, sdslen(body));
        es = lookupScript(sha);
        if (es == NULL && (es = evalCreateScript(c, sha, c->argv[1], 1)) == NULL) return;
    }
    lruTouch(es);

    scriptRunCtx rctx;
    if (scriptPrepareForRun(&rctx, ev.client, c, es->sha, es->flags, ro, 1) != C_OK) return;
    /* Tiering hook: the keys the script declares are known here, before it runs; this is
     * where their cold values will be read back. */
    getKeysResult keys;
    scriptGetDeclaredKeys(c, &keys);
    getKeysFreeResult(&keys);
    luaCallFunction(&rctx, ev.lua, es->fn_ref, c->argv + 3, (size_t)numkeys, c->argv + 3 + numkeys,
                    (size_t)(c->argc - 3 - numkeys), 1);
    scriptResetRun(&rctx);
}

void evalCommand(client *c) {
    evalGenericCommand(c, 0, 0);
}

void evalRoCommand(client *c) {
    evalGenericCommand(c, 0, 1);
}

void evalshaCommand(client *c) {
    evalGenericCommand(c, 1, 0);
}

void evalshaRoCommand(client *c) {
    evalGenericCommand(c, 1, 1);
}

/* ------------------------------------------------------------------------- */
/* SCRIPT                                                                     */
/* ------------------------------------------------------------------------- */

void scriptHelpCommand(client *c) {
    const char *help[] = {
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "SHOW <sha1>",
        "    Show a script from the scripts cache.",
        NULL,
    };
    addReplyHelp(c, help);
}

void scriptExistsCommand(client *c) {
    evalInit();
    addReplyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        char sha[SHA1_HEX_LEN + 1];
        addReplyLongLong(c, normalizeSha(sha, c->argv[j]) && lookupScript(sha) ? 1 : 0);
    }
}

void scriptFlushCommand(client *c) {
    if (c->argc > 3 ||
        (c->argc == 3 && strcasecmp(objectGetVal(c->argv[2]), "sync") && strcasecmp(objectGetVal(c->argv[2]), "async"))) {
        addReplyError(c, "SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    /* ASYNC and SYNC alike: closing the Lua state takes little time compared with the
     * keyspace, so it is done right away. */
    evalReset();
    addReply(c, shared.ok);
}

void scriptLoadCommand(client *c) {
    evalInit();
    char sha[SHA1_HEX_LEN + 1];
    sds body = objectGetVal(c->argv[2]);
    sha1hex(sha, body, sdslen(body));
    evalScript *es = lookupScript(sha);
    if (es) {
        lruRemove(es); /* loaded on purpose: no longer a candidate for eviction */
    } else if ((es = evalCreateScript(c, sha, c->argv[2], 0)) == NULL) {
        return;
    }
    addReplyBulkCBuffer(c, es->sha, SHA1_HEX_LEN);
}

void scriptKillCommand(client *c) {
    scriptKill(c, 1);
}

void scriptShowCommand(client *c) {
    evalInit();
    char sha[SHA1_HEX_LEN + 1];
    evalScript *es = normalizeSha(sha, c->argv[2]) ? lookupScript(sha) : NULL;
    if (!es) {
        addReplyError(c, "-NOSCRIPT No matching script.");
        return;
    }
    addReplyBulkCBuffer(c, es->body, sdslen(es->body));
}

/* ------------------------------------------------------------------------- */
/* INFO                                                                       */
/* ------------------------------------------------------------------------- */

void evalGetMemStats(size_t *vm, size_t *scripts_mem, size_t *count) {
    *vm = ev.lua ? luaMemory(ev.lua) : 0;
    *scripts_mem = ev.scripts_mem;
    *count = ev.scripts ? hashtableSize(ev.scripts) : 0;
}

long long evalEvictedScripts(void) {
    return ev.evicted;
}
