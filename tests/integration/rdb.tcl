# RDB persistence: our files loaded back (DEBUG RELOAD and restarts), files written by
# Debian's redis-server 7.0 and by hand in older formats (ziplists, zipmaps...) and
# Valkey 9's, SAVE / BGSAVE and their INFO fields, save points, stop-writes-on-bgsave-error,
# SHUTDOWN SAVE, FLUSHALL, corrupt files at start-up, valkey-check-rdb, and -LOADING while
# a slow load runs.

source [file join $::th_root tests helpers rdb_data.tcl]

set ::rdb_gen [file join $::th_root tests helpers rdb_gen.py]

# The checker: the valkey-check-rdb link next to the server binary, or the server itself
# with --check-rdb.
proc check_rdb {file} {
    set link [file join [file dirname $::opt(server_binary)] valkey-check-rdb]
    set cmd [expr {[file exists $link] ? [list $link $file] : [list $::opt(server_binary) --check-rdb $file]}]
    set rc [catch {exec {*}$cmd 2>@1} out opts]
    set status 0
    if {$rc} {
        set code [lindex [dict get $opts -errorcode] 0]
        if {$code ne "CHILDSTATUS"} {
            error "valkey-check-rdb did not exit normally ([dict get $opts -errorcode]): $out"
        }
        set status [lindex [dict get $opts -errorcode] 2]
    }
    return [list $status $out]
}

# Runs our server on dir until it exits by itself (start-up failures); returns
# {exit-status log}. Killed after timeout seconds.
proc run_server_until_exit {dir {timeout 10}} {
    # A unix socket only: a TCP port picked here could be taken by a parallel test file
    # before the server binds it, and the server would then exit for the wrong reason.
    set log [file join $dir startup.log]
    set rc [catch {exec timeout $timeout $::opt(server_binary) --port 0 --unixsocket [file join $dir s.sock] \
                       --dir $dir --save "" --logfile $log} out opts]
    set status [expr {$rc ? [lindex [dict get $opts -errorcode] 2] : 0}]
    return [list $status [::th::read_file $log]]
}

proc snapshot_dbs {c dbs} {
    set all {}
    foreach db $dbs {
        $c select $db
        lappend all $db [rdb_snapshot $c]
    }
    $c select 9
    return $all
}

proc assert_same_dbs {a b {ignore_encoding 0}} {
    set problems {}
    foreach {db snap} $a {
        foreach p [rdb_snapshot_diff $snap [dict get $b $db] $ignore_encoding] {
            lappend problems "db $db: $p"
        }
    }
    assert_equal {} $problems
}

proc populate_dbs {c ours} {
    foreach db {9 0 15} {
        $c select $db
        rdb_populate $c $ours
    }
    $c select 9
}

proc temp_dir {name} {
    set dir [file join $::th_root tests tmp "$name.[pid].[clock clicks]"]
    file mkdir $dir
    return $dir
}

