# A fake RESP server for testing the harness's own client (tests/unit/infra.tcl).
#
#   tclsh fake_server.tcl PORT      (0 picks a free port; the port is printed on stdout)
#
# It parses multibulk requests and answers by command name:
#   REPLY <bytes>   writes <bytes> back exactly as given (any RESP, even several replies)
#   ECHOARGS ...    an array of the arguments, as bulk strings
#   CLOSE           closes the connection
#   anything else   "+OK"
# It exits when its stdin closes, so it cannot outlive the test that started it.

proc accept {chan addr port} {
    fconfigure $chan -translation binary -encoding binary -blocking 0 -buffering full
    set ::buffer($chan) ""
    fileevent $chan readable [list on_readable $chan]
}

proc on_readable {chan} {
    append ::buffer($chan) [read $chan]
    while {[set request [take_request $chan]] ne "none"} {
        answer $chan $request
        if {![info exists ::buffer($chan)]} {
            return
        }
    }
    if {[eof $chan]} {
        drop $chan
    }
}

proc drop {chan} {
    catch {close $chan}
    unset -nocomplain ::buffer($chan)
}

# Removes one complete multibulk request from the buffer; returns its arguments or "none".
proc take_request {chan} {
    set buf $::buffer($chan)
    set pos 0
    set eol [string first "\r\n" $buf $pos]
    if {$eol < 0 || [string index $buf 0] ne "*"} {
        return none
    }
    set count [string range $buf 1 [expr {$eol - 1}]]
    set pos [expr {$eol + 2}]
    set args {}
    for {set i 0} {$i < $count} {incr i} {
        set eol [string first "\r\n" $buf $pos]
        if {$eol < 0} {
            return none
        }
        set len [string range $buf [expr {$pos + 1}] [expr {$eol - 1}]]
        set start [expr {$eol + 2}]
        if {[string length $buf] < $start + $len + 2} {
            return none
        }
        lappend args [string range $buf $start [expr {$start + $len - 1}]]
        set pos [expr {$start + $len + 2}]
    }
    set ::buffer($chan) [string range $buf $pos end]
    return [list $args]
}

proc answer {chan request} {
    set args [lindex $request 0]
    switch -exact -- [string toupper [lindex $args 0]] {
        REPLY {
            puts -nonewline $chan [lindex $args 1]
        }
        ECHOARGS {
            set out "*[llength $args]\r\n"
            foreach arg $args {
                append out "\$[string length $arg]\r\n$arg\r\n"
            }
            puts -nonewline $chan $out
        }
        CLOSE {
            drop $chan
            return
        }
        default {
            puts -nonewline $chan "+OK\r\n"
        }
    }
    flush $chan
}

set listener [socket -server accept -myaddr 127.0.0.1 [lindex $argv 0]]
puts [lindex [fconfigure $listener -sockname] 2]
flush stdout
fileevent stdin readable {
    if {[gets stdin line] < 0} { exit 0 }
}
vwait forever
