# Tiering: blocking commands (BLPOP, BLMOVE, BZPOPMIN, BLMPOP) whose source or destination
# is cold, served at once or after blocking on an empty key.

source [file join $::th_root tests support tiering.tcl]

start_server [list tags {tiering external:skip} overrides [tier_overrides]] {
    test {Tiering: BLPOP / BRPOP on a cold list with elements reply at once} {
        r flushall
        r rpush l a b c
        tier_demote l
        assert_equal {l a} [r blpop nosuch l 0]
        tier_demote l
        assert_equal {l c} [r brpop l 1]
        assert_equal {b} [r lrange l 0 -1]
    }

    test {Tiering: BLMOVE from a cold list to a cold list replies at once} {
        r flushall
        r rpush src a b c
        r rpush dst x y
        tier_demote src
        tier_demote dst
        assert_equal c [r blmove src dst right left 0]
        assert_equal {a b} [r lrange src 0 -1]
        assert_equal {c x y} [r lrange dst 0 -1]
        tier_demote src
        tier_demote dst
        assert_equal b [r brpoplpush src dst 0]
        assert_equal {b c x y} [r lrange dst 0 -1]
    }

    test {Tiering: BZPOPMIN / BZPOPMAX / BZMPOP / BLMPOP on cold keys reply at once} {
        r flushall
        r zadd z 1 a 2 b 3 c 4 d
        r rpush l 1 2 3
        tier_demote z
        assert_equal {z a 1} [r bzpopmin z 0]
        tier_demote z
        assert_equal {z d 4} [r bzpopmax nosuch z 0]
        tier_demote z
        assert_equal {z {{b 2}}} [r bzmpop 0 1 z min]
        tier_demote l
        assert_equal {l {1 2}} [r blmpop 0 2 nosuch l left count 2]
        assert_equal {c 3} [r zrange z 0 -1 withscores]
    }

    test {Tiering: a client blocked on an empty key is served by a push (BLPOP)} {
        r flushall
        set rd [valkey_deferring_client]
        $rd blpop empty 0
        wait_for_blocked_clients_count 1
        r rpush empty hello
        assert_equal {empty hello} [$rd read]
        $rd close
    }

    test {Tiering: a blocked BLMOVE with a cold destination is served by a push} {
        r flushall
        r rpush dst x y
        tier_demote dst
        set rd [valkey_deferring_client]
        $rd blmove src dst left left 0
        wait_for_blocked_clients_count 1
        r rpush src v
        assert_equal v [$rd read]
        $rd close
        assert_equal {v x y} [r lrange dst 0 -1]
        assert_equal 0 [r exists src]
    }

    test {Tiering: a blocked BLPOP is served by LMOVE from a cold list} {
        r flushall
        r rpush cold a b
        tier_demote cold
        set rd [valkey_deferring_client]
        $rd blpop target 0
        wait_for_blocked_clients_count 1
        assert_equal a [r lmove cold target left left]
        assert_equal {target a} [$rd read]
        $rd close
        assert_equal {b} [r lrange cold 0 -1]
    }

    test {Tiering: a blocked BZPOPMIN is served by ZUNIONSTORE from cold sorted sets} {
        r flushall
        r zadd z1 5 a
        r zadd z2 3 b
        tier_demote z1
        tier_demote z2
        set rd [valkey_deferring_client]
        $rd bzpopmin out 0
        wait_for_blocked_clients_count 1
        assert_equal 2 [r zunionstore out 2 z1 z2]
        assert_equal {out b 3} [$rd read]
        $rd close
        assert_equal {a 5} [r zrange out 0 -1 withscores]
    }

    test {Tiering: several clients blocked on one key, a cold list pushed to it} {
        r flushall
        set clients {}
        for {set i 0} {$i < 3} {incr i} {
            set rd [valkey_deferring_client]
            $rd blpop q 0
            lappend clients $rd
            wait_for_blocked_clients_count [expr {$i + 1}]
        }
        r rpush src 1 2 3
        tier_demote src
        r multi
        r lmove src q left right
        r lmove src q left right
        r lmove src q left right
        r exec
        set got {}
        foreach rd $clients {
            lappend got [$rd read]
            $rd close
        }
        assert_equal {{q 1} {q 2} {q 3}} $got
    }

    test {Tiering: BLPOP with a timeout on a cold key that is deleted meanwhile} {
        r flushall
        r rpush l a
        tier_demote l
        r del l
        assert_equal {} [r blpop l 0.05]
    }
}
