/* dns_no_response.c: DNS lookups that drew neither an answer nor an ICMP error before the
 * timeout (outcome LOOKUP_UNANSWERED), grouped per server, port and transport.
 *
 * Short captures. A lookup cut off by the end of the capture (LOOKUP_CAPTURE_ENDED: silent for
 * less than the timeout when the capture stopped) is a failure here only when the client itself
 * showed that no answer came in its time:
 *   - it retransmitted the query at least RETRY_MIN_US (200 ms) after the first (its own retry
 *     timer ran out with no answer; the same query seen twice at once on two interfaces is
 *     not a retry), or
 *   - it gave up on it: the same client asked the same name and type again as a new lookup
 *     (another server, or a new id or port) after the lookup's last transmission.
 * Such lookups are counted as unanswered ("short observations"), and the finding says how long
 * the capture watched them and how often the client retried; the confidence of every cause is
 * capped (medium when the client retried at least twice or asked elsewhere and the capture
 * watched for at least 2 s, else low), and a finding made only of short observations is of
 * medium severity. A query sent once just before the capture ended, with no new lookup after
 * it, stays "cut off": it is counted as a fact, never as a failure. (A client's ICMP error about
 * an answer also shows that it had given up, but that lookup was answered: dns.late_answer
 * reports it.)
 *
 * A flood is claimed (T1498) only when dns.flood raised a finding for the same server; without
 * it the unanswered share is reported as a loss rate with its figures. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/dns_finding.h"
#include "detect/hash_bytes.h"
#include "detect/one_sided.h"
#include "detect/rule.h"
#include "detect/text.h"
#include "util/htab.h"

/* Measured per finding while its lookups arrive (finding->priv). */
struct nr_acc {
    struct nt_time first_query, last_query; /* first transmissions of the silent lookups */
    struct nt_time last_tx;                 /* latest transmission of any of them */
    uint64_t retried;                       /* lookups sent more than once */
    uint32_t max_tx;                        /* most transmissions of one lookup */
    uint64_t ports;                         /* distinct source ports, summed over lookups */
    uint64_t new_port;                      /* lookups retried from more than one port */
    bool ports_overflow;                    /* some lookup used more ports than were kept */
    uint64_t rd_clear;                      /* lookups whose query header was seen with RD clear */
    uint64_t rd_unknown;                    /* lookups whose query flags the input did not carry */
    /* Short observations: lookups cut off by the end of the capture that the client retried
     * or gave up on (see the top of the file). */
    uint64_t short_n, short_retried, short_gave_up;
    uint32_t short_max_retx, short_min_retx; /* retransmissions of one of them */
    struct nt_time short_first, short_last;  /* their first transmissions */
    uint32_t short_min_input, short_max_input;
    struct nt_addr gave_up_to; /* the server of the first new lookup after giving up */
    bool has_gave_up_to;
    /* Over TCP: lookups whose connection the server accepted (its SYN-ACK is in the capture),
     * and of those, whose query it acknowledged (dns_lookup.tcp). */
    uint64_t tcp_accepted, tcp_acked;
};

/* What the rule remembers across lookups to tell a client that gave up: the newest lookup of
 * each (client, name, type), and the cut-off lookups sent once, waiting for a later lookup of
 * the same question (lookups cut off by the end reach the rules in creation order, after the
 * ones that closed earlier). Both are bounded rings indexed by the question's keyed hash: past
 * the bound the question entered first is forgotten (which can only leave a lookup "cut off";
 * a forgotten waiting lookup is counted). Which entry goes depends only on the order of the
 * lookups, never on the hash seed, so every run of the same input gives the same report. The
 * rings' sizes are bounds (--bound dns.no_response.NAME=N). */
static const struct rule_bound_def bounds[] = {
    {"recent", 65536, 16, 16777216, "questions (client, name, type) whose newest lookup is kept"},
    {"cut_off_waiting", 4096, 16, 1048576,
     "lookups cut off by the end of the capture kept waiting for a later lookup"},
    {NULL, 0, 0, 0, NULL},
};

struct recent {
    uint64_t h; /* 0: empty */
    uint64_t seq;
    uint32_t input;
    struct nt_time first_tx;
    struct nt_addr server;
};

struct pending {
    uint64_t h;
    struct dns_lookup l; /* qname and query evidence owned */
};

struct nr_state {
    struct recent *recent; /* ring of recent_max; the next to reuse at recent_next */
    size_t n_recent, recent_next;
    struct htab recent_index; /* h -> struct recent */
    struct pending **pend;    /* ring of pend_max; NULL where matched or empty */
    size_t pend_next;
    size_t recent_max, pend_max; /* the bounds */
    struct htab pend_index;      /* h -> struct pending */
    uint32_t max_input;
    /* The question key of the lookup prefetch saw (pre_of; NULL when none), for its on_lookup. */
    const struct dns_lookup *pre_of;
    uint64_t pre_h;
};

static void pending_free(struct pending *p)
{
    if (!p)
        return;
    free(p->l.qname);
    evidence_fini(&p->l.query);
    free(p);
}

static void state_free(void *v)
{
    struct nr_state *st = v;
    if (!st)
        return;
    if (st->pend)
        for (size_t i = 0; i < st->pend_max; i++)
            pending_free(st->pend[i]);
    free(st->pend);
    free(st->recent);
    htab_fini(&st->recent_index);
    htab_fini(&st->pend_index);
    free(st);
}

