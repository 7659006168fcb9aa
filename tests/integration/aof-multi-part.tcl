# Multi-part AOF: the manifest (its format and what the server refuses in it), loading
# base + incr files, upgrading an old single-file AOF, the base created at start-up,
# rewrites that fail (several incr files) or succeed (history deleted, or kept with
# aof-disable-auto-gc), the failure limit, automatic rewrites, and writes during a
# rewrite surviving a restart.

source [file join $::th_root tests helpers aof_helpers.tcl]

set base1 appendonly.aof.1.base.aof
set base2 appendonly.aof.2.base.aof
set incr1 appendonly.aof.1.incr.aof
set incr2 appendonly.aof.2.incr.aof
set incr3 appendonly.aof.3.incr.aof

proc mp_file {dir name data} {
    aof_write_file [file join $dir appendonlydir $name] $data
}

# The server refuses to start on dir; the log names the problem.
proc mp_assert_refused {dir pattern} {
    lassign [aof_run_until_exit $dir] status log
    assert_equal 1 $status "exit status, log: $log"
    assert_match $pattern $log
}

tags {"aof external:skip"} {

# ---- What the server refuses --------------------------------------------------------

test {Multi Part AOF can't load data when some file is missing} {
    set dir [aof_fresh_dir missing]
    mp_file $dir $base1 [aof_cmd set k1 v1]
    mp_file $dir $incr2 [aof_cmd set k2 v2]
    aof_write_manifest $dir [list "file $base1 seq 1 type b" "file $incr1 seq 1 type i" "file $incr2 seq 2 type i"]
    mp_assert_refused $dir {*appendonly.aof.1.incr.aof length. stat: No such file or directory*}
}

foreach {what lines message} {
    {the sequence does not increase}
        {{file appendonly.aof.2.incr.aof seq 2 type i} {file appendonly.aof.1.incr.aof seq 1 type i}}
        {*Found a non-monotonic sequence number*}
    {there is a blank line}
        {{file appendonly.aof.1.incr.aof seq 1 type i} {} {file appendonly.aof.3.incr.aof seq 3 type i}}
        {*Invalid AOF manifest file format*}
    {there are two base files}
        {{file appendonly.aof.1.base.aof seq 1 type b} {file appendonly.aof.2.base.aof seq 2 type b}}
        {*Found duplicate base file information*}
    {the type is unknown}
        {{file appendonly.aof.1.base.aof seq 1 type x}}
        {*Unknown AOF file type*}
    {a key is missing}
        {{filx appendonly.aof.1.base.aof seq 1 type b}}
        {*Invalid AOF manifest file format*}
    {a line is too short}
        {{file appendonly.aof.1.incr.aof type i}}
        {*Invalid AOF manifest file format*}
    {a line has an odd number of words}
        {{file appendonly.aof.1.incr.aof seq 1 type i newkey}}
        {*Invalid AOF manifest file format*}
    {a file name is a path}
        {{file ../appendonly.aof.1.incr.aof seq 1 type i}}
        {*File can't be a path, just a filename*}
} {
    test "Multi Part AOF can't load data when $what" {
        set dir [aof_fresh_dir refused]
        mp_file $dir $base1 [aof_cmd set k1 v1]
        mp_file $dir $base2 [aof_cmd set k2 v2]
        mp_file $dir $incr1 [aof_cmd set k3 v3]
        mp_file $dir $incr2 [aof_cmd set k4 v4]
        mp_file $dir $incr3 [aof_cmd set k5 v5]
        aof_write_manifest $dir $lines
        mp_assert_refused $dir $message
    }
}

test {Multi Part AOF can't load data when a manifest line is too long} {
    set dir [aof_fresh_dir longline]
    mp_file $dir $base1 [aof_cmd set k1 v1]
    aof_write_manifest $dir [list "file $base1 seq 1 type b[string repeat { file x seq 1 type b} 60]"]
    mp_assert_refused $dir {*The AOF manifest file contains too long line*}
}

test {Multi Part AOF can't load data when the manifest is empty} {
    set dir [aof_fresh_dir emptymanifest]
    aof_write_file [file join $dir appendonlydir appendonly.aof.manifest] ""
    mp_assert_refused $dir {*Found an empty AOF manifest*}
}

test {Multi Part AOF can't load data when the manifest names the old file and it is nowhere} {
    set dir [aof_fresh_dir oldmissing]
    aof_write_manifest $dir [list "file appendonly.aof seq 1 type b"]
    mp_assert_refused $dir {*appendonly.aof length. stat: No such file or directory*}
}

# ---- What loads -----------------------------------------------------------------------

test {Multi Part AOF can start when there is no AOF and no manifest} {
    set dir [aof_fresh_dir nothing]
    file delete -force [file join $dir appendonlydir]
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        assert_equal OK [r set k1 v1]
        assert_equal {{file appendonly.aof.1.base.rdb seq 1 type b} {file appendonly.aof.1.incr.aof seq 1 type i}} \
            [aof_manifest_lines $dir]
        assert {[file exists [file join $dir appendonlydir appendonly.aof.1.base.rdb]]}
        assert_match {*Creating AOF base file appendonly.aof.1.base.rdb on server start*Creating AOF incr file appendonly.aof.1.incr.aof on server start*} \
            [aof_read_file [srv stdout]]
    }
}

test {Multi Part AOF creates a base in AOF format when aof-use-rdb-preamble is no} {
    set dir [aof_fresh_dir basefmt]
    start_server [list overrides [aof_overrides $dir {aof-use-rdb-preamble no}] keep_persistence 1] {
        assert_equal {{file appendonly.aof.1.base.aof seq 1 type b} {file appendonly.aof.1.incr.aof seq 1 type i}} \
            [aof_manifest_lines $dir]
        r set foo behavior
        set digest [r debug digest]
        r debug loadaof
        assert_equal $digest [r debug digest]
    }
}

test {Multi Part AOF loads base and incr files with gaps in the sequence, extra keys and empty files} {
    set dir [aof_fresh_dir gaps]
    mp_file $dir $base1 [aof_cmd set k1 v1]
    mp_file $dir $incr1 ""
    mp_file $dir $incr3 [aof_cmd set k3 v3]
    aof_write_manifest $dir [list "file $base1 seq 1 type b newkey newvalue" "file $incr1 seq 1 type i" \
                                 "file $incr3 seq 3 type i"]
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        r select 0
        assert_equal v1 [r get k1]
        assert_equal v3 [r get k3]
        # Appending continues in the last incr file.
        r set k4 v4
        assert_equal [list {SELECT 0} {set k4 v4}] [lrange [aof_file_commands [file join $dir appendonlydir $incr3]] 1 end]
    }
}

