/* dns_nxdomain_surge.c: many NXDOMAIN answers, grouped by parent domain (random subdomains of
 * one domain, or a name that does not exist asked again and again) and by client (names under
 * many different domains that look generated). */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/nx_name.h"
#include "detect/rule.h"
#include "detect/text.h"
#include "util/dnstext.h"
#include "util/htab.h"

/* Per parent domain at one server: fires with at least MIN_NX NXDOMAIN answers under it when
 * they are at least half of its lookups or come at RATE per second or more. The names are
 * "random" when at least MIN_UNIQUE distinct names made up most of them and their leftmost
 * labels average ENTROPY bits per character over LABEL_LEN characters or more; "repeated"
 * when fewer than MIN_UNIQUE distinct names were asked. */
#define MIN_NX     20
#define MIN_UNIQUE 20
#define SHARE      0.5
#define RATE       10.0
#define ENTROPY    3.0
#define LABEL_LEN  8.0
/* Per client: names under at least DGA_PARENTS different parent domains that did not exist,
 * at least MIN_NX of them and DGA_SHARE of the client's lookups, whose parent labels average
 * DGA_ENTROPY bits per character over DGA_LEN characters or more. */
#define DGA_PARENTS 10
#define DGA_SHARE   0.25
#define DGA_ENTROPY 2.8
#define DGA_LEN     7.0
/* Bounds: tables of parents and clients with NXDOMAIN answers (past them the entry with the
 * fewest answers is replaced, space-saving style), distinct names and parents counted
 * exactly up to these caps (past them "at least"), and hashed counters for all lookups.
 * Entries are found by their exact key (server, port, transport and parent; client). Distinct
 * names and parents are counted by their keyed 64-bit hashes (util/htab.h: a collision needs
 * the run's key, and by chance is about n^2 / 2^65). The count-min sketches are approximate
 * by design and use a fixed hash (FNV-1a), so that their estimates, which reach the report,
 * are the same in every run. */
/* The four table bounds are options (--bound dns.nxdomain_surge.NAME=N, struct bounds below):
 * "domains" and "clients" entries, and per entry "names" and "parents" counted exactly. */
#define SKETCH_ROWS 4
#define SKETCH_COLS 4096
/* Buckets of the tables' presence counts, and slots of the service prefix cache. */
#define PRESENT_BUCKETS 4096
#define PREFIX_SLOTS    64
#define CLI_MEMO_BITS   14
#define CLI_MEMO_SLOTS  (1u << CLI_MEMO_BITS)

/* A bounded set of 64-bit keyed hashes: its first HSET_SMALL members in an array, the others in
 * a table holding the hash alone (every item is the same marker). Most entries are replaced
 * before they have more than a name or two (a busy resolver's clients replace each other
 * thousands of times), so most sets never allocate. */
#define HSET_SMALL 4
struct hset {
    struct htab t;
    size_t n, max;
    bool overflow;
    uint64_t small[HSET_SMALL]; /* members 0 to min(n, HSET_SMALL) - 1 */
};

static char hset_member;

static bool hset_add(struct hset *s, uint64_t h)
{
    size_t k = s->n < HSET_SMALL ? s->n : HSET_SMALL;
    for (size_t i = 0; i < k; i++)
        if (s->small[i] == h)
            return false;
    struct htab_iter it;
    if (htab_find(&s->t, h, &it))
        return false;
    if (s->n >= s->max) {
        /* Full: still answer membership, count nothing new. */
        s->overflow = true;
        return false;
    }
    if (s->n < HSET_SMALL) {
        s->small[s->n++] = h;
        return true;
    }
    if (htab_insert(&s->t, h, &hset_member) < 0) {
        s->overflow = true;
        return false;
    }
    s->n++;
    return true;
}

/* ASCII lower case, as tolower() in the C locale (nettriage never sets another), inline: it
 * runs for every byte of every name. */
static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* The keyed hash of a name, case-folded (0x20-randomised names are one name). */
static uint64_t name_hash(const char *name)
{
    char low[DNS_NAME_TEXT_MAX];
    size_t n = 0;
    for (; name[n] && n < sizeof low; n++)
        low[n] = (char)lower((unsigned char)name[n]);
    struct htab_hasher s;
    htab_hasher_init(&s);
    htab_hasher_add(&s, low, n);
    if (name[n])
        htab_hasher_str(&s, name + n); /* longer than any wire name: the rest as it is */
    return htab_hasher_end(&s);
}

static uint64_t fnv64(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ lower((unsigned char)*s)) * 1099511628211ull;
    return h;
}

/* fnv64 of a text known to hold no upper-case letter (a parent as on_lookup writes it), where
 * lower() changes nothing. */
static uint64_t fnv64_lowered(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

#define FNV_SEED 14695981039346656037ull

/* Labels of a presentation-form name: decodes \DDD and \X escapes and lower-cases, so that
 * 0x20-randomised names group together. Returns the number of labels (at most max); each
 * label is written into lab[i] (NUL-terminated, at most 63 bytes + NUL kept). */
#define MAX_LABELS 128
static size_t split_labels(const char *name, char lab[][64], size_t max)
{
    size_t n = 0, o = 0;
    bool open = false;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.') {
            if (open && n < max) {
                lab[n][o] = '\0';
                n++;
            }
            open = false;
            o = 0;
            continue;
        }
        if (c == '\\' && p[1]) {
            if (isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
                isdigit((unsigned char)p[3])) {
                c = (unsigned char)((p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0'));
                p += 3;
            } else {
                c = (unsigned char)*++p;
            }
        }
        if (n >= max)
            continue;
        open = true;
        if (o < 63)
            lab[n][o++] = (char)lower(c);
    }
    if (open && n < max) {
        lab[n][o] = '\0';
        n++;
    }
    return n;
}

/* The label of a plain name (nx_name_scan) at start, len bytes, lower-cased into out, as
 * split_labels writes it. */
static void label_copy(const char *name, size_t start, size_t len, char out[64])
{
    for (size_t j = 0; j < len; j++)
        out[j] = (char)lower((unsigned char)name[start + j]);
    out[len] = '\0';
}

/* Shannon entropy of a label in bits per character. Only the bytes present are counted and
 * visited, in increasing byte value as a walk over all 256 counters would: the same terms summed
 * in the same order, so the same bits. */
static double entropy(const char *s)
{
    uint64_t seen[4] = {0, 0, 0, 0};
    unsigned cnt[256]; /* written for a byte when it is first seen */
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
        uint64_t bit = 1ull << (*p & 63);
        if (!(seen[*p >> 6] & bit)) {
            seen[*p >> 6] |= bit;
            cnt[*p] = 0;
        }
        cnt[*p]++;
    }
    if (n == 0)
        return 0;
    double h = 0;
    for (int w = 0; w < 4; w++) {
        for (uint64_t m = seen[w]; m; m &= m - 1) {
            double pr = (double)cnt[w * 64 + __builtin_ctzll(m)] / (double)n;
            h -= pr * log2(pr);
        }
    }
    return h;
}

