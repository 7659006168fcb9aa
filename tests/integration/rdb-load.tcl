# RDB loading through the read-ahead window (rio.c) and the LZF decoder (lzf_dec.c):
# values longer than a read-ahead block, raw and LZF strings that straddle blocks,
# pre-sized hashes and sorted sets, all reloaded with the same digest; hand-made files
# with a valid and a corrupt LZF string; and RESTORE of a corrupt LZF payload.

# Random printable text, made once: slices of it do not compress, and values built by
# repeating it more than LZF's 8 KB window apart do not either.
proc rdbload_pool {} {
    if {![info exists ::rdbload_pool]} {
        expr {srand(6)}
        set s ""
        for {set i 0} {$i < 20000} {incr i} {
            append s [format %c [expr {48 + int(rand() * 75)}]]
        }
        set ::rdbload_pool $s
    }
    return $::rdbload_pool
}

# n bytes: the first half random, the rest a repeated phrase (LZF halves it).
proc rdbload_value {n} {
    set pool [rdbload_pool]
    set half [expr {$n / 2}]
    set off [expr {int(rand() * ([string length $pool] - $half))}]
    set v [string range $pool $off [expr {$off + $half - 1}]]
    append v [string range [string repeat "read-ahead block " [expr {$n / 17 + 1}]] 0 [expr {$n - $half - 1}]]
    return $v
}

proc rdbload_fill_collections {} {
    for {set i 0} {$i < 600} {incr i} {r hset h:big field:$i [rdbload_value 40]}
    for {set i 0} {$i < 200} {incr i} {r zadd z:big [expr {$i * 1.5}] member:$i}
    for {set i 0} {$i < 300} {incr i} {r sadd s:big member:$i}
    for {set i 0} {$i < 1000} {incr i} {r rpush l:big [rdbload_value 60]}
}

proc rdbload_reload_same {} {
    set before [r debug digest]
    set keys [r dbsize]
    r debug reload
    assert_equal $keys [r dbsize]
    assert_equal $before [r debug digest]
}

start_server {tags {"rdb"}} {
    test {Reload: raw values longer than a read-ahead block, among many small fields} {
        r flushall
        r config set rdbcompression no
        set pool [rdbload_pool]
        r set big:1m [string repeat $pool 50]
        r set big:600k [string range [string repeat $pool 30] 0 599999]
        r debug populate 20000 small 12
        rdbload_fill_collections
        rdbload_reload_same
        assert_equal 1000000 [r strlen big:1m]
        assert_equal [string range $pool 0 99] [r getrange big:600k 0 99]
        assert_equal 600 [r hlen h:big]
        assert_equal hashtable [r object encoding h:big]
        assert_equal 200 [r zcard z:big]
        assert_equal skiplist [r object encoding z:big]
        assert_equal 297 [r zscore z:big member:198]
        r config set rdbcompression yes
    }

    test {Reload: LZF strings across block boundaries, and one longer than a block} {
        r flushall
        r config set rdbcompression yes
        expr {srand(7)}
        for {set i 0} {$i < 2000} {incr i} {
            r set lzf:$i [rdbload_value [expr {300 + int(rand() * 2700)}]]
        }
        # About 350 KB of random text and 350 KB of repeats: compressed, still longer
        # than one read-ahead block.
        set pool [rdbload_pool]
        r set lzf:huge "[string range [string repeat $pool 18] 0 349999][string repeat {lzf } 87500]"
        rdbload_fill_collections
        rdbload_reload_same
        assert_equal 700000 [r strlen lzf:huge]
        assert_equal {lzf lzf } [r getrange lzf:huge 699992 699999]
    }
}

# A minimal RDB: a string key whose value is an LZF string (payload and lengths given),
# with no checksum (zero), so that what the decoder sees is exactly these bytes.
proc rdbload_lzf_file {path clen len payload} {
    set body "REDIS0011"
    append body [binary format c 0xFE] [binary format c 0]   ;# SELECTDB 0
    append body [binary format c 0] [binary format c 1] k    ;# a string, key "k"
    append body [binary format ccc 0xC3 $clen $len] $payload ;# LZF: clen, len, bytes
    append body [binary format c 0xFF] [string repeat \x00 8]
    set fd [open $path w]
    fconfigure $fd -translation binary
    puts -nonewline $fd $body
    close $fd
}

# Our server on dir until it exits by itself; {exit-status log}. A unix socket only, so
# no TCP port can be taken meanwhile by a parallel test file.
proc rdbload_run_until_exit {dir} {
    set log [file join $dir startup.log]
    set rc [catch {exec timeout 10 $::opt(server_binary) --port 0 --unixsocket [file join $dir s.sock] \
                       --dir $dir --save "" --logfile $log} out opts]
    set status [expr {$rc ? [lindex [dict get $opts -errorcode] 2] : 0}]
    return [list $status [::th::read_file $log]]
}

set dir [file join $::th_root tests tmp "rdbload.[pid].[clock clicks]"]
file mkdir $dir
# "abc", then 9 bytes from 3 back (a long reference: 0xE0, then 9 - 2 - 7, then 3 - 1).
rdbload_lzf_file [file join $dir dump.rdb] 7 12 [binary format c* {2 97 98 99 224 0 2}]
start_server [list tags {"rdb"} overrides [list dir $dir]] {
    test {A hand-made RDB file with an LZF string (literal run, then an overlapping reference) loads} {
        r select 0
        assert_equal abcabcabcabc [r get k]
    }
}
file delete -force $dir

test {A corrupt LZF string in an RDB file: refused at start-up, not a crash} {
    set dir [file join $::th_root tests tmp "rdbload.[pid].[clock clicks]"]
    file mkdir $dir
    # A reference 6 bytes back before anything was written.
    rdbload_lzf_file [file join $dir dump.rdb] 2 3 [binary format c* {32 5}]
    lassign [rdbload_run_until_exit $dir] status log
    assert_equal 1 $status
    assert_match {*Invalid LZF compressed string*} $log
    # A literal run longer than the compressed bytes.
    rdbload_lzf_file [file join $dir dump.rdb] 3 10 [binary format c* {9 97 98}]
    lassign [rdbload_run_until_exit $dir] status log
    assert_equal 1 $status
    assert_match {*Invalid LZF compressed string*} $log
    file delete -force $dir
}
