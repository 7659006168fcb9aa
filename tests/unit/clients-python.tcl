# Real clients against our server, used unchanged:
# - redis-py (Debian's python3-redis) runs tests/helpers/redis_py_session.py, a session of
#   string and key commands (plain, pipelined, binary, scan_iter, RESP3 when redis-py >= 5);
#   skipped when no python3 on this machine can import redis;
# - redis-cli: a smoke test of its usual invocations;
# - redis-benchmark: a short pipelined run that must finish without errors.
# Each external program runs under `timeout`, so a server that stops answering fails the test
# instead of hanging the file.

namespace eval ::clients {
    variable helper [file join $::th::root tests helpers redis_py_session.py]
    variable python ""
    variable output ""
}

# The first python3 that can import redis (PATH may hold one without it, e.g. pyenv's).
proc ::clients::find_python {} {
    set candidates {}
    foreach name {python3} {
        foreach path [auto_execok $name] {
            lappend candidates $path
        }
    }
    lappend candidates /usr/bin/python3
    foreach candidate $candidates {
        if {[file executable $candidate] && ![catch {exec $candidate -c "import redis" 2>@1}]} {
            return $candidate
        }
    }
    return ""
}

# Runs a program with a time limit; returns {exit-status output}.
proc ::clients::run {seconds args} {
    set status 0
    if {[catch {exec timeout $seconds {*}$args 2>@1} output options]} {
        set code [dict get $options -errorcode]
        if {[lindex $code 0] ne "CHILDSTATUS"} {
            error $output
        }
        set status [lindex $code 2]
        regsub {\nchild process exited abnormally$} $output "" output
    }
    return [list $status $output]
}

start_server {tags {clients}} {
    set ::clients::python [::clients::find_python]

    test "redis-py: a session of string and key commands" {
        if {$::clients::python eq ""} {
            skip "no python3 with the redis module (apt-get install python3-redis)"
        }
        lassign [::clients::run 120 $::clients::python $::clients::helper [srv 0 host] [srv 0 port] 9] \
            status ::clients::output
        if {$status != 0} {
            fail "redis_py_session.py exited with $status:\n$::clients::output"
        }
        foreach line [split $::clients::output "\n"] {
            if {[string match "skip *" $line]} {
                puts "redis-py: $line"
            }
        }
        assert_match "*ok strings*ok counters*ok expiry*ok keys*ok scan*ok pipeline*ok binary*" \
            $::clients::output
    }

    test "redis-cli: ping, set, get, incr and errors" {
        set cli [cli_binary]
        set host [srv 0 host]
        set port [srv 0 port]
        assert_equal {0 PONG} [::clients::run 30 $cli -h $host -p $port ping]
        assert_equal {0 OK} [::clients::run 30 $cli -h $host -p $port set cli:key "hello world"]
        assert_equal {0 {hello world}} [::clients::run 30 $cli -h $host -p $port get cli:key]
        assert_equal {0 {"hello world"}} [::clients::run 30 $cli -h $host -p $port --no-raw get cli:key]
        assert_equal {0 {(integer) 1}} [::clients::run 30 $cli -h $host -p $port --no-raw incr cli:n]
        assert_equal {0 (nil)} [::clients::run 30 $cli -h $host -p $port --no-raw get cli:missing]
        lassign [::clients::run 30 $cli -h $host -p $port --no-raw foobar] status output
        assert_match "(error) ERR unknown command*" $output
        lassign [::clients::run 30 $cli -h $host -p $port --no-raw mget cli:key cli:missing] status output
        assert_equal "1) \"hello world\"\n2) (nil)" $output
    }

    test "redis-cli: commands from stdin and -x" {
        set cli [cli_binary]
        set host [srv 0 host]
        set port [srv 0 port]
        set out [exec timeout 30 $cli -h $host -p $port -n 9 << "set cli:a 1\nincr cli:a\nget cli:a\n"]
        assert_equal "OK\n2\n2" $out
        assert_equal 2 [r get cli:a]
        set out [exec timeout 30 $cli -h $host -p $port -n 9 -x set cli:stdin << "from\x00stdin"]
        assert_equal OK $out
        assert_equal "from\x00stdin" [r get cli:stdin]
    }

    test "redis-benchmark: a short pipelined run finishes without errors" {
        set benchmark [auto_execok redis-benchmark]
        if {$benchmark eq ""} {
            skip "redis-benchmark is not installed"
        }
        lassign [::clients::run 120 {*}$benchmark -h [srv 0 host] -p [srv 0 port] \
            -q -n 2000 -t set,get,incr,mset -P 16] status output
        assert_equal 0 $status "(redis-benchmark output: $output)"
        assert_no_match "*rror*" $output
        foreach name {SET GET INCR MSET} {
            assert_match "*$name*requests per second*" $output
        }
    }
}
