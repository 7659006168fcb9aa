# Durability of acknowledged writes with appendfsync always: writer processes
# (tests/helpers/aof_writer.tcl) record every write the server acknowledged (INCR of a
# shared counter, SET of unique keys) while the server is killed with SIGKILL at a random
# moment, ten times, sometimes during a rewrite. After each restart every acknowledged
# write must be there: no loss at all. Several writers keep several writes in flight
# when the kill comes.

source [file join $::th_root tests helpers aof_helpers.tcl]

set ::durability_writer [file join $::th_root tests helpers aof_writer.tcl]
set ::durability_writers 3

# Reads the acknowledgements: returns {max-incr {key value ...}}.
proc durability_acks {path} {
    set max 0
    set keys {}
    if {![file exists $path]} {
        return [list 0 {}]
    }
    foreach line [split [aof_read_file $path] "\n"] {
        if {[lindex $line 0] eq "incr"} {
            set v [lindex $line 1]
            if {$v > $max} {
                set max $v
            }
        } elseif {[lindex $line 0] eq "set"} {
            lappend keys [lindex $line 1] [lindex $line 2]
        }
    }
    return [list $max $keys]
}

tags {"aof durability external:skip"} {

test {Durability: acknowledged writes survive SIGKILL with appendfsync always (10 rounds)} {
    set dir [aof_fresh_dir durability]
    set acked_keys {}
    set acked_max 0
    set pids {}
    set problems {}
    set total_acks 0
    if {[catch {
        # Ten kills; the eleventh start only checks the last round.
        for {set round 0} {$round <= 10} {incr round} {
            lassign [aof_spawn $dir {appendfsync always hz 50}] pid port log
            lappend pids $pid
            if {![aof_wait_ready $pid $port]} {
                fail "round $round: the server did not start:\n[::th::file_tail $log]"
            }
            # Everything acknowledged so far is there.
            set c [valkey 127.0.0.1 $port 0]
            set counter [$c get counter]
            if {$counter eq ""} {
                set counter 0
            }
            if {$counter < $acked_max || $counter > $acked_max + $::durability_writers} {
                lappend problems "round $round: counter $counter, acknowledged up to $acked_max"
            }
            # INCRs written without their reply (one per writer at most) count from now on.
            set acked_max $counter
            foreach {key value} $acked_keys {
                if {[$c get $key] ne $value} {
                    lappend problems "round $round: $key lost (acknowledged as $value)"
                }
            }
            $c close
            if {[llength $problems] || $round == 10} {
                exec kill -9 $pid
                ::th::wait_exit $pid 10000
                break
            }

            set writers {}
            for {set w 0} {$w < $::durability_writers} {incr w} {
                set ackfile [file join $dir acks.$w.txt]
                file delete $ackfile
                lappend writers [exec [info nameofexecutable] $::durability_writer 127.0.0.1 $port \
                                     round$round.w$w $ackfile &]
            }
            after [expr {100 + int(rand() * 300)}]
            if {$round % 3 == 1} {
                # Killed while a rewrite runs (or just finished).
                catch {
                    set c [valkey 127.0.0.1 $port 0]
                    $c bgrewriteaof
                    $c close
                }
                after [expr {int(rand() * 50)}]
            }
            exec kill -9 $pid
            ::th::wait_exit $pid 10000
            for {set w 0} {$w < $::durability_writers} {incr w} {
                set writer [lindex $writers $w]
                if {![::th::wait_exit $writer 10000]} {
                    catch {exec kill -9 $writer}
                    fail "round $round: a writer did not stop"
                }
                lassign [durability_acks [file join $dir acks.$w.txt]] max keys
                if {$max > $acked_max} {
                    set acked_max $max
                }
                lappend acked_keys {*}$keys
                incr total_acks [llength $keys]
            }
        }
    } err opts]} {
        foreach pid $pids {
            catch {exec kill -9 $pid}
        }
        return -options $opts $err
    }
    foreach pid $pids {
        catch {exec kill -9 $pid}
    }
    assert_equal {} [lrange $problems 0 9] "[llength $problems] problems"
    # The test wrote something worth checking.
    assert_morethan $total_acks 100
}

aof_cleanup_dirs

}
