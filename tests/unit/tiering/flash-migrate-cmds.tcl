# FLASH.MIGRATE.PROBE and FLASH.MIGRATE (valkey-flash compatibility), and MIGRATE of cold
# keys. The probe reports a tier as a flat array of bulk strings (state, capacity_bytes,
# free_bytes, path), locally or from a remote server; FLASH.MIGRATE refuses a target whose
# free flash bytes do not cover the keys' DUMP payloads, and otherwise is MIGRATE.
#
# Servers, outer to inner: a tiering target with 64 MB of flash (level -3), one with 1 MB
# (-2), one without tiering (-1), and the source (0), whose DUMP payloads are not
# compressed so that sizes are easy to reason about.

source [file join $::th_root tests support tiering.tcl]

# The probe reply as a dict.
proc probe {args} {
    return [r {*}$args]
}

proc probe_level {level} {
    return [r $level flash.migrate.probe]
}

proc closed_port {} {
    set s [socket -server closed_port_accept -myaddr 127.0.0.1 0]
    set port [lindex [fconfigure $s -sockname] 2]
    close $s
    return $port
}
proc closed_port_accept {chan addr port} {close $chan}

start_server [list tags {"tiering"} overrides [tier_overrides]] {
start_server [list tags {"tiering"} overrides [tier_overrides {flash-capacity 1mb flash-segment-size 64kb}]] {
start_server {tags {"tiering"}} {
start_server [list tags {"tiering"} overrides [tier_overrides {rdbcompression no}]] {
    set host 127.0.0.1
    set big [srv -3 port]
    set small [srv -2 port]
    set plain [srv -1 port]

    # ---- FLASH.MIGRATE.PROBE ----

    test {FLASH.MIGRATE.PROBE reports the local tier} {
        set p [r flash.migrate.probe]
        assert_equal {state capacity_bytes free_bytes path} [dict keys $p]
        assert_equal ready [dict get $p state]
        assert_equal 67108864 [dict get $p capacity_bytes]
        assert_equal [tier_stat flash_free_bytes] [dict get $p free_bytes]
        assert {[dict get $p free_bytes] > 0 && [dict get $p free_bytes] <= 67108864}
        assert_match {*flash.bin} [dict get $p path]
    }

    test {FLASH.MIGRATE.PROBE without tiering: disabled, zeros, empty path} {
        assert_equal {state disabled capacity_bytes 0 free_bytes 0 path {}} [probe_level -1]
    }

    test {FLASH.MIGRATE.PROBE replies bulk strings only, in RESP2 and RESP3} {
        set c [valkey_deferring_client]
        $c readraw 1
        $c flash.migrate.probe
        assert_equal {*8} [$c read]
        for {set j 0} {$j < 8} {incr j} {
            assert_match {$*} [$c read]
            $c read
        }
        $c close
        r hello 3
        assert_equal [probe_level -1] [r -1 flash.migrate.probe]
        assert_equal {state disabled capacity_bytes 0 free_bytes 0 path {}} [r -1 flash.migrate.probe]
        r hello 2
    }

    test {FLASH.MIGRATE.PROBE host port relays the target's figures} {
        assert_equal [probe_level -3] [r flash.migrate.probe $host $big]
        assert_equal [probe_level -2] [r flash.migrate.probe $host $small]
        assert_equal {state disabled capacity_bytes 0 free_bytes 0 path {}} [r flash.migrate.probe $host $plain]
        assert_equal 1048576 [dict get [r flash.migrate.probe $host $small] capacity_bytes]
    }

    test {FLASH.MIGRATE.PROBE errors} {
        assert_error "ERR wrong number of arguments for 'flash.migrate.probe' command" {r flash.migrate.probe $host}
        assert_error "ERR wrong number of arguments for 'flash.migrate.probe' command" {r flash.migrate.probe $host 1 2}
        assert_error "ERR invalid port: abc" {r flash.migrate.probe $host abc}
        assert_error "ERR invalid port: 65536" {r flash.migrate.probe $host 65536}
        set port [closed_port]
        assert_error "ERR FLASH-MIGRATE target 127.0.0.1:$port did not respond within timeout" \
            {r flash.migrate.probe 127.0.0.1 $port}
        assert_error "ERR FLASH-MIGRATE target nonexistent.invalid:6379 did not respond within timeout" \
            {r flash.migrate.probe nonexistent.invalid 6379}
    }

    test {FLASH.MIGRATE.PROBE does not block the server; it runs inside MULTI too} {
        set rd [valkey_deferring_client]
        set sleeper [valkey_deferring_client -3]
        $sleeper debug sleep 0.5
        after 50
        $rd flash.migrate.probe $host $big
        wait_for_blocked_client
        assert_equal PONG [r ping]
        assert_equal ready [dict get [$rd read] state]
        $sleeper read
        $rd close
        $sleeper close
        r multi
        r flash.migrate.probe $host $plain
        assert_equal {{state disabled capacity_bytes 0 free_bytes 0 path {}}} [r exec]
    }

    test {FLASH.MIGRATE.PROBE and FLASH.MIGRATE are in the @flash category} {
        set flash [r command list filterby aclcat flash]
        assert {[lsearch $flash flash.migrate] >= 0}
        assert {[lsearch $flash flash.migrate.probe] >= 0}
        set info [lindex [r command info flash.migrate] 0]
        assert_equal -6 [lindex $info 1]
        assert_equal {write admin movablekeys} [lindex $info 2]
    }

    # ---- FLASH.MIGRATE ----

    test {FLASH.MIGRATE moves keys when the target has room} {
        r -3 flushall
        r set k [string repeat x 1000]
        r rpush l a b c
        assert_equal OK [r flash.migrate $host $big "" 9 5000 KEYS k l]
        assert_equal [string repeat x 1000] [r -3 get k]
        assert_equal {a b c} [r -3 lrange l 0 -1]
        assert_equal 0 [r exists k l]
        assert_equal NOKEY [r flash.migrate $host $big k 9 5000]
    }

    test {FLASH.MIGRATE refuses a target without enough free flash} {
        r -2 flushall
        r set huge [string repeat x 2000000]
        r set small1 [string repeat y 100]
        set need [expr {[string length [r dump huge]] + [string length [r dump small1]]}]
        set has [dict get [probe_level -2] free_bytes]
        assert {$need > $has}
        assert_error "ERR FLASH-MIGRATE target 127.0.0.1:$small insufficient flash capacity (need $need bytes free, has $has)" \
            {r flash.migrate $host $small "" 9 5000 KEYS huge small1}
        assert_equal 1 [r exists huge]
        assert_equal 0 [r -2 exists huge small1]
        # What fits goes.
        assert_equal OK [r flash.migrate $host $small small1 9 5000]
        assert_equal [string repeat y 100] [r -2 get small1]
    }

    test {FLASH.MIGRATE to a target without tiering: no flash, refused} {
        r set t1 abc
        set need [string length [r dump t1]]
        assert_error "ERR FLASH-MIGRATE target 127.0.0.1:$plain insufficient flash capacity (need $need bytes free, has 0)" \
            {r flash.migrate $host $plain t1 9 5000}
        assert_equal abc [r get t1]
        # MIGRATE itself does not care.
        assert_equal OK [r migrate $host $plain t1 9 5000]
        assert_equal abc [r -1 get t1]
    }

    test {FLASH.MIGRATE options and errors are MIGRATE's} {
        r -3 flushall
        r set o v
        assert_error "ERR wrong number of arguments for 'flash.migrate' command" {r flash.migrate $host $big o 9}
        assert_error "ERR invalid port: x" {r flash.migrate $host x o 9 5000}
        assert_error "ERR syntax error" {r flash.migrate $host $big o 9 5000 foo}
        assert_error "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string" \
            {r flash.migrate $host $big o 9 5000 KEYS a}
        assert_error "ERR value is not an integer or out of range" {r flash.migrate $host $big o x 5000}
        assert_equal NOKEY [r flash.migrate $host $big nosuchkey 9 5000]
        assert_equal OK [r flash.migrate $host $big o 9 5000 COPY]
        assert_error "ERR Target instance replied with error: BUSYKEY*" {r flash.migrate $host $big o 9 5000}
        assert_equal OK [r flash.migrate $host $big o 9 5000 REPLACE]
        assert_equal 0 [r exists o]
        r set o2 v
        set p [closed_port]
        assert_error "ERR FLASH-MIGRATE target 127.0.0.1:$p did not respond within timeout" \
            {r flash.migrate $host $p o2 9 5000 COPY}
    }

    test {FLASH.MIGRATE with AUTH: the probe runs authenticated} {
        r -3 flushall
        r -3 config set requirepass secret
        r -3 client kill type normal skipme yes
        r set a v
        assert_error "ERR FLASH-MIGRATE target 127.0.0.1:$big: NOAUTH Authentication required." \
            {r flash.migrate $host $big a 9 5000}
        assert_error "ERR Target instance replied with error: WRONGPASS*" \
            {r flash.migrate $host $big a 9 5000 AUTH bad}
        assert_equal OK [r flash.migrate $host $big a 9 5000 AUTH2 default secret]
        assert_equal v [r -3 get a]
        r -3 config set requirepass ""
    }

    # ---- MIGRATE of cold keys ----

    test {MIGRATE of cold keys: promoted first, the target gets the values} {
        r flushall
        r -3 flushall
        r set s [string repeat s 500]
        r rpush l {*}[lrepeat 50 [string repeat l 20]]
        r hset h f1 [string repeat h 300] f2 v2
        r sadd set m1 m2 m3
        r zadd z 1 a 2 b
        set keys {s l h set z}
        set digests {}
        foreach key $keys {
            dict set digests $key [r debug digest-value $key]
            tier_demote $key
        }
        set promotions [tier_stat flash_promotions]
        assert_equal OK [r migrate $host $big "" 9 5000 COPY KEYS {*}$keys]
        assert {[tier_stat flash_promotions] >= $promotions + [llength $keys]}
        foreach key $keys {
            assert_equal [dict get $digests $key] [r -3 debug digest-value $key] "(value of $key)"
        }
        r -3 flushall
        foreach key $keys {
            tier_demote $key
        }
        assert_equal OK [r migrate $host $big "" 9 5000 KEYS {*}$keys]
        assert_equal 0 [r dbsize]
        foreach key $keys {
            assert_equal [dict get $digests $key] [r -3 debug digest-value $key] "(value of $key)"
        }
    }

    test {MIGRATE of a cold key its key specs miss: read synchronously, moved intact} {
        r -3 flushall
        r set c1 [string repeat c 400]
        r set c2 [string repeat d 400]
        tier_demote c1
        tier_demote c2
        # The KEYS key spec searches the last "KEYS": c1 is not declared.
        set sync [tier_stat flash_sync_promotions]
        assert_equal OK [r migrate $host $big "" 9 5000 KEYS c1 KEYS c2]
        assert_equal [expr {$sync + 1}] [tier_stat flash_sync_promotions]
        assert_equal [string repeat c 400] [r -3 get c1]
        assert_equal [string repeat d 400] [r -3 get c2]
        assert_equal 0 [r exists c1 c2]
    }

    test {FLASH.MIGRATE of a cold key} {
        r -3 flushall
        r set fk [string repeat f 800]
        set need [string length [r dump fk]]
        tier_demote fk
        assert_equal OK [r flash.migrate $host $big fk 9 5000]
        assert_equal [string repeat f 800] [r -3 get fk]
        assert_equal 0 [r exists fk]
    }
}
}
}
}

# A target without the FLASH.* commands at all (Debian's redis-server 7.0).
set ::fm_redis_binary [lindex [auto_execok redis-server] 0]
if {$::fm_redis_binary eq ""} {
    test {FLASH.MIGRATE.PROBE of a server without FLASH commands} {
        skip "redis-server is not installed"
    }
} else {
    start_server [list tags {"tiering external:skip"} binary $::fm_redis_binary overrides {save ""}] {
        start_server [list tags {"tiering"} overrides [tier_overrides]] {
            test {FLASH.MIGRATE.PROBE / FLASH.MIGRATE of a server without FLASH commands} {
                set port [srv -1 port]
                assert_error "ERR FLASH-MIGRATE target 127.0.0.1:$port does not have flash-module loaded" \
                    {r flash.migrate.probe 127.0.0.1 $port}
                r set k v
                assert_error "ERR FLASH-MIGRATE target 127.0.0.1:$port does not have flash-module loaded" \
                    {r flash.migrate 127.0.0.1 $port k 0 5000}
                assert_equal v [r get k]
            }
        }
    }
}
