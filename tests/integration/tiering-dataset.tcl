# Tiering: a data set ten times maxmemory. tests/helpers/tier_dataset.py writes ~10x
# maxmemory of 1 KiB incompressible values (SHAKE-256 of the key name, so a check needs
# only the names) plus a few hashes, lists and sorted sets, with pipelined writes from
# several connections, while it samples INFO memory every 20 ms. Then:
#   - every value reads back exactly (MGETs and whole reads of the collections);
#   - used_memory less mem_not_counted_for_evict (what maxmemory limits) never goes above
#     maxmemory + flash-demotion-max-inflight + 2 MB (values stay in RAM until their
#     write lands, and writers wait only when more than what is in flight is over; the
#     2 MB cover what demotion does not bound: the keyspace table's rehash allocates its
#     new bucket array at once, 1-2 MB at this size, and replies in output buffers; the
#     maximum seen was 0.7 MB over the in-flight bound, on a machine loaded by other work);
#   - RSS stays under maxmemory + the RSS of the empty server (~7 MB) + the store's
#     buffers (mem_not_counted_for_evict: 4 write buffers of a segment and the read pool,
#     4-6 MB) + ::tds::rss_slack_mb of allocator slack (measured: RSS 20-24 MB at 8 MB of
#     maxmemory, 34 MB at 16 MB, so a slack of 2-6 MB);
#   - INFO flash shows (nearly) every key cold, and nothing was evicted;
#   - BGSAVE, then a restart with the same maxmemory: the load demotes as it goes
#     (used_memory_peak after the load stays within the same bound plus the store's
#     buffers), DEBUG DIGEST is the one before, and every value reads back again.
# Last, RAM per cold key: 200k keys of 16 bytes (key:%012d) with 200-byte values, all cold:
# (used_memory - baseline) / keys - 16, both less mem_not_counted_for_evict, must stay
# at or below 40 bytes (the target; a packed cold entry is one 32-byte allocation, plus the
# keyspace table's share). The figures go to the verbose output.
#
# TIER_DATASET_MAXMEMORY_MB sets maxmemory (default 8, so 80 MB of values and ~25 s on two
# cores; 16 gives the 160 MB run).

source [file join $::th_root tests support tiering.tcl]

namespace eval ::tds {
    variable helper [file join $::th_root tests helpers tier_dataset.py]
    variable mm_mb 8
    if {[info exists ::env(TIER_DATASET_MAXMEMORY_MB)]} {
        set mm_mb $::env(TIER_DATASET_MAXMEMORY_MB)
    }
    variable maxmemory [expr {$mm_mb * 1024 * 1024}]
    variable keys [expr {$mm_mb * 10 * 1024}]   ;# 1 KiB values: 10x maxmemory
    variable mix [expr {$mm_mb * 60}]           ;# hashes, lists, sorted sets (each)
    variable inflight_mb 4
    variable rss_slack_mb 8
    variable mb [expr {1024 * 1024}]
}

# Runs the helper against the current server: the JSON line it printed, as a dict.
proc ::tds::run {mode args} {
    set rc [catch {exec python3 $::tds::helper $mode --port [srv 0 port] {*}$args 2>@1} out]
    set line [lindex [split [string trim $out] \n] end]
    if {[catch {::json::decode $line} result]} {
        fail "tier_dataset.py $mode failed: $out"
    }
    return $result
}

proc ::tds::dataset {mode} {
    return [::tds::run $mode --keys $::tds::keys --size 1024 --mix $::tds::mix --clients 4]
}

proc ::tds::assert_clean {result what} {
    assert_equal 0 [dict get $result errors] "($what: error replies, the first: [dict get $result first_error])"
    assert_equal 0 [dict get $result bad] "($what: wrong values, e.g. [dict get $result first_bad])"
    assert_equal [expr {$::tds::keys + 3 * $::tds::mix}] [dict get $result keys] "($what: keys done)"
}

proc ::tds::in_mb {bytes} {
    return [format %.1f [expr {double($bytes) / $::tds::mb}]]
}

if {[catch {exec python3 -c "import hashlib; hashlib.shake_256(b'').digest(1)"}]} {
    test {Tiering: a data set 10x maxmemory} {
        skip "python3 is not installed"
    }
    return
}

set ::tds::dir [tier_temp_dir dataset]
set ::tds::overrides [list dir $::tds::dir save "" maxmemory $::tds::maxmemory \
                          flash-path flash.bin flash-capacity [expr {$::tds::mm_mb * 40}]mb \
                          flash-demotion-max-inflight $::tds::inflight_mb\mb]
set ::tds::bound [expr {$::tds::maxmemory + ($::tds::inflight_mb + 2) * $::tds::mb}]

