# The latency monitor (latency-monitor-threshold, LATENCY LATEST / HISTORY / RESET /
# GRAPH / DOCTOR) and LATENCY HISTOGRAM over the per-command latency histograms.

# Every key of a LATENCY HISTOGRAM bucket map, as Valkey reports them: the bucket of the
# values below 2^n ns is keyed by the largest value (in us) that a two-significant-digit HDR
# histogram counts as equal to 2^n, i.e. (2^n + 2^(n-7) - 1) / 1000: 1 2 4 8 16 33 66 132...
proc latency_bucket_keys {} {
    set keys {1}
    for {set n 11} {$n < 45} {incr n} {
        lappend keys [expr {((1 << $n) + (1 << ($n - 7)) - 1) / 1000}]
    }
    return $keys
}

start_server {tags {"latency-monitor"}} {
    r config set latency-monitor-threshold 200
    r latency reset

    test {LATENCY HISTOGRAM after CONFIG RESETSTAT holds only the reset itself} {
        r config resetstat
        set histo [dict create {*}[r latency histogram]]
        assert_equal 1 [dict size $histo]
        assert_match {calls 1 histogram_usec *} [dict get $histo config|resetstat]
    }

    test {LATENCY HISTOGRAM of all commands} {
        r config resetstat
        r set a b
        r set c d
        set histo [dict create {*}[r latency histogram]]
        assert_match {calls 2 histogram_usec *} [dict get $histo set]
        assert_match {calls 1 histogram_usec *} [dict get $histo config|resetstat]
    }

    test {LATENCY HISTOGRAM of a container command lists its subcommands} {
        r config resetstat
        r slowlog len
        r slowlog get
        r slowlog get
        set histo [dict create {*}[r latency histogram slowlog]]
        assert_equal 2 [dict size $histo]
        assert_match {calls 1 histogram_usec *} [dict get $histo slowlog|len]
        assert_match {calls 2 histogram_usec *} [dict get $histo slowlog|get]
        set histo [dict create {*}[r latency histogram slowlog|len]]
        assert_equal {slowlog|len} [dict keys $histo]
    }

    test {LATENCY HISTOGRAM of a subset of commands skips unknown names} {
        r config resetstat
        r set a b
        r get a
        r get a
        assert_equal {} [r latency histogram nosuchcommand]
        assert_equal {} [r latency histogram incr]
        set histo [dict create {*}[r latency histogram blabla set get incr]]
        assert_equal {set get} [dict keys $histo]
        assert_match {calls 1 histogram_usec *} [dict get $histo set]
        assert_match {calls 2 histogram_usec *} [dict get $histo get]
    }

    test {LATENCY HISTOGRAM buckets are cumulative, keyed by powers of two microseconds} {
        r config resetstat
        for {set j 0} {$j < 50} {incr j} {
            r set k$j v
        }
        set h [dict get [dict create {*}[r latency histogram set]] set]
        assert_equal 50 [dict get $h calls]
        set buckets [dict get $h histogram_usec]
        set valid [latency_bucket_keys]
        set prev_key 0
        set prev_count 0
        foreach {key count} $buckets {
            assert {[lsearch -exact $valid $key] >= 0}
            assert_morethan $key $prev_key
            assert_morethan $count $prev_count
            set prev_key $key
            set prev_count $count
        }
        assert_equal 50 $prev_count
    }

    test {LATENCY HISTOGRAM puts a 12 ms command in the 16 ms bucket} {
        r config resetstat
        r debug sleep 0.012
        set h [dict get [dict create {*}[r latency histogram debug]] debug]
        assert_equal {calls 1 histogram_usec {16908 1}} $h
    }

    test {LATENCY HISTOGRAM in RESP3 is a map of maps} {
        r config resetstat
        r set a b
        r hello 3
        r readraw 1
        set lines {}
        lappend lines [r latency histogram set]
        for {set j 0} {$j < 9} {incr j} {
            lappend lines [r read]
        }
        # The bucket map: its header, then one key and one count per bucket.
        set buckets [string range [lindex $lines end] 1 end]
        for {set j 0} {$j < 2 * $buckets} {incr j} {
            lappend lines [r read]
        }
        r readraw 0
        r hello 2
        assert_equal {%1 $3 set %2 $5 calls :1 $14 histogram_usec} [join [lrange $lines 0 8] { }]
        assert_match {%[1-9]} [lindex $lines 9]
        assert_match {:*} [lindex $lines end]
    }

    test {Latency events are logged above the threshold} {
        r config set latency-monitor-threshold 50
        r latency reset
        r debug sleep 0.06
        after 1100
        r debug sleep 0.08
        r config set latency-monitor-threshold 0
        set history [r latency history command]
        assert_equal 2 [llength $history]
        lassign [lindex $history 0] t1 l1
        lassign [lindex $history 1] t2 l2
        assert_range $l1 60 140
        assert_range $l2 80 160
        assert_morethan $t2 $t1
        assert_range $t2 [expr {[clock seconds] - 5}] [expr {[clock seconds] + 1}]
    }

    test {LATENCY LATEST: event, time and latency of the latest sample, and the max} {
        set latest [r latency latest]
        assert_equal 1 [llength $latest]
        lassign [lindex $latest 0] event time latency max
        assert_equal command $event
        assert_equal [lindex [r latency history command] end 0] $time
        assert_equal [lindex [r latency history command] end 1] $latency
        assert_equal $latency $max
    }

    test {LATENCY GRAPH draws the event} {
        set graph [r latency graph command]
        assert_match {command - high * ms, low * ms (all time high * ms)*} $graph
        regexp {command - high ([0-9]+) ms, low ([0-9]+) ms} $graph -> high low
        assert_morethan_equal $high 80
        assert_morethan_equal $low 60
        assert_morethan_equal $high $low
        assert_match "*\n[string repeat - 80]\n*" $graph
        assert_match {*#*} $graph
    }

    test {LATENCY GRAPH of an event without samples is an error} {
        assert_error {*No samples available for event 'nosuchevent'*} {r latency graph nosuchevent}
    }

    test {Commands below the threshold are not logged} {
        r config set latency-monitor-threshold 500
        r debug sleep 0.05
        r config set latency-monitor-threshold 0
        assert_equal 2 [llength [r latency history command]]
    }

    test {LATENCY HISTORY and RESET with an unknown event are fine} {
        assert_equal {} [r latency history nosuchevent]
        assert_equal 0 [r latency reset nosuchevent]
    }

    test {LATENCY DOCTOR describes the events} {
        set report [r latency doctor]
        assert_match {*command*latency spike*} $report
    }

    test {LATENCY RESET removes the named events, or all of them} {
        assert_equal 1 [r latency reset nosuchevent command]
        assert_equal {} [r latency latest]
        r config set latency-monitor-threshold 10
        r debug sleep 0.02
        r config set latency-monitor-threshold 0
        assert_equal 1 [llength [r latency latest]]
        assert_equal 1 [r latency reset]
        assert_equal {} [r latency latest]
    }

    test {LATENCY DOCTOR with the monitor disabled says so} {
        r config set latency-monitor-threshold 0
        r latency reset
        assert_match {*Latency monitoring is disabled*} [r latency doctor]
    }

    test {LATENCY HELP and wrong arity} {
        assert_match {*HISTOGRAM*} [r latency help]
        catch {r latency help xxx} e
        assert_match "*wrong number of arguments for 'latency|help' command" $e
    }

    r config set latency-monitor-threshold 0
}
