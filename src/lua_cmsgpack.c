/* lua_cmsgpack.c -- the `cmsgpack` library of scripts: MessagePack encoding of Lua
 * values.
 *
 *   cmsgpack.pack(v1, v2, ...)             -> the encodings of the values, concatenated
 *   cmsgpack.unpack(s)                     -> every value encoded in s
 *   cmsgpack.unpack_one(s [, offset])      -> next offset, the first value at offset
 *   cmsgpack.unpack_limit(s, n [, offset]) -> next offset, up to n values
 * Offsets are 0-based byte positions; the next offset is -1 once s is consumed.
 *
 * Encoding: nil; booleans; numbers with an exact 64-bit integer value as the smallest
 * MessagePack integer, others as float32 when that is exact, else float64; strings as
 * fixstr/str8/str16/str32; a table whose keys are exactly 1..n is an array, any other
 * table a map (empty tables are empty arrays). Tables nested deeper than
 * CMSGPACK_MAX_NESTING (cycles included) and values of other types encode as nil.
 * Decoding accepts all of the above plus bin8/16/32 (as strings); extension types and
 * truncated input are errors.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "script_lua.h"
#include "zmalloc.h"

#define CMSGPACK_MAX_NESTING 16
/* Decoding recursion limit: deeper input is refused rather than overflowing the stack. */
#define CMSGPACK_MAX_DECODE_DEPTH 1000

/* ------------------------------------------------------------------------- */
/* Encoding                                                                   */
/* ------------------------------------------------------------------------- */

/* The output grows in a plain C buffer: a luaL_Buffer would need the Lua stack to stay
 * untouched while encoding, and walking tables uses the stack. Nothing here raises a Lua
 * error, so the buffer cannot leak through a longjmp. */
typedef struct mpBuffer {
    unsigned char *data;
    size_t len, cap;
} mpBuffer;

static void bufAppend(mpBuffer *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n) cap *= 2;
        b->data = zrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void bufByte(mpBuffer *b, unsigned char c) {
    bufAppend(b, &c, 1);
}

static void putBigEndian(mpBuffer *b, unsigned char head, uint64_t v, int bytes) {
    unsigned char out[9];
    out[0] = head;
    for (int i = 0; i < bytes; i++) out[1 + i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    bufAppend(b, out, (size_t)bytes + 1);
}

static void encodeInteger(mpBuffer *b, int64_t n) {
    if (n >= 0) {
        uint64_t u = (uint64_t)n;
        if (u <= 0x7f) bufByte(b, (unsigned char)u);
        else if (u <= 0xff) putBigEndian(b, 0xcc, u, 1);
        else if (u <= 0xffff) putBigEndian(b, 0xcd, u, 2);
        else if (u <= 0xffffffffULL) putBigEndian(b, 0xce, u, 4);
        else putBigEndian(b, 0xcf, u, 8);
    } else {
        if (n >= -32) bufByte(b, (unsigned char)(int8_t)n);
        else if (n >= INT8_MIN) putBigEndian(b, 0xd0, (uint64_t)n, 1);
        else if (n >= INT16_MIN) putBigEndian(b, 0xd1, (uint64_t)n, 2);
        else if (n >= INT32_MIN) putBigEndian(b, 0xd2, (uint64_t)n, 4);
        else putBigEndian(b, 0xd3, (uint64_t)n, 8);
    }
}

static void encodeNumber(mpBuffer *b, lua_Number n) {
    if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 && n == floor(n)) {
        encodeInteger(b, (int64_t)n);
        return;
    }
    float f = (float)n;
    if ((double)f == (double)n) {
        uint32_t bits;
        memcpy(&bits, &f, sizeof(bits));
        putBigEndian(b, 0xca, bits, 4);
    } else {
        double d = (double)n;
        uint64_t bits;
        memcpy(&bits, &d, sizeof(bits));
        putBigEndian(b, 0xcb, bits, 8);
    }
}

static void encodeLengthHeader(mpBuffer *b, size_t len, unsigned char fix, size_t fix_max, unsigned char h8,
                               unsigned char h16, unsigned char h32) {
    if (len <= fix_max) bufByte(b, (unsigned char)(fix | len));
    else if (h8 && len <= 0xff) putBigEndian(b, h8, len, 1);
    else if (len <= 0xffff) putBigEndian(b, h16, len, 2);
    else putBigEndian(b, h32, len, 4);
}

/* 1 when the table at top has exactly the keys 1..n (n its number of keys). */
static int tableIsArray(lua_State *L, size_t *count) {
    size_t n = 0;
    lua_Number max = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) {
            lua_pop(L, 1);
            return 0;
        }
        lua_Number k = lua_tonumber(L, -1);
        if (k <= 0 || k != floor(k)) {
            lua_pop(L, 1);
            return 0;
        }
        if (k > max) max = k;
        n++;
    }
    *count = n;
    return max == (lua_Number)n;
}

