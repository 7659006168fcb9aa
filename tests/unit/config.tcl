# CONFIG GET / SET / RESETSTAT / REWRITE / HELP, the config file (include, quoting, fatal
# errors), stdin and command-line options.

# Scratch files for configs written before a server starts.
set ::cfgtmp [file join $::th::root tests tmp "config.[pid]"]
file mkdir $::cfgtmp

proc cfg_write {name text} {
    set path [file join $::cfgtmp $name]
    set fd [open $path w]
    puts -nonewline $fd $text
    close $fd
    return $path
}

proc cfg_read {path} {
    set fd [open $path r]
    set text [read $fd]
    close $fd
    return $text
}

proc cfg_lines {path} {
    split [string trimright [cfg_read $path] "\n"] "\n"
}

proc cfg_get {name} {
    lindex [r config get $name] 1
}

# Runs the server binary on a config and returns what it printed; the server must refuse
# to start (the test fails if it exits cleanly or keeps running).
proc cfg_start_fails {args} {
    if {![catch {exec timeout 10 $::opt(server_binary) {*}$args} out]} {
        fail "the server started with: $args"
    }
    if {[string match "*child killed*" $out] || [lindex $::errorCode 0] eq "CHILDSTATUS" &&
        [lindex $::errorCode 2] == 124} {
        fail "the server kept running with: $args"
    }
    return $out
}

