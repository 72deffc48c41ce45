/* dns_late_answer.c: a DNS client rejected the server's answer with ICMP port unreachable
 * (ICMP 3/3, ICMPv6 1/4, sent by the client about a response to it): the answer came after the
 * client had closed its socket. The server worked; this finding never says it was down. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/text.h"

/* Measured per finding (finding->priv). */
struct la_acc {
    uint64_t errors;                        /* ICMP errors from clients about answers */
    uint64_t tied;                          /* of them, tied to a lookup in the capture */
    uint64_t in_time, late;                 /* rejected lookups answered within / after timeout */
    uint64_t retried;                       /* rejected lookups the client had sent again */
    uint64_t old_port;                      /* answers to a source port the client had left */
    int64_t min_elapsed_us, max_elapsed_us; /* first query to answer, rejected lookups */
    int64_t min_reject_us, max_reject_us;   /* answer to the client's error */
    uint64_t untied_no_id; /* errors tied to no query whose quote shows no DNS id (text, no -v) */
    uint64_t n_reject;
    uint8_t ip_version;
    struct nt_time first_error, last_error;
};

static void on_icmp(struct rule_ctx *rc, const struct icmp_event *e)
{
    /* An answer from another address than the one queried is rejected for that reason, not for
     * coming late (dns.answer_other_address). */
    if (e->sender != ICMP_SENDER_CLIENT || !e->quotes_response || e->kind != ICMP_K_PORT_UNREACH ||
        e->foreign_answer)
        return;
    const struct dns_lookup *l = e->lookup;
    const struct evidence *ev = e->ev;
    /* The server whose answer was rejected: the lookup's, else the quoted source. */
    const struct nt_addr *server = l ? &l->server : &ev->q_src;
    uint16_t port = l ? l->server_port : ev->q_sport;
    uint8_t transport = l ? l->transport : (ev->q_proto ? ev->q_proto : 17);
    char key[NT_ADDR_FMT_MAX + 32], addr[NT_ADDR_FMT_MAX];
    nt_addr_format(server, addr, sizeof addr);
    snprintf(key, sizeof key, "%s|%u|%u", addr, transport, port);
    struct finding *f = rule_raise(rc, key);
    if (!f)
        return;
    rule_take_icmp(rc);
    struct la_acc *a = f->priv;
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a)
            return;
        f->priv = a;
        f->priv_free = free;
        f->transport = transport == 6 ? 6 : 17;
        f->port = port;
        f->service = "DNS";
        f->has_server = true;
        f->server = *server;
        a->ip_version = ev->ip_version;
        a->min_elapsed_us = a->min_reject_us = INT64_MAX;
        /* The answers worked: the service's incident window has no meaning here. */
        f->window.window_set = true;
    }
    a->errors++;
    f->error_packets++;
    nt_time_widen(&a->first_error, &a->last_error, &ev->ts);
    finding_see_time(f, &ev->ts);
    /* The client is the error's sender. */
    finding_add_client(f, &ev->src);
    /* client_rejects counts this error already: the first one of a lookup opens it here. */
    bool first_of_lookup = l && l->client_rejects <= 1;
    if (!l && !ev->quote_has_dns)
        a->untied_no_id++;
    if (l) {
        a->tied++;
        char name[DNS_NAME_TEXT_MAX + 32];
        text_query_name(l, name, sizeof name);
        finding_add_name(f, name);
    }
    if (first_of_lookup) {
        f->lookups++;
        f->query_packets += l->transmissions;
        finding_add_evidence(f, &l->query);
        finding_see_time(f, &l->first_tx);
        if (l->outcome == LOOKUP_ANSWERED) {
            finding_add_evidence(f, &l->answer);
            if (l->late)
                a->late++;
            else
                a->in_time++;
            if (l->elapsed_us < a->min_elapsed_us)
                a->min_elapsed_us = l->elapsed_us;
            if (l->elapsed_us > a->max_elapsed_us)
                a->max_elapsed_us = l->elapsed_us;
            if (l->answer.ts.kind != NT_TIME_NONE && ev->ts.kind == l->answer.ts.kind) {
                int64_t d = nt_time_diff_us(&l->answer.ts, &ev->ts);
                if (d < a->min_reject_us)
                    a->min_reject_us = d;
                if (d > a->max_reject_us)
                    a->max_reject_us = d;
                a->n_reject++;
            }
        }
        if (l->transmissions > 1)
            a->retried++;
        if (ev->quote_has_ports && l->n_client_ports > 1 && !l->client_ports_overflow &&
            ev->q_dport != l->client_ports[l->n_client_ports - 1])
            a->old_port++;
    }
    finding_add_evidence(f, ev);
    f->packets = f->query_packets + f->error_packets;
}

