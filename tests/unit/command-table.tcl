# Conformance of the command table: every command (and subcommand) our server registers must
# describe itself in COMMAND INFO exactly as Valkey 8 does (arity, flags in order, first/last/
# step, ACL categories, tips, key specs), as recorded in
# ../shared/reference/valkey8/command-info.json (skipped when that file is absent; key spec
# notes are not recorded there and are not compared). Also checks COMMAND COUNT, COMMAND LIST,
# COMMAND GETKEYS on a few commands, and that COMMAND DOCS has a doc map for every command.

namespace eval ::cmdtable {
    variable reference_path [file join [reference_dir] command-info.json]
}

# Turns COMMAND INFO's reply for one command into a dict shaped like the reference JSON.
proc ::cmdtable::from_reply {info} {
    lassign $info name arity flags first last step acl tips specs subs
    set keyspecs {}
    foreach spec $specs {
        set entry [dict create]
        foreach {field value} $spec {
            if {$field ne "notes"} {
                dict set entry $field $value
            }
        }
        lappend keyspecs $entry
    }
    set subcommands {}
    foreach sub $subs {
        lappend subcommands [from_reply $sub]
    }
    return [dict create name $name arity $arity flags $flags first_key $first last_key $last \
        step $step acl_categories $acl tips $tips key_specs $keyspecs subcommands $subcommands]
}

# A key spec as a canonical string (fields sorted at every level), so that two specs with the
# same content compare equal whatever order the fields came in.
proc ::cmdtable::canonical_spec {spec} {
    set out {}
    foreach field [lsort [dict keys $spec]] {
        set value [dict get $spec $field]
        if {$field in {begin_search find_keys}} {
            set inner {}
            foreach f [lsort [dict keys $value]] {
                set v [dict get $value $f]
                if {$f eq "spec"} {
                    set pairs {}
                    foreach k [lsort [dict keys $v]] {
                        lappend pairs $k [dict get $v $k]
                    }
                    set v $pairs
                }
                lappend inner $f $v
            }
            set value $inner
        }
        lappend out $field $value
    }
    return $out
}

# Differences between our description of a command and the reference one.
set ::cmdtable::extra {}
proc ::cmdtable::compare {ours ref} {
    set problems {}
    set name [dict get $ours name]
    foreach field {arity first_key last_key step} {
        if {[dict get $ours $field] != [dict get $ref $field]} {
            lappend problems "$name: $field is [dict get $ours $field], Valkey 8 says [dict get $ref $field]"
        }
    }
    foreach field {flags acl_categories tips} {
        set o [dict get $ours $field]
        set r [dict get $ref $field]
        if {$o ne $r} {
            if {[lsort $o] eq [lsort $r]} {
                lappend problems "$name: $field in another order: {$o}, Valkey 8 says {$r}"
            } else {
                lappend problems "$name: $field are {$o}, Valkey 8 says {$r}"
            }
        }
    }
    set o [lmap s [dict get $ours key_specs] {canonical_spec $s}]
    set r [lmap s [dict get $ref key_specs] {canonical_spec $s}]
    if {$o ne $r} {
        lappend problems "$name: key specs are {$o}, Valkey 8 says {$r}"
    }
    set ref_subs [dict create]
    foreach sub [dict get $ref subcommands] {
        dict set ref_subs [dict get $sub name] $sub
    }
    foreach sub [dict get $ours subcommands] {
        set subname [dict get $sub name]
        if {![dict exists $ref_subs $subname]} {
            if {[dict exists $::cmdtable::extra $subname]} continue
            lappend problems "$subname: not a Valkey 8 subcommand"
            continue
        }
        lappend problems {*}[compare $sub [dict get $ref_subs $subname]]
    }
    return $problems
}