/* The parent ("registered-ish") domain of a name: its last two labels, or its last three when
 * the top-level label has two letters (a country code) and the second-level label at most
 * three characters (co.uk, com.au, ac.jp); a name with no more labels than that is its own
 * parent. parent_labels is how many labels the parent has, so the label left of it is
 * lab[n - parent_labels - 1] and the leftmost label lab[0]. */
static size_t parent_labels(char lab[][64], size_t n)
{
    if (n >= 3 && strlen(lab[n - 1]) == 2 && strlen(lab[n - 2]) <= 3)
        return 3;
    return n >= 2 ? 2 : n;
}

struct nx_entry {
    bool used;
    char *label;      /* parent domain (domains) */
    size_t label_cap; /* label's bytes, kept for the next key when the entry is replaced */
    uint64_t key;  /* sketch hash of server, port, transport and parent (domains) or client */
    uint64_t hash; /* keyed hash of the same, in the index */
    struct nt_addr server, client;
    uint16_t port;
    uint8_t transport;
    uint64_t nx, nx_tx;
    struct hset names;   /* distinct NXDOMAIN names */
    struct hset parents; /* clients: distinct parents of their NXDOMAIN names */
    double sum_h, sum_len;
    uint64_t n_measured; /* names (domains) or parents (clients) measured */
    struct nt_time first_nx, last_nx;
    /* Successes (NOERROR answers) for the window. */
    bool has_before, has_after;
    struct nt_time ok_before, ok_after;
    uint64_t ok_during, ok_pending;
    struct finding *shadow; /* clients, names, evidence; moved into the finding at the end */
};

/* What on_lookup needs of a lookup's name and addresses before it counts: the parent as text,
 * both sketch hashes, and where the labels an NXDOMAIN answer measures are. */
struct name_keys {
    bool plain;      /* a plain name (nx_name_scan): the labels are read from the name */
    size_t n, pl;    /* labels, of which the parent's */
    uint64_t dk, ck; /* sketch hashes: service and parent (dom_prefix), client (cli_key) */
    /* The parent's text: a plain name's is written only when on_lookup needs it (name_parent),
     * from the labels sc found. */
    bool parent_made;
    struct nx_name sc; /* a plain name: where its labels are (nx_name_scan) */
    char parent[DNS_NAME_TEXT_MAX];
};

/* Each table is indexed by a hash table (util/htab.h) over its entries, so the lookup of every
 * answered query does not scan the whole table; the arrays keep their order for on_finish. */
struct state {
    struct nx_entry *dom, *cli; /* dom_max and cli_max entries */
    size_t dom_max, cli_max, names_kept, parents_kept;
    struct htab dom_ix, cli_ix;
    uint64_t dom_replaced, cli_replaced;
    size_t dom_used, cli_used; /* entries in use in each table */
    /* Full tables: every entry before this one has more than one NXDOMAIN answer (an entry's
     * count only grows until it is replaced), so the replacement scan starts here. */
    size_t dom_low, cli_low;
    /* Count-min sketches of all lookups per parent (with server) and per client, and the
     * newest NOERROR answer per hashed parent and client (for the window's start). */
    uint32_t cms_dom[SKETCH_ROWS][SKETCH_COLS], cms_cli[SKETCH_ROWS][SKETCH_COLS];
    struct nt_time ok_dom[SKETCH_COLS], ok_cli[SKETCH_COLS];
    /* How many entries of each table have a sketch hash in each bucket: a lookup whose bucket
     * is empty has no entry, and most successes are looked up no further. */
    uint16_t dom_present[PRESENT_BUCKETS], cli_present[PRESENT_BUCKETS];
    /* The sketch hash of the text "<server>|<port>|<transport>|" of recent services, so that
     * the address is not formatted for every lookup (a cache: any slot may be overwritten). */
    struct svc_prefix {
        bool used;
        struct nt_addr server;
        uint16_t port;
        uint8_t transport;
        uint64_t fnv;
    } prefix[PREFIX_SLOTS];
    struct cli_memo {
        bool used;
        struct nt_addr client;
        uint64_t fnv;
    } cli_memo[CLI_MEMO_SLOTS]; /* the same for clients' sketch hashes (cli_key) */
    /* The keys prefetch made for the lookup pre_of (NULL: none), for its on_lookup. */
    const struct dns_lookup *pre_of;
    struct name_keys pre;
};

static void entry_clear(struct nx_entry *e)
{
    free(e->label);
    htab_fini(&e->names.t);
    htab_fini(&e->parents.t);
    finding_free(e->shadow);
    memset(e, 0, sizeof *e);
}

/* Empties a replaced entry for a new key: as entry_clear, but its label's buffer stays for the
 * new key's and its shadow finding is handed back (emptied by the caller). */
static struct finding *entry_recycle(struct nx_entry *e)
{
    char *label = e->label;
    size_t cap = e->label_cap;
    struct finding *shadow = e->shadow;
    htab_fini(&e->names.t);
    htab_fini(&e->parents.t);
    memset(e, 0, sizeof *e);
    e->label = label;
    e->label_cap = cap;
    return shadow;
}

