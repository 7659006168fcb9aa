# The test-running half of the harness, loaded in the worker process that runs one test file:
# `test`, `tags`, `skip`, tag and name filtering, and the messages sent to the driver.
#
# Results travel to the driver on stdout as lines "@@ <tcl list>" (newlines and backslashes
# escaped), so ordinary output of a test file passes through untouched.

namespace eval ::th {
    variable tags_stack {}       ;# tags of the enclosing start_server / tags blocks
    variable in_test 0
    variable current_test {}
    variable counts [dict create passed 0 failed 0 skipped 0]
}

proc ::th::send {args} {
    set line [string map [list "\\" "\\\\" "\n" "\\n" "\r" "\\r"] [list {*}$args]]
    puts stdout "@@ $line"
    flush stdout
}

proc ::th::current_tags {} {
    return [concat {*}$::th::tags_stack]
}

# Returns "" when a test with these tags may run, otherwise the reason it may not.
proc ::th::tags_block_reason {tags} {
    foreach tag $tags {
        if {$tag in $::opt(deny_tags)} {
            return "tag $tag is excluded"
        }
        if {$tag eq "external:skip" && $::opt(external)} {
            return "not supported against an external server"
        }
    }
    if {[llength $::opt(allow_tags)] > 0} {
        foreach tag $::opt(allow_tags) {
            if {$tag in $tags} {
                return ""
            }
        }
        return "no tag among: $::opt(allow_tags)"
    }
    return ""
}

proc ::th::name_selected {name} {
    if {[llength $::opt(only)] == 0} {
        return 1
    }
    foreach pattern $::opt(only) {
        if {[string match $pattern $name]} {
            return 1
        }
        if {[string index $pattern 0] eq "/" && [regexp -- [string range $pattern 1 end] $name]} {
            return 1
        }
    }
    return 0
}

proc ::th::count {what} {
    dict incr ::th::counts $what
}

proc ::th::result_ok {name ms} {
    count passed
    send ok $name $ms
}

proc ::th::result_err {name msg} {
    count failed
    send err $name $msg
}

proc ::th::result_skip {name reason} {
    count skipped
    send skip $name $reason
}

proc ::th::verbose {msg} {
    if {$::opt(verbose)} {
        send info $msg
    }
}

# Runs `code` as a test. Familiar signature: test name code ?expected? ?tags?
# When expected is given, the value of the code must equal it or match it as a glob pattern.
proc test {name code {expected undefined} {tags {}}} {
    set all_tags [concat [::th::current_tags] $tags]
    set reason [::th::tags_block_reason $all_tags]
    if {$reason ne ""} {
        # Filtered-out tests are not reported, like tests that do not exist.
        return
    }
    if {![::th::name_selected $name]} {
        return
    }
    if {$::th::in_test} {
        error "test '$name' is nested inside test '$::th::current_test'"
    }
    set ::th::in_test 1
    set ::th::current_test $name
    ::th::verbose "running: $name"
    set start [clock milliseconds]
    set code_result [catch {uplevel 1 $code} value options]
    set ms [expr {[clock milliseconds] - $start}]
    set ::th::in_test 0
    if {$code_result == 1 && [lindex [dict get $options -errorcode] 0] eq "TEST_SKIP"} {
        ::th::result_skip $name $value
        return
    }
    if {$code_result == 1} {
        ::th::result_err $name [::th::describe_error $value $options]
        return
    }
    if {$expected ne "undefined" && $value ne $expected && ![string match $expected $value]} {
        ::th::result_err $name "Expected '$expected' to equal or match '$value'"
        return
    }
    ::th::result_ok $name $ms
}

# Turns an error from a test body into the text shown to the user.
proc ::th::describe_error {value options} {
    if {[string match "assertion:*" $value]} {
        set msg [string range $value 10 end]
    } else {
        set msg "exception: $value[::th::error_location [dict get $options -errorinfo]]"
    }
    set note [::th::server_state_note]
    if {$note ne ""} {
        append msg "\n$note"
    }
    return $msg
}

# The innermost command of the test body that raised the error, from errorInfo (the
# whole trace with --verbose).
proc ::th::error_location {errorinfo} {
    if {$::opt(verbose)} {
        return "\n$errorinfo"
    }
    set lines [split $errorinfo "\n"]
    set end [lsearch -glob $lines {*("uplevel" body line *}]
    if {$end < 1} {
        return ""
    }
    set start [lsearch -glob [lrange $lines 0 $end] {*invoked from within*}]
    set cmd [string trim [lindex $lines [expr {$end - 1}]]]
    regexp {line ([0-9]+)\)} [lindex $lines $end] -> line
    return " (in: [string range $cmd 0 150], line $line of the test body)"
}

# Marks the running test as skipped, with a reason.
proc skip {reason} {
    return -code error -errorcode TEST_SKIP $reason
}

# Runs code with extra tags applied to the tests inside.
proc tags {tags code} {
    lappend ::th::tags_stack [concat {*}$tags] ;# {"a b"} is the two tags a and b
    set rc [catch {uplevel 1 $code} value options]
    set ::th::tags_stack [lrange $::th::tags_stack 0 end-1]
    return -options $options $value
}

# Hook used by describe_error; server.tcl replaces it with a check of the servers.
proc ::th::server_state_note {} {
    return ""
}
