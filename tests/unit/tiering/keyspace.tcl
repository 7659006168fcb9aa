# Tiering: commands that only touch keys and metadata never read a cold value (the key
# stays cold, nothing is read from flash); renamed, moved and swapped cold keys keep their
# values; flushes, deletions and overwrites release flash space (flash_live_bytes).

source [file join $::th_root tests support tiering.tcl]

# Fresh cold keys cs (string), ch (hash), cl (list) and cx (string with a TTL) in the
# current db; returns their values' digests, key by key.
proc tier_cold_keys {} {
    r del cs ch cl cx
    r set cs [string repeat "s" 40]
    r hset ch f1 v1 f2 v2
    r rpush cl a b c
    r set cx [string repeat "x" 40] ex 1000
    set digests {}
    foreach k {cs ch cl cx} {
        dict set digests $k [r debug digest-value $k]
        tier_demote $k
    }
    return $digests
}

proc tier_assert_all_cold {keys} {
    foreach k $keys {
        tier_assert_tier cold $k
    }
}

start_server [list tags {tiering external:skip} overrides [tier_overrides]] {
    test {Tiering: TYPE EXISTS TTL PTTL EXPIRETIME DBSIZE KEYS SCAN RANDOMKEY never read a cold value} {
        r flushall
        tier_cold_keys
        tier_no_read {
            assert_equal {string hash list string} [lmap k {cs ch cl cx} {r type $k}]
            assert_equal 3 [r exists cs ch nosuch cl]
            assert_equal -1 [r ttl cs]
            assert_equal -1 [r pttl ch]
            assert_range [r ttl cx] 990 1000
            assert_range [r pttl cx] 990000 1000000
            assert_equal -1 [r expiretime cl]
            assert_range [r expiretime cx] [expr {[clock seconds] + 990}] [expr {[clock seconds] + 1001}]
            assert_morethan [r pexpiretime cx] [clock milliseconds]
            assert_equal 4 [r dbsize]
            assert_equal {ch cl cs cx} [lsort [r keys c*]]
            assert_equal {ch} [r keys {c[h]}]
            lassign [r scan 0 count 1000] cursor keys
            assert_equal 0 $cursor
            assert_equal {ch cl cs cx} [lsort $keys]
            assert_equal {0 ch} [r scan 0 type hash count 1000]
            assert_equal {0 {cs cx}} [list 0 [lsort [lindex [r scan 0 type string count 1000] 1]]]
            assert_equal {0 cl} [r scan 0 match cl* count 1000]
            for {set i 0} {$i < 10} {incr i} {
                assert [expr {[r randomkey] in {cs ch cl cx}}]
            }
        }
        tier_assert_all_cold {cs ch cl cx}
    }

    test {Tiering: EXPIRE PEXPIRE EXPIREAT PERSIST TOUCH on cold keys never read them} {
        r flushall
        tier_cold_keys
        tier_no_read {
            assert_equal 1 [r expire cs 500]
            assert_range [r ttl cs] 490 500
            assert_equal 1 [r pexpire ch 600000]
            assert_equal 0 [r expire ch 100 nx]
            assert_equal 1 [r expireat cl [expr {[clock seconds] + 700}]]
            assert_equal 1 [r pexpireat cx [expr {[clock milliseconds] + 800000}]]
            assert_equal 1 [r persist cs]
            assert_equal -1 [r ttl cs]
            assert_equal 0 [r persist cs]
            assert_equal 3 [r touch cs ch nosuch cl]
        }
        tier_assert_all_cold {cs ch cl cx}
        # The TTLs stay with the values once they are read back.
        assert_equal {v1 v2} [r hmget ch f1 f2]
        assert_range [r pttl ch] 590000 600000
        assert_equal {a b c} [r lrange cl 0 -1]
        assert_range [r ttl cl] 690 700
    }

    test {Tiering: OBJECT ENCODING IDLETIME FREQ REFCOUNT TIER never read a cold value} {
        r flushall
        tier_cold_keys
        tier_no_read {
            assert_equal {embstr listpack listpack embstr} [lmap k {cs ch cl cx} {r object encoding $k}]
            assert_range [r object idletime cs] 0 10
            assert_equal 1 [r object refcount ch]
            assert_equal {cold cold cold cold} [lmap k {cs ch cl cx} {r object tier $k}]
            assert_equal {} [r object tier nosuch]
        }
        r config set maxmemory-policy allkeys-lfu
        r set lfu [string repeat "f" 40]
        for {set i 0} {$i < 20} {incr i} {
            r get lfu
        }
        set freq [r object freq lfu]
        tier_demote lfu
        tier_no_read {
            assert_equal $freq [r object freq lfu]
            assert_equal 1 [r exists lfu]
        }
        tier_assert_tier cold lfu
        # The counter is the key's, not lost by the demotion: reading the value counts.
        assert_equal [string repeat "f" 40] [r get lfu]
        assert_morethan_equal [r object freq lfu] $freq
        r config set maxmemory-policy noeviction
    }

    test {Tiering: DEL and UNLINK of cold keys read nothing and release their flash space} {
        r flushall
        set live0 [tier_stat flash_live_bytes]
        tier_cold_keys
        set live [tier_stat flash_live_bytes]
        assert_morethan $live $live0
        assert_equal 4 [tier_stat flash_cold_keys]
        tier_no_read {
            assert_equal 2 [r del cs ch nosuch]
            assert_equal 2 [r unlink cl cx]
        }
        assert_equal 0 [r dbsize]
        assert_equal 0 [tier_stat flash_cold_keys]
        wait_for_condition 100 10 {[tier_stat flash_live_bytes] == $live0} else {
            fail "flash_live_bytes stayed at [tier_stat flash_live_bytes] (was $live0 before, $live with the keys)"
        }
    }

    test {Tiering: an overwritten cold key releases its flash space} {
        r flushall
        set live0 [tier_stat flash_live_bytes]
        r set k [string repeat "o" 100]
        tier_demote k
        assert_morethan [tier_stat flash_live_bytes] $live0
        r set k short
        assert_equal short [r get k]
        assert_equal $live0 [tier_stat flash_live_bytes]
        r hset h f [string repeat "v" 100]
        tier_demote h
        r sadd src a b
        r sunionstore h src
        assert_equal $live0 [tier_stat flash_live_bytes]
        assert_equal set [r type h]
    }

    test {Tiering: RENAME and RENAMENX keep a cold key cold and its value intact} {
        r flushall
        set digests [tier_cold_keys]
        tier_no_read {
            assert_equal OK [r rename ch ch2]
            assert_equal 0 [r exists ch]
            assert_equal 1 [r renamenx cl cl2]
            assert_equal 0 [r renamenx cs cx]
            # Over an existing cold key: the destination's value goes.
            assert_equal OK [r rename cs cx]
        }
        tier_assert_all_cold {ch2 cl2 cx}
        assert_equal -1 [r ttl cx]
        assert_equal {v1 v2} [r hmget ch2 f1 f2]
        assert_equal {a b c} [r lrange cl2 0 -1]
        assert_equal [string repeat "s" 40] [r get cx]
        assert_equal [dict get $digests ch] [r debug digest-value ch2]
        assert_equal 3 [r dbsize]
        assert_equal 3 [tier_stat flash_hot_keys]
        # A renamed cold key demoted again and renamed back reads back too.
        tier_demote ch2
        r rename ch2 ch
        assert_equal {f1 v1 f2 v2} [r hgetall ch]
    }

    test {Tiering: MOVE of a cold key to another db keeps it cold, readable there} {
        r flushall
        set digests [tier_cold_keys]
        tier_no_read {
            assert_equal 1 [r move ch 10]
            assert_equal 1 [r move cx 10]
            assert_equal 0 [r exists ch]
        }
        r select 10
        tier_assert_all_cold {ch cx}
        assert_range [r ttl cx] 990 1000
        assert_equal [dict get $digests ch] [r debug digest-value ch]
        assert_equal {v1 v2} [r hmget ch f1 f2]
        assert_equal [string repeat "x" 40] [r get cx]
        # MOVE to a db where the key exists does nothing.
        r set cs other
        r select 9
        assert_equal 0 [r move cs 10]
        tier_assert_tier cold cs
        assert_equal [string repeat "s" 40] [r get cs]
        r select 10
        assert_equal other [r get cs]
        r flushdb
        r select 9
    }

    test {Tiering: SWAPDB with cold keys on both sides} {
        r flushall
        r set a [string repeat "A" 50]
        tier_demote a
        r select 10
        r set b [string repeat "B" 50]
        r rpush l 1 2 3
        tier_demote b
        tier_demote l
        r select 9
        assert_match {*db9:keys=1,*cold=1*db10:keys=2,*cold=2*} [r info keyspace]
        tier_no_read {
            assert_equal OK [r swapdb 9 10]
        }
        assert_match {*db9:keys=2,*cold=2*db10:keys=1,*cold=1*} [r info keyspace]
        tier_assert_tier cold b
        assert_equal [string repeat "B" 50] [r get b]
        assert_equal {1 2 3} [r lrange l 0 -1]
        assert_equal 0 [r exists a]
        r select 10
        assert_equal [string repeat "A" 50] [r get a]
        # Swapped back, demoted again in its new db, moved home: all still readable.
        tier_demote a
        r select 9
        r swapdb 9 10
        assert_equal [string repeat "A" 50] [r get a]
        r select 10
        assert_equal [string repeat "B" 50] [r get b]
        r select 9
        r flushall
    }

    foreach mode {sync async} {
        test "Tiering: FLUSHDB $mode and FLUSHALL $mode with cold keys, then the names reused" {
            r flushall
            set live0 [tier_stat flash_live_bytes]
            tier_cold_keys
            r select 10
            tier_cold_keys
            assert_equal 8 [tier_stat flash_cold_keys]
            tier_no_read {
                assert_equal OK [r flushdb $mode]
            }
            assert_equal 0 [r dbsize]
            wait_for_condition 100 10 {[tier_stat flash_cold_keys] == 4} else {
                fail "flash_cold_keys is [tier_stat flash_cold_keys] after FLUSHDB $mode"
            }
            r select 9
            assert_equal 4 [r dbsize]
            assert_equal {v1 v2} [r hmget ch f1 f2]
            tier_no_read {
                assert_equal OK [r flushall $mode]
            }
            wait_for_condition 100 10 {[tier_stat flash_live_bytes] == $live0} else {
                fail "flash_live_bytes is [tier_stat flash_live_bytes] after FLUSHALL $mode (was $live0)"
            }
            assert_equal 0 [tier_stat flash_cold_keys]
            assert_no_match {*cold=*cold=*} [r info keyspace]
            # Same names, new values, cold again.
            r set cs new-string-value
            r hset ch g w
            tier_demote cs
            tier_demote ch
            assert_equal new-string-value [r get cs]
            assert_equal {g w} [r hgetall ch]
            r select 10
            r set cs in-db-ten
            tier_demote cs
            assert_equal in-db-ten [r get cs]
            r select 9
        }
    }

    test {Tiering: INFO keyspace counts cold keys per db} {
        r flushall
        r set a [string repeat 1 20]
        r set b [string repeat 2 20]
        r set c [string repeat 3 20]
        assert_match {*db9:keys=3,expires=0,avg_ttl=0,cold=0*} [r info keyspace]
        tier_demote a
        tier_demote b
        assert_match {*db9:keys=3,expires=0,avg_ttl=0,cold=2*} [r info keyspace]
        assert_equal 2 [tier_stat flash_cold_keys]
        assert_equal 1 [tier_stat flash_hot_keys]
        r get a
        assert_match {*db9:keys=3,expires=0,avg_ttl=0,cold=1*} [r info keyspace]
        r del b
        assert_match {*db9:keys=2,expires=0,avg_ttl=0,cold=0*} [r info keyspace]
    }
}

