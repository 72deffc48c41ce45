/* test_rule_icmp_path.c: the rules about ICMP errors from routers on the path:
 * dns.host_unreachable, icmp.time_exceeded and icmp.frag_needed: when they fire, what they
 * rank first, and when they stay quiet. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/text.h"

static void set_addr(struct nt_addr *a, const char *s)
{
    assert_true(nt_addr_parse(a, s, strlen(s)));
}

static void at(struct nt_time *t, double s)
{
    t->kind = NT_TIME_ABSOLUTE;
    t->sec = (int64_t)s;
    t->nsec = (uint32_t)((s - (double)(int64_t)s) * 1e9);
}

static struct dns_lookup *lk(const char *cli, const char *srv, uint16_t id, double t)
{
    struct dns_lookup *l = calloc(1, sizeof *l);
    assert_non_null(l);
    set_addr(&l->client, cli);
    set_addr(&l->server, srv);
    l->seq = id;
    l->server_port = 53;
    l->transport = 17;
    l->id = id;
    l->has_question = true;
    l->qname = strdup("yummyrecipesforme.com.");
    l->qtype = 1;
    l->qclass = 1;
    at(&l->first_tx, t);
    l->last_tx = l->first_tx;
    l->transmissions = 1;
    l->first_ttl = l->min_ttl = 64;
    l->query.role = EV_QUERY;
    l->query.pkt = id * 10u;
    l->query.ts = l->first_tx;
    l->query.text = strdup("query line");
    l->query.ip_version = 4;
    l->query.ttl = 64;
    l->query.dns_len = 62;
    l->query.src = l->client;
    l->query.dst = l->server;
    return l;
}

/* The lookup's first error: kind, type/code, from host `from`, at time t. */
static void err_with(struct dns_lookup *l, const char *from, enum icmp_kind kind, uint8_t type,
                     uint8_t code, double t)
{
    l->outcome = LOOKUP_ICMP_ERROR;
    l->icmp_kind = (uint8_t)kind;
    l->n_errors = 1;
    l->matched_by_id = true;
    l->error.role = EV_ICMP_ERROR;
    l->error.pkt = l->query.pkt + 1;
    at(&l->error.ts, t);
    l->error.text = strdup("error line");
    l->error.ip_version = 4;
    l->error.icmp_type = type;
    l->error.icmp_code = code;
    l->error.icmp_kind = (uint8_t)kind;
    l->error.quote_present = true;
    l->error.quote_has_ports = true;
    l->error.q_proto = 17;
    l->error.q_dport = 53;
    l->error.q_src = l->client;
    l->error.q_dst = l->server;
    set_addr(&l->error.src, from);
    l->error.dst = l->client;
    l->icmp_sender = nt_addr_eq(&l->error.src, &l->server) ? ICMP_SENDER_SERVER : ICMP_SENDER_PATH;
    l->elapsed_us = nt_time_diff_us(&l->first_tx, &l->error.ts);
}

static void lk_free(struct dns_lookup *l)
{
    evidence_fini(&l->query);
    evidence_fini(&l->error);
    free(l->qname);
    free(l);
}

static struct correlate_stats stats;

/* Runs the detector on lookups (each with its error event when it has one and `events` is set)
 * and returns the findings of rule `id`. */
static size_t run(struct dns_lookup **ls, size_t n, bool events, struct detector **out)
{
    struct detector *d = detect_new(5000000);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        if (events && ls[i]->n_errors) {
            struct icmp_event e = {.ev = &ls[i]->error,
                                   .kind = ls[i]->icmp_kind,
                                   .sender = ls[i]->icmp_sender,
                                   .about_dns = true,
                                   .lookup = ls[i]};
            detect_icmp_error(d, &e);
        }
        detect_lookup(d, ls[i]);
    }
    detect_finish(d, &stats);
    struct finding *const *f;
    size_t nf = detect_findings(d, &f);
    *out = d;
    return nf;
}

