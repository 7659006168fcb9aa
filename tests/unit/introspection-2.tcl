# TIME, LASTSAVE, the DEBUG subcommands used by tests (OBJECT, POPULATE, DIGEST,
# PROTOCOL, SLEEP, ...), the MEMORY family, and the crash report of DEBUG SEGFAULT.

# Reads n raw lines from the main client (readraw mode).
proc read_raw_lines {first n} {
    set lines [list $first]
    for {set j 1} {$j < $n} {incr j} {
        lappend lines [r read]
    }
    return [join $lines " "]
}

start_server {tags {"introspection"}} {
    test {TIME replies seconds and microseconds as strings} {
        set t [r time]
        assert_equal 2 [llength $t]
        lassign $t sec usec
        assert_range $sec [expr {[clock seconds] - 2}] [expr {[clock seconds] + 2}]
        assert_range $usec 0 999999
        r readraw 1
        assert_match {[*]2} [r time]
        assert_match {$*} [r read]
        r read
        assert_match {$*} [r read]
        r read
        r readraw 0
    }

    test {TIME never goes backwards} {
        set prev 0
        for {set j 0} {$j < 100} {incr j} {
            lassign [r time] sec usec
            set now [expr {$sec * 1000000 + $usec}]
            assert_morethan_equal $now $prev
            set prev $now
        }
    }

    test {LASTSAVE is the start-up time on a fresh server} {
        set t [r lastsave]
        assert_range $t [expr {[clock seconds] - 3600}] [clock seconds]
    }

    test {DEBUG OBJECT shows address, refcount, encoding, length and LRU} {
        r set foo bar
        assert_match {Value at:0x* refcount:1 encoding:embstr serializedlength:* lru:* lru_seconds_idle:*} \
            [r debug object foo]
        r set foo 12345
        assert_match {*encoding:int*} [r debug object foo]
        r set foo [string repeat x 100]
        assert_match {*encoding:raw*} [r debug object foo]
        regexp {lru_seconds_idle:([0-9]+)} [r debug object foo] -> idle
        assert_range $idle 0 2
        assert_error {*no such key*} {r debug object nokey}
    }

    test {DEBUG POPULATE creates key:N with value:N} {
        r flushall
        assert_equal OK [r debug populate 100]
        assert_equal 100 [r dbsize]
        assert_equal value:0 [r get key:0]
        assert_equal value:99 [r get key:99]
        assert_equal {} [r get key:100]
    }

    test {DEBUG POPULATE with a prefix and a value size} {
        r flushall
        r debug populate 10 foo 20
        assert_equal 10 [r dbsize]
        assert_equal 20 [r strlen foo:3]
        assert_equal "value:3[string repeat \x00 13]" [r get foo:3]
        r debug populate 5 bar 3
        assert_equal val [r get bar:4]
        assert_equal 15 [r dbsize]
    }

    test {DEBUG POPULATE leaves existing keys alone} {
        r flushall
        r set key:1 mine
        r debug populate 3
        assert_equal mine [r get key:1]
        assert_equal value:2 [r get key:2]
        assert_equal 3 [r dbsize]
    }

    test {DEBUG POPULATE rejects a negative count} {
        assert_error {*} {r debug populate -1}
        assert_error {*} {r debug populate 10 key -5}
    }

    test {DEBUG DIGEST of an empty dataset is all zeros} {
        r flushall
        assert_equal [string repeat 0 40] [r debug digest]
    }

    test {DEBUG DIGEST is the same for the same data in any order} {
        r flushall
        r set a 1
        r set b hello
        r set c 100 ex 1000
        set d1 [r debug digest]
        assert_match {[0-9a-f]*} $d1
        assert_equal 40 [string length $d1]
        assert_not_equal [string repeat 0 40] $d1
        r flushall
        r set c 100 ex 1000
        r set b hello
        r set a 1
        assert_equal $d1 [r debug digest]
    }

    test {DEBUG DIGEST changes with values, keys, expires and databases} {
        set d1 [r debug digest]
        r set a 2
        set d2 [r debug digest]
        assert_not_equal $d1 $d2
        r set a 1
        assert_equal $d1 [r debug digest]
        r persist c
        assert_not_equal $d1 [r debug digest]
        r expire c 1000
        assert_equal $d1 [r debug digest]
        r rename b bb
        assert_not_equal $d1 [r debug digest]
        r rename bb b
        r move a 10
        assert_not_equal $d1 [r debug digest]
        r select 10
        r move a 9
        r select 9
        assert_equal $d1 [r debug digest]
    }

    test {DEBUG DIGEST-VALUE hashes the values of the named keys} {
        r flushall
        r set k1 same
        r set k2 same
        r set k3 other
        set digests [r debug digest-value k1 k2 k3 nokey]
        assert_equal 4 [llength $digests]
        assert_equal [lindex $digests 0] [lindex $digests 1]
        assert_not_equal [lindex $digests 0] [lindex $digests 2]
        assert_equal [string repeat 0 40] [lindex $digests 3]
        assert_equal {} [r debug digest-value]
    }

    test {DEBUG PROTOCOL in RESP2} {
        r readraw 1
        assert_equal {$11 Hello World} [read_raw_lines [r debug protocol string] 2]
        assert_equal {:12345} [r debug protocol integer]
        assert_equal {$5 3.141} [read_raw_lines [r debug protocol double] 2]
        assert_equal {$37 1234567999999999999999999999999999999} [read_raw_lines [r debug protocol bignum] 2]
        assert_equal {$-1} [r debug protocol null]
        assert_equal {*3 :0 :1 :2} [read_raw_lines [r debug protocol array] 4]
        assert_equal {*3 :0 :1 :2} [read_raw_lines [r debug protocol set] 4]
        assert_equal {*6 :0 :0 :1 :1 :2 :0} [read_raw_lines [r debug protocol map] 7]
        assert_equal {$39 Some real reply following the attribute} [read_raw_lines [r debug protocol attrib] 2]
        assert_equal {-ERR RESP2 is not supported by this command} [r debug protocol push]
        assert_equal {$25 This is a verbatim} [read_raw_lines [r debug protocol verbatim] 2]
        assert_equal {string} [r read]
        assert_equal {:1} [r debug protocol true]
        assert_equal {:0} [r debug protocol false]
        assert_match {-ERR Wrong protocol type name*} [r debug protocol nosuchtype]
        r readraw 0
    }

    test {DEBUG PROTOCOL in RESP3} {
        r hello 3
        r readraw 1
        assert_equal {$11 Hello World} [read_raw_lines [r debug protocol string] 2]
        assert_equal {:12345} [r debug protocol integer]
        assert_equal {,3.141} [r debug protocol double]
        assert_equal {(1234567999999999999999999999999999999} [r debug protocol bignum]
        assert_equal {_} [r debug protocol null]
        assert_equal {*3 :0 :1 :2} [read_raw_lines [r debug protocol array] 4]
        assert_equal {~3 :0 :1 :2} [read_raw_lines [r debug protocol set] 4]
        assert_equal {%3 :0 #f :1 #t :2 #f} [read_raw_lines [r debug protocol map] 7]
        assert_equal {|1 $14 key-popularity *2 $7 key:123 :90 $39 Some real reply following the attribute} \
            [read_raw_lines [r debug protocol attrib] 9]
        # As in Valkey 8, a push to the client whose command is running waits until the
        # command's own reply is written.
        assert_equal {$40 Some real reply following the push reply >2 $16 server-cpu-usage :42} \
            [read_raw_lines [r debug protocol push] 6]
        assert_equal {=29 txt:This is a verbatim} [read_raw_lines [r debug protocol verbatim] 2]
        assert_equal {string} [r read]
        assert_equal {#t} [r debug protocol true]
        assert_equal {#f} [r debug protocol false]
        r readraw 0
        r hello 2
    }

    test {DEBUG SLEEP blocks the server for the given time} {
        set rd [valkey_deferring_client]
        set start [clock milliseconds]
        $rd debug sleep 0.2
        after 20
        r ping
        set elapsed [expr {[clock milliseconds] - $start}]
        assert_equal OK [$rd read]
        $rd close
        assert_range $elapsed 190 2000
        assert_equal OK [r debug sleep 0]
    }

    test {DEBUG SET-ACTIVE-EXPIRE 0 keeps expired keys until they are touched} {
        r flushall
        r debug set-active-expire 0
        r set k v px 10
        after 300
        assert_equal 1 [r dbsize]
        r debug set-active-expire 1
        wait_for_condition 50 20 {[r dbsize] == 0} else {fail "the key was not expired"}
    }

    test {DEBUG HTSTATS describes the keys and expires tables} {
        r flushall
        r debug populate 100
        set stats [r debug htstats 9]
        assert_match {*\[Dictionary HT\]*\[Expires HT\]*} $stats
        assert_match {*\[Dictionary HT\]*\[Expires HT\]*} [r debug htstats 9 full]
        assert_error {*Out of range database*} {r debug htstats 100}
        assert_error {*Out of range database*} {r debug htstats -1}
    }

    test {DEBUG LOG, DEBUG ERROR, DEBUG JMAP} {
        assert_equal OK [r debug log "hello from introspection-2"]
        if {![srv 0 external]} {
            wait_for_condition 50 20 {
                [string match {*DEBUG LOG: hello from introspection-2*} [::th::read_file [srv 0 stdout]]]
            } else {
                fail "DEBUG LOG did not reach the log"
            }
        }
        catch {r debug error "MYERR a custom error"} e
        assert_equal {MYERR a custom error} $e
        assert_equal OK [r debug jmap]
    }

    test {DEBUG QUICKLIST-PACKED-THRESHOLD validates its size} {
        assert_equal OK [r debug quicklist-packed-threshold 100]
        assert_equal OK [r debug quicklist-packed-threshold 0]
        assert_error {*argument must be a memory value*} {r debug quicklist-packed-threshold 5gb}
        assert_error {*argument must be a memory value*} {r debug quicklist-packed-threshold foo}
    }

    test {DEBUG HELP and unknown subcommands} {
        set help [r debug help]
        assert_match {DEBUG <subcommand>*} [lindex $help 0]
        assert_match {*POPULATE*PROTOCOL*SLEEP*} $help
        assert_error {*unknown subcommand*} {r debug nosuchsubcommand}
    }

    test {MEMORY USAGE grows with the value size} {
        r flushall
        r set small x
        r set big [string repeat x 10000]
        set small [r memory usage small]
        set big [r memory usage big]
        assert_morethan $small 0
        assert_morethan_equal $big [expr {$small + 10000}]
        assert_lessthan $big 20000
        assert_equal $big [r memory usage big samples 0]
        assert_equal $big [r memory usage big SAMPLES 5]
        assert_equal {} [r memory usage nokey]
        assert_error {*syntax error*} {r memory usage big samples -1}
        assert_error {*syntax error*} {r memory usage big foo}
        assert_error {*not an integer*} {r memory usage big samples x}
    }

    test {MEMORY STATS: fields and keys} {
        r flushall
        r debug populate 1000
        set stats [dict create {*}[r memory stats]]
        foreach field {peak.allocated total.allocated startup.allocated replication.backlog clients.slaves
                       clients.normal cluster.links aof.buffer lua.caches functions.caches
                       overhead.db.hashtable.lut overhead.db.hashtable.rehashing overhead.total
                       db.dict.rehashing.count keys.count keys.bytes-per-key dataset.bytes
                       dataset.percentage peak.percentage allocator.allocated allocator.active
                       allocator.resident allocator.muzzy allocator-fragmentation.ratio
                       allocator-fragmentation.bytes allocator-rss.ratio allocator-rss.bytes
                       rss-overhead.ratio rss-overhead.bytes fragmentation fragmentation.bytes} {
            assert {[dict exists $stats $field]}
        }
        assert_equal 32 [dict size $stats]
        assert_equal 1000 [dict get $stats keys.count]
        set db [dict get $stats db.9]
        assert_morethan [dict get $db overhead.hashtable.main] 0
        assert {[dict exists $db overhead.hashtable.expires]}
        assert_morethan_equal [dict get $stats total.allocated] [dict get $stats startup.allocated]
        assert_equal [dict get $stats total.allocated] \
            [expr {[dict get $stats overhead.total] + [dict get $stats dataset.bytes]}]
        assert_morethan [dict get $stats keys.bytes-per-key] 0
        assert_range [dict get $stats peak.percentage] 0 100.01
        r flushall
        assert {![dict exists [dict create {*}[r memory stats]] db.9]}
    }

    test {MEMORY DOCTOR, MALLOC-STATS, PURGE and HELP} {
        assert_match {*Sam*} [r memory doctor]
        assert_morethan [string length [r memory malloc-stats]] 0
        assert_equal OK [r memory purge]
        assert_match {*USAGE <key>*} [r memory help]
    }
}

start_server {tags {"introspection" "external:skip"} overrides {enable-debug-command no}} {
    test {DEBUG is refused unless enable-debug-command allows it} {
        assert_error {*DEBUG command not allowed*} {r debug help}
    }
}

set crashlog [file join $::th::root tests tmp "crash.[pid].log"]
file delete -force $crashlog
start_server [list tags {"external:skip"} overrides [list logfile $crashlog]] {
    test {DEBUG SEGFAULT writes a crash report and kills the server} {
        set pid [srv 0 pid]
        catch {r debug segfault}
        wait_for_condition 100 50 {![::th::is_alive $pid]} else {fail "the server survived DEBUG SEGFAULT"}
        set log [::th::read_file $crashlog]
        assert_match {*=== VALKEY BUG REPORT START: Cut & paste starting from here ===*} $log
        assert_match {*crashed by signal: 11*} $log
        assert_match {*Accessing address:*} $log
        assert_match {*------ STACK TRACE ------*} $log
        assert_match {*------ INFO OUTPUT ------*# Server*} $log
        assert_match {*=== VALKEY BUG REPORT END.*} $log
    }
}
file delete -force $crashlog
start_server [list tags {"external:skip"} overrides [list logfile $crashlog]] {
    test {DEBUG ASSERT writes an assertion report and aborts} {
        set pid [srv 0 pid]
        catch {r debug assert}
        wait_for_condition 100 50 {![::th::is_alive $pid]} else {fail "the server survived DEBUG ASSERT"}
        set log [::th::read_file $crashlog]
        assert_match {*=== ASSERTION FAILED ===*} $log
        assert_match {*==> *debug.c:* is not true*} $log
        assert_match {*------ STACK TRACE ------*} $log
        # abort() after the report must not produce a second report.
        assert_no_match {*crashed by signal*} $log
    }
}
file delete -force $crashlog
