# Lists: every command with its options and errors, run on listpack-encoded lists and on
# quicklist-encoded ones (a big element forces the quicklist), first with the default
# list-max-listpack-size and then with a tiny one (4 elements per node, compress depth 1)
# so that lists span many nodes, some of them compressed. Then the encoding conversions
# both ways, plain nodes for big elements, binary elements, and the object-level hooks
# (COPY, MEMORY USAGE, DEBUG DIGEST, keyspace events, dirty counter).

# A value that forces the quicklist encoding whatever the node size limit (> 8 KB).
set ::list_big [string repeat x 9000]

# Encodings are asserted unless the suite runs with tiny nodes (then every list over four
# elements is a quicklist whatever its elements).
set ::list_check_encoding 1
proc list_assert_encoding {enc key} {
    if {$::list_check_encoding} {
        assert_encoding $enc $key
    }
}

# Creates key holding elements and checks the encoding.
proc list_create {enc key elements} {
    r del $key
    r rpush $key {*}$elements
    list_assert_encoding $enc $key
}

# The element that makes a list of the wanted encoding: small for listpack, big otherwise.
proc list_large {enc} {
    if {$enc eq "listpack"} {
        return "hello"
    }
    return $::list_big
}

proc list_suite {enc} {
    set large [list_large $enc]

    test "LPUSH, RPUSH, LLEN, LINDEX, LPOP, RPOP - $enc" {
        r del l
        assert_equal 1 [r lpush l a]
        assert_equal 2 [r rpush l $large]
        assert_equal 3 [r lpush l b]
        list_assert_encoding $enc l
        assert_equal 3 [r llen l]
        assert_equal b [r lindex l 0]
        assert_equal a [r lindex l 1]
        assert_equal $large [r lindex l 2]
        assert_equal $large [r lindex l -1]
        assert_equal b [r lindex l -3]
        assert_equal {} [r lindex l 3]
        assert_equal {} [r lindex l -4]
        assert_equal {} [r lindex l 100]
        assert_equal b [r lpop l]
        assert_equal $large [r rpop l]
        assert_equal a [r lpop l]
        assert_equal 0 [r llen l]
        assert_equal 0 [r exists l]
        assert_equal {} [r lpop l]
        assert_equal {} [r rpop l]
    }

    test "Variadic push keeps the argument order - $enc" {
        r del l
        assert_equal 3 [r lpush l a b c]
        assert_equal 6 [r rpush l d $large e]
        assert_equal [list c b a d $large e] [r lrange l 0 -1]
        list_assert_encoding $enc l
    }

    test "LPUSHX and RPUSHX only push to existing lists - $enc" {
        r del l
        assert_equal 0 [r lpushx l a]
        assert_equal 0 [r rpushx l a b]
        assert_equal 0 [r exists l]
        r rpush l $large c
        assert_equal 3 [r lpushx l b]
        assert_equal 5 [r rpushx l d e]
        assert_equal [list b $large c d e] [r lrange l 0 -1]
        list_assert_encoding $enc l
    }

    test "Integers and strings mix in one list - $enc" {
        r del l
        r rpush l 1 -1 0 9223372036854775807 -9223372036854775808 01 1.5 " 1" $large 18446744073709551616
        assert_equal [list 1 -1 0 9223372036854775807 -9223372036854775808 01 1.5 " 1" $large 18446744073709551616] \
            [r lrange l 0 -1]
        assert_equal 9223372036854775807 [r lindex l 3]
        assert_equal 01 [r lindex l 5]
        assert_equal 5 [r lpos l 01]
        assert_equal {} [r lpos l 001]
    }

    test "LRANGE with every kind of range - $enc" {
        list_create $enc l [list a b c d e $large]
        assert_equal {a b c} [r lrange l 0 2]
        assert_equal [list a b c d e $large] [r lrange l 0 -1]
        assert_equal [list e $large] [r lrange l -2 -1]
        assert_equal [list a b c d e $large] [r lrange l -100 100]
        assert_equal {} [r lrange l 3 2]
        assert_equal {} [r lrange l 6 10]
        assert_equal {} [r lrange l -1 -2]
        assert_equal {a} [r lrange l 0 0]
        assert_equal {a} [r lrange l -100 0]
        assert_equal {} [r lrange l 0 -100]
        assert_equal {} [r lrange nokey 0 -1]
        assert_error "ERR value is not an integer or out of range" {r lrange l a 1}
        assert_error "ERR value is not an integer or out of range" {r lrange l 0 1.5}
    }

    test "LINDEX argument errors - $enc" {
        list_create $enc l [list a $large]
        assert_error "ERR value is not an integer or out of range" {r lindex l x}
        # The key is looked up before the index is parsed.
        assert_equal {} [r lindex nokey x]
    }

    test "LSET replaces by index and errors - $enc" {
        list_create $enc l [list a b c $large]
        assert_equal OK [r lset l 0 x]
        assert_equal OK [r lset l -1 y]
        assert_equal OK [r lset l 1 $large]
        assert_equal [list x $large c y] [r lrange l 0 -1]
        assert_error "ERR index out of range" {r lset l 4 z}
        assert_error "ERR index out of range" {r lset l -5 z}
        assert_error "ERR no such key" {r lset nokey 0 z}
        assert_error "ERR value is not an integer or out of range" {r lset l x z}
        assert_equal [list x $large c y] [r lrange l 0 -1]
    }

    test "LINSERT before and after, pivot missing, key missing - $enc" {
        list_create $enc l [list a $large c]
        assert_equal 4 [r linsert l before c b]
        assert_equal 5 [r linsert l after c d]
        assert_equal 6 [r linsert l BEFORE a start]
        assert_equal 7 [r linsert l AfTeR $large afterlarge]
        assert_equal [list start a $large afterlarge b c d] [r lrange l 0 -1]
        assert_equal -1 [r linsert l before nothere x]
        assert_equal 0 [r linsert nokey before a x]
        assert_equal 0 [r exists nokey]
        assert_error "ERR syntax error" {r linsert l middle a x}
        assert_error "ERR syntax error" {r linsert nokey middle a x}
    }

    test "LINSERT finds the first pivot from the head - $enc" {
        list_create $enc l [list a x $large x]
        r linsert l after x y
        assert_equal [list a x y $large x] [r lrange l 0 -1]
    }

    test "LREM from the head, from the tail, all - $enc" {
        list_create $enc l [list a b a $large a b a]
        assert_equal 2 [r lrem l 2 a]
        assert_equal [list b $large a b a] [r lrange l 0 -1]
        assert_equal 1 [r lrem l -1 a]
        assert_equal [list b $large a b] [r lrange l 0 -1]
        assert_equal 2 [r lrem l 0 b]
        assert_equal [list $large a] [r lrange l 0 -1]
        assert_equal 0 [r lrem l 0 nothere]
        # Valkey refuses LONG_MIN (its magnitude does not fit); Redis 7.0 accepts it.
        assert_error {ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807} {r lrem l -9223372036854775808 a}
        assert_equal 1 [r lrem l -9223372036854775807 a]
        assert_equal 1 [r lrem l 1 $large]
        assert_equal 0 [r exists l]
        assert_equal 0 [r lrem nokey 0 a]
        assert_error "ERR value is not an integer or out of range" {r lrem l x a}
    }

    test "LTRIM keeps a range and deletes emptied lists - $enc" {
        list_create $enc l [list a b c d $large]
        assert_equal OK [r ltrim l 1 -2]
        assert_equal {b c d} [r lrange l 0 -1]
        assert_equal OK [r ltrim l -100 100]
        assert_equal {b c d} [r lrange l 0 -1]
        assert_equal OK [r ltrim l 1 1]
        assert_equal {c} [r lrange l 0 -1]
        assert_equal OK [r ltrim l 2 1]
        assert_equal 0 [r exists l]
        list_create $enc l [list a b $large]
        assert_equal OK [r ltrim l 5 10]
        assert_equal 0 [r exists l]
        assert_equal OK [r ltrim nokey 0 1]
        assert_error "ERR value is not an integer or out of range" {r ltrim l a 1}
    }

    test "LPOP and RPOP with a count - $enc" {
        list_create $enc l [list a b c d $large]
        assert_equal {a b} [r lpop l 2]
        assert_equal [list $large d] [r rpop l 2]
        assert_equal {} [r lpop l 0]
        assert_equal {c} [r rpop l 10]
        assert_equal 0 [r exists l]
        # Missing key with a count: a null array, without: a null bulk.
        assert_equal {} [r lpop l 3]
        assert_equal {} [r lpop l 0]
        assert_error "ERR value is out of range, must be positive" {r lpop l -1}
        assert_error "ERR value is out of range, must be positive" {r rpop l 1.5}
        assert_error "ERR wrong number of arguments for 'lpop' command" {r lpop l 1 2}
    }

    test "LPOS with RANK, COUNT and MAXLEN - $enc" {
        list_create $enc l [list a b c $large 1 2 3 c c]
        assert_equal 2 [r lpos l c]
        assert_equal 3 [r lpos l $large]
        assert_equal 7 [r lpos l c rank 2]
        assert_equal 8 [r lpos l c rank -1]
        assert_equal 7 [r lpos l c rank -2]
        assert_equal 2 [r lpos l c rank -3]
        assert_equal {} [r lpos l c rank 4]
        assert_equal {2 7 8} [r lpos l c count 0]
        assert_equal {2 7} [r lpos l c count 2]
        assert_equal {7 8} [r lpos l c count 2 rank 2]
        assert_equal {8 7 2} [r lpos l c count 0 rank -1]
        assert_equal {} [r lpos l c rank 1 maxlen 2]
        assert_equal 2 [r lpos l c maxlen 3]
        assert_equal {2} [r lpos l c count 0 maxlen 3]
        assert_equal {8} [r lpos l c rank -1 maxlen 1]
        assert_equal {} [r lpos l nothere count 0]
        assert_equal {} [r lpos l nothere]
        assert_equal {} [r lpos nokey a]
        assert_equal {} [r lpos nokey a count 1]
    }

    test "LPOS option errors - $enc" {
        list_create $enc l [list a $large]
        assert_error "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list" {r lpos l a rank 0}
        assert_error "ERR COUNT can't be negative" {r lpos l a count -1}
        assert_error "ERR COUNT can't be negative" {r lpos l a count x}
        assert_error "ERR MAXLEN can't be negative" {r lpos l a maxlen -1}
        assert_error "ERR value is not an integer or out of range" {r lpos l a rank x}
        assert_error "ERR value is out of range*" {r lpos l a rank -9223372036854775808}
        assert_error "ERR syntax error" {r lpos l a rank}
        assert_error "ERR syntax error" {r lpos l a foo 1}
        # Options are parsed before the key is looked up.
        assert_error "ERR syntax error" {r lpos nokey a foo 1}
    }

    test "LMOVE between two lists in every direction - $enc" {
        list_create $enc src [list a b c $large]
        r del dst
        assert_equal $large [r lmove src dst right left]
        assert_equal a [r lmove src dst left left]
        assert_equal b [r lmove src dst left right]
        assert_equal c [r lmove src dst right right]
        assert_equal 0 [r exists src]
        assert_equal [list a $large b c] [r lrange dst 0 -1]
        assert_equal {} [r lmove src dst left left]
        assert_error "ERR syntax error" {r lmove dst src up left}
        assert_error "ERR syntax error" {r lmove dst src left down}
    }

    test "RPOPLPUSH and LMOVE with source = destination rotate - $enc" {
        list_create $enc l [list a b c $large]
        assert_equal $large [r rpoplpush l l]
        assert_equal [list $large a b c] [r lrange l 0 -1]
        assert_equal $large [r lmove l l left right]
        assert_equal [list a b c $large] [r lrange l 0 -1]
        assert_equal a [r lmove l l left left]
        assert_equal [list a b c $large] [r lrange l 0 -1]
        r del one
        r rpush one x
        assert_equal x [r rpoplpush one one]
        assert_equal {x} [r lrange one 0 -1]
    }

    test "LMOVE against a wrong-typed destination keeps the source - $enc" {
        list_create $enc src [list a $large]
        r set str foo
        assert_error "WRONGTYPE*" {r lmove src str left left}
        assert_error "WRONGTYPE*" {r rpoplpush src str}
        assert_equal [list a $large] [r lrange src 0 -1]
        assert_error "WRONGTYPE*" {r lmove str src left left}
        # A missing source replies null before the destination is looked at.
        assert_equal {} [r lmove nokey str left left]
    }

    test "LMPOP from the first non-empty key - $enc" {
        r del k1 k2
        list_create $enc k2 [list a b c $large]
        assert_equal {k2 a} [r lmpop 2 k1 k2 left]
        assert_equal [list k2 [list $large c]] [r lmpop 2 k1 k2 right count 2]
        assert_equal {k2 b} [r lmpop 2 k1 k2 right count 10]
        assert_equal 0 [r exists k2]
        assert_equal {} [r lmpop 2 k1 k2 left]
        assert_equal {} [r lmpop 1 k1 left count 5]
    }

    test "LMPOP argument errors - $enc" {
        assert_error "ERR numkeys should be greater than 0" {r lmpop 0 k1 left}
        assert_error "ERR numkeys should be greater than 0" {r lmpop -1 k1 left}
        assert_error "ERR numkeys should be greater than 0" {r lmpop x k1 left}
        assert_error "ERR syntax error" {r lmpop 2 k1 left}
        assert_error "ERR syntax error" {r lmpop 9223372036854775807 k1 left}
        assert_error "ERR syntax error" {r lmpop 1 k1 middle}
        assert_error "ERR syntax error" {r lmpop 1 k1 left count}
        assert_error "ERR syntax error" {r lmpop 1 k1 left count 1 count 1}
        assert_error "ERR syntax error" {r lmpop 1 k1 left foo}
        assert_error "ERR count should be greater than 0" {r lmpop 1 k1 left count 0}
        assert_error "ERR count should be greater than 0" {r lmpop 1 k1 left count -1}
        assert_error "ERR count should be greater than 0" {r lmpop 1 k1 left count x}
    }

    test "WRONGTYPE on every list command - $enc" {
        r del str
        r set str foo
        foreach cmd {
            {lpush str a} {rpush str a} {lpushx str a} {rpushx str a} {linsert str before a b}
            {llen str} {lindex str 0} {lset str 0 a} {lpop str} {rpop str} {lpop str 1}
            {lrange str 0 -1} {ltrim str 0 1} {lpos str a} {lrem str 0 a} {lmove str x left left}
            {rpoplpush str x} {lmpop 1 str left} {blpop str 0} {brpop str 0} {blmpop 0 1 str left}
            {blmove str x left left 0} {brpoplpush str x 0}
        } {
            assert_error "WRONGTYPE Operation against a key holding the wrong kind of value" [list r {*}$cmd]
        }
        assert_equal foo [r get str]
    }

    test "Lists with many elements keep their order through every command - $enc" {
        r del l
        set expected {}
        for {set i 0} {$i < 300} {incr i} {
            lappend expected $i
        }
        r rpush l {*}$expected
        r rpush l $large
        lappend expected $large
        assert_equal $expected [r lrange l 0 -1]
        assert_equal 150 [r lindex l 150]
        assert_equal 299 [r lindex l -2]
        r lset l 200 x
        set expected [lreplace $expected 200 200 x]
        r linsert l before 100 y
        set expected [linsert $expected 100 y]
        r lrem l 1 50
        set expected [lsearch -all -inline -not -exact $expected 50]
        assert_equal $expected [r lrange l 0 -1]
        assert_equal [lrange $expected 10 20] [r lrange l 10 20]
        assert_equal [lreverse [lrange $expected end-9 end]] [r rpop l 10]
    }
}

