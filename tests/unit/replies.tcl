# Conformance: replays the Valkey 8 reply transcripts (../shared/reference/valkey8/
# replies-<family>.jsonl, see its README.md) against our server over one raw connection per
# family, and compares the exact RESP2 bytes of every reply. One test per command name
# (per subcommand for containers such as OBJECT) reports that command's mismatches.
#
# Relaxations, all documented by the reference README or forced by time:
# - Unordered replies (KEYS, SMEMBERS, SINTER, SUNION, SDIFF, HKEYS, HVALS, HGETALL) are
#   compared as multisets of elements (HGETALL as field/value pairs).
# - Random replies (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, RANDOMKEY) only need the same
#   shape: same reply type and, for arrays, the same number of elements of the same types.
# - A positive TTL/PTTL may differ by the time elapsed (the replay's duration + 2 s).
# - A positive EXPIRETIME/PEXPIRETIME that came from a relative expire differs by when the
#   session ran: all such values must be shifted by one common offset (± the elapsed time).
# - Commands our server answers with "unknown command"/"unknown subcommand" (a family not
#   implemented yet) are counted as skipped, not failed, and listed.
# - "Tainted" keys: a key touched by a skipped command, or given an expiry shorter than 10 s
#   (whether it had expired when the transcript was recorded depends on the recorder's speed),
#   has an unknowable state. A mismatch of a command involving a tainted key (or, for DBSIZE,
#   of any command while a key is tainted; KEYS is compared without the tainted names) is
#   tolerated and counted, not failed. Writes through a tainted key taint their other keys;
#   a key becomes clean again when a command sets it regardless of its past (DEL, UNLINK,
#   GETDEL, plain SET, MSET, SETEX/PSETEX with a long expiry, FLUSHALL). Keys are the
#   transcript's key names (k0..k5, {t}a, {t}b).
# - Transactions (the tx family): inside MULTI a command only answers +QUEUED; what it does
#   happens at EXEC, so its taint bookkeeping is applied there, in order, each with its own
#   element of the recorded EXEC array (and each element is judged with the relaxations
#   above). A queued command our server does not know aborts our transaction: the EXEC
#   counts as skipped and the keys of every queued command become tainted. A WATCH whose
#   keys are (or become, before EXEC) tainted makes the EXEC's fate unknowable: a null
#   array on one side only is tolerated, and the queued commands' keys become tainted.
# - The recorder sent the one non-ASCII word of its vocabulary, "\u00ff", UTF-8 encoded
#   (two bytes, as the replies show: SET k ÿ then GET k answers $2 "\xc3\xbf"); all other
#   arguments are one byte per character. The replay sends the same bytes.
#
# - The scripts family was recorded inside a MULTI left open by the recorder (all its replies
#   are +QUEUED or arity errors): it is replayed inside a MULTI, discarded at the end.
#
# Families replayed: every data-type family; commands not implemented yet are skipped
# ($::env(REPLIES_FAMILIES) overrides, e.g. "strings keys
# lists"). Without the reference directory every test is skipped with the reason.

namespace eval ::replies {
    variable families {strings keys lists hashes sets zsets tx scripts}
    if {[info exists ::env(REPLIES_FAMILIES)]} {
        set families $::env(REPLIES_FAMILIES)
    }
    variable unordered {KEYS SMEMBERS SINTER SUNION SDIFF HKEYS HVALS HGETALL}
    variable random {SPOP SRANDMEMBER HRANDFIELD ZRANDMEMBER RANDOMKEY}
    variable keyless_global {DBSIZE RANDOMKEY SCAN}
    variable short_ttl_ms 10000
    variable key_pattern {^(k[0-9]+|\{t\}[a-z0-9]+)$}
    variable command_info {}
    # Config overrides of the server (a test of the taint logic renames commands away).
    variable server_overrides
    if {![info exists server_overrides]} {
        set server_overrides {}
    }
}

# --- loading -------------------------------------------------------------------------------

proc ::replies::load_command_info {dir} {
    variable command_info
    set path [file join $dir command-info.json]
    if {[file exists $path]} {
        set command_info [::json::read_file $path]
    }
}

