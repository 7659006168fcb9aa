#!/usr/bin/env python3
"""Writes and checks a data set of deterministic, incompressible values (standard library
only), for the tiering tests that need far more data than maxmemory
(tests/integration/tiering-dataset.tcl).

Every value is derived from its key name alone (SHAKE-256 of the name, as many bytes as the
value is long), so a check needs nothing but the key names: it reads every key back
(pipelined) and compares what it got with the value its name gives.

  write  --port P --keys N --size BYTES [--format key:%d] [--mix M]
         SETs keys 0..N-1 in pipelined batches; with --mix M, also M hashes (16 fields of
         64 bytes), M lists (32 elements of 48 bytes) and M sorted sets (24 members with
         scores from the name).
  check  the same options: reads everything back (MGET of --mget keys, HGETALL, LRANGE,
         ZRANGE WITHSCORES) and counts the values that differ or are missing.
--clients connections share the work (each takes every n-th key), and a side connection
samples INFO memory every 20 ms: the largest used_memory, used_memory less
mem_not_counted_for_evict (what maxmemory limits), and used_memory_rss seen.

Both print one line of JSON: {"keys":..., "seconds":..., "bad":..., "first_bad":[...],
"max_used_memory":..., "max_used_memory_counted":..., "max_rss":..., "errors":...,
"first_error":...}. Error replies
(OOM, a cold value that could not be read) are counted, never fatal.
Exit status: 0, or 1 when something was bad or an error reply came back.
"""

import argparse
import hashlib
import json
import re
import socket
import sys
import threading
import time


def value_of(name, size):
    return hashlib.shake_256(name).digest(size)


def encode(args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)


