/* dns_flood.c: a DNS query rate far above the rate before it at one server, measured in
 * one-second bins of queries, with the failures seen during the flood seconds and outside
 * them. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/server_table.h"
#include "detect/text.h"
#include "util/htab.h"

/* A second is a flood second when it holds at least max(MIN_PEAK, FACTOR x baseline) new
 * lookups, where the baseline is the median (the upper one for an even count) of the server's
 * last CALM_W calm active seconds before it: seconds with at least one lookup that were not
 * flood seconds themselves. Flood seconds never enter the window, so during a long surge the
 * baseline stays the rate before the surge, not the surge. The rule fires for a server with at
 * least one flood second.
 *
 * No baseline, no flood: a second is judged only once MIN_BASE_BINS calm seconds came before
 * it. A capture taken entirely during a surge, and a server busy at the same rate from its first
 * second to its last (a busy resolver at 5,000 queries per second is busy, not flooded), give no
 * finding: only a rise against the server's own earlier rate is evidence of a flood. The
 * median, not the minimum, of the window is the baseline, so the partial first second of a
 * capture (which holds a fraction of a busy second) does not make a floor that the next full
 * second would exceed ten times. */
#define MIN_PEAK      100
#define FACTOR        10
#define CALM_W        60
#define MIN_BASE_BINS 2
/* An answer slower than this in a flood second counts as a failure to keep up. */
#define SLOW_US 1000000
/* Servers measured. The lookups to servers past it are left out and counted: the distinct
 * servers in the limit counter "servers_ignored", their lookups in "lookups_ignored"
 * (rule_count_limit; each ignored server is remembered by its keyed hash, 16 bytes, so that
 * it is counted once: detect/server_table.h). A measured server costs about 3 KiB, plus about 1 KiB
 * per second with lookups among its last RING seconds, plus its histogram of busy seconds (up to 40
 * KiB for a flooded server): about 300 MiB at worst with every server busy every second, a few MiB
 * otherwise. */
/* Open one-second bins per server: lookups reach the rules up to the late window (120 s)
 * after their query, roughly in order; a lookup older than the ring closes it and starts
 * again (another input, another clock). Bins are allocated for the seconds that have
 * lookups. */
#define RING 256
/* Distinct sources per second: a 1024-bit linear-counting sketch, plus the first few
 * addresses kept to name them. */
#define SKETCH_WORDS 16
#define BIN_CLIENTS  16
#define TOP_NAMES    16

struct bin {
    bool used;
    int64_t sec;
    uint8_t kind;
    uint32_t lookups, tx, failed, errors, slow, answered;
    struct nt_time first, last;
    uint64_t sketch[SKETCH_WORDS];
    struct nt_addr cl[BIN_CLIENTS];
    uint8_t n_cl;
    struct evidence ev[2]; /* the first query, the first failed lookup's query */
    bool has_ev[2];
};

/* Sums over seconds (flood seconds, or the others). */
struct sums {
    uint64_t bins, lookups, tx, failed, errors, slow, answered;
    struct nt_time first, last;
};

/* A counted question, kept as the first lookup of it had it (name, type, whether it had one)
 * and formatted ("example.com. A") only for a server that is reported: counters are replaced
 * for most lookups of a busy server, so formatting each would cost more than all the rest. */
#define TOP_INLINE 64
struct top {
    bool used;
    bool has_question, from_quote;
    uint16_t qtype;
    char *heap_qname;              /* a name longer than the inline room (owned), or NULL */
    char inline_qname[TOP_INLINE]; /* the name otherwise ("" for no name) */
    char *name;     /* the formatted question, made in on_finish for a reported server (owned) */
    uint64_t count; /* srv's top_count, copied in on_finish */
};