test {Multi Part AOF: a truncated file that is not the last one is fatal} {
    set dir [aof_fresh_dir notlast]
    mp_file $dir $base1 "[aof_cmd set k1 v1][string range [aof_cmd set k2 v2] 0 end-2]"
    mp_file $dir $incr1 [aof_cmd set k3 v3]
    aof_write_manifest $dir [list "file $base1 seq 1 type b" "file $incr1 seq 1 type i"]
    mp_assert_refused $dir {*Fatal error: the truncated file is not the last file*}
    # Not touched: only the last file may be cut.
    assert_equal [string length "[aof_cmd set k1 v1][string range [aof_cmd set k2 v2] 0 end-2]"] \
        [file size [file join $dir appendonlydir $base1]]
}

test {Multi Part AOF: a corrupt RDB base is fatal, with its offset} {
    set dir [aof_fresh_dir badrdb]
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        r set k v
        r bgrewriteaof
        aof_wait_rewrite
    }
    set base [aof_base_file $dir]
    set data [aof_read_file $base]
    aof_write_file $base [string range $data 0 end-12]
    mp_assert_refused $dir {*Error reading the RDB base file appendonly.aof.2.base.rdb, AOF loading aborted*}
}

# ---- Upgrading an old single-file AOF -------------------------------------------------

