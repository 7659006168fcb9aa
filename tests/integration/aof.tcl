# The append only file: what is written (RESP, SELECT, absolute expiry, MULTI/EXEC
# around units of several writes, expired keys as DEL), loading (truncated tails with
# aof-load-truncated yes/no, unfinished transactions, corrupt and bit-flipped files),
# appendfsync always, BGREWRITEAOF, CONFIG SET appendonly, INFO fields, DEBUG LOADAOF
# and valkey-check-aof.

source [file join $::th_root tests helpers aof_helpers.tcl]

set incr1 appendonly.aof.1.incr.aof
set base1 appendonly.aof.1.base.aof

# A directory holding a manifest with one incr file made of data.
proc aof_dir_with_incr {name data} {
    set dir [aof_fresh_dir $name]
    aof_write_file [file join $dir appendonlydir $::incr1] $data
    aof_write_manifest $dir [list "file $::incr1 seq 1 type i"]
    return $dir
}

tags {"aof external:skip"} {

start_server {overrides {appendonly yes appendfsync always auto-aof-rewrite-percentage 0 enable-debug-command yes}} {
    set dir [srv dir]

    test {AOF: the first incr file selects the database, commands as RESP multibulk} {
        r set foo bar
        r rpush mylist a b c
        set cmds [aof_file_commands [aof_last_incr $dir]]
        assert_equal {{SELECT 9} {set foo bar} {rpush mylist a b c}} $cmds
    }

    test {AOF: SELECT only when the database changes} {
        set before [llength [aof_file_commands [aof_last_incr $dir]]]
        r select 3
        r set k3 v
        r set k4 v
        r select 9
        r set k9 v
        set cmds [lrange [aof_file_commands [aof_last_incr $dir]] $before end]
        assert_equal {{SELECT 3} {set k3 v} {set k4 v} {SELECT 9} {set k9 v}} $cmds
    }

    test {AOF: relative expiry is written as absolute times} {
        set before [llength [aof_file_commands [aof_last_incr $dir]]]
        r set e1 v ex 100
        r expire foo 100
        set cmds [lrange [aof_file_commands [aof_last_incr $dir]] $before end]
        assert_equal 2 [llength $cmds]
        assert_match {SET e1 v PXAT *} [lindex $cmds 0]
        assert_match {PEXPIREAT foo *} [lindex $cmds 1]
        set at [lindex [lindex $cmds 0] 4]
        assert_range [expr {$at - [clock milliseconds]}] 90000 100000
    }

    test {AOF: reads and no-op writes are not written, forced ones are} {
        set aof [aof_last_incr $dir]
        set size [file size $aof]
        r get foo
        r getex foo
        r del nosuchkey
        r exists foo
        assert_equal $size [file size $aof]
        r flushdb
        r flushdb
        set cmds [aof_file_commands $aof]
        assert_equal [list flushdb flushdb] [lrange $cmds end-1 end]
    }

    test {AOF: MULTI/EXEC with several writes is written as a transaction} {
        set before [llength [aof_file_commands [aof_last_incr $dir]]]
        r multi
        r set t1 1
        r get t1
        r incr t1
        r exec
        set cmds [lrange [aof_file_commands [aof_last_incr $dir]] $before end]
        assert_equal [list MULTI {set t1 1} {incr t1} EXEC] $cmds
    }

    test {AOF: a transaction with one write is written as the command alone} {
        set before [llength [aof_file_commands [aof_last_incr $dir]]]
        r multi
        r get t1
        r incr t1
        r exec
        set cmds [lrange [aof_file_commands [aof_last_incr $dir]] $before end]
        assert_equal {{incr t1}} $cmds
    }

    test {AOF: a transaction changing database has SELECT inside MULTI} {
        r select 5
        r set in5 x
        r select 9
        set before [llength [aof_file_commands [aof_last_incr $dir]]]
        r multi
        r set a 1
        r set b 2
        r exec
        set cmds [lrange [aof_file_commands [aof_last_incr $dir]] $before end]
        assert_equal [list MULTI {SELECT 9} {set a 1} {set b 2} EXEC] $cmds
    }

    test {AOF: a script's writes are a transaction, the script itself is not written} {
        set before [llength [aof_file_commands [aof_last_incr $dir]]]
        r eval {redis.call('set', KEYS[1], 'x'); redis.call('incr', KEYS[2]); return 1} 2 s1 s2
        set cmds [lrange [aof_file_commands [aof_last_incr $dir]] $before end]
        assert_equal [list MULTI {set s1 x} {incr s2} EXEC] $cmds
    }

    test {AOF: SPOP with a count is written as SREM} {
        r del myset
        r sadd myset a b c d
        set before [llength [aof_file_commands [aof_last_incr $dir]]]
        set popped [r spop myset 2]
        set cmds [lrange [aof_file_commands [aof_last_incr $dir]] $before end]
        assert_equal 1 [llength $cmds]
        assert_equal {SREM myset} [lrange [lindex $cmds 0] 0 1]
        assert_equal [lsort $popped] [lsort [lrange [lindex $cmds 0] 2 end]]
    }

    test {AOF: a key that expires is written as DEL (active expiry)} {
        r set shortlived v px 50
        wait_for_condition 100 20 {
            [lsearch -regexp [aof_file_commands [aof_last_incr $dir]] {^(DEL|UNLINK) shortlived$}] >= 0
        } else {
            fail "no DEL written for the expired key"
        }
        assert_equal 0 [r exists shortlived]
    }

    test {AOF: a key found expired by a command: DEL and the command in one transaction} {
        r debug set-active-expire 0
        r set lazy old px 20
        after 50
        set before [llength [aof_file_commands [aof_last_incr $dir]]]
        r set lazy new nx
        set cmds [lrange [aof_file_commands [aof_last_incr $dir]] $before end]
        r debug set-active-expire 1
        assert_equal 4 [llength $cmds]
        assert_equal {MULTI} [lindex $cmds 0]
        assert_match {* lazy} [lindex $cmds 1]
        assert_equal {set lazy new nx} [lindex $cmds 2]
        assert_equal {EXEC} [lindex $cmds 3]
    }

    test {AOF: appendfsync always writes the AOF before the reply} {
        set aof [aof_last_incr $dir]
        for {set j 0} {$j < 20} {incr j} {
            set size [file size $aof]
            r incr counter
            assert_morethan [file size $aof] $size
        }
    }

    test {AOF: appendfsync always with a pending big reply (write barrier)} {
        # A client whose earlier reply is still being written (writable handler installed)
        # must not get the reply of its next write in the same event loop turn, before the
        # AOF flush: the write handler carries AE_BARRIER.
        set rd [valkey_deferring_client]
        set aof [aof_last_incr $dir]
        r setrange big 4000000 x
        for {set j 0} {$j < 5} {incr j} {
            r debug aof-flush-sleep 200000
            set size1 [file size $aof]
            $rd get big
            $rd incr barrier
            $rd read
            $rd read
            assert_morethan [file size $aof] $size1
            r debug aof-flush-sleep 0
        }
        $rd close
    }

    test {AOF: INFO persistence fields when enabled} {
        set info [r info persistence]
        assert_equal 1 [getInfoProperty $info aof_enabled]
        foreach field {aof_rewrite_in_progress aof_rewrite_scheduled aof_last_rewrite_time_sec
                       aof_current_rewrite_time_sec aof_last_bgrewrite_status aof_rewrites
                       aof_rewrites_consecutive_failures aof_last_write_status aof_last_cow_size
                       aof_current_size aof_base_size aof_pending_rewrite aof_buffer_length
                       aof_pending_bio_fsync aof_delayed_fsync} {
            assert_not_equal "" [getInfoProperty $info $field] $field
        }
        assert_equal ok [getInfoProperty $info aof_last_write_status]
        assert_morethan [getInfoProperty $info aof_current_size] 0
        # The Valkey order: the fields of an enabled AOF come after module_fork_*.
        assert_morethan [string first aof_current_size $info] [string first module_fork_last_cow_size $info]
    }

    test {AOF: DEBUG LOADAOF gives back the same dataset} {
        r hset h f1 v1 f2 v2
        r zadd z 1 a 2.5 b
        set digest [r debug digest]
        r debug loadaof
        assert_equal $digest [r debug digest]
    }
}

start_server {overrides {appendonly no}} {
    test {AOF: INFO fields when disabled: no size fields} {
        set info [r info persistence]
        assert_equal 0 [getInfoProperty $info aof_enabled]
        assert_equal "" [getInfoProperty $info aof_current_size]
        assert_equal "" [getInfoProperty $info aof_pending_bio_fsync]
    }

    test {AOF: appendfilename and appenddirname are immutable and checked} {
        assert_error {*immutable*} {r config set appendfilename other.aof}
        assert_error {*immutable*} {r config set appenddirname otherdir}
        assert_equal {appendfsync everysec} [r config get appendfsync]
        assert_error {*} {r config set appendfsync sometimes}
    }
}

# ---- Loading what was written, through restarts --------------------------------------

test {AOF: a restart loads base and incr files (every type, several databases)} {
    set dir [aof_fresh_dir restart]
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        r set s v
        r incrby n 42
        r rpush l a b c
        r sadd set 1 2 3 x
        r zadd z 1.5 a 2 b
        r hset h f v
        r set ttl v ex 1000
        r select 4
        r set other db
        r select 9
        set digest [r debug digest]
    }
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        assert_equal $digest [r debug digest]
        assert_range [r ttl ttl] 990 1000
        r select 4
        assert_equal db [r get other]
    }
}