start_server {tags {"config"}} {
    test {CONFIG GET of one directive is its name and value} {
        assert_equal [list port [srv 0 port]] [r config get port]
        assert_equal {timeout 0} [r config get timeout]
    }

    test {CONFIG GET with a glob returns every match} {
        set reply [r config get lazyfree-lazy-user-*]
        assert_equal {lazyfree-lazy-user-del lazyfree-lazy-user-flush} [lsort [dict keys $reply]]
        assert_equal 4 [llength $reply]
        assert_equal {slowlog-log-slower-than slowlog-max-len} [lsort [dict keys [r config get slowlog-*]]]
    }

    test {CONFIG GET with several patterns replies with each directive once} {
        set reply [r config get port timeout lazyfree-lazy-user-* port lazyfree-lazy-user-del]
        assert_equal 8 [llength $reply]
        assert_equal {lazyfree-lazy-user-del lazyfree-lazy-user-flush port timeout} [lsort [dict keys $reply]]
    }

    test {CONFIG GET ignores case and answers with the name as asked} {
        assert_equal [list PORT [srv 0 port]] [r config get PORT]
        assert_equal 2 [llength [r config get PORT port]]
        assert_equal {tcp-keepalive 300} [r config get TCP-KEEP?LIVE]
    }

    test {CONFIG GET of an unknown directive is empty} {
        assert_equal {} [r config get no-such-directive]
        assert_equal {} [r config get no-such-*]
    }

    test {CONFIG GET * lists every directive with a value} {
        set all [r config get *]
        assert_equal 0 [expr {[llength $all] % 2}]
        foreach name {bind port maxclients loglevel client-output-buffer-limit dir hz databases} {
            assert {[dict exists $all $name]}
        }
        assert_equal [llength [lsort -unique [dict keys $all]]] [expr {[llength $all] / 2}]
    }

    test {CONFIG GET replies with a map in RESP3} {
        r hello 3
        r readraw 1
        set header [r config get timeout]
        set rest [list [r read] [r read] [r read] [r read]]
        r readraw 0
        r hello 2
        assert_equal {%1} $header
        assert_equal [list {$7} timeout {$1} 0] $rest
    }

    test {CONFIG GET shows the defaults of special directives} {
        assert_equal {normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60} \
            [cfg_get client-output-buffer-limit]
        assert_equal {50 99 99.9} [cfg_get latency-tracking-info-percentiles]
        assert_equal {127.0.0.1} [cfg_get bind]
        assert_equal [file normalize [srv 0 dir]] [cfg_get dir]
    }

    test {CONFIG SET of a yes/no directive} {
        r config set activerehashing no
        assert_equal no [cfg_get activerehashing]
        r config set activerehashing YES
        assert_equal yes [cfg_get activerehashing]
        assert_error "ERR CONFIG SET failed (possibly related to argument 'activerehashing') - argument must be 'yes' or 'no'" \
            {r config set activerehashing 1}
        assert_equal yes [cfg_get activerehashing]
    }

    test {CONFIG SET of an integer directive: syntax and range} {
        r config set tcp-keepalive 60
        assert_equal 60 [cfg_get tcp-keepalive]
        assert_error "ERR CONFIG SET failed (possibly related to argument 'tcp-keepalive') - argument couldn't be parsed into an integer" \
            {r config set tcp-keepalive 6x}
        assert_error "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive" \
            {r config set timeout -1}
        assert_error "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive" \
            {r config set maxclients 0}
        assert_error "ERR CONFIG SET failed (possibly related to argument 'active-expire-effort') - argument must be between 1 and 10 inclusive" \
            {r config set active-expire-effort 11}
        assert_error "*argument couldn't be parsed into an integer" {r config set timeout 1.5}
        assert_error "*argument couldn't be parsed into an integer" {r config set timeout " 1"}
        r config set slowlog-log-slower-than -1
        assert_equal -1 [cfg_get slowlog-log-slower-than]
        r config set slowlog-log-slower-than 10000
        r config set tcp-keepalive 300
    }

    test {CONFIG SET of a memory directive accepts unit suffixes} {
        r config set proto-max-bulk-len 2mb
        assert_equal 2097152 [cfg_get proto-max-bulk-len]
        r config set proto-max-bulk-len 3000k
        assert_equal 3000000 [cfg_get proto-max-bulk-len]
        r config set client-query-buffer-limit 1G
        assert_equal 1000000000 [cfg_get client-query-buffer-limit]
        r config set client-query-buffer-limit 2Gb
        assert_equal 2147483648 [cfg_get client-query-buffer-limit]
        r config set proto-max-bulk-len 1048576
        assert_equal 1048576 [cfg_get proto-max-bulk-len]
        assert_error "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive" \
            {r config set proto-max-bulk-len 1k}
        assert_error "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value" \
            {r config set proto-max-bulk-len -1mb}
        assert_error "*argument must be a memory value" {r config set proto-max-bulk-len 10x}
        assert_error "*argument must be a memory value" {r config set proto-max-bulk-len 1.5mb}
        assert_equal 1048576 [cfg_get proto-max-bulk-len]
        r config set proto-max-bulk-len 512mb
        r config set client-query-buffer-limit 1gb
        assert_equal 536870912 [cfg_get proto-max-bulk-len]
    }

    test {CONFIG SET of an enum directive} {
        r config set loglevel warning
        assert_equal warning [cfg_get loglevel]
        r config set loglevel VERBOSE
        assert_equal verbose [cfg_get loglevel]
        assert_error "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning, nothing" \
            {r config set loglevel loud}
        assert_error "*must be one of the following*" {r config set loglevel "debug verbose"}
        assert_equal verbose [cfg_get loglevel]
    }

    test {CONFIG SET of a string directive with validation} {
        r config set proc-title-template "{title} on {port}"
        assert_equal "{title} on {port}" [cfg_get proc-title-template]
        r config set proc-title-template "{{literal}} {title}"
        assert_error "ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - template format is invalid or contains unknown variables" \
            {r config set proc-title-template "{title} {nosuchvar}"}
        assert_error "*template format is invalid*" {r config set proc-title-template ""}
        assert_error "*template format is invalid*" {r config set proc-title-template "\{title"}
        assert_equal "{{literal}} {title}" [cfg_get proc-title-template]
        r config set proc-title-template "{title} {listen-addr} {server-mode}"
    }

    test {CONFIG SET client-output-buffer-limit, per class} {
        r config set client-output-buffer-limit "pubsub 1mb 512kb 10"
        assert_equal {normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 10} \
            [cfg_get client-output-buffer-limit]
        r config set client-output-buffer-limit "replica 1gb 0 0 normal 0 0 0"
        assert_match {normal 0 0 0 slave 1073741824 0 0 *} [cfg_get client-output-buffer-limit]
        assert_error "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration." \
            {r config set client-output-buffer-limit "normal 1 2"}
        assert_error "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration." \
            {r config set client-output-buffer-limit "pubsub 1 1 1 master 1 2 3"}
        assert_error "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration." \
            {r config set client-output-buffer-limit "normal 1x 2 3"}
        assert_error "*Error in hard, soft or soft_seconds*" {r config set client-output-buffer-limit "normal 1 2 -3"}
        # A rejected line changes no class, not even the valid ones before the bad one.
        assert_match {* pubsub 1048576 524288 10} [cfg_get client-output-buffer-limit]
        r config set client-output-buffer-limit "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60"
        assert_equal {normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60} \
            [cfg_get client-output-buffer-limit]
    }

    test {CONFIG SET latency-tracking-info-percentiles} {
        r config set latency-tracking-info-percentiles "50 99.99 0.00001 12.123456789"
        assert_equal {50 99.99 0.00001 12.123457} [cfg_get latency-tracking-info-percentiles]
        r config set latency-tracking-info-percentiles ""
        assert_equal {} [cfg_get latency-tracking-info-percentiles]
        assert_error "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between \\\[0.0,100.0\\\]" \
            {r config set latency-tracking-info-percentiles "50 100.1"}
        assert_error "*Invalid latency-tracking-info-percentiles parameters" \
            {r config set latency-tracking-info-percentiles "50 abc"}
        r config set latency-tracking-info-percentiles "50 99 99.9"
        assert_equal {50 99 99.9} [cfg_get latency-tracking-info-percentiles]
    }

    test {CONFIG SET notify-keyspace-events} {
        r config set notify-keyspace-events Kx
        assert_equal xK [cfg_get notify-keyspace-events]
        assert_error "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag\$lshzxeKEtmdn'." \
            {r config set notify-keyspace-events "K w"}
        assert_equal xK [cfg_get notify-keyspace-events]
        r config set notify-keyspace-events ""
        assert_equal {} [cfg_get notify-keyspace-events]
    }

    test {CONFIG SET bind refuses more than 16 addresses} {
        set addrs [lrepeat 17 127.0.0.1]
        assert_error "ERR CONFIG SET failed (possibly related to argument 'bind') - Too many bind addresses specified." \
            [list r config set bind [join $addrs " "]]
        assert_equal 127.0.0.1 [cfg_get bind]
    }

    test {CONFIG SET hz is clamped to 1..500} {
        r config set hz 1000
        assert_equal 500 [cfg_get hz]
        r config set hz 0
        assert_equal 1 [cfg_get hz]
        assert_error "*argument must be between 0 and 2147483647 inclusive" {r config set hz -1}
        r config set hz 10
        assert_equal 10 [cfg_get hz]
    }

    test {busy-poll-usec: 10 by default, 0..1000, and an idle server spends no CPU spinning} {
        assert_equal 10 [cfg_get busy-poll-usec]
        assert_error "*argument must be between 0 and 1000 inclusive" {r config set busy-poll-usec 1001}
        r config set busy-poll-usec 1000
        assert_equal 1000 [cfg_get busy-poll-usec]
        # A spin of up to 1 ms follows each busy turn; with no requests, the loop sleeps.
        r ping
        set before [s used_cpu_user]
        after 1000
        set spent [expr {[s used_cpu_user] - $before}]
        assert_lessthan $spent 0.05 "(user CPU seconds in 1 s of idleness)"
        r config set busy-poll-usec 0
        assert_equal PONG [r ping]
        r config set busy-poll-usec 10
    }

    test {fanout-gather-usec: 100 by default, 0..1000} {
        assert_equal 100 [cfg_get fanout-gather-usec]
        assert_error "*argument must be between 0 and 1000 inclusive" {r config set fanout-gather-usec 1001}
        assert_error "*argument must be between 0 and 1000 inclusive" {r config set fanout-gather-usec -1}
        r config set fanout-gather-usec 0
        assert_equal 0 [cfg_get fanout-gather-usec]
        r config set fanout-gather-usec 100
    }

    test {CONFIG SET errors: unknown, immutable, protected, duplicate, odd arguments} {
        assert_error "ERR Unknown option or number of arguments for CONFIG SET - 'foo'" {r config set foo bar}
        assert_error "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config" \
            {r config set daemonize yes}
        assert_error "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config" \
            {r config set databases 20}
        assert_error "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config" \
            {r config set dir /tmp}
        assert_error "ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter" \
            {r config set timeout 1 timeout 2}
        assert_error "ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter" \
            {r config set timeout 1 TIMEOUT 2}
        assert_error "ERR syntax error" {r config set timeout 1 loglevel}
        assert_error "ERR wrong number of arguments for 'config|set' command" {r config set timeout}
        # The first problem found is the one reported.
        assert_error "*can't set immutable config" {r config set daemonize yes foo bar}
        assert_error "*Unknown option*'foo'" {r config set foo bar daemonize yes}
        assert_equal {timeout 0} [r config get timeout]
    }

    test {CONFIG SET of several directives applies all of them} {
        r config set timeout 100 tcp-keepalive 200 loglevel notice
        assert_equal {100 200 notice} [list [cfg_get timeout] [cfg_get tcp-keepalive] [cfg_get loglevel]]
        r config set timeout 0 tcp-keepalive 300 loglevel verbose
    }

    test {CONFIG SET is atomic: one bad value and nothing changes} {
        assert_error "*argument 'maxclients'*" {r config set timeout 100 tcp-keepalive 5 maxclients 0}
        assert_equal {0 300} [list [cfg_get timeout] [cfg_get tcp-keepalive]]
        assert_error "*Unknown option*" {r config set timeout 100 nosuch 1}
        assert_equal 0 [cfg_get timeout]
        assert_error "*client-output-buffer-limit*" \
            {r config set latency-tracking-info-percentiles "10 20" client-output-buffer-limit "normal 1"}
        assert_equal {50 99 99.9} [cfg_get latency-tracking-info-percentiles]
    }

    test {CONFIG SET rolls back when applying a value fails} {
        # A port someone else holds: listening on it fails after the values were stored.
        set holder [socket -server {apply {{chan addr port} {close $chan}}} -myaddr 127.0.0.1 0]
        set busy [lindex [fconfigure $holder -sockname] 2]
        catch {r config set timeout 42 port $busy} err
        close $holder
        assert_match "ERR CONFIG SET failed (possibly related to argument 'port') - *" $err
        assert_equal [list [srv 0 port] 0] [list [cfg_get port] [cfg_get timeout]]
        assert_equal PONG [r ping]
        set other [valkey_client]
        assert_equal PONG [$other ping]
        $other close
    }

    test {CONFIG SET of a sensitive directive is redacted from the slow log} {
        r config set slowlog-log-slower-than 0
        r slowlog reset
        r config set requirepass s3cret
        r config set slowlog-log-slower-than 10000
        set entries [r slowlog get]
        r config set requirepass ""
        set found 0
        foreach entry $entries {
            set argv [lindex $entry 3]
            if {[string tolower [lrange $argv 0 2]] eq {config set requirepass}} {
                assert_equal {(redacted)} [lindex $argv 3]
                set found 1
            }
        }
        assert_equal 1 $found
        assert_equal {requirepass {}} [r config get requirepass]
    }

    test {CONFIG RESETSTAT clears the statistics} {
        r set k v
        catch {r nosuchcommand}
        assert_morethan [s total_commands_processed] 2
        r config resetstat
        assert_lessthan [s total_commands_processed] 3
        assert_no_match "*errorstat_ERR*" [r info errorstats]
        assert_no_match "*cmdstat_set:*" [r info commandstats]
    }

    test {CONFIG HELP} {
        set help [r config help]
        assert_match "CONFIG <subcommand> *" [lindex $help 0]
        foreach sub {GET SET RESETSTAT REWRITE HELP} {
            assert {[lsearch -glob $help "$sub*"] >= 0}
        }
        assert_error "*unknown subcommand*" {r config nosuch}
    }
}

