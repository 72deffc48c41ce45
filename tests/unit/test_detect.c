/* test_detect.c: the detector and the dns.port_unreachable rule: when it fires, when it stays
 * quiet, and what its causes say. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/text.h"

static struct dns_lookup *lk(const char *cli, const char *srv, uint16_t id, const char *name,
                             double t)
{
    struct dns_lookup *l = calloc(1, sizeof *l);
    assert_non_null(l);
    assert_true(nt_addr_parse(&l->client, cli, strlen(cli)));
    assert_true(nt_addr_parse(&l->server, srv, strlen(srv)));
    l->server_port = 53;
    l->transport = 17;
    l->id = id;
    l->has_question = true;
    l->qname = strdup(name);
    l->qtype = 1;
    l->qclass = 1;
    l->first_tx.kind = l->last_tx.kind = NT_TIME_ABSOLUTE;
    l->first_tx.sec = l->last_tx.sec = (int64_t)t;
    l->transmissions = 1;
    l->query.role = EV_QUERY;
    l->query.pkt = (uint64_t)(t * 10);
    l->query.ts = l->first_tx;
    l->query.text = strdup("query line");
    l->query.ip_version = 4;
    return l;
}

static void fail_with(struct dns_lookup *l, enum icmp_sender sender, enum icmp_kind kind, double t)
{
    l->outcome = LOOKUP_ICMP_ERROR;
    l->icmp_kind = (uint8_t)kind;
    l->icmp_sender = (uint8_t)sender;
    l->n_errors = 1;
    l->matched_by_id = true;
    l->error.role = EV_ICMP_ERROR;
    l->error.pkt = l->query.pkt + 1;
    l->error.ts.kind = NT_TIME_ABSOLUTE;
    l->error.ts.sec = (int64_t)t;
    l->error.text = strdup("error line");
    l->error.quote_present = true;
}

static void lk_free(struct dns_lookup *l)
{
    evidence_fini(&l->query);
    evidence_fini(&l->error);
    free(l->qname);
    free(l);
}

static struct correlate_stats stats;

static size_t run(struct dns_lookup **ls, size_t n, struct detector **out)
{
    struct detector *d = detect_new(5000000);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        detect_lookup(d, ls[i]);
    detect_finish(d, &stats);
    struct finding *const *f;
    size_t nf = detect_findings(d, &f);
    *out = d;
    return nf;
}

static void test_fires_on_server_port_unreachable(void **state)
{
    (void)state;
    struct dns_lookup *ls[3];
    for (int i = 0; i < 3; i++) {
        ls[i] = lk("198.51.100.15", "198.51.100.2", (uint16_t)(100 + i), "yummyrecipesforme.com.",
                   1000.0 + i);
        fail_with(ls[i], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 1000.0 + i);
    }
    struct detector *d;
    assert_int_equal(run(ls, 3, &d), 1);
    struct finding *const *fs;
    detect_findings(d, &fs);
    const struct finding *f = fs[0];
    assert_string_equal(f->id, "dns.port_unreachable");
    assert_int_equal(f->severity, SEV_HIGH);
    assert_int_equal(f->lookups, 3);
    assert_int_equal(f->packets, 6);
    assert_int_equal(f->n_clients, 1);
    assert_int_equal(f->n_names, 1);
    assert_string_equal(f->names[0], "yummyrecipesforme.com. A");
    assert_int_equal(f->n_evidence, 6);
    assert_int_equal(f->port, 53);
    assert_int_equal(f->transport, 17);
    assert_non_null(f->summary);
    assert_non_null(strstr(f->summary, "198.51.100.2"));
    /* Never answered: "nothing listening" ranks first with high confidence, the firewall
     * second (it cannot be excluded), load last. */
    assert_true(f->n_causes >= 3);
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(f->causes[0].text, "No DNS service"));
    assert_int_equal(f->causes[1].confidence, CONF_MEDIUM);
    assert_non_null(strstr(f->causes[1].text, "firewall"));
    assert_int_equal(f->causes[2].confidence, CONF_LOW);
    assert_true(f->n_next_steps >= 4);
    detect_free(d);
    for (int i = 0; i < 3; i++)
        lk_free(ls[i]);
}

