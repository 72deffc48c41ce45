/* icmp.c: ICMP errors matched to the lookup or TCP attempt whose datagram they quote (or a
 * lookup made from the quote when the query is not in the input), split from correlate.c along
 * its section; the lookup table's helpers it shares are declared in correlate_internal.h. */
#include "correlate/correlate.h"
#include "correlate/correlate_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/tcp_track.h"
#include "decode/ports.h"
#include "util/err.h"

/* What an ICMP error tells about the datagram it quotes. tcpdump text without -v carries only
 * part of it (the quoted destination, protocol and port, or only the destination host). */
struct quote_view {
    bool src, dst, proto, sport, dport, id;
};

static void view_quote(const struct icmp_quote *q, struct quote_view *v)
{
    /* The known bits say what the text showed; present/has_ports/has_dns imply them for
     * captured packets. */
    uint8_t k = q->known;
    if (q->present)
        k |= QUOTE_K_SRC | QUOTE_K_DST | QUOTE_K_PROTO;
    if (q->has_ports)
        k |= QUOTE_K_SPORT | QUOTE_K_DPORT;
    if (q->has_dns)
        k |= QUOTE_K_DNS_ID;
    v->src = (k & QUOTE_K_SRC) && q->src.family != NT_AF_NONE;
    v->dst = (k & QUOTE_K_DST) && q->dst.family != NT_AF_NONE;
    v->proto = k & QUOTE_K_PROTO;
    v->sport = k & QUOTE_K_SPORT;
    v->dport = k & QUOTE_K_DPORT;
    v->id = k & QUOTE_K_DNS_ID;
}

/* Does the quoted datagram look like a query of lookup l (client -> server)? */
static bool quote_is_query_of(const struct packet *pkt, const struct quote_view *v,
                              const struct dns_lookup *l)
{
    const struct icmp_quote *q = &pkt->quote;
    if (!v->dst || !nt_addr_eq(&q->dst, &l->server))
        return false;
    /* Without the quoted source, the error went back to the host that sent the datagram. */
    if (!nt_addr_eq(v->src ? &q->src : &pkt->dst, &l->client))
        return false;
    if (v->proto && q->proto != l->transport)
        return false;
    if (v->dport && q->dport != l->server_port)
        return false;
    if (v->sport && !lk_has_port(l, q->sport))
        return false;
    if (v->id && q->dns_id != l->id)
        return false;
    if (q->has_question && l->has_question &&
        (q->q.qtype != l->qtype || strcasecmp(q->q.name.text, l->qname) != 0))
        return false;
    return true;
}

/* Does the quoted datagram look like a response of lookup l (server -> client)? */
static bool quote_is_response_of(const struct packet *pkt, const struct quote_view *v,
                                 const struct lk *e)
{
    const struct dns_lookup *l = &e->l;
    /* A compact entry had no answer from another address (correlate_internal.h). */
    bool foreign = !e->compact && l->foreign_answers;
    const struct icmp_quote *q = &pkt->quote;
    /* Without the quoted source (tcpdump text of ICMPv6 errors prints only the quoted
     * destination, protocol and port), the error went back to the host that sent the response:
     * the lookup's server, or the other address an answer to it came from. */
    const struct nt_addr *from = v->src ? &q->src : &pkt->dst;
    if (!v->dst || !nt_addr_eq(&q->dst, &l->client) ||
        !(nt_addr_eq(from, &l->server) || (foreign && nt_addr_eq(from, &l->foreign_from))))
        return false;
    if (v->proto && q->proto != l->transport)
        return false;
    if (v->sport && q->sport != l->server_port)
        return false;
    if (v->dport && !lk_has_port(l, q->dport))
        return false;
    if (!v->sport && !v->dport)
        return false; /* an address alone cannot tie an error to one response */
    if (v->id && q->dns_id != l->id)
        return false;
    return true;
}

/* Finds the lookup an ICMP error is about: the newest lookup without an outcome whose query the
 * quote matches and that started before the error; else the newest matching one. */
