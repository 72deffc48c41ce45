/* dns_truncated_no_tcp.c: DNS answers over UDP with the TC (truncated) flag that were not
 * followed by a retry of the same question over TCP from the same client to the same server, or
 * whose TCP retry failed (reset, ICMP error, no answer). A truncated answer says "ask again over
 * TCP" (RFC 1035 4.2.1, RFC 7766); without the retry the client gets no usable answer.
 *
 * Rules see lookups and TCP attempts when they are final, not in capture order (an answered TCP
 * attempt comes at once, a UDP lookup after its late window), so the rule keeps the truncated
 * lookups, the TCP DNS lookups and the TCP attempts to port 53 (each bounded), and decides in
 * on_finish. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/text.h"
#include "util/htab.h"

/* A retry must start within this long of the truncated answer. Resolvers and dig open the TCP
 * connection as soon as they read the TC bit (milliseconds); 10 s leaves room for slow hosts
 * without tying a much later, unrelated TCP lookup to the answer. */
#define RETRY_WINDOW_US INT64_C(10000000)
/* A truncated answer closer than this to the end of the capture cannot be judged: the retry
 * may simply not be in the capture. */
#define MIN_TAIL_US INT64_C(1000000)
/* Bounds (--bound dns.truncated_no_tcp.NAME=N): truncated answers and TCP retries kept. */
static const struct rule_bound_def bounds[] = {
    {"truncated_kept", 4096, 16, 16777216, "truncated UDP answers kept for judging"},
    {"tcp_kept", 65536, 16, 16777216, "TCP lookups and connection attempts to port 53 kept"},
    {NULL, 0, 0, 0, NULL},
};

enum retry { R_NONE = 0, R_OK, R_FAILED, R_UNKNOWN };

struct tc_item {
    struct nt_addr client, server;
    uint16_t port;
    uint64_t qhash; /* name (case-folded) and type */
    char *name;     /* "example.com. TXT", owned */
    struct nt_time first_tx, answer_ts;
    uint32_t transmissions;
    bool has_opt; /* the query offered EDNS */
    uint32_t answer_len;
    struct evidence query, answer;
};

/* A TCP DNS lookup or a TCP attempt to port 53: what a retry looks like. */
struct tcp_item {
    struct nt_addr client, server;
    uint16_t port;
    bool is_lookup;
    uint64_t qhash; /* lookups */
    struct nt_time start;
    uint8_t outcome; /* enum lookup_outcome or enum tcp_outcome */
    uint32_t syns;
    struct evidence ev, reply; /* failed ones only: the query or SYN, and the refusal */
};

struct state {
    struct tc_item *tc;
    size_t n_tc, cap_tc;
    uint64_t tc_dropped;
    struct tcp_item *tcp;
    size_t n_tcp, cap_tcp;
    uint64_t tcp_dropped;
    struct htab tcp_ix;     /* tcp items by client, server and port, built in on_finish */
    size_t tc_max, tcp_max; /* the bounds */
};

/* The rule's per-detector state (rule_state), made on first use. */
static struct state *state_of(struct rule_ctx *rc)
{
    void **slot = rule_state(rc);
    if (!*slot && (*slot = calloc(1, sizeof(struct state))) != NULL) {
        struct state *st = *slot;
        st->tc_max = (size_t)rule_bound(rc, "truncated_kept");
        st->tcp_max = (size_t)rule_bound(rc, "tcp_kept");
    }
    return *slot;
}

struct tc_acc {
    uint64_t no_retry, retry_failed, retry_ok, cut;
    uint64_t resets, icmp, silent; /* how the failed retries failed */
    uint64_t no_edns;              /* truncated lookups whose query offered no EDNS */
    uint32_t min_len, max_len;     /* sizes of the truncated answers */
    struct nt_time first_tc, last_tc;
    struct nt_time *ok;
    size_t n_ok, cap_ok;
};

