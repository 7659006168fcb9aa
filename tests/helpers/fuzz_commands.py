#!/usr/bin/env python3
"""Randomized robustness driver for valkey-server (standard library only).

It reads the command table from the server itself (COMMAND: names, arity, key positions,
key specs, subcommands) and throws at it, from a fixed seed:
  - calls built from that table with arguments drawn from a pool of awkward values
    (boundary integers, inf/nan/1e400 floats, range markers, empty/binary/long strings,
    glob patterns) and each family's option keywords, keys from a small shared pool so types
    collide, random arity violations;
  - calls taken from the Valkey 8 reply transcripts (when the reference directory exists)
    and mutated argument by argument;
  - pipelined bursts, MULTI/EXEC blocks, RESP3 switches, Lua scripts that forward random
    commands or feed random bytes to cjson/cmsgpack/struct, RESTORE of mutated DUMP payloads,
    encoding-threshold CONFIG SETs, maxmemory episodes;
  - side connections: Pub/Sub subscribers, MONITOR, clients blocked with short timeouts that
    get killed or unblocked, and connections sending raw protocol garbage.
After every round it checks the reply stream is still in step (each round ends with
ECHO <token>); a server that stops answering, closes every connection, or answers out of
step is a failure. The last commands are then written to a JSON replay log.

Modes: commands (default), config (CONFIG SET of every directive with random values, then
restored), startup (random config files given to a fresh server binary), replay (a replay
log against a server), minimize (shrink a replay log against fresh servers of a binary).
Exit status 0 when nothing went wrong, 1 on a failure (the reason is on stderr).
"""

import argparse
import collections
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DEFAULT_REFERENCE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 '..', '..', '..', 'shared', 'reference', 'valkey8')

# --------------------------------------------------------------------------- protocol


class Dead(Exception):
    """The connection was closed by the server."""


class Timeout(Exception):
    """No complete reply before the deadline."""


class ProtocolError(Exception):
    """The server sent bytes that are not RESP."""


class Err(object):
    """An error reply (kept apart from strings so callers can tell)."""
    __slots__ = ('msg',)

    def __init__(self, msg):
        self.msg = msg

    def __repr__(self):
        return 'Err(%r)' % self.msg


_ATTR = object()


def tob(x):
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        return x.encode('latin-1')
    return str(x).encode()


