/* test_anet.c -- socket helpers over loopback: TCP v4/v6 and unix listeners, accept,
 * non-blocking connect, socket options, address strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "../ae.h"
#include "../anet.h"

#define IP_LEN 64
#define WAIT_MS 2000

static int getIntOpt(int fd, int level, int opt) {
    int v = -1;
    socklen_t len = sizeof(v);
    assert_int_equal(getsockopt(fd, level, opt, &v, &len), 0);
    return v;
}

static int localPort(int fd) {
    char ip[IP_LEN];
    int port = -1;
    assert_int_equal(anetFdToString(fd, ip, sizeof(ip), &port, 0), ANET_OK);
    return port;
}

/* Connects to ip:port through a listener and checks both ends agree on the addresses. */
static void connectAndAccept(int listener, const char *ip) {
    char err[ANET_ERR_LEN];
    int port = localPort(listener);
    int client = anetTcpNonBlockConnect(err, ip, port);
    assert_true(client >= 0);
    assert_int_equal(aeWait(client, AE_WRITABLE, WAIT_MS), AE_WRITABLE);
    assert_int_equal(anetGetError(client), 0);

    char peer_ip[IP_LEN];
    int peer_port = 0;
    int conn = anetTcpAccept(err, listener, peer_ip, sizeof(peer_ip), &peer_port);
    assert_true(conn >= 0);
    assert_string_equal(peer_ip, ip);
    assert_int_equal(peer_port, localPort(client));
    assert_true(fcntl(conn, F_GETFD) & FD_CLOEXEC);

    char remote_ip[IP_LEN];
    int remote_port = 0;
    assert_int_equal(anetFdToString(client, remote_ip, sizeof(remote_ip), &remote_port, 1),
                     ANET_OK);
    assert_string_equal(remote_ip, ip);
    assert_int_equal(remote_port, port);

    assert_int_equal(write(client, "hi", 2), 2);
    char buf[4];
    assert_int_equal(read(conn, buf, sizeof(buf)), 2);
    close(conn);
    close(client);
}

static void test_tcp4_roundtrip(void **state) {
    (void)state;
    char err[ANET_ERR_LEN];
    int s = anetTcpServer(err, 0, "127.0.0.1", 16);
    assert_true(s >= 0);
    assert_int_equal(getIntOpt(s, SOL_SOCKET, SO_REUSEADDR), 1);
    connectAndAccept(s, "127.0.0.1");

    /* A second listener on the same address and port is refused. */
    int again = anetTcpServer(err, localPort(s), "127.0.0.1", 16);
    assert_int_equal(again, ANET_ERR);
    assert_non_null(strstr(err, "Address already in use"));
    close(s);
}

static void test_tcp4_any(void **state) {
    (void)state;
    char err[ANET_ERR_LEN];
    int s = anetTcpServer(err, 0, "*", 16);
    assert_true(s >= 0);
    char ip[IP_LEN];
    int port;
    anetFdToString(s, ip, sizeof(ip), &port, 0);
    assert_string_equal(ip, "0.0.0.0");
    connectAndAccept(s, "127.0.0.1");
    close(s);
    s = anetTcpServer(err, 0, NULL, 16);
    assert_true(s >= 0);
    close(s);
}

static void test_tcp6(void **state) {
    (void)state;
    char err[ANET_ERR_LEN];
    int s = anetTcp6Server(err, 0, "::1", 16);
    if (s == ANET_ERR) skip(); /* no IPv6 loopback here */
    assert_int_equal(getIntOpt(s, IPPROTO_IPV6, IPV6_V6ONLY), 1);
    connectAndAccept(s, "::1");
    close(s);
    s = anetTcp6Server(err, 0, "::*", 16);
    assert_true(s >= 0);
    close(s);
}

