/* test_object.c - unit tests for the object layout: embedded keys, expire times and
 * values at every sds header boundary, reshaping (attaching a key, adding and removing
 * an expire, re-encoding, unsharing), reference counting and the string helpers.
 *
 * object.c is compiled into this test directly, with the few server functions it calls
 * stubbed below, so the layout code runs without a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../object.c"

/* ---- stubs of the server side ---- */
struct valkeyServer server;
unsigned int LRU_CLOCK(void) {
    return 1234;
}
void _serverAssert(const char *estr, const char *file, int line) {
    fprintf(stderr, "assertion failed: %s (%s:%d)\n", estr, file, line);
    abort();
}
void _serverPanic(const char *file, int line, const char *msg, ...) {
    fprintf(stderr, "panic at %s:%d: %s\n", file, line, msg);
    abort();
}
robj *lookupKeyReadWithFlags(serverDb *db, robj *key, int flags) {
    (void)db, (void)key, (void)flags;
    return NULL;
}
void addReplyNull(client *c) { (void)c; }
void addReplyBulkCString(client *c, const char *s) { (void)c, (void)s; }
void addReplyLongLong(client *c, long long ll) { (void)c, (void)ll; }
void addReplyError(client *c, const char *err) { (void)c, (void)err; }
void addReplyHelp(client *c, const char **help) { (void)c, (void)help; }

/* ---- helpers ---- */

static char *pattern(size_t len, char seed) {
    char *p = malloc(len + 1);
    for (size_t i = 0; i < len; i++) p[i] = (char)(seed + i * 7);
    p[len] = '\0';
    return p;
}

static void assertKey(const robj *o, const char *key, size_t len) {
    sds k = objectGetKey(o);
    assert_non_null(k);
    assert_int_equal(sdslen(k), len);
    assert_memory_equal(k, key, len);
    assert_int_equal(k[len], '\0');
}

static void assertStringValue(const robj *o, const char *val, size_t len) {
    assert_int_equal(o->type, OBJ_STRING);
    if (o->encoding == OBJ_ENCODING_INT) {
        char buf[32];
        int n = ll2string(buf, sizeof(buf), (long)objectGetVal(o));
        assert_int_equal((size_t)n, len);
        assert_memory_equal(buf, val, len);
        return;
    }
    sds v = objectGetVal(o);
    assert_int_equal(sdslen(v), len);
    assert_memory_equal(v, val, len);
    assert_int_equal(v[len], '\0');
}

/* Every layout must fit the allocation it lives in. */
static void assertFits(const robj *o) {
    assert_true(objectUsedSize(o) <= zmalloc_usable_size((void *)o));
}

static const size_t lengths[] = {0, 1, 16, 30, 31, 32, 43, 44, 45, 100, 255, 256, 1000, 70000};
#define NLENGTHS (sizeof(lengths) / sizeof(lengths[0]))

/* ---- tests ---- */

static void test_header_size(void **state) {
    (void)state;
    assert_int_equal(sizeof(robj), 8);
}

static void test_small_entry_is_one_48_byte_allocation(void **state) {
    (void)state;
    server.maxmemory_policy = 0;
    robj *val = createStringObject("0123456789abcdef", 16);
    assert_int_equal(val->encoding, OBJ_ENCODING_EMBSTR);
    sds key = sdsnew("key:000000000001");
    robj *o = objectSetKeyAndExpire(val, key, -1);
#ifdef USE_JEMALLOC
    assert_true(zmalloc_usable_size(o) <= 48);
#else
    /* glibc rounds a 46-byte request to a 56-byte chunk. */
    assert_true(zmalloc_usable_size(o) <= 56);
#endif
    assertKey(o, key, 16);
    assertStringValue(o, "0123456789abcdef", 16);
    assert_int_equal(objectGetExpire(o), -1);
    /* With an expire (54 bytes) it takes the next jemalloc class, 64. */
    o = objectSetExpire(o, 1700000000000LL);
    assert_true(zmalloc_usable_size(o) <= 64);
    assert_int_equal(objectGetExpire(o), 1700000000000LL);
    assertKey(o, key, 16);
    assertStringValue(o, "0123456789abcdef", 16);
    decrRefCount(o);
    sdsfree(key);
}

