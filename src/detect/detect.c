/* detect.c: runs the registered rules over correlated lookups and ICMP errors, de-duplicates
 * their findings, and keeps per-server statistics for them. */
#include "detect/rule.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "detect/hash_bytes.h"
#include "detect/history.h"
#include "detect/rcode_table.h"
#include "detect/text.h"
#include "util/htab.h"

/* Slots of the detector's caches of service entries (a power of two). */
#define DETECT_SERVICE_CACHE 16
/* Slots of its memo of services' hasher states: 1 << DETECT_SVC_MEMO_BITS. */
#define DETECT_SVC_MEMO_BITS 6
/* Rules (by their place in detect_rules) with a slot in each service's memo. */
#define DETECT_SVC_MEMO_RULES 32
/* Refused (rule, key) pairs remembered, by their keyed 64-bit hash, to count each once (a
 * collision, about n^2 / 2^65, would count two as one). At most 1,048,576: a table of about 32
 * MiB (48 MiB while it last grows), reached only by traffic that made 1000 findings of a rule
 * and then a million more keys. */
#define REFUSED_KEYS_KEPT 1048576
/* Services refused by --bound detect.services remembered, by their keyed 64-bit hash, so that
 * each is counted once and rule_service_kept can tell one from a service never seen (past it,
 * every event of a service not remembered counts, and an unknown service may have been one). */
#define NOT_KEPT_EXACT 1048576

/* A service's keyed hash and the hasher state after its fields (service_hasher), and its
 * detector entries once found, kept for the next lookups of the service (most go to a few
 * services). */
struct svc_memo {
    bool used;
    uint8_t transport;
    uint16_t port;
    struct nt_addr server;
    struct htab_hasher state;
    uint64_t hash;
    struct server_stats *stats;        /* NULL: not found yet */
    struct service *ok;                /* NULL: not found yet */
    const struct rcode_entry *rcode;   /* its rcode table entry (struct rcode_note), or NULL */
    void *rules[DETECT_SVC_MEMO_RULES]; /* rule_service_memo */
};

struct rule_ctx {
    struct detector *d;
    const struct rule *rule;
    size_t idx; /* position in detect_rules */
};

/* The times a service (server, port, transport) worked: DNS answers other than SERVFAIL,
 * REFUSED, NOTIMP and FORMERR; completed TCP handshakes; in a history of bounded size
 * (detect/history.h) for the incident windows. */
struct service {
    struct nt_addr server;
    uint16_t port;
    uint8_t transport;
    struct history ok;
};

struct detector {
    int64_t timeout_us;
    size_t server_clients; /* detect.server_clients; 0: SERVER_CLIENTS_KEPT */
    /* --bound detect.server_clients_bytes: the bytes of every server's set of clients together;
     * past it a set that would grow is frozen at what it holds (its further clients count as
     * its overflow: "at least"), and counted. */
    size_t clients_bytes, max_clients_bytes;
    uint64_t client_sets_frozen;
    /* --bound detect.services: at most max_services services (server, port, transport) have
     * entries in services and servers below (n_kept of them: a service in both counts once);
     * the others are counted, their events in events_not_counted, and remembered in not_kept
     * (up to NOT_KEPT_EXACT). */
    size_t max_services, n_kept;
    /* The budget of the services' success histories and dns.slow's (--bound
     * detect.history_bytes, detect/history.h). */
    struct history_pool hist_pool;
    uint64_t services_not_kept, events_not_counted;
    struct htab not_kept;
    const struct correlate_stats *stats;
    /* Each kind is kept in an array in creation order (what is iterated) and indexed by a hash
     * table of the same pointers (what is looked up). */
    struct finding **findings;
    size_t n_findings, cap_findings;
    struct htab finding_index; /* by rule id and key */
    struct service **services; /* success timelines for incident windows */
    size_t n_services, cap_services;
    struct htab service_index; /* by server, port, transport */
    struct server_stats **servers;
    size_t n_servers, cap_servers;
    struct htab server_index;  /* by server, port, transport */
    struct rcode_table rcodes; /* usable and error answers, for dns.servfail and dns.refused */
    bool sorted;
    bool icmp_taken;   /* the ICMP error being dispatched was taken by a rule */
    void **states;     /* per rule (rule_state) */
    size_t *n_raised;  /* findings per rule, for the cap */
    uint64_t *refused; /* findings per rule not made because of the cap */
    uint64_t refused_total;
    /* The keyed hashes of the (rule, key) pairs refused, so that each is counted once however
     * many of its events come (up to REFUSED_KEYS_KEPT; past it every refusal counts). */
    struct htab refused_keys;
    uint64_t **bounds;           /* per rule, its bounds' values (rule->bounds order) */
    struct detect_limit *limits; /* rule_count_limit's counters */
    size_t n_limits, cap_limits;
    /* The lookup being dispatched (NULL outside detect_lookup) and the keyed hash of its
     * service, computed once for the detector and every rule (rule_service_hash). */
    const struct dns_lookup *svc_of;
    struct svc_memo *svc_memo_of; /* its memo (svc_memo below) */
    struct htab_hasher svc_state; /* after server, port and transport */
    uint64_t svc_hash;            /* its end */
    /* The keyed hash of its question's name (rule_qname_hash), made at the first asking. */
    bool qname_hashed;
    uint64_t qname_hash;
    /* Recent services' server_stats and service entries, by their keyed hash: most lookups go
     * to a few services, found then without the index (a cache: any slot may be overwritten;
     * entries live as long as the detector). */
    struct server_stats *server_cache[DETECT_SERVICE_CACHE];
    struct service *service_cache[DETECT_SERVICE_CACHE];
    /* Recent services' hasher states, by a mix of the service (util/addr.h; a cache: any slot
     * may be overwritten), so that a lookup does not hash its service again. */
    struct svc_memo svc_memo[1u << DETECT_SVC_MEMO_BITS];
    /* The rules with on_dns_lookup, in detect_rules order (n_lookup_rules of them), and those
     * of them with prefetch_dns_lookup. */
    /* States several rules share (rule_shared_state), and the TCP attempts dispatched. */
    struct {
        const char *name;
        void *p;
        void (*free_fn)(void *);
    } shared[DETECT_SHARED_STATES];
    size_t n_shared;
    uint64_t tcp_seq;
    size_t *lookup_rules, n_lookup_rules;
    size_t *prefetch_rules, n_prefetch_rules;
};

