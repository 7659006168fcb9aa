# Blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP. Immediate serving,
# blocking and serving in blocking order, timeouts (with their errors and the RESP2/RESP3
# replies), MULTI and CLIENT UNBLOCK, disconnection, BLMOVE chains served in one pass, and
# the INFO counters of the blocking machinery.

# Reads the raw first line of the next reply of a deferring client.
proc blk_read_raw {rd} {
    $rd readraw 1
    set line [$rd read]
    $rd readraw 0
    return $line
}

start_server {tags {"list" "blocking"}} {
    test {BLPOP and BRPOP serve at once from the first non-empty key} {
        r del a b c
        r rpush b 1 2 3
        r rpush c x
        assert_equal {b 1} [r blpop a b c 0]
        assert_equal {b 3} [r brpop a b c 0]
        assert_equal {b 2} [r blpop a b c 1]
        assert_equal {c x} [r brpop a b c 1]
        assert_equal 0 [r exists b c]
    }

    test {BLPOP blocks until another client pushes} {
        r del l
        set rd [valkey_deferring_client]
        $rd blpop l 0
        wait_for_blocked_client
        assert_equal 1 [s blocked_clients]
        assert_equal 1 [s total_blocking_keys]
        assert_equal 0 [s clients_in_timeout_table]
        assert_equal 1 [r rpush l foo]
        assert_equal {l foo} [$rd read]
        assert_equal 0 [r exists l]
        assert_equal 0 [s blocked_clients]
        assert_equal 0 [s total_blocking_keys]
        $rd close
    }

    test {BRPOP blocked on several keys is served by the one that gets data} {
        r del k1 k2 k3
        set rd [valkey_deferring_client]
        $rd brpop k1 k2 k3 0
        wait_for_blocked_client
        assert_equal 3 [s total_blocking_keys]
        r lpush k2 a b
        assert_equal {k2 a} [$rd read]
        assert_equal {b} [r lrange k2 0 -1]
        assert_equal 0 [s total_blocking_keys]
        $rd close
    }

    test {A key named twice counts once} {
        r del l
        set rd [valkey_deferring_client]
        $rd blpop l l l 0
        wait_for_blocked_client
        assert_equal 1 [s total_blocking_keys]
        r rpush l a b
        assert_equal {l a} [$rd read]
        assert_equal {b} [r lrange l 0 -1]
        $rd close
    }

    test {Clients are served in the order they blocked} {
        r del l
        set clients {}
        for {set i 0} {$i < 3} {incr i} {
            set rd [valkey_deferring_client]
            $rd blpop l 0
            wait_for_blocked_clients_count [expr {$i + 1}]
            lappend clients $rd
        }
        r rpush l first
        assert_equal {l first} [[lindex $clients 0] read]
        r rpush l second
        assert_equal {l second} [[lindex $clients 1] read]
        r rpush l third
        assert_equal {l third} [[lindex $clients 2] read]
        foreach rd $clients {
            $rd close
        }
    }

    test {One push of several elements serves several blocked clients} {
        r del l
        set clients {}
        for {set i 0} {$i < 3} {incr i} {
            set rd [valkey_deferring_client]
            $rd blpop l 0
            wait_for_blocked_clients_count [expr {$i + 1}]
            lappend clients $rd
        }
        assert_equal 4 [r rpush l a b c d]
        assert_equal {l a} [[lindex $clients 0] read]
        assert_equal {l b} [[lindex $clients 1] read]
        assert_equal {l c} [[lindex $clients 2] read]
        assert_equal {d} [r lrange l 0 -1]
        foreach rd $clients {
            $rd close
        }
    }

    test {Pipelined commands after a blocked one run once it is served} {
        r del l
        set rd [valkey_deferring_client]
        $rd blpop l 0
        $rd ping
        $rd rpush after 1
        wait_for_blocked_client
        assert_equal 0 [r exists after]
        r rpush l x
        assert_equal {l x} [$rd read]
        assert_equal PONG [$rd read]
        assert_equal 1 [$rd read]
        assert_equal 1 [r exists after]
        r del after
        $rd close
    }

    test {Timeouts: null reply in RESP2 and RESP3, and the counters} {
        r del l
        set rd [valkey_deferring_client]
        $rd blpop l 0.1
        wait_for_blocked_client
        assert_equal 1 [s clients_in_timeout_table]
        assert_equal {*-1} [blk_read_raw $rd]
        assert_equal 0 [s blocked_clients]
        assert_equal 0 [s clients_in_timeout_table]
        $rd brpoplpush l dst 0.05
        assert_equal {*-1} [blk_read_raw $rd]
        $rd blmove l dst left right 0.05
        assert_equal {*-1} [blk_read_raw $rd]
        $rd blmpop 0.05 1 l left
        assert_equal {*-1} [blk_read_raw $rd]
        $rd hello 3
        $rd read
        $rd brpop l 0.05
        assert_equal {_} [blk_read_raw $rd]
        $rd blmove l dst left right 0.05
        assert_equal {_} [blk_read_raw $rd]
        $rd close
    }

    test {A timeout ends the wait on time} {
        set rd [valkey_deferring_client]
        set start [clock milliseconds]
        $rd blpop nolist 0.2
        assert_equal {} [$rd read]
        set elapsed [expr {[clock milliseconds] - $start}]
        assert_range $elapsed 190 1000
        $rd close
    }

    test {Timeout argument errors} {
        assert_error "ERR timeout is not a float or out of range" {r blpop l abc}
        assert_error "ERR timeout is not a float or out of range" {r brpop l 1x}
        assert_error "ERR timeout is not a float or out of range" {r blpop l nan}
        assert_error "ERR timeout is negative" {r blpop l -1}
        assert_error "ERR timeout is negative" {r blpop l -0.01}
        assert_error "ERR timeout is negative" {r blmove l d left left -1}
        assert_error "ERR timeout is negative" {r brpoplpush l d -1}
        assert_error "ERR timeout is negative" {r blmpop -1 1 l left}
        assert_error "ERR timeout is out of range" {r blpop l inf}
        assert_error "ERR timeout is out of range" {r blpop l 1e100}
        assert_error "ERR timeout is out of range" {r blpop l 9223372036854775807}
        assert_error "ERR timeout is out of range" {r blpop l 9223372036854775}
        # The timeout is parsed before any key is looked at.
        r set str foo
        assert_error "ERR timeout is negative" {r blpop str -1}
        # BLMOVE checks its directions first, BLMPOP its numkeys.
        assert_error "ERR syntax error" {r blmove l d up left abc}
        assert_error "ERR numkeys should be greater than 0" {r blmpop abc 0 l left}
    }

    test {BLPOP on a wrong type replies an error at once} {
        r set str foo
        assert_error "WRONGTYPE*" {r blpop str 0}
        assert_error "WRONGTYPE*" {r blmove str x left left 0}
        r del l
        r rpush l a
        # The first existing key decides: a list later in the key list is not reached.
        assert_error "WRONGTYPE*" {r blpop nokey str l 0}
        assert_equal {l a} [r blpop nokey l str 0]
    }

    test {BLMOVE and BRPOPLPUSH block and move the pushed element} {
        r del src dst
        r rpush dst existing
        set rd [valkey_deferring_client]
        $rd blmove src dst right left 0
        wait_for_blocked_client
        r rpush src a b
        assert_equal b [$rd read]
        assert_equal {b existing} [r lrange dst 0 -1]
        assert_equal {a} [r lrange src 0 -1]
        r del src
        $rd brpoplpush src dst 0
        wait_for_blocked_client
        r lpush src c
        assert_equal c [$rd read]
        assert_equal {c b existing} [r lrange dst 0 -1]
        assert_equal 0 [r exists src]
        $rd close
    }

    test {BLMOVE with source = destination} {
        r del l
        set rd [valkey_deferring_client]
        $rd blmove l l left right 0
        wait_for_blocked_client
        r rpush l only
        assert_equal only [$rd read]
        assert_equal {only} [r lrange l 0 -1]
        r rpush l two
        assert_equal only [r blmove l l left right 0]
        assert_equal {two only} [r lrange l 0 -1]
        $rd close
    }

    test {A BLMOVE chain is served in one pass} {
        r del c1 c2 c3 c4
        set rd1 [valkey_deferring_client]
        set rd2 [valkey_deferring_client]
        set rd3 [valkey_deferring_client]
        $rd1 blmove c1 c2 left right 0
        wait_for_blocked_clients_count 1
        $rd2 brpoplpush c2 c3 0
        wait_for_blocked_clients_count 2
        $rd3 blpop c3 0
        wait_for_blocked_clients_count 3
        r rpush c1 token
        assert_equal token [$rd1 read]
        assert_equal token [$rd2 read]
        assert_equal {c3 token} [$rd3 read]
        assert_equal 0 [r exists c1 c2 c3]
        assert_equal 0 [s blocked_clients]
        $rd1 close
        $rd2 close
        $rd3 close
    }

    test {Two BLMOVE clients feeding each other's lists} {
        r del x y
        set rd1 [valkey_deferring_client]
        set rd2 [valkey_deferring_client]
        $rd1 blmove x y left left 0
        wait_for_blocked_clients_count 1
        $rd2 blmove y x left left 0
        wait_for_blocked_clients_count 2
        r lpush x v
        assert_equal v [$rd1 read]
        assert_equal v [$rd2 read]
        assert_equal {v} [r lrange x 0 -1]
        assert_equal 0 [r exists y]
        $rd1 close
        $rd2 close
    }

    test {BLMOVE served into a wrong-typed destination replies WRONGTYPE and keeps the element} {
        r del src
        r set strdst foo
        set rd [valkey_deferring_client]
        $rd blmove src strdst left left 0
        wait_for_blocked_client
        r rpush src a
        assert_error "WRONGTYPE*" {$rd read}
        assert_equal {a} [r lrange src 0 -1]
        $rd close
    }

    test {BLMPOP serves at once, blocks, and pops up to count} {
        r del m1 m2
        r rpush m2 a b c
        assert_equal {m2 {c b}} [r blmpop 0 2 m1 m2 right count 2]
        assert_equal {m2 a} [r blmpop 0 2 m1 m2 left]
        set rd [valkey_deferring_client]
        $rd blmpop 0 2 m1 m2 left count 3
        wait_for_blocked_client
        r rpush m1 1 2 3 4
        assert_equal {m1 {1 2 3}} [$rd read]
        assert_equal {4} [r lrange m1 0 -1]
        $rd blmpop 0 1 m2 right count 10
        wait_for_blocked_client
        r rpush m2 x y
        assert_equal {m2 {y x}} [$rd read]
        assert_equal 0 [r exists m2]
        $rd close
    }

    test {BLMPOP argument errors} {
        assert_error "ERR numkeys should be greater than 0" {r blmpop 0 0 l left}
        assert_error "ERR syntax error" {r blmpop 0 2 l left}
        assert_error "ERR syntax error" {r blmpop 0 1 l middle}
        assert_error "ERR count should be greater than 0" {r blmpop 0 1 l left count 0}
        assert_error "ERR syntax error" {r blmpop 0 1 l left count 1 foo}
        assert_error "ERR timeout is not a float or out of range" {r blmpop x 1 l left}
    }

    test {A key deleted or changed type keeps its clients waiting} {
        r del l
        set rd [valkey_deferring_client]
        $rd blpop l 0
        wait_for_blocked_client
        r set l foo
        r del l
        r sadd l member
        r del l
        r zadd l 1 m
        r del l
        assert_equal 1 [s blocked_clients]
        r rpush l y
        assert_equal {l y} [$rd read]
        $rd close
    }

    test {RENAME and MOVE of a list onto a waited-for key serve the waiter} {
        r del l other
        set rd [valkey_deferring_client]
        $rd blpop l 0
        wait_for_blocked_client
        r rpush other a
        r rename other l
        assert_equal {l a} [$rd read]
        $rd blpop l 0
        wait_for_blocked_client
        r select 10
        r del l
        r rpush l b
        r move l 9
        r select 9
        assert_equal {l b} [$rd read]
        $rd close
    }

    test {SWAPDB serves clients waiting on keys that now exist} {
        r select 10
        r del swapped
        r rpush swapped fromdb10
        r select 9
        r del swapped
        set rd [valkey_deferring_client]
        $rd blpop swapped 0
        wait_for_blocked_client
        if {[catch {r swapdb 9 10} err]} {
            $rd close
            skip "no SWAPDB: $err"
        }
        assert_equal {swapped fromdb10} [$rd read]
        r swapdb 9 10
        $rd close
    }

    test {FLUSHALL leaves blocked clients waiting} {
        set rd [valkey_deferring_client]
        $rd blpop flushed 0
        wait_for_blocked_client
        r flushall
        assert_equal 1 [s blocked_clients]
        r rpush flushed z
        assert_equal {flushed z} [$rd read]
        $rd close
    }

    test {CLIENT UNBLOCK: timeout, error, and not blocked} {
        set rd [valkey_deferring_client]
        $rd client id
        set id [$rd read]
        $rd blpop l 0
        wait_for_blocked_client
        assert_equal 1 [r client unblock $id]
        assert_equal {} [$rd read]
        $rd blmove l d left left 0
        wait_for_blocked_client
        assert_equal 1 [r client unblock $id timeout]
        assert_equal {} [$rd read]
        $rd blmpop 0 1 l left
        wait_for_blocked_client
        assert_equal 1 [r client unblock $id error]
        assert_error "UNBLOCKED client unblocked via CLIENT UNBLOCK" {$rd read}
        assert_equal 0 [r client unblock $id]
        assert_equal 0 [s blocked_clients]
        # The connection goes on normally.
        $rd ping
        assert_equal PONG [$rd read]
        $rd close
    }

    test {A served RESP3 client gets its reply before the keyspace event it caused} {
        r del evl
        r config set notify-keyspace-events KEA
        set rd [valkey_deferring_client]
        $rd hello 3
        $rd read
        $rd subscribe __keyevent@9__:lpop
        if {[catch {$rd read} err]} {
            $rd close
            r config set notify-keyspace-events ""
            skip "no pub/sub: $err"
        }
        $rd blpop evl 0
        wait_for_blocked_client
        r rpush evl x
        assert_equal {evl x} [$rd read]
        assert_equal {message __keyevent@9__:lpop evl} [$rd read]
        $rd close
        r config set notify-keyspace-events ""
    }

    test {A blocked client that disconnects is forgotten} {
        r del l
        set rd [valkey_deferring_client]
        $rd blpop l gone 0
        wait_for_blocked_client
        $rd close
        wait_for_blocked_clients_count 0
        assert_equal 0 [s total_blocking_keys]
        r rpush l kept
        assert_equal {kept} [r lrange l 0 -1]
    }

    test {A client woken without data blocks again with its original deadline} {
        if {[catch {r multi} err]} {
            skip "no MULTI: $err"
        }
        r discard
        r del l
        set rd [valkey_deferring_client]
        set start [clock milliseconds]
        $rd blpop l 0.5
        wait_for_blocked_client
        after 200
        r multi
        r rpush l x
        r lpop l
        r exec
        assert_equal 1 [s blocked_clients]
        assert_equal {} [$rd read]
        set elapsed [expr {[clock milliseconds] - $start}]
        assert_range $elapsed 450 690
        $rd close
    }

    test {Blocking commands inside MULTI do not block} {
        r del l
        if {[catch {r multi} err]} {
            skip "no MULTI: $err"
        }
        r blpop l 0
        r brpop l 0
        r blmove l d left left 0
        r brpoplpush l d 0
        r blmpop 0 1 l left
        assert_equal {{} {} {} {} {}} [r exec]
        # BLMOVE answers a null bulk, not the null array of a timeout.
        set rd [valkey_deferring_client]
        $rd multi
        $rd blmove l d left left 0
        $rd blpop l 0
        $rd exec
        $rd read
        $rd read
        $rd read
        $rd readraw 1
        assert_equal {*2} [$rd read]
        assert_equal {$-1} [$rd read]
        assert_equal {*-1} [$rd read]
        $rd close
    }

    test {A push and a pop inside one MULTI leave the waiter blocked; a push alone serves it} {
        if {[catch {r multi} err]} {
            skip "no MULTI: $err"
        }
        r discard
        r del l
        set rd [valkey_deferring_client]
        $rd blpop l 0
        wait_for_blocked_client
        r multi
        r rpush l a
        r lpop l
        assert_equal {1 a} [r exec]
        assert_equal 1 [s blocked_clients]
        r multi
        r rpush l b c
        r rpush l d
        r exec
        assert_equal {l b} [$rd read]
        assert_equal {c d} [r lrange l 0 -1]
        $rd close
    }

    test {MULTI with a blocking command that finds data pops} {
        if {[catch {r multi} err]} {
            skip "no MULTI: $err"
        }
        r discard
        r del l
        r rpush l a b
        r multi
        r blpop l 0
        r brpop l 0
        r blpop l 0
        assert_equal {{l a} {l b} {}} [r exec]
    }

    test {Blocking on many keys and timing out cleans every key} {
        set keys {}
        for {set i 0} {$i < 100} {incr i} {
            lappend keys "many:$i"
        }
        set rd [valkey_deferring_client]
        $rd blpop {*}$keys 0.05
        assert_equal {} [$rd read]
        assert_equal 0 [s total_blocking_keys]
        $rd blpop {*}$keys 0
        wait_for_blocked_client
        assert_equal 100 [s total_blocking_keys]
        r rpush many:57 x
        assert_equal {many:57 x} [$rd read]
        assert_equal 0 [s total_blocking_keys]
        $rd close
    }

    test {Many clients with mixed deadlines time out in deadline order} {
        set clients {}
        foreach t {0.3 0.1 0.2} {
            set rd [valkey_deferring_client]
            $rd blpop deadline $t
            lappend clients $rd
        }
        wait_for_blocked_clients_count 3
        assert_equal 3 [s clients_in_timeout_table]
        # The 0.1 s client goes first: the two others still block right after.
        assert_equal {} [[lindex $clients 1] read]
        assert_range [s blocked_clients] 1 2
        assert_equal {} [[lindex $clients 2] read]
        assert_equal {} [[lindex $clients 0] read]
        assert_equal 0 [s clients_in_timeout_table]
        foreach rd $clients {
            $rd close
        }
    }
}
