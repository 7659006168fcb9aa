# Disk trouble under RDB and AOF persistence. A directory the server cannot write to is a
# read-only tmpfs mount when running as root (chmod does not stop root), chmod 555
# otherwise, and, for root where mount(8) is not permitted, a directory removed under
# the server's feet. A full disk is a small tmpfs (skipped without mount). Checked:
# rdb_last_bgsave_status / aof_last_write_status, the log line saying why, Valkey's
# MISCONF errors for writes, PING, scripts and transactions while the error lasts (none
# with stop-writes-on-bgsave-error no), that nothing already on disk is damaged, and
# recovery once the disk is back. The same steps run against Debian's redis-server 7.0
# when it is installed, and the replies must match with "Redis" read as "Valkey".
# PF_METHOD=mount|chmod|removed in the environment forces the read-only method.

namespace eval ::pf {
    variable root [expr {[exec id -u] == 0}]
    variable mounts {}
    variable serial 0
    # Replies recorded per server: dict who -> step -> reply (errors as "error: text").
    variable replies [dict create]
    variable redis [lindex [auto_execok redis-server] 0]
}

set ::pf::bgsave_err "MISCONF Valkey is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Valkey logs for details about the RDB error."
set ::pf::aof_enospc_err "MISCONF Errors writing to the AOF file: No space left on device"
set ::pf::aof_on_err "ERR CONFIG SET failed (possibly related to argument 'appendonly') - Unable to turn on AOF. Check server logs."
set ::pf::write_script {return redis.call('set','k','from-script')}
set ::pf::shebang_script "#!lua\nreturn redis.call('set','k','from-script')"
set ::pf::readonly_script "#!lua flags=no-writes\nreturn redis.call('get','k')"

proc ::pf::tmpdir {name} {
    set dir [file join $::th_root tests tmp "pf-$name.[pid].[incr ::pf::serial]"]
    file mkdir $dir
    return $dir
}

# 1 when a tmpfs can be mounted here (root with the capability, no seccomp filter).
proc ::pf::can_mount {} {
    variable mount_ok
    if {![info exists mount_ok]} {
        set mount_ok 0
        if {$::pf::root && [auto_execok mount] ne ""} {
            set probe [tmpdir probe]
            if {![catch {exec mount -t tmpfs -o size=64k tmpfs $probe 2>@1}]} {
                set mount_ok 1
                catch {exec umount $probe}
            }
            catch {file delete $probe}
        }
    }
    return $mount_ok
}

proc ::pf::mount {dir size} {
    exec mount -t tmpfs -o size=$size,mode=0755 tmpfs $dir
    lappend ::pf::mounts $dir
}

proc ::pf::umount {dir} {
    if {[catch {exec umount $dir 2>@1}]} {
        # Something still holds it (a server that did not exit): detach it anyway.
        catch {exec umount -l $dir 2>@1}
    }
    set i [lsearch -exact $::pf::mounts $dir]
    if {$i >= 0} {set ::pf::mounts [lreplace $::pf::mounts $i $i]}
}

proc ::pf::method {} {
    if {[info exists ::env(PF_METHOD)]} {return $::env(PF_METHOD)}
    if {!$::pf::root} {return chmod}
    if {[can_mount]} {return mount}
    return removed
}

# A directory to give the server, with the way it will be made unwritable. The errno the
# server then reports differs per way.
proc ::pf::breakable_dir {name} {
    set dir [tmpdir $name]
    set method [method]
    if {$method eq "mount"} {mount $dir 4m}
    set reason [dict get {mount {Read-only file system} chmod {Permission denied}
                          removed {No such file or directory}} $method]
    return [dict create dir $dir method $method reason $reason]
}

