#!/usr/bin/env python3
"""Differential test of tiering: the same random command sequences go to a server without
tiering ("plain") and to a server with tiering ("tiered") that demotes aggressively, and
every reply must be the same (standard library only).

The commands come from the generators of tests/helpers/differential_types.tcl (the
redis-server differential: strings, lists, hashes, sets, sorted sets, HyperLogLog, geo,
with renames, copies, expiries, DEBUG RELOAD, MULTI, blocking pops in MULTI, SCAN), run
through tclsh. Each sequence interleaves the streams of every type (keys of all types live
side by side) and mixes in steps aimed at tiering:
  - several generated commands in one MULTI/EXEC;
  - a generated command run by EVAL with its keys declared (the keys are promoted before
    the script runs) or not declared (the script reads them synchronously), with
    redis.call or redis.pcall, sometimes in RESP3 inside the script;
  - TTL/PTTL/EXPIRETIME reads (compared within a second) and expiries that fall due;
  - DUMP + RESTORE of a key into a copy, DEBUG DIGEST-VALUE of every key of the pool,
    OBJECT ENCODING, KEYS/DBSIZE/SCAN/EXISTS/TYPE, MOVE/COPY DB/SWAPDB, SORT BY/GET
    patterns (read keys the command does not declare), a blocking pop woken by a push
    from another connection.
After every step (--demote-every), the tiered server gets FLASH.DEBUG.DEMOTE for every key
of db 0 and 1 (for one step in four only a random half of them; for a few none), so most
commands meet cold values. Values that refuse (shared integers) stay hot.

Replies are compared exactly, after the normalizations the generators ask for where the
reply is legitimately not deterministic between two servers (unordered sets and hashes:
sorted; random picks: shape or multiset; SPOP: compared as a random pick, then the tiered
server is brought in step). Both servers run the same binary, so there is nothing else to
forgive.

On the first difference of a sequence the helper shrinks it (drops steps while the same
command still differs, then drops demotions) and prints the repro as redis-cli lines with
FLASH.DEBUG.DEMOTE where the tiered server got them. The full sequence is written as JSON
(--out-dir) and can be replayed and shrunk again with --replay.

Servers: --plain HOST:PORT --tiered HOST:PORT (already running, e.g. from the Tcl harness:
both are FLUSHALLed; the tiered one needs flash-min-value-size 0 and DEBUG enabled), or
--binary PATH (two servers started here on free ports of --port-lo..--port-hi, restarted
when a crash is shrunk).

Campaign options: --time/--sequences (how long), --small (small encoding limits on both),
--tiered-maxmemory (background demotion under maxmemory on top of FLASH.DEBUG.DEMOTE),
--encodings (compare OBJECT ENCODING too: off by default, since a promoted value takes the
encoding an RDB load gives it, as after DEBUG RELOAD), and, to look past bugs already
reported: --known REGEXP (such a difference is counted, the tiered server's keys are
brought back in step with DUMP/RESTORE, and the run goes on), --avoid FORM (do not generate
it), --dirty-before-demote (a write that changes nothing before each demotion, so none
reuses the record a promotion left).

Exit status: 0 no difference, 1 a difference or a crash (reported on stdout), 2 usage.
"""

import argparse
import json
import os
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, HERE)
from fuzz_commands import ManagedServer, free_port, encode_command, SANITIZER_MARKS  # noqa: E402

TYPES = ('strings', 'lists', 'hashes', 'sets', 'zsets', 'hll', 'geo')
KEY_RE = re.compile(r'^([klhszpg][123]|lst|str|zl|sx|lcs[12]|missing|dcopy)$')
POOL = ['k1', 'k2', 'k3', 'lst', 'str', 'l1', 'l2', 'l3', 'h1', 'h2', 'h3', 's1', 's2', 's3',
        'z1', 'z2', 'z3', 'zl', 'sx', 'p1', 'p2', 'p3', 'g1', 'g2', 'g3', 'lcs1', 'lcs2']
SMALL_CONFIG = ['list-max-listpack-size', '4', 'hash-max-listpack-entries', '4',
                'hash-max-listpack-value', '16', 'set-max-intset-entries', '4',
                'set-max-listpack-entries', '4', 'set-max-listpack-value', '16',
                'zset-max-listpack-entries', '4', 'zset-max-listpack-value', '16',
                'hll-sparse-max-bytes', '100']
REPLY_TIMEOUT = 20.0
DEMOTE_CONNS = 8
KNOWN = []  # --known
DIRTY_BEFORE_DEMOTE = False  # --dirty-before-demote


class Fatal(Exception):
    """A server died, hung or broke the protocol: no reply to compare."""


# --------------------------------------------------------------------------- protocol
#
# A reply tree is a tuple: ('+', bytes) ('-', bytes) (':', int) ('$', bytes) ('nil',)
# ('nilarr',) (',', bytes) ('#', bytes) ('(', bytes) ('=', bytes) and aggregates
# ('*' | '~' | '%' | '>', (trees...)) with maps flattened to key, value, key, value.

class Conn(object):
    def __init__(self, host, port, name):
        self.name = name
        self.addr = (host, port)
        try:
            self.sock = socket.create_connection(self.addr, timeout=10)
        except OSError as e:
            raise Fatal('%s server: cannot connect (%s)' % (name, e))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b''
        self.pos = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, argv):
        try:
            self.sock.sendall(encode_command(argv))
        except OSError as e:
            raise Fatal('%s server: connection lost while sending (%s)' % (self.name, e))

    def pending(self):
        """True when reply bytes are waiting (or the connection was closed)."""
        if self.pos < len(self.buf):
            return True
        r, _, _ = select.select([self.sock], [], [], 0)
        return bool(r)

    def _fill(self, deadline):
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise Fatal('%s server: no reply within %.0f s' % (self.name, REPLY_TIMEOUT))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError as e:
                raise Fatal('%s server: connection lost (%s)' % (self.name, e))
            if not data:
                raise Fatal('%s server: connection closed' % self.name)
            self.buf = self.buf[self.pos:] + data
            self.pos = 0
            return

    def _line(self, deadline):
        while True:
            i = self.buf.find(b'\r\n', self.pos)
            if i >= 0:
                line = self.buf[self.pos:i]
                self.pos = i + 2
                return line
            self._fill(deadline)

    def _bytes(self, n, deadline):
        while len(self.buf) - self.pos < n + 2:
            self._fill(deadline)
        data = self.buf[self.pos:self.pos + n]
        self.pos += n + 2
        return data

    def _tree(self, deadline):
        line = self._line(deadline)
        t, rest = line[:1].decode('latin-1'), line[1:]
        if t in '+-,#(':
            return (t, rest)
        if t == ':':
            return (t, int(rest))
        if t == '_':
            return ('nil',)
        if t in '$=!':
            n = int(rest)
            if n < 0:
                return ('nil',)
            data = self._bytes(n, deadline)
            return ('-' if t == '!' else t, data)
        if t in '*~%>|':
            n = int(rest)
            if n < 0:
                return ('nilarr',)
            if t in '%|':
                n *= 2
            items = tuple(self._tree(deadline) for _ in range(n))
            if t == '|':
                return self._tree(deadline)  # attributes: skipped
            return (t, items)
        raise Fatal('%s server: not RESP: %r' % (self.name, line[:80]))

    def read(self):
        return self._tree(time.time() + REPLY_TIMEOUT)

    def call(self, *argv):
        self.send(argv)
        return self.read()


