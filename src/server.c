/* server.c -- process start-up, the cron, command dispatch and shutdown.
 *
 * main() loads the configuration, initialises the subsystems in dependency order
 * (objects, databases, command table, listeners) and runs the event loop. Each loop
 * turn runs beforeSleep() (fast expire cycle, pending writes, async client frees);
 * serverCron() runs `hz` times a second for the periodic work.
 *
 * processCommand() takes a fully parsed request and decides whether it may run
 * (existence, arity, authentication, protection, client pause); call() runs it and
 * keeps the books: command stats, latency histogram, slowlog, latency monitor and
 * MONITOR feed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "ae.h"
#include "aof.h"
#include "blocked.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "debug.h"
#include "evict.h"
#include "info.h"
#include "latency.h"
#include "multi.h"
#include "networking.h"
#include "propagate.h"
#include "pubsub.h"
#include "replication.h"
#include "script.h"
#include "tier/tier.h"
#include "slowlog.h"
#include "util.h"
#include "version.h"
#include "zmalloc.h"

struct valkeyServer server;

/* Extra descriptors beyond maxclients: listeners, log file, pipes, and so on. */
#define CONFIG_MIN_RESERVED_FDS 32
#define CONFIG_FDSET_INCR (CONFIG_MIN_RESERVED_FDS + 96)
/* With more clients than this per hz unit, dynamic hz raises the cron frequency. */
#define MAX_CLIENTS_PER_CLOCK_TICK 200
#define SERVER_CRON_FIRST_DELAY_MS 1
#define METRIC_SAMPLE_PERIOD_MS 100

static const char log_level_marks[] = ".-*#";

/* ------------------------------------------------------------------------- */
/* Logging                                                                    */
/* ------------------------------------------------------------------------- */

/* 'C' in a fork child, 'S' on a replica, 'M' on a primary. */
static char serverRoleChar(void) {
    if (server.pid && server.pid != getpid()) return 'C';
    return replicationIsReplica() ? 'S' : 'M';
}

void serverLogRaw(int level, const char *msg) {
    const int syslog_levels[] = {LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING};
    int rawmode = level & LL_RAW;
    level &= 0xff;
    if (level < server.verbosity) return;
    int to_stdout = !server.logfile || server.logfile[0] == '\0';
    FILE *fp = to_stdout ? stdout : fopen(server.logfile, "a");
    if (!fp) return;
    if (rawmode) {
        fprintf(fp, "%s", msg);
    } else {
        char buf[64];
        struct timeval tv;
        gettimeofday(&tv, NULL);
        struct tm tm;
        localtime_r(&tv.tv_sec, &tm);
        int off = strftime(buf, sizeof(buf), "%d %b %Y %H:%M:%S.", &tm);
        snprintf(buf + off, sizeof(buf) - off, "%03d", (int)tv.tv_usec / 1000);
        fprintf(fp, "%d:%c %s %c %s\n", (int)getpid(), serverRoleChar(), buf, log_level_marks[level], msg);
    }
    fflush(fp);
    if (!to_stdout) fclose(fp);
    if (server.syslog_enabled) syslog(syslog_levels[level], "%s", msg);
}