test {AOF: expired keys are gone after a restart, deleted as DEL in the AOF} {
    set dir [aof_fresh_dir expire]
    start_server [list overrides [aof_overrides $dir {hz 100}] keep_persistence 1] {
        r debug set-active-expire 0
        r set gone v px 100
        r set stays v
    }
    after 150
    start_server [list overrides [aof_overrides $dir {hz 100}] keep_persistence 1] {
        wait_for_condition 100 10 {
            [lsearch -regexp [aof_file_commands [aof_last_incr $dir]] {^(DEL|UNLINK) gone$}] >= 0
        } else {
            fail "the expired key was not deleted through the AOF"
        }
        assert_equal 0 [r exists gone]
        assert_equal v [r get stays]
    }
}

test {AOF: truncated tail, aof-load-truncated yes: loaded up to the last command, file truncated} {
    set good "[aof_cmd select 9][aof_cmd incr foo][aof_cmd incr foo][aof_cmd incr foo]"
    set dir [aof_dir_with_incr trunc-yes "$good[string range [aof_cmd incr foo] 0 end-3]"]
    start_server [list overrides [aof_overrides $dir {aof-load-truncated yes}] keep_persistence 1] {
        assert_equal 3 [r get foo]
        assert_equal [string length $good] [file size [file join $dir appendonlydir $incr1]]
        r incr foo
        assert_match {*Truncating the AOF appendonly.aof.1.incr.aof at offset*} [aof_read_file [srv stdout]]
    }
    start_server [list overrides [aof_overrides $dir {aof-load-truncated no}] keep_persistence 1] {
        assert_equal 4 [r get foo]
    }
}

