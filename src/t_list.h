/* t_list.h -- the list type's interface for the rest of the server (RDB loading,
 * DEBUG, RESTORE): its configuration, object creation and encoding conversions.
 *
 * A list is a listpack while it is small and a quicklist once it outgrows one
 * quicklist node (list-max-listpack-size); it goes back to a listpack when it
 * shrinks to half of that. The commands live in t_list.c.
 */
#ifndef T_LIST_H
#define T_LIST_H

#include "object.h"

/* list-max-listpack-size (alias list-max-ziplist-size) and list-compress-depth. */
extern int list_max_listpack_size;
extern int list_compress_depth;

/* Empty list objects (refcount 1, no key) in each encoding. */
robj *createListListpackObject(void);
robj *createQuicklistObject(int fill, int compress);

/* Conversion triggers. AUTO converts a quicklist that fits one listpack back at the
 * full limit (after loading); SHRINKING waits for half the limit, so that a list
 * hovering around the limit does not flip at every push and pop. GROWING only turns
 * a listpack into a quicklist. */
#define LIST_CONV_AUTO 0
#define LIST_CONV_GROWING 1
#define LIST_CONV_SHRINKING 2
void listTypeTryConversion(robj *o, int how);

unsigned long listTypeLength(const robj *o);

#endif
