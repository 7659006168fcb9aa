# Server management for the worker process: start_server, srv, r, extra clients.
#
# start_server {tags {..} overrides {directive value ..} config file keep_persistence 1
#               args {--directive value ..} binary path} {body}
# writes tests/tmp/server.<pid>.<n>/valkey.conf (the base config from tests/assets, then port,
# dir, daemonize no, logging to stdout, then the overrides, each written as
# "directive value" with the value as given, "" when empty), starts the server with stdout and
# stderr redirected to files in that directory, polls PING until it answers, runs the body with
# `r` talking to it, then stops it and fails the file if its log shows a crash or a sanitizer
# report. Servers nest: `srv 0 ...` is the newest, `srv -1 ...` the one around it.
#
# With --host/--port (external mode) nothing is started: every start_server talks to that
# server, applies its overrides with CONFIG SET (and restores them afterwards), and blocks
# tagged external:skip are skipped.

namespace eval ::th {
    variable servers {}          ;# stack of dicts, newest last
    variable server_serial 0
    variable next_port 0
    variable live_pids {}        ;# servers started and not yet stopped
    variable default_db 9        ;# every client the harness opens selects this database
}

# Patterns that, found in a server's stdout/stderr, mean the server crashed or a sanitizer
# found a bug.
set ::th::bad_log_patterns {
    "*ERROR: AddressSanitizer*"
    "*ERROR: LeakSanitizer*"
    "*runtime error:*"
    "*=== VALKEY BUG REPORT START*"
    "*=== REDIS BUG REPORT START*"
    "*crashed by signal*"
    "*ASSERTION FAILED*"
    "*Guru Meditation*"
}

# --- properties of the running servers -------------------------------------------------

# srv ?level? property: property of a server (level 0 newest, -1 the one around it).
proc srv {args} {
    set level 0
    if {[llength $args] > 1 || [string is integer -strict [lindex $args 0]]} {
        if {[string is integer -strict [lindex $args 0]]} {
            set level [lindex $args 0]
            set args [lrange $args 1 end]
        }
    }
    set index [expr {[llength $::th::servers] - 1 + $level}]
    if {$index < 0 || $index >= [llength $::th::servers]} {
        error "srv: no server at level $level"
    }
    set server [lindex $::th::servers $index]
    if {[llength $args] == 0} {
        return $server
    }
    set property [lindex $args 0]
    if {![dict exists $server $property]} {
        error "srv: server has no property '$property' ([join [dict keys $server] {, }])"
    }
    return [dict get $server $property]
}

proc ::th::set_srv {level property value} {
    set index [expr {[llength $::th::servers] - 1 + $level}]
    set server [lindex $::th::servers $index]
    dict set server $property $value
    lset ::th::servers $index $server
}

# r ?level? command args...: send a command with the main client of a server.
proc r {args} {
    set level 0
    if {[string is integer -strict [lindex $args 0]]} {
        set level [lindex $args 0]
        set args [lrange $args 1 end]
    }
    return [[srv $level client] {*}$args]
}

# A new client for a server, with the harness database selected.
proc valkey_client {{level 0}} {
    set client [valkey [srv $level host] [srv $level port] 0]
    ::th::select_default_db $client
    return $client
}

# A new client in deferred mode: commands are sent and replies read with `$c read`.
proc valkey_deferring_client {{level 0}} {
    set client [valkey [srv $level host] [srv $level port] 1]
    $client select $::th::default_db
    if {[catch {$client read} err]} {
        ::th::verbose "SELECT failed on a new client: $err"
    }
    return $client
}

interp alias {} redis_client {} valkey_client
interp alias {} redis_deferring_client {} valkey_deferring_client

# Replaces the main client of a server with a fresh connection.
proc reconnect {{level 0}} {
    catch {[srv $level client] close}
    ::th::set_srv $level client [valkey_client $level]
}