def encode_command(args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        a = tob(a)
        out.append(b'$%d\r\n' % len(a))
        out.append(a)
        out.append(b'\r\n')
    return b''.join(out)


class Conn(object):
    """A blocking RESP2/RESP3 client over a raw socket."""

    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.closed = False

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            raise Dead()

    def _fill(self, deadline):
        remaining = deadline - time.time()
        if remaining <= 0:
            raise Timeout()
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            raise Timeout()
        except (ConnectionResetError, OSError):
            raise Dead()
        if not data:
            raise Dead()
        if self.pos and self.pos * 2 >= len(self.buf):
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data

    def _line(self, deadline):
        while True:
            i = self.buf.find(b'\r\n', self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill(deadline)

    def _exact(self, n, deadline):
        while len(self.buf) - self.pos < n + 2:
            self._fill(deadline)
        data = bytes(self.buf[self.pos:self.pos + n])
        if self.buf[self.pos + n:self.pos + n + 2] != b'\r\n':
            raise ProtocolError('bulk not terminated by CRLF')
        self.pos += n + 2
        return data

    def _int(self, s):
        try:
            return int(s)
        except ValueError:
            raise ProtocolError('bad length %r' % s[:40])

    def _value(self, deadline):
        """One RESP value, parsed without recursion (script replies can nest deeply)."""
        # each frame: [kind, remaining, items]; kind 'arr', 'push', 'attr' (discarded)
        stack = []
        while True:
            line = self._line(deadline)
            if not line:
                raise ProtocolError('empty line')
            t, rest = line[:1], line[1:]
            frame = None
            if t == b'+':
                v = rest
            elif t == b'-':
                v = Err(rest.decode('latin-1'))
            elif t == b':':
                v = self._int(rest)
            elif t in (b'$', b'=', b'!'):
                n = self._int(rest)
                if n < 0:
                    v = None
                else:
                    data = self._exact(n, deadline)
                    v = Err(data.decode('latin-1')) if t == b'!' else data
            elif t in (b'*', b'~', b'>', b'%', b'|'):
                n = self._int(rest)
                if n < 0:
                    v = None
                else:
                    if t in (b'%', b'|'):
                        n *= 2
                    kind = {b'>': 'push', b'|': 'attr'}.get(t, 'arr')
                    frame = [kind, n, []]
            elif t == b'_':
                v = None
            elif t in (b',', b'('):
                v = rest
            elif t == b'#':
                v = rest == b't'
            else:
                raise ProtocolError('unknown type byte %r in %r' % (t, line[:60]))
            if frame is not None:
                if frame[1] > 0:
                    stack.append(frame)
                    continue
                v = ('push', []) if frame[0] == 'push' else ([] if frame[0] == 'arr' else _ATTR)
            # v is complete: hand it to the enclosing aggregates
            while True:
                if v is _ATTR:
                    break  # an attribute precedes the real value: keep reading
                if not stack:
                    return v
                top = stack[-1]
                top[2].append(v)
                top[1] -= 1
                if top[1] > 0:
                    break
                stack.pop()
                v = ('push', top[2]) if top[0] == 'push' else (top[2] if top[0] == 'arr' else _ATTR)

    def read(self, deadline):
        """The next reply, skipping out-of-band push messages."""
        while True:
            v = self._value(deadline)
            if isinstance(v, tuple) and v and v[0] == 'push':
                continue
            return v

    def call(self, *args, timeout=10.0):
        self.send(encode_command(args))
        return self.read(time.time() + timeout)

    def drain(self):
        """Discards whatever is available now; raises Dead on EOF."""
        while True:
            try:
                r, _, _ = select.select([self.sock], [], [], 0)
            except (OSError, ValueError):
                raise Dead()
            if not r:
                return
            try:
                data = self.sock.recv(1 << 20)
            except (ConnectionResetError, OSError):
                raise Dead()
            if not data:
                raise Dead()


def stack_of(pid):
    """The server's stacks (gdb), to see where a server that stopped answering is."""
    if not pid or not shutil.which('gdb'):
        return ''
    try:
        out = subprocess.run(['gdb', '-p', str(pid), '-batch', '-ex', 'thread apply all bt 40'],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ''
    lines = [l for l in out.decode('latin-1', 'replace').splitlines() if l.startswith(('#', 'Thread'))]
    return '\n--- server stacks ---\n' + '\n'.join(l[:300] for l in lines)


def server_alive(host, port, timeout=5.0):
    try:
        c = Conn(host, port, timeout)
        try:
            return c.call('PING', timeout=timeout) == b'PONG'
        finally:
            c.close()
    except (Dead, Timeout, ProtocolError, OSError):
        return False


# --------------------------------------------------------------------------- value pools

INTS = ['0', '1', '-1', '2', '3', '5', '7', '10', '-10', '16', '100', '-100', '127', '128',
        '-128', '255', '256', '1000', '4096', '65535', '65536', '100000', '2147483647',
        '2147483648', '-2147483648', '-2147483649', '4294967295', '4294967296',
        '9223372036854775807', '-9223372036854775808', '9223372036854775808',
        '-9223372036854775809', '18446744073709551615', '18446744073709551616',
        '99999999999999999999999', '536870911', '536870912', '-536870912',
        '4611686018427387903', '-4611686018427387904', '4611686018427387904',
        '-9223372036854775807', '9223372036854775806', '00', '-0', '+1', '01', '0x1f']
FLOATS = ['0.5', '-0.5', '1.5', '3.14', '-0.0', '+0', '0.0', '1e10', '1e-10', '1e308',
          '1.7976931348623157e308', '-1.7976931348623157e308', '5e-324', '2.5e-308',
          '1e400', '-1e400', '1e-400', 'inf', '-inf', '+inf', 'Inf', 'INF', 'infinity',
          '-infinity', 'nan', 'NaN', '-nan', '1e', 'e1', '.5', '5.', '1.0e+2', '1,5',
          ' 1', '1 ', '+1.5', '++1', '--1', '9007199254740993', '0.1', '17.5',
          '123456789012345678901234567890.5', '1e99999', '0x10', '1.5e']
RANGES = ['(1', '(-1', '(0', '[a', '(a', '[b', '(z', '-', '+', '[', '(', '(inf', '(-inf',
          '(+inf', '(nan', '[\x00', '(abc', '[\xff', '((1', '[[a', '(1e400', '-inf', '+inf']
STRINGS = ['', 'a', 'b', 'c', 'foo', 'bar', 'hello', '\x00', '\x00\x00', 'a\x00b', '\r\n',
           '\r', '\n', ' ', '*', '?', '[', ']', '\\', '[a-', '[^a]*', '*a*', 'h?llo',
           'h[ae]llo', '\\*', '[\\', '[a-z]*', '*' * 30 + 'x', 'a*' * 20 + 'b', '[^',
           '[a-]', '[z-a]', '\xff\xfe\x80', '\xc3\xa9', "'", '"', '"a b"', "'a\\'", 'null',
           'true', '{t}a', '{', '}', '{}', '__keyspace@0__:*', 'm1', 'm2', 'f1', 'v1',
           'x' * 44, 'x' * 45, 'x' * 64, 'x' * 65]
LONG_SIZES = [63, 64, 65, 127, 128, 255, 256, 1023, 1024, 4095, 4096, 8192, 16384, 65535,
              65536, 100000]

# Option keywords of families the transcripts do not cover.
EXTRA_KEYWORDS = {
    'client': ['ID', 'LADDR', 'ADDR', 'USER', 'SKIPME', 'YES', 'NO', 'TYPE', 'NORMAL',
               'MASTER', 'REPLICA', 'PUBSUB', 'MAXAGE', 'ON', 'OFF', 'SKIP', 'WRITE', 'ALL',
               'TIMEOUT', 'ERROR', 'LIB-NAME', 'LIB-VER', 'REDIRECT', 'PREFIX', 'BCAST',
               'OPTIN', 'OPTOUT', 'NOLOOP', 'REDIRECT'],
    'config': ['*', 'maxmemory', 'hz', 'save', 'list-max-listpack-size', 'port', 'dir'],
    'command': ['FILTERBY', 'MODULE', 'ACLCAT', 'PATTERN', 'get', 'set', 'eval', 'sort',
                'blmpop', 'zunionstore', 'georadius', 'lmpop', 'migrate', 'xread'],
    'debug': ['OBJECT', 'DIGEST', 'DIGEST-VALUE', 'PROTOCOL', 'HTSTATS', 'ERROR', 'LOG',
              'QUICKLIST-PACKED-THRESHOLD', 'SET-ACTIVE-EXPIRE', 'POPULATE', 'JMAP',
              'STRING', 'INTEGER', 'DOUBLE', 'BIGNUM', 'NULL', 'ARRAY', 'SET', 'MAP',
              'ATTRIB', 'TRUE', 'FALSE', 'VERBATIM', 'FULL', 'SET-SKIP-CHECKSUM-VALIDATION',
              'KEY-POPULARITY', 'SERVER-CPU-USAGE'],
    'function': ['REPLACE', 'LIBRARYNAME', 'WITHCODE', 'ASYNC', 'SYNC', 'FLUSH', 'APPEND',
                 'RESTORE'],
    'script': ['ASYNC', 'SYNC', 'YES', 'NO'],
    'geo': ['M', 'KM', 'FT', 'MI', 'WITHCOORD', 'WITHDIST', 'WITHHASH', 'COUNT', 'ANY',
            'ASC', 'DESC', 'STORE', 'STOREDIST', 'FROMMEMBER', 'FROMLONLAT', 'BYRADIUS',
            'BYBOX', 'STOREDIST', 'NX', 'XX', 'CH', '13.361389', '38.115556', '15.087269',
            '37.502669', '180', '-180', '85.05112878', '-85.05112878', '90', '200'],
    'latency': ['command', 'fast-command', 'expire-cycle', 'eviction-cycle', 'HISTORY',
                'get', 'set'],
    'memory': ['SAMPLES', '0', '1', '5'],
    'object': [],
    'pubsub': ['*', 'ch', 'ch*', '__keyspace@0__:*'],
    'slowlog': ['-1', '0', '10'],
    'sort': ['BY', 'LIMIT', 'GET', 'ASC', 'DESC', 'ALPHA', 'STORE', '#', 'nosort',
             'w_*', 'w_*->f', '*->f', 'h_*->field'],
    'restore': ['REPLACE', 'ABSTTL', 'IDLETIME', 'FREQ'],
    'scan': ['MATCH', 'COUNT', 'TYPE', 'string', 'list', 'hash', 'set', 'zset', 'NOVALUES'],
    'lolwut': ['VERSION', '5', '6', '1'],
    'shutdown': [],
    'hello': ['2', '3', 'AUTH', 'SETNAME', 'default', '1', '4'],
    'info': ['all', 'everything', 'default', 'server', 'memory', 'keyspace', 'stats',
             'commandstats', 'latencystats', 'errorstats', 'clients', 'persistence'],
    'pf': ['h1', 'h2', 'ENCODING', 'GETREG', 'DECODE', 'TODENSE', 'SIMD'],
    'swapdb': ['0', '1', '9', '15', '16'],
}

# Valid-looking calls of commands the transcripts do not cover (mutated like the others).
EXTRA_TEMPLATES = [
    ['GEOADD', 'k1', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
    ['GEOADD', 'k1', 'NX', 'CH', '-179.9', '85.05', 'a', '179.9', '-85.05', 'b'],
    ['GEOSEARCH', 'k1', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'ASC', 'COUNT', '3', 'ANY',
     'WITHCOORD', 'WITHDIST', 'WITHHASH'],
    ['GEOSEARCH', 'k1', 'FROMMEMBER', 'Palermo', 'BYBOX', '400', '400', 'km', 'DESC'],
    ['GEOSEARCHSTORE', '{t}a', 'k1', 'FROMMEMBER', 'Palermo', 'BYBOX', '400', '400', 'km', 'STOREDIST'],
    ['GEORADIUS', 'k1', '15', '37', '200', 'km', 'WITHDIST', 'WITHCOORD', 'COUNT', '1', 'STORE', '{t}b'],
    ['GEORADIUS_RO', 'k1', '15', '37', '200', 'mi', 'WITHHASH', 'ASC'],
    ['GEORADIUSBYMEMBER', 'k1', 'Palermo', '300', 'km', 'STOREDIST', '{t}c'],
    ['GEORADIUSBYMEMBER_RO', 'k1', 'Palermo', '300', 'ft', 'WITHDIST'],
    ['GEODIST', 'k1', 'Palermo', 'Catania', 'km'], ['GEOPOS', 'k1', 'Palermo', 'nope'],
    ['GEOHASH', 'k1', 'Palermo', 'Catania'],
    ['SORT', 'k1', 'BY', 'w_*', 'GET', '#', 'GET', 'h_*->f1', 'LIMIT', '0', '10', 'ALPHA', 'DESC'],
    ['SORT', 'k1', 'BY', 'nosort', 'GET', 'w_*', 'STORE', '{t}a'],
    ['SORT_RO', 'k1', 'BY', 'h_*->f1', 'GET', '#', 'ALPHA'],
    ['SCAN', '0', 'MATCH', 'k*', 'COUNT', '10', 'TYPE', 'list'],
    ['HSCAN', 'k1', '0', 'MATCH', '*', 'COUNT', '100', 'NOVALUES'],
    ['SSCAN', 'k1', '0', 'MATCH', '1*', 'COUNT', '3'], ['ZSCAN', 'k1', '0', 'COUNT', '1000'],
    ['BLMOVE', 'k1', 'k2', 'LEFT', 'RIGHT', '0.01'], ['BZMPOP', '0.01', '2', 'k1', 'k2', 'MIN', 'COUNT', '2'],
    ['BLMPOP', '0.01', '1', 'k1', 'LEFT', 'COUNT', '5'], ['BZPOPMIN', 'k1', 'k2', '0.01'],
    ['PFADD', 'k1', 'a', 'b', 'c'], ['PFCOUNT', 'k1', 'k2'], ['PFMERGE', 'k3', 'k1', 'k2'],
    ['PFDEBUG', 'GETREG', 'k1'], ['PFDEBUG', 'DECODE', 'k1'], ['PFDEBUG', 'ENCODING', 'k1'],
    ['PFDEBUG', 'TODENSE', 'k1'],
    ['ZRANDMEMBER', 'k1', '-5', 'WITHSCORES'], ['HRANDFIELD', 'k1', '-5', 'WITHVALUES'],
    ['SRANDMEMBER', 'k1', '-5'], ['PEXPIREAT', 'k1', '9223372036854775807'],
    ['EXPIREAT', 'k1', '9223372036854775', 'GT'], ['OBJECT', 'ENCODING', 'k1'], ['OBJECT', 'FREQ', 'k1'],
    ['OBJECT', 'IDLETIME', 'k1'], ['MEMORY', 'USAGE', 'k1', 'SAMPLES', '0'],
    ['LPOS', 'k1', 'a', 'RANK', '-1', 'COUNT', '0', 'MAXLEN', '10'],
    ['BITFIELD_RO', 'k1', 'GET', 'u8', '0', 'GET', 'i64', '100'],
    ['BITFIELD', 'k1', 'OVERFLOW', 'SAT', 'INCRBY', 'i5', '100', '1', 'SET', 'u63', '#3', '5'],
    ['LATENCY', 'HISTOGRAM', 'set', 'get'], ['LATENCY', 'HISTORY', 'command'], ['LATENCY', 'LATEST'],
    ['FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', 'l*'], ['FUNCTION', 'DUMP'], ['FUNCTION', 'STATS'],
    ['COPY', 'k1', 'k2', 'DB', '1', 'REPLACE'], ['MOVE', 'k1', '1'], ['RENAME', 'k1', 'k2'],
    ['SWAPDB', '9', '1'], ['DUMP', 'k1'], ['TOUCH', 'k1', 'k2'], ['UNLINK', 'k1', 'k2'],
    ['OBJECT', 'HELP'], ['COMMAND', 'GETKEYS', 'SORT', 'k', 'STORE', 'x'],
    ['COMMAND', 'GETKEYSANDFLAGS', 'LMOVE', 'a', 'b', 'LEFT', 'RIGHT'],
    ['COMMAND', 'GETKEYS', 'EVAL', 'return 1', '2', 'a', 'b'],
    ['COMMAND', 'GETKEYS', 'ZUNIONSTORE', 'd', '2', 'a', 'b'],
    ['SPUBLISH', 'ch1', 'x'], ['PUBSUB', 'NUMSUB', 'ch1', 'ch2'], ['PUBSUB', 'CHANNELS', 'c*'],
    ['PUBSUB', 'SHARDNUMSUB', 'ch1'], ['PUBSUB', 'NUMPAT'],
    ['SLOWLOG', 'GET', '-1'], ['SLOWLOG', 'GET', '5'],
    ['LCS', 'k1', 'k2', 'IDX', 'MINMATCHLEN', '1', 'WITHMATCHLEN'],
    ['SET', 'k1', 'v', 'IFEQ', 'v', 'GET'], ['GETEX', 'k1', 'PXAT', '9223372036854775807'],
]

# CONFIG SET values tried by the commands mode (encodings and other cheap switches).
SAFE_CONFIGS = {
    'list-max-listpack-size': ['-5', '-4', '-3', '-2', '-1', '1', '2', '3', '4', '8', '128'],
    'list-compress-depth': ['0', '1', '2', '3'],
    'hash-max-listpack-entries': ['0', '1', '2', '3', '4', '128'],
    'hash-max-listpack-value': ['0', '1', '4', '8', '64'],
    'set-max-intset-entries': ['0', '1', '2', '4', '512'],
    'set-max-listpack-entries': ['0', '1', '2', '4', '128'],
    'set-max-listpack-value': ['0', '1', '4', '8', '64'],
    'zset-max-listpack-entries': ['0', '1', '2', '4', '128'],
    'zset-max-listpack-value': ['0', '1', '4', '8', '64'],
    'notify-keyspace-events': ['', 'KEA', 'Kl', 'Ex', 'KEg$lshzxetmdn', 'A', 'K', 'Ez'],
    'slowlog-log-slower-than': ['-1', '0', '10000'],
    'slowlog-max-len': ['0', '1', '128'],
    'latency-monitor-threshold': ['0', '1'],
    'lazyfree-lazy-user-del': ['yes', 'no'],
    'lazyfree-lazy-user-flush': ['yes', 'no'],
    'lazyfree-lazy-expire': ['yes', 'no'],
    'lazyfree-lazy-server-del': ['yes', 'no'],
    'lazyfree-lazy-eviction': ['yes', 'no'],
    'active-expire-effort': ['1', '10'],
    'hz': ['1', '10', '100', '500'],
    'proto-max-bulk-len': ['1mb', '512mb'],
    'client-query-buffer-limit': ['1mb', '1gb'],
    'tracking-table-max-keys': ['0', '1', '100'],
    'busy-reply-threshold': ['5000'],
    'hll-sparse-max-bytes': ['0', '3000', '100'],
}
MAXMEMORY_POLICIES = ['noeviction', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random',
                      'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']

# Commands never sent on the main connection (they would stop, hang, redirect or lock out
# the fuzz), or only through the special generators below.
EXCLUDED = {'shutdown', 'monitor', 'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe',
            'punsubscribe', 'sunsubscribe', 'sync', 'psync', 'replicaof', 'slaveof',
            'failover', 'migrate', 'module', 'replconf', 'acl', 'auth', 'debug', 'config',
            'quit', 'cluster', 'readonly', 'readwrite', 'asking'}
EXCLUDED_SUB = {'client|reply', 'client|pause', 'client|unpause', 'client|kill',
                'client|no-evict', 'config|set', 'config|rewrite', 'acl|setuser',
                'acl|deluser', 'acl|load', 'acl|save', 'acl|log', 'debug|segfault',
                'script|kill', 'function|kill', 'module|load', 'module|loadex'}
# Commands sent only rarely (one round in RARE_EVERY) because they are slow or wipe state.
RARE = {'flushall', 'flushdb', 'save', 'bgsave', 'bgrewriteaof', 'swapdb', 'lolwut',
        'keys', 'info', 'memory|doctor', 'latency|doctor', 'command', 'command|docs',
        'command|info', 'command|list', 'function|flush', 'script|flush', 'pfselftest',
        'randomkey', 'lastsave', 'memory|malloc-stats', 'shutdown', 'client|list',
        'function|dump', 'function|restore', 'dbsize'}
RARE_EVERY = 40
BLOCKING_TIMEOUT_LAST = {'blpop', 'brpop', 'blmove', 'brpoplpush', 'bzpopmin', 'bzpopmax'}
BLOCKING_TIMEOUT_FIRST = {'blmpop', 'bzmpop'}

LUA_SCRIPTS = [
    "return redis.call(unpack(ARGV))",
    "return redis.pcall(unpack(ARGV))",
    "redis.setresp(3); return redis.call(unpack(ARGV))",
    "redis.setresp(3); return redis.pcall(unpack(ARGV))",
    "local r = redis.pcall(unpack(ARGV)); return {r, type(r)}",
    "return cmsgpack.unpack(ARGV[1])",
    "return {cmsgpack.unpack_one(ARGV[1])}",
    "return {cmsgpack.unpack_limit(ARGV[1], tonumber(ARGV[2]) or 1)}",
    "return cmsgpack.pack(ARGV[1], tonumber(ARGV[2]), {ARGV[1]}, {a=ARGV[2]})",
    "return cmsgpack.pack(cmsgpack.unpack(ARGV[1]))",
    "return cjson.encode(cjson.decode(ARGV[1]))",
    "return cjson.decode(ARGV[1])",
    "return cjson.encode({ARGV[1], tonumber(ARGV[2]), {x=ARGV[1]}})",
    "return {struct.unpack(ARGV[1], ARGV[2])}",
    "return struct.pack(ARGV[1], tonumber(ARGV[2]) or 0, ARGV[3] or '')",
    "return struct.size(ARGV[1])",
    "return bit.tohex(tonumber(ARGV[1]) or 0, tonumber(ARGV[2]) or 8)",
    "return redis.sha1hex(ARGV[1])",
    "return redis.error_reply(ARGV[1])",
    "return redis.status_reply(ARGV[1])",
    "return {err=ARGV[1]}",
    "return {ok=ARGV[1]}",
    "return {1, 2.5, true, false, nil, 'x', {3, {4, {5}}}, {err='e'}, {ok='o'}}",
    "return tonumber(ARGV[1])",
    "return {double=tonumber(ARGV[1])}",
    "return {big_number=ARGV[1]}",
    "return {map={a=1,b={2}}}",
    "return {set={a=true}}",
    "return redis.acl_check_cmd(unpack(ARGV))",
    "redis.log(redis.LOG_WARNING, ARGV[1]); return 1",
    "redis.set_repl(tonumber(ARGV[1]) or 0); return 1",
    "return redis.replicate_commands()",
    "local t = {} for i=1,(tonumber(ARGV[1]) or 1) % 5000 do t[i]=i end return t",
    "return #KEYS + #ARGV",
    "return KEYS",
    "return redis.call('get', KEYS[1])",
    "return string.format(ARGV[1], ARGV[2])",
    "return loadstring(ARGV[1])",
    "error(ARGV[1])",
    "return redis.call()",
    "return redis.call('')",
    "return redis.breakpoint()",
    "return redis.REDIS_VERSION",
    "return server.call(unpack(ARGV))",
    "x = 1",
    "return _G.redis ~= nil",
    "return os.clock() > -1",
    "return setmetatable({}, {__index=function() return 1 end}).x",
    "return coroutine.wrap(function() return redis.call('ping') end)()",
]


_CRC64_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ (0x95AC9329AC4BC9B5 if _c & 1 else 0)
    _CRC64_TABLE.append(_c)


def crc64(data):
    """CRC-64/Jones as DUMP payloads use it (reflected; 123456789 -> e9c6d914c4b8d9ca)."""
    crc = 0
    for b in data:
        crc = _CRC64_TABLE[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc


LUA_LIB_SCRIPTS = [
    ("return {struct.unpack(ARGV[1], ARGV[2], tonumber(ARGV[3]))}", 'fmt blob pos'),
    ("return {struct.unpack(ARGV[1], ARGV[2])}", 'fmt blob'),
    ("return struct.pack(ARGV[1], unpack(ARGV, 2))", 'fmt vals'),
    ("return struct.size(ARGV[1])", 'fmt'),
    ("return {struct.unpack(ARGV[1], struct.pack(ARGV[1], unpack(ARGV, 2)))}", 'fmt vals'),
    ("return cmsgpack.unpack(ARGV[1])", 'mp'),
    ("return {cmsgpack.unpack_one(ARGV[1], tonumber(ARGV[2]))}", 'mp pos'),
    ("return {cmsgpack.unpack_limit(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))}", 'mp limit pos'),
    ("return cmsgpack.pack(cmsgpack.unpack(ARGV[1]))", 'mp'),
    ("return cmsgpack.pack(unpack(ARGV))", 'vals'),
    ("local t = {} local c = t for i = 1, (tonumber(ARGV[1]) or 1) % 200000 do c[1] = {} c = c[1] end "
     "return cmsgpack.pack(t)", 'n'),
    ("local t = {} local c = t for i = 1, (tonumber(ARGV[1]) or 1) % 200000 do c[1] = {} c = c[1] end "
     "return cjson.encode(t)", 'n'),
    ("local t = {} t[1] = t t.x = t return cmsgpack.pack(t)", ''),
    ("local t = {} t[1] = t return cjson.encode(t)", ''),
    ("local t = {} for i = 1, (tonumber(ARGV[1]) or 1) % 70000 do t[i] = i end t[0.5] = 1 "
     "return #cmsgpack.pack(t, t)", 'n'),
    ("return cjson.decode(ARGV[1])", 'json'),
    ("return cjson.encode(cjson.decode(ARGV[1]))", 'json'),
    ("return {bit.band(tonumber(ARGV[1]) or 0, tonumber(ARGV[2]) or 0), bit.tohex(tonumber(ARGV[1]) or 0, "
     "tonumber(ARGV[2]) or 1), bit.lshift(tonumber(ARGV[1]) or 0, tonumber(ARGV[2]) or 0)}", 'vals'),
    ("return redis.sha1hex(ARGV[1])", 'vals'),
    ("return redis.setresp(tonumber(ARGV[1]))", 'vals'),
    ("return redis.call('ECHO', struct.pack(ARGV[1], unpack(ARGV, 2)))", 'fmt vals'),
]


def msgpack_blob(rng, depth=0):
    """A random, often truncated or lying, MessagePack value."""
    r = rng.random()
    big = rng.choice([0, 1, 15, 16, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32 - 1])
    if r < 0.2 or depth > 4:
        return bytes([rng.choice([0x00, 0x7f, 0xc0, 0xc2, 0xc3, 0xe0, 0xff, 0xc1, 0xd4, 0xc7])])
    if r < 0.3:
        return bytes([rng.choice([0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xca, 0xcb])]) + \
            bytes(rng.randrange(256) for _ in range(rng.randint(0, 9)))
    if r < 0.45:
        n = rng.randint(0, 40)
        head = rng.choice([bytes([0xa0 | min(n, 31)]), bytes([0xd9, n]), b'\xda' + n.to_bytes(2, 'big'),
                           b'\xdb' + big.to_bytes(4, 'big'), bytes([0xc4, n]), b'\xc6' + big.to_bytes(4, 'big')])
        return head + b'x' * n
    if r < 0.75:
        n = rng.randint(0, 6)
        head = rng.choice([bytes([0x90 | n]), b'\xdc' + n.to_bytes(2, 'big'),
                           b'\xdd' + (big if rng.random() < 0.3 else n).to_bytes(4, 'big')])
        return head + b''.join(msgpack_blob(rng, depth + 1) for _ in range(n))
    n = rng.randint(0, 4)
    head = rng.choice([bytes([0x80 | n]), b'\xde' + n.to_bytes(2, 'big'),
                       b'\xdf' + (big if rng.random() < 0.3 else n).to_bytes(4, 'big')])
    return head + b''.join(msgpack_blob(rng, depth + 1) for _ in range(2 * n))


def struct_format(rng):
    alphabet = '<>=!xbBhHlLTiIfdsc0123456789 '
    if rng.random() < 0.3:
        return rng.choice(['i33', 'I32', 'i0', 'c0', 'c', 'c99999999999', '!3', '!16', '!',
                           'i99999999999', 'bc0', 'Ic0', '>i16', '<I17', 's', 'xxs', 'd', 'f',
                           '!8d!1b', 'i' * 100, 'c2147483647', 'T', 'L', '=', ''])
    return ''.join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))


def json_text(rng):
    return rng.choice([
        '[' * rng.choice([10, 1000, 100000]), '{"a":' * 2000, '1e400', '-1e400', '[1,2', '"\\ud800"',
        '"\\u0000"', '{"a":1,"a":2}', '[1e999999]', '"' + '\\' * 11, '[' + '1,' * 1000 + '1]',
        'nan', 'Infinity', '[-0]', '123456789012345678901234567890', '"\xff\xfe"', '{1:2}', '',
        '[null,true,false,"x",{"k":[1.5]}]', '0x10', '[' * 1000 + ']' * 1000])


def quote_free(s):
    return s.replace('/', '_')


class Generator(object):
    """Builds random commands from the server's table and the reference transcripts."""

    def __init__(self, rng, table, reference_dir, allow_slow=True):
        self.rng = rng
        self.table = table            # name -> info dict (subcommands nested)
        self.templates = collections.defaultdict(list)   # name -> list of argv (lists)
        self.keywords = collections.defaultdict(set)     # name -> option words
        self.keys = ['k1', 'k2', 'k3', 'k4', 'k5', '{t}a', '{t}b', '{t}c', 'h_a', 'w_a']
        self.members = set(['a', 'b', 'c', 'm1', 'm2', 'f1', '1', '2', '10'])
        self.dumps = []
        self.client_ids = []
        self.allow_slow = allow_slow
        self.exclude = set()
        self.raw_restore_types = set()   # payload types never re-checksummed after mutation
        self.function_dumps = []
        self.restore_heavy = False
        self._load_transcripts(reference_dir)
        for argv in EXTRA_TEMPLATES:
            self.templates[argv[0].lower()].append(argv)
        for name, words in EXTRA_KEYWORDS.items():
            for w in words:
                self.keywords[name].add(w)
        self.names = sorted(n for n in table if n not in EXCLUDED)
        self.template_names = sorted(n for n in self.templates if n in self.table and
                                     n not in EXCLUDED)
        self.members = sorted(self.members)[:200]

    def _load_transcripts(self, d):
        if not d or not os.path.isdir(d):
            return
        keyset = set()
        for path in sorted(os.listdir(d)):
            if not (path.startswith('replies-') and path.endswith('.jsonl')):
                continue
            with open(os.path.join(d, path), encoding='utf-8') as f:
                for line in f:
                    try:
                        argv = json.loads(line)['cmd']
                    except (ValueError, KeyError):
                        continue
                    if not argv:
                        continue
                    name = argv[0].lower()
                    if name in ('flushall', 'select', 'shutdown', 'debug', 'config'):
                        continue
                    argv = [a if isinstance(a, str) else str(a) for a in argv]
                    self.templates[name].append(argv)
                    info = self.table.get(name)
                    keypos = self.key_positions(info, argv) if info else set()
                    for i, a in enumerate(argv[1:], 1):
                        if i in keypos:
                            keyset.add(a)
                        elif re.match(r'^[A-Z][A-Z_-]+$', a):
                            self.keywords[name].add(a)
                        elif len(a) < 20:
                            self.members.add(a)
        keys = sorted(k for k in keyset if len(k) < 40)
        if keys:
            self.rng.shuffle(keys)
            self.keys = sorted(set(keys[:24] + self.keys))

    @staticmethod
    def key_positions(info, argv):
        """Argument indexes holding keys, from legacy positions and key specs."""
        pos = set()
        n = len(argv)
        first, last, step = info['first'], info['last'], info['step']
        if first > 0 and step > 0:
            end = last if last >= 0 else n + last
            i = first
            while i <= end and i < n:
                pos.add(i)
                i += step
        for spec in info['specs']:
            bs, fk = spec.get('begin_search', {}), spec.get('find_keys', {})
            if bs.get('type') != 'index':
                continue
            start = bs.get('spec', {}).get('index', 0)
            if fk.get('type') == 'keynum':
                sp = fk.get('spec', {})
                ki = start + sp.get('keynumidx', 0)
                if ki >= n:
                    continue
                try:
                    cnt = int(argv[ki])
                except ValueError:
                    continue
                f = start + sp.get('firstkey', 1)
                for j in range(max(0, min(cnt, 64))):
                    p = f + j * max(1, sp.get('keystep', 1))
                    if p < n:
                        pos.add(p)
        return pos

    # ---- values
    def integer(self):
        r = self.rng.random()
        if r < 0.55:
            return str(self.rng.randint(-5, 20))
        if r < 0.9:
            return self.rng.choice(INTS)
        return str(self.rng.randint(-(1 << 63), (1 << 63) - 1))

    def string(self):
        r = self.rng.random()
        if r < 0.5:
            return self.rng.choice(self.members)
        if r < 0.8:
            return self.rng.choice(STRINGS)
        if r < 0.93:
            n = self.rng.randint(1, 40)
            return ''.join(chr(self.rng.randint(0, 255)) for _ in range(n))
        n = self.rng.choice(LONG_SIZES) if self.rng.random() < 0.7 else self.rng.randint(1, 100000)
        return self.rng.choice('xyz01') * n

    def value(self, name=None):
        r = self.rng.random()
        words = self.keywords.get(name.split('|')[0]) if name else None
        if words and r < 0.3:
            w = self.rng.choice(sorted(words))
            return w.lower() if self.rng.random() < 0.15 else w
        if r < 0.55:
            return self.integer()
        if r < 0.65:
            return self.rng.choice(FLOATS)
        if r < 0.72:
            return self.rng.choice(RANGES)
        if r < 0.8:
            return self.rng.choice(self.keys)
        return self.string()

    def key(self):
        if self.rng.random() < 0.02:
            return self.rng.choice(['', 'x' * 300, '\x00', 'k1\x00'])
        return self.rng.choice(self.keys)

    # ---- commands
    def from_table(self, name):
        info = self.table[name]
        parts = name.split('|')
        sub = None
        if info['subs'] and self.rng.random() < 0.92:
            sub = self.rng.choice(sorted(info['subs']))
            if sub in EXCLUDED_SUB:
                sub = None
            else:
                info = info['subs'][sub]
                parts = sub.split('|')
        arity = info['arity']
        fixed = len(parts)
        if self.rng.random() < 0.05:
            n = self.rng.randint(fixed, abs(arity) + 3)
        elif arity > 0:
            n = arity
        else:
            n = -arity + (self.rng.choice([0, 0, 1, 1, 2, 2, 3, 4, 6, 9])
                          if self.rng.random() < 0.9 else self.rng.randint(0, 40))
        n = max(n, fixed)
        argv = parts[:1] + [p.upper() for p in parts[1:]] + [None] * (n - fixed)
        # Key specs with a key count: write the count, then keys after it.
        for spec in info['specs']:
            bs, fk = spec.get('begin_search', {}), spec.get('find_keys', {})
            if bs.get('type') == 'index' and fk.get('type') == 'keynum':
                sp = fk.get('spec', {})
                start = bs.get('spec', {}).get('index', 0)
                ki = start + sp.get('keynumidx', 0)
                if ki < len(argv) and argv[ki] is None:
                    room = len(argv) - (start + sp.get('firstkey', 1))
                    cnt = self.rng.randint(1, 3) if room <= 0 else self.rng.randint(1, max(1, min(room, 4)))
                    if self.rng.random() < 0.1:
                        cnt = self.rng.choice([0, -1, 100, 2 ** 31, cnt + 1])
                    argv[ki] = str(cnt)
        keypos = self.key_positions(info, [a if a is not None else 'x' for a in argv])
        full = sub or name
        for i in range(len(argv)):
            if argv[i] is None:
                argv[i] = self.key() if i in keypos else self.value(full)
        return argv

    def mutate(self, argv, name):
        argv = list(argv)
        info = self.table.get(name)
        keypos = self.key_positions(info, argv) if info else set()
        for i in keypos:
            if i < len(argv) and self.rng.random() < 0.7:
                argv[i] = self.key()
        r = self.rng.random()
        if r < 0.45 or len(argv) < 2:
            return argv
        for _ in range(self.rng.randint(1, 3)):
            op = self.rng.random()
            if len(argv) < 2:
                break
            i = self.rng.randrange(1, len(argv))
            if op < 0.45:
                argv[i] = self.value(name)
            elif op < 0.6:
                argv[i] = self.integer()
            elif op < 0.7:
                del argv[i]
            elif op < 0.8:
                argv.insert(i, argv[i])
            elif op < 0.9:
                argv.append(self.value(name))
            else:
                j = self.rng.randrange(1, len(argv))
                argv[i], argv[j] = argv[j], argv[i]
        return argv

    def grow(self):
        """A write that makes a collection big enough to change encoding."""
        k = self.key()
        n = self.rng.choice([1, 3, 10, 100, 130, 300, 600])
        big = self.rng.random() < 0.2
        def el(i):
            return ('x' * self.rng.choice([1, 70, 200, 5000]) + str(i)) if big else str(self.rng.randint(0, n * 2))
        t = self.rng.randrange(5)
        if t == 0:
            return [self.rng.choice(['RPUSH', 'LPUSH'])] + [k] + [el(i) for i in range(n)]
        if t == 1:
            argv = ['HSET', k]
            for i in range(n):
                argv += ['f%d' % i, el(i)]
            return argv
        if t == 2:
            return ['SADD', k] + [el(i) for i in range(n)]
        if t == 3:
            argv = ['ZADD', k]
            for i in range(n):
                argv += [self.rng.choice(['1', str(i), '-inf', '0.5', str(self.rng.random())]), el(i)]
            return argv
        return ['PFADD', k] + [el(i) for i in range(n)]

    def lua(self):
        script = self.rng.choice(LUA_SCRIPTS)
        nkeys = self.rng.choice([0, 0, 1, 2])
        keys = [self.key() for _ in range(nkeys)]
        if 'unpack(ARGV)' in script or 'acl_check' in script:
            argv = self.command(nested=True)
        else:
            argv = [self.value() for _ in range(self.rng.randint(0, 3))]
            if 'unpack' in script and self.rng.random() < 0.5 and self.dumps:
                argv[0:1] = [self.rng.choice(self.dumps)]
        cmd = self.rng.choice(['EVAL', 'EVAL', 'EVAL_RO', 'EVALSHA'])
        body = script
        if cmd == 'EVALSHA':
            import hashlib
            body = hashlib.sha1(script.encode()).hexdigest()
        return [cmd, body, str(nkeys)] + keys + argv

    def lua_lib(self):
        script, kinds = self.rng.choice(LUA_LIB_SCRIPTS)
        argv = []
        for kind in kinds.split():
            if kind == 'fmt':
                argv.append(struct_format(self.rng))
            elif kind == 'mp':
                blob = msgpack_blob(self.rng)
                if self.rng.random() < 0.3 and blob:
                    blob = blob[:self.rng.randrange(len(blob))]
                argv.append(blob * self.rng.choice([1, 1, 1, 2, 3]))
            elif kind == 'json':
                argv.append(json_text(self.rng))
            elif kind in ('pos', 'limit', 'n'):
                argv.append(self.integer())
            elif kind == 'blob':
                argv.append(bytes(self.rng.randrange(256) for _ in range(self.rng.randint(0, 40))))
            else:
                argv += [self.value() for _ in range(self.rng.randint(0, 5))]
        return ['EVAL', script, '0'] + argv

    def function(self):
        r = self.rng.random()
        if r < 0.4:
            flags = self.rng.choice(['', "flags={'no-writes'}", "flags={'allow-oom','allow-stale'}",
                                     "flags={'bogus'}", "flags={}", "flags=7"])
            name = self.rng.choice(['f1', 'f2', 'lib_f', '1bad', ''])
            body = ("#!lua name=%s\nredis.register_function{function_name='%s', callback="
                    "function(keys, args) return redis.call(unpack(args)) end, %s}\n"
                    % (self.rng.choice(['lib1', 'lib2', 'l']), name, flags))
            if self.rng.random() < 0.3:
                body = self.rng.choice([
                    "#!lua name=lib3\nredis.register_function('f3', function() return 1 end)",
                    "#!lua\nreturn 1", "#!js name=x\n", "#!lua name=lib4 engine=x\n",
                    "#!lua name=lib5\nlocal x = redis.call('ping')",
                    "#!lua name=lib6\nredis.register_function('f6', function(k, a) "
                    "return redis.setresp(3) end)",
                    "#!lua name=lib7\n" + self.string(),
                ])
            return ['FUNCTION', 'LOAD'] + (['REPLACE'] if self.rng.random() < 0.7 else []) + [body]
        if r < 0.85:
            nkeys = self.rng.choice([0, 1])
            keys = [self.key() for _ in range(nkeys)]
            return ([self.rng.choice(['FCALL', 'FCALL_RO']), self.rng.choice(['f1', 'f2', 'f3', 'f6', 'nope']),
                     str(nkeys)] + keys + self.command(nested=True))
        return self.from_table('function') if 'function' in self.table else ['PING']

    def restore(self):
        if not self.dumps:
            return ['DUMP', self.key()]
        functions = self.function_dumps and self.rng.random() < 0.15
        payload = bytearray(self.rng.choice(self.function_dumps if functions else self.dumps))
        fix_crc = len(payload) > 10 and self.rng.random() < 0.85 and payload[0] not in self.raw_restore_types
        if fix_crc:
            footer_version = payload[-10:-8]
            payload = payload[:-10]
        for _ in range(self.rng.randint(0, 4)):
            op = self.rng.random()
            if not payload:
                break
            i = self.rng.randrange(len(payload))
            if op < 0.4:
                payload[i] = self.rng.randrange(256)
            elif op < 0.6:
                payload[i] ^= 1 << self.rng.randrange(8)
            elif op < 0.75:
                del payload[i:i + self.rng.randint(1, 8)]
            elif op < 0.9:
                payload[i:i] = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 8)))
            else:
                payload = payload[:i]
        if fix_crc:
            # a valid checksum, so the mutated body reaches the loader
            payload += footer_version
            payload += crc64(payload).to_bytes(8, 'little')
        if functions:
            return ['FUNCTION', 'RESTORE', bytes(payload)] + \
                ([self.rng.choice(['FLUSH', 'APPEND', 'REPLACE'])] if self.rng.random() < 0.7 else [])
        argv = ['RESTORE', self.key(), self.rng.choice(['0', '0', '100', '-1']), bytes(payload)]
        if self.rng.random() < 0.9:
            argv.append('REPLACE')
        if self.rng.random() < 0.1:
            argv += [self.rng.choice(['IDLETIME', 'FREQ', 'ABSTTL']), self.integer()]
        return argv

    def debug(self):
        r = self.rng.random()
        k = self.key()
        choices = [
            ['DEBUG', 'OBJECT', k], ['DEBUG', 'DIGEST-VALUE', k, self.key()],
            ['DEBUG', 'DIGEST'], ['DEBUG', 'PROTOCOL', self.rng.choice(
                ['string', 'integer', 'double', 'bignum', 'null', 'array', 'set', 'map',
                 'attrib', 'true', 'false', 'verbatim', 'nope'])],
            ['DEBUG', 'HTSTATS', self.rng.choice(['0', '9', '-1', '100', 'x'])],
            ['DEBUG', 'HTSTATS-KEY', k],
            ['DEBUG', 'LISTPACK', k], ['DEBUG', 'QUICKLIST-PACKED-THRESHOLD',
                                     self.rng.choice(['1', '10', '100', '1073741824', '0', '-1', 'x', '4294967296'])],
            ['DEBUG', 'SET-ACTIVE-EXPIRE', self.rng.choice(['0', '1'])],
            ['DEBUG', 'POPULATE', str(self.rng.randint(0, 300)),
             self.rng.choice(['key', 'k', '{t}']), str(self.rng.choice([0, 1, 10, 100]))],
            ['DEBUG', 'ERROR', self.string()], ['DEBUG', 'LOG', self.string()],
            ['DEBUG', 'JMAP'], ['DEBUG', 'STRINGMATCH-LEN'], ['DEBUG', 'CHANGE-REPL-ID'],
            ['DEBUG', 'SET-SKIP-CHECKSUM-VALIDATION', '0' if self.raw_restore_types else self.rng.choice(['0', '1'])],
            ['DEBUG', 'SLEEP', '0'], ['DEBUG', 'KEY-POPULARITY'],
            ['DEBUG', self.string()],
        ]
        if r < 0.02 and self.allow_slow:
            return ['DEBUG', 'RELOAD'] + self.rng.sample(['MERGE', 'NOFLUSH', 'NOSAVE'], self.rng.randint(0, 2))
        return self.rng.choice(choices)

    def special(self):
        r = self.rng.random()
        if r < 0.2:
            return self.grow()
        if r < 0.3:
            return self.lua()
        if r < 0.35:
            return self.lua_lib()
        if r < 0.43:
            return self.function()
        if r < 0.55:
            return self.restore()
        if r < 0.58:
            return ['DUMP', self.key()]
        if r < 0.72:
            return self.debug()
        if r < 0.82:
            name = self.rng.choice(sorted(SAFE_CONFIGS))
            return ['CONFIG', 'SET', name, self.rng.choice(SAFE_CONFIGS[name])]
        if r < 0.86:
            return ['CONFIG', 'GET', self.rng.choice(['*', '*max*', 'hz', self.string()])]
        if r < 0.9:
            ids = self.client_ids or ['1']
            return self.rng.choice([
                ['CLIENT', 'KILL', 'ID', self.rng.choice(ids)],
                ['CLIENT', 'UNBLOCK', self.rng.choice(ids), self.rng.choice(['TIMEOUT', 'ERROR', 'x'])],
                ['CLIENT', 'KILL', 'TYPE', self.rng.choice(['pubsub', 'normal', 'replica', 'x'])],
                ['CLIENT', 'PAUSE', str(self.rng.choice([1, 10, 50])), self.rng.choice(['WRITE', 'ALL'])],
                ['CLIENT', 'UNPAUSE'],
                ['CLIENT', 'NO-EVICT', self.rng.choice(['on', 'off', 'x'])],
                ['CLIENT', 'TRACKING', self.rng.choice(['on', 'off']),
                 self.rng.choice(['BCAST', 'NOLOOP', 'OPTIN', 'OPTOUT', 'PREFIX', 'REDIRECT'])] +
                ([self.rng.choice(['k', '{t}', '', self.rng.choice(ids)])] if self.rng.random() < 0.5 else []),
                ['CLIENT', 'CACHING', self.rng.choice(['yes', 'no'])],
                ['CLIENT', 'LIST', 'ID'] + [self.rng.choice(ids) for _ in range(2)],
                ['CLIENT', 'INFO'], ['CLIENT', 'SETNAME', self.rng.choice(['n1', '', 'a b', 'x' * 100])],
                ['CLIENT', 'SETINFO', self.rng.choice(['LIB-NAME', 'LIB-VER', 'x']), self.string()],
            ])
        if r < 0.93:
            return ['SELECT', self.rng.choice(['0', '0', '9', '9', '1', '15', '16', '-1', 'x'])]
        if r < 0.96:
            return ['HELLO', self.rng.choice(['2', '3', '3', '1', '4', 'x'])]
        if r < 0.98:
            return ['PUBLISH', self.rng.choice(['ch1', 'ch2', '__keyspace@0__:k1', 'x']), self.string()]
        return ['SPUBLISH', self.rng.choice(['ch1', 'ch2']), self.string()]

    def command(self, nested=False):
        r = self.rng.random()
        if not nested and self.restore_heavy and self.rng.random() < 0.4:
            return self.restore() if self.dumps and self.rng.random() < 0.8 else (self.grow() if self.rng.random() < 0.5 else ['DUMP', self.key()])
        if not nested and r < 0.12:
            argv = self.special()
        elif r < 0.55 and self.template_names:
            name = self.rng.choice(self.template_names)
            argv = self.mutate(self.rng.choice(self.templates[name]), name)
        else:
            name = self.rng.choice(self.names)
            if name in RARE and self.rng.randrange(RARE_EVERY):
                name = 'ping'
            argv = self.from_table(name)
        return self.sanitize(argv, nested)

    def sanitize(self, argv, nested=False):
        """Keeps a command from stopping or hanging the run (see EXCLUDED)."""
        if not argv:
            return ['PING']
        name = tob(argv[0]).decode('latin-1').lower()
        sub = tob(argv[1]).decode('latin-1').lower() if len(argv) > 1 else ''
        full = name + '|' + sub
        if name in self.exclude:
            return ['PING']
        if name in ('shutdown', 'monitor', 'sync', 'psync', 'replicaof', 'slaveof',
                    'failover', 'migrate', 'quit', 'acl', 'auth', 'module') or \
                name.endswith('subscribe'):
            return ['PING']
        if full in EXCLUDED_SUB and argv not in (['CLIENT', 'UNPAUSE'],):
            if not (full == 'client|pause' and len(argv) >= 3 and argv[2] in ('1', '10', '50')) and \
               not (full == 'client|kill' and len(argv) >= 3) and \
               not (full == 'config|set' and len(argv) >= 3 and argv[2] in SAFE_CONFIGS) and \
               not (full == 'client|no-evict'):
                return ['PING']
        if name == 'debug' and sub not in ('object', 'digest-value', 'digest', 'protocol', 'htstats',
                                           'htstats-key', 'listpack', 'quicklist-packed-threshold',
                                           'set-active-expire', 'populate', 'error', 'log', 'jmap',
                                           'stringmatch-len', 'change-repl-id', 'reload',
                                           'set-skip-checksum-validation', 'key-popularity') and \
                argv != ['DEBUG', 'SLEEP', '0'] and not nested:
            if self.rng.random() < 0.95:
                return ['PING']
        if name == 'debug' and (nested or sub in ('reload',)) and sub not in ('object', 'digest-value', 'protocol'):
            if nested:
                return ['PING']
        if name == 'debug' and sub == 'populate' and len(argv) > 2:
            try:
                if int(argv[2]) > 1000:
                    argv[2] = '1000'
            except ValueError:
                pass
            if len(argv) > 4:
                try:
                    if int(argv[4]) > 10000:
                        argv[4] = '10000'
                except ValueError:
                    pass
        if name == 'debug' and sub == 'protocol' and len(argv) > 2 and tob(argv[2]).lower() == b'push':
            return ['PING']
        if name in ('config',) and sub not in ('get', 'set', 'help', 'resetstat'):
            return ['PING']
        if name == 'config' and sub == 'set':
            for i in range(2, len(argv), 2):
                if tob(argv[i]).decode('latin-1').lower() not in SAFE_CONFIGS:
                    return ['PING']
        if name == 'client' and sub in ('reply',):
            return ['PING']
        if name == 'client' and sub == 'pause':
            return ['CLIENT', 'PAUSE', self.rng.choice(['1', '10', '50']), 'WRITE']
        if name in ('wait',) and len(argv) == 3:
            argv[2] = self.rng.choice(['1', '10', '0']) if argv[1] in ('0', '-1') else '10'
        if name == 'waitaof' and len(argv) == 4:
            argv[3] = '10'
        if name == 'lolwut':
            return ['LOLWUT'] + (['VERSION', self.rng.choice(['5', '6', '1', 'x'])] if self.rng.random() < 0.5 else [])
        if name in BLOCKING_TIMEOUT_LAST and len(argv) > 2:
            argv[-1] = self.timeout()
        if name in BLOCKING_TIMEOUT_FIRST and len(argv) > 2:
            argv[1] = self.timeout()
        if name in ('xread', 'xreadgroup'):
            return ['PING']
        if name in ('srandmember', 'hrandfield', 'zrandmember') and len(argv) > 2:
            try:
                v = int(argv[2])
                if v != -(1 << 63) and (v < -100000 or v > 100000000):
                    argv[2] = str(-self.rng.randint(1, 1000))
            except ValueError:
                pass
        if name in ('setrange', 'setbit', 'getbit', 'bitfield', 'bitfield_ro', 'append', 'setex',
                    'getrange', 'substr', 'lset', 'linsert', 'bitpos', 'bitcount', 'hincrbyfloat',
                    'incrbyfloat'):
            # Offsets that legitimately allocate 512 MB are allowed only now and then.
            for i in range(2, len(argv)):
                try:
                    v = int(tob(argv[i]))
                except ValueError:
                    continue
                if 8 * 1024 * 1024 < v < (1 << 33) and self.rng.random() < 0.995:
                    argv[i] = str(self.rng.randint(0, 100000))
        if name in ('script',) and sub in ('kill',):
            return ['PING']
        if name in ('flushall', 'flushdb', 'swapdb', 'save', 'bgsave', 'bgrewriteaof',
                    'function', 'script') and nested:
            return ['PING']
        if name == 'hello' and len(argv) > 2:
            # HELLO ... AUTH could only fail (no password is set); keep it short.
            argv = argv[:4]
        if name == 'reset' and nested:
            return ['PING']
        return argv

    def timeout(self):
        r = self.rng.random()
        if r < 0.8:
            return self.rng.choice(['0.01', '0.001', '0.02', '0.05'])
        if r < 0.97:
            # (-0.0001, -0 and 0x10 block forever, as in Valkey)
            return self.rng.choice(['-1', 'nan', 'inf', '1e400', 'x', '', '-0.01', '0.0001',
                                    '9223372036854775807', '99999999999999999999', '1e-400'])
        return self.rng.choice(['0.1', '0.2'])


