# Tiering: every data type and encoding on cold keys. OBJECT ENCODING of a cold key is its
# logical encoding; reads give exactly what a hot twin gives; updates work and leave the
# key hot; multi-key stores read cold sources and overwrite cold destinations.

source [file join $::th_root tests support tiering.tcl]

# Small encoding limits, so every encoding takes a handful of elements.
set ::tier_type_overrides [tier_overrides {
    list-max-listpack-size 4 set-max-intset-entries 4 set-max-listpack-entries 4
    zset-max-listpack-entries 4 hash-max-listpack-entries 4
}]

# Builds key and twin with cmds, checks both have encoding enc, demotes key and checks
# OBJECT ENCODING (and TYPE) of the cold key without any flash read.
proc tier_pair {key twin enc cmds} {
    r del $key $twin
    tier_build [list $key $twin] $cmds
    assert_encoding $enc $twin
    tier_demote $key
    tier_no_read {
        assert_encoding $enc $key
        assert_equal [r type $twin] [r type $key]
    }
    tier_assert_tier cold $key
}

# Each read command of reads gives the twin's reply on the cold key.
proc tier_check_reads {key twin reads {sorted 0}} {
    foreach cmd $reads {
        tier_same_promoted $key $twin $cmd $sorted
    }
}

# Each update is run on the cold key (rebuilt before each) and on its twin.
proc tier_check_updates {key twin enc cmds updates {sorted 0}} {
    foreach cmd $updates {
        tier_pair $key $twin $enc $cmds
        tier_same_promoted $key $twin $cmd $sorted
    }
}