/* Puts the text parent in e's label, in its buffer when it fits; false out of memory. */
static bool entry_label(struct nx_entry *e, const char *parent)
{
    size_t n = strlen(parent) + 1;
    if (n > e->label_cap) {
        char *p = malloc(n);
        if (!p)
            return false;
        free(e->label);
        e->label = p;
        e->label_cap = n;
    }
    memcpy(e->label, parent, n);
    return true;
}

static void state_free(void *p)
{
    struct state *g_state = p;
    if (!g_state)
        return;
    for (size_t i = 0; g_state->dom && i < g_state->dom_max; i++)
        entry_clear(&g_state->dom[i]);
    for (size_t i = 0; g_state->cli && i < g_state->cli_max; i++)
        entry_clear(&g_state->cli[i]);
    free(g_state->dom);
    free(g_state->cli);
    htab_fini(&g_state->dom_ix);
    htab_fini(&g_state->cli_ix);
    free(g_state);
}

/* The rule's per-detector state (rule_state), made on first use; the detector frees it. */
static struct state *state_get(struct rule_ctx *rc)
{
    void **slot = rule_state(rc);
    if (*slot)
        return *slot;
    struct state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->dom_max = (size_t)rule_bound(rc, "domains");
    st->cli_max = (size_t)rule_bound(rc, "clients");
    st->names_kept = (size_t)rule_bound(rc, "names");
    st->parents_kept = (size_t)rule_bound(rc, "parents");
    st->dom = calloc(st->dom_max, sizeof *st->dom);
    st->cli = calloc(st->cli_max, sizeof *st->cli);
    if (!st->dom || !st->cli) {
        state_free(st);
        return NULL;
    }
    *slot = st;
    return st;
}

static uint32_t cms_add(uint32_t m[SKETCH_ROWS][SKETCH_COLS], uint64_t h)
{
    uint32_t est = UINT32_MAX;
    for (int r = 0; r < SKETCH_ROWS; r++) {
        uint32_t *c = &m[r][(h >> (r * 16)) % SKETCH_COLS];
        if (*c < UINT32_MAX)
            (*c)++;
        if (*c < est)
            est = *c;
    }
    return est;
}

static uint32_t cms_get(uint32_t m[SKETCH_ROWS][SKETCH_COLS], uint64_t h)
{
    uint32_t est = UINT32_MAX;
    for (int r = 0; r < SKETCH_ROWS; r++) {
        uint32_t c = m[r][(h >> (r * 16)) % SKETCH_COLS];
        if (c < est)
            est = c;
    }
    return est;
}

/* An entry's key: a parent at a service (domains) or a client (clients). */
struct nx_key {
    bool domain;
    const struct nt_addr *server; /* domains */
    uint16_t port;
    uint8_t transport;
    const char *parent;
    const struct nt_addr *client; /* clients */
    uint64_t sketch;              /* name_keys' dk or ck */
    /* Domains: the hasher state after the service's fields (rule_service_hasher), or NULL. */
    const struct htab_hasher *service;
};

static uint64_t nx_hash(const struct nx_key *k)
{
    struct htab_hasher s;
    if (k->domain && k->service) {
        s = *k->service;
        htab_hasher_str(&s, k->parent);
        return htab_hasher_end(&s);
    }
    htab_hasher_init(&s);
    if (k->domain) {
        htab_hasher_addr(&s, k->server);
        htab_hasher_u16(&s, k->port);
        htab_hasher_u8(&s, k->transport);
        htab_hasher_str(&s, k->parent);
    } else {
        htab_hasher_addr(&s, k->client);
    }
    return htab_hasher_end(&s);
}

static bool nx_eq(const void *item, const void *key)
{
    const struct nx_entry *e = item;
    const struct nx_key *k = key;
    if (!k->domain)
        return nt_addr_eq(&e->client, k->client);
    return e->port == k->port && e->transport == k->transport &&
           nt_addr_eq(&e->server, k->server) && strcmp(e->label, k->parent) == 0;
}

/* Finds the entry for key, or takes a free one, or replaces the one with the fewest
 * NXDOMAIN answers (create only). A new entry holds its key; the rest is for the caller. */
static struct nx_entry *entry_find(struct nx_entry *tab, struct htab *ix, size_t n,
                                   uint16_t *present, const struct nx_key *key, bool create,
                                   uint64_t *replaced, size_t *used, size_t *low)
{
    if (!create && !present[key->sketch % PRESENT_BUCKETS])
        return NULL; /* no entry has this sketch hash, so none has this key */
    uint64_t h = nx_hash(key);
    struct nx_entry *known = htab_get(ix, h, nx_eq, key);
    if (known || !create)
        return known;
    size_t free_i = n, min_i = 0;
    if (*used < n) {
        /* Some entry is free: the first one is taken (the fewest answers are not needed). */
        for (size_t i = 0; i < n && free_i == n; i++)
            if (!tab[i].used)
                free_i = i;
        *low = 0; /* the new entry may come before it */
    } else {
        /* Full: the first entry with the fewest answers. Every entry has at least one (entry_nx
         * follows its creation), so the first with one is that entry; none before *low has. */
        size_t i = *low < n ? *low : n;
        while (i < n && tab[i].nx > 1)
            i++;
        if (i < n) {
            min_i = i;
        } else {
            for (i = 0; i < n && tab[min_i].nx > 1; i++)
                if (tab[i].nx < tab[min_i].nx)
                    min_i = i;
        }
        *low = min_i; /* every entry before it has more than one answer, as the new one will */
    }
    size_t i = free_i;
    struct finding *reuse = NULL;
    if (i == n) {
        i = min_i;
        htab_remove(ix, tab[i].hash, &tab[i]);
        present[tab[i].key % PRESENT_BUCKETS]--;
        /* The replaced entry's shadow is emptied for the new one, its lists' arrays kept: a
         * busy resolver's clients replace each other here thousands of times. */
        reuse = entry_recycle(&tab[i]);
        (*used)--;
        if (reuse)
            finding_reset(reuse);
        (*replaced)++;
    }
    struct nx_entry *e = &tab[i];
    e->shadow = reuse ? reuse : calloc(1, sizeof *e->shadow);
    if (key->domain && e->shadow && !entry_label(e, key->parent)) {
        finding_free(e->shadow); /* a reused one keeps its small lists */
        e->shadow = NULL;
    }
    if (!e->shadow || htab_insert(ix, h, e) < 0) {
        entry_clear(e);
        return NULL;
    }
    e->used = true;
    (*used)++;
    e->key = key->sketch;
    e->hash = h;
    present[e->key % PRESENT_BUCKETS]++;
    if (key->domain) {
        e->server = *key->server;
        e->port = key->port;
        e->transport = key->transport;
    } else {
        e->client = *key->client;
    }
    return e;
}