static uint64_t finding_hash(const char *id, const char *key)
{
    struct htab_hasher s;
    htab_hasher_init(&s);
    htab_hasher_str(&s, id);
    htab_hasher_str(&s, key);
    return htab_hasher_end(&s);
}

struct finding_key {
    const char *id, *key;
};

static bool finding_eq(const void *item, const void *key)
{
    const struct finding *f = item;
    const struct finding_key *k = key;
    return f->id == k->id && strcmp(f->key, k->key) == 0;
}

/* The hasher state after a service's address, port and transport: added as one run of bytes
 * (detect/hash_bytes.h), the state field-by-field calls would leave. */
static void service_hasher(struct htab_hasher *s, const struct nt_addr *a, uint16_t port,
                           uint8_t transport)
{
    uint8_t b[HB_ADDR_MAX + 3];
    size_t n = hb_addr(b, a);
    n += hb_u16(b + n, port);
    n += hb_u8(b + n, transport);
    htab_hasher_init(s);
    htab_hasher_add(s, b, n);
}

/* The keyed hash of a service: the one of the lookup being dispatched when it is that one. */
static uint64_t server_hash(const struct detector *d, const struct nt_addr *a, uint16_t port,
                            uint8_t transport)
{
    const struct dns_lookup *l = d->svc_of;
    if (l && l->server_port == port && l->transport == transport && nt_addr_eq(&l->server, a))
        return d->svc_hash;
    struct htab_hasher s;
    service_hasher(&s, a, port, transport);
    return htab_hasher_end(&s);
}

uint64_t rule_service_hash(const struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (rc->d->svc_of == l)
        return rc->d->svc_hash;
    struct htab_hasher s;
    service_hasher(&s, &l->server, l->server_port, l->transport);
    return htab_hasher_end(&s);
}

/* The keyed hash of a question name, case-folded: htab_hasher_name's value, from the words of
 * the name folded a word at a time and hashed in one call (detect/hash_bytes.h). */
static uint64_t qname_hash(const char *qname)
{
    size_t n = qname ? strlen(qname) : 0;
    uint64_t w[1 + (DNS_NAME_TEXT_MAX + 7) / 8];
    if (n > DNS_NAME_TEXT_MAX) { /* longer than any name the decoders write */
        struct htab_hasher s;
        htab_hasher_init(&s);
        htab_hasher_name(&s, qname);
        return htab_hasher_end(&s);
    }
    return htab_hash_words(w, hb_name_words(w, qname, n));
}

/* The hash of l's question name: the dispatched lookup's is made once. */
static uint64_t lookup_qname_hash(struct detector *d, const struct dns_lookup *l)
{
    if (d->svc_of != l)
        return qname_hash(l->qname);
    if (!d->qname_hashed) {
        d->qname_hash = qname_hash(l->qname);
        d->qname_hashed = true;
    }
    return d->qname_hash;
}

uint64_t rule_qname_hash(const struct rule_ctx *rc, const struct dns_lookup *l)
{
    return lookup_qname_hash(rc->d, l);
}

