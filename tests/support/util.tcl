# Assertions and small helpers used by test files.
#
# A failed assertion raises an error starting with "assertion:"; `test` reports the rest of
# the message, with the file and line of the failing assertion when Tcl knows them.

# Describes where the assertion that failed was written: file:line and the command.
proc ::th::assert_context {} {
    for {set level [expr {[info frame] - 1}]} {$level > 0} {incr level -1} {
        set frame [info frame $level]
        set proc [expr {[dict exists $frame proc] ? [dict get $frame proc] : ""}]
        if {[string match {::th::*} $proc] || [string match {::assert*} $proc] ||
            $proc in {::fail ::wait_for_condition}} {
            continue
        }
        set where ""
        if {[dict exists $frame file]} {
            set where "[file tail [dict get $frame file]]:[dict get $frame line]"
        } elseif {[dict exists $frame line]} {
            set where [::th::locate_in_test [dict get $frame line] $level]
        }
        set cmd [lindex [split [dict get $frame cmd] "\n"] 0]
        if {[string length $cmd] > 120} {
            set cmd "[string range $cmd 0 119]..."
        }
        return " (at $where: $cmd)"
    }
    return ""
}

# A line counted from the start of a test body, turned into file:line. Bodies handed to
# test, start_server and tags are evaluated away from their file, so Tcl numbers their lines
# from the start of the body; adding up the offsets of the enclosing wrapper commands, down
# to one whose file Tcl knows, gives the line in the test file.
proc ::th::locate_in_test {line level} {
    set offset [expr {$line - 1}]
    for {incr level -1} {$level > 0} {incr level -1} {
        set frame [info frame $level]
        if {![regexp {^(test|start_server|tags)\s} [dict get $frame cmd]]} {
            continue
        }
        if {[dict exists $frame file]} {
            return "[file tail [dict get $frame file]]:[expr {[dict get $frame line] + $offset}]"
        }
        if {![dict exists $frame line]} {
            break
        }
        incr offset [expr {[dict get $frame line] - 1}]
    }
    return "line $line of the test body"
}

proc fail {msg} {
    error "assertion:$msg[::th::assert_context]"
}

proc assert {condition} {
    if {![uplevel 1 [list expr $condition]]} {
        fail "Expected '$condition' to be true"
    }
}

proc assert_equal {value expected {detail ""}} {
    if {$value ne $expected} {
        set msg "Expected '[::th::shorten $value]' to be equal to '[::th::shorten $expected]'"
        if {$detail ne ""} {
            append msg " $detail"
        }
        fail $msg
    }
}

proc assert_not_equal {value expected {detail ""}} {
    if {$value eq $expected} {
        fail "Expected '[::th::shorten $value]' to be not equal to '[::th::shorten $expected]' $detail"
    }
}

proc assert_match {pattern value {detail ""}} {
    if {![string match $pattern $value]} {
        fail "Expected '[::th::shorten $value]' to match '$pattern' $detail"
    }
}

proc assert_no_match {pattern value} {
    if {[string match $pattern $value]} {
        fail "Expected '[::th::shorten $value]' to not match '$pattern'"
    }
}

proc assert_failed {expected_err detail} {
    if {$detail ne ""} {
        set detail "(detail: $detail)"
    }
    fail "$expected_err $detail"
}

# Runs code, which must raise an error matching the glob pattern.
proc assert_error {pattern code {detail ""}} {
    if {[catch {uplevel 1 $code} error]} {
        if {![string match $pattern $error]} {
            fail "Expected an error matching '$pattern' but got '[::th::shorten $error]' $detail"
        }
    } else {
        fail "Expected an error matching '$pattern' but got '[::th::shorten $error]' (no error) $detail"
    }
}

proc assert_range {value min max {detail ""}} {
    if {!($value >= $min && $value <= $max)} {
        fail "Expected '$value' to be between $min and $max $detail"
    }
}

proc assert_lessthan {value expected {detail ""}} {
    if {!($value < $expected)} {
        fail "Expected '$value' to be less than '$expected' $detail"
    }
}

