# Expiry: EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT with NX XX GT LT, TTL / PTTL /
# EXPIRETIME / PEXPIRETIME, PERSIST, lazy expiry on access, active expiry of keys nobody
# reads, and expired keys being invisible to KEYS, SCAN, EXISTS and (eventually) DBSIZE.
#
# Tests that need the active expire cycle off use DEBUG SET-ACTIVE-EXPIRE.

start_server {tags {"expire"}} {
    test {EXPIRE sets a TTL, overwriting resets it} {
        r set x foo
        assert_equal 1 [r expire x 100]
        assert_range [r ttl x] 98 100
        assert_equal 1 [r expire x 200]
        assert_range [r ttl x] 198 200
        r set x bar
        assert_equal -1 [r ttl x]
    }

    test {EXPIRE on a missing key returns 0} {
        r del nokey
        assert_equal 0 [r expire nokey 100]
        assert_equal 0 [r pexpire nokey 100]
        assert_equal 0 [r expireat nokey 4000000000]
        assert_equal 0 [r pexpireat nokey 4000000000000]
        assert_equal 0 [r exists nokey]
    }

    test {The key expires} {
        r set x foo
        r pexpire x 100
        assert_equal foo [r get x]
        after 150
        assert_equal {} [r get x]
        assert_equal 0 [r exists x]
    }

    test {PEXPIRE, EXPIREAT and PEXPIREAT} {
        r set x foo
        assert_equal 1 [r pexpire x 100000]
        assert_range [r pttl x] 99000 100000
        set at [expr {[clock seconds] + 100}]
        assert_equal 1 [r expireat x $at]
        assert_equal $at [r expiretime x]
        assert_range [r ttl x] 98 100
        set atms [expr {[clock milliseconds] + 100000}]
        assert_equal 1 [r pexpireat x $atms]
        assert_equal $atms [r pexpiretime x]
        assert_equal [expr {($atms + 500) / 1000}] [r expiretime x]
    }

    test {A time in the past deletes the key} {
        foreach cmd {{expire x -1} {expire x 0} {pexpire x -100} {pexpire x 0}
                     {expireat x 1} {pexpireat x 1} {expireat x 0} {pexpireat x -5}} {
            r set x foo
            assert_equal 1 [r {*}$cmd] "($cmd)"
            assert_equal 0 [r exists x] "($cmd)"
        }
    }

    test {A time in the past deletes a key with a TTL too} {
        r set x foo ex 100
        assert_equal 1 [r expire x -10]
        assert_equal 0 [r exists x]
        assert_equal -2 [r ttl x]
    }

    test {EXPIRE with a non-integer time} {
        r set x foo
        assert_error {ERR value is not an integer or out of range} {r expire x bar}
        assert_error {ERR value is not an integer or out of range} {r expire x 1.5}
        assert_error {ERR value is not an integer or out of range} {r pexpire x 9223372036854775808}
        assert_error {ERR value is not an integer or out of range} {r expireat x {}}
        assert_equal -1 [r ttl x]
    }

    test {EXPIRE overflow is refused} {
        r set x foo
        assert_error {ERR invalid expire time in 'expire' command} {r expire x 9223372036854775807}
        assert_error {ERR invalid expire time in 'expire' command} {r expire x 9223372036854775}
        assert_error {ERR invalid expire time in 'expire' command} {r expire x -9223372036854775808}
        assert_error {ERR invalid expire time in 'pexpire' command} {r pexpire x 9223372036854775807}
        assert_error {ERR invalid expire time in 'expireat' command} {r expireat x 9223372036854776}
        assert_error {ERR invalid expire time in 'expireat' command} {r expireat x -9223372036854776}
        assert_equal -1 [r ttl x]
        # The biggest representable times are accepted.
        assert_equal 1 [r expireat x 9223372036854775]
        assert_equal 9223372036854775 [r expiretime x]
        assert_equal 1 [r pexpireat x 9223372036854775807]
        assert_equal 9223372036854775807 [r pexpiretime x]
        assert_equal 1 [r exists x]
    }

    test {A huge negative relative time deletes the key} {
        r set x foo
        assert_equal 1 [r pexpire x -9223372036854775808]
        assert_equal 0 [r exists x]
        r set x foo
        assert_equal 1 [r expire x -9223372036854775]
        assert_equal 0 [r exists x]
    }

    test {EXPIRE NX} {
        r del x
        r set x foo
        assert_equal 1 [r expire x 100 nx]
        assert_equal 0 [r expire x 200 nx]
        assert_range [r ttl x] 98 100
        assert_equal 0 [r expire nokey 100 nx]
    }

    test {EXPIRE XX} {
        r set x foo
        assert_equal 0 [r expire x 100 xx]
        assert_equal -1 [r ttl x]
        r expire x 100
        assert_equal 1 [r expire x 200 xx]
        assert_range [r ttl x] 198 200
    }

    test {EXPIRE GT} {
        r set x foo
        assert_equal 0 [r expire x 100 gt]
        assert_equal -1 [r ttl x]
        r expire x 100
        assert_equal 0 [r expire x 50 gt]
        # Not "100 gt": a millisecond passing between the two commands makes it greater.
        assert_equal 0 [r expire x 99 gt]
        assert_equal 1 [r expire x 200 gt]
        assert_range [r ttl x] 198 200
    }

    test {EXPIRE LT} {
        r set x foo
        assert_equal 1 [r expire x 100 lt]
        assert_range [r ttl x] 98 100
        assert_equal 0 [r expire x 200 lt]
        assert_equal 0 [r expire x 100 lt]
        assert_equal 1 [r expire x 50 lt]
        assert_range [r ttl x] 48 50
    }

    test {EXPIRE XX GT and XX LT} {
        r set x foo
        assert_equal 0 [r expire x 100 xx gt]
        assert_equal 0 [r expire x 100 xx lt]
        assert_equal -1 [r ttl x]
        r expire x 100
        assert_equal 1 [r expire x 200 xx gt]
        assert_equal 1 [r expire x 50 xx lt]
        assert_range [r ttl x] 48 50
    }

    test {Options are case-insensitive and work on every form} {
        r set x foo
        assert_equal 1 [r pexpire x 100000 NX]
        assert_equal 1 [r pexpireat x [expr {[clock milliseconds] + 200000}] Gt]
        assert_equal 1 [r expireat x [expr {[clock seconds] + 50}] xX lT]
        assert_range [r ttl x] 48 50
    }

    test {A past time with a passing condition deletes, a failing one does not} {
        r set x foo
        assert_equal 0 [r expire x -1 xx]
        assert_equal 1 [r exists x]
        assert_equal 1 [r expire x -1 nx]
        assert_equal 0 [r exists x]
        r set x foo ex 100
        assert_equal 0 [r expire x -1 gt]
        assert_equal 1 [r exists x]
        assert_equal 1 [r expire x -1 lt]
        assert_equal 0 [r exists x]
    }

    test {EXPIRE option errors} {
        r set x foo
        foreach opts {{nx xx} {nx gt} {nx lt} {xx nx} {nx xx gt lt}} {
            assert_error {ERR NX and XX, GT or LT options at the same time are not compatible} \
                {r expire x 100 {*}$opts}
        }
        assert_error {ERR GT and LT options at the same time are not compatible} {r expire x 100 gt lt}
        assert_error {ERR GT and LT options at the same time are not compatible} {r pexpire x 100 xx gt lt}
        assert_error {ERR Unsupported option foo} {r expire x 100 foo}
        assert_error {ERR Unsupported option FOO} {r expireat x 100 nx FOO}
        # Options are checked before the time argument.
        assert_error {ERR NX and XX*} {r expire x notanumber nx xx}
        assert_error {ERR Unsupported option bar} {r expire x notanumber bar}
        assert_equal -1 [r ttl x]
    }

    test {TTL, PTTL, EXPIRETIME and PEXPIRETIME of missing keys and keys without TTL} {
        r del nokey
        foreach cmd {ttl pttl expiretime pexpiretime} {
            assert_equal -2 [r $cmd nokey]
        }
        r set x foo
        foreach cmd {ttl pttl expiretime pexpiretime} {
            assert_equal -1 [r $cmd x]
        }
    }

    test {TTL rounds to the nearest second} {
        r set x foo
        r pexpire x 1600
        assert_equal 2 [r ttl x]
        r pexpire x 1400
        assert_equal 1 [r ttl x]
        r pexpire x 200
        assert_equal 0 [r ttl x]
    }

    test {PERSIST} {
        r set x foo ex 100
        assert_equal 1 [r persist x]
        assert_equal -1 [r ttl x]
        assert_equal 0 [r persist x]
        assert_equal 0 [r persist nokey]
        assert_equal foo [r get x]
    }

    test {PERSIST then EXPIRE again, many times} {
        r set x [string repeat v 40]
        for {set i 0} {$i < 50} {incr i} {
            r expire x 100
            r persist x
        }
        assert_equal [string repeat v 40] [r get x]
        assert_equal -1 [r ttl x]
        r expire x 100
        assert_range [r ttl x] 98 100
    }

    test {Expire on every string encoding keeps the value} {
        foreach {value enc} [list 1234 int -5 int short embstr [string repeat x 44] embstr \
                                 [string repeat y 45] raw [string repeat z 1000] raw] {
            r set x $value
            r expire x 100
            assert_equal $value [r get x]
            assert_equal $enc [r object encoding x]
            r persist x
            assert_equal $value [r get x]
            assert_equal $enc [r object encoding x]
        }
    }

    test {Expire with long keys} {
        set k [string repeat k 300]
        r set $k v
        r expire $k 100
        assert_range [r ttl $k] 98 100
        r persist $k
        assert_equal v [r get $k]
    }

    test {Lazy expiry: an accessed expired key is deleted} {
        needs_debug
        r flushdb
        r debug set-active-expire 0
        r psetex x 1 foo
        r set y bar
        after 20
        assert_equal 2 [r dbsize]
        assert_equal {} [r get x]
        assert_equal 1 [r dbsize]
        r debug set-active-expire 1
    }

    test {Expired keys are invisible to EXISTS, TYPE, TTL, KEYS and SCAN} {
        needs_debug
        r flushdb
        r debug set-active-expire 0
        r psetex x 1 foo
        r set y bar
        after 20
        assert_equal 0 [r exists x]
        assert_equal none [r type x]
        assert_equal -2 [r ttl x]
        assert_equal -2 [r pttl x]
        assert_equal {y} [r keys *]
        assert_equal {y} [lindex [r scan 0] 1]
        assert_equal 0 [r expire x 100]
        assert_equal 0 [r persist x]
        r debug set-active-expire 1
    }

    test {Expired keys: SET NX and RENAME see them as absent} {
        needs_debug
        r flushdb
        r debug set-active-expire 0
        r psetex x 1 foo
        after 20
        assert_equal OK [r set x new nx]
        assert_equal -1 [r ttl x]
        r psetex src 1 foo
        after 20
        assert_error {ERR no such key} {r rename src dst}
        r debug set-active-expire 1
    }

    test {Expiring a key counts in expired_keys} {
        needs_debug
        r flushdb
        r debug set-active-expire 0
        set before [s expired_keys]
        r psetex x 1 foo
        after 20
        r get x
        assert_equal [expr {$before + 1}] [s expired_keys]
        r debug set-active-expire 1
    }

    test {Active expiry removes keys nobody reads} {
        r flushdb
        for {set i 0} {$i < 200} {incr i} {
            r psetex vol:$i 50 v
        }
        r set keep v
        wait_for_condition 50 100 {
            [r dbsize] == 1
        } else {
            fail "keys with a TTL were not actively expired"
        }
        assert_equal v [r get keep]
    }

    test {Active expiry works in every database} {
        set other [valkey_client]
        $other select 10
        $other flushdb
        for {set i 0} {$i < 50} {incr i} {
            $other psetex vol:$i 50 v
        }
        wait_for_condition 50 100 {
            [$other dbsize] == 0
        } else {
            fail "keys of database 10 were not actively expired"
        }
        $other close
    }

    test {Active expiry can be turned off} {
        needs_debug
        r flushdb
        r debug set-active-expire 0
        for {set i 0} {$i < 50} {incr i} {
            r psetex vol:$i 10 v
        }
        after 300
        assert_equal 50 [r dbsize]
        r debug set-active-expire 1
        wait_for_condition 50 100 {
            [r dbsize] == 0
        } else {
            fail "keys were not expired after turning active expiry back on"
        }
    }

    test {Active expiry copes with many keys and a mix of TTLs} {
        r flushdb
        set start [clock seconds]
        for {set i 0} {$i < 5000} {incr i} {
            if {$i % 2} {
                r psetex short:$i 10 v
            } else {
                r setex long:$i 1000 v
            }
        }
        # Once few expired keys are left, a cycle stops after one round of 20 keys (as in
        # Valkey, up to 10% stale is acceptable), so the last ones are found by the
        # cursor's walk over all 2500 live keys: ~12.5 s at hz 10. Most go at once.
        wait_for_condition 100 100 {
            [r dbsize] <= 2600
        } else {
            fail "active expiry left [expr {[r dbsize] - 2500}] of 2500 expired keys after 10 s"
        }
        wait_for_condition 300 100 {
            [r dbsize] == 2500
        } else {
            fail "expected 2500 keys left, got [r dbsize]"
        }
        assert_equal {} [r keys short:*]
        # The live keys kept their TTLs (the wait above may take up to 40 s).
        assert_range [r ttl long:0] [expr {999 - ([clock seconds] - $start)}] 1000
    }

    test {Active expiry averages TTLs near LLONG_MAX without overflowing} {
        # found by the fuzz (UBSan: signed overflow summing sampled TTLs)
        r flushdb
        r config set hz 100
        for {set i 0} {$i < 20} {incr i} {
            r set huge:$i v
            r pexpireat huge:$i 9223372036854775807
        }
        after 300
        r config set hz 10
        assert_equal 20 [r dbsize]
        set line [getInfoProperty [r info keyspace] db9]
        assert_match {*avg_ttl=*} $line
        regexp {avg_ttl=(-?[0-9]+)} $line -> avg
        assert {$avg >= 0}
        r flushdb
    }

    test {EXPIRETIME rounds an expire of LLONG_MAX milliseconds without overflowing} {
        # found by the fuzz (UBSan: signed overflow in (ttl + 500) / 1000)
        r set k v
        r pexpireat k 9223372036854775807
        assert_equal 9223372036854776 [r expiretime k]
        assert_equal 9223372036854775807 [r pexpiretime k]
        r pexpireat k 9223372036854775000
        assert_equal 9223372036854775 [r expiretime k]
        r pexpireat k 1499
        assert_equal -2 [r ttl k]
        r set k v
        r pexpireat k [expr {[clock milliseconds] + 100000499}]
        assert_range [r ttl k] 99990 100000
        r del k
    }
}