def visible(b, limit=60):
    if isinstance(b, str):
        b = b.encode('latin-1')
    out = []
    for ch in b[:limit]:
        if ch == 0x5c:
            out.append('\\\\')
        elif 32 <= ch < 127:
            out.append(chr(ch))
        else:
            out.append('\\x%02x' % ch)
    s = ''.join(out)
    if len(b) > limit:
        s += '...(%d bytes)' % len(b)
    return s


def show(tree, limit=600):
    s = _show(tree)
    return s if len(s) <= limit else s[:limit] + '...(%d characters)' % len(s)


def _show(tree):
    t = tree[0]
    if t in ('+', '-'):
        return t + visible(tree[1], 200)
    if t == ':':
        return ':%d' % tree[1]
    if t == ',':
        return '(double) ' + tree[1].decode('latin-1')
    if t in ('$', '='):
        return '"%s"' % visible(tree[1], 80)
    if t == 'nil':
        return '(nil)'
    if t == 'nilarr':
        return '(nil array)'
    if t in ('*', '~', '%', '>'):
        opener = {'*': '[', '~': 'set{', '%': 'map{', '>': 'push['}[t]
        closer = '}' if t in ('~', '%') else ']'
        return opener + ', '.join(_show(e) for e in tree[1]) + closer
    return '%s:%s' % (t, visible(repr(tree[1:]), 80))


def cli_quote(arg):
    b = arg.encode('latin-1') if isinstance(arg, str) else arg
    if b and re.match(rb'^[!#-&(-~]+$', b):
        return b.decode('latin-1')
    out = ['"']
    for ch in b:
        if ch in (0x22, 0x5c):
            out.append('\\' + chr(ch))
        elif ch < 32 or ch >= 127:
            out.append('\\x%02x' % ch)
        else:
            out.append(chr(ch))
    out.append('"')
    return ''.join(out)


def cli_line(argv, full=False):
    """The command as redis-cli reads it; unless full, long ones are cut for reading."""
    if full or len(argv) <= 16:
        words = [cli_quote(a) for a in argv]
    else:
        words = [cli_quote(a) for a in argv[:12]] + ['...(%d more arguments)' % (len(argv) - 12)]
    if not full:
        words = [w if len(w) <= 160 else w[:150] + '...(%d characters)' % len(w) for w in words]
    return ' '.join(words)


# --------------------------------------------------------------------------- normalizations
# (the same as differential_types.tcl's, minus the doubles: both servers format them alike)

def is_agg(tree):
    return tree[0] in ('*', '~', '%', '>')


def nested_pairs(elements):
    return bool(elements) and all(e[0] == '*' and len(e[1]) == 2 for e in elements)


def pair_list(elements):
    if nested_pairs(elements):
        return [tuple(e[1]) for e in elements]
    return [(elements[i], elements[i + 1]) for i in range(0, len(elements) - 1, 2)]


def norm_sorted(tree):
    return (tree[0], tuple(sorted(tree[1], key=repr))) if is_agg(tree) else tree


def norm_pairs(tree):
    return (tree[0], tuple(sorted(pair_list(tree[1]), key=repr))) if is_agg(tree) else tree


def norm_pick1(tree):
    return ('shape', 'bulk') if tree[0] == '$' else tree


def norm_random(count, kind, tree):
    if not is_agg(tree):
        return tree
    elements = tree[1]
    nested = kind != '' and nested_pairs(elements)
    n = len(elements)
    if kind and not nested:
        n //= 2
    try:
        c = int(count)
    except ValueError:
        c = 0
    if not (c > 0 and n < c):
        return (tree[0], 'shape', nested, n)
    if kind == '':
        return (tree[0], tuple(sorted(elements, key=repr)))
    return (tree[0], nested, tuple(sorted(pair_list(elements), key=repr)))


def apply_norm(norm, tree):
    name = norm[0] if norm else 'exact'
    if name == 'sorted':
        return norm_sorted(tree)
    if name == 'pairs':
        return norm_pairs(tree)
    if name == 'pick1':
        return norm_pick1(tree)
    if name in ('random', 'randpairs', 'randzpairs'):
        kind = {'random': '', 'randpairs': 'pairs', 'randzpairs': 'zpairs'}[name]
        return norm_random(norm[1], kind, tree)
    return tree  # exact, scores, withscores, bzpop, zmpop: byte-exact between our servers


def judge(argv, norm, p, t):
    if p == t or apply_norm(norm, p) == apply_norm(norm, t):
        return None
    text = '%s\n      plain:  %s\n      tiered: %s' % (cli_line(argv), show(p), show(t))
    if is_agg(p) and is_agg(t) and len(p[1]) == len(t[1]) and len(p[1]) > 4:
        at = [i for i in range(len(p[1])) if p[1][i] != t[1][i]]
        if argv[:2] == ['DEBUG', 'DIGEST-VALUE']:
            at = ['%d (%s)' % (i, argv[2 + i]) for i in at]
        text += '\n      (elements that differ: %s)' % ', '.join(str(i) for i in at[:8])
    return text


# --------------------------------------------------------------------------- generation

TCL_BRIDGE = r'''
set root [lindex $argv 0]
namespace eval ::th {}
source [file join $root tests helpers differential_types.tcl]
fconfigure stdout -translation lf -encoding iso8859-1
proc hex {s} { return [binary encode hex [encoding convertto iso8859-1 $s]] }
proc emit {tag step} {
    lassign $step mode norm argv
    set words [list $tag $mode x[hex $norm]]
    foreach a $argv { lappend words x[hex $a] }
    puts [join $words " "]
}
foreach {type seed n} [lrange $argv 1 end] {
    puts "T $type"
    foreach step [::dt::setup_steps $type] { emit S $step }
    ::dt::srand $seed
    for {set i 0} {$i < $n} {incr i} {
        puts U
        foreach step [::dt::gen_$type] { emit s $step }
    }
    foreach step [::dt::final_steps $type] { emit F $step }
}
'''


def tcl_list_split(s):
    """Splits the few Tcl lists a norm can be ("random 5", "exact")."""
    return s.split()


