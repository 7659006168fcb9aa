/* t_set.h -- the set type (OBJ_SET) for other subsystems: SORT, persistence, DEBUG.
 *
 * A set is stored in one of three encodings:
 *   OBJ_ENCODING_INTSET    an intset (intset.h): every member is an integer, and there
 *                          are at most set-max-intset-entries of them;
 *   OBJ_ENCODING_LISTPACK  a listpack (listpack.h) of members, unsorted: at most
 *                          set-max-listpack-entries members of at most
 *                          set-max-listpack-value bytes each;
 *   OBJ_ENCODING_HT        a hashtable (hashtable.h) whose entries are sds members
 *                          owned by the table.
 * Adding converts a set to a bigger encoding when a limit is crossed; removing never
 * converts back. The functions below keep those rules, so callers never look at the
 * encoding except to read the raw blobs (RDB saves intsets and listpacks as they are).
 *
 * Members are passed as bytes (str, len). Functions with an `Aux` suffix also take an
 * integer member: str == NULL means the member is `llval` (what intsets and listpacks
 * hand out); str_is_sds says str is an sds, which spares a copy for hashtable lookups.
 */
#ifndef T_SET_H
#define T_SET_H

#include <stddef.h>
#include <stdint.h>

#include "hashtable.h"
#include "object.h"
#include "sds.h"

/* The set-max-* directives. */
typedef struct {
    size_t max_intset_entries;   /* set-max-intset-entries */
    size_t max_listpack_entries; /* set-max-listpack-entries */
    size_t max_listpack_value;   /* set-max-listpack-value */
} setConfig;
extern setConfig set_config;

/* Creation. New objects have refcount 1 and no key. */
robj *createSetObject(void);         /* empty, hashtable encoded */
robj *createIntsetObject(void);      /* empty, intset encoded */
robj *createSetListpackObject(void); /* empty, listpack encoded */
/* The smallest encoding fit for about size_hint members, the first being `value`
 * (used to tell whether an intset can do): what SADD creates. */
robj *setTypeCreate(const char *value, size_t len, size_t size_hint);
/* Wraps a blob that passed intsetValidateIntegrity / lpValidateIntegrity (RDB loading).
 * The object takes ownership of the blob. */
robj *setTypeCreateFromIntset(void *is);
robj *setTypeCreateFromListpack(unsigned char *lp);

/* Members. Add returns 1 when added, 0 when already present; Remove 1 when removed. */
int setTypeAdd(robj *set, const char *str, size_t len);
int setTypeAddAux(robj *set, const char *str, size_t len, int64_t llval, int str_is_sds);
/* Adds a member whose sds the set takes over (RDB loading): no copy when the set is a
 * hashtable. The sds is freed when it is not kept. */
int setTypeAddSds(robj *set, sds member);
int setTypeRemove(robj *set, const char *str, size_t len);
int setTypeRemoveAux(robj *set, const char *str, size_t len, int64_t llval, int str_is_sds);
int setTypeIsMember(robj *set, const char *str, size_t len);
int setTypeIsMemberAux(robj *set, const char *str, size_t len, int64_t llval, int str_is_sds);
unsigned long setTypeSize(const robj *set);

/* Encoding changes. Convert goes up (to OBJ_ENCODING_LISTPACK from an intset, or to
 * OBJ_ENCODING_HT from either), expanding a new hashtable for `capacity` members.
 * SADD calls setTypeMaybeConvert with its argument count before adding. */
void setTypeConvert(robj *set, int encoding);
void setTypeConvertAndExpand(robj *set, int encoding, size_t capacity);
void setTypeMaybeConvert(robj *set, size_t size_hint);
/* An intset again when every member is an integer and there are few enough. */
void setTypeMaybeConvertToIntset(robj *set);

/* A deep copy (same encoding), refcount 1, no key. */
robj *setTypeDup(const robj *set);

/* Iteration. The iterator lives on the caller's stack; the set must not be modified
 * until setTypeResetIterator(). setTypeNext returns the set's encoding, or -1 at the
 * end, and gives either a string (*str, *len; an sds for OBJ_ENCODING_HT) or, with
 * *str == NULL, an integer (*llval). */
typedef struct {
    robj *subject;
    int encoding;
    uint32_t ii;          /* intset: next position */
    unsigned char *lpi;   /* listpack: next element, NULL at the end */
    hashtableIterator hi; /* hashtable */
} setTypeIterator;
void setTypeInitIterator(setTypeIterator *si, robj *set);
int setTypeNext(setTypeIterator *si, char **str, size_t *len, int64_t *llval);
sds setTypeNextObject(setTypeIterator *si); /* a new sds, or NULL at the end */
void setTypeResetIterator(setTypeIterator *si);

/* One random member (without removing it), same output convention as setTypeNext. */
int setTypeRandomElement(robj *set, char **str, size_t *len, int64_t *llval);

/* The hashtable type of hashtable-encoded sets (entries: sds members). */
extern hashtableType setHashtableType;

#endif
