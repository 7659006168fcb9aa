# Bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP. Results are checked against small Tcl
# models of each command on random data.
#
# Valkey 8 differs from Redis 7.0 in two places, marked below: BITCOUNT accepts a lone
# start index, and BITCOUNT/BITPOS check their arguments before looking at the key.

proc with_list_key {key body} {
    r del $key
    if {[catch {r lpush $key elem} err]} {
        skip "no list type yet: $err"
    }
    uplevel 1 $body
}

# --- Tcl models ---------------------------------------------------------------------------

proc bits_of {s} {
    binary scan $s B* bits
    return $bits
}

proc count_bits {s} {
    return [string length [string map {0 {}} [bits_of $s]]]
}

# Normalises a [start, end] range against a length, as BITCOUNT/BITPOS/GETRANGE do.
proc norm_range {start end len} {
    if {$start < 0} {set start [expr {$len + $start}]}
    if {$end < 0} {set end [expr {$len + $end}]}
    if {$start < 0} {set start 0}
    if {$end < 0} {set end 0}
    if {$end >= $len} {set end [expr {$len - 1}]}
    return [list $start $end]
}

proc model_bitcount {s start end unit} {
    if {$start < 0 && $end < 0 && $start > $end} {return 0}
    set bits [bits_of $s]
    if {$unit eq "bit"} {
        lassign [norm_range $start $end [string length $bits]] start end
        set slice [string range $bits $start $end]
    } else {
        lassign [norm_range $start $end [string length $s]] start end
        set slice [string range $bits [expr {$start * 8}] [expr {$end * 8 + 7}]]
        if {$start > $end} {set slice {}}
    }
    return [string length [string map {0 {}} $slice]]
}

# BITPOS model; end {} means no end given.
proc model_bitpos {s bit start end unit} {
    set bits [bits_of $s]
    set end_given [expr {$end ne {}}]
    if {!$end_given} {set end -1}
    if {$unit eq "bit"} {
        lassign [norm_range $start $end [string length $bits]] bstart bend
    } else {
        lassign [norm_range $start $end [string length $s]] start end
        set bstart [expr {$start * 8}]
        set bend [expr {$end * 8 + 7}]
    }
    if {$bstart > $bend} {return -1}
    set pos [string first $bit [string range $bits $bstart $bend]]
    if {$pos >= 0} {return [expr {$bstart + $pos}]}
    if {$bit == 0 && !$end_given} {return [expr {$bend + 1}]}
    return -1
}

proc model_bitop {op args} {
    set maxlen 0
    foreach s $args {
        if {[string length $s] > $maxlen} {set maxlen [string length $s]}
    }
    set out {}
    for {set i 0} {$i < $maxlen} {incr i} {
        set acc {}
        foreach s $args {
            set byte 0
            if {$i < [string length $s]} {scan [string index $s $i] %c byte}
            if {$acc eq {}} {
                set acc $byte
                continue
            }
            switch $op {
                and {set acc [expr {$acc & $byte}]}
                or {set acc [expr {$acc | $byte}]}
                xor {set acc [expr {$acc ^ $byte}]}
            }
        }
        if {$op eq "not"} {set acc [expr {~$acc & 255}]}
        append out [format %c $acc]
    }
    return $out
}

