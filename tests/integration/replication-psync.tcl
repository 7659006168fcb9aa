# Partial resynchronization: the backlog, links dropped under writes, a replica coming back
# after the backlog moved on, failover with the second replication id, timeouts, the
# backlog's TTL, and chained replicas.

source [file join $::th_root tests helpers replication.tcl]

# Sends n pipelined writes of several kinds through a deferring client of the server at
# level, then reads the replies.
proc psync_write_burst {level n tag} {
    set rd [valkey_deferring_client $level]
    for {set i 0} {$i < $n} {incr i} {
        $rd incr "$tag:counter"
        $rd rpush "$tag:list" $i
        $rd hset "$tag:hash" "f[expr {$i % 50}]" $i
        $rd set "$tag:str:[expr {$i % 100}]" [string repeat x [expr {$i % 200}]]
    }
    for {set i 0} {$i < $n * 4} {incr i} {
        $rd read
    }
    $rd close
}

start_server {tags {"repl"}} {
    start_server {} {
        repl_attach

        test "PSYNC: links dropped while writes stream in are resumed from the backlog" {
            set full [repl_stat sync_full -1]
            set ok [repl_stat sync_partial_ok -1]
            for {set round 0} {$round < 5} {incr round} {
                psync_write_burst -1 200 "round$round"
                if {$round % 2} {
                    r client kill type master
                } else {
                    r -1 client kill type replica
                }
                psync_write_burst -1 50 "after$round"
                repl_wait_online
            }
            repl_wait_caught_up
            repl_wait_same_digest
            assert_equal $full [repl_stat sync_full -1]
            assert_equal [expr {$ok + 5}] [repl_stat sync_partial_ok -1]
            assert_equal 200 [r get round4:counter]
        }

        test "PSYNC: the stream resumes in the database it had selected" {
            r -1 select 5
            r -1 set in5 a
            repl_wait_caught_up
            r client kill type master
            r -1 set in5-after-drop b
            r -1 select 9
            repl_wait_online
            repl_wait_caught_up
            r select 5
            assert_equal {a b} [r mget in5 in5-after-drop]
            r select 9
            assert_equal {} [r get in5-after-drop]
        }

        test "PSYNC: a replica whose offset fell out of the backlog gets a full resync" {
            r -1 config set repl-backlog-size 16kb
            set full [repl_stat sync_full -1]
            set err [repl_stat sync_partial_err -1]
            # Away (pointed elsewhere) while more than the backlog is written.
            r replicaof 127.0.0.1 1
            psync_write_burst -1 300 "away"
            assert_equal 16384 [s -1 repl_backlog_histlen]
            r replicaof [srv -1 host] [srv -1 port]
            repl_wait_online
            repl_wait_caught_up
            repl_wait_same_digest
            assert_equal [expr {$full + 1}] [repl_stat sync_full -1]
            assert_equal [expr {$err + 1}] [repl_stat sync_partial_err -1]
        }

        test "PSYNC: a replica that was away but within the backlog resumes" {
            r -1 config set repl-backlog-size 1mb
            set ok [repl_stat sync_partial_ok -1]
            r replicaof 127.0.0.1 1
            psync_write_burst -1 50 "briefly-away"
            r replicaof [srv -1 host] [srv -1 port]
            repl_wait_online
            repl_wait_caught_up
            repl_wait_same_digest
            assert_equal [expr {$ok + 1}] [repl_stat sync_partial_ok -1]
        }

        test "The backlog: first byte offset and history length follow the stream" {
            set info [r -1 info replication]
            set first [getInfoProperty $info repl_backlog_first_byte_offset]
            set histlen [getInfoProperty $info repl_backlog_histlen]
            assert_equal [getInfoProperty $info master_repl_offset] [expr {$first + $histlen - 1}]
            assert_equal 1 [getInfoProperty $info repl_backlog_active]
        }
    }
}

