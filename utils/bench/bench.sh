#!/bin/sh
# Hot-path throughput of our valkey-server against Debian's redis-server, in one run.
#
# Each server in turn runs pinned to CPU 0 with redis-benchmark pinned to CPU 1, on the
# same port, with the same flags: SET, GET, INCR, MSET with 50 clients, plain and -P 16.
# Prints ops/s for both and the ratio ours/redis per line.
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

bench() { # label pipeline -> "test ops" lines
    $PIN_CLIENT redis-benchmark -p "$PORT" -c 50 -n "$REQUESTS" -r 100000 -P "$2" -t set,get,incr,mset -q --csv |
        tr -d '"' | awk -F, -v p="$2" 'NR>1 {name = $1; sub(/ .*/, "", name); print name "_P" p, $2}' >>"$TMP/$1.out"
}

for label in redis ours; do
    if [ $label = ours ]; then
        run_server "$OURS" ours
    else
        # No persistence for the reference either, so both do the same work.
        run_server "$REF" redis --save '' --appendonly no
    fi
    bench $label 1
    bench $label 16
    stop_server $label
done

printf '%-14s %14s %14s %8s\n' test redis-server ours ratio
awk 'NR == FNR { ref[$1] = $2; order[++n] = $1; next } { ours[$1] = $2 }
     END { for (i = 1; i <= n; i++) { t = order[i]; r = ref[t]; o = ours[t] + 0;
           printf "%-14s %14.0f %14.0f %8.2f\n", t, r, o, (r > 0 ? o / r : 0) } }' "$TMP/redis.out" "$TMP/ours.out"
