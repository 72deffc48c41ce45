/* test_rule_rcode.c: dns.refused and dns.servfail: when they fire, when they stay quiet, how the
 * evidence ranks their causes, their severity, and that no state leaks from one run to the
 * next. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"

#define US 1e-6

/* A lookup from cli to srv answered with rcode at t + rtt (seconds). Query flags: RD (and CD
 * when asked); answer flags as given. */
static struct dns_lookup *ans(const char *cli, const char *srv, uint16_t id, const char *name,
                              double t, double rtt, uint16_t rcode, uint16_t answer_flags)
{
    struct dns_lookup *l = calloc(1, sizeof *l);
    assert_non_null(l);
    assert_true(nt_addr_parse(&l->client, cli, strlen(cli)));
    assert_true(nt_addr_parse(&l->server, srv, strlen(srv)));
    l->server_port = 53;
    l->transport = 17;
    l->id = id;
    l->query_flags = DNS_FLAG_RD;
    l->has_question = true;
    l->qname = strdup(name);
    l->qtype = 1;
    l->qclass = 1;
    l->first_tx.kind = l->last_tx.kind = NT_TIME_ABSOLUTE;
    l->first_tx.sec = l->last_tx.sec = (int64_t)t;
    l->first_tx.nsec = l->last_tx.nsec = (uint32_t)((t - (double)(int64_t)t) * 1e9);
    l->transmissions = 1;
    l->query.role = EV_QUERY;
    l->query.pkt = id * 2u;
    l->query.ts = l->first_tx;
    l->query.text = strdup("query line");
    l->query.ip_version = 4;
    l->outcome = LOOKUP_ANSWERED;
    l->rcode = rcode;
    l->rtt_us = l->elapsed_us = (int64_t)(rtt * 1e6);
    l->answer.role = EV_ANSWER;
    l->answer.pkt = id * 2u + 1;
    l->answer.ts = nt_time_add_us(l->first_tx, l->rtt_us);
    l->answer.text = strdup("answer line");
    l->answer.has_dns = true;
    l->answer.has_question = true;
    l->answer.dns_flags = (uint16_t)(DNS_FLAG_QR | answer_flags | (rcode & 0xf));
    l->answer.rcode = rcode;
    return l;
}

static void lk_free(struct dns_lookup *l)
{
    evidence_fini(&l->query);
    evidence_fini(&l->answer);
    free(l->qname);
    free(l);
}

static struct correlate_stats stats;

/* Runs the detector over n lookups (freeing them); returns it. */
static struct detector *run(struct dns_lookup **ls, size_t n)
{
    struct detector *d = detect_new(5000000);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        detect_lookup(d, ls[i]);
    detect_finish(d, &stats);
    for (size_t i = 0; i < n; i++)
        lk_free(ls[i]);
    return d;
}

/* The only finding with this id (fails when there are more), or NULL. */
static const struct finding *only(struct detector *d, const char *id, size_t *count)
{
    struct finding *const *fs;
    size_t n = detect_findings(d, &fs);
    const struct finding *hit = NULL;
    *count = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(fs[i]->id, id) == 0) {
            hit = fs[i];
            (*count)++;
        }
    return hit;
}

static size_t total(struct detector *d)
{
    struct finding *const *fs;
    return detect_findings(d, &fs);
}

#define RA DNS_FLAG_RA
#define AA DNS_FLAG_AA

