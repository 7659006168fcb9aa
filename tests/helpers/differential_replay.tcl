# Replays a sequence written by tests/unit/differential-types.tcl (tests/tmp/
# differential-types-<type>-<config>-<seed>.steps) against two running servers, ours and
# redis-server (started with the same config as the failing test: see that file's
# ::dt::configs), and reports the first reply that differs. With --shrink, it then removes
# steps for as long as the same command still differs, and prints the shortest sequence
# found, ready to paste into redis-cli.
#
#   tclsh tests/helpers/differential_replay.tcl FILE.steps OUR_PORT REDIS_PORT ?--shrink?
#
# Files of RESP3 runs (named ...-resp3-...) are replayed after HELLO 3.
# Both servers are FLUSHALLed before every replay: use servers of your own, each with its own
# --dir and --enable-debug-command yes (sequences send DEBUG RELOAD).

set root [file normalize [file join [file dirname [info script]] .. ..]]
namespace eval ::th {}
set ::th::root $root
source [file join $root tests support valkey.tcl]
source [file join $root tests support conformance.tcl]
source [file join $root tests helpers differential_types.tcl]

proc usage {} {
    puts stderr "usage: tclsh [info script] FILE.steps OUR_PORT REDIS_PORT ?--shrink?"
    exit 2
}

if {[llength $argv] < 3 || [llength $argv] > 4} {
    usage
}
lassign $argv path our_port redis_port option
if {$option ni {"" --shrink}} {
    usage
}
set fd [open $path r]
fconfigure $fd -translation binary -encoding binary
set steps [read $fd]
close $fd
set protocol [expr {[string match *-resp3-* [file tail $path]] ? 3 : 2}]
set ours [list 127.0.0.1 $our_port]
set redis [list 127.0.0.1 $redis_port]

# The first problem of a replay: {step-number command-name description}, or "".
proc first_problem {steps} {
    lassign [::dt::execute $steps {} $::ours $::redis $::protocol 1] problems
    return [lindex $problems 0]
}

# An argument as redis-cli reads it: bare, or double-quoted with \xHH escapes.
proc cli_quote {arg} {
    if {$arg ne "" && [regexp {^[!#-&(-~]+$} $arg]} {
        return $arg
    }
    set out "\""
    foreach ch [split $arg ""] {
        scan $ch %c code
        if {$ch eq "\"" || $ch eq "\\"} {
            append out "\\$ch"
        } elseif {$code < 32 || $code >= 127} {
            append out [format "\\x%02x" $code]
        } else {
            append out $ch
        }
    }
    return "$out\""
}

proc show_steps {steps} {
    foreach step $steps {
        lassign $step mode norm argv
        set words [lmap arg $argv {cli_quote $arg}]
        switch -exact -- $mode {
            multi { puts "  MULTI\n  [join $words]\n  EXEC" }
            scan { puts "  [join $words]    (a full scan: cursor after the key, until 0)" }
            default { puts "  [join $words]" }
        }
    }
}

set problem [first_problem $steps]
if {$problem eq ""} {
    puts "[llength $steps] steps replayed: no difference"
    exit 0
}
lassign $problem number name text
puts "step $number of [llength $steps] differs:\n  $text"
if {$option ne "--shrink"} {
    exit 1
}

# Shrinking: drop chunks of steps (halving the chunk size) while the same command still
# differs; the sequence always ends at the step that differs.
set steps [lrange $steps 0 [expr {$number - 1}]]
set chunk [expr {max(1, [llength $steps] / 2)}]
set replays 0
while {1} {
    set i 0
    while {$i < [llength $steps] - 1} {
        set candidate [lreplace $steps $i [expr {min($i + $chunk, [llength $steps] - 1) - 1}]]
        incr replays
        set found [first_problem $candidate]
        if {$found ne "" && [lindex $found 1] eq $name} {
            set steps [lrange $candidate 0 [expr {[lindex $found 0] - 1}]]
            set problem $found
        } else {
            incr i $chunk
        }
    }
    if {$chunk == 1} {
        break
    }
    set chunk [expr {$chunk / 2}]
}
puts "shrunk to [llength $steps] steps ($replays replays); the last one differs:"
show_steps $steps
puts "  -> [lindex $problem 2]"
exit 1