static void test_quiet_cases(void **state)
{
    (void)state;
    /* Answered lookups, port unreachable from a router, other ICMP kinds, silence: no finding
     * of the two ICMP-refusal rules (other rules judge silence and time exceeded). */
    struct dns_lookup *ls[4];
    ls[0] = lk("198.51.100.15", "198.51.100.2", 1, "a.example.", 1.0);
    ls[0]->outcome = LOOKUP_ANSWERED;
    ls[1] = lk("198.51.100.15", "203.0.113.2", 2, "b.example.", 2.0);
    fail_with(ls[1], ICMP_SENDER_PATH, ICMP_K_PORT_UNREACH, 2.0);
    ls[2] = lk("198.51.100.15", "198.51.100.2", 3, "c.example.", 3.0);
    fail_with(ls[2], ICMP_SENDER_PATH, ICMP_K_TIME_EXCEEDED, 3.0);
    ls[3] = lk("198.51.100.15", "198.51.100.2", 4, "d.example.", 4.0);
    ls[3]->outcome = LOOKUP_UNANSWERED;
    struct detector *d;
    size_t nf = run(ls, 4, &d);
    struct finding *const *fs;
    detect_findings(d, &fs);
    for (size_t i = 0; i < nf; i++) {
        assert_string_not_equal(fs[i]->id, "dns.port_unreachable");
        assert_string_not_equal(fs[i]->id, "dns.admin_prohibited");
    }
    detect_free(d);
    for (int i = 0; i < 4; i++)
        lk_free(ls[i]);
}

static void test_service_that_stopped(void **state)
{
    (void)state;
    /* The server answered before it began refusing: the cause changes to a stop/restart. */
    struct dns_lookup *ls[3];
    ls[0] = lk("198.51.100.15", "198.51.100.2", 1, "a.example.", 1.0);
    ls[0]->outcome = LOOKUP_ANSWERED;
    ls[0]->answer.ts = ls[0]->first_tx;
    ls[1] = lk("198.51.100.16", "198.51.100.2", 2, "b.example.", 50.0);
    fail_with(ls[1], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 50.0);
    ls[2] = lk("198.51.100.17", "198.51.100.2", 3, "b.example.", 60.0);
    fail_with(ls[2], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 60.0);
    struct detector *d;
    assert_int_equal(run(ls, 3, &d), 1);
    struct finding *const *fs;
    detect_findings(d, &fs);
    assert_int_equal(fs[0]->lookups, 2);
    assert_int_equal(fs[0]->n_clients, 2);
    assert_int_equal(fs[0]->n_names, 1);
    assert_int_equal(fs[0]->causes[0].confidence, CONF_MEDIUM);
    assert_non_null(strstr(fs[0]->causes[0].text, "stopped or restarted"));
    detect_free(d);
    for (int i = 0; i < 3; i++)
        lk_free(ls[i]);
}

/* The incident window: the last answer before the first failure, the first answer after the
 * last one, and answers in between (intermittent), from the same server and port only. */
static void test_incident_window(void **state)
{
    (void)state;
    double answered_at[] = {10.0, 20.0, 45.0, 80.0};
    struct dns_lookup *ls[8];
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        ls[n] = lk("198.51.100.15", "198.51.100.2", (uint16_t)(1 + i), "a.example.",
                   answered_at[i] - 0.5);
        ls[n]->outcome = LOOKUP_ANSWERED;
        ls[n]->answer.ts.kind = NT_TIME_ABSOLUTE;
        ls[n]->answer.ts.sec = (int64_t)answered_at[i];
        n++;
    }
    /* A SERVFAIL is no success, and another server's answers do not count. */
    ls[n] = lk("198.51.100.15", "198.51.100.2", 9, "a.example.", 29.0);
    ls[n]->outcome = LOOKUP_ANSWERED;
    ls[n]->rcode = DNS_RCODE_SERVFAIL;
    ls[n]->answer.ts.kind = NT_TIME_ABSOLUTE;
    ls[n]->answer.ts.sec = 29;
    n++;
    ls[n] = lk("198.51.100.15", "198.51.100.3", 9, "a.example.", 30.0);
    ls[n]->outcome = LOOKUP_ANSWERED;
    ls[n]->answer.ts.kind = NT_TIME_ABSOLUTE;
    ls[n]->answer.ts.sec = 30;
    n++;
    ls[n] = lk("198.51.100.15", "198.51.100.2", 7, "b.example.", 30.0);
    fail_with(ls[n++], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 30.0);
    ls[n] = lk("198.51.100.15", "198.51.100.2", 8, "b.example.", 60.0);
    fail_with(ls[n++], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 60.0);
    struct detector *d;
    run(ls, n, &d);
    struct finding *const *fs;
    size_t nf = detect_findings(d, &fs);
    const struct finding *f = NULL;
    for (size_t i = 0; i < nf; i++)
        if (strcmp(fs[i]->id, "dns.port_unreachable") == 0)
            f = fs[i];
    assert_non_null(f);
    assert_true(f->window.has_ok_before);
    assert_int_equal(f->window.ok_before.sec, 20);
    assert_true(f->window.has_ok_after);
    assert_int_equal(f->window.ok_after.sec, 80);
    assert_int_equal(f->window.ok_during, 1); /* the answer at 45 s */
    assert_int_equal(f->window.ok_total, 4);
    assert_int_equal(f->first_seen.sec, 30);
    assert_int_equal(f->last_seen.sec, 60);
    detect_free(d);
    for (size_t i = 0; i < n; i++)
        lk_free(ls[i]);
}