static void acc_free(void *p)
{
    struct tc_acc *a = p;
    free(a->ok);
    free(a);
}

/* A question's identity: the keyed hash of its type and case-folded name (a collision needs
 * the run's key; by chance about n^2 / 2^65). */
static uint64_t qhash(const char *name, uint16_t qtype)
{
    struct htab_hasher h;
    htab_hasher_init(&h);
    htab_hasher_u16(&h, qtype);
    htab_hasher_name(&h, name);
    return htab_hasher_end(&h);
}

static bool grow(void **arr, size_t *cap, size_t n, size_t max, size_t size)
{
    if (n < *cap)
        return true;
    if (n >= max)
        return false;
    size_t nc = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, nc * size);
    if (!p)
        return false;
    *arr = p;
    *cap = nc;
    return true;
}

static void keep_tcp(struct rule_ctx *rc, struct state *st, const struct nt_addr *client,
                     const struct nt_addr *server, uint16_t port, bool is_lookup, uint64_t h,
                     const struct nt_time *start, uint8_t outcome, uint32_t syns, bool failed,
                     const struct evidence *ev, const struct evidence *reply)
{
    if (!grow((void **)&st->tcp, &st->cap_tcp, st->n_tcp, st->tcp_max, sizeof *st->tcp)) {
        st->tcp_dropped++;
        rule_count_limit(rc, "tcp_retries_dropped", 1);
        return;
    }
    struct tcp_item *t = &st->tcp[st->n_tcp];
    memset(t, 0, sizeof *t);
    t->client = *client;
    t->server = *server;
    t->port = port;
    t->is_lookup = is_lookup;
    t->qhash = h;
    t->start = *start;
    t->outcome = outcome;
    t->syns = syns;
    if (failed) {
        if (ev && !evidence_copy(&t->ev, ev))
            return;
        if (reply && reply->role && !evidence_copy(&t->reply, reply)) {
            evidence_fini(&t->ev);
            return;
        }
    }
    st->n_tcp++;
}

static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    struct state *st = state_of(rc);
    if (!st)
        return;
    if (l->transport == 6) {
        bool failed = l->outcome == LOOKUP_UNANSWERED || l->outcome == LOOKUP_ICMP_ERROR;
        keep_tcp(rc, st, &l->client, &l->server, l->server_port, true, qhash(l->qname, l->qtype),
                 &l->first_tx, l->outcome, 0, failed, &l->query,
                 l->outcome == LOOKUP_ICMP_ERROR ? &l->error : NULL);
        return;
    }
    if (l->transport != 17 || l->outcome != LOOKUP_ANSWERED || !(l->answer.dns_flags & DNS_FLAG_TC))
        return;
    if (!grow((void **)&st->tc, &st->cap_tc, st->n_tc, st->tc_max, sizeof *st->tc)) {
        st->tc_dropped++;
        rule_count_limit(rc, "truncated_dropped", 1);
        return;
    }
    struct tc_item *t = &st->tc[st->n_tc];
    memset(t, 0, sizeof *t);
    t->client = l->client;
    t->server = l->server;
    t->port = l->server_port;
    t->qhash = qhash(l->qname, l->qtype);
    char name[DNS_NAME_TEXT_MAX + 32];
    text_query_name(l, name, sizeof name);
    t->name = strdup(name);
    t->first_tx = l->first_tx;
    t->answer_ts = l->answer.ts;
    t->transmissions = l->transmissions;
    t->has_opt = l->query.has_opt;
    t->answer_len = l->answer.dns_len;
    if (!t->name || !evidence_copy(&t->query, &l->query) ||
        !evidence_copy(&t->answer, &l->answer)) {
        free(t->name);
        evidence_fini(&t->query);
        evidence_fini(&t->answer);
        st->tc_dropped++;
        rule_count_limit(rc, "truncated_dropped", 1);
        return;
    }
    st->n_tc++;
}

