# utils/flash-sizer against our server: a prepared dataset where half the keys look idle
# (RESTORE ... IDLETIME) and are bigger, then the numbers of its Markdown report: the
# cold share with its Wilson interval, the sizes it recommends, the LFU fallback, AUTH,
# and that it changes nothing (idle times, keys).

set ::flash_sizer [file join $::th_root utils flash-sizer]

proc sizer {args} {
    exec python3 $::flash_sizer -h [srv host] -p [srv port] {*}$args 2>@1
}

# The value cells of the report row whose first cell is label.
proc sizer_row {report label} {
    foreach line [split $report \n] {
        set cells [split $line |]
        if {[llength $cells] >= 3 && [string trim [lindex $cells 1]] eq $label} {
            return [lmap c [lrange $cells 2 end-1] {string trim $c}]
        }
    }
    fail "no row '$label' in the report:\n$report"
}

# The first number of a cell ("12345 (12.06 KiB)" -> 12345).
proc sizer_num {cell} {
    regexp {^-?[0-9.]+} $cell n
    return $n
}

# 50 small keys just written, 50 bigger ones idle for 100000 s (or with an LFU counter
# of 0 under an LFU policy).
proc sizer_populate {how} {
    r flushall
    r set proto [string repeat x 1000]
    set payload [r dump proto]
    r del proto
    for {set i 0} {$i < 50} {incr i} {
        r set hot:$i v
        r restore cold:$i 0 $payload {*}[expr {$how eq "lfu" ? {FREQ 0} : {IDLETIME 100000}}]
    }
}

if {[catch {exec python3 -c "print(1)"}]} {
    test {flash-sizer} {
        skip "python3 is not installed"
    } undefined {tiering}
    return
}

start_server {tags {"tiering external:skip"}} {
    sizer_populate idle

    test {flash-sizer: half the keys idle gives 50% cold with the Wilson interval} {
        set out [sizer -n 9]
        assert_match "# Flash sizing report*Valkey *" $out
        assert_equal {100} [sizer_row $out {Keys in the database (DBSIZE)}]
        assert_equal {{100 (every key)}} [sizer_row $out {Keys sampled}]
        assert_equal {{50.0% (50 of 100 keys)} {40.4% - 59.6%}} [sizer_row $out {By keys}]
        assert_match {idle for more than 3600 s (OBJECT IDLETIME)} [lindex [sizer_row $out {Cold means}] 0]
        # The cold keys hold nearly all the bytes; the interval uses the effective size.
        set bytes [lindex [sizer_row $out {By bytes}] 0]
        assert {[regexp {^([0-9.]+)% \((\d+) of (\d+) bytes\)$} $bytes -> share cold total]}
        assert_morethan $share 90
        assert_equal $total [sizer_num [lindex [sizer_row $out {Bytes sampled (MEMORY USAGE, SAMPLES 5)}] 0]]
        assert_match {*% - *% (effective sample size *)} [lindex [sizer_row $out {By bytes}] 1]
    }

    test {flash-sizer: RAM and flash follow the stated formulas} {
        set out [sizer -n 9]
        set hot [sizer_num [lindex [sizer_row $out {Hot, stays in RAM}] 0]]
        set cold [sizer_num [lindex [sizer_row $out {Cold, goes to flash}] 0]]
        assert_equal 50 [lindex [sizer_row $out {Cold keys}] 0]
        # cold:0..cold:9 have 6 bytes, cold:10..cold:49 seven: 6.8 on average.
        set ram [expr {($hot + 50 * (40 + 6.8)) * 1.2}]
        assert_range [sizer_num [lindex [sizer_row $out {**RAM**}] 0]] [expr {$ram - 1}] [expr {$ram + 1}]
        assert_range [sizer_num [lindex [sizer_row $out {**Flash**}] 0]] [expr {$cold * 1.5 - 1}] [expr {$cold * 1.5 + 1}]
        # Other assumptions are passed through.
        set out [sizer -n 9 --per-key-bytes 100 --ram-headroom 0 --flash-overhead 2]
        set ram [expr {$hot + 50 * (100 + 6.8)}]
        assert_range [sizer_num [lindex [sizer_row $out {**RAM**}] 0]] [expr {$ram - 1}] [expr {$ram + 1}]
        assert_range [sizer_num [lindex [sizer_row $out {**Flash**}] 0]] [expr {$cold * 2 - 1}] [expr {$cold * 2 + 1}]
        assert_match {*cold keys x 106.8 B) x 1:*} $out
    }

    test {flash-sizer: the threshold and the sample size options} {
        set out [sizer -n 9 --idle-threshold 1000000]
        assert_equal {{0.0% (0 of 100 keys)} {0.0% - 3.7%}} [sizer_row $out {By keys}]
        set out [sizer -n 9 --idle-threshold 99000]
        assert_equal {{50.0% (50 of 100 keys)} {40.4% - 59.6%}} [sizer_row $out {By keys}]
        set out [sizer -n 9 --sample 20 --batch 7]
        assert_equal {{20 (20.0% of the keys)}} [sizer_row $out {Keys sampled}]
        assert_match {*of 20 keys)} [lindex [sizer_row $out {By keys}] 0]
        assert_equal 100 [sizer_row $out {Keys in the database (DBSIZE)}]
    }

    test {flash-sizer: read-only, idle times untouched} {
        set digest [r debug digest]
        sizer -n 9
        assert_equal $digest [r debug digest]
        assert_morethan_equal [r object idletime cold:7] 100000
        assert_equal 100 [r dbsize]
    }

    test {flash-sizer: an empty database, a bad address, bad options} {
        assert_match {*No keys to sample (DBSIZE 0): nothing to size.*} [sizer -n 5]
        assert_error {*cannot connect*} {exec python3 $::flash_sizer -s [file join [srv dir] nosuch.sock] 2>@1}
        assert_error {*--sample must be positive*} {sizer --sample 0}
    }

    test {flash-sizer: under an LFU policy it classifies by OBJECT FREQ and says so} {
        r config set maxmemory-policy allkeys-lfu
        sizer_populate lfu
        set out [sizer -n 9]
        assert_match {*LFU counter at or below 0 (OBJECT FREQ)*allkeys-lfu*OBJECT IDLETIME is not available*} \
            [lindex [sizer_row $out {Cold means}] 0]
        assert_equal {{50.0% (50 of 100 keys)} {40.4% - 59.6%}} [sizer_row $out {By keys}]
        # New keys start with a counter of 5.
        set out [sizer -n 9 --lfu-cold-freq 5]
        assert_equal {{100.0% (100 of 100 keys)} {96.3% - 100.0%}} [sizer_row $out {By keys}]
        r config set maxmemory-policy noeviction
    }

    test {flash-sizer: AUTH with a password, and a wrong one} {
        r config set requirepass s3cret
        set out [sizer -n 9 -a s3cret]
        assert_equal {{100 (every key)}} [sizer_row $out {Keys sampled}]
        assert_match {*Keys sampled*} [exec env REDISCLI_AUTH=s3cret python3 $::flash_sizer -p [srv port] -n 9 --user default]
        assert_error {*the server replied: WRONGPASS*} {sizer -a nope}
        assert_error {*the server replied: NOAUTH*} {sizer}
        r config set requirepass ""
    }
}
