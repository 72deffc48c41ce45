/* test_rule_volume.c: the volume rules dns.slow, dns.flood and dns.nxdomain_surge: when they
 * fire, when they stay quiet, their windows and ATT&CK tags. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"

static struct dns_lookup *lk(const char *cli, const char *srv, const char *name, double t)
{
    struct dns_lookup *l = calloc(1, sizeof *l);
    assert_non_null(l);
    assert_true(nt_addr_parse(&l->client, cli, strlen(cli)));
    assert_true(nt_addr_parse(&l->server, srv, strlen(srv)));
    l->server_port = 53;
    l->transport = 17;
    l->has_question = true;
    l->qname = strdup(name);
    l->qtype = 1;
    l->qclass = 1;
    l->first_tx.kind = l->last_tx.kind = NT_TIME_ABSOLUTE;
    l->first_tx.sec = l->last_tx.sec = (int64_t)t;
    l->first_tx.nsec = l->last_tx.nsec = (uint32_t)((t - (double)(int64_t)t) * 1e9);
    l->transmissions = 1;
    l->query.role = EV_QUERY;
    l->query.pkt = (uint64_t)(t * 1000);
    l->query.ts = l->first_tx;
    l->query.text = strdup("query line");
    l->outcome = LOOKUP_UNANSWERED;
    return l;
}

static void answer(struct dns_lookup *l, uint16_t rcode, int64_t rtt_us)
{
    l->outcome = LOOKUP_ANSWERED;
    l->rcode = rcode;
    l->rtt_us = l->elapsed_us = rtt_us;
    l->answer.role = EV_ANSWER;
    l->answer.pkt = l->query.pkt + 1;
    l->answer.ts = nt_time_add_us(l->first_tx, rtt_us);
    l->answer.text = strdup("answer line");
}

struct run {
    struct detector *d;
    struct correlate_stats stats;
};

static void feed(struct run *r, struct dns_lookup *l)
{
    if (!r->d)
        r->d = detect_new(5000000);
    assert_non_null(r->d);
    detect_lookup(r->d, l);
    evidence_fini(&l->query);
    evidence_fini(&l->answer);
    free(l->qname);
    free(l);
}

/* The findings of rule id after finish (other rules may raise their own). */
static size_t finish(struct run *r, const char *id, const struct finding **out, size_t max)
{
    if (!r->d)
        r->d = detect_new(5000000);
    detect_finish(r->d, &r->stats);
    struct finding *const *fs;
    size_t n = detect_findings(r->d, &fs), k = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(fs[i]->id, id) == 0 && k < max)
            out[k++] = fs[i];
    return k;
}

/* The limit counter `name` of rule id (0 when never counted). */
static uint64_t limit(struct run *r, const char *id, const char *name)
{
    const struct detect_limit *ls;
    size_t n = detect_limits(r->d, &ls);
    for (size_t i = 0; i < n; i++)
        if (strcmp(ls[i].rule, id) == 0 && strcmp(ls[i].name, name) == 0)
            return ls[i].count;
    return 0;
}

/* The address of the i-th of many servers (10.x.y.z). */
static const char *nth_server(char *buf, size_t n, int i)
{
    snprintf(buf, n, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    return buf;
}

static void random_label(char *buf, size_t len, unsigned *seed)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < len; i++) {
        *seed = *seed * 1103515245u + 12345u;
        buf[i] = al[(*seed >> 16) % 36];
    }
    buf[len] = '\0';
}

/* --- dns.slow ------------------------------------------------------------------------- */

static void test_slow_fires_with_window(void **state)
{
    (void)state;
    struct run r = {0};
    /* 4 fast, 12 slow (600 ms), 4 fast. */
    double t = 1000.0;
    for (int i = 0; i < 20; i++, t += 1.0) {
        struct dns_lookup *l = lk("198.51.100.15", "198.51.100.2", "a.corp.example.", t);
        answer(l, 0, (i >= 4 && i < 16) ? 600000 : 2000);
        feed(&r, l);
    }
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.slow", f, 4), 1);
    assert_int_equal(f[0]->lookups, 12);
    assert_int_equal(f[0]->severity, SEV_MEDIUM);
    assert_int_equal(f[0]->attack, ATTACK_NONE);
    assert_true(f[0]->window.window_set);
    assert_true(f[0]->window.has_ok_before);
    assert_true(f[0]->window.has_ok_after);
    assert_int_equal(f[0]->first_seen.sec, 1004);
    assert_int_equal(f[0]->last_seen.sec, 1015); /* 1015 + 0.6 s */
    assert_int_equal(f[0]->window.ok_before.sec, 1003);
    assert_int_equal(f[0]->window.ok_after.sec, 1016);
    assert_int_equal(f[0]->window.ok_during, 0);
    assert_non_null(strstr(f[0]->summary, "Of its 20 answers"));
    /* Clustered at one delay: waiting on upstream ranks first. */
    assert_non_null(strstr(f[0]->causes[0].text, "waits on other DNS servers"));
    detect_free(r.d);
}

