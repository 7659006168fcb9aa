# Replication with tiering (issue 7, "the master link of a replica works"): commands the
# primary streams on keys whose values are cold on the replica wait for their reads, in
# order, and are never refused for memory; a full sync of a primary with cold values gives
# the replica exact data; a replica under a small maxmemory demotes instead of evicting.

source [file join $::th_root tests support tiering.tcl]
source [file join $::th_root tests helpers replication.tcl]

# Values of every demotable type, under prefix p: random letters so that the RDB encoding
# does not compress them away.
proc repl_tier_populate {level p n} {
    set pool [randstring 400 400 alpha]
    for {set i 0} {$i < $n} {incr i} {
        set v "$i:[string range $pool [expr {$i % 200}] end]"
        r $level set $p:str:$i $v
        r $level hset $p:hash:$i f1 $v f2 [string reverse $v] n 10
        r $level rpush $p:list:$i a $v b
        r $level sadd $p:set:$i $v x y
        r $level zadd $p:zset:$i 1 $v 2 x 3 y
    }
}

proc repl_tier_keys {level p n} {
    set keys {}
    for {set i 0} {$i < $n} {incr i} {
        foreach t {str hash list set zset} {
            lappend keys $p:$t:$i
        }
    }
    return $keys
}

# Every key of the replica cold (checked), through FLASH.DEBUG.DEMOTE.
proc repl_tier_demote_all {keys} {
    set counts [tier_demote_many $keys]
    foreach reply [dict keys $counts] {
        if {$reply ni {OK ALREADY_COLD}} {
            fail "FLASH.DEBUG.DEMOTE replied $reply ($counts)"
        }
    }
    foreach k $keys {
        tier_assert_tier cold $k
    }
}

# Calls of FLASH.* commands on the current server, from INFO commandstats.
proc repl_flash_calls {} {
    set total 0
    foreach line [split [r info commandstats] "\n"] {
        if {[regexp {^cmdstat_flash\.[^:]+:calls=([0-9]+)} $line -> calls]} {
            incr total $calls
        }
    }
    return [dict create total $total]
}