test {Multi Part AOF upgrades an old AOF (commands)} {
    set dir [aof_fresh_dir upgrade]
    file delete -force [file join $dir appendonlydir]
    aof_write_file [file join $dir appendonly.aof] "[aof_cmd set k1 v1][aof_cmd set k2 v2][aof_cmd set k3 v3]"
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        r select 0
        assert_equal {v1 v2 v3} [r mget k1 k2 k3]
        assert_equal 0 [file exists [file join $dir appendonly.aof]]
        assert_equal 1 [file exists [file join $dir appendonlydir appendonly.aof]]
        assert_equal {{file appendonly.aof seq 1 type b} {file appendonly.aof.1.incr.aof seq 1 type i}} \
            [aof_manifest_lines $dir]
        r set k4 v4
        r bgrewriteaof
        aof_wait_rewrite
        r set k5 v5
        assert_equal {{file appendonly.aof.2.base.rdb seq 2 type b} {file appendonly.aof.2.incr.aof seq 2 type i}} \
            [aof_manifest_lines $dir]
        set digest [r debug digest]
        r debug loadaof
        assert_equal $digest [r debug digest]
    }
}

test {Multi Part AOF upgrades an old AOF with an RDB preamble} {
    set dir [aof_fresh_dir upgrade-preamble]
    start_server [list overrides [list dir $dir save ""] keep_persistence 1] {
        r select 0
        r set k1 v1
        r set k2 v2
        r save
    }
    file delete -force [file join $dir appendonlydir]
    aof_write_file [file join $dir appendonly.aof] "[aof_read_file [file join $dir dump.rdb]][aof_cmd set k3 v3]"
    file delete [file join $dir dump.rdb]
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        r select 0
        assert_equal {v1 v2 v3} [r mget k1 k2 k3]
        assert_match {*Reading RDB preamble from AOF file*Reading the remaining AOF tail*} [aof_read_file [srv stdout]]
        assert_equal {{file appendonly.aof seq 1 type b} {file appendonly.aof.1.incr.aof seq 1 type i}} \
            [aof_manifest_lines $dir]
    }
}

test {Multi Part AOF continues an interrupted upgrade} {
    set dir [aof_fresh_dir upgrade-resume]
    aof_write_file [file join $dir appendonly.aof] "[aof_cmd set k1 v1][aof_cmd set k2 v2]"
    aof_write_manifest $dir [list "file appendonly.aof seq 1 type b"]
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        r select 0
        assert_equal {v1 v2} [r mget k1 k2]
        assert_equal 0 [file exists [file join $dir appendonly.aof]]
        assert_equal {{file appendonly.aof seq 1 type b} {file appendonly.aof.1.incr.aof seq 1 type i}} \
            [aof_manifest_lines $dir]
    }
}

test {Multi Part AOF prefers the directory when both the server dir and the AOF dir have the old file} {
    set dir [aof_fresh_dir upgrade-both]
    aof_write_file [file join $dir appendonly.aof] "[aof_cmd set k1 v1]"
    aof_write_file [file join $dir appendonlydir appendonly.aof] "[aof_cmd set k4 v4]"
    aof_write_manifest $dir [list "file appendonly.aof seq 1 type b"]
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        r select 0
        assert_equal 0 [r exists k1]
        assert_equal v4 [r get k4]
        assert_equal 1 [file exists [file join $dir appendonly.aof]]
    }
}

test {Multi Part AOF handles an appendfilename with spaces (quoted in the manifest)} {
    set dir [aof_fresh_dir spaces]
    start_server [list overrides [aof_overrides $dir [list appendfilename "\"my file.aof\""]] keep_persistence 1] {
        r set k1 v1
        r bgrewriteaof
        aof_wait_rewrite
        set lines [aof_manifest_lines $dir "my file.aof.manifest"]
        assert_equal {{file "my file.aof.2.base.rdb" seq 2 type b} {file "my file.aof.2.incr.aof" seq 2 type i}} $lines
        set digest [r debug digest]
        r debug loadaof
        assert_equal $digest [r debug digest]
    }
}

# ---- Rewrites at runtime --------------------------------------------------------------

