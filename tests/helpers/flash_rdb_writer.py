#!/usr/bin/env python3
"""Writes an RDB file as Valkey 8 saves it with the valkey-flash module loaded, for
tests/integration/flash-migrate.tcl (the migration loader in src/flash_migrate.c).

  flash_rdb_writer.py FILE [--now-ms MS] [--corrupt KIND]

The file is RDB version 11 with a CRC64 (Jones) trailer. It holds, in database 0, a
native string and valkey-flash values (RDB_TYPE_MODULE_2) of the four module types,
with and without TTLs, in every form the module has written; in database 1 one more
flash string; and two MODULE_AUX records of flashstr1 (before and after the keys), as
the module's aux_save writes them. See DATASET below for the exact keys; TTLs are
absolute Unix milliseconds counted from --now-ms (default: the current time).

--corrupt KIND replaces the value of key "fs:plain" (or adds a key) with a damaged
value; the file stays otherwise valid, checksum included. KIND is one of CORRUPTIONS.

Everything is laid out by hand from the format facts (lengths, string encodings, LZF,
module ids and opcodes), independently of the server's own writer.
"""
import math
import os
import struct
import sys
import time

# ---- RDB primitives --------------------------------------------------------------

# CRC-64/Jones of the file: the same one rdb_gen.py (the native RDB fixture writer) uses.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdb_gen import crc64  # noqa: E402

OP_MODULE_AUX, OP_AUX, OP_RESIZEDB, OP_EXPIRETIME_MS, OP_SELECTDB, OP_EOF = 247, 250, 251, 252, 254, 255
TYPE_STRING, TYPE_MODULE_2 = 0, 7
MOD_EOF, MOD_SINT, MOD_UINT, MOD_FLOAT, MOD_DOUBLE, MOD_STRING = 0, 1, 2, 3, 4, 5
MODULE_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
AUX_BEFORE_RDB, AUX_AFTER_RDB = 1, 2


def length(n):
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def lzf_compress(data):
    """A small LZF compressor (greedy, 3-byte hash): literal runs of up to 32 bytes
    (control byte len-1) and back references (len-2 in the top 3 bits or an extra
    byte, 13-bit offset-1)."""
    out, lit, i, seen = bytearray(), bytearray(), 0, {}

    def flush():
        for k in range(0, len(lit), 32):
            chunk = lit[k:k + 32]
            out.append(len(chunk) - 1)
            out.extend(chunk)
        lit.clear()

    while i < len(data):
        ref = seen.get(data[i:i + 3]) if i + 3 <= len(data) else None
        if i + 3 <= len(data):
            seen[data[i:i + 3]] = i
        if ref is not None and i - ref - 1 < 8192:
            n = 3
            while i + n < len(data) and n < 264 and data[ref + n] == data[i + n]:
                n += 1
            flush()
            off = i - ref - 1
            if n - 2 < 7:
                out.append(((n - 2) << 5) | (off >> 8))
            else:
                out.append((7 << 5) | (off >> 8))
                out.append(n - 2 - 7)
            out.append(off & 0xFF)
            i += n
        else:
            lit.append(data[i])
            i += 1
    flush()
    return bytes(out)


def rdb_string(v):
    """A string as rdbSaveRawString writes it: small canonical integers as integers,
    longer strings LZF-compressed when that saves bytes, the rest raw."""
    b = v if isinstance(v, bytes) else str(v).encode()
    if 0 < len(b) <= 11:
        try:
            n = int(b)
        except ValueError:
            n = None
        if n is not None and str(n).encode() == b:
            if -(1 << 7) <= n < 1 << 7:
                return b"\xc0" + struct.pack("<b", n)
            if -(1 << 15) <= n < 1 << 15:
                return b"\xc1" + struct.pack("<h", n)
            if -(1 << 31) <= n < 1 << 31:
                return b"\xc2" + struct.pack("<i", n)
    if len(b) > 20:
        c = lzf_compress(b)
        if len(c) + 4 < len(b):
            return b"\xc3" + length(len(c)) + length(len(b)) + c
    return length(len(b)) + b


def module_id(name, encver):
    assert len(name) == 9
    mid = 0
    for ch in name:
        mid = (mid << 6) | MODULE_CHARSET.index(ch)
    return (mid << 10) | encver


# ---- Module items (what RedisModule_Save* write) ----------------------------------

def m_uint(n):
    return length(MOD_UINT) + length(n)


def m_int(n):
    """SaveSigned: the two's complement, written as an unsigned number."""
    return m_uint(n & 0xFFFFFFFFFFFFFFFF)


def m_str(v):
    return length(MOD_STRING) + rdb_string(v)


def m_double(d):
    return length(MOD_DOUBLE) + struct.pack("<d", d)


def u32(n):
    return struct.pack("<I", n)


def blob_str(v):
    b = v if isinstance(v, bytes) else str(v).encode()
    return u32(len(b)) + b


# ---- valkey-flash values -------------------------------------------------------------

