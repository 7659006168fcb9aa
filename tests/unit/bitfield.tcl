# BITFIELD and BITFIELD_RO: GET/SET/INCRBY on signed (i1..i64) and unsigned (u1..u63) fields,
# "#N" offsets, OVERFLOW WRAP/SAT/FAIL, argument errors. A Tcl model of the overflow rules
# checks random operations.

proc with_list_key {key body} {
    r del $key
    if {[catch {r lpush $key elem} err]} {
        skip "no list type yet: $err"
    }
    uplevel 1 $body
}

# Model of one INCRBY (or SET, with the old value 0 and the new value as increment) on a
# field; returns {value overflowed}. Tcl integers are unbounded, so this is plain math.
proc model_field_add {signed bits old incr owtype} {
    if {$signed} {
        set min [expr {-(1 << ($bits - 1))}]
        set max [expr {(1 << ($bits - 1)) - 1}]
    } else {
        set min 0
        set max [expr {(1 << $bits) - 1}]
    }
    set sum [expr {$old + $incr}]
    if {$sum >= $min && $sum <= $max} {return [list $sum 0]}
    switch $owtype {
        sat {return [list [expr {$sum > $max ? $max : $min}] 1]}
        fail {return [list {} 1]}
        wrap {
            set v [expr {$sum & ((1 << $bits) - 1)}]
            if {$signed && $v > $max} {set v [expr {$v - (1 << $bits)}]}
            return [list $v 1]
        }
    }
}

