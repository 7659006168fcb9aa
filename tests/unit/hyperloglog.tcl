# HyperLogLog: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
#
# HLLs are plain strings that move between our server and Valkey/Redis (RDB, DUMP/RESTORE,
# replication), so besides behaviour these tests check the bytes: the header layout and
# cache bit here, and at the end GET of the same HLLs on Debian's redis-server (7.0, whose
# HLL format and algorithms are Valkey 8's) must match ours byte for byte.

# Elements "prefix0" .. "prefix<n-1>" added with PFADD calls of `chunk` elements,
# pipelined; returns how many calls answered 1.
proc hll_add_many {key n {prefix e} {chunk 100} {client r}} {
    set rd [valkey_deferring_client]
    $rd select 9
    $rd read
    set calls 0
    for {set i 0} {$i < $n} {incr i $chunk} {
        set args {}
        for {set j $i} {$j < $i + $chunk && $j < $n} {incr j} {
            lappend args "$prefix$j"
        }
        $rd pfadd $key {*}$args
        incr calls
    }
    set ones 0
    for {set i 0} {$i < $calls} {incr i} {
        incr ones [$rd read]
    }
    $rd close
    return $ones
}

proc hll_within {card expected pct} {
    set err [expr {abs($card - $expected)}]
    expr {$err <= $expected * $pct / 100.0}
}

