# Lazy free: UNLINK, FLUSHALL/FLUSHDB ASYNC and the lazyfree-lazy-* options hand big values
# and whole databases to the background thread, counted by INFO's lazyfree_pending_objects
# and lazyfreed_objects. Small values (and strings, whatever their size) are freed at once,
# so they do not count.

# Creates a big collection under `key` (1000 elements), with the first collection type this
# server has; returns its type, or "" when there is none yet.
proc lf_big {key} {
    set members {}
    for {set i 0} {$i < 1000} {incr i} {lappend members m$i}
    set pairs {}
    foreach m $members {lappend pairs $m 1}
    foreach {type cmd} [list set [list sadd $key {*}$members] \
                             list [list rpush $key {*}$members] \
                             hash [list hset $key {*}$pairs] \
                             zset [list zadd $key {*}[lreverse $pairs]]] {
        if {![catch {r {*}$cmd} err]} {return $type}
        if {![string match {*unknown command*} $err]} {error $err}
    }
    return ""
}

proc lf_big_or_skip {key} {
    if {[lf_big $key] eq ""} {skip "no collection type yet"}
}

proc lf_freed {} {
    return [s lazyfreed_objects]
}

# Waits until the lazy-free thread has freed `count` objects in total.
proc lf_wait_freed {count} {
    wait_for_condition 100 10 {[lf_freed] >= $count} else {
        fail "lazyfreed_objects is [lf_freed], expected $count"
    }
    wait_for_condition 100 10 {[s lazyfree_pending_objects] == 0} else {
        fail "objects still pending"
    }
}

start_server {tags {"lazyfree"}} {
    test {INFO has the lazy free fields} {
        assert_equal 0 [s lazyfree_pending_objects]
        assert_equal 0 [s lazyfreed_objects]
    }

    test {UNLINK of a big value returns at once and frees it in the background} {
        lf_big_or_skip a
        lf_big b
        lf_big c
        r config resetstat
        set start [clock milliseconds]
        assert_equal 3 [r unlink a b c]
        assert_lessthan [expr {[clock milliseconds] - $start}] 500
        assert_equal 0 [r exists a b c]
        lf_wait_freed 3
        assert_equal 3 [lf_freed]
    }

    test {UNLINK of small values and of strings frees them at once} {
        r config resetstat
        r set str [string repeat x 100000]
        r sadd small a b c
        assert_equal 2 [r unlink str small]
        after 50
        assert_equal 0 [lf_freed]
    }

    test {DEL follows lazyfree-lazy-user-del} {
        lf_big_or_skip big
        r config resetstat
        r config set lazyfree-lazy-user-del no
        r del big
        after 50
        assert_equal 0 [lf_freed]
        lf_big big
        r config set lazyfree-lazy-user-del yes
        r del big
        lf_wait_freed 1
    }

    test {FLUSHALL ASYNC and FLUSHDB ASYNC free the keys in the background} {
        r config resetstat
        r debug populate 1000 key 10
        assert_equal OK [r flushdb async]
        assert_equal 0 [r dbsize]
        lf_wait_freed 1000
        r debug populate 500 key 10
        r select 10
        r debug populate 500 key 10
        assert_equal OK [r flushall async]
        assert_equal 0 [r dbsize]
        r select 9
        assert_equal 0 [r dbsize]
        lf_wait_freed 2000
    }

    test {FLUSHALL follows lazyfree-lazy-user-flush; SYNC is synchronous} {
        r config resetstat
        r config set lazyfree-lazy-user-flush no
        r debug populate 1000 key 10
        r flushall
        after 50
        assert_equal 0 [lf_freed]
        r config set lazyfree-lazy-user-flush yes
        r debug populate 1000 key 10
        r flushall sync
        after 50
        assert_equal 0 [lf_freed]
        r debug populate 1000 key 10
        r flushall
        lf_wait_freed 1000
    }

    test {Small databases are flushed at once} {
        r config resetstat
        r debug populate 10 key 10
        r flushall async
        assert_equal 0 [r dbsize]
        after 50
        assert_equal 0 [lf_freed]
    }

    test {An overwritten big value follows lazyfree-lazy-server-del} {
        lf_big_or_skip big
        r config resetstat
        r config set lazyfree-lazy-server-del no
        r set big x
        after 50
        assert_equal 0 [lf_freed]
        r del big
        lf_big big
        r config set lazyfree-lazy-server-del yes
        r set big x
        lf_wait_freed 1
        assert_equal x [r get big]
    }

    test {An expired big value follows lazyfree-lazy-expire} {
        r del big
        lf_big_or_skip big
        r config resetstat
        r pexpire big 10
        after 30
        assert_equal 0 [r exists big]
        lf_wait_freed 1
        r config set lazyfree-lazy-expire no
        lf_big big
        r pexpire big 10
        after 30
        assert_equal 0 [r exists big]
        after 50
        assert_equal 1 [lf_freed]
        r config set lazyfree-lazy-expire yes
    }

    test {An evicted big value follows lazyfree-lazy-eviction} {
        r flushall
        lf_big_or_skip big
        r config resetstat
        r config set maxmemory-policy allkeys-lru
        r config set maxmemory 1
        # The only key goes; memory stays over the limit (nothing else can go).
        catch {r set foo bar}
        assert_equal 0 [r exists big]
        assert_equal 1 [s evicted_keys]
        lf_wait_freed 1
        r config set maxmemory 0
        r config set lazyfree-lazy-eviction no
        lf_big big
        r config set maxmemory 1
        catch {r set foo bar}
        assert_equal 0 [r exists big]
        after 50
        assert_equal 1 [lf_freed]
        r config set maxmemory 0
        r config set lazyfree-lazy-eviction yes
    }

    test {CONFIG RESETSTAT resets lazyfreed_objects} {
        lf_big_or_skip big
        r unlink big
        lf_wait_freed 1
        r config resetstat
        assert_equal 0 [lf_freed]
    }
}
