# DUMP / RESTORE: round trips of every type and encoding, the options of RESTORE and its
# errors, payloads from Debian's redis-server 7.0, and a fuzzer feeding corrupted payloads
# to RESTORE (the server must answer, never crash).

source [file join $::th_root tests helpers rdb_data.tcl]

# The payload with its last 10 bytes (RDB version, CRC64) replaced.
proc dump_with_footer {payload version} {
    set body [string range $payload 0 end-10]
    return "$body[binary format s $version][string repeat \x00 8]"
}

start_server {tags {"dump"}} {
    test {DUMP of a missing key is nil} {
        assert_equal {} [r dump no-such-key]
    }

    test {DUMP payload layout: type, value, RDB version 11, CRC64} {
        r set foo bar
        set p [r dump foo]
        # string type, 6-bit length 3, "bar", version 11 little endian, 8 checksum bytes
        assert_equal "\x00\x03bar\x0b\x00" [string range $p 0 end-8]
        assert_equal 15 [string length $p]
    }

    test {DUMP / RESTORE round trip of every type and encoding} {
        r flushall
        rdb_populate r
        set problems {}
        foreach key [lsort [r keys *]] {
            set enc [r object encoding $key]
            set value [rdb_value r $key]
            set payload [r dump $key]
            r restore "copy:$key" 0 $payload
            if {[r object encoding "copy:$key"] ne $enc} {
                lappend problems "$key: encoding $enc became [r object encoding copy:$key]"
            }
            if {[rdb_value r "copy:$key"] ne $value} {
                lappend problems "$key: value differs"
            }
            # Hashtables iterate in an order that depends on their history.
            if {$enc ne "hashtable" && [r dump "copy:$key"] ne $payload} {
                lappend problems "$key: the copy dumps to other bytes"
            }
        }
        assert_equal {} $problems
    }

    test {RESTORE keeps no TTL with ttl 0, sets a relative one otherwise} {
        r set foo bar
        set p [r dump foo]
        r del foo
        r restore foo 0 $p
        assert_equal -1 [r ttl foo]
        r restore foo 3000 $p replace
        assert_range [r pttl foo] 2000 3000
        assert_equal bar [r get foo]
    }

    test {RESTORE with ABSTTL takes a unix time in milliseconds} {
        r set foo bar
        set p [r dump foo]
        set when [expr {[clock milliseconds] + 100000}]
        r restore foo $when $p replace absttl
        assert_range [r pexpiretime foo] [expr {$when - 1}] [expr {$when + 1}]
    }

    test {RESTORE with an ABSTTL in the past deletes the key instead} {
        r set foo bar
        set p [r dump foo]
        assert_equal OK [r restore foo 1000 $p replace absttl]
        assert_equal 0 [r exists foo]
        assert_equal OK [r restore foo 1000 $p absttl]
        assert_equal 0 [r exists foo]
    }

    test {RESTORE BUSYKEY and REPLACE} {
        r set foo bar
        set p [r dump foo]
        assert_error "BUSYKEY Target key name already exists." {r restore foo 0 $p}
        r set foo other
        assert_equal OK [r restore foo 0 $p replace]
        assert_equal bar [r get foo]
    }

    test {RESTORE argument errors} {
        r set foo bar
        set p [r dump foo]
        r del foo
        assert_error "ERR Invalid TTL value, must be >= 0" {r restore foo -1 $p}
        assert_error "ERR value is not an integer or out of range" {r restore foo abc $p}
        assert_error "ERR Invalid IDLETIME value, must be >= 0" {r restore foo 0 $p idletime -1}
        assert_error "ERR Invalid FREQ value, must be >= 0 and <= 255" {r restore foo 0 $p freq 256}
        assert_error "ERR Invalid FREQ value, must be >= 0 and <= 255" {r restore foo 0 $p freq -1}
        assert_error "ERR syntax error" {r restore foo 0 $p idletime 10 freq 10}
        assert_error "ERR syntax error" {r restore foo 0 $p freq 10 idletime 10}
        assert_error "ERR syntax error" {r restore foo 0 $p idletime}
        assert_error "ERR syntax error" {r restore foo 0 $p nosuchoption}
        assert_error "*wrong number of arguments*" {r restore foo 0}
        assert_equal 0 [r exists foo]
    }

    test {RESTORE refuses a wrong checksum, a short payload, and newer RDB versions} {
        r set foo bar
        set p [r dump foo]
        set bad [string replace $p 2 2 X]
        assert_error "ERR DUMP payload version or checksum are wrong" {r restore k1 0 $bad}
        assert_error "ERR DUMP payload version or checksum are wrong" {r restore k1 0 "short"}
        assert_error "ERR DUMP payload version or checksum are wrong" {r restore k1 0 ""}
        r debug set-skip-checksum-validation 1
        assert_error "ERR DUMP payload version or checksum are wrong" {r restore k1 0 [dump_with_footer $p 12]}
        assert_error "ERR DUMP payload version or checksum are wrong" {r restore k1 0 [dump_with_footer $p 79]}
        # Older versions are fine (the checksum is not looked at now).
        assert_equal OK [r restore k1 0 [dump_with_footer $p 9]]
        assert_equal bar [r get k1]
        r debug set-skip-checksum-validation 0
        assert_equal 0 [r exists k2]
    }

    test {RESTORE of a payload that is not a value: Bad data format} {
        r del k1
        r debug set-skip-checksum-validation 1
        # truncated string, unknown type, a list with a zero-length node, a stream
        foreach body [list "\x00\x05hel" "\x08\x01a" "\x12\x01\x02\x00" "\x0f\x00" "\x04\x00"] {
            assert_error "ERR Bad data format" {r restore k1 0 "$body\x0b\x00[string repeat \x00 8]"}
        }
        r debug set-skip-checksum-validation 0
        assert_equal 0 [r exists k1]
    }

    test {RESTORE IDLETIME sets the idle time (LRU policies)} {
        r set foo bar
        set p [r dump foo]
        r restore foo 0 $p replace idletime 1000
        assert_range [r object idletime foo] 1000 1002
    }

    test {RESTORE FREQ sets the LFU counter (LFU policies)} {
        r config set maxmemory-policy allkeys-lfu
        r set foo bar
        set p [r dump foo]
        r restore foo 0 $p replace freq 100
        assert_equal 100 [r object freq foo]
        r config set maxmemory-policy noeviction
    }

    test {RESTORE sends the restore keyspace event} {
        r config set notify-keyspace-events KEA
        set rd [valkey_deferring_client]
        $rd psubscribe __keyevent@*__:restore
        $rd read
        r set foo bar
        r restore foo 0 [r dump foo] replace
        assert_match {*__keyevent@*__:restore foo} [$rd read]
        $rd close
        r config set notify-keyspace-events ""
    }

    test {DEBUG OBJECT reports the RDB size of the value} {
        r set foo [string repeat a 10]
        assert_match {*serializedlength:11*} [r debug object foo]
        r rpush biglist {*}[lrepeat 100 hello]
        set len [regexp -inline {serializedlength:[0-9]+} [r debug object biglist]]
        assert_match {serializedlength:*} $len
        assert_morethan [lindex [split $len :] 1] 0
    }
}

