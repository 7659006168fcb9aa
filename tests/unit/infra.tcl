# Tests of the test harness itself: assertions, the RESP client (against a fake server written
# in Tcl, tests/helpers/fake_server.tcl), the JSON reader, the driver's counting, crash and
# timeout handling (by running ./runtest on fixture files), and, when a server binary is
# available, start_server.

set ::infra_helpers [file join $::th::root tests helpers]

# --- assertions ---------------------------------------------------------------------------

# Runs code that must fail as an assertion; returns the message.
proc infra_assertion_message {code} {
    if {![catch {uplevel 1 $code} err]} {
        error "expected an assertion failure from: $code"
    }
    if {![string match "assertion:*" $err]} {
        error "expected an assertion failure but got: $err"
    }
    return $err
}

test "infra: assert_equal passes on equal values and fails otherwise" {
    assert_equal abc abc
    set msg [infra_assertion_message {assert_equal abc abd}]
    assert_match "*Expected 'abc' to be equal to 'abd'*" $msg
    assert_match "*infra.tcl:*" $msg
}

test "infra: assert, assert_not_equal, assert_match, assert_no_match" {
    assert {1 + 1 == 2}
    assert_not_equal a b
    assert_match "a*c" abc
    assert_no_match "a*d" abc
    infra_assertion_message {assert {1 == 2}}
    infra_assertion_message {assert_not_equal a a}
    infra_assertion_message {assert_match "a*d" abc}
    infra_assertion_message {assert_no_match "a*" abc}
}

test "infra: assert_error needs an error matching the pattern" {
    assert_error "*boom*" {error "big boom"}
    assert_match "*no error*" [infra_assertion_message {assert_error "*" {set x 1}}]
    assert_match "*but got 'other'*" [infra_assertion_message {assert_error "*boom*" {error other}}]
}

test "infra: numeric comparisons" {
    assert_range 5 1 10
    assert_lessthan 1 2
    assert_lessthan_equal 2 2
    assert_morethan 3 2
    assert_morethan_equal 3 3
    infra_assertion_message {assert_range 11 1 10}
    infra_assertion_message {assert_lessthan 2 2}
    infra_assertion_message {assert_lessthan_equal 3 2}
    infra_assertion_message {assert_morethan 2 2}
    infra_assertion_message {assert_morethan_equal 1 2}
}

test "infra: fail and wait_for_condition" {
    assert_match "*custom*" [infra_assertion_message {fail "custom"}]
    set ::infra_counter 0
    wait_for_condition 50 1 {[incr ::infra_counter] >= 3} else { fail "never reached 3" }
    assert_equal 3 $::infra_counter
    set msg [infra_assertion_message {
        wait_for_condition 3 1 {[incr ::infra_counter] < 0} else { fail "gave up" }
    }]
    assert_match "*gave up*" $msg
    assert_equal 6 $::infra_counter
}

test "infra: skip raises a TEST_SKIP error" {
    catch {skip "why"} msg options
    assert_equal why $msg
    assert_equal TEST_SKIP [dict get $options -errorcode]
}

test "infra: getInfoProperty reads INFO fields" {
    set info "# Server\r\nredis_version:7.0.0\r\nloading:0\r\n\r\n# Clients\r\nconnected_clients:3\r\n"
    assert_equal 7.0.0 [getInfoProperty $info redis_version]
    assert_equal 3 [getInfoProperty $info connected_clients]
    assert_equal "" [getInfoProperty $info missing]
}

# --- RESP client against the fake server ----------------------------------------------------

set ::infra_fake [open "|[list [info nameofexecutable] [file join $::infra_helpers fake_server.tcl] 0]" r+]
set ::infra_fake_port [gets $::infra_fake]
set ::infra_r [valkey 127.0.0.1 $::infra_fake_port]

proc fake {raw} {
    return [$::infra_r reply $raw]
}