# The name results are grouped under: the command, or "CONTAINER SUB" for containers.
proc ::replies::group_name {argv} {
    variable command_info
    set name [string tolower [lindex $argv 0]]
    if {[llength $argv] > 1 && [dict exists $command_info $name subcommands] &&
        [llength [dict get $command_info $name subcommands]] > 0} {
        return [string toupper "$name [lindex $argv 1]"]
    }
    return [string toupper $name]
}

proc ::replies::is_readonly {argv} {
    variable command_info
    set name [string tolower [lindex $argv 0]]
    if {![dict exists $command_info $name flags]} {
        return 0
    }
    set flags [dict get $command_info $name flags]
    if {[llength [dict get $command_info $name subcommands]] > 0 && [llength $argv] > 1} {
        set full "$name|[string tolower [lindex $argv 1]]"
        foreach sub [dict get $command_info $name subcommands] {
            if {[dict get $sub name] eq $full} {
                set flags [dict get $sub flags]
            }
        }
    }
    return [expr {"readonly" in $flags}]
}

proc ::replies::wire_args {argv} {
    set out {}
    foreach arg $argv {
        if {$arg eq "\u00ff"} {
            set arg "\xc3\xbf"
        }
        lappend out $arg
    }
    return $out
}

proc ::replies::key_names {argv} {
    variable key_pattern
    set keys {}
    foreach arg [lrange $argv 1 end] {
        if {[regexp $key_pattern $arg] && $arg ni $keys} {
            lappend keys $arg
        }
    }
    return $keys
}

# The keys a command touches, as "db/name": its key arguments in the selected database, and
# for MOVE and COPY ... DB n the key in the other database too.
proc ::replies::key_ids {db argv} {
    set name [string toupper [lindex $argv 0]]
    set names [key_names $argv]
    set ids [lmap key $names {string cat $db / $key}]
    if {$name eq "MOVE" && [string is integer -strict [lindex $argv 2]]} {
        lappend ids "[lindex $argv 2]/[lindex $argv 1]"
    }
    if {$name eq "COPY"} {
        set at [lsearch -exact [lmap a $argv {string toupper $a}] DB]
        if {$at > 0 && [string is integer -strict [lindex $argv $at+1]]} {
            set ids [list "$db/[lindex $argv 1]" "[lindex $argv $at+1]/[lindex $argv 2]"]
        }
    }
    return $ids
}

proc ::replies::tainted_in_db {stvar} {
    upvar 1 $stvar st
    set names {}
    foreach id [dict keys $st(tainted)] {
        if {[string match "$st(db)/*" $id]} {
            lappend names [string range $id [string length "$st(db)/"] end]
        }
    }
    return $names
}

# --- judging one reply ---------------------------------------------------------------------

proc ::replies::multiset {raw paired} {
    set elements [raw_elements $raw]
    if {$paired} {
        set pairs {}
        foreach {a b} $elements {
            lappend pairs "$a$b"
        }
        set elements $pairs
    }
    return [lsort $elements]
}

proc ::replies::same_shape {expected actual} {
    if {[string index $expected 0] ne [string index $actual 0]} {
        return 0
    }
    if {[string index $expected 0] in {* ~ %}} {
        set e [raw_elements $expected]
        set a [raw_elements $actual]
        if {[llength $e] != [llength $a]} {
            return 0
        }
        foreach x $e y $a {
            if {[string index $x 0] ne [string index $y 0]} {
                return 0
            }
        }
    }
    return 1
}

proc ::replies::int_reply {raw} {
    if {[regexp {^:(-?[0-9]+)\r\n$} $raw -> value]} {
        return $value
    }
    return ""
}

