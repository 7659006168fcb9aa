# maxmemory and maxmemory-policy: the directives, eviction under every policy (memory kept
# near the limit, the right class of keys going, a hot set surviving under LRU and LFU),
# OOM errors when nothing can go, OBJECT FREQ / IDLETIME per policy, the `evicted`
# keyspace event, WATCH seeing evicted keys, and the INFO fields of eviction.
#
# Each fill gives the server a budget of a few MB above what it uses when the test starts,
# and writes ~1 KB values pipelined in batches, so a test takes a fraction of a second.
# The LRU hot-set test is the exception (~20 s): the LRU clock ticks once a second, so it
# writes at a pace where memory holds two seconds of writes (see the test).

set ::mm_value [string repeat x 1000]

# Sends every command of `cmds` (a list of argument lists) in one write, then reads all the
# replies. Returns the replies, with "!<error text>" in place of errors.
proc mm_pipeline {client cmds} {
    set out ""
    foreach argv $cmds {append out [::valkey::encode_request $argv]}
    $client write $out
    $client flush
    set replies {}
    foreach argv $cmds {
        if {[catch {$client read} reply]} {set reply "!$reply"}
        lappend replies $reply
    }
    return $replies
}

# Writes keys prefix0 .. prefix<count-1> (1 KB values), `ttl` seconds of TTL if non-zero.
# Returns the number of OOM errors.
proc mm_fill {client prefix count {ttl 0} {first 0}} {
    set ooms 0
    set batch 250
    for {set i $first} {$i < $first + $count} {incr i $batch} {
        set cmds {}
        for {set j $i} {$j < $i + $batch && $j < $first + $count} {incr j} {
            if {$ttl} {
                lappend cmds [list setex $prefix$j $ttl $::mm_value]
            } else {
                lappend cmds [list set $prefix$j $::mm_value]
            }
        }
        foreach reply [mm_pipeline $client $cmds] {
            if {[string match "!OOM*" $reply]} {incr ooms}
        }
    }
    return $ooms
}

# How many of the keys prefix0 .. prefix<count-1> exist.
proc mm_count_existing {prefix count {first 0}} {
    set cmds {}
    for {set i $first} {$i < $first + $count} {incr i} {lappend cmds [list exists $prefix$i]}
    set n 0
    foreach reply [mm_pipeline [srv 0 client] $cmds] {incr n $reply}
    return $n
}

# Gives the server `budget` bytes above its current use and returns the limit.
proc mm_set_budget {budget} {
    set limit [expr {[s used_memory] + $budget}]
    r config set maxmemory $limit
    return $limit
}

set ::mm_budget [expr {3 * 1024 * 1024}]

start_server {tags {"maxmemory"}} {
    test {maxmemory directives: defaults} {
        foreach {name value} {maxmemory 0 maxmemory-policy noeviction maxmemory-samples 5
                              maxmemory-eviction-tenacity 10 lfu-log-factor 10 lfu-decay-time 1
                              maxmemory-clients 0} {
            assert_equal [list $name $value] [r config get $name]
        }
    }

    test {maxmemory takes memory units and shows in INFO} {
        r config set maxmemory 100mb
        assert_equal {maxmemory 104857600} [r config get maxmemory]
        assert_equal 104857600 [s maxmemory]
        assert_equal 100.00M [s maxmemory_human]
        r config set maxmemory 0
        assert_equal 0B [s maxmemory_human]
    }

    test {maxmemory-policy takes the eight policies and nothing else} {
        foreach policy {volatile-lru volatile-lfu volatile-random volatile-ttl allkeys-lru
                        allkeys-lfu allkeys-random noeviction} {
            r config set maxmemory-policy $policy
            assert_equal $policy [s maxmemory_policy]
        }
        assert_error {ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction} {r config set maxmemory-policy lru}
        assert_equal noeviction [lindex [r config get maxmemory-policy] 1]
    }

    test {maxmemory-samples, tenacity, lfu-* ranges} {
        assert_error {*maxmemory-samples*between 1 and 64 inclusive*} {r config set maxmemory-samples 0}
        assert_error {*maxmemory-samples*between 1 and 64 inclusive*} {r config set maxmemory-samples 65}
        assert_error {*between 0 and 100 inclusive*} {r config set maxmemory-eviction-tenacity 101}
        assert_error {*between 0 and 2147483647 inclusive*} {r config set lfu-log-factor -1}
        r config set maxmemory-samples 10
        r config set maxmemory-eviction-tenacity 100
        r config set lfu-log-factor 0
        r config set lfu-decay-time 0
        assert_equal {maxmemory-samples 10} [r config get maxmemory-samples]
        r config set maxmemory-samples 5
        r config set maxmemory-eviction-tenacity 10
        r config set lfu-log-factor 10
        r config set lfu-decay-time 1
    }

    test {maxmemory-clients takes bytes or a percentage} {
        r config set maxmemory-clients 10%
        assert_equal {maxmemory-clients 10%} [r config get maxmemory-clients]
        r config set maxmemory-clients 1mb
        assert_equal {maxmemory-clients 1048576} [r config get maxmemory-clients]
        assert_error {*percentage argument must be less or equal to 100*} {r config set maxmemory-clients 101%}
        r config set maxmemory-clients 0
    }

    test {INFO has the eviction fields} {
        foreach field {evicted_keys evicted_clients total_eviction_exceeded_time
                       current_eviction_exceeded_time} {
            assert_match {[0-9]*} [s $field]
        }
        assert_equal 0 [s mem_not_counted_for_evict]
    }
}

