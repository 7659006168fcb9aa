#!/bin/sh
# Hot-path throughput of our valkey-server against Debian's redis-server, in one run.
#
# Each server in turn runs pinned to CPU 0 with redis-benchmark pinned to CPU 1, on the
# same port, with the same flags and 50 clients, plain and -P 16: SET, GET, INCR, MSET,
# then the collections: LPUSH, LPOP, HSET, SADD, ZADD, LRANGE_100 and ZRANGE (0..99 of a
# 100-member sorted set). Prints ops/s for both and the ratio ours/redis per line.
#   TESTS=strings utils/bench/bench.sh   only the string commands
#
#   utils/bench/bench.sh [requests] [port]
set -e
cd "$(dirname "$0")/../.."
REQUESTS=${1:-200000}
PORT=${2:-16399}
OURS=${OURS:-src/valkey-server}
REF=$(command -v redis-server || true)
[ -x "$OURS" ] || { echo "build first: make" >&2; exit 1; }
[ -n "$REF" ] || { echo "redis-server not installed (apt-get install redis-server)" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed (apt-get install redis-tools)" >&2; exit 1; }
PIN_SERVER="taskset -c 0"
PIN_CLIENT="taskset -c 1"
[ "$(nproc)" -ge 2 ] || { PIN_SERVER=""; PIN_CLIENT=""; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

run_server() { # binary label [extra args]
    bin=$1; label=$2; shift 2
    $PIN_SERVER "$bin" --port "$PORT" --daemonize no --bind 127.0.0.1 "$@" >"$TMP/$label.log" 2>&1 &
    echo $! >"$TMP/$label.pid"
    for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "$label did not start:" >&2; cat "$TMP/$label.log" >&2; exit 1
}

stop_server() {
    kill "$(cat "$TMP/$1.pid")" 2>/dev/null || true
    wait "$(cat "$TMP/$1.pid")" 2>/dev/null || true
}

TESTS=${TESTS:-all}

csv_to_lines() { # pipeline [name] -> "test_Pn ops" lines
    tr -d '"' | awk -F, -v p="$1" -v forced="$2" 'NR>1 {name = forced != "" ? forced : $1; sub(/ .*/, "", name); print name "_P" p, $2}'
}

bench() { # label pipeline -> "test ops" lines
    $PIN_CLIENT redis-benchmark -p "$PORT" -c 50 -n "$REQUESTS" -r 100000 -P "$2" -t set,get,incr,mset -q --csv |
        csv_to_lines "$2" >>"$TMP/$1.out"
    [ "$TESTS" = strings ] && return 0
    $PIN_CLIENT redis-benchmark -p "$PORT" -c 50 -n "$REQUESTS" -r 100000 -P "$2" \
        -t lpush,lpop,hset,sadd,zadd,lrange_100 -q --csv | csv_to_lines "$2" >>"$TMP/$1.out"
    redis-cli -p "$PORT" del bench:zset >/dev/null
    redis-cli -p "$PORT" zadd bench:zset $(seq 0 99 | awk '{printf "%d member:%d ", $1, $1}') >/dev/null
    $PIN_CLIENT redis-benchmark -p "$PORT" -c 50 -n "$REQUESTS" -P "$2" -q --csv zrange bench:zset 0 99 |
        csv_to_lines "$2" ZRANGE_100 >>"$TMP/$1.out"
}

# Rounds alternate the two servers and the best figure of each counts, so a burst of
# background load hurts neither side more than the other.
ROUNDS=${ROUNDS:-2}
for round in $(seq "$ROUNDS"); do
    for label in redis ours; do
        if [ $label = ours ]; then
            run_server "$OURS" ours --save ''
        else
            # No persistence for the reference either, so both do the same work.
            run_server "$REF" redis --save '' --appendonly no
        fi
        bench $label 1
        bench $label 16
        stop_server $label
    done
done

printf '%-14s %14s %14s %8s\n' test redis-server ours ratio
awk 'NR == FNR { if (!($1 in ref)) order[++n] = $1; if ($2 > ref[$1]) ref[$1] = $2; next }
     { if ($2 > ours[$1]) ours[$1] = $2 }
     END { for (i = 1; i <= n; i++) { t = order[i]; r = ref[t]; o = ours[t] + 0;
           printf "%-14s %14.0f %14.0f %8.2f\n", t, r, o, (r > 0 ? o / r : 0) } }' "$TMP/redis.out" "$TMP/ours.out"
