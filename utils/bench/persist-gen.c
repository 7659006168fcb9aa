/* persist-gen.c -- the dataset of the persistence benchmark (utils/bench/persistence.sh).
 *
 * Writes RESP commands to stdout, for `redis-cli --pipe`, until about -s megabytes of
 * keys and values have been produced. The data is the same on every run with the same
 * seed (-S), so two servers fed by it hold the same dataset. By bytes, roughly:
 *
 *   60%  strings   SET key:%012llu, 100 to 1000 bytes, half random, half repeated text
 *                  (LZF compresses them to about half); the names redis-benchmark gives
 *                  its -r keys, so a write load can overwrite them
 *   15%  hashes    HSET hash:%llu, 20 fields of 30 bytes (listpack) or, one in ten,
 *                  500 fields (hashtable)
 *   10%  lists     RPUSH list:%llu, 100 elements of 30 to 80 bytes (quicklist)
 *   8%   sets      SADD set:%llu, 100 members: strings (hashtable) or, one in four,
 *                  integers (intset)
 *   7%   zsets     ZADD zset:%llu, 200 members (skiplist) or, one in four, 50 (listpack)
 *
 * A summary line (keys per type, payload bytes) goes to stderr at the end.
 *
 *   cc -O2 -o persist-gen persist-gen.c
 *   persist-gen -s 1024 | redis-cli --pipe
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_BUF_BYTES (1 << 20)
#define MAX_ARGS 1024
#define MAX_ARG_BYTES 1024

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rndRange(uint64_t lo, uint64_t hi) { /* inclusive */
    return lo + rnd() % (hi - lo + 1);
}

static char out[OUT_BUF_BYTES];
static size_t out_len;

static void flushOut(void) {
    size_t done = 0;
    while (done < out_len) {
        ssize_t n = write(STDOUT_FILENO, out + done, out_len - done);
        if (n <= 0) {
            perror("write");
            exit(1);
        }
        done += (size_t)n;
    }
    out_len = 0;
}

static void emit(const void *p, size_t len) {
    if (out_len + len > sizeof(out)) flushOut();
    memcpy(out + out_len, p, len);
    out_len += len;
}

/* One command being built: its arguments are kept until it is complete. */
static struct {
    int argc;
    size_t len[MAX_ARGS];
    char arg[MAX_ARGS][MAX_ARG_BYTES];
} cmd;

static uint64_t payload_bytes;

static char *cmdArg(size_t len) {
    cmd.len[cmd.argc] = len;
    payload_bytes += len;
    return cmd.arg[cmd.argc++];
}

static void cmdArgf(const char *fmt, unsigned long long n) {
    char *p = cmdArg(0);
    cmd.len[cmd.argc - 1] = (size_t)snprintf(p, MAX_ARG_BYTES, fmt, n);
    payload_bytes += cmd.len[cmd.argc - 1];
}

/* len bytes: the first half random, the rest a repeated pattern. */
static void cmdArgValue(size_t len) {
    unsigned char *p = (unsigned char *)cmdArg(len);
    size_t random_part = len / 2, i = 0;
    for (; i + 8 <= random_part; i += 8) {
        uint64_t r = rnd();
        memcpy(p + i, &r, 8);
    }
    for (; i < random_part; i++) p[i] = (unsigned char)rnd();
    for (; i < len; i++) p[i] = "persistence-benchmark "[i % 22];
}

static void cmdSend(void) {
    char head[32];
    emit(head, (size_t)snprintf(head, sizeof(head), "*%d\r\n", cmd.argc));
    for (int j = 0; j < cmd.argc; j++) {
        emit(head, (size_t)snprintf(head, sizeof(head), "$%zu\r\n", cmd.len[j]));
        emit(cmd.arg[j], cmd.len[j]);
        emit("\r\n", 2);
    }
    cmd.argc = 0;
}

static void cmdStart(const char *name, const char *key_fmt, unsigned long long id) {
    cmd.argc = 0;
    memcpy(cmdArg(strlen(name)), name, strlen(name));
    cmdArgf(key_fmt, id);
}