start_server {tags {"hll"}} {
    test {PFSELFTEST passes} {
        r pfselftest
    } {OK}

    test {PFADD without elements creates an empty HLL} {
        r del hll
        assert_equal 1 [r pfadd hll]
        assert_equal 1 [r exists hll]
        assert_equal string [r type hll]
        assert_equal 0 [r pfcount hll]
        assert_equal 0 [r pfadd hll]
    }

    test {A new HLL is sparse: the header, then one XZERO covering every register} {
        r del hll
        r pfadd hll
        set v [r get hll]
        assert_equal 18 [string length $v]
        assert_equal HYLL [string range $v 0 3]
        # encoding 1 (sparse), three unused bytes, cache stale (the creation is a change)
        assert_equal "\x01\x00\x00\x00" [string range $v 4 7]
        assert_equal "\x00\x00\x00\x00\x00\x00\x00\x80" [string range $v 8 15]
        assert_equal "\x7f\xff" [string range $v 16 17]
        assert_equal {Z:16384} [r pfdebug decode hll]
        assert_equal sparse [r pfdebug encoding hll]
    }

    test {PFADD returns 1 when a register changes, 0 otherwise} {
        r del hll
        assert_equal 1 [r pfadd hll a b c]
        assert_equal 0 [r pfadd hll a]
        assert_equal 0 [r pfadd hll a b c]
        assert_equal 1 [r pfadd hll d]
        assert_equal 4 [r pfcount hll]
    }

    test {PFADD accepts the empty string and binary elements} {
        r del hll
        assert_equal 1 [r pfadd hll ""]
        assert_equal 0 [r pfadd hll ""]
        assert_equal 1 [r pfadd hll "\x00\xff\r\n"]
        assert_equal 1 [r pfadd hll [string repeat x 1000]]
        assert_equal 3 [r pfcount hll]
    }

    test {PFCOUNT of a missing key is 0 and creates nothing} {
        r del nokey
        assert_equal 0 [r pfcount nokey]
        assert_equal 0 [r exists nokey]
    }

    test {PFCOUNT caches the cardinality in the header; PFADD marks it stale} {
        r del hll
        r pfadd hll a b c
        assert_equal "\x80" [r getrange hll 15 15]
        set dirty [s rdb_changes_since_last_save]
        assert_equal 3 [r pfcount hll]
        assert_equal "\x03\x00\x00\x00\x00\x00\x00\x00" [r getrange hll 8 15]
        # refreshing the cache is a change of the string
        assert_equal [expr {$dirty + 1}] [s rdb_changes_since_last_save]
        assert_equal 3 [r pfcount hll]
        assert_equal [expr {$dirty + 1}] [s rdb_changes_since_last_save]
        r pfadd hll a b c
        assert_equal "\x00" [r getrange hll 15 15]
        r pfadd hll 1 2 3
        assert_equal "\x80" [r getrange hll 15 15]
        assert_equal 6 [r pfcount hll]
    }

    test {PFCOUNT answers from a valid cache without looking at the registers} {
        r del hll
        r pfadd hll a b c
        r pfcount hll
        # a forged cache value is returned as is
        r setrange hll 8 "\x2a"
        assert_equal 42 [r pfcount hll]
    }

    test {PFCOUNT is accurate within the standard error (100k elements)} {
        r del hll
        hll_add_many hll 100000 el 500
        set card [r pfcount hll]
        # standard error is 0.81%; allow five of them
        assert {[hll_within $card 100000 4]}
        assert_equal dense [r pfdebug encoding hll]
    }

    test {PFCOUNT is accurate at small and medium cardinalities} {
        foreach n {10 100 1000 5000 20000} {
            r del hll
            hll_add_many hll $n "s$n-" 100
            set card [r pfcount hll]
            assert {[hll_within $card $n 5]}
        }
    }

    test {Sparse HLLs turn dense past hll-sparse-max-bytes} {
        r config set hll-sparse-max-bytes 3000
        r del hll
        r pfadd hll
        set i 0
        while {[r pfdebug encoding hll] eq "sparse"} {
            set before [r strlen hll]
            assert_lessthan_equal $before 3000
            r pfadd hll "p$i"
            incr i
        }
        assert_equal 12304 [r strlen hll]
        # it went dense at the insertion that would have grown it past the limit
        assert_lessthan [expr {3000 - $before}] 4
        assert_equal HYLL [r getrange hll 0 3]
        assert_equal "\x00" [r getrange hll 4 4]
        assert {[hll_within [r pfcount hll] $i 5]}
    }

    test {A lower hll-sparse-max-bytes promotes earlier} {
        r config set hll-sparse-max-bytes 30
        r del hll
        r pfadd hll a b c d e f g h i j k
        assert_equal dense [r pfdebug encoding hll]
        assert_equal 30 [lindex [r config get hll-sparse-max-bytes] 1]
        r config set hll-sparse-max-bytes 3000
        r del hll
        r pfadd hll a b c d e f g h i j k
        assert_equal sparse [r pfdebug encoding hll]
    }

    test {hll-sparse-max-bytes takes memory units and rejects junk} {
        r config set hll-sparse-max-bytes 2kb
        assert_equal 2048 [lindex [r config get hll-sparse-max-bytes] 1]
        assert_error "*hll-sparse-max-bytes*" {r config set hll-sparse-max-bytes -1}
        assert_error "*hll-sparse-max-bytes*" {r config set hll-sparse-max-bytes abc}
        r config set hll-sparse-max-bytes 3000
    }

    test {Sparse and dense copies fed the same elements agree} {
        r del sp de
        hll_add_many sp 500 q 50
        hll_add_many de 500 q 50
        r pfdebug todense de
        assert_equal sparse [r pfdebug encoding sp]
        assert_equal [r pfcount sp] [r pfcount de]
        assert_equal [r pfdebug getreg sp] [r pfdebug getreg de]
    }

    test {PFDEBUG ENCODING, DECODE, TODENSE, GETREG} {
        r del hll
        r pfadd hll a b c
        assert_equal sparse [r pfdebug encoding hll]
        set decoded [r pfdebug decode hll]
        assert_match {*v:*} $decoded
        # the runs cover every register
        set total 0
        foreach op $decoded {
            regexp {^[zZv]:(?:\d+,)?(\d+)$} $op -> len
            incr total $len
        }
        assert_equal 16384 $total
        set regs [r pfdebug getreg hll]
        assert_equal 16384 [llength $regs]
        assert_equal 3 [llength [lsearch -all -not $regs 0]]
        # GETREG converted it
        assert_equal dense [r pfdebug encoding hll]
        assert_equal 0 [r pfdebug todense hll]
        assert_error "*HLL encoding is not sparse*" {r pfdebug decode hll}
        r del hll2
        r pfadd hll2 x
        assert_equal 1 [r pfdebug todense hll2]
        assert_equal 12304 [r strlen hll2]
    }

    test {PFDEBUG errors} {
        r del nokey
        assert_error "*The specified key does not exist*" {r pfdebug encoding nokey}
        assert_error "*The specified key does not exist*" {r pfdebug nosuch nokey}
        r pfadd hll a
        assert_error "*Unknown PFDEBUG subcommand 'nosuch'*" {r pfdebug nosuch hll}
        assert_error "*wrong number of arguments*" {r pfdebug encoding}
    }

    test {PFMERGE computes the union} {
        r del h1 h2 h3 dst
        r pfadd h1 a b c d
        r pfadd h2 c d e f
        r pfadd h3 f g h
        assert_equal OK [r pfmerge dst h1 h2 h3]
        assert_equal "\x80" [r getrange dst 15 15]
        assert_equal 8 [r pfcount dst]
        assert_equal 8 [r pfcount h1 h2 h3]
    }

    test {PFMERGE includes the destination itself} {
        r del h1 dst
        r pfadd dst x y
        r pfadd h1 a b
        r pfmerge dst h1
        assert_equal 4 [r pfcount dst]
        r pfmerge dst
        assert_equal 4 [r pfcount dst]
    }

    test {PFMERGE of missing keys creates an empty destination} {
        r del dst nokey1 nokey2
        assert_equal OK [r pfmerge dst nokey1 nokey2]
        assert_equal 1 [r exists dst]
        assert_equal 0 [r pfcount dst]
        assert_equal sparse [r pfdebug encoding dst]
        r del dst
        assert_equal OK [r pfmerge dst]
        assert_equal 0 [r pfcount dst]
    }

    test {PFMERGE of sparse and dense mixes} {
        r config set hll-sparse-max-bytes 3000
        r del s1 s2 d1 d2 m1 m2 m3
        hll_add_many s1 100 a 50
        hll_add_many s2 150 b 50
        hll_add_many d1 5000 a 500
        hll_add_many d2 8000 c 500
        assert_equal sparse [r pfdebug encoding s1]
        assert_equal dense [r pfdebug encoding d1]
        # sparse + sparse stays sparse
        r pfmerge m1 s1 s2
        assert_equal sparse [r pfdebug encoding m1]
        assert {[hll_within [r pfcount m1] 250 5]}
        # any dense input makes a dense destination
        r pfmerge m2 s1 d1
        assert_equal dense [r pfdebug encoding m2]
        assert {[hll_within [r pfcount m2] 5000 5]}
        r pfmerge m3 s2 d1 d2
        assert {[hll_within [r pfcount m3] 13150 5]}
        # a sparse destination merged with a dense source turns dense
        r pfmerge s1 d2
        assert_equal dense [r pfdebug encoding s1]
        # the union is the same however it is computed
        assert_equal [r pfcount s2 d1 d2] [r pfcount m3]
        # register-wise maximum
        set a [r pfdebug getreg d1]
        set b [r pfdebug getreg d2]
        set m {}
        foreach x $a y $b {lappend m [expr {max($x, $y)}]}
        r del m4
        r pfmerge m4 d1 d2
        assert_equal $m [r pfdebug getreg m4]
    }

    test {PFCOUNT of several keys writes nothing} {
        r del h1 h2
        r pfadd h1 a b c
        r pfadd h2 d e
        set before [r get h1]
        set dirty [s rdb_changes_since_last_save]
        assert_equal 5 [r pfcount h1 h2 nokey]
        assert_equal $before [r get h1]
        assert_equal $dirty [s rdb_changes_since_last_save]
    }

    test {PFADD, PFCOUNT, PFMERGE, PFDEBUG reject non-HLL strings} {
        r del foo h1
        r set foo bar
        r pfadd h1 a
        set err "WRONGTYPE Key is not a valid HyperLogLog string value."
        assert_error $err {r pfadd foo a}
        assert_error $err {r pfcount foo}
        assert_error $err {r pfcount h1 foo}
        assert_error $err {r pfmerge h1 foo}
        assert_error $err {r pfmerge foo h1}
        assert_error $err {r pfdebug encoding foo}
        # integers and short strings are not HLLs either
        r set foo 12345
        assert_error $err {r pfcount foo}
        r set foo HYLL
        assert_error $err {r pfcount foo}
    }

    test {Corrupted sparse HLL: extra bytes at the tail} {
        r del hll
        r pfadd hll a b c
        r append hll "hello"
        assert_error "*INVALIDOBJ*" {r pfcount hll}
        assert_error "*INVALIDOBJ*" {r pfcount hll hll}
        assert_error "*INVALIDOBJ*" {r pfmerge dst hll}
        assert_error "*INVALIDOBJ*" {r pfdebug todense hll}
    }

    test {Corrupted sparse HLL: too few registers} {
        r del hll
        r pfadd hll a
        r setrange hll 16 "\x00"
        assert_error "INVALIDOBJ Corrupted HLL object detected" {r pfcount hll}
    }

    test {Corrupted HLL: broken magic, unknown encoding, wrong dense length} {
        r del hll
        r pfadd hll a b c
        r setrange hll 0 "0123"
        assert_error "*WRONGTYPE*" {r pfcount hll}
        r del hll
        r pfadd hll a b c
        r setrange hll 4 "x"
        assert_error "*WRONGTYPE*" {r pfcount hll}
        r del hll
        r pfadd hll a b c
        # claims to be dense but has the sparse length
        r setrange hll 4 "\x00"
        assert_error "*WRONGTYPE*" {r pfcount hll}
        assert_error "*WRONGTYPE*" {r pfadd hll x}
    }

    test {Fuzzing sparse and dense HLLs: corruption is reported, never a crash} {
        r del hll
        hll_add_many hll 30 f 30
        set sparse [r get hll]
        hll_add_many hll 3000 f 1000
        set dense [r get hll]
        for {set round 0} {$round < 300} {incr round} {
            set v [expr {$round % 20 ? $sparse : $dense}]
            set len [string length $v]
            r set hll $v
            for {set k 0} {$k < 1 + [randomInt 5]} {incr k} {
                set off [expr {16 + [randomInt [expr {$len - 16}]]}]
                r setrange hll $off [binary format c [randomInt 256]]
            }
            catch {r pfcount hll}
            catch {r pfadd hll a b c d e f g}
            catch {r pfcount hll hll}
            catch {r pfmerge dst hll}
            catch {r pfdebug decode hll}
            catch {r pfdebug todense hll}
            catch {r append hll [binary format c [randomInt 256]]}
            catch {r pfcount hll}
        }
        assert_equal PONG [r ping]
    }

    test {PFADD and PFMERGE emit pfadd keyspace events} {
        r config set notify-keyspace-events KEA
        set rd [valkey_deferring_client]
        $rd psubscribe "__keyevent@*__:pf*"
        $rd read
        r del h1 dst
        r pfadd h1 a
        r pfadd h1 a
        r pfmerge dst h1
        r pfcount dst
        assert_equal {pmessage __keyevent@*__:pf* __keyevent@9__:pfadd h1} [$rd read]
        assert_equal {pmessage __keyevent@*__:pf* __keyevent@9__:pfadd dst} [$rd read]
        $rd close
        r config set notify-keyspace-events ""
    }

    test {Refreshing the PFCOUNT cache touches WATCHed keys} {
        r del hll
        r pfadd hll a
        r watch hll
        assert_equal 1 [r pfcount hll]
        r multi
        r ping
        assert_equal {} [r exec]
        # a valid cache changes nothing
        r watch hll
        assert_equal 1 [r pfcount hll]
        r multi
        r ping
        assert_equal {PONG} [r exec]
    }

    test {OBJECT ENCODING of an HLL is raw} {
        r del hll
        r pfadd hll a
        assert_encoding raw hll
    }
}