def tcl_generate(specs):
    """specs: [(type, seed, n)]; returns {type: (setup, units, finals)}, steps as dicts."""
    tclsh = shutil.which('tclsh') or shutil.which('tclsh8.6')
    if not tclsh:
        raise SystemExit('tier_differential: tclsh not found')
    with tempfile.NamedTemporaryFile('w', suffix='.tcl', delete=False) as f:
        f.write(TCL_BRIDGE)
    args = [tclsh, f.name, ROOT]
    for t, seed, n in specs:
        args += [t, str(seed), str(n)]
    try:
        out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    finally:
        os.unlink(f.name)
    if out.returncode != 0:
        raise SystemExit('tier_differential: the Tcl generator failed: %s' % out.stderr.decode()[-2000:])
    result = {}
    current = None
    for line in out.stdout.decode('latin-1').splitlines():
        words = line.split(' ')
        if words[0] == 'T':
            current = result[words[1]] = ([], [], [])
            continue
        if words[0] == 'U':
            current[1].append([])
            continue
        tag, mode, norm = words[0], words[1], bytes.fromhex(words[2][1:]).decode('latin-1')
        argv = [bytes.fromhex(w[1:]).decode('latin-1') for w in words[3:]]
        step = {'m': mode, 'n': tcl_list_split(norm), 'a': argv}
        if tag == 'S':
            current[0].append(step)
        elif tag == 'F':
            current[2].append(step)
        else:
            current[1][-1].append(step)
    return result


def keys_of(argv):
    seen = []
    for a in argv[1:]:
        if KEY_RE.match(a) and a not in seen:
            seen.append(a)
    return seen


class Builder(object):
    """Turns the generated streams into one sequence with tiering-oriented extras."""

    def __init__(self, rng, opts):
        self.rng = rng
        self.opts = opts

    def script(self, step):
        rng = self.rng
        argv = step['a']
        call = rng.choice(['call', 'call', 'pcall'])
        body = 'return redis.%s(unpack(ARGV))' % call
        if rng.random() < 0.2:
            body = 'redis.setresp(3); ' + body
        keys = keys_of(argv) if rng.random() < 0.7 else []
        return {'m': 'script', 'n': step['n'], 'a': ['EVAL', body, str(len(keys))] + keys + argv}

    def extra(self):
        rng = self.rng
        k = rng.choice(POOL)
        # zl and sx only ever hold members of score 0 (the generator sends them ranges by
        # lex, whose result is unspecified otherwise): nothing is copied over them.
        k2 = rng.choice([x for x in POOL if x not in ('zl', 'sx')])
        kind = rng.choices(
            ['ttl', 'soon', 'dump', 'encoding', 'digest', 'keyspace', 'db', 'sort', 'bpop',
             'flushdb', 'exists'],
            [6, 2, 4, 3, 3, 2, 2, 3, 1, 0.1, 2])[0]
        if kind == 'ttl':
            steps = []
            if rng.random() < 0.5:
                steps.append({'m': 'cmd', 'n': ['exact'], 'a': [
                    rng.choice(['EXPIRE', 'EXPIRE', 'PEXPIRE']), k, rng.choice(['100000', '5000000'])]})
            steps.append({'m': 'ttl', 'n': ['exact'],
                          'a': [rng.choice(['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME']), k]})
            if rng.random() < 0.3:
                steps.append({'m': 'cmd', 'n': ['exact'], 'a': ['PERSIST', k]})
            return steps
        if kind == 'soon':
            return [{'m': 'soon', 'n': ['exact'], 'a': ['PEXPIREAT', k, '+%d' % rng.choice([1, 10, 30])]}]
        if kind == 'dump':
            return [{'m': 'dump', 'n': ['exact'], 'a': ['DUMP', k]}]
        if kind == 'encoding':
            if not self.opts.encodings:
                return []
            return [{'m': 'cmd', 'n': ['exact'], 'a': ['OBJECT', 'ENCODING', k]}]
        if kind == 'digest':
            return [{'m': 'cmd', 'n': ['exact'], 'a': ['DEBUG', 'DIGEST-VALUE'] + POOL}]
        if kind == 'exists':
            return [{'m': 'cmd', 'n': ['exact'], 'a': ['EXISTS'] + rng.sample(POOL, 5)},
                    {'m': 'cmd', 'n': ['exact'], 'a': ['TYPE', k]}]
        if kind == 'keyspace':
            return [{'m': 'cmd', 'n': ['sorted'], 'a': ['KEYS', rng.choice(['*', '?1', 'l*', '*s*'])]},
                    {'m': 'cmd', 'n': ['exact'], 'a': ['DBSIZE']},
                    {'m': 'scan', 'n': ['keys'], 'a': ['SCAN'] + rng.choice(
                        [[], ['MATCH', 'h*'], ['TYPE', 'list'], ['COUNT', '3', 'TYPE', 'string']])},
                    {'m': 'cmd', 'n': ['pick1'], 'a': ['RANDOMKEY']}]
        if kind == 'db':
            c = rng.random()
            if c < 0.4:
                return [{'m': 'cmd', 'n': ['exact'], 'a': ['MOVE', k, '1']}]
            if c < 0.7:
                return [{'m': 'cmd', 'n': ['exact'], 'a': ['COPY', k, k2, 'DB', '1', 'REPLACE']}]
            if c < 0.85:
                return [{'m': 'cmd', 'n': ['exact'], 'a': ['SWAPDB', '0', '1']}]
            return [{'m': 'cmd', 'n': ['exact'], 'a': ['SELECT', '1']},
                    {'m': 'cmd', 'n': ['exact'], 'a': ['MOVE', k, '0']},
                    {'m': 'cmd', 'n': ['exact'], 'a': ['SELECT', '0']}]
        if kind == 'sort':
            sources = ['l1', 'l2', 's1', 's2', 'lst']
            if 'sort-zset' not in self.opts.avoid:
                sources += ['z1', 'z2']
            src = rng.choice(sources)
            argv = ['SORT', src]
            by = rng.choice([None, 'nosort', 'k*', 'h*->f1', 'k*->f1', 'missing*'])
            if by:
                argv += ['BY', by]
            for _ in range(rng.randint(0, 3)):
                argv += ['GET', rng.choice(['#', 'k*', 'h*->f1', 'h*->n1', 'l*', 'x*'])]
            if rng.random() < 0.7:
                argv.append('ALPHA')
            if rng.random() < 0.2:
                argv += ['LIMIT', '0', '3']
            # Unless sorted by the elements themselves, equal weights keep the source order,
            # which for sets depends on their iteration order (and any key may hold a set
            # after COPY/SWAPDB): then compared as multisets, never cut by LIMIT nor stored.
            norm = ['exact'] if by is None else ['sorted']
            if norm == ['sorted'] and 'LIMIT' in argv:
                argv = argv[:argv.index('LIMIT')] + argv[argv.index('LIMIT') + 3:]
            if norm == ['exact'] and rng.random() < 0.2:
                argv += ['STORE', 'l3']
            return [{'m': 'cmd', 'n': norm, 'a': argv}]
        if kind == 'bpop':
            src = rng.choice(['l1', 'l2', 'l3'])
            dst = rng.choice(['l1', 'l2', 'l3'])
            blocking = rng.choice([
                ['BLPOP', src, dst, '5'], ['BRPOP', src, '5'],
                ['BLMOVE', src, dst, 'LEFT', 'RIGHT', '5'], ['BLMPOP', '5', '2', src, dst, 'LEFT', 'COUNT', '2']])
            if rng.random() < 0.5:
                zk = rng.choice(['z1', 'z2'])
                blocking = rng.choice([['BZPOPMIN', zk, '5'], ['BZMPOP', '5', '1', zk, 'MAX']])
                pusher = ['ZADD', zk, '1', 'a', '2', 'b']
            else:
                pusher = [rng.choice(['RPUSH', 'LPUSH']), src, 'x', 'y']
            return [{'m': 'bpop', 'n': ['exact'], 'a': blocking, 'p': pusher}]
        if kind == 'flushdb':
            return [{'m': 'cmd', 'n': ['exact'], 'a': [rng.choice(['FLUSHDB', 'FLUSHALL'])]}]
        return []

    def build(self, streams, types):
        rng = self.rng
        steps = []
        for t in types:
            steps += streams[t][0]
        queues = {t: list(streams[t][1]) for t in types}
        while True:
            live = [t for t in types if queues[t]]
            if not live:
                break
            t = rng.choice(live)
            unit = queues[t].pop(0)
            r = rng.random()
            if r < self.opts.extra_rate:
                steps += self.extra()
            r = rng.random()
            if r < 0.06 and all(s['m'] == 'cmd' for s in unit):
                # Several commands in one transaction (the next units of this type too).
                sub = list(unit)
                for _ in range(rng.randint(0, 2)):
                    if queues[t] and all(s['m'] == 'cmd' for s in queues[t][0]):
                        sub += queues[t].pop(0)
                steps.append({'m': 'block', 'sub': sub})
            elif r < 0.12 and len(unit) == 1 and unit[0]['m'] == 'cmd' and \
                    unit[0]['a'][0].upper() not in ('DEBUG',):
                steps.append(self.script(unit[0]))
            else:
                steps += unit
        for t in types:
            steps += streams[t][2]
        steps.append({'m': 'cmd', 'n': ['exact'], 'a': ['DEBUG', 'DIGEST-VALUE'] + POOL})
        if 'neg-zero' in self.opts.avoid:
            for s in steps:
                for argv in [s['a']] if 'a' in s else [x['a'] for x in s['sub']]:
                    if argv[0].upper().startswith(('Z', 'EVAL')):
                        argv[:] = ['0' if a == '-0' else a for a in argv]
        for s in steps:
            r = rng.random()
            if r < self.opts.demote_none:
                s['d'] = 'n'
            elif r < self.opts.demote_none + 0.25:
                s['d'] = ['s', rng.randrange(1 << 30)]
            else:
                s['d'] = 'a'
        return steps