# --------------------------------------------------------------------------- table


def flat_to_dict(x):
    if isinstance(x, list) and len(x) % 2 == 0:
        d = {}
        for i in range(0, len(x), 2):
            k = x[i].decode('latin-1') if isinstance(x[i], bytes) else str(x[i])
            v = x[i + 1]
            if isinstance(v, list) and k in ('begin_search', 'find_keys', 'spec'):
                v = flat_to_dict(v)
            elif isinstance(v, bytes):
                v = v.decode('latin-1')
            d[k] = v
        return d
    return {}


def parse_entry(e):
    name = e[0].decode('latin-1').lower()
    info = {'arity': e[1], 'flags': [f.decode('latin-1') if isinstance(f, bytes) else f for f in e[2]],
            'first': e[3], 'last': e[4], 'step': e[5], 'specs': [], 'subs': {}}
    if len(e) > 8 and isinstance(e[8], list):
        info['specs'] = [flat_to_dict(s) for s in e[8]]
    if len(e) > 9 and isinstance(e[9], list):
        for s in e[9]:
            sn, si = parse_entry(s)
            info['subs'][sn] = si
    return name, info


def load_table(conn):
    reply = conn.call('COMMAND', timeout=30)
    if isinstance(reply, Err) or not isinstance(reply, list):
        raise RuntimeError('COMMAND failed: %r' % (reply,))
    table = {}
    for e in reply:
        name, info = parse_entry(e)
        table[name] = info
    return table


