# FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT: the primary pauses
# writes, waits for a replica to acknowledge the whole stream, turns into a replica of it
# and sends PSYNC <replid> <offset> FAILOVER, on which the replica becomes the primary.

source [file join $::th_root tests helpers replication.tcl]

proc failover_wait_state {level state} {
    wait_for_condition 200 20 {
        [s $level master_failover_state] eq $state
    } else {
        fail "master_failover_state of level $level is [s $level master_failover_state], not $state"
    }
}

# Waits until the server at `primary` is a primary with the one at `replica` online
# and caught up, and neither is failing over.
proc failover_wait_roles {primary replica} {
    wait_for_condition 300 20 {
        [s $primary role] eq "master" && [s $replica role] eq "slave" &&
        [s $replica master_link_status] eq "up" &&
        [s $primary master_failover_state] eq "no-failover" &&
        [s $replica master_failover_state] eq "no-failover"
    } else {
        fail "roles did not settle: [s $primary role]/[s $replica role]"
    }
    repl_wait_caught_up $primary $replica
}

start_server {tags {"repl failover"}} {
    test "FAILOVER: errors without replicas" {
        assert_error "ERR FAILOVER requires connected replicas." {r failover}
        assert_error "ERR No failover in progress." {r failover abort}
        assert_error "ERR FAILOVER timeout must be greater than 0" {r failover timeout 0}
        assert_error "ERR syntax error" {r failover to 127.0.0.1}
        assert_error "ERR syntax error" {r failover abort force}
        assert_error "ERR syntax error" {r failover timeout 10 timeout 10}
        assert_error "ERR value is not an integer or out of range" {r failover to 127.0.0.1 x}
        assert_equal no-failover [s master_failover_state]
    }

    start_server {} {
        r replicaof [srv -1 host] [srv -1 port]
        repl_wait_online

        test "FAILOVER: errors with a replica" {
            assert_error "ERR FAILOVER is not valid when server is a replica." {r failover}
            assert_error "ERR FAILOVER with force option requires both a timeout and target HOST and IP." \
                {r -1 failover force}
            assert_error "ERR FAILOVER with force option requires both a timeout and target HOST and IP." \
                {r -1 failover to [srv 0 host] [srv 0 port] force}
            assert_error "ERR FAILOVER target HOST and PORT is not a replica." {r -1 failover to 127.0.0.1 1}
            assert_error "ERR PSYNC FAILOVER can't be sent to a master." {r -1 psync ? -1 failover}
            assert_error "ERR PSYNC FAILOVER replid must match my replid." \
                {r psync 0000000000000000000000000000000000000000 1 failover}
            assert_equal master [s -1 role]
            assert_equal slave [s role]
        }

        test "FAILOVER TO the replica: roles swap, no write is lost, the stream goes the other way" {
            for {set i 0} {$i < 100} {incr i} {r -1 set key:$i $i}
            r -1 rpush list a b c
            set digest [r -1 debug digest]
            assert_equal OK [r -1 failover to [srv 0 host] [srv 0 port]]
            failover_wait_roles 0 -1
            assert_equal $digest [r debug digest]
            assert_equal $digest [r -1 debug digest]
            assert_equal [list [srv 0 host] [srv 0 port]] [list [s -1 master_host] [s -1 master_port]]
            r set after-failover 1
            repl_wait_caught_up 0 -1
            assert_equal 1 [r -1 get after-failover]
            assert_error "READONLY*" {r -1 set on-old-primary 1}
        }

        test "FAILOVER to any replica: the first in sync; back to the first primary" {
            assert_equal OK [r failover]
            failover_wait_roles -1 0
            r -1 set back 1
            repl_wait_caught_up -1 0
            assert_equal 1 [r get back]
        }

        test "FAILOVER TIMEOUT: a replica that does not catch up aborts it; paused writes then run" {
            set pid [srv 0 pid]
            exec kill -STOP $pid
            r -1 set unacked 1 ;# in the stream, never acknowledged while stopped
            assert_equal OK [r -1 failover timeout 300]
            assert_equal waiting-for-sync [s -1 master_failover_state]
            set rd [valkey_deferring_client -1]
            $rd set during-wait 1
            after 50
            assert_equal {} [r -1 get during-wait] ;# paused, reads still served
            failover_wait_state -1 no-failover
            assert_equal OK [$rd read]
            $rd close
            exec kill -CONT $pid
            assert_equal master [s -1 role]
            repl_wait_caught_up -1 0
            assert_equal 1 [r get during-wait]
        }

        test "FAILOVER ABORT while waiting; CLIENT UNPAUSE does not lift the failover's pause" {
            set pid [srv 0 pid]
            exec kill -STOP $pid
            r -1 set unacked 2
            assert_equal OK [r -1 failover to [srv 0 host] [srv 0 port]]
            assert_error "ERR FAILOVER already in progress." {r -1 failover}
            assert_error "ERR REPLICAOF not allowed while failing over." {r -1 replicaof no one}
            set rd [valkey_deferring_client -1]
            $rd incr during-abort
            r -1 client unpause
            after 50
            assert_equal {} [r -1 get during-abort]
            assert_equal OK [r -1 failover abort]
            assert_equal no-failover [s -1 master_failover_state]
            assert_equal 1 [$rd read]
            $rd close
            exec kill -CONT $pid
            repl_wait_caught_up -1 0
        }

        test "FAILOVER's write pause outlasts a CLIENT PAUSE ALL: parked reads run when that ends" {
            set pid [srv 0 pid]
            exec kill -STOP $pid
            r -1 set unacked 3
            set rd [valkey_deferring_client -1]
            set wr [valkey_deferring_client -1]
            assert_equal OK [r -1 failover to [srv 0 host] [srv 0 port]]
            r -1 client pause 300 all
            $rd get unacked
            $wr set during-both 1
            # Both park; when the client pause ends the read runs, the write waits on. (This
            # connection sends nothing more until then: it would park too.)
            after 400
            wait_for_blocked_clients_count 1 100 10 -1
            assert_equal 3 [$rd read]
            after 50
            assert_equal {} [r -1 get during-both]
            assert_equal OK [r -1 failover abort]
            assert_equal OK [$wr read]
            $rd close
            $wr close
            exec kill -CONT $pid
            repl_wait_caught_up -1 0
        }

        test "FAILOVER TO ... TIMEOUT ... FORCE hands over even to a replica that was late" {
            set pid [srv 0 pid]
            exec kill -STOP $pid
            r -1 set late 1
            assert_equal OK [r -1 failover to [srv 0 host] [srv 0 port] timeout 200 force]
            wait_for_condition 100 20 {
                [s -1 master_failover_state] eq "failover-in-progress"
            } else {
                fail "the failover did not move on at its deadline"
            }
            assert_equal slave [s -1 role]
            exec kill -CONT $pid
            failover_wait_roles 0 -1
            # FORCE may lose what the replica had not received; both end up the same.
            assert_equal [r debug digest] [r -1 debug digest]
        }
    }
}

