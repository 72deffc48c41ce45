/* dns_refused.c: DNS lookups answered with rcode REFUSED (5, RFC 1035 4.1.1): the server is up
 * and read the query, but will not answer it for this client or this name. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/dns_finding.h"
#include "detect/rule.h"
#include "detect/rcode_table.h"
#include "detect/text.h"

/* Clients named in a sentence as "answered by the same server and never refused". */
#define OK_CLIENTS_KEPT 8

struct refused_acc {
    struct nt_time first_query, last_query, first_answer, last_answer;
    int64_t min_rtt_us, max_rtt_us;
    uint64_t n_rtt;
    uint64_t rd;          /* queries that asked for recursion (RD set) */
    uint64_t rd_clear;    /* queries whose header was seen with RD clear (RD known) */
    uint64_t rd_unknown;  /* queries whose header flags the input did not carry */
    uint64_t rd_ra_clear; /* of those, answered with RA clear */
    uint64_t ra;          /* answers with RA set */
    uint64_t aa;          /* answers with AA set */
    uint64_t no_question; /* answers whose header counts no question (QDCOUNT 0) */
    uint64_t q_unknown;   /* answers whose question the input does not show (text below -vv) */
    /* Filled in on_finish from the detector's rcode table. */
    struct nt_addr ok_clients[OK_CLIENTS_KEPT]; /* answered, never refused */
    size_t n_ok_clients_kept;
    uint64_t n_ok_clients;
    uint64_t ok_clients_lookups;
    uint64_t mixed_clients;    /* refused clients that got usable answers too */
    uint64_t mixed_ok_lookups; /* their usable answers */
    uint64_t pure_clients;     /* refused clients with no usable answer */
    uint64_t names_answered;   /* refused questions the server answered usably (to anyone) */
    uint64_t names_refused;    /* distinct refused questions (tracked) */
};

static struct finding *refused_add(struct rule_ctx *rc, const struct dns_lookup *l)
{
    bool created;
    struct finding *f = dns_server_finding(rc, l, sizeof(struct refused_acc), &created);
    if (!f || !f->priv)
        return NULL;
    struct refused_acc *a = f->priv;
    if (created) {
        a->min_rtt_us = INT64_MAX;
    }
    dns_finding_count(f, l, 1);
    bool rd = (l->query_flags & DNS_FLAG_RD) != 0, ra = (l->answer.dns_flags & DNS_FLAG_RA) != 0;
    a->rd += rd;
    if (l->query.has_dns)
        a->rd_clear += !rd;
    else
        a->rd_unknown++;
    a->rd_ra_clear += rd && !ra;
    a->ra += ra;
    a->aa += (l->answer.dns_flags & DNS_FLAG_AA) != 0;
    /* tcpdump text prints a response's question only at -vv; a zero count it always shows
     * ("[0q]"). Only a zero count says the section was absent. */
    a->no_question += !l->answer.has_question && l->answer.qdcount == 0;
    a->q_unknown += !l->answer.has_question && l->answer.qdcount != 0 && l->answer.from_text;
    finding_add_evidence(f, &l->query);
    finding_add_evidence(f, &l->answer);
    finding_see_time(f, &l->first_tx);
    finding_see_time(f, &l->last_tx);
    finding_see_time(f, &l->answer.ts);
    nt_time_widen(&a->first_query, &a->last_query, &l->first_tx);
    nt_time_widen(&a->first_answer, &a->last_answer, &l->answer.ts);
    if (l->answer.ts.kind != NT_TIME_NONE && l->last_tx.kind != NT_TIME_NONE) {
        if (l->rtt_us < a->min_rtt_us)
            a->min_rtt_us = l->rtt_us;
        if (l->rtt_us > a->max_rtt_us)
            a->max_rtt_us = l->rtt_us;
        a->n_rtt++;
    }
    return f;
}

/* The detector counts every lookup's answer per server, client and question for this rule
 * (rule_rcode_table, view RCODE_VIEW_REFUSED); the rule keeps the REFUSEDs' details. */
static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (l->outcome == LOOKUP_ANSWERED && l->rcode == DNS_RCODE_REFUSED)
        refused_add(rc, l);
}

static const char *key_of(char *key, size_t n, const struct rcode_entry *e)
{
    char addr[NT_ADDR_FMT_MAX];
    nt_addr_format(&e->server, addr, sizeof addr);
    snprintf(key, n, "%s|%u|%u", addr, e->transport, e->port);
    return key;
}