# Returns ok, skip, tolerated or mismatch for one reply; updates the session state.
proc ::replies::judge {stvar argv expected actual} {
    upvar 1 $stvar st
    variable unordered
    variable random
    variable keyless_global
    if {$actual eq $expected} {
        return ok
    }
    if {[raw_is_unknown_command $actual] && ![raw_is_unknown_command $expected]} {
        return skip
    }
    set name [string toupper [lindex $argv 0]]
    set tainted [tainted_in_db st]
    set elapsed_ms [expr {[clock milliseconds] - $st(start)}]
    if {$name in $unordered} {
        set paired [expr {$name eq "HGETALL"}]
        set e [multiset $expected $paired]
        set a [multiset $actual $paired]
        if {[llength [raw_elements $expected]] > 0 && $e eq $a} {
            return ok
        }
        if {$name eq "KEYS" && [llength $tainted] > 0} {
            set shown {}
            foreach key $tainted {
                lappend shown "\$[string length $key]\r\n$key\r\n"
            }
            set e2 [lmap x $e {expr {$x in $shown ? [continue] : $x}}]
            set a2 [lmap x $a {expr {$x in $shown ? [continue] : $x}}]
            if {$e2 eq $a2} {
                return tolerated
            }
        }
    }
    if {$name in $random && [same_shape $expected $actual]} {
        return ok
    }
    set e [int_reply $expected]
    set a [int_reply $actual]
    if {$e ne "" && $a ne "" && $e > 0 && $a > 0} {
        if {$name in {TTL PTTL}} {
            set slack [expr {$name eq "TTL" ? $elapsed_ms / 1000 + 2 : $elapsed_ms + 2000}]
            if {abs($e - $a) <= $slack} {
                return ok
            }
        }
        if {$name in {EXPIRETIME PEXPIRETIME}} {
            set scale [expr {$name eq "EXPIRETIME" ? 1000 : 1}]
            set shift [expr {($a - $e) * $scale}]
            if {$st(shift) eq ""} {
                # The first relative expiry fixes how much later than the recording we run.
                if {$shift > -5000} {
                    set st(shift) $shift
                    return ok
                }
            } elseif {abs($shift - $st(shift)) <= $elapsed_ms + 2000} {
                return ok
            }
        }
    }
    foreach id [key_ids $st(db) $argv] {
        if {[dict exists $st(tainted) $id]} {
            return tolerated
        }
    }
    if {$name in $keyless_global && [llength $tainted] > 0} {
        return tolerated
    }
    return mismatch
}

# --- tracking tainted keys -----------------------------------------------------------------

# The expiry in milliseconds a successful command sets on its key, or "" for none.
proc ::replies::expiry_set_ms {argv} {
    set name [string toupper [lindex $argv 0]]
    set args [lrange $argv 1 end]
    switch -exact -- $name {
        SETEX { return [to_ms [lindex $args 1] 1000] }
        PSETEX { return [to_ms [lindex $args 1] 1] }
        EXPIRE { return [to_ms [lindex $args 1] 1000] }
        PEXPIRE { return [to_ms [lindex $args 1] 1] }
        SET - GETEX {
            foreach {i} [lsearch -all -regexp $args {(?i)^(EX|PX)$}] {
                set unit [expr {[string toupper [lindex $args $i]] eq "EX" ? 1000 : 1}]
                return [to_ms [lindex $args [expr {$i + 1}]] $unit]
            }
        }
    }
    return ""
}

proc ::replies::to_ms {value unit} {
    if {[string is wideinteger -strict $value]} {
        return [expr {$value * $unit}]
    }
    return ""
}

proc ::replies::succeeded {expected} {
    return [expr {[string index $expected 0] ne "-" && $expected ni {":0\r\n" "\$-1\r\n"}}]
}

