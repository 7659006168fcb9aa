# WAITAOF numlocal numreplicas timeout: blocks until the client's writes are fsynced to
# this server's AOF (numlocal 1) and to the AOF of numreplicas replicas, which report it
# with REPLCONF ACK <offset> FACK <offset>. The reply is [local, replicas] either way.

source [file join $::th_root tests helpers replication.tcl]

# Runs body with the server at level stopped (SIGSTOP), resuming it after.
proc waitaof_with_stopped {level body} {
    set pid [srv $level pid]
    exec kill -STOP $pid
    try {
        uplevel 1 $body
    } finally {
        exec kill -CONT $pid
    }
}

start_server {tags {"repl aof"} overrides {appendonly yes auto-aof-rewrite-percentage 0}} {
    test "WAITAOF: argument errors, in Valkey's order" {
        assert_error "ERR value is out of range, value must between 0 and 1" {r waitaof 2 0 0}
        assert_error "ERR value is not an integer or out of range" {r waitaof x 0 0}
        assert_error "ERR value is out of range, must be positive" {r waitaof 1 -1 0}
        assert_error "ERR timeout is negative" {r waitaof 1 0 -1}
        assert_error "ERR timeout is not an integer or out of range" {r waitaof 1 0 x}
        assert_error "*wrong number of arguments for 'waitaof' command" {r waitaof 1 0}
    }

    test "WAITAOF: without replicas the offset still counts writes, one per command" {
        set before [s master_repl_offset]
        r incr counted
        r incr counted
        assert_equal [expr {$before + 2}] [s master_repl_offset]
        # A transaction: MULTI, both commands, EXEC.
        r multi
        r incr counted
        r incr counted
        r exec
        assert_equal [expr {$before + 6}] [s master_repl_offset]
        # Effects sent to the AOF only do not count, as in Valkey.
        r eval {server.set_repl(server.REPL_AOF); server.call('incr', 'counted')} 0
        assert_equal [expr {$before + 6}] [s master_repl_offset]
        assert_equal 5 [r get counted]
    }

    test "WAITAOF local, appendfsync no: nothing is fsynced, it times out with 0" {
        r config set appendfsync no
        r incr foo
        set start [clock milliseconds]
        assert_equal {0 0} [r waitaof 1 0 80]
        assert_morethan_equal [expr {[clock milliseconds] - $start}] 75
        r config set appendfsync everysec
    }

    test "WAITAOF local, appendfsync everysec: the background fsync releases it" {
        r incr foo
        assert_equal {1 0} [r waitaof 1 0 10000]
    }

    test "WAITAOF local, appendfsync always: answered at once" {
        r config set appendfsync always
        r incr foo
        set start [clock milliseconds]
        assert_equal {1 0} [r waitaof 1 0 10000]
        assert_lessthan [expr {[clock milliseconds] - $start}] 500
        r config set appendfsync everysec
    }

    test "WAITAOF local: a client that wrote nothing since is answered at once" {
        set c [valkey_client]
        assert_equal {1 0} [$c waitaof 1 0 10000]
        $c close
    }

    test "WAITAOF asking for replicas that do not exist times out with the counts" {
        r config set appendfsync always
        r incr foo
        set start [clock milliseconds]
        assert_equal {1 0} [r waitaof 1 1 100]
        assert_morethan_equal [expr {[clock milliseconds] - $start}] 95
        r config set appendfsync everysec
    }

    test "WAITAOF inside MULTI does not block" {
        r config set appendfsync no
        r multi
        r incr foo
        r waitaof 1 1 0
        set res [r exec]
        # The transaction's writes are propagated when EXEC ends, so inside it WAITAOF
        # (like WAIT) sees the client's earlier writes, fsynced by now.
        assert_equal {1 0} [lindex $res 1]
        # After EXEC the transaction's INCR counts, and with appendfsync no it never gets fsynced.
        assert_equal {0 0} [r waitaof 1 0 50]
        r config set appendfsync everysec
    }

    test "WAITAOF blocked on the local fsync gets an error when the AOF is turned off" {
        r config set appendfsync no
        set rd [valkey_deferring_client]
        $rd incr foo
        $rd read
        $rd waitaof 1 0 10000
        wait_for_blocked_client
        r config set appendonly no
        assert_error "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled." {$rd read}
        $rd close
        r config set appendfsync everysec
    }

    test "WAITAOF with the AOF off: numlocal is refused, 0 is answered" {
        r incr foo
        assert_error "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled." {r waitaof 1 0 0}
        assert_equal {0 0} [r waitaof 0 0 10000]
    }

    test "WAITAOF after appendonly yes at runtime waits for the first rewrite" {
        r config set rdb-key-save-delay 2000
        r set x y
        r config set appendonly yes
        # The rewrite's child takes a while: until it is done nothing is fsynced.
        r set x z
        assert_equal {0 0} [r waitaof 1 0 20]
        assert_equal {1 0} [r waitaof 1 0 20000]
        assert_equal 0 [s aof_rewrite_in_progress]
        r config set rdb-key-save-delay 0
    }

    test "WAITAOF is allowed in scripts and does not block there" {
        r incr foo
        assert_equal {1 0} [r eval {return server.call('waitaof', 1, 0, 0)} 0]
    }
}