void serverLog(int level, const char *fmt, ...) {
    if ((level & 0xff) < server.verbosity) return;
    char msg[LOG_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    serverLogRaw(level, msg);
}

/* Signal handlers may only use async-signal-safe calls: no stdio, no malloc. */
void serverLogFromHandler(int level, const char *msg) {
    if ((level & 0xff) < server.verbosity) return;
    int to_stdout = !server.logfile || server.logfile[0] == '\0';
    int fd = to_stdout ? STDOUT_FILENO : open(server.logfile, O_APPEND | O_CREAT | O_WRONLY, 0644);
    if (fd == -1) return;
    char pid[32];
    int pidlen = ll2string(pid, sizeof(pid), getpid());
    ssize_t ignored = write(fd, pid, pidlen);
    ignored = write(fd, ":signal-handler ", 16);
    ignored = write(fd, msg, strlen(msg));
    ignored = write(fd, "\n", 1);
    (void)ignored;
    if (!to_stdout) close(fd);
}

/* ------------------------------------------------------------------------- */
/* Time                                                                       */
/* ------------------------------------------------------------------------- */

unsigned int getLRUClock(void) {
    return (mstime() / LRU_CLOCK_RESOLUTION) & LRU_CLOCK_MAX;
}

/* The cached clock is good enough when the cron refreshes it at least as often as
 * the clock resolution; otherwise read the real time. */
unsigned int LRU_CLOCK(void) {
    /* Before the cron runs (e.g. objects made while reading the config) hz is not set. */
    if (server.hz > 0 && server.lruclock && 1000 / server.hz <= LRU_CLOCK_RESOLUTION) return server.lruclock;
    return getLRUClock();
}

void updateCachedTime(int update_daylight_info) {
    (void)update_daylight_info;
    server.ustime = ustime();
    server.mstime = server.ustime / 1000;
    server.unixtime = server.mstime / 1000;
}

long long commandTimeSnapshot(void) {
    return server.cmd_time_snapshot;
}

/* ------------------------------------------------------------------------- */
/* Cron                                                                       */
/* ------------------------------------------------------------------------- */

#define runWithPeriod(ms) if (((ms) <= 1000 / server.hz) || !(server.cronloops % ((ms) / (1000 / server.hz))))

size_t getUsedMemory(void) {
    return zmalloc_used_memory();
}

static void updateDynamicHz(void) {
    server.hz = server.config_hz;
    if (!server.dynamic_hz) return;
    unsigned long clients = listLength(server.clients);
    while (clients / server.hz > MAX_CLIENTS_PER_CLOCK_TICK) {
        server.hz *= 2;
        if (server.hz > CONFIG_MAX_HZ) {
            server.hz = CONFIG_MAX_HZ;
            break;
        }
    }
}

static void cronUpdateMetrics(void) {
    runWithPeriod(METRIC_SAMPLE_PERIOD_MS) {
        long long now = mstime();
        trackInstantaneousMetric(STATS_METRIC_COMMAND, server.stat_numcommands, now, 1000);
        trackInstantaneousMetric(STATS_METRIC_NET_INPUT, server.stat_net_input_bytes, now, 1000);
        trackInstantaneousMetric(STATS_METRIC_NET_OUTPUT, server.stat_net_output_bytes, now, 1000);
    }
    size_t used = zmalloc_used_memory();
    if (used > server.stat_peak_memory) {
        server.stat_peak_memory = used;
        server.stat_peak_memory_time = server.unixtime;
    }
}

/* Persistence (rdb.c): save points and the background save child, start-up loading,
 * the final save on shutdown, and refusing writes after a failed background save. */
void rdbCron(void) __attribute__((weak));
void loadDataFromDisk(void) __attribute__((weak));
int rdbPrepareForShutdown(int flags) __attribute__((weak));
int rdbWritesDeniedByBgsaveError(void) __attribute__((weak));
void pingCommand(client *c);
int valkeyCheckRdbMain(int argc, char **argv); /* valkey-check-rdb.c */

static long long serverCron(struct aeEventLoop *el, long long id, void *clientData) {
    (void)el;
    (void)id;
    (void)clientData;
    updateCachedTime(1);
    updateDynamicHz();
    server.lruclock = getLRUClock();
    cronUpdateMetrics();

    if (server.shutdown_asap && !isShutdownInitiated()) {
        if (prepareForShutdown(NULL, SHUTDOWN_NOFLAGS) == C_OK) exit(0);
        server.shutdown_asap = 0;
    }
    clientsCron();
    databasesCron();
    if (server.active_expire_enabled) activeExpireCycle(ACTIVE_EXPIRE_CYCLE_SLOW);
    evictionCron();
    tierCron();
    aofCron();
    /* rdbCron reaps whatever child there is: not an AOF rewrite (aofCron does). */
    if (rdbCron && server.child_type != CHILD_TYPE_AOF) rdbCron();
    replicationCron();
    checkClientPauseTimeoutAndReturnIfPaused();
    server.cronloops++;
    return 1000 / server.hz;
}

/* Event-loop cycle accounting for INFO stats: a cycle runs from waking up to the
 * end of the next beforeSleep; command time is what call() spent inside it. */
static monotime cycle_start;
static ustime_t cycle_cmd_us;

static void afterSleep(struct aeEventLoop *el) {
    (void)el;
    if (isProcessingEventsWhileBlocked()) return; /* the command running keeps its time */
    /* Commands of one loop turn share this time (expiry decisions, TTL arithmetic). */
    updateCachedTime(0);
    cycle_start = getMonotonicUs();
    cycle_cmd_us = 0;
}

static void beforeSleep(struct aeEventLoop *el) {
    (void)el;
    /* Re-entered from processEventsWhileBlocked (a long script, a load): only replies
     * and client frees, nothing that touches the keyspace in the middle of a command. */
    if (isProcessingEventsWhileBlocked()) {
        aofBeforeSleep(); /* replies of writes go out only after the AOF has them */
        handleClientsWithPendingWrites();
        freeClientsInAsyncFreeQueue();
        return;
    }
    if (server.active_expire_enabled) activeExpireCycle(ACTIVE_EXPIRE_CYCLE_FAST);
    tierBeforeSleep(); /* completions, demotion, and this turn's I/O submitted */
    if (handleClientsBlockedOnKeys) handleClientsBlockedOnKeys();
    if (blockedBeforeSleep) blockedBeforeSleep();
    replicationBeforeSleep(); /* WAIT wake-ups; GETACK before the replicas' buffers go out */
    tierSubmitIo(); /* after every command of this turn has queued its reads */
    /* The AOF is written (and with appendfsync always fsynced) before any reply. */
    aofBeforeSleep();
    replicationAfterAofFlush(); /* WAITAOF replies go out in this turn's writes */
    handleClientsWithPendingWrites();
    freeClientsInAsyncFreeQueue();
    if (cycle_start) infoRecordEventLoopCycle(elapsedUs(cycle_start), cycle_cmd_us);
}

/* ------------------------------------------------------------------------- */
/* Dispatch                                                                   */
/* ------------------------------------------------------------------------- */

/* A refusal inside MULTI dooms the transaction (EXECABORT); a refused EXEC discards it. */
static void rejectCommandSds(client *c, sds err) {
    flagTransaction(c);
    if (c->cmd) c->cmd->rejected_calls++;
    if (c->cmd && c->cmd->proc == execCommand) {
        execCommandAbort(c, err, sdslen(err));
        sdsfree(err);
        return;
    }
    addReplyErrorSds(c, err);
}

static void rejectCommandObject(client *c, robj *err) {
    flagTransaction(c);
    if (c->cmd) c->cmd->rejected_calls++;
    if (c->cmd && c->cmd->proc == execCommand) {
        sds bytes = objectGetVal(err);
        execCommandAbort(c, bytes, sdslen(bytes));
        return;
    }
    addReplyErrorObject(c, err);
}

/* Builds the unknown command / unknown subcommand error. */
int commandCheckExistence(client *c, sds *err) {
    if (c->cmd) return 1;
    if (!err) return 0;
    if (c->argc >= 2 && isContainerCommandBySds(objectGetVal(c->argv[0]))) {
        sds cmd = sdsnew(objectGetVal(c->argv[0]));
        sdstoupper(cmd);
        *err = sdscatprintf(sdsempty(), "unknown subcommand '%.128s'. Try %s HELP.", (char *)objectGetVal(c->argv[1]),
                            cmd);
        sdsfree(cmd);
        return 0;
    }
    sds args = sdsempty();
    for (int i = 1; i < c->argc && sdslen(args) < 128; i++) {
        sds arg = objectGetVal(c->argv[i]);
        args = sdscatprintf(args, "'%.*s' ", 128 - (int)sdslen(args), arg);
    }
    *err = sdscatprintf(sdsempty(), "unknown command '%.128s', with args beginning with: %s",
                        (char *)objectGetVal(c->argv[0]), args);
    sdsfree(args);
    return 0;
}

static int isLocalClient(client *c) {
    if (c->flags & CLIENT_UNIX_SOCKET) return 1;
    char *peer = getClientPeerId(c);
    return !strncmp(peer, "127.", 4) || !strncmp(peer, "[::1]", 5);
}

static int protectedActionAllowed(int config, client *c) {
    return config == PROTECTED_ACTION_ALLOWED_YES || (config == PROTECTED_ACTION_ALLOWED_LOCAL && isLocalClient(c));
}

static int protectedCommandConfig(serverCommand *cmd) {
    return !strcasecmp(cmd->declared_name, "debug") ? server.enable_debug_cmd : server.enable_module_cmd;
}

static sds protectedCommandError(serverCommand *cmd) {
    const char *what = !strcasecmp(cmd->declared_name, "debug") ? "DEBUG" : "MODULE";
    return sdscatprintf(sdsempty(),
                        "%s command not allowed. If the %s option is set to \"local\", you can run it from a local "
                        "connection, otherwise you need to set this option in the configuration file, and then "
                        "restart the server.",
                        what, !strcasecmp(what, "DEBUG") ? "enable-debug-command" : "enable-module-command");
}

static int commandBlockedByPause(client *c) {
    if (!checkClientPauseTimeoutAndReturnIfPaused()) return 0;
    if (c->flags & (CLIENT_PRIMARY | CLIENT_REPLICA)) return 0;
    if (server.pause_type == CLIENT_PAUSE_ALL) return 1;
    /* EXEC writes when one of its queued commands does. */
    uint64_t flags = c->cmd->flags;
    if (c->cmd->proc == execCommand) flags |= multiQueuedCommandFlags(c);
    return server.pause_type == CLIENT_PAUSE_WRITE && (flags & (CMD_WRITE | CMD_MAY_REPLICATE));
}

int commandMayWrite(client *c) {
    if (c->cmd->flags & CMD_WRITE) return 1;
    if (c->cmd->proc == execCommand && (c->flags & CLIENT_MULTI) && (multiQueuedCommandFlags(c) & CMD_WRITE)) return 1;
    return scriptCommandMayWrite(c);
}

int processCommand(client *c) {
    sds err = NULL;
    c->cmd = c->lastcmd = c->realcmd = lookupCommand(c->argv, c->argc);
    if (!commandCheckExistence(c, &err)) {
        rejectCommandSds(c, err);
        return C_OK;
    }
    if (!commandCheckArity(c->cmd, c->argc, &err)) {
        rejectCommandSds(c, err);
        return C_OK;
    }
    if ((c->cmd->flags & CMD_PROTECTED) && !protectedActionAllowed(protectedCommandConfig(c->cmd), c)) {
        rejectCommandSds(c, protectedCommandError(c->cmd));
        return C_OK;
    }
    if (!(c->cmd->flags & CMD_NO_AUTH) && !clientIsAuthenticated(c)) {
        rejectCommandObject(c, shared.noautherr);
        return C_OK;
    }
    if (server.loading && !(c->cmd->flags & CMD_LOADING)) {
        rejectCommandObject(c, shared.loadingerr);
        return C_OK;
    }
    if ((c->flags & CLIENT_MULTI) && (c->cmd->flags & CMD_NO_MULTI)) {
        rejectCommandSds(c, sdsnew("Command not allowed inside a transaction"));
        return C_OK;
    }
    /* While a script runs past busy-reply-threshold, only allow-busy commands run. */
    if (scriptIsTimedout() && !(c->cmd->flags & CMD_ALLOW_BUSY)) {
        rejectCommandObject(c, scriptBusyErrorObject());
        return C_OK;
    }
    /* Clients over maxmemory-clients go first (this one included), then keys over
     * maxmemory; when nothing can be freed, commands that may grow memory are refused. */
    evictionClientMemoryChanged(c);
    if (c->flags & CLIENT_CLOSE_ASAP) return C_OK;
    if (server.maxmemory) {
        int evict = performEvictions();
        /* The primary's commands are never refused: the replica must mirror it. */
        int denied = (evict == EVICT_FAIL || evict == EVICT_WAIT) && !mustObeyClient(c) &&
                     (evictionCommandDeniedOnOOM(c) || scriptCommandDeniedOnOOM(c));
        int queued = (c->flags & CLIENT_MULTI) && c->cmd->proc != execCommand;
        if (denied && evict == EVICT_WAIT && !queued && !clientDeniesBlocking(c)) {
            /* Demotions to flash are in flight: the writer waits for them, not an OOM. */
            tierBlockForMemory(c);
            return C_OK;
        }
        if (denied) {
            rejectCommandObject(c, shared.oomerr);
            return C_OK;
        }
    }
    /* After a failed background save (stop-writes-on-bgsave-error), writes and PING fail. */
    if (rdbWritesDeniedByBgsaveError && rdbWritesDeniedByBgsaveError() && !mustObeyClient(c) &&
        (c->cmd->proc == pingCommand || commandMayWrite(c))) {
        rejectCommandObject(c, shared.bgsaveerr);
        return C_OK;
    }
    /* The same after an AOF write or fsync error. */
    if (aofWritesDeniedByError() && !mustObeyClient(c) && (c->cmd->proc == pingCommand || commandMayWrite(c))) {
        rejectCommandSds(c, sdscatfmt(sdsempty(), "-MISCONF Errors writing to the AOF file: %s", aofWriteErrorString()));
        return C_OK;
    }
    /* READONLY, MASTERDOWN and NOREPLICAS. */
    robj *repl_err = replicationCommandRefusal(c);
    if (repl_err) {
        rejectCommandObject(c, repl_err);
        return C_OK;
    }
    /* A subscribed RESP2 connection only takes (un)subscribe commands, PING, QUIT and RESET. */
    if ((c->flags & CLIENT_PUBSUB) && c->resp == 2 && !pubsubCommandAllowedWhileSubscribed(c->cmd)) {
        rejectCommandSds(c, sdscatfmt(sdsempty(),
                                      "Can't execute '%S': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
                                      "RESET are allowed in this context",
                                      c->cmd->fullname));
        return C_OK;
    }
    if (commandBlockedByPause(c)) {
        blockPostponeClient(c);
        return C_OK;
    }
    if ((c->flags & CLIENT_MULTI) && !multiCommandRunsDirectly(c->cmd)) {
        queueMultiCommand(c);
        addReply(c, shared.queued);
        return C_OK;
    }
    /* Cold values the command reads come back from flash first; the client waits. */
    sds tier_err = NULL;
    int tier_prepared = tierPrepareCommand(c, &tier_err);
    if (tier_prepared == TIER_PREPARE_BLOCKED) return C_OK;
    if (tier_prepared == TIER_PREPARE_ERROR) {
        rejectCommandSds(c, tier_err);
        return C_OK;
    }
    call(c, CMD_CALL_FULL);
    if (handleClientsBlockedOnKeys && !isProcessingEventsWhileBlocked()) handleClientsBlockedOnKeys();
    return C_OK;
}

static void recordCommandLatency(serverCommand *cmd, ustime_t duration_us) {
    if (!server.latency_tracking_enabled) return;
    if (!cmd->latency_histogram) cmd->latency_histogram = histogramCreate();
    histogramRecord(cmd->latency_histogram, (uint64_t)duration_us * 1000);
}

static void feedMonitorsIfNeeded(client *c) {
    if (!listLength(server.monitors) || (c->cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN))) return;
    robj **argv = c->original_argv ? c->original_argv : c->argv;
    int argc = c->original_argv ? c->original_argc : c->argc;
    replicationFeedMonitors(c, server.monitors, c->db->id, argv, argc);
}

