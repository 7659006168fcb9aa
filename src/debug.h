/* debug.h -- the DEBUG command (behind enable-debug-command), the dataset digest used
 * to compare servers in tests, and crash reporting.
 *
 * setupSigSegvAction() installs handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and
 * SIGABRT that write a bug report to the log (signal, faulting address, stack trace,
 * INFO, clients) and then die of the same signal, so a core dump is still produced.
 * _serverAssert() and _serverPanic() (declared in server.h) write the same report
 * and abort.
 */
#ifndef DEBUG_H
#define DEBUG_H

#include <stddef.h>
#include "sds.h"

struct client;

#define DIGEST_LEN 20 /* SHA1 */

void setupSigSegvAction(void);
void removeSigSegvHandlers(void);

/* 20-byte digest of every database: equal datasets give equal digests whatever the
 * insertion order; all zeros when every database is empty. */
void computeDatasetDigest(unsigned char *digest);

/* Busy-free sleep of the calling thread, for tests. */
void debugDelay(int usec);

void debugCommand(struct client *c);

#endif
