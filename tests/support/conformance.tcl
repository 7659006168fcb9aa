# Helpers for the conformance tests (replies.tcl, differential.tcl, command-table.tcl):
# where the Valkey 8 reference files are, raw RESP connections that return exact reply
# bytes, splitting a raw reply into its elements, and printing bytes readably.

# The directory of the facts recorded from Valkey 8: $VALKEY_REFERENCE_DIR, or
# ../shared/reference/valkey8 beside the repository.
proc reference_dir {} {
    if {[info exists ::env(VALKEY_REFERENCE_DIR)]} {
        return $::env(VALKEY_REFERENCE_DIR)
    }
    return [file normalize [file join $::th::root .. shared reference valkey8]]
}

# Opens a plain binary connection (no harness client, no SELECT).
proc raw_connect {host port} {
    set fd [socket $host $port]
    fconfigure $fd -translation binary -encoding binary -buffering full -blocking 1
    return $fd
}

# Sends one command (a list of byte strings) and returns the exact bytes of its reply.
proc raw_call {fd argv} {
    puts -nonewline $fd [::valkey::encode_request $argv]
    flush $fd
    return [::valkey::read_raw_reply $fd]
}

# Index just past the reply that starts at pos in the raw text.
proc raw_reply_end {raw pos} {
    set eol [string first "\r\n" $raw $pos]
    if {$eol < 0} {
        error "incomplete reply"
    }
    set type [string index $raw $pos]
    set n [string range $raw [expr {$pos + 1}] [expr {$eol - 1}]]
    set next [expr {$eol + 2}]
    switch -exact -- $type {
        $ - = - ! {
            if {$n >= 0} {
                incr next [expr {$n + 2}]
            }
        }
        * - ~ - > - % - | {
            set count [expr {$type in {% |} ? 2 * $n : $n}]
            if {$type eq "|"} {
                incr count
            }
            for {set i 0} {$i < $count} {incr i} {
                set next [raw_reply_end $raw $next]
            }
        }
    }
    return $next
}

# The raw bytes of each top-level element of an aggregate reply (empty for other types).
proc raw_elements {raw} {
    if {[string index $raw 0] ni {* ~ > %}} {
        return {}
    }
    set pos [expr {[string first "\r\n" $raw] + 2}]
    set elements {}
    while {$pos < [string length $raw]} {
        set end [raw_reply_end $raw $pos]
        lappend elements [string range $raw $pos [expr {$end - 1}]]
        set pos $end
    }
    return $elements
}

# The type letter and, for aggregates, the element count or, for the rest, the first line.
proc raw_header {raw} {
    return [string range $raw 0 [expr {[string first "\r\n" $raw] - 1}]]
}

# Bytes shown with \r, \n, \xHH escapes, cut at limit characters.
proc visible {text {limit 160}} {
    set out ""
    foreach ch [split $text ""] {
        scan $ch %c code
        if {$ch eq "\r"} {
            append out "\\r"
        } elseif {$ch eq "\n"} {
            append out "\\n"
        } elseif {$ch eq "\\"} {
            append out "\\\\"
        } elseif {$code < 32 || $code >= 127} {
            append out [format "\\x%02x" $code]
        } else {
            append out $ch
        }
        if {[string length $out] > $limit} {
            return "$out...([string length $text] bytes)"
        }
    }
    return $out
}

proc visible_command {argv} {
    set words {}
    foreach arg $argv {
        set shown [visible $arg 40]
        if {$shown eq "" || [regexp {\s} $shown]} {
            set shown "\"$shown\""
        }
        lappend words $shown
    }
    return [join $words " "]
}

# True when a raw reply says the command (or subcommand) does not exist on the server.
proc raw_is_unknown_command {raw} {
    return [expr {[string match "-ERR unknown command*" $raw] ||
                  [string match "-ERR unknown subcommand*" $raw]}]
}
