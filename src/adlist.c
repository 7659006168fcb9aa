/* adlist.c -- a generic doubly linked list (see adlist.h).
 *
 * Nodes are allocated one per value with zmalloc. The list keeps head, tail and a
 * length so that length, push/pop at either end and unlinking a known node are O(1).
 * Values are freed only through the list's free method, when one is set.
 */
#include "adlist.h"
#include "zmalloc.h"

list *listCreate(void) {
    list *l = zmalloc(sizeof(*l));
    l->head = l->tail = NULL;
    l->len = 0;
    l->dup = NULL;
    l->free = NULL;
    l->match = NULL;
    return l;
}

/* Frees every node (and value, if a free method is set) but keeps the list. */
void listEmpty(list *l) {
    listNode *cur = l->head;
    while (cur) {
        listNode *next = cur->next;
        if (l->free) l->free(cur->value);
        zfree(cur);
        cur = next;
    }
    l->head = l->tail = NULL;
    l->len = 0;
}

void listRelease(list *l) {
    if (!l) return;
    listEmpty(l);
    zfree(l);
}

void listLinkNodeHead(list *l, listNode *node) {
    node->prev = NULL;
    node->next = l->head;
    if (l->head)
        l->head->prev = node;
    else
        l->tail = node;
    l->head = node;
    l->len++;
}

void listLinkNodeTail(list *l, listNode *node) {
    node->next = NULL;
    node->prev = l->tail;
    if (l->tail)
        l->tail->next = node;
    else
        l->head = node;
    l->tail = node;
    l->len++;
}

list *listAddNodeHead(list *l, void *value) {
    listNode *node = zmalloc(sizeof(*node));
    node->value = value;
    listLinkNodeHead(l, node);
    return l;
}

list *listAddNodeTail(list *l, void *value) {
    listNode *node = zmalloc(sizeof(*node));
    node->value = value;
    listLinkNodeTail(l, node);
    return l;
}

/* Inserts a new node holding value next to old_node: after it when `after` is
 * non-zero, before it otherwise. */
list *listInsertNode(list *l, listNode *old_node, void *value, int after) {
    listNode *node = zmalloc(sizeof(*node));
    node->value = value;
    if (after) {
        node->prev = old_node;
        node->next = old_node->next;
        if (l->tail == old_node) l->tail = node;
    } else {
        node->next = old_node;
        node->prev = old_node->prev;
        if (l->head == old_node) l->head = node;
    }
    if (node->prev) node->prev->next = node;
    if (node->next) node->next->prev = node;
    l->len++;
    return l;
}

/* Detaches the node from the list; the caller now owns it (and its value). */
void listUnlinkNode(list *l, listNode *node) {
    if (node->prev)
        node->prev->next = node->next;
    else
        l->head = node->next;
    if (node->next)
        node->next->prev = node->prev;
    else
        l->tail = node->prev;
    node->prev = node->next = NULL;
    l->len--;
}

void listDelNode(list *l, listNode *node) {
    listUnlinkNode(l, node);
    if (l->free) l->free(node->value);
    zfree(node);
}

listIter *listGetIterator(list *l, int direction) {
    listIter *iter = zmalloc(sizeof(*iter));
    if (direction == AL_START_HEAD)
        listRewind(l, iter);
    else
        listRewindTail(l, iter);
    return iter;
}

void listReleaseIterator(listIter *iter) {
    zfree(iter);
}

void listRewind(list *l, listIter *li) {
    li->next = l->head;
    li->direction = AL_START_HEAD;
}

void listRewindTail(list *l, listIter *li) {
    li->next = l->tail;
    li->direction = AL_START_TAIL;
}

/* Returns the next node or NULL. The returned node may be deleted by the caller:
 * the iterator already points past it. */
listNode *listNext(listIter *iter) {
    listNode *cur = iter->next;
    if (cur) iter->next = (iter->direction == AL_START_HEAD) ? cur->next : cur->prev;
    return cur;
}

/* A copy of the list. Values are copied with the dup method if set, otherwise the
 * pointers are shared. Returns NULL if the dup method fails (returns NULL). */
list *listDup(list *orig) {
    list *copy = listCreate();
    copy->dup = orig->dup;
    copy->free = orig->free;
    copy->match = orig->match;
    for (listNode *n = orig->head; n; n = n->next) {
        void *value = n->value;
        if (copy->dup) {
            value = copy->dup(value);
            if (value == NULL) {
                listRelease(copy);
                return NULL;
            }
        }
        listAddNodeTail(copy, value);
    }
    return copy;
}

/* First node, from the head, whose value matches key (match method, or pointer
 * equality when none is set). */
listNode *listSearchKey(list *l, void *key) {
    for (listNode *n = l->head; n; n = n->next) {
        if (l->match ? l->match(n->value, key) : n->value == key) return n;
    }
    return NULL;
}

/* The node at a zero-based index; -1 is the tail, -2 the one before... NULL when out
 * of range. */
listNode *listIndex(list *l, long index) {
    listNode *n;
    if (index < 0) {
        index = (-index) - 1;
        n = l->tail;
        while (index-- && n) n = n->prev;
    } else {
        n = l->head;
        while (index-- && n) n = n->next;
    }
    return n;
}

/* Moves the tail node to the head. */
void listRotateTailToHead(list *l) {
    if (l->len <= 1) return;
    listNode *tail = l->tail;
    l->tail = tail->prev;
    l->tail->next = NULL;
    l->head->prev = tail;
    tail->prev = NULL;
    tail->next = l->head;
    l->head = tail;
}

/* Moves the head node to the tail. */
void listRotateHeadToTail(list *l) {
    if (l->len <= 1) return;
    listNode *head = l->head;
    l->head = head->next;
    l->head->prev = NULL;
    l->tail->next = head;
    head->next = NULL;
    head->prev = l->tail;
    l->tail = head;
}

/* Appends all of o's nodes to l; o is left empty (but not freed). */
void listJoin(list *l, list *o) {
    if (o->len == 0) return;
    o->head->prev = l->tail;
    if (l->tail)
        l->tail->next = o->head;
    else
        l->head = o->head;
    l->tail = o->tail;
    l->len += o->len;
    o->head = o->tail = NULL;
    o->len = 0;
}
