/* finding.c: building a finding: distinct sets, evidence, sentences. */
#include "detect/finding.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/htab.h"

const char *severity_name(enum severity s)
{
    static const char *const names[] = {"info", "low", "medium", "high", "critical"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

const char *confidence_name(enum confidence c)
{
    switch (c) {
    case CONF_LOW:
        return "low";
    case CONF_MEDIUM:
        return "medium";
    case CONF_HIGH:
        return "high";
    }
    return "unknown";
}

/* Lists of at least INDEX_FROM entries are searched through an index of open-addressing slots
 * (linear probing, at most half full) holding positions + 1 (0: empty), placed by the keyed hash
 * of the entry (util/htab.h), so that a busy server's finding with its 256 clients and names
 * does not compare each new lookup's client and name with all of them. Shorter lists are
 * scanned. The index is built from the list when it is first needed and dropped when
 * finding_settle sorts the lists; the lists, and so every output, are the same either way. */
#define INDEX_FROM  8
#define INDEX_SLOTS 512
_Static_assert(INDEX_SLOTS >= 2 * FINDING_MAX_CLIENTS && INDEX_SLOTS >= 2 * FINDING_MAX_NAMES &&
                   (INDEX_SLOTS & (INDEX_SLOTS - 1)) == 0 && FINDING_MAX_CLIENTS < UINT16_MAX &&
                   FINDING_MAX_NAMES < UINT16_MAX,
               "finding index slots");

struct finding_index {
    bool clients_on, names_on; /* whether each half has been built */
    uint16_t client[INDEX_SLOTS];
    uint16_t name[INDEX_SLOTS];
};

static size_t client_home(const struct nt_addr *a)
{
    struct htab_hasher s;
    htab_hasher_init(&s);
    htab_hasher_addr(&s, a);
    return (size_t)htab_hasher_end(&s) & (INDEX_SLOTS - 1);
}

static size_t name_home(const char *name)
{
    return (size_t)htab_hash(name, strlen(name)) & (INDEX_SLOTS - 1);
}

/* f's index, made on first use; NULL out of memory (the lists are then scanned). */
static struct finding_index *index_of(struct finding *f)
{
    if (!f->index)
        f->index = calloc(1, sizeof *f->index);
    return f->index;
}

/* Grows the array *arr of elem-byte entries (capacity *cap) to hold at least need of them,
 * doubling from LIST_FIRST up to max, the new entries zeroed; false out of memory (the array is
 * then as it was). */
#define LIST_FIRST 4
static bool grow(void **arr, size_t *cap, size_t need, size_t elem, size_t max)
{
    if (need <= *cap)
        return true;
    if (need > max)
        return false;
    size_t nc = *cap ? *cap : LIST_FIRST;
    while (nc < need)
        nc *= 2;
    if (nc > max)
        nc = max;
    void *na = realloc(*arr, nc * elem);
    if (!na)
        return false;
    memset((char *)na + *cap * elem, 0, (nc - *cap) * elem); /* new entries zero (tests) */
    *arr = na;
    *cap = nc;
    return true;
}

static bool room_clients(struct finding *f, size_t need)
{
    void *p = f->clients;
    bool ok = grow(&p, &f->cap_clients, need, sizeof f->clients[0], FINDING_MAX_CLIENTS);
    f->clients = p;
    return ok;
}

static bool room_names(struct finding *f, size_t need)
{
    void *p = f->names;
    bool ok = grow(&p, &f->cap_names, need, sizeof f->names[0], FINDING_MAX_NAMES);
    f->names = p;
    return ok;
}

static bool room_evidence(struct finding *f, size_t need)
{
    void *p = f->evidence;
    bool ok = grow(&p, &f->cap_evidence, need, sizeof f->evidence[0], FINDING_MAX_EVIDENCE);
    f->evidence = p;
    return ok;
}

bool finding_reserve(struct finding *f, size_t n_clients, size_t n_names, size_t n_evidence)
{
    return room_clients(f, n_clients) && room_names(f, n_names) && room_evidence(f, n_evidence);
}

/* Whether the item of keyed hash k, past a full list, was not seen before (clients_dropped,
 * names_dropped): remembered in s, up to FINDING_DROPPED_EXACT; past that (or out of memory)
 * counted as new, and *bound set. */
static bool seen_new(struct finding_seen *s, uint64_t k, bool *bound)
{
    k = k ? k : 1; /* 0 marks an empty slot */
    uint32_t mask = s->cap - 1;
    if (s->cap)
        for (uint32_t i = (uint32_t)k & mask; s->h[i]; i = (i + 1) & mask)
            if (s->h[i] == k)
                return false;
    if ((s->n + 1) * 2 > s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 64;
        uint64_t *nh = nc <= 2 * FINDING_DROPPED_EXACT ? calloc(nc, sizeof *nh) : NULL;
        if (!nh) {
            *bound = true;
            return true;
        }
        for (uint32_t i = 0; i < s->cap; i++) {
            if (!s->h[i])
                continue;
            uint32_t j = (uint32_t)s->h[i] & (nc - 1);
            while (nh[j])
                j = (j + 1) & (nc - 1);
            nh[j] = s->h[i];
        }
        free(s->h);
        s->h = nh;
        s->cap = nc;
        mask = nc - 1;
    }
    uint32_t i = (uint32_t)k & mask;
    while (s->h[i])
        i = (i + 1) & mask;
    s->h[i] = k;
    s->n++;
    return true;
}

static uint64_t addr_key(const struct nt_addr *a)
{
    struct htab_hasher hs;
    htab_hasher_init(&hs);
    htab_hasher_addr(&hs, a);
    return htab_hasher_end(&hs);
}

static uint64_t name_key(const char *name)
{
    struct htab_hasher hs;
    htab_hasher_init(&hs);
    htab_hasher_str(&hs, name);
    return htab_hasher_end(&hs);
}

void finding_add_client(struct finding *f, const struct nt_addr *a)
{
    struct finding_index *ix = f->n_clients >= INDEX_FROM ? index_of(f) : NULL;
    size_t pos = 0;
    if (ix) {
        if (!ix->clients_on) {
            for (size_t i = 0; i < f->n_clients; i++) {
                size_t p = client_home(&f->clients[i]);
                while (ix->client[p])
                    p = (p + 1) & (INDEX_SLOTS - 1);
                ix->client[p] = (uint16_t)(i + 1);
            }
            ix->clients_on = true;
        }
        for (pos = client_home(a); ix->client[pos]; pos = (pos + 1) & (INDEX_SLOTS - 1))
            if (nt_addr_eq(&f->clients[ix->client[pos] - 1], a))
                return;
    } else {
        for (size_t i = 0; i < f->n_clients; i++)
            if (nt_addr_eq(&f->clients[i], a))
                return;
    }
    if (f->n_clients < FINDING_MAX_CLIENTS && room_clients(f, f->n_clients + 1)) {
        f->clients[f->n_clients++] = *a;
        if (ix)
            ix->client[pos] = (uint16_t)f->n_clients;
    } else if (seen_new(&f->clients_seen, addr_key(a), &f->clients_dropped_bound)) {
        f->clients_dropped++;
    }
}

void finding_add_name(struct finding *f, const char *name)
{
    struct finding_index *ix = f->n_names >= INDEX_FROM ? index_of(f) : NULL;
    size_t pos = 0;
    if (ix) {
        if (!ix->names_on) {
            for (size_t i = 0; i < f->n_names; i++) {
                size_t p = name_home(f->names[i]);
                while (ix->name[p])
                    p = (p + 1) & (INDEX_SLOTS - 1);
                ix->name[p] = (uint16_t)(i + 1);
            }
            ix->names_on = true;
        }
        for (pos = name_home(name); ix->name[pos]; pos = (pos + 1) & (INDEX_SLOTS - 1))
            if (strcmp(f->names[ix->name[pos] - 1], name) == 0)
                return;
    } else {
        for (size_t i = 0; i < f->n_names; i++) /* the first byte first: no call for most */
            if (f->names[i][0] == name[0] && strcmp(f->names[i], name) == 0)
                return;
    }
    if (f->n_names >= FINDING_MAX_NAMES) {
        if (seen_new(&f->names_seen, name_key(name), &f->names_dropped_bound))
            f->names_dropped++;
        return;
    }
    char *d = room_names(f, f->n_names + 1) ? strdup(name) : NULL;
    if (d) {
        f->names[f->n_names++] = d;
        if (ix)
            ix->name[pos] = (uint16_t)f->n_names;
    }
}

/* Which of two evidence packets a full finding keeps: the one of the earlier exchange. */
static bool ev_keep_before(const struct evidence *a, const struct evidence *b)
{
    if (a->input != b->input)
        return a->input < b->input;
    if (a->order_pkt != b->order_pkt)
        return a->order_pkt < b->order_pkt;
    return a->pkt < b->pkt;
}

bool finding_add_evidence(struct finding *f, const struct evidence *ev)
{
    /* An empty evidence (the query of a lookup known only from an ICMP error's quote, see
     * struct dns_lookup's from_quote) has no packet to cite. */
    if (ev->role == 0)
        return true;
    /* The packets of the earliest exchanges are kept, whatever order lookups close in (an
     * answered lookup closes before a silent one created earlier). */
    if (f->n_evidence >= FINDING_MAX_EVIDENCE) {
        f->evidence_dropped++;
        /* The packet to drop first is found once per change of the list: later lookups mostly
         * bring packets later than all kept, which are dropped against it. */
        size_t worst = 0;
        if (f->ev_worst) {
            worst = f->ev_worst - 1;
        } else {
            for (size_t k = 1; k < f->n_evidence; k++)
                if (ev_keep_before(&f->evidence[worst], &f->evidence[k]))
                    worst = k;
            f->ev_worst = worst + 1;
        }
        if (!ev_keep_before(ev, &f->evidence[worst]))
            return true;
        evidence_fini(&f->evidence[worst]);
        memmove(&f->evidence[worst], &f->evidence[worst + 1],
                (f->n_evidence - worst - 1) * sizeof f->evidence[0]);
        f->n_evidence--;
    }
    f->ev_worst = 0; /* the list changes below */
    /* Keep capture order: evidence arrives per lookup, which may close out of order. */
    size_t i = f->n_evidence;
    while (i > 0) {
        const struct evidence *p = &f->evidence[i - 1];
        if (p->input < ev->input || (p->input == ev->input && p->pkt <= ev->pkt))
            break;
        i--;
    }
    struct evidence tmp;
    if (!room_evidence(f, f->n_evidence + 1) || !evidence_copy(&tmp, ev))
        return false;
    memmove(&f->evidence[i + 1], &f->evidence[i], (f->n_evidence - i) * sizeof f->evidence[0]);
    f->evidence[i] = tmp;
    f->n_evidence++;
    return true;
}

static int client_order(const void *a, const void *b)
{
    return nt_addr_cmp(a, b);
}

static int name_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void finding_settle(struct finding *f)
{
    free(f->index); /* positions change */
    f->index = NULL;
    if (f->n_clients > 1) /* an empty list has no array to hand qsort */
        qsort(f->clients, f->n_clients, sizeof f->clients[0], client_order);
    if (f->n_names > 1)
        qsort(f->names, f->n_names, sizeof f->names[0], name_order);
}

void finding_see_time(struct finding *f, const struct nt_time *t)
{
    nt_time_widen(&f->first_seen, &f->last_seen, t);
}

/* Counted nouns: "1 queries" is never right. Sentences are built with counts that can be 1
 * anywhere ("%" PRIu64 " queries"); every sentence passes here, where a count of exactly 1
 * followed by a plural noun (directly, or after up to two of the qualifiers below) takes the
 * singular, and "were", "are", "have" right after it agree. */
static const char *const plural_nouns[][2] = {
    {"queries", "query"},
    {"lookups", "lookup"},
    {"errors", "error"},
    {"packets", "packet"},
    {"clients", "client"},
    {"answers", "answer"},
    {"messages", "message"},
    {"servers", "server"},
    {"names", "name"},
    {"attempts", "attempt"},
    {"SYNs", "SYN"},
    {"retransmissions", "retransmission"},
    {"transmissions", "transmission"},
    {"datagrams", "datagram"},
    {"routers", "router"},
    {"responses", "response"},
    {"seconds", "second"},
    {"records", "record"},
    {"domains", "domain"},
    {"questions", "question"},
    {"keys", "key"},
    {"copies", "copy"},
    {"hosts", "host"},
    {"ports", "port"},
    {"findings", "finding"},
    {"lines", "line"},
    {"SERVFAILs", "SERVFAIL"},
    {"successes", "success"},
};
static const char *const count_qualifiers[] = {
    "distinct", "further",   "other",   "more",     "slow",   "failed", "rejected",   "refused",
    "REFUSED",  "NXDOMAIN",  "NOERROR", "SERVFAIL", "TCP",    "UDP",    "DNS",        "ICMP",
    "ICMPv6",   "truncated", "active",  "fast",     "usable", "late",   "unanswered",
};

static bool word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

static size_t word_len(const char *p)
{
    size_t n = 0;
    while (p[n] && ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
                    (p[n] >= '0' && p[n] <= '9')))
        n++;
    return n;
}

void finding_singularise(char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i + 2 < len; i++) {
        if (s[i] != '1' || s[i + 1] != ' ')
            continue;
        if (i > 0) {
            char b = s[i - 1];
            if ((b >= '0' && b <= '9') || b == '.' || b == ',' || b == ':' || b == '-' ||
                b == '/' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z'))
                continue; /* part of a number, an address, a time, a range */
        }
        char *w = s + i + 2;
        for (int q = 0; q < 3; q++) {
            size_t wl = word_len(w);
            if (wl == 0)
                break;
            bool done = false;
            for (size_t k = 0; k < sizeof plural_nouns / sizeof plural_nouns[0]; k++) {
                if (!word_is(w, wl, plural_nouns[k][0]))
                    continue;
                size_t sl = strlen(plural_nouns[k][1]);
                memcpy(w, plural_nouns[k][1], sl);
                memmove(w + sl, w + wl, strlen(w + wl) + 1);
                /* The verb right after. */
                char *v = w + sl;
                if (*v == ' ') {
                    size_t vl = word_len(v + 1);
                    const char *rep = word_is(v + 1, vl, "were")   ? "was"
                                      : word_is(v + 1, vl, "are")  ? "is"
                                      : word_is(v + 1, vl, "have") ? "has"
                                                                   : NULL;
                    if (rep) {
                        size_t rl = strlen(rep);
                        memcpy(v + 1, rep, rl);
                        memmove(v + 1 + rl, v + 1 + vl, strlen(v + 1 + vl) + 1);
                    }
                }
                len = strlen(s);
                done = true;
                break;
            }
            if (done)
                break;
            bool qual = false;
            for (size_t k = 0; k < sizeof count_qualifiers / sizeof count_qualifiers[0]; k++)
                qual = qual || word_is(w, wl, count_qualifiers[k]);
            if (!qual || w[wl] != ' ')
                break;
            w += wl + 1;
        }
    }
}

static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s) {
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        finding_singularise(s);
    }
    return s;
}

