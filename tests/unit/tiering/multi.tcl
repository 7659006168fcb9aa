# Tiering: MULTI/EXEC with cold keys in queued commands (SELECT included), WATCH on cold
# keys (promotion and demotion are not writes; real writes abort), and scripts: declared
# cold keys are promoted before the script runs, undeclared ones are read synchronously
# (flash_sync_promotions).

source [file join $::th_root tests support tiering.tcl]

start_server [list tags {tiering external:skip} overrides [tier_overrides]] {
    set sv [string repeat "m" 50]

    test {Tiering: MULTI/EXEC with cold keys in the queued commands} {
        r flushall
        r set s $sv
        r hset h f1 v1 f2 v2
        r rpush l a b
        foreach k {s h l} {
            tier_demote $k
        }
        set sync [tier_stat flash_sync_promotions]
        r multi
        r get s
        r hgetall h
        r lpush l z
        r lrange l 0 -1
        r append s !
        r type l
        assert_equal [list $sv {f1 v1 f2 v2} 3 {z a b} 51 list] [r exec]
        assert_equal "$sv!" [r get s]
        # All keys were promoted before EXEC ran its commands, not one by one inside it.
        assert_equal [tier_stat flash_sync_promotions] $sync "(flash_sync_promotions)"
        foreach k {s h l} {
            tier_assert_tier hot $k
        }
    }

    test {Tiering: MULTI/EXEC with SELECT between queued commands on cold keys} {
        r flushall
        r set k "db9:$sv"
        r select 10
        r set k "db10:$sv"
        r rpush l10 x y
        tier_demote k
        tier_demote l10
        r select 9
        tier_demote k
        set sync [tier_stat flash_sync_promotions]
        r multi
        r get k
        r select 10
        r get k
        r rpop l10
        r select 9
        r strlen k
        assert_equal [list "db9:$sv" OK "db10:$sv" y OK [expr {4 + [string length $sv]}]] [r exec]
        assert_equal [tier_stat flash_sync_promotions] $sync "(flash_sync_promotions)"
        r select 10
        assert_equal {x} [r lrange l10 0 -1]
        r select 9
    }

    test {Tiering: EXECABORT of a transaction with cold keys leaves them intact} {
        r flushall
        r set k $sv
        tier_demote k
        r multi
        r append k x
        catch {r notacommand}
        assert_error {EXECABORT*} {r exec}
        assert_equal $sv [r get k]
    }

    test {Tiering: WATCH on a cold key: its own promotion does not abort EXEC} {
        r flushall
        r set k $sv
        tier_demote k
        r watch k
        r multi
        r get k
        r append k +
        assert_equal [list $sv 51] [r exec]
    }

    test {Tiering: WATCH on a cold key: another client's read (a promotion) does not abort EXEC} {
        r flushall
        r set k $sv
        tier_demote k
        r watch k
        set c [valkey_client]
        assert_equal $sv [$c get k]
        $c close
        tier_assert_tier hot k
        r multi
        r get k
        assert_equal [list $sv] [r exec]
    }

    test {Tiering: WATCH on a hot key: its demotion does not abort EXEC} {
        r flushall
        r set k $sv
        r watch k
        tier_demote k
        r multi
        r get k
        assert_equal [list $sv] [r exec]
    }

    foreach {what cmd} {
        APPEND {append k x}
        SET {set k other}
        DEL {del k}
        RENAME {rename k k2}
        EXPIRE {expire k 100}
    } {
        test "Tiering: WATCH on a cold key: another client's $what aborts EXEC" {
            r flushall
            r set k $sv
            tier_demote k
            r watch k
            set c [valkey_client]
            $c {*}$cmd
            $c close
            r multi
            r get k
            assert_equal {} [r exec]
        }
    }

    test {Tiering: EVAL reading a declared cold key promotes it before the script} {
        r flushall
        r set k $sv
        r hset h f v
        tier_demote k
        tier_demote h
        set sync [tier_stat flash_sync_promotions]
        set promotions [tier_stat flash_promotions]
        assert_equal [list $sv v] [r eval {return {redis.call('get', KEYS[1]), redis.call('hget', KEYS[2], 'f')}} 2 k h]
        assert_equal [tier_stat flash_sync_promotions] $sync "(flash_sync_promotions)"
        assert_equal [tier_stat flash_promotions] [expr {$promotions + 2}] "(flash_promotions)"
        tier_demote k
        assert_equal 51 [r eval {return redis.call('append', KEYS[1], '.')} 1 k]
        assert_equal "$sv." [r get k]
        tier_demote k
        assert_equal 51 [r eval_ro {return redis.call('strlen', KEYS[1])} 1 k]
        assert_equal [tier_stat flash_sync_promotions] $sync "(flash_sync_promotions)"
    }

    test {Tiering: EVAL reading an undeclared cold key reads it synchronously} {
        r flushall
        r set k $sv
        r rpush l a b c
        tier_demote k
        tier_demote l
        set sync [tier_stat flash_sync_promotions]
        assert_equal $sv [r eval {return redis.call('get', 'k')} 0]
        assert_equal [tier_stat flash_sync_promotions] [expr {$sync + 1}] "(flash_sync_promotions)"
        assert_equal {a b c} [r eval {return redis.call('lrange', ARGV[1], 0, -1)} 0 l]
        assert_equal [tier_stat flash_sync_promotions] [expr {$sync + 2}] "(flash_sync_promotions)"
        tier_assert_tier hot k
        tier_assert_tier hot l
    }

    test {Tiering: FCALL and FCALL_RO on cold keys, declared and not} {
        r flushall
        r function flush
        r function load {#!lua name=tierlib
redis.register_function('tget', function(keys, args) return redis.call('get', keys[1]) end)
redis.register_function{function_name='tlen', callback=function(keys, args) return redis.call('llen', keys[1]) end, flags={'no-writes'}}
redis.register_function('tpush', function(keys, args) return redis.call('rpush', keys[1], args[1]) end)
redis.register_function('tother', function(keys, args) return redis.call('get', args[1]) end)}
        r set k $sv
        r rpush l a b
        tier_demote k
        tier_demote l
        set sync [tier_stat flash_sync_promotions]
        assert_equal $sv [r fcall tget 1 k]
        assert_equal 2 [r fcall_ro tlen 1 l]
        tier_demote l
        assert_equal 3 [r fcall tpush 1 l c]
        assert_equal {a b c} [r lrange l 0 -1]
        assert_equal [tier_stat flash_sync_promotions] $sync "(flash_sync_promotions)"
        tier_demote k
        assert_equal $sv [r fcall tother 0 k]
        assert_equal [tier_stat flash_sync_promotions] [expr {$sync + 1}] "(flash_sync_promotions)"
        r function flush
    }

    test {Tiering: MULTI with EVAL on cold keys} {
        r flushall
        r set k $sv
        tier_demote k
        r multi
        r eval {return redis.call('strlen', KEYS[1])} 1 k
        r get k
        assert_equal [list 50 $sv] [r exec]
    }
}