void **rule_service_memo(const struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (rc->d->svc_of != l || rc->idx >= DETECT_SVC_MEMO_RULES)
        return NULL;
    return &rc->d->svc_memo_of->rules[rc->idx];
}

void rule_service_hasher(const struct rule_ctx *rc, const struct dns_lookup *l,
                         struct htab_hasher *out)
{
    if (rc->d->svc_of == l)
        *out = rc->d->svc_state;
    else
        service_hasher(out, &l->server, l->server_port, l->transport);
}

struct server_key {
    const struct nt_addr *server;
    uint16_t port;
    uint8_t transport;
};

static bool server_eq(const void *item, const void *key)
{
    const struct server_stats *s = item;
    const struct server_key *k = key;
    return s->port == k->port && s->transport == k->transport && nt_addr_eq(&s->server, k->server);
}

struct detector *detect_new(int64_t timeout_us)
{
    struct detector *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->timeout_us = timeout_us;
    d->max_services = DETECT_SERVICES_KEPT;
    d->max_clients_bytes = DETECT_SERVER_CLIENTS_BYTES;
    history_pool_init(&d->hist_pool, DETECT_HISTORY_BYTES);
    rcode_table_init(&d->rcodes);
    size_t n = detect_n_rules ? detect_n_rules : 1;
    d->states = calloc(n, sizeof *d->states);
    d->n_raised = calloc(n, sizeof *d->n_raised);
    d->refused = calloc(n, sizeof *d->refused);
    d->bounds = calloc(n, sizeof *d->bounds);
    d->lookup_rules = calloc(n, sizeof *d->lookup_rules);
    d->prefetch_rules = calloc(n, sizeof *d->prefetch_rules);
    if (!d->states || !d->n_raised || !d->refused || !d->bounds || !d->lookup_rules ||
        !d->prefetch_rules) {
        detect_free(d);
        return NULL;
    }
    for (size_t i = 0; i < detect_n_rules; i++) {
        if (!detect_rules[i]->on_dns_lookup)
            continue;
        d->lookup_rules[d->n_lookup_rules++] = i;
        if (detect_rules[i]->prefetch_dns_lookup)
            d->prefetch_rules[d->n_prefetch_rules++] = i;
    }
    for (size_t i = 0; i < detect_n_rules; i++) {
        const struct rule_bound_def *b = detect_rules[i]->bounds;
        size_t nb = 0;
        while (b && b[nb].name)
            nb++;
        if (!nb)
            continue;
        if (!(d->bounds[i] = malloc(nb * sizeof **d->bounds))) {
            detect_free(d);
            return NULL;
        }
        for (size_t j = 0; j < nb; j++)
            d->bounds[i][j] = b[j].def;
    }
    return d;
}

/* Position of bound `name` in rule r's list, or -1. */
static ptrdiff_t bound_index(const struct rule *r, const char *name)
{
    for (ptrdiff_t j = 0; r->bounds && r->bounds[j].name; j++)
        if (strcmp(r->bounds[j].name, name) == 0)
            return j;
    return -1;
}

const struct rule_bound_def *detect_find_bound(const char *rule_id, const char *name,
                                               const struct rule **rule_out)
{
    for (size_t i = 0; i < detect_n_rules; i++) {
        const struct rule *r = detect_rules[i];
        if (strcmp(r->id, rule_id) != 0)
            continue;
        ptrdiff_t j = bound_index(r, name);
        if (j < 0)
            return NULL;
        if (rule_out)
            *rule_out = r;
        return &r->bounds[j];
    }
    return NULL;
}

void detect_set_limits(struct detector *d, uint64_t rcode_keys, uint64_t server_clients,
                       uint64_t services, uint64_t history_bytes, uint64_t clients_bytes)
{
    d->max_clients_bytes = clients_bytes ? (size_t)clients_bytes : DETECT_SERVER_CLIENTS_BYTES;
    d->rcodes.view_max = (size_t)rcode_keys;
    d->server_clients = (size_t)server_clients;
    d->max_services = services ? (size_t)services : DETECT_SERVICES_KEPT;
    d->hist_pool.max_bytes = history_bytes ? (size_t)history_bytes : DETECT_HISTORY_BYTES;
}

void detect_services_not_kept(const struct detector *d, uint64_t *services, uint64_t *events)
{
    *services = d->services_not_kept;
    *events = d->events_not_counted;
}

uint64_t detect_client_sets_frozen(const struct detector *d)
{
    return d->client_sets_frozen;
}

uint64_t detect_history_doublings(const struct detector *d)
{
    return d->hist_pool.doublings;
}

