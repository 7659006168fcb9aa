# Tiering: ordering and concurrency. A pipeline mixing commands on cold and hot keys gets
# its replies in order; many clients reading one cold key all get it; writes racing a
# demotion win (the value is the written one, hot or cold); writes under maxmemory
# while demotions run keep every value exact.

source [file join $::th_root tests support tiering.tcl]

start_server [list tags {tiering external:skip} overrides [tier_overrides]] {
    test {Tiering: a pipeline over cold and hot keys keeps its reply order} {
        r flushall
        set n 20
        for {set i 0} {$i < $n} {incr i} {
            r set s$i "string-$i-[string repeat . 30]"
            r hset h$i f "field-$i"
            tier_demote s$i
            tier_demote h$i
        }
        set rd [valkey_deferring_client]
        set expected {}
        for {set i 0} {$i < $n} {incr i} {
            $rd get s$i
            set v "string-$i-[string repeat . 30]"
            lappend expected $v
            $rd incr counter
            lappend expected [expr {$i + 1}]
            $rd hget h$i f
            lappend expected "field-$i"
            $rd set hot$i v$i
            lappend expected OK
            $rd append s$i !
            lappend expected [expr {[string length $v] + 1}]
            $rd get hot$i
            lappend expected v$i
        }
        $rd flush
        set got {}
        foreach _ $expected {
            lappend got [$rd read]
        }
        $rd close
        assert_equal $expected $got
        assert_equal 0 [tier_stat flash_cold_keys]
    }

    test {Tiering: one client's pipeline: demote, write, read the same key in order} {
        r flushall
        set rd [valkey_deferring_client]
        for {set i 0} {$i < 10} {incr i} {
            r set k$i "value-$i-[string repeat x 40]"
            $rd flash.debug.demote k$i
            $rd append k$i +
            $rd object tier k$i
            $rd flash.debug.demote k$i
            $rd get k$i
        }
        $rd flush
        for {set i 0} {$i < 10} {incr i} {
            assert_equal OK [$rd read]
            assert_equal [string length "value-$i-[string repeat x 40]+"] [$rd read]
            assert_equal hot [$rd read]
            assert_equal OK [$rd read]
            assert_equal "value-$i-[string repeat x 40]+" [$rd read]
        }
        $rd close
    }

    test {Tiering: 20 clients reading one cold key at once all get its value, with one read} {
        r flushall
        set value [string repeat "shared" 20]
        r set k $value
        tier_demote k
        set promotions [tier_stat flash_promotions]
        set clients {}
        for {set i 0} {$i < 20} {incr i} {
            set rd [valkey_deferring_client]
            lappend clients $rd
        }
        foreach rd $clients {
            $rd get k
        }
        foreach rd $clients {
            assert_equal $value [$rd read]
            $rd close
        }
        assert_equal [tier_stat flash_promotions] [expr {$promotions + 1}] "(one read for all clients)"
    }

    test {Tiering: 20 clients reading and writing many cold keys at once} {
        r flushall
        for {set i 0} {$i < 20} {incr i} {
            r rpush l$i a b
            tier_demote l$i
        }
        set clients {}
        set ids {}
        for {set c 0} {$c < 20} {incr c} {
            lappend ids $c
            set rd [valkey_deferring_client]
            lappend clients $rd
            for {set i 0} {$i < 20} {incr i} {
                $rd rpush l$i $c
            }
            $rd flush
        }
        foreach rd $clients {
            for {set i 0} {$i < 20} {incr i} {
                set len [$rd read]
                assert_range $len 3 22
            }
            $rd close
        }
        for {set i 0} {$i < 20} {incr i} {
            set items [r lrange l$i 0 -1]
            assert_equal {a b} [lrange $items 0 1]
            # Every client pushed to every key once.
            assert_equal $ids [lsort -integer [lrange $items 2 end]]
        }
    }

    foreach {what cmd expect} {
        SET {set @ new} {new}
        APPEND {append @ +} {OLD+}
        DEL {del @} {}
        GETSET {getset @ replaced} {replaced}
    } {
        test "Tiering: a $what racing the demotion of the key wins" {
            r flushall
            set rd [valkey_deferring_client]
            set replies {}
            for {set i 0} {$i < 30} {incr i} {
                set old "old-$i-[string repeat o 60]"
                r set k$i $old
                $rd flash.debug.demote k$i
                $rd flush
                r {*}[tier_subst $cmd k$i]
                catch {$rd read} reply
                lappend replies $reply
                assert_equal [string map [list OLD $old] $expect] [r get k$i] "(k$i after $what)"
                assert [expr {[r object tier k$i] in {hot cold {}}}]
            }
            $rd close
            # The demotion lands, or it is cancelled because the value changed, or the DEL
            # came first.
            foreach reply $replies {
                if {$reply ne "OK" && ![string match "*demotion cancelled*" $reply] &&
                    ![string match "*key does not exist*" $reply]} {
                    fail "FLASH.DEBUG.DEMOTE replied '$reply'"
                }
            }
            # Whatever was demoted afterwards reads back as written.
            for {set i 0} {$i < 30} {incr i} {
                if {[r exists k$i]} {
                    set v [r get k$i]
                    tier_demote k$i
                    assert_equal $v [r get k$i]
                }
            }
        }
    }
}

# Under maxmemory, demotions run on their own while a client keeps writing: every value
# stays exactly what was written last. Small segments: the store's buffers stay small
# next to the tight budget (see the accounting test in info.tcl).
start_server [list tags {tiering external:skip} overrides [tier_overrides {
    maxmemory-policy allkeys-lru flash-segment-size 64kb
}]] {
    test {Tiering: writes racing demotions driven by maxmemory keep every value exact} {
        set n 600
        # Random letters (the RDB encoding would compress repetitions away); each value
        # a different slice of one pool.
        set pool [randstring 1000 1000 alpha]
        set model {}
        for {set i 0} {$i < $n} {incr i} {
            set v "$i:[string range $pool [expr {$i % 600}] [expr {$i % 600 + 399}]]"
            r set k$i $v
            dict set model k$i $v
        }
        # A budget 80 KB under what the data set uses now (the flash store's buffers are
        # not counted against maxmemory): values must go to flash, keys all stay.
        set used [expr {[s used_memory] - [s mem_not_counted_for_evict]}]
        r config set maxmemory [expr {$used - 80 * 1024}]
        wait_for_condition 200 10 {[tier_stat flash_cold_keys] > 0} else {
            fail "nothing was demoted: [r info flash]"
        }
        set rd [valkey_deferring_client]
        set sent 0
        for {set round 0} {$round < 5} {incr round} {
            for {set j 0} {$j < 200} {incr j} {
                set k k[randomInt $n]
                $rd append $k .
                dict append model $k .
                incr sent
            }
            $rd flush
        }
        for {set j 0} {$j < $sent} {incr j} {
            $rd read
        }
        $rd close
        assert_equal 0 [s evicted_keys]
        assert_equal $n [r dbsize]
        assert_morethan [tier_stat flash_promotions] 0
        dict for {k v} $model {
            assert_equal $v [r get $k] "(value of $k)"
        }
        assert_equal 0 [tier_stat flash_read_failures]
        r config set maxmemory 0
    }
}
