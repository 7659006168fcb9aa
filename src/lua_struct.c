/* lua_struct.c -- the `struct` library of scripts: packing Lua values into binary
 * strings and back, driven by a format string.
 *
 *   struct.pack(fmt, v1, v2, ...)   -> string
 *   struct.unpack(fmt, s [, pos])   -> v1, v2, ..., next position (1-based)
 *   struct.size(fmt)                -> bytes a pack with fmt produces
 *
 * Format characters:
 *   >  big endian          <  little endian        =  native endian
 *   ![n] align items to min(their size, n) (n a power of 2; default: the platform's
 *        natural alignment); alignment is off until the first '!'
 *   x  one zero byte       b/B  signed/unsigned char     h/H  short      l/L  long
 *   T  size_t              i/I[n]  int of n bytes (default sizeof(int), at most 32)
 *   f  float               d  double
 *   s  zero-terminated string
 *   c[n] n characters; c0 packs the whole string and, when unpacking, takes its length
 *        from the number unpacked just before
 *   spaces are ignored.
 * Integers are Lua numbers converted through a 64-bit integer; unpacking an integer of
 * more than 8 bytes requires the extra bytes to be a sign extension.
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "script_lua.h"

#define STRUCT_MAX_INT_SIZE 32
#define STRUCT_BIG 0
#define STRUCT_LITTLE 1

/* The platform's natural alignment: that of the most demanding basic type. */
struct structAlignProbe {
    char c;
    union {
        double d;
        void *p;
        lua_Number n;
        long l;
    } u;
};
#define STRUCT_NATIVE_ALIGN (offsetof(struct structAlignProbe, u))

typedef struct structState {
    int endian;
    int align;
} structState;

static int nativeEndian(void) {
    const uint16_t probe = 1;
    return *(const uint8_t *)&probe ? STRUCT_LITTLE : STRUCT_BIG;
}

/* Digits after an option, or dflt when there are none. */
static int readCount(lua_State *L, const char **fmt, int dflt) {
    if (!isdigit((unsigned char)**fmt)) return dflt;
    int n = 0;
    while (isdigit((unsigned char)**fmt)) {
        int digit = *(*fmt)++ - '0';
        if (n > (INT_MAX - digit) / 10) luaL_error(L, "integral size overflow");
        n = n * 10 + digit;
    }
    return n;
}

static int intSize(lua_State *L, const char **fmt) {
    int size = readCount(L, fmt, (int)sizeof(int));
    if (size > STRUCT_MAX_INT_SIZE)
        luaL_error(L, "integral size %d is larger than limit of %d", size, STRUCT_MAX_INT_SIZE);
    return size;
}

/* Size of the item an option describes (0 for control characters and 's'). */
static size_t optionSize(lua_State *L, char opt, const char **fmt) {
    switch (opt) {
    case 'B':
    case 'b':
    case 'x': return 1;
    case 'H':
    case 'h': return sizeof(short);
    case 'L':
    case 'l': return sizeof(long);
    case 'T': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'c': return (size_t)readCount(L, fmt, 1);
    case 'i':
    case 'I': return (size_t)intSize(L, fmt);
    default: return 0;
    }
}

static size_t paddingFor(size_t offset, structState *st, char opt, size_t size) {
    if (size == 0 || opt == 'c') return 0;
    size_t align = size > (size_t)st->align ? (size_t)st->align : size;
    return (align - (offset & (align - 1))) & (align - 1);
}

/* Applies control options; returns 1 when opt was one. */
static int controlOption(lua_State *L, char opt, const char **fmt, structState *st) {
    switch (opt) {
    case ' ': return 1;
    case '>': st->endian = STRUCT_BIG; return 1;
    case '<': st->endian = STRUCT_LITTLE; return 1;
    case '=': st->endian = nativeEndian(); return 1;
    case '!': {
        int a = readCount(L, fmt, (int)STRUCT_NATIVE_ALIGN);
        if (a <= 0 || (a & (a - 1)) != 0) luaL_error(L, "alignment %d is not a power of 2", a);
        st->align = a;
        return 1;
    }
    default: return 0;
    }
}

static void structInit(structState *st) {
    st->endian = nativeEndian();
    st->align = 1;
}

static void packInteger(lua_State *L, luaL_Buffer *b, int arg, int endian, size_t size) {
    lua_Number n = luaL_checknumber(L, arg);
    uint64_t v;
    if (n >= 18446744073709551616.0 || n <= -9223372036854775809.0 || n != n) v = 0;
    else if (n < 0) v = (uint64_t)(int64_t)n;
    else v = (uint64_t)n;
    unsigned char buf[STRUCT_MAX_INT_SIZE];
    /* Beyond 8 bytes, the sign extends. */
    unsigned char fill = (n < 0) ? 0xff : 0x00;
    for (size_t i = 0; i < size; i++) {
        unsigned char byte = i < 8 ? (unsigned char)(v >> (8 * i)) : fill;
        buf[endian == STRUCT_LITTLE ? i : size - 1 - i] = byte;
    }
    luaL_addlstring(b, (const char *)buf, size);
}

static void addBytes(luaL_Buffer *b, const void *p, size_t size, int endian) {
    const unsigned char *s = p;
    if (endian == nativeEndian()) {
        luaL_addlstring(b, (const char *)s, size);
        return;
    }
    for (size_t i = 0; i < size; i++) luaL_addchar(b, (char)s[size - 1 - i]);
}