start_server {tags {conformance command-table}} {
    # COMMAND LIST names the commands and, as "container|sub", their subcommands; COMMAND
    # COUNT and COMMAND (INFO) without arguments cover the top-level commands.
    test "command-table: COMMAND COUNT equals the number of registered commands" {
        set top [lsearch -all -inline -not [r command list] *|*]
        assert_morethan [llength $top] 0
        assert_equal [llength $top] [r command count]
        assert_equal [llength $top] [llength [r command info]]
        assert_equal [llength $top] [llength [lsort -unique $top]]
    }

    test "command-table: COMMAND LIST names every command and subcommand COMMAND INFO describes" {
        set described {}
        foreach info [r command info] {
            lappend described [lindex $info 0]
            foreach sub [lindex $info 9] {
                lappend described [lindex $sub 0]
            }
        }
        assert_equal [lsort $described] [lsort [r command list]]
    }

    test "command-table: COMMAND INFO answers nil for an unknown command" {
        set reply [r command info get no-such-command]
        assert_equal 2 [llength $reply]
        assert_equal get [lindex $reply 0 0]
        assert_equal "" [lindex $reply 1]
    }

    test "command-table: COMMAND INFO matches Valkey 8 for every registered command" {
        if {![file exists $::cmdtable::reference_path]} {
            skip "reference not found: $::cmdtable::reference_path"
        }
        set reference [::json::read_file $::cmdtable::reference_path]
        # This server's own commands (tiering) are declared in utils/commands-extra.json.
        set extra [::json::read_file [file join $::th::root utils commands-extra.json]]
        set ::cmdtable::extra $extra
        set problems {}
        set checked 0
        foreach info [r command info] {
            set ours [::cmdtable::from_reply $info]
            set name [dict get $ours name]
            if {[dict exists $extra $name]} continue
            if {![dict exists $reference $name]} {
                lappend problems "$name: not a Valkey 8 command"
                continue
            }
            incr checked
            lappend problems {*}[::cmdtable::compare $ours [dict get $reference $name]]
        }
        set registered [lsearch -all -inline -not [r command list] *|*]
        set missing {}
        foreach name [dict keys $reference] {
            if {$name ni $registered} {
                lappend missing $name
            }
        }
        puts "command-table: $checked of [dict size $reference] Valkey 8 commands registered"
        if {$::opt(verbose)} {
            puts "command-table: not yet registered: [join [lsort $missing] { }]"
        }
        if {[llength $problems] > 0} {
            fail "[llength $problems] differences from Valkey 8's command table:\n[join $problems \n]"
        }
    }

    test "command-table: COMMAND DOCS has a doc map for every command" {
        set problems {}
        set undocumented {}
        foreach name [lsearch -all -inline -not [r command list] *|*] {
            set reply [r command docs $name]
            if {[llength $reply] != 2 || [lindex $reply 0] ne $name} {
                lappend problems "$name: COMMAND DOCS answered {[string range $reply 0 100]}"
                continue
            }
            set docs [lindex $reply 1]
            if {[llength $docs] % 2 != 0 || ![dict exists $docs group]} {
                lappend problems "$name: the doc is not a map with a group: {[string range $docs 0 100]}"
                continue
            }
            if {![dict exists $docs summary] || ![dict exists $docs since]} {
                lappend undocumented $name
            }
        }
        if {[llength $undocumented] > 0} {
            puts "command-table: [llength $undocumented] commands have no summary/since in COMMAND DOCS (Valkey 8 documents every command)"
        }
        if {[llength $problems] > 0} {
            fail "[llength $problems] problems:\n[join $problems \n]"
        }
    }

    test "command-table: COMMAND DOCS of an unknown command is empty" {
        assert_equal {} [r command docs no-such-command]
    }

    # Keys Valkey 8 finds in these commands (from their key specs).
    set ::cmdtable::getkeys_cases {
        {{set a b} {a}}
        {{get a} {a}}
        {{mset a 1 b 2 c 3} {a b c}}
        {{mget a b c} {a b c}}
        {{del a b} {a b}}
        {{rename a b} {a b}}
        {{copy a b db 1} {a b}}
        {{bitop and dest a b} {dest a b}}
        {{lcs a b} {a b}}
        {{expire a 10} {a}}
        {{object encoding a} {a}}
    }

    test "command-table: COMMAND GETKEYS finds the keys of registered commands" {
        set registered [r command list]
        set checked 0
        foreach case $::cmdtable::getkeys_cases {
            lassign $case argv keys
            set name [lindex $argv 0]
            if {[llength $argv] > 1 && $name eq "object"} {
                set name "object|[lindex $argv 1]"
                if {"object" ni $registered} {
                    continue
                }
            } elseif {$name ni $registered} {
                continue
            }
            assert_equal $keys [r command getkeys {*}$argv] "(COMMAND GETKEYS $argv)"
            incr checked
        }
        if {$checked == 0} {
            skip "none of the commands used here is registered"
        }
        assert_error "*Invalid command specified*" {r command getkeys no-such-command a}
    }

    test "command-table: COMMAND GETKEYS errors, and key counts beyond the arguments" {
        assert_error "*The command has no key arguments*" {r command getkeys echo a b}
        assert_error "*The command has no key arguments*" {r command getkeys publish a b}
        assert_error "*Invalid number of arguments specified for command*" {r command getkeys set k}
        assert_error "*Invalid arguments specified for command*" {r command getkeys zunionstore d 3 a b}
        # found by the fuzz (UBSan: signed overflow in the key-count arithmetic)
        assert_error "*Invalid arguments specified for command*" \
            {r command getkeys zunionstore d 2147483647 a b}
        assert_error "*Invalid arguments specified for command*" \
            {r command getkeys sintercard 9223372036854775807 a}
        assert_equal {} [r command getkeys eval x 2147483647 a]
        assert_equal {a b} [r command getkeys eval x 2 a b]
    }
}
