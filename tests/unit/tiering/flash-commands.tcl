# FLASH.* commands (valkey-flash compatibility): every data command replies exactly as its
# native twin and writes ordinary keys, the options valkey-flash adds (FLASH.SET's, trailing
# TTLs of FLASH.HSET and the pushes) with its error texts, blocking variants, propagation to
# the AOF as native commands only, cold keys, the admin commands (DEBUG.STATE, COMPACTION.*,
# CONVERT, DRAIN), the @flash category, the module-style config names and INFO fields.

source [file join $::th_root tests support tiering.tcl]
source [file join $::th_root tests helpers aof_helpers.tcl]

# The data commands and their twins.
set ::fc_twins {
    set get del hset hget hgetall hdel hexists hlen
    lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset linsert lrem ltrim lmove rpoplpush
    blpop brpop blmove
    zadd zrem zincrby zpopmin zpopmax bzpopmin bzpopmax zscore zrank zrevrank zcard zcount zlexcount
    zrange zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zscan zunionstore zinterstore
    zdiffstore zrangestore
}

# Words of cmd starting with @ are keys: prefixed with prefix.
proc fc_keys {cmd prefix} {
    return [lmap word $cmd {
        if {[string index $word 0] eq "@"} {
            set _ "$prefix[string range $word 1 end]"
        } else {
            set word
        }
    }]
}

proc fc_reply {cmd} {
    if {[catch {r {*}$cmd} reply]} {
        return "ERROR: $reply"
    }
    return $reply
}

# Runs cmd as FLASH.<cmd> on F: keys and as itself on N: keys: the replies must be equal
# (keys and command names aside). Returns the reply.
proc fc_same {cmd} {
    set args [lrange $cmd 1 end]
    set f [fc_reply [list flash.[lindex $cmd 0] {*}[fc_keys $args F:]]]
    set n [fc_reply [list [lindex $cmd 0] {*}[fc_keys $args N:]]]
    set f [string map {F: @ flash. ""} $f]
    set n [string map {N: @} $n]
    assert_equal $n $f "(FLASH.$cmd vs its twin)"
    return $f
}

# Both worlds hold the same values.
proc fc_same_values {} {
    foreach key [r keys N:*] {
        set twin "F:[string range $key 2 end]"
        assert_equal [r debug digest-value $key] [r debug digest-value $twin] "(value of $twin)"
        set ttl [r ttl $key]
        set fttl [r ttl $twin]
        assert {($ttl < 0 && $ttl == $fttl) || ($ttl >= 0 && abs($ttl - $fttl) <= 1)}
    }
}

# The commands the AOF received since it had `before` commands.
proc fc_aof_since {dir before} {
    return [lrange [aof_file_commands [aof_last_incr $dir]] $before end]
}

# The INFO commandstats line of a command ("" when it never ran).
proc fc_cmdstat {name} {
    foreach line [split [r info commandstats] "\r\n"] {
        if {[string match "cmdstat_$name:*" $line]} {
            return [string range $line [string length "cmdstat_$name:"] end]
        }
    }
    return ""
}

proc fc_aof_count {dir} {
    return [llength [aof_file_commands [aof_last_incr $dir]]]
}

set fc_overrides [tier_overrides {appendonly yes appendfsync always auto-aof-rewrite-percentage 0}]

