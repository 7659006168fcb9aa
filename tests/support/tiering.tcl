# Helpers of the tiering tests (tests/unit/tiering/*.tcl source this file; the worker does
# not load it by itself).
#
# A test makes a key cold with FLASH.DEBUG.DEMOTE, checks OBJECT TIER says so, runs the
# command and compares the reply with what the same command gives on a "twin": a key
# built by the same commands and never demoted. `@` in a command stands for the key.

# The start_server overrides of a tiering server: a flash file in the server's own dir
# (a relative flash-path resolves in `dir`), every value demotable. hz 500: a lone
# demotion lands after two event-loop turns (the store writes a partial block once its
# records waited one flush), and an idle server turns once per cron tick, so
# FLASH.DEBUG.DEMOTE takes about two ticks.
proc tier_overrides {{extra {}}} {
    return [concat {flash-path flash.bin flash-capacity 64mb flash-min-value-size 0 hz 500} $extra]
}

# One INFO flash field of the server (srv level).
proc tier_stat {field {level 0}} {
    return [getInfoProperty [r $level info flash] $field]
}

proc tier_assert_tier {tier key {level 0}} {
    assert_equal [r $level object tier $key] $tier "(tier of key '$key')"
}

# Demotes key now (unless it is cold already) and checks that it is cold.
proc tier_demote {key {level 0}} {
    set reply [r $level flash.debug.demote $key]
    if {$reply ni {OK ALREADY_COLD}} {
        fail "FLASH.DEBUG.DEMOTE $key replied '$reply'"
    }
    tier_assert_tier cold $key $level
}

# Demotes many keys at once: a client waits for each demotion it asked for, so the keys
# are spread over nclients clients that wait side by side. Returns the replies' counts.
proc tier_demote_many {keys {nclients 16}} {
    set clients {}
    for {set c 0} {$c < $nclients} {incr c} {
        lappend clients [valkey_deferring_client]
    }
    set j 0
    foreach key $keys {
        [lindex $clients [expr {$j % $nclients}]] flash.debug.demote $key
        incr j
    }
    set counts {}
    set j 0
    foreach key $keys {
        catch {[lindex $clients [expr {$j % $nclients}]] read} reply
        dict incr counts $reply
        incr j
    }
    foreach c $clients {
        $c close
    }
    return $counts
}

# The command with every word `@` replaced by key.
proc tier_subst {cmd key} {
    # (not expr: it would turn "007" into 7)
    return [lmap word $cmd {if {$word eq "@"} {set key} else {set word}}]
}

# Runs each command of cmds (a list of commands) on every key of keys.
proc tier_build {keys cmds} {
    foreach key $keys {
        foreach cmd $cmds {
            r {*}[tier_subst $cmd $key]
        }
    }
}

# The reply of a command, or "ERROR: text" when it fails, so errors compare too.
proc tier_reply {cmd} {
    if {[catch {r {*}$cmd} reply]} {
        return "ERROR: $reply"
    }
    return $reply
}

# Demotes key, runs cmd on it and on twin, and checks the replies are equal and the
# values too afterwards (DEBUG DIGEST-VALUE). Returns the reply. With sorted 1, the
# replies are compared as sorted lists (unordered collections rebuilt from flash).
proc tier_same {key twin cmd {sorted 0}} {
    tier_demote $key
    set cold [tier_reply [tier_subst $cmd $key]]
    set hot [tier_reply [tier_subst $cmd $twin]]
    # Replies naming the key (LMPOP, BLPOP...) name the twin in the other.
    if {[string is list $hot] && [lsearch -exact $hot $twin] >= 0} {
        set hot [lmap word $hot {if {$word eq $twin} {set key} else {set word}}]
    }
    if {$sorted} {
        set cold [lsort $cold]
        set hot [lsort $hot]
    }
    assert_equal $cold $hot "(reply of '$cmd' on a cold key vs its hot twin)"
    assert_equal [r debug digest-value $twin] [r debug digest-value $key] "(value after '$cmd')"
    return $cold
}

# Like tier_same for a command that needs the value: it was promoted, and the key is
# hot afterwards.
proc tier_same_promoted {key twin cmd {sorted 0}} {
    set before [tier_stat flash_promotions]
    set reply [tier_same $key $twin $cmd $sorted]
    assert_morethan [tier_stat flash_promotions] $before "(promotions after '$cmd')"
    if {[r exists $key]} {
        tier_assert_tier hot $key
    }
    return $reply
}

# Runs body and checks that it read nothing from flash (no promotion of any kind).
proc tier_no_read {body} {
    set promotions [tier_stat flash_promotions]
    set sync [tier_stat flash_sync_promotions]
    set read [tier_stat flash_bytes_read]
    set rc [catch {uplevel 1 $body} value options]
    assert_equal [tier_stat flash_promotions] $promotions "(flash_promotions: a value was read)"
    assert_equal [tier_stat flash_sync_promotions] $sync "(flash_sync_promotions: a value was read)"
    assert_equal [tier_stat flash_bytes_read] $read "(flash_bytes_read)"
    return -options $options $value
}

# A fresh scratch directory under tests/tmp (deleted by the caller when it passes).
proc tier_temp_dir {name} {
    set dir [file join $::th_root tests tmp "tier-$name.[pid].[clock clicks]"]
    file mkdir $dir
    return $dir
}

# Runs our server with args until it exits by itself (start-up failures): returns
# {exit-status log+output}. A unix socket only, so no TCP port is raced for.
proc tier_run_until_exit {dir args} {
    set log [file join $dir startup.log]
    file delete $log
    set rc [catch {exec timeout 10 $::opt(server_binary) --port 0 --unixsocket [file join $dir s.sock] \
                       --dir $dir --save "" --logfile $log {*}$args 2>@1} out opts]
    set status 0
    if {$rc} {
        set code [dict get $opts -errorcode]
        set status [expr {[lindex $code 0] eq "CHILDSTATUS" ? [lindex $code 2] : -2}]
    }
    return [list $status "[::th::read_file $log]$out"]
}

# Offset of the first occurrence of needle in the first `limit` bytes of file, or -1.
proc tier_find_in_file {path needle {limit 4194304}} {
    set fd [open $path rb]
    set data [read $fd $limit]
    close $fd
    return [string first $needle $data]
}

# Overwrites bytes of file at offset (plain buffered write; the server's O_DIRECT reads
# see it once the page cache writes it back, which a direct read forces).
proc tier_overwrite_file {path offset bytes} {
    set fd [open $path r+b]
    seek $fd $offset
    puts -nonewline $fd $bytes
    close $fd
}