static struct lk *find_for_icmp(struct correlator *c, const struct packet *pkt,
                                const struct quote_view *v, bool response)
{
    const struct icmp_quote *q = &pkt->quote;
    struct lk *pending = NULL, *any = NULL;
    /* A quote that shows the DNS id shows the ports and protocol too (the decoders read the DNS
     * header only behind a UDP or TCP header): its lookup's key is known. */
    if (v->id && v->src && v->dst && v->proto && (response ? v->sport : v->dport)) {
        const struct lk_key k =
            response ? (struct lk_key){&q->dst, &q->src, q->sport, q->dns_id, q->proto}
                     : (struct lk_key){&q->src, &q->dst, q->dport, q->dns_id, q->proto};
        struct lk *anchor = key_find(c, lk_hash(&k), &k);
        for (struct lk *e = key_newest(anchor); e; e = key_next(anchor, e)) {
            bool ok = response ? quote_is_response_of(pkt, v, e) : quote_is_query_of(pkt, v, &e->l);
            if (!ok)
                continue;
            if (!any)
                any = e;
            if (lk_outcome(e) == LOOKUP_PENDING) {
                pending = e;
                break;
            }
        }
        if (pending || any || !response)
            return pending ? pending : any;
        /* A response from another address than the lookup's server (foreign_answers) is
         * hashed under the server queried: look among the waiting lookups. */
        size_t scanned = 0;
        for (struct lk *e = c->pending; e && scanned < SCAN_LIMIT; e = e->pnext, scanned++)
            if (!e->compact && e->l.foreign_answers && quote_is_response_of(pkt, v, e))
                return e;
        return NULL;
    }
    /* Without the id: the newest waiting lookup the quote matches (an error follows its query
     * closely), else the newest matching lookup of any outcome (a repeated error). */
    size_t scanned = 0;
    for (struct lk *e = c->pending; e && scanned < SCAN_LIMIT; e = e->pnext, scanned++) {
        bool ok = response ? quote_is_response_of(pkt, v, e) : quote_is_query_of(pkt, v, &e->l);
        if (ok)
            return e;
    }
    scanned = 0;
    for (struct lk *e = c->newest; e && scanned < SCAN_LIMIT; e = e->older, scanned++) {
        bool ok = response ? quote_is_response_of(pkt, v, e) : quote_is_query_of(pkt, v, &e->l);
        if (ok)
            return e;
    }
    return NULL;
}

/* The TCP connection attempt an ICMP error quotes, if any. */
static struct tcp_attempt *match_tcp(struct correlator *c, const struct packet *pkt,
                                     const struct quote_view *v, const struct evidence *evd,
                                     uint8_t *sender, int *err)
{
    struct tcp_quote_known k = {v->src, v->dst, v->proto, v->sport, v->dport};
    enum icmp_sender s = ICMP_SENDER_UNKNOWN;
    struct tcp_attempt *a = tcp_track_icmp(c->tcp, pkt, &k, evd, &s, err);
    if (a)
        *sender = (uint8_t)s;
    return a;
}

/* Does the quote show a DNS query to a server (not a response, not other traffic)? Its
 * destination, protocol and destination port must be known, the port a DNS port. */
static bool quote_shows_query(const struct icmp_quote *q, const struct quote_view *v)
{
    if (!v->dst || !v->proto || !v->dport || !is_dns_port(q->dport))
        return false;
    /* A quoted TCP segment to port 53 is a connection attempt (the TCP tracker's) unless the
     * quote reaches into a DNS header. */
    if (q->proto != 17 && !(q->proto == 6 && v->id))
        return false;
    if (v->sport && is_dns_port(q->sport) && !v->id)
        return false; /* port 53 to port 53 without the DNS header: direction unknown */
    return !(v->id && (q->dns_flags & DNS_FLAG_QR));
}

/* An ICMP error quoting a DNS query that is not in the capture: the quote is the query's own
 * header, so it is evidence of a lookup that failed. Makes that lookup, with what the quote
 * shows (see struct dns_lookup's from_quote), already refused by this error. NULL on out of
 * memory. */
static struct lk *lookup_from_quote(struct correlator *c, const struct packet *pkt,
                                    const struct quote_view *v, uint32_t input)
{
    const struct icmp_quote *q = &pkt->quote;
    /* Without the quoted source, the error went back to the host that sent the query. */
    const struct nt_addr *client = v->src ? &q->src : &pkt->dst;
    const struct lk_key k = {client, &q->dst, q->dport, v->id ? q->dns_id : 0, q->proto};
    uint64_t h = lk_hash(&k);
    struct lk *anchor = key_find(c, h, &k);
    size_t n = 0;
    for (struct lk *o = key_newest(anchor); o; o = key_next(anchor, o))
        n++;
    anchor = lk_make_room(c, h, &k, anchor, n);
    size_t qlen = q->has_question ? strlen(q->q.name.text) : 0;
    struct lk *e = lk_alloc(c, qlen);
    if (!e)
        return NULL;
    struct dns_lookup *l = &e->l;
    l->seq = ++c->seq;
    l->input = input;
    l->from_quote = true;
    l->client = *client;
    l->server = q->dst;
    l->server_port = q->dport;
    l->transport = q->proto;
    if (v->id) {
        l->id = q->dns_id;
        l->query_flags = q->dns_flags;
    } else {
        l->id_unknown = true;
    }
    if (q->has_question) {
        l->has_question = true;
        e->qlen = (uint16_t)qlen;
        memcpy(e->qname, q->q.name.text, qlen + 1);
        l->qname = e->qname;
        l->qtype = q->q.qtype;
        l->qclass = q->q.qclass;
    }
    if (v->sport)
        lk_add_port(l, q->sport);
    e->first_vt = e->last_vt = c->now;
    e->due.tie = l->seq;
    e->due.at = lk_deadline(c, e);
    if (!theap_push_lane(&c->due, &e->due, lk_due_lane(e))) {
        lk_free(c, e);
        return NULL;
    }
    if (!lk_link(c, e, anchor, h)) {
        theap_remove(&c->due, &e->due);
        lk_free(c, e);
        return NULL;
    }
    c->st.lookups_from_quotes++;
    return e;
}