/* A NOERROR answer at time t for an entry's parent or client: the window's successes. */
static void entry_ok(struct nx_entry *e, const struct nt_time *t)
{
    if (nt_time_cmp(t, &e->last_nx) > 0) {
        e->ok_pending++;
        if (!e->has_after || nt_time_cmp(t, &e->ok_after) < 0) {
            e->has_after = true;
            e->ok_after = *t;
        }
    } else if (nt_time_cmp(t, &e->first_nx) > 0) {
        e->ok_during++;
    } else if (!e->has_before || nt_time_cmp(t, &e->ok_before) > 0) {
        e->has_before = true;
        e->ok_before = *t;
    }
}

static void entry_nx(struct nx_entry *e, const struct dns_lookup *l, const char *name,
                     const struct nt_time *t)
{
    e->nx++;
    e->nx_tx += l->transmissions;
    if (e->first_nx.kind == NT_TIME_NONE || nt_time_cmp(t, &e->first_nx) < 0) {
        if (e->first_nx.kind == NT_TIME_NONE) {
            e->first_nx = *t;
            e->last_nx = *t;
        }
        e->first_nx = *t;
    }
    if (nt_time_cmp(t, &e->last_nx) > 0) {
        /* Successes seen after the old end now fall inside the window. */
        e->last_nx = *t;
        if (e->has_after && nt_time_cmp(&e->ok_after, t) < 0) {
            e->ok_during += e->ok_pending;
            e->ok_pending = 0;
            e->has_after = false;
        }
    }
    struct finding *f = e->shadow;
    finding_add_client(f, &l->client);
    finding_add_name(f, name);
    f->lookups++;
    f->query_packets += l->transmissions;
    f->error_packets++;
    f->packets = f->query_packets + f->error_packets;
    finding_add_evidence(f, &l->query);
    finding_add_evidence(f, &l->answer);
    finding_see_time(f, &l->first_tx);
    finding_see_time(f, &l->answer.ts);
}

/* The sketch hash of the text "<server>|<port>|<transport>|" (without printf). */
static uint64_t service_fnv(const struct dns_lookup *l)
{
    char a[NT_ADDR_FMT_MAX + 16], tail[32];
    size_t n = nt_addr_format(&l->server, a, sizeof a);
    char *p = text_put_bar_uint(tail, l->server_port);
    p = text_put_bar_uint(p, l->transport);
    *p++ = '|';
    /* Cut as snprintf into the rest of a would (only an interned host name that long can). */
    size_t t = (size_t)(p - tail), room = sizeof a - n - 1;
    memcpy(a + n, tail, t < room ? t : room);
    a[n + (t < room ? t : room)] = '\0';
    return fnv64(a, FNV_SEED);
}

/* The sketch hash of the text "<server>|<port>|<transport>|" of l's service, from the cache of
 * services when there. */
static uint64_t dom_prefix(const struct rule_ctx *rc, struct state *st, const struct dns_lookup *l)
{
    /* The slot from the service's keyed hash, which the detector made for this lookup. */
    struct svc_prefix *p = &st->prefix[rule_service_hash(rc, l) % PREFIX_SLOTS];
    if (!p->used || p->port != l->server_port || p->transport != l->transport ||
        !nt_addr_eq(&p->server, &l->server)) {
        p->used = true;
        p->server = l->server;
        p->port = l->server_port;
        p->transport = l->transport;
        p->fnv = service_fnv(l);
    }
    return p->fnv;
}

/* fnv64 of an IPv4 address's dotted text, as nt_addr_format writes it (decimal bytes without
 * leading zeros), without writing it. */
static uint64_t fnv64_v4(const uint8_t *b, uint64_t h)
{
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (i)
            h = (h ^ '.') * 1099511628211ull;
        if (v >= 100)
            h = (h ^ ('0' + v / 100)) * 1099511628211ull;
        if (v >= 10)
            h = (h ^ ('0' + v / 10 % 10)) * 1099511628211ull;
        h = (h ^ ('0' + v % 10)) * 1099511628211ull;
    }
    return h;
}

/* The sketch hash of the client's address text: an IPv4 address's straight from its bytes,
 * others' from the cache of clients when there (a client asks many names: formatting an IPv6
 * address costs more than the rest of the hash). */
static uint64_t cli_key(struct state *st, const struct dns_lookup *l)
{
    const struct nt_addr *c = &l->client;
    if (c->family == NT_AF_INET)
        return fnv64_v4(c->a, FNV_SEED ^ 0x9e3779b97f4a7c15ull);
    /* Only the slot depends on this mix: a crafted collision costs a formatting, no more. */
    struct cli_memo *m = &st->cli_memo[nt_addr_mix(c, 0) >> (64 - CLI_MEMO_BITS)];
    if (m->used && nt_addr_eq(&m->client, c))
        return m->fnv;
    char a[NT_ADDR_FMT_MAX];
    nt_addr_format(c, a, sizeof a);
    m->used = true;
    m->client = *c;
    m->fnv = fnv64(a, FNV_SEED ^ 0x9e3779b97f4a7c15ull);
    return m->fnv;
}

enum { KEYS_MADE, KEYS_ROOT, KEYS_NOT_PLAIN };

/* Fills k for l (not the root, which has no parent: KEYS_ROOT). A name that is not plain has
 * its labels split into lab, or with lab NULL is left (KEYS_NOT_PLAIN). */
