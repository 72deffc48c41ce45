/* correlate.c: DNS lookups (query, retransmissions, outcome) and the ICMP errors tied to them.
 *
 * A lookup is keyed by client, server, server port, transport, DNS id and question. A repeat of
 * the same query while the lookup has no outcome and within the retransmit window of the
 * previous transmission is a retransmission (even from a new source port, as dig and stub
 * resolvers do); otherwise it starts a new lookup. The timeout only decides when silence counts
 * as "unanswered": a silent lookup stays open for the late window, so an answer or ICMP error
 * that arrives later still belongs to its query (marked late). An answered lookup stays only for
 * the short answer guard (duplicate answers, the client's ICMP errors about the answer), one
 * with an ICMP error until its timeout and the guard have passed (an answer may still follow).
 * Every open lookup sits in a heap by deadline, so lookups expire in time order whatever their
 * creation order. Open lookups are bounded; each one closed, by its deadline, by the bound or at
 * the end of an input, is handed to the callback with its final outcome.
 *
 * Time: correlation follows a clock that never runs backwards. Each packet's stamp is mapped to
 * it by an offset; a packet stamped more than CORRELATE_STEP_BACK_US before the previous one is
 * a clock step (merged or concatenated captures): the offset grows so the clock goes on from
 * where it was, and the step is counted and kept for the report. A smaller step back (packets
 * merged from two interfaces) is reordering: the packet takes the current time. So a query and
 * its answer stamped earlier than a preceding packet still pair, and nothing expires because
 * the stamps went back. */
#include "correlate/correlate.h"
#include "correlate/correlate_internal.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "correlate/dnsconn.h"
#include "correlate/sides.h"
#include "correlate/tcp_track.h"
#include "decode/ports.h"
#include "util/err.h"
#include "util/htab.h"
#include "util/theap.h"
#include "util/zero.h"

#define DNS_PORT   NT_PORT_DNS
#define MDNS_PORT  NT_PORT_MDNS
#define LLMNR_PORT NT_PORT_LLMNR
#define NBNS_PORT  NT_PORT_NBNS

void correlate_config_default(struct correlate_config *cfg, int64_t timeout_us)
{
    cfg->timeout_us = timeout_us;
    cfg->late_window_us = timeout_us > 120000000 ? timeout_us : 120000000;
    cfg->retransmit_window_us = 2 * timeout_us;
    cfg->max_open = 1000000;
    cfg->answer_guard_us = 1000000;
    cfg->max_tcp_open = 1000000;
    cfg->max_per_key = CORRELATE_KEY_MAX;
    cfg->max_dns_conns = DNSCONN_MAX;
    cfg->max_hosts_seen = SIDES_MAX_HOSTS;
    cfg->relations = true;
}

/* One keyed hash over the key, on every DNS packet, from words (no buffer): both addresses'
 * bytes when both have 4 (IPv4, or interned names) or both 16 (IPv6), then server port, id,
 * transport and both families in the last word (15 or 39 bytes). Other pairs (families mixed
 * or none) as bytes: both families, port, id, transport, then the addresses, 7 + 0, 4 or 16 for
 * each address but never 4 + 4 nor 16 + 16, so never 15 or 39 bytes: the forms cannot give one
 * message for two keys. */
static __attribute__((noinline)) uint64_t lk_hash_bytes(const struct lk_key *k)
{
    uint8_t b[7 + 32];
    b[0] = k->client->family;
    b[1] = k->server->family;
    b[2] = (uint8_t)(k->server_port >> 8);
    b[3] = (uint8_t)k->server_port;
    b[4] = (uint8_t)(k->id >> 8);
    b[5] = (uint8_t)k->id;
    b[6] = k->transport;
    size_t n = 7 + nt_addr_put(b + 7, k->client);
    n += nt_addr_put(b + n, k->server);
    return htab_hash(b, n);
}

uint64_t lk_hash(const struct lk_key *k)
{
    uint8_t cf = k->client->family, sf = k->server->family;
    uint64_t last = (uint64_t)k->server_port | (uint64_t)k->id << 16 |
                    (uint64_t)k->transport << 32 | (uint64_t)cf << 40 | (uint64_t)sf << 48;
    if ((cf == NT_AF_INET || cf == NT_AF_NAME) && (sf == NT_AF_INET || sf == NT_AF_NAME)) {
        uint32_t ca, sa;
        memcpy(&ca, k->client->a, 4);
        memcpy(&sa, k->server->a, 4);
        uint64_t w[2] = {(uint64_t)ca | (uint64_t)sa << 32, last};
        return htab_hash_words(w, 15);
    }
    if (cf == NT_AF_INET6 && sf == NT_AF_INET6) {
        uint64_t w[5];
        memcpy(w, k->client->a, 16);
        memcpy(w + 2, k->server->a, 16);
        w[4] = last;
        return htab_hash_words(w, 39);
    }
    return lk_hash_bytes(k);
}

