#!/bin/bash
# Save and load times of our valkey-server against Debian's redis-server 7.0, in one run
# (issue 6). Each server in turn, alone on the machine:
#
#   1. is filled by persist-gen (the same deterministic mix of strings, hashes, lists,
#      sets and sorted sets for both) through redis-cli --pipe;
#   2. SAVE, timed (best of SAVE_ROUNDS, default 3, each after a sync); the RDB size;
#   3. BGSAVE on an idle server, timed until rdb_bgsave_in_progress drops to 0 (best of
#      SAVE_ROUNDS too);
#   4. BGSAVE again under a write load (redis-benchmark SET overwriting the string keys):
#      its time, the writes served meanwhile, the peak of parent RSS + the child's private
#      memory (copy-on-write), and rdb_last_cow_size;
#   5. restart on the file: time until PING answers with loading:0, and the load time the
#      server logs ("DB loaded from disk: N seconds").
#
# Then a table of both, with ratios ours/redis (below 1.00 is better for times, sizes and
# memory; above 1.00 for writes/s).
#
#   utils/bench/persistence.sh [size-MB]     (default 2048; SIZE_MB works too)
#
# The size is the payload (keys, fields and values) the generator sends; it is lowered,
# with a note, when MemAvailable or the free disk in WORKDIR cannot hold it (about 3x
# in memory for the dataset and its copy-on-write, 2.5x on disk for the file and its
# temporary copy). Other knobs: PORT (16420), WORKDIR (/var/tmp), SEED (1), OURS
# (src/valkey-server), WRITE_CLIENTS (16), WRITE_VALUE (500 bytes).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MB=${1:-${SIZE_MB:-2048}}
PORT=${PORT:-16420}
WORKDIR=${WORKDIR:-/var/tmp}
SEED=${SEED:-1}
SAVE_ROUNDS=${SAVE_ROUNDS:-3}
OURS=${OURS:-src/valkey-server}
REF=$(command -v redis-server || true)
WRITE_CLIENTS=${WRITE_CLIENTS:-16}
WRITE_VALUE=${WRITE_VALUE:-500}

[ -x "$OURS" ] || { echo "build first: make" >&2; exit 1; }
[ -n "$REF" ] || { echo "redis-server not installed (apt-get install redis-server)" >&2; exit 1; }
for tool in redis-cli redis-benchmark gcc; do
    command -v $tool >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
redis-cli -p "$PORT" ping >/dev/null 2>&1 && { echo "port $PORT is in use" >&2; exit 1; }

