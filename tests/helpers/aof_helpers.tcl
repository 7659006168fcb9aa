# Helpers of the AOF tests (integration/aof.tcl, aof-multi-part.tcl, durability.tcl):
# writing AOF files and manifests by hand, reading them back as commands, running the
# server on a directory until it exits, and the checker.

# One command in RESP multibulk form, as the server writes it.
proc aof_cmd {args} {
    set out "*[llength $args]\r\n"
    foreach arg $args {
        append out "\$[string length $arg]\r\n$arg\r\n"
    }
    return $out
}

proc aof_write_file {path data} {
    file mkdir [file dirname $path]
    set fd [open $path w]
    fconfigure $fd -translation binary
    puts -nonewline $fd $data
    close $fd
}

proc aof_append_file {path data} {
    set fd [open $path a]
    fconfigure $fd -translation binary
    puts -nonewline $fd $data
    close $fd
}

proc aof_read_file {path} {
    set fd [open $path r]
    fconfigure $fd -translation binary
    set data [read $fd]
    close $fd
    return $data
}

# A fresh server directory with its appendonlydir: returns the server directory.
proc aof_fresh_dir {name} {
    set dir [file join $::th_root tests tmp "aof.[pid].[incr ::aof_dir_serial].$name"]
    file delete -force $dir
    file mkdir [file join $dir appendonlydir]
    return $dir
}

# Writes appendonlydir/appendonly.aof.manifest from a list of lines.
proc aof_write_manifest {dir lines {name appendonly.aof.manifest}} {
    set text ""
    foreach line $lines {
        append text $line "\n"
    }
    aof_write_file [file join $dir appendonlydir $name] $text
}

proc aof_manifest_lines {dir {name appendonly.aof.manifest}} {
    set lines {}
    foreach line [split [string trimright [aof_read_file [file join $dir appendonlydir $name]] "\n"] "\n"] {
        lappend lines $line
    }
    return $lines
}

# The commands of a RESP file (an incr file, a base in AOF format) as a list of lists;
# annotations are skipped.
proc aof_parse_commands {data} {
    set cmds {}
    set pos 0
    set len [string length $data]
    while {$pos < $len} {
        set eol [string first "\r\n" $data $pos]
        set line [string range $data $pos [expr {$eol - 1}]]
        set pos [expr {$eol + 2}]
        if {[string index $line 0] eq "#"} continue
        set argc [string range $line 1 end]
        set cmd {}
        for {set j 0} {$j < $argc} {incr j} {
            set eol [string first "\r\n" $data $pos]
            set n [string range $data [expr {$pos + 1}] [expr {$eol - 1}]]
            set pos [expr {$eol + 2}]
            lappend cmd [string range $data $pos [expr {$pos + $n - 1}]]
            set pos [expr {$pos + $n + 2}]
        }
        lappend cmds $cmd
    }
    return $cmds
}

proc aof_file_commands {path} {
    return [aof_parse_commands [aof_read_file $path]]
}

# The last incr file of the manifest of a server directory.
proc aof_last_incr {dir} {
    set last ""
    foreach line [aof_manifest_lines $dir] {
        if {[lindex $line end] eq "i"} {
            set last [lindex $line 1]
        }
    }
    return [file join $dir appendonlydir $last]
}

proc aof_base_file {dir} {
    foreach line [aof_manifest_lines $dir] {
        if {[lindex $line end] eq "b"} {
            return [file join $dir appendonlydir [lindex $line 1]]
        }
    }
    return ""
}

# Overrides for a server with the AOF on in dir (auto rewrite off, like Valkey's tests).
proc aof_overrides {dir {extra {}}} {
    return [concat [list dir $dir appendonly yes appendfilename appendonly.aof appenddirname appendonlydir \
                        auto-aof-rewrite-percentage 0 save ""] $extra]
}