/* The incident window does not depend on the order successes reach the detector: in order,
 * nearly in order (neighbours swapped) and reversed (far out of order: the sort's fallback). */
static void test_incident_window_any_order(void **state)
{
    (void)state;
    enum { N = 1000 };
    for (int order = 0; order < 3; order++) {
        struct dns_lookup *ls[N + 2];
        for (int i = 0; i < N; i++) {
            int k = order == 0 ? i : order == 1 ? (i ^ 1) : N - 1 - i;
            double at = 2.0 * k + 1; /* odd seconds */
            ls[i] = lk("198.51.100.15", "198.51.100.2", (uint16_t)i, "a.example.", at - 0.5);
            ls[i]->outcome = LOOKUP_ANSWERED;
            ls[i]->answer.ts.kind = NT_TIME_ABSOLUTE;
            ls[i]->answer.ts.sec = (int64_t)at;
        }
        ls[N] = lk("198.51.100.15", "198.51.100.2", 7, "b.example.", 500.0);
        fail_with(ls[N], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 500.0);
        ls[N + 1] = lk("198.51.100.15", "198.51.100.2", 8, "b.example.", 600.0);
        fail_with(ls[N + 1], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 600.0);
        struct detector *d;
        run(ls, N + 2, &d);
        struct finding *const *fs;
        size_t nf = detect_findings(d, &fs);
        const struct finding *f = NULL;
        for (size_t i = 0; i < nf; i++)
            if (strcmp(fs[i]->id, "dns.port_unreachable") == 0)
                f = fs[i];
        assert_non_null(f);
        assert_true(f->window.has_ok_before);
        assert_int_equal(f->window.ok_before.sec, 499);
        assert_true(f->window.has_ok_after);
        assert_int_equal(f->window.ok_after.sec, 601);
        assert_int_equal(f->window.ok_during, 50); /* 501, 503, ..., 599 */
        assert_int_equal(f->window.ok_total, N);
        detect_free(d);
        for (int i = 0; i < N + 2; i++)
            lk_free(ls[i]);
    }
}

/* A rule makes at most DETECT_MAX_FINDINGS_PER_RULE findings; the rest are counted, each key
 * once however many of its lookups come (here three each for the five servers past the cap). */
static void test_findings_are_capped(void **state)
{
    (void)state;
    struct detector *d = detect_new(5000000);
    assert_non_null(d);
    size_t n = DETECT_MAX_FINDINGS_PER_RULE + 5 + 10;
    for (size_t k = 0; k < n; k++) {
        size_t i = k < DETECT_MAX_FINDINGS_PER_RULE + 5 ? k : DETECT_MAX_FINDINGS_PER_RULE + k % 5;
        char srv[32];
        snprintf(srv, sizeof srv, "10.%zu.%zu.1", i / 250, i % 250);
        struct dns_lookup *l = lk("198.51.100.15", srv, (uint16_t)k, "a.example.", 1.0);
        fail_with(l, ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 1.0);
        detect_lookup(d, l);
        lk_free(l);
    }
    detect_finish(d, &stats);
    struct finding *const *fs;
    assert_int_equal(detect_findings(d, &fs), DETECT_MAX_FINDINGS_PER_RULE);
    assert_int_equal(detect_findings_omitted(d), 5);
    detect_free(d);
}