/* One pass over the rcode table's view: which clients the servers with a finding answered or
 * refused, and which refused questions they answered for someone. */
static void gather(struct rule_ctx *rc)
{
    const struct rcode_table *table = rule_rcode_table(rc);
    const enum rcode_view v = RCODE_VIEW_REFUSED;
    for (size_t i = 0; i < rcode_view_count(table, v); i++) {
        const struct rcode_entry *e = rcode_view_at(table, v, i);
        if (e->kind != RCODE_KEY_CLIENT && e->kind != RCODE_KEY_NAME)
            continue;
        const struct rcode_entry *s = rcode_view_service_of(table, v, e);
        if (!s || !s->bad[v])
            continue; /* no REFUSED from that server: no finding */
        char key[NT_ADDR_FMT_MAX + 32];
        struct finding *f = rule_raise(rc, key_of(key, sizeof key, e));
        struct refused_acc *a = f ? f->priv : NULL;
        if (!a)
            continue;
        if (e->kind == RCODE_KEY_NAME) {
            if (e->bad[v]) {
                a->names_refused++;
                a->names_answered += e->ok > 0;
            }
        } else if (e->bad[v] && e->ok) {
            a->mixed_clients++;
            a->mixed_ok_lookups += e->ok;
        } else if (e->bad[v]) {
            a->pure_clients++;
        } else if (e->ok) {
            if (a->n_ok_clients_kept < OK_CLIENTS_KEPT)
                a->ok_clients[a->n_ok_clients_kept++] = e->client;
            a->n_ok_clients++;
            a->ok_clients_lookups += e->ok;
        }
    }
    /* The clients kept are the first answered ones in the view's creation order; list them
     * in address order. */
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL) {
        struct refused_acc *a = f->priv;
        for (size_t i = 1; i < a->n_ok_clients_kept; i++)
            for (size_t j = i; j > 0 && nt_addr_cmp(&a->ok_clients[j - 1], &a->ok_clients[j]) > 0;
                 j--) {
                struct nt_addr t = a->ok_clients[j];
                a->ok_clients[j] = a->ok_clients[j - 1];
                a->ok_clients[j - 1] = t;
            }
    }
}