static int name_keys(const struct rule_ctx *rc, struct state *st, const struct dns_lookup *l,
                     struct name_keys *k, char (*lab)[64])
{
    size_t n, pl, o = 0;
    char *parent = k->parent;
    struct nx_name *sc = &k->sc;
    k->plain = nx_name_scan(l->qname, MAX_LABELS, sc);
    if (k->plain) {
        /* The parent straight from the name, lower-cased and hashed as it is written (the labels
         * themselves are copied only for an NXDOMAIN answer, in on_lookup). */
        if (sc->n == 0)
            return KEYS_ROOT;
        n = sc->n;
        pl = sc->pl;
        k->parent_made = false;
        k->dk = nx_name_fnv(l->qname, sc, dom_prefix(rc, st, l));
    } else {
        if (!lab)
            return KEYS_NOT_PLAIN;
        n = split_labels(l->qname, lab, MAX_LABELS);
        if (n == 0)
            return KEYS_ROOT;
        pl = parent_labels(lab, n);
        for (size_t i = n - pl; i < n && o + 66 < sizeof k->parent; i++) {
            /* The label as the key and as text, in presentation form (nt_label_byte). */
            for (const char *p = lab[i]; *p && o + 6 < sizeof k->parent; p++)
                o = (size_t)(nt_label_byte(parent + o, (uint8_t)*p) - parent);
            parent[o++] = '.';
        }
        parent[o] = '\0';
        k->parent_made = true;
        /* The labels are lower-cased. */
        k->dk = fnv64_lowered(parent, dom_prefix(rc, st, l));
    }
    k->n = n;
    k->pl = pl;
    k->ck = cli_key(st, l);
    return KEYS_MADE;
}

/* The parent's text of k's name (l's). */
static const char *name_parent(const struct dns_lookup *l, struct name_keys *k)
{
    if (!k->parent_made) {
        nx_name_parent(l->qname, &k->sc, k->parent);
        k->parent_made = true;
    }
    return k->parent;
}

/* Makes the lookup's keys ahead (for a plain name) and asks for the sketch counters and
 * buckets on_lookup will touch: 16 random cache lines of the 300 KiB state. */
static void prefetch(struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (!l->has_question || !l->qname)
        return;
    struct state *st = state_get(rc);
    if (!st || name_keys(rc, st, l, &st->pre, NULL) != KEYS_MADE)
        return;
    st->pre_of = l;
    uint64_t dk = st->pre.dk, ck = st->pre.ck;
    for (int r = 0; r < SKETCH_ROWS; r++) {
        __builtin_prefetch(&st->cms_dom[r][(dk >> (r * 16)) % SKETCH_COLS]);
        __builtin_prefetch(&st->cms_cli[r][(ck >> (r * 16)) % SKETCH_COLS]);
    }
    __builtin_prefetch(&st->ok_dom[dk % SKETCH_COLS]);
    __builtin_prefetch(&st->ok_cli[ck % SKETCH_COLS]);
    __builtin_prefetch(&st->dom_present[dk % PRESENT_BUCKETS]);
    __builtin_prefetch(&st->cli_present[ck % PRESENT_BUCKETS]);
}

static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (!l->has_question || !l->qname)
        return;
    struct state *st = state_get(rc);
    if (!st)
        return;
    char lab[MAX_LABELS][64];
    struct name_keys made;
    struct name_keys *k = &st->pre;
    if (st->pre_of != l) { /* not made ahead (prefetch leaves names that are not plain) */
        if (name_keys(rc, st, l, &made, lab) == KEYS_ROOT)
            return; /* the root */
        k = &made;
    }
    st->pre_of = NULL;
    size_t n = k->n, pl = k->pl;
    bool plain = k->plain;
    const char *parent = NULL; /* written when needed: most lookups need only its hash */
    uint64_t dk = k->dk, ck = k->ck;
    struct htab_hasher service;
    rule_service_hasher(rc, l, &service);
    struct nx_key dkey = {true, &l->server, l->server_port, l->transport, parent,
                          NULL, dk,         &service};
    struct nx_key ckey = {false, NULL, 0, 0, NULL, &l->client, ck, NULL};
    cms_add(st->cms_dom, dk);
    cms_add(st->cms_cli, ck);
    bool answered = l->outcome == LOOKUP_ANSWERED && l->answer.ts.kind != NT_TIME_NONE;
    if (!answered)
        return;
    const struct nt_time *t = &l->answer.ts;
    if (l->rcode == DNS_RCODE_NOERROR) {
        struct nt_time *od = &st->ok_dom[dk % SKETCH_COLS], *oc = &st->ok_cli[ck % SKETCH_COLS];
        if (od->kind == NT_TIME_NONE || nt_time_cmp(t, od) > 0)
            *od = *t;
        if (oc->kind == NT_TIME_NONE || nt_time_cmp(t, oc) > 0)
            *oc = *t;
        struct nx_entry *e = NULL;
        if (st->dom_present[dk % PRESENT_BUCKETS]) { /* else no entry has this key */
            dkey.parent = name_parent(l, k);
            e = entry_find(st->dom, &st->dom_ix, st->dom_max, st->dom_present, &dkey, false, NULL,
                           NULL, NULL);
        }
        if (e)
            entry_ok(e, t);
        e = entry_find(st->cli, &st->cli_ix, st->cli_max, st->cli_present, &ckey, false, NULL,
                       NULL, NULL);
        if (e)
            entry_ok(e, t);
        return;
    }
    if (l->rcode != DNS_RCODE_NXDOMAIN)
        return;
    parent = dkey.parent = name_parent(l, k);
    char name[DNS_NAME_TEXT_MAX + 32];
    text_query_name(l, name, sizeof name);
    uint64_t nk = name_hash(l->qname);
    if (plain) { /* the labels read below: the leftmost and the one left of the parent */
        label_copy(l->qname, k->sc.start0, k->sc.len0, lab[0]);
        label_copy(l->qname, k->sc.startp, k->sc.lenp, lab[n - pl]);
    }

    struct nx_entry *d = entry_find(st->dom, &st->dom_ix, st->dom_max, st->dom_present, &dkey, true,
                                    &st->dom_replaced, &st->dom_used, &st->dom_low);
    if (d) {
        if (d->nx == 0) {
            d->names.max = st->names_kept;
            const struct nt_time *ok = &st->ok_dom[dk % SKETCH_COLS];
            if (ok->kind == t->kind && nt_time_cmp(ok, t) < 0) {
                d->has_before = true;
                d->ok_before = *ok;
            }
        }
        /* The leftmost label of names below the parent; the parent itself adds nothing. */
        if (hset_add(&d->names, nk) && n > pl) {
            d->sum_h += entropy(lab[0]);
            d->sum_len += (double)strlen(lab[0]);
            d->n_measured++;
        }
        entry_nx(d, l, name, t);
    }
    struct nx_entry *c = entry_find(st->cli, &st->cli_ix, st->cli_max, st->cli_present, &ckey, true,
                                    &st->cli_replaced, &st->cli_used, &st->cli_low);
    if (c) {
        if (c->nx == 0) {
            c->names.max = st->names_kept;
            c->parents.max = st->parents_kept;
            c->server = l->server;
            c->port = l->server_port;
            c->transport = l->transport;
            const struct nt_time *ok = &st->ok_cli[ck % SKETCH_COLS];
            if (ok->kind == t->kind && nt_time_cmp(ok, t) < 0) {
                c->has_before = true;
                c->ok_before = *ok;
            }
        }
        hset_add(&c->names, nk);
        /* The label left of the parent's suffix: the part a generator makes up. */
        const char *gen = lab[n - pl];
        if (hset_add(&c->parents, name_hash(parent))) {
            c->sum_h += entropy(gen);
            c->sum_len += (double)strlen(gen);
            c->n_measured++;
        }
        entry_nx(c, l, name, t);
    }
}

