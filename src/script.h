/* script.h -- what every scripting engine shares: running a script's commands, its flags,
 * the busy state and SCRIPT KILL / FUNCTION KILL.
 *
 * EVAL (eval.c) and FCALL (functions.c) both run Lua code (script_lua.c) through one run
 * context at a time:
 *
 *   scriptRunCtx rctx;
 *   if (scriptPrepareForRun(&rctx, engine_client, caller, name, script_flags, ro) != C_OK)
 *       return;                         -- the caller already got the error
 *   ... the engine runs the code; each server.call() fills engine_client->argv and
 *       calls scriptCall(&rctx, &err), then reads the reply off engine_client ...
 *   scriptResetRun(&rctx);
 *
 * scriptCall() refuses what a script may not do (unknown commands, wrong arity, commands
 * flagged noscript, writes from read-only scripts, deny-oom commands over maxmemory) with
 * an error message for the engine to raise, and otherwise runs the command through
 * call() on the engine's fake client, which never blocks (CLIENT_DENY_BLOCKING).
 *
 * Busy scripts. The engine calls scriptInterrupt() every so many instructions. Once a
 * script has run for busy-reply-threshold milliseconds it is "timed out": its caller is
 * protected, the event loop is served between instructions (processEventsWhileBlocked),
 * and processCommand() answers -BUSY to every command not flagged allow-busy. SCRIPT KILL
 * (FUNCTION KILL for functions) sets the killed flag, which scriptInterrupt() reports so
 * that the engine aborts the script, unless the script already wrote (UNKILLABLE).
 *
 * Propagation: commands run by a script go through call() with the propagation flags the
 * script chose (server.set_repl), so they are propagated one by one as their effects; the
 * EVAL/FCALL itself is never propagated (scriptResetRun calls preventCommandPropagation).
 */
#ifndef SCRIPT_H
#define SCRIPT_H

#include <stdint.h>
#include "sds.h"
#include "object.h"
#include "monotonic.h"
#include "commands.h"

struct client;

/* Flags a script or a function declares (shebang "flags=" / register_function flags). */
#define SCRIPT_FLAG_NO_WRITES (1ULL << 0)
#define SCRIPT_FLAG_ALLOW_OOM (1ULL << 1)
#define SCRIPT_FLAG_ALLOW_STALE (1ULL << 2)
#define SCRIPT_FLAG_NO_CLUSTER (1ULL << 3)
#define SCRIPT_FLAG_EVAL_COMPAT_MODE (1ULL << 4) /* an EVAL script without a shebang */
#define SCRIPT_FLAG_ALLOW_CROSS_SLOT (1ULL << 5)

typedef struct scriptFlag {
    uint64_t flag;
    const char *str;
} scriptFlag;
/* The declarable flags by name, ending with {0, NULL}. */
extern const scriptFlag scripts_flags_def[];

/* Run-context flags. */
#define SCRIPT_RUN_WRITE_DIRTY (1 << 0)  /* a write command ran: no more kill */
#define SCRIPT_RUN_TIMEDOUT (1 << 1)     /* past busy-reply-threshold */
#define SCRIPT_RUN_KILLED (1 << 2)       /* SCRIPT/FUNCTION KILL asked to stop */
#define SCRIPT_RUN_READ_ONLY (1 << 3)    /* *_RO command or no-writes flag */
#define SCRIPT_RUN_ALLOW_OOM (1 << 4)
#define SCRIPT_RUN_EVAL_MODE (1 << 5)    /* EVAL (SCRIPT KILL) rather than FCALL */
#define SCRIPT_RUN_ALLOW_CROSS_SLOT (1 << 6)

/* What scriptInterrupt() tells the engine. */
#define SCRIPT_CONTINUE 0
#define SCRIPT_KILL 1

typedef struct scriptRunCtx {
    struct client *original_client; /* the caller of EVAL/FCALL */
    struct client *c;               /* the engine's fake client running the commands */
    const char *funcname;           /* sha1 for EVAL, the function name for FCALL */
    int flags;                      /* SCRIPT_RUN_* */
    int call_flags;                 /* CMD_CALL_PROPAGATE_* chosen by server.set_repl */
    int oom_at_start;               /* used memory was over maxmemory when the script began */
    monotime start_time;
} scriptRunCtx;

/* The engines' fake client: CLIENT_SCRIPT, never blocks, RESP2 until setresp(3). */
struct client *scriptCreateClient(void);

/* Checks whether the script may run at all (read-only commands, OOM), replying the error
 * to caller and returning C_ERR when not. eval_mode: EVAL* rather than FCALL*. */
int scriptPrepareForRun(scriptRunCtx *ctx, struct client *engine_client, struct client *caller,
                        const char *funcname, uint64_t script_flags, int ro, int eval_mode);
void scriptResetRun(scriptRunCtx *ctx);

/* Runs ctx->c's argv (set by the engine). On refusal *err is set (a new sds, "CODE msg"
 * or a plain message meaning ERR) and nothing ran. The reply is left in ctx->c. */
void scriptCall(scriptRunCtx *ctx, sds *err);

/* Called by the engine every so many instructions: enters the timed-out state past
 * busy-reply-threshold and then serves the event loop. SCRIPT_KILL when killed. */
int scriptInterrupt(scriptRunCtx *ctx);

/* SCRIPT KILL (is_eval) / FUNCTION KILL. */
void scriptKill(struct client *c, int is_eval);

int scriptIsRunning(void);
int scriptIsTimedout(void);
int scriptIsEval(void);                 /* the running script came from EVAL */
struct client *scriptGetCaller(void);
const char *scriptCurrFunction(void);
long long scriptRunDuration(void);     /* ms */
scriptRunCtx *scriptGetRunCtx(void);  /* NULL when nothing runs */

/* The -BUSY error for commands refused while a script is timed out (processCommand). */
robj *scriptBusyErrorObject(void);

/* Command flags a script with these declared flags stands for (shebang or function). */
uint64_t scriptFlagsToCmdFlags(uint64_t cmd_flags, uint64_t script_flags);
/* processCommand over maxmemory: 1 when c is EVAL, EVALSHA or FCALL (and their _RO forms) of a script whose declared
 * flags make it deny-oom (no allow-oom and no no-writes). */
int scriptCommandDeniedOnOOM(struct client *c);
/* The MISCONF checks: 1 when c runs a script whose declared flags make it a write (no
 * no-writes), so that it is refused like a write command. */
int scriptCommandMayWrite(struct client *c);

/* The keys EVAL, EVALSHA and FCALL (and _RO forms) declare (numkeys and the KEYS that follow), found through the
 * command's key specs like for any command. They are known before the script runs, so
 * tiering can bring their values back to memory first. Returns the number of keys, or -1
 * when numkeys is malformed. The caller frees result with getKeysFreeResult(). */
int scriptGetDeclaredKeys(struct client *c, getKeysResult *result);

/* Parses numkeys (argv[2]) of EVAL/FCALL: an integer (else msg, or the generic error
 * when NULL) between 0 and the number of arguments after it. C_ERR after replying. */
int scriptParseNumkeys(struct client *c, long long *numkeys, const char *msg);

/* INFO memory: the scripting fields from used_memory_lua to used_memory_scripts_human. */
sds scriptingGenMemoryInfo(sds info);
long long evalEvictedScripts(void); /* INFO stats evicted_scripts */

/* Config directives (busy-reply-threshold / lua-time-limit); from registerSubsystems(). */
void scriptRegister(void);
extern long long script_busy_reply_threshold; /* ms; 0 disables the busy state */

#endif
