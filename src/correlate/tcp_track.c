/* tcp_track.c: TCP connection attempts (see tcp_track.h). */
#include "correlate/tcp_track.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/htab.h"
#include "util/theap.h"

#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
/* ICMP errors whose quote lacks a port are matched by scanning the newest attempts. */
#define TCP_SCAN_LIMIT 4096

/* The open attempts of one 4-tuple are a list, newest first (kolder); its newest is the
 * tracker's index item under the 4-tuple's hash (h), so finding an attempt costs one probe of
 * the index however many attempts share the tuple. */
struct ta {
    struct tcp_attempt a;
    struct ta *kolder, *knewer; /* attempts of the same 4-tuple */
    struct ta *older, *newer;   /* creation order */
    struct theap_node due;      /* deadline on the correlator's clock */
    int64_t first_vt, last_vt, outcome_vt;
    uint64_t h;
    bool reported; /* handed to the callback */
};

#define TA_OF(node) ((struct ta *)((char *)(node)-offsetof(struct ta, due)))

struct tcp_tracker {
    const struct correlate_config *cfg;
    const struct correlate_callbacks *cb;
    struct correlate_stats *st;
    struct htab index; /* the newest attempt of each 4-tuple by the tuple's hash (tuple_hash) */
    size_t open;
    struct ta *oldest, *newest;
    struct theap due; /* every open attempt by deadline */
    int64_t now;      /* the correlator's clock at the current packet (tcp_track_clock) */
    uint64_t seq;
    struct pkt_relation *rel; /* tcp_track_relation */
};

void tcp_track_relation(struct tcp_tracker *t, struct pkt_relation *rel)
{
    t->rel = rel;
}

/* Notes how the current segment relates to attempt e (before it changes e's times). */
static void relate(struct tcp_tracker *t, const struct ta *e, const struct packet *pkt,
                   enum pkt_relation_kind kind)
{
    struct pkt_relation *r = t->rel;
    if (!r)
        return;
    const struct tcp_attempt *a = &e->a;
    r->kind = (uint8_t)kind;
    r->attempt_seq = a->seq;
    r->first_pkt = a->syn.pkt;
    r->first_line = a->syn.line_no;
    r->transmissions = a->syns;
    r->has_time = pkt->ts.kind != NT_TIME_NONE && a->first_syn.kind != NT_TIME_NONE;
    r->since_first_us = t->now > e->first_vt ? t->now - e->first_vt : 0;
    r->since_last_us = t->now > e->last_vt ? t->now - e->last_vt : 0;
    r->late = t->now > e->last_vt && t->now - e->last_vt > t->cfg->timeout_us;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    return a + b;
}

/* When an open attempt is due to close: a waiting one after the late window since its last
 * SYN (so a late answer still finds it), one refused by an ICMP error likewise (the client
 * goes on retransmitting the SYN, each drawing an error), an established or reset one after the
 * answer guard (a retransmitted SYN that crossed the answer). */
static int64_t deadline(const struct tcp_tracker *t, const struct ta *e)
{
    if (e->a.outcome == TCP_ESTABLISHED || e->a.outcome == TCP_RESET)
        return sat_add(e->outcome_vt, t->cfg->answer_guard_us);
    return sat_add(e->last_vt, t->cfg->late_window_us);
}

static void reschedule(struct tcp_tracker *t, struct ta *e)
{
    e->due.at = deadline(t, e);
    theap_update(&t->due, &e->due);
}

void tcp_track_clock(struct tcp_tracker *t, int64_t now)
{
    t->now = now;
}

/* The 4-tuple's hash under the run's key (util/htab): packets cannot be crafted to collide. */
static uint64_t tuple_hash(const struct nt_addr *client, const struct nt_addr *server,
                           uint16_t cport, uint16_t sport)
{
    uint8_t b[6 + 32];
    b[0] = client->family;
    b[1] = server->family;
    b[2] = (uint8_t)(cport >> 8);
    b[3] = (uint8_t)cport;
    b[4] = (uint8_t)(sport >> 8);
    b[5] = (uint8_t)sport;
    size_t n = 6 + nt_addr_put(b + 6, client);
    n += nt_addr_put(b + n, server);
    return htab_hash(b, n);
}

