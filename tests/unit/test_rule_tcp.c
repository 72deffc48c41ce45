/* test_rule_tcp.c: the rules about TCP connection attempts (tcp.refused, tcp.no_response) and
 * truncated DNS answers not retried over TCP (dns.truncated_no_tcp): when they fire, when they
 * stay quiet, and what their causes say. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"

#define BASE 1700000000

static struct nt_time ts(double t)
{
    struct nt_time r = {.kind = NT_TIME_ABSOLUTE};
    r.sec = BASE + (int64_t)t;
    r.nsec = (uint32_t)((t - (double)(int64_t)t) * 1e9 + 0.5);
    return r;
}

static void addr(struct nt_addr *a, const char *s)
{
    assert_true(nt_addr_parse(a, s, strlen(s)));
}

static void ev(struct evidence *e, uint8_t role, uint64_t pkt, double t)
{
    memset(e, 0, sizeof *e);
    e->role = role;
    e->pkt = pkt;
    e->ts = ts(t);
    e->text = strdup("line");
    e->ip_version = 4;
}

/* An attempt from cli to srv:port, first SYN at t, `syns` SYNs one second apart. */
static struct tcp_attempt *att(const char *cli, const char *srv, uint16_t port, double t,
                               uint32_t syns, enum tcp_outcome o, uint64_t pkt)
{
    struct tcp_attempt *a = calloc(1, sizeof *a);
    assert_non_null(a);
    addr(&a->client, cli);
    addr(&a->server, srv);
    a->client_port = (uint16_t)(40000 + pkt);
    a->server_port = port;
    a->first_syn = ts(t);
    a->last_syn = ts(t + syns - 1);
    a->syns = syns;
    a->outcome = (uint8_t)o;
    ev(&a->syn, EV_SYN, pkt, t);
    if (syns > 1)
        ev(&a->retry, EV_SYN_RETRY, pkt + syns - 1, t + syns - 1);
    double rt = t + syns - 1 + 0.0001;
    if (o == TCP_ESTABLISHED)
        ev(&a->reply, EV_SYNACK, pkt + syns, rt);
    else if (o == TCP_RESET)
        ev(&a->reply, EV_RESET, pkt + syns, rt);
    else if (o == TCP_ICMP_ERROR)
        ev(&a->reply, EV_ICMP_ERROR, pkt + syns, rt);
    a->rtt_us = 100;
    return a;
}

static void att_free(struct tcp_attempt *a)
{
    evidence_fini(&a->syn);
    evidence_fini(&a->retry);
    evidence_fini(&a->reply);
    free(a);
}

static struct correlate_stats stats;

/* Runs the detector over the attempts (and lookups), returns the findings of rule `id`. */
static size_t run(struct tcp_attempt **as, size_t n, struct dns_lookup **ls, size_t nl,
                  struct detector **out, const char *id, const struct finding **fs, size_t max)
{
    struct detector *d = detect_new(5000000);
    assert_non_null(d);
    for (size_t i = 0; i < nl; i++)
        detect_lookup(d, ls[i]);
    for (size_t i = 0; i < n; i++)
        detect_tcp_attempt(d, as[i]);
    detect_finish(d, &stats);
    struct finding *const *all;
    size_t nf = detect_findings(d, &all), k = 0;
    for (size_t i = 0; i < nf; i++)
        if (!id || strcmp(all[i]->id, id) == 0) {
            if (k < max)
                fs[k] = all[i];
            k++;
        }
    *out = d;
    return k;
}

static bool any_cause(const struct finding *f, const char *text, enum confidence c)
{
    for (size_t i = 0; i < f->n_causes; i++)
        if (strstr(f->causes[i].text, text) && f->causes[i].confidence == c)
            return true;
    return false;
}

#define CLI "198.51.100.15"
#define SRV "198.51.100.2"

static void test_refused_by_reset(void **state)
{
    (void)state;
    struct tcp_attempt *as[3] = {
        att(CLI, SRV, 443, 10.0, 1, TCP_RESET, 1),
        att("198.51.100.16", SRV, 443, 11.0, 2, TCP_RESET, 10),
        /* Another port of the same server works: no finding for it. */
        att(CLI, SRV, 22, 12.0, 1, TCP_ESTABLISHED, 20),
    };
    struct detector *d;
    const struct finding *fs[4];
    assert_int_equal(run(as, 3, NULL, 0, &d, NULL, fs, 4), 1);
    const struct finding *f = fs[0];
    assert_string_equal(f->id, "tcp.refused");
    assert_int_equal(f->severity, SEV_HIGH);
    assert_int_equal(f->attack, ATTACK_NONE);
    assert_int_equal(f->transport, 6);
    assert_int_equal(f->port, 443);
    assert_string_equal(f->service, "HTTPS");
    assert_int_equal(f->lookups, 2);
    assert_int_equal(f->query_packets, 3);
    assert_int_equal(f->error_packets, 2);
    assert_int_equal(f->n_clients, 2);
    /* SYN, reset; SYN, retry, reset. */
    assert_int_equal(f->n_evidence, 5);
    assert_int_equal(f->first_seen.sec, BASE + 10);
    assert_non_null(strstr(f->summary, "TCP reset"));
    /* Nothing ever completed on 443: nothing listens (high), the firewall (medium). */
    assert_non_null(strstr(f->causes[0].text, "Nothing listens"));
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_true(any_cause(f, "firewall", CONF_MEDIUM));
    assert_true(tu_has_fact(f, "completed no TCP handshake on port 443"));
    assert_true(f->n_next_steps >= 3);
    detect_free(d);
    for (int i = 0; i < 3; i++)
        att_free(as[i]);
}

