/* script_lua.c -- the Lua engine shared by EVAL and functions: the sandboxed state, the
 * `server` API, RESP <-> Lua conversions and calling a compiled script.
 * See script_lua.h for the sandbox design.
 *
 * Conversions, server reply -> Lua (what server.call() returns):
 *   integer -> number; bulk -> string; null bulk / null array -> false (RESP2), nil (RESP3);
 *   array -> table (nil holes where RESP3 nulls were); status -> {ok=...};
 *   error -> {err=...}; RESP3 map -> {map={k=v}}, set -> {set={m=true}}, boolean ->
 *   boolean, double -> {double=n}, big number -> {big_number="..."}, verbatim ->
 *   {verbatim_string={format=..., string=...}}; attributes are skipped.
 * Lua -> reply (what the script returns):
 *   string -> bulk; number -> integer (truncated); true -> :1 and false -> null (RESP2
 *   scripts) or RESP3 booleans after setresp(3); nil and other types -> null; tables:
 *   {err=} error, {ok=} status, {double=}, {big_number=}, {map=}, {set=},
 *   {verbatim_string=}, otherwise an array of the elements up to the first nil.
 */
#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/evp.h>

#include "script_lua.h"
#include "commands.h"
#include "networking.h"
#include "server.h"
#include "util.h"
#include "version.h"
#include "zmalloc.h"

/* Valkey 8 answers as Redis 7.2.4 to scripts asking for REDIS_VERSION. */
#define LUA_REDIS_COMPAT_VERSION "7.2.4"
#define LUA_REDIS_COMPAT_VERSION_NUM 0x00070204
#define LUA_SERVER_NAME "valkey"

/* server.set_repl() flags. */
#define LUA_REPL_NONE 0
#define LUA_REPL_AOF 1
#define LUA_REPL_REPLICA 2
#define LUA_REPL_ALL 3

/* The busy check runs every this many VM instructions. */
#define LUA_HOOK_INSTRUCTIONS 100000
/* An incremental GC step of this size every this many script calls. */
#define LUA_GC_PERIOD 50
/* How far up the error handler looks for the Lua function that failed (past the C
 * functions, ours and the libraries', that raised the error on its behalf). */
#define LUA_ERROR_SEARCH_LEVELS 8
/* Stack slots a conversion step may need. */
#define LUA_CONVERSION_STACK 8

/* Per-state data, reachable from any thread of the state through its allocator's
 * userdata. */
typedef struct luaStateInfo {
    int api_kind;
    int globals_ref;      /* the real globals table */
    int globals_meta_ref; /* the metatable of the globals proxy */
    int errh_ref;         /* the error handler */
    size_t used_memory;
    unsigned long calls;
    uint64_t rand_state; /* math.random */
} luaStateInfo;

/* Address used as a unique key marking read-only proxies' metatables. */
static char readonly_marker;

/* Debian's loadable modules, opened once per process. */
static void *cjson_handle, *bitop_handle;

static luaStateInfo *stateInfo(lua_State *L) {
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

static void *luaAllocator(void *ud, void *ptr, size_t osize, size_t nsize) {
    luaStateInfo *info = ud;
    if (nsize == 0) {
        info->used_memory -= osize;
        free(ptr);
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p) info->used_memory += nsize - osize;
    return p;
}

size_t luaMemory(lua_State *L) {
    return stateInfo(L)->used_memory;
}

static int luaAbsIndex(lua_State *L, int idx) {
    return (idx > 0 || idx <= LUA_REGISTRYINDEX) ? idx : lua_gettop(L) + idx + 1;
}

/* ------------------------------------------------------------------------- */
/* Errors                                                                     */
/* ------------------------------------------------------------------------- */

static size_t trimmedLength(const char *s, size_t len) {
    while (len && (s[len - 1] == '\r' || s[len - 1] == '\n')) len--;
    return len;
}

/* Pushes {err = text} where text is "CODE msg": from "-CODE msg" the code is kept, a
 * "-word" alone or a message without a dash becomes "ERR ...". */
static void luaPushErrorBuffer(lua_State *L, const char *msg, size_t len) {
    lua_newtable(L);
    lua_pushliteral(L, "err");
    if (len && msg[0] == '-') {
        msg++;
        len--;
        len = trimmedLength(msg, len);
        if (memchr(msg, ' ', len)) {
            lua_pushlstring(L, msg, len);
        } else {
            lua_pushliteral(L, "ERR ");
            lua_pushlstring(L, msg, len);
            lua_concat(L, 2);
        }
    } else {
        lua_pushliteral(L, "ERR ");
        lua_pushlstring(L, msg, trimmedLength(msg, len));
        lua_concat(L, 2);
    }
    lua_rawset(L, -3);
}

void luaPushError(lua_State *L, const char *msg) {
    luaPushErrorBuffer(L, msg, strlen(msg));
}

/* Marks the error table at top as already counted in the error stats (it came from a
 * command reply, or a refused command, counted then). */
static void luaMarkErrorCounted(lua_State *L) {
    lua_pushliteral(L, "ignore_error_stats_update");
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
}

const char *luaErrorTableMessage(lua_State *L, int idx) {
    idx = luaAbsIndex(L, idx);
    if (!lua_istable(L, idx)) return lua_isstring(L, idx) ? lua_tostring(L, idx) : "execution failure";
    lua_pushliteral(L, "err");
    lua_rawget(L, idx);
    const char *msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "ERR unknown error";
    lua_pop(L, 1); /* the string stays referenced by the table */
    return msg;
}

static int isReadonlyTable(lua_State *L, int idx) {
    if (!lua_istable(L, idx) || !lua_getmetatable(L, idx)) return 0;
    lua_pushlightuserdata(L, &readonly_marker);
    lua_rawget(L, -2);
    int ro = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return ro;
}

/* Lua's tostring() of the value at idx, pushed. */
static void luaPushToString(lua_State *L, int idx) {
    idx = luaAbsIndex(L, idx);
    if (luaL_callmeta(L, idx, "__tostring")) return;
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
    case LUA_TSTRING: lua_pushvalue(L, idx); break;
    case LUA_TBOOLEAN: lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TNIL: lua_pushliteral(L, "nil"); break;
    default: lua_pushfstring(L, "%s: %p", luaL_typename(L, idx), lua_topointer(L, idx)); break;
    }
}

/* The message handler of every script call: turns the error into a table
 * {err="<CODE> <message>", source=..., line=...} naming where the script failed: the
 * first Lua function up the stack, past the C functions that raised the error. */