# --------------------------------------------------------------------------- replay log


def enc_arg(a):
    return tob(a).decode('latin-1')


class Journal(object):
    """The last events, written as a JSON replay log on failure."""

    def __init__(self, size):
        self.events = collections.deque(maxlen=size)

    def cmd(self, conn, argv):
        self.events.append({'c': conn, 'a': [enc_arg(a) for a in argv]})

    def raw(self, conn, data):
        self.events.append({'c': conn, 'r': tob(data).decode('latin-1')})

    def close(self, conn):
        self.events.append({'c': conn, 'x': 1})

    def write(self, path, meta):
        with open(path, 'w', encoding='utf-8') as f:
            json.dump({'meta': meta, 'events': list(self.events)}, f)


# --------------------------------------------------------------------------- raw garbage


def garbage(rng):
    """Bytes that are not a well-formed request (or are, but awkward)."""
    kind = rng.randrange(22)
    big = rng.choice([2 ** 31, 2 ** 31 - 1, 2 ** 32 + 1, 2 ** 63 - 1, 536870913, 1048577, 10 ** 30])
    if kind == 0:
        return b'*%d\r\n' % big
    if kind == 1:
        return b'*1\r\n$%d\r\n' % big
    if kind == 2:
        return b'*-5\r\n$3\r\nGET\r\n'
    if kind == 3:
        return b'*abc\r\n'
    if kind == 4:
        return b'*1\r\n$-1\r\n'
    if kind == 5:
        return b'*2\r\n$3\r\nGET\r\n:1\r\n'
    if kind == 6:
        return b'*3\r\n$3\r\nSET\r\n$1\r\nk' + bytes([rng.randrange(256)]) * rng.randint(0, 3)
    if kind == 7:
        return rng.choice([b'set "a\\x41" \'b\'\r\n', b'set "abc\r\n', b"get 'a\r\n",
                           b'"\\x4g"\r\n', b'ping "a"b\r\n', b'\r\n\r\n\r\nping\r\n',
                           b'echo "\\xzz\\u" \r\n', b'  \r\n', b'\n', b'ping\n',
                           b'set k "\\\\\\"" \r\n'])
    if kind == 8:
        return b'x' * rng.choice([1024, 65536, 70000, 200000])
    if kind == 9:
        return b'*0\r\n*1\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n'
    if kind == 10:
        return b'*1048577\r\n'
    if kind == 11:
        return b'*2\r\n$4\r\nECHO\r\n$%d\r\n' % rng.choice([100000000, 1 << 20, 536870912, 536870913]) + b'y' * rng.randint(0, 5000)
    if kind == 12:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
    if kind == 13:
        return b'*1\r\n$4\r\nPING\r'
    if kind == 14:
        return b'$4\r\nPING\r\n'
    if kind == 15:
        return b'*2\r\n$4\r\nPING\r\n$-2\r\n'
    if kind == 16:
        return b'*\r\n'
    if kind == 17:
        return b'*1\r\n$\r\n'
    if kind == 18:
        return b'*1\r\n$ 4\r\nPING\r\n'
    if kind == 19:
        return b'*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nvvvvv\r\n'
    if kind == 20:
        return b'HELLO 3\r\n' + encode_command(['DEBUG', 'PROTOCOL', rng.choice(['attrib', 'map', 'push'])])
    return b'*1\r\n$4\r\nPING\r\n' * rng.randint(1, 2000)


