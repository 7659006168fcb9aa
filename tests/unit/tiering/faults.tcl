# Tiering: faults. A flash file that cannot be used stops the start-up with a clear log
# line; a corrupted record is an error reply for the commands that need it (counted in
# flash_checksum_errors), never wrong data, and the server keeps serving; snapshots leave
# such a key out, with a log line, instead of failing; the thread-pool
# I/O engine (VALKEY_IO_ENGINE=threads) works.

source [file join $::th_root tests support tiering.tcl]

proc tier_assert_refused {dir pattern args} {
    lassign [tier_run_until_exit $dir {*}$args] status log
    assert_equal 1 $status "(exit status; log: $log)"
    assert_match $pattern $log
    assert_no_match {*ERROR: AddressSanitizer*} $log
    assert_no_match {*BUG REPORT*} $log
    return $log
}

tags {tiering external:skip} {
    test {Tiering: a flash-path in a missing directory stops the start-up with a clear message} {
        set dir [tier_temp_dir missing]
        tier_assert_refused $dir {*Tiering: cannot open the flash file*nosuchdir/flash.bin*No such file or directory*} \
            --flash-path [file join $dir nosuchdir flash.bin]
        file delete -force $dir
    }

    test {Tiering: a flash-path in an unwritable directory stops the start-up with a clear message} {
        set dir [tier_temp_dir unwritable]
        if {[exec id -u] == 0} {
            # Root writes anywhere: use a directory nobody may create files in.
            if {![file isdirectory /sys/kernel]} {
                file delete -force $dir
                skip "running as root and no /sys to stand for an unwritable directory"
            }
            set path /sys/kernel/tier-test-flash.bin
        } else {
            file mkdir [file join $dir ro]
            file attributes [file join $dir ro] -permissions 0555
            set path [file join $dir ro flash.bin]
        }
        set log [tier_assert_refused $dir {*Tiering: cannot open the flash file*flash.bin*} --flash-path $path]
        assert [regexp {Permission denied|Read-only file system|Operation not permitted} $log]
        catch {file attributes [file join $dir ro] -permissions 0755}
        file delete -force $dir
    }

    test {Tiering: a flash-path naming a directory or under a file stops the start-up} {
        set dir [tier_temp_dir notafile]
        tier_assert_refused $dir {*Tiering: cannot open the flash file*Is a directory*} --flash-path $dir
        set file [file join $dir plain]
        close [open $file w]
        tier_assert_refused $dir {*Tiering: cannot open the flash file*Not a directory*} \
            --flash-path [file join $file flash.bin]
        file delete -force $dir
    }

    test {Tiering: a flash-capacity too small stops the start-up with a clear message} {
        set dir [tier_temp_dir small]
        tier_assert_refused $dir {*Tiering: cannot open the flash file*capacity too small*} \
            --flash-path [file join $dir flash.bin] --flash-capacity 100kb
        file delete -force $dir
    }

    test {Tiering: a bad flash-segment-size is refused at start-up} {
        set dir [tier_temp_dir segment]
        lassign [tier_run_until_exit $dir --flash-path [file join $dir flash.bin] --flash-segment-size 100kb] status log
        assert_equal 1 $status
        assert_match {*power of two*} $log
        file delete -force $dir
    }
}

