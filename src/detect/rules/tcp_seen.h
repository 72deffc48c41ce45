/* tcp_seen.h: what the TCP rules (tcp_refused.c, tcp_no_response.c, dns_truncated_no_tcp.c)
 * remember about every server and port across the capture: handshakes completed, resets, ICMP
 * refusals, attempts cut off by the end of the capture. Rules see an attempt once, when it is
 * final, but their causes depend on what the same service did before and after (did port 443
 * accept other connections? did the host answer on any port?), and the detector keeps that only
 * for the incident window, which it fills after on_finish.
 *
 * The rules share one table (rule_shared_state "tcp_seen"): the first of them to be given an
 * attempt adds it (rule_tcp_attempt_seq), and each reads it through its own view (its
 * rule_state, struct tcp_seen). Bounded per rule as when each kept its own table: a rule sees
 * the first `services` services in the order they were first seen (the bound TCP_SEEN_BOUND
 * each such rule declares: --bound RULE.services=N), which is what its own table would have
 * kept, since every such rule is given every attempt; the shared table keeps as many as the
 * largest of those bounds, and each entry its place in that order. The attempts of services
 * past a rule's bound are counted in the rule's limit counter "tcp_services_dropped"
 * (rule_count_limit). Until the sixteenth session each rule kept its own copy: three tables of
 * the same entries (46 MiB each for 262,144 services). */
#ifndef NT_DETECT_RULES_TCP_SEEN_H
#define NT_DETECT_RULES_TCP_SEEN_H

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "correlate/correlate.h"
#include "detect/rule.h"
#include "util/htab.h"

#define TCP_SEEN_BOUND                                                                             \
    {                                                                                              \
        "services", 262144, 16, 16777216, "servers and ports whose TCP outcomes are remembered"    \
    }

struct tcp_seen_entry {
    struct nt_addr server;
    uint16_t port;
    uint64_t established, resets, icmp, unanswered, cut;
    uint64_t cut_syns;    /* SYNs of the attempts cut off */
    uint64_t cut_retried; /* cut off too, but the client had retransmitted its SYN (no answer
                             in its own time: tcp.no_response counts them); not in cut */
    struct nt_time first_ok, last_ok;       /* SYN-ACKs */
    struct nt_time first_reply, last_reply; /* any SYN-ACK or RST from the server */
    struct nt_time first_cut, last_cut;     /* first SYNs of the attempts cut off */
    uint32_t ord; /* its place among the services kept, in the order they were first seen */
};

/* The table the rules share. */
struct tcp_seen_table {
    struct htab tab;             /* struct tcp_seen_entry by server and port */
    size_t max;                  /* services kept: the largest bound of the rules reading it */
    uint64_t added_seq;          /* the last attempt added (rule_tcp_attempt_seq) */
    struct tcp_seen_entry *last; /* its entry (NULL: not kept) */
};

/* A rule's view of it (its rule_state). */
struct tcp_seen {
    struct tcp_seen_table *t; /* NULL until the first attempt (or out of memory) */
    size_t max;               /* the rule's bound, read at the first attempt */
    uint32_t max_input;       /* the last input an attempt came from */
    uint64_t dropped;         /* attempts of services past the bound (tcp_services_dropped) */
};

/* Whether the rule's view left services out: sums over a host's ports (tcp_seen_host) then
 * cover only the services kept, and a service not found may have been one of those left out. */
static inline bool tcp_seen_partial(const struct tcp_seen *s)
{
    return s && s->dropped > 0;
}

static inline uint64_t tcp_seen_hash(const struct nt_addr *server, uint16_t port)
{
    struct htab_hasher s;
    htab_hasher_init(&s);
    htab_hasher_addr(&s, server);
    htab_hasher_u16(&s, port);
    return htab_hasher_end(&s);
}

struct tcp_seen_key {
    const struct nt_addr *server;
    uint16_t port;
};

static inline bool tcp_seen_eq(const void *item, const void *key)
{
    const struct tcp_seen_entry *e = item;
    const struct tcp_seen_key *k = key;
    return e->port == k->port && nt_addr_eq(&e->server, k->server);
}

/* The entry of server:port as the rule sees it: NULL when it was never seen, or is past the
 * rule's bound. */
static inline const struct tcp_seen_entry *tcp_seen_get(const struct tcp_seen *s,
                                                        const struct nt_addr *server, uint16_t port)
{
    if (!s->t)
        return NULL;
    struct tcp_seen_key k = {server, port};
    const struct tcp_seen_entry *e =
        htab_get(&s->t->tab, tcp_seen_hash(server, port), tcp_seen_eq, &k);
    return e && e->ord < s->max ? e : NULL;
}

static inline struct tcp_seen_entry *tcp_seen_make(struct tcp_seen_table *t,
                                                   const struct nt_addr *server, uint16_t port)
{
    /* A service already kept is updated even when the table is full. */
    uint64_t h = tcp_seen_hash(server, port);
    struct tcp_seen_key k = {server, port};
    struct tcp_seen_entry *e = htab_get(&t->tab, h, tcp_seen_eq, &k);
    if (e || htab_count(&t->tab) >= t->max)
        return e;
    e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->server = *server;
    e->port = port;
    e->ord = (uint32_t)htab_count(&t->tab);
    if (htab_insert(&t->tab, h, e) < 0) {
        free(e);
        return NULL;
    }
    return e;
}

/* A client's SYN retransmission is evidence that its own timer ran out with no answer only
 * when it came this long after the first SYN: the same SYN seen twice at once (tcpdump -i any
 * shows a packet on every interface it crosses) is one transmission, not a retry. Retransmission
 * timers start at 1 s (Linux, RFC 6298) or more. */