start_server {tags {"dump"}} {
    test {RESTORE sanitizes payloads deeply with sanitize-dump-payload yes} {
        r config set sanitize-dump-payload yes
        set before [s dump_payload_sanitizations]
        r hset h a 1 b 2
        set p [r dump h]
        r restore h2 0 $p
        assert_morethan [s dump_payload_sanitizations] $before
        # A listpack hash whose two fields are the same is refused when checked deeply.
        r debug set-skip-checksum-validation 1
        set dup [string map {"\x81b" "\x81a"} $p]
        assert_error "ERR Bad data format" {r restore h3 0 $dup}
        r config set sanitize-dump-payload no
        r debug set-skip-checksum-validation 0
    }

    # With sanitize-dump-payload no, the structure of every blob is still checked (only
    # duplicates are not), so both settings must survive the same abuse.
    test {RESTORE fuzzer: corrupted payloads of every type never crash the server} {
        r debug set-skip-checksum-validation 1
        r flushall
        rdb_populate r
        set payloads {}
        foreach key [r keys *] {
            lappend payloads [r dump $key]
        }
        set seed [clock clicks]
        expr {srand($seed)}
        set restored 0
        for {set round 0} {$round < 1000} {incr round} {
            if {$round % 100 == 0} {
                r config set sanitize-dump-payload [expr {$round % 200 == 0 ? "yes" : "no"}]
            }
            set p [lindex $payloads [expr {int(rand() * [llength $payloads])}]]
            set body [string range $p 0 end-10]
            set n [string length $body]
            # Flip one to four bytes, or cut the payload short.
            if {rand() < 0.15} {
                set body [string range $body 0 [expr {int(rand() * $n)}]]
            } else {
                set flips [expr {1 + int(rand() * 4)}]
                for {set f 0} {$f < $flips} {incr f} {
                    set pos [expr {int(rand() * $n)}]
                    set byte [binary format c [expr {int(rand() * 256)}]]
                    set body [string replace $body $pos $pos $byte]
                }
            }
            set payload "$body[string range $p end-9 end]"
            if {[catch {r restore fuzz 0 $payload replace} err]} {
                if {![string match "ERR Bad data format" $err]} {
                    fail "unexpected error (seed $seed): $err"
                }
                continue
            }
            incr restored
            # Use what was accepted: read it back, then copy it through DUMP again.
            rdb_value r fuzz
            r restore fuzz2 0 [r dump fuzz] replace
        }
        assert_equal PONG [r ping]
        r debug set-skip-checksum-validation 0
        r config set sanitize-dump-payload no
    }
}

# Payloads written by Debian's redis-server 7.0 (RDB version 10) restore here; ours
# (version 11) are refused by it, as by any server older than 7.2.
set ::dump_redis_binary [lindex [auto_execok redis-server] 0]
if {$::dump_redis_binary eq ""} {
    test {DUMP payloads of redis-server 7.0 restore here} {
        skip "redis-server is not installed"
    }
} else {
    start_server [list tags {"dump external:skip"} binary $::dump_redis_binary overrides {save ""}] {
        start_server {tags {"dump"}} {
            test {DUMP payloads of redis-server 7.0 restore here, values and TTLs intact} {
                set redis [srv -1 client]
                $redis flushall
                rdb_populate $redis 0
                set problems {}
                foreach key [lsort [$redis keys *]] {
                    set ttl [$redis pttl $key]
                    r restore $key [expr {$ttl > 0 ? $ttl : 0}] [$redis dump $key]
                    if {[rdb_value r $key] ne [rdb_value $redis $key]} {
                        lappend problems "$key: values differ"
                    }
                    if {($ttl > 0) != ([r pttl $key] > 0)} {
                        lappend problems "$key: TTL lost"
                    }
                }
                assert_equal {} $problems
                # Small non-integer sets are listpacks here (Valkey 8), hashtables in 7.0.
                assert_encoding listpack set:listpack
                assert_encoding intset set:intset
                assert_encoding skiplist zset:skiplist
            }

            test {redis-server 7.0 refuses our payloads (RDB version 11)} {
                set redis [srv -1 client]
                r set foo bar
                assert_error "ERR DUMP payload version or checksum are wrong" {$redis restore fromus 0 [r dump foo]}
            }
        }
    }
}