static void test_refused_after_success_and_other_port(void **state)
{
    (void)state;
    /* 8443 accepted a connection, then reset one: the service stopped or restarted. */
    struct tcp_attempt *as[2] = {
        att(CLI, SRV, 8443, 10.0, 1, TCP_ESTABLISHED, 1),
        att(CLI, SRV, 8443, 20.0, 1, TCP_RESET, 10),
    };
    struct detector *d;
    const struct finding *fs[2];
    assert_int_equal(run(as, 2, NULL, 0, &d, "tcp.refused", fs, 2), 1);
    const struct finding *f = fs[0];
    assert_string_equal(f->service, "8443");
    assert_non_null(strstr(f->causes[0].text, "stopped or restarted"));
    assert_true(tu_has_fact(f, "completed 1 TCP handshake on port 8443"));
    /* The detector's window: the handshake at 10 s came before the failure. */
    assert_true(f->window.has_ok_before);
    assert_int_equal(f->window.ok_total, 1);
    detect_free(d);
    for (int i = 0; i < 2; i++)
        att_free(as[i]);
}

static void test_refused_by_icmp_from_path(void **state)
{
    (void)state;
    struct tcp_attempt *a = att(CLI, SRV, 80, 10.0, 1, TCP_ICMP_ERROR, 1);
    a->icmp_kind = ICMP_K_ADMIN_PROHIBITED;
    a->icmp_sender = ICMP_SENDER_PATH;
    a->reply.icmp_type = 3;
    a->reply.icmp_code = 13;
    addr(&a->reply.src, "203.0.113.1");
    /* Host unreachable is not a refusal: no finding for it here. */
    struct tcp_attempt *b = att(CLI, "198.51.100.3", 80, 11.0, 1, TCP_ICMP_ERROR, 5);
    b->icmp_kind = ICMP_K_HOST_UNREACH;
    struct tcp_attempt *as[2] = {a, b};
    struct detector *d;
    const struct finding *fs[2];
    assert_int_equal(run(as, 2, NULL, 0, &d, "tcp.refused", fs, 2), 1);
    const struct finding *f = fs[0];
    assert_string_equal(f->service, "HTTP");
    assert_non_null(strstr(f->causes[0].text, "on the path"));
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(f->summary, "203.0.113.1"));
    assert_non_null(strstr(f->summary, "A firewall rejected"));
    detect_free(d);
    att_free(a);
    att_free(b);
}

static void test_no_response(void **state)
{
    (void)state;
    struct tcp_attempt *as[3] = {
        att(CLI, SRV, 443, 10.0, 4, TCP_UNANSWERED, 1),
        /* Cut off by the end of the capture after one SYN: named, not counted. */
        att(CLI, SRV, 443, 30.0, 1, TCP_CAPTURE_ENDED, 10),
        /* The host answers on another port: it is up. */
        att(CLI, SRV, 22, 5.0, 1, TCP_RESET, 20),
    };
    struct detector *d;
    const struct finding *fs[2];
    assert_int_equal(run(as, 3, NULL, 0, &d, "tcp.no_response", fs, 2), 1);
    const struct finding *f = fs[0];
    assert_int_equal(f->severity, SEV_HIGH);
    assert_int_equal(f->lookups, 1);
    assert_int_equal(f->query_packets, 4);
    assert_int_equal(f->error_packets, 0);
    assert_int_equal(f->n_evidence, 2);
    assert_true(tu_has_fact(f, "(1 connection attempt, 3 retransmissions)"));
    assert_true(tu_has_fact(f, "4 SYNs per attempt, the last 3.0 s after the first"));
    assert_true(tu_has_fact(f, "1 further attempt to the same port (1 SYN packet"));
    assert_true(tu_has_fact(f, "is up"));
    assert_non_null(strstr(f->causes[0].text, "drops the SYNs"));
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    assert_true(any_cause(f, "down or absent", CONF_LOW));
    detect_free(d);
    for (int i = 0; i < 3; i++)
        att_free(as[i]);
}

/* Short captures: a SYN retransmitted twice (10, 11, 12 s), the capture ending at 12.5 s,
 * before the 5 s timeout: the client's own retransmissions are evidence of no answer. It used
 * to be "cut off" and the report found no problem. */
