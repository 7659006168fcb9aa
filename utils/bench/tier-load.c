/* tier-load.c -- the load generator of the tiering benchmarks (utils/bench/tiering.sh).
 *
 * One thread, one epoll set, C connections speaking raw RESP, each keeping up to P
 * requests in flight (a new one is sent as each reply arrives). Keys are key:%012llu,
 * the names redis-benchmark gives its -r keys, so both tools address the same keyspace.
 *
 *   fill     SET each key of [0,N) once, with incompressible values of D bytes
 *   mix      for S seconds (after W seconds of warm-up): GET with probability R%, SET
 *            otherwise, on keys drawn uniformly (-z 0) or from a Zipfian distribution of
 *            exponent Z over ranks [0,N); ranks are scattered over the key ids by a
 *            multiplicative permutation, so the hot keys are not the first ones filled
 *   demote   FLASH.DEBUG.DEMOTE each key of [0,N)
 *
 * Prints one line of name=value figures (ops/s, latency percentiles, errors, GET misses).
 * -L file writes the latency distribution as "cumulative-fraction latency-ms" lines for
 * gnuplot. Latencies go into logarithmic bins 1% wide, so percentiles are within 1%.
 *
 *   cc -O2 -o tier-load tier-load.c -lm
 *   tier-load -p 6379 -m mix -n 655360 -c 64 -s 10 -z 0.99 -R 90
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEY_FMT "key:%012llu"
#define VALUE_POOL_BYTES (1u << 20) /* values are windows into this much random data */
#define BIN_GROWTH 1.01             /* latency bin width: 1% */
#define BIN_COUNT 3000              /* 1.01^3000 ns is far beyond any latency here */
#define READ_CHUNK 65536
#define MAX_EVENTS 256

enum { MODE_FILL, MODE_MIX, MODE_DEMOTE };

typedef struct buffer {
    char *data;
    size_t len, pos, cap; /* pos: bytes consumed (input) or written (output) */
} buffer;

typedef struct conn {
    int fd;
    buffer in, out;
    uint64_t *sent_ns; /* ring of P send times, oldest at head */
    unsigned char *is_read;
    unsigned head, inflight;
    int polling_out;
} conn;

static struct {
    const char *host;
    int port, mode, conns, pipeline;
    unsigned long long keys;
    size_t value_size;
    double seconds, warmup, theta;
    int read_pct;
    const char *cdf_path;
    uint64_t seed;
} opt = {"127.0.0.1", 6379, MODE_MIX, 64, 1, 100000, 1024, 10, 0, 0, 100, NULL, 1};

static int epfd;
static conn *conns;
static char *value_pool;
static double *zipf_cdf; /* zipf_cdf[i]: P(rank <= i) */
static unsigned long long scatter_mult;
static uint64_t rng_state;
static unsigned long long next_key; /* fill / demote: the next id to send */
static uint64_t start_ns, measure_from_ns, measure_until_ns;
static int stopping;
static unsigned long long bins[BIN_COUNT];
static unsigned long long measured, measured_reads, measured_writes, all_replies;
static unsigned long long errors, misses, short_values;
static char first_error[256];