static struct nr_state *state_get(struct rule_ctx *rc)
{
    void **slot = rule_state(rc);
    if (!*slot) {
        struct nr_state *st = calloc(1, sizeof *st);
        if (!st)
            return NULL;
        htab_init(&st->recent_index);
        htab_init(&st->pend_index);
        st->recent_max = (size_t)rule_bound(rc, "recent");
        st->pend_max = (size_t)rule_bound(rc, "cut_off_waiting");
        st->recent = calloc(st->recent_max, sizeof *st->recent);
        st->pend = calloc(st->pend_max, sizeof *st->pend);
        if (!st->recent || !st->pend) {
            state_free(st);
            return NULL;
        }
        *slot = st;
    }
    return *slot;
}

/* The question's identity for one client (never 0): the name by its hash (rule_qname_hash). */
static uint64_t question_key(const struct rule_ctx *rc, const struct dns_lookup *l)
{
    /* Client, type, class and name hash as one run of bytes (detect/hash_bytes.h): one call. */
    uint8_t b[HB_ADDR_MAX + 12];
    size_t n = hb_addr(b, &l->client);
    n += hb_u16(b + n, l->qtype);
    n += hb_u16(b + n, l->qclass);
    n += hb_u64(b + n, rule_qname_hash(rc, l));
    uint64_t k = htab_hash(b, n);
    return k ? k : 1;
}

static struct recent *recent_find(const struct nr_state *st, uint64_t h)
{
    struct htab_iter it;
    for (struct recent *r = htab_find(&st->recent_index, h, &it); r;
         r = htab_find_next(&st->recent_index, &it))
        if (r->h == h)
            return r;
    return NULL;
}

/* The entry of question h, which has none (recent_find): made, reusing the oldest past
 * recent_max; NULL when out of memory. */
static struct recent *recent_new(struct nr_state *st, uint64_t h)
{
    struct recent *r;
    bool fresh = st->n_recent < st->recent_max;
    r = fresh ? &st->recent[st->n_recent] : &st->recent[st->recent_next];
    if (!fresh && r->h)
        htab_remove(&st->recent_index, r->h, r);
    memset(r, 0, sizeof *r); /* h 0: not in the index */
    if (htab_insert(&st->recent_index, h, r) < 0)
        return NULL;
    if (fresh)
        st->n_recent++;
    else
        st->recent_next = (st->recent_next + 1) % st->recent_max;
    r->h = h;
    return r;
}

/* The waiting lookup of question h and its ring slot, or NULL. */
static struct pending **pending_find(const struct nr_state *st, uint64_t h)
{
    struct htab_iter it;
    for (struct pending **pp = htab_find(&st->pend_index, h, &it); pp;
         pp = htab_find_next(&st->pend_index, &it))
        if (*pp && (*pp)->h == h)
            return pp;
    return NULL;
}

static void pending_drop(struct nr_state *st, struct pending **pp)
{
    htab_remove(&st->pend_index, (*pp)->h, pp);
    pending_free(*pp);
    *pp = NULL;
}

/* Keeps p waiting: replaces the waiting lookup of the same question, else takes the next ring
 * slot, forgetting the one entered pend_max lookups ago if it still waits (both counted).
 * Takes p (freed on failure). */
static void pending_keep(struct rule_ctx *rc, struct nr_state *st, struct pending *p)
{
    struct pending **pp = pending_find(st, p->h);
    if (pp) {
        rule_count_limit(rc, "cut_off_lookups_forgotten", 1);
        pending_free(*pp);
        *pp = p;
        return;
    }
    pp = &st->pend[st->pend_next];
    st->pend_next = (st->pend_next + 1) % st->pend_max;
    if (*pp) {
        rule_count_limit(rc, "cut_off_lookups_forgotten", 1);
        pending_drop(st, pp);
    }
    if (htab_insert(&st->pend_index, p->h, pp) < 0) {
        pending_free(p);
        return;
    }
    *pp = p;
}

/* A retransmission is evidence that the client's timer ran out only when it came this long
 * after the first query: the same query seen twice at once (tcpdump -i any shows a packet on
 * every interface it crosses) is one transmission, not a retry. Client retry timers start
 * around 1 s (dig 1 s with +timeout=1, glibc 5 s by default). */
#define RETRY_MIN_US 200000

/* A new lookup of the same question counts as giving up on the earlier one only this long
 * after the earlier one's last transmission: a client that asks two servers at once (in
 * parallel) has not given up on either. */
#define GAVE_UP_GAP_US 200000

/* Whether `later` is a new lookup of the same question sent after l's last transmission. */
static bool asked_again_after(const struct dns_lookup *l, uint64_t later_seq, uint32_t later_input,
                              const struct nt_time *later_first)
{
    return later_seq != l->seq && later_input == l->input && later_first->kind != NT_TIME_NONE &&
           later_first->kind == l->last_tx.kind &&
           nt_time_diff_us(&l->last_tx, later_first) >= GAVE_UP_GAP_US;
}

/* Counts a silent lookup into its server's finding. short_obs: cut off by the end of the
 * capture, but retried or given up on (gave_up_to: the server asked next, or NULL). */
