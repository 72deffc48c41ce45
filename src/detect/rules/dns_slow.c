/* dns_slow.c: a DNS server whose answers take long: answer-time percentiles per server (from
 * a bounded log-scale histogram), the slow answers and the window in which they came. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/history.h"
#include "detect/rule.h"
#include "detect/server_table.h"
#include "detect/text.h"

#include "util/htab.h"

/* The fewest slow answers whose spread is judged (one answer is no cluster). */
#define CLUSTER_MIN 5

/* Fires when a server has at least MIN_ANSWERS answers and its 95th percentile answer time is
 * above P95_US or its median above P50_US. An answer slower than SLOW_US is a slow answer: the
 * window runs from the first to the last of them. */
#define MIN_ANSWERS 10
#define P95_US      500000
#define P50_US      200000
#define SLOW_US     200000
/* Servers measured. The answers of servers past it are left out and counted: the distinct
 * servers in the limit counter "servers_ignored", their answers in "answers_ignored"
 * (rule_count_limit; each ignored server is remembered by its keyed hash, 16 bytes, so that
 * it is counted once: detect/server_table.h). A measured server costs about 12 KiB (its two
 * histograms), its fast answers' history (detect/history.h, however long the capture at most about
 * 230 KiB when its fast answers come more than 8 a second, about 750 KiB when they are fewer, and
 * all such histories share the detector's budget, rule_history_pool) and,
 * once it answered slowly, a shadow finding (under 1 KiB, plus its lists as they fill: up to 64
 * evidence copies of 256 bytes and their packets). */
/* A query rate past which overload is a likely cause. */
#define BUSY_QPS 100.0

/* Log-scale histogram of microseconds: values below HIST_SUB exactly, then HIST_SUB
 * sub-buckets per power of two, so a percentile is right to within 1/HIST_SUB (6.25 %). */
#define HIST_SUB     16
#define HIST_OCTAVES 44
#define HIST_N       (HIST_SUB + HIST_OCTAVES * HIST_SUB)

struct hist {
    uint64_t n;
    uint64_t b[HIST_N];
};

static size_t hist_index(uint64_t v)
{
    if (v < HIST_SUB)
        return (size_t)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* e >= 4 */
    size_t i = HIST_SUB + (size_t)(e - 4) * HIST_SUB + (size_t)((v >> (e - 4)) - HIST_SUB);
    return i < HIST_N ? i : HIST_N - 1;
}

/* The middle of bucket i. */
static uint64_t hist_value(size_t i)
{
    if (i < HIST_SUB)
        return i;
    unsigned e = (unsigned)((i - HIST_SUB) / HIST_SUB) + 4;
    uint64_t sub = (i - HIST_SUB) % HIST_SUB;
    uint64_t lo = (HIST_SUB + sub) << (e - 4), width = 1ull << (e - 4);
    return lo + width / 2;
}

static void hist_add(struct hist *h, uint64_t v)
{
    h->b[hist_index(v)]++;
    h->n++;
}

/* The value at quantile q (0..1): the smallest bucket holding at least ceil(q * n) values. */
static int64_t hist_quantile(const struct hist *h, double q)
{
    if (!h->n)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_N; i++) {
        seen += h->b[i];
        if (seen >= rank)
            return (int64_t)hist_value(i);
    }
    return (int64_t)hist_value(HIST_N - 1);
}

struct srv {
    struct server_key k; /* first: the table's item head */
    uint64_t answered, slow, retransmitted_slow, late;
    int64_t max_rtt_us;
    struct hist all, slow_h;
    struct nt_time first_slow_q, last_slow_q; /* queries of the slow answers */
    struct nt_time first_slow_a, last_slow_a; /* the slow answers */
    struct history fast;                      /* answer times of fast answers, for the window */
    /* The slow lookups' clients, names and evidence, gathered before it is known whether the
     * server qualifies; handed to the real finding at the end (never rendered by itself).
     * Made at the first slow answer. */
    struct finding *shadow;
};

struct state {
    struct server_table servers; /* struct srv, in the order of their first answer */
};

/* Rules have no per-detector state of their own (rule.h); this one keeps its table here, tied
 * to the detector it belongs to, and frees it in on_finish. */

static void srv_free(void *item)
{
    struct srv *s = item;
    history_fini(&s->fast);
    finding_free(s->shadow);
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
                              "servers_ignored", "answers_ignored");
        *slot = st;
    }
    return *slot;
}