start_server {tags {"repl aof"} overrides {appendonly yes auto-aof-rewrite-percentage 0 appendfsync always}} {
    start_server {overrides {appendonly yes auto-aof-rewrite-percentage 0}} {
        test "WAITAOF on a primary that turns into a replica is unblocked with an error" {
            set rd [valkey_deferring_client]
            $rd incr foo
            $rd read
            $rd waitaof 0 1 10000
            wait_for_blocked_client
            r replicaof [srv -1 host] [srv -1 port]
            assert_error "UNBLOCKED force unblock from blocking operation,*" {$rd read}
            $rd close
            repl_wait_online
            repl_wait_caught_up
        }

        test "WAITAOF on a replica is refused" {
            assert_error "ERR WAITAOF cannot be used with replica instances. Please also note that writes to replicas are just local and are not propagated." {r waitaof 0 0 0}
        }

        test "WAITAOF counts a replica once its AOF fsynced the write (everysec)" {
            wait_for_condition 100 50 {
                [aof_rewrite_idle]
            } else {
                fail "the replica's AOF rewrite after the full sync did not end"
            }
            r -1 incr foo
            assert_equal {1 1} [r -1 waitaof 1 1 10000]
        }

        test "WAITAOF: a replica with appendfsync no never counts" {
            r config set appendfsync no
            after 1100 ;# an everysec fsync already on its way is done
            r -1 incr foo
            assert_equal {1 0} [r -1 waitaof 0 1 100]
            r config set appendfsync always
            r -1 incr foo
            assert_equal {1 1} [r -1 waitaof 0 1 10000]
        }

        test "WAITAOF: a stopped replica times out, then counts once resumed" {
            waitaof_with_stopped 0 {
                r -1 incr foo
                assert_equal {1 0} [r -1 waitaof 0 1 100]
            }
            assert_equal {1 1} [r -1 waitaof 0 1 10000]
        }

        test "WAITAOF: two clients blocked on a stopped replica are both released" {
            set rd [valkey_deferring_client -1]
            set rd2 [valkey_deferring_client -1]
            waitaof_with_stopped 0 {
                $rd incr foo
                $rd read
                $rd2 incr foo
                $rd2 read
                $rd waitaof 0 1 10000
                $rd2 waitaof 0 1 10000
                wait_for_blocked_clients_count 2 100 10 -1
            }
            assert_equal {1 1} [$rd read]
            assert_equal {1 1} [$rd2 read]
            $rd ping
            assert_equal PONG [$rd read]
            $rd close
            $rd2 close
        }

        test "WAITAOF and WAIT: a replica without AOF counts for WAIT only" {
            r config set appendonly no
            r -1 incr foo
            assert_equal 1 [r -1 wait 1 0]
            assert_equal {1 0} [r -1 waitaof 1 1 100]
            r config set appendonly yes
            wait_for_condition 100 50 {
                [aof_rewrite_idle]
            } else {
                fail "the replica's AOF rewrite did not end"
            }
            r -1 incr foo
            assert_equal {1 1} [r -1 waitaof 1 1 10000]
        }

        test "WAITAOF: a primary without AOF answers 0 for itself, the replica counts" {
            r -1 config set appendonly no
            r -1 incr foo
            assert_equal {0 1} [r -1 waitaof 0 1 10000]
            r -1 config set appendonly yes
            # SHUTDOWN is refused while the initial AOF is being written.
            r -1 incr foo
            assert_equal {1 1} [r -1 waitaof 1 1 20000]
        }
    }
}