proc ::replies::update_taint {stvar argv expected verdict} {
    upvar 1 $stvar st
    variable short_ttl_ms
    set name [string toupper [lindex $argv 0]]
    set keys [key_ids $st(db) $argv]
    if {$name eq "SELECT" && $expected eq "+OK\r\n"} {
        set st(db) [lindex $argv 1]
    }
    if {$verdict eq "skip"} {
        foreach key $keys {
            dict set st(tainted) $key "touched by $name, which our server does not know"
        }
        return
    }
    set touched 0
    foreach key $keys {
        if {[dict exists $st(tainted) $key]} {
            set touched 1
        }
    }
    if {$touched && ![is_readonly $argv]} {
        foreach key $keys {
            if {![dict exists $st(tainted) $key]} {
                dict set st(tainted) $key "written by $name together with a tainted key"
            }
        }
    }
    # Commands after which the key's state no longer depends on its past.
    set upper [lmap a $argv {string toupper $a}]
    set cleaned {}
    switch -exact -- $name {
        DEL - UNLINK - GETDEL { set cleaned $keys }
        FLUSHALL { set st(tainted) [dict create] }
        FLUSHDB {
            foreach key [dict keys $st(tainted) "$st(db)/*"] {
                dict unset st(tainted) $key
            }
        }
        SET {
            if {[llength [lsearch -all -regexp $upper {^(NX|XX|KEEPTTL|GET)$}]] == 0 &&
                $expected eq "+OK\r\n"} {
                set cleaned $keys
            }
        }
        MSET - SETEX - PSETEX {
            if {$expected eq "+OK\r\n"} {
                set cleaned $keys
            }
        }
    }
    foreach key $cleaned {
        dict unset st(tainted) $key
    }
    set ms [expiry_set_ms $argv]
    if {$ms ne "" && $ms > 0 && $ms < $short_ttl_ms && [succeeded $expected]} {
        foreach key [lrange $keys 0 0] {
            dict set st(tainted) $key "given a $ms ms expiry"
        }
    }
}

# --- transactions -------------------------------------------------------------------------

proc ::replies::fresh_tx_state {stvar} {
    upvar 1 $stvar st
    set st(multi) 0
    set st(queued) {}
    set st(tx_unknown) 0
    set st(watched) {}
    set st(watch_tainted) 0
}

# Remembers that a watched key's state became unknowable (it stays so until EXEC/UNWATCH).
proc ::replies::note_watch_taint {stvar} {
    upvar 1 $stvar st
    foreach id $st(watched) {
        if {[dict exists $st(tainted) $id]} {
            set st(watch_tainted) 1
        }
    }
}

proc ::replies::taint_queued {stvar reason} {
    upvar 1 $stvar st
    foreach argv $st(queued) {
        foreach id [key_ids $st(db) $argv] {
            dict set st(tainted) $id $reason
        }
    }
}

proc ::replies::worst_verdict {a b} {
    set rank {ok 0 skip 1 tolerated 2 mismatch 3}
    return [expr {[dict get $rank $a] >= [dict get $rank $b] ? $a : $b}]
}

proc ::replies::is_exec_array {raw} {
    return [expr {[string index $raw 0] eq "*" && $raw ne "*-1\r\n"}]
}

# The verdict on an EXEC inside a transaction; applies the queued commands' effects.
proc ::replies::judge_exec {stvar expected actual} {
    upvar 1 $stvar st
    set queued $st(queued)
    note_watch_taint st
    set verdict ok
    if {$st(tx_unknown)} {
        set verdict [expr {$actual eq $expected ? "ok" : "skip"}]
        taint_queued st "queued with a command our server does not know"
    } elseif {[is_exec_array $expected] && [is_exec_array $actual] &&
              [llength [raw_elements $expected]] == [llength $queued] &&
              [llength [raw_elements $actual]] == [llength $queued]} {
        foreach argv $queued e [raw_elements $expected] a [raw_elements $actual] {
            set v [judge st $argv $e $a]
            update_taint st $argv $e $v
            set verdict [worst_verdict $verdict $v]
        }
    } elseif {$actual eq $expected} {
        # EXECABORT or a failed WATCH on both sides: nothing ran.
    } else {
        set null_on_one_side [expr {"*-1\r\n" in [list $expected $actual]}]
        set verdict [expr {$st(watch_tainted) && $null_on_one_side ? "tolerated" : "mismatch"}]
        taint_queued st "queued in a transaction that ran on one side only"
    }
    fresh_tx_state st
    return $verdict
}