start_server {tags {"repl"}} {
    start_server {} {
        start_server {} {
            test "Failover: after REPLICAOF NO ONE the other replica and the old primary continue with PSYNC" {
                # A (-2) primary, B (-1) and C (0) its replicas.
                repl_attach -2 -1
                repl_attach -2 0
                r -2 select 7
                r -2 set before-failover 1
                r -2 select 9
                psync_write_burst -2 100 "a"
                repl_wait_caught_up -2 -1
                repl_wait_caught_up -2 0
                set ok_b [repl_stat sync_partial_ok -1]
                # B is promoted; C and then A follow it.
                r -1 replicaof no one
                r -1 set written-on-b 1
                r replicaof [srv -1 host] [srv -1 port]
                repl_wait_online -1 0
                r -2 replicaof [srv -1 host] [srv -1 port]
                wait_for_condition 500 20 {[s -2 master_link_status] eq "up"} else {
                    fail "A did not follow B"
                }
                assert_equal [expr {$ok_b + 2}] [repl_stat sync_partial_ok -1]
                assert_equal 0 [repl_stat sync_full -1]
                r -1 select 7
                r -1 set after-failover 2
                r -1 select 9
                repl_wait_caught_up -1 0
                repl_wait_caught_up -1 -2
                repl_wait_same_digest -1 0
                repl_wait_same_digest -1 -2
                assert_equal 1 [r -2 get written-on-b]
                r select 7
                assert_equal {1 2} [r mget before-failover after-failover]
                r select 9
                assert_equal [s -1 master_replid] [s master_replid]
                assert_equal [s -1 master_replid2] [s master_replid2]
            }
        }
    }
}

start_server {tags {"repl"}} {
    start_server {} {
        start_server {} {
            test "Chained replication: a replica of a replica gets the primary's stream" {
                # A (-2) <- B (-1) <- C (0)
                repl_attach -2 -1
                repl_attach -1 0
                r -2 select 9
                psync_write_burst -2 100 "chain"
                r -2 select 3
                r -2 set in3 x
                r -2 select 9
                repl_wait_caught_up -2 -1
                repl_wait_caught_up -1 0
                repl_wait_same_digest -2 0
                # B and C share A's history and offsets.
                assert_equal [s -2 master_replid] [s master_replid]
                assert_equal [s -2 master_repl_offset] [s master_repl_offset]
                # A drop between B and C resumes from B's backlog.
                set ok [repl_stat sync_partial_ok -1]
                r client kill type master
                psync_write_burst -2 20 "chain2"
                repl_wait_online -1 0
                repl_wait_caught_up -2 -1
                repl_wait_caught_up -1 0
                repl_wait_same_digest -2 0
                assert_equal [expr {$ok + 1}] [repl_stat sync_partial_ok -1]
            }
        }
    }
}

start_server {tags {"repl"} overrides {repl-timeout 1}} {
    start_server {} {
        test "repl-timeout on the primary: a replica that stops acknowledging is dropped" {
            repl_attach
            # The replica sleeps: no ACK for more than repl-timeout. The primary checks once a
            # second against ACK times in whole seconds, so it notices up to 3 s after the
            # last ACK; a replica awake before that drops the link itself (its primary timed
            # out too), which is not what this test looks for.
            r debug sleep 4
            wait_for_condition 200 20 {[string match "*Disconnecting timedout replica*" [::th::read_file [srv -1 stdout]]]} else {
                fail "the primary did not drop the silent replica"
            }
            repl_wait_online
            r -1 set after-timeout 1
            repl_wait_caught_up
            assert_equal 1 [r get after-timeout]
        }
    }
}

start_server {tags {"repl"}} {
    start_server {overrides {repl-timeout 1}} {
        test "repl-timeout on the replica: a silent primary is dropped and the link resumed" {
            repl_attach
            r -1 debug sleep 2.5
            wait_for_condition 200 20 {[string match "*PRIMARY timeout*" [::th::read_file [srv 0 stdout]]]} else {
                fail "the replica did not time its primary out"
            }
            repl_wait_online
            r -1 set after-timeout 1
            repl_wait_caught_up
            assert_equal 1 [r get after-timeout]
        }
    }
}

