# String commands: SET and its options, GET/GETEX/GETDEL/GETSET, MSET/MSETNX/MGET, SETNX,
# SETEX/PSETEX, APPEND, STRLEN, SETRANGE, GETRANGE/SUBSTR, LCS; encodings, TTL handling,
# binary safety and the proto-max-bulk-len limit. Counters live in incr.tcl.
#
# Where Valkey 8 differs from Redis 7.0 the test says so: those tests fail against a
# Redis 7.0 reference server (SET ... IFEQ is new in Valkey 8.1).
#
# Wrong-type tests need a non-string key: they create one with LPUSH and are skipped while
# the server has no lists.

# Runs body only when `r lpush` works, i.e. the server has a non-string type to test with.
proc with_list_key {key body} {
    r del $key
    if {[catch {r lpush $key elem} err]} {
        skip "no list type yet: $err"
    }
    uplevel 1 $body
}

start_server {tags {"string"}} {
    test {SET and GET a simple value} {
        assert_equal OK [r set x foobar]
        assert_equal foobar [r get x]
    }

    test {SET and GET an empty value} {
        r set x {}
        assert_equal {} [r get x]
        assert_equal 1 [r exists x]
        assert_equal 0 [r strlen x]
    }

    test {GET of a missing key is null} {
        r del nokey
        r readraw 1
        set reply [r get nokey]
        r readraw 0
        assert_equal {$-1} $reply
    }

    test {SET and GET are binary safe} {
        set v "a\x00b\r\nc\x00\xff\x80\r\n"
        r set bin $v
        assert_equal $v [r get bin]
        assert_equal [string length $v] [r strlen bin]
        set k "key\x00with\r\nbytes"
        r set $k $v
        assert_equal $v [r get $k]
    }

    test {SET and GET a 4MB value} {
        set buf [string repeat "abcd" 1000000]
        r set big $buf
        assert_equal $buf [r get big]
        assert_equal 4000000 [r strlen big]
        r del big
    }

    test {SET overwrites a value of any length} {
        r set x [string repeat y 100]
        r set x short
        assert_equal short [r get x]
        r set x 12345
        assert_equal 12345 [r get x]
        r set x [string repeat z 100]
        assert_equal [string repeat z 100] [r get x]
    }

    test {String encodings: int, embstr up to 44 bytes, raw beyond} {
        r set n 12345
        assert_encoding int n
        r set n -9223372036854775808
        assert_encoding int n
        r set n 9223372036854775807
        assert_encoding int n
        # Not canonical integers: stay strings.
        foreach v {012 +1 {1 } { 1} 1.0 9223372036854775808 -} {
            r set n $v
            assert_encoding embstr n
            assert_equal $v [r get n]
        }
        r set s [string repeat a 44]
        assert_encoding embstr s
        r set s [string repeat a 45]
        assert_encoding raw s
        r set s {}
        assert_encoding embstr s
    }

    test {SET with an unknown or misplaced option is a syntax error} {
        assert_error {ERR syntax error} {r set foo bar non-existing-option}
        assert_error {ERR syntax error} {r set foo bar PERSIST}
        assert_error {ERR syntax error} {r set foo bar EX}
        assert_error {ERR syntax error} {r set foo bar PXAT}
        assert_error {ERR syntax error} {r set foo bar IFEQ}
        assert_error {ERR syntax error} {r set foo bar 10}
    }

    test {SET with conflicting options is a syntax error} {
        foreach opts {
            {NX XX} {XX NX} {EX 10 PX 100} {PX 100 EX 10} {EX 10 EXAT 10} {PXAT 10 EXAT 10}
            {EX 10 KEEPTTL} {KEEPTTL PX 10} {KEEPTTL EXAT 10} {PXAT 10 KEEPTTL}
        } {
            assert_error {ERR syntax error} [list r set foo bar {*}$opts] $opts
        }
        # Nothing was written by the rejected commands.
        r del foo
        assert_error {ERR syntax error} {r set foo bar nx xx}
        assert_equal 0 [r exists foo]
    }

    test {SET options are case insensitive and may repeat} {
        r del foo
        assert_equal OK [r set foo bar nx Nx]
        assert_equal bar [r set foo baz get GeT]
        assert_equal OK [r set foo v ex 10 ex 100]
        assert_range [r ttl foo] 90 100
        assert_equal OK [r set foo v keepttl KEEPTTL]
        assert_range [r ttl foo] 90 100
    }

    test {SET NX} {
        r del foo
        assert_equal OK [r set foo 1 nx]
        assert_equal {} [r set foo 2 nx]
        assert_equal 1 [r get foo]
    }

    test {SET XX} {
        r del foo
        assert_equal {} [r set foo 1 xx]
        assert_equal 0 [r exists foo]
        r set foo bar
        assert_equal OK [r set foo 2 xx]
        assert_equal 2 [r get foo]
    }

    test {SET NX/XX replies are null bulk strings} {
        r set foo bar
        r readraw 1
        set reply [r set foo baz nx]
        r readraw 0
        assert_equal {$-1} $reply
    }

    test {SET GET returns the old value} {
        r set foo bar
        assert_equal bar [r set foo bar2 get]
        assert_equal bar2 [r get foo]
        r del foo
        assert_equal {} [r set foo bar get]
        assert_equal bar [r get foo]
    }

    test {SET GET with NX and XX} {
        r del foo
        assert_equal {} [r set foo bar get xx]
        assert_equal 0 [r exists foo]
        assert_equal {} [r set foo bar get nx]
        assert_equal bar [r get foo]
        assert_equal bar [r set foo baz get nx]
        assert_equal bar [r get foo]
        assert_equal bar [r set foo baz get xx]
        assert_equal baz [r get foo]
    }

    test {SET GET against a key of another type} {
        with_list_key foo {
            assert_error {WRONGTYPE*} {r set foo bar get}
            assert_equal list [r type foo]
            # Without GET the value is simply replaced.
            assert_equal OK [r set foo bar]
            assert_equal bar [r get foo]
        }
    }

    # Valkey 8.1: IFEQ (not in Redis 7.0).
    test {SET IFEQ sets only when the current value matches} {
        r set foo initial
        assert_equal OK [r set foo second ifeq initial]
        assert_equal second [r get foo]
        assert_equal {} [r set foo third ifeq initial]
        assert_equal second [r get foo]
        # Integer-encoded values compare by their text.
        r set foo 100
        assert_equal {} [r set foo x ifeq 0100]
        assert_equal OK [r set foo x ifeq 100]
        assert_equal x [r get foo]
    }

    test {SET IFEQ on a missing key does nothing} {
        r del foo
        assert_equal {} [r set foo v ifeq anything]
        assert_equal 0 [r exists foo]
        assert_equal {} [r set foo v ifeq anything get]
        assert_equal 0 [r exists foo]
    }

    test {SET IFEQ with GET returns the old value either way} {
        r set foo initial
        assert_equal initial [r set foo other ifeq nomatch get]
        assert_equal initial [r get foo]
        assert_equal initial [r set foo new ifeq initial get]
        assert_equal new [r get foo]
    }

    test {SET IFEQ cannot be combined with NX or XX} {
        r set foo v
        assert_error {ERR syntax error} {r set foo w ifeq v nx}
        assert_error {ERR syntax error} {r set foo w xx ifeq v}
        assert_error {ERR syntax error} {r set foo w ifeq}
        assert_equal v [r get foo]
    }

    test {SET IFEQ with an expire} {
        r set foo v
        assert_equal OK [r set foo w ifeq v px 100000]
        assert_range [r pttl foo] 90000 100000
        assert_equal w [r get foo]
    }

    test {SET IFEQ against a key of another type} {
        with_list_key foo {
            assert_error {WRONGTYPE*} {r set foo bar ifeq elem}
            assert_error {WRONGTYPE*} {r set foo bar ifeq elem get}
            assert_equal list [r type foo]
        }
    }

    test {SET EX / PX / EXAT / PXAT set the TTL} {
        r set foo bar ex 100
        assert_range [r ttl foo] 90 100
        r set foo bar px 100000
        assert_range [r pttl foo] 90000 100000
        r set foo bar exat [expr {[clock seconds] + 100}]
        assert_range [r ttl foo] 90 100
        r set foo bar pxat [expr {[clock milliseconds] + 100000}]
        assert_range [r pttl foo] 90000 100000
        assert_equal bar [r get foo]
    }

    test {SET without KEEPTTL drops the TTL, with KEEPTTL keeps it} {
        r set foo bar ex 100
        r set foo bar2 keepttl
        assert_range [r ttl foo] 90 100
        assert_equal bar2 [r get foo]
        r set foo bar3
        assert_equal -1 [r ttl foo]
        # KEEPTTL on a key without TTL, or a new key, sets none.
        r set foo bar4 keepttl
        assert_equal -1 [r ttl foo]
        r del foo
        r set foo bar5 keepttl
        assert_equal -1 [r ttl foo]
    }

    test {SET with an invalid expire time} {
        foreach flag {ex px exat pxat} {
            assert_error "ERR invalid expire time in 'set' command" {r set foo bar $flag 0}
            assert_error "ERR invalid expire time in 'set' command" {r set foo bar $flag -1}
            assert_error {ERR value is not an integer or out of range} {r set foo bar $flag 1.5}
            assert_error {ERR value is not an integer or out of range} {r set foo bar $flag abc}
            assert_error {ERR value is not an integer or out of range} {r set foo bar $flag 9223372036854775808}
        }
        # Overflow when converting seconds to ms or adding the current time.
        assert_error "ERR invalid expire time in 'set' command" {r set foo bar ex 9223372036854775}
        assert_error "ERR invalid expire time in 'set' command" {r set foo bar ex 9223372036854776}
        assert_error "ERR invalid expire time in 'set' command" {r set foo bar px 9223372036854775807}
        assert_error "ERR invalid expire time in 'set' command" {r set foo bar exat 9223372036854776}
        # A date far away but representable is fine.
        assert_equal OK [r set foo bar pxat 9223372036854775807]
        assert_morethan [r ttl foo] 1000000000
    }

    test {SET with an expire time error leaves the key alone} {
        r set foo old
        assert_error "ERR invalid expire time*" {r set foo new ex 0}
        assert_error "ERR invalid expire time*" {r set foo new get ex 0}
        assert_equal old [r get foo]
    }

    test {SET EXAT / PXAT in the past leaves no key} {
        r set foo bar
        assert_equal OK [r set foo bar exat [expr {[clock seconds] - 100}]]
        assert_equal 0 [r exists foo]
        assert_equal OK [r set foo bar pxat 1]
        assert_equal 0 [r exists foo]
        r set foo old
        assert_equal old [r set foo new pxat 1 get]
        assert_equal 0 [r exists foo]
    }

    test {SET with a short PX expires} {
        r set foo bar px 50
        assert_equal bar [r get foo]
        after 100
        assert_equal {} [r get foo]
        assert_equal 0 [r exists foo]
    }

    test {SET XX PX on an existing key} {
        r set foo val
        assert_equal OK [r set foo bar xx px 10000]
        assert_range [r ttl foo] 5 10
    }

    test {SETNX on a missing key} {
        r del novar
        assert_equal 1 [r setnx novar foobared]
        assert_equal foobared [r get novar]
    }

    test {SETNX on an existing key} {
        r set novar foobared
        assert_equal 0 [r setnx novar blabla]
        assert_equal foobared [r get novar]
    }

    test {SETNX keeps an existing volatile key and its TTL} {
        r set x 10 ex 100
        assert_equal 0 [r setnx x 20]
        assert_equal 10 [r get x]
        assert_range [r ttl x] 90 100
    }

    test {SETNX on an expired key} {
        r set x 10 px 20
        after 50
        assert_equal 1 [r setnx x 20]
        assert_equal 20 [r get x]
        assert_equal -1 [r ttl x]
    }

    test {SETEX and PSETEX} {
        assert_equal OK [r setex foo 100 bar]
        assert_equal bar [r get foo]
        assert_range [r ttl foo] 90 100
        assert_equal OK [r psetex foo 100000 baz]
        assert_equal baz [r get foo]
        assert_range [r pttl foo] 90000 100000
        r setex foo 100 123
        assert_encoding int foo
    }

    test {SETEX and PSETEX with invalid times} {
        assert_error "ERR invalid expire time in 'setex' command" {r setex foo 0 bar}
        assert_error "ERR invalid expire time in 'setex' command" {r setex foo -10 bar}
        assert_error "ERR invalid expire time in 'setex' command" {r setex foo 9223372036854775807 bar}
        assert_error "ERR invalid expire time in 'psetex' command" {r psetex foo 0 bar}
        assert_error "ERR invalid expire time in 'psetex' command" {r psetex foo -1 bar}
        assert_error {ERR value is not an integer or out of range} {r setex foo 1.5 bar}
        assert_error {ERR value is not an integer or out of range} {r psetex foo x bar}
        assert_error {ERR wrong number of arguments for 'setex' command} {r setex foo 10}
    }

    test {SETEX expires quickly} {
        r psetex foo 50 bar
        after 100
        assert_equal 0 [r exists foo]
    }

    test {GETSET on a missing key} {
        r del foo
        assert_equal {} [r getset foo xyz]
        assert_equal xyz [r get foo]
    }

    test {GETSET replaces the value and drops the TTL} {
        r set foo bar ex 100
        assert_equal bar [r getset foo xyz]
        assert_equal xyz [r get foo]
        assert_equal -1 [r ttl foo]
    }

    test {GETSET against a key of another type} {
        with_list_key foo {
            assert_error {WRONGTYPE*} {r getset foo bar}
            assert_equal list [r type foo]
        }
    }

    test {MSET and MGET} {
        r mset x{t} 10 y{t} "foo bar" z{t} "x x x x x x x\n\n\r\n"
        assert_equal [list 10 {foo bar} "x x x x x x x\n\n\r\n"] [r mget x{t} y{t} z{t}]
        assert_encoding int x{t}
    }

    test {MGET with missing keys} {
        r del nokey{t}
        assert_equal [list 10 {} {foo bar}] [r mget x{t} nokey{t} y{t}]
        assert_equal [list {} {}] [r mget nokey{t} nokey{t}]
    }

    test {MGET returns null for keys of another type} {
        with_list_key list{t} {
            assert_equal [list 10 {}] [r mget x{t} list{t}]
        }
    }

    test {MSET and MSETNX with a wrong number of arguments} {
        assert_error {ERR wrong number of arguments for 'mset' command} {r mset x{t} 10 y{t}}
        assert_error {ERR wrong number of arguments for 'msetnx' command} {r msetnx x{t} 20 y{t}}
        assert_error {ERR wrong number of arguments for 'mset' command} {r mset x{t}}
        assert_equal 10 [r get x{t}]
    }

    test {MSET drops TTLs and the last value of a repeated key wins} {
        r set x{t} x ex 100
        assert_equal OK [r mset x{t} xxx x{t} yyy]
        assert_equal yyy [r get x{t}]
        assert_equal -1 [r ttl x{t}]
    }

    test {MSETNX when a key exists sets nothing} {
        r del x1{t} y2{t}
        r set x{t} 10
        assert_equal 0 [r msetnx x1{t} xxx y2{t} yyy x{t} 20]
        assert_equal 0 [r exists x1{t} y2{t}]
        assert_equal 10 [r get x{t}]
    }

    test {MSETNX with new keys} {
        r del x1{t} y2{t}
        assert_equal 1 [r msetnx x1{t} xxx y2{t} yyy]
        assert_equal {xxx yyy} [r mget x1{t} y2{t}]
    }

    test {MSETNX with the same new key twice} {
        r del x1{t}
        assert_equal 1 [r msetnx x1{t} xxx x1{t} yyy]
        assert_equal yyy [r get x1{t}]
        assert_equal 0 [r msetnx x1{t} aaa x1{t} bbb]
        assert_equal yyy [r get x1{t}]
    }

    test {STRLEN} {
        r del nokey
        assert_equal 0 [r strlen nokey]
        r set myint -555
        assert_encoding int myint
        assert_equal 4 [r strlen myint]
        r set mystr "foozzz0123456789 baz"
        assert_equal 20 [r strlen mystr]
        r set mystr "a\x00b"
        assert_equal 3 [r strlen mystr]
    }

    test {STRLEN against a key of another type} {
        with_list_key foo {
            assert_error {WRONGTYPE*} {r strlen foo}
        }
    }

    test {GETEX without options is GET} {
        r set foo bar ex 100
        assert_equal bar [r getex foo]
        assert_range [r ttl foo] 90 100
        r del foo
        assert_equal {} [r getex foo]
    }

    test {GETEX EX / PX / EXAT / PXAT} {
        r set foo bar
        assert_equal bar [r getex foo ex 100]
        assert_range [r ttl foo] 90 100
        assert_equal bar [r getex foo px 200000]
        assert_range [r pttl foo] 190000 200000
        assert_equal bar [r getex foo exat [expr {[clock seconds] + 300}]]
        assert_range [r ttl foo] 290 300
        assert_equal bar [r getex foo pxat [expr {[clock milliseconds] + 400000}]]
        assert_range [r pttl foo] 390000 400000
    }

    test {GETEX PERSIST} {
        r set foo bar ex 100
        assert_equal bar [r getex foo persist]
        assert_equal -1 [r ttl foo]
        assert_equal bar [r getex foo persist]
        assert_equal -1 [r ttl foo]
    }

    test {GETEX with an absolute time in the past deletes the key} {
        r set foo bar
        assert_equal bar [r getex foo pxat 1]
        assert_equal 0 [r exists foo]
        r set foo bar
        assert_equal bar [r getex foo exat [expr {[clock seconds] - 10}]]
        assert_equal 0 [r exists foo]
    }

    test {GETEX syntax errors} {
        r set foo bar
        assert_error {ERR syntax error} {r getex foo nonexistent-option}
        assert_error {ERR syntax error} {r getex foo ex}
        assert_error {ERR syntax error} {r getex foo ex 10 px 100}
        assert_error {ERR syntax error} {r getex foo persist ex 10}
        assert_error {ERR syntax error} {r getex foo ex 10 persist}
        # SET-only options.
        foreach flag {nx xx get keepttl} {
            assert_error {ERR syntax error} {r getex foo $flag}
        }
        assert_error {ERR syntax error} {r getex foo ifeq bar}
        # Options are checked even when the key is missing.
        r del nokey
        assert_error {ERR syntax error} {r getex nokey bad}
        assert_error {ERR wrong number of arguments for 'getex' command} {r getex}
    }

    test {GETEX invalid expire times} {
        r set foo bar
        foreach flag {ex px exat pxat} {
            assert_error "ERR invalid expire time in 'getex' command" {r getex foo $flag 0}
            assert_error "ERR invalid expire time in 'getex' command" {r getex foo $flag -1}
            assert_error {ERR value is not an integer or out of range} {r getex foo $flag x}
        }
        assert_error "ERR invalid expire time in 'getex' command" {r getex foo ex 9223372036854775807}
        assert_equal -1 [r ttl foo]
    }

    test {GETEX checks the time only for an existing string key} {
        # As recorded from Valkey 8: a missing key replies null before the time is looked at.
        r del nokey
        assert_equal {} [r getex nokey ex -1]
        assert_equal {} [r getex nokey px x]
    }

    test {GETEX against a key of another type} {
        with_list_key foo {
            assert_error {WRONGTYPE*} {r getex foo}
            assert_error {WRONGTYPE*} {r getex foo ex 100}
            assert_equal -1 [r ttl foo]
        }
    }

    test {GETEX on an expired key} {
        r set foo bar px 10
        after 30
        assert_equal {} [r getex foo]
        assert_equal {} [r get foo]
    }

    test {GETDEL} {
        r set foo bar
        assert_equal bar [r getdel foo]
        assert_equal 0 [r exists foo]
        assert_equal {} [r getdel foo]
        r set foo 12345
        assert_equal 12345 [r getdel foo]
        r set foo bar ex 100
        assert_equal bar [r getdel foo]
        assert_equal -2 [r ttl foo]
    }

    test {GETDEL against a key of another type} {
        with_list_key foo {
            assert_error {WRONGTYPE*} {r getdel foo}
            assert_equal 1 [r exists foo]
        }
    }

    test {APPEND to a missing key creates it} {
        r del foo
        assert_equal 3 [r append foo bar]
        assert_equal bar [r get foo]
        r del foo
        assert_equal 3 [r append foo 123]
        assert_equal 123 [r get foo]
        r del foo
        assert_equal 0 [r append foo {}]
        assert_equal 1 [r exists foo]
    }

    test {APPEND basics} {
        r set foo bar
        assert_equal 6 [r append foo 100]
        assert_equal bar100 [r get foo]
        assert_equal 6 [r append foo {}]
        assert_equal 8 [r append foo "\x00\n"]
        assert_equal "bar100\x00\n" [r get foo]
    }

    test {APPEND turns int and embstr values into raw} {
        r set foo 1
        assert_encoding int foo
        assert_equal 2 [r append foo 2]
        assert_equal 12 [r get foo]
        assert_encoding raw foo
        r set foo abc
        assert_encoding embstr foo
        r append foo def
        assert_encoding raw foo
        assert_equal abcdef [r get foo]
    }

    test {APPEND keeps the TTL} {
        r set foo bar ex 100
        r append foo baz
        assert_range [r ttl foo] 90 100
        assert_equal barbaz [r get foo]
    }

    test {APPEND fuzzing} {
        foreach type {binary alpha compr} {
            set buf {}
            r del x
            for {set i 0} {$i < 200} {incr i} {
                set bin [randstring 0 10 $type]
                append buf $bin
                r append x $bin
            }
            assert_equal $buf [r get x]
        }
    }

    test {APPEND against a key of another type} {
        with_list_key foo {
            assert_error {WRONGTYPE*} {r append foo bar}
        }
    }

    test {SETRANGE on a missing key} {
        r del mykey
        assert_equal 3 [r setrange mykey 0 foo]
        assert_equal foo [r get mykey]
        r del mykey
        assert_equal 0 [r setrange mykey 0 {}]
        assert_equal 0 [r exists mykey]
        r del mykey
        assert_equal 4 [r setrange mykey 1 foo]
        assert_equal "\x00foo" [r get mykey]
    }

    test {SETRANGE on a string} {
        r set mykey foo
        assert_equal 3 [r setrange mykey 0 b]
        assert_equal boo [r get mykey]
        r set mykey foo
        assert_equal 3 [r setrange mykey 0 {}]
        assert_equal foo [r get mykey]
        r set mykey foo
        assert_equal 3 [r setrange mykey 1 b]
        assert_equal fbo [r get mykey]
        r set mykey foo
        assert_equal 7 [r setrange mykey 4 bar]
        assert_equal "foo\x00bar" [r get mykey]
        r set mykey foo
        assert_equal 6 [r setrange mykey 1 "\r\n\x00\x00\xff"]
        assert_equal "f\r\n\x00\x00\xff" [r get mykey]
    }

    test {SETRANGE on an int value changes the encoding only when it writes} {
        r set mykey 1234
        assert_encoding int mykey
        assert_equal 4 [r setrange mykey 0 {}]
        assert_encoding int mykey
        assert_equal 4 [r setrange mykey 0 2]
        assert_encoding raw mykey
        assert_equal 2234 [r get mykey]
        r set mykey 1234
        assert_equal 6 [r setrange mykey 5 2]
        assert_equal "1234\x002" [r get mykey]
    }

    test {SETRANGE keeps the TTL} {
        r set mykey hello ex 100
        r setrange mykey 0 j
        assert_equal jello [r get mykey]
        assert_range [r ttl mykey] 90 100
    }

    test {SETRANGE with a bad offset} {
        r set mykey hello
        assert_error {ERR offset is out of range} {r setrange mykey -1 world}
        assert_error {ERR value is not an integer or out of range} {r setrange mykey x world}
        assert_error {ERR value is not an integer or out of range} {r setrange mykey 9223372036854775808 world}
        assert_error {ERR string exceeds maximum allowed size (proto-max-bulk-len)} {r setrange mykey [expr {512*1024*1024-4}] world}
        assert_error {ERR string exceeds maximum allowed size (proto-max-bulk-len)} {r setrange mykey 9223372036854775807 A}
        r del mykey
        assert_error {ERR string exceeds maximum allowed size (proto-max-bulk-len)} {r setrange mykey [expr {512*1024*1024-4}] world}
        assert_equal 0 [r exists mykey]
        # An empty value never checks the size.
        assert_equal 0 [r setrange mykey [expr {512*1024*1024-4}] {}]
    }

    test {SETRANGE against a key of another type} {
        with_list_key mykey {
            assert_error {WRONGTYPE*} {r setrange mykey 0 bar}
            assert_error {WRONGTYPE*} {r setrange mykey 0 {}}
        }
    }

    test {APPEND and SETRANGE respect a smaller proto-max-bulk-len} {
        set old [lindex [r config get proto-max-bulk-len] 1]
        r config set proto-max-bulk-len 1mb
        set limit [expr {1024*1024}]
        set rc [catch {
            r del big
            assert_equal $limit [r setrange big [expr {$limit - 1}] x]
            assert_error {ERR string exceeds maximum allowed size*} {r setrange big $limit x}
            assert_error {ERR string exceeds maximum allowed size*} {r append big y}
            assert_equal $limit [r append big {}]
            r del big
            assert_error {ERR string exceeds maximum allowed size*} {r setrange big $limit x}
            assert_equal 0 [r exists big]
            r set big x
            assert_equal $limit [r setrange big [expr {$limit - 3}] abc]
        } err opts]
        r config set proto-max-bulk-len $old
        r del big
        if {$rc} { return -options $opts $err }
    }

    test {GETRANGE on a missing key} {
        r del mykey
        assert_equal {} [r getrange mykey 0 -1]
    }

    test {GETRANGE on a string} {
        r set mykey "Hello World"
        assert_equal Hell [r getrange mykey 0 3]
        assert_equal "Hello World" [r getrange mykey 0 -1]
        assert_equal orld [r getrange mykey -4 -1]
        assert_equal {} [r getrange mykey 5 3]
        assert_equal " World" [r getrange mykey 5 5000]
        assert_equal "Hello World" [r getrange mykey -5000 10000]
        assert_equal {} [r getrange mykey -1 -5]
        assert_equal H [r getrange mykey -100 0]
        assert_equal {} [r getrange mykey 100 200]
        assert_equal {} [r getrange mykey 100 1]
        assert_equal d [r getrange mykey -1 -1]
    }

    test {GETRANGE on an int value} {
        r set mykey 1234
        assert_equal 123 [r getrange mykey 0 2]
        assert_equal 1234 [r getrange mykey 0 -1]
        assert_equal 234 [r getrange mykey -3 -1]
        assert_equal {} [r getrange mykey 5 3]
        assert_equal 4 [r getrange mykey 3 5000]
        assert_equal 1234 [r getrange mykey -5000 10000]
    }

    test {GETRANGE on an empty string} {
        r set mykey {}
        assert_equal {} [r getrange mykey 0 -1]
        assert_equal {} [r getrange mykey 0 0]
        assert_equal {} [r getrange mykey -1 -1]
    }

    test {GETRANGE with huge ranges} {
        r set foo bar
        assert_equal bar [r getrange foo 0 4294967297]
        assert_equal bar [r getrange foo -9223372036854775808 9223372036854775807]
        assert_equal {} [r getrange foo 9223372036854775807 -9223372036854775808]
        assert_error {ERR value is not an integer or out of range} {r getrange foo 0 9223372036854775808}
        assert_error {ERR value is not an integer or out of range} {r getrange foo x 1}
        r del nokey
        assert_error {ERR value is not an integer or out of range} {r getrange nokey 0 y}
    }

    test {GETRANGE fuzzing} {
        for {set i 0} {$i < 300} {incr i} {
            set bin [randstring 0 300 binary]
            r set bin $bin
            set start [expr {[randomInt 400] - 200}]
            set end [expr {[randomInt 400] - 200}]
            set len [string length $bin]
            # The same rules written in Tcl.
            set s $start; set e $end
            if {$s < 0 && $e < 0 && $s > $e} {
                set expected {}
            } else {
                if {$s < 0} {set s [expr {$len + $s}]}
                if {$e < 0} {set e [expr {$len + $e}]}
                if {$s < 0} {set s 0}
                if {$e < 0} {set e 0}
                if {$e >= $len} {set e [expr {$len - 1}]}
                set expected [expr {($len == 0 || $s > $e) ? "" : [string range $bin $s $e]}]
            }
            assert_equal $expected [r getrange bin $start $end] "start $start end $end len $len"
        }
    }

    test {GETRANGE against a key of another type} {
        with_list_key lkey1 {
            assert_error {WRONGTYPE Operation against a key holding the wrong kind of value*} {r getrange lkey1 0 -1}
        }
    }

    test {SUBSTR is GETRANGE} {
        r set key abcde
        assert_equal a [r substr key 0 0]
        assert_equal abcd [r substr key 0 3]
        assert_equal bcde [r substr key -4 -1]
        assert_equal {} [r substr key -1 -3]
        assert_equal {} [r substr key 7 8]
        r del nokey
        assert_equal {} [r substr nokey 0 1]
        assert_error {ERR value is not an integer or out of range} {r substr key 0 x}
    }

    set rna1 {CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG}
    set rna2 {ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT}
    set rnalcs {ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT}

    test {LCS of two strings} {
        r set virus1{t} $rna1
        r set virus2{t} $rna2
        assert_equal $rnalcs [r lcs virus1{t} virus2{t}]
        assert_equal [string length $rnalcs] [r lcs virus1{t} virus2{t} LEN]
    }

    test {LCS IDX lists the matching runs from the end} {
        set reply [r lcs virus1{t} virus2{t} IDX]
        assert_equal [string length $rnalcs] [dict get $reply len]
        assert_equal {{{238 238} {239 239}} {{236 236} {238 238}} {{229 230} {236 237}} {{224 224} {235 235}} {{1 222} {13 234}}} [dict get $reply matches]
    }

    test {LCS IDX WITHMATCHLEN and MINMATCHLEN} {
        assert_equal {{{238 238} {239 239} 1} {{236 236} {238 238} 1} {{229 230} {236 237} 2} {{224 224} {235 235} 1} {{1 222} {13 234} 222}} \
            [dict get [r lcs virus1{t} virus2{t} IDX WITHMATCHLEN] matches]
        assert_equal {{{1 222} {13 234} 222}} [dict get [r lcs virus1{t} virus2{t} IDX WITHMATCHLEN MINMATCHLEN 5] matches]
        assert_equal {{{1 222} {13 234}}} [dict get [r lcs virus1{t} virus2{t} idx minmatchlen 3] matches]
        # A negative minimum counts as zero.
        assert_equal 5 [llength [dict get [r lcs virus1{t} virus2{t} IDX MINMATCHLEN -3] matches]]
    }

    test {LCS small cases and exact reply bytes} {
        r set a{t} ohmytext
        r set b{t} mynewtext
        assert_equal mytext [r lcs a{t} b{t}]
        assert_equal 6 [r lcs a{t} b{t} len]
        assert_equal {matches {{{4 7} {5 8}} {{2 3} {0 1}}} len 6} [r lcs a{t} b{t} idx]
        assert_equal {matches {{{4 7} {5 8} 4}} len 6} [r lcs a{t} b{t} idx minmatchlen 4 withmatchlen]
        r readraw 1
        set lines [list [r lcs a{t} b{t} idx minmatchlen 4]]
        for {set i 0} {$i < 13} {incr i} { lappend lines [r read] }
        r readraw 0
        assert_equal {*4 $7 matches *1 *2 *2 :4 :7 *2 :5 :8 $3 len :6} [join $lines " "]
    }

    test {LCS with missing keys and empty strings} {
        r del nokey1{t} nokey2{t}
        r set a{t} hello
        assert_equal {} [r lcs a{t} nokey1{t}]
        assert_equal 0 [r lcs nokey1{t} nokey2{t} len]
        assert_equal {matches {} len 0} [r lcs nokey1{t} a{t} idx]
        r set e{t} {}
        assert_equal {} [r lcs e{t} a{t}]
        assert_equal {matches {} len 0} [r lcs a{t} e{t} idx withmatchlen]
    }

    test {LCS of int values and binary strings} {
        r set a{t} 12345
        r set b{t} 9245
        assert_equal 245 [r lcs a{t} b{t}]
        r set a{t} "a\x00b\r\nc"
        r set b{t} "\x00\r\nxc"
        assert_equal "\x00\r\nc" [r lcs a{t} b{t}]
        r set a{t} same
        assert_equal {matches {{{0 3} {0 3} 4}} len 4} [r lcs a{t} a{t} idx withmatchlen]
    }

    test {LCS option errors} {
        r set a{t} foo
        r set b{t} bar
        assert_error {ERR If you want both the length and indexes, please just use IDX.} {r lcs a{t} b{t} len idx}
        assert_error {ERR syntax error} {r lcs a{t} b{t} foo}
        assert_error {ERR syntax error} {r lcs a{t} b{t} minmatchlen}
        assert_error {ERR value is not an integer or out of range} {r lcs a{t} b{t} minmatchlen x}
        assert_error {ERR wrong number of arguments for 'lcs' command} {r lcs a{t}}
    }

    test {LCS against a key of another type} {
        with_list_key l{t} {
            r set a{t} foo
            assert_error {ERR The specified keys must contain string values} {r lcs a{t} l{t}}
            assert_error {ERR The specified keys must contain string values} {r lcs l{t} a{t} len}
        }
    }

    test {LCS refuses a table larger than proto-max-bulk-len} {
        set old [lindex [r config get proto-max-bulk-len] 1]
        r config set proto-max-bulk-len 1mb
        set rc [catch {
            # 601 * 601 cells of 4 bytes is more than 1MB; 400 * 400 is not.
            r set a{t} [string repeat a 600]
            r set b{t} [string repeat ab 300]
            assert_error {ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len} {r lcs a{t} b{t}}
            assert_error {ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len} {r lcs a{t} b{t} len}
            r set a{t} [string repeat a 400]
            r set b{t} [string repeat ab 200]
            assert_equal 200 [r lcs a{t} b{t} len]
        } err opts]
        r config set proto-max-bulk-len $old
        if {$rc} { return -options $opts $err }
    }

    test {Keyspace changes are visible to WATCH} {
        r set w{t} 1
        set rd [valkey_client]
        if {[catch {$rd watch w{t}} err]} {
            $rd close
            skip "no WATCH yet: $err"
        }
        r append w{t} 2
        $rd multi
        $rd get w{t}
        assert_equal {} [$rd exec]
        $rd close
    }
}
