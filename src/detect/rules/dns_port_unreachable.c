/* dns_port_unreachable.c: DNS queries answered by ICMP port unreachable from the server itself
 * (ICMP type 3 code 3, RFC 792; ICMPv6 type 1 code 4, RFC 4443). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "detect/text.h"

/* Measured per finding while lookups arrive. */
struct pu_acc {
    struct nt_time first_query, last_query, first_error, last_error;
    int64_t min_delay_us, max_delay_us;
    uint64_t n_delay;
    uint64_t by_id;       /* errors matched through the quoted DNS id */
    uint64_t with_quote;  /* errors whose quoted datagram was read (pcap or tcpdump -v) */
    uint8_t ip_version;
    uint64_t retransmitted; /* lookups with more than one transmission */
};

static void on_lookup(struct rule_ctx *rc, const struct dns_lookup *l)
{
    if (l->outcome != LOOKUP_ICMP_ERROR || l->icmp_kind != ICMP_K_PORT_UNREACH ||
        l->icmp_sender != ICMP_SENDER_SERVER)
        return;
    char key[NT_ADDR_FMT_MAX + 32], addr[NT_ADDR_FMT_MAX];
    nt_addr_format(&l->server, addr, sizeof addr);
    snprintf(key, sizeof key, "%s|%u|%u", addr, l->transport, l->server_port);
    struct finding *f = rule_raise(rc, key);
    if (!f)
        return;
    struct pu_acc *a = f->priv;
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a)
            return;
        f->priv = a;
        f->priv_free = free;
        f->protocol = l->transport == 6 ? "tcp" : "udp";
        f->port = l->server_port;
        f->service = "DNS";
        f->has_server = true;
        f->server = l->server;
        a->ip_version = l->query.ip_version;
        a->min_delay_us = INT64_MAX;
    }
    finding_add_client(f, &l->client);
    char name[DNS_NAME_TEXT_MAX + 32];
    text_query_name(l, name, sizeof name);
    finding_add_name(f, name);
    f->lookups++;
    f->query_packets += l->transmissions;
    f->error_packets += l->n_errors;
    f->packets = f->query_packets + f->error_packets;
    if (l->late)
        f->late++;
    if (l->transmissions > 1)
        a->retransmitted++;
    if (l->matched_by_id)
        a->by_id++;
    if (l->error.quote_present)
        a->with_quote++;
    finding_add_evidence(f, &l->query);
    finding_add_evidence(f, &l->error);
    finding_see_time(f, &l->first_tx);
    finding_see_time(f, &l->last_tx);
    finding_see_time(f, &l->error.ts);
    text_widen(&a->first_query, &a->last_query, &l->first_tx);
    text_widen(&a->first_error, &a->last_error, &l->error.ts);
    if (l->first_tx.kind != NT_TIME_NONE && l->error.ts.kind != NT_TIME_NONE) {
        /* Delay from the transmission the error answers: the latest one before it. */
        int64_t d = nt_time_diff_us(&l->last_tx, &l->error.ts);
        if (d < 0)
            d = nt_time_diff_us(&l->first_tx, &l->error.ts);
        if (d < a->min_delay_us)
            a->min_delay_us = d;
        if (d > a->max_delay_us)
            a->max_delay_us = d;
        a->n_delay++;
    }
}

/* Kernel stacks answer a datagram to a closed port at once; past this the delay is worth
 * remarking on. */
#define FAST_REPLY_US 10000
/* Rates and client counts past which the capture itself suggests a flood. */
#define FLOOD_QPS 100.0
#define FLOOD_CLIENTS 100