start_server [list tags {tiering external:skip} overrides $::tier_type_overrides] {
    set long [string repeat "0123456789" 8]

    test {Tiering: a cold embstr string reports embstr and reads back exactly} {
        tier_pair s s:twin embstr {{set @ "hello world"}}
        tier_check_reads s s:twin {
            {get @} {strlen @} {getrange @ 2 7} {substr @ 0 -3} {getbit @ 9} {bitcount @}
            {bitcount @ 1 3 byte} {bitpos @ 0} {mget nosuch @ nosuch} {lcs @ s:twin}
        }
        assert_equal {hello world} [r get s]
    }

    test {Tiering: a cold raw string reports raw and reads back exactly} {
        tier_pair s s:twin raw [list [list set @ $long]]
        tier_check_reads s s:twin {{get @} {strlen @} {getrange @ 70 -1} {bitcount @} {bitpos @ 1 5}}
        assert_equal $long [r get s]
    }

    test {Tiering: binary strings with NUL bytes survive flash} {
        set bin "a\x00b\xff\r\n\x00"
        tier_pair s s:twin embstr [list [list set @ $bin]]
        assert_equal $bin [tier_same_promoted s s:twin {get @}]
    }

    test {Tiering: string updates on cold keys (APPEND SETRANGE SETBIT GETSET GETDEL GETEX...)} {
        foreach {enc value} [list embstr "hello world" raw $long] {
            tier_check_updates s s:twin $enc [list [list set @ $value]] {
                {append @ "!!"} {setrange @ 3 XYZ} {setrange @ 200 end} {setbit @ 5 1}
                {getset @ new} {getdel @} {getex @ px 100000} {getex @ persist}
                {incr @} {decrby @ 3} {set @ other get} {bitfield @ incrby u8 0 1 get u4 4}
            }
        }
    }

    test {Tiering: INCRBYFLOAT and INCR on cold number-like strings} {
        tier_check_updates n n:twin embstr {{set @ 1.5}} {{incrbyfloat @ 2.25} {incrbyfloat @ -1.5e3}}
        # "007" is not a canonical integer: stored as a string, INCR refuses it.
        tier_pair n n:twin embstr {{set @ 007}}
        assert_match {ERROR: *not an integer*} [tier_same n n:twin {incr @}]
        # Beyond 64 bits a number is a plain string: INCR refuses it, INCRBYFLOAT takes it.
        tier_pair n n:twin embstr {{set @ 123456789012345678901234}}
        assert_match {ERROR: *not an integer*} [tier_same n n:twin {incr @}]
        tier_same_promoted n n:twin {incrbyfloat @ 1}
    }

    test {Tiering: cold lists, listpack and quicklist: encoding and reads} {
        tier_pair l l:twin listpack {{rpush @ a b c}}
        tier_check_reads l l:twin {{lrange @ 0 -1} {lindex @ 1} {llen @} {lpos @ c} {lrange @ -2 -1}}
        tier_pair l l:twin quicklist {{rpush @ a b c d e f g h i j}}
        tier_check_reads l l:twin {{lrange @ 0 -1} {lindex @ -3} {llen @} {lpos @ h rank 1} {lrange @ 3 6}}
    }

    test {Tiering: list updates on cold keys (LPUSH RPUSH LSET LINSERT LREM LTRIM LPOP RPOP LMPOP)} {
        set updates {
            {lpush @ z} {rpush @ y x} {lpushx @ w} {lset @ 0 X} {lset @ 99 X} {linsert @ before b Y}
            {lrem @ 1 a} {ltrim @ 1 -2} {lpop @} {rpop @ 2} {lmpop 1 @ left count 2}
        }
        tier_check_updates l l:twin listpack {{rpush @ a b c}} $updates
        tier_check_updates l l:twin quicklist {{rpush @ a b c d e f g h i j}} $updates
    }

    test {Tiering: cold sets, intset listpack and hashtable: encoding and reads} {
        tier_pair st st:twin intset {{sadd @ 3 1 2}}
        tier_check_reads st st:twin {{smembers @} {sismember @ 2} {smismember @ 1 9 3} {scard @}}
        tier_pair st st:twin listpack {{sadd @ a b c}}
        tier_check_reads st st:twin {{smembers @} {sismember @ b} {scard @} {sinter @ st:twin}}
        tier_pair st st:twin hashtable {{sadd @ a b c d e f 1}}
        tier_check_reads st st:twin {{smembers @} {sunion @ nosuch} {sdiff @ nosuch}} 1
        tier_check_reads st st:twin {{sismember @ f} {smismember @ a z} {scard @}}
    }

    test {Tiering: set updates on cold keys (SADD SREM SPOP SMOVE)} {
        foreach {enc cmds} {
            intset {{sadd @ 3 1 2}}
            listpack {{sadd @ a b c}}
            hashtable {{sadd @ a b c d e f 1}}
        } {
            tier_check_updates st st:twin $enc $cmds {{sadd @ 7 x} {sadd @ 1} {srem @ 1 a zz} {spop @ 100}} 1
            tier_check_updates st st:twin $enc $cmds {{smove @ nosuch 2} {smove @ nosuch b}}
        }
        # SADD of a non-integer turns a cold intset into a listpack, like a hot one.
        tier_pair st st:twin intset {{sadd @ 3 1 2}}
        tier_same_promoted st st:twin {sadd @ x}
        assert_encoding listpack st
    }

    test {Tiering: cold sorted sets, listpack and skiplist: encoding and reads} {
        foreach {enc cmds} {
            listpack {{zadd @ 1 a 2 b 2.5 c}}
            skiplist {{zadd @ 1 a 2 b 2.5 c 3 d 4 e -1 f}}
        } {
            tier_pair z z:twin $enc $cmds
            tier_check_reads z z:twin {
                {zrange @ 0 -1 withscores} {zscore @ c} {zrank @ b} {zrevrank @ a withscore} {zcard @}
                {zcount @ 1 2.5} {zrangebyscore @ (1 +inf withscores} {zmscore @ a nosuch c}
                {zrange @ 1 2 rev} {zrangebylex @ - + limit 0 2} {zinter 1 @ withscores}
            }
        }
    }

    test {Tiering: sorted set updates on cold keys (ZADD ZINCRBY ZREM ZPOPMIN ZREMRANGEBYRANK)} {
        foreach {enc cmds} {
            listpack {{zadd @ 1 a 2 b 2.5 c}}
            skiplist {{zadd @ 1 a 2 b 2.5 c 3 d 4 e -1 f}}
        } {
            tier_check_updates z z:twin $enc $cmds {
                {zadd @ 10 z} {zadd @ xx ch 7 a} {zincrby @ 5 a} {zrem @ a nosuch} {zpopmin @}
                {zpopmax @ 2} {zremrangebyrank @ 0 1} {zremrangebyscore @ -inf 2} {zmpop 1 @ max}
            }
        }
        # Growing a cold listpack zset past the limit converts it, as it would when hot.
        tier_pair z z:twin listpack {{zadd @ 1 a 2 b 2.5 c}}
        tier_same_promoted z z:twin {zadd @ 5 d 6 e}
        assert_encoding skiplist z
    }

    test {Tiering: cold hashes, listpack and hashtable: encoding and reads} {
        tier_pair h h:twin listpack {{hset @ f1 v1 f2 v2 n 5}}
        tier_check_reads h h:twin {
            {hget @ f1} {hmget @ f2 nosuch f1} {hgetall @} {hkeys @} {hvals @} {hlen @} {hexists @ n}
            {hstrlen @ f2}
        }
        tier_pair h h:twin hashtable {{hset @ f1 v1 f2 v2 f3 v3 f4 v4 n 5}}
        tier_check_reads h h:twin {{hgetall @} {hkeys @} {hvals @}} 1
        tier_check_reads h h:twin {{hget @ f3} {hmget @ f4 n} {hlen @} {hexists @ zz} {hstrlen @ f1}}
    }

    test {Tiering: hash updates on cold keys (HSET HINCRBY HINCRBYFLOAT HDEL HSETNX)} {
        foreach {enc cmds} {
            listpack {{hset @ f1 v1 f2 v2 n 5}}
            hashtable {{hset @ f1 v1 f2 v2 f3 v3 f4 v4 n 5}}
        } {
            tier_check_updates h h:twin $enc $cmds {
                {hset @ f1 new} {hset @ x 1} {hincrby @ n 3} {hincrbyfloat @ n 0.5} {hincrby @ f1 1}
                {hdel @ f1 nosuch} {hsetnx @ f2 no} {hsetnx @ f9 yes}
            }
        }
        tier_pair h h:twin listpack {{hset @ f1 v1 f2 v2 n 5}}
        tier_same_promoted h h:twin [list hset @ big $long]
        assert_encoding hashtable h
    }

    test {Tiering: wrong-type errors on cold keys are the hot ones} {
        tier_pair h h:twin listpack {{hset @ f v}}
        foreach cmd {{get @} {lpush @ x} {sadd @ x} {zscore @ x} {incr @} {append @ x}} {
            tier_demote h
            set cold [tier_reply [tier_subst $cmd h]]
            assert_match {ERROR: WRONGTYPE*} $cold
            assert_equal [tier_reply [tier_subst $cmd h:twin]] $cold
        }
    }

    test {Tiering: SUNIONSTORE SINTERSTORE SDIFFSTORE SINTERCARD with cold sources} {
        r del a b a:twin b:twin
        r sadd a 1 2 3 x y
        r sadd a:twin 1 2 3 x y
        r sadd b 2 3 4 y
        r sadd b:twin 2 3 4 y
        foreach {cmd twincmd} {
            {sunionstore d a b} {sunionstore d:twin a:twin b:twin}
            {sinterstore d a b} {sinterstore d:twin a:twin b:twin}
            {sdiffstore d a b} {sdiffstore d:twin a:twin b:twin}
            {sintercard 2 a b} {sintercard 2 a:twin b:twin}
            {sintercard 2 a b limit 1} {sintercard 2 a:twin b:twin limit 1}
        } {
            tier_demote a
            tier_demote b
            assert_equal [r {*}$twincmd] [r {*}$cmd] "($cmd)"
            assert_equal [lsort [r smembers d:twin]] [lsort [r smembers d]] "($cmd)"
            assert_equal [r debug digest-value a:twin b:twin] [r debug digest-value a b]
        }
    }

    test {Tiering: a store overwrites a cold destination without reading it} {
        r del d d:twin
        r sadd s1 a b
        r set d [string repeat x 50]
        tier_demote d
        tier_no_read {
            assert_equal 2 [r sunionstore d s1]
        }
        assert_equal {a b} [lsort [r smembers d]]
        r zadd zd 1 old
        tier_demote zd
        tier_no_read {
            assert_equal 2 [r zunionstore zd 1 s1]
        }
        assert_equal {a 1 b 1} [r zrange zd 0 -1 withscores]
    }

    test {Tiering: ZUNIONSTORE ZINTERSTORE ZRANGESTORE with cold sources and destination} {
        r del z1 z2 z1:twin z2:twin zd zd:twin
        tier_build {zd zd:twin} {{zadd @ 0 old}}
        tier_build {z1 z1:twin} {{zadd @ 1 a 2 b 3 c}}
        tier_build {z2 z2:twin} {{zadd @ 10 b 20 c 30 d 40 e 50 f}}
        foreach {cmd twincmd} {
            {zunionstore zd 2 z1 z2 weights 2 1} {zunionstore zd:twin 2 z1:twin z2:twin weights 2 1}
            {zinterstore zd 2 z1 z2 aggregate max} {zinterstore zd:twin 2 z1:twin z2:twin aggregate max}
            {zrangestore zd z2 1 3} {zrangestore zd:twin z2:twin 1 3}
            {zdiffstore zd 2 z2 z1} {zdiffstore zd:twin 2 z2:twin z1:twin}
        } {
            tier_demote z1
            tier_demote z2
            tier_demote zd
            assert_equal [r {*}$twincmd] [r {*}$cmd] "($cmd)"
            assert_equal [r zrange zd:twin 0 -1 withscores] [r zrange zd 0 -1 withscores] "($cmd)"
            assert_equal [r debug digest-value z1:twin z2:twin] [r debug digest-value z1 z2]
        }
    }

    test {Tiering: LMOVE / RPOPLPUSH / SMOVE between cold keys} {
        r del src dst src:twin dst:twin
        tier_build {src src:twin} {{rpush @ a b c d}}
        tier_build {dst dst:twin} {{rpush @ x}}
        foreach {cmd twincmd} {
            {lmove src dst left right} {lmove src:twin dst:twin left right}
            {rpoplpush src dst} {rpoplpush src:twin dst:twin}
            {lmove src src right left} {lmove src:twin src:twin right left}
        } {
            tier_demote src
            tier_demote dst
            assert_equal [r {*}$twincmd] [r {*}$cmd] "($cmd)"
            assert_equal [r lrange src:twin 0 -1] [r lrange src 0 -1]
            assert_equal [r lrange dst:twin 0 -1] [r lrange dst 0 -1]
        }
        r del s1 s2
        r sadd s1 a b
        r sadd s2 c
        tier_demote s1
        tier_demote s2
        assert_equal 1 [r smove s1 s2 a]
        assert_equal {b} [r smembers s1]
        assert_equal {a c} [lsort [r smembers s2]]
    }

    test {Tiering: COPY of a cold key, to a new key and over a cold destination} {
        r del h h2 h3
        r hset h f1 v1 f2 v2
        set digest [r debug digest-value h]
        tier_demote h
        assert_equal 1 [r copy h h2]
        assert_equal $digest [r debug digest-value h2]
        assert_equal {f1 v1 f2 v2} [r hgetall h2]
        # The source is intact, and the copy is independent.
        r hset h2 f1 changed
        assert_equal v1 [r hget h f1]
        r set h3 [string repeat y 40]
        tier_demote h
        tier_demote h3
        assert_equal 0 [r copy h h3]
        assert_equal 1 [r copy h h3 replace]
        assert_equal $digest [r debug digest-value h3]
        assert_equal hash [r type h3]
        # COPY to another database.
        r select 10
        r del h
        r select 9
        tier_demote h
        assert_equal 1 [r copy h h db 10]
        r select 10
        assert_equal {f1 v1 f2 v2} [r hgetall h]
        r del h
        r select 9
    }
}
