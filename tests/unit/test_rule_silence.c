/* test_rule_silence.c: dns.no_response (lookups with no answer and no ICMP error) and
 * dns.late_answer (answers the client rejected because it had stopped waiting). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "util/htab.h"

static struct dns_lookup *lk(const char *srv, uint16_t id, double t, enum lookup_outcome o)
{
    struct dns_lookup *l = calloc(1, sizeof *l);
    assert_non_null(l);
    assert_true(nt_addr_parse(&l->client, "198.51.100.15", 13));
    assert_true(nt_addr_parse(&l->server, srv, strlen(srv)));
    l->server_port = 53;
    l->transport = 17;
    l->id = id;
    l->has_question = true;
    l->qname = strdup("yummyrecipesforme.com.");
    l->qtype = 1;
    l->qclass = 1;
    l->first_tx.kind = l->last_tx.kind = NT_TIME_ABSOLUTE;
    l->first_tx.sec = l->last_tx.sec = (int64_t)t;
    l->first_tx.nsec = l->last_tx.nsec = (uint32_t)((t - (double)(int64_t)t) * 1e9);
    l->transmissions = 1;
    l->client_ports[0] = 40000;
    l->n_client_ports = 1;
    l->query.role = EV_QUERY;
    l->query.pkt = (uint64_t)(t * 10);
    l->query.ts = l->first_tx;
    l->query.text = strdup("query line");
    l->query.ip_version = 4;
    l->outcome = (uint8_t)o;
    if (o == LOOKUP_ANSWERED) {
        l->answer.role = EV_ANSWER;
        l->answer.pkt = l->query.pkt + 1;
        l->answer.ts = l->first_tx;
        l->answer.ts.nsec += 1000000; /* 1 ms */
        l->answer.text = strdup("answer line");
        l->rtt_us = l->elapsed_us = 1000;
    }
    return l;
}

static void lk_free(struct dns_lookup *l)
{
    evidence_fini(&l->query);
    evidence_fini(&l->answer);
    evidence_fini(&l->error);
    free(l->qname);
    free(l);
}

static struct correlate_stats stats;

static struct detector *run(struct dns_lookup **ls, size_t n)
{
    struct detector *d = detect_new(5000000);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        detect_lookup(d, ls[i]);
    detect_finish(d, &stats);
    return d;
}

static const struct finding *find(struct detector *d, const char *id)
{
    struct finding *const *fs;
    size_t n = detect_findings(d, &fs);
    for (size_t i = 0; i < n; i++)
        if (strcmp(fs[i]->id, id) == 0)
            return fs[i];
    return NULL;
}

static size_t count(struct detector *d, const char *id)
{
    struct finding *const *fs;
    size_t n = detect_findings(d, &fs), k = 0;
    for (size_t i = 0; i < n; i++)
        k += strcmp(fs[i]->id, id) == 0;
    return k;
}

static void free_all(struct dns_lookup **ls, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lk_free(ls[i]);
}

