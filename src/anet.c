/* anet.c -- socket helpers: listeners, accept, non-blocking connect, socket options and
 * address formatting. Addresses are resolved with getaddrinfo, so IPv4 and IPv6 share
 * one code path that differs only by the address family asked for. */
#define _GNU_SOURCE
#include "anet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define KEEPALIVE_PROBES 3
#define PORT_STR_LEN 8

static void anetSetError(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void anetSetError(char *err, const char *fmt, ...) {
    if (err == NULL) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, ANET_ERR_LEN, fmt, ap);
    va_end(ap);
}

/* Closes fd without letting close() clobber the errno the caller is about to report. */
static void closeKeepErrno(int fd) {
    int saved = errno;
    close(fd);
    errno = saved;
}

/* ------------------------------------------------------------------- socket options */

static int setFlStatus(char *err, int fd, int nonblock) {
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1) {
        anetSetError(err, "fcntl(F_GETFL): %s", strerror(errno));
        return ANET_ERR;
    }
    int wanted = nonblock ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (wanted != flags && fcntl(fd, F_SETFL, wanted) == -1) {
        anetSetError(err, "fcntl(F_SETFL,O_NONBLOCK): %s", strerror(errno));
        return ANET_ERR;
    }
    return ANET_OK;
}

int anetNonBlock(char *err, int fd) {
    return setFlStatus(err, fd, 1);
}

int anetBlock(char *err, int fd) {
    return setFlStatus(err, fd, 0);
}

int anetCloexec(int fd) {
    int flags = fcntl(fd, F_GETFD);
    if (flags == -1) return ANET_ERR;
    if (flags & FD_CLOEXEC) return ANET_OK;
    return fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1 ? ANET_ERR : ANET_OK;
}

static int setIntOpt(char *err, int fd, int level, int opt, int val, const char *name) {
    if (setsockopt(fd, level, opt, &val, sizeof(val)) == -1) {
        anetSetError(err, "setsockopt %s: %s", name, strerror(errno));
        return ANET_ERR;
    }
    return ANET_OK;
}

int anetEnableTcpNoDelay(char *err, int fd) {
    return setIntOpt(err, fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
}

int anetDisableTcpNoDelay(char *err, int fd) {
    return setIntOpt(err, fd, IPPROTO_TCP, TCP_NODELAY, 0, "TCP_NODELAY");
}

int anetKeepAlive(char *err, int fd, int interval) {
    if (setIntOpt(err, fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE") == ANET_ERR)
        return ANET_ERR;
    if (interval <= 0) return ANET_OK;
    int probe_every = interval / KEEPALIVE_PROBES;
    if (probe_every == 0) probe_every = 1;
    if (setIntOpt(err, fd, IPPROTO_TCP, TCP_KEEPIDLE, interval, "TCP_KEEPIDLE") == ANET_ERR ||
        setIntOpt(err, fd, IPPROTO_TCP, TCP_KEEPINTVL, probe_every, "TCP_KEEPINTVL") == ANET_ERR ||
        setIntOpt(err, fd, IPPROTO_TCP, TCP_KEEPCNT, KEEPALIVE_PROBES, "TCP_KEEPCNT") == ANET_ERR)
        return ANET_ERR;
    return ANET_OK;
}

static int setTimeout(char *err, int fd, int opt, long long ms, const char *name) {
    struct timeval tv;
    if (ms < 0) ms = 0;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) == -1) {
        anetSetError(err, "setsockopt %s: %s", name, strerror(errno));
        return ANET_ERR;
    }
    return ANET_OK;
}

int anetSendTimeout(char *err, int fd, long long ms) {
    return setTimeout(err, fd, SO_SNDTIMEO, ms, "SO_SNDTIMEO");
}

int anetRecvTimeout(char *err, int fd, long long ms) {
    return setTimeout(err, fd, SO_RCVTIMEO, ms, "SO_RCVTIMEO");
}

int anetGetError(int fd) {
    int sockerr = 0;
    socklen_t len = sizeof(sockerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &sockerr, &len) == -1) sockerr = errno;
    return sockerr;
}

int anetPipe(int fds[2], int read_flags, int write_flags) {
    /* Flags both ends share are applied atomically by pipe2; the rest afterwards. */
    int common = read_flags & write_flags;
    if (pipe2(fds, common) == -1) return ANET_ERR;
    int extra[2] = {read_flags & ~common, write_flags & ~common};
    for (int i = 0; i < 2; i++) {
        if (extra[i] & O_CLOEXEC) {
            if (anetCloexec(fds[i]) == ANET_ERR) goto fail;
        }
        if (extra[i] & O_NONBLOCK) {
            if (anetNonBlock(NULL, fds[i]) == ANET_ERR) goto fail;
        }
    }
    return ANET_OK;
fail:
    closeKeepErrno(fds[0]);
    closeKeepErrno(fds[1]);
    return ANET_ERR;
}