struct history_pool *rule_history_pool(const struct rule_ctx *rc)
{
    return &rc->d->hist_pool;
}

int detect_set_bound(struct detector *d, const char *rule_id, const char *name, uint64_t value)
{
    for (size_t i = 0; i < detect_n_rules; i++) {
        const struct rule *r = detect_rules[i];
        if (strcmp(r->id, rule_id) != 0)
            continue;
        ptrdiff_t j = bound_index(r, name);
        if (j < 0)
            return -1;
        if (value < r->bounds[j].min || value > r->bounds[j].max)
            return -2;
        d->bounds[i][j] = value;
        return 0;
    }
    return -1;
}

uint64_t rule_bound(const struct rule_ctx *rc, const char *name)
{
    ptrdiff_t j = bound_index(rc->rule, name);
    return j < 0 ? 0 : rc->d->bounds[rc->idx][j];
}

struct finding *rule_raise(struct rule_ctx *rc, const char *key)
{
    struct detector *d = rc->d;
    uint64_t h = finding_hash(rc->rule->id, key);
    struct finding_key fk = {rc->rule->id, key};
    struct finding *known = htab_get(&d->finding_index, h, finding_eq, &fk);
    if (known)
        return known;
    /* Hostile traffic (a scan of every port, every router) must not make findings without
     * bound: past the cap a rule's new keys are counted, not raised. */
    if (d->n_raised[rc->idx] >= DETECT_MAX_FINDINGS_PER_RULE) {
        if (!htab_mark_new(&d->refused_keys, h, REFUSED_KEYS_KEPT))
            return NULL; /* counted at its first refusal */
        d->refused[rc->idx]++;
        d->refused_total++;
        return NULL;
    }
    if (d->n_findings == d->cap_findings) {
        size_t nc = d->cap_findings ? d->cap_findings * 2 : 8;
        struct finding **nf = realloc(d->findings, nc * sizeof *nf);
        if (!nf)
            return NULL;
        d->findings = nf;
        d->cap_findings = nc;
    }
    struct finding *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->key = strdup(key);
    if (!f->key) {
        free(f);
        return NULL;
    }
    f->id = rc->rule->id;
    f->title = rc->rule->title;
    f->severity = rc->rule->severity;
    f->attack = rc->rule->attack;
    if (htab_insert(&d->finding_index, h, f) < 0) {
        finding_free(f);
        return NULL;
    }
    d->findings[d->n_findings++] = f;
    d->n_raised[rc->idx]++;
    d->sorted = false;
    return f;
}

struct finding *rule_next_finding(struct rule_ctx *rc, size_t *iter)
{
    struct detector *d = rc->d;
    while (*iter < d->n_findings) {
        struct finding *f = d->findings[(*iter)++];
        if (f->id == rc->rule->id)
            return f;
    }
    return NULL;
}

void rule_withdraw(struct rule_ctx *rc, struct finding *f, size_t *iter)
{
    struct detector *d = rc->d;
    if (f->id != rc->rule->id)
        return;
    for (size_t i = 0; i < d->n_findings; i++) {
        if (d->findings[i] != f)
            continue;
        htab_remove(&d->finding_index, finding_hash(f->id, f->key), f);
        memmove(&d->findings[i], &d->findings[i + 1],
                (d->n_findings - i - 1) * sizeof d->findings[0]);
        d->n_findings--;
        d->n_raised[rc->idx]--;
        if (iter && *iter > i)
            (*iter)--;
        finding_free(f);
        return;
    }
}

const struct finding *rule_other_finding(const struct rule_ctx *rc, const char *rule_id,
                                         const char *key)
{
    /* Findings are indexed by their rule's id pointer: find the registered one. */
    for (size_t i = 0; i < detect_n_rules; i++) {
        if (strcmp(detect_rules[i]->id, rule_id) != 0)
            continue;
        struct finding_key fk = {detect_rules[i]->id, key};
        return htab_get(&rc->d->finding_index, finding_hash(fk.id, key), finding_eq, &fk);
    }
    return NULL;
}

void **rule_state(struct rule_ctx *rc)
{
    return &rc->d->states[rc->idx];
}

void **rule_shared_state(struct rule_ctx *rc, const char *name, void (*free_fn)(void *))
{
    struct detector *d = rc->d;
    for (size_t i = 0; i < d->n_shared; i++)
        if (strcmp(d->shared[i].name, name) == 0)
            return &d->shared[i].p;
    if (d->n_shared == DETECT_SHARED_STATES)
        return NULL;
    d->shared[d->n_shared].name = name;
    d->shared[d->n_shared].p = NULL;
    d->shared[d->n_shared].free_fn = free_fn;
    return &d->shared[d->n_shared++].p;
}

