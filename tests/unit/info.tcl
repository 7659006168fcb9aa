# INFO: which sections each argument selects, the fields and their formats, the
# per-command statistics (commandstats, errorstats, latencystats), the keyspace lines,
# and CONFIG RESETSTAT.

proc info_sections {info} {
    set names {}
    foreach line [split $info "\n"] {
        if {[regexp {^# (\w+)} $line -> name]} {
            lappend names $name
        }
    }
    return $names
}

proc info_field_names {info} {
    set names {}
    foreach line [split $info "\n"] {
        if {[regexp {^([a-z_0-9|]+):} $line -> name]} {
            lappend names $name
        }
    }
    return $names
}

# Expected Valkey 8 rendering of a byte count (INFO *_human fields).
proc human_bytes {n} {
    if {$n < 1024} {
        return "${n}B"
    }
    set d [expr {double($n) / 1024}]
    foreach unit {K M G T P} {
        if {$d < 1024 || $unit eq "P"} {
            return [format "%.2f%s" $d $unit]
        }
        set d [expr {$d / 1024}]
    }
}

start_server {tags {"info"}} {
    test {INFO without arguments shows the default sections} {
        assert_equal {Server Clients Memory Persistence Stats Replication CPU Modules Errorstats Cluster Keyspace} \
            [info_sections [r info]]
        assert_equal [info_sections [r info]] [info_sections [r info default]]
    }

    test {INFO all and everything add commandstats and latencystats} {
        set all {Server Clients Memory Persistence Stats Replication CPU Modules Commandstats Errorstats Latencystats Cluster Keyspace}
        assert_equal $all [info_sections [r info all]]
        assert_equal $all [info_sections [r info everything]]
        assert_equal $all [info_sections [r info default commandstats latencystats]]
    }

    test {INFO sections are case-insensitive and come in the server's order} {
        assert_equal {Server Keyspace} [info_sections [r info KEYSPACE Server]]
        assert_equal {CPU} [info_sections [r info cpu cpu]]
        assert_equal {Clients Commandstats} [info_sections [r info commandstats CLIENTS]]
    }

    test {INFO with an unknown section replies an empty string} {
        assert_equal {} [r info nosuchsection]
        assert_equal {Server} [info_sections [r info nosuchsection server]]
    }

    test {INFO text: CRLF line ends and one blank line between sections} {
        r readraw 1
        set header [r info server clients]
        set info [read [r channel] [expr {[string range $header 1 end] + 2}]]
        r readraw 0
        assert_match {$*} $header
        assert_equal "\r\n" [string range $info end-1 end]
        set info [string range $info 0 end-2]
        assert_match "# Server\r\n*\r\n\r\n# Clients\r\n*" $info
        assert_equal "\r\n" [string range $info end-1 end]
        assert_no_match "*\r\n\r\n" $info
    }

    test {INFO server fields} {
        set info [r info server]
        assert_equal 7.2.4 [getInfoProperty $info redis_version]
        assert_equal valkey [getInfoProperty $info server_name]
        assert_match {[0-9]*.[0-9]*.[0-9]*} [getInfoProperty $info valkey_version]
        assert_equal standalone [getInfoProperty $info server_mode]
        assert_match {[0-9a-f]*} [getInfoProperty $info redis_build_id]
        assert_equal 16 [string length [getInfoProperty $info redis_build_id]]
        assert_equal 40 [string length [getInfoProperty $info run_id]]
        assert_equal [srv 0 port] [getInfoProperty $info tcp_port]
        assert_equal epoll [getInfoProperty $info multiplexing_api]
        assert_equal 10 [getInfoProperty $info hz]
        assert_equal 10 [getInfoProperty $info configured_hz]
        assert_range [getInfoProperty $info uptime_in_seconds] 0 1000
        assert_equal 0 [getInfoProperty $info uptime_in_days]
        assert_range [expr {[getInfoProperty $info server_time_usec] / 1000000}] \
            [expr {[clock seconds] - 2}] [expr {[clock seconds] + 2}]
        assert_match "listener0:name=tcp,bind=*,port=[srv 0 port]" \
            [lsearch -inline [split $info "\r\n"] listener0:*]
        if {![srv 0 external]} {
            assert_equal [srv 0 pid] [getInfoProperty $info process_id]
        }
    }

    test {INFO fields follow Valkey 8's order} {
        set names [info_field_names [r info everything]]
        foreach {before after} {
            redis_version server_name server_name valkey_version tcp_port server_time_usec
            connected_clients cluster_connections used_memory used_memory_human
            used_memory_startup used_memory_dataset maxmemory_policy allocator_frag_ratio
            mem_allocator mem_overhead_db_hashtable_rehashing loading async_loading
            aof_enabled aof_rewrite_in_progress total_connections_received total_commands_processed
            keyspace_hits keyspace_misses total_error_replies dump_payload_sanitizations
            eventloop_cycles eventloop_duration_sum role connected_slaves
            master_replid master_replid2 used_cpu_sys used_cpu_user cluster_enabled cluster_enabled
        } {
            assert_lessthan_equal [lsearch $names $before] [lsearch $names $after] "$before before $after"
            assert_morethan_equal [lsearch $names $before] 0 "$before present"
        }
    }

    test {INFO memory: sizes and their human forms} {
        set info [r info memory]
        foreach field {used_memory used_memory_rss used_memory_peak} {
            set n [getInfoProperty $info $field]
            assert_match {[0-9]*} $n
            assert_equal [human_bytes $n] [getInfoProperty $info ${field}_human] $field
        }
        assert_morethan [getInfoProperty $info used_memory] 0
        assert_morethan_equal [getInfoProperty $info used_memory_peak] [getInfoProperty $info used_memory_startup]
        assert_match {*%} [getInfoProperty $info used_memory_peak_perc]
        assert_match {*.[0-9][0-9]} [getInfoProperty $info mem_fragmentation_ratio]
        assert {[regexp {^(jemalloc-[0-9.]+|libc)$} [getInfoProperty $info mem_allocator]]}
        assert_equal [human_bytes [getInfoProperty $info total_system_memory]] \
            [getInfoProperty $info total_system_memory_human]
    }

    # maxmemory becomes settable with the eviction work; until then it reads as unlimited.
    test {INFO memory: maxmemory is unlimited and the policy noeviction} {
        assert_equal 0 [s maxmemory]
        assert_equal 0B [s maxmemory_human]
        assert_equal noeviction [s maxmemory_policy]
    }

    test {human sizes: bytes, then K, M, G with two decimals} {
        assert_equal 0B [human_bytes 0]
        assert_equal 1023B [human_bytes 1023]
        assert_equal 1.00K [human_bytes 1024]
        assert_equal 982.84K [human_bytes 1006424]
        assert_equal 23.54G [human_bytes 25276510208]
    }

    test {INFO memory grows with the dataset} {
        r flushall
        set before [s used_memory]
        for {set j 0} {$j < 200} {incr j} {
            r set key:$j [string repeat x 100]
        }
        assert_morethan [s used_memory] [expr {$before + 200 * 100}]
        r flushall
    }

    test {INFO clients} {
        set rd [valkey_client]
        assert_morethan_equal [s connected_clients] 2
        assert_equal [lindex [r config get maxclients] 1] [s maxclients]
        $rd close
        wait_for_condition 50 20 {[s connected_clients] >= 1} else {fail "no clients"}
        assert_equal 0 [s blocked_clients]
    }

    test {INFO persistence and replication of a fresh primary} {
        set info [r info persistence replication]
        assert_equal 0 [getInfoProperty $info loading]
        assert_equal ok [getInfoProperty $info rdb_last_bgsave_status]
        assert_equal -1 [getInfoProperty $info rdb_last_bgsave_time_sec]
        assert_equal 0 [getInfoProperty $info aof_enabled]
        assert_equal master [getInfoProperty $info role]
        assert_equal 0 [getInfoProperty $info connected_slaves]
        assert_match {[0-9a-f]*} [getInfoProperty $info master_replid]
        assert_equal 40 [string length [getInfoProperty $info master_replid]]
        assert_equal [string repeat 0 40] [getInfoProperty $info master_replid2]
        assert_equal -1 [getInfoProperty $info second_repl_offset]
        assert_equal [getInfoProperty $info master_replid] [s master_replid]
    }

    test {INFO cpu: seconds with six decimals} {
        set info [r info cpu]
        foreach field {used_cpu_sys used_cpu_user used_cpu_sys_children used_cpu_user_children
                       used_cpu_sys_main_thread used_cpu_user_main_thread} {
            assert_match {[0-9]*.[0-9][0-9][0-9][0-9][0-9][0-9]} [getInfoProperty $info $field] $field
        }
    }

    test {INFO cluster and modules of a standalone server} {
        assert_equal "# Cluster\r\ncluster_enabled:0\r\n" [r info cluster]
        assert_equal "# Modules\r\n" [r info modules]
    }

    test {INFO keyspace: one line per non-empty database} {
        r flushall
        assert_equal "# Keyspace\r\n" [r info keyspace]
        r set a 1
        r set b 2
        r set c 3 ex 100
        assert_match "*db9:keys=3,expires=1,avg_ttl=*" [r info keyspace]
        r select 10
        r set x y
        set info [r info keyspace]
        r select 9
        assert_match "*db9:keys=3,*" $info
        assert_match "*db10:keys=1,expires=0,avg_ttl=0*" $info
        r flushall
        assert_equal "# Keyspace\r\n" [r info keyspace]
    }

    test {INFO stats: keyspace hits and misses} {
        r config resetstat
        r set k v
        r get k
        r get k
        r get nokey
        assert_equal 2 [s keyspace_hits]
        assert_equal 1 [s keyspace_misses]
    }

    test {INFO commandstats: calls per command} {
        r config resetstat
        r set foo bar
        r get foo
        r get foo
        set info [r info commandstats]
        assert_match {*cmdstat_set:calls=1,usec=*,usec_per_call=*,rejected_calls=0,failed_calls=0*} $info
        assert_match {*cmdstat_get:calls=2,usec=*,usec_per_call=*,rejected_calls=0,failed_calls=0*} $info
        assert_no_match {*cmdstat_incr*} $info
        assert_match {*cmdstat_config|resetstat:calls=1,*} $info
    }

    test {INFO commandstats: failed and rejected calls} {
        r config resetstat
        r set foo bar
        catch {r incr foo}
        catch {r set}
        set info [r info commandstats]
        assert_match {*cmdstat_incr:calls=1,*,rejected_calls=0,failed_calls=1*} $info
        assert_match {*cmdstat_set:calls=1,*,rejected_calls=1,failed_calls=0*} $info
    }

    test {INFO errorstats: counts by error code} {
        r config resetstat
        assert_equal "# Errorstats\r\n" [r info errorstats]
        r set foo bar
        catch {r incr foo}
        catch {r incr foo}
        catch {r nosuchcommand}
        catch {r hello 4} err
        assert_match {NOPROTO*} $err
        set info [r info errorstats]
        assert_match {*errorstat_ERR:count=3*} $info
        assert_match {*errorstat_NOPROTO:count=1*} $info
        assert_equal 4 [s total_error_replies]
    }

    test {INFO latencystats: percentiles per command} {
        r config resetstat
        r set a b
        r get a
        set info [r info latencystats]
        assert_match {*latency_percentiles_usec_set:p50=*,p99=*,p99.9=*} $info
        assert_match {*latency_percentiles_usec_get:p50=*,p99=*,p99.9=*} $info
        regexp {latency_percentiles_usec_set:p50=([0-9.]+),} $info -> p50
        assert_morethan $p50 0
    }

    test {CONFIG RESETSTAT zeroes the statistics} {
        r set x y
        r get x
        catch {r incr x}
        r config resetstat
        set info [r info everything]
        # CONFIG RESETSTAT itself is counted once it has run.
        assert_equal 1 [getInfoProperty $info total_commands_processed]
        assert_equal 0 [getInfoProperty $info keyspace_hits]
        assert_equal 0 [getInfoProperty $info total_error_replies]
        assert_no_match {*cmdstat_get*} $info
        assert_no_match {*errorstat_*} $info
        assert_no_match {*latency_percentiles_usec_get*} $info
        assert_equal 0 [getInfoProperty $info rejected_connections]
    }

    test {INFO stats: connections and network bytes} {
        set before [s total_connections_received]
        set rd [valkey_client]
        $rd ping
        $rd close
        assert_equal [expr {$before + 1}] [s total_connections_received]
        assert_morethan [s total_net_input_bytes] 0
        assert_morethan [s total_net_output_bytes] 0
    }

    test {INFO stats: instantaneous_ops_per_sec follows the load} {
        set deadline [expr {[clock milliseconds] + 1500}]
        while {[clock milliseconds] < $deadline} {
            r ping
        }
        assert_morethan [s instantaneous_ops_per_sec] 0
        assert_match {*.[0-9][0-9]} [s instantaneous_input_kbps]
    }

    test {INFO in RESP3 is a verbatim string} {
        r hello 3
        r readraw 1
        set first [r info cpu]
        set body [read [r channel] [expr {[string range $first 1 end] + 2}]]
        r readraw 0
        r hello 2
        assert_match {=*} $first
        assert_match "txt:# CPU\r\nused_cpu_sys:*\r\n\r\n" $body
    }
}
