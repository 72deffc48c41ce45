/* traffic.c: traffic over time and per server for the HTML report (struct analysis_traffic),
 * from the facts of each final lookup and each ICMP error. Bounded: a timeline of at most
 * TRAFFIC_BINS bins whose width grows (1, 2, 10, 20, 100 ms...) with the span, answer times of
 * TRAFFIC_SERVERS servers (TRAFFIC_SAMPLES each, a fixed-seed reservoir past that, so the output is
 * deterministic), and the earliest rows of each table; what is left out is counted. */
#include <stdlib.h>
#include <string.h>

#include "correlate/correlate.h"
#include "report/analysis.h"

bool analysis_traffic_start(struct analysis *a)
{
    if (!a->traffic)
        a->traffic = calloc(1, sizeof *a->traffic);
    return a->traffic != NULL;
}

bool traffic_lookup_failed(uint8_t outcome, uint16_t rcode)
{
    if (outcome == LOOKUP_ICMP_ERROR || outcome == LOOKUP_UNANSWERED)
        return true;
    return outcome == LOOKUP_ANSWERED &&
           (rcode == DNS_RCODE_SERVFAIL || rcode == DNS_RCODE_REFUSED ||
            rcode == DNS_RCODE_NOTIMP || rcode == DNS_RCODE_FORMERR);
}

/* ---- Timeline ---- */

/* a mod m for m > 0, never negative. */
static int64_t mod_pos(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

/* Widens the bins to the next width of the series 1, 2, 10, 20, 100... ms (so that labels and
 * widths stay round numbers): first moves the origin back to a multiple of the new width
 * (at most 4 bins: the array has room for them), then merges each group of bins into one. */
static void tl_widen(struct traffic_timeline *tl)
{
    int64_t m = tl->width_us;
    while (m % 10 == 0)
        m /= 10;
    uint32_t f = m == 1 ? 2 : 5;
    int64_t nw = tl->width_us * f;
    uint32_t k = (uint32_t)(mod_pos(tl->origin_us, nw) / tl->width_us);
    if (k) {
        memmove(tl->n[k], tl->n[0], sizeof tl->n[0] * tl->used);
        memset(tl->n[0], 0, sizeof tl->n[0] * k);
        tl->used += k;
        tl->origin_us -= (int64_t)k * tl->width_us;
    }
    for (uint32_t i = 0; i < tl->used; i++)
        for (int e = 0; e < TE_COUNT; e++) {
            uint64_t v = tl->n[i][e];
            tl->n[i][e] = 0;
            tl->n[i / f][e] += v;
        }
    tl->used = (tl->used + f - 1) / f;
    tl->width_us = nw;
}

static int64_t time_us(const struct nt_time *t)
{
    return t->sec * 1000000 + (int64_t)(t->nsec / 1000);
}

static void tl_add(struct traffic_timeline *tl, const struct nt_time *ts, enum traffic_event k)
{
    if (ts->kind == NT_TIME_NONE) {
        tl->no_time++;
        return;
    }
    if (ts->sec > 100000000000 || ts->sec < -100000000000) {
        tl->off_clock++; /* beyond year 5000 (a damaged stamp): left out of the bins */
        return;
    }
    if (tl->any && ts->kind != tl->clock) {
        tl->off_clock++; /* a time of day beside a dated time: different clocks */
        return;
    }
    int64_t t = time_us(ts);
    if (!tl->any) {
        tl->any = true;
        tl->clock = ts->kind;
        tl->width_us = 1000; /* 1 ms to start with */
        tl->origin_us = t - mod_pos(t, tl->width_us);
    }
    /* Before the origin: shift the bins right when they have room, else widen them. */
    while (t < tl->origin_us) {
        int64_t need = (tl->origin_us - t + tl->width_us - 1) / tl->width_us;
        if (need + tl->used <= TRAFFIC_BINS) {
            uint32_t s = (uint32_t)need;
            memmove(tl->n[s], tl->n[0], sizeof tl->n[0] * tl->used);
            memset(tl->n[0], 0, sizeof tl->n[0] * s);
            tl->used += s;
            tl->origin_us -= need * tl->width_us;
        } else {
            tl_widen(tl);
        }
    }
    while ((t - tl->origin_us) / tl->width_us >= TRAFFIC_BINS)
        tl_widen(tl);
    uint32_t i = (uint32_t)((t - tl->origin_us) / tl->width_us);
    tl->n[i][k]++;
    tl->total[k]++;
    if (i + 1 > tl->used)
        tl->used = i + 1;
}

/* ---- Servers ---- */

/* xorshift64*: the reservoir's generator, seeded per server with a constant. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static struct traffic_server *server_of(struct analysis_traffic *t, const struct dns_lookup *l)
{
    for (size_t i = 0; i < t->n_servers; i++) {
        struct traffic_server *s = &t->servers[i];
        if (s->port == l->server_port && s->transport == l->transport &&
            nt_addr_eq(&s->server, &l->server))
            return s;
    }
    if (t->n_servers == TRAFFIC_SERVERS)
        return NULL;
    struct traffic_server *s = &t->servers[t->n_servers++];
    memset(s, 0, sizeof *s);
    s->server = l->server;
    s->port = l->server_port;
    s->transport = l->transport;
    s->rng = 0x9e3779b97f4a7c15ULL;
    return s;
}

static void server_sample(struct analysis_traffic *t, struct traffic_server *s, int64_t us)
{
    s->samples_seen++;
    if (s->n_samples < TRAFFIC_SAMPLES) {
        if (!s->samples) {
            s->samples = malloc(sizeof *s->samples * TRAFFIC_SAMPLES);
            if (!s->samples) {
                t->oom = true;
                return;
            }
        }
        s->samples[s->n_samples++] = us;
        return;
    }
    /* Reservoir sampling (Algorithm R): each time seen so far is kept with equal chance. */
    uint64_t j = rng_next(&s->rng) % s->samples_seen;
    if (j < TRAFFIC_SAMPLES)
        s->samples[j] = us;
}