struct tcp_tracker *tcp_tracker_new(const struct correlate_config *cfg,
                                    const struct correlate_callbacks *cb,
                                    struct correlate_stats *st)
{
    struct tcp_tracker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = cfg;
    t->cb = cb;
    t->st = st;
    htab_init(&t->index);
    theap_init(&t->due);
    return t;
}

static void free_entry(struct ta *e)
{
    evidence_fini(&e->a.syn);
    evidence_fini(&e->a.retry);
    evidence_fini(&e->a.reply);
    free(e);
}

static void unlink_entry(struct tcp_tracker *t, struct ta *e)
{
    theap_remove(&t->due, &e->due);
    if (e->knewer)
        e->knewer->kolder = e->kolder;
    else if (e->kolder)
        htab_replace(&t->index, e->h, e, e->kolder); /* the newest left */
    else
        htab_remove(&t->index, e->h, e);
    if (e->kolder)
        e->kolder->knewer = e->knewer;
    if (e->older)
        e->older->newer = e->newer;
    else
        t->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        t->newest = e->older;
    t->open--;
}

/* Counts the final outcome and hands the attempt on, once. */
static void report(struct tcp_tracker *t, struct ta *e)
{
    if (e->reported)
        return;
    e->reported = true;
    switch (e->a.outcome) {
    case TCP_ESTABLISHED:
        t->st->tcp_established++;
        break;
    case TCP_RESET:
        t->st->tcp_reset++;
        break;
    case TCP_ICMP_ERROR:
        t->st->tcp_icmp++;
        break;
    case TCP_UNANSWERED:
        t->st->tcp_unanswered++;
        break;
    case TCP_CAPTURE_ENDED:
        t->st->tcp_capture_ended++;
        break;
    default:
        break;
    }
    if (t->cb->on_tcp_attempt)
        t->cb->on_tcp_attempt(t->cb->ctx, &e->a);
}

/* Closes an entry: a waiting attempt becomes unanswered (or cut off by the end of the
 * capture), is reported, and is freed. */
static void close_entry(struct tcp_tracker *t, struct ta *e, bool at_end, bool has_time)
{
    unlink_entry(t, e);
    if (e->a.outcome == TCP_PENDING) {
        bool timed_out = !at_end;
        if (at_end && has_time && e->a.last_syn.kind != NT_TIME_NONE)
            timed_out = t->now > e->last_vt && t->now - e->last_vt >= t->cfg->timeout_us;
        e->a.outcome = timed_out ? TCP_UNANSWERED : TCP_CAPTURE_ENDED;
    }
    report(t, e);
    free_entry(e);
}

/* The newest attempt of a 4-tuple (hash h), or NULL. */
static struct ta *find_h(const struct tcp_tracker *t, uint64_t h, const struct nt_addr *client,
                         const struct nt_addr *server, uint16_t cport, uint16_t sport)
{
    struct htab_iter it;
    for (struct ta *e = htab_find(&t->index, h, &it); e; e = htab_find_next(&t->index, &it)) {
        const struct tcp_attempt *a = &e->a;
        if (a->client_port == cport && a->server_port == sport && nt_addr_eq(&a->client, client) &&
            nt_addr_eq(&a->server, server))
            return e;
    }
    return NULL;
}

static struct ta *find(const struct tcp_tracker *t, const struct nt_addr *client,
                       const struct nt_addr *server, uint16_t cport, uint16_t sport)
{
    return find_h(t, tuple_hash(client, server, cport, sport), client, server, cport, sport);
}

static bool is_late(const struct tcp_tracker *t, const struct ta *e)
{
    return t->now > e->last_vt && t->now - e->last_vt > t->cfg->timeout_us;
}

/* Gives an attempt its outcome at the current packet. */
static void set_outcome(struct tcp_tracker *t, struct ta *e, enum tcp_outcome o)
{
    struct tcp_attempt *a = &e->a;
    a->outcome = (uint8_t)o;
    a->late = is_late(t, e);
    a->rtt_us = t->now > e->last_vt ? t->now - e->last_vt : 0;
    a->elapsed_us = t->now > e->first_vt ? t->now - e->first_vt : 0;
    e->outcome_vt = t->now;
    reschedule(t, e);
}