start_server {tags {"rdb"} overrides {enable-protected-configs yes}} {
    test {DEBUG RELOAD: every type, encoding, TTL and database comes back} {
        populate_dbs r 1
        set before [snapshot_dbs r {9 0 15}]
        set digest [r debug digest]
        assert_equal OK [r debug reload]
        assert_same_dbs $before [snapshot_dbs r {9 0 15}]
        assert_equal $digest [r debug digest]
        assert_equal [expr {3 * [llength [dict keys [lindex $before 1]]]}] [s rdb_last_load_keys_loaded]
    }

    test {The file starts with REDIS0011 and the AUX fields Valkey 8 writes} {
        r save
        set fd [open [file join [srv dir] dump.rdb] rb]
        set head [read $fd 200]
        close $fd
        assert_equal REDIS0011 [string range $head 0 8]
        foreach field {valkey-ver redis-ver redis-bits ctime used-mem aof-base} {
            assert_match "*$field*" $head
        }
        lassign [check_rdb [file join [srv dir] dump.rdb]] status out
        assert_equal 0 $status
        assert_match {*AUX FIELD redis-ver = '7.2.4'*} $out
        assert_match {*RDB looks OK*} $out
    }

    test {A restarted server loads dump.rdb: same data set} {
        r save
        set before [snapshot_dbs r {9 0 15}]
        set digest [r debug digest]
        start_server [list overrides [list dir [srv dir]]] {
            assert_same_dbs $before [snapshot_dbs r {9 0 15}]
            assert_equal $digest [r debug digest]
            assert_match {*Done loading RDB, keys loaded:*} [::th::read_file [srv stdout]]
        }
    }

    test {DEBUG RELOAD NOSAVE / NOFLUSH / MERGE} {
        r flushall
        r set a 1
        r save
        r set a 2
        r set b 2
        r debug reload nosave
        assert_equal {1 {}} [list [r get a] [r get b]]
        r set a 3
        r set c 3
        assert_error {*Error trying to load*} {r debug reload nosave noflush}
        r flushall
        r set a 1
        r save
        r set a 5
        r set d 4
        assert_equal OK [r debug reload nosave noflush merge]
        assert_equal {1 4} [list [r get a] [r get d]]
        assert_error {*only supports the MERGE, NOFLUSH and NOSAVE options*} {r debug reload foo}
    }

    test {Keys already expired in the file are dropped at load and counted} {
        r flushall
        r debug set-active-expire 0
        r set live 1
        r set dead 1 px 1
        after 5
        r save
        r debug reload nosave
        assert_equal {1 0} [list [r exists live] [r exists dead]]
        assert_equal 1 [s rdb_last_load_keys_expired]
        assert_equal 1 [s rdb_last_load_keys_loaded]
        r debug set-active-expire 1
    }

    test {SAVE resets the change counter and updates LASTSAVE} {
        r set x 1
        assert_morethan [s rdb_changes_since_last_save] 0
        set saves [s rdb_saves]
        assert_equal OK [r save]
        assert_equal 0 [s rdb_changes_since_last_save]
        assert_equal [expr {$saves + 1}] [s rdb_saves]
        assert_range [r lastsave] [expr {[clock seconds] - 2}] [clock seconds]
    }

    test {BGSAVE in a child: progress in INFO, refusals while it runs, success after} {
        r flushall
        r debug populate 20
        r config set rdb-key-save-delay 20000
        set forks [s total_forks]
        assert_equal {Background saving started} [r bgsave]
        assert_equal 1 [s rdb_bgsave_in_progress]
        assert_morethan_equal [s rdb_current_bgsave_time_sec] 0
        assert_equal 20 [s current_save_keys_total]
        assert_error "ERR Background save already in progress" {r bgsave}
        assert_error "ERR Background save already in progress" {r bgsave schedule}
        assert_error "ERR Background save already in progress" {r save}
        assert_error "ERR syntax error" {r bgsave foo}
        r set during 1
        r config set rdb-key-save-delay 0
        wait_for_condition 500 10 {[s rdb_bgsave_in_progress] == 0} else {
            fail "BGSAVE did not finish"
        }
        assert_equal ok [s rdb_last_bgsave_status]
        assert_equal -1 [s rdb_current_bgsave_time_sec]
        assert_morethan_equal [s rdb_last_bgsave_time_sec] 0
        assert_equal [expr {$forks + 1}] [s total_forks]
        assert_morethan [s latest_fork_usec] 0
        # The child reported its copy-on-write memory (private dirty pages) at the end.
        assert_morethan [s rdb_last_cow_size] 0
        # The write made while the child ran is still unsaved.
        assert_equal 1 [s rdb_changes_since_last_save]
        assert_match {*Background saving terminated with success*} [::th::read_file [srv stdout]]
        # The child must not have taken the listening socket away from the parent.
        set fresh [valkey_client]
        assert_equal PONG [$fresh ping]
        $fresh close
        # The file holds the data set as it was when the child was forked.
        r debug reload nosave
        assert_equal 20 [r dbsize]
    }

    test {A save point fires a background save} {
        r config set save "1 1"
        r set trigger 1
        wait_for_condition 300 10 {[s rdb_changes_since_last_save] == 0} else {
            fail "the save point did not fire"
        }
        assert_match {*changes in 1 seconds. Saving...*} [::th::read_file [srv stdout]]
        assert_equal {1 1} [lindex [r config get save] 1]
        r config set save ""
        assert_equal {} [lindex [r config get save] 1]
        r config set save "3600 1 300 100 60 10000"
        assert_equal {3600 1 300 100 60 10000} [lindex [r config get save] 1]
        assert_error {*Invalid save parameters*} {r config set save "100"}
        assert_error {*Invalid save parameters*} {r config set save "0 1"}
        assert_error {*Invalid save parameters*} {r config set save "10 -1"}
    }

    test {dbfilename must be a plain file name} {
        assert_error {*dbfilename can't be a path, just a filename*} {r config set dbfilename a/b.rdb}
        assert_equal {dbfilename dump.rdb} [r config get dbfilename]
    }

    test {FLUSHALL with save points writes an empty dump} {
        r set k v
        r save
        r flushall
        assert_equal 1 [s rdb_changes_since_last_save]
        r debug reload nosave
        assert_equal 0 [r dbsize]
    }
}

start_server {tags {"rdb"} overrides {enable-protected-configs yes}} {
    test {A failed BGSAVE: status err, MISCONF for writes and PING, reads still served} {
        r set k v
        set gone [temp_dir gone]
        set home [lindex [r config get dir] 1]
        r config set dir $gone
        file delete -force $gone
        r bgsave
        wait_for_condition 500 10 {[s rdb_bgsave_in_progress] == 0} else {
            fail "BGSAVE did not finish"
        }
        assert_equal err [s rdb_last_bgsave_status]
        assert_match {*Background saving error*} [::th::read_file [srv stdout]]
        assert_error {MISCONF *stop-writes-on-bgsave-error*} {r set k v2}
        assert_error {MISCONF *} {r ping}
        assert_equal v [r get k]
        r config set stop-writes-on-bgsave-error no
        assert_equal OK [r set k v3]
        r config set stop-writes-on-bgsave-error yes
        assert_error {MISCONF *} {r set k v4}
        # Without save points, a failed save does not stop writes.
        r config set save ""
        assert_equal OK [r set k v5]
        r config set save "3600 1"
        r config set dir $home
        r bgsave
        wait_for_condition 500 10 {[s rdb_bgsave_in_progress] == 0} else {
            fail "BGSAVE did not finish"
        }
        assert_equal ok [s rdb_last_bgsave_status]
        assert_equal OK [r set k v6]
    }

    test {SHUTDOWN refuses to exit when the final save fails} {
        set gone [temp_dir gone]
        set home [lindex [r config get dir] 1]
        r config set dir $gone
        file delete -force $gone
        assert_error "ERR Errors trying to SHUTDOWN. Check logs." {r shutdown}
        assert_error "ERR Errors trying to SHUTDOWN. Check logs." {r shutdown save}
        assert_equal PONG [r ping]
        assert_match {*Error trying to save the DB, can't exit*} [::th::read_file [srv stdout]]
        r config set dir $home
    }
}

start_server {tags {"rdb"} overrides {save ""}} {
    test {SHUTDOWN SAVE writes the dataset even without save points} {
        r set persisted yes
        set dir [srv dir]
        set pid [srv pid]
        catch {r shutdown save}
        assert [::th::wait_exit $pid 5000]
        assert [file exists [file join $dir dump.rdb]]
        start_server [list overrides [list dir $dir]] {
            assert_equal yes [r get persisted]
        }
    }
}

start_server {tags {"rdb"} overrides {rdbchecksum no}} {
    test {rdbchecksum no writes a zero checksum, which loads without a check} {
        r set foo bar
        r save
        set fd [open [file join [srv dir] dump.rdb] rb]
        set data [read $fd]
        close $fd
        assert_equal [string repeat \x00 8] [string range $data end-7 end]
        r debug reload nosave
        assert_equal bar [r get foo]
        assert_error {*} {r config set rdbchecksum yes}
    }
}

start_server {tags {"rdb"} overrides {enable-protected-configs yes}} {
    test {Start-up with a corrupt or truncated file fails cleanly with a log message} {
        r flushall
        rdb_populate r
        r save
        set fd [open [file join [srv dir] dump.rdb] rb]
        set good [read $fd]
        close $fd
        set dir [temp_dir corrupt]
        foreach {name bytes} [list truncated [string range $good 0 [expr {[string length $good] / 2}]] \
                                  badmagic "REDIX[string range $good 5 end]" \
                                  badversion "REDIS0012[string range $good 9 end]" \
                                  badchecksum "[string range $good 0 end-1][binary format c 7]"] {
            set fd [open [file join $dir dump.rdb] wb]
            puts -nonewline $fd $bytes
            close $fd
            lassign [run_server_until_exit $dir] status log
            assert_equal 1 $status "$name: exit status"
            assert_match {*Internal error in RDB reading offset*} $log "$name: log"
            assert_match {*Fatal error loading the DB*} $log "$name: log"
        }
        file delete -force $dir
    }

    test {valkey-check-rdb: a good file, then truncated and damaged copies} {
        set file [file join [srv dir] dump.rdb]
        lassign [check_rdb $file] status out
        assert_equal 0 $status
        assert_match {*Checksum OK*RDB looks OK*} $out
        assert {[string first "\[info\] [r dbsize] keys read" $out] >= 0}
        set fd [open $file rb]
        set good [read $fd]
        close $fd
        set bad [file join [srv dir] bad.rdb]
        set fd [open $bad wb]
        puts -nonewline $fd [string range $good 0 end-100]
        close $fd
        lassign [check_rdb $bad] status out
        assert_equal 1 $status
        assert_match {*RDB ERROR DETECTED*offset*} $out
        assert {[regexp {Unexpected EOF|exceeds the remaining} $out]}
        lassign [check_rdb [file join [srv dir] no-such-file.rdb]] status out
        assert_equal 1 $status
    }

    test {Corrupted files never crash the checker or the loader} {
        set fd [open [file join [srv dir] dump.rdb] rb]
        set good [read $fd]
        close $fd
        set bad [file join [srv dir] fuzz.rdb]
        set seed [clock clicks]
        expr {srand($seed)}
        set n [string length $good]
        for {set i 0} {$i < 60} {incr i} {
            set bytes $good
            for {set f 0} {$f < 1 + int(rand() * 3)} {incr f} {
                set pos [expr {9 + int(rand() * ($n - 9))}]
                set bytes [string replace $bytes $pos $pos [binary format c [expr {int(rand() * 256)}]]]
            }
            set fd [open $bad wb]
            puts -nonewline $fd $bytes
            close $fd
            lassign [check_rdb $bad] status out
            assert {$status in {0 1}}
        }
        # The loader with checksums off: corrupt values must be refused, not crash.
        r debug set-skip-checksum-validation 1
        r config set dbfilename fuzz.rdb
        for {set i 0} {$i < 60} {incr i} {
            set bytes $good
            set pos [expr {200 + int(rand() * ($n - 210))}]
            set bytes [string replace $bytes $pos $pos [binary format c [expr {int(rand() * 256)}]]]
            set fd [open $bad wb]
            puts -nonewline $fd $bytes
            close $fd
            catch {r debug reload nosave}
        }
        assert_equal PONG [r ping]
        r config set dbfilename dump.rdb
        r debug set-skip-checksum-validation 0
    }
}

start_server {tags {"rdb"}} {
    test {While a slow load runs, clients get -LOADING and INFO shows the progress} {
        r flushall
        r debug populate 5000 key 20
        r save
        set dir [srv dir]
        set port [::th::find_free_port]
        set pid [exec $::opt(server_binary) --port $port --dir $dir --save "" --key-load-delay 100 \
                     --loading-process-events-interval-bytes 1024 --logfile [file join $dir loading.log] &]
        lappend ::th::live_pids $pid
        wait_for_condition 500 10 {![catch {valkey 127.0.0.1 $port 0} client]} else {
            fail "cannot connect while loading"
        }
        assert_error {LOADING Valkey is loading the dataset in memory} {$client ping}
        assert_error {LOADING *} {$client get key:1}
        set info [$client info persistence]
        assert_equal 1 [getInfoProperty $info loading]
        assert_morethan [getInfoProperty $info loading_total_bytes] 0
        assert_morethan [getInfoProperty $info loading_loaded_bytes] 0
        assert_match {*loading_loaded_perc:*loading_eta_seconds:*} $info
        wait_done_loading $client
        $client select 9
        assert_equal 5000 [$client dbsize]
        assert_equal 0 [getInfoProperty [$client info persistence] loading]
        catch {$client shutdown nosave}
        catch {$client close}
        ::th::wait_exit $pid 5000
    }
}

if {[catch {exec python3 -c "print(1)"}]} {
    test {Legacy encodings load} {
        skip "python3 is not installed"
    }
} else {
    start_server {tags {"rdb"}} {
        test {An RDB v9 file: ziplists, zipmap, linked list, text scores, quicklist v1, old opcodes} {
            set dir [temp_dir legacy]
            exec python3 $::rdb_gen legacy [file join $dir dump.rdb]
            start_server [list overrides [list dir $dir]] {
                r select 0
                assert_equal [list a bb 12 -300 70000 -5000000 5000000000 [string repeat y 300] z] \
                    [r lrange l:ziplist 0 -1]
                assert_equal {m3 -7 m1 1.5 m2 2} [r zrange z:ziplist 0 -1 withscores]
                assert_encoding listpack z:ziplist
                assert_equal {f1 v1 f2 12} [r hgetall h:ziplist]
                assert_equal {f1 v1 field2 value2} [r hgetall h:zipmap]
                assert_encoding listpack h:zipmap
                assert_equal {-5 1 100} [r smembers s:intset]
                assert_encoding intset s:intset
                assert_equal [list one 2 [string repeat a 70]] [r lrange l:linked 0 -1]
                assert_equal {c -inf a 1.5 b inf} [r zrange z:v1 0 -1 withscores]
                # Two nodes stay two nodes (only a single node becomes a listpack).
                assert_equal {q1 q2 3 q4} [r lrange l:quicklist1 0 -1]
                assert_encoding quicklist l:quicklist1
                assert_equal {a 1 b 2} [r hgetall h:plain]
                assert_morethan [r pttl h:plain] 90000000
                assert_equal {1 x y} [lsort [r smembers s:plain]]
                assert_morethan [r ttl s:plain] 90000
                assert_equal 0 [r exists gone]
                assert_equal 0 [r exists empty:list]
                assert_range [r object idletime str:idle] 1000 1010
                assert_equal [string repeat "compressed " 10] [r get str:lzf]
                assert_equal -2000000000 [r get str:int32]
                r select 5
                assert_equal {in db 5} [r get db5key]
                set log [::th::read_file [srv stdout]]
                assert_match {*Loading RDB produced by redis version 5.0.7*} $log
                assert_match {*empty keys skipped: 1*} $log
                assert_match {*Skipped the AUX data of module*} $log
                # The function library is written back as it was read.
                r save
                lassign [check_rdb [file join $dir dump.rdb]] status out
                assert_equal 0 $status
                assert_match {*1 function libraries*} $out
            }
            file delete -force $dir
        }

        test {A Valkey 9 file (VALKEY080) with per-field expire times in a hash} {
            set dir [temp_dir valkey9]
            exec python3 $::rdb_gen valkey9 [file join $dir dump.rdb]
            start_server [list overrides [list dir $dir]] {
                r select 0
                assert_equal {f1 v1 f3 v3} [lsort -stride 2 -index 0 [r hgetall h2]]
                assert_equal {v9 string} [r get s]
            }
            file delete -force $dir
        }
    }
}

# A file written by Debian's redis-server 7.0 (RDB version 10) with every type in both
# encodings it has, and TTLs. The other direction cannot be tested: 7.0 refuses version 11.
set ::rdb_redis_binary [lindex [auto_execok redis-server] 0]
if {$::rdb_redis_binary eq ""} {
    test {An RDB written by redis-server 7.0 loads here} {
        skip "redis-server is not installed"
    }
} else {
    start_server [list tags {"rdb external:skip"} binary $::rdb_redis_binary overrides {save ""}] {
        test {An RDB written by redis-server 7.0 loads here: values, TTLs, Valkey 8 encodings} {
            populate_dbs r 0
            r select 3
            r set only-in-3 x
            r select 9
            set before [snapshot_dbs r {9 0 15 3}]
            assert_equal OK [r save]
            start_server [list overrides [list dir [srv dir]]] {
                assert_same_dbs $before [snapshot_dbs r {9 0 15 3}] 1
                assert_match {*Loading RDB produced by redis version 7.0*} [::th::read_file [srv stdout]]
                # What Valkey 8 makes of 7.0's encodings.
                assert_encoding listpack set:listpack
                assert_encoding hashtable set:hashtable
                assert_encoding listpack list:listpack
                assert_encoding quicklist list:quicklist
                assert_encoding intset set:intset
                assert_encoding listpack zset:listpack
                assert_encoding skiplist zset:skiplist
                assert_encoding listpack hash:listpack
                assert_encoding hashtable hash:hashtable
                assert_encoding embstr str:embstr
                assert_encoding int str:int
                assert_encoding raw str:compressible
                # The volatile keys kept their absolute expire times.
                assert_range [r pttl volatile:str] 99000000 100000000
                lassign [check_rdb [file join [srv -1 dir] dump.rdb]] status out
                assert_equal 0 $status
                assert_match {*AUX FIELD redis-ver = '7.0*} $out
            }
        }
    }
}