static void test_one_finding_per_server_and_no_backticks_from_wire(void **state)
{
    (void)state;
    struct dns_lookup *ls[2];
    ls[0] = lk("198.51.100.15", "198.51.100.2", 1, "evil\\`rm -rf\\`.a\\|b\\\\\\`.example.", 1.0);
    fail_with(ls[0], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 1.0);
    ls[1] = lk("198.51.100.15", "198.51.100.3", 2, "b.example.", 2.0);
    fail_with(ls[1], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 2.0);
    struct detector *d;
    assert_int_equal(run(ls, 2, &d), 2);
    struct finding *const *fs;
    detect_findings(d, &fs);
    /* Ordered by severity, then time. */
    assert_int_equal(fs[0]->server.a[3], 2);
    assert_int_equal(fs[1]->server.a[3], 3);
    assert_string_equal(fs[0]->names[0], "evil\\096rm -rf\\096.a\\124b\\\\\\096.example. A");
    /* Commands in the steps are backtick pairs of our own; the name adds none. */
    for (size_t k = 0; k < fs[0]->n_next_steps; k++) {
        size_t ticks = 0;
        for (const char *p = fs[0]->next_steps[k]; *p; p++)
            ticks += *p == '`';
        assert_int_equal(ticks % 2, 0);
        assert_null(strstr(fs[0]->next_steps[k], "`rm"));
    }
    /* The name reaches the shell as one quoted word. */
    bool found = false;
    for (size_t k = 0; k < fs[0]->n_next_steps; k++)
        found |= strstr(fs[0]->next_steps[k],
                        "`dig @198.51.100.2 'evil\\096rm -rf\\096.a\\124b\\\\\\096.example.' A`") !=
                 NULL;
    assert_true(found);
    detect_free(d);
    for (int i = 0; i < 2; i++)
        lk_free(ls[i]);
}

static void test_admin_prohibited_names_the_filtering_host(void **state)
{
    (void)state;
    struct dns_lookup *ls[2];
    for (int i = 0; i < 2; i++) {
        ls[i] = lk("198.51.100.15", "203.0.113.2", (uint16_t)(7 + i), "a.example.", 5.0 + i);
        fail_with(ls[i], ICMP_SENDER_PATH, ICMP_K_ADMIN_PROHIBITED, 5.0 + i);
        assert_true(nt_addr_parse(&ls[i]->error.src, "198.51.100.1", 12));
    }
    struct detector *d;
    assert_int_equal(run(ls, 2, &d), 1);
    struct finding *const *fs;
    detect_findings(d, &fs);
    assert_string_equal(fs[0]->id, "dns.admin_prohibited");
    assert_int_equal(fs[0]->lookups, 2);
    assert_int_equal(fs[0]->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(fs[0]->causes[0].text, "on the path"));
    assert_non_null(strstr(fs[0]->summary, "198.51.100.1"));
    assert_non_null(strstr(fs[0]->next_steps[0], "On 198.51.100.1,"));
    detect_free(d);
    for (int i = 0; i < 2; i++)
        lk_free(ls[i]);
}

static void test_shell_words(void **state)
{
    (void)state;
    char b[256];
    text_shell_word("198.51.100.2", b, sizeof b);
    assert_string_equal(b, "198.51.100.2");
    text_shell_word("2001:db8::2", b, sizeof b);
    assert_string_equal(b, "2001:db8::2");
    text_shell_word("s|r$(id);x", b, sizeof b);
    assert_string_equal(b, "'s|r$(id);x'");
    text_shell_word("it's", b, sizeof b);
    assert_string_equal(b, "'it'\\''s'");
    text_shell_word("a`b", b, sizeof b);
    assert_string_equal(b, "'a\\096b'");
    text_shell_query("www.example.com. AAAA", b, sizeof b);
    assert_string_equal(b, "www.example.com. AAAA");
    text_shell_query("a\\032b. TXT", b, sizeof b);
    assert_string_equal(b, "'a\\032b.' TXT");
    /* A name dig would read as an option comes after -q. */
    text_shell_query("-f/tmp/x/. A", b, sizeof b);
    assert_string_equal(b, "-q -f/tmp/x/. A");
    text_shell_query("+short. A", b, sizeof b);
    assert_string_equal(b, "-q +short. A");
}

