/* dns_rcode_track.h: what the rules about DNS error answers (dns.refused, dns.servfail) need to
 * know about the lookups a server answered well: per server, per (server, client) and per
 * (server, question), how many lookups got a usable answer and how many got the rule's error.
 *
 * A rule sees every lookup once, but its findings only exist from the first failure on, and a
 * server's successes before that matter as much as those after. Each rule that includes this
 * header keeps one table as its per-detector state (rule_state; the detector frees it). The
 * table is bounded (RCT_MAX_ENTRIES); past that new keys are only counted in `dropped`. */
#ifndef NT_DETECT_RULES_DNS_RCODE_TRACK_H
#define NT_DETECT_RULES_DNS_RCODE_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/correlate.h"
#include "detect/rule.h"

#define RCT_MAX_ENTRIES 65536

enum rct_kind { RCT_SERVER = 1, RCT_CLIENT, RCT_NAME };

struct rct_entry {
    uint8_t kind; /* enum rct_kind; 0 marks an empty slot */
    uint8_t transport;
    uint16_t port;
    struct nt_addr server;
    struct nt_addr client; /* RCT_CLIENT */
    uint64_t name_hash;    /* RCT_NAME: FNV-1a of the question name and type */
    uint64_t ok;           /* lookups with a usable answer (not SERVFAIL/REFUSED/NOTIMP/FORMERR) */
    uint64_t ok_aa;        /* of those, with AA set: the server's own data, no upstream needed */
    uint64_t ok_ad;        /* of those, with AD set: the server validated DNSSEC */
    uint64_t bad;          /* lookups answered with the rule's rcode */
    int64_t ok_min_rtt_us; /* fastest usable answer (-1 when none) */
    struct nt_time first_ok, last_ok;
};

struct rct {
    struct rct_entry *slots;
    size_t cap; /* power of two */
    size_t n;
    uint64_t dropped; /* keys not kept because the table was full */
};

static inline uint64_t rct_name_hash(const struct dns_lookup *l)
{
    uint64_t h = 1469598103934665603ull;
    if (l->has_question && l->qname)
        for (const char *p = l->qname; *p; p++)
            h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h = (h ^ l->qtype) * 1099511628211ull;
    return (h ^ (l->has_question ? 1u : 0u)) * 1099511628211ull;
}

static inline uint32_t rct_hash(uint8_t kind, const struct nt_addr *server, uint16_t port,
                                uint8_t transport, const struct nt_addr *client, uint64_t nh)
{
    uint32_t h = nt_addr_hash(server, (uint32_t)port << 8 | transport);
    h = (h ^ kind) * 16777619u;
    if (client)
        h = nt_addr_hash(client, h);
    return (h ^ (uint32_t)nh ^ (uint32_t)(nh >> 32)) * 16777619u;
}

static inline bool rct_same(const struct rct_entry *e, uint8_t kind, const struct nt_addr *server,
                            uint16_t port, uint8_t transport, const struct nt_addr *client,
                            uint64_t nh)
{
    return e->kind == kind && e->port == port && e->transport == transport && e->name_hash == nh &&
           nt_addr_eq(&e->server, server) && (!client || nt_addr_eq(&e->client, client));
}

static inline bool rct_grow(struct rct *t)
{
    size_t nc = t->cap ? t->cap * 2 : 1024;
    struct rct_entry *ns = calloc(nc, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < t->cap; i++) {
        const struct rct_entry *e = &t->slots[i];
        if (!e->kind)
            continue;
        uint32_t h = rct_hash(e->kind, &e->server, e->port, e->transport,
                              e->kind == RCT_CLIENT ? &e->client : NULL, e->name_hash);
        size_t k = h & (nc - 1);
        while (ns[k].kind)
            k = (k + 1) & (nc - 1);
        ns[k] = *e;
    }
    free(t->slots);
    t->slots = ns;
    t->cap = nc;
    return true;
}

/* The entry for a key, created when `create` (NULL when absent, full or out of memory). */
static inline struct rct_entry *rct_get(struct rct *t, uint8_t kind, const struct nt_addr *server,
                                        uint16_t port, uint8_t transport,
                                        const struct nt_addr *client, uint64_t nh, bool create)
{
    uint32_t h = rct_hash(kind, server, port, transport, client, nh);
    if (t->cap) {
        for (size_t k = h & (t->cap - 1); t->slots[k].kind; k = (k + 1) & (t->cap - 1))
            if (rct_same(&t->slots[k], kind, server, port, transport, client, nh))
                return &t->slots[k];
    }
    if (!create)
        return NULL;
    if (t->n >= RCT_MAX_ENTRIES) {
        t->dropped++;
        return NULL;
    }
    if ((t->n + 1) * 2 > t->cap && !rct_grow(t))
        return NULL;
    size_t k = h & (t->cap - 1);
    while (t->slots[k].kind)
        k = (k + 1) & (t->cap - 1);
    struct rct_entry *e = &t->slots[k];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->server = *server;
    e->port = port;
    e->transport = transport;
    if (client)
        e->client = *client;
    e->name_hash = nh;
    e->ok_min_rtt_us = -1;
    t->n++;
    return e;
}

static inline bool rct_usable_rcode(uint16_t rcode)
{
    return rcode != DNS_RCODE_SERVFAIL && rcode != DNS_RCODE_REFUSED && rcode != DNS_RCODE_NOTIMP &&
           rcode != DNS_RCODE_FORMERR;
}

static inline void rct_count(struct rct_entry *e, const struct dns_lookup *l, bool bad)
{
    if (!e)
        return;
    if (bad) {
        e->bad++;
        return;
    }
    e->ok++;
    if (l->answer.dns_flags & DNS_FLAG_AA)
        e->ok_aa++;
    if (l->answer.dns_flags & DNS_FLAG_AD)
        e->ok_ad++;
    if (e->ok_min_rtt_us < 0 || l->rtt_us < e->ok_min_rtt_us)
        e->ok_min_rtt_us = l->rtt_us;
    nt_time_widen(&e->first_ok, &e->last_ok, &l->answer.ts);
}

/* Counts an answered lookup: a usable answer, or (bad) the rule's own error rcode. Other
 * outcomes and other error rcodes are ignored. */
static inline void rct_note(struct rct *t, const struct dns_lookup *l, bool bad)
{
    if (l->outcome != LOOKUP_ANSWERED || (!bad && !rct_usable_rcode(l->rcode)))
        return;
    rct_count(rct_get(t, RCT_SERVER, &l->server, l->server_port, l->transport, NULL, 0, true), l,
              bad);
    rct_count(rct_get(t, RCT_CLIENT, &l->server, l->server_port, l->transport, &l->client, 0, true),
              l, bad);
    rct_count(rct_get(t, RCT_NAME, &l->server, l->server_port, l->transport, NULL, rct_name_hash(l),
                      true),
              l, bad);
}

static inline const struct rct_entry *rct_server(struct rct *t, const struct nt_addr *server,
                                                 uint16_t port, uint8_t transport)
{
    return rct_get(t, RCT_SERVER, server, port, transport, NULL, 0, false);
}

static inline void rct_free(struct rct *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* The calling rule's table in this detector (its rule_state), made on first use; NULL when out
 * of memory. The rule sets .free_state = rct_free_state. */
static inline struct rct *rct_of(struct rule_ctx *rc)
{
    void **slot = rule_state(rc);
    if (!*slot)
        *slot = calloc(1, sizeof(struct rct));
    return *slot;
}

static inline void rct_free_state(void *p)
{
    rct_free(p);
    free(p);
}

#endif