/* Moves what the shadow gathered into the registered finding dst (fresh from rule_raise). */
static void adopt(struct finding *dst, struct nx_entry *e)
{
    finding_adopt(dst, e->shadow);
    e->shadow = NULL;
    dst->window.window_set = true;
    dst->window.has_ok_before = e->has_before;
    dst->window.ok_before = e->ok_before;
    dst->window.has_ok_after = e->has_after;
    dst->window.ok_after = e->ok_after;
    dst->window.ok_during = e->ok_during;
    dst->first_seen = e->first_nx;
    dst->last_seen = e->last_nx;
}

static double rate_of(const struct nx_entry *e)
{
    int64_t span = nt_time_diff_us(&e->first_nx, &e->last_nx);
    return span >= 1000000 ? (double)e->nx / ((double)span / 1e6) : 0.0;
}

enum pattern { PAT_RANDOM, PAT_REPEATED, PAT_MANY };

static void window_facts(struct finding *f, const struct nx_entry *e, const char *what)
{
    char t[NT_TIME_FMT_MAX];
    if (e->has_before) {
        text_time(&e->ok_before, t, sizeof t);
        finding_add_fact(f, "The last NOERROR answer for %s before the first NXDOMAIN came at %s.",
                         what, t);
    }
    if (e->has_after) {
        text_time(&e->ok_after, t, sizeof t);
        finding_add_fact(f, "The first NOERROR answer for %s after the last NXDOMAIN came at %s.",
                         what, t);
    }
    if (e->ok_during)
        finding_add_fact(f, "%" PRIu64 " NOERROR answers for %s came in between.", e->ok_during,
                         what);
}

