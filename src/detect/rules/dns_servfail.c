/* dns_servfail.c: DNS lookups answered with rcode SERVFAIL (2, RFC 1035 4.1.1): the server is up
 * and took the query, but could not resolve it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/dns_finding.h"
#include "detect/rule.h"
#include "detect/rcode_table.h"
#include "detect/text.h"

/* A SERVFAIL later than this after its query means the server spent the time on something:
 * longer than a client-to-resolver round trip on nearly any path, and about the first
 * upstream timeout of a resolver (unbound waits 376 ms for a server it has no RTT for yet). */
#define SLOW_US 300000
/* Round-trip times kept per finding for the median. */
#define RTT_KEPT 1024

struct servfail_acc {
    struct nt_time first_query, last_query, first_answer, last_answer;
    int64_t rtt[RTT_KEPT]; /* from the first transmission to the SERVFAIL, first RTT_KEPT */
    size_t n_rtt;
    uint64_t rtt_dropped;
    int64_t min_us, max_us;
    uint64_t slow, fast;    /* SERVFAILs later / sooner than SLOW_US after the first query */
    uint64_t retransmitted; /* lookups the client sent more than once before the SERVFAIL */
    uint64_t cd;            /* queries with CD set (validation disabled by the client) */
    uint64_t ra_clear;      /* SERVFAIL answers with RA clear */
    /* Filled in on_finish from the detector's rcode table. */
    uint64_t names_failed, names_also_ok; /* distinct failed questions; answered usably too */
};

static struct finding *servfail_add(struct rule_ctx *rc, const struct dns_lookup *l)
{
    bool created;
    struct finding *f = dns_server_finding(rc, l, sizeof(struct servfail_acc), &created);
    if (!f || !f->priv)
        return NULL;
    struct servfail_acc *a = f->priv;
    if (created) {
        a->min_us = INT64_MAX;
    }
    dns_finding_count(f, l, 1);
    a->retransmitted += l->transmissions > 1;
    a->cd += (l->query_flags & DNS_FLAG_CD) != 0;
    a->ra_clear += (l->answer.dns_flags & DNS_FLAG_RA) == 0;
    finding_add_evidence(f, &l->query);
    finding_add_evidence(f, &l->answer);
    finding_see_time(f, &l->first_tx);
    finding_see_time(f, &l->last_tx);
    finding_see_time(f, &l->answer.ts);
    nt_time_widen(&a->first_query, &a->last_query, &l->first_tx);
    nt_time_widen(&a->first_answer, &a->last_answer, &l->answer.ts);
    if (l->answer.ts.kind != NT_TIME_NONE && l->first_tx.kind != NT_TIME_NONE) {
        /* How long the server held the question: from the first transmission, since a
         * resolver keeps working on the first query while the client retransmits. */
        int64_t d = l->elapsed_us;
        if (d < a->min_us)
            a->min_us = d;
        if (d > a->max_us)
            a->max_us = d;
        if (a->n_rtt < RTT_KEPT)
            a->rtt[a->n_rtt++] = d;
        else
            a->rtt_dropped++;
        if (d >= SLOW_US)
            a->slow++;
        else
            a->fast++;
    }
    return f;
}

/* The detector counts every lookup's answer per server, client and question for this rule
 * (rule_rcode_table, view RCODE_VIEW_SERVFAIL); the rule keeps the SERVFAILs' details. */
static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (l->outcome == LOOKUP_ANSWERED && l->rcode == DNS_RCODE_SERVFAIL)
        servfail_add(rc, l);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static void gather(struct rule_ctx *rc)
{
    const struct rcode_table *t = rule_rcode_table(rc);
    for (size_t i = 0; i < rcode_view_count(t, RCODE_VIEW_SERVFAIL); i++) {
        const struct rcode_entry *e = rcode_view_at(t, RCODE_VIEW_SERVFAIL, i);
        if (e->kind != RCODE_KEY_NAME || !e->bad[RCODE_VIEW_SERVFAIL])
            continue;
        char key[NT_ADDR_FMT_MAX + 32], addr[NT_ADDR_FMT_MAX];
        nt_addr_format(&e->server, addr, sizeof addr);
        snprintf(key, sizeof key, "%s|%u|%u", addr, e->transport, e->port);
        struct finding *f = rule_raise(rc, key);
        struct servfail_acc *a = f ? f->priv : NULL;
        if (!a)
            continue;
        a->names_failed++;
        a->names_also_ok += e->ok > 0;
    }
}