proc ::pf::break_dir {h} {
    set dir [dict get $h dir]
    switch [dict get $h method] {
        mount {exec mount -o remount,ro $dir}
        chmod {file attributes $dir -permissions 0555}
        removed {file delete -force $dir}
    }
    if {[dict get $h method] ne "removed" && ![catch {open [file join $dir probe] w} fd]} {
        close $fd
        file delete [file join $dir probe]
        repair_dir $h
        skip "cannot make a directory read-only here ([dict get $h method] had no effect)"
    }
}

# Makes the directory writable again. With `removed` the server must be pointed at it
# again (CONFIG SET dir): its working directory is the removed one.
proc ::pf::repair_dir {h} {
    set dir [dict get $h dir]
    switch [dict get $h method] {
        mount {exec mount -o remount,rw $dir}
        chmod {file attributes $dir -permissions 0755}
        removed {file mkdir $dir}
    }
}

proc ::pf::release_dir {h} {
    catch {repair_dir $h}
    if {[dict get $h method] eq "mount"} {umount [dict get $h dir]}
    catch {file delete -force [dict get $h dir]}
}

# Fills the file system holding dir (a tmpfs) to the last page.
proc ::pf::fill {dir} {
    set fd [open [file join $dir filler] w]
    fconfigure $fd -translation binary -buffering none
    foreach size {65536 4096 1} {
        set chunk [string repeat x $size]
        while {![catch {puts -nonewline $fd $chunk}]} {}
    }
    catch {close $fd}
}

# Runs script in the caller, records its value (or "error: message") under who/step.
proc ::pf::rec {who step script} {
    if {[catch {uplevel 1 $script} value]} {set value "error: $value"}
    dict set ::pf::replies $who $step $value
    return $value
}

proc ::pf::got {who step} {
    return [dict get $::pf::replies $who $step]
}

proc ::pf::wait_bgsave_done {} {
    wait_for_condition 500 10 {[s rdb_bgsave_in_progress] == 0} else {
        fail "BGSAVE did not finish"
    }
}

proc ::pf::wait_rewrite_done {} {
    wait_for_condition 500 10 {[aof_rewrite_idle]} else {
        fail "the AOF rewrite did not finish"
    }
}

# Replies of redis-server (who) that differ from ours (who), "Redis" read as "Valkey".
proc ::pf::differences {ours theirs} {
    set problems {}
    dict for {step reply} [dict get $::pf::replies $theirs] {
        set reply [string map {Redis Valkey} $reply]
        set mine [expr {[dict exists $::pf::replies $ours $step] ? [got $ours $step] : "(not recorded)"}]
        if {$mine ne $reply} {lappend problems "$step: ours {$mine} redis-server {$reply}"}
    }
    return $problems
}

proc ::pf::log {} {
    return [::th::read_file [srv stdout]]
}

# Runs a server binary on dir until it exits by itself; returns {exit-status log}.
proc ::pf::run_until_exit {binary dir args} {
    set log [file join [tmpdir log] startup.log]
    set rc [catch {exec timeout 10 $binary --port 0 --unixsocket [file join [file dirname $log] s.sock] \
                       --dir $dir --save "" --logfile $log {*}$args} out opts]
    set status [expr {$rc ? [lindex [dict get $opts -errorcode] 2] : 0}]
    set text [::th::read_file $log]
    file delete -force [file dirname $log]
    return [list $status $text]
}

# --- RDB: the steps, run against our server and then redis-server --------------------

proc ::pf::rdb_break_and_bgsave {who h} {
    r flushall
    r set k v
    dict set ::pf::replies $who sha [r script load $::pf::write_script]
    set ::pf::home [lindex [r config get dir] 1]
    r config set dir [dict get $h dir]
    break_dir $h
    assert_equal {Background saving started} [r bgsave]
    wait_bgsave_done
    assert_equal err [s rdb_last_bgsave_status]
    set log [log]
    assert_match "*Failed opening the temp RDB file temp-*.rdb (in server root dir *) for saving: [dict get $h reason]*" $log
    assert_match {*Background saving error*} $log
}