static int luaErrorHandler(lua_State *L) {
    lua_Debug ar;
    int located = 0;
    for (int level = 1; level <= LUA_ERROR_SEARCH_LEVELS; level++) {
        if (!lua_getstack(L, level, &ar) || !lua_getinfo(L, "Sl", &ar)) break;
        if (strcmp(ar.what, "C") != 0) {
            located = 1;
            break;
        }
    }
    lua_settop(L, 1);
    if (!lua_istable(L, 1) || isReadonlyTable(L, 1)) {
        lua_newtable(L);
        lua_pushliteral(L, "err");
        lua_pushliteral(L, "ERR ");
        luaPushToString(L, 1);
        lua_concat(L, 2);
        lua_rawset(L, -3);
        lua_replace(L, 1);
    }
    if (located) {
        lua_pushliteral(L, "source");
        lua_pushstring(L, ar.source);
        lua_rawset(L, 1);
        lua_pushliteral(L, "line");
        lua_pushinteger(L, ar.currentline);
        lua_rawset(L, 1);
    }
    return 1;
}

void luaPushErrorHandler(lua_State *L) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, stateInfo(L)->errh_ref);
}

/* ------------------------------------------------------------------------- */
/* Read-only tables                                                           */
/* ------------------------------------------------------------------------- */

static int luaReadonlyNewindex(lua_State *L) {
    return luaL_error(L, "Attempt to modify a readonly table");
}

static int luaNonexistentGlobal(lua_State *L) {
    if (lua_gettop(L) != 2) return luaL_error(L, "Wrong number of arguments to luaProtectedTableError");
    if (!lua_isstring(L, 2)) return luaL_error(L, "Second argument to luaProtectedTableError must be a string or number");
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", lua_tostring(L, 2));
}

void luaSetErrorMetatable(lua_State *L, int idx) {
    idx = luaAbsIndex(L, idx);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, luaNonexistentGlobal);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, idx);
}

/* with_view: getmetatable() of the proxy returns a read-only table whose __index is the
 * proxy itself, never the protected table. */
static void luaPushReadonlyEx(lua_State *L, int idx, int with_view) {
    idx = luaAbsIndex(L, idx);
    lua_newtable(L);
    int proxy = lua_gettop(L);
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, idx);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, luaReadonlyNewindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushlightuserdata(L, &readonly_marker);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    if (with_view) {
        lua_createtable(L, 0, 1);
        lua_pushvalue(L, proxy);
        lua_setfield(L, -2, "__index");
        luaPushReadonlyEx(L, -1, 0);
        lua_remove(L, -2);
    } else {
        lua_pushboolean(L, 0);
    }
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, proxy);
}

void luaPushReadonly(lua_State *L, int idx) {
    luaPushReadonlyEx(L, idx, 1);
}

/* Replaces t[name] (t at idx, raw) by a read-only proxy of it. */
static void luaProtectField(lua_State *L, int idx, const char *name) {
    idx = luaAbsIndex(L, idx);
    lua_getfield(L, idx, name);
    if (lua_istable(L, -1)) {
        luaPushReadonly(L, -1);
        lua_setfield(L, idx, name);
    }
    lua_pop(L, 1);
}

/* The table behind a proxy at idx is pushed; any other value is pushed as is. */
static void luaPushTarget(lua_State *L, int idx) {
    idx = luaAbsIndex(L, idx);
    if (isReadonlyTable(L, idx)) {
        lua_getmetatable(L, idx);
        lua_getfield(L, -1, "__index");
        lua_remove(L, -2);
    } else {
        lua_pushvalue(L, idx);
    }
}