static bool lk_key_is(const struct dns_lookup *l, const struct lk_key *k)
{
    return l->id == k->id && l->server_port == k->server_port && l->transport == k->transport &&
           nt_addr_eq(&l->client, k->client) && nt_addr_eq(&l->server, k->server);
}

/* The anchor (oldest open lookup) of key k (hash h), or NULL when it has none. */
struct lk *key_find(const struct correlator *c, uint64_t h, const struct lk_key *k)
{
    struct htab_iter it;
    for (struct lk *a = htab_find(&c->index, h, &it); a; a = htab_find_next(&c->index, &it))
        if (lk_key_is(&a->l, k))
            return a;
    return NULL;
}

/* A walk over the open lookups of one key, newest first: from key_newest(anchor) (NULL when
 * anchor is), then key_next until NULL. */
struct lk *key_newest(const struct lk *anchor)
{
    return anchor ? anchor->kolder : NULL;
}

struct lk *key_next(const struct lk *anchor, const struct lk *e)
{
    return e == anchor ? NULL : e->kolder;
}

/* A stable hash of a (client, server) pair, for the filter below: not the run's key, since what
 * the filter answers reaches the report (no output may depend on the seed). */
static uint32_t pair_hash(const struct nt_addr *client, const struct nt_addr *server)
{
    uint32_t h = nt_addr_hash(client, 0x5eed);
    h = nt_addr_hash(server, h);
    h ^= h >> 15;
    h *= 0x2c1b3c6dU;
    h ^= h >> 12;
    return h;
}

/* Every TCP attempt passes here on its way to the caller's callback: one established without
 * its SYN-ACK in the capture is the proof sides.c needs that packets reached the client. */
static void tcp_attempt_seen(void *ctx, const struct tcp_attempt *t)
{
    struct correlator *c = ctx;
    if (t->synack_unseen)
        sides_synack_unseen(c->sides, &t->client);
    if (c->cb.on_tcp_attempt)
        c->cb.on_tcp_attempt(c->cb.ctx, t);
}

struct correlator *correlate_new(const struct correlate_config *cfg,
                                 const struct correlate_callbacks *cb)
{
    struct correlator *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cfg = *cfg;
    /* Bounds left 0 take their defaults; a key keeps at least two lookups (make_room). */
    if (!c->cfg.max_per_key)
        c->cfg.max_per_key = CORRELATE_KEY_MAX;
    if (c->cfg.max_per_key < 2)
        c->cfg.max_per_key = 2;
    if (!c->cfg.max_dns_conns)
        c->cfg.max_dns_conns = DNSCONN_MAX;
    if (!c->cfg.max_hosts_seen)
        c->cfg.max_hosts_seen = SIDES_MAX_HOSTS;
    c->cb = *cb;
    htab_init(&c->index);
    c->qseen = calloc(QSEEN_BITS / 64, sizeof *c->qseen);
    theap_init(&c->due);
    c->tcp_cb = c->cb;
    c->tcp_cb.ctx = c;
    c->tcp_cb.on_tcp_attempt = tcp_attempt_seen;
    c->tcp = tcp_tracker_new(&c->cfg, &c->tcp_cb, &c->st);
    if (c->tcp) {
        tcp_track_relation(c->tcp, c->cfg.relations ? &c->rel : NULL);
        c->tcp_due = tcp_track_due(c->tcp);
    }
    c->conns = dnsconn_new(c->cfg.max_dns_conns);
    c->sides = sides_new(c->cfg.max_hosts_seen);
    if (!c->tcp || !c->qseen || !c->conns || !c->sides) {
        sides_free(c->sides);
        dnsconn_free(c->conns);
        tcp_tracker_free(c->tcp);
        free(c->qseen);
        free(c);
        return NULL;
    }
    return c;
}

static void pending_remove(struct correlator *c, struct lk *e)
{
    if (lk_outcome(e) != LOOKUP_PENDING)
        return;
    if (e->pprev)
        e->pprev->pnext = e->pnext;
    else if (c->pending == e)
        c->pending = e->pnext;
    if (e->pnext)
        e->pnext->pprev = e->pprev;
    e->pnext = e->pprev = NULL;
}

/* The deadline lane of a lookup (util/theap.h): silent ones (the late window after the last
 * query) and answered ones (the guard after the answer) come due in nearly the order they are
 * made; one with an ICMP error, due at the later of two times, goes to the heap. */
