# Regressions in the core: a blocking command counted once (commandstats, slowlog, latency
# histogram, MONITOR, total_commands_processed) however many times it runs; CLIENT
# UNBLOCK leaving alone the clients whose wait may not be cut short; list range
# deletions not merging quicklist nodes, so that OBJECT ENCODING after a trim is Valkey's.

# The INFO commandstats line of a command ("calls=...,failed_calls=..."), or "".
proc rc_cmdstat {cmd} {
    if {[regexp "\r\ncmdstat_$cmd:(.*?)\r\n" [r info commandstats] -> line]} { return $line }
    return ""
}

proc rc_client_id {rd} {
    $rd client id
    return [$rd read]
}

start_server {tags {"blocking"}} {
    test {A BLPOP served after blocking is counted once} {
        r del l
        r config resetstat
        set rd [valkey_deferring_client]
        $rd client info
        regexp {tot-cmds=([0-9]+)} [$rd read] -> before
        $rd blpop l 0
        wait_for_blocked_client
        r rpush l a
        assert_equal {l a} [$rd read]
        assert_match {calls=1,*,rejected_calls=0,failed_calls=0} [rc_cmdstat blpop]
        # The client's own count: the first CLIENT INFO and BLPOP once (a CLIENT INFO
        # counts itself after it replies).
        $rd client info
        regexp {tot-cmds=([0-9]+)} [$rd read] -> after
        assert_equal 2 [expr {$after - $before}]
        $rd close
    }

    test {Two BLPOPs served by one push are counted once each} {
        r del l
        r config resetstat
        set rd1 [valkey_deferring_client]
        set rd2 [valkey_deferring_client]
        $rd1 blpop l 0
        wait_for_blocked_clients_count 1
        $rd2 blpop l 0
        wait_for_blocked_clients_count 2
        r rpush l a b
        assert_equal {l a} [$rd1 read]
        assert_equal {l b} [$rd2 read]
        assert_match {calls=2,*} [rc_cmdstat blpop]
        $rd1 close
        $rd2 close
    }

    test {A BLPOP that times out is counted once, not failed} {
        r del l
        r config resetstat
        assert_equal {} [r blpop l 0.05]
        assert_match {calls=1,*,rejected_calls=0,failed_calls=0} [rc_cmdstat blpop]
    }

    test {CLIENT UNBLOCK TIMEOUT counts the command once, not failed} {
        r del l
        r config resetstat
        set rd [valkey_deferring_client]
        set id [rc_client_id $rd]
        $rd blpop l 0
        wait_for_blocked_client
        assert_equal 1 [r client unblock $id]
        assert_equal {} [$rd read]
        assert_match {calls=1,*,rejected_calls=0,failed_calls=0} [rc_cmdstat blpop]
        $rd close
    }

    test {CLIENT UNBLOCK ERROR counts the command once, as failed} {
        r del l
        r config resetstat
        set rd [valkey_deferring_client]
        set id [rc_client_id $rd]
        $rd blpop l 0
        wait_for_blocked_client
        assert_equal 1 [r client unblock $id error]
        assert_error {UNBLOCKED client unblocked via CLIENT UNBLOCK} {$rd read}
        assert_match {calls=1,*,rejected_calls=0,failed_calls=1} [rc_cmdstat blpop]
        assert_match {*count=1*} [s errorstat_UNBLOCKED]
        assert_equal 1 [s total_error_replies]
        $rd close
    }

    test {A blocked BLMOVE that fails when run again is counted once, as failed} {
        r del src dst
        r set dst notalist
        r config resetstat
        set rd [valkey_deferring_client]
        $rd blmove src dst left left 0
        wait_for_blocked_client
        r rpush src x
        assert_error {WRONGTYPE*} {$rd read}
        assert_match {calls=1,*,failed_calls=1} [rc_cmdstat blmove]
        assert_equal {x} [r lrange src 0 -1]
        $rd close
    }

    test {The slowlog and the latency histogram see a served BLPOP once} {
        r del l
        r config set slowlog-log-slower-than 0
        r slowlog reset
        r config resetstat
        set rd [valkey_deferring_client]
        $rd blpop l 0
        wait_for_blocked_client
        r rpush l a
        assert_equal {l a} [$rd read]
        set blpops 0
        foreach entry [r slowlog get -1] {
            if {[string tolower [lindex $entry 3 0]] eq "blpop"} { incr blpops }
        }
        r config set slowlog-log-slower-than 10000
        assert_equal 1 $blpops
        set hist [r latency histogram blpop]
        assert_equal 1 [dict get [dict get $hist blpop] calls]
        $rd close
    }

    test {MONITOR shows a blocked command once, when it first runs} {
        r del l
        set mon [valkey_deferring_client]
        set rd [valkey_deferring_client]
        $mon monitor
        assert_equal OK [$mon read]
        $rd blpop l 0
        wait_for_blocked_client
        r rpush l 1
        assert_equal {l 1} [$rd read]
        r rpush l 2
        # Skip the INFO that wait_for_blocked_client sent.
        set seen {}
        while {[llength $seen] < 3} {
            set line [$mon read]
            if {![string match {*"info"*} $line]} { lappend seen $line }
        }
        assert_match {*"blpop"*"l"*"0"*} [lindex $seen 0]
        assert_match {*"rpush"*"l"*"1"*} [lindex $seen 1]
        assert_match {*"rpush"*"l"*"2"*} [lindex $seen 2]
        $mon close
        $rd close
    }

    test {CLIENT UNBLOCK leaves a client postponed by CLIENT PAUSE alone} {
        r del pk
        set rd [valkey_deferring_client]
        set id [rc_client_id $rd]
        r client pause 100000 write
        $rd set pk v
        wait_for_condition 100 10 {
            [string match {*flags=b*} [r client list id $id]]
        } else {
            fail "the write was not postponed"
        }
        assert_equal 0 [r client unblock $id]
        assert_equal 0 [r client unblock $id error]
        assert_equal {} [r get pk]
        r client unpause
        assert_equal OK [$rd read]
        assert_equal v [r get pk]
        $rd close
    }
}