/* Many more services than the detector's memo of recent services has slots (40 of them one
 * address, told apart by port and transport), in turns, each turn in another order: each is
 * judged on its own lookups (every slow one with its own 20 answers, the fast ones not at all),
 * whether the rule found its item in the memo or in its table. */
static void test_slow_services_in_turns(void **state)
{
    (void)state;
    enum { SERVICES = 153, TURNS = 20 };
    struct run r = {0};
    double t = 1000.0;
    unsigned seed = 5;
    int order[SERVICES];
    for (int k = 0; k < SERVICES; k++)
        order[k] = k;
    for (int i = 0; i < TURNS; i++) {
        tu_shuffle(order, SERVICES, &seed);
        for (int k = 0; k < SERVICES; k++, t += 0.001) {
            int o = order[k];
            char srv[32];
            if (o < 40)
                snprintf(srv, sizeof srv, "198.51.100.2");
            else
                nth_server(srv, sizeof srv, o);
            struct dns_lookup *l = lk("198.51.100.15", srv, "a.example.", t);
            if (o < 40) {
                l->server_port = (uint16_t)(5300 + o / 2);
                l->transport = o % 2 ? 6 : 17;
            }
            answer(l, 0, o % 3 == 0 ? 600000 : 2000); /* every third service slow */
            feed(&r, l);
        }
    }
    const struct finding *f[SERVICES];
    size_t n = finish(&r, "dns.slow", f, SERVICES);
    assert_int_equal(n, (SERVICES + 2) / 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(f[i]->lookups, TURNS);
        assert_non_null(strstr(f[i]->summary, "Of its 20 answers"));
        char a[NT_ADDR_FMT_MAX];
        nt_addr_format(&f[i]->server, a, sizeof a);
        if (strcmp(a, "198.51.100.2") == 0) {
            int o = (f[i]->port - 5300) * 2 + (f[i]->transport == 6);
            assert_int_equal(o % 3, 0);
        } else {
            assert_int_equal(f[i]->port, 53);
        }
    }
    detect_free(r.d);
}

/* One slow answer among fast ones is no cluster: the upstream-wait cause is not given high
 * confidence from its shape. */
static void test_slow_one_answer_is_no_cluster(void **state)
{
    (void)state;
    struct run r = {0};
    for (int i = 0; i < 12; i++) {
        struct dns_lookup *l = lk("198.51.100.15", "198.51.100.2", "a.example.", 10.0 + 0.1 * i);
        answer(l, 0, i == 2 ? 2000000 : 1000);
        feed(&r, l);
    }
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.slow", f, 4), 1);
    assert_true(f[0]->window.ok_during > 0); /* fast answers came while it was slow */
    bool seen = false;
    for (size_t i = 0; i < f[0]->n_causes; i++) {
        const struct cause *c = &f[0]->causes[i];
        if (!strstr(c->text, "waits on other DNS servers"))
            continue;
        seen = true;
        assert_int_not_equal(c->confidence, CONF_HIGH);
        assert_null(strstr(c->reason, "cluster ("));
        assert_non_null(strstr(c->reason, "Only 1 answer was slow"));
    }
    assert_true(seen);
    detect_free(r.d);
}

static void test_slow_quiet(void **state)
{
    (void)state;
    /* All fast; and a server with too few answers to judge, even if slow. */
    struct run r = {0};
    for (int i = 0; i < 50; i++) {
        struct dns_lookup *l = lk("198.51.100.15", "198.51.100.2", "a.example.", 10.0 + i);
        answer(l, 0, 150000);
        feed(&r, l);
    }
    for (int i = 0; i < 5; i++) {
        struct dns_lookup *l = lk("198.51.100.15", "198.51.100.3", "a.example.", 10.0 + i);
        answer(l, 0, 3000000);
        feed(&r, l);
    }
    /* One slow answer in 40 keeps p95 and p50 low. */
    for (int i = 0; i < 40; i++) {
        struct dns_lookup *l = lk("198.51.100.15", "198.51.100.4", "a.example.", 10.0 + i);
        answer(l, 0, i == 7 ? 2000000 : 1000);
        feed(&r, l);
    }
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.slow", f, 4), 0);
    detect_free(r.d);
}

