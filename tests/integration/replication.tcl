# Replication: full syncs, the command stream, the replica's rules (read-only, stale data,
# expiry left to the primary), WAIT, ROLE, INFO replication, REPLCONF and the directives,
# and Debian's redis-server 7.0 as a primary of ours.
#
# Partial resynchronization and the backlog are in replication-psync.tcl; replicas with
# tiering in replication-tiering.tcl.

source [file join $::th_root tests helpers replication.tcl]
source [file join $::th_root tests helpers rdb_data.tcl]

start_server {tags {"repl"}} {
    test "REPLCONF: options, errors, and no reply to ACK and GETACK" {
        set c [valkey_client]
        $c readraw 1
        assert_equal +OK [$c replconf]
        assert_equal "-ERR syntax error" [$c replconf foo]
        assert_equal "-ERR Unrecognized REPLCONF option: foo" [$c replconf foo bar]
        assert_equal "-ERR value is not an integer or out of range" [$c replconf listening-port abc]
        assert_equal +OK [$c replconf listening-port 1234 capa eof capa psync2 capa unknown]
        assert_equal +OK [$c replconf ip-address 10.0.0.1]
        assert_match "-ERR REPLCONF ip-address provided by replica instance is too long*" \
            [$c replconf ip-address [string repeat 1 100]]
        # ACK from a client that is not a replica, GETACK on a primary: silence.
        $c write "*3\r\n\$8\r\nREPLCONF\r\n\$3\r\nACK\r\n\$2\r\n10\r\n"
        $c write "*3\r\n\$8\r\nREPLCONF\r\n\$6\r\nGETACK\r\n\$1\r\n*\r\n"
        $c write "*1\r\n\$4\r\nPING\r\n"
        $c flush
        assert_equal +PONG [$c read]
        $c close
    }

    test "SYNC and PSYNC refuse a client with replies still pending" {
        set c [valkey_deferring_client]
        $c readraw 1
        $c write "*1\r\n\$4\r\nPING\r\n*3\r\n\$5\r\nPSYNC\r\n\$1\r\n?\r\n\$2\r\n-1\r\n"
        $c flush
        assert_equal +PONG [$c read]
        assert_equal "-ERR SYNC and PSYNC are invalid with pending output" [$c read]
        $c close
    }

    test "PSYNC with an offset that is not a number" {
        assert_error "*value is not an integer*" {r psync ? abc}
    }

    test "WAIT on a primary without replicas, argument errors" {
        r set k v
        assert_equal 0 [r wait 0 0]
        assert_equal 0 [r wait 1 20]
        assert_error "*value is not an integer*" {r wait x 0}
        assert_error "*timeout is not an integer*" {r wait 1 x}
        assert_error "*timeout is negative*" {r wait 1 -1}
    }

    test "Directives: Valkey 8 defaults and the old names" {
        foreach {name value} {
            repl-backlog-size 10485760 repl-backlog-ttl 3600 repl-timeout 60
            repl-ping-replica-period 10 repl-ping-slave-period 10 repl-diskless-sync yes
            repl-diskless-sync-delay 5 repl-diskless-load disabled replica-read-only yes
            slave-read-only yes replica-serve-stale-data yes replica-priority 100
            replica-announce-ip "" replica-announce-port 0 min-replicas-to-write 0
            min-replicas-max-lag 10 masterauth "" primaryauth "" masteruser "" replicaof ""
            slaveof "" replica-ignore-maxmemory yes replica-lazy-flush yes replica-announced yes
            repl-disable-tcp-nodelay no dual-channel-replication-enabled no
        } {
            assert_equal [list $name $value] [r config get $name] "(CONFIG GET $name)"
        }
        assert_error "*can't set immutable config*" {r config set replicaof "127.0.0.1 1"}
        r config set repl-backlog-size 1mb
        assert_equal {repl-backlog-size 1048576} [r config get repl-backlog-size]
        assert_equal 1048576 [s repl_backlog_size]
        r config set repl-backlog-size 10mb
        r config set masterauth secret
        assert_equal {primaryauth secret} [r config get primaryauth]
        r config set masterauth ""
    }

    test "INFO replication of a primary: Valkey 8's fields in order" {
        assert_equal [list {*}{role connected_slaves replicas_waiting_psync master_failover_state master_replid
            master_replid2 master_repl_offset second_repl_offset repl_backlog_active repl_backlog_size
            repl_backlog_first_byte_offset repl_backlog_histlen}] [repl_info_fields [r info replication]]
        assert_equal master [s role]
        assert_equal 40 [string length [s master_replid]]
        assert_equal [string repeat 0 40] [s master_replid2]
        assert_equal -1 [s second_repl_offset]
        assert_equal {master 0 {}} [r role]
    }
}