static const struct finding *find(struct detector *d, const char *id, size_t k)
{
    struct finding *const *fs;
    size_t n = detect_findings(d, &fs);
    for (size_t i = 0; i < n; i++)
        if (strcmp(fs[i]->id, id) == 0 && k-- == 0)
            return fs[i];
    return NULL;
}

static size_t count(struct detector *d, const char *id)
{
    size_t n = 0;
    while (find(d, id, n))
        n++;
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* dns.host_unreachable */

static void test_host_unreachable_fast_is_routing(void **state)
{
    (void)state;
    struct dns_lookup *ls[2];
    ls[0] = lk("198.51.100.15", "192.0.2.53", 1, 100.0);
    err_with(ls[0], "198.51.100.2", ICMP_K_HOST_UNREACH, 3, 1, 100.0001);
    ls[1] = lk("198.51.100.15", "192.0.2.53", 2, 101.0);
    err_with(ls[1], "198.51.100.2", ICMP_K_NET_UNREACH, 3, 0, 101.0002);
    struct detector *d;
    run(ls, 2, false, &d);
    assert_int_equal(count(d, "dns.host_unreachable"), 1);
    const struct finding *f = find(d, "dns.host_unreachable", 0);
    assert_int_equal(f->severity, SEV_HIGH);
    assert_int_equal(f->lookups, 2);
    assert_int_equal(f->packets, 4);
    assert_non_null(strstr(f->summary, "sent by the router 198.51.100.2 on the path, not by the "
                                       "server"));
    assert_non_null(strstr(f->summary, "host or network unreachable"));
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(f->causes[0].text, "Routing trouble"));
    assert_non_null(strstr(f->causes[1].text, "server host is down"));
    assert_int_equal(f->causes[1].confidence, CONF_LOW);
    bool route_get = false;
    for (size_t i = 0; i < f->n_next_steps; i++)
        route_get |= strstr(f->next_steps[i], "`ip route get 192.0.2.53`") != NULL;
    assert_true(route_get);
    detect_free(d);
    lk_free(ls[0]);
    lk_free(ls[1]);
}

static void test_host_unreachable_after_3s_is_server_down(void **state)
{
    (void)state;
    /* Three transmissions queued behind one failing ARP: the error comes 3.08 s after the
     * first, 1.08 s after the last; the first transmission decides. */
    struct dns_lookup *l = lk("198.51.100.15", "203.0.113.99", 7, 200.0);
    l->transmissions = 3;
    at(&l->last_tx, 202.0);
    err_with(l, "198.51.100.2", ICMP_K_HOST_UNREACH, 3, 1, 203.08);
    struct detector *d;
    run(&l, 1, false, &d);
    const struct finding *f = find(d, "dns.host_unreachable", 0);
    assert_non_null(f);
    assert_int_equal(f->query_packets, 3);
    assert_non_null(strstr(f->causes[0].text, "server host is down"));
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(f->summary, "ARP, or IPv6 neighbour discovery"));
    assert_non_null(strstr(f->summary, "3.1 s"));
    detect_free(d);
    lk_free(l);
}

