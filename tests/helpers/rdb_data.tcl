# Data sets and comparisons shared by the persistence tests (unit/dump.tcl,
# integration/rdb.tcl): every type in every encoding, and a canonical dump of a
# database that two servers (or one server before and after a reload) must agree on.

# Fills the selected database of client `c` with one key per type and encoding. Expects the
# default encoding limits (listpacks: 512 hash / 128 set and zset entries of 64 bytes;
# 512 intset entries; 8 KB list nodes).
# `ours` adds what only our server can build (a plain quicklist node, compressed nodes).
proc rdb_populate {c {ours 1}} {
    $c set str:embstr hello
    $c set str:int 12345
    $c set str:negint -42
    $c set str:bigint 12345678901234
    $c set str:raw [string repeat "xyz0123456789" 8]
    $c set str:compressible [string repeat a 1000]
    $c set str:binary "a\x00b\xffc\r\n"
    $c set str:empty ""

    $c rpush list:listpack a b c 1 2 -3 [string repeat z 40]
    for {set i 0} {$i < 1000} {incr i} {
        lappend items "element-$i" $i
    }
    $c rpush list:quicklist {*}$items

    $c sadd set:intset 1 2 3 -100 65536 9223372036854775807
    $c sadd set:listpack a b c 1
    for {set i 0} {$i < 200} {incr i} {
        $c sadd set:hashtable "member-$i"
    }
    for {set i 0} {$i < 600} {incr i} {
        $c sadd set:bigintset $i
    }

    $c zadd zset:listpack 1 a 2.5 b -3 c 0 d
    for {set i 0} {$i < 200} {incr i} {
        $c zadd zset:skiplist [expr {$i * 1.5}] "member-$i"
    }
    $c zadd zset:skiplist inf plus-inf -inf minus-inf
    $c zadd zset:longmember 1 [string repeat m 100]

    $c hset hash:listpack f1 v1 f2 2 f3 [string repeat v 30]
    for {set i 0} {$i < 600} {incr i} {
        $c hset hash:hashtable "field-$i" "value-$i"
    }
    $c hset hash:longvalue f [string repeat v 100]

    $c set volatile:str value
    $c pexpire volatile:str 100000000
    $c rpush volatile:list a b
    $c expire volatile:list 100000

    if {$ours} {
        # A quicklist with LZF-compressed inner nodes, and an element in a plain node.
        set old [lindex [$c config get list-compress-depth] 1]
        $c config set list-compress-depth 1
        $c rpush list:compressed {*}$items
        $c config set list-compress-depth $old
        $c debug quicklist-packed-threshold 100
        $c rpush list:plain small [string repeat P 300] small2
        $c debug quicklist-packed-threshold 0
    }
}

# The value of a key in a form that does not depend on encoding or element order.
proc rdb_value {c key} {
    switch -- [$c type $key] {
        string { return [$c get $key] }
        list { return [$c lrange $key 0 -1] }
        set { return [lsort [$c smembers $key]] }
        zset { return [$c zrange $key 0 -1 withscores] }
        hash { return [lsort -stride 2 -index 0 [$c hgetall $key]] }
        none { return "" }
        default { return "unknown type" }
    }
}

# Every key of the selected database: key -> {type encoding value has-ttl}.
proc rdb_snapshot {c} {
    set snap [dict create]
    foreach key [lsort [$c keys *]] {
        set ttl [$c pttl $key]
        dict set snap $key [list [$c type $key] [$c object encoding $key] [rdb_value $c $key] [expr {$ttl > 0}]]
    }
    return $snap
}

# Compares two snapshots key by key; returns a list of differences (empty when equal).
# With ignore_encoding the encodings are not compared (another server's choices).
proc rdb_snapshot_diff {a b {ignore_encoding 0}} {
    set problems {}
    foreach key [lsort -unique [concat [dict keys $a] [dict keys $b]]] {
        if {![dict exists $a $key]} {
            lappend problems "$key: only in the second"
            continue
        }
        if {![dict exists $b $key]} {
            lappend problems "$key: only in the first"
            continue
        }
        lassign [dict get $a $key] t1 e1 v1 x1
        lassign [dict get $b $key] t2 e2 v2 x2
        if {$t1 ne $t2} { lappend problems "$key: type $t1 vs $t2" }
        if {!$ignore_encoding && $e1 ne $e2} { lappend problems "$key: encoding $e1 vs $e2" }
        if {$v1 ne $v2} { lappend problems "$key: values differ" }
        if {$x1 ne $x2} { lappend problems "$key: ttl presence $x1 vs $x2" }
    }
    return $problems
}