static void count_silent(struct rule_ctx *rc, const struct dns_lookup *l, bool short_obs,
                         const struct nt_addr *gave_up_to)
{
    bool created;
    struct finding *f = dns_server_finding(rc, l, sizeof(struct nr_acc), &created);
    if (!f || !f->priv)
        return;
    struct nr_acc *a = f->priv;
    if (created)
        a->short_min_retx = UINT32_MAX;
    dns_finding_count(f, l, 0);
    if (l->transmissions > 1)
        a->retried++;
    if (l->transmissions > a->max_tx)
        a->max_tx = l->transmissions;
    a->ports += l->n_client_ports ? l->n_client_ports : 1;
    if (l->n_client_ports > 1)
        a->new_port++;
    a->ports_overflow |= l->client_ports_overflow;
    if (l->tcp.synack_seen) {
        a->tcp_accepted++;
        a->tcp_acked += l->tcp.query_acked;
    }
    if (!l->query.has_dns)
        a->rd_unknown++;
    else if (!(l->query_flags & DNS_FLAG_RD))
        a->rd_clear++;
    finding_add_evidence(f, &l->query);
    finding_see_time(f, &l->first_tx);
    finding_see_time(f, &l->last_tx);
    nt_time_widen(&a->first_query, &a->last_query, &l->first_tx);
    if (l->last_tx.kind != NT_TIME_NONE &&
        (a->last_tx.kind == NT_TIME_NONE || nt_time_cmp(&l->last_tx, &a->last_tx) > 0))
        a->last_tx = l->last_tx;
    if (short_obs) {
        uint32_t retx = l->transmissions ? l->transmissions - 1 : 0;
        if (a->short_n == 0 || l->input < a->short_min_input)
            a->short_min_input = l->input;
        if (l->input > a->short_max_input)
            a->short_max_input = l->input;
        a->short_n++;
        if (retx)
            a->short_retried++;
        if (retx > a->short_max_retx)
            a->short_max_retx = retx;
        if (retx < a->short_min_retx)
            a->short_min_retx = retx;
        nt_time_widen(&a->short_first, &a->short_last, &l->first_tx);
        if (gave_up_to) {
            a->short_gave_up++;
            if (!a->has_gave_up_to) {
                a->gave_up_to = *gave_up_to;
                a->has_gave_up_to = true;
            }
        }
    }
}

/* Hashes the lookup's question and asks for its slot in the index of recent questions, and for
 * the slot of the question the ring would forget for it: most lookups ask a question the index
 * does not hold, and a busy resolver's index is far larger than the caches. */
static void prefetch(struct rule_ctx *rc, const struct dns_lookup *l)
{
    struct nr_state *st = state_get(rc);
    if (!st || l->tcp.server_close || !l->has_question || !l->qname)
        return;
    st->pre_of = l;
    st->pre_h = question_key(rc, l);
    const struct htab *ix = &st->recent_index;
    if (!ix->slots)
        return;
    __builtin_prefetch(&ix->slots[st->pre_h & ix->mask]);
    if (st->n_recent == st->recent_max && st->recent[st->recent_next].h)
        __builtin_prefetch(&ix->slots[st->recent[st->recent_next].h & ix->mask]);
}

static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    /* A connection the server closed after the query is dns.tcp_closed's: it is reachable. */
    if (l->tcp.server_close)
        return;
    struct nr_state *st = state_get(rc);
    if (st && l->input > st->max_input)
        st->max_input = l->input;
    uint64_t h = 0;
    if (st && st->pre_of == l)
        h = st->pre_h;
    else if (st && l->has_question && l->qname)
        h = question_key(rc, l);
    if (st)
        st->pre_of = NULL;
    struct recent *r = h ? recent_find(st, h) : NULL;
    struct pending **pp = h ? pending_find(st, h) : NULL;

    /* A lookup sent once and cut off, waiting: this later lookup of the same question shows
     * that its client gave up on it. */
    if (pp && asked_again_after(&(*pp)->l, l->seq, l->input, &l->first_tx)) {
        count_silent(rc, &(*pp)->l, true, &l->server);
        pending_drop(st, pp);
    }

    if (l->outcome == LOOKUP_UNANSWERED) {
        count_silent(rc, l, false, NULL);
    } else if (l->outcome == LOOKUP_CAPTURE_ENDED) {
        if (l->transmissions > 1 && nt_time_diff_us(&l->first_tx, &l->last_tx) >= RETRY_MIN_US) {
            count_silent(rc, l, true, NULL);
        } else if (r && asked_again_after(l, r->seq, r->input, &r->first_tx)) {
            count_silent(rc, l, true, &r->server);
        } else if (h) {
            /* Sent once: cut off unless a later lookup of the same question follows. */
            struct pending *p = calloc(1, sizeof *p);
            if (p) {
                p->h = h;
                p->l = *l;
                memset(&p->l.query, 0, sizeof p->l.query);
                memset(&p->l.answer, 0, sizeof p->l.answer);
                memset(&p->l.error, 0, sizeof p->l.error);
                p->l.tcp.close = NULL; /* not kept (and none: closed ones return above) */
                p->l.qname = strdup(l->qname);
                if (!p->l.qname || !evidence_copy(&p->l.query, &l->query))
                    pending_free(p);
                else
                    pending_keep(rc, st, p);
            }
        }
    }

    if (h && !r)
        r = recent_new(st, h); /* its fields are filled below */
    else if (r && r->first_tx.kind == l->first_tx.kind && r->input == l->input &&
             nt_time_cmp(&l->first_tx, &r->first_tx) < 0)
        r = NULL; /* an older lookup of the question than the one kept */
    if (r) {
        r->seq = l->seq;
        r->input = l->input;
        r->first_tx = l->first_tx;
        r->server = l->server;
    }
}

/* How the server's answers sit around the silences, from the detector's statistics (answers of
 * any rcode: the server responded). */
enum shape {
    SHAPE_NEVER,    /* no answer at all in the capture */
    SHAPE_STOPPED,  /* answers only before the first silent lookup */
    SHAPE_STARTED,  /* answers only after the last silent lookup */
    SHAPE_MIXED,    /* answers on both sides of, or among, the silent lookups */
    SHAPE_NO_TIMES, /* answers, but the input has no times to place them */
    SHAPE_UNKNOWN,  /* the detector did not keep the server's figures (--bound detect.services) */
};