start_server {tags {"maxmemory"}} {
    test {OBJECT FREQ counts accesses under an LFU policy} {
        r config set maxmemory-policy allkeys-lfu
        # No decay, and a counter that grows on every access.
        r config set lfu-decay-time 0
        r config set lfu-log-factor 0
        r set foo bar
        assert_equal 5 [r object freq foo]
        for {set i 0} {$i < 10} {incr i} {r get foo}
        assert_equal 15 [r object freq foo]
        # OBJECT itself, EXISTS and TYPE-like introspection do not count.
        assert_equal 15 [r object freq foo]
        # An overwrite keeps the counter (and counts as an access).
        r set foo baz
        assert_equal 16 [r object freq foo]
        # With the default log factor the counter grows slower than the accesses.
        r config set lfu-log-factor 10
        r set bar x
        for {set i 0} {$i < 100} {incr i} {r get bar}
        assert_range [r object freq bar] 6 20
        r config set lfu-decay-time 1
    }

    test {OBJECT IDLETIME errors under LFU, OBJECT FREQ under LRU} {
        r config set maxmemory-policy volatile-lfu
        assert_error {ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.} {r object idletime foo}
        r config set maxmemory-policy allkeys-lru
        assert_error {ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.} {r object freq foo}
        r config set maxmemory-policy noeviction
        assert_error {ERR An LFU maxmemory policy is not selected*} {r object freq foo}
    }

    test {OBJECT IDLETIME grows until the key is read} {
        r config set maxmemory-policy allkeys-lru
        r set idle x
        after 1100
        assert_morethan_equal [r object idletime idle] 1
        r get idle
        assert_equal 0 [r object idletime idle]
        r config set maxmemory-policy noeviction
    }

    test {A transaction is refused when memory is over the limit} {
        r flushall
        r config set maxmemory-policy noeviction
        r multi
        r set a b
        # Over the limit between queuing and EXEC: EXEC itself is refused.
        set r2 [valkey_client]
        $r2 config set maxmemory 1
        assert_error {EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.} {r exec}
        # Over the limit while queuing: the deny-oom command is refused, EXEC aborts.
        r multi
        assert_error {OOM *} {r set a b}
        assert_error {EXECABORT Transaction discarded because of previous errors.} {r exec}
        # A transaction of reads runs.
        r multi
        r get a
        r ping
        assert_equal {{} PONG} [r exec]
        $r2 config set maxmemory 0
        $r2 close
    }

    test {An evicted key raises the evicted event and touches WATCH} {
        r flushall
        r config set maxmemory-policy volatile-ttl
        r config set notify-keyspace-events Ee
        set sub [valkey_deferring_client]
        $sub subscribe __keyevent@9__:evicted
        $sub read
        r setex victim 1000 x
        set rd [valkey_deferring_client]
        mm_fill $rd persistent 500
        $rd close
        r watch victim
        set r2 [valkey_client]
        $r2 select 9
        # Only `victim` has a TTL: it goes, then nothing more can.
        $r2 config set maxmemory [expr {[s used_memory] - 100 * 1024}]
        assert_equal 0 [$r2 exists victim]
        assert_equal {message __keyevent@9__:evicted victim} [$sub read]
        r multi
        r ping
        assert_equal {} [r exec]
        assert_error {OOM *} {$r2 set foo bar}
        assert_equal 1 [s evicted_keys]
        $r2 config set maxmemory 0
        $r2 close
        $sub close
        r config set notify-keyspace-events ""
    }

    test {Eviction goes on from a timer when its time budget runs out} {
        r flushall
        r config resetstat
        r config set maxmemory-policy allkeys-random
        # Tenacity 0: every call evicts one batch of 16 keys and leaves the rest to the timer.
        r config set maxmemory-eviction-tenacity 0
        r debug populate 10000 key 1000
        r config set maxmemory [expr {[s used_memory] - 4 * 1024 * 1024}]
        after 300
        # This INFO call could evict 16 keys at most itself.
        assert_morethan [s evicted_keys] 1000
        assert_equal 0 [s current_eviction_exceeded_time]
        assert_morethan_equal [s total_eviction_exceeded_time] 0
        r config set maxmemory-eviction-tenacity 10
        r config set maxmemory 0
    }

    test {Eviction waits while clients are paused} {
        r flushall
        r config resetstat
        r config set maxmemory-policy allkeys-random
        r debug populate 3000 key 1000
        r client pause 300 write
        r config set maxmemory [expr {[s used_memory] - 1024 * 1024}]
        r ping
        assert_equal 0 [s evicted_keys]
        assert_equal 3000 [r dbsize]
        r client unpause
        r ping
        wait_for_condition 50 10 {[s evicted_keys] > 0} else {fail "no eviction after the pause"}
        r config set maxmemory 0
    }
}

