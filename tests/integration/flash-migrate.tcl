# Migration from valkey-flash: an RDB saved by Valkey with the valkey-flash module
# (values of the module types flashstr1/flashhsh1/flashlst1/flashzst1, module AUX
# records) loads as native strings, hashes, lists and sorted sets with their TTLs
# (src/flash_migrate.c). The files come from tests/helpers/flash_rdb_writer.py, whose
# DATASET the assertions below follow.

set ::flash_writer [file join $::th_root tests helpers flash_rdb_writer.py]

proc flash_temp_dir {name} {
    set dir [file join $::th_root tests tmp "$name.[pid].[clock clicks]"]
    file mkdir $dir
    return $dir
}

# Writes the fixture into dir/dump.rdb; extra arguments go to the writer.
proc flash_write_rdb {dir args} {
    exec python3 $::flash_writer [file join $dir dump.rdb] {*}$args
}

# valkey-check-rdb on file: {exit-status output}.
proc flash_check_rdb {file} {
    set link [file join [file dirname $::opt(server_binary)] valkey-check-rdb]
    set cmd [expr {[file exists $link] ? [list $link $file] : [list $::opt(server_binary) --check-rdb $file]}]
    set status 0
    if {[catch {exec {*}$cmd 2>@1} out opts]} {
        set status [lindex [dict get $opts -errorcode] 2]
    }
    return [list $status $out]
}

# Our server on dir until it exits by itself: {exit-status log}. A unix socket only, so
# no TCP port can be taken from under it by a parallel file.
proc flash_run_until_exit {dir {timeout 10}} {
    set log [file join $dir startup.log]
    file delete $log
    set rc [catch {exec timeout $timeout $::opt(server_binary) --port 0 --unixsocket [file join $dir s.sock] \
                       --dir $dir --save "" --logfile $log} out opts]
    set status [expr {$rc ? [lindex [dict get $opts -errorcode] 2] : 0}]
    return [list $status [::th::read_file $log]]
}

if {[catch {exec python3 -c "print(1)"}]} {
    test {valkey-flash RDB migration} {
        skip "python3 is not installed"
    } undefined {tiering}
    return
}

set ::flash_hour 3600000

