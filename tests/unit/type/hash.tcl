# Hashes: every command with its options and errors, run once on listpack-encoded hashes
# (the default limits) and once on hashtable-encoded ones (hash-max-listpack-entries 0
# converts every hash on its first write); then the conversion thresholds, HRANDFIELD
# distribution and reply shapes, HSCAN's guarantees, HINCRBYFLOAT formatting, big and
# binary values, and the object-level hooks (COPY, MEMORY USAGE, DEBUG DIGEST, UNLINK).

# The first protocol lines of a reply read raw (RESP3 headers such as %2 or *2).
proc hash_raw_lines {client n} {
    set lines {}
    for {set i 0} {$i < $n} {incr i} {
        lappend lines [$client read]
    }
    return $lines
}

proc hash_suite {enc} {
    test "HSET creates the key and counts only new fields - $enc" {
        r del h
        assert_equal 2 [r hset h a 1 b 2]
        assert_encoding $enc h
        assert_equal 1 [r hset h a 10 c 3]
        assert_equal 0 [r hset h a 11]
        assert_equal 11 [r hget h a]
        assert_equal 3 [r hlen h]
    }

    test "HSET and HMSET arity errors - $enc" {
        assert_error "ERR wrong number of arguments for 'hset' command" {r hset h a}
        assert_error "ERR wrong number of arguments for 'hset' command" {r hset h a 1 b}
        assert_error "ERR wrong number of arguments for 'hmset' command" {r hmset h a}
        assert_error "ERR wrong number of arguments for 'hmset' command" {r hmset h a 1 b}
        assert_equal 3 [r hlen h]
    }

    test "HMSET replies OK and sets every pair - $enc" {
        r del h
        assert_equal OK [r hmset h x 1 y 2 x 3]
        assert_equal {3 2} [r hmget h x y]
        assert_encoding $enc h
    }

    test "HSETNX sets only missing fields - $enc" {
        r del h
        assert_equal 1 [r hsetnx h f v1]
        assert_encoding $enc h
        assert_equal 0 [r hsetnx h f v2]
        assert_equal v1 [r hget h f]
        assert_equal 1 [r hsetnx h g v3]
        assert_equal 2 [r hlen h]
    }

    test "HGET, HEXISTS, HSTRLEN on present and missing fields - $enc" {
        r del h
        r hset h str hello int 12345 neg -7 empty {} zero 0
        assert_equal hello [r hget h str]
        assert_equal 12345 [r hget h int]
        assert_equal {} [r hget h empty]
        assert_equal {} [r hget h nofield]
        assert_equal {} [r hget nokey f]
        assert_equal 1 [r hexists h int]
        assert_equal 1 [r hexists h empty]
        assert_equal 0 [r hexists h nofield]
        assert_equal 0 [r hexists nokey f]
        assert_equal 5 [r hstrlen h str]
        assert_equal 5 [r hstrlen h int]
        assert_equal 2 [r hstrlen h neg]
        assert_equal 1 [r hstrlen h zero]
        assert_equal 0 [r hstrlen h empty]
        assert_equal 0 [r hstrlen h nofield]
        assert_equal 0 [r hstrlen nokey f]
    }

    test "Integer-looking fields are matched by their exact bytes - $enc" {
        r del h
        r hset h 1 one 01 zero-one -0 minus-zero
        assert_equal one [r hget h 1]
        assert_equal zero-one [r hget h 01]
        assert_equal minus-zero [r hget h -0]
        assert_equal {} [r hget h 001]
        assert_equal {} [r hget h +1]
        assert_equal 3 [r hlen h]
    }

    test "HMGET with missing fields and a missing key - $enc" {
        r del h
        r hset h a 1 b 2
        assert_equal {1 {} 2 1} [r hmget h a nofield b a]
        assert_equal {{} {}} [r hmget nokey a b]
        r hello 3
        assert_equal {1 {}} [r hmget h a nofield]
        r readraw 1
        assert_equal {*2 _ _} [list [r hmget nokey a b] [r read] [r read]]
        r readraw 0
        r hello 2
    }

    test "HLEN - $enc" {
        r del h
        assert_equal 0 [r hlen h]
        for {set i 0} {$i < 50} {incr i} {r hset h f$i v$i}
        assert_equal 50 [r hlen h]
    }

    test "HDEL counts deleted fields, ignores repeats and missing ones - $enc" {
        r del h
        r hset h a 1 b 2 c 3
        assert_equal 2 [r hdel h a a b nofield]
        assert_equal 0 [r hdel h a]
        assert_equal 0 [r hdel nokey a]
        assert_equal {c 3} [r hgetall h]
        assert_encoding $enc h
    }

    test "HDEL of the last field deletes the key - $enc" {
        r del h
        r hset h a 1 b 2
        assert_equal 2 [r hdel h a b c]
        assert_equal 0 [r exists h]
        r hset h a 1
        assert_equal 1 [r hdel h a]
        assert_equal 0 [r exists h]
    }

    test "HKEYS, HVALS, HGETALL - $enc" {
        r del h
        set expected {}
        for {set i 0} {$i < 30} {incr i} {
            r hset h field$i value$i
            dict set expected field$i value$i
        }
        assert_equal [lsort [dict keys $expected]] [lsort [r hkeys h]]
        assert_equal [lsort [dict values $expected]] [lsort [r hvals h]]
        set all [r hgetall h]
        assert_equal 60 [llength $all]
        foreach {f v} $all {
            assert_equal [dict get $expected $f] $v
        }
        assert_equal {} [r hkeys nokey]
        assert_equal {} [r hvals nokey]
        assert_equal {} [r hgetall nokey]
    }

    test "HGETALL is a map in RESP3, HKEYS a plain array - $enc" {
        r del h
        r hset h a 1 b 2
        r hello 3
        assert_equal {a 1 b 2} [lsort -stride 2 [r hgetall h]]
        r readraw 1
        assert_equal %2 [r hgetall h]
        hash_raw_lines r 8
        assert_equal *2 [r hkeys h]
        hash_raw_lines r 4
        assert_equal %0 [r hgetall nokey]
        assert_equal *0 [r hkeys nokey]
        r readraw 0
        r hello 2
        r readraw 1
        assert_equal *4 [r hgetall h]
        hash_raw_lines r 8
        assert_equal *0 [r hgetall nokey]
        r readraw 0
    }

    test "HINCRBY creates, increments and keeps integers exact - $enc" {
        r del h
        assert_equal 5 [r hincrby h n 5]
        assert_encoding $enc h
        assert_equal 3 [r hincrby h n -2]
        assert_equal 3 [r hget h n]
        r hset h big 9223372036854775806
        assert_equal 9223372036854775807 [r hincrby h big 1]
        assert_equal -9223372036854775808 [r hincrby h small -9223372036854775808]
        assert_equal 17179869184 [r hincrby h n2 17179869184]
        assert_equal 34359738368 [r hincrby h n2 17179869184]
    }

    test "HINCRBY errors - $enc" {
        r del h
        r hset h str hello float 1.5 spaced { 1} big 9223372036854775807 small -9223372036854775808
        assert_error "ERR hash value is not an integer" {r hincrby h str 1}
        assert_error "ERR hash value is not an integer" {r hincrby h float 1}
        assert_error "ERR hash value is not an integer" {r hincrby h spaced 1}
        assert_error "ERR increment or decrement would overflow" {r hincrby h big 1}
        assert_error "ERR increment or decrement would overflow" {r hincrby h small -1}
        assert_error "ERR value is not an integer or out of range" {r hincrby h n x}
        assert_error "ERR value is not an integer or out of range" {r hincrby h n 1.5}
        assert_error "ERR value is not an integer or out of range" {r hincrby h n 9223372036854775808}
        assert_equal 9223372036854775807 [r hget h big]
        assert_equal 0 [r hexists h n]
        r del fresh
        assert_error "ERR value is not an integer or out of range" {r hincrby fresh n x}
        assert_equal 0 [r exists fresh]
    }

    test "HINCRBYFLOAT arithmetic and formatting - $enc" {
        r del h
        assert_equal 10.5 [r hincrbyfloat h f 10.5]
        assert_encoding $enc h
        assert_equal 10.6 [r hincrbyfloat h f 0.1]
        assert_equal 3 [r hincrbyfloat h f -7.6]
        assert_equal 3 [r hget h f]
        assert_equal 5003 [r hincrbyfloat h f 5.0e3]
        assert_equal 5003 [r hincrbyfloat h f -0]
        r hset h i 17
        assert_equal 18.5 [r hincrbyfloat h i 1.5]
        assert_equal 1 [r hincrbyfloat h g 1]
        assert_equal -1.25 [r hincrbyfloat h neg -1.25]
        r hset h exp 1e2
        assert_equal 101 [r hincrbyfloat h exp 1]
    }

    test "HINCRBYFLOAT errors - $enc" {
        r del h
        r hset h str hello spaced { 1.5}
        assert_error "ERR hash value is not a float" {r hincrbyfloat h str 1}
        assert_error "ERR hash value is not a float" {r hincrbyfloat h spaced 1}
        assert_error "ERR value is not a valid float" {r hincrbyfloat h f abc}
        assert_error "ERR value is not a valid float" {r hincrbyfloat h f nan}
        assert_error "ERR value is NaN or Infinity" {r hincrbyfloat h f inf}
        assert_error "ERR value is NaN or Infinity" {r hincrbyfloat h f -inf}
        assert_equal 0 [r hexists h f]
        r del fresh
        assert_error "ERR value is NaN or Infinity" {r hincrbyfloat fresh f inf}
        assert_equal 0 [r exists fresh]
    }

    test "HRANDFIELD without count - $enc" {
        r del h
        r hset h a 1 b 2 c 3
        for {set i 0} {$i < 20} {incr i} {
            assert [expr {[r hrandfield h] in {a b c}}]
        }
        assert_equal {} [r hrandfield nokey]
        r hello 3
        r readraw 1
        assert_equal _ [r hrandfield nokey]
        r readraw 0
        r hello 2
    }

    test "HRANDFIELD with count: distinct picks, whole hash, repeats - $enc" {
        r del h
        for {set i 0} {$i < 10} {incr i} {r hset h f$i v$i}
        set all [lsort [r hkeys h]]
        foreach count {1 3 5 9} {
            set got [r hrandfield h $count]
            assert_equal $count [llength $got]
            assert_equal $count [llength [lsort -unique $got]]
            foreach f $got {assert [expr {$f in $all}]}
        }
        assert_equal $all [lsort [r hrandfield h 10]]
        assert_equal $all [lsort [r hrandfield h 1000]]
        assert_equal {} [r hrandfield h 0]
        assert_equal {} [r hrandfield h 0 withvalues]
        set got [r hrandfield h -50]
        assert_equal 50 [llength $got]
        foreach f $got {assert [expr {$f in $all}]}
        assert_equal 1 [llength [r hrandfield h -1]]
        assert_equal {} [r hrandfield nokey 5]
        assert_equal {} [r hrandfield nokey -5 withvalues]
    }

    test "HRANDFIELD WITHVALUES pairs in RESP2 and RESP3 - $enc" {
        r del h
        for {set i 0} {$i < 10} {incr i} {r hset h f$i v$i}
        foreach count {3 -20 10 100} {
            set got [r hrandfield h $count withvalues]
            set n [expr {abs($count) < 10 || $count < 0 ? abs($count) : 10}]
            assert_equal [expr {$n * 2}] [llength $got]
            foreach {f v} $got {assert_equal [string map {f v} $f] $v}
        }
        r hello 3
        foreach count {3 -20 10 100 1 -1} {
            set got [r hrandfield h $count withvalues]
            set n [expr {abs($count) < 10 || $count < 0 ? abs($count) : 10}]
            assert_equal $n [llength $got]
            foreach pair $got {
                assert_equal 2 [llength $pair]
                assert_equal [string map {f v} [lindex $pair 0]] [lindex $pair 1]
            }
        }
        r readraw 1
        assert_equal *1 [r hrandfield h 1 withvalues]
        assert_equal {*2 {$2} f* {$2} v*} [list [r read] [r read] [string index [r read] 0]* [r read] [string index [r read] 0]*]
        assert_equal *0 [r hrandfield nokey 3 withvalues]
        r readraw 0
        r hello 2
    }

    test "HRANDFIELD count and syntax errors - $enc" {
        r del h
        r hset h a 1
        assert_error "ERR value is not an integer or out of range" {r hrandfield h x}
        assert_error "ERR value is out of range, value must between *" {r hrandfield h -9223372036854775808}
        assert_error "ERR value is out of range" {r hrandfield h -9223372036854775807 withvalues}
        assert_error "ERR value is out of range" {r hrandfield h 4611686018427387904 withvalues}
        assert_error "ERR syntax error" {r hrandfield h 1 withvalue}
        assert_error "ERR syntax error" {r hrandfield h 1 withvalues x}
        assert_error "ERR syntax error" {r hrandfield nokey 1 withvalues x}
    }

    test "HRANDFIELD picks every field with a reasonable frequency - $enc" {
        r del h
        for {set i 0} {$i < 20} {incr i} {r hset h f$i v$i}
        set counts [dict create]
        foreach f [r hrandfield h -4000] {dict incr counts $f}
        assert_equal 20 [dict size $counts]
        dict for {f n} $counts {assert_range $n 100 320 "$f picked $n times of 4000"}
        # Distinct picks of half the hash: each field ends up in about half the replies.
        set counts [dict create]
        for {set i 0} {$i < 400} {incr i} {
            foreach f [r hrandfield h 10] {dict incr counts $f}
        }
        assert_equal 20 [dict size $counts]
        dict for {f n} $counts {assert_range $n 120 280 "$f picked $n times in 400 draws of 10"}
        # Distinct picks of a tenth of a bigger hash (drawn one by one, repeats dropped).
        r del h
        for {set i 0} {$i < 100} {incr i} {r hset h f$i v$i}
        set counts [dict create]
        for {set i 0} {$i < 1000} {incr i} {
            set got [r hrandfield h 10]
            assert_equal 10 [llength [lsort -unique $got]]
            foreach f $got {dict incr counts $f}
        }
        assert_equal 100 [dict size $counts]
        dict for {f n} $counts {assert_range $n 50 160 "$f picked $n times in 1000 draws of 10"}
    }

    test "HSCAN returns every field with its value - $enc" {
        r del h
        set expected {}
        for {set i 0} {$i < 300} {incr i} {
            r hset h key:$i $i
            dict set expected key:$i $i
        }
        set seen {}
        set cursor 0
        set calls 0
        while 1 {
            lassign [r hscan h $cursor count 20] cursor items
            foreach {f v} $items {dict set seen $f $v}
            incr calls
            if {$cursor == 0} break
        }
        assert_equal [lsort -stride 2 $expected] [lsort -stride 2 $seen]
        if {$enc eq "hashtable"} {
            assert_morethan $calls 2
        } else {
            assert_equal 1 $calls
        }
    }

    test "HSCAN MATCH and NOVALUES - $enc" {
        r del h
        for {set i 0} {$i < 100} {incr i} {r hset h f$i v$i}
        r hset h other x 12 int 13 int2
        set fields {}
        set cursor 0
        while 1 {
            lassign [r hscan h $cursor match f1* novalues count 10] cursor items
            lappend fields {*}$items
            if {$cursor == 0} break
        }
        assert_equal [lsort {f1 f10 f11 f12 f13 f14 f15 f16 f17 f18 f19}] [lsort -unique $fields]
        set pairs {}
        set cursor 0
        while 1 {
            lassign [r hscan h $cursor match 1* count 10] cursor items
            lappend pairs {*}$items
            if {$cursor == 0} break
        }
        assert_equal {12 int 13 int2} [lsort -stride 2 $pairs]
        lassign [r hscan h 0 match nomatch* count 1000] cursor items
        if {$cursor == 0} {assert_equal {} $items}
    }

    test "HSCAN never misses a field present for the whole scan - $enc" {
        r del h
        for {set i 0} {$i < 200} {incr i} {r hset h old$i v}
        set seen [dict create]
        set cursor 0
        set round 0
        while 1 {
            lassign [r hscan h $cursor count 10] cursor items
            foreach {f v} $items {dict set seen $f 1}
            # Grow the hash while scanning: the table resizes under the cursor.
            for {set j 0} {$j < 30} {incr j} {r hset h new$round.$j v}
            incr round
            if {$cursor == 0} break
        }
        for {set i 0} {$i < 200} {incr i} {
            assert_equal 1 [dict exists $seen old$i] "old$i missed"
        }
    }

    test "HSCAN errors and edge cases - $enc" {
        r del h
        r hset h a 1
        assert_equal {0 {}} [r hscan nokey 0]
        assert_equal {0 {}} [r hscan nokey 0 count 0]
        assert_error "ERR invalid cursor" {r hscan h x}
        assert_error "ERR invalid cursor" {r hscan h -1}
        assert_error "ERR syntax error" {r hscan h 0 count 0}
        assert_error "ERR syntax error" {r hscan h 0 count -1}
        assert_error "ERR value is not an integer or out of range" {r hscan h 0 count x}
        assert_error "ERR syntax error" {r hscan h 0 match}
        assert_error "ERR syntax error" {r hscan h 0 type hash}
        assert_error "ERR syntax error" {r hscan h 0 foo}
        assert_equal {0 {a 1}} [r hscan h 0 count 1000000000000000000]
        assert_equal {0 a} [r hscan h 0 novalues]
        r hello 3
        assert_equal {0 {a 1}} [r hscan h 0]
        r hello 2
    }

    test "Binary fields and values - $enc" {
        r del h
        set f "a\x00b\r\nc"
        set v "\x00\xff\r\n\x01"
        r hset h $f $v "\x00" "\x00"
        assert_equal $v [r hget h $f]
        assert_equal "\x00" [r hget h "\x00"]
        assert_equal {} [r hget h "a"]
        assert_equal 5 [r hstrlen h $f]
        assert_equal [lsort [list $f "\x00"]] [lsort [r hkeys h]]
        assert_equal 1 [r hdel h $f]
        assert_equal 1 [r hlen h]
    }

    test "Every hash command on a non-hash key is WRONGTYPE - $enc" {
        r del s
        r set s x
        foreach cmd {
            {hset s a 1} {hmset s a 1} {hsetnx s a 1} {hget s a} {hmget s a} {hdel s a}
            {hlen s} {hstrlen s a} {hexists s a} {hkeys s} {hvals s} {hgetall s}
            {hincrby s a 1} {hincrbyfloat s a 1} {hrandfield s} {hrandfield s 2}
            {hrandfield s -2 withvalues} {hscan s 0}
        } {
            assert_error "WRONGTYPE*" {r {*}$cmd} "$cmd"
        }
        assert_equal x [r get s]
        r hset h a 1
        assert_error "WRONGTYPE*" {r get h}
        assert_error "WRONGTYPE*" {r append h x}
    }

    test "COPY duplicates a hash independently - $enc" {
        r del h h2
        for {set i 0} {$i < 20} {incr i} {r hset h f$i v$i}
        assert_equal 1 [r copy h h2]
        assert_encoding $enc h2
        assert_equal [lsort [r hgetall h]] [lsort [r hgetall h2]]
        assert_equal [r debug digest-value h] [r debug digest-value h2]
        r hset h2 f0 changed
        r hdel h2 f1
        assert_equal v0 [r hget h f0]
        assert_equal v1 [r hget h f1]
        assert_equal 20 [r hlen h]
        assert_not_equal [r debug digest-value h] [r debug digest-value h2]
    }

    test "Values updated in place keep the rest of the hash intact - $enc" {
        r del h
        r hset h f short other keep
        r hset h f [string repeat x 60]
        r hset h f y
        r hset h f [string repeat z 200]
        r hset h f {}
        assert_equal {} [r hget h f]
        r hset h f 0
        for {set i 0} {$i < 200} {incr i} {r hincrby h f 7}
        assert_equal 1400 [r hget h f]
        assert_equal keep [r hget h other]
    }
}

