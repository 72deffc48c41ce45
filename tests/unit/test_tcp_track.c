/* test_tcp_track.c: TCP connection attempts in the correlator (src/correlate/tcp_track.c): a SYN
 * opens an attempt, the same SYN again is a retransmission, a SYN-ACK, RST or ICMP error quoting
 * the SYN answers it, silence becomes unanswered or (at the end of the capture) cut off, and a new
 * initial sequence number on the same 4-tuple is a new attempt. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/correlate.h"

#define MAXA 16

#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

struct seen {
    struct tcp_attempt a[MAXA];
    uint8_t reply_role[MAXA];
    uint64_t reply_pkt[MAXA], syn_pkt[MAXA], retry_pkt[MAXA];
    size_t n;
    size_t icmp_events;
    uint64_t icmp_attempt_seq[MAXA];
};

static void on_attempt(void *ctx, const struct tcp_attempt *t)
{
    struct seen *s = ctx;
    assert_true(s->n < MAXA);
    s->a[s->n] = *t;
    /* The attempt is freed after the callback: keep only what the tests read. */
    memset(&s->a[s->n].syn, 0, sizeof s->a[s->n].syn);
    memset(&s->a[s->n].retry, 0, sizeof s->a[s->n].retry);
    memset(&s->a[s->n].reply, 0, sizeof s->a[s->n].reply);
    s->reply_role[s->n] = t->reply.role;
    s->reply_pkt[s->n] = t->reply.pkt;
    s->syn_pkt[s->n] = t->syn.pkt;
    s->retry_pkt[s->n] = t->retry.pkt;
    s->n++;
}

static void on_icmp(void *ctx, const struct icmp_event *e)
{
    struct seen *s = ctx;
    assert_true(s->icmp_events < MAXA);
    s->icmp_attempt_seq[s->icmp_events++] = e->attempt ? e->attempt->seq : 0;
}

static struct correlator *mk(struct seen *s)
{
    struct correlate_config cfg;
    correlate_config_default(&cfg, 5000000);
    struct correlate_callbacks cb = {
        .ctx = s, .on_tcp_attempt = on_attempt, .on_icmp_error = on_icmp};
    memset(s, 0, sizeof *s);
    struct correlator *c = correlate_new(&cfg, &cb);
    assert_non_null(c);
    return c;
}

static void addr(struct nt_addr *a, const char *str)
{
    assert_true(nt_addr_parse(a, str, strlen(str)));
}

static void at(struct packet *p, uint64_t num, double secs)
{
    p->num = num;
    p->ts.kind = NT_TIME_ABSOLUTE;
    p->ts.sec = 1700000000 + (int64_t)secs;
    p->ts.nsec = (uint32_t)((secs - (double)(int64_t)secs) * 1e9 + 0.5);
}

/* A TCP segment from src:sport to dst:dport. */
static void seg(struct packet *p, uint64_t num, double t, const char *src, uint16_t sport,
                const char *dst, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
    memset(p, 0, sizeof *p);
    at(p, num, t);
    p->layers = PKT_L_IP | PKT_L_TCP;
    p->ip_version = 4;
    addr(&p->src, src);
    addr(&p->dst, dst);
    p->ttl = 64;
    p->proto = 6;
    p->sport = sport;
    p->dport = dport;
    p->tcp_flags = flags;
    p->tcp_seq = seq;
    p->tcp_ack = ack;
}

#define CLI "198.51.100.15"
#define SRV "198.51.100.2"

static void syn(struct packet *p, uint64_t num, double t, uint16_t cport, uint32_t isn)
{
    seg(p, num, t, CLI, cport, SRV, 443, F_SYN, isn, 0);
}

/* An ICMP destination unreachable (code) from `from` quoting the SYN q whole (as a capture has
 * it). */