start_server {tags {"bitops"}} {
    test {SETBIT on a missing key creates it} {
        r del mykey
        assert_equal 0 [r setbit mykey 1 1]
        assert_equal [binary format B* 01000000] [r get mykey]
        r del mykey
        assert_equal 0 [r setbit mykey 0 0]
        assert_equal "\x00" [r get mykey]
        r del mykey
        assert_equal 0 [r setbit mykey 100 1]
        assert_equal 13 [r strlen mykey]
    }

    test {SETBIT on a string returns the previous bit} {
        # "@" is 01000000
        r set mykey "@"
        assert_equal 0 [r setbit mykey 2 1]
        assert_equal [binary format B* 01100000] [r get mykey]
        assert_equal 1 [r setbit mykey 1 0]
        assert_equal [binary format B* 00100000] [r get mykey]
        assert_equal 1 [r setbit mykey 2 1]
        assert_equal 0 [r setbit mykey 9 0]
        assert_equal 2 [r strlen mykey]
    }

    test {SETBIT on an int-encoded value works on its text} {
        # "1" is 00110001
        r set mykey 1
        assert_encoding int mykey
        assert_equal 0 [r setbit mykey 6 1]
        assert_equal [binary format B* 00110011] [r get mykey]
        assert_equal 1 [r setbit mykey 2 0]
        assert_equal [binary format B* 00010011] [r get mykey]
        assert_encoding raw mykey
    }

    test {SETBIT keeps the TTL} {
        r set mykey abc ex 100
        r setbit mykey 100 1
        assert_range [r ttl mykey] 90 100
    }

    test {SETBIT with a bad offset} {
        r del mykey
        assert_error {ERR bit offset is not an integer or out of range} {r setbit mykey [expr {4*1024*1024*1024}] 1}
        assert_error {ERR bit offset is not an integer or out of range} {r setbit mykey -1 1}
        assert_error {ERR bit offset is not an integer or out of range} {r setbit mykey x 1}
        assert_error {ERR bit offset is not an integer or out of range} {r setbit mykey 1.5 1}
        assert_error {ERR bit offset is not an integer or out of range} {r setbit mykey #1 1}
        assert_error {ERR bit offset is not an integer or out of range} {r setbit mykey 9223372036854775808 1}
        # The offset is checked before the bit value.
        assert_error {ERR bit offset is not an integer or out of range} {r setbit mykey x 2}
        assert_equal 0 [r exists mykey]
    }

    test {SETBIT with a bad bit value} {
        r del mykey
        foreach v {-1 2 10 20 x 1.0 {}} {
            assert_error {ERR bit is not an integer or out of range} {r setbit mykey 0 $v}
        }
        assert_equal 0 [r exists mykey]
    }

    test {SETBIT offsets are limited by proto-max-bulk-len} {
        set old [lindex [r config get proto-max-bulk-len] 1]
        r config set proto-max-bulk-len 1mb
        set rc [catch {
            r del mykey
            set max [expr {1024*1024*8 - 1}]
            assert_equal 0 [r setbit mykey $max 1]
            assert_equal [expr {1024*1024}] [r strlen mykey]
            assert_error {ERR bit offset is not an integer or out of range} {r setbit mykey [expr {$max + 1}] 1}
            assert_error {ERR bit offset is not an integer or out of range} {r getbit mykey [expr {$max + 1}]}
        } err opts]
        r config set proto-max-bulk-len $old
        r del mykey
        if {$rc} { return -options $opts $err }
    }

    test {SETBIT fuzzing} {
        set str {}
        set len [expr {256*8}]
        r del mykey
        for {set i 0} {$i < 1000} {incr i} {
            set bitnum [randomInt $len]
            set bitval [randomInt 2]
            # Grow the model with zeros as the server does.
            while {[string length $str] <= $bitnum} {append str 00000000}
            set old [string index $str $bitnum]
            set str [string replace $str $bitnum $bitnum $bitval]
            assert_equal $old [r setbit mykey $bitnum $bitval]
            assert_equal [binary format B* $str] [r get mykey]
        }
    }

    test {SETBIT against a key of another type} {
        with_list_key mykey {
            assert_error {WRONGTYPE*} {r setbit mykey 0 1}
        }
    }

    test {GETBIT on a missing key} {
        r del mykey
        assert_equal 0 [r getbit mykey 0]
        assert_equal 0 [r getbit mykey 100000]
        assert_equal 0 [r exists mykey]
    }

    test {GETBIT on a string} {
        # "`" is 01100000
        r set mykey "`"
        assert_equal {0 1 1 0 0 0 0 0} [lmap i {0 1 2 3 4 5 6 7} {r getbit mykey $i}]
        assert_equal 0 [r getbit mykey 8]
        assert_equal 0 [r getbit mykey 10000]
    }

    test {GETBIT on an int-encoded value} {
        # "1" is 00110001
        r set mykey 1
        assert_encoding int mykey
        assert_equal {0 0 1 1 0 0 0 1} [lmap i {0 1 2 3 4 5 6 7} {r getbit mykey $i}]
        assert_equal 0 [r getbit mykey 100]
        assert_encoding int mykey
    }

    test {GETBIT with a bad offset} {
        r set mykey a
        assert_error {ERR bit offset is not an integer or out of range} {r getbit mykey -1}
        assert_error {ERR bit offset is not an integer or out of range} {r getbit mykey x}
        assert_error {ERR bit offset is not an integer or out of range} {r getbit mykey [expr {4*1024*1024*1024}]}
        r del nokey
        assert_error {ERR bit offset is not an integer or out of range} {r getbit nokey -1}
    }

    test {GETBIT against a key of another type} {
        with_list_key mykey {
            assert_error {WRONGTYPE*} {r getbit mykey 0}
        }
    }

    test {BITCOUNT of a missing key} {
        r del nokey
        assert_equal 0 [r bitcount nokey]
        assert_equal 0 [r bitcount nokey 0 -1]
        assert_equal 0 [r bitcount nokey 0 -1 bit]
    }

    test {BITCOUNT of simple strings} {
        r set s foobar
        assert_equal 26 [r bitcount s]
        assert_equal 4 [r bitcount s 0 0]
        assert_equal 6 [r bitcount s 1 1]
        assert_equal 10 [r bitcount s 0 1 byte]
        assert_equal 18 [r bitcount s 1 -2]
        assert_equal 26 [r bitcount s 0 -1]
        assert_equal 26 [r bitcount s -100 100]
        assert_equal 0 [r bitcount s 5 3]
        assert_equal 0 [r bitcount s -1 -2]
        assert_equal 0 [r bitcount s 100 200]
        assert_equal 17 [r bitcount s 5 30 bit]
        assert_equal 18 [r bitcount s 8 -9 BIT]
        r set s {}
        assert_equal 0 [r bitcount s]
        assert_equal 0 [r bitcount s 0 -1 bit]
    }

    test {BITCOUNT of an int-encoded value} {
        r set n 1234
        assert_encoding int n
        assert_equal [count_bits 1234] [r bitcount n]
        assert_equal [count_bits 23] [r bitcount n 1 2]
    }

    test {BITCOUNT with a lone start (Valkey 8)} {
        r set s foobar
        assert_equal 22 [r bitcount s 1]
        assert_equal 4 [r bitcount s -1]
        assert_equal 26 [r bitcount s -100]
        assert_equal 0 [r bitcount s 100]
    }

    test {BITCOUNT syntax errors} {
        r set s foobar
        assert_error {ERR syntax error} {r bitcount s 0 1 bits}
        assert_error {ERR syntax error} {r bitcount s 0 1 bit extra}
        assert_error {ERR value is not an integer or out of range} {r bitcount s x 1}
        assert_error {ERR value is not an integer or out of range} {r bitcount s 0 x}
        assert_error {ERR value is not an integer or out of range} {r bitcount s x 0 bit}
        assert_error {ERR value is not an integer or out of range} {r bitcount s 0 1.5 byte}
    }

    test {BITCOUNT checks its arguments even for a missing key (Valkey 8)} {
        r del nokey
        assert_error {ERR syntax error} {r bitcount nokey 0 1 bits}
        assert_error {ERR value is not an integer or out of range} {r bitcount nokey x 1}
    }

    test {BITCOUNT fast path on long strings} {
        foreach len {1 7 8 9 31 32 33 63 64 65 255 256 1000 4096 4097} {
            set s [randstring $len $len binary]
            r set s $s
            assert_equal [count_bits $s] [r bitcount s] "len $len"
        }
        r set s [string repeat "\xff" 100000]
        assert_equal 800000 [r bitcount s]
        assert_equal 799998 [r bitcount s 1 -2 bit]
    }

    test {BITCOUNT fuzzing against a model} {
        for {set i 0} {$i < 300} {incr i} {
            set s [randstring 0 40 binary]
            r set s $s
            set unit [lindex {byte bit} [randomInt 2]]
            set span [expr {$unit eq "bit" ? 400 : 50}]
            set start [expr {[randomInt $span] - $span / 2}]
            set end [expr {[randomInt $span] - $span / 2}]
            assert_equal [model_bitcount $s $start $end $unit] [r bitcount s $start $end $unit] \
                "len [string length $s] $start $end $unit"
        }
    }

    test {BITCOUNT against a key of another type} {
        with_list_key mykey {
            assert_error {WRONGTYPE*} {r bitcount mykey}
            assert_error {WRONGTYPE*} {r bitcount mykey 0 1}
        }
    }

    test {BITPOS of a missing key} {
        r del nokey
        assert_equal -1 [r bitpos nokey 1]
        assert_equal 0 [r bitpos nokey 0]
        assert_equal -1 [r bitpos nokey 1 0 -1 bit]
        assert_equal 0 [r bitpos nokey 0 5 10]
    }

    test {BITPOS of simple strings} {
        r set s "\xff\xf0\x00"
        assert_equal 12 [r bitpos s 0]
        assert_equal 0 [r bitpos s 1]
        assert_equal 16 [r bitpos s 0 2]
        assert_equal -1 [r bitpos s 1 2]
        assert_equal 16 [r bitpos s 0 2 -1]
        assert_equal 8 [r bitpos s 1 1 -1]
        assert_equal 12 [r bitpos s 0 7 15 bit]
        assert_equal 7 [r bitpos s 1 7 15 bit]
        assert_equal -1 [r bitpos s 1 12 23 bit]
        assert_equal -1 [r bitpos s 1 10 2]
    }

    test {BITPOS of all-ones strings} {
        r set s "\xff\xff\xff"
        # No end given: the string counts as followed by zeros.
        assert_equal 24 [r bitpos s 0]
        assert_equal 24 [r bitpos s 0 1]
        # With an end the range must hold the bit itself.
        assert_equal -1 [r bitpos s 0 0 -1]
        assert_equal -1 [r bitpos s 0 0 -1 bit]
        assert_equal -1 [r bitpos s 0 0 23 bit]
        assert_equal 0 [r bitpos s 1]
    }

    test {BITPOS of all-zeros strings} {
        r set s "\x00\x00\x00"
        assert_equal -1 [r bitpos s 1]
        assert_equal 0 [r bitpos s 0]
        assert_equal 8 [r bitpos s 0 1]
        assert_equal -1 [r bitpos s 1 0 -1 bit]
        r set s {}
        assert_equal -1 [r bitpos s 1]
        assert_equal -1 [r bitpos s 0]
    }

    test {BITPOS of an int-encoded value} {
        r set n 1
        assert_encoding int n
        assert_equal 2 [r bitpos n 1]
        assert_equal 0 [r bitpos n 0]
        assert_equal 7 [r bitpos n 1 4 7 bit]
        assert_equal -1 [r bitpos n 0 1]
    }

    test {BITPOS argument errors} {
        r set s abc
        assert_error {ERR The bit argument must be 1 or 0.} {r bitpos s 2}
        assert_error {ERR The bit argument must be 1 or 0.} {r bitpos s -1 0 1}
        assert_error {ERR value is not an integer or out of range} {r bitpos s x}
        assert_error {ERR value is not an integer or out of range} {r bitpos s 1 x}
        assert_error {ERR value is not an integer or out of range} {r bitpos s 1 0 x}
        assert_error {ERR syntax error} {r bitpos s 1 0 1 bits}
        assert_error {ERR syntax error} {r bitpos s 1 0 1 bit extra}
        # The bit is checked first.
        assert_error {ERR The bit argument must be 1 or 0.} {r bitpos s 2 x 1 foo}
    }

    test {BITPOS checks its arguments even for a missing key (Valkey 8)} {
        r del nokey
        assert_error {ERR syntax error} {r bitpos nokey 1 0 1 bits}
        assert_error {ERR value is not an integer or out of range} {r bitpos nokey 1 x}
    }

    test {BITPOS on long runs} {
        foreach len {1 7 8 9 16 17 100 1000} {
            r set s "[string repeat "\x00" $len]\x01"
            assert_equal [expr {$len * 8 + 7}] [r bitpos s 1] "len $len"
            r set s "[string repeat "\xff" $len]\xfe"
            assert_equal [expr {$len * 8 + 7}] [r bitpos s 0] "len $len"
            assert_equal [expr {$len * 8 + 7}] [r bitpos s 0 0 -1] "len $len"
        }
    }

    test {BITPOS fuzzing against a model} {
        for {set i 0} {$i < 500} {incr i} {
            # Mostly-uniform bytes make for long runs to skip.
            set s {}
            set len [randomInt 30]
            for {set j 0} {$j < $len} {incr j} {
                append s [lindex [list "\x00" "\xff" [format %c [randomInt 256]]] [randomInt 3]]
            }
            r set s $s
            set bit [randomInt 2]
            switch [randomInt 4] {
                0 {
                    set args {}
                    set expected [model_bitpos $s $bit 0 {} byte]
                }
                1 {
                    set start [expr {[randomInt 40] - 20}]
                    set args [list $start]
                    set expected [model_bitpos $s $bit $start {} byte]
                }
                2 {
                    set start [expr {[randomInt 40] - 20}]
                    set end [expr {[randomInt 40] - 20}]
                    set args [list $start $end byte]
                    set expected [model_bitpos $s $bit $start $end byte]
                }
                3 {
                    set start [expr {[randomInt 300] - 150}]
                    set end [expr {[randomInt 300] - 150}]
                    set args [list $start $end bit]
                    set expected [model_bitpos $s $bit $start $end bit]
                }
            }
            if {$len == 0 && [llength $args] == 0} {set expected -1}
            assert_equal $expected [r bitpos s $bit {*}$args] "len $len bit $bit args $args"
        }
    }

    test {BITPOS against a key of another type} {
        with_list_key mykey {
            assert_error {WRONGTYPE*} {r bitpos mykey 0}
        }
    }

    test {BITOP AND, OR, XOR, NOT on simple values} {
        r set a{t} "\xff\x0f"
        r set b{t} "\xf0\xf0\xaa"
        assert_equal 3 [r bitop and dest{t} a{t} b{t}]
        assert_equal "\xf0\x00\x00" [r get dest{t}]
        assert_equal 3 [r bitop or dest{t} a{t} b{t}]
        assert_equal "\xff\xff\xaa" [r get dest{t}]
        assert_equal 3 [r bitop xor dest{t} a{t} b{t}]
        assert_equal "\x0f\xff\xaa" [r get dest{t}]
        assert_equal 2 [r bitop not dest{t} a{t}]
        assert_equal "\x00\xf0" [r get dest{t}]
    }

    test {BITOP with missing source keys} {
        r del nokey{t} dest{t}
        r set a{t} "\xff\x0f"
        assert_equal 2 [r bitop and dest{t} a{t} nokey{t}]
        assert_equal "\x00\x00" [r get dest{t}]
        assert_equal 2 [r bitop or dest{t} nokey{t} a{t}]
        assert_equal "\xff\x0f" [r get dest{t}]
    }

    test {BITOP with an empty result deletes the destination} {
        r del nokey{t} nokey2{t}
        r set dest{t} something
        assert_equal 0 [r bitop or dest{t} nokey{t} nokey2{t}]
        assert_equal 0 [r exists dest{t}]
        r set dest{t} something
        assert_equal 0 [r bitop not dest{t} nokey{t}]
        assert_equal 0 [r exists dest{t}]
        r set e{t} {}
        r set dest{t} something
        assert_equal 0 [r bitop and dest{t} e{t} e{t}]
        assert_equal 0 [r exists dest{t}]
    }

    test {BITOP replaces the destination and its TTL} {
        r set a{t} abc
        r set dest{t} old ex 100
        r bitop or dest{t} a{t}
        assert_equal abc [r get dest{t}]
        assert_equal -1 [r ttl dest{t}]
        # The destination may be a source.
        r set a{t} "\x01"
        r set b{t} "\x02"
        r bitop or a{t} a{t} b{t}
        assert_equal "\x03" [r get a{t}]
    }

    test {BITOP on int-encoded sources} {
        r set a{t} 1
        r set b{t} 2
        r bitop or dest{t} a{t} b{t}
        assert_equal 3 [r get dest{t}]
        r bitop and dest{t} a{t} b{t}
        assert_equal 0 [r get dest{t}]
    }

    test {BITOP errors} {
        r set a{t} x
        assert_error {ERR BITOP NOT must be called with a single source key.} {r bitop not dest{t} a{t} a{t}}
        assert_error {ERR syntax error} {r bitop foo dest{t} a{t}}
        assert_error {ERR syntax error} {r bitop nand dest{t} a{t}}
        assert_error {ERR wrong number of arguments for 'bitop' command} {r bitop and dest{t}}
    }

    test {BITOP against a key of another type} {
        with_list_key l{t} {
            r set a{t} x
            r set dest{t} keep
            assert_error {WRONGTYPE*} {r bitop and dest{t} a{t} l{t}}
            assert_error {WRONGTYPE*} {r bitop not dest{t} l{t}}
            assert_equal keep [r get dest{t}]
        }
    }

    test {BITOP fuzzing against a model} {
        foreach op {and or xor not} {
            for {set i 0} {$i < 30} {incr i} {
                set n [expr {$op eq "not" ? 1 : 1 + [randomInt 5]}]
                set keys {}
                set vals {}
                for {set j 0} {$j < $n} {incr j} {
                    # Some long values so the word-at-a-time paths run.
                    set v [randstring 0 [lindex {10 100} [randomInt 2]] binary]
                    r set src$j{t} $v
                    lappend keys src$j{t}
                    lappend vals $v
                }
                set expected [model_bitop $op {*}$vals]
                assert_equal [string length $expected] [r bitop $op dest{t} {*}$keys]
                if {$expected eq {}} {
                    assert_equal 0 [r exists dest{t}]
                } else {
                    assert_equal $expected [r get dest{t}] "$op of [llength $vals] values"
                }
            }
        }
    }

    test {BITOP with many keys} {
        set keys {}
        set vals {}
        for {set j 0} {$j < 20} {incr j} {
            set v [randstring 40 60 binary]
            r set k$j{t} $v
            lappend keys k$j{t}
            lappend vals $v
        }
        foreach op {and or xor} {
            r bitop $op dest{t} {*}$keys
            assert_equal [model_bitop $op {*}$vals] [r get dest{t}] $op
        }
    }
}