test "infra: RESP2 simple types" {
    assert_equal OK [fake "+OK\r\n"]
    assert_equal 42 [fake ":42\r\n"]
    assert_equal -7 [fake ":-7\r\n"]
    assert_equal hello [fake "\$5\r\nhello\r\n"]
    assert_equal "" [fake "\$0\r\n\r\n"]
    assert_equal "" [fake "\$-1\r\n"]
    assert_equal "" [fake "*-1\r\n"]
    assert_equal {} [fake "*0\r\n"]
}

test "infra: errors raise Tcl errors with the message" {
    assert_error "ERR something bad" {fake "-ERR something bad\r\n"}
    assert_error "*WRONGTYPE*" {fake "-WRONGTYPE Operation against a key\r\n"}
    # The connection is still usable.
    assert_equal OK [fake "+OK\r\n"]
}

test "infra: arrays, nested arrays, and an error inside an array" {
    assert_equal {a b {1 {c d}}} [fake "*3\r\n\$1\r\na\r\n\$1\r\nb\r\n*2\r\n:1\r\n*2\r\n+c\r\n+d\r\n"]
    assert_error "ERR inner" {fake "*3\r\n:1\r\n-ERR inner\r\n:3\r\n"}
    # The whole array was consumed: the next reply is the next one.
    assert_equal after [fake "+after\r\n"]
}

test "infra: bulk strings are binary safe" {
    set payload "a\r\nb\x00c\xff"
    assert_equal $payload [fake "\$[string length $payload]\r\n$payload\r\n"]
    set big [string repeat x 1000000]
    assert_equal 1000000 [string length [fake "\$1000000\r\n$big\r\n"]]
    # Arguments go out as bytes too.
    assert_equal [list echoargs "\x00\xff\r\n" ""] [$::infra_r echoargs "\x00\xff\r\n" ""]
    # Characters above U+00FF are sent as UTF-8.
    assert_equal [list echoargs "\xe2\x82\xac"] [$::infra_r echoargs "\u20ac"]
}

test "infra: RESP3 types" {
    assert_equal {a 1 b 2} [fake "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"]
    assert_equal 2 [dict get [fake "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"] b]
    assert_equal {x y} [fake "~2\r\n+x\r\n+y\r\n"]
    assert_equal "" [fake "_\r\n"]
    assert_equal 1 [fake "#t\r\n"]
    assert_equal 0 [fake "#f\r\n"]
    assert_equal 1.5 [fake ",1.5\r\n"]
    assert_equal inf [fake ",inf\r\n"]
    assert_equal 3492890328409238509324850943850943825024385 [fake "(3492890328409238509324850943850943825024385\r\n"]
    assert_equal "Some string" [fake "=15\r\ntxt:Some string\r\n"]
    assert_error "SYNTAX invalid syntax" {fake "!21\r\nSYNTAX invalid syntax\r\n"}
    assert_equal {message chan hello} [fake ">3\r\n+message\r\n+chan\r\n+hello\r\n"]
    # An attribute is skipped; the reply after it is returned.
    assert_equal real [fake "|1\r\n+key-popularity\r\n%1\r\n+a\r\n,0.1923\r\n+real\r\n"]
    assert_equal {m {1 2} n {}} [fake "%2\r\n+m\r\n*2\r\n:1\r\n:2\r\n+n\r\n_\r\n"]
}

test "infra: readraw returns one protocol line per read" {
    $::infra_r readraw 1
    assert_equal "+OK" [fake "+OK\r\n"]
    assert_equal "\$3" [fake "\$3\r\nfoo\r\n"]
    assert_equal foo [$::infra_r read]
    assert_equal "*2" [fake "*2\r\n:1\r\n:2\r\n"]
    assert_equal ":1" [$::infra_r read]
    assert_equal ":2" [$::infra_r read]
    assert_equal "-ERR x" [fake "-ERR x\r\n"]
    $::infra_r readraw 0
    assert_equal OK [fake "+OK\r\n"]
}