struct srv {
    struct server_key k; /* first: the table's item head */
    uint64_t lookups;
    struct bin *ring[RING]; /* NULL: no lookup in that second */
    int64_t head;           /* newest second in the ring */
    uint8_t head_kind;
    bool any;
    uint32_t calm[CALM_W]; /* lookups of the last calm seconds (a ring) */
    size_t n_calm, calm_at;
    struct sums in, out;       /* flood seconds, other seconds */
    struct bin peak;           /* the busiest flood second */
    uint64_t peak_base;        /* the baseline it was judged against */
    struct top top[TOP_NAMES]; /* Misra-Gries counters over the server's lookups */
    /* The counters' question hashes, counts and use (bit i: top[i].used), apart from their
     * questions: every lookup compares its hash with all of them and, past 16 questions, lowers
     * every count, which reads 2 cache lines here instead of the 16 of the questions. */
    uint64_t top_hash[TOP_NAMES], top_count[TOP_NAMES];
    uint32_t top_used;
};
_Static_assert(TOP_NAMES <= 32, "top_used holds a bit per counter");

struct state {
    struct server_table servers; /* struct srv, in the order of their first lookup */
};

/* Rules have no per-detector state of their own (rule.h); this one keeps its table here, tied
 * to the detector it belongs to, and frees it in on_finish. */

static void bin_clear(struct bin *b)
{
    for (int k = 0; k < 2; k++)
        if (b->has_ev[k])
            evidence_fini(&b->ev[k]);
    memset(b, 0, sizeof *b);
}

static void srv_free(void *item)
{
    struct srv *s = item;
    for (size_t i = 0; i < RING; i++) {
        if (s->ring[i]) {
            bin_clear(s->ring[i]);
            free(s->ring[i]);
        }
    }
    bin_clear(&s->peak);
    for (size_t i = 0; i < TOP_NAMES; i++) {
        free(s->top[i].heap_qname);
        free(s->top[i].name);
    }
}

static void state_free(void *p)
{
    struct state *g_state = p;
    if (!g_state)
        return;
    server_table_fini(&g_state->servers, srv_free);
    free(g_state);
}

/* The rule's per-detector state (rule_state), made on first use; the detector frees it. */
static struct state *state_get(struct rule_ctx *rc)
{
    void **slot = rule_state(rc);
    if (!*slot) {
        struct state *st = calloc(1, sizeof *st);
        if (st)
            server_table_init(&st->servers, sizeof(struct srv), (size_t)rule_bound(rc, "servers"),
                              "servers_ignored", "lookups_ignored");
        *slot = st;
    }
    return *slot;
}

static unsigned sketch_zeros(const uint64_t *sk)
{
    unsigned ones = 0;
    for (int i = 0; i < SKETCH_WORDS; i++)
        ones += (unsigned)__builtin_popcountll(sk[i]);
    return SKETCH_WORDS * 64 - ones;
}

/* Distinct sources of a second: exact when all were kept, else the sketch's estimate. */
static uint64_t bin_sources(const struct bin *b)
{
    if (b->n_cl < BIN_CLIENTS)
        return b->n_cl;
    double m = SKETCH_WORDS * 64;
    unsigned z = sketch_zeros(b->sketch);
    double est = z ? -m * log((double)z / m) : m * log(m);
    uint64_t e = (uint64_t)(est + 0.5);
    return e < b->n_cl ? b->n_cl : e;
}

static void sum_bin(struct sums *x, const struct bin *b)
{
    x->bins++;
    x->lookups += b->lookups;
    x->tx += b->tx;
    x->failed += b->failed;
    x->errors += b->errors;
    x->slow += b->slow;
    x->answered += b->answered;
    nt_time_widen(&x->first, &x->last, &b->first);
    nt_time_widen(&x->first, &x->last, &b->last);
}