start_server {tags {"repl"} overrides {repl-backlog-ttl 1}} {
    start_server {} {
        test "repl-backlog-ttl: the backlog goes once the last replica has been away that long" {
            repl_attach
            set id [s -1 master_replid]
            assert_equal 1 [s -1 repl_backlog_active]
            r replicaof no one
            wait_for_condition 200 20 {[s -1 repl_backlog_active] == 0} else {
                fail "the backlog is still there"
            }
            assert_not_equal $id [s -1 master_replid]
            assert_equal 0 [s -1 mem_replication_backlog]
        }
    }
}

# RDBs made while replicating carry repl-stream-db, repl-id and repl-offset.
# A replica that full-syncs from a replica in the middle of a stream in another database
# follows that stream in that database (it is forwarded unchanged, without a SELECT).
start_server {tags {"repl"}} {
    start_server {} {
        start_server {} {
            test "Chained replication: a sub-replica synced mid-stream applies it in the stream's database" {
                repl_attach -2 -1
                r -2 select 9
                r -2 set before 1
                repl_wait_caught_up -2 -1
                # The sub-replica syncs while the upstream stream has database 9 selected.
                repl_attach -1 0
                r -2 set after 2
                r -2 hset h f v
                repl_wait_caught_up -2 -1
                repl_wait_caught_up -1 0
                repl_wait_same_digest -2 0
                r select 9
                assert_equal 2 [r get after]
                r select 0
                assert_equal 0 [r dbsize]
            }
        }
    }
}

# The same fields let a restarted replica resume with a partial resync, and a restarted
# primary keep its replication ID and offset.
set ::psync_rdb_dir [file join $::th_root tests tmp "psync-rdb.[pid].[clock clicks]"]
file mkdir $::psync_rdb_dir
start_server {tags {"repl"}} {
    r set k0 v0
    set primary_host [srv 0 host]
    set primary_port [srv 0 port]
    start_server [list overrides [list dir $::psync_rdb_dir] keep_persistence 1] {
        test "A replica's RDB records the stream's position (repl-id, repl-offset, repl-stream-db)" {
            repl_attach
            r -1 select 5
            r -1 set in5 x
            repl_wait_caught_up
            r save
            set ::psync_saved_offset [s master_repl_offset]
            set ::psync_replid [s -1 master_replid]
            catch {r shutdown nosave}
        }
    }
    test "A restarted replica resumes from its RDB with a partial resync" {
        r select 5
        r set in5-later y
        set full [repl_stat sync_full]
        set partial [repl_stat sync_partial_ok]
        start_server [list overrides [list dir $::psync_rdb_dir replicaof "$primary_host $primary_port"] keep_persistence 1] {
            repl_wait_online
            repl_wait_caught_up
            repl_wait_same_digest
            assert_equal $full [repl_stat sync_full -1]
            assert_equal [expr {$partial + 1}] [repl_stat sync_partial_ok -1]
            r select 5
            assert_equal y [r get in5-later]
        }
    }
}
file delete -force $::psync_rdb_dir

set ::psync_primary_dir [file join $::th_root tests tmp "psync-primary.[pid].[clock clicks]"]
file mkdir $::psync_primary_dir
start_server {tags {"repl"}} {
    start_server [list overrides [list dir $::psync_primary_dir] keep_persistence 1] {
        test "A primary's RDB keeps its replication ID and offset" {
            r -1 replicaof [srv 0 host] [srv 0 port]
            repl_wait_online 0 -1
            r set a 1
            repl_wait_caught_up 0 -1
            r save
            set ::psync_primary_replid [s master_replid]
            set ::psync_primary_offset [s master_repl_offset]
            catch {r shutdown nosave}
        }
    }
    start_server [list overrides [list dir $::psync_primary_dir] keep_persistence 1] {
        test "A restarted primary takes its ID and offset back: its replica resumes with a partial resync" {
            assert_equal $::psync_primary_replid [s master_replid]
            assert_equal $::psync_primary_offset [s master_repl_offset]
            assert_equal 1 [s repl_backlog_active]
            r -1 replicaof [srv 0 host] [srv 0 port]
            repl_wait_online 0 -1
            assert_equal 1 [repl_stat sync_partial_ok 0]
            assert_equal 0 [repl_stat sync_full 0]
            r set b 2
            repl_wait_caught_up 0 -1
            repl_wait_same_digest 0 -1
        }
    }
}
file delete -force $::psync_primary_dir