uint64_t rule_tcp_attempt_seq(const struct rule_ctx *rc)
{
    return rc->d->tcp_seq;
}

void rule_count_limit(struct rule_ctx *rc, const char *name, uint64_t n)
{
    struct detector *d = rc->d;
    for (size_t i = 0; i < d->n_limits; i++) {
        struct detect_limit *l = &d->limits[i];
        if (l->rule == rc->rule->id && strcmp(l->name, name) == 0) {
            l->count += n;
            return;
        }
    }
    if (d->n_limits == d->cap_limits) {
        size_t nc = d->cap_limits ? d->cap_limits * 2 : 8;
        struct detect_limit *nl = realloc(d->limits, nc * sizeof *nl);
        if (!nl)
            return;
        d->limits = nl;
        d->cap_limits = nc;
    }
    d->limits[d->n_limits++] = (struct detect_limit){rc->rule->id, name, n};
}

static int limit_order(const void *a, const void *b)
{
    const struct detect_limit *x = a, *y = b;
    int c = strcmp(x->rule, y->rule);
    return c ? c : strcmp(x->name, y->name);
}

size_t detect_limits(const struct detector *d, const struct detect_limit **out)
{
    if (d->n_limits > 1)
        qsort(d->limits, d->n_limits, sizeof *d->limits, limit_order);
    *out = d->limits;
    return d->n_limits;
}

const struct correlate_stats *rule_stats(const struct rule_ctx *rc)
{
    return rc->d->stats;
}

int64_t rule_timeout_us(const struct rule_ctx *rc)
{
    return rc->d->timeout_us;
}

static bool service_eq(const void *item, const void *key)
{
    const struct service *s = item;
    const struct server_key *k = key;
    return s->port == k->port && s->transport == k->transport && nt_addr_eq(&s->server, k->server);
}

/* Whether a service new to one of the two tables (servers: true for d->server_index) may have
 * an entry there: it has one in the other table, or fewer than max_services are kept (*counts
 * is then set: the entry, once made, is a kept service more). Otherwise it is counted as not
 * kept, with its event. */
static bool service_admit(struct detector *d, uint64_t h, const struct server_key *k, bool servers,
                          bool *counts)
{
    *counts = false;
    if (servers ? htab_get(&d->service_index, h, service_eq, k) != NULL
                : htab_get(&d->server_index, h, server_eq, k) != NULL)
        return true;
    if (d->n_kept < d->max_services) {
        *counts = true;
        return true;
    }
    d->events_not_counted++;
    if (htab_mark_new(&d->not_kept, h, NOT_KEPT_EXACT)) /* a service remembered counts once */
        d->services_not_kept++;
    return false;
}

static struct server_stats *server_get(struct detector *d, const struct nt_addr *server,
                                       uint16_t port, uint8_t transport, bool create)
{
    uint64_t h = server_hash(d, server, port, transport);
    struct server_key sk = {server, port, transport};
    struct server_stats **slot = &d->server_cache[h & (DETECT_SERVICE_CACHE - 1)];
    if (*slot && server_eq(*slot, &sk))
        return *slot;
    struct server_stats *known = htab_get(&d->server_index, h, server_eq, &sk);
    if (known)
        *slot = known;
    if (known || !create)
        return known;
    bool counts;
    if (!service_admit(d, h, &sk, true, &counts))
        return NULL;
    if (d->n_servers == d->cap_servers) {
        size_t nc = d->cap_servers ? d->cap_servers * 2 : 16;
        struct server_stats **ns = realloc(d->servers, nc * sizeof *ns);
        if (!ns)
            return NULL;
        d->servers = ns;
        d->cap_servers = nc;
    }
    struct server_stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->server = *server;
    s->port = port;
    s->transport = transport;
    addr_set_init(&s->clients, d->server_clients ? d->server_clients : SERVER_CLIENTS_KEPT);
    if (htab_insert(&d->server_index, h, s) < 0) {
        free(s);
        return NULL;
    }
    d->servers[d->n_servers++] = s;
    d->n_kept += counts;
    return s;
}

static struct service *service_get(struct detector *d, const struct nt_addr *server, uint16_t port,
                                   uint8_t transport, bool create)
{
    uint64_t h = server_hash(d, server, port, transport);
    struct server_key sk = {server, port, transport};
    struct service **slot = &d->service_cache[h & (DETECT_SERVICE_CACHE - 1)];
    if (*slot && service_eq(*slot, &sk))
        return *slot;
    struct service *known = htab_get(&d->service_index, h, service_eq, &sk);
    if (known)
        *slot = known;
    if (known || !create)
        return known;
    bool counts;
    if (!service_admit(d, h, &sk, false, &counts))
        return NULL;
    if (d->n_services == d->cap_services) {
        size_t nc = d->cap_services ? d->cap_services * 2 : 16;
        struct service **ns = realloc(d->services, nc * sizeof *ns);
        if (!ns)
            return NULL;
        d->services = ns;
        d->cap_services = nc;
    }
    struct service *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->server = *server;
    s->port = port;
    s->transport = transport;
    history_init(&s->ok);
    history_pool_join(&d->hist_pool, &s->ok);
    if (htab_insert(&d->service_index, h, s) < 0) {
        free(s);
        return NULL;
    }
    d->services[d->n_services++] = s;
    d->n_kept += counts;
    return s;
}

