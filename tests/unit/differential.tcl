# Differential tests: our server and Debian's redis-server (7.0) run side by side; the same
# command sequences go to both over raw connections and the exact reply bytes are compared.
# Skipped when redis-server is not installed, and against an external server.
#
# Each case runs on fresh connections after FLUSHALL on both servers. Commands are sent one by
# one as multibulk requests, or as inline text (-inline), or all in one write (-pipeline), or
# as raw bytes with a reply count (-raw; -closes also wants both servers to close the
# connection afterwards).
#
# Command modifiers (first word): "@unordered" compares an array's elements as a multiset
# (KEYS, SCAN), "@shape" only the reply type and sign (PTTL, whose value depends on timing).
# HELLO replies are compared with the server, version and id fields masked.
#
# A command our server answers with "unknown command" is skipped, and so is the rest of its
# case (later replies depend on it); skipped cases are listed.
#
# Where Valkey 8 answers differently from Redis 7.0, ::diff::known_differences names the
# command, Redis's reply and Valkey 8's reply (taken from the recorded Valkey 8 transcripts,
# ../shared/reference/valkey8/replies-*.jsonl): our server must give Valkey's.

namespace eval ::diff {
    variable cases {}
    # {command as shown by visible_command} {Redis 7.0 reply} {Valkey 8 reply} {source}
    variable known_differences {
        {"BITCOUNT bk 1" "-ERR syntax error\r\n" ":22\r\n"
         "Valkey 8 accepts BITCOUNT key start without end (replies-strings: BITCOUNT k4 0 -> :72)"}
        {"BITCOUNT bk -2" "-ERR syntax error\r\n" ":7\r\n"
         "Valkey 8 accepts BITCOUNT key start without end (replies-strings: BITCOUNT k4 -2 -> :3)"}
        {"BITCOUNT bk x" "-ERR syntax error\r\n" "-ERR value is not an integer or out of range\r\n"
         "Valkey 8 parses the start index (replies-strings: BITCOUNT {t}a x)"}
    }
}

proc diff_case {name args} {
    set commands [lindex $args end]
    set mode multibulk
    set closes 0
    foreach option [lrange $args 0 end-1] {
        switch -exact -- $option {
            -inline { set mode inline }
            -pipeline { set mode pipeline }
            -raw { set mode raw }
            -closes { set closes 1 }
            default { error "diff_case: unknown option $option" }
        }
    }
    lappend ::diff::cases [list $name $mode $closes $commands]
}

# --- the cases ---------------------------------------------------------------------------------

diff_case "strings: SET and GET with options" {
    {SET k v}
    {GET k}
    {GET missing}
    {SET k v2 NX}
    {SET k v3 XX}
    {SET newk v XX}
    {SET k v4 GET}
    {SET missing2 v GET}
    {SET k v NX XX}
    {SET k v EX 0}
    {SET k v EX -1}
    {SET k v PX 0}
    {SET k v EX 9223372036854775807}
    {SET k v EX notanumber}
    {SET k v EX 100 PX 100}
    {SET k v KEEPTTL EX 100}
    {SET k v BADOPTION}
    {SET k v EX 100}
    {TTL k}
    {SET k v2 KEEPTTL}
    {TTL k}
    {SET k v3}
    {TTL k}
    {SET k v EXAT 4000000000}
    {EXPIRETIME k}
    {SET k v PXAT 4000000000123}
    {PEXPIRETIME k}
    {SET k}
    {GET}
    {GET a b}
}

diff_case "strings: GETSET, GETDEL, GETEX, SETNX, SETEX, PSETEX" {
    {GETSET k a}
    {GETSET k b}
    {GETDEL k}
    {GETDEL k}
    {SETNX k 1}
    {SETNX k 2}
    {GET k}
    {GETEX k}
    {GETEX k EX 100}
    {TTL k}
    {GETEX k PERSIST}
    {TTL k}
    {GETEX k EXAT 4000000000}
    {EXPIRETIME k}
    {GETEX k PX 0}
    {GETEX k EX -1}
    {GETEX k EX 10 PX 10}
    {GETEX k BAD}
    {GETEX missing EX 100}
    {SETEX k 100 v}
    {TTL k}
    {SETEX k 0 v}
    {SETEX k -5 v}
    {SETEX k x v}
    {PSETEX k 100000 v}
    {@shape PTTL k}
    {PSETEX k 0 v}
    {SETEX k 100}
}