start_server {tags {"list"}} {
    list_suite listpack
    list_suite quicklist
}

start_server {tags {"list"} overrides {list-max-listpack-size 4 list-compress-depth 1}} {
    set ::list_check_encoding 0
    list_suite listpack
    list_suite quicklist
    set ::list_check_encoding 1

    test {Small nodes with compression: long lists read and edit correctly} {
        r del l
        set expected {}
        for {set i 0} {$i < 1000} {incr i} {
            lappend expected "element-$i-[string repeat z 20]"
        }
        r rpush l {*}$expected
        assert_encoding quicklist l
        assert_equal $expected [r lrange l 0 -1]
        assert_equal [lindex $expected 500] [r lindex l 500]
        assert_equal [lindex $expected 333] [r lindex l -667]
        r lset l 500 middle
        r linsert l after middle after-middle
        r lrem l 0 [lindex $expected 700]
        set expected [lreplace $expected 500 500 middle after-middle]
        set expected [lsearch -all -inline -not -exact $expected [lindex $expected 701]]
        assert_equal $expected [r lrange l 0 -1]
        assert_equal [expr {[llength $expected] - 1}] [r lpos l [lindex $expected end]]
        r ltrim l 100 899
        assert_equal [lrange $expected 100 899] [r lrange l 0 -1]
    }
}