static void test_refused_acl_split(void **state)
{
    (void)state;
    /* .15 answered before and after; .16 refused for the same name, RA clear. */
    struct dns_lookup *ls[4] = {
        ans("198.51.100.15", "198.51.100.2", 1, "a.example.", 10.0, 100 * US, 0, AA | RA),
        ans("198.51.100.16", "198.51.100.2", 2, "a.example.", 11.0, 80 * US, DNS_RCODE_REFUSED, 0),
        ans("198.51.100.16", "198.51.100.2", 3, "a.example.", 12.0, 90 * US, DNS_RCODE_REFUSED, 0),
        ans("198.51.100.15", "198.51.100.2", 4, "a.example.", 13.0, 100 * US, 0, AA | RA),
    };
    struct detector *d = run(ls, 4);
    size_t n;
    const struct finding *f = only(d, "dns.refused", &n);
    assert_int_equal(n, 1);
    assert_int_equal(total(d), 1);
    assert_int_equal(f->severity, SEV_MEDIUM);
    assert_int_equal(f->attack, ATTACK_NONE);
    assert_int_equal(f->lookups, 2);
    assert_int_equal(f->query_packets, 2);
    assert_int_equal(f->error_packets, 2);
    assert_int_equal(f->packets, 4);
    assert_int_equal(f->n_clients, 1);
    assert_int_equal(f->clients[0].a[3], 16);
    assert_int_equal(f->n_evidence, 4);
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(f->causes[0].text, "access list"));
    assert_non_null(strstr(f->causes[0].reason, "198.51.100.15"));
    assert_true(tu_has_fact(f, "clear in 2 and set in 0"));
    assert_true(tu_has_fact(f, "1 other client (198.51.100.15)"));
    /* Incident window: .15's answers bound the failures. */
    assert_true(f->window.has_ok_before);
    assert_int_equal(f->window.ok_before.sec, 10);
    assert_true(f->window.has_ok_after);
    assert_int_equal(f->window.ok_after.sec, 13);
    assert_int_equal(f->window.ok_during, 0);
    detect_free(d);
}

static void test_refused_local_only(void **state)
{
    (void)state;
    /* The same client gets its local name (AA) and is refused another, RA clear. */
    struct dns_lookup *ls[2] = {
        ans("198.51.100.17", "198.51.100.2", 1, "local.example.", 1.0, 50 * US, 0, AA | RA),
        ans("198.51.100.17", "198.51.100.2", 2, "www.example.com.", 2.0, 50 * US, DNS_RCODE_REFUSED,
            0),
    };
    struct detector *d = run(ls, 2);
    size_t n;
    const struct finding *f = only(d, "dns.refused", &n);
    assert_int_equal(n, 1);
    assert_int_equal(f->severity, SEV_MEDIUM);
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(f->causes[0].text, "only from its own zones"));
    assert_int_equal(f->causes[1].confidence, CONF_LOW);
    assert_true(tu_has_fact(f, "1 of the refused clients also got usable answers"));
    assert_string_equal(f->names[0], "www.example.com. A");
    detect_free(d);
}

static void test_refused_no_upstream(void **state)
{
    (void)state;
    /* dnsmasq without upstream: RA set on the REFUSED answer, local name answered. */
    struct dns_lookup *ls[2] = {
        ans("198.51.100.15", "198.51.100.3", 1, "local.example.", 1.0, 50 * US, 0, AA | RA),
        ans("198.51.100.15", "198.51.100.3", 2, "www.example.com.", 2.0, 50 * US, DNS_RCODE_REFUSED,
            RA),
    };
    struct detector *d = run(ls, 2);
    size_t n;
    const struct finding *f = only(d, "dns.refused", &n);
    assert_int_equal(n, 1);
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(f->causes[0].text, "no upstream"));
    assert_true(tu_has_fact(f, "clear in 0 and set in 1"));
    detect_free(d);
}

/* tcpdump text below -vv prints no question in an answer: the question is unknown, not absent.
 * Only a zero question count ("[0q]" in the text, QDCOUNT 0 in a capture) says it was absent. */
static void test_refused_question_unknown_in_text(void **state)
{
    (void)state;
    struct dns_lookup *ls[3] = {
        ans("198.51.100.15", "198.51.100.3", 1, "a.example.", 1.0, 50 * US, DNS_RCODE_REFUSED, RA),
        ans("198.51.100.15", "198.51.100.3", 2, "b.example.", 2.0, 50 * US, DNS_RCODE_REFUSED, RA),
        ans("198.51.100.15", "198.51.100.3", 3, "c.example.", 3.0, 50 * US, DNS_RCODE_REFUSED, RA),
    };
    for (int i = 0; i < 3; i++) {
        ls[i]->answer.has_question = false;
        ls[i]->answer.from_text = true;
        ls[i]->answer.qdcount = 1; /* what the text reader assumes when "[Nq]" is not printed */
    }
    ls[2]->answer.qdcount = 0; /* "[0q]": known to be absent */
    struct detector *d = run(ls, 3);
    size_t n;
    const struct finding *f = only(d, "dns.refused", &n);
    assert_int_equal(n, 1);
    assert_true(tu_has_fact(f, "1 of the REFUSED answers carried no question section"));
    assert_true(tu_has_fact(f, "Whether 2 of the REFUSED answers carried the question is unknown"));
    assert_false(tu_has_fact(f, "2 of the REFUSED answers carried no question"));
    detect_free(d);
}

