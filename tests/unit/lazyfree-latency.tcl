# Lazy free keeps the server responsive (issue 5): UNLINK of a hash with a million fields
# returns at once, and a PING sent by another client while the background thread frees
# the hash is answered within 5 ms; DEL of the same hash with lazyfree-lazy-user-del no
# frees it in the command and holds every other client meanwhile.
#
# The hash is built by a Lua script in batches (HSET with 500 fields a call), then copied
# with COPY for each deletion, which is much faster than sending the fields again.

set ::lfl_fields 1000000
set ::lfl_build {
    local key, first, last = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
    local args, n = {}, 0
    for i = first, last do
        args[n + 1] = 'field:' .. i
        args[n + 2] = i
        n = n + 2
        if n == 1000 then
            redis.call('hset', key, unpack(args, 1, n))
            n = 0
        end
    end
    if n > 0 then redis.call('hset', key, unpack(args, 1, n)) end
    return redis.call('hlen', key)
}

proc lfl_build_hash {key fields} {
    set batch 100000
    for {set first 1} {$first <= $fields} {incr first $batch} {
        set last [expr {min($first + $batch - 1, $fields)}]
        r eval $::lfl_build 1 $key $first $last
    }
    assert_equal $fields [r hlen $key]
}

# Sends `cmd key` on one connection and, once the server is surely busy with it (or done,
# when the command is quick), times a PING on another. Returns {reply ping-microseconds}.
proc lfl_ping_behind {cmd key} {
    set rd [valkey_deferring_client]
    set other [valkey_client]
    $other ping
    $rd $cmd $key
    after 2
    set start [clock microseconds]
    assert_equal PONG [$other ping]
    set ping_us [expr {[clock microseconds] - $start}]
    set reply [$rd read]
    $rd close
    $other close
    return [list $reply $ping_us]
}

proc lfl_usec_per_call {cmd} {
    set line [getInfoProperty [r info commandstats] cmdstat_$cmd]
    regexp {usec_per_call=([0-9.]+)} $line -> usec
    return $usec
}

start_server {tags {"lazyfree"}} {
    test "UNLINK of a $::lfl_fields-field hash: a PING behind it within 5 ms, DEL with lazyfree-lazy-user-del no is slower" {
        lfl_build_hash src $::lfl_fields
        assert_encoding hashtable src
        r config set lazyfree-lazy-user-del no
        r config resetstat

        # The best of three attempts: a shared machine adds delays, never removes them.
        set best_unlink_ping 1e9
        for {set attempt 0} {$attempt < 3 && $best_unlink_ping >= 5000} {incr attempt} {
            r copy src big
            set freed [s lazyfreed_objects]
            lassign [lfl_ping_behind unlink big] reply ping_us
            assert_equal 1 $reply
            set best_unlink_ping [expr {min($best_unlink_ping, $ping_us)}]
            assert_equal 0 [r exists big]
            wait_for_condition 500 10 {[s lazyfree_pending_objects] == 0} else {
                fail "the hash is still pending in the lazy-free thread"
            }
            assert_equal [expr {$freed + 1}] [s lazyfreed_objects]
        }
        assert_lessthan $best_unlink_ping 5000 "PING behind UNLINK, microseconds"

        r copy src big
        set freed [s lazyfreed_objects]
        lassign [lfl_ping_behind del big] reply del_ping_us
        assert_equal 1 $reply
        assert_equal $freed [s lazyfreed_objects]
        assert_equal 0 [s lazyfree_pending_objects]

        # In the server: UNLINK hands the hash over in microseconds, DEL frees it all.
        set unlink_usec [lfl_usec_per_call unlink]
        set del_usec [lfl_usec_per_call del]
        assert_lessthan $unlink_usec 1000 "UNLINK usec_per_call"
        assert_morethan $del_usec [expr {10 * $unlink_usec}] "DEL usec_per_call against UNLINK's $unlink_usec"
        assert_morethan $del_ping_us $best_unlink_ping "PING behind DEL against behind UNLINK"
        r config set lazyfree-lazy-user-del yes
    }
}
