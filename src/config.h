/* config.h -- configuration directives: defaults, the config file and command line,
 * CONFIG GET / SET / REWRITE / RESETSTAT.
 *
 * Every directive is one entry in a table: its name (and optional alias), flags,
 * a type that says how to parse and print it, the address of the `server.xxx` field
 * that holds it, its default, and two optional hooks:
 *   - validate: called with the parsed candidate value before anything is stored;
 *     rejects it with an error message;
 *   - apply: called after CONFIG SET has stored the new values, so the change takes
 *     effect (re-listen after `port`, resize the event loop after `maxclients`...).
 *     An apply function shared by several directives runs once per CONFIG SET.
 *
 * The table is built at startup by initConfigValues(): first the built-in
 * directives, then whatever other subsystems registered (see "Registration" below).
 *
 * Lifecycle (main):
 *   initConfigValues();                       -- every field gets its default
 *   loadServerConfig(file, from_stdin, opts); -- file, then stdin, then command line
 * Apply hooks are NOT run while loading: main() initialises the server from the
 * final values afterwards.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include "sds.h"

struct client;

/* ---- Directive flags ---- */
#define CONFIG_FLAG_MODIFIABLE 0          /* default: CONFIG SET may change it */
#define CONFIG_FLAG_IMMUTABLE (1 << 0)    /* only from the file / command line */
#define CONFIG_FLAG_SENSITIVE (1 << 1)    /* CONFIG SET value redacted from slowlog / monitor */
#define CONFIG_FLAG_MULTI_ARG (1 << 2)    /* takes several arguments (bind, save...); CONFIG SET
                                           * splits its value on spaces */
#define CONFIG_FLAG_HIDDEN (1 << 3)       /* CONFIG GET needs the exact name, no glob */
#define CONFIG_FLAG_PROTECTED (1 << 4)    /* CONFIG SET needs enable-protected-configs */
#define CONFIG_FLAG_DENY_LOADING (1 << 5) /* CONFIG SET refused while loading data */

/* String flags. */
#define CONFIG_STR_EMPTY_IS_NULL (1 << 12) /* "" stores NULL (and NULL prints as "") */

/* ---- Types ---- */
typedef enum {
    CONFIG_TYPE_BOOL,    /* int: yes / no */
    CONFIG_TYPE_NUMERIC, /* see configNumericStorage / configNumericFormat */
    CONFIG_TYPE_ENUM,    /* int: one of a list of names (or several, for flag enums) */
    CONFIG_TYPE_STRING,  /* char *, owned by the config subsystem (zmalloc) */
    CONFIG_TYPE_SDS,     /* sds, owned by the config subsystem */
    CONFIG_TYPE_SPECIAL  /* parses and prints itself */
} configType;

typedef enum {
    CONFIG_NUM_INT,
    CONFIG_NUM_UINT,
    CONFIG_NUM_LONG,
    CONFIG_NUM_ULONG,
    CONFIG_NUM_LONG_LONG,
    CONFIG_NUM_ULONG_LONG,
    CONFIG_NUM_SIZE_T,
    CONFIG_NUM_SSIZE_T,
    CONFIG_NUM_TIME_T,
    CONFIG_NUM_OFF_T
} configNumericStorage;

typedef enum {
    CONFIG_FMT_INTEGER, /* plain decimal */
    CONFIG_FMT_MEMORY,  /* accepts 1gb / 10mb / 5k; rewritten with the largest exact unit */
    CONFIG_FMT_PERCENT, /* "N%" is stored as -N; plain numbers are memory values */
    CONFIG_FMT_OCTAL    /* unixsocketperm */
} configNumericFormat;

/* One name of an enum directive. The list ends with a NULL name. */
typedef struct configEnum {
    const char *name;
    int val;
} configEnum;

/* Hooks. `err` receives a static message (or one from configErrorf, see below). Return 1
 * to accept, 0 to reject. */
typedef int (*configBoolValidate)(int val, const char **err);
typedef int (*configNumericValidate)(long long val, const char **err);
typedef int (*configStringValidate)(const char *val, const char **err);
typedef int (*configEnumValidate)(int val, const char **err);
typedef int (*configApplyFn)(const char **err);

/* Special directives: `set` receives the arguments (one for a plain directive; zero or
 * more for MULTI_ARG, where a single empty argument counts as none), checks ALL of them
 * before storing anything, and returns 1 when the value was stored, 0 on error (nothing
 * changed). `get` returns the value as CONFIG GET shows it (a new sds); set(get()) must
 * restore the same value, since CONFIG SET rolls back that way.
 * `rewrite` is optional: it returns the complete config lines ("name args", several
 * separated by '\n') that reproduce the value, only the parts that differ from the
 * default unless `all`. Without it CONFIG REWRITE writes one line "name <get()>" (quoted
 * unless MULTI_ARG). */
