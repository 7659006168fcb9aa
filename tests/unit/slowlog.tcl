# SLOWLOG: what gets logged (slowlog-log-slower-than), the shape of an entry, argument
# truncation, GET's count, LEN, RESET and slowlog-max-len.

start_server {tags {"slowlog"} overrides {slowlog-log-slower-than 1000000 slowlog-max-len 128}} {
    test {SLOWLOG - starts empty and RESET replies OK} {
        assert_equal OK [r slowlog reset]
        assert_equal 0 [r slowlog len]
        assert_equal {} [r slowlog get]
    }

    test {SLOWLOG - only commands slower than the threshold are logged} {
        r config set slowlog-log-slower-than 100000
        r slowlog reset
        r ping
        r debug sleep 0.2
        r ping
        assert_equal 1 [r slowlog len]
        set entry [lindex [r slowlog get] 0]
        assert_equal {debug sleep 0.2} [lindex $entry 3]
        assert_morethan_equal [lindex $entry 2] 200000
    }

    test {SLOWLOG - entry: id, unix time, duration, arguments, peer, name} {
        set entry [lindex [r slowlog get] 0]
        assert_equal 6 [llength $entry]
        lassign $entry id time duration args peer name
        assert_match {[0-9]*} $id
        assert_range $time [expr {[clock seconds] - 10}] [expr {[clock seconds] + 1}]
        assert_match {127.0.0.1:*} $peer
        assert_equal {} $name
    }

    test {SLOWLOG - the client name is recorded} {
        r client setname slowlog-tester
        r debug sleep 0.2
        r client setname {}
        set entry [lindex [r slowlog get 1] 0]
        assert_equal {debug sleep 0.2} [lindex $entry 3]
        assert_equal slowlog-tester [lindex $entry 5]
    }

    test {SLOWLOG - threshold 0 logs every command, RESET included} {
        r config set slowlog-log-slower-than 0
        r slowlog reset
        r set a b
        r get a
        set entries [r slowlog get]
        r config set slowlog-log-slower-than 1000000
        assert_equal {{get a} {set a b} {slowlog reset}} [lmap e $entries {lindex $e 3}]
    }

    test {SLOWLOG - entries are newest first with growing ids} {
        r config set slowlog-log-slower-than 0
        r slowlog reset
        r ping
        r ping
        set entries [r slowlog get]
        r config set slowlog-log-slower-than 1000000
        set ids [lmap e $entries {lindex $e 0}]
        assert_equal [lsort -integer -decreasing $ids] $ids
        assert_equal [expr {[lindex $ids 0] - 1}] [lindex $ids 1]
    }

    test {SLOWLOG - ids keep growing across RESET} {
        r config set slowlog-log-slower-than 0
        r ping
        set before [lindex [r slowlog get 1] 0 0]
        r slowlog reset
        set after [lindex [r slowlog get 1] 0 0]
        r config set slowlog-log-slower-than 1000000
        assert_morethan $after $before
    }

    test {SLOWLOG - a negative threshold disables the log} {
        r config set slowlog-log-slower-than -1
        r slowlog reset
        r debug sleep 0.05
        r ping
        assert_equal 0 [r slowlog len]
        r config set slowlog-log-slower-than 1000000
    }

    test {SLOWLOG - slowlog-max-len keeps the newest entries} {
        r config set slowlog-log-slower-than 0
        r config set slowlog-max-len 10
        for {set j 0} {$j < 20} {incr j} {
            r echo $j
        }
        assert_equal 10 [r slowlog len]
        set entries [r slowlog get -1]
        r config set slowlog-log-slower-than 1000000
        r config set slowlog-max-len 128
        assert_equal 10 [llength $entries]
        assert_equal {slowlog len} [lindex $entries 0 3]
        assert_equal {echo 19} [lindex $entries 1 3]
        assert_equal {echo 11} [lindex $entries end 3]
    }

    test {SLOWLOG - GET count: default 10, -1 for all, 0 for none} {
        r config set slowlog-log-slower-than 0
        r slowlog reset
        for {set j 0} {$j < 15} {incr j} {
            r ping
        }
        r config set slowlog-log-slower-than 1000000
        assert_equal 10 [llength [r slowlog get]]
        assert_equal 16 [llength [r slowlog get -1]]
        assert_equal 3 [llength [r slowlog get 3]]
        assert_equal 16 [llength [r slowlog get 100]]
        assert_equal {} [r slowlog get 0]
        assert_error {*count should be greater than or equal to -1*} {r slowlog get -2}
        assert_error {*count should be greater than or equal to -1*} {r slowlog get abc}
    }

    test {SLOWLOG - more than 32 arguments are summarised} {
        r config set slowlog-log-slower-than 0
        r slowlog reset
        set keys {}
        for {set j 0} {$j < 40} {incr j} {
            lappend keys key$j
        }
        r del {*}$keys
        set entry [lindex [r slowlog get 1] 0]
        r config set slowlog-log-slower-than 1000000
        set args [lindex $entry 3]
        assert_equal 32 [llength $args]
        assert_equal {del key0 key1} [lrange $args 0 2]
        assert_equal key29 [lindex $args 30]
        assert_equal {... (10 more arguments)} [lindex $args 31]
    }

    test {SLOWLOG - arguments longer than 128 bytes are truncated} {
        r config set slowlog-log-slower-than 0
        r slowlog reset
        r set key [string repeat A 200]
        r set key2 [string repeat B 128]
        set entries [r slowlog get 3]
        r config set slowlog-log-slower-than 1000000
        set long [lindex $entries 1 3 2]
        assert_equal "[string repeat A 128]... (72 more bytes)" $long
        assert_equal [string repeat B 128] [lindex $entries 0 3 2]
    }

    test {SLOWLOG - LEN counts the entries} {
        r config set slowlog-log-slower-than 0
        r slowlog reset
        r ping
        set n [r slowlog len]
        r config set slowlog-log-slower-than 1000000
        assert_equal 2 $n
    }

    test {SLOWLOG - HELP and wrong arguments} {
        set help [r slowlog help]
        assert_match {SLOWLOG <subcommand>*} [lindex $help 0]
        assert_match {*LEN*RESET*} $help
        assert_error {*unknown subcommand*} {r slowlog nosuch}
        assert_error {*wrong number of arguments*} {r slowlog get 1 2}
        assert_error {*wrong number of arguments*} {r slowlog len 1}
    }

    test {SLOWLOG - RESP3 replies are the same arrays} {
        r hello 3
        r config set slowlog-log-slower-than 0
        r slowlog reset
        r ping
        set entry [lindex [r slowlog get 1] 0]
        r config set slowlog-log-slower-than 1000000
        r hello 2
        assert_equal {ping} [lindex $entry 3]
    }
}