start_server [list tags {tiering repl external:skip} overrides [tier_overrides]] {
    start_server [list overrides [tier_overrides]] {
        set n 40
        test "Tiering replica: the primary's commands on cold keys wait for their reads, in order" {
            repl_attach
            repl_tier_populate -1 k $n
            repl_wait_caught_up
            set keys [repl_tier_keys 0 k $n]
            repl_tier_demote_all $keys
            set blocked [tier_stat flash_blocked_commands]
            # One pipeline of writes that all read a cold value on the replica, several on
            # the same key, interleaved: their order decides the result.
            set rd [valkey_deferring_client -1]
            set sent 0
            for {set i 0} {$i < $n} {incr i} {
                $rd append k:str:$i -a
                $rd hset k:hash:$i f1 new$i
                $rd hincrby k:hash:$i n $i
                $rd lpush k:list:$i head
                $rd rpop k:list:$i
                $rd sadd k:set:$i added
                $rd zincrby k:zset:$i 5 x
                $rd append k:str:$i -b
                $rd setrange k:str:$i 0 Z
                incr sent 9
            }
            $rd flush
            for {set j 0} {$j < $sent} {incr j} {
                $rd read
            }
            $rd close
            repl_wait_caught_up
            repl_wait_same_digest
            assert_morethan [tier_stat flash_blocked_commands] $blocked
            assert_equal [r -1 get k:str:7] [r get k:str:7]
            assert_match "Z*-a-b" [r get k:str:7]
            assert_equal 17 [r hget k:hash:7 n]
            assert_equal 0 [tier_stat flash_read_failures]
            # The stream was applied up to the last byte: offsets agree.
            assert_equal [s -1 master_repl_offset] [s slave_repl_offset]
        }

        test "Tiering replica: MULTI/EXEC and a script's effects on cold keys" {
            set keys [repl_tier_keys 0 k 5]
            repl_tier_demote_all $keys
            r -1 multi
            r -1 append k:str:0 -tx
            r -1 hset k:hash:1 f2 tx
            r -1 lrem k:list:2 0 a
            r -1 exec
            r -1 eval {redis.call('append', KEYS[1], '-lua'); return redis.call('zadd', KEYS[2], 9, 'lua')} 2 k:str:3 k:zset:4
            repl_wait_caught_up
            repl_wait_same_digest
            assert_match "*-tx" [r get k:str:0]
        }

        test "Tiering: FLASH.* writes replicate as native commands (the replica never runs FLASH.*)" {
            set keys [repl_tier_keys 0 k 5]
            repl_tier_demote_all $keys
            set calls_before [dict get [repl_flash_calls] total]
            r -1 flash.set k:str:0 fresh px 500000
            r -1 flash.hset k:hash:0 f9 v9 ex 600
            r -1 flash.lpush k:list:0 l1 l2 keepttl
            r -1 flash.zadd k:zset:0 7 z7
            r -1 flash.rpoplpush k:list:1 k:list:2
            r -1 flash.zunionstore k:zset:dst 2 k:zset:0 k:zset:1 weights 1 2
            r -1 flash.set k:tmp x
            r -1 flash.del k:tmp
            repl_wait_caught_up
            repl_wait_same_digest
            assert_equal fresh [r get k:str:0]
            assert_range [r pttl k:str:0] 1 500000
            assert_range [r ttl k:hash:0] 1 600
            assert_equal 0 [r exists k:tmp]
            # The replica's primary link ran native commands only.
            assert_equal $calls_before [dict get [repl_flash_calls] total]
        }

        test "Tiering replica: deletions, overwrites and expiry of cold keys from the primary" {
            set keys [repl_tier_keys 0 k 5]
            repl_tier_demote_all $keys
            r -1 del k:str:0 k:hash:0
            r -1 set k:str:1 overwritten
            r -1 pexpire k:list:1 1
            r -1 rename k:set:2 k:set:renamed
            after 20
            r -1 exists k:list:1 ;# expires it on the primary: a DEL follows
            repl_wait_caught_up
            repl_wait_same_digest
            assert_equal 0 [r exists k:str:0 k:hash:0 k:list:1]
            assert_equal overwritten [r get k:str:1]
        }

        test "Tiering primary: a full sync of cold values gives the replica exact data" {
            r replicaof no one
            r flushall
            set keys [r -1 keys k:*]
            # Cold on the primary this time.
            foreach k $keys {
                tier_demote $k -1
            }
            assert_equal [llength $keys] [tier_stat flash_cold_keys -1]
            set forks [repl_stat total_forks -1]
            repl_attach
            assert_equal [expr {$forks + 1}] [repl_stat total_forks -1]
            repl_wait_same_digest
            # The primary's values stayed cold: the child read them from flash.
            assert_equal [llength $keys] [tier_stat flash_cold_keys -1]
        }
    }
}

start_server [list tags {tiering repl external:skip} overrides [tier_overrides]] {
    start_server [list overrides [tier_overrides {maxmemory-policy allkeys-lru flash-segment-size 64kb}]] {
        test "Tiering replica under a small maxmemory: demotes the stream's values, evicts nothing" {
            repl_attach
            repl_tier_populate -1 base 20
            repl_wait_caught_up
            set used [expr {[s used_memory] - [s mem_not_counted_for_evict]}]
            r config set maxmemory [expr {$used + 100 * 1024}]
            # More than the budget arrives through the stream.
            set pool [randstring 1000 1000 alpha]
            set rd [valkey_deferring_client -1]
            for {set i 0} {$i < 800} {incr i} {
                $rd set big:$i "$i:[string range $pool [expr {$i % 500}] end]"
            }
            for {set i 0} {$i < 800} {incr i} {
                $rd read
            }
            $rd close
            repl_wait_caught_up
            wait_for_condition 200 20 {[tier_stat flash_cold_keys] > 100} else {
                fail "the replica did not demote: [r info flash]"
            }
            assert_equal 0 [s evicted_keys]
            assert_equal [r -1 dbsize] [r dbsize]
            # Appends on whatever went cold, through the stream.
            set rd [valkey_deferring_client -1]
            for {set i 0} {$i < 800} {incr i 3} {
                $rd append big:$i !
            }
            for {set i 0} {$i < 800} {incr i 3} {
                $rd read
            }
            $rd close
            repl_wait_caught_up
            repl_wait_same_digest
            assert_equal 0 [tier_stat flash_read_failures]
            r config set maxmemory 0
        }
    }
}