static uint64_t nowNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t nextRandom(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double randomUnit(void) { return (nextRandom() >> 11) * (1.0 / 9007199254740992.0); }

static void die(const char *what) {
    fprintf(stderr, "tier-load: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (!p) die("malloc");
    return p;
}

/* ---- keys ---------------------------------------------------------------- */

static unsigned long long gcd(unsigned long long a, unsigned long long b) {
    while (b) {
        unsigned long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static void setupKeyDistribution(void) {
    /* A multiplier coprime with N maps ranks onto ids one to one. */
    scatter_mult = 2654435761ull % opt.keys;
    if (scatter_mult == 0) scatter_mult = 1;
    while (gcd(scatter_mult, opt.keys) != 1) scatter_mult++;
    if (opt.theta <= 0) return;
    zipf_cdf = xmalloc(opt.keys * sizeof(double));
    double sum = 0;
    for (unsigned long long i = 0; i < opt.keys; i++) {
        sum += 1.0 / pow((double)(i + 1), opt.theta);
        zipf_cdf[i] = sum;
    }
    for (unsigned long long i = 0; i < opt.keys; i++) zipf_cdf[i] /= sum;
}

static unsigned long long randomKey(void) {
    if (!zipf_cdf) return nextRandom() % opt.keys;
    double u = randomUnit();
    unsigned long long lo = 0, hi = opt.keys - 1; /* first rank whose CDF reaches u */
    while (lo < hi) {
        unsigned long long mid = lo + (hi - lo) / 2;
        if (zipf_cdf[mid] < u) lo = mid + 1;
        else hi = mid;
    }
    return (unsigned __int128)lo * scatter_mult % opt.keys;
}

/* ---- requests ------------------------------------------------------------ */

static void reserve(buffer *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    if (b->pos) { /* slide what is left to the front first */
        memmove(b->data, b->data + b->pos, b->len - b->pos);
        b->len -= b->pos;
        b->pos = 0;
        if (b->len + extra <= b->cap) return;
    }
    while (b->cap < b->len + extra) b->cap = b->cap ? b->cap * 2 : 4096;
    b->data = realloc(b->data, b->cap);
    if (!b->data) die("realloc");
}

static void appendf(buffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(buffer *b, const char *fmt, ...) {
    va_list ap;
    reserve(b, 128);
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void appendKeyCommand(buffer *b, const char *cmd, unsigned long long id) {
    char key[32];
    int klen = snprintf(key, sizeof key, KEY_FMT, id);
    appendf(b, "*%d\r\n$%zu\r\n%s\r\n$%d\r\n%s\r\n", strcmp(cmd, "SET") ? 2 : 3, strlen(cmd), cmd, klen, key);
}

static void appendSet(buffer *b, unsigned long long id) {
    appendKeyCommand(b, "SET", id);
    appendf(b, "$%zu\r\n", opt.value_size);
    reserve(b, opt.value_size + 2);
    memcpy(b->data + b->len, value_pool + nextRandom() % VALUE_POOL_BYTES, opt.value_size);
    b->len += opt.value_size;
    memcpy(b->data + b->len, "\r\n", 2);
    b->len += 2;
}

/* Queues the connection's next request; 0 when there is nothing left to send. */
static int sendNext(conn *c, uint64_t now) {
    int is_read = 0;
    if (stopping) return 0;
    switch (opt.mode) {
    case MODE_FILL:
    case MODE_DEMOTE:
        if (next_key >= opt.keys) return 0;
        if (opt.mode == MODE_FILL) appendSet(&c->out, next_key++);
        else appendKeyCommand(&c->out, "FLASH.DEBUG.DEMOTE", next_key++);
        break;
    case MODE_MIX:
        if (now >= measure_until_ns) {
            stopping = 1;
            return 0;
        }
        if ((int)(nextRandom() % 100) < opt.read_pct) {
            appendKeyCommand(&c->out, "GET", randomKey());
            is_read = 1;
        } else {
            appendSet(&c->out, randomKey());
        }
        break;
    }
    unsigned slot = (c->head + c->inflight) % (unsigned)opt.pipeline;
    c->sent_ns[slot] = now;
    c->is_read[slot] = (unsigned char)is_read;
    c->inflight++;
    return 1;
}

/* ---- replies ------------------------------------------------------------- */

static void recordLatency(uint64_t ns) {
    int bin = ns ? (int)(log((double)ns) / log(BIN_GROWTH)) : 0;
    if (bin >= BIN_COUNT) bin = BIN_COUNT - 1;
    bins[bin]++;
}

static double binMs(int bin) { return pow(BIN_GROWTH, bin + 0.5) / 1e6; }

/* Length of the complete reply at p (0: incomplete). Sets *kind and *bulk_len. */
static size_t parseReply(const char *p, size_t len, char *kind, long long *bulk_len) {
    const char *eol = memchr(p, '\n', len);
    if (!eol) return 0;
    size_t line = (size_t)(eol - p) + 1;
    *kind = p[0];
    *bulk_len = 0;
    switch (p[0]) {
    case '+':
    case '-':
    case ':': return line;
    case '$':
        *bulk_len = strtoll(p + 1, NULL, 10);
        if (*bulk_len < 0) return line;
        if (len < line + (size_t)*bulk_len + 2) return 0;
        return line + (size_t)*bulk_len + 2;
    default:
        fprintf(stderr, "tier-load: unexpected reply type '%c'\n", p[0]);
        exit(1);
    }
}

static void handleReply(conn *c, const char *p, char kind, long long bulk_len, uint64_t now) {
    uint64_t sent = c->sent_ns[c->head];
    int is_read = c->is_read[c->head];
    c->head = (c->head + 1) % (unsigned)opt.pipeline;
    c->inflight--;
    all_replies++;
    if (kind == '-') {
        if (!errors++) {
            size_t n = strcspn(p, "\r\n");
            snprintf(first_error, sizeof first_error, "%.*s", (int)n, p);
        }
    } else if (is_read && bulk_len < 0) {
        misses++;
    } else if (is_read && (size_t)bulk_len != opt.value_size) {
        short_values++;
    }
    if (sent >= measure_from_ns && now <= measure_until_ns) {
        recordLatency(now - sent);
        measured++;
        if (is_read) measured_reads++;
        else measured_writes++;
    }
}

/* ---- connections --------------------------------------------------------- */

static void watchOutput(conn *c, int on) {
    if (c->polling_out == on) return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
    c->polling_out = on;
}

static void flushOutput(conn *c) {
    while (c->out.pos < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out.pos, c->out.len - c->out.pos);
        if (n < 0) {
            if (errno == EAGAIN) break;
            die("write");
        }
        c->out.pos += (size_t)n;
    }
    if (c->out.pos == c->out.len) c->out.pos = c->out.len = 0;
    watchOutput(c, c->out.len != 0);
}

static void readInput(conn *c) {
    for (;;) {
        reserve(&c->in, READ_CHUNK);
        ssize_t n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
        if (n < 0) {
            if (errno == EAGAIN) break;
            die("read");
        }
        if (n == 0) {
            fprintf(stderr, "tier-load: the server closed a connection\n");
            exit(1);
        }
        c->in.len += (size_t)n;
        if ((size_t)n < READ_CHUNK) break;
    }
    uint64_t now = nowNs();
    char kind;
    long long bulk_len;
    size_t used;
    while ((used = parseReply(c->in.data + c->in.pos, c->in.len - c->in.pos, &kind, &bulk_len))) {
        handleReply(c, c->in.data + c->in.pos, kind, bulk_len, now);
        c->in.pos += used;
        sendNext(c, now);
    }
    if (c->in.pos == c->in.len) c->in.pos = c->in.len = 0;
}

static int connectServer(void) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    char port[16];
    snprintf(port, sizeof port, "%d", opt.port);
    int rc = getaddrinfo(opt.host, port, &hints, &ai);
    if (rc) {
        fprintf(stderr, "tier-load: %s: %s\n", opt.host, gai_strerror(rc));
        exit(1);
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) die("connect");
    freeaddrinfo(ai);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* ---- report -------------------------------------------------------------- */

static double percentileMs(double p) {
    unsigned long long want = (unsigned long long)ceil(p * (double)measured), seen = 0;
    if (want == 0) want = 1;
    for (int i = 0; i < BIN_COUNT; i++) {
        seen += bins[i];
        if (seen >= want) return binMs(i);
    }
    return 0;
}

static void writeCdf(void) {
    FILE *f = fopen(opt.cdf_path, "w");
    if (!f) die(opt.cdf_path);
    unsigned long long seen = 0;
    for (int i = 0; i < BIN_COUNT && measured; i++) {
        if (!bins[i]) continue;
        seen += bins[i];
        /* The last point would be at 100%, which a "nines" axis cannot show. */
        if (seen == measured) break;
        fprintf(f, "%.7f %.4f\n", (double)seen / (double)measured, binMs(i));
    }
    fclose(f);
}

static void usage(void) {
    fprintf(stderr,
            "usage: tier-load [-h host] [-p port] [-m fill|mix|demote] [-n keys] [-d value-bytes]\n"
            "                 [-c connections] [-P pipeline] [-s seconds] [-w warmup-seconds]\n"
            "                 [-z zipf-exponent (0: uniform)] [-R read-percent] [-L cdf-file] [-S seed]\n");
    exit(2);
}

static void parseOptions(int argc, char **argv) {
    int ch;
    while ((ch = getopt(argc, argv, "h:p:m:n:d:c:P:s:w:z:R:L:S:")) != -1) {
        switch (ch) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'm':
            if (!strcmp(optarg, "fill")) opt.mode = MODE_FILL;
            else if (!strcmp(optarg, "mix")) opt.mode = MODE_MIX;
            else if (!strcmp(optarg, "demote")) opt.mode = MODE_DEMOTE;
            else usage();
            break;
        case 'n': opt.keys = strtoull(optarg, NULL, 10); break;
        case 'd': opt.value_size = strtoull(optarg, NULL, 10); break;
        case 'c': opt.conns = atoi(optarg); break;
        case 'P': opt.pipeline = atoi(optarg); break;
        case 's': opt.seconds = atof(optarg); break;
        case 'w': opt.warmup = atof(optarg); break;
        case 'z': opt.theta = atof(optarg); break;
        case 'R': opt.read_pct = atoi(optarg); break;
        case 'L': opt.cdf_path = optarg; break;
        case 'S': opt.seed = strtoull(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (opt.keys == 0 || opt.keys > UINT32_MAX || opt.conns < 1 || opt.pipeline < 1 || opt.seconds <= 0 ||
        opt.read_pct < 0 || opt.read_pct > 100)
        usage();
}

int main(int argc, char **argv) {
    parseOptions(argc, argv);
    rng_state = opt.seed;
    value_pool = xmalloc(VALUE_POOL_BYTES + opt.value_size);
    for (size_t i = 0; i + 8 <= VALUE_POOL_BYTES + opt.value_size; i += 8) {
        uint64_t r = nextRandom();
        memcpy(value_pool + i, &r, 8);
    }
    setupKeyDistribution();

    epfd = epoll_create1(0);
    if (epfd < 0) die("epoll_create1");
    conns = calloc((size_t)opt.conns, sizeof(conn));
    start_ns = nowNs();
    measure_from_ns = opt.mode == MODE_MIX ? start_ns + (uint64_t)(opt.warmup * 1e9) : 0;
    measure_until_ns = opt.mode == MODE_MIX ? measure_from_ns + (uint64_t)(opt.seconds * 1e9) : UINT64_MAX;
    for (int i = 0; i < opt.conns; i++) {
        conn *c = &conns[i];
        c->fd = connectServer();
        c->sent_ns = xmalloc(sizeof(uint64_t) * (size_t)opt.pipeline);
        c->is_read = xmalloc((size_t)opt.pipeline);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
        for (int j = 0; j < opt.pipeline && sendNext(c, nowNs()); j++) {
        }
        watchOutput(c, 1); /* the first write waits for the connection to be up */
    }

    struct epoll_event events[MAX_EVENTS];
    unsigned long long inflight = 1;
    while (inflight) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, 1000);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) readInput(c);
            flushOutput(c);
        }
        inflight = 0;
        for (int i = 0; i < opt.conns; i++) inflight += conns[i].inflight;
    }
    uint64_t end_ns = nowNs();

    double secs = opt.mode == MODE_MIX ? opt.seconds : (double)(end_ns - start_ns) / 1e9;
    if (opt.mode != MODE_MIX) measured = all_replies;
    printf("ops=%llu seconds=%.3f ops_per_sec=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f "
           "max_ms=%.3f reads=%llu writes=%llu errors=%llu misses=%llu bad_values=%llu\n",
           measured, secs, (double)measured / secs, percentileMs(0.50), percentileMs(0.90), percentileMs(0.99),
           percentileMs(0.999), percentileMs(1.0), measured_reads, measured_writes, errors, misses, short_values);
    if (errors) fprintf(stderr, "tier-load: %llu error replies, the first: %s\n", errors, first_error);
    if (opt.cdf_path) writeCdf();
    return 0;
}