/* Counts a finished command once in INFO commandstats, the latency histogram, the
 * slowlog and total_commands_processed, with the time of all its runs (c->duration). */
static void recordCompletedCommand(client *c, serverCommand *cmd) {
    long long duration = c->duration;
    cmd->calls++;
    cmd->microseconds += duration;
    recordCommandLatency(cmd, duration);
    if (!(cmd->flags & CMD_SKIP_SLOWLOG) && server.slowlog_log_slower_than >= 0 &&
        duration >= server.slowlog_log_slower_than)
        slowlogPushCurrentCommand(c, cmd, duration);
    server.stat_numcommands++;
    c->commands_processed++;
    c->duration = 0;
}

/* A blocked command that will not run again (timeout, CLIENT UNBLOCK, a forced
 * unblock) is over: count it now. failed: it ended with an error reply. */
void updateStatsOnUnblock(client *c, int failed) {
    serverCommand *cmd = c->realcmd;
    if (!cmd) return;
    if (failed) cmd->failed_calls++;
    recordCompletedCommand(c, cmd);
}

/* Error replies counted when the innermost call() began or ended. A command failed when
 * errors came after that: EVAL or EXEC does not fail because a command it ran did. */
static long long call_error_mark;

void callAttributeErrors(void) {
    call_error_mark = server.stat_total_error_replies;
}

