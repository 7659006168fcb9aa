/* script_lua.h -- the Lua 5.1 engine shared by EVAL (eval.c) and functions
 * (function_lua.c): the sandboxed state, the `server` API (alias `redis`), conversions
 * between RESP replies and Lua values, and calling a compiled script.
 *
 * The sandbox. Every library a script sees (string, table, math, os with only clock,
 * cjson, bit, cmsgpack, struct, server/redis, coroutine and the base functions that are
 * safe) is reached through a read-only proxy: an empty table whose metatable forwards
 * reads to the real table and raises "Attempt to modify a readonly table" on writes. The
 * globals table itself is such a proxy, so scripts cannot create globals, and reading a
 * global that does not exist raises "Script attempted to access nonexistent global
 * variable '<name>'". The raw-access functions that could bypass a metatable (rawset,
 * setmetatable, table.insert/remove/sort) refuse proxies; rawget, next, pairs and ipairs
 * see through them. Precompiled (binary) chunks are never loaded. The globals proxy's
 * metatable can be re-pointed (luaSetGlobalsView), which functions use to show a reduced
 * API while a library's code is loading.
 *
 * cjson and bit come from Debian's lua-cjson and lua-bitop packages, which ship only
 * loadable modules (no -dev library): they are dlopen()ed from their sonames and their
 * luaopen_* entry points called, the Lua C API being exported by this binary's liblua.
 * cmsgpack and struct are this project's own (lua_cmsgpack.c, lua_struct.c).
 *
 * The Lua VMs allocate through libc, not zmalloc: their memory is reported separately
 * (used_memory_vm_*) and not counted against maxmemory, as in Valkey.
 */
#ifndef SCRIPT_LUA_H
#define SCRIPT_LUA_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "sds.h"
#include "object.h"
#include "script.h"

struct client;

/* Which `server` API a state gets. */
#define LUA_API_EVAL 0      /* adds replicate_commands, breakpoint, debug */
#define LUA_API_FUNCTIONS 1 /* runtime API of functions */

/* Creates a sandboxed state with the runtime API of the given kind. */
lua_State *luaCreateScriptingState(int api_kind);
void luaCloseScriptingState(lua_State *L);
size_t luaMemory(lua_State *L); /* bytes used by the VM */

/* Compiles code (a script body or a library without its shebang line, which the caller
 * replaces by keeping its newline so line numbers stay right) and pushes the function.
 * On error pushes nothing, returns C_ERR and sets *err to Lua's message. */
int luaCompileChunk(lua_State *L, const char *code, size_t len, const char *chunkname, sds *err);

/* Calls the function referenced by fn_ref (luaL_ref in the registry) for the script in
 * ctx and replies to ctx->original_client: its return value converted, or the error.
 * EVAL passes keys and args as the KEYS and ARGV globals (as_globals), functions as the
 * two arguments of the callback. */
void luaCallFunction(scriptRunCtx *ctx, lua_State *L, int fn_ref, robj **keys, size_t nkeys, robj **args,
                     size_t nargs, int as_globals);

/* ---- Helpers for function_lua.c ---- */

/* Pushes a read-only proxy of the table at idx. */
void luaPushReadonly(lua_State *L, int idx);
/* Gives the table at idx the "nonexistent global variable" error on missing keys. */
void luaSetErrorMetatable(lua_State *L, int idx);
/* Registers the shared API entries (log and LOG_*, version fields) in the table at top. */
void luaRegisterLogAndVersion(lua_State *L);
/* Points the globals proxy at the table at top (popped), or back at the real globals
 * when called with a nil on top. */
void luaSetGlobalsView(lua_State *L);
/* Pushes the registered error handler (for lua_pcall). */
void luaPushErrorHandler(lua_State *L);
/* Pushes an error table {err = "<CODE> <msg>"}: msg "-CODE text" keeps its code, any
 * other message gets "ERR ". */
void luaPushError(lua_State *L, const char *msg);
/* The "err" string of the error table at idx (or a fallback), for messages. */
const char *luaErrorTableMessage(lua_State *L, int idx);

/* Library openers of our own modules. */
int luaopen_cmsgpack(lua_State *L);
int luaopen_struct(lua_State *L);

#endif