static void test_no_response_short_capture(void **state)
{
    (void)state;
    struct tcp_attempt *as[2] = {
        att(CLI, SRV, 443, 10.0, 3, TCP_CAPTURE_ENDED, 1),
        att(CLI, SRV, 443, 12.3, 1, TCP_CAPTURE_ENDED, 9),
    };
    stats.last_ts = ts(12.5);
    struct detector *d;
    const struct finding *fs[2];
    assert_int_equal(run(as, 2, NULL, 0, &d, "tcp.no_response", fs, 2), 1);
    const struct finding *f = fs[0];
    assert_int_equal(f->lookups, 1);
    assert_int_equal(f->query_packets, 3);
    assert_int_equal(f->severity, SEV_MEDIUM);
    assert_non_null(strstr(f->summary, "no ICMP error, before the capture ended"));
    assert_true(tu_has_fact(f, "Short observation: 1 of these attempt had no answer yet") ||
                tu_has_fact(f, "Short observation: 1 of these attempts had no answer yet"));
    assert_true(tu_has_fact(f, "(observed 2.5 s after the first SYN); the client had "
                               "retransmitted its SYN 2 times"));
    /* The single SYN just before the end stays cut off. */
    assert_true(tu_has_fact(f, "1 further attempt to the same port (1 SYN packet"));
    for (size_t i = 0; i < f->n_causes; i++)
        assert_true(f->causes[i].confidence <= CONF_MEDIUM);
    detect_free(d);
    /* The same SYN seen twice at once (two interfaces): not a retry, cut off, no finding. */
    att_free(as[0]);
    as[0] = att(CLI, SRV, 443, 12.0, 2, TCP_CAPTURE_ENDED, 1);
    as[0]->last_syn = as[0]->first_syn;
    assert_int_equal(run(as, 1, NULL, 0, &d, "tcp.no_response", fs, 2), 0);
    detect_free(d);
    /* Retransmitted once, watched 1.5 s: low. */
    att_free(as[0]);
    as[0] = att(CLI, SRV, 443, 11.0, 2, TCP_CAPTURE_ENDED, 1);
    assert_int_equal(run(as, 1, NULL, 0, &d, "tcp.no_response", fs, 2), 1);
    for (size_t i = 0; i < fs[0]->n_causes; i++)
        assert_int_equal(fs[0]->causes[i].confidence, CONF_LOW);
    detect_free(d);
    memset(&stats, 0, sizeof stats);
    for (int i = 0; i < 2; i++)
        att_free(as[i]);
}

/* The finding among fs[0..n) whose first client is addr (NULL: none). */
static const struct finding *of_client(const struct finding *const *fs, size_t n, const char *addr)
{
    for (size_t i = 0; i < n; i++) {
        char c[NT_ADDR_FMT_MAX];
        nt_addr_format(&fs[i]->clients[0], c, sizeof c);
        if (strcmp(c, addr) == 0)
            return fs[i];
    }
    return NULL;
}

/* Port scans and sweeps: one finding per scanning source instead of one per target (a
 * scan used to make a tcp.refused or tcp.no_response finding for each of its targets). */
static void test_scan_one_finding_per_source(void **state)
{
    (void)state;
    enum { N = 1 + 98 + 2 + 30 + 1 + 1 };
    struct tcp_attempt *as[N];
    size_t n = 0;
    uint64_t pkt = 1;
    /* A real client's attempt to SRV:443, unanswered: its own finding stays. */
    as[n++] = att(CLI, SRV, 443, 5.0, 3, TCP_UNANSWERED, pkt);
    pkt += 10;
    /* 198.51.100.66 scans ports 1..100 of SRV: 1..60 reset, 61..99 silent, 443 among them
     * (the same target as the real client), 22 open. */
    for (int p = 1; p <= 98; p++, pkt += 4)
        as[n++] = att("198.51.100.66", SRV, (uint16_t)p, 10.0 + p * 0.01, 1,
                      p <= 60 ? TCP_RESET : TCP_UNANSWERED, pkt);
    as[n++] = att("198.51.100.66", SRV, 443, 11.0, 1, TCP_UNANSWERED, pkt += 4);
    as[n++] = att("198.51.100.66", SRV, 22, 11.1, 1, TCP_ESTABLISHED, pkt += 4);
    /* 198.51.100.77 sweeps port 445 over 30 hosts, all silent. */
    for (int h = 0; h < 30; h++, pkt += 4) {
        char host[32];
        snprintf(host, sizeof host, "192.0.2.%d", 10 + h);
        as[n++] = att("198.51.100.77", host, 445, 20.0 + h * 0.05, 2, TCP_UNANSWERED, pkt);
    }
    /* The sweeper's attempt to one more host, refused by an ICMP error from a filter. */
    as[n++] = att("198.51.100.77", "192.0.2.200", 445, 19.0, 1, TCP_ICMP_ERROR, pkt += 4);
    as[n - 1]->icmp_kind = ICMP_K_ADMIN_PROHIBITED;
    as[n - 1]->icmp_sender = ICMP_SENDER_PATH;
    /* A client failing on two ports only: ordinary tcp.refused findings. */
    as[n++] = att("198.51.100.88", SRV, 8443, 30.0, 1, TCP_RESET, pkt += 4);
    assert_int_equal(n, N);
    struct detector *d;
    const struct finding *fs[8];
    assert_int_equal(run(as, n, NULL, 0, &d, "tcp.scan", fs, 8), 2);
    const struct finding *v = of_client(fs, 2, "198.51.100.66");
    const struct finding *sw = of_client(fs, 2, "198.51.100.77");
    assert_non_null(v);
    assert_non_null(sw);
    assert_int_equal(v->attack, ATTACK_T1046);
    assert_int_equal(v->lookups, 99);
    assert_int_equal(v->error_packets, 60);
    assert_true(v->has_server);
    assert_non_null(strstr(v->summary, "failed on 99 ports across 1 host: 99 failed attempts "
                                       "(60 refused by a reset, 0 by an ICMP error, 39 "
                                       "unanswered)"));
    assert_non_null(strstr(v->summary, "a port scan of one host"));
    assert_true(tu_has_fact(v, "Ports that failed (99): 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, "
                               "14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 and 75 more."));
    assert_true(tu_has_fact(v, "1 of the source's attempts to these or other targets completed"));
    assert_true(v->n_evidence <= 64);
    assert_int_equal(sw->lookups, 31);
    assert_false(sw->has_server);
    assert_int_equal(sw->port, 445);
    assert_non_null(strstr(sw->summary, "failed on 1 port across 31 hosts"));
    assert_true(tu_has_fact(sw, "and 21 more."));
    detect_free(d);
    /* No per-target finding for the scanners' attempts: tcp.refused only for the ordinary
     * client, tcp.no_response only for SRV:443 (the real client's, scanner included). */
    assert_int_equal(run(as, n, NULL, 0, &d, "tcp.refused", fs, 8), 1);
    char c[NT_ADDR_FMT_MAX];
    nt_addr_format(&fs[0]->clients[0], c, sizeof c);
    assert_string_equal(c, "198.51.100.88");
    detect_free(d);
    assert_int_equal(run(as, n, NULL, 0, &d, "tcp.no_response", fs, 8), 1);
    assert_int_equal(fs[0]->port, 443);
    detect_free(d);
    for (size_t i = 0; i < n; i++)
        att_free(as[i]);
}