unsigned lk_due_lane(const struct lk *e)
{
    switch (lk_outcome(e)) {
    case LOOKUP_PENDING:
        return 0;
    case LOOKUP_ANSWERED:
        return 1;
    default:
        return THEAP_NO_LANE;
    }
}

/* A retransmission moved a silent lookup's deadline later. */
static void reschedule(struct correlator *c, struct lk *e)
{
    e->due.at = lk_deadline(c, e);
    theap_update(&c->due, &e->due);
}

/* Gives a lookup its outcome, taking it off the list of lookups still waiting. */
void lk_set_outcome(struct correlator *c, struct lk *e, enum lookup_outcome o)
{
    pending_remove(c, e);
    e->l.outcome = (uint8_t)o;
    e->outcome_vt = c->now;
    e->due.at = lk_deadline(c, e);
    theap_set_lane(&c->due, &e->due, lk_due_lane(e));
}

/* Puts lookup e (its key fields set) into the index under hash h as the newest of its key;
 * anchor is the key's anchor, NULL when it has no other open lookup. False out of memory. */
static bool key_link(struct correlator *c, struct lk *e, struct lk *anchor, uint64_t h)
{
    e->h = h;
    if (!anchor) {
        if (htab_insert(&c->index, h, e) < 0)
            return false;
        e->anchor = true;
        e->kolder = e->knewer = e;
        return true;
    }
    e->anchor = false;
    e->kolder = anchor->kolder;
    e->knewer = anchor;
    anchor->kolder->knewer = e;
    anchor->kolder = e;
    return true;
}

static void key_unlink(struct correlator *c, struct lk *e)
{
    if (!e->kolder)
        return; /* never linked */
    if (e->anchor) {
        if (e->knewer == e)
            htab_remove(&c->index, e->h, e);
        else
            htab_replace(&c->index, e->h, e, e->knewer); /* the next oldest */
        e->knewer->anchor = true;
    }
    e->kolder->knewer = e->knewer;
    e->knewer->kolder = e->kolder;
    e->kolder = e->knewer = NULL;
    e->anchor = false;
}

static void unlink_lookup(struct correlator *c, struct lk *e)
{
    if (c->compact_next == e)
        c->compact_next = e->newer;
    pending_remove(c, e);
    theap_remove(&c->due, &e->due);
    key_unlink(c, e);
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    c->open--;
}

/* Gives a lookup its final outcome and hands it on. at_end: the input ended (silence shorter
 * than the timeout then means the capture cut it off). */
static void close_lookup(struct correlator *c, struct lk *e, bool at_end)
{
    struct dns_lookup *l = &e->l, whole;
    char store[LK_STORE_MAX]; /* a compact entry's query evidence store, decoded */
    unlink_lookup(c, e);
    if (e->compact) {
        /* Handed on whole: no answer, no error. */
        lk_compact_get(e, &whole, store);
        l = &whole;
    } else if (e->packed) {
        lk_unpack(e, &whole);
        l = &whole;
    }
    if (l->outcome == LOOKUP_PENDING) {
        bool timed_out;
        if (!at_end)
            timed_out = true;
        else if (!c->input_has_time || l->last_tx.kind == NT_TIME_NONE)
            timed_out = false; /* without times we cannot tell silence from a cut */
        else
            timed_out = span(c->vclock, e->last_vt) >= c->cfg.timeout_us;
        l->outcome = timed_out ? LOOKUP_UNANSWERED : LOOKUP_CAPTURE_ENDED;
    }
    /* A lookup made from an ICMP quote is counted in lookups_from_quotes only, so that the
     * outcome counts stay parts of dns_lookups. */
    switch (l->from_quote ? LOOKUP_PENDING : l->outcome) {
    case LOOKUP_ANSWERED:
        c->st.answered++;
        break;
    case LOOKUP_UNANSWERED:
        c->st.unanswered++;
        break;
    case LOOKUP_CAPTURE_ENDED:
        c->st.capture_ended++;
        break;
    default:
        break;
    }
    if (l->transport == 6)
        dnsconn_fill(c->conns, l);
    /* Only evidence whose store and text are blocks of their own (the pool's, or malloc's) may
     * be lent: the callee gives them back to the pool, and the pipeline's hand-off measures
     * them as malloc blocks under AddressSanitizer. A compact entry's is decoded into `store`
     * above, on this stack. */
    if (c->cb.on_lookup_lend && !e->compact)
        c->cb.on_lookup_lend(c->cb.ctx, l);
    else if (c->cb.on_lookup)
        c->cb.on_lookup(c->cb.ctx, l);
    if (e->packed)
        lk_free_unpacked(c, e, &whole);
    else if (e->compact)
        lk_free_compact(c, e, &whole);
    else
        lk_free(c, e);
}

#define LK_OF(node) ((struct lk *)((char *)(node)-offsetof(struct lk, due)))

