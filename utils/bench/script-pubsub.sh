#!/bin/sh
# script-pubsub.sh -- issue 4's benchmark: our server against Debian's redis-server 7.0.
#   EVALSHA   a script doing GET then INCR of one key;
#   PUBLISH   to a channel with 10 subscribers (connections that read and discard);
# each from 50 clients, plain and -P 16.
#
# Both servers run at once, pinned to CPU 0 (the idle one sleeps), with their own 10
# subscribers; redis-benchmark and the subscribers, the load side, run pinned to CPU 1
# (SUBSCRIBER_CPU=any leaves the subscribers unpinned: they then share CPU 0 with the
# server under test as the scheduler places them, and the figures measure that placement
# as much as the server). For each test the two are measured in
# alternating bursts (ours, then redis-server, ROUNDS times), so that each pair is a few
# seconds apart: this host's speed drifts by 10-20% over tens of seconds, which made
# rounds a whole server restart apart disagree. Printed: every pair, then per test the
# best burst of each and the median of the pairs' ratios.
# Usage: utils/bench/script-pubsub.sh [requests per burst] [port]
#        (env: ROUNDS OURS SUBSCRIBER_CPU)
set -eu

REQUESTS=${1:-200000}
PORT=${2:-16430}
REF_PORT=$((PORT + 1))
ROUNDS=${ROUNDS:-5}
OURS=${OURS:-src/valkey-server}
REF=$(command -v redis-server)
SUBSCRIBERS=10
SUBSCRIBER_CPU=${SUBSCRIBER_CPU:-1}
CLIENTS=50
SCRIPT="redis.call('GET', KEYS[1]); return redis.call('INCR', KEYS[1])"
TMP=$(mktemp -d /tmp/script-pubsub.XXXXXX)
SUB_PIDS=""

stop_subscribers() { # each subscriber runs in its own process group (sh, sleep, nc)
    for pid in $SUB_PIDS; do kill -- "-$pid" 2>/dev/null || true; done
    SUB_PIDS=""
}
stop() {
    redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true
    while redis-cli -p "$1" ping >/dev/null 2>&1; do sleep 0.1; done
}
trap 'stop_subscribers; stop $PORT; stop $REF_PORT; rm -rf "$TMP"' EXIT

start() { # binary port
    mkdir -p "$TMP/$2"
    taskset -c 0 "$1" --port "$2" --save '' --appendonly no --daemonize yes --dir "$TMP/$2" \
        --logfile "$TMP/$2/server.log" >/dev/null
    until redis-cli -p "$2" ping 2>/dev/null | grep -q PONG; do sleep 0.1; done
}
subscribe() { # port
    for s in $(seq "$SUBSCRIBERS"); do
        if [ "$SUBSCRIBER_CPU" = any ]; then pin=""; else pin="taskset -c $SUBSCRIBER_CPU"; fi
        setsid $pin sh -c "(printf 'SUBSCRIBE news\r\n'; sleep 3600) | nc -q -1 127.0.0.1 $1" </dev/null >/dev/null 2>&1 &
        SUB_PIDS="$SUB_PIDS $!"
    done
    until [ "$(redis-cli -p "$1" pubsub numsub news | tail -1)" = "$SUBSCRIBERS" ]; do sleep 0.1; done
}
rps() { tr '\r' '\n' | awk '/requests per second/ {v = $(NF - 5)} END {print v}'; }
burst() { # port pipeline command... -> requests per second
    port=$1 pipeline=$2
    shift 2
    taskset -c 1 redis-benchmark -p "$port" -n "$REQUESTS" -c "$CLIENTS" -P "$pipeline" -q "$@" | rps
}

start "$OURS" "$PORT"
start "$REF" "$REF_PORT"
subscribe "$PORT"
subscribe "$REF_PORT"
sha=$(redis-cli -p "$PORT" script load "$SCRIPT")
[ "$(redis-cli -p "$REF_PORT" script load "$SCRIPT")" = "$sha" ]

echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg); subscribers on CPU $SUBSCRIBER_CPU"
SUMMARY=""
measure() { # name pipeline command...
    name=$1
    shift
    pairs=""
    for r in $(seq "$ROUNDS"); do
        o=$(burst "$PORT" "$@")
        f=$(burst "$REF_PORT" "$@")
        pairs="$pairs $o $f"
    done
    echo "$name (ours/redis-server, req/s):$(echo "$pairs" | awk '{for (i = 1; i < NF; i += 2) printf " %.0f/%.0f", $i, $(i + 1)}')"
    SUMMARY="$SUMMARY$(echo "$pairs" | awk -v n="$name" '{
        bo = 0; br = 0; k = 0
        for (i = 1; i < NF; i += 2) {
            if ($i > bo) bo = $i
            if ($(i + 1) > br) br = $(i + 1)
            ratio[++k] = $i / $(i + 1)
        }
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (ratio[j] < ratio[i]) { t = ratio[i]; ratio[i] = ratio[j]; ratio[j] = t }
        med = (k % 2) ? ratio[(k + 1) / 2] : (ratio[k / 2] + ratio[k / 2 + 1]) / 2
        printf "%-22s %14.0f %14.0f %10.2f %13.2f\n", n, br, bo, bo / br, med
    }')
"
}
measure EVALSHA_P1 1 evalsha "$sha" 1 counter
measure EVALSHA_P16 16 evalsha "$sha" 1 counter
measure PUBLISH_10SUBS_P1 1 publish news hello-subscribers
measure PUBLISH_10SUBS_P16 16 publish news hello-subscribers
printf '%-22s %14s %14s %10s %13s\n' test "redis-server" ours "best ratio" "median ratio"
printf '%s' "$SUMMARY"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