static void on_attempt(struct rule_ctx *rc, const struct tcp_attempt *a)
{
    struct state *st = state_of(rc);
    if (!st)
        return;
    if (a->server_port != 53)
        return;
    bool failed =
        a->outcome == TCP_RESET || a->outcome == TCP_ICMP_ERROR || a->outcome == TCP_UNANSWERED;
    keep_tcp(rc, st, &a->client, &a->server, a->server_port, false, 0, &a->first_syn, a->outcome,
             a->syns, failed, &a->syn, &a->reply);
}

static uint64_t flow_hash(const struct nt_addr *client, const struct nt_addr *server, uint16_t port)
{
    struct htab_hasher s;
    htab_hasher_init(&s);
    htab_hasher_addr(&s, client);
    htab_hasher_addr(&s, server);
    htab_hasher_u16(&s, port);
    return htab_hasher_end(&s);
}

/* Indexes the TCP items by client, server and port (once every item is in). False when out of
 * memory: judge then scans them all. */
static bool index_tcp(struct state *st)
{
    for (size_t i = 0; i < st->n_tcp; i++) {
        struct tcp_item *r = &st->tcp[i];
        if (htab_insert(&st->tcp_ix, flow_hash(&r->client, &r->server, r->port), r) < 0) {
            htab_fini(&st->tcp_ix);
            return false;
        }
    }
    return true;
}

/* Does the TCP item follow the truncated answer as its retry? */
static bool follows(const struct tc_item *t, const struct tcp_item *r)
{
    if (r->port != t->port || !nt_addr_eq(&r->client, &t->client) ||
        !nt_addr_eq(&r->server, &t->server))
        return false;
    if (r->is_lookup && r->qhash != t->qhash)
        return false;
    if (r->start.kind != t->answer_ts.kind || t->answer_ts.kind == NT_TIME_NONE)
        return r->start.kind == NT_TIME_NONE || t->answer_ts.kind == NT_TIME_NONE;
    int64_t d = nt_time_diff_us(&t->answer_ts, &r->start);
    /* Started after the query (a client may open TCP while the UDP answer is in flight). */
    return nt_time_cmp(&r->start, &t->first_tx) >= 0 && d <= RETRY_WINDOW_US;
}

/* The retry of a truncated answer: a TCP lookup of the same question decides; else a TCP
 * attempt to the port (its query may not have been decoded). Among several, the last one that
 * succeeded, else the first, in the order the items were kept (the index's order, which
 * depends on the hash seed, does not count). */
static void consider(const struct tcp_item *r, const struct tcp_item **first,
                     const struct tcp_item **last_ok)
{
    bool ok = r->is_lookup ? r->outcome == LOOKUP_ANSWERED : r->outcome == TCP_ESTABLISHED;
    if (!*first || r < *first)
        *first = r;
    if (ok && (!*last_ok || r > *last_ok))
        *last_ok = r;
}

static enum retry judge(const struct state *st, const struct tc_item *t,
                        const struct tcp_item **why)
{
    const struct tcp_item *first_lookup = NULL, *ok_lookup = NULL, *first_attempt = NULL,
                          *ok_attempt = NULL;
    if (htab_count(&st->tcp_ix)) {
        struct htab_iter it;
        for (const struct tcp_item *r =
                 htab_find(&st->tcp_ix, flow_hash(&t->client, &t->server, t->port), &it);
             r; r = htab_find_next(&st->tcp_ix, &it))
            if (follows(t, r))
                consider(r, r->is_lookup ? &first_lookup : &first_attempt,
                         r->is_lookup ? &ok_lookup : &ok_attempt);
    } else {
        for (size_t i = 0; i < st->n_tcp; i++)
            if (follows(t, &st->tcp[i]))
                consider(&st->tcp[i], st->tcp[i].is_lookup ? &first_lookup : &first_attempt,
                         st->tcp[i].is_lookup ? &ok_lookup : &ok_attempt);
    }
    const struct tcp_item *lookup = ok_lookup ? ok_lookup : first_lookup;
    const struct tcp_item *attempt = ok_attempt ? ok_attempt : first_attempt;
    *why = NULL;
    if (lookup) {
        if (lookup->outcome == LOOKUP_ANSWERED)
            return R_OK;
        if (lookup->outcome == LOOKUP_CAPTURE_ENDED)
            return R_UNKNOWN;
        *why = lookup;
        return R_FAILED;
    }
    if (attempt) {
        if (attempt->outcome == TCP_ESTABLISHED)
            return R_OK;
        if (attempt->outcome == TCP_CAPTURE_ENDED)
            return R_UNKNOWN;
        *why = attempt;
        return R_FAILED;
    }
    return R_NONE;
}