/* Closes the lookups whose deadline has passed on the correlator's clock, earliest first. */
static void expire(struct correlator *c)
{
    struct theap_node *n;
    while (theap_may_have_before(&c->due, c->vclock) && (n = theap_top(&c->due)) != NULL &&
           n->at < c->vclock)
        close_lookup(c, LK_OF(n), false);
}

/* After expire: the lookups due to be made compact, then the TCP attempts due to close. Each
 * is tested here first, inline: on most packets neither has anything to do. */
static inline void expire_others(struct correlator *c)
{
    const struct lk *e = c->compact_next;
    if (e && span(c->vclock, e->first_vt) >= c->cfg.timeout_us)
        lk_compact_due(c);
    if (theap_may_have_before(c->tcp_due, c->now))
        tcp_track_expire(c->tcp);
}

/* Whether message m asks the question of open lookup e. Names of different lengths differ
 * however their letters are cased (strcasecmp folds byte for byte); names of one length and
 * the same bytes, the usual case, are equal without folding. */
static bool same_question(const struct lk *e, const struct dns_msg *m)
{
    const struct dns_lookup *l = &e->l;
    if (l->has_question != m->has_question)
        return false;
    if (!l->has_question)
        return true;
    return l->qtype == m->q.qtype && l->qclass == m->q.qclass && e->qlen == m->q.name.len &&
           (memcmp(l->qname, m->q.name.text, e->qlen) == 0 ||
            strcasecmp(l->qname, m->q.name.text) == 0);
}

void lk_add_port(struct dns_lookup *l, uint16_t port)
{
    for (uint8_t i = 0; i < l->n_client_ports; i++)
        if (l->client_ports[i] == port)
            return;
    if (l->n_client_ports < LOOKUP_PORTS_KEPT)
        l->client_ports[l->n_client_ports++] = port;
    else
        l->client_ports_overflow = true;
}

bool lk_has_port(const struct dns_lookup *l, uint16_t port)
{
    if (l->client_ports_overflow)
        return true;
    for (uint8_t i = 0; i < l->n_client_ports; i++)
        if (l->client_ports[i] == port)
            return true;
    return false;
}

bool is_dns_port(uint16_t p)
{
    return p == DNS_PORT;
}

/* Multicast DNS and LLMNR look like DNS but are not lookups to a server. Only the server side's
 * port tells: a stub resolver may well send a unicast query from source port 5353. */
static bool is_local_name_protocol(const struct packet *pkt)
{
    uint16_t server_port = (pkt->dns.flags & DNS_FLAG_QR) ? pkt->sport : pkt->dport;
    return server_port == MDNS_PORT || server_port == LLMNR_PORT;
}

/* The two bits of a (client, server) pair in the filter. */
static void qseen_bits(const struct nt_addr *client, const struct nt_addr *server, uint32_t b[2])
{
    uint32_t h = pair_hash(client, server);
    b[0] = h & (QSEEN_BITS - 1);
    b[1] = ((h >> 13) ^ (h * 0x9e3779b1U)) & (QSEEN_BITS - 1);
}

static void qseen_add(struct correlator *c, const struct nt_addr *client,
                      const struct nt_addr *server)
{
    uint32_t b[2];
    qseen_bits(client, server, b);
    c->qseen[b[0] / 64] |= 1ULL << (b[0] % 64);
    c->qseen[b[1] / 64] |= 1ULL << (b[1] % 64);
}

bool qseen_has(const struct correlator *c, const struct nt_addr *client,
               const struct nt_addr *server)
{
    uint32_t b[2];
    qseen_bits(client, server, b);
    return (c->qseen[b[0] / 64] >> (b[0] % 64) & 1) && (c->qseen[b[1] / 64] >> (b[1] % 64) & 1);
}

/* Puts a new lookup (waiting, already in the deadline heap, its key fields set) into the index
 * (anchor: its key's anchor, NULL when the key has no other open lookup; h: the key's hash), the
 * waiting list and the creation order, and counts it open. False out of memory (nothing
 * linked). */
bool lk_link(struct correlator *c, struct lk *e, struct lk *anchor, uint64_t h)
{
    if (!key_link(c, e, anchor, h))
        return false;
    e->pnext = c->pending;
    if (c->pending)
        c->pending->pprev = e;
    c->pending = e;
    e->older = c->newest;
    if (c->newest)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
    if (!c->compact_next)
        c->compact_next = e;
    c->open++;
    if (c->open > c->st.open_peak)
        c->st.open_peak = c->open;
    return true;
}

