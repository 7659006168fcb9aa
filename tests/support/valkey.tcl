# A small blocking RESP client for the test suite.
#
#   set r [valkey 127.0.0.1 6379]      ;# returns a command object
#   $r set foo bar                      ;# sends a multibulk request, returns the parsed reply
#   $r deferred 1; $r get foo; $r read  ;# send now, read later
#   $r readraw 1                        ;# every read returns one raw protocol line ("+OK", "$3", ...)
#   $r write $bytes; $r flush           ;# raw bytes on the wire
#   $r close
#
# Replies are parsed whatever protocol the server speaks: RESP2 types and, after HELLO 3,
# RESP3 types as well. Maps become flat key/value lists (usable with dict), sets and pushes
# become lists, null becomes the empty string, booleans 1/0, doubles and big numbers stay the
# text the server sent, verbatim strings lose their "txt:" prefix, attributes are skipped.
# An error reply raises a Tcl error whose message is the error text ("ERR ...", "WRONGTYPE ...").
# Inside an array, every element is read first (so the connection stays in sync) and then the
# first error is raised.
#
# The connection is binary: arguments go out as the bytes of their characters (characters
# above U+00FF are sent as UTF-8), and replies come back one character per byte.

namespace eval ::valkey {
    variable next_id 0
    # Per-connection state, indexed by connection id.
    variable fd
    variable addr
    variable deferred
    variable readraw
}

# Opens a connection and returns the name of a new command object bound to it.
proc valkey {{host 127.0.0.1} {port 6379} {defer 0} {tls 0}} {
    if {$tls} {
        error "valkey: TLS is not supported by this test client"
    }
    set id [incr ::valkey::next_id]
    set ::valkey::addr($id) [list $host $port]
    set ::valkey::fd($id) [::valkey::connect $host $port]
    set ::valkey::deferred($id) $defer
    set ::valkey::readraw($id) 0
    set handle ::valkey::conn$id
    interp alias {} $handle {} ::valkey::dispatch $id
    return $handle
}

proc ::valkey::connect {host port} {
    set fd [socket $host $port]
    fconfigure $fd -translation binary -encoding binary -buffering full -blocking 1
    return $fd
}

# Method calls on a command object; anything that is not a method is a server command.
proc ::valkey::dispatch {id method args} {
    variable fd
    variable deferred
    variable readraw
    switch -exact -- $method {
        read {
            return [read_reply $id]
        }
        write {
            puts -nonewline $fd($id) [lindex $args 0]
            return
        }
        flush {
            flush $fd($id)
            return
        }
        close {
            close_conn $id
            return
        }
        deferred {
            set deferred($id) [lindex $args 0]
            return
        }
        readraw {
            set readraw($id) [lindex $args 0]
            return
        }
        channel {
            return $fd($id)
        }
        reconnect {
            catch {close $fd($id)}
            lassign $::valkey::addr($id) host port
            set fd($id) [connect $host $port]
            return
        }
    }
    puts -nonewline $fd($id) [encode_request [list $method {*}$args]]
    flush $fd($id)
    if {$deferred($id)} {
        return
    }
    return [read_reply $id]
}

proc ::valkey::close_conn {id} {
    variable fd
    catch {close $fd($id)}
    unset -nocomplain fd($id) ::valkey::deferred($id) ::valkey::readraw($id) ::valkey::addr($id)
    catch {interp alias {} ::valkey::conn$id {}}
}

# Builds the RESP multibulk form of a list of arguments.
proc ::valkey::encode_request {argv} {
    set out "*[llength $argv]\r\n"
    foreach arg $argv {
        if {![string is ascii $arg] && [regexp {[^\u0000-\u00ff]} $arg]} {
            set arg [encoding convertto utf-8 $arg]
        }
        append out "\$[string length $arg]\r\n$arg\r\n"
    }
    return $out
}

# Reads one line without its CRLF; end of file is an error.
proc ::valkey::read_line {chan} {
    if {[gets $chan line] < 0} {
        error "I/O error reading reply: connection closed by the server"
    }
    if {[string index $line end] eq "\r"} {
        set line [string range $line 0 end-1]
    }
    return $line
}

proc ::valkey::read_exact {chan len} {
    set data [read $chan $len]
    if {[string length $data] != $len} {
        error "I/O error reading reply: connection closed in the middle of a reply"
    }
    return $data
}

proc ::valkey::read_reply {id} {
    variable fd
    variable readraw
    if {$readraw($id)} {
        return [read_line $fd($id)]
    }
    return [parse_reply $fd($id)]
}

# Reads one complete reply of any RESP2/RESP3 type and returns its Tcl value.
proc ::valkey::parse_reply {chan} {
    set line [read_line $chan]
    set type [string index $line 0]
    set body [string range $line 1 end]
    switch -exact -- $type {
        + - : - ( {
            return $body
        }
        , {
            return $body
        }
        - {
            return -code error $body
        }
        $ {
            if {$body < 0} {
                return {}
            }
            set data [read_exact $chan [expr {$body + 2}]]
            return [string range $data 0 end-2]
        }
        = {
            set data [read_exact $chan [expr {$body + 2}]]
            # Drop the three-letter format and its colon ("txt:").
            return [string range $data 4 end-2]
        }
        ! {
            set data [read_exact $chan [expr {$body + 2}]]
            return -code error [string range $data 0 end-2]
        }
        * - ~ - > {
            if {$body < 0} {
                return {}
            }
            return [read_elements $chan $body]
        }
        % {
            return [read_elements $chan [expr {$body * 2}]]
        }
        | {
            # Attributes describe the reply that follows them; the tests only want the reply.
            read_elements $chan [expr {$body * 2}]
            return [parse_reply $chan]
        }
        _ {
            return {}
        }
        # {
            return [expr {$body eq "t" ? 1 : 0}]
        }
        default {
            error "protocol error: unexpected reply type '$type' in line '$line'"
        }
    }
}

# Reads count elements; an error element is raised only after the whole aggregate is read.
proc ::valkey::read_elements {chan count} {
    set items {}
    set first_error {}
    set have_error 0
    for {set i 0} {$i < $count} {incr i} {
        if {[catch {parse_reply $chan} value]} {
            if {!$have_error} {
                set first_error $value
                set have_error 1
            }
            lappend items $value
        } else {
            lappend items $value
        }
    }
    if {$have_error} {
        return -code error $first_error
    }
    return $items
}

# Reads one complete reply and returns its exact bytes (all RESP2/RESP3 types).
# Used by the conformance tests, which compare raw replies.
proc ::valkey::read_raw_reply {chan} {
    if {[gets $chan line] < 0} {
        error "I/O error reading reply: connection closed by the server"
    }
    set out "$line\n"
    set type [string index $line 0]
    set n [string range $line 1 end-1]
    switch -exact -- $type {
        $ - = - ! {
            if {$n >= 0} {
                append out [read_exact $chan [expr {$n + 2}]]
            }
        }
        * - ~ - > {
            for {set i 0} {$i < $n} {incr i} {
                append out [read_raw_reply $chan]
            }
        }
        % - | {
            for {set i 0} {$i < 2 * $n} {incr i} {
                append out [read_raw_reply $chan]
            }
            if {$type eq "|"} {
                append out [read_raw_reply $chan]
            }
        }
    }
    return $out
}