/* Records that a service worked at time t. */
static void service_ok(struct detector *d, const struct nt_addr *server, uint16_t port,
                       uint8_t transport, const struct nt_time *t)
{
    if (t->kind == NT_TIME_NONE)
        return;
    struct service *s = service_get(d, server, port, transport, true);
    if (s)
        (void)history_add(&s->ok, t);
}

static bool service_kept(const struct detector *d, const struct nt_addr *server, uint16_t port,
                         uint8_t transport);

/* Fills a finding's incident window from its service's successes (unknown when the service was
 * not kept). */
static void fill_window(struct detector *d, struct finding *f, uint8_t transport)
{
    struct incident_window *w = &f->window;
    if (w->window_set || !f->has_server || f->first_seen.kind == NT_TIME_NONE)
        return;
    struct service *s = service_get(d, &f->server, f->port, transport, false);
    if (!s && !service_kept(d, &f->server, f->port, transport))
        w->successes_unknown = true;
    if (!s || !s->ok.total)
        return;
    history_fill_window(&s->ok, &f->first_seen, &f->last_seen, w);
}

const struct server_stats *rule_server_stats(const struct rule_ctx *rc,
                                             const struct nt_addr *server, uint16_t port,
                                             uint8_t transport)
{
    return server_get(rc->d, server, port, transport, false);
}

static bool service_kept(const struct detector *d, const struct nt_addr *server, uint16_t port,
                         uint8_t transport)
{
    if (!d->services_not_kept)
        return true;
    uint64_t h = server_hash(d, server, port, transport);
    struct server_key sk = {server, port, transport};
    if (htab_get(&d->server_index, h, server_eq, &sk) ||
        htab_get(&d->service_index, h, service_eq, &sk))
        return true;
    struct htab_iter it;
    if (htab_count(&d->not_kept) >= NOT_KEPT_EXACT)
        return false; /* it may have been one of those not remembered */
    return !htab_find(&d->not_kept, h, &it);
}

bool rule_service_kept(const struct rule_ctx *rc, const struct nt_addr *server, uint16_t port,
                       uint8_t transport)
{
    return service_kept(rc->d, server, port, transport);
}

const struct rcode_table *rule_rcode_table(const struct rule_ctx *rc)
{
    return &rc->d->rcodes;
}

/* count_server's entries of the dispatched lookup's service (its memo's once found). */
static struct server_stats *lookup_server(struct detector *d, const struct dns_lookup *l)
{
    struct svc_memo *m = d->svc_memo_of;
    if (!m->stats)
        m->stats = server_get(d, &l->server, l->server_port, l->transport, true);
    return m->stats;
}

static void lookup_service_ok(struct detector *d, const struct dns_lookup *l)
{
    if (l->answer.ts.kind == NT_TIME_NONE)
        return;
    struct svc_memo *m = d->svc_memo_of;
    if (!m->ok)
        m->ok = service_get(d, &l->server, l->server_port, l->transport, true);
    if (m->ok)
        (void)history_add(&m->ok->ok, &l->answer.ts);
}

/* Counts the dispatched lookup l (detect_lookup) at its service. */
static void count_server(struct detector *d, const struct dns_lookup *l)
{
    struct server_stats *s = lookup_server(d, l);
    if (!s)
        return;
    s->lookups++;
    s->query_packets += l->transmissions;
    nt_time_widen(&s->first_query, &s->last_query, &l->first_tx);
    switch (l->outcome) {
    case LOOKUP_ANSWERED:
        s->answered++;
        nt_time_widen(&s->first_answer, &s->last_answer, &l->answer.ts);
        if (rcode_usable(l->rcode))
            lookup_service_ok(d, l);
        break;
    case LOOKUP_ICMP_ERROR:
        s->icmp_errors++;
        break;
    case LOOKUP_UNANSWERED:
        s->unanswered++;
        break;
    case LOOKUP_CAPTURE_ENDED:
        s->capture_ended++;
        break;
    default:
        break;
    }
    /* Past the budget a set that would have to grow for a new client stays as it is (a new
     * set still gets its first 4 slots, 68 bytes: at most 4.4 MiB over the budget for 65,536
     * servers); it is counted as frozen only once a client was in fact left out. */
    size_t cap0 = s->clients.cap, max0 = s->clients.max;
    bool freeze = d->clients_bytes >= d->max_clients_bytes && cap0 >= 4 &&
                  s->clients.n < s->clients.max && (s->clients.n + 1) * 2 > cap0;
    if (freeze)
        s->clients.max = s->clients.n;
    addr_set_add(&s->clients, &l->client);
    if (freeze && !s->clients.overflow)
        s->clients.max = max0; /* a client it held: nothing left out, not frozen yet */
    else if (freeze)
        d->client_sets_frozen++;
    d->clients_bytes += (s->clients.cap - cap0) * sizeof(struct nt_addr);
    s->n_clients = s->clients.n;
    s->clients_overflow = s->clients.overflow;
}