/* Makes room for a new lookup of key k (hash h; anchor: the key's anchor as found before, n: how
 * many open lookups it has then): past max_open the lookup due first is closed early (evicted),
 * past max_per_key open lookups of the key its oldest one (key_evicted). Returns the key's
 * anchor now, NULL when the key has no open lookup left. */
struct lk *lk_make_room(struct correlator *c, uint64_t h, const struct lk_key *k, struct lk *anchor,
                        size_t n)
{
    if (c->open >= c->cfg.max_open && theap_top(&c->due)) {
        c->st.evicted++;
        close_lookup(c, LK_OF(theap_top(&c->due)), false);
        /* It may have been one of this key's. */
        anchor = key_find(c, h, k);
        n = 0;
        for (struct lk *e = key_newest(anchor); e; e = key_next(anchor, e))
            n++;
    }
    if (n >= c->cfg.max_per_key) {
        c->st.key_evicted++;
        close_lookup(c, anchor, false);
        anchor = key_find(c, h, k); /* the next oldest (max_per_key > 1) */
    }
    return anchor;
}

/* Is the silence since the lookup's last query, up to the current packet, longer than the
 * timeout? */
bool lk_is_late(const struct correlator *c, const struct lk *e)
{
    return span(c->now, e->last_vt) > c->cfg.timeout_us;
}

/* Notes how the current packet relates to lookup e, whose whole dns_lookup is l
 * (correlate_relation); call before the packet changes e's times. */
static void relate_l(struct correlator *c, const struct lk *e, const struct dns_lookup *l,
                     const struct packet *pkt, enum pkt_relation_kind kind)
{
    if (!c->cfg.relations)
        return;
    struct pkt_relation *r = &c->rel;
    r->kind = (uint8_t)kind;
    r->lookup_seq = l->seq;
    r->first_pkt = l->query.pkt;
    r->first_line = l->query.line_no;
    r->last_pkt = l->last_pkt;
    r->last_line = l->last_line;
    r->transmissions = l->transmissions;
    if (l->transport == 17 && l->query.dns_len)
        r->query_ip_len = l->query.dns_len + 8 + (l->query.ip_version == 6 ? 40u : 20u);
    r->has_time = pkt->ts.kind != NT_TIME_NONE && l->first_tx.kind != NT_TIME_NONE;
    r->since_first_us = span(c->now, e->first_vt);
    r->since_last_us = span(c->now, e->last_vt);
    r->late = lk_is_late(c, e);
}

/* relate_l for a whole entry e. */
void lk_relate(struct correlator *c, const struct lk *e, const struct packet *pkt,
               enum pkt_relation_kind kind)
{
    relate_l(c, e, &e->l, pkt, kind);
}

/* The key of a DNS message's lookup: a query's from its source to its destination, a
 * response's the other way. */
static struct lk_key packet_key(const struct packet *pkt)
{
    if (pkt->dns.flags & DNS_FLAG_QR)
        return (struct lk_key){&pkt->dst, &pkt->src, pkt->sport, pkt->dns.id, pkt->proto};
    return (struct lk_key){&pkt->src, &pkt->dst, pkt->dport, pkt->dns.id, pkt->proto};
}

/* on_query and on_response take the packet's key (packet_key) and its hash, made early in
 * correlate_packet so that the index slot it reads is on its way into the cache while the
 * packet's other work runs. */