/* Key length x value length x encoding: attach key, add expire, change it, remove it. */
static void test_layout_all_sizes(void **state) {
    (void)state;
    for (size_t ki = 0; ki < NLENGTHS; ki++) {
        for (size_t vi = 0; vi < NLENGTHS; vi++) {
            size_t klen = lengths[ki], vlen = lengths[vi];
            char *kbytes = pattern(klen, 'a'), *vbytes = pattern(vlen, 'A');
            sds key = sdsnewlen(kbytes, klen);
            robj *o = createStringObject(vbytes, vlen);
            int enc = vlen <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT ? OBJ_ENCODING_EMBSTR : OBJ_ENCODING_RAW;
            assert_int_equal(o->encoding, enc);
            o = objectSetKeyAndExpire(o, key, -1);
            assertFits(o);
            assertKey(o, kbytes, klen);
            assertStringValue(o, vbytes, vlen);
            assert_int_equal(o->encoding, enc);

            o = objectSetExpire(o, 42);
            assertFits(o);
            assert_int_equal(objectGetExpire(o), 42);
            assertKey(o, kbytes, klen);
            assertStringValue(o, vbytes, vlen);

            o = objectSetExpire(o, -5000);
            assert_int_equal(objectGetExpire(o), -5000);
            o = objectSetExpire(o, -1);
            assertFits(o);
            assert_int_equal(o->hasexpire, 0);
            assert_int_equal(objectGetExpire(o), -1);
            assertKey(o, kbytes, klen);
            assertStringValue(o, vbytes, vlen);

            /* Attaching key and expire at once. */
            robj *o2 = objectSetKeyAndExpire(createStringObject(vbytes, vlen), key, 7);
            assertFits(o2);
            assert_int_equal(objectGetExpire(o2), 7);
            assertKey(o2, kbytes, klen);
            assertStringValue(o2, vbytes, vlen);

            decrRefCount(o);
            decrRefCount(o2);
            sdsfree(key);
            free(kbytes);
            free(vbytes);
        }
    }
}

static void test_int_values(void **state) {
    (void)state;
    long long values[] = {0, 1, -1, 9999, 10000, LLONG_MAX, LLONG_MIN};
    sds key = sdsnew("counter");
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        robj *o = createStringObjectFromLongLongForValue(values[i]);
        assert_int_equal(o->encoding, OBJ_ENCODING_INT);
        assert_int_equal(o->refcount, 1);
        o = objectSetKeyAndExpire(o, key, 99);
        assertFits(o);
        assert_int_equal((long)objectGetVal(o), values[i]);
        assertKey(o, "counter", 7);
        assert_int_equal(objectGetExpire(o), 99);
        o = objectSetExpire(o, -1);
        assert_int_equal((long)objectGetVal(o), values[i]);
        decrRefCount(o);
    }
    sdsfree(key);
}

static void test_shared_objects_are_copied(void **state) {
    (void)state;
    createSharedObjects();
    robj *five = createStringObjectFromLongLong(5);
    assert_ptr_equal(five, shared.integers[5]);
    sds key = sdsnew("k");
    robj *o = objectSetKeyAndExpire(five, key, -1);
    assert_ptr_not_equal(o, shared.integers[5]);
    assert_int_equal(o->refcount, 1);
    assert_int_equal((long)objectGetVal(o), 5);
    assert_int_equal(shared.integers[5]->refcount, OBJ_SHARED_REFCOUNT);
    assert_int_equal(shared.integers[5]->haskey, 0);
    decrRefCount(o);

    /* A value referenced elsewhere is copied; the other reference is untouched. */
    robj *v = createRawStringObject("hello world, this is longer than forty-four bytes", 49);
    incrRefCount(v);
    robj *stored = objectSetKeyAndExpire(v, key, 5);
    assert_ptr_not_equal(stored, v);
    assert_int_equal(v->refcount, 1);
    assert_int_equal(v->haskey, 0);
    assertStringValue(v, "hello world, this is longer than forty-four bytes", 49);
    assertStringValue(stored, "hello world, this is longer than forty-four bytes", 49);
    assert_ptr_not_equal(objectGetVal(stored), objectGetVal(v));
    decrRefCount(v);
    decrRefCount(stored);
    sdsfree(key);
}

