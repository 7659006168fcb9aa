# Entry point of the Tcl test suite (run through ./runtest).
#
# The driver finds the test files (tests/unit/**/*.tcl and tests/integration/**/*.tcl, or
# the --single ones), runs each in its own tclsh worker process (this same script with
# --worker FILE), up to --clients at a time, and collects the results the workers print
# as "@@ <list>" lines. A worker that crashes or outlives --timeout counts as a failure
# (its servers are killed too). The run ends with "N passed, N failed[, N skipped]" alone
# on the last line; the exit status is non-zero when anything failed.
#
# The worker sources tests/support/*.tcl and then the test file; see tests/README.md.

set ::th_root [file dirname [file dirname [file normalize [info script]]]]

proc usage {} {
    puts {Usage: ./runtest [options]
  --single FILE        run one test file (tests/unit/foo.tcl or unit/foo); repeatable
  --only PATTERN       run only tests whose name matches the glob (or /regexp); repeatable
  --tags "a -b"        run tests tagged a, skip tests tagged b; repeatable
  --verbose            print each test as it starts and what the harness does
  --host H --port P    run against an already running server (nothing is started)
  --clients N          test files run in parallel (default 4)
  --server-binary P    server to start (default src/valkey-server)
  --dont-clean         keep tests/tmp/server.* directories
  --timeout SECS       per-file time limit (default 600)
  --baseport N         first port for servers started by the harness (default 21111)
  --portcount N        ports reserved for each parallel client (default 100)
  --list-tests         list the test files and exit
  --help               this text}
}

proc parse_options {argv} {
    array set ::opt {
        singles {} only {} allow_tags {} deny_tags {} verbose 0 host 127.0.0.1 port 0
        external 0 clients 4 server_binary "" dont_clean 0 timeout 600 list_tests 0
        baseport 21111 portcount 100 worker "" slot 0 start_timeout 20 stop_timeout 15
    }
    set ::opt(server_binary) [file join $::th_root src valkey-server]
    set with_value {--single --only --tags --host --port --clients --server-binary --timeout
                    --baseport --portcount --worker --slot}
    for {set i 0} {$i < [llength $argv]} {incr i} {
        set arg [lindex $argv $i]
        if {$arg in $with_value} {
            if {$i + 1 >= [llength $argv]} {
                puts stderr "runtest: $arg needs a value"
                exit 2
            }
            set value [lindex $argv [incr i]]
        }
        switch -exact -- $arg {
            --single { lappend ::opt(singles) $value }
            --only { lappend ::opt(only) $value }
            --tags {
                foreach tag $value {
                    if {[string index $tag 0] eq "-"} {
                        lappend ::opt(deny_tags) [string range $tag 1 end]
                    } else {
                        lappend ::opt(allow_tags) $tag
                    }
                }
            }
            --verbose { set ::opt(verbose) 1 }
            --host { set ::opt(host) $value; set ::opt(external) 1 }
            --port { set ::opt(port) $value; set ::opt(external) 1 }
            --clients { set ::opt(clients) $value }
            --server-binary { set ::opt(server_binary) [file normalize $value] }
            --dont-clean { set ::opt(dont_clean) 1 }
            --timeout { set ::opt(timeout) $value }
            --baseport { set ::opt(baseport) $value }
            --portcount { set ::opt(portcount) $value }
            --list-tests { set ::opt(list_tests) 1 }
            --worker { set ::opt(worker) $value }
            --slot { set ::opt(slot) $value }
            --help { usage; exit 0 }
            default {
                puts stderr "runtest: unknown option '$arg' (try --help)"
                exit 2
            }
        }
    }
    foreach {name what} {clients "a positive number" timeout "a positive number"
                         baseport "a port" portcount "a positive number"} {
        if {![string is integer -strict $::opt($name)] || $::opt($name) < 1} {
            puts stderr "runtest: --$name must be $what"
            exit 2
        }
    }
    if {$::opt(external)} {
        if {$::opt(port) == 0} {
            set ::opt(port) 6379
        }
        # Test files share the one server, so they cannot run side by side.
        set ::opt(clients) 1
    }
}

# ---------------------------------------------------------------------------------------
# Worker: runs one test file.