test {AOF: truncated tail, aof-load-truncated no: the server refuses to start} {
    set dir [aof_dir_with_incr trunc-no "[aof_cmd set foo hello][string range [aof_cmd set bar world] 0 end-1]"]
    lassign [aof_run_until_exit $dir {aof-load-truncated no}] status log
    assert_equal 1 $status
    assert_match {*Unexpected end of file reading the append only file appendonly.aof.1.incr.aof*} $log
    assert_match {*last complete command ends at offset 33*} $log
}

test {AOF: an unfinished MULTI is dropped with aof-load-truncated yes} {
    set dir [aof_dir_with_incr multi-yes "[aof_cmd set foo hello][aof_cmd multi][aof_cmd set bar world]"]
    start_server [list overrides [aof_overrides $dir {aof-load-truncated yes}] keep_persistence 1] {
        r select 0
        assert_equal hello [r get foo]
        assert_equal {} [r get bar]
        assert_match {*Revert incomplete MULTI/EXEC transaction*} [aof_read_file [srv stdout]]
    }
}

test {AOF: an unfinished MULTI with aof-load-truncated no: the server refuses to start} {
    set dir [aof_dir_with_incr multi-no "[aof_cmd set foo hello][aof_cmd multi][aof_cmd set bar world]"]
    lassign [aof_run_until_exit $dir {aof-load-truncated no}] status log
    assert_equal 1 $status
    assert_match {*Unexpected end of file reading the append only file*} $log
}