static void test_unix_socket(void **state) {
    (void)state;
    char path[64], err[ANET_ERR_LEN];
    snprintf(path, sizeof(path), "/tmp/test_anet_%d.sock", (int)getpid());
    unlink(path);
    int s = anetUnixServer(err, path, 0700, 16);
    assert_true(s >= 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    assert_int_equal(connect(client, (struct sockaddr *)&sa, sizeof(sa)), 0);
    int conn = anetUnixAccept(err, s);
    assert_true(conn >= 0);
    char ip[IP_LEN];
    int port = -1;
    assert_int_equal(anetFdToString(conn, ip, sizeof(ip), &port, 1), ANET_OK);
    assert_string_equal(ip, "/unixsocket");
    assert_int_equal(port, 0);

    /* The path is taken: a second server fails while the file exists. */
    assert_int_equal(anetUnixServer(err, path, 0, 16), ANET_ERR);
    close(conn);
    close(client);
    close(s);
    unlink(path);

    char longpath[200];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    assert_int_equal(anetUnixServer(err, longpath, 0, 16), ANET_ERR);
}

static void test_accept_would_block(void **state) {
    (void)state;
    char err[ANET_ERR_LEN];
    int s = anetTcpServer(err, 0, "127.0.0.1", 16);
    assert_int_equal(anetNonBlock(err, s), ANET_OK);
    errno = 0;
    assert_int_equal(anetTcpAccept(err, s, NULL, 0, NULL), ANET_ERR);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(s);
}

static void test_connect_refused(void **state) {
    (void)state;
    char err[ANET_ERR_LEN];
    int s = anetTcpServer(err, 0, "127.0.0.1", 16);
    int port = localPort(s);
    close(s); /* nothing listens on port now */
    int c = anetTcpNonBlockConnect(err, "127.0.0.1", port);
    if (c >= 0) {
        assert_true(aeWait(c, AE_WRITABLE, WAIT_MS) > 0);
        assert_int_equal(anetGetError(c), ECONNREFUSED);
        close(c);
    } else {
        assert_non_null(strstr(err, "refused"));
    }
}

static void test_socket_options(void **state) {
    (void)state;
    char err[ANET_ERR_LEN];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(anetNonBlock(err, fd), ANET_OK);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_int_equal(anetBlock(err, fd), ANET_OK);
    assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_int_equal(anetCloexec(fd), ANET_OK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

    assert_int_equal(anetEnableTcpNoDelay(err, fd), ANET_OK);
    assert_true(getIntOpt(fd, IPPROTO_TCP, TCP_NODELAY));
    assert_int_equal(anetDisableTcpNoDelay(err, fd), ANET_OK);
    assert_false(getIntOpt(fd, IPPROTO_TCP, TCP_NODELAY));

    assert_int_equal(anetKeepAlive(err, fd, 300), ANET_OK);
    assert_int_equal(getIntOpt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    assert_int_equal(getIntOpt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 300);
    assert_int_equal(getIntOpt(fd, IPPROTO_TCP, TCP_KEEPINTVL), 100);
    assert_int_equal(getIntOpt(fd, IPPROTO_TCP, TCP_KEEPCNT), 3);

    assert_int_equal(anetSendTimeout(err, fd, 1500), ANET_OK);
    assert_int_equal(anetRecvTimeout(err, fd, 250), ANET_OK);
    struct timeval tv;
    socklen_t len = sizeof(tv);
    getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len);
    assert_int_equal(tv.tv_sec, 1);
    assert_int_equal(tv.tv_usec, 500000);
    close(fd);

    assert_int_equal(anetNonBlock(err, fd), ANET_ERR); /* closed fd */
    assert_non_null(strstr(err, "fcntl"));
}

static void test_pipe(void **state) {
    (void)state;
    int fds[2];
    assert_int_equal(anetPipe(fds, O_CLOEXEC | O_NONBLOCK, O_CLOEXEC), ANET_OK);
    assert_true(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
    assert_false(fcntl(fds[1], F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
    close(fds[0]);
    close(fds[1]);
}

static void test_addresses(void **state) {
    (void)state;
    char buf[64];
    anetFormatAddr(buf, sizeof(buf), "10.0.0.1", 6379);
    assert_string_equal(buf, "10.0.0.1:6379");
    anetFormatAddr(buf, sizeof(buf), "::1", 6380);
    assert_string_equal(buf, "[::1]:6380");

    char ip[IP_LEN];
    int port = 7;
    assert_int_equal(anetFdToString(-1, ip, sizeof(ip), &port, 1), ANET_ERR);
    assert_string_equal(ip, "?");
    assert_int_equal(port, 0);

    char err[ANET_ERR_LEN];
    assert_int_equal(anetResolve(err, "127.0.0.1", ip, sizeof(ip), ANET_IP_ONLY), ANET_OK);
    assert_string_equal(ip, "127.0.0.1");
    assert_int_equal(anetResolve(err, "not-an-ip", ip, sizeof(ip), ANET_IP_ONLY), ANET_ERR);
}

static void test_is_fifo(void **state) {
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/test_anet_fifo_%d", (int)getpid());
    unlink(path);
    assert_false(anetIsFifo(path));
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_true(anetIsFifo(path));
    unlink(path);
    assert_false(anetIsFifo("/"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp4_roundtrip),     cmocka_unit_test(test_tcp4_any),
        cmocka_unit_test(test_tcp6),               cmocka_unit_test(test_unix_socket),
        cmocka_unit_test(test_accept_would_block), cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_socket_options),     cmocka_unit_test(test_pipe),
        cmocka_unit_test(test_addresses),          cmocka_unit_test(test_is_fifo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