/* ------------------------------------------------------------------------ listeners */

static int listenOn(char *err, int fd, struct sockaddr *sa, socklen_t len, int backlog) {
    if (bind(fd, sa, len) == -1) {
        anetSetError(err, "bind: %s", strerror(errno));
        return ANET_ERR;
    }
    if (listen(fd, backlog) == -1) {
        anetSetError(err, "listen: %s", strerror(errno));
        return ANET_ERR;
    }
    return ANET_OK;
}

/* Binds the first address getaddrinfo offers for (bindaddr, port) in family af. */
static int tcpServer(char *err, int port, char *bindaddr, int af, int backlog) {
    const char *any = (af == AF_INET6) ? "::*" : "*";
    if (bindaddr && strcmp(bindaddr, any) == 0) bindaddr = NULL;

    char portstr[PORT_STR_LEN];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {0}, *info;
    hints.ai_family = af;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rv = getaddrinfo(bindaddr, portstr, &hints, &info);
    if (rv != 0) {
        anetSetError(err, "%s", gai_strerror(rv));
        return ANET_ERR;
    }

    int fd = ANET_ERR;
    for (struct addrinfo *p = info; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd == -1) {
            anetSetError(err, "socket: %s", strerror(errno));
            fd = ANET_ERR;
            continue;
        }
        if ((af == AF_INET6 && setIntOpt(err, fd, IPPROTO_IPV6, IPV6_V6ONLY, 1,
                                         "IPV6_V6ONLY") == ANET_ERR) ||
            setIntOpt(err, fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR") == ANET_ERR ||
            listenOn(err, fd, p->ai_addr, p->ai_addrlen, backlog) == ANET_ERR) {
            closeKeepErrno(fd);
            fd = ANET_ERR;
            continue;
        }
        break;
    }
    freeaddrinfo(info);
    return fd;
}

int anetTcpServer(char *err, int port, char *bindaddr, int backlog) {
    return tcpServer(err, port, bindaddr, AF_INET, backlog);
}

int anetTcp6Server(char *err, int port, char *bindaddr, int backlog) {
    return tcpServer(err, port, bindaddr, AF_INET6, backlog);
}

int anetUnixServer(char *err, char *path, mode_t perm, int backlog) {
    struct sockaddr_un sa = {0};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        anetSetError(err, "unix socket path too long (%zu), must be under %zu", strlen(path),
                     sizeof(sa.sun_path));
        return ANET_ERR;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        anetSetError(err, "socket: %s", strerror(errno));
        return ANET_ERR;
    }
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    if (listenOn(err, fd, (struct sockaddr *)&sa, sizeof(sa), backlog) == ANET_ERR) {
        closeKeepErrno(fd);
        return ANET_ERR;
    }
    if (perm && chmod(path, perm) == -1) {
        anetSetError(err, "chmod: %s", strerror(errno));
        closeKeepErrno(fd);
        return ANET_ERR;
    }
    return fd;
}

/* ----------------------------------------------------------------------- accepting */

static int acceptOne(char *err, int serversock, struct sockaddr *sa, socklen_t *len) {
    int fd;
    do {
        fd = accept4(serversock, sa, len, SOCK_CLOEXEC);
    } while (fd == -1 && errno == EINTR);
    if (fd == -1) {
        anetSetError(err, "accept: %s", strerror(errno));
        return ANET_ERR;
    }
    return fd;
}

/* Writes the numeric address and port of sa; "?" and 0 for families it cannot show. */
static int sockaddrToString(struct sockaddr_storage *sa, char *ip, size_t ip_len, int *port) {
    const void *addr = NULL;
    int p = 0;
    if (sa->ss_family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)sa;
        addr = &s->sin_addr;
        p = ntohs(s->sin_port);
    } else if (sa->ss_family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)sa;
        addr = &s->sin6_addr;
        p = ntohs(s->sin6_port);
    } else if (sa->ss_family == AF_UNIX) {
        if (ip && (size_t)snprintf(ip, ip_len, "/unixsocket") >= ip_len) goto fail;
        if (port) *port = 0;
        return ANET_OK;
    } else {
        goto fail;
    }
    if (ip && inet_ntop(sa->ss_family, addr, ip, ip_len) == NULL) goto fail;
    if (port) *port = p;
    return ANET_OK;