/* "1 queries" is never written: a count of 1 takes the singular noun, and its verb agrees;
 * numbers that merely end in 1, and "1 of the ...", are left alone. */
static void test_singular_counts(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"The capture shows 1 queries from 1 client.", "The capture shows 1 query from 1 client."},
        {"1 of the 1 queries asked", "1 of the 1 query asked"},
        {"None of the 1 lookups to 192.0.2.1 got", "None of the 1 lookup to 192.0.2.1 got"},
        {"1 distinct names were seen", "1 distinct name was seen"},
        {"1 further truncated answers were not kept", "1 further truncated answer was not kept"},
        {"21 queries, 11 lookups and 1.5 errors", "21 queries, 11 lookups and 1.5 errors"},
        {"1 of the errors quote", "1 of the errors quote"},
        {"2 queries and 1 SYNs", "2 queries and 1 SYN"},
        {"from 10.0.0.1 queries", "from 10.0.0.1 queries"},
        {"(1 lookups)", "(1 lookup)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char b[128];
        snprintf(b, sizeof b, "%s", cases[i][0]);
        finding_singularise(b);
        assert_string_equal(b, cases[i][1]);
    }
}

/* finding_reset: a finding filled past its evidence cap, with sentences, is all zero again (as
 * calloc makes it) and can be filled again; small lists' arrays are kept for the next key. */
static void test_finding_reset(void **state)
{
    (void)state;
    struct finding *f = calloc(1, sizeof *f);
    unsigned char *zero = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(zero);
    for (int round = 0; round < 2; round++) {
        f->key = strdup("k");
        f->lookups = 7;
        char name[32];
        for (int i = 0; i < 300; i++) {
            struct dns_lookup *l =
                lk("192.0.2.9", "198.51.100.1", (uint16_t)i, "a.example.", 100.0 - i * 0.1);
            l->client.a[3] = (uint8_t)i; /* up to 256 distinct clients, then dropped */
            finding_add_client(f, &l->client);
            snprintf(name, sizeof name, "n%d.example. A", i % 20);
            finding_add_name(f, name);
            finding_add_evidence(f, &l->query);
            finding_see_time(f, &l->first_tx);
            lk_free(l);
        }
        assert_int_equal(f->n_evidence, FINDING_MAX_EVIDENCE);
        assert_true(f->evidence_dropped > 0);
        finding_set_summary(f, "summary %d", round);
        finding_add_fact(f, "fact");
        finding_add_cause(f, CONF_HIGH, "cause", "reason");
        finding_add_step(f, "step");
        finding_reset(f);
        /* Lists grown past their first size are released with the rest. */
        assert_memory_equal(f, zero, sizeof *f);
    }
    /* Lists of their first size are kept, empty, for the next key. */
    struct dns_lookup *l = lk("192.0.2.9", "198.51.100.1", 7, "a.example.", 100.0);
    finding_add_client(f, &l->client);
    finding_add_name(f, "a.example. A");
    finding_add_evidence(f, &l->query);
    lk_free(l);
    finding_reset(f);
    assert_non_null(f->clients);
    assert_int_equal(f->cap_clients, 4);
    assert_non_null(f->names);
    assert_int_equal(f->cap_names, 4);
    assert_non_null(f->evidence);
    assert_int_equal(f->cap_evidence, 4);
    struct finding rest = *f;
    rest.clients = NULL;
    rest.cap_clients = 0;
    rest.names = NULL;
    rest.cap_names = 0;
    rest.evidence = NULL;
    rest.cap_evidence = 0;
    assert_memory_equal(&rest, zero, sizeof rest);
    finding_free(f);
    free(zero);
}

/* The client and name lists (searched through an index once long) and the evidence list (its
 * packet to drop first remembered) hold what a plain scan of each would: the first 256 distinct
 * clients and names in arrival order, every add of another one past the cap counted as dropped,
 * and the 64 earliest packets whatever order they came in; also after finding_settle reorders
 * the lists. */
static const struct finding *finding_of(struct detector *d, const char *id, const char *server)
{
    struct finding *const *fs;
    size_t nf = detect_findings(d, &fs);
    for (size_t i = 0; i < nf; i++) {
        char a[NT_ADDR_FMT_MAX];
        text_addr(&fs[i]->server, a, sizeof a);
        if (strcmp(fs[i]->id, id) == 0 && strcmp(a, server) == 0)
            return fs[i];
    }
    return NULL;
}