/* A source's failed ports are exact however many and in whatever order: listed sorted while
 * few (the list), and past 4,096 in the bitmap that takes over from the list; repeats are one
 * port. */
static void test_scan_ports_exact(void **state)
{
    (void)state;
    enum { WIDE = 5003, NARROW = 300, N = 2 * WIDE + NARROW };
    struct tcp_attempt **as = calloc(N, sizeof *as);
    assert_non_null(as);
    size_t n = 0;
    uint64_t pkt = 1;
    /* 198.51.100.66: ports 1..5003 in a shuffled order (i * 2357 mod 5003 is a permutation),
     * then all of them again once the bitmap holds them: none may count twice. */
    for (int i = 0; i < 2 * WIDE; i++, pkt += 2)
        as[n++] = att("198.51.100.66", SRV, (uint16_t)(1 + (i * 2357) % WIDE), 10.0 + i * 0.001, 1,
                      TCP_RESET, pkt);
    uint64_t narrow_first = pkt;
    /* 198.51.100.77: ports 1000..1299 from the top down. */
    for (int i = 0; i < NARROW; i++, pkt += 2)
        as[n++] = att("198.51.100.77", SRV, (uint16_t)(1299 - i), 30.0 + i * 0.001, 1,
                      TCP_UNANSWERED, pkt);
    assert_int_equal(n, N);
    struct detector *d;
    const struct finding *fs[4];
    assert_int_equal(run(as, n, NULL, 0, &d, "tcp.scan", fs, 4), 2);
    const struct finding *wide = of_client(fs, 2, "198.51.100.66");
    const struct finding *narrow = of_client(fs, 2, "198.51.100.77");
    assert_non_null(wide);
    assert_non_null(narrow);
    assert_int_equal(wide->lookups, 2 * WIDE);
    assert_non_null(strstr(wide->summary, "failed on 5003 ports across 1"));
    assert_true(tu_has_fact(wide,
                            "Ports that failed (5003): 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, "
                            "13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 and 4979 more."));
    assert_non_null(strstr(narrow->summary, "failed on 300 ports across 1 host"));
    assert_true(tu_has_fact(narrow,
                            "Ports that failed (300): 1000, 1001, 1002, 1003, 1004, 1005, "
                            "1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015, "
                            "1016, 1017, 1018, 1019, 1020, 1021, 1022, 1023 and 276 more."));
    /* The first SYNs, kept before the threshold, are cited: the list starts with the first. */
    assert_true(narrow->n_evidence > 0);
    assert_int_equal(narrow->evidence[0].pkt, narrow_first);
    detect_free(d);
    for (size_t i = 0; i < n; i++)
        att_free(as[i]);
    free(as);
}

/* Past a rule's 1000 findings, each key refused is counted once among the findings omitted,
 * however many of its attempts come after (1,100 sources each failing on 12 ports: 100 scans
 * omitted, not one per attempt from the 10th on, 300). */
static void test_scan_omitted_once_per_source(void **state)
{
    (void)state;
    enum { SOURCES = 1100, PORTS = 12, N = SOURCES * PORTS };
    struct tcp_attempt **as = calloc(N, sizeof *as);
    assert_non_null(as);
    size_t n = 0;
    uint64_t pkt = 1;
    for (int s = 0; s < SOURCES; s++) {
        char src[32];
        snprintf(src, sizeof src, "10.1.%d.%d", s / 250, s % 250 + 1);
        for (int p = 1; p <= PORTS; p++, pkt += 2) {
            double t = 10.0 + (double)n * 0.0001;
            as[n++] = att(src, SRV, (uint16_t)p, t, 1, TCP_RESET, pkt);
        }
    }
    assert_int_equal(n, N);
    struct detector *d;
    const struct finding *fs[1];
    assert_int_equal(run(as, n, NULL, 0, &d, "tcp.scan", fs, 1), DETECT_MAX_FINDINGS_PER_RULE);
    assert_int_equal(detect_findings_omitted(d), SOURCES - DETECT_MAX_FINDINGS_PER_RULE);
    detect_free(d);
    for (size_t i = 0; i < n; i++)
        att_free(as[i]);
    free(as);
}

