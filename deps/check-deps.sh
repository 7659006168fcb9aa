#!/bin/sh
# Checks, through pkg-config, that the Debian -dev packages this build links against are present.
# Nothing is vendored here: every third-party library comes from Debian.
# Usage: sh deps/check-deps.sh [MALLOC]   (MALLOC=libc skips the jemalloc check)
malloc=${1:-jemalloc}
missing=""
check() { # pkg-config-name debian-package
    pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"
}
command -v pkg-config >/dev/null 2>&1 || { echo "deps: pkg-config is missing: apt-get install pkg-config" >&2; exit 1; }
[ "$malloc" = "jemalloc" ] && check jemalloc libjemalloc-dev
check liburing liburing-dev
check lua5.1 liblua5.1-0-dev
check openssl libssl-dev
check liblzf liblzf-dev
# Lua modules loaded at run time (dlopen by soname, see deps/README.md): no pkg-config file.
check_lib() { # soname debian-package
    ldconfig -p 2>/dev/null | grep -q "$1" || [ -e "/usr/lib/$(uname -m)-linux-gnu/$1" ] || missing="$missing $2"
}
check_lib liblua5.1-cjson.so.0 lua-cjson
check_lib liblua5.1-bitop.so.0 lua-bitop
if [ -n "$missing" ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: install them with: apt-get install$missing" >&2
    exit 1
fi
exit 0