static void icmp_for(struct packet *p, uint64_t num, double t, const struct packet *q,
                     const char *from, uint8_t code)
{
    memset(p, 0, sizeof *p);
    at(p, num, t);
    p->layers = PKT_L_IP | PKT_L_ICMP;
    p->ip_version = 4;
    addr(&p->src, from);
    p->dst = q->src;
    p->proto = 1;
    p->icmp_type = 3;
    p->icmp_code = code;
    p->icmp_kind = (uint8_t)icmp_classify(4, 3, code);
    p->icmp_is_error = true;
    p->quote.present = true;
    p->quote.has_ports = true;
    p->quote.ip_version = 4;
    p->quote.src = q->src;
    p->quote.dst = q->dst;
    p->quote.proto = 6;
    p->quote.sport = q->sport;
    p->quote.dport = q->dport;
    p->quote.known = QUOTE_K_SRC | QUOTE_K_DST | QUOTE_K_PROTO | QUOTE_K_SPORT | QUOTE_K_DPORT;
}

static void feed(struct correlator *c, const struct packet *p)
{
    assert_int_equal(correlate_packet(c, p, 0), 0);
}

/* SYN, SYN-ACK: established at once, with its RTT; the table keeps it so the handshake's ACK and
 * a SYN retransmitted across the answer change nothing. */
static void test_syn_synack(void **state)
{
    (void)state;
    struct seen s;
    struct correlator *c = mk(&s);
    struct packet p;
    syn(&p, 1, 10.0, 40000, 1000);
    feed(c, &p);
    assert_int_equal(s.n, 0);
    seg(&p, 2, 10.0004, SRV, 443, CLI, 40000, F_SYN | F_ACK, 7777, 1001);
    feed(c, &p);
    /* Reported as soon as it is answered. */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.a[0].outcome, TCP_ESTABLISHED);
    assert_int_equal(s.a[0].syns, 1);
    assert_int_equal(s.a[0].rtt_us, 400);
    assert_int_equal(s.a[0].elapsed_us, 400);
    assert_int_equal(s.a[0].server_port, 443);
    assert_int_equal(s.a[0].client_port, 40000);
    assert_int_equal(s.a[0].isn, 1000);
    assert_false(s.a[0].late);
    assert_int_equal(s.reply_role[0], EV_SYNACK);
    assert_int_equal(s.reply_pkt[0], 2);
    assert_int_equal(s.syn_pkt[0], 1);
    /* The client's ACK, data, and a late copy of the SYN: still one attempt. */
    seg(&p, 3, 10.0005, CLI, 40000, SRV, 443, F_ACK, 1001, 7778);
    feed(c, &p);
    syn(&p, 4, 10.2, 40000, 1000);
    feed(c, &p);
    correlate_finish(c);
    assert_int_equal(s.n, 1);
    const struct correlate_stats *st = correlate_stats(c);
    assert_int_equal(st->tcp_attempts, 1);
    assert_int_equal(st->tcp_syn_packets, 2);
    assert_int_equal(st->tcp_established, 1);
    correlate_free(c);
}

/* SYN retransmitted with the same ISN (1 s, then 2 s: Linux's backoff), then RST: one attempt
 * with three SYNs, the RTT from the last SYN. */
static void test_retransmission_then_reset(void **state)
{
    (void)state;
    struct seen s;
    struct correlator *c = mk(&s);
    struct packet p;
    syn(&p, 1, 10.0, 40000, 5555);
    feed(c, &p);
    syn(&p, 2, 11.0, 40000, 5555);
    feed(c, &p);
    syn(&p, 3, 13.0, 40000, 5555);
    feed(c, &p);
    assert_int_equal(s.n, 0);
    seg(&p, 4, 13.0001, SRV, 443, CLI, 40000, F_RST | F_ACK, 0, 5556);
    feed(c, &p);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.a[0].outcome, TCP_RESET);
    assert_int_equal(s.a[0].syns, 3);
    assert_int_equal(s.a[0].rtt_us, 100);
    assert_int_equal(s.a[0].elapsed_us, 3000100);
    assert_int_equal(nt_time_diff_us(&s.a[0].first_syn, &s.a[0].last_syn), 3000000);
    assert_int_equal(s.reply_role[0], EV_RESET);
    assert_int_equal(s.syn_pkt[0], 1);
    assert_int_equal(s.retry_pkt[0], 3);
    correlate_finish(c);
    assert_int_equal(s.n, 1);
    const struct correlate_stats *st = correlate_stats(c);
    assert_int_equal(st->tcp_attempts, 1);
    assert_int_equal(st->tcp_syn_packets, 3);
    assert_int_equal(st->tcp_reset, 1);
    correlate_free(c);
}