proc ::pf::rdb_refusals {who} {
    rec $who set {r set k v2}
    rec $who ping {r ping}
    rec $who get {r get k}
    rec $who eval-write {r eval $::pf::write_script 0}
    rec $who eval-shebang {r eval $::pf::shebang_script 0}
    rec $who eval-no-writes {r eval $::pf::readonly_script 0}
    rec $who multi-set {r multi; r set k v2}
    rec $who multi-set-exec {r exec}
    rec $who multi-get {r multi; r get k; r exec}
    rec $who save {r save}
    assert_equal err [s rdb_last_bgsave_status]
    assert_equal v [r get k]
}

proc ::pf::rdb_toggles {who} {
    r config set stop-writes-on-bgsave-error no
    rec $who set-stop-no {r set k v3}
    rec $who ping-stop-no {r ping}
    r config set stop-writes-on-bgsave-error yes
    rec $who set-stop-yes {r set k v4}
    r config set save ""
    rec $who set-no-savepoints {r set k v5}
    r config set save "900 1"
    rec $who set-savepoints-again {r set k v6}
}

proc ::pf::rdb_recover {who h} {
    repair_dir $h
    r config set dir [dict get $h dir]
    assert_equal {Background saving started} [r bgsave]
    wait_bgsave_done
    assert_equal ok [s rdb_last_bgsave_status]
    assert [file exists [file join [dict get $h dir] dump.rdb]]
    rec $who set-recovered {r set k v7}
    rec $who ping-recovered {r ping}
    r config set dir $::pf::home
}

proc ::pf::rdb_readonly_steps {who} {
    set h [breakable_dir rdb-$who]
    try {
        rdb_break_and_bgsave $who $h
        rdb_refusals $who
        rdb_toggles $who
        rdb_recover $who $h
    } finally {
        catch {r config set dir $::pf::home}
        release_dir $h
    }
}