static void keep_fast(struct rule_ctx *rc, struct srv *s, const struct nt_time *t)
{
    if (!s->fast.pool)
        history_pool_join(rule_history_pool(rc), &s->fast);
    (void)history_add(&s->fast, t);
}

static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (l->outcome != LOOKUP_ANSWERED || l->answer.ts.kind == NT_TIME_NONE ||
        l->last_tx.kind == NT_TIME_NONE || l->rtt_us < 0)
        return;
    struct state *st = state_get(rc);
    if (!st)
        return;
    struct srv *s = server_table_of_lookup(rc, &st->servers, l);
    if (!s)
        return;
    uint64_t rtt = (uint64_t)l->rtt_us;
    s->answered++;
    hist_add(&s->all, rtt);
    if (l->rtt_us > s->max_rtt_us)
        s->max_rtt_us = l->rtt_us;
    if (l->rtt_us <= SLOW_US) {
        keep_fast(rc, s, &l->answer.ts);
        return;
    }
    if (!s->shadow && !(s->shadow = calloc(1, sizeof *s->shadow)))
        return;
    s->slow++;
    hist_add(&s->slow_h, rtt);
    if (l->transmissions > 1)
        s->retransmitted_slow++;
    if (l->late)
        s->late++;
    nt_time_widen(&s->first_slow_q, &s->last_slow_q, &l->first_tx);
    nt_time_widen(&s->first_slow_a, &s->last_slow_a, &l->answer.ts);
    struct finding *f = s->shadow;
    finding_add_client(f, &l->client);
    char name[DNS_NAME_TEXT_MAX + 32];
    text_query_name(l, name, sizeof name);
    finding_add_name(f, name);
    f->lookups++;
    f->query_packets += l->transmissions;
    f->packets = f->query_packets + f->error_packets;
    finding_add_evidence(f, &l->query);
    finding_add_evidence(f, &l->answer);
    finding_see_time(f, &l->first_tx);
    finding_see_time(f, &l->answer.ts);
}

static bool qualifies(const struct srv *s)
{
    if (s->answered < MIN_ANSWERS || s->slow == 0 || !s->shadow)
        return false;
    return hist_quantile(&s->all, 0.95) > P95_US || hist_quantile(&s->all, 0.50) > P50_US;
}

/* The window from the fast answers around the slow ones. */
static void set_window(struct srv *s, struct finding *f)
{
    struct incident_window *w = &f->window;
    w->window_set = true;
    history_fill_window(&s->fast, &f->first_seen, &f->last_seen, w);
}

/* A bucket's middle can pass the largest value measured; no percentile is above it. */
static int64_t clamp(const struct srv *s, int64_t v)
{
    return v > s->max_rtt_us ? s->max_rtt_us : v;
}

static void dur(int64_t us, char *buf, size_t n)
{
    nt_duration_format(us, buf, n);
}