static enum shape shape_of(bool kept, const struct server_stats *ss, const struct nr_acc *a)
{
    if (!kept)
        return SHAPE_UNKNOWN;
    if (!ss || ss->answered == 0)
        return SHAPE_NEVER;
    if (ss->first_answer.kind == NT_TIME_NONE || a->first_query.kind == NT_TIME_NONE ||
        ss->first_answer.kind != a->first_query.kind)
        return SHAPE_NO_TIMES;
    if (nt_time_cmp(&ss->last_answer, &a->first_query) < 0)
        return SHAPE_STOPPED;
    if (nt_time_cmp(&ss->first_answer, &a->last_tx) > 0)
        return SHAPE_STARTED;
    return SHAPE_MIXED;
}

static void explain_finding(struct rule_ctx *rc, struct finding *f)
{
    const struct nr_acc *a = f->priv;
    const struct server_stats *ss =
        rule_server_stats(rc, &f->server, f->port, f->transport == 6 ? 6 : 17);
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8], clients[512], names[512];
    char to[32], t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], when[2 * NT_TIME_FMT_MAX + 16];
    const char *PROTO = f->transport == 6 ? "TCP" : "UDP";
    text_addr(&f->server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, names, sizeof names);
    nt_duration_format(rule_timeout_us(rc), to, sizeof to);
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    uint64_t answered = ss ? ss->answered : 0, all = ss ? ss->lookups : f->lookups;
    uint64_t icmp = ss ? ss->icmp_errors : 0, cut = ss ? ss->capture_ended : 0;
    cut = cut > a->short_n ? cut - a->short_n : 0; /* the short observations are counted */
    uint64_t retrans = f->query_packets - f->lookups;
    bool kept = rule_service_kept(rc, &f->server, f->port, f->transport == 6 ? 6 : 17);
    enum shape shape = shape_of(kept, ss, a);
    /* Over TCP, every connection accepted by the server: it is reachable on the port. */
    bool accepted = a->tcp_accepted && a->tcp_accepted == f->lookups;
    /* The capture holds one direction of every client's traffic: what came back to them is
     * missing from the capture, so silence is no evidence that nothing came. */
    uint64_t os_sent, os_unseen;
    bool one_sided = finding_clients_one_sided(rc, f, &os_sent, &os_unseen);
    /* The same server on the other transport: answers there show the host and service up. */
    const struct server_stats *os =
        rule_server_stats(rc, &f->server, f->port, f->transport == 6 ? 17 : 6);
    uint64_t other_ok = os ? os->answered : 0;
    const char *OTHER = f->transport == 6 ? "UDP" : "TCP";

    /* Severity: an outage (never answered, or silent since a moment) is high; a server that
     * answered most of its lookups and kept answering after the silences began is medium. */
    f->severity = SEV_HIGH;
    if ((shape == SHAPE_MIXED || shape == SHAPE_STARTED) && answered * 2 > all)
        f->severity = SEV_MEDIUM;
    /* Only short observations: the client's own timers say no answer came, but the capture
     * watched for less than the timeout. */
    bool only_short = a->short_n == f->lookups;
    if (only_short && f->severity > SEV_MEDIUM)
        f->severity = SEV_MEDIUM;
    if (one_sided)
        f->severity = SEV_LOW;

    /* How long the capture watched the short observations: from their first transmission to
     * the capture's last packet, when they come from the last input (whose end is the
     * capture's last packet); else unknown. */
    char observed[200] = "", short_words[400] = "";
    enum confidence short_cap = CONF_HIGH;
    if (a->short_n) {
        const struct nr_state *st = *rule_state(rc);
        const struct correlate_stats *cs = rule_stats(rc);
        int64_t obs_min = -1, obs_max = -1;
        if (st && cs && a->short_min_input == st->max_input &&
            a->short_max_input == st->max_input && cs->last_ts.kind == a->short_first.kind &&
            a->short_first.kind != NT_TIME_NONE) {
            obs_min = nt_time_diff_us(&a->short_last, &cs->last_ts);
            obs_max = nt_time_diff_us(&a->short_first, &cs->last_ts);
        }
        char o1[32], o2[32];
        if (obs_min >= 0) {
            nt_duration_format(obs_min, o1, sizeof o1);
            nt_duration_format(obs_max, o2, sizeof o2);
            if (strcmp(o1, o2) == 0)
                snprintf(observed, sizeof observed, "observed %s", o1);
            else
                snprintf(observed, sizeof observed, "observed %s to %s", o1, o2);
        } else {
            snprintf(observed, sizeof observed, "observed for an unknown time");
        }
        char retries[48];
        if (a->short_min_retx == a->short_max_retx)
            snprintf(retries, sizeof retries, "%u %s", a->short_max_retx,
                     a->short_max_retx == 1 ? "time" : "times");
        else
            snprintf(retries, sizeof retries, "%u to %u times", a->short_min_retx,
                     a->short_max_retx);
        snprintf(short_words, sizeof short_words,
                 " %" PRIu64 " of %s lookups %s cut off by the end of the capture before the "
                 "timeout (%s after the first query, the client retried %s%s); the client's "
                 "own %s that no answer came in its time.",
                 a->short_n, f->lookups == a->short_n ? "these" : "the",
                 a->short_n == 1 ? "was" : "were", observed, retries,
                 a->short_gave_up ? " or asked the same name again as a new lookup" : "",
                 a->short_n == 1 ? "retry or new lookup shows" : "retries or new lookups show");
        /* The shorter the watch, the weaker any cause: medium when the client retried at
         * least twice or asked elsewhere and the capture watched for at least 2 s, else low. */
        short_cap = (a->short_min_retx >= 2 || a->short_gave_up == a->short_n) && obs_min >= 2000000
                        ? CONF_MEDIUM
                        : CONF_LOW;
    }

    text_time(&a->first_query, t1, sizeof t1);
    text_time(&a->last_query, t2, sizeof t2);
    if (strcmp(t1, t2) == 0)
        snprintf(when, sizeof when, "at %s", t1);
    else
        snprintf(when, sizeof when, "between %s and %s", t1, t2);

    const char *shape_words = "";
    char last_ans[NT_TIME_FMT_MAX] = "", first_ans[NT_TIME_FMT_MAX] = "";
    if (ss && answered) {
        text_time(&ss->last_answer, last_ans, sizeof last_ans);
        text_time(&ss->first_answer, first_ans, sizeof first_ans);
    }
    switch (shape) {
    case SHAPE_NEVER:
        shape_words = one_sided ? " The capture shows no answer from the server, and no packet "
                                  "addressed to the client at all."
                      : accepted
                          ? " The server answered no DNS lookup in the capture, but it accepted "
                            "the TCP connections (their SYN-ACKs are in the capture): it is "
                            "reachable on this port and left the queries unanswered."
                      : icmp ? " The server answered no DNS lookup in the capture."
                             : " The server answered no DNS lookup in the capture and sent no "
                               "ICMP error: the capture never shows it reachable on this port.";
        break;
    case SHAPE_STOPPED:
        shape_words = " The server had answered earlier lookups, then went silent: an outage "
                      "that began after its last answer.";
        break;
    case SHAPE_STARTED:
        shape_words = " The server answered only after these lookups: it was silent, then "
                      "recovered.";
        break;
    case SHAPE_MIXED:
        shape_words = " The server answered other lookups before and after these: the silence "
                      "is intermittent.";
        break;
    case SHAPE_NO_TIMES:
        shape_words = " The server answered other lookups.";
        break;
    case SHAPE_UNKNOWN: /* nothing is known of its other lookups (the detector's fact) */
        break;
    }
    char within[64];
    if (only_short)
        snprintf(within, sizeof within, "before the capture ended");
    else
        snprintf(within, sizeof within, "within the %s timeout", to);
    char tail[600];
    if (one_sided)
        snprintf(tail, sizeof tail,
                 " The capture holds only one direction of %s traffic: it holds %" PRIu64
                 " packets from %s and none addressed to %s, yet %" PRIu64
                 " of %s TCP connections went on after the SYN (ACKs, data), which proves that "
                 "packets reached %s without being captured. The answers may be missing from the "
                 "capture rather than from the network.",
                 n_clients == 1 ? "the client's" : "these clients'", os_sent,
                 n_clients == 1 ? "it" : "them", n_clients == 1 ? "it" : "them", os_unseen,
                 n_clients == 1 ? "its" : "their", n_clients == 1 ? "it" : "them");
    else
        snprintf(tail, sizeof tail,
                 " Silence alone does not say where the queries were lost: a firewall that drops "
                 "them, a server that is down or hung, the path, or overload look the same from "
                 "the client's side.");
    finding_set_summary(f,
                        "DNS over %s port %u got no response. %" PRIu64 " %s to the DNS server "
                        "%s (%s) from %" PRIu64 " %s (%s) drew neither an answer nor an ICMP "
                        "error %s (%" PRIu64 " %s, %s).%s%s%s",
                        PROTO, f->port, f->lookups, f->lookups == 1 ? "lookup" : "lookups", srv,
                        names, n_clients, n_clients == 1 ? "client" : "clients", clients, within,
                        f->query_packets, f->query_packets == 1 ? "query" : "queries",
                        retrans ? "retransmissions included" : "none of them a retry", short_words,
                        shape_words, tail);
    if (one_sided)
        finding_add_fact(f,
                         "One direction only: the capture holds no packet addressed to %s (it "
                         "holds %" PRIu64 " from %s), and %" PRIu64 " of %s TCP connections "
                         "went on after the SYN with ACKs or data, which a client sends only "
                         "after receiving the server's SYN-ACK; none of those SYN-ACKs is in the "
                         "capture.",
                         clients, os_sent, n_clients == 1 ? "it" : "them", os_unseen,
                         n_clients == 1 ? "its" : "their");

    /* Key findings. */
    finding_add_fact(f,
                     "%" PRIu64 " DNS %s (%" PRIu64 " %s, %" PRIu64 " %s) went from %s to %s %s "
                     "port %u %s; no answer and no ICMP error came back for any of them before "
                     "the capture ended.",
                     f->query_packets, f->query_packets == 1 ? "query" : "queries", f->lookups,
                     f->lookups == 1 ? "lookup" : "lookups", retrans,
                     retrans == 1 ? "retransmission" : "retransmissions", clients, srv, PROTO,
                     f->port, when);
    if (a->rd_clear)
        finding_add_fact(f,
                         "%" PRIu64 " of these lookups did not ask for recursion (RD clear in "
                         "the query).",
                         a->rd_clear);
    if (a->short_n) {
        char gave[NT_ADDR_FMT_MAX + 200] = "";
        if (a->short_gave_up) {
            char to_srv[NT_ADDR_FMT_MAX];
            text_addr(&a->gave_up_to, to_srv, sizeof to_srv);
            snprintf(gave, sizeof gave,
                     "; for %" PRIu64 " of them the client gave up and asked the same name and "
                     "type again as a new lookup (the first to %s)",
                     a->short_gave_up, to_srv);
        }
        finding_add_fact(f,
                         "Short observation: %" PRIu64 " of these lookups had been silent for "
                         "less than the %s timeout when the capture ended (%s); %" PRIu64
                         " of them were retransmitted by the client%s. A client retries or asks "
                         "elsewhere only when its own timer ran out with no answer, so they are "
                         "counted as unanswered; a query sent once right before the end is not.",
                         a->short_n, to, observed, a->short_retried, gave);
    }
    if (a->retried) {
        char ports[96] = "";
        if (a->new_port)
            snprintf(ports, sizeof ports,
                     "; %" PRIu64 " of them retried from a new source port "
                     "(%" PRIu64 "%s distinct source ports in all)",
                     a->new_port, a->ports, a->ports_overflow ? "+" : "");
        char who[64], avg[48] = "";
        if (a->retried == f->lookups)
            text_all(f->lookups, "lookup", "lookups", who, sizeof who);
        else
            snprintf(who, sizeof who, "%" PRIu64 " of the %" PRIu64 " lookups", a->retried,
                     f->lookups);
        if (f->lookups > 1)
            snprintf(avg, sizeof avg, " (%.1f on average)",
                     (double)f->query_packets / (double)f->lookups);
        finding_add_fact(f,
                         "%s %s retried, up to %u transmissions per lookup%s%s; every retry went "
                         "unanswered too.",
                         who, a->retried == 1 ? "was" : "were", a->max_tx, avg, ports);
        if (a->new_port)
            finding_add_fact(f, "Retries from new source ports went unanswered as well, so the "
                                "silence is not tied to one flow (such as a stale NAT or "
                                "connection-tracking entry).");
    } else {
        finding_add_fact(f, "No lookup was retried: %s on a single query packet.",
                         f->lookups == 1 ? "the lookup rests" : "each lookup rests");
    }
    switch (shape) {
    case SHAPE_NEVER:
        if (all == 1)
            finding_add_fact(f,
                             "The only lookup to %s on %s port %u got no DNS answer in the "
                             "capture%s.",
                             srv, PROTO, f->port,
                             icmp ? "" : ", and no ICMP error about it came back either");
        else
            finding_add_fact(f,
                             "None of the %" PRIu64 " lookups to %s on %s port %u got a DNS "
                             "answer in the capture%s.",
                             all, srv, PROTO, f->port,
                             icmp ? "" : ", and no ICMP error about them came back either");
        break;
    case SHAPE_STOPPED: {
        int64_t gap = nt_time_diff_us(&ss->last_answer, &a->first_query);
        char g[32];
        nt_duration_format(gap, g, sizeof g);
        finding_add_fact(f,
                         "The same server answered %" PRIu64 " of its %" PRIu64 " lookups on %s "
                         "port %u, the last at %s, %s before the first unanswered query (%s); "
                         "it answered none after that.",
                         answered, all, PROTO, f->port, last_ans, g, t1);
        break;
    }
    case SHAPE_STARTED:
        finding_add_fact(f,
                         "The same server answered %" PRIu64 " of its %" PRIu64 " lookups on %s "
                         "port %u, all after the silent ones (first answer at %s).",
                         answered, all, PROTO, f->port, first_ans);
        break;
    case SHAPE_MIXED:
    case SHAPE_NO_TIMES:
        finding_add_fact(f,
                         "The same server answered %" PRIu64 " of its %" PRIu64 " lookups on %s "
                         "port %u (first answer at %s, last at %s).",
                         answered, all, PROTO, f->port, first_ans, last_ans);
        break;
    case SHAPE_UNKNOWN:
        break;
    }
    if (a->tcp_accepted)
        finding_add_fact(f,
                         "The server accepted the TCP connection of %" PRIu64 " of these lookups "
                         "(its SYN-ACK is in the capture) and acknowledged the query on %" PRIu64
                         "; it neither answered nor closed the connection before the capture "
                         "ended.",
                         a->tcp_accepted, a->tcp_acked);
    if (other_ok)
        finding_add_fact(f,
                         "The same server answered %" PRIu64 " of its %" PRIu64 " lookups over %s "
                         "(port %u) in the capture, so the host and its DNS service were up "
                         "while %s went unanswered.",
                         other_ok, os->lookups, OTHER, f->port, PROTO);
    if (icmp)
        finding_add_fact(f,
                         "%" PRIu64 " other %s to this server drew an ICMP error instead (see the "
                         "ICMP findings), from the server or a router on the way.",
                         icmp, icmp == 1 ? "lookup" : "lookups");
    if (cut)
        finding_add_fact(f,
                         "%" PRIu64 " further %s to this server %s cut off by the end of the "
                         "capture (sent less than %s before its last packet); %s counted "
                         "apart, not as failures.",
                         cut, cut == 1 ? "lookup" : "lookups", cut == 1 ? "was" : "were", to,
                         cut == 1 ? "it is" : "they are");

    /* Load, measured over this server's traffic. A flood is claimed (T1498) only on flood
     * evidence: dns.flood's finding for the same server, a rise of the query rate far above
     * the server's own rate before it. A high rate or many clients alone is the server's
     * normal load, and unanswered lookups among many answered ones are a loss rate. */
    int64_t span_us = 0;
    if (ss && ss->first_query.kind != NT_TIME_NONE)
        span_us = nt_time_diff_us(&ss->first_query, &ss->last_query);
    /* The server's distinct clients: past --bound detect.server_clients only a lower bound. */
    uint64_t n_cl = ss && ss->n_clients > n_clients ? ss->n_clients : n_clients;
    const char *cl_least = ss && ss->clients_overflow ? "at least " : "";
    uint64_t n_q = ss ? ss->query_packets : f->query_packets;
    const char *shows =
        kept ? "The capture shows" : "Its figures were not kept; this finding shows";
    double qps = span_us >= 1000000 ? (double)n_q / ((double)span_us / 1e6) : 0;
    const struct finding *flood = rule_other_finding(rc, "dns.flood", f->key);
    char rate[96] = "", d1[32];
    nt_duration_format(span_us, d1, sizeof d1);
    if (span_us >= 1000000)
        snprintf(rate, sizeof rate, " over %s (%.2f queries per second)", d1, qps);
    if (flood) {
        f->attack = ATTACK_T1498;
    }
    if (answered && all > f->lookups) {
        uint64_t judged = answered + icmp + f->lookups;
        finding_add_fact(f,
                         "Loss rate: %" PRIu64 " of the %" PRIu64 " lookups to this server "
                         "that were answered or timed out (%.1f %%) got no response; %" PRIu64
                         " (%.1f %%) were answered%s.",
                         f->lookups, judged, 100.0 * (double)f->lookups / (double)judged, answered,
                         100.0 * (double)answered / (double)judged,
                         icmp ? ", the rest drew an ICMP error" : "");
    }

    /* Causes. What the capture cannot separate is said so, with what would. */
    static const char separate[] =
        "The capture, taken on the client's side, cannot tell these apart; the server's "
        "firewall counters, the server's own logs, a capture on the server, or a query from "
        "inside the server's network can.";
    char lost[160];
    snprintf(lost, sizeof lost, "%" PRIu64 " %s (%" PRIu64 " %s, retries included)", f->lookups,
             f->lookups == 1 ? "lookup" : "lookups", f->query_packets,
             f->query_packets == 1 ? "packet" : "packets");
    if (shape == SHAPE_STOPPED) {
        finding_add_cause(f, CONF_HIGH,
                          "Something changed on the server or on the path between the last "
                          "answer and the first unanswered query: the DNS service or its host "
                          "stopped, or a rule began dropping the queries.",
                          "The server answered %" PRIu64 " lookups up to %s, then none of %s "
                          "from %s on. %s",
                          answered, last_ans, lost, t1, separate);
    }
    bool mixed = shape == SHAPE_MIXED || shape == SHAPE_STARTED || shape == SHAPE_NO_TIMES;
    char tcp_ok[200] = "";
    if (other_ok)
        snprintf(tcp_ok, sizeof tcp_ok,
                 "The server answered %" PRIu64 " %s over %s meanwhile, so the host and its "
                 "DNS service are up and only %s is discarded, as a filter on %s port %u does. ",
                 other_ok, other_ok == 1 ? "lookup" : "lookups", OTHER, PROTO, PROTO, f->port);
    finding_add_cause(f,
                      accepted   ? CONF_LOW
                      : other_ok ? CONF_HIGH
                      : mixed    ? CONF_LOW
                                 : CONF_MEDIUM,
                      "A firewall on the server or on the path silently drops DNS queries to it "
                      "(an nftables or iptables drop rule, a security group, an access list).",
                      "A drop rule discards a query without any reply, which is exactly what the "
                      "capture shows: %s with no answer and no ICMP error. %s%s%s",
                      lost, tcp_ok,
                      mixed ? "A filter that lets other lookups through would have to be scoped "
                              "to some clients, names or times, which is less likely. "
                            : "",
                      separate);
    finding_add_cause(f, accepted || other_ok || mixed ? CONF_LOW : CONF_MEDIUM,
                      "The server host is down, or the address is wrong, and a filter or router "
                      "on the way discards the queries without reporting it.",
                      "A host that is down or absent usually draws an ICMP host unreachable from "
                      "the last router; none came back, so either a filter sits in between or "
                      "the router does not send ICMP errors. %s",
                      other_ok ? "It answered over the other transport meanwhile, so it was up."
                               : separate);
    finding_add_cause(f,
                      accepted                              ? CONF_HIGH
                      : shape == SHAPE_STOPPED && !other_ok ? CONF_MEDIUM
                                                            : CONF_LOW,
                      "The DNS service is hung: its process still holds the port (so the kernel "
                      "sends no port unreachable) but no longer reads or answers queries.",
                      "A stopped service on a reachable host would draw ICMP port unreachable "
                      "(dns.port_unreachable); silence fits a service that is stuck, paused or "
                      "starved with its socket open. `ss -ulpn` on the server shows its receive "
                      "queue growing.");
    bool no_path = text_no_path(f); /* the host queried itself: no path to lose packets on */
    if (mixed) {
        finding_add_cause(f, CONF_MEDIUM,
                          no_path ? "The service had short outages (client and server are the "
                                    "same host: no network path lies between them)."
                                  : "Packets are lost on the path now and then (a congested or "
                                    "faulty link), or the service had short outages.",
                          "The server answered %" PRIu64 " of its %" PRIu64 " lookups while %s "
                          "got nothing; the incident window's successes during the failures "
                          "tells intermittent loss from an outage that ended.",
                          answered, all, lost);
        finding_add_cause(f, CONF_LOW,
                          "The server is a recursive resolver that waits on an upstream or "
                          "authoritative server for these names and does not answer in time.",
                          "Other lookups were answered, so the server runs; a resolver whose "
                          "upstream does not answer stays silent until its own timeout. Its "
                          "logs, or a query for the same names on the server, show it.");
    } else if (!no_path) {
        finding_add_cause(
            f, CONF_LOW, "Packet loss on the path.",
            "Every packet of %s was lost; random loss on that scale means the link is "
            "effectively down rather than lossy.",
            lost);
    }
    if (flood)
        finding_add_cause(f, CONF_MEDIUM,
                          "The server is under a query flood (a denial-of-service attack or a "
                          "surge) and drops queries it cannot serve.",
                          "%s %" PRIu64 " queries from %s%" PRIu64 " %s to this server%s, "
                          "and dns.flood found its query rate rising far above the rate before "
                          "(%" PRIu64 " lookups in its flood seconds).",
                          shows, n_q, cl_least, n_cl, n_cl == 1 ? "client" : "clients", rate,
                          flood->lookups);
    else
        finding_add_cause(f, CONF_LOW,
                          "The server is overloaded, or rate limits the clients, and drops "
                          "queries.",
                          "%s %" PRIu64 " queries from %s%" PRIu64 " %s to this server%s at "
                          "a rate with no surge above its own earlier rate (no dns.flood "
                          "finding): no evidence of a flood; its own statistics show whether "
                          "this load is more than it serves.",
                          shows, n_q, cl_least, n_cl, n_cl == 1 ? "client" : "clients", rate);
    if (a->rd_clear) {
        /* Only when the RD bit is known (the query header was seen). */
        bool all_clear = a->rd_clear == f->lookups;
        finding_add_cause(
            f, all_clear && answered ? CONF_MEDIUM : CONF_LOW,
            "The unanswered queries did not ask for recursion (RD clear, as `dig +norecurse` or "
            "a monitoring check sends), and the server, or a DNS filter in front of it, ignores "
            "non-recursive queries for names it does not serve itself.",
            "%" PRIu64 " of the %" PRIu64 " silent lookups had RD clear%s%s. The same name asked "
            "with RD set (`dig @%s NAME`, without +norecurse) tells it from the other causes.",
            a->rd_clear, f->lookups, a->rd_unknown ? " (the others' flags are unknown)" : "",
            answered ? "; the server answered other lookups in the capture" : "", srv);
    }
    if (only_short)
        finding_cap_causes(f, short_cap);
    if (one_sided) {
        /* Every cause of real silence rests on the absence of answers, which this capture
         * cannot show: low at most, and the capture's own blind side first. */
        finding_cap_causes(f, CONF_LOW);
        finding_add_cause(f, CONF_MEDIUM,
                          "The capture holds one direction only (a tap or mirror port of one "
                          "direction, asymmetric routing past the capture point, or a capture "
                          "filter such as `src host`): the answers may have reached the client "
                          "without being captured.",
                          "No packet addressed to %s is in the capture, yet %" PRIu64 " of %s "
                          "TCP connections went on after the SYN as only a client that received "
                          "the SYN-ACK does. Silence in such a capture is no evidence that the "
                          "server did not answer.",
                          clients, os_unseen, n_clients == 1 ? "its" : "their");
    }
    finding_rank_causes(f);

    /* Next steps. */
    const char *qname = text_first_query_name(f);
    char qcmd[DNS_NAME_TEXT_MAX * 3] = "example.com";
    if (qname)
        text_shell_query(qname, qcmd, sizeof qcmd);
    const char *tcp = f->transport == 6 ? " +tcp" : "";
    if (one_sided) {
        char c0[NT_ADDR_FMT_MAX], c0_cmd[NT_ADDR_FMT_MAX * 2 + 8];
        text_addr(finding_first_client(f), c0, sizeof c0);
        text_shell_word(c0, c0_cmd, sizeof c0_cmd);
        finding_add_step(f,
                         "Capture both directions before concluding anything: on the client "
                         "itself, `tcpdump -ni any host %s and port %u`, or at a point both "
                         "directions cross (check that the mirror port or tap copies both).",
                         c0_cmd, f->port);
    }
    finding_add_step(f,
                     "From a host inside the server's network, and on %s itself, query it: "
                     "`dig @%s %s%s +tries=1 +timeout=2`. An answer there while the clients get "
                     "nothing points to a filter or the path in between; silence there too "
                     "points to the server.",
                     srv, srv_cmd, qcmd, tcp);
    finding_add_step(f,
                     "On %s, look for a drop rule on %s port %u and whether its counters grow "
                     "with each query: `nft list ruleset` and `iptables -L -v -n` / "
                     "`ip6tables -L -v -n`.",
                     srv, PROTO, f->port);
    finding_add_step(f,
                     "On %s, check that the DNS service runs and reads its socket: `ss -%slpn "
                     "'sport = :%u'` (a Recv-Q that keeps growing means a hung service) and its "
                     "logs around %s.",
                     srv, f->transport == 6 ? "t" : "u", f->port,
                     shape == SHAPE_STOPPED ? last_ans : t1);
    char cl[NT_ADDR_FMT_MAX], cl_cmd[NT_ADDR_FMT_MAX * 2 + 8];
    text_addr(finding_first_client(f), cl, sizeof cl);
    text_shell_word(cl, cl_cmd, sizeof cl_cmd);
    finding_add_step(f,
                     "Capture on the server while a client queries: `tcpdump -ni any %s port %u "
                     "and host %s`. Queries that arrive without answers put the fault on the "
                     "server; queries that never arrive put it on the path.",
                     finding_transport_name(f), f->port, cl_cmd);
    finding_add_step(f,
                     "Trace the path from a client: `traceroute -n %s-p %u %s` shows the last "
                     "hop that still answers.",
                     f->transport == 6 ? "-T " : "-U ", f->port, srv_cmd);
    finding_add_step(f,
                     "Until the server answers again, give the affected clients (%s) a second, "
                     "working DNS server so their lookups can fail over.",
                     clients);
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(rc, f);
}

const struct rule rule_dns_no_response = {
    .id = "dns.no_response",
    .severity = SEV_HIGH,
    .title = "DNS server does not respond",
    .on_dns_lookup = on_lookup,
    .prefetch_dns_lookup = prefetch,
    .on_finish = on_finish,
    .free_state = state_free,
    .bounds = bounds,
};