# Judges one command of the session, transactions included; updates the session state.
proc ::replies::step {stvar argv expected actual} {
    upvar 1 $stvar st
    set name [string toupper [lindex $argv 0]]
    if {$st(multi)} {
        if {$name eq "EXEC"} {
            return [judge_exec st $expected $actual]
        }
        set verdict [judge st $argv $expected $actual]
        if {$name in {DISCARD RESET} && [string index $expected 0] eq "+"} {
            fresh_tx_state st
        } elseif {$expected eq "+QUEUED\r\n"} {
            lappend st(queued) $argv
            if {$verdict eq "skip"} {
                set st(tx_unknown) 1
            }
        }
        return $verdict
    }
    set verdict [judge st $argv $expected $actual]
    update_taint st $argv $expected $verdict
    if {$expected eq "+OK\r\n"} {
        switch -exact -- $name {
            MULTI {
                set st(multi) 1
            }
            WATCH {
                lappend st(watched) {*}[key_ids $st(db) $argv]
            }
            UNWATCH {
                set st(watched) {}
                set st(watch_tainted) 0
            }
        }
    }
    note_watch_taint st
    return $verdict
}

# --- replaying a transcript -------------------------------------------------------------

# Replays one transcript; returns a dict: name -> {calls ok tolerated skipped mismatches}.
proc ::replies::replay {path} {
    set entries [::json::read_lines $path]
    set fd [raw_connect [srv 0 host] [srv 0 port]]
    foreach setup {{SELECT 0} {FLUSHALL} {SCRIPT FLUSH}} {
        raw_call $fd $setup
    }
    array set st [list tainted [dict create] start [clock milliseconds] shift "" db 0]
    fresh_tx_state st
    # The scripts transcript was recorded inside a MULTI the session never closed (every
    # reply is +QUEUED): replay it inside one too, so that what it checks (queuing, arity
    # errors) is compared, and discard it at the end.
    set open_multi [expr {[llength $entries] > 0 && [dict get [lindex $entries 0] reply] eq "+QUEUED\r\n"}]
    if {$open_multi} {
        raw_call $fd {MULTI}
        set st(multi) 1
    }
    set results [dict create]
    set index 0
    set failure ""
    foreach entry $entries {
        incr index
        set argv [dict get $entry cmd]
        set expected [dict get $entry reply]
        if {[catch {raw_call $fd [wire_args $argv]} actual]} {
            set failure "the connection failed at line $index ([visible_command $argv]): $actual"
            break
        }
        set verdict [step st $argv $expected $actual]
        set group [group_name $argv]
        if {![dict exists $results $group]} {
            dict set results $group [dict create calls 0 ok 0 tolerated 0 skip 0 mismatch {}]
        }
        dict with results $group {
            incr calls
            if {$verdict eq "mismatch"} {
                lappend mismatch [list $index $argv $expected $actual]
            } else {
                if {$verdict eq "tolerated" && $::opt(verbose)} {
                    puts "replies: tolerated line $index: [visible_command $argv]: expected [visible $expected 60] got [visible $actual 60] (tainted: [dict keys $st(tainted)])"
                }
                incr $verdict
            }
        }
    }
    if {$open_multi} {
        catch {raw_call $fd {DISCARD}}
    }
    catch {close $fd}
    return [list $results $failure [llength $entries]]
}

proc ::replies::describe_mismatches {mismatches} {
    set lines {}
    foreach m [lrange $mismatches 0 9] {
        lassign $m index argv expected actual
        lappend lines "line $index: [visible_command $argv]"
        lappend lines "    expected: [visible $expected]"
        lappend lines "    got:      [visible $actual]"
    }
    if {[llength $mismatches] > 10} {
        lappend lines "... and [expr {[llength $mismatches] - 10}] more"
    }
    return [join $lines "\n"]
}

# --- the tests -----------------------------------------------------------------------------

# The comparator itself, on made-up replies (no server needed).
proc ::replies::fresh_state {} {
    return [list tainted [dict create] start [clock milliseconds] shift "" db 0 \
                multi 0 queued {} tx_unknown 0 watched {} watch_tainted 0]
}