static void explain(struct rule_ctx *rc, struct srv *s, struct finding *f)
{
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8];
    text_addr(&s->k.server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    const char *PROTO = s->k.transport == 6 ? "TCP" : "UDP";
    char p50[32], p95[32], p99[32], pmax[32], sp10[32], sp50[32], sp90[32];
    dur(clamp(s, hist_quantile(&s->all, 0.50)), p50, sizeof p50);
    dur(clamp(s, hist_quantile(&s->all, 0.95)), p95, sizeof p95);
    dur(clamp(s, hist_quantile(&s->all, 0.99)), p99, sizeof p99);
    dur(s->max_rtt_us, pmax, sizeof pmax);
    int64_t s10 = clamp(s, hist_quantile(&s->slow_h, 0.10)),
            s50 = clamp(s, hist_quantile(&s->slow_h, 0.50)),
            s90 = clamp(s, hist_quantile(&s->slow_h, 0.90));
    dur(s10, sp10, sizeof sp10);
    dur(s50, sp50, sizeof sp50);
    dur(s90, sp90, sizeof sp90);
    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], clients[512], names[512];
    text_time(&f->first_seen, t1, sizeof t1);
    text_time(&f->last_seen, t2, sizeof t2);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, names, sizeof names);
    uint64_t n_clients = f->n_clients + f->clients_dropped;

    finding_set_summary(f,
                        "The DNS server %s answered slowly on %s port %u. Of its %" PRIu64
                        " answers, the median took %s, the 95th percentile %s and the 99th "
                        "%s (the slowest %s). %" PRIu64 " %s took longer than 200 ms, for %s "
                        "from %" PRIu64 " %s (%s), between %s and %s.",
                        srv, PROTO, s->k.port, s->answered, p50, p95, p99, pmax, s->slow,
                        s->slow == 1 ? "answer" : "answers", names, n_clients,
                        n_clients == 1 ? "client" : "clients", clients, t1, t2);

    finding_add_fact(f,
                     "Answer times of %s (%" PRIu64 " answers, from the last query sent to the "
                     "answer): median %s, 95th percentile %s, 99th percentile %s, slowest %s. "
                     "Percentiles come from a log-scale histogram and are right to within "
                     "6.25 %%.",
                     srv, s->answered, p50, p95, p99, pmax);
    finding_add_fact(f,
                     "%" PRIu64 " of the %" PRIu64 " answers (%.0f %%) took longer than 200 ms; "
                     "among them 10 %% took up to %s, half up to %s and 90 %% up to %s.",
                     s->slow, s->answered, 100.0 * (double)s->slow / (double)s->answered, sp10,
                     sp50, sp90);
    const struct incident_window *w = &f->window;
    char ob[NT_TIME_FMT_MAX], oa[NT_TIME_FMT_MAX];
    text_time(&w->ok_before, ob, sizeof ob);
    text_time(&w->ok_after, oa, sizeof oa);
    if (w->has_ok_before && w->ok_before_bound)
        finding_add_fact(f,
                         "Fast answers came from %s until the first slow one, in the same %" PRId64
                         " s (at this rate the history keeps counts, not each answer's time).",
                         ob, w->bound_width_s);
    else if (w->has_ok_before)
        finding_add_fact(f, "The last fast answer before the slow ones came at %s.", ob);
    else
        finding_add_fact(f, "No fast answer came before the first slow one: the server was "
                            "slow from the start of the capture.");
    if (w->has_ok_after && w->ok_after_bound)
        finding_add_fact(f,
                         "A fast answer came after the last slow one, no later than %s (in the "
                         "same %" PRId64 " s).",
                         oa, w->bound_width_s);
    else if (w->has_ok_after)
        finding_add_fact(f, "The first fast answer after the last slow one came at %s.", oa);
    else
        finding_add_fact(f, "No fast answer came after the last slow one: the capture ends "
                            "while the server is still slow.");
    if (w->ok_during_max > w->ok_during)
        finding_add_fact(f,
                         "Between %" PRIu64 " and %" PRIu64 " fast answers came in between: the "
                         "server answered other queries quickly while these were slow.",
                         w->ok_during, w->ok_during_max);
    else if (w->ok_during)
        finding_add_fact(f,
                         "%" PRIu64 " fast %s came in between: the server answered other "
                         "queries quickly while these were slow.",
                         w->ok_during, w->ok_during == 1 ? "answer" : "answers");
    if (s->retransmitted_slow)
        finding_add_fact(f,
                         "%" PRIu64 " of the slow lookups were retransmitted by their clients "
                         "before the answer came.",
                         s->retransmitted_slow);
    const struct server_stats *ss = rule_server_stats(rc, &s->k.server, s->k.port, s->k.transport);
    uint64_t lost = ss ? ss->unanswered : 0;
    if (lost)
        finding_add_fact(f, "%" PRIu64 " further %s to %s got no answer within the timeout.", lost,
                         lost == 1 ? "lookup" : "lookups", srv);

    /* Causes. Slow answers clustered around one delay, while other answers stay fast, are the
     * mark of a resolver that waits for its own retry timer upstream. */
    /* Too few slow answers show no shape: a cluster needs CLUSTER_MIN of them. */
    bool few = s->slow < CLUSTER_MIN;
    bool clustered = !few && s10 > 0 && s90 <= s10 * 2;
    char shape[128];
    if (few)
        snprintf(shape, sizeof shape,
                 "Only %" PRIu64 " %s slow, too few to tell whether slow answers cluster", s->slow,
                 s->slow == 1 ? "answer was" : "answers were");
    else
        snprintf(shape, sizeof shape, "%s",
                 clustered ? "The slow answers cluster (90 % of them within twice the fastest "
                             "10 %)"
                           : "The slow answers spread widely");
    bool mixed = w->ok_during > 0;
    double qps = 0;
    if (ss && ss->first_query.kind != NT_TIME_NONE) {
        int64_t span = nt_time_diff_us(&ss->first_query, &ss->last_query);
        if (span >= 1000000)
            qps = (double)ss->query_packets / ((double)span / 1e6);
    }
    char rate_text[96] = "no query rate (less than a second of queries to it)";
    if (!rule_service_kept(rc, &s->k.server, s->k.port, s->k.transport))
        snprintf(rate_text, sizeof rate_text, "no query rate (its figures were not kept)");
    else if (qps > 0)
        snprintf(rate_text, sizeof rate_text, "%.1f queries per second to it%s", qps,
                 qps >= BUSY_QPS ? "" : ", little load for a DNS server");
    finding_add_cause(f, clustered && mixed ? CONF_HIGH : CONF_MEDIUM,
                      "The server waits on other DNS servers (recursion, or a forwarder it "
                      "sends to) that answer slowly or lose queries, and answers only after "
                      "retrying.",
                      "%s; %s. A resolver that retries after a fixed timeout gives answers "
                      "clustered just past that timeout, while names it can answer from its "
                      "cache or local data stay fast. The capture shows only the client's "
                      "side: the server's own queries upstream (captured on the server) "
                      "separate this from the causes below.",
                      shape,
                      mixed ? "other answers stayed fast in the same window"
                            : "no fast answer came in the same window");
    finding_add_cause(f, qps >= BUSY_QPS ? CONF_MEDIUM : CONF_LOW,
                      "The server is overloaded (CPU, a full queue) and answers late.",
                      "The capture shows %s%s; an overloaded server is slow for every name, "
                      "cached or not.",
                      rate_text, qps >= BUSY_QPS ? ", a heavy load" : "");
    if (!text_no_path(f)) /* a host asking itself has no path to delay on */
        finding_add_cause(f, mixed ? CONF_LOW : CONF_MEDIUM,
                          "Delay on the network path between the capture point and the server "
                          "(congestion, queueing, a slow link).",
                          "%s. From one capture point the path's delay cannot be told from the "
                          "server's: a capture on the server, or ping and a query from a host next "
                          "to it, separates them.",
                          mixed ? "Other answers crossed the same path fast in the same window, "
                                  "which speaks against the path"
                                : "Every answer in the window was slow, as a slow path makes them");
    finding_rank_causes(f);

    const char *qname = text_first_query_name(f);
    char qcmd[DNS_NAME_TEXT_MAX * 3];
    if (qname) {
        text_shell_query(qname, qcmd, sizeof qcmd);
        finding_add_step(f,
                         "Time a query from a client and on the server itself: `dig @%s %s "
                         "+tries=1 +timeout=5` (dig prints the query time); fast on the server "
                         "but slow from the client points to the path.",
                         srv_cmd, qcmd);
    }
    finding_add_step(f,
                     "On %s, check how its upstream servers answer (forwarders or "
                     "authoritative servers): the resolver's logs and statistics, e.g. "
                     "`unbound-control dump_infra` or `rndc stats`, for timeouts and retries "
                     "from %s on.",
                     srv, t1);
    finding_add_step(f,
                     "Measure the path and the host: `ping -c 20 %s` and `mtr -rwc 50 %s` "
                     "from a client; CPU and socket queues on the server (`top`, `ss -ulmn`).",
                     srv_cmd, srv_cmd);
}

