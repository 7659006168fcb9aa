/* anet.h -- small helpers over the BSD socket API: listeners, accept, connect, socket
 * options and address formatting. Functions that can fail take an `err` buffer of
 * ANET_ERR_LEN bytes (may be NULL) and return ANET_ERR with a message in it. */
#ifndef ANET_H
#define ANET_H

#include <stddef.h>
#include <sys/types.h>

#define ANET_OK 0
#define ANET_ERR -1
#define ANET_ERR_LEN 256

/* anetResolve flags. */
#define ANET_NONE 0
#define ANET_IP_ONLY (1 << 0) /* fail instead of doing a DNS lookup */

/* Listeners: SO_REUSEADDR, close-on-exec, blocking (the caller makes them non-blocking).
 * bindaddr NULL or "*" binds any IPv4 address; "::*" any IPv6 address. v6 listeners are
 * IPV6_V6ONLY. Return the fd or ANET_ERR. */
int anetTcpServer(char *err, int port, char *bindaddr, int backlog);
int anetTcp6Server(char *err, int port, char *bindaddr, int backlog);
/* The caller removes a stale socket file first. perm 0 leaves the mode alone. */
int anetUnixServer(char *err, char *path, mode_t perm, int backlog);

/* Return the accepted fd (close-on-exec) or ANET_ERR with errno preserved, so the caller
 * can tell EAGAIN from real errors. ip/port may be NULL. */
int anetTcpAccept(char *err, int serversock, char *ip, size_t ip_len, int *port);
int anetUnixAccept(char *err, int serversock);

/* Starts a non-blocking connect; the fd is returned while the connect is in progress
 * (poll for writable, then anetGetError). source_addr, when not NULL, is bound first. */
int anetTcpNonBlockConnect(char *err, const char *addr, int port);
int anetTcpNonBlockBindConnect(char *err, const char *addr, int port, const char *source_addr);
/* The pending error of a socket (SO_ERROR), 0 when none. */
int anetGetError(int fd);

/* Resolves host to a numeric address string. */
int anetResolve(char *err, char *host, char *ipbuf, size_t ipbuf_len, int flags);

int anetNonBlock(char *err, int fd);
int anetBlock(char *err, int fd);
int anetCloexec(int fd);
int anetEnableTcpNoDelay(char *err, int fd);
int anetDisableTcpNoDelay(char *err, int fd);
/* SO_KEEPALIVE with the first probe after interval seconds, then every interval/3
 * seconds, giving up after 3 unanswered probes. */
int anetKeepAlive(char *err, int fd, int interval);
int anetSendTimeout(char *err, int fd, long long ms);
int anetRecvTimeout(char *err, int fd, long long ms);

/* Creates a pipe; extra O_* flags (O_NONBLOCK, O_CLOEXEC) per end. */
int anetPipe(int fds[2], int read_flags, int write_flags);

/* The address of the peer (remote=1) or of the local end (remote=0). A unix socket gives
 * "/unixsocket" and port 0. On failure ip becomes "?" and port 0. */
int anetFdToString(int fd, char *ip, size_t ip_len, int *port, int remote);
/* "ip:port", or "[ip]:port" when ip is IPv6. Returns the snprintf result. */
int anetFormatAddr(char *fmt, size_t fmt_len, char *ip, int port);
/* 1 when the path is a FIFO, 0 otherwise (including when it does not exist). */
int anetIsFifo(char *filepath);

#endif