/* --bound detect.services: 16 servers answered (each has both a server_stats and a success
 * history, one kept service), then 198.51.100.2 (kept) and 198.51.100.17 (not kept) each
 * answered once and then refused a lookup with port unreachable, and 198.51.100.18 (not kept)
 * refused three. The kept server's finding states its answers and window; the others' state
 * that their figures were not kept, and nothing that would need them. */
static void test_services_bound(void **state)
{
    (void)state;
    struct dns_lookup *ls[32];
    size_t n = 0;
    char srv[32];
    for (int i = 1; i <= 17; i++) {
        snprintf(srv, sizeof srv, "198.51.100.%d", i);
        ls[n] = lk("192.0.2.10", srv, (uint16_t)i, "a.example.", 1.0 + i);
        ls[n]->outcome = LOOKUP_ANSWERED;
        ls[n]->answer.ts = ls[n]->first_tx;
        n++;
    }
    ls[n] = lk("192.0.2.10", "198.51.100.2", 40, "b.example.", 40.0);
    fail_with(ls[n++], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 40.0);
    ls[n] = lk("192.0.2.10", "198.51.100.17", 41, "b.example.", 41.0);
    fail_with(ls[n++], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 41.0);
    for (int i = 0; i < 3; i++) {
        ls[n] = lk("192.0.2.10", "198.51.100.18", (uint16_t)(50 + i), "c.example.", 50.0 + i);
        fail_with(ls[n++], ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 50.0 + i);
    }
    struct detector *d = detect_new(5000000);
    assert_non_null(d);
    detect_set_limits(d, 0, 0, 16, 0, 0);
    for (size_t i = 0; i < n; i++)
        detect_lookup(d, ls[i]);
    detect_finish(d, &stats);
    uint64_t services, events;
    detect_services_not_kept(d, &services, &events);
    assert_int_equal(services, 2); /* .17 and .18, each once */
    assert_int_equal(events, 5);   /* .17's answer and error, .18's three errors */

    const struct finding *kept = finding_of(d, "dns.port_unreachable", "198.51.100.2");
    assert_non_null(kept);
    assert_false(kept->window.successes_unknown);
    assert_int_equal(kept->window.ok_total, 1);
    assert_true(kept->window.has_ok_before);
    assert_true(tu_has_fact(kept, "answered 1 of its 2 lookups"));
    assert_false(tu_has_fact(kept, "did not keep"));
    assert_non_null(strstr(kept->causes[0].text, "stopped or restarted"));

    const char *gone[] = {"198.51.100.17", "198.51.100.18"};
    for (size_t k = 0; k < 2; k++) {
        const struct finding *f = finding_of(d, "dns.port_unreachable", gone[k]);
        assert_non_null(f);
        assert_true(f->window.successes_unknown);
        assert_false(f->window.has_ok_before);
        assert_true(tu_has_fact(f, "did not keep its figures"));
        assert_true(tu_has_fact(f, "more than 16 services"));
        /* Neither "answered N of its M" nor "None of the M lookups ... got a DNS answer". */
        assert_false(tu_has_fact(f, "answered"));
        assert_false(tu_has_fact(f, "got no DNS answer"));
        assert_false(tu_has_fact(f, "got a DNS answer"));
        assert_false(tu_has_reason(f, "no lookup to it was answered"));
        assert_false(tu_has_reason(f, "The capture shows"));
        /* Its load is this finding's own, said so. */
        assert_true(tu_has_reason(f, "this finding shows"));
        assert_int_equal(f->causes[0].confidence, CONF_MEDIUM);
    }
    detect_free(d);
    for (size_t i = 0; i < n; i++)
        lk_free(ls[i]);
}

/* --bound detect.server_clients_bytes: 10 servers each answer 300 distinct clients, then
 * 198.51.100.1 refuses one of them with port unreachable. By default its finding says the
 * capture shows 301 queries from 300 clients; under a budget of 4 KiB for every client set
 * together, the sets stop growing (counted) and the sentence says "at least". */