static void on_finish(struct rule_ctx *rc)
{
    struct state *st = state_get(rc);
    if (!st)
        return;
    for (size_t i = 0; i < server_table_count(&st->servers); i++) {
        struct srv *s = server_table_at(&st->servers, i);
        if (!qualifies(s))
            continue;
        char key[NT_ADDR_FMT_MAX + 32], addr[NT_ADDR_FMT_MAX];
        nt_addr_format(&s->k.server, addr, sizeof addr);
        snprintf(key, sizeof key, "%s|%u|%u", addr, s->k.transport, s->k.port);
        struct finding *f = rule_raise(rc, key);
        if (!f)
            continue;
        finding_adopt(f, s->shadow);
        s->shadow = NULL;
        f->transport = s->k.transport == 6 ? 6 : 17;
        f->port = s->k.port;
        f->service = "DNS";
        f->has_server = true;
        f->server = s->k.server;
        /* The window: from the first slow lookup's query to the last slow answer. */
        f->first_seen = s->first_slow_q;
        f->last_seen = s->last_slow_a;
        set_window(s, f);
        explain(rc, s, f);
    }
}

static const struct rule_bound_def bounds[] = {
    {"servers", 1024, 1, 1048576, "DNS servers measured"},
    {NULL, 0, 0, 0, NULL},
};

const struct rule rule_dns_slow = {
    .id = "dns.slow",
    .severity = SEV_MEDIUM,
    .title = "DNS server answers slowly",
    .on_dns_lookup = on_lookup,
    .on_finish = on_finish,
    .free_state = state_free,
    .bounds = bounds,
};