static void explain_finding(struct rule_ctx *rc, struct finding *f)
{
    const struct rcode_table *t = rule_rcode_table(rc);
    struct servfail_acc *a = f->priv;
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8], clients[512], names[512];
    char t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], when[128];
    text_addr(&f->server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, names, sizeof names);
    const char *PROTO = f->transport == 6 ? "TCP" : "UDP";
    uint8_t transport = f->transport == 6 ? 6 : 17;
    const struct server_stats *ss = rule_server_stats(rc, &f->server, f->port, transport);
    const struct rcode_entry *se =
        rcode_view_server(t, RCODE_VIEW_SERVFAIL, &f->server, f->port, transport);
    uint64_t ok = se ? se->ok : 0, ok_aa = se ? se->ok_aa : 0, ok_ad = se ? se->ok_ad : 0;
    uint64_t resolved = ok - ok_aa; /* usable answers not from the server's own data */
    uint64_t all = ss ? ss->lookups : f->lookups;
    /* Not kept (--bound detect.services): the server's lookups in all are unknown, and the
     * sentences below give the counts of the shared rcode table and of this finding only. */
    bool kept = rule_service_kept(rc, &f->server, f->port, transport);
    char of_all[48] = "";
    if (kept)
        snprintf(of_all, sizeof of_all, " of its %" PRIu64, all);
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    uint64_t n_names = f->n_names + f->names_dropped;
    uint64_t timed = a->slow + a->fast;
    bool mostly_slow = timed && a->slow * 2 > timed;

    /* Severity: nothing this server answered was usable. */
    f->severity = ok == 0 ? SEV_HIGH : SEV_MEDIUM;

    char med[32] = "", d1[32], d2[32], span[128] = "";
    if (a->n_rtt) {
        qsort(a->rtt, a->n_rtt, sizeof a->rtt[0], cmp_i64);
        nt_duration_format(a->rtt[a->n_rtt / 2], med, sizeof med);
        nt_duration_format(a->min_us, d1, sizeof d1);
        nt_duration_format(a->max_us, d2, sizeof d2);
        if (a->min_us == a->max_us)
            snprintf(span, sizeof span, " %s after the query", d1);
        else
            snprintf(span, sizeof span, " %s to %s after the first query (median %s)", d1, d2, med);
    }

    finding_set_summary(
        f,
        "DNS server %s answered %" PRIu64 " %s over %s port %u from %" PRIu64 " %s (%s) with "
        "SERVFAIL, for %s. The server is up and took the queries, but could not resolve %s%s. "
        "%s",
        srv, f->lookups, f->lookups == 1 ? "lookup" : "lookups", PROTO, f->port, n_clients,
        n_clients == 1 ? "client" : "clients", clients, names, n_names == 1 ? "the name" : "them",
        mostly_slow ? " and took a long time to say so, as a resolver does when its upstream does "
                      "not answer"
                    : "",
        resolved == 0
            ? (ok ? "It resolved nothing else either: its only usable answers came from its own "
                    "data."
                  : "No lookup to this server got a usable answer in the capture.")
            : "It resolved other names in the capture, so the failure is limited to these names.");

    /* Key findings. */
    text_time(&a->first_query, t1, sizeof t1);
    text_time(&a->last_query, t2, sizeof t2);
    if (strcmp(t1, t2) == 0)
        snprintf(when, sizeof when, "at %s", t1);
    else
        snprintf(when, sizeof when, "between %s and %s", t1, t2);
    uint64_t retrans = f->query_packets - f->lookups;
    finding_add_fact(f,
                     "%" PRIu64 " DNS %s (%" PRIu64 " %s, %" PRIu64 " %s) went from %s to %s %s "
                     "port %u %s; %s answered SERVFAIL%s.",
                     f->query_packets, f->query_packets == 1 ? "query" : "queries", f->lookups,
                     f->lookups == 1 ? "lookup" : "lookups", retrans,
                     retrans == 1 ? "retransmission" : "retransmissions", clients, srv, PROTO,
                     f->port, when, f->lookups == 1 ? "it was" : "each was", span);
    if (timed) {
        char thr[32];
        nt_duration_format(SLOW_US, thr, sizeof thr);
        finding_add_fact(f,
                         "%" PRIu64 " of the SERVFAILs came %s or more after the query (the "
                         "server waited for something, most likely an upstream that did not "
                         "answer) and %" PRIu64 " sooner (a failure the server already knew: "
                         "cached, or immediate).",
                         a->slow, thr, a->fast);
    }
    if (a->retransmitted)
        finding_add_fact(f,
                         "%" PRIu64 " of the lookups were retransmitted by the client before the "
                         "SERVFAIL came.",
                         a->retransmitted);
    if (se && se->ok_min_rtt_us >= 0) {
        nt_duration_format(se->ok_min_rtt_us, d1, sizeof d1);
        finding_add_fact(f,
                         "The server's fastest usable answer took %s, a measure of the network "
                         "round trip to it; time beyond that went into the server.",
                         d1);
    }
    if (ok) {
        text_time(&se->last_ok, t1, sizeof t1);
        finding_add_fact(f,
                         "The same server gave usable answers to %" PRIu64 "%s"
                         " lookups on %s port %u (last at %s): %" PRIu64 " from its own data "
                         "(AA set), %" PRIu64 " resolved%s.",
                         ok, of_all, PROTO, f->port, t1, ok_aa, resolved,
                         ok_ad ? ", some of them validated by DNSSEC (AD set)" : "");
    } else if (!kept) {
        finding_add_fact(f, "No lookup to %s on %s port %u got a usable answer in the capture.",
                         srv, PROTO, f->port);
    } else {
        finding_add_fact(f,
                         "None of the %" PRIu64 " lookups to %s on %s port %u got a usable "
                         "answer in the capture.",
                         all, srv, PROTO, f->port);
    }
    if (a->names_also_ok)
        finding_add_fact(f,
                         "%" PRIu64 " of the %" PRIu64 " failed questions were also answered "
                         "usably at another time: the failure comes and goes.",
                         a->names_also_ok, a->names_failed);
    if (a->cd)
        finding_add_fact(f,
                         "%" PRIu64 " of the failed queries had CD set (checking disabled), so "
                         "DNSSEC validation did not cause those.",
                         a->cd);
    finding_add_fact(f, "The capture cannot show why a resolver failed: the answers carry no "
                        "reason that nettriage reads (an Extended DNS Error option, RFC 8914, "
                        "when the server sends one, is not decoded yet).");
    if (rcode_view_dropped(t, RCODE_VIEW_SERVFAIL))
        finding_add_fact(f,
                         "The per-name counts cover part of the capture only: %" PRIu64 " keys "
                         "were not tracked (table full).",
                         rcode_view_dropped(t, RCODE_VIEW_SERVFAIL));

    /* Causes. */
    char thr[32];
    nt_duration_format(SLOW_US, thr, sizeof thr);
    finding_add_cause(
        f, mostly_slow ? CONF_HIGH : CONF_MEDIUM,
        "The server's upstream does not answer: its forwarders, or the authoritative servers of "
        "these names, are unreachable or timing out, so the resolver gave up with SERVFAIL.",
        "%" PRIu64 " of %" PRIu64 " timed SERVFAILs came %s or more after the query%s%s%s; %s",
        a->slow, timed, thr, med[0] ? " (median " : "", med, med[0] ? ")" : "",
        !timed        ? "the input has no times, so how long the server worked is unknown."
        : mostly_slow ? "a resolver answers that late when it waited for an upstream that did not "
                        "answer."
                      : "fast failures fit a resolver that already marked its upstream as down "
                        "(cached failure), or an upstream that refused at once.");
    bool all_cd = a->cd == f->lookups;
    enum confidence dnssec = all_cd                      ? CONF_LOW
                             : resolved > 0 || ok_ad > 0 ? CONF_MEDIUM
                             : mostly_slow               ? CONF_LOW
                                                         : CONF_MEDIUM;
    finding_add_cause(
        f, dnssec,
        "DNSSEC validation failed for these names (expired or wrong signatures, a broken chain "
        "of trust, a clock far off on the resolver).",
        "%s%s The capture cannot tell a validation failure from an upstream failure: both are "
        "plain SERVFAIL. `dig +cd` (checking disabled) separates them: if it gets an answer, the "
        "failure is validation.",
        all_cd  ? "Every failed query had CD set, so validation was off for them. "
        : ok_ad ? "The server validates DNSSEC (it set AD on usable answers). "
                : "",
        resolved > 0 ? "It resolved other names, which fits one zone with broken signatures."
                     : "It resolved no other name, which fits a whole upstream outage better.");
    finding_add_cause(
        f, resolved > 0 ? CONF_MEDIUM : CONF_LOW,
        "A lame or broken delegation: the servers the parent zone names for these names do not "
        "answer for them.",
        "%s A lame delegation breaks one zone, not every name.",
        resolved > 0 ? "The server resolved other names in the capture while these failed."
                     : "The server resolved no other name in the capture.");
    finding_add_cause(f, CONF_LOW,
                      "The resolver itself is misconfigured or out of resources (no usable "
                      "forwarders or root hints, full request lists, a rate limit).",
                      "SERVFAIL is also a resolver's answer to its own trouble; %s "
                      "%" PRIu64 " %s to this server from %" PRIu64 " %s.",
                      kept ? "the capture shows" : "this finding shows", all,
                      all == 1 ? "lookup" : "lookups", n_clients,
                      n_clients == 1 ? "client" : "clients");
    finding_rank_causes(f);

    /* Next steps. */
    const char *qname = text_first_query_name(f);
    char qcmd[DNS_NAME_TEXT_MAX * 3];
    const char *tcp = f->transport == 6 ? " +tcp" : "";
    if (qname) {
        text_shell_query(qname, qcmd, sizeof qcmd);
        finding_add_step(f,
                         "Ask again with checking disabled: `dig +cd @%s %s%s`. An answer now "
                         "means DNSSEC validation failed; SERVFAIL again means resolution itself "
                         "fails.",
                         srv_cmd, qcmd, tcp);
        finding_add_step(f,
                         "Look for an Extended DNS Error in the answer (`dig @%s %s%s` prints "
                         "EDE: ... when the server sends one) and follow the delegation: `dig "
                         "+trace %s`.",
                         srv_cmd, qcmd, tcp, qcmd);
    }
    text_time(&a->first_query, t1, sizeof t1);
    finding_add_step(f,
                     "On %s, check its upstreams: the forwarders it is configured with (unbound "
                     "`forward-zone`, BIND `forwarders`, dnsmasq `server=`) and whether it can "
                     "reach them (`dig @FORWARDER %s` from the server), and its logs around %s "
                     "(`journalctl -u unbound -u named -u dnsmasq`).",
                     srv, qname ? qcmd : ". NS", t1);
    finding_add_step(f,
                     "Until the server resolves again, give the affected clients (%s) a second, "
                     "working resolver.",
                     clients);
}

static void on_finish(struct rule_ctx *rc)
{
    uint64_t dropped = rcode_view_dropped(rule_rcode_table(rc), RCODE_VIEW_SERVFAIL);
    if (dropped)
        rule_count_limit(rc, "rcode_keys_dropped", dropped);
    gather(rc);
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(rc, f);
}

const struct rule rule_dns_servfail = {
    .id = "dns.servfail",
    .severity = SEV_MEDIUM,
    .title = "DNS server failing to resolve (SERVFAIL)",
    .on_dns_lookup = on_lookup,
    .on_finish = on_finish,
};