start_server [list tags {tiering external:skip} overrides $::tds::overrides keep_persistence 1] {
    test "Tiering: [expr {10 * $::tds::mm_mb}] MB of values at maxmemory $::tds::mm_mb MB: all written, all read back" {
        r select 0 ;# the helper works in db 0
        set rss_empty [s used_memory_rss]
        set wrote [::tds::dataset write]
        ::tds::assert_clean $wrote write
        set checked [::tds::dataset check]
        ::tds::assert_clean $checked check
        set not_counted [s mem_not_counted_for_evict]
        set peak [s used_memory_peak]
        set rss [expr {max([dict get $wrote max_rss], [dict get $checked max_rss])}]
        set counted [expr {max([dict get $wrote max_used_memory_counted], [dict get $checked max_used_memory_counted])}]
        ::th::verbose "dataset: write [dict get $wrote seconds] s, check [dict get $checked seconds] s;\
            max used_memory counted for eviction [::tds::in_mb $counted] MB (maxmemory $::tds::mm_mb MB),\
            used_memory_peak [::tds::in_mb $peak] MB, store buffers (not counted) [::tds::in_mb $not_counted] MB,\
            max RSS [::tds::in_mb $rss] MB (empty server [::tds::in_mb $rss_empty] MB),\
            cold [tier_stat flash_cold_keys] hot [tier_stat flash_hot_keys],\
            sync promotions [tier_stat flash_sync_promotions], memory waits [tier_stat flash_memory_waits]"
        assert_lessthan_equal $counted $::tds::bound "(used_memory - mem_not_counted_for_evict, sampled)"
        assert_lessthan_equal $peak [expr {$::tds::bound + $not_counted}] "(used_memory_peak)"
        # A sanitizer build keeps freed memory in quarantine: its RSS says nothing.
        if {![regexp -- {-(address|undefined)} $::opt(server_binary)]} {
            assert_lessthan_equal $rss [expr {$::tds::maxmemory + $rss_empty + $not_counted + $::tds::rss_slack_mb * $::tds::mb}] \
                "(used_memory_rss: empty server [::tds::in_mb $rss_empty] MB, store buffers [::tds::in_mb $not_counted] MB)"
        }
        assert_equal 0 [s evicted_keys]
        set total [expr {$::tds::keys + 3 * $::tds::mix}]
        assert_morethan_equal [tier_stat flash_cold_keys] [expr {$total * 9 / 10}] "(cold keys of $total)"
        assert_equal 0 [tier_stat flash_checksum_errors]
        assert_equal 0 [tier_stat flash_read_failures]
    } {} {tiering external:skip}

    test {Tiering: BGSAVE of the big data set, restart with the same maxmemory: exactly the data} {
        set start [clock milliseconds]
        set ::tds::digest [r debug digest]
        set digested [clock milliseconds]
        r bgsave
        wait_for_condition 1200 50 {[s rdb_bgsave_in_progress] == 0} else {
            fail "BGSAVE did not finish"
        }
        assert_equal ok [s rdb_last_bgsave_status]
        ::th::verbose "DEBUG DIGEST [expr {$digested - $start}] ms, BGSAVE [expr {[clock milliseconds] - $digested}] ms"
    } {} {tiering external:skip}
}

start_server [list tags {tiering external:skip} overrides $::tds::overrides keep_persistence 1] {
    test {Tiering: the big data set loads within maxmemory, the same DEBUG DIGEST and values} {
        wait_done_loading r
        r select 0
        set peak [s used_memory_peak]
        set not_counted [s mem_not_counted_for_evict]
        ::th::verbose "after the load: used_memory_peak [::tds::in_mb $peak] MB, store buffers\
            [::tds::in_mb $not_counted] MB, cold [tier_stat flash_cold_keys] hot [tier_stat flash_hot_keys]"
        assert_lessthan_equal $peak [expr {$::tds::bound + $not_counted}] "(used_memory_peak after the load)"
        assert_equal [expr {$::tds::keys + 3 * $::tds::mix}] [r dbsize]
        assert_morethan_equal [tier_stat flash_cold_keys] [expr {[r dbsize] * 9 / 10}]
        set start [clock milliseconds]
        assert_equal $::tds::digest [r debug digest]
        ::th::verbose "DEBUG DIGEST after the load [expr {[clock milliseconds] - $start}] ms"
        set checked [::tds::dataset check]
        ::tds::assert_clean $checked "check after the restart"
        assert_equal 0 [s evicted_keys]
    } {} {tiering external:skip}
}
file delete -force $::tds::dir

# hz 100: once the writes stop, demotion goes on one batch per event-loop turn, which on an
# idle server is a cron tick (200k values: ~10 s at hz 10, ~0.6 s at hz 100).
start_server [list tags {tiering external:skip} overrides {flash-path flash.bin flash-capacity 256mb hz 100}] {
    test {Tiering: RAM per cold key (200k keys of 16 bytes, 200-byte values, all cold)} {
        r select 0
        set n 200000
        set base [expr {[s used_memory] - [s mem_not_counted_for_evict]}]
        set wrote [::tds::run write --keys $n --size 200 --format key:%012d --clients 4]
        assert_equal 0 [dict get $wrote errors] "(write: [dict get $wrote first_error])"
        # A tiny maxmemory demotes every value it can find.
        r config set maxmemory 1mb
        wait_for_condition 400 50 {[tier_stat flash_hot_keys] <= 10} else {
            fail "values still hot: [tier_stat flash_hot_keys]"
        }
        r config set maxmemory 0
        # Not in the middle of a rehash of the keyspace (two tables for a moment).
        wait_for_condition 200 50 {[s mem_overhead_db_hashtable_rehashing] == 0} else {
            fail "the keyspace is still rehashing"
        }
        set used [expr {[s used_memory] - [s mem_not_counted_for_evict]}]
        set per_key [expr {double($used - $base) / $n - 16}]
        ::th::verbose "RAM per cold key beyond its 16-byte name: [format %.2f $per_key] bytes\
            (used_memory less store buffers: [::tds::in_mb $base] MB empty,\
            [::tds::in_mb $used] MB with $n keys, [tier_stat flash_hot_keys] still hot;\
            store buffers [::tds::in_mb [s mem_not_counted_for_evict]] MB)"
        assert_equal $n [r dbsize]
        assert_lessthan_equal $per_key 40 "(bytes per cold key beyond the key)"
        # (the first tenth of the keys: reading all of them back is the big data set's job)
        set checked [::tds::run check --keys [expr {$n / 10}] --size 200 --format key:%012d --clients 4 --mget 100]
        assert_equal 0 [dict get $checked bad]
        assert_equal 0 [dict get $checked errors]
    } {} {tiering external:skip}
}