void call(client *c, int flags) {
    serverCommand *real_cmd = c->realcmd;
    client *prev_client = server.executing_client;
    call_error_mark = server.stat_total_error_replies;

    if (server.execution_nesting == 0) server.cmd_time_snapshot = server.mstime;
    server.executing_client = c;
    server.execution_nesting++;
    c->flags |= CLIENT_EXECUTING_COMMAND;
    propagateCallState pst;
    propagateCallBegin(c, &pst);
    monotime start = getMonotonicUs();
    c->cmd->proc(c);
    ustime_t duration = (ustime_t)elapsedUs(start);
    c->flags &= ~CLIENT_EXECUTING_COMMAND;
    propagateCallEnd(c, flags, &pst);
    server.execution_nesting--;
    server.executing_client = prev_client;
    /* A command that blocks runs again when it is served: its runs add up. */
    c->duration += duration;
    if (server.execution_nesting == 0) cycle_cmd_us += duration;

    if (server.stat_total_error_replies > call_error_mark) real_cmd->failed_calls++;
    call_error_mark = server.stat_total_error_replies;
    /* The latency monitor samples the main thread's time, so every run counts. */
    latencyAddSampleIfNeeded((real_cmd->flags & CMD_FAST) ? "fast-command" : "command", duration / 1000);
    /* MONITOR shows a request once: when it first runs, even if it then blocks. */
    if (!(flags & CMD_CALL_REPROCESSING) && !(c->flags & CLIENT_REPROCESSING_COMMAND)) feedMonitorsIfNeeded(c);
    /* A blocked command is counted when it completes: on the run that serves it, or
     * by updateStatsOnUnblock() when it times out or is unblocked. */
    if (!(c->flags & CLIENT_BLOCKED)) recordCompletedCommand(c, real_cmd);
    /* The end of an execution unit: what it propagated goes to the AOF and replicas. */
    if (server.execution_nesting == 0) propagatePendingCommands();
}