start_server [list tags {tiering external:skip} overrides [tier_overrides]] {
    # Demotes key (its value holding a recognisable marker) and corrupts its record in
    # the flash file: the bytes just after the key name (the start of the value).
    proc tier_corrupt {key} {
        tier_demote $key
        set path [file join [lindex [r config get dir] 1] flash.bin]
        set offset [tier_find_in_file $path $key]
        assert_morethan_equal $offset 0
        tier_overwrite_file $path [expr {$offset + [string length $key] + 2}] "\xde\xad\xbe\xef"
    }

    test {Tiering: a corrupted record fails the command reading it; the server keeps running} {
        r flushall
        r set tier:good "the good value [string repeat g 30]"
        tier_demote tier:good
        r set tier:corrupt1 "the corrupt value [string repeat c 30]"
        tier_corrupt tier:corrupt1
        set errors [tier_stat flash_checksum_errors]
        assert_error {*could not be read from flash (checksum or I/O error)*} {r get tier:corrupt1}
        assert_morethan [tier_stat flash_checksum_errors] $errors
        assert_equal PONG [r ping]
        # The key is still there (cold), and still fails; its neighbour reads fine.
        assert_equal 1 [r exists tier:corrupt1]
        assert_error {*could not be read from flash*} {r append tier:corrupt1 x}
        assert_equal "the good value [string repeat g 30]" [r get tier:good]
        # It can be deleted or overwritten, then used again.
        assert_equal 1 [r del tier:corrupt1]
        r set tier:corrupt1 fresh
        assert_equal fresh [r get tier:corrupt1]
    }

    test {Tiering: a corrupted record in MULTI/EXEC: an error naming the read, nothing half done} {
        r flushall
        r set tier:corrupt2 "another corrupt value [string repeat x 30]"
        tier_corrupt tier:corrupt2
        r set other ok
        r multi
        r append other !
        r get tier:corrupt2
        # Either EXEC is refused as a whole (the read fails before anything runs) or
        # only the command needing the value fails.
        if {[catch {r exec} replies]} {
            assert_match {EXECABORT*could not be read from flash*} $replies
            assert_equal ok [r get other]
        } else {
            assert_equal 3 [lindex $replies 0]
            assert_match {*could not be read from flash*} [lindex $replies 1]
        }
        assert_equal PONG [r ping]
    }

    test {Tiering: a corrupted record read synchronously by a script is an error, not a missing key} {
        r flushall
        r set tier:corrupt3 "a value scripts read [string repeat s 30]"
        tier_corrupt tier:corrupt3
        # Undeclared key: read synchronously. nil would be wrong data.
        assert_error {*could not be read from flash*} {r eval {return redis.call('get', 'tier:corrupt3')} 0}
        assert_equal 1 [r exists tier:corrupt3]
        assert_error {*could not be read from flash*} {r eval {return redis.call('get', KEYS[1])} 1 tier:corrupt3}
    }

    test {Tiering: a corrupted record of a hash: HGETALL fails, TYPE and DEL work} {
        r flushall
        r hset tier:corrupt4 field1 [string repeat h 40] field2 v2
        tier_corrupt tier:corrupt4
        assert_error {*could not be read from flash*} {r hgetall tier:corrupt4}
        assert_equal hash [r type tier:corrupt4]
        assert_equal 1 [r del tier:corrupt4]
        assert_equal 0 [tier_stat flash_cold_keys]
    }

    test {Tiering: a corrupted record is left out of SAVE, BGSAVE and AOF rewrites, logged; the rest is kept} {
        r flushall
        r set tier:kept-cold "kept cold [string repeat k 30]"
        tier_demote tier:kept-cold
        r set tier:kept-hot "kept hot"
        r rpush tier:kept-list a b c
        tier_demote tier:kept-list
        r set tier:corrupt5 "lost [string repeat l 30]"
        tier_corrupt tier:corrupt5
        set expected [list tier:kept-cold "kept cold [string repeat k 30]" tier:kept-hot "kept hot"]

        assert_equal OK [r save]
        r bgsave
        wait_for_condition 500 10 {[s rdb_bgsave_in_progress] == 0} else {fail "BGSAVE did not finish"}
        assert_equal ok [s rdb_last_bgsave_status]
        assert_match {*cold value of key 'tier:corrupt5' is corrupt on flash*left out of this snapshot*} \
            [::th::read_file [srv stdout]]

        # Without the RDB preamble the rewrite writes commands: the key is left out too.
        r config set aof-use-rdb-preamble no
        r config set appendonly yes
        wait_for_condition 500 10 {[aof_rewrite_idle]} else {
            fail "AOF rewrite did not finish"
        }
        assert_equal ok [s aof_last_bgrewrite_status]
        r config set appendonly no
        r config set aof-use-rdb-preamble yes
        # One line per snapshot (SAVE, BGSAVE, the rewrite), none saying the save failed.
        set log [::th::read_file [srv stdout]]
        assert_equal 3 [regexp -all {key 'tier:corrupt5' is corrupt on flash} $log]
        assert_equal 0 [regexp -all {key 'tier:corrupt5' could not be read from flash while saving} $log]

        # Loading the snapshot: everything but the corrupt key.
        r debug reload
        assert_equal 0 [r exists tier:corrupt5]
        foreach {key value} $expected {assert_equal $value [r get $key]}
        assert_equal {a b c} [r lrange tier:kept-list 0 -1]
        assert_equal 3 [r dbsize]
    }
}

# The thread-pool I/O engine, forced through the environment.
set ::env(VALKEY_IO_ENGINE) threads
start_server [list tags {tiering external:skip} overrides [tier_overrides]] {
    unset ::env(VALKEY_IO_ENGINE)
    test {Tiering: VALKEY_IO_ENGINE=threads: the thread-pool engine serves demotions and reads} {
        assert_equal threads [tier_stat flash_io_engine]
        r set s [string repeat "t" 100]
        r rpush l a b c
        tier_demote s
        tier_demote l
        assert_equal [string repeat "t" 100] [r get s]
        assert_equal {a b c} [r lrange l 0 -1]
        set rd [valkey_deferring_client]
        for {set i 0} {$i < 20} {incr i} {
            r set k$i "value-$i-[string repeat . 50]"
            $rd flash.debug.demote k$i
        }
        for {set i 0} {$i < 20} {incr i} {
            assert_equal OK [$rd read]
        }
        for {set i 0} {$i < 20} {incr i} {
            $rd get k$i
        }
        for {set i 0} {$i < 20} {incr i} {
            assert_equal "value-$i-[string repeat . 50]" [$rd read]
        }
        $rd close
        assert_match {*I/O engine threads*} [::th::read_file [srv stdout]]
    }
}
catch {unset ::env(VALKEY_IO_ENGINE)}

start_server [list tags {tiering external:skip} overrides [tier_overrides {flash-io-engine threads}]] {
    test {Tiering: flash-io-engine threads in the configuration} {
        assert_equal threads [tier_stat flash_io_engine]
        r set s [string repeat "u" 100]
        tier_demote s
        assert_equal [string repeat "u" 100] [r get s]
    }
}
