# Tiering: differential test. tests/helpers/tier_differential.py sends the same random
# command sequences (the generators of tests/helpers/differential_types.tcl: strings,
# lists, hashes, sets, sorted sets, HyperLogLog, geo, with renames, copies, expiries,
# DEBUG RELOAD, MULTI, SCAN; plus MULTI blocks, EVAL with declared and undeclared keys,
# TTL reads, expiries that fall due, DUMP/RESTORE, DEBUG DIGEST-VALUE, MOVE/COPY DB/SWAPDB,
# SORT BY/GET patterns, blocking pops woken by another client) to a server without tiering
# and to one with tiering that demotes every key (FLASH.DEBUG.DEMOTE, flash-min-value-size
# 0) after nearly every command, in RESP2 and RESP3, with default and with small encoding
# limits. Every reply must be the same (unordered and random replies are normalized, see
# the helper). A difference is shrunk to a short repro (redis-cli lines with the
# demotions), printed in the failure.
#
# A new seed each run (printed on failure): TIER_DIFF_SEED=<n> replays one.
# TIER_DIFF_SECONDS (default 3 per configuration) runs a longer campaign, e.g.
#     TIER_DIFF_SECONDS=600 ./runtest --single unit/tiering/differential
# The helper runs alone too (it then starts both servers itself), see its --help:
#     python3 tests/helpers/tier_differential.py --binary src/valkey-server --time 600

source [file join $::th_root tests support tiering.tcl]

namespace eval ::tdiff {
    variable helper [file join $::th_root tests helpers tier_differential.py]
    variable seconds 3
    if {[info exists ::env(TIER_DIFF_SECONDS)]} {
        set seconds $::env(TIER_DIFF_SECONDS)
    }
    variable seed [expr {[clock microseconds] % 1000000000 + 1}]
    if {[info exists ::env(TIER_DIFF_SEED)]} {
        set seed $::env(TIER_DIFF_SEED)
    }
    variable small {
        list-max-listpack-size 4 hash-max-listpack-entries 4 hash-max-listpack-value 16
        set-max-intset-entries 4 set-max-listpack-entries 4 set-max-listpack-value 16
        zset-max-listpack-entries 4 zset-max-listpack-value 16 hll-sparse-max-bytes 100
    }
}

# Runs a campaign against the two servers around (srv -1: plain, srv 0: tiered).
proc ::tdiff::campaign {name seed} {
    set out_dir [file join $::th_root tests tmp]
    set args [list --plain [srv -1 host]:[srv -1 port] --tiered [srv 0 host]:[srv 0 port] \
                  --seed $seed --time $::tdiff::seconds --commands 80 --out-dir $out_dir \
                  --shrink-time 60 --reply-timeout 30 --avoid neg-zero]
    # neg-zero: a -0 score of a skiplist zset small enough for a listpack comes back as 0
    # after a promotion, exactly as after DEBUG RELOAD or a restart (a listpack keeps
    # integral scores as integers): a known reload difference, not a tiering one.
    set timeout [expr {int($::tdiff::seconds) + 300}]
    set status 0
    if {[catch {exec timeout $timeout python3 $::tdiff::helper {*}$args 2>@1} output options]} {
        set code [dict get $options -errorcode]
        if {[lindex $code 0] ne "CHILDSTATUS"} {
            error $output
        }
        set status [lindex $code 2]
        regsub {\nchild process exited abnormally$} $output "" output
    }
    ::th::verbose "tier differential ($name): [lindex [split [string trim $output] \n] end]"
    if {$status != 0} {
        fail "replies differ between tiering on and off ($name, TIER_DIFF_SEED=$seed):\n$output"
    }
}

if {[catch {exec python3 -c "import socket"}] || [auto_execok tclsh] eq ""} {
    test {Tiering differential: tiering on and off answer alike} {
        skip "python3 or tclsh is not installed"
    }
    return
}

set ::tdiff::index 0
foreach {config overrides} [list default {} small $::tdiff::small] {
    start_server [list tags {tiering external:skip} overrides $overrides] {
        start_server [list tags {tiering external:skip} overrides [tier_overrides $overrides]] {
            test "Tiering differential: tiering on and off answer alike ($config encodings, RESP2 and RESP3)" {
                ::tdiff::campaign "$config encodings" [expr {$::tdiff::seed + 7919 * $::tdiff::index}]
            } {} {tiering external:skip}
        }
    }
    incr ::tdiff::index
}