static int u32_order(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The baseline: the upper median of the calm window (0 with *known false when too few calm
 * seconds came before). */
static uint64_t calm_baseline(const struct srv *s, bool *known)
{
    *known = s->n_calm >= MIN_BASE_BINS;
    if (!*known)
        return 0;
    uint32_t v[CALM_W];
    memcpy(v, s->calm, s->n_calm * sizeof v[0]);
    qsort(v, s->n_calm, sizeof v[0], u32_order);
    return v[s->n_calm / 2];
}

static uint64_t threshold_of(uint64_t base)
{
    uint64_t thr = (uint64_t)FACTOR * base;
    return thr < MIN_PEAK ? MIN_PEAK : thr;
}

/* Judges a closed second against the calm seconds before it, sums it into the flood or the
 * other seconds, and frees it. Seconds close in time order (ring_flush included). */
static void bin_close(struct srv *s, struct bin *b)
{
    bool known;
    uint64_t base = calm_baseline(s, &known);
    if (known && b->lookups >= threshold_of(base)) {
        sum_bin(&s->in, b);
        if (b->lookups > s->peak.lookups) {
            bin_clear(&s->peak);
            s->peak = *b; /* takes the evidence over */
            s->peak_base = base;
            free(b);
            return;
        }
    } else {
        sum_bin(&s->out, b);
        s->calm[s->calm_at] = b->lookups;
        s->calm_at = (s->calm_at + 1) % CALM_W;
        if (s->n_calm < CALM_W)
            s->n_calm++;
    }
    bin_clear(b);
    free(b);
}

/* Closes the bin in ring slot i, if any. */
static void slot_close(struct srv *s, size_t i)
{
    if (s->ring[i]) {
        bin_close(s, s->ring[i]);
        s->ring[i] = NULL;
    }
}

/* Closes every open second, oldest first. */
static void ring_flush(struct srv *s)
{
    if (s->any)
        for (int64_t sec = s->head - RING + 1; sec <= s->head; sec++)
            slot_close(s, (size_t)((uint64_t)sec % RING));
    s->any = false;
}

static struct bin *bin_for(struct srv *s, const struct nt_time *t)
{
    int64_t sec = t->sec;
    if (s->any && (t->kind != s->head_kind || sec <= s->head - RING || sec > s->head + RING)) {
        ring_flush(s); /* another clock or a jump: start again */
    }
    if (!s->any) {
        s->any = true;
        s->head = sec;
        s->head_kind = t->kind;
    }
    while (sec > s->head) {
        s->head++;
        slot_close(s, (size_t)((uint64_t)s->head % RING));
    }
    size_t i = (size_t)((uint64_t)sec % RING);
    if (s->ring[i] && s->ring[i]->sec != sec)
        slot_close(s, i);
    if (!s->ring[i]) {
        struct bin *b = calloc(1, sizeof *b);
        if (!b)
            return NULL;
        b->used = true;
        b->sec = sec;
        b->kind = t->kind;
        s->ring[i] = b;
    }
    return s->ring[i];
}

/* The question's identity among the top names: the keyed hash of its name (rule_qname_hash,
 * made once per lookup for every rule) with its type mixed in by an odd multiplier, which keeps
 * the types of one name apart; a collision of two names needs the run's key (by chance about
 * n^2 / 2^65). Most lookups thus format and hash nothing here. */
static uint64_t question_hash(const struct rule_ctx *rc, const struct dns_lookup *l)
{
    return rule_qname_hash(rc, l) ^ (uint64_t)l->qtype * 0x9e3779b97f4a7c15ull;
}

/* Keeps the question of l in the free counter t; false out of memory. */
static bool top_set(struct top *t, const struct dns_lookup *l)
{
    const char *q = l->qname ? l->qname : "";
    size_t n = strlen(q);
    if (n < TOP_INLINE) {
        memcpy(t->inline_qname, q, n + 1);
    } else if (!(t->heap_qname = strdup(q))) {
        return false;
    }
    t->used = true;
    t->has_question = l->has_question;
    t->from_quote = l->from_quote;
    t->qtype = l->qtype;
    return true;
}

static void top_drop(struct top *t)
{
    free(t->heap_qname);
    t->heap_qname = NULL;
    t->used = false;
}

static void top_add(const struct rule_ctx *rc, struct srv *s, const struct dns_lookup *l)
{
    uint64_t h = question_hash(rc, l);
    size_t empty = TOP_NAMES;
    for (size_t i = 0; i < TOP_NAMES; i++) {
        bool used = s->top_used >> i & 1;
        if (used && s->top_hash[i] == h) {
            s->top_count[i]++;
            return;
        }
        if (!used && empty == TOP_NAMES)
            empty = i;
    }
    if (empty < TOP_NAMES) {
        if (top_set(&s->top[empty], l)) {
            s->top_hash[empty] = h;
            s->top_count[empty] = 1;
            s->top_used |= 1u << empty;
        }
        return;
    }
    for (size_t i = 0; i < TOP_NAMES; i++) {
        if (--s->top_count[i] == 0) {
            top_drop(&s->top[i]);
            s->top_used &= ~(1u << i);
        }
    }
}

/* Formats the kept questions of a reported server (name NULL when out of memory). */
static void top_format(struct srv *s)
{
    for (size_t i = 0; i < TOP_NAMES; i++) {
        struct top *t = &s->top[i];
        t->count = s->top_count[i];
        if (!t->used || t->name)
            continue;
        struct dns_lookup q;
        memset(&q, 0, sizeof q);
        q.has_question = t->has_question;
        q.from_quote = t->from_quote;
        q.qtype = t->qtype;
        q.qname = t->heap_qname ? t->heap_qname : t->inline_qname;
        char name[DNS_NAME_TEXT_MAX + 32];
        text_query_name(&q, name, sizeof name);
        t->name = strdup(name);
    }
}

static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (l->first_tx.kind == NT_TIME_NONE)
        return;
    struct state *st = state_get(rc);
    if (!st)
        return;
    struct srv *s = server_table_of_lookup(rc, &st->servers, l);
    if (!s)
        return;
    struct bin *b = bin_for(s, &l->first_tx);
    if (!b)
        return;
    s->lookups++;
    b->lookups++;
    b->tx += l->transmissions;
    bool failed = l->outcome == LOOKUP_UNANSWERED || l->outcome == LOOKUP_ICMP_ERROR;
    if (l->outcome == LOOKUP_ANSWERED) {
        b->answered++;
        if (l->rcode == DNS_RCODE_SERVFAIL || l->rcode == DNS_RCODE_REFUSED)
            b->errors++;
        if (l->rtt_us > SLOW_US)
            b->slow++;
    }
    if (failed)
        b->failed++;
    nt_time_widen(&b->first, &b->last, &l->first_tx);
    uint32_t h = nt_addr_hash(&l->client, 0x5bd1e995u);
    b->sketch[(h >> 6) % SKETCH_WORDS] |= 1ull << (h & 63);
    if (b->n_cl < BIN_CLIENTS) { /* once the list is full, the sketch alone counts */
        bool known = false;
        for (uint8_t i = 0; i < b->n_cl && !known; i++)
            known = nt_addr_eq(&b->cl[i], &l->client);
        if (!known)
            b->cl[b->n_cl++] = l->client;
    }
    if (!b->has_ev[0])
        b->has_ev[0] = evidence_copy(&b->ev[0], &l->query);
    if (failed && !b->has_ev[1])
        b->has_ev[1] = evidence_copy(&b->ev[1], &l->query);
    top_add(rc, s, l);
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static int top_order(const void *a, const void *b)
{
    const struct top *x = a, *y = b;
    if (!x->name || !y->name)
        return x->name ? -1 : y->name ? 1 : 0;
    return x->count > y->count ? -1 : x->count < y->count ? 1 : strcmp(x->name, y->name);
}

static void explain(struct rule_ctx *rc, struct srv *s, struct finding *f, uint64_t base,
                    uint64_t thr, const struct sums *in, const struct sums *out, uint64_t sources)
{
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8];
    text_addr(&s->k.server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    const char *PROTO = s->k.transport == 6 ? "TCP" : "UDP";
    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], tp[NT_TIME_FMT_MAX], clients[512], names[512];
    text_time(&in->first, t1, sizeof t1);
    text_time(&in->last, t2, sizeof t2);
    struct nt_time pt = {s->peak.sec, 0, s->peak.kind};
    text_time(&pt, tp, sizeof tp);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, 0, names, sizeof names);
    uint64_t in_fail = in->failed + in->errors + in->slow;
    uint64_t out_fail = out->failed + out->errors + out->slow;
    double in_rate = pct(in_fail, in->lookups), out_rate = pct(out_fail, out->lookups);
    bool overload = in_fail > 0 && in_rate >= 2 * out_rate + 5.0;
    char ratio[64] = "";
    if (base)
        snprintf(ratio, sizeof ratio, ", %.0f times the baseline",
                 (double)s->peak.lookups / (double)base);

    finding_set_summary(
        f,
        "The DNS server %s received a flood of queries on %s port %u: %" PRIu64
        " lookups in its busiest flood second (%s) from %s%" PRIu64 " %s, against a baseline of "
        "%" PRIu64 " per second (the median of its calm seconds before it)%s. %" PRIu64 " %s in "
        "%" PRIu64 " flood %s between %s and %s. %s",
        srv, PROTO, s->k.port, (uint64_t)s->peak.lookups, tp,
        s->peak.n_cl < BIN_CLIENTS ? "" : "about ", sources, sources == 1 ? "source" : "sources",
        base, ratio, in->lookups, in->lookups == 1 ? "lookup" : "lookups", in->bins,
        in->bins == 1 ? "second" : "seconds", t1, t2,
        overload  ? "The server failed far more often during the flood than outside it."
        : in_fail ? "Failures during the flood were not much more frequent than outside it."
                  : "Every lookup during the flood was answered in time.");

    finding_add_fact(f,
                     "Lookups per second to %s: peak %" PRIu64 " at %s, baseline %" PRIu64
                     " (the median of up to %d calm active seconds before it), flood threshold "
                     "%" PRIu64 " (max(%d, %d x baseline)); %" PRIu64 " of %" PRIu64
                     " active seconds reached the threshold of the calm seconds before them.",
                     srv, (uint64_t)s->peak.lookups, tp, base, CALM_W, thr, MIN_PEAK, FACTOR,
                     in->bins, in->bins + out->bins);
    const struct server_stats *ss = rule_server_stats(rc, &s->k.server, s->k.port, s->k.transport);
    if (rule_service_kept(rc, &s->k.server, s->k.port, s->k.transport))
        finding_add_fact(f,
                         "Sources in the busiest second: %" PRIu64 "%s (%s); the server had %zu%s "
                         "distinct clients in the whole capture.",
                         sources, s->peak.n_cl < BIN_CLIENTS ? "" : " (estimated)", clients,
                         ss ? ss->n_clients : (size_t)0, ss && ss->clients_overflow ? "+" : "");
    else /* its distinct clients were not counted (the detector's fact says why) */
        finding_add_fact(f, "Sources in the busiest second: %" PRIu64 "%s (%s).", sources,
                         s->peak.n_cl < BIN_CLIENTS ? "" : " (estimated)", clients);
    finding_add_fact(f, "Names asked most often at this server (approximate counts): %s.", names);
    finding_add_fact(f,
                     "During the flood seconds: %" PRIu64 " lookups, %" PRIu64
                     " unanswered or refused by ICMP, %" PRIu64 " SERVFAIL or REFUSED, %" PRIu64
                     " answered after more than 1 s (%.1f %% failed). Outside them: %" PRIu64
                     " lookups, %" PRIu64 ", %" PRIu64 " and %" PRIu64 " (%.1f %%).",
                     in->lookups, in->failed, in->errors, in->slow, in_rate, out->lookups,
                     out->failed, out->errors, out->slow, out_rate);

    uint64_t sum_top = 0;
    for (size_t i = 0; i < TOP_NAMES; i++)
        sum_top += s->top[i].name ? s->top[i].count : 0;
    bool few_sources = sources <= 3;
    finding_add_cause(f, few_sources ? CONF_MEDIUM : CONF_HIGH,
                      "A denial-of-service attack: a query flood aimed at the DNS service "
                      "(or at the names it serves).",
                      "The busiest second held %" PRIu64 " lookups from %" PRIu64
                      " %s against a baseline of %" PRIu64 " per second%s. The capture cannot "
                      "tell spoofed sources from real ones; the server's or the upstream "
                      "network's view of where the queries enter separates them.",
                      (uint64_t)s->peak.lookups, sources, sources == 1 ? "source" : "sources", base,
                      few_sources ? "; so few sources also fit one misbehaving program"
                                  : "; that many sources at once is the shape of a "
                                    "distributed flood");
    finding_add_cause(f, few_sources ? CONF_MEDIUM : CONF_LOW,
                      "A misbehaving client or application: a retry loop, a monitoring or test "
                      "tool, a script resolving in a tight loop.",
                      "%" PRIu64 " %s sent the busiest second's queries; the names asked most "
                      "were %s.",
                      sources, sources == 1 ? "source" : "sources", names);
    finding_add_cause(f, CONF_LOW,
                      "A legitimate surge: many clients starting at once (after an outage, a "
                      "reboot wave, a scheduled job), or a popular name's records expiring.",
                      "Only the server's normal clients and names separate a surge from an "
                      "attack; the capture shows %zu distinct names among the most asked.",
                      f->n_names);
    if (overload)
        finding_add_fact(f,
                         "The failures rose with the flood (%.1f %% of lookups failed in flood "
                         "seconds, %.1f %% outside): the server, or the path to it, could not "
                         "keep up.",
                         in_rate, out_rate);
    finding_rank_causes(f);

    finding_add_step(f,
                     "On %s, look at the query rate and drops at the time: the resolver's "
                     "statistics (`unbound-control stats_noreset`, `rndc stats`) and the "
                     "socket's receive errors (`netstat -su` or `nstat -az UdpRcvbufErrors`).",
                     srv);
    finding_add_step(f,
                     "List the top sources and names in the capture: `tcpdump -nn -r CAPTURE "
                     "%s dst port %u and dst host %s | awk '{print $3}' | sort | uniq -c | "
                     "sort -rn | head`.",
                     s->k.transport == 6 ? "tcp" : "udp", s->k.port, srv_cmd);
    finding_add_step(f, "If it is an attack, rate-limit per source at the server (response rate "
                        "limiting, `ratelimit` in unbound, RRL in BIND) or upstream, and block "
                        "sources that are not clients of this server.");
}

