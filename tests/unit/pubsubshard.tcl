# Shard Pub/Sub on a standalone server: SSUBSCRIBE / SUNSUBSCRIBE / SPUBLISH form a channel
# namespace of their own (no patterns, not reached by PUBLISH), counted apart from channels
# and patterns; PUBSUB SHARDCHANNELS / SHARDNUMSUB; RESP2 and RESP3 shapes.

proc pss_counts {client cmd names {n ""}} {
    $client {*}$cmd {*}$names
    if {$n eq ""} {set n [expr {[llength $names] ? [llength $names] : 1}]}
    set counts {}
    for {set i 0} {$i < $n} {incr i} {
        lappend counts [lindex [$client read] end]
    }
    return $counts
}

proc pss_raw_lines {client n} {
    set lines {}
    for {set i 0} {$i < $n} {incr i} {lappend lines [$client read]}
    return [join $lines " "]
}

start_server {tags {"pubsubshard"}} {
    foreach resp {2 3} {
        test "SPUBLISH reaches shard subscribers, counts and smessage shape - RESP$resp" {
            set rd [valkey_deferring_client]
            $rd hello $resp
            $rd read
            assert_equal {1 2} [pss_counts $rd ssubscribe {chan1 chan2}]
            assert_equal 1 [r spublish chan1 hello]
            assert_equal 1 [r spublish chan2 world]
            assert_equal 0 [r spublish chan3 nobody]
            assert_equal {smessage chan1 hello} [$rd read]
            assert_equal {smessage chan2 world} [$rd read]
            assert_equal {1} [pss_counts $rd sunsubscribe chan1]
            assert_equal 0 [r spublish chan1 hello]
            assert_equal {0} [pss_counts $rd sunsubscribe chan2]
            assert_equal 0 [r spublish chan2 hello]
            $rd close
        }
    }

    test {RESP2 exact bytes of ssubscribe, smessage and sunsubscribe} {
        set rd [valkey_deferring_client]
        $rd readraw 1
        $rd ssubscribe sc
        assert_equal {*3 $10 ssubscribe $2 sc :1} [pss_raw_lines $rd 6]
        assert_equal 1 [r spublish sc hi]
        assert_equal {*3 $8 smessage $2 sc $2 hi} [pss_raw_lines $rd 7]
        $rd sunsubscribe
        assert_equal {*3 $12 sunsubscribe $2 sc :0} [pss_raw_lines $rd 6]
        $rd sunsubscribe
        assert_equal {*3 $12 sunsubscribe $-1 :0} [pss_raw_lines $rd 5]
        $rd close
    }

    test {RESP3 exact bytes of ssubscribe and smessage} {
        set rd [valkey_deferring_client]
        $rd hello 3
        $rd read
        $rd readraw 1
        $rd ssubscribe sc
        assert_equal {>3 $10 ssubscribe $2 sc :1} [pss_raw_lines $rd 6]
        assert_equal 1 [r spublish sc hi]
        assert_equal {>3 $8 smessage $2 sc $2 hi} [pss_raw_lines $rd 7]
        $rd sunsubscribe
        assert_equal {>3 $12 sunsubscribe $2 sc :0} [pss_raw_lines $rd 6]
        $rd sunsubscribe
        assert_equal {>3 $12 sunsubscribe _ :0} [pss_raw_lines $rd 5]
        $rd close
    }

    test {Shard channels and channels are separate namespaces} {
        set shard [valkey_deferring_client]
        set plain [valkey_deferring_client]
        pss_counts $shard ssubscribe {news}
        pss_counts $plain subscribe {news}
        pss_counts $plain psubscribe {n*}
        # PUBLISH reaches the channel and the pattern, never the shard subscriber.
        assert_equal 2 [r publish news p]
        # SPUBLISH reaches the shard subscriber only: patterns do not apply to shards.
        assert_equal 1 [r spublish news s]
        assert_equal {smessage news s} [$shard read]
        assert_equal {message news p} [$plain read]
        assert_equal {pmessage n* news p} [$plain read]
        assert_equal {news} [r pubsub channels]
        assert_equal {news} [r pubsub shardchannels]
        assert_equal {news 1} [r pubsub numsub news]
        assert_equal {news 1} [r pubsub shardnumsub news]
        $shard close
        $plain close
    }

    test {Shard subscriptions are counted apart from channels and patterns} {
        set rd [valkey_deferring_client]
        assert_equal {1 2} [pss_counts $rd subscribe {a b}]
        assert_equal {1 2} [pss_counts $rd ssubscribe {a b}]
        assert_equal {3} [pss_counts $rd psubscribe {x*}]
        assert_equal {3} [pss_counts $rd ssubscribe {c}]
        assert_equal {2} [pss_counts $rd sunsubscribe {a}]
        assert_equal {2} [pss_counts $rd unsubscribe {a}]
        $rd close
    }

    test {SSUBSCRIBE to one shard channel more than once; SUNSUBSCRIBE of others} {
        set rd [valkey_deferring_client]
        assert_equal {1 1 1} [pss_counts $rd ssubscribe {ch ch ch}]
        assert_equal 1 [r spublish ch once]
        assert_equal {smessage ch once} [$rd read]
        assert_equal {1 1} [pss_counts $rd sunsubscribe {nope other}]
        $rd close
    }

    test {SUNSUBSCRIBE without arguments drops every shard channel, one reply each} {
        set rd [valkey_deferring_client]
        pss_counts $rd ssubscribe {s1 s2 s3}
        pss_counts $rd subscribe {c1}
        $rd sunsubscribe
        set names {}
        set counts {}
        for {set i 0} {$i < 3} {incr i} {
            set reply [$rd read]
            assert_equal sunsubscribe [lindex $reply 0]
            lappend names [lindex $reply 1]
            lappend counts [lindex $reply 2]
        }
        assert_equal {s1 s2 s3} [lsort $names]
        assert_equal {2 1 0} $counts
        assert_equal {} [r pubsub shardchannels]
        # The channel subscription is untouched.
        assert_equal 1 [r publish c1 still]
        assert_equal {message c1 still} [$rd read]
        $rd close
    }

    test {PUBSUB SHARDCHANNELS with a pattern and SHARDNUMSUB} {
        set rd1 [valkey_deferring_client]
        set rd2 [valkey_deferring_client]
        pss_counts $rd1 ssubscribe {orders.eu orders.us}
        pss_counts $rd2 ssubscribe {orders.eu stock}
        assert_equal {orders.eu orders.us stock} [lsort [r pubsub shardchannels]]
        assert_equal {orders.eu orders.us} [lsort [r pubsub shardchannels orders.*]]
        assert_equal {} [r pubsub shardchannels zzz*]
        assert_equal {orders.eu 2 orders.us 1 stock 1 none 0} [r pubsub shardnumsub orders.eu orders.us stock none]
        assert_equal {} [r pubsub shardnumsub]
        assert_equal {orders.eu 0} [r pubsub numsub orders.eu]
        assert_error {ERR unknown subcommand or wrong number of arguments for 'shardchannels'. Try PUBSUB HELP.} {
            r pubsub shardchannels a b
        }
        $rd1 close
        $rd2 close
        wait_for_condition 50 20 {
            [r pubsub shardchannels] eq {}
        } else {
            fail "shard channels of closed clients remain"
        }
    }

    test {A shard-only subscriber is in the RESP2 subscribed context} {
        set rd [valkey_deferring_client]
        pss_counts $rd ssubscribe {only}
        $rd get foo
        assert_error {ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context} {$rd read}
        $rd ping
        assert_equal {pong {}} [$rd read]
        pss_counts $rd sunsubscribe {only}
        $rd get foo
        assert_equal {} [$rd read]
        $rd close
    }

    test {RESP3: a shard subscriber may run commands; SPUBLISH to oneself after the reply} {
        set rd [valkey_deferring_client]
        $rd hello 3
        $rd read
        pss_counts $rd ssubscribe {me}
        $rd spublish me hello
        assert_equal 1 [$rd read]
        assert_equal {smessage me hello} [$rd read]
        $rd close
    }

    test {SSUBSCRIBE is refused inside MULTI, SUBSCRIBE is not} {
        if {[llength [r command info multi]] == 0 || [lindex [r command info multi] 0] eq {}} {
            skip "MULTI not implemented"
        }
        set rd [valkey_deferring_client]
        foreach cmd {multi {ssubscribe s} {subscribe c}} {
            $rd {*}$cmd
            $rd read
        }
        $rd readraw 1
        $rd exec
        assert_equal {*2 -ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client *3 $9 subscribe $1 c :1} \
            [pss_raw_lines $rd 8]
        assert_equal {s 0} [r pubsub shardnumsub s]
        $rd close
    }

    test {Closing and RESET release shard subscriptions} {
        set rd1 [valkey_deferring_client]
        set rd2 [valkey_deferring_client]
        pss_counts $rd1 ssubscribe {g1 g2}
        pss_counts $rd2 ssubscribe {g1}
        assert_equal 2 [s pubsubshard_channels]
        $rd2 reset
        assert_equal RESET [$rd2 read]
        assert_equal {g1 1} [r pubsub shardnumsub g1]
        $rd1 close
        wait_for_condition 50 20 {
            [s pubsubshard_channels] == 0
        } else {
            fail "shard channels remain after the subscriber closed"
        }
        assert_equal 0 [r spublish g1 x]
        $rd2 close
    }

    test {SPUBLISH and SSUBSCRIBE arity} {
        assert_error {ERR wrong number of arguments for 'spublish' command} {r spublish ch}
        assert_error {ERR wrong number of arguments for 'ssubscribe' command} {r ssubscribe}
    }
}
