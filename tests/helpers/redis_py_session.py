"""A session of string and key commands through redis-py, used unchanged against our server
by tests/unit/clients-python.tcl.

usage: python3 redis_py_session.py HOST PORT DB

Prints "ok <check>" or "skip <check>: <reason>" per check; on the first failed check prints
"FAIL <check>: <details>" and exits 1. Exits 0 when every check passed or was skipped.
"""

import sys

import redis


class CheckFailed(Exception):
    pass


def expect(actual, expected, what):
    if actual != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {actual!r}")


def check_strings(r):
    expect(r.set("foo", "bar"), True, "SET")
    expect(r.get("foo"), "bar", "GET")
    expect(r.get("missing"), None, "GET missing")
    expect(r.set("foo", "baz", nx=True), None, "SET NX on an existing key")
    expect(r.set("foo", "baz", xx=True), True, "SET XX")
    expect(r.getset("foo", "qux"), "baz", "GETSET")
    expect(r.append("foo", "!"), 4, "APPEND")
    expect(r.strlen("foo"), 4, "STRLEN")
    expect(r.getrange("foo", 0, 1), "qu", "GETRANGE")
    expect(r.setrange("foo", 1, "UU"), 4, "SETRANGE")
    expect(r.get("foo"), "qUU!", "GET after SETRANGE")
    expect(r.mset({"a": "1", "b": "2", "c": "3"}), True, "MSET")
    expect(r.mget("a", "b", "missing", "c"), ["1", "2", None, "3"], "MGET")
    expect(r.msetnx({"a": "9", "d": "4"}), False, "MSETNX with an existing key")
    expect(r.setnx("e", "5"), True, "SETNX")
    expect(r.setnx("e", "6"), False, "SETNX on an existing key")
    expect(r.getdel("e"), "5", "GETDEL")
    expect(r.exists("e"), 0, "EXISTS after GETDEL")


def check_counters(r):
    expect(r.incr("counter"), 1, "INCR")
    expect(r.incrby("counter", 10), 11, "INCRBY")
    expect(r.decr("counter"), 10, "DECR")
    expect(r.decrby("counter", 4), 6, "DECRBY")
    expect(r.incrbyfloat("float", 1.5), 1.5, "INCRBYFLOAT")
    expect(r.incrbyfloat("float", 0.25), 1.75, "INCRBYFLOAT again")
    r.set("text", "abc")
    try:
        r.incr("text")
    except redis.ResponseError as err:
        expect("not an integer" in str(err), True, "INCR on text raises: " + str(err))
    else:
        raise CheckFailed("INCR on a non-integer did not raise")


def check_expiry(r):
    r.set("ttl", "v")
    expect(r.ttl("ttl"), -1, "TTL without expiry")
    expect(r.ttl("missing"), -2, "TTL of a missing key")
    expect(r.expire("ttl", 100), True, "EXPIRE")
    ttl = r.ttl("ttl")
    if not 98 <= ttl <= 100:
        raise CheckFailed(f"TTL after EXPIRE 100 is {ttl}")
    pttl = r.pttl("ttl")
    if not 98000 <= pttl <= 100000:
        raise CheckFailed(f"PTTL after EXPIRE 100 is {pttl}")
    expect(r.persist("ttl"), True, "PERSIST")
    expect(r.ttl("ttl"), -1, "TTL after PERSIST")
    expect(r.setex("sx", 50, "v"), True, "SETEX")
    if not 48 <= r.ttl("sx") <= 50:
        raise CheckFailed("TTL after SETEX 50")
    expect(r.psetex("psx", 50000, "v"), True, "PSETEX")
    expect(r.pexpire("psx", 0), True, "PEXPIRE 0 deletes")
    expect(r.exists("psx"), 0, "EXISTS after PEXPIRE 0")
    expect(r.expireat("sx", 4000000000), True, "EXPIREAT")
    expect(r.getex("sx", persist=True), "v", "GETEX PERSIST")
    expect(r.ttl("sx"), -1, "TTL after GETEX PERSIST")


