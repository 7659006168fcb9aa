# Differential tests of the data types against redis-server: the command generators, the
# reply comparison and the runner. Used by tests/unit/differential-types.tcl (read its
# header for what is compared and how) and by tests/helpers/differential_replay.tcl (replays
# and shrinks a failing sequence against running servers). Needs the harness's valkey.tcl
# (::valkey::encode_request) and conformance.tcl (raw_connect, raw_call, visible).

namespace eval ::dt {
    variable rng 1
    variable count 2000
    if {[info exists ::env(DIFF_TYPES_COMMANDS)]} {
        set count $::env(DIFF_TYPES_COMMANDS)
    }
    variable seed
    if {[info exists ::env(DIFF_TYPES_SEED)]} {
        set seed $::env(DIFF_TYPES_SEED)
    } else {
        set seed [expr {[clock microseconds] % 1000000000}]
    }
    variable types {strings lists hashes sets zsets hll geo}
    # Connections of the running sequence.
    variable ours
    variable redis
}

# --- random numbers (Park-Miller; reproducible, independent of Tcl's rand()) ---------------

proc ::dt::srand {seed} {
    variable rng
    set rng [expr {($seed % 2147483646) + 1}]
}

proc ::dt::int {n} {
    variable rng
    set rng [expr {($rng * 16807) % 2147483647}]
    return [expr {$rng % $n}]
}

proc ::dt::pick {list} {
    return [lindex $list [int [llength $list]]]
}

proc ::dt::chance {percent} {
    return [expr {[int 100] < $percent}]
}

# Picks a name from {name weight name weight ...}.
proc ::dt::weighted {choices} {
    set total 0
    foreach {name weight} $choices {
        incr total $weight
    }
    set r [int $total]
    foreach {name weight} $choices {
        if {$r < $weight} {
            return $name
        }
        incr r -$weight
    }
}

proc ::dt::some {n generator} {
    set out {}
    for {set i 0} {$i < $n} {incr i} {
        lappend out {*}[uplevel 1 $generator]
    }
    return $out
}

# --- value pools ---------------------------------------------------------------------------

# A member / element / field / value: small words (collide), integers (intsets), boundary
# and non-canonical integers, binary, lengths around the value limits (16 small, 64
# default), long and very long strings, and a pool of 200 words (grows counts past limits).
proc ::dt::member {} {
    set r [int 1000]
    if {$r < 330} { return [pick {a b c d e f g h}] }
    if {$r < 480} { return [expr {[int 24] - 4}] }
    if {$r < 530} { return [pick {9223372036854775807 -9223372036854775808 4294967296 -2147483648 2147483647 1000000 65535 65536}] }
    if {$r < 570} { return [pick {01 +1 1.0 " 1" -0 0x10 1e3 9223372036854775808 -9223372036854775809}] }
    if {$r < 630} { return [pick [list "" "\x00" "a\x00b" "\r\n" "x\r\ny" "\xff\xfe" "*" {[a]} "\\"]] }
    if {$r < 710} {
        set n [pick {15 16 17 63 64 65}]
        return [string repeat [pick {x y}] [expr {$n - 1}]][int 3]
    }
    if {$r < 740} { return [string repeat z [expr {100 + [int 200]}]] }
    if {$r < 745} { return [string repeat Q 9000][int 2] }
    return "w[int 200]"
}

proc ::dt::members {max} {
    return [some [expr {1 + [int $max]}] {list [member]}]
}

# Indexes: mostly small, some beyond the length, boundaries, and garbage.
proc ::dt::index {} {
    set r [int 100]
    if {$r < 70} { return [expr {[int 14] - 7}] }
    if {$r < 85} { return [expr {[int 300] - 150}] }
    if {$r < 95} { return [pick {9223372036854775807 -9223372036854775808 2147483648 -2147483649}] }
    return [pick {x 1.5 "" " 1" 9223372036854775808 -9223372036854775809}]
}

# Counts of pops and the like (never a negative count that a server would honour hugely).
proc ::dt::count {} {
    set r [int 100]
    if {$r < 60} { return [int 6] }
    if {$r < 75} { return [int 200] }
    if {$r < 85} { return [pick {0 -1 -5}] }
    if {$r < 93} { return [pick {9223372036854775807 2147483648 4294967296}] }
    return [pick {x -9223372036854775808 1.5 ""}]
}

# Counts of SRANDMEMBER / HRANDFIELD / ZRANDMEMBER (negative: with repetitions).
proc ::dt::rcount {} {
    set r [int 100]
    if {$r < 45} { return [int 8] }
    if {$r < 70} { return [expr {-1 - [int 10]}] }
    if {$r < 80} { return [int 300] }
    if {$r < 85} { return [expr {-[int 300]}] }
    if {$r < 95} { return [pick {9223372036854775807 2147483648 0}] }
    return [pick {-9223372036854775808 x 1.5}]
}

proc ::dt::score {} {
    set r [int 100]
    if {$r < 40} { return [expr {[int 11] - 5}] }
    if {$r < 55} { return [pick {0.1 0.2 0.3 1.5 -2.5 3.14159 0.30000000000000004 1e-5 123456789.123 1E2}] }
    if {$r < 65} { return [pick {inf -inf +inf 1e300 -1e300 1.7976931348623157e308 5e-324 -0 2.2250738585072014e-308}] }
    if {$r < 70} { return [pick {nan abc "" " 1" 1e400 0x10 1,5 "1 " -nan}] }
    return "[expr {[int 2001] - 1000}].[int 100]"
}

