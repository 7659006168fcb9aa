# Without cluster mode (this server has none: INFO shows cluster_enabled:0), the cluster
# commands answer as Valkey's do with `cluster-enabled no`: the same refusal for every
# CLUSTER subcommand, READONLY, READWRITE and ASKING. Clients read this exact error to
# fall back to a single node.

start_server {tags {"cluster"}} {
    test "CLUSTER subcommands: cluster support disabled" {
        foreach sub {{info} {slots} {shards} {nodes} {myid} {help} {keyslot k} {countkeysinslot 0}
                     {getkeysinslot 0 1} {meet 127.0.0.1 1} {reset} {failover}} {
            assert_error "ERR This instance has cluster support disabled" {r cluster {*}$sub}
        }
    }

    test "CLUSTER: an unknown subcommand or a wrong arity is refused before that" {
        assert_error "ERR unknown subcommand 'nosuch'. Try CLUSTER HELP." {r cluster nosuch}
        assert_error "ERR wrong number of arguments for 'cluster|info' command" {r cluster info extra}
        assert_error "ERR wrong number of arguments for 'cluster' command" {r cluster}
    }

    test "READONLY, READWRITE and ASKING: cluster support disabled" {
        foreach cmd {readonly readwrite asking} {
            assert_error "ERR This instance has cluster support disabled" {r $cmd}
        }
        # The connection is not changed by them.
        r set k v
        assert_equal v [r get k]
    }

    test "INFO cluster: cluster_enabled:0" {
        assert_match "*cluster_enabled:0*" [r info cluster]
    }
}
