# Pub/Sub: SUBSCRIBE / PSUBSCRIBE / PUBLISH and their unsubscribe counterparts in RESP2 and
# RESP3 (reply shapes, counts, exact bytes), PUBSUB introspection, the RESP2 subscribed
# context, RESET and disconnection cleanup, CLIENT LIST / INFO fields, pushes to oneself
# (after the command's reply), and slow subscribers hitting client-output-buffer-limit pubsub.
# Shard channels are in pubsubshard.tcl, keyspace notifications in keyspace-events.tcl.

# Sends a subscribe-family command on a deferring client and returns the count carried by
# each of its replies (one reply per name; `n` replies when no name is given).
proc ps_counts {client cmd names {n ""}} {
    $client {*}$cmd {*}$names
    if {$n eq ""} {set n [expr {[llength $names] ? [llength $names] : 1}]}
    set counts {}
    for {set i 0} {$i < $n} {incr i} {
        lappend counts [lindex [$client read] end]
    }
    return $counts
}

# The next `n` protocol lines read from a client in readraw mode, joined by spaces.
proc ps_raw_lines {client n} {
    set lines {}
    for {set i 0} {$i < $n} {incr i} {lappend lines [$client read]}
    return [join $lines " "]
}

# The CLIENT LIST line of the connection named `name` ("" when there is none).
proc ps_client_line {name} {
    foreach line [split [r client list] "\n"] {
        if {[string match "* name=$name *" $line]} {return $line}
    }
    return ""
}

# One field of that line, e.g. omem.
proc ps_client_field {name field} {
    if {![regexp " $field=(\\S*)" [ps_client_line $name] -> value]} {return ""}
    return $value
}

