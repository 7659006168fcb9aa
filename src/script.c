/* script.c -- the engine-neutral side of scripting: the run context, the checks made on
 * every command a script calls, the busy state and SCRIPT KILL / FUNCTION KILL.
 * See script.h for the life cycle.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "script.h"
#include "aof.h"
#include "tier/tier.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "evict.h"
#include "networking.h"
#include "replication.h"
#include "server.h"
#include "zmalloc.h"

/* Provided by rdb.c once persistence lands: writes are refused after a failed BGSAVE. */
int rdbWritesDeniedByBgsaveError(void) __attribute__((weak));

/* Engines' hooks (eval.c, functions.c) for the flags a command's script declared. */
int evalGetCommandScriptFlags(struct client *c, uint64_t *flags);
int fcallGetCommandFunctionFlags(struct client *c, uint64_t *flags);
void evalCommand(client *c);
void evalRoCommand(client *c);
void evalshaCommand(client *c);
void evalshaRoCommand(client *c);
void fcallCommand(client *c);
void fcallRoCommand(client *c);

/* INFO memory figures from each engine. */
void evalGetMemStats(size_t *vm, size_t *scripts_mem, size_t *count);
void functionsGetMemStats(size_t *vm, size_t *overhead, size_t *functions, size_t *libraries);

#define BUSY_REPLY_THRESHOLD_DEFAULT 5000

const scriptFlag scripts_flags_def[] = {
    {SCRIPT_FLAG_NO_WRITES, "no-writes"},
    {SCRIPT_FLAG_ALLOW_OOM, "allow-oom"},
    {SCRIPT_FLAG_ALLOW_STALE, "allow-stale"},
    {SCRIPT_FLAG_NO_CLUSTER, "no-cluster"},
    {SCRIPT_FLAG_ALLOW_CROSS_SLOT, "allow-cross-slot-keys"},
    {0, NULL},
};

long long script_busy_reply_threshold = BUSY_REPLY_THRESHOLD_DEFAULT;

/* The script being executed, if any. Scripts never nest (EVAL and FCALL are noscript). */
static scriptRunCtx *curr_run_ctx = NULL;

static robj *busy_eval_err, *busy_function_err;

/* ------------------------------------------------------------------------- */
/* Registration                                                               */
/* ------------------------------------------------------------------------- */

static const configDirective script_configs[] = {
    {.name = "busy-reply-threshold",
     .alias = "lua-time-limit",
     .type = CONFIG_TYPE_NUMERIC,
     .field = &script_busy_reply_threshold,
     .u.num = {.storage = CONFIG_NUM_LONG_LONG,
               .format = CONFIG_FMT_INTEGER,
               .min = 0,
               .max = LLONG_MAX,
               .dflt = BUSY_REPLY_THRESHOLD_DEFAULT}},
};

void scriptRegister(void) {
    configRegisterDirectives(script_configs, sizeof(script_configs) / sizeof(script_configs[0]));
}

robj *scriptBusyErrorObject(void) {
    if (busy_eval_err == NULL) {
        busy_eval_err = createObject(
            OBJ_STRING,
            sdsnew("-BUSY Valkey is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"));
        busy_function_err = createObject(
            OBJ_STRING,
            sdsnew("-BUSY Valkey is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"));
    }
    return (curr_run_ctx && !(curr_run_ctx->flags & SCRIPT_RUN_EVAL_MODE)) ? busy_function_err : busy_eval_err;
}

/* ------------------------------------------------------------------------- */
/* State                                                                      */
/* ------------------------------------------------------------------------- */

int scriptIsRunning(void) {
    return curr_run_ctx != NULL;
}

int scriptIsTimedout(void) {
    return curr_run_ctx && (curr_run_ctx->flags & SCRIPT_RUN_TIMEDOUT);
}

int scriptIsEval(void) {
    return curr_run_ctx && (curr_run_ctx->flags & SCRIPT_RUN_EVAL_MODE);
}

client *scriptGetCaller(void) {
    return curr_run_ctx ? curr_run_ctx->original_client : NULL;
}

const char *scriptCurrFunction(void) {
    return curr_run_ctx ? curr_run_ctx->funcname : NULL;
}

long long scriptRunDuration(void) {
    return curr_run_ctx ? (long long)elapsedMs(curr_run_ctx->start_time) : 0;
}

scriptRunCtx *scriptGetRunCtx(void) {
    return curr_run_ctx;
}

client *scriptCreateClient(void) {
    client *c = createClient(-1);
    c->flags |= CLIENT_SCRIPT | CLIENT_DENY_BLOCKING;
    return c;
}

/* ------------------------------------------------------------------------- */
/* Flags                                                                      */
/* ------------------------------------------------------------------------- */