static struct finding *raise_for(struct rule_ctx *rc, const struct tc_item *t)
{
    char key[NT_ADDR_FMT_MAX + 16], addr[NT_ADDR_FMT_MAX];
    nt_addr_format(&t->server, addr, sizeof addr);
    snprintf(key, sizeof key, "%s|%u", addr, t->port);
    struct finding *f = rule_raise(rc, key);
    if (!f)
        return NULL;
    if (!f->priv) {
        struct tc_acc *a = calloc(1, sizeof *a);
        if (!a)
            return NULL;
        a->min_len = UINT32_MAX;
        f->priv = a;
        f->priv_free = acc_free;
        f->transport = 17;
        f->port = t->port;
        f->service = "DNS";
        f->has_server = true;
        f->server = t->server;
    }
    return f;
}

static void add_ok(struct tc_acc *a, const struct nt_time *ts)
{
    if (ts->kind == NT_TIME_NONE)
        return;
    /* At most one per truncated answer kept. */
    if (!grow((void **)&a->ok, &a->cap_ok, a->n_ok, SIZE_MAX, sizeof *a->ok))
        return;
    a->ok[a->n_ok++] = *ts;
}

/* The incident window from the truncated answers of the same server that were retried over TCP
 * with success: the detector's would count the truncated answers themselves as successes. */
static void fill_window(struct finding *f)
{
    const struct tc_acc *a = f->priv;
    struct incident_window *w = &f->window;
    memset(w, 0, sizeof *w);
    w->window_set = true;
    w->ok_total = a->retry_ok;
    for (size_t i = 0; i < a->n_ok; i++) {
        const struct nt_time *t = &a->ok[i];
        if (t->kind != f->first_seen.kind)
            continue;
        if (nt_time_cmp(t, &f->first_seen) < 0) {
            if (!w->has_ok_before || nt_time_cmp(t, &w->ok_before) > 0)
                w->ok_before = *t;
            w->has_ok_before = true;
        } else if (nt_time_cmp(t, &f->last_seen) > 0) {
            if (!w->has_ok_after || nt_time_cmp(t, &w->ok_after) < 0)
                w->ok_after = *t;
            w->has_ok_after = true;
        } else {
            w->ok_during++;
        }
    }
}

