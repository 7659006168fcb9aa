# Keyspace notifications (notify-keyspace-events): the channel names
# __keyspace@<db>__:<key> / __keyevent@<db>__:<event>, the class flags and their masking,
# CONFIG GET/SET round trips, and the events of every command family: strings, generic
# key commands, expiry (lazy and active), eviction, new keys (n), key misses (m), hashes,
# sets, sorted sets, lists and HyperLogLog. The expected events and their order are
# Valkey 8's. A deferring client subscribed to __key*__:* collects them; each check
# publishes a sentinel message and reads up to it, so a missing or an extra event fails
# the check instead of hanging it.

# The events seen since the last call, in order: keyevent notifications of db 9 as
# "event:key", of another db as "event:key@db"; keyspace notifications as "K:key:event"
# (or "K:key:event@db").
proc ke_events {rd} {
    r publish __keysentinel__:end end
    set events {}
    while 1 {
        set m [$rd read]
        lassign $m kind pattern channel msg
        if {$channel eq "__keysentinel__:end"} break
        if {![regexp {^__key(space|event)@([0-9]+)__:(.*)$} $channel -> type db name]} {
            fail "unexpected channel $channel"
        }
        set at [expr {$db == 9 ? "" : "@$db"}]
        if {$type eq "event"} {
            lappend events "$name:$msg$at"
        } else {
            lappend events "K:$name:$msg$at"
        }
    }
    return $events
}

proc ke_flags {flags} {
    r config set notify-keyspace-events $flags
}

proc ke_has_command {name} {
    expr {[lindex [r command info $name] 0] ne {}}
}