static void test_no_response_never_answered(void **state)
{
    (void)state;
    struct dns_lookup *ls[2];
    ls[0] = lk("198.51.100.2", 1, 100.0, LOOKUP_UNANSWERED);
    ls[0]->transmissions = 3;
    ls[0]->last_tx.sec += 2;
    ls[0]->client_ports[1] = 40001;
    ls[0]->client_ports[2] = 40002;
    ls[0]->n_client_ports = 3;
    ls[1] = lk("198.51.100.2", 2, 110.0, LOOKUP_UNANSWERED);
    struct detector *d = run(ls, 2);
    assert_int_equal(count(d, "dns.no_response"), 1);
    const struct finding *f = find(d, "dns.no_response");
    assert_int_equal(f->severity, SEV_HIGH);
    assert_int_equal(f->attack, ATTACK_NONE);
    assert_int_equal(f->lookups, 2);
    assert_int_equal(f->query_packets, 4);
    assert_int_equal(f->error_packets, 0);
    assert_int_equal(f->transport, 17);
    assert_int_equal(f->port, 53);
    assert_int_equal(f->first_seen.sec, 100);
    assert_int_equal(f->last_seen.sec, 110);
    assert_true(tu_has_fact(f, "1 of the 2 lookups was retried, up to 3 transmissions per lookup"));
    assert_true(tu_has_fact(f, "(4 distinct source ports in all)"));
    assert_true(tu_has_fact(f, "None of the 2 lookups"));
    /* Never answered, nothing else known: a dropping firewall and a host that is down behind a
     * filter tie (medium), and the reason says what would tell them apart. */
    assert_true(f->n_causes >= 5);
    assert_int_equal(f->causes[0].confidence, CONF_MEDIUM);
    assert_non_null(strstr(f->causes[0].text, "firewall"));
    assert_non_null(strstr(f->causes[0].reason, "cannot tell these apart"));
    assert_int_equal(f->causes[1].confidence, CONF_MEDIUM);
    assert_non_null(strstr(f->causes[1].text, "host is down"));
    assert_false(f->window.has_ok_before);
    /* No other rule reads silence as an ICMP refusal. */
    assert_int_equal(count(d, "dns.port_unreachable"), 0);
    detect_free(d);
    free_all(ls, 2);
}

/* A host asking itself (127.0.0.1 to 127.0.0.1, or 127.0.0.53 for systemd-resolved): no
 * network path lies between them, so no cause is packet loss on one. */
static void test_no_response_loopback_has_no_path(void **state)
{
    (void)state;
    const char *srv[] = {"127.0.0.1", "127.0.0.53", "::1"};
    for (int k = 0; k < 3; k++) {
        struct dns_lookup *ls[3];
        for (int i = 0; i < 3; i++) {
            ls[i] = lk(srv[k], (uint16_t)(i + 1), 100.0 + i * 10, LOOKUP_UNANSWERED);
            const char *cli = k == 2 ? "::1" : "127.0.0.1";
            assert_true(nt_addr_parse(&ls[i]->client, cli, strlen(cli)));
        }
        struct detector *d = run(ls, 3);
        const struct finding *f = find(d, "dns.no_response");
        assert_non_null(f);
        for (size_t i = 0; i < f->n_causes; i++)
            assert_null(strstr(f->causes[i].text, "lost on the path"));
        for (size_t i = 0; i < f->n_causes; i++)
            assert_null(strstr(f->causes[i].text, "Packet loss"));
        detect_free(d);
        free_all(ls, 3);
    }
    /* The same between two hosts keeps it. */
    struct dns_lookup *ls[3];
    for (int i = 0; i < 3; i++)
        ls[i] = lk("198.51.100.2", (uint16_t)(i + 1), 100.0 + i * 10, LOOKUP_UNANSWERED);
    struct detector *d = run(ls, 3);
    const struct finding *f = find(d, "dns.no_response");
    bool loss = false;
    for (size_t i = 0; i < f->n_causes; i++)
        loss |= strstr(f->causes[i].text, "Packet loss on the path") != NULL;
    assert_true(loss);
    detect_free(d);
    free_all(ls, 3);
}

static void test_no_response_capture_ended_is_not_a_failure(void **state)
{
    (void)state;
    /* Only cut-off lookups: no finding. */
    struct dns_lookup *ls[3];
    ls[0] = lk("198.51.100.2", 1, 1.0, LOOKUP_ANSWERED);
    ls[1] = lk("198.51.100.2", 2, 2.0, LOOKUP_CAPTURE_ENDED);
    struct detector *d = run(ls, 2);
    assert_int_equal(count(d, "dns.no_response"), 0);
    detect_free(d);
    /* A real silence plus a cut-off one: the cut-off lookup is a fact, not counted. */
    ls[2] = lk("198.51.100.2", 3, 1.5, LOOKUP_UNANSWERED);
    d = run(ls, 3);
    const struct finding *f = find(d, "dns.no_response");
    assert_non_null(f);
    assert_int_equal(f->lookups, 1);
    assert_true(tu_has_fact(f, "1 further lookup to this server was cut off by the end of the "
                               "capture"));
    detect_free(d);
    free_all(ls, 3);
}