/* A RST from the client, or from the server to another port, or sent before the SYN, answers
 * nothing. */
static void test_unrelated_reset(void **state)
{
    (void)state;
    struct seen s;
    struct correlator *c = mk(&s);
    struct packet p;
    syn(&p, 1, 10.0, 40000, 5555);
    feed(c, &p);
    seg(&p, 2, 10.1, CLI, 40000, SRV, 443, F_RST, 5556, 0);
    feed(c, &p);
    seg(&p, 3, 10.2, SRV, 443, CLI, 40001, F_RST | F_ACK, 0, 5556);
    feed(c, &p);
    assert_int_equal(s.n, 0);
    correlate_finish(c);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.a[0].outcome, TCP_CAPTURE_ENDED);
    correlate_free(c);
}

/* ICMP port unreachable (iptables REJECT's default) from the server, and admin prohibited from a
 * router, quoting the SYNs: icmp_error with the kind and sender; the ICMP event carries the
 * attempt. */
static void test_icmp_error(void **state)
{
    (void)state;
    struct seen s;
    struct correlator *c = mk(&s);
    struct packet q, e;
    syn(&q, 1, 10.0, 40000, 5555);
    feed(c, &q);
    icmp_for(&e, 2, 10.0002, &q, SRV, 3);
    feed(c, &e);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.a[0].outcome, TCP_ICMP_ERROR);
    assert_int_equal(s.a[0].icmp_kind, ICMP_K_PORT_UNREACH);
    assert_int_equal(s.a[0].icmp_sender, ICMP_SENDER_SERVER);
    assert_int_equal(s.a[0].rtt_us, 200);
    assert_int_equal(s.reply_role[0], EV_ICMP_ERROR);
    assert_int_equal(s.reply_pkt[0], 2);
    syn(&q, 3, 11.0, 40001, 6666);
    feed(c, &q);
    syn(&q, 4, 12.0, 40001, 6666);
    feed(c, &q);
    icmp_for(&e, 5, 12.001, &q, "203.0.113.1", 13);
    feed(c, &e);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.a[1].outcome, TCP_ICMP_ERROR);
    assert_int_equal(s.a[1].icmp_kind, ICMP_K_ADMIN_PROHIBITED);
    assert_int_equal(s.a[1].icmp_sender, ICMP_SENDER_PATH);
    assert_int_equal(s.a[1].syns, 2);
    assert_int_equal(s.icmp_events, 2);
    assert_int_equal(s.icmp_attempt_seq[0], s.a[0].seq);
    assert_int_equal(s.icmp_attempt_seq[1], s.a[1].seq);
    /* A second error for an attempt already answered is tied to it but changes nothing. */
    icmp_for(&e, 6, 12.5, &q, "203.0.113.1", 13);
    feed(c, &e);
    assert_int_equal(s.icmp_events, 3);
    assert_int_equal(s.icmp_attempt_seq[2], s.a[1].seq);
    correlate_finish(c);
    assert_int_equal(s.n, 2);
    const struct correlate_stats *st = correlate_stats(c);
    assert_int_equal(st->tcp_icmp, 2);
    assert_int_equal(st->icmp_matched, 3);
    correlate_free(c);
}

/* Silence: an attempt whose last SYN is more than the timeout before the last packet of the
 * capture is unanswered; one closer to the end is cut off by the end of the capture. Past the
 * late window an open attempt is closed as unanswered without waiting for the end. */