/* Queries without RD (dig +norecurse) refused by a resolver that answers the same client's
 * recursive queries: RD clear is named as a cause, high. When the input did not carry the
 * query's flags (no DNS header seen), nothing is said about RD. */
static bool has_cause(const struct finding *f, const char *s, enum confidence c)
{
    for (size_t i = 0; i < f->n_causes; i++)
        if (strstr(f->causes[i].text, s) && f->causes[i].confidence == c)
            return true;
    return false;
}

static void rd_case(bool known, struct detector **out)
{
    struct dns_lookup *ls[3] = {
        ans("198.51.100.16", "198.51.100.2", 1, "a.example.", 1.0, 50 * US, 0, RA),
        ans("198.51.100.16", "198.51.100.2", 2, "b.example.", 2.0, 50 * US, DNS_RCODE_REFUSED, RA),
        ans("198.51.100.16", "198.51.100.2", 3, "c.example.", 3.0, 50 * US, DNS_RCODE_REFUSED, RA),
    };
    for (int i = 0; i < 3; i++)
        ls[i]->query.has_dns = known;
    ls[1]->query_flags = ls[2]->query_flags = 0; /* +norecurse */
    *out = run(ls, 3);
}

static void test_refused_without_rd(void **state)
{
    (void)state;
    struct detector *d;
    rd_case(true, &d);
    size_t n;
    const struct finding *f = only(d, "dns.refused", &n);
    assert_int_equal(n, 1);
    assert_true(has_cause(f, "did not ask for recursion (RD clear", CONF_HIGH));
    assert_non_null(strstr(f->causes[0].text, "did not ask for recursion"));
    assert_true(tu_has_fact(f, "None of the queries asked for recursion (RD clear)"));
    detect_free(d);
    rd_case(false, &d);
    f = only(d, "dns.refused", &n);
    assert_int_equal(n, 1);
    for (size_t i = 0; i < f->n_causes; i++)
        assert_null(strstr(f->causes[i].text, "RD clear"));
    assert_false(tu_has_fact(f, "RD clear"));
    detect_free(d);
}

/* An UPDATE refused by an ICMP error and one left unanswered: dns.update_rejected reports
 * both (the ICMP rules see QUERY lookups only); no QUERY rule sees them. */
static void test_update_icmp_and_silence(void **state)
{
    (void)state;
    struct dns_lookup *ls[2] = {
        ans("198.51.100.16", "198.51.100.2", 1, "corp.example.", 1.0, 50 * US, 0, 0),
        ans("198.51.100.16", "198.51.100.2", 2, "corp.example.", 2.0, 50 * US, 0, 0),
    };
    for (int i = 0; i < 2; i++) {
        ls[i]->query_flags = (uint16_t)(DNS_OPCODE_UPDATE << 11);
        ls[i]->qtype = DNS_TYPE_SOA;
        evidence_fini(&ls[i]->answer);
        memset(&ls[i]->answer, 0, sizeof ls[i]->answer);
    }
    ls[0]->outcome = LOOKUP_ICMP_ERROR;
    ls[0]->n_errors = 1;
    ls[1]->outcome = LOOKUP_UNANSWERED;
    struct detector *d = run(ls, 2);
    size_t n;
    const struct finding *f = only(d, "dns.update_rejected", &n);
    assert_int_equal(n, 1);
    assert_int_equal(total(d), 1);
    assert_int_equal(f->lookups, 2);
    assert_non_null(strstr(f->summary, "(1 refused by an ICMP error, 1 unanswered)"));
    assert_non_null(strstr(f->causes[0].text, "do not reach the DNS service"));
    detect_free(d);
}