SHAPES = {"flashstr1": 1, "flashhsh1": 2, "flashlst1": 3, "flashzst1": 4}
NO_TTL = -1


def flash_header(shape, ttl):
    return m_uint(1) + m_uint(shape) + m_int(ttl)


def flash_string(value, ttl=NO_TTL):
    return flash_header(1, ttl) + m_str(value)


def hash_blob(pairs):
    return u32(len(pairs)) + b"".join(blob_str(f) + blob_str(v) for f, v in pairs)


def flash_hash(pairs, ttl=NO_TTL):
    return flash_header(2, ttl) + m_str(hash_blob(pairs))


def flash_list(items, ttl=NO_TTL, blob=False):
    if blob:  # early 1.0 builds
        return flash_header(3, ttl) + m_str(u32(len(items)) + b"".join(blob_str(e) for e in items))
    return flash_header(3, ttl) + m_uint(len(items)) + b"".join(m_str(e) for e in items)


def flash_zset(pairs, ttl=NO_TTL, blob=False):
    if blob:  # early builds
        body = u32(len(pairs)) + b"".join(struct.pack("<d", s) + blob_str(m) for s, m in pairs)
        return flash_header(4, ttl) + m_str(body)
    return flash_header(4, ttl) + m_uint(len(pairs)) + b"".join(m_double(s) + m_str(m) for s, m in pairs)


def module_value(type_name, payload, encver=1):
    return length(module_id(type_name, encver)) + payload + length(MOD_EOF)


def module_aux(type_name, when, payload):
    return (bytes([OP_MODULE_AUX]) + length(module_id(type_name, 1)) + length(MOD_UINT) + length(when) +
            payload + length(MOD_EOF))


def key_entry(rdbtype, name, value, expire_ms=None):
    out = b""
    if expire_ms is not None:
        out += bytes([OP_EXPIRETIME_MS]) + struct.pack("<q", expire_ms)
    return out + bytes([rdbtype]) + rdb_string(name) + value


def flash_key(name, type_name, payload, expire_ms=None, encver=1):
    return key_entry(TYPE_MODULE_2, name, module_value(type_name, payload, encver), expire_ms)


def aux_field(k, v):
    return bytes([OP_AUX]) + rdb_string(k) + rdb_string(v)


# ---- The dataset ---------------------------------------------------------------------

HOUR = 3600 * 1000


def dataset(now):
    """(db, key bytes) in file order. The Tcl test asserts each of these."""
    big_hash = [(f"field:{i}", f"value:{i}") for i in range(600)]
    big_list = [f"item-{i}" for i in range(1000)]
    big_zset = [(i * 0.5, f"member:{i}") for i in range(200)]
    db0 = [
        key_entry(TYPE_STRING, "native:str", rdb_string("plain value")),
        # A small number stored as text (not integer-encoded) with an expire: the
        # loader must not write the expire into a shared integer object.
        key_entry(TYPE_STRING, "native:raw-int", length(1) + b"5", now + HOUR),
        flash_key("fs:plain", "flashstr1", flash_string("hello world")),
        flash_key("fs:int", "flashstr1", flash_string("12345")),
        flash_key("fs:small-int", "flashstr1", flash_string("7", now + HOUR), now + HOUR),
        flash_key("fs:lzf", "flashstr1", flash_string("compress me " * 20)),
        flash_key("fs:empty", "flashstr1", flash_string("")),
        flash_key("fs:binary", "flashstr1", flash_string(b"\x00\x01\xff bin")),
        # As Valkey writes them: the native expire opcode and the module's own ttl.
        flash_key("fs:ttl", "flashstr1", flash_string("with ttl", now + HOUR), now + HOUR),
        # Only the module's ttl field: it becomes the key's expire.
        flash_key("fs:ttl-field", "flashstr1", flash_string("ttl in field", now + 2 * HOUR)),
        # Both, differing (a native EXPIRE after FLASH.SET): the opcode wins.
        flash_key("fs:opcode-wins", "flashstr1", flash_string("x", now + 5 * HOUR), now + 3 * HOUR),
        # Past TTLs, in the field only and in both: skipped as expired.
        flash_key("fs:past-field", "flashstr1", flash_string("gone", now - 1000)),
        flash_key("fs:past", "flashstr1", flash_string("gone", now - 1000), now - 1000),
        flash_key("fh:small", "flashhsh1", flash_hash([("f1", "v1"), ("f2", "2"), (b"bin\x00", b"\xff")], now + HOUR),
                  now + HOUR),
        flash_key("fh:big", "flashhsh1", flash_hash(big_hash)),
        flash_key("fh:long-value", "flashhsh1", flash_hash([("f", "v" * 100)])),
        flash_key("fh:empty", "flashhsh1", flash_hash([])),
        flash_key("fh:past", "flashhsh1", flash_hash([("a", "b")], now - 5000)),
        flash_key("fl:small", "flashlst1", flash_list(["a", "b", "3", "c"])),
        flash_key("fl:big", "flashlst1", flash_list(big_list)),
        flash_key("fl:blob", "flashlst1", flash_list(["x", "y", "z"], blob=True)),
        flash_key("fl:ttl", "flashlst1", flash_list(["t"], now + HOUR)),
        flash_key("fl:empty", "flashlst1", flash_list([])),
        flash_key("fz:small", "flashzst1", flash_zset([(-2.0, "b"), (1.5, "a"), (math.inf, "c")])),
        flash_key("fz:big", "flashzst1", flash_zset(big_zset)),
        flash_key("fz:blob", "flashzst1", flash_zset([(1.0, "one"), (2.0, "two")], blob=True)),
        flash_key("fz:ttl", "flashzst1", flash_zset([(0.25, "q")], now + HOUR)),
    ]
    db1 = [flash_key("fs:db1", "flashstr1", flash_string("in db 1"))]
    return db0, db1


