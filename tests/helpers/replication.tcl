# Helpers of the replication tests (tests/integration/replication*.tcl source this file).
#
# Levels follow the harness: in a nested start_server, 0 is the newest server (usually the
# replica) and -1 the one around it (the primary).

# Waits until the replica at level `replica` has its link up, and the primary at level
# `primary` lists it online.
proc repl_wait_online {{primary -1} {replica 0}} {
    wait_for_condition 500 20 {
        [s $replica master_link_status] eq "up" &&
        [string match "*state=online*" [getInfoProperty [r $primary info replication] slave0]]
    } else {
        fail "the replica did not come online:\n[r $replica info replication]\n[r $primary info replication]"
    }
}

# Waits until the replica has applied everything the primary streamed.
proc repl_wait_caught_up {{primary -1} {replica 0}} {
    wait_for_condition 500 20 {
        [s $replica master_link_status] eq "up" &&
        [s $primary master_repl_offset] == [s $replica master_repl_offset]
    } else {
        fail "the replica did not catch up: primary offset [s $primary master_repl_offset], replica [s $replica master_repl_offset]"
    }
}

# Waits until both servers digest to the same dataset.
proc repl_wait_same_digest {{primary -1} {replica 0}} {
    wait_for_condition 500 20 {
        [r $primary debug digest] eq [r $replica debug digest]
    } else {
        fail "the datasets differ: primary [r $primary debug digest], replica [r $replica debug digest]"
    }
}

# The field names of an INFO section, in order.
proc repl_info_fields {info} {
    set names {}
    foreach line [split $info "\n"] {
        set line [string trim $line]
        if {$line eq "" || [string index $line 0] eq "#"} {
            continue
        }
        lappend names [lindex [split $line :] 0]
    }
    return $names
}

# An INFO stats counter of the server at level.
proc repl_stat {field {level 0}} {
    return [getInfoProperty [r $level info stats] $field]
}

# Points the server at level to the primary at primary_level and waits until it is online.
proc repl_attach {{primary -1} {replica 0}} {
    r $replica replicaof [srv $primary host] [srv $primary port]
    repl_wait_online $primary $replica
}
