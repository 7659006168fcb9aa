# Tiering: persistence with cold keys. SAVE, BGSAVE, DEBUG RELOAD, a restart on the RDB,
# AOF rewrites (with and without the RDB preamble) and a restart on the AOF all give back
# exactly the data (DEBUG DIGEST). The flash file is scratch: a restarted server reuses
# the same path and loads everything from the RDB/AOF.

source [file join $::th_root tests support tiering.tcl]

set ::tier_small_encodings {
    list-max-listpack-size 4 set-max-intset-entries 4 set-max-listpack-entries 4
    zset-max-listpack-entries 4 hash-max-listpack-entries 4
}

# Every type and encoding, in db 9 and db 10, some with TTLs, all values cold but one.
proc tier_populate {} {
    foreach db {10 9} {
        r select $db
        r set str:embstr "embstr value in db $db"
        r set str:raw "[string repeat raw 20] in db $db"
        r set str:ttl "expiring value in db $db" ex 5000
        r set str:int 123456
        r rpush list:lp a b c $db
        r rpush list:ql 1 2 3 4 5 6 7 8 $db
        r sadd set:int 1 2 $db
        r sadd set:lp a b $db
        r sadd set:ht a b c d e f $db
        r zadd zset:lp 1 a 2 b $db c
        r zadd zset:sl 1 a 2 b 3 c 4 d 5 e $db f
        r hset hash:lp f1 v1 db $db
        r hset hash:ht f1 v1 f2 v2 f3 v3 f4 v4 db $db
        r pexpire hash:ht 7000000
        foreach k {str:embstr str:raw str:ttl list:lp list:ql set:int set:lp set:ht zset:lp zset:sl hash:lp} {
            tier_demote $k
        }
        tier_demote hash:ht
    }
    assert_equal 24 [tier_stat flash_cold_keys]
}

proc tier_wait_bgsave {} {
    wait_for_condition 500 10 {[s rdb_bgsave_in_progress] == 0} else {
        fail "BGSAVE did not finish"
    }
    assert_equal ok [s rdb_last_bgsave_status]
}

proc tier_wait_aofrw {} {
    wait_for_condition 500 10 {[aof_rewrite_idle]} else {
        fail "BGREWRITEAOF did not finish"
    }
    assert_equal ok [s aof_last_bgrewrite_status]
}

start_server [list tags {tiering external:skip} overrides [tier_overrides [concat {save ""} $::tier_small_encodings]]] {
    test {Tiering: SAVE with cold keys, then DEBUG RELOAD NOSAVE: the same data} {
        r flushall
        tier_populate
        set digest [r debug digest]
        set promotions [tier_stat flash_promotions]
        assert_equal OK [r save]
        # Saving reads cold values for the file, it does not bring them back to RAM.
        assert_equal 24 [tier_stat flash_cold_keys]
        assert_equal $promotions [tier_stat flash_promotions]
        assert_equal OK [r debug reload nosave]
        assert_equal $digest [r debug digest]
        assert_range [r ttl str:ttl] 4990 5000
        assert_equal "embstr value in db 9" [r get str:embstr]
    }

    test {Tiering: BGSAVE with cold keys, then DEBUG RELOAD NOSAVE: the same data} {
        r flushall
        tier_populate
        set digest [r debug digest]
        r bgsave
        tier_wait_bgsave
        assert_equal 24 [tier_stat flash_cold_keys]
        assert_equal OK [r debug reload nosave]
        assert_equal $digest [r debug digest]
    }

    test {Tiering: BGSAVE while cold keys are deleted, overwritten and promoted} {
        r flushall
        tier_populate
        set digest [r debug digest]
        r config set rdb-key-save-delay 10000
        r bgsave
        # The child reads the flash file by the locations of its snapshot: space freed
        # now must not be reused under it.
        foreach db {9 10} {
            r select $db
            r del str:raw list:ql
            r set set:ht overwritten
            r hgetall hash:ht
            for {set i 0} {$i < 50} {incr i} {
                r set new$i [randstring 200 200 alpha]
                tier_demote new$i
            }
        }
        r select 9
        r config set rdb-key-save-delay 0
        tier_wait_bgsave
        assert_equal OK [r debug reload nosave]
        assert_equal $digest [r debug digest]
    }

    test {Tiering: DEBUG RELOAD with cold keys: the same data} {
        r flushall
        tier_populate
        set digest [r debug digest]
        assert_equal OK [r debug reload]
        assert_equal $digest [r debug digest]
        r select 10
        assert_equal {1 2 3 4 5 6 7 8 10} [r lrange list:ql 0 -1]
        r select 9
    }

    test {Tiering: DEBUG DIGEST and an AOF rewrite read cold values through several read-ahead windows} {
        # 3 MB of cold values: whole-dataset passes read them in location order, 1 MB at a
        # time. The digest must not depend on where values are, and the commands written by a
        # rewrite without the RDB preamble must load back the same data.
        r flushall
        set keys {}
        for {set i 0} {$i < 3000} {incr i} {
            r set big:$i "$i:[string repeat [format %c [expr {65 + $i % 26}]] 1000]"
            lappend keys big:$i
        }
        r rpush big:list {*}[lrange $keys 0 99]
        lappend keys big:list
        set hot_digest [r debug digest]
        tier_demote_many $keys
        assert_equal 3001 [tier_stat flash_cold_keys]
        set promotions [tier_stat flash_promotions]
        assert_equal $hot_digest [r debug digest]
        r config set aof-use-rdb-preamble no
        r config set appendonly yes
        tier_wait_aofrw
        assert_equal $promotions [tier_stat flash_promotions]
        assert_equal OK [r debug loadaof]
        assert_equal $hot_digest [r debug digest]
        assert_equal "2999:[string repeat [format %c [expr {65 + 2999 % 26}]] 1000]" [r get big:2999]
        r config set appendonly no
        r config set aof-use-rdb-preamble yes
    }
}