void finding_add_fact(struct finding *f, const char *fmt, ...)
{
    if (f->n_facts >= FINDING_MAX_FACTS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    if (s)
        f->facts[f->n_facts++] = s;
}

void finding_add_step(struct finding *f, const char *fmt, ...)
{
    if (f->n_next_steps >= FINDING_MAX_STEPS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    if (s)
        f->next_steps[f->n_next_steps++] = s;
}

void finding_add_cause(struct finding *f, enum confidence conf, const char *text,
                       const char *reason_fmt, ...)
{
    if (f->n_causes >= FINDING_MAX_CAUSES)
        return;
    va_list ap;
    va_start(ap, reason_fmt);
    char *reason = vformat(reason_fmt, ap);
    va_end(ap);
    char *t = strdup(text);
    if (t)
        finding_singularise(t);
    if (!reason || !t) {
        free(reason);
        free(t);
        return;
    }
    struct cause *c = &f->causes[f->n_causes++];
    c->text = t;
    c->confidence = (uint8_t)conf;
    c->reason = reason;
}

void finding_set_summary(struct finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    if (s) {
        free(f->summary);
        f->summary = s;
    }
}

void finding_rank_causes(struct finding *f)
{
    /* Insertion sort: stable, and there are at most FINDING_MAX_CAUSES. */
    for (size_t i = 1; i < f->n_causes; i++) {
        struct cause c = f->causes[i];
        size_t j = i;
        while (j > 0 && f->causes[j - 1].confidence < c.confidence) {
            f->causes[j] = f->causes[j - 1];
            j--;
        }
        f->causes[j] = c;
    }
}

/* Frees what f owns (not f). */
static void release(struct finding *f)
{
    free(f->key);
    for (size_t i = 0; i < f->n_names; i++)
        free(f->names[i]);
    for (size_t i = 0; i < f->n_evidence; i++)
        evidence_fini(&f->evidence[i]);
    free(f->summary);
    for (size_t i = 0; i < f->n_facts; i++)
        free(f->facts[i]);
    for (size_t i = 0; i < f->n_causes; i++) {
        free(f->causes[i].text);
        free(f->causes[i].reason);
    }
    for (size_t i = 0; i < f->n_next_steps; i++)
        free(f->next_steps[i]);
    if (f->priv_free)
        f->priv_free(f->priv);
    free(f->index);
}

/* The three lists' arrays (their entries released first, by release). */
static void free_lists(struct finding *f)
{
    free(f->clients_seen.h);
    free(f->names_seen.h);
    free(f->clients);
    free(f->names);
    free(f->evidence);
}

void finding_free(struct finding *f)
{
    if (!f)
        return;
    release(f);
    free_lists(f);
    free(f);
}

void finding_reset(struct finding *f)
{
    release(f);
    /* Only first-size arrays are kept: a shadow reused for key after key would otherwise end
     * up holding the largest lists any of its keys needed (measured: the busy profile's 512
     * dns.nxdomain_surge shadows back at their old 23 KiB each by 500 s of traffic). */
    struct finding keep = *f;
    free(keep.clients_seen.h);
    free(keep.names_seen.h);
    if (keep.cap_clients > LIST_FIRST) {
        free(keep.clients);
        keep.clients = NULL;
        keep.cap_clients = 0;
    }
    if (keep.cap_names > LIST_FIRST) {
        free(keep.names);
        keep.names = NULL;
        keep.cap_names = 0;
    }
    if (keep.cap_evidence > LIST_FIRST) {
        free(keep.evidence);
        keep.evidence = NULL;
        keep.cap_evidence = 0;
    }
    memset(f, 0, sizeof *f);
    f->clients = keep.clients;
    f->cap_clients = keep.cap_clients;
    f->names = keep.names;
    f->cap_names = keep.cap_names;
    f->evidence = keep.evidence;
    f->cap_evidence = keep.cap_evidence;
}

void finding_adopt(struct finding *dst, struct finding *src)
{
    const char *id = dst->id, *title = dst->title;
    uint8_t attack = dst->attack;
    uint8_t sev = dst->severity;
    char *key = dst->key;
    free_lists(dst); /* empty in a fresh finding; src's take their place */
    *dst = *src;
    dst->id = id;
    dst->title = title;
    dst->attack = attack;
    dst->severity = sev;
    dst->key = key;
    free(src);
}

void finding_cap_causes(struct finding *f, enum confidence most)
{
    for (size_t i = 0; i < f->n_causes; i++)
        if (f->causes[i].confidence > most)
            f->causes[i].confidence = (uint8_t)most;
}