start_server {tags {"pubsub"}} {
    foreach resp {2 3} {
        test "PING while subscribed - RESP$resp" {
            set rd [valkey_deferring_client]
            $rd hello $resp
            $rd read
            assert_equal {1} [ps_counts $rd subscribe somechannel]
            $rd ping
            $rd ping foo
            if {$resp == 2} {
                assert_equal {pong {}} [$rd read]
                assert_equal {pong foo} [$rd read]
            } else {
                assert_equal PONG [$rd read]
                assert_equal foo [$rd read]
            }
            assert_equal {0} [ps_counts $rd unsubscribe somechannel]
            $rd ping
            assert_equal PONG [$rd read]
            $rd close
        }

        test "PUBLISH reaches subscribers, counts and message shape - RESP$resp" {
            set rd [valkey_deferring_client]
            $rd hello $resp
            $rd read
            assert_equal {1 2} [ps_counts $rd subscribe {chan1 chan2}]
            assert_equal 1 [r publish chan1 hello]
            assert_equal 1 [r publish chan2 world]
            assert_equal 0 [r publish chan3 nobody]
            assert_equal {message chan1 hello} [$rd read]
            assert_equal {message chan2 world} [$rd read]
            assert_equal {1} [ps_counts $rd unsubscribe chan1]
            assert_equal 0 [r publish chan1 hello]
            assert_equal 1 [r publish chan2 again]
            assert_equal {message chan2 again} [$rd read]
            assert_equal {0} [ps_counts $rd unsubscribe chan2]
            assert_equal 0 [r publish chan2 world]
            $rd close
        }

        test "PSUBSCRIBE basics and pmessage shape - RESP$resp" {
            set rd [valkey_deferring_client]
            $rd hello $resp
            $rd read
            assert_equal {1 2} [ps_counts $rd psubscribe {foo.* bar.*}]
            assert_equal 1 [r publish foo.1 hello]
            assert_equal 1 [r publish bar.1 hello]
            assert_equal 0 [r publish foo1 hello]
            assert_equal 0 [r publish barfoo.1 hello]
            assert_equal {pmessage foo.* foo.1 hello} [$rd read]
            assert_equal {pmessage bar.* bar.1 hello} [$rd read]
            assert_equal {1} [ps_counts $rd punsubscribe foo.*]
            assert_equal 0 [r publish foo.1 hello]
            assert_equal {0} [ps_counts $rd punsubscribe bar.*]
            assert_equal 0 [r publish bar.1 hello]
            $rd close
        }
    }

    test {RESP2 exact bytes: subscribe, message, pmessage, unsubscribe} {
        set rd [valkey_deferring_client]
        $rd readraw 1
        $rd subscribe ch
        assert_equal {*3 $9 subscribe $2 ch :1} [ps_raw_lines $rd 6]
        $rd psubscribe c?
        assert_equal {*3 $10 psubscribe $2 c? :2} [ps_raw_lines $rd 6]
        assert_equal 2 [r publish ch hi]
        assert_equal {*3 $7 message $2 ch $2 hi} [ps_raw_lines $rd 7]
        assert_equal {*4 $8 pmessage $2 c? $2 ch $2 hi} [ps_raw_lines $rd 9]
        $rd unsubscribe ch
        assert_equal {*3 $11 unsubscribe $2 ch :1} [ps_raw_lines $rd 6]
        $rd punsubscribe
        assert_equal {*3 $12 punsubscribe $2 c? :0} [ps_raw_lines $rd 6]
        $rd close
    }

    test {RESP2 exact bytes: unsubscribing with nothing subscribed replies a null name} {
        set rd [valkey_deferring_client]
        $rd readraw 1
        $rd unsubscribe
        assert_equal {*3 $11 unsubscribe $-1 :0} [ps_raw_lines $rd 5]
        $rd punsubscribe
        assert_equal {*3 $12 punsubscribe $-1 :0} [ps_raw_lines $rd 5]
        $rd sunsubscribe
        assert_equal {*3 $12 sunsubscribe $-1 :0} [ps_raw_lines $rd 5]
        # Not subscribed: the client is not in the subscribed context.
        $rd get nokey
        assert_equal {$-1} [$rd read]
        $rd close
    }

    test {RESP3 exact bytes: pushes and the null name} {
        set rd [valkey_deferring_client]
        $rd hello 3
        $rd read
        $rd readraw 1
        $rd unsubscribe
        assert_equal {>3 $11 unsubscribe _ :0} [ps_raw_lines $rd 5]
        $rd subscribe ch
        assert_equal {>3 $9 subscribe $2 ch :1} [ps_raw_lines $rd 6]
        $rd psubscribe c*
        assert_equal {>3 $10 psubscribe $2 c* :2} [ps_raw_lines $rd 6]
        assert_equal 2 [r publish ch hi]
        assert_equal {>3 $7 message $2 ch $2 hi} [ps_raw_lines $rd 7]
        assert_equal {>4 $8 pmessage $2 c* $2 ch $2 hi} [ps_raw_lines $rd 9]
        $rd close
    }

    test {One message reaches RESP2 and RESP3 subscribers, each in its own protocol} {
        # The message is encoded once per publish; each subscriber's copy is framed for
        # its own protocol, whatever order the subscribers are visited in.
        set subs {}
        foreach proto {2 3 2 3} {
            set rd [valkey_deferring_client]
            if {$proto == 3} {$rd hello 3; $rd read}
            $rd readraw 1
            $rd subscribe mix
            ps_raw_lines $rd 6
            $rd psubscribe mi?
            ps_raw_lines $rd 6
            lappend subs $proto $rd
        }
        set big [string repeat x 100000]
        assert_equal 8 [r publish mix $big]
        assert_equal 8 [r publish mix hi]
        foreach {proto rd} $subs {
            set t [expr {$proto == 2 ? "*" : ">"}]
            assert_equal "${t}3 \$7 message \$3 mix \$100000 $big" [ps_raw_lines $rd 7]
            assert_equal "${t}4 \$8 pmessage \$3 mi? \$3 mix \$100000 $big" [ps_raw_lines $rd 9]
            assert_equal "${t}3 \$7 message \$3 mix \$2 hi" [ps_raw_lines $rd 7]
            assert_equal "${t}4 \$8 pmessage \$3 mi? \$3 mix \$2 hi" [ps_raw_lines $rd 9]
            $rd close
        }
    }

    foreach gather {100 1000 0} {
        test "Fan-out gathering ($gather us) loses nothing: every subscriber gets every message in order" {
            # Six subscribers make each turn that publishes a fan-out turn, so the next poll
            # gathers the publishers' requests (fanout-gather-usec).
            r config set fanout-gather-usec $gather
            set subs {}
            for {set i 0} {$i < 6} {incr i} {
                set rd [valkey_deferring_client]
                ps_counts $rd subscribe gathered
                lappend subs $rd
            }
            set pubs {}
            for {set p 0} {$p < 5} {incr p} {lappend pubs [valkey_deferring_client]}
            set rounds 40
            for {set m 0} {$m < $rounds} {incr m} {
                set p 0
                foreach pub $pubs {
                    $pub publish gathered "$p:$m"
                    incr p
                }
                if {$m % 8 == 7} {
                    foreach pub $pubs {for {set k 0} {$k < 8} {incr k} {assert_equal 6 [$pub read]}}
                }
            }
            foreach sub $subs {
                set next [lrepeat 5 0]
                for {set k 0} {$k < 5 * $rounds} {incr k} {
                    lassign [$sub read] kind channel payload
                    assert_equal {message gathered} [list $kind $channel]
                    lassign [split $payload :] p m
                    assert_equal [lindex $next $p] $m
                    lset next $p [expr {$m + 1}]
                }
                assert_equal [lrepeat 5 $rounds] $next
                $sub close
            }
            foreach pub $pubs {$pub close}
            r config set fanout-gather-usec 100
        }
    }

    test {Two subscribers of one channel both get the message} {
        set rd1 [valkey_deferring_client]
        set rd2 [valkey_deferring_client]
        assert_equal {1} [ps_counts $rd1 subscribe chan1]
        assert_equal {1} [ps_counts $rd2 subscribe chan1]
        assert_equal 2 [r publish chan1 hello]
        assert_equal {message chan1 hello} [$rd1 read]
        assert_equal {message chan1 hello} [$rd2 read]
        $rd1 close
        $rd2 close
    }

    test {UNSUBSCRIBE without arguments drops every channel, one reply each} {
        set rd [valkey_deferring_client]
        assert_equal {1 2 3} [ps_counts $rd subscribe {chan1 chan2 chan3}]
        $rd unsubscribe
        set names {}
        set counts {}
        for {set i 0} {$i < 3} {incr i} {
            set reply [$rd read]
            assert_equal unsubscribe [lindex $reply 0]
            lappend names [lindex $reply 1]
            lappend counts [lindex $reply 2]
        }
        assert_equal {chan1 chan2 chan3} [lsort $names]
        assert_equal {2 1 0} $counts
        foreach ch {chan1 chan2 chan3} {assert_equal 0 [r publish $ch hello]}
        $rd close
    }

    test {PUNSUBSCRIBE without arguments drops every pattern} {
        set rd [valkey_deferring_client]
        assert_equal {1 2 3} [ps_counts $rd psubscribe {chan1.* chan2.* chan3.*}]
        assert_equal {2 1 0} [ps_counts $rd punsubscribe {} 3]
        assert_equal 0 [r publish chan1.hi hello]
        assert_equal 0 [r pubsub numpat]
        $rd close
    }

    test {SUBSCRIBE to one channel more than once} {
        set rd [valkey_deferring_client]
        assert_equal {1 1 1} [ps_counts $rd subscribe {chan1 chan1 chan1}]
        assert_equal 1 [r publish chan1 hello]
        assert_equal {message chan1 hello} [$rd read]
        assert_equal {2 2} [ps_counts $rd psubscribe {chan1 chan1}]
        $rd close
    }

    test {UNSUBSCRIBE and PUNSUBSCRIBE from names never subscribed} {
        set rd [valkey_deferring_client]
        assert_equal {0 0 0} [ps_counts $rd unsubscribe {foo bar quux}]
        assert_equal {0 0 0} [ps_counts $rd punsubscribe {foo bar quux}]
        assert_equal {1} [ps_counts $rd subscribe foo]
        # The count is the client's, whatever the name given.
        assert_equal {1 1} [ps_counts $rd unsubscribe {nope nope2}]
        assert_equal {1} [ps_counts $rd punsubscribe {foo}]
        $rd close
    }

    test {Channels and patterns are counted together} {
        set rd [valkey_deferring_client]
        assert_equal {1} [ps_counts $rd subscribe foo.bar]
        assert_equal {2} [ps_counts $rd psubscribe foo.*]
        assert_equal 2 [r publish foo.bar hello]
        assert_equal {message foo.bar hello} [$rd read]
        assert_equal {pmessage foo.* foo.bar hello} [$rd read]
        assert_equal {1} [ps_counts $rd unsubscribe foo.bar]
        assert_equal {0} [ps_counts $rd punsubscribe foo.*]
        $rd close
    }

    test {Several patterns of one client matching a channel each deliver} {
        set rd [valkey_deferring_client]
        assert_equal {1 2 3} [ps_counts $rd psubscribe {* news.* news.?port}]
        assert_equal 3 [r publish news.sport goal]
        set got {}
        for {set i 0} {$i < 3} {incr i} {lappend got [lindex [$rd read] 1]}
        assert_equal [lsort {* news.* news.?port}] [lsort $got]
        $rd close
    }

    test {Glob patterns: ? [set] [^set] ranges and escapes} {
        set rd [valkey_deferring_client]
        ps_counts $rd psubscribe {h?llo h\[ae\]y x\[^a\]z r\[0-9\] lit\\*}
        assert_equal 1 [r publish hello m]
        assert_equal 1 [r publish hay m]
        assert_equal 0 [r publish hoy m]
        assert_equal 1 [r publish xbz m]
        assert_equal 0 [r publish xaz m]
        assert_equal 1 [r publish r7 m]
        assert_equal 0 [r publish rx m]
        assert_equal 1 [r publish lit* m]
        assert_equal 0 [r publish litx m]
        $rd close
    }

    test {Binary-safe and integer-looking channels and messages} {
        set rd [valkey_deferring_client]
        set bin "a\x00b\r\nc"
        ps_counts $rd subscribe [list $bin 12345 ""]
        assert_equal 1 [r publish $bin "x\x00y"]
        assert_equal [list message $bin "x\x00y"] [$rd read]
        assert_equal 1 [r publish 12345 678]
        assert_equal {message 12345 678} [$rd read]
        assert_equal 1 [r publish "" ""]
        assert_equal {message {} {}} [$rd read]
        assert_equal [list 12345 1] [r pubsub numsub 12345]
        $rd close
    }

    test {A big message is delivered intact} {
        set rd [valkey_deferring_client]
        ps_counts $rd subscribe big
        set payload [string repeat abcdefghij 50000]
        assert_equal 1 [r publish big $payload]
        assert_equal [list message big $payload] [$rd read]
        $rd close
    }

    test {Many channels: subscribe a thousand, unsubscribe them all} {
        set rd [valkey_deferring_client]
        set names {}
        for {set i 0} {$i < 1000} {incr i} {lappend names ch:$i}
        set counts [ps_counts $rd subscribe $names]
        assert_equal 1000 [lindex $counts end]
        assert_equal 1000 [llength [r pubsub channels ch:*]]
        set counts [ps_counts $rd unsubscribe {} 1000]
        assert_equal 0 [lindex $counts end]
        assert_equal 999 [lindex $counts 0]
        assert_equal {} [r pubsub channels ch:*]
        $rd close
    }

    test {PUBSUB CHANNELS with and without a pattern} {
        set rd1 [valkey_deferring_client]
        set rd2 [valkey_deferring_client]
        ps_counts $rd1 subscribe {news.tech news.art}
        ps_counts $rd2 subscribe {news.tech weather}
        ps_counts $rd2 psubscribe {news.*}
        assert_equal {news.art news.tech weather} [lsort [r pubsub channels]]
        assert_equal {news.art news.tech weather} [lsort [r pubsub channels *]]
        assert_equal {news.art news.tech} [lsort [r pubsub channels news.*]]
        assert_equal {} [r pubsub channels nothing*]
        $rd1 close
        $rd2 close
        wait_for_condition 50 20 {
            [r pubsub channels] eq {}
        } else {
            fail "channels of closed clients still listed: [r pubsub channels]"
        }
    }

    test {PUBSUB NUMSUB counts channel subscribers only, as integers} {
        set rd1 [valkey_deferring_client]
        set rd2 [valkey_deferring_client]
        ps_counts $rd1 subscribe {a b}
        ps_counts $rd2 subscribe {a}
        ps_counts $rd2 psubscribe {*}
        assert_equal {a 2 b 1 c 0} [r pubsub numsub a b c]
        assert_equal {} [r pubsub numsub]
        assert_equal {abc 0 def 0} [r pubsub numsub abc def]
        set raw [valkey_deferring_client]
        $raw readraw 1
        $raw pubsub numsub a
        assert_equal {*2 $1 a :2} [ps_raw_lines $raw 4]
        $raw close
        $rd1 close
        $rd2 close
    }

    test {PUBSUB NUMPAT counts distinct patterns} {
        set rd1 [valkey_deferring_client]
        set rd2 [valkey_deferring_client]
        ps_counts $rd1 psubscribe {foo* bar*}
        ps_counts $rd2 psubscribe {foo* baz*}
        assert_equal 3 [r pubsub numpat]
        ps_counts $rd1 punsubscribe {foo*}
        assert_equal 3 [r pubsub numpat]
        ps_counts $rd2 punsubscribe {foo*}
        assert_equal 2 [r pubsub numpat]
        $rd1 close
        $rd2 close
        wait_for_condition 50 20 {
            [r pubsub numpat] == 0
        } else {
            fail "patterns of closed clients still counted"
        }
    }

    test {PUBSUB HELP and argument errors} {
        set help [r pubsub help]
        assert_match {PUBSUB <subcommand> *} [lindex $help 0]
        assert {[lsearch $help {CHANNELS \[<pattern>\]}] >= 0}
        assert {[lsearch $help {SHARDNUMSUB \[<shardchannel> ...\]}] >= 0}
        assert_error {ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP.} {
            r pubsub channels a b
        }
        assert_error {ERR unknown subcommand 'foo'. Try PUBSUB HELP.} {r pubsub foo}
        assert_error {ERR wrong number of arguments for 'pubsub|numpat' command} {r pubsub numpat x}
        assert_error {ERR wrong number of arguments for 'pubsub' command} {r pubsub}
        assert_error {ERR wrong number of arguments for 'publish' command} {r publish ch}
        assert_error {ERR wrong number of arguments for 'subscribe' command} {r subscribe}
        assert_error {ERR wrong number of arguments for 'psubscribe' command} {r psubscribe}
    }

    test {RESP2 subscribed context: only the subscribe family, PING, QUIT and RESET} {
        set rd [valkey_deferring_client]
        ps_counts $rd subscribe ch
        $rd get foo
        assert_error {ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context} {$rd read}
        $rd client list
        assert_error {ERR Can't execute 'client|list': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context} {$rd read}
        $rd publish ch x
        assert_error {*Can't execute 'publish'*} {$rd read}
        # Unknown commands and arity errors are reported first, as usual.
        $rd nosuchcommand
        assert_error {ERR unknown command*} {$rd read}
        $rd get
        assert_error {ERR wrong number of arguments for 'get' command} {$rd read}
        # The subscribe family is allowed.
        assert_equal {2} [ps_counts $rd psubscribe p*]
        # Shard channels are counted apart.
        assert_equal {1} [ps_counts $rd ssubscribe s]
        $rd ping
        assert_equal {pong {}} [$rd read]
        # Still restricted while any subscription (even a shard one) is left.
        assert_equal {1} [ps_counts $rd unsubscribe {}]
        assert_equal {0} [ps_counts $rd punsubscribe {}]
        $rd get foo
        assert_error {*Can't execute 'get'*} {$rd read}
        assert_equal {0} [ps_counts $rd sunsubscribe {}]
        $rd set foo bar
        assert_equal OK [$rd read]
        $rd close
    }

    test {QUIT is allowed in the RESP2 subscribed context} {
        set rd [valkey_deferring_client]
        ps_counts $rd subscribe ch
        $rd quit
        assert_equal OK [$rd read]
        $rd close
        wait_for_condition 50 20 {
            [r pubsub numsub ch] eq {ch 0}
        } else {
            fail "QUIT did not release the subscription"
        }
    }

    test {RESP3: a subscribed client may run any command} {
        set rd [valkey_deferring_client]
        $rd hello 3
        $rd read
        ps_counts $rd subscribe ch
        $rd set foo bar
        assert_equal OK [$rd read]
        $rd get foo
        assert_equal bar [$rd read]
        $rd client info
        assert_match {*flags=P*sub=1*resp=3*} [$rd read]
        $rd close
    }

    test {RESP3: a message to oneself comes after the reply of the command} {
        set rd [valkey_deferring_client]
        $rd hello 3
        $rd read
        ps_counts $rd subscribe foo
        $rd publish foo bar
        assert_equal 1 [$rd read]
        assert_equal {message foo bar} [$rd read]
        $rd close
    }

    test {RESP3: publishing to oneself inside MULTI keeps the EXEC reply whole} {
        if {[llength [r command info multi]] == 0 || [lindex [r command info multi] 0] eq {}} {
            skip "MULTI not implemented"
        }
        set rd [valkey_deferring_client]
        $rd hello 3
        $rd read
        ps_counts $rd subscribe foo
        foreach cmd {multi {ping abc} {publish foo bar} {publish foo vaz} {ping def}} {
            $rd {*}$cmd
            $rd read
        }
        $rd exec
        assert_equal {abc 1 1 def} [$rd read]
        assert_equal {message foo bar} [$rd read]
        assert_equal {message foo vaz} [$rd read]
        # Unsubscribing inside MULTI: the replies are part of EXEC's.
        foreach cmd {multi {unsubscribe foo} {ping x}} {
            $rd {*}$cmd
            $rd read
        }
        $rd exec
        assert_equal {{unsubscribe foo 0} x} [$rd read]
        $rd close
    }

    test {SUBSCRIBE inside MULTI is allowed (RESP2)} {
        if {[llength [r command info multi]] == 0 || [lindex [r command info multi] 0] eq {}} {
            skip "MULTI not implemented"
        }
        set rd [valkey_deferring_client]
        foreach cmd {multi {subscribe x} {psubscribe y*}} {
            $rd {*}$cmd
            $rd read
        }
        $rd exec
        assert_equal {{subscribe x 1} {psubscribe y* 2}} [$rd read]
        assert_equal 1 [r publish x hi]
        assert_equal {message x hi} [$rd read]
        $rd close
    }

    test {RESET unsubscribes everything and leaves the subscribed context} {
        set rd [valkey_deferring_client]
        $rd client setname resetme
        $rd read
        ps_counts $rd subscribe {a b}
        ps_counts $rd psubscribe {p*}
        ps_counts $rd ssubscribe {s}
        assert_match {*flags=P*sub=2 psub=1 ssub=1*} [ps_client_line resetme]
        $rd reset
        assert_equal RESET [$rd read]
        assert_equal {a 0 b 0} [r pubsub numsub a b]
        assert_equal {s 0} [r pubsub shardnumsub s]
        assert_equal 0 [r pubsub numpat]
        assert_equal 0 [r publish a hi]
        $rd get foo
        $rd read
        $rd client info
        assert_match {*flags=N*sub=0 psub=0 ssub=0*} [$rd read]
        $rd close
    }

    test {RESET in RESP3 also unsubscribes} {
        set rd [valkey_deferring_client]
        $rd hello 3
        $rd read
        ps_counts $rd subscribe a
        $rd reset
        assert_equal RESET [$rd read]
        assert_equal {a 0} [r pubsub numsub a]
        $rd close
    }

    test {A closed connection leaves no subscription behind} {
        set rd1 [valkey_deferring_client]
        set rd2 [valkey_deferring_client]
        ps_counts $rd1 subscribe {x y}
        ps_counts $rd1 psubscribe {x*}
        ps_counts $rd2 subscribe {x}
        assert_equal 3 [r publish x one]
        $rd1 close
        wait_for_condition 50 20 {
            [r pubsub numsub x y] eq {x 1 y 0}
        } else {
            fail "subscriptions of a closed client remain: [r pubsub numsub x y]"
        }
        assert_equal 0 [r pubsub numpat]
        assert_equal 1 [r publish x two]
        assert_equal {message x one} [$rd2 read]
        assert_equal {message x two} [$rd2 read]
        $rd2 close
    }

    test {CLIENT KILL of a subscriber leaves no subscription behind} {
        set rd [valkey_deferring_client]
        $rd client setname killme
        $rd read
        ps_counts $rd subscribe k1
        ps_counts $rd psubscribe k*
        r client kill skipme yes type pubsub
        wait_for_condition 50 20 {
            [r pubsub numsub k1] eq {k1 0} && [r pubsub numpat] == 0
        } else {
            fail "the killed subscriber is still subscribed"
        }
        assert_equal {} [ps_client_line killme]
        $rd close
    }

    test {CLIENT LIST: flag P and sub/psub/ssub counts; TYPE pubsub} {
        set rd [valkey_deferring_client]
        $rd client setname lister
        $rd read
        assert_match {*flags=N*sub=0 psub=0 ssub=0*} [ps_client_line lister]
        ps_counts $rd subscribe {a b c}
        ps_counts $rd psubscribe {x* y*}
        ps_counts $rd ssubscribe {s1}
        assert_match {*flags=P*sub=3 psub=2 ssub=1*} [ps_client_line lister]
        assert_match {*name=lister*} [r client list type pubsub]
        assert_no_match {*name=lister*} [r client list type normal]
        ps_counts $rd unsubscribe {} 3
        ps_counts $rd punsubscribe {} 2
        assert_match {*flags=P*sub=0 psub=0 ssub=1*} [ps_client_line lister]
        ps_counts $rd sunsubscribe {}
        assert_match {*flags=N*sub=0 psub=0 ssub=0*} [ps_client_line lister]
        assert_no_match {*name=lister*} [r client list type pubsub]
        $rd close
    }

    test {INFO: pubsub_clients, pubsub_channels, pubsub_patterns, pubsubshard_channels} {
        assert_equal 0 [s pubsub_clients]
        assert_equal 0 [s pubsub_channels]
        assert_equal 0 [s pubsub_patterns]
        assert_equal 0 [s pubsubshard_channels]
        set rd1 [valkey_deferring_client]
        set rd2 [valkey_deferring_client]
        ps_counts $rd1 subscribe {a b}
        ps_counts $rd2 subscribe {b c}
        ps_counts $rd1 psubscribe {p*}
        ps_counts $rd2 psubscribe {p* q*}
        ps_counts $rd2 ssubscribe {s1 s2}
        assert_equal 2 [s pubsub_clients]
        assert_equal 3 [s pubsub_channels]
        assert_equal 2 [s pubsub_patterns]
        assert_equal 2 [s pubsubshard_channels]
        $rd1 close
        $rd2 close
        wait_for_condition 50 20 {
            [s pubsub_clients] == 0 && [s pubsub_channels] == 0 && [s pubsub_patterns] == 0 &&
            [s pubsubshard_channels] == 0
        } else {
            fail "INFO still counts subscriptions of closed clients"
        }
    }

    test {Messages are delivered under CLIENT REPLY OFF} {
        set rd [valkey_deferring_client]
        $rd hello 3
        $rd read
        $rd client reply off
        assert_equal {1} [ps_counts $rd subscribe channel]
        assert_equal {2} [ps_counts $rd psubscribe ch*]
        assert_equal 2 [r publish channel hello]
        assert_equal {message channel hello} [$rd read]
        assert_equal {pmessage ch* channel hello} [$rd read]
        assert_equal {1} [ps_counts $rd unsubscribe channel]
        $rd close
    }

    test {A subscriber that does not read is closed at the pubsub hard limit} {
        r config set client-output-buffer-limit "pubsub 100000 0 0"
        set rd [valkey_deferring_client]
        $rd client setname slowsub
        $rd read
        ps_counts $rd subscribe flood
        set before [s client_output_buffer_limit_disconnections]
        # Small enough for the whole request to leave the test client in one write (a
        # request split in two waits for a delayed ACK).
        set payload [string repeat x 3500]
        # The socket buffers take some first; the client goes once its own output buffer
        # passes 100 kB, and PUBLISH then finds nobody.
        set sent 0
        while {[r publish flood $payload] == 1} {
            incr sent
            if {$sent > 20000} {fail "the slow subscriber was never disconnected"}
        }
        assert_equal {} [ps_client_line slowsub]
        assert_equal {flood 0} [r pubsub numsub flood]
        assert_morethan [s client_output_buffer_limit_disconnections] $before
        $rd close
        r config set client-output-buffer-limit "pubsub 32mb 8mb 60"
    }

    test {The pubsub soft limit closes a subscriber that stays above it} {
        r config set client-output-buffer-limit "pubsub 0 100000 1"
        set rd [valkey_deferring_client]
        $rd client setname softsub
        $rd read
        ps_counts $rd subscribe flood
        set payload [string repeat x 3500]
        # Fill until the output buffer is above the soft limit.
        set sent 0
        while {[ps_client_field softsub omem] <= 100000} {
            r publish flood $payload
            if {[incr sent] > 20000} {fail "the output buffer never grew"}
        }
        # Still connected right after crossing it; gone after a second above it.
        assert_match {*name=softsub*} [ps_client_line softsub]
        wait_for_condition 50 100 {
            [r publish flood x] == 0
        } else {
            fail "the subscriber above the soft limit was not closed"
        }
        assert_equal {} [ps_client_line softsub]
        $rd close
        r config set client-output-buffer-limit "pubsub 32mb 8mb 60"
    }

    test {A normal client is not affected by the pubsub limit} {
        r config set client-output-buffer-limit "pubsub 1 1 0"
        set rd [valkey_deferring_client]
        $rd set big [string repeat x 100000]
        assert_equal OK [$rd read]
        $rd get big
        assert_equal 100000 [string length [$rd read]]
        $rd close
        r config set client-output-buffer-limit "pubsub 32mb 8mb 60"
    }
}