static int on_query(struct correlator *c, const struct packet *pkt, uint32_t input,
                    const struct lk_key *kp, uint64_t h)
{
    const struct dns_msg *m = &pkt->dns;
    c->st.dns_queries++;
    const struct lk_key k = *kp;
    struct lk *anchor = key_find(c, h, &k);
    size_t n = 0;
    /* The lookups of its key, newest first: the newest one still waiting for the same question
     * takes it as a retransmission. */
    for (struct lk *e = key_newest(anchor); e; e = key_next(anchor, e)) {
        n++;
        if (lk_outcome(e) != LOOKUP_PENDING || !same_question(e, m))
            continue;
        if (span(c->now, e->last_vt) > c->cfg.retransmit_window_us)
            continue;
        /* A compact entry takes it whole, then goes back to compact. */
        bool was_compact = e->compact;
        if (was_compact && !(e = lk_full(c, e)))
            return NT_ERR_NOMEM;
        struct dns_lookup *l = &e->l;
        lk_relate(c, e, pkt, REL_RETRANSMISSION);
        l->transmissions++;
        c->rel.transmission = l->transmissions;
        l->last_pkt = pkt->num;
        l->last_line = pkt->line_no;
        if (pkt->ts.kind != NT_TIME_NONE)
            l->last_tx = pkt->ts;
        e->last_vt = c->now;
        reschedule(c, e);
        if (pkt->ttl && (!l->min_ttl || pkt->ttl < l->min_ttl))
            l->min_ttl = pkt->ttl;
        lk_add_port(l, pkt->sport);
        if (was_compact)
            lk_compact(c, e);
        return NT_OK;
    }
    /* lk_make_room's two tests first, inline: there is room nearly always. */
    if (c->open >= c->cfg.max_open || n >= c->cfg.max_per_key)
        anchor = lk_make_room(c, h, &k, anchor, n);
    size_t qlen = m->has_question ? m->q.name.len : 0;
    struct lk *e = lk_alloc_query(c, qlen);
    if (!e)
        return NT_ERR_NOMEM;
    qseen_add(c, &pkt->src, &pkt->dst);
    struct dns_lookup *l = &e->l;
    /* First: lk_alloc_query left l->query as it was. */
    if (!evidence_from_packet_pooled(&l->query, pkt, input, EV_QUERY, &c->evpool)) {
        lk_free(c, e);
        return NT_ERR_NOMEM;
    }
    l->seq = ++c->seq;
    l->input = input;
    l->client = pkt->src;
    l->server = pkt->dst;
    l->server_port = pkt->dport;
    l->transport = pkt->proto;
    l->id = m->id;
    l->query_flags = m->flags;
    if (m->has_question) {
        l->has_question = true;
        e->qlen = (uint16_t)qlen;
        memcpy(e->qname, m->q.name.text, qlen + 1);
        l->qname = e->qname;
        l->qtype = m->q.qtype;
        l->qclass = m->q.qclass;
    }
    lk_add_port(l, pkt->sport);
    l->first_tx = l->last_tx = pkt->ts;
    e->first_vt = e->last_vt = c->now;
    e->due.tie = l->seq;
    e->due.at = lk_deadline(c, e);
    if (!theap_push_lane(&c->due, &e->due, lk_due_lane(e))) {
        lk_free(c, e);
        return NT_ERR_NOMEM;
    }
    l->transmissions = 1;
    l->first_ttl = l->min_ttl = pkt->ttl;
    if (!lk_link(c, e, anchor, h)) {
        theap_remove(&c->due, &e->due);
        lk_free(c, e);
        return NT_ERR_NOMEM;
    }
    c->st.dns_lookups++;
    l->last_pkt = pkt->num;
    l->last_line = pkt->line_no;
    lk_relate(c, e, pkt, REL_QUERY);
    c->rel.transmission = 1;
    return NT_OK;
}

static int on_response(struct correlator *c, const struct packet *pkt, uint32_t input,
                       const struct lk_key *kp, uint64_t h)
{
    const struct dns_msg *m = &pkt->dns;
    c->st.dns_responses++;
    const struct lk_key k = *kp;
    struct lk *pending = NULL, *done = NULL;
    struct lk *anchor = key_find(c, h, &k);
    /* The newest lookup of its key still without an answer, else the newest answered one (a
     * duplicate answer). */
    for (struct lk *e = key_newest(anchor); e; e = key_next(anchor, e)) {
        struct dns_lookup *l = &e->l;
        if (!lk_has_port(l, pkt->dport))
            continue;
        /* Text without -v does not print the question of a response. */
        if (m->has_question && !same_question(e, m))
            continue;
        if (lk_outcome(e) != LOOKUP_ANSWERED) {
            pending = e;
            break;
        }
        if (!done)
            done = e;
    }
    if (pending) {
        if (!(pending = lk_full(c, pending)))
            return NT_ERR_NOMEM;
        struct dns_lookup *l = &pending->l;
        lk_relate(c, pending, pkt, REL_ANSWER);
        c->rel.rcode = m->rcode;
        l->late = lk_is_late(c, pending);
        lk_set_outcome(c, pending, LOOKUP_ANSWERED);
        l->rcode = m->rcode;
        l->rtt_us = span(c->now, pending->last_vt);
        l->elapsed_us = span(c->now, pending->first_vt);
        if (!evidence_from_packet_pooled(&l->answer, pkt, input, EV_ANSWER, &c->evpool))
            return NT_ERR_NOMEM;
        l->answer.order_pkt = l->query.pkt;
        if (l->outcome == LOOKUP_ANSWERED)
            lk_pack(c, pending); /* for its answer guard */
        return NT_OK;
    }
    if (done) {
        /* Answered, so packed: extra_responses is among the fields kept as they are. */
        struct dns_lookup whole;
        lk_unpack(done, &whole);
        relate_l(c, done, &whole, pkt, REL_DUP_ANSWER);
        c->rel.rcode = m->rcode;
        done->l.extra_responses++;
        return NT_OK;
    }
    c->st.unsolicited_responses++;
    c->rel.kind = REL_STRAY_ANSWER;
    c->rel.rcode = m->rcode;
    if (!c->cb.on_stray_response)
        return NT_OK;
    /* An answer from another address than the one queried: a waiting lookup of the same client
     * port, id and question to another server (newest first, bounded scan). */
    struct stray_response sr = {0};
    size_t scanned = 0;
    for (struct lk *e = c->pending; e && scanned < SCAN_LIMIT; e = e->pnext, scanned++) {
        const struct dns_lookup *l = &e->l;
        /* A compact entry's id is known (correlate_internal.h). */
        if (l->id == m->id && (e->compact || !l->id_unknown) && l->transport == pkt->proto &&
            nt_addr_eq(&l->client, &pkt->dst) && !nt_addr_eq(&l->server, &pkt->src) &&
            lk_has_port(l, pkt->dport) && (!m->has_question || same_question(e, m))) {
            /* The rules read the whole lookup. */
            if (!(e = lk_full(c, e)))
                return NT_ERR_NOMEM;
            sr.queried = &e->l;
            break;
        }
    }
    struct evidence ev;
    if (!evidence_from_packet(&ev, pkt, input, EV_ANSWER)) {
        evidence_fini(&ev);
        return NT_ERR_NOMEM;
    }
    if (sr.queried) {
        struct dns_lookup *q = (struct dns_lookup *)sr.queried; /* one of ours */
        if (q->foreign_answers++ == 0)
            q->foreign_from = pkt->src;
        ev.order_pkt = q->query.pkt;
    }
    sr.ev = &ev;
    c->cb.on_stray_response(c->cb.ctx, &sr);
    evidence_fini(&ev);
    return NT_OK;
}