# Compaction moves live records; it must find the keys of records whose key was renamed,
# moved or swapped to another db since they were written, or it would drop their values.
start_server [list tags {tiering external:skip} overrides [tier_overrides {
    flash-capacity 2mb flash-segment-size 64kb flash-compaction-free-ratio 99
    flash-compaction-live-ratio 99
}]] {
    test {Tiering: compaction keeps cold values renamed, moved or swapped since their demotion} {
        # Random letters: the RDB encoding would compress a repeated one to nothing.
        set value [randstring 1500 1500 alpha]
        set n 160
        set keys {}
        for {set i 0} {$i < $n} {incr i} {
            r set k$i "$i:$value"
            lappend keys k$i
        }
        assert_equal [dict create OK $n] [tier_demote_many $keys]
        assert_equal $n [tier_stat flash_cold_keys]
        set compacted [tier_stat flash_compaction_segments]
        set expected {}
        for {set i 0} {$i < $n} {incr i} {
            switch [expr {$i % 4}] {
                0 { r del k$i }
                1 { r rename k$i renamed$i; dict set expected 9 renamed$i "$i:$value" }
                2 { r move k$i 10; dict set expected 10 k$i "$i:$value" }
                3 { dict set expected 9 k$i "$i:$value" }
            }
        }
        # Db 9 and 10 swap: records written for db 9 now belong to db 10 and the other way.
        r swapdb 9 10
        set expected [dict create 9 [dict get $expected 10] 10 [dict get $expected 9]]
        wait_for_condition 500 10 {[tier_stat flash_compaction_segments] >= $compacted + 3} else {
            fail "compaction did not run: [r info flash]"
        }
        assert_morethan [tier_stat flash_compaction_bytes_moved] 0
        assert_equal [expr {$n * 3 / 4}] [tier_stat flash_cold_keys]
        assert_equal 0 [tier_stat flash_checksum_errors]
        dict for {db keys} $expected {
            r select $db
            dict for {k v} $keys {
                assert_equal cold [r object tier $k] "(tier of $k in db $db)"
                assert_equal $v [r get $k] "(value of $k in db $db)"
            }
        }
        r select 9
        assert_equal 0 [tier_stat flash_read_failures]
    }
}
