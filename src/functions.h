/* functions.h -- FUNCTION LOAD/DELETE/FLUSH/LIST/STATS/DUMP/RESTORE/KILL/HELP and
 * FCALL/FCALL_RO: libraries of named functions that live with the dataset.
 *
 * A library is its code, whose first line is "#!<engine> name=<library>" (the only
 * engine is "lua", case-insensitive). Loading runs the code once in the functions' Lua
 * state (function_lua.c) with a reduced API whose server.register_function() declares
 * the library's functions: a name, a Lua callback, an optional description and flags
 * (no-writes, allow-oom, allow-stale, no-cluster, allow-cross-slot-keys). FCALL runs a
 * callback with the keys and arguments as its two parameters, in a run context like
 * EVAL's (script.c).
 *
 * The registry is two tables: libraries by name (case-sensitive) and functions by name
 * (case-insensitive, as FCALL finds them). A load is all or nothing: the new library is
 * built aside, checked for name collisions with other libraries' functions, and only
 * then replaces the old one (REPLACE) or is added.
 *
 * Persistence. A library is stored as RDB_OPCODE_FUNCTION2 (245) followed by its code as
 * an RDB string (LZF-compressed when that saves space). FUNCTION DUMP is the libraries
 * in that form, then the RDB version (2 bytes, little-endian) and a CRC64 of all that
 * (8 bytes, little-endian), exactly like a DUMP payload. The RDB code saves and loads
 * libraries through functionsForEachLibraryCode() / functionsLoadLibraryCode().
 */
#ifndef FUNCTIONS_H
#define FUNCTIONS_H

#include <stddef.h>
#include <stdint.h>
#include "sds.h"
#include "object.h"

struct client;
struct scriptRunCtx;

typedef struct functionLibInfo functionLibInfo;

typedef struct functionInfo {
    sds name;
    sds desc;            /* NULL when not given */
    int fn_ref;          /* the callback in the functions' Lua registry */
    uint64_t flags;      /* SCRIPT_FLAG_* */
    functionLibInfo *li; /* the library it belongs to */
} functionInfo;

struct functionLibInfo {
    sds name;
    sds code;
    functionInfo **functions; /* in registration order */
    int count;
    int alloc;
};

/* ---- For the RDB code ---- */
/* Calls proc with every library's code (the whole code, shebang included). */
void functionsForEachLibraryCode(void (*proc)(void *privdata, sds code), void *privdata);
/* Loads one library as FUNCTION LOAD [REPLACE] would. C_OK, or C_ERR with *err set. */
int functionsLoadLibraryCode(sds code, int replace, sds *err);
/* Removes every library (FUNCTION FLUSH; DEBUG RELOAD before loading a file). */
void functionsFlushAll(void);
unsigned long functionsLibraryCount(void);

/* ---- For function_lua.c ---- */
/* Declares a function of the library being loaded. C_OK, or C_ERR with *err set to a
 * static message (name not valid, name taken in this library). Takes name and desc. */
int functionLibAddFunction(functionLibInfo *li, sds name, sds desc, int fn_ref, uint64_t flags, const char **err);

/* function_lua.c */
void functionsLuaInit(void);
/* Runs a library's code (from its shebang's newline on) so it registers its functions
 * into li. C_OK, or C_ERR with *err set ("Error registering functions: ..." and the like). */
int functionsLuaLoadLibrary(functionLibInfo *li, const char *code, size_t len, sds *err);
void functionsLuaCall(struct scriptRunCtx *rctx, functionInfo *fi, robj **keys, size_t nkeys, robj **args,
                      size_t nargs);
void functionsLuaReleaseFunction(functionInfo *fi);
void functionsLuaReset(void); /* a fresh Lua state: every reference is gone */
size_t functionsLuaMemory(void);
struct client *functionsLuaClient(void);

#endif