def step_name(step):
    if step['m'] == 'block':
        return 'MULTI'
    if step['m'] == 'script':
        return 'EVAL ' + step['a'][3 + int(step['a'][2])].upper()
    return step['a'][0].upper()


def step_lines(step, demoted, protocol, full=False):
    """The step as redis-cli lines (plus the demotions that followed it)."""
    m = step['m']
    out = []
    if m == 'cmd' or m == 'spop' or m == 'script' or m == 'ttl' or m == 'dump':
        out.append(cli_line(step['a'], full))
        if m == 'dump':
            out[-1] += '    (then RESTORE dcopy <its PTTL> <payload> REPLACE, DEBUG DIGEST-VALUE dcopy %s)' % step['a'][1]
        if m == 'ttl':
            out[-1] += '    (compared within a second)'
    elif m == 'multi':
        out += ['MULTI', cli_line(step['a'], full), 'EXEC']
    elif m == 'block':
        out += ['MULTI'] + [cli_line(s['a'], full) for s in step['sub']] + ['EXEC']
    elif m == 'scan':
        out.append(cli_line(step['a'], full) + '    (full scan, cursor after the key)')
    elif m == 'soon':
        out.append('PEXPIREAT %s <now + %s ms>    (then wait for it, and EXISTS %s)' % (
            step['a'][1], step['a'][2][1:], step['a'][1]))
    elif m == 'bpop':
        out.append('(client 2) ' + cli_line(step['a'], full))
        out.append(cli_line(step['p'], full))
    for db, key in demoted:
        prefix = '' if db == 0 else '(in db %d) ' % db
        out.append(prefix + 'FLASH.DEBUG.DEMOTE ' + cli_quote(key))
    return out


# --------------------------------------------------------------------------- running

