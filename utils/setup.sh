#!/bin/sh
# Installs what building and testing valkey-server needs on Debian 12, then builds.
# Runs apt-get only for packages that are missing, so it is cheap to re-run.
#   sh utils/setup.sh          build dependencies + test tools, then `make`
#   sh utils/setup.sh --bench  the same, plus what utils/bench/tiering.sh needs (fio, gnuplot)
set -e
cd "$(dirname "$0")/.."

PACKAGES="build-essential pkg-config libjemalloc-dev liburing-dev liblua5.1-0-dev lua-cjson lua-bitop libssl-dev \
liblzf-dev libcmocka-dev tcl tcllib redis-server redis-tools python3 python3-redis netcat-openbsd"
[ "$1" = --bench ] && PACKAGES="$PACKAGES fio gnuplot-nox"

missing=""
for p in $PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing:$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
    # Debian starts a redis-server service on 6379 when installing it; we only need the binary.
    (command -v systemctl >/dev/null 2>&1 && $SUDO systemctl disable --now redis-server >/dev/null 2>&1) || true
    $SUDO pkill -f '^/usr/bin/redis-server 127.0.0.1:6379' 2>/dev/null || true
fi
make -j"$(nproc)"
