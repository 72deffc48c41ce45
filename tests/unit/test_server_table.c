/* test_server_table.c: the bounded per-server table shared by dns.flood and dns.slow: one item
 * per (address, port, transport), in the order of first use, made zeroed with its key set; past
 * the bound every new server and every use of one is counted, never dropped silently, while the
 * servers within the bound go on being found. (The rules' own limit counters, through
 * rule_count_limit, are checked in test_rule_volume.) */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/server_table.h"

struct item {
    struct server_key k;
    uint64_t uses;
    char *owned; /* released by item_free */
};

static int freed;
static void item_free(void *p)
{
    struct item *it = p;
    free(it->owned);
    freed++;
}

static struct nt_addr addr(const char *s)
{
    struct nt_addr a;
    assert_true(nt_addr_parse(&a, s, strlen(s)));
    return a;
}

static struct item *use(struct server_table *t, const char *srv, uint16_t port, uint8_t tr)
{
    struct nt_addr a = addr(srv);
    struct item *it = server_table_get(NULL, t, &a, port, tr);
    if (it)
        it->uses++;
    return it;
}

static void test_one_item_per_key(void **state)
{
    (void)state;
    struct server_table t;
    server_table_init(&t, sizeof(struct item), 16, "servers_ignored", "uses_ignored");
    struct item *a = use(&t, "192.0.2.1", 53, 17);
    assert_non_null(a);
    assert_int_equal(a->uses, 1);
    assert_null(a->owned); /* the rest of a new item is zero */
    /* Another port, transport or family is another server. */
    struct item *b = use(&t, "192.0.2.1", 5353, 17);
    struct item *c = use(&t, "192.0.2.1", 53, 6);
    struct item *d = use(&t, "2001:db8::1", 53, 17);
    struct item *e = use(&t, "192.0.2.2", 53, 17);
    assert_true(a != b && a != c && a != d && a != e && b != c && d != e);
    assert_ptr_equal(use(&t, "192.0.2.1", 53, 17), a);
    assert_ptr_equal(use(&t, "2001:db8::1", 53, 17), d);
    assert_int_equal(a->uses, 2);
    assert_int_equal(d->uses, 2);
    /* The key is set, the items are kept in the order of first use. */
    char s[NT_ADDR_FMT_MAX];
    nt_addr_format(&d->k.server, s, sizeof s);
    assert_string_equal(s, "2001:db8::1");
    assert_int_equal(d->k.port, 53);
    assert_int_equal(d->k.transport, 17);
    assert_int_equal(server_table_count(&t), 5);
    assert_ptr_equal(server_table_at(&t, 0), a);
    assert_ptr_equal(server_table_at(&t, 1), b);
    assert_ptr_equal(server_table_at(&t, 2), c);
    assert_ptr_equal(server_table_at(&t, 3), d);
    assert_ptr_equal(server_table_at(&t, 4), e);
    assert_int_equal(t.servers_ignored, 0);
    assert_int_equal(t.uses_ignored, 0);
    a->owned = strdup("x");
    freed = 0;
    server_table_fini(&t, item_free);
    assert_int_equal(freed, 5);
    assert_int_equal(server_table_count(&t), 0);
}

/* Past the bound: new servers get no item and are counted once each, every use of them is
 * counted, and the measured servers are still found. */
static void test_bound_is_counted(void **state)
{
    (void)state;
    struct server_table t;
    server_table_init(&t, sizeof(struct item), 3, "servers_ignored", "uses_ignored");
    char srv[32];
    for (int i = 0; i < 3; i++) {
        snprintf(srv, sizeof srv, "198.51.100.%d", i + 1);
        assert_non_null(use(&t, srv, 53, 17));
    }
    uint64_t uses = 0;
    for (int round = 0; round < 4; round++) {
        for (int i = 3; i < 8; i++) {
            snprintf(srv, sizeof srv, "198.51.100.%d", i + 1);
            assert_null(use(&t, srv, 53, 17));
            uses++;
        }
        /* A measured server on another port is a new server, past the bound too. */
        assert_null(use(&t, "198.51.100.1", 54, 17));
        uses++;
        assert_non_null(use(&t, "198.51.100.2", 53, 17));
    }
    assert_int_equal(server_table_count(&t), 3);
    assert_int_equal(t.servers_ignored, 6);
    assert_int_equal(t.uses_ignored, uses);
    assert_int_equal(((struct item *)server_table_at(&t, 1))->uses, 5);
    freed = 0;
    server_table_fini(&t, item_free);
    assert_int_equal(freed, 3);
    /* The table can be used again after fini. */
    server_table_init(&t, sizeof(struct item), 0, "servers_ignored", "uses_ignored");
    assert_null(use(&t, "198.51.100.1", 53, 17));
    assert_null(use(&t, "198.51.100.1", 53, 17));
    assert_int_equal(t.servers_ignored, 1);
    assert_int_equal(t.uses_ignored, 2);
    server_table_fini(&t, NULL);
}