# Segments freed while a child saves must not be reused under it. The child reads the
# file in location order, a readahead window (1 MB) at a time, one key every
# rdb-key-save-delay: the keys deleted at once are beyond its first window, and the new
# values written next would land in their segments (the lowest free ones).
start_server [list tags {tiering external:skip} overrides [tier_overrides {
    save "" flash-capacity 4mb flash-segment-size 64kb flash-compaction no
}]] {
    test {Tiering: flash space freed during BGSAVE is not reused under the child} {
        set pool [randstring 2000 2000 alpha]
        set n 1600
        set rd [valkey_deferring_client]
        set keys {}
        for {set i 0} {$i < $n} {incr i} {
            $rd set k$i "$i:[string range $pool [expr {$i % 1000}] [expr {$i % 1000 + 999}]]"
            lappend keys k$i
        }
        for {set i 0} {$i < $n} {incr i} {
            $rd read
        }
        assert_equal [dict create OK $n] [tier_demote_many $keys]
        assert_equal $n [tier_stat flash_cold_keys]
        set digest [r debug digest]
        r config set rdb-key-save-delay 300
        r bgsave
        set keys {}
        for {set i 1000} {$i < $n} {incr i} {
            $rd del k$i
        }
        for {set i 0} {$i < 600} {incr i} {
            $rd set n$i "new:$i:[string range $pool [expr {$i + 500}] [expr {$i + 1499}]]"
            lappend keys n$i
        }
        for {set i 0} {$i < 1200} {incr i} {
            $rd read
        }
        $rd close
        assert_equal [dict create OK 600] [tier_demote_many $keys]
        assert_equal 1 [s rdb_bgsave_in_progress] "(the child was still saving)"
        r config set rdb-key-save-delay 0
        tier_wait_bgsave
        assert_equal OK [r debug reload nosave]
        assert_equal $digest [r debug digest]
        assert_equal "1500:[string range $pool 500 1499]" [r get k1500]
        assert_equal 0 [r exists n1]
    }
}

test {Tiering: a restart on the RDB gives exactly the data saved with cold keys} {
    set dir [tier_temp_dir rdb-restart]
    set overrides [tier_overrides [concat [list dir $dir save ""] $::tier_small_encodings]]
    start_server [list tags {tiering external:skip} overrides $overrides keep_persistence 1] {
        tier_populate
        set digest [r debug digest]
        r save
    }
    # The same flash path again: its old contents are ignored.
    start_server [list tags {tiering external:skip} overrides $overrides keep_persistence 1] {
        assert_equal $digest [r debug digest]
        assert_equal 0 [tier_stat flash_cold_keys]
        tier_demote str:raw
        assert_equal "[string repeat raw 20] in db 9" [r get str:raw]
        assert_range [r ttl str:ttl] 4990 5000
    }
    file delete -force $dir
} undefined {tiering external:skip}

test {Tiering: a restart under a small maxmemory demotes while loading: the same data} {
    set dir [tier_temp_dir rdb-load-demote]
    set overrides [tier_overrides [list dir $dir save "" flash-segment-size 64kb]]
    start_server [list tags {tiering external:skip} overrides $overrides keep_persistence 1] {
        set pool [randstring 1000 1000 alpha]
        for {set i 0} {$i < 500} {incr i} {
            r set k$i "$i:[string range $pool [expr {$i % 500}] [expr {$i % 500 + 499}]]"
        }
        set digest [r debug digest]
        set used [expr {[s used_memory] - [s mem_not_counted_for_evict]}]
        r save
    }
    # The data set takes ~250 KB more than the budget.
    lappend overrides maxmemory [expr {$used - 250 * 1024}]
    start_server [list tags {tiering external:skip} overrides $overrides keep_persistence 1] {
        assert_morethan [tier_stat flash_cold_keys] 0
        assert_equal 500 [r dbsize]
        assert_equal $digest [r debug digest]
        r config set maxmemory 0
        assert_equal "7:[string range $pool 7 506]" [r get k7]
    }
    file delete -force $dir
} undefined {tiering external:skip}

foreach preamble {yes no} {
    test "Tiering: BGREWRITEAOF (aof-use-rdb-preamble $preamble) with cold keys, then a restart on the AOF" {
        set dir [tier_temp_dir aof-$preamble]
        set overrides [tier_overrides [concat [list dir $dir appendonly yes appendfsync always \
            auto-aof-rewrite-percentage 0 save "" aof-use-rdb-preamble $preamble] $::tier_small_encodings]]
        start_server [list tags {tiering external:skip} overrides $overrides keep_persistence 1] {
            tier_populate
            r bgrewriteaof
            tier_wait_aofrw
            # Writes after the rewrite land in the new incr file, some on cold keys.
            r select 9
            r append str:embstr " appended"
            r set after-rewrite yes
            tier_demote str:embstr
            r select 10
            r del set:ht
            r select 9
            set digest [r debug digest]
            assert_equal 23 [tier_stat flash_cold_keys]
        }
        start_server [list tags {tiering external:skip} overrides $overrides keep_persistence 1] {
            assert_equal $digest [r debug digest]
            assert_equal "embstr value in db 9 appended" [r get str:embstr]
            # And once more through a rewrite of the data just loaded and demoted.
            tier_demote str:raw
            tier_demote zset:sl
            r bgrewriteaof
            tier_wait_aofrw
            assert_equal OK [r debug loadaof]
            assert_equal $digest [r debug digest]
        }
        file delete -force $dir
    } undefined {tiering external:skip}
}