static void explain_finding(const struct state *st, struct finding *f)
{
    struct tc_acc *a = f->priv;
    fill_window(f);
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8], clients[512], names[512];
    text_addr(&f->server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, names, sizeof names);
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    char span[2 * NT_TIME_FMT_MAX + 16], t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX];
    text_time(&a->first_tc, t1, sizeof t1);
    text_time(&a->last_tc, t2, sizeof t2);
    if (strcmp(t1, t2) == 0)
        snprintf(span, sizeof span, "at %s", t1);
    else
        snprintf(span, sizeof span, "between %s and %s", t1, t2);
    char how[256];
    if (a->no_retry && a->retry_failed)
        snprintf(how, sizeof how,
                 "%" PRIu64 " %s never retried over TCP and the TCP retry of %" PRIu64 " failed",
                 a->no_retry, a->no_retry == 1 ? "was" : "were", a->retry_failed);
    else if (a->no_retry)
        snprintf(how, sizeof how, "the client never retried %s over TCP",
                 f->lookups == 1 ? "it" : "them");
    else
        snprintf(how, sizeof how, "the retry over TCP failed");
    finding_set_summary(
        f,
        "Truncated DNS answers were not followed by a working retry over TCP. %" PRIu64
        " %s to the DNS server %s (%s) from %" PRIu64 " %s (%s) got an answer over UDP with the "
        "TC flag set, meaning the full answer did not fit and must be asked for over TCP port "
        "%u; %s. Without it the clients have only a truncated, possibly empty answer.",
        f->lookups, f->lookups == 1 ? "lookup" : "lookups", srv, names, n_clients,
        n_clients == 1 ? "client" : "clients", clients, f->port, how);

    char lens[96] = "";
    if (a->min_len != UINT32_MAX) {
        if (a->min_len == a->max_len)
            snprintf(lens, sizeof lens, " of %u bytes", a->min_len);
        else
            snprintf(lens, sizeof lens, " of %u to %u bytes", a->min_len, a->max_len);
    }
    finding_add_fact(f,
                     "%" PRIu64 " truncated %s%s (TC flag set) came from %s over UDP port %u %s.",
                     f->lookups, f->lookups == 1 ? "answer" : "answers", lens, srv, f->port, span);
    char window[32];
    nt_duration_format(RETRY_WINDOW_US, window, sizeof window);
    if (a->no_retry)
        finding_add_fact(f,
                         "For %" PRIu64 " of them the capture shows no TCP connection from the "
                         "client to %s port %u within %s after the truncated answer.",
                         a->no_retry, srv, f->port, window);
    char failed[160] = "";
    if (a->retry_failed) {
        size_t o = 0;
        if (a->resets)
            o += (size_t)snprintf(failed + o, sizeof failed - o, "%" PRIu64 " refused with a reset",
                                  a->resets);
        if (a->icmp)
            o += (size_t)snprintf(failed + o, sizeof failed - o,
                                  "%s%" PRIu64 " refused with an ICMP error", o ? ", " : "",
                                  a->icmp);
        if (a->silent && o < sizeof failed)
            snprintf(failed + o, sizeof failed - o, "%s%" PRIu64 " met silence", o ? ", " : "",
                     a->silent);
        finding_add_fact(f,
                         "For %" PRIu64 " of them the client did retry over TCP, and the retry "
                         "failed: %s.",
                         a->retry_failed, failed);
    }
    if (a->retry_ok)
        finding_add_fact(f,
                         "%" PRIu64 " other truncated %s from the same server %s retried over "
                         "TCP with success.",
                         a->retry_ok, a->retry_ok == 1 ? "answer" : "answers",
                         a->retry_ok == 1 ? "was" : "were");
    if (a->cut)
        finding_add_fact(f,
                         "%" PRIu64 " truncated %s came too close to the end of the capture to "
                         "judge the retry; not counted.",
                         a->cut, a->cut == 1 ? "answer" : "answers");
    if (a->no_edns)
        finding_add_fact(f,
                         "%" PRIu64 " of the %" PRIu64 " truncated lookups sent their query "
                         "without EDNS, which limits an answer over UDP to 512 bytes.",
                         a->no_edns, f->lookups);
    else
        finding_add_fact(f, "Every truncated lookup offered EDNS in its query: the answers were "
                            "larger than the buffer the client offered.");
    if (st->tc_dropped)
        finding_add_fact(f,
                         "%" PRIu64 " further truncated answers were not kept (memory bound) and "
                         "are not counted here.",
                         st->tc_dropped);
    if (st->tcp_dropped)
        finding_add_fact(f,
                         "%" PRIu64 " TCP lookups or connection attempts to port 53 were not "
                         "kept (memory bound), so some retries may have been missed.",
                         st->tcp_dropped);

    if (a->retry_failed) {
        finding_add_cause(
            f, CONF_HIGH,
            "A firewall blocks DNS over TCP (port 53) to the server, a common misconfiguration "
            "that allows only UDP 53.",
            "The clients did retry over TCP and the retry failed (%s), while the server "
            "answered over UDP. A DNS server that does not serve TCP at all is refused the same "
            "way; its listening sockets (`ss -ltn`) and firewall rules tell them apart.",
            failed);
    }
    if (a->no_retry) {
        finding_add_cause(
            f, a->retry_ok ? CONF_MEDIUM : CONF_HIGH,
            "The client, or a resolver or middlebox between it and the server, does not fall "
            "back to TCP after a truncated answer.",
            "%" PRIu64 " truncated %s had no TCP connection from the client to %s port %u "
            "within %s%s.",
            a->no_retry, a->no_retry == 1 ? "answer" : "answers", srv, f->port, window,
            a->retry_ok ? ", though other truncated answers were retried, so the fallback works "
                          "at times (a per-application setting, or a limit)"
                        : "");
    }
    finding_add_cause(
        f, a->no_edns ? CONF_MEDIUM : CONF_LOW,
        "The answers are too large for UDP: the query's EDNS buffer size (or its absence) is "
        "smaller than the answer.",
        "%" PRIu64 " of the %" PRIu64 " truncated lookups sent their query without EDNS "
        "(512-byte limit); a record set larger than any buffer needs TCP whatever the client "
        "offers, so trimming it at the source helps too.",
        a->no_edns, f->lookups);
    finding_rank_causes(f);

    const char *qname = text_first_query_name(f);
    char qcmd[DNS_NAME_TEXT_MAX * 3];
    if (qname) {
        text_shell_query(qname, qcmd, sizeof qcmd);
        finding_add_step(f,
                         "From an affected client, ask over TCP directly: `dig @%s %s +tcp`. An "
                         "answer shows TCP 53 works from there; a refusal or timeout shows it is "
                         "blocked.",
                         srv_cmd, qcmd);
        finding_add_step(f,
                         "Compare the answer's size with what UDP can carry: `dig @%s %s "
                         "+bufsize=1232` and `dig @%s %s +noedns +ignore` (look for the tc flag "
                         "and the MSG SIZE).",
                         srv_cmd, qcmd, srv_cmd, qcmd);
    }
    finding_add_step(f,
                     "On %s and on firewalls on the path, check that TCP port %u is open: `nft "
                     "list ruleset`, `iptables -S` (UDP and TCP 53 must both be allowed), and "
                     "that the DNS server listens on it: `ss -ltn 'sport = :%u'`.",
                     srv, f->port, f->port);
    finding_add_step(f,
                     "On the clients (%s), check that the resolver library or application falls "
                     "back to TCP on truncation, and that no DNS proxy or middlebox in between "
                     "drops TCP DNS.",
                     clients);
}