/* Reports a malformed DNS message (struct dns_malformed); see there for what counts. */
static int check_malformed(struct correlator *c, const struct packet *pkt, uint32_t input)
{
    if (!(pkt->layers & PKT_L_UDP) || !pkt->n_anomalies || pkt->more_fragments ||
        pkt->caplen < pkt->wirelen || pkt->line)
        return NT_OK;
    bool to_server = pkt->dport == DNS_PORT;
    if (!to_server && pkt->sport != DNS_PORT)
        return NT_OK;
    uint8_t found[PKT_MAX_ANOMALIES];
    uint8_t n = 0;
    for (uint8_t i = 0; i < pkt->n_anomalies; i++) {
        uint8_t a = pkt->anomalies[i];
        if (a >= ANOM_DNS_TRUNCATED && a < ANOM_DNS_TRAILING_BYTES)
            found[n++] = a;
    }
    if (!n)
        return NT_OK;
    c->st.dns_malformed++;
    if (!c->cb.on_dns_malformed)
        return NT_OK;
    struct evidence ev;
    if (!evidence_from_packet(&ev, pkt, input, EV_PACKET)) {
        evidence_fini(&ev);
        return NT_ERR_NOMEM;
    }
    struct dns_malformed m = {
        .ev = &ev, .to_server = to_server, .n_anomalies = n, .anomalies = found};
    c->cb.on_dns_malformed(c->cb.ctx, &m);
    evidence_fini(&ev);
    return NT_OK;
}

int correlate_packet(struct correlator *c, const struct packet *pkt, uint32_t input)
{
    if (c->cfg.relations)
        nt_zero_pieces(&c->rel, sizeof c->rel); /* 104 bytes: stores, not a "rep stos" */
    c->st.packets++;
    c->input = input;
    /* A DNS message's key hash now, and its index slot fetched (see on_query). */
    const struct lk_key k = packet_key(pkt);
    uint64_t h = 0;
    if ((pkt->layers & PKT_L_DNS) && (pkt->layers & (PKT_L_UDP | PKT_L_TCP))) {
        h = lk_hash(&k);
        if (c->index.slots)
            __builtin_prefetch(&c->index.slots[(size_t)h & c->index.mask]);
    }
    int src = sides_packet(c->sides, pkt);
    if (src < 0)
        return src;
    if (pkt->ts.kind != NT_TIME_NONE) {
        if (!c->st.first_ts.kind || nt_time_cmp(&pkt->ts, &c->st.first_ts) < 0)
            c->st.first_ts = pkt->ts;
        if (!c->st.last_ts.kind || nt_time_cmp(&pkt->ts, &c->st.last_ts) > 0)
            c->st.last_ts = pkt->ts;
        c->input_has_time = true;
        correlate_advance_clock(c, pkt, input);
        tcp_track_clock(c->tcp, c->now);
        expire(c);
        expire_others(c);
    } else {
        c->now = c->vclock;
        tcp_track_clock(c->tcp, c->now);
    }
    if (pkt->layers & PKT_L_ICMP) {
        if (pkt->icmp_is_error)
            return correlate_icmp_error(c, pkt, input);
        return NT_OK;
    }
    if ((pkt->layers & PKT_L_UDP) && (pkt->sport == NBNS_PORT || pkt->dport == NBNS_PORT))
        c->st.nbns_packets++;
    if (pkt->layers & PKT_L_TCP) {
        int rc = tcp_track_packet(c->tcp, pkt, input);
        if (rc >= 0)
            rc = dnsconn_packet(c->conns, pkt, input, c->now);
        if (rc < 0)
            return rc;
    }
    int mrc = check_malformed(c, pkt, input);
    if (mrc < 0)
        return mrc;
    if (!(pkt->layers & PKT_L_DNS) || !(pkt->layers & (PKT_L_UDP | PKT_L_TCP)))
        return NT_OK;
    if (is_local_name_protocol(pkt)) {
        uint16_t server_port = (pkt->dns.flags & DNS_FLAG_QR) ? pkt->sport : pkt->dport;
        c->rel.kind = REL_LOCAL_NAME;
        if (server_port == MDNS_PORT)
            c->st.mdns_messages++;
        else
            c->st.llmnr_messages++;
        return NT_OK;
    }
    /* QUERY, and NOTIFY (4) and UPDATE (5), whose refusals the rules report (the opcode
     * travels in query_flags); other opcodes are not followed. */
    if (pkt->dns.opcode != 0 && pkt->dns.opcode != 4 && pkt->dns.opcode != 5)
        return NT_OK;
    if (pkt->dns.flags & DNS_FLAG_QR)
        return on_response(c, pkt, input, &k, h);
    return on_query(c, pkt, input, &k, h);
}