start_server {tags {"config"} overrides {unixsocketperm 755 timeout 7 loglevel warning}} {
    test {Directives from the config file are in effect} {
        assert_equal {755 7 warning} [list [cfg_get unixsocketperm] [cfg_get timeout] [cfg_get loglevel]]
        assert_error "*can't set immutable config" {r config set unixsocketperm 700}
    }
}

start_server {tags {"config"} overrides {timeout 10} args {--timeout 55 --tcp-keepalive 9 --loglevel notice}} {
    test {Command-line options come after the file and win} {
        assert_equal {55 9 notice} [list [cfg_get timeout] [cfg_get tcp-keepalive] [cfg_get loglevel]]
    }
}

start_server {tags {"config external:skip"} overrides {enable-protected-configs yes}} {
    test {CONFIG SET dir when protected configs are enabled} {
        set sub [file join [srv 0 dir] subdir]
        file mkdir $sub
        r config set dir $sub
        assert_equal [file normalize $sub] [cfg_get dir]
        assert_error "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory" \
            {r config set dir [file join $sub missing]}
        assert_equal [file normalize $sub] [cfg_get dir]
        r config set dir [srv 0 dir]
    }
}

set ::inc1 [cfg_write inc1.conf "# an included file\ntimeout 77\ntcp-keepalive 11\n"]
file mkdir [file join $::cfgtmp conf.d]
cfg_write conf.d/a.conf "timeout 1\nhz 20\n"
cfg_write conf.d/b.conf "timeout 2\n"