static void free_state(void *p)
{
    struct state *st = p;
    for (size_t i = 0; i < st->n_tc; i++) {
        free(st->tc[i].name);
        evidence_fini(&st->tc[i].query);
        evidence_fini(&st->tc[i].answer);
    }
    for (size_t i = 0; i < st->n_tcp; i++) {
        evidence_fini(&st->tcp[i].ev);
        evidence_fini(&st->tcp[i].reply);
    }
    free(st->tc);
    free(st->tcp);
    htab_fini(&st->tcp_ix);
    free(st);
}

/* The finding of a server, if it has one. */
static struct finding *finding_of(struct rule_ctx *rc, const struct tc_item *t)
{
    char key[NT_ADDR_FMT_MAX + 16], addr[NT_ADDR_FMT_MAX];
    nt_addr_format(&t->server, addr, sizeof addr);
    snprintf(key, sizeof key, "%s|%u", addr, t->port);
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        if (strcmp(f->key, key) == 0)
            return f;
    return NULL;
}

static void add_failure(struct rule_ctx *rc, const struct tc_item *t, enum retry r,
                        const struct tcp_item *why)
{
    struct finding *f = raise_for(rc, t);
    if (!f)
        return;
    struct tc_acc *a = f->priv;
    finding_add_client(f, &t->client);
    finding_add_name(f, t->name);
    f->lookups++;
    f->query_packets += t->transmissions;
    f->error_packets++;
    if (!t->has_opt)
        a->no_edns++;
    if (t->answer_len < a->min_len)
        a->min_len = t->answer_len;
    if (t->answer_len > a->max_len)
        a->max_len = t->answer_len;
    finding_add_evidence(f, &t->query);
    finding_add_evidence(f, &t->answer);
    finding_see_time(f, &t->first_tx);
    finding_see_time(f, &t->answer_ts);
    nt_time_widen(&a->first_tc, &a->last_tc, &t->answer_ts);
    if (r == R_NONE) {
        a->no_retry++;
    } else {
        a->retry_failed++;
        if (why->is_lookup ? why->outcome == LOOKUP_ICMP_ERROR : why->outcome == TCP_ICMP_ERROR)
            a->icmp++;
        else if (!why->is_lookup && why->outcome == TCP_RESET)
            a->resets++;
        else
            a->silent++;
        f->query_packets += why->is_lookup ? 1 : why->syns;
        if (why->reply.role)
            f->error_packets++;
        if (why->ev.role) {
            finding_add_evidence(f, &why->ev);
            finding_see_time(f, &why->ev.ts);
        }
        if (why->reply.role) {
            finding_add_evidence(f, &why->reply);
            finding_see_time(f, &why->reply.ts);
        }
    }
    f->packets = f->query_packets + f->error_packets;
}