/* Short captures: dig sent its query three times (its 1 s timer) and the capture ended 2 s
 * after the first: the client's own retries are evidence of no answer. It used to be "cut
 * off", and the report said no problem was found. */
static void test_no_response_short_capture_retried(void **state)
{
    (void)state;
    struct dns_lookup *ls[1];
    ls[0] = lk("198.51.100.2", 7, 100.0, LOOKUP_CAPTURE_ENDED);
    ls[0]->transmissions = 3;
    ls[0]->last_tx.sec = 102;
    stats.last_ts = ls[0]->first_tx;
    stats.last_ts.sec = 102;
    stats.last_ts.nsec = 50000000;
    struct detector *d = run(ls, 1);
    const struct finding *f = find(d, "dns.no_response");
    assert_non_null(f);
    assert_int_equal(f->lookups, 1);
    assert_int_equal(f->severity, SEV_MEDIUM);
    assert_non_null(strstr(f->summary, "drew neither an answer nor an ICMP error before the "
                                       "capture ended"));
    assert_non_null(strstr(f->summary, "1 of these lookups was cut off by the end of the "
                                       "capture before the timeout (observed 2.0 s after the "
                                       "first query, the client retried 2 times)"));
    assert_true(tu_has_fact(f, "Short observation: 1 of these lookups had been silent for less "
                               "than the 5.0 s timeout when the capture ended (observed 2.0 s)"));
    assert_false(tu_has_fact(f, "further lookup"));
    for (size_t i = 0; i < f->n_causes; i++)
        assert_true(f->causes[i].confidence <= CONF_MEDIUM);
    detect_free(d);
    /* Retried once, watched 1.05 s: low confidence only. */
    ls[0]->transmissions = 2;
    ls[0]->last_tx.sec = 101;
    stats.last_ts.sec = 101;
    d = run(ls, 1);
    f = find(d, "dns.no_response");
    assert_non_null(f);
    for (size_t i = 0; i < f->n_causes; i++)
        assert_int_equal(f->causes[i].confidence, CONF_LOW);
    detect_free(d);
    /* The same query seen twice at once (tcpdump -i any: two interfaces), the capture ending
     * 1 ms later: one transmission, not a retry; cut off, no finding (tests/real case 008). */
    ls[0]->transmissions = 2;
    ls[0]->last_tx = ls[0]->first_tx;
    stats.last_ts = ls[0]->first_tx;
    stats.last_ts.nsec += 1000000;
    d = run(ls, 1);
    assert_int_equal(count(d, "dns.no_response"), 0);
    detect_free(d);
    /* Sent once just before the end: cut off, no finding. */
    ls[0]->transmissions = 1;
    ls[0]->last_tx.sec = 100;
    stats.last_ts.sec = 100;
    d = run(ls, 1);
    assert_int_equal(count(d, "dns.no_response"), 0);
    detect_free(d);
    free_all(ls, 1);
    memset(&stats, 0, sizeof stats);
}

/* A query sent once, then the same name asked of another server 1 s later (the client gave
 * up on the first), whether the second lookup closed before (answered) or after (cut off too)
 * the first. The second, sent once and cut off itself, stays cut off. */