static void test_host_unreachable_unknown_delay_and_from_server(void **state)
{
    (void)state;
    struct dns_lookup *ls[2];
    /* No times: neither cause can be preferred. */
    ls[0] = lk("198.51.100.15", "192.0.2.53", 1, 0);
    err_with(ls[0], "198.51.100.2", ICMP_K_HOST_UNREACH, 3, 1, 0);
    ls[0]->first_tx.kind = ls[0]->last_tx.kind = NT_TIME_NONE;
    ls[0]->query.ts.kind = ls[0]->error.ts.kind = NT_TIME_NONE;
    /* From the server itself: a reject rule. */
    ls[1] = lk("198.51.100.15", "198.51.100.2", 2, 50.0);
    err_with(ls[1], "198.51.100.2", ICMP_K_HOST_UNREACH, 3, 10 - 9, 50.0001);
    struct detector *d;
    run(ls, 2, false, &d);
    assert_int_equal(count(d, "dns.host_unreachable"), 2);
    for (size_t k = 0; k < 2; k++) {
        const struct finding *f = find(d, "dns.host_unreachable", k);
        char srv[NT_ADDR_FMT_MAX];
        nt_addr_format(&f->server, srv, sizeof srv);
        if (strcmp(srv, "192.0.2.53") == 0) {
            assert_non_null(strstr(f->summary, "input carries no times"));
            assert_int_equal(f->causes[0].confidence, CONF_MEDIUM);
            assert_int_equal(f->causes[1].confidence, CONF_MEDIUM);
        } else {
            assert_non_null(strstr(f->causes[0].text, "firewall on the server"));
            assert_int_equal(f->causes[0].confidence, CONF_HIGH);
        }
    }
    detect_free(d);
    lk_free(ls[0]);
    lk_free(ls[1]);
}

static void test_host_unreachable_quiet(void **state)
{
    (void)state;
    struct dns_lookup *ls[3];
    ls[0] = lk("198.51.100.15", "192.0.2.53", 1, 1.0);
    ls[0]->outcome = LOOKUP_ANSWERED;
    ls[1] = lk("198.51.100.15", "192.0.2.53", 2, 2.0);
    err_with(ls[1], "192.0.2.53", ICMP_K_PORT_UNREACH, 3, 3, 2.0001);
    ls[2] = lk("198.51.100.15", "192.0.2.53", 3, 3.0);
    ls[2]->outcome = LOOKUP_UNANSWERED;
    struct detector *d;
    run(ls, 3, false, &d);
    assert_int_equal(count(d, "dns.host_unreachable"), 0);
    detect_free(d);
    for (int i = 0; i < 3; i++)
        lk_free(ls[i]);
}

/* ------------------------------------------------------------------------------------------ */
/* icmp.time_exceeded */

static void te(struct dns_lookup *l, const char *router, uint8_t code, double t)
{
    err_with(l, router, ICMP_K_TIME_EXCEEDED, 11, code, t);
}

static void test_time_exceeded_loop_seen(void **state)
{
    (void)state;
    /* The same query seen 63 times at the capture point, TTL 63 down to 1. */
    struct dns_lookup *l = lk("198.51.100.15", "192.0.2.99", 1, 10.0);
    l->first_ttl = 63;
    l->min_ttl = 1;
    l->transmissions = 63;
    te(l, "203.0.113.2", 0, 10.001);
    struct detector *d;
    run(&l, 1, true, &d);
    assert_int_equal(count(d, "icmp.time_exceeded"), 1);
    const struct finding *f = find(d, "icmp.time_exceeded", 0);
    assert_int_equal(f->severity, SEV_HIGH);
    assert_int_equal(f->transport, 17);
    assert_int_equal(f->port, 53);
    assert_int_equal(f->lookups, 1);
    assert_int_equal(f->query_packets, 63);
    assert_int_equal(f->error_packets, 1);
    assert_non_null(strstr(f->summary, "the router 203.0.113.2 sent 1 ICMP time exceeded"));
    assert_non_null(strstr(f->summary, "passed the capture point 63 times, its TTL falling from "
                                       "63 to 1"));
    assert_non_null(strstr(f->causes[0].text, "routing loop"));
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    detect_free(d);
    lk_free(l);
}

