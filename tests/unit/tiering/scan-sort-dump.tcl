# Tiering: HSCAN / SSCAN / ZSCAN over cold collections, SORT of cold keys and with BY/GET
# patterns naming cold keys, DUMP of a cold key (the payload of its hot twin) and RESTORE.

source [file join $::th_root tests support tiering.tcl]

# Every element a full *SCAN of key returns (cursor followed to 0), sorted.
proc tier_full_scan {cmd key args} {
    set cursor 0
    set all {}
    while 1 {
        lassign [r $cmd $key $cursor {*}$args] cursor items
        lappend all {*}$items
        if {$cursor eq "0"} {
            break
        }
    }
    return $all
}

# Pairs {a 1 b 2} as a sorted list of pairs, so field/value order is kept per pair.
proc tier_pairs {flat} {
    set pairs {}
    foreach {a b} $flat {
        lappend pairs [list $a $b]
    }
    return [lsort $pairs]
}

start_server [list tags {tiering external:skip} overrides [tier_overrides {
    set-max-listpack-entries 4 zset-max-listpack-entries 4 hash-max-listpack-entries 4
}]] {
    test {Tiering: HSCAN of cold hashes (listpack and hashtable)} {
        foreach n {3 40} {
            r del h h:twin
            for {set i 0} {$i < $n} {incr i} {
                r hset h f$i v$i
                r hset h:twin f$i v$i
            }
            tier_demote h
            set cold [tier_pairs [tier_full_scan hscan h count 7]]
            assert_equal $n [llength $cold]
            assert_equal [tier_pairs [tier_full_scan hscan h:twin count 7]] $cold
            tier_demote h
            assert_equal [lsort [tier_full_scan hscan h:twin match f1* novalues]] \
                [lsort [tier_full_scan hscan h match f1* novalues]]
        }
    }

    test {Tiering: SSCAN of cold sets (intset, listpack, hashtable)} {
        foreach members {{1 2 3} {a b c} {a b c d e f g h i j k l m n o p}} {
            r del s s:twin
            r sadd s {*}$members
            r sadd s:twin {*}$members
            tier_demote s
            assert_equal [lsort $members] [lsort [tier_full_scan sscan s count 3]]
            tier_demote s
            assert_equal [lsort [tier_full_scan sscan s:twin match {[a-c]*}]] \
                [lsort [tier_full_scan sscan s match {[a-c]*}]]
        }
    }

    test {Tiering: ZSCAN of cold sorted sets (listpack and skiplist)} {
        foreach n {3 30} {
            r del z z:twin
            for {set i 0} {$i < $n} {incr i} {
                r zadd z $i.5 m$i
                r zadd z:twin $i.5 m$i
            }
            tier_demote z
            set cold [tier_pairs [tier_full_scan zscan z count 5]]
            assert_equal $n [llength $cold]
            assert_equal [tier_pairs [tier_full_scan zscan z:twin count 5]] $cold
        }
    }

    test {Tiering: SORT of cold lists, sets and sorted sets} {
        r flushall
        r rpush l 3 1 2 10
        r sadd s c a b
        r zadd z 3 x 1 y 2 w
        foreach k {l s z} {
            tier_demote $k
        }
        assert_equal {1 2 3 10} [r sort l]
        tier_demote l
        assert_equal {10 3 2 1} [r sort_ro l desc]
        assert_equal {a b c} [r sort s alpha]
        assert_equal {w x y} [r sort z alpha]
        tier_demote l
        assert_equal {2 3} [r sort l limit 1 2]
    }

    test {Tiering: SORT BY and GET patterns naming cold keys} {
        r flushall
        r rpush ids 1 2 3
        foreach {id weight name} {1 3.5 one 2 1.5 two 3 2.5 three} {
            r set w_$id $weight
            r set o_$id "name-$name"
            r hset obj_$id name "h-$name" weight $weight
        }
        set expected {name-two 2 name-three 3 name-one 1}
        tier_demote ids
        foreach id {1 2 3} {
            tier_demote w_$id
            tier_demote o_$id
            tier_demote obj_$id
        }
        assert_equal $expected [r sort ids by w_* get o_* get #]
        foreach id {1 2 3} {
            tier_demote w_$id
            tier_demote o_$id
        }
        assert_equal {h-two h-three h-one} [r sort ids by obj_*->weight get obj_*->name]
        assert_equal {name-one name-two name-three} [r sort ids by nosort get o_*]
        # STORE into a cold destination.
        r rpush dst old
        tier_demote dst
        foreach id {1 2 3} {
            tier_demote w_$id
            tier_demote o_$id
        }
        assert_equal 6 [r sort ids by w_* get o_* get # store dst]
        assert_equal $expected [r lrange dst 0 -1]
    }

    test {Tiering: DUMP of a cold key is the DUMP of its hot twin, for every type} {
        r flushall
        foreach {cmd} {
            {set @ "a string value of some length"}
            {rpush @ a b c 1 2 3}
            {sadd @ 1 2 3}
            {sadd @ a b c d e f g}
            {zadd @ 1 a 2 b}
            {zadd @ 1 a 2 b 3 c 4 d 5 e}
            {hset @ f1 v1 f2 v2}
        } {
            r del k k:twin
            tier_build {k k:twin} [list $cmd]
            tier_demote k
            set payload [r dump k]
            assert_equal [r dump k:twin] $payload "(DUMP after '$cmd')"
            assert_equal OK [r restore k:restored 0 $payload replace]
            assert_equal [r debug digest-value k:twin] [r debug digest-value k:restored] "(RESTORE after '$cmd')"
            assert_equal [r debug digest-value k:twin] [r debug digest-value k]
        }
    }

    test {Tiering: RESTORE REPLACE over a cold key, and RESTORE without REPLACE refused} {
        r flushall
        r hset src f v
        set payload [r dump src]
        r set k [string repeat "k" 50]
        tier_demote k
        assert_error {BUSYKEY*} {r restore k 0 $payload}
        assert_equal [string repeat "k" 50] [r get k]
        tier_demote k
        assert_equal OK [r restore k 0 $payload replace]
        assert_equal {f v} [r hgetall k]
        # A cold key restored with a TTL.
        r set k2 [string repeat "2" 50]
        tier_demote k2
        assert_equal OK [r restore k2 100000 $payload replace]
        assert_range [r pttl k2] 90000 100000
    }

    test {Tiering: RESTORE REPLACE over a cold key does not read the old value} {
        r flushall
        r hset src f v
        set payload [r dump src]
        r set k [string repeat "k" 50]
        tier_demote k
        tier_no_read {
            assert_equal OK [r restore k 0 $payload replace]
        }
        assert_equal {f v} [r hgetall k]
    }
}