start_server {tags {"Multi Part AOF"} overrides {aof-use-rdb-preamble yes appendonly no save ""}} {
    set dir [srv dir]
    set pid [srv pid]

    test {Enabling the AOF creates the manifest, base and incr} {
        r config set appendonly yes
        aof_wait_rewrite
        assert_equal {{file appendonly.aof.1.base.rdb seq 1 type b} {file appendonly.aof.1.incr.aof seq 1 type i}} \
            [aof_manifest_lines $dir]
        for {set j 0} {$j < 200} {incr j} {r set key:$j $j}
        r bgrewriteaof
        aof_wait_rewrite
        assert_equal {{file appendonly.aof.2.base.rdb seq 2 type b} {file appendonly.aof.2.incr.aof seq 2 type i}} \
            [aof_manifest_lines $dir]
        wait_for_condition 100 10 {
            ![file exists [file join $dir appendonlydir appendonly.aof.1.base.rdb]] &&
            ![file exists [file join $dir appendonlydir appendonly.aof.1.incr.aof]]
        } else {
            fail "history files not deleted"
        }
    }

    test {Rewrites that fail leave one incr file each; the next success makes them history} {
        r config set rdb-key-save-delay 100000
        foreach attempt {1 2 3} {
            r bgrewriteaof
            r incr failures
            set child [aof_child_pid $pid]
            assert_not_equal "" $child
            exec kill -9 $child
            wait_for_condition 100 10 {[s aof_rewrite_in_progress] eq 0} else {fail "child not reaped"}
            assert_equal 0 [file exists [file join $dir temp-rewriteaof-bg-$child.aof]]
        }
        assert_equal 3 [s aof_rewrites_consecutive_failures]
        assert_equal err [s aof_last_bgrewrite_status]
        assert_equal {{file appendonly.aof.2.base.rdb seq 2 type b} {file appendonly.aof.2.incr.aof seq 2 type i} {file appendonly.aof.3.incr.aof seq 3 type i} {file appendonly.aof.4.incr.aof seq 4 type i} {file appendonly.aof.5.incr.aof seq 5 type i}} \
            [aof_manifest_lines $dir]
        set digest [r debug digest]
        r debug loadaof
        assert_equal $digest [r debug digest]
        assert_equal 3 [r get failures]

        r config set rdb-key-save-delay 0
        r bgrewriteaof
        aof_wait_rewrite
        assert_equal 0 [s aof_rewrites_consecutive_failures]
        assert_equal {{file appendonly.aof.3.base.rdb seq 3 type b} {file appendonly.aof.6.incr.aof seq 6 type i}} \
            [aof_manifest_lines $dir]
        r debug loadaof
        assert_equal $digest [r debug digest]
    }

    test {With aof-disable-auto-gc the history stays in the manifest until it is turned off} {
        r config set aof-disable-auto-gc yes
        r bgrewriteaof
        aof_wait_rewrite
        r bgrewriteaof
        aof_wait_rewrite
        assert_equal {{file appendonly.aof.5.base.rdb seq 5 type b} {file appendonly.aof.7.incr.aof seq 7 type h} {file appendonly.aof.4.base.rdb seq 4 type h} {file appendonly.aof.6.incr.aof seq 6 type h} {file appendonly.aof.3.base.rdb seq 3 type h} {file appendonly.aof.8.incr.aof seq 8 type i}} \
            [aof_manifest_lines $dir]
        assert {[file exists [file join $dir appendonlydir appendonly.aof.3.base.rdb]]}
        r config set aof-disable-auto-gc no
        assert_equal {{file appendonly.aof.5.base.rdb seq 5 type b} {file appendonly.aof.8.incr.aof seq 8 type i}} \
            [aof_manifest_lines $dir]
        wait_for_condition 100 10 {
            ![file exists [file join $dir appendonlydir appendonly.aof.3.base.rdb]]
        } else {
            fail "history files not deleted"
        }
    }

    test {Sequence numbers go on after DEBUG LOADAOF} {
        r debug loadaof
        r bgrewriteaof
        aof_wait_rewrite
        assert_equal {{file appendonly.aof.6.base.rdb seq 6 type b} {file appendonly.aof.9.incr.aof seq 9 type i}} \
            [aof_manifest_lines $dir]
    }

    test {Enabling the AOF during a BGSAVE schedules the rewrite and writes nothing meanwhile} {
        r config set appendonly no
        r config set rdb-key-save-delay 100000
        r set k1 v1
        r bgsave
        r config set appendonly yes
        assert_equal 1 [s aof_rewrite_scheduled]
        assert_equal {{file appendonly.aof.6.base.rdb seq 6 type b} {file appendonly.aof.9.incr.aof seq 9 type i}} \
            [aof_manifest_lines $dir]
        r config set rdb-key-save-delay 0
        catch {exec kill -9 [aof_child_pid $pid]}
        aof_wait_rewrite
        assert_equal {{file appendonly.aof.7.base.rdb seq 7 type b} {file appendonly.aof.10.incr.aof seq 10 type i}} \
            [aof_manifest_lines $dir]
        r set k3 v3
        r debug loadaof
        assert_equal v1 [r get k1]
        assert_equal v3 [r get k3]
    }

    test {Repeated rewrite failures stop automatic rewrites for a while, BGREWRITEAOF still runs} {
        r flushall
        r bgrewriteaof
        aof_wait_rewrite
        # Slow enough that every child is still running when the test kills it.
        r config set rdb-key-save-delay 1000000
        r config set auto-aof-rewrite-percentage 1
        r config set auto-aof-rewrite-min-size 1kb
        r set k v
        foreach attempt {1 2 3} {
            r bgrewriteaof
            # The child must exist before it can be killed (fork may lag under load).
            wait_for_condition 100 10 {[aof_child_pid $pid] ne ""} else {fail "no rewrite child"}
            catch {exec kill -9 [aof_child_pid $pid]}
            wait_for_condition 100 10 {[s aof_rewrite_in_progress] eq 0} else {fail "child not reaped"}
        }
        r set x [string repeat x 1024]
        wait_for_condition 250 20 {
            [string match "*triggered the limit*" [aof_read_file [srv stdout]]]
        } else {
            fail "the rewrite limit was not triggered"
        }
        assert_equal 0 [s aof_rewrite_in_progress]
        r config set auto-aof-rewrite-percentage 0
        r config set rdb-key-save-delay 0
        r bgrewriteaof
        aof_wait_rewrite
        assert_equal ok [s aof_last_bgrewrite_status]
        set digest [r debug digest]
        r debug loadaof
        assert_equal $digest [r debug digest]
    }

    test {Automatic rewrite when the AOF grows past auto-aof-rewrite-percentage} {
        set rewrites [s aof_rewrites]
        r config set auto-aof-rewrite-min-size 1kb
        r config set auto-aof-rewrite-percentage 100
        for {set j 0} {$j < 100} {incr j} {r set grow:$j [string repeat y 100]}
        wait_for_condition 100 20 {[s aof_rewrites] > $rewrites} else {fail "no automatic rewrite"}
        aof_wait_rewrite
        assert_match {*Starting automatic rewriting of AOF on*growth*} [aof_read_file [srv stdout]]
        r config set auto-aof-rewrite-percentage 0
    }
}

test {Writes during BGREWRITEAOF are not lost (digest equal after a restart)} {
    set dir [aof_fresh_dir rewrite-writes]
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        for {set j 0} {$j < 100} {incr j} {r set pre:$j $j}
        r config set rdb-key-save-delay 5000
        r bgrewriteaof
        assert_equal 1 [s aof_rewrite_in_progress]
        set j 0
        while {[s aof_rewrite_in_progress] eq 1} {
            r set during:$j $j
            r incr counter
            r lpush list $j
            incr j
        }
        assert_morethan $j 10
        for {set k 0} {$k < 10} {incr k} {r set post:$k $k}
        set digest [r debug digest]
        set counter [r get counter]
    }
    start_server [list overrides [aof_overrides $dir] keep_persistence 1] {
        assert_equal $digest [r debug digest]
        assert_equal $counter [r get counter]
    }
}

aof_cleanup_dirs

}