/* The ignored servers' set is bounded (SERVER_TABLE_IGNORED_KEPT): a server remembered counts
 * once however often it comes, also once the set is full; past that a server not remembered
 * counts at each use (said in server_table.h). */
static void test_ignored_set_full(void **state)
{
    (void)state;
    struct server_table t;
    server_table_init(&t, sizeof(struct item), 0, "servers_ignored", "uses_ignored");
    char srv[32];
    for (uint32_t i = 0; i < SERVER_TABLE_IGNORED_KEPT; i++) {
        struct nt_addr a = {0};
        a.family = NT_AF_INET;
        uint32_t v = 0x0a000000u + i;
        memcpy(a.a, &v, 4);
        assert_null(server_table_get(NULL, &t, &a, 53, 17));
    }
    assert_int_equal(t.servers_ignored, SERVER_TABLE_IGNORED_KEPT);
    struct nt_addr first = {0};
    first.family = NT_AF_INET;
    uint32_t v0 = 0x0a000000u;
    memcpy(first.a, &v0, 4);
    for (int k = 0; k < 5; k++) /* remembered: counted once, long ago */
        assert_null(server_table_get(NULL, &t, &first, 53, 17));
    assert_int_equal(t.servers_ignored, SERVER_TABLE_IGNORED_KEPT);
    snprintf(srv, sizeof srv, "192.0.2.1");
    for (int k = 0; k < 3; k++) /* not remembered: each use counts */
        assert_null(use(&t, srv, 53, 17));
    assert_int_equal(t.servers_ignored, SERVER_TABLE_IGNORED_KEPT + 3);
    assert_int_equal(t.uses_ignored, SERVER_TABLE_IGNORED_KEPT + 8);
    server_table_fini(&t, NULL);
}

/* Many servers: every one found again, whatever the hash table did while growing. */
static void test_many_servers(void **state)
{
    (void)state;
    struct server_table t;
    server_table_init(&t, sizeof(struct item), 5000, "servers_ignored", "uses_ignored");
    char srv[48];
    for (int i = 0; i < 4000; i++) {
        snprintf(srv, sizeof srv, "2001:db8::%x:%x", i / 256, i % 256);
        assert_non_null(use(&t, srv, 53, 17));
    }
    for (int i = 0; i < 4000; i++) {
        snprintf(srv, sizeof srv, "2001:db8::%x:%x", i / 256, i % 256);
        assert_ptr_equal(use(&t, srv, 53, 17), server_table_at(&t, (size_t)i));
    }
    assert_int_equal(server_table_count(&t), 4000);
    assert_int_equal(t.servers_ignored, 0);
    server_table_fini(&t, NULL);
}

/* server_table_get_h with the service's hash (as rule_service_hash makes it) finds the items
 * server_table_get made, and the reverse. */
static void test_hash_given(void **state)
{
    (void)state;
    struct server_table t;
    server_table_init(&t, sizeof(struct item), 16, "servers_ignored", "uses_ignored");
    const char *srv[] = {"192.0.2.1", "2001:db8::53", "192.0.2.2"};
    for (int i = 0; i < 3; i++) {
        struct nt_addr a = addr(srv[i]);
        struct htab_hasher h;
        htab_hasher_init(&h);
        htab_hasher_addr(&h, &a);
        htab_hasher_u16(&h, 53);
        htab_hasher_u8(&h, 17);
        uint64_t v = htab_hasher_end(&h);
        void *x = i % 2 ? server_table_get(NULL, &t, &a, 53, 17)
                        : server_table_get_h(NULL, &t, &a, 53, 17, v);
        assert_non_null(x);
        assert_ptr_equal(server_table_get_h(NULL, &t, &a, 53, 17, v), x);
        assert_ptr_equal(server_table_get(NULL, &t, &a, 53, 17), x);
    }
    assert_int_equal(server_table_count(&t), 3);
    server_table_fini(&t, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_item_per_key), cmocka_unit_test(test_bound_is_counted),
        cmocka_unit_test(test_ignored_set_full), cmocka_unit_test(test_many_servers),
        cmocka_unit_test(test_hash_given),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