test "replies: comparator relaxations accept only what they should" {
    array set st [::replies::fresh_state]
    set ab "*2\r\n\$1\r\na\r\n\$1\r\nb\r\n"
    set ba "*2\r\n\$1\r\nb\r\n\$1\r\na\r\n"
    set bc "*2\r\n\$1\r\nb\r\n\$1\r\nc\r\n"
    assert_equal ok [::replies::judge st {KEYS *} $ab $ba]
    assert_equal mismatch [::replies::judge st {KEYS *} $ab $bc]
    assert_equal mismatch [::replies::judge st {MGET a b} $ab $ba]
    assert_equal ok [::replies::judge st {SPOP s 2} $ab $bc]
    assert_equal mismatch [::replies::judge st {SPOP s 2} $ab "*1\r\n\$1\r\na\r\n"]
    assert_equal ok [::replies::judge st {TTL k} ":100\r\n" ":99\r\n"]
    assert_equal mismatch [::replies::judge st {TTL k} ":100\r\n" ":50\r\n"]
    assert_equal mismatch [::replies::judge st {TTL k} ":100\r\n" ":-1\r\n"]
    assert_equal ok [::replies::judge st {EXPIRETIME k} ":1000\r\n" ":5000\r\n"]
    assert_equal ok [::replies::judge st {EXPIRETIME k} ":2000\r\n" ":6000\r\n"]
    assert_equal mismatch [::replies::judge st {EXPIRETIME k} ":2000\r\n" ":9000\r\n"]
    assert_equal skip [::replies::judge st {RPUSH k1 a} ":1\r\n" "-ERR unknown command 'RPUSH', with args beginning with: 'k1' 'a' \r\n"]
    assert_equal mismatch [::replies::judge st {FOO} "-ERR unknown command 'FOO'\r\n" "-ERR other\r\n"]
    assert_equal "\xc3\xbf" [lindex [::replies::wire_args [list SET k "\u00ff"]] 2]
}

test "replies: tainted keys tolerate mismatches until they are overwritten" {
    array set st [::replies::fresh_state]
    set unknown "-ERR unknown command 'RPUSH', with args beginning with: 'k1' \r\n"
    ::replies::update_taint st {RPUSH k1 a} ":1\r\n" skip
    assert_equal tolerated [::replies::judge st {TYPE k1} "+list\r\n" "+none\r\n"]
    assert_equal mismatch [::replies::judge st {TYPE k2} "+list\r\n" "+none\r\n"]
    assert_equal tolerated [::replies::judge st {DBSIZE} ":1\r\n" ":0\r\n"]
    # A write through a tainted key taints the other keys it names.
    ::replies::update_taint st {RENAME k1 k2} "+OK\r\n" tolerated
    assert_equal tolerated [::replies::judge st {TYPE k2} "+list\r\n" "+none\r\n"]
    # The same key name in another database is not tainted.
    ::replies::update_taint st {SELECT 1} "+OK\r\n" ok
    assert_equal mismatch [::replies::judge st {TYPE k1} "+list\r\n" "+none\r\n"]
    ::replies::update_taint st {SELECT 0} "+OK\r\n" ok
    ::replies::update_taint st {DEL k1 k2} ":1\r\n" tolerated
    assert_equal mismatch [::replies::judge st {TYPE k1} "+list\r\n" "+none\r\n"]
    # A short expiry makes the key's fate depend on timing.
    ::replies::update_taint st {PSETEX k3 1 v} "+OK\r\n" ok
    assert_equal tolerated [::replies::judge st {GET k3} "\$-1\r\n" "\$1\r\nv\r\n"]
    ::replies::update_taint st {SET k3 v} "+OK\r\n" ok
    assert_equal mismatch [::replies::judge st {GET k3} "\$-1\r\n" "\$1\r\nv\r\n"]
    ::replies::update_taint st {SETEX k4 100 v} "+OK\r\n" ok
    assert_equal mismatch [::replies::judge st {GET k4} "\$-1\r\n" "\$1\r\nv\r\n"]
}