static void on_finish(struct rule_ctx *rc)
{
    struct state *st = state_get(rc);
    if (!st)
        return;
    for (size_t i = 0; i < server_table_count(&st->servers); i++) {
        struct srv *s = server_table_at(&st->servers, i);
        ring_flush(s);
        if (!s->in.bins)
            continue; /* no second rose above its own baseline's threshold */
        uint64_t base = s->peak_base, thr = threshold_of(base);
        uint64_t sources = bin_sources(&s->peak);
        struct sums in = s->in, out = s->out;
        char key[NT_ADDR_FMT_MAX + 32], addr[NT_ADDR_FMT_MAX];
        nt_addr_format(&s->k.server, addr, sizeof addr);
        snprintf(key, sizeof key, "%s|%u|%u", addr, s->k.transport, s->k.port);
        struct finding *f = rule_raise(rc, key);
        if (!f)
            continue;
        f->transport = s->k.transport == 6 ? 6 : 17;
        f->port = s->k.port;
        f->service = "DNS";
        f->has_server = true;
        f->server = s->k.server;
        for (uint8_t c = 0; c < s->peak.n_cl; c++)
            finding_add_client(f, &s->peak.cl[c]);
        if (sources > s->peak.n_cl)
            f->clients_dropped = sources - s->peak.n_cl;
        top_format(s);
        qsort(s->top, TOP_NAMES, sizeof s->top[0], top_order);
        for (size_t k = 0; k < TOP_NAMES && s->top[k].name; k++)
            finding_add_name(f, s->top[k].name);
        f->lookups = in.lookups;
        f->query_packets = in.tx;
        f->packets = f->query_packets + f->error_packets;
        for (int k = 0; k < 2; k++)
            if (s->peak.has_ev[k])
                finding_add_evidence(f, &s->peak.ev[k]);
        finding_see_time(f, &in.first);
        finding_see_time(f, &in.last);
        uint64_t in_fail = in.failed + in.errors + in.slow;
        uint64_t out_fail = out.failed + out.errors + out.slow;
        if (in_fail && pct(in_fail, in.lookups) >= 2 * pct(out_fail, out.lookups) + 5.0)
            f->severity = SEV_HIGH;
        explain(rc, s, f, base, thr, &in, &out, sources);
    }
}

static const struct rule_bound_def bounds[] = {
    {"servers", 1024, 1, 1048576, "DNS servers measured"},
    {NULL, 0, 0, 0, NULL},
};

const struct rule rule_dns_flood = {
    .id = "dns.flood",
    .severity = SEV_MEDIUM,
    .title = "DNS query flood",
    .attack = ATTACK_T1499_002,
    .on_dns_lookup = on_lookup,
    .on_finish = on_finish,
    .free_state = state_free,
    .bounds = bounds,
};