proc ::th::select_default_db {client} {
    if {[catch {$client select $::th::default_db} err]} {
        ::th::verbose "SELECT $::th::default_db failed: $err"
    }
}

# --- process helpers ---------------------------------------------------------------------

# True while the process exists and is not a zombie.
proc ::th::is_alive {pid} {
    if {[catch {open /proc/$pid/stat r} fd]} {
        return 0
    }
    set stat [read $fd]
    close $fd
    # The state letter follows the parenthesised command name.
    set state [string index [string trimleft [string range $stat [string last ")" $stat]+1 end]] 0]
    return [expr {$state ne "Z" && $state ne "X"}]
}

# Waits for a process to end, polling with a growing interval; returns 1 if it ended.
proc ::th::wait_exit {pid timeout_ms} {
    set deadline [expr {[clock milliseconds] + $timeout_ms}]
    set delay 1
    while {[::th::is_alive $pid]} {
        if {[clock milliseconds] > $deadline} {
            return 0
        }
        after $delay
        if {$delay < 20} {
            incr delay
        }
    }
    # Lets Tcl reap the finished child.
    catch {exec true}
    return 1
}

proc ::th::signal {pid sig} {
    catch {exec kill -$sig $pid}
}

proc ::th::file_tail {path {lines 30}} {
    if {[catch {open $path r} fd]} {
        return ""
    }
    fconfigure $fd -translation binary
    set data [read $fd]
    close $fd
    return [join [lrange [split [string trimright $data "\n"] "\n"] end-[expr {$lines - 1}] end] "\n"]
}

proc ::th::read_file {path} {
    if {[catch {open $path r} fd]} {
        return ""
    }
    fconfigure $fd -translation binary
    set data [read $fd]
    close $fd
    return $data
}

# --- ports ------------------------------------------------------------------------------

proc ::th::port_is_free {port} {
    if {[catch {socket -server ::th::refuse -myaddr 127.0.0.1 $port} listener]} {
        return 0
    }
    close $listener
    # Something listening on another address still answers connects.
    if {![catch {socket 127.0.0.1 $port} probe]} {
        close $probe
        return 0
    }
    return 1
}

proc ::th::refuse {chan args} {
    close $chan
}

# The next free port in this worker's slice [baseport + slot*portcount, +portcount).
proc ::th::find_free_port {} {
    set first [expr {$::opt(baseport) + $::opt(slot) * $::opt(portcount)}]
    if {$::th::next_port < $first} {
        set ::th::next_port $first
    }
    for {set tries 0} {$tries < $::opt(portcount)} {incr tries} {
        set port $::th::next_port
        incr ::th::next_port
        if {$::th::next_port >= $first + $::opt(portcount)} {
            set ::th::next_port $first
        }
        if {[::th::port_is_free $port]} {
            return $port
        }
    }
    error "no free port in $first..[expr {$first + $::opt(portcount) - 1}]"
}

# --- configuration ----------------------------------------------------------------------

# Reads a config file into an ordered dict directive -> list of raw value texts.
proc ::th::read_config {path} {
    set config [dict create]
    set fd [open $path r]
    foreach line [split [read $fd] "\n"] {
        set line [string trim $line]
        if {$line eq "" || [string index $line 0] eq "#"} {
            continue
        }
        set name [string tolower [lindex [split $line " "] 0]]
        set value [string trim [string range $line [string length $name] end]]
        dict lappend config $name $value
    }
    close $fd
    return $config
}