static void on_finish(struct rule_ctx *rc)
{
    const struct correlate_stats *cs = rule_stats(rc);
    struct state *st = state_of(rc);
    if (!st)
        return;
    index_tcp(st);
    uint8_t *cls = calloc(st->n_tc ? st->n_tc : 1, 1);
    if (!cls)
        return;
    /* Failures first (truncated answers in the order they were final), then, for the servers
     * that have a finding, the successes and the answers that could not be judged. */
    for (size_t i = 0; i < st->n_tc; i++) {
        const struct tc_item *t = &st->tc[i];
        const struct tcp_item *why;
        enum retry r = judge(st, t, &why);
        /* No retry seen, but the capture ended too soon after the answer to tell. */
        if (r == R_NONE && cs && cs->last_ts.kind == t->answer_ts.kind &&
            t->answer_ts.kind != NT_TIME_NONE &&
            nt_time_diff_us(&t->answer_ts, &cs->last_ts) < MIN_TAIL_US)
            r = R_UNKNOWN;
        cls[i] = (uint8_t)r;
        if (r == R_NONE || r == R_FAILED)
            add_failure(rc, t, r, why);
    }
    for (size_t i = 0; i < st->n_tc; i++) {
        if (cls[i] != R_OK && cls[i] != R_UNKNOWN)
            continue;
        struct finding *f = finding_of(rc, &st->tc[i]);
        if (!f)
            continue;
        struct tc_acc *a = f->priv;
        if (cls[i] == R_OK) {
            a->retry_ok++;
            add_ok(a, &st->tc[i].answer_ts);
        } else {
            a->cut++;
        }
    }
    free(cls);
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(st, f);
}

const struct rule rule_dns_truncated_no_tcp = {
    .id = "dns.truncated_no_tcp",
    .severity = SEV_MEDIUM,
    .title = "Truncated DNS answers not retried over TCP",
    .on_dns_lookup = on_lookup,
    .on_tcp_attempt = on_attempt,
    .on_finish = on_finish,
    .free_state = free_state,
    .bounds = bounds,
};