/* Servers used to be measured up to the 256th only, silently. */
static void test_slow_sees_the_300th_server(void **state)
{
    (void)state;
    struct run r = {0};
    char srv[32];
    for (int i = 0; i < 299; i++) {
        struct dns_lookup *l =
            lk("198.51.100.15", nth_server(srv, sizeof srv, i), "a.example.", 10.0 + i * 0.01);
        answer(l, 0, 2000);
        feed(&r, l);
    }
    for (int i = 0; i < 20; i++) {
        struct dns_lookup *l = lk("198.51.100.15", "198.51.100.99", "b.example.", 20.0 + i);
        answer(l, 0, 700000);
        feed(&r, l);
    }
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.slow", f, 4), 1);
    char want[NT_ADDR_FMT_MAX];
    nt_addr_format(&f[0]->server, want, sizeof want);
    assert_string_equal(want, "198.51.100.99");
    assert_int_equal(f[0]->lookups, 20);
    assert_int_equal(limit(&r, "dns.slow", "servers_ignored"), 0);
    detect_free(r.d);
}

/* Past the default bound of 1,024 servers (dns.slow.servers), the others are left out and counted.
 */
static void test_slow_counts_ignored_servers(void **state)
{
    (void)state;
    struct run r = {0};
    char srv[32];
    for (int i = 0; i < 1024 + 5; i++) {
        for (int k = 0; k < (i < 1024 ? 1 : 12); k++) {
            struct dns_lookup *l =
                lk("198.51.100.15", nth_server(srv, sizeof srv, i), "a.example.", 10.0 + k);
            answer(l, 0, i < 1024 ? 2000 : 900000);
            feed(&r, l);
        }
    }
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.slow", f, 4), 0);
    assert_int_equal(limit(&r, "dns.slow", "servers_ignored"), 5);
    assert_int_equal(limit(&r, "dns.slow", "answers_ignored"), 5 * 12);
    detect_free(r.d);
}

/* The bound is an option (--bound dns.slow.servers=N): with 10, the servers past the tenth are
 * left out and counted the same way; bounds that do not exist or are out of range are refused. */
static void test_slow_servers_bound_is_an_option(void **state)
{
    (void)state;
    struct run r = {0};
    r.d = detect_new(5000000);
    assert_non_null(r.d);
    assert_int_equal(detect_set_bound(r.d, "dns.slow", "servers", 10), 0);
    assert_int_equal(detect_set_bound(r.d, "dns.slow", "servers", 0), -2);
    assert_int_equal(detect_set_bound(r.d, "dns.slow", "nothing", 10), -1);
    assert_int_equal(detect_set_bound(r.d, "dns.nothing", "servers", 10), -1);
    assert_non_null(detect_find_bound("tcp.scan", "targets", NULL));
    assert_null(detect_find_bound("tcp.scan", "servers", NULL));
    char srv[32];
    for (int i = 0; i < 10 + 3; i++) {
        for (int k = 0; k < (i < 10 ? 1 : 12); k++) {
            struct dns_lookup *l =
                lk("198.51.100.15", nth_server(srv, sizeof srv, i), "a.example.", 10.0 + k);
            answer(l, 0, i < 10 ? 2000 : 900000);
            feed(&r, l);
        }
    }
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.slow", f, 4), 0);
    assert_int_equal(limit(&r, "dns.slow", "servers_ignored"), 3);
    assert_int_equal(limit(&r, "dns.slow", "answers_ignored"), 3 * 12);
    detect_free(r.d);
}

/* --- dns.flood ------------------------------------------------------------------------ */

static void steady(struct run *r, double from, int seconds)
{
    for (int s = 0; s < seconds; s++)
        for (int k = 0; k < 2; k++) {
            struct dns_lookup *l =
                lk("198.51.100.15", "198.51.100.2", "www.example.", from + s + 0.3 * k);
            answer(l, 0, 1000);
            feed(r, l);
        }
}