# Quotes a value for a config file when it is empty or holds spaces or quotes. (Override
# values are written as given, so {save {900 1}} and {rename-command {GET ""}} work.)
proc ::th::config_quote {value} {
    if {$value eq "" || [regexp {[\s"'\\]} $value]} {
        return "\"[string map {\\ \\\\ \" \\\"} $value]\""
    }
    return $value
}

proc ::th::write_config {path config} {
    set fd [open $path w]
    dict for {name values} $config {
        foreach value $values {
            puts $fd "$name $value"
        }
    }
    close $fd
}

# --- start_server -----------------------------------------------------------------------

proc start_server {options {code {}}} {
    # Tags may come quoted together, {"a b"}: that is the two tags a and b.
    set tags {}
    set overrides {}
    set config_name default.conf
    set keep_persistence 0
    set extra_args {}
    set binary $::opt(server_binary)
    dict for {key value} $options {
        switch -exact -- $key {
            tags { set tags [concat {*}$value] }
            overrides { set overrides $value }
            config { set config_name $value }
            keep_persistence { set keep_persistence $value }
            args { set extra_args $value }
            binary { set binary $value }
            default { error "start_server: unknown option '$key'" }
        }
    }
    set reason [::th::block_skip_reason $tags]
    if {$reason ne ""} {
        ::th::verbose "skipping a server block ($reason)"
        return
    }
    # The body runs in the scope that called start_server.
    set scope "#[expr {[info level] - 1}]"
    lappend ::th::tags_stack $tags
    set rc [catch {
        if {$::opt(external)} {
            ::th::run_with_external_server $overrides $scope $code
        } else {
            ::th::run_with_new_server $binary $config_name $overrides $extra_args \
                $keep_persistence $scope $code
        }
    } value options]
    set ::th::tags_stack [lrange $::th::tags_stack 0 end-1]
    return -options $options $value
}

# Blocks whose own tags are excluded are not started at all.
proc ::th::block_skip_reason {tags} {
    # With --tags, a block none of whose tags (its own and its enclosing blocks') is
    # allowed is not started either: its tests would all be skipped.
    if {[llength $::opt(allow_tags)] > 0} {
        set all [concat [::th::current_tags] $tags]
        set allowed 0
        foreach tag $::opt(allow_tags) {
            if {$tag in $all} { set allowed 1 }
        }
        if {!$allowed} { return "no tag among: $::opt(allow_tags)" }
    }
    foreach tag $tags {
        if {$tag in $::opt(deny_tags)} {
            return "tag $tag is excluded"
        }
        if {$tag eq "external:skip" && $::opt(external)} {
            return "not supported against an external server"
        }
    }
    return ""
}

proc ::th::run_with_external_server {overrides scope code} {
    set client [valkey $::opt(host) $::opt(port) 0]
    set restore {}
    if {[llength $::th::servers] == 0} {
        $client flushall
    }
    foreach {name value} $overrides {
        set old [$client config get $name]
        if {[catch {$client config set $name $value} err]} {
            ::th::result_skip "server block with overrides {$overrides}" \
                "the external server refused CONFIG SET $name: $err"
            foreach {name old} $restore {
                catch {$client config set $name $old}
            }
            $client close
            return
        }
        if {[llength $old] == 2} {
            lappend restore $name [lindex $old 1]
        }
    }
    ::th::select_default_db $client
    lappend ::th::servers [dict create host $::opt(host) port $::opt(port) client $client \
        pid 0 stdout "" stderr "" config_file "" dir "" binary "" external 1]
    set rc [catch {uplevel $scope $code} value options]
    # The body may have replaced the client (reconnect); close the current one.
    set server [lindex $::th::servers end]
    set ::th::servers [lrange $::th::servers 0 end-1]
    catch {[dict get $server client] close}
    if {[llength $restore] > 0} {
        set client [valkey $::opt(host) $::opt(port) 0]
        foreach {name old} $restore {
            catch {$client config set $name $old}
        }
        $client close
    }
    return -options $options $value
}

proc ::th::run_with_new_server {binary config_name overrides extra_args keep_persistence scope code} {
    # A server that does not start fails as one test; the rest of the file still runs.
    if {![file executable $binary]} {
        ::th::result_err "start_server (tags: [::th::current_tags])" \
            "server binary not found or not executable: $binary (build it with make, or pass --server-binary)"
        return
    }
    if {[catch {::th::spawn_server $binary $config_name $overrides $extra_args} server]} {
        ::th::result_err "start_server (tags: [::th::current_tags]; overrides: $overrides)" $server
        return
    }
    set failures_before [dict get $::th::counts failed]
    set client [valkey [dict get $server host] [dict get $server port] 0]
    ::th::select_default_db $client
    dict set server client $client
    lappend ::th::servers $server
    set rc [catch {uplevel $scope $code} value options]
    # The body may have replaced the client (reconnect); close the current one.
    set server [lindex $::th::servers end]
    set ::th::servers [lrange $::th::servers 0 end-1]
    catch {[dict get $server client] close}
    ::th::stop_server $server
    set problem [::th::check_server_log $server]
    if {$problem ne ""} {
        ::th::result_err "server log check ($binary on port [dict get $server port])" $problem
    }
    if {!$keep_persistence} {
        foreach pattern {*.rdb appendonlydir *.aof} {
            foreach path [glob -nocomplain -directory [dict get $server dir] $pattern] {
                file delete -force $path
            }
        }
    }
    set failed [expr {[dict get $::th::counts failed] > $failures_before || $rc == 1}]
    if {$::opt(dont_clean) || $failed} {
        ::th::verbose "server files kept in [dict get $server dir]"
    } else {
        file delete -force [dict get $server dir]
    }
    return -options $options $value
}

# Writes the config, starts the server and waits until it answers PING.
# Retries on another port if the chosen one was taken in the meantime.
proc ::th::spawn_server {binary config_name overrides extra_args} {
    set dir [file join $::th::root tests tmp "server.[pid].[incr ::th::server_serial]"]
    # A directory left by an earlier run whose pid was the same holds stale logs.
    file delete -force $dir
    file mkdir $dir
    set base [file join $::th::root tests assets $config_name]
    if {![file exists $base]} {
        set base $config_name
    }
    for {set attempt 1} {1} {incr attempt} {
        set port [::th::find_free_port]
        set config [::th::read_config $base]
        dict set config port [list $port]
        dict set config dir [list [::th::config_quote $dir]]
        dict set config daemonize [list no]
        dict set config logfile [list {""}]
        # A directive given several times in the overrides (rename-command, save) keeps
        # every value; each replaces what the base config said.
        set collected [dict create]
        foreach {name value} $overrides {
            if {$value eq ""} {
                set value {""}
            }
            dict lappend collected [string tolower $name] $value
        }
        dict for {name values} $collected {
            dict set config $name $values
        }
        set config_file [file join $dir valkey.conf]
        ::th::write_config $config_file $config
        set stdout [file join $dir stdout]
        set stderr [file join $dir stderr]
        set start [clock milliseconds]
        set pid [exec $binary $config_file {*}$extra_args >> $stdout 2>> $stderr &]
        lappend ::th::live_pids $pid
        ::th::send serverpid $pid
        set server [dict create host 127.0.0.1 port $port pid $pid stdout $stdout \
            stderr $stderr config_file $config_file dir $dir binary $binary external 0 \
            config $config]
        set status [::th::wait_ready $server]
        if {$status eq "ready"} {
            ::th::verbose "started $binary on port $port (pid $pid) in [expr {[clock milliseconds] - $start}] ms"
            return $server
        }
        ::th::stop_server $server
        set log "[::th::file_tail $stdout]\n[::th::file_tail $stderr]"
        if {$status eq "port busy" && $attempt < 3} {
            continue
        }
        error "server did not start ($status): $binary $config_file\n--- log tail ---\n[string trim $log]"
    }
}

# Polls until the server answers PING; returns ready, died, port busy or timeout.
proc ::th::wait_ready {server} {
    set pid [dict get $server pid]
    set deadline [expr {[clock milliseconds] + $::opt(start_timeout) * 1000}]
    set delay 1
    while {[clock milliseconds] < $deadline} {
        if {![::th::is_alive $pid]} {
            set log "[::th::read_file [dict get $server stdout]][::th::read_file [dict get $server stderr]]"
            if {[string match -nocase "*address already in use*" $log]} {
                return "port busy"
            }
            return "died"
        }
        if {![catch {socket [dict get $server host] [dict get $server port]} fd]} {
            fconfigure $fd -translation binary -blocking 1
            set reply ""
            catch {
                puts -nonewline $fd "PING\r\n"
                flush $fd
                gets $fd reply
            }
            close $fd
            if {[string match "+PONG*" $reply]} {
                return "ready"
            }
        }
        after $delay
        if {$delay < 10} {
            incr delay
        }
    }
    return "timeout"
}

# Stops a server: SHUTDOWN NOSAVE first (immediate, where SIGTERM waits for the server's
# cron), then SIGTERM, then SIGKILL if it still does not exit.
proc ::th::stop_server {server} {
    set pid [dict get $server pid]
    if {[::th::is_alive $pid] && ![::th::request_shutdown $server]} {
        ::th::signal $pid TERM
        if {![::th::wait_exit $pid [expr {$::opt(stop_timeout) * 1000}]]} {
            ::th::signal $pid KILL
            ::th::wait_exit $pid 5000
        }
    } else {
        catch {exec true}
    }
    set index [lsearch -exact $::th::live_pids $pid]
    if {$index >= 0} {
        set ::th::live_pids [lreplace $::th::live_pids $index $index]
    }
    ::th::send serverdone $pid
}

# Sends SHUTDOWN NOSAVE on a new connection; returns 1 once the process has exited, 0 when
# the server refused (an error reply) or did not exit within two seconds.
proc ::th::request_shutdown {server} {
    set pid [dict get $server pid]
    if {[catch {socket [dict get $server host] [dict get $server port]} fd]} {
        return 0
    }
    fconfigure $fd -translation binary -blocking 0
    if {[catch {
        puts -nonewline $fd "*2\r\n\$8\r\nSHUTDOWN\r\n\$6\r\nNOSAVE\r\n"
        flush $fd
    }]} {
        catch {close $fd}
        return 0
    }
    set deadline [expr {[clock milliseconds] + 2000}]
    set delay 1
    set exited 0
    while {[clock milliseconds] < $deadline} {
        if {![::th::is_alive $pid]} {
            set exited 1
            break
        }
        if {![catch {gets $fd line} n] && $n >= 0 && [string index $line 0] eq "-"} {
            break
        }
        after $delay
        if {$delay < 10} {
            incr delay
        }
    }
    catch {close $fd}
    if {$exited} {
        catch {exec true}
    }
    return $exited
}

# Returns a description of a crash or sanitizer report found in the server's output, or "".
proc ::th::check_server_log {server} {
    foreach stream {stdout stderr} {
        set text [::th::read_file [dict get $server $stream]]
        foreach pattern $::th::bad_log_patterns {
            if {[string match $pattern $text]} {
                set marker [string trim $pattern *]
                set at [string first $marker $text]
                set line_start [string last "\n" $text $at]
                set excerpt [string range $text [expr {$line_start + 1}] [expr {$at + 2000}]]
                return "the server's $stream ([dict get $server $stream]) shows '$marker':\n$excerpt"
            }
        }
    }
    return ""
}

# Appended to failure messages: says when a server under test is no longer running.
proc ::th::server_state_note {} {
    set notes {}
    foreach server $::th::servers {
        if {[dict get $server external]} {
            continue
        }
        set pid [dict get $server pid]
        if {![::th::is_alive $pid]} {
            lappend notes "the server on port [dict get $server port] (pid $pid) is not running; log tail:\n[::th::file_tail [dict get $server stdout] 20]\n[::th::file_tail [dict get $server stderr] 10]"
        }
    }
    return [join $notes "\n"]
}

# Kills every server this worker still has running (used when the worker is aborting).
proc ::th::kill_all_servers {} {
    foreach pid $::th::live_pids {
        ::th::signal $pid KILL
    }
    set ::th::live_pids {}
}