static void explain_finding(struct rule_ctx *rc, struct finding *f)
{
    const struct rcode_table *t = rule_rcode_table(rc);
    const struct refused_acc *a = f->priv;
    char srv[NT_ADDR_FMT_MAX], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8], clients[512], names[512];
    char ok_clients[512] = "", t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], when[128];
    text_addr(&f->server, srv, sizeof srv);
    text_shell_word(srv, srv_cmd, sizeof srv_cmd);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, names, sizeof names);
    if (a->n_ok_clients)
        text_addr_list(a->ok_clients, a->n_ok_clients_kept, a->n_ok_clients - a->n_ok_clients_kept,
                       ok_clients, sizeof ok_clients);
    const char *PROTO = f->transport == 6 ? "TCP" : "UDP";
    uint8_t transport = f->transport == 6 ? 6 : 17;
    const struct server_stats *ss = rule_server_stats(rc, &f->server, f->port, transport);
    const struct rcode_entry *se =
        rcode_view_server(t, RCODE_VIEW_REFUSED, &f->server, f->port, transport);
    uint64_t ok = se ? se->ok : 0, all = ss ? ss->lookups : f->lookups;
    /* Not kept (--bound detect.services): the server's lookups in all are unknown. */
    bool kept = rule_service_kept(rc, &f->server, f->port, transport);
    uint64_t n_clients = f->n_clients + f->clients_dropped;

    /* Severity: the server gave nothing usable to anyone in the capture. */
    f->severity = ok == 0 ? SEV_HIGH : SEV_MEDIUM;

    bool client_split = a->n_ok_clients > 0 && a->pure_clients > 0;
    bool name_split = a->mixed_clients > 0;
    bool ra_clear_all = a->rd > 0 && a->rd_ra_clear == a->rd;
    /* RA in an answer to a query that did not ask for recursion says nothing about recursion:
     * the forwarder cause needs queries with RD set. */
    bool ra_set_all = a->ra == f->lookups && (a->rd > 0 || a->rd_unknown == f->lookups);

    finding_set_summary(
        f,
        "DNS server %s refused %" PRIu64 " %s over %s port %u from %" PRIu64 " %s (%s) for %s: "
        "it answered %s with rcode REFUSED. The server is up and read the %s, but will not answer "
        "%s for %s. %s",
        srv, f->lookups, f->lookups == 1 ? "lookup" : "lookups", PROTO, f->port, n_clients,
        n_clients == 1 ? "client" : "clients", clients, names, f->lookups == 1 ? "it" : "them",
        f->query_packets == 1 ? "query" : "queries", f->lookups == 1 ? "it" : "them",
        n_clients == 1 ? "this client" : "these clients",
        ok == 0 ? "No lookup to this server got a usable answer in the capture."
        : client_split && !name_split
            ? "It answered other clients, so an access list that leaves these clients out is the "
              "likely cause."
        : name_split ? "It answered other names for the same clients, so the refusal depends on "
                       "the name: the server does not resolve names outside its own data."
                     : "It answered other lookups in the capture.");

    /* Key findings. */
    text_time(&a->first_query, t1, sizeof t1);
    text_time(&a->last_query, t2, sizeof t2);
    if (strcmp(t1, t2) == 0)
        snprintf(when, sizeof when, "at %s", t1);
    else
        snprintf(when, sizeof when, "between %s and %s", t1, t2);
    char rtt[96] = "";
    if (a->n_rtt) {
        char d1[32], d2[32];
        nt_duration_format(a->min_rtt_us, d1, sizeof d1);
        nt_duration_format(a->max_rtt_us, d2, sizeof d2);
        if (a->min_rtt_us == a->max_rtt_us)
            snprintf(rtt, sizeof rtt, ", %s after the query", d1);
        else
            snprintf(rtt, sizeof rtt, ", %s to %s after the queries", d1, d2);
    }
    finding_add_fact(f,
                     "%" PRIu64 " DNS %s (%" PRIu64 " %s) went from %s to %s %s port %u %s; %s "
                     "answered REFUSED%s.",
                     f->query_packets, f->query_packets == 1 ? "query" : "queries", f->lookups,
                     f->lookups == 1 ? "lookup" : "lookups", clients, srv, PROTO, f->port, when,
                     f->lookups == 1 ? "it was" : "each was", rtt);
    if (a->rd)
        finding_add_fact(
            f,
            "%" PRIu64 " of the %" PRIu64 " queries asked for recursion (RD set); "
            "the REFUSED answers to them had recursion available (RA) clear in %" PRIu64
            " and set in %" PRIu64 ". %s",
            a->rd, f->lookups, a->rd_ra_clear, a->rd - a->rd_ra_clear,
            ra_clear_all          ? "The server does not offer recursion to these clients."
            : a->rd_ra_clear == 0 ? "The server offers recursion, yet refused these names."
                                  : "The server offered recursion to some of them only.");
    else if (!a->rd_unknown)
        finding_add_fact(f, "None of the queries asked for recursion (RD clear), so RA in the "
                            "answers says nothing about recursion being refused.");
    if (a->rd && a->rd_clear)
        finding_add_fact(f,
                         "%" PRIu64 " of the refused queries did not ask for recursion (RD "
                         "clear).",
                         a->rd_clear);
    if (a->aa)
        finding_add_fact(f,
                         "%" PRIu64 " of the REFUSED answers had AA set: the server claimed "
                         "authority while refusing.",
                         a->aa);
    if (a->no_question)
        finding_add_fact(f,
                         "%" PRIu64 " of the REFUSED answers carried no question section: the "
                         "server refused before answering the question itself.",
                         a->no_question);
    if (a->q_unknown)
        finding_add_fact(f,
                         "Whether %" PRIu64 " of the REFUSED answers carried the question is "
                         "unknown: tcpdump prints an answer's question only with -vv.",
                         a->q_unknown);
    if (a->n_ok_clients)
        finding_add_fact(f,
                         "The same server gave usable answers to %" PRIu64 " %s from %" PRIu64
                         " other %s (%s) that it never refused.",
                         a->ok_clients_lookups, a->ok_clients_lookups == 1 ? "lookup" : "lookups",
                         a->n_ok_clients, a->n_ok_clients == 1 ? "client" : "clients", ok_clients);
    if (a->mixed_clients)
        finding_add_fact(f,
                         "%" PRIu64 " of the refused clients also got usable answers from it "
                         "(%" PRIu64 " %s for other names).",
                         a->mixed_clients, a->mixed_ok_lookups,
                         a->mixed_ok_lookups == 1 ? "lookup" : "lookups");
    else if (ok)
        finding_add_fact(f, "None of the refused clients got a usable answer from this server.");
    if (a->names_answered)
        finding_add_fact(f,
                         "%" PRIu64 " of the %" PRIu64 " refused questions were answered usably "
                         "by the same server for another lookup.",
                         a->names_answered, a->names_refused);
    if (ok && !kept) {
        text_time(&se->last_ok, t1, sizeof t1);
        finding_add_fact(f,
                         "The server answered %" PRIu64 " lookups on %s port %u with a usable "
                         "answer (last at %s).",
                         ok, PROTO, f->port, t1);
    } else if (ok) {
        text_time(&se->last_ok, t1, sizeof t1);
        finding_add_fact(f,
                         "The server answered %" PRIu64 " of its %" PRIu64 " lookups on %s port "
                         "%u with a usable answer (last at %s).",
                         ok, all, PROTO, f->port, t1);
    } else if (!kept) {
        finding_add_fact(f, "No lookup to %s on %s port %u got a usable answer in the capture.",
                         srv, PROTO, f->port);
    } else {
        finding_add_fact(f,
                         "None of the %" PRIu64 " lookups to %s on %s port %u got a usable "
                         "answer in the capture.",
                         all, srv, PROTO, f->port);
    }
    if (rcode_view_dropped(t, RCODE_VIEW_REFUSED))
        finding_add_fact(f,
                         "The per-client and per-name counts cover part of the capture only: "
                         "%" PRIu64 " keys were not tracked (table full).",
                         rcode_view_dropped(t, RCODE_VIEW_REFUSED));

    /* Causes, from the evidence. */
    enum confidence acl = client_split && !name_split ? CONF_HIGH
                          : name_split                ? CONF_LOW
                                                      : CONF_MEDIUM;
    char acl_reason[768];
    if (client_split && !name_split)
        snprintf(acl_reason, sizeof acl_reason,
                 "The server answered %" PRIu64 " other %s (%s) and refused every lookup from "
                 "%" PRIu64 " %s: the answer depends on who asks, which is what an access list "
                 "does.",
                 a->n_ok_clients, a->n_ok_clients == 1 ? "client" : "clients", ok_clients,
                 a->pure_clients, a->pure_clients == 1 ? "client" : "clients");
    else if (name_split)
        snprintf(acl_reason, sizeof acl_reason,
                 "%" PRIu64 " of the refused clients got usable answers for other names from the "
                 "same server, so it does accept queries from them; an access list would have to "
                 "be scoped to names or views.",
                 a->mixed_clients);
    else
        snprintf(acl_reason, sizeof acl_reason,
                 "The capture shows no other client answered by this server to compare with, so "
                 "an access list cannot be told from the other causes; a query from a client the "
                 "server should allow separates them.");
    finding_add_cause(f, acl,
                      "An access list on the server leaves these clients out (unbound "
                      "access-control, BIND allow-query or allow-recursion, a dnsmasq or "
                      "firewall-side policy).",
                      "%s", acl_reason);
    enum confidence norec = ra_clear_all && name_split         ? CONF_HIGH
                            : a->rd > 0 && a->rd_ra_clear == 0 ? CONF_LOW
                                                               : CONF_MEDIUM;
    finding_add_cause(
        f, norec,
        "The server answers only from its own zones or local data (an authoritative-only "
        "server, or recursion not allowed for these clients), and these names are outside them.",
        "%" PRIu64 " of %" PRIu64 " queries with RD set %s answered with RA clear%s%s. RA "
        "clear means the server will not recurse for this client; a `dig +norecurse` query for a "
        "name in its zones would be answered with AA set.",
        a->rd_ra_clear, a->rd, a->rd_ra_clear == 1 ? "was" : "were",
        name_split ? ", and the same clients got usable answers for other names" : "",
        a->aa ? ", and some refusals even had AA set" : "");
    enum confidence noup = ra_set_all && name_split      ? CONF_HIGH
                           : ra_set_all && !client_split ? CONF_MEDIUM
                                                         : CONF_LOW;
    finding_add_cause(
        f, noup,
        "The server is a forwarder with no upstream resolver configured: dnsmasq, "
        "for one, answers REFUSED for every name it cannot answer from its own data "
        "when it has no server to forward to.",
        "%" PRIu64 " of the %" PRIu64 " REFUSED answers had RA set (a server that sets "
        "RA offers recursion)%s. The server's configuration (dnsmasq `server=` lines, "
        "its resolv-file, `--no-resolv`) or its logs tell this from a policy.",
        a->ra, f->lookups,
        name_split     ? ", and it answered other names for the same clients"
        : client_split ? ", but it answered other clients, which points to an access list instead"
                       : "");
    if (a->rd_clear) {
        /* Only when the queries' RD bit is known (the header was seen: in tcpdump text a query
         * prints `+` when RD is set). */
        bool all_clear = a->rd_clear == f->lookups;
        finding_add_cause(
            f, all_clear ? (ok ? CONF_HIGH : CONF_MEDIUM) : CONF_LOW,
            "The refused queries did not ask for recursion (RD clear, as `dig +norecurse`, a "
            "monitoring check or another server's non-recursive queries send), and the server "
            "refuses non-recursive queries for names it does not serve itself: unbound refuses "
            "them unless `access-control` grants `allow_snoop` (cache snooping), BIND answers "
            "them only from its zones or `allow-query-cache`.",
            "%" PRIu64 " of the %" PRIu64 " refused queries had RD clear%s%s. The same name "
            "asked with RD set (`dig @%s NAME`, without +norecurse) tells it from the other "
            "causes.",
            a->rd_clear, f->lookups, a->rd_unknown ? " (the others' flags are unknown)" : "",
            ok ? "; the server gave usable answers to other lookups in the capture" : "", srv);
    }
    finding_rank_causes(f);

    /* Next steps. */
    finding_add_step(
        f,
        "On %s, read its access lists and recursion settings: unbound "
        "`unbound-checkconf -o access-control` and the `access-control:` lines, BIND "
        "`named-checkconf -p` (its allow-query, allow-recursion and recursion options), "
        "dnsmasq's `server=` and `no-resolv` lines.",
        srv);
    const char *qname = text_first_query_name(f);
    char qcmd[DNS_NAME_TEXT_MAX * 3];
    const char *tcp = f->transport == 6 ? " +tcp" : "";
    if (qname) {
        text_shell_query(qname, qcmd, sizeof qcmd);
        if (a->n_ok_clients) {
            char c0[NT_ADDR_FMT_MAX], c0_cmd[NT_ADDR_FMT_MAX * 2 + 8];
            text_addr(&a->ok_clients[0], c0, sizeof c0);
            text_shell_word(c0, c0_cmd, sizeof c0_cmd);
            finding_add_step(f,
                             "Ask the same question from a client the server answered, e.g. %s: "
                             "`dig @%s %s%s`. An answer there and REFUSED from %s points to an "
                             "access list; REFUSED everywhere points to the name.",
                             c0, srv_cmd, qcmd, tcp, clients);
        } else {
            finding_add_step(f,
                             "Ask the same question from a client the server should allow (or on "
                             "the server itself): `dig @%s %s%s`. An answer there points to an "
                             "access list; REFUSED everywhere points to the name or a missing "
                             "upstream.",
                             srv_cmd, qcmd, tcp);
        }
        finding_add_step(f,
                         "From an affected client, `dig +norecurse @%s %s%s`: an answer with the "
                         "aa flag means the name is in the server's own zones; REFUSED again "
                         "means it serves neither the zone nor recursion to this client.",
                         srv_cmd, qcmd, tcp);
    }
    finding_add_step(f,
                     "Check which resolver these clients (%s) should use (DHCP option 6, "
                     "/etc/resolv.conf, `resolvectl status`): a client pointed at an "
                     "authoritative-only server or another network's resolver is refused by "
                     "design.",
                     clients);
}

static void on_finish(struct rule_ctx *rc)
{
    uint64_t dropped = rcode_view_dropped(rule_rcode_table(rc), RCODE_VIEW_REFUSED);
    if (dropped)
        rule_count_limit(rc, "rcode_keys_dropped", dropped);
    gather(rc);
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(rc, f);
}

const struct rule rule_dns_refused = {
    .id = "dns.refused",
    .severity = SEV_MEDIUM,
    .title = "DNS queries refused by the server",
    .on_dns_lookup = on_lookup,
    .on_finish = on_finish,
};