void detect_lookup(struct detector *d, const struct dns_lookup *l)
{
    bool query = DNS_OPCODE_OF(l->query_flags) == DNS_OPCODE_QUERY;
    uint64_t salt = (uint64_t)l->server_port << 32 ^ (uint64_t)l->transport << 48;
    struct svc_memo *m =
        &d->svc_memo[nt_addr_mix(&l->server, salt) >> (64 - DETECT_SVC_MEMO_BITS)];
    if (!m->used || m->port != l->server_port || m->transport != l->transport ||
        !nt_addr_eq(&m->server, &l->server)) {
        m->used = true;
        m->server = l->server;
        m->port = l->server_port;
        m->transport = l->transport;
        service_hasher(&m->state, &l->server, l->server_port, l->transport);
        m->hash = htab_hasher_end(&m->state);
        m->stats = NULL;
        m->ok = NULL;
        m->rcode = NULL;
        memset(m->rules, 0, sizeof m->rules);
    }
    d->svc_memo_of = m;
    d->svc_state = m->state;
    d->svc_hash = m->hash;
    d->svc_of = l;
    d->qname_hashed = false;
    /* The rcode table is read only by the rules' on_finish: the lookup is noted after the rules
     * ran, its index slots asked for first and its entries a quarter of the way through the
     * rules (the slots have come by then), so that a large table's memory arrives while the
     * rules work. */
    struct rcode_note note = {.want = 0};
    uint64_t qh = 0; /* the question's hash, kept for rcode_table_note_prepared */
    if (query && l->outcome == LOOKUP_ANSWERED) {
        qh = lookup_qname_hash(d, l);
        rcode_table_prepare(&d->rcodes, l, &d->svc_state, qh, &note);
        note.service_memo = &m->rcode;
    }
    for (size_t k = 0; k < d->n_prefetch_rules; k++) {
        size_t i = d->prefetch_rules[k];
        const struct rule *r = detect_rules[i];
        if (query || r->all_opcodes) {
            struct rule_ctx rc = {d, r, i};
            r->prefetch_dns_lookup(&rc, l);
        }
    }
    if (query)
        count_server(d, l);
    size_t quarter = d->n_lookup_rules / 4;
    for (size_t k = 0; k < d->n_lookup_rules; k++) {
        if (k == quarter)
            rcode_table_prefetch_entries(&d->rcodes, &note);
        size_t i = d->lookup_rules[k];
        const struct rule *r = detect_rules[i];
        if (query || r->all_opcodes) {
            struct rule_ctx rc = {d, r, i};
            r->on_dns_lookup(&rc, l);
        }
    }
    if (note.want)
        rcode_table_note_prepared(&d->rcodes, l, &d->svc_state, qh, &note);
    d->svc_of = NULL;
}

bool detect_icmp_error(struct detector *d, const struct icmp_event *e)
{
    d->icmp_taken = false;
    for (size_t i = 0; i < detect_n_rules; i++) {
        struct rule_ctx rc = {d, detect_rules[i], i};
        if (detect_rules[i]->on_icmp_error)
            detect_rules[i]->on_icmp_error(&rc, e);
    }
    return d->icmp_taken || e->lookup || e->attempt;
}

void rule_take_icmp(struct rule_ctx *rc)
{
    rc->d->icmp_taken = true;
}

void detect_stray_response(struct detector *d, const struct stray_response *r)
{
    for (size_t i = 0; i < detect_n_rules; i++) {
        struct rule_ctx rc = {d, detect_rules[i], i};
        if (detect_rules[i]->on_stray_response)
            detect_rules[i]->on_stray_response(&rc, r);
    }
}

void detect_dns_malformed(struct detector *d, const struct dns_malformed *m)
{
    for (size_t i = 0; i < detect_n_rules; i++) {
        struct rule_ctx rc = {d, detect_rules[i], i};
        if (detect_rules[i]->on_dns_malformed)
            detect_rules[i]->on_dns_malformed(&rc, m);
    }
}

