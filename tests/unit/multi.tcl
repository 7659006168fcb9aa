# Transactions: MULTI/EXEC/DISCARD, queuing errors (EXECABORT), runtime errors inside EXEC,
# WATCH/UNWATCH invalidation (writes by anyone, expiry, FLUSHALL/FLUSHDB, SWAPDB, RENAME),
# stale (already expired) watched keys, RESET, CLIENT LIST multi/watch, INFO watch fields,
# MONITOR and stats during EXEC, RESP3 replies, blocking commands and CLIENT PAUSE.
#
# The harness selects database 9; tests that use other databases go back to 9.

# Exact reply bytes of a command sent on a raw connection.
proc tx_raw {fd args} {
    return [raw_call $fd $args]
}

# Waits until the wall clock passes ms milliseconds from now (for keys to expire).
proc tx_wait_ms {ms} {
    set until [expr {[clock milliseconds] + $ms}]
    wait_for_condition 1000 5 {[clock milliseconds] > $until} else {
        fail "clock did not advance"
    }
}

# A field of the CLIENT LIST line of a client, asked on another connection (the client
# itself may be inside MULTI, where CLIENT LIST would be queued).
proc tx_client_field {client field} {
    set id [dict get $::tx_client_ids $client]
    set observer [valkey_client]
    set line [lsearch -inline -glob [split [$observer client list id $id] "\n"] "id=$id *"]
    $observer close
    if {![regexp "(?:^| )$field=(\[^ \]*)" $line -> value]} {
        fail "no $field in CLIENT LIST: $line"
    }
    return $value
}

# Remembers the id of a client (a command name such as r or rd1) for tx_client_field.
proc tx_track_client {client} {
    dict set ::tx_client_ids $client [$client client id]
}
set ::tx_client_ids [dict create]