static void test_flood_fires(void **state)
{
    (void)state;
    struct run r = {0};
    steady(&r, 100.0, 5);
    /* 150 lookups in one second from 50 sources; a third unanswered. */
    for (int i = 0; i < 150; i++) {
        char cli[32];
        snprintf(cli, sizeof cli, "203.0.113.%d", 10 + i % 50);
        struct dns_lookup *l = lk(cli, "198.51.100.2", "www.example.", 105.0 + i * 0.005);
        if (i % 3)
            answer(l, 0, 1000);
        feed(&r, l);
    }
    steady(&r, 106.0, 3);
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.flood", f, 4), 1);
    assert_int_equal(f[0]->attack, ATTACK_T1499_002);
    assert_int_equal(f[0]->lookups, 150);
    assert_int_equal(f[0]->n_clients, 16);
    /* Failures rose with the flood: high. */
    assert_int_equal(f[0]->severity, SEV_HIGH);
    assert_int_equal(f[0]->first_seen.sec, 105);
    assert_non_null(strstr(f[0]->summary, "150 lookups in its busiest flood second"));
    assert_int_equal(f[0]->causes[0].confidence, CONF_HIGH);
    detect_free(r.d);
}

static void test_flood_quiet(void **state)
{
    (void)state;
    struct run r = {0};
    steady(&r, 100.0, 30);
    /* A page load: 60 lookups in a second stays under the 100 floor. */
    for (int i = 0; i < 60; i++) {
        struct dns_lookup *l =
            lk("198.51.100.15", "198.51.100.2", "cdn.example.", 200.0 + i * 0.01);
        answer(l, 0, 1000);
        feed(&r, l);
    }
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.flood", f, 4), 0);
    detect_free(r.d);
}

static void test_flood_ring_survives_long_and_disordered_captures(void **state)
{
    (void)state;
    struct run r = {0};
    /* 2000 s of steady traffic, a jump back in time (another input), then a flood. */
    steady(&r, 10000.0, 2000);
    steady(&r, 500.0, 10);
    for (int i = 0; i < 300; i++) {
        struct dns_lookup *l = lk("198.51.100.15", "198.51.100.2", "x.example.", 520.0 + i * 0.001);
        answer(l, 0, 1000);
        feed(&r, l);
    }
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.flood", f, 4), 1);
    assert_int_equal(f[0]->lookups, 300);
    detect_free(r.d);
}

/* `per_sec` lookups per second to srv from `from` for `seconds` seconds, spread evenly, from
 * `sources` clients (203.0.x.y), all answered. */
static void load(struct run *r, const char *srv, double from, int seconds, int per_sec, int sources)
{
    for (int s = 0; s < seconds; s++)
        for (int k = 0; k < per_sec; k++) {
            char cli[32];
            int c = (s * per_sec + k) % sources;
            snprintf(cli, sizeof cli, "203.0.%d.%d", 100 + c / 250, 1 + c % 250);
            struct dns_lookup *l =
                lk(cli, srv, "www.example.", from + s + (double)k / (double)per_sec);
            answer(l, 0, 1000);
            feed(r, l);
        }
}

/* The bench's busy resolvers: a steady 1,200 lookups per second at each of 4 resolvers from
 * 400 clients, the capture starting late in a second (its first second holds 40). Busy is not a
 * flood: it used to fire for every resolver (peak >= 1000 from >= 100 sources, "threshold" =
 * the peak itself). */
static void test_flood_steady_busy_load_is_no_flood(void **state)
{
    (void)state;
    struct run r = {0};
    static const char *srv[4] = {"203.0.113.53", "203.0.113.54", "203.0.113.55", "203.0.113.56"};
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 40; k++) {
            struct dns_lookup *l = lk("203.0.100.1", srv[i], "www.example.", 99.97 + k * 0.0007);
            answer(l, 0, 1000);
            feed(&r, l);
        }
        load(&r, srv[i], 100.0, 12, 1200, 400);
    }
    const struct finding *f[8];
    assert_int_equal(finish(&r, "dns.flood", f, 8), 0);
    detect_free(r.d);
}

/* A surge that fills most of the capture: 8 s at 20 per second, then 20 s at 400 per second
 * from 300 sources. The median of all seconds is the surge itself (it used to hide it); the
 * baseline is the calm rate before it. */
static void test_flood_long_surge_against_the_rate_before(void **state)
{
    (void)state;
    struct run r = {0};
    load(&r, "198.51.100.2", 100.0, 8, 20, 10);
    load(&r, "198.51.100.2", 108.0, 20, 400, 300);
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.flood", f, 4), 1);
    assert_int_equal(f[0]->lookups, 20 * 400);
    assert_int_equal(f[0]->first_seen.sec, 108);
    assert_non_null(strstr(f[0]->summary, "against a baseline of 20 per second"));
    bool thr = false;
    for (size_t i = 0; i < f[0]->n_facts; i++)
        thr |= strstr(f[0]->facts[i], "baseline 20 (the median") != NULL &&
               strstr(f[0]->facts[i], "flood threshold 200 (max(100, 10 x baseline)); 20 of 28 "
                                      "active seconds") != NULL;
    assert_true(thr);
    detect_free(r.d);
}

