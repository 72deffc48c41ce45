/* dns_rcode_track.h: what the rules about DNS error answers (dns.refused, dns.servfail) need to
 * know about the lookups a server answered well: per server, per (server, client) and per
 * (server, question), how many lookups got a usable answer and how many got the rule's error.
 *
 * A rule sees every lookup once, but its findings only exist from the first failure on, and a
 * server's successes before that matter as much as those after. Each rule that includes this
 * header keeps one table as its per-detector state (rule_state; the detector frees it). The
 * table is bounded (RCT_MAX_ENTRIES); past that the lookups of new keys are only counted, in
 * `dropped` and the rule's limit counter "rcode_keys_dropped". Entries are kept in creation
 * order (rct_at), which is what rules iterate: the hash table is only their index. */
#ifndef NT_DETECT_RULES_DNS_RCODE_TRACK_H
#define NT_DETECT_RULES_DNS_RCODE_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/correlate.h"
#include "detect/rule.h"
#include "util/htab.h"

#define RCT_MAX_ENTRIES 65536

enum rct_kind { RCT_SERVER = 1, RCT_CLIENT, RCT_NAME };

struct rct_entry {
    uint8_t kind; /* enum rct_kind */
    uint8_t transport;
    uint16_t port;
    struct nt_addr server;
    struct nt_addr client; /* RCT_CLIENT */
    /* RCT_NAME: the question (qname NULL without one; owned) */
    bool has_question;
    uint16_t qtype;
    char *qname;           /* in the table's name blocks */
    uint64_t hash;         /* of the key, in the index */
    uint64_t ok;           /* lookups with a usable answer (not SERVFAIL/REFUSED/NOTIMP/FORMERR) */
    uint64_t ok_aa;        /* of those, with AA set: the server's own data, no upstream needed */
    uint64_t ok_ad;        /* of those, with AD set: the server validated DNSSEC */
    uint64_t bad;          /* lookups answered with the rule's rcode */
    int64_t ok_min_rtt_us; /* fastest usable answer (-1 when none) */
    struct nt_time first_ok, last_ok;
};

/* Entries and the questions' names are carved from blocks that live as long as the table
 * (entries are never removed): one allocation per RCT_SLAB entries or RCT_NAME_BLOCK bytes of
 * names instead of a zeroed allocation per entry and a strdup per name. */
#define RCT_SLAB       1024
#define RCT_NAME_BLOCK 65536

struct rct {
    struct rct_entry **entries; /* in creation order */
    size_t n, cap;
    struct htab index;
    uint64_t dropped; /* lookups of keys not kept because the table was full */
    void **blocks;    /* every slab and name block, freed with the table */
    size_t n_blocks, cap_blocks;
    struct rct_entry *slab; /* the current slab, slab_used of its RCT_SLAB entries used */
    size_t slab_used;
    char *names; /* the current name block, names_used of its bytes used */
    size_t names_used, names_size;
};

/* A key: kind, service, and the client (RCT_CLIENT) or the question (RCT_NAME). */
struct rct_key {
    uint8_t kind;
    const struct nt_addr *server;
    uint16_t port;
    uint8_t transport;
    const struct nt_addr *client;
    bool has_question;
    uint16_t qtype;
    const char *qname;
};

/* The hash of a key's service (server, port, transport): the start of every key's hash, so that
 * the three keys of one lookup hash the service once. */
static inline void rct_hash_service(struct htab_hasher *s, const struct rct_key *k)
{
    htab_hasher_init(s);
    htab_hasher_addr(s, k->server);
    htab_hasher_u16(s, k->port);
    htab_hasher_u8(s, k->transport);
}

/* The hash of key k given the hash of its service (rct_hash_service). */
static inline uint64_t rct_hash_from(const struct htab_hasher *service, const struct rct_key *k)
{
    struct htab_hasher s = *service;
    htab_hasher_u8(&s, k->kind);
    if (k->kind == RCT_CLIENT)
        htab_hasher_addr(&s, k->client);
    if (k->kind == RCT_NAME) {
        htab_hasher_u8(&s, k->has_question);
        htab_hasher_u16(&s, k->qtype);
        htab_hasher_str(&s, k->qname);
    }
    return htab_hasher_end(&s);
}

static inline uint64_t rct_hash(const struct rct_key *k)
{
    struct htab_hasher s;
    rct_hash_service(&s, k);
    return rct_hash_from(&s, k);
}

static inline bool rct_eq(const void *item, const void *key)
{
    const struct rct_entry *e = item;
    const struct rct_key *k = key;
    if (e->kind != k->kind || e->port != k->port || e->transport != k->transport ||
        !nt_addr_eq(&e->server, k->server))
        return false;
    if (k->kind == RCT_CLIENT)
        return nt_addr_eq(&e->client, k->client);
    if (k->kind == RCT_NAME)
        return e->has_question == k->has_question && e->qtype == k->qtype &&
               strcmp(e->qname ? e->qname : "", k->qname ? k->qname : "") == 0;
    return true;
}