#define TCP_RETRY_MIN_US 200000

/* Whether an attempt cut off by the end of the capture had retransmitted its SYN (in time, as
 * above): tcp.no_response and tcp.scan count it as unanswered. */
static inline bool tcp_retried_before_end(const struct tcp_attempt *t)
{
    return t->outcome == TCP_CAPTURE_ENDED && t->syns > 1 &&
           nt_time_diff_us(&t->first_syn, &t->last_syn) >= TCP_RETRY_MIN_US;
}

static inline void tcp_seen_table_free(void *p)
{
    struct tcp_seen_table *t = p;
    struct htab_iter it;
    for (struct tcp_seen_entry *e = htab_first(&t->tab, &it); e; e = htab_next(&t->tab, &it))
        free(e);
    htab_fini(&t->tab);
    free(t);
}

/* Adds the outcome of a final attempt to an entry. */
static inline void tcp_seen_count(struct tcp_seen_entry *e, const struct tcp_attempt *t)
{
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
        if (tcp_retried_before_end(t)) {
            e->cut_retried++;
            break;
        }
        e->cut++;
        e->cut_syns += t->syns;
        nt_time_widen(&e->first_cut, &e->last_cut, &t->first_syn);
        break;
    default:
        break;
    }
}

/* Remembers a final attempt, in on_tcp_attempt (rc: the rule whose view s is, whose limit
 * counter counts the attempts of services past its bound): the shared table takes it once,
 * from the first rule given it. */
static inline void tcp_seen_add(struct rule_ctx *rc, struct tcp_seen *s,
                                const struct tcp_attempt *t)
{
    if (!s->max)
        s->max = (size_t)rule_bound(rc, "services");
    if (t->input > s->max_input)
        s->max_input = t->input;
    if (!s->t) {
        void **slot = rule_shared_state(rc, "tcp_seen", tcp_seen_table_free);
        if (slot && !*slot)
            *slot = calloc(1, sizeof(struct tcp_seen_table));
        s->t = slot ? *slot : NULL;
    }
    struct tcp_seen_table *tt = s->t;
    if (tt && tt->max < s->max)
        tt->max = s->max;
    uint64_t seq = rule_tcp_attempt_seq(rc);
    if (tt && tt->added_seq != seq) {
        tt->added_seq = seq;
        tt->last = tcp_seen_make(tt, &t->server, t->server_port);
        if (tt->last)
            tcp_seen_count(tt->last, t);
    }
    if (!tt || !tt->last || tt->last->ord >= s->max) {
        s->dropped++;
        rule_count_limit(rc, "tcp_services_dropped", 1);
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
    if (!s->t)
        return;
    struct htab_iter it;
    for (const struct tcp_seen_entry *e = htab_first(&s->t->tab, &it); e;
         e = htab_next(&s->t->tab, &it)) {
        if (e->ord >= s->max || !nt_addr_eq(&e->server, server))
            continue;
        h->established += e->established;
        h->resets += e->resets;
        if (e->established || e->resets)
            h->ports_answered++;
    }
}

/* The same sums for every server at once, sorted by address (one pass over the table, instead
 * of one per finding): rows to look up with tcp_seen_hosts_find. Returns the number of rows
 * (0 with *rows NULL on out of memory or an empty table); the caller frees *rows. The table's
 * order does not reach the rows: they are sorted, and rows of one server summed. */
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
    size_t count = s->t ? htab_count(&s->t->tab) : 0;
    if (count > s->max)
        count = s->max;
    *rows = count ? calloc(count, sizeof **rows) : NULL;
    if (!*rows)
        return 0;
    size_t n = 0;
    struct htab_iter it;
    for (const struct tcp_seen_entry *e = htab_first(&s->t->tab, &it); e;
         e = htab_next(&s->t->tab, &it)) {
        if (e->ord >= s->max)
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

/* The calling rule's view of the table in this detector (its rule_state), made on first use;
 * NULL when out of memory. The rule sets .free_state = tcp_seen_free_state. */
static inline struct tcp_seen *tcp_seen_of(struct rule_ctx *rc)
{
    void **slot = rule_state(rc);
    if (!*slot)
        *slot = calloc(1, sizeof(struct tcp_seen));
    return *slot;
}

static inline void tcp_seen_free_state(void *p)
{
    free(p); /* the view: the detector frees the shared table */
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
    f->transport = 6;
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

/* Whether tcp.scan (tcp_scan.c) has found `client` scanning: its finding is keyed by the
 * source's address. tcp.no_response and tcp.refused leave a scanning source's failed attempts
 * to it. */
static inline bool tcp_scan_known(const struct rule_ctx *rc, const struct nt_addr *client)
{
    char key[NT_ADDR_FMT_MAX];
    nt_addr_format(client, key, sizeof key);
    return rule_other_finding(rc, "tcp.scan", key) != NULL;
}

/* Whether every client of f is a scanning source (and none was left out of its list). */
static inline bool tcp_scan_only(const struct rule_ctx *rc, const struct finding *f)
{
    if (!f->n_clients || f->clients_dropped)
        return false;
    for (size_t i = 0; i < f->n_clients; i++)
        if (!tcp_scan_known(rc, &f->clients[i]))
            return false;
    return true;
}

/* At on_finish: withdraws the calling rule's findings that only scanning sources made (their
 * attempts before the source crossed tcp.scan's threshold), before the rule explains the rest. */
static inline void tcp_scan_withdraw(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        if (tcp_scan_only(rc, f))
            rule_withdraw(rc, f, &it);
}

#endif