class Pair(object):
    """Connections to both servers for one sequence."""

    def __init__(self, plain_addr, tiered_addr, protocol):
        self.protocol = protocol
        self.p = Conn(plain_addr[0], plain_addr[1], 'plain')
        self.t = Conn(tiered_addr[0], tiered_addr[1], 'tiered')
        self.addrs = (plain_addr, tiered_addr)
        self.side = None
        # Demotion connections, DEMOTE_CONNS per database: FLASH.DEBUG.DEMOTE blocks its
        # client until the value is cold, so demotions pipelined on one connection would go
        # one event-loop turn at a time; spread over connections they go out in one batch.
        self.dconn = [[Conn(tiered_addr[0], tiered_addr[1], 'tiered') for _ in range(DEMOTE_CONNS)]
                      for _ in range(2)]
        for c in self.dconn[1]:
            c.call('SELECT', '1')
        # A demotion's last partial block is written at the next event-loop turn, which on an
        # idle server is the next cron tick: a faster cron keeps the run fast.
        self.dconn[0][0].call('CONFIG', 'SET', 'hz', '500')
        for c in (self.p, self.t):
            c.call('FLUSHALL')
            if protocol == 3:
                c.call('HELLO', '3')
        self.stats = {'ok': 0, 'already': 0, 'refused': 0, 'gone': 0}

    def close(self):
        for c in [self.p, self.t] + self.dconn[0] + self.dconn[1] + list(self.side or ()):
            c.close()

    def both(self, argv):
        self.p.send(argv)
        self.t.send(argv)
        return self.p.read(), self.t.read()

    def demote(self, spec):
        """Demotes per spec; returns [(db, key)] of the values that went cold now."""
        if spec == 'n':
            return []
        if spec[0] == 'k':
            targets = [tuple(x) for x in spec[1]]
        else:
            targets = []
            for db in (0, 1):
                reply = self.dconn[db][0].call('KEYS', '*')
                if reply[0] not in ('*', '~'):
                    raise Fatal('tiered server: KEYS answered %s' % show(reply))
                targets += [(db, e[1].decode('latin-1')) for e in reply[1]]
            targets.sort()
            if spec[0] == 's':
                r = random.Random(spec[1])
                targets = [x for x in targets if r.random() < 0.5]
        if DIRTY_BEFORE_DEMOTE:
            self.dirty(targets)
        for i, (db, key) in enumerate(targets):
            self.dconn[db][i % DEMOTE_CONNS].send(['FLASH.DEBUG.DEMOTE', key])
        done = []
        for i, (db, key) in enumerate(targets):
            reply = self.dconn[db][i % DEMOTE_CONNS].read()
            if reply == ('+', b'OK'):
                self.stats['ok'] += 1
                done.append((db, key))
            elif reply == ('+', b'ALREADY_COLD'):
                self.stats['already'] += 1
            elif reply[0] == '-' and b'does not exist' in reply[1]:
                self.stats['gone'] += 1
            elif reply[0] == '-' and b'cannot be demoted' in reply[1]:
                self.stats['refused'] += 1
            else:
                raise Fatal('tiered server: FLASH.DEBUG.DEMOTE %s answered %s' % (key, show(reply)))
        return done

    def dirty(self, targets):
        """A write that changes nothing to each hot value (--dirty-before-demote): its tier
        state is dropped, so its demotion writes a new record instead of reusing the one a
        promotion left (steps around the clean-demotion bugs)."""
        for i, (db, key) in enumerate(targets):
            self.dconn[db][i % DEMOTE_CONNS].send(['OBJECT', 'TIER', key])
            self.dconn[db][i % DEMOTE_CONNS].send(['TYPE', key])
        writes = []
        for i, (db, key) in enumerate(targets):
            tier = self.dconn[db][i % DEMOTE_CONNS].read()
            kind = self.dconn[db][i % DEMOTE_CONNS].read()
            if tier != ('$', b'hot') and tier != ('+', b'hot'):
                continue
            noop = {b'string': ['SETRANGE', key, '0', ''], b'list': ['LTRIM', key, '0', '-1'],
                    b'hash': ['HDEL', key, '\x00none'], b'set': ['SREM', key, '\x00none'],
                    b'zset': ['ZREM', key, '\x00none']}.get(kind[1])
            if noop:
                writes.append((self.dconn[db][i % DEMOTE_CONNS], noop))
        for conn, argv in writes:
            conn.send(argv)
        for conn, argv in writes:
            reply = conn.read()
            if reply[0] == '-':
                raise Fatal('tiered server: %s answered %s' % (cli_line(argv), show(reply)))

    def resync(self):
        """Makes the tiered server's keys (db 0 and 1) equal to the plain server's again,
        with DUMP/RESTORE of every key whose value digest differs."""
        pc = Conn(self.addrs[0][0], self.addrs[0][1], 'plain')
        tc = Conn(self.addrs[1][0], self.addrs[1][1], 'tiered')
        try:
            for db in ('0', '1'):
                pc.call('SELECT', db)
                tc.call('SELECT', db)
                pk = set(e[1] for e in pc.call('KEYS', '*')[1])
                tk = set(e[1] for e in tc.call('KEYS', '*')[1])
                for k in tk - pk:
                    tc.call('DEL', k)
                for k in pk:
                    if k in tk and pc.call('DEBUG', 'DIGEST-VALUE', k) == tc.call('DEBUG', 'DIGEST-VALUE', k):
                        continue
                    payload = pc.call('DUMP', k)
                    pttl = pc.call('PTTL', k)
                    ttl = pttl[1] if pttl[0] == ':' and pttl[1] > 0 else 0
                    if payload[0] == '$':
                        reply = tc.call('RESTORE', k, str(ttl), payload[1], 'REPLACE')
                        if reply != ('+', b'OK'):
                            raise Fatal('tiered server: RESTORE %s answered %s' % (visible(k), show(reply)))
        finally:
            pc.close()
            tc.close()

    def sides(self):
        if self.side is None:
            self.side = (Conn(self.addrs[0][0], self.addrs[0][1], 'plain'),
                         Conn(self.addrs[1][0], self.addrs[1][1], 'tiered'))
        return self.side

    # --- steps

    def run(self, step):
        m = step['m']
        if m == 'cmd':
            p, t = self.both(step['a'])
            return judge(step['a'], step['n'], p, t)
        if m == 'script':
            p, t = self.both(step['a'])
            return judge(step['a'], step['n'], p, t)
        if m == 'multi':
            return self.run_block([(step['a'], step['n'])])
        if m == 'block':
            return self.run_block([(s['a'], s['n']) for s in step['sub']])
        if m == 'spop':
            return self.run_spop(step['a'])
        if m == 'scan':
            return self.run_scan(step['n'][0], step['a'])
        if m == 'ttl':
            return self.run_ttl(step['a'])
        if m == 'soon':
            return self.run_soon(step['a'])
        if m == 'dump':
            return self.run_dump(step['a'][1])
        if m == 'bpop':
            return self.run_bpop(step['a'], step['p'])
        raise ValueError(m)

    def run_block(self, cmds):
        self.p.send(['MULTI'])
        self.t.send(['MULTI'])
        for argv, _ in cmds:
            self.p.send(argv)
            self.t.send(argv)
        self.p.send(['EXEC'])
        self.t.send(['EXEC'])
        problems = []
        for argv in [['MULTI']] + [a for a, _ in cmds]:
            p, t = self.p.read(), self.t.read()
            problem = judge(argv, ['exact'], p, t)
            if problem:
                problems.append('(in MULTI, queueing) ' + problem)
        p, t = self.p.read(), self.t.read()
        if p[0] == '*' and t[0] == '*' and len(p[1]) == len(t[1]) == len(cmds):
            for (argv, norm), pr, tr in zip(cmds, p[1], t[1]):
                problem = judge(argv, norm, pr, tr)
                if problem:
                    problems.append('(in MULTI, at EXEC) ' + problem)
        else:
            problem = judge(['EXEC'], ['exact'], p, t)
            if problem:
                problems.append(problem)
        return '\n'.join(problems) or None

    def run_spop(self, argv):
        p, t = self.both(argv)
        key = argv[1]
        if len(argv) == 3:
            problem = judge(argv, ['random', argv[2]], p, t)
            if problem or not is_agg(p):
                return problem
            popped_p = [e[1] for e in p[1]]
            popped_t = [e[1] for e in t[1]]
        else:
            if p[0] != t[0] or p[0] != '$':
                return judge(argv, ['exact'], p, t)
            popped_p, popped_t = [p[1]], [t[1]]
        if sorted(popped_p) == sorted(popped_t):
            return None
        # Bring the tiered server in step: put back what it popped, remove what plain popped.
        for command, members in (('SADD', popped_t), ('SREM', popped_p)):
            reply = self.t.call(command, key, *members)
            if reply != (':', len(members)):
                return '%s (popped by plain: %r, by tiered: %r)\n      then on tiered only, %s answered %s' % (
                    cli_line(argv), popped_p, popped_t, cli_line([command, key] + members), show(reply))
        return None

    def scan_all(self, conn, kind, argv):
        cursor = b'0'
        seen = set()
        for _ in range(100000):
            request = argv[:2] + [cursor] + argv[2:] if kind != 'keys' else argv[:1] + [cursor] + argv[1:]
            reply = conn.call(*request)
            if reply[0] != '*' or len(reply[1]) != 2:
                return reply
            cursor = reply[1][0][1]
            elements = reply[1][1][1]
            if kind in ('set', 'keys'):
                seen.update(e for e in elements)
            else:
                seen.update(pair_list(elements))
            if cursor == b'0':
                return ('scanned', tuple(sorted(seen, key=repr)))
        return ('-', b'scan did not finish')

    def run_scan(self, kind, argv):
        p = self.scan_all(self.p, kind, argv)
        t = self.scan_all(self.t, kind, argv)
        if p == t:
            return None
        return 'full scan: %s\n      plain:  %s\n      tiered: %s' % (cli_line(argv), show(p), show(t))

    def run_ttl(self, argv):
        p, t = self.both(argv)
        if p == t:
            return None
        if p[0] == ':' and t[0] == ':' and p[1] >= 0 and t[1] >= 0:
            slack = 2000 if argv[0].upper().startswith('P') else 2
            if abs(p[1] - t[1]) <= slack:
                return None
        return judge(argv, ['exact'], p, t)

    def run_soon(self, argv):
        ms = int(argv[2][1:])
        when = str(int(time.time() * 1000) + ms)
        real = [argv[0], argv[1], when]
        p, t = self.both(real)
        problem = judge(real, ['exact'], p, t)
        time.sleep((ms + 5) / 1000.0)
        # Both delete the key now (DEBUG DIGEST-VALUE would still see a due key).
        argv = ['EXISTS', argv[1]]
        p, t = self.both(argv)
        return problem or judge(argv, ['exact'], p, t)

    def run_dump(self, key):
        p, t = self.both(['DUMP', key])
        if p[0] != t[0]:
            return judge(['DUMP', key], ['exact'], p, t)
        if p[0] != '$':
            return None
        problems = []
        # The copy gets a TTL when the key has one: a value digest says whether there is one.
        ttls = []
        for conn in (self.p, self.t):
            reply = conn.call('PTTL', key)
            ttls.append(str(reply[1]) if reply[0] == ':' and reply[1] > 0 else '0')
        self.p.send(['RESTORE', 'dcopy', ttls[0], p[1], 'REPLACE'])
        self.t.send(['RESTORE', 'dcopy', ttls[1], t[1], 'REPLACE'])
        rp, rt = self.p.read(), self.t.read()
        problem = judge(['RESTORE', 'dcopy', '<its PTTL>', '<its own DUMP of %s>' % key, 'REPLACE'],
                        ['exact'], rp, rt)
        if problem:
            problems.append(problem)
        argv = ['DEBUG', 'DIGEST-VALUE', 'dcopy', key]
        rp, rt = self.both(argv)
        problem = judge(argv, ['exact'], rp, rt)
        if problem:
            problems.append(problem)
        elif rp[0] == '*' and len(rp[1]) == 2 and rp[1][0] != rp[1][1]:
            problems.append('%s: the copy restored from DUMP differs from the key: %s' % (cli_line(argv), show(rp)))
        self.both(['DEL', 'dcopy'])
        return '\n'.join(problems) or None

    def run_bpop(self, blocking, pusher):
        sp, st = self.sides()
        sp.send(blocking)
        st.send(blocking)
        # Wait until each side client has either answered or is blocked on its keys (never
        # push while the tiered one still waits for its cold values: the push would overtake).
        for side, main in ((sp, self.p), (st, self.t)):
            deadline = time.time() + 10
            while not side.pending():
                info = main.call('INFO', 'clients')
                text = info[1] if info[0] in ('$', '=') else b''
                m = re.search(rb'total_blocking_keys:(\d+)', text)
                if m and int(m.group(1)) > 0:
                    break
                if time.time() > deadline:
                    raise Fatal('%s server: %s neither answered nor blocked' % (main.name, cli_line(blocking)))
                time.sleep(0.001)
        p, t = self.both(pusher)
        problems = []
        problem = judge(pusher, ['exact'], p, t)
        if problem:
            problems.append(problem)
        rp, rt = sp.read(), st.read()
        problem = judge(blocking, ['exact'], rp, rt)
        if problem:
            problems.append('(blocked client) ' + problem)
        return '\n'.join(problems) or None