start_server {tags {"repl"}} {
    # Data in three databases before the replica exists.
    r select 0
    r set db0key zero
    r select 9
    rdb_populate r 1
    r select 12
    r hset h12 a 1 b 2
    r select 9

    start_server {} {
        test "REPLICAOF: a full sync gives the replica the primary's data" {
            assert_equal OK [r replicaof [srv -1 host] [srv -1 port]]
            repl_wait_online
            assert_equal [r -1 debug digest] [r debug digest]
            assert_equal 1 [repl_stat sync_full -1]
            assert_equal slave [s role]
            assert_equal up [s master_link_status]
            assert_equal [s -1 master_replid] [s master_replid]
            r select 0
            assert_equal zero [r get db0key]
            r select 9
        }

        test "REPLICAOF the same primary again is a no-op" {
            assert_equal "OK Already connected to specified master" [r replicaof [srv -1 host] [srv -1 port]]
            assert_error "*Invalid master port*" {r replicaof 127.0.0.1 70000}
            assert_error "*Invalid master port*" {r replicaof 127.0.0.1 notaport}
        }

        test "The stream: writes, databases, transactions, expiry and flushes" {
            r -1 set k1 v1
            r -1 incrby counter 5
            r -1 rpush list a b c
            r -1 lpop list
            r -1 hset h f1 v1 f2 v2
            r -1 zadd z 1 a 2 b
            r -1 sadd s x y z
            r -1 set ex v ex 1000
            r -1 select 3
            r -1 set in3 three
            r -1 select 9
            r -1 multi
            r -1 set t1 a
            r -1 incr counter
            r -1 exec
            r -1 eval {redis.call('set', 'fromscript', 'yes'); return 1} 0
            r -1 flushdb
            r -1 set after-flush 1
            repl_wait_caught_up
            repl_wait_same_digest
            assert_equal 1 [r get after-flush]
            assert_equal {} [r get k1]
            r select 3
            assert_equal three [r get in3]
            r select 9
        }

        test "INFO replication of a replica: Valkey 8's fields in order" {
            assert_equal [list {*}{role master_host master_port master_link_status master_last_io_seconds_ago
                master_sync_in_progress slave_read_repl_offset slave_repl_offset replicas_repl_buffer_size
                replicas_repl_buffer_peak slave_priority slave_read_only replica_announced connected_slaves
                replicas_waiting_psync master_failover_state master_replid master_replid2 master_repl_offset
                second_repl_offset repl_backlog_active repl_backlog_size repl_backlog_first_byte_offset
                repl_backlog_histlen}] [repl_info_fields [r info replication]]
            assert_equal [srv -1 port] [s master_port]
            assert_equal [s master_repl_offset] [s slave_repl_offset]
            set line [getInfoProperty [r -1 info replication] slave0]
            assert_match "ip=127.0.0.1,port=[srv 0 port],state=online,offset=*,lag=*" $line
            assert_equal 1 [s -1 connected_slaves]
        }

        test "ROLE on the primary and on the replica" {
            repl_wait_caught_up
            r -1 wait 1 1000
            set role [r -1 role]
            assert_equal master [lindex $role 0]
            assert_equal [s -1 master_repl_offset] [lindex $role 1]
            assert_equal 1 [llength [lindex $role 2]]
            lassign [lindex [lindex $role 2] 0] ip port offset
            assert_equal [list 127.0.0.1 [srv 0 port]] [list $ip $port]
            # Acknowledged up to the GETACK that WAIT sent, which is itself in the stream.
            assert_range $offset 1 [s -1 master_repl_offset]
            assert_equal [list slave [srv -1 host] [srv -1 port] connected [s master_repl_offset]] [r role]
        }

        test "CLIENT LIST flags: S on the primary, M on the replica" {
            assert_match "*flags=S *" [r -1 client list type replica]
            assert_match "*flags=M *cmd=* user=(superuser)*" [r client list type master]
            assert_equal 1 [llength [split [string trim [r -1 client list type slave]] "\n"]]
        }

        test "A read-only replica refuses writes, and replica-read-only no takes them" {
            assert_error "READONLY You can't write against a read only replica." {r set x 1}
            assert_error "READONLY*" {r incr counter}
            r multi
            catch {r set x 1} err
            assert_match "READONLY*" $err
            assert_error "EXECABORT*" {r exec}
            assert_equal 1 [r get after-flush]
            r config set replica-read-only no
            assert_equal OK [r set local-write 1]
            r del local-write
            r config set replica-read-only yes
        }

        test "WAIT: the replica's ACK counts; more replicas than exist time out" {
            r -1 set w 1
            assert_equal 1 [r -1 wait 1 2000]
            set start [clock milliseconds]
            assert_equal 1 [r -1 wait 2 150]
            assert_morethan_equal [expr {[clock milliseconds] - $start}] 140
            assert_error "*WAIT cannot be used with replica instances*" {r wait 1 0}
        }

        test "WAIT blocks; CLIENT UNBLOCK ... TIMEOUT answers with the count so far" {
            set rd [valkey_deferring_client -1]
            $rd client id
            set id [$rd read]
            $rd wait 2 0
            wait_for_blocked_client -1
            assert_equal 1 [r -1 client unblock $id timeout]
            assert_equal 1 [$rd read]
            $rd close
        }

        test "Logically expired keys: nil on the replica until the primary's DEL" {
            r -1 debug set-active-expire 0
            set keys [r dbsize]
            r -1 set shortlived v px 50
            repl_wait_caught_up
            after 120
            # The replica does not delete it (it waits for the primary) but hides it.
            assert_equal {} [r get shortlived]
            assert_equal 0 [r exists shortlived]
            r debug set-active-expire 1
            after 150
            assert_equal [expr {$keys + 1}] [r dbsize] "(the replica keeps the key for its primary to delete)"
            # The primary expires it on access and streams the DEL.
            assert_equal {} [r -1 get shortlived]
            repl_wait_caught_up
            assert_equal $keys [r dbsize]
            r -1 debug set-active-expire 1
        }

        test "CLIENT KILL TYPE master: the replica resumes with a partial resync" {
            set ok [repl_stat sync_partial_ok -1]
            assert_equal 1 [r client kill type master]
            r -1 set during-drop 1
            repl_wait_online
            repl_wait_caught_up
            assert_equal [expr {$ok + 1}] [repl_stat sync_partial_ok -1]
            assert_equal 1 [repl_stat sync_full -1]
            assert_equal 1 [r get during-drop]
            repl_wait_same_digest
        }

        test "CLIENT KILL TYPE replica on the primary: the replica comes back with +CONTINUE" {
            set ok [repl_stat sync_partial_ok -1]
            assert_equal 1 [r -1 client kill type replica]
            r -1 rpush after-kill x
            repl_wait_online
            repl_wait_caught_up
            assert_equal [expr {$ok + 1}] [repl_stat sync_partial_ok -1]
            assert_equal x [r lindex after-kill 0]
        }

        test "INFO memory and stats count replication" {
            assert_morethan [getInfoProperty [r -1 info memory] mem_replication_backlog] 0
            assert_morethan [getInfoProperty [r -1 info memory] mem_clients_slaves] 0
            assert_morethan [repl_stat total_net_repl_output_bytes -1] 0
            assert_morethan [repl_stat total_net_repl_input_bytes 0] 0
        }

        test "REPLICAOF NO ONE keeps the data and starts a new history" {
            set oldid [s master_replid]
            set offset [s master_repl_offset]
            assert_equal OK [r replicaof no one]
            assert_equal master [s role]
            assert_equal $oldid [s master_replid2]
            assert_equal [expr {$offset + 1}] [s second_repl_offset]
            assert_not_equal $oldid [s master_replid]
            assert_equal 1 [r get after-flush]
            assert_equal OK [r set now-writable 1]
            assert_equal OK [r replicaof no one]
            # The old primary lost its replica.
            wait_for_condition 100 20 {[s -1 connected_slaves] == 0} else {
                fail "the primary still lists its replica"
            }
        }
    }
}