static int luaRawsetGuarded(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (isReadonlyTable(L, 1)) {
        lua_pushliteral(L, "Attempt to modify a readonly table");
        return lua_error(L);
    }
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int luaRawgetThrough(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaPushTarget(L, 1);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int luaNextThrough(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    luaPushTarget(L, 1);
    lua_pushvalue(L, 2);
    return lua_next(L, -2) ? 2 : (lua_pushnil(L), 1);
}

static int luaPairsThrough(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, lua_upvalueindex(1)); /* our next */
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int luaIpairsStep(lua_State *L) {
    lua_Integer i = luaL_checkinteger(L, 2) + 1;
    luaPushTarget(L, 1);
    lua_pushinteger(L, i);
    lua_rawgeti(L, -2, (int)i);
    return lua_isnil(L, -1) ? 0 : 2;
}

static int luaIpairsThrough(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    return 3;
}

static int luaSetmetatableGuarded(lua_State *L) {
    if (isReadonlyTable(L, 1)) {
        lua_pushliteral(L, "Attempt to modify a readonly table");
        return lua_error(L);
    }
    lua_pushvalue(L, lua_upvalueindex(1)); /* the original setmetatable */
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* table.insert/remove/sort write with raw accesses: refused on proxies. */
static int luaTableWriterGuarded(lua_State *L) {
    if (isReadonlyTable(L, 1)) {
        lua_pushliteral(L, "Attempt to modify a readonly table");
        return lua_error(L);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* ------------------------------------------------------------------------- */
/* Loading code: never precompiled chunks                                     */
/* ------------------------------------------------------------------------- */

static int isBinaryChunk(const char *code, size_t len) {
    return len > 0 && code[0] == LUA_SIGNATURE[0];
}

/* A binary chunk is parsed as source would be, which fails on its first byte. */
static void pushBinaryChunkError(lua_State *L, const char *chunkname) {
    char src[LUA_IDSIZE];
    if (chunkname[0] == '@' || chunkname[0] == '=') {
        snprintf(src, sizeof(src), "%s", chunkname + 1);
    } else {
        snprintf(src, sizeof(src), "[string \"%.40s\"]", chunkname);
    }
    lua_pushfstring(L, "%s:1: unexpected symbol near '<\\%d>'", src, (int)(unsigned char)LUA_SIGNATURE[0]);
}

static int luaLoadSource(lua_State *L, const char *code, size_t len, const char *chunkname) {
    if (isBinaryChunk(code, len)) {
        pushBinaryChunkError(L, chunkname);
        return LUA_ERRSYNTAX;
    }
    return luaL_loadbuffer(L, code, len, chunkname);
}

int luaCompileChunk(lua_State *L, const char *code, size_t len, const char *chunkname, sds *err) {
    if (luaLoadSource(L, code, len, chunkname) == 0) return C_OK;
    *err = sdsnew(lua_tostring(L, -1));
    lua_pop(L, 1);
    return C_ERR;
}

static int luaLoadstringSafe(lua_State *L) {
    size_t len;
    const char *code = luaL_checklstring(L, 1, &len);
    const char *chunkname = luaL_optstring(L, 2, code);
    if (luaLoadSource(L, code, len, chunkname) == 0) return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/* load(reader [, chunkname]): the pieces are gathered first so the whole source can be
 * checked before compiling. */
static int luaLoadSafe(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    const char *chunkname = luaL_optstring(L, 2, "=(load)");
    lua_settop(L, 2);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (;;) {
        lua_pushvalue(L, 1);
        lua_call(L, 0, 1);
        if (lua_isnil(L, -1) || (lua_isstring(L, -1) && lua_objlen(L, -1) == 0)) {
            lua_pop(L, 1);
            break;
        }
        if (!lua_isstring(L, -1)) return luaL_error(L, "reader function must return a string");
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *code = lua_tolstring(L, -1, &len);
    if (luaLoadSource(L, code, len, chunkname) == 0) return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/* ------------------------------------------------------------------------- */
/* math.random, os.clock, bit.tohex                                           */
/* ------------------------------------------------------------------------- */

/* A 48-bit linear congruential generator (the drand48 parameters), per state, so that
 * math.randomseed() in one script is reproducible and touches nothing else. */
#define LCG_MULTIPLIER 0x5DEECE66DULL
#define LCG_INCREMENT 0xBULL
#define LCG_MASK ((1ULL << 48) - 1)

static double luaNextRandom(luaStateInfo *info) {
    info->rand_state = (info->rand_state * LCG_MULTIPLIER + LCG_INCREMENT) & LCG_MASK;
    return (double)info->rand_state / (double)(1ULL << 48);
}

static int luaMathRandom(lua_State *L) {
    double r = luaNextRandom(stateInfo(L));
    switch (lua_gettop(L)) {
    case 0: lua_pushnumber(L, r); break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1);
        int u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (u - l + 1)) + l);
        break;
    }
    default: return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int luaMathRandomseed(lua_State *L) {
    stateInfo(L)->rand_state = ((uint64_t)(int64_t)luaL_checkint(L, 1) ^ LCG_MULTIPLIER) & LCG_MASK;
    return 0;
}

static int luaOsClock(lua_State *L) {
    lua_pushnumber(L, (lua_Number)clock() / (lua_Number)CLOCKS_PER_SEC);
    return 1;
}

/* LuaBitOp negates a negative digit count; INT32_MIN would overflow. Both mean "8
 * upper-case digits" there, so that one is passed as -8. */
static int luaBitTohexGuarded(lua_State *L) {
    if (lua_gettop(L) >= 2 && lua_isnumber(L, 2)) {
        double d = lua_tonumber(L, 2) + 6755399441055744.0; /* 2^52 + 2^51: low word = int32 */
        union {
            double d;
            uint64_t u;
        } bits = {.d = d};
        if ((int32_t)(uint32_t)bits.u == INT32_MIN) {
            lua_pushinteger(L, -8);
            lua_replace(L, 2);
        }
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* unpack(t [, i [, j]]): the range is computed in 64 bits (Lua 5.1's int arithmetic
 * overflows with extreme bounds), and proxies are read through. */
static int luaUnpackSafe(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaPushTarget(L, 1);
    lua_replace(L, 1);
    long long i = luaL_optint(L, 2, 1);
    long long e = luaL_opt(L, luaL_checkint, 3, (int)lua_objlen(L, 1));
    if (i > e) return 0;
    long long n = e - i + 1;
    if (n >= INT_MAX || !lua_checkstack(L, (int)n)) return luaL_error(L, "too many results to unpack");
    for (long long k = i; k <= e; k++) lua_rawgeti(L, 1, (int)k);
    return (int)n;
}

/* cjson.encode computes its output size in 32-bit integers: values whose encoding could
 * pass 2GB are refused up front. Each table is counted once (cycles are cjson's own
 * error), strings at their worst-case escaped size. */
#define CJSON_MAX_OUTPUT (1LL << 30)
#define CJSON_ESCAPE_FACTOR 6

static long long cjsonWorstCaseSize(lua_State *L, int idx, int seen, int depth) {
    idx = luaAbsIndex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: return (long long)lua_objlen(L, idx) * CJSON_ESCAPE_FACTOR + 2;
    case LUA_TTABLE: break;
    default: return 32;
    }
    if (depth > 1000 || !lua_checkstack(L, 4)) return 0; /* cjson refuses it anyway */
    lua_pushvalue(L, idx);
    lua_rawget(L, seen);
    int visited = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (visited) return 0;
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, seen);
    long long total = 2;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        total += cjsonWorstCaseSize(L, -2, seen, depth + 1) + cjsonWorstCaseSize(L, -1, seen, depth + 1) + 2;
        lua_pop(L, 1);
        if (total > CJSON_MAX_OUTPUT) {
            lua_pop(L, 1); /* the key: the walk stops here */
            break;
        }
    }
    return total;
}

static int luaCjsonEncodeGuarded(lua_State *L) {
    if (lua_gettop(L) >= 1) {
        lua_newtable(L);
        long long size = cjsonWorstCaseSize(L, 1, lua_gettop(L), 0);
        lua_pop(L, 1);
        if (size > CJSON_MAX_OUTPUT) return luaL_error(L, "Cannot serialise: value too large");
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* ------------------------------------------------------------------------- */
/* Server reply -> Lua                                                        */
/* ------------------------------------------------------------------------- */

static const char *respParseLength(const char *p, long long *len) {
    const char *cr = strchr(p, '\r');
    if (!string2ll(p + 1, (size_t)(cr - p - 1), len)) *len = -1;
    return cr + 2;
}

static const char *respToLua(lua_State *L, const char *p);

static const char *respAggregateToLua(lua_State *L, const char *p, long long n) {
    lua_createtable(L, n > 0 && n < INT_MAX ? (int)n : 0, 0);
    for (long long i = 0; i < n; i++) {
        p = respToLua(L, p);
        lua_rawseti(L, -2, (int)(i + 1));
    }
    return p;
}

static const char *respMapToLua(lua_State *L, const char *p, long long n) {
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "map");
    lua_createtable(L, 0, n > 0 && n < INT_MAX ? (int)n : 0);
    for (long long i = 0; i < n; i++) {
        p = respToLua(L, p); /* key */
        p = respToLua(L, p); /* value */
        if (lua_isnil(L, -2)) lua_pop(L, 2);
        else lua_rawset(L, -3);
    }
    lua_rawset(L, -3);
    return p;
}

static const char *respSetToLua(lua_State *L, const char *p, long long n) {
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "set");
    lua_createtable(L, 0, n > 0 && n < INT_MAX ? (int)n : 0);
    for (long long i = 0; i < n; i++) {
        p = respToLua(L, p);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
    }
    lua_rawset(L, -3);
    return p;
}

static void luaPushTaggedString(lua_State *L, const char *tag, const char *s, size_t len) {
    lua_createtable(L, 0, 1);
    lua_pushstring(L, tag);
    lua_pushlstring(L, s, len);
    lua_rawset(L, -3);
}

static const char *respToLua(lua_State *L, const char *p) {
    if (!lua_checkstack(L, LUA_CONVERSION_STACK)) serverPanic("Lua stack limit reached converting a reply");
    long long n;
    const char *cr;
    switch (*p) {
    case ':':
        p = respParseLength(p, &n);
        lua_pushnumber(L, (lua_Number)n);
        return p;
    case '$':
        p = respParseLength(p, &n);
        if (n < 0) {
            lua_pushboolean(L, 0);
            return p;
        }
        lua_pushlstring(L, p, (size_t)n);
        return p + n + 2;
    case '+':
        cr = strchr(p, '\r');
        luaPushTaggedString(L, "ok", p + 1, (size_t)(cr - p - 1));
        return cr + 2;
    case '-':
        cr = strchr(p, '\r');
        luaPushErrorBuffer(L, p, (size_t)(cr - p));
        luaMarkErrorCounted(L);
        return cr + 2;
    case '*':
    case '>':
        p = respParseLength(p, &n);
        if (n < 0) {
            lua_pushboolean(L, 0);
            return p;
        }
        return respAggregateToLua(L, p, n);
    case '%':
        p = respParseLength(p, &n);
        return respMapToLua(L, p, n);
    case '~':
        p = respParseLength(p, &n);
        return respSetToLua(L, p, n);
    case '_':
        lua_pushnil(L);
        return p + 3;
    case '#':
        lua_pushboolean(L, p[1] == 't');
        return p + 4;
    case ',': {
        char buf[MAX_LONG_DOUBLE_CHARS + 1];
        cr = strchr(p, '\r');
        size_t len = (size_t)(cr - p - 1);
        if (len >= sizeof(buf)) len = sizeof(buf) - 1;
        memcpy(buf, p + 1, len);
        buf[len] = '\0';
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "double");
        lua_pushnumber(L, strtod(buf, NULL));
        lua_rawset(L, -3);
        return cr + 2;
    }
    case '(':
        cr = strchr(p, '\r');
        luaPushTaggedString(L, "big_number", p + 1, (size_t)(cr - p - 1));
        return cr + 2;
    case '=':
        p = respParseLength(p, &n);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "verbatim_string");
        lua_createtable(L, 0, 2);
        lua_pushliteral(L, "format");
        lua_pushlstring(L, p, n >= 3 ? 3 : 0);
        lua_rawset(L, -3);
        lua_pushliteral(L, "string");
        lua_pushlstring(L, n >= 4 ? p + 4 : p, n >= 4 ? (size_t)n - 4 : 0);
        lua_rawset(L, -3);
        lua_rawset(L, -3);
        return p + n + 2;
    case '|': /* attributes are not shown to scripts */
        p = respParseLength(p, &n);
        p = respMapToLua(L, p, n);
        lua_pop(L, 1);
        return respToLua(L, p);
    default: serverPanic("unexpected reply type '%c' converting to Lua", *p);
    }
}

/* Takes the reply of the command the fake client just ran and pushes it as one value. */
static void luaPushClientReply(lua_State *L, client *c) {
    if (listLength(c->reply) == 0) {
        if (c->bufpos == 0) lua_pushnil(L); /* a command that replied nothing */
        else respToLua(L, c->buf);
    } else {
        sds all = sdsnewlen(c->buf, (size_t)c->bufpos);
        listIter li;
        listNode *ln;
        listRewind(c->reply, &li);
        while ((ln = listNext(&li)) != NULL) {
            clientReplyBlock *b = listNodeValue(ln);
            if (b) all = sdscatlen(all, b->buf, b->used);
        }
        respToLua(L, all);
        sdsfree(all);
    }
    while (listLength(c->reply)) listDelNode(c->reply, listFirst(c->reply));
    c->reply_bytes = 0;
    c->bufpos = 0;
    c->sentlen = 0;
}

/* ------------------------------------------------------------------------- */
/* Lua -> reply                                                               */
/* ------------------------------------------------------------------------- */

static void luaReplyValue(client *c, int script_resp, lua_State *L);

/* t[name] (raw) of the table at idx is pushed; returns its type. */
static int luaRawField(lua_State *L, int idx, const char *name) {
    idx = luaAbsIndex(L, idx);
    lua_pushstring(L, name);
    lua_rawget(L, idx);
    return lua_type(L, -1);
}

static long long luaNumberToLongLong(lua_Number n) {
    /* Out-of-range conversions give the x86 "integer indefinite" value, as a plain cast
     * does there, without undefined behaviour. */
    if (isnan(n) || n >= 9223372036854775808.0 || n < -9223372036854775808.0) return LLONG_MIN;
    return (long long)n;
}

static void luaReplyErrorTable(client *c, lua_State *L) {
    const char *msg = luaErrorTableMessage(L, -1);
    int counted = luaRawField(L, -1, "ignore_error_stats_update") == LUA_TBOOLEAN && lua_toboolean(L, -1);
    lua_pop(L, 1);
    addReplyErrorFormatEx(c, counted ? ERR_REPLY_FLAG_NO_STATS_UPDATE : 0, "-%s", msg);
}

static void luaReplyArray(client *c, int script_resp, lua_State *L) {
    long n = 0;
    for (;;) {
        lua_rawgeti(L, -1, (int)(n + 1));
        int nil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (nil) break;
        n++;
    }
    addReplyArrayLen(c, n);
    for (long j = 1; j <= n; j++) {
        lua_rawgeti(L, -1, (int)j);
        luaReplyValue(c, script_resp, L);
    }
}

static void luaReplyMapOrSet(client *c, int script_resp, lua_State *L, int is_map) {
    long n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        n++;
        lua_pop(L, 1);
    }
    if (is_map) addReplyMapLen(c, n);
    else addReplySetLen(c, n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        luaReplyValue(c, script_resp, L); /* the key (copy) */
        if (is_map) luaReplyValue(c, script_resp, L); /* the value */
        else lua_pop(L, 1);
    }
}

static void luaReplySanitized(client *c, lua_State *L, int status) {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    sds copy = sdsnewlen(s, len);
    copy = sdsmapchars(copy, "\r\n", "  ", 2);
    if (status) addReplyStatusLength(c, copy, sdslen(copy));
    else addReplyBigNum(c, copy, sdslen(copy));
    sdsfree(copy);
}

/* Replies the table at top (left on the stack). */
static void luaReplyTable(client *c, int script_resp, lua_State *L) {
    if (!lua_checkstack(L, LUA_CONVERSION_STACK)) {
        addReplyError(c, "reached lua stack limit");
        return;
    }
    int t = lua_gettop(L);
    int type = luaRawField(L, t, "err");
    lua_pop(L, 1);
    if (type == LUA_TSTRING) {
        luaReplyErrorTable(c, L);
        return;
    }
    if (luaRawField(L, t, "ok") == LUA_TSTRING) {
        luaReplySanitized(c, L, 1);
    } else if (lua_pop(L, 1), luaRawField(L, t, "double") == LUA_TNUMBER) {
        addReplyDouble(c, lua_tonumber(L, -1));
    } else if (lua_pop(L, 1), luaRawField(L, t, "big_number") == LUA_TSTRING) {
        luaReplySanitized(c, L, 0);
    } else if (lua_pop(L, 1), luaRawField(L, t, "map") == LUA_TTABLE) {
        luaReplyMapOrSet(c, script_resp, L, 1);
    } else if (lua_pop(L, 1), luaRawField(L, t, "set") == LUA_TTABLE) {
        luaReplyMapOrSet(c, script_resp, L, 0);
    } else if (lua_pop(L, 1), luaRawField(L, t, "verbatim_string") == LUA_TTABLE &&
               luaRawField(L, t + 1, "format") == LUA_TSTRING && luaRawField(L, t + 1, "string") == LUA_TSTRING) {
        size_t flen, slen;
        const char *fmt = lua_tolstring(L, t + 2, &flen);
        const char *str = lua_tolstring(L, t + 3, &slen);
        char ext[4] = "txt";
        if (flen == 3) memcpy(ext, fmt, 3);
        addReplyVerbatim(c, str, slen, ext);
    } else {
        lua_settop(L, t);
        luaReplyArray(c, script_resp, L);
    }
    lua_settop(L, t);
}

/* Replies the value at top and pops it. */
static void luaReplyValue(client *c, int script_resp, lua_State *L) {
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        addReplyBulkCBuffer(c, s, len);
        break;
    }
    case LUA_TBOOLEAN:
        if (script_resp == 2) {
            if (lua_toboolean(L, -1)) addReplyLongLong(c, 1);
            else addReplyNull(c);
        } else {
            addReplyBool(c, lua_toboolean(L, -1));
        }
        break;
    case LUA_TNUMBER: addReplyLongLong(c, luaNumberToLongLong(lua_tonumber(L, -1))); break;
    case LUA_TTABLE: luaReplyTable(c, script_resp, L); break;
    default: addReplyNull(c); break;
    }
    lua_pop(L, 1);
}

