/* function_lua.c -- the Lua engine of functions: loading a library's code and calling a
 * registered callback.
 *
 * Functions have their own Lua state, separate from EVAL's. While a library's code runs
 * at load time, the globals proxy shows only the load API: a `server` table (alias
 * `redis`) with register_function, log, the LOG_* levels and the version fields;
 * anything else is a nonexistent global. Once loaded, the callbacks run with the full
 * runtime API. The code gets LOAD_TIMEOUT_MS to register its functions.
 */
#include <string.h>
#include <strings.h>

#include "functions.h"
#include "networking.h"
#include "script.h"
#include "script_lua.h"
#include "server.h"
#include "zmalloc.h"

#define LOAD_TIMEOUT_MS 500
#define LOAD_HOOK_INSTRUCTIONS 100000

static lua_State *fn_lua;
static client *fn_client;
static int load_api_ref = LUA_NOREF;

/* The library whose code is running (FUNCTION LOAD), NULL otherwise. */
static functionLibInfo *loading_lib;
static monotime load_start;

/* ------------------------------------------------------------------------- */
/* server.register_function                                                   */
/* ------------------------------------------------------------------------- */

static int raiseRegisterError(lua_State *L, const char *msg) {
    luaPushError(L, msg);
    return lua_error(L);
}

/* Reads the flags table at top into *flags; 0 on an unknown flag. */
static int readFunctionFlags(lua_State *L, uint64_t *flags) {
    *flags = 0;
    for (int j = 1;; j++) {
        lua_rawgeti(L, -1, j);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            return 1;
        }
        const char *name = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
        const scriptFlag *sf = scripts_flags_def;
        while (name && sf->str && strcasecmp(name, sf->str) != 0) sf++;
        lua_pop(L, 1);
        if (!name || !sf->str) return 0;
        *flags |= sf->flag;
    }
}

/* Stack slots holding the register_function arguments once read. */
#define ARG_NAME 2
#define ARG_DESC 3
#define ARG_CALLBACK 4

/* register_function{function_name=..., callback=..., description=..., flags={...}}:
 * the values go to the ARG_* slots. Returns an error message or NULL. */
static const char *readNamedArgs(lua_State *L, uint64_t *flags) {
    if (!lua_istable(L, 1))
        return "calling server.register_function with a single argument is only applicable to Lua table "
               "(representing named arguments).";
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (!lua_isstring(L, -2)) return "named argument key given to server.register_function is not a string";
        lua_pushvalue(L, -2);
        const char *key = lua_tostring(L, -1); /* on a copy: converting the real key breaks lua_next */
        const char *err = NULL;
        int slot = 0;
        if (!strcasecmp(key, "function_name")) {
            if (lua_isstring(L, -2)) slot = ARG_NAME;
            else err = "function_name argument given to server.register_function must be a string";
        } else if (!strcasecmp(key, "description")) {
            if (lua_isstring(L, -2)) slot = ARG_DESC;
            else err = "description argument given to server.register_function must be a string";
        } else if (!strcasecmp(key, "callback")) {
            if (lua_isfunction(L, -2)) slot = ARG_CALLBACK;
            else err = "callback argument given to server.register_function must be a function";
        } else if (!strcasecmp(key, "flags")) {
            if (!lua_istable(L, -2)) {
                err = "flags argument to server.register_function must be a table representing function flags";
            } else {
                lua_pushvalue(L, -2);
                if (!readFunctionFlags(L, flags)) err = "unknown flag given";
                lua_pop(L, 1);
            }
        } else {
            err = "unknown argument given to server.register_function";
        }
        if (err) return err;
        lua_pop(L, 1); /* the key copy */
        if (slot) {
            lua_pushvalue(L, -1);
            lua_replace(L, slot);
        }
        lua_pop(L, 1); /* the value */
    }
    if (lua_isnil(L, ARG_NAME)) return "server.register_function must get a function name argument";
    if (lua_isnil(L, ARG_CALLBACK)) return "server.register_function must get a callback argument";
    return NULL;
}

