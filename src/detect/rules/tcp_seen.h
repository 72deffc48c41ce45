/* tcp_seen.h: what the TCP rules (tcp_refused.c, tcp_no_response.c, dns_truncated_no_tcp.c)
 * remember about every server and port across the capture: handshakes completed, resets, ICMP
 * refusals, attempts cut off by the end of the capture. Rules see an attempt once, when it is
 * final, but their causes depend on what the same service did before and after (did port 443
 * accept other connections? did the host answer on any port?), and the detector keeps that only
 * for the incident window, which it fills after on_finish.
 *
 * Each rule keeps its own table as its per-detector state (rule_state): it adds every attempt
 * in on_tcp_attempt and reads in on_finish; the detector frees it. Bounded: at most
 * TCP_SEEN_MAX services, the rest counted in `dropped`. */
#ifndef NT_DETECT_RULES_TCP_SEEN_H
#define NT_DETECT_RULES_TCP_SEEN_H

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "correlate/correlate.h"
#include "detect/rule.h"

#define TCP_SEEN_MAX (1u << 18)

struct tcp_seen_entry {
    bool used;
    struct nt_addr server;
    uint16_t port;
    uint64_t established, resets, icmp, unanswered, cut;
    uint64_t cut_syns;                      /* SYNs of the attempts cut off */
    struct nt_time first_ok, last_ok;       /* SYN-ACKs */
    struct nt_time first_reply, last_reply; /* any SYN-ACK or RST from the server */
    struct nt_time first_cut, last_cut;     /* first SYNs of the attempts cut off */
};

struct tcp_seen {
    struct tcp_seen_entry *slots;
    size_t cap, n; /* cap a power of two */
    uint64_t dropped;
};

static inline uint32_t tcp_seen_hash(const struct nt_addr *server, uint16_t port)
{
    uint32_t h = nt_addr_hash(server, port);
    h ^= h >> 16;
    h *= 0x7feb352dU;
    h ^= h >> 15;
    return h;
}

static inline struct tcp_seen_entry *tcp_seen_slot(const struct tcp_seen *s,
                                                   const struct nt_addr *server, uint16_t port)
{
    if (!s->cap)
        return NULL;
    for (size_t k = tcp_seen_hash(server, port) & (s->cap - 1);; k = (k + 1) & (s->cap - 1)) {
        struct tcp_seen_entry *e = &s->slots[k];
        if (!e->used || (e->port == port && nt_addr_eq(&e->server, server)))
            return e;
    }
}

/* The entry of server:port, or NULL when it was never seen. */
static inline const struct tcp_seen_entry *tcp_seen_get(const struct tcp_seen *s,
                                                        const struct nt_addr *server, uint16_t port)
{
    const struct tcp_seen_entry *e = tcp_seen_slot(s, server, port);
    return e && e->used ? e : NULL;
}

static inline struct tcp_seen_entry *tcp_seen_make(struct tcp_seen *s, const struct nt_addr *server,
                                                   uint16_t port)
{
    /* A service already kept is updated even when the table is full. */
    struct tcp_seen_entry *known = tcp_seen_slot(s, server, port);
    if (known && known->used)
        return known;
    if ((s->n + 1) * 2 > s->cap) {
        if (s->n >= TCP_SEEN_MAX)
            return NULL;
        size_t nc = s->cap ? s->cap * 2 : 256;
        struct tcp_seen_entry *ns = calloc(nc, sizeof *ns);
        if (!ns)
            return NULL;
        struct tcp_seen old = *s;
        s->slots = ns;
        s->cap = nc;
        for (size_t i = 0; i < old.cap; i++)
            if (old.slots[i].used)
                *tcp_seen_slot(s, &old.slots[i].server, old.slots[i].port) = old.slots[i];
        free(old.slots);
    }
    struct tcp_seen_entry *e = tcp_seen_slot(s, server, port);
    if (!e->used) {
        e->used = true;
        e->server = *server;
        e->port = port;
        s->n++;
    }
    return e;
}

/* Remembers a final attempt. */
static inline void tcp_seen_add(struct tcp_seen *s, const struct tcp_attempt *t)
{
    struct tcp_seen_entry *e = tcp_seen_make(s, &t->server, t->server_port);
    if (!e) {
        s->dropped++;
        return;
    }
    switch (t->outcome) {
    case TCP_ESTABLISHED:
        e->established++;
        nt_time_widen(&e->first_ok, &e->last_ok, &t->reply.ts);
        nt_time_widen(&e->first_reply, &e->last_reply, &t->reply.ts);
        break;
    case TCP_RESET:
        e->resets++;
        nt_time_widen(&e->first_reply, &e->last_reply, &t->reply.ts);
        break;
    case TCP_ICMP_ERROR:
        e->icmp++;
        break;
    case TCP_UNANSWERED:
        e->unanswered++;
        break;
    case TCP_CAPTURE_ENDED:
        e->cut++;
        e->cut_syns += t->syns;
        nt_time_widen(&e->first_cut, &e->last_cut, &t->first_syn);
        break;
    default:
        break;
    }
}

/* Sums over every port of a server: handshakes and resets it sent (the host was up), and the
 * number of ports it answered on. */