static void test_time_exceeded_ttl_judgements(void **state)
{
    (void)state;
    struct dns_lookup *ls[3];
    /* TTL 64 at the capture point, never seen again: a loop past it. */
    ls[0] = lk("198.51.100.15", "192.0.2.1", 1, 1.0);
    te(ls[0], "198.51.100.2", 0, 1.001);
    /* TTL 1: too small. */
    ls[1] = lk("198.51.100.15", "192.0.2.2", 2, 2.0);
    ls[1]->first_ttl = ls[1]->min_ttl = 1;
    te(ls[1], "198.51.100.2", 0, 2.001);
    /* TTL unknown (tcpdump text without -v). */
    ls[2] = lk("198.51.100.15", "192.0.2.3", 3, 3.0);
    ls[2]->first_ttl = ls[2]->min_ttl = 0;
    ls[2]->query.ttl = 0;
    ls[2]->query.from_text = true;
    te(ls[2], "198.51.100.2", 0, 3.001);
    struct detector *d;
    run(ls, 3, true, &d);
    assert_int_equal(count(d, "icmp.time_exceeded"), 3);
    for (size_t k = 0; k < 3; k++) {
        const struct finding *f = find(d, "icmp.time_exceeded", k);
        char srv[NT_ADDR_FMT_MAX];
        nt_addr_format(&f->server, srv, sizeof srv);
        if (strcmp(srv, "192.0.2.1") == 0) {
            assert_int_equal(f->severity, SEV_HIGH);
            assert_non_null(strstr(f->causes[0].text, "routing loop"));
            assert_int_equal(f->causes[0].confidence, CONF_HIGH);
        } else if (strcmp(srv, "192.0.2.2") == 0) {
            assert_int_equal(f->severity, SEV_MEDIUM);
            assert_non_null(strstr(f->causes[0].text, "too small a TTL"));
            assert_int_equal(f->causes[0].confidence, CONF_HIGH);
        } else {
            assert_string_equal(srv, "192.0.2.3");
            assert_int_equal(f->severity, SEV_MEDIUM);
            assert_non_null(strstr(f->summary, "is not known"));
            /* The reason is the one this input has: the query is there, its TTL is not. */
            assert_non_null(strstr(f->summary, "tcpdump text printed without -v"));
            assert_null(strstr(f->summary, "not in the capture"));
            assert_int_equal(f->causes[0].confidence, CONF_MEDIUM);
            assert_int_equal(f->causes[1].confidence, CONF_MEDIUM);
        }
    }
    detect_free(d);
    for (int i = 0; i < 3; i++)
        lk_free(ls[i]);
}

/* An error that quotes a datagram not in the capture: its TTL is unknown for that reason, not
 * because of tcpdump's verbosity (this is a capture). */
static void test_time_exceeded_not_captured(void **state)
{
    (void)state;
    struct detector *d = detect_new(5000000);
    struct evidence ev = {0};
    ev.role = EV_ICMP_ERROR;
    ev.ip_version = 4;
    set_addr(&ev.src, "203.0.113.2");
    set_addr(&ev.dst, "198.51.100.15");
    ev.icmp_type = 11;
    ev.icmp_kind = ICMP_K_TIME_EXCEEDED;
    ev.quote_present = ev.quote_has_ports = true;
    ev.q_proto = 17;
    ev.q_dport = 53;
    set_addr(&ev.q_src, "198.51.100.15");
    set_addr(&ev.q_dst, "192.0.2.99");
    struct icmp_event e = {.ev = &ev, .kind = ICMP_K_TIME_EXCEEDED, .sender = ICMP_SENDER_PATH};
    detect_icmp_error(d, &e);
    detect_finish(d, &stats);
    const struct finding *f = find(d, "icmp.time_exceeded", 0);
    assert_non_null(f);
    assert_non_null(strstr(f->summary, "quotes a datagram that is not in the capture"));
    assert_null(strstr(f->summary, "-v"));
    detect_free(d);
}

/* One DNS query sent with growing TTLs (1, 2, 3), each copy answered by the next router: a
 * traceroute over DNS, not a loop. */