static void test_refused_everything_is_high(void **state)
{
    (void)state;
    struct dns_lookup *ls[2] = {
        ans("198.51.100.16", "198.51.100.2", 1, "a.example.", 1.0, 50 * US, DNS_RCODE_REFUSED, 0),
        ans("198.51.100.16", "198.51.100.2", 2, "b.example.", 2.0, 50 * US, DNS_RCODE_REFUSED, 0),
    };
    struct detector *d = run(ls, 2);
    size_t n;
    const struct finding *f = only(d, "dns.refused", &n);
    assert_int_equal(n, 1);
    assert_int_equal(f->severity, SEV_HIGH);
    /* Nothing to compare with: the access list and "own zones only" tie at medium. */
    assert_int_equal(f->causes[0].confidence, CONF_MEDIUM);
    assert_int_equal(f->causes[1].confidence, CONF_MEDIUM);
    assert_false(f->window.has_ok_before);
    assert_false(f->window.has_ok_after);
    detect_free(d);
}

static void test_one_finding_per_server(void **state)
{
    (void)state;
    struct dns_lookup *ls[3] = {
        ans("198.51.100.16", "198.51.100.2", 1, "a.example.", 1.0, 50 * US, DNS_RCODE_REFUSED, 0),
        ans("198.51.100.16", "198.51.100.3", 2, "a.example.", 2.0, 50 * US, DNS_RCODE_REFUSED, 0),
        ans("198.51.100.17", "198.51.100.2", 3, "b.example.", 3.0, 50 * US, DNS_RCODE_REFUSED, 0),
    };
    struct detector *d = run(ls, 3);
    size_t n;
    only(d, "dns.refused", &n);
    assert_int_equal(n, 2);
    detect_free(d);
}

static void test_quiet(void **state)
{
    (void)state;
    /* Usable answers (NOERROR, NXDOMAIN), NOTIMP and FORMERR, silence: neither rule fires. */
    struct dns_lookup *ls[5] = {
        ans("198.51.100.15", "198.51.100.2", 1, "a.example.", 1.0, 50 * US, 0, RA),
        ans("198.51.100.15", "198.51.100.2", 2, "b.example.", 2.0, 50 * US, DNS_RCODE_NXDOMAIN, RA),
        ans("198.51.100.15", "198.51.100.2", 3, "c.example.", 3.0, 50 * US, DNS_RCODE_NOTIMP, RA),
        ans("198.51.100.15", "198.51.100.2", 4, "d.example.", 4.0, 50 * US, DNS_RCODE_FORMERR, RA),
        ans("198.51.100.15", "198.51.100.2", 5, "e.example.", 5.0, 50 * US, 0, RA),
    };
    ls[4]->outcome = LOOKUP_UNANSWERED;
    struct detector *d = run(ls, 5);
    size_t n;
    assert_null(only(d, "dns.refused", &n));
    assert_null(only(d, "dns.servfail", &n));
    detect_free(d);
}