/* Keeps block p to be freed with the table; false (p freed) out of memory. */
static inline bool rct_keep_block(struct rct *t, void *p)
{
    if (t->n_blocks == t->cap_blocks) {
        size_t nc = t->cap_blocks ? t->cap_blocks * 2 : 16;
        void **nb = realloc(t->blocks, nc * sizeof *nb);
        if (!nb) {
            free(p);
            return false;
        }
        t->blocks = nb;
        t->cap_blocks = nc;
    }
    t->blocks[t->n_blocks++] = p;
    return true;
}

/* A new zeroed entry from the current slab; NULL out of memory. */
static inline struct rct_entry *rct_entry_new(struct rct *t)
{
    if (!t->slab || t->slab_used == RCT_SLAB) {
        struct rct_entry *slab = malloc(RCT_SLAB * sizeof *slab);
        if (!slab || !rct_keep_block(t, slab))
            return NULL;
        t->slab = slab;
        t->slab_used = 0;
    }
    struct rct_entry *e = &t->slab[t->slab_used++];
    memset(e, 0, sizeof *e);
    return e;
}

/* A copy of name in the name blocks; NULL out of memory. */
static inline char *rct_name_copy(struct rct *t, const char *name)
{
    size_t n = strlen(name) + 1;
    if (!t->names || t->names_size - t->names_used < n) {
        size_t size = n > RCT_NAME_BLOCK ? n : RCT_NAME_BLOCK;
        char *b = malloc(size);
        if (!b || !rct_keep_block(t, b))
            return NULL;
        t->names = b;
        t->names_used = 0;
        t->names_size = size;
    }
    char *d = t->names + t->names_used;
    memcpy(d, name, n);
    t->names_used += n;
    return d;
}

/* The entry for a key whose hash is h, created when `create` (NULL when absent, full or out of
 * memory; a key not kept because the table is full is counted). */
static inline struct rct_entry *rct_get_h(struct rule_ctx *rc, struct rct *t,
                                          const struct rct_key *k, uint64_t h, bool create)
{
    struct rct_entry *e = htab_get(&t->index, h, rct_eq, k);
    if (e || !create)
        return e;
    if (t->n >= RCT_MAX_ENTRIES) {
        t->dropped++;
        if (rc)
            rule_count_limit(rc, "rcode_keys_dropped", 1);
        return NULL;
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        struct rct_entry **ne = realloc(t->entries, nc * sizeof *ne);
        if (!ne)
            return NULL;
        t->entries = ne;
        t->cap = nc;
    }
    char *qname = NULL;
    if (k->kind == RCT_NAME && k->qname && !(qname = rct_name_copy(t, k->qname)))
        return NULL;
    e = rct_entry_new(t);
    if (!e)
        return NULL; /* the name's bytes stay unused in their block */
    e->kind = k->kind;
    e->server = *k->server;
    e->port = k->port;
    e->transport = k->transport;
    if (k->kind == RCT_CLIENT)
        e->client = *k->client;
    if (k->kind == RCT_NAME) {
        e->has_question = k->has_question;
        e->qtype = k->qtype;
        e->qname = qname;
    }
    e->hash = h;
    e->ok_min_rtt_us = -1;
    if (htab_insert(&t->index, h, e) < 0) {
        t->slab_used--; /* the last entry given out: handed out again next time */
        return NULL;
    }
    t->entries[t->n++] = e;
    return e;
}

/* The entry for a key, created when `create` (as rct_get_h). */
static inline struct rct_entry *rct_get(struct rule_ctx *rc, struct rct *t, const struct rct_key *k,
                                        bool create)
{
    return rct_get_h(rc, t, k, rct_hash(k), create);
}

/* The i-th entry made (i < t->n). */
static inline const struct rct_entry *rct_at(const struct rct *t, size_t i)
{
    return t->entries[i];
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
static inline void rct_note(struct rule_ctx *rc, struct rct *t, const struct dns_lookup *l,
                            bool bad)
{
    if (l->outcome != LOOKUP_ANSWERED || (!bad && !rct_usable_rcode(l->rcode)))
        return;
    struct rct_key k = {RCT_SERVER, &l->server, l->server_port, l->transport, NULL, false, 0, NULL};
    struct htab_hasher service; /* the same state as rct_hash_service's */
    rule_service_hasher(rc, l, &service);
    rct_count(rct_get_h(rc, t, &k, rct_hash_from(&service, &k), true), l, bad);
    k.kind = RCT_CLIENT;
    k.client = &l->client;
    rct_count(rct_get_h(rc, t, &k, rct_hash_from(&service, &k), true), l, bad);
    k.kind = RCT_NAME;
    k.client = NULL;
    k.has_question = l->has_question;
    k.qtype = l->qtype;
    k.qname = l->has_question ? l->qname : NULL;
    rct_count(rct_get_h(rc, t, &k, rct_hash_from(&service, &k), true), l, bad);
}

static inline const struct rct_entry *rct_server(struct rct *t, const struct nt_addr *server,
                                                 uint16_t port, uint8_t transport)
{
    struct rct_key k = {RCT_SERVER, server, port, transport, NULL, false, 0, NULL};
    return rct_get(NULL, t, &k, false);
}

static inline void rct_free(struct rct *t)
{
    for (size_t i = 0; i < t->n_blocks; i++)
        free(t->blocks[i]);
    free(t->blocks);
    free(t->entries);
    htab_fini(&t->index);
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
