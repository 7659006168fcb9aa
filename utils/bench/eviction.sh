#!/bin/sh
# eviction.sh -- issue 5's benchmark: our server against Debian's redis-server 7.0, both
# held at maxmemory under allkeys-lru (tiering off), in the same run:
#   1. SET throughput at 50 clients (redis-benchmark, random keys over a keyspace several
#      times the budget, so every SET evicts), alternating rounds, best of ROUNDS;
#   2. the RAM hit rate of a Zipfian read mix (0.99, 90% GET) over the same keyspace:
#      keyspace_hits / (hits + misses) over the window, with tier-load.c.
# Usage: utils/bench/eviction.sh            (env: PORT MAXMEMORY_MB KEYS VALUE_SIZE SECS ROUNDS OURS)
# Servers are pinned to CPU 0 and the clients to CPU 1, as in bench.sh.
set -eu

PORT=${PORT:-16420}
MAXMEMORY_MB=${MAXMEMORY_MB:-64}
KEYS=${KEYS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-100}
SECS=${SECS:-10}
ROUNDS=${ROUNDS:-3}
OURS=${OURS:-src/valkey-server}
REF=$(command -v redis-server)
TMP=$(mktemp -d /tmp/evict-bench.XXXXXX)
trap 'redis-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT

gcc -std=gnu11 -O2 -o "$TMP/tier-load" utils/bench/tier-load.c -lm

start() { # binary
    taskset -c 0 "$1" --port "$PORT" --save '' --appendonly no --daemonize yes --dir "$TMP" \
        --logfile "$TMP/server.log" --maxmemory "${MAXMEMORY_MB}mb" --maxmemory-policy allkeys-lru >/dev/null
    until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.1; done
}
stop() {
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    while redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.1; done
}
stat() { redis-cli -p "$PORT" info stats | tr -d '\r' | awk -F: -v k="$1" '$1 == k {print $2}'; }

set_round() { # binary -> ops/s
    start "$1"
    # Fill past the budget first, so the measured window evicts on every write.
    taskset -c 1 redis-benchmark -p "$PORT" -t set -n $((KEYS / 2)) -r "$KEYS" -d "$VALUE_SIZE" -c 50 -P 16 -q >/dev/null
    ops=$(taskset -c 1 redis-benchmark -p "$PORT" -t set -n $((SECS * 60000)) -r "$KEYS" -d "$VALUE_SIZE" -c 50 -q |
        tr '\r' '\n' | awk '/SET:.*requests per second/ {print $2}' | tail -1)
    echo "$ops $(stat evicted_keys)"
    stop
}

hit_rate() { # binary -> ops/s hit-rate
    start "$1"
    "$TMP/tier-load" -p "$PORT" -m fill -n "$KEYS" -c 8 -P 32 -d "$VALUE_SIZE" >/dev/null
    "$TMP/tier-load" -p "$PORT" -m mix -n "$KEYS" -c 50 -s 2 -z 0.99 -R 90 -d "$VALUE_SIZE" >/dev/null
    h0=$(stat keyspace_hits); m0=$(stat keyspace_misses)
    out=$(taskset -c 1 "$TMP/tier-load" -p "$PORT" -m mix -n "$KEYS" -c 50 -s "$SECS" -z 0.99 -R 90 -d "$VALUE_SIZE")
    h1=$(stat keyspace_hits); m1=$(stat keyspace_misses)
    ops=$(echo "$out" | tr ' ' '\n' | awk -F= '$1 == "ops_per_sec" {print $2}')
    awk -v o="$ops" -v h=$((h1 - h0)) -v m=$((m1 - m0)) 'BEGIN {printf "%s %.4f\n", o, h / (h + m)}'
    stop
}

echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg); maxmemory ${MAXMEMORY_MB}mb allkeys-lru, $KEYS keys x $VALUE_SIZE B"
best_ours=0; best_ref=0
for r in $(seq "$ROUNDS"); do
    set -- $(set_round "$OURS"); ours=$1; ours_ev=$2
    set -- $(set_round "$REF"); ref=$1; ref_ev=$2
    echo "round $r: SET ops/s ours $ours (evicted $ours_ev), redis $ref (evicted $ref_ev)"
    best_ours=$(awk -v a="$best_ours" -v b="$ours" 'BEGIN {print (b > a) ? b : a}')
    best_ref=$(awk -v a="$best_ref" -v b="$ref" 'BEGIN {print (b > a) ? b : a}')
done
set -- $(hit_rate "$OURS"); z_ours=$1; h_ours=$2
set -- $(hit_rate "$REF"); z_ref=$1; h_ref=$2
echo
echo "| | ours | redis-server 7.0 | ratio |"
echo "|---|---|---|---|"
awk -v a="$best_ours" -v b="$best_ref" 'BEGIN {printf "| SET at maxmemory, 50 clients (best of rounds) | %.0f | %.0f | %.2f |\n", a, b, a / b}'
awk -v a="$z_ours" -v b="$z_ref" 'BEGIN {printf "| Zipf 0.99 mix ops/s | %.0f | %.0f | %.2f |\n", a, b, a / b}'
awk -v a="$h_ours" -v b="$h_ref" 'BEGIN {printf "| Zipf 0.99 hit rate | %.2f%% | %.2f%% | %+.2f points |\n", a * 100, b * 100, (a - b) * 100}'
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