start_server [list tags {tiering external:skip} overrides $fc_overrides] {
    set dir [srv dir]

    test {FLASH.* data commands: registered with their twin's arity, flags, key specs and @flash} {
        foreach name $::fc_twins {
            set f [lindex [r command info flash.$name] 0]
            set n [lindex [r command info $name] 0]
            assert_equal flash.$name [lindex $f 0]
            # arity, flags, first/last/step
            assert_equal [lrange $n 1 5] [lrange $f 1 5] "(COMMAND INFO flash.$name)"
            assert_equal [concat [lindex $n 6] @flash] [lindex $f 6] "(ACL categories of flash.$name)"
            # tips, key specs
            assert_equal [lrange $n 7 8] [lrange $f 7 8] "(key specs of flash.$name)"
        }
        set listed [r command list filterby aclcat flash]
        foreach name [concat $::fc_twins debug.demote debug.state compaction.trigger compaction.stats convert drain \
                          migrate migrate.probe] {
            assert {[lsearch -exact $listed flash.$name] >= 0}
        }
    }

    test {FLASH.* strings and hashes reply exactly as their twins} {
        r flushall
        foreach cmd {
            {set @s hello} {get @s} {set @s v2 ex 100} {get @s} {set @s v3 nx} {set @s v4 xx} {set @n v xx}
            {get @n} {set @n 12345} {get @n} {get @nosuch} {del @s @n @nosuch} {get @s} {del @nosuch}
            {set @s v px 100000} {set @s v pxat 99999999999999} {set @s v exat 99999999999}
            {set @s v xx px 100000} {set @s2 v nx} {set @s2 w nx}
            {hset @h f1 v1 f2 v2} {hset @h f1 x f3 y} {hget @h f1} {hget @h nosuch} {hget @nosuch f}
            {hgetall @h} {hgetall @nosuch} {hexists @h f1} {hexists @h zz} {hexists @nosuch f} {hlen @h}
            {hlen @nosuch} {hdel @h f1 nosuch} {hdel @h f2 f3} {hdel @h f2} {hgetall @h} {hlen @h}
            {hset @h a 1 b 2 c 3} {hset @h a 1 b}
            {set @w str} {hget @w f} {hset @w f v} {hgetall @w} {hlen @w} {hdel @w f} {hexists @w f}
            {hset @s f v} {get @h} {set @h overwrite} {get @h}
        } {
            fc_same $cmd
        }
        fc_same_values
    }

    test {FLASH.* lists reply exactly as their twins (blocking ones with data, or timing out)} {
        r flushall
        foreach cmd {
            {rpush @l a b c d e} {lpush @l z y} {lpushx @l x} {rpushx @l w} {lpushx @nol a} {rpushx @nol a}
            {llen @l} {llen @nol} {lrange @l 0 -1} {lrange @l -3 100} {lrange @nol 0 -1} {lindex @l 2}
            {lindex @l -1} {lindex @l 100} {lindex @l abc} {lset @l 0 first} {lset @l 100 x}
            {lset @nol 0 x} {linsert @l before c cc} {linsert @l after nosuch x} {linsert @l middle c x}
            {linsert @nol before a b} {lrem @l 0 cc} {lrem @l 1 nosuch} {lrange @l 0 -1} {ltrim @l 0 5}
            {lrange @l 0 -1} {lpop @l} {rpop @l 2} {lpop @l 0} {lpop @l -1} {lpop @nol} {rpop @nol 3}
            {lmove @l @l2 left right} {lmove @l @l2 right left} {lmove @l @l2 up down} {lmove @nol @l2 left left}
            {rpoplpush @l @l2} {rpoplpush @nol @l2} {lrange @l2 0 -1} {lrange @l 0 -1}
            {blpop @l2 0} {brpop @nol @l2 0} {blmove @l2 @l left left 0} {blpop @nol 0.01}
            {brpop @nol -1} {blpop @nol abc} {blmove @nol @l left left 0.01} {blmove @l @l2 x left 0}
            {set @w str} {lpush @w x} {rpush @w x} {lpushx @w x} {llen @w} {lrange @w 0 1} {lpop @w}
            {lmove @l @w left left} {blpop @w 0}
            {lrange @l 0 -1} {lrange @l2 0 -1}
        } {
            fc_same $cmd
        }
        fc_same_values
    }

    test {FLASH.* sorted sets reply exactly as their twins} {
        r flushall
        foreach cmd {
            {zadd @z 1 a 2 b 3 c} {zadd @z nx 5 a 4 d} {zadd @z xx ch 10 a 7 e} {zadd @z gt 1 a}
            {zadd @z lt ch 0.5 a} {zadd @z incr 2 b} {zadd @z nx xx 1 a} {zadd @z gt lt 1 a}
            {zadd @z gt nx 1 a} {zadd @z 1} {zadd @z abc a} {zadd @z incr 1 a 2 b} {zadd @z nx incr 1 a}
            {zincrby @z 1.5 c} {zincrby @z abc c} {zincrby @z 1 new} {zrem @z d nosuch} {zrem @nosuch a}
            {zscore @z a} {zscore @z nosuch} {zrank @z a} {zrank @z b withscore} {zrank @z nosuch}
            {zrevrank @z a withscore} {zrevrank @nosuch a} {zcard @z} {zcard @nosuch} {zcount @z -inf +inf}
            {zcount @z (1 3} {zcount @z x 3} {zlexcount @z - +} {zlexcount @z a b}
            {zrange @z 0 -1 withscores} {zrange @z (1 +inf byscore limit 0 2 withscores}
            {zrange @z + - bylex rev} {zrange @z 0 -1 rev} {zrange @z 0 -1 limit 0 1}
            {zrangebyscore @z -inf +inf withscores} {zrangebyscore @z 1 (3 limit 1 1}
            {zrevrangebyscore @z +inf -inf limit 0 1} {zrangebylex @z - +} {zrangebylex @z a b}
            {zrevrangebylex @z + -} {zscan @z 0} {zscan @z 0 match b* count 5} {zscan @z x}
            {zadd @z2 1 a 5 x 6 c} {zunionstore @u 2 @z @z2 weights 1 2 aggregate max}
            {zrange @u 0 -1 withscores} {zinterstore @i 2 @z @z2 aggregate min} {zrange @i 0 -1 withscores}
            {zinterstore @i 2 @z @z2 weights 1} {zdiffstore @d 2 @z @z2} {zrange @d 0 -1 withscores}
            {zrangestore @r @z 0 1} {zrangestore @r @z (1 +inf byscore rev} {zrange @r 0 -1 withscores}
            {zunionstore @u 0 @z} {zdiffstore @d 1 @nosuch} {zcard @d}
            {zpopmin @z} {zpopmax @z 2} {zpopmin @z -1} {zpopmin @nosuch} {bzpopmin @z 0}
            {bzpopmax @nosuch @z2 0} {bzpopmin @nosuch 0.01} {bzpopmin @nosuch -1} {bzpopmax @z x}
            {zadd @zi 1 a} {zincrby @zi +inf a} {zincrby @zi -inf a} {zscore @zi a}
            {set @w str} {zadd @w 1 a} {zscore @w a} {zrange @w 0 -1} {zunionstore @u 1 @w} {bzpopmin @w 0}
            {zrange @z 0 -1 withscores} {zrange @z2 0 -1 withscores}
        } {
            fc_same $cmd
        }
        fc_same_values
    }

    test {FLASH.* replies in RESP3 are the twins' too} {
        r flushall
        r hello 3
        foreach cmd {
            {zadd @z 1 a 2 b 3 c} {zscore @z a} {zrange @z 0 -1 withscores} {zrank @z b withscore}
            {zpopmin @z} {zpopmax @z 1} {bzpopmin @z 0} {hset @h f v} {hgetall @h} {hget @h nosuch}
            {lpop @nosuch} {blpop @nosuch 0.01} {get @nosuch} {zincrby @z 1 q} {zscan @z 0}
        } {
            fc_same $cmd
        }
        r hello 2
    }

    test {Keys written by FLASH.* are ordinary keys} {
        r flushall
        r flash.set s hello
        r flash.hset h f v
        r flash.rpush l a b
        r flash.zadd z 1 m
        assert_equal {string hash list zset} [list [r type s] [r type h] [r type l] [r type z]]
        assert_equal hello [r get s]
        assert_equal {f v} [r hgetall h]
        assert_equal {a b} [r lrange l 0 -1]
        assert_equal {m 1} [r zrange z 0 -1 withscores]
        r set s2 native
        assert_equal native [r flash.get s2]
        assert_encoding embstr s
        assert_encoding listpack h
        assert_equal 4 [r flash.del s h l z]
    }

    test {FLASH.SET: options, valkey-flash's errors and TTLs} {
        r flushall
        assert_equal OK [r flash.set k v ex 100]
        assert_range [r ttl k] 99 100
        # No TTL option clears the TTL, like SET.
        r flash.set k v2
        assert_equal -1 [r ttl k]
        # A later TTL option replaces an earlier one (SET would refuse the mix).
        r flash.set k v ex 100 px 5000
        assert_range [r pttl k] 4000 5000
        r flash.set k v pxat 99999999999999 exat 99999999999
        assert_equal 99999999999 [r expiretime k]
        assert_equal {} [r flash.set k v nx]
        assert_equal {} [r flash.set nosuch v XX]
        assert_equal 0 [r exists nosuch]
        assert_error {ERR XX and NX options at the same time are not compatible} {r flash.set k v nx xx}
        assert_error {ERR XX and NX options at the same time are not compatible} {r flash.set k v xx ex 10 nx}
        assert_error {ERR invalid expire time in FLASH.SET} {r flash.set k v ex 0}
        assert_error {ERR invalid expire time in FLASH.SET} {r flash.set k v px -5}
        assert_error {ERR invalid expire time in FLASH.SET} {r flash.set k v ex 9223372036854775}
        assert_error {ERR value is not an integer or out of range} {r flash.set k v ex abc}
        assert_error {ERR syntax error} {r flash.set k v ex}
        assert_error {ERR syntax error} {r flash.set k v keepttl}
        assert_error {ERR syntax error} {r flash.set k v get}
        assert_error {ERR wrong number of arguments for 'flash.set' command} {r flash.set k}
        # A date already past: the key is gone, as with SET.
        r flash.set k v pxat 1
        assert_equal 0 [r exists k]
        # Overwrites a key of any type, like SET.
        r rpush l a
        r flash.set l str
        assert_equal string [r type l]
    }

    test {FLASH.HSET: trailing TTL options apply to the key, with valkey-flash's errors} {
        r flushall
        assert_equal 2 [r flash.hset h a 1 b 2 ex 100]
        assert_range [r ttl h] 99 100
        # No option, or KEEPTTL, keeps the TTL (as HSET).
        assert_equal 1 [r flash.hset h c 3]
        assert_range [r ttl h] 99 100
        assert_equal 0 [r flash.hset h c 4 keepttl]
        assert_range [r ttl h] 99 100
        r flash.hset h d 4 px 50000
        assert_range [r pttl h] 49000 50000
        r flash.hset h d 4 exat 99999999999
        assert_equal 99999999999 [r expiretime h]
        r flash.hset h d 4 ex 10 pxat 99999999999999
        assert_equal 99999999999999 [r pexpiretime h]
        # Option keywords are only looked for where a field would be: values may spell them.
        assert_equal 2 [r flash.hset h2 f ex g KEEPTTL]
        assert_equal {f ex g KEEPTTL} [r hgetall h2]
        assert_equal -1 [r ttl h2]
        assert_error {ERR KEEPTTL option is not compatible with EX, PX, EXAT, or PXAT} {r flash.hset h a 1 keepttl ex 5}
        assert_error {ERR KEEPTTL option is not compatible with EX, PX, EXAT, or PXAT} {r flash.hset h a 1 ex 5 keepttl}
        assert_error {ERR invalid expire time in FLASH.HSET} {r flash.hset h a 1 ex 0}
        assert_error {ERR invalid expire time in FLASH.HSET} {r flash.hset h a 1 pxat -1}
        assert_error {ERR value is not an integer or out of range} {r flash.hset h a 1 ex 1.5}
        assert_error {ERR syntax error} {r flash.hset h a 1 ex}
        assert_error {ERR syntax error} {r flash.hset h a 1 ex 10 bogus}
        assert_error {ERR wrong number of arguments for 'flash.hset' command} {r flash.hset h a 1 b}
        assert_error {ERR wrong number of arguments for 'flash.hset' command} {r flash.hset h ex 10}
        assert_error {ERR wrong number of arguments for 'flash.hset' command} {r flash.hset h a}
        # Nothing was written by the failed calls.
        assert_equal {1 2 4 4} [r hmget h a b c d]
        # A date already past deletes the key (as PEXPIREAT would).
        assert_equal 1 [r flash.hset h e 5 pxat 1]
        assert_equal 0 [r exists h]
        r set s str
        assert_error {WRONGTYPE*} {r flash.hset s f v ex 100}
        assert_equal -1 [r ttl s]
    }

    test {FLASH.LPUSH RPUSH LPUSHX RPUSHX: trailing TTL options} {
        r flushall
        assert_equal 3 [r flash.rpush l a b c ex 100]
        assert_range [r ttl l] 99 100
        assert_equal 4 [r flash.lpush l z]
        assert_range [r ttl l] 99 100
        assert_equal 5 [r flash.lpushx l y px 20000]
        assert_range [r pttl l] 19000 20000
        assert_equal 6 [r flash.rpushx l q keepttl]
        assert_range [r pttl l] 19000 20000
        assert_equal {y z a b c q} [r lrange l 0 -1]
        # PUSHX on a missing key creates nothing, TTL or not.
        assert_equal 0 [r flash.lpushx nol a ex 100]
        assert_equal 0 [r flash.rpushx nol a]
        assert_equal 0 [r exists nol]
        # As in valkey-flash, the first word spelling an option ends the elements.
        assert_error {ERR wrong number of arguments for 'flash.lpush' command} {r flash.lpush l ex 10}
        assert_error {ERR wrong number of arguments for 'flash.rpush' command} {r flash.rpush l KEEPTTL}
        assert_error {ERR invalid expire time in FLASH.LPUSH} {r flash.lpush l a ex 0}
        assert_error {ERR invalid expire time in FLASH.RPUSHX} {r flash.rpushx l a px -1}
        assert_error {ERR KEEPTTL option is not compatible with EX, PX, EXAT, or PXAT} {r flash.rpush l a keepttl exat 99999999999}
        assert_error {ERR syntax error} {r flash.rpush l a px}
        assert_error {ERR syntax error} {r flash.rpush l a px 10 b}
        assert_error {ERR value is not an integer or out of range} {r flash.lpush l a exat soon}
        assert_equal 6 [r llen l]
        assert_equal 1 [r flash.rpush gone a pxat 1]
        assert_equal 0 [r exists gone]
    }

    test {FLASH.BLPOP BRPOP BLMOVE BZPOPMIN BZPOPMAX block, are served, time out, and count as FLASH.*} {
        r flushall
        r config resetstat
        set rd [valkey_deferring_client]
        $rd flash.blpop bl 0
        wait_for_blocked_client
        r rpush bl x
        assert_equal {bl x} [$rd read]

        $rd flash.brpop nothere bm 0
        wait_for_blocked_client
        r flash.lpush bm y
        assert_equal {bm y} [$rd read]

        $rd flash.blmove src dst left right 0
        wait_for_blocked_client
        r rpush src m
        assert_equal m [$rd read]
        assert_equal {m} [r lrange dst 0 -1]

        $rd flash.bzpopmin bz 0
        wait_for_blocked_client
        r zadd bz 3 q
        assert_equal {bz q 3} [$rd read]

        $rd flash.bzpopmax bz 0.02
        assert_equal {} [$rd read]
        $rd close

        assert_match {*calls=1,*} [fc_cmdstat flash.blpop]
        assert_match {*calls=1,*} [fc_cmdstat flash.blmove]
        assert_match {*calls=1,*} [fc_cmdstat flash.bzpopmax]
        assert_match {*calls=1,*} [fc_cmdstat flash.bzpopmin]
        assert_equal {} [fc_cmdstat blpop]
        assert_error {ERR timeout is negative} {r flash.blpop bl -1}
        assert_error {ERR timeout is not a float or out of range} {r flash.bzpopmin bz 1x}
        # In a transaction they do not block.
        r multi
        r flash.blpop nothere 0
        r flash.bzpopmin nothere 0
        assert_equal {{} {}} [r exec]
    }

    test {FLASH.* writes reach the AOF as native commands, options as PEXPIREAT in MULTI/EXEC} {
        r flushall
        set before [fc_aof_count $dir]
        r flash.set p1 v
        r flash.set p2 v ex 100
        r flash.set p3 v ex 100 px 5000 nx
        r flash.hset p4 f v
        r flash.hset p5 f v px 100000
        r flash.rpush p6 a b exat 99999999999
        r flash.lpushx p6 c
        r flash.hset p7 f v pxat 1
        r flash.del p1
        r flash.zadd z 1 a 2 b
        r flash.zpopmin z
        r flash.rpush bl x
        r flash.blpop bl 0
        r flash.lmove p6 p8 left right
        r flash.zunionstore zu 1 z
        r flash.get p2
        r flash.hset p5 g w keepttl
        set cmds [fc_aof_since $dir $before]
        foreach cmd $cmds {
            assert_no_match {flash.*} [string tolower [lindex $cmd 0]]
        }
        set i 0
        foreach pattern {
            {SET p1 v} {SET p2 v PXAT *} {SET p3 v PXAT *} {HSET p4 f v}
            {MULTI} {HSET p5 f v} {PEXPIREAT p5 *} {EXEC}
            {MULTI} {RPUSH p6 a b} {PEXPIREAT p6 99999999999000} {EXEC} {LPUSHX p6 c}
            {MULTI} {HSET p7 f v} {* p7} {EXEC}
            {DEL p1} {ZADD z 1 a 2 b} {ZPOPMIN z} {RPUSH bl x} {LPOP bl} {LMOVE p6 p8 left right}
            {ZUNIONSTORE zu 1 z} {HSET p5 g w}
        } {
            assert_match $pattern [lindex $cmds $i] "(AOF command $i)"
            incr i
        }
        assert_equal $i [llength $cmds]
        assert {[lindex $cmds 15 0] in {DEL UNLINK}}
        assert_equal 0 [r exists p7]
        # A transaction of FLASH.* writes is one MULTI/EXEC unit.
        set before [fc_aof_count $dir]
        r multi
        r flash.hset t f v ex 100
        r flash.set t2 v
        r exec
        set cmds [fc_aof_since $dir $before]
        assert_equal 5 [llength $cmds]
        assert_match {MULTI} [lindex $cmds 0]
        assert_match {HSET t f v} [lindex $cmds 1]
        assert_match {PEXPIREAT t *} [lindex $cmds 2]
        assert_match {SET t2 v} [lindex $cmds 3]
        assert_match {EXEC} [lindex $cmds 4]
        # And from a script.
        set before [fc_aof_count $dir]
        r eval {return server.call('flash.rpush', KEYS[1], 'a', 'ex', '100')} 1 sl
        set cmds [fc_aof_since $dir $before]
        assert_match {RPUSH sl a} [lindex $cmds 1]
        assert_match {PEXPIREAT sl *} [lindex $cmds 2]
        # The AOF replays to the same data.
        set digest [r debug digest]
        set ttl [r pttl p5]
        r debug loadaof
        assert_equal $digest [r debug digest]
        assert_range [r pttl p5] [expr {$ttl - 2000}] $ttl
        assert_equal {v} [r hvals t]
        assert_morethan [r ttl t] 0
    }

    test {MONITOR and the slowlog show FLASH.* as sent} {
        r config set slowlog-log-slower-than 0
        r slowlog reset
        r flash.set sl1 v
        set entry [lindex [r slowlog get 1] 0]
        assert_equal {flash.set sl1 v} [lindex $entry 3]
        r config set slowlog-log-slower-than 10000
    }

    test {FLASH.* on cold keys: promoted like their twins, deletions read nothing} {
        r flushall
        r flash.hset h f1 v1 f2 v2
        r flash.set s [string repeat x 100]
        r flash.rpush l a b c
        r flash.zadd z 1 a 2 b
        foreach key {h s l z} {tier_demote $key}
        set before [tier_stat flash_promotions]
        assert_equal {f1 v1 f2 v2} [r flash.hgetall h]
        assert_equal 100 [string length [r flash.get s]]
        assert_equal {a b c} [r flash.lrange l 0 -1]
        assert_equal {a 1 b 2} [r flash.zrange z 0 -1 withscores]
        assert_equal [expr {$before + 4}] [tier_stat flash_promotions]
        foreach key {h l z} {tier_demote $key}
        assert_equal 1 [r flash.hset h f3 v3 ex 100]
        assert_equal {v1 v2 v3} [r hmget h f1 f2 f3]
        assert_range [r ttl h] 99 100
        assert_equal 4 [r flash.rpush l d px 100000]
        assert_equal {a b c d} [r lrange l 0 -1]
        assert_equal {z b 2} [r flash.bzpopmax z 0]
        tier_demote s
        tier_no_read {
            assert_equal 1 [r flash.del s]
        }
    }

    test {FLASH.CONVERT brings a value back to RAM with no flash copy left} {
        r flushall
        r set cv [string repeat y 200]
        tier_demote cv
        assert_morethan [tier_stat flash_live_bytes] 0
        set total [tier_stat flash_convert_total]
        assert_equal 1 [r flash.convert cv]
        tier_assert_tier hot cv
        assert_equal 0 [tier_stat flash_live_bytes]
        assert_equal 0 [tier_stat flash_cold_keys]
        assert_equal [string repeat y 200] [r get cv]
        assert_equal [expr {$total + 1}] [tier_stat flash_convert_total]
        # A hot key: :1 too. A missing key: :0.
        assert_equal 1 [r flash.convert cv]
        assert_equal 0 [r flash.convert nosuch]
        assert_error {ERR wrong number of arguments for 'flash.convert' command} {r flash.convert a b}
        # Its next demotion writes the value again.
        tier_demote cv
        assert_morethan [tier_stat flash_live_bytes] 0
    }

    test {FLASH.DRAIN: MATCH, COUNT, counts, and INFO flash_drain_*} {
        r flushall
        for {set i 0} {$i < 6} {incr i} {
            r set dk$i value$i
            tier_demote dk$i
        }
        r set other hot
        assert_equal {2 0 0 2} [r flash.drain match dk* count 2]
        assert_equal 4 [tier_stat flash_cold_keys]
        assert_equal {4 2 0 6} [r flash.drain match dk*]
        assert_equal 0 [tier_stat flash_cold_keys]
        assert_equal 0 [tier_stat flash_live_bytes]
        assert_equal {0 7 0 7} [r flash.drain]
        assert_equal {0 0 0 0} [r flash.drain count 0]
        for {set i 0} {$i < 6} {incr i} {
            tier_assert_tier hot dk$i
            assert_equal value$i [r get dk$i]
        }
        tier_demote dk0
        assert_equal {1 0 0 1} [r flash.drain FORCE MATCH dk0 COUNT 10]
        assert_equal 1 [tier_stat flash_drain_last_converted]
        assert_equal 0 [tier_stat flash_drain_last_skipped]
        assert_equal 0 [tier_stat flash_drain_last_errors]
        assert_equal 1 [tier_stat flash_drain_last_scanned]
        assert_equal no [tier_stat flash_drain_in_progress]
        assert_error {ERR FLASH.DRAIN: COUNT must be a non-negative integer} {r flash.drain count -1}
        assert_error {ERR FLASH.DRAIN: COUNT must be a non-negative integer} {r flash.drain count x}
        assert_error {ERR FLASH.DRAIN: unknown option} {r flash.drain now}
        assert_error {ERR wrong number of arguments for 'flash.drain' command} {r flash.drain match}
        assert_error {ERR wrong number of arguments for 'flash.drain' command} {r flash.drain count}
        # Other databases are not drained.
        r select 1
        r set db1key [string repeat z 100]
        tier_demote db1key
        r select 9
        assert_equal {0 7 0 7} [r flash.drain]
        r select 1
        assert_equal {1 0 0 1} [r flash.drain]
        r flushall
        r select 9
    }

    test {FLASH.DRAIN refuses when the cold values would not fit under maxmemory, unless FORCE} {
        r flushall
        r config set flash-demotion-watermark 100
        # Incompressible values: their records are as big as they are.
        set big ""
        for {set i 0} {$i < 25000} {incr i} {
            append big [format %08x [expr {int(rand() * 4294967295)}]]
        }
        for {set i 0} {$i < 5} {incr i} {
            r set big$i $big
            tier_demote big$i
        }
        set used [s used_memory]
        r config set maxmemory [expr {$used + 500000}]
        catch {r flash.drain} err
        assert_match {ERR FLASH.DRAIN would exceed maxmemory (used_memory=* + projected_cold=* > maxmemory=*); pass FORCE to override} $err
        regexp {projected_cold=([0-9]+)} $err -> projected
        assert_morethan $projected 500000
        # One value fits.
        assert_equal {1 0 0 1} [r flash.drain count 1]
        assert_equal {4 1 0 5} [r flash.drain force]
        r config set maxmemory 0
        r config set flash-demotion-watermark 90
        r flushall
    }

    test {FLASH.DEBUG.STATE is ready and needs no auth} {
        assert_equal ready [r flash.debug.state]
        r config set requirepass secret
        set c [valkey_client]
        assert_equal ready [$c flash.debug.state]
        assert_error {NOAUTH*} {$c flash.get x}
        $c close
        r config set requirepass ""
        assert_error {ERR wrong number of arguments for 'flash.debug.state' command} {r flash.debug.state x}
    }

    test {FLASH.COMPACTION.TRIGGER and FLASH.COMPACTION.STATS} {
        assert_equal OK [r flash.compaction.trigger]
        set stats [r flash.compaction.stats]
        assert_equal 3 [llength $stats]
        assert_equal "compaction_runs:[tier_stat flash_compaction_runs]" [lindex $stats 0]
        assert_equal "bytes_reclaimed:[tier_stat flash_compaction_bytes_reclaimed]" [lindex $stats 1]
        assert_equal "free_blocks:[expr {[tier_stat flash_free_bytes] / 4096}]" [lindex $stats 2]
    }

    test {CONFIG: valkey-flash's names are aliases of our directives} {
        set cfg [r config get flash.*]
        foreach name {flash.path flash.capacity-bytes flash.cache-size-bytes flash.io-uring-entries flash.demotion-max-inflight} {
            assert {[dict exists $cfg $name]}
        }
        assert_equal flash.bin [dict get $cfg flash.path]
        assert_equal [lindex [r config get flash-capacity] 1] [dict get $cfg flash.capacity-bytes]
        r config set flash.cache-size-bytes 100mb
        assert_equal 104857600 [lindex [r config get maxmemory] 1]
        assert_equal {flash.cache-size-bytes 104857600} [r config get flash.cache-size-bytes]
        r config set maxmemory 0
        assert_error {*can only be set at startup*} {r config set flash.capacity-bytes 1gb}
    }

    test {INFO flash carries valkey-flash's field names} {
        r flushall
        r set ik [string repeat i 100]
        tier_demote ik
        r get ik
        r get ik
        set info [r info flash]
        foreach field {
            flash_cache_hits flash_cache_misses flash_cache_hit_ratio flash_cache_size_bytes
            flash_cache_capacity_bytes flash_eviction_count flash_storage_used_bytes
            flash_storage_free_bytes flash_storage_capacity_bytes flash_tiered_keys
            flash_auto_demotions_total flash_auto_demotions_inflight flash_module_state
            flash_compaction_runs flash_compaction_bytes_reclaimed flash_convert_total
            flash_drain_in_progress flash_drain_last_converted flash_drain_last_skipped
            flash_drain_last_errors flash_drain_last_scanned
        } {
            assert_match "*\r\n$field:*" $info
        }
        assert_equal [tier_stat flash_capacity_bytes] [tier_stat flash_storage_capacity_bytes]
        assert_equal [tier_stat flash_cold_keys] [tier_stat flash_tiered_keys]
        assert_equal [tier_stat flash_used_bytes] [tier_stat flash_storage_used_bytes]
        assert_equal [tier_stat flash_free_bytes] [tier_stat flash_storage_free_bytes]
        assert_equal ready [tier_stat flash_module_state]
        assert_equal [expr {[tier_stat flash_promotions] + [tier_stat flash_sync_promotions]}] \
            [tier_stat flash_cache_misses]
        assert_morethan [tier_stat flash_cache_hits] 0
        assert_match {[01].[0-9][0-9][0-9][0-9]} [tier_stat flash_cache_hit_ratio]
    }
}

start_server {tags {tiering external:skip}} {
    test {Without tiering: FLASH.* data commands work, admin commands answer benignly} {
        r flash.set s v
        assert_equal v [r get s]
        assert_equal 1 [r flash.hset h f v ex 100]
        assert_range [r ttl h] 99 100
        assert_equal ready [r flash.debug.state]
        assert_equal OK [r flash.compaction.trigger]
        assert_equal {compaction_runs:0 bytes_reclaimed:0 free_blocks:0} [r flash.compaction.stats]
        assert_equal 1 [r flash.convert s]
        assert_equal {0 2 0 2} [r flash.drain]
        assert_equal {} [r info flash]
        assert_error {*not enabled*} {r flash.debug.demote s}
    }
}