fail:
    if (ip && ip_len > 0) snprintf(ip, ip_len, "?");
    if (port) *port = 0;
    return ANET_ERR;
}

int anetTcpAccept(char *err, int serversock, char *ip, size_t ip_len, int *port) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    int fd = acceptOne(err, serversock, (struct sockaddr *)&sa, &len);
    if (fd == ANET_ERR) return ANET_ERR;
    sockaddrToString(&sa, ip, ip_len, port);
    return fd;
}

int anetUnixAccept(char *err, int serversock) {
    struct sockaddr_un sa;
    socklen_t len = sizeof(sa);
    return acceptOne(err, serversock, (struct sockaddr *)&sa, &len);
}

/* ---------------------------------------------------------------------- connecting */

int anetTcpNonBlockBindConnect(char *err, const char *addr, int port, const char *source_addr) {
    char portstr[PORT_STR_LEN];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {0}, *servinfo;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rv = getaddrinfo(addr, portstr, &hints, &servinfo);
    if (rv != 0) {
        anetSetError(err, "%s", gai_strerror(rv));
        return ANET_ERR;
    }

    int fd = ANET_ERR;
    for (struct addrinfo *p = servinfo; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, p->ai_protocol);
        if (fd == -1) {
            anetSetError(err, "socket: %s", strerror(errno));
            fd = ANET_ERR;
            continue;
        }
        if (setIntOpt(err, fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR") == ANET_ERR)
            goto next;
        if (source_addr) {
            struct addrinfo bhints = {0}, *bservinfo;
            bhints.ai_family = p->ai_family;
            bhints.ai_socktype = SOCK_STREAM;
            rv = getaddrinfo(source_addr, NULL, &bhints, &bservinfo);
            if (rv != 0) {
                anetSetError(err, "%s", gai_strerror(rv));
                goto next;
            }
            int bound = bind(fd, bservinfo->ai_addr, bservinfo->ai_addrlen) == 0;
            if (!bound) anetSetError(err, "bind: %s", strerror(errno));
            freeaddrinfo(bservinfo);
            if (!bound) goto next;
        }
        if (connect(fd, p->ai_addr, p->ai_addrlen) == 0 || errno == EINPROGRESS) break;
        anetSetError(err, "connect: %s", strerror(errno));
    next:
        closeKeepErrno(fd);
        fd = ANET_ERR;
    }
    freeaddrinfo(servinfo);
    return fd;
}

int anetTcpNonBlockConnect(char *err, const char *addr, int port) {
    return anetTcpNonBlockBindConnect(err, addr, port, NULL);
}

int anetResolve(char *err, char *host, char *ipbuf, size_t ipbuf_len, int flags) {
    struct addrinfo hints = {0}, *info;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (flags & ANET_IP_ONLY) hints.ai_flags = AI_NUMERICHOST;
    int rv = getaddrinfo(host, NULL, &hints, &info);
    if (rv != 0) {
        anetSetError(err, "%s", gai_strerror(rv));
        return ANET_ERR;
    }
    struct sockaddr_storage ss = {0};
    memcpy(&ss, info->ai_addr, info->ai_addrlen);
    freeaddrinfo(info);
    if (sockaddrToString(&ss, ipbuf, ipbuf_len, NULL) == ANET_ERR) {
        anetSetError(err, "cannot format the address of %s", host);
        return ANET_ERR;
    }
    return ANET_OK;
}

/* ------------------------------------------------------------------------ addresses */

int anetFdToString(int fd, char *ip, size_t ip_len, int *port, int remote) {
    struct sockaddr_storage sa = {0};
    socklen_t len = sizeof(sa);
    int rv = remote ? getpeername(fd, (struct sockaddr *)&sa, &len)
                    : getsockname(fd, (struct sockaddr *)&sa, &len);
    if (rv == -1) sa.ss_family = AF_UNSPEC; /* reported as "?" */
    return sockaddrToString(&sa, ip, ip_len, port);
}

int anetFormatAddr(char *fmt, size_t fmt_len, char *ip, int port) {
    if (strchr(ip, ':')) return snprintf(fmt, fmt_len, "[%s]:%d", ip, port);
    return snprintf(fmt, fmt_len, "%s:%d", ip, port);
}

int anetIsFifo(char *filepath) {
    struct stat st;
    if (stat(filepath, &st) == -1) return 0;
    return S_ISFIFO(st.st_mode);
}