test {AOF: a short read inside MULTI cuts the file before the MULTI, later writes survive} {
    set data "[aof_cmd set foo hello][aof_cmd multi][aof_cmd set bar world][string range [aof_cmd exec] 0 end-1]"
    set dir [aof_dir_with_incr multi-short $data]
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        r select 0
        assert_equal hello [r get foo]
        assert_equal {} [r get bar]
        r set baz survived
    }
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        r select 0
        assert_equal hello [r get foo]
        assert_equal {} [r get bar]
        assert_equal survived [r get baz]
    }
}

test {AOF: a file that is not the AOF format: refused with the file and offset} {
    set dir [aof_dir_with_incr badformat "[aof_cmd set foo hello]!!![aof_cmd set foo hello]"]
    lassign [aof_run_until_exit $dir {aof-load-truncated yes}] status log
    assert_equal 1 $status
    assert_match {*Bad file format reading the append only file appendonly.aof.1.incr.aof*} $log
    assert_match {*Corrupt append only file appendonly.aof.1.incr.aof: expected a command ('*') at offset 33*} $log
}

test {AOF: an unknown command: refused} {
    set dir [aof_dir_with_incr unknown "[aof_cmd set foo hello][aof_cmd bla foo hello]"]
    lassign [aof_run_until_exit $dir] status log
    assert_equal 1 $status
    assert_match {*appendonly.aof.1.incr.aof at offset 33: unknown command 'bla'*} $log
}

test {AOF: a command with the wrong arity: refused} {
    set dir [aof_dir_with_incr arity "[aof_cmd get]"]
    lassign [aof_run_until_exit $dir] status log
    assert_equal 1 $status
    assert_match {*wrong number of arguments for 'get' command*} $log
}

test {AOF: a damaged CRLF after an argument: refused, not read as data} {
    set data [aof_cmd set foo hello]
    set data "[string range $data 0 end-2]X\n[aof_cmd set k v]"
    set dir [aof_dir_with_incr crlf $data]
    lassign [aof_run_until_exit $dir] status log
    assert_equal 1 $status
    assert_match {*expected \\r\\n after an argument of 5 bytes*} $log
}

test {AOF: timestamp annotations are skipped when loading} {
    set data "#TS:1628217470\r\n[aof_cmd set foo1 bar1]#TS:1628217471\r\n[aof_cmd set foo2 bar2]#TS:1628217474\r\n"
    set dir [aof_dir_with_incr annotations $data]
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        r select 0
        assert_equal bar1 [r get foo1]
        assert_equal bar2 [r get foo2]
    }
}

