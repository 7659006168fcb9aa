# Bounded robustness fuzz: tests/helpers/fuzz_commands.py throws random commands (built from
# the server's own COMMAND table and the Valkey 8 transcripts, with awkward arguments),
# pipelines, MULTI blocks, Lua, mutated RESTORE payloads, Pub/Sub, MONITOR and blocked side
# connections and raw protocol garbage at the server, then random CONFIG SETs, then random
# config files at fresh servers. Afterwards the server must still answer, DEBUG DIGEST must
# work, the dataset must survive DEBUG RELOAD unchanged, and its log must show no crash or
# sanitizer report. The seed is fixed (FUZZ_SEED in the environment overrides it) and
# printed on failure together with the replay log the driver wrote; replay it with
#   python3 tests/helpers/fuzz_commands.py --mode minimize --replay-file LOG --server BIN

namespace eval ::fuzz {
    variable helper [file join $::th::root tests helpers fuzz_commands.py]
    variable seed 20261121
    if {[info exists ::env(FUZZ_SEED)]} {
        set seed $::env(FUZZ_SEED)
    }
}

# Runs the driver under a time limit; returns {exit-status output}.
proc ::fuzz::run {seconds args} {
    set status 0
    if {[catch {exec timeout $seconds python3 $::fuzz::helper {*}$args 2>@1} output options]} {
        set code [dict get $options -errorcode]
        if {[lindex $code 0] ne "CHILDSTATUS"} {
            error $output
        }
        set status [lindex $code 2]
        regsub {\nchild process exited abnormally$} $output "" output
    }
    return [list $status $output]
}

proc ::fuzz::check_log {} {
    set report [::th::check_server_log [dict create stdout [srv 0 stdout] stderr [srv 0 stderr]]]
    if {$report ne ""} {
        fail "seed $::fuzz::seed: $report"
    }
}

# The first free port range of this worker, for the servers the startup fuzz starts.
proc ::fuzz::port_range {} {
    set first [expr {$::opt(baseport) + $::opt(slot) * $::opt(portcount)}]
    return [list [expr {$first + $::opt(portcount) / 2}] [expr {$first + $::opt(portcount) - 1}]]
}

start_server {tags {fuzz}} {
    if {[catch {exec python3 -c "import socket"}]} {
        set ::fuzz::nopython 1
    }

    test "fuzz: random commands, pipelines, side connections and garbage" {
        if {[info exists ::fuzz::nopython]} { skip "no python3" }
        needs_debug
        set log [file join [srv 0 dir] fuzz-replay.json]
        # --no-crc-types: mutated intset/hash/zset/set listpack payloads keep a stale checksum
        # until the RDB loader refuses duplicate members it converts (known bug, see the
        # fuzz report); drop the option once it does.
        lassign [::fuzz::run 60 --host [srv 0 host] --port [srv 0 port] --seed $::fuzz::seed \
                     --time 9 --log $log --no-crc-types 11,16,17,20] status output
        if {$status != 0} {
            fail "fuzz driver failed (seed $::fuzz::seed, replay log $log):\n$output"
        }
        assert_match "*ok*" $output
        # the fuzz kills clients (CLIENT KILL TYPE normal...): ours too
        reconnect
        assert_equal PONG [r ping]
        ::fuzz::check_log
    }

    test "fuzz: the dataset left behind survives DEBUG RELOAD unchanged" {
        reconnect
        needs_debug
        r debug set-active-expire 1
        for {set db 0} {$db < 16} {incr db} {
            r select $db
            foreach key [r keys *] {
                r persist $key
            }
        }
        r select 9
        # keys already expired but not yet removed are in the digest and not in KEYS
        wait_for_condition 100 50 {
            ![regexp {expires=[1-9]} [r info keyspace]]
        } else {
            fail "volatile keys remain: [r info keyspace]"
        }
        set before [r debug digest]
        assert_match {[0-9a-f]*} $before
        assert_equal 40 [string length $before]
        r debug reload
        assert_equal $before [r debug digest]
        ::fuzz::check_log
    }

    test "fuzz: CONFIG SET of every directive with random values, then restored" {
        if {[info exists ::fuzz::nopython]} { skip "no python3" }
        set log [file join [srv 0 dir] fuzz-config-replay.json]
        lassign [::fuzz::run 60 --mode config --host [srv 0 host] --port [srv 0 port] \
                     --seed $::fuzz::seed --time 3 --log $log] status output
        if {$status != 0} {
            fail "config fuzz failed (seed $::fuzz::seed, replay log $log):\n$output"
        }
        reconnect
        assert_equal PONG [r ping]
        r flushall
        r set k v
        assert_equal v [r get k]
        ::fuzz::check_log
    }

    test "fuzz: random config files are refused with the fatal error, never a crash" {
        if {[info exists ::fuzz::nopython]} { skip "no python3" }
        skip_if_external
        lassign [::fuzz::port_range] lo hi
        lassign [::fuzz::run 60 --mode startup --server [srv 0 binary] --port [srv 0 port] \
                     --seed $::fuzz::seed --time 4 --port-lo $lo --port-hi $hi \
                     --out-dir [srv 0 dir]] status output
        if {$status != 0} {
            fail "startup fuzz failed (seed $::fuzz::seed):\n$output"
        }
        assert_match "*ok*" $output
    }
}