static void test_time_exceeded_traceroute(void **state)
{
    (void)state;
    struct dns_lookup *l = lk("198.51.100.15", "192.0.2.99", 1, 10.0);
    l->first_ttl = l->min_ttl = 1;
    l->transmissions = 3;
    struct detector *d = detect_new(5000000);
    const char *routers[] = {"198.51.100.1", "203.0.113.2", "203.0.113.9"};
    for (int i = 0; i < 3; i++) {
        evidence_fini(&l->error);
        memset(&l->error, 0, sizeof l->error);
        te(l, routers[i], 0, 10.001 + i);
        l->error.pkt = l->query.pkt + 1 + (uint64_t)i;
        l->n_errors = (uint32_t)i + 1;
        struct icmp_event e = {.ev = &l->error,
                               .kind = ICMP_K_TIME_EXCEEDED,
                               .sender = ICMP_SENDER_PATH,
                               .about_dns = true,
                               .lookup = l};
        detect_icmp_error(d, &e);
    }
    detect_lookup(d, l);
    detect_finish(d, &stats);
    assert_int_equal(count(d, "icmp.time_exceeded"), 3);
    for (size_t k = 0; k < 3; k++) {
        const struct finding *f = find(d, "icmp.time_exceeded", k);
        assert_non_null(strstr(f->causes[0].text, "traceroute"));
        assert_int_equal(f->causes[0].confidence, CONF_HIGH);
        for (size_t c = 1; c < f->n_causes; c++)
            if (strstr(f->causes[c].text, "routing loop"))
                assert_int_equal(f->causes[c].confidence, CONF_LOW);
        assert_int_equal(f->severity, SEV_LOW);
        assert_non_null(strstr(f->summary, "other routers"));
    }
    detect_free(d);
    lk_free(l);
}

static void test_time_exceeded_quiet(void **state)
{
    (void)state;
    /* Reassembly time exceeded (code 1) is not a loop; a traceroute probe (UDP 33434) that
     * belongs to no lookup is expected to draw time exceeded. */
    struct dns_lookup *l = lk("198.51.100.15", "192.0.2.99", 1, 10.0);
    te(l, "203.0.113.2", 1, 10.001);
    struct detector *d;
    run(&l, 1, true, &d);
    assert_int_equal(count(d, "icmp.time_exceeded"), 0);
    detect_free(d);

    d = detect_new(5000000);
    struct evidence ev = {0};
    ev.role = EV_ICMP_ERROR;
    ev.ip_version = 4;
    set_addr(&ev.src, "203.0.113.2");
    set_addr(&ev.dst, "198.51.100.15");
    ev.icmp_type = 11;
    ev.icmp_kind = ICMP_K_TIME_EXCEEDED;
    ev.quote_present = ev.quote_has_ports = true;
    ev.q_proto = 17;
    ev.q_dport = 33435;
    set_addr(&ev.q_src, "198.51.100.15");
    set_addr(&ev.q_dst, "192.0.2.99");
    struct icmp_event e = {.ev = &ev, .kind = ICMP_K_TIME_EXCEEDED, .sender = ICMP_SENDER_PATH};
    detect_icmp_error(d, &e);
    detect_finish(d, &stats);
    assert_int_equal(count(d, "icmp.time_exceeded"), 0);
    detect_free(d);
    lk_free(l);
}

/* ------------------------------------------------------------------------------------------ */
/* icmp.frag_needed */