test {AOF: random bit flips never crash the loader nor load a damaged structure} {
    set dir [aof_fresh_dir bitflip]
    set good ""
    for {set j 0} {$j < 30} {incr j} {
        append good [aof_cmd set key:$j [string repeat v $j]] [aof_cmd rpush list $j x$j]
    }
    set len [string length $good]
    set outcomes {}
    for {set round 0} {$round < 12} {incr round} {
        set pos [expr {int(rand() * $len)}]
        set byte [scan [string index $good $pos] %c]
        set flipped [format %c [expr {$byte ^ (1 << int(rand() * 8))}]]
        set data [string replace $good $pos $pos $flipped]
        aof_write_file [file join $dir appendonlydir $incr1] $data
        aof_write_manifest $dir [list "file $incr1 seq 1 type i"]
        lassign [aof_run_until_exit $dir {aof-load-truncated yes} 2] status log
        # Started (killed by timeout, -1), or refused with a reason in the log (1).
        assert {$status in {-1 0 1}}
        assert_no_match {*BUG REPORT*} $log
        if {$status == 1} {
            assert_match {*append only file*} $log
        }
        lappend outcomes $status
    }
    assert_equal 12 [llength $outcomes]
}

# ---- The RDB preamble on and off ------------------------------------------------------

foreach preamble {yes no} {
    test "AOF: rewrite with aof-use-rdb-preamble $preamble, then load it back" {
        set dir [aof_fresh_dir preamble-$preamble]
        start_server [list overrides [aof_overrides $dir [list aof-use-rdb-preamble $preamble]] keep_persistence 1] {
            for {set j 0} {$j < 150} {incr j} {
                r rpush biglist $j
                r sadd bigset m$j
                r zadd bigzset $j m$j
                r hset bighash f$j v$j
            }
            r sadd intset 1 2 3
            r zadd z -inf a 1.5 b 3.141592653589793 c
            r set str [string repeat x 100]
            r set num 12345
            r set withttl v px 100000000
            r select 2
            r set indb2 x
            r select 9
            r function load {#!lua name=mylib
                server.register_function('f1', function() return 1 end)}
            r bgrewriteaof
            aof_wait_rewrite
            set base [aof_base_file $dir]
            assert_match "*.base.[expr {$preamble eq {yes} ? {rdb} : {aof}}]" $base
            if {$preamble eq "no"} {
                set cmds [aof_file_commands $base]
                assert_equal {FUNCTION LOAD} [lrange [lindex $cmds 0] 0 1]
                # Variadic commands carry at most 64 elements.
                foreach cmd $cmds {
                    assert_lessthan_equal [llength $cmd] [expr {2 + 64 * 2}]
                }
            } else {
                assert_equal REDIS [string range [aof_read_file $base] 0 4]
            }
            r set after rewrite
            set digest [r debug digest]
            r debug loadaof
            assert_equal $digest [r debug digest]
            assert_equal 1 [r fcall f1 0]
        }
        start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
            assert_equal $digest [r debug digest]
            assert_range [r pttl withttl] 99000000 100000000
        }
    }
}

