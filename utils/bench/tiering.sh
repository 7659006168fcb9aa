#!/bin/sh
# The tiering benchmarks in one run, written up as a Markdown report with latency plots.
#
# One server with tiering on holds a dataset SCALE times maxmemory: 1 KiB incompressible
# values under 16-byte keys (key:%012d, redis-benchmark's -r names). In order:
#   fill       every key SET once: demotions/s while writing, flash bytes written per
#              byte demoted
#   memory     every value demoted (FLASH.DEBUG.DEMOTE): used_memory per cold key, less
#              the store's fixed buffers (mem_not_counted_for_evict)
#   cold       uniform random GETs, CLIENTS connections with one request in flight each;
#              alternating with fio --rw=randread --bs=4k --direct=1 --ioengine=io_uring
#              --iodepth=CLIENTS over the part of the server's own flash file it wrote, for
#              ROUNDS rounds: best ops/s over best IOPS. redis-benchmark cross-checks the
#              load generator.
#   zipf       a Zipfian (0.99) mix, 90% GET / 10% SET: ops/s and the RAM hit rate
#   overwrite  uniform SETs over the existing keys: sustained demotion, compaction on
# Then hot reads (HOT_KEYS keys, all in RAM), plain and -P 16: our server with tiering on,
# the same with tiering off, and Debian's redis-server 7.0, in alternating rounds, best
# of ROUNDS (a burst of other load then hurts no side more than another).
#
# The servers run pinned to CPU 0 and the load generator (utils/bench/tier-load.c, built
# here with gcc) to CPU 1, as in bench.sh; fio runs on CPU 0 while the server is idle.
#
#   utils/bench/tiering.sh [report.md]
#   PORT=16410 MAXMEMORY_MB=64 SCALE=10 CLIENTS=64 SECS=10 ROUNDS=3 FLASH_DIR=/var/tmp \
#       utils/bench/tiering.sh
#
# FLASH_DIR must be on the device to measure (not tmpfs: O_DIRECT). The report goes to
# utils/bench/results/tiering-<date>.md (not committed), its plots next to it.
# Needs: gcc, redis-server and redis-tools, fio, gnuplot, python3 (sh utils/setup.sh --bench).
set -e
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PORT=${PORT:-16410}
MAXMEMORY_MB=${MAXMEMORY_MB:-64}
SCALE=${SCALE:-10}
VALUE_SIZE=${VALUE_SIZE:-1024}
CLIENTS=${CLIENTS:-64}
SECS=${SECS:-10}
WARMUP=${WARMUP:-3}
HOT_KEYS=${HOT_KEYS:-100000}
HOT_SECS=${HOT_SECS:-5}
ROUNDS=${ROUNDS:-3}
FLASH_DIR=${FLASH_DIR:-/var/tmp}
STAMP=$(date +%Y-%m-%d-%H%M)
OUT=${1:-utils/bench/results/tiering-$STAMP.md}
OURS=${OURS:-src/valkey-server}
REF=$(command -v redis-server || true)

need() { command -v "$1" >/dev/null || { echo "tiering.sh: $1 not found (sh utils/setup.sh --bench)" >&2; exit 1; }; }
[ -x "$OURS" ] || { echo "tiering.sh: build first: make" >&2; exit 1; }
for tool in gcc redis-cli redis-benchmark fio gnuplot python3 taskset; do need $tool; done
[ -n "$REF" ] || { echo "tiering.sh: redis-server not found (sh utils/setup.sh)" >&2; exit 1; }

KEYS=$((MAXMEMORY_MB * 1048576 * SCALE / VALUE_SIZE))
DATA_MB=$((KEYS * VALUE_SIZE / 1048576))
CAPACITY_MB=${CAPACITY_MB:-$((DATA_MB * 4))}
PIN_SERVER="taskset -c 0"
PIN_CLIENT="taskset -c 1"
[ "$(nproc)" -ge 2 ] || { PIN_SERVER=""; PIN_CLIENT=""; }

mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
BASE=${OUT%.md}
TMP=$(mktemp -d)
FLASH=$(mktemp -d "$FLASH_DIR/valkey-tiering.XXXXXX")
SERVER_PID=""
SAMPLER_PID=""
cleanup() {
    [ -z "$SAMPLER_PID" ] || kill "$SAMPLER_PID" 2>/dev/null || true
    [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
    [ -z "$SERVER_PID" ] || wait "$SERVER_PID" 2>/dev/null || true
    rm -rf "$TMP" "$FLASH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

avail_mb=$(df -Pm "$FLASH" | awk 'NR == 2 {print $4}')
[ "$avail_mb" -gt $((CAPACITY_MB + 256)) ] ||
    { echo "tiering.sh: $FLASH_DIR has $avail_mb MiB free, the flash file needs $CAPACITY_MB" >&2; exit 1; }

# A copy of the binary: a rebuild during the run changes nothing, and perf can resolve it.
OURS_DATE=$(date -r "$OURS" '+%Y-%m-%d %H:%M:%S')
cp "$OURS" "$TMP/valkey-server"
OURS_BIN=$TMP/valkey-server
gcc -std=gnu11 -O2 -Wall -Wextra -o "$TMP/tier-load" utils/bench/tier-load.c -lm
LOAD="$PIN_CLIENT $TMP/tier-load -p $PORT -d $VALUE_SIZE"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
calc() { awk "BEGIN { printf $* }"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
mark() { echo "$(date +%s.%N) $1" >>"$TMP/phases"; } # a phase starts: for the timeline plot

# ---- servers and INFO -------------------------------------------------------

start_server() { # label binary [args]
    slabel=$1 bin=$2
    shift 2
    $PIN_SERVER "$bin" --port "$PORT" --bind 127.0.0.1 --daemonize no --save '' --appendonly no "$@" \
        >"$TMP/$slabel.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        redis-cli -p "$PORT" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "tiering.sh: $slabel did not start:" >&2
    cat "$TMP/$slabel.log" >&2
    exit 1
}

stop_server() {
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

snap() { redis-cli -p "$PORT" info all | tr -d '\r' >"$TMP/$1.info"; } # name
field() { awk -F: -v k="$2" '$1 == k {print $2; found = 1; exit} END {if (!found) print 0}' "$TMP/$1.info"; }
delta() { echo $(($(field "$2" "$3") - $(field "$1" "$3"))); } # before after field
live() { redis-cli -p "$PORT" info all | tr -d '\r' | awk -F: -v k="$1" '$1 == k {print $2}'; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
HZ=$(getconf CLK_TCK)

wait_demotions_landed() {
    for _ in $(seq 600); do
        [ "$(live flash_demotions_in_flight)" = 0 ] && return 0
        sleep 0.1
    done
}

# Runs tier-load; its name=value line lands in $TMP/<name>.out. Prints the line.
run_load() { # name tier-load-args...
    name=$1
    shift
    $LOAD "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || { cat "$TMP/$name.err" >&2; exit 1; }
    cat "$TMP/$name.out"
}
get() { tr ' ' '\n' <"$TMP/$1.out" | awk -F= -v k="$2" '$1 == k {print $2}'; } # name key

# One measured window between INFO snapshots: <name>.before / <name>.after, CPU use.
measure() { # name tier-load-args...
    name=$1
    snap "$name.before"
    t0=$(cpu_ticks)
    mark "$name"
    run_load "$@" >/dev/null
    t1=$(cpu_ticks)
    snap "$name.after"
    secs=$(get "$name" seconds)
    calc "\"%.0f\", ($t1 - $t0) * 100 / $HZ / $secs" >"$TMP/$name.cpu"
    # Server CPU per operation does not depend on how much CPU other work left the server.
    calc "\"%.1f\", ($t1 - $t0) * 1000000 / $HZ / ($(get "$name" ops) + 1)" >"$TMP/$name.us"
    loadavg >"$TMP/$name.load"
}

# Every half second, the counters the timeline plot shows (absolute time first).
sampler() {
    while :; do
        now=$(date +%s.%N)
        redis-cli -p "$PORT" info all 2>/dev/null | tr -d '\r' | awk -F: -v t="$now" '
            $1 == "flash_demotions" {d = $2} $1 == "flash_promotions" {p = $2}
            $1 == "flash_bytes_written" {w = $2} $1 == "used_memory" {m = $2}
            END {if (d != "") print t, d, p, w, m}'
        sleep 0.5
    done
}

LOAD_START=$(loadavg)
log "dataset: $KEYS keys x $VALUE_SIZE B = $DATA_MB MiB over maxmemory ${MAXMEMORY_MB}mb; flash in $FLASH"

# ---- 1. the big dataset ------------------------------------------------------

start_server tiering "$OURS_BIN" --maxmemory "${MAXMEMORY_MB}mb" --maxmemory-policy allkeys-lru \
    --flash-path "$FLASH/flash.bin" --flash-capacity "${CAPACITY_MB}mb"
IO_ENGINE=$(live flash_io_engine)
DIRECT_IO=$(live flash_direct_io)
snap empty
: >"$TMP/phases"
sampler >"$TMP/samples" &
SAMPLER_PID=$!

log "fill: $KEYS SETs"
mark fill
snap fill.before
run_load fill -m fill -n "$KEYS" -c 8 -P 32 >/dev/null
FILL_END=$(date +%s.%N)
wait_demotions_landed
snap fill.after

log "memory: demote every value"
mark demote-all
run_load demote -m demote -n "$KEYS" -c 4 -P 64 >/dev/null
wait_demotions_landed
snap memory

# The disk's speed and the host's moods vary by 10% from one 10 s window to the next, so
# cold reads and fio alternate for ROUNDS rounds and the best of each is compared, as the
# hot reads are; every round's pair is in the report.
log "cold reads against fio: uniform GETs, $CLIENTS clients, fio at iodepth $CLIENTS, ${SECS}s each, $ROUNDS rounds"
mark "cold warm-up"
run_load cold.warm -m mix -n "$KEYS" -c "$CLIENTS" -s "$WARMUP" >/dev/null
FIO_MB=$(($(live flash_used_bytes) / 1048576))
FIO_CMD="fio --name=randread --filename=$FLASH/flash.bin --readonly --rw=randread --bs=4k --direct=1 \
--ioengine=io_uring --iodepth=$CLIENTS --size=${FIO_MB}M --runtime=$SECS --time_based"
for round in $(seq "$ROUNDS"); do
    measure "cold-r$round" -m mix -n "$KEYS" -c "$CLIENTS" -s "$SECS" -L "$TMP/cold-r$round.cdf"
    mark "fio r$round"
    $PIN_SERVER $FIO_CMD --percentile_list=1:5:10:20:30:40:50:60:70:80:90:95:97:98:99:99.5:99.9:99.95:99.99 \
        --output-format=json >"$TMP/fio-r$round.json"
    python3 - "$TMP/fio-r$round.json" "$TMP/fio-r$round.cdf" >"$TMP/fio-r$round.out" <<'EOF'
import json, sys
read = json.load(open(sys.argv[1]))["jobs"][0]["read"]
pct = read["clat_ns"]["percentile"]
with open(sys.argv[2], "w") as cdf:
    for p in sorted(pct, key=float):
        if float(p) < 100:
            cdf.write("%.6f %.4f\n" % (float(p) / 100, pct[p] / 1e6))
print("iops=%.0f p50_ms=%.3f p99_ms=%.3f" % (read["iops"], pct["50.000000"] / 1e6, pct["99.000000"] / 1e6))
EOF
done
best_round() { # prefix figure -> the round with the highest figure
    for r in $(seq "$ROUNDS"); do echo "$r $(tr ' ' '\n' <"$TMP/$1-r$r.out" | awk -F= -v k="$2" '$1 == k {print $2}')"; done |
        sort -k2 -n -r | head -1 | cut -d' ' -f1
}
COLD_BEST=$(best_round cold ops_per_sec)
FIO_BEST=$(best_round fio iops)
for f in "$TMP"/cold-r"$COLD_BEST".*; do cp "$f" "$TMP/cold.${f#"$TMP"/cold-r"$COLD_BEST".}"; done
cp "$TMP/fio-r$FIO_BEST.out" "$TMP/fio.out"
cp "$TMP/fio-r$FIO_BEST.cdf" "$TMP/fio.cdf"
mark "cold, ${CLIENTS}x2 clients"
run_load cold2x -m mix -n "$KEYS" -c $((CLIENTS * 2)) -s "$SECS" >/dev/null
rb_requests=$(calc "\"%.0f\", $(get cold ops_per_sec) * $SECS")
mark redis-benchmark
$PIN_CLIENT redis-benchmark -p "$PORT" -t get -r "$KEYS" -d "$VALUE_SIZE" -c "$CLIENTS" -P 1 \
    -n "$rb_requests" -q --csv | tr -d '"' | awk -F, 'NR == 2 {print $2, $5, $7}' >"$TMP/cold.rb"

log "zipf mix: 0.99, 90% GET, ${SECS}s"
mark "zipf warm-up"
run_load zipf.warm -m mix -n "$KEYS" -c "$CLIENTS" -s "$WARMUP" -z 0.99 -R 90 >/dev/null
measure zipf -m mix -n "$KEYS" -c "$CLIENTS" -s "$SECS" -z 0.99 -R 90 -L "$TMP/zipf.cdf"

log "overwrite: uniform SETs, ${SECS}s"
measure overwrite -m mix -n "$KEYS" -c "$CLIENTS" -s "$SECS" -R 0 -L "$TMP/overwrite.cdf"
wait_demotions_landed
snap final
mark end
kill "$SAMPLER_PID"
SAMPLER_PID=""
stop_server

# ---- 2. hot reads -------------------------------------------------------------

HOT_MAXMEMORY_MB=$((HOT_KEYS * VALUE_SIZE / 1048576 * 4 + 64))
log "hot reads: $HOT_KEYS keys, maxmemory ${HOT_MAXMEMORY_MB}mb, $ROUNDS rounds"
for round in $(seq "$ROUNDS"); do
    for label in on off redis; do
        case $label in
        on) start_server hot-on "$OURS_BIN" --maxmemory "${HOT_MAXMEMORY_MB}mb" \
            --flash-path "$FLASH/hot.bin" --flash-capacity 256mb ;;
        off) start_server hot-off "$OURS_BIN" --maxmemory "${HOT_MAXMEMORY_MB}mb" ;;
        redis) start_server hot-redis "$REF" --maxmemory "${HOT_MAXMEMORY_MB}mb" ;;
        esac
        run_load hot.fill -m fill -n "$HOT_KEYS" -c 8 -P 32 >/dev/null
        run_load hot.warm -m mix -n "$HOT_KEYS" -c "$CLIENTS" -s 1 >/dev/null
        for p in 1 16; do
            t0=$(cpu_ticks)
            run_load "hot-$label-P$p-r$round" -m mix -n "$HOT_KEYS" -c "$CLIENTS" -P $p -s "$HOT_SECS" \
                -L "$TMP/hot-$label-P$p-r$round.cdf" >/dev/null
            t1=$(cpu_ticks)
            # Ops per second of server CPU: what other work on the machine takes from the
            # server's CPU does not count against it.
            calc "\" ops_per_cpu_s=%.0f\", $(get "hot-$label-P$p-r$round" ops) * $HZ / ($t1 - $t0 + 0.5)" \
                >>"$TMP/hot-$label-P$p-r$round.out"
        done
        [ $label != on ] || live flash_demotions >"$TMP/hot-on-demotions-r$round"
        stop_server
    done
done
rm -f "$FLASH/hot.bin"
LOAD_END=$(loadavg)

# ---- 3. the figures -------------------------------------------------------------

best_hot() { # label pipeline [figure] -> "name value" of the best round
    for r in $(seq "$ROUNDS"); do echo "hot-$1-P$2-r$r $(get "hot-$1-P$2-r$r" "${3:-ops_per_sec}")"; done |
        sort -k2 -n -r | head -1
}
for p in 1 16; do
    for label in on off redis; do
        set -- $(best_hot $label $p)
        eval "HOT_${label}_P$p=$1"
        cp "$TMP/$1.cdf" "$TMP/hot-$label-P$p.cdf"
        set -- $(best_hot $label $p ops_per_cpu_s)
        eval "EFF_${label}_P$p=$2"
    done
done
hot_ops() { get "$(eval echo "\$HOT_$1_P$2")" ops_per_sec; }
hot_eff() { eval echo "\$EFF_$1_P$2"; }
hot_lat() { get "$(eval echo "\$HOT_$1_P$2")" "$3"; }
hot_misses=0
for f in "$TMP"/hot-*-r*.out; do hot_misses=$((hot_misses + $(tr ' ' '\n' <"$f" | awk -F= '$1 == "misses" || $1 == "errors" {s += $2} END {print s + 0}'))); done
hot_demotions=$(cat "$TMP"/hot-on-demotions-r* | awk '{s += $1} END {print s + 0}')

COLD_OPS=$(get cold ops_per_sec)
FIO_IOPS=$(tr ' ' '\n' <"$TMP/fio.out" | awk -F= '$1 == "iops" {print $2}')
fio_get() { tr ' ' '\n' <"$TMP/fio.out" | awk -F= -v k="$1" '$1 == k {print $2}'; }
COLD_RATIO=$(calc "\"%.2f\", $COLD_OPS / $FIO_IOPS")
ON_OFF_P1=$(calc "\"%.3f\", $(hot_ops on 1) / $(hot_ops off 1)")
ON_OFF_P16=$(calc "\"%.3f\", $(hot_ops on 16) / $(hot_ops off 16)")
ON_REDIS_P1=$(calc "\"%.2f\", $(hot_ops on 1) / $(hot_ops redis 1)")
ON_REDIS_P16=$(calc "\"%.2f\", $(hot_ops on 16) / $(hot_ops redis 16)")
OFF_REDIS_P1=$(calc "\"%.2f\", $(hot_ops off 1) / $(hot_ops redis 1)")
OFF_REDIS_P16=$(calc "\"%.2f\", $(hot_ops off 16) / $(hot_ops redis 16)")
EFF_ON_OFF_P1=$(calc "\"%.3f\", $(hot_eff on 1) / $(hot_eff off 1)")
EFF_ON_OFF_P16=$(calc "\"%.3f\", $(hot_eff on 16) / $(hot_eff off 16)")
EFF_ON_REDIS_P1=$(calc "\"%.2f\", $(hot_eff on 1) / $(hot_eff redis 1)")
EFF_ON_REDIS_P16=$(calc "\"%.2f\", $(hot_eff on 16) / $(hot_eff redis 16)")

# Flash reads of a window: asynchronous promotions plus synchronous ones.
flash_reads() { echo $(($(delta "$1.before" "$1.after" flash_promotions) + $(delta "$1.before" "$1.after" flash_sync_promotions))); }
hit_rate() { # name: share of GET hits served without a flash read
    calc "\"%.1f\", 100 * (1 - $(flash_reads "$1") / ($(delta "$1.before" "$1.after" keyspace_hits) + 0.000001))"
}
bytes_per_read() { calc "\"%.0f\", $(delta "$1.before" "$1.after" flash_bytes_read) / ($(flash_reads "$1") + 0.000001)"; }
per_sec() { calc "\"%.0f\", $(delta "$1.before" "$1.after" "$2") / $(get "$1" seconds)"; }
ratio() { calc "\"%.2f\", $(delta "$1" "$2" "$3") / ($(delta "$1" "$2" "$4") + 0.000001)"; }

# Demotions/s while filling: from the first sample with demotions to the end of the fill.
FILL_DEMOTE_RATE=$(awk -v end="$FILL_END" '$2 > 0 && $1 <= end {if (!t0) {t0 = $1; d0 = $2} t1 = $1; d1 = $2}
    END {if (t1 > t0 + 1) printf "%.0f", (d1 - d0) / (t1 - t0)}' "$TMP/samples")
# A fill too short for the samples: the average over the whole fill.
[ -n "$FILL_DEMOTE_RATE" ] || FILL_DEMOTE_RATE=$(calc "\"%.0f\", $(delta fill.before fill.after flash_demotions) / $(get fill seconds)")
FILL_WA=$(ratio fill.before fill.after flash_bytes_written flash_demoted_bytes)
OVER_WA=$(ratio overwrite.before overwrite.after flash_bytes_written flash_demoted_bytes)
OVER_DEMOTE_RATE=$(per_sec overwrite flash_demotions)
COLD_KEYS_MEM=$(field memory flash_cold_keys)
DBSIZE=$(awk -F'[=,]' '/^db0:/ {print $2}' "$TMP/memory.info")
# The flash store's write buffers and read pool (mem_not_counted_for_evict) are a fixed
# cost, not a per-key one: the per-key figure leaves them out, and says how much they are.
keys_mem() { echo $(($(field "$1" used_memory) - $(field "$1" mem_not_counted_for_evict))); }
STORE_BUFFERS=$(field memory mem_not_counted_for_evict)
MEM_PER_KEY=$(calc "\"%.1f\", ($(keys_mem memory) - $(keys_mem empty)) / $DBSIZE")
MEM_BEYOND_KEY=$(calc "\"%.1f\", $MEM_PER_KEY - 16")
RSS_PER_KEY=$(calc "\"%.1f\", ($(field memory used_memory_rss) - $(field empty used_memory_rss)) / $DBSIZE")
verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN {ok = dir == "ge" ? v >= t : v <= t; print ok ? "met" : "**missed**"}'; }

# ---- 4. plots ---------------------------------------------------------------------

LAT_PNG=$BASE-latency.png
TIME_PNG=$BASE-timeline.png
cat >"$TMP/latency.gp" <<EOF
set terminal pngcairo size 960,600 noenhanced font ",10"
set output "$LAT_PNG"
set title "Latency by percentile ($CLIENTS clients, $VALUE_SIZE B values)"
set logscale xy
set xrange [1:20000]
set xtics ("0%%" 1, "50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000)
set xlabel "percentile"
set ylabel "latency (ms)"
set grid
set key top left
plot "$TMP/cold.cdf" using (1/(1-\$1)):2 with lines lw 2 title "cold GET, uniform, data ${SCALE}x maxmemory", \\
     "$TMP/fio.cdf" using (1/(1-\$1)):2 with linespoints lw 2 title "fio randread 4k, iodepth $CLIENTS (completion latency)", \\
     "$TMP/zipf.cdf" using (1/(1-\$1)):2 with lines lw 2 title "Zipf 0.99 mix, 90% GET", \\
     "$TMP/overwrite.cdf" using (1/(1-\$1)):2 with lines title "uniform SET (overwrite, demoting)", \\
     "$TMP/hot-on-P1.cdf" using (1/(1-\$1)):2 with lines title "hot GET, tiering on", \\
     "$TMP/hot-off-P1.cdf" using (1/(1-\$1)):2 with lines title "hot GET, tiering off", \\
     "$TMP/hot-redis-P1.cdf" using (1/(1-\$1)):2 with lines title "hot GET, redis-server 7.0"
EOF
gnuplot "$TMP/latency.gp"

# Rates between consecutive samples, time from the start of the fill.
awk 'NR == 1 {t0 = $1} NR > 1 && $1 > pt {printf "%.2f %.0f %.0f %.2f %.2f\n", $1 - t0, ($2 - pd) / ($1 - pt),
     ($3 - pp) / ($1 - pt), ($4 - pw) / ($1 - pt) / 1048576, $5 / 1048576}
     {pt = $1; pd = $2; pp = $3; pw = $4}' "$TMP/samples" >"$TMP/rates"
t0=$(head -1 "$TMP/samples" | cut -d' ' -f1)
arrows=$(awk -v t0="$t0" '{t = $1; $1 = ""; sub(/^ /, "");
     printf "set arrow from %.2f, graph 0 to %.2f, graph 1 nohead dt 2 lc rgb \"gray\"\n", t - t0, t - t0;
     printf "set label \"%s\" at %.2f, graph 0.98 rotate by 90 right offset 1,0 font \",8\"\n", $0, t - t0}' "$TMP/phases")
cat >"$TMP/timeline.gp" <<EOF
set terminal pngcairo size 960,600 noenhanced font ",10"
set output "$TIME_PNG"
set title "Demotions and promotions over the run (maxmemory ${MAXMEMORY_MB}mb, ${DATA_MB} MiB of values)"
set xlabel "seconds"
set ylabel "per second"
set y2label "MiB"
set ytics nomirror
set y2tics
set grid
set key outside bottom center horizontal
$arrows
plot "$TMP/rates" using 1:2 with lines lw 2 title "demotions/s", \\
     "$TMP/rates" using 1:3 with lines lw 2 title "promotions/s", \\
     "$TMP/rates" using 1:4 axes x1y2 with lines title "flash writes MiB/s", \\
     "$TMP/rates" using 1:5 axes x1y2 with lines title "used_memory MiB"
EOF
gnuplot "$TMP/timeline.gp"

# ---- 5. the report ----------------------------------------------------------------

lat() { printf '%s / %s' "$(get "$1" p50_ms)" "$(get "$1" p99_ms)"; }
cpu_note() { # name
    us=$(cat "$TMP/$1.us")
    printf 'server CPU %s%%, %s us of it per operation (at most %s ops/s on one core)' "$(cat "$TMP/$1.cpu")" \
        "$us" "$(calc "\"%.0f\", 1000000 / $us")"
}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- src 2>/dev/null || commit="$commit + uncommitted changes in src/"
{
    echo "# Tiering benchmarks, $(date '+%Y-%m-%d %H:%M')"
    echo
    echo "\`utils/bench/tiering.sh\` (PORT=$PORT MAXMEMORY_MB=$MAXMEMORY_MB SCALE=$SCALE VALUE_SIZE=$VALUE_SIZE" \
        "CLIENTS=$CLIENTS SECS=$SECS WARMUP=$WARMUP HOT_KEYS=$HOT_KEYS HOT_SECS=$HOT_SECS ROUNDS=$ROUNDS FLASH_DIR=$FLASH_DIR)"
    echo
    echo "- Build: $commit, binary of $OURS_DATE; reference $("$REF" --version | cut -d' ' -f1-3)"
    echo "- Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, Linux $(uname -r)"
    echo "- Flash: $FLASH_DIR on $(findmnt -no SOURCE,FSTYPE -T "$FLASH_DIR" | tr -s ' ' ' '), I/O engine $IO_ENGINE, O_DIRECT $DIRECT_IO"
    echo "- Pinning: servers and fio on CPU 0, the load generator on CPU 1"
    echo "- Load average (1/5/15 min) at the start: $LOAD_START; at the end: $LOAD_END" \
        "(other work shares the machine: figures are comparable within this run)"
    echo
    echo "## Summary"
    echo
    echo "| benchmark | result | target | |"
    echo "|---|---|---|---|"
    cold_us=$(cat "$TMP/cold.us")
    cold_cap=$(calc "\"%.2f\", 1000000 / $cold_us / $FIO_IOPS")
    echo "| cold reads, uniform GET, data ${SCALE}x maxmemory | $COLD_OPS ops/s = **${COLD_RATIO}x** fio's $FIO_IOPS IOPS; $cold_us us of server CPU per GET: at most ${cold_cap}x on one core | >= 0.8x | $(verdict "$COLD_RATIO" 0.8 ge) |"
    echo "| hot reads, tiering on / off | **$ON_OFF_P1** (plain), **$ON_OFF_P16** (-P 16); per server CPU-second $EFF_ON_OFF_P1, $EFF_ON_OFF_P16 | >= 0.95 | $(verdict "$ON_OFF_P1" 0.95 ge) / $(verdict "$ON_OFF_P16" 0.95 ge) |"
    echo "| hot reads, tiering on / redis-server 7.0 | $ON_REDIS_P1 (plain), $ON_REDIS_P16 (-P 16); per server CPU-second $EFF_ON_REDIS_P1, $EFF_ON_REDIS_P16 | | |"
    echo "| Zipf 0.99 mix, 90% GET, data ${SCALE}x maxmemory | $(get zipf ops_per_sec) ops/s, RAM hit rate $(hit_rate zipf)% | | |"
    echo "| RAM per cold key (16-byte keys) | $MEM_PER_KEY B of used_memory = 16 + **$MEM_BEYOND_KEY** | <= 40 beyond the key | $(verdict "$MEM_BEYOND_KEY" 40 le) |"
    echo "| demotion under writes | $FILL_DEMOTE_RATE/s (fill), $OVER_DEMOTE_RATE/s (overwrite) | | |"
    echo "| flash bytes written per byte demoted | $FILL_WA (fill), $OVER_WA (overwrite, compaction included) | | |"
    echo
    evicted=$(field final evicted_keys)
    [ "$evicted" = 0 ] || echo "**Warning**: $evicted keys were evicted (deleted) when demotion could not bring memory under" \
        "maxmemory; GETs of them are cheap misses ($(get cold misses) in the cold window), so the read figures are too good."
    [ "$evicted" = 0 ] || echo
    echo "Latencies are p50 / p99 in ms, measured by the client from sending a command to its reply."
    echo
    echo "![latency by percentile]($(basename "$LAT_PNG"))"
    echo
    echo "## Cold reads"
    echo
    echo "$KEYS keys, $DATA_MB MiB of values, maxmemory ${MAXMEMORY_MB}mb (allkeys-lru), every value demoted first," \
        "then ${WARMUP}s of warm-up, then $ROUNDS rounds of ${SECS}s of uniform random GETs from $CLIENTS connections" \
        "(one in flight each) followed by ${SECS}s of fio; best round of each."
    echo
    echo "| | ops/s | p50 / p99 ms | notes |"
    echo "|---|---|---|---|"
    echo "| valkey-server (tier-load) | $COLD_OPS | $(lat cold) | $(cpu_note cold); load $(cat "$TMP/cold.load") |"
    echo "| valkey-server, $((CLIENTS * 2)) connections | $(get cold2x ops_per_sec) | $(lat cold2x) | up to $((CLIENTS * 2)) reads in flight |"
    set -- $(cat "$TMP/cold.rb")
    echo "| valkey-server (redis-benchmark -t get -r $KEYS -c $CLIENTS -P 1, cross-check) | ${1%.*} | $2 / $3 | |"
    echo "| fio, iodepth $CLIENTS, 4 KiB, first $FIO_MB MiB of the flash file | $FIO_IOPS IOPS | $(fio_get p50_ms) / $(fio_get p99_ms) | completion latency |"
    echo
    printf -- "- Rounds, alternating (GET ops/s / fio IOPS):"
    for r in $(seq "$ROUNDS"); do printf " %s / %s;" "$(get "cold-r$r" ops_per_sec)" "$(tr ' ' '\n' <"$TMP/fio-r$r.out" | awk -F= '$1 == "iops" {print $2}')"; done
    echo " the table shows the best round of each (GETs: round $COLD_BEST, fio: round $FIO_BEST)"
    echo "- RAM hit rate: $(hit_rate cold)% (flash reads / GET hits); flash reads $(flash_reads cold) ($(per_sec cold flash_promotions) async/s," \
        "$(delta cold.before cold.after flash_sync_promotions) synchronous), $(bytes_per_read cold) bytes read per flash read"
    echo "- Server-side flash read latency p50/p99: $(field cold.after flash_read_latency_p50_us) / $(field cold.after flash_read_latency_p99_us) us (cumulative since start)"
    echo "- Demotions during the window: $(delta cold.before cold.after flash_demotions) ($(delta cold.before cold.after flash_demotions_clean) clean, without a write)"
    echo "- Errors: $(get cold errors), misses: $(get cold misses)"
    echo
    echo "\`$FIO_CMD\`"
    echo
    echo "## Zipfian mix"
    echo
    echo "Ranks drawn from Zipf(0.99) over the $KEYS keys (scattered over key ids), 90% GET / 10% SET of $VALUE_SIZE B," \
        "$CLIENTS connections, ${WARMUP}s warm-up, ${SECS}s measured."
    echo
    echo "- $(get zipf ops_per_sec) ops/s, p50 / p99 $(lat zipf) ms; $(cpu_note zipf); load $(cat "$TMP/zipf.load")"
    echo "- RAM hit rate $(hit_rate zipf)%: $(flash_reads zipf) flash reads for $(delta zipf.before zipf.after keyspace_hits) GET hits" \
        "($(delta zipf.before zipf.after flash_sync_promotions) synchronous); $(delta zipf.before zipf.after flash_blocked_commands) commands waited for flash"
    echo "- Demotions $(per_sec zipf flash_demotions)/s ($(delta zipf.before zipf.after flash_demotions_clean) clean), flash writes $(calc "\"%.1f\", $(delta zipf.before zipf.after flash_bytes_written) / 1048576 / $SECS") MiB/s"
    echo "- Errors: $(get zipf errors), misses: $(get zipf misses)"
    echo
    echo "## Memory"
    echo
    echo "After the fill, every value demoted (FLASH.DEBUG.DEMOTE), demotions landed, no client connected:"
    echo
    echo "- keys $DBSIZE, cold $COLD_KEYS_MEM, hot $(field memory flash_hot_keys)"
    echo "- used_memory $(field empty used_memory) B empty, $(field memory used_memory) B with the keys, of which" \
        "$STORE_BUFFERS B are the flash store's buffers (fixed, not per key): **$MEM_PER_KEY B per key**" \
        "(16 of them the key's bytes); RSS $RSS_PER_KEY B per key"
    echo
    echo "## Demotion"
    echo
    echo "![demotions and promotions over time]($(basename "$TIME_PNG"))"
    echo
    echo "- Fill ($KEYS SETs, 8 connections, -P 32): $(get fill ops_per_sec) SET/s overall, p50 / p99 $(lat fill) ms;" \
        "$FILL_DEMOTE_RATE demotions/s from the first demotion to the end of the fill;" \
        "$(delta fill.before fill.after flash_demoted_bytes) bytes demoted, $(delta fill.before fill.after flash_bytes_written) written ($FILL_WA);" \
        "writers waited for memory $(delta fill.before fill.after flash_memory_waits) times"
    echo "- Overwrite (uniform SETs of existing keys, $CLIENTS connections, ${SECS}s): $(get overwrite ops_per_sec) SET/s, p50 / p99 $(lat overwrite) ms;" \
        "$OVER_DEMOTE_RATE demotions/s; written per byte demoted $OVER_WA;" \
        "compaction moved $(delta overwrite.before overwrite.after flash_compaction_bytes_moved) B and reclaimed $(delta overwrite.before overwrite.after flash_compaction_bytes_reclaimed) B;" \
        "memory waits $(delta overwrite.before overwrite.after flash_memory_waits); $(cpu_note overwrite)"
    echo "- Whole run: flash_write_amplification $(field final flash_write_amplification)," \
        "flash_bytes_written $(field final flash_bytes_written), flash_demoted_bytes $(field final flash_demoted_bytes)," \
        "evicted keys $(field final evicted_keys), flash_full $(field final flash_full)"
    echo
    echo "## Hot reads"
    echo
    echo "$HOT_KEYS keys of $VALUE_SIZE B, maxmemory ${HOT_MAXMEMORY_MB}mb (everything in RAM), uniform GETs from $CLIENTS connections," \
        "${HOT_SECS}s per run, best of $ROUNDS alternating rounds."
    echo
    echo "| server | plain ops/s | p50 / p99 ms | -P 16 ops/s | p50 / p99 ms | ops per server CPU-second, plain / -P 16 |"
    echo "|---|---|---|---|---|---|"
    for label in on off redis; do
        case $label in on) name="valkey-server, tiering on" ;; off) name="valkey-server, tiering off" ;; redis) name="redis-server 7.0" ;; esac
        echo "| $name | $(hot_ops $label 1) | $(hot_lat $label 1 p50_ms) / $(hot_lat $label 1 p99_ms) | $(hot_ops $label 16) | $(hot_lat $label 16 p50_ms) / $(hot_lat $label 16 p99_ms) | $(hot_eff $label 1) / $(hot_eff $label 16) |"
    done
    echo
    echo "- Ratios of ops/s: on/off $ON_OFF_P1 and $ON_OFF_P16; on/redis $ON_REDIS_P1 and $ON_REDIS_P16; off/redis $OFF_REDIS_P1 and $OFF_REDIS_P16."
    echo "  Ops per server CPU-second (best round each) do not depend on how much CPU other work took from the server"
    echo "  during a run; with a busy machine they are the steadier comparison."
    echo "- Every round: $(for r in $(seq "$ROUNDS"); do for l in on off redis; do printf '%s %s/%s; ' "$l" "$(get "hot-$l-P1-r$r" ops_per_sec)" "$(get "hot-$l-P16-r$r" ops_per_sec)"; done; done)"
    echo "- Demotions on the tiering server: $hot_demotions; GET misses and errors: $hot_misses"
} >"$OUT"
sed -n '/^## Summary/,/^Latencies/p' "$OUT" | grep '^|'
log "report: $OUT"
