/* test_adlist.c -- the linked list: adding at both ends, inserting, deleting with and
 * without a free method, iterating both ways, indexing, rotating, joining, duplicating
 * and searching. Also checks that every node is freed (used_memory back to start). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "../adlist.h"
#include "../zmalloc.h"

#define V(i) ((void *)(intptr_t)(i))
#define I(p) ((int)(intptr_t)(p))

/* Asserts the list holds exactly the given values, walking both directions. */
static void assert_list(list *l, const int *expect, int n) {
    assert_int_equal(listLength(l), n);
    listIter li;
    listNode *node;
    int i = 0;
    listRewind(l, &li);
    while ((node = listNext(&li)) != NULL) {
        assert_true(i < n);
        assert_int_equal(I(listNodeValue(node)), expect[i]);
        i++;
    }
    assert_int_equal(i, n);
    listRewindTail(l, &li);
    while ((node = listNext(&li)) != NULL) {
        i--;
        assert_int_equal(I(listNodeValue(node)), expect[i]);
    }
    assert_int_equal(i, 0);
    if (n == 0) {
        assert_null(listFirst(l));
        assert_null(listLast(l));
    } else {
        assert_null(listPrevNode(listFirst(l)));
        assert_null(listNextNode(listLast(l)));
    }
}

static void test_add_head_tail(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    list *l = listCreate();
    assert_list(l, NULL, 0);
    listAddNodeTail(l, V(2));
    listAddNodeTail(l, V(3));
    listAddNodeHead(l, V(1));
    int e[] = {1, 2, 3};
    assert_list(l, e, 3);
    listRelease(l);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_insert(void **state) {
    (void)state;
    list *l = listCreate();
    listAddNodeTail(l, V(2));
    listInsertNode(l, listFirst(l), V(1), 0); /* before the head */
    listInsertNode(l, listLast(l), V(4), 1);  /* after the tail */
    listInsertNode(l, listIndex(l, 1), V(3), 1);
    int e[] = {1, 2, 3, 4};
    assert_list(l, e, 4);
    listInsertNode(l, listIndex(l, 2), V(9), 0);
    int e2[] = {1, 2, 9, 3, 4};
    assert_list(l, e2, 5);
    listRelease(l);
}

static int freed_count;
static void count_free(void *p) {
    (void)p;
    freed_count++;
}

static void test_delete_and_free_method(void **state) {
    (void)state;
    list *l = listCreate();
    listSetFreeMethod(l, count_free);
    for (int i = 0; i < 5; i++) listAddNodeTail(l, V(i));
    freed_count = 0;
    listDelNode(l, listFirst(l));
    listDelNode(l, listLast(l));
    listDelNode(l, listIndex(l, 1));
    int e[] = {1, 3};
    assert_list(l, e, 2);
    assert_int_equal(freed_count, 3);
    listEmpty(l);
    assert_int_equal(freed_count, 5);
    assert_list(l, NULL, 0);
    listAddNodeTail(l, V(7));
    listRelease(l);
    assert_int_equal(freed_count, 6);
}

static void test_unlink_and_relink(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    list *l = listCreate();
    for (int i = 1; i <= 3; i++) listAddNodeTail(l, V(i));
    listNode *mid = listIndex(l, 1);
    listUnlinkNode(l, mid);
    int e[] = {1, 3};
    assert_list(l, e, 2);
    listLinkNodeHead(l, mid);
    int e2[] = {2, 1, 3};
    assert_list(l, e2, 3);
    listNode *head = listFirst(l);
    listUnlinkNode(l, head);
    listLinkNodeTail(l, head);
    int e3[] = {1, 3, 2};
    assert_list(l, e3, 3);
    /* Unlinking the only node leaves an empty list. */
    list *one = listCreate();
    listAddNodeTail(one, V(5));
    listNode *n = listFirst(one);
    listUnlinkNode(one, n);
    assert_list(one, NULL, 0);
    listLinkNodeTail(one, n);
    int e4[] = {5};
    assert_list(one, e4, 1);
    listRelease(one);
    listRelease(l);
    assert_int_equal(zmalloc_used_memory(), base);
}

static void test_delete_while_iterating(void **state) {
    (void)state;
    list *l = listCreate();
    for (int i = 0; i < 10; i++) listAddNodeTail(l, V(i));
    listIter *it = listGetIterator(l, AL_START_HEAD);
    listNode *n;
    while ((n = listNext(it)) != NULL) {
        if (I(listNodeValue(n)) % 2 == 0) listDelNode(l, n);
    }
    listReleaseIterator(it);
    int e[] = {1, 3, 5, 7, 9};
    assert_list(l, e, 5);
    it = listGetIterator(l, AL_START_TAIL);
    n = listNext(it);
    assert_int_equal(I(listNodeValue(n)), 9);
    listReleaseIterator(it);
    listRelease(l);
}

static void test_index(void **state) {
    (void)state;
    list *l = listCreate();
    for (int i = 0; i < 4; i++) listAddNodeTail(l, V(i * 10));
    assert_int_equal(I(listNodeValue(listIndex(l, 0))), 0);
    assert_int_equal(I(listNodeValue(listIndex(l, 3))), 30);
    assert_int_equal(I(listNodeValue(listIndex(l, -1))), 30);
    assert_int_equal(I(listNodeValue(listIndex(l, -4))), 0);
    assert_null(listIndex(l, 4));
    assert_null(listIndex(l, -5));
    listRelease(l);
}

static void test_rotate(void **state) {
    (void)state;
    list *l = listCreate();
    listRotateTailToHead(l); /* empty: no-op */
    listAddNodeTail(l, V(1));
    listRotateHeadToTail(l); /* single: no-op */
    int e1[] = {1};
    assert_list(l, e1, 1);
    listAddNodeTail(l, V(2));
    listAddNodeTail(l, V(3));
    listRotateTailToHead(l);
    int e2[] = {3, 1, 2};
    assert_list(l, e2, 3);
    listRotateHeadToTail(l);
    listRotateHeadToTail(l);
    int e3[] = {2, 3, 1};
    assert_list(l, e3, 3);
    listRelease(l);
}

static void test_join(void **state) {
    (void)state;
    list *a = listCreate(), *b = listCreate();
    listJoin(a, b); /* both empty */
    assert_list(a, NULL, 0);
    listAddNodeTail(b, V(1));
    listAddNodeTail(b, V(2));
    listJoin(a, b); /* into empty */
    int e[] = {1, 2};
    assert_list(a, e, 2);
    assert_list(b, NULL, 0);
    listAddNodeTail(b, V(3));
    listJoin(a, b);
    int e2[] = {1, 2, 3};
    assert_list(a, e2, 3);
    assert_list(b, NULL, 0);
    listJoin(a, b); /* empty source */
    assert_list(a, e2, 3);
    listRelease(a);
    listRelease(b);
}

static void *dup_string(void *p) {
    return zstrdup(p);
}
static void *dup_fail_on_b(void *p) {
    return strcmp(p, "b") == 0 ? NULL : zstrdup(p);
}
static int match_string(void *a, void *b) {
    return strcmp(a, b) == 0;
}

static void test_dup_and_search(void **state) {
    (void)state;
    size_t base = zmalloc_used_memory();
    list *l = listCreate();
    listSetDupMethod(l, dup_string);
    listSetFreeMethod(l, zfree);
    listSetMatchMethod(l, match_string);
    listAddNodeTail(l, zstrdup("a"));
    listAddNodeTail(l, zstrdup("b"));
    listAddNodeTail(l, zstrdup("c"));
    list *copy = listDup(l);
    assert_non_null(copy);
    assert_int_equal(listLength(copy), 3);
    assert_ptr_not_equal(listNodeValue(listFirst(copy)), listNodeValue(listFirst(l)));
    assert_string_equal(listNodeValue(listLast(copy)), "c");
    char key[] = "b";
    listNode *found = listSearchKey(copy, key);
    assert_non_null(found);
    assert_string_equal(listNodeValue(found), "b");
    assert_null(listSearchKey(copy, "zz"));
    /* A failing dup method releases the partial copy. */
    listSetDupMethod(l, dup_fail_on_b);
    assert_null(listDup(l));
    listRelease(copy);
    listRelease(l);
    assert_int_equal(zmalloc_used_memory(), base);

    /* Without a match method, search compares pointers. */
    list *p = listCreate();
    char x[] = "x", y[] = "x";
    listAddNodeTail(p, x);
    assert_non_null(listSearchKey(p, x));
    assert_null(listSearchKey(p, y));
    /* Without a dup method the copy shares the values. */
    list *pc = listDup(p);
    assert_ptr_equal(listNodeValue(listFirst(pc)), x);
    listRelease(pc);
    listRelease(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_head_tail),
        cmocka_unit_test(test_insert),
        cmocka_unit_test(test_delete_and_free_method),
        cmocka_unit_test(test_unlink_and_relink),
        cmocka_unit_test(test_delete_while_iterating),
        cmocka_unit_test(test_index),
        cmocka_unit_test(test_rotate),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_dup_and_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