/* ---- Rows ---- */

static int row_cmp(uint32_t ia, uint64_t pa, uint32_t ib, uint64_t pb)
{
    if (ia != ib)
        return ia < ib ? -1 : 1;
    return pa < pb ? -1 : pa > pb;
}

/* Keeps the earliest rows (by input and packet): a full table gives up its latest row for an
 * earlier one. Returns the slot to fill (its old qname freed), or NULL. */
static struct traffic_lookup *lookup_slot(struct traffic_lookup *rows, size_t *n, size_t cap,
                                          uint32_t input, uint64_t pkt)
{
    if (*n < cap)
        return &rows[(*n)++];
    size_t last = 0;
    for (size_t i = 1; i < cap; i++)
        if (row_cmp(rows[i].input, rows[i].pkt, rows[last].input, rows[last].pkt) > 0)
            last = i;
    if (row_cmp(input, pkt, rows[last].input, rows[last].pkt) >= 0)
        return NULL;
    free(rows[last].qname);
    rows[last].qname = NULL;
    return &rows[last];
}

void analysis_traffic_lookup(struct analysis_traffic *t, const struct dns_lookup *l)
{
    if (!t)
        return;
    bool failed = traffic_lookup_failed(l->outcome, l->rcode);
    const struct evidence *first = l->from_quote ? &l->error : &l->query;

    if (!l->from_quote)
        tl_add(&t->timeline, &l->query.ts, TE_QUERY);
    if (l->outcome == LOOKUP_ANSWERED)
        tl_add(&t->timeline, &l->answer.ts, TE_ANSWER);
    else if (l->outcome == LOOKUP_UNANSWERED)
        tl_add(&t->timeline, &l->query.ts, TE_UNANSWERED);

    struct traffic_server *s = server_of(t, l);
    if (!s) {
        t->other_server_lookups++;
    } else {
        s->lookups++;
        if (l->outcome == LOOKUP_ANSWERED) {
            s->answered++;
            if (l->rtt_us >= 0)
                server_sample(t, s, l->rtt_us);
        } else if (l->outcome == LOOKUP_ICMP_ERROR) {
            s->icmp_errors++;
        } else if (l->outcome == LOOKUP_UNANSWERED) {
            s->unanswered++;
        }
    }

    struct traffic_lookup *r;
    if (failed) {
        t->failing_total++;
        r = lookup_slot(t->failing, &t->n_failing, TRAFFIC_FAILING_ROWS, first->input, first->pkt);
    } else if (l->outcome == LOOKUP_ANSWERED) {
        t->answered_total++;
        r = lookup_slot(t->answered, &t->n_answered, TRAFFIC_ANSWERED_ROWS, first->input,
                        first->pkt);
    } else {
        return; /* cut off by the end of the capture: counted in the summary */
    }
    if (!r)
        return;
    memset(r, 0, sizeof *r);
    r->input = first->input;
    r->pkt = first->pkt;
    r->ts = first->ts;
    r->client = l->client;
    r->server = l->server;
    r->server_port = l->server_port;
    r->id = l->id;
    r->qtype = l->qtype;
    r->rcode = l->rcode;
    r->transport = l->transport;
    r->outcome = l->outcome;
    r->id_unknown = l->id_unknown;
    r->from_quote = l->from_quote;
    r->late = l->late;
    r->transmissions = l->transmissions;
    r->rtt_us = l->rtt_us;
    if (l->outcome == LOOKUP_ICMP_ERROR) {
        r->icmp_type = l->error.icmp_type;
        r->icmp_code = l->error.icmp_code;
        r->ip_version = l->error.ip_version;
    }
    if (l->has_question && l->qname) {
        r->qname = strdup(l->qname);
        if (!r->qname)
            t->oom = true;
    }
}

