# MIGRATE: Valkey's replies and errors (checked against redis-server 7.0 side by side), the
# RESTORE stream it sends, and what this server adds: the transfer never blocks the event
# loop (only the calling client waits), keys changed during the transfer stay on the
# source, and the waiting client can be unblocked or disconnect safely.
#
# Two kinds of targets: a real server (the outer start_server, `r -1`), and a fake one in
# this test process (ft_*): a listening socket whose connection the test accepts, reads and
# answers by hand, so it decides when, what and whether the target replies.

source [file join $::th_root tests helpers aof_helpers.tcl]

# ---- The fake target ----

proc ft_start {} {
    set ::ft_pending {}
    incr ::ft_generation
    return [socket -server [list ft_accepted $::ft_generation] -myaddr 127.0.0.1 0]
}
set ::ft_generation 0

# Connections to the listener of an earlier test (left open by a failure) are dropped.
proc ft_accepted {generation chan addr port} {
    if {$generation != $::ft_generation} {
        close $chan
        return
    }
    fconfigure $chan -blocking 0 -translation binary -buffering none
    set ::ft_buf($chan) ""
    lappend ::ft_pending $chan
}

proc ft_port {sock} {
    return [lindex [fconfigure $sock -sockname] 2]
}

proc ft_stop {sock} {
    close $sock
    foreach chan [array names ::ft_buf] {
        catch {close $chan}
    }
    array unset ::ft_buf
}

# The next connection the fake target accepted.
proc ft_conn {} {
    set deadline [expr {[clock milliseconds] + 5000}]
    while {![llength $::ft_pending]} {
        if {[clock milliseconds] > $deadline} {
            fail "the fake target got no connection"
        }
        after 5
        update
    }
    set chan [lindex $::ft_pending 0]
    set ::ft_pending [lrange $::ft_pending 1 end]
    return $chan
}

# 1 when a new connection arrives within ms.
proc ft_new_conn_within {ms} {
    set deadline [expr {[clock milliseconds] + $ms}]
    while {[clock milliseconds] < $deadline} {
        update
        if {[llength $::ft_pending]} {
            return 1
        }
        after 5
    }
    return 0
}

# One complete request (a list of arguments) taken from the buffer of chan, or {}.
proc ft_take {chan} {
    set buf $::ft_buf($chan)
    set eol [string first "\r\n" $buf]
    if {$eol < 0} {
        return {}
    }
    set argc [string range $buf 1 [expr {$eol - 1}]]
    set pos [expr {$eol + 2}]
    set cmd {}
    for {set j 0} {$j < $argc} {incr j} {
        set eol [string first "\r\n" $buf $pos]
        if {$eol < 0} {
            return {}
        }
        set len [string range $buf [expr {$pos + 1}] [expr {$eol - 1}]]
        set start [expr {$eol + 2}]
        if {[string length $buf] < $start + $len + 2} {
            return {}
        }
        lappend cmd [string range $buf $start [expr {$start + $len - 1}]]
        set pos [expr {$start + $len + 2}]
    }
    set ::ft_buf($chan) [string range $buf $pos end]
    return $cmd
}

# The next n requests received on chan.
proc ft_commands {chan n} {
    set deadline [expr {[clock milliseconds] + 5000}]
    set cmds {}
    while {[llength $cmds] < $n} {
        set cmd [ft_take $chan]
        if {$cmd ne {}} {
            lappend cmds $cmd
            continue
        }
        if {[eof $chan] || [clock milliseconds] > $deadline} {
            fail "the fake target received [llength $cmds] of $n requests"
        }
        after 5
        append ::ft_buf($chan) [read $chan]
    }
    return $cmds
}

proc ft_reply {chan bytes} {
    puts -nonewline $chan $bytes
    flush $chan
}

# Waits until the other end closed chan.
proc ft_wait_eof {chan} {
    set deadline [expr {[clock milliseconds] + 5000}]
    while {1} {
        append ::ft_buf($chan) [read $chan]
        if {[eof $chan]} {
            return
        }
        if {[clock milliseconds] > $deadline} {
            fail "the connection to the fake target stayed open"
        }
        after 5
    }
}

# A port nobody listens on.
proc closed_port {} {
    set s [socket -server closed_port_accept -myaddr 127.0.0.1 0]
    set port [ft_port $s]
    close $s
    return $port
}
proc closed_port_accept {chan addr port} {close $chan}