# --- byte compatibility with redis-server ---------------------------------------------------

set hll_redis_binary [lindex [auto_execok redis-server] 0]
if {$::opt(external)} {
    test {HLL bytes match redis-server} {
        skip "not run against an external server"
    }
} elseif {$hll_redis_binary eq ""} {
    test {HLL bytes match redis-server} {
        skip "redis-server is not installed (apt-get install redis-server)"
    }
} else {
    start_server {tags {"hll conformance"}} {
        start_server [list tags {} binary $hll_redis_binary overrides {save ""}] {
            # Runs the same commands on both servers (redis is level 0, ours -1) and
            # checks that the replies are equal; returns ours.
            proc both {args} {
                set theirs [r {*}$args]
                set ours [r -1 {*}$args]
                if {$ours ne $theirs} {
                    fail "[string range $args 0 80]: ours [string range $ours 0 80], redis [string range $theirs 0 80]"
                }
                return $ours
            }
            proc both_add {key elements} {
                set theirs [r pfadd $key {*}$elements]
                set ours [r -1 pfadd $key {*}$elements]
                assert_equal $theirs $ours
            }

            test {HLL bytes match redis-server: PFADD a b c} {
                both del hll
                both pfadd hll a b c
                both get hll
                both pfcount hll
                both get hll
                both pfadd empty
                both get empty
            }

            test {HLL bytes match redis-server: sparse and dense after many elements} {
                foreach n {1 10 100 400 1000 3000 20000} {
                    both del "h$n"
                    set batch {}
                    for {set i 0} {$i < $n} {incr i} {
                        lappend batch "x$n:$i"
                        if {[llength $batch] == 1 + ($i % 37)} {
                            both_add "h$n" $batch
                            set batch {}
                        }
                    }
                    if {[llength $batch]} {both_add "h$n" $batch}
                    both get "h$n"
                    both pfcount "h$n"
                    both get "h$n"
                    both pfdebug encoding "h$n"
                }
            }

            test {HLL bytes match redis-server: PFMERGE} {
                both pfmerge m1 h10 h100
                both get m1
                both pfmerge m2 h100 h400 h1000
                both get m2
                both pfmerge m3 h10 h20000
                both get m3
                both pfmerge h1 h400
                both get h1
                both pfcount h10 h100 h3000 h20000
                both pfcount m1
                both pfcount m2
                both pfcount m3
            }

            test {HLL bytes match redis-server: other hll-sparse-max-bytes} {
                foreach limit {0 40 200 1000} {
                    both config set hll-sparse-max-bytes $limit
                    both del h
                    for {set i 0} {$i < 60} {incr i 3} {
                        both_add h [list "y$i" "y[expr {$i + 1}]" "y[expr {$i + 2}]"]
                        both get h
                    }
                    both pfmerge hm h10 h100
                    both get hm
                    both del hm
                }
                both config set hll-sparse-max-bytes 3000
            }

            test {HLL bytes match redis-server: PFDEBUG} {
                both pfdebug decode h100
                both pfdebug decode m1
                both pfdebug todense h100
                both get h100
                both pfdebug getreg h10
                both get h10
            }
        }
    }
}