static int on_syn(struct tcp_tracker *t, const struct packet *pkt, uint32_t input)
{
    t->st->tcp_syn_packets++;
    uint64_t h = tuple_hash(&pkt->src, &pkt->dst, pkt->sport, pkt->dport);
    struct ta *e = find_h(t, h, &pkt->src, &pkt->dst, pkt->sport, pkt->dport);
    if (e && e->a.isn == pkt->tcp_seq) {
        /* The same SYN again: a retransmission (also after an answer that crossed it). */
        struct tcp_attempt *a = &e->a;
        relate(t, e, pkt, REL_SYN_RETRY);
        a->syns++;
        if (t->rel)
            t->rel->transmission = a->syns;
        if (a->outcome == TCP_PENDING) {
            if (pkt->ts.kind != NT_TIME_NONE)
                a->last_syn = pkt->ts;
            e->last_vt = t->now;
            reschedule(t, e);
            evidence_fini(&a->retry);
            if (!evidence_from_packet(&a->retry, pkt, input, EV_SYN_RETRY))
                return NT_ERR_NOMEM;
            a->retry.order_pkt = a->syn.pkt;
        }
        return NT_OK;
    }
    if (e && e->a.outcome == TCP_PENDING) {
        /* A new initial sequence number on the same 4-tuple: the old attempt was given up. */
        close_entry(t, e, false, true);
    }
    if (t->open >= t->cfg->max_tcp_open && theap_top(&t->due)) {
        t->st->tcp_evicted++;
        close_entry(t, TA_OF(theap_top(&t->due)), false, true);
    }
    /* The closings above may have taken the tuple's newest attempt. */
    struct ta *newest = find_h(t, h, &pkt->src, &pkt->dst, pkt->sport, pkt->dport);
    e = calloc(1, sizeof *e);
    if (!e)
        return NT_ERR_NOMEM;
    struct tcp_attempt *a = &e->a;
    a->seq = ++t->seq;
    a->input = input;
    a->client = pkt->src;
    a->server = pkt->dst;
    a->client_port = pkt->sport;
    a->server_port = pkt->dport;
    a->isn = pkt->tcp_seq;
    a->first_syn = a->last_syn = pkt->ts;
    e->first_vt = e->last_vt = t->now;
    a->syns = 1;
    a->first_ttl = pkt->ttl;
    if (!evidence_from_packet(&a->syn, pkt, input, EV_SYN)) {
        free_entry(e);
        return NT_ERR_NOMEM;
    }
    e->due.tie = a->seq;
    e->due.at = deadline(t, e);
    e->h = h;
    if (!theap_push(&t->due, &e->due)) {
        free_entry(e);
        return NT_ERR_NOMEM;
    }
    if (newest ? !htab_replace(&t->index, h, newest, e) : htab_insert(&t->index, h, e) < 0) {
        theap_remove(&t->due, &e->due);
        free_entry(e);
        return NT_ERR_NOMEM;
    }
    e->kolder = newest;
    if (newest)
        newest->knewer = e;
    e->older = t->newest;
    if (t->newest)
        t->newest->newer = e;
    else
        t->oldest = e;
    t->newest = e;
    t->open++;
    t->st->tcp_attempts++;
    relate(t, e, pkt, REL_SYN);
    if (t->rel)
        t->rel->transmission = 1;
    return NT_OK;
}

/* Gives a waiting attempt its answer. */
static int answer(struct tcp_tracker *t, struct ta *e, const struct packet *pkt, uint32_t input,
                  enum tcp_outcome o, enum evidence_role role)
{
    struct tcp_attempt *a = &e->a;
    set_outcome(t, e, o);
    if (!evidence_from_packet(&a->reply, pkt, input, role))
        return NT_ERR_NOMEM;
    a->reply.order_pkt = a->syn.pkt;
    report(t, e);
    return NT_OK;
}