static uint64_t limit_of(const struct detector *d, const char *rule, const char *name)
{
    const struct detect_limit *l;
    size_t n = detect_limits(d, &l);
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].rule, rule) == 0 && strcmp(l[i].name, name) == 0)
            return l[i].count;
    return 0;
}

/* The TCP rules share one table of every service's outcomes, each seeing the first services up
 * to its own bound (--bound RULE.services), as its own table did: 40 servers each accept a
 * connection on 8443, then servers 10 and 20 reset one. tcp.refused (bound 16) keeps server 10's
 * handshake but not server 20's, and says it does not know rather than "completed no TCP
 * handshake"; tcp.no_response (bound 32) and tcp.unreachable (default) count their own. */
static void test_seen_shared_bounds(void **state)
{
    (void)state;
    struct tcp_attempt *as[43];
    size_t n = 0;
    char srv[32];
    for (int i = 1; i <= 40; i++) {
        snprintf(srv, sizeof srv, "198.51.100.%d", i);
        as[n] = att(CLI, srv, 8443, (double)i, 1, TCP_ESTABLISHED, 10 * n);
        n++;
    }
    as[n] = att(CLI, "198.51.100.10", 8443, 50.0, 1, TCP_RESET, 10 * n);
    n++;
    as[n] = att(CLI, "198.51.100.20", 8443, 51.0, 1, TCP_RESET, 10 * n);
    n++;
    /* A router's host unreachable for server 5's port 9999: tcp.unreachable (bound 40) kept
     * server 5's handshake but not every service, so its sum is a lower bound, said so. */
    as[n] = att(CLI, "198.51.100.5", 9999, 52.0, 1, TCP_ICMP_ERROR, 10 * n);
    as[n]->icmp_kind = ICMP_K_HOST_UNREACH;
    as[n]->icmp_sender = ICMP_SENDER_PATH;
    addr(&as[n]->reply.src, "203.0.113.1");
    n++;
    struct detector *d = detect_new(5000000);
    assert_non_null(d);
    assert_int_equal(detect_set_bound(d, "tcp.refused", "services", 16), 0);
    assert_int_equal(detect_set_bound(d, "tcp.no_response", "services", 32), 0);
    assert_int_equal(detect_set_bound(d, "tcp.unreachable", "services", 40), 0);
    for (size_t i = 0; i < n; i++)
        detect_tcp_attempt(d, as[i]);
    detect_finish(d, &stats);
    /* Attempts of services past each rule's bound: 24 handshakes, server 20's reset and the
     * 41st service (5:9999) for tcp.refused, 8 handshakes and it for tcp.no_response, it alone
     * for tcp.unreachable. */
    assert_int_equal(limit_of(d, "tcp.refused", "tcp_services_dropped"), 26);
    assert_int_equal(limit_of(d, "tcp.no_response", "tcp_services_dropped"), 9);
    assert_int_equal(limit_of(d, "tcp.unreachable", "tcp_services_dropped"), 1);
    struct finding *const *all;
    size_t nf = detect_findings(d, &all);
    const struct finding *f10 = NULL, *f20 = NULL;
    for (size_t i = 0; i < nf; i++) {
        if (strcmp(all[i]->id, "tcp.refused") != 0)
            continue;
        char a[NT_ADDR_FMT_MAX];
        nt_addr_format(&all[i]->server, a, sizeof a);
        if (strcmp(a, "198.51.100.10") == 0)
            f10 = all[i];
        if (strcmp(a, "198.51.100.20") == 0)
            f20 = all[i];
    }
    assert_non_null(f10);
    assert_non_null(f20);
    assert_true(tu_has_fact(f10, "completed 1 TCP handshake on port 8443"));
    assert_non_null(strstr(f10->causes[0].text, "stopped or restarted"));
    assert_false(tu_has_fact(f20, "completed 1 TCP handshake"));
    assert_false(tu_has_fact(f20, "completed no TCP handshake"));
    assert_true(tu_has_fact(f20, "did not keep the other TCP outcomes"));
    for (size_t c = 0; c < f20->n_causes; c++)
        assert_null(strstr(f20->causes[c].text, "completed in the capture"));
    assert_false(tu_has_reason(f20, "completed in the capture"));
    const struct finding *u = NULL;
    for (size_t i = 0; i < nf; i++)
        if (strcmp(all[i]->id, "tcp.unreachable") == 0)
            u = all[i];
    assert_non_null(u);
    assert_true(tu_has_fact(u, "completed at least 1 handshake and sent 0 resets in the capture "
                               "(among the TCP services nettriage kept)"));
    detect_free(d);
    for (size_t i = 0; i < n; i++)
        att_free(as[i]);
}

static void test_quiet(void **state)
{
    (void)state;
    /* Handshakes, and an attempt with one SYN cut off by the end of the capture: no
     * finding. */
    struct tcp_attempt *as[3] = {
        att(CLI, SRV, 443, 10.0, 1, TCP_ESTABLISHED, 1),
        att(CLI, SRV, 443, 11.0, 2, TCP_ESTABLISHED, 5),
        att(CLI, SRV, 80, 12.0, 1, TCP_CAPTURE_ENDED, 10),
    };
    struct detector *d;
    const struct finding *fs[2];
    assert_int_equal(run(as, 3, NULL, 0, &d, NULL, fs, 2), 0);
    detect_free(d);
    for (int i = 0; i < 3; i++)
        att_free(as[i]);
}

