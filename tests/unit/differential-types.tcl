# Differential tests of the data types: random but reproducible command sequences per type
# (strings, lists, hashes, sets, sorted sets, HyperLogLog, geo) go to our server and to
# Debian's redis-server (7.0) over raw connections, and the replies are compared. The
# generators and the comparison live in tests/helpers/differential_types.tcl.
# Skipped when redis-server is not installed, and against an external server.
#
# Every type runs four times: default config and small encoding limits (on both servers, so
# values convert listpack/intset -> quicklist/hashtable/skiplist early), each in RESP2 and
# RESP3. A sequence (2000 commands) draws keys from a small pool (one time in ten a key of
# another type: WRONGTYPE), so keys collide, get emptied and recreated, and cross the
# encoding thresholds (values around the size limits, bulk inserts of threshold sizes); it
# ends by reading every key whole. The generator depends only on the seed, never on replies:
#     DIFF_TYPES_SEED=<n> ./runtest --single unit/differential-types --only "*hashes*"
# replays a run (a new seed each run, printed on failure). A failing sequence is written to
# tests/tmp/ (.txt to read, .steps to replay and shrink to a few commands with
# tests/helpers/differential_replay.tcl). DIFF_TYPES_COMMANDS sets the commands per test.
#
# Replies are parsed into trees and compared exactly, except for these normalizations, each
# of a documented, legitimate difference:
# - Unordered replies (SMEMBERS, SINTER/SUNION/SDIFF, HKEYS, HVALS, HGETALL; GEOSEARCH/
#   GEORADIUS without ASC/DESC or COUNT, "returns the items unsorted" by their documentation):
#   compared as multisets (HGETALL as field/value pairs). Set and hash iteration order depends
#   on the encoding and the hash function (Redis 7.0 has no listpack sets).
# - Random picks: SRANDMEMBER/HRANDFIELD/ZRANDMEMBER with a positive count compare as
#   multisets when the whole collection came back (fewer than count), else by length only;
#   with a negative count or no count, by length/type only. SPOP compares the same way, then
#   the two servers are brought back in step: ours re-adds what it popped and removes what
#   Redis popped (the SADD/SREM replies also check that each side's picks were members).
# - Doubles (Valkey 8 prints the shortest round-trip form, Redis 7.0 %.17g: 0.1 vs
#   0.10000000000000001): compared numerically, in the reply positions that hold scores
#   (ZSCORE, ZMSCORE, ZINCRBY, ZADD INCR, WITHSCORES, ZPOPMIN/MAX, ZMPOP, BZ*POP*) and every
#   RESP3 double.
# - SCAN family: a full scan loop runs on each server and the union of the elements returned
#   is compared (cursors depend on the hash table); negative cursors are not sent.
# - Lexicographic ranges (ZRANGEBYLEX & co.) go only to a key whose scores are all 0: with
#   different scores their result is unspecified (their documentation).
# - Not sent at all: OBJECT ENCODING (Redis 7.0 has no listpack sets, and its lists are always
#   quicklists), DUMP (RDB formats differ), ZRANK/ZREVRANK WITHSCORE and HSCAN NOVALUES (newer
#   than 7.0), BITCOUNT with a start and no end (see differential.tcl), counts that would make
#   either server build a gigantic reply (e.g. SRANDMEMBER k -9223372036854775807).
# - Forms Valkey 8 answers differently from Redis 7.0 (::dt::valkey_reply: the reply ours
#   must give instead of Redis's). The transcripts (../shared/reference/valkey8/) never send
#   them, so each comes from Valkey 8's source: BITCOUNT/BITPOS check their range arguments
#   (start, BIT|BYTE, end) before the key; LPOS RANK and LREM count refuse
#   -9223372036854775808; a seconds timeout above LLONG_MAX ms is "out of range", not
#   "negative". Replaying the transcripts against Redis 7.0 shows no error-text difference
#   for the forms sent here (the two it shows: BITCOUNT key start, and an expiry race of the
#   recorder), so no error text is normalized.
# Anything else that differs is a failure.

source [file join $::th::root tests helpers differential_types.tcl]

# --- the tests -----------------------------------------------------------------------------

set ::dt::redis_binary [lindex [auto_execok redis-server] 0]
set ::dt::configs {
    default {} {}
    small {
        list-max-listpack-size 4 hash-max-listpack-entries 4 hash-max-listpack-value 16
        set-max-intset-entries 4 set-max-listpack-entries 4 set-max-listpack-value 16
        zset-max-listpack-entries 4 zset-max-listpack-value 16 hll-sparse-max-bytes 100
    } {
        list-max-listpack-size 4 hash-max-listpack-entries 4 hash-max-listpack-value 16
        set-max-intset-entries 4
        zset-max-listpack-entries 4 zset-max-listpack-value 16 hll-sparse-max-bytes 100
    }
}

if {$::opt(external)} {
    test "differential types: against redis-server" {
        skip "not run against an external server"
    }
} elseif {$::dt::redis_binary eq ""} {
    test "differential types: against redis-server" {
        skip "redis-server is not installed (apt-get install redis-server)"
    }
} else {
    set config_index 0
    foreach {config our_overrides redis_overrides} $::dt::configs {
        start_server [list tags {conformance differential} overrides $our_overrides] {
            start_server [list tags {} binary $::dt::redis_binary overrides [concat {save ""} $redis_overrides]] {
                foreach protocol {2 3} {
                    set type_index 0
                    foreach type $::dt::types {
                        incr type_index
                        set name "$type ($config config[expr {$protocol == 3 ? ", RESP3" : ""}])"
                        test "differential types: $name" {
                            set seed [expr {($::dt::seed + 7919 * $type_index + 104729 * $config_index +
                                             1299709 * $protocol) % 2147483646}]
                            set logfile [file join $::th::root tests tmp \
                                             "differential-types-$type-$config-resp$protocol-$::dt::seed"]
                            lassign [::dt::run_sequence $type $seed $::dt::count $logfile \
                                         [list [srv -1 host] [srv -1 port]] [list [srv 0 host] [srv 0 port]] \
                                         $protocol] problems sent
                            ::th::verbose "differential types: $name: $sent steps, seed $::dt::seed"
                            if {[llength $problems] > 0} {
                                fail "[llength $problems] replies differ from redis-server (DIFF_TYPES_SEED=$::dt::seed; steps in $logfile.txt, replay and shrink with tests/helpers/differential_replay.tcl $logfile.steps):\n[join $problems \n]"
                            }
                        }
                    }
                }
            }
        }
        incr config_index
    }
}