static void explain_domain(struct rule_ctx *rc, struct state *st, struct nx_entry *e,
                           struct finding *f, enum pattern pat, uint64_t total)
{
    (void)rc;
    (void)st;
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8], par_cmd[DNS_NAME_TEXT_MAX * 2];
    text_addr(&e->server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    char par[DNS_NAME_TEXT_MAX];
    {
        /* The parent as text: no backtick can be in it (escaped as \096 above). */
        snprintf(par, sizeof par, "%s", e->label);
    }
    text_shell_word(par, par_cmd, sizeof par_cmd);
    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], clients[512], names[512];
    text_time(&e->first_nx, t1, sizeof t1);
    text_time(&e->last_nx, t2, sizeof t2);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names > 5 ? 5 : f->n_names,
                   f->names_dropped + (f->n_names > 5 ? f->n_names - 5 : 0), names, sizeof names);
    uint64_t uniq = e->names.n;
    double h = e->n_measured ? e->sum_h / (double)e->n_measured : 0;
    double len = e->n_measured ? e->sum_len / (double)e->n_measured : 0;
    double share = total ? 100.0 * (double)e->nx / (double)total : 100.0;
    double rate = rate_of(e);
    char rate_text[64];
    if (rate > 0)
        snprintf(rate_text, sizeof rate_text, "%.1f per second", rate);
    else
        snprintf(rate_text, sizeof rate_text, "all within a second");
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    const char *kind = pat == PAT_RANDOM ? "random-looking names that do not exist"
                       : pat == PAT_REPEATED
                           ? "the same few names that do not exist, again and again"
                           : "many different names that do not exist";
    finding_set_summary(f,
                        "The DNS server %s answered NXDOMAIN (no such name) %" PRIu64
                        " times for names under %s, %s: %" PRIu64 "%s distinct %s from %" PRIu64
                        " %s (%s), between %s and %s, %.0f %% of the lookups under %s.",
                        srv, e->nx, par, kind, uniq, e->names.overflow ? "+" : "",
                        uniq == 1 ? "name" : "names", n_clients,
                        n_clients == 1 ? "client" : "clients", clients, t1, t2, share, par);
    finding_add_fact(f,
                     "%" PRIu64 " NXDOMAIN answers under %s out of about %" PRIu64
                     " lookups under it at this server (%.0f %%)%s%s.",
                     e->nx, par, total, share, rate > 0 ? ", " : "",
                     rate > 0 ? "at the rate below" : "");
    if (rate > 0)
        finding_add_fact(f, "They came at %.1f per second between %s and %s.", rate, t1, t2);
    finding_add_fact(f,
                     "%" PRIu64 "%s distinct names; their leftmost labels average %.1f characters "
                     "and %.2f bits of Shannon entropy per character (random letters and digits "
                     "give about 3 to 4 bits over 10 to 16 characters, words and host names "
                     "less). Examples: %s.",
                     uniq, e->names.overflow ? " or more" : "", len, h, names);
    window_facts(f, e, par);
    if (pat == PAT_RANDOM) {
        finding_add_cause(f, n_clients > 1 ? CONF_HIGH : CONF_MEDIUM,
                          "A random-subdomain (\"water torture\") attack on the domain: queries "
                          "for names that cannot be cached, meant to exhaust the domain's "
                          "authoritative servers and the resolvers in between.",
                          "%" PRIu64 " distinct names under one parent, %.2f bits per character "
                          "over %.1f characters, all answered NXDOMAIN, from %" PRIu64 " %s.",
                          uniq, h, len, n_clients, n_clients == 1 ? "client" : "clients");
        finding_add_cause(f, n_clients == 1 ? CONF_MEDIUM : CONF_LOW,
                          "Malware or a tunnelling tool on the client encoding data or beacons in "
                          "random labels under a domain it controls (DNS tunnelling).",
                          "A single source of many random labels under one domain fits a tunnel "
                          "as well as an attack; the client's process list or EDR data "
                          "separates them, and a tunnel's domain usually has NOERROR answers "
                          "too (%" PRIu64 " in the window here).",
                          e->ok_during);
        finding_add_cause(f, CONF_LOW,
                          "A legitimate program that makes random names on purpose (a "
                          "resolver's probe, a CDN or anti-virus lookup scheme).",
                          "Such programs send a few such names, not %" PRIu64 ".", e->nx);
    } else if (pat == PAT_REPEATED) {
        finding_add_cause(f, CONF_HIGH,
                          "A misconfiguration: a program, a service or a search-domain setting "
                          "keeps asking for a name that does not exist (a typo, a removed "
                          "record, a stale host name).",
                          "Only %" PRIu64 " distinct %s made up the %" PRIu64
                          " NXDOMAIN answers, asked again and again.",
                          uniq, uniq == 1 ? "name" : "names", e->nx);
        finding_add_cause(f, CONF_LOW,
                          "A record that should exist is missing from the zone (deleted or "
                          "never published).",
                          "The zone's data, not the capture, tells whether %s should exist.",
                          f->n_names ? f->names[0] : par);
    } else {
        finding_add_cause(f, CONF_MEDIUM,
                          "A misconfiguration that makes up names: a search-domain list appended "
                          "to other names, or clients asking for a zone that was removed.",
                          "%" PRIu64 " distinct names, but their labels look like words (%.2f "
                          "bits per character over %.1f characters), not random.",
                          uniq, h, len);
        finding_add_cause(f, CONF_MEDIUM,
                          "Subdomain enumeration: a scanner trying names from a word list under "
                          "the domain.",
                          "Many distinct word-like names from %" PRIu64 " %s; a scanner sends "
                          "them fast (%s here).",
                          n_clients, n_clients == 1 ? "client" : "clients", rate_text);
    }
    finding_rank_causes(f);
    const char *qname = text_first_query_name(f);
    char qcmd[DNS_NAME_TEXT_MAX * 3];
    if (qname) {
        text_shell_query(qname, qcmd, sizeof qcmd);
        finding_add_step(f, "Check one name by hand: `dig @%s %s`.", srv_cmd, qcmd);
    }
    finding_add_step(f,
                     "Count the names per client in the capture: `tcpdump -nn -r CAPTURE port "
                     "%u | grep -F -e %s | awk '{print $3}' | sort | uniq -c | sort -rn`.",
                     e->port, par_cmd);
    if (pat == PAT_RANDOM)
        finding_add_step(f,
                         "On the resolver %s, rate-limit NXDOMAIN answers per client and zone "
                         "(unbound's `ratelimit` and `ip-ratelimit`, BIND's RRL `nxdomains-per-"
                         "second`) and find the process that sends the names on the clients.",
                         srv);
    else
        finding_add_step(f,
                         "Find the program asking for these names on the clients (%s): its "
                         "configuration, the resolver's search list (`resolvectl status` or "
                         "/etc/resolv.conf).",
                         clients);
}

static void explain_client(struct nx_entry *e, struct finding *f, uint64_t total)
{
    char cl[NT_ADDR_FMT_MAX], srv[NT_ADDR_FMT_MAX], names[512];
    text_addr(&e->client, cl, sizeof cl);
    text_addr(&e->server, srv, sizeof srv);
    text_name_list(f->names, f->n_names > 5 ? 5 : f->n_names,
                   f->names_dropped + (f->n_names > 5 ? f->n_names - 5 : 0), names, sizeof names);
    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX];
    text_time(&e->first_nx, t1, sizeof t1);
    text_time(&e->last_nx, t2, sizeof t2);
    double h = e->n_measured ? e->sum_h / (double)e->n_measured : 0;
    double len = e->n_measured ? e->sum_len / (double)e->n_measured : 0;
    double share = total ? 100.0 * (double)e->nx / (double)total : 100.0;
    finding_set_summary(f,
                        "The client %s asked for %" PRIu64 "%s names under %" PRIu64
                        "%s different domains that do not exist (%" PRIu64
                        " NXDOMAIN answers, %.0f %% of its lookups, between %s and %s). The "
                        "domains look generated: %.2f bits per character over %.1f characters.",
                        cl, e->names.n, e->names.overflow ? "+" : "", e->parents.n,
                        e->parents.overflow ? "+" : "", e->nx, share, t1, t2, h, len);
    finding_add_fact(f, "Examples: %s (asked through %s).", names, srv);
    finding_add_fact(f,
                     "%" PRIu64 " NXDOMAIN answers of about %" PRIu64 " lookups from %s, under "
                     "%" PRIu64 " distinct parent domains.",
                     e->nx, total, cl, e->parents.n);
    window_facts(f, e, cl);
    finding_add_cause(f, CONF_HIGH,
                      "Malware on the client using a domain generation algorithm (DGA) to find "
                      "its command-and-control server: it tries many generated domains, of "
                      "which only the few its operator registered exist.",
                      "%" PRIu64 " distinct domains with %.2f bits of entropy per character "
                      "over %.1f characters, %.0f %% of the client's lookups failing.",
                      e->parents.n, h, len, share);
    finding_add_cause(f, CONF_LOW,
                      "A program checking many made-up domains on purpose (a browser's probe "
                      "for DNS hijacking, a security scanner).",
                      "Browsers send three such probes, not %" PRIu64 "; the client's process "
                      "list separates the two.",
                      e->nx);
    finding_rank_causes(f);
    char cl_cmd[NT_ADDR_FMT_MAX * 2 + 8];
    text_shell_word(cl, cl_cmd, sizeof cl_cmd);
    finding_add_step(f,
                     "Isolate %s and find the process making the lookups (EDR, `ss -up`, the "
                     "resolver's query log for that client).",
                     cl);
    finding_add_step(f,
                     "List the client's failed names in the capture: `tcpdump -nn -r CAPTURE "
                     "port %u and host %s | grep -F NXDomain`; look for the one name that "
                     "resolved among them (the live command-and-control domain).",
                     e->port, cl_cmd);
}

