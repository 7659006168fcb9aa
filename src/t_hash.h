/* t_hash.h -- the hash type (OBJ_HASH) for code outside t_hash.c: SORT BY/GET, RDB and
 * AOF persistence, DEBUG DIGEST, tiering.
 *
 * A hash is stored in one of two encodings:
 *   OBJ_ENCODING_LISTPACK  field, value, field, value... in one listpack (small hashes);
 *   OBJ_ENCODING_HT        a hashtable whose entries each hold one field and its value
 *                          in a single allocation (see t_hash.c).
 * A hash starts as a listpack and becomes a hashtable for good when it gets more than
 * hash-max-listpack-entries fields or a field or value longer than
 * hash-max-listpack-value bytes.
 *
 * Fields are passed as sds (the hashtable compares them as such). Fields and values are
 * read without copying, as a hashTypeItem whose bytes point into
 * the hash (or into the item itself for a number stored as an integer in a listpack).
 * They stay valid until the hash is modified.
 */
#ifndef T_HASH_H
#define T_HASH_H

#include <stddef.h>
#include "hashtable.h"
#include "object.h"
#include "sds.h"
#include "util.h"

/* A field or a value read from a hash. Use str/len; buf is where a listpack integer is
 * printed, so an item must not be copied while its str is in use. */
typedef struct hashTypeItem {
    const char *str;
    size_t len;
    char buf[LONG_STR_SIZE];
} hashTypeItem;

/* Iterator over the field/value pairs, in storage order. The hash must not be modified
 * while an iterator is open (lookups are fine). May live on the stack. */
typedef struct hashTypeIterator {
    robj *subject;
    unsigned char *next;      /* listpack: the next field to return, NULL at the end */
    hashtableIterator ht_iter; /* hashtable encoding */
} hashTypeIterator;

/* Creation. A new hash is an empty listpack; callers add fields with hashTypeSet(). */
robj *createHashObject(void);
/* Wraps a listpack of field/value pairs (already validated, e.g. by the RDB loader; the
 * object takes it) and converts it when it is over the listpack limits. */
robj *createHashObjectFromListpack(unsigned char *lp);

unsigned long hashTypeLength(const robj *o);
/* 1 and *value when the field exists, else 0. */
int hashTypeGetValue(robj *o, sds field, hashTypeItem *value);
/* The value as a new string object, or NULL when the field does not exist. */
robj *hashTypeGetValueObject(robj *o, sds field);
int hashTypeExists(robj *o, sds field);

/* Sets field to value (both copied), converting the encoding as Valkey does. Returns 1
 * when the field existed (its value was replaced), 0 when it was added. */
int hashTypeSet(robj *o, sds field, const char *value, size_t vlen);
/* Removes a field: 1 if it existed. The caller deletes the key when the hash is empty. */
int hashTypeDelete(robj *o, sds field);

/* Converts a listpack hash to OBJ_ENCODING_HT (the only conversion there is). */
void hashTypeConvert(robj *o, int encoding);
/* Bulk loading: makes room for `fields` more fields (converting when they would not fit
 * a listpack), so a loader can add them without rehashing. */
void hashTypeReserve(robj *o, unsigned long fields);
/* For the RDB loader after filling a listpack: converts if over the limits. */
void hashTypeConvertIfOverLimits(robj *o);
/* The limits, as configured (hash-max-listpack-entries / -value). */
size_t hashTypeMaxListpackEntries(void);
size_t hashTypeMaxListpackValue(void);

void hashTypeInitIterator(robj *o, hashTypeIterator *hi);
/* Advances to the next pair: 1 with *field (and *value unless NULL) filled, 0 at the end. */
int hashTypeNext(hashTypeIterator *hi, hashTypeItem *field, hashTypeItem *value);
void hashTypeResetIterator(hashTypeIterator *hi);

/* Called at start-up (server.c): directives and object procs of the hash type. */
void hashTypeRegister(void);

#endif
