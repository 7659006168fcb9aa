# Sets: every command with its options and errors over the three encodings (intset,
# listpack, hashtable), the conversion thresholds, set algebra with mixed encodings and
# missing keys, random picks (counts and a rough distribution check), RESP3 reply shapes,
# SSCAN, binary members, WRONGTYPE, and the generic key commands on sets.

# Fills `key` with `members` in the given encoding. Helper members push a small set into
# the wanted encoding and are removed again: encodings never shrink back.
proc create_set {key encoding members} {
    r del $key
    switch -exact -- $encoding {
        intset {
            r sadd $key {*}$members
        }
        listpack {
            r sadd $key __lp_helper__ {*}$members
            r srem $key __lp_helper__
        }
        hashtable {
            set filler [string repeat h 100]
            r sadd $key $filler {*}$members
            r srem $key $filler
        }
    }
    if {[llength $members] > 0} {
        assert_encoding $encoding $key
    }
}

# Members typical of each encoding.
proc sample_members {encoding} {
    if {$encoding eq "intset"} {
        return {1 2 3 -5 100000 -9223372036854775808 9223372036854775807}
    }
    return {a b c 1 2 -5 "hello world"}
}

# A raw RESP3 connection to database 9 (the harness clients' database).
proc resp3_connection {} {
    set fd [raw_connect [srv 0 host] [srv 0 port]]
    raw_call $fd {HELLO 3}
    raw_call $fd {SELECT 9}
    return $fd
}