static void on_finish(struct rule_ctx *rc)
{
    struct state *st = state_get(rc);
    if (!st)
        return;
    /* What the tables' bounds left out: entries replaced by newer ones (their answers are lost
     * to the rule), and entries whose distinct names or parents went past the exact count. */
    if (st->dom_replaced)
        rule_count_limit(rc, "domains_replaced", st->dom_replaced);
    if (st->cli_replaced)
        rule_count_limit(rc, "clients_replaced", st->cli_replaced);
    uint64_t capped = 0;
    for (size_t i = 0; i < st->dom_max; i++)
        capped += st->dom[i].used && st->dom[i].names.overflow;
    for (size_t i = 0; i < st->cli_max; i++)
        capped += st->cli[i].used && (st->cli[i].names.overflow || st->cli[i].parents.overflow);
    if (capped)
        rule_count_limit(rc, "entries_counted_at_least", capped);
    for (size_t i = 0; i < st->dom_max; i++) {
        struct nx_entry *e = &st->dom[i];
        if (!e->used || e->nx < MIN_NX)
            continue;
        uint64_t total = cms_get(st->cms_dom, e->key);
        if (total < e->nx)
            total = e->nx;
        double share = (double)e->nx / (double)total;
        if (share < SHARE && rate_of(e) < RATE)
            continue;
        double h = e->n_measured ? e->sum_h / (double)e->n_measured : 0;
        double len = e->n_measured ? e->sum_len / (double)e->n_measured : 0;
        enum pattern pat;
        if (e->names.n < MIN_UNIQUE)
            pat = PAT_REPEATED;
        else if (h >= ENTROPY && len >= LABEL_LEN && e->names.n * 2 >= e->nx)
            pat = PAT_RANDOM;
        else
            pat = PAT_MANY;
        char key[NT_ADDR_FMT_MAX + DNS_NAME_TEXT_MAX + 32], addr[NT_ADDR_FMT_MAX];
        nt_addr_format(&e->server, addr, sizeof addr);
        snprintf(key, sizeof key, "domain|%s|%u|%u|%s", addr, e->transport, e->port, e->label);
        struct finding *f = rule_raise(rc, key);
        if (!f)
            continue;
        adopt(f, e);
        f->transport = e->transport == 6 ? 6 : 17;
        f->port = e->port;
        f->service = "DNS";
        f->has_server = true;
        f->server = e->server;
        if (pat == PAT_RANDOM) {
            f->severity = SEV_MEDIUM;
            f->attack = ATTACK_T1499_002;
        } else {
            f->severity = SEV_LOW;
            f->attack = ATTACK_NONE;
        }
        explain_domain(rc, st, e, f, pat, total);
    }
    for (size_t i = 0; i < st->cli_max; i++) {
        struct nx_entry *e = &st->cli[i];
        if (!e->used || e->nx < MIN_NX || e->parents.n < DGA_PARENTS)
            continue;
        uint64_t total = cms_get(st->cms_cli, e->key);
        if (total < e->nx)
            total = e->nx;
        double h = e->n_measured ? e->sum_h / (double)e->n_measured : 0;
        double len = e->n_measured ? e->sum_len / (double)e->n_measured : 0;
        if ((double)e->nx / (double)total < DGA_SHARE || h < DGA_ENTROPY || len < DGA_LEN)
            continue;
        char key[NT_ADDR_FMT_MAX + 16];
        char addr[NT_ADDR_FMT_MAX];
        nt_addr_format(&e->client, addr, sizeof addr);
        snprintf(key, sizeof key, "client|%s", addr);
        struct finding *f = rule_raise(rc, key);
        if (!f)
            continue;
        adopt(f, e);
        f->transport = e->transport == 6 ? 6 : 17;
        f->port = e->port;
        f->service = "DNS";
        f->has_server = true;
        f->server = e->server;
        f->severity = SEV_HIGH;
        f->attack = ATTACK_T1568_002;
        explain_client(e, f, total);
    }
}

static const struct rule_bound_def bounds[] = {
    {"domains", 256, 1, 16384,
     "parent domains (per server) with NXDOMAIN answers followed; past it the one with the "
     "fewest answers is replaced"},
    {"clients", 256, 1, 16384,
     "clients with NXDOMAIN answers followed; past it the one with the fewest is replaced"},
    {"names", 1024, 1, 1048576, "distinct NXDOMAIN names counted exactly per parent or client"},
    {"parents", 256, 1, 1048576, "distinct parents counted exactly per client"},
    {NULL, 0, 0, 0, NULL},
};

const struct rule rule_dns_nxdomain_surge = {
    .id = "dns.nxdomain_surge",
    .severity = SEV_MEDIUM,
    .title = "Surge of NXDOMAIN answers",
    .on_dns_lookup = on_lookup,
    .prefetch_dns_lookup = prefetch,
    .on_finish = on_finish,
    .free_state = state_free,
    .bounds = bounds,
};