/* ------------------------------------------------------------------------- */
/* The server API                                                             */
/* ------------------------------------------------------------------------- */

/* Raises the error table at top when raise, else returns it to the script. */
static int luaErrorOrReturn(lua_State *L, int raise) {
    return raise ? lua_error(L) : 1;
}

/* Fills c->argv from the Lua arguments. Returns 0 when one is neither a string nor a
 * number (nothing is left in argv then). */
static int luaArgsToArgv(lua_State *L, client *c, int argc) {
    if (c->argv_len < argc) {
        c->argv = zrealloc(c->argv, sizeof(robj *) * (size_t)argc);
        c->argv_len = argc;
    }
    c->argc = 0;
    c->argv_len_sum = 0;
    for (int j = 1; j <= argc; j++) {
        int t = lua_type(L, j);
        robj *o;
        if (t == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, j, &len);
            o = createStringObject(s, len);
        } else if (t == LUA_TNUMBER) {
            /* Not Lua's "%.14g": integral values print as integers, others with the
             * shortest representation that reads back the same. */
            char buf[MAX_D2STRING_CHARS];
            int len = d2string(buf, sizeof(buf), (double)lua_tonumber(L, j));
            o = createStringObject(buf, (size_t)len);
        } else {
            for (int k = 0; k < c->argc; k++) decrRefCount(c->argv[k]);
            c->argc = 0;
            return 0;
        }
        c->argv[c->argc++] = o;
        c->argv_len_sum += stringObjectLen(o);
    }
    return 1;
}

