# EVAL and friends: conversions between Lua and RESP2/RESP3 in both directions, error
# replies and their exact text, the script cache (EVALSHA, SCRIPT LOAD/EXISTS/FLUSH/SHOW),
# shebang flags and read-only scripts, the sandbox (globals, removed libraries, read-only
# tables, binary chunks), the cjson/bit/cmsgpack/struct libraries, busy scripts and SCRIPT
# KILL, OOM, INFO fields and the EVAL script LRU.

# Exact reply bytes of a command, on a raw connection to the current server.
proc sc_raw {args} {
    if {![info exists ::sc_fd] || $::sc_port != [srv 0 port]} {
        catch {close $::sc_fd}
        set ::sc_fd [raw_connect [srv 0 host] [srv 0 port]]
        set ::sc_port [srv 0 port]
        raw_call $::sc_fd {select 9}
    }
    return [raw_call $::sc_fd $args]
}

proc sc_sha1 {body} {
    return [r eval {return redis.sha1hex(ARGV[1])} 0 $body]
}

start_server {tags {"scripting"}} {
    test {EVAL: Lua values become RESP2 replies} {
        assert_equal "\$5\r\nhello\r\n" [sc_raw eval {return 'hello'} 0]
        assert_equal ":100\r\n" [sc_raw eval {return 100.5} 0]
        assert_equal ":3\r\n" [sc_raw eval {return 3.99} 0]
        assert_equal ":-3\r\n" [sc_raw eval {return -3.99} 0]
        assert_equal ":1\r\n" [sc_raw eval {return true} 0]
        assert_equal "\$-1\r\n" [sc_raw eval {return false} 0]
        assert_equal "\$-1\r\n" [sc_raw eval {return nil} 0]
        assert_equal "+fine\r\n" [sc_raw eval {return {ok='fine'}} 0]
        assert_equal "-My Error\r\n" [sc_raw eval {return {err='My Error'}} 0]
        assert_equal "*3\r\n:1\r\n:2\r\n*2\r\n:3\r\n\$1\r\nx\r\n" [sc_raw eval {return {1,2,{3,'x'}}} 0]
        # Arrays stop at the first nil.
        assert_equal "*1\r\n:1\r\n" [sc_raw eval {return {1, nil, 3}} 0]
        assert_equal "*1\r\n:1\r\n" [sc_raw eval {local t = {} t[1]=1 t[3]=3 return t} 0]
        assert_equal "*0\r\n" [sc_raw eval {return {}} 0]
        assert_equal "*0\r\n" [sc_raw eval {return redis} 0]
        # Out-of-range numbers become the most negative integer, as in Valkey on x86.
        assert_equal ":-9223372036854775808\r\n" [sc_raw eval {return 0/0} 0]
        assert_equal ":-9223372036854775808\r\n" [sc_raw eval {return 1e300} 0]
        # Functions and other types are null.
        assert_equal "\$-1\r\n" [sc_raw eval {return loadstring} 0]
    }

    test {EVAL: RESP3 tables in a RESP2 connection} {
        assert_equal "\$3\r\n3.5\r\n" [sc_raw eval {return {double=3.5}} 0]
        assert_equal "\$3\r\n123\r\n" [sc_raw eval {return {big_number='123'}} 0]
        assert_equal "*2\r\n\$1\r\na\r\n:1\r\n" [sc_raw eval {return {map={a=1}}} 0]
        assert_equal "*1\r\n\$1\r\na\r\n" [sc_raw eval {return {set={a=true}}} 0]
        assert_equal "\$2\r\nhi\r\n" [sc_raw eval {return {verbatim_string={format='txt',string='hi'}}} 0]
        assert_equal "+a  b\r\n" [sc_raw eval "return {ok='a\\r\\nb'}" 0]
        assert_equal "-ERR \r\n" [sc_raw eval {return redis.error_reply('')} 0]
        assert_equal "-\r\n" [sc_raw eval {return {err=''}} 0]
        assert_equal "-X y\r\n" [sc_raw eval {return redis.error_reply('-X y')} 0]
        assert_equal "+PONG\r\n" [sc_raw eval {return redis.status_reply('PONG')} 0]
        assert_equal "-ERR wrong number or type of arguments\r\n" [sc_raw eval {return redis.status_reply()} 0]
    }

    test {EVAL: RESP3 replies after server.setresp(3)} {
        set fd [raw_connect [srv 0 host] [srv 0 port]]
        raw_call $fd {hello 3}
        assert_equal "#t\r\n" [raw_call $fd {eval {redis.setresp(3) return true} 0}]
        assert_equal "#f\r\n" [raw_call $fd {eval {redis.setresp(3) return false} 0}]
        # Without setresp(3) booleans keep their RESP2 meaning, with RESP3 nulls.
        assert_equal ":1\r\n" [raw_call $fd {eval {return true} 0}]
        assert_equal "_\r\n" [raw_call $fd {eval {return false} 0}]
        assert_equal "_\r\n" [raw_call $fd {eval {return nil} 0}]
        assert_equal ",3.5\r\n" [raw_call $fd {eval {return {double=3.5}} 0}]
        assert_equal "(123\r\n" [raw_call $fd {eval {return {big_number='123'}} 0}]
        assert_equal "%1\r\n\$1\r\na\r\n:1\r\n" [raw_call $fd {eval {return {map={a=1}}} 0}]
        assert_equal "~1\r\n\$1\r\na\r\n" [raw_call $fd {eval {return {set={a=true}}} 0}]
        assert_equal "=6\r\ntxt:hi\r\n" [raw_call $fd {eval {return {verbatim_string={format='txt',string='hi'}}} 0}]
        close $fd
    }

    test {EVAL: server.call() replies become Lua values} {
        r del x mylist myhash
        r set x 0
        assert_equal {number 1} [r eval {local v = redis.pcall('incr', KEYS[1]) return {type(v), v}} 1 x]
        assert_equal {string 1} [r eval {local v = redis.call('get', KEYS[1]) return {type(v), v}} 1 x]
        assert_equal {boolean 1} [r eval {local v = redis.call('get', 'nokey') return {type(v), v == false}} 0]
        r rpush mylist a b c
        assert_equal {table a b c 3} [r eval {local v = redis.call('lrange', KEYS[1], 0, -1) return {type(v), v[1], v[2], v[3], #v}} 1 mylist]
        assert_equal {table OK} [r eval {local v = redis.call('set', KEYS[1], 'y') return {type(v), v['ok']}} 1 x]
        assert_equal {table {ERR value is not an integer or out of range}} [r eval {local v = redis.pcall('incr', KEYS[1]) return {type(v), v['err']}} 1 x]
        # RESP3 replies through setresp(3): maps, nulls, doubles.
        r hset myhash f v
        assert_equal {f v} [r eval {redis.setresp(3) local m = redis.call('hgetall', KEYS[1]).map return {'f', m.f}} 1 myhash]
        assert_equal 1 [r eval {redis.setresp(3) return redis.call('get', 'nokey') == nil} 0]
        assert_equal 2.5 [r eval {redis.setresp(3) return tostring(redis.call('zincrby', 'z', 2.5, 'm').double)} 0]
        assert_equal 1 [r eval {redis.setresp(3) return redis.call('sismember', 'nos', 'x') == 0} 0]
        r del z
    }

    test {EVAL: numbers given to server.call() keep their precision} {
        assert_equal 9007199254740991 [r eval {redis.call('set', 'n', 9007199254740991) return redis.call('get', 'n')} 0]
        assert_equal 0.1 [r eval {redis.call('set', 'n', 0.1) return redis.call('get', 'n')} 0]
        assert_equal 1e+21 [r eval {redis.call('set', 'n', 1e21) return redis.call('get', 'n')} 0]
        assert_equal 12039611435714932082 [r eval {redis.call('set', 'n', '12039611435714932082') return redis.call('get', 'n')} 0]
        assert_equal "-ERR Command arguments must be strings or integers script: [sc_sha1 {return redis.call({})}], on @user_script:1.\r\n" \
            [sc_raw eval {return redis.call({})} 0]
    }

    test {EVAL: KEYS and ARGV, and numkeys errors} {
        assert_equal {a{t} b{t} c d} [r eval {return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}} 2 a{t} b{t} c d]
        assert_equal 0 [r eval {return #KEYS + #ARGV} 0]
        assert_equal "-ERR Number of keys can't be greater than number of args\r\n" [sc_raw eval {return 1} 2 a]
        assert_equal "-ERR Number of keys can't be negative\r\n" [sc_raw eval {return 1} -1]
        assert_equal "-ERR value is not an integer or out of range\r\n" [sc_raw eval {return 1} x]
        assert_equal "-ERR wrong number of arguments for 'eval' command\r\n" [sc_raw eval {return 1}]
    }

    test {EVAL: errors carry the script and the line} {
        set sha [sc_sha1 {x = 5}]
        assert_equal "-ERR user_script:1: Attempt to modify a readonly table script: $sha, on @user_script:1.\r\n" [sc_raw eval {x = 5} 0]
        set body "local a = 1\nreturn nosuch"
        set sha [sc_sha1 $body]
        assert_equal "-ERR user_script:2: Script attempted to access nonexistent global variable 'nosuch' script: $sha, on @user_script:2.\r\n" [sc_raw eval $body 0]
        set sha [sc_sha1 {error('boom')}]
        assert_equal "-ERR user_script:1: boom script: $sha, on @user_script:1.\r\n" [sc_raw eval {error('boom')} 0]
        set sha [sc_sha1 {error({err='MYCODE custom'})}]
        assert_equal "-MYCODE custom script: $sha, on @user_script:1.\r\n" [sc_raw eval {error({err='MYCODE custom'})} 0]
        set sha [sc_sha1 {error(nil)}]
        assert_equal "-ERR nil script: $sha, on @user_script:1.\r\n" [sc_raw eval {error(nil)} 0]
        assert_equal "-ERR Error compiling script (new function): user_script:1: '=' expected near 'error'\r\n" [sc_raw eval {syntax error here} 0]
        # A binary chunk is never loaded.
        assert_match "-ERR Error compiling script (new function): user_script:1: unexpected symbol*" [sc_raw eval "\x1bLua\x51" 0]
    }

    test {EVAL: server.call() raises command errors, server.pcall() returns them} {
        set sha [sc_sha1 {return redis.call('nosuch')}]
        assert_equal "-ERR Unknown command called from script script: $sha, on @user_script:1.\r\n" [sc_raw eval {return redis.call('nosuch')} 0]
        set sha [sc_sha1 {return redis.call('get')}]
        assert_equal "-ERR Wrong number of args calling command from script script: $sha, on @user_script:1.\r\n" [sc_raw eval {return redis.call('get')} 0]
        set sha [sc_sha1 {return redis.call()}]
        assert_equal "-ERR Please specify at least one argument for this call script script: $sha, on @user_script:1.\r\n" [sc_raw eval {return redis.call()} 0]
        set sha [sc_sha1 {return redis.call('multi')}]
        assert_equal "-ERR This command is not allowed from script script: $sha, on @user_script:1.\r\n" [sc_raw eval {return redis.call('multi')} 0]
        r set str v
        set body {return redis.call('lpush', KEYS[1], 'x')}
        set sha [sc_sha1 $body]
        assert_equal "-WRONGTYPE Operation against a key holding the wrong kind of value script: $sha, on @user_script:1.\r\n" [sc_raw eval $body 1 str]
        assert_equal "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" [sc_raw eval {return redis.pcall('lpush', KEYS[1], 'x')} 1 str]
        assert_equal "-ERR Wrong number of args calling command from script\r\n" [sc_raw eval {return redis.pcall('incr', 'a', 'b')} 0]
        assert_equal "-ERR DB index is out of range\r\n" [sc_raw eval {return redis.pcall('select', 99)} 0]
        # A handled error does not stop the script.
        assert_equal ok [r eval {redis.pcall('nosuch') return 'ok'} 0]
        assert_equal {ERR Unknown command called from script} [r eval {local ok, e = pcall(redis.call, 'nosuch') return e.err} 0]
    }

    test {EVAL: errors are counted once in the error stats} {
        r set str v
        r config resetstat
        r eval {redis.pcall('incr', 'str') return 1} 0
        assert_match {*count=1*} [s errorstat_ERR]
        catch {r eval {return redis.call('incr', 'str')} 0}
        assert_match {*count=2*} [s errorstat_ERR]
        catch {r eval {return redis.call('nosuch')} 0}
        r eval {redis.pcall('nosuch') return 1} 0
        assert_match {*count=4*} [s errorstat_ERR]
        assert_equal 4 [s total_error_replies]
        # EVAL failed only when its own reply was an error.
        set stats [r info commandstats]
        assert_match {*cmdstat_eval:calls=4,*,rejected_calls=0,failed_calls=2*} $stats
        assert_match {*cmdstat_incr:calls=2,*,rejected_calls=0,failed_calls=2*} $stats
    }

    test {EVAL: the server API} {
        assert_equal {da39a3ee5e6b4b0d3255bfef95601890afd80709 74822d82031af7493c20eefa13bd07ec4fada82f} \
            [list [r eval {return redis.sha1hex('')} 0] [r eval {return redis.sha1hex('Pizza & Mandolino')} 0]]
        assert_equal "-ERR wrong number of arguments script: [sc_sha1 {return redis.sha1hex()}], on @user_script:1.\r\n" [sc_raw eval {return redis.sha1hex()} 0]
        assert_equal {0 1 2 2 3} [r eval {return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}} 0]
        assert_equal {0 1 2 3} [r eval {return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}} 0]
        assert_equal 1 [r eval {return redis.replicate_commands()} 0]
        assert_equal {} [r eval {return redis.set_repl(redis.REPL_ALL)} 0]
        assert_equal {} [r eval {return redis.breakpoint()} 0]
        assert_equal {} [r eval {redis.log(redis.LOG_WARNING, 'from a script') return redis.debug('x')} 0]
        assert_equal {7.2.4 459268 valkey} [r eval {return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM, redis.SERVER_NAME}} 0]
        assert_equal [s valkey_version] [r eval {return server.SERVER_VERSION} 0]
        assert_equal 1 [r eval {return server.call == redis.call} 0]
        assert_equal 1 [r eval {return redis.acl_check_cmd('set', 'a', 'b')} 0]
        assert_match {*Invalid command passed to server.acl_check_cmd()*} [sc_raw eval {return redis.acl_check_cmd('nosuch')} 0]
        assert_match {*Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.*} [sc_raw eval {redis.set_repl(99)} 0]
        assert_match {*RESP version must be 2 or 3.*} [sc_raw eval {redis.setresp(4)} 0]
        assert_match {*server.log() requires two arguments or more.*} [sc_raw eval {redis.log(1)} 0]
        assert_match {*Invalid debug level.*} [sc_raw eval {redis.log(99, 'x')} 0]
        assert_match "*Attempt to modify a readonly table*" [sc_raw eval {redis.call = function() return 1 end} 0]
    }

    test {EVAL: the script's database and SELECT inside it} {
        r select 10
        r set dbkey ten
        assert_equal ten [r eval {return redis.call('get', KEYS[1])} 1 dbkey]
        r eval {redis.call('select', 9) return 1} 0
        assert_equal ten [r get dbkey]
        assert_equal ten [r eval {return redis.call('get', KEYS[1])} 1 dbkey]
        r del dbkey
        r select 9
    }

    test {EVAL: blocking commands do not block in a script} {
        r del emptylist
        assert_equal {} [r eval {return redis.pcall('blpop', 'emptylist', 0)} 1 emptylist]
        assert_equal {} [r eval {return redis.pcall('bzpopmin', 'emptyz', 0)} 1 emptyz]
    }

    test {EVAL: math.random is random, and reproducible once seeded} {
        set a [r eval {return tostring(math.random())} 0]
        wait_for_condition 100 1 {$a ne [r eval {return tostring(math.random())} 0]} else {
            fail "math.random() keeps returning $a"
        }
        set s1 [r eval {math.randomseed(ARGV[1]) return tostring(math.random())} 0 10]
        set s2 [r eval {math.randomseed(ARGV[1]) return tostring(math.random())} 0 10]
        set s3 [r eval {math.randomseed(ARGV[1]) return tostring(math.random())} 0 20]
        assert_equal $s1 $s2
        assert_not_equal $s2 $s3
        assert_equal 1 [r eval {local r = math.random(5, 6) return (r == 5 or r == 6) and 1 or 0} 0]
    }
}

start_server {tags {"scripting"}} {
    test {EVALSHA and the script cache} {
        r script flush
        r set mykey myval
        assert_equal myval [r eval {return redis.call('get',KEYS[1])} 1 mykey]
        assert_equal myval [r evalsha fd758d1589d044dd850a6f05d52f2eefd27f033f 1 mykey]
        assert_equal myval [r evalsha FD758D1589D044DD850A6F05D52F2EEFD27F033F 1 mykey]
        assert_equal myval [r evalsha_ro fd758d1589d044dd850a6f05d52f2eefd27f033f 1 mykey]
        assert_equal "-NOSCRIPT No matching script.\r\n" [sc_raw evalsha NotValidShaSUM 0]
        assert_equal "-NOSCRIPT No matching script.\r\n" [sc_raw evalsha ffd632c7d33e571e9f24556ebed26c3479a87130 0]
        assert_equal {1 0} [r script exists fd758d1589d044dd850a6f05d52f2eefd27f033f fd758d1589d044dd850a6f05d52f2eefd27f033e]
        assert_equal {return redis.call('get',KEYS[1])} [r script show fd758d1589d044dd850a6f05d52f2eefd27f033f]
        r script flush
        assert_equal "-NOSCRIPT No matching script.\r\n" [sc_raw evalsha fd758d1589d044dd850a6f05d52f2eefd27f033f 1 mykey]
        assert_equal {0} [r script exists fd758d1589d044dd850a6f05d52f2eefd27f033f]
        assert_error {NOSCRIPT*} {r script show fd758d1589d044dd850a6f05d52f2eefd27f033f}
    }

    test {SCRIPT LOAD, FLUSH ASYNC|SYNC, HELP} {
        assert_equal b534286061d4b9e4026607613b95c06c06015ae8 [r script load {return 'loaded'}]
        assert_equal loaded [r evalsha b534286061d4b9e4026607613b95c06c06015ae8 0]
        assert_equal 1 [s number_of_cached_scripts]
        assert_equal "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n" [sc_raw script flush bad]
        assert_equal "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n" [sc_raw script flush async sync]
        assert_equal OK [r script flush async]
        assert_equal 0 [s number_of_cached_scripts]
        assert_equal OK [r script flush sync]
        assert_equal "-ERR Error compiling script (new function): user_script:1: '=' expected near 'error'\r\n" [sc_raw script load {syntax error}]
        set help [r script help]
        assert_match "SCRIPT <subcommand>*" [lindex $help 0]
        assert_match "*KILL*LOAD*SHOW*" $help
    }

    test {Shebang flags} {
        assert_equal 1 [r eval "#!lua\nreturn 1" 0]
        assert_equal 1 [r eval "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1" 0]
        assert_equal 1 [r eval "#!lua flags=\nreturn 1" 0]
        assert_equal "-ERR Unexpected flag in script shebang: bad\r\n" [sc_raw eval "#!lua flags=bad\nreturn 1" 0]
        assert_equal "-ERR Unknown lua shebang option: foo=bar\r\n" [sc_raw eval "#!lua foo=bar\nreturn 1" 0]
        assert_equal "-ERR Unexpected engine in script shebang: #!luax\r\n" [sc_raw eval "#!luax\nreturn 1" 0]
        assert_equal "-ERR Invalid script shebang\r\n" [sc_raw eval "#!lua" 0]
        # The shebang line counts: errors give the line in the whole body.
        set body "#!lua flags=no-writes\nerror('x')"
        assert_equal "-ERR user_script:2: x script: [sc_sha1 $body], on @user_script:2.\r\n" [sc_raw eval $body 0]
    }

    test {Read-only scripts refuse writes} {
        r set foo bar
        assert_equal bar [r eval_ro {return redis.call('get', KEYS[1])} 1 foo]
        set body {redis.call('del', KEYS[1])}
        assert_equal "-ERR Write commands are not allowed from read-only scripts. script: [sc_sha1 $body], on @user_script:1.\r\n" [sc_raw eval_ro $body 1 foo]
        set body "#!lua flags=no-writes\nreturn redis.call('set', KEYS\[1\], 'x')"
        assert_equal "-ERR Write commands are not allowed from read-only scripts. script: [sc_sha1 $body], on @user_script:2.\r\n" [sc_raw eval $body 1 foo]
        assert_equal "-ERR Can not execute a script with write flag using *_ro command.\r\n" [sc_raw eval_ro "#!lua\nreturn 1" 0]
        # A write after reads, from a no-writes script, is refused too; the key is untouched.
        catch {r eval "#!lua flags=no-writes\nredis.call('get', KEYS\[1\]) redis.call('set', KEYS\[1\], 'changed')" 1 foo}
        assert_equal bar [r get foo]
    }

    test {Scripts and maxmemory} {
        r config set maxmemory 1
        assert_match "*command not allowed when used memory*" [sc_raw eval {redis.call('set', 'x', 1)} 0]
        # A script with flags (and without allow-oom) is refused before it runs.
        assert_equal "-OOM command not allowed when used memory > 'maxmemory'.\r\n" [sc_raw eval "#!lua\nreturn 1" 0]
        assert_equal 1 [r eval "#!lua flags=allow-oom\nreturn 1" 0]
        assert_equal 1 [r eval "#!lua flags=no-writes\nreturn 1" 0]
        # Reads and commands that do not grow memory still run.
        assert_equal 1 [r eval {redis.call('get', 'x') return 1} 0]
        r config set maxmemory 0
    }

    test {The sandbox: globals are read-only and unknown ones raise} {
        assert_match "*Script attempted to access nonexistent global variable 'a'*" [sc_raw eval {return a} 0]
        foreach code {{setmetatable(_G, {})} {rawset(_G, 'x', 1)} {_G = {}} {redis = function() return 1 end}
                      {local g = getmetatable(_G) g.__index = {}} {cjson.encode = function() return 1 end}
                      {cmsgpack.pack = function() return 1 end} {bit.lshift = function() return 1 end}
                      {getmetatable('').__index = {}} {table.insert(redis, 1)} {string.upper = nil}
                      {loadstring('x = 1')()}} {
            assert_match "*Attempt to modify a readonly table*" [sc_raw eval $code 0]
        }
        # Nothing leaked into later scripts.
        assert_match "*nonexistent global variable 'x'*" [sc_raw eval {return x} 0]
        assert_equal 0 [r eval {return #redis} 0]
        assert_equal 1 [r eval {return getmetatable('').__index == string} 0]
        assert_equal HELLO [r eval {return ('hello'):upper()} 0]
        # Raw reads and iteration see through the protection.
        assert_equal 1 [r eval {return rawget(_G, 'redis') == redis} 0]
        assert_equal 1 [r eval {local n = 0 for k, v in pairs(redis) do n = n + 1 end return n > 10} 0]
        assert_equal 1 [r eval {for k, v in pairs(_G) do if k == 'cjson' then return 1 end end return 0} 0]
    }

    test {The sandbox: dangerous functions are gone} {
        foreach name {loadfile dofile print require module setfenv getfenv newproxy package io debug} {
            assert_match "*Script attempted to access nonexistent global variable '$name'*" [sc_raw eval "return $name" 0]
        }
        assert_equal {clock} [r eval {local t = {} for k, v in pairs(os) do t[#t+1] = k end return t} 0]
        foreach fn {execute exit getenv remove rename setlocale tmpname} {
            assert_match "*attempt to call field '$fn'*" [sc_raw eval "os.${fn}()" 0]
        }
        assert_equal 1 [r eval {return os.clock() >= 0} 0]
        # No binary chunks through loadstring or load either.
        assert_match "*attempt to call a nil value*" [sc_raw eval {return loadstring(string.dump(function() return 1 end))()} 0]
        assert_equal {} [r eval {local s = string.dump(function() return 1 end) local done = false
            return load(function() if done then return nil end done = true return s end)} 0]
        assert_equal 5 [r eval {return loadstring('return 5')()} 0]
    }

    test {cjson and bit} {
        assert_equal {[1,2,{"a":1}]} [r eval {return cjson.encode({1,2,{a=1}})} 0]
        assert_equal {1 2 3} [r eval {return cjson.decode('[1,2,3]')} 0]
        assert_equal {0 -5000 -1 0.0003 1023.2 0} [r eval {return table.concat(cjson.decode("[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]"), " ")} 0]
        assert_equal {a b} [r eval {local d = cjson.decode('{"keya": "a", "keyb": "b"}') return {d.keya, d.keyb}} 0]
        assert_equal 3 [r eval {return bit.band(7, 3)} 0]
        assert_equal 255 [r eval {return bit.bor(1,2,4,8,16,32,64,128)} 0]
        assert_equal 0000ffff [r eval {return bit.tohex(65535)} 0]
        assert_equal 0000FFFF [r eval {return bit.tohex(65535, -2147483648)} 0]
        r ping
    }

    test {cmsgpack} {
        assert_equal cb3fb999999999999a [r eval {local e = cmsgpack.pack(0.1) local h = '' for i = 1, #e do h = h .. string.format('%02x', string.byte(e, i)) end return h} 0]
        assert_equal d3ffffff0000000000 [r eval {local e = cmsgpack.pack(-1099511627776) local h = '' for i = 1, #e do h = h .. string.format('%02x', string.byte(e, i)) end return h} 0]
        assert_equal "\x92\x01\x02" [r eval {return cmsgpack.pack({1,2})} 0]
        set hex [r eval {
            local a = {x=nil,y=5}
            local b = {x=a}
            a['x'] = b
            local e = cmsgpack.pack(a)
            local h = ''
            for i = 1, #e do h = h .. string.format('%02x', string.byte(e, i)) end
            local re = cmsgpack.unpack(e)
            assert(re.x.x.y == re.y)
            assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.y == re.y)
            assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x == nil)
            return h
        } 0]
        assert_equal [string repeat 82a17905a17881a178 7]82a17905a17881a178c0 $hex
        r eval {
            local big = {}
            for i = 1, 1000 do big[i] = i end
            local map = {}
            for i = 1, 100 do map[tostring(i)] = i end
            local v = {s1 = string.rep('x', 30), s2 = string.rep('x', 250), s3 = string.rep('x', 70000),
                       d = 0.1, f = 0.5, i1 = 250, i2 = 65530, i3 = 100000, i4 = 2^40, n1 = -1, n2 = -120,
                       n3 = -32000, n4 = -100000, n5 = -3147483648, a = big, m = map, t = true, f2 = false}
            local d = cmsgpack.unpack(cmsgpack.pack(v))
            for k, x in pairs(v) do
                if type(x) == 'table' then
                    for kk, xx in pairs(x) do assert(d[k][kk] == xx, k) end
                else
                    assert(d[k] == x, k)
                end
            end
            local multi = cmsgpack.pack('a', string.rep('b', 300), 7)
            local off, o = cmsgpack.unpack_limit(multi, 1, 0)
            assert(o == 'a')
            off, o = cmsgpack.unpack_limit(multi, 1, off)
            assert(o == string.rep('b', 300))
            off, o = cmsgpack.unpack_one(multi, off)
            assert(o == 7 and off == -1)
            local x, y, z = cmsgpack.unpack(multi)
            assert(z == 7)
            return 1
        } 0
        assert_match "*Missing bytes in input.*" [sc_raw eval {return cmsgpack.unpack('\146\1')} 0]
        assert_match "*Bad data format in input.*" [sc_raw eval {return cmsgpack.unpack('\193')} 0]
    }

    test {struct} {
        assert_equal "\x01\x02" [r eval {return struct.pack('>I2', 258)} 0]
        assert_equal "\x02\x01" [r eval {return struct.pack('<I2', 258)} 0]
        assert_equal {300 7 4} [r eval {return {struct.unpack('HB', struct.pack('HB', 300, 7))}} 0]
        assert_equal {-2 65535 5} [r eval {return {struct.unpack('>hH', struct.pack('>hH', -2, 65535))}} 0]
        assert_equal {hello 7} [r eval {return {struct.unpack('s', struct.pack('s', 'hello'))}} 0]
        assert_equal {abc 4} [r eval {return {struct.unpack('c3', struct.pack('c3xx', 'abc'))}} 0]
        assert_equal {abc 5} [r eval {return {struct.unpack('Bc0', struct.pack('Bc0', 3, 'abc'))}} 0]
        assert_equal {1.5 -2.25 13} [r eval {local a, b, n = struct.unpack('<fd', struct.pack('<fd', 1.5, -2.25)) return {tostring(a), tostring(b), n}} 0]
        assert_equal 8 [r eval {return struct.size('!4bi')} 0]
        assert_equal 5 [r eval {return struct.size('bi')} 0]
        assert_equal {-1 9} [r eval {return {struct.unpack('<i8', struct.pack('<i8', -1))}} 0]
        assert_match "*invalid format option 'z'*" [sc_raw eval {return struct.pack('z', 1)} 0]
        assert_match "*data string too short*" [sc_raw eval {return struct.unpack('I4', 'ab')} 0]
    }
}

start_server {tags {"scripting"}} {
    test {busy-reply-threshold and its alias lua-time-limit} {
        assert_equal {busy-reply-threshold 5000} [r config get busy-reply-threshold]
        assert_equal {lua-time-limit 5000} [r config get lua-time-limit]
        r config set lua-time-limit 50
        assert_equal {busy-reply-threshold 50} [r config get busy-reply-threshold]
        assert_equal "-NOTBUSY No scripts in execution right now.\r\n" [sc_raw script kill]
        assert_equal "-NOTBUSY No scripts in execution right now.\r\n" [sc_raw function kill]
    }

    test {A looping script gets BUSY replies for others and dies with SCRIPT KILL} {
        set sha [sc_sha1 {local i = 0 while true do i = i + 1 end}]
        set rd [valkey_deferring_client]
        $rd eval {local i = 0 while true do i = i + 1 end} 0
        set other [valkey_client]
        wait_for_condition 100 10 {[catch {$other ping} e] && [string match {BUSY*} $e]} else {
            fail "no BUSY reply while the script runs"
        }
        assert_error {BUSY Valkey is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.} {$other get x}
        assert_error {BUSY*} {$other shutdown}
        # FUNCTION STATS and FUNCTION KILL are allowed, the latter names the right command.
        assert_equal $sha [dict get [dict get [$other function stats] running_script] name]
        assert_error {BUSY*SCRIPT KILL*} {$other function kill}
        assert_equal OK [$other script kill]
        assert_error {*Script killed by user with SCRIPT KILL...*} {$rd read}
        assert_equal PONG [$other ping]
        $rd ping
        assert_equal PONG [$rd read]
        $other close
        $rd close
    }

    test {pcall cannot swallow SCRIPT KILL} {
        set rd [valkey_deferring_client]
        $rd eval {while true do pcall(function() while true do end end) end} 0
        set other [valkey_client]
        wait_for_condition 100 10 {[catch {$other ping} e] && [string match {BUSY*} $e]} else {
            fail "no BUSY reply while the script runs"
        }
        assert_equal OK [$other script kill]
        assert_error {*killed*} {$rd read}
        $other close
        $rd close
    }

    test {A script that wrote cannot be killed} {
        r config set busy-reply-threshold 50
        r del x
        set other [valkey_client]
        set rd [valkey_deferring_client]
        $rd eval {redis.call('set', 'x', 'y') local t = os.clock() while os.clock() - t < 0.5 do end return 'done'} 0
        wait_for_condition 100 10 {[catch {$other ping} e] && [string match {BUSY*} $e]} else {
            fail "no BUSY reply while the script runs"
        }
        assert_error {UNKILLABLE Sorry the script already executed write commands against the dataset.*} {$other script kill}
        assert_equal done [$rd read]
        assert_equal y [$other get x]
        $other close
        $rd close
    }

    test {A looping function dies with FUNCTION KILL} {
        r function load replace "#!lua name=looplib\nredis.register_function('loop', function() while true do end end)"
        set rd [valkey_deferring_client]
        $rd fcall loop 0
        set other [valkey_client]
        wait_for_condition 100 10 {[catch {$other ping} e] && [string match {BUSY*} $e]} else {
            fail "no BUSY reply while the function runs"
        }
        assert_error {BUSY Valkey is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.} {$other get x}
        assert_error {BUSY*FUNCTION KILL*} {$other script kill}
        assert_equal loop [dict get [dict get [$other function stats] running_script] name]
        assert_equal OK [$other function kill]
        assert_error {*Script killed by user with FUNCTION KILL...*} {$rd read}
        $other close
        $rd close
        r function flush
    }
}

start_server {tags {"scripting"}} {
    test {INFO memory fields of scripting} {
        r script flush
        r eval {return 1} 0
        r script load {return 2}
        assert_equal 2 [s number_of_cached_scripts]
        assert_morethan [s used_memory_lua] 10000
        assert_morethan [s used_memory_scripts_eval] 0
        assert_equal [expr {[s used_memory_vm_eval] + [s used_memory_vm_functions]}] [s used_memory_vm_total]
    }

    test {EVAL does not leak in the Lua stack} {
        r script flush
        r set x 0
        set rd [valkey_deferring_client]
        for {set j 0} {$j < 5000} {incr j} {
            $rd eval {return redis.call("incr",KEYS[1])} 1 x
        }
        for {set j 0} {$j < 5000} {incr j} {
            $rd read
        }
        $rd close
        assert {[s used_memory_lua] < 1024*100}
        assert_equal 5000 [r get x]
    }

    test {Scripts seen only through EVAL are evicted beyond 500} {
        r script flush
        r config resetstat
        set loaded [r script load {return 'kept'}]
        for {set j 0} {$j < 510} {incr j} {
            r eval "return $j" 0
        }
        assert_equal 500 [expr {[s number_of_cached_scripts] - 1}]
        assert_equal 10 [s evicted_scripts]
        # The oldest went, SCRIPT LOAD'ed ones stay.
        assert_equal {0 1 1} [r script exists [sc_sha1 {return 0}] [sc_sha1 {return 509}] $loaded]
    }

    test {MONITOR shows EVAL before the commands it runs} {
        set mon [valkey_deferring_client]
        $mon monitor
        $mon read
        r eval {redis.call('set', KEYS[1], 'v')} 1 monkey
        assert_match {*"eval"*} [$mon read]
        assert_match {*lua*"set"*"monkey"*} [$mon read]
        $mon close
    }
}

# Differential: the script commands of the Valkey 8 scripts transcript (recorded inside a
# MULTI, so without their real replies) run outside MULTI on our server and on Debian's
# redis-server 7.0, from the same empty dataset, and their replies are compared once
# Redis's wording is mapped to Valkey 8's.
namespace eval ::scdiff {
    variable renames {
        {Unknown Redis command called from script} {Unknown command called from script}
        {Wrong number of args calling Redis command from script} {Wrong number of args calling command from script}
        {This Redis command is not allowed from script} {This command is not allowed from script}
        {for this redis lib call} {for this call script}
        {Lua redis lib command arguments must be strings or integers} {Command arguments must be strings or integers}
        {NOSCRIPT No matching script. Please use EVAL.} {NOSCRIPT No matching script.}
    }
}

proc ::scdiff::normalize {raw} {
    variable renames
    foreach {from to} $renames {
        set raw [string map [list $from $to] $raw]
    }
    # A bulk's length changes with its text: recompute single bulk replies.
    if {[regexp {^\$([0-9]+)\r\n(.*)\r\n$} $raw -> len body] && [string length $body] != $len} {
        set raw "\$[string length $body]\r\n$body\r\n"
    }
    return $raw
}

proc ::scdiff::script_commands {} {
    set path [file join [reference_dir] replies-scripts.jsonl]
    if {![file exists $path]} {
        return {}
    }
    set out {}
    foreach entry [::json::read_lines $path] {
        set argv [dict get $entry cmd]
        # Valkey 8 has a `server` global and os.clock, Redis 7.0 neither.
        if {[regexp {server\.|os\.} [lindex $argv 1]]} {
            continue
        }
        if {[string toupper [lindex $argv 0]] in {EVAL EVAL_RO EVALSHA EVALSHA_RO SCRIPT}} {
            # The recorder sent its one non-ASCII word UTF-8 encoded (see replies.tcl).
            lappend out [lmap arg $argv {expr {$arg eq "\u00ff" ? "\xc3\xbf" : $arg}}]
        }
    }
    return $out
}

set ::scdiff::redis_binary [lindex [auto_execok redis-server] 0]
set ::scdiff::commands [::scdiff::script_commands]

if {$::opt(external) || $::scdiff::redis_binary eq "" || [llength $::scdiff::commands] == 0} {
    test "scripting: transcript scripts against redis-server" {
        skip "needs redis-server, the reference transcript and a server of our own"
    }
} else {
    start_server {tags {"scripting conformance"}} {
        start_server [list tags {} binary $::scdiff::redis_binary overrides {save ""}] {
            test "scripting: transcript scripts against redis-server" {
                set ours [raw_connect [srv -1 host] [srv -1 port]]
                set redis [raw_connect [srv 0 host] [srv 0 port]]
                foreach fd [list $ours $redis] {
                    raw_call $fd {FLUSHALL}
                    raw_call $fd {SCRIPT FLUSH}
                }
                set problems {}
                foreach argv $::scdiff::commands {
                    set a [raw_call $ours $argv]
                    set b [::scdiff::normalize [raw_call $redis $argv]]
                    if {$a ne $b} {
                        lappend problems "[visible_command $argv]\n    redis: [visible $b]\n    ours:  [visible $a]"
                    }
                }
                close $ours
                close $redis
                if {[llength $problems] > 0} {
                    fail "[llength $problems] of [llength $::scdiff::commands] replies differ:\n[join [lrange $problems 0 9] \n]"
                }
            }
        }
    }
}
