# Tiering: expiry of cold keys (lazy and active) releases their flash space without
# reading them; SET over a cold key replaces it without a read, SET ... GET returns the
# old value.

source [file join $::th_root tests support tiering.tcl]

start_server [list tags {tiering external:skip} overrides [tier_overrides]] {
    set value [string repeat "e" 60]

    test {Tiering: a cold key keeps its TTL, and the TTL survives its promotion} {
        r flushall
        r set k $value px 300000
        tier_demote k
        assert_range [r pttl k] 290000 300000
        assert_equal $value [r get k]
        tier_assert_tier hot k
        assert_range [r pttl k] 290000 300000
    }

    test {Tiering: a cold key expires lazily: no read, flash space released} {
        r flushall
        r debug set-active-expire 0
        set live0 [tier_stat flash_live_bytes]
        r set k $value
        r hset h f $value
        tier_demote k
        tier_demote h
        set expired [s expired_keys]
        tier_no_read {
            assert_equal 1 [r pexpire k 20]
            assert_equal 1 [r pexpire h 20]
        }
        after 40
        set promotions [tier_stat flash_promotions]
        assert_equal {} [r get k]
        assert_equal {} [r hgetall h]
        r debug set-active-expire 1
        assert_equal [expr {$expired + 2}] [s expired_keys]
        assert_equal 0 [r dbsize]
        assert_equal 0 [tier_stat flash_cold_keys]
        assert_equal $live0 [tier_stat flash_live_bytes]
        # The values of expired keys are never needed: nothing is read.
        assert_equal [tier_stat flash_promotions] $promotions "(flash_promotions)"
    }

    test {Tiering: cold keys expire actively: no read, flash space released} {
        r flushall
        r debug set-active-expire 1
        set live0 [tier_stat flash_live_bytes]
        for {set i 0} {$i < 10} {incr i} {
            r set k$i "$i:$value"
            tier_demote k$i
        }
        r set stays "$value:stays"
        tier_demote stays
        tier_no_read {
            for {set i 0} {$i < 10} {incr i} {
                r pexpire k$i 10
            }
            wait_for_condition 200 10 {[r dbsize] == 1} else {
                fail "cold keys were not expired: dbsize [r dbsize]"
            }
        }
        assert_equal 1 [tier_stat flash_cold_keys]
        assert_morethan [tier_stat flash_live_bytes] $live0
        assert_equal "$value:stays" [r get stays]
    }

    test {Tiering: EXPIRE in the past deletes a cold key without reading it} {
        r flushall
        set live0 [tier_stat flash_live_bytes]
        r rpush l a b c
        tier_demote l
        tier_no_read {
            assert_equal 1 [r expire l -1]
            assert_equal 0 [r exists l]
        }
        assert_equal $live0 [tier_stat flash_live_bytes]
    }

    test {Tiering: SET over a cold key replaces it without reading it} {
        r flushall
        set live0 [tier_stat flash_live_bytes]
        r set k $value
        r hset h f $value
        tier_demote k
        tier_demote h
        tier_no_read {
            assert_equal OK [r set k new]
            assert_equal OK [r set h new2 ex 100]
            assert_equal {} [r set h other nx]
        }
        assert_equal new [r get k]
        assert_equal new2 [r get h]
        assert_equal $live0 [tier_stat flash_live_bytes]
    }

    test {Tiering: SETEX PSETEX MSET over cold keys replace them without reading them} {
        r flushall
        foreach k {a b c} {
            r set $k "$k:$value"
            tier_demote $k
        }
        tier_no_read {
            r setex a 100 A
            r psetex b 100000 B
            r mset c C
        }
        assert_equal {A B C} [r mget a b c]
    }

    test {Tiering: SET NX / XX / KEEPTTL on cold keys} {
        r flushall
        r set k $value ex 1000
        tier_demote k
        assert_equal {} [r set k x nx]
        tier_assert_tier cold k
        assert_equal OK [r set k y xx keepttl]
        assert_equal y [r get k]
        assert_range [r ttl k] 990 1000
    }

    test {Tiering: SET ... GET on a cold key returns the old value} {
        r flushall
        r set k $value
        tier_demote k
        assert_equal $value [r set k new get]
        assert_equal new [r get k]
        # On a cold key of another type: the error, and the key is left alone.
        r hset h f v
        tier_demote h
        assert_error {WRONGTYPE*} {r set h new get}
        assert_equal {f v} [r hgetall h]
        # GETEX and GETDEL read it too.
        r set k $value
        tier_demote k
        assert_equal $value [r getex k ex 500]
        assert_range [r ttl k] 490 500
        tier_demote k
        assert_equal $value [r getdel k]
        assert_equal 0 [r exists k]
    }
}