static void test_rekey(void **state) {
    (void)state;
    sds k1 = sdsnew("first"), k2 = sdsnew("a much longer second key name, over 31 bytes");
    for (size_t vi = 0; vi < NLENGTHS; vi++) {
        char *vbytes = pattern(lengths[vi], '0');
        robj *o = objectSetKeyAndExpire(createStringObject(vbytes, lengths[vi]), k1, 123);
        o = objectSetKeyAndExpire(o, k2, 123);
        assertKey(o, k2, sdslen(k2));
        assertStringValue(o, vbytes, lengths[vi]);
        assert_int_equal(objectGetExpire(o), 123);
        o = objectSetKeyAndExpire(o, k1, -1);
        assertKey(o, k1, sdslen(k1));
        assertStringValue(o, vbytes, lengths[vi]);
        assert_int_equal(objectGetExpire(o), -1);
        /* Same key again: nothing moves. */
        robj *same = objectSetKeyAndExpire(o, k1, -1);
        assert_ptr_equal(same, o);
        decrRefCount(o);
        free(vbytes);
    }
    sdsfree(k1);
    sdsfree(k2);
}

static void test_try_object_encoding(void **state) {
    (void)state;
    server.maxmemory = 0;
    robj *o = tryObjectEncoding(createRawStringObject("12345", 5));
    assert_int_equal(o->encoding, OBJ_ENCODING_INT);
    assert_int_equal((long)objectGetVal(o), 12345);
    decrRefCount(o);

    o = tryObjectEncoding(createStringObject("17", 2));
    assert_ptr_equal(o, shared.integers[17]);

    o = tryObjectEncoding(createRawStringObject("-9223372036854775808", 20));
    assert_int_equal(o->encoding, OBJ_ENCODING_INT);
    assert_int_equal((long)objectGetVal(o), LLONG_MIN);
    decrRefCount(o);

    const char *not_ints[] = {"012", "+1", " 1", "1 ", "9223372036854775808", "", "1.5"};
    for (size_t i = 0; i < sizeof(not_ints) / sizeof(not_ints[0]); i++) {
        o = tryObjectEncoding(createRawStringObject(not_ints[i], strlen(not_ints[i])));
        assert_int_equal(o->encoding, OBJ_ENCODING_EMBSTR);
        assertStringValue(o, not_ints[i], strlen(not_ints[i]));
        decrRefCount(o);
    }

    char *big = pattern(45, 'x');
    o = tryObjectEncoding(createRawStringObject(big, 45));
    assert_int_equal(o->encoding, OBJ_ENCODING_RAW);
    decrRefCount(o);
    free(big);

    /* With a key: encodings change but key and expire stay. */
    sds key = sdsnew("key");
    o = objectSetKeyAndExpire(createRawStringObject("777", 3), key, 55);
    o = tryObjectEncoding(o);
    assert_int_equal(o->encoding, OBJ_ENCODING_INT);
    assertKey(o, "key", 3);
    assert_int_equal(objectGetExpire(o), 55);
    decrRefCount(o);

    o = objectSetKeyAndExpire(createEmbeddedStringObject("888", 3), key, 56);
    o = tryObjectEncoding(o);
    assert_int_equal(o->encoding, OBJ_ENCODING_INT);
    assert_int_equal((long)objectGetVal(o), 888);
    assertKey(o, "key", 3);
    assert_int_equal(objectGetExpire(o), 56);
    decrRefCount(o);

    o = objectSetKeyAndExpire(createRawStringObject("short", 5), key, -1);
    o = tryObjectEncoding(o);
    assert_int_equal(o->encoding, OBJ_ENCODING_EMBSTR);
    assertStringValue(o, "short", 5);
    assertKey(o, "key", 3);
    decrRefCount(o);
    sdsfree(key);
}

static void test_unshare(void **state) {
    (void)state;
    sds key = sdsnew("unshared");
    /* embstr */
    robj *o = objectSetKeyAndExpire(createStringObject("abc", 3), key, 9);
    o = objectUnshareStringValue(o);
    assert_int_equal(o->encoding, OBJ_ENCODING_RAW);
    assertStringValue(o, "abc", 3);
    assertKey(o, "unshared", 8);
    assert_int_equal(objectGetExpire(o), 9);
    objectSetVal(o, sdscat(objectGetVal(o), "def"));
    assertStringValue(o, "abcdef", 6);
    decrRefCount(o);
    /* int */
    o = objectSetKeyAndExpire(createStringObjectFromLongLongForValue(-42), key, -1);
    o = objectUnshareStringValue(o);
    assert_int_equal(o->encoding, OBJ_ENCODING_RAW);
    assertStringValue(o, "-42", 3);
    assertKey(o, "unshared", 8);
    decrRefCount(o);
    /* raw, referenced twice: the keyspace gets its own copy */
    char *big = pattern(100, 'q');
    robj *raw = objectSetKeyAndExpire(createRawStringObject(big, 100), key, -1);
    incrRefCount(raw);
    robj *mine = objectUnshareStringValue(raw);
    assert_ptr_not_equal(mine, raw);
    assert_int_equal(raw->refcount, 1);
    assert_ptr_not_equal(objectGetVal(mine), objectGetVal(raw));
    assertStringValue(mine, big, 100);
    assertKey(mine, "unshared", 8);
    decrRefCount(raw);
    decrRefCount(mine);
    free(big);
    sdsfree(key);
}