class Conn(object):
    """A minimal RESP2 client: bulk strings, integers, errors, flat and nested arrays."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(1 << 22)
        if not data:
            raise EOFError('connection closed by the server')
        if self.pos > (1 << 20):
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b'\r\n', self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def read(self):
        line = self._line()
        t = line[:1]
        if t == b'+':
            return line[1:]
        if t == b'-':
            return Error(line[1:].decode('latin-1'))
        if t == b':':
            return int(line[1:])
        if t == b'$':
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) - self.pos < n + 2:
                self._fill()
            data = bytes(self.buf[self.pos:self.pos + n])
            self.pos += n + 2
            return data
        if t == b'*':
            n = int(line[1:])
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError('unexpected reply %r' % line[:60])

    def call(self, *args):
        self.send(encode(args))
        return self.read()


class Error(str):
    pass


def info_fields(conn, section):
    text = conn.call('INFO', section).decode('latin-1')
    return dict(l.split(':', 1) for l in text.splitlines() if ':' in l and not l.startswith('#'))


# --------------------------------------------------------------------------- the data set

def hash_fields(name):
    return [(b'f%d' % i, value_of(name + b'/f%d' % i, 64)) for i in range(16)]


def list_elements(name):
    return [value_of(name + b'/%d' % i, 48) for i in range(32)]


def zset_members(name):
    out = []
    for i in range(24):
        member = b'm%d:' % i + value_of(name + b'/m%d' % i, 8).hex().encode()
        score = int.from_bytes(value_of(name + b'/s%d' % i, 4), 'little') % 1000000
        out.append((member, score))
    return out


def commands(args):
    """Yields (write command, read command, expected reply) for the whole data set."""
    for i in range(args.keys):
        name = (args.format % i).encode()
        value = value_of(name, args.size)
        yield [b'SET', name, value], [b'GET', name], value
    for i in range(args.mix):
        name = b'hash:%d' % i
        fields = hash_fields(name)
        yield [b'HSET', name] + [x for pair in fields for x in pair], [b'HGETALL', name], \
            ('pairs', sorted(fields))
        name = b'list:%d' % i
        elements = list_elements(name)
        yield [b'RPUSH', name] + elements, [b'LRANGE', name, b'0', b'-1'], elements
        name = b'zset:%d' % i
        members = zset_members(name)
        expected = []
        for member, score in sorted(members, key=lambda ms: (ms[1], ms[0])):
            expected += [member, str(score).encode()]
        flat = []
        for member, score in members:
            flat += [str(score).encode(), member]
        yield [b'ZADD', name] + flat, [b'ZRANGE', name, b'0', b'-1', b'WITHSCORES'], expected


def same(reply, expected):
    if isinstance(expected, tuple) and expected[0] == 'pairs':
        if not isinstance(reply, list):
            return False
        return sorted(zip(reply[0::2], reply[1::2])) == expected[1]
    return reply == expected


class Worker(object):
    """One connection writing or checking its share of the data set."""

    def __init__(self, args, mode, result, lock):
        self.conn = Conn(args.host, args.port)
        self.args = args
        self.mode = mode
        self.result = result
        self.lock = lock
        self.batch = []

    def add(self, write, read, expected):
        self.batch.append((write if self.mode == 'write' else read, expected))
        if len(self.batch) >= self.args.batch:
            self.flush()

    def flush(self):
        if not self.batch:
            return
        # Checks: the GETs of a batch go as MGETs of --mget keys (a command's cold keys are
        # read in one batch; pipelined commands of one client are served one at a time).
        sent = []
        strings = [(c, e) for c, e in self.batch if c[0] == b'GET']
        others = [(c, e) for c, e in self.batch if c[0] != b'GET']
        for i in range(0, len(strings), self.args.mget):
            group = strings[i:i + self.args.mget]
            sent.append(([b'MGET'] + [c[1] for c, _ in group], group))
        for c, e in others:
            sent.append((c, [(c, e)]))
        self.conn.send(b''.join(encode(c) for c, _ in sent))
        outcome = []
        for c, group in sent:
            reply = self.conn.read()
            if c[0] == b'MGET' and isinstance(reply, list):
                outcome += [(gc, r, e) for (gc, e), r in zip(group, reply)]
            else:
                outcome += [(gc, reply, e) for gc, e in group]
        with self.lock:
            for c, reply, expected in outcome:
                self.result['keys'] += 1
                if isinstance(reply, Error):
                    self.result['errors'] += 1
                    if self.result['first_error'] is None:
                        self.result['first_error'] = '%s %s: %s' % (
                            c[0].decode(), c[1].decode('latin-1'), reply)
                elif self.mode == 'check' and not same(reply, expected):
                    self.result['bad'] += 1
                    if len(self.result['first_bad']) < 5:
                        self.result['first_bad'].append(c[1].decode('latin-1'))
        self.batch = []


def run(args, mode):
    side = Conn(args.host, args.port)
    result = {'mode': mode, 'keys': 0, 'bad': 0, 'first_bad': [], 'errors': 0, 'first_error': None,
              'max_used_memory': 0, 'max_used_memory_counted': 0, 'max_rss': 0}
    lock = threading.Lock()
    started = time.time()
    done = threading.Event()

    def sample():
        fields = info_fields(side, 'memory')
        used = int(fields['used_memory'])
        counted = used - int(fields.get('mem_not_counted_for_evict', 0))
        result['max_used_memory'] = max(result['max_used_memory'], used)
        result['max_used_memory_counted'] = max(result['max_used_memory_counted'], counted)
        result['max_rss'] = max(result['max_rss'], int(fields['used_memory_rss']))

    def sampler():
        while not done.wait(0.02):
            sample()

    workers = [Worker(args, mode, result, lock) for _ in range(args.clients)]
    failures = []

    def work(index):
        try:
            w = workers[index]
            for n, (write, read, expected) in enumerate(commands(args)):
                if n % args.clients == index:
                    w.add(write, read, expected)
            w.flush()
        except Exception as e:  # reported, and the run fails
            failures.append('%s: %s' % (type(e).__name__, e))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(args.clients)]
    watcher = threading.Thread(target=sampler)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watcher.join()
    sample()
    result['seconds'] = round(time.time() - started, 2)
    if failures:
        result['errors'] += len(failures)
        result['first_error'] = result['first_error'] or failures[0]
    print(json.dumps(result))
    return 0 if result['bad'] == 0 and result['errors'] == 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('mode', choices=['write', 'check'])
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--keys', type=int, required=True)
    ap.add_argument('--size', type=int, default=1024)
    ap.add_argument('--format', default='key:%d', help='key names (printf format of the index)')
    ap.add_argument('--mix', type=int, default=0, help='hashes, lists and sorted sets (each)')
    ap.add_argument('--batch', type=int, default=500, help='commands per pipelined batch')
    ap.add_argument('--mget', type=int, default=50, help='(check) keys per MGET')
    ap.add_argument('--clients', type=int, default=4, help='connections working side by side')
    args = ap.parse_args()
    if not re.search(r'%0?\d*d', args.format):
        ap.error('--format needs a %d')
    sys.exit(run(args, args.mode))


if __name__ == '__main__':
    main()