# --------------------------------------------------------------------------- the campaign


class Failure(Exception):
    pass


class Fuzzer(object):
    def __init__(self, args, rng):
        self.args = args
        self.rng = rng
        self.host, self.port = args.host, args.port
        self.journal = Journal(args.lastn)
        self.sent = 0
        self.rounds = 0
        self.reconnects = 0
        self.recoveries = 0
        self.checkpoints = 0
        self.saved_dumps = []   # DUMP payloads of keys a checkpoint found changed
        self.main = None
        self.main_id = None
        self.side = {}          # name -> Conn (pubsub, monitor, blockers, raw)
        self.token = 0
        self.maxmemory_rounds = 0
        self.config_rounds = 0
        self.config_orig = None
        self.config_restore = None
        self.errors = collections.Counter()
        self.outcomes = collections.defaultdict(lambda: [0, 0])   # name -> [ok, error]

    def connect_main(self):
        if self.main:
            self.main.close()
        self.main = Conn(self.host, self.port, 10)
        self.main.call('SELECT', str(self.args.db))
        cid = self.main.call('CLIENT', 'ID')
        self.main_id = str(cid)
        self.journal.cmd('main', ['SELECT', str(self.args.db)])

    def check_alive(self, why):
        if not server_alive(self.host, self.port, 10):
            raise Failure('server is gone or stopped answering (%s)%s' % (why, stack_of(self.args.server_pid)))

    def side_conn(self, name):
        c = self.side.get(name)
        if c is None or c.closed:
            try:
                c = Conn(self.host, self.port, 5)
            except OSError:
                self.check_alive('cannot open a side connection')
                raise
            self.side[name] = c
            try:
                cid = c.call('CLIENT', 'ID', timeout=10)
                if isinstance(cid, int):
                    self.gen.client_ids.append(str(cid))
                    self.gen.client_ids = self.gen.client_ids[-12:]
            except (Dead, Timeout):
                pass
        return c

    def side_send(self, name, data, journal_argv=None):
        try:
            c = self.side_conn(name)
        except OSError:
            return
        if journal_argv is not None:
            self.journal.cmd(name, journal_argv)
        else:
            self.journal.raw(name, data)
        try:
            c.send(data)
            c.drain()
        except Dead:
            c.close()

    def side_close(self, name):
        c = self.side.pop(name, None)
        if c:
            c.close()
            self.journal.close(name)

    def drain_sides(self):
        for name, c in list(self.side.items()):
            try:
                c.drain()
            except Dead:
                c.close()
                del self.side[name]

    def side_step(self):
        g = self.gen
        r = self.rng.random()
        if r < 0.3:
            which = 'pubsub%d' % self.rng.randrange(2)
            cmd = self.rng.choice(['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE',
                                   'PUNSUBSCRIBE', 'SUNSUBSCRIBE', 'PING', 'HELLO', 'RESET', 'GET',
                                   'SUBSCRIBE'])
            argv = [cmd]
            if cmd == 'HELLO':
                argv.append(self.rng.choice(['2', '3']))
            elif cmd != 'RESET':
                argv += [self.rng.choice(['ch1', 'ch2', 'ch*', '__key*__:*', '*', '[', 'k1', '\x00'])
                         for _ in range(self.rng.randint(0 if 'UNSUB' in cmd or cmd == 'PING' else 1, 3))]
            self.side_send(which, encode_command(argv), argv)
        elif r < 0.6:
            which = 'blocker%d' % self.rng.randrange(3)
            k1, k2 = g.key(), g.key()
            t = g.timeout() if self.rng.random() < 0.7 else self.rng.choice(['0', '0.5', '1'])
            argv = self.rng.choice([
                ['BLPOP', k1, k2, t], ['BRPOP', k1, t], ['BLMOVE', k1, k2, 'LEFT', 'RIGHT', t],
                ['BRPOPLPUSH', k1, k2, t], ['BZPOPMIN', k1, k2, t], ['BZPOPMAX', k1, t],
                ['BLMPOP', t, '2', k1, k2, 'LEFT', 'COUNT', '3'], ['BZMPOP', t, '1', k1, 'MAX'],
                ['WAIT', '1', '50'],
            ])
            if self.rng.random() < 0.2:
                # blocked inside MULTI does not block; a blocked client may also get killed
                argv2 = ['MULTI']
                self.side_send(which, encode_command(argv2), argv2)
                self.side_send(which, encode_command(argv), argv)
                argv = ['EXEC']
            self.side_send(which, encode_command(argv), argv)
        elif r < 0.7:
            which = 'blocker%d' % self.rng.randrange(3)
            self.side_close(which)
        elif r < 0.78:
            if 'monitor' not in self.side:
                self.side_send('monitor', encode_command(['MONITOR']), ['MONITOR'])
            else:
                self.side_close('monitor')
        else:
            which = 'raw%d' % self.rng.randrange(3)
            data = garbage(self.rng)
            if self.rng.random() < 0.3:
                # the same bytes one piece at a time
                c = None
                try:
                    c = self.side_conn(which)
                except OSError:
                    return
                self.journal.raw(which, data)
                cut = sorted(self.rng.sample(range(len(data) + 1), min(len(data) + 1, 4)))
                prev = 0
                try:
                    for x in cut + [len(data)]:
                        if x > prev:
                            c.send(data[prev:x])
                            prev = x
                        time.sleep(0.001)
                    c.drain()
                except Dead:
                    c.close()
            else:
                self.side_send(which, data)
            if self.rng.random() < 0.5:
                self.side_close(which)

    def recover_hang(self):
        """The main connection is waiting: unblock/kill what may legitimately be blocking it."""
        try:
            c = Conn(self.host, self.port, 10)
        except OSError:
            raise Failure('server is gone (hang recovery cannot connect)')
        try:
            for argv in (['CLIENT', 'UNBLOCK', self.main_id, 'ERROR'], ['SCRIPT', 'KILL'],
                         ['FUNCTION', 'KILL'], ['CLIENT', 'UNPAUSE']):
                c.call(*argv, timeout=20)
        except (Dead, Timeout, ProtocolError):
            raise Failure('server stopped answering (hang recovery)')
        finally:
            c.close()

    def round(self, cmds):
        self.token += 1
        tok = 'tok-%d' % self.token
        full = cmds + [['DISCARD'], ['ECHO', tok]]
        for argv in cmds:
            self.journal.cmd('main', argv)
        payload = b''.join(encode_command(a) for a in full)
        try:
            self.main.send(payload)
        except Dead:
            return self.lost_main('send')
        got = []
        deadline = time.time() + self.args.reply_timeout
        recovered = False
        while len(got) < len(full):
            try:
                v = self.main.read(deadline)
            except Timeout:
                if recovered:
                    raise Failure('no reply %d/%d within %ss after recovery: %r' % (
                        len(got), len(full), self.args.reply_timeout,
                        [enc_arg(a)[:60] for a in (full[len(got)] if len(got) < len(full) else [])]))
                self.check_alive('main connection timed out waiting for the reply to %r' % (
                    [enc_arg(a)[:80] for a in full[len(got)]],))
                self.recoveries += 1
                if self.args.verbose:
                    sys.stderr.write('[fuzz] no reply to %r: unblocking\n' % (
                        [enc_arg(a)[:60] for a in full[len(got)]],))
                self.recover_hang()
                recovered = True
                deadline = time.time() + self.args.reply_timeout
                continue
            except Dead:
                return self.lost_main('read')
            except ProtocolError as e:
                raise Failure('protocol error in a reply to %r: %s' % (
                    [enc_arg(a)[:60] for a in full[min(len(got), len(full) - 1)]], e))
            got.append(v)
        self.sent += len(cmds)
        last = got[-1]
        if last != tok.encode():
            raise Failure('reply stream out of step: expected %r as the last reply, got %r' % (
                tok, repr(last)[:200]))
        for argv, v in zip(cmds, got):
            name = enc_arg(argv[0]).lower()
            self.outcomes[name][isinstance(v, Err)] += 1
            if isinstance(v, Err):
                self.errors[v.msg.split(' ')[0][:20]] += 1
            if name == 'function' and len(argv) > 1 and enc_arg(argv[1]).lower() == 'dump' and isinstance(v, bytes) and len(v) > 10:
                self.gen.function_dumps = (self.gen.function_dumps + [v])[-20:]
            if name == 'dump' and isinstance(v, bytes) and len(self.gen.dumps) < 200 and len(v) < 200000:
                self.gen.dumps.append(v)
            elif name == 'dump' and isinstance(v, bytes):
                self.gen.dumps[self.rng.randrange(len(self.gen.dumps))] = v
        return got

    def checkpoint(self):
        """Data-integrity checks on whatever the fuzz built: every key made persistent, then
        DUMP/RESTORE of each key must keep its DEBUG DIGEST-VALUE, and DEBUG RELOAD (and
        DEBUG LOADAOF when appendonly is on) must keep the DEBUG DIGEST."""
        self.round([['DEBUG', 'SET-ACTIVE-EXPIRE', '0'], ['CLIENT', 'UNPAUSE'], ['MULTI'], ['EXEC']])
        if self.maxmemory_rounds:
            self.maxmemory_rounds = 1
            self.maxmemory_episode()
        if self.config_rounds:
            self.config_rounds = 1
            self.config_episode()
        for db in range(16):
            got = self.round([['SELECT', str(db)], ['KEYS', '*']])
            if not got or not isinstance(got[1], list):
                continue
            keys = [k for k in got[1] if isinstance(k, bytes)]
            if keys:
                self.round([['PERSIST', k] for k in keys])
            for k in self.rng.sample(keys, min(len(keys), 10)):
                got = self.round([['DUMP', k], ['DEBUG', 'DIGEST-VALUE', k]])
                if not got or not isinstance(got[0], bytes):
                    continue
                tmp = b'__fuzz_copy__'
                got2 = self.round([['RESTORE', tmp, '0', got[0], 'REPLACE'], ['DEBUG', 'DIGEST-VALUE', tmp],
                                   ['DEL', tmp]])
                if got2 and not isinstance(got2[0], Err) and got2[1] != got[1]:
                    self.saved_dumps.append({'db': db, 'key': enc_arg(k), 'before': enc_arg(got[0])})
                    raise Failure('DUMP/RESTORE changed the value of %r in db %d: digest %r -> %r' % (
                        k[:60], db, got[1], got2[1]))
        # Keys already expired but not yet removed are in the digest, not in KEYS, and
        # are dropped by a reload: let active expiry remove them first.
        self.round([['DEBUG', 'SET-ACTIVE-EXPIRE', '1']])
        deadline = time.time() + 20
        while True:
            got = self.round([['INFO', 'keyspace']])
            if not got or not re.search(rb'expires=[1-9]', got[0] if isinstance(got[0], bytes) else b''):
                break
            if time.time() > deadline:
                raise Failure('volatile keys remain 20 s after every visible key was made persistent '
                              '(expired keys not reclaimed, or an expire without its key): %r' % got[0])
            time.sleep(0.05)
        self.round([['DEBUG', 'SET-ACTIVE-EXPIRE', '0'], ['SELECT', str(self.args.db)]])
        # A BGSAVE child still running renames its older snapshot over the file DEBUG RELOAD
        # just wrote (as in Valkey): wait for it first.
        deadline = time.time() + 60
        while time.time() < deadline:
            got = self.round([['INFO', 'persistence']])
            text = got[0] if got and isinstance(got[0], bytes) else b''
            if not re.search(rb'(rdb_bgsave_in_progress|aof_rewrite_in_progress):1', text):
                break
            time.sleep(0.05)
        before = self.round([['DEBUG', 'DIGEST']])
        values = self.key_digests()
        info = self.round([['CONFIG', 'GET', 'appendonly']])
        reloaded = self.round([['DEBUG', 'RELOAD'], ['DEBUG', 'DIGEST']])
        if before and reloaded and not isinstance(reloaded[0], Err) and reloaded[1] != before[0]:
            raise Failure('DEBUG RELOAD changed the dataset: digest %r -> %r; %s' % (
                before[0], reloaded[1], self.digest_diff(values)))
        if info and isinstance(info[0], list) and info[0][1:] == [b'yes']:
            loaded = self.round([['DEBUG', 'LOADAOF'], ['DEBUG', 'DIGEST']])
            if before and loaded and not isinstance(loaded[0], Err) and loaded[1] != before[0]:
                raise Failure('DEBUG LOADAOF changed the dataset: digest %r -> %r; %s' % (
                    before[0], loaded[1], self.digest_diff(values)))
        self.checkpoints += 1
        self.round([['DEBUG', 'SET-ACTIVE-EXPIRE', '1']])

    def key_digests(self):
        """{(db, key): (digest, type, encoding, dump)} of every key."""
        out = {}
        for db in range(16):
            got = self.round([['SELECT', str(db)], ['KEYS', '*'], ['DBSIZE']])
            if not got or not isinstance(got[1], list):
                continue
            if got[2] != len(got[1]):
                out[(db, b'<DBSIZE %r but KEYS lists %d>' % (got[2], len(got[1])))] = (b'', b'', b'', b'', 0)
            for k in got[1]:
                r = self.round([['DEBUG', 'DIGEST-VALUE', k], ['TYPE', k], ['OBJECT', 'ENCODING', k], ['DUMP', k],
                                ['PEXPIRETIME', k]])
                if r:
                    out[(db, k)] = tuple(r)
        self.round([['SELECT', str(self.args.db)]])
        return out

    def digest_diff(self, before):
        after = self.key_digests()
        notes = []
        for key in sorted(set(before) | set(after)):
            b, a = before.get(key), after.get(key)
            if b is None or a is None:
                notes.append('db %d key %r %s (%r)' % (key[0], key[1][:60], 'appeared' if b is None else 'vanished',
                                                       [x[:200] if isinstance(x, bytes) else x for x in (a or b)]))
            elif a[0] != b[0] or a[4] != b[4]:
                self.saved_dumps.append({'db': key[0], 'key': enc_arg(key[1]),
                                         'before': enc_arg(b[3]) if isinstance(b[3], bytes) else None,
                                         'after': enc_arg(a[3]) if isinstance(a[3], bytes) else None})
                notes.append('db %d key %r (%r %r expire %r -> %r %r expire %r) changed; DUMP before: %r' % (
                    key[0], key[1][:60], b[1], b[2], b[4], a[1], a[2], a[4],
                    b[3][:300] if isinstance(b[3], bytes) else b[3]))
        return '; '.join(notes[:5]) or 'no key differs'

    def lost_main(self, where):
        self.check_alive('main connection closed while %s' % where)
        self.reconnects += 1
        self.connect_main()
        return None

    def config_episode(self):
        """A random directive set to a random value for a while, then restored."""
        if self.config_rounds > 0:
            self.config_rounds -= 1
            if self.config_rounds == 0:
                name, value = self.config_restore
                self.round([['CONFIG', 'SET', name, value]])
            return
        if self.rng.random() < 0.004:
            if self.config_orig is None:
                pairs = self.main.call('CONFIG', 'GET', '*', timeout=20)
                self.config_orig = {}
                if isinstance(pairs, list):
                    for i in range(0, len(pairs) - 1, 2):
                        self.config_orig[pairs[i].decode('latin-1')] = pairs[i + 1]
            names = sorted(n for n in self.config_orig if n not in CONFIG_SKIP and n not in SAFE_CONFIGS
                           and n not in ('maxmemory-policy', 'client-query-buffer-limit', 'proto-max-bulk-len'))
            if not names:
                return
            name = self.rng.choice(names)
            self.config_restore = (name, self.config_orig[name])
            self.config_rounds = self.rng.randint(5, 80)
            self.round([['CONFIG', 'SET', name, config_values(self.rng, self.config_orig[name])]])

    def maxmemory_episode(self):
        if self.maxmemory_rounds > 0:
            self.maxmemory_rounds -= 1
            if self.maxmemory_rounds == 0:
                self.round([['CONFIG', 'SET', 'maxmemory', '0'],
                            ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']])
            return
        if self.rng.random() < 0.004:
            info = self.main.call('INFO', 'memory', timeout=20)
            m = re.search(rb'used_memory:(\d+)', info if isinstance(info, bytes) else b'')
            used = int(m.group(1)) if m else 10 << 20
            limit = max(1 << 20, used + self.rng.randint(-(used // 4), 1 << 20))
            self.maxmemory_rounds = self.rng.randint(5, 60)
            self.round([['CONFIG', 'SET', 'maxmemory-policy', self.rng.choice(MAXMEMORY_POLICIES)],
                        ['CONFIG', 'SET', 'maxmemory', str(limit)]])

    def used_memory(self):
        info = self.main.call('INFO', 'everything', timeout=20)
        self.last_info = info if isinstance(info, bytes) else b''
        m = re.search(rb'used_memory:(\d+)', self.last_info)
        return int(m.group(1)) if m else 0

    def info_delta(self, before, after):
        def fields(text):
            out = {}
            for line in text.split(b'\r\n'):
                k, _, v = line.partition(b':')
                if v.isdigit():
                    out[k.decode()] = int(v)
            return out
        a, b = fields(before), fields(after)
        return ', '.join('%s %+d' % (k, b[k] - a.get(k, 0)) for k in sorted(b)
                         if abs(b[k] - a.get(k, 0)) > 10000 and ('mem' in k or 'overhead' in k))

    def quiesce(self):
        """Drops everything the fuzz could have left allocated; returns used_memory after."""
        for argv in (['FLUSHALL', 'SYNC'], ['SCRIPT', 'FLUSH', 'SYNC'], ['FUNCTION', 'FLUSH', 'SYNC'],
                     ['SLOWLOG', 'RESET'], ['LATENCY', 'RESET'], ['CONFIG', 'RESETSTAT'],
                     ['CLIENT', 'TRACKING', 'off'], ['PUBSUB', 'NUMPAT']):
            self.main.call(*argv, timeout=60)
        deadline = time.time() + 20
        while time.time() < deadline:
            info = self.main.call('INFO', 'memory', timeout=20)
            m = re.search(rb'lazyfree_pending_objects:(\d+)', info if isinstance(info, bytes) else b'')
            if not m or m.group(1) == b'0':
                break
            time.sleep(0.05)
        return self.used_memory()

    def run(self):
        self.connect_main()
        # The baseline is taken after a warm-up (a third of the run): lazily allocated,
        # bounded structures (per-command histograms, the Lua VM...) exist by then.
        self.baseline_memory = None
        self.gen = Generator(self.rng, load_table(self.main), self.args.reference,
                             allow_slow=not self.args.no_slow)
        self.gen.exclude = set(x.lower() for x in self.args.exclude.split(',') if x)
        self.gen.raw_restore_types = set(int(x) for x in self.args.no_crc_types.split(',') if x)
        self.gen.restore_heavy = self.args.restore_heavy
        start = time.time()
        last_report = start
        while True:
            now = time.time()
            if self.args.time and now - start >= self.args.time:
                break
            if self.args.count and self.sent >= self.args.count:
                break
            if self.args.memory_check and self.baseline_memory is None and \
                    (now - start > self.args.time / 3 if self.args.time else self.sent > self.args.count / 3):
                for name in list(self.side):
                    self.side_close(name)
                time.sleep(0.3)
                self.baseline_memory = self.quiesce()
                self.baseline_info = self.last_info
            if self.args.verbose and now - last_report > 10:
                last_report = now
                sys.stderr.write('[fuzz] %d commands, %d rounds, %.0fs\n' % (self.sent, self.rounds, now - start))
            self.rounds += 1
            r = self.rng.random()
            if r < 0.08:
                self.side_step()
                continue
            self.maxmemory_episode()
            self.config_episode()
            if r < 0.7:
                cmds = [self.gen.command()]
            elif r < 0.9:
                cmds = [self.gen.command() for _ in range(self.rng.randint(2, 25))]
            else:
                cmds = [['MULTI']] + [self.gen.command() for _ in range(self.rng.randint(1, 8))]
                cmds.append(['EXEC'] if self.rng.random() < 0.9 else ['DISCARD'])
                if self.rng.random() < 0.3:
                    cmds.insert(0, ['WATCH', self.gen.key(), self.gen.key()])
            self.round(cmds)
            if self.rounds % 97 == 0:
                self.drain_sides()
            if self.rounds % 500 == 0:
                self.round([['DEBUG', 'DIGEST'], ['SELECT', str(self.args.db)]])
                if self.args.checkpoints and (self.rounds // 500) % self.args.checkpoints == 0:
                    self.checkpoint()
                if self.rng.random() < 0.3:
                    self.round([['FLUSHALL', self.rng.choice(['SYNC', 'ASYNC'])]])
        # Leave the server in a sane state for whoever checks it next.
        for name in list(self.side):
            self.side_close(name)
        if self.config_rounds > 0:
            self.round([['CONFIG', 'SET', self.config_restore[0], self.config_restore[1]]])
        self.round([['CONFIG', 'SET', 'maxmemory', '0'], ['CLIENT', 'UNPAUSE'],
                    ['DEBUG', 'SET-ACTIVE-EXPIRE', '1'], ['DEBUG', 'DIGEST']])
        if self.args.memory_check and self.baseline_memory is not None:
            self.round([['HELLO', '2'], ['SELECT', str(self.args.db)]])
            time.sleep(0.3)  # closed side connections are freed by the server
            after = self.quiesce()
            drift = after - self.baseline_memory
            sys.stderr.write('[fuzz] used_memory after FLUSHALL: %d at start, %d at the end (%+d): %s\n'
                             % (self.baseline_memory, after, drift, self.info_delta(self.baseline_info, self.last_info)))
            if drift > self.args.memory_check:
                raise Failure('used_memory grew by %d bytes over the run with an empty dataset '
                              '(allocations not returned)' % drift)
        return self.sent


# --------------------------------------------------------------------------- config mode

CONFIG_SKIP = {'dir', 'port', 'bind', 'unixsocket', 'requirepass', 'masterauth', 'masteruser',
               'replicaof', 'slaveof', 'daemonize', 'logfile', 'pidfile', 'dbfilename',
               'appenddirname', 'appendfilename', 'tls-port', 'maxclients', 'protected-mode',
               'enable-debug-command', 'aclfile', 'cluster-config-file', 'include',
               'bind-source-addr', 'syslog-enabled', 'supervised', 'io-threads',
               'unixsocketperm', 'rename-command', 'always-show-logo', 'set-proc-title',
               'oom-score-adj', 'oom-score-adj-values', 'server_cpulist', 'bio_cpulist',
               'aof_rewrite_cpulist', 'bgsave_cpulist', 'enable-protected-configs',
               'enable-module-command', 'cluster-enabled', 'timeout', 'client-output-buffer-limit',
               'maxmemory', 'maxmemory-clients', 'latency-tracking-info-percentiles'}


def config_values(rng, current):
    cur = current.decode('latin-1') if isinstance(current, bytes) else str(current)
    pool = ['', 'yes', 'no', 'maybe', '0', '1', '-1', '2', '100', '-100', '1kb', '1mb', '1gb', '1GB',
            '-1mb', '1.5', '1.5mb', '1k', '1b', '99999999999999999999', '9223372036854775807',
            '-9223372036854775808', '4294967296', '2147483648', 'x', '\x00', '"', "'", 'a b',
            '10%', '100%', '-1%', '0%', '9999999999999999%', 'inf', 'nan', '1e5', ' 1', '1 ',
            'allkeys-lru', 'everysec', 'always', 'notice', 'debug', 'nothing', 'local', 'KEA',
            '3600 1 300 100', '900', '900 1 2', 'a b c d e f', '0 0', 'normal 0 0 0', 'x' * 1000]
    r = rng.random()
    if r < 0.5:
        return rng.choice(pool)
    if r < 0.7 and re.match(r'^-?\d+$', cur):
        return str(int(cur) + rng.choice([-1, 1, -int(cur) - 1, 2 ** 31, 2 ** 63, 7]))
    if r < 0.8:
        return ' '.join(rng.choice(pool[:30]) for _ in range(rng.randint(1, 6)))
    if r < 0.9:
        return cur + rng.choice(['', ' ', 'x', '0', 'k', 'kb', '%'])
    return ''.join(chr(rng.randrange(256)) for _ in range(rng.randint(0, 30)))


def run_config(args, rng):
    c = Conn(args.host, args.port, 10)
    journal = Journal(args.lastn)
    pairs = c.call('CONFIG', 'GET', '*', timeout=20)
    orig = {}
    for i in range(0, len(pairs), 2):
        orig[pairs[i].decode('latin-1')] = pairs[i + 1]
    names = sorted(n for n in orig if n not in CONFIG_SKIP)
    start = time.time()
    sent = 0
    unrestorable = set()
    try:
        while (not args.time or time.time() - start < args.time) and (not args.count or sent < args.count):
            batch = rng.sample(names, rng.choice([1, 1, 1, 2, 3]))
            if rng.random() < 0.05:
                batch.append(batch[0])
            argv = ['CONFIG', 'SET']
            for n in batch:
                argv += [n if rng.random() < 0.9 else n.upper(), config_values(rng, orig[n])]
            journal.cmd('main', argv)
            try:
                c.call(*argv, timeout=20)
                sent += 1
                for _ in range(rng.randint(0, 3)):
                    probe = rng.choice([['SET', 'k', 'v'], ['RPUSH', 'l', 'a', 'b'], ['HSET', 'h', 'f', 'v'],
                                        ['ZADD', 'z', '1', 'm'], ['SADD', 's', '1', 'x'], ['INFO'],
                                        ['CONFIG', 'GET', '*'], ['GET', 'k'], ['LRANGE', 'l', '0', '-1'],
                                        ['DEBUG', 'DIGEST']])
                    journal.cmd('main', probe)
                    c.call(*probe, timeout=20)
                    sent += 1
                for n in batch:
                    back = ['CONFIG', 'SET', n, orig[n]]
                    journal.cmd('main', back)
                    rep = c.call(*back, timeout=20)
                    sent += 1
                    if isinstance(rep, Err) and n not in unrestorable and 'immutable' not in rep.msg:
                        unrestorable.add(n)
                        sys.stderr.write('[config] CONFIG GET value of %s is refused by CONFIG SET: %r -> %s\n'
                                         % (n, orig[n], rep.msg))
                if rng.random() < 0.02:
                    journal.cmd('main', ['CONFIG', 'REWRITE'])
                    c.call('CONFIG', 'REWRITE', timeout=20)
            except (Dead, Timeout, ProtocolError) as e:
                if not server_alive(args.host, args.port, 10):
                    raise Failure('server died after CONFIG SET (%s)' % type(e).__name__)
                c.close()
                c = Conn(args.host, args.port, 10)
    except Failure as f:
        fail(args, journal, str(f), sent)
    c.close()
    return sent


# --------------------------------------------------------------------------- startup mode


def free_port(lo, hi, rng):
    for _ in range(200):
        p = rng.randint(lo, hi)
        s = socket.socket()
        try:
            s.bind(('127.0.0.1', p))
            s.close()
            return p
        except OSError:
            s.close()
    raise RuntimeError('no free port')


SANITIZER_MARKS = (b'ERROR: AddressSanitizer', b'ERROR: LeakSanitizer', b'runtime error:',
                   b'BUG REPORT START', b'ERROR: UndefinedBehaviorSanitizer')


def startup_config(rng, names):
    lines = []
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        n = rng.choice(names)
        if r < 0.6:
            lines.append('%s %s' % (n, config_values(rng, b'1')))
        elif r < 0.7:
            lines.append('%s "%s' % (n, rng.choice(['a', '\\x4', '\\', 'a"b'])))
        elif r < 0.75:
            lines.append('%s "\\x41\\n" \'b\\\'c\' ""' % n)
        elif r < 0.8:
            lines.append('include %s' % rng.choice(['nope.conf', '', '"', 'a b']))
        elif r < 0.85:
            lines.append(rng.choice(['save ""', 'save', 'save 1', 'save 1 2 3', 'rename-command get',
                                     'rename-command get ""', 'rename-command nope x',
                                     'user default on', 'loadmodule', 'loadmodule x.so',
                                     'bogus-directive 1', '   ', '#comment', '"', "'", '\\']))
        elif r < 0.9:
            lines.append(''.join(chr(rng.randrange(1, 256)) for _ in range(rng.randint(1, 80))))
        elif r < 0.95:
            lines.append(n + ' ' + 'x' * rng.choice([1024, 65536, 300000]))
        else:
            lines.append('%s %s %s' % (n, config_values(rng, b'1'), config_values(rng, b'1')))
    return '\n'.join(lines).replace('/', '_') + rng.choice(['', '\n', '\r\n', '\x00'])


def run_startup(args, rng):
    names = []
    if args.port:
        try:
            c = Conn(args.host, args.port, 5)
            pairs = c.call('CONFIG', 'GET', '*')
            names = [pairs[i].decode('latin-1') for i in range(0, len(pairs), 2)]
            c.close()
        except OSError:
            pass
    if not names:
        names = ['hz', 'maxmemory', 'save', 'appendonly', 'list-max-listpack-size', 'databases',
                 'loglevel', 'maxmemory-policy', 'notify-keyspace-events', 'client-output-buffer-limit',
                 'io-threads', 'proto-max-bulk-len', 'oom-score-adj-values', 'maxclients']
    names = [n for n in names if n not in ('dir', 'logfile', 'pidfile', 'daemonize', 'unixsocket',
                                           'aclfile', 'include', 'supervised', 'syslog-enabled')]
    start = time.time()
    runs = 0
    work = tempfile.mkdtemp(prefix='fuzz-startup-')
    try:
        while (not args.time or time.time() - start < args.time) and (not args.count or runs < args.count):
            runs += 1
            text = startup_config(rng, names)
            conf = os.path.join(work, 'fuzz.conf')
            with open(conf, 'w', encoding='latin-1') as f:
                f.write(text)
            port = free_port(args.port_lo, args.port_hi, rng)
            extra_args = []
            if rng.random() < 0.3:
                # random command-line directives too (they are read after the file)
                for _ in range(rng.randint(1, 3)):
                    extra_args.append(rng.choice(['--', '-', '']) + rng.choice(names))
                    extra_args += [config_values(rng, b'1').replace('/', '_')
                                   for _ in range(rng.choice([0, 1, 1, 2]))]
                extra_args = [a.replace('\x00', '') for a in extra_args]
            cmd = [args.server, conf] + extra_args + ['--port', str(port), '--dir', work, '--daemonize', 'no',
                                                      '--logfile', '', '--save', '', '--appendonly', 'no']
            p = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                out, err = p.communicate(timeout=args.startup_wait)
            except subprocess.TimeoutExpired:
                # it started: ask it to stop, as a client would
                if not server_alive('127.0.0.1', port, 5):
                    time.sleep(1)
                try:
                    cc = Conn('127.0.0.1', port, 5)
                    cc.send(encode_command(['SHUTDOWN', 'NOSAVE']))
                    cc.close()
                except OSError:
                    p.send_signal(signal.SIGTERM)
                try:
                    out, err = p.communicate(timeout=5)
                except subprocess.TimeoutExpired:
                    # e.g. requirepass made SHUTDOWN fail: SIGTERM must work
                    p.send_signal(signal.SIGTERM)
                try:
                    out, err = p.communicate(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    out, err = p.communicate()
                    with open(os.path.join(work, 'hang.conf'), 'w', encoding='latin-1') as f:
                        f.write(text)
                    raise Failure('server did not stop after SHUTDOWN and SIGTERM with config %r' % text[:300])
            blob = out + err
            bad = p.returncode not in (0, 1) or any(m in blob for m in SANITIZER_MARKS)
            if p.returncode == 1 and b'FATAL CONFIG FILE ERROR' not in blob and b'Fatal error' not in blob \
                    and args.verbose:
                sys.stderr.write('[startup] exit 1 without the config error banner: %r\n' % blob[-300:])
            if bad:
                keep = os.path.join(args.out_dir or '.', 'startup-crash-%d.conf' % args.seed)
                with open(keep, 'wb') as f:
                    f.write(text.encode('latin-1'))
                raise Failure('server exited with %s on a random config (kept as %s, arguments %r):\n%s' % (
                    p.returncode, keep, extra_args, blob[-3000:].decode('latin-1')))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return runs


# --------------------------------------------------------------------------- replay / minimize


def replay(events, host, port, reply_timeout=10.0):
    """Plays events; returns None when the server survived, else a description."""
    conns = {}
    try:
        for ev in events:
            name = ev['c']
            if ev.get('x'):
                c = conns.pop(name, None)
                if c:
                    c.close()
                continue
            c = conns.get(name)
            if c is None or c.closed:
                try:
                    c = conns[name] = Conn(host, port, 10)
                except OSError:
                    return 'cannot connect'
                if name == 'main':
                    pass
            try:
                if 'r' in ev:
                    c.send(ev['r'].encode('latin-1'))
                    time.sleep(0.002)
                    c.drain()
                else:
                    argv = [a.encode('latin-1') for a in ev['a']]
                    c.send(encode_command(argv))
                    if name == 'main':
                        try:
                            c.read(time.time() + reply_timeout)
                        except Timeout:
                            if not server_alive(host, port, 5):
                                return 'server hung or died'
                    else:
                        time.sleep(0.002)
                        c.drain()
            except (Dead, ProtocolError):
                c.close()
                if not server_alive(host, port, 5):
                    return 'server died'
        if not server_alive(host, port, 10):
            return 'server died at the end'
        return None
    finally:
        for c in conns.values():
            c.close()


class ManagedServer(object):
    def __init__(self, binary, port, extra=()):
        self.dir = tempfile.mkdtemp(prefix='fuzz-srv-')
        self.log = os.path.join(self.dir, 'stderr')
        self.port = port
        cmd = [binary, '--port', str(port), '--save', '', '--appendonly', 'no', '--dir', self.dir,
               '--enable-debug-command', 'yes', '--logfile', ''] + list(extra)
        self.errf = open(self.log, 'wb')
        self.p = subprocess.Popen(cmd, stdout=self.errf, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.time() + 30
        while time.time() < deadline:
            if server_alive('127.0.0.1', port, 2):
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError('server did not start: %s' % open(self.log, 'rb').read()[-2000:])

    def stop(self):
        """Stops the server; returns its output."""
        if self.p.poll() is None:
            try:
                c = Conn('127.0.0.1', self.port, 5)
                c.send(encode_command(['SHUTDOWN', 'NOSAVE']))
                c.close()
            except OSError:
                pass
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.errf.close()
        with open(self.log, 'rb') as f:
            out = f.read()
        shutil.rmtree(self.dir, ignore_errors=True)
        return out


def reproduces(events, binary, port, extra=()):
    srv = ManagedServer(binary, port, extra)
    res = replay(events, '127.0.0.1', port)
    out = srv.stop()
    if res:
        return res + '\n' + out[-1500:].decode('latin-1')
    for m in SANITIZER_MARKS:
        if m in out:
            return 'sanitizer: ' + out[out.find(m):][:1500].decode('latin-1')
    return None


def minimize(events, binary, port, extra=()):
    """Delta debugging over whole events."""
    first = reproduces(events, binary, port, extra)
    if not first:
        return events, None
    n = 2
    while len(events) >= 2:
        chunk = max(1, len(events) // n)
        reduced = False
        for i in range(0, len(events), chunk):
            cand = events[:i] + events[i + chunk:]
            if cand and reproduces(cand, binary, port, extra):
                events = cand
                n = max(n - 1, 2)
                reduced = True
                sys.stderr.write('[minimize] %d events\n' % len(events))
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(len(events), n * 2)
    return events, reproduces(events, binary, port, extra)


# --------------------------------------------------------------------------- main


def fail(args, journal, why, sent, dumps=None):
    path = args.log or 'fuzz-replay-%d.json' % args.seed
    journal.write(path, {'seed': args.seed, 'why': why, 'sent': sent, 'dumps': dumps or []})
    sys.stderr.write('FUZZ FAILURE (seed %d, after %d commands): %s\nreplay log: %s\n' % (
        args.seed, sent, why, os.path.abspath(path)))
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--mode', default='commands', choices=['commands', 'config', 'startup', 'replay', 'minimize'])
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--time', type=float, default=0, help='seconds to run (0: no limit)')
    ap.add_argument('--count', type=int, default=0, help='commands to send (0: no limit)')
    ap.add_argument('--db', type=int, default=9)
    ap.add_argument('--lastn', type=int, default=400, help='events kept for the replay log')
    ap.add_argument('--log', default=None, help='replay log written on failure')
    ap.add_argument('--reference', default=os.environ.get('VALKEY_REFERENCE_DIR', DEFAULT_REFERENCE))
    ap.add_argument('--reply-timeout', type=float, default=15)
    ap.add_argument('--exclude', default='', help='commands never sent (comma separated)')
    ap.add_argument('--no-crc-types', default='',
                    help='RDB type bytes whose mutated RESTORE payloads keep a stale checksum '
                         '(to step around a known loader bug), comma separated')
    ap.add_argument('--restore-heavy', action='store_true',
                    help='mostly RESTORE of mutated DUMP payloads (with valid checksums) and use of them')
    ap.add_argument('--memory-check', type=int, default=0, metavar='BYTES',
                    help='fail when used_memory after FLUSHALL & co. ends this much above its start')
    ap.add_argument('--checkpoints', type=int, default=0, metavar='N',
                    help='every N*500 rounds: DUMP/RESTORE and DEBUG RELOAD/LOADAOF digest checks')
    ap.add_argument('--no-slow', action='store_true', help='no DEBUG RELOAD')
    ap.add_argument('--server', default=None, help='server binary (startup/minimize, or start one)')
    ap.add_argument('--server-args', default='', help='extra server arguments (space separated)')
    ap.add_argument('--port-lo', type=int, default=42000)
    ap.add_argument('--port-hi', type=int, default=42999)
    ap.add_argument('--startup-wait', type=float, default=1.5)
    ap.add_argument('--out-dir', default=None)
    ap.add_argument('--replay-file', default=None)
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()
    args.server_pid = None
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    rng = random.Random(args.seed)
    extra = args.server_args.split() if args.server_args else []

    if args.mode == 'startup':
        try:
            runs = run_startup(args, rng)
        except Failure as f:
            sys.stderr.write('FUZZ FAILURE (seed %d): %s\n' % (args.seed, f))
            sys.exit(1)
        print('startup fuzz: %d configs, seed %d, ok' % (runs, args.seed))
        return
    if args.mode in ('replay', 'minimize'):
        with open(args.replay_file, encoding='utf-8') as f:
            events = json.load(f)['events']
        if args.mode == 'replay':
            if args.server:
                port = args.port or free_port(args.port_lo, args.port_hi, rng)
                res = reproduces(events, args.server, port, extra)
            else:
                res = replay(events, args.host, args.port)
            print('reproduced: %s' % res if res else 'did not reproduce')
            sys.exit(1 if res else 0)
        port = args.port or free_port(args.port_lo, args.port_hi, rng)
        events, res = minimize(events, args.server, port, extra)
        out = (args.log or args.replay_file) + '.min'
        with open(out, 'w', encoding='utf-8') as f:
            json.dump({'meta': {'why': res}, 'events': events}, f, indent=0)
        print('%d events left (%s): %s' % (len(events), out, res))
        for ev in events:
            print(json.dumps(ev)[:300])
        return

    srv = None
    if args.server:
        args.port = args.port or free_port(args.port_lo, args.port_hi, rng)
        srv = ManagedServer(args.server, args.port, extra)
        args.server_pid = srv.p.pid
    try:
        if args.mode == 'config':
            sent = run_config(args, rng)
        else:
            fz = Fuzzer(args, rng)
            try:
                sent = fz.run()
            except Failure as f:
                fail(args, fz.journal, str(f), fz.sent, fz.saved_dumps)
            except (Dead, Timeout, ProtocolError, OSError) as e:
                if not server_alive(args.host, args.port, 10):
                    fail(args, fz.journal, 'server is gone (%s)' % type(e).__name__, fz.sent)
                raise
            if args.verbose:
                sys.stderr.write('[fuzz] error replies: %s; reconnects %d, hang recoveries %d, checkpoints %d\n' % (
                    fz.errors.most_common(12), fz.reconnects, fz.recoveries, fz.checkpoints))
                worst = sorted((ok / float(ok + err), name, ok + err) for name, (ok, err) in fz.outcomes.items())
                sys.stderr.write('[fuzz] least successful commands: %s\n' % ', '.join(
                    '%s %.0f%%/%d' % (n, 100 * r, t) for r, n, t in worst[:60]
                    + [w for w in worst[60:] if w[1] in ('restore', 'function')]))
    finally:
        if srv:
            out = srv.stop()
            if sys.exc_info()[0] is not None:
                sys.stderr.write('--- server output (tail) ---\n%s\n' % out[-4000:].decode('latin-1'))
            for m in SANITIZER_MARKS:
                if m in out:
                    sys.stderr.write('FUZZ FAILURE (seed %d): sanitizer report in the server output:\n%s\n'
                                     % (args.seed, out[out.find(m) - 200:][:6000].decode('latin-1')))
                    sys.exit(1)
    print('%s fuzz: %d commands, seed %d, ok' % (args.mode, sent, args.seed))


if __name__ == '__main__':
    main()