def execute(steps, plain_addr, tiered_addr, protocol, record=None):
    """Runs steps; returns (index, name, text) of the first difference, or None.
    record: a list that receives, per step run, the (db, key) pairs demoted after it.
    KNOWN: regexps of differences already reported: counted in execute.known, the tiered
    server's keys are brought back in step, and the run goes on."""
    pair = Pair(plain_addr, tiered_addr, protocol)
    execute.known = []
    try:
        for i, step in enumerate(steps):
            try:
                problem = pair.run(step)
            except Fatal as e:
                return (i, 'FATAL', str(e))
            if problem and any(k.search(problem) for k in KNOWN):
                execute.known.append(problem)
                try:
                    pair.resync()
                except Fatal as e:
                    return (i, 'FATAL', '(bringing the servers in step) ' + str(e))
                problem = None
            if problem:
                return (i, step_name(step), problem)
            try:
                done = pair.demote(step.get('d', 'a'))
            except Fatal as e:
                return (i, 'FATAL', '(demoting after this step) ' + str(e))
            if record is not None:
                record.append(done)
        return None
    finally:
        execute.stats = pair.stats
        pair.close()


# --------------------------------------------------------------------------- servers

class Servers(object):
    """Either two running servers (--plain/--tiered) or two started here (--binary)."""

    def __init__(self, args):
        self.args = args
        self.managed = bool(args.binary)
        self.plain = self.tiered = None
        self.outputs = []
        if self.managed:
            self.rng = random.Random()
            self.start()
        else:
            self.plain_addr = parse_addr(args.plain)
            self.tiered_addr = parse_addr(args.tiered)

    def start(self):
        a = self.args
        extra = ['--enable-debug-command', 'yes']
        if a.small:
            extra += ['--' + SMALL_CONFIG[i] if i % 2 == 0 else SMALL_CONFIG[i] for i in range(len(SMALL_CONFIG))]
        tier = ['--flash-path', 'flash.bin', '--flash-capacity', a.flash_capacity,
                '--flash-min-value-size', '0']
        if a.tiered_maxmemory:
            tier += ['--maxmemory', a.tiered_maxmemory]
        for _ in range(5):
            try:
                pp = free_port(a.port_lo, a.port_hi, self.rng)
                self.plain = ManagedServer(a.binary, pp, extra)
                break
            except RuntimeError:
                continue
        for _ in range(5):
            try:
                tp = free_port(a.port_lo, a.port_hi, self.rng)
                self.tiered = ManagedServer(a.binary, tp, extra + tier)
                break
            except RuntimeError:
                continue
        self.plain_addr = ('127.0.0.1', self.plain.port)
        self.tiered_addr = ('127.0.0.1', self.tiered.port)

    def stop(self):
        if not self.managed:
            return b''
        out = b''
        for s, label in ((self.plain, 'plain'), (self.tiered, 'tiered')):
            if s:
                o = s.stop()
                self.outputs.append((label, o))
                out += o
        self.plain = self.tiered = None
        return out

    def restart(self):
        if self.managed:
            self.stop()
            self.start()

    def alive(self):
        for addr in (self.plain_addr, self.tiered_addr):
            try:
                c = Conn(addr[0], addr[1], 'x')
                c.sock.settimeout(5)
                ok = c.call('PING') == ('+', b'PONG')
                c.close()
                if not ok:
                    return False
            except (Fatal, OSError):
                return False
        return True

    def info_flash(self):
        c = Conn(self.tiered_addr[0], self.tiered_addr[1], 'tiered')
        try:
            r = c.call('INFO', 'flash')
        finally:
            c.close()
        fields = {}
        for line in r[1].decode('latin-1').splitlines():
            if ':' in line:
                k, v = line.split(':', 1)
                fields[k] = v
        return fields