static void test_no_response_short_capture_gave_up(void **state)
{
    (void)state;
    struct dns_lookup *ls[2];
    ls[0] = lk("198.51.100.2", 7, 100.0, LOOKUP_CAPTURE_ENDED);
    ls[0]->seq = 1;
    ls[1] = lk("198.51.100.3", 8, 101.0, LOOKUP_CAPTURE_ENDED);
    ls[1]->seq = 2;
    stats.last_ts = ls[0]->first_tx;
    stats.last_ts.sec = 101;
    stats.last_ts.nsec = 500000000;
    struct detector *d = run(ls, 2);
    assert_int_equal(count(d, "dns.no_response"), 1);
    const struct finding *f = find(d, "dns.no_response");
    char srv[NT_ADDR_FMT_MAX];
    nt_addr_format(&f->server, srv, sizeof srv);
    assert_string_equal(srv, "198.51.100.2");
    assert_true(tu_has_fact(f, "the client gave up and asked the same name and type again as a "
                               "new lookup (the first to 198.51.100.3)"));
    for (size_t i = 0; i < f->n_causes; i++)
        assert_int_equal(f->causes[i].confidence, CONF_LOW); /* sent once, 1.5 s */
    detect_free(d);
    /* The second one answered, so it reached the rules first. */
    struct dns_lookup *rev[2];
    lk_free(ls[1]);
    ls[1] = lk("198.51.100.3", 8, 101.0, LOOKUP_ANSWERED);
    ls[1]->seq = 2;
    rev[0] = ls[1];
    rev[1] = ls[0];
    d = run(rev, 2);
    f = find(d, "dns.no_response");
    assert_non_null(f);
    assert_int_equal(f->lookups, 1);
    detect_free(d);
    /* Asked of both servers at once (10 ms apart): nobody gave up. */
    ls[1]->first_tx.nsec = ls[1]->last_tx.nsec = 10000000;
    ls[1]->first_tx.sec = ls[1]->last_tx.sec = 100;
    d = run(rev, 2);
    assert_int_equal(count(d, "dns.no_response"), 0);
    detect_free(d);
    free_all(ls, 2);
    memset(&stats, 0, sizeof stats);
}

/* The rule's tables of waiting and recent lookups are bounded rings: past PENDING_MAX waiting
 * lookups the oldest is forgotten (counted), whatever the hash seed; a direct-mapped table
 * forgot a seed-dependent set, so two runs of one input differed. 5,000 cut-off lookups of
 * distinct names, each asked again later: the first 904 are forgotten, 4,096 judged. */
static void test_no_response_tables_do_not_depend_on_seed(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct dns_lookup **ls = calloc(2 * N, sizeof *ls);
    assert_non_null(ls);
    for (int i = 0; i < 2 * N; i++) {
        bool again = i >= N;
        ls[i] = lk("198.51.100.2", (uint16_t)i, 100.0 + (again ? 10.0 : 0.0) + (i % N) * 0.0001,
                   again ? LOOKUP_ANSWERED : LOOKUP_CAPTURE_ENDED);
        ls[i]->seq = (uint64_t)i + 1;
        char name[64];
        snprintf(name, sizeof name, "host%d.example.", i % N);
        free(ls[i]->qname);
        ls[i]->qname = strdup(name);
    }
    stats.last_ts = ls[2 * N - 1]->first_tx;
    uint64_t lookups[2], forgotten[2];
    for (int run_no = 0; run_no < 2; run_no++) {
        htab_seed_set(0x1234 + (uint64_t)run_no * 7919, 0x5678 + (uint64_t)run_no * 104729);
        struct detector *d = run(ls, 2 * N);
        const struct finding *f = find(d, "dns.no_response");
        assert_non_null(f);
        lookups[run_no] = f->lookups;
        const struct detect_limit *lim;
        size_t nl = detect_limits(d, &lim);
        forgotten[run_no] = 0;
        for (size_t k = 0; k < nl; k++)
            if (strcmp(lim[k].name, "cut_off_lookups_forgotten") == 0)
                forgotten[run_no] = lim[k].count;
        detect_free(d);
    }
    assert_int_equal(lookups[0], 4096);
    assert_int_equal(lookups[1], 4096);
    assert_int_equal(forgotten[0], N - 4096);
    assert_int_equal(forgotten[1], N - 4096);
    free_all(ls, 2 * N);
    free(ls);
    memset(&stats, 0, sizeof stats);
}