proc aof_commands_since {before} {
    return [lrange [aof_file_commands [aof_last_incr [lindex [r config get dir] 1]]] $before end]
}
proc aof_count {} {
    return [llength [aof_file_commands [aof_last_incr [lindex [r config get dir] 1]]]]
}

start_server {tags {"migrate"}} {
start_server {tags {"migrate"} overrides {appendonly yes appendfsync always auto-aof-rewrite-percentage 0}} {
    set thost [srv -1 host]
    set tport [srv -1 port]

    # ---- Replies and errors ----

    test {MIGRATE moves a key: +OK, gone from the source, on the target} {
        r flushall
        r -1 flushall
        r set k v
        assert_equal OK [r migrate $thost $tport k 9 5000]
        assert_equal 0 [r exists k]
        assert_equal v [r -1 get k]
        # The connection to the target stays cached (INFO stats counts it).
        assert_equal 1 [s migrate_cached_sockets]
    }

    test {MIGRATE replies +NOKEY when no key exists} {
        assert_equal NOKEY [r migrate $thost $tport nosuchkey 9 5000]
        assert_equal NOKEY [r migrate $thost $tport "" 9 5000 KEYS a b c]
        assert_equal NOKEY [r migrate $thost $tport "" 9 5000 KEYS]
    }

    test {MIGRATE COPY keeps the source key} {
        r set c1 v1
        assert_equal OK [r migrate $thost $tport c1 9 5000 COPY]
        assert_equal v1 [r get c1]
        assert_equal v1 [r -1 get c1]
    }

    test {MIGRATE relays BUSYKEY without REPLACE; REPLACE overwrites} {
        r set c1 new
        assert_error "ERR Target instance replied with error: BUSYKEY Target key name already exists." \
            {r migrate $thost $tport c1 9 5000}
        assert_equal new [r get c1]
        assert_equal OK [r migrate $thost $tport c1 9 5000 REPLACE]
        assert_equal new [r -1 get c1]
        assert_equal 0 [r exists c1]
        # COPY and REPLACE together, repeated options are accepted.
        r set c1 again
        assert_equal OK [r migrate $thost $tport c1 9 5000 copy copy replace replace]
        assert_equal again [r -1 get c1]
        assert_equal again [r get c1]
    }

    test {MIGRATE argument errors (Valkey's texts and order)} {
        r set k v
        assert_error "ERR value is not an integer or out of range" {r migrate $thost $tport k x 1000}
        assert_error "ERR value is not an integer or out of range" {r migrate $thost $tport k 0 x}
        assert_error "ERR syntax error" {r migrate $thost $tport k 0 1000 foo}
        assert_error "ERR syntax error" {r migrate $thost $tport k 0 x foo}
        assert_error "ERR syntax error" {r migrate $thost $tport k 0 1000 auth}
        assert_error "ERR syntax error" {r migrate $thost $tport k 0 1000 auth2 user}
        assert_error "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string" \
            {r migrate $thost $tport k 0 1000 keys a}
        assert_error "ERR wrong number of arguments for 'migrate' command" {r migrate $thost $tport k 0}
        assert_error "ERR Target instance replied with error: ERR DB index is out of range" \
            {r migrate $thost $tport k 99 1000}
        assert_equal v [r get k]
    }

    test {MIGRATE carries the TTL; a key without one stays persistent} {
        r -1 flushall
        r set t1 v px 100000
        r set t2 v
        assert_equal OK [r migrate $thost $tport "" 9 5000 KEYS t1 t2]
        set ttl [r -1 pttl t1]
        assert {$ttl > 95000 && $ttl <= 100000}
        assert_equal -1 [r -1 pttl t2]
    }

    test {MIGRATE skips keys that have expired} {
        r -1 flushall
        r debug set-active-expire 0
        r set gone v px 1
        r set alive v
        after 20
        assert_equal NOKEY [r migrate $thost $tport gone 9 5000]
        r set gone v px 1
        after 20
        assert_equal OK [r migrate $thost $tport "" 9 5000 KEYS gone alive]
        assert_equal 0 [r -1 exists gone]
        assert_equal v [r -1 get alive]
        r debug set-active-expire 1
    }

    test {MIGRATE round-trips every type and encoding} {
        r flushall
        r -1 flushall
        r set str:int 12345
        r set str:embstr hello
        r set str:raw [string repeat x 200]
        r rpush list:small a b c
        r rpush list:big {*}[lrepeat 200 [string repeat y 100]]
        r hset hash:small f1 v1 f2 v2
        r sadd set:int 1 2 3
        r sadd set:small a b c
        r zadd zset:small 1 a 2 b
        for {set j 0} {$j < 300} {incr j} {
            r hset hash:big f$j [string repeat v 80]
            r sadd set:big m$j
            r zadd zset:big $j m$j
        }
        r pfadd hll a b c d
        r setbit bits 1000 1
        r geoadd geo 13.361389 38.115556 Palermo
        set keys [lsort [r keys *]]
        set digests {}
        foreach key $keys {
            dict set digests $key [r debug digest-value $key]
        }
        assert_equal OK [r migrate $thost $tport "" 9 5000 COPY KEYS {*}$keys]
        foreach key $keys {
            assert_equal [dict get $digests $key] [r -1 debug digest-value $key] "(value of $key)"
            # Short strings load as embstr whatever they were (as in Valkey).
            if {[r type $key] ne "string"} {
                assert_equal [r object encoding $key] [r -1 object encoding $key] "(encoding of $key)"
            }
        }
        r -1 flushall
        assert_equal OK [r migrate $thost $tport "" 9 5000 KEYS {*}$keys]
        assert_equal 0 [r dbsize]
        foreach key $keys {
            assert_equal [dict get $digests $key] [r -1 debug digest-value $key] "(value of $key)"
        }
    }

    test {MIGRATE selects the destination database} {
        r -1 flushall
        r set d1 v1
        r set d2 v2
        assert_equal OK [r migrate $thost $tport d1 3 5000]
        assert_equal OK [r migrate $thost $tport d2 4 5000]
        r -1 select 3
        assert_equal v1 [r -1 get d1]
        r -1 select 4
        assert_equal v2 [r -1 get d2]
        r -1 select 9
        assert_equal 0 [r -1 exists d1]
    }

    test {MIGRATE KEYS: keys the target refused stay, the others move} {
        r flushall
        r -1 flushall
        r mset k1 a k2 b k3 c
        r -1 set k2 x
        assert_error "ERR Target instance replied with error: BUSYKEY*" \
            {r migrate $thost $tport "" 9 5000 KEYS k1 k2 k3}
        assert_equal {k2} [r keys *]
        assert_equal {a x c} [r -1 mget k1 k2 k3]
    }

    test {MIGRATE AUTH to a target without a password: the target's error} {
        r set a1 v
        assert_error "ERR Target instance replied with error: ERR AUTH <password> called without any password configured*" \
            {r migrate $thost $tport a1 9 5000 AUTH wrongpass}
        assert_equal v [r get a1]
    }

    test {MIGRATE AUTH and AUTH2 against a target with a password} {
        r -1 flushall
        r -1 config set requirepass secret
        # Connections made before the password stay authenticated: drop the cached one.
        r -1 client kill type normal skipme yes
        r set a1 v
        assert_error "ERR Target instance replied with error: NOAUTH Authentication required." \
            {r migrate $thost $tport a1 9 5000}
        assert_error "ERR Target instance replied with error: WRONGPASS*" \
            {r migrate $thost $tport a1 9 5000 AUTH bad}
        assert_equal v [r get a1]
        assert_equal OK [r migrate $thost $tport a1 9 5000 COPY AUTH secret]
        assert_equal OK [r migrate $thost $tport a1 9 5000 REPLACE AUTH2 default secret]
        assert_equal 0 [r exists a1]
        assert_equal v [r -1 get a1]
        r -1 config set requirepass ""
    }

    test {MIGRATE propagates the deletions as one DEL, never MIGRATE} {
        r flushall
        r -1 flushall
        r mset p1 a p2 b p3 c
        set before [aof_count]
        assert_equal OK [r migrate $thost $tport "" 9 5000 KEYS p1 p2]
        assert_equal OK [r migrate $thost $tport p3 9 5000 COPY]
        set cmds [aof_commands_since $before]
        assert_equal {} [lsearch -all -inline -nocase -index 0 $cmds migrate]
        assert_equal {{DEL p1 p2}} [lsearch -all -inline -nocase -index 0 $cmds del]
    }

    test {MIGRATE notifies "del" for each moved key} {
        r config set notify-keyspace-events KEg
        set sub [valkey_deferring_client]
        $sub psubscribe __keyevent@9__:del
        $sub read
        r mset n1 a n2 b
        assert_equal OK [r migrate $thost $tport "" 9 5000 KEYS n1 n2]
        assert_equal {pmessage __keyevent@9__:del __keyevent@9__:del n1} [$sub read]
        assert_equal {pmessage __keyevent@9__:del __keyevent@9__:del n2} [$sub read]
        $sub close
        r config set notify-keyspace-events ""
    }

    test {MIGRATE inside MULTI/EXEC and a script runs synchronously} {
        r -1 flushall
        r mset m1 a m2 b
        r multi
        r migrate $thost $tport m1 9 5000
        r get m1
        assert_equal {OK {}} [r exec]
        assert_equal a [r -1 get m1]
        assert_equal OK [r eval {return redis.call('migrate', ARGV[1], ARGV[2], 'm2', 9, 5000)} 0 $thost $tport]
        assert_equal b [r -1 get m2]
        assert_equal 0 [r exists m2]
    }

    test {MIGRATE to this very server: another database moves, the same one keeps the key} {
        r flushall
        r set self v
        set me [srv 0 port]
        assert_error "ERR Target instance replied with error: BUSYKEY*" {r migrate 127.0.0.1 $me self 9 5000}
        assert_equal OK [r migrate 127.0.0.1 $me self 9 5000 REPLACE]
        assert_equal v [r get self]
        assert_equal OK [r migrate 127.0.0.1 $me self 8 5000]
        assert_equal 0 [r exists self]
        r select 8
        assert_equal v [r get self]
        r select 9
    }

    test {MIGRATE redacts AUTH passwords in the slowlog} {
        r config set slowlog-log-slower-than 0
        r slowlog reset
        r set s1 v
        catch {r migrate $thost $tport s1 9 5000 COPY AUTH2 someuser somepass}
        set args {}
        foreach entry [r slowlog get 10] {
            if {[string equal -nocase [lindex $entry 3 0] migrate]} {
                set args [lindex $entry 3]
            }
        }
        r config set slowlog-log-slower-than 10000
        assert_equal {migrate} [lindex $args 0]
        assert_equal 0 [string match *somepass* $args]
        assert_match {*(redacted)*} $args
    }

    test {MIGRATE counts in commandstats once per call, failures too} {
        r config resetstat
        r set cs v
        r migrate $thost $tport cs 9 5000 COPY REPLACE
        catch {r migrate $thost $tport "" 9 5000 KEYS cs foo COPY}
        assert_match {calls=2,*failed_calls=1*} [string range [lsearch -inline [split [r info commandstats] "\r\n"] cmdstat_migrate:*] 16 end]
    }

    # ---- The connection ----

    test {MIGRATE to a port nobody listens on: IOERR writing (as Valkey)} {
        r set k v
        assert_error "IOERR error or timeout writing to target instance" \
            {r migrate 127.0.0.1 [closed_port] k 9 1000}
        assert_error "IOERR error or timeout writing to target instance" {r migrate 127.0.0.1 abc k 9 1000}
        assert_equal v [r get k]
    }

    test {MIGRATE to a host that does not resolve: IOERR connecting} {
        assert_error "IOERR error or timeout connecting to the client" \
            {r migrate nonexistent.invalid 6379 k 9 1000}
    }

    test {MIGRATE does not block the server while the target is silent} {
        set ft [ft_start]
        r set k v
        set rd [valkey_deferring_client]
        set start [clock milliseconds]
        $rd migrate 127.0.0.1 [ft_port $ft] k 9 800
        wait_for_blocked_client
        set t0 [clock milliseconds]
        assert_equal PONG [r ping]
        r set other 1
        assert_equal v [r get k]
        assert {[clock milliseconds] - $t0 < 400}
        assert_equal 1 [s blocked_clients]
        assert_match {*flags=b*cmd=migrate*} [r client list]
        assert_error "IOERR error or timeout reading to target instance" {$rd read}
        assert {[clock milliseconds] - $start >= 750}
        assert_equal 0 [s blocked_clients]
        assert_equal v [r get k]
        $rd ping
        assert_equal PONG [$rd read]
        $rd close
        ft_stop $ft
    } {} {needs:none}

    test {MIGRATE with timeout 0 waits Valkey's default second} {
        set ft [ft_start]
        r set k v
        set start [clock milliseconds]
        assert_error "IOERR error or timeout reading to target instance" {r migrate 127.0.0.1 [ft_port $ft] k 9 0}
        set took [expr {[clock milliseconds] - $start}]
        assert {$took >= 950 && $took < 3000}
        ft_stop $ft
    }

    test {MIGRATE serves other clients while the target sleeps (DEBUG SLEEP)} {
        r -1 flushall
        r set k v
        set sleeper [valkey_deferring_client -1]
        $sleeper debug sleep 1
        after 50
        set rd [valkey_deferring_client]
        $rd migrate $thost $tport k 9 5000
        wait_for_blocked_client
        set t0 [clock milliseconds]
        for {set j 0} {$j < 10} {incr j} {
            assert_equal PONG [r ping]
        }
        assert {[clock milliseconds] - $t0 < 300}
        assert_equal OK [$rd read]
        assert_equal OK [$sleeper read]
        assert_equal v [r -1 get k]
        assert_equal 0 [r exists k]
        $rd close
        $sleeper close
    }

    # ---- What goes over the wire ----

    test {MIGRATE sends AUTH2, SELECT and RESTORE key ttl payload REPLACE} {
        set ft [ft_start]
        r set k v px 100000
        set payload [r dump k]
        set rd [valkey_deferring_client]
        $rd migrate 127.0.0.1 [ft_port $ft] k 5 5000 REPLACE AUTH2 user pass
        set chan [ft_conn]
        set cmds [ft_commands $chan 3]
        assert_equal {AUTH user pass} [lindex $cmds 0]
        assert_equal {SELECT 5} [lindex $cmds 1]
        lassign [lindex $cmds 2] name key ttl sent replace
        assert_equal {RESTORE k REPLACE} [list $name $key $replace]
        assert {$ttl > 95000 && $ttl <= 100000}
        assert_equal $payload $sent
        ft_reply $chan "+OK\r\n+OK\r\n+OK\r\n"
        assert_equal OK [$rd read]
        assert_equal 0 [r exists k]

        # The connection is cached: the same database needs no SELECT, AUTH is sent again.
        r set k2 v2
        $rd migrate 127.0.0.1 [ft_port $ft] k2 5 5000 AUTH pw
        assert_equal {{AUTH pw} {RESTORE k2 0}} [lmap c [ft_commands $chan 2] {lrange $c 0 2}]
        ft_reply $chan "+OK\r\n+OK\r\n"
        assert_equal OK [$rd read]
        assert_equal 0 [ft_new_conn_within 50]

        # Another database: SELECT again.
        r set k3 v3
        $rd migrate 127.0.0.1 [ft_port $ft] k3 6 5000
        assert_equal {{SELECT 6} {RESTORE k3 0}} [lmap c [ft_commands $chan 2] {lrange $c 0 2}]
        ft_reply $chan "+OK\r\n+OK\r\n"
        assert_equal OK [$rd read]

        # The target closes the cached connection: the next MIGRATE opens a new one.
        close $chan
        unset ::ft_buf($chan)
        after 50
        r set k4 v4
        $rd migrate 127.0.0.1 [ft_port $ft] k4 6 5000
        set chan [ft_conn]
        assert_equal {{SELECT 6} {RESTORE k4 0}} [lmap c [ft_commands $chan 2] {lrange $c 0 2}]
        ft_reply $chan "+OK\r\n+OK\r\n"
        assert_equal OK [$rd read]
        $rd close
        ft_stop $ft
    }

    test {MIGRATE: the first error of the target is relayed, accepted keys still move} {
        set ft [ft_start]
        r flushall
        r mset a 1 b 2 c 3
        set rd [valkey_deferring_client]
        $rd migrate 127.0.0.1 [ft_port $ft] "" 9 5000 KEYS a b c
        set chan [ft_conn]
        ft_commands $chan 4
        ft_reply $chan "+OK\r\n+OK\r\n-ERR boom\r\n-ERR second\r\n"
        assert_error "ERR Target instance replied with error: ERR boom" {$rd read}
        assert_equal {b c} [lsort [r keys *]]
        # After an error the target's database is not trusted: SELECT again.
        $rd migrate 127.0.0.1 [ft_port $ft] b 9 5000
        assert_equal {{SELECT 9} {RESTORE b 0}} [lmap c [ft_commands $chan 2] {lrange $c 0 2}]
        ft_reply $chan "-ERR bad db\r\n+OK\r\n"
        assert_error "ERR Target instance replied with error: ERR bad db" {$rd read}
        assert_equal 1 [r exists b] ;# a failed SELECT dooms every key, as in Valkey
        $rd close
        ft_stop $ft
    }

    test {MIGRATE: a target closing mid-way gives IOERR reading; acknowledged keys moved} {
        set ft [ft_start]
        r flushall
        r mset a 1 b 2
        set rd [valkey_deferring_client]
        $rd migrate 127.0.0.1 [ft_port $ft] "" 9 5000 KEYS a b
        set chan [ft_conn]
        ft_commands $chan 3
        ft_reply $chan "+OK\r\n+OK\r\n"
        close $chan
        unset ::ft_buf($chan)
        assert_error "IOERR error or timeout reading to target instance" {$rd read}
        assert_equal {b} [r keys *]
        $rd close
        ft_stop $ft
    }

    test {MIGRATE: a target answering garbage gives IOERR reading} {
        set ft [ft_start]
        r set g v
        set rd [valkey_deferring_client]
        $rd migrate 127.0.0.1 [ft_port $ft] g 9 5000
        set chan [ft_conn]
        ft_commands $chan 2
        ft_reply $chan "?what\r\n"
        assert_error "IOERR error or timeout reading to target instance" {$rd read}
        assert_equal v [r get g]
        $rd close
        ft_stop $ft
    }

    # ---- Keys changed during the transfer ----

    test {MIGRATE keeps a key modified during the transfer, moves the untouched ones} {
        set ft [ft_start]
        r flushall
        r set k v
        r set k2 v2
        set rd [valkey_deferring_client]
        $rd migrate 127.0.0.1 [ft_port $ft] "" 9 5000 KEYS k k2
        set chan [ft_conn]
        ft_commands $chan 3
        r append k x
        ft_reply $chan "+OK\r\n+OK\r\n+OK\r\n"
        assert_error "ERR MIGRATE: key 'k' was modified during the transfer and was kept on the source" {$rd read}
        assert_equal vx [r get k]
        assert_equal 0 [r exists k2]
        $rd close
        ft_stop $ft
    }

    test {MIGRATE: keys changed and changed back, or deleted, during the transfer} {
        set ft [ft_start]
        r flushall
        r set same v
        r set del v
        r set ttl v
        r set many1 a
        r set many2 b
        set rd [valkey_deferring_client]
        $rd migrate 127.0.0.1 [ft_port $ft] "" 9 5000 KEYS same del ttl
        set chan [ft_conn]
        ft_commands $chan 4
        r set same other
        r set same v
        r del del
        r expire ttl 1000
        ft_reply $chan "+OK\r\n+OK\r\n+OK\r\n+OK\r\n"
        # same: what was sent is what is there, it moved; del: gone already; ttl: kept.
        assert_error "ERR MIGRATE: key 'ttl' was modified*" {$rd read}
        assert_equal {ttl} [lsort [r keys {[sdt]*}]]
        # Several keys kept: counted, the first named.
        $rd migrate 127.0.0.1 [ft_port $ft] "" 9 5000 KEYS many1 many2
        ft_commands $chan 2
        r append many1 x
        r append many2 x
        ft_reply $chan "+OK\r\n+OK\r\n"
        assert_error "ERR MIGRATE: 2 keys (the first is 'many1') were modified during the transfer and were kept on the source" {$rd read}
        assert_equal {ax bx} [r mget many1 many2]
        # COPY never deletes anything, changed or not.
        r set cp v
        $rd migrate 127.0.0.1 [ft_port $ft] cp 9 5000 COPY
        ft_commands $chan 1
        r set cp w
        ft_reply $chan "+OK\r\n"
        assert_equal OK [$rd read]
        assert_equal w [r get cp]
        # FLUSHALL during the transfer: nothing left to delete.
        r set fl v
        $rd migrate 127.0.0.1 [ft_port $ft] fl 9 5000
        ft_commands $chan 1
        r flushall
        ft_reply $chan "+OK\r\n"
        assert_equal OK [$rd read]
        $rd close
        ft_stop $ft
    }

    test {MIGRATE completing during a busy script waits for the script to end} {
        set ft [ft_start]
        r flushall
        r set k v
        r config set busy-reply-threshold 50
        set rd [valkey_deferring_client]
        $rd migrate 127.0.0.1 [ft_port $ft] k 9 5000
        set chan [ft_conn]
        ft_commands $chan 2
        set script [valkey_deferring_client]
        # Reads k, spins 400 ms (events are served meanwhile), reads k again.
        $script eval {
            local before = redis.call('exists', KEYS[1])
            local t = redis.call('time')
            local start = t[1] * 1000000 + t[2]
            repeat
                t = redis.call('time')
            until t[1] * 1000000 + t[2] - start > 400000
            return {before, redis.call('exists', KEYS[1])}
        } 1 k
        after 150
        ft_reply $chan "+OK\r\n+OK\r\n"
        assert_equal {1 1} [$script read]
        assert_equal OK [$rd read]
        assert_equal 0 [r exists k]
        r config set busy-reply-threshold 5000
        $script close
        $rd close
        ft_stop $ft
    }

    # ---- The waiting client ----

    test {CLIENT UNBLOCK of a MIGRATE: TIMEOUT gives IOERR, ERROR gives UNBLOCKED; keys stay} {
        set ft [ft_start]
        r set k v
        set rd [valkey_deferring_client]
        $rd client id
        set id [$rd read]
        $rd migrate 127.0.0.1 [ft_port $ft] k 9 5000
        set chan [ft_conn]
        ft_commands $chan 2
        assert_equal 1 [r client unblock $id]
        assert_error "IOERR error or timeout reading to target instance" {$rd read}
        ft_wait_eof $chan
        assert_equal v [r get k]
        assert_equal 0 [s blocked_clients]

        $rd migrate 127.0.0.1 [ft_port $ft] k 9 5000
        set chan [ft_conn]
        ft_commands $chan 2
        assert_equal 1 [r client unblock $id error]
        assert_error "UNBLOCKED client unblocked via CLIENT UNBLOCK" {$rd read}
        ft_wait_eof $chan
        assert_equal v [r get k]
        # The client goes on with its next commands.
        $rd ping
        assert_equal PONG [$rd read]
        $rd close
        ft_stop $ft
    }

    test {A client disconnecting during its MIGRATE: the transfer is dropped} {
        set ft [ft_start]
        r set k v
        set rd [valkey_deferring_client]
        $rd migrate 127.0.0.1 [ft_port $ft] k 9 5000
        set chan [ft_conn]
        ft_commands $chan 2
        $rd close
        ft_wait_eof $chan
        wait_for_blocked_clients_count 0
        assert_equal v [r get k]
        assert_equal PONG [r ping]
        ft_stop $ft
    }

    test {CLIENT KILL during a MIGRATE, and many MIGRATEs at once} {
        set ft [ft_start]
        r flushall
        set clients {}
        for {set j 0} {$j < 8} {incr j} {
            r set key$j v$j
            set rd [valkey_deferring_client]
            $rd migrate 127.0.0.1 [ft_port $ft] key$j 9 5000
            lappend clients $rd
        }
        wait_for_blocked_clients_count 8
        set chans {}
        for {set j 0} {$j < 8} {incr j} {
            lappend chans [ft_conn]
        }
        r client kill type normal skipme yes
        foreach chan $chans {
            ft_wait_eof $chan
        }
        wait_for_blocked_clients_count 0
        assert_equal 8 [r dbsize]
        foreach rd $clients {
            catch {$rd close}
        }
        ft_stop $ft
    }

    test {MIGRATE commands pipelined behind a MIGRATE run in order} {
        r -1 flushall
        r mset o1 a o2 b
        set rd [valkey_deferring_client]
        $rd migrate $thost $tport o1 9 5000
        $rd migrate $thost $tport o2 9 5000
        $rd get o1
        assert_equal OK [$rd read]
        assert_equal OK [$rd read]
        assert_equal {} [$rd read]
        assert_equal {a b} [r -1 mget o1 o2]
        $rd close
    }
}
}