int mustObeyClient(client *c) {
    return c->id == CLIENT_ID_AOF || (c->flags & CLIENT_PRIMARY) != 0;
}

/* alsoPropagate, preventCommandPropagation and forceCommandPropagation: propagate.c. */

/* ------------------------------------------------------------------------- */
/* Shutdown                                                                   */
/* ------------------------------------------------------------------------- */

static int shutdown_initiated = 0;

int isShutdownInitiated(void) {
    return shutdown_initiated;
}

static void removePidFile(void) {
    if (server.pidfile && server.pidfile[0] && server.pid == getpid()) unlink(server.pidfile);
}

int prepareForShutdown(client *c, int flags) {
    (void)c;
    shutdown_initiated = 1;
    serverLog(LL_NOTICE, "User requested shutdown...");
    if (aofPrepareForShutdown(flags) != C_OK ||
        (rdbPrepareForShutdown && rdbPrepareForShutdown(flags) != C_OK)) {
        serverLog(LL_WARNING, "Errors trying to shut down the server. Check the logs for more information.");
        shutdown_initiated = 0;
        return C_ERR;
    }
    removePidFile();
    closeListeningSockets(1);
    serverLog(LL_WARNING, "Valkey is now ready to exit, bye bye...");
    return C_OK;
}

void shutdownCommand(client *c) {
    int flags = SHUTDOWN_NOFLAGS, abort = 0;
    for (int i = 1; i < c->argc; i++) {
        const char *opt = objectGetVal(c->argv[i]);
        if (!strcasecmp(opt, "nosave")) flags |= SHUTDOWN_NOSAVE;
        else if (!strcasecmp(opt, "save")) flags |= SHUTDOWN_SAVE;
        else if (!strcasecmp(opt, "now")) flags |= SHUTDOWN_NOW;
        else if (!strcasecmp(opt, "force")) flags |= SHUTDOWN_FORCE;
        else if (!strcasecmp(opt, "abort")) abort = 1;
        else {
            addReplyErrorObject(c, shared.syntaxerr);
            return;
        }
    }
    if ((abort && flags != SHUTDOWN_NOFLAGS) || ((flags & SHUTDOWN_NOSAVE) && (flags & SHUTDOWN_SAVE))) {
        addReplyErrorObject(c, shared.syntaxerr);
        return;
    }
    if (abort) {
        /* Shutdown never waits (there are no replicas to wait for), so there is
         * never one in progress to abort. */
        addReplyError(c, "No shutdown in progress.");
        return;
    }
    /* A busy script can only be escaped without saving (its writes are half done). */
    if (!(flags & SHUTDOWN_NOSAVE) && scriptIsTimedout()) {
        addReplyErrorObject(c, scriptBusyErrorObject());
        return;
    }
    if (prepareForShutdown(c, flags) == C_OK) exit(0);
    addReplyError(c, "Errors trying to SHUTDOWN. Check logs.");
}