static void test_no_response_after_answers_is_an_outage(void **state)
{
    (void)state;
    struct dns_lookup *ls[4];
    ls[0] = lk("198.51.100.2", 1, 10.0, LOOKUP_ANSWERED);
    ls[1] = lk("198.51.100.2", 2, 20.0, LOOKUP_ANSWERED);
    ls[2] = lk("198.51.100.2", 3, 30.0, LOOKUP_UNANSWERED);
    ls[3] = lk("198.51.100.2", 4, 40.0, LOOKUP_UNANSWERED);
    struct detector *d = run(ls, 4);
    const struct finding *f = find(d, "dns.no_response");
    assert_non_null(f);
    assert_int_equal(f->severity, SEV_HIGH);
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(f->causes[0].text, "Something changed"));
    assert_true(tu_has_fact(f, "answered 2 of its 4 lookups"));
    /* The detector's window: the last answer before, none after. */
    assert_true(f->window.has_ok_before);
    assert_int_equal(f->window.ok_before.sec, 20);
    assert_false(f->window.has_ok_after);
    assert_int_equal(f->window.ok_during, 0);
    detect_free(d);
    free_all(ls, 4);
}

static void test_no_response_intermittent_is_medium(void **state)
{
    (void)state;
    struct dns_lookup *ls[5];
    ls[0] = lk("198.51.100.2", 1, 10.0, LOOKUP_ANSWERED);
    ls[1] = lk("198.51.100.2", 2, 20.0, LOOKUP_UNANSWERED);
    ls[2] = lk("198.51.100.2", 3, 30.0, LOOKUP_ANSWERED);
    ls[3] = lk("198.51.100.2", 4, 40.0, LOOKUP_UNANSWERED);
    ls[4] = lk("198.51.100.2", 5, 50.0, LOOKUP_ANSWERED);
    struct detector *d = run(ls, 5);
    const struct finding *f = find(d, "dns.no_response");
    assert_non_null(f);
    assert_int_equal(f->severity, SEV_MEDIUM);
    assert_int_equal(f->causes[0].confidence, CONF_MEDIUM);
    assert_non_null(strstr(f->causes[0].text, "lost on the path"));
    assert_int_equal(f->window.ok_during, 1);
    detect_free(d);
    /* Mostly silent: high even though answers interleave. */
    ls[0]->outcome = LOOKUP_UNANSWERED;
    ls[4]->outcome = LOOKUP_UNANSWERED;
    d = run(ls, 5);
    assert_int_equal(find(d, "dns.no_response")->severity, SEV_HIGH);
    detect_free(d);
    free_all(ls, 5);
}

/* A busy server that answered 98.5 % of its lookups (200 per second from 150 clients) and
 * left 1.5 % unanswered: a loss rate, not a flood; it used to be tagged T1498 "suggests a
 * flood" from the rate and the client count alone. With a surge (dns.flood fires), T1498. */
static void busy_server(struct dns_lookup **ls, size_t n, double t0, size_t surge)
{
    for (size_t i = 0; i < n; i++) {
        double t = t0 + (double)i / 200.0;
        if (surge && i >= n - surge)
            t = t0 + (double)(n - surge) / 200.0 + 1.0 + (double)(i - (n - surge)) / 5000.0;
        ls[i] =
            lk("198.51.100.2", (uint16_t)i, t, i % 200 < 3 ? LOOKUP_UNANSWERED : LOOKUP_ANSWERED);
        char cli[32];
        snprintf(cli, sizeof cli, "203.0.113.%zu", 1 + i % 150);
        assert_true(nt_addr_parse(&ls[i]->client, cli, strlen(cli)));
    }
}