test "infra: deferred client, pipelining, write and flush" {
    set rd [valkey 127.0.0.1 $::infra_fake_port 1]
    assert_equal "" [$rd reply "+one\r\n"]
    $rd reply ":2\r\n"
    assert_equal one [$rd read]
    assert_equal 2 [$rd read]
    $rd write "*2\r\n\$5\r\nREPLY\r\n\$6\r\n+raw\r\n\r\n"
    $rd write "*2\r\n\$5\r\nREPLY\r\n\$5\r\n:99\r\n\r\n"
    $rd flush
    assert_equal raw [$rd read]
    assert_equal 99 [$rd read]
    # Several replies sent at once are read one by one.
    $rd reply "+a\r\n+b\r\n"
    assert_equal a [$rd read]
    assert_equal b [$rd read]
    $rd close
}

test "infra: a closed connection is an error, reconnect opens a new one" {
    set c [valkey 127.0.0.1 $::infra_fake_port]
    # CLOSE in capitals goes to the fake server (lowercase close is the client method).
    assert_error "*connection closed*" {$c CLOSE}
    $c reconnect
    assert_equal OK [$c ping]
    $c close
}

test "infra: read_raw_reply returns exact bytes of nested replies" {
    set chan [$::infra_r channel]
    $::infra_r deferred 1
    set raw "*3\r\n\$3\r\nfoo\r\n%1\r\n+k\r\n~1\r\n:1\r\n|1\r\n+a\r\n+b\r\n_\r\n"
    $::infra_r reply $raw
    assert_equal $raw [::valkey::read_raw_reply $chan]
    $::infra_r reply "\$-1\r\n"
    assert_equal "\$-1\r\n" [::valkey::read_raw_reply $chan]
    $::infra_r deferred 0
}

$::infra_r close
close $::infra_fake

# --- JSON -----------------------------------------------------------------------------------

test "infra: JSON decoding" {
    set value [::json::decode {{"a": [1, -2.5e3, "x\"y\\z\/\n\u00ff"], "b": {}, "c": [], "d": true, "e": false, "f": null}}]
    assert_equal {1 -2.5e3} [lrange [dict get $value a] 0 1]
    assert_equal "x\"y\\z/\n\u00ff" [lindex [dict get $value a] 2]
    assert_equal {} [dict get $value b]
    assert_equal {} [dict get $value c]
    assert_equal 1 [dict get $value d]
    assert_equal 0 [dict get $value e]
    assert_equal "" [dict get $value f]
    assert_error "json:*" {::json::decode {{"a": }}}
    assert_error "json:*" {::json::decode {[1 2]}}
}

# --- harness helpers ------------------------------------------------------------------------

test "infra: config values are quoted when needed" {
    assert_equal 100 [::th::config_quote 100]
    assert_equal {""} [::th::config_quote ""]
    assert_equal {"900 1"} [::th::config_quote "900 1"]
}

test "infra: a port held by a listener is not free" {
    set port [::th::find_free_port]
    assert [::th::port_is_free $port]
    set listener [socket -server ::th::refuse -myaddr 127.0.0.1 $port]
    assert {![::th::port_is_free $port]}
    close $listener
}

test "infra: crash and sanitizer markers in a server log are detected" {
    set dir [file join $::th::root tests tmp "infra.[pid]"]
    file mkdir $dir
    set server [dict create stdout $dir/stdout stderr $dir/stderr]
    set fd [open $dir/stdout w]
    puts $fd "1:M all fine"
    close $fd
    set fd [open $dir/stderr w]
    close $fd
    assert_equal "" [::th::check_server_log $server]
    foreach marker {"==1==ERROR: AddressSanitizer: heap-use-after-free"
                    "t_string.c:10:5: runtime error: signed integer overflow"
                    "=== VALKEY BUG REPORT START: Cut & paste starting from here ==="} {
        set fd [open $dir/stderr w]
        puts $fd "before\n$marker\nafter"
        close $fd
        assert_match "*[string range $marker 0 20]*" [::th::check_server_log $server]
    }
    file delete -force $dir
}

# --- the driver, run on fixture files ---------------------------------------------------------