start_server {tags {"set"}} {
    foreach enc {intset listpack hashtable} {
        test "SADD, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS - $enc" {
            set members [sample_members $enc]
            create_set s $enc $members
            assert_equal [llength $members] [r scard s]
            foreach m $members {
                assert_equal 1 [r sismember s $m]
            }
            assert_equal 0 [r sismember s 42]
            assert_equal 0 [r sismember s nosuch]
            assert_equal {1 0 1} [r smismember s [lindex $members 0] nosuch [lindex $members 1]]
            assert_equal [lsort $members] [lsort [r smembers s]]
            assert_encoding $enc s
        }

        test "SADD counts only new members, duplicates included - $enc" {
            set members [sample_members $enc]
            create_set s $enc $members
            assert_equal 0 [r sadd s [lindex $members 0] [lindex $members 0]]
            if {$enc eq "intset"} {
                assert_equal 2 [r sadd s 77 77 78]
            } else {
                assert_equal 2 [r sadd s new1 new1 new2]
            }
            assert_equal [expr {[llength $members] + 2}] [r scard s]
        }

        test "SREM removes, counts, and deletes the emptied key - $enc" {
            set members [sample_members $enc]
            create_set s $enc $members
            assert_equal 0 [r srem s nosuch 424242]
            assert_equal 2 [r srem s [lindex $members 0] [lindex $members 1] [lindex $members 0]]
            assert_equal [expr {[llength $members] - 2}] [r scard s]
            assert_encoding $enc s
            assert_equal [expr {[llength $members] - 2}] [r srem s {*}$members]
            assert_equal 0 [r exists s]
        }

        test "Integer-looking members compare by value only when canonical - $enc" {
            create_set s $enc {1 2 3}
            assert_equal 0 [r sismember s 01]
            assert_equal 0 [r sismember s +1]
            assert_equal 0 [r sismember s " 1"]
            assert_equal 1 [r sismember s 1]
            assert_equal 0 [r srem s 01]
            assert_equal 3 [r scard s]
        }
    }

    test "SADD with a non-integer member converts an intset to a listpack" {
        r del s
        r sadd s 1 2 3
        assert_encoding intset s
        r sadd s a
        assert_encoding listpack s
        assert_equal {1 2 3 a} [lsort [r smembers s]]
    }

    test "Intset conversion thresholds: 512 integers stay, 513 become a hashtable" {
        r del s
        set ints {}
        for {set i 0} {$i < 512} {incr i} { lappend ints $i }
        r sadd s {*}$ints
        assert_encoding intset s
        assert_equal 512 [r scard s]
        r sadd s 512
        assert_encoding hashtable s
        assert_equal 513 [r scard s]
        assert_equal 1 [r sismember s 0]
        assert_equal 1 [r sismember s 512]
    }

    test "Intset to listpack or hashtable on a string, depending on its size" {
        set ints {}
        for {set i 0} {$i < 127} {incr i} { lappend ints $i }
        r del s
        r sadd s {*}$ints
        r sadd s x
        assert_encoding listpack s
        assert_equal 128 [r scard s]
        r del s
        r sadd s {*}$ints 127
        r sadd s x
        assert_encoding hashtable s
        r del s
        r sadd s 1 2
        r sadd s [string repeat x 65]
        assert_encoding hashtable s
        r del s
        r sadd s 1 2
        r sadd s [string repeat x 64]
        assert_encoding listpack s
    }

    test "Listpack conversion thresholds: 128 members stay, 129 become a hashtable" {
        r del s
        for {set i 0} {$i < 128} {incr i} { r sadd s m$i }
        assert_encoding listpack s
        r sadd s m128
        assert_encoding hashtable s
        assert_equal 129 [r scard s]
    }

    test "Listpack conversion thresholds: 64-byte members stay, 65 bytes convert" {
        r del s
        r sadd s a [string repeat x 64]
        assert_encoding listpack s
        r sadd s [string repeat y 65]
        assert_encoding hashtable s
        assert_equal 1 [r sismember s [string repeat x 64]]
    }

    test "SADD of many arguments creates the encoding fit for that many" {
        set args {}
        for {set i 0} {$i < 129} {incr i} { lappend args a }
        r del s
        r sadd s {*}$args
        assert_encoding hashtable s
        assert_equal 1 [r scard s]
        set ints {}
        for {set i 0} {$i < 513} {incr i} { lappend ints 5 }
        r del s
        r sadd s {*}$ints
        assert_encoding hashtable s
        r del s
        r sadd s {*}[lrange $ints 0 511]
        assert_encoding intset s
        r del s
        r sadd s a
        r sadd s {*}$args
        assert_encoding hashtable s
    }

    test "Encodings never shrink back" {
        r del s
        r sadd s a [string repeat x 100]
        assert_encoding hashtable s
        r srem s [string repeat x 100]
        assert_encoding hashtable s
        r del s
        r sadd s 1 2 a
        r srem s a
        assert_encoding listpack s
    }

    test "The set-max-* directives are honoured and configurable" {
        assert_equal {set-max-intset-entries 512} [r config get set-max-intset-entries]
        assert_equal {set-max-listpack-entries 128} [r config get set-max-listpack-entries]
        assert_equal {set-max-listpack-value 64} [r config get set-max-listpack-value]
        r config set set-max-intset-entries 4
        r config set set-max-listpack-entries 3
        r config set set-max-listpack-value 5
        r del s
        r sadd s 1 2 3 4
        assert_encoding intset s
        r sadd s 5
        assert_encoding hashtable s
        r del s
        r sadd s a b c
        assert_encoding listpack s
        r sadd s d
        assert_encoding hashtable s
        r del s
        r sadd s abcde
        assert_encoding listpack s
        r sadd s abcdef
        assert_encoding hashtable s
        assert_error "*argument must be between*" {r config set set-max-listpack-entries -1}
        r config set set-max-intset-entries 512
        r config set set-max-listpack-entries 128
        r config set set-max-listpack-value 64
    }

    test "Binary members in every encoding" {
        set bin "a\x00b\r\n\xff"
        r del s
        r sadd s $bin "\x00"
        assert_encoding listpack s
        assert_equal 1 [r sismember s $bin]
        assert_equal [lsort [list $bin "\x00"]] [lsort [r smembers s]]
        r sadd s [string repeat "\x00" 100]
        assert_encoding hashtable s
        assert_equal 1 [r sismember s $bin]
        assert_equal 1 [r sismember s [string repeat "\x00" 100]]
        assert_equal 1 [r srem s $bin]
        assert_equal 0 [r sismember s $bin]
        r del s
        r sadd s 1
        r sadd s "\xff\xfe"
        assert_encoding listpack s
        assert_equal 1 [r sismember s "\xff\xfe"]
    }

    test "Commands on a missing key" {
        r del nokey
        assert_equal 0 [r scard nokey]
        assert_equal 0 [r sismember nokey a]
        assert_equal {0 0} [r smismember nokey a b]
        assert_equal {} [r smembers nokey]
        assert_equal 0 [r srem nokey a]
        assert_equal {} [r srandmember nokey]
        assert_equal {} [r srandmember nokey 5]
        assert_equal {} [r srandmember nokey -5]
        assert_equal {} [r spop nokey]
        assert_equal {} [r spop nokey 5]
        assert_equal 0 [r smove nokey dst a]
        assert_equal {0 {}} [r sscan nokey 0]
        assert_equal 0 [r exists nokey]
    }

    test "WRONGTYPE from every set command" {
        r del str s
        r set str x
        r sadd s a
        foreach cmd {
            {sadd str a} {srem str a} {scard str} {sismember str a} {smismember str a}
            {smembers str} {srandmember str} {srandmember str 2} {spop str} {spop str 2}
            {smove str s a} {smove s str a} {sinter s str} {sinter str s} {sintercard 2 s str}
            {sinterstore d s str} {sunion s str} {sunionstore d s str} {sdiff s str}
            {sdiff str s} {sdiffstore d s str} {sscan str 0}
        } {
            assert_error "WRONGTYPE*" {r {*}$cmd}
        }
        # The type of every key is checked, even after a missing one.
        assert_error "WRONGTYPE*" {r sinter nokey str}
        assert_error "WRONGTYPE*" {r sinterstore d nokey str}
        assert_error "WRONGTYPE*" {r sunion nokey str}
        assert_error "WRONGTYPE*" {r sdiff nokey str}
        assert_equal {a} [r smembers s]
        assert_equal x [r get str]
    }

    test "Arity and syntax errors" {
        assert_error "*wrong number of arguments*" {r sadd s}
        assert_error "*wrong number of arguments*" {r smismember s}
        assert_error "*wrong number of arguments*" {r sintercard 1}
        assert_error "ERR syntax error" {r spop s 1 2}
        assert_error "ERR syntax error" {r srandmember s 1 2}
    }

    test "SMISMEMBER needs a member" {
        assert_error "*wrong number of arguments*" {r smismember s}
    }

    # --- SRANDMEMBER ------------------------------------------------------------------

    foreach enc {intset listpack hashtable} {
        test "SRANDMEMBER with counts - $enc" {
            set members {}
            for {set i 0} {$i < 20} {incr i} { lappend members $i }
            create_set s $enc $members
            assert {[r srandmember s] in $members}
            assert_equal {} [r srandmember s 0]
            assert_equal 1 [llength [r srandmember s 1]]
            # Fewer than the set: distinct members.
            foreach count {2 5 7 15 19} {
                set got [r srandmember s $count]
                assert_equal $count [llength $got]
                assert_equal $count [llength [lsort -unique $got]]
                foreach m $got { assert {$m in $members} }
            }
            # As many or more: the whole set.
            assert_equal [lsort -integer $members] [lsort -integer [r srandmember s 20]]
            assert_equal [lsort -integer $members] [lsort -integer [r srandmember s 1000]]
            # Negative: with repeats, exactly |count| of them.
            set got [r srandmember s -100]
            assert_equal 100 [llength $got]
            foreach m $got { assert {$m in $members} }
            assert_equal 3 [llength [r srandmember s -3]]
            assert_equal 20 [r scard s]
            assert_encoding $enc s
        }

        test "SRANDMEMBER distribution is roughly uniform - $enc" {
            set members {}
            for {set i 0} {$i < 10} {incr i} { lappend members $i }
            create_set s $enc $members
            set hist [dict create]
            foreach m [r srandmember s -10000] { dict incr hist $m }
            assert_equal 10 [dict size $hist]
            dict for {m n} $hist { assert_range $n 700 1300 "member $m" }
            # Distinct picks reach every member over a few calls.
            set seen [dict create]
            for {set i 0} {$i < 100} {incr i} {
                foreach m [r srandmember s 3] { dict incr seen $m }
            }
            assert_equal 10 [dict size $seen]
            dict for {m n} $seen { assert_range $n 10 60 "member $m" }
        }
    }

    test "SRANDMEMBER distinct picks from a big hashtable, few and many" {
        r del s
        set members {}
        for {set i 0} {$i < 300} {incr i} { lappend members m$i }
        r sadd s {*}$members
        assert_encoding hashtable s
        foreach count {10 99 101 200 299} {
            set got [r srandmember s $count]
            assert_equal $count [llength [lsort -unique $got]]
        }
    }

    test "SRANDMEMBER count errors" {
        r del s
        r sadd s a
        assert_error "ERR value is not an integer or out of range" {r srandmember s x}
        assert_error "ERR value is not an integer or out of range" {r srandmember s 1.5}
        assert_error "*value is out of range*" {r srandmember s -9223372036854775808}
        assert_equal 1 [llength [r srandmember s 9223372036854775807]]
    }

    # --- SPOP -------------------------------------------------------------------------

    foreach enc {intset listpack hashtable} {
        test "SPOP without a count - $enc" {
            set members [sample_members $enc]
            create_set s $enc $members
            set popped {}
            for {set i 0} {$i < [llength $members]} {incr i} {
                set m [r spop s]
                assert {$m in $members}
                lappend popped $m
            }
            assert_equal [lsort $members] [lsort $popped]
            assert_equal 0 [r exists s]
            assert_equal {} [r spop s]
        }

        test "SPOP with counts small and large - $enc" {
            set members {}
            for {set i 0} {$i < 100} {incr i} { lappend members $i }
            # Few popped (members picked), many popped (survivors picked), and all.
            foreach count {1 10 50 85 99} {
                create_set s $enc $members
                set popped [r spop s $count]
                assert_equal $count [llength $popped]
                assert_equal $count [llength [lsort -unique $popped]]
                set rest [r smembers s]
                assert_equal [expr {100 - $count}] [llength $rest]
                assert_equal [lsort -integer $members] [lsort -integer [concat $popped $rest]]
            }
            create_set s $enc $members
            assert_equal {} [r spop s 0]
            assert_equal 100 [r scard s]
            set all [r spop s 100]
            assert_equal [lsort -integer $members] [lsort -integer $all]
            assert_equal 0 [r exists s]
            create_set s $enc $members
            assert_equal 100 [llength [r spop s 1000000]]
            assert_equal 0 [r exists s]
        }

        test "SPOP picks every member over many runs - $enc" {
            set seen [dict create]
            for {set i 0} {$i < 60} {incr i} {
                create_set s $enc {1 2 3 4 5}
                foreach m [r spop s 2] { dict incr seen $m }
                dict incr seen [r spop s]
            }
            assert_equal 5 [dict size $seen]
        }
    }

    test "SPOP count errors" {
        r del s
        r sadd s a
        assert_error "ERR value is out of range, must be positive" {r spop s -1}
        assert_error "ERR value is out of range, must be positive" {r spop s x}
        assert_error "ERR value is out of range, must be positive" {r spop nokey -1}
        assert_equal 1 [r scard s]
    }

    test "SPOP of most of a big set leaves the smallest fitting encoding" {
        r del s
        for {set i 0} {$i < 200} {incr i} { r sadd s m$i }
        assert_encoding hashtable s
        r spop s 195
        assert_equal 5 [r scard s]
        assert_encoding listpack s
        r del s
        for {set i 0} {$i < 600} {incr i} { r sadd s $i }
        assert_encoding hashtable s
        r spop s 590
        assert_equal 10 [r scard s]
        assert_encoding listpack s
        r del s
        for {set i 0} {$i < 300} {incr i} { r sadd s $i }
        assert_encoding intset s
        r spop s 290
        assert_encoding intset s
        assert_equal 10 [r scard s]
    }

    # --- SMOVE ------------------------------------------------------------------------

    foreach src_enc {intset listpack hashtable} {
        foreach dst_enc {intset listpack hashtable} {
            test "SMOVE from $src_enc to $dst_enc" {
                create_set src $src_enc {1 2 3}
                create_set dst $dst_enc {3 4}
                assert_equal 1 [r smove src dst 1]
                assert_equal 1 [r smove src dst 3]
                assert_equal 0 [r smove src dst 1]
                assert_equal {2} [r smembers src]
                assert_equal {1 3 4} [lsort [r smembers dst]]
                assert_equal 1 [r smove src dst 2]
                assert_equal 0 [r exists src]
                assert_equal {1 2 3 4} [lsort [r smembers dst]]
            }
        }
    }

    test "SMOVE creates the destination in the encoding of the member" {
        r del src dst
        r sadd src 1 a
        r smove src dst 1
        assert_encoding intset dst
        r smove src dst a
        assert_encoding listpack dst
        r del dst
        r sadd src [string repeat x 70]
        r smove src dst [string repeat x 70]
        assert_encoding hashtable dst
    }

    test "SMOVE of a string into an intset converts it" {
        r del src dst
        r sadd src a b
        r sadd dst 1 2
        assert_equal 1 [r smove src dst a]
        assert_encoding listpack dst
        assert_equal {1 2 a} [lsort [r smembers dst]]
    }

    test "SMOVE within one key, missing source, and type errors" {
        r del s str nokey
        r sadd s a b
        r set str x
        assert_equal 1 [r smove s s a]
        assert_equal 0 [r smove s s z]
        assert_equal {a b} [lsort [r smembers s]]
        assert_equal 0 [r smove nokey s a]
        assert_equal 0 [r smove nokey str a]
        assert_error "WRONGTYPE*" {r smove s str a}
        assert_error "WRONGTYPE*" {r smove str s a}
        assert_equal {a b} [lsort [r smembers s]]
    }

    # --- Set algebra ------------------------------------------------------------------

    # The three operations computed in Tcl, for comparison.
    proc tcl_inter {sets} {
        set result [lindex $sets 0]
        foreach s [lrange $sets 1 end] {
            set result [lmap m $result {expr {$m in $s ? $m : [continue]}}]
        }
        return [lsort $result]
    }
    proc tcl_union {sets} {
        return [lsort -unique [concat {*}$sets]]
    }
    proc tcl_diff {sets} {
        set result [lindex $sets 0]
        foreach s [lrange $sets 1 end] {
            set result [lmap m $result {expr {$m in $s ? [continue] : $m}}]
        }
        return [lsort $result]
    }

    set contents {
        {1 2 3 4 5 6 7 8 9 10}
        {2 4 6 8 10 12}
        {1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20}
    }
    foreach e1 {intset listpack hashtable} {
        foreach e2 {intset listpack hashtable} {
            test "SINTER, SUNION, SDIFF and their STORE forms: $e1 with $e2 and hashtable" {
                create_set {set1} $e1 [lindex $contents 0]
                create_set {set2} $e2 [lindex $contents 1]
                create_set {set3} hashtable [lindex $contents 2]
                foreach keys {{set1 set2} {set2 set1} {set1 set2 set3} {set3 set1 set2} {set1 set1}} {
                    set sets [lmap k $keys {lindex $contents [expr {[string index $k end] - 1}]}]
                    assert_equal [tcl_inter $sets] [lsort [r sinter {*}$keys]] "sinter $keys"
                    assert_equal [tcl_union $sets] [lsort [r sunion {*}$keys]] "sunion $keys"
                    assert_equal [tcl_diff $sets] [lsort [r sdiff {*}$keys]] "sdiff $keys"
                    assert_equal [llength [tcl_inter $sets]] [r sintercard [llength $keys] {*}$keys]
                    assert_equal [llength [tcl_inter $sets]] [r sinterstore dst {*}$keys]
                    assert_equal [tcl_inter $sets] [lsort [r smembers dst]]
                    assert_equal [llength [tcl_union $sets]] [r sunionstore dst {*}$keys]
                    assert_equal [tcl_union $sets] [lsort [r smembers dst]]
                    set d [tcl_diff $sets]
                    assert_equal [llength $d] [r sdiffstore dst {*}$keys]
                    assert_equal $d [lsort [r smembers dst]]
                }
            }
        }
    }

    test "Set algebra with strings and mixed members" {
        r del a b c
        r sadd a x y z 1 2
        r sadd b y z 2 3 [string repeat w 80]
        r sadd c z 2 q
        assert_equal {2 z} [lsort [r sinter a b c]]
        assert_equal [lsort [list 1 2 3 q x y z [string repeat w 80]]] [lsort [r sunion a b c]]
        assert_equal {1 x} [lsort [r sdiff a b c]]
        assert_equal [lsort [list 3 [string repeat w 80] y]] [lsort [r sdiff b c]]
    }

    test "Set algebra with missing keys" {
        r del a nokey dst
        r sadd a 1 2 x
        assert_equal {} [r sinter a nokey]
        assert_equal {} [r sinter nokey a]
        assert_equal 0 [r sintercard 2 a nokey]
        assert_equal {1 2 x} [lsort [r sunion a nokey]]
        assert_equal {1 2 x} [lsort [r sunion nokey a]]
        assert_equal {1 2 x} [lsort [r sdiff a nokey]]
        assert_equal {} [r sdiff nokey a]
        assert_equal {} [r sunion nokey nokey2]
        r sadd dst old
        assert_equal 0 [r sinterstore dst a nokey]
        assert_equal 0 [r exists dst]
        r sadd dst old
        assert_equal 0 [r sdiffstore dst nokey a]
        assert_equal 0 [r exists dst]
        r sadd dst old
        assert_equal 0 [r sunionstore dst nokey nokey2]
        assert_equal 0 [r exists dst]
        r sadd dst old
        assert_equal 0 [r sdiffstore dst a a]
        assert_equal 0 [r exists dst]
        assert_equal 3 [r sunionstore dst a nokey]
        assert_equal {1 2 x} [lsort [r smembers dst]]
    }

    test "STORE overwrites any type and drops the TTL; the destination may be a source" {
        r del a b dst
        r sadd a 1 2 3
        r sadd b 2 3 4
        r set dst string
        r expire dst 100
        assert_equal 2 [r sinterstore dst a b]
        assert_equal -1 [r ttl dst]
        assert_equal {2 3} [lsort [r smembers dst]]
        assert_equal 4 [r sunionstore a a b]
        assert_equal {1 2 3 4} [lsort [r smembers a]]
        assert_equal 1 [r sdiffstore a a b]
        assert_equal {1} [r smembers a]
    }

    test "STORE results take the smallest fitting encoding" {
        r del a b c dst
        # Integers only: an intset, whatever the sources were.
        r sadd a 1 2 3 x
        r sadd b 1 2 3 [string repeat y 70]
        assert_encoding listpack a
        assert_encoding hashtable b
        r sinterstore dst a b
        assert_encoding intset dst
        r sinterstore dst b a
        assert_encoding intset dst
        r sdiffstore dst b a
        assert_encoding hashtable dst
        r sunionstore dst a
        assert_encoding listpack dst
        r srem a x
        r sunionstore dst a
        assert_encoding intset dst
        # Strings: a listpack when small enough.
        r del c
        r sadd c x z [string repeat y 70]
        r sinterstore dst b c
        assert_encoding hashtable dst
        r sadd b x z
        r srem c [string repeat y 70]
        r sinterstore dst b c
        assert_encoding listpack dst
        assert_equal {x z} [lsort [r smembers dst]]
        # Big results are hashtables.
        r del a b
        set m {}
        for {set i 0} {$i < 200} {incr i} { lappend m s$i }
        r sadd a {*}$m
        r sadd b {*}$m
        r sinterstore dst a b
        assert_encoding hashtable dst
        r del a b
        set ints {}
        for {set i 0} {$i < 600} {incr i} { lappend ints $i }
        r sadd a {*}$ints
        r sadd b {*}$ints
        r sinterstore dst a b
        assert_encoding hashtable dst
        assert_equal 600 [r scard dst]
        r sdiffstore dst a nokey
        assert_encoding hashtable dst
    }

    test "SINTERCARD with LIMIT" {
        r del a b
        r sadd a 1 2 3 4 5 x y
        r sadd b 1 2 3 4 5 x z
        assert_equal 6 [r sintercard 2 a b]
        assert_equal 6 [r sintercard 2 a b limit 0]
        assert_equal 3 [r sintercard 2 a b limit 3]
        assert_equal 6 [r sintercard 2 a b LIMIT 10]
        assert_equal 6 [r sintercard 2 a b limit 2 limit 0]
        assert_equal 7 [r sintercard 1 a]
        assert_equal 0 [r sintercard 2 a nokey limit 1]
    }

    test "SINTERCARD errors" {
        assert_error "ERR numkeys should be greater than 0" {r sintercard 0 a}
        assert_error "ERR numkeys should be greater than 0" {r sintercard -1 a}
        assert_error "ERR numkeys should be greater than 0" {r sintercard x a}
        assert_error "ERR Number of keys can't be greater than number of args" {r sintercard 3 a b}
        assert_error "ERR LIMIT can't be negative" {r sintercard 1 a limit -1}
        assert_error "ERR LIMIT can't be negative" {r sintercard 1 a limit x}
        assert_error "ERR syntax error" {r sintercard 1 a b}
        assert_error "ERR syntax error" {r sintercard 1 a limit}
        assert_error "ERR syntax error" {r sintercard 1 a foo 1}
    }

    # --- SSCAN ------------------------------------------------------------------------

    foreach enc {intset listpack} {
        test "SSCAN returns a small set whole with cursor 0 - $enc" {
            set members {}
            for {set i 0} {$i < 50} {incr i} { lappend members $i }
            create_set s $enc $members
            set res [r sscan s 0 count 2]
            assert_equal 0 [lindex $res 0]
            assert_equal [lsort -integer $members] [lsort -integer [lindex $res 1]]
            set res [r sscan s 0 match 1*]
            assert_equal {1 10 11 12 13 14 15 16 17 18 19} [lsort [lindex $res 1]]
        }
    }

    test "SSCAN over a hashtable returns every member" {
        r del s
        set members {}
        for {set i 0} {$i < 1000} {incr i} { lappend members m$i }
        r sadd s {*}$members
        assert_encoding hashtable s
        set seen [dict create]
        set cursor 0
        set calls 0
        while 1 {
            lassign [r sscan s $cursor count 20] cursor batch
            foreach m $batch { dict set seen $m 1 }
            incr calls
            if {$cursor == 0} break
        }
        assert_equal 1000 [dict size $seen]
        assert_morethan $calls 10
        set matched {}
        set cursor 0
        while 1 {
            lassign [r sscan s $cursor match m99* count 100] cursor batch
            lappend matched {*}$batch
            if {$cursor == 0} break
        }
        assert_equal {m99 m990 m991 m992 m993 m994 m995 m996 m997 m998 m999} [lsort -unique $matched]
    }

    test "SSCAN with a COUNT near LONG_MAX over a hashtable" {
        # found by the fuzz (UBSan: signed overflow computing the bucket budget)
        r del s
        for {set i 0} {$i < 1000} {incr i} { r sadd s m$i }
        assert_encoding hashtable s
        lassign [r sscan s 0 count 7152097256957938965] cursor batch
        assert_equal 0 $cursor
        assert_equal 1000 [llength $batch]
        lassign [r sscan s 0 count 9223372036854775807] cursor batch
        assert_equal 1000 [llength $batch]
    }

    test "SSCAN never misses a member present for the whole scan" {
        r del s
        set kept {}
        for {set i 0} {$i < 500} {incr i} {
            lappend kept k$i
            r sadd s k$i t$i
        }
        set seen [dict create]
        set cursor 0
        set round 0
        while 1 {
            lassign [r sscan s $cursor count 10] cursor batch
            foreach m $batch { dict set seen $m 1 }
            # Churn: drop some members that are not kept, add new ones (rehashing).
            r srem s t$round
            r sadd s n$round-a n$round-b n$round-c
            incr round
            if {$cursor == 0} break
        }
        foreach m $kept {
            assert {[dict exists $seen $m]}
        }
    }

    test "SSCAN options and errors" {
        r del s
        r sadd s a b
        assert_error "ERR invalid cursor" {r sscan s x}
        assert_error "ERR invalid cursor" {r sscan s -1}
        assert_error "ERR syntax error" {r sscan s 0 count 0}
        assert_error "ERR value is not an integer or out of range" {r sscan s 0 count x}
        assert_error "ERR syntax error" {r sscan s 0 count}
        assert_error "ERR syntax error" {r sscan s 0 foo bar}
        assert_error "ERR syntax error" {r sscan s 0 type set}
        assert_error "ERR NOVALUES option can only be used in HSCAN" {r sscan s 0 novalues}
        # A missing key answers before the options are looked at.
        assert_equal {0 {}} [r sscan nokey 0 foo]
        assert_equal {a b} [lsort [lindex [r sscan s 0 MATCH * COUNT 1] 1]]
    }

    # --- RESP3 --------------------------------------------------------------------------

    test "RESP3 reply shapes" {
        r del s
        r sadd s a
        set fd [resp3_connection]
        assert_equal "~1\r\n\$1\r\na\r\n" [raw_call $fd {SMEMBERS s}]
        assert_equal "~0\r\n" [raw_call $fd {SMEMBERS nokey}]
        assert_equal "~1\r\n\$1\r\na\r\n" [raw_call $fd {SINTER s}]
        assert_equal "~1\r\n\$1\r\na\r\n" [raw_call $fd {SUNION s}]
        assert_equal "~1\r\n\$1\r\na\r\n" [raw_call $fd {SDIFF s}]
        assert_equal "~0\r\n" [raw_call $fd {SINTER s nokey}]
        assert_equal "*1\r\n\$1\r\na\r\n" [raw_call $fd {SRANDMEMBER s 5}]
        assert_equal "*2\r\n\$1\r\na\r\n\$1\r\na\r\n" [raw_call $fd {SRANDMEMBER s -2}]
        assert_equal "*0\r\n" [raw_call $fd {SRANDMEMBER nokey 5}]
        assert_equal "_\r\n" [raw_call $fd {SRANDMEMBER nokey}]
        assert_equal "_\r\n" [raw_call $fd {SPOP nokey}]
        assert_equal "~0\r\n" [raw_call $fd {SPOP nokey 2}]
        assert_equal "~0\r\n" [raw_call $fd {SPOP s 0}]
        assert_equal "*2\r\n:1\r\n:0\r\n" [raw_call $fd {SMISMEMBER s a b}]
        assert_equal "*2\r\n\$1\r\n0\r\n*1\r\n\$1\r\na\r\n" [raw_call $fd {SSCAN s 0}]
        r sadd s b c d e f
        assert_equal "~2" [raw_header [raw_call $fd {SPOP s 2}]]
        assert_equal "~4" [raw_header [raw_call $fd {SPOP s 10}]]
        close $fd
    }

    # --- Generic key commands on sets ---------------------------------------------------

    foreach enc {intset listpack hashtable} {
        test "TYPE, OBJECT ENCODING, COPY, MEMORY USAGE and DEBUG DIGEST-VALUE - $enc" {
            set members [sample_members $enc]
            create_set s $enc $members
            assert_equal set [r type s]
            r del copy
            assert_equal 1 [r copy s copy]
            assert_encoding $enc copy
            assert_equal [lsort [r smembers s]] [lsort [r smembers copy]]
            r sadd copy extra
            assert_equal 0 [r sismember s extra]
            assert_equal [llength $members] [r scard s]
            assert_morethan [r memory usage s] 0
            assert_equal [r debug digest-value s] [r debug digest-value s]
            r srem copy extra
            assert_equal [r debug digest-value s] [r debug digest-value copy]
            r sadd copy extra
            assert_not_equal [r debug digest-value s] [r debug digest-value copy]
        }
    }

    test "DEBUG DIGEST-VALUE does not depend on the encoding" {
        r del a b
        r sadd a 1 2 3
        r sadd b 1 2 3 [string repeat x 100]
        r srem b [string repeat x 100]
        assert_encoding intset a
        assert_encoding hashtable b
        assert_equal [r debug digest-value a] [r debug digest-value b]
        set before [r debug digest]
        r sadd a 4
        assert_not_equal $before [r debug digest]
    }

    test "MEMORY USAGE grows with the set" {
        r del s
        r sadd s a
        set small [r memory usage s]
        set big {}
        for {set i 0} {$i < 1000} {incr i} { lappend big member-$i }
        r sadd s {*}$big
        assert_morethan [r memory usage s] [expr {$small + 10000}]
    }

    test "A big set is freed through DEL, UNLINK and FLUSHALL ASYNC" {
        r del s
        set big {}
        for {set i 0} {$i < 2000} {incr i} { lappend big x$i }
        r sadd s {*}$big
        assert_equal 1 [r unlink s]
        r sadd s {*}$big
        assert_equal 1 [r del s]
        r sadd s {*}$big
        r flushall async
        assert_equal 0 [r exists s]
    }

    test "Expired sets are gone for every set command" {
        r del s
        r sadd s a b
        r pexpire s 1
        wait_for_condition 50 10 {[r exists s] == 0} else { fail "key did not expire" }
        assert_equal 0 [r scard s]
        assert_equal 1 [r sadd s z]
        assert_equal {z} [r smembers s]
    }

    test "Writes bump the dirty counter only when they change something" {
        r del s
        set before [s rdb_changes_since_last_save]
        if {$before eq ""} { skip "no rdb_changes_since_last_save in INFO" }
        r sadd s a b
        r sadd s a
        r srem s zz
        assert_equal [expr {$before + 2}] [s rdb_changes_since_last_save]
        r spop s 2
        assert_equal [expr {$before + 4}] [s rdb_changes_since_last_save]
    }

    # --- Keyspace events ----------------------------------------------------------------

    test "Keyspace events of set commands" {
        set rd [valkey_deferring_client]
        $rd psubscribe __keyevent@9__:*
        if {[catch {$rd read} err] || [string match "*unknown command*" $err]} {
            $rd close
            skip "no pub/sub yet: $err"
        }
        r config set notify-keyspace-events KEA
        r del s d a b
        r sadd s a b c
        r srem s a
        r smove s d b
        r spop s
        r sadd a 1 2
        r sadd b 2 3
        r sinterstore d a b
        r sunionstore d a b
        r sdiffstore d a b
        r sinterstore d a nokey
        set events {}
        for {set i 0} {$i < 12} {incr i} {
            lassign [$rd read] kind pattern channel key
            lappend events [string range $channel [string length "__keyevent@9__:"] end] $key
        }
        set expected {sadd s srem s srem s sadd d spop s del s sadd a sadd b sinterstore d}
        lappend expected sunionstore d sdiffstore d del d
        assert_equal $expected $events
        r config set notify-keyspace-events ""
        $rd close
    }
}