enum { T_STRING, T_HASH, T_LIST, T_SET, T_ZSET, T_COUNT };
static unsigned long long keys[T_COUNT];

static void genString(void) {
    cmdStart("SET", "key:%012llu", keys[T_STRING]++);
    cmdArgValue(rndRange(100, 1000));
    cmdSend();
}

static void genHash(void) {
    unsigned long long id = keys[T_HASH]++;
    int fields = rnd() % 10 == 0 ? 500 : 20;
    /* 500 fields: in commands of 100 fields, so that no command is too long. */
    for (int done = 0; done < fields; done += 100) {
        cmdStart("HSET", "hash:%llu", id);
        for (int f = done; f < fields && f < done + 100; f++) {
            cmdArgf("field:%llu", (unsigned long long)f);
            cmdArgValue(30);
        }
        cmdSend();
    }
}

static void genList(void) {
    cmdStart("RPUSH", "list:%llu", keys[T_LIST]++);
    for (int j = 0; j < 100; j++) cmdArgValue(rndRange(30, 80));
    cmdSend();
}

static void genSet(void) {
    int integers = rnd() % 4 == 0;
    cmdStart("SADD", "set:%llu", keys[T_SET]++);
    for (int j = 0; j < 100; j++) {
        if (integers) {
            cmdArgf("%llu", (unsigned long long)(rnd() % 1000000000));
        } else {
            cmdArgf("member:%016llx", (unsigned long long)rnd());
        }
    }
    cmdSend();
}

static void genZset(void) {
    int members = rnd() % 4 == 0 ? 50 : 200;
    cmdStart("ZADD", "zset:%llu", keys[T_ZSET]++);
    for (int j = 0; j < members; j++) {
        char *score = cmdArg(0);
        cmd.len[cmd.argc - 1] = (size_t)snprintf(score, MAX_ARG_BYTES, "%.3f", (double)(rnd() % 10000000) / 1000);
        payload_bytes += cmd.len[cmd.argc - 1];
        cmdArgf("player:%llu", (unsigned long long)(rnd() % 100000000));
    }
    cmdSend();
}

int main(int argc, char **argv) {
    unsigned long long megabytes = 100, seed = 1;
    int opt;
    while ((opt = getopt(argc, argv, "s:S:")) != -1) {
        if (opt == 's') megabytes = strtoull(optarg, NULL, 10);
        else if (opt == 'S') seed = strtoull(optarg, NULL, 10);
        else {
            fprintf(stderr, "usage: %s [-s megabytes] [-S seed]\n", argv[0]);
            return 2;
        }
    }
    rng_state ^= seed * 0xbf58476d1ce4e5b9ull;
    uint64_t target = megabytes << 20;
    /* Each type is picked with a weight of its byte share over the bytes one key of it
     * holds on average, which gives the byte shares of the header comment. */
    static const struct { int type; double share, avg_bytes; } mix[T_COUNT] = {
        {T_STRING, 0.60, 570}, {T_HASH, 0.15, 0.9 * 20 * 38 + 0.1 * 500 * 39},
        {T_LIST, 0.10, 5500}, {T_SET, 0.08, 2000}, {T_ZSET, 0.07, 0.75 * 200 * 17 + 0.25 * 50 * 17}};
    double per_key[T_COUNT], total = 0;
    for (int t = 0; t < T_COUNT; t++) total += per_key[t] = mix[t].share / mix[t].avg_bytes;
    while (payload_bytes < target) {
        double pick = (double)(rnd() % 1000000) / 1000000 * total;
        int t = 0;
        while (t < T_COUNT - 1 && pick >= per_key[t]) pick -= per_key[t++];
        switch (mix[t].type) {
        case T_STRING: genString(); break;
        case T_HASH: genHash(); break;
        case T_LIST: genList(); break;
        case T_SET: genSet(); break;
        default: genZset(); break;
        }
    }
    flushOut();
    fprintf(stderr, "strings=%llu hashes=%llu lists=%llu sets=%llu zsets=%llu payload_bytes=%llu\n",
            keys[T_STRING], keys[T_HASH], keys[T_LIST], keys[T_SET], keys[T_ZSET],
            (unsigned long long)payload_bytes);
    return 0;
}