proc run_worker {} {
    fconfigure stdout -buffering line
    foreach support {test util valkey server json conformance} {
        source [file join $::th_root tests support $support.tcl]
    }
    set ::th::root $::th_root
    set file $::opt(worker)
    if {[catch {uplevel #0 [list source $file]} err options]} {
        ::th::result_err "exception outside any test in [file tail $file]" \
            [dict get $options -errorinfo]
    }
    ::th::kill_all_servers
    ::th::send done
    exit 0
}

# ---------------------------------------------------------------------------------------
# Driver.

proc find_test_files {} {
    if {[llength $::opt(singles)] > 0} {
        set files {}
        foreach single $::opt(singles) {
            lappend files [resolve_test_file $single]
        }
        return $files
    }
    set files {}
    set pending [list [file join $::th_root tests unit] [file join $::th_root tests integration]]
    while {[llength $pending] > 0} {
        set dir [lindex $pending 0]
        set pending [lrange $pending 1 end]
        lappend files {*}[glob -nocomplain -type f -directory $dir *.tcl]
        lappend pending {*}[glob -nocomplain -type d -directory $dir *]
    }
    return [lsort $files]
}

proc resolve_test_file {name} {
    set candidates [list $name $name.tcl [file join $::th_root $name] [file join $::th_root $name.tcl] \
        [file join $::th_root tests $name] [file join $::th_root tests $name.tcl]]
    foreach candidate $candidates {
        if {[file isfile $candidate]} {
            return [file normalize $candidate]
        }
    }
    puts stderr "runtest: no test file '$name'"
    exit 2
}

proc display_name {path} {
    set prefix "[file join $::th_root tests]/"
    if {[string first $prefix $path] == 0} {
        return [file rootname [string range $path [string length $prefix] end]]
    }
    return $path
}

proc start_next_worker {slot} {
    if {[llength $::queue] == 0} {
        return
    }
    set file [lindex $::queue 0]
    set ::queue [lrange $::queue 1 end]
    set cmd [list [info nameofexecutable] [info script] {*}$::argv --worker $file --slot $slot]
    set fd [open "|$cmd 2>@1" r]
    fconfigure $fd -blocking 0 -buffering line -translation lf
    set ::workers($fd) [dict create file $file slot $slot done 0 servers {} output {} \
        start [clock milliseconds]]
    set ::timers($fd) [after [expr {$::opt(timeout) * 1000}] [list worker_timeout $fd]]
    fileevent $fd readable [list worker_readable $fd]
}

proc worker_readable {fd} {
    while {[gets $fd line] >= 0} {
        handle_worker_line $fd $line
    }
    if {[eof $fd]} {
        finish_worker $fd ""
    }
}

proc handle_worker_line {fd line} {
    set file [display_name [dict get $::workers($fd) file]]
    if {[string range $line 0 2] ne "@@ "} {
        puts $line
        set output [dict get $::workers($fd) output]
        lappend output $line
        dict set ::workers($fd) output [lrange $output end-40 end]
        return
    }
    set msg [unescape_message [string range $line 3 end]]
    set args [lassign $msg type]
    switch -exact -- $type {
        ok {
            lassign $args name ms
            incr ::passed
            puts "\[ok\]: $name ($ms ms)"
        }
        err {
            lassign $args name error
            incr ::failed
            puts "\[err\]: $name in $file"
            puts [indent $error]
            lappend ::failures [list $name $file $error]
        }
        skip {
            lassign $args name reason
            incr ::skipped
            puts "\[skip\]: $name ($reason)"
        }
        info {
            puts "\[info\]: $file: [lindex $args 0]"
        }
        serverpid {
            dict lappend ::workers($fd) servers [lindex $args 0]
        }
        serverdone {
            set servers [dict get $::workers($fd) servers]
            set index [lsearch -exact $servers [lindex $args 0]]
            if {$index >= 0} {
                dict set ::workers($fd) servers [lreplace $servers $index $index]
            }
        }
        done {
            dict set ::workers($fd) done 1
        }
    }
}

proc unescape_message {text} {
    set out ""
    set len [string length $text]
    for {set i 0} {$i < $len} {incr i} {
        set c [string index $text $i]
        if {$c eq "\\" && $i + 1 < $len} {
            set next [string index $text [incr i]]
            switch -exact -- $next {
                n { append out "\n" }
                r { append out "\r" }
                default { append out $next }
            }
        } else {
            append out $c
        }
    }
    return $out
}

proc indent {text} {
    return "    [string map [list "\n" "\n    "] $text]"
}

proc worker_timeout {fd} {
    set worker $::workers($fd)
    set file [display_name [dict get $worker file]]
    foreach pid [pid $fd] {
        catch {exec kill -KILL $pid}
    }
    foreach pid [dict get $worker servers] {
        catch {exec kill -KILL $pid}
    }
    finish_worker $fd "timed out after $::opt(timeout) s"
}

proc finish_worker {fd problem} {
    set worker $::workers($fd)
    after cancel $::timers($fd)
    fileevent $fd readable {}
    fconfigure $fd -blocking 1
    # Drain what is left, then collect the exit status.
    if {$problem eq ""} {
        while {[gets $fd line] >= 0} {
            handle_worker_line $fd $line
        }
    }
    set worker $::workers($fd)
    set status 0
    if {[catch {close $fd} err options]} {
        set code [dict get $options -errorcode]
        if {[lindex $code 0] eq "CHILDSTATUS"} {
            set status [lindex $code 2]
        } elseif {[lindex $code 0] eq "CHILDKILLED"} {
            set status "killed by [lindex $code 2]"
        }
    }
    set file [display_name [dict get $worker file]]
    if {$problem eq "" && (![dict get $worker done] || $status ne "0")} {
        set problem "the test file crashed (exit status $status)"
    }
    if {$problem ne ""} {
        # Servers a dead worker left behind must not outlive it.
        foreach pid [dict get $worker servers] {
            catch {exec kill -KILL $pid}
        }
        set tail [join [lrange [dict get $worker output] end-20 end] "\n"]
        set error $problem
        if {$tail ne ""} {
            append error "\nlast output:\n$tail"
        }
        incr ::failed
        puts "\[err\]: (whole file) in $file"
        puts [indent $error]
        lappend ::failures [list "(whole file)" $file $error]
    }
    set seconds [format %.2f [expr {([clock milliseconds] - [dict get $worker start]) / 1000.0}]]
    incr ::files_done
    puts "\[done\]: $file ($seconds s) \[$::files_done/$::files_total\]"
    unset ::workers($fd) ::timers($fd)
    if {[llength $::queue] > 0} {
        start_next_worker [dict get $worker slot]
    } elseif {[array size ::workers] == 0} {
        set ::all_done 1
    }
}

# An error inside an event handler (stdout closed, a bug here) must end the run, not hang it.
proc driver_background_error {message options} {
    catch {puts stderr "runtest: internal error: $message"}
    foreach fd [array names ::workers] {
        foreach pid [concat [pid $fd] [dict get $::workers($fd) servers]] {
            catch {exec kill -KILL $pid}
        }
    }
    exit 3
}

proc run_driver {} {
    interp bgerror {} driver_background_error
    set files [find_test_files]
    if {$::opt(list_tests)} {
        foreach file $files {
            puts [display_name $file]
        }
        exit 0
    }
    if {[llength $files] == 0} {
        puts stderr "runtest: no test files found"
        exit 2
    }
    if {!$::opt(external) && ![file executable $::opt(server_binary)]} {
        puts "\[warning\]: $::opt(server_binary) does not exist; tests that start a server will fail (build with make, or pass --server-binary)"
    }
    set ::queue $files
    set ::files_total [llength $files]
    set ::files_done 0
    set ::passed 0
    set ::failed 0
    set ::skipped 0
    set ::failures {}
    set ::all_done 0
    set start [clock milliseconds]
    for {set slot 0} {$slot < $::opt(clients) && [llength $::queue] > 0} {incr slot} {
        start_next_worker $slot
    }
    vwait ::all_done
    set seconds [format %.1f [expr {([clock milliseconds] - $start) / 1000.0}]]
    puts ""
    puts "All tests finished in $seconds s."
    if {[llength $::failures] > 0} {
        puts "Failed tests:"
        foreach failure $::failures {
            lassign $failure name file error
            puts "\[err\]: $name in $file"
            set lines [split $error "\n"]
            if {[llength $lines] > 12} {
                set lines [concat [lrange $lines 0 11] [list "... ([llength $lines] lines, see above)"]]
            }
            puts [indent [join $lines "\n"]]
        }
    }
    set summary "$::passed passed, $::failed failed"
    if {$::skipped > 0} {
        append summary ", $::skipped skipped"
    }
    puts $summary
    exit [expr {$::failed > 0 ? 1 : 0}]
}

parse_options $::argv
if {$::opt(worker) ne ""} {
    run_worker
} else {
    run_driver
}