start_server {tags {"repl"}} {
    start_server {} {
        test "SYNC (the old protocol): no +FULLRESYNC, the RDB then the stream" {
            r -1 set before-sync 1
            set fd [socket [srv -1 host] [srv -1 port]]
            fconfigure $fd -translation binary -blocking 1
            puts -nonewline $fd "*1\r\n\$4\r\nSYNC\r\n"
            flush $fd
            # Keep-alive newlines may come first.
            while {[set line [gets $fd]] eq ""} {}
            assert_match {$*} $line
            set len [string range [string trim $line] 1 end]
            set rdb [read $fd $len]
            assert_equal REDIS0011 [string range $rdb 0 8]
            r -1 set after-sync 2
            wait_for_condition 100 20 {[s -1 connected_slaves] == 1} else { fail "no replica" }
            fconfigure $fd -blocking 0
            set stream ""
            wait_for_condition 100 20 {
                [string match "*after-sync*" [append stream [read $fd]]]
            } else {
                fail "the stream did not follow the RDB: $stream"
            }
            assert_match "*SELECT*9*set*after-sync*" $stream
            close $fd
        }
    }
}

start_server {tags {"repl"}} {
    start_server {overrides {replica-announce-ip 10.1.2.3 replica-announce-port 4567 replica-priority 7}} {
        test "replica-announce-ip and -port: what the primary lists; replica-priority in INFO" {
            repl_attach
            set line [getInfoProperty [r -1 info replication] slave0]
            assert_match "ip=10.1.2.3,port=4567,state=online,*" $line
            r -1 wait 1 1000
            assert_equal {10.1.2.3 4567} [lrange [lindex [lindex [r -1 role] 2] 0] 0 1]
            assert_equal 7 [s slave_priority]
        }
    }
}