void correlate_idle(struct correlator *c, const struct nt_time *ts)
{
    if (!correlate_idle_clock(c, ts))
        return;
    tcp_track_clock(c->tcp, c->now);
    expire(c);
    expire_others(c);
}

void correlate_finish(struct correlator *c)
{
    while (c->oldest)
        close_lookup(c, c->oldest, true);
    tcp_track_clock(c->tcp, c->vclock);
    tcp_track_finish(c->tcp, c->input_has_time);
    dnsconn_clear(c->conns);
    c->st.dns_conns_forgotten = dnsconn_forgotten(c->conns);
    sides_judge(c->sides, &c->st);
    c->input_has_time = false;
    c->have_vclock = c->vjump_held = false;
    c->vclock = c->offset = c->now = 0;
    memset(&c->prev_ts, 0, sizeof c->prev_ts);
}

const struct pkt_relation *correlate_relation(const struct correlator *c)
{
    /* Without relations c->rel is scratch: written here and there, never cleared, never read
     * out. */
    return c->cfg.relations ? &c->rel : NULL;
}

const struct correlate_stats *correlate_stats(const struct correlator *c)
{
    return &c->st;
}

void correlate_give_back(struct correlator *c, struct evidence_loan *loan)
{
    evidence_loan_end(loan, &c->evpool);
}

void correlate_free(struct correlator *c)
{
    if (!c)
        return;
    while (c->oldest) {
        struct lk *e = c->oldest;
        unlink_lookup(c, e);
        lk_free(c, e);
    }
    while (c->free_lk) {
        struct lk *e = c->free_lk;
        c->free_lk = e->kolder;
        free(e);
    }
    tcp_tracker_free(c->tcp);
    dnsconn_free(c->conns);
    sides_free(c->sides);
    evidence_pool_fini(&c->evpool);
    theap_fini(&c->due);
    htab_fini(&c->index);
    free(c->qseen);
    free(c);
}

const char *lookup_outcome_name(enum lookup_outcome o)
{
    switch (o) {
    case LOOKUP_PENDING:
        return "pending";
    case LOOKUP_ANSWERED:
        return "answered";
    case LOOKUP_ICMP_ERROR:
        return "icmp_error";
    case LOOKUP_UNANSWERED:
        return "unanswered";
    case LOOKUP_CAPTURE_ENDED:
        return "capture_ended";
    }
    return "unknown";
}

const char *tcp_outcome_name(enum tcp_outcome o)
{
    switch (o) {
    case TCP_PENDING:
        return "pending";
    case TCP_ESTABLISHED:
        return "established";
    case TCP_RESET:
        return "reset";
    case TCP_ICMP_ERROR:
        return "icmp_error";
    case TCP_UNANSWERED:
        return "unanswered";
    case TCP_CAPTURE_ENDED:
        return "capture_ended";
    }
    return "unknown";
}

const char *icmp_sender_name(enum icmp_sender s)
{
    switch (s) {
    case ICMP_SENDER_SERVER:
        return "server";
    case ICMP_SENDER_PATH:
        return "path";
    case ICMP_SENDER_CLIENT:
        return "client";
    default:
        return "unknown";
    }
}