start_server {tags {"list"}} {
    test {A new list is a listpack; it becomes a quicklist past the element count} {
        r config set list-max-listpack-size 4
        r del l
        r rpush l a b c d
        assert_encoding listpack l
        r rpush l e
        assert_encoding quicklist l
        r del l
        # One push of many elements converts up front.
        r rpush l a b c d e
        assert_encoding quicklist l
        r config set list-max-listpack-size -2
    }

    test {A list becomes a quicklist past the node size (default -2: 8 KB)} {
        r del l
        r rpush l [string repeat a 4000]
        r rpush l [string repeat b 4000]
        assert_encoding listpack l
        r rpush l [string repeat c 400]
        assert_encoding quicklist l
        r del l
        r rpush l [string repeat a 9000]
        assert_encoding quicklist l
    }

    test {Every growing command converts: LINSERT, LSET, LMOVE, LPUSHX} {
        r config set list-max-listpack-size 4
        r del l dst
        r rpush l a b c d
        # LINSERT converts even when the pivot is missing, as Valkey does.
        assert_equal -1 [r linsert l before nothere x]
        assert_encoding quicklist l
        r del l
        r rpush l a b c
        assert_equal 4 [r linsert l before a x]
        assert_encoding listpack l
        r config set list-max-listpack-size -2
        r del l
        r rpush l a b
        r lset l 0 [string repeat x 9000]
        assert_encoding quicklist l
        r del l
        r rpush l a
        r rpushx l [string repeat x 9000]
        assert_encoding quicklist l
        r del src
        r rpush src [string repeat y 9000]
        r rpush dst a
        r lmove src dst left right
        assert_encoding quicklist dst
    }

    test {A quicklist turns back into a listpack at half the limit (count)} {
        r config set list-max-listpack-size 4
        r del l
        r rpush l a b c d e
        assert_encoding quicklist l
        r rpop l
        # [a b c d]: one node but over half the limit: still a quicklist.
        assert_encoding quicklist l
        r rpop l
        assert_encoding quicklist l
        r rpop l
        assert_encoding listpack l
        assert_equal {a b} [r lrange l 0 -1]
        r config set list-max-listpack-size -2
    }

    test {A quicklist turns back into a listpack at half the limit (size)} {
        r del l
        r rpush l a b c [string repeat x 9000]
        assert_encoding quicklist l
        r rpop l
        assert_encoding listpack l
        r del l
        r rpush l [string repeat x 5000]
        assert_encoding listpack l
        r rpush l [string repeat y 5000]
        assert_encoding quicklist l
        r rpop l
        # One node, but over half of 8 KB: stays.
        assert_encoding quicklist l
        r lset l 0 a
        assert_encoding listpack l
        assert_equal {a} [r lrange l 0 -1]
        # Two small nodes do not convert: only a single node does.
        r del l
        r rpush l [string repeat x 5000] [string repeat y 5000]
        r lset l 0 a
        r lset l 1 b
        assert_encoding quicklist l
    }

    test {Every shrinking command converts back: LREM, LTRIM, LPOP count, LMOVE} {
        r config set list-max-listpack-size 3
        foreach {cmd} {
            {r lrem l 3 a}
            {r ltrim l 3 3}
            {r lpop l 3}
            {r rpop l 3}
            {r lmove l other left left}
            {r lmpop 1 l left count 3}
        } {
            r del l other
            r rpush l a a a d
            assert_encoding quicklist l
            {*}$cmd
            if {[lindex $cmd 1] eq "lmove"} {
                r lmove l other left left
                r lmove l other left left
            }
            assert_encoding listpack l
        }
        r config set list-max-listpack-size -2
    }

    test {Big elements (> 64 KB) live in plain nodes and work with every command} {
        r del l
        set big [string repeat B 70000]
        set big2 [string repeat C 80000]
        r rpush l a $big b
        assert_encoding quicklist l
        assert_equal [list a $big b] [r lrange l 0 -1]
        assert_equal $big [r lindex l 1]
        assert_equal 1 [r lpos l $big]
        r linsert l before $big $big2
        assert_equal [list a $big2 $big b] [r lrange l 0 -1]
        r lset l 0 $big
        r lset l 1 small
        assert_equal [list $big small $big b] [r lrange l 0 -1]
        assert_equal 2 [r lrem l 0 $big]
        assert_equal {small b} [r lrange l 0 -1]
        r lpush l $big
        assert_equal $big [r lpop l]
        r rpush l $big2
        assert_equal $big2 [r rpoplpush l l]
        assert_equal $big2 [r lpop l]
        assert_equal {small b} [r lrange l 0 -1]
    }

    test {DEBUG QUICKLIST-PACKED-THRESHOLD makes plain nodes of smaller elements} {
        r debug quicklist-packed-threshold 100
        r del l
        set mid [string repeat m 200]
        r rpush l a [string repeat x 9000] $mid b
        assert_equal [list a [string repeat x 9000] $mid b] [r lrange l 0 -1]
        r linsert l after a $mid
        r lset l -1 $mid
        assert_equal [list a $mid [string repeat x 9000] $mid $mid] [r lrange l 0 -1]
        assert_equal 3 [r lrem l 0 $mid]
        r debug quicklist-packed-threshold 0
        assert_equal [list a [string repeat x 9000]] [r lrange l 0 -1]
    } {} {needs:debug}

    test {Binary-safe elements} {
        r del l
        set bin "a\x00b\r\nc\xff"
        r rpush l $bin "" "\x00"
        assert_equal [list $bin "" "\x00"] [r lrange l 0 -1]
        assert_equal 1 [r lpos l ""]
        assert_equal 0 [r lpos l $bin]
        assert_equal 1 [r lrem l 1 "\x00"]
        assert_equal [list $bin ""] [r lrange l 0 -1]
    }

    test {list-max-ziplist-size is an alias and the configs validate} {
        r config set list-max-ziplist-size 7
        assert_equal {list-max-listpack-size 7} [r config get list-max-listpack-size]
        r config set list-max-listpack-size -2
        assert_equal {list-max-ziplist-size -2} [r config get list-max-ziplist-size]
        assert_error "*list-compress-depth*" {r config set list-compress-depth -1}
        r config set list-compress-depth 2
        assert_equal {list-compress-depth 2} [r config get list-compress-depth]
        r config set list-compress-depth 0
    }

    test {COPY duplicates both encodings deeply} {
        r del l c1 q c2
        r rpush l a b 3
        r rpush q a [string repeat x 9000] 3
        assert_equal 1 [r copy l c1]
        assert_equal 1 [r copy q c2]
        assert_encoding listpack c1
        assert_encoding quicklist c2
        r rpush c1 changed
        r rpush c2 changed
        assert_equal {a b 3} [r lrange l 0 -1]
        assert_equal [list a [string repeat x 9000] 3] [r lrange q 0 -1]
        assert_equal {a b 3 changed} [r lrange c1 0 -1]
    }

    test {MEMORY USAGE grows with the list} {
        r del l
        r rpush l a
        set small [r memory usage l]
        for {set i 0} {$i < 1000} {incr i} {
            r rpush l "element number $i"
        }
        assert_encoding quicklist l
        assert_morethan [r memory usage l] [expr {$small + 10000}]
        assert_morethan [r memory usage l samples 0] 10000
    }

    test {DEBUG DIGEST does not depend on the encoding} {
        r config set list-max-listpack-size 2
        r del lp ql
        r rpush ql a b 3 4
        assert_encoding quicklist ql
        r config set list-max-listpack-size -2
        r rpush lp a b 3 4
        assert_encoding listpack lp
        assert_equal [r debug digest-value lp] [r debug digest-value ql]
        r rpush lp x
        assert_not_equal [r debug digest-value lp] [r debug digest-value ql]
        r del lp
        r rpush lp b a 3 4
        assert_not_equal [r debug digest-value lp] [r debug digest-value ql]
        set before [r debug digest]
        r lset lp 0 c
        assert_not_equal $before [r debug digest]
    } {} {needs:debug}

    test {OBJECT ENCODING and TYPE} {
        r del l
        r rpush l a
        assert_equal list [r type l]
        assert_equal listpack [r object encoding l]
    }

    test {Writes count as changes since the last save} {
        set before [s rdb_changes_since_last_save]
        if {$before eq ""} {
            skip "no rdb_changes_since_last_save"
        }
        r del l
        set before [s rdb_changes_since_last_save]
        r rpush l a b c d e
        r lpop l 2
        r lrem l 1 c
        r linsert l before d x
        r lset l 0 y
        r ltrim l 0 1
        r rpoplpush l l
        assert_equal [expr {$before + 5 + 2 + 1 + 1 + 1 + 1 + 1}] [s rdb_changes_since_last_save]
    }

    test {Keyspace events of list commands} {
        r del l dst
        r config set notify-keyspace-events KEA
        set rd [valkey_deferring_client]
        $rd psubscribe __keyevent@*
        if {[catch {$rd read} err]} {
            $rd close
            r config set notify-keyspace-events ""
            skip "no pub/sub: $err"
        }
        r rpush l a b c d
        r lpush l z
        r linsert l before a y
        r lset l 0 x
        r lrem l 1 x
        r ltrim l 0 2
        r lpop l
        r lmove l dst right left
        r rpop l
        set events {}
        for {set i 0} {$i < 11} {incr i} {
            lassign [$rd read] kind pattern channel key
            lappend events "[lindex [split $channel :] end] $key"
        }
        set expected {{rpush l} {lpush l} {linsert l} {lset l} {lrem l} {ltrim l} {lpop l}}
        lappend expected {lpush dst} {rpop l} {rpop l} {del l}
        assert_equal $expected $events
        $rd close
        r config set notify-keyspace-events ""
    }
}
