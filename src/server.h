/* server.h -- the process-wide state: configuration values, statistics, databases,
 * the client list and the event loop, plus the cron and the logging API.
 *
 * This header declares data, not subsystems: it pulls in no other server header.
 * A file that needs clients includes networking.h, one that needs the keyspace
 * includes db.h, and so on.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "sds.h"
#include "monotonic.h"

typedef long long mstime_t; /* milliseconds */
typedef long long ustime_t; /* microseconds */

struct aeEventLoop;
struct serverDb;
struct client;
struct list;
struct hashtable;
struct serverCommand;

#define C_OK 0
#define C_ERR -1

#define CONFIG_DEFAULT_HZ 10
/* busy-poll-usec: 10 us after a busy turn keeps a loaded server's vCPU from halting
 * between requests (+8-15% requests/s at one request in flight per client on the 2-vCPU
 * test machine) for at most 10 us of CPU per busy turn; an idle server never spins. */
#define CONFIG_DEFAULT_BUSY_POLL_USEC 10
#define CONFIG_MAX_BUSY_POLL_USEC 1000
/* fanout-gather-usec: after a turn that wrote to FANOUT_GATHER_MIN_WRITES or more clients
 * which sent nothing in it (subscribers, replicas, monitors), the next poll waits up to
 * this long for most of the previous turn's requests, so that each fan-out write carries
 * more of them. PUBLISH to 10 subscribers from 50 clients: 5-10% more requests/s. */
#define CONFIG_DEFAULT_FANOUT_GATHER_USEC 100
#define CONFIG_MAX_FANOUT_GATHER_USEC 1000
#define CONFIG_MIN_HZ 1
#define CONFIG_MAX_HZ 500
#define CONFIG_BINDADDR_MAX 16
#define CONFIG_RUN_ID_SIZE 40
#define PROTO_MAX_ARGS_DEFAULT (1024 * 1024)

/* Log levels. */
#define LL_DEBUG 0
#define LL_VERBOSE 1
#define LL_NOTICE 2
#define LL_WARNING 3
#define LL_NOTHING 4
#define LL_RAW (1 << 10) /* log without timestamp and prefix */
#define LOG_MAX_LEN 1024

/* Client classes for output buffer limits. */
#define CLIENT_TYPE_NORMAL 0
#define CLIENT_TYPE_REPLICA 1
#define CLIENT_TYPE_PUBSUB 2
#define CLIENT_TYPE_PRIMARY 3
#define CLIENT_TYPE_COUNT 4
#define CLIENT_TYPE_OBUF_COUNT 3

typedef struct clientBufferLimitsConfig {
    unsigned long long hard_limit_bytes;
    unsigned long long soft_limit_bytes;
    time_t soft_limit_seconds;
} clientBufferLimitsConfig;

/* Protected config values (enable-debug-command and friends). */
#define PROTECTED_ACTION_ALLOWED_NO 0
#define PROTECTED_ACTION_ALLOWED_YES 1
#define PROTECTED_ACTION_ALLOWED_LOCAL 2

/* Pause purposes and types for CLIENT PAUSE. */
#define CLIENT_PAUSE_OFF 0
#define CLIENT_PAUSE_WRITE 1
#define CLIENT_PAUSE_ALL 2

#define STATS_METRIC_SAMPLES 16
#define STATS_METRIC_COMMAND 0
#define STATS_METRIC_NET_INPUT 1
#define STATS_METRIC_NET_OUTPUT 2
#define STATS_METRIC_COUNT 3

struct valkeyServer {
    /* ---- General ---- */
    pid_t pid;
    char *executable;      /* absolute path of the binary */
    char *configfile;      /* absolute path of the config file, or NULL */
    char **exec_argv;
    int hz;                /* serverCron frequency (config) */
    int dynamic_hz;
    int busy_poll_usec; /* event loop: spin this long after a busy turn before sleeping */
    int fanout_gather_usec; /* event loop: gather requests this long after a fan-out turn */
    int config_hz;
    struct serverDb *db;   /* array of dbnum databases */
    int dbnum;             /* "databases" */
    struct hashtable *commands;      /* name -> struct serverCommand* */
    struct hashtable *orig_commands; /* table before renames */
    struct aeEventLoop *el;
    _Atomic unsigned int lruclock;
    volatile int shutdown_asap;      /* set by signal handlers */
    int shutdown_flags;
    mstime_t shutdown_mstime;
    int activerehashing;
    char runid[CONFIG_RUN_ID_SIZE + 1];
    int sentinel_mode;
    time_t stat_starttime;
    monotime stat_starttime_mono;
    long long cronloops;
    int daemonize;
    char *pidfile;
    int arch_bits;
    int supervised;
    int supervised_mode;
    char *proc_title_template;
    int enable_debug_cmd;
    int enable_module_cmd;
    int enable_protected_configs;
    int always_show_logo;
    int set_proc_title;
    int io_threads_num;

    /* ---- Networking ---- */
    int port;
    int tls_port;
    int tcp_backlog;
    char *bindaddr[CONFIG_BINDADDR_MAX];
    int bindaddr_count;
    char *unixsocket;
    unsigned int unixsocketperm;
    int ipfd[CONFIG_BINDADDR_MAX];
    int ipfd_count;
    int sofd;
    int protected_mode;
    unsigned int maxclients;
    int maxidletime;       /* "timeout", seconds */
    int tcpkeepalive;
    struct list *clients;
    struct list *clients_to_close;
    struct list *clients_pending_write;
    struct list *monitors;
    struct client *current_client;
    struct client *executing_client;
    struct hashtable *clients_index;  /* id -> client, for CLIENT KILL ID / UNBLOCK */
    uint64_t next_client_id;
    long long proto_max_bulk_len;
    unsigned long long client_max_querybuf_len;
    clientBufferLimitsConfig client_obuf_limits[CLIENT_TYPE_OBUF_COUNT];
    int pause_type;            /* CLIENT_PAUSE_* in force */
    mstime_t pause_end_time;
    struct list *paused_clients;
    size_t stat_clients_type_memory[CLIENT_TYPE_COUNT];
    int in_exec;
    int in_script;
    int in_nested_call;
    int execution_nesting;
    int resp3_default;         /* unused: clients start in RESP2 */
    char *requirepass;         /* placeholder until ACL: the default user's password */
    int tracking_clients;
    long long blocked_clients;