diff_case "strings: APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE" {
    {APPEND k hello}
    {APPEND k " world"}
    {STRLEN k}
    {STRLEN missing}
    {GETRANGE k 0 4}
    {GETRANGE k -5 -1}
    {GETRANGE k 5 2}
    {GETRANGE k -100 100}
    {GETRANGE k 100 200}
    {GETRANGE missing 0 -1}
    {GETRANGE k x 1}
    {SUBSTR k 0 1}
    {SETRANGE k 6 WORLD}
    {GET k}
    {SETRANGE k 20 x}
    {GET k}
    {SETRANGE missing 0 ""}
    {EXISTS missing}
    {SETRANGE k -1 x}
    {SETRANGE k 536870912 x}
    {SETRANGE k 536870911 ""}
    {SET n 123}
    {APPEND n 4}
    {GET n}
}

diff_case "strings: counters" {
    {INCR c}
    {INCR c}
    {DECR c}
    {INCRBY c 10}
    {DECRBY c 20}
    {INCRBY c x}
    {INCRBY c 1.5}
    {SET c 9223372036854775807}
    {INCR c}
    {SET c -9223372036854775808}
    {DECR c}
    {DECRBY c -9223372036854775808}
    {SET c " 1"}
    {INCR c}
    {SET c 01}
    {INCR c}
    {SET c abc}
    {INCR c}
    {SET f 10.5}
    {INCRBYFLOAT f 0.1}
    {INCRBYFLOAT f -5}
    {INCRBYFLOAT f 1e3}
    {INCRBYFLOAT f 3.0e3}
    {INCRBYFLOAT f abc}
    {INCRBYFLOAT f inf}
    {INCRBYFLOAT newf 1.5}
    {INCRBYFLOAT newf2 5.0e3}
    {SET i 7}
    {INCRBYFLOAT i 0}
    {GET i}
}

diff_case "strings: MSET, MGET, MSETNX" {
    {MSET a 1 b 2 c 3}
    {MGET a b c missing}
    {MSETNX a 9 d 4}
    {MSETNX d 4 e 5}
    {MGET d e}
    {MSETNX x 1 x 2}
    {GET x}
    {MSET a}
    {MSET a 1 b}
    {MGET}
}

diff_case "strings: LCS" {
    {MSET a ohmytext b mynewtext}
    {LCS a b}
    {LCS a b LEN}
    {LCS a b IDX}
    {LCS a b IDX MINMATCHLEN 4}
    {LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN}
    {LCS a missing}
    {LCS a b LEN IDX}
    {LCS a b BAD}
}