/* A surge over a busy baseline: 1,000 per second, then one second of 12,000: fires, and the
 * busy seconds after the surge stay calm. */
static void test_flood_surge_over_busy_baseline(void **state)
{
    (void)state;
    struct run r = {0};
    load(&r, "198.51.100.2", 100.0, 5, 1000, 200);
    load(&r, "198.51.100.2", 105.0, 1, 12000, 500);
    load(&r, "198.51.100.2", 106.0, 5, 1000, 200);
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.flood", f, 4), 1);
    assert_int_equal(f[0]->lookups, 12000);
    assert_non_null(strstr(f[0]->summary, "12000 lookups in its busiest flood second"));
    assert_non_null(strstr(f[0]->summary, "baseline of 1000 per second"));
    detect_free(r.d);
}

/* 150 lookups in one second to srv, between two calm seconds. */
static void flood_at(struct run *r, const char *srv, double t)
{
    for (int k = 0; k < 2; k++) {
        struct dns_lookup *l = lk("198.51.100.15", srv, "www.example.", t - 2.0 + k);
        answer(l, 0, 1000);
        feed(r, l);
    }
    for (int i = 0; i < 150; i++) {
        struct dns_lookup *l = lk("198.51.100.15", srv, "www.example.", t + i * 0.005);
        answer(l, 0, 1000);
        feed(r, l);
    }
}

/* Servers used to be measured up to the 64th only, silently. */
static void test_flood_sees_the_300th_server(void **state)
{
    (void)state;
    struct run r = {0};
    char srv[32];
    for (int i = 0; i < 299; i++) {
        struct dns_lookup *l =
            lk("198.51.100.15", nth_server(srv, sizeof srv, i), "a.example.", 10.0 + i * 0.01);
        answer(l, 0, 2000);
        feed(&r, l);
    }
    flood_at(&r, "198.51.100.99", 50.0);
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.flood", f, 4), 1);
    char want[NT_ADDR_FMT_MAX];
    nt_addr_format(&f[0]->server, want, sizeof want);
    assert_string_equal(want, "198.51.100.99");
    assert_int_equal(f[0]->lookups, 150);
    assert_int_equal(limit(&r, "dns.flood", "servers_ignored"), 0);
    detect_free(r.d);
}

/* Past DNS_FLOOD_MAX_SERVERS (1024) servers, the others are left out and counted, each once. */
static void test_flood_counts_ignored_servers(void **state)
{
    (void)state;
    struct run r = {0};
    char srv[32];
    for (int i = 0; i < 1024; i++) {
        struct dns_lookup *l =
            lk("198.51.100.15", nth_server(srv, sizeof srv, i), "a.example.", 10.0 + i * 0.001);
        answer(l, 0, 2000);
        feed(&r, l);
    }
    for (int i = 0; i < 3; i++) {
        struct dns_lookup *l =
            lk("198.51.100.15", nth_server(srv, sizeof srv, 5000 + i), "a.example.", 12.0);
        answer(l, 0, 2000);
        feed(&r, l);
    }
    flood_at(&r, "198.51.100.99", 50.0);
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.flood", f, 4), 0);
    assert_int_equal(limit(&r, "dns.flood", "servers_ignored"), 4);
    assert_int_equal(limit(&r, "dns.flood", "lookups_ignored"), 3 + 152);
    detect_free(r.d);
}

/* --- dns.nxdomain_surge --------------------------------------------------------------- */

static void test_nxdomain_random_subdomains(void **state)
{
    (void)state;
    struct run r = {0};
    unsigned seed = 7;
    struct dns_lookup *l = lk("198.51.100.15", "198.51.100.2", "www.corp.example.", 9.0);
    answer(l, 0, 1000);
    feed(&r, l);
    for (int i = 0; i < 60; i++) {
        char lab[16], name[64];
        random_label(lab, 12, &seed);
        snprintf(name, sizeof name, "%s.CORP.example.", lab);
        l = lk("198.51.100.15", "198.51.100.2", name, 10.0 + i * 0.01);
        answer(l, DNS_RCODE_NXDOMAIN, 1000);
        feed(&r, l);
    }
    l = lk("198.51.100.15", "198.51.100.2", "www.corp.example.", 20.0);
    answer(l, 0, 1000);
    feed(&r, l);
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.nxdomain_surge", f, 4), 1);
    assert_int_equal(f[0]->attack, ATTACK_T1499_002);
    assert_int_equal(f[0]->severity, SEV_MEDIUM);
    assert_int_equal(f[0]->lookups, 60);
    assert_non_null(strstr(f[0]->summary, "random-looking"));
    assert_non_null(strstr(f[0]->summary, "under corp.example."));
    assert_true(f[0]->window.window_set);
    assert_int_equal(f[0]->window.ok_before.sec, 9);
    assert_int_equal(f[0]->window.ok_after.sec, 20);
    detect_free(r.d);
}

