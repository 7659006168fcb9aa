# Connection commands: CLIENT and its subcommands, HELLO, AUTH, MONITOR, QUIT, RESET,
# plus maxclients and the idle timeout.

# The value of field in a CLIENT LIST / CLIENT INFO line.
proc client_field {line field} {
    if {[regexp "(?:^| )$field=(\[^ \]*)" $line -> value]} {
        return $value
    }
    error "no field $field in: $line"
}

# The line of CLIENT LIST describing the client with this id.
proc client_line {id} {
    foreach line [split [string trim [r client list]] "\n"] {
        if {[client_field $line id] == $id} {
            return $line
        }
    }
    return ""
}

start_server {tags {"introspection"}} {
    test {PING and ECHO} {
        assert_equal PONG [r ping]
        assert_equal hello [r ping hello]
        assert_equal "a b" [r echo "a b"]
        assert_error "*wrong number of arguments for 'ping' command" {r ping a b}
        assert_error "*wrong number of arguments for 'echo' command" {r echo}
    }

    test {CLIENT LIST has every field, in order} {
        set line [string trim [r client list id [r client id]]]
        set fields {}
        foreach pair [split $line " "] {
            lappend fields [lindex [split $pair "="] 0]
        }
        assert_equal [join {id addr laddr fd name age idle flags db sub psub ssub multi watch qbuf qbuf-free
            argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp lib-name lib-ver
            tot-net-in tot-net-out tot-cmds}] $fields
        assert_match {id=* addr=*:* laddr=*:* fd=* name= age=* idle=* flags=N db=9 sub=0 psub=0 ssub=0 multi=-1 watch=0 qbuf=0 qbuf-free=* argv-mem=* multi-mem=0 rbs=* rbp=* obl=0 oll=0 omem=0 tot-mem=* events=r cmd=client|list user=default redir=-1 resp=2 lib-name= lib-ver= tot-net-in=* tot-net-out=* tot-cmds=*} $line
    }

    test {CLIENT INFO describes the calling client} {
        set info [r client info]
        assert_match {id=* addr=*:* * cmd=client|info user=default redir=-1 resp=2 *} $info
        assert_equal [r client id] [client_field $info id]
        assert_equal "\n" [string index $info end]
    }

    test {CLIENT LIST counts commands and bytes} {
        set c [valkey_client]
        set id [$c client id]
        $c ping
        $c ping
        set line [client_line $id]
        assert_equal 4 [client_field $line tot-cmds] ;# select, client id, ping, ping
        assert_morethan [client_field $line tot-net-in] 20
        assert_morethan [client_field $line tot-net-out] 10
        assert_equal ping [client_field $line cmd]
        $c close
    }

    test {CLIENT LIST TYPE and ID filters} {
        set c [valkey_client]
        set id [$c client id]
        set lines [split [string trim [r client list id $id [r client id] 999999]] "\n"]
        assert_equal 2 [llength $lines]
        assert_equal $id [client_field [lindex $lines 0] id]
        assert_match "*id=$id *" [r client list type normal]
        assert_equal "" [r client list type pubsub]
        assert_equal "" [r client list type replica]
        assert_equal "" [r client list type master]
        assert_error "*Unknown client type 'foo'*" {r client list type foo}
        assert_error "*Invalid client ID*" {r client list id abc}
        assert_error "*syntax error*" {r client list foo}
        assert_error "*syntax error*" {r client list type normal extra}
        $c close
    }

    test {CLIENT SETNAME and GETNAME} {
        assert_equal {} [r client getname]
        assert_equal OK [r client setname my-name]
        assert_equal my-name [r client getname]
        assert_equal my-name [client_field [r client info] name]
        assert_error "ERR Client names cannot contain spaces, newlines or special characters." \
            {r client setname "a b"}
        assert_error "*cannot contain*" {r client setname "a\nb"}
        assert_error "*cannot contain*" {r client setname "a\x01b"}
        assert_equal my-name [r client getname]
        r client setname ""
        assert_equal {} [r client getname]
    }

    test {CLIENT SETINFO} {
        assert_equal OK [r client setinfo lib-name valkey-tcl]
        assert_equal OK [r client setinfo LIB-VER 1.2.3]
        set info [r client info]
        assert_equal valkey-tcl [client_field $info lib-name]
        assert_equal 1.2.3 [client_field $info lib-ver]
        assert_error "*Unrecognized option 'badger'*" {r client setinfo badger hamster}
        assert_error "*lib-name cannot contain spaces, newlines or special characters*" \
            {r client setinfo lib-name "a b"}
        assert_error "*cannot contain*" {r client setinfo lib-ver "1\n2"}
        assert_error "*wrong number of arguments*" {r client setinfo lib-name}
        assert_equal valkey-tcl [client_field [r client info] lib-name]
        r client setinfo lib-name ""
        assert_equal "" [client_field [r client info] lib-name]
    }

    test {CLIENT ID is unique and matches HELLO} {
        set c [valkey_client]
        set id [$c client id]
        assert_morethan $id [expr {[r client id] - 1}]
        assert_not_equal $id [r client id]
        assert_equal $id [dict get [$c hello] id]
        $c close
    }

    test {CLIENT KILL old form by address} {
        set c [valkey_client]
        $c client setname victim
        set addr [client_field [client_line [$c client id]] addr]
        assert_equal OK [r client kill $addr]
        assert_error "*I/O error*" {$c ping}
        $c close
        assert_error "ERR No such client" {r client kill 1.2.3.4:5}
        assert_error "ERR No such client" {r client kill $addr}
    }

    test {CLIENT KILL new form filters} {
        set c1 [valkey_client]
        set c2 [valkey_client]
        set id1 [$c1 client id]
        assert_equal 1 [r client kill id $id1]
        assert_error "*I/O error*" {$c1 ping}
        assert_equal PONG [$c2 ping]
        assert_equal 0 [r client kill id $id1]
        set addr2 [client_field [client_line [$c2 client id]] addr]
        assert_equal 1 [r client kill addr $addr2 skipme yes]
        assert_error "*I/O error*" {$c2 ping}
        $c1 close
        $c2 close

        # LADDR and USER match every other client here; SKIPME yes (the default) spares us.
        set c3 [valkey_client]
        set laddr [client_field [r client info] laddr]
        assert_equal 1 [r client kill laddr $laddr]
        assert_error "*I/O error*" {$c3 ping}
        $c3 close
        set c4 [valkey_client]
        assert_equal 1 [r client kill user default]
        assert_error "*I/O error*" {$c4 ping}
        $c4 close
        set c5 [valkey_client]
        assert_equal 1 [r client kill type normal]
        assert_error "*I/O error*" {$c5 ping}
        $c5 close
        assert_equal 0 [r client kill type pubsub]
        assert_equal 0 [r client kill addr 1.1.1.1:1 laddr 2.2.2.2:2]
        assert_equal PONG [r ping]
    }

    test {CLIENT KILL MAXAGE} {
        set c [valkey_client]
        assert_equal 0 [r client kill maxage 100]
        after 2100
        assert_equal 1 [r client kill id [$c client id] maxage 1]
        assert_error "*I/O error*" {$c ping}
        $c close
    }

    test {CLIENT KILL errors} {
        assert_error "*client-id should be greater than 0*" {r client kill id abc}
        assert_error "*client-id should be greater than 0*" {r client kill id 0}
        assert_error "*Unknown client type 'foo'*" {r client kill type foo}
        assert_error "*No such user 'nobody'*" {r client kill user nobody}
        assert_error "*syntax error*" {r client kill foo bar}
        assert_error "*syntax error*" {r client kill skipme maybe}
        assert_error "*syntax error*" {r client kill addr 1.1.1.1:1 skipme}
        assert_error "*value is not an integer*" {r client kill maxage x}
        assert_error "*wrong number of arguments*" {r client kill}
    }

    test {CLIENT KILL SKIPME no kills the caller after its reply} {
        set c [valkey_client]
        set id [$c client id]
        assert_equal 1 [$c client kill id $id skipme no]
        assert_error "*I/O error*" {$c ping}
        $c close
    }

    test {CLIENT KILL old form may name the caller} {
        set c [valkey_client]
        set addr [client_field [$c client info] addr]
        assert_equal OK [$c client kill $addr]
        assert_error "*I/O error*" {$c ping}
        $c close
    }

    test {CLIENT NO-EVICT and NO-TOUCH} {
        assert_equal OK [r client no-evict on]
        assert_equal OK [r client no-touch on]
        assert_match {*e*T*} [client_field [r client info] flags]
        assert_equal OK [r client no-evict off]
        assert_equal OK [r client no-touch OFF]
        assert_equal N [client_field [r client info] flags]
        assert_error "*syntax error*" {r client no-evict maybe}
        assert_error "*syntax error*" {r client no-touch maybe}
    }

    test {CLIENT REPLY OFF and ON} {
        set c [valkey_deferring_client]
        $c client reply off
        $c ping
        $c echo silent
        $c client reply on
        assert_equal OK [$c read]
        $c echo loud
        assert_equal loud [$c read]
        $c close
    }

    test {CLIENT REPLY SKIP silences exactly the next command} {
        set c [valkey_deferring_client]
        $c client reply skip
        $c echo skipped
        $c echo seen
        assert_equal seen [$c read]
        $c ping
        assert_equal PONG [$c read]
        $c close
    }

    test {CLIENT REPLY errors} {
        assert_error "*syntax error*" {r client reply maybe}
        assert_error "*wrong number of arguments*" {r client reply}
    }

    test {CLIENT UNBLOCK on a client that is not blocked} {
        set c [valkey_client]
        assert_equal 0 [r client unblock [$c client id]]
        assert_equal 0 [r client unblock 999999 error]
        assert_error "*value is not an integer*" {r client unblock x}
        assert_error "*CLIENT UNBLOCK reason should be TIMEOUT or ERROR*" {r client unblock 1 foo}
        $c close
    }

    test {CLIENT PAUSE errors} {
        assert_error "*timeout is not an integer or out of range*" {r client pause abc}
        assert_error "*timeout is negative*" {r client pause -1}
        assert_error "*CLIENT PAUSE mode must be WRITE or ALL*" {r client pause 10 some}
        assert_error "*unknown subcommand or wrong number of arguments for 'pause'*" {r client pause 10 write x}
    }

    test {CLIENT HELP} {
        set help [r client help]
        assert_match "CLIENT <subcommand>*" [lindex $help 0]
        assert_equal "HELP" [lindex $help end-1]
        assert {[lsearch -exact $help "PAUSE <timeout> \[WRITE|ALL\]"] >= 0}
    }

    test {QUIT replies OK and closes the connection} {
        set c [valkey_client]
        assert_equal OK [$c quit]
        assert_error "*I/O error*" {$c ping}
        $c close
    }

    test {RESET clears the connection state} {
        set c [valkey_client]
        $c client setname before-reset
        $c hello 3
        $c client no-evict on
        $c select 3
        assert_equal RESET [$c reset]
        set info [$c client info]
        assert_equal "" [client_field $info name]
        assert_equal 0 [client_field $info db]
        assert_equal 2 [client_field $info resp]
        assert_equal N [client_field $info flags]
        $c close
    }

    test {HELLO errors} {
        assert_error "NOPROTO unsupported protocol version" {r hello 4}
        assert_error "NOPROTO unsupported protocol version" {r hello 1}
        assert_error "*Protocol version is not an integer or out of range*" {r hello x}
        assert_error "*Syntax error in HELLO option 'FOO'*" {r hello 3 FOO}
        assert_error "*Syntax error in HELLO option 'AUTH'*" {r hello 3 AUTH default}
        assert_error "*Client names cannot contain*" {r hello 2 setname "a b"}
        assert_equal 2 [client_field [r client info] resp]
    }

    test {HELLO SETNAME and protocol switch} {
        set c [valkey_client]
        set reply [$c hello 3 setname hello-name]
        assert_equal 3 [dict get $reply proto]
        assert_equal hello-name [$c client getname]
        assert_equal 2 [dict get [$c hello 2] proto]
        $c close
    }

    test {AUTH without a password configured} {
        assert_error "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?" {r auth foo}
        assert_equal OK [r auth default anything]
        assert_error "WRONGPASS invalid username-password pair or user is disabled." {r auth someone foo}
        assert_error "*syntax error*" {r auth a b c}
    }

    test {AUTH with requirepass} {
        r config set requirepass secret
        set c [valkey [srv host] [srv port] 0]
        assert_error "NOAUTH Authentication required." {$c ping}
        assert_error "NOAUTH HELLO must be called with the client already authenticated*" {$c hello 3}
        assert_error "WRONGPASS*" {$c auth wrong}
        assert_error "WRONGPASS*" {$c auth default wrong}
        assert_error "WRONGPASS*" {$c hello 3 auth default wrong}
        assert_equal OK [$c auth secret]
        assert_equal PONG [$c ping]
        $c close
        set c [valkey [srv host] [srv port] 0]
        assert_equal 3 [dict get [$c hello 3 auth default secret] proto]
        assert_equal PONG [$c ping]
        $c close
        # Clients connected before the password was set stay authenticated.
        assert_equal PONG [r ping]
        r config set requirepass ""
    }

    test {MONITOR streams commands with their origin} {
        set rd [valkey_deferring_client]
        $rd client id
        set monid [$rd read]
        $rd monitor
        assert_equal OK [$rd read]
        assert_equal O [client_field [client_line $monid] flags]
        r set monkey "a b"
        r get monkey
        r echo "quote\"d\n"
        set line [$rd read]
        assert_match {*"set" "monkey" "a b"} $line
        assert {[regexp {^[0-9]+\.[0-9]{6} \[9 127\.0\.0\.1:[0-9]+\] "set" "monkey" "a b"$} $line]}
        assert_match {*"get" "monkey"} [$rd read]
        assert_match {*"echo" "quote\\"d\\n"} [$rd read]
        $rd close
    }

    test {MONITOR hides AUTH passwords} {
        set rd [valkey_deferring_client]
        $rd monitor
        $rd read
        catch {r auth someone secret}
        r ping
        set line [$rd read]
        assert_match {*"auth" "(redacted)" "(redacted)"} $line
        assert_no_match {*secret*} $line
        assert_match {*"ping"} [$rd read]
        $rd close
    }

    test {MONITOR shows the right db and stops on RESET} {
        set rd [valkey_deferring_client]
        $rd monitor
        $rd read
        r select 5
        r ping
        r select 9
        assert_match {*"select" "5"} [$rd read]
        assert_match {*\[5 *\] "ping"} [$rd read]
        $rd reset
        assert_match {*"select" "9"} [$rd read]
        assert_equal RESET [$rd read]
        r ping
        $rd ping
        assert_equal PONG [$rd read]
        $rd close
    }
}

start_server {tags {"introspection"}} {
    test {CLIENT PAUSE WRITE holds a write until the pause ends} {
        r del pausekey
        set rd [valkey_deferring_client]
        r client pause 100000 write
        $rd set pausekey 1
        after 100
        assert_equal {} [r get pausekey]
        assert_equal PONG [r ping]
        r client unpause
        assert_equal OK [$rd read]
        assert_equal 1 [r get pausekey]
        $rd close
    }

    test {A pause ends by itself at its timeout} {
        set rd [valkey_deferring_client]
        set start [clock milliseconds]
        r client pause 300 write
        $rd incr pausecounter
        assert_equal 1 [$rd read]
        set elapsed [expr {[clock milliseconds] - $start}]
        assert_range $elapsed 250 2000
        $rd close
    }

    test {CLIENT PAUSE ALL holds reads too, pipelined commands keep their order} {
        set rd [valkey_deferring_client]
        set start [clock milliseconds]
        r client pause 300 all
        $rd get pausekey
        $rd echo after
        assert_equal 1 [$rd read]
        assert_equal after [$rd read]
        assert_range [expr {[clock milliseconds] - $start}] 250 2000
        $rd close
    }

    test {Paused clients are shown blocked} {
        set rd [valkey_deferring_client]
        $rd client id
        set id [$rd read]
        r client pause 100000 write
        $rd set pausekey 2
        wait_for_condition 50 10 {[string match {*b*} [client_field [client_line $id] flags]]} else {
            fail "the paused client is not flagged blocked"
        }
        r client unpause
        assert_equal OK [$rd read]
        $rd close
    }

    test {A client paused in the middle of a pipeline loses nothing when killed} {
        set rd [valkey_deferring_client]
        $rd client id
        set id [$rd read]
        r client pause 100000 write
        $rd set a 1
        $rd set b 2
        after 50
        assert_equal 1 [r client kill id $id]
        r client unpause
        assert_equal {} [r get a]
        $rd close
    }
}

start_server {tags {"introspection"} overrides {maxclients 3}} {
    test {maxclients: extra connections get an error and are closed} {
        set c1 [valkey_client]
        set c2 [valkey_client]
        set fd [socket [srv host] [srv port]]
        fconfigure $fd -translation binary
        set line [gets $fd]
        assert_equal "-ERR max number of clients reached\r" $line
        assert_equal "" [read $fd]
        assert {[eof $fd]}
        close $fd
        $c2 close
        wait_for_condition 50 20 {[catch {set c3 [valkey_client]; $c3 ping} err] == 0} else {
            fail "a slot did not free up: $err"
        }
        $c3 close
        $c1 close
        assert_morethan_equal [s rejected_connections] 1
    }
}

start_server {tags {"introspection"} overrides {timeout 1}} {
    test {timeout closes idle clients} {
        set c [valkey_client]
        assert_equal PONG [$c ping]
        set rd [valkey_deferring_client]
        $rd monitor
        $rd read
        after 2500
        assert_error "*I/O error*" {$c ping}
        $c close
        # MONITOR clients are not subject to the timeout (nor is a fresh client).
        set c2 [valkey_client]
        $c2 echo still-here
        assert_match {*"select" "9"} [$rd read]
        assert_match {*"echo" "still-here"} [$rd read]
        $c2 close
        $rd close
        reconnect
    }
}
