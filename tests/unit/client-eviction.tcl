# maxmemory-clients: when normal and pub/sub clients together use more memory than the limit
# (bytes, or a percentage of maxmemory), the biggest ones are disconnected, never those with
# CLIENT NO-EVICT; each one counts in INFO's evicted_clients.
#
# A client grows its query buffer by sending an argument that never completes, and its
# output buffer by asking for big replies without reading them. The test's own connection
# is NO-EVICT so it survives whatever the limit.

# Sends the start of a command whose last argument announces `announced` bytes and then
# only `sent` of them. The server may close the connection meanwhile (that is the point).
# A big argument's buffer is allocated at its announced size, so that is what counts.
proc ce_partial_arg {client announced sent} {
    ce_write $client "*2\r\n\$3\r\nget\r\n\$$announced\r\n"
    ce_write $client [string repeat x $sent]
}

proc ce_write {client bytes} {
    catch {
        $client write $bytes
        $client flush
    }
}

# A new connection with a name, to find it in CLIENT LIST.
proc ce_client {name} {
    set c [valkey_deferring_client]
    $c client setname $name
    $c read
    return $c
}

proc ce_connected {name} {
    return [string match "*name=$name *" [r client list]]
}

# Waits until the test's own connection is the only one left (closed clients are freed
# when the server sees the connection go).
proc ce_wait_alone {} {
    wait_for_condition 100 10 {[llength [split [string trim [r client list]] "\n"]] == 1} else {
        fail "other clients still connected: [r client list]"
    }
}

proc ce_wait_evicted {count} {
    wait_for_condition 100 10 {[s evicted_clients] == $count} else {
        fail "evicted_clients is [s evicted_clients], expected $count"
    }
}

start_server {tags {"client-eviction"}} {
    r client no-evict on

    test {No client eviction without maxmemory-clients} {
        ce_wait_alone
        set c [ce_client big]
        ce_partial_arg $c 3000000 2000000
        after 100
        assert_equal 0 [s evicted_clients]
        assert [ce_connected big]
        $c close
    }

    test {A client with a big query buffer is evicted} {
        ce_wait_alone
        r config set maxmemory-clients 1mb
        set c [ce_client big]
        ce_partial_arg $c 3000000 2000000
        ce_wait_evicted 1
        assert ![ce_connected big]
        assert_error {*connection closed*} {$c read}
        $c close
        assert_match {*Evicting client: *name=big*} [exec cat [srv 0 stdout]]
    }

    test {A client with a big output buffer is evicted} {
        ce_wait_alone
        r config resetstat
        r set bigval [string repeat x 1000000]
        r config set maxmemory-clients 4mb
        set c [ce_client reader]
        # 40 MB of replies it never reads.
        set req ""
        for {set i 0} {$i < 40} {incr i} {append req "*2\r\n\$3\r\nget\r\n\$6\r\nbigval\r\n"}
        ce_write $c $req
        ce_wait_evicted 1
        assert ![ce_connected reader]
        $c close
        r del bigval
    }

    test {A NO-EVICT client is not evicted} {
        ce_wait_alone
        r config resetstat
        r config set maxmemory-clients 1mb
        set c [ce_client keeper]
        $c client no-evict on
        $c read
        ce_partial_arg $c 3000000 2000000
        after 200
        assert_equal 0 [s evicted_clients]
        assert [ce_connected keeper]
        assert_match {*name=keeper*flags=e*} [r client list]
        $c close
    }

    test {The biggest client goes first} {
        ce_wait_alone
        r config resetstat
        r config set maxmemory-clients 3mb
        set small [ce_client small]
        ce_partial_arg $small 2000000 1000000
        after 50
        set big [ce_client big]
        ce_partial_arg $big 4000000 3000000
        ce_wait_evicted 1
        assert [ce_connected small]
        assert ![ce_connected big]
        $small close
        $big close
    }

    test {maxmemory-clients as a percentage of maxmemory} {
        ce_wait_alone
        r config resetstat
        r config set maxmemory [expr {100 * 1024 * 1024}]
        r config set maxmemory-clients 2%
        # 2% of 100 MB is 2 MB.
        set c [ce_client under]
        ce_partial_arg $c 1000000 500000
        after 100
        assert_equal 0 [s evicted_clients]
        assert [ce_connected under]
        $c close
        set c [ce_client over]
        ce_partial_arg $c 4000000 3000000
        ce_wait_evicted 1
        $c close
        # Without maxmemory a percentage means no limit.
        r config set maxmemory 0
        set c [ce_client nolimit]
        ce_partial_arg $c 4000000 3000000
        after 100
        assert_equal 1 [s evicted_clients]
        assert [ce_connected nolimit]
        $c close
    }

    test {The limit is at least 128 KB} {
        ce_wait_alone
        r config resetstat
        r config set maxmemory-clients 1
        set c [ce_client small]
        ce_partial_arg $c 40000 20000
        after 100
        assert_equal 0 [s evicted_clients]
        assert [ce_connected small]
        set c2 [ce_client bigger]
        ce_partial_arg $c2 300000 20000
        ce_wait_evicted 1
        assert ![ce_connected bigger]
        assert [ce_connected small]
        $c close
        $c2 close
        r config set maxmemory-clients 0
    }

    test {CONFIG RESETSTAT resets evicted_clients} {
        r config resetstat
        assert_equal 0 [s evicted_clients]
    }
}