start_server {tags {"repl"}} {
    r set fromconfig yes
    start_server [list overrides [list replicaof "[srv 0 host] [srv 0 port]"]] {
        test "The replicaof directive of the config file" {
            repl_wait_online
            assert_equal yes [r get fromconfig]
            assert_equal [list replicaof "[srv -1 host] [srv -1 port]"] [r config get replicaof]
        }
    }
}

start_server {tags {"repl"}} {
    r set secret-data 1
    r config set requirepass s3cret
    r auth s3cret
    start_server {} {
        test "masterauth: without it the primary refuses, with it the replica syncs" {
            r replicaof [srv -1 host] [srv -1 port]
            after 300
            assert_equal down [s master_link_status]
            r config set masterauth s3cret
            repl_wait_online
            assert_equal 1 [r get secret-data]
        }

        test "masteruser and masterauth: AUTH user password" {
            r config set masteruser default
            r replicaof no one
            r replicaof [srv -1 host] [srv -1 port]
            repl_wait_online
            assert_equal 1 [r get secret-data]
        }
    }
}

start_server {tags {"repl"}} {
    test "replica-serve-stale-data no: MASTERDOWN while the link is down" {
        r set stale 1
        r replicaof 127.0.0.1 1
        assert_equal 1 [r get stale]
        assert_equal down [s master_link_status]
        r config set replica-serve-stale-data no
        assert_error "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'." {r get stale}
        # Commands flagged stale still run.
        assert_match "*role:slave*" [r info replication]
        assert_error "MASTERDOWN*" {r ping}
        assert_equal {slave 127.0.0.1 1} [lrange [r role] 0 2]
        assert_match {connect*} [lindex [r role] 3]
        assert_equal -1 [lindex [r role] 4]
        assert_equal -1 [s master_link_down_since_seconds]
        r config set replica-serve-stale-data yes
        r replicaof no one
        assert_equal 1 [r get stale]
    }

    test "replica-serve-stale-data no: EXEC refused when a queued command is not allowed on stale data" {
        r set stale 1
        r replicaof 127.0.0.1 1
        set other [valkey_client]
        r multi
        assert_equal QUEUED [r get stale]
        assert_equal QUEUED [r ping]
        # The data went stale between queuing and EXEC.
        $other config set replica-serve-stale-data no
        assert_error "EXECABORT Transaction discarded because of: MASTERDOWN Link with MASTER is down*" {r exec}
        # A transaction of stale-safe commands only still runs.
        r multi
        assert_equal QUEUED [r info server]
        assert_match "*# Server*" [lindex [r exec] 0]
        $other config set replica-serve-stale-data yes
        $other close
        r replicaof no one
        assert_equal 1 [r get stale]
    }

    test "Scripts on a read-only replica: writes refused, reads and no-writes scripts run; HELLO says replica" {
        r set stale 1
        r replicaof 127.0.0.1 1
        # A script without a shebang runs, and its write fails where it happens.
        assert_error "READONLY You can't write against a read only replica. script: *" \
            {r eval "return redis.call('set','a','b')" 0}
        # One that declares writes is refused before it runs.
        assert_error "READONLY You can't write against a read only replica." \
            {r eval "#!lua\nreturn redis.call('set','a','b')" 0}
        assert_equal 1 [r eval "return redis.call('get','stale')" 0]
        assert_equal 1 [r eval "#!lua flags=no-writes\nreturn redis.call('get','stale')" 0]
        assert_equal 0 [r exists a]
        assert_equal replica [dict get [r hello 2] role]
        r replicaof no one
        assert_equal master [dict get [r hello 2] role]
        assert_equal OK [r eval "return redis.call('set','a','b')" 0]
    }

    test "min-replicas-to-write: NOREPLICAS without enough good replicas" {
        r config set min-replicas-to-write 1
        assert_error "NOREPLICAS Not enough good replicas to write." {r set x 1}
        assert_error "NOREPLICAS Not enough good replicas to write. script: *" \
            {r eval "return redis.call('set','x','1')" 0}
        assert_error "NOREPLICAS Not enough good replicas to write." {r eval "#!lua\nreturn redis.call('set','x','1')" 0}
        assert_equal 0 [r exists x]
        assert_equal 1 [r get stale]
        assert_equal 0 [s min_slaves_good_slaves]
        r config set min-replicas-to-write 0
        assert_equal OK [r set x 1]
    }
}