# Debian's redis-server 7.0 speaks the same handover: FAILOVER on it hands over to us
# (we accept its PSYNC ... FAILOVER), and ours hands back to it.
set failover_redis_binary [lindex [auto_execok redis-server] 0]
if {$::opt(external)} {
    test "FAILOVER with redis-server 7.0" {
        skip "not run against an external server"
    }
} elseif {$failover_redis_binary eq ""} {
    test "FAILOVER with redis-server 7.0" {
        skip "redis-server is not installed (apt-get install redis-server)"
    }
} else {
    start_server [list tags {"repl failover"} binary $failover_redis_binary overrides \
                      [list save "" repl-diskless-sync-delay 0]] {
        start_server {} {
            r replicaof [srv -1 host] [srv -1 port]
            wait_for_condition 500 20 {[s master_link_status] eq "up"} else {
                fail "no link: [r info replication]"
            }

            test "FAILOVER: redis-server 7.0 hands over to us, and we hand back" {
                r -1 set from-redis 1
                assert_equal OK [r -1 failover]
                failover_wait_roles 0 -1
                r set from-ours 2
                repl_wait_caught_up 0 -1
                assert_equal 2 [r -1 get from-ours]
                assert_equal OK [r failover]
                failover_wait_roles -1 0
                r -1 set from-redis-again 3
                repl_wait_caught_up -1 0
                assert_equal {1 2 3} [r mget from-redis from-ours from-redis-again]
            }
        }
    }
}
