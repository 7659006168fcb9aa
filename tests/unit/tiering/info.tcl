# Tiering: configuration (restart-only directives refused at runtime with the reason,
# flash-min-value-size live, valkey-flash aliases), INFO flash fields, INFO keyspace's
# cold=, the Flash section only with tiering on, and the memory accounting of the store's
# buffers under maxmemory.

source [file join $::th_root tests support tiering.tcl]

start_server [list tags {tiering external:skip} overrides [tier_overrides]] {
    test {Tiering: CONFIG SET of restart-only flash directives is refused, naming the restart} {
        foreach {name value} {
            flash-path other.bin flash.path other.bin flash-capacity 128mb flash-segment-size 64kb
            flash-io-engine threads flash-io-depth 64
        } {
            assert_error {*restart*} {r config set $name $value}
        }
        assert_equal {flash-path flash.bin} [r config get flash-path]
        assert_equal {flash-capacity 67108864} [r config get flash-capacity]
    }

    test {Tiering: CONFIG GET of the valkey-flash aliases} {
        assert_equal {flash.path flash.bin} [r config get flash.path]
        assert_equal {flash.capacity-bytes 67108864} [r config get flash.capacity-bytes]
        assert_equal [lindex [r config get flash-io-depth] 1] [lindex [r config get flash.io-uring-entries] 1]
    }

    test {Tiering: CONFIG SET of the live flash directives} {
        foreach {name value expected} {
            flash-min-value-size 1kb 1024 flash-demotion-watermark 80 80
            flash-demotion-max-inflight 8mb 8388608 flash-compaction no no flash-compaction-rate 32mb 33554432
        } {
            set old [lindex [r config get $name] 1]
            assert_equal OK [r config set $name $value]
            assert_equal [list $name $expected] [r config get $name]
            r config set $name $old
        }
        assert_error {*} {r config set flash-demotion-watermark 101}
        assert_error {*} {r config set flash-min-value-size -1}
        r config set flash-min-value-size 0
    }

    test {Tiering: INFO flash fields are there and plausible} {
        r flushall
        set info [r info flash]
        foreach field {
            flash_enabled flash_state flash_io_engine flash_capacity_bytes flash_used_bytes
            flash_free_bytes flash_live_bytes flash_cold_keys flash_hot_keys flash_demotions
            flash_demotions_in_flight flash_promotions flash_sync_promotions
            flash_blocked_commands flash_memory_waits flash_bytes_written flash_bytes_read
            flash_write_amplification flash_read_latency_p50_us flash_read_latency_p99_us
            flash_read_latency_p999_us flash_compaction_runs flash_compaction_bytes_reclaimed
            flash_checksum_errors flash_read_failures
        } {
            assert_match {?*} [getInfoProperty $info $field] "(INFO flash field $field)"
        }
        assert_equal 1 [getInfoProperty $info flash_enabled]
        assert_equal ready [getInfoProperty $info flash_state]
        assert [expr {[getInfoProperty $info flash_io_engine] in {io_uring threads}}]
        assert_equal 67108864 [getInfoProperty $info flash_capacity_bytes]
        assert_lessthan_equal [getInfoProperty $info flash_free_bytes] 67108864
        assert_equal 0 [getInfoProperty $info flash_cold_keys]

        set demotions [tier_stat flash_demotions]
        set written [tier_stat flash_bytes_written]
        set value [randstring 3000 3000 alpha]
        r set k $value
        r set k2 $value
        tier_demote k
        tier_demote k2
        assert_equal [expr {$demotions + 2}] [tier_stat flash_demotions]
        assert_equal 2 [tier_stat flash_cold_keys]
        assert_equal 0 [tier_stat flash_hot_keys]
        assert_morethan_equal [tier_stat flash_live_bytes] 6000
        assert_morethan_equal [tier_stat flash_used_bytes] [tier_stat flash_live_bytes]
        assert_morethan_equal [expr {[tier_stat flash_bytes_written] - $written}] 6000
        assert_lessthan_equal [expr {[tier_stat flash_used_bytes] + [tier_stat flash_free_bytes]}] 67108864
        set read [tier_stat flash_bytes_read]
        set blocked [tier_stat flash_blocked_commands]
        assert_equal $value [r get k]
        assert_morethan_equal [expr {[tier_stat flash_bytes_read] - $read}] 3000
        assert_equal [expr {$blocked + 1}] [tier_stat flash_blocked_commands]
        assert_equal 1 [tier_stat flash_hot_keys]
        set p50 [tier_stat flash_read_latency_p50_us]
        set p99 [tier_stat flash_read_latency_p99_us]
        set p999 [tier_stat flash_read_latency_p999_us]
        assert_morethan $p50 0
        assert_lessthan_equal $p50 $p99
        assert_lessthan_equal $p99 $p999
        assert_lessthan $p999 10000000
        assert_equal 0 [tier_stat flash_demotions_in_flight]
        assert_equal 0 [tier_stat flash_checksum_errors]
    }

    test {Tiering: INFO (default) and INFO everything have a Flash section} {
        assert_match "*# Flash\r\nflash_enabled:1*" [r info]
        assert_match "*# Flash\r\n*" [r info everything]
        assert_match "*flash_enabled:1*" [r info flash]
    }

    test {Tiering: INFO keyspace has cold= with tiering on} {
        r flushall
        r set a [string repeat a 30]
        tier_demote a
        assert_match "*db9:keys=1,expires=0,avg_ttl=0,cold=1\r\n*" [r info keyspace]
    }

    test {Tiering: FLASH.DEBUG.DEMOTE replies} {
        r flushall
        assert_error {*key does not exist*} {r flash.debug.demote nosuch}
        r set a [string repeat a 30]
        assert_equal OK [r flash.debug.demote a]
        assert_equal ALREADY_COLD [r flash.debug.demote a]
        # Shared integers are never demoted.
        r set n 5
        assert_error {*cannot be demoted*} {r flash.debug.demote n}
        assert_equal hot [r object tier n]
    }
}