static void test_frag_needed(void **state)
{
    (void)state;
    struct dns_lookup *l = lk("198.51.100.15", "192.0.2.53", 1, 10.0);
    l->query.dns_len = 1372;
    err_with(l, "198.51.100.2", ICMP_K_FRAG_NEEDED, 3, 4, 10.0001);
    l->error.icmp_mtu = 1280;
    struct detector *d;
    run(&l, 1, true, &d);
    assert_int_equal(count(d, "icmp.frag_needed"), 1);
    /* The DNS lookup ended in an ICMP error, but not one the DNS rules above report. */
    assert_int_equal(count(d, "dns.host_unreachable"), 0);
    const struct finding *f = find(d, "icmp.frag_needed", 0);
    assert_int_equal(f->severity, SEV_MEDIUM);
    assert_int_equal(f->transport, 17);
    assert_int_equal(f->port, 53);
    assert_non_null(strstr(f->summary, "The router 198.51.100.2 sent 1 ICMP fragmentation needed"));
    assert_non_null(strstr(f->summary, "a next-hop MTU of 1280 bytes"));
    assert_non_null(strstr(f->summary, "did not fit was 1400 bytes"));
    assert_non_null(strstr(f->causes[0].text, "path MTU is lower"));
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    bool blackhole = false, ping = false;
    for (size_t i = 0; i < f->n_causes; i++)
        blackhole |= strstr(f->causes[i].text, "Black-hole") != NULL;
    for (size_t i = 0; i < f->n_next_steps; i++)
        ping |= strstr(f->next_steps[i], "`ping -M do -s 1252 192.0.2.53`") != NULL;
    assert_true(blackhole);
    assert_true(ping);
    detect_free(d);
    lk_free(l);
}

/* The sending host's own kernel refused the datagram (the error comes from the query's own
 * source, here over loopback): no router, tunnel or VPN on a path is involved. */
static void test_frag_needed_local(void **state)
{
    (void)state;
    struct dns_lookup *l = lk("127.0.0.1", "127.0.0.53", 1, 10.0);
    l->query.dns_len = 1372;
    err_with(l, "127.0.0.1", ICMP_K_FRAG_NEEDED, 3, 4, 10.0001);
    l->error.icmp_mtu = 1280;
    struct detector *d;
    run(&l, 1, true, &d);
    const struct finding *f = find(d, "icmp.frag_needed", 0);
    assert_non_null(f);
    assert_null(strstr(f->summary, "on the path"));
    assert_non_null(strstr(f->summary, "not by a router"));
    assert_non_null(strstr(f->causes[0].text, "own MTU"));
    for (size_t i = 0; i < f->n_causes; i++)
        assert_null(strstr(f->causes[i].text, "tunnel"));
    for (size_t i = 0; i < f->n_next_steps; i++)
        assert_null(strstr(f->next_steps[i], "VPN"));
    detect_free(d);
    lk_free(l);
}

static void test_frag_needed_bogus_mtu(void **state)
{
    (void)state;
    /* An MTU of 68 is below what any real IPv4 path offers (Linux ignores MTUs below 552): a
     * forged or broken error. */
    struct dns_lookup *l = lk("198.51.100.15", "192.0.2.53", 1, 10.0);
    err_with(l, "198.51.100.2", ICMP_K_FRAG_NEEDED, 3, 4, 10.0001);
    l->error.icmp_mtu = 68;
    struct detector *d;
    run(&l, 1, true, &d);
    const struct finding *f = find(d, "icmp.frag_needed", 0);
    assert_non_null(f);
    bool forged = false;
    for (size_t i = 0; i < f->n_causes; i++)
        forged |= strstr(f->causes[i].text, "forged") != NULL;
    assert_true(forged);
    assert_int_not_equal(f->causes[0].confidence, CONF_HIGH);
    detect_free(d);
    lk_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_unreachable_fast_is_routing),
        cmocka_unit_test(test_host_unreachable_after_3s_is_server_down),
        cmocka_unit_test(test_host_unreachable_unknown_delay_and_from_server),
        cmocka_unit_test(test_host_unreachable_quiet),
        cmocka_unit_test(test_time_exceeded_loop_seen),
        cmocka_unit_test(test_time_exceeded_ttl_judgements),
        cmocka_unit_test(test_time_exceeded_quiet),
        cmocka_unit_test(test_time_exceeded_not_captured),
        cmocka_unit_test(test_time_exceeded_traceroute),
        cmocka_unit_test(test_frag_needed),
        cmocka_unit_test(test_frag_needed_bogus_mtu),
        cmocka_unit_test(test_frag_needed_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
