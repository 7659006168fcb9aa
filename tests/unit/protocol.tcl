# The request protocol (inline and multibulk), its errors, pipelining, big arguments,
# the query buffer limit, and the shapes of RESP2/RESP3 replies.

# Sends raw bytes on a fresh connection and returns the first reply line (without CRLF),
# or "" when the server closed without answering.
proc raw_request {bytes} {
    set c [valkey [srv host] [srv port] 1]
    $c readraw 1
    $c write $bytes
    $c flush
    set reply ""
    catch {set reply [$c read]}
    $c close
    return $reply
}

# Sends bytes that must get a protocol error; returns the error line after checking
# that the server then closed the connection.
proc protocol_error_of {bytes} {
    set c [valkey [srv host] [srv port] 1]
    $c readraw 1
    $c write $bytes
    $c flush
    set reply [$c read]
    set closed [catch {$c read} err]
    $c close
    assert_equal 1 $closed "connection still open after '$reply'"
    assert_match "*connection closed*" $err
    return $reply
}

# Reads the raw lines of a HELLO reply after its header, up to the empty modules list.
proc skip_hello_body {c} {
    while {[$c read] ne "*0"} {}
}

start_server {tags {"protocol"}} {
    test {Empty lines and empty multibulk requests are ignored} {
        r write "\r\n\r\n*0\r\n*-1\r\n*-10\r\n"
        r flush
        assert_equal PONG [r ping]
    }

    test {Inline commands, with quoting} {
        set c [valkey [srv host] [srv port] 1]
        $c readraw 1
        $c write "PING\r\nECHO \"a b\\x41\" \r\nECHO 'it\\'s'\r\nPING\n"
        $c flush
        assert_equal "+PONG" [$c read]
        assert_equal {$4} [$c read]
        assert_equal "a bA" [$c read]
        assert_equal {$4} [$c read]
        assert_equal "it's" [$c read]
        assert_equal "+PONG" [$c read]
        $c close
    }

    test {Protocol error: unbalanced quotes} {
        assert_equal "-ERR Protocol error: unbalanced quotes in request" \
            [protocol_error_of "set \"\"\"test-key\"\"\" test-value\r\nping\r\n"]
    }

    test {Protocol error: invalid multibulk length} {
        assert_equal "-ERR Protocol error: invalid multibulk length" [protocol_error_of "*3000000000\r\n"]
        assert_equal "-ERR Protocol error: invalid multibulk length" [protocol_error_of "*x\r\n"]
        assert_equal "-ERR Protocol error: invalid multibulk length" [protocol_error_of "*01\r\n"]
    }

    test {Protocol error: expected '$'} {
        assert_equal "-ERR Protocol error: expected '\$', got 'f'" [protocol_error_of "*1\r\nfoo\r\n"]
        assert_equal "-ERR Protocol error: expected '\$', got '+'" [protocol_error_of "*1\r\n+PING\r\n"]
    }

    test {Protocol error: invalid bulk length} {
        assert_equal "-ERR Protocol error: invalid bulk length" \
            [protocol_error_of "*3\r\n\$3\r\nSET\r\n\$1\r\nx\r\n\$-10\r\n"]
        assert_equal "-ERR Protocol error: invalid bulk length" [protocol_error_of "*1\r\n\$blabla\r\n"]
        assert_equal "-ERR Protocol error: invalid bulk length" [protocol_error_of "*1\r\n\$2000000000\r\n"]
        assert_equal "-ERR Protocol error: invalid bulk length" [protocol_error_of "*1\r\n\$04\r\nPING\r\n"]
    }

    test {Protocol error: too big inline request, mbulk count, bulk count} {
        set junk [string repeat A 70000]
        assert_equal "-ERR Protocol error: too big inline request" [protocol_error_of $junk]
        assert_equal "-ERR Protocol error: too big mbulk count string" [protocol_error_of "*$junk"]
        assert_equal "-ERR Protocol error: too big bulk count string" [protocol_error_of "*1\r\n\$$junk"]
    }

    test {Replies before a protocol error are still delivered} {
        set c [valkey [srv host] [srv port] 1]
        $c readraw 1
        $c write "PING\r\n*1\r\n\$4\r\nPING\r\n*1\r\nxx\r\nPING\r\n"
        $c flush
        assert_equal "+PONG" [$c read]
        assert_equal "+PONG" [$c read]
        assert_equal "-ERR Protocol error: expected '\$', got 'x'" [$c read]
        assert_error "*connection closed*" {$c read}
        $c close
    }

    test {The server survives protocol errors} {
        assert_equal PONG [r ping]
    }

    test {A command split in single bytes} {
        set c [valkey [srv host] [srv port] 1]
        $c readraw 1
        foreach ch [split "*2\r\n\$4\r\nECHO\r\n\$5\r\nhello\r\n" ""] {
            $c write $ch
            $c flush
            after 1
        }
        assert_equal {$5} [$c read]
        assert_equal hello [$c read]
        $c close
    }

    test {Pipelining: many commands in one write, replies in order} {
        set c [valkey [srv host] [srv port] 1]
        set payload ""
        for {set i 0} {$i < 2000} {incr i} {
            if {$i % 3 == 0} {
                append payload "ECHO inline$i\r\n"
            } else {
                append payload [::valkey::encode_request [list echo "multi$i"]]
            }
        }
        $c write $payload
        $c flush
        for {set i 0} {$i < 2000} {incr i} {
            set want [expr {$i % 3 == 0 ? "inline$i" : "multi$i"}]
            assert_equal $want [$c read]
        }
        $c close
    }

    test {Pipelined writes then reads keep their order} {
        set c [valkey [srv host] [srv port] 1]
        $c select 9
        $c read
        set payload ""
        for {set i 0} {$i < 500} {incr i} {
            append payload [::valkey::encode_request [list set pipe:$i $i]]
            append payload [::valkey::encode_request [list get pipe:$i]]
        }
        $c write $payload
        $c flush
        for {set i 0} {$i < 500} {incr i} {
            assert_equal OK [$c read]
            assert_equal $i [$c read]
        }
        $c close
    }

    test {Big bulk arguments round-trip} {
        foreach size {10 32767 32768 100000 3000000} {
            set value [string repeat "x" $size]
            append value "end"
            r set bigarg $value
            assert_equal [string length $value] [r strlen bigarg]
            assert_equal $value [r get bigarg]
        }
        r del bigarg
    }

    test {Several big arguments in one command} {
        set v1 [string repeat a 40000]
        set v2 [string repeat b 2000000]
        r mset big1 $v1 big2 $v2 small c
        assert_equal $v1 [r get big1]
        assert_equal $v2 [r get big2]
        assert_equal c [r get small]
        r del big1 big2 small
    }

    test {A big argument sent in pieces} {
        set c [valkey [srv host] [srv port] 1]
        $c select 9
        $c read
        set value [string repeat "abcdefghij" 50000]
        set req [::valkey::encode_request [list set piecewise $value]]
        for {set off 0} {$off < [string length $req]} {incr off 7001} {
            $c write [string range $req $off [expr {$off + 7000}]]
            $c flush
        }
        assert_equal OK [$c read]
        $c close
        assert_equal $value [r get piecewise]
    }

    test {Big reply is delivered whole} {
        set value [string repeat "0123456789" 500000]
        r set bigreply $value
        set c [valkey_client]
        for {set i 0} {$i < 3} {incr i} {
            assert_equal $value [$c get bigreply]
        }
        $c close
        r del bigreply
    }

    test {RESP2 reply shapes} {
        r hello 2
        r readraw 1
        assert_equal {$-1} [r get no-such-key]
        assert_equal {$-1} [r client getname]
        assert_equal {+OK} [r client reply on]
        assert_equal {*14} [r hello]
        skip_hello_body r
        r readraw 0
        assert_equal PONG [r ping]
    }
}