start_server [list tags {tiering external:skip} overrides [tier_overrides {flash-segment-size 64kb}]] {
    test {Tiering: flash-min-value-size keeps small strings in RAM under maxmemory} {
        # Allocate the store's buffers first, so the budget below is measured with them.
        r set warm [randstring 500 500 alpha]
        tier_demote warm
        r del warm
        r config set flash-min-value-size 200
        set pool [randstring 1000 1000 alpha]
        for {set i 0} {$i < 100} {incr i} {
            r set small$i "small-$i"
            r set big$i "$i:[string range $pool $i [expr {$i + 599}]]"
        }
        set used [expr {[s used_memory] - [s mem_not_counted_for_evict]}]
        r config set maxmemory [expr {$used - 20 * 1024}]
        wait_for_condition 200 10 {[tier_stat flash_cold_keys] >= 30} else {
            fail "big values were not demoted: [tier_stat flash_cold_keys] cold"
        }
        r config set maxmemory 0
        for {set i 0} {$i < 100} {incr i} {
            assert_equal hot [r object tier small$i] "(small$i)"
        }
        assert_equal 200 [r dbsize]
        assert_equal 0 [s evicted_keys]
        r config set flash-min-value-size 0
    }
}

start_server [list tags {tiering external:skip} overrides {}] {
    test {Tiering off: no Flash section, no cold= in INFO keyspace, FLASH.DEBUG.DEMOTE refused} {
        r set a [string repeat a 30]
        assert_no_match "*# Flash*" [r info]
        assert_no_match "*# Flash*" [r info everything]
        assert_equal {} [string trim [r info flash]]
        assert_no_match "*cold=*" [r info keyspace]
        assert_match "*db9:keys=1,expires=0,avg_ttl=0\r\n*" [r info keyspace]
        assert_error {*not enabled*} {r flash.debug.demote a}
        assert_equal hot [r object tier a]
        assert_equal {flash-path {}} [r config get flash-path]
    }
}

# The store's I/O buffers are tiering's working memory, reported as not counted for
# eviction; what stays counted after the data is gone again must be (almost) nothing.
start_server [list tags {tiering external:skip} overrides [tier_overrides]] {
    test {Tiering: the store's buffers are not counted against maxmemory} {
        set before [expr {[s used_memory] - [s mem_not_counted_for_evict]}]
        set value [randstring 2000 2000 alpha]
        for {set i 0} {$i < 20} {incr i} {
            r set k$i "$i:$value"
            tier_demote k$i
            assert_equal "$i:$value" [r get k$i]
        }
        r flushall
        set after [expr {[s used_memory] - [s mem_not_counted_for_evict]}]
        assert_lessthan [expr {$after - $before}] [expr {64 * 1024}] "(counted memory grew from $before to $after)"
    }
}
