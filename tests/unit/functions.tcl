# FUNCTION LOAD/DELETE/FLUSH/LIST/STATS/DUMP/RESTORE/HELP and FCALL/FCALL_RO: library
# metadata and registration errors with their exact text, the reduced API while a library
# loads, function flags, collisions between libraries, REPLACE, the DUMP payload format
# (a payload written by Redis 7.0 restores here) and restore policies.

proc fn_raw {args} {
    if {![info exists ::fn_fd] || $::fn_port != [srv 0 port]} {
        catch {close $::fn_fd}
        set ::fn_fd [raw_connect [srv 0 host] [srv 0 port]]
        set ::fn_port [srv 0 port]
        raw_call $::fn_fd {select 9}
    }
    return [raw_call $::fn_fd $args]
}

proc fn_lib {name body} {
    return "#!lua name=$name\n$body"
}

start_server {tags {"scripting functions"}} {
    test {FUNCTION LOAD and FCALL} {
        r function flush
        assert_equal lib1 [r function load [fn_lib lib1 {
redis.register_function('f1', function(keys, args) return redis.call('ping') end)
server.register_function{function_name='f2', callback=function(keys, args) return #keys + #args end,
                         flags={'no-writes'}, description='desc'}}]]
        assert_equal PONG [r fcall f1 0]
        assert_equal 3 [r fcall f2 2 a b c]
        assert_equal 0 [r fcall_ro f2 0]
        # Function names are found whatever their case.
        assert_equal 3 [r fcall F2 2 a b c]
        r function load [fn_lib libargs {redis.register_function('args', function(keys, args) return {keys, args} end)}]
        assert_equal {{a b} {c d}} [r fcall args 2 a b c d]
    }

    test {FCALL errors} {
        assert_equal "-ERR Function not found\r\n" [fn_raw fcall nosuch 0]
        assert_equal "-ERR Number of keys can't be negative\r\n" [fn_raw fcall f2 -1]
        assert_equal "-ERR Number of keys can't be greater than number of args\r\n" [fn_raw fcall f2 3 a]
        assert_equal "-ERR Bad number of keys provided\r\n" [fn_raw fcall f2 x]
        assert_equal "-ERR Can not execute a script with write flag using *_ro command.\r\n" [fn_raw fcall_ro f1 0]
        r function load [fn_lib libw {
redis.register_function{function_name='ro_writer', callback=function(keys) return redis.call('set', keys[1], 'v') end, flags={'no-writes'}}
redis.register_function('nosuchcmd', function() return redis.call('nosuch') end)
redis.register_function('boom', function() error('boom') end)
redis.register_function('keysglobal', function() return KEYS end)}]
        assert_equal "-ERR Write commands are not allowed from read-only scripts. script: ro_writer, on @user_function:3.\r\n" [fn_raw fcall ro_writer 1 x]
        assert_equal "-ERR Unknown command called from script script: nosuchcmd, on @user_function:4.\r\n" [fn_raw fcall nosuchcmd 0]
        assert_equal "-ERR user_function:5: boom script: boom, on @user_function:5.\r\n" [fn_raw fcall boom 0]
        assert_equal "-ERR user_function:6: Script attempted to access nonexistent global variable 'KEYS' script: keysglobal, on @user_function:6.\r\n" [fn_raw fcall keysglobal 0]
    }

    test {FUNCTION LOAD: metadata errors} {
        assert_equal "-ERR Missing library metadata\r\n" [fn_raw function load {return 1}]
        assert_equal "-ERR Invalid library metadata\r\n" [fn_raw function load "#!lua name=x"]
        assert_equal "-ERR Library name was not given\r\n" [fn_raw function load "#!lua\nreturn 1"]
        assert_equal "-ERR Engine 'foo' not found\r\n" [fn_raw function load "#!foo name=x\nreturn 1"]
        assert_equal "-ERR Invalid metadata value given: foo=bar\r\n" [fn_raw function load "#!lua name=x foo=bar\nreturn 1"]
        assert_equal "-ERR Invalid metadata value, name argument was given multiple times\r\n" [fn_raw function load "#!lua name=a name=b\nreturn 1"]
        assert_equal "-ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long\r\n" \
            [fn_raw function load "#!lua name=a-b\nreturn 1"]
        assert_equal "-ERR No functions registered\r\n" [fn_raw function load "#!lua name=empty\nreturn 1"]
        assert_equal "-ERR Library 'lib1' already exists\r\n" [fn_raw function load [fn_lib lib1 {redis.register_function('zz', function() end)}]]
        assert_equal "-ERR Function f1 already exists\r\n" [fn_raw function load [fn_lib lib9 {redis.register_function('f1', function() end)}]]
        assert_equal "-ERR Unknown option given: foo\r\n" [fn_raw function load foo [fn_lib x {}]]
        assert_equal "-ERR Missing library metadata\r\n" [fn_raw function load replace]
        # The engine name and the name= option are case-insensitive.
        assert_equal casex [r function load "#!LUA NAME=casex\nredis.register_function('casex', function() return 1 end)"]
        assert_equal "-ERR Error compiling function: user_function:2: '=' expected near 'error'\r\n" [fn_raw function load "#!lua name=bad\nsyntax error"]
    }

    test {FUNCTION LOAD: registration errors} {
        set cases {
            {redis.register_function()} {wrong number of arguments to server.register_function}
            {redis.register_function('g', function() end, 3)} {wrong number of arguments to server.register_function}
            {redis.register_function('g')} {calling server.register_function with a single argument is only applicable to Lua table (representing named arguments).}
            {redis.register_function('g', 1)} {second argument to server.register_function must be a function}
            {redis.register_function({}, function() end)} {first argument to server.register_function must be a string}
            {redis.register_function{function_name='g'}} {server.register_function must get a callback argument}
            {redis.register_function{callback=function() end}} {server.register_function must get a function name argument}
            {redis.register_function{function_name='g', callback=function() end, flags={'bad'}}} {unknown flag given}
            {redis.register_function{function_name='g', callback=function() end, flags='no-writes'}} {flags argument to server.register_function must be a table representing function flags}
            {redis.register_function{function_name='g', callback=function() end, foo=1}} {unknown argument given to server.register_function}
            {redis.register_function{function_name={}, callback=function() end}} {function_name argument given to server.register_function must be a string}
            {redis.register_function{function_name='g', callback=1}} {callback argument given to server.register_function must be a function}
            {redis.register_function{function_name='g', callback=function() end, description={}}} {description argument given to server.register_function must be a string}
            {redis.register_function('f 1', function() end)} {Function names can only contain letters, numbers, or underscores(_) and must be at least one character long}
            {redis.register_function('g', function() end) redis.register_function('g', function() end)} {Function already exists in the library}
        }
        foreach {code err} $cases {
            assert_equal "-ERR Error registering functions: ERR $err\r\n" [fn_raw function load [fn_lib regerr $code]] $code
        }
    }

    test {FUNCTION LOAD: only the load API is visible while loading} {
        foreach {code name} {{redis.call('ping')} call {return redis.pcall('ping')} pcall {error('boom')} error
                             {return redis.setresp(3)} setresp {local t = {} for k in pairs(redis) do end} pairs} {
            assert_equal "-ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable '$name'\r\n" \
                [fn_raw function load [fn_lib loadapi $code]]
        }
        assert_equal "-ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table\r\n" \
            [fn_raw function load [fn_lib loadapi {x = 1}]]
        # log, the version fields and server.* are there.
        assert_equal loadapi [r function load [fn_lib loadapi {
redis.log(redis.LOG_DEBUG, 'loading', server.SERVER_NAME, redis.REDIS_VERSION)
redis.register_function('loadapi', function() return redis.sha1hex('') end)}]]
        assert_equal da39a3ee5e6b4b0d3255bfef95601890afd80709 [r fcall loadapi 0]
        # A callback keeps its upvalues between calls.
        r function load [fn_lib counter {
local n = 0
redis.register_function('counter', function() n = n + 1 return n end)}]
        assert_equal {1 2} [list [r fcall counter 0] [r fcall counter 0]]
    }

    test {FUNCTION LIST} {
        r function flush
        r function load [fn_lib lib1 {
redis.register_function('f1', function() return 1 end)
redis.register_function{function_name='f2', callback=function() return 2 end, flags={'no-writes', 'allow-oom'}, description='desc'}}]
        r function load [fn_lib other {redis.register_function('o1', function() return 1 end)}]
        set list [r function list libraryname lib1]
        assert_equal 1 [llength $list]
        set lib [lindex $list 0]
        assert_equal {library_name lib1 engine LUA functions} [lrange $lib 0 4]
        assert_equal {{name f1 description {} flags {}} {name f2 description desc flags {no-writes allow-oom}}} [lindex $lib 5]
        assert_match {*library_code {#!lua name=lib1*}} [r function list withcode libraryname lib1]
        assert_equal 2 [llength [r function list]]
        assert_equal 1 [llength [r function list libraryname OTH*]]
        assert_equal 0 [llength [r function list libraryname nosuch]]
        assert_equal "-ERR library name argument was not given\r\n" [fn_raw function list libraryname]
        assert_equal "-ERR Unknown argument withcode\r\n" [fn_raw function list withcode withcode]
        assert_equal "-ERR Unknown argument bad\r\n" [fn_raw function list bad]
        # The exact RESP2 shape of one library.
        assert_equal "*1\r\n*6\r\n\$12\r\nlibrary_name\r\n\$5\r\nother\r\n\$6\r\nengine\r\n\$3\r\nLUA\r\n\$9\r\nfunctions\r\n*1\r\n*6\r\n\$4\r\nname\r\n\$2\r\no1\r\n\$11\r\ndescription\r\n\$-1\r\n\$5\r\nflags\r\n*0\r\n" \
            [fn_raw function list libraryname other]
        # RESP3: maps and a set of flags.
        set fd [raw_connect [srv 0 host] [srv 0 port]]
        raw_call $fd {hello 3}
        assert_equal "*1\r\n%3\r\n\$12\r\nlibrary_name\r\n\$5\r\nother\r\n\$6\r\nengine\r\n\$3\r\nLUA\r\n\$9\r\nfunctions\r\n*1\r\n%3\r\n\$4\r\nname\r\n\$2\r\no1\r\n\$11\r\ndescription\r\n_\r\n\$5\r\nflags\r\n~0\r\n" \
            [raw_call $fd {function list libraryname other}]
        close $fd
    }

    test {FUNCTION STATS, DELETE, FLUSH and INFO} {
        assert_equal {running_script {} engines {LUA {libraries_count 2 functions_count 3}}} [r function stats]
        assert_equal 2 [s number_of_libraries]
        assert_equal 3 [s number_of_functions]
        assert_morethan [s used_memory_vm_functions] 10000
        assert_equal "-ERR Library not found\r\n" [fn_raw function delete nosuch]
        assert_equal OK [r function delete other]
        assert_equal "-ERR Function not found\r\n" [fn_raw fcall o1 0]
        assert_equal "-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n" [fn_raw function flush bad]
        assert_equal OK [r function flush async]
        assert_equal {} [r function list]
        assert_equal OK [r function flush sync]
        assert_equal 0 [s number_of_functions]
        assert_match "FUNCTION <subcommand>*" [lindex [r function help] 0]
    }

    test {FUNCTION LOAD REPLACE is all or nothing} {
        r function flush
        r function load [fn_lib rep {redis.register_function('r1', function() return 1 end)}]
        r function load [fn_lib other {redis.register_function('o1', function() return 1 end)}]
        assert_equal rep [r function load replace [fn_lib rep {redis.register_function('r1', function() return 2 end)}]]
        assert_equal 2 [r fcall r1 0]
        # A failing replacement leaves the old library in place.
        assert_equal "-ERR Function o1 already exists\r\n" [fn_raw function load replace [fn_lib rep {redis.register_function('o1', function() return 3 end)}]]
        assert_match "*Error registering*" [fn_raw function load replace [fn_lib rep {error('x')}]]
        assert_equal 2 [r fcall r1 0]
        # A replacement may drop and rename functions.
        r function load replace [fn_lib rep {redis.register_function('r2', function() return 4 end)}]
        assert_equal "-ERR Function not found\r\n" [fn_raw fcall r1 0]
        assert_equal 4 [r fcall r2 0]
    }

    test {FUNCTION DUMP and RESTORE} {
        r function flush
        r function load [fn_lib lib1 {redis.register_function('f1', function() return 'one' end)}]
        r function load [fn_lib lib2 {redis.register_function('f2', function() return 'two' .. string.rep('x', 100) end)}]
        set dump [r function dump]
        # RDB version 11 and a CRC64 at the end.
        assert_equal "\x0b\x00" [string range $dump end-9 end-8]
        assert_equal "\xf5" [string index $dump 0]
        r function flush
        assert_equal OK [r function restore $dump]
        assert_equal one [r fcall f1 0]
        assert_equal "-ERR Library lib1 already exists\r\n" [fn_raw function restore $dump]
        assert_equal "-ERR Library lib1 already exists\r\n" [fn_raw function restore $dump append]
        assert_equal OK [r function restore $dump replace]
        r function load [fn_lib lib3 {redis.register_function('f3', function() return 3 end)}]
        assert_equal OK [r function restore $dump flush]
        assert_equal "-ERR Function not found\r\n" [fn_raw fcall f3 0]
        assert_equal 2 [llength [r function list]]
        # A collision with a library that is not replaced fails the whole restore.
        r function flush
        r function load [fn_lib other {redis.register_function('f1', function() return 'other' end)}]
        assert_equal "-ERR Function f1 already exists\r\n" [fn_raw function restore $dump replace]
        assert_equal other [r fcall f1 0]
        assert_equal {} [r function list libraryname lib2]
        # Malformed payloads and policies.
        assert_equal "-ERR DUMP payload version or checksum are wrong\r\n" [fn_raw function restore garbage]
        assert_equal "-ERR DUMP payload version or checksum are wrong\r\n" [fn_raw function restore [string replace $dump 5 5 Z]]
        assert_equal "-ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.\r\n" [fn_raw function restore $dump bad]
        # An empty dump restores nothing.
        r function flush
        set empty [r function dump]
        assert_equal 10 [string length $empty]
        assert_equal OK [r function restore $empty]
    }

    test {FUNCTION RESTORE of a payload written by Redis 7.0} {
        r function flush
        set payload "\xf5\xc3\x40\x60\x40\x65\x1f\x23\x21\x6c\x75\x61\x20\x6e\x61\x6d\x65\x3d\x72\x6c\x69\x62\x0a\x72\x65\x64\x69\x73\x2e\x72\x65\x67\x69\x73\x74\x65\x72\x5f\x66\x0d\x75\x6e\x63\x74\x69\x6f\x6e\x28\x27\x72\x66\x27\x2c\x20\xe0\x00\x0e\x17\x6b\x65\x79\x73\x2c\x20\x61\x72\x67\x73\x29\x20\x72\x65\x74\x75\x72\x6e\x20\x27\x66\x72\x6f\x6d\x20\x0c\x20\x3f\x06\x20\x27\x20\x2e\x2e\x20\x23\x40\x24\x04\x20\x65\x6e\x64\x29\x0a\x00\x7e\x7e\x86\xbf\x02\x3a\xf4\x08"
        assert_equal OK [r function restore $payload]
        assert_equal {from redis 2} [r fcall rf 2 a b]
        # Our dump of the same library is the same bytes but for the version and the CRC.
        assert_equal [string range $payload 0 end-10] [string range [r function dump] 0 end-10]
    }
}