static void test_servfail_slow_all_fail(void **state)
{
    (void)state;
    /* Two slow SERVFAILs and one fast (cached) one; nothing usable from the server. */
    struct dns_lookup *ls[3] = {
        ans("198.51.100.15", "198.51.100.4", 1, "a.example.", 1.0, 0.75, DNS_RCODE_SERVFAIL, RA),
        ans("198.51.100.15", "198.51.100.4", 2, "b.example.", 2.0, 1.5, DNS_RCODE_SERVFAIL, RA),
        ans("198.51.100.15", "198.51.100.4", 3, "c.example.", 4.0, 200 * US, DNS_RCODE_SERVFAIL,
            RA),
    };
    struct detector *d = run(ls, 3);
    size_t n;
    const struct finding *f = only(d, "dns.servfail", &n);
    assert_int_equal(n, 1);
    assert_int_equal(total(d), 1);
    assert_int_equal(f->severity, SEV_HIGH);
    assert_int_equal(f->lookups, 3);
    assert_int_equal(f->error_packets, 3);
    assert_int_equal(f->n_names, 3);
    assert_true(tu_has_fact(f, "2 of the SERVFAILs came 300.0 ms or more after the query"));
    assert_true(tu_has_fact(f, "and 1 sooner"));
    assert_true(tu_has_fact(f, "median 750.0 ms"));
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(f->causes[0].text, "upstream does not answer"));
    /* DNSSEC cannot be excluded, and says how to tell. */
    bool dnssec = false;
    for (size_t i = 0; i < f->n_causes; i++)
        if (strstr(f->causes[i].text, "DNSSEC")) {
            dnssec = true;
            assert_int_equal(f->causes[i].confidence, CONF_LOW);
            assert_non_null(strstr(f->causes[i].reason, "dig +cd"));
        }
    assert_true(dnssec);
    bool cd_step = false;
    for (size_t i = 0; i < f->n_next_steps; i++)
        cd_step |= strstr(f->next_steps[i], "`dig +cd @198.51.100.4 a.example. A`") != NULL;
    assert_true(cd_step);
    detect_free(d);
}

/* Many more services than the detector's memo of services' hashes has slots (some sharing an
 * address, told apart by port and transport), in turns, each turn in another order; each
 * answers 19 times and fails once. Each finding's window comes from its service's successes,
 * looked up at the end by the service's hash made afresh: all 19 were kept under that hash, and
 * its lookups counted at the service. */
static void test_servfail_windows_of_many_services(void **state)
{
    (void)state;
    enum { SERVICES = 153, TURNS = 20 };
    struct detector *d = detect_new(5000000);
    assert_non_null(d);
    unsigned seed = 5;
    int order[SERVICES];
    for (int k = 0; k < SERVICES; k++)
        order[k] = k;
    double t = 1000.0;
    uint16_t id = 1;
    for (int i = 0; i < TURNS; i++) {
        tu_shuffle(order, SERVICES, &seed);
        for (int k = 0; k < SERVICES; k++, t += 0.001, id++) {
            int o = order[k];
            char srv[32];
            if (o < 40)
                snprintf(srv, sizeof srv, "198.51.100.4");
            else
                snprintf(srv, sizeof srv, "10.0.%d.%d", o / 250, o % 250);
            struct dns_lookup *l = ans("198.51.100.15", srv, id, "a.example.", t, 2e-3,
                                       i == 10 ? DNS_RCODE_SERVFAIL : 0, RA);
            if (o < 40) { /* 40 services of one address */
                l->server_port = (uint16_t)(5300 + o / 2);
                l->transport = o % 2 ? 6 : 17;
            }
            detect_lookup(d, l);
            lk_free(l);
        }
    }
    detect_finish(d, &stats);
    struct finding *const *fs;
    size_t n = detect_findings(d, &fs), servfail = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fs[i]->id, "dns.servfail") != 0)
            continue;
        servfail++;
        assert_int_equal(fs[i]->lookups, 1);
        assert_true(fs[i]->window.has_ok_before);
        assert_true(fs[i]->window.has_ok_after);
        assert_int_equal(fs[i]->window.ok_total, TURNS - 1);
        /* The service's counts, kept through the detector's memo of its entries. */
        assert_true(tu_has_fact(fs[i], "usable answers to 19 of its 20 lookups"));
    }
    assert_int_equal(servfail, SERVICES);
    detect_free(d);
}

