/* slowlog.h -- the slow log: the most recent commands that ran longer than
 * slowlog-log-slower-than microseconds, at most slowlog-max-len of them.
 *
 * call() feeds it through slowlogPushCurrentCommand() (declared in commands.h).
 * Each entry keeps a bounded copy of the command line (SLOWLOG_ENTRY_MAX_ARGC
 * arguments of at most SLOWLOG_ENTRY_MAX_STRING bytes each), so logging a huge
 * command costs little memory.
 */
#ifndef SLOWLOG_H
#define SLOWLOG_H

#define SLOWLOG_ENTRY_MAX_ARGC 32
#define SLOWLOG_ENTRY_MAX_STRING 128

struct client;

void slowlogInit(void);
void slowlogReset(void);

void slowlogGetCommand(struct client *c);
void slowlogLenCommand(struct client *c);
void slowlogResetCommand(struct client *c);
void slowlogHelpCommand(struct client *c);

#endif