TMP=$(mktemp -d "$WORKDIR/persistence-bench.XXXXXX")
SERVER_PID=""
BENCH_PID=""
cleanup() {
    [ -n "$BENCH_PID" ] && kill "$BENCH_PID" 2>/dev/null
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# --- How big the machine lets the dataset be ---
mem_avail_mb=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
disk_avail_mb=$(df -Pm "$TMP" | awk 'NR == 2 {print $4}')
max_by_mem=$((mem_avail_mb / 3))
max_by_disk=$((disk_avail_mb * 2 / 5))
requested=$SIZE_MB
[ "$SIZE_MB" -gt "$max_by_mem" ] && SIZE_MB=$max_by_mem
[ "$SIZE_MB" -gt "$max_by_disk" ] && SIZE_MB=$max_by_disk
if [ "$SIZE_MB" -lt "$requested" ]; then
    echo "note: $requested MB asked, $SIZE_MB MB used (MemAvailable $mem_avail_mb MB, $disk_avail_mb MB free in $WORKDIR)"
fi
[ "$SIZE_MB" -ge 16 ] || { echo "not enough memory or disk for a meaningful run" >&2; exit 1; }

GEN=$TMP/persist-gen
gcc -O2 -o "$GEN" utils/bench/persist-gen.c

now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN {printf "%.2f", ms / 1000}'; }
cli() { redis-cli -p "$PORT" "$@"; }
info_field() { cli info "$1" | tr -d '\r' | awk -F: -v f="$2" '$1 == f {print $2}'; }

start_server() { # binary dir
    "$1" --port "$PORT" --bind 127.0.0.1 --dir "$2" --save "" --appendonly no \
        --logfile "$2/server.log" --daemonize no >/dev/null 2>&1 &
    SERVER_PID=$!
}

# Until PING answers and the load is over.
wait_ready() {
    for _ in $(seq 6000); do
        if [ "$(cli ping 2>/dev/null)" = PONG ] && [ "$(info_field persistence loading)" = 0 ]; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited:" >&2; tail "$dir/server.log" >&2; exit 1; }
        sleep 0.02
    done
    echo "the server did not become ready" >&2
    exit 1
}

stop_server() {
    cli shutdown nosave >/dev/null 2>&1 || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

wait_bgsave() {
    while [ "$(info_field persistence rdb_bgsave_in_progress)" != 0 ]; do sleep 0.02; done
}

# Parent RSS plus the private pages of its children (the saving child's copies), in kB.
memory_kb() {
    local kb children child
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
    children=$(cat "/proc/$SERVER_PID/task/$SERVER_PID/children" 2>/dev/null || pgrep -P "$SERVER_PID" || true)
    for child in $children; do
        kb=$((kb + $(awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s + 0}' "/proc/$child/smaps_rollup" 2>/dev/null || echo 0)))
    done
    echo "$kb"
}

declare -A R # R[label,metric]

run() { # label binary
    local label=$1 bin=$2 t0 out
    dir=$TMP/$label
    mkdir -p "$dir"
    echo "== $label: $bin"
    start_server "$bin" "$dir"
    wait_ready

    t0=$(now_ms)
    out=$("$GEN" -s "$SIZE_MB" -S "$SEED" 2>"$TMP/gen.txt" | cli --pipe)
    R[$label,fill]=$(( $(now_ms) - t0 ))
    echo "$out" | grep -q "errors: 0," || { echo "errors while filling: $out" >&2; exit 1; }
    R[$label,keys]=$(cli dbsize)
    R[$label,used_memory]=$(info_field memory used_memory)
    echo "   filled: ${R[$label,keys]} keys ($(cat "$TMP/gen.txt")) in $(secs "${R[$label,fill]}") s"

    # The disk's write-back decides much of a save's time (rdb-save-incremental-fsync
    # syncs every 32 MB), and it varies from one minute to the next on a shared machine:
    # each save is timed SAVE_ROUNDS times, after a sync, and the best counts.
    local round ms
    for round in $(seq "$SAVE_ROUNDS"); do
        sync
        t0=$(now_ms)
        [ "$(cli save)" = OK ] || { echo "SAVE failed" >&2; exit 1; }
        ms=$(( $(now_ms) - t0 ))
        [ -z "${R[$label,save]:-}" ] || [ "$ms" -lt "${R[$label,save]}" ] && R[$label,save]=$ms
    done
    R[$label,rdb_size]=$(stat -c %s "$dir/dump.rdb")

    for round in $(seq "$SAVE_ROUNDS"); do
        sync
        t0=$(now_ms)
        cli bgsave >/dev/null
        wait_bgsave
        ms=$(( $(now_ms) - t0 ))
        [ -z "${R[$label,bgsave]:-}" ] || [ "$ms" -lt "${R[$label,bgsave]}" ] && R[$label,bgsave]=$ms
        [ "$(info_field persistence rdb_last_bgsave_status)" = ok ] || { echo "BGSAVE failed" >&2; exit 1; }
    done

    local strings
    strings=$(sed -n 's/.*strings=\([0-9]*\).*/\1/p' "$TMP/gen.txt")
    redis-benchmark -p "$PORT" -t set -r "$strings" -d "$WRITE_VALUE" -c "$WRITE_CLIENTS" -P 16 \
        -n 2000000000 -q >/dev/null 2>&1 &
    BENCH_PID=$!
    sleep 1
    local cmds0 peak=0 kb
    cmds0=$(info_field stats total_commands_processed)
    t0=$(now_ms)
    cli bgsave >/dev/null
    while [ "$(info_field persistence rdb_bgsave_in_progress)" != 0 ]; do
        kb=$(memory_kb)
        [ "$kb" -gt "$peak" ] && peak=$kb
        sleep 0.05
    done
    R[$label,bgsave_load]=$(( $(now_ms) - t0 ))
    R[$label,writes]=$(( ($(info_field stats total_commands_processed) - cmds0) * 1000 / (R[$label,bgsave_load] + 1) ))
    kill "$BENCH_PID" 2>/dev/null; wait "$BENCH_PID" 2>/dev/null || true
    BENCH_PID=""
    R[$label,peak_kb]=$peak
    R[$label,cow]=$(info_field persistence rdb_last_cow_size)
    [ "$(info_field persistence rdb_last_bgsave_status)" = ok ] || { echo "BGSAVE under load failed" >&2; exit 1; }
    stop_server

    t0=$(now_ms)
    start_server "$bin" "$dir"
    wait_ready
    R[$label,load_wall]=$(( $(now_ms) - t0 ))
    R[$label,load_log]=$(sed -n 's/.*DB loaded from disk: \([0-9.]*\) seconds.*/\1/p' "$dir/server.log" | tail -1)
    R[$label,keys_loaded]=$(cli dbsize)
    stop_server
    rm -rf "$dir"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run ours "$OURS"
run redis "$REF"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mb() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 == 0) print "-"; else printf "%.2f", a / b}'; }
row() { # name ours redis [raw ours] [raw redis]
    printf "%-36s %12s %12s %8s\n" "$1" "$2" "$3" "$(ratio "${4:-$2}" "${5:-$3}")"
}

echo
echo "Persistence benchmark: $SIZE_MB MB payload, seed $SEED, $(nproc) CPUs, load average $load_before at the start, $load_after at the end"
printf "%-36s %12s %12s %8s\n" "" ours redis-7.0 ours/redis
row "fill through redis-cli --pipe (s)" "$(secs "${R[ours,fill]}")" "$(secs "${R[redis,fill]}")"
row "keys" "${R[ours,keys]}" "${R[redis,keys]}"
row "used_memory after fill (MB)" "$(mb "${R[ours,used_memory]}")" "$(mb "${R[redis,used_memory]}")"
row "SAVE (s)" "$(secs "${R[ours,save]}")" "$(secs "${R[redis,save]}")"
row "RDB size (MB)" "$(mb "${R[ours,rdb_size]}")" "$(mb "${R[redis,rdb_size]}")" "${R[ours,rdb_size]}" "${R[redis,rdb_size]}"
row "BGSAVE, idle (s)" "$(secs "${R[ours,bgsave]}")" "$(secs "${R[redis,bgsave]}")"
row "BGSAVE under writes (s)" "$(secs "${R[ours,bgsave_load]}")" "$(secs "${R[redis,bgsave_load]}")"
row "  writes/s served meanwhile" "${R[ours,writes]}" "${R[redis,writes]}"
row "  peak RSS + child private (MB)" "$(mb $((R[ours,peak_kb] * 1024)))" "$(mb $((R[redis,peak_kb] * 1024)))"
row "  rdb_last_cow_size (MB)" "$(mb "${R[ours,cow]}")" "$(mb "${R[redis,cow]}")" "${R[ours,cow]}" "${R[redis,cow]}"
row "restart until ready (s)" "$(secs "${R[ours,load_wall]}")" "$(secs "${R[redis,load_wall]}")"
row "load time in the log (s)" "${R[ours,load_log]:-?}" "${R[redis,load_log]:-?}"
row "keys after the restart" "${R[ours,keys_loaded]}" "${R[redis,keys_loaded]}"
