/* rcode_table.c: per-service counts of usable and error answers for the rules on DNS error
 * answers (rcode_table.h). */
#include "detect/rcode_table.h"

#include <stdlib.h>
#include <string.h>

#include "detect/hash_bytes.h"

/* The rcode of each view (enum rcode_view). */
static const uint16_t view_rcode[RCODE_VIEWS] = {DNS_RCODE_SERVFAIL, DNS_RCODE_REFUSED};

/* Entries and the questions' names are carved from blocks that live as long as the table
 * (entries are never removed): one allocation per SLAB entries or NAME_BLOCK bytes of names
 * instead of a zeroed allocation per entry and a strdup per name. */
#define SLAB       1024
#define NAME_BLOCK 65536

/* A key: kind, service, and the client (RCODE_KEY_CLIENT) or the question (RCODE_KEY_NAME). */
struct key {
    uint8_t kind;
    const struct nt_addr *server;
    uint16_t port;
    uint8_t transport;
    const struct nt_addr *client;
    bool has_question;
    uint16_t qtype;
    const char *qname;
    uint64_t qname_hash; /* RCODE_KEY_NAME with a question: the hash of qname */
};

void rcode_table_init(struct rcode_table *t)
{
    memset(t, 0, sizeof *t);
    htab_init(&t->index);
}

void rcode_table_free(struct rcode_table *t)
{
    for (size_t i = 0; i < t->n_blocks; i++)
        free(t->blocks[i]);
    free(t->blocks);
    for (int v = 0; v < RCODE_VIEWS; v++)
        free(t->views[v].entries);
    htab_fini(&t->index);
    memset(t, 0, sizeof *t);
}

static void hash_service(struct htab_hasher *s, const struct key *k)
{
    htab_hasher_init(s);
    htab_hasher_addr(s, k->server);
    htab_hasher_u16(s, k->port);
    htab_hasher_u8(s, k->transport);
}

/* The hash of key k given the hasher state after its service (hash_service): the kind, then the
 * client or the question, added in one call (detect/hash_bytes.h: the same hash as adding them
 * field by field). */
static uint64_t hash_from(const struct htab_hasher *service, const struct key *k)
{
    uint8_t b[1 + HB_ADDR_MAX + 11];
    size_t n = hb_u8(b, k->kind);
    if (k->kind == RCODE_KEY_CLIENT)
        n += hb_addr(b + n, k->client);
    if (k->kind == RCODE_KEY_NAME) {
        n += hb_u8(b + n, k->has_question);
        n += hb_u16(b + n, k->qtype);
        n += hb_u64(b + n, k->has_question ? k->qname_hash : 0);
    }
    struct htab_hasher s = *service;
    htab_hasher_add(&s, b, n);
    return htab_hasher_end(&s);
}

static bool entry_eq(const void *item, const void *key)
{
    const struct rcode_entry *e = item;
    const struct key *k = key;
    if (e->kind != k->kind || e->port != k->port || e->transport != k->transport ||
        !nt_addr_eq(&e->server, k->server))
        return false;
    if (k->kind == RCODE_KEY_CLIENT)
        return nt_addr_eq(&e->client, k->client);
    if (k->kind == RCODE_KEY_NAME)
        return e->has_question == k->has_question && e->qtype == k->qtype &&
               strcmp(e->qname ? e->qname : "", k->qname ? k->qname : "") == 0;
    return true;
}

/* Keeps block p to be freed with the table; false (p freed) out of memory. */
static bool keep_block(struct rcode_table *t, void *p)
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