static int luaRegisterFunction(lua_State *L) {
    if (!loading_lib) return raiseRegisterError(L, "server.register_function can only be called on FUNCTION LOAD command");
    int argc = lua_gettop(L);
    uint64_t flags = 0;
    const char *err = NULL;
    if (argc < 1 || argc > 2) return raiseRegisterError(L, "wrong number of arguments to server.register_function");
    if (argc == 1) {
        lua_settop(L, ARG_CALLBACK);
        err = readNamedArgs(L, &flags);
    } else if (!lua_isstring(L, 1)) {
        err = "first argument to server.register_function must be a string";
    } else if (!lua_isfunction(L, 2)) {
        err = "second argument to server.register_function must be a function";
    } else {
        /* Same slots as the named form. */
        lua_settop(L, 2);
        lua_pushnil(L);
        lua_pushvalue(L, 2);
        lua_pushvalue(L, 1);
        lua_replace(L, ARG_NAME);
    }
    if (err) return raiseRegisterError(L, err);

    size_t len;
    const char *name = lua_tolstring(L, ARG_NAME, &len);
    sds fname = sdsnewlen(name, len);
    sds desc = NULL;
    if (!lua_isnil(L, ARG_DESC)) {
        const char *d = lua_tolstring(L, ARG_DESC, &len);
        desc = sdsnewlen(d, len);
    }
    lua_pushvalue(L, ARG_CALLBACK);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (functionLibAddFunction(loading_lib, fname, desc, ref, flags, &err) != C_OK) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return raiseRegisterError(L, err);
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* The state                                                                  */
/* ------------------------------------------------------------------------- */

/* The globals shown while a library loads: server/redis with the load API only. */
static void createLoadApi(lua_State *L) {
    lua_newtable(L); /* load-time globals */
    lua_newtable(L); /* load-time server table */
    lua_pushcfunction(L, luaRegisterFunction);
    lua_setfield(L, -2, "register_function");
    luaRegisterLogAndVersion(L);
    luaSetErrorMetatable(L, -1);
    luaPushReadonly(L, -1);
    lua_remove(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "server");
    lua_setfield(L, -2, "redis");
    luaSetErrorMetatable(L, -1);
    load_api_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

void functionsLuaInit(void) {
    if (fn_lua) return;
    fn_lua = luaCreateScriptingState(LUA_API_FUNCTIONS);
    createLoadApi(fn_lua);
    if (!fn_client) fn_client = scriptCreateClient();
}

void functionsLuaReset(void) {
    if (fn_lua) luaCloseScriptingState(fn_lua);
    fn_lua = NULL;
    functionsLuaInit();
}

size_t functionsLuaMemory(void) {
    return fn_lua ? luaMemory(fn_lua) : 0;
}

client *functionsLuaClient(void) {
    functionsLuaInit();
    return fn_client;
}

void functionsLuaReleaseFunction(functionInfo *fi) {
    if (fn_lua && fi->fn_ref != LUA_NOREF) luaL_unref(fn_lua, LUA_REGISTRYINDEX, fi->fn_ref);
    fi->fn_ref = LUA_NOREF;
}

/* ------------------------------------------------------------------------- */
/* Loading and calling                                                        */
/* ------------------------------------------------------------------------- */

static void loadTimeoutHook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    if (elapsedMs(load_start) <= LOAD_TIMEOUT_MS) return;
    lua_sethook(L, loadTimeoutHook, LUA_MASKLINE, 0); /* keep failing until the code gives up */
    luaPushError(L, "FUNCTION LOAD timeout");
    lua_error(L);
}

int functionsLuaLoadLibrary(functionLibInfo *li, const char *code, size_t len, sds *err) {
    functionsLuaInit();
    lua_State *L = fn_lua;
    int base = lua_gettop(L);
    luaPushErrorHandler(L);
    if (luaCompileChunk(L, code, len, "@user_function", err) != C_OK) {
        sds msg = sdscatfmt(sdsempty(), "Error compiling function: %S", *err);
        sdsfree(*err);
        *err = msg;
        lua_settop(L, base);
        return C_ERR;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, load_api_ref);
    luaSetGlobalsView(L);
    loading_lib = li;
    load_start = getMonotonicUs();
    lua_sethook(L, loadTimeoutHook, LUA_MASKCOUNT, LOAD_HOOK_INSTRUCTIONS);
    int status = lua_pcall(L, 0, 0, base + 1);
    lua_sethook(L, NULL, 0, 0);
    loading_lib = NULL;
    lua_pushnil(L);
    luaSetGlobalsView(L);
    int ret = C_OK;
    if (status) {
        *err = sdscatfmt(sdsempty(), "Error registering functions: %s", luaErrorTableMessage(L, -1));
        ret = C_ERR;
    }
    lua_settop(L, base);
    return ret;
}

void functionsLuaCall(scriptRunCtx *rctx, functionInfo *fi, robj **keys, size_t nkeys, robj **args, size_t nargs) {
    luaCallFunction(rctx, fn_lua, fi->fn_ref, keys, nkeys, args, nargs, 0);
}