foreach policy {allkeys-lru allkeys-lfu allkeys-random volatile-lru volatile-lfu volatile-random volatile-ttl} {
    start_server [list tags {"maxmemory"} overrides [list maxmemory-policy $policy]] {
        set rd [valkey_deferring_client]
        set volatile [string match volatile-* $policy]

        test "$policy: memory stays at the limit while writing 3x the budget" {
            # Keys without TTL first: a volatile policy must keep all of them.
            mm_fill $rd persistent 200
            set limit [mm_set_budget $::mm_budget]
            set ttl [expr {$volatile ? 100000 : 0}]
            set ooms [mm_fill $rd k 9000 $ttl]
            assert_equal 0 $ooms
            set used [s used_memory]
            assert_lessthan_equal $used [expr {$limit * 1.03}]
            assert_morethan [s evicted_keys] 4000
            set left [mm_count_existing k 9000]
            assert_morethan $left 1000
            assert_lessthan $left 5000
            if {$volatile} {
                assert_equal 200 [mm_count_existing persistent 200]
            }
        }

        if {$volatile} {
            test "$policy: OOM when only keys without TTL are left" {
                r flushall
                r config set maxmemory 0
                mm_fill $rd persistent 2000
                r config set maxmemory [expr {[s used_memory] - 512 * 1024}]
                assert_error {OOM command not allowed when used memory > 'maxmemory'.} {r set foo bar}
                # Reads and deletes still work.
                assert_equal $::mm_value [r get persistent1]
                assert_equal 1 [r del persistent1]
                assert_equal 1999 [r dbsize]
            }
        }
        $rd close
    }
}

start_server {tags {"maxmemory"} overrides {maxmemory-policy noeviction}} {
    set rd [valkey_deferring_client]
    test {noeviction: writes fail with OOM, reads and DEL go on} {
        set limit [mm_set_budget $::mm_budget]
        set ooms [mm_fill $rd k 5000]
        assert_morethan $ooms 1000
        assert_equal 0 [s evicted_keys]
        assert_lessthan_equal [s used_memory] [expr {$limit * 1.03}]
        assert_error {OOM *} {r set foo bar}
        assert_error {OOM *} {r setex foo 100 bar}
        # Reads, deletes, and commands that do not grow memory keep working.
        assert_equal $::mm_value [r get k1]
        assert_equal 1 [r exists k1]
        assert_equal 1 [r del k1]
        assert_equal PONG [r ping]
        assert_equal 1 [r expire k2 1000]
        # Freeing memory makes room again.
        set cmds {}
        for {set i 0} {$i < 1000} {incr i} {lappend cmds [list del k$i]}
        mm_pipeline $rd $cmds
        assert_equal OK [r set foo bar]
    }

    test {noeviction: the time over maxmemory is measured} {
        r config set maxmemory 1
        catch {r set foo bar}
        after 20
        assert_morethan [s current_eviction_exceeded_time] 0
        r config set maxmemory 0
        r ping
        assert_equal 0 [s current_eviction_exceeded_time]
        assert_morethan [s total_eviction_exceeded_time] 0
    }
    $rd close
}