static void sigShutdownHandler(int sig) {
    const char *msg = sig == SIGINT ? "Received SIGINT scheduling shutdown..."
                                    : "Received SIGTERM scheduling shutdown...";
    if (server.shutdown_asap && sig == SIGINT) {
        serverLogFromHandler(LL_WARNING, "You insist... exiting now.");
        removePidFile();
        _exit(1);
    }
    serverLogFromHandler(LL_WARNING, msg);
    server.shutdown_asap = 1;
}

static void setupSignalHandlers(void) {
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_handler = sigShutdownHandler;
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    setupSigSegvAction();
}

/* ------------------------------------------------------------------------- */
/* Start-up                                                                   */
/* ------------------------------------------------------------------------- */

/* Subsystems register their config directives and object procs here, before the
 * configuration is read. Each is optional while the tree grows (weak symbols). */
void listTypeRegister(void) __attribute__((weak));
void hashTypeRegister(void) __attribute__((weak));
void setTypeRegister(void) __attribute__((weak));
void zsetTypeRegister(void) __attribute__((weak));
void tierRegister(void) __attribute__((weak));
void flashMigrateRegister(void) __attribute__((weak));
void pubsubRegister(void) __attribute__((weak));
void multiRegister(void) __attribute__((weak));
void hllTypeRegister(void) __attribute__((weak));
void evictRegister(void) __attribute__((weak));
void rdbRegister(void) __attribute__((weak));
void scriptRegister(void) __attribute__((weak));
void aofRegister(void) __attribute__((weak));