static void test_nxdomain_typos_quiet_and_repeats_low(void **state)
{
    (void)state;
    struct run r = {0};
    for (int i = 0; i < 40; i++) {
        struct dns_lookup *l = lk("198.51.100.15", "198.51.100.2",
                                  i == 5    ? "wwww.corp.example."
                                  : i == 20 ? "mial.corp.example."
                                            : "www.corp.example.",
                                  10.0 + i);
        answer(l, i == 5 || i == 20 ? DNS_RCODE_NXDOMAIN : 0, 1000);
        feed(&r, l);
    }
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.nxdomain_surge", f, 4), 0);
    detect_free(r.d);

    /* One missing name asked 30 times: a misconfiguration, low, no technique. */
    struct run r2 = {0};
    for (int i = 0; i < 30; i++) {
        struct dns_lookup *l =
            lk("198.51.100.15", "198.51.100.2", "autodiscover.corp.co.uk.", 10.0 + i);
        answer(l, DNS_RCODE_NXDOMAIN, 1000);
        feed(&r2, l);
    }
    assert_int_equal(finish(&r2, "dns.nxdomain_surge", f, 4), 1);
    assert_int_equal(f[0]->severity, SEV_LOW);
    assert_int_equal(f[0]->attack, ATTACK_NONE);
    /* co.uk: the parent keeps three labels. */
    assert_non_null(strstr(f[0]->summary, "under corp.co.uk."));
    assert_non_null(strstr(f[0]->causes[0].text, "misconfiguration"));
    detect_free(r2.d);
}

static void test_nxdomain_dga_client(void **state)
{
    (void)state;
    struct run r = {0};
    unsigned seed = 99;
    static const char *tld[] = {"com", "net", "org", "info", "biz"};
    for (int i = 0; i < 40; i++) {
        char lab[16], name[64];
        random_label(lab, 11, &seed);
        snprintf(name, sizeof name, "%s.%s.", lab, tld[i % 5]);
        struct dns_lookup *l = lk("198.51.100.66", "198.51.100.2", name, 10.0 + i);
        answer(l, DNS_RCODE_NXDOMAIN, 1000);
        feed(&r, l);
    }
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.nxdomain_surge", f, 4), 1);
    assert_int_equal(f[0]->attack, ATTACK_T1568_002);
    assert_int_equal(f[0]->severity, SEV_HIGH);
    assert_non_null(strstr(f[0]->summary, "198.51.100.66"));
    detect_free(r.d);
}

static void test_nxdomain_bounded(void **state)
{
    (void)state;
    /* Many clients and parents: the tables stay bounded and the big domain still fires. */
    struct run r = {0};
    unsigned seed = 3;
    for (int i = 0; i < 5000; i++) {
        char lab[16], name[96], cli[32];
        random_label(lab, 12, &seed);
        if (i % 2)
            snprintf(name, sizeof name, "%s.victim.example.", lab);
        else
            snprintf(name, sizeof name, "x.d%d.example%d.", i, i % 7);
        snprintf(cli, sizeof cli, "203.0.113.%d", i % 250);
        struct dns_lookup *l = lk(cli, "198.51.100.2", name, 10.0 + i * 0.01);
        answer(l, DNS_RCODE_NXDOMAIN, 1000);
        feed(&r, l);
    }
    const struct finding *f[8];
    size_t n = finish(&r, "dns.nxdomain_surge", f, 8);
    bool victim = false;
    for (size_t i = 0; i < n; i++)
        victim |= strstr(f[i]->summary, "under victim.example.") != NULL;
    assert_true(victim);
    detect_free(r.d);
}

/* The window of a domain whose entry stays while thousands of others replace each other in the
 * table: successes after the surge still find it (the tables' presence counts follow every
 * replacement). */