void analysis_traffic_icmp(struct analysis_traffic *t, const struct icmp_event *e)
{
    if (!t || !e->ev)
        return;
    const struct evidence *ev = e->ev;
    tl_add(&t->timeline, &ev->ts, TE_ICMP);
    t->icmp_total++;
    if (t->n_icmp == TRAFFIC_ICMP_ROWS)
        return; /* they arrive in packet order: the first are kept */
    struct traffic_icmp *r = &t->icmp[t->n_icmp++];
    memset(r, 0, sizeof *r);
    r->input = ev->input;
    r->pkt = ev->pkt;
    r->ts = ev->ts;
    r->src = ev->src;
    r->dst = ev->dst;
    r->ip_version = ev->ip_version;
    r->type = ev->icmp_type;
    r->code = ev->icmp_code;
    r->sender = e->sender;
    r->about_dns = e->about_dns;
    r->tied = e->lookup ? 1 : e->attempt ? 2 : 0;
    r->quote_present = ev->quote_present;
    r->quote_has_ports = ev->quote_has_ports;
    r->q_dst = ev->q_dst;
    r->q_proto = ev->q_proto;
    r->q_dport = ev->q_dport;
}

static int cmp_lookup(const void *x, const void *y)
{
    const struct traffic_lookup *a = x, *b = y;
    return row_cmp(a->input, a->pkt, b->input, b->pkt);
}

static int cmp_icmp(const void *x, const void *y)
{
    const struct traffic_icmp *a = x, *b = y;
    return row_cmp(a->input, a->pkt, b->input, b->pkt);
}

static int cmp_server(const void *x, const void *y)
{
    const struct traffic_server *a = x, *b = y;
    int c = nt_addr_cmp(&a->server, &b->server);
    if (c)
        return c;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return (a->transport > b->transport) - (a->transport < b->transport);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

void analysis_traffic_finish(struct analysis_traffic *t)
{
    if (!t)
        return;
    qsort(t->failing, t->n_failing, sizeof t->failing[0], cmp_lookup);
    qsort(t->answered, t->n_answered, sizeof t->answered[0], cmp_lookup);
    qsort(t->icmp, t->n_icmp, sizeof t->icmp[0], cmp_icmp);
    qsort(t->servers, t->n_servers, sizeof t->servers[0], cmp_server);
    for (size_t i = 0; i < t->n_servers; i++)
        if (t->servers[i].n_samples)
            qsort(t->servers[i].samples, t->servers[i].n_samples, sizeof(int64_t), cmp_i64);
}

int64_t traffic_percentile(const struct traffic_server *s, unsigned p)
{
    if (!s->n_samples || p == 0 || p > 100)
        return -1;
    /* Nearest rank: the smallest value with at least p% of the values at or below it. */
    uint64_t rank = ((uint64_t)p * s->n_samples + 99) / 100;
    if (rank == 0)
        rank = 1;
    return s->samples[rank - 1];
}

void analysis_traffic_free(struct analysis_traffic *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_failing; i++)
        free(t->failing[i].qname);
    for (size_t i = 0; i < t->n_answered; i++)
        free(t->answered[i].qname);
    for (size_t i = 0; i < t->n_servers; i++)
        free(t->servers[i].samples);
    free(t);
}