proc assert_lessthan_equal {value expected {detail ""}} {
    if {!($value <= $expected)} {
        fail "Expected '$value' to be less than or equal to '$expected' $detail"
    }
}

proc assert_morethan {value expected {detail ""}} {
    if {!($value > $expected)} {
        fail "Expected '$value' to be more than '$expected' $detail"
    }
}

proc assert_morethan_equal {value expected {detail ""}} {
    if {!($value >= $expected)} {
        fail "Expected '$value' to be more than or equal to '$expected' $detail"
    }
}

proc assert_encoding {enc key {level 0}} {
    set actual [r $level object encoding $key]
    if {$actual ne $enc} {
        fail "Expected encoding '$enc' for key '$key' but found '$actual'"
    }
}

proc assert_type {type key {level 0}} {
    assert_equal [r $level type $key] $type "(type of key '$key')"
}

proc assert_refcount {count key {level 0}} {
    set actual [r $level object refcount $key]
    assert_equal $actual $count "(refcount of key '$key')"
}

proc ::th::shorten {text} {
    if {[string length $text] > 500} {
        return "[string range $text 0 499]... ([string length $text] characters)"
    }
    return $text
}

# wait_for_condition maxtries delay_ms {condition} else {script}
# Evaluates the condition up to maxtries times, delay_ms apart; runs the else script
# (usually a `fail`) when it never became true.
proc wait_for_condition {maxtries delay condition else_word else_script} {
    if {$else_word ne "else"} {
        error "wait_for_condition: expected 'else', got '$else_word'"
    }
    for {set try 0} {$try < $maxtries} {incr try} {
        if {[uplevel 1 [list expr $condition]]} {
            return
        }
        after $delay
    }
    uplevel 1 $else_script
}

# Evaluates code, retrying until it returns without error, or raises the last error.
proc wait_for_no_error {maxtries delay code} {
    for {set try 1} {1} {incr try} {
        if {![catch {uplevel 1 $code} result options]} {
            return $result
        }
        if {$try >= $maxtries} {
            return -options $options $result
        }
        after $delay
    }
}

# Returns field from an INFO text, or "" when it is absent.
proc getInfoProperty {info field} {
    if {[regexp -lineanchor "^${field}:(\[^\r\n\]*)" $info -> value]} {
        return $value
    }
    return ""
}

# get_info_field client field ?section?: one INFO field, via a client command such as r or $rd.
proc get_info_field {client field {section ""}} {
    if {$section eq ""} {
        set info [{*}$client info]
    } else {
        set info [{*}$client info $section]
    }
    return [getInfoProperty $info $field]
}

# status client field: field from INFO of that client's server.
proc status {client field} {
    return [getInfoProperty [{*}$client info] $field]
}

# aof_rewrite_idle ?level?: 1 when one INFO reply of the server shows no AOF rewrite running
# and none scheduled. Asking twice is racy: the first reply can say "not running" just
# before a scheduled rewrite starts, the second "not scheduled" just after.
proc aof_rewrite_idle {{level 0}} {
    return [aof_rewrite_idle_via [srv $level client]]
}

# The same through a client command (r, $rd, ...).
proc aof_rewrite_idle_via {client} {
    set info [{*}$client info persistence]
    expr {[getInfoProperty $info aof_rewrite_in_progress] == 0 &&
          [getInfoProperty $info aof_rewrite_scheduled] == 0}
}

# s ?level? field: field from INFO of the current (or srv level) server.
proc s {args} {
    set level 0
    if {[string is integer -strict [lindex $args 0]]} {
        set level [lindex $args 0]
        set args [lrange $args 1 end]
    }
    return [status [srv $level client] [lindex $args 0]]
}

# Waits until the server behind client has finished loading its data set.
proc wait_done_loading {client} {
    wait_for_condition 500 10 {
        [catch {{*}$client ping} err] == 0 && [get_info_field $client loading] in {0 ""}
    } else {
        fail "the server is still loading its data set"
    }
}

