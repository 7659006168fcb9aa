#!/usr/bin/env python3
"""Writes RDB files in formats this server can load but no longer writes, for
tests/integration/rdb.tcl:

  rdb_gen.py legacy  FILE   RDB version 9 (Redis 5 era): ziplists, a zipmap, a linked
                            list, zset scores as text, quicklist v1, EXPIRETIME in
                            seconds, IDLE/FREQ, a MODULE_AUX payload, a FUNCTION2 library,
                            an empty key, several databases
  rdb_gen.py valkey9 FILE   "VALKEY080" with a hash carrying per-field expire times

Every byte is laid out by hand from the format description (lengths, encodings, CRC64
Jones) so the loader is checked against an independent writer.
"""
import struct
import sys
import time

POLY = 0x95AC9329AC4BC9B5  # CRC-64/Jones, reflected
TABLE = []
for i in range(256):
    crc = i
    for _ in range(8):
        crc = (crc >> 1) ^ POLY if crc & 1 else crc >> 1
    TABLE.append(crc)


def crc64(data, crc=0):
    for b in data:
        crc = TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def length(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def as_bytes(v):
    return v if isinstance(v, bytes) else str(v).encode()


def rstr(v):
    b = as_bytes(v)
    return length(len(b)) + b


def rint(v):
    """A string stored as an 8/16/32-bit integer."""
    if -128 <= v <= 127:
        return b"\xc0" + struct.pack("<b", v)
    if -32768 <= v <= 32767:
        return b"\xc1" + struct.pack("<h", v)
    return b"\xc2" + struct.pack("<i", v)


def rlzf(data):
    """An LZF string made of literal runs only (valid for any LZF decoder)."""
    out = bytearray()
    for i in range(0, len(data), 32):
        chunk = data[i:i + 32]
        out.append(len(chunk) - 1)
        out += chunk
    return b"\xc3" + length(len(out)) + length(len(data)) + bytes(out)


def zl_entry(prevlen, value):
    out = bytearray(bytes([prevlen]) if prevlen < 254 else b"\xfe" + struct.pack("<I", prevlen))
    if isinstance(value, int):
        if 0 <= value <= 12:
            out.append(0xF1 + value)
        elif -128 <= value <= 127:
            out += b"\xfe" + struct.pack("<b", value)
        elif -32768 <= value <= 32767:
            out += b"\xc0" + struct.pack("<h", value)
        elif -(1 << 23) <= value < (1 << 23):
            out += b"\xf0" + struct.pack("<i", value)[:3]
        elif -(1 << 31) <= value < (1 << 31):
            out += b"\xd0" + struct.pack("<i", value)
        else:
            out += b"\xe0" + struct.pack("<q", value)
    else:
        b = as_bytes(value)
        n = len(b)
        if n < 64:
            out.append(n)
        elif n < 16384:
            out += bytes([0x40 | (n >> 8), n & 0xFF])
        else:
            out += b"\x80" + struct.pack(">I", n)
        out += b
    return bytes(out)


def ziplist(values):
    entries, prev, last = b"", 0, 10
    for v in values:
        e = zl_entry(prev, v)
        last = 10 + len(entries)
        entries += e
        prev = len(e)
    return struct.pack("<IIH", 10 + len(entries) + 1, last, len(values)) + entries + b"\xff"


def zm_len(n):
    return bytes([n]) if n < 254 else b"\xfe" + struct.pack("<I", n)


def zipmap(pairs):
    out = bytearray([len(pairs)])
    for k, v, free in pairs:
        k, v = as_bytes(k), as_bytes(v)
        out += zm_len(len(k)) + k + zm_len(len(v)) + bytes([free]) + v + b"\0" * free
    out.append(0xFF)
    return bytes(out)


def aux(k, v):
    return b"\xfa" + rstr(k) + rstr(v)


def key(rdbtype, name, payload):
    return bytes([rdbtype]) + rstr(name) + payload


def ms(t):
    return struct.pack("<q", t)


def legacy():
    now_ms = int(time.time() * 1000)
    body = bytearray(b"REDIS0009")
    body += aux("redis-ver", "5.0.7") + aux("redis-bits", "64") + aux("ctime", str(now_ms // 1000))
    body += aux("used-mem", "1000000") + aux("unknown-field", "ignored")
    # MODULE_AUX of a module this server does not have: skipped by walking its opcodes.
    moduleid = (0x123456789 << 10) | 3
    body += b"\xf7" + length(moduleid) + length(2) + length(2)
    body += length(2) + length(77) + length(5) + rstr("abc") + length(4) + struct.pack("<d", 1.5)
    body += length(3) + struct.pack("<f", 2.5) + length(1) + length(5) + length(0)
    body += b"\xf5" + rstr("#!lua name=mylib\nserver.register_function('f', function() return 1 end)")
    body += b"\xfe" + length(0) + b"\xfb" + length(16) + length(3)
    long_item = "y" * 300  # the next ziplist entry needs a 5-byte prevlen
    body += key(10, "l:ziplist", rstr(ziplist(["a", "bb", 12, -300, 70000, -5000000, 5000000000, long_item, "z"])))
    body += key(12, "z:ziplist", rstr(ziplist(["m3", "-7", "m1", "1.5", "m2", 2])))
    body += key(13, "h:ziplist", rstr(ziplist(["f1", "v1", "f2", 12])))
    body += key(9, "h:zipmap", rstr(zipmap([("f1", "v1", 0), ("field2", "value2", 2)])))
    body += key(11, "s:intset", rstr(struct.pack("<II", 2, 3) + struct.pack("<hhh", -5, 1, 100)))
    body += key(1, "l:linked", length(3) + rstr("one") + rint(2) + rlzf(b"a" * 70))
    body += key(3, "z:v1", length(3) + rstr("a") + bytes([3]) + b"1.5" + rstr("b") + b"\xfe" + rstr("c") + b"\xff")
    body += key(14, "l:quicklist1", length(2) + rstr(ziplist(["q1", "q2"])) + rstr(ziplist([3, "q4"])))
    body += b"\xfc" + ms(now_ms + 100000000) + key(4, "h:plain", length(2) + rstr("a") + rstr("1") + rstr("b") + rstr("2"))
    body += b"\xfd" + struct.pack("<i", now_ms // 1000 + 100000) + key(2, "s:plain", length(3) + rstr("x") + rstr("y") + rint(1))
    body += b"\xfc" + ms(now_ms - 100000) + key(0, "gone", rstr("expired"))
    body += b"\xf8" + length(1000) + key(0, "str:idle", rstr("i"))
    body += b"\xf9" + bytes([77]) + key(0, "str:freq", rstr("f"))
    body += key(0, "str:lzf", rlzf(b"compressed " * 10))
    body += key(0, "str:int32", rint(-2000000000))
    body += key(1, "empty:list", length(0))
    body += b"\xfe" + length(5) + key(0, "db5key", rstr("in db 5"))
    body += b"\xff"
    body += struct.pack("<Q", crc64(body))
    return bytes(body)


def valkey9():
    now_ms = int(time.time() * 1000)
    body = bytearray(b"VALKEY080")
    body += aux("valkey-ver", "9.0.0") + aux("redis-bits", "64")
    body += b"\xfe" + length(0)
    fields = [("f1", "v1", -1), ("f2", "v2", now_ms - 100000), ("f3", "v3", now_ms + 100000000)]
    payload = length(len(fields))
    for f, v, t in fields:
        payload += rstr(f) + rstr(v) + ms(t)
    body += key(22, "h2", payload)
    body += key(0, "s", rstr("v9 string"))
    body += b"\xff"
    body += struct.pack("<Q", crc64(body))
    return bytes(body)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("legacy", "valkey9"):
        sys.stderr.write("usage: rdb_gen.py legacy|valkey9 FILE\n")
        sys.exit(2)
    data = legacy() if sys.argv[1] == "legacy" else valkey9()
    with open(sys.argv[2], "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