start_server {tags {"pubsub keyspace-events"}} {
    test {Active expiry is on by default: a key nobody reads expires} {
        r flushall
        r psetex volatile 10 v
        wait_for_condition 50 20 {
            [r dbsize] == 0
        } else {
            fail "the key was not actively expired"
        }
    }

    set rd [valkey_deferring_client]
    $rd psubscribe __key*__:*
    $rd read

    test {Nothing is published while notify-keyspace-events is empty} {
        ke_flags ""
        r set foo bar
        r del foo
        ke_events $rd
    } {}

    test {CONFIG SET/GET notify-keyspace-events round trips} {
        foreach {set get} {
            KEA AKE  KEAnm AKEm  gKE gKE  {$lshzxeKE} {$lshzxeKE}  KA AK  EA AE  Ex xE
            Kg$ {g$K}  Elshzxetd lshzxetdE  Kn nK  A A  AKEnm AKEm  "" ""  K K  E E  Em Em
        } {
            ke_flags $set
            assert_equal $get [lindex [r config get notify-keyspace-events] 1] "after setting '$set'"
        }
        assert_error {ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.} {
            r config set notify-keyspace-events KEy
        }
        assert_equal Em [lindex [r config get notify-keyspace-events] 1] "unchanged after an error"
    }

    test {K: keyspace notifications only, with the exact channel and message} {
        ke_flags KA
        r set foo bar
        assert_equal {K:foo:set} [ke_events $rd]
    }

    test {E: keyevent notifications only} {
        ke_flags EA
        r set foo bar
        assert_equal {set:foo} [ke_events $rd]
    }

    test {KE: the keyspace notification comes before the keyevent one} {
        ke_flags KEA
        r set foo bar
        r del foo
        assert_equal {K:foo:set set:foo K:foo:del del:foo} [ke_events $rd]
    }

    test {The exact channels and messages of both kinds} {
        ke_flags KEA
        r set foo bar
        r publish __keysentinel__:end end
        assert_equal {pmessage __key*__:* __keyspace@9__:foo set} [$rd read]
        assert_equal {pmessage __key*__:* __keyevent@9__:set foo} [$rd read]
        assert_equal {pmessage __key*__:* __keysentinel__:end end} [$rd read]
    }

    test {Classes mask events: g without $, $ without g, K or E alone emit nothing} {
        ke_flags Eg
        r set foo bar
        r expire foo 100
        r del foo
        assert_equal {expire:foo del:foo} [ke_events $rd]
        ke_flags {E$}
        r set foo bar
        r expire foo 100
        r del foo
        assert_equal {set:foo} [ke_events $rd]
        ke_flags KE
        r set foo bar
        r del foo
        assert_equal {} [ke_events $rd]
        ke_flags g$
        r set foo bar
        r del foo
        assert_equal {} [ke_events $rd]
    }

    test {The database number is in the channel} {
        ke_flags KEA
        r select 3
        r set dbkey v
        r del dbkey
        r select 9
        assert_equal {K:dbkey:set@3 set:dbkey@3 K:dbkey:del@3 del:dbkey@3} [ke_events $rd]
    }

    test {String commands} {
        ke_flags EA
        r flushdb
        r set foo bar
        r set foo bar nx
        r set foo baz xx
        r set foo2 v ex 100
        r setnx foo3 v
        r setnx foo3 v
        r setex foo4 100 v
        r psetex foo5 100000 v
        assert_equal {set:foo set:foo set:foo2 expire:foo2 set:foo3 set:foo4 expire:foo4 set:foo5 expire:foo5} \
            [ke_events $rd]
        r mset a 1 b 2
        r msetnx c 1 d 2
        r msetnx c 1 e 2
        r getset a 5
        r getdel b
        r getdel b
        r getex a ex 100
        r getex a persist
        r getex a
        assert_equal {set:a set:b set:c set:d set:a del:b expire:a persist:a} [ke_events $rd]
        r incr n
        r incrby n 5
        r decr n
        r decrby n 2
        r incrbyfloat f 1.5
        assert_equal {incrby:n incrby:n incrby:n incrby:n incrbyfloat:f} [ke_events $rd]
        r append s hello
        r append s world
        r setrange s 0 X
        r setrange s3 2 ab
        r set s4 v get
        r set s4 v keepttl
        assert_equal {append:s append:s setrange:s setrange:s3 set:s4 set:s4} [ke_events $rd]
    }

    test {Bitmap commands} {
        ke_flags EA
        r flushdb
        r setbit bits 7 1
        r setbit bits 7 1
        r bitfield bf set u8 0 255
        r bitfield bf get u8 0
        r bitop and dest bits bf
        r bitop and dest nokey1
        assert_equal {setbit:bits setbit:bf set:dest del:dest} [ke_events $rd]
    }

    test {Generic key commands} {
        ke_flags EA
        r flushdb
        r mset foo 1 foo2 2 foo3 3 foo4 4 foo5 5
        ke_events $rd
        r del foo foo2 nokey
        r unlink foo3
        r expire foo4 100
        r pexpire foo5 100000
        r persist foo5
        r persist foo5
        r expire nokey 100
        assert_equal {del:foo del:foo2 del:foo3 expire:foo4 expire:foo5 persist:foo5} [ke_events $rd]
        # A time in the past deletes the key: a del event, no expire event.
        r expire foo4 -1
        r expireat foo5 1
        assert_equal {del:foo4 del:foo5} [ke_events $rd]
    }

    test {RENAME, RENAMENX, COPY and MOVE} {
        ke_flags EA
        r flushdb
        r select 1
        r flushdb
        r select 9
        r set r1 v
        r set r3 v
        ke_events $rd
        r rename r1 r2
        r rename r2 r2
        r renamenx r3 r2
        r renamenx r3 r4
        assert_equal {rename_from:r1 rename_to:r2 rename_from:r3 rename_to:r4} [ke_events $rd]
        r copy r2 r5
        r copy r2 r5 replace
        r copy r2 r5
        r move r5 1
        assert_equal {copy_to:r5 copy_to:r5 move_from:r5 move_to:r5@1} [ke_events $rd]
    }

    test {FLUSHDB and FLUSHALL emit no per-key events} {
        ke_flags KEA
        r set x 1
        ke_events $rd
        r flushdb
        r set x 1
        r flushall
        assert_equal {K:x:set set:x} [ke_events $rd]
    }

    test {n: a new key, and only the first time} {
        ke_flags En
        r flushdb
        r set foo bar
        r set foo baz
        r set bar bar
        r incr counter
        r del foo
        r set foo again
        assert_equal {new:foo new:bar new:counter new:foo} [ke_events $rd]
        ke_flags EAn
        r del foo
        r set foo bar
        r rename foo foo2
        r copy foo2 foo3
        assert_equal {del:foo new:foo set:foo new:foo2 rename_from:foo rename_to:foo2 new:foo3 copy_to:foo3} \
            [ke_events $rd]
        ke_flags KA
        r set foo4 v
        assert_equal {K:foo4:set} [ke_events $rd] "A does not include n"
    }

    test {m: a read of a missing key; writes and A do not count} {
        ke_flags Em
        r flushdb
        r get nokey
        r strlen nokey
        r mget nokey nokey2
        r exists nokey
        r type nokey
        r ttl nokey
        r set nokey v
        r del nokey
        r get nokey
        assert_equal {keymiss:nokey keymiss:nokey keymiss:nokey keymiss:nokey2 keymiss:nokey keymiss:nokey keymiss:nokey keymiss:nokey} \
            [ke_events $rd]
        ke_flags KEA
        r get nokey
        assert_equal {} [ke_events $rd]
        ke_flags Km
        r get nokey
        assert_equal {K:nokey:keymiss} [ke_events $rd]
    }

    test {x: lazy expiry on access} {
        needs_debug
        ke_flags Ex
        r flushdb
        r debug set-active-expire 0
        r psetex foo 20 v
        after 50
        assert_equal {} [ke_events $rd]
        assert_equal {} [r get foo]
        assert_equal {expired:foo} [ke_events $rd]
        r debug set-active-expire 1
    }

    test {x: active expiry of a key nobody reads, with K and E} {
        ke_flags KEx
        r flushdb
        r psetex foo 20 v
        wait_for_condition 50 20 {
            [r dbsize] == 0
        } else {
            fail "the key was not actively expired"
        }
        assert_equal {K:foo:expired expired:foo} [ke_events $rd]
    }

    test {x: an expired key found by a write command} {
        needs_debug
        ke_flags EAn
        r flushdb
        r debug set-active-expire 0
        r psetex foo 20 v
        ke_events $rd
        after 50
        r set foo new
        assert_equal {expired:foo new:foo set:foo} [ke_events $rd]
        r debug set-active-expire 1
    }

    test {e: an evicted key} {
        ke_flags Ee
        r flushall
        r config set maxmemory-policy allkeys-lru
        r set foo bar
        r config set maxmemory 1
        r config set maxmemory 0
        r config set maxmemory-policy noeviction
        assert_equal {evicted:foo} [ke_events $rd]
    }

    test {Hash commands} {
        ke_flags EAnm
        r flushdb
        r hset h a 1 b 2
        r hset h a 1
        r hsetnx h a 2
        r hsetnx h c 3
        r hmset h d 4
        r hincrby h a 5
        r hincrbyfloat h a 1.5
        r hdel h nofield
        r hdel h a b
        r hdel h c d
        assert_equal {new:h hset:h hset:h hset:h hset:h hincrby:h hincrbyfloat:h hdel:h hdel:h del:h} [ke_events $rd]
        r hget nokey a
        r hgetall nokey
        r hget h nofield
        assert_equal {keymiss:nokey keymiss:nokey keymiss:h} [ke_events $rd]
        ke_flags Kh
        r hset h2 a 1
        r del h2
        assert_equal {K:h2:hset} [ke_events $rd]
    }

    test {Set commands} {
        ke_flags EAnm
        r flushdb
        r sadd s a b c
        r sadd s a
        r srem s x
        r srem s a
        r spop s
        r spop s 5
        assert_equal {new:s sadd:s srem:s spop:s spop:s del:s} [ke_events $rd]
        r sadd s1 a b c
        r sadd s2 b c d
        r smove s1 s2 a
        r smove s1 s2 nomember
        r smove s1 s3 b
        assert_equal {new:s1 sadd:s1 new:s2 sadd:s2 srem:s1 sadd:s2 srem:s1 new:s3 sadd:s3} [ke_events $rd]
        r sinterstore dst s1 s2
        r sunionstore dst s1 s2
        r sdiffstore dst s2 s2
        r sdiffstore dst s1 s2
        assert_equal {new:dst sinterstore:dst sunionstore:dst del:dst} [ke_events $rd]
        # The source sets are read: a missing one is a key miss, even for a *STORE.
        r sunionstore dst s1 s2
        r sinterstore dst s1 nokey
        assert_equal {new:dst sunionstore:dst keymiss:nokey del:dst} [ke_events $rd]
        r sadd s4 a
        r srem s4 a
        r smembers nokey
        assert_equal {new:s4 sadd:s4 srem:s4 del:s4 keymiss:nokey} [ke_events $rd]
    }

    test {Sorted set commands} {
        ke_flags EAnm
        r flushdb
        r zadd z 1 a 2 b
        r zadd z 1 a
        r zadd z xx 3 a
        r zadd z nx 3 c
        r zadd z incr 5 a
        r zincrby z 1 b
        r zrem z x
        r zrem z a
        assert_equal {new:z zadd:z zadd:z zadd:z zincr:z zincr:z zrem:z} [ke_events $rd]
        r zadd z 1 a 2 b 3 c 4 d
        r zremrangebyscore z 100 200
        r zremrangebyrank z 0 0
        r zremrangebyscore z 2 2
        r zremrangebylex z - +
        assert_equal {zadd:z zremrangebyrank:z zremrangebyscore:z zremrangebylex:z del:z} [ke_events $rd]
        r zadd z1 1 a 2 b
        r zadd z2 1 b 2 c
        r zunionstore dst 2 z1 z2
        r zinterstore dst 2 z1 z2
        r zdiffstore dst 2 z1 z1
        r zdiffstore dst 2 z1 z2
        r zrangestore dst z1 0 -1
        r zrangestore dst z1 5 10
        assert_equal {new:z1 zadd:z1 new:z2 zadd:z2 new:dst zunionstore:dst zinterstore:dst del:dst new:dst zdiffstore:dst zrangestore:dst del:dst} \
            [ke_events $rd]
        r zpopmin z1
        r zpopmax z1 5
        r zpopmin nokey
        r zadd z3 1 a
        r zmpop 1 z3 min
        r zscore nokey a
        assert_equal {zpopmin:z1 zpopmax:z1 del:z1 new:z3 zadd:z3 zpopmin:z3 del:z3 keymiss:nokey} [ke_events $rd]
    }

    test {List commands} {
        if {![ke_has_command lpush]} {skip "lists are not implemented"}
        ke_flags EAnm
        r flushdb
        r lpush l a b
        r rpush l c
        r lpushx nokey a
        r lpushx l x
        r rpushx l y
        r linsert l before a z
        r linsert l before nothere z
        r lset l 0 q
        assert_equal {new:l lpush:l rpush:l lpush:l rpush:l linsert:l lset:l} [ke_events $rd]
        r lpop l
        r rpop l
        r lpop l 2
        r ltrim l 0 0
        r ltrim l 5 10
        assert_equal {lpop:l rpop:l lpop:l ltrim:l ltrim:l del:l} [ke_events $rd]
        r rpush l a b c d
        r lrem l 1 a
        r lrem l 0 zz
        r rpoplpush l l2
        r lmove l l2 left right
        r lmove l l left left
        r lmpop 1 l left count 10
        assert_equal {new:l rpush:l lrem:l new:l2 lpush:l2 rpop:l rpush:l2 lpop:l lpush:l lpop:l lpop:l del:l} \
            [ke_events $rd]
        r rpush src a
        r rpoplpush src src
        r rpoplpush src dst
        r lrange nokey 0 -1
        assert_equal {new:src rpush:src lpush:src rpop:src new:dst lpush:dst rpop:src del:src keymiss:nokey} \
            [ke_events $rd]
    }

    test {HyperLogLog commands} {
        if {![ke_has_command pfadd]} {skip "HyperLogLog is not implemented"}
        ke_flags EAnm
        r flushdb
        r pfadd hll a b
        r pfadd hll a
        r pfmerge dst hll
        r pfcount nokey
        assert_equal {new:hll pfadd:hll keymiss:dst new:dst pfadd:dst keymiss:nokey} [ke_events $rd]
    }

    test {A RESP3 client gets its own events after the reply of its command} {
        ke_flags KEA
        set c [valkey_deferring_client]
        $c hello 3
        $c read
        $c psubscribe __keyevent@9__:*
        $c read
        $c set mine v
        assert_equal OK [$c read]
        assert_equal {pmessage __keyevent@9__:* __keyevent@9__:set mine} [$c read]
        $c close
        assert_equal {K:mine:set set:mine} [ke_events $rd]
    }

    $rd close
    ke_flags ""
}