static void test_servfail_one_zone(void **state)
{
    (void)state;
    /* The server resolves other names (RA, no AA, AD), one name fails fast: medium severity,
     * DNSSEC and lame delegation at medium, the upstream not first with high. */
    struct dns_lookup *ls[3] = {
        ans("198.51.100.15", "198.51.100.4", 1, "ok.example.", 1.0, 20e-3, 0, RA | DNS_FLAG_AD),
        ans("198.51.100.15", "198.51.100.4", 2, "broken.example.", 2.0, 2e-3, DNS_RCODE_SERVFAIL,
            RA),
        ans("198.51.100.15", "198.51.100.4", 3, "ok.example.", 3.0, 20e-3, 0, RA | DNS_FLAG_AD),
    };
    struct detector *d = run(ls, 3);
    size_t n;
    const struct finding *f = only(d, "dns.servfail", &n);
    assert_int_equal(n, 1);
    assert_int_equal(f->severity, SEV_MEDIUM);
    assert_true(tu_has_fact(f, "2 resolved, some of them validated by DNSSEC"));
    for (size_t i = 0; i < f->n_causes; i++)
        assert_int_not_equal(f->causes[i].confidence, CONF_HIGH);
    bool dnssec = false, lame = false;
    for (size_t i = 0; i < f->n_causes; i++) {
        dnssec |= strstr(f->causes[i].text, "DNSSEC") && f->causes[i].confidence == CONF_MEDIUM;
        lame |= strstr(f->causes[i].text, "lame") && f->causes[i].confidence == CONF_MEDIUM;
    }
    assert_true(dnssec);
    assert_true(lame);
    assert_true(f->window.has_ok_before);
    assert_true(f->window.has_ok_after);
    detect_free(d);
}

static void test_servfail_checking_disabled(void **state)
{
    (void)state;
    struct dns_lookup *ls[1] = {
        ans("198.51.100.15", "198.51.100.4", 1, "a.example.", 1.0, 1e-3, DNS_RCODE_SERVFAIL, RA),
    };
    ls[0]->query_flags |= DNS_FLAG_CD;
    struct detector *d = run(ls, 1);
    size_t n;
    const struct finding *f = only(d, "dns.servfail", &n);
    assert_int_equal(n, 1);
    for (size_t i = 0; i < f->n_causes; i++)
        if (strstr(f->causes[i].text, "DNSSEC"))
            assert_int_equal(f->causes[i].confidence, CONF_LOW);
    assert_true(tu_has_fact(f, "had CD set"));
    detect_free(d);
}

static void test_no_state_leaks_between_runs(void **state)
{
    (void)state;
    /* Run 1: .15 answered by .2. Run 2: .16 refused by .2, alone: the answer from run 1 must
     * not count (severity high, no client split). */
    struct dns_lookup *a[1] = {
        ans("198.51.100.15", "198.51.100.2", 1, "a.example.", 1.0, 50 * US, 0, RA),
    };
    detect_free(run(a, 1));
    struct dns_lookup *b[1] = {
        ans("198.51.100.16", "198.51.100.2", 2, "a.example.", 2.0, 50 * US, DNS_RCODE_REFUSED, 0),
    };
    struct detector *d = run(b, 1);
    size_t n;
    const struct finding *f = only(d, "dns.refused", &n);
    assert_int_equal(n, 1);
    assert_int_equal(f->severity, SEV_HIGH);
    assert_false(tu_has_fact(f, "other client"));
    detect_free(d);
}

static void test_hostile_name_stays_one_shell_word(void **state)
{
    (void)state;
    struct dns_lookup *ls[2] = {
        ans("198.51.100.16", "198.51.100.2", 1, "x\\`id\\`$(reboot).example.", 1.0, 50 * US,
            DNS_RCODE_REFUSED, 0),
        ans("198.51.100.16", "198.51.100.4", 2, "x\\`id\\`$(reboot).example.", 1.0, 50 * US,
            DNS_RCODE_SERVFAIL, RA),
    };
    struct detector *d = run(ls, 2);
    struct finding *const *fs;
    size_t nf = detect_findings(d, &fs);
    assert_int_equal(nf, 2);
    for (size_t k = 0; k < nf; k++)
        for (size_t i = 0; i < fs[k]->n_next_steps; i++) {
            size_t ticks = 0;
            for (const char *p = fs[k]->next_steps[i]; *p; p++)
                ticks += *p == '`';
            assert_int_equal(ticks % 2, 0);
            assert_null(strstr(fs[k]->next_steps[i], "`id"));
            const char *dollar = strstr(fs[k]->next_steps[i], "$(reboot)");
            if (dollar) /* only inside a single-quoted word */
                assert_non_null(strstr(fs[k]->next_steps[i], "'x\\096id\\096$(reboot).example.'"));
        }
    detect_free(d);
}