static void encodeValue(lua_State *L, mpBuffer *b, int level);

/* The table at top is encoded (left on the stack). */
static void encodeTable(lua_State *L, mpBuffer *b, int level) {
    size_t n;
    if (tableIsArray(L, &n)) {
        encodeLengthHeader(b, n, 0x90, 15, 0, 0xdc, 0xdd);
        for (size_t j = 1; j <= n; j++) {
            lua_rawgeti(L, -1, (int)j);
            encodeValue(L, b, level + 1);
        }
        return;
    }
    n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        n++;
    }
    encodeLengthHeader(b, n, 0x80, 15, 0, 0xde, 0xdf);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        encodeValue(L, b, level + 1); /* the key (a copy: lua_next needs the original) */
        encodeValue(L, b, level + 1); /* the value */
    }
}

/* Encodes the value at top and pops it. */
static void encodeValue(lua_State *L, mpBuffer *b, int level) {
    switch (lua_type(L, -1)) {
    case LUA_TBOOLEAN: bufByte(b, lua_toboolean(L, -1) ? 0xc3 : 0xc2); break;
    case LUA_TNUMBER: encodeNumber(b, lua_tonumber(L, -1)); break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        encodeLengthHeader(b, len, 0xa0, 31, 0xd9, 0xda, 0xdb);
        bufAppend(b, s, len);
        break;
    }
    case LUA_TTABLE:
        if (level < CMSGPACK_MAX_NESTING && lua_checkstack(L, 4)) {
            encodeTable(L, b, level);
            break;
        }
        bufByte(b, 0xc0); /* too deep */
        break;
    default: bufByte(b, 0xc0); break;
    }
    lua_pop(L, 1);
}