start_server [list tags {"config external:skip"} overrides [list include $::inc1]] {
    test {include reads another file} {
        assert_equal {77 11} [list [cfg_get timeout] [cfg_get tcp-keepalive]]
    }
}

start_server [list tags {"config external:skip"} \
        overrides [list include [file join $::cfgtmp conf.d *.conf]]] {
    test {include with a wildcard reads every match in name order} {
        assert_equal {2 20} [list [cfg_get timeout] [cfg_get hz]]
    }
}

start_server [list tags {"config external:skip"} \
        overrides [list include [file join $::cfgtmp nothing-here *.conf]]] {
    test {include of a wildcard matching nothing is not an error} {
        assert_equal PONG [r ping]
    }
}

set ::rewritten [file join $::cfgtmp rewritten.conf]

start_server {tags {"config external:skip"}} {
    test {CONFIG REWRITE keeps comments and lines it does not own} {
        set path [srv 0 config_file]
        set original [cfg_read $path]
        set fd [open $path w]
        puts $fd "# A comment at the top, kept as is"
        puts -nonewline $fd $original
        puts $fd "   # an indented comment"
        puts $fd "include $::inc1"
        puts $fd "timeout 0"
        puts $fd "syslog-ident valkey"
        puts $fd "client-output-buffer-limit normal 0 0 0"
        puts $fd "client-output-buffer-limit replica 256mb 64mb 60"
        close $fd
        r config set tcp-keepalive 99 maxclients 123 timeout 5 client-output-buffer-limit "normal 1mb 0 0"
        r config rewrite
        set lines [cfg_lines $path]
        assert_equal "# A comment at the top, kept as is" [lindex $lines 0]
        # Unchanged lines stay as written (no added quotes).
        assert {[lsearch -exact $lines "syslog-ident valkey"] >= 0}
        # One line per client class, updated where the user put them.
        set normal [lsearch -exact $lines "client-output-buffer-limit normal 1mb 0 0"]
        set replica [lsearch -exact $lines "client-output-buffer-limit replica 256mb 64mb 60"]
        set pubsub [lsearch -exact $lines "client-output-buffer-limit pubsub 32mb 8mb 60"]
        assert {$normal > 0 && $replica == $normal + 1 && $pubsub == $replica + 1}
        assert {[lsearch -glob $lines "*# an indented comment"] >= 0}
        assert {[lsearch -exact $lines "include $::inc1"] >= 0}
        # timeout was in the file: updated where it was, not appended.
        assert_equal 1 [llength [lsearch -all -glob $lines "timeout *"]]
        assert {[lsearch -exact $lines "timeout 5"] > [lsearch -exact $lines "include $::inc1"]}
        set marker [lsearch -exact $lines "# Generated by CONFIG REWRITE"]
        assert {$marker > 0}
        assert {[lsearch -exact $lines "tcp-keepalive 99"] > $marker}
        assert {[lsearch -exact $lines "maxclients 123"] > $marker}
    }

    test {CONFIG REWRITE updates lines in place and drops generated lines back at default} {
        set path [srv 0 config_file]
        r config set loglevel notice tcp-keepalive 300 maxclients 10000 timeout 0 \
            client-output-buffer-limit "normal 0 0 0"
        r config rewrite
        set lines [cfg_lines $path]
        assert {[lsearch -exact $lines "client-output-buffer-limit normal 0 0 0"] >= 0}
        # Written by the user (the harness): updated even though it is the default now.
        assert {[lsearch -exact $lines "loglevel notice"] >= 0}
        assert_equal {} [lsearch -all -glob $lines "loglevel verbose"]
        assert {[lsearch -exact $lines "timeout 0"] >= 0}
        # Generated by the previous rewrite and back at the default: removed.
        assert_equal {} [lsearch -all -glob $lines "tcp-keepalive *"]
        assert_equal {} [lsearch -all -glob $lines "maxclients *"]
    }

    test {CONFIG REWRITE writes values in a form the server reads back} {
        set path [srv 0 config_file]
        r config set client-output-buffer-limit "pubsub 64mb 16mb 30" \
            latency-tracking-info-percentiles "50 99.5" proc-title-template "{title} x \"q\"" \
            notify-keyspace-events KEA proto-max-bulk-len 1048577 client-query-buffer-limit 2gb \
            tcp-keepalive 123
        r config rewrite
        set lines [cfg_lines $path]
        assert {[lsearch -exact $lines "client-output-buffer-limit pubsub 64mb 16mb 30"] >= 0}
        assert {[lsearch -exact $lines "latency-tracking-info-percentiles 50 99.5"] >= 0}
        assert {[lsearch -exact $lines "client-query-buffer-limit 2gb"] >= 0}
        assert {[lsearch -exact $lines "proto-max-bulk-len 1048577"] >= 0}
        assert {[lsearch -exact $lines {proc-title-template "{title} x \"q\""}] >= 0}
        assert {[lsearch -glob $lines "dir *"] >= 0}
        file copy -force $path $::rewritten
        # A second rewrite with nothing changed leaves the file as it is.
        set before [cfg_read $path]
        r config rewrite
        assert_equal $before [cfg_read $path]
    }
}