start_server {tags {"repl"}} {
    start_server {} {
        start_server {} {
            test "Writes during a slow full sync are streamed after the RDB; a second replica shares the save" {
                set primary -2
                r $primary debug populate 2000 key 10
                # Slow the child: 2000 keys at 500 us each.
                r $primary config set rdb-key-save-delay 500
                r -1 replicaof [srv $primary host] [srv $primary port]
                wait_for_condition 100 10 {[s $primary rdb_bgsave_in_progress] == 1} else { fail "no save" }
                r $primary set during-save 1
                r replicaof [srv $primary host] [srv $primary port]
                r $primary rpush during-save-list a b
                wait_for_condition 100 10 {
                    [string match "*slave1:*state=wait_bgsave*" [r $primary info replication]]
                } else {
                    fail "the second replica is not waiting: [r $primary info replication]"
                }
                r $primary config set rdb-key-save-delay 0
                repl_wait_online $primary -1
                repl_wait_online $primary 0
                repl_wait_caught_up $primary -1
                repl_wait_caught_up $primary 0
                assert_equal 1 [repl_stat total_forks $primary]
                assert_equal 2 [repl_stat sync_full $primary]
                repl_wait_same_digest $primary -1
                repl_wait_same_digest $primary 0
                assert_equal {a b} [r lrange during-save-list 0 -1]
            }

            test "WAIT 2 with two replicas" {
                r -2 set w 1
                assert_equal 2 [r -2 wait 2 2000]
            }
        }
    }
}

