#!/bin/sh
# script-pubsub.sh -- issue 4's benchmark: our server against Debian's redis-server 7.0, in
# alternating rounds (best of ROUNDS), the server pinned to CPU 0 and redis-benchmark to
# CPU 1, 50 clients, plain and -P 16; every round's pair is printed, then the best of each:
#   EVALSHA   a script doing GET then INCR of one key;
#   PUBLISH   to a channel with 10 subscribers (connections that read and discard).
# Usage: utils/bench/script-pubsub.sh [requests] [port]      (env: ROUNDS OURS)
set -eu

REQUESTS=${1:-300000}
PORT=${2:-16430}
ROUNDS=${ROUNDS:-3}
OURS=${OURS:-src/valkey-server}
REF=$(command -v redis-server)
SUBSCRIBERS=10
SCRIPT="redis.call('GET', KEYS[1]); return redis.call('INCR', KEYS[1])"
TMP=$(mktemp -d /tmp/script-pubsub.XXXXXX)
SUB_PIDS=""
stop_subscribers() { # each subscriber runs in its own process group (sh, sleep, nc)
    for pid in $SUB_PIDS; do kill -- "-$pid" 2>/dev/null || true; done
    SUB_PIDS=""
}
trap 'stop_subscribers; redis-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT

start() {
    taskset -c 0 "$1" --port "$PORT" --save '' --appendonly no --daemonize yes --dir "$TMP" \
        --logfile "$TMP/server.log" >/dev/null
    until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.1; done
}
stop() {
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    while redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.1; done
}
rps() { tr '\r' '\n' | awk '/requests per second/ {v = $(NF - 5)} END {print v}'; }

run_round() { # binary -> "evalsha_p1 evalsha_p16 publish_p1 publish_p16"
    start "$1"
    sha=$(redis-cli -p "$PORT" script load "$SCRIPT")
    e1=$(taskset -c 1 redis-benchmark -p "$PORT" -n "$REQUESTS" -c 50 -q evalsha "$sha" 1 counter | rps)
    e16=$(taskset -c 1 redis-benchmark -p "$PORT" -n "$REQUESTS" -c 50 -P 16 -q evalsha "$sha" 1 counter | rps)
    for s in $(seq "$SUBSCRIBERS"); do
        setsid sh -c "(printf 'SUBSCRIBE news\r\n'; sleep 3600) | nc -q -1 127.0.0.1 $PORT" </dev/null >/dev/null 2>&1 &
        SUB_PIDS="$SUB_PIDS $!"
    done
    until [ "$(redis-cli -p "$PORT" pubsub numsub news | tail -1)" = "$SUBSCRIBERS" ]; do sleep 0.1; done
    p1=$(taskset -c 1 redis-benchmark -p "$PORT" -n "$REQUESTS" -c 50 -q publish news hello-subscribers | rps)
    p16=$(taskset -c 1 redis-benchmark -p "$PORT" -n "$REQUESTS" -c 50 -P 16 -q publish news hello-subscribers | rps)
    stop_subscribers
    stop
    echo "$e1 $e16 $p1 $p16"
}

best() { awk -v a="$1" -v b="$2" 'BEGIN {print (b > a) ? b : a}'; }

echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
o1=0; o2=0; o3=0; o4=0; r1=0; r2=0; r3=0; r4=0
for r in $(seq "$ROUNDS"); do
    ours=$(run_round "$OURS")
    set -- $ours; o1=$(best $o1 $1); o2=$(best $o2 $2); o3=$(best $o3 $3); o4=$(best $o4 $4)
    ref=$(run_round "$REF")
    set -- $ref; r1=$(best $r1 $1); r2=$(best $r2 $2); r3=$(best $r3 $3); r4=$(best $r4 $4)
    echo "round $r (ours / redis-server, req/s): $(echo "$ours $ref" | awk '{printf "EVALSHA_P1 %.0f/%.0f  EVALSHA_P16 %.0f/%.0f  PUBLISH_P1 %.0f/%.0f  PUBLISH_P16 %.0f/%.0f", $1, $5, $2, $6, $3, $7, $4, $8}')"
done
echo "best of $ROUNDS rounds:"
printf '%-22s %14s %14s %8s\n' test redis-server ours ratio
line() { awk -v n="$1" -v r="$2" -v o="$3" 'BEGIN {printf "%-22s %14.0f %14.0f %8.2f\n", n, r, o, o / r}'; }
line EVALSHA_P1 "$r1" "$o1"
line EVALSHA_P16 "$r2" "$o2"
line PUBLISH_10SUBS_P1 "$r3" "$o3"
line PUBLISH_10SUBS_P16 "$r4" "$o4"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