/* A DNS lookup of name TXT from CLI to SRV over `transport`, first query at t. */
static struct dns_lookup *lk(uint8_t transport, double t, enum lookup_outcome o, bool tc,
                             uint64_t pkt)
{
    struct dns_lookup *l = calloc(1, sizeof *l);
    assert_non_null(l);
    addr(&l->client, CLI);
    addr(&l->server, SRV);
    l->server_port = 53;
    l->transport = transport;
    l->has_question = true;
    l->qname = strdup("big.example.com.");
    l->qtype = DNS_TYPE_TXT;
    l->qclass = 1;
    l->first_tx = l->last_tx = ts(t);
    l->transmissions = 1;
    ev(&l->query, EV_QUERY, pkt, t);
    l->outcome = (uint8_t)o;
    if (o == LOOKUP_ANSWERED) {
        ev(&l->answer, EV_ANSWER, pkt + 1, t + 0.001);
        l->answer.dns_flags = (uint16_t)(DNS_FLAG_QR | (tc ? DNS_FLAG_TC : 0));
        l->answer.dns_len = 500;
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

static void test_truncated(void **state)
{
    (void)state;
    stats.last_ts = ts(100.0);
    /* 10 s: truncated, no retry. 20 s: truncated, retried over TCP and answered (quiet). 30 s:
     * truncated, the TCP retry reset. 99.5 s: too close to the end of the capture to judge. */
    struct dns_lookup *ls[5] = {
        lk(17, 10.0, LOOKUP_ANSWERED, true, 1),   lk(17, 20.0, LOOKUP_ANSWERED, true, 10),
        lk(6, 20.01, LOOKUP_ANSWERED, false, 15), lk(17, 30.0, LOOKUP_ANSWERED, true, 20),
        lk(17, 99.5, LOOKUP_ANSWERED, true, 30),
    };
    ls[1]->query.has_opt = true;
    struct tcp_attempt *as[2] = {
        att(CLI, SRV, 53, 20.005, 1, TCP_ESTABLISHED, 12),
        att(CLI, SRV, 53, 30.005, 1, TCP_RESET, 22),
    };
    struct detector *d;
    const struct finding *fs[2];
    assert_int_equal(run(as, 2, ls, 5, &d, "dns.truncated_no_tcp", fs, 2), 1);
    const struct finding *f = fs[0];
    assert_int_equal(f->severity, SEV_MEDIUM);
    assert_int_equal(f->transport, 17);
    assert_int_equal(f->port, 53);
    assert_int_equal(f->lookups, 2);
    assert_int_equal(f->n_names, 1);
    assert_string_equal(f->names[0], "big.example.com. TXT");
    /* 2 queries + 1 SYN; 2 truncated answers + 1 reset. */
    assert_int_equal(f->query_packets, 3);
    assert_int_equal(f->error_packets, 3);
    assert_int_equal(f->n_evidence, 6);
    assert_true(tu_has_fact(f, "For 1 of them the capture shows no TCP connection"));
    assert_true(tu_has_fact(f, "1 refused with a reset"));
    assert_true(tu_has_fact(f, "1 other truncated answer from the same server was retried"));
    assert_true(tu_has_fact(f, "1 truncated answer came too close to the end"));
    assert_non_null(strstr(f->causes[0].text, "firewall blocks DNS over TCP"));
    /* The successful retry at 20 s falls between the failures: the rule's own window. */
    assert_true(f->window.window_set);
    assert_int_equal(f->window.ok_total, 1);
    assert_int_equal(f->window.ok_during, 1);
    assert_false(f->window.has_ok_before);
    detect_free(d);
    /* tcp.refused for the reset as well. */
    assert_int_equal(run(as, 2, ls, 5, &d, "tcp.refused", fs, 2), 1);
    detect_free(d);
    for (int i = 0; i < 5; i++)
        lk_free(ls[i]);
    for (int i = 0; i < 2; i++)
        att_free(as[i]);
    memset(&stats, 0, sizeof stats);
}

/* DNS over TCP closed by the server after the query (dns_lookup.tcp): dns.tcp_closed reports
 * a reachable server that did not answer, not dns.no_response's silence; a zone transfer closed
 * with a RST ranks the refused transfer first. A connection accepted and left silent stays
 * dns.no_response's, with the hung service first and no "never reachable". */
static void test_dns_tcp_closed(void **state)
{
    (void)state;
    stats.last_ts = ts(100.0);
    struct dns_lookup *ls[3] = {
        lk(6, 10.0, LOOKUP_UNANSWERED, false, 1),
        lk(6, 20.0, LOOKUP_CAPTURE_ENDED, false, 10),
        lk(17, 30.0, LOOKUP_ANSWERED, false, 20),
    };
    struct evidence close[2];
    for (int i = 0; i < 2; i++) {
        ev(&close[i], EV_PACKET, (uint64_t)(5 + 10 * i), 10.5 + 10 * i);
        ls[i]->tcp.seen = ls[i]->tcp.synack_seen = ls[i]->tcp.query_acked = true;
        ls[i]->tcp.server_close = TCP_CLOSE_RST;
        ls[i]->tcp.closed_conns = 1;
        ls[i]->tcp.close_after_us = 500000;
        ls[i]->tcp.close = &close[i];
        ls[i]->qtype = 252; /* AXFR */
    }
    struct detector *d;
    const struct finding *fs[2];
    assert_int_equal(run(NULL, 0, ls, 3, &d, "dns.no_response", fs, 2), 0);
    detect_free(d);
    assert_int_equal(run(NULL, 0, ls, 3, &d, "dns.tcp_closed", fs, 2), 1);
    const struct finding *f = fs[0];
    assert_int_equal(f->transport, 6);
    assert_int_equal(f->lookups, 2);
    assert_int_equal(f->error_packets, 2);
    assert_int_equal(f->n_evidence, 4);
    assert_int_equal(f->severity, SEV_HIGH);
    assert_non_null(strstr(f->summary, "closed the connection with a RST (an abort) 500.0 ms "
                                       "after the query"));
    assert_non_null(strstr(f->summary, "reachable"));
    assert_null(strstr(f->summary, "never"));
    assert_true(tu_has_fact(f, "SYN-ACK is in the capture (all 2 lookups)"));
    assert_true(tu_has_fact(f, "over UDP port 53, so its DNS service runs; only TCP fails"));
    assert_non_null(strstr(f->causes[0].text, "zone transfers"));
    assert_int_equal(f->causes[0].confidence, CONF_HIGH);
    for (size_t i = 0; i < f->n_causes; i++)
        assert_null(strstr(f->causes[i].text, "Packet loss"));
    detect_free(d);

    /* Accepted, acknowledged, then silent: dns.no_response, the hung service first. */
    for (int i = 0; i < 2; i++) {
        ls[i]->tcp.server_close = TCP_CLOSE_NONE;
        ls[i]->tcp.closed_conns = 0;
        ls[i]->tcp.close = NULL;
        ls[i]->outcome = LOOKUP_UNANSWERED;
    }
    assert_int_equal(run(NULL, 0, ls, 3, &d, "dns.tcp_closed", fs, 2), 0);
    detect_free(d);
    assert_int_equal(run(NULL, 0, ls, 3, &d, "dns.no_response", fs, 2), 1);
    f = fs[0];
    assert_non_null(strstr(f->summary, "it accepted the TCP connections"));
    assert_null(strstr(f->summary, "never shows it reachable"));
    assert_non_null(strstr(f->causes[0].text, "The DNS service is hung"));
    assert_true(tu_has_fact(f, "The server accepted the TCP connection of 2 of these lookups"));
    detect_free(d);
    for (int i = 0; i < 3; i++)
        lk_free(ls[i]);
    for (int i = 0; i < 2; i++)
        evidence_fini(&close[i]);
    memset(&stats, 0, sizeof stats);
}

/* dns.no_response for a client the capture holds one direction of (correlate_stats.one_sided):
 * low, the capture's blind side the first cause, every other cause low; for another client, as
 * before. */
static void test_no_response_one_sided(void **state)
{
    (void)state;
    stats.last_ts = ts(100.0);
    struct dns_lookup *ls[2] = {
        lk(17, 10.0, LOOKUP_UNANSWERED, false, 1),
        lk(17, 20.0, LOOKUP_UNANSWERED, false, 2),
    };
    struct detector *d;
    const struct finding *fs[2];
    assert_int_equal(run(NULL, 0, ls, 2, &d, "dns.no_response", fs, 2), 1);
    assert_int_equal(fs[0]->severity, SEV_HIGH);
    assert_null(strstr(fs[0]->causes[0].text, "one direction"));
    detect_free(d);
    /* Another host one-sided: nothing changes. */
    stats.one_sided_hosts = 1;
    stats.n_one_sided_kept = 1;
    addr(&stats.one_sided[0].host, "198.51.100.99");
    stats.one_sided[0].sent = 946;
    stats.one_sided[0].synack_unseen = 10;
    assert_int_equal(run(NULL, 0, ls, 2, &d, "dns.no_response", fs, 2), 1);
    assert_int_equal(fs[0]->severity, SEV_HIGH);
    detect_free(d);
    addr(&stats.one_sided[0].host, CLI);
    assert_int_equal(run(NULL, 0, ls, 2, &d, "dns.no_response", fs, 2), 1);
    const struct finding *f = fs[0];
    assert_int_equal(f->severity, SEV_LOW);
    assert_non_null(strstr(f->causes[0].text, "The capture holds one direction only"));
    assert_int_equal(f->causes[0].confidence, CONF_MEDIUM);
    for (size_t i = 1; i < f->n_causes; i++)
        assert_int_equal(f->causes[i].confidence, CONF_LOW);
    assert_non_null(strstr(f->summary, "may be missing from the capture rather than from the "
                                       "network"));
    assert_non_null(strstr(f->summary, "it holds 946 packets from it and none addressed to it"));
    assert_null(strstr(f->summary, "never shows it reachable"));
    assert_true(tu_has_fact(f, "One direction only"));
    assert_non_null(strstr(f->next_steps[0], "Capture both directions"));
    detect_free(d);
    /* tcp.no_response for the same client: low, the capture's blind side first. */
    struct tcp_attempt *as[1] = {att(CLI, SRV, 5122, 10.0, 3, TCP_UNANSWERED, 1)};
    assert_int_equal(run(as, 1, NULL, 0, &d, "tcp.no_response", fs, 2), 1);
    f = fs[0];
    assert_int_equal(f->severity, SEV_LOW);
    assert_non_null(strstr(f->causes[0].text, "The capture holds one direction only"));
    for (size_t i = 1; i < f->n_causes; i++)
        assert_int_equal(f->causes[i].confidence, CONF_LOW);
    assert_non_null(strstr(f->summary, "may be missing from the capture"));
    assert_true(tu_has_fact(f, "One direction only"));
    detect_free(d);
    memset(&stats, 0, sizeof stats);
    assert_int_equal(run(as, 1, NULL, 0, &d, "tcp.no_response", fs, 2), 1);
    assert_int_equal(fs[0]->severity, SEV_HIGH);
    assert_null(strstr(fs[0]->summary, "one direction"));
    detect_free(d);
    att_free(as[0]);
    for (int i = 0; i < 2; i++)
        lk_free(ls[i]);
}

static void test_truncated_quiet(void **state)
{
    (void)state;
    stats.last_ts = ts(100.0);
    /* Retried over TCP and answered; a plain answer without TC. */
    struct dns_lookup *ls[3] = {
        lk(17, 10.0, LOOKUP_ANSWERED, true, 1),
        lk(6, 10.01, LOOKUP_ANSWERED, false, 5),
        lk(17, 50.0, LOOKUP_ANSWERED, false, 10),
    };
    struct detector *d;
    const struct finding *fs[2];
    assert_int_equal(run(NULL, 0, ls, 3, &d, NULL, fs, 2), 0);
    detect_free(d);
    for (int i = 0; i < 3; i++)
        lk_free(ls[i]);
    memset(&stats, 0, sizeof stats);
}


/* SYNs answered by host or network unreachable (IPv6 "no route", a router's ARP failure):
 * tcp.unreachable, one finding per server and port, with the router named; port unreachable and
 * admin prohibited stay tcp.refused's; from the client's own address the first cause is the
 * client's routing. */
static void test_unreachable(void **state)
{
    (void)state;
    struct tcp_attempt *a = att(CLI, SRV, 443, 10.0, 2, TCP_ICMP_ERROR, 1);
    a->icmp_kind = ICMP_K_NET_UNREACH;
    a->icmp_sender = ICMP_SENDER_PATH;
    a->reply.icmp_type = 3;
    a->reply.icmp_code = 0;
    addr(&a->reply.src, "203.0.113.1");
    struct tcp_attempt *b = att(CLI, SRV, 443, 12.0, 1, TCP_ICMP_ERROR, 5);
    b->icmp_kind = ICMP_K_HOST_UNREACH;
    b->icmp_sender = ICMP_SENDER_PATH;
    addr(&b->reply.src, "203.0.113.1");
    struct tcp_attempt *c = att(CLI, "198.51.100.9", 22, 13.0, 1, TCP_ICMP_ERROR, 7);
    c->icmp_kind = ICMP_K_HOST_UNREACH;
    c->icmp_sender = ICMP_SENDER_PATH;
    addr(&c->reply.src, CLI); /* the client's own stack */
    struct tcp_attempt *r = att(CLI, "198.51.100.4", 80, 14.0, 1, TCP_ICMP_ERROR, 9);
    r->icmp_kind = ICMP_K_PORT_UNREACH;
    struct tcp_attempt *as[4] = {a, b, c, r};
    struct detector *d;
    const struct finding *fs[4];
    assert_int_equal(run(as, 4, NULL, 0, &d, "tcp.unreachable", fs, 4), 2);
    const struct finding *f = strcmp(fs[0]->service, "HTTPS") == 0 ? fs[0] : fs[1];
    const struct finding *g = f == fs[0] ? fs[1] : fs[0];
    assert_int_equal(f->lookups, 2);
    assert_int_equal(f->query_packets, 3);
    assert_int_equal(f->error_packets, 2);
    assert_non_null(strstr(f->summary, "203.0.113.1"));
    assert_true(tu_has_fact(f, "(1 host, 1 network, 0 other unreachable)"));
    assert_true(any_cause(f, "has no route to the server's network", CONF_HIGH));
    assert_true(any_cause(g, "The client has no route", CONF_HIGH));
    assert_int_equal(g->causes[0].confidence, CONF_HIGH);
    assert_non_null(strstr(g->causes[0].text, "The client has no route"));
    detect_free(d);
    const struct finding *fr[1];
    assert_int_equal(run(as, 4, NULL, 0, &d, "tcp.refused", fr, 1), 1);
    detect_free(d);
    att_free(a);
    att_free(b);
    att_free(c);
    att_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_by_reset),
        cmocka_unit_test(test_refused_after_success_and_other_port),
        cmocka_unit_test(test_refused_by_icmp_from_path),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_no_response),
        cmocka_unit_test(test_quiet),
        cmocka_unit_test(test_seen_shared_bounds),
        cmocka_unit_test(test_scan_one_finding_per_source),
        cmocka_unit_test(test_scan_ports_exact),
        cmocka_unit_test(test_scan_omitted_once_per_source),
        cmocka_unit_test(test_no_response_short_capture),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_truncated_quiet),
        cmocka_unit_test(test_dns_tcp_closed),
        cmocka_unit_test(test_no_response_one_sided),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