int correlate_icmp_error(struct correlator *c, const struct packet *pkt, uint32_t input)
{
    const struct icmp_quote *q = &pkt->quote;
    struct quote_view v;
    struct icmp_event ev = {0};
    struct evidence evd;
    int err = NT_OK;
    c->st.icmp_errors++;
    view_quote(q, &v);
    if (!evidence_from_packet(&evd, pkt, input, EV_ICMP_ERROR)) {
        evidence_fini(&evd);
        return NT_ERR_NOMEM;
    }
    ev.ev = &evd;
    ev.kind = pkt->icmp_kind;
    bool dns_ports = (v.dport && is_dns_port(q->dport)) || (v.sport && is_dns_port(q->sport));
    ev.about_dns = q->has_dns || dns_ports;

    struct lk *e = find_for_icmp(c, pkt, &v, false);
    bool no_query = false;
    if (!e && quote_shows_query(q, &v) && !find_for_icmp(c, pkt, &v, true) &&
        !qseen_has(c, v.src ? &q->src : &pkt->dst, &q->dst)) {
        /* The query is not in the capture. */
        no_query = true;
        if ((e = lookup_from_quote(c, pkt, &v, input)) == NULL) {
            evidence_fini(&evd);
            return NT_ERR_NOMEM;
        }
    }
    if (e && !(e = lk_full(c, e))) {
        evidence_fini(&evd);
        return NT_ERR_NOMEM;
    }
    if (e) {
        struct dns_lookup *l = &e->l;
        /* The error came from the quoted destination (the server) or from another host. */
        ev.sender = nt_addr_eq(&pkt->src, &l->server) ? ICMP_SENDER_SERVER : ICMP_SENDER_PATH;
        lk_relate(c, e, pkt, no_query || l->from_quote ? REL_ICMP_NO_QUERY : REL_ICMP_QUERY);
        c->rel.sender = ev.sender;
        c->rel.error_no = l->n_errors + 1;
        l->n_errors++;
        evd.order_pkt = l->query.pkt;
        if (l->n_errors == 1) {
            l->icmp_kind = pkt->icmp_kind;
            l->icmp_sender = ev.sender;
            l->matched_by_id = v.id;
            if (!evidence_copy(&l->error, &evd)) {
                evidence_fini(&evd);
                return NT_ERR_NOMEM;
            }
        }
        if (l->outcome == LOOKUP_PENDING) {
            l->late = lk_is_late(c, e);
            l->elapsed_us = span(c->now, e->first_vt);
            lk_set_outcome(c, e, LOOKUP_ICMP_ERROR);
        }
        ev.lookup = l;
        ev.about_dns = true;
        c->st.icmp_matched++;
    } else if ((e = find_for_icmp(c, pkt, &v, true)) != NULL) {
        if (!(e = lk_full(c, e))) {
            evidence_fini(&evd);
            return NT_ERR_NOMEM;
        }
        struct dns_lookup *l = &e->l;
        ev.quotes_response = true;
        evd.order_pkt = l->query.pkt;
        ev.sender = nt_addr_eq(&pkt->src, &l->client) ? ICMP_SENDER_CLIENT : ICMP_SENDER_PATH;
        lk_relate(c, e, pkt, REL_ICMP_RESPONSE);
        c->rel.sender = ev.sender;
        ev.foreign_answer =
            l->foreign_answers && !nt_addr_eq(v.src ? &q->src : &pkt->dst, &l->server);
        if (ev.foreign_answer)
            l->foreign_rejects++;
        else
            l->client_rejects++;
        ev.lookup = l;
        ev.about_dns = true;
        c->st.icmp_matched++;
    } else if ((ev.attempt = match_tcp(c, pkt, &v, &evd, &ev.sender, &err)) != NULL) {
        c->st.icmp_matched++;
        c->rel.kind = REL_ICMP_TCP;
        c->rel.attempt_seq = ev.attempt->seq;
        c->rel.sender = ev.sender;
        c->rel.first_pkt = ev.attempt->syn.pkt;
        c->rel.first_line = ev.attempt->syn.line_no;
    } else if (v.dst) {
        /* Traffic not in the capture: judge the sender from the quote alone. */
        ev.sender = nt_addr_eq(&pkt->src, &q->dst) ? ICMP_SENDER_SERVER : ICMP_SENDER_PATH;
        if (v.sport && is_dns_port(q->sport) && !(v.dport && is_dns_port(q->dport))) {
            ev.quotes_response = true;
            if (v.src && nt_addr_eq(&pkt->src, &q->dst))
                ev.sender = ICMP_SENDER_CLIENT;
        }
    }
    if (c->cfg.relations && !c->rel.kind) {
        c->rel.kind = REL_ICMP_UNMATCHED;
        c->rel.sender = ev.sender;
    }
    if (c->cb.on_icmp_error)
        c->cb.on_icmp_error(c->cb.ctx, &ev);
    if (ev.attempt)
        tcp_track_settle(c->tcp, (struct tcp_attempt *)ev.attempt);
    evidence_fini(&evd);
    return err;
}