uint64_t scriptFlagsToCmdFlags(uint64_t cmd_flags, uint64_t script_flags) {
    cmd_flags &= ~(CMD_STALE | CMD_DENYOOM | CMD_WRITE | CMD_MAY_REPLICATE);
    /* no-writes implies allow-oom: a script that cannot write cannot grow memory. */
    if (!(script_flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) cmd_flags |= CMD_DENYOOM;
    if (!(script_flags & SCRIPT_FLAG_NO_WRITES)) cmd_flags |= CMD_WRITE;
    if (script_flags & SCRIPT_FLAG_ALLOW_STALE) cmd_flags |= CMD_STALE;
    return cmd_flags;
}

static int isScriptRunningCommand(serverCommand *cmd, int *is_function) {
    serverCommandProc *p = cmd->proc;
    *is_function = p == fcallCommand || p == fcallRoCommand;
    return *is_function || p == evalCommand || p == evalRoCommand || p == evalshaCommand || p == evalshaRoCommand;
}

/* The command flags c's script declared (shebang or function), or 0 when it declared none. */
static uint64_t scriptDeclaredCmdFlags(client *c) {
    int is_function;
    uint64_t flags;
    if (!c->cmd || !isScriptRunningCommand(c->cmd, &is_function)) return 0;
    int found = is_function ? fcallGetCommandFunctionFlags(c, &flags) : evalGetCommandScriptFlags(c, &flags);
    if (!found || (flags & SCRIPT_FLAG_EVAL_COMPAT_MODE)) return 0;
    return scriptFlagsToCmdFlags(c->cmd->flags, flags);
}

int scriptCommandDeniedOnOOM(client *c) {
    return (scriptDeclaredCmdFlags(c) & CMD_DENYOOM) != 0;
}

int scriptCommandMayWrite(client *c) {
    return (scriptDeclaredCmdFlags(c) & CMD_WRITE) != 0;
}

int scriptGetDeclaredKeys(client *c, getKeysResult *result) {
    initGetKeysResult(result);
    return getKeysFromCommand(c->cmd, c->argv, c->argc, result);
}

/* ------------------------------------------------------------------------- */
/* Running                                                                    */
/* ------------------------------------------------------------------------- */

/* Over maxmemory, unless demotions to flash already in flight will bring memory under
 * it (plain commands run then too). */
static int usedMemoryOverLimit(void) {
    return server.maxmemory && getMaxmemoryState(NULL, NULL, NULL, NULL) != C_OK && !tierDemotionsCoverExcess();
}

/* Why writes are refused now: a failed BGSAVE (stop-writes-on-bgsave-error) or an AOF
 * write or fsync error. */
enum { DISK_WRITES_OK, DISK_ERROR_RDB, DISK_ERROR_AOF };

static int writesDeniedByDiskError(void) {
    if (rdbWritesDeniedByBgsaveError && rdbWritesDeniedByBgsaveError()) return DISK_ERROR_RDB;
    if (aofWritesDeniedByError()) return DISK_ERROR_AOF;
    return DISK_WRITES_OK;
}

static sds aofErrorForWrites(void) {
    return sdscatfmt(sdsempty(), "-MISCONF Errors writing to the AOF file: %s", aofWriteErrorString());
}

int scriptPrepareForRun(scriptRunCtx *ctx, client *engine_client, client *caller, const char *funcname,
                        uint64_t script_flags, int ro, int eval_mode) {
    serverAssert(curr_run_ctx == NULL);
    int obey = mustObeyClient(caller);
    int compat = (script_flags & SCRIPT_FLAG_EVAL_COMPAT_MODE) != 0;
    int oom = usedMemoryOverLimit();

    if (!compat) {
        if (!(script_flags & SCRIPT_FLAG_NO_WRITES)) {
            int disk_error = obey ? DISK_WRITES_OK : writesDeniedByDiskError();
            if (disk_error == DISK_ERROR_RDB) {
                addReplyError(caller, "-MISCONF Valkey is configured to save RDB snapshots, but it's currently "
                                      "unable to persist to disk. Writable scripts are blocked. Use 'no-writes' "
                                      "flag for read only scripts.");
                return C_ERR;
            }
            if (disk_error == DISK_ERROR_AOF) {
                sds e = aofErrorForWrites();
                addReplyError(caller, e);
                sdsfree(e);
                return C_ERR;
            }
            if (ro) {
                addReplyError(caller, "Can not execute a script with write flag using *_ro command.");
                return C_ERR;
            }
        }
        if (!obey && oom && !(script_flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) {
            addReplyError(caller, "-OOM allow-oom flag is not set on the script, can not run it when used memory > "
                                  "'maxmemory'");
            return C_ERR;
        }
    }

    ctx->original_client = caller;
    ctx->c = engine_client;
    ctx->funcname = funcname;
    ctx->start_time = getMonotonicUs();
    ctx->call_flags = CMD_CALL_PROPAGATE;
    ctx->oom_at_start = oom;
    ctx->flags = eval_mode ? SCRIPT_RUN_EVAL_MODE : 0;
    if (ro || (!compat && (script_flags & SCRIPT_FLAG_NO_WRITES))) ctx->flags |= SCRIPT_RUN_READ_ONLY;
    if (obey || (!compat && (script_flags & SCRIPT_FLAG_ALLOW_OOM))) ctx->flags |= SCRIPT_RUN_ALLOW_OOM;
    if (compat || (script_flags & SCRIPT_FLAG_ALLOW_CROSS_SLOT)) ctx->flags |= SCRIPT_RUN_ALLOW_CROSS_SLOT;

    /* Each run starts in the caller's database and RESP2, whatever the last one did. */
    engine_client->db = caller->db;
    engine_client->resp = 2;
    curr_run_ctx = ctx;
    server.in_script = 1;
    return C_OK;
}

void scriptResetRun(scriptRunCtx *ctx) {
    serverAssert(curr_run_ctx == ctx);
    if (ctx->flags & SCRIPT_RUN_TIMEDOUT) {
        ctx->flags &= ~SCRIPT_RUN_TIMEDOUT;
        unprotectClient(ctx->original_client);
    }
    /* The script's commands were propagated as they ran; the EVAL/FCALL must not be. */
    preventCommandPropagation(ctx->original_client);
    curr_run_ctx = NULL;
    server.in_script = 0;
}

static int commandArityMismatch(serverCommand *cmd, int argc) {
    return (cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity;
}

/* Writes from read-only scripts, and the first write of a script while writes are
 * refused (a failed BGSAVE). May-replicate commands count as writes for read-only
 * scripts, so that those can run during CLIENT PAUSE WRITE. */
static int verifyWriteAllowed(scriptRunCtx *ctx, serverCommand *cmd, sds *err) {
    if ((ctx->flags & SCRIPT_RUN_READ_ONLY) && (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE))) {
        *err = sdsnew("Write commands are not allowed from read-only scripts.");
        return C_ERR;
    }
    if (!(cmd->flags & CMD_WRITE)) return C_OK;
    robj *repl_refusal = replicationWriteRefusal(ctx->original_client);
    if (repl_refusal) {
        sds e = objectGetVal(repl_refusal);
        *err = sdsnewlen(e, sdslen(e) - 2); /* without the CRLF */
        return C_ERR;
    }
    if (ctx->flags & SCRIPT_RUN_WRITE_DIRTY) return C_OK;
    int disk_error = writesDeniedByDiskError();
    if (disk_error == DISK_ERROR_RDB) {
        sds e = objectGetVal(shared.bgsaveerr);
        *err = sdsnewlen(e, sdslen(e) - 2); /* without the CRLF */
        return C_ERR;
    }
    if (disk_error == DISK_ERROR_AOF) {
        *err = aofErrorForWrites();
        return C_ERR;
    }
    return C_OK;
}

/* A script that already wrote cannot be stopped halfway; one that did not may be refused
 * its first deny-oom command when memory was over the limit as it started. */
static int verifyMemoryAllowed(scriptRunCtx *ctx, serverCommand *cmd, sds *err) {
    if (ctx->flags & (SCRIPT_RUN_ALLOW_OOM | SCRIPT_RUN_WRITE_DIRTY)) return C_OK;
    if (server.maxmemory && ctx->oom_at_start && (cmd->flags & CMD_DENYOOM)) {
        sds e = objectGetVal(shared.oomerr);
        *err = sdsnewlen(e, sdslen(e) - 2);
        return C_ERR;
    }
    return C_OK;
}

/* Why ctx->c's command may not run, or NULL. */
static sds scriptRefusal(scriptRunCtx *ctx, serverCommand *cmd) {
    sds err = NULL;
    if (cmd == NULL) return sdsnew("Unknown command called from script");
    if (commandArityMismatch(cmd, ctx->c->argc)) return sdsnew("Wrong number of args calling command from script");
    if (cmd->flags & CMD_NOSCRIPT) return sdsnew("This command is not allowed from script");
    if (verifyWriteAllowed(ctx, cmd, &err) != C_OK) return err;
    if (verifyMemoryAllowed(ctx, cmd, &err) != C_OK) return err;
    /* Keys the script did not declare may still be cold: read them now, or fail. */
    if (tierPromoteCommandKeysSync(ctx->c, &err) != C_OK) return err;
    return NULL;
}

void scriptCall(scriptRunCtx *ctx, sds *err) {
    client *c = ctx->c;
    serverCommand *cmd = lookupCommand(c->argv, c->argc);
    c->cmd = c->lastcmd = c->realcmd = cmd;
    if ((*err = scriptRefusal(ctx, cmd)) != NULL) {
        /* Counted now, like a command refused by processCommand; the script's own error
         * reply, if it comes to that, is then not counted again. */
        afterErrorReply(c, *err, sdslen(*err), 0);
        if (cmd) cmd->rejected_calls++;
        callAttributeErrors();
        return;
    }
    if (cmd->flags & CMD_WRITE) ctx->flags |= SCRIPT_RUN_WRITE_DIRTY;
    call(c, ctx->call_flags);
    serverAssert(!(c->flags & CLIENT_BLOCKED));
}

int scriptInterrupt(scriptRunCtx *ctx) {
    if (!(ctx->flags & SCRIPT_RUN_TIMEDOUT)) {
        if (script_busy_reply_threshold <= 0) return SCRIPT_CONTINUE;
        long long elapsed = (long long)elapsedMs(ctx->start_time);
        if (elapsed < script_busy_reply_threshold) return SCRIPT_CONTINUE;
        serverLog(LL_WARNING,
                  "Slow script detected: still in execution after %lld milliseconds. You can try killing the "
                  "script using the %s command. Script name is: %s.",
                  elapsed, (ctx->flags & SCRIPT_RUN_EVAL_MODE) ? "SCRIPT KILL" : "FUNCTION KILL", ctx->funcname);
        ctx->flags |= SCRIPT_RUN_TIMEDOUT;
        /* The caller's connection must stay as it is while other clients are served. */
        protectClient(ctx->original_client);
    }
    processEventsWhileBlocked();
    return (ctx->flags & SCRIPT_RUN_KILLED) ? SCRIPT_KILL : SCRIPT_CONTINUE;
}

void scriptKill(client *c, int is_eval) {
    if (!curr_run_ctx) {
        addReplyError(c, "-NOTBUSY No scripts in execution right now.");
        return;
    }
    if (mustObeyClient(curr_run_ctx->original_client)) {
        addReplyError(c, "-UNKILLABLE The busy script was sent by a master instance in the context of replication "
                         "and cannot be killed.");
        return;
    }
    if (curr_run_ctx->flags & SCRIPT_RUN_WRITE_DIRTY) {
        addReplyError(c, "-UNKILLABLE Sorry the script already executed write commands against the dataset. You "
                         "can either wait the script termination or kill the server in a hard way using the "
                         "SHUTDOWN NOSAVE command.");
        return;
    }
    int running_eval = (curr_run_ctx->flags & SCRIPT_RUN_EVAL_MODE) != 0;
    if (is_eval != running_eval) {
        /* SCRIPT KILL of a function or FUNCTION KILL of an EVAL: name the right one. */
        addReplyErrorObject(c, scriptBusyErrorObject());
        return;
    }
    curr_run_ctx->flags |= SCRIPT_RUN_KILLED;
    addReply(c, shared.ok);
}

/* ------------------------------------------------------------------------- */
/* INFO                                                                       */
/* ------------------------------------------------------------------------- */

sds scriptingGenMemoryInfo(sds info) {
    size_t vm_eval, scripts_eval, cached, vm_functions, functions_overhead, functions, libraries;
    char lua_h[64], vm_total_h[64], scripts_h[64];
    evalGetMemStats(&vm_eval, &scripts_eval, &cached);
    functionsGetMemStats(&vm_functions, &functions_overhead, &functions, &libraries);
    bytesToHuman(lua_h, sizeof(lua_h), vm_eval);
    bytesToHuman(vm_total_h, sizeof(vm_total_h), vm_eval + vm_functions);
    bytesToHuman(scripts_h, sizeof(scripts_h), scripts_eval + functions_overhead);
    return sdscatprintf(info,
                        "used_memory_lua:%zu\r\n"
                        "used_memory_vm_eval:%zu\r\n"
                        "used_memory_lua_human:%s\r\n"
                        "used_memory_scripts_eval:%zu\r\n"
                        "number_of_cached_scripts:%zu\r\n"
                        "number_of_functions:%zu\r\n"
                        "number_of_libraries:%zu\r\n"
                        "used_memory_vm_functions:%zu\r\n"
                        "used_memory_vm_total:%zu\r\n"
                        "used_memory_vm_total_human:%s\r\n"
                        "used_memory_functions:%zu\r\n"
                        "used_memory_scripts:%zu\r\n"
                        "used_memory_scripts_human:%s\r\n",
                        vm_eval, vm_eval, lua_h, scripts_eval, cached, functions, libraries, vm_functions,
                        vm_eval + vm_functions, vm_total_h, functions_overhead, scripts_eval + functions_overhead,
                        scripts_h);
}