static void registerSubsystems(void) {
    void (*const registrations[])(void) = {listTypeRegister, hashTypeRegister, setTypeRegister,
                                            zsetTypeRegister, pubsubRegister,   multiRegister,
                                            evictRegister,    hllTypeRegister,  rdbRegister,
                                            scriptRegister,   aofRegister,
                                            tierRegister,     flashMigrateRegister, replicationRegister};
    for (size_t i = 0; i < sizeof(registrations) / sizeof(registrations[0]); i++)
        if (registrations[i]) registrations[i]();
}

static void adjustOpenFilesLimit(void) {
    rlim_t wanted = server.maxclients + CONFIG_MIN_RESERVED_FDS;
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == -1 || limit.rlim_cur >= wanted) return;
    limit.rlim_cur = wanted > limit.rlim_max ? limit.rlim_max : wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) == -1 || limit.rlim_cur < wanted) {
        unsigned int allowed = limit.rlim_cur > CONFIG_MIN_RESERVED_FDS ? limit.rlim_cur - CONFIG_MIN_RESERVED_FDS : 1;
        serverLog(LL_WARNING, "You requested maxclients of %u requiring at least %llu max file descriptors.",
                  server.maxclients, (unsigned long long)wanted);
        serverLog(LL_WARNING, "Server can't set maximum open files to %llu; maxclients has been reduced to %u.",
                  (unsigned long long)wanted, allowed);
        server.maxclients = allowed;
    }
}

static void createPidFile(void) {
    if (!server.pidfile || !server.pidfile[0]) return;
    FILE *fp = fopen(server.pidfile, "w");
    if (!fp) {
        serverLog(LL_WARNING, "Failed to write PID file: %s", strerror(errno));
        return;
    }
    fprintf(fp, "%d\n", (int)getpid());
    fclose(fp);
}

static void daemonize(void) {
    if (fork() != 0) exit(0); /* the parent exits */
    setsid();
    int fd = open("/dev/null", O_RDWR, 0);
    if (fd == -1) return;
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO) close(fd);
}

static void initServerState(void) {
    server.pid = getpid();
    server.clients = listCreate();
    server.clients_to_close = listCreate();
    server.clients_pending_write = listCreate();
    server.monitors = listCreate();
    server.paused_clients = listCreate();
    server.next_client_id = 1;
    server.execution_nesting = 0;
    server.cronloops = 0;
    server.child_pid = -1;
    server.stat_starttime = time(NULL);
    server.stat_starttime_mono = getMonotonicUs();
    server.lastsave = time(NULL);
    server.lastbgsave_status = C_OK;
    server.active_expire_enabled = 1;
    server.sofd = -1;
    server.hz = server.config_hz;
    server.lruclock = getLRUClock();
    updateCachedTime(1);
    getRandomHexChars(server.runid, CONFIG_RUN_ID_SIZE);
    server.runid[CONFIG_RUN_ID_SIZE] = '\0';
}

static void initServer(void) {
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    setupSignalHandlers();
    if (server.syslog_enabled) openlog(server.syslog_ident, LOG_PID | LOG_NDELAY | LOG_NOWAIT, server.syslog_facility);
    initServerState();
    createSharedObjects();
    adjustOpenFilesLimit();
    server.el = aeCreateEventLoop(server.maxclients + CONFIG_FDSET_INCR);
    if (!server.el) {
        serverLog(LL_WARNING, "Failed creating the event loop. Error message: '%s'", strerror(errno));
        exit(1);
    }
    aeSetBusyPoll(server.el, server.busy_poll_usec);
    initDatabases();
    populateCommandTable();
    slowlogInit();
    if (initListeners() != C_OK) exit(1);
    if (aeCreateTimeEvent(server.el, SERVER_CRON_FIRST_DELAY_MS, serverCron, NULL, NULL) == AE_ERR) {
        serverLog(LL_WARNING, "Can't create event loop timers.");
        exit(1);
    }
    aeSetBeforeSleepProc(server.el, beforeSleep);
    aeSetAfterSleepProc(server.el, afterSleep);
}

static void version(void) {
    printf("Valkey server v=%s sha=00000000:0 malloc=%s bits=%d build=0000000000000000\n", VALKEY_VERSION,
           ZMALLOC_LIB, (int)(sizeof(long) * 8));
    exit(0);
}

static void usage(void) {
    fprintf(stderr,
            "Usage: ./valkey-server [/path/to/valkey.conf] [options] [-]\n"
            "       ./valkey-server - (read config from stdin)\n"
            "       ./valkey-server -v or --version\n"
            "       ./valkey-server -h or --help\n\n"
            "Examples:\n"
            "       ./valkey-server (run the server with default conf)\n"
            "       ./valkey-server /etc/valkey/6379.conf\n"
            "       ./valkey-server --port 7777\n"
            "       ./valkey-server /etc/myvalkey.conf --loglevel verbose -\n"
            "       ./valkey-server /etc/myvalkey.conf --loglevel verbose\n");
    exit(1);
}