start_server {tags {"hash"}} {
    hash_suite listpack
}

start_server {tags {"hash"} overrides {hash-max-listpack-entries 0}} {
    hash_suite hashtable
}

start_server {tags {"hash"}} {
    test {Default limits: 512 entries and 64 bytes, with their ziplist aliases} {
        assert_equal {hash-max-listpack-entries 512} [r config get hash-max-listpack-entries]
        assert_equal {hash-max-listpack-value 64} [r config get hash-max-listpack-value]
        assert_equal {hash-max-ziplist-entries 512} [r config get hash-max-ziplist-entries]
        r config set hash-max-ziplist-value 100
        assert_equal {hash-max-listpack-value 100} [r config get hash-max-listpack-value]
        r config set hash-max-listpack-value 1kb
        assert_equal {hash-max-listpack-value 1024} [r config get hash-max-listpack-value]
        r config set hash-max-listpack-value 64
        assert_error "*" {r config set hash-max-listpack-entries -1}
    }

    test {A hash converts when it gets more than 512 fields} {
        r del h
        for {set i 0} {$i < 512} {incr i} {r hset h f$i v}
        assert_encoding listpack h
        r hset h f0 updated
        assert_encoding listpack h
        r hset h f512 v
        assert_encoding hashtable h
        assert_equal 513 [r hlen h]
    }

    test {Conversion at 128/129 entries with hash-max-listpack-entries 128} {
        r config set hash-max-listpack-entries 128
        r del h
        set args {}
        for {set i 0} {$i < 128} {incr i} {lappend args f$i v}
        r hset h {*}$args
        assert_encoding listpack h
        assert_equal 0 [r hsetnx h f0 x]
        assert_encoding listpack h
        assert_equal 1 [r hsetnx h f128 v]
        assert_encoding hashtable h
        r del h
        r hmset h {*}$args
        r hincrby h counter 1
        assert_encoding hashtable h
        r del h
        r hset h {*}$args
        r hincrbyfloat h counter 1.5
        assert_encoding hashtable h
        r config set hash-max-listpack-entries 512
    }

    test {More pairs than the limit in one HSET convert even when they repeat} {
        r config set hash-max-listpack-entries 4
        r del h
        r hset h a 1 a 2 a 3 a 4 a 5
        assert_encoding hashtable h
        assert_equal 1 [r hlen h]
        r del h
        r hset h a 1 b 2 c 3 d 4
        assert_encoding listpack h
        r config set hash-max-listpack-entries 512
    }

    test {Conversion on a field or value longer than 64 bytes} {
        foreach cmd {hset hsetnx} {
            r del h
            r $cmd h [string repeat f 64] [string repeat v 64]
            assert_encoding listpack h
            r del h
            r $cmd h [string repeat f 65] v
            assert_encoding hashtable h
            r del h
            r $cmd h f [string repeat v 65]
            assert_encoding hashtable h
            assert_equal [string repeat v 65] [r hget h f]
        }
        r del h
        r hset h a 1
        r hincrby h [string repeat n 65] 1
        assert_encoding hashtable h
        r del h
        r hset h a 1
        r hincrbyfloat h [string repeat n 65] 1.5
        assert_encoding hashtable h
        assert_equal 1.5 [r hget h [string repeat n 65]]
        # An HINCRBYFLOAT result longer than 64 bytes converts too.
        r del h
        r hset h a 1
        r hincrbyfloat h a 1e70
        assert_encoding hashtable h
        assert_equal 1 [r hexists h a]
    }

    test {A hashtable hash never converts back} {
        r del h
        r hset h a [string repeat v 100]
        assert_encoding hashtable h
        r hset h a small
        r hdel h a
        assert_equal 0 [r exists h]
        r hset h a [string repeat v 100] b 1
        r hdel h a
        assert_encoding hashtable h
        assert_equal {b 1} [r hgetall h]
    }

    test {DEBUG DIGEST-VALUE is the same for both encodings of equal content} {
        r del lp ht
        r hset lp a 1 b hello c 3.5
        r hset ht [string repeat x 70] y c 3.5 b hello
        r hdel ht [string repeat x 70]
        r hset ht a 1
        assert_encoding listpack lp
        assert_encoding hashtable ht
        assert_equal [r debug digest-value lp] [r debug digest-value ht]
        set before [r debug digest]
        r hset ht a 2
        assert_not_equal [r debug digest-value lp] [r debug digest-value ht]
        assert_not_equal $before [r debug digest]
    }

    test {Big values} {
        r del h
        set big [string repeat "0123456789" 100000]
        r hset h big $big small 1
        assert_encoding hashtable h
        assert_equal $big [r hget h big]
        assert_equal 1000000 [r hstrlen h big]
        r hset h big x
        assert_equal x [r hget h big]
        r hset h big $big
        assert_equal $big [r hget h big]
        set mem [r memory usage h]
        assert_morethan $mem 1000000
    }

    test {MEMORY USAGE grows with the hash in both encodings} {
        r del h
        r hset h a 1
        set small [r memory usage h]
        for {set i 0} {$i < 100} {incr i} {r hset h field$i value$i}
        assert_encoding listpack h
        set lp [r memory usage h]
        assert_morethan $lp $small
        for {set i 100} {$i < 2000} {incr i} {r hset h field$i value$i}
        assert_encoding hashtable h
        set ht [r memory usage h]
        assert_morethan $ht [expr {$lp * 10}]
        assert_lessthan $ht 200000
        set exact [r memory usage h samples 0]
        assert_range $exact [expr {$ht * 0.8}] [expr {$ht * 1.2}]
    }

    test {HINCRBYFLOAT long double formatting} {
        r del h
        assert_equal {0.1 0.2 0.3} [list [r hincrbyfloat h f 0.1] [r hincrbyfloat h f 0.1] [r hincrbyfloat h f 0.1]]
        r hset h a 1
        assert_equal 10000000000000000000222479489586148259025995410601157579323600873193472 [r hincrbyfloat h a 1e70]
    }

    test {HINCRBYFLOAT large results print in full} {
        r del h
        r hset h f 1.7e308
        assert_equal 1 [regexp {^34000000000000000000[0-9]+$} [r hincrbyfloat h f 1.7e308]]
        r hset h g 5.0e3
        assert_equal 5000.5 [r hincrbyfloat h g 0.5]
    }

    test {UNLINK of a big hash frees its memory} {
        r del h
        set args {}
        for {set i 0} {$i < 5000} {incr i} {lappend args field:$i [string repeat v 20]}
        r hset h {*}$args
        set before [s used_memory]
        assert_equal 1 [r unlink h]
        wait_for_condition 100 10 {[s used_memory] < $before - 100000} else {
            fail "memory not released after UNLINK"
        }
    }

    test {Writes count as changes since the last save} {
        r del h
        set before [s rdb_changes_since_last_save]
        r hset h a 1 b 2 c 3
        r hdel h a b
        r hincrby h n 1
        r hsetnx h a 1
        r hsetnx h a 1
        assert_equal [expr {$before + 3 + 2 + 1 + 1}] [s rdb_changes_since_last_save]
    }

    test {Keyspace events of hash commands} {
        r del h
        r config set notify-keyspace-events KEA
        set rd [valkey_deferring_client]
        $rd psubscribe __keyevent@*
        if {[catch {$rd read} err]} {
            $rd close
            r config set notify-keyspace-events ""
            skip "no pub/sub: $err"
        }
        r hset h a 1 b 2
        r hsetnx h c 3
        r hincrby h n 1
        r hincrbyfloat h f 1.5
        r hdel h x
        r hdel h a
        r hdel h b c n f
        set events {}
        for {set i 0} {$i < 7} {incr i} {
            lassign [$rd read] kind pattern channel key
            lappend events [lindex [split $channel :] end]
        }
        assert_equal {hset hset hincrby hincrbyfloat hdel hdel del} $events
        $rd close
        r config set notify-keyspace-events ""
    }
}