static void luaReleaseArgv(client *c) {
    for (int j = 0; j < c->argc; j++)
        if (c->argv[j]) decrRefCount(c->argv[j]);
    c->argc = 0;
    c->argv_len_sum = 0;
    c->cmd = NULL;
    freeClientOriginalArgv(c);
}

static int luaGenericCommand(lua_State *L, int raise) {
    scriptRunCtx *rctx = scriptGetRunCtx();
    if (!rctx) {
        luaPushError(L, "call/pcall can only be called inside a script invocation");
        return lua_error(L);
    }
    int argc = lua_gettop(L);
    if (argc == 0) {
        luaPushError(L, "Please specify at least one argument for this call script");
        return luaErrorOrReturn(L, raise);
    }
    client *c = rctx->c;
    if (!luaArgsToArgv(L, c, argc)) {
        luaPushError(L, "Command arguments must be strings or integers");
        return luaErrorOrReturn(L, raise);
    }
    lua_settop(L, 0); /* room for the reply */
    sds err = NULL;
    scriptCall(rctx, &err);
    luaReleaseArgv(c);
    if (err) {
        luaPushErrorBuffer(L, err, sdslen(err));
        sdsfree(err);
        luaMarkErrorCounted(L);
        /* A refused command may still have produced a reply (never by design): drop it. */
        c->bufpos = 0;
        while (listLength(c->reply)) listDelNode(c->reply, listFirst(c->reply));
        c->reply_bytes = 0;
        return luaErrorOrReturn(L, raise);
    }
    luaPushClientReply(L, c);
    if (raise && lua_istable(L, -1)) {
        lua_pushliteral(L, "err");
        lua_rawget(L, -2);
        int is_error = lua_isstring(L, -1);
        lua_pop(L, 1);
        if (is_error) return lua_error(L);
    }
    return 1;
}

static int luaServerCall(lua_State *L) {
    return luaGenericCommand(L, 1);
}

static int luaServerPcall(lua_State *L) {
    return luaGenericCommand(L, 0);
}