static void test_server_clients_budget(void **state)
{
    (void)state;
    for (int budget = 0; budget < 2; budget++) {
        struct detector *d = detect_new(5000000);
        assert_non_null(d);
        detect_set_limits(d, 0, 0, 0, 0, budget ? 4096 : 0);
        char cli[32], srv[32];
        for (int sv = 1; sv <= 10; sv++)
            for (int c = 0; c < 300; c++) {
                snprintf(cli, sizeof cli, "10.0.%d.%d", c / 256, c % 256);
                snprintf(srv, sizeof srv, "198.51.100.%d", sv);
                struct dns_lookup *l = lk(cli, srv, (uint16_t)c, "a.example.", 1.0 + c);
                l->outcome = LOOKUP_ANSWERED;
                l->answer.ts = l->first_tx;
                detect_lookup(d, l);
                lk_free(l);
            }
        /* Server 11 sees only two clients, again and again: its set would grow only for a new
         * one, so it is never counted as frozen. */
        for (int k = 0; k < 20; k++) {
            snprintf(cli, sizeof cli, "10.9.0.%d", 1 + k % 2);
            struct dns_lookup *l = lk(cli, "198.51.100.11", (uint16_t)k, "a.example.", 1.0 + k);
            l->outcome = LOOKUP_ANSWERED;
            l->answer.ts = l->first_tx;
            detect_lookup(d, l);
            lk_free(l);
        }
        for (int sv = 1; sv <= 2; sv++) {
            snprintf(srv, sizeof srv, "198.51.100.%d", sv);
            struct dns_lookup *l = lk("10.0.0.0", srv, 999, "b.example.", 400.0);
            fail_with(l, ICMP_SENDER_SERVER, ICMP_K_PORT_UNREACH, 400.0);
            detect_lookup(d, l);
            lk_free(l);
        }
        detect_finish(d, &stats);
        /* Server 2's set stopped at 2 clients under the budget: whether its 300 sources were
         * spread is unknown, not "no sign of a flood". */
        const struct finding *f2 = finding_of(d, "dns.port_unreachable", "198.51.100.2");
        assert_non_null(f2);
        assert_false(tu_has_reason(f2, "no sign of a flood"));
        assert_true(tu_has_reason(f2, "whether the sources were spread") == (budget == 1));
        const struct finding *f = finding_of(d, "dns.port_unreachable", "198.51.100.1");
        assert_non_null(f);
        bool exact = tu_has_reason(f, "301 queries from 300 clients");
        bool least = tu_has_reason(f, "301 queries from at least ");
        if (budget) {
            assert_false(exact);
            assert_true(least);
            assert_int_equal(detect_client_sets_frozen(d), 10);
        } else {
            assert_true(exact);
            assert_false(least);
            assert_int_equal(detect_client_sets_frozen(d), 0);
        }
        detect_free(d);
    }
}

/* Clients past the list count once each (a lookup from a client already counted adds nothing)
 * up to FINDING_DROPPED_EXACT of them; past that each lookup of one not remembered counts, and
 * the count says it is an upper bound. */
static void test_clients_dropped_distinct(void **state)
{
    (void)state;
    struct finding *f = calloc(1, sizeof *f);
    assert_non_null(f);
    uint32_t total = FINDING_MAX_CLIENTS + FINDING_DROPPED_EXACT;
    for (int round = 0; round < 3; round++)
        for (uint32_t i = 0; i < total; i++) {
            struct nt_addr a = {.family = NT_AF_INET};
            uint32_t v = 0x0a000000u + i;
            memcpy(a.a, &v, 4);
            finding_add_client(f, &a);
        }
    assert_int_equal(f->n_clients, FINDING_MAX_CLIENTS);
    assert_int_equal(f->clients_dropped, FINDING_DROPPED_EXACT);
    assert_false(f->clients_dropped_bound);
    struct nt_addr b = {.family = NT_AF_INET6};
    b.a[15] = 1;
    finding_add_client(f, &b); /* one more than the set holds: counted, at each lookup */
    finding_add_client(f, &b);
    assert_int_equal(f->clients_dropped, FINDING_DROPPED_EXACT + 2);
    assert_true(f->clients_dropped_bound);
    finding_reset(f);
    assert_null(f->clients_seen.h);
    assert_int_equal(f->clients_dropped, 0);
    assert_false(f->clients_dropped_bound);
    finding_free(f);
}

