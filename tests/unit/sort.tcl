# SORT and SORT_RO: numeric and ALPHA sorting of sets and sorted sets, BY patterns
# (string keys, hash fields, nosort), GET patterns (# and missing keys), LIMIT clamping,
# errors, and STORE (a list: tested once the list type exists).

proc has_lists {} {
    return [expr {![catch {r rpush __sort_probe__ x}] && [r del __sort_probe__] == 1}]
}

start_server {tags {"sort"}} {
    test "SORT numeric and ALPHA over every set encoding" {
        r del s
        r sadd s 10 2 -3 7
        assert_encoding intset s
        assert_equal {-3 2 7 10} [r sort s]
        assert_equal {10 7 2 -3} [r sort s desc]
        assert_equal {-3 10 2 7} [r sort s alpha]
        r sadd s 1.5
        assert_encoding listpack s
        assert_equal {-3 1.5 2 7 10} [r sort s]
        r sadd s [string repeat 9 70]
        assert_encoding hashtable s
        assert_equal [list -3 1.5 2 7 10 [string repeat 9 70]] [r sort s]
        assert_equal [list -3 1.5 2 7 10 [string repeat 9 70]] [r sort_ro s]
    }

    test "SORT numeric parsing: strtod rules and the conversion error" {
        r del s
        r sadd s " 1" 0x10 inf ""
        assert_equal [list "" " 1" 0x10 inf] [r sort s]
        r sadd s "1 "
        assert_error "ERR One or more scores can't be converted into double" {r sort s}
        r del s
        r sadd s nan
        assert_error "ERR One or more scores can't be converted into double" {r sort s}
        r del s
        r sadd s 1e400
        assert_error "ERR One or more scores can't be converted into double" {r sort s}
        assert_equal {1e400} [r sort s alpha]
    }

    test "SORT ties on the score are ordered by the element bytes" {
        r del s
        r sadd s b a c
        foreach m {a b c} { r set w_$m 1 }
        assert_equal {a b c} [r sort s by w_*]
        assert_equal {c b a} [r sort s by w_* desc]
    }

    test "SORT BY string keys and hash fields, GET # and patterns" {
        r del s
        r sadd s a b c d
        r mset w_a 3 w_b 1 w_c 2
        r hset h_a f x
        r hset h_b f y
        r hset h_c f z
        # A missing BY value weighs 0.
        assert_equal {d b c a} [r sort s by w_*]
        assert_equal {d a b c} [r sort s by h_*->f alpha]
        assert_equal {c b a d} [r sort s by h_*->f alpha desc]
        assert_equal {{} d 1 b 2 c 3 a} [r sort s by w_* get w_* get #]
        assert_equal {{} y z x} [r sort s by w_* get h_*->f]
        # Patterns that name no key give nil.
        assert_equal {{} {} {} {}} [r sort s by w_* get nostar]
        assert_equal {{} {} {} {}} [r sort s by w_* get w_*->]
        # A key of the wrong type gives nil too.
        r set h_d str
        r sadd w_d x
        assert_equal {d b c a} [r sort s by w_*]
        assert_equal {{} y z x} [r sort s by w_* get h_*->f]
        assert_equal {} [lindex [r sort s by w_* get w_*] 0]
        r del h_d w_d
    }

    test "SORT BY nosort keeps the order of sorted sets, and of sets unless stored" {
        r del z s
        r zadd z 3 a 1 b 2 c
        assert_encoding listpack z
        assert_equal {b c a} [r sort z by nosort]
        assert_equal {a c b} [r sort z by nosort desc]
        assert_equal {c a} [r sort z by nosort limit 1 2]
        assert_equal {c b} [r sort z by nosort desc limit 1 5]
        assert_equal {a b c} [r sort z alpha]
        # SORT leaves a sorted set in the skiplist encoding, as Valkey does.
        assert_encoding skiplist z
        r sadd s 3 1 2
        assert_equal {1 2 3} [r sort s by nosort]
    }

    test "SORT LIMIT clamping" {
        r del s
        r sadd s 5 4 3 2 1
        assert_equal {1 2} [r sort s limit 0 2]
        assert_equal {4 5} [r sort s limit 3 10]
        assert_equal {1 2 3 4 5} [r sort s limit 0 -1]
        assert_equal {1 2 3 4 5} [r sort s limit -10 -5]
        assert_equal {} [r sort s limit 5 1]
        assert_equal {} [r sort s limit 100 1]
        assert_equal {} [r sort s limit 0 0]
        assert_equal {3 4 5} [r sort s limit 2 9223372036854775807]
        assert_equal {{} {}} [r sort s limit 3 2 get nokey*]
    }

    test "SORT of a missing key, wrong types, and syntax errors" {
        r del nokey str
        r set str x
        assert_equal {} [r sort nokey]
        assert_equal {} [r sort nokey by w_* get #]
        assert_error "WRONGTYPE*" {r sort str}
        r hset hash f v
        assert_error "WRONGTYPE*" {r sort hash}
        r del s
        r sadd s 1
        assert_error "ERR syntax error" {r sort s limit 1}
        assert_error "ERR syntax error" {r sort s foo}
        assert_error "ERR syntax error" {r sort s by}
        assert_error "ERR syntax error" {r sort s get}
        assert_error "ERR syntax error" {r sort_ro s store dst}
        assert_error "ERR value is not an integer or out of range" {r sort s limit x 1}
        assert_error "ERR value is not an integer or out of range" {r sort s limit 0 x}
        assert_error "*wrong number of arguments*" {r sort}
    }

    test "SORT_RO refuses STORE but accepts everything else" {
        r del s
        r sadd s b a
        assert_equal {a b} [r sort_ro s alpha]
        assert_equal {b a} [r sort_ro s alpha desc limit 0 5 get #]
        assert_error "ERR syntax error" {r sort_ro s alpha store d}
    }

    test "SORT STORE writes a list, deletes the destination for an empty result" {
        if {![has_lists]} { skip "no list type yet" }
        r del s dst
        r sadd s 3 1 2
        assert_equal 3 [r sort s store dst]
        assert_equal list [r type dst]
        assert_equal {1 2 3} [r lrange dst 0 -1]
        r mset w_1 x w_2 y
        assert_equal 6 [r sort s get # get w_* store dst]
        assert_equal {1 x 2 y 3 {}} [r lrange dst 0 -1]
        # BY nosort on a set is sorted ALPHA when stored.
        r del s
        r sadd s c a b
        r sort s by nosort store dst
        assert_equal {a b c} [r lrange dst 0 -1]
        assert_equal 0 [r sort nokey store dst]
        assert_equal 0 [r exists dst]
        r set dst string
        assert_equal 3 [r sort s alpha store dst]
        assert_equal list [r type dst]
    }

    test "SORT of a list keeps or sorts its order" {
        if {![has_lists]} { skip "no list type yet" }
        r del l
        r rpush l 3 1 2 1
        assert_equal {1 1 2 3} [r sort l]
        assert_equal {3 1 2 1} [r sort l by nosort]
        assert_equal {1 2 1 3} [r sort l by nosort desc]
        assert_equal {1 2} [r sort l by nosort limit 1 2]
        assert_equal {2 1} [r sort l by nosort desc limit 1 2]
    }
}