start_server [list tags {"config external:skip"} config $::rewritten] {
    test {A rewritten config loads back with the same values} {
        assert_equal {normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 30} \
            [cfg_get client-output-buffer-limit]
        assert_equal {50 99.5} [cfg_get latency-tracking-info-percentiles]
        assert_equal "{title} x \"q\"" [cfg_get proc-title-template]
        assert_equal {A E K} [lsort [split [cfg_get notify-keyspace-events] ""]]
        assert_equal {1048577 2147483648 123} \
            [list [cfg_get proto-max-bulk-len] [cfg_get client-query-buffer-limit] [cfg_get tcp-keepalive]]
    }
}

tags {"config external:skip"} {
    test {CONFIG REWRITE without a config file is an error} {
        set port [::th::find_free_port]
        set pid [exec $::opt(server_binary) --port $port --bind 127.0.0.1 --dir $::cfgtmp \
            --logfile [file join $::cfgtmp noconf.log] >& /dev/null &]
        set c ""
        wait_for_condition 100 50 {![catch {set c [valkey 127.0.0.1 $port 0]}]} else {
            catch {exec kill $pid}
            fail "server without a config file did not start"
        }
        catch {$c config rewrite} err
        catch {$c shutdown nosave}
        catch {$c close}
        ::th::wait_exit $pid 5000
        catch {exec kill $pid}
        assert_equal "ERR The server is running without a config file" $err
    }

    test {A bad directive in the file is a fatal error naming the line} {
        set path [cfg_write bad1.conf "# comment\nport 0\nfoo bar\n"]
        set out [cfg_start_fails $path]
        assert_match "*\n\*\*\* FATAL CONFIG FILE ERROR (Version *) \*\*\*\nReading the configuration file, at line 3\n>>> 'foo bar'\nBad directive or wrong number of arguments*" $out
    }

    test {A bad value in the file is a fatal error with the reason} {
        set path [cfg_write bad2.conf "maxclients 0\n"]
        assert_match "*at line 1\n>>> 'maxclients 0'\nargument must be between 1 and 4294967295 inclusive*" \
            [cfg_start_fails $path]
        set path [cfg_write bad3.conf "port 0\ntimeout 1 2\n"]
        assert_match "*at line 2\n>>> 'timeout 1 2'\nwrong number of arguments*" [cfg_start_fails $path]
        set path [cfg_write bad4.conf "port 0\nlogfile \"unterminated\n"]
        assert_match "*at line 2\n>>> 'logfile \"unterminated'\nUnbalanced quotes in configuration line*" \
            [cfg_start_fails $path]
        set path [cfg_write bad5.conf "port 0\nunixsocketperm 999\n"]
        assert_match "*argument couldn't be parsed as an octal number*" [cfg_start_fails $path]
        set path [cfg_write bad6.conf "port 0\nloglevel loud\n"]
        assert_match "*argument(s) must be one of the following: debug, verbose, notice, warning, nothing*" \
            [cfg_start_fails $path]
    }

    test {An error in an included file names the line of that file} {
        set inc [cfg_write badinc.conf "timeout 1\n\ntimeout x\n"]
        set path [cfg_write bad7.conf "port 0\ninclude $inc\n"]
        assert_match "*at line 3\n>>> 'timeout x'\nargument couldn't be parsed into an integer*" [cfg_start_fails $path]
    }

    test {A missing config file is fatal} {
        set out [cfg_start_fails [file join $::cfgtmp no-such.conf]]
        assert_match "*Fatal error, can't open config file '*no-such.conf': No such file or directory*" $out
    }

    test {A bad command-line option is a fatal error} {
        set out [cfg_start_fails --port 0 --no-such-option 1]
        assert_match "*FATAL CONFIG FILE ERROR*>>> 'no-such-option*'\nBad directive or wrong number of arguments*" $out
        set out [cfg_start_fails --port 99999]
        assert_match "*>>> 'port*99999*'\nargument must be between 0 and 65535 inclusive*" $out
    }

    test {Config from stdin, after the file} {
        set path [cfg_write ok.conf "port 0\n"]
        set out [cfg_start_fails $path - << "timeout 5\nbogus-directive 1\n"]
        assert_match "*Reading config from stdin*at line 3\n>>> 'bogus-directive 1'*" $out
    }
}

file delete -force $::cfgtmp