diff_case "strings: bit operations" {
    {SET bk foobar}
    {BITCOUNT bk}
    {BITCOUNT bk 0 0}
    {BITCOUNT bk 1 1}
    {BITCOUNT bk 1 -1 BIT}
    {BITCOUNT bk 5 30 BIT}
    {BITCOUNT bk 1}
    {BITCOUNT bk -2}
    {BITCOUNT bk x}
    {BITCOUNT bk 0 1 BAD}
    {BITCOUNT missing}
    {SETBIT b2 7 1}
    {SETBIT b2 7 0}
    {SETBIT b2 100 1}
    {GETBIT b2 100}
    {GETBIT b2 1000}
    {SETBIT b2 1 2}
    {SETBIT b2 -1 1}
    {SETBIT b2 4294967296 1}
    {BITPOS bk 1}
    {BITPOS bk 0}
    {BITPOS bk 1 2}
    {BITPOS bk 1 2 -1 BYTE}
    {BITPOS bk 1 7 15 BIT}
    {BITPOS bk 2}
    {BITPOS missing 0}
    {BITPOS missing 1}
    {SET ones "\xff\xff"}
    {BITPOS ones 0}
    {BITPOS ones 0 0 -1}
    {BITOP AND dest bk ones}
    {BITOP OR dest bk ones}
    {BITOP XOR dest bk ones}
    {BITOP NOT dest bk}
    {GET dest}
    {BITOP NOT dest bk ones}
    {BITOP BAD dest bk}
    {BITOP AND dest missing1 missing2}
    {EXISTS dest}
    {BITFIELD bf SET u8 0 255 GET u8 0}
    {BITFIELD bf INCRBY u8 0 10}
    {BITFIELD bf OVERFLOW SAT INCRBY u8 0 300}
    {BITFIELD bf OVERFLOW FAIL INCRBY i8 0 300}
    {BITFIELD bf OVERFLOW WRAP INCRBY i16 #1 -40000}
    {BITFIELD bf GET u64 0}
    {BITFIELD bf GET i64 0}
    {BITFIELD bf BAD}
    {BITFIELD bf OVERFLOW BAD}
    {BITFIELD_RO bf GET u8 0}
    {BITFIELD_RO bf SET u8 0 1}
}

diff_case "keys: DEL, EXISTS, TYPE, RENAME, COPY, MOVE" {
    {MSET a 1 b 2 c 3}
    {EXISTS a b missing a}
    {DEL a missing a}
    {UNLINK b}
    {TYPE c}
    {TYPE missing}
    {RENAME c d}
    {RENAME c d}
    {RENAME d d}
    {SET e 5}
    {RENAMENX d e}
    {RENAMENX d f}
    {RENAMENX d f}
    {COPY f g}
    {COPY f g}
    {COPY f g REPLACE}
    {COPY f f}
    {COPY f g DB 1}
    {COPY f g DB 1}
    {COPY f g DB x}
    {COPY f g BAD}
    {MOVE f 1}
    {MOVE e 1}
    {MOVE g 0}
    {MOVE missing 1}
    {MOVE e x}
    {MOVE e 16}
    {SELECT 1}
    {MGET f g e}
    {DBSIZE}
    {SELECT 16}
    {SELECT -1}
    {SELECT x}
    {SELECT 0}
    {DBSIZE}
    {TOUCH e f g missing}
}

diff_case "keys: KEYS, SCAN, RANDOMKEY, DBSIZE" {
    {RANDOMKEY}
    {MSET user:1 a user:2 b item:1 c {{t}x} d}
    {@unordered KEYS *}
    {@unordered KEYS user:*}
    {@unordered KEYS *:1}
    {@unordered KEYS user:?}
    {@unordered KEYS {user:[12]}}
    {@unordered KEYS {user:[^1]}}
    {@unordered KEYS {\{t\}*}}
    {KEYS nomatch*}
    {DBSIZE}
    {DEL user:1 user:2 item:1}
    {RANDOMKEY}
    {SCAN 0}
    {SCAN 0 MATCH nomatch}
    {SCAN 0 COUNT 0}
    {SCAN x}
    {SCAN 0 TYPE string}
    {SCAN 0 BAD}
}

diff_case "keys: OBJECT on strings" {
    {SET int 12345}
    {SET neg -5}
    {SET embstr hello}
    {SET raw xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx}
    {SET edge44 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx}
    {SET edge45 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx}
    {SET big 12345678901234567890}
    {SET float 1.5}
    {OBJECT ENCODING int}
    {OBJECT ENCODING neg}
    {OBJECT ENCODING embstr}
    {OBJECT ENCODING raw}
    {OBJECT ENCODING edge44}
    {OBJECT ENCODING edge45}
    {OBJECT ENCODING big}
    {OBJECT ENCODING float}
    {APPEND embstr x}
    {OBJECT ENCODING embstr}
    {SETRANGE int 0 9}
    {OBJECT ENCODING int}
    {INCR int}
    {OBJECT ENCODING int}
    {OBJECT ENCODING missing}
    {OBJECT REFCOUNT embstr}
    {OBJECT REFCOUNT missing}
    {OBJECT FREQ embstr}
    {OBJECT FOO embstr}
    {OBJECT}
}

diff_case "expiry: EXPIRE family, TTL, PERSIST" {
    {SET k v}
    {TTL k}
    {PTTL k}
    {TTL missing}
    {EXPIRE k 100}
    {TTL k}
    {EXPIRE k 200 NX}
    {EXPIRE k 200 XX}
    {EXPIRE k 100 GT}
    {EXPIRE k 300 LT}
    {EXPIRE k 50 LT}
    {TTL k}
    {EXPIRE k 100 NX XX}
    {EXPIRE k 100 GT LT}
    {EXPIRE k 100 BAD}
    {EXPIRE k x}
    {EXPIRE k 9223372036854775807}
    {PEXPIRE k 9223372036854775807}
    {PEXPIRE k 100000}
    {@shape PTTL k}
    {EXPIREAT k 4000000000}
    {EXPIRETIME k}
    {PEXPIRETIME k}
    {PEXPIREAT k 4000000000500}
    {PEXPIRETIME k}
    {EXPIRETIME k}
    {PERSIST k}
    {PERSIST k}
    {TTL k}
    {EXPIRETIME k}
    {EXPIRETIME missing}
    {EXPIRE missing 100}
    {SET k v}
    {EXPIRE k 0}
    {EXISTS k}
    {SET k v}
    {EXPIRE k -10}
    {EXISTS k}
    {SET k v}
    {EXPIREAT k 1}
    {GET k}
    {SET k v}
    {PEXPIREAT k 1}
    {DBSIZE}
}

diff_case "errors: unknown commands, arity, wrong types of arguments" {
    {FOOBAR}
    {FOOBAR a b c}
    {foobar "with space" x}
    {GET}
    {SET a}
    {get a b}
    {PING a b}
    {PING}
    {PING hello}
    {ECHO}
    {ECHO "hello world"}
    {OBJECT ENCODING}
    {OBJECT HELPX}
    {SELECT 0 1}
}

diff_case "RESP3 after HELLO 3" {
    {HELLO 3}
    {SET k v}
    {GET k}
    {GET missing}
    {MGET k missing}
    {INCRBYFLOAT f 1.5}
    {EXISTS k}
    {TTL k}
    {LCS k k IDX}
    {SCAN 0 MATCH nomatch}
    {OBJECT ENCODING missing}
    {GETEX missing}
    {FOOBAR}
    {HELLO 4}
    {HELLO 2}
    {GET missing}
    {HELLO x}
    {HELLO 3 SETNAME}
}

diff_case "inline commands" -inline {
    "PING"
    "SET foo bar"
    "GET foo"
    ""
    "SET \"a b\" \"c\\x41d\""
    "GET \"a b\""
    "SET single 'it\\'s'"
    "GET single"
    "   GET    foo   "
    "ECHO 'x y'"
    "FOOBAR a"
    "GET"
}

diff_case "pipelining" -pipeline {
    {SET p1 1}
    {INCR p1}
    {INCR p1}
    {GET p1}
    {FOOBAR}
    {MGET p1 p2}
    {DEL p1}
    {GET p1}
    {PING}
    {ECHO done}
}

diff_case "pipelining: multibulk and inline mixed in one write" -raw {
    {"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\nGET x\r\n*2\r\n$4\r\nINCR\r\n$1\r\nx\r\nPING\r\n" 4}
    {"*1\r\n$4\r\nPI" 0}
    {"NG\r\n" 1}
}

diff_case "protocol error: bad bulk length closes the connection" -raw -closes {
    {"*1\r\n$4\r\nPING\r\n" 1}
    {"*1\r\n$x\r\n" 1}
}

diff_case "protocol error: bad multibulk length" -raw -closes {
    {"*x\r\n" 1}
}

diff_case "protocol error: unbalanced quotes in an inline command" -raw -closes {
    {"SET \"a b\r\n" 1}
}

diff_case "protocol error: multibulk element that is not a bulk" -raw -closes {
    {"*1\r\n+PING\r\n" 1}
}

# --- running a case ------------------------------------------------------------------------

# The reply with the fields that legitimately differ between servers masked.
proc ::diff::normalize {argv raw} {
    set name [string toupper [lindex $argv 0]]
    if {$name ne "HELLO" || [string index $raw 0] ni {* %}} {
        return $raw
    }
    set out [raw_header $raw]\r\n
    set mask 0
    foreach element [raw_elements $raw] {
        if {$mask} {
            append out "<masked>"
            set mask 0
            continue
        }
        append out $element
        if {$element in [list "\$6\r\nserver\r\n" "\$7\r\nversion\r\n" "\$2\r\nid\r\n" "+server\r\n" "+version\r\n" "+id\r\n"]} {
            set mask 1
        }
    }
    return $out
}

proc ::diff::same_shape {a b} {
    if {[string index $a 0] ne [string index $b 0]} {
        return 0
    }
    if {[regexp {^:(-?[0-9]+)\r\n$} $a -> x] && [regexp {^:(-?[0-9]+)\r\n$} $b -> y]} {
        return [expr {($x < 0) == ($y < 0) && ($x < 0 ? $x == $y : 1)}]
    }
    return 1
}

proc ::diff::same_multiset {a b} {
    if {[raw_header $a] ne [raw_header $b]} {
        return 0
    }
    set ea [raw_elements $a]
    set eb [raw_elements $b]
    if {[llength $ea] == 2 && [string index [lindex $ea 1] 0] eq "*"} {
        # SCAN: the cursors must agree; the keys may come in any order.
        return [expr {[lindex $ea 0] eq [lindex $eb 0] &&
                      [lsort [raw_elements [lindex $ea 1]]] eq [lsort [raw_elements [lindex $eb 1]]]}]
    }
    return [expr {[lsort $ea] eq [lsort $eb]}]
}

# Compares one reply pair; returns "" when acceptable, else a description.
proc ::diff::judge {argv modifier redis ours} {
    variable known_differences
    set shown [visible_command $argv]
    foreach rule $known_differences {
        lassign $rule command redis_reply valkey_reply source
        if {$command eq $shown && $redis eq $redis_reply} {
            if {$ours eq $valkey_reply} {
                return ""
            }
            return "$shown\n    Valkey 8: [visible $valkey_reply]  ($source)\n    ours:     [visible $ours]"
        }
    }
    set redis [normalize $argv $redis]
    set ours [normalize $argv $ours]
    if {$redis eq $ours} {
        return ""
    }
    if {$modifier eq "@shape" && [same_shape $redis $ours]} {
        return ""
    }
    if {$modifier eq "@unordered" && [same_multiset $redis $ours]} {
        return ""
    }
    return "$shown\n    redis: [visible $redis]\n    ours:  [visible $ours]"
}

proc ::diff::split_modifier {entry} {
    if {[string index [lindex $entry 0] 0] eq "@"} {
        return [list [lindex $entry 0] [lrange $entry 1 end]]
    }
    return [list "" $entry]
}

# Waits up to a second for the server to close the connection; returns 1 if it did.
proc ::diff::closed_by_server {fd} {
    fconfigure $fd -blocking 0
    set deadline [expr {[clock milliseconds] + 1000}]
    while {[clock milliseconds] < $deadline} {
        if {[catch {read $fd} data] || [eof $fd]} {
            return 1
        }
        after 5
    }
    return 0
}

# Runs a case; returns {problems skipped_reason}.
proc ::diff::run_case {mode closes commands} {
    r -1 flushall
    r flushall
    set ours [raw_connect [srv -1 host] [srv -1 port]]
    set redis [raw_connect [srv 0 host] [srv 0 port]]
    set problems {}
    set skipped ""
    # Each step: {bytes-to-send number-of-replies argv modifier}
    set steps {}
    switch -exact -- $mode {
        multibulk - pipeline {
            foreach entry $commands {
                lassign [split_modifier $entry] modifier argv
                lappend steps [list [::valkey::encode_request $argv] 1 $argv $modifier]
            }
        }
        inline {
            foreach line $commands {
                lappend steps [list "$line\r\n" [expr {[string trim $line] ne ""}] [list $line] ""]
            }
        }
        raw {
            foreach entry $commands {
                lassign $entry bytes count
                lappend steps [list $bytes $count [list [visible $bytes 60]] ""]
            }
        }
    }
    if {$mode eq "pipeline"} {
        set all ""
        foreach step $steps {
            append all [lindex $step 0]
        }
        foreach fd [list $ours $redis] {
            puts -nonewline $fd $all
            flush $fd
        }
        set sent 1
    } else {
        set sent 0
    }
    foreach step $steps {
        lassign $step bytes count argv modifier
        if {!$sent} {
            foreach fd [list $ours $redis] {
                puts -nonewline $fd $bytes
                flush $fd
            }
        }
        for {set i 0} {$i < $count} {incr i} {
            set redis_reply [::valkey::read_raw_reply $redis]
            if {[catch {::valkey::read_raw_reply $ours} our_reply]} {
                lappend problems "[visible_command $argv]: our server: $our_reply"
                close $ours
                close $redis
                return [list $problems $skipped]
            }
            if {[raw_is_unknown_command $our_reply] && ![raw_is_unknown_command $redis_reply]} {
                set skipped "our server does not know [lindex $argv 0]"
                close $ours
                close $redis
                return [list $problems $skipped]
            }
            set problem [judge $argv $modifier $redis_reply $our_reply]
            if {$problem ne ""} {
                lappend problems $problem
            }
        }
    }
    if {$closes} {
        set redis_closed [closed_by_server $redis]
        set our_closed [closed_by_server $ours]
        if {$redis_closed != $our_closed} {
            lappend problems "after the protocol error, redis [expr {$redis_closed ? "closed" : "kept"}] the connection but ours [expr {$our_closed ? "closed" : "kept"}] it"
        }
    }
    close $ours
    close $redis
    return [list $problems $skipped]
}

# --- the tests -----------------------------------------------------------------------------

set ::diff::redis_binary [lindex [auto_execok redis-server] 0]

if {$::opt(external)} {
    test "differential: against redis-server" {
        skip "not run against an external server"
    }
} elseif {$::diff::redis_binary eq ""} {
    test "differential: against redis-server" {
        skip "redis-server is not installed (apt-get install redis-server)"
    }
} else {
    start_server {tags {conformance differential}} {
        # Redis would otherwise keep its default save points and write dump files.
        start_server [list tags {} binary $::diff::redis_binary overrides {save ""}] {
            foreach case $::diff::cases {
                lassign $case name mode closes commands
                test "differential: $name" {
                    lassign [::diff::run_case $mode $closes $commands] problems skipped
                    if {[llength $problems] > 0} {
                        fail "[llength $problems] replies differ from redis-server:\n[join $problems \n]"
                    }
                    if {$skipped ne ""} {
                        skip $skipped
                    }
                }
            }
        }
    }
}