start_server {tags {"bitops"}} {
    test {BITFIELD signed SET and GET} {
        r del bits
        assert_equal 0 [r bitfield bits set i8 0 -100]
        assert_equal -100 [r bitfield bits get i8 0]
        assert_equal {-100 0} [r bitfield bits set i8 0 101 get i8 8]
        assert_equal 101 [r bitfield bits get i8 0]
    }

    test {BITFIELD unsigned SET and GET} {
        r del bits
        assert_equal 0 [r bitfield bits set u8 0 255]
        assert_equal 255 [r bitfield bits get u8 0]
        assert_equal 255 [r bitfield bits set u8 0 100]
        assert_equal 100 [r bitfield bits get u8 0]
    }

    test {BITFIELD writes big-endian bits at any offset} {
        r del bits
        r bitfield bits set u5 7 23
        assert_equal [binary format B* 0000000101110000] [r get bits]
        assert_equal 23 [r bitfield bits get u5 7]
        assert_equal 2 [r strlen bits]
        r set bits "\xff\x00"
        assert_equal {-1 15 240} [r bitfield bits get i4 0 get u4 4 get u8 4]
    }

    test {BITFIELD #N offsets are multiplied by the width} {
        r del bits
        r bitfield bits set u8 #0 65 set u8 #1 66 set u8 #2 67
        assert_equal ABC [r get bits]
        assert_equal {66 67} [r bitfield bits get u8 #1 get u8 #2]
        r bitfield bits set i16 #1 -2
        assert_equal "AB\xff\xfe" [r get bits]
        assert_equal 2 [r bitfield bits set u3 #0 0]
    }

    test {BITFIELD 64 bit signed and 63 bit unsigned fields} {
        r del bits
        assert_equal 0 [r bitfield bits set i64 0 -9223372036854775808]
        assert_equal -9223372036854775808 [r bitfield bits get i64 0]
        assert_equal -9223372036854775808 [r bitfield bits set i64 0 9223372036854775807]
        assert_equal 9223372036854775807 [r bitfield bits get i64 0]
        assert_equal 0 [r bitfield bits set u63 64 9223372036854775807]
        assert_equal 9223372036854775807 [r bitfield bits get u63 64]
        assert_equal 9223372036854775807 [r bitfield bits get i64 0]
    }

    test {BITFIELD on a missing key reads zeros and creates it on write} {
        r del bits
        assert_equal {0 0} [r bitfield bits get u8 0 get i64 1000]
        assert_equal 0 [r exists bits]
        assert_equal {1} [r bitfield bits incrby u2 100 1]
        assert_equal 13 [r strlen bits]
    }

    test {BITFIELD with no operations} {
        r del bits
        assert_equal {} [r bitfield bits]
        assert_equal {} [r bitfield bits overflow sat]
        assert_equal 0 [r exists bits]
    }

    test {BITFIELD INCRBY} {
        r del bits
        assert_equal 1 [r bitfield bits incrby u2 100 1]
        assert_equal 2 [r bitfield bits incrby u2 100 1]
        assert_equal 3 [r bitfield bits incrby u2 100 1]
        assert_equal 0 [r bitfield bits incrby u2 100 1]
        assert_equal -1 [r bitfield bits incrby i4 0 -1]
        assert_equal 7 [r bitfield bits incrby i4 0 -8]
    }

    test {BITFIELD OVERFLOW WRAP (the default)} {
        r del bits
        assert_equal {0 -128} [r bitfield bits set i8 0 128 get i8 0]
        assert_equal {-128 -128} [r bitfield bits set i8 0 128 get i8 0]
        r del bits
        assert_equal {0 127} [r bitfield bits set i8 0 -129 get i8 0]
        assert_equal {0 1} [r bitfield bits overflow wrap set u8 8 257 get u8 8]
        assert_equal {0 255} [r bitfield bits set u8 16 -1 get u8 16]
        assert_equal {127 -128} [r bitfield bits set i8 0 127 incrby i8 0 1]
    }

    test {BITFIELD OVERFLOW SAT} {
        r del bits
        assert_equal {127} [r bitfield bits overflow sat incrby i8 0 200]
        assert_equal {127} [r bitfield bits overflow sat incrby i8 0 1]
        assert_equal {-128} [r bitfield bits overflow sat incrby i8 0 -1000]
        assert_equal {255} [r bitfield bits overflow sat incrby u8 8 1000]
        assert_equal {0} [r bitfield bits overflow sat incrby u8 8 -1000]
        assert_equal {0 127} [r bitfield bits overflow sat set i8 16 1000 get i8 16]
        assert_equal {127 -128} [r bitfield bits overflow sat set i8 16 -1000 get i8 16]
        # A negative SET into an unsigned field saturates upwards.
        assert_equal {0 255} [r bitfield bits overflow sat set u8 24 -1 get u8 24]
    }

    test {BITFIELD OVERFLOW FAIL replies null and leaves the field} {
        r del bits
        r bitfield bits set u4 0 15
        assert_equal {{} 15} [r bitfield bits overflow fail incrby u4 0 1 get u4 0]
        assert_equal {{} 15} [r bitfield bits overflow fail set u4 0 16 get u4 0]
        assert_equal {14} [r bitfield bits overflow fail incrby u4 0 -1]
        r readraw 1
        set lines [list [r bitfield bits overflow fail incrby i4 4 100]]
        lappend lines [r read]
        r readraw 0
        assert_equal {*1 $-1} [join $lines " "]
    }

    test {BITFIELD OVERFLOW applies to the operations after it} {
        r del bits
        assert_equal {127 {} -128} [r bitfield bits overflow sat incrby i8 0 1000 overflow fail incrby i8 0 1 overflow wrap incrby i8 0 1]
    }

    test {BITFIELD 64 bit overflow} {
        r del bits
        r bitfield bits set i64 0 9223372036854775807
        assert_equal {-9223372036854775808} [r bitfield bits incrby i64 0 1]
        assert_equal {-9223372036854775808} [r bitfield bits overflow sat incrby i64 0 -1]
        assert_equal {{}} [r bitfield bits overflow fail incrby i64 0 -1]
        assert_equal {-1} [r bitfield bits overflow sat incrby i64 0 9223372036854775807]
        assert_equal {9223372036854775806} [r bitfield bits overflow fail incrby i64 0 9223372036854775807]
        assert_equal {9223372036854775807} [r bitfield bits overflow sat incrby i64 0 9223372036854775807]
        assert_equal {{}} [r bitfield bits overflow fail incrby i64 0 1]
        r bitfield bits set u63 0 9223372036854775807
        assert_equal {9223372036854775807} [r bitfield bits overflow fail incrby u63 0 0]
        assert_equal {{}} [r bitfield bits overflow fail incrby u63 0 1]
        assert_equal {0} [r bitfield bits incrby u63 0 1]
    }

    test {BITFIELD on an int-encoded value} {
        r set bits 1
        assert_encoding int bits
        assert_equal {49} [r bitfield bits get u8 0]
        assert_equal {49} [r bitfield_ro bits get u8 0]
        assert_equal {49} [r bitfield bits set u8 0 50]
        assert_equal 2 [r get bits]
    }

    test {BITFIELD keeps the TTL} {
        r set bits abc ex 100
        r bitfield bits set u8 100 1
        assert_range [r ttl bits] 90 100
    }

    test {BITFIELD type errors} {
        r del bits
        set err {ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.}
        foreach type {u64 i65 u0 i0 x8 8 u i {} u-1 u8x U8 I16 u+8 u08} {
            assert_error $err {r bitfield bits get $type 0} "type '$type'"
        }
    }

    test {BITFIELD offset errors} {
        r del bits
        set err {ERR bit offset is not an integer or out of range}
        foreach offset [list -1 x 1.5 {} # #x #-1 ## [expr {4*1024*1024*1024}] 9223372036854775808] {
            assert_error $err {r bitfield bits get u8 $offset} "offset '$offset'"
        }
        # #N too far once multiplied.
        assert_error $err {r bitfield bits get u8 #536870912}
        assert_equal 0 [r exists bits]
    }

    test {BITFIELD other errors} {
        r del bits
        assert_error {ERR syntax error} {r bitfield bits bad}
        assert_error {ERR syntax error} {r bitfield bits get u8}
        assert_error {ERR syntax error} {r bitfield bits set u8 0}
        assert_error {ERR syntax error} {r bitfield bits incrby u8 0}
        assert_error {ERR syntax error} {r bitfield bits overflow}
        assert_error {ERR Invalid OVERFLOW type specified} {r bitfield bits overflow foo}
        assert_error {ERR value is not an integer or out of range} {r bitfield bits set u8 0 x}
        assert_error {ERR value is not an integer or out of range} {r bitfield bits incrby u8 0 1.5}
        assert_error {ERR value is not an integer or out of range} {r bitfield bits set i64 0 9223372036854775808}
        # An error anywhere means nothing runs.
        assert_error {ERR syntax error} {r bitfield bits set u8 0 1 bad}
        assert_error {ERR Invalid bitfield type*} {r bitfield bits set u8 0 1 get u64 0}
        assert_equal 0 [r exists bits]
    }

    test {BITFIELD_RO only reads} {
        r del bits
        r bitfield bits set u8 0 255
        assert_equal {255 -1} [r bitfield_ro bits get u8 0 get i8 0]
        assert_equal {} [r bitfield_ro bits]
        assert_equal {} [r bitfield_ro bits overflow fail]
        assert_error {ERR BITFIELD_RO only supports the GET subcommand} {r bitfield_ro bits set u8 0 1}
        assert_error {ERR BITFIELD_RO only supports the GET subcommand} {r bitfield_ro bits get u8 0 incrby u8 0 1}
        # Argument errors come first.
        assert_error {ERR syntax error} {r bitfield_ro bits set u8 0 1 bad}
        assert_error {ERR Invalid bitfield type*} {r bitfield_ro bits set u64 0 1}
        assert_equal 255 [r bitfield_ro bits get u8 0]
        r del nokey
        assert_equal {0} [r bitfield_ro nokey get u8 0]
        assert_equal 0 [r exists nokey]
    }

    test {BITFIELD against a key of another type} {
        with_list_key bits {
            assert_error {WRONGTYPE*} {r bitfield bits get u8 0}
            assert_error {WRONGTYPE*} {r bitfield bits set u8 0 1}
            assert_error {WRONGTYPE*} {r bitfield_ro bits get u8 0}
            assert_error {WRONGTYPE*} {r bitfield bits}
        }
    }

    test {BITFIELD fuzzing against a model} {
        foreach owtype {wrap sat fail} {
            for {set i 0} {$i < 300} {incr i} {
                set signed [randomInt 2]
                set bits [expr {1 + [randomInt [expr {$signed ? 64 : 63}]]}]
                set type [expr {$signed ? "i" : "u"}]$bits
                set offset [randomInt 100]
                set old [expr {[randomInt 1000000] * [randomInt 1000000] - 1000}]
                set incr [expr {[randomInt 3000] - 1500}]
                if {[randomInt 4] == 0} {set incr [expr {$incr * 1000000000000}]}
                # Start from a known in-range value.
                r del bits
                r bitfield bits overflow wrap set $type $offset $old
                set stored [lindex [r bitfield bits get $type $offset] 0]
                lassign [model_field_add $signed $bits $stored $incr $owtype] want overflowed
                set got [lindex [r bitfield bits overflow $owtype incrby $type $offset $incr] 0]
                assert_equal $want $got "$owtype incrby $type $offset: $stored + $incr"
                set now [lindex [r bitfield bits get $type $offset] 0]
                assert_equal [expr {$want eq {} ? $stored : $want}] $now
            }
        }
    }

    test {BITFIELD SET fuzzing against a model} {
        for {set i 0} {$i < 300} {incr i} {
            set signed [randomInt 2]
            set bits [expr {1 + [randomInt [expr {$signed ? 63 : 62}]]}]
            set type [expr {$signed ? "i" : "u"}]$bits
            set value [expr {[randomInt 2000000] - 1000000}]
            if {[randomInt 3] == 0} {set value [expr {$value * 100000000000}]}
            r del bits
            set owtype [lindex {wrap sat} [randomInt 2]]
            r bitfield bits overflow $owtype set $type 3 $value
            set got [lindex [r bitfield bits get $type 3] 0]
            # Unsigned fields see a negative value as its 64-bit two's complement.
            set v $value
            if {!$signed && $v < 0} {set v [expr {$v + (1 << 64)}]}
            lassign [model_field_add $signed $bits 0 $v $owtype] want
            assert_equal $want $got "$owtype set $type $value"
        }
    }
}