start_server {tags {"repl"} overrides {client-output-buffer-limit {replica 64kb 0 0}}} {
    start_server {} {
        test "client-output-buffer-limit replica: a replica whose buffer grows too big is dropped" {
            r -1 debug populate 1000 key 10
            r -1 config set rdb-key-save-delay 2000
            r replicaof [srv -1 host] [srv -1 port]
            wait_for_condition 100 10 {[s -1 rdb_bgsave_in_progress] == 1} else { fail "no save" }
            set big [string repeat x 20000]
            for {set i 0} {$i < 10} {incr i} {
                r -1 set big$i $big
            }
            wait_for_condition 100 20 {[repl_stat client_output_buffer_limit_disconnections -1] >= 1} else {
                fail "the replica was not disconnected"
            }
            r -1 config set rdb-key-save-delay 0
            r -1 config set client-output-buffer-limit "replica 256mb 64mb 60"
            # It comes back and syncs for good.
            repl_wait_online
            repl_wait_same_digest
        }
    }
}

# Debian's redis-server 7.0 as our primary: it sends RDB version 10, diskless ($EOF:)
# by default or from disk ($<len>).
set ::repl_redis_binary [lindex [auto_execok redis-server] 0]
if {$::opt(external)} {
    test "redis-server 7.0 primary" {
        skip "not run against an external server"
    }
} elseif {$::repl_redis_binary eq ""} {
    test "redis-server 7.0 primary" {
        skip "redis-server is not installed (apt-get install redis-server)"
    }
} else {
    foreach diskless {yes no} {
        start_server [list tags {"repl"} binary $::repl_redis_binary overrides \
                          [list save "" repl-diskless-sync $diskless repl-diskless-sync-delay 0]] {
            r select 9
            rdb_populate r 0
            start_server {} {
                test "redis-server 7.0 primary (repl-diskless-sync $diskless): full sync and the stream" {
                    r replicaof [srv -1 host] [srv -1 port]
                    wait_for_condition 500 20 {[s master_link_status] eq "up"} else {
                        fail "no link: [r info replication]"
                    }
                    r -1 set after 1
                    r -1 hset hash:listpack f4 v4
                    r -1 select 4
                    r -1 set in4 four
                    r -1 select 9
                    wait_for_condition 500 20 {
                        [s -1 master_repl_offset] == [s master_repl_offset]
                    } else {
                        fail "not caught up"
                    }
                    assert_equal {} [rdb_snapshot_diff [rdb_snapshot [srv -1 client]] [rdb_snapshot r] 1]
                    r select 4
                    assert_equal four [r get in4]
                    r select 9
                }

                test "redis-server 7.0 primary (repl-diskless-sync $diskless): WAIT sees our ACKs, the link resumes" {
                    r -1 set w 1
                    assert_equal 1 [r -1 wait 1 2000]
                    r client kill type master
                    r -1 set after-kill 1
                    wait_for_condition 500 20 {[r get after-kill] eq "1"} else {
                        fail "the link did not resume"
                    }
                    assert_equal 1 [getInfoProperty [r -1 info stats] sync_partial_ok]
                }
            }
        }
    }
}

# A full sync replaces the replica's dataset: its AOF is rewritten from the new data, so
# that the AOF never replays the data the replica held before.
start_server {tags {"repl"}} {
    r set p1 v1
    r hset p2 f v
    start_server {overrides {appendonly yes}} {
        test "A replica with appendonly yes rewrites its AOF after a full sync" {
            r set old-local-key 1
            assert_equal OK [r replicaof [srv -1 host] [srv -1 port]]
            repl_wait_online
            r -1 set p3 v3
            repl_wait_same_digest
            wait_for_condition 100 50 {
                [aof_rewrite_idle] && [s aof_enabled] == 1
            } else {
                fail "the AOF was not rewritten after the full sync"
            }
            assert_equal 0 [r exists old-local-key]
            r replicaof no one
            # The AOF alone now gives exactly the primary's data.
            r debug loadaof
            assert_equal [r -1 debug digest] [r debug digest]
            assert_equal 0 [r exists old-local-key]
            assert_equal v3 [r get p3]
        }
    }
}