/* Turns "--port 7000 --save" style arguments into "port 7000\nsave \n" config text. */
static sds commandLineOptions(int argc, char **argv, int first) {
    sds options = sdsempty();
    int after_directive = 0;
    for (int j = first; j < argc; j++) {
        if (argv[j][0] == '-' && argv[j][1] == '-' && argv[j][2] != '\0') {
            if (sdslen(options)) options = sdscat(options, "\n");
            options = sdscat(options, argv[j] + 2);
            options = sdscat(options, " ");
            after_directive = 1;
        } else {
            if (!after_directive && sdslen(options)) options = sdscat(options, "\n");
            options = sdscatrepr(options, argv[j], strlen(argv[j]));
            options = sdscat(options, " ");
        }
    }
    return options;
}

static void rememberExecutable(int argc, char **argv) {
    char path[PATH_MAX];
    server.executable = realpath(argv[0], path) ? zstrdup(path) : zstrdup(argv[0]);
    server.exec_argv = zmalloc(sizeof(char *) * (argc + 1));
    for (int j = 0; j < argc; j++) server.exec_argv[j] = zstrdup(argv[j]);
    server.exec_argv[argc] = NULL;
}

int main(int argc, char **argv) {
    monotonicInit(); /* before anything reads the clock */
    server.pid = getpid();
    setlocale(LC_COLLATE, "");
    tzset();
    uint8_t seed[16];
    getRandomBytes(seed, sizeof(seed));
    hashtableSetHashFunctionSeed(seed);
    rememberExecutable(argc, argv);
    registerSubsystems();
    initConfigValues();
    if (strstr(argv[0], "valkey-check-rdb") || (argc > 1 && !strcmp(argv[1], "--check-rdb")))
        return valkeyCheckRdbMain(argc, argv);
    if (strstr(argv[0], "valkey-check-aof") || (argc > 1 && !strcmp(argv[1], "--check-aof")))
        return valkeyCheckAofMain(argc, argv);

    char *configfile = NULL;
    int config_from_stdin = 0, first_option = 1;
    if (argc >= 2) {
        if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version")) version();
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) usage();
        if (argv[1][0] != '-') {
            configfile = argv[1];
            first_option = 2;
        }
    }
    for (int j = first_option; j < argc; j++) {
        if (!strcmp(argv[j], "-") && (j == argc - 1 || argv[j + 1][0] == '-')) {
            config_from_stdin = 1;
            memmove(argv + j, argv + j + 1, sizeof(char *) * (argc - j - 1));
            argc--;
            break;
        }
    }
    sds options = commandLineOptions(argc, argv, first_option);
    if (configfile) {
        char path[PATH_MAX];
        server.configfile = zstrdup(realpath(configfile, path) ? path : configfile);
    }
    serverLog(LL_NOTICE, "oO0OoO0OoO0Oo Valkey is starting oO0OoO0OoO0Oo");
    serverLog(LL_NOTICE, "Valkey version=%s, bits=%d, commit=00000000, modified=0, pid=%d, just started",
              VALKEY_VERSION, (int)(sizeof(long) * 8), (int)getpid());
    loadServerConfig(server.configfile, config_from_stdin, options);
    sdsfree(options);
    if (configfile) serverLog(LL_NOTICE, "Configuration loaded");
    else serverLog(LL_WARNING, "Warning: no config file specified, using the default config. In order to specify "
                               "a config file use %s /path/to/valkey.conf", argv[0]);
    if (server.daemonize) daemonize();
    server.pid = getpid();
    initServer();
    if (server.daemonize || (server.pidfile && server.pidfile[0])) createPidFile();
    serverLog(LL_NOTICE, "Server initialized");
    infoRecordStartupMemory();
    tierInit(); /* the flash file is open before data loads (loading demotes) */
    /* With appendonly yes the AOF is the dataset; the RDB is not loaded then. */
    if (!aofStartup() && loadDataFromDisk) loadDataFromDisk();
    replicationInit(); /* connects to the primary named by replicaof */
    if (server.ipfd_count > 0) serverLog(LL_NOTICE, "Ready to accept connections tcp");
    if (server.sofd > 0) serverLog(LL_NOTICE, "Ready to accept connections unix");
    aeMain(server.el);
    aeDeleteEventLoop(server.el);
    return 0;
}