void detect_tcp_attempt(struct detector *d, const struct tcp_attempt *t)
{
    d->tcp_seq++;
    if (t->outcome == TCP_ESTABLISHED)
        service_ok(d, &t->server, t->server_port, 6, &t->reply.ts);
    for (size_t i = 0; i < detect_n_rules; i++) {
        struct rule_ctx rc = {d, detect_rules[i], i};
        if (detect_rules[i]->on_tcp_attempt)
            detect_rules[i]->on_tcp_attempt(&rc, t);
    }
}

void detect_finish(struct detector *d, const struct correlate_stats *stats)
{
    d->stats = stats;
    /* The rules' sentences name clients and query names from these lists: fix their order
     * first, so that no sentence depends on the order lookups closed in. */
    for (size_t i = 0; i < d->n_findings; i++)
        finding_settle(d->findings[i]);
    for (size_t i = 0; i < detect_n_rules; i++) {
        struct rule_ctx rc = {d, detect_rules[i], i};
        if (detect_rules[i]->on_finish)
            detect_rules[i]->on_finish(&rc);
    }
    for (size_t i = 0; i < d->n_findings; i++) {
        struct finding *f = d->findings[i];
        const char *p = f->transport ? finding_transport_name(f) : "";
        uint8_t transport = strcmp(p, "tcp") == 0 ? 6 : strcmp(p, "udp") == 0 ? 17 : 0;
        if (transport)
            fill_window(d, f, transport);
        if (transport && f->has_server && !service_kept(d, &f->server, f->port, transport)) {
            char srv[NT_ADDR_FMT_MAX];
            text_addr(&f->server, srv, sizeof srv);
            finding_add_fact(f,
                             "nettriage did not keep its figures for %s on %s port %u: more than "
                             "%zu services were seen (--bound detect.services). That service's "
                             "%s beyond this finding, and its successes before and after the "
                             "failures, are unknown here; sentences that would need them are "
                             "left out.",
                             srv, transport == 6 ? "TCP" : "UDP", f->port, d->max_services,
                             f->unit_one && strcmp(f->unit_one, "connection attempt") == 0
                                 ? "other connections"
                                 : "lookups, answers and clients");
        }
        finding_settle(f);
    }
}

static int finding_order(const void *a, const void *b)
{
    const struct finding *x = *(struct finding *const *)a, *y = *(struct finding *const *)b;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    int c = nt_time_cmp(&x->first_seen, &y->first_seen);
    if (c)
        return c;
    c = strcmp(x->id, y->id);
    return c ? c : strcmp(x->key, y->key);
}

size_t detect_findings(const struct detector *d, struct finding *const **out)
{
    struct detector *m = (struct detector *)d;
    if (!m->sorted && m->n_findings > 1)
        qsort(m->findings, m->n_findings, sizeof *m->findings, finding_order);
    m->sorted = true;
    *out = d->findings;
    return d->n_findings;
}

uint64_t detect_findings_omitted(const struct detector *d)
{
    return d->refused_total;
}

void detect_free(struct detector *d)
{
    if (!d)
        return;
    for (size_t i = 0; d->states && i < detect_n_rules; i++)
        if (d->states[i] && detect_rules[i]->free_state)
            detect_rules[i]->free_state(d->states[i]);
    for (size_t i = 0; i < d->n_shared; i++)
        if (d->shared[i].p && d->shared[i].free_fn)
            d->shared[i].free_fn(d->shared[i].p);
    free(d->states);
    free(d->n_raised);
    free(d->refused);
    htab_fini(&d->refused_keys);
    htab_fini(&d->not_kept);
    for (size_t i = 0; d->bounds && i < detect_n_rules; i++)
        free(d->bounds[i]);
    free(d->bounds);
    free(d->lookup_rules);
    free(d->prefetch_rules);
    free(d->limits);
    for (size_t i = 0; i < d->n_findings; i++)
        finding_free(d->findings[i]);
    free(d->findings);
    for (size_t i = 0; i < d->n_servers; i++) {
        addr_set_fini(&d->servers[i]->clients);
        free(d->servers[i]);
    }
    free(d->servers);
    for (size_t i = 0; i < d->n_services; i++) {
        history_fini(&d->services[i]->ok);
        free(d->services[i]);
    }
    free(d->services);
    history_pool_fini(&d->hist_pool); /* after every history in it: the rules' and the services' */
    htab_fini(&d->service_index);
    htab_fini(&d->server_index);
    rcode_table_free(&d->rcodes);
    htab_fini(&d->finding_index);
    free(d);
}
