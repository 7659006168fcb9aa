# Generic key commands: DEL/UNLINK/EXISTS, TYPE, RENAME/RENAMENX, MOVE, COPY, SWAPDB,
# DBSIZE, FLUSHDB/FLUSHALL, TOUCH, RANDOMKEY, KEYS, SCAN, SELECT, and binary-safe keys.
#
# The harness selects database 9; tests that use other databases say which and go back.
# Expiry is in expire.tcl, OBJECT in object.tcl.

# Runs body only when the server has lists (for the TYPE and SCAN TYPE tests).
proc with_list_type {body} {
    r del __listprobe
    if {[catch {r rpush __listprobe x} err]} {
        skip "no list type yet: $err"
    }
    r del __listprobe
    uplevel 1 $body
}

start_server {tags {"keyspace"}} {
    test {DEL of a missing key returns 0} {
        r flushdb
        assert_equal 0 [r del nokey]
    }

    test {DEL several keys, counting repeats once} {
        r mset a 1 b 2 c 3
        assert_equal 2 [r del a b nokey b a]
        assert_equal 0 [r exists a b]
        assert_equal 1 [r exists c]
    }

    test {DEL against many keys} {
        r flushdb
        set keys {}
        for {set i 0} {$i < 500} {incr i} {
            r set key:$i $i
            lappend keys key:$i
        }
        assert_equal 500 [r dbsize]
        assert_equal 500 [r del {*}$keys]
        assert_equal 0 [r dbsize]
    }

    test {UNLINK behaves like DEL} {
        r mset a 1 b [string repeat x 100] c 3
        assert_equal 2 [r unlink a b nokey a]
        assert_equal 0 [r exists a b]
        assert_equal 3 [r get c]
        assert_equal 0 [r unlink nokey]
    }

    test {EXISTS counts every argument, repeats included} {
        r flushdb
        r set foo bar
        assert_equal 1 [r exists foo]
        assert_equal 3 [r exists foo foo foo]
        assert_equal 2 [r exists foo nokey foo]
        assert_equal 0 [r exists nokey]
    }

    test {TYPE of strings and missing keys} {
        r set s hello
        assert_equal string [r type s]
        assert_equal none [r type nokey]
        r readraw 1
        assert_equal {+none} [r type nokey]
        assert_equal {+string} [r type s]
        r readraw 0
    }

    test {TYPE of a list} {
        with_list_type {
            r rpush l a
            assert_equal list [r type l]
        }
    }

    test {Keys are binary safe} {
        r flushdb
        set k1 "a\x00b"
        set k2 "a\r\nb"
        set k3 "\xff\x00\x80"
        r set $k1 v1
        r set $k2 v2
        r set $k3 v3
        r set a v4
        assert_equal v1 [r get $k1]
        assert_equal v2 [r get $k2]
        assert_equal v3 [r get $k3]
        assert_equal 4 [r dbsize]
        assert_equal [lsort [list $k1 $k2 $k3 a]] [lsort [r keys *]]
        assert_equal 1 [r del $k1]
        assert_equal v4 [r get a]
        assert_equal {} [r get $k1]
        assert_equal 1 [r exists $k3]
    }

    test {Empty key name} {
        r set {} empty
        assert_equal empty [r get {}]
        assert_equal 1 [r exists {}]
        assert_equal 1 [r del {}]
    }

    test {Long key names} {
        set k [string repeat k 5000]
        r set $k v
        assert_equal v [r get $k]
        assert_equal OK [r rename $k short]
        assert_equal v [r get short]
    }

    test {RENAME basics} {
        r flushdb
        r set src value
        assert_equal OK [r rename src dst]
        assert_equal 0 [r exists src]
        assert_equal value [r get dst]
        assert_equal 1 [r dbsize]
    }

    test {RENAME overwrites the destination} {
        r set src new
        r set dst old
        assert_equal OK [r rename src dst]
        assert_equal new [r get dst]
        assert_equal 1 [r dbsize]
    }

    test {RENAME of a missing key} {
        r del nokey
        assert_error {ERR no such key} {r rename nokey dst}
        assert_error {ERR no such key} {r rename nokey nokey}
        assert_error {ERR no such key} {r renamenx nokey dst}
    }

    test {RENAME to the same name} {
        r set same v
        assert_equal OK [r rename same same]
        assert_equal v [r get same]
        assert_equal 0 [r renamenx same same]
        assert_equal v [r get same]
    }

    test {RENAMENX does not overwrite} {
        r set a 1
        r set b 2
        assert_equal 0 [r renamenx a b]
        assert_equal 1 [r get a]
        assert_equal 2 [r get b]
        r del b
        assert_equal 1 [r renamenx a b]
        assert_equal 0 [r exists a]
        assert_equal 1 [r get b]
    }

    test {RENAME keeps the TTL, and the TTL of the source} {
        r del a b
        r set a v ex 100
        r rename a b
        assert_range [r ttl b] 90 100
        r set c v
        r set d v ex 100
        r rename c d
        assert_equal -1 [r ttl d]
    }

    test {RENAME keeps every kind of string value} {
        r set i 12345
        r set e [string repeat e 40]
        r set w [string repeat w 400]
        r rename i i2
        r rename e e2
        r rename w w2
        assert_equal 12345 [r get i2]
        assert_equal [string repeat e 40] [r get e2]
        assert_equal [string repeat w 400] [r get w2]
        assert_equal int [r object encoding i2]
        assert_equal embstr [r object encoding e2]
        assert_equal raw [r object encoding w2]
    }

    test {MOVE basics} {
        r select 10
        r flushdb
        r select 9
        r flushdb
        r set mykey hello
        assert_equal 1 [r move mykey 10]
        assert_equal 0 [r exists mykey]
        r select 10
        assert_equal hello [r get mykey]
        r select 9
    }

    test {MOVE does not overwrite, and keeps the TTL} {
        r set mykey here
        assert_equal 0 [r move mykey 10]
        assert_equal here [r get mykey]
        r select 10
        r del mykey
        r select 9
        r expire mykey 100
        assert_equal 1 [r move mykey 10]
        r select 10
        assert_range [r ttl mykey] 90 100
        assert_equal here [r get mykey]
        r flushdb
        r select 9
    }

    test {MOVE errors} {
        r set mykey v
        assert_equal 0 [r move nokey 10]
        assert_error {ERR source and destination objects are the same} {r move mykey 9}
        assert_error {ERR DB index is out of range} {r move mykey 16}
        assert_error {ERR DB index is out of range} {r move mykey -1}
        assert_error {ERR value is not an integer or out of range} {r move mykey x}
    }

    test {COPY basics} {
        r flushdb
        r set src value
        assert_equal 1 [r copy src dst]
        assert_equal value [r get src]
        assert_equal value [r get dst]
        r append dst more
        assert_equal value [r get src]
        assert_equal valuemore [r get dst]
    }

    test {COPY keeps the TTL} {
        r set vol v ex 100
        r copy vol vol2
        assert_range [r ttl vol2] 90 100
    }

    test {COPY does not overwrite without REPLACE} {
        r set a 1
        r set b 2
        assert_equal 0 [r copy a b]
        assert_equal 2 [r get b]
        assert_equal 1 [r copy a b replace]
        assert_equal 1 [r get b]
        assert_equal 1 [r copy a b REPLACE]
    }

    test {COPY to another database} {
        r select 10
        r flushdb
        r select 9
        r set a hello
        assert_equal 1 [r copy a a db 10]
        assert_equal 0 [r copy a a db 10]
        assert_equal 1 [r copy a a db 10 replace]
        r select 10
        assert_equal hello [r get a]
        r flushdb
        r select 9
    }

    test {COPY of a missing key} {
        r del nokey dst
        assert_equal 0 [r copy nokey dst]
        assert_equal 0 [r exists dst]
    }

    test {COPY errors} {
        r set a v
        assert_error {ERR source and destination objects are the same} {r copy a a}
        assert_error {ERR source and destination objects are the same} {r copy a a db 9}
        assert_error {ERR DB index is out of range} {r copy a b db 16}
        assert_error {ERR value is not an integer or out of range} {r copy a b db x}
        assert_error {ERR syntax error} {r copy a b db}
        assert_error {ERR syntax error} {r copy a b foo}
    }

    test {COPY of each string encoding} {
        foreach {key value enc} [list i 123 int e short embstr w [string repeat w 100] raw] {
            r set $key $value
            r copy $key $key.copy replace
            assert_equal $value [r get $key.copy]
            assert_equal $enc [r object encoding $key.copy]
        }
    }

    test {SWAPDB exchanges the data sets} {
        r select 10
        r flushdb
        r set only10 a
        r select 9
        r flushdb
        r set only9 b
        r set vol c ex 100
        assert_equal OK [r swapdb 9 10]
        assert_equal a [r get only10]
        assert_equal 0 [r exists only9]
        assert_equal 1 [r dbsize]
        r select 10
        assert_equal b [r get only9]
        assert_range [r ttl vol] 90 100
        assert_equal 2 [r dbsize]
        r flushdb
        r select 9
        assert_equal OK [r swapdb 9 9]
        r flushdb
    }

    test {SWAPDB errors} {
        assert_error {ERR invalid first DB index} {r swapdb x 1}
        assert_error {ERR invalid second DB index} {r swapdb 1 x}
        assert_error {ERR DB index is out of range} {r swapdb 0 16}
        assert_error {ERR DB index is out of range} {r swapdb -1 0}
    }

    test {DBSIZE} {
        r flushdb
        assert_equal 0 [r dbsize]
        r set a 1
        r set b 2
        assert_equal 2 [r dbsize]
        r select 10
        assert_equal 0 [r dbsize]
        r select 9
    }

    test {FLUSHDB empties only the current database} {
        r select 10
        r set other 1
        r select 9
        r set a 1
        assert_equal OK [r flushdb]
        assert_equal 0 [r dbsize]
        r select 10
        assert_equal 1 [r dbsize]
        r flushdb
        r select 9
    }

    test {FLUSHDB and FLUSHALL take SYNC and ASYNC} {
        foreach mode {sync async SYNC ASYNC} {
            r set a 1
            r set vol 1 ex 100
            assert_equal OK [r flushdb $mode]
            assert_equal 0 [r dbsize]
            r set a 1
            assert_equal OK [r flushall $mode]
            assert_equal 0 [r dbsize]
        }
    }

    test {FLUSHALL empties every database} {
        r select 10
        r set a 1
        r select 9
        r set a 1
        assert_equal OK [r flushall]
        assert_equal 0 [r dbsize]
        r select 10
        assert_equal 0 [r dbsize]
        r select 9
    }

    test {FLUSHDB and FLUSHALL argument errors} {
        assert_error {ERR syntax error} {r flushdb foo}
        assert_error {ERR syntax error} {r flushall foo}
        assert_error {ERR syntax error} {r flushall sync async}
        assert_error {ERR syntax error} {r flushdb async async}
    }

    test {FLUSHALL SYNC frees the memory at once} {
        r flushall sync
        set before [s used_memory]
        for {set i 0} {$i < 2000} {incr i} {
            r set key:$i [string repeat x 100]
        }
        assert_morethan [s used_memory] [expr {$before + 2000 * 100}]
        r flushall sync
        assert_lessthan [s used_memory] [expr {$before + 64 * 1024}]
    }

    test {FLUSHALL ASYNC frees the memory in the background} {
        r flushall sync
        set before [s used_memory]
        for {set i 0} {$i < 5000} {incr i} {
            r set key:$i [string repeat x 100]
            r set vol:$i [string repeat y 50] ex 1000
        }
        assert_equal 10000 [r dbsize]
        assert_equal OK [r flushall async]
        assert_equal 0 [r dbsize]
        r set after 1
        assert_equal 1 [r get after]
        wait_for_condition 50 100 {
            [s used_memory] < $before + 64 * 1024
        } else {
            fail "memory of the flushed keys was not released"
        }
        r flushall
    }

    test {TOUCH counts existing keys} {
        r flushdb
        r set a 1
        r set b 2
        assert_equal 2 [r touch a b nokey]
        assert_equal 3 [r touch a a b]
        assert_equal 0 [r touch nokey]
    }

    test {RANDOMKEY on an empty database is null} {
        r flushdb
        assert_equal {} [r randomkey]
        r readraw 1
        assert_equal {$-1} [r randomkey]
        r readraw 0
    }

    test {RANDOMKEY returns existing keys} {
        r mset a 1 b 2 c 3
        set seen {}
        for {set i 0} {$i < 100} {incr i} {
            dict set seen [r randomkey] 1
        }
        assert_equal {a b c} [lsort [dict keys $seen]]
    }

    test {RANDOMKEY with a single key} {
        r flushdb
        r set only v
        assert_equal only [r randomkey]
    }

    test {RANDOMKEY never returns an expired key} {
        r flushdb
        needs_debug
        r debug set-active-expire 0
        for {set i 0} {$i < 20} {incr i} {
            r psetex vol:$i 1 v
        }
        r set keep v
        after 20
        for {set i 0} {$i < 10} {incr i} {
            assert_equal keep [r randomkey]
        }
        r debug set-active-expire 1
    }

    test {RANDOMKEY when every key has expired} {
        r flushdb
        needs_debug
        r debug set-active-expire 0
        for {set i 0} {$i < 50} {incr i} {
            r psetex vol:$i 1 v
        }
        after 20
        assert_equal {} [r randomkey]
        assert_equal 0 [r dbsize]
        r debug set-active-expire 1
    }

    test {KEYS with glob patterns} {
        r flushdb
        set backslash "a\\"
        foreach k [list foo fob fox bar baz b a ab abc "a*" "a?" "a\[" $backslash] {
            r set $k 1
        }
        assert_equal [lsort [list a a* a? "a\[" $backslash ab abc b bar baz fob foo fox]] [lsort [r keys *]]
        assert_equal {fob foo fox} [lsort [r keys fo?]]
        assert_equal {fob foo} [lsort [r keys {fo[ob]}]]
        assert_equal {bar baz} [lsort [r keys {ba[a-z]}]]
        assert_equal {fox} [lsort [r keys {fo[^ob]}]]
        assert_equal [lsort [list a* a? "a\[" $backslash ab]] [lsort [r keys {a?}]]
        assert_equal {a*} [r keys {a\*}]
        assert_equal {a?} [r keys {a\?}]
        assert_equal {{a[}} [r keys {a\[}]
        assert_equal [list $backslash] [r keys "a\\\\"]
        assert_equal {} [r keys nomatch*]
        assert_equal {b} [r keys b]
        assert_equal {} [r keys {[}]
    }

    test {KEYS with binary keys and patterns} {
        r flushdb
        r set "k\x00a" 1
        r set "k\x00b" 1
        r set "k\r\n" 1
        assert_equal [list "k\x00a" "k\x00b"] [lsort [r keys "k\x00*"]]
        assert_equal [list "k\r\n"] [r keys "k\r*"]
    }

    test {KEYS on an empty database} {
        r flushdb
        assert_equal {} [r keys *]
        r readraw 1
        assert_equal {*0} [r keys *]
        r readraw 0
    }

    # Iterates SCAN to the end with the extra arguments; returns every key seen.
    proc scan_all {args} {
        set cursor 0
        set keys {}
        while 1 {
            lassign [r scan $cursor {*}$args] cursor batch
            lappend keys {*}$batch
            if {$cursor == 0} break
        }
        return $keys
    }

    test {SCAN returns every key exactly as KEYS does} {
        r flushdb
        for {set i 0} {$i < 1000} {incr i} {
            r set key:$i $i
        }
        set keys [lsort -unique [scan_all]]
        assert_equal 1000 [llength $keys]
        assert_equal [lsort [r keys *]] $keys
    }

    test {SCAN with COUNT} {
        foreach count {1 5 100 10000} {
            set keys [lsort -unique [scan_all count $count]]
            assert_equal 1000 [llength $keys]
        }
        lassign [r scan 0 count 10000] cursor batch
        assert_equal 0 $cursor
        assert_equal 1000 [llength [lsort -unique $batch]]
    }

    test {SCAN with MATCH} {
        set keys [lsort -unique [scan_all match key:1??]]
        assert_equal 100 [llength $keys]
        foreach k $keys {
            assert_match key:1?? $k
        }
        assert_equal 1000 [llength [lsort -unique [scan_all match *]]]
        assert_equal {} [scan_all match nomatch*]
        assert_equal {key:7} [scan_all match key:7 count 2000]
    }

    test {SCAN with TYPE} {
        assert_equal 1000 [llength [lsort -unique [scan_all type string]]]
        assert_equal 1000 [llength [lsort -unique [scan_all type STRING]]]
        assert_equal {} [scan_all type hash]
        assert_equal {} [scan_all type nosuchtype]
        with_list_type {
            r rpush mylist a
            assert_equal {mylist} [scan_all type list]
            assert_equal 1000 [llength [lsort -unique [scan_all type string]]]
            r del mylist
        }
    }

    test {SCAN with MATCH, TYPE and COUNT together} {
        set keys [lsort -unique [scan_all match key:2* type string count 7]]
        assert_equal 111 [llength $keys]
    }

    test {SCAN cursor is a bulk string} {
        r readraw 1
        assert_equal {*2} [r scan 0 count 1]
        assert_match {$*} [r read]
        assert_match {[0-9]*} [r read]
        set n [string range [r read] 1 end]
        for {set i 0} {$i < 2 * $n} {incr i} { r read }
        r readraw 0
        assert_equal PONG [r ping]
    }

    test {SCAN errors} {
        assert_error {ERR invalid cursor} {r scan x}
        assert_error {ERR invalid cursor} {r scan 1.5}
        assert_error {ERR invalid cursor} {r scan 18446744073709551616}
        assert_error {ERR syntax error} {r scan 0 count 0}
        assert_error {ERR syntax error} {r scan 0 count -1}
        assert_error {ERR value is not an integer or out of range} {r scan 0 count x}
        assert_error {ERR syntax error} {r scan 0 match}
        assert_error {ERR syntax error} {r scan 0 count}
        assert_error {ERR syntax error} {r scan 0 foo bar}
    }

    # Valkey 8 differs from Redis 7.0 here: NOVALUES gets its own error (7.0: syntax
    # error) and a negative cursor is invalid (7.0 wraps it around).
    test {SCAN refuses NOVALUES and negative cursors} {
        assert_error {ERR NOVALUES option can only be used in HSCAN} {r scan 0 novalues}
        assert_error {ERR invalid cursor} {r scan -1}
    }

    test {SCAN with a huge cursor ends the scan} {
        lassign [r scan 18446744073709551615] cursor batch
        assert_equal 1 [string is integer $cursor]
    }

    test {SCAN guarantees: keys present for the whole scan are returned} {
        r flushdb
        for {set i 0} {$i < 1000} {incr i} {
            r set orig:$i $i
        }
        set cursor 0
        set seen {}
        set round 0
        while 1 {
            lassign [r scan $cursor count 20] cursor batch
            foreach k $batch { dict set seen $k 1 }
            # Add and remove other keys while scanning, forcing the table to grow
            # and later to shrink.
            incr round
            for {set j 0} {$j < 60} {incr j} {
                r set tmp:$round:$j x
            }
            if {$round > 5} {
                for {set j 0} {$j < 60} {incr j} {
                    r del tmp:[expr {$round - 5}]:$j
                }
            }
            if {$cursor == 0} break
        }
        for {set i 0} {$i < 1000} {incr i} {
            assert {[dict exists $seen orig:$i]}
        }
    }

    test {SCAN guarantees while the table shrinks} {
        r flushdb
        for {set i 0} {$i < 3000} {incr i} {
            r set tmp:$i $i
        }
        for {set i 0} {$i < 100} {incr i} {
            r set orig:$i $i
        }
        set cursor 0
        set seen {}
        set next 0
        while 1 {
            lassign [r scan $cursor count 10] cursor batch
            foreach k $batch { dict set seen $k 1 }
            for {set j 0} {$j < 200 && $next < 3000} {incr j; incr next} {
                r del tmp:$next
            }
            if {$cursor == 0} break
        }
        for {set i 0} {$i < 100} {incr i} {
            assert {[dict exists $seen orig:$i]}
        }
    }

    test {SCAN does not return expired keys} {
        r flushdb
        needs_debug
        r debug set-active-expire 0
        for {set i 0} {$i < 100} {incr i} {
            r psetex vol:$i 1 v
            r set keep:$i v
        }
        after 20
        set keys [lsort -unique [scan_all]]
        assert_equal 100 [llength $keys]
        foreach k $keys {
            assert_match keep:* $k
        }
        r debug set-active-expire 1
    }

    test {SELECT bounds and errors} {
        assert_equal OK [r select 0]
        assert_equal OK [r select 15]
        assert_error {ERR DB index is out of range} {r select 16}
        assert_error {ERR DB index is out of range} {r select -1}
        assert_error {ERR value is not an integer or out of range} {r select x}
        assert_error {ERR value is not an integer or out of range} {r select 1.5}
        r select 9
    }

    test {Databases are independent} {
        r select 0
        r set k db0
        r select 1
        r set k db1
        assert_equal db1 [r get k]
        r select 0
        assert_equal db0 [r get k]
        r del k
        r select 1
        r del k
        r select 9
    }

    test {keyspace hits and misses are counted} {
        r flushdb
        r set hit v
        set hits [s keyspace_hits]
        set misses [s keyspace_misses]
        r get hit
        r get hit
        r get nokey
        assert_equal [expr {$hits + 2}] [s keyspace_hits]
        assert_equal [expr {$misses + 1}] [s keyspace_misses]
    }
}