static void test_nxdomain_window_after_churn(void **state)
{
    (void)state;
    struct run r = {0};
    unsigned seed = 11;
    struct dns_lookup *l = lk("198.51.100.15", "198.51.100.2", "www.victim.example.", 9.0);
    answer(l, 0, 1000);
    feed(&r, l);
    for (int i = 0; i < 60; i++) {
        char lab[16], name[64];
        random_label(lab, 12, &seed);
        snprintf(name, sizeof name, "%s.victim.example.", lab);
        l = lk("198.51.100.15", "198.51.100.2", name, 10.0 + i * 0.01);
        answer(l, DNS_RCODE_NXDOMAIN, 1000);
        feed(&r, l);
    }
    for (int i = 0; i < 3000; i++) {
        char name[64], cli[32];
        snprintf(name, sizeof name, "x.d%d.example.", i);
        snprintf(cli, sizeof cli, "203.0.%d.%d", 1 + i / 250, i % 250);
        l = lk(cli, "198.51.100.2", name, 11.0 + i * 0.001);
        answer(l, DNS_RCODE_NXDOMAIN, 1000);
        feed(&r, l);
        /* Successes for parents and clients just replaced, and for ones never seen. */
        l = lk(cli, "198.51.100.2", i % 2 ? name : "www.other.example.", 11.0 + i * 0.001);
        answer(l, 0, 1000);
        feed(&r, l);
    }
    l = lk("198.51.100.15", "198.51.100.2", "www.victim.example.", 30.0);
    answer(l, 0, 1000);
    feed(&r, l);
    const struct finding *f[8];
    size_t n = finish(&r, "dns.nxdomain_surge", f, 8);
    const struct finding *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (strstr(f[i]->summary, "under victim.example."))
            v = f[i];
    assert_non_null(v);
    assert_int_equal(v->lookups, 60);
    assert_true(v->window.has_ok_before);
    assert_int_equal(v->window.ok_before.sec, 9);
    assert_true(v->window.has_ok_after);
    assert_int_equal(v->window.ok_after.sec, 30);
    detect_free(r.d);
}

/* n NXDOMAIN answers for names under parent at times from *t on: name i is "n<i % distinct>". */
static void nx_burst(struct run *r, const char *parent, int n, int distinct, double *t)
{
    for (int i = 0; i < n; i++, *t += 0.01) {
        char name[96];
        snprintf(name, sizeof name, "n%d.%s", i % distinct, parent);
        struct dns_lookup *l = lk("198.51.100.15", "198.51.100.2", name, *t);
        answer(l, DNS_RCODE_NXDOMAIN, 1000);
        feed(r, l);
    }
}

static const struct finding *nx_under(const struct finding **f, size_t n, const char *under)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(f[i]->summary, under))
            return f[i];
    return NULL;
}

/* A full table replaces the first entry with the fewest NXDOMAIN answers: the first with one
 * (the entry just made there is replaced again, not a later one with one), or the least when
 * every entry has more than one; a replaced entry starts again from nothing. Distinct names are
 * counted exactly past the few an entry keeps without a table. */
static void test_nxdomain_replaces_the_first_fewest(void **state)
{
    (void)state;
    struct run r = {0};
    r.d = detect_new(5000000);
    assert_non_null(r.d);
    assert_int_equal(detect_set_bound(r.d, "dns.nxdomain_surge", "domains", 4), 0);
    double t = 10.0;
    nx_burst(&r, "alpha.example.", 30, 6, &t);
    nx_burst(&r, "bravo.example.", 1, 1, &t);
    nx_burst(&r, "charlie.example.", 3, 3, &t);
    nx_burst(&r, "golf.example.", 1, 1, &t);   /* full */
    nx_burst(&r, "delta.example.", 1, 1, &t);  /* replaces bravo, the first with one */
    nx_burst(&r, "echo.example.", 1, 1, &t);   /* replaces delta, before golf */
    nx_burst(&r, "golf.example.", 20, 1, &t);  /* still there: 21 */
    nx_burst(&r, "echo.example.", 2, 1, &t);   /* 3: every entry has more than one */
    nx_burst(&r, "bravo.example.", 30, 25, &t); /* replaces echo (3, before charlie's 3) */
    nx_burst(&r, "charlie.example.", 20, 3, &t); /* still there: 23 */
    const struct finding *f[8];
    size_t n = finish(&r, "dns.nxdomain_surge", f, 8);
    assert_int_equal(n, 4);
    const struct finding *a = nx_under(f, n, "under alpha.example.");
    const struct finding *b = nx_under(f, n, "under bravo.example.");
    const struct finding *c = nx_under(f, n, "under charlie.example.");
    const struct finding *g = nx_under(f, n, "under golf.example.");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(g);
    assert_int_equal(a->lookups, 30);
    assert_non_null(strstr(a->summary, ": 6 distinct names"));
    assert_int_equal(b->lookups, 30);
    assert_non_null(strstr(b->summary, ": 25 distinct names"));
    assert_int_equal(c->lookups, 23);
    assert_non_null(strstr(c->summary, ": 3 distinct names"));
    assert_int_equal(g->lookups, 21);
    assert_int_equal(limit(&r, "dns.nxdomain_surge", "domains_replaced"), 3);
    detect_free(r.d);

    /* The bound on distinct names, below and above what an entry keeps without a table. */
    static const struct {
        uint64_t bound;
        const char *want;
    } caps[] = {{3, ": 3+ distinct names"}, {6, ": 6+ distinct names"}, {40, ": 10 distinct names"}};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        struct run r2 = {0};
        r2.d = detect_new(5000000);
        assert_non_null(r2.d);
        assert_int_equal(detect_set_bound(r2.d, "dns.nxdomain_surge", "names", caps[i].bound), 0);
        t = 10.0;
        nx_burst(&r2, "alpha.example.", 30, 10, &t);
        n = finish(&r2, "dns.nxdomain_surge", f, 8);
        assert_int_equal(n, 1);
        assert_non_null(strstr(f[0]->summary, caps[i].want));
        detect_free(r2.d);
    }
}