static void explain_finding(struct rule_ctx *rc, struct finding *f)
{
    struct pu_acc *a = f->priv;
    char srv[NT_ADDR_FMT_MAX], t1[NT_TIME_FMT_MAX], t2[NT_TIME_FMT_MAX], t3[NT_TIME_FMT_MAX],
        t4[NT_TIME_FMT_MAX], d1[32], d2[32];
    text_addr(&f->server, srv, sizeof srv);
    const char *proto = f->protocol;
    const char *PROTO = f->protocol[0] == 't' ? "TCP" : "UDP";
    const char *icmp_words = a->ip_version == 6 ? "ICMPv6 type 1, code 4: destination unreachable, port unreachable"
                                                : "ICMP type 3, code 3: destination unreachable, port unreachable";
    const struct server_stats *ss = rule_server_stats(rc, &f->server, f->port, f->protocol[0] == 't' ? 6 : 17);
    uint64_t answered = ss ? ss->answered : 0;
    uint64_t all_lookups = ss ? ss->lookups : f->lookups;

    char clients[512], names[512];
    text_addr_list(f->clients, f->n_clients, f->clients_dropped, clients, sizeof clients);
    text_name_list(f->names, f->n_names, f->names_dropped, names, sizeof names);

    /* Part 1 */
    finding_set_summary(
        f,
        "DNS over %s port %u failed. %" PRIu64 " %s to the DNS server %s (%s) from %zu %s (%s) "
        "%s answered by an ICMP error from %s itself, \"%s port %u unreachable\" (%s). The server "
        "host is reachable, since it replied, but it refused the queries on %s port %u: no DNS "
        "service listens there, or a firewall rejects the port. So %s could not be resolved%s.",
        PROTO, f->port, f->lookups, f->lookups == 1 ? "lookup" : "lookups", srv, names,
        f->n_clients + (size_t)f->clients_dropped,
        f->n_clients + f->clients_dropped == 1 ? "client" : "clients", clients,
        f->lookups == 1 ? "was" : "were each", srv, proto, f->port, icmp_words, PROTO, f->port,
        f->n_names + f->names_dropped == 1 ? "the name" : "the names",
        answered ? "" : " through this server");

    /* Key findings */
    text_time(&a->first_query, t1, sizeof t1);
    text_time(&a->last_query, t2, sizeof t2);
    uint64_t retrans = f->query_packets - f->lookups;
    finding_add_fact(f,
                     "%" PRIu64 " DNS %s (%" PRIu64 " %s, %" PRIu64 " %s) went from %s to %s %s "
                     "port %u between %s and %s.",
                     f->query_packets, f->query_packets == 1 ? "query" : "queries", f->lookups,
                     f->lookups == 1 ? "lookup" : "lookups", retrans,
                     retrans == 1 ? "retransmission" : "retransmissions", clients, srv, PROTO,
                     f->port, t1, t2);
    text_time(&a->first_error, t3, sizeof t3);
    text_time(&a->last_error, t4, sizeof t4);
    if (a->n_delay) {
        nt_duration_format(a->min_delay_us, d1, sizeof d1);
        nt_duration_format(a->max_delay_us, d2, sizeof d2);
        finding_add_fact(f,
                         "%" PRIu64 " ICMP %s (%s) came back from %s between %s and %s, %s%s%s "
                         "after the query %s.",
                         f->error_packets, f->error_packets == 1 ? "error" : "errors", icmp_words,
                         srv, t3, t4, d1, a->min_delay_us == a->max_delay_us ? "" : " to ",
                         a->min_delay_us == a->max_delay_us ? "" : d2,
                         f->error_packets == 1 ? "it answers" : "each answers");
    } else {
        finding_add_fact(f, "%" PRIu64 " ICMP %s (%s) came back from %s.", f->error_packets,
                         f->error_packets == 1 ? "error" : "errors", icmp_words, srv);
    }
    if (a->by_id == f->lookups)
        finding_add_fact(f, "Each error quotes the query it answers; it was matched to that query "
                            "by the quoted addresses, ports and DNS id.");
    else if (a->with_quote == 0)
        finding_add_fact(f, "The input does not show the datagrams the errors quote (tcpdump prints "
                            "them with -v), so each error was matched to the latest open query by "
                            "addresses, protocol and destination port.");
    else
        finding_add_fact(f,
                         "%" PRIu64 " of the %" PRIu64 " errors quote the DNS id of their query; "
                         "the others were matched by addresses, protocol and ports.",
                         a->by_id, f->lookups);
    if (f->late) {
        char to[32];
        nt_duration_format(rule_timeout_us(rc), to, sizeof to);
        finding_add_fact(f,
                         "%" PRIu64 " of the errors came after the %s timeout; they still answer "
                         "their queries, which were not retransmitted in between.",
                         f->late, to);
    }
    if (answered) {
        text_time(&ss->last_answer, t1, sizeof t1);
        finding_add_fact(f,
                         "The same server answered %" PRIu64 " of its %" PRIu64 " lookups on %s "
                         "port %u in the capture (last answer at %s).",
                         answered, all_lookups, PROTO, f->port, t1);
    } else {
        finding_add_fact(f, "None of the %" PRIu64 " lookups to %s on %s port %u got a DNS answer "
                            "in the capture.",
                         all_lookups, srv, PROTO, f->port);
    }

    /* Causes, from the evidence. */
    bool slow = a->n_delay && a->max_delay_us > FAST_REPLY_US;
    char delays[160] = "";
    if (a->n_delay) {
        nt_duration_format(a->min_delay_us, d1, sizeof d1);
        nt_duration_format(a->max_delay_us, d2, sizeof d2);
        if (a->min_delay_us == a->max_delay_us)
            snprintf(delays, sizeof delays, ", %s after the query", d1);
        else
            snprintf(delays, sizeof delays, ", %s to %s after the queries", d1, d2);
    }
    if (answered == 0)
        finding_add_cause(f, CONF_HIGH,
                          "No DNS service is listening on the server's port: the DNS server "
                          "program is stopped, crashed, or bound to another address or port.",
                          "Port unreachable is what a host's network stack sends when a %s "
                          "datagram arrives for a port no program has open. All %" PRIu64
                          " errors came from %s itself%s, and none of its %" PRIu64
                          " lookups was answered in the capture.",
                          PROTO, f->error_packets, srv, delays, all_lookups);
    else
        finding_add_cause(f, CONF_MEDIUM,
                          "The DNS service on the server stopped or restarted: it answered some "
                          "lookups and refused others with port unreachable.",
                          "The errors came from %s itself%s, while %" PRIu64 " of its %" PRIu64
                          " lookups were answered; a service that is sometimes absent was "
                          "restarted, crashed, or is only bound to the port part of the time.",
                          srv, delays, answered, all_lookups);
    finding_add_cause(f, CONF_MEDIUM,
                      "A firewall on the server rejects the DNS port.",
                      "iptables' REJECT target and nftables' reject statement answer with this "
                      "same ICMP port unreachable by default, so the capture alone cannot tell a "
                      "rejecting firewall from a closed port. The server's rule set, or a query "
                      "made on the server itself, tells them apart.");
    int64_t span_us = 0;
    if (ss && ss->first_query.kind != NT_TIME_NONE)
        span_us = nt_time_diff_us(&ss->first_query, &ss->last_query);
    size_t n_cl = ss ? ss->n_clients : f->n_clients;
    uint64_t n_q = ss ? ss->query_packets : f->query_packets;
    /* A rate over less than a second of traffic says nothing about load. */
    double qps = span_us >= 1000000 ? (double)n_q / ((double)span_us / 1e6) : 0;
    bool flood = qps >= FLOOD_QPS || n_cl >= FLOOD_CLIENTS;
    char rate[96] = "";
    nt_duration_format(span_us, d1, sizeof d1);
    if (span_us >= 1000000)
        snprintf(rate, sizeof rate, " over %s (%.2f queries per second)", d1, qps);
    else if (n_q > 1)
        snprintf(rate, sizeof rate, " within %s", d1);
    finding_add_cause(
        f, flood ? CONF_MEDIUM : CONF_LOW,
        "The server is overloaded or under a denial-of-service attack, and its DNS service "
        "failed under the load.",
        "The capture shows %" PRIu64 " queries from %zu %s to this server%s: %s. An overloaded DNS "
        "server more often drops queries or answers SERVFAIL than sends port unreachable, unless "
        "the service crashed under the load%s.",
        n_q, n_cl, n_cl == 1 ? "client" : "clients", rate,
        flood ? "a rate or spread of sources that suggests a flood" : "no sign of a flood",
        slow ? "; the long delay before the errors is consistent with a busy host, or with "
               "times that were copied by hand"
             : "");
    finding_rank_causes(f);

    /* Next steps an operator can run. */
    text_time(&a->first_query, t1, sizeof t1);
    finding_add_step(f,
                     "On %s, check that the DNS service is running and what listens on %s port "
                     "%u: `systemctl status named unbound dnsmasq systemd-resolved` (whichever "
                     "serves DNS there) and `ss -%slpn 'sport = :%u'`.",
                     srv, PROTO, f->port, proto[0] == 't' ? "t" : "u", f->port);
    finding_add_step(f,
                     "On %s, list the firewall rules that could reject %s port %u: `nft list "
                     "ruleset` and `iptables -S` / `ip6tables -S` (look for reject on %s dport "
                     "%u).",
                     srv, PROTO, f->port, proto, f->port);
    /* names[] went through text_query_name, so it holds no backtick. */
    const char *qname = f->n_names ? f->names[0] : "example.com. A";
    finding_add_step(f,
                     "Query the server from itself and from another network: `dig @%s %s%s`. An "
                     "answer on the server but port unreachable from elsewhere points to a "
                     "firewall; port unreachable everywhere points to the service.",
                     srv, qname, proto[0] == 't' ? " +tcp" : "");
    finding_add_step(f,
                     "Read the DNS server's logs from before %s (for example `journalctl -u "
                     "named --since ...`) for a stop, a crash, or a failure to bind port %u.",
                     t1, f->port);
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

const struct rule rule_dns_port_unreachable = {
    .id = "dns.port_unreachable",
    .severity = SEV_HIGH,
    .title = "DNS server unreachable on its port",
    .on_dns_lookup = on_lookup,
    .on_finish = on_finish,
};