static void test_finding_lists_as_scanned(void **state)
{
    (void)state;
    struct finding *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct nt_addr model[FINDING_MAX_CLIENTS];
    size_t n_model = 0;
    uint64_t dropped = 0, names_dropped = 0;
    struct nt_addr past[300];
    size_t n_past = 0;
    bool name_past[300] = {false};
    char name[32];
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < 900; i++) {
            unsigned c = (i * 7919u + (unsigned)round * 13u) % 300; /* repeats, past the cap */
            char cli[64];
            snprintf(cli, sizeof cli, "2001:db8::%x:%x", c / 7, c);
            struct nt_addr a;
            assert_true(nt_addr_parse(&a, cli, strlen(cli)));
            bool known = false;
            for (size_t k = 0; k < n_model && !known; k++)
                known = nt_addr_eq(&model[k], &a);
            if (!known && n_model < FINDING_MAX_CLIENTS) {
                model[n_model++] = a;
            } else if (!known) { /* past the list: each distinct client counts once */
                bool seen = false;
                for (size_t k = 0; k < n_past && !seen; k++)
                    seen = nt_addr_eq(&past[k], &a);
                if (!seen) {
                    past[n_past++] = a;
                    dropped++;
                }
            }
            finding_add_client(f, &a);
            snprintf(name, sizeof name, "n%u.example. A", c);
            size_t before = f->n_names;
            finding_add_name(f, name);
            if (f->n_names == before && before == FINDING_MAX_NAMES) {
                bool kept = false;
                for (size_t k = 0; k < f->n_names && !kept; k++)
                    kept = strcmp(f->names[k], name) == 0;
                if (!kept && !name_past[c]) { /* each distinct name once */
                    name_past[c] = true;
                    names_dropped++;
                }
            }
        }
        assert_int_equal(f->n_clients, n_model);
        assert_int_equal(f->clients_dropped, dropped);
        assert_int_equal(f->n_names, FINDING_MAX_NAMES);
        assert_int_equal(f->names_dropped, names_dropped);
        for (size_t i = 0; i < f->n_names; i++)
            for (size_t j = i + 1; j < f->n_names; j++)
                assert_string_not_equal(f->names[i], f->names[j]);
        if (round == 0) {
            finding_settle(f); /* sorted: the index is made again from the new order */
            qsort(model, n_model, sizeof model[0],
                  (int (*)(const void *, const void *))nt_addr_cmp);
        }
        for (size_t i = 0; i < n_model; i++)
            assert_true(nt_addr_eq(&f->clients[i], &model[i]));
    }
    /* Packets 0..299 in a scrambled order, each exchange's order (order_pkt) another
     * permutation: the 64 of the earliest exchanges are kept, in capture order (pkt). */
    for (unsigned i = 0; i < 300; i++) {
        unsigned p = (i * 131u + 17u) % 300;
        struct dns_lookup *l = lk("192.0.2.9", "198.51.100.1", (uint16_t)i, "a.example.", 1.0);
        l->query.pkt = p;
        l->query.order_pkt = (p * 37u) % 300;
        assert_true(finding_add_evidence(f, &l->query));
        lk_free(l);
    }
    assert_int_equal(f->n_evidence, FINDING_MAX_EVIDENCE);
    assert_int_equal(f->evidence_dropped, 300 - FINDING_MAX_EVIDENCE);
    size_t k = 0;
    for (unsigned p = 0; p < 300; p++) {
        if ((p * 37u) % 300 >= FINDING_MAX_EVIDENCE)
            continue;
        assert_true(k < f->n_evidence);
        assert_int_equal(f->evidence[k].pkt, p);
        k++;
    }
    assert_int_equal(k, FINDING_MAX_EVIDENCE);
    finding_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finding_lists_as_scanned),
        cmocka_unit_test(test_clients_dropped_distinct),
        cmocka_unit_test(test_services_bound),
        cmocka_unit_test(test_server_clients_budget),
        cmocka_unit_test(test_singular_counts),
        cmocka_unit_test(test_fires_on_server_port_unreachable),
        cmocka_unit_test(test_quiet_cases),
        cmocka_unit_test(test_service_that_stopped),
        cmocka_unit_test(test_incident_window),
        cmocka_unit_test(test_incident_window_any_order),
        cmocka_unit_test(test_findings_are_capped),
        cmocka_unit_test(test_one_finding_per_server_and_no_backticks_from_wire),
        cmocka_unit_test(test_admin_prohibited_names_the_filtering_host),
        cmocka_unit_test(test_shell_words),
        cmocka_unit_test(test_finding_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