start_server {tags {"maxmemory"} overrides {maxmemory-policy volatile-ttl}} {
    set rd [valkey_deferring_client]
    test {volatile-ttl evicts the nearest expiries first} {
        # 4000 keys whose TTLs grow with their number, written in a shuffled order, then
        # a limit that makes about half of them go.
        set order {}
        for {set i 0} {$i < 4000} {incr i} {lappend order [list [expr {rand()}] $i]}
        set cmds {}
        foreach pair [lsort -index 0 $order] {
            set i [lindex $pair 1]
            lappend cmds [list setex k$i [expr {10000 + $i}] $::mm_value]
            if {[llength $cmds] == 250} {mm_pipeline $rd $cmds; set cmds {}}
        }
        mm_pipeline $rd $cmds
        r config set maxmemory [expr {[s used_memory] - 2 * 1024 * 1024}]
        r ping
        wait_for_condition 100 10 {[s current_eviction_exceeded_time] == 0} else {fail "still over maxmemory"}
        set left [r dbsize]
        assert_range $left 1500 2500
        # Eviction is approximated (keys never sampled stay), but the soonest quarter is
        # mostly gone and the latest quarter almost all there; random eviction would leave
        # half of each.
        assert_lessthan [mm_count_existing k 1000 0] 250
        assert_morethan [mm_count_existing k 1000 3000] 950
    }
    $rd close
}

start_server {tags {"maxmemory"} overrides {maxmemory-policy allkeys-lfu}} {
    set rd [valkey_deferring_client]
    test {allkeys-lfu: a hot set survives writing 10x the budget} {
        set limit [mm_set_budget $::mm_budget]
        # About 2500 keys fit: the hot set is a tenth of them.
        set hot 250
        mm_fill $rd hot $hot
        set touch {}
        for {set i 0} {$i < $hot} {incr i} {lappend touch [list get hot$i]}
        for {set round 0} {$round < 30} {incr round} {
            mm_pipeline $rd $touch
            mm_fill $rd k 1000 0 [expr {$round * 1000}]
        }
        assert_morethan [s evicted_keys] 25000
        assert_lessthan_equal [s used_memory] [expr {$limit * 1.03}]
        assert_morethan_equal [mm_count_existing hot $hot] [expr {$hot * 0.9}]
    }
    $rd close
}

start_server {tags {"maxmemory"} overrides {maxmemory-policy allkeys-lru}} {
    set rd [valkey_deferring_client]
    test {allkeys-lru: a hot set survives writing 10x the budget} {
        set limit [mm_set_budget $::mm_budget]
        # The LRU clock ticks once a second: keys written within the same second look
        # equally recent, and sampling tells the hot keys from the cold ones only while
        # enough cold keys are older than the last tick. So: memory is filled with cold
        # keys first, which are let age a tick before the hot set is written; then writes
        # are paced to half of what memory holds per second (~20 s for 10x the budget),
        # and the hot set is read between batches of 100 writes.
        mm_fill $rd k 3000
        set rate [expr {[r dbsize] / 2}]
        after 1100
        set hot 250
        mm_fill $rd hot $hot
        set touch {}
        for {set i 0} {$i < $hot} {incr i} {lappend touch [list get hot$i]}
        set start [clock milliseconds]
        set written 0
        while {$written < 30000} {
            mm_pipeline $rd $touch
            mm_fill $rd k 100 0 [expr {3000 + $written}]
            incr written 100
            set wait [expr {$start + $written * 1000 / $rate - [clock milliseconds]}]
            if {$wait > 0} {after $wait}
        }
        assert_morethan [s evicted_keys] 25000
        assert_lessthan_equal [s used_memory] [expr {$limit * 1.03}]
        assert_morethan_equal [mm_count_existing hot $hot] [expr {$hot * 0.9}]
    }
    $rd close
}