/* The names asked most at a flooded server: a name longer than the counters' inline room is
 * kept whole, and spellings that differ only in case count as one, under the first spelling. */
static void test_flood_top_names(void **state)
{
    (void)state;
    struct run r = {0};
    const char *lng = "a-very-long-label-that-goes-on-and-on.another-long-label-too.example.";
    assert_true(strlen(lng) >= 64);
    for (int k = 0; k < 2; k++) {
        struct dns_lookup *l = lk("198.51.100.15", "198.51.100.2", "calm.example.", 8.0 + k);
        answer(l, 0, 1000);
        feed(&r, l);
    }
    for (int i = 0; i < 150; i++) {
        const char *name = i < 100 ? lng : i < 130 ? "Mixed.Example." : "mixed.example.";
        struct dns_lookup *l = lk("198.51.100.15", "198.51.100.2", name, 10.0 + i * 0.005);
        answer(l, 0, 1000);
        feed(&r, l);
    }
    const struct finding *f[4];
    assert_int_equal(finish(&r, "dns.flood", f, 4), 1);
    char want[128];
    snprintf(want, sizeof want, "%s A", lng);
    bool has_long = false, has_mixed = false, has_lower = false;
    for (size_t i = 0; i < f[0]->n_names; i++) {
        has_long |= strcmp(f[0]->names[i], want) == 0;
        has_mixed |= strcmp(f[0]->names[i], "Mixed.Example. A") == 0;
        has_lower |= strcmp(f[0]->names[i], "mixed.example. A") == 0;
    }
    assert_true(has_long);
    assert_true(has_mixed);
    assert_false(has_lower);
    detect_free(r.d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_fires_with_window),
        cmocka_unit_test(test_slow_one_answer_is_no_cluster),
        cmocka_unit_test(test_slow_quiet),
        cmocka_unit_test(test_slow_services_in_turns),
        cmocka_unit_test(test_slow_sees_the_300th_server),
        cmocka_unit_test(test_slow_counts_ignored_servers),
        cmocka_unit_test(test_slow_servers_bound_is_an_option),
        cmocka_unit_test(test_flood_fires),
        cmocka_unit_test(test_flood_quiet),
        cmocka_unit_test(test_flood_steady_busy_load_is_no_flood),
        cmocka_unit_test(test_flood_long_surge_against_the_rate_before),
        cmocka_unit_test(test_flood_surge_over_busy_baseline),
        cmocka_unit_test(test_flood_top_names),
        cmocka_unit_test(test_flood_ring_survives_long_and_disordered_captures),
        cmocka_unit_test(test_flood_sees_the_300th_server),
        cmocka_unit_test(test_flood_counts_ignored_servers),
        cmocka_unit_test(test_nxdomain_random_subdomains),
        cmocka_unit_test(test_nxdomain_typos_quiet_and_repeats_low),
        cmocka_unit_test(test_nxdomain_dga_client),
        cmocka_unit_test(test_nxdomain_bounded),
        cmocka_unit_test(test_nxdomain_replaces_the_first_fewest),
        cmocka_unit_test(test_nxdomain_window_after_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