static int cmsgpackPack(lua_State *L) {
    int argc = lua_gettop(L);
    if (argc == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    mpBuffer b = {NULL, 0, 0};
    for (int j = 1; j <= argc; j++) {
        lua_pushvalue(L, j);
        encodeValue(L, &b, 0);
    }
    lua_pushlstring(L, (const char *)b.data, b.len);
    zfree(b.data);
    return 1;
}

/* ------------------------------------------------------------------------- */
/* Decoding                                                                   */
/* ------------------------------------------------------------------------- */

typedef struct mpCursor {
    const unsigned char *p;
    size_t left;
    const char *err; /* set on failure */
} mpCursor;

#define MP_ERR_MISSING "Missing bytes in input."
#define MP_ERR_BADFMT "Bad data format in input."

static int need(mpCursor *c, size_t n) {
    if (c->left < n) {
        c->err = MP_ERR_MISSING;
        return 0;
    }
    return 1;
}

static uint64_t readBigEndian(mpCursor *c, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = (v << 8) | c->p[i];
    c->p += bytes;
    c->left -= (size_t)bytes;
    return v;
}

static void decodeValue(lua_State *L, mpCursor *c, int depth);

static void decodeString(lua_State *L, mpCursor *c, size_t len) {
    if (!need(c, len)) return;
    lua_pushlstring(L, (const char *)c->p, len);
    c->p += len;
    c->left -= len;
}

static void decodeArray(lua_State *L, mpCursor *c, size_t n, int depth) {
    lua_createtable(L, n < 1024 ? (int)n : 0, 0);
    for (size_t j = 1; j <= n && !c->err; j++) {
        decodeValue(L, c, depth + 1);
        if (c->err) return;
        lua_rawseti(L, -2, (int)j);
    }
}

static void decodeMap(lua_State *L, mpCursor *c, size_t n, int depth) {
    lua_createtable(L, 0, n < 1024 ? (int)n : 0);
    for (size_t j = 0; j < n && !c->err; j++) {
        decodeValue(L, c, depth + 1);
        if (c->err) return;
        decodeValue(L, c, depth + 1);
        if (c->err) return;
        if (lua_isnil(L, -2)) lua_pop(L, 2); /* a nil key cannot be stored */
        else lua_rawset(L, -3);
    }
}

/* Pushes one decoded value; on error c->err is set and what was pushed is irrelevant. */
static void decodeValue(lua_State *L, mpCursor *c, int depth) {
    if (depth > CMSGPACK_MAX_DECODE_DEPTH || !lua_checkstack(L, 4)) {
        c->err = MP_ERR_BADFMT;
        return;
    }
    if (!need(c, 1)) return;
    unsigned char t = *c->p++;
    c->left--;
    if (t <= 0x7f) {
        lua_pushnumber(L, t);
    } else if (t >= 0xe0) {
        lua_pushnumber(L, (int8_t)t);
    } else if ((t & 0xf0) == 0x80) {
        decodeMap(L, c, t & 0x0f, depth);
    } else if ((t & 0xf0) == 0x90) {
        decodeArray(L, c, t & 0x0f, depth);
    } else if ((t & 0xe0) == 0xa0) {
        decodeString(L, c, t & 0x1f);
    } else {
        switch (t) {
        case 0xc0: lua_pushnil(L); break;
        case 0xc2: lua_pushboolean(L, 0); break;
        case 0xc3: lua_pushboolean(L, 1); break;
        case 0xc4:
        case 0xd9:
            if (need(c, 1)) decodeString(L, c, (size_t)readBigEndian(c, 1));
            break;
        case 0xc5:
        case 0xda:
            if (need(c, 2)) decodeString(L, c, (size_t)readBigEndian(c, 2));
            break;
        case 0xc6:
        case 0xdb:
            if (need(c, 4)) decodeString(L, c, (size_t)readBigEndian(c, 4));
            break;
        case 0xca:
            if (need(c, 4)) {
                uint32_t bits = (uint32_t)readBigEndian(c, 4);
                float f;
                memcpy(&f, &bits, sizeof(f));
                lua_pushnumber(L, (lua_Number)f);
            }
            break;
        case 0xcb:
            if (need(c, 8)) {
                uint64_t bits = readBigEndian(c, 8);
                double d;
                memcpy(&d, &bits, sizeof(d));
                lua_pushnumber(L, (lua_Number)d);
            }
            break;
        case 0xcc:
            if (need(c, 1)) lua_pushnumber(L, (lua_Number)readBigEndian(c, 1));
            break;
        case 0xcd:
            if (need(c, 2)) lua_pushnumber(L, (lua_Number)readBigEndian(c, 2));
            break;
        case 0xce:
            if (need(c, 4)) lua_pushnumber(L, (lua_Number)readBigEndian(c, 4));
            break;
        case 0xcf:
            if (need(c, 8)) lua_pushnumber(L, (lua_Number)readBigEndian(c, 8));
            break;
        case 0xd0:
            if (need(c, 1)) lua_pushnumber(L, (lua_Number)(int8_t)readBigEndian(c, 1));
            break;
        case 0xd1:
            if (need(c, 2)) lua_pushnumber(L, (lua_Number)(int16_t)readBigEndian(c, 2));
            break;
        case 0xd2:
            if (need(c, 4)) lua_pushnumber(L, (lua_Number)(int32_t)readBigEndian(c, 4));
            break;
        case 0xd3:
            if (need(c, 8)) lua_pushnumber(L, (lua_Number)(int64_t)readBigEndian(c, 8));
            break;
        case 0xdc:
            if (need(c, 2)) decodeArray(L, c, (size_t)readBigEndian(c, 2), depth);
            break;
        case 0xdd:
            if (need(c, 4)) decodeArray(L, c, (size_t)readBigEndian(c, 4), depth);
            break;
        case 0xde:
            if (need(c, 2)) decodeMap(L, c, (size_t)readBigEndian(c, 2), depth);
            break;
        case 0xdf:
            if (need(c, 4)) decodeMap(L, c, (size_t)readBigEndian(c, 4), depth);
            break;
        default: c->err = MP_ERR_BADFMT; break;
        }
    }
}

/* Decodes up to limit values (0: all) from offset; with a limit, the next offset comes
 * first in the results. */
static int unpackValues(lua_State *L, int limit, int offset) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", offset, (int)len);
    if ((size_t)offset > len) return luaL_error(L, "Start offset %d greater than input length %d.", offset, (int)len);
    mpCursor c = {(const unsigned char *)s + offset, len - (size_t)offset, NULL};
    int base = lua_gettop(L), count = 0;
    while (c.left > 0 && (limit == 0 || count < limit)) {
        decodeValue(L, &c, 0);
        if (c.err) {
            lua_settop(L, base);
            return luaL_error(L, "%s", c.err);
        }
        count++;
    }
    if (limit == 0) return count;
    lua_pushnumber(L, c.left == 0 ? -1 : (lua_Number)(len - c.left));
    lua_insert(L, base + 1);
    return count + 1;
}

static int cmsgpackUnpack(lua_State *L) {
    return unpackValues(L, 0, 0);
}

static int cmsgpackUnpackOne(lua_State *L) {
    int offset = (int)luaL_optinteger(L, 2, 0);
    lua_settop(L, 1);
    return unpackValues(L, 1, offset);
}

static int cmsgpackUnpackLimit(lua_State *L) {
    int limit = (int)luaL_checkinteger(L, 2);
    int offset = (int)luaL_optinteger(L, 3, 0);
    lua_settop(L, 1);
    return unpackValues(L, limit, offset);
}

int luaopen_cmsgpack(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"pack", cmsgpackPack},
        {"unpack", cmsgpackUnpack},
        {"unpack_one", cmsgpackUnpackOne},
        {"unpack_limit", cmsgpackUnpackLimit},
        {NULL, NULL},
    };
    lua_newtable(L);
    luaL_register(L, NULL, functions);
    lua_pushliteral(L, "lua-cmsgpack");
    lua_setfield(L, -2, "_NAME");
    return 1;
}