# Runs the server on dir with the AOF on until it exits by itself (start-up failures),
# killing it after timeout seconds. Returns {exit-status log}; status -1 means it was
# still running (it started), a status above 128 that it died of a signal.
proc aof_run_until_exit {dir {extra {}} {timeout 10}} {
    set port [::th::find_free_port]
    set log [file join $dir startup.log]
    file delete $log
    set args [list --port $port --dir $dir --appendonly yes --save "" --logfile $log]
    foreach {k v} $extra {
        lappend args --$k $v
    }
    set rc [catch {exec timeout $timeout $::opt(server_binary) {*}$args 2>@1} out opts]
    set status 0
    if {$rc} {
        set code [dict get $opts -errorcode]
        set status [expr {[lindex $code 0] eq "CHILDSTATUS" ? [lindex $code 2] : -2}]
    }
    if {$status == 124} {
        set status -1
    }
    aof_assert_no_sanitizer_report $out
    return [list $status "[::th::read_file $log]$out"]
}

proc aof_assert_no_sanitizer_report {text} {
    foreach pattern {*ERROR: AddressSanitizer* *ERROR: LeakSanitizer* *runtime error:* *BUG REPORT*} {
        if {[string match $pattern $text]} {
            fail "sanitizer or crash report:\n$text"
        }
    }
}

# Starts the server on dir in the background; returns {pid port log}.
proc aof_spawn {dir {extra {}}} {
    set port [::th::find_free_port]
    set log [file join $dir server.log]
    set args [list --port $port --dir $dir --appendonly yes --save "" --logfile $log]
    foreach {k v} $extra {
        lappend args --$k $v
    }
    set pid [exec $::opt(server_binary) {*}$args &]
    lappend ::th::live_pids $pid
    return [list $pid $port $log]
}

# Waits until the server on port answers PING (not -LOADING); 0 if it died first.
proc aof_wait_ready {pid port {timeout_ms 10000}} {
    set deadline [expr {[clock milliseconds] + $timeout_ms}]
    while {[clock milliseconds] < $deadline} {
        if {![::th::is_alive $pid]} {
            return 0
        }
        if {![catch {socket 127.0.0.1 $port} fd]} {
            fconfigure $fd -translation binary -blocking 1
            set reply ""
            catch {
                puts -nonewline $fd "PING\r\n"
                flush $fd
                gets $fd reply
            }
            close $fd
            if {[string match "+PONG*" $reply]} {
                return 1
            }
        }
        after 5
    }
    return 0
}

proc aof_kill {pid {sig KILL}} {
    catch {exec kill -$sig $pid}
    ::th::wait_exit $pid 10000
}

# The checker: the valkey-check-aof link next to the server binary, or the server
# itself with --check-aof. Returns {exit-status output}. stdin: text fed to it.
proc aof_check {args} {
    set link [file join [file dirname $::opt(server_binary)] valkey-check-aof]
    if {[file exists $link]} {
        set cmd [list $link {*}$args]
    } else {
        set cmd [list $::opt(server_binary) --check-aof {*}$args]
    }
    set rc [catch {exec {*}$cmd << "" 2>@1} out opts]
    aof_assert_no_sanitizer_report $out
    set status 0
    if {$rc} {
        set code [dict get $opts -errorcode]
        if {[lindex $code 0] ne "CHILDSTATUS"} {
            error "valkey-check-aof did not exit normally ($code): $out"
        }
        set status [lindex $code 2]
    }
    return [list $status $out]
}

# Waits until no rewrite runs or is scheduled on the server behind client c.
proc aof_wait_rewrite {{c r}} {
    wait_for_condition 1000 10 {
        [aof_rewrite_idle_via $c]
    } else {
        fail "the AOF rewrite did not finish"
    }
}

# The pid of the server's fork child (a rewrite or a save), "" when none.
proc aof_child_pid {server_pid} {
    if {[catch {exec ps -o pid= --ppid $server_pid} out]} {
        return ""
    }
    return [string trim $out]
}

# Every directory made by aof_fresh_dir is removed at the end of the file unless a test
# failed (they are kept for inspection then).
proc aof_cleanup_dirs {} {
    if {[dict get $::th::counts failed] > 0 || $::opt(dont_clean)} {
        return
    }
    foreach dir [glob -nocomplain -directory [file join $::th_root tests tmp] "aof.[pid].*"] {
        file delete -force $dir
    }
}