/* A copy of name (n bytes with its NUL) in the name blocks; NULL out of memory. */
static char *name_copy(struct rcode_table *t, const char *name, size_t n)
{
    if (!t->names || t->names_size - t->names_used < n) {
        size_t size = n > NAME_BLOCK ? n : NAME_BLOCK;
        char *b = malloc(size);
        if (!b || !keep_block(t, b))
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

/* A new entry for key k (hash h) of service entry `service`, in no view yet; NULL out of
 * memory. */
static struct rcode_entry *entry_new(struct rcode_table *t, const struct key *k, uint64_t h,
                                     const struct rcode_entry *service)
{
    char *qname = NULL;
    size_t qlen = k->kind == RCODE_KEY_NAME && k->qname ? strlen(k->qname) + 1 : 0;
    if (qlen > RCODE_NAME_INLINE && !(qname = name_copy(t, k->qname, qlen)))
        return NULL;
    if (!t->slab || t->slab_used == SLAB) {
        struct rcode_entry *slab = malloc(SLAB * sizeof *slab);
        if (!slab || !keep_block(t, slab))
            return NULL; /* the name's bytes stay unused in their block */
        t->slab = slab;
        t->slab_used = 0;
    }
    struct rcode_entry *e = &t->slab[t->slab_used++];
    memset(e, 0, sizeof *e);
    e->kind = k->kind;
    e->server = *k->server;
    e->port = k->port;
    e->transport = k->transport;
    if (k->kind == RCODE_KEY_CLIENT)
        e->client = *k->client;
    if (k->kind == RCODE_KEY_NAME) {
        e->has_question = k->has_question;
        e->qtype = k->qtype;
        if (qlen && qlen <= RCODE_NAME_INLINE) {
            memcpy(e->qname_inline, k->qname, qlen);
            qname = e->qname_inline;
        }
        e->qname = qname;
    }
    e->service = service;
    e->ok_min_rtt_us = -1;
    if (htab_insert(&t->index, h, e) < 0) {
        t->slab_used--; /* the last entry given out: handed out again next time */
        return NULL;
    }
    return e;
}

/* Appends e to view v; false out of memory. */
static bool view_add(struct rcode_view_state *vs, struct rcode_entry *e, int v)
{
    if (vs->n == vs->cap) {
        size_t nc = vs->cap ? vs->cap * 2 : 256;
        struct rcode_entry **ne = realloc(vs->entries, nc * sizeof *ne);
        if (!ne)
            return false;
        vs->entries = ne;
        vs->cap = nc;
    }
    vs->entries[vs->n++] = e;
    e->views |= (uint8_t)(1u << v);
    return true;
}

/* Puts entry e of key k (NULL when there is none yet: made with hash h and service entry
 * `service`) in the views of mask `want` it is not in yet, while they have room (a view that is
 * full counts the lookup as dropped). Returns the entry (NULL when none was made), with `*in` the
 * views of `want` it is in. */
static struct rcode_entry *entry_join(struct rcode_table *t, const struct key *k,
                                      struct rcode_entry *e, uint64_t h,
                                      const struct rcode_entry *service, unsigned want,
                                      unsigned *in)
{
    if (e && (e->views & want) == want) { /* the usual case: in every view already */
        *in = want;
        return e;
    }
    for (int v = 0; v < RCODE_VIEWS; v++) {
        unsigned bit = 1u << v;
        if (!(want & bit) || (e && (e->views & bit)))
            continue;
        struct rcode_view_state *vs = &t->views[v];
        if (vs->n >= (t->view_max ? t->view_max : RCODE_VIEW_MAX_ENTRIES)) {
            vs->dropped++;
            continue;
        }
        if (!e && !(e = entry_new(t, k, h, service)))
            break;
        (void)view_add(vs, e, v);
    }
    *in = e ? e->views & want : 0;
    return e;
}

static void count(struct rcode_entry *e, unsigned in, const struct dns_lookup *l)
{
    if (!e || !in)
        return;
    if (!rcode_usable(l->rcode)) {
        for (int v = 0; v < RCODE_VIEWS; v++)
            if (in & (1u << v))
                e->bad[v]++;
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

/* The key of l's service, its client or its question (kind). */
static struct key lookup_key(const struct dns_lookup *l, uint8_t kind, uint64_t qname_hash)
{
    struct key k = {kind, &l->server, l->server_port, l->transport, NULL, false, 0, NULL, 0};
    if (kind == RCODE_KEY_CLIENT)
        k.client = &l->client;
    if (kind == RCODE_KEY_NAME) {
        k.has_question = l->has_question;
        k.qtype = l->qtype;
        k.qname = l->has_question ? l->qname : NULL;
        k.qname_hash = qname_hash;
    }
    return k;
}

void rcode_table_prepare(const struct rcode_table *t, const struct dns_lookup *l,
                         const struct htab_hasher *service, uint64_t qname_hash,
                         struct rcode_note *n)
{
    n->want = 0;
    n->near_client = n->near_name = RCODE_NEAR_UNKNOWN;
    n->service_memo = NULL;
    if (l->outcome != LOOKUP_ANSWERED)
        return;
    if (rcode_usable(l->rcode))
        n->want = (1u << RCODE_VIEWS) - 1;
    else
        for (int v = 0; v < RCODE_VIEWS; v++)
            if (l->rcode == view_rcode[v])
                n->want |= 1u << v;
    if (!n->want)
        return;
    struct key k = lookup_key(l, RCODE_KEY_CLIENT, qname_hash);
    n->h_client = hash_from(service, &k);
    k = lookup_key(l, RCODE_KEY_NAME, qname_hash);
    n->h_name = hash_from(service, &k);
    if (t->index.slots) {
        __builtin_prefetch(&t->index.slots[n->h_client & t->index.mask]);
        __builtin_prefetch(&t->index.slots[n->h_name & t->index.mask]);
    }
}

/* What the index holds under hash h in the first slots from its home (most items sit there: the
 * index is at most 3/4 full), read from the slots' hashes alone: the first item under h
 * (RCODE_NEAR_ITEM, *item set), no item under h (RCODE_NEAR_ABSENT: an empty slot, or one
 * nearer its own home than h's items would be, comes first, where htab_find stops too), or not
 * known (RCODE_NEAR_UNKNOWN). */
static uint8_t entry_near(const struct htab *ix, uint64_t h, const struct rcode_entry **item)
{
    if (!ix->slots)
        return RCODE_NEAR_UNKNOWN;
    for (size_t pos = h & ix->mask, d = 0; d < 4; pos = (pos + 1) & ix->mask, d++) {
        const struct htab_slot *s = &ix->slots[pos];
        if (!s->item || htab_dist_(ix, pos, s->h) < d)
            return RCODE_NEAR_ABSENT;
        if (s->h == h) {
            *item = s->item;
            return RCODE_NEAR_ITEM;
        }
    }
    return RCODE_NEAR_UNKNOWN;
}

/* Asks for the cache lines of entry e. Kept out of entry_near's loop: GCC 12 at -O2 and -O3
 * removed that loop whole, prefetches and all, when they were inside it. */
static void entry_prefetch(const void *e)
{
    const char *p = e;
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
    __builtin_prefetch(p + sizeof(struct rcode_entry) - 1);
}

void rcode_table_prefetch_entries(const struct rcode_table *t, struct rcode_note *n)
{
    if (!n->want)
        return;
    n->near_client = entry_near(&t->index, n->h_client, &n->e_client);
    if (n->near_client == RCODE_NEAR_ITEM)
        entry_prefetch(n->e_client);
    n->near_name = entry_near(&t->index, n->h_name, &n->e_name);
    if (n->near_name == RCODE_NEAR_ITEM)
        entry_prefetch(n->e_name);
}

/* The entry of key k (hash h) as htab_get finds it, from what rcode_table_prefetch_entries saw
 * (near, item) when that settles it: keys are unique in the index and entries never leave it,
 * and only keys of other kinds were added since, so an item under h that is k's is the one, and
 * a hash with no item then has none now. */
static struct rcode_entry *entry_get(const struct rcode_table *t, const struct key *k,
                                     uint64_t h, uint8_t near, const struct rcode_entry *item)
{
    if (near == RCODE_NEAR_ABSENT)
        return NULL;
    if (near == RCODE_NEAR_ITEM && entry_eq(item, k))
        return (struct rcode_entry *)item;
    return htab_get(&t->index, h, entry_eq, k);
}

void rcode_table_note_prepared(struct rcode_table *t, const struct dns_lookup *l,
                               const struct htab_hasher *service, uint64_t qname_hash,
                               const struct rcode_note *n)
{
    unsigned want = n->want;
    if (!want)
        return;
    struct key k = lookup_key(l, RCODE_KEY_SERVER, qname_hash);
    unsigned in;
    /* The service's entry: from the caller's memo, or through the index (and then kept there). */
    struct rcode_entry *s = n->service_memo ? (struct rcode_entry *)*n->service_memo : NULL;
    uint64_t h = 0;
    if (!s) {
        h = hash_from(service, &k);
        s = htab_get(&t->index, h, entry_eq, &k);
    }
    s = entry_join(t, &k, s, h, NULL, want, &in);
    if (s && n->service_memo)
        *n->service_memo = s;
    count(s, in, l);
    k = lookup_key(l, RCODE_KEY_CLIENT, qname_hash);
    struct rcode_entry *e = entry_get(t, &k, n->h_client, n->near_client, n->e_client);
    e = entry_join(t, &k, e, n->h_client, s, want, &in); /* before count reads `in` */
    count(e, in, l);
    k = lookup_key(l, RCODE_KEY_NAME, qname_hash);
    e = entry_get(t, &k, n->h_name, n->near_name, n->e_name);
    e = entry_join(t, &k, e, n->h_name, s, want, &in); /* before count reads `in` */
    count(e, in, l);
}

void rcode_table_note(struct rcode_table *t, const struct dns_lookup *l,
                      const struct htab_hasher *service, uint64_t qname_hash)
{
    struct rcode_note n;
    rcode_table_prepare(t, l, service, qname_hash, &n);
    rcode_table_note_prepared(t, l, service, qname_hash, &n);
}

const struct rcode_entry *rcode_view_server(const struct rcode_table *t, enum rcode_view v,
                                            const struct nt_addr *server, uint16_t port,
                                            uint8_t transport)
{
    struct key k = {RCODE_KEY_SERVER, server, port, transport, NULL, false, 0, NULL, 0};
    struct htab_hasher s;
    hash_service(&s, &k);
    const struct rcode_entry *e = htab_get(&t->index, hash_from(&s, &k), entry_eq, &k);
    return e && (e->views & (1u << v)) ? e : NULL;
}

const struct rcode_entry *rcode_view_service_of(const struct rcode_table *t, enum rcode_view v,
                                                const struct rcode_entry *e)
{
    const struct rcode_entry *s = e->kind == RCODE_KEY_SERVER ? e : e->service;
    if (!s)
        return rcode_view_server(t, v, &e->server, e->port, e->transport);
    return s->views & (1u << v) ? s : NULL;
}
