#!/bin/sh
# Random 4 KiB O_DIRECT read IOPS of the flash tier's I/O engine (src/tier/io_engine.c),
# both back-ends, against fio's io_uring engine at the same queue depth, on one file.
#
# The engine side is a small C driver (written to a temp dir and compiled against the
# engine and zmalloc) that behaves like the server: requests are topped up from the
# completion callbacks, one ioEngineSubmit() per loop turn, and the loop sleeps on the
# engine's eventfd. fio runs one job with --direct=1 --ioengine=io_uring, twice: with its
# default trickle of 1-4 requests per submit, and in waves of the whole depth. A closed
# loop that refills once per turn falls into waves (the block layer plugs a big batch
# into one device kick, so it completes together and is resubmitted together), so the
# second figure is the like-for-like one; a server's reads arrive unsynchronised.
#
#   utils/bench/fio-compare.sh [queue-depth] [seconds] [file-MiB]
#   FILE=/path/on/nvme/testfile utils/bench/fio-compare.sh 32 5 2048
#
# The file (default /tmp/io-engine-bench.dat) is written with real data first, since
# reading unwritten extents never reaches the device; it is removed at the end unless
# FILE was given.
set -e
cd "$(dirname "$0")/../.."
QD=${1:-32}
SECS=${2:-5}
SIZE_MB=${3:-1024}
KEEP=${FILE:+1}
FILE=${FILE:-/tmp/io-engine-bench.dat}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; [ -n "$KEEP" ] || rm -f "$FILE"' EXIT

cat >"$TMP/driver.c" <<'EOF'
/* Keeps `depth` random 4 KiB reads in flight for `seconds`; prints IOPS. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tier/io_engine.h"

#define BLOCK 4096

static ioEngine *engine;
static int fd, stopping;
static unsigned long long blocks, completed, errors, rng = 88172645463325252ull;

static off_t randomOffset(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (off_t)(rng % blocks) * BLOCK;
}

static void readDone(void *buf, ssize_t result) {
    if (result != BLOCK) errors++;
    completed++;
    if (!stopping) ioEngineRead(engine, fd, buf, BLOCK, randomOffset(), readDone, buf);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) return 2;
    ioEngineKind kind = strcmp(argv[1], "threads") ? IO_ENGINE_URING : IO_ENGINE_THREADS;
    unsigned depth = (unsigned)atoi(argv[3]);
    double seconds = atof(argv[4]);
    const char *err;
    if (!(engine = ioEngineCreate(kind, depth, &err))) {
        fprintf(stderr, "%s: %s\n", argv[1], err);
        return 1;
    }
    if ((fd = open(argv[2], O_RDONLY | O_DIRECT)) < 0) {
        perror(argv[2]);
        return 1;
    }
    blocks = (unsigned long long)lseek(fd, 0, SEEK_END) / BLOCK;
    char *bufs = ioEngineAllocBuffer((size_t)depth * BLOCK);
    for (unsigned i = 0; i < depth; i++) readDone(bufs + (size_t)i * BLOCK, BLOCK);
    completed = errors = 0;
    struct pollfd pfd = {.fd = ioEngineEventFd(engine), .events = POLLIN};
    double start = now(), end = start + seconds;
    while (now() < end) {
        ioEngineSubmit(engine);
        poll(&pfd, 1, 100);
        ioEngineProcessCompletions(engine);
    }
    double elapsed = now() - start;
    stopping = 1;
    ioEngineDrain(engine);
    printf("%.0f %llu\n", completed / elapsed, errors);
    ioEngineRelease(engine);
    ioEngineFreeBuffer(bufs);
    return 0;
}
EOF
gcc -std=gnu11 -O2 -Isrc -o "$TMP/driver" "$TMP/driver.c" src/tier/io_engine.c src/zmalloc.c \
    $(pkg-config --cflags --libs liburing) -lpthread

if [ ! -f "$FILE" ] || [ "$(stat -c %s "$FILE")" -lt $((SIZE_MB * 1048576)) ]; then
    echo "writing $SIZE_MB MiB to $FILE ..."
    dd if=/dev/urandom of="$FILE" bs=1M count="$SIZE_MB" oflag=direct status=none
fi

echo "random 4 KiB reads, O_DIRECT, queue depth $QD, ${SECS}s, $FILE ($SIZE_MB MiB)"
for engine in io_uring threads; do
    set -- $("$TMP/driver" "$engine" "$FILE" "$QD" "$SECS")
    printf '  %-22s %10s IOPS%s\n' "engine $engine" "$1" "$([ "$2" = 0 ] || echo " ($2 errors)")"
done

run_fio() { # label [extra fio options]
    label=$1; shift
    fio --name=randread --filename="$FILE" --rw=randread --bs=4k --direct=1 --ioengine=io_uring \
        --iodepth="$QD" --runtime="$SECS" --time_based --size="${SIZE_MB}M" --output-format=terse \
        --terse-version=3 "$@" >"$TMP/fio.out"
    # Terse v3: field 8 is the read IOPS.
    printf '  %-22s %10s IOPS\n' "$label" "$(cut -d';' -f8 "$TMP/fio.out")"
}
if command -v fio >/dev/null; then
    run_fio "fio io_uring"
    run_fio "fio io_uring, waves" --iodepth_batch_submit="$QD" --iodepth_batch_complete_min="$QD"
else
    echo "  fio not installed (apt-get install fio): no reference figure"
fi