def check_keys(r):
    r.set("k1", "v1")
    expect(r.exists("k1", "k1", "nope"), 2, "EXISTS counts repeats")
    expect(r.type("k1"), "string", "TYPE")
    expect(r.type("nope"), "none", "TYPE of a missing key")
    expect(r.rename("k1", "k2"), True, "RENAME")
    expect(r.get("k2"), "v1", "GET after RENAME")
    r.set("k3", "v3")
    expect(r.renamenx("k2", "k3"), False, "RENAMENX onto an existing key")
    expect(r.delete("k2", "k3", "nope"), 2, "DEL")
    expect(r.unlink("nope"), 0, "UNLINK of a missing key")
    try:
        r.rename("nope", "x")
    except redis.ResponseError as err:
        expect(str(err), "no such key", "RENAME of a missing key")
    else:
        raise CheckFailed("RENAME of a missing key did not raise")


def check_scan(r):
    r.flushdb()
    expected = {f"key:{i}" for i in range(200)}
    r.mset({key: "x" for key in expected})
    r.set("other", "y")
    found = set(r.scan_iter(match="key:*", count=17))
    expect(found, expected, "SCAN with MATCH through scan_iter")
    expect(set(r.scan_iter()), expected | {"other"}, "SCAN of everything")
    expect(r.dbsize(), 201, "DBSIZE")
    expect(sorted(r.keys("key:1?")), sorted(f"key:{i}" for i in range(10, 20)), "KEYS")
    expect(r.randomkey() in expected | {"other"}, True, "RANDOMKEY")


def check_pipeline(r):
    with r.pipeline(transaction=False) as pipe:
        pipe.set("p", 1).incr("p").incrby("p", 5).get("p").delete("p").get("p")
        expect(pipe.execute(), [True, 2, 7, "7", 1, None], "pipeline results")
    with r.pipeline(transaction=False) as pipe:
        for i in range(500):
            pipe.set(f"bulk:{i}", i)
        results = pipe.execute()
        expect(results, [True] * 500, "500 pipelined SETs")
    expect(r.get("bulk:499"), "499", "GET after a pipeline")


def check_binary(binary):
    payload = bytes(range(256)) * 4
    expect(binary.set(b"bin\x00key", payload), True, "SET binary")
    expect(binary.get(b"bin\x00key"), payload, "GET binary")
    expect(binary.strlen(b"bin\x00key"), 1024, "STRLEN binary")
    expect(binary.setbit("bits", 7, 1), 0, "SETBIT")
    expect(binary.getbit("bits", 7), 1, "GETBIT")
    expect(binary.bitcount("bits"), 1, "BITCOUNT")
    expect(binary.get("bits"), b"\x01", "bits as bytes")


def check_resp3(host, port, db):
    major = int(redis.__version__.split(".")[0])
    if major < 5:
        return f"redis-py {redis.__version__} has no protocol=3 (needs 5.0)"
    r3 = redis.Redis(host=host, port=port, db=db, protocol=3, decode_responses=True)
    expect(r3.set("r3", "v"), True, "SET over RESP3")
    expect(r3.get("r3"), "v", "GET over RESP3")
    expect(r3.get("missing"), None, "GET missing over RESP3")
    expect(r3.incrbyfloat("r3f", 2.5), 2.5, "INCRBYFLOAT over RESP3")
    return None


def main():
    host, port, db = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    r = redis.Redis(host=host, port=port, db=db, decode_responses=True)
    binary = redis.Redis(host=host, port=port, db=db)
    r.flushdb()
    checks = [
        ("strings", lambda: check_strings(r)),
        ("counters", lambda: check_counters(r)),
        ("expiry", lambda: check_expiry(r)),
        ("keys", lambda: check_keys(r)),
        ("scan", lambda: check_scan(r)),
        ("pipeline", lambda: check_pipeline(r)),
        ("binary", lambda: check_binary(binary)),
        ("resp3", lambda: check_resp3(host, port, db)),
    ]
    for name, run in checks:
        try:
            skipped = run()
        except (CheckFailed, redis.RedisError) as err:
            print(f"FAIL {name}: {type(err).__name__}: {err}")
            return 1
        if skipped:
            print(f"skip {name}: {skipped}")
        else:
            print(f"ok {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