# Runs ./runtest with arguments; returns {exit-status output}.
proc infra_runtest {args} {
    set cmd [list [info nameofexecutable] [file join $::th::root tests test_helper.tcl] \
        --baseport [expr {$::opt(baseport) + 900}] {*}$args]
    set status 0
    if {[catch {exec {*}$cmd 2>@1} output options]} {
        set code [dict get $options -errorcode]
        if {[lindex $code 0] eq "CHILDSTATUS"} {
            set status [lindex $code 2]
            regsub {\nchild process exited abnormally$} $output "" output
        } else {
            error $output
        }
    }
    return [list $status $output]
}

test "infra: the driver counts passed, failed and skipped tests" {
    lassign [infra_runtest --single [file join $::infra_helpers fixture_results.tcl]] status output
    assert_equal 1 $status
    assert_equal "2 passed, 2 failed, 1 skipped" [lindex [split [string trimright $output] "\n"] end]
    assert_match {*\[err\]: fixture fails in *} $output
    assert_match {*\[err\]: fixture raises in *boom*} $output
    assert_match "*Failed tests:*fixture fails*" $output
}

test "infra: --tags and --only select tests" {
    set fixture [file join $::infra_helpers fixture_results.tcl]
    lassign [infra_runtest --single $fixture --tags -slowfixture] status output
    assert_equal "1 passed, 2 failed, 1 skipped" [lindex [split [string trimright $output] "\n"] end]
    lassign [infra_runtest --single $fixture --tags slowfixture] status output
    assert_equal 0 $status
    assert_equal "1 passed, 0 failed" [lindex [split [string trimright $output] "\n"] end]
    lassign [infra_runtest --single $fixture --only "*passes"] status output
    assert_equal "1 passed, 0 failed" [lindex [split [string trimright $output] "\n"] end]
}

test "infra: a crashing test file counts as a failure" {
    lassign [infra_runtest --single [file join $::infra_helpers fixture_crash.tcl]] status output
    assert_equal 1 $status
    assert_match "*crashed (exit status 7)*" $output
    assert_equal "1 passed, 1 failed" [lindex [split [string trimright $output] "\n"] end]
}

test "infra: a hung test file is stopped by --timeout" {
    set start [clock milliseconds]
    lassign [infra_runtest --single [file join $::infra_helpers fixture_hang.tcl] --timeout 1] status output
    assert_lessthan [expr {[clock milliseconds] - $start}] 5000
    assert_equal 1 $status
    assert_match "*timed out after 1 s*" $output
    assert_equal "0 passed, 1 failed" [lindex [split [string trimright $output] "\n"] end]
}

test "infra: --list-tests lists the test files" {
    lassign [infra_runtest --list-tests] status output
    assert_equal 0 $status
    assert_match "*unit/infra*" $output
}

# --- start_server (needs a server binary) -------------------------------------------------------

if {!$::opt(external) && ![file executable $::opt(server_binary)]} {
    test "infra: start_server" {
        skip "no server binary at $::opt(server_binary)"
    }
} else {
    start_server {tags {infra}} {
        test "infra: start_server gives a working client and server properties" {
            assert_equal PONG [r ping]
            assert [string is integer -strict [srv 0 port]]
            assert_equal [srv port] [srv 0 port]
            r set infra:key value
            assert_equal value [r get infra:key]
        }

        start_server {tags {external:skip}} {
            test "infra: nested servers, srv -1 and r -1" {
                assert_not_equal [srv 0 port] [srv -1 port]
                r -1 set infra:nested outer
                r set infra:nested inner
                assert_equal outer [r -1 get infra:nested]
                assert_equal inner [r get infra:nested]
                assert [file exists [srv 0 config_file]]
                assert [::th::is_alive [srv 0 pid]]
            }
        }

        test "infra: extra clients, deferred and raw" {
            set rd [valkey_deferring_client]
            $rd ping
            assert_equal PONG [$rd read]
            $rd close
            set c [valkey_client]
            $c readraw 1
            assert_equal "+PONG" [$c ping]
            $c close
        }
    }

    start_server {tags {infra external:skip} overrides {slowlog-max-len 123}} {
        test "infra: overrides reach the server's config" {
            assert_equal {slowlog-max-len 123} [r config get slowlog-max-len]
        }
    }
}