struct tcp_seen_host {
    uint64_t established, resets;
    size_t ports_answered;
};
static inline void tcp_seen_host(const struct tcp_seen *s, const struct nt_addr *server,
                                 struct tcp_seen_host *h)
{
    memset(h, 0, sizeof *h);
    for (size_t i = 0; i < s->cap; i++) {
        const struct tcp_seen_entry *e = &s->slots[i];
        if (!e->used || !nt_addr_eq(&e->server, server))
            continue;
        h->established += e->established;
        h->resets += e->resets;
        if (e->established || e->resets)
            h->ports_answered++;
    }
}

/* The same sums for every server at once, sorted by address (one pass over the table, instead
 * of one per finding): rows to look up with tcp_seen_hosts_find. Returns the number of rows
 * (0 with *rows NULL on out of memory or an empty table); the caller frees *rows. */
struct tcp_seen_host_row {
    struct nt_addr server;
    struct tcp_seen_host h;
};

static inline int tcp_seen_row_cmp(const void *x, const void *y)
{
    return nt_addr_cmp(&((const struct tcp_seen_host_row *)x)->server,
                       &((const struct tcp_seen_host_row *)y)->server);
}

static inline size_t tcp_seen_hosts(const struct tcp_seen *s, struct tcp_seen_host_row **rows)
{
    *rows = s->n ? calloc(s->n, sizeof **rows) : NULL;
    if (!*rows)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < s->cap; i++) {
        const struct tcp_seen_entry *e = &s->slots[i];
        if (!e->used)
            continue;
        struct tcp_seen_host_row *r = &(*rows)[n++];
        r->server = e->server;
        r->h.established = e->established;
        r->h.resets = e->resets;
        r->h.ports_answered = e->established || e->resets ? 1 : 0;
    }
    qsort(*rows, n, sizeof **rows, tcp_seen_row_cmp);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o && nt_addr_eq(&(*rows)[o - 1].server, &(*rows)[i].server)) {
            (*rows)[o - 1].h.established += (*rows)[i].h.established;
            (*rows)[o - 1].h.resets += (*rows)[i].h.resets;
            (*rows)[o - 1].h.ports_answered += (*rows)[i].h.ports_answered;
        } else {
            (*rows)[o++] = (*rows)[i];
        }
    }
    return o;
}

static inline void tcp_seen_hosts_find(const struct tcp_seen_host_row *rows, size_t n,
                                       const struct nt_addr *server, struct tcp_seen_host *h)
{
    struct tcp_seen_host_row key = {.server = *server};
    const struct tcp_seen_host_row *r =
        rows ? bsearch(&key, rows, n, sizeof *rows, tcp_seen_row_cmp) : NULL;
    if (r)
        *h = r->h;
    else
        memset(h, 0, sizeof *h);
}

static inline void tcp_seen_free(struct tcp_seen *s)
{
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* The service name of a TCP port for sentences ("HTTPS"), or NULL. */
static inline const char *tcp_seen_service(uint16_t port)
{
    switch (port) {
    case 443:
        return "HTTPS";
    case 80:
        return "HTTP";
    case 53:
        return "DNS over TCP";
    default:
        return NULL;
    }
}

/* The calling rule's table in this detector (its rule_state), made on first use; NULL when out
 * of memory. The rule sets .free_state = tcp_seen_free_state. */
static inline struct tcp_seen *tcp_seen_of(struct rule_ctx *rc)
{
    void **slot = rule_state(rc);
    if (!*slot)
        *slot = calloc(1, sizeof(struct tcp_seen));
    return *slot;
}

static inline void tcp_seen_free_state(void *p)
{
    tcp_seen_free(p);
    free(p);
}

/* The accumulator of a TCP rule's finding starts with this, so that the finding's service
 * name can live in it. */
struct tcp_acc_head {
    char service[16]; /* f->service when the port has no name: the port number */
};

/* The calling TCP rule's finding for the attempt's server and port ("ADDR|PORT"), made on first
 * use with a zeroed accumulator of acc_size bytes (starting with struct tcp_acc_head) as priv,
 * and the fields every TCP finding shares; *created tells the caller to initialise the rest.
 * NULL when the detector refuses it (cap) or out of memory. */
static inline struct finding *tcp_seen_finding(struct rule_ctx *rc, const struct tcp_attempt *t,
                                               size_t acc_size, bool *created)
{
    char key[NT_ADDR_FMT_MAX + 16], addr[NT_ADDR_FMT_MAX];
    nt_addr_format(&t->server, addr, sizeof addr);
    snprintf(key, sizeof key, "%s|%u", addr, t->server_port);
    *created = false;
    struct finding *f = rule_raise(rc, key);
    if (!f || f->priv)
        return f;
    struct tcp_acc_head *h = calloc(1, acc_size);
    if (!h)
        return NULL;
    f->priv = h;
    f->priv_free = free;
    f->protocol = "tcp";
    f->port = t->server_port;
    f->service = tcp_seen_service(t->server_port);
    if (!f->service) {
        snprintf(h->service, sizeof h->service, "%u", t->server_port);
        f->service = h->service; /* lives as long as the finding */
    }
    f->has_server = true;
    f->server = t->server;
    f->unit_one = "connection attempt";
    f->unit_many = "connection attempts";
    f->sent_one = "SYN";
    f->sent_many = "SYNs";
    *created = true;
    return f;
}

#endif
