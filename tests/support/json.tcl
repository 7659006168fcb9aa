# A small JSON reader for the reference files (no tcllib needed).
#
# ::json::decode text -> objects become dicts, arrays lists, strings their characters
# (\uXXXX escapes included), numbers stay as written, true/false become 1/0, null "".
# Tokenising is one regexp over the whole text, so large files parse quickly.
# ::json::read_lines path -> list of decoded values, one per non-empty line (JSON Lines).

namespace eval ::json {
    variable token_re {"(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null|[][{}:,]|[^\s]}
}

proc ::json::decode {text} {
    variable token_re
    set tokens [regexp -all -inline -- $token_re $text]
    set pos 0
    set value [parse_value $tokens pos]
    if {$pos != [llength $tokens]} {
        error "json: unexpected '[lindex $tokens $pos]' after the value"
    }
    return $value
}

proc ::json::read_lines {path} {
    set fd [open $path r]
    fconfigure $fd -encoding utf-8
    set values {}
    foreach line [split [read $fd] "\n"] {
        if {[string trim $line] ne ""} {
            lappend values [decode $line]
        }
    }
    close $fd
    return $values
}

proc ::json::read_file {path} {
    set fd [open $path r]
    fconfigure $fd -encoding utf-8
    set text [read $fd]
    close $fd
    return [decode $text]
}

proc ::json::parse_value {tokens posvar} {
    upvar 1 $posvar pos
    set token [lindex $tokens $pos]
    incr pos
    switch -exact -- $token {
        "\{" {
            set result [dict create]
            if {[lindex $tokens $pos] eq "\}"} {
                incr pos
                return $result
            }
            while 1 {
                set key [parse_value $tokens pos]
                expect $tokens pos :
                dict set result $key [parse_value $tokens pos]
                set sep [lindex $tokens $pos]
                incr pos
                if {$sep eq "\}"} {
                    return $result
                }
                if {$sep ne ","} {
                    error "json: expected ',' or '\}' but found '$sep'"
                }
            }
        }
        "\[" {
            set result {}
            if {[lindex $tokens $pos] eq "\]"} {
                incr pos
                return $result
            }
            while 1 {
                lappend result [parse_value $tokens pos]
                set sep [lindex $tokens $pos]
                incr pos
                if {$sep eq "\]"} {
                    return $result
                }
                if {$sep ne ","} {
                    error "json: expected ',' or '\]' but found '$sep'"
                }
            }
        }
        true { return 1 }
        false { return 0 }
        null { return "" }
        default {
            if {[string index $token 0] eq "\""} {
                return [unescape [string range $token 1 end-1]]
            }
            if {[string is double -strict $token]} {
                return $token
            }
            error "json: unexpected token '$token'"
        }
    }
}

proc ::json::expect {tokens posvar what} {
    upvar 1 $posvar pos
    set token [lindex $tokens $pos]
    if {$token ne $what} {
        error "json: expected '$what' but found '$token'"
    }
    incr pos
}

# JSON string escapes are a subset of Tcl's backslash substitutions (\/ becomes /).
proc ::json::unescape {text} {
    if {[string first "\\" $text] < 0} {
        return $text
    }
    return [subst -nocommands -novariables $text]
}