static void explain_finding(struct rule_ctx *rc, struct finding *f)
{
    struct la_acc *a = f->priv;
    char srv[NT_ADDR_FMT_MAX], clients[512], names[512], to[32];
    text_addr(&f->server, srv, sizeof srv);
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, names, sizeof names);
    nt_duration_format(rule_timeout_us(rc), to, sizeof to);
    const char *PROTO = f->transport == 6 ? "TCP" : "UDP";
    const struct server_stats *ss =
        rule_server_stats(rc, &f->server, f->port, f->transport == 6 ? 6 : 17);
    uint64_t answered = ss ? ss->answered : 0, all = ss ? ss->lookups : f->lookups;
    bool kept = rule_service_kept(rc, &f->server, f->port, f->transport == 6 ? 6 : 17);
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    uint64_t timed = a->in_time + a->late;
    /* Benign; low when the answers were also slower than the timeout. */
    f->severity = a->late ? SEV_LOW : SEV_INFO;

    char took[128] = "";
    if (timed) {
        char d1[32], d2[32];
        nt_duration_format(a->min_elapsed_us, d1, sizeof d1);
        nt_duration_format(a->max_elapsed_us, d2, sizeof d2);
        if (a->min_elapsed_us == a->max_elapsed_us)
            snprintf(took, sizeof took, "%s after the query", d1);
        else
            snprintf(took, sizeof took, "%s to %s after the queries", d1, d2);
    }
    finding_set_summary(
        f,
        "%" PRIu64 " %s from the DNS server %s (%s) %s rejected by %s %s with ICMP port "
        "unreachable: the %s no longer waiting for %s. The server answered; this "
        "is not a server failure. %s",
        a->errors, a->errors == 1 ? "answer" : "answers", srv, names,
        a->errors == 1 ? "was" : "were", n_clients == 1 ? "the client" : "the clients", clients,
        n_clients == 1 ? "client had closed the socket that sent the query and was"
                       : "clients had closed the sockets that sent the queries and were",
        a->errors == 1 ? "it" : "them",
        a->late   ? "Some answers also came after the timeout, so the server is slow as well."
        : timed   ? "The answers came within the timeout, so the clients gave up early or did "
                    "not wait at all."
        : a->tied ? "How long the answers took is not known from this input."
        : a->untied_no_id
            ? "The errors could not be tied to their queries (the input does not show the DNS "
              "id of the answers they quote), so how long the answers took is unknown."
            : "The queries are not in the capture, so how long the answers took is unknown.");

    finding_add_fact(f,
                     "%" PRIu64 " ICMP port unreachable %s went from %s back to %s about its "
                     "DNS %s on %s port %u.",
                     a->errors, a->errors == 1 ? "error" : "errors", clients, srv,
                     a->errors == 1 ? "answer" : "answers", PROTO, f->port);
    if (timed) {
        finding_add_fact(f,
                         "The rejected answers came %s; %" PRIu64 " of %" PRIu64 " within the %s "
                         "timeout, %" PRIu64 " after it.",
                         took, a->in_time, timed, to, a->late);
    }
    if (a->n_reject) {
        char d1[32], d2[32];
        nt_duration_format(a->min_reject_us, d1, sizeof d1);
        nt_duration_format(a->max_reject_us, d2, sizeof d2);
        finding_add_fact(f,
                         "Each error followed its answer by %s%s%s, the time a client kernel "
                         "takes to refuse a datagram to a closed port.",
                         d1, a->min_reject_us == a->max_reject_us ? "" : " to ",
                         a->min_reject_us == a->max_reject_us ? "" : d2);
    }
    if (a->errors > a->tied + a->untied_no_id)
        finding_add_fact(f,
                         "%" PRIu64 " of the errors quote answers to queries that are not in "
                         "the capture (sent before it started).",
                         a->errors - a->tied - a->untied_no_id);
    if (a->untied_no_id)
        finding_add_fact(f,
                         "%" PRIu64 " of the errors could not be tied to a query: the input does "
                         "not show the DNS id of the answer they quote (tcpdump prints it with "
                         "-v).",
                         a->untied_no_id);
    if (a->retried)
        finding_add_fact(f,
                         "The clients had sent %" PRIu64 " of these %" PRIu64 " queries again "
                         "before the answer came%s.",
                         a->retried, f->lookups,
                         a->old_port ? ", and answers went to source ports they had already "
                                       "abandoned for a retry"
                                     : "");
    if (ss)
        finding_add_fact(f,
                         "The server answered %" PRIu64 " of the %" PRIu64 " lookups sent to it "
                         "on %s port %u in the capture.",
                         answered, all, PROTO, f->port);
    if (a->late) {
        finding_add_fact(f,
                         "%" PRIu64 " of the rejected answers came after the %s timeout%s; see "
                         "dns.slow for the server's response times.",
                         a->late, to, a->late * 2 >= timed ? ": the server is slow to answer" : "");
    }

    /* Causes. */
    if (a->late)
        finding_add_cause(f, CONF_HIGH,
                          "The server answers more slowly than the clients wait, so they give up "
                          "(and may retry) before the answer arrives.",
                          "%" PRIu64 " of the %" PRIu64 " rejected answers came after the %s "
                          "timeout (%s).",
                          a->late, timed, to, took);
    if (a->in_time || !timed)
        finding_add_cause(
            f, a->late ? CONF_MEDIUM : CONF_HIGH,
            "The client program does not wait for answers, or waits less than the server takes: "
            "a fire-and-forget sender, a very short client timeout, or a resolver that asked "
            "several servers and closed its socket after the first answer.",
            "%s; ICMP port unreachable from the client is what its kernel sends when the answer "
            "finds the socket closed.",
            timed ? "The answers came within the timeout, yet the socket was already closed"
                  : "The answers reached the client after the socket that sent the query was "
                    "closed");
    bool all_rejected = f->lookups >= answered;
    if (f->lookups == 0)
        finding_add_cause(f, CONF_MEDIUM,
                          "A firewall on the client rejects DNS answers with port unreachable.",
                          "iptables' REJECT and nftables' reject send this same message, and %s "
                          "to compare with. The client's `ss -uapn` while it queries, or its "
                          "firewall counters, tell the two apart.",
                          a->untied_no_id ? "the errors could not be tied to their queries"
                                          : "the queries of these answers are not in the capture");
    else if (!kept) /* the server's other answers are unknown (the detector's fact) */
        finding_add_cause(f, CONF_LOW,
                          "A firewall on the client rejects DNS answers with port unreachable.",
                          "iptables' REJECT and nftables' reject send this same message, so the "
                          "capture alone cannot rule it out; whether the server's other answers "
                          "were accepted is not known here. The client's `ss -uapn` while it "
                          "queries, or its firewall counters, tell the two apart.");
    else
        finding_add_cause(f, all_rejected ? CONF_MEDIUM : CONF_LOW,
                          "A firewall on the client rejects DNS answers with port unreachable.",
                          "iptables' REJECT and nftables' reject send this same message, so the "
                          "capture alone cannot rule it out%s %" PRIu64 " of the %" PRIu64
                          " answered lookups had their answer rejected. The client's `ss -uapn` "
                          "while it queries, or its firewall counters, tell the two apart.",
                          all_rejected ? "; it would explain that every answer was rejected:"
                                       : ", but other answers were accepted:",
                          f->lookups, answered);
    finding_rank_causes(f);

    char cl[NT_ADDR_FMT_MAX];
    text_addr(finding_first_client(f), cl, sizeof cl);
    finding_add_step(f,
                     "On the client (%s), find which program sent the queries and how long it "
                     "waits: `ss -uapn` while it runs, and its resolver options (`cat "
                     "/etc/resolv.conf`: options timeout and attempts).",
                     cl);
    const char *qname = text_first_query_name(f);
    if (qname) {
        char qcmd[DNS_NAME_TEXT_MAX * 3], srv_cmd[NT_ADDR_FMT_MAX * 2 + 8];
        text_shell_query(qname, qcmd, sizeof qcmd);
        text_shell_word(srv, srv_cmd, sizeof srv_cmd);
        finding_add_step(f,
                         "Measure how long the server takes: `dig @%s %s%s` (the Query time "
                         "line), and compare it with the client's timeout.",
                         srv_cmd, qcmd, f->transport == 6 ? " +tcp" : "");
    }
    finding_add_step(f,
                     "If the client should have accepted the answers, check its firewall for a "
                     "reject on answers from port %u: `nft list ruleset`, `iptables -S` on %s.",
                     f->port, cl);
    if (a->late)
        finding_add_step(f, "See the dns.slow finding, if any, for this server's response times.");
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(rc, f);
}

const struct rule rule_dns_late_answer = {
    .id = "dns.late_answer",
    .severity = SEV_INFO,
    .title = "DNS answer arrived after the client gave up",
    .on_icmp_error = on_icmp,
    .on_finish = on_finish,
};