static void test_string_helpers(void **state) {
    (void)state;
    robj *a = createStringObject("abc", 3), *b = createStringObject("abd", 3);
    robj *c = createStringObject("ab", 2), *n = createStringObjectFromLongLongForValue(123);
    robj *s123 = createStringObject("123", 3);
    assert_true(compareStringObjects(a, b) < 0);
    assert_true(compareStringObjects(b, a) > 0);
    assert_true(compareStringObjects(c, a) < 0);
    assert_int_equal(compareStringObjects(n, s123), 0);
    assert_true(equalStringObjects(n, s123));
    assert_false(equalStringObjects(a, b));
    assert_int_equal(collateStringObjects(a, a), 0);
    assert_int_equal(stringObjectLen(n), 3);
    assert_int_equal(stringObjectLen(a), 3);

    long long ll;
    assert_int_equal(getLongLongFromObject(s123, &ll), 0);
    assert_int_equal(ll, 123);
    assert_int_equal(getLongLongFromObject(a, &ll), -1);
    double d;
    assert_int_equal(getDoubleFromObject(n, &d), 0);
    assert_true(d == 123.0);

    robj *dec = getDecodedObject(n);
    assert_int_equal(dec->encoding, OBJ_ENCODING_EMBSTR);
    assertStringValue(dec, "123", 3);
    decrRefCount(dec);
    dec = getDecodedObject(a);
    assert_ptr_equal(dec, a);
    assert_int_equal(a->refcount, 2);
    decrRefCount(dec);

    robj *copy = dupStringObject(n);
    assert_int_equal(copy->encoding, OBJ_ENCODING_INT);
    assert_int_equal((long)objectGetVal(copy), 123);
    decrRefCount(copy);

    decrRefCount(a);
    decrRefCount(b);
    decrRefCount(c);
    decrRefCount(n);
    decrRefCount(s123);
}

static void test_names(void **state) {
    (void)state;
    assert_string_equal(strEncoding(OBJ_ENCODING_EMBSTR), "embstr");
    assert_string_equal(strEncoding(OBJ_ENCODING_LISTPACK), "listpack");
    assert_string_equal(strEncoding(OBJ_ENCODING_HT), "hashtable");
    assert_string_equal(typeName(OBJ_ZSET), "zset");
    assert_int_equal(objectTypeByName("HASH"), OBJ_HASH);
    assert_int_equal(objectTypeByName("nope"), -1);
}

static void test_shared_replies(void **state) {
    (void)state;
    assert_string_equal(objectGetVal(shared.ok), "+OK\r\n");
    assert_string_equal(objectGetVal(shared.null[2]), "$-1\r\n");
    assert_string_equal(objectGetVal(shared.null[3]), "_\r\n");
    assert_string_equal(objectGetVal(shared.emptymap[3]), "%0\r\n");
    assert_string_equal(objectGetVal(shared.mbulkhdr[7]), "*7\r\n");
    assert_string_equal(objectGetVal(shared.maphdr[3]), "%3\r\n");
    decrRefCount(shared.ok); /* shared: never freed */
    assert_string_equal(objectGetVal(shared.ok), "+OK\r\n");
}