    /* ---- Logging ---- */
    char *logfile;
    int verbosity;
    int syslog_enabled;
    char *syslog_ident;
    int syslog_facility;
    int crashlog_enabled;
    int hide_user_data_from_log;

    /* ---- Keyspace and expiry ---- */
    long long dirty;           /* changes since the last save */
    int active_expire_enabled;
    int active_expire_effort;
    int lazy_expire_disabled;
    mstime_t mstime;           /* cached time at command start */
    long long ustime;
    time_t unixtime;
    mstime_t cmd_time_snapshot;
    int loading;
    int notify_keyspace_events;
    int lazyfree_lazy_eviction;
    int lazyfree_lazy_expire;
    int lazyfree_lazy_server_del;
    int lazyfree_lazy_user_del;
    int lazyfree_lazy_user_flush;

    /* ---- Memory ---- */
    unsigned long long maxmemory;
    int maxmemory_policy;
    int maxmemory_samples;
    int lfu_log_factor;
    int lfu_decay_time;

    /* ---- Persistence (filled in by the persistence work) ---- */
    char *rdb_filename;
    time_t lastsave;
    time_t lastbgsave_try;
    int lastbgsave_status;
    pid_t child_pid;
    int child_type;

    /* ---- Statistics ---- */
    long long stat_numcommands;
    long long stat_numconnections;
    long long stat_expiredkeys;
    long long stat_expired_stale_perc;
    long long stat_expired_time_cap_reached_count;
    long long stat_expire_cycle_time_used;
    long long stat_evictedkeys;
    long long stat_evictedclients;
    long long stat_total_eviction_exceeded_time;
    long long stat_keyspace_hits;
    long long stat_keyspace_misses;
    long long stat_rejected_conn;
    long long stat_sync_full;
    long long stat_sync_partial_ok;
    long long stat_sync_partial_err;
    long long stat_total_error_replies;
    long long stat_unexpected_error_replies;
    long long stat_dump_payload_sanitizations;
    long long stat_io_reads_processed;
    long long stat_io_writes_processed;
    _Atomic long long stat_net_input_bytes;
    _Atomic long long stat_net_output_bytes;
    long long stat_net_repl_input_bytes;
    long long stat_net_repl_output_bytes;
    long long stat_client_qbuf_limit_disconnections;
    long long stat_client_outbuf_limit_disconnections;
    long long stat_total_reads_processed;
    long long stat_total_writes_processed;
    long long stat_numconnections_rejected_maxclients;
    size_t stat_peak_memory;
    time_t stat_peak_memory_time;
    struct hashtable *errors;  /* error code -> count, for INFO errorstats */
    int errors_enabled;
    /* Instantaneous metrics, sampled by the cron. */
    struct {
        long long last_sample_base;
        long long last_sample_value;
        long long samples[STATS_METRIC_SAMPLES];
        int idx;
    } inst_metric[STATS_METRIC_COUNT];
    /* Slowlog and latency monitor. */
    struct list *slowlog;
    long long slowlog_entry_id;
    long long slowlog_log_slower_than;
    unsigned long slowlog_max_len;
    long long latency_monitor_threshold;
    struct hashtable *latency_events;
    int latency_tracking_enabled;
    double *latency_tracking_info_percentiles;
    int latency_tracking_info_percentiles_len;
};

extern struct valkeyServer server;

/* Logging. serverLog checks the level first, so it is cheap when filtered out. */
void serverLogRaw(int level, const char *msg);
void serverLog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void serverLogFromHandler(int level, const char *msg); /* async-signal-safe */
#define serverAssert(e) ((e) ? (void)0 : (_serverAssert(#e, __FILE__, __LINE__), __builtin_unreachable()))
#define serverPanic(...) (_serverPanic(__FILE__, __LINE__, __VA_ARGS__), __builtin_unreachable())
void _serverAssert(const char *estr, const char *file, int line);
void _serverPanic(const char *file, int line, const char *msg, ...) __attribute__((format(printf, 3, 4)));

/* Time helpers kept by the cron. */
unsigned int getLRUClock(void);
unsigned int LRU_CLOCK(void);
void updateCachedTime(int update_daylight_info);
long long commandTimeSnapshot(void); /* ms; stable for the duration of a command */

/* Stats and memory helpers used by INFO and the cron. */
void trackInstantaneousMetric(int metric, long long current_value, long long current_base, long long factor);
long long getInstantaneousMetric(int metric);
size_t getUsedMemory(void);
void bytesToHuman(char *s, size_t size, unsigned long long n);

/* Shutdown. */
#define SHUTDOWN_NOFLAGS 0
#define SHUTDOWN_SAVE 1
#define SHUTDOWN_NOSAVE 2
#define SHUTDOWN_NOW 4
#define SHUTDOWN_FORCE 8
int prepareForShutdown(struct client *c, int flags);
/* c's command may write: a write command, an EXEC of queued writes, or a script that
 * declares writes (shebang without no-writes). */
int commandMayWrite(struct client *c);
int isShutdownInitiated(void);

#endif