static void test_no_response_loss_rate_is_not_a_flood(void **state)
{
    (void)state;
    enum { N = 2000 };
    struct dns_lookup **ls = calloc(N, sizeof *ls);
    assert_non_null(ls);
    busy_server(ls, N, 100.0, 0);
    struct detector *d = run(ls, N);
    const struct finding *f = find(d, "dns.no_response");
    assert_non_null(f);
    assert_int_equal(f->lookups, 30);
    assert_int_equal(f->attack, ATTACK_NONE);
    assert_int_equal(f->severity, SEV_MEDIUM);
    assert_true(tu_has_fact(f, "Loss rate: 30 of the 2000 lookups to this server that were "
                               "answered or timed out (1.5 %) got no response; 1970 (98.5 %) were "
                               "answered."));
    for (size_t i = 0; i < f->n_causes; i++) {
        assert_null(strstr(f->causes[i].text, "flood"));
        assert_null(strstr(f->causes[i].reason, "suggests a flood"));
    }
    assert_int_equal(count(d, "dns.flood"), 0);
    detect_free(d);
    free_all(ls, N);
    /* The same with 2500 of the lookups in one second after the others at 200 per second: a
     * flood (2,500 in a second against 200), and T1498 on the silence. */
    free(ls);
    ls = calloc(2 * N, sizeof *ls);
    assert_non_null(ls);
    busy_server(ls, 2 * N, 100.0, 2500);
    d = run(ls, 2 * N);
    f = find(d, "dns.no_response");
    assert_non_null(f);
    assert_int_equal(count(d, "dns.flood"), 1);
        assert_int_equal(f->attack, ATTACK_T1498);
    bool flood_cause = false;
    for (size_t i = 0; i < f->n_causes; i++)
        flood_cause |= strstr(f->causes[i].text, "query flood") != NULL &&
                       f->causes[i].confidence == CONF_MEDIUM;
    assert_true(flood_cause);
    detect_free(d);
    free_all(ls, 2 * N);
    free(ls);
}

/* Queries without RD ignored by a server that answers others: RD clear named as a cause
 * (medium), only when the query's header was seen. */
static void test_no_response_without_rd(void **state)
{
    (void)state;
    struct dns_lookup *ls[3];
    ls[0] = lk("198.51.100.2", 1, 100.0, LOOKUP_ANSWERED);
    ls[1] = lk("198.51.100.2", 2, 101.0, LOOKUP_UNANSWERED);
    ls[2] = lk("198.51.100.2", 3, 102.0, LOOKUP_UNANSWERED);
    ls[0]->query_flags = DNS_FLAG_RD;
    for (int i = 0; i < 3; i++)
        ls[i]->query.has_dns = true;
    struct detector *d = run(ls, 3);
    const struct finding *f = find(d, "dns.no_response");
    assert_non_null(f);
    bool named = false;
    for (size_t i = 0; i < f->n_causes; i++)
        named |= strstr(f->causes[i].text, "did not ask for recursion (RD clear") != NULL &&
                 f->causes[i].confidence == CONF_MEDIUM;
    assert_true(named);
    assert_true(tu_has_fact(f, "2 of these lookups did not ask for recursion"));
    detect_free(d);
    for (int i = 0; i < 3; i++)
        ls[i]->query.has_dns = false; /* flags unknown */
    d = run(ls, 3);
    f = find(d, "dns.no_response");
    assert_non_null(f);
    for (size_t i = 0; i < f->n_causes; i++)
        assert_null(strstr(f->causes[i].text, "RD clear"));
    assert_false(tu_has_fact(f, "recursion"));
    detect_free(d);
    free_all(ls, 3);
}

static void test_no_response_other_transport_answered(void **state)
{
    (void)state;
    struct dns_lookup *ls[2];
    ls[0] = lk("198.51.100.2", 1, 10.0, LOOKUP_UNANSWERED);
    ls[1] = lk("198.51.100.2", 2, 12.0, LOOKUP_ANSWERED);
    ls[1]->transport = 6;
    struct detector *d = run(ls, 2);
    const struct finding *f = find(d, "dns.no_response");
    assert_non_null(f);
    assert_true(tu_has_fact(f, "answered 1 of its 1 lookup over TCP"));
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(f->causes[0].text, "firewall"));
    detect_free(d);
    free_all(ls, 2);
}