start_server {tags {"protocol resp3"}} {
    test {HELLO 3 returns a map and switches the connection} {
        set reply [r hello 3]
        assert_equal valkey [dict get $reply server]
        assert_equal 3 [dict get $reply proto]
        assert_equal standalone [dict get $reply mode]
        assert_equal master [dict get $reply role]
        assert_equal {} [dict get $reply modules]
        assert_match {8.*} [dict get $reply version]
        set c [valkey [srv host] [srv port] 1]
        $c readraw 1
        $c hello 3
        assert_equal "%7" [$c read]
        skip_hello_body $c
        $c get no-such-key
        assert_equal "_" [$c read]
        $c client getname
        assert_equal "_" [$c read]
        $c client info
        assert_match {=*} [$c read]
        assert_match {txt:id=*} [$c read]
        assert_equal {} [$c read] ;# the text ends with a newline of its own
        $c hello 2
        assert_equal "*14" [$c read]
        $c close
    }

    test {RESP3 encodings of every type (DEBUG PROTOCOL)} {
        needs_debug
        set c [valkey [srv host] [srv port] 1]
        $c readraw 1
        $c hello 3
        $c read
        skip_hello_body $c
        foreach {type lines} {
            double {,3.141}
            bignum {(1234567999999999999999999999999999999}
            null {_}
            true {#t}
            false {#f}
            set {~3 :0 :1 :2}
            map {%3 :0 #f :1 #t :2 #f}
            verbatim {=29}
        } {
            $c debug protocol $type
            foreach want $lines {
                assert_equal $want [$c read] "type $type"
            }
        }
        $c close
    }

    test {RESP2 encodings of the same types} {
        needs_debug
        set c [valkey [srv host] [srv port] 1]
        $c readraw 1
        foreach {type lines} {
            double {$5 3.141}
            bignum {$37 1234567999999999999999999999999999999}
            null {$-1}
            true {:1}
            false {:0}
            set {*3 :0 :1 :2}
            map {*6 :0 :0 :1 :1 :2 :0}
        } {
            $c debug protocol $type
            foreach want $lines {
                assert_equal $want [$c read] "type $type"
            }
        }
        $c close
    }
}

start_server {tags {"protocol"} overrides {client-query-buffer-limit 1mb}} {
    test {Query buffer limit closes the client} {
        set c [valkey [srv host] [srv port] 1]
        $c write "*3\r\n\$3\r\nSET\r\n\$1\r\nk\r\n\$3000000\r\n"
        # The server may close the socket while we are still writing: that is the
        # behaviour under test, so a broken pipe here counts as the close.
        if {[catch {$c write [string repeat x 1200000]; $c flush}] == 0} {
            assert_error "*connection closed*" {$c read}
        }
        $c close
        assert_equal PONG [r ping]
        assert_equal 1 [s client_query_buffer_limit_disconnections]
    }

    test {A big argument under the limit still works} {
        r set underlimit [string repeat y 900000]
        assert_equal 900000 [r strlen underlimit]
    }
}

start_server {tags {"protocol"}} {
    test {Unauthenticated clients are limited in multibulk and bulk sizes} {
        r config set requirepass secret
        set err1 [protocol_error_of "*11\r\n"]
        set err2 [protocol_error_of "*1\r\n\$16385\r\n"]
        # Within the limits the request is parsed (and refused for lack of AUTH).
        set c [valkey [srv host] [srv port] 1]
        $c readraw 1
        $c write "*10\r\n"
        foreach arg {DEL b c d e f g h i j} { $c write "\$[string length $arg]\r\n$arg\r\n" }
        $c flush
        set reply [$c read]
        $c close
        r config set requirepass ""
        assert_equal "-ERR Protocol error: unauthenticated multibulk length" $err1
        assert_equal "-ERR Protocol error: unauthenticated bulk length" $err2
        assert_equal "-NOAUTH Authentication required." $reply
    }
}