tags {"persistence external:skip"} {

start_server {overrides {save {"900 1 300 100"}}} {
    test {A multi-argument directive given as one quoted argument is split (save "900 1")} {
        assert_equal {900 1 300 100} [lindex [r config get save] 1]
    }
}

start_server {overrides {save {900 1} enable-protected-configs yes}} {
    test "RDB into an unwritable dir ([::pf::method]): BGSAVE fails, status err, the log says why" {
        set ::pf::rdb_ready 0
        set ::pf::rdb_h [::pf::breakable_dir rdb-ours]
        try {
            ::pf::rdb_break_and_bgsave ours $::pf::rdb_h
            set ::pf::rdb_ready 1
        } on error {msg opts} {
            catch {r config set dir $::pf::home}
            ::pf::release_dir $::pf::rdb_h
            return -options $opts $msg
        }
    }

    test {RDB error: writes, PING, writing scripts and transactions get Valkey's MISCONF, reads go on} {
        if {!$::pf::rdb_ready} {skip "no failed BGSAVE to work with"}
        ::pf::rdb_refusals ours
        set sha [::pf::got ours sha]
        foreach step {set ping eval-shebang multi-set} {
            assert_equal "error: $::pf::bgsave_err" [::pf::got ours $step] $step
        }
        assert_equal "error: $::pf::bgsave_err script: $sha, on @user_script:1." [::pf::got ours eval-write]
        assert_equal v [::pf::got ours get]
        assert_equal v [::pf::got ours eval-no-writes]
        assert_equal {error: EXECABORT Transaction discarded because of previous errors.} \
            [::pf::got ours multi-set-exec]
        assert_equal v [::pf::got ours multi-get]
        # A failed SAVE answers a bare ERR.
        assert_equal {error: ERR} [::pf::got ours save]
    }

    test {RDB error: stop-writes-on-bgsave-error no accepts writes; without save points nothing is refused} {
        if {!$::pf::rdb_ready} {skip "no failed BGSAVE to work with"}
        ::pf::rdb_toggles ours
        assert_equal OK [::pf::got ours set-stop-no]
        assert_equal PONG [::pf::got ours ping-stop-no]
        assert_equal "error: $::pf::bgsave_err" [::pf::got ours set-stop-yes]
        assert_equal OK [::pf::got ours set-no-savepoints]
        assert_equal "error: $::pf::bgsave_err" [::pf::got ours set-savepoints-again]
    }

    test {RDB error: once the dir is writable again BGSAVE succeeds and writes are accepted} {
        if {!$::pf::rdb_ready} {skip "no failed BGSAVE to work with"}
        try {
            ::pf::rdb_recover ours $::pf::rdb_h
            assert_equal OK [::pf::got ours set-recovered]
            assert_equal PONG [::pf::got ours ping-recovered]
        } finally {
            catch {r config set dir $::pf::home}
            ::pf::release_dir $::pf::rdb_h
        }
    }
}

start_server {overrides {save {900 1} enable-protected-configs yes rdbcompression no}} {
    test {BGSAVE and SAVE into a full file system fail cleanly; the previous dump stays intact} {
        if {![::pf::can_mount]} {skip "cannot mount a small tmpfs here (needs root and mount permission)"}
        set d [::pf::tmpdir full]
        ::pf::mount $d 1m
        set home [lindex [r config get dir] 1]
        try {
            r config set dir $d
            r debug populate 100 small 10
            assert_equal OK [r save]
            set dump [file join $d dump.rdb]
            set before [::th::read_file $dump]
            # About 2.4 MB uncompressed: more than the file system holds.
            r debug populate 20000 big 100
            assert_equal {Background saving started} [r bgsave]
            ::pf::wait_bgsave_done
            assert_equal err [s rdb_last_bgsave_status]
            assert_match {*Write error saving DB on disk: No space left on device*} [::pf::log]
            assert_equal $before [::th::read_file $dump]
            assert_equal {} [glob -nocomplain -directory $d temp-*]
            assert_error "$::pf::bgsave_err" {r set k v}
            assert_equal 20100 [r dbsize]
            assert_error {ERR} {r save}
            assert_equal $before [::th::read_file $dump]
            assert_equal {} [glob -nocomplain -directory $d temp-*]
            # The disk grows back.
            exec mount -o remount,size=16m $d
            assert_equal {Background saving started} [r bgsave]
            ::pf::wait_bgsave_done
            assert_equal ok [s rdb_last_bgsave_status]
            assert_equal OK [r set k v]
            r debug reload nosave
            assert_equal 20100 [r dbsize]
            assert_equal {} [r get k]
        } finally {
            catch {r config set dir $home}
            ::pf::umount $d
            file delete -force $d
        }
    }
}

# --- AOF ---------------------------------------------------------------------------------

proc ::pf::aof_startup_readonly {binary} {
    set h [breakable_dir aof-start]
    try {
        break_dir $h
        return [run_until_exit $binary [dict get $h dir] --appendonly yes]
    } finally {
        release_dir $h
    }
}

proc ::pf::aof_startup_file_in_place {binary} {
    set dir [tmpdir aof-file]
    try {
        set fd [open [file join $dir appendonlydir] w]
        puts $fd "not a directory"
        close $fd
        return [run_until_exit $binary $dir --appendonly yes]
    } finally {
        file delete -force $dir
    }
}

test "AOF at start-up in an unwritable dir ([::pf::method]): exit 1, the reason in the log" {
    if {[::pf::method] eq "removed"} {skip "a removed directory cannot be a start-up dir (root without mount)"}
    lassign [::pf::aof_startup_readonly $::opt(server_binary)] status log
    assert_equal 1 $status
    set reason [dict get {mount {Read-only file system} chmod {Permission denied}} [::pf::method]]
    assert_match "*Can't open or create append-only dir appendonlydir: $reason*" $log
    if {$::pf::redis ne ""} {
        lassign [::pf::aof_startup_readonly $::pf::redis] rstatus rlog
        assert_equal 1 $rstatus
        assert_match "*Can't open or create append-only dir appendonlydir: $reason*" $rlog
    }
}

test {AOF at start-up when appenddirname is a regular file: exit 1, "Not a directory" in the log} {
    lassign [::pf::aof_startup_file_in_place $::opt(server_binary)] status log
    assert_equal 1 $status
    assert_match "*Can't open or create append-only dir appendonlydir: Not a directory*" $log
    if {$::pf::redis ne ""} {
        lassign [::pf::aof_startup_file_in_place $::pf::redis] rstatus rlog
        assert_equal 1 $rstatus
        assert_match "*Can't open or create append-only dir appendonlydir: Not a directory*" $rlog
    }
}

# CONFIG SET appendonly yes while the server dir cannot be written, then again once it can.
proc ::pf::aof_enable_steps {who binary} {
    set h [breakable_dir aof-on-$who]
    try {
        start_server [list binary $binary overrides [list save {""} appendonly no dir [dict get $h dir] \
                                                         enable-protected-configs yes]] {
            r set k v
            break_dir $h
            rec $who config-set-appendonly {r config set appendonly yes}
            assert_equal 0 [s aof_enabled]
            assert_equal 0 [s aof_rewrite_in_progress]
            assert_equal err [s aof_last_bgrewrite_status]
            assert_match "*Can't open or create append-only dir appendonlydir: [dict get $h reason]*" [log]
            # The AOF is off: nothing refuses writes.
            rec $who set-aof-off {r set k v2}
            repair_dir $h
            r config set dir [dict get $h dir]
            rec $who config-set-appendonly-again {r config set appendonly yes}
            wait_rewrite_done
            assert_equal 1 [s aof_enabled]
            assert_equal ok [s aof_last_bgrewrite_status]
            rec $who set-aof-on {r set k v3}
            r debug loadaof
            assert_equal v3 [r get k]
        }
    } finally {
        release_dir $h
    }
}

test "CONFIG SET appendonly yes in an unwritable dir ([::pf::method]) fails with Valkey's error; works once fixed" {
    ::pf::aof_enable_steps ours-aof-on $::opt(server_binary)
    assert_equal "error: $::pf::aof_on_err" [::pf::got ours-aof-on config-set-appendonly]
    assert_equal OK [::pf::got ours-aof-on set-aof-off]
    assert_equal OK [::pf::got ours-aof-on config-set-appendonly-again]
    assert_equal OK [::pf::got ours-aof-on set-aof-on]
}

# An AOF write error while running: the disk fills up under appendfsync everysec.
proc ::pf::aof_enospc_steps {who binary} {
    if {![can_mount]} {skip "cannot mount a small tmpfs here (needs root and mount permission)"}
    set d [tmpdir aof-full-$who]
    mount $d 1m
    try {
        start_server [list binary $binary overrides [list save {""} appendonly yes appendfsync everysec \
                                                         dir $d auto-aof-rewrite-percentage 0]] {
            dict set ::pf::replies $who sha [r script load $::pf::write_script]
            r set before 1
            fill $d
            # More than the page the incr file ends in can take. The reply is already
            # owed under everysec; the command stays buffered and is retried.
            rec $who set-first {r set big [string repeat x 10000]}
            wait_for_condition 100 20 {[s aof_last_write_status] eq "err"} else {
                fail "no AOF write error"
            }
            assert [regexp {Short write while writing to the AOF file|Error writing to the AOF file: No space left on device} [log]]
            rec $who set {r set k v}
            rec $who ping {r ping}
            rec $who get {r get before}
            rec $who eval-write {r eval $::pf::write_script 0}
            rec $who eval-shebang {r eval $::pf::shebang_script 0}
            rec $who eval-no-writes {r eval $::pf::readonly_script 0}
            rec $who multi-set {r multi; r set k v2}
            rec $who multi-set-exec {r exec}
            rec $who config-set-appendonly {r config set appendonly yes}
            file delete [file join $d filler]
            wait_for_condition 200 20 {[s aof_last_write_status] eq "ok"} else {
                fail "the AOF write error did not clear"
            }
            assert_match {*AOF write error looks solved*} [log]
            rec $who set-recovered {r set after 1}
            # What was acknowledged is in the AOF, and it loads.
            r debug loadaof
            assert_equal 1 [r get before]
            assert_equal 10000 [r strlen big]
            assert_equal 1 [r get after]
            assert_equal {} [r get k]
        }
    } finally {
        umount $d
        file delete -force $d
    }
}

test {AOF write error (disk full): aof_last_write_status:err, MISCONF for writes and scripts, recovery} {
    ::pf::aof_enospc_steps ours-aof-full $::opt(server_binary)
    set sha [::pf::got ours-aof-full sha]
    assert_equal OK [::pf::got ours-aof-full set-first]
    foreach step {set ping eval-shebang multi-set} {
        assert_equal "error: $::pf::aof_enospc_err" [::pf::got ours-aof-full $step] $step
    }
    assert_equal "error: $::pf::aof_enospc_err script: $sha, on @user_script:1." [::pf::got ours-aof-full eval-write]
    assert_equal 1 [::pf::got ours-aof-full get]
    assert_equal {} [::pf::got ours-aof-full eval-no-writes]
    assert_equal {error: EXECABORT Transaction discarded because of previous errors.} \
        [::pf::got ours-aof-full multi-set-exec]
    assert_equal OK [::pf::got ours-aof-full config-set-appendonly]
    assert_equal OK [::pf::got ours-aof-full set-recovered]
}

# With appendfsync always an acknowledged write must be on disk: a write error stops the
# server before the reply goes out.
proc ::pf::aof_always_enospc {binary} {
    if {![can_mount]} {skip "cannot mount a small tmpfs here (needs root and mount permission)"}
    set d [tmpdir aof-always]
    mount $d 1m
    try {
        start_server [list binary $binary overrides [list save {""} appendonly yes appendfsync always dir $d]] {
            r set before 1
            fill $d
            set pid [srv pid]
            assert_error {*} {r set big [string repeat x 10000]}
            assert [::th::wait_exit $pid 5000]
            assert_match {*Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...*} [log]
        }
    } finally {
        umount $d
        file delete -force $d
    }
}

test {AOF write error with appendfsync always: the server exits without acknowledging the write} {
    ::pf::aof_always_enospc $::opt(server_binary)
}

# --- The same against redis-server 7.0 ---------------------------------------------------

if {$::pf::redis eq ""} {
    test {Disk-error replies match redis-server 7.0} {
        skip "redis-server is not installed"
    }
} else {
    start_server [list binary $::pf::redis overrides {save {900 1} enable-protected-configs yes}] {
        test {RDB error replies match redis-server 7.0 ("Redis" read as "Valkey")} {
            ::pf::rdb_readonly_steps redis
            assert_equal {} [::pf::differences ours redis]
        }
    }

    test {AOF error replies match redis-server 7.0 ("Redis" read as "Valkey")} {
        ::pf::aof_enable_steps redis-aof-on $::pf::redis
        assert_equal {} [::pf::differences ours-aof-on redis-aof-on]
        if {![::pf::can_mount]} {skip "the disk-full part needs a tmpfs (root and mount permission)"}
        ::pf::aof_enospc_steps redis-aof-full $::pf::redis
        assert_equal {} [::pf::differences ours-aof-full redis-aof-full]
    }

    test {appendfsync always on a full disk: redis-server 7.0 exits the same way} {
        ::pf::aof_always_enospc $::pf::redis
    }
}

}

# Whatever failed above, no tmpfs stays mounted.
foreach dir $::pf::mounts {::pf::umount $dir}