static void test_no_response_hostile_name(void **state)
{
    (void)state;
    struct dns_lookup *ls[1];
    ls[0] = lk("198.51.100.2", 1, 10.0, LOOKUP_UNANSWERED);
    free(ls[0]->qname);
    ls[0]->qname = strdup("a\\`id\\`$(reboot).example.");
    struct detector *d = run(ls, 1);
    const struct finding *f = find(d, "dns.no_response");
    assert_non_null(f);
    for (size_t k = 0; k < f->n_next_steps; k++) {
        size_t ticks = 0;
        for (const char *p = f->next_steps[k]; *p; p++)
            ticks += *p == '`';
        assert_int_equal(ticks % 2, 0);
        assert_null(strstr(f->next_steps[k], "`id"));
        assert_null(strstr(f->next_steps[k], " $(reboot)"));
    }
    detect_free(d);
    free_all(ls, 1);
}

/* An ICMP port unreachable from the client quoting the answer of lookup l. */
static void client_reject(struct detector *d, struct dns_lookup *l, bool from_client)
{
    struct evidence ev = {0};
    ev.role = EV_ICMP_ERROR;
    ev.pkt = l->answer.pkt + 1;
    ev.ts = l->answer.ts;
    ev.ts.nsec += 20000;
    ev.ip_version = 4;
    ev.src = from_client ? l->client : l->server;
    ev.dst = l->server;
    ev.icmp_type = 3;
    ev.icmp_code = 3;
    ev.icmp_kind = ICMP_K_PORT_UNREACH;
    ev.quote_present = ev.quote_has_ports = true;
    ev.q_src = l->server;
    ev.q_dst = l->client;
    ev.q_proto = 17;
    ev.q_sport = 53;
    ev.q_dport = l->client_ports[0];
    ev.text = (char *)"error line";
    l->client_rejects++;
    struct icmp_event e = {.ev = &ev,
                           .kind = ICMP_K_PORT_UNREACH,
                           .sender = from_client ? ICMP_SENDER_CLIENT : ICMP_SENDER_PATH,
                           .about_dns = true,
                           .quotes_response = true,
                           .lookup = l};
    detect_icmp_error(d, &e);
}

static void test_late_answer_in_time_is_info(void **state)
{
    (void)state;
    struct dns_lookup *ls[3];
    struct detector *d = detect_new(5000000);
    for (int i = 0; i < 3; i++) {
        ls[i] = lk("198.51.100.2", (uint16_t)(i + 1), 10.0 + i, LOOKUP_ANSWERED);
        if (i < 2)
            client_reject(d, ls[i], true);
    }
    for (int i = 0; i < 3; i++)
        detect_lookup(d, ls[i]);
    detect_finish(d, &stats);
    assert_int_equal(count(d, "dns.late_answer"), 1);
    assert_int_equal(count(d, "dns.port_unreachable"), 0);
    assert_int_equal(count(d, "dns.no_response"), 0);
    const struct finding *f = find(d, "dns.late_answer");
    assert_int_equal(f->severity, SEV_INFO);
    assert_int_equal(f->lookups, 2);
    assert_int_equal(f->error_packets, 2);
    assert_int_equal(f->n_evidence, 6); /* query, answer, error of each */
    assert_non_null(strstr(f->summary, "this is not a server failure"));
    assert_true(tu_has_fact(f, "2 of 2 within the 5.0 s timeout, 0 after it"));
    assert_true(tu_has_fact(f, "answered 3 of the 3 lookups"));
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(f->causes[0].text, "does not wait"));
    /* Other answers were accepted: a client firewall is unlikely. */
    assert_int_equal(f->causes[f->n_causes - 1].confidence, CONF_LOW);
    /* The window of a working service is not reported. */
    assert_false(f->window.has_ok_before);
    detect_free(d);
    free_all(ls, 3);
}

