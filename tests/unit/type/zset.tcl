# Sorted sets: every command with its options and errors, run once on listpack-encoded sets
# (the default limits) and once on skiplist-encoded ones (zset-max-listpack-entries 0
# makes every set a skiplist from its first member); then the conversion thresholds, the
# RESP2/RESP3 reply shapes, blocking pops, keyspace events, score formatting, and the
# object-level hooks (COPY, MEMORY USAGE, DEBUG DIGEST, OBJECT ENCODING).

# Reads n raw protocol lines from a readraw client.
proc zset_raw_lines {client n} {
    set lines {}
    for {set i 0} {$i < $n} {incr i} {
        lappend lines [$client read]
    }
    return [join $lines " "]
}

proc zset_wait_blocked {n} {
    wait_for_condition 200 5 {[s blocked_clients] == $n} else {
        fail "expected $n blocked clients, got [s blocked_clients]"
    }
}

# A set a..e scored 1..5.
proc zset_fill {key} {
    r del $key
    r zadd $key 1 a 2 b 3 c 4 d 5 e
}

proc zset_suite {enc} {
    test "ZADD adds, counts new members, creates the key - $enc" {
        r del z
        assert_equal 3 [r zadd z 1 a 2 b 3 c]
        assert_encoding $enc z
        assert_equal 1 [r zadd z 10 a 4 d]
        assert_equal {b 2 c 3 d 4 a 10} [r zrange z 0 -1 withscores]
        assert_equal 4 [r zcard z]
    }

    test "ZADD NX / XX / CH / GT / LT - $enc" {
        zset_fill z
        assert_equal 1 [r zadd z nx 10 a 6 f]
        assert_equal 1 [r zscore z a]
        assert_equal 0 [r zadd z xx 10 a 7 g]
        assert_equal 10 [r zscore z a]
        assert_equal {} [r zscore z g]
        assert_equal 2 [r zadd z xx ch 11 a 12 b 7 g]
        assert_equal 1 [r zadd z gt ch 1 a 13 b]
        assert_equal {11 13} [r zmscore z a b]
        assert_equal 1 [r zadd z lt ch 20 a 1 b]
        assert_equal {11 1} [r zmscore z a b]
        # GT/LT still add new members.
        assert_equal 1 [r zadd z gt 100 new]
        # CH counts additions too; an unchanged score is not a change.
        assert_equal 1 [r zadd z ch 11 a 1 newer]
        assert_equal 0 [r zadd z ch 11 a]
    }

    test "ZADD INCR and ZINCRBY - $enc" {
        zset_fill z
        assert_equal 3.5 [r zadd z incr 2.5 a]
        assert_equal 2.5 [r zadd z incr 2.5 new]
        assert_equal {} [r zadd z xx incr 1 nosuch]
        assert_equal {} [r zadd z nx incr 1 a]
        assert_equal {} [r zadd z gt incr -1 a]
        assert_equal 4.5 [r zadd z gt incr 1 a]
        assert_equal 7 [r zincrby z 5 b]
        assert_equal -1 [r zincrby z -1 fresh]
        assert_equal 3 [r zincrby z 0 c]
        assert_equal 3 [r zscore z c]
        r del nokey
        assert_equal {} [r zadd nokey xx incr 1 a]
        assert_equal 0 [r exists nokey]
    }

    test "ZADD / ZINCRBY errors - $enc" {
        zset_fill z
        assert_error "ERR syntax error" {r zadd z nx 1}
        assert_error "ERR syntax error" {r zadd z 1 a 2}
        assert_error "ERR syntax error" {r zadd z nx 1 a 2}
        assert_error "ERR XX and NX options at the same time are not compatible" {r zadd z nx xx 1 a}
        assert_error "ERR GT, LT, and/or NX options at the same time are not compatible" {r zadd z gt nx 1 a}
        assert_error "ERR GT, LT, and/or NX options at the same time are not compatible" {r zadd z lt nx 1 a}
        assert_error "ERR GT, LT, and/or NX options at the same time are not compatible" {r zadd z gt lt 1 a}
        assert_error "ERR INCR option supports a single increment-element pair" {r zadd z incr 1 a 2 b}
        assert_error "ERR value is not a valid float" {r zadd z x a}
        assert_error "ERR value is not a valid float" {r zadd z 1 a nan b}
        assert_error "ERR value is not a valid float" {r zincrby z abc a}
        # ZINCRBY parses ZADD's options too: "nx" as the increment leaves a lone member.
        assert_error "ERR syntax error" {r zincrby z nx a}
        assert_error "ERR wrong number of arguments for 'zadd' command" {r zadd z}
        # A failed command changed nothing.
        assert_equal {a 1 b 2 c 3 d 4 e 5} [r zrange z 0 -1 withscores]
    }

    test "ZADD INCR to NaN is refused - $enc" {
        r del z
        r zadd z inf a
        assert_error "ERR resulting score is not a number (NaN)" {r zincrby z -inf a}
        assert_error "ERR resulting score is not a number (NaN)" {r zadd z incr -inf a}
        assert_equal inf [r zscore z a]
        assert_equal inf [r zincrby z inf a]
    }

    test "ZREM removes members and the emptied key - $enc" {
        zset_fill z
        assert_equal 2 [r zrem z a b nosuch]
        assert_equal 0 [r zrem z a]
        assert_equal 3 [r zcard z]
        assert_equal 3 [r zrem z c d e x]
        assert_equal 0 [r exists z]
        assert_equal 0 [r zrem z a]
        assert_equal 0 [r zcard z]
    }

    test "ZSCORE and ZMSCORE - $enc" {
        zset_fill z
        assert_equal 3 [r zscore z c]
        assert_equal {} [r zscore z nosuch]
        assert_equal {} [r zscore nokey a]
        assert_equal {1 {} 5} [r zmscore z a nosuch e]
        assert_equal {{} {}} [r zmscore nokey a b]
    }

    test "ZRANK and ZREVRANK, with WITHSCORE - $enc" {
        zset_fill z
        assert_equal 0 [r zrank z a]
        assert_equal 4 [r zrank z e]
        assert_equal 4 [r zrevrank z a]
        assert_equal 0 [r zrevrank z e]
        assert_equal {} [r zrank z nosuch]
        assert_equal {2 3} [r zrank z c withscore]
        assert_equal {1 4} [r zrevrank z d WITHSCORE]
        assert_equal {} [r zrank z nosuch withscore]
        assert_equal {} [r zrank nokey a withscore]
        assert_error "ERR syntax error" {r zrank z a withscores}
        assert_error "ERR wrong number of arguments for 'zrank' command" {r zrank z a withscore x}
    }

    test "ZCOUNT with inclusive, exclusive and infinite bounds - $enc" {
        zset_fill z
        assert_equal 4 [r zcount z 2 5]
        assert_equal 2 [r zcount z (2 (5]
        assert_equal 5 [r zcount z -inf +inf]
        assert_equal 0 [r zcount z 5 2]
        assert_equal 0 [r zcount z (3 (3]
        assert_equal 1 [r zcount z 3 3]
        assert_equal 0 [r zcount nokey -inf inf]
        assert_error "ERR min or max is not a float" {r zcount z x 1}
        assert_error "ERR min or max is not a float" {r zcount z 1 (x}
        assert_error "ERR min or max is not a float" {r zcount z nan 1}
    }

    test "ZLEXCOUNT and lex ranges - $enc" {
        r del l
        r zadd l 0 a 0 b 0 c 0 d 0 e 0 f 0 g
        assert_equal 7 [r zlexcount l - +]
        assert_equal 4 [r zlexcount l {[b} (f]
        assert_equal 4 [r zlexcount l (b {[f}]
        assert_equal 0 [r zlexcount l + -]
        assert_equal 0 [r zlexcount l - -]
        assert_equal 1 [r zlexcount l {[a} {[a}]
        assert_equal 0 [r zlexcount l (a (a]
        assert_error "ERR min or max not valid string range item" {r zlexcount l a b}
        assert_error "ERR min or max not valid string range item" {r zlexcount l {[a} +x}
        assert_equal {b c d e} [r zrangebylex l {[b} (f]
        assert_equal {e d c b} [r zrevrangebylex l (f {[b}]
        assert_equal {a b c d e f g} [r zrangebylex l - +]
        assert_equal {c d} [r zrangebylex l - + limit 2 2]
        assert_equal {e d} [r zrevrangebylex l + - limit 2 2]
        assert_equal {} [r zrangebylex l - + limit -1 2]
    }

    test "ZRANGE by rank, REV, WITHSCORES - $enc" {
        zset_fill z
        assert_equal {a b c d e} [r zrange z 0 -1]
        assert_equal {b 2 c 3} [r zrange z 1 2 withscores]
        assert_equal {d e} [r zrange z -2 -1]
        assert_equal {a b c d e} [r zrange z -100 100]
        assert_equal {} [r zrange z 5 1]
        assert_equal {} [r zrange z 5 10]
        assert_equal {e d} [r zrange z 0 1 rev]
        assert_equal {e 5 d 4} [r zrevrange z 0 1 withscores]
        assert_equal {} [r zrange nokey 0 -1]
    }

    test "ZRANGE BYSCORE with LIMIT (negative count, offsets) - $enc" {
        zset_fill z
        assert_equal {b c d e} [r zrange z (1 5 byscore]
        assert_equal {e 5 d 4 c 3 b 2} [r zrange z 5 (1 byscore rev withscores]
        assert_equal {b c} [r zrange z -inf +inf byscore limit 1 2]
        assert_equal {b c d e} [r zrange z -inf +inf byscore limit 1 -1]
        assert_equal {} [r zrange z -inf +inf byscore limit -1 2]
        assert_equal {} [r zrange z -inf +inf byscore limit 5 1]
        assert_equal {c 3 b 2 a 1} [r zrange z +inf -inf byscore rev limit 2 -1 withscores]
        assert_equal {a b} [r zrangebyscore z 1 2]
        assert_equal {a 1 b 2} [r zrangebyscore z -inf 2 withscores limit 0 10]
        assert_equal {d c} [r zrevrangebyscore z 4 (2]
        assert_equal {c} [r zrevrangebyscore z 4 (2 limit 1 1]
        assert_equal {} [r zrangebyscore z (5 +inf]
        assert_equal {} [r zrangebyscore z 3 2]
    }

    test "ZRANGE option errors - $enc" {
        zset_fill z
        assert_error "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX" {r zrange z 0 -1 limit 0 1}
        assert_error "ERR syntax error, WITHSCORES not supported in combination with BYLEX" {r zrange z - + bylex withscores}
        assert_error "ERR syntax error, WITHSCORES not supported in combination with BYLEX" {r zrangebylex z - + withscores}
        assert_error "ERR syntax error" {r zrange z 0 -1 limit 0}
        assert_error "ERR syntax error" {r zrange z 0 -1 byscore bylex}
        assert_error "ERR syntax error" {r zrange z 0 -1 rev rev}
        assert_error "ERR syntax error" {r zrevrange z 0 -1 rev}
        assert_error "ERR syntax error" {r zrangebyscore z 0 1 bylex}
        assert_error "ERR min or max is not a float" {r zrange z x 1 byscore}
        assert_error "ERR min or max not valid string range item" {r zrange z a c bylex}
        assert_error "ERR value is not an integer or out of range" {r zrange z a 1}
        assert_error "ERR value is not an integer or out of range" {r zrangebyscore z 0 1 limit x 1}
    }

    test "ZRANGESTORE - $enc" {
        zset_fill z
        assert_equal 5 [r zrangestore dst z 0 -1]
        assert_equal {a 1 b 2 c 3 d 4 e 5} [r zrange dst 0 -1 withscores]
        assert_equal 2 [r zrangestore dst z (1 3 byscore]
        assert_equal {b c} [r zrange dst 0 -1]
        assert_equal 1 [r zrangestore dst z +inf -inf byscore rev limit 0 1]
        assert_equal {e 5} [r zrange dst 0 -1 withscores]
        assert_equal 0 [r zrangestore dst z 10 20]
        assert_equal 0 [r exists dst]
        r set dst x
        assert_equal 0 [r zrangestore dst nokey 0 -1]
        assert_equal 0 [r exists dst]
        assert_error "ERR syntax error" {r zrangestore dst z 0 -1 withscores}
        r set str v
        assert_error "*WRONGTYPE*" {r zrangestore dst str 0 -1}
    }

    test "ZREMRANGEBYRANK / BYSCORE / BYLEX - $enc" {
        zset_fill z
        assert_equal 2 [r zremrangebyrank z 0 1]
        assert_equal {c d e} [r zrange z 0 -1]
        assert_equal 1 [r zremrangebyrank z -1 -1]
        assert_equal 0 [r zremrangebyrank z 5 10]
        zset_fill z
        assert_equal 3 [r zremrangebyscore z (1 4]
        assert_equal {a e} [r zrange z 0 -1]
        assert_equal 0 [r zremrangebyscore z 10 20]
        assert_equal 2 [r zremrangebyscore z -inf +inf]
        assert_equal 0 [r exists z]
        r del l
        r zadd l 0 a 0 b 0 c 0 d
        assert_equal 2 [r zremrangebylex l {[b} {[c}]
        assert_equal {a d} [r zrange l 0 -1]
        assert_equal 2 [r zremrangebylex l - +]
        assert_equal 0 [r exists l]
        assert_equal 0 [r zremrangebyrank nokey 0 -1]
        assert_error "ERR value is not an integer or out of range" {r zremrangebyrank z x 1}
        assert_error "ERR min or max is not a float" {r zremrangebyscore z x 1}
        assert_error "ERR min or max not valid string range item" {r zremrangebylex z x 1}
    }

    test "ZUNION / ZINTER / ZDIFF with WEIGHTS and AGGREGATE - $enc" {
        r del a b
        r zadd a 1 x 2 y 3 z
        r zadd b 10 y 20 z 30 w
        assert_equal {x 1 y 12 z 23 w 30} [r zunion 2 a b withscores]
        assert_equal {x 2 y 34 z 66 w 90} [r zunion 2 a b weights 2 3 withscores]
        assert_equal {x 1 y 2 z 3 w 30} [r zunion 2 a b aggregate min withscores]
        assert_equal {x 1 y 10 z 20 w 30} [r zunion 2 a b aggregate max withscores]
        assert_equal {y 12 z 23} [r zinter 2 a b withscores]
        assert_equal {y 2 z 3} [r zinter 2 a b weights 1 0 withscores]
        assert_equal {x 1} [r zdiff 2 a b withscores]
        assert_equal {x y z} [r zdiff 1 a]
        assert_equal {x y z w} [r zunion 3 a b nokey]
        assert_equal {} [r zinter 2 a nokey]
        assert_equal {} [r zdiff 2 nokey a]
    }

    test "ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE - $enc" {
        r del a b d
        r zadd a 1 x 2 y 3 z
        r zadd b 10 y 20 z 30 w
        assert_equal 4 [r zunionstore d 2 a b]
        assert_equal {x 1 y 12 z 23 w 30} [r zrange d 0 -1 withscores]
        assert_equal 2 [r zinterstore d 2 a b weights 2 2 aggregate max]
        assert_equal {y 20 z 40} [r zrange d 0 -1 withscores]
        assert_equal 1 [r zdiffstore d 2 a b]
        assert_equal {x 1} [r zrange d 0 -1 withscores]
        assert_equal 0 [r zdiffstore d 2 a a]
        assert_equal 0 [r exists d]
        # The destination may be an input.
        assert_equal 4 [r zunionstore a 2 a b]
        assert_equal {x 1 y 12 z 23 w 30} [r zrange a 0 -1 withscores]
    }

    test "Set operations take plain sets as inputs scoring 1 - $enc" {
        r del a s
        r zadd a 5 x 6 y
        r sadd s y q
        assert_equal {q 1 x 5 y 7} [r zunion 2 a s withscores]
        assert_equal {y 7} [r zinter 2 a s withscores]
        assert_equal {x 5} [r zdiff 2 a s withscores]
        assert_equal {q 1} [r zdiff 2 s a withscores]
        assert_equal {q 3 y 3} [r zunion 1 s weights 3 withscores]
        assert_equal 1 [r zintercard 2 a s]
        assert_equal 2 [r zinterstore d 2 s s]
        assert_equal {q 2 y 2} [r zrange d 0 -1 withscores]
    }

    test "Infinite scores: inf + -inf sums to 0, inf * 0 to 0 - $enc" {
        r del j k
        r zadd j -inf p 2 q
        r zadd k inf p 2 q
        assert_equal {p 0 q 4} [r zunion 2 j k withscores]
        assert_equal {p 0 q 4} [r zinter 2 j k withscores]
        assert_equal {p -inf q 2} [r zunion 2 j k aggregate min withscores]
        assert_equal {p 0 q 0} [r zunion 2 j k weights 0 1 aggregate min withscores]
    }

    test "Set operation errors - $enc" {
        r del a b
        r zadd a 1 x
        assert_error "ERR at least 1 input key is needed for 'zunion' command" {r zunion 0 a}
        assert_error "ERR at least 1 input key is needed for 'zinterstore' command" {r zinterstore d 0 a}
        assert_error "ERR at least 1 input key is needed for 'zintercard' command" {r zintercard 0 a}
        assert_error "ERR value is not an integer or out of range" {r zunion x a}
        assert_error "ERR syntax error" {r zunion 3 a b}
        assert_error "ERR syntax error" {r zunionstore d 2 a b weights 1}
        assert_error "ERR weight value is not a float" {r zunionstore d 2 a b weights 1 x}
        assert_error "ERR syntax error" {r zunionstore d 2 a b aggregate avg}
        assert_error "ERR syntax error" {r zunionstore d 2 a b withscores}
        assert_error "ERR syntax error" {r zdiff 2 a b weights 1 1}
        assert_error "ERR syntax error" {r zdiff 2 a b aggregate sum}
        assert_error "ERR syntax error" {r zintercard 2 a b withscores}
        assert_error "ERR LIMIT can't be negative" {r zintercard 1 a limit -1}
        r set str v
        assert_error "*WRONGTYPE*" {r zunion 2 a str}
        # Wrong types win over syntax errors: the keys are read first.
        assert_error "*WRONGTYPE*" {r zunion 2 str nokey bogus}
    }

    test "ZINTERCARD with LIMIT - $enc" {
        r del a b
        r zadd a 1 x 2 y 3 z
        r zadd b 1 y 2 z 3 w
        assert_equal 2 [r zintercard 2 a b]
        assert_equal 1 [r zintercard 2 a b limit 1]
        assert_equal 2 [r zintercard 2 a b limit 0]
        assert_equal 0 [r zintercard 2 a nokey]
    }

    test "ZPOPMIN / ZPOPMAX - $enc" {
        zset_fill z
        assert_equal {a 1} [r zpopmin z]
        assert_equal {e 5 d 4} [r zpopmax z 2]
        assert_equal {} [r zpopmin z 0]
        assert_equal {b 2 c 3} [r zpopmin z 10]
        assert_equal 0 [r exists z]
        assert_equal {} [r zpopmin z]
        assert_error "ERR value is out of range, must be positive" {r zpopmin z -1}
        assert_error "ERR value is out of range, must be positive" {r zpopmax z 1.5}
        assert_error "ERR syntax error" {r zpopmin z 1 2}
    }

    test "ZMPOP - $enc" {
        zset_fill z
        assert_equal {z {{a 1}}} [r zmpop 1 z min]
        assert_equal {z {{e 5} {d 4}}} [r zmpop 2 nokey z max count 2]
        assert_equal {z {{b 2} {c 3}}} [r zmpop 1 z min count 10]
        assert_equal 0 [r exists z]
        assert_equal {} [r zmpop 1 z min]
        assert_error "ERR numkeys should be greater than 0" {r zmpop 0 z min}
        assert_error "ERR syntax error" {r zmpop 2 z min}
        assert_error "ERR syntax error" {r zmpop 1 z avg}
        assert_error "ERR count should be greater than 0" {r zmpop 1 z min count 0}
        assert_error "ERR syntax error" {r zmpop 1 z min count 1 count 1}
    }

    test "ZRANDMEMBER - $enc" {
        zset_fill z
        assert_match {[a-e]} [r zrandmember z]
        assert_equal {} [r zrandmember nokey]
        assert_equal {} [r zrandmember nokey 3]
        assert_equal {} [r zrandmember z 0]
        # Asking for at least the whole set returns it, from the highest score down.
        assert_equal {e d c b a} [r zrandmember z 5]
        assert_equal {e 5 d 4 c 3 b 2 a 1} [r zrandmember z 10 withscores]
        set picks [r zrandmember z 3]
        assert_equal 3 [llength [lsort -unique $picks]]
        set picks [r zrandmember z -20 withscores]
        assert_equal 40 [llength $picks]
        foreach {m s} $picks {
            assert_equal [r zscore z $m] $s
        }
        assert_error "ERR syntax error" {r zrandmember z 1 foo}
        assert_error "ERR value is not an integer or out of range" {r zrandmember z x}
        assert_error "ERR value is out of range" {r zrandmember z 9223372036854775807 withscores}
        assert_error "ERR value is out of range" {r zrandmember z -9223372036854775807 withscores}
    }

    test "ZSCAN returns every member with its score - $enc" {
        r del z
        for {set i 0} {$i < 50} {incr i} {
            r zadd z $i m$i
        }
        if {[r object encoding z] ne "skiplist"} {
            assert_equal 0 [lindex [r zscan z 0] 0]
        }
        set cursor 0
        set seen {}
        while 1 {
            lassign [r zscan z $cursor count 7] cursor items
            foreach {m s} $items {
                dict set seen $m $s
            }
            if {$cursor == 0} break
        }
        assert_equal 50 [dict size $seen]
        assert_equal 17 [dict get $seen m17]
        lassign [r zscan z 0 match m1* count 1000] cursor items
        assert_equal 0 $cursor
        assert_equal 22 [llength $items]
        assert_equal {0 {}} [r zscan nokey 0]
        assert_error "ERR invalid cursor" {r zscan z x}
        assert_error "ERR syntax error" {r zscan z 0 count 0}
        assert_error "ERR syntax error" {r zscan z 0 foo}
        assert_error "ERR NOVALUES option can only be used in HSCAN" {r zscan z 0 novalues}
    }

    test "Binary and integer-looking members - $enc" {
        r del z
        set bin "a\x00b\r\n\xff"
        r zadd z 1 $bin 2 123 3 -5 4 {} 5 12345678901234567890
        assert_equal 1 [r zscore z $bin]
        assert_equal 4 [r zscore z {}]
        assert_equal [list $bin 123 -5 {} 12345678901234567890] [r zrange z 0 -1]
        assert_equal 1 [r zrem z 123]
        assert_equal {-5} [r zrangebyscore z 3 3]
        r del l
        r zadd l 0 10 0 9 0 100
        assert_equal {10 100 9} [r zrange l 0 -1]
        assert_equal {100 9} [r zrangebylex l (10 +]
    }

    test "Equal scores order by member bytes - $enc" {
        r del z
        r zadd z 1 b 1 a 1 ab 0 z 2 0
        assert_equal {z a ab b 0} [r zrange z 0 -1]
        assert_equal 2 [r zrank z ab]
    }

    test "WRONGTYPE on every command - $enc" {
        r del str
        r set str v
        foreach cmd {
            {zadd str 1 a} {zincrby str 1 a} {zrem str a} {zcard str} {zscore str a}
            {zmscore str a} {zrank str a} {zrevrank str a} {zcount str 0 1}
            {zlexcount str - +} {zrange str 0 1} {zrangebyscore str 0 1}
            {zrangebylex str - +} {zrevrange str 0 1} {zremrangebyrank str 0 1}
            {zremrangebyscore str 0 1} {zremrangebylex str - +} {zpopmin str}
            {zpopmax str} {zmpop 1 str min} {zrandmember str} {zrandmember str 2}
            {zscan str 0} {zinter 1 str} {zintercard 1 str} {bzpopmin str 0}
            {bzmpop 0 1 str min}
        } {
            assert_error "WRONGTYPE*" [list r {*}$cmd]
        }
    }
}

start_server {tags {"zset"}} {
    zset_suite listpack
}

start_server {tags {"zset"} overrides {zset-max-listpack-entries 0}} {
    zset_suite skiplist
}

start_server {tags {"zset"}} {
    test "Conversion to skiplist past zset-max-listpack-entries, one ZADD at a time" {
        r config set zset-max-listpack-entries 4
        r del z
        r zadd z 1 a 2 b 3 c 4 d
        assert_encoding listpack z
        r zadd z 5 e
        assert_encoding skiplist z
        # Removing members never converts back.
        r zremrangebyrank z 0 -2
        assert_encoding skiplist z
        r config set zset-max-listpack-entries 128
    }

    test "ZADD of more pairs than the limit creates a skiplist, even for one member" {
        r config set zset-max-listpack-entries 4
        r del z y
        r zadd z 1 a 1 a 1 a 1 a 1 a
        assert_encoding skiplist z
        assert_equal 1 [r zcard z]
        r zadd y 1 a
        r zadd y xx 1 a 2 a 3 a 4 a 5 a
        assert_encoding skiplist y
        r config set zset-max-listpack-entries 128
    }

    test "Conversion on a member longer than zset-max-listpack-value" {
        r del z y
        r zadd z 1 [string repeat x 64]
        assert_encoding listpack z
        r zadd z 2 [string repeat x 65]
        assert_encoding skiplist z
        r zadd y 1 [string repeat y 65]
        assert_encoding skiplist y
        r config set zset-max-ziplist-value 2
        assert_equal {zset-max-listpack-value 2} [r config get zset-max-listpack-value]
        r del v
        r zadd v 1 abc
        assert_encoding skiplist v
        r config set zset-max-listpack-value 64
    }

    test "Results of the STORE commands use the smallest encoding that fits" {
        r del big small
        for {set i 0} {$i < 200} {incr i} {
            lappend args $i m$i
        }
        r zadd big {*}$args
        assert_encoding skiplist big
        r zadd small 1 a 2 b
        r zunionstore u 1 small
        assert_encoding listpack u
        r zinterstore i 2 big big
        assert_encoding skiplist i
        r zrangestore r big 0 9
        assert_encoding listpack r
        r zrangestore r big 0 -1
        assert_encoding skiplist r
        r zrangestore r big -inf +inf byscore limit 0 5
        assert_encoding listpack r
        r zdiffstore d 1 big
        assert_encoding skiplist d
        r zremrangebyrank big 3 -1
        r zunionstore u 1 big
        assert_encoding listpack u
        r zadd long 1 [string repeat z 100]
        r zunionstore u 2 small long
        assert_encoding skiplist u
    }

    test "Listpack and skiplist agree on every read" {
        r del lp sl
        for {set i 0} {$i < 100} {incr i} {
            r zadd lp [expr {[randomInt 20] - 10}] [randstring 0 8 alpha]
        }
        r config set zset-max-listpack-entries 0
        r zunionstore sl 1 lp
        r config set zset-max-listpack-entries 128
        assert_encoding listpack lp
        assert_encoding skiplist sl
        set some [lindex [r zrange lp 0 -1] 37]
        foreach cmd {
            {zrange $k 0 -1 withscores} {zrange $k 3 17 rev withscores}
            {zrangebyscore $k (-3 5 withscores limit 2 7} {zrevrangebyscore $k 5 -3 limit 1 100}
            {zcount $k -2 (4}
            {zrank $k $some} {zrevrank $k $some withscore} {zscan $k 0 count 1000}
            {zrange $k -inf 1 byscore rev limit 1 3} {zrandmember $k 1000 withscores}
        } {
            set k lp
            set a [eval r $cmd]
            set k sl
            set b [eval r $cmd]
            if {[string match zscan* $cmd]} {
                set a [lsort -stride 2 [lindex $a 1]]
                set b [lsort -stride 2 [lindex $b 1]]
            }
            assert_equal $a $b "$cmd"
        }
        assert_equal [r debug digest-value lp] [r debug digest-value sl]
        # Lex ranges are only meaningful when all scores are equal.
        r del lp sl
        for {set i 0} {$i < 100} {incr i} {
            r zadd lp 0 [randstring 0 8 alpha]
        }
        r config set zset-max-listpack-entries 0
        r zunionstore sl 1 lp
        r config set zset-max-listpack-entries 128
        foreach cmd {
            {zrangebylex $k - +} {zlexcount $k {[b} (m} {zrangebylex $k (c + limit 3 10}
            {zrevrangebylex $k {[q} (c limit 2 5} {zlexcount $k - (a}
        } {
            set k lp
            set a [eval r $cmd]
            set k sl
            set b [eval r $cmd]
            assert_equal $a $b "$cmd"
        }
    }

    test "Score formatting: shortest round-trip, inf, -0, big and tiny numbers" {
        r del f
        r zadd f 0.1 a 1e300 b -0 c 1.5e-7 d 123456789012345678 e 3.0 g -inf h +inf i
        assert_equal 0.1 [r zscore f a]
        assert_equal 1e+300 [r zscore f b]
        # A listpack stores an integral score as an integer: the sign of zero is lost.
        assert_equal 0 [r zscore f c]
        assert_equal 1.5e-7 [r zscore f d]
        assert_equal 123456789012345680 [r zscore f e]
        assert_equal 3 [r zscore f g]
        assert_equal -inf [r zscore f h]
        assert_equal inf [r zscore f i]
        assert_equal 0.30000000000000004 [r zincrby f 0.2 a]
        r config set zset-max-listpack-entries 0
        r del f
        r zadd f -0 c
        assert_equal -0 [r zscore f c]
        r config set zset-max-listpack-entries 128
    }

    test "RESP3: scores are doubles, WITHSCORES pairs are nested arrays" {
        r del z
        r zadd z 1 a 2.5 b
        set rd [valkey_deferring_client]
        $rd hello 3
        $rd read
        $rd readraw 1
        $rd zscore z b
        assert_equal {,2.5} [zset_raw_lines $rd 1]
        $rd zrange z 0 -1 withscores
        assert_equal {*2 *2 $1 a ,1 *2 $1 b ,2.5} [zset_raw_lines $rd 9]
        $rd zrange z 0 -1
        assert_equal {*2 $1 a $1 b} [zset_raw_lines $rd 5]
        $rd zrangebyscore z -inf +inf withscores limit 0 1
        assert_equal {*1 *2 $1 a ,1} [zset_raw_lines $rd 5]
        $rd zunion 1 z withscores
        assert_equal {*2 *2 $1 a ,1 *2 $1 b ,2.5} [zset_raw_lines $rd 9]
        $rd zrank z b withscore
        assert_equal {*2 :1 ,2.5} [zset_raw_lines $rd 3]
        $rd zrank z nosuch withscore
        assert_equal {_} [zset_raw_lines $rd 1]
        $rd zmscore z a nosuch
        assert_equal {*2 ,1 _} [zset_raw_lines $rd 3]
        $rd zincrby z 1 a
        assert_equal {,2} [zset_raw_lines $rd 1]
        $rd zrandmember z 2 withscores
        assert_equal {*2 *2 $1 b ,2.5 *2 $1 a ,2} [zset_raw_lines $rd 9]
        $rd zrandmember z -1 withscores
        assert_equal {*1 *2} [zset_raw_lines $rd 2]
        zset_raw_lines $rd 3
        $rd zpopmin z
        assert_equal {*2 $1 a ,2} [zset_raw_lines $rd 4]
        $rd zpopmin z 1
        assert_equal {*1 *2 $1 b ,2.5} [zset_raw_lines $rd 5]
        $rd zmpop 1 z min
        assert_equal {_} [zset_raw_lines $rd 1]
        r zadd z 1 a
        $rd zmpop 1 z min
        assert_equal {*2 $1 z *1 *2 $1 a ,1} [zset_raw_lines $rd 8]
        $rd close
    }

    test "RESP2: WITHSCORES replies are flat" {
        r del z
        r zadd z 1 a 2 b
        set rd [valkey_deferring_client]
        $rd readraw 1
        $rd zrange z 0 -1 withscores
        assert_equal {*4 $1 a $1 1 $1 b $1 2} [zset_raw_lines $rd 9]
        $rd zrandmember z 1 withscores
        assert_equal {*2} [zset_raw_lines $rd 1]
        zset_raw_lines $rd 4
        $rd zpopmin z 1
        assert_equal {*2 $1 a $1 1} [zset_raw_lines $rd 5]
        $rd zmpop 1 z min
        assert_equal {*2 $1 z *1 *2 $1 b $1 2} [zset_raw_lines $rd 9]
        $rd zmpop 1 z min
        assert_equal {*-1} [zset_raw_lines $rd 1]
        $rd zrank z a withscore
        assert_equal {*-1} [zset_raw_lines $rd 1]
        $rd close
    }

    test "Keyspace events of the sorted-set commands" {
        r del z d
        r config set notify-keyspace-events KEA
        set rd [valkey_deferring_client]
        $rd psubscribe __keyevent@9__:*
        $rd read
        r zadd z 1 a 2 b 3 c
        r zincrby z 1 a
        r zrem z a
        r zremrangebyrank z 0 0
        r zadd z 5 x 6 y
        r zremrangebyscore z 5 5
        r zadd z 0 l
        r zremrangebylex z - {[l}
        r zunionstore d 1 z
        r zinterstore d 1 z
        r zdiffstore d 1 z
        r zrangestore d z 0 -1
        r zpopmin z
        r zpopmax z
        r zadd z 1 a
        r zrem z a
        set events {}
        for {set i 0} {$i < 17} {incr i} {
            lappend events [lindex [split [lindex [$rd read] 2] :] 1]
        }
        assert_equal {zadd zincr zrem zremrangebyrank zadd zremrangebyscore zadd zremrangebylex zunionstore zinterstore zdiffstore zrangestore zpopmin del zadd zrem del} $events
        $rd close
        r config set notify-keyspace-events ""
    }

    test "COPY, MEMORY USAGE, OBJECT ENCODING, DEBUG DIGEST-VALUE across encodings" {
        r del z c
        r zadd z 1 a 2 b 3 c
        assert_equal 1 [r copy z c]
        assert_encoding listpack c
        r zadd c 4 d
        assert_equal 3 [r zcard z]
        assert_morethan [r memory usage z] 0
        r del z2
        r zadd z2 1 a 2 b 3 c
        assert_equal [r debug digest-value z] [r debug digest-value z2]
        r config set zset-max-listpack-entries 0
        r zunionstore z3 1 z
        assert_encoding skiplist z3
        assert_equal [r debug digest-value z] [r debug digest-value z3]
        r copy z3 z4
        assert_encoding skiplist z4
        assert_equal [r zrange z3 0 -1 withscores] [r zrange z4 0 -1 withscores]
        r zadd z4 1 zz
        assert_equal 3 [r zcard z3]
        assert_not_equal [r debug digest-value z3] [r debug digest-value z4]
        assert_morethan [r memory usage z3] [r memory usage z]
        r config set zset-max-listpack-entries 128
    }

    test "Big skiplist: ranks, scores and ranges stay consistent" {
        r del big
        set expected {}
        for {set i 0} {$i < 1000} {incr i} {
            lappend args [expr {$i * 2}] m$i
        }
        r zadd big {*}$args
        assert_equal 1000 [r zcard big]
        assert_equal 500 [r zrank big m500]
        assert_equal 499 [r zrevrank big m500]
        assert_equal 100 [r zcount big 100 (300]
        assert_equal {m10 m11 m12} [r zrange big (18 (26 byscore]
        assert_equal {m998 m997} [r zrange big +inf -inf byscore rev limit 1 2]
        assert_equal {m600 m601} [r zrange big 1000 +inf byscore limit 100 2]
        assert_equal 100 [r zremrangebyrank big 0 99]
        assert_equal 0 [r zrank big m100]
        assert_equal 300 [r zremrangebyscore big 200 (800]
        assert_equal 600 [r zcard big]
        assert_equal {m999 1998} [r zpopmax big]
        assert_equal 2000 [r zincrby big 2000 m99x]
        assert_equal m99x [lindex [r zrange big -1 -1] 0]
        assert_equal 5 [llength [lsort -unique [r zrandmember big 5]]]
        assert_equal 550 [llength [lsort -unique [r zrandmember big 550]]]
    }
}

start_server {tags {"zset" "blocking"}} {
    test "BZPOPMIN / BZPOPMAX serve immediately when a set has members" {
        r del z1 z2
        r zadd z2 1 a 2 b
        assert_equal {z2 a 1} [r bzpopmin z1 z2 0]
        assert_equal {z2 b 2} [r bzpopmax z1 z2 0]
        assert_equal 0 [r exists z2]
    }

    test "BZPOPMIN blocks until a ZADD, then pops" {
        r del z
        set rd [valkey_deferring_client]
        $rd bzpopmin z 0
        zset_wait_blocked 1
        r zadd z 2 b 1 a
        assert_equal {z a 1} [$rd read]
        assert_equal {b} [r zrange z 0 -1]
        $rd close
    }

    test "BZPOPMAX times out with a null array" {
        r del z
        set rd [valkey_deferring_client]
        $rd bzpopmax z 0.05
        assert_equal {} [$rd read]
        $rd close
    }

    test "Blocked clients are served in blocking order, across keys" {
        r del k1 k2
        set c1 [valkey_deferring_client]
        set c2 [valkey_deferring_client]
        $c1 bzpopmin k1 k2 0
        zset_wait_blocked 1
        $c2 bzpopmax k2 0
        zset_wait_blocked 2
        r zadd k2 1 a 2 b
        assert_equal {k2 a 1} [$c1 read]
        assert_equal {k2 b 2} [$c2 read]
        $c1 close
        $c2 close
    }

    test "BZMPOP blocks and pops up to COUNT" {
        r del z
        set rd [valkey_deferring_client]
        $rd bzmpop 0 2 nokey z max count 2
        zset_wait_blocked 1
        r zadd z 1 a 2 b 3 c
        assert_equal {z {{c 3} {b 2}}} [$rd read]
        $rd bzmpop 0.05 1 nokey min
        assert_equal {} [$rd read]
        $rd close
    }

    test "Blocking pops inside MULTI do not block" {
        r del z
        r multi
        r bzpopmin z 0
        r bzmpop 0 1 z min
        assert_equal {{} {}} [r exec]
    }

    test "Blocking pop argument errors" {
        assert_error "ERR timeout is not a float or out of range" {r bzpopmin z x}
        assert_error "ERR timeout is negative" {r bzpopmin z -1}
        assert_error "ERR numkeys should be greater than 0" {r bzmpop 0 0 z min}
        assert_error "ERR syntax error" {r bzmpop 0 1 z foo}
        r set str v
        assert_error "WRONGTYPE*" {r bzpopmin nokey str 0}
    }
}