typedef int (*configSpecialSet)(sds *argv, int argc, const char **err);
typedef sds (*configSpecialGet)(void);
typedef sds (*configSpecialRewrite)(int all);

typedef struct configDirective {
    const char *name;
    const char *alias;  /* NULL, or a second accepted name ("slaveof" for "replicaof") */
    unsigned int flags; /* CONFIG_FLAG_* | CONFIG_STR_* */
    configType type;
    void *field;        /* the server.xxx it lives in (NULL for most specials) */
    union {
        struct {
            int dflt;
            configBoolValidate validate;
        } b;
        struct {
            configNumericStorage storage;
            configNumericFormat format;
            long long min, max; /* inclusive, at most LLONG_MAX */
            long long dflt;
            configNumericValidate validate;
        } num;
        struct {
            const configEnum *values;
            int dflt;
            int multi; /* 1: a set of flags, several names separated by spaces */
            configEnumValidate validate;
        } en;
        struct {
            const char *dflt; /* copied at init */
            configStringValidate validate;
        } str;
        struct {
            const char *dflt; /* the default as text, fed to set() at init */
            configSpecialSet set;
            configSpecialGet get;
            configSpecialRewrite rewrite;
        } sp;
    } u;
    configApplyFn apply; /* NULL: nothing to do after CONFIG SET */
} configDirective;

/* ---- Registration ----
 * Subsystems add their own directives without touching config.c, e.g. in tier.c:
 *
 *   static const configDirective tier_configs[] = {
 *       {.name = "flash-path", .alias = "flash.path", .flags = CONFIG_FLAG_IMMUTABLE,
 *        .type = CONFIG_TYPE_STRING, .field = &tier_conf.path, .u.str = {.dflt = ""}},
 *       {.name = "flash-capacity", .type = CONFIG_TYPE_NUMERIC, .field = &tier_conf.capacity,
 *        .u.num = {CONFIG_NUM_ULONG_LONG, CONFIG_FMT_MEMORY, 0, LLONG_MAX, 0, NULL},
 *        .apply = tierApplyCapacity},
 *   };
 *   void tierRegisterConfigs(void) { configRegisterDirectives(tier_configs, 2); }
 *
 * and main() calls tierRegisterConfigs() BEFORE initConfigValues(). The descriptors
 * are referenced, not copied: they must outlive the server (static storage).
 * Registering a name or alias that already exists is a programming error (panics).
 */
void configRegisterDirectives(const configDirective *defs, int count);

/* ---- Lifecycle ---- */
void initConfigValues(void);  /* builds the table, stores every default */
/* Reads `filename` (may be NULL), then stdin when config_from_stdin, then `options`
 * ("directive args\n..." built from the command line; may be NULL). Any error prints
 * the FATAL CONFIG FILE ERROR banner to stderr and exits with status 1. Stores the
 * absolute path of `filename` in server.configfile. */
void loadServerConfig(char *filename, char config_from_stdin, char *options);
/* Parses a whole config text; same fatal error handling. Used for `include`. */
void loadServerConfigFromString(char *config);
/* Rewrites `path` (normally server.configfile). force_write: also write directives
 * that are at their default. Returns 0 on success, -1 with errno set on error. */
int rewriteConfig(char *path, int force_write);

/* ---- Helpers for other subsystems ---- */
/* Sets one directive by name from text, as CONFIG SET would (validation, and apply when
 * `apply` is non-zero). Returns 1 on success, else 0 with *err set. Used e.g. by
 * DEBUG or tests. */
int configSetByName(const char *name, const char *value, int apply, const char **err);
/* CONFIG GET text of one directive (new sds), or NULL if unknown. */
sds configGetByName(const char *name);
/* 1 when the directive exists and is SENSITIVE (its CONFIG SET value must be redacted). */
int configIsSensitive(const char *name);
/* A formatted error message for hooks: the buffer is reused on the next call. */
const char *configErrorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exposed for tests and other parsers. */
int configParseBool(const char *s);          /* 1 yes, 0 no, -1 invalid (case-insensitive) */
int configParseEnum(const configEnum *values, const char *s, int *out); /* 1 ok, 0 unknown */
sds configFormatMemory(sds s, unsigned long long bytes); /* "256mb", "1gb", "1000" */

/* ---- Commands (found by name by the command table) ---- */
void configGetCommand(struct client *c);
void configSetCommand(struct client *c);
void configResetstatCommand(struct client *c);
void configRewriteCommand(struct client *c);
void configHelpCommand(struct client *c);

#endif