static int structPack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    structState st;
    structInit(&st);
    int arg = 2;
    size_t total = 0;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    while (*fmt) {
        char opt = *fmt++;
        if (controlOption(L, opt, &fmt, &st)) continue;
        size_t size = optionSize(L, opt, &fmt);
        size_t pad = paddingFor(total, &st, opt, size);
        total += pad;
        while (pad--) luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b':
        case 'B':
        case 'h':
        case 'H':
        case 'l':
        case 'L':
        case 'T':
        case 'i':
        case 'I': packInteger(L, &b, arg++, st.endian, size); break;
        case 'x': luaL_addchar(&b, '\0'); break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            addBytes(&b, &f, sizeof(f), st.endian);
            break;
        }
        case 'd': {
            double d = (double)luaL_checknumber(L, arg++);
            addBytes(&b, &d, sizeof(d), st.endian);
            break;
        }
        case 'c':
        case 's': {
            size_t len;
            const char *s = luaL_checklstring(L, arg, &len);
            if (opt == 's') {
                size = len + 1;
            } else if (size == 0) {
                size = len;
            }
            luaL_argcheck(L, len >= (opt == 's' ? len : size), arg, "string too short");
            luaL_addlstring(&b, s, opt == 's' ? len : size);
            if (opt == 's') luaL_addchar(&b, '\0');
            arg++;
            break;
        }
        default: return luaL_error(L, "invalid format option '%c'", opt);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

static lua_Number unpackInteger(lua_State *L, const unsigned char *p, int endian, size_t size, int is_signed) {
    uint64_t v = 0;
    size_t low = size < 8 ? size : 8;
    for (size_t i = 0; i < low; i++) {
        unsigned char byte = p[endian == STRUCT_LITTLE ? i : size - 1 - i];
        v |= (uint64_t)byte << (8 * i);
    }
    if (size < 8) {
        if (is_signed && size > 0) {
            uint64_t sign = (uint64_t)1 << (size * 8 - 1);
            v = (v ^ sign) - sign;
        }
    } else {
        /* Extra bytes must only repeat the sign. */
        unsigned char fill = (is_signed && (int64_t)v < 0) ? 0xff : 0x00;
        for (size_t i = 8; i < size; i++) {
            if (p[endian == STRUCT_LITTLE ? i : size - 1 - i] != fill)
                luaL_error(L, "%d-byte integer does not fit into Lua Integer", (int)size);
        }
    }
    return is_signed ? (lua_Number)(int64_t)v : (lua_Number)v;
}

static void readBytes(void *dst, const unsigned char *p, size_t size, int endian) {
    unsigned char *d = dst;
    if (endian == nativeEndian()) {
        memcpy(d, p, size);
        return;
    }
    for (size_t i = 0; i < size; i++) d[i] = p[size - 1 - i];
}

static int structUnpack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    size_t len;
    const unsigned char *data = (const unsigned char *)luaL_checklstring(L, 2, &len);
    lua_Number start = luaL_optnumber(L, 3, 1);
    luaL_argcheck(L, start >= 1, 3, "offset must be 1 or greater");
    size_t pos = (size_t)start - 1;
    int results = 0;
    structState st;
    structInit(&st);
    while (*fmt) {
        char opt = *fmt++;
        if (controlOption(L, opt, &fmt, &st)) continue;
        size_t size = optionSize(L, opt, &fmt);
        pos += paddingFor(pos, &st, opt, size);
        luaL_argcheck(L, pos <= len && size <= len - pos, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b':
        case 'h':
        case 'l':
        case 'i': lua_pushnumber(L, unpackInteger(L, data + pos, st.endian, size, 1)); break;
        case 'B':
        case 'H':
        case 'L':
        case 'T':
        case 'I': lua_pushnumber(L, unpackInteger(L, data + pos, st.endian, size, 0)); break;
        case 'x': break;
        case 'f': {
            float f;
            readBytes(&f, data + pos, sizeof(f), st.endian);
            lua_pushnumber(L, (lua_Number)f);
            break;
        }
        case 'd': {
            double d;
            readBytes(&d, data + pos, sizeof(d), st.endian);
            lua_pushnumber(L, (lua_Number)d);
            break;
        }
        case 'c':
            if (size == 0) {
                if (results == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
                lua_Number n = lua_tonumber(L, -1);
                lua_pop(L, 1);
                results--;
                luaL_argcheck(L, n >= 0 && n <= (lua_Number)(len - pos), 2, "data string too short");
                size = (size_t)n;
            }
            lua_pushlstring(L, (const char *)data + pos, size);
            break;
        case 's': {
            const unsigned char *end = memchr(data + pos, '\0', len - pos);
            if (end == NULL) luaL_error(L, "unfinished string in data");
            size = (size_t)(end - (data + pos)) + 1;
            lua_pushlstring(L, (const char *)data + pos, size - 1);
            break;
        }
        default: return luaL_error(L, "invalid format option '%c'", opt);
        }
        if (opt != 'x') results++;
        pos += size;
    }
    lua_pushnumber(L, (lua_Number)pos + 1);
    return results + 1;
}

static int structSize(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    structState st;
    structInit(&st);
    size_t total = 0;
    while (*fmt) {
        char opt = *fmt++;
        if (controlOption(L, opt, &fmt, &st)) continue;
        size_t size = optionSize(L, opt, &fmt);
        if (opt == 's' || (opt == 'c' && size == 0)) luaL_argerror(L, 1, "options 'c0' - 's' have undefined sizes");
        else if (size == 0) luaL_error(L, "invalid format option '%c'", opt);
        total += paddingFor(total, &st, opt, size) + size;
    }
    lua_pushnumber(L, (lua_Number)total);
    return 1;
}

int luaopen_struct(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"pack", structPack},
        {"unpack", structUnpack},
        {"size", structSize},
        {NULL, NULL},
    };
    lua_newtable(L);
    luaL_register(L, NULL, functions);
    return 1;
}