static void test_timeout_vs_capture_end(void **state)
{
    (void)state;
    struct seen s;
    struct correlator *c = mk(&s);
    struct packet p;
    syn(&p, 1, 10.0, 40000, 1);
    feed(c, &p);
    syn(&p, 2, 11.0, 40000, 1);
    feed(c, &p);
    syn(&p, 3, 13.0, 40000, 1);
    feed(c, &p);
    /* Another attempt 4 s before the end: cut off. */
    syn(&p, 4, 14.0, 40001, 2);
    feed(c, &p);
    syn(&p, 5, 15.0, 40001, 2);
    feed(c, &p);
    /* The last packet, 6 s after the first attempt's last SYN. */
    seg(&p, 6, 19.0, "198.51.100.16", 5000, SRV, 80, F_ACK, 1, 1);
    feed(c, &p);
    assert_int_equal(s.n, 0);
    correlate_finish(c);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.a[0].outcome, TCP_UNANSWERED);
    assert_int_equal(s.a[0].syns, 3);
    assert_int_equal(s.retry_pkt[0], 3);
    assert_int_equal(s.a[1].outcome, TCP_CAPTURE_ENDED);
    assert_int_equal(s.a[1].syns, 2);
    const struct correlate_stats *st = correlate_stats(c);
    assert_int_equal(st->tcp_unanswered, 1);
    assert_int_equal(st->tcp_capture_ended, 1);
    assert_int_equal(st->tcp_syn_packets, 5);
    correlate_free(c);

    /* The late window (120 s by default) passes: closed as unanswered while reading. */
    c = mk(&s);
    syn(&p, 1, 10.0, 40000, 1);
    feed(c, &p);
    seg(&p, 2, 200.0, "198.51.100.16", 5000, SRV, 80, F_ACK, 1, 1);
    feed(c, &p);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.a[0].outcome, TCP_UNANSWERED);
    correlate_finish(c);
    assert_int_equal(s.n, 1);
    correlate_free(c);
}

/* An answer after the timeout is still the attempt's answer, marked late. */
static void test_late_answer(void **state)
{
    (void)state;
    struct seen s;
    struct correlator *c = mk(&s);
    struct packet p;
    syn(&p, 1, 10.0, 40000, 1);
    feed(c, &p);
    seg(&p, 2, 16.0, SRV, 443, CLI, 40000, F_SYN | F_ACK, 9, 2);
    feed(c, &p);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.a[0].outcome, TCP_ESTABLISHED);
    assert_true(s.a[0].late);
    correlate_finish(c);
    correlate_free(c);
}

/* A new ISN on the same 4-tuple is a new attempt. After an answer, the old one stays answered;
 * while the old one waits, it is given up (unanswered) and the new one is followed. */
static void test_new_isn_same_tuple(void **state)
{
    (void)state;
    struct seen s;
    struct correlator *c = mk(&s);
    struct packet p;
    syn(&p, 1, 10.0, 40000, 100);
    feed(c, &p);
    seg(&p, 2, 10.001, SRV, 443, CLI, 40000, F_RST | F_ACK, 0, 101);
    feed(c, &p);
    assert_int_equal(s.n, 1);
    syn(&p, 3, 12.0, 40000, 200);
    feed(c, &p);
    seg(&p, 4, 12.001, SRV, 443, CLI, 40000, F_SYN | F_ACK, 9, 201);
    feed(c, &p);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.a[0].outcome, TCP_RESET);
    assert_int_equal(s.a[1].outcome, TCP_ESTABLISHED);
    assert_int_equal(s.a[1].isn, 200);
    assert_true(s.a[1].seq > s.a[0].seq);
    /* A waiting attempt replaced by a new ISN. */
    syn(&p, 5, 20.0, 40002, 300);
    feed(c, &p);
    syn(&p, 6, 21.0, 40002, 400);
    feed(c, &p);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.a[2].isn, 300);
    assert_int_equal(s.a[2].outcome, TCP_UNANSWERED);
    seg(&p, 7, 21.001, SRV, 443, CLI, 40002, F_RST | F_ACK, 0, 401);
    feed(c, &p);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.a[3].isn, 400);
    assert_int_equal(s.a[3].outcome, TCP_RESET);
    correlate_finish(c);
    assert_int_equal(s.n, 4);
    const struct correlate_stats *st = correlate_stats(c);
    assert_int_equal(st->tcp_attempts, 4);
    assert_int_equal(st->tcp_reset, 2);
    assert_int_equal(st->tcp_established, 1);
    assert_int_equal(st->tcp_unanswered, 1);
    correlate_free(c);
}

/* IPv6, and inputs without times: cut off at the end, never unanswered. */
static void test_ipv6_and_no_times(void **state)
{
    (void)state;
    struct seen s;
    struct correlator *c = mk(&s);
    struct packet p;
    seg(&p, 1, 0, "2001:db8::15", 40000, "2001:db8::2", 53, F_SYN, 1, 0);
    p.ip_version = 6;
    p.ts.kind = NT_TIME_NONE;
    feed(c, &p);
    seg(&p, 2, 0, "2001:db8::15", 40000, "2001:db8::2", 53, F_SYN, 1, 0);
    p.ip_version = 6;
    p.ts.kind = NT_TIME_NONE;
    feed(c, &p);
    correlate_finish(c);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.a[0].outcome, TCP_CAPTURE_ENDED);
    assert_int_equal(s.a[0].syns, 2);
    assert_int_equal(s.a[0].server_port, 53);
    correlate_free(c);
}