/* Random sequences of reshaping operations, checked against a model. */
static void test_random_reshaping(void **state) {
    (void)state;
    srandom(12345);
    for (int round = 0; round < 2000; round++) {
        size_t vlen = lengths[random() % NLENGTHS];
        char *vbytes = pattern(vlen, (char)random());
        robj *o = createStringObject(vbytes, vlen);
        size_t klen = lengths[random() % NLENGTHS];
        char *kbytes = pattern(klen, (char)random());
        sds key = sdsnewlen(kbytes, klen);
        long long expire = random() % 2 ? -1 : (long long)random();
        o = objectSetKeyAndExpire(o, key, expire);
        for (int step = 0; step < 8; step++) {
            switch (random() % 4) {
            case 0: expire = random() % 2 ? -1 : (long long)random(); o = objectSetExpire(o, expire); break;
            case 1: o = objectUnshareStringValue(o); break;
            case 2: o = tryObjectEncoding(o); break;
            case 3: {
                sdsfree(key);
                free(kbytes);
                klen = lengths[random() % NLENGTHS];
                kbytes = pattern(klen, (char)random());
                key = sdsnewlen(kbytes, klen);
                o = objectSetKeyAndExpire(o, key, expire);
                break;
            }
            }
            assertFits(o);
            assertKey(o, kbytes, klen);
            assertStringValue(o, vbytes, vlen);
            assert_int_equal(objectGetExpire(o), expire);
        }
        decrRefCount(o);
        sdsfree(key);
        free(kbytes);
        free(vbytes);
    }
}

/* Cold entries (tiering): packed as [header][6-byte location][type-5 key] when the key is
 * under 32 bytes, there is no expire and the location fits in 48 bits; reshaping a packed
 * entry (an expire, another key) keeps its key, location and cold state. */
static void assertColdEntry(const robj *c, const char *key, size_t klen, uint64_t loc, long long expire) {
    assert_true(c->cold);
    assertFits(c);
    assertKey(c, key, klen);
    assert_true(objectColdLocation(c) == loc);
    assert_int_equal(objectGetExpire(c), expire);
}

static void test_packed_cold_entries(void **state) {
    (void)state;
    const uint64_t locs[] = {1, (1ULL << 34) | 12345, OBJ_PACKED_LOC_LIMIT - 1, OBJ_PACKED_LOC_LIMIT,
                             (1ULL << 63) | 77};
    for (size_t klen = 0; klen <= 40; klen++) {
        char *kbytes = pattern(klen, 'a');
        sds key = sdsnewlen(kbytes, klen);
        for (size_t i = 0; i < sizeof(locs) / sizeof(locs[0]); i++) {
            for (int with_expire = 0; with_expire <= 1; with_expire++) {
                long long expire = with_expire ? 1700000000000LL : -1;
                robj *o = objectSetKeyAndExpire(createStringObject("v", 1), key, expire);
                robj *c = objectCreateCold(o, locs[i]);
                decrRefCount(o);
                int packable = klen <= SDS_TYPE_5_MAXLEN && !with_expire && locs[i] < OBJ_PACKED_LOC_LIMIT;
                assert_int_equal(c->packed, packable);
                assertColdEntry(c, kbytes, klen, locs[i], expire);
                if (packable && klen == 16) assert_true(zmalloc_usable_size(c) <= 32);
                if (packable) {
                    objectSetColdLocation(c, locs[i] ^ 0xFFFF);
                    assertColdEntry(c, kbytes, klen, locs[i] ^ 0xFFFF, -1);
                    objectSetColdLocation(c, locs[i]);
                }
                c = objectSetExpire(c, 42);
                assert_false(c->packed);
                assertColdEntry(c, kbytes, klen, locs[i], 42);
                c = objectSetExpire(c, -1);
                assertColdEntry(c, kbytes, klen, locs[i], -1);
                sds other = sdsnew("renamed");
                robj *r = objectCreateCold(c, locs[i]);
                decrRefCount(c);
                r = objectSetKeyAndExpire(r, other, 7);
                assertColdEntry(r, "renamed", 7, locs[i], 7);
                decrRefCount(r);
                sdsfree(other);
            }
        }
        sdsfree(key);
        free(kbytes);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_size),
        cmocka_unit_test(test_small_entry_is_one_48_byte_allocation),
        cmocka_unit_test(test_layout_all_sizes),
        cmocka_unit_test(test_int_values),
        cmocka_unit_test(test_shared_objects_are_copied),
        cmocka_unit_test(test_rekey),
        cmocka_unit_test(test_try_object_encoding),
        cmocka_unit_test(test_unshare),
        cmocka_unit_test(test_string_helpers),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_shared_replies),
        cmocka_unit_test(test_random_reshaping),
        cmocka_unit_test(test_packed_cold_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