start_server {tags {"list"} overrides {list-max-listpack-size 4}} {
    test {LTRIM leaves the remaining quicklist nodes unmerged} {
        r del l
        r rpush l a b c d e f g h i j
        assert_encoding quicklist l
        # [a b c d][e f g h][i j] -> [d][e]: two nodes, so it stays a quicklist.
        r ltrim l 3 4
        assert_equal {d e} [r lrange l 0 -1]
        assert_encoding quicklist l
        # One node of one element: back to a listpack.
        r ltrim l 0 0
        assert_equal {d} [r lrange l 0 -1]
        assert_encoding listpack l
    }

    test {LPOP and RPOP with a count leave the remaining nodes unmerged} {
        r del l
        r rpush l a b c d e f g h i j
        assert_equal {a b c} [r lpop l 3]
        assert_equal {j i h g f} [r rpop l 5]
        assert_equal {d e} [r lrange l 0 -1]
        assert_encoding quicklist l
        assert_equal {e} [r rpop l 1]
        assert_encoding listpack l
    }

    test {LMPOP leaves the remaining nodes unmerged} {
        r del l
        r rpush l a b c d e f g h i j
        assert_equal {l {j i h g f}} [r lmpop 1 l right count 5]
        assert_equal {l {a b c}} [r lmpop 1 l left count 3]
        assert_encoding quicklist l
    }

    test {LREM never merges nodes either} {
        r del l
        r rpush l a b c d e f g h i j
        foreach x {a b c f g h i j} { assert_equal 1 [r lrem l 0 $x] }
        assert_equal {d e} [r lrange l 0 -1]
        assert_encoding quicklist l
        r lrem l 0 e
        assert_encoding listpack l
    }

    test {A trim within one node converts at half the limit} {
        r del l
        r rpush l a b c d e
        assert_encoding quicklist l
        # [a b c d][e] -> [b c d]: one node but 3 > 4/2 elements.
        r ltrim l 1 3
        assert_encoding quicklist l
        r ltrim l 0 1
        assert_encoding listpack l
        assert_equal {b c} [r lrange l 0 -1]
    }
}

start_server {tags {"regressions"}} {
    test {A client held by CLIENT PAUSE counts in blocked_clients} {
        r client pause 5000 write
        set rd [valkey_deferring_client]
        $rd set paused 1
        wait_for_condition 50 20 {[s blocked_clients] == 1} else { fail "the paused SET is not counted" }
        r client unpause
        assert_equal OK [$rd read]
        assert_equal 0 [s blocked_clients]
        $rd close
    }
}