static int luaServerSha1hex(lua_State *L) {
    if (lua_gettop(L) != 1) {
        luaPushError(L, "wrong number of arguments");
        return lua_error(L);
    }
    size_t len = 0;
    const char *s = lua_tolstring(L, 1, &len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(s ? s : "", s ? len : 0, md, &mdlen, EVP_sha1(), NULL);
    char hex[41];
    static const char digits[] = "0123456789abcdef";
    for (int j = 0; j < 20; j++) {
        hex[j * 2] = digits[md[j] >> 4];
        hex[j * 2 + 1] = digits[md[j] & 0xf];
    }
    lua_pushlstring(L, hex, 40);
    return 1;
}

static int luaReplyHelper(lua_State *L, int is_error) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        luaPushError(L, "wrong number or type of arguments");
        return 1;
    }
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    if (!is_error) {
        luaPushTaggedString(L, "ok", s, len);
        return 1;
    }
    if (len && s[0] == '-') {
        luaPushErrorBuffer(L, s, len);
    } else {
        lua_pushliteral(L, "-");
        lua_pushvalue(L, 1);
        lua_concat(L, 2);
        s = lua_tolstring(L, -1, &len);
        luaPushErrorBuffer(L, s, len);
    }
    return 1;
}

static int luaServerErrorReply(lua_State *L) {
    return luaReplyHelper(L, 1);
}

static int luaServerStatusReply(lua_State *L) {
    return luaReplyHelper(L, 0);
}

static int luaServerLog(lua_State *L) {
    int argc = lua_gettop(L);
    if (argc < 2) {
        luaPushError(L, "server.log() requires two arguments or more.");
        return lua_error(L);
    }
    if (!lua_isnumber(L, 1)) {
        luaPushError(L, "First argument must be a number (log level).");
        return lua_error(L);
    }
    int level = (int)lua_tonumber(L, 1);
    if (level < LL_DEBUG || level > LL_WARNING) {
        luaPushError(L, "Invalid debug level.");
        return lua_error(L);
    }
    if (level < server.verbosity) return 0;
    sds line = sdsempty();
    for (int j = 2; j <= argc; j++) {
        size_t len;
        const char *s = lua_tolstring(L, j, &len);
        if (!s) continue;
        if (j != 2) line = sdscatlen(line, " ", 1);
        line = sdscatlen(line, s, len);
    }
    serverLogRaw(level, line);
    sdsfree(line);
    return 0;
}

static int luaServerSetResp(lua_State *L) {
    scriptRunCtx *rctx = scriptGetRunCtx();
    if (!rctx) {
        luaPushError(L, "server.setresp can only be called inside a script invocation");
        return lua_error(L);
    }
    if (lua_gettop(L) != 1) {
        luaPushError(L, "server.setresp() requires one argument.");
        return lua_error(L);
    }
    int resp = (int)lua_tonumber(L, 1);
    if (resp != 2 && resp != 3) {
        luaPushError(L, "RESP version must be 2 or 3.");
        return lua_error(L);
    }
    rctx->c->resp = resp;
    return 0;
}