test {AOF: timestamp annotations in incr and base files (aof-timestamp-enabled)} {
    set dir [aof_fresh_dir timestamps]
    start_server [list overrides [aof_overrides $dir {aof-timestamp-enabled yes aof-use-rdb-preamble no}] keep_persistence 1] {
        r set foo bar
        assert_match {#TS:*} [lindex [split [aof_read_file [aof_last_incr $dir]] "\n"] 0]
        r bgrewriteaof
        aof_wait_rewrite
        assert_match {#TS:*} [lindex [split [aof_read_file [aof_base_file $dir]] "\n"] 0]
        set digest [r debug digest]
        r debug loadaof
        assert_equal $digest [r debug digest]
    }
}

# ---- BGREWRITEAOF, CONFIG SET appendonly ----------------------------------------------

start_server {overrides {appendonly no save "" enable-debug-command yes}} {
    set dir [srv dir]

    test {BGREWRITEAOF replies: started, already in progress, scheduled during BGSAVE} {
        r debug populate 100
        r config set rdb-key-save-delay 20000
        assert_equal {Background append only file rewriting started} [r bgrewriteaof]
        assert_error {*Background append only file rewriting already in progress*} {r bgrewriteaof}
        assert_error {*Another child process is active (AOF?)*} {r bgsave}
        catch {exec kill -9 [aof_child_pid [srv pid]]}
        wait_for_condition 100 10 {[s aof_rewrite_in_progress] eq 0} else {fail "rewrite still running"}
        assert_equal err [s aof_last_bgrewrite_status]
        r bgsave
        assert_equal {Background append only file rewriting scheduled} [r bgrewriteaof]
        assert_equal 1 [s aof_rewrite_scheduled]
        # Let the save finish by itself (about 2 s): killing "the" child would race with
        # the scheduled rewrite starting right after it, and could kill that instead.
        r config set rdb-key-save-delay 0
        wait_for_condition 500 10 {[s rdb_bgsave_in_progress] eq 0} else {fail "bgsave still running"}
        # The scheduled rewrite starts from the cron after the save is reaped: wait for its
        # outcome, not only for "nothing in progress".
        wait_for_condition 500 10 {[s aof_last_bgrewrite_status] eq "ok"} else {fail "scheduled rewrite did not succeed"}
        aof_wait_rewrite
        # The AOF is off: the rewrite left a base and no incr file.
        assert_equal {{file appendonly.aof.1.base.rdb seq 1 type b}} [aof_manifest_lines $dir]
    }

    test {CONFIG SET appendonly yes starts a rewrite; writes during it are kept} {
        r flushall
        for {set j 0} {$j < 50} {incr j} {r set k$j $j}
        r config set rdb-key-save-delay 10000
        r config set appendonly yes
        assert_equal 1 [s aof_enabled]
        assert_equal 1 [s aof_rewrite_in_progress]
        # While the first rewrite runs the writes go to the temp incr file.
        r set during rewrite
        r incr k1
        assert {[file exists [file join $dir appendonlydir temp-appendonly.aof.incr]]}
        r config set rdb-key-save-delay 0
        aof_wait_rewrite
        assert_equal ok [s aof_last_bgrewrite_status]
        assert_equal 0 [file exists [file join $dir appendonlydir temp-appendonly.aof.incr]]
        assert_equal {{file appendonly.aof.2.base.rdb seq 2 type b} {file appendonly.aof.1.incr.aof seq 1 type i}} \
            [aof_manifest_lines $dir]
        r set after enable
        set digest [r debug digest]
        r debug loadaof
        assert_equal $digest [r debug digest]
        assert_equal rewrite [r get during]
        assert_equal 2 [r get k1]
    }

    test {CONFIG SET appendonly no stops writing the AOF} {
        set aof [aof_last_incr $dir]
        r config set appendonly no
        assert_equal 0 [s aof_enabled]
        set size [file size $aof]
        r set nomore writes
        assert_equal $size [file size $aof]
    }

    test {Turning appendonly on and off inside a transaction} {
        r multi
        r config set appendonly yes
        r config set appendonly no
        r exec
        r config set appendonly yes
        r multi
        r config set appendonly no
        r config set appendonly yes
        r exec
        aof_wait_rewrite
        assert_equal 1 [s aof_enabled]
        r config set appendonly no
    }
}

# ---- valkey-check-aof -----------------------------------------------------------------

test {valkey-check-aof: a valid manifest and its files} {
    set dir [aof_fresh_dir check-valid]
    aof_write_file [file join $dir appendonlydir $base1] "[aof_cmd set foo hello][aof_cmd set bar world]"
    aof_write_file [file join $dir appendonlydir $incr1] "[aof_cmd multi][aof_cmd set a 1][aof_cmd exec]"
    aof_write_manifest $dir [list "file $base1 seq 1 type b" "file $incr1 seq 1 type i"]
    lassign [aof_check [file join $dir appendonlydir appendonly.aof.manifest]] status out
    assert_equal 0 $status
    assert_match {*Start checking Multi Part AOF*Start to check BASE AOF (RESP format)*BASE AOF*is valid*Start to check INCR files*INCR AOF*is valid*All AOF files and manifest are valid*} $out
}

test {valkey-check-aof: a truncated file is not valid; --fix truncates it} {
    set dir [aof_fresh_dir check-trunc]
    set path [file join $dir appendonlydir $incr1]
    aof_write_file $path "[aof_cmd set foo hello]!!!"
    aof_write_manifest $dir [list "file $incr1 seq 1 type i"]
    set manifest [file join $dir appendonlydir appendonly.aof.manifest]
    lassign [aof_check $manifest] status out
    assert_equal 1 $status
    assert_match {*ok_up_to=33, ok_up_to_line=8*not valid*} $out
    lassign [aof_check --fix $manifest] status out
    assert_equal 0 $status
    assert_match {*Successfully truncated AOF*} $out
    assert_equal 33 [file size $path]
    lassign [aof_check $manifest] status out
    assert_equal 0 $status
    # The fixed file loads.
    start_server [list overrides [aof_overrides $dir {aof-load-truncated no}] keep_persistence 1] {
        r select 0
        assert_equal hello [r get foo]
    }
}

test {valkey-check-aof: an unclosed MULTI is reported; only the last file may be fixed} {
    set dir [aof_fresh_dir check-multi]
    aof_write_file [file join $dir appendonlydir $base1] "[aof_cmd set foo hello][aof_cmd multi][aof_cmd set bar world]"
    aof_write_file [file join $dir appendonlydir $incr1] "[aof_cmd set x y]"
    aof_write_manifest $dir [list "file $base1 seq 1 type b" "file $incr1 seq 1 type i"]
    set manifest [file join $dir appendonlydir appendonly.aof.manifest]
    lassign [aof_check $manifest] status out
    assert_equal 1 $status
    assert_match {*Reached EOF before reading EXEC for MULTI*not valid*} $out
    lassign [aof_check --fix $manifest] status out
    assert_equal 1 $status
    assert_match {*Failed to truncate AOF*because it is not the last file*} $out
}

test {valkey-check-aof: old-style AOF, with and without an RDB preamble} {
    set dir [aof_fresh_dir check-old]
    set old [file join $dir appendonly.aof]
    aof_write_file $old "[aof_cmd set foo hello][aof_cmd set bar world]"
    lassign [aof_check $old] status out
    assert_equal 0 $status
    assert_match {*Start checking Old-Style AOF*is valid*} $out
    # An RDB written by the server, then commands: an RDB-preamble AOF.
    start_server [list overrides [list dir $dir save ""] keep_persistence 1] {
        r set k1 v1
        r save
    }
    aof_write_file $old "[aof_read_file [file join $dir dump.rdb]][aof_cmd set k2 v2]"
    lassign [aof_check $old] status out
    assert_equal 0 $status
    assert_match {*Start checking Old-Style AOF*RDB preamble is OK, proceeding with AOF tail*is valid*} $out
}

test {valkey-check-aof: a bad manifest} {
    set dir [aof_fresh_dir check-manifest]
    aof_write_manifest $dir [list "file $base1 seq 1 type b" "!!!"]
    lassign [aof_check [file join $dir appendonlydir appendonly.aof.manifest]] status out
    assert_equal 1 $status
    assert_match {*Invalid AOF manifest file format*} $out
}

test {valkey-check-aof: --truncate-to-timestamp} {
    set data "#TS:1628217470\r\n[aof_cmd set foo1 bar1]#TS:1628217471\r\n[aof_cmd set foo2 bar2]#TS:1628217472\r\n#TS:1628217473\r\n[aof_cmd set foo3 bar3]#TS:1628217474\r\n"
    set dir [aof_dir_with_incr check-ts $data]
    set manifest [file join $dir appendonlydir appendonly.aof.manifest]
    lassign [aof_check --truncate-to-timestamp 1628217471 $manifest] status out
    assert_equal 0 $status
    assert_match {*Successfully truncated AOF*to timestamp 1628217471*} $out
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        r select 0
        assert_equal bar1 [r get foo1]
        assert_equal bar2 [r get foo2]
        assert_equal {} [r get foo3]
    }
    lassign [aof_check --truncate-to-timestamp 1628217469 $manifest] status out
    assert_equal 1 $status
    assert_match {*aborting*} $out
}

aof_cleanup_dirs

}