proc ::dt::score_bound {} {
    set r [int 100]
    if {$r < 25} { return [pick {-inf +inf inf}] }
    if {$r < 60} { return [expr {[int 11] - 5}] }
    if {$r < 80} { return "([expr {[int 11] - 5}]" }
    if {$r < 88} { return [pick {0.1 1.5 -2.5 (0.3 123.5}] }
    if {$r < 95} { return [pick {(inf (-inf (1.5 1e300 (+inf}] }
    return [pick {x ( (x "" nan}]
}

proc ::dt::lex_bound {} {
    return [pick [list - + {[a} {(a} {[b} {(c} {[h} {(e} {[w1} {(w150} {[} ( "\[\x00" a "" {[zzz} {[0} {(1}]]
}

proc ::dt::timeout {} {
    return [pick {0 0 0 0 0.01 1 -1 x 1e400}]
}

# --- steps ---------------------------------------------------------------------------------
#
# A step is {mode norm argv}: mode "cmd" (one command), "multi" (MULTI, the command, EXEC:
# blocking commands then never block), "spop" (see the header), "scan" (norm is the element
# kind: set, pairs or zpairs; argv has no cursor: the cursor goes after the key). norm is a
# command prefix applied to each reply tree before comparing.

proc ::dt::cmd {norm args} { return [list [list cmd $norm $args]] }
proc ::dt::exact {args} { return [list [list cmd exact $args]] }
proc ::dt::multi {norm args} { return [list [list multi $norm $args]] }

# Commands on any key: deletions, type changes, renames, copies, expiries, DEBUG RELOAD.
proc ::dt::gen_generic {keys} {
    set k [pick $keys]
    set k2 [pick $keys]
    # Renames and copies only between keys of the type: a string copied over a key of the
    # type would make most commands on it WRONGTYPE for a long time.
    set own [lsearch -all -inline -not -exact $keys [lindex $keys end]]
    set c [pick $own]
    set c2 [pick $own]
    # The last key of the pool (one pick in ten) holds another type: WRONGTYPE.
    switch -exact -- [weighted {
        del 4 unlink 2 exists 2 type 2 setstr 1 rename 1 renamenx 1 copy 2 foreign 3 expire 2
        reload 1
    }] {
        unlink { return [exact UNLINK $k $k2] }
        expire {
            # Far expiries (no TTL is read: it would depend on timing), PERSIST, and expiries
            # in the past (the key goes at once).
            switch -exact -- [int 4] {
                0 { return [exact EXPIRE $c 100000 {*}[pick {{} NX XX GT LT}]] }
                1 { return [exact PERSIST $c] }
                2 { return [exact PEXPIRE $c [pick {0 -1}]] }
                3 { return [exact EXPIREAT $c [pick {1 4000000000}]] }
            }
        }
        reload {
            # Save and load the dataset again: every encoding goes through RDB and back.
            return [exact DEBUG RELOAD]
        }
        foreign {
            # The key of another type again (a DEL may have let the type's commands take it).
            set foreign [lindex $keys end]
            if {$foreign eq "lst"} {
                return [concat [exact DEL lst] [exact RPUSH lst a b]]
            }
            return [exact SET $foreign hello]
        }
        del { return [exact DEL $k] }
        exists { return [exact EXISTS $k $k2] }
        type { return [exact TYPE $k] }
        setstr {
            # Overwrites a value of the type (freeing it); gone again two steps later.
            return [concat [exact SET $c [member]] [exact GET $c] [exact DEL $c]]
        }
        rename { return [exact RENAME $c $c2] }
        renamenx { return [exact RENAMENX $c $c2] }
        copy {
            if {[chance 50]} {
                return [exact COPY $c $c2 REPLACE]
            }
            return [exact COPY $c $c2]
        }
    }
}

# --- strings -------------------------------------------------------------------------------

proc ::dt::svalue {} {
    set r [int 100]
    if {$r < 35} { return [member] }
    if {$r < 60} { return [pick {0 1 -1 7 100 9223372036854775807 -9223372036854775808 9223372036854775806 -9223372036854775807 01 " 1" 1e3}] }
    if {$r < 70} { return [pick {1.5 0.1 -0 1e10 3.0e3 inf 1e308 "1 " 10.5 -5e-3 1.7976931348623157e308}] }
    return "v[int 20]"
}

proc ::dt::gen_strings {} {
    set keys {k1 k2 k3 k1 k2 k3 k1 k2 k3 lst}
    set k [pick $keys]
    set k2 [pick $keys]
    switch -exact -- [weighted {
        set 10 get 8 getset 2 getdel 2 getex 2 setnx 2 mset 2 msetnx 1 mget 3 append 5
        strlen 3 getrange 4 setrange 3 incr 4 incrbyfloat 3 setbit 3 getbit 2 bitcount 3
        bitpos 3 bitop 2 bitfield 2 lcs 1 list 1 generic 4
    }] {
        set {
            set argv [list SET $k [svalue]]
            foreach {option p} {NX 10 XX 10 GET 20 KEEPTTL 5} {
                if {[chance $p]} {
                    lappend argv $option
                }
            }
            if {[chance 10]} {
                # Expiries far in the future, in the past, or invalid: never one that could
                # fall due during the run (the servers would not agree on when).
                lappend argv {*}[pick {{EX 100000} {EX 100000000000} {EX 0} {EX -1} {PX 100000000}
                    {PX x} {EXAT 1000} {EXAT 4000000000} {PXAT 1}}]
            }
            return [exact {*}$argv]
        }
        get { return [exact GET $k] }
        getset { return [exact GETSET $k [svalue]] }
        getdel { return [exact GETDEL $k] }
        getex { return [exact GETEX $k {*}[pick {{} PERSIST {EX 1000} {PX 0} {EX x} BAD}]] }
        setnx { return [exact SETNX $k [svalue]] }
        mset { return [exact MSET $k [svalue] $k2 [svalue]] }
        msetnx { return [exact MSETNX $k [svalue] $k2 [svalue]] }
        mget { return [exact MGET $k $k2 missing] }
        append { return [exact APPEND $k [svalue]] }
        strlen { return [exact STRLEN $k] }
        getrange { return [exact [pick {GETRANGE GETRANGE SUBSTR}] $k [index] [index]] }
        setrange {
            set offset [pick [list [int 20] [int 100] [int 3000] -1 536870912 x]]
            return [exact SETRANGE $k $offset [pick [list [svalue] ""]]]
        }
        incr {
            set op [pick {INCR DECR INCRBY DECRBY}]
            if {$op in {INCR DECR}} {
                return [exact $op $k]
            }
            return [exact $op $k [pick {1 -1 5 100 9223372036854775807 -9223372036854775808 x 1.5 ""}]]
        }
        incrbyfloat { return [exact INCRBYFLOAT $k [pick {0.1 -0.1 1.5 1e10 inf nan abc 5.0e3 -5 0 1e308}]] }
        setbit { return [exact SETBIT $k [pick [list [int 64] [int 2000] 4294967296 -1 x]] [pick {0 1 1 2}]] }
        getbit { return [exact GETBIT $k [pick [list [int 64] [int 2000] -1 x]]] }
        bitcount {
            switch -exact -- [int 3] {
                0 { return [exact BITCOUNT $k] }
                1 { return [exact BITCOUNT $k [index] [index]] }
                2 { return [exact BITCOUNT $k [index] [index] [pick {BYTE BIT bit BAD}]] }
            }
        }
        bitpos {
            set argv [list BITPOS $k [pick {0 1 1 2}]]
            set n [int 4]
            if {$n >= 1} { lappend argv [index] }
            if {$n >= 2} { lappend argv [index] }
            if {$n >= 3} { lappend argv [pick {BYTE BIT BAD}] }
            return [exact {*}$argv]
        }
        bitop {
            set op [pick {AND OR XOR NOT BAD}]
            set n [expr {$op eq "NOT" ? 1 : 1 + [int 3]}]
            return [exact BITOP $op $k {*}[some $n {list [pick $keys]}]]
        }
        bitfield {
            set argv [list [pick {BITFIELD BITFIELD BITFIELD_RO}] $k]
            for {set i [int 3]} {$i >= 0} {incr i -1} {
                set type [pick {u8 i8 u1 i64 u63 u64 i16 x}]
                set offset [pick [list [int 40] "#[int 4]" -1]]
                switch -exact -- [int 4] {
                    0 { lappend argv GET $type $offset }
                    1 { lappend argv SET $type $offset [pick {0 1 255 -1 300 9223372036854775807}] }
                    2 { lappend argv INCRBY $type $offset [pick {1 -1 100 -300 x}] }
                    3 { lappend argv OVERFLOW [pick {WRAP SAT FAIL BAD}] }
                }
            }
            return [exact {*}$argv]
        }
        lcs {
            # On keys of their own, with values of at most 100 bytes: LCS allocates a table
            # of length1 x length2 cells.
            set options [pick {{} LEN IDX {IDX MINMATCHLEN 2} {IDX WITHMATCHLEN} {LEN IDX} BAD}]
            return [concat [exact SET lcs1 [string range [svalue][svalue] 0 99]] \
                        [exact SET lcs2 [string range [svalue][svalue] 0 99]] \
                        [exact LCS lcs1 lcs2 {*}$options]]
        }
        list { return [exact RPUSH lst [member]] }
        generic { return [gen_generic $keys] }
    }
}

# --- lists ---------------------------------------------------------------------------------

proc ::dt::gen_lists {} {
    set keys {l1 l2 l3 l1 l2 l3 l1 l2 l3 str}
    set k [pick $keys]
    set k2 [pick $keys]
    set end {LEFT RIGHT}
    switch -exact -- [weighted {
        push 14 pushx 3 pop 8 llen 3 lindex 5 lset 4 linsert 5 lrange 8 ltrim 2 lrem 4 lpos 6
        lmove 4 rpoplpush 2 lmpop 4 block 4 sort 2 bulk 2 generic 4
    }] {
        push { return [exact [pick {LPUSH RPUSH}] $k {*}[members 5]] }
        pushx { return [exact [pick {LPUSHX RPUSHX}] $k {*}[members 3]] }
        pop {
            if {[chance 50]} {
                return [exact [pick {LPOP RPOP}] $k]
            }
            return [exact [pick {LPOP RPOP}] $k [count]]
        }
        llen { return [exact LLEN $k] }
        lindex { return [exact LINDEX $k [index]] }
        lset { return [exact LSET $k [index] [member]] }
        linsert { return [exact LINSERT $k [pick {BEFORE AFTER before BAD}] [member] [member]] }
        lrange { return [exact LRANGE $k [index] [index]] }
        ltrim { return [exact LTRIM $k [index] [index]] }
        lrem { return [exact LREM $k [pick {0 1 2 -1 -2 5 x -9223372036854775807}] [member]] }
        lpos {
            set argv [list LPOS $k [member]]
            foreach option {RANK COUNT MAXLEN} values {
                {1 2 -1 -2 0 3 -9223372036854775808 9223372036854775807 x}
                {0 1 2 5 -1 x}
                {0 1 3 10 -1 x}
            } {
                if {[chance 35]} {
                    lappend argv $option [pick $values]
                }
            }
            if {[chance 3]} {
                lappend argv BAD
            }
            return [exact {*}$argv]
        }
        lmove { return [exact LMOVE $k $k2 [pick $end] [pick $end]] }
        rpoplpush { return [exact RPOPLPUSH $k $k2] }
        lmpop {
            set n [pick {1 1 2 3 0 -1}]
            set argv [list LMPOP $n {*}[some [expr {max($n, 1)}] {list [pick $keys]}] [pick {LEFT RIGHT BAD}]]
            if {[chance 40]} {
                lappend argv COUNT [count]
            }
            return [exact {*}$argv]
        }
        block {
            # Inside MULTI a blocking command never blocks: it answers as if the timeout expired.
            switch -exact -- [int 5] {
                0 { return [multi exact BLPOP $k $k2 [timeout]] }
                1 { return [multi exact BRPOP $k [timeout]] }
                2 { return [multi exact BLMOVE $k $k2 [pick $end] [pick $end] [timeout]] }
                3 { return [multi exact BRPOPLPUSH $k $k2 [timeout]] }
                4 {
                    set argv [list BLMPOP [timeout] 2 $k $k2 [pick $end]]
                    if {[chance 50]} {
                        lappend argv COUNT [count]
                    }
                    return [multi exact {*}$argv]
                }
            }
        }
        sort {
            set argv [list SORT $k ALPHA]
            if {[chance 50]} { lappend argv DESC }
            if {[chance 30]} { lappend argv LIMIT [index] [index] }
            return [exact {*}$argv]
        }
        bulk {
            # Around the listpack limits: 4 entries (small config), 8 kB (default config).
            set n [pick {3 4 5 8 9 127 128 129 600}]
            set w [pick {4 20 100}]
            set elements {}
            for {set i 0} {$i < $n} {incr i} {
                lappend elements [format "%0${w}d" $i]
            }
            return [exact [pick {LPUSH RPUSH}] $k {*}$elements]
        }
        generic { return [gen_generic $keys] }
    }
}

# --- hashes --------------------------------------------------------------------------------

proc ::dt::field {} {
    set r [int 100]
    if {$r < 60} { return "f[int 10]" }
    if {$r < 75} { return "w[int 200]" }
    return [member]
}

proc ::dt::gen_hashes {} {
    set keys {h1 h2 h3 h1 h2 h3 h1 h2 h3 str}
    set k [pick $keys]
    switch -exact -- [weighted {
        hset 14 hsetnx 3 hmset 2 hget 8 hmget 4 hdel 6 hlen 3 hstrlen 3 hexists 3 hincrby 4
        hincrbyfloat 3 hkeys 2 hvals 2 hgetall 3 hrandfield 4 hscan 2 bulk 1 generic 4
    }] {
        hset {
            set argv [list HSET $k]
            for {set i [int 4]} {$i >= 0} {incr i -1} {
                lappend argv [field] [member]
            }
            if {[chance 3]} {
                lappend argv [field]
            }
            return [exact {*}$argv]
        }
        hsetnx { return [exact HSETNX $k [field] [member]] }
        hmset { return [exact HMSET $k [field] [member] [field] [member]] }
        hget { return [exact HGET $k [field]] }
        hmget { return [exact HMGET $k {*}[some [expr {1 + [int 4]}] {list [field]}]] }
        hdel { return [exact HDEL $k {*}[some [expr {1 + [int 3]}] {list [field]}]] }
        hlen { return [exact HLEN $k] }
        hstrlen { return [exact HSTRLEN $k [field]] }
        hexists { return [exact HEXISTS $k [field]] }
        hincrby {
            return [exact HINCRBY $k [pick [list [field] n1 n2]] [pick {1 -1 5 100 9223372036854775807 -9223372036854775808 x 1.5 ""}]]
        }
        hincrbyfloat {
            return [exact HINCRBYFLOAT $k [pick [list [field] n1 n3]] [pick {0.1 -0.1 1.5 1e10 inf nan abc 5.0e3 -5 0 1e308}]]
        }
        hkeys { return [cmd sorted HKEYS $k] }
        hvals { return [cmd sorted HVALS $k] }
        hgetall { return [cmd pairs HGETALL $k] }
        hrandfield {
            switch -exact -- [int 3] {
                0 { return [cmd pick1 HRANDFIELD $k] }
                1 {
                    set n [rcount]
                    return [cmd [list random $n] HRANDFIELD $k $n]
                }
                2 {
                    set n [rcount]
                    return [cmd [list randpairs $n] HRANDFIELD $k $n WITHVALUES]
                }
            }
        }
        hscan { return [list [list scan pairs [concat HSCAN $k [scan_options]]]] }
        bulk {
            set n [pick {3 4 5 127 128 129 511 512 513 600}]
            set argv [list HSET $k]
            for {set i 0} {$i < $n} {incr i} {
                lappend argv "b$i" $i
            }
            return [exact {*}$argv]
        }
        generic { return [gen_generic $keys] }
    }
}

proc ::dt::scan_options {} {
    set options {}
    if {[chance 40]} {
        lappend options MATCH [pick {* f* *1 w1* {[ab]} {*\**} a b}]
    }
    if {[chance 40]} {
        lappend options COUNT [pick {1 2 5 10 100 0 -1 x}]
    }
    if {[chance 3]} {
        lappend options BAD
    }
    return $options
}

# --- sets ----------------------------------------------------------------------------------

proc ::dt::gen_sets {} {
    set keys {s1 s2 s3 s1 s2 s3 s1 s2 s3 str}
    set k [pick $keys]
    set k2 [pick $keys]
    switch -exact -- [weighted {
        sadd 14 srem 6 scard 3 sismember 4 smismember 3 smembers 3 spop 4 srandmember 5
        smove 3 combine 5 store 3 sintercard 2 sscan 2 bulk 2 generic 4
    }] {
        sadd {
            if {$k eq "s3" && [chance 85]} {
                # s3 holds mostly integers: an intset, till a string or its size converts it.
                return [exact SADD $k {*}[some [expr {1 + [int 5]}] {list [pick [list [expr {[int 40] - 10}] [int 100000] 9223372036854775807 -9223372036854775808 4294967296]]}]]
            }
            return [exact SADD $k {*}[members 5]]
        }
        srem { return [exact SREM $k {*}[members 3]] }
        scard { return [exact SCARD $k] }
        sismember { return [exact SISMEMBER $k [member]] }
        smismember { return [exact SMISMEMBER $k {*}[members 4]] }
        smembers { return [cmd sorted SMEMBERS $k] }
        spop {
            if {[chance 40]} {
                return [list [list spop exact [list SPOP $k]]]
            }
            return [list [list spop exact [list SPOP $k [count]]]]
        }
        srandmember {
            if {[chance 30]} {
                return [cmd pick1 SRANDMEMBER $k]
            }
            set n [rcount]
            return [cmd [list random $n] SRANDMEMBER $k $n]
        }
        smove { return [exact SMOVE $k $k2 [member]] }
        combine {
            return [cmd sorted [pick {SINTER SUNION SDIFF}] {*}[some [expr {1 + [int 3]}] {list [pick $keys]}]]
        }
        store {
            return [exact [pick {SINTERSTORE SUNIONSTORE SDIFFSTORE}] $k {*}[some [expr {1 + [int 3]}] {list [pick $keys]}]]
        }
        sintercard {
            set n [pick {1 2 2 3 0 -1}]
            set argv [list SINTERCARD $n {*}[some [expr {max($n, 1)}] {list [pick $keys]}]]
            if {[chance 40]} {
                lappend argv LIMIT [pick {0 1 2 5 -1 x}]
            }
            return [exact {*}$argv]
        }
        sscan { return [list [list scan set [concat SSCAN $k [scan_options]]]] }
        bulk {
            # Around the intset limit (4 small, 512 default) and the listpack limit (4, 128).
            set n [pick {3 4 5 127 128 129 511 512 513}]
            set base [pick {0 -100 1000000 w}]
            set elements {}
            for {set i 0} {$i < $n} {incr i} {
                if {$base eq "w"} {
                    lappend elements "w$i"
                } else {
                    lappend elements [expr {$base + $i}]
                }
            }
            return [exact SADD $k {*}$elements]
        }
        generic { return [gen_generic $keys] }
    }
}

# --- sorted sets ---------------------------------------------------------------------------

proc ::dt::zpairs {max} {
    set out {}
    for {set i [int $max]} {$i >= 0} {incr i -1} {
        lappend out [score] [member]
    }
    return $out
}

proc ::dt::gen_zsets {} {
    set keys {z1 z2 z3 z1 z2 z3 z1 z2 z3 str}
    set sources {z1 z2 z3 z1 z2 z3 st str missing}
    set k [pick $keys]
    set k2 [pick $keys]
    # Lexicographic ranges are unspecified when scores differ (their documentation): they go
    # to zl, whose members all have score 0 (written only by ZADD 0, removals, BYLEX ops),
    # or to the string sx (WRONGTYPE), keys that the generic commands never touch.
    set lk [pick {zl zl zl zl zl sx missing}]
    switch -exact -- [weighted {
        zaddlex 6 zadd 16 zincrby 3 zrem 5 zcard 2 zcount 3 zlexcount 2 zscore 4 zmscore 2 zrank 3
        zrange 10 zrangeold 5 zrangestore 2 zremrange 3 zpop 4 zmpop 3 block 3 combine 4
        store 3 zintercard 2 zrandmember 3 zscan 2 sadd 1 bulk 2 generic 4
    }] {
        zadd {
            set argv [list ZADD $k]
            foreach {option p} {NX 8 XX 8 GT 8 LT 8 CH 15 INCR 10} {
                if {[chance $p]} {
                    lappend argv $option
                }
            }
            set pairs [zpairs 3]
            if {[chance 3]} {
                lappend pairs [score]
            }
            lappend argv {*}$pairs
            if {"INCR" in $argv} {
                return [cmd scores {*}$argv]
            }
            return [exact {*}$argv]
        }
        zincrby { return [cmd scores ZINCRBY $k [score] [member]] }
        zrem { return [exact ZREM $k {*}[members 3]] }
        zcard { return [exact ZCARD $k] }
        zcount { return [exact ZCOUNT $k [score_bound] [score_bound]] }
        zaddlex {
            set argv [list ZADD zl]
            foreach {option p} {NX 5 XX 5 CH 10} {
                if {[chance $p]} {
                    lappend argv $option
                }
            }
            for {set i [int 4]} {$i >= 0} {incr i -1} {
                lappend argv 0 [member]
            }
            return [exact {*}$argv]
        }
        zlexcount { return [exact ZLEXCOUNT $lk [lex_bound] [lex_bound]] }
        zscore { return [cmd scores ZSCORE $k [member]] }
        zmscore { return [cmd scores ZMSCORE $k {*}[members 4]] }
        zrank { return [exact [pick {ZRANK ZREVRANK}] $k [member]] }
        zrange {
            set by [pick {index index BYSCORE BYLEX}]
            switch -exact -- $by {
                index { set argv [list ZRANGE $k [index] [index]] }
                BYSCORE { set argv [list ZRANGE $k [score_bound] [score_bound] BYSCORE] }
                BYLEX { set argv [list ZRANGE $lk [lex_bound] [lex_bound] BYLEX] }
            }
            if {[chance 30]} { lappend argv REV }
            if {[chance 30]} { lappend argv LIMIT [index] [pick {-1 0 1 2 5 9223372036854775807}] }
            if {[chance 40]} {
                lappend argv WITHSCORES
                return [cmd withscores {*}$argv]
            }
            return [exact {*}$argv]
        }
        zrangeold {
            switch -exact -- [int 5] {
                0 { set argv [list ZREVRANGE $k [index] [index]] }
                1 { set argv [list ZRANGEBYSCORE $k [score_bound] [score_bound]] }
                2 { set argv [list ZREVRANGEBYSCORE $k [score_bound] [score_bound]] }
                3 { set argv [list ZRANGEBYLEX $lk [lex_bound] [lex_bound]] }
                4 { set argv [list ZREVRANGEBYLEX $lk [lex_bound] [lex_bound]] }
            }
            set lex [string match *LEX [lindex $argv 0]]
            if {!$lex && [chance 40]} {
                lappend argv WITHSCORES
            }
            if {[lindex $argv 0] ne "ZREVRANGE" && [chance 30]} {
                lappend argv LIMIT [index] [pick {-1 0 1 2 5}]
            }
            if {"WITHSCORES" in $argv} {
                return [cmd withscores {*}$argv]
            }
            return [exact {*}$argv]
        }
        zrangestore {
            set by [pick {index BYSCORE BYLEX}]
            switch -exact -- $by {
                index { set argv [list ZRANGESTORE $k2 $k [index] [index]] }
                BYSCORE { set argv [list ZRANGESTORE $k2 $k [score_bound] [score_bound] BYSCORE] }
                BYLEX { set argv [list ZRANGESTORE $k2 $lk [lex_bound] [lex_bound] BYLEX] }
            }
            if {[chance 30]} { lappend argv REV }
            if {$by ne "index" && [chance 30]} { lappend argv LIMIT [index] [pick {-1 0 1 2 5}] }
            return [exact {*}$argv]
        }
        zremrange {
            switch -exact -- [int 3] {
                0 { return [exact ZREMRANGEBYRANK $k [index] [index]] }
                1 { return [exact ZREMRANGEBYSCORE $k [score_bound] [score_bound]] }
                2 { return [exact ZREMRANGEBYLEX $lk [lex_bound] [lex_bound]] }
            }
        }
        zpop {
            if {[chance 40]} {
                return [cmd withscores [pick {ZPOPMIN ZPOPMAX}] $k]
            }
            return [cmd withscores [pick {ZPOPMIN ZPOPMAX}] $k [count]]
        }
        zmpop {
            set n [pick {1 1 2 3 0 -1}]
            set argv [list ZMPOP $n {*}[some [expr {max($n, 1)}] {list [pick $keys]}] [pick {MIN MAX BAD}]]
            if {[chance 40]} {
                lappend argv COUNT [count]
            }
            return [cmd zmpop {*}$argv]
        }
        block {
            switch -exact -- [int 3] {
                0 { return [multi bzpop BZPOPMIN $k $k2 [timeout]] }
                1 { return [multi bzpop BZPOPMAX $k [timeout]] }
                2 {
                    set argv [list BZMPOP [timeout] 2 $k $k2 [pick {MIN MAX}]]
                    if {[chance 50]} {
                        lappend argv COUNT [count]
                    }
                    return [multi zmpop {*}$argv]
                }
            }
        }
        combine {
            set op [pick {ZUNION ZINTER ZDIFF}]
            set n [pick {1 2 2 3 0}]
            set argv [list $op $n {*}[some [expr {max($n, 1)}] {list [pick $sources]}]]
            if {[chance 30]} {
                lappend argv WEIGHTS {*}[some [expr {max($n, 1)}] {list [pick {1 2 0 -1 0.5 inf -inf x}]}]
            }
            if {[chance 30]} {
                lappend argv AGGREGATE [pick {SUM MIN MAX BAD}]
            }
            if {[chance 50]} {
                lappend argv WITHSCORES
                return [cmd withscores {*}$argv]
            }
            return [exact {*}$argv]
        }
        store {
            set op [pick {ZUNIONSTORE ZINTERSTORE ZDIFFSTORE}]
            set n [pick {1 2 2 3 0}]
            set argv [list $op $k $n {*}[some [expr {max($n, 1)}] {list [pick $sources]}]]
            if {[chance 30]} {
                lappend argv WEIGHTS {*}[some [expr {max($n, 1)}] {list [pick {1 2 0 -1 0.5 inf -inf x}]}]
            }
            if {[chance 30]} {
                lappend argv AGGREGATE [pick {SUM MIN MAX BAD}]
            }
            return [exact {*}$argv]
        }
        zintercard {
            set n [pick {1 2 2 3 0 -1}]
            set argv [list ZINTERCARD $n {*}[some [expr {max($n, 1)}] {list [pick $sources]}]]
            if {[chance 40]} {
                lappend argv LIMIT [pick {0 1 2 5 -1 x}]
            }
            return [exact {*}$argv]
        }
        zrandmember {
            switch -exact -- [int 3] {
                0 { return [cmd pick1 ZRANDMEMBER $k] }
                1 {
                    set n [rcount]
                    return [cmd [list random $n] ZRANDMEMBER $k $n]
                }
                2 {
                    set n [rcount]
                    return [cmd [list randzpairs $n] ZRANDMEMBER $k $n WITHSCORES]
                }
            }
        }
        zscan { return [list [list scan zpairs [concat ZSCAN $k [scan_options]]]] }
        sadd { return [exact SADD st {*}[members 4]] }
        bulk {
            set n [pick {3 4 5 127 128 129 200}]
            set argv [list ZADD $k]
            for {set i 0} {$i < $n} {incr i} {
                lappend argv [expr {$i % 7}].5 "b$i"
            }
            return [exact {*}$argv]
        }
        generic { return [gen_generic $keys] }
    }
}

# --- HyperLogLog ---------------------------------------------------------------------------

proc ::dt::gen_hll {} {
    set keys {p1 p2 p3 p1 p2 p3 p1 p2 p3 str}
    set k [pick $keys]
    switch -exact -- [weighted {
        pfadd 12 pfcount 8 pfmerge 4 get 4 bulk 3 corrupt 1 generic 3
    }] {
        pfadd { return [exact PFADD $k {*}[some [int 5] {list [member]}]] }
        pfcount { return [exact PFCOUNT {*}[some [expr {1 + [int 3]}] {list [pick $keys]}]] }
        pfmerge { return [exact PFMERGE $k {*}[some [int 3] {list [pick $keys]}]] }
        get {
            # The representation (sparse or dense, cached cardinality) is a byte format fact.
            return [exact GET $k]
        }
        bulk {
            set n [pick {50 200 1000 3000}]
            set base [int 100000]
            set argv [list PFADD $k]
            for {set i 0} {$i < $n} {incr i} {
                lappend argv "e[expr {$base + $i}]"
            }
            return [exact {*}$argv]
        }
        corrupt {
            # A damaged or fake HLL, read and written once, then deleted.
            switch -exact -- [int 3] {
                0 { set damage [exact APPEND $k [pick [list x "\x00\x00" [string repeat \xff 20]]]] }
                1 { set damage [exact SETRANGE $k [pick {0 3 4 5 16 20}] [pick [list x "\x01" "\xff\xff"]]] }
                2 { set damage [exact SET $k [pick [list HYLL "HYLL\x00" "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"]]] }
            }
            return [concat $damage [exact PFCOUNT $k] [exact PFADD $k [member] [member]] \
                        [exact PFMERGE $k [pick $keys]] [exact GET $k] [exact DEL $k]]
        }
        generic { return [gen_generic $keys] }
    }
}

# --- geo -----------------------------------------------------------------------------------

proc ::dt::lonlat {} {
    if {[chance 3]} {
        return [pick {{181 10} {10 86} {-180 -85.05112878} {180 85.05112878} {x 10} {0 0}}]
    }
    return [list [format %.6f [expr {10 + [int 6000000] / 1000000.0}]] \
                [format %.6f [expr {36 + [int 3000000] / 1000000.0}]]]
}

proc ::dt::place {} {
    if {[chance 70]} {
        return "m[int 30]"
    }
    return [member]
}

proc ::dt::geo_shape {} {
    if {[chance 50]} {
        return [list BYRADIUS [pick {0 1 10 50 100 200 500 -1 x}] [pick {km km m mi ft KM bad}]]
    }
    return [list BYBOX [pick {1 50 100 300 0}] [pick {1 50 100 300}] [pick {km m mi ft}]]
}

# Options after the shape; returns {options sorted?}.
proc ::dt::geo_options {{with 1}} {
    set options {}
    set sorted 0
    if {[chance 50]} {
        lappend options [pick {ASC DESC}]
        set sorted 1
    }
    if {[chance 40]} {
        lappend options COUNT [pick {1 2 3 10 0 -1}]
        if {[chance 40]} {
            lappend options ANY
        } else {
            # COUNT without ANY sorts the results nearest first.
            set sorted 1
        }
    }
    if {$with} {
        foreach option {WITHCOORD WITHDIST WITHHASH} {
            if {[chance 30]} {
                lappend options $option
            }
        }
    }
    return [list $options $sorted]
}

proc ::dt::gen_geo {} {
    set keys {g1 g2 g3 g1 g2 g3 g1 g2 g3 str}
    set k [pick $keys]
    set k2 [pick $keys]
    switch -exact -- [weighted {
        geoadd 12 geopos 4 geodist 4 geohash 3 geosearch 8 geosearchstore 3 georadius 4
        zscore 2 zrem 2 zrange 2 generic 3
    }] {
        geoadd {
            set argv [list GEOADD $k]
            foreach {option p} {NX 8 XX 8 CH 15} {
                if {[chance $p]} {
                    lappend argv $option
                }
            }
            for {set i [int 3]} {$i >= 0} {incr i -1} {
                lappend argv {*}[lonlat] [place]
            }
            return [exact {*}$argv]
        }
        geopos { return [exact GEOPOS $k {*}[some [int 4] {list [place]}]] }
        geodist {
            set argv [list GEODIST $k [place] [place]]
            if {[chance 60]} {
                lappend argv [pick {m km mi ft M bad}]
            }
            return [exact {*}$argv]
        }
        geohash { return [exact GEOHASH $k {*}[some [int 4] {list [place]}]] }
        geosearch {
            if {[chance 50]} {
                set from [list FROMMEMBER [place]]
            } else {
                set from [list FROMLONLAT {*}[lonlat]]
            }
            lassign [geo_options] options sorted
            set argv [list GEOSEARCH $k {*}$from {*}[geo_shape] {*}$options]
            return [cmd [expr {$sorted ? "exact" : "sorted"}] {*}$argv]
        }
        geosearchstore {
            if {[chance 50]} {
                set from [list FROMMEMBER [place]]
            } else {
                set from [list FROMLONLAT {*}[lonlat]]
            }
            lassign [geo_options 0] options sorted
            if {[chance 40]} {
                lappend options STOREDIST
            }
            return [concat [exact GEOSEARCHSTORE $k2 $k {*}$from {*}[geo_shape] {*}$options] \
                        [cmd withscores ZRANGE $k2 0 -1 WITHSCORES]]
        }
        georadius {
            set shape [list [pick {0 10 100 500 -1}] [pick {km m mi ft}]]
            lassign [geo_options] options sorted
            set norm [expr {$sorted ? "exact" : "sorted"}]
            if {[chance 50]} {
                return [cmd $norm [pick {GEORADIUS GEORADIUS_RO}] $k {*}[lonlat] {*}$shape {*}$options]
            }
            return [cmd $norm [pick {GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO}] $k [place] {*}$shape {*}$options]
        }
        zscore { return [cmd scores ZSCORE $k [place]] }
        zrem { return [exact ZREM $k [place]] }
        zrange { return [cmd withscores ZRANGE $k 0 -1 WITHSCORES] }
        generic { return [gen_generic $keys] }
    }
}

# What each sequence sets up first, and reads at the end (the whole state of its keys).
proc ::dt::setup_steps {type} {
    switch -exact -- $type {
        strings { return [exact RPUSH lst a] }
        zsets { return [concat [exact SET str hello] [exact SET sx hello]] }
        default { return [exact SET str hello] }
    }
}

proc ::dt::final_steps {type} {
    switch -exact -- $type {
        strings { set keys {k1 k2 k3}; set read {exact GET} }
        lists { set keys {l1 l2 l3}; set read {exact LRANGE} ; set tail {0 -1} }
        hashes { set keys {h1 h2 h3}; set read {pairs HGETALL} }
        sets { set keys {s1 s2 s3}; set read {sorted SMEMBERS} }
        zsets { set keys {z1 z2 z3 zl}; set read {withscores ZRANGE}; set tail {0 -1 WITHSCORES} }
        hll { set keys {p1 p2 p3}; set read {exact GET} }
        geo { set keys {g1 g2 g3}; set read {withscores ZRANGE}; set tail {0 -1 WITHSCORES} }
    }
    if {![info exists tail]} {
        set tail {}
    }
    set steps {}
    foreach key $keys {
        lappend steps [list cmd exact [list TYPE $key]]
        lappend steps [list cmd [lindex $read 0] [list [lindex $read 1] $key {*}$tail]]
    }
    return $steps
}

# --- replies -------------------------------------------------------------------------------
#
# A reply tree: {+ text} {- text} {: n} {$ bytes} {nil} {nilarr} {* {elements}}, and after
# normalization {score canonical} and {shape ...}.

proc ::dt::read_tree {chan} {
    if {[gets $chan line] < 0} {
        error "connection closed by the server"
    }
    set line [string range $line 0 end-1]
    set type [string index $line 0]
    set rest [string range $line 1 end]
    switch -exact -- $type {
        + - - - : - , - # - ( { return [list $type $rest] }
        _ { return {nil} }
        $ - = {
            if {$rest < 0} {
                return {nil}
            }
            set data [read $chan [expr {$rest + 2}]]
            if {[string length $data] != $rest + 2} {
                error "connection closed by the server"
            }
            return [list $type [string range $data 0 end-2]]
        }
        * - ~ - > - % {
            if {$rest < 0} {
                return {nilarr}
            }
            set n [expr {$type eq "%" ? 2 * $rest : $rest}]
            set elements {}
            for {set i 0} {$i < $n} {incr i} {
                lappend elements [read_tree $chan]
            }
            return [list $type $elements]
        }
        default { return [list ? $line] }
    }
}

proc ::dt::is_aggregate {tree} {
    return [expr {[lindex $tree 0] in {* ~ % >}}]
}

proc ::dt::show {tree {limit 600}} {
    set out [show_tree $tree]
    if {[string length $out] > $limit} {
        return "[string range $out 0 $limit]...([string length $out] characters)"
    }
    return $out
}

proc ::dt::show_tree {tree} {
    lassign $tree type value
    switch -exact -- $type {
        + { return "+[visible $value 200]" }
        - { return "-[visible $value 200]" }
        : { return ":$value" }
        , { return "(double) $value" }
        $ { return "\"[visible $value 80]\"" }
        nil { return "(nil)" }
        nilarr { return "(nil array)" }
        * - ~ - % - > {
            set parts {}
            foreach element $value {
                lappend parts [show_tree $element]
            }
            set open [dict get {* [ ~ "set\{" % "map\{" > "push\["} $type]
            set close [expr {$type in {~ %} ? "\}" : "\]"}]
            return "$open[join $parts {, }]$close"
        }
        default { return "$type:[visible $value 80]" }
    }
}

# --- normalizations (each takes a tree, returns a tree; leaves other shapes alone) ---------
#
# RESP3 doubles (",") are compared numerically wherever they are (the formatting of doubles
# is the documented Valkey 8 / Redis 7.0 difference), bulk scores where the command puts
# scores. Aggregates keep their type (array, set, map) and their layout (RESP3 nests
# member/score pairs in arrays).

proc ::dt::canonical_score {text} {
    if {$text in {inf -inf nan -nan}} {
        return $text
    }
    if {[string is double -strict $text]} {
        if {$text == 0} {
            return 0
        }
        return [format %.17g $text]
    }
    return $text
}

proc ::dt::score_of {tree} {
    if {[lindex $tree 0] in {$ ,}} {
        return [list score [canonical_score [lindex $tree 1]]]
    }
    return $tree
}

proc ::dt::doubles {tree} {
    switch -exact -- [lindex $tree 0] {
        , { return [score_of $tree] }
        * - ~ - % - > { return [list [lindex $tree 0] [lmap e [lindex $tree 1] {doubles $e}]] }
    }
    return $tree
}

# ZSCORE, ZINCRBY, ZADD INCR (one score), ZMSCORE (an array of scores).
proc ::dt::scores {tree} {
    if {[is_aggregate $tree]} {
        return [list [lindex $tree 0] [lmap e [lindex $tree 1] {score_of $e}]]
    }
    return [score_of $tree]
}

# True when every element is a two-element array (RESP3 pairs).
proc ::dt::nested_pairs {elements} {
    if {[llength $elements] == 0} {
        return 0
    }
    foreach e $elements {
        if {[lindex $e 0] ne "*" || [llength [lindex $e 1]] != 2} {
            return 0
        }
    }
    return 1
}

# The {a b} pairs of a flat a, b, a, b... aggregate or of a RESP3 array of pairs;
# score: the second of each pair is a score.
proc ::dt::pair_list {elements score} {
    set out {}
    if {[nested_pairs $elements]} {
        foreach e $elements {
            lassign [lindex $e 1] a b
            lappend out [list $a [expr {$score ? [score_of $b] : $b}]]
        }
    } else {
        foreach {a b} $elements {
            lappend out [list $a [expr {$score ? [score_of $b] : $b}]]
        }
    }
    return $out
}

# member, score pairs in order (WITHSCORES, ZPOPMIN/MAX), flat or nested.
proc ::dt::withscores {tree} {
    if {![is_aggregate $tree]} {
        return $tree
    }
    set elements [lindex $tree 1]
    return [list [lindex $tree 0] [nested_pairs $elements] [pair_list $elements 1]]
}

# BZPOPMIN/BZPOPMAX: key, member, score.
proc ::dt::bzpop {tree} {
    if {![is_aggregate $tree] || [llength [lindex $tree 1]] != 3} {
        return $tree
    }
    lassign [lindex $tree 1] key member score
    return [list [lindex $tree 0] [list $key $member [score_of $score]]]
}

# ZMPOP/BZMPOP: key, then an array of {member score} arrays.
proc ::dt::zmpop {tree} {
    if {![is_aggregate $tree] || [llength [lindex $tree 1]] != 2} {
        return $tree
    }
    lassign [lindex $tree 1] key pairs
    return [list [lindex $tree 0] [list $key [withscores $pairs]]]
}

proc ::dt::sorted {tree} {
    if {![is_aggregate $tree]} {
        return $tree
    }
    return [list [lindex $tree 0] [lsort [lindex $tree 1]]]
}

# HGETALL: field/value pairs in any order (a flat array, or a RESP3 map).
proc ::dt::pairs {tree} {
    if {![is_aggregate $tree]} {
        return $tree
    }
    return [list [lindex $tree 0] [lsort [pair_list [lindex $tree 1] 0]]]
}

# Random picks. One pick (no count): only its type matters.
proc ::dt::pick1 {tree} {
    if {[lindex $tree 0] eq "\$"} {
        return {shape bulk}
    }
    return $tree
}

# With a count: when fewer than count came back (count > 0), that is the whole collection,
# each element once: compared as a multiset; else only the number of picks is compared. kind:
# "" (elements), pairs (field, value), zpairs (member, score).
proc ::dt::random_picks {count kind tree} {
    if {![is_aggregate $tree]} {
        return $tree
    }
    set type [lindex $tree 0]
    set elements [lindex $tree 1]
    set nested [expr {$kind ne "" && [nested_pairs $elements]}]
    set n [llength $elements]
    if {$kind ne "" && !$nested} {
        set n [expr {$n / 2}]
    }
    if {!([string is wide -strict $count] && $count > 0 && $n < $count)} {
        return [list $type shape $nested $n]
    }
    if {$kind eq ""} {
        return [list $type [lsort $elements]]
    }
    return [list $type $nested [lsort [pair_list $elements [expr {$kind eq "zpairs"}]]]]
}

proc ::dt::random {count tree} { return [random_picks $count "" $tree] }
proc ::dt::randpairs {count tree} { return [random_picks $count pairs $tree] }
proc ::dt::randzpairs {count tree} { return [random_picks $count zpairs $tree] }

# --- running -------------------------------------------------------------------------------

proc ::dt::send {argv} {
    variable ours
    variable redis
    set bytes [::valkey::encode_request $argv]
    puts -nonewline $ours $bytes
    flush $ours
    puts -nonewline $redis $bytes
    flush $redis
}

# Reads one reply from each server: {redis ours}. Our server failing to answer is fatal.
proc ::dt::read_both {} {
    variable ours
    variable redis
    set r [read_tree $redis]
    if {[catch {read_tree $ours} o]} {
        return -code error -errorcode DT_FATAL "our server did not answer: $o"
    }
    return [list $r $o]
}

proc ::dt::apply_norm {norm tree} {
    if {$norm eq "exact"} {
        return $tree
    }
    return [::dt::[lindex $norm 0] {*}[lrange $norm 1 end] $tree]
}

# --- Valkey 8 vs Redis 7.0 -----------------------------------------------------------------
#
# Forms whose Valkey 8 reply differs from Redis 7.0's in a way the transcripts do not show
# (they never send these forms), taken from Valkey 8's source: the reply ours must give, or
# "" when the rule does not apply (then Redis's reply is the reference).

proc ::dt::is_int64 {text} {
    return [expr {[regexp {^-?[0-9]+$} $text] && ![regexp {^-?0[0-9]} $text] && $text ne "-0" &&
                  $text >= -9223372036854775808 && $text <= 9223372036854775807}]
}

proc ::dt::valkey_reply {argv redis} {
    set name [string toupper [lindex $argv 0]]
    set argc [llength $argv]
    set not_int {- {ERR value is not an integer or out of range}}
    switch -exact -- $name {
        BLPOP - BRPOP - BLMOVE - BRPOPLPUSH - BLMPOP - BZPOPMIN - BZPOPMAX - BZMPOP {
            # A timeout in seconds whose milliseconds exceed LLONG_MAX (1e400): Valkey 8 says
            # it is out of range, Redis 7.0 overflows it into a negative number.
            if {$redis eq {- {ERR timeout is negative}} && "1e400" in $argv} {
                return {- {ERR timeout is out of range}}
            }
            return ""
        }
        BITCOUNT - BITPOS {
            # Valkey parses the range (start, then the BIT/BYTE unit, then end) before it looks
            # the key up, Redis 7.0 after (a missing key answers 0, a wrong type WRONGTYPE,
            # before any argument check) and it checks the unit after end.
            # (BITCOUNT key start without end is not sent: see the header.)
            set first [expr {$name eq "BITCOUNT" ? 2 : 3}]
            if {$argc < $first + 1 || $argc > $first + 3 || ($name eq "BITCOUNT" && $argc == 3)} {
                return ""
            }
            if {$name eq "BITPOS" && [lindex $argv 2] ni {0 1}} {
                return ""
            }
            if {![is_int64 [lindex $argv $first]]} {
                return $not_int
            }
            if {$argc == $first + 3 && [string tolower [lindex $argv end]] ni {bit byte}} {
                return {- {ERR syntax error}}
            }
            if {$argc > $first + 1 && ![is_int64 [lindex $argv $first+1]]} {
                return $not_int
            }
            return ""
        }
        LPOS {
            # Valkey 8 refuses RANK -9223372036854775808 (its negation overflows); Redis 7.0
            # takes it. Options are checked in order: only when that is the first bad one.
            for {set j 3} {$j + 1 < $argc} {incr j 2} {
                set option [string toupper [lindex $argv $j]]
                set value [lindex $argv $j+1]
                if {$option eq "RANK" && $value eq "-9223372036854775808"} {
                    return {- {ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807}}
                }
                if {$option ni {RANK COUNT MAXLEN} || ![is_int64 $value] || ($option eq "RANK" && $value == 0) ||
                    ($option ne "RANK" && $value < 0)} {
                    return ""
                }
            }
            return ""
        }
        LREM {
            # Not generated any more (Redis 7.0 removes elements where Valkey refuses, and
            # the two datasets would part ways); list.tcl checks the refusal.
            if {[lindex $argv 2] eq "-9223372036854775808"} {
                return {- {ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807}}
            }
            return ""
        }
    }
    return ""
}

# Returns "" when the replies agree, else a description.
proc ::dt::judge {argv norm r o} {
    set valkey [valkey_reply $argv $r]
    if {$valkey ne ""} {
        # Valkey 8 answers this form differently from Redis 7.0: ours must answer as Valkey.
        if {$o eq $valkey} {
            return ""
        }
        return "[visible_command $argv]\n      valkey: [show $valkey] (redis: [show $r])\n      ours:   [show $o]"
    }
    if {$r eq $o} {
        return ""
    }
    if {[apply_norm $norm [doubles $r]] eq [apply_norm $norm [doubles $o]]} {
        return ""
    }
    return "[visible_command $argv]\n      redis: [show $r]\n      ours:  [show $o]"
}

proc ::dt::run_step {step} {
    lassign $step mode norm argv
    switch -exact -- $mode {
        cmd {
            send $argv
            lassign [read_both] r o
            return [judge $argv $norm $r $o]
        }
        multi {
            send MULTI
            send $argv
            send EXEC
            set problems {}
            foreach shown [list MULTI $argv EXEC] {
                lassign [read_both] r o
                if {$shown eq "EXEC" && [lindex $r 0] eq "*" && [lindex $o 0] eq "*" &&
                    [llength [lindex $r 1]] == 1 && [llength [lindex $o 1]] == 1} {
                    # The command's own reply.
                    set problem [judge $argv $norm [lindex $r 1 0] [lindex $o 1 0]]
                } else {
                    set problem [judge $shown exact $r $o]
                }
                if {$problem ne ""} {
                    lappend problems "(in MULTI, at $shown) $problem"
                }
            }
            return [join $problems \n]
        }
        spop { return [run_spop $argv] }
        scan { return [run_scan $norm $argv] }
    }
}

proc ::dt::run_spop {argv} {
    variable ours
    send $argv
    lassign [read_both] r o
    set key [lindex $argv 1]
    if {[llength $argv] == 3} {
        set problem [judge $argv [list random [lindex $argv 2]] $r $o]
        if {$problem ne "" || ![is_aggregate $r]} {
            return $problem
        }
        set popped_redis [lmap e [lindex $r 1] {lindex $e 1}]
        set popped_ours [lmap e [lindex $o 1] {lindex $e 1}]
    } else {
        if {[lindex $r 0] ne [lindex $o 0]} {
            return [judge $argv exact $r $o]
        }
        if {[lindex $r 0] ne "\$"} {
            return [judge $argv exact $r $o]
        }
        set popped_redis [list [lindex $r 1]]
        set popped_ours [list [lindex $o 1]]
    }
    if {[lsort $popped_redis] eq [lsort $popped_ours]} {
        return ""
    }
    # Bring ours in step with Redis: put back what ours popped, remove what Redis popped.
    foreach {command members} [list SADD $popped_ours SREM $popped_redis] {
        set reply [raw_call $ours [list $command $key {*}$members]]
        if {$reply ne ":[llength $members]\r\n"} {
            return "[visible_command $argv] (members popped by redis: [visible_command $popped_redis], by ours: [visible_command $popped_ours])\n      then on ours only, [visible_command [list $command $key {*}$members]] answered [visible $reply] (a popped member was not, or is still, in the set)"
        }
    }
    return ""
}

# A full scan on one server: the elements (or pairs) returned, deduplicated and sorted, or
# the first reply that is not a scan reply.
proc ::dt::scan_all {chan kind argv} {
    set cursor 0
    set seen {}
    for {set i 0} {$i < 100000} {incr i} {
        set request [linsert $argv 2 $cursor]
        puts -nonewline $chan [::valkey::encode_request $request]
        flush $chan
        if {[catch {read_tree $chan} reply]} {
            return -code error -errorcode DT_FATAL "[visible_command $request]: $reply"
        }
        if {[lindex $reply 0] ne "*" || [llength [lindex $reply 1]] != 2} {
            return $reply
        }
        lassign [lindex $reply 1] next elements
        foreach {a b} [lindex $elements 1] {
            switch -exact -- $kind {
                set { dict set seen $a 1; if {$b ne ""} { dict set seen $b 1 } }
                pairs { dict set seen [list $a $b] 1 }
                zpairs { dict set seen [list $a [score_of $b]] 1 }
            }
        }
        set cursor [lindex $next 1]
        if {$cursor eq "0"} {
            return [list scanned [lsort [dict keys $seen]]]
        }
    }
    return [list - "scan did not finish"]
}

proc ::dt::run_scan {kind argv} {
    variable ours
    variable redis
    set r [scan_all $redis $kind $argv]
    set o [scan_all $ours $kind $argv]
    if {$r eq $o} {
        return ""
    }
    return "full scan: [visible_command $argv]\n      redis: [show $r]\n      ours:  [show $o]"
}

# The steps of a sequence: set-up, n generated commands (some expand to a few steps), and
# reads of the whole state at the end.
proc ::dt::generate {type seed n} {
    srand $seed
    set steps [setup_steps $type]
    for {set i 0} {$i < $n} {incr i} {
        lappend steps {*}[gen_$type]
    }
    lappend steps {*}[final_steps $type]
    return $steps
}

# Runs steps against both servers; returns {problems log}: each problem {step-number
# command-name description}, the log the steps actually run (after a mismatch the states
# have diverged: FLUSHALL and the set-up steps are run and logged, and the run goes on).
# Stops at the first problem when first is set, and after max_problems problems.
proc ::dt::execute {steps setup our_addr redis_addr protocol {first 0} {max_problems 8}} {
    variable ours
    variable redis
    set ours [raw_connect {*}$our_addr]
    set redis [raw_connect {*}$redis_addr]
    # One write per request: a request split over several writes meets Nagle's algorithm
    # and delayed ACKs (40 ms each).
    fconfigure $ours -buffersize 1000000
    fconfigure $redis -buffersize 1000000
    if {$protocol == 3} {
        # (HELLO's own reply names the server: not compared.)
        raw_call $ours {HELLO 3}
        raw_call $redis {HELLO 3}
    }
    raw_call $ours {FLUSHALL}
    raw_call $redis {FLUSHALL}
    set log {}
    set problems {}
    set seen {}
    foreach step $steps {
        lappend log $step
        set name [string toupper [lindex $step 2 0]]
        if {[catch {run_step $step} problem options]} {
            if {[dict get $options -errorcode] ne "DT_FATAL"} {
                catch {close $ours}
                catch {close $redis}
                return -options $options $problem
            }
            dict incr seen $name
            lappend problems [list [llength $log] $name "[visible_command [lindex $step 2]]: $problem"]
            break
        }
        if {$problem eq ""} {
            continue
        }
        # The same command failing again is counted, not listed.
        dict incr seen $name
        if {[dict get $seen $name] <= 2} {
            lappend problems [list [llength $log] $name $problem]
        }
        if {$first || [llength $problems] >= $max_problems} {
            break
        }
        lappend log {cmd exact {FLUSHALL}}
        run_step {cmd exact {FLUSHALL}}
        foreach step $setup {
            lappend log $step
            run_step $step
        }
    }
    catch {close $ours}
    catch {close $redis}
    return [list $problems $log $seen]
}

proc ::dt::write_log {log path} {
    # The steps as a Tcl list (replayable by tests/helpers/differential_replay.tcl) ...
    set fd [open $path.steps w]
    fconfigure $fd -translation binary -encoding binary
    foreach step $log {
        puts $fd [list $step]
    }
    close $fd
    # ... and readably, numbered.
    set fd [open $path.txt w]
    fconfigure $fd -translation binary -encoding binary
    set number 0
    foreach step $log {
        puts $fd "[incr number] [lindex $step 0] [list [lindex $step 1]] [visible_command [lindex $step 2]]"
    }
    close $fd
}

# Runs one sequence; returns {problems steps-run}, problems as printable lines. On failure
# the steps run are written to $logfile.txt and $logfile.steps.
proc ::dt::run_sequence {type seed n logfile our_addr redis_addr protocol} {
    set steps [generate $type $seed $n]
    lassign [execute $steps [setup_steps $type] $our_addr $redis_addr $protocol] problems log seen
    set lines {}
    foreach problem $problems {
        lassign $problem number name text
        set again [expr {[dict get $seen $name] - 1}]
        if {$again > 0} {
            append text "\n      ($name differed [dict get $seen $name] times in this run)"
        }
        lappend lines "#$number $text"
    }
    if {[llength $problems] > 0} {
        write_log $log $logfile
    }
    return [list $lines [llength $log]]
}