# Makes the current server sleep in DEBUG SLEEP for seconds (fractions allowed).
proc debug_sleep {seconds {level 0}} {
    r $level debug sleep $seconds
}

# Skips the running test unless the server accepts DEBUG commands.
proc needs_debug {{level 0}} {
    if {[catch {r $level debug help} err]} {
        skip "the server does not accept DEBUG ($err)"
    }
}

# Skips the running test unless the suite runs against an external server (--host/--port).
proc needs_external {} {
    if {!$::opt(external)} {
        skip "needs an external server (--host/--port)"
    }
}

# Skips the running test when the suite runs against an external server.
proc skip_if_external {} {
    if {$::opt(external)} {
        skip "not supported against an external server"
    }
}

# Skips the running test unless the given program is installed.
proc needs_program {program} {
    if {[auto_execok $program] eq ""} {
        skip "$program is not installed"
    }
}

# The command-line client: src/valkey-cli when built, else redis-cli from PATH.
proc cli_binary {} {
    set ours [file join $::th::root src valkey-cli]
    if {[file executable $ours]} {
        return $ours
    }
    set found [auto_execok redis-cli]
    if {$found eq ""} {
        skip "neither src/valkey-cli nor redis-cli is available"
    }
    return [lindex $found 0]
}

# Runs the command-line client against the current server, in the harness's database (like
# `r`), and returns its output.
proc run_cli {args} {
    return [exec [cli_binary] -h [srv 0 host] -p [srv 0 port] -n $::th::default_db {*}$args]
}

# Lines "db,key,type,value..." describing every key of databases 0..15 (for comparing data sets).
proc csvdump {client} {
    set out {}
    for {set db 0} {$db < 16} {incr db} {
        {*}$client select $db
        foreach key [lsort [{*}$client keys *]] {
            set type [{*}$client type $key]
            set row [list $db $key $type]
            switch -exact -- $type {
                string { lappend row [{*}$client get $key] }
                list { lappend row {*}[{*}$client lrange $key 0 -1] }
                set { lappend row {*}[lsort [{*}$client smembers $key]] }
                zset { lappend row {*}[{*}$client zrange $key 0 -1 withscores] }
                hash {
                    set fields [{*}$client hgetall $key]
                    set pairs {}
                    foreach {f v} $fields { lappend pairs [list $f $v] }
                    foreach pair [lsort -index 0 $pairs] { lappend row {*}$pair }
                }
            }
            set quoted {}
            foreach item $row {
                lappend quoted "\"[string map {\" \"\"} $item]\""
            }
            append out [join $quoted ,] "\n"
        }
    }
    {*}$client select 9
    return $out
}

# Random helpers for tests that need varied data.
proc randomInt {max} {
    return [expr {int(rand() * $max)}]
}

proc randstring {min max {type binary}} {
    set len [expr {$min + int(rand() * ($max - $min + 1))}]
    set out ""
    for {set i 0} {$i < $len} {incr i} {
        switch -exact -- $type {
            alpha { set c [expr {97 + int(rand() * 26)}] }
            compr { set c [expr {48 + int(rand() * 10)}] }
            default { set c [expr {int(rand() * 256)}] }
        }
        append out [format %c $c]
    }
    return $out
}

proc lsort_unique {items} {
    return [lsort -unique $items]
}

# wait_for_blocked_client ?level?: waits until the server (srv level) reports at least
# one blocked client in INFO blocked_clients.
proc wait_for_blocked_client {{level 0}} {
    wait_for_condition 500 10 {
        [s $level blocked_clients] ne 0
    } else {
        fail "no blocked clients"
    }
}

# wait_for_blocked_clients_count count ?maxtries? ?delay_ms? ?level?: waits until INFO
# blocked_clients is exactly count.
proc wait_for_blocked_clients_count {count {maxtries 500} {delay 10} {level 0}} {
    wait_for_condition $maxtries $delay {
        [s $level blocked_clients] == $count
    } else {
        fail "expected $count blocked clients, INFO says [s $level blocked_clients]"
    }
}
