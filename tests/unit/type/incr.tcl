# Counters: INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT. Overflow and parse errors, encodings
# (results are int encoded), TTLs survive, and INCRBYFLOAT's text formatting.

proc with_list_key {key body} {
    r del $key
    if {[catch {r lpush $key elem} err]} {
        skip "no list type yet: $err"
    }
    uplevel 1 $body
}

start_server {tags {"incr"}} {
    test {INCR on a missing key creates it} {
        r del novar
        assert_equal 1 [r incr novar]
        assert_equal 1 [r get novar]
    }

    test {INCR on an existing counter} {
        assert_equal 2 [r incr novar]
        assert_equal 3 [r incr novar]
    }

    test {DECR, INCRBY and DECRBY} {
        r set novar 10
        assert_equal 9 [r decr novar]
        assert_equal 109 [r incrby novar 100]
        assert_equal 9 [r decrby novar 100]
        assert_equal -91 [r incrby novar -100]
        assert_equal 9 [r decrby novar -100]
        assert_equal 9 [r incrby novar 0]
        r del novar
        assert_equal -1 [r decr novar]
        r del novar
        assert_equal -5 [r decrby novar 5]
    }

    test {INCR on a value stored as a string} {
        r set novar "    11    "
        assert_error {ERR value is not an integer or out of range} {r incr novar}
        r set novar 11
        assert_equal 12 [r incr novar]
        # A number kept as text (not int encoded) still counts.
        r set novar 1
        r append novar 7
        assert_encoding raw novar
        assert_equal 18 [r incr novar]
        assert_encoding int novar
    }

    test {INCR results are int encoded} {
        r del c
        r incr c
        assert_encoding int c
        r set c 20000
        r incrby c 100000
        assert_encoding int c
        assert_equal 120000 [r get c]
    }

    test {INCR on values that are not integers} {
        foreach v {{} abc 1.5 { 1} {1 } 012 +1 0x10 9223372036854775808 -9223372036854775809 1e3 "1\x00"} {
            r set novar $v
            assert_error {ERR value is not an integer or out of range} {r incr novar} "value '$v'"
            assert_error {ERR value is not an integer or out of range} {r decrby novar 1} "value '$v'"
            assert_equal $v [r get novar]
        }
    }

    test {INCRBY with an increment that is not an integer} {
        r set novar 1
        foreach inc {abc 1.5 { 1} 9223372036854775808 {}} {
            assert_error {ERR value is not an integer or out of range} {r incrby novar $inc}
            assert_error {ERR value is not an integer or out of range} {r decrby novar $inc}
        }
        assert_equal 1 [r get novar]
        # The increment is checked before the key.
        r del nokey
        assert_error {ERR value is not an integer or out of range} {r incrby nokey x}
        assert_equal 0 [r exists nokey]
    }

    test {INCR overflow detection} {
        r set novar 9223372036854775807
        assert_error {ERR increment or decrement would overflow} {r incr novar}
        assert_error {ERR increment or decrement would overflow} {r incrby novar 1}
        assert_error {ERR increment or decrement would overflow} {r decrby novar -1}
        assert_equal 9223372036854775807 [r get novar]
        r set novar -9223372036854775808
        assert_error {ERR increment or decrement would overflow} {r decr novar}
        assert_error {ERR increment or decrement would overflow} {r incrby novar -1}
        assert_equal -9223372036854775808 [r get novar]
        r set novar 1
        assert_error {ERR increment or decrement would overflow} {r incrby novar 9223372036854775807}
        r set novar -2
        assert_error {ERR increment or decrement would overflow} {r incrby novar -9223372036854775807}
        assert_equal -9223372036854775808 [r incrby novar -9223372036854775806]
    }

    test {INCR up to the limits} {
        r set novar 9223372036854775806
        assert_equal 9223372036854775807 [r incr novar]
        r set novar -9223372036854775807
        assert_equal -9223372036854775808 [r decr novar]
        r set novar 0
        assert_equal 9223372036854775807 [r incrby novar 9223372036854775807]
        assert_equal -1 [r incrby novar -9223372036854775808]
    }

    test {DECRBY of the smallest integer} {
        r set novar 0
        assert_error {ERR decrement would overflow} {r decrby novar -9223372036854775808}
        r del nokey
        assert_error {ERR decrement would overflow} {r decrby nokey -9223372036854775808}
        assert_equal 0 [r exists nokey]
        assert_equal -9223372036854775807 [r decrby novar 9223372036854775807]
    }

    test {INCR keeps the TTL} {
        r set c 5 ex 100
        assert_equal 6 [r incr c]
        assert_range [r ttl c] 90 100
        r set c 50000 ex 100
        assert_equal 49999 [r decr c]
        assert_range [r ttl c] 90 100
        r set c abc5 ex 100
        catch {r incr c}
        assert_range [r ttl c] 90 100
    }

    test {INCR does not change a value read by another key} {
        # Two keys holding the same small number must stay independent.
        r set a{t} 100
        r set b{t} 100
        r incr a{t}
        assert_equal {101 100} [r mget a{t} b{t}]
        r set a{t} 123456
        r set b{t} 123456
        r incr a{t}
        assert_equal {123457 123456} [r mget a{t} b{t}]
    }

    test {INCR many times} {
        r del c
        for {set i 0} {$i < 1000} {incr i} { r incr c }
        assert_equal 1000 [r get c]
        for {set i 0} {$i < 1000} {incr i} { r decrby c 2 }
        assert_equal -1000 [r get c]
    }

    test {INCR against a key of another type} {
        with_list_key mylist {
            assert_error {WRONGTYPE*} {r incr mylist}
            assert_error {WRONGTYPE*} {r decrby mylist 1}
            assert_error {WRONGTYPE*} {r incrbyfloat mylist 1}
        }
    }

    test {INCRBYFLOAT on a missing key} {
        r del novar
        assert_equal 1 [r incrbyfloat novar 1]
        assert_equal 1 [r get novar]
        assert_equal 1.25 [r incrbyfloat novar 0.25]
        assert_equal 1.25 [r get novar]
    }

    test {INCRBYFLOAT basics} {
        r set novar 10.5
        assert_equal 10.6 [r incrbyfloat novar 0.1]
        assert_equal 5.6 [r incrbyfloat novar -5]
        r set novar 10
        assert_equal 11 [r incrbyfloat novar 1.0]
        assert_equal 5011 [r incrbyfloat novar 5.0e3]
        assert_equal 5010.5 [r incrbyfloat novar -.5]
        r set novar 1.5000
        assert_equal 1.5 [r incrbyfloat novar 0]
        r set novar 3.0e3
        assert_equal 3000 [r incrbyfloat novar 0]
        r set novar -1
        assert_equal 0 [r incrbyfloat novar 1]
    }

    test {INCRBYFLOAT prints without exponent and without trailing zeros} {
        r del novar
        assert_equal 0.0001 [r incrbyfloat novar 1e-4]
        r del novar
        # 1e308 as a long double, printed in full (as recorded from Valkey 8).
        assert_equal 99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048 \
            [r incrbyfloat novar 1e+308]
        r del novar
        assert_equal 17179869184 [r incrbyfloat novar 17179869184]
    }

    test {INCRBYFLOAT replies are bulk strings} {
        r set novar 1
        r readraw 1
        set reply [r incrbyfloat novar 1.5]
        set body [r read]
        r readraw 0
        assert_equal {$3} $reply
        assert_equal 2.5 $body
    }

    test {INCRBYFLOAT errors} {
        r set novar 1
        assert_error {ERR value is not a valid float} {r incrbyfloat novar abc}
        assert_error {ERR value is not a valid float} {r incrbyfloat novar {}}
        assert_error {ERR value is not a valid float} {r incrbyfloat novar { 1}}
        assert_error {ERR value is not a valid float} {r incrbyfloat novar {1 }}
        assert_error {ERR value is not a valid float} {r incrbyfloat novar nan}
        assert_error {ERR value is not a valid float} {r incrbyfloat novar 1e400x}
        assert_error {ERR increment would produce NaN or Infinity} {r incrbyfloat novar inf}
        assert_error {ERR increment would produce NaN or Infinity} {r incrbyfloat novar -inf}
        assert_equal 1 [r get novar]
        r set novar foo
        assert_error {ERR value is not a valid float} {r incrbyfloat novar 1}
        r set novar "1 "
        assert_error {ERR value is not a valid float} {r incrbyfloat novar 1}
        r set novar "1\x00"
        assert_error {ERR value is not a valid float} {r incrbyfloat novar 1}
        # The stored value is checked before the increment.
        r set novar foo
        assert_error {ERR value is not a valid float} {r incrbyfloat novar bar}
    }

    test {INCRBYFLOAT overflow to infinity} {
        # Long doubles reach about 1.19e4932.
        r set novar 1e4932
        assert_error {ERR increment would produce NaN or Infinity} {r incrbyfloat novar 1e4932}
        assert_equal 1e4932 [r get novar]
        r set novar inf
        assert_error {ERR increment would produce NaN or Infinity} {r incrbyfloat novar 1}
    }

    test {INCRBYFLOAT keeps the TTL} {
        r set novar 1 ex 100
        assert_equal 2.5 [r incrbyfloat novar 1.5]
        assert_range [r ttl novar] 90 100
    }

    test {INCRBYFLOAT result used by INCR} {
        r del novar
        r incrbyfloat novar 2
        assert_equal 3 [r incr novar]
        r incrbyfloat novar 0.5
        assert_error {ERR value is not an integer or out of range} {r incr novar}
    }

    test {INCRBYFLOAT decrement} {
        r set foo 1
        assert_equal -0.1 [r incrbyfloat foo -1.1]
    }

    test {INCR with wrong number of arguments} {
        assert_error {ERR wrong number of arguments for 'incr' command} {r incr}
        assert_error {ERR wrong number of arguments for 'incrby' command} {r incrby a}
        assert_error {ERR wrong number of arguments for 'incrbyfloat' command} {r incrbyfloat a 1 2}
    }
}