test "replies: transactions take effect at EXEC, judged element by element" {
    array set st [::replies::fresh_state]
    set ok "+OK\r\n"
    set queued "+QUEUED\r\n"
    assert_equal ok [::replies::step st {MULTI} $ok $ok]
    assert_equal ok [::replies::step st {PSETEX k1 1 v} $queued $queued]
    assert_equal 0 [dict size $st(tainted)] "a queued command has done nothing yet"
    assert_equal ok [::replies::step st {EXEC} "*1\r\n+OK\r\n" "*1\r\n+OK\r\n"]
    assert [dict exists $st(tainted) 0/k1]
    assert_equal 0 $st(multi)
    # A discarded transaction changes nothing.
    ::replies::step st {MULTI} $ok $ok
    ::replies::step st {SET k1 v} $queued $queued
    assert_equal ok [::replies::step st {DISCARD} $ok $ok]
    assert [dict exists $st(tainted) 0/k1]
    # Each element gets the relaxations of its own command.
    ::replies::step st {MULTI} $ok $ok
    ::replies::step st {GET k1} $queued $queued
    ::replies::step st {GET k2} $queued $queued
    assert_equal tolerated [::replies::step st {EXEC} "*2\r\n\$-1\r\n\$-1\r\n" "*2\r\n\$1\r\nv\r\n\$-1\r\n"]
    ::replies::step st {MULTI} $ok $ok
    ::replies::step st {GET k2} $queued $queued
    assert_equal mismatch [::replies::step st {EXEC} "*1\r\n\$-1\r\n" "*1\r\n\$1\r\nv\r\n"]
    # A queued command our server does not know: the EXEC is skipped, its keys tainted.
    ::replies::step st {MULTI} $ok $ok
    set unknown "-ERR unknown command 'RPUSH', with args beginning with: 'k3' 'a' \r\n"
    assert_equal skip [::replies::step st {RPUSH k3 a} $queued $unknown]
    assert_equal skip [::replies::step st {EXEC} "*1\r\n:1\r\n" "-EXECABORT Transaction discarded because of previous errors.\r\n"]
    assert [dict exists $st(tainted) 0/k3]
    # A watched tainted key makes a one-sided null EXEC tolerable, and taints what was queued.
    ::replies::step st {WATCH k1} $ok $ok
    ::replies::step st {MULTI} $ok $ok
    ::replies::step st {SET k4 v} $queued $queued
    assert_equal tolerated [::replies::step st {EXEC} "*-1\r\n" "*1\r\n+OK\r\n"]
    assert [dict exists $st(tainted) 0/k4]
    # With clean watched keys it is a mismatch.
    ::replies::step st {WATCH k5} $ok $ok
    ::replies::step st {MULTI} $ok $ok
    ::replies::step st {SET k6 v} $queued $queued
    assert_equal mismatch [::replies::step st {EXEC} "*-1\r\n" "*1\r\n+OK\r\n"]
}

set ::replies::dir [reference_dir]

start_server [list tags {conformance replies} overrides $::replies::server_overrides] {
    ::replies::load_command_info $::replies::dir
    foreach family $::replies::families {
        set path [file join $::replies::dir replies-$family.jsonl]
        if {![file exists $path]} {
            test "replies/$family: transcript replay" {
                skip "reference transcript not found: $path"
            }
            continue
        }
        set ::replies::outcome {}
        test "replies/$family: transcript replays to the end" {
            set ::replies::outcome [::replies::replay $path]
            lassign $::replies::outcome results failure total
            if {$failure ne ""} {
                fail $failure
            }
            set skipped {}
            set tolerated 0
            dict for {name r} $results {
                incr tolerated [dict get $r tolerated]
                if {[dict get $r skip] > 0} {
                    lappend skipped "$name ([dict get $r skip])"
                }
            }
            if {[llength $skipped] > 0} {
                puts "replies/$family: not implemented by the server, skipped: [join $skipped {, }]"
            }
            if {$tolerated > 0} {
                puts "replies/$family: $tolerated mismatches tolerated on tainted keys"
            }
        }
        if {[llength $::replies::outcome] == 0} {
            continue
        }
        set results [lindex $::replies::outcome 0]
        foreach name [lsort [dict keys $results]] {
            set r [dict get $results $name]
            test "replies/$family: $name" {
                set mismatches [dict get $r mismatch]
                if {[llength $mismatches] > 0} {
                    fail "[llength $mismatches] of [dict get $r calls] replies differ from Valkey 8:\n[::replies::describe_mismatches $mismatches]"
                }
                if {[dict get $r skip] > 0 && [dict get $r ok] == 0 && [dict get $r tolerated] == 0} {
                    skip "unknown command in our server ([dict get $r skip] calls)"
                }
            }
        }
    }
}