static int luaServerSetRepl(lua_State *L) {
    scriptRunCtx *rctx = scriptGetRunCtx();
    if (!rctx) {
        luaPushError(L, "server.set_repl can only be called inside a script invocation");
        return lua_error(L);
    }
    if (lua_gettop(L) != 1) {
        luaPushError(L, "server.set_repl() requires one argument.");
        return lua_error(L);
    }
    int flags = (int)lua_tonumber(L, 1);
    if ((flags & ~LUA_REPL_ALL) != 0) {
        luaPushError(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
        return lua_error(L);
    }
    rctx->call_flags = ((flags & LUA_REPL_AOF) ? CMD_CALL_PROPAGATE_AOF : 0) |
                       ((flags & LUA_REPL_REPLICA) ? CMD_CALL_PROPAGATE_REPL : 0);
    return 0;
}

static int luaServerReplicateCommands(lua_State *L) {
    lua_pushboolean(L, 1); /* effects replication is the only mode */
    return 1;
}

static int luaServerBreakpoint(lua_State *L) {
    lua_pushboolean(L, 0); /* no debugger session */
    return 1;
}

static int luaServerDebug(lua_State *L) {
    (void)L;
    return 0;
}

static int luaServerAclCheckCmd(lua_State *L) {
    int argc = lua_gettop(L);
    if (argc == 0) {
        luaPushError(L, "Please specify at least one argument for this call script");
        return lua_error(L);
    }
    for (int j = 1; j <= argc; j++) {
        int t = lua_type(L, j);
        if (t != LUA_TSTRING && t != LUA_TNUMBER) {
            luaPushError(L, "Command arguments must be strings or integers");
            return lua_error(L);
        }
    }
    /* Every command is allowed until ACLs exist: only its existence is checked. */
    size_t len;
    const char *name = lua_tolstring(L, 1, &len);
    robj *argv[2];
    argv[0] = createStringObject(name, len);
    argv[1] = NULL;
    if (argc >= 2) {
        const char *sub = lua_tolstring(L, 2, &len);
        argv[1] = createStringObject(sub, len);
    }
    serverCommand *cmd = lookupCommand(argv, argc >= 2 ? 2 : 1);
    decrRefCount(argv[0]);
    if (argv[1]) decrRefCount(argv[1]);
    if (!cmd) {
        luaPushError(L, "Invalid command passed to server.acl_check_cmd()");
        return lua_error(L);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static void luaSetIntegerField(lua_State *L, const char *name, lua_Number v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
}

static void luaSetFunctionField(lua_State *L, const char *name, lua_CFunction fn) {
    lua_pushcfunction(L, fn);
    lua_setfield(L, -2, name);
}

void luaRegisterLogAndVersion(lua_State *L) {
    luaSetFunctionField(L, "log", luaServerLog);
    luaSetIntegerField(L, "LOG_DEBUG", LL_DEBUG);
    luaSetIntegerField(L, "LOG_VERBOSE", LL_VERBOSE);
    luaSetIntegerField(L, "LOG_NOTICE", LL_NOTICE);
    luaSetIntegerField(L, "LOG_WARNING", LL_WARNING);
    lua_pushstring(L, LUA_REDIS_COMPAT_VERSION);
    lua_setfield(L, -2, "REDIS_VERSION");
    luaSetIntegerField(L, "REDIS_VERSION_NUM", LUA_REDIS_COMPAT_VERSION_NUM);
    lua_pushstring(L, VALKEY_VERSION);
    lua_setfield(L, -2, "SERVER_VERSION");
    luaSetIntegerField(L, "SERVER_VERSION_NUM", VALKEY_VERSION_NUM);
    lua_pushstring(L, LUA_SERVER_NAME);
    lua_setfield(L, -2, "SERVER_NAME");
}

/* Pushes the runtime `server` table (not yet protected). */
static void luaPushServerApi(lua_State *L, int api_kind) {
    lua_newtable(L);
    luaSetFunctionField(L, "call", luaServerCall);
    luaSetFunctionField(L, "pcall", luaServerPcall);
    luaSetFunctionField(L, "sha1hex", luaServerSha1hex);
    luaSetFunctionField(L, "error_reply", luaServerErrorReply);
    luaSetFunctionField(L, "status_reply", luaServerStatusReply);
    luaSetFunctionField(L, "setresp", luaServerSetResp);
    luaSetFunctionField(L, "set_repl", luaServerSetRepl);
    luaSetFunctionField(L, "acl_check_cmd", luaServerAclCheckCmd);
    luaSetIntegerField(L, "REPL_NONE", LUA_REPL_NONE);
    luaSetIntegerField(L, "REPL_AOF", LUA_REPL_AOF);
    luaSetIntegerField(L, "REPL_SLAVE", LUA_REPL_REPLICA);
    luaSetIntegerField(L, "REPL_REPLICA", LUA_REPL_REPLICA);
    luaSetIntegerField(L, "REPL_ALL", LUA_REPL_ALL);
    luaRegisterLogAndVersion(L);
    if (api_kind == LUA_API_EVAL) {
        luaSetFunctionField(L, "replicate_commands", luaServerReplicateCommands);
        luaSetFunctionField(L, "breakpoint", luaServerBreakpoint);
        luaSetFunctionField(L, "debug", luaServerDebug);
    }
    luaSetErrorMetatable(L, -1);
}

/* ------------------------------------------------------------------------- */
/* Building the state                                                         */
/* ------------------------------------------------------------------------- */

static const char *const removed_base_functions[] = {"print", "dofile", "loadfile", "getfenv", "setfenv",
                                                    "newproxy", "module", "require", NULL};

/* Runs a library opener; its table is left on the stack. */
static void luaOpenLibrary(lua_State *L, lua_CFunction opener, const char *name) {
    lua_pushcfunction(L, opener);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
}

/* Opens a Debian lua-* module by soname and sets globals[name] to its table. */
static void luaOpenSharedModule(lua_State *L, void **handle, const char *soname, const char *symbol,
                                const char *name) {
    if (*handle == NULL) {
        *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (*handle == NULL) {
            serverLog(LL_WARNING, "Lua: can't load %s (%s): scripts will not have '%s'", soname, dlerror(), name);
            return;
        }
    }
    lua_CFunction opener = (lua_CFunction)(uintptr_t)dlsym(*handle, symbol);
    if (opener == NULL) {
        serverLog(LL_WARNING, "Lua: %s has no %s: scripts will not have '%s'", soname, symbol, name);
        return;
    }
    luaOpenLibrary(L, opener, name);
    lua_setfield(L, LUA_GLOBALSINDEX, name);
}

/* Wraps t[name] (t at idx) in a C closure fn with the original as upvalue. */
static void luaWrapField(lua_State *L, int idx, const char *name, lua_CFunction fn) {
    idx = luaAbsIndex(L, idx);
    lua_getfield(L, idx, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, idx, name);
}

static void luaLoadLibraries(lua_State *L) {
    luaOpenLibrary(L, luaopen_base, "");
    lua_pop(L, 1);
    luaOpenLibrary(L, luaopen_table, LUA_TABLIBNAME);
    luaWrapField(L, -1, "insert", luaTableWriterGuarded);
    luaWrapField(L, -1, "remove", luaTableWriterGuarded);
    luaWrapField(L, -1, "sort", luaTableWriterGuarded);
    lua_pop(L, 1);
    luaOpenLibrary(L, luaopen_string, LUA_STRLIBNAME);
    lua_pop(L, 1);
    luaOpenLibrary(L, luaopen_math, LUA_MATHLIBNAME);
    luaSetFunctionField(L, "random", luaMathRandom);
    luaSetFunctionField(L, "randomseed", luaMathRandomseed);
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    luaSetFunctionField(L, "clock", luaOsClock);
    lua_setfield(L, LUA_GLOBALSINDEX, "os");
    luaOpenSharedModule(L, &cjson_handle, "liblua5.1-cjson.so.0", "luaopen_cjson", "cjson");
    lua_getfield(L, LUA_GLOBALSINDEX, "cjson");
    if (lua_istable(L, -1)) luaWrapField(L, -1, "encode", luaCjsonEncodeGuarded);
    lua_pop(L, 1);
    luaOpenSharedModule(L, &bitop_handle, "liblua5.1-bitop.so.0", "luaopen_bit", "bit");
    lua_getfield(L, LUA_GLOBALSINDEX, "bit");
    if (lua_istable(L, -1)) luaWrapField(L, -1, "tohex", luaBitTohexGuarded);
    lua_pop(L, 1);
    luaOpenLibrary(L, luaopen_cmsgpack, "cmsgpack");
    lua_setfield(L, LUA_GLOBALSINDEX, "cmsgpack");
    luaOpenLibrary(L, luaopen_struct, "struct");
    lua_setfield(L, LUA_GLOBALSINDEX, "struct");
}

static void luaInstallSafeBase(lua_State *L) {
    for (int j = 0; removed_base_functions[j]; j++) {
        lua_pushnil(L);
        lua_setfield(L, LUA_GLOBALSINDEX, removed_base_functions[j]);
    }
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    luaSetFunctionField(L, "rawset", luaRawsetGuarded);
    luaSetFunctionField(L, "rawget", luaRawgetThrough);
    luaSetFunctionField(L, "loadstring", luaLoadstringSafe);
    luaSetFunctionField(L, "load", luaLoadSafe);
    luaSetFunctionField(L, "unpack", luaUnpackSafe);
    lua_pop(L, 1);
    lua_pushcfunction(L, luaNextThrough);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_GLOBALSINDEX, "next");
    lua_pushcclosure(L, luaPairsThrough, 1);
    lua_setfield(L, LUA_GLOBALSINDEX, "pairs");
    lua_pushcfunction(L, luaIpairsStep);
    lua_pushcclosure(L, luaIpairsThrough, 1);
    lua_setfield(L, LUA_GLOBALSINDEX, "ipairs");
    luaWrapField(L, LUA_GLOBALSINDEX, "setmetatable", luaSetmetatableGuarded);
}

/* Makes every library read-only, the string metatable included, and swaps the globals
 * for their read-only proxy. From here on nothing may set a global through the API. */
static void luaProtectEverything(lua_State *L, luaStateInfo *info) {
    static const char *const libraries[] = {"string", "table", "math", "os", "coroutine", "cjson",
                                            "bit",    "cmsgpack", "struct", NULL};
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    int globals = lua_gettop(L);
    for (int j = 0; libraries[j]; j++) luaProtectField(L, globals, libraries[j]);
    /* Strings index their methods through the (protected) string library. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_getfield(L, globals, "string");
    lua_setfield(L, -2, "__index");
    luaPushReadonly(L, -1);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    luaPushServerApi(L, info->api_kind);
    luaPushReadonly(L, -1);
    lua_remove(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, globals, "server");
    lua_setfield(L, globals, "redis");

    luaSetErrorMetatable(L, globals);
    luaPushReadonly(L, globals);
    int proxy = lua_gettop(L);
    lua_pushvalue(L, proxy);
    lua_setfield(L, globals, "_G");
    lua_getmetatable(L, proxy);
    info->globals_meta_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, globals);
    info->globals_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, proxy);
    lua_replace(L, LUA_GLOBALSINDEX);
    lua_settop(L, globals - 1);
}

static int luaPanic(lua_State *L) {
    serverPanic("Lua panic: %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    return 0;
}

static const char *const anchored_chunknames[] = {"@user_script", "@user_function", NULL};

lua_State *luaCreateScriptingState(int api_kind) {
    luaStateInfo *info = zcalloc(sizeof(*info));
    info->api_kind = api_kind;
    getRandomBytes((unsigned char *)&info->rand_state, sizeof(info->rand_state));
    info->rand_state &= LCG_MASK;
    lua_State *L = lua_newstate(luaAllocator, info);
    if (L == NULL) serverPanic("Can't create a Lua state");
    lua_atpanic(L, luaPanic);
    luaLoadLibraries(L);
    luaInstallSafeBase(L);
    lua_pushcfunction(L, luaErrorHandler);
    info->errh_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    /* The parser does not keep the chunk name reachable while it runs: anchored here, the
     * (interned) names cannot be collected under it. */
    for (int j = 0; anchored_chunknames[j]; j++) {
        lua_pushstring(L, anchored_chunknames[j]);
        luaL_ref(L, LUA_REGISTRYINDEX);
    }
    luaProtectEverything(L, info);
    return L;
}

void luaCloseScriptingState(lua_State *L) {
    luaStateInfo *info = stateInfo(L);
    /* A full collection first, so that no finalizer runs against a half-closed state. */
    lua_gc(L, LUA_GCCOLLECT, 0);
    lua_close(L);
    zfree(info);
}

void luaSetGlobalsView(lua_State *L) {
    luaStateInfo *info = stateInfo(L);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, info->globals_ref);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, info->globals_meta_ref);
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

/* ------------------------------------------------------------------------- */
/* Calling a script                                                           */
/* ------------------------------------------------------------------------- */

static void luaMaskCountHook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    scriptRunCtx *rctx = scriptGetRunCtx();
    if (!rctx || scriptInterrupt(rctx) != SCRIPT_KILL) return;
    int eval = (rctx->flags & SCRIPT_RUN_EVAL_MODE) != 0;
    serverLog(LL_NOTICE, "Lua script killed by user with %s.", eval ? "SCRIPT KILL" : "FUNCTION KILL");
    /* On every line from now on, so that a pcall in the script cannot swallow it. */
    lua_sethook(L, luaMaskCountHook, LUA_MASKLINE, 0);
    luaPushError(L, eval ? "Script killed by user with SCRIPT KILL..." : "Script killed by user with FUNCTION KILL...");
    lua_error(L);
}