/* Past RCODE_VIEW_MAX_ENTRIES (65536) keys a view of the rcode table counts the lookups it cannot
 * keep, in its rule's limit counter; questions are told apart exactly, not by a hash. */
static void test_tracker_bound_counted(void **state)
{
    (void)state;
    struct detector *d = detect_new(5000000);
    assert_non_null(d);
    char name[64];
    /* Each new question adds one key; with the server's and the client's, 65536 are full
     * after 65534 questions. */
    for (int i = 0; i < 65534 + 10; i++) {
        snprintf(name, sizeof name, "n%d.example.", i);
        struct dns_lookup *l =
            ans("198.51.100.15", "198.51.100.2", (uint16_t)i, name, 10.0 + i * 0.001, 0.002,
                i % 2 ? DNS_RCODE_REFUSED : DNS_RCODE_NOERROR, 0);
        detect_lookup(d, l);
        lk_free(l);
    }
    detect_finish(d, &stats);
    const struct detect_limit *ls;
    size_t n = detect_limits(d, &ls);
    uint64_t refused = 0, servfail = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ls[i].name, "rcode_keys_dropped") != 0)
            continue;
        if (strcmp(ls[i].rule, "dns.refused") == 0)
            refused = ls[i].count;
        if (strcmp(ls[i].rule, "dns.servfail") == 0)
            servfail = ls[i].count;
    }
    /* dns.refused tracks every answered lookup (10 past the bound); dns.servfail only those
     * with a usable answer or SERVFAIL: the NOERROR half fits. */
    assert_int_equal(refused, 10);
    assert_int_equal(servfail, 0);
    size_t count = 0;
    assert_non_null(only(d, "dns.refused", &count));
    detect_free(d);
}

/* With dns.servfail's view full, a SERVFAIL from a new client (its key dropped) still counts on
 * the question's key already in the view: each key's count follows its own membership. */
static void test_full_view_counts_each_key(void **state)
{
    (void)state;
    struct detector *d = detect_new(5000000);
    assert_non_null(d);
    char name[64];
    /* The server's key, the client's and 65534 questions fill the view (65536). */
    for (int i = 0; i < 65534; i++) {
        snprintf(name, sizeof name, "n%d.example.", i);
        struct dns_lookup *l = ans("198.51.100.15", "198.51.100.2", (uint16_t)i, name,
                                   10.0 + i * 0.001, 0.002, DNS_RCODE_NOERROR, 0);
        detect_lookup(d, l);
        lk_free(l);
    }
    struct dns_lookup *l =
        ans("198.51.100.16", "198.51.100.2", 7, "n0.example.", 100.0, 0.002, DNS_RCODE_SERVFAIL, 0);
    detect_lookup(d, l);
    lk_free(l);
    detect_finish(d, &stats);
    size_t count = 0;
    const struct finding *f = only(d, "dns.servfail", &count);
    assert_non_null(f);
    assert_true(tu_has_fact(f, "1 of the 1 failed question was also answered usably"));
    assert_true(tu_has_fact(f, "1 key was not tracked"));
    detect_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_acl_split),
        cmocka_unit_test(test_refused_local_only),
        cmocka_unit_test(test_refused_no_upstream),
        cmocka_unit_test(test_refused_question_unknown_in_text),
        cmocka_unit_test(test_refused_everything_is_high),
        cmocka_unit_test(test_refused_without_rd),
        cmocka_unit_test(test_update_icmp_and_silence),
        cmocka_unit_test(test_one_finding_per_server),
        cmocka_unit_test(test_quiet),
        cmocka_unit_test(test_servfail_slow_all_fail),
        cmocka_unit_test(test_servfail_one_zone),
        cmocka_unit_test(test_servfail_windows_of_many_services),
        cmocka_unit_test(test_servfail_checking_disabled),
        cmocka_unit_test(test_no_state_leaks_between_runs),
        cmocka_unit_test(test_hostile_name_stays_one_shell_word),
        cmocka_unit_test(test_tracker_bound_counted),
        cmocka_unit_test(test_full_view_counts_each_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
