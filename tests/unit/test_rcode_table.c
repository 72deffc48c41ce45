/* test_rcode_table.c: detect/rcode_table.c noted in steps (rcode_table_prepare,
 * rcode_table_prefetch_entries, rcode_table_note_prepared, as the detector does) gives the same
 * table as rcode_table_note, which looks every key up in the index: the same entries in each
 * view, in the same order, with the same counts. The steps find most entries from what
 * rcode_table_prefetch_entries saw in the index; the lookups here come back to keys already made
 * and make new ones while the index grows, fills its first slots and doubles; the service's
 * entry comes from a memo the caller keeps, or from the index. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rcode_table.h"
#include "util/htab.h"

/* Lookup i of a stream that revisits keys: servers, clients and names from small sets, so that
 * keys repeat, with a few new ones all along. */
static void make_lookup(struct dns_lookup *l, unsigned i, char *name, size_t name_size)
{
    memset(l, 0, sizeof *l);
    uint8_t srv[4] = {192, 0, 2, (uint8_t)(1 + i % 3)};
    nt_addr_set_v4(&l->server, srv);
    if (i % 7 == 3) {
        uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
        v6[14] = (uint8_t)(i >> 8);
        v6[15] = (uint8_t)(i % 97);
        nt_addr_set_v6(&l->client, v6);
    } else {
        uint8_t cli[4] = {198, 51, (uint8_t)(i % 5), (uint8_t)(i * 7 % 251)};
        nt_addr_set_v4(&l->client, cli);
    }
    l->server_port = 53;
    l->transport = i % 11 == 0 ? 6 : 17;
    l->has_question = i % 13 != 0;
    /* Short names (kept in their entry) and long ones (in the name blocks). */
    if (i % 4 == 0)
        snprintf(name, name_size, "a-rather-long-host-name-%u.example.org.", i % 301);
    else
        snprintf(name, name_size, "h%u.example.com.", i % 409);
    l->qname = l->has_question ? name : NULL;
    l->qtype = (uint16_t)(i % 3 == 0 ? 28 : 1);
    l->outcome = LOOKUP_ANSWERED;
    static const uint16_t rcodes[] = {DNS_RCODE_NOERROR, DNS_RCODE_NOERROR, DNS_RCODE_NXDOMAIN,
                                      DNS_RCODE_SERVFAIL, DNS_RCODE_NOERROR, DNS_RCODE_REFUSED};
    l->rcode = rcodes[i % 6];
    l->rtt_us = 1000 + (int64_t)(i % 50);
    l->answer.ts.kind = NT_TIME_ABSOLUTE;
    l->answer.ts.sec = 1000 + (int64_t)(i / 1000);
    l->answer.ts.nsec = (uint32_t)(i % 1000) * 1000000u;
}

static uint64_t name_hash(const struct dns_lookup *l)
{
    struct htab_hasher s;
    htab_hasher_init(&s);
    htab_hasher_name(&s, l->qname);
    return htab_hasher_end(&s);
}

static void service_state(const struct dns_lookup *l, struct htab_hasher *s)
{
    htab_hasher_init(s);
    htab_hasher_addr(s, &l->server);
    htab_hasher_u16(s, l->server_port);
    htab_hasher_u8(s, l->transport);
}

static void assert_same_entry(const struct rcode_entry *a, const struct rcode_entry *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->views, b->views);
    assert_true(nt_addr_eq(&a->server, &b->server));
    assert_int_equal(a->port, b->port);
    assert_int_equal(a->transport, b->transport);
    if (a->kind == RCODE_KEY_CLIENT)
        assert_true(nt_addr_eq(&a->client, &b->client));
    if (a->kind == RCODE_KEY_NAME) {
        assert_int_equal(a->has_question, b->has_question);
        assert_int_equal(a->qtype, b->qtype);
        assert_string_equal(a->qname ? a->qname : "", b->qname ? b->qname : "");
    }
    assert_int_equal(a->ok, b->ok);
    assert_int_equal(a->ok_min_rtt_us, b->ok_min_rtt_us);
    assert_int_equal(a->bad[0], b->bad[0]);
    assert_int_equal(a->bad[1], b->bad[1]);
    assert_int_equal(a->first_ok.sec, b->first_ok.sec);
    assert_int_equal(a->last_ok.nsec, b->last_ok.nsec);
    assert_int_equal(a->service != NULL, b->service != NULL);
}

static void run(size_t view_max, unsigned lookups)
{
    struct rcode_table plain, steps;
    rcode_table_init(&plain);
    rcode_table_init(&steps);
    plain.view_max = steps.view_max = view_max;
    char name[128];
    /* The detector's memo of service entries: one per service (server, transport) here. */
    const struct rcode_entry *memo[3][2] = {{NULL}};
    for (unsigned i = 0; i < lookups; i++) {
        struct dns_lookup l;
        make_lookup(&l, i, name, sizeof name);
        struct htab_hasher svc;
        service_state(&l, &svc);
        uint64_t qh = l.has_question ? name_hash(&l) : 0;
        rcode_table_note(&plain, &l, &svc, qh);
        struct rcode_note n = {.want = 0};
        rcode_table_prepare(&steps, &l, &svc, qh, &n);
        if (i % 3 != 2) /* with a memo, and (every third lookup) without */
            n.service_memo = &memo[i % 3][l.transport == 6];
        if (i % 5 != 4) /* the detector with no rule to wait for: no prefetch of entries */
            rcode_table_prefetch_entries(&steps, &n);
        rcode_table_note_prepared(&steps, &l, &svc, qh, &n);
    }
    for (int v = 0; v < RCODE_VIEWS; v++) {
        assert_int_equal(rcode_view_count(&plain, v), rcode_view_count(&steps, v));
        assert_int_equal(rcode_view_dropped(&plain, v), rcode_view_dropped(&steps, v));
        for (size_t i = 0; i < rcode_view_count(&plain, v); i++)
            assert_same_entry(rcode_view_at(&plain, v, i), rcode_view_at(&steps, v, i));
    }
    assert_true(rcode_view_count(&plain, RCODE_VIEW_SERVFAIL) > 0);
    rcode_table_free(&plain);
    rcode_table_free(&steps);
}

static void test_steps_as_note(void **state)
{
    (void)state;
    run(0, 20000);
}

static void test_steps_as_note_bounded(void **state)
{
    (void)state;
    run(300, 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_as_note),
        cmocka_unit_test(test_steps_as_note_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