int tcp_track_packet(struct tcp_tracker *t, const struct packet *pkt, uint32_t input)
{
    uint8_t f = pkt->tcp_flags;
    if ((f & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN)
        return on_syn(t, pkt, input);
    if (!(f & (TCP_SYN | TCP_RST))) {
        /* The client going on with an ACK (or data) after its SYN: it got a SYN-ACK, which the
         * capture did not see (a one-sided capture, asymmetric routing). Not "unanswered". */
        if (!(f & TCP_ACK))
            return NT_OK;
        struct ta *c = find(t, &pkt->src, &pkt->dst, pkt->sport, pkt->dport);
        if (!c || c->a.outcome != TCP_PENDING)
            return NT_OK;
        c->a.synack_unseen = true;
        relate(t, c, pkt, REL_ACK_NO_SYNACK);
        return answer(t, c, pkt, input, TCP_ESTABLISHED, EV_PACKET);
    }
    /* A SYN-ACK or a RST from the server side of an attempt. */
    struct ta *e = find(t, &pkt->dst, &pkt->src, pkt->dport, pkt->sport);
    if (!e || e->a.outcome != TCP_PENDING)
        return NT_OK;
    if (f & TCP_RST) {
        relate(t, e, pkt, REL_RST);
        return answer(t, e, pkt, input, TCP_RESET, EV_RESET);
    }
    if ((f & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
        relate(t, e, pkt, REL_SYNACK);
        return answer(t, e, pkt, input, TCP_ESTABLISHED, EV_SYNACK);
    }
    return NT_OK;
}

static bool quote_matches(const struct tcp_attempt *a, const struct packet *pkt,
                          const struct tcp_quote_known *k)
{
    const struct icmp_quote *q = &pkt->quote;
    if (!k->dst || !nt_addr_eq(&q->dst, &a->server))
        return false;
    /* Without the quoted source, the error went back to the host that sent the SYN. */
    if (!nt_addr_eq(k->src ? &q->src : &pkt->dst, &a->client))
        return false;
    if (k->sport && q->sport != a->client_port)
        return false;
    if (k->dport && q->dport != a->server_port)
        return false;
    return true;
}

struct tcp_attempt *tcp_track_icmp(struct tcp_tracker *t, const struct packet *pkt,
                                   const struct tcp_quote_known *k, const struct evidence *ev,
                                   enum icmp_sender *sender, int *err)
{
    *err = NT_OK;
    if (!k->dst || (k->proto && pkt->quote.proto != 6))
        return NULL;
    /* tcpdump text without -v prints only the quoted destination host for a host, net or
     * admin-prohibited unreachable ("ICMP host 203.0.113.80 unreachable - admin prohibited
     * filter"): such an error is tied to the newest attempt from the host it went to, to that
     * destination, as a port-less quote is. */
    struct ta *pending = NULL, *any = NULL;
    size_t scanned = 0;
    for (struct ta *e = t->newest; e && scanned < TCP_SCAN_LIMIT; e = e->older, scanned++) {
        if (!quote_matches(&e->a, pkt, k))
            continue;
        if (e->a.outcome == TCP_PENDING) {
            pending = e;
            break;
        }
        if (!any)
            any = e;
    }
    struct ta *e = pending ? pending : any;
    if (!e)
        return NULL;
    struct tcp_attempt *a = &e->a;
    *sender = nt_addr_eq(&pkt->src, &a->server) ? ICMP_SENDER_SERVER : ICMP_SENDER_PATH;
    if (a->outcome == TCP_PENDING) {
        a->icmp_kind = pkt->icmp_kind;
        a->icmp_sender = (uint8_t)*sender;
        set_outcome(t, e, TCP_ICMP_ERROR);
        if (!evidence_copy(&a->reply, ev))
            *err = NT_ERR_NOMEM;
        else
            a->reply.order_pkt = a->syn.pkt;
    }
    return a;
}

void tcp_track_settle(struct tcp_tracker *t, struct tcp_attempt *a)
{
    struct ta *e = (struct ta *)a; /* a is the first member */
    if (a->outcome != TCP_PENDING)
        report(t, e);
}

const struct theap *tcp_track_due(const struct tcp_tracker *t)
{
    return &t->due;
}

void tcp_track_expire(struct tcp_tracker *t)
{
    struct theap_node *n;
    while (theap_may_have_before(&t->due, t->now) && (n = theap_top(&t->due)) != NULL &&
           n->at < t->now)
        close_entry(t, TA_OF(n), false, true);
}

void tcp_track_finish(struct tcp_tracker *t, bool has_time)
{
    while (t->oldest)
        close_entry(t, t->oldest, true, has_time);
}

void tcp_tracker_free(struct tcp_tracker *t)
{
    if (!t)
        return;
    while (t->oldest) {
        struct ta *e = t->oldest;
        unlink_entry(t, e);
        free_entry(e);
    }
    theap_fini(&t->due);
    htab_fini(&t->index);
    free(t);
}