/* Attempts close in deadline order: one SYN retransmitted every 3 s (same ISN) does not keep
 * the silent attempts made after it open past their own late window. */
static void test_expiry_in_time_order(void **state)
{
    (void)state;
    struct seen s;
    struct correlator *c = mk(&s);
    struct packet *p = calloc(1, sizeof *p);
    assert_non_null(p);
    uint64_t num = 1;
    int made = 0;
    for (double t = 0.0; t <= 300.0; t += 3.0) {
        syn(p, num++, t, 50000, 1000);
        feed(c, p);
        if (made < 5) {
            made++;
            syn(p, num++, t + 1.0, (uint16_t)(51000 + made), (uint32_t)(2000 + made));
            feed(c, p);
        }
        if (t <= 120.0)
            assert_int_equal(s.n, 0);
        if (t >= 135.0)
            assert_int_equal(s.n, 5);
    }
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.a[i].outcome, TCP_UNANSWERED);
        assert_int_equal(s.a[i].client_port, 51001 + i);
    }
    correlate_finish(c);
    assert_int_equal(s.n, 6);
    assert_int_equal(s.a[5].syns, 101);
    correlate_free(c);
    free(p);
}

/* tcpdump text without -v prints only the quoted destination host of a host or admin-prohibited
 * unreachable ("ICMP host 203.0.113.80 unreachable - admin prohibited filter"): the error is
 * tied to the waiting attempt from the host it went to, to that destination; one about
 * another destination or another client is not. */
static void test_icmp_error_host_only(void **state)
{
    (void)state;
    struct seen s;
    struct correlator *c = mk(&s);
    struct packet q, e;
    syn(&q, 1, 10.0, 40000, 5555);
    feed(c, &q);
    /* Another destination first: not this attempt. */
    icmp_for(&e, 2, 10.0001, &q, "203.0.113.1", 13);
    e.quote.present = e.quote.has_ports = false;
    e.quote.known = QUOTE_K_DST;
    addr(&e.quote.dst, "203.0.113.200");
    feed(c, &e);
    assert_int_equal(s.n, 0);
    /* Another client: not this attempt either. */
    icmp_for(&e, 3, 10.0002, &q, "203.0.113.1", 13);
    e.quote.present = e.quote.has_ports = false;
    e.quote.known = QUOTE_K_DST;
    addr(&e.dst, "198.51.100.77");
    feed(c, &e);
    assert_int_equal(s.n, 0);
    /* The destination host alone, sent to the client: refused. */
    icmp_for(&e, 4, 10.0003, &q, "203.0.113.1", 13);
    e.quote.present = e.quote.has_ports = false;
    e.quote.known = QUOTE_K_DST;
    feed(c, &e);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.a[0].outcome, TCP_ICMP_ERROR);
    assert_int_equal(s.a[0].icmp_kind, ICMP_K_ADMIN_PROHIBITED);
    assert_int_equal(s.a[0].icmp_sender, ICMP_SENDER_PATH);
    assert_int_equal(s.icmp_attempt_seq[0], 0);
    assert_int_equal(s.icmp_attempt_seq[1], 0);
    assert_int_equal(s.icmp_attempt_seq[2], s.a[0].seq);
    correlate_finish(c);
    assert_int_equal(correlate_stats(c)->tcp_icmp, 1);
    correlate_free(c);
}

/* A one-sided capture: the client's SYN, then its ACK and data on the same connection, and no
 * SYN-ACK in the capture. The handshake completed out of sight: established (synack_unseen),
 * not unanswered; a bare ACK on another connection changes nothing. */