static void luaPushArgsArray(lua_State *L, robj **elems, size_t count) {
    lua_createtable(L, (int)count, 0);
    for (size_t j = 0; j < count; j++) {
        size_t len;
        char buf[LONG_STR_SIZE];
        const char *s = stringObjectBytes(elems[j], buf, &len);
        lua_pushlstring(L, s, len);
        lua_rawseti(L, -2, (int)j + 1);
    }
}

static void luaReplyCallError(scriptRunCtx *ctx, lua_State *L) {
    client *c = ctx->original_client;
    if (!lua_istable(L, -1)) {
        const char *msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure";
        addReplyErrorFormat(c, "Error running script %s, %.100s", ctx->funcname, msg);
        return;
    }
    int t = lua_gettop(L);
    const char *msg = luaErrorTableMessage(L, t);
    int counted = luaRawField(L, t, "ignore_error_stats_update") == LUA_TBOOLEAN && lua_toboolean(L, -1);
    int st = luaRawField(L, t, "source");
    int lt = luaRawField(L, t, "line");
    int flags = counted ? ERR_REPLY_FLAG_NO_STATS_UPDATE : 0;
    if (st == LUA_TSTRING && lt != LUA_TNIL && lua_isstring(L, -1)) {
        addReplyErrorFormatEx(c, flags, "-%s script: %s, on %s:%s.", msg, ctx->funcname, lua_tostring(L, -2),
                              lua_tostring(L, -1));
    } else {
        addReplyErrorFormatEx(c, flags, "-%s", msg);
    }
    lua_pop(L, 3);
}

void luaCallFunction(scriptRunCtx *ctx, lua_State *L, int fn_ref, robj **keys, size_t nkeys, robj **args,
                     size_t nargs, int as_globals) {
    luaStateInfo *info = stateInfo(L);
    int base = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, info->errh_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fn_ref);
    int nparams = 0;
    if (as_globals) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, info->globals_ref);
        luaPushArgsArray(L, keys, nkeys);
        lua_setfield(L, -2, "KEYS");
        luaPushArgsArray(L, args, nargs);
        lua_setfield(L, -2, "ARGV");
        lua_pop(L, 1);
    } else {
        luaPushArgsArray(L, keys, nkeys);
        luaPushArgsArray(L, args, nargs);
        nparams = 2;
    }
    int hooked = script_busy_reply_threshold > 0;
    if (hooked) lua_sethook(L, luaMaskCountHook, LUA_MASKCOUNT, LUA_HOOK_INSTRUCTIONS);
    int status = lua_pcall(L, nparams, 1, base + 1);
    if (hooked) lua_sethook(L, NULL, 0, 0);
    if (status) luaReplyCallError(ctx, L);
    else luaReplyValue(ctx->original_client, ctx->c->resp, L);
    lua_settop(L, base);
    if (++info->calls % LUA_GC_PERIOD == 0) lua_gc(L, LUA_GCSTEP, LUA_GC_PERIOD);
}
