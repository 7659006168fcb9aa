/* info.h -- the INFO command and the statistics it reports.
 *
 * INFO is assembled from sections, each a bit in a mask: the request's arguments are
 * turned into a mask (infoSectionsFromArgs) and genValkeyInfoString() renders the
 * selected sections in their fixed order. Fields, their order and their formats are
 * Valkey 8's; subsystems that do not exist yet report what a fresh Valkey reports.
 *
 * This file also owns the generic statistics helpers declared in server.h
 * (instantaneous metrics, bytesToHuman) and resetServerStats() for CONFIG RESETSTAT.
 */
#ifndef INFO_H
#define INFO_H

#include <stddef.h>
#include "sds.h"
#include "object.h"

struct client;

/* Sections. Each has a bit in a section mask; the built-in ones come first, in
 * output order, then those registered by other subsystems (e.g. "flash"), rendered
 * after the keyspace in registration order. */
#define INFO_SECTION_SERVER (1u << 0)
#define INFO_SECTION_CLIENTS (1u << 1)
#define INFO_SECTION_MEMORY (1u << 2)
#define INFO_SECTION_PERSISTENCE (1u << 3)
#define INFO_SECTION_STATS (1u << 4)
#define INFO_SECTION_REPLICATION (1u << 5)
#define INFO_SECTION_CPU (1u << 6)
#define INFO_SECTION_MODULES (1u << 7)
#define INFO_SECTION_COMMANDSTATS (1u << 8)
#define INFO_SECTION_ERRORSTATS (1u << 9)
#define INFO_SECTION_LATENCYSTATS (1u << 10)
#define INFO_SECTION_CLUSTER (1u << 11)
#define INFO_SECTION_KEYSPACE (1u << 12)
#define INFO_MAX_SECTIONS 32
#define INFO_SECTIONS_EVERYTHING 0xffffffffu /* every section that exists */

/* Where a section shows up besides "INFO <its name>". "INFO" and "INFO default" show
 * everything but commandstats and latencystats; "INFO all" shows every built-in
 * section and the registered ones flagged IN_ALL; "INFO everything" shows them all. */
#define INFO_IN_DEFAULT (1 << 0)
#define INFO_IN_ALL (1 << 1)

/* Adds a section rendered by `render`, which appends its "# Title\r\n" line and its
 * "field:value\r\n" lines to info and returns it. Call at start-up; the name must
 * outlive the server. A renderer that appends nothing leaves the section out. Returns the section's bit, or 0 when the name is taken or the
 * table is full. */
typedef sds (*infoSectionRenderer)(sds info);
unsigned int infoRegisterSection(const char *name, infoSectionRenderer render, int flags);

/* Mask selected by INFO's arguments (argv[0] is the command name). Names are
 * case-insensitive; unknown names select nothing. No argument means default. */
unsigned int infoSectionsFromArgs(robj **argv, int argc);
/* The INFO text of the selected sections ("\r\n" line ends, a blank line between
 * sections). The caller frees it. */
sds genValkeyInfoString(unsigned int sections);
void infoCommand(struct client *c);
void timeCommand(struct client *c);     /* [unix seconds, microseconds] */
void lastsaveCommand(struct client *c); /* server.lastsave */

/* Called once at the end of start-up: the memory in use then is INFO's
 * used_memory_startup and the base of MEMORY STATS' dataset figures. */
void infoRecordStartupMemory(void);
size_t infoStartupMemory(void);

/* The replication ID reported while this server has no replication subsystem:
 * 40 random hex characters chosen once per process. */
const char *infoReplicationId(void);

/* CONFIG RESETSTAT: zeroes every server.stat_* counter, the instantaneous metrics,
 * the command and error statistics, and the event-loop counters below. */
void resetServerStats(void);

/* Optional hook for the event loop: one call per loop iteration with its duration
 * and the part of it spent running commands (microseconds). Feeds eventloop_* in
 * INFO stats; without it those fields stay 0. */
void infoRecordEventLoopCycle(long long duration_us, long long cmd_duration_us);

#endif