def corrupt_entry(kind, now):
    """A damaged value stored at key "bad"."""
    if kind == "hash-truncated":  # claims 3 pairs, holds 2
        blob = u32(3) + blob_str("a" * 20) + blob_str("1") + blob_str("b") + blob_str("2")
        return flash_key("bad", "flashhsh1", flash_header(2, NO_TTL) + m_str(blob))
    if kind == "hash-trailing":
        return flash_key("bad", "flashhsh1", flash_header(2, NO_TTL) + m_str(hash_blob([("a", "1")]) + b"zz"))
    if kind == "hash-duplicate":
        return flash_key("bad", "flashhsh1", flash_hash([("a", "1"), ("a", "2")]))
    if kind == "bad-shape":  # a hash shape tag in a flashstr1 value
        return flash_key("bad", "flashstr1", flash_header(2, NO_TTL) + m_str("x"))
    if kind == "bad-opcode":  # a double where the string value should be
        return flash_key("bad", "flashstr1", flash_header(1, NO_TTL) + m_double(1.0))
    if kind == "bad-encver":
        return flash_key("bad", "flashstr1", flash_string("x"), encver=2)
    if kind == "negative-ttl":
        return flash_key("bad", "flashstr1", flash_string("x", -5))
    if kind == "nan-score":
        return flash_key("bad", "flashzst1", flash_zset([(math.nan, "m")]))
    if kind == "zset-duplicate":
        return flash_key("bad", "flashzst1", flash_zset([(1.0, "m"), (2.0, "m")]))
    if kind == "list-huge-count":  # a count the file cannot hold
        return flash_key("bad", "flashlst1", flash_header(3, NO_TTL) + m_uint(1 << 40) + m_str("a"))
    if kind == "unconsumed":  # an extra item after the value
        return flash_key("bad", "flashstr1", flash_string("x") + m_uint(9))
    if kind == "unknown-module":
        return flash_key("bad", "otherthg1", m_uint(1))
    raise SystemExit(f"unknown corruption {kind}; one of: {', '.join(CORRUPTIONS)}")


CORRUPTIONS = ["hash-truncated", "hash-trailing", "hash-duplicate", "bad-shape", "bad-opcode", "bad-encver",
               "negative-ttl", "nan-score", "zset-duplicate", "list-huge-count", "unconsumed", "unknown-module"]


def build(now, corrupt=None):
    db0, db1 = dataset(now)
    if corrupt:
        db0.append(corrupt_entry(corrupt, now))
    body = b"REDIS0011"
    for k, v in (("valkey-ver", "8.0.2"), ("redis-ver", "7.2.4"), ("redis-bits", "64"), ("ctime", str(now // 1000)),
                 ("used-mem", "1048576"), ("aof-base", "0")):
        body += aux_field(k, v)
    # flashstr1's aux_save: an opaque bincode blob before the keys, another after.
    body += module_aux("flashstr1", AUX_BEFORE_RDB, m_str(b"FLSX\x01" + b"\x00" * 40 + b"/var/lib/flash.bin"))
    for dbid, entries in ((0, db0), (1, db1)):
        body += bytes([OP_SELECTDB]) + length(dbid)
        body += bytes([OP_RESIZEDB]) + length(len(entries)) + length(0)
        body += b"".join(entries)
    body += module_aux("flashstr1", AUX_AFTER_RDB, m_str(b"FLSX\x01" + struct.pack("<QQ", now, 0)))
    body += bytes([OP_EOF])
    return body + struct.pack("<Q", crc64(body))


def main(argv):
    args = argv[1:]
    if not args or args[0].startswith("-"):
        raise SystemExit(__doc__)
    out, now, corrupt = args[0], int(time.time() * 1000), None
    rest = args[1:]
    while rest:
        opt = rest.pop(0)
        if opt == "--now-ms" and rest:
            now = int(rest.pop(0))
        elif opt == "--corrupt" and rest:
            corrupt = rest.pop(0)
        else:
            raise SystemExit(__doc__)
    with open(out, "wb") as f:
        f.write(build(now, corrupt))


if __name__ == "__main__":
    main(sys.argv)