static void test_late_answer_after_timeout_points_to_slow(void **state)
{
    (void)state;
    struct dns_lookup *ls[1];
    struct detector *d = detect_new(5000000);
    ls[0] = lk("198.51.100.2", 1, 10.0, LOOKUP_ANSWERED);
    ls[0]->late = true;
    ls[0]->answer.ts.sec += 7;
    ls[0]->elapsed_us = ls[0]->rtt_us = 7001000;
    ls[0]->transmissions = 2;
    client_reject(d, ls[0], true);
    detect_lookup(d, ls[0]);
    detect_finish(d, &stats);
    const struct finding *f = find(d, "dns.late_answer");
    assert_non_null(f);
    assert_int_equal(f->severity, SEV_LOW);
    assert_true(tu_has_fact(f, "see dns.slow"));
    assert_true(tu_has_fact(f, "the server is slow to answer"));
    assert_non_null(strstr(f->causes[0].text, "more slowly than the clients wait"));
    assert_int_equal(count(d, "dns.port_unreachable"), 0);
    detect_free(d);
    free_all(ls, 1);
}

/* tcpdump text without -v: the client's error shows no DNS id, so it is tied to no query; the
 * queries are in the capture all the same, and must not be said to be missing. */
static void test_late_answer_untied_is_not_missing(void **state)
{
    (void)state;
    struct dns_lookup *ls[1];
    struct detector *d = detect_new(5000000);
    ls[0] = lk("198.51.100.2", 1, 10.0, LOOKUP_ANSWERED);
    struct evidence ev = {0};
    ev.role = EV_ICMP_ERROR;
    ev.ts = ls[0]->answer.ts;
    ev.ip_version = 4;
    ev.src = ls[0]->client;
    ev.dst = ls[0]->server;
    ev.icmp_type = 3;
    ev.icmp_code = 3;
    ev.icmp_kind = ICMP_K_PORT_UNREACH;
    ev.q_dst = ls[0]->client;
    ev.q_proto = 17;
    ev.q_dport = 40000;
    ev.text = (char *)"error line";
    struct icmp_event e = {.ev = &ev,
                           .kind = ICMP_K_PORT_UNREACH,
                           .sender = ICMP_SENDER_CLIENT,
                           .about_dns = true,
                           .quotes_response = true};
    e.ev = &ev;
    ev.q_src = ls[0]->server;
    detect_icmp_error(d, &e);
    detect_lookup(d, ls[0]);
    detect_finish(d, &stats);
    const struct finding *f = find(d, "dns.late_answer");
    assert_non_null(f);
    assert_null(strstr(f->summary, "not in the capture"));
    for (size_t i = 0; i < f->n_facts; i++)
        assert_null(strstr(f->facts[i], "not in the capture"));
    assert_true(tu_has_fact(f, "could not be tied to a query"));
    detect_free(d);
    free_all(ls, 1);
}

static void test_late_answer_quiet_for_other_senders(void **state)
{
    (void)state;
    struct dns_lookup *ls[1];
    struct detector *d = detect_new(5000000);
    ls[0] = lk("198.51.100.2", 1, 10.0, LOOKUP_ANSWERED);
    client_reject(d, ls[0], false); /* from a router, not the client */
    detect_lookup(d, ls[0]);
    detect_finish(d, &stats);
    assert_int_equal(count(d, "dns.late_answer"), 0);
    detect_free(d);
    free_all(ls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_response_never_answered),
        cmocka_unit_test(test_no_response_loopback_has_no_path),
        cmocka_unit_test(test_no_response_capture_ended_is_not_a_failure),
        cmocka_unit_test(test_no_response_after_answers_is_an_outage),
        cmocka_unit_test(test_no_response_short_capture_retried),
        cmocka_unit_test(test_no_response_short_capture_gave_up),
        cmocka_unit_test(test_no_response_tables_do_not_depend_on_seed),
        cmocka_unit_test(test_no_response_loss_rate_is_not_a_flood),
        cmocka_unit_test(test_no_response_without_rd),
        cmocka_unit_test(test_no_response_intermittent_is_medium),
        cmocka_unit_test(test_no_response_other_transport_answered),
        cmocka_unit_test(test_no_response_hostile_name),
        cmocka_unit_test(test_late_answer_in_time_is_info),
        cmocka_unit_test(test_late_answer_after_timeout_points_to_slow),
        cmocka_unit_test(test_late_answer_quiet_for_other_senders),
        cmocka_unit_test(test_late_answer_untied_is_not_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
