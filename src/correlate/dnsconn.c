/* dnsconn.c: the TCP connections DNS lookups travel on (see dnsconn.h). */
#include "correlate/dnsconn.h"

#include <stdlib.h>
#include <string.h>

#include "decode/ports.h"
#include "util/err.h"
#include "util/htab.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

struct conn {
    struct nt_addr client, server;
    uint16_t cport, sport;
    uint64_t h;
    struct conn *older, *newer; /* creation order, for the bound */
    bool synack, client_data, client_fin, has_server_ack, acked_at_close;
    uint8_t close;       /* enum tcp_close_kind */
    uint32_t client_end; /* sequence number after the client's last data byte */
    uint32_t server_ack; /* the server's highest acknowledgement */
    int64_t data_vt, close_vt;
    struct evidence close_ev; /* the server's FIN or RST */
};

struct dnsconn_table {
    struct htab tab;
    struct conn *oldest, *newest;
    size_t n;
    size_t max;         /* the bound */
    uint64_t forgotten; /* connections dropped to make room */
};

/* a after b in sequence space (RFC 9293 section 3.4). */
static bool seq_after(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

struct dnsconn_table *dnsconn_new(uint32_t max_conns)
{
    struct dnsconn_table *t = calloc(1, sizeof *t);
    if (t) {
        htab_init(&t->tab);
        t->max = max_conns ? max_conns : 1;
    }
    return t;
}

static uint64_t tuple_hash(const struct nt_addr *client, uint16_t cport,
                           const struct nt_addr *server, uint16_t sport)
{
    struct htab_hasher s;
    htab_hasher_init(&s);
    htab_hasher_addr(&s, client);
    htab_hasher_addr(&s, server);
    htab_hasher_u16(&s, cport);
    htab_hasher_u16(&s, sport);
    return htab_hasher_end(&s);
}

static struct conn *find(const struct dnsconn_table *t, uint64_t h, const struct nt_addr *client,
                         uint16_t cport, const struct nt_addr *server, uint16_t sport)
{
    struct htab_iter it;
    for (struct conn *c = htab_find(&t->tab, h, &it); c; c = htab_find_next(&t->tab, &it))
        if (c->cport == cport && c->sport == sport && nt_addr_eq(&c->client, client) &&
            nt_addr_eq(&c->server, server))
            return c;
    return NULL;
}

static void drop(struct dnsconn_table *t, struct conn *c)
{
    htab_remove(&t->tab, c->h, c);
    if (c->older)
        c->older->newer = c->newer;
    else
        t->oldest = c->newer;
    if (c->newer)
        c->newer->older = c->older;
    else
        t->newest = c->older;
    t->n--;
    evidence_fini(&c->close_ev);
    free(c);
}

/* Forgets what a connection showed (a new connection on the same 4-tuple). */
static void reset(struct conn *c)
{
    evidence_fini(&c->close_ev);
    memset(&c->close_ev, 0, sizeof c->close_ev);
    c->synack = c->client_data = c->client_fin = c->has_server_ack = c->acked_at_close = false;
    c->close = TCP_CLOSE_NONE;
    c->client_end = c->server_ack = 0;
    c->data_vt = c->close_vt = 0;
}

static struct conn *add(struct dnsconn_table *t, uint64_t h, const struct packet *pkt)
{
    if (t->n >= t->max && t->oldest) {
        drop(t, t->oldest);
        t->forgotten++;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (htab_insert(&t->tab, h, c) < 0) {
        free(c);
        return NULL;
    }
    c->client = pkt->src;
    c->server = pkt->dst;
    c->cport = pkt->sport;
    c->sport = pkt->dport;
    c->h = h;
    c->older = t->newest;
    if (t->newest)
        t->newest->newer = c;
    else
        t->oldest = c;
    t->newest = c;
    t->n++;
    return c;
}

/* A segment from the client (to the DNS port). */
static int from_client(struct dnsconn_table *t, const struct packet *pkt, int64_t now)
{
    uint8_t f = pkt->tcp_flags;
    uint64_t h = tuple_hash(&pkt->src, pkt->sport, &pkt->dst, pkt->dport);
    struct conn *c = find(t, h, &pkt->src, pkt->sport, &pkt->dst, pkt->dport);
    bool syn = (f & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    if (!c) {
        if (!syn && pkt->l4_payload_len == 0)
            return NT_OK;
        if (!(c = add(t, h, pkt)))
            return NT_ERR_NOMEM;
    } else if (syn && (c->client_data || c->close)) {
        reset(c); /* the 4-tuple was used again */
    }
    if (pkt->l4_payload_len > 0 && !(f & TCP_RST)) {
        uint32_t end = pkt->tcp_seq + (syn ? 1 : 0) + pkt->l4_payload_len;
        if (!c->client_data || seq_after(end, c->client_end)) {
            c->client_end = end;
            c->data_vt = now;
        }
        c->client_data = true;
    }
    if ((f & TCP_FIN) && !c->close)
        c->client_fin = true;
    return NT_OK;
}

/* A segment from the server (from the DNS port) of a connection followed. */
static int from_server(struct dnsconn_table *t, const struct packet *pkt, uint32_t input,
                       int64_t now)
{
    uint8_t f = pkt->tcp_flags;
    uint64_t h = tuple_hash(&pkt->dst, pkt->dport, &pkt->src, pkt->sport);
    struct conn *c = find(t, h, &pkt->dst, pkt->dport, &pkt->src, pkt->sport);
    if (!c)
        return NT_OK;
    if ((f & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
        c->synack = true;
    if ((f & TCP_ACK) && (!c->has_server_ack || seq_after(pkt->tcp_ack, c->server_ack))) {
        c->server_ack = pkt->tcp_ack;
        c->has_server_ack = true;
    }
    if (!(f & (TCP_FIN | TCP_RST)) || c->close || !c->client_data)
        return NT_OK;
    c->close = (f & TCP_RST) ? TCP_CLOSE_RST : TCP_CLOSE_FIN;
    c->close_vt = now;
    c->acked_at_close = c->has_server_ack && !seq_after(c->client_end, c->server_ack);
    if (!evidence_from_packet(&c->close_ev, pkt, input, EV_PACKET))
        return NT_ERR_NOMEM;
    return NT_OK;
}

int dnsconn_packet(struct dnsconn_table *t, const struct packet *pkt, uint32_t input, int64_t now)
{
    if (!(pkt->layers & PKT_L_TCP))
        return NT_OK;
    if (nt_port_dns_tcp(pkt->dport))
        return from_client(t, pkt, now);
    if (nt_port_dns_tcp(pkt->sport))
        return from_server(t, pkt, input, now);
    return NT_OK;
}

void dnsconn_fill(struct dnsconn_table *t, struct dns_lookup *l)
{
    memset(&l->tcp, 0, sizeof l->tcp);
    if (l->transport != 6 || t->n == 0)
        return;
    const struct conn *pick = NULL;
    uint8_t closed = 0;
    for (uint8_t i = 0; i < l->n_client_ports; i++) {
        uint64_t h = tuple_hash(&l->client, l->client_ports[i], &l->server, l->server_port);
        struct conn *c = find(t, h, &l->client, l->client_ports[i], &l->server, l->server_port);
        if (!c)
            continue;
        if (c->close) {
            closed++;
            if (!pick || !pick->close)
                pick = c;
        } else if (!pick || !pick->close) {
            pick = c; /* the newest connection the lookup used */
        }
    }
    if (!pick)
        return;
    struct dns_tcp_conn *d = &l->tcp;
    d->seen = true;
    d->synack_seen = pick->synack;
    d->closed_conns = closed;
    if (pick->close) {
        struct conn *c = (struct conn *)pick;
        d->server_close = c->close;
        d->query_acked = c->acked_at_close;
        d->client_fin_first = c->client_fin;
        d->close_after_us = c->close_vt - c->data_vt;
        c->close_ev.order_pkt = l->query.pkt;
        d->close = &c->close_ev;
    } else {
        d->query_acked = pick->client_data && pick->has_server_ack &&
                         !seq_after(pick->client_end, pick->server_ack);
    }
}

uint64_t dnsconn_forgotten(const struct dnsconn_table *t)
{
    return t->forgotten;
}

void dnsconn_clear(struct dnsconn_table *t)
{
    while (t->oldest)
        drop(t, t->oldest);
}

void dnsconn_free(struct dnsconn_table *t)
{
    if (!t)
        return;
    dnsconn_clear(t);
    htab_fini(&t->tab);
    free(t);
}
