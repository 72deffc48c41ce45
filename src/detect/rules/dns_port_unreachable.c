/* dns_port_unreachable.c: DNS queries answered by ICMP port unreachable from the server itself
 * (ICMP type 3 code 3, RFC 792; ICMPv6 type 1 code 4, RFC 4443). */
#include <inttypes.h>
#include <stdio.h>

#include "detect/dns_icmp.h"
#include "detect/text.h"

static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    /* Only the server's own refusal: a router's port unreachable, or the client's about a late
     * answer, says nothing about the DNS service. */
    if (l->outcome == LOOKUP_ICMP_ERROR && l->icmp_kind == ICMP_K_PORT_UNREACH &&
        l->icmp_sender == ICMP_SENDER_SERVER)
        dns_icmp_add(rc, l);
}

/* Kernel stacks answer a datagram to a closed port at once; past this the delay is worth
 * remarking on. */
#define FAST_REPLY_US 10000
/* Rates and client counts past which the capture itself suggests a flood. */
#define FLOOD_QPS     100.0
#define FLOOD_CLIENTS 100

static void explain_finding(struct rule_ctx *rc, struct finding *f)
{
    const struct dns_icmp_acc *a = f->priv;
    struct dns_icmp_words w;
    dns_icmp_words(rc, f, &w);
    uint64_t n_clients = f->n_clients + f->clients_dropped;
    uint64_t n_names = f->n_names + f->names_dropped;

    finding_set_summary(
        f,
        "DNS over %s port %u failed. %" PRIu64 " %s to the DNS server %s (%s) from %" PRIu64
        " %s (%s) %s answered by an ICMP error from %s itself, \"%s port %u unreachable\" (%s). "
        "The server host is reachable, since it replied, but it refused the queries on %s port "
        "%u: no DNS service listens there, or a firewall rejects the port. So %s could not be "
        "resolved%s.",
        w.PROTO, f->port, f->lookups, f->lookups == 1 ? "lookup" : "lookups", w.srv, w.names,
        n_clients, n_clients == 1 ? "client" : "clients", w.clients,
        f->lookups == 1 ? "was" : "were each", w.srv, w.proto, f->port, w.icmp, w.PROTO, f->port,
        n_names == 1 ? "the name" : "the names", w.answered ? "" : " through this server");
    dns_icmp_add_facts(rc, f, &w);

    /* Causes, from the evidence. */
    char all_errors[48];
    text_all(f->error_packets, "error", "errors", all_errors, sizeof all_errors);
    if (!w.kept) /* medium: whether it answered others (a restarted service) is unknown */
        finding_add_cause(f, CONF_MEDIUM,
                          "No DNS service is listening on the server's port: the DNS server "
                          "program is stopped, crashed, or bound to another address or port.",
                          "Port unreachable is what a host's network stack sends when a %s "
                          "datagram arrives for a port no program has open. %s came from %s "
                          "itself%s. Whether it answered other lookups in the capture is not "
                          "known: its figures were not kept.",
                          w.PROTO, all_errors, w.srv, w.delays);
    else if (w.answered == 0)
        finding_add_cause(f, CONF_HIGH,
                          "No DNS service is listening on the server's port: the DNS server "
                          "program is stopped, crashed, or bound to another address or port.",
                          "Port unreachable is what a host's network stack sends when a %s "
                          "datagram arrives for a port no program has open. %s came from %s "
                          "itself%s, and no lookup to it was answered in the capture (%" PRIu64
                          " in all).",
                          w.PROTO, all_errors, w.srv, w.delays, w.all_lookups);
    else
        finding_add_cause(f, CONF_MEDIUM,
                          "The DNS service on the server stopped or restarted: it answered some "
                          "lookups and refused others with port unreachable.",
                          "The errors came from %s itself%s, while %" PRIu64 " of its %" PRIu64
                          " lookups were answered; a service that is sometimes absent was "
                          "restarted, crashed, or is only bound to the port part of the time.",
                          w.srv, w.delays, w.answered, w.all_lookups);
    finding_add_cause(f, CONF_MEDIUM, "A firewall on the server rejects the DNS port.",
                      "iptables' REJECT target and nftables' reject statement answer with this "
                      "same ICMP port unreachable by default, so the capture alone cannot tell a "
                      "rejecting firewall from a closed port. The server's rule set, or a query "
                      "made on the server itself, tells them apart.");
    const struct server_stats *ss = w.ss;
    int64_t span_us = 0;
    if (ss && ss->first_query.kind != NT_TIME_NONE)
        span_us = nt_time_diff_us(&ss->first_query, &ss->last_query);
    /* The server's distinct clients: past --bound detect.server_clients only a lower bound. */
    uint64_t n_cl = ss && ss->n_clients > n_clients ? ss->n_clients : n_clients;
    const char *cl_least = ss && ss->clients_overflow ? "at least " : "";
    /* A set that stopped growing below FLOOD_CLIENTS (the budget, or a small bound) cannot show
     * whether sources were spread: unknown, not "no sign". */
    bool spread_unknown = ss && ss->clients_overflow && n_cl < FLOOD_CLIENTS;
    uint64_t n_q = ss ? ss->query_packets : f->query_packets;
    /* A rate over less than a second of traffic says nothing about load. */
    double qps = span_us >= 1000000 ? (double)n_q / ((double)span_us / 1e6) : 0;
    bool flood = qps >= FLOOD_QPS || n_cl >= FLOOD_CLIENTS;
    bool slow = a->n_delay && a->max_delay_us > FAST_REPLY_US;
    char rate[96] = "", d1[32];
    nt_duration_format(span_us, d1, sizeof d1);
    if (span_us >= 1000000)
        snprintf(rate, sizeof rate, " over %s (%.2f queries per second)", d1, qps);
    else if (n_q > 1 && ss && ss->first_query.kind != NT_TIME_NONE)
        snprintf(rate, sizeof rate, " within %s", d1);
    finding_add_cause(
        f, flood ? CONF_MEDIUM : CONF_LOW,
        "The server is overloaded or under a denial-of-service attack, and its DNS service "
        "failed under the load.",
        "%s %" PRIu64 " queries from %s%" PRIu64 " %s to this server%s: %s. An overloaded DNS "
        "server more often drops queries or answers SERVFAIL than sends port unreachable, unless "
        "the service crashed under the load%s.",
        w.kept ? "The capture shows" : "Its figures were not kept; this finding shows", n_q,
        cl_least, n_cl, n_cl == 1 ? "client" : "clients", rate,
        flood            ? "a rate or spread of sources that suggests a flood"
        : spread_unknown ? "no rate that suggests a flood; whether the sources were spread is "
                           "not known (the server's clients were not all counted)"
                         : "no sign of a flood",
        slow ? "; the long delay before the errors is consistent with a busy host, or with "
               "times that were copied by hand"
             : "");
    finding_rank_causes(f);

    /* Next steps an operator can run. */
    char t1[NT_TIME_FMT_MAX];
    text_time(&a->first_query, t1, sizeof t1);
    finding_add_step(f,
                     "On %s, check that the DNS service is running and what listens on %s port "
                     "%u: `systemctl status named unbound dnsmasq systemd-resolved` (whichever "
                     "serves DNS there) and `ss -%slpn 'sport = :%u'`.",
                     w.srv, w.PROTO, f->port, w.proto[0] == 't' ? "t" : "u", f->port);
    finding_add_step(f,
                     "On %s, list the firewall rules that could reject %s port %u: `nft list "
                     "ruleset` and `iptables -S` / `ip6tables -S` (look for reject on %s dport "
                     "%u).",
                     w.srv, w.PROTO, f->port, w.proto, f->port);
    /* names[] went through text_query_name, so it holds no backtick; a lookup without a
     * question gives no name to ask for. */
    const char *qname = text_first_query_name(f);
    char qcmd[DNS_NAME_TEXT_MAX * 3];
    if (qname) {
        text_shell_query(qname, qcmd, sizeof qcmd);
        finding_add_step(f,
                         "Query the server from itself and from another network: `dig @%s %s%s`. "
                         "An answer on the server but port unreachable from elsewhere points to a "
                         "firewall; port unreachable everywhere points to the service.",
                         w.srv_cmd, qcmd, w.proto[0] == 't' ? " +tcp" : "");
    }
    if (a->first_query.kind != NT_TIME_NONE)
        finding_add_step(f,
                         "Read the DNS server's logs from before %s (for example `journalctl -u "
                         "named --since ...`) for a stop, a crash, or a failure to bind port %u.",
                         t1, f->port);
    else
        finding_add_step(f,
                         "Read the DNS server's logs (for example `journalctl -u named`) for a "
                         "stop, a crash, or a failure to bind port %u.",
                         f->port);
    finding_add_step(f,
                     "Until the server answers again, give the affected clients (%s) a second, "
                     "working DNS server so their lookups can fail over.",
                     w.clients);
}

static void on_finish(struct rule_ctx *rc)
{
    size_t it = 0;
    struct finding *f;
    while ((f = rule_next_finding(rc, &it)) != NULL)
        explain_finding(rc, f);
}

const struct rule rule_dns_port_unreachable = {
    .id = "dns.port_unreachable",
    .severity = SEV_HIGH,
    .title = "DNS server unreachable on its port",
    .on_dns_lookup = on_lookup,
    .on_finish = on_finish,
};