def parse_addr(s):
    host, _, port = s.rpartition(':')
    return (host or '127.0.0.1', int(port))


# --------------------------------------------------------------------------- shrinking

def same_failure(found, name):
    return found is not None and found[1] == name


def try_steps(servers, steps, protocol, name):
    """Replays steps; the failure found (or None). Restarts crashed servers."""
    found = execute(steps, servers.plain_addr, servers.tiered_addr, protocol)
    if found and found[1] == 'FATAL' or (servers.managed and not servers.alive()):
        servers.restart()
    if found is None or found[1] != name:
        return None
    return found


def shrink(servers, steps, protocol, failure, budget_s):
    """Drops chunks of steps (halving the chunk) while the same command still differs, then
    turns demotions into explicit keys and drops them. Returns (steps, failure, replays)."""
    index, name, _ = failure
    if name == 'FATAL' and not servers.managed:
        return steps[:index + 1], failure, 0
    stop_at = time.time() + budget_s
    steps = steps[:index + 1]
    chunk = max(1, len(steps) // 2)
    replays = 0
    while time.time() < stop_at:
        i = 0
        while i < len(steps) - 1 and time.time() < stop_at:
            candidate = steps[:i] + steps[min(i + chunk, len(steps) - 1):]
            replays += 1
            found = try_steps(servers, candidate, protocol, name)
            if found:
                steps = candidate[:found[0] + 1]
                failure = found
            else:
                i += chunk
        if chunk == 1:
            break
        chunk //= 2
    # Demotions: first whole steps' demotions off, then concrete keys one by one.
    for i in range(len(steps)):
        if time.time() > stop_at:
            break
        if steps[i].get('d', 'a') == 'n':
            continue
        candidate = [dict(s) for s in steps]
        candidate[i]['d'] = 'n'
        replays += 1
        found = try_steps(servers, candidate, protocol, name)
        if found and found[0] == len(steps) - 1:
            steps, failure = candidate, found
    record = []
    found = execute(steps, servers.plain_addr, servers.tiered_addr, protocol, record)
    if servers.managed and not servers.alive():
        servers.restart()
    if same_failure(found, name) and len(record) == found[0]:
        steps = [dict(s) for s in steps]
        for i, done in enumerate(record):
            steps[i]['d'] = ['k', [list(x) for x in done]]
        failure = found
        for i in range(len(steps) - 1):
            for pair in list(steps[i]['d'][1]):
                if time.time() > stop_at:
                    break
                candidate = [dict(s) for s in steps]
                candidate[i]['d'] = ['k', [x for x in steps[i]['d'][1] if x != pair]]
                replays += 1
                found = try_steps(servers, candidate, protocol, name)
                if found and found[0] == len(steps) - 1:
                    steps, failure = candidate, found
    return steps, failure, replays


def print_repro(steps, failure, protocol, path=None):
    record = []
    for s in steps:
        d = s.get('d', 'a')
        record.append([tuple(x) for x in d[1]] if isinstance(d, list) and d[0] == 'k' else
                      [('?', 'every key' if d == 'a' else 'a random half of the keys')] if d != 'n' else [])
    lines = []
    full = []
    if protocol == 3:
        lines.append('HELLO 3')
        full.append('HELLO 3')
    for i, s in enumerate(steps):
        demoted = record[i] if i < len(steps) - 1 else []
        demoted = [(0, k) if db == '?' else (db, k) for db, k in demoted]
        lines += step_lines(s, demoted, protocol)
        full += step_lines(s, demoted, protocol, True)
    if path:
        with open(path, 'w', encoding='latin-1') as f:
            f.write('\n'.join(full) + '\n')
    print('  repro (%d steps; the tiered server has flash-min-value-size 0%s%s):' % (
        len(steps), '; each demotion after a no-op write to the key' if DIRTY_BEFORE_DEMOTE else '',
        '; whole lines in ' + path if path else ''))
    for line in lines:
        print('    ' + line)
    print('  -> ' + failure[2].replace('\n', '\n  '))


# --------------------------------------------------------------------------- main

def sequence(args, seed, protocol):
    rng = random.Random(seed)
    types = args.types.split(',')
    specs = [(t, (seed * 31 + 7919 * i) % 2147483646 + 1, args.commands) for i, t in enumerate(types)]
    streams = tcl_generate(specs)
    return Builder(rng, args).build(streams, types)


def dump_steps(path, meta, steps):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump({'meta': meta, 'steps': steps}, f)


def main():
    global REPLY_TIMEOUT, DIRTY_BEFORE_DEMOTE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--plain', help='HOST:PORT of a running server without tiering')
    ap.add_argument('--tiered', help='HOST:PORT of a running server with tiering')
    ap.add_argument('--binary', help='start both servers from this binary instead')
    ap.add_argument('--port-lo', type=int, default=31400)
    ap.add_argument('--port-hi', type=int, default=31499)
    ap.add_argument('--small', action='store_true', help='(--binary) small encoding limits on both servers')
    ap.add_argument('--flash-capacity', default='256mb')
    ap.add_argument('--tiered-maxmemory', default='', help='(--binary) maxmemory of the tiered server too')
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--commands', type=int, default=150, help='generated commands per type and sequence')
    ap.add_argument('--types', default=','.join(TYPES))
    ap.add_argument('--resp', default='both', choices=['2', '3', 'both'])
    ap.add_argument('--time', type=float, default=0, help='run sequences until this many seconds passed')
    ap.add_argument('--sequences', type=int, default=1, help='sequences to run (when --time is 0)')
    ap.add_argument('--extra-rate', type=float, default=0.15, help='chance of a tiering step between units')
    ap.add_argument('--demote-none', type=float, default=0.1, help='share of steps followed by no demotion')
    ap.add_argument('--encodings', action='store_true',
                    help='compare OBJECT ENCODING too (a promoted value takes the encoding an RDB load '
                         'gives it, as after DEBUG RELOAD)')
    ap.add_argument('--no-shrink', action='store_true')
    ap.add_argument('--shrink-time', type=float, default=120)
    ap.add_argument('--max-failures', type=int, default=1, help='stop after this many differences')
    ap.add_argument('--out-dir', default=None, help='where failing sequences are written (JSON)')
    ap.add_argument('--replay', default=None, help='a JSON sequence written earlier: replay (and shrink) it')
    ap.add_argument('--reply-timeout', type=float, default=20)
    ap.add_argument('--known', action='append', default=[], metavar='REGEXP',
                    help='a difference already reported (matched against its description): counted, '
                         'the keys are brought back in step, and the run goes on (repeatable)')
    ap.add_argument('--dirty-before-demote', action='store_true',
                    help='a no-op write to each hot value before its demotion (no clean demotions)')
    ap.add_argument('--avoid', action='append', default=[], choices=['sort-zset', 'neg-zero'],
                    help='do not generate a form that meets a bug already reported (repeatable)')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()
    REPLY_TIMEOUT = args.reply_timeout
    KNOWN[:] = [re.compile(k) for k in args.known]
    DIRTY_BEFORE_DEMOTE = args.dirty_before_demote
    if not args.binary and not (args.plain and args.tiered):
        ap.error('give --plain and --tiered, or --binary')
    if args.seed is None:
        args.seed = random.randrange(1, 1 << 30)
    protocols = [2, 3] if args.resp == 'both' else [int(args.resp)]
    out_dir = args.out_dir or os.getcwd()

    servers = Servers(args)
    failures = 0
    runs = 0
    started = time.time()
    totals = {'steps': 0, 'ok': 0, 'already': 0, 'refused': 0, 'gone': 0, 'known': 0}
    known_seen = set()
    try:
        jobs = []
        if args.replay:
            with open(args.replay, encoding='utf-8') as f:
                saved = json.load(f)
            jobs = [(saved['meta']['seed'], saved['meta']['protocol'], saved['steps'])]
        n = 0
        while True:
            if args.replay:
                if n >= len(jobs):
                    break
                seed, protocol, steps = jobs[n]
            else:
                if args.time:
                    if time.time() - started > args.time and n >= len(protocols):
                        break
                elif n >= args.sequences * len(protocols):
                    break
                seed = args.seed + n // len(protocols)
                protocol = protocols[n % len(protocols)]
                steps = sequence(args, seed, protocol)
            n += 1
            runs += 1
            found = execute(steps, servers.plain_addr, servers.tiered_addr, protocol)
            for k, v in execute.stats.items():
                totals[k] += v
            totals['known'] += len(execute.known)
            for k in execute.known:
                if k.split('\n')[0] not in known_seen:
                    known_seen.add(k.split('\n')[0])
                    if args.verbose:
                        sys.stderr.write('[tier-diff] known difference (seed %d RESP%d): %s\n' % (seed, protocol, k))
            totals['steps'] += len(steps) if not found else found[0] + 1
            if args.verbose:
                sys.stderr.write('[tier-diff] seed %d RESP%d: %d steps, %s\n' % (
                    seed, protocol, len(steps), 'DIFFERS' if found else 'same'))
            if not found:
                continue
            failures += 1
            path = os.path.join(out_dir, 'tier-differential-%d-resp%d.json' % (seed, protocol))
            dump_steps(path, {'seed': seed, 'protocol': protocol, 'failure': found}, steps)
            print('DIFFERENCE (seed %d, RESP%d, step %d of %d, %s):\n  %s\n  sequence: %s' % (
                seed, protocol, found[0] + 1, len(steps), found[1], found[2].replace('\n', '\n  '), path))
            if found[1] == 'FATAL':
                out = b''
                if servers.managed:
                    out = servers.stop()
                    servers.start()
                    print('  server output (tail):\n' + out[-3000:].decode('latin-1'))
            if not args.no_shrink and (servers.managed or found[1] != 'FATAL'):
                small, failure, replays = shrink(servers, steps, protocol, found, args.shrink_time)
                dump_steps(path + '.min', {'seed': seed, 'protocol': protocol, 'failure': failure}, small)
                print('  shrunk in %d replays (%s.min):' % (replays, path))
                print_repro(small, failure, protocol, path + '.min.txt')
            sys.stdout.flush()
            if failures >= args.max_failures:
                break
            if not servers.alive():
                if not servers.managed:
                    break
                servers.restart()
        try:
            info = servers.info_flash()
        except Fatal:
            info = {}
        bad = {k: info.get(k) for k in ('flash_checksum_errors', 'flash_read_failures', 'flash_read_errors',
                                          'flash_write_errors') if info.get(k, '0') != '0'}
        print('tier differential: %d sequences, %d steps, seed %d, %.1f s; demotions after steps: %d (%d already '
              'cold, %d refused); INFO flash: promotions %s, sync promotions %s, blocked commands %s, '
              'demotions %s%s' % (
                  runs, totals['steps'], args.seed, time.time() - started, totals['ok'], totals['already'],
                  totals['refused'], info.get('flash_promotions'), info.get('flash_sync_promotions'),
                  info.get('flash_blocked_commands'), info.get('flash_demotions'),
                  '; BAD COUNTERS %s' % bad if bad else ''))
        if totals['known']:
            print('tier differential: %d known differences (--known) stepped over' % totals['known'])
        if bad and not totals['known']:
            failures += 1
    finally:
        out = servers.stop()
        for m in SANITIZER_MARKS:
            if m in out:
                print('sanitizer/crash report in a server log:\n%s' % out[out.find(m) - 200:][:6000].decode('latin-1'))
                failures += 1
                break
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