start_server {tags {"multi"}} {
    tx_track_client r
    test {MULTI / EXEC basics} {
        r set a 1
        assert_equal OK [r multi]
        assert_equal QUEUED [r incr a]
        assert_equal QUEUED [r get a]
        assert_equal QUEUED [r ping]
        assert_equal {2 2 PONG} [r exec]
    }

    test {EXEC of an empty transaction is an empty array} {
        r multi
        assert_equal {} [r exec]
        set fd [raw_connect [srv 0 host] [srv 0 port]]
        assert_equal "+OK\r\n" [tx_raw $fd MULTI]
        assert_equal "*0\r\n" [tx_raw $fd EXEC]
        close $fd
    }

    test {DISCARD drops the queued commands} {
        r set a 1
        r multi
        r incr a
        r incr a
        assert_equal OK [r discard]
        assert_equal 1 [r get a]
        # The connection is out of MULTI: commands run again.
        assert_equal 2 [r incr a]
    }

    test {EXEC and DISCARD without MULTI} {
        assert_error {ERR EXEC without MULTI} {r exec}
        assert_error {ERR DISCARD without MULTI} {r discard}
    }

    test {Nested MULTI is refused and aborts the transaction} {
        r set a 1
        r multi
        assert_error {ERR Command not allowed inside a transaction} {r multi}
        r incr a
        assert_error {EXECABORT Transaction discarded because of previous errors.} {r exec}
        assert_equal 1 [r get a]
    }

    test {WATCH inside MULTI is refused and aborts the transaction} {
        r multi
        assert_error {ERR Command not allowed inside a transaction} {r watch x}
        assert_error {EXECABORT*} {r exec}
        # Out of MULTI again.
        assert_equal PONG [r ping]
    }

    test {EXECABORT after an unknown command while queuing} {
        r set a 1
        r multi
        r incr a
        assert_error {ERR unknown command*} {r nosuchcommand foo}
        r incr a
        assert_error {EXECABORT Transaction discarded because of previous errors.} {r exec}
        assert_equal 1 [r get a]
    }

    test {EXECABORT after a wrong number of arguments while queuing} {
        r set a 1
        r multi
        r incr a
        assert_error {ERR wrong number of arguments for 'set' command} {r set x}
        assert_error {EXECABORT*} {r exec}
        assert_equal 1 [r get a]
    }

    test {EXEC with arguments aborts the transaction} {
        r set a 1
        r multi
        r incr a
        assert_error {EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command} {r exec extra}
        # The transaction is gone.
        assert_error {ERR EXEC without MULTI} {r exec}
        assert_equal 1 [r get a]
    }

    test {A doomed transaction still answers QUEUED and keeps nothing} {
        r multi
        catch {r nosuchcommand}
        assert_equal QUEUED [r set x y]
        assert_equal 0 [tx_client_field r multi]
        assert_error {EXECABORT*} {r exec}
    }

    test {Runtime errors inside EXEC do not stop the other commands} {
        r del foo foo2
        set fd [raw_connect [srv 0 host] [srv 0 port]]
        tx_raw $fd SELECT 9
        tx_raw $fd MULTI
        assert_equal "+QUEUED\r\n" [tx_raw $fd SET foo bar]
        assert_equal "+QUEUED\r\n" [tx_raw $fd INCR foo]
        assert_equal "+QUEUED\r\n" [tx_raw $fd SET foo2 baz]
        assert_equal "+QUEUED\r\n" [tx_raw $fd GETEX foo BADOPTION]
        assert_equal "*4\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n-ERR syntax error\r\n" \
            [tx_raw $fd EXEC]
        close $fd
        assert_equal bar [r get foo]
        assert_equal baz [r get foo2]
    }

    test {Commands that rewrite their arguments work inside EXEC} {
        r del k
        r multi
        r set k v ex 100
        r getex k persist
        r set k w px 100000
        r expire k 200
        r getex k pxat [expr {[clock milliseconds] + 300000}]
        r append k x
        assert_equal {OK v OK 1 w 2} [r exec]
        assert_equal wx [r get k]
        assert_range [r ttl k] 250 300
    }

    test {SELECT inside MULTI changes the database of the following commands} {
        r select 10
        r del x
        r select 9
        r set x nine
        r multi
        r select 10
        r set x ten
        r select 9
        r get x
        assert_equal {OK OK OK nine} [r exec]
        r select 10
        assert_equal ten [r get x]
        r del x
        r select 9
    }

    test {EXEC fails when a WATCHed key is modified by another client} {
        r set x 30
        r watch x
        set r2 [valkey_client]
        $r2 set x 40
        $r2 close
        r multi
        r ping
        assert_equal {} [r exec]
        assert_equal 40 [r get x]
    }

    test {EXEC fails on a WATCHed key modified by the same client before MULTI} {
        r set x 30
        r watch x
        r incr x
        r multi
        r incr x
        assert_equal {} [r exec]
        assert_equal 31 [r get x]
    }

    test {EXEC fails on a WATCHed key modified (1 key of 5 watched)} {
        r mset a 1 b 2 c 3 d 4 e 5
        r watch a b c d e
        r incr c
        r multi
        r ping
        assert_equal {} [r exec]
    }

    test {WATCH of a missing key fails EXEC once another client creates it} {
        r del x
        r watch x
        set r2 [valkey_client]
        $r2 set x 1
        $r2 close
        r multi
        r ping
        assert_equal {} [r exec]
    }

    test {WATCH of a missing key that stays missing does not fail EXEC} {
        r del x
        r watch x
        r del x
        r multi
        r ping
        assert_equal PONG [r exec]
    }

    test {Deleting a WATCHed key fails EXEC} {
        r set x 1
        r watch x
        r del x
        r multi
        r ping
        assert_equal {} [r exec]
    }

    test {A failed EXEC is a null array: *-1 in RESP2, _ in RESP3} {
        set fd [raw_connect [srv 0 host] [srv 0 port]]
        tx_raw $fd SELECT 9
        tx_raw $fd SET x 1
        tx_raw $fd WATCH x
        tx_raw $fd SET x 2
        tx_raw $fd MULTI
        tx_raw $fd PING
        assert_equal "*-1\r\n" [tx_raw $fd EXEC]
        tx_raw $fd HELLO 3
        tx_raw $fd WATCH x
        tx_raw $fd SET x 3
        tx_raw $fd MULTI
        tx_raw $fd PING
        assert_equal "_\r\n" [tx_raw $fd EXEC]
        close $fd
    }

    test {After a successful EXEC the key is no longer watched} {
        r set x 30
        r watch x
        r multi
        r ping
        assert_equal PONG [r exec]
        r set x 40
        r multi
        r ping
        assert_equal PONG [r exec]
    }

    test {After a failed EXEC the key is no longer watched} {
        r set x 30
        r watch x
        r set x 40
        r multi
        r ping
        assert_equal {} [r exec]
        r set x 40
        r multi
        r ping
        assert_equal PONG [r exec]
    }

    test {UNWATCH forgets the watched keys} {
        r set x 30
        r watch x
        r set x 40
        assert_equal OK [r unwatch]
        r multi
        r ping
        assert_equal PONG [r exec]
    }

    test {UNWATCH with nothing watched} {
        assert_equal OK [r unwatch]
    }

    test {UNWATCH inside MULTI is queued} {
        r multi
        assert_equal QUEUED [r unwatch]
        assert_equal OK [r exec]
    }

    test {DISCARD releases the watched keys} {
        r set x 10
        r watch x
        r set x 10
        r multi
        r discard
        r multi
        r incr x
        assert_equal 11 [r exec]
    }

    test {WATCH remembers the database of the key} {
        r select 10
        r set x 30
        r watch x
        r select 11
        r set x 10
        r select 10
        r multi
        r ping
        set res [r exec]
        r select 11
        r del x
        r select 10
        r del x
        r select 9
        assert_equal PONG $res
    }

    test {WATCH of a key in another database fails when that key changes} {
        r select 10
        r set x 30
        r watch x
        r select 9
        set r2 [valkey_client]
        $r2 select 10
        $r2 set x 31
        $r2 close
        r multi
        r ping
        assert_equal {} [r exec]
        r select 10
        r del x
        r select 9
    }

    test {RENAME invalidates a WATCH on the source and on the destination} {
        r mset src 1 dst 2
        r watch src
        r rename src dst
        r multi
        r ping
        assert_equal {} [r exec]

        r mset src 1 dst 2
        r watch dst
        r rename src dst
        r multi
        r ping
        assert_equal {} [r exec]
    }

    test {MOVE and COPY invalidate watched keys} {
        r select 10
        r del x
        r select 9
        r set x 1
        r watch x
        r move x 10
        r multi
        r ping
        assert_equal {} [r exec]

        r set src 1
        r del dst
        r watch dst
        r copy src dst
        r multi
        r ping
        assert_equal {} [r exec]
        r select 10
        r del x
        r select 9
    }

    test {Expiry of a WATCHed key fails EXEC (lazy, found at EXEC)} {
        r debug set-active-expire 0
        set res PONG
        # A retry loop in case the machine is slow enough for the key to expire before WATCH.
        for {set j 0} {$j < 10} {incr j} {
            r set x foo px 100
            r watch x
            tx_wait_ms 110
            r multi
            r ping
            set res [r exec]
            if {$res eq {}} break
        }
        r debug set-active-expire 1
        assert_equal {} $res
    }

    test {Expiry of a WATCHed key fails EXEC (deleted by the active expire cycle)} {
        r flushdb
        r set x foo
        r pexpire x 50
        r watch x
        # Only the active cycle may delete it: nothing reads the key meanwhile.
        set before [s expired_keys]
        wait_for_condition 100 10 {[s expired_keys] > $before} else {
            fail "key was not expired by the active cycle"
        }
        assert_equal 0 [r dbsize]
        r multi
        r ping
        assert_equal {} [r exec]
    }

    test {WATCH of a key that was already expired does not fail EXEC} {
        r del x
        r debug set-active-expire 0
        r set x foo px 1
        tx_wait_ms 3
        r watch x
        r multi
        r ping
        set res [r exec]
        r debug set-active-expire 1
        assert_equal PONG $res
    }

    test {Lazy deletion of a WATCHed stale key does not fail EXEC} {
        r del x
        r debug set-active-expire 0
        r set x foo px 1
        tx_wait_ms 3
        r watch x
        assert_equal 0 [r exists x]
        r multi
        r ping
        set res [r exec]
        r debug set-active-expire 1
        assert_equal PONG $res
    }

    test {Setting a WATCHed stale key fails EXEC} {
        r del x
        r debug set-active-expire 0
        r set x foo px 1
        tx_wait_ms 3
        r watch x
        r set x bar
        r multi
        r ping
        set res [r exec]
        r debug set-active-expire 1
        assert_equal {} $res
    }

    test {FLUSHDB while watching a stale key does not fail EXEC} {
        r del x
        r debug set-active-expire 0
        r set x foo px 1
        tx_wait_ms 3
        r watch x
        r flushdb
        r multi
        r ping
        set res [r exec]
        r debug set-active-expire 1
        assert_equal PONG $res
    }

    test {FLUSHALL fails EXEC when a watched key exists} {
        r set x 30
        r watch x
        r flushall
        r multi
        r ping
        assert_equal {} [r exec]
    }

    test {FLUSHALL does not touch a watched key that does not exist} {
        r del x
        r watch x
        r flushall
        r multi
        r ping
        assert_equal PONG [r exec]
    }

    test {FLUSHDB fails EXEC when a watched key exists} {
        r set x 30
        r watch x
        r flushdb
        r multi
        r ping
        assert_equal {} [r exec]
    }

    test {FLUSHDB of another database does not touch the watched keys} {
        r set x 30
        r watch x
        r select 10
        r flushdb
        r select 9
        r multi
        r ping
        assert_equal PONG [r exec]
    }

    test {FLUSHALL while one client watches several keys} {
        r flushall
        r mset a a b b
        r watch b a
        r flushall
        r multi
        r ping
        assert_equal {} [r exec]
    }

    test {SWAPDB fails EXEC when the watched key exists} {
        r flushall
        r set x 30
        r watch x
        r swapdb 9 10
        r multi
        r ping
        assert_equal {} [r exec]
    }

    test {SWAPDB fails EXEC when the watched key appears} {
        r flushall
        r select 10
        r set x 30
        r select 9
        r watch x
        r swapdb 9 10
        r multi
        r ping
        assert_equal {} [r exec]
    }

    test {SWAPDB does not touch watched keys missing on both sides} {
        r flushall
        r set other 1
        r watch x
        r swapdb 9 10
        r multi
        r ping
        assert_equal PONG [r exec]
    }

    test {SWAPDB does not touch a watched stale key replaced by nothing} {
        r flushall
        r debug set-active-expire 0
        r set x foo px 1
        tx_wait_ms 3
        r watch x
        r swapdb 9 10
        r multi
        r ping
        set res [r exec]
        r debug set-active-expire 1
        assert_equal PONG $res
    }

    test {SWAPDB does not touch a missing watched key replaced by a stale key} {
        r flushall
        r debug set-active-expire 0
        r select 10
        r set x foo px 1
        r select 9
        tx_wait_ms 3
        r watch x
        r swapdb 9 10
        r multi
        r ping
        set res [r exec]
        r debug set-active-expire 1
        assert_equal PONG $res
    }

    test {SWAPDB does not touch a stale key replaced by another stale key} {
        r flushall
        r debug set-active-expire 0
        r select 10
        r set x foo px 1
        r select 9
        r set x bar px 1
        tx_wait_ms 3
        r watch x
        r swapdb 9 10
        r multi
        r ping
        set res [r exec]
        r debug set-active-expire 1
        assert_equal PONG $res
    }

    test {WATCH on a dirty transaction does nothing more} {
        r flushall
        r set x 1
        r watch x
        r set x 2
        r watch y z
        assert_equal 0 [tx_client_field r watch]
        r multi
        r ping
        assert_equal {} [r exec]
    }

    test {WATCH of the same key twice counts once} {
        r watch x x y
        assert_equal 2 [tx_client_field r watch]
        r watch y
        assert_equal 2 [tx_client_field r watch]
        r unwatch
        assert_equal 0 [tx_client_field r watch]
    }

    test {CLIENT LIST multi and watch fields} {
        r unwatch
        assert_equal -1 [tx_client_field r multi]
        assert_equal 0 [tx_client_field r watch]
        r watch a b c
        assert_equal 3 [tx_client_field r watch]
        r multi
        assert_equal 0 [tx_client_field r multi]
        r set a 1
        r get a
        assert_equal 2 [tx_client_field r multi]
        assert_morethan [tx_client_field r multi-mem] 0
        assert_match {*x*} [tx_client_field r flags]
        r discard
        assert_equal -1 [tx_client_field r multi]
        assert_equal 0 [tx_client_field r watch]
        assert_equal 0 [tx_client_field r multi-mem]
    }

    test {CLIENT INFO queued inside MULTI reports the transaction at EXEC time} {
        r multi
        r ping
        r client info
        set res [r exec]
        assert_match {*multi=2 *} [lindex $res 1]
        assert_match {*cmd=exec *} [lindex $res 1]
    }

    test {INFO watching_clients and total_watched_keys} {
        r unwatch
        assert_equal 0 [s watching_clients]
        assert_equal 0 [s total_watched_keys]
        set r2 [valkey_client]
        r watch a b
        $r2 watch b c d
        assert_equal 2 [s watching_clients]
        assert_equal 4 [s total_watched_keys]
        # The same key name in another database is another watched key.
        $r2 select 10
        $r2 watch a
        assert_equal 5 [s total_watched_keys]
        r multi
        r exec
        assert_equal 1 [s watching_clients]
        assert_equal 4 [s total_watched_keys]
        # A freed client releases its watches.
        $r2 close
        wait_for_condition 100 10 {[s watching_clients] == 0} else {
            fail "watches of a closed client were kept"
        }
        assert_equal 0 [s total_watched_keys]
    }

    test {A touched key drops the watches of the dirty client} {
        r set a 1
        r watch a b c
        assert_equal 3 [s total_watched_keys]
        r set a 2
        assert_equal 0 [s total_watched_keys]
        assert_equal 0 [s watching_clients]
        r multi
        assert_equal {} [r exec]
    }

    test {RESET drops the transaction and the watched keys} {
        set rd [valkey_client]
        $rd set x 1
        $rd watch x y
        tx_track_client $rd
        $rd multi
        $rd incr x
        assert_equal RESET [$rd reset]
        assert_equal -1 [tx_client_field $rd multi]
        assert_equal 0 [tx_client_field $rd watch]
        assert_error {ERR EXEC without MULTI} {$rd exec}
        $rd select 9
        assert_equal 1 [$rd get x]
        $rd close
        assert_equal 0 [s total_watched_keys]
    }

    test {QUIT inside MULTI closes the connection} {
        set rd [valkey_client]
        $rd multi
        $rd set x y
        assert_equal OK [$rd quit]
        $rd close
    }

    test {Commands inside EXEC are counted in commandstats} {
        r config resetstat
        r multi
        r set a 1
        r incr a
        r incr a
        r exec
        set info [r info commandstats]
        assert_match {*cmdstat_incr:calls=2,*} $info
        assert_match {*cmdstat_set:calls=1,*} $info
        assert_match {*cmdstat_exec:calls=1,*} $info
        assert_match {*cmdstat_multi:calls=1,*} $info
    }

    test {A refused command while queuing counts as rejected} {
        r config resetstat
        r multi
        catch {r multi}
        catch {r exec}
        assert_match {*cmdstat_multi:calls=1,usec=*,rejected_calls=1,failed_calls=0*} [r info commandstats]
    }

    test {Commands inside EXEC reach the slowlog, EXEC itself does not} {
        r config set slowlog-log-slower-than 0
        r slowlog reset
        r multi
        r set slowkey 1
        r exec
        r config set slowlog-log-slower-than 10000
        set names [lmap e [r slowlog get 10] {lindex $e 3 0}]
        assert {[lsearch -exact $names set] >= 0}
        # EXEC itself is skip_slowlog: its commands are logged one by one.
        assert {[lsearch -exact $names exec] < 0}
    }

    test {MONITOR shows MULTI, the queued commands at EXEC time, then EXEC} {
        set rd [valkey_deferring_client]
        $rd monitor
        assert_equal OK [$rd read]
        r multi
        r set foo bar
        r exec
        assert_match {*"multi"*} [$rd read]
        assert_match {*"set"*"foo"*"bar"*} [$rd read]
        assert_match {*"exec"*} [$rd read]

        # An aborted transaction still shows its EXEC.
        r multi
        catch {r syntax error}
        catch {r exec}
        assert_match {*"multi"*} [$rd read]
        assert_match {*"exec"*} [$rd read]

        # So does an EXEC refused before it runs.
        r multi
        catch {r exec extra}
        assert_match {*"multi"*} [$rd read]
        assert_match {*"exec"*"extra"*} [$rd read]
        $rd close
    }

    test {MONITOR inside MULTI is refused} {
        r multi
        r monitor
        assert_error {*MONITOR isn't allowed for DENY BLOCKING client*} {r exec}
        assert_equal PONG [r ping]
    }

    test {RESP3: EXEC replies with the RESP3 types of each command} {
        set fd [raw_connect [srv 0 host] [srv 0 port]]
        tx_raw $fd HELLO 3
        tx_raw $fd SELECT 9
        tx_raw $fd DEL nokey
        tx_raw $fd MULTI
        tx_raw $fd GET nokey
        tx_raw $fd INCRBYFLOAT fl 1.5
        tx_raw $fd PING
        assert_equal "*3\r\n_\r\n\$3\r\n1.5\r\n+PONG\r\n" [tx_raw $fd EXEC]
        # HELLO inside a transaction switches the protocol for what follows.
        tx_raw $fd HELLO 2
        tx_raw $fd MULTI
        tx_raw $fd GET nokey
        tx_raw $fd HELLO 3
        tx_raw $fd GET nokey
        set reply [tx_raw $fd EXEC]
        assert_equal "*3\r\n\$-1\r\n%7\r\n" [string range $reply 0 12]
        assert_equal "_\r\n" [string range $reply end-2 end]
        close $fd
    }

    test {Blocking commands inside MULTI do not block} {
        if {[catch {r command info blpop} info] || [lindex $info 0] eq {}} {
            skip "no BLPOP yet"
        }
        r del emptylist
        r multi
        r blpop emptylist 0
        r ping
        assert_equal {{} PONG} [r exec]
    }

    test {EXEC of a transaction with a write waits for CLIENT PAUSE WRITE} {
        set rd [valkey_deferring_client]
        $rd multi
        assert_equal OK [$rd read]
        $rd set paused 1
        assert_equal QUEUED [$rd read]
        r client pause 100000 write
        $rd exec
        wait_for_condition 100 10 {[string match "*cmd=exec *" [r client list]]} else {
            fail "EXEC was not received"
        }
        # A read-only transaction runs meanwhile.
        set r2 [valkey_client]
        $r2 multi
        $r2 get paused
        assert_equal {{}} [$r2 exec]
        $r2 close
        assert_equal {} [r get paused]
        r client unpause
        assert_equal OK [$rd read]
        assert_equal 1 [r get paused]
        $rd close
    }

    test {Many queued commands and big arguments} {
        r del big
        set value [string repeat x 4000]
        r multi
        for {set j 0} {$j < 200} {incr j} {
            r append big $value
        }
        set res [r exec]
        assert_equal 200 [llength $res]
        assert_equal 800000 [r strlen big]
        r del big
    }

    test {Queued arguments above the big-argument size} {
        # Arguments of 32 KB and more are read straight into their own buffer.
        set fd [raw_connect [srv 0 host] [srv 0 port]]
        fconfigure $fd -buffersize 1000000
        tx_raw $fd SELECT 9
        tx_raw $fd DEL big
        tx_raw $fd MULTI
        set value [string repeat y 100000]
        for {set j 0} {$j < 5} {incr j} {
            assert_equal "+QUEUED\r\n" [tx_raw $fd APPEND big $value]
        }
        assert_equal "+QUEUED\r\n" [tx_raw $fd SET big2 $value]
        assert_equal "*6\r\n:100000\r\n:200000\r\n:300000\r\n:400000\r\n:500000\r\n+OK\r\n" [tx_raw $fd EXEC]
        close $fd
        assert_equal 500000 [r strlen big]
        assert_equal $value [r get big2]
        r del big big2
    }

    test {Pipelined transaction with interleaved WATCH clients} {
        r set counter 0
        set clients {}
        for {set i 0} {$i < 5} {incr i} {
            lappend clients [valkey_client]
        }
        set wins 0
        foreach c $clients {
            $c watch counter
        }
        foreach c $clients {
            set v [$c get counter]
            $c multi
            $c set counter [expr {$v + 1}]
            if {[$c exec] ne {}} {
                incr wins
            }
        }
        foreach c $clients {
            $c close
        }
        assert_equal 1 $wins
        assert_equal 1 [r get counter]
    }
}