static void test_client_goes_on_without_synack(void **state)
{
    (void)state;
    struct seen s;
    struct correlator *c = mk(&s);
    struct packet q, a;
    syn(&q, 1, 10.0, 40000, 5555);
    feed(c, &q);
    seg(&a, 2, 10.05, CLI, 40001, SRV, 443, F_ACK, 9999, 1); /* another connection */
    feed(c, &a);
    assert_int_equal(s.n, 0);
    seg(&a, 3, 10.1, CLI, 40000, SRV, 443, F_ACK, 5556, 1);
    feed(c, &a);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.a[0].outcome, TCP_ESTABLISHED);
    assert_true(s.a[0].synack_unseen);
    assert_int_equal(s.reply_pkt[0], 3);
    correlate_finish(c);
    assert_int_equal(s.n, 1);
    assert_int_equal(correlate_stats(c)->tcp_unanswered, 0);
    correlate_free(c);
}

/* ---- Many attempts in the tracker's index ---- */
struct counted {
    size_t n, reset, established;
    uint32_t bad; /* attempts whose reply did not acknowledge their own SYN */
};

static void on_counted(void *ctx, const struct tcp_attempt *t)
{
    struct counted *k = ctx;
    k->n++;
    if (t->outcome == TCP_RESET)
        k->reset++;
    if (t->outcome == TCP_ESTABLISHED)
        k->established++;
    /* Each test's reply is packet (its SYN's packet + 1). */
    if (t->reply.pkt != t->syn.pkt + 1)
        k->bad++;
}

/* 600 attempts on one 4-tuple, each a new initial sequence number reset at once, all within the
 * answer guard (so all stay in the index); then 3000 attempts on their own tuples, answered in
 * the reverse order. Every reply pairs with the newest attempt of its tuple, and the SYN of the
 * newest attempt again is its retransmission. */
static void test_many_attempts(void **state)
{
    (void)state;
    struct correlate_config cfg;
    correlate_config_default(&cfg, 5000000);
    struct counted k = {0};
    struct correlate_callbacks cb = {.ctx = &k, .on_tcp_attempt = on_counted};
    struct correlator *c = correlate_new(&cfg, &cb);
    assert_non_null(c);
    struct packet p;
    uint64_t num = 1;
    for (uint32_t i = 0; i < 600; i++) {
        syn(&p, num++, 10.0 + i * 0.001, 40000, 1000 + i);
        feed(c, &p);
        seg(&p, num++, 10.0 + i * 0.001 + 0.0001, SRV, 443, CLI, 40000, F_RST | F_ACK, 0, 1001 + i);
        feed(c, &p);
    }
    const struct correlate_stats *st = correlate_stats(c);
    assert_int_equal(k.reset, 600);
    assert_int_equal(k.bad, 0);
    syn(&p, num++, 10.7, 40000, 1599);
    feed(c, &p);
    assert_int_equal(st->tcp_attempts, 600);
    assert_int_equal(st->tcp_syn_packets, 601);
    num++;
    uint64_t base = num;
    for (uint32_t i = 0; i < 3000; i++) {
        seg(&p, base + 2 * i, 11.0 + i * 0.0001, CLI, (uint16_t)(10000 + i), SRV, 443, F_SYN, 7 * i,
            0);
        feed(c, &p);
    }
    for (uint32_t i = 3000; i-- > 0;) {
        seg(&p, base + 2 * i + 1, 12.0 + (3000 - i) * 0.0001, SRV, 443, CLI, (uint16_t)(10000 + i),
            F_SYN | F_ACK, 5, 7 * i + 1);
        feed(c, &p);
    }
    assert_int_equal(k.established, 3000);
    assert_int_equal(k.bad, 0);
    correlate_finish(c);
    assert_int_equal(st->tcp_attempts, 3600);
    assert_int_equal(k.n, 3600);
    assert_int_equal(st->tcp_evicted, 0);
    correlate_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syn_synack),
        cmocka_unit_test(test_retransmission_then_reset),
        cmocka_unit_test(test_unrelated_reset),
        cmocka_unit_test(test_icmp_error),
        cmocka_unit_test(test_icmp_error_host_only),
        cmocka_unit_test(test_client_goes_on_without_synack),
        cmocka_unit_test(test_timeout_vs_capture_end),
        cmocka_unit_test(test_late_answer),
        cmocka_unit_test(test_new_isn_same_tuple),
        cmocka_unit_test(test_ipv6_and_no_times),
        cmocka_unit_test(test_expiry_in_time_order),
        cmocka_unit_test(test_many_attempts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