tags {"tiering external:skip"} {
    set dir [flash_temp_dir flash-migrate]
    set now [clock milliseconds]
    flash_write_rdb $dir --now-ms $now

    start_server [list overrides [list dir $dir save ""]] {
        test {valkey-flash RDB: module values load as native types with exact contents} {
            r select 0
            foreach {key type} {native:str string fs:plain string fs:int string fs:lzf string fs:empty string
                                fs:binary string fh:small hash fh:big hash fh:long-value hash
                                fl:small list fl:big list fl:blob list fz:small zset fz:big zset fz:blob zset} {
                assert_equal $type [r type $key] $key
            }
            assert_equal {plain value} [r get native:str]
            assert_equal 5 [r get native:raw-int]
            # Shared integers are untouched by the expire the raw "5" got.
            assert_equal OK [r set other 5]
            assert_equal -1 [r pttl other]
            assert_equal 1 [r del other]
            assert_equal {hello world} [r get fs:plain]
            assert_equal 12345 [r get fs:int]
            assert_equal 7 [r get fs:small-int]
            assert_equal [string repeat "compress me " 20] [r get fs:lzf]
            assert_equal {} [r get fs:empty]
            assert_equal 1 [r exists fs:empty]
            assert_equal "\x00\x01\xff bin" [r get fs:binary]
            assert_equal [list f1 v1 f2 2 "bin\x00" "\xff"] [r hgetall fh:small]
            assert_equal 600 [r hlen fh:big]
            assert_equal value:0 [r hget fh:big field:0]
            assert_equal value:599 [r hget fh:big field:599]
            assert_equal [string repeat v 100] [r hget fh:long-value f]
            assert_equal {a b 3 c} [r lrange fl:small 0 -1]
            assert_equal 1000 [r llen fl:big]
            assert_equal {item-0 item-1} [r lrange fl:big 0 1]
            assert_equal item-999 [r lindex fl:big -1]
            assert_equal {x y z} [r lrange fl:blob 0 -1]
            assert_equal {t} [r lrange fl:ttl 0 -1]
            assert_equal {b -2 a 1.5 c inf} [r zrange fz:small 0 -1 withscores]
            assert_equal 200 [r zcard fz:big]
            assert_equal {member:199 99.5} [r zrange fz:big -1 -1 withscores]
            assert_equal {one 1 two 2} [r zrange fz:blob 0 -1 withscores]
            assert_equal {q 0.25} [r zrange fz:ttl 0 -1 withscores]
            # Empty collections are skipped; nothing else is in database 0.
            assert_equal 0 [r exists fh:empty fl:empty]
            assert_equal 22 [r dbsize]
            r select 1
            assert_equal {in db 1} [r get fs:db1]
            assert_equal 1 [r dbsize]
            set log [::th::read_file [srv stdout]]
            assert_match {*keys loaded: 23, keys expired: 3, empty keys skipped: 2*} $log
            assert_match {*Skipped the AUX data of module 'flashstr1'*} $log
        }

        test {valkey-flash RDB: encodings as a native load gives them (default limits)} {
            r select 0
            assert_encoding embstr fs:plain
            assert_encoding int fs:int
            assert_encoding raw fs:lzf
            assert_encoding listpack fh:small
            assert_encoding hashtable fh:big
            assert_encoding hashtable fh:long-value
            assert_encoding listpack fl:small
            assert_encoding quicklist fl:big
            assert_encoding listpack fz:small
            assert_encoding skiplist fz:big
        }

        test {valkey-flash RDB: TTLs kept (absolute ms), the expire opcode wins, past ones skipped} {
            r select 0
            # Elapsed time since the file was written bounds the lower end.
            set slack [expr {[clock milliseconds] - $now + 1000}]
            foreach {key hours} {native:raw-int 1 fs:ttl 1 fs:small-int 1 fs:ttl-field 2 fs:opcode-wins 3
                                 fh:small 1 fl:ttl 1 fz:ttl 1} {
                set ttl [expr {$hours * $::flash_hour}]
                assert_range [r pttl $key] [expr {$ttl - $slack}] $ttl
            }
            assert_equal [expr {$now + 2 * $::flash_hour}] [r pexpiretime fs:ttl-field]
            foreach key {native:str fs:plain fh:big fl:small fz:small} {
                assert_equal -1 [r pttl $key] $key
            }
            assert_equal 0 [r exists fs:past fs:past-field fh:past]
            # The expires are real: the keyspace's expire table has them.
            assert_match {*db0:keys=22,expires=8,*} [r info keyspace]
        }

        test {valkey-flash RDB: loaded keys are ordinary keys, saved back natively} {
            r select 0
            assert_equal 1 [r hset fh:small f3 v3]
            assert_equal 5 [r rpush fl:small d]
            assert_equal 1 [r zadd fz:small 3 d]
            assert_equal 12 [r append fs:plain !]
            set digest [r debug digest]
            r debug reload
            assert_equal $digest [r debug digest]
            r select 0
            assert_equal {hello world!} [r get fs:plain]
            r save
            lassign [flash_check_rdb [file join $dir dump.rdb]] status out
            assert_equal 0 $status
            assert_no_match {*module*} $out
        }
    }

    test {valkey-check-rdb accepts a valkey-flash RDB} {
        flash_write_rdb $dir --now-ms [clock milliseconds]
        lassign [flash_check_rdb [file join $dir dump.rdb]] status out
        assert_equal 0 $status $out
        assert_match {*Checksum OK*RDB looks OK*} $out
        assert_match {*26 keys read*} $out
        assert_match {*11 expires*} $out
        assert_match {*3 already expired*} $out
        assert_match {*keys by type: string 14, list 4, set 0, zset 4, hash 4*} $out
        assert_match {*2 module AUX payloads skipped*} $out
    }

    start_server [list overrides [list dir $dir save "" hash-max-listpack-entries 2 zset-max-listpack-entries 2 \
                                      list-max-listpack-size 2]] {
        test {valkey-flash RDB: encodings follow the *-max-listpack-* settings} {
            r select 0
            assert_encoding hashtable fh:small
            assert_encoding skiplist fz:small
            assert_encoding quicklist fl:small
            assert_encoding listpack fz:ttl
            assert_equal {b -2 a 1.5 c inf} [r zrange fz:small 0 -1 withscores]
            assert_equal {a b 3 c} [r lrange fl:small 0 -1]
        }
    }

    start_server [list overrides [list dir $dir save "" hash-max-listpack-entries 1000]] {
        test {valkey-flash RDB: a big hash stays a listpack when the limit allows} {
            r select 0
            assert_encoding listpack fh:big
            assert_equal 600 [r hlen fh:big]
        }
    }

    test {valkey-flash RDB: a corrupt module value stops the start-up with a log line, no crash} {
        foreach {kind message} {
            hash-truncated {Bad flashhsh1 value (valkey-flash) of key 'bad': hash blob truncated}
            hash-trailing {Bad flashhsh1 value (valkey-flash) of key 'bad': trailing bytes after the last element*}
            hash-duplicate {Bad flashhsh1 value (valkey-flash) of key 'bad': duplicate hash field}
            bad-shape {Bad flashstr1 value (valkey-flash) of key 'bad': shape tag 2, expected 1}
            bad-opcode {Bad flashstr1 value (valkey-flash) of key 'bad': module opcode 4 where the string value*}
            bad-encver {Bad flashstr1 value (valkey-flash) of key 'bad': unsupported module encoding version 2}
            negative-ttl {Bad flashstr1 value (valkey-flash) of key 'bad': negative ttl}
            nan-score {Bad flashzst1 value (valkey-flash) of key 'bad': NaN score}
            zset-duplicate {Bad flashzst1 value (valkey-flash) of key 'bad': duplicate zset member}
            list-huge-count {Bad flashlst1 value (valkey-flash) of key 'bad': element count larger than the file}
            unconsumed {*module type 'flashstr1', that the responsible module did not consume entirely}
            unknown-module {*no matching module type 'otherthg1'}
        } {
            flash_write_rdb $dir --corrupt $kind
            lassign [flash_run_until_exit $dir] status log
            assert_equal 1 $status "$kind: exit status"
            assert_match "*Internal error in RDB reading offset * -> $message\n*" $log
            assert_match {*Fatal error loading the DB*} $log
            assert_no_match {*BUG REPORT*} $log
            lassign [flash_check_rdb [file join $dir dump.rdb]] status out
            assert_equal 1 $status "$kind: valkey-check-rdb"
            assert_match "*$message*" $out
        }
    }

    file delete -force $dir
}
